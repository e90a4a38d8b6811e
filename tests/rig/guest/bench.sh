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
# between "BENCH-BUSY: start" and "stop", while dom0 works.
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
# The null-IOREQ floor: register reads of vdisk's device with its drivers unloaded (the region
# is theirs while they are loaded).
rmmod virtio_blk virtio_mmio
g_check mmio_lat mmio-lat 0x2000000 2000
for job in vdisk_randread_qd1 vdisk_randread_qd32 blkback_randread_qd1 blkback_randread_qd32; do
	g_lat_log "$job"
done
g_summary
