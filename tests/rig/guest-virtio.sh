# dom0 scenario: a Linux guest uses a virtio-blk disk served by vdisk
#   disk = [ 'backend=vdisk, backendtype=standalone, specification=virtio, vdev=xvda, target=ram:64M' ]
# and runs tests/rig/guest/blk.sh on it (fio verify, mkfs.ext4, mount, fsck). Works under both
# XSM modes of tools/rig/boot.sh: with FLASK (--xsm flask) vdisk runs as vdisk_t and the guest as
# domU_t; with the dummy policy dom0 gives vdisk the guest as its target
# (vdisk-dom0 set-target, while xl create -p waits for the backend).
# Needs /rig/vdisk.img, /rig/vdisk.cfg, /rig/vdisk-dom0, /rig/domu/Image, /rig/domu/blk.cpio.zst,
# tests/rig/guest at /rig/guest.
set -u
# shellcheck disable=SC1091 # put there by boot.sh
. /rig/lib/rig.sh
# shellcheck disable=SC1091
. /rig/lib/guest.sh
DISK='backend=vdisk, backendtype=standalone, specification=virtio, vdev=xvda, target=ram:64M'

sed -e 's/^extra = .*/extra = "evtchn_bench=0"/' -e 's/^memory = .*/memory = 128/' /rig/vdisk.cfg |
	grep -v '^seclabel' >/tmp/vdisk.cfg
case $(flask-getenforce 2>/dev/null) in
Enforcing | Permissive)
	echo 'seclabel = "system_u:system_r:vdisk_t"' >>/tmp/vdisk.cfg
	export RIG_GUEST_SECLABEL=system_u:system_r:domU_t
	;;
*) ;;
esac
LOGF=$(rig_console_log vdisk)
xl create /tmp/vdisk.cfg
rig_check vdisk_ready rig_wait_log 60 "$LOGF" "vdisk: ready"
if [ -z "${RIG_GUEST_SECLABEL:-}" ]; then
	RIG_GUEST_ON_CREATE="/rig/vdisk-dom0 set-target $(xl domid vdisk)"
	export RIG_GUEST_ON_CREATE
fi

rig_guest_run blk /rig/guest/blk.sh "$DISK"

echo "--- vdisk's console (backend lines) ---"
tr -d '\r' <"$LOGF" | grep -i -E "backend|ioreq|virtio|blk|error|warn"
xl destroy vdisk
rig_summary
