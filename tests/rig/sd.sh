# dom0 scenario: vdisk serves partitions of an SD card it drives itself. QEMU has an sdhci-pci
# controller with a 64 MiB card (tools/rig/mk-sd-image.py: GPT, four partitions; the image is
# checked on the host after QEMU exits). Dom0 enables the PCI function without binding a
# driver; vdisk gets its BAR with iomem= and its node with device_tree= (tests/rig/sd-dt.dts),
# finds the card at start-up and serves target=mmc:0:2 and mmc:0:3. Two guests at once write
# and read back their whole partitions; vdisk is shut down and created again and a guest
# finds partition 2's data; a guest asking for the whole card beside partition 2, or for a
# partition the card does not have, is refused with a line naming it. Then fio with verify,
# ext4 and a driver reload on partition 4 (tests/rig/guest/blk.sh), and the hostile guest on
# partition 1 (reads, writes and discards across and past its end, a flush storm), which the
# host then finds unchanged. Last, a guest's acknowledged write, and QEMU killed right after
# (run.sh: RIG_KILL_ON): the host finds the block in the image. FLASK (vdisk_t).
# Needs /rig/vdisk.img, /rig/vdisk.cfg, /rig/sd-dt.dtb, /rig/hostile.img, /rig/domu/Image,
# /rig/domu/blk.cpio.zst, tests/rig/guest at /rig/guest.
set -u
# shellcheck disable=SC1091 # put there by boot.sh
. /rig/lib/rig.sh
# shellcheck disable=SC1091
. /rig/lib/guest.sh
VIRTIO='backend=vdisk, backendtype=standalone, specification=virtio'
BAR=0x10041000

# ---- the controller: QEMU's sdhci-pci (1b36:0007), no driver in dom0, memory decoding on ----
if ! rig_sdhci_enable $BAR; then
	rig_summary
	exit 0
fi

SD_CFG="iomem = [ \"$(printf '%x' $((BAR >> 12))),1\" ]
device_tree = \"/rig/sd-dt.dtb\""
rig_vdisk_flask evtchn_bench=0 64 "$SD_CFG"
rig_check vdisk_found_the_card rig_wait_log 5 "$LOGF" "mmc: sdhci@10041000: SD"
rig_check vdisk_card_usable rig_wait_log 5 "$LOGF" "backend: 1 of 1 SD card(s) usable"

# guest_script TAG MODE: the guest script with its settings in front
guest_script() {
	{
		echo "SD_TAG=$1 SD_MODE=$2"
		cat /rig/guest/sd.sh
	} >"/tmp/sd-$1-$2.sh"
	echo "/tmp/sd-$1-$2.sh"
}

# ---- two guests at once, each on its own partition ----
(rig_guest_run sd_p3 "$(guest_script p3 write)" "$VIRTIO, vdev=xvda, target=mmc:0:3" \
	>/tmp/sd-p3.out 2>&1) &
p3=$!
rig_guest_run sd_p2 "$(guest_script p2 write)" "$VIRTIO, vdev=xvda, target=mmc:0:2"
wait "$p3"
cat /tmp/sd-p3.out
RIG_FAILS=$((RIG_FAILS + $(grep -c "RIG-TEST: FAIL" /tmp/sd-p3.out)))
rig_check vdisk_served_p2 grep -q "SD card 0 partition 2: sectors 10240+16384" "$LOGF"
rig_check vdisk_served_p3 grep -q "SD card 0 partition 3: sectors 26624+16384" "$LOGF"

# ---- refusals: the whole card beside partition 2 (both writable), a partition not there ----
# (In subshells: the guest's own tests fail here on purpose and must not count.)
(RIG_GUEST_TIMEOUT=30 rig_guest_run sd_overlap /dev/null "$VIRTIO, vdev=xvda, target=mmc:0:2" \
	"$VIRTIO, vdev=xvdb, target=mmc:0") >/tmp/sd-overlap.out 2>&1
rig_check overlap_xl_create_fails grep -q "FAIL sd_overlap.xl_create" /tmp/sd-overlap.out
rig_check overlap_refused_with_both_named grep -q \
	"mmc:0 (sectors 0+131072) overlaps mmc:0:2 of dom[0-9]*/51712 (sectors 10240+16384)" "$LOGF"
(RIG_GUEST_TIMEOUT=30 rig_guest_run sd_nopart /dev/null "$VIRTIO, vdev=xvda, target=mmc:0:9") \
	>/tmp/sd-nopart.out 2>&1
rig_check missing_partition_xl_create_fails grep -q "FAIL sd_nopart.xl_create" /tmp/sd-nopart.out
rig_check missing_partition_refused grep -q \
	"mmc:0:9: the card's partition table has no such partition" "$LOGF"

# ---- vdisk stopped and created again: partition 2 still holds what was written ----
readies=$(grep -c "vdisk: ready" "$LOGF")
xl shutdown -w vdisk >/dev/null 2>&1 || xl destroy vdisk
rig_wait_gone 30 vdisk
xl create /tmp/vdisk.cfg
rig_check vdisk_ready_again rig_wait_for 60 sh -c "[ \$(grep -c 'vdisk: ready' '$LOGF') -gt $readies ]"
rig_guest_run sd_p2_again "$(guest_script p2 verify)" "$VIRTIO, vdev=xvda, target=mmc:0:2"

# ---- the card as a Linux guest uses a disk: fio with verify, ext4, a driver reload (p4) ----
{
	echo "FIO_IOS=${SD_FIO_IOS:-100}"
	cat /rig/guest/blk.sh
} >/tmp/sd-blk.sh
rig_guest_run sd_p4 /tmp/sd-blk.sh "$VIRTIO, vdev=xvda, target=mmc:0:4"

# ---- the hostile guest on partition 1: nothing it asks reaches past the partition ----
echo "not an initramfs" >/tmp/hostile.initrd
RIG_GUEST_KERNEL=/rig/hostile.img RIG_GUEST_INITRD=/tmp/hostile.initrd RIG_GUEST_MEMORY=32 \
	rig_guest_run sd_hostile /dev/null "$VIRTIO, vdev=xvda, target=mmc:0:1"

state=$(xl list vdisk 2>/dev/null | awk 'NR == 2 { print $5 }')
case $state in
*c* | "") rig_fail vdisk_alive "vdisk's state is '$state'" ;;
*) rig_pass vdisk_alive ;;
esac
echo "--- vdisk's console ---"
tr -d '\r' <"$LOGF" | grep -E "mmc|sdhci|backend|ERROR|WARNING" | tail -n 40

# ---- the last step: a write the guest saw completed survives QEMU being killed ----
# The guest writes a block to partition 4 (4 MiB in) and says so; this scenario then ends
# its report and prints the line run.sh has boot.sh kill QEMU at (RIG_KILL_ON), with no
# shutdown of anything; the host then looks for the block in the image (write-through).
(rig_guest_run sd_ack /rig/guest/sd-ack.sh "$VIRTIO, vdev=xvda, target=mmc:0:4" \
	>/tmp/sd-ack.out 2>&1) &
rig_check ack_seen_by_the_guest rig_wait_for 120 grep -q "SD-ACKED" /tmp/rig-guest-sd_ack/console.raw
rig_summary
echo "RIG-SD-KILL-NOW"
sleep 600
