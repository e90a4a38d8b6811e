# Guest script of the SD card benchmark (tests/rig/bench-sd.sh, `make bench`): the 4 KiB job
# set of tests/rig/guest/bench.sh and 1 MiB sequential write and read on partition 2 of the
# card, /dev/BENCH_DEV, named BENCH_TAG (vdisk or blkback). BENCH_DEV, BENCH_TAG and
# BENCH_SD_IOS (I/Os per 4 KiB job) are set by the scenario in a line put before this file.
# Before each job after the fill, and after the last, it prints "BENCH-SNAP: TAG-JOB" /
# "TAG-after" and sleeps: dom0 takes vdisk's counters meanwhile (rig_snapper).
# shellcheck shell=sh disable=SC1091
. /rig/glib.sh
g_need_disk "$BENCH_DEV"
dev=/dev/$BENCH_DEV
echo "$BENCH_DEV: $(cat "/sys/block/$BENCH_DEV/size") sectors, queue $(cat "/sys/block/$BENCH_DEV/queue/nr_requests") requests, max $(cat "/sys/block/$BENCH_DEV/queue/max_sectors_kb") KiB a request"
# snap JOB: the marker before JOB
snap() {
	echo "BENCH-SNAP: $BENCH_TAG-$1"
	sleep 2
}
g_fio "$dev" "${BENCH_TAG}_fill" write 1 --bs=64k --verify_interval=4k --do_verify=0
for rw in randread randwrite; do
	for qd in 1 32; do
		snap "${rw}_qd$qd"
		g_fio "$dev" "${BENCH_TAG}_${rw}_qd$qd" "$rw" "$qd" --number_ios="$BENCH_SD_IOS" \
			--do_verify=1
	done
done
# The whole 8 MiB partition in 1 MiB requests, written then read (the read checks what the
# write left: crc32c blocks of 4 KiB).
snap seqwrite_1m
g_fio "$dev" "${BENCH_TAG}_seqwrite_1m" write 1 --bs=1m --verify_interval=4k --do_verify=0
snap seqread_1m
g_fio "$dev" "${BENCH_TAG}_seqread_1m" read 1 --bs=1m --verify_interval=4k
snap after
g_summary
