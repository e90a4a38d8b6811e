# dom0 scenario for the foundation tests (issue 2), run by tools/rig/boot.sh as
# /rig/scenario.sh inside the real dom0. Expects /rig/vdisk.img and /rig/vdisk-dom0.
# Prints "RIG-TEST: PASS name" / "RIG-TEST: FAIL name: why" and "RIG-METRIC: key=value".
set -u
. /rig/lib/rig.sh

CON=/tmp/vdisk-console.txt      # what `xl console vdisk` printed
LOGF=/var/log/xen/console/guest-vdisk.log
con_has() { grep -q -- "$1" "$CON"; }

cp /rig/vdisk.cfg /tmp/vdisk.cfg

# ---- create: paused first, so that `xl console` is attached before the first line ----
t0=$(rig_now_ms)
if xl create -p /tmp/vdisk.cfg; then rig_pass xl_create; else rig_fail xl_create "xl create -p failed"; fi
tc=$(rig_now_ms)
DOMID=$(xl domid vdisk 2>/dev/null)
echo "vdisk is domain ${DOMID:-?}"
timeout 300 xl console vdisk </dev/null >"$CON" 2>&1 &
CONPID=$!
sleep 0.5
t1=$(rig_now_ms)
xl unpause vdisk
if rig_wait_for 60 grep -q "vdisk .* starting" "$LOGF"; then
	tf=$(rig_now_ms)
	rig_metric xl_create_ms $((tc - t0))
	rig_metric unpause_to_first_log_ms $((tf - t1))
	rig_metric create_to_first_log_ms $((tc - t0 + tf - t1))
fi
rig_wait_for 60 grep -q "vdisk: ready" "$LOGF"
sleep 0.5

# ---- the startup log, as `xl console` shows it ----
if con_has "vdisk .* starting: image at" && con_has "xen: version 4\.17" &&
	con_has "gic: GICv" && con_has "xen: event channel upcall on PPI" && con_has "vdisk: ready"; then
	rig_pass console_startup_log
else
	rig_fail console_startup_log "startup lines missing from xl console output"
fi
first=$(grep -m1 "vdisk .* starting" "$CON" | sed 's/^\[ *\([0-9.]*\)\].*/\1/')
[ -n "$first" ] && rig_metric first_log_line_domain_time_s "$first"

# The upcall PPI comes from the device tree: libxl gives a domU GUEST_EVTCHN_PPI 31.
if con_has "upcall on PPI 31"; then rig_pass upcall_ppi_from_dt; else rig_fail upcall_ppi_from_dt "no 'PPI 31' line"; fi

# ---- event channel upcall latency, measured by vdisk itself ----
lat=$(grep -m1 "evtchn: upcall latency over" "$CON")
echo "$lat"
if echo "$lat" | grep -q "over 200 events: min [0-9]* ns, median [0-9]* ns, p99 [0-9]* ns, max [0-9]* ns"; then
	rig_pass evtchn_upcall_latency
	rig_metric evtchn_latency "$(echo "$lat" | sed 's/.*events: //')"
else
	rig_fail evtchn_upcall_latency "no latency line"
fi

# ---- xenstore: vdisk's own domain path and name ----
if con_has "xenstore: ring at .* (polling)" && con_has "xenstore: domain $DOMID 'vdisk' at /local/domain/$DOMID (event channel)"; then
	rig_pass xenstore_self
else
	rig_fail xenstore_self "vdisk did not report domain $DOMID 'vdisk' at /local/domain/$DOMID"
fi

# ---- xenstore: keys vdisk wrote, read back by dom0 ----
D=/local/domain/$DOMID
st=$(xenstore-read $D/data/vdisk/status 2>&1)
port=$(xenstore-read $D/data/vdisk/evtchn-port 2>&1)
ver=$(xenstore-read $D/data/vdisk/version 2>&1)
if [ "$st" = ready ] && [ -n "$ver" ] && [ "$port" -gt 0 ] 2>/dev/null; then
	rig_pass xenstore_write
else
	rig_fail xenstore_write "status='$st' version='$ver' evtchn-port='$port'"
fi
if [ "$(xenstore-read $D/control/feature-poweroff 2>&1)" = 1 ]; then rig_pass control_features; else rig_fail control_features "control/feature-poweroff missing"; fi
xenstore-read $D/data/vdisk/evtchn-latency-ns | grep -q "^min=[0-9]* median=" &&
	rig_pass xenstore_latency_key || rig_fail xenstore_latency_key "data/vdisk/evtchn-latency-ns missing"

# ---- xenstore: a watch in vdisk fires on a dom0 write ----
token="hello-$$-$(rig_now_ms)"
xenstore-write $D/data/vdisk/ping "$token"
if rig_wait_for 10 sh -c "[ \"\$(xenstore-read $D/data/vdisk/pong)\" = '$token' ]" && con_has "diag: ping '$token'"; then
	rig_pass xenstore_watch
else
	rig_fail xenstore_watch "no pong '$token' (got '$(xenstore-read $D/data/vdisk/pong 2>&1)')"
fi

# ---- an interdomain event channel dom0 <-> vdisk, both ways ----
out=$(/rig/vdisk-dom0 evtchn-ping "$DOMID" "$port" 100 2>&1)
rc=$?
echo "$out"
token2="count-$$-$(rig_now_ms)"
xenstore-write $D/data/vdisk/ping "$token2"
rig_wait_for 10 sh -c "[ \"\$(xenstore-read $D/data/vdisk/pong)\" = '$token2' ]"
echoed=$(xenstore-read $D/data/vdisk/evtchn-echoed 2>&1)
if [ $rc = 0 ] && echo "$out" | grep -q "100 round trips" && [ "$echoed" = 100 ]; then
	rig_pass evtchn_interdomain
	rig_metric evtchn_dom0_round_trip "$(echo "$out" | sed 's/.*round trips, //')"
else
	rig_fail evtchn_interdomain "rc=$rc echoed='$echoed'"
fi

# ---- xl shutdown: vdisk sees control/shutdown and powers off cleanly ----
if timeout 60 xl shutdown -w vdisk; then
	rig_wait_for 10 sh -c "! xl list vdisk"
	if ! xl list vdisk >/dev/null 2>&1 && grep -q "control: shutdown request 'poweroff'" "$LOGF" &&
		grep -q "vdisk: shutting down (poweroff)" "$LOGF"; then
		rig_pass xl_shutdown
	else
		# on_crash=preserve keeps a crashed domain around: it must not be here.
		rig_fail xl_shutdown "domain state: $(xl list vdisk 2>&1 | tail -n 1)"
	fi
else
	rig_fail xl_shutdown "xl shutdown -w timed out"
	xl destroy vdisk 2>/dev/null
fi
kill $CONPID 2>/dev/null

# ---- bad configuration: named in the log, and vdisk still comes up ----
rm -f "$LOGF"
sed -e 's/^extra = .*/extra = "loglevel=loud evtchn_bench=0 bogus=1"/' /tmp/vdisk.cfg >/tmp/vdisk-bad.cfg
xl create /tmp/vdisk-bad.cfg
if rig_wait_for 60 grep -q "vdisk: ready" "$LOGF" &&
	grep -q "ERROR: bootargs: loglevel='loud' is not one of" "$LOGF" &&
	grep -q "ERROR: bootargs: unknown key 'bogus' (value '1')" "$LOGF"; then
	rig_pass config_errors_named
else
	rig_fail config_errors_named "$(grep bootargs "$LOGF" 2>&1 | head -n 3)"
fi
xl destroy vdisk 2>/dev/null

# ---- a crash: the register dump reaches the console and Xen sees a crash, not a poweroff ----
rm -f "$LOGF"
sed -e 's/^extra = .*/extra = "evtchn_bench=0 debug_fault=data-abort"/' /tmp/vdisk.cfg >/tmp/vdisk-crash.cfg
xl create /tmp/vdisk-crash.cfg
if rig_wait_for 60 grep -q "fatal: unexpected exception" "$LOGF" &&
	grep -q "exception: synchronous from EL1 with SP_EL0: data abort" "$LOGF" &&
	rig_wait_for 10 sh -c "xl list vdisk | awk 'NR == 2 { exit \$5 !~ /c/ }'"; then
	rig_pass crash_dump_and_state
else
	rig_fail crash_dump_and_state "state '$(xl list vdisk 2>&1 | awk 'NR == 2 { print $5 }')'; $(grep exception "$LOGF" | head -n 2)"
fi
xl destroy vdisk 2>/dev/null

echo "--- vdisk console (xl console) ---"
cat "$CON"
echo "--- end ---"
rig_summary
