# dom0 scenario behind `make run`: create vdisk with xl, show its console as `xl console`
# does, ping it over xenstore and an event channel, then shut it down with xl.
# Lines for the user start with "DEMO:"; tests/rig/run.sh --demo prints only those.
set -u
say() { echo "DEMO: $*"; }
D() { echo "/local/domain/$(xl domid vdisk)"; }

sed 's/^extra = .*/extra = "evtchn_bench=1000"/' /rig/vdisk.cfg >/tmp/vdisk.cfg
say "dom0: xl create /tmp/vdisk.cfg"
sed 's/^/DEMO:   | /' /tmp/vdisk.cfg
xl create -p /tmp/vdisk.cfg || exit 1
timeout 120 xl console vdisk </dev/null >/tmp/con.txt 2>&1 &
sleep 0.5
xl unpause vdisk
i=0; until grep -q "vdisk: ready" /tmp/con.txt || [ $i -ge 600 ]; do sleep 0.1; i=$((i + 1)); done
say "dom0: xl console vdisk"
sed 's/^/DEMO:   /' /tmp/con.txt
say "dom0: xenstore-ls $(D)/data/vdisk"
xenstore-ls "$(D)/data/vdisk" | sed 's/^/DEMO:   /'
port=$(xenstore-read "$(D)/data/vdisk/evtchn-port")
say "dom0: vdisk-dom0 evtchn-ping $(xl domid vdisk) $port 1000"
/rig/vdisk-dom0 evtchn-ping "$(xl domid vdisk)" "$port" 1000 | sed 's/^/DEMO:   /'
say "dom0: xl shutdown -w vdisk"
timeout 60 xl shutdown -w vdisk
sleep 0.5
tail -n 2 /tmp/con.txt | sed 's/^/DEMO:   /'
xl list | sed 's/^/DEMO:   /'
