# shellcheck shell=sh disable=SC2034
# Helpers for dom0 scenarios run by tools/rig/boot.sh (busybox ash). boot.sh copies this
# directory into dom0 as /rig/lib, so a scenario starts with:   . /rig/lib/rig.sh
#
# Results:  rig_pass NAME | rig_fail NAME WHY | rig_check NAME CMD... | rig_metric KEY VALUE
#           rig_summary  (prints "RIG-SUMMARY: N failure(s)"; returns 1 if any failed)
# Time:     rig_now_ns (CLOCK_MONOTONIC, ns, via /usr/bin/rig-now) | rig_now_ms | rig_uptime_ms
# Waiting:  rig_wait_for SECONDS CMD...        retry CMD every 0.05 s
#           rig_wait_log SECONDS FILE REGEX    wait until grep -q REGEX FILE
#           rig_wait_gone SECONDS DOMNAME      wait until `xl list DOMNAME` fails
# Domains:  rig_xl_start CFG NAME CONSOLE_FILE  xl create -p, attach `xl console` (stdin
#           /dev/null, output to CONSOLE_FILE) in the background, xl unpause; sets RIG_DOMID
#           and RIG_CONSOLE_PID. The console output is complete from the first line.
#           rig_console_log NAME  -> path of xenconsoled's log for NAME
# Prints lines "RIG-TEST: PASS name", "RIG-TEST: FAIL name: why", "RIG-METRIC: key=value"
# (the format tests/rig/run.sh parses).

RIG_FAILS=0

rig_pass() { echo "RIG-TEST: PASS $1"; }
rig_fail() { echo "RIG-TEST: FAIL $1: $2"; RIG_FAILS=$((RIG_FAILS + 1)); }
rig_check() { # NAME CMD...: PASS if CMD succeeds
	_rc_name=$1
	shift
	if "$@"; then rig_pass "$_rc_name"; else rig_fail "$_rc_name" "failed: $*"; fi
}
rig_metric() { echo "RIG-METRIC: $1=$2"; }
rig_summary() {
	echo "RIG-SUMMARY: $RIG_FAILS failure(s)"
	[ "$RIG_FAILS" -eq 0 ]
}

rig_now_ns() {
	if [ -x /usr/bin/rig-now ]; then
		/usr/bin/rig-now
	else
		awk '{ printf "%d\n", $1 * 1000000000 }' /proc/uptime
	fi
}
rig_now_ms() { echo $(($(rig_now_ns) / 1000000)); }
rig_uptime_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; } # 10 ms steps

rig_wait_for() { # SECONDS CMD...
	_rw_n=$(($1 * 20))
	shift
	while [ "$_rw_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		_rw_n=$((_rw_n - 1))
	done
	return 1
}
rig_wait_log() { rig_wait_for "$1" grep -q -- "$3" "$2"; } # SECONDS FILE REGEX
rig_wait_gone() { # SECONDS DOMNAME
	_rg_n=$(($1 * 20))
	while xl list "$2" >/dev/null 2>&1; do
		[ "$_rg_n" -gt 0 ] || return 1
		sleep 0.05
		_rg_n=$((_rg_n - 1))
	done
	return 0
}

rig_console_log() { echo "/var/log/xen/console/guest-$1.log"; }

# rig_vdisk_flask EXTRA MEMORY_MB [CFG_LINES]: creates vdisk from /rig/vdisk.cfg with these
# bootargs and memory (and CFG_LINES appended, e.g. iomem= and device_tree=), labelled vdisk_t,
# its guests domU_t (RIG_GUEST_SECLABEL, exported), under FLASK enforcing; test vdisk_ready
# when it says so. Sets LOGF (its console log) and VDISK_DOMID.
rig_vdisk_flask() {
	sed -e "s/^extra = .*/extra = \"$1\"/" -e "s/^memory = .*/memory = $2/" /rig/vdisk.cfg |
		grep -v '^seclabel' >/tmp/vdisk.cfg
	echo 'seclabel = "system_u:system_r:vdisk_t"' >>/tmp/vdisk.cfg
	[ -z "${3:-}" ] || printf '%s\n' "$3" >>/tmp/vdisk.cfg
	export RIG_GUEST_SECLABEL=system_u:system_r:domU_t
	[ "$(flask-getenforce 2>/dev/null)" = Enforcing ] ||
		rig_fail flask "not enforcing: boot with --xsm flask"
	LOGF=$(rig_console_log vdisk)
	xl create /tmp/vdisk.cfg
	rig_check vdisk_ready rig_wait_log 60 "$LOGF" "vdisk: ready"
	VDISK_DOMID=$(xl domid vdisk)
}

# rig_sdhci_enable BAR: finds QEMU's sdhci-pci function (1b36:0007), checks dom0 has no
# driver on it, enables it and checks its BAR0 is at BAR (where a partial device tree for vdisk
# says it is); sets SDHCI_FN (its sysfs directory). Tests sdhci_present, sdhci_has_no_dom0_driver,
# sdhci_bar_where_the_dt_says; returns 1 without the function.
rig_sdhci_enable() {
	SDHCI_FN=
	for _sd_d in /sys/bus/pci/devices/*; do
		[ "$(cat "$_sd_d/vendor")" = 0x1b36 ] && [ "$(cat "$_sd_d/device")" = 0x0007 ] &&
			SDHCI_FN=$_sd_d
	done
	if [ -z "$SDHCI_FN" ]; then
		rig_fail sdhci_present "no PCI function 1b36:0007: is QEMU given -device sdhci-pci?"
		return 1
	fi
	rig_pass sdhci_present
	rig_check sdhci_has_no_dom0_driver test ! -e "$SDHCI_FN/driver"
	echo 1 >"$SDHCI_FN/enable"
	_sd_bar=$(awk 'NR == 1 { print $1 }' "$SDHCI_FN/resource")
	rig_metric sdhci_bar0 "$_sd_bar"
	if [ "$((_sd_bar))" = "$(($1))" ]; then
		rig_pass sdhci_bar_where_the_dt_says
	else
		rig_fail sdhci_bar_where_the_dt_says "BAR0 at $_sd_bar, the partial device tree says $1"
	fi
}

# rig_blkback_hotplug: writes /tmp/block-phy, the hotplug script libxl runs for a dom0 block
# backend (disk spec `script=/tmp/block-phy`): what /etc/xen/scripts/block does for a plain
# block device (physical-device = hex major:minor, for xen-blkback), without its bash.
rig_blkback_hotplug() {
	cat >/tmp/block-phy <<'HOTPLUG'
#!/bin/sh
[ "$1" = add ] || exit 0
dev=$(xenstore-read "$XENBUS_PATH/params") || exit 1
xenstore-write "$XENBUS_PATH/physical-device" "$(stat -L -c %t:%T "$dev")" \
	"$XENBUS_PATH/physical-device-path" "$dev" "$XENBUS_PATH/hotplug-status" connected
HOTPLUG
	chmod 755 /tmp/block-phy
}

# rig_vdisk_stats ID: asks vdisk (VDISK_DOMID) for its counters (data/vdisk/stats-request ->
# data/vdisk/stats); prints "hypercalls=N ioreqs=N requests=N ..." (boot/stats.h), or fails.
rig_vdisk_stats() {
	_vs_d=/local/domain/$VDISK_DOMID/data/vdisk
	xenstore-write "$_vs_d/stats-request" "$1" || return 1
	_vs_n=200
	while [ "$_vs_n" -gt 0 ]; do
		_vs_v=$(xenstore-read "$_vs_d/stats" 2>/dev/null)
		case $_vs_v in "id=$1 "*) echo "${_vs_v#"id=$1 "}"; return 0 ;; esac
		sleep 0.05
		_vs_n=$((_vs_n - 1))
	done
	return 1
}

# rig_vdisk_sleeps ID SECS: test vdisk_sleeps_when_idle: over SECS of dom0's time in which
# nothing asks vdisk for anything (no guest I/O), it made under 100 hypercalls a second and was
# awake (neither in WFI nor yielded) under 10% of the time, i.e. it neither spins in its loop
# nor yields over and over (under TCG the rig has two CPUs: vdisk's vCPU has one to itself
# whenever dom0 sleeps). Metrics vdisk_idle_hypercalls_per_s and vdisk_idle_awake_pct. Needs
# VDISK_DOMID.
rig_vdisk_sleeps() {
	_sl_a=$(rig_vdisk_stats "$1-a") || { rig_fail vdisk_sleeps_when_idle "no counters from vdisk"; return 1; }
	sleep "$2"
	_sl_b=$(rig_vdisk_stats "$1-b") || { rig_fail vdisk_sleeps_when_idle "no counters from vdisk"; return 1; }
	# shellcheck disable=SC2046 # the three numbers, a parameter each
	set -- $(echo "$_sl_a" "$_sl_b" | awk '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] in a) b[kv[1]] = kv[2]; else a[kv[1]] = kv[2] }
		t = b["now_ns"] - a["now_ns"]
		printf "%.0f %.1f %.0f", (b["hypercalls"] - a["hypercalls"]) * 1e9 / t,
			100 * (t - (b["idle_ns"] - a["idle_ns"])) / t, t / 1e6 }')
	rig_metric vdisk_idle_hypercalls_per_s "$1"
	rig_metric vdisk_idle_awake_pct "$2"
	if [ "$1" -lt 100 ] && awk -v p="$2" 'BEGIN { exit !(p < 10) }'; then
		rig_pass vdisk_sleeps_when_idle
	else
		rig_fail vdisk_sleeps_when_idle "over $3 ms: $1 hypercalls a second, awake $2% of the time"
	fi
}

# rig_vdisk_latency ID: asks vdisk for its counters (rig_vdisk_stats), which also has it write
# each device's latency histograms (data/vdisk/latency/domFE-DEVID/{service,ioreq}), and prints
# one line a histogram:  DEV KIND count=N mean_ns=N p50_ns=N ... max_ns=N buckets=MAX:N,...
# ID "-": prints what the last request left there, without asking (its devices may be gone).
rig_vdisk_latency() {
	[ "$1" = - ] || rig_vdisk_stats "$1" >/dev/null || return 1
	_vl_d=/local/domain/$VDISK_DOMID/data/vdisk/latency
	for _vl_dev in $(xenstore-list "$_vl_d" 2>/dev/null); do
		[ "$_vl_dev" = upcall ] && continue # vdisk's own, not a device's directory
		for _vl_k in service ioreq; do
			echo "$_vl_dev $_vl_k $(xenstore-read "$_vl_d/$_vl_dev/$_vl_k")"
		done
	done
}

# rig_stat KEY STATS: the value of KEY=N in a rig_vdisk_stats line, empty if absent.
rig_stat() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# rig_snapper CONSOLE SNAP:NEXT... (`make bench`, in the background: its pid in SNAPPER):
# prints "BENCH-STATS: SNAP <rig_vdisk_stats>" when the guest prints "BENCH-SNAP: SNAP" (it
# then sleeps 2 s), in order, and checks the guest had not finished its NEXT fio job meanwhile.
# With it, for each device, "BENCH-HIST: SNAP DEVICE service <histogram>": vdisk's service-time
# histogram as that stats request left it (rig_vdisk_latency; from one snapshot to the next it
# counts the job between them: tools/bench.sh plots it).
# It reads the console through `tail -f` (one read a second) rather than grepping it again
# and again: dom0 work on the one CPU delays vdisk's vCPU (Xen does not
# preempt dom0 within its 1 ms rate limit), and blkback's and vdisk's jobs must see the same.
rig_snap_lines() {
	_console=$1
	shift
	for _sn in "$@"; do
		_snap=${_sn%%:*} _next=${_sn#*:}
		_found=0
		while read -r _l; do
			case $_l in *"BENCH-SNAP: $_snap"*) _found=1; break ;; esac
		done
		[ "$_found" = 1 ] || { echo "BENCH-STATS-FAIL: $_snap: no marker"; return; }
		_st=$(rig_vdisk_stats "$_snap") || { echo "BENCH-STATS-FAIL: $_snap: vdisk did not answer"; return; }
		rig_vdisk_latency - | sed -n "s/^\([^ ]*\) service count=/BENCH-HIST: $_snap \1 service count=/p"
		if grep -q "GUEST-TEST: [A-Z]* $_next\( \|:\|\$\)" "$_console"; then
			echo "BENCH-STATS-FAIL: $_snap: taken after the guest's $_next job had ended"
			return
		fi
		echo "BENCH-STATS: $_snap $_st"
	done
}
rig_snapper() { rig_follow "$1" /tmp/snapper-tail.pid | rig_snap_lines "$@"; }
# rig_follow FILE PIDFILE: prints FILE from its start and then as it grows, through `tail -f`
# (one read a second), once FILE exists; the tail's pid goes to PIDFILE, for whoever ends it
rig_follow() {
	until [ -e "$1" ]; do sleep 0.5; done
	tail -n +1 -f "$1" 2>/dev/null &
	echo $! >"$2"
	wait
}
# rig_snap_deltas FILE SNAP...: test vdisk_counters (FILE, rig_snapper's output, has every
# SNAP) and, from each snapshot to the next,
#   RIG-METRIC: vdisk_delta_JOB_KEY=N   (JOB: SNAP without its "vdisk-"; next snapshot - this)
# (%.0f: busybox awk's %d stops at 2^31, and the clocks are in ns)
rig_snap_deltas() {
	_sd_file=$1 _sd_missing=""
	shift
	for _sd_sn in "$@"; do
		grep -q "^BENCH-STATS: $_sd_sn " "$_sd_file" || _sd_missing="$_sd_missing $_sd_sn"
	done
	if [ -n "$_sd_missing" ]; then
		rig_fail vdisk_counters "no snapshot for$_sd_missing: $(grep BENCH-STATS-FAIL "$_sd_file" | head -n 1)"
		return 1
	fi
	rig_pass vdisk_counters
	sed -n 's/^BENCH-STATS: vdisk-//p' "$_sd_file" | awk '
		{ name[NR] = $1; for (i = 2; i <= NF; i++) { split($i, kv, "="); v[NR, kv[1]] = kv[2]; keys[kv[1]] = 1 } }
		END { for (r = 1; r < NR; r++) for (k in keys) if (v[r + 1, k] != "")
			printf "RIG-METRIC: vdisk_delta_%s_%s=%.0f\n", name[r], k, v[r + 1, k] - v[r, k] }'
}
# rig_stop_snapper: ends the snapper (its pid in SNAPPER) and its tail
rig_stop_snapper() {
	kill "$SNAPPER" "$(cat /tmp/snapper-tail.pid 2>/dev/null)" 2>/dev/null
	wait "$SNAPPER" 2>/dev/null
}

rig_xl_start() { # CFG NAME CONSOLE_FILE [CONSOLE_TIMEOUT_S]
	RIG_DOMID="" RIG_CONSOLE_PID=""
	xl create -p "$1" || return 1
	RIG_DOMID=$(xl domid "$2") || return 1
	timeout "${4:-600}" xl console "$2" </dev/null >"$3" 2>&1 &
	RIG_CONSOLE_PID=$!
	# xl console must be attached before the domain runs; it has no "attached" signal, but the
	# console's pty is opened within a few ms; give it a margin.
	sleep 0.5
	xl unpause "$2"
}
