# Runs inside the Linux guest (Debian's kernel, virtio_mmio + virtio_blk) as /rig/domu.sh.
# Disks: vda = ram:16M read-write, vdb = ram:8M read-only, both served by vdisk.
# Prints "RIG-TEST: PASS|FAIL name" lines; the dom0 scenario passes them on.
pass() { echo "RIG-TEST: PASS $1"; }
fail() { echo "RIG-TEST: FAIL $1: $2"; }

i=0
while { [ ! -b /dev/vda ] || [ ! -b /dev/vdb ]; } && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
dmesg | grep -E "virtio|vd[ab]" | tail -n 8
if [ -b /dev/vda ] && [ -b /dev/vdb ] && [ "$(cat /sys/block/vda/size)" = 32768 ] &&
	[ "$(cat /sys/block/vdb/size)" = 16384 ]; then
	pass guest_two_disks
else
	fail guest_two_disks "vda $(cat /sys/block/vda/size 2>&1), vdb $(cat /sys/block/vdb/size 2>&1)"
fi

# The whole of vda with a pseudo-random pattern, O_DIRECT both ways, compared by checksum.
dd if=/dev/urandom of=/tmp/pattern bs=65536 count=256 2>/dev/null
want=$(md5sum </tmp/pattern)
dd if=/tmp/pattern of=/dev/vda bs=65536 count=256 oflag=direct 2>/tmp/dd.err || cat /tmp/dd.err
dd if=/dev/vda of=/tmp/back bs=65536 count=256 iflag=direct 2>/tmp/dd.err || cat /tmp/dd.err
got=$(md5sum </tmp/back)
[ "$want" = "$got" ] && pass guest_whole_disk_pattern || fail guest_whole_disk_pattern "md5 $want != $got"
# Read again through the page cache, after dropping it.
echo 3 >/proc/sys/vm/drop_caches
[ "$(md5sum </dev/vda)" = "$want" ] && pass guest_buffered_read || fail guest_buffered_read "md5 differs"

# vdb is read-only: the kernel sees RO, a direct write fails, reads work.
ro=$(cat /sys/block/vdb/ro)
if dd if=/dev/zero of=/dev/vdb bs=4096 count=1 oflag=direct 2>/dev/null; then wrote=yes; else wrote=no; fi
if [ "$ro" = 1 ] && [ "$wrote" = no ] && dd if=/dev/vdb of=/dev/null bs=65536 iflag=direct 2>/dev/null; then
	pass guest_readonly_disk
else
	fail guest_readonly_disk "ro=$ro wrote=$wrote"
fi
