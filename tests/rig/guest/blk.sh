# Guest script: a virtio-blk disk served by vdisk works — /dev/vda appears, fio writes and
# verifies it, mkfs.ext4 / mount / write / umount / fsck.ext4 on it.
# shellcheck shell=sh disable=SC1091
. /rig/glib.sh
if ! g_wait_for 20 test -b /dev/vda; then
	g_fail vda_present "no /dev/vda after 20 s"
	dmesg | grep -i -E "virtio|vda|deferred" | tail -n 10
	g_summary
	exit 1
fi
g_pass vda_present
g_metric vda_seen_uptime_ms "$(g_now_ms)"
sectors=$(cat /sys/block/vda/size)
echo "vda: $sectors sectors, $(cat /sys/block/vda/queue/logical_block_size)-byte blocks, ro=$(cat /sys/block/vda/ro)"
if [ "$sectors" -gt 0 ]; then g_pass vda_size; else g_fail vda_size "size $sectors"; fi

t0=$(g_now_ms)
if fio --eta=never --output=/tmp/fio.out --name=vda --filename=/dev/vda --size=2m --bs=4k \
	--rw=randwrite --ioengine=psync --direct=1 --verify=crc32c --do_verify=1; then
	grep -E "IOPS=|err=" /tmp/fio.out
	if grep -q "err= 0" /tmp/fio.out; then g_pass fio_verify; else g_fail fio_verify "$(grep err= /tmp/fio.out)"; fi
	g_metric fio_verify_ms $(($(g_now_ms) - t0))
else
	g_fail fio_verify "fio exit $?"
	cat /tmp/fio.out
fi

g_check mkfs_ext4 mkfs.ext4 -q -F /dev/vda
mkdir -p /mnt/vda
if mount -t ext4 /dev/vda /mnt/vda; then
	dd if=/dev/urandom of=/tmp/data bs=64k count=16 2>/dev/null
	cp /tmp/data /mnt/vda/data && sync
	g_check ext4_umount umount /mnt/vda
	echo 3 >/proc/sys/vm/drop_caches
	g_check fsck_ext4 fsck.ext4 -f -n /dev/vda
	if mount -t ext4 -o ro /dev/vda /mnt/vda; then
		g_check ext4_data_back cmp /tmp/data /mnt/vda/data
		umount /mnt/vda
	else
		g_fail ext4_remount "mount -o ro failed"
	fi
else
	g_fail ext4_mount "mount failed"
fi
dmesg | grep -i -E "virtio|vda|EXT4|I/O error" | tail -n 8
g_summary
