# Guest script of the benchmark (tests/rig/bench.sh, `make bench`): the fio 4 KiB job set
# (g_fio_set) on vdisk's virtio-blk disk /dev/vda, then on dom0's xen-blkback disk /dev/xvdb.
# BENCH_IOS (I/Os per job) is set by the scenario in a line put before this file.
# Around the vdisk jobs it prints "BENCH-SNAP: vdisk-before" / "vdisk-after" and sleeps: dom0
# watches the console for them and takes vdisk's counters meanwhile.
# shellcheck shell=sh disable=SC1091
. /rig/glib.sh
for dev in vda xvdb; do
	g_need_disk "$dev"
done
for dev in vda xvdb; do
	echo "$dev: $(cat /sys/block/$dev/size) sectors, queue $(cat /sys/block/$dev/queue/nr_requests) requests, scheduler $(cat /sys/block/$dev/queue/scheduler)"
done

BENCH_SNAP_WAIT_S=2
echo "BENCH-SNAP: vdisk-before"
sleep "$BENCH_SNAP_WAIT_S"
g_fio_set /dev/vda vdisk "${BENCH_IOS:-2048}"
echo "BENCH-SNAP: vdisk-after"
sleep "$BENCH_SNAP_WAIT_S"
g_fio_set /dev/xvdb blkback "${BENCH_IOS:-2048}"
g_summary
