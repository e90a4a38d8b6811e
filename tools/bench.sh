#!/bin/bash
# shellcheck disable=SC2015 # "A && B || C" is meant as "unless A and B, C"
# make bench: the fio 4 KiB job set (tests/rig/lib/guest-lib.sh g_fio_set) against vdisk's
# virtio-blk disk and against Linux's own PV block path (xen-blkback in dom0 over a brd RAM
# disk, xen-blkfront in the guest), in one guest of one rig boot under QEMU -icount (guest
# time, so the figures repeat), side by side; plus vdisk's hypercalls and IOREQs per request.
# A benchmark, not a test: it is not part of `make test`.
#   tools/bench.sh [IOS]     IOS: I/Os per fio job, at most 2048 (default $BENCH_IOS or 2048):
#                            the jobs cover an 8 MiB region in 4 KiB blocks, each block once
# Env: GIC (3 or 2, default 3), BENCH_TIMEOUT (seconds for the boot, default 1800).
# Prints the table; exit status 1 (with the reason) when the run failed.
set -eu -o pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
IOS=${1:-${BENCH_IOS:-2048}}
GIC=${GIC:-3}
case $IOS in '' | *[!0-9]*) echo "bench: IOS must be a number, got '$IOS'" >&2; exit 2 ;; esac
# fio's number_ios only cuts a job short: past 8 MiB / 4 KiB the jobs would stop at 2048 anyway
[ "$IOS" -ge 1 ] && [ "$IOS" -le 2048 ] ||
	{ echo "bench: IOS must be 1..2048 (the jobs' 8 MiB region in 4 KiB blocks), got $IOS" >&2; exit 2; }
cache=${VDISK_CACHE:-$HOME/.cache/vdisk}
out=build/bench
log=$out/bench-gic$GIC.log
mkdir -p "$out"
fail() { echo "bench: FAILED: $*" >&2; exit 1; }

# ---- what the boot needs ----
make -s build/vdisk.img
tools/rig/fetch.sh
tools/rig/mk-dom0.sh
kabi=$(cat "$cache/dom0/kernel-version")
# dom0: brd and xen-blkback with their dependencies, loaded by the scenario
rm -rf "$out/dom0-mods"
mkdir -p "$out/dom0-mods"
tools/rig/kmods.sh "$cache/sysroot" "$kabi" "$out/dom0-mods" brd xen-blkback \
	>"$out/dom0-mods/modules.load" || fail "dom0 kernel modules brd, xen-blkback"
# guest: fio, virtio-blk and blkfront
tools/rig/mk-domu-initrd.sh "$out/bench.cpio.zst" --blk \
	--modules "virtio_mmio virtio_blk xen_blkfront" >/dev/null
echo "BENCH_IOS=$IOS" >"$out/bench.env"

cmd=(tools/rig/boot.sh --gic "$GIC" --icount --xsm flask --scenario tests/rig/bench.sh
	--timeout "${BENCH_TIMEOUT:-1800}" --log "$log"
	--add build/vdisk.img:/rig/vdisk.img --add tests/rig/vdisk.cfg:/rig/vdisk.cfg
	--add "$cache/dom0/Image:/rig/domu/Image" --add "$out/bench.cpio.zst:/rig/domu/bench.cpio.zst"
	--add tests/rig/guest:/rig/guest --add "$out/dom0-mods:/rig/dom0-mods"
	--add "$out/bench.env:/rig/bench.env")
echo "bench: ${cmd[*]}"
start=$(date +%s)
rc=0
"${cmd[@]}" >"$log.raw" 2>&1 || rc=$?
wall=$(($(date +%s) - start))
clean=$(tr -d '\r' <"$log")
if [ "$rc" != 0 ] || ! grep -q "RIG-SUMMARY: 0 failure" <<<"$clean"; then
	grep -a "RIG-TEST: FAIL\|BENCH-STATS-FAIL\|rig: \(FAIL\|TIMEOUT\)" <<<"$clean" "$log.raw" | head -n 20 >&2 || true
	tail -n 30 <<<"$clean" | sed 's/^/    /' >&2
	fail "the rig run did not pass (boot status $rc, ${wall}s wall; log: $log)"
fi

# ---- table ----
metric() { sed -n "s/.*RIG-METRIC: $1=\([0-9.]*\).*/\1/p" <<<"$clean" | tail -n 1; }
echo
echo "vdisk vs. xen-blkback: fio 4 KiB, $IOS I/Os per job, 64 MiB RAM disks, one guest (1 vCPU)"
echo "times are QEMU -icount guest time (shift=0: 1 instruction = 1 ns), not wall-clock time;"
echo "p50/p99: fio's total latency (submission + completion) in microseconds;"
echo "GICv$GIC, Xen FLASK, rig boot ${wall}s wall"
echo
printf '%-15s | %9s %8s %8s | %9s %8s %8s | %6s\n' "" vdisk "" "" blkback "" "" ratio
printf '%-15s | %9s %8s %8s | %9s %8s %8s | %6s\n' job IOPS "p50 us" "p99 us" IOPS "p50 us" "p99 us" IOPS
missing=0
for job in randread_qd1 randread_qd32 randwrite_qd1 randwrite_qd32; do
	v=() b=()
	for k in iops p50_us p99_us; do
		v+=("$(metric "bench.vdisk_${job}_$k")")
		b+=("$(metric "bench.blkback_${job}_$k")")
	done
	for x in "${v[@]}" "${b[@]}"; do [ -n "$x" ] || missing=1; done
	ratio=$(awk -v a="${v[0]:-0}" -v b="${b[0]:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
	printf '%-15s | %9s %8s %8s | %9s %8s %8s | %6s\n' "$job" "${v[@]}" "${b[@]}" "$ratio"
done
[ "$missing" = 0 ] || fail "some fio figures are missing (log: $log)"

reqs=$(metric vdisk_delta_requests)
[ -n "$reqs" ] && [ "$reqs" -gt 0 ] || fail "no vdisk request count over the vdisk jobs (log: $log)"
echo
echo "vdisk, over its job set (fill + 4 jobs, verify reads included): $reqs virtio-blk requests"
per() { awk -v a="$1" -v b="$reqs" 'BEGIN { printf "%.2f", a / b }'; }
printf '  %-24s %10s %8s\n' counter total "per req"
for k in hypercalls ioreqs; do
	n=$(metric "vdisk_delta_$k")
	printf '  %-24s %10s %8s\n' "$k" "$n" "$(per "$n")"
done
while read -r k n; do
	[ "$n" != 0 ] || continue
	printf '  %-24s %10s %8s\n' "  $k" "$n" "$(per "$n")"
done < <(sed -n 's/.*RIG-METRIC: vdisk_delta_hc_\([a-z_]*\)=\([0-9]*\).*/\1 \2/p' <<<"$clean")
echo
echo "log: $log"
