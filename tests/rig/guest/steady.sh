# Guest script: the well-behaved neighbour of tests/rig/hostile.sh. Writes 4 MiB of random data
# to /dev/vda and reads it back (O_DIRECT) over and over while another guest attacks the same
# vdisk; every round must read back what was written. It runs until dom0 says stop with
# `xl sysrq <this guest> s` (the kernel logs "sysrq: Emergency Sync"), so that it outlives the
# attacks however long they take, or at most STEADY_SECONDS (default 90).
# shellcheck shell=sh disable=SC1091
. /rig/glib.sh
g_need_disk vda
echo 1 >/proc/sys/kernel/sysrq # every sysrq key, whatever the kernel's default mask
dd if=/dev/urandom of=/tmp/a bs=64k count=64 2>/dev/null
dd if=/dev/urandom of=/tmp/b bs=64k count=64 2>/dev/null
echo "STEADY: running"
end=$(($(g_now_ms) + ${STEADY_SECONDS:-90} * 1000))
rounds=0 bad=0 why="time is up"
while [ "$(g_now_ms)" -lt "$end" ]; do
	if dmesg | grep -q "sysrq: Emergency Sync"; then
		why="stopped by dom0"
		break
	fi
	for f in /tmp/a /tmp/b; do
		dd if=$f of=/dev/vda bs=64k oflag=direct conv=fsync 2>/dev/null || bad=$((bad + 1))
		dd if=/dev/vda of=/tmp/back bs=64k count=64 iflag=direct 2>/dev/null || bad=$((bad + 1))
		cmp -s $f /tmp/back || { bad=$((bad + 1)); echo "STEADY: round $rounds: read-back differs"; }
		rounds=$((rounds + 1))
		echo "STEADY: round $rounds done"
	done
done
echo "STEADY: $why after $rounds rounds"
g_metric rounds "$rounds"
if [ "$rounds" -gt 0 ] && [ "$bad" = 0 ]; then
	g_pass write_read_rounds
else
	g_fail write_read_rounds "$bad bad of $rounds rounds"
fi
g_summary
