#!/bin/bash
# Boot timing of both layouts, each booted from U-Boot (tools/mkboot.py) under QEMU -icount
# (one CPU, guest time: the figures repeat), from Xen's first console line to vdisk's first
# line, to vdisk ready to serve, to the guest's first read completed by vdisk
# (tools/boot-timing.py reads them off the console: Xen with console_timestamps=raw, vdisk's
# lines put on the same system counter).
#   layout A: Xen + Linux dom0 (FLASK); dom0's init creates vdisk and then the guest from
#             /etc/xen/auto (tests/rig/vdisk-auto.cfg, tests/rig/guest-auto.cfg)
#   layout B: vdisk is dom0, the guest a dom0less domU (tests/rig/layout-b.sh)
# The same guest in both: Debian's kernel, tests/rig/guest-blk.sh's initramfs, two disks.
# A measurement, not a test (not in `make test`); `make boot-timing`, about 3 minutes.
# Env: GIC (3 or 2, default 3). Prints the table and writes build/bench/boot-timing-gic$GIC.csv.
set -eu -o pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
GIC=${GIC:-3}
case $GIC in 2 | 3) ;; *) echo "boot-timing: GIC must be 2 or 3, got '$GIC'" >&2; exit 2 ;; esac
cache=${VDISK_CACHE:-$HOME/.cache/vdisk}
out=build/bench
mkdir -p "$out" build/rig
fail() { echo "boot-timing: FAILED: $*" >&2; exit 1; }

make -s build/vdisk.img
tools/rig/mk-domu-initrd.sh build/rig/guest-blk.cpio --script tests/rig/guest-blk.sh \
	--modules "virtio_mmio virtio_blk" >/dev/null

logA=$out/boot-timing-a-gic$GIC.log
logB=$out/boot-timing-b-gic$GIC.log
echo "boot-timing: layout A (log $logA)"
RIG_XEN_ARGS="dom0_mem=768M dom0_max_vcpus=1 console=dtuart dtuart=/pl011@9000000 xsm=flask flask=enforcing console_timestamps=raw" \
	tools/rig/boot.sh --uboot --icount --gic "$GIC" --xsm flask --timeout 900 \
	--scenario tests/rig/boot-timing-a.sh --log "$logA" \
	--add build/vdisk.img:/rig/vdisk.img --add tests/rig/vdisk-auto.cfg:/etc/xen/auto/vdisk.cfg \
	--add tests/rig/guest-auto.cfg:/etc/xen/auto/z-guest.cfg \
	--add "$cache/dom0/Image:/rig/Image" --add build/rig/guest-blk.cpio:/rig/domu.cpio \
	>"$logA.raw" 2>&1 || fail "layout A boot (see $logA)"
grep -q "RIG-TEST: FAIL" "$logA" && fail "layout A: $(grep -m 1 "RIG-TEST: FAIL" "$logA")"
echo "boot-timing: layout B (log $logB)"
resB=$(LAYOUT_B_ICOUNT=1 LAYOUT_B_XEN_ARGS=console_timestamps=raw \
	tests/rig/layout-b.sh "$GIC" "$logB" build/rig/guest-blk.cpio)
grep -q "^FAIL" <<<"$resB" && fail "layout B: $(grep -m 1 "^FAIL" <<<"$resB")"

timesA=$(tools/boot-timing.py "$logA") || fail "layout A timing"
timesB=$(tools/boot-timing.py "$logB") || fail "layout B timing"
csv=$out/boot-timing-gic$GIC.csv
echo "milestone,layout_a_ms,layout_b_ms" >"$csv"
printf '\n%-18s | %10s | %10s\n' "ms after Xen's" "layout A" "layout B"
printf '%-18s | %10s | %10s\n' "first line" "Linux dom0" "vdisk dom0"
while read -r name a; do
	b=$(awk -v n="$name" '$1 == n { print $2 }' <<<"$timesB")
	printf '%-18s | %10s | %10s\n' "$name" "$a" "$b"
	echo "$name,$a,$b" >>"$csv"
done <<<"$timesA"
echo "(GICv$GIC, QEMU -icount shift=0 -smp 1; $csv)"
