# dom0 scenario: a Linux guest uses a virtio-blk disk served by vdisk
#   disk = [ 'backend=vdisk, backendtype=standalone, specification=virtio, vdev=xvda, target=ram:64M' ]
# and runs tests/rig/guest/blk.sh on it (fio job set, ext4, module reload), then destroys the
# guest, creates it again and checks the disk with tests/rig/guest/blk-again.sh. Works under both
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
# The same disk line for a guest created again (a new domain): vdisk keeps the RAM disk of a
# destroyed guest and gives it back to the next frontend with the same devid and size. Only
# under FLASK: with the dummy policy vdisk's one set_target was the first guest's.
if [ -n "${RIG_GUEST_SECLABEL:-}" ]; then
	sha=$(sed -n 's/^VDA-SHA256: \([0-9a-f]\{64\}\)$/\1/p' "$RIG_GUEST_CONSOLE" | tail -n 1)
	{ echo "VDA_SHA256=$sha"; cat /rig/guest/blk-again.sh; } >/tmp/blk-again.sh
	rig_guest_run blk-again /tmp/blk-again.sh "$DISK"
fi

# the guest's module reload reached vdisk as a device reset (status 0 after DRIVER_OK)
rig_check vdisk_saw_driver_reset grep -q "reset by the driver" "$LOGF"
# after serving, with nothing to do, vdisk sleeps (issue 10: no spinning on several CPUs)
VDISK_DOMID=$(xl domid vdisk)
rig_vdisk_sleeps idle 3

echo "--- vdisk's console (backend lines) ---"
tr -d '\r' <"$LOGF" | grep -i -E "backend|ioreq|virtio|blk|reset|error|warn"
xl destroy vdisk
rig_summary
