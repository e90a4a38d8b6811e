# dom0 scenario: the Linux test guest for the virtio-blk tests works (no disk yet): fio,
# mkfs.ext4/fsck.ext4 and an ext4 mount inside it, results through `xl console`.
# Needs /rig/domu/Image, /rig/domu/blk.cpio.zst (tools/rig/mk-domu-initrd.sh --blk) and
# tests/rig/guest at /rig/guest. Optional: RIG_GUEST_SECLABEL (e.g. under --xsm flask).
set -u
# shellcheck disable=SC1091 # put there by boot.sh
. /rig/lib/rig.sh
# shellcheck disable=SC1091
. /rig/lib/guest.sh
rig_guest_run tools /rig/guest/tools.sh
rig_summary
