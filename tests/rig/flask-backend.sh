# dom0 scenario for Xen booted with FLASK (tools/rig/boot.sh --xsm flask, or flask-permissive to
# see every denial at once): vdisk labelled vdisk_t serves virtio disks to two guests labelled
# domU_t, one after the other and then both at once, with no set_target — the IOREQ server
# (hvm dm), its page (domain2 resource_map), foreign mapping of guest RAM (mmu map_read/write),
# the per-vCPU ioreq event channels and set_irq_level all go through tools/rig/flask/vdisk.te.
# Reports the AVC denials Xen logged (test flask_backend_no_denials).
# Needs /rig/vdisk.img (a vdisk that serves disks), /rig/vdisk.cfg, /rig/domu/Image, and
# /rig/domu/probe.cpio (see explore-libxl-virtio.sh), tests/rig/guest at /rig/guest.
set -u
# shellcheck disable=SC1091 # put there by boot.sh
. /rig/lib/rig.sh
# shellcheck disable=SC1091
. /rig/lib/guest.sh
DISK='backend=vdisk, backendtype=standalone, specification=virtio, vdev=xvda, target=ram:16M'
denials() { xl dmesg | tr -d '\r' | grep "avc: *denied"; }

echo "flask-getenforce: $(flask-getenforce 2>&1)"
sed -e 's/^extra = .*/extra = "evtchn_bench=0"/' -e 's/^memory = .*/memory = 128/' /rig/vdisk.cfg |
	grep -v '^seclabel' >/tmp/vdisk.cfg
echo 'seclabel = "system_u:system_r:vdisk_t"' >>/tmp/vdisk.cfg
LOGF=$(rig_console_log vdisk)
xl create /tmp/vdisk.cfg
rig_check vdisk_ready rig_wait_log 60 "$LOGF" "vdisk: ready"
xl list -Z

export RIG_GUEST_SECLABEL=system_u:system_r:domU_t RIG_GUEST_TIMEOUT=120
export RIG_GUEST_INITRD=/rig/domu/probe.cpio RIG_GUEST_MEMORY=256
# one guest, then another (new domid: set_target could not do this)
rig_guest_run fe1 /rig/guest/probe.sh "$DISK"
rig_guest_run fe2 /rig/guest/probe.sh "$DISK"
# two at once
rig_guest_run fe3 /rig/guest/probe.sh "$DISK" >/tmp/fe3.out 2>&1 &
p3=$!
rig_guest_run fe4 /rig/guest/probe.sh "$DISK" >/tmp/fe4.out 2>&1
wait $p3
cat /tmp/fe3.out /tmp/fe4.out
RIG_FAILS=$((RIG_FAILS + $(cat /tmp/fe3.out /tmp/fe4.out | grep -c '^RIG-TEST: FAIL')))

echo "--- vdisk's console (backend lines) ---"
tr -d '\r' <"$LOGF" | grep -i -E "backend|ioreq|virtio|blk|error|warn" | head -n 60
xl destroy vdisk
all=$(denials)
if [ -z "$all" ]; then
	rig_pass flask_backend_no_denials
else
	echo "AVC denials:"
	echo "$all"
	rig_fail flask_backend_no_denials "$(echo "$all" | wc -l) denial(s)"
fi
rig_summary
