# Guest script: how the virtio-mmio disk probes in this guest (no judgement beyond "a disk
# appeared"): waits up to 25 s for /dev/vda, prints the kernel's virtio /
# deferred-probe lines with their times, and if it is there reads it a little, writes 4 MiB of
# random data with O_DIRECT and checks it reads back.
# shellcheck shell=sh disable=SC1091
. /rig/glib.sh
t0=$(g_now_ms)
if g_wait_for 25 test -b /dev/vda; then
	g_metric vda_seen_uptime_ms "$(g_now_ms)"
	g_pass vda_present
	echo "vda: $(cat /sys/block/vda/size) sectors"
	if dd if=/dev/vda of=/dev/null bs=4k count=16; then g_pass vda_read; else g_fail vda_read "dd read failed"; fi
	# 4 MiB of this guest's own random data through O_DIRECT, read back: with two guests at
	# once, each must find its own data (their disks are separate RAM disks in one vdisk)
	dd if=/dev/urandom of=/tmp/pattern bs=1M count=4 2>/dev/null
	want=$(sha256sum </tmp/pattern | cut -d' ' -f1)
	if dd if=/tmp/pattern of=/dev/vda bs=1M oflag=direct 2>/dev/null; then
		got=$(dd if=/dev/vda bs=1M count=4 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
		if [ "$got" = "$want" ]; then g_pass vda_pattern; else g_fail vda_pattern "sha256 $got, wrote $want"; fi
	else
		g_fail vda_pattern "O_DIRECT write failed"
	fi
else
	g_fail vda_present "no /dev/vda after $(($(g_now_ms) - t0)) ms"
fi
dmesg | grep -i -E "virtio|deferred|iommu|grant|vda|Unable to handle|Internal error|abort" | head -n 30
g_summary
