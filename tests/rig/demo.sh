# dom0 scenario behind `make run`: Xen runs with FLASK enforcing; dom0 creates vdisk (as
# vdisk_t) with xl, then a Debian Linux guest (domU_t) whose xl disk line asks vdisk for a RAM
# disk; the guest runs the fio 4 KiB job set on /dev/vda and the figures are printed as a table.
# Lines for the user start with "DEMO:"; tests/rig/run.sh --demo prints only those.
# Needs what tests/rig/guest-virtio.sh needs.
set -u
# shellcheck disable=SC1091 # put there by boot.sh
. /rig/lib/rig.sh
# shellcheck disable=SC1091
. /rig/lib/guest.sh
say() { echo "DEMO: $*"; }
DISK='backend=vdisk, backendtype=standalone, specification=virtio, vdev=xvda, target=ram:64M'
IOS=300

say "Xen $(xl info | sed -n 's/^xen_version *: //p'), XSM: FLASK $(flask-getenforce 2>&1)"
sed -e 's/^extra = .*/extra = "evtchn_bench=1000"/' -e 's/^memory = .*/memory = 80/' /rig/vdisk.cfg |
	grep -v '^seclabel' >/tmp/vdisk.cfg
echo 'seclabel = "system_u:system_r:vdisk_t"' >>/tmp/vdisk.cfg
say "dom0: xl create vdisk.cfg"
sed 's/^/DEMO:   | /' /tmp/vdisk.cfg
LOGF=$(rig_console_log vdisk)
t0=$(rig_now_ms)
xl create /tmp/vdisk.cfg >/dev/null || exit 1
rig_wait_log 60 "$LOGF" "vdisk: ready" || { say "vdisk did not start"; tail -n 20 "$LOGF"; exit 1; }
say "vdisk ready $(($(rig_now_ms) - t0)) ms after xl create (wall time, QEMU TCG); its console:"
tr -d '\r' <"$LOGF" | sed 's/^/DEMO:   /'

say "dom0: xl create guest.cfg  (Debian's arm64 kernel, virtio_mmio + virtio_blk, fio)"
say "  | disk = [ '$DISK' ]"
export RIG_GUEST_SECLABEL=system_u:system_r:domU_t
{ echo "IOS=$IOS"; cat /rig/guest/fio-demo.sh; } >/tmp/fio-demo.sh
rig_guest_run guest /tmp/fio-demo.sh "$DISK" >/tmp/guest.out 2>&1
ok=$?
sed -n 's/^guest| \(vda: .*\)/DEMO:   guest: \1/p' /tmp/guest.out
metric() { sed -n "s/^RIG-METRIC: guest\.fio_$1=//p" /tmp/guest.out | tail -n 1; }
say "fio in the guest: 4 KiB blocks, libaio, O_DIRECT, crc32c verify, $IOS I/Os a job, 8 MiB span"
say "$(printf '  %-12s %5s %8s %10s %10s' job QD IOPS 'p50 µs' 'p99 µs')"
for rw in randread randwrite; do
	for qd in 1 32; do
		j=${rw}_qd$qd
		say "$(printf '  %-12s %5s %8s %10s %10s' "$rw" "$qd" "$(metric "${j}_iops")" \
			"$(metric "${j}_p50_us")" "$(metric "${j}_p99_us")")"
	done
done
say "(latency from submission to completion, as fio measures it in the guest; QEMU TCG wall time on this machine;"
say " make bench gives repeatable -icount figures, vdisk beside Linux's blkback)"
if [ "$ok" != 0 ]; then
	say "the guest run FAILED:"
	grep -E "RIG-TEST: FAIL|GUEST-TEST: FAIL" /tmp/guest.out | sed 's/^/DEMO:   /'
fi
say "vdisk's console since the guest started:"
tr -d '\r' <"$LOGF" | sed -n '/backend: dom[0-9]* disk/,$p' | sed 's/^/DEMO:   /'
say "dom0: xl shutdown -w vdisk"
timeout 60 xl shutdown -w vdisk >/dev/null
tr -d '\r' <"$LOGF" | tail -n 1 | sed 's/^/DEMO:   /'
[ "$ok" = 0 ]
