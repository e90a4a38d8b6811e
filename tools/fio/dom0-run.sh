#!/bin/sh
# Layout A, in dom0: creates the fio guest of CFG (tools/fio/fio-guest.cfg: its initramfs runs
# tools/fio/guest-run.sh at boot), passes the guest's console on to this one, and at each of its
# "FIO-MARK: JOB start|end" lines prints vdisk's latency histograms (vdisk-dom0 latency) as
#   FIO-HIST: JOB start|end DEVICE KIND count=... buckets=...
# so that a capture of this console holds everything tools/fio/extract.py needs (the guest
# waits FIO_GAP seconds after each mark: time enough to read them). Returns when the guest
# prints FIO-DONE; the guest then powers off, and its device's histograms go with it. (A guest
# that dies before FIO-DONE leaves it waiting: Ctrl-C.)
#   dom0-run.sh [CFG]     (default /etc/xen/fio-guest.cfg)
# Env: VDISK (the name of vdisk's domain, default vdisk), XEN_CONSOLE_DIR (where xenconsoled
# logs guest consoles, default /var/log/xen/console: the rig's dom0 starts it with --log=guest;
# Debian's xen-utils: XENCONSOLED_TRACE=guest in /etc/default/xen). Needs vdisk-dom0 on PATH.
set -u
cfg=${1:-/etc/xen/fio-guest.cfg}
name=$(sed -n 's/^ *name *= *"\([^"]*\)".*/\1/p' "$cfg")
[ -n "$name" ] || { echo "dom0-run: no name = \"...\" in $cfg" >&2; exit 2; }
vdisk=$(xl domid "${VDISK:-vdisk}") || { echo "dom0-run: no domain ${VDISK:-vdisk}" >&2; exit 1; }
log=${XEN_CONSOLE_DIR:-/var/log/xen/console}/guest-$name.log
rm -f "$log" # xenconsoled appends: an old log would replay its marks
xl create "$cfg" || exit 1
i=0
until [ -e "$log" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "dom0-run: no $log after 10 s (xenconsoled --log=guest?)" >&2; exit 1; }
	sleep 0.1
done
tailpid=/tmp/dom0-run.tail.$$
{
	tail -n +1 -f "$log" &
	echo $! >"$tailpid"
	wait
} | while IFS= read -r line; do
	line=$(printf '%s' "$line" | tr -d '\r')
	printf '%s\n' "$line"
	case $line in
	*"FIO-MARK: "*)
		# shellcheck disable=SC2086 # JOB and start|end as two words
		set -- ${line##*FIO-MARK: }
		vdisk-dom0 latency "$vdisk" | sed "s/^/FIO-HIST: $1 $2 /"
		;;
	*FIO-DONE*)
		# tail -f never ends by itself: the pipeline ends with it
		kill "$(cat "$tailpid")" 2>/dev/null
		break
		;;
	esac
done
rm -f "$tailpid"
