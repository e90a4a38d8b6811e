# Guest script of the benchmark's second guest (tests/rig/bench.sh, `make bench`): 2 vCPUs, so
# that vdisk's device has a queue per vCPU (VIRTIO_BLK_F_MQ). On vdisk's /dev/vda:
#   poll_qd1   virtio_blk reloaded with poll_queues=1: one queue without completion interrupts,
#              4 KiB random reads at QD1 through io_uring with --hipri (the driver polls)
#   mq_qd32    virtio_blk reloaded without it: 2 interrupt queues, two fio jobs of QD16 (one on
#              each vCPU), 4 KiB random reads, 32 in flight in all
# and mq_qd32 on dom0's xen-blkback disk /dev/xvdb for the ratio. BENCH_IOS (I/Os per job) is
# set in a line put before this file. "BENCH-SNAP: vdisk-JOB" / "vdisk-mq-after" markers let
# dom0 take vdisk's counters around each vdisk job.
# shellcheck shell=sh disable=SC1091
. /rig/glib.sh
BENCH_SNAP_WAIT_S=2
IOS=${BENCH_IOS:-2048}

# reload_virtio_blk [PARAM=VALUE]: virtio_blk again, with a module parameter (insmod takes no
# parameters from the kernel command line)
reload_virtio_blk() {
	_ko=$(grep '/virtio_blk\.ko' /etc/rig/modules.load | head -n 1)
	rmmod virtio_blk || return 1
	# shellcheck disable=SC2086
	insmod "$_ko" $1 || return 1
	g_wait_for 20 test -b /dev/vda
}

# fio_job NAME DEV FIO-OPTION...: one read job, IOPS and total-latency p50/p99/p99.9/max as
# metrics (the fields of g_fio in /rig/glib.sh)
fio_job() {
	_fj_name=$1 _fj_dev=$2
	shift 2
	fio --name="$_fj_name" --filename="$_fj_dev" --size=8m --bs=4k --rw=randread --direct=1 \
		--number_ios="$IOS" --group_reporting --output-format=terse --terse-version=3 \
		--percentile_list=50:99:99.9 --lat_percentiles=1 --clat_percentiles=0 "$@" \
		>/tmp/"$_fj_name".fio 2>&1
	_fj_rc=$?
	# shellcheck disable=SC2046 # one field per positional parameter
	set -- $(tail -n 1 /tmp/"$_fj_name".fio | tr ';' ' ')
	if [ "$_fj_rc" != 0 ] || [ "${1:-}" != 3 ] || [ "${5:-x}" != 0 ]; then
		g_fail "$_fj_name" "fio exit status $_fj_rc: $(head -c 300 /tmp/"$_fj_name".fio | tr '\n' ' ')"
		return 1
	fi
	g_pass "$_fj_name"
	g_metric "${_fj_name}_iops" "$8"
	g_metric "${_fj_name}_p50_us" "${18#*%=}"
	g_metric "${_fj_name}_p99_us" "${19#*%=}"
	g_metric "${_fj_name}_p999_us" "${20#*%=}"
	g_metric "${_fj_name}_max_us" "${39%.*}"
}

for dev in vda xvdb; do
	g_need_disk "$dev"
done
echo "cpus: $(grep -c ^processor /proc/cpuinfo)"
# Something to read: the first 8 MiB written once.
g_check vdisk_mq_fill dd if=/dev/urandom of=/dev/vda bs=64k count=128 oflag=direct
g_check blkback_mq_fill dd if=/dev/urandom of=/dev/xvdb bs=64k count=128 oflag=direct

g_check vdisk_poll_reload reload_virtio_blk poll_queues=1
echo "vda: $(ls /sys/block/vda/mq | wc -l) queues, io_poll $(cat /sys/block/vda/queue/io_poll)"
echo "BENCH-SNAP: vdisk-poll_qd1"
sleep "$BENCH_SNAP_WAIT_S"
fio_job vdisk_poll_qd1 /dev/vda --ioengine=io_uring --hipri=1 --iodepth=1
g_check vdisk_mq_reload reload_virtio_blk
echo "vda: $(ls /sys/block/vda/mq | wc -l) queues"
echo "BENCH-SNAP: vdisk-mq_qd32"
sleep "$BENCH_SNAP_WAIT_S"
fio_job vdisk_mq_qd32 /dev/vda --ioengine=libaio --iodepth=16 --numjobs=2 \
	--cpus_allowed=0-1 --cpus_allowed_policy=split
echo "BENCH-SNAP: vdisk-mq-after"
sleep "$BENCH_SNAP_WAIT_S"
echo "xvdb: $(ls /sys/block/xvdb/mq | wc -l) queues"
fio_job blkback_mq_qd32 /dev/xvdb --ioengine=libaio --iodepth=16 --numjobs=2 \
	--cpus_allowed=0-1 --cpus_allowed_policy=split
g_summary
