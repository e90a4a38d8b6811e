#!/bin/bash
# Checks on the built image without Xen: the arm64 Image header, and bare-metal boots in
# QEMU at EL2 and EL1 (PL011 output, GICv2/GICv3 from the device tree, PSCI power-off),
# plus U-Boot's booti. Ends with "image: N passed, N failed".
#   tests/image/run.sh build/vdisk.img build/vdisk.elf
set -u
img=$1
elf=$2
out=build/image
mkdir -p "$out"
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS image.$1"; }
fail() { failed=$((failed + 1)); echo "FAIL image.$1: $2"; }

le64() { od -An -t u8 -j "$2" -N 8 "$1" | tr -d ' '; }

# ---- Image header (Documentation/arm64/booting.rst) ----
magic=$(od -An -c -j 56 -N 4 "$img" | tr -d ' ')
[ "$magic" = "ARMd" ] && pass header_magic || fail header_magic "got '$magic' at 0x38"
text_offset=$(le64 "$img" 8)
image_size=$(le64 "$img" 16)
flags=$(le64 "$img" 24)
file_size=$(stat -c %s "$img")
[ "$text_offset" = 0 ] && pass header_text_offset || fail header_text_offset "$text_offset"
# image_size covers the file plus BSS, stacks and page tables, and is page aligned.
if [ "$image_size" -ge "$file_size" ] && [ $((image_size % 4096)) = 0 ]; then
	pass header_image_size
else
	fail header_image_size "image_size $image_size, file $file_size"
fi
bss_end=$(printf '%d' "0x$(aarch64-linux-gnu-nm "$elf" | awk '$3 == "_end" { print $1 }')")
[ "$bss_end" = "$image_size" ] && pass header_image_size_is_end || fail header_image_size_is_end "_end=$bss_end"
# LE, 4K pages, placement anywhere (bit 3): what U-Boot's booti and Xen's loaders read.
[ "$flags" = 10 ] && pass header_flags || fail header_flags "$flags"
aarch64-linux-gnu-readelf -hW "$elf" | grep -q "DYN (Position-Independent" &&
	pass elf_is_pie || fail elf_is_pie "not a PIE: self-relocation has nothing to apply"

# ---- bare-metal boots ----
boot_bare() { # name machine-opts
	local name=$1 log=$out/$1.log
	shift
	timeout 60 qemu-system-aarch64 -machine "$@" -cpu cortex-a57 -m 256 -nographic -no-reboot \
		-kernel "$img" -append "loglevel=debug bogus=1" </dev/null >"$log" 2>&1
	echo $? >"$log.rc"
}
for el in 2 1; do
	for gic in 3 2; do
		virt=$([ $el = 2 ] && echo on || echo off)
		name=bare_el${el}_gicv$gic
		boot_bare $name "virt,gic-version=$gic,virtualization=$virt"
		log=$out/$name.log
		if [ "$(cat "$log.rc")" = 0 ] && grep -q "entered at EL$el" "$log" &&
			grep -q "gic: GICv$gic" "$log" && grep -q "not running under Xen" "$log" &&
			grep -q "ERROR: bootargs: unknown key 'bogus' (value '1')" "$log" &&
			grep -q "powering off" "$log"; then
			pass $name
		else
			fail $name "rc $(cat "$log.rc"); log $log"
		fi
	done
done

# The crash path: an unexpected exception prints a register dump and powers off.
log=$out/bare_data_abort.log
timeout 60 qemu-system-aarch64 -machine virt -cpu cortex-a57 -m 256 -nographic -no-reboot \
	-kernel "$img" -append "debug_fault=data-abort" </dev/null >"$log" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "exception: synchronous from EL1 with SP_EL0: data abort (ESR 0x96" "$log" &&
	grep -q "FAR 0x0000800000000008" "$log" && grep -q "exception: x30 " "$log" &&
	grep -q "fatal: unexpected exception" "$log"; then
	pass bare_exception_dump
else
	fail bare_exception_dump "rc $rc; log $log"
fi
elr_off=$(sed -n 's/.*ELR 0x[0-9a-f]* (image+\(0x[0-9a-f]*\)).*/\1/p' "$log")
if [ -n "$elr_off" ] && aarch64-linux-gnu-addr2line -f -e "$elf" "$elr_off" | grep -q raise_debug_fault; then
	pass exception_elr_resolves
else
	fail exception_elr_resolves "ELR offset '$elr_off' is not in raise_debug_fault"
fi

# Entered with x0 = 0 (QEMU's generic loader passes no device tree): vdisk cannot know its
# console or memory, so it must stop quietly rather than run wild or fault.
log=$out/bare_no_dtb.log
timeout 10 qemu-system-aarch64 -machine virt,gic-version=3 -cpu cortex-a57 -m 256 -nographic \
	-no-reboot -device loader,file="$img",addr=0x48000000,force-raw=on \
	-device loader,addr=0x48000000,cpu-num=0 </dev/null >"$log" 2>&1
rc=$?
[ "$rc" = 124 ] && ! grep -q "Synchronous\|exception" "$log" && pass bare_no_dtb_halts ||
	fail bare_no_dtb_halts "rc $rc"

# ---- an SD card with no Xen: QEMU's sdhci-pci on virt's PCI bus. vdisk places the
# controller's BAR itself, brings the card up, moves data by ADMA2 (bare metal: its addresses
# are the bus's) and (sd_selftest=100) writes and reads back sector 100 alone and sectors
# 101-356 in one command (four descriptors); the image file must then hold each sector's
# line there and zeroes everywhere else ----
sd=$out/sd.img
rm -f "$sd"
truncate -s 16M "$sd"
log=$out/bare_sd.log
timeout 60 qemu-system-aarch64 -machine virt,gic-version=3,virtualization=on -cpu cortex-a57 \
	-m 256 -nographic -no-reboot -kernel "$img" -append "sd_selftest=100" \
	-device sdhci-pci -device sd-card,drive=card0 \
	-drive if=none,id=card0,format=raw,cache=writethrough,file="$sd" </dev/null >"$log" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "pci: 00:0[0-9a-f].0 1b36:0007, an SD host controller: BAR 0 at" "$log" &&
	grep -q "sdhci: sdhci@[0-9a-f]*: data by ADMA2 through" "$log" &&
	grep -q "mmc: sdhci@[0-9a-f]*: SDSC card, .*16 MiB, 4-bit bus" "$log" &&
	grep -q "mmc: self-test: card 0 sectors 100+257 written and read back" "$log"; then
	pass bare_sd_card
else
	fail bare_sd_card "rc $rc; log $log"
fi
want=$(for s in $(seq 100 356); do for _ in $(seq 16); do printf 'vdisk sd self-test sector %05d\n' "$s"; done; done | md5sum)
got=$(dd if="$sd" bs=512 skip=100 count=257 2>/dev/null | md5sum)
others=$( { dd if="$sd" bs=512 count=100 2>/dev/null; dd if="$sd" bs=512 skip=357 2>/dev/null; } |
	tr -d '\0' | wc -c)
if [ "$got" = "$want" ] && [ "$others" = 0 ]; then
	pass bare_sd_image
else
	fail bare_sd_image "sectors 100-356: $(dd if="$sd" bs=512 skip=100 count=1 2>/dev/null | head -c 32 | tr -d '\0\n'), md5 $got (want $want); $others other non-zero bytes"
fi

# ---- U-Boot booti (u-boot-qemu): load the Image into RAM and boot it as Linux would be ----
ub=/usr/lib/u-boot/qemu_arm64/u-boot.bin
log=$out/uboot.log
if [ -f "$ub" ]; then
	{
		for _ in 1 2 3 4 5 6; do printf '\n'; sleep 0.5; done
		printf 'booti 0x40400000 - ${fdtcontroladdr}\n'
	} | timeout 60 qemu-system-aarch64 -machine virt,gic-version=3,virtualization=on \
		-cpu cortex-a57 -m 512 -nographic -no-reboot -bios "$ub" \
		-device loader,file="$img",addr=0x40400000,force-raw=on >"$log" 2>&1
	if grep -q "## Flattened Device Tree blob\|Starting kernel" "$log" &&
		grep -q "vdisk .* starting: image at" "$log" && grep -q "entered at EL2" "$log" &&
		grep -q "powering off" "$log"; then
		pass uboot_booti
	else
		fail uboot_booti "log $log"
	fi
else
	fail uboot_booti "$ub missing (u-boot-qemu)"
fi

echo "image: $passed passed, $failed failed"
[ "$failed" = 0 ]
