# Guest script of the benchmark (tests/rig/bench.sh, `make bench`): the fio 4 KiB job set
# (g_fio_set) on vdisk's virtio-blk disk /dev/vda, then on dom0's xen-blkback disk /dev/xvdb,
# then the null-IOREQ floor (mmio-lat: one register read of vdisk's device, timed).
# BENCH_IOS (I/Os per job) is set by the scenario in a line put before this file.
# The randread jobs of both disks also write fio's latency logs (G_FIO_LAT_LOG), printed at
# the end, once nothing is measured any more (g_lat_log: BENCH-LAT lines), for the plots of
# tools/bench.sh (tools/plot-latency.py).
# Before each vdisk job (after the fill) and after the last it prints "BENCH-SNAP: vdisk-JOB"
# / "vdisk-after" and sleeps: dom0 watches the console for them and takes vdisk's counters
# meanwhile, so that each job gets its own counts. Last, randread QD1 on both disks once more
# between "BENCH-BUSY: start" and "stop", while dom0 works; then the guest's floor, the same
# jobs on a null_blk disk in the guest.
# shellcheck shell=sh disable=SC1091
. /rig/glib.sh
for dev in vda xvdb; do
	g_need_disk "$dev"
done
for dev in vda xvdb; do
	echo "$dev: $(cat /sys/block/$dev/size) sectors, queue $(cat /sys/block/$dev/queue/nr_requests) requests, scheduler $(cat /sys/block/$dev/queue/scheduler)"
done

BENCH_SNAP_WAIT_S=2
# shellcheck disable=SC2034 # read by g_fio
G_FIO_LAT_LOG="randread_qd1 randread_qd32"
# g_fio_set's jobs, with a snapshot before each
g_fio /dev/vda vdisk_fill write 1 --bs=64k --verify_interval=4k --do_verify=0
for rw in randread randwrite; do
	for qd in 1 32; do
		echo "BENCH-SNAP: vdisk-${rw}_qd$qd"
		sleep "$BENCH_SNAP_WAIT_S"
		g_fio /dev/vda "vdisk_${rw}_qd$qd" "$rw" "$qd" --number_ios="${BENCH_IOS:-2048}" \
			--do_verify=1
	done
done
echo "BENCH-SNAP: vdisk-after"
sleep "$BENCH_SNAP_WAIT_S"
g_fio_set /dev/xvdb blkback "${BENCH_IOS:-2048}"
# randread QD1 on each disk again while dom0 works: between the two markers dom0 runs
# `xl list` every BENCH_BUSY_MS (tests/rig/bench.sh), as a management tool polling would
echo "BENCH-BUSY: start"
sleep "$BENCH_SNAP_WAIT_S"
for d in vdisk:vda blkback:xvdb; do
	g_fio "/dev/${d#*:}" "${d%%:*}_busy_randread_qd1" randread 1 --number_ios="${BENCH_IOS:-2048}" \
		--do_verify=1
done
echo "BENCH-BUSY: stop"
# The guest's floor: the same jobs on null_blk, memory-backed (fio's verify needs the data
# back) in 4 KiB blocks (it copies a block at a time) and completing each request where it is
# submitted (irqmode=0): no device, no exit, no interrupt, only this guest's own path (fio with
# crc32c verify, libaio, the block layer and the same scheduler as vda) and null_blk's copy of
# the 4 KiB. A device adds its driver, exits and interrupts to this (tools/bench.sh sets the
# goals against it).
while read -r m; do
	case $m in */null_blk.ko) a="memory_backed=1 gb=1 bs=4096 irqmode=0 submit_queues=1" ;; *) a= ;; esac
	# shellcheck disable=SC2086 # a parameter a word
	insmod "/rig/guest-mods$m" $a || g_fail floor_null_blk "insmod $m $a"
done </rig/guest-mods/modules.load
g_need_disk nullb0
sched=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/block/vda/queue/scheduler)
echo "${sched:-none}" >/sys/block/nullb0/queue/scheduler
echo "nullb0: $(cat /sys/block/nullb0/size) sectors, queue $(cat /sys/block/nullb0/queue/nr_requests) requests, scheduler $(cat /sys/block/nullb0/queue/scheduler)"
# shellcheck disable=SC2034 # read by g_fio
G_FIO_LAT_LOG=""
g_fio_set /dev/nullb0 floor "${BENCH_IOS:-2048}"
# The null-IOREQ floor: register reads of vdisk's device with its drivers unloaded (the region
# is theirs while they are loaded).
rmmod virtio_blk virtio_mmio
g_check mmio_lat mmio-lat 0x2000000 2000
for job in vdisk_randread_qd1 vdisk_randread_qd32 blkback_randread_qd1 blkback_randread_qd32; do
	g_lat_log "$job"
done
g_summary
