# dom0 scenario of `make bench`'s SD card part (tools/bench.sh): the same partition of the same
# card served two ways, one after the other, to a guest running the same fio jobs
# (tests/rig/guest/bench-sd.sh): QEMU's sdhci-pci with a 64 MiB card
# (tools/rig/mk-sd-image.py), partition 2 (8 MiB).
#   1. vdisk drives the controller (iomem=, device_tree= as in tests/rig/sd.sh) and serves
#      target=mmc:0:2 over virtio-blk                                    -> /dev/vda
#   2. vdisk is shut down; dom0 loads Linux's sdhci-pci, which takes the controller (its
#      interrupt, DMA), and xen-blkback serves /dev/mmcblk0p2 to xen-blkfront -> /dev/xvda
# Boot it with --icount and --xsm flask. Needs what tests/rig/bench.sh needs, /rig/sd-dt.dtb,
# and the dom0 modules sdhci, sdhci-pci and xen-blkback under /rig/dom0-mods (load order in
# /rig/dom0-mods/modules.load); /rig/bench.env may set BENCH_SD_IOS (I/Os per 4 KiB job).
set -u
# shellcheck disable=SC1091 # put there by boot.sh
. /rig/lib/rig.sh
# shellcheck disable=SC1091
. /rig/lib/guest.sh
BENCH_SD_IOS=256
# shellcheck disable=SC1091
[ -f /rig/bench.env ] && . /rig/bench.env
BAR=0x10041000

# guest_script DEV TAG: the guest script with its settings in front
guest_script() {
	{
		echo "BENCH_DEV=$1 BENCH_TAG=$2 BENCH_SD_IOS=$BENCH_SD_IOS"
		cat /rig/guest/bench-sd.sh
	} >"/tmp/bench-sd-$2.sh"
	echo "/tmp/bench-sd-$2.sh"
}
rig_metric bench_sd_ios "$BENCH_SD_IOS"

# ---- 1. vdisk ----
if ! rig_sdhci_enable $BAR; then
	rig_summary
	exit 0
fi
rig_vdisk_flask evtchn_bench=0 64 "iomem = [ \"$(printf '%x' $((BAR >> 12))),1\" ]
device_tree = \"/rig/sd-dt.dtb\""
rig_check vdisk_card_usable rig_wait_log 5 "$LOGF" "backend: 1 of 1 SD card(s) usable"
JOBS="randread_qd1 randread_qd32 randwrite_qd1 randwrite_qd32 seqwrite_1m seqread_1m"
snaps="$(for j in $JOBS; do echo "vdisk-$j"; done) vdisk-after"
# (SNAP:NEXT: each snapshot is taken before its job ends; after the last, no job follows)
# shellcheck disable=SC2046 # one SNAP:NEXT a word
rig_snapper /tmp/rig-guest-bench-sd-vdisk/console.raw \
	$(for j in $JOBS; do echo "vdisk-$j:vdisk_$j"; done) vdisk-after:none >/tmp/snaps.txt 2>&1 &
SNAPPER=$!
RIG_GUEST_INITRD=/rig/domu/bench.cpio.zst RIG_GUEST_TIMEOUT=3000 RIG_GUEST_POLL_MS=0 \
	rig_guest_run bench-sd-vdisk "$(guest_script vda vdisk)" \
	'backend=vdisk, backendtype=standalone, specification=virtio, vdev=xvda, target=mmc:0:2'
rig_stop_snapper
cat /tmp/snaps.txt
# shellcheck disable=SC2086 # one snapshot name a word
rig_snap_deltas /tmp/snaps.txt $snaps
xl shutdown -w vdisk >/dev/null 2>&1 || xl destroy vdisk
rig_check vdisk_gone rig_wait_gone 30 vdisk

# ---- 2. Linux's sdhci-pci and xen-blkback ----
while read -r m; do
	insmod "/rig/dom0-mods$m" || rig_fail dom0_modules "insmod $m"
done </rig/dom0-mods/modules.load
rig_check dom0_found_the_card rig_wait_for 20 test -b /dev/mmcblk0p2
[ -e "$SDHCI_FN/driver" ] && rig_metric dom0_sdhci_driver "$(basename "$(readlink "$SDHCI_FN/driver")")"
dmesg | grep -i -E "mmc|sdhci" | tail -n 8
rig_metric mmcblk0p2_bytes "$(blockdev --getsize64 /dev/mmcblk0p2 2>/dev/null)"
rig_blkback_hotplug
RIG_GUEST_INITRD=/rig/domu/bench.cpio.zst RIG_GUEST_TIMEOUT=3000 RIG_GUEST_POLL_MS=0 \
	rig_guest_run bench-sd-blkback "$(guest_script xvda blkback)" \
	'backendtype=phy, format=raw, vdev=xvda, access=rw, script=/tmp/block-phy, target=/dev/mmcblk0p2'
grep -E "mmc|sdhci" /proc/interrupts
rig_summary
