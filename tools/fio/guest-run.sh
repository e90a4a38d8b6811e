#!/bin/sh
# Runs fio job files in a Linux guest and prints, on the guest's console, what
# tools/fio/extract.py needs to make each job's latency plot from a capture of that console:
#   FIO-MARK: JOB start          then FIO_GAP seconds of quiet, then fio runs JOB
#   FIO-MARK: JOB end            as soon as fio is done, then FIO_GAP seconds of quiet
#   FIO-LAT: JOB NS NS ...       once every job has run: JOB's total latency of each I/O in
#   FIO-LAT-END: JOB COUNT       ns (fio's JOB_lat.log, in order), 8 a line, then the count
#   FIO-DONE
# plus fio's own summary of each job. The quiet gaps let vdisk's histograms be read before and
# after each job: by tools/fio/dom0-run.sh in layout A (at the marks), and in layout B by
# vdisk itself every latency_period= seconds, which must be shorter than FIO_GAP. These lines
# stay under 125 characters: Xen cuts a dom0less guest's longer console lines in two.
#
#   guest-run.sh [JOB.fio...]    (default: FIO_JOBS, else every /fio/*.fio)
# Env (also from the guest's kernel command line: Linux hands unknown NAME=VALUE words to init
# as environment): DEV (default /dev/vda), FIO_JOBS (job names, comma-separated, e.g.
# randread-qd1,randwrite-qd1; each /fio/NAME.fio), FIO_GAP (seconds, default 3), FIO_WAIT
# (seconds to wait for DEV to appear, default 10).
# The tools/rig guest runs it at boot when built with
#   tools/rig/mk-domu-initrd.sh guest.cpio --blk --script tools/fio/guest-run.sh --add tools/fio:/fio
# and powers off after it. randwrite-qd1.fio overwrites the disk.
set -u
DEV=${DEV:-/dev/vda}
FIO_GAP=${FIO_GAP:-3}
export DEV
if [ $# -eq 0 ]; then
	if [ -n "${FIO_JOBS:-}" ]; then
		for j in $(echo "$FIO_JOBS" | tr ',' ' '); do set -- "$@" "/fio/$j.fio"; done
	else
		set -- /fio/*.fio
	fi
fi
# virtio_blk may still be probing when the guest's init runs this: FIO_WAIT seconds at most
i=0
while [ ! -b "$DEV" ] && [ ! -f "$DEV" ] && [ $i -lt $((${FIO_WAIT:-10} * 10)) ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -b "$DEV" ] || [ -f "$DEV" ] || { echo "FIO-ERROR: $DEV: no such block device (DEV=)"; exit 1; }
work=${TMPDIR:-/tmp}/fio-run.$$
mkdir -p "$work" || exit 1
names=""
rc=0
for job in "$@"; do
	name=$(basename "$job" .fio)
	[ -f "$job" ] || { echo "FIO-ERROR: $job: no such job file"; rc=1; continue; }
	job=$(cd "$(dirname "$job")" && pwd)/$(basename "$job")
	echo "FIO-MARK: $name start"
	sleep "$FIO_GAP"
	# the logs land in the current directory, under the job's write_lat_log= name
	(cd "$work" && fio "$job") >"$work/$name.out" 2>&1
	st=$?
	echo "FIO-MARK: $name end"
	sleep "$FIO_GAP"
	# fio's summary, without its per-thread resource lines
	grep -v -E '^ +(cpu|IO depths|submit|complete|issued rwts|latency) *:' "$work/$name.out"
	if [ "$st" != 0 ]; then
		echo "FIO-ERROR: $name: fio exit status $st"
		rc=1
	elif [ ! -f "$work/${name}_lat.log" ]; then
		echo "FIO-ERROR: $name: no ${name}_lat.log (write_lat_log=$name, per_job_logs=0 in $job?)"
		rc=1
	else
		names="$names $name"
	fi
done
for name in $names; do
	awk -F', ' -v name="$name" '
		{ line = line " " $2; n++ }
		n % 8 == 0 { print "FIO-LAT: " name line; line = "" }
		END { if (line != "") print "FIO-LAT: " name line; print "FIO-LAT-END: " name " " n + 0 }
	' "$work/${name}_lat.log"
done
rm -rf "$work"
echo "FIO-DONE"
exit "$rc"
