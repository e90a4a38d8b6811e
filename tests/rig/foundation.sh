# dom0 scenario for the foundation tests (issue 2), run by tools/rig/boot.sh as
# /rig/scenario.sh inside the real dom0. Expects /rig/vdisk.img and /rig/vdisk-dom0.
# Prints "RIG-TEST: PASS name" / "RIG-TEST: FAIL name: why" and "RIG-METRIC: key=value".
set -u

fails=0
pass() { echo "RIG-TEST: PASS $1"; }
fail() { echo "RIG-TEST: FAIL $1: $2"; fails=$((fails + 1)); }
metric() { echo "RIG-METRIC: $1=$2"; }
ms_now() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

# wait_for SECONDS COMMAND...: retries COMMAND every 0.05 s until it succeeds or time runs out.
wait_for() {
	_n=$(($1 * 20)); shift
	while [ $_n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		_n=$((_n - 1))
	done
	return 1
}

CON=/tmp/vdisk-console.txt      # what `xl console vdisk` printed
LOGF=/var/log/xen/console/guest-vdisk.log
con_has() { grep -q -- "$1" "$CON"; }

cat >/tmp/vdisk.cfg <<EOF
name = "vdisk"
kernel = "/rig/vdisk.img"
memory = 16
vcpus = 1
extra = "evtchn_bench=200"
on_poweroff = "destroy"
on_crash = "preserve"
EOF

# ---- create: paused first, so that `xl console` is attached before the first line ----
t0=$(ms_now)
if xl create -p /tmp/vdisk.cfg; then pass xl_create; else fail xl_create "xl create -p failed"; fi
tc=$(ms_now)
DOMID=$(xl domid vdisk 2>/dev/null)
echo "vdisk is domain ${DOMID:-?}"
timeout 300 xl console vdisk </dev/null >"$CON" 2>&1 &
CONPID=$!
sleep 0.5
t1=$(ms_now)
xl unpause vdisk
if wait_for 60 grep -q "vdisk .* starting" "$LOGF"; then
	tf=$(ms_now)
	metric xl_create_ms $((tc - t0))
	metric unpause_to_first_log_ms $((tf - t1))
	metric create_to_first_log_ms $((tc - t0 + tf - t1))
fi
wait_for 60 grep -q "vdisk: ready" "$LOGF"
sleep 0.5

# ---- the startup log, as `xl console` shows it ----
if con_has "vdisk .* starting: image at" && con_has "xen: version 4\.17" &&
	con_has "gic: GICv" && con_has "xen: event channel upcall on PPI" && con_has "vdisk: ready"; then
	pass console_startup_log
else
	fail console_startup_log "startup lines missing from xl console output"
fi
first=$(grep -m1 "vdisk .* starting" "$CON" | sed 's/^\[ *\([0-9.]*\)\].*/\1/')
[ -n "$first" ] && metric first_log_line_domain_time_s "$first"

# The upcall PPI comes from the device tree: libxl gives a domU GUEST_EVTCHN_PPI 31.
if con_has "upcall on PPI 31"; then pass upcall_ppi_from_dt; else fail upcall_ppi_from_dt "no 'PPI 31' line"; fi

# ---- event channel upcall latency, measured by vdisk itself ----
lat=$(grep -m1 "evtchn: upcall latency over" "$CON")
echo "$lat"
if echo "$lat" | grep -q "over 200 events: min [0-9]* ns, median [0-9]* ns, p99 [0-9]* ns, max [0-9]* ns"; then
	pass evtchn_upcall_latency
	metric evtchn_latency "$(echo "$lat" | sed 's/.*events: //')"
else
	fail evtchn_upcall_latency "no latency line"
fi

# ---- xenstore: vdisk's own domain path and name ----
if con_has "xenstore: ring at .* (polling)" && con_has "xenstore: domain $DOMID 'vdisk' at /local/domain/$DOMID (event channel)"; then
	pass xenstore_self
else
	fail xenstore_self "vdisk did not report domain $DOMID 'vdisk' at /local/domain/$DOMID"
fi

# ---- xenstore: keys vdisk wrote, read back by dom0 ----
D=/local/domain/$DOMID
st=$(xenstore-read $D/data/vdisk/status 2>&1)
port=$(xenstore-read $D/data/vdisk/evtchn-port 2>&1)
ver=$(xenstore-read $D/data/vdisk/version 2>&1)
if [ "$st" = ready ] && [ -n "$ver" ] && [ "$port" -gt 0 ] 2>/dev/null; then
	pass xenstore_write
else
	fail xenstore_write "status='$st' version='$ver' evtchn-port='$port'"
fi
if [ "$(xenstore-read $D/control/feature-poweroff 2>&1)" = 1 ]; then pass control_features; else fail control_features "control/feature-poweroff missing"; fi
xenstore-read $D/data/vdisk/evtchn-latency-ns | grep -q "^min=[0-9]* median=" &&
	pass xenstore_latency_key || fail xenstore_latency_key "data/vdisk/evtchn-latency-ns missing"

# ---- xenstore: a watch in vdisk fires on a dom0 write ----
token="hello-$$-$(ms_now)"
xenstore-write $D/data/vdisk/ping "$token"
if wait_for 10 sh -c "[ \"\$(xenstore-read $D/data/vdisk/pong)\" = '$token' ]" && con_has "diag: ping '$token'"; then
	pass xenstore_watch
else
	fail xenstore_watch "no pong '$token' (got '$(xenstore-read $D/data/vdisk/pong 2>&1)')"
fi

# ---- an interdomain event channel dom0 <-> vdisk, both ways ----
out=$(/rig/vdisk-dom0 evtchn-ping "$DOMID" "$port" 100 2>&1)
rc=$?
echo "$out"
token2="count-$$-$(ms_now)"
xenstore-write $D/data/vdisk/ping "$token2"
wait_for 10 sh -c "[ \"\$(xenstore-read $D/data/vdisk/pong)\" = '$token2' ]"
echoed=$(xenstore-read $D/data/vdisk/evtchn-echoed 2>&1)
if [ $rc = 0 ] && echo "$out" | grep -q "100 round trips" && [ "$echoed" = 100 ]; then
	pass evtchn_interdomain
	metric evtchn_dom0_round_trip "$(echo "$out" | sed 's/.*round trips, //')"
else
	fail evtchn_interdomain "rc=$rc echoed='$echoed'"
fi

# ---- xl shutdown: vdisk sees control/shutdown and powers off cleanly ----
if timeout 60 xl shutdown -w vdisk; then
	wait_for 10 sh -c "! xl list vdisk"
	if ! xl list vdisk >/dev/null 2>&1 && grep -q "control: shutdown request 'poweroff'" "$LOGF" &&
		grep -q "vdisk: shutting down (poweroff)" "$LOGF"; then
		pass xl_shutdown
	else
		# on_crash=preserve keeps a crashed domain around: it must not be here.
		fail xl_shutdown "domain state: $(xl list vdisk 2>&1 | tail -n 1)"
	fi
else
	fail xl_shutdown "xl shutdown -w timed out"
	xl destroy vdisk 2>/dev/null
fi
kill $CONPID 2>/dev/null

# ---- bad configuration: named in the log, and vdisk still comes up ----
rm -f "$LOGF"
sed -e 's/^extra = .*/extra = "loglevel=loud evtchn_bench=0 bogus=1"/' /tmp/vdisk.cfg >/tmp/vdisk-bad.cfg
xl create /tmp/vdisk-bad.cfg
if wait_for 60 grep -q "vdisk: ready" "$LOGF" &&
	grep -q "ERROR: bootargs: loglevel='loud' is not one of" "$LOGF" &&
	grep -q "ERROR: bootargs: unknown key 'bogus' (value '1')" "$LOGF"; then
	pass config_errors_named
else
	fail config_errors_named "$(grep bootargs "$LOGF" 2>&1 | head -n 3)"
fi
xl destroy vdisk 2>/dev/null

# ---- a crash: the register dump reaches the console and Xen sees a crash, not a poweroff ----
rm -f "$LOGF"
sed -e 's/^extra = .*/extra = "evtchn_bench=0 debug_fault=data-abort"/' /tmp/vdisk.cfg >/tmp/vdisk-crash.cfg
xl create /tmp/vdisk-crash.cfg
if wait_for 60 grep -q "fatal: unexpected exception" "$LOGF" &&
	grep -q "exception: synchronous from EL1 with SP_EL0: data abort" "$LOGF" &&
	wait_for 10 sh -c "xl list vdisk | awk 'NR == 2 { exit \$5 !~ /c/ }'"; then
	pass crash_dump_and_state
else
	fail crash_dump_and_state "state '$(xl list vdisk 2>&1 | awk 'NR == 2 { print $5 }')'; $(grep exception "$LOGF" | head -n 2)"
fi
xl destroy vdisk 2>/dev/null

echo "--- vdisk console (xl console) ---"
cat "$CON"
echo "--- end ---"
echo "RIG-SUMMARY: $fails failure(s)"
[ $fails = 0 ]
