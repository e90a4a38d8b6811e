# dom0 scenario for virtio-blk (issue 3), dummy XSM policy: vdisk serves two RAM disks
# (one read-only) to an unmodified Debian Linux guest created with stock xl. dom0 grants
# vdisk device-model rights with set_target once the guest exists.
# Expects /rig/vdisk.img, /rig/vdisk-dom0, /rig/vdisk.cfg, /rig/Image, /rig/domu.cpio.
set -u
. /rig/lib/rig.sh
LOGF=/var/log/xen/console/guest-vdisk.log

sed 's/^extra = .*/extra = "evtchn_bench=0"/; s/^memory = .*/memory = 64/' /rig/vdisk.cfg >/tmp/vdisk.cfg
xl create /tmp/vdisk.cfg
rig_wait_log 60 "$LOGF" "vdisk: ready" || rig_fail vdisk_ready "no 'vdisk: ready'"
VDISK=$(xl domid vdisk)

cat >/tmp/guest.cfg <<EOF2
name = "guest"
kernel = "/rig/Image"
ramdisk = "/rig/domu.cpio"
extra = "console=hvc0 quiet deferred_probe_timeout=1"
memory = 256
disk = [ 'backend=vdisk, backendtype=standalone, specification=virtio, vdev=xvda, target=ram:16M',
         'backend=vdisk, backendtype=standalone, specification=virtio, vdev=xvdb, access=ro, target=ram:8M' ]
EOF2
# xl create waits for vdisk's InitWait, which needs the rights: grant them meanwhile.
# The guest's id appears first as a directory under vdisk's backend path (cheaper than xl).
(xl create -p /tmp/guest.cfg >/tmp/create.out 2>&1; echo $? >/tmp/create.rc) &
rig_wait_for 30 xenstore-list /local/domain/$VDISK/backend/virtio_disk
GUEST=$(xenstore-list /local/domain/$VDISK/backend/virtio_disk | head -n 1)
/rig/vdisk-dom0 set-target "$VDISK" "$GUEST"
rig_wait_for 60 test -f /tmp/create.rc
if [ "$(cat /tmp/create.rc)" = 0 ]; then rig_pass xl_create_guest_with_vdisk_disks
else rig_fail xl_create_guest_with_vdisk_disks "$(cat /tmp/create.out)"; fi
st=$(xenstore-read /local/domain/$VDISK/backend/virtio_disk/$GUEST/51712/state 2>&1)
[ "$st" = 2 ] && rig_pass backend_initwait || rig_fail backend_initwait "state '$st'"

if xl list guest >/dev/null 2>&1; then
	timeout 300 xl console guest </dev/null >/tmp/guest.txt 2>&1 &
	sleep 0.5
	xl unpause guest
	rig_wait_for 240 grep -q "DOMU: script exit" /tmp/guest.txt ||
		rig_fail guest_finished "no 'script exit'"
else
	rig_fail guest_finished "no guest to run"
	: >/tmp/guest.txt
fi
grep -a "RIG-TEST:" /tmp/guest.txt | tr -d '\r'
grep -q "guest driver ready" "$LOGF" && rig_pass backend_connected_on_driver_ok ||
	rig_fail backend_connected_on_driver_ok "no 'guest driver ready'"

# The guest went away by itself (poweroff): vdisk tore the device down, libxl is happy.
rig_wait_gone 60 guest
rig_wait_log 20 "$LOGF" "dom$GUEST/51712: removed" && rig_pass teardown_on_guest_exit ||
	rig_fail teardown_on_guest_exit "device not removed"

echo "--- vdisk console ---"
cat "$LOGF"
echo "--- guest console ---"
tr -d '\r' </tmp/guest.txt | sed 's/RIG-TEST:/guest said:/' | tail -n 40
rig_summary
