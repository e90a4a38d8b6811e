# Guest script: a virtio-blk disk served by vdisk works — /dev/vda appears; the fio 4 KiB job
# set (random read and write at QD1 and QD32, crc32c verify); mkfs.ext4 / mount / write / umount
# / fsck.ext4; the virtio_blk and virtio_mmio modules unloaded and loaded again (device reset and
# a new probe) with the disk's content unchanged. Ends by printing "VDA-SHA256: <hash>" of the
# whole disk, for a later guest to compare (tests/rig/guest/blk-again.sh).
# shellcheck shell=sh disable=SC1091
. /rig/glib.sh
g_need_disk vda
g_metric vda_seen_uptime_ms "$(g_now_ms)"
sectors=$(cat /sys/block/vda/size)
echo "vda: $sectors sectors, $(cat /sys/block/vda/queue/logical_block_size)-byte blocks, ro=$(cat /sys/block/vda/ro)"
if [ "$sectors" -gt 0 ]; then g_pass vda_size; else g_fail vda_size "size $sectors"; fi

t0=$(g_now_ms)
g_fio_set /dev/vda fio "${FIO_IOS:-500}"
g_metric fio_set_ms $(($(g_now_ms) - t0))

g_check mkfs_ext4 mkfs.ext4 -q -F /dev/vda
mkdir -p /mnt/vda
if mount -t ext4 /dev/vda /mnt/vda; then
	dd if=/dev/urandom of=/tmp/data bs=64k count=16 2>/dev/null
	cp /tmp/data /mnt/vda/data
	(cd /mnt/vda && sha256sum data >data.sha256) && sync
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

# Unload and reload the frontend: virtio_blk's remove resets the device (status 0), virtio_mmio's
# probe starts the handshake again; what the disk holds must not change.
vda_sha() { dd if=/dev/vda bs=1M iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1; }
before=$(vda_sha)
if rmmod virtio_blk && rmmod virtio_mmio; then
	g_pass modules_unloaded
	if g_wait_for 5 sh -c '! test -b /dev/vda'; then g_pass vda_gone; else g_fail vda_gone "/dev/vda still there"; fi
	grep -E '/virtio_mmio\.ko|/virtio_blk\.ko' /etc/rig/modules.load | while read -r m; do insmod "$m"; done
	if g_wait_for 20 test -b /dev/vda; then
		g_pass vda_after_reload
		after=$(vda_sha)
		if [ -n "$before" ] && [ "$before" = "$after" ]; then
			g_pass data_intact_after_reload
		else
			g_fail data_intact_after_reload "sha256 $before before, $after after"
		fi
	else
		g_fail vda_after_reload "no /dev/vda 20 s after insmod"
	fi
else
	g_fail modules_unloaded "rmmod virtio_blk virtio_mmio failed"
fi
echo "VDA-SHA256: $(vda_sha)"
dmesg | grep -i -E "virtio|vda|EXT4|I/O error" | tail -n 8
g_summary
