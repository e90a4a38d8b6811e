#!/bin/bash
# Layout B booted from U-Boot: no Linux outside the guests. vdisk is Xen's dom0 (hardware and
# control domain); the guest is a dom0less domU that Xen builds from the /chosen nodes U-Boot's
# script writes (tools/mkboot.py), with its two virtio-mmio windows in a partial device tree
# (tests/rig/layout-b-guest.dts). vdisk learns the disks from its bootargs (vdisk.disk=; no
# xenstore exists) and serves them; the guest runs tests/rig/guest-blk.sh (pattern over the
# whole read-write disk, buffered read, read-only disk). A third vdisk.disk= with a bad irq
# and a fourth on the first one's window must be refused by name and value while the other
# two are served.
#   tests/rig/layout-b.sh GIC LOG GUEST-CPIO
# Prints "PASS gic<N>.layout_b.<name>" / "FAIL ..." lines and "metric ..." lines.
# Env: LAYOUT_B_ICOUNT=1 (one CPU, -icount: guest time repeats; tools/boot-timing.sh),
#      LAYOUT_B_XEN_ARGS (more Xen arguments, e.g. console_timestamps=raw),
#      LAYOUT_B_CARD=IMAGE (an SD card image of tools/rig/mk-sd-image.py behind QEMU's
#        sdhci-pci: vdisk, as the hardware domain, enumerates the PCI bus itself, drives the
#        controller and serves partition 2 read-write and 3 read-only; GUEST-CPIO is then
#        a guest that fills its vda, as tests/rig/guest/sd.sh with SD_TAG=p2 SD_MODE=write)
set -u
gic=$1 log=$2 cpio=$(realpath "$3")
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${VDISK_CACHE:-$HOME/.cache/vdisk}
work=$(mktemp -d "${TMPDIR:-/tmp}/vdisk-layout-b.XXXXXX")
trap 'rm -rf "$work"' EXIT
dtc -q -I dts -O dtb -o "$work/guest.dtb" "$top/tests/rig/layout-b-guest.dts"
# vdisk's bootargs: the two disks of the partial device tree, and one refused
if [ -n "${LAYOUT_B_CARD:-}" ]; then
	targets=(mmc:0:2 mmc:0:3)
	# shellcheck disable=SC2054 # commas inside QEMU option values
	card=(-device sdhci-pci -device sd-card,drive=card0
		-drive "if=none,id=card0,format=raw,cache=writethrough,file=$LAYOUT_B_CARD")
	name=layout_b_sd
else
	targets=(ram:16M ram:8M)
	card=()
	name=layout_b
fi
disks="vdisk.disk=domain=1,base=0x2000000,irq=33,target=${targets[0]}"
disks="$disks vdisk.disk=domain=1,base=0x2000200,irq=34,access=ro,target=${targets[1]}"
disks="$disks vdisk.disk=domain=1,base=0x2000400,irq=3,target=ram:1M"
disks="$disks vdisk.disk=domain=1,base=0x2000000,irq=35,target=ram:1M"
cat >"$work/board" <<EOB
[board]
name = qemu-virt-layout-b
ram_start = 0x40000000
ram_size = 2048M
[xen]
image = $cache/xen/xen
bootargs = dom0_mem=128M dom0_max_vcpus=1 console=dtuart dtuart=/pl011@9000000 ${LAYOUT_B_XEN_ARGS:-}
[dom0]
kernel = $top/build/vdisk.img
bootargs = $disks evtchn_bench=100 latency_period=2
[domU guest]
kernel = $cache/dom0/Image
ramdisk = $cpio
device_tree = $work/guest.dtb
memory = 256M
bootargs = console=ttyAMA0
EOB
"$top/tools/mkboot.py" "$work/board" "$work/out" >/dev/null || { echo "FAIL gic$gic.layout_b.mkboot"; exit 0; }

if [ "${LAYOUT_B_ICOUNT:-0}" = 1 ]; then
	# shellcheck disable=SC2054 # the commas are part of the -icount value
	cpus=(-smp 1 -icount shift=0,sleep=off)
else
	cpus=(-smp 2)
fi
timeout 600 qemu-system-aarch64 -machine "virt,gic-version=$gic,virtualization=on" \
	-cpu cortex-a57 "${cpus[@]}" -m 2048 -nographic -no-reboot \
	-bios /usr/lib/u-boot/qemu_arm64/u-boot.bin \
	-drive "if=none,id=bootdisk,format=raw,file=$work/out/boot.img" \
	-device virtio-blk-device,drive=bootdisk "${card[@]+"${card[@]}"}" </dev/null >"$log" 2>&1 &
qpid=$!
# Neither vdisk nor Xen powers off when the guest is done: stop at its last line.
for _ in $(seq 3000); do
	grep -q "DOMU: script exit\|Kernel panic\|Panic on CPU" "$log" 2>/dev/null && break
	kill -0 $qpid 2>/dev/null || break
	sleep 0.1
done
# the next round of latency lines on the console (latency_period=2) after the guest's I/O
for _ in $(seq 100); do
	tr -d '\r' <"$log" | sed -n '/DOMU: script exit/,$p' | grep -q "latency: dom1-0 ioreq count=" && break
	kill -0 $qpid 2>/dev/null || break
	sleep 0.1
done
sleep 0.5
kill $qpid 2>/dev/null
wait $qpid 2>/dev/null
clean=$(tr -d '\r' <"$log")

check() { # NAME PATTERN: the console shows PATTERN
	if grep -q -- "$2" <<<"$clean"; then echo "PASS gic$gic.$name.$1"; else echo "FAIL gic$gic.$name.$1 (no '$2' in $log)"; fi
}
check uboot_booted_xen "vdisk-boot: booting Xen"
check xen_built_domu "Loading d1 kernel from boot module"
check vdisk_is_dom0 "xen: version 4\.17.*hardware domain"
check vdisk_no_xenstore "xenstore: none for this domain"
check served_disk_0 "backend: dom1/0: ${targets[0]} at 0x2000000 irq 33"
check served_disk_1 "backend: dom1/1: ${targets[1]} read-only at 0x2000200 irq 34"
if [ -n "${LAYOUT_B_CARD:-}" ]; then
	check pci_sd_host_found "pci: 00:0[0-9a-f].0 1b36:0007, an SD host controller"
	check card_by_adma "sdhci: .*: data by ADMA2 through"
	check card_by_interrupt "mmc: card 0: waits end by interrupt 37"
fi
check bad_disk_named "ERROR: bootargs: vdisk.disk='domain=1,base=0x2000400,irq=3,target=ram:1M': key 'irq' = '3' is not an SPI (32 to 1019)"
check same_window_refused "ERROR: bootargs: vdisk.disk='domain=1,base=0x2000000,irq=35,target=ram:1M': key 'base' = '0x2000000': dom1's window there is served already (dom1/0)"
check guest_driver_ready_0 "backend: dom1/0: guest driver ready"
check guest_driver_ready_1 "backend: dom1/1: guest driver ready"
check guest_script_exit_0 "DOM1: DOMU: script exit 0"
# with no xenstore, the latency histograms come on the console (latency_period=2)
check console_latency_service "latency: dom1-0 service count=[1-9]"
check console_latency_ioreq "latency: dom1-0 ioreq count=[1-9]"
check console_latency_upcall "latency: upcall count=[1-9]"
# the guest's own checks, passed on through Xen's console (vpl011)
while read -r verdict test why; do
	echo "$verdict gic$gic.$name.guest.$test${why:+ $why}"
done < <(sed -n 's/.*DOM1: \(RIG\|GUEST\)-TEST: \(PASS\|FAIL\) \([^:]*\):\{0,1\} *\(.*\)/\2 \3 \4/p' <<<"$clean" | sort -u)
# How long vdisk served each window before the guest's driver first touched it
sed -n 's/.*backend: \(dom1\/[0-9]\): first access by the guest, \([0-9]*\) us after.*/metric gic'"$gic"': '"$name"'.\1_margin_us=\2/p' <<<"$clean"
