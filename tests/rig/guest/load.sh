# Guest script of the load scenario (tests/rig/load.sh): random 4 KiB writes at QD32 on vdisk's
# /dev/vda for LOAD_SECONDS of guest time, every block read back and checked as it goes (fio
# verify_backlog, crc32c, fatal on the first mismatch). All guests start at the wall-clock
# second LOAD_START (Xen gives every guest the same wall clock), so that their runs overlap
# and their IOPS can be compared. LOAD_SECONDS and LOAD_START are set in lines put before
# this file. Reports tests load_started_on_time, load_fio, load_ran_long_enough and metrics
# load_iops, load_verify_read_kib, load_guest_ms.
# shellcheck shell=sh disable=SC1091
. /rig/glib.sh
g_need_disk vda
secs=${LOAD_SECONDS:-60}
while [ "$(date +%s)" -lt "${LOAD_START:-0}" ]; do
	sleep 0.2
done
g_check load_started_on_time test "$(date +%s)" -le $((${LOAD_START:-0} + 2))
t0=$(g_now_ms)
fio --name=load --filename=/dev/vda --size=16m --bs=4k --rw=randwrite --ioengine=libaio \
	--iodepth=32 --direct=1 --time_based --runtime="$secs" --verify=crc32c \
	--verify_backlog=256 --verify_fatal=1 --output-format=terse --terse-version=3 \
	>/tmp/load.fio 2>&1
rc=$?
t1=$(g_now_ms)
# shellcheck disable=SC2046 # one field per positional parameter
set -- $(tail -n 1 /tmp/load.fio | tr ';' ' ')
if [ "$rc" = 0 ] && [ "${1:-}" = 3 ] && [ "${5:-x}" = 0 ]; then
	g_pass load_fio
	g_metric load_iops "${49}"
	g_metric load_verify_read_kib "${6}"
else
	g_fail load_fio "fio exit $rc: $(head -c 300 /tmp/load.fio | tr '\n' ' ')"
fi
g_metric load_guest_ms $((t1 - t0))
g_check load_ran_long_enough test $((t1 - t0)) -ge $((secs * 1000))
g_summary
