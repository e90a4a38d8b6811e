# Guest script of tests/rig/sd.sh's last step: one 4 KiB block of "vdisk-sd-acked" lines
# written to /dev/vda (partition 4) 4 MiB in, O_DIRECT and fsync'd; "SD-ACKED" once the
# write completed, then nothing: dom0 has QEMU killed, and the host looks for the block
# (tools/rig/mk-sd-image.py check).
# shellcheck shell=sh disable=SC1091
. /rig/glib.sh
g_need_disk vda
yes vdisk-sd-acked | head -c 4096 >/tmp/acked
if dd if=/tmp/acked of=/dev/vda bs=4096 seek=1024 oflag=direct conv=fsync 2>/tmp/dd.err; then
	echo "SD-ACKED"
else
	g_fail acked_write "$(tail -n 1 /tmp/dd.err)"
fi
sleep 600
