# Guest script of tests/rig/sd.sh: SD_TAG (p2 or p3) names the card partition /dev/vda is;
# SD_MODE "write" fills the whole disk with `yes vdisk-sd-$SD_TAG` (the pattern
# tools/rig/mk-sd-image.py checks on the host afterwards) and reads it back; "verify" only
# reads it back (after vdisk was shut down and created again).
# shellcheck shell=sh disable=SC1091
. /rig/glib.sh
g_need_disk vda
size=$(($(cat /sys/block/vda/size) * 512))
g_metric size_bytes "$size"
yes "vdisk-sd-$SD_TAG" | head -c "$size" >/tmp/pattern
if [ "$SD_MODE" = write ]; then
	t0=$(g_now_ms)
	if dd if=/tmp/pattern of=/dev/vda bs=64k oflag=direct conv=fsync 2>/tmp/dd.err; then
		g_pass whole_partition_write
	else
		g_fail whole_partition_write "$(tail -n 1 /tmp/dd.err)"
	fi
	g_metric write_ms $(($(g_now_ms) - t0))
fi
t0=$(g_now_ms)
dd if=/dev/vda of=/tmp/back bs=64k iflag=direct 2>/tmp/dd.err || g_fail read_back "$(tail -n 1 /tmp/dd.err)"
g_metric read_ms $(($(g_now_ms) - t0))
if cmp -s /tmp/pattern /tmp/back; then
	g_pass "${SD_MODE}_read_back"
else
	g_fail "${SD_MODE}_read_back" "$(cmp /tmp/pattern /tmp/back 2>&1 | head -n 1)"
fi
g_summary
