# Guest script for a guest created again with the disk line of an earlier one
# (tests/rig/guest-virtio.sh): the disk vdisk serves it still holds what the earlier guest
# left — the whole disk hashes to the VDA_SHA256 that guest printed (the scenario puts
# "VDA_SHA256=<hash>" in front of this script), and its ext4 file system checks clean and holds
# the file that guest wrote.
# shellcheck shell=sh disable=SC1091
. /rig/glib.sh
g_need_disk vda
sha=$(dd if=/dev/vda bs=1M iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ -n "${VDA_SHA256:-}" ] && [ "$sha" = "$VDA_SHA256" ]; then
	g_pass data_intact_after_recreate
else
	g_fail data_intact_after_recreate "sha256 ${VDA_SHA256:-none} before destroy, $sha now"
fi
g_check fsck_ext4 fsck.ext4 -f -n /dev/vda
mkdir -p /mnt/vda
if mount -t ext4 -o ro /dev/vda /mnt/vda; then
	g_check ext4_file_intact sh -c 'cd /mnt/vda && sha256sum -c data.sha256'
	umount /mnt/vda
else
	g_fail ext4_mount "mount -o ro failed"
fi
g_summary
