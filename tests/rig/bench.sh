# dom0 scenario of `make bench` (tools/bench.sh): one Linux guest with two disks that differ only
# in who serves them, each a 64 MiB RAM disk:
#   xvda  virtio-blk from vdisk   'backend=vdisk, backendtype=standalone, specification=virtio,
#                                  vdev=xvda, target=ram:64M'   -> /dev/vda in the guest
#   xvdb  Linux's PV block path   xen-blkback in dom0 over brd's /dev/ram0 -> xen-blkfront,
#                                  /dev/xvdb in the guest
# The guest (tests/rig/guest/bench.sh) runs the fio job set on each; around the vdisk jobs dom0
# asks vdisk for its counters (data/vdisk/stats-request -> data/vdisk/stats) and prints
#   RIG-METRIC: vdisk_delta_<job>_<counter>=N  (hypercalls, ioreqs, requests, yields, ioreq_ns,
#                                               idle_ns, now_ns, per hypercall kind)
# and, for tools/bench.sh's latency plots, vdisk's service-time histogram at each snapshot
# ("BENCH-HIST: SNAP DEVICE service ...", rig_snap_lines) beside the guest's fio latency logs
# of its randread jobs ("BENCH-LAT: ..." at the guest's end, g_lat_log).
# Boot it with --icount and --xsm flask (vdisk as vdisk_t, the guest as domU_t).
# Needs /rig/vdisk.img, /rig/vdisk.cfg, /rig/domu/Image, /rig/domu/bench.cpio.zst (guest
# initramfs with fio, virtio_mmio, virtio_blk, xen_blkfront), /rig/guest/bench.sh, and the
# dom0 modules brd and xen-blkback under /rig/dom0-mods with their load order in
# /rig/dom0-mods/modules.load; /rig/bench.env may set BENCH_IOS (I/Os per fio job),
# BENCH_SERVE (vdisk's serve= policy: adaptive, inline or defer) and BENCH_BUSY_MS (how often
# dom0 runs `xl list` during the busy jobs).
set -u
# shellcheck disable=SC1091 # put there by boot.sh
. /rig/lib/rig.sh
# shellcheck disable=SC1091
. /rig/lib/guest.sh
BENCH_IOS=2048
# shellcheck disable=SC1091
[ -f /rig/bench.env ] && . /rig/bench.env
VDISK='backend=vdisk, backendtype=standalone, specification=virtio, vdev=xvda, target=ram:64M'
BLKBACK='backendtype=phy, format=raw, vdev=xvdb, access=rw, script=/tmp/block-phy, target=/dev/ram0'
RAM_KB=65536

# ---- dom0: brd RAM disk + xen-blkback ----
while read -r m; do
	args=""
	case $m in */brd.ko) args="rd_nr=1 rd_size=$RAM_KB" ;; esac
	# shellcheck disable=SC2086
	insmod "/rig/dom0-mods$m" $args || rig_fail dom0_modules "insmod $m $args"
done </rig/dom0-mods/modules.load
rig_check ram0_present test -b /dev/ram0
rig_metric ram0_bytes "$(blockdev --getsize64 /dev/ram0 2>/dev/null)"
rig_blkback_hotplug

# ---- vdisk ----
rig_vdisk_flask "evtchn_bench=0 serve=${BENCH_SERVE:-adaptive}" 128
if [ -n "${BENCH_VDISK_WEIGHT:-}" ]; then
	rig_check vdisk_weight xl sched-credit2 -d vdisk -w "$BENCH_VDISK_WEIGHT"
	xl sched-credit2 -d vdisk
fi

rig_check vdisk_stats rig_vdisk_stats boot

BENCH_JOBS="randread_qd1 randread_qd32 randwrite_qd1 randwrite_qd32"
rig_snapper /tmp/rig-guest-bench/console.raw vdisk-randread_qd1:vdisk_randread_qd1 \
	vdisk-randread_qd32:vdisk_randread_qd32 vdisk-randwrite_qd1:vdisk_randwrite_qd1 \
	vdisk-randwrite_qd32:vdisk_randwrite_qd32 vdisk-after:blkback_fill >/tmp/snaps.txt 2>&1 &
SNAPPER=$!

{
	echo "BENCH_IOS=$BENCH_IOS"
	cat /rig/guest/bench.sh
} >/tmp/bench-guest.sh
rig_metric bench_ios "$BENCH_IOS"
# dom0 at work for the guest's last two jobs: from its "BENCH-BUSY: start" line to "stop",
# `xl list` every BENCH_BUSY_MS (default 100), milliseconds of dom0's CPU each
(
	rig_follow /tmp/rig-guest-bench/console.raw /tmp/busy-tail.pid | while IFS= read -r l; do
		case $l in
		*"BENCH-BUSY: start"*)
			busy_s=$(awk -v ms="${BENCH_BUSY_MS:-100}" 'BEGIN { print ms / 1000 }')
			(while :; do
				xl list >/dev/null 2>&1
				sleep "$busy_s"
			done) &
			echo $! >/tmp/busy.pid
			echo "dom0: xl list every ${BENCH_BUSY_MS:-100} ms from now"
			;;
		*"BENCH-BUSY: stop"*)
			kill "$(cat /tmp/busy.pid)" 2>/dev/null
			echo "dom0: xl list stopped"
			exit 0
			;;
		esac
	done
) &
BUSY_WATCH=$!
# RIG_GUEST_POLL_MS=0: dom0 waits for the guest's `xl console` to end and starts no process
# meanwhile. A look every 10 s (grep + `xl list`, milliseconds of dom0's CPU) landed in the
# middle of vdisk's randwrite_qd1 in every run (-icount repeats) and held one request 10 ms:
# dom0, with more credit than vdisk, kept the CPU for credit2's longest slice.
RIG_GUEST_INITRD=/rig/domu/bench.cpio.zst RIG_GUEST_TIMEOUT=3000 RIG_GUEST_POLL_MS=0 \
	rig_guest_run bench /tmp/bench-guest.sh "$VDISK" "$BLKBACK"
rig_stop_snapper
kill "$(cat /tmp/busy.pid 2>/dev/null)" "$(cat /tmp/busy-tail.pid 2>/dev/null)" "$BUSY_WATCH" 2>/dev/null
# vdisk's own histograms of the device, as of the last snapshot (the vdisk jobs, verify
# included; the fill too): service time and IOREQ turnaround
rig_vdisk_latency - | sed 's/^/BENCH-LATENCY: /'
# and vdisk's event-channel upcall, sampled while it served (one for all devices)
echo "BENCH-LATENCY: vdisk upcall $(xenstore-read "/local/domain/$VDISK_DOMID/data/vdisk/latency/upcall")"

# ---- a 2-vCPU guest: a polled queue, and two queues at QD32 (tests/rig/guest/bench-mq.sh) ----
rig_snapper /tmp/rig-guest-bench-mq/console.raw vdisk-poll_qd1:vdisk_poll_qd1 \
	vdisk-mq_qd32:vdisk_mq_qd32 vdisk-mq-after:blkback_mq_qd32 >>/tmp/snaps.txt 2>&1 &
SNAPPER=$!
{
	echo "BENCH_IOS=$BENCH_IOS"
	cat /rig/guest/bench-mq.sh
} >/tmp/bench-mq-guest.sh
RIG_GUEST_INITRD=/rig/domu/bench.cpio.zst RIG_GUEST_TIMEOUT=3000 RIG_GUEST_POLL_MS=0 \
	RIG_GUEST_VCPUS=2 rig_guest_run bench-mq /tmp/bench-mq-guest.sh "$VDISK" "$BLKBACK"
rig_stop_snapper
cat /tmp/snaps.txt

# ---- vdisk's counters over each vdisk job (from its snapshot to the next) ----
snaps="$(for j in $BENCH_JOBS; do echo "vdisk-$j"; done) vdisk-after vdisk-poll_qd1 vdisk-mq_qd32 vdisk-mq-after"
# (vdisk-after to vdisk-poll_qd1 spans the guest change: a delta named "after", unused)
# shellcheck disable=SC2086 # one snapshot name a word
rig_snap_deltas /tmp/snaps.txt $snaps

echo "--- vdisk's console (backend lines) ---"
tr -d '\r' <"$LOGF" | grep -i -E "backend|ioreq|virtio|blk|error|warn"
xl destroy vdisk
rig_summary
