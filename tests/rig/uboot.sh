# dom0 scenario of the boot through U-Boot (tools/rig/boot.sh --uboot), layout A: U-Boot's
# distro boot ran boot.scr from the disk tools/mkboot.py made, which loaded Xen, dom0's kernel
# and initramfs and edited the device tree; dom0's init created vdisk from
# /etc/xen/auto/vdisk.cfg (as xendomains would); a Linux guest gets a disk from vdisk and runs
# tests/rig/guest/blk.sh on it (fio with crc32c verify, ext4 and fsck, module reload).
# FLASK (--xsm flask): vdisk_t serves domU_t guests without set_target, so nothing in dom0 has
# to act between vdisk's start and the guest's.
# The host checks the console for U-Boot's and the script's lines (tests/rig/run.sh).
# Needs /etc/xen/auto/vdisk.cfg, /rig/vdisk.img, /rig/domu/Image, /rig/domu/blk.cpio.zst,
# tests/rig/guest at /rig/guest.
set -u
# shellcheck disable=SC1091 # put there by boot.sh
. /rig/lib/rig.sh
# shellcheck disable=SC1091
. /rig/lib/guest.sh
DISK='backend=vdisk, backendtype=standalone, specification=virtio, vdev=xvda, target=ram:64M'
LOGF=$(rig_console_log vdisk)

# The command lines the script put in /chosen reached Xen and dom0.
cmdline=$(xl info | sed -n 's/^xen_commandline *: //p')
case $cmdline in
*"flask=enforcing"*) rig_pass xen_bootargs_from_script ;;
*) rig_fail xen_bootargs_from_script "xen_commandline '$cmdline'" ;;
esac
grep -q "earlycon=xen" /proc/cmdline && rig_pass dom0_bootargs_from_script ||
	rig_fail dom0_bootargs_from_script "/proc/cmdline: $(cat /proc/cmdline)"

# Layout A: vdisk came up with dom0, from /etc/xen/auto, before this script ran.
rig_check vdisk_started_at_boot xl domid vdisk
rig_check vdisk_ready rig_wait_log 60 "$LOGF" "vdisk: ready"
export RIG_GUEST_SECLABEL=system_u:system_r:domU_t
rig_guest_run blk /rig/guest/blk.sh "$DISK"

echo "--- vdisk's console ---"
tr -d '\r' <"$LOGF" | tail -n 30
rig_summary
