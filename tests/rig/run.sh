#!/bin/bash
# Real-Xen rig tests: boots Xen (with IOREQ) + Debian dom0 under QEMU for each GIC version
# and runs a dom0 scenario that creates vdisk with xl and checks what it does.
#   tests/rig/run.sh [GIC...]     foundation, virtio-blk (dummy XSM) and FLASK scenarios, GICv3 and GICv2 by default
#   tests/rig/run.sh --demo       boot once, show vdisk's console through xl console (make run)
# Env: RIG_ICOUNT=1 (repeatable guest time), RIG_TIMEOUT (seconds per boot, default 900),
#      RIG_SCENARIOS="hostile ..." (only these scenarios; as_dom0 names the vdisk-as-dom0 boots).
# Ends with "rig: N passed, N failed"; exit status 1 if anything failed.
set -eu -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
mkdir -p build/rig
make -s build/vdisk.img build/dom0/vdisk-dom0 build/guests/hostile.img

# RIG_ICOUNT=1: QEMU -icount with one CPU, so that guest-time figures repeat from run to run.
boot() { # boot GIC SCENARIO LOG [--add SRC:DEST]...
	local gic=$1 file=$2 log=$3
	shift 3
	tools/rig/boot.sh --gic "$gic" --scenario "$file" --log "$log" --timeout "${RIG_TIMEOUT:-900}" "$@" \
		$([ "${RIG_ICOUNT:-0}" = 1 ] && echo --icount) \
		--add build/vdisk.img:/rig/vdisk.img --add build/dom0/vdisk-dom0:/rig/vdisk-dom0 \
		--add tests/rig/vdisk.cfg:/rig/vdisk.cfg
}

# Linux guests for virtio-blk: Debian's kernel (dom0's) with busybox initramfs images: one
# with the checks of guest-blk.sh, a prober, and one with fio and e2fsprogs.
tools/rig/mk-domu-initrd.sh build/rig/blk.cpio.zst --blk >/dev/null
cache=${VDISK_CACHE:-$HOME/.cache/vdisk}
guest_adds=(--add "$cache/dom0/Image:/rig/domu/Image" --add tests/rig/guest:/rig/guest
	--add build/rig/blk.cpio.zst:/rig/domu/blk.cpio.zst)

if [ "${1:-}" = "--demo" ]; then
	log=build/rig/demo.log
	echo "run: booting Xen (FLASK) + dom0 in QEMU; vdisk serves a disk to a Linux guest that runs fio (a few minutes)" >&2
	boot 3 tests/rig/demo.sh "$log" --xsm flask "${guest_adds[@]}" >"$log.raw" 2>&1 || true
	tr -d '\r' <"$log" | sed -n '/^DEMO:/s/^DEMO: \{0,1\}//p'
	grep -q "RIG: scenario exit 0" "$log" || { echo "demo failed; full log: $log" >&2; exit 1; }
	exit 0
fi

passed=0 failed=0

# wanted NAME: whether RIG_SCENARIOS (space or comma separated; empty: all) names NAME.
wanted() {
	[ -z "${RIG_SCENARIOS:-}" ] || [[ " ${RIG_SCENARIOS//,/ } " == *" $1 "* ]]
}

# scenario GIC NAME FILE [--add SRC:DEST]...: one boot, its RIG-TEST lines counted.
scenario() {
	local gic=$1 name=$2 file=$3 log=build/rig/$2-gic$1.log start clean
	shift 3
	wanted "$name" || return 0
	echo "rig: GICv$gic: $name (log: $log)"
	start=$(date +%s)
	boot "$gic" "$file" "$log" "$@" >"$log.raw" 2>&1 || true
	clean=$(tr -d '\r' <"$log")
	while read -r verdict test why; do
		case $verdict in
		PASS) passed=$((passed + 1)); echo "PASS gic$gic.$name.$test" ;;
		FAIL) failed=$((failed + 1)); echo "FAIL gic$gic.$name.$test $why" ;;
		esac
	done < <(sed -n 's/.*RIG-TEST: \(PASS\|FAIL\) \([^:]*\):\{0,1\} *\(.*\)/\1 \2 \3/p' <<<"$clean")
	if grep -q "RIG-SUMMARY:" <<<"$clean"; then
		passed=$((passed + 1)); echo "PASS gic$gic.$name.completed"
	else
		failed=$((failed + 1)); echo "FAIL gic$gic.$name.completed (no summary; tail of $log:)"
		tail -n 40 <<<"$clean" | sed 's/^/    /'
	fi
	sed -n 's/.*RIG-METRIC: /    metric gic'"$gic"': /p' <<<"$clean"
	echo "rig: GICv$gic $name took $(($(date +%s) - start)) s"
}

tools/rig/mk-domu-initrd.sh build/rig/guest-blk.cpio --script tests/rig/guest-blk.sh \
	--modules "virtio_mmio virtio_blk" >/dev/null
tools/rig/mk-domu-initrd.sh build/rig/probe.cpio --script tests/rig/guest/probe.sh \
	--add tests/rig/lib/guest-lib.sh:/rig/glib.sh >/dev/null

# uboot_checks GIC LOG: what the console shows of U-Boot, its distro boot and the script of
# tools/mkboot.py, and Xen taking its modules from the device tree the script wrote.
uboot_checks() {
	local gic=$1 clean name pattern
	clean=$(tr -d '\r' <"$2")
	while IFS='|' read -r name pattern; do
		if grep -q -- "$pattern" <<<"$clean"; then
			passed=$((passed + 1)); echo "PASS gic$gic.uboot.$name"
		else
			failed=$((failed + 1)); echo "FAIL gic$gic.uboot.$name (no '$pattern' in $2)"
		fi
	done <<-EOF
		uboot_started|^U-Boot 20[0-9][0-9]
		distro_boot_found_script|Found U-Boot script /boot.scr
		script_loaded_dom0|vdisk-boot: dom0-kernel: 0x[0-9a-f]* bytes at
		script_booted_xen|vdisk-boot: booting Xen
		xen_dom0_kernel_module|Loading d0 kernel from boot module
		xen_dom0_initrd_module|Loading ramdisk from boot module
		dom0_started_vdisk|RIG: started /etc/xen/auto/vdisk.cfg
	EOF
	if grep -q "vdisk-boot: FAILED" <<<"$clean"; then
		failed=$((failed + 1)); echo "FAIL gic$gic.uboot.script_no_failure ($(grep -m 1 "vdisk-boot: FAILED" <<<"$clean"))"
	else
		passed=$((passed + 1)); echo "PASS gic$gic.uboot.script_no_failure"
	fi
}

for gic in ${@:-3 2}; do
	scenario "$gic" foundation tests/rig/foundation.sh
	# Layout A booted as a board boots: U-Boot runs the script of tools/mkboot.py from a FAT
	# boot disk, Xen and dom0 come up, dom0's init starts vdisk, a guest does verified I/O.
	if wanted uboot; then
		scenario "$gic" uboot tests/rig/uboot.sh --uboot --xsm flask "${guest_adds[@]}" \
			--add tests/rig/vdisk-auto.cfg:/etc/xen/auto/vdisk.cfg
		uboot_checks "$gic" "build/rig/uboot-gic$gic.log"
	fi
	# Dummy XSM policy: dom0 grants vdisk the guest with set_target.
	scenario "$gic" virtio tests/rig/virtio.sh --add "$cache/dom0/Image:/rig/Image" \
		--add build/rig/guest-blk.cpio:/rig/domu.cpio
	# FLASK (vdisk_t over domU_t, no set_target): several guests, re-created guests, fio, ext4.
	scenario "$gic" flask-backend tests/rig/flask-backend.sh --xsm flask "${guest_adds[@]}" \
		--add build/rig/probe.cpio:/rig/domu/probe.cpio
	scenario "$gic" flask-blk tests/rig/guest-virtio.sh --xsm flask "${guest_adds[@]}"
	# Four guests at QD32 with verify at once on disks that complete out of order: no error,
	# each guest's IOPS within 25% of the mean (FLASK). Under -icount, so that Xen shares the
	# one CPU by guest time (about 13 minutes). On GICv3 only: nothing in it depends on the
	# interrupt controller.
	if [ "$gic" = 3 ]; then
		RIG_MEM=3072 scenario "$gic" load tests/rig/load.sh --xsm flask --icount \
			--timeout 2700 "${guest_adds[@]}"
	fi
	# The hostile test guest attacks vdisk while a Linux guest checks its own disk (FLASK).
	scenario "$gic" hostile tests/rig/hostile.sh --xsm flask "${guest_adds[@]}" \
		--add build/guests/hostile.img:/rig/hostile.img
	# An SD card behind QEMU's sdhci-pci, driven by vdisk (FLASK); its image is checked on
	# the host afterwards. GICv3 only: the controller is polled, no interrupt is involved.
	if [ "$gic" = 3 ] && wanted sd; then
		tools/rig/mk-sd-image.py make build/rig/sd.img
		dtc -q -I dts -O dtb -o build/rig/sd-dt.dtb tests/rig/sd-dt.dts
		RIG_QEMU_ARGS="-device sdhci-pci -device sd-card,drive=card0
			-drive if=none,id=card0,format=raw,cache=writethrough,file=build/rig/sd.img" \
			RIG_KILL_ON=RIG-SD-KILL-NOW scenario "$gic" sd tests/rig/sd.sh --xsm flask "${guest_adds[@]}" \
			--add build/rig/sd-dt.dtb:/rig/sd-dt.dtb \
			--add build/guests/hostile.img:/rig/hostile.img
		while read -r verdict test why; do
			case $verdict in
			PASS) passed=$((passed + 1)); echo "PASS gic$gic.sd.$test" ;;
			FAIL) failed=$((failed + 1)); echo "FAIL gic$gic.sd.$test $why" ;;
			esac
		done < <(tools/rig/mk-sd-image.py check build/rig/sd.img |
			sed -n 's/^RIG-TEST: \(PASS\|FAIL\) \([^:]*\):\{0,1\} *\(.*\)/\1 \2 \3/p')
	fi
done

# Layout B from U-Boot: vdisk is dom0, the guest a dom0less domU, the disks from vdisk's
# bootargs; the guest checks its disks (tests/rig/layout-b.sh). layout_b_sd: the disks are
# partitions of an SD card behind sdhci-pci that vdisk finds on the PCI bus and drives (by
# ADMA2: dom0 is direct-mapped), checked on the host afterwards; GICv3 only, as sd.
# count_lines: tally "PASS x" / "FAIL x" / "metric x" lines read on stdin.
count_lines() {
	while read -r verdict rest; do
		case $verdict in
		PASS) passed=$((passed + 1)); echo "PASS $rest" ;;
		FAIL) failed=$((failed + 1)); echo "FAIL $rest" ;;
		metric) echo "    metric $rest" ;;
		esac
	done
}
layout_b() { # GIC NAME GUEST-CPIO
	local gic=$1 name=$2 log=build/rig/$2-gic$1.log start
	echo "rig: GICv$gic: $name (log: $log)"
	start=$(date +%s)
	count_lines < <(tests/rig/layout-b.sh "$gic" "$log" "$3")
	if ! grep -q "DOMU: script exit" "$log"; then
		echo "    tail of $log:"
		tr -d '\r' <"$log" | tail -n 30 | sed 's/^/    /'
	fi
	echo "rig: GICv$gic $name took $(($(date +%s) - start)) s"
}
for gic in ${@:-3 2}; do
	if wanted layout_b; then
		layout_b "$gic" layout-b build/rig/guest-blk.cpio
	fi
	if [ "$gic" = 3 ] && wanted layout_b_sd; then
		{ echo "SD_TAG=p2 SD_MODE=write"; cat tests/rig/guest/sd.sh; } >build/rig/layout-b-sd.sh
		tools/rig/mk-domu-initrd.sh build/rig/layout-b-sd.cpio --script build/rig/layout-b-sd.sh \
			--add tests/rig/lib/guest-lib.sh:/rig/glib.sh --modules "virtio_mmio virtio_blk" >/dev/null
		tools/rig/mk-sd-image.py make build/rig/layout-b-sd.img
		LAYOUT_B_CARD=build/rig/layout-b-sd.img layout_b "$gic" layout-b-sd build/rig/layout-b-sd.cpio
		count_lines < <(tools/rig/mk-sd-image.py check-p2 build/rig/layout-b-sd.img |
			sed -n "s/^RIG-TEST: \(PASS\|FAIL\) /\1 gic$gic.layout_b_sd./p")
	fi
done

# vdisk as Xen's dom0 (the dom0less/driver-domain-free case): no PV console ring and no
# xenstore, so it must log through CONSOLE_IO and still measure its event channels.
for gic in ${@:-3 2}; do
	wanted as_dom0 || continue
	log=build/rig/dom0-gic$gic.log
	cache=${VDISK_CACHE:-$HOME/.cache/vdisk}
	timeout 120 qemu-system-aarch64 -machine "virt,gic-version=$gic,virtualization=on" \
		-cpu cortex-a57 -smp 2 -m 1024 -nographic -no-reboot -kernel "$cache/xen/xen" \
		-append "dom0_mem=64M dom0_max_vcpus=1 console=dtuart dtuart=/pl011@9000000 xsm=dummy" \
		-device "guest-loader,addr=0x50000000,kernel=build/vdisk.img,bootargs=evtchn_bench=100" \
		</dev/null >"$log" 2>&1 &
	qpid=$!
	for _ in $(seq 600); do
		grep -q "vdisk: ready\|fatal:" "$log" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.5
	kill $qpid 2>/dev/null; wait $qpid 2>/dev/null
	clean=$(tr -d '\r' <"$log")
	if grep -q "xen: version 4\.17.*hardware domain" <<<"$clean" &&
		grep -q "xen: event channel upcall on PPI" <<<"$clean" &&
		grep -q "xenstore: none for this domain" <<<"$clean" &&
		grep -q "evtchn: upcall latency over 100 events" <<<"$clean" &&
		grep -q "vdisk: ready" <<<"$clean"; then
		passed=$((passed + 1)); echo "PASS gic$gic.as_dom0_console_io"
		sed -n 's/.*\(xen: event channel upcall on PPI [0-9]*\).*/    dom0 gic'"$gic"': \1/p; s/.*evtchn: upcall latency over \(.*\)/    dom0 gic'"$gic"': \1/p' <<<"$clean"
	else
		failed=$((failed + 1)); echo "FAIL gic$gic.as_dom0_console_io (log: $log)"
		grep -a "vdisk\|ERROR\|(XEN) .*d0" <<<"$clean" | tail -n 15 | sed 's/^/    /'
	fi
done

echo "rig: $passed passed, $failed failed"
[ "$failed" = 0 ]
