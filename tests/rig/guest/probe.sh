# Guest script: how the virtio-mmio disk probes in this guest (no judgement beyond "a disk
# appeared"): waits up to 25 s for /dev/vda, prints the kernel's virtio /
# deferred-probe lines with their times, and reads/writes the disk a little if it is there.
# shellcheck shell=sh disable=SC1091
. /rig/glib.sh
t0=$(g_now_ms)
if g_wait_for 25 test -b /dev/vda; then
	g_metric vda_seen_uptime_ms "$(g_now_ms)"
	g_pass vda_present
	echo "vda: $(cat /sys/block/vda/size) sectors"
	if dd if=/dev/vda of=/dev/null bs=4k count=16; then g_pass vda_read; else g_fail vda_read "dd read failed"; fi
else
	g_fail vda_present "no /dev/vda after $(($(g_now_ms) - t0)) ms"
fi
dmesg | grep -i -E "virtio|deferred|iommu|grant|vda|Unable to handle|Internal error|abort" | head -n 30
g_summary
