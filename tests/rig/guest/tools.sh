# Guest script (runs inside a Linux test guest, see tests/rig/lib/guest.sh): the block-test
# userland works — fio on a RAM file, mkfs.ext4/fsck.ext4, an ext4 mount (loop), the modules.
# shellcheck shell=sh disable=SC1091
. /rig/glib.sh

for m in virtio_mmio virtio_blk ext4 jbd2 mbcache crc32c_generic loop; do
	grep -q "^$m " /proc/modules || g_fail "module_$m" "not loaded"
done
g_pass modules_checked
echo "kernel: $(uname -r), cmdline: $(cat /proc/cmdline)"

v=$(fio --version 2>&1)
echo "fio --version: $v"
case $v in fio-3.*) g_pass fio_version ;; *) g_fail fio_version "'$v'" ;; esac

# A tiny fio job on a file in the initramfs (RAM): write with checksums, then verify.
cat >/tmp/ram.fio <<'JOB'
[global]
filename=/tmp/fio.dat
size=4m
bs=4k
ioengine=psync
[write-verify]
rw=randwrite
verify=crc32c
do_verify=1
[read]
stonewall
rw=randread
JOB
t0=$(g_now_ms)
if fio --eta=never --output=/tmp/fio.out /tmp/ram.fio; then
	g_metric fio_job_ms $(($(g_now_ms) - t0))
	grep -E "^(write-verify|read): |IOPS=|err=" /tmp/fio.out
	if grep -q "write-verify: (groupid=0.*err= 0" /tmp/fio.out && grep -q "read: (groupid=1.*err= 0" /tmp/fio.out; then
		g_pass fio_ram_job
	else
		g_fail fio_ram_job "unexpected output"
		cat /tmp/fio.out
	fi
else
	g_fail fio_ram_job "fio exit $?"
	cat /tmp/fio.out
fi
rm -f /tmp/fio.dat

# ext4 on a 32 MiB file: mkfs, fsck, loop mount, write, umount, fsck again.
dd if=/dev/zero of=/tmp/ext4.img bs=1M count=32 2>/dev/null
g_check mkfs_ext4 mkfs.ext4 -q -F /tmp/ext4.img
g_check fsck_ext4_clean fsck.ext4 -f -n /tmp/ext4.img
mkdir -p /mnt/t
if mount -t ext4 -o loop /tmp/ext4.img /mnt/t; then
	echo "hello ext4" >/mnt/t/hello && sync
	g_check ext4_file_written grep -q "hello ext4" /mnt/t/hello
	grep /mnt/t /proc/mounts
	g_check ext4_umount umount /mnt/t
	g_check fsck_ext4_after_use fsck.ext4 -f -n /tmp/ext4.img
else
	g_fail ext4_mount "mount -o loop failed"
fi
dmesg | grep -i -E "ext4|loop" | tail -n 5
g_summary
