# shellcheck shell=sh disable=SC2034
# Guest-side helpers for scripts run inside a Linux test guest by rig_guest_run
# (tests/rig/lib/guest.sh). rig_guest_run installs this file in the guest as /rig/glib.sh and the
# script as /rig/domu.sh; the script starts with   . /rig/glib.sh
#
#   g_pass NAME | g_fail NAME WHY | g_check NAME CMD... | g_metric KEY VALUE
#   g_summary              last line of the script: "GUEST-SUMMARY: N failure(s)", status 1 if any
#   g_now_ms               milliseconds since the guest booted (/proc/uptime, 10 ms steps)
#   g_wait_for SECONDS CMD...   retry CMD every 0.1 s
# Output protocol (read from `xl console` by rig_guest_run, which reports each one as a rig test
# named GUEST.NAME): "GUEST-TEST: PASS name", "GUEST-TEST: FAIL name: why",
# "GUEST-METRIC: key=value". The guest's /init then prints "DOMU: script exit N".
G_FAILS=0
g_pass() { echo "GUEST-TEST: PASS $1"; }
g_fail() { echo "GUEST-TEST: FAIL $1: $2"; G_FAILS=$((G_FAILS + 1)); }
g_check() { # NAME CMD...: PASS if CMD succeeds (its output goes to the console)
	_gc_name=$1
	shift
	if "$@"; then g_pass "$_gc_name"; else g_fail "$_gc_name" "failed ($?): $*"; fi
}
g_metric() { echo "GUEST-METRIC: $1=$2"; }
g_now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
g_wait_for() { # SECONDS CMD...
	_gw_n=$(($1 * 10))
	shift
	while [ "$_gw_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_gw_n=$((_gw_n - 1))
	done
	return 1
}
g_summary() {
	echo "GUEST-SUMMARY: $G_FAILS failure(s)"
	[ "$G_FAILS" -eq 0 ]
}
