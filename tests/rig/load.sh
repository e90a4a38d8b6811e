# dom0 scenario: four Linux guests at once, each writing random 4 KiB blocks at QD32 to its own
# vdisk disk for LOAD_SECONDS (60) of guest time with every block verified as it goes
# (tests/rig/guest/load.sh), all starting at the same second. The disks are RAM disks that
# hold each request a pseudo-random 20-400 us (latency=MIN-MAX), so requests come back from the
# disk out of order, as a real medium's would. Checks: every guest started on time, its fio
# passed with no verify error and ran that long, vdisk completed requests out of order
# (its stats' out_of_order), is still running and logged nothing bad, and each guest's IOPS is
# within 25% of the four's mean. Booted with -icount by tests/rig/run.sh: one CPU whose time
# is instructions, so Xen's scheduler shares it by guest time, not by how the host happened
# to run QEMU's threads (under plain TCG the same run spread 0.05-0.35 from the mean).
# Halfway through, dom0 reads vdisk's latency histograms of the four devices.
# FLASK: vdisk_t serves the four domU_t guests. Needs /rig/domu/Image, /rig/domu/blk.cpio.zst,
# tests/rig/guest at /rig/guest.
set -u
# shellcheck disable=SC1091 # put there by boot.sh
. /rig/lib/rig.sh
# shellcheck disable=SC1091
. /rig/lib/guest.sh
LOAD_SECONDS=${LOAD_SECONDS:-60}
DISK='backend=vdisk, backendtype=standalone, specification=virtio, vdev=xvda, target=ram:16M,latency=20us-400us'

rig_vdisk_flask evtchn_bench=0 128

# The four start together, LOAD_LEAD seconds from now (creating and booting four guests at
# once takes about 45 s here), and run LOAD_SECONDS side by side.
LOAD_START=$(($(date +%s) + ${LOAD_LEAD:-90}))
{
	echo "LOAD_SECONDS=$LOAD_SECONDS"
	echo "LOAD_START=$LOAD_START"
	cat /rig/guest/load.sh
} >/tmp/load-guest.sh
export RIG_GUEST_INITRD=/rig/domu/blk.cpio.zst RIG_GUEST_MEMORY=320
export RIG_GUEST_TIMEOUT=$((LOAD_SECONDS * 4 + 300)) RIG_GUEST_POLL_MS=2000
pids=""
for n in 1 2 3 4; do
	rig_guest_run "load$n" /tmp/load-guest.sh "$DISK" >"/tmp/load$n.out" 2>&1 &
	pids="$pids $!"
done
# Halfway through, vdisk's own latency histograms as an operator reads them (vdisk-dom0
# latency): one set per guest's device, with requests and IOREQs counted, quantiles in order.
# (The guests' clocks may run behind dom0's: wait until all four say they started, looking
# every 2 s only, as dom0's CPU is theirs too.)
started=0
while [ "$started" -lt 4 ] && [ "$(date +%s)" -lt $((LOAD_START + 600)) ]; do
	sleep 2
	started=$(cat /tmp/rig-guest-load[1-4]/console.raw 2>/dev/null | grep -c "load_started_on_time")
done
sleep $((LOAD_SECONDS / 2))
rig_check vdisk_dom0_latency sh -c "/rig/vdisk-dom0 latency $VDISK_DOMID >/tmp/latency.txt"
cat /tmp/latency.txt
rig_check latency_of_four_devices test "$(awk '$2 == "service"' /tmp/latency.txt | wc -l)" = 4
rig_check latency_counted awk '
	$1 == "upcall" { next }
	{ n++; for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
	!(v["count"] >= 100 && v["p50_ns"] <= v["p99_ns"] && v["p99_ns"] <= v["max_ns"] && v["max_ns"] > 0) { bad = 1 }
	END { exit bad || n != 8 }' /tmp/latency.txt
awk '$2 == "service" { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	printf "RIG-METRIC: latency_%s_service_p50_us=%d\nRIG-METRIC: latency_%s_service_p99_us=%d\n",
		$1, v["p50_ns"] / 1000, $1, v["p99_ns"] / 1000 }' /tmp/latency.txt
# shellcheck disable=SC2086 # one pid a word
wait $pids
for n in 1 2 3 4; do
	cat "/tmp/load$n.out"
	RIG_FAILS=$((RIG_FAILS + $(grep -c '^RIG-TEST: FAIL' "/tmp/load$n.out")))
done

# Requests the disks gave back before an older one of the same device (vdisk's counter).
stats=$(rig_vdisk_stats load-end)
ooo=$(echo "$stats" | sed -n 's/.* out_of_order=\([0-9]*\).*/\1/p')
rig_metric load_out_of_order "${ooo:-none}"
rig_check load_completed_out_of_order test "${ooo:-0}" -gt 0

# Each guest's IOPS against the mean of the four (issue 10: within 25%).
iops=$(for n in 1 2 3 4; do sed -n "s/^RIG-METRIC: load$n.load_iops=\([0-9]*\).*/\1/p" "/tmp/load$n.out"; done)
if [ "$(echo "$iops" | grep -c .)" = 4 ]; then
	mean=$(echo "$iops" | awk '{ s += $1 } END { printf "%d", s / NR }')
	rig_metric load_iops_mean "$mean"
	spread=$(echo "$iops" | awk -v m="$mean" '{ d = ($1 - m) / m; if (d < 0) d = -d; if (d > w) w = d } END { printf "%.3f", w }')
	rig_metric load_iops_worst_deviation "$spread"
	rig_check load_iops_within_25pct_of_mean awk -v w="$spread" 'BEGIN { exit !(w <= 0.25) }'
else
	rig_fail load_iops_within_25pct_of_mean "IOPS of $(echo "$iops" | grep -c .) guests, not 4: $(echo $iops)"
fi

rig_check vdisk_still_running xl domid vdisk
rig_check vdisk_no_crash_line sh -c "! grep -q -E 'fatal:|exception:|ERROR' '$LOGF'"
echo "--- vdisk's console (backend lines) ---"
tr -d '\r' <"$LOGF" | grep -i -E "backend|ioreq|error|warn" | head -n 60
xl destroy vdisk
rig_summary
