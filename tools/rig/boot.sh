#!/bin/bash
# shellcheck disable=SC2015 # "A && B || C" is meant as "unless A and B, C"
# Boot Xen (built by build-xen.sh) + Debian dom0 (mk-dom0.sh) on qemu-system-aarch64 (TCG).
#
# Usage: tools/rig/boot.sh [--gic 3|2] [--icount] [--xsm dummy|flask|flask-permissive]
#                          [--scenario FILE] [--add SRC:DEST]... [--log FILE] [--timeout SECS]
#                          [--no-prepare]
#   --gic N         GIC version of the virt machine (default 3)
#   --xsm MODE      Xen's security module (default dummy: "xsm=dummy", today's rig).
#                   flask: a separately cached Xen (build-xen.sh variant "flask", $CACHE/xen-flask)
#                   with Xen's example FLASK policy + tools/rig/flask/*.te built in, booted with
#                   "xsm=flask flask=enforcing"; label domains with xl's seclabel= (guests
#                   "system_u:system_r:domU_t", vdisk "system_u:system_r:vdisk_t").
#                   flask-permissive: the same Xen with "flask=permissive" (denials are only
#                   logged: collect them with `xl dmesg | grep avc`).
#   --icount        -smp 1 -icount shift=0,sleep=off (repeatable guest timing; Xen hangs with -smp 2)
#   --scenario FILE shell script run in dom0 as /rig/scenario.sh after "RIG: dom0 ready"
#                   (stdin /dev/null, cwd /rig; tests/rig/lib is at /rig/lib, use . /rig/lib/rig.sh);
#                   without it the boot is interactive (dom0 shell on stdio, no timeout)
#   --add SRC:DEST  put file (or directory) SRC at DEST in dom0 (e.g. build/vdisk.img:/rig/vdisk.img)
#   --log FILE      console log (default: $CACHE/logs/boot-<time>-gic<N>.log); output also on stdout
#   --timeout SECS  kill QEMU after SECS (default 300; scenario runs only)
#   --no-prepare    do not run fetch/build-xen/mk-dom0 (use what is in the cache)
#   --uboot         boot as a board does: QEMU runs U-Boot (u-boot-qemu, -bios), whose distro
#                   boot finds boot.scr on a virtio disk made by tools/mkboot.py (Xen, dom0's
#                   kernel and initramfs on a FAT partition) and boots Xen with booti; without
#                   it QEMU loads Xen and dom0 itself (-kernel, guest-loader)
# Env: RIG_XEN_ARGS   Xen command line, used as is (default "dom0_mem=768M dom0_max_vcpus=1
#        console=dtuart dtuart=/pl011@9000000" + "xsm=dummy" or, with --xsm flask,
#        "xsm=flask flask=enforcing")
#      RIG_XEN_FLASK_MODULES  FLASK modules for --xsm flask (default tools/rig/flask/*.te)
#      RIG_XEN_VARIANT        cache name of the Xen build (default "" or, with --xsm flask, "flask";
#                             set it when trying other FLASK modules, e.g. "flask-test")
#      RIG_DOM0_ARGS  dom0 kernel command line (default "console=hvc0 earlycon=xen quiet")
#      RIG_QEMU_ARGS  extra qemu-system-aarch64 arguments (word-split)
#      RIG_KILL_ON    a line (grep pattern) at which QEMU is killed with SIGKILL, not shut
#                     down: for a scenario that checks what survives a power cut
#      RIG_MEM        guest RAM in MB (default 2048)
# Exit: 0 when the console shows "RIG: scenario exit 0", 1 otherwise (2 on usage errors).
set -eu -o pipefail
. "$(dirname -- "$0")/common.sh"

usage() { sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
GIC=3 ICOUNT=0 SCENARIO="" LOG="" TIMEOUT=300 PREPARE=1 XSM=dummy UBOOT=0
ADDS=()
while [ $# -gt 0 ]; do
	case $1 in
	--gic) GIC=${2:?}; shift 2 ;;
	--gic=*) GIC=${1#*=}; shift ;;
	--icount) ICOUNT=1; shift ;;
	--xsm) XSM=${2:?}; shift 2 ;;
	--xsm=*) XSM=${1#*=}; shift ;;
	--scenario) SCENARIO=${2:?}; shift 2 ;;
	--scenario=*) SCENARIO=${1#*=}; shift ;;
	--add) ADDS+=("${2:?}"); shift 2 ;;
	--add=*) ADDS+=("${1#*=}"); shift ;;
	--log) LOG=${2:?}; shift 2 ;;
	--log=*) LOG=${1#*=}; shift ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--timeout=*) TIMEOUT=${1#*=}; shift ;;
	--no-prepare) PREPARE=0; shift ;;
	--uboot) UBOOT=1; shift ;;
	-h | --help) usage ;;
	*) echo "boot.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
case $GIC in 2 | 3) ;; *) die "--gic must be 2 or 3" ;; esac
case $TIMEOUT in '' | *[!0-9]*) die "--timeout wants seconds" ;; esac
case $XSM in
dummy) XSM_ARGS="xsm=dummy" XEN_VARIANT=${RIG_XEN_VARIANT:-} ;;
flask) XSM_ARGS="xsm=flask flask=enforcing" XEN_VARIANT=${RIG_XEN_VARIANT:-flask} ;;
flask-permissive) XSM_ARGS="xsm=flask flask=permissive" XEN_VARIANT=${RIG_XEN_VARIANT:-flask} ;;
*) die "--xsm must be dummy, flask or flask-permissive" ;;
esac
if [ -n "$XEN_VARIANT" ]; then
	# The FLASK Xen: its own cache directory (build-xen.sh RIG_XEN_VARIANT), policy modules from
	# tools/rig/flask unless RIG_XEN_FLASK_MODULES names others.
	export RIG_XEN_VARIANT=$XEN_VARIANT
	export RIG_XEN_FLASK_MODULES=${RIG_XEN_FLASK_MODULES:-$(echo "$RIG_DIR"/flask/*.te)}
fi
[ -z "$SCENARIO" ] || [ -f "$SCENARIO" ] || die "scenario $SCENARIO not found"
need_cmd qemu-system-aarch64 cpio timeout

if [ "$PREPARE" = 1 ]; then
	"$RIG_DIR/fetch.sh"
	"$RIG_DIR/build-xen.sh"
	"$RIG_DIR/mk-dom0.sh"
fi
XEN=$CACHE/xen${XEN_VARIANT:+-$XEN_VARIANT}/xen
IMAGE=$CACHE/dom0/Image
BASE=$CACHE/dom0/base.cpio
for f in "$XEN" "$IMAGE" "$BASE"; do [ -f "$f" ] || die "$f missing (run without --no-prepare)"; done

# ---- overlay cpio: scenario + --add files ----
work=$(mktemp -d "${TMPDIR:-/tmp}/vdisk-rig.XXXXXX")
trap 'rm -rf "$work"' EXIT
ov=$work/overlay
mkdir -p "$ov/rig"
if [ -n "$SCENARIO" ]; then
	cp "$SCENARIO" "$ov/rig/scenario.sh"
	chmod 755 "$ov/rig/scenario.sh"
fi
# Scenario helper library (tests/rig/lib -> /rig/lib; scenarios: . /rig/lib/rig.sh)
LIBDIR=$RIG_DIR/../../tests/rig/lib
[ -d "$LIBDIR" ] && cp -a "$LIBDIR" "$ov/rig/lib"
for a in "${ADDS[@]+"${ADDS[@]}"}"; do
	src=${a%%:*}
	dst=${a#*:}
	[ "$src" != "$a" ] && [ -n "$src" ] && [ -n "$dst" ] || die "--add wants SRC:DEST, got '$a'"
	case $dst in /*) ;; *) die "--add DEST must be absolute: '$dst'" ;; esac
	[ -e "$src" ] || die "--add: $src not found"
	mkdir -p "$ov$(dirname "$dst")"
	cp -a "$src" "$ov$dst"
done
(cd "$ov" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$work/overlay.cpio"
cat "$BASE" "$work/overlay.cpio" >"$work/initrd.cpio" # Linux unpacks concatenated newc archives

# ---- qemu ----
XEN_ARGS=${RIG_XEN_ARGS:-dom0_mem=768M dom0_max_vcpus=1 console=dtuart dtuart=/pl011@9000000 $XSM_ARGS}
DOM0_ARGS=${RIG_DOM0_ARGS:-console=hvc0 earlycon=xen quiet}
q() { printf '%s' "${1//,/,,}"; } # escape commas for -device option values
if [ "$ICOUNT" = 1 ]; then
	# shellcheck disable=SC2054
	SMP=(-smp 1 -icount shift=0,sleep=off)
else
	SMP=(-smp 2)
fi
# shellcheck disable=SC2206
EXTRA=(${RIG_QEMU_ARGS:-})
if [ "$UBOOT" = 1 ]; then
	# The board description of QEMU's virt machine as this boot configures it; mkboot.py makes
	# the script and the disk, U-Boot's distro boot finds and runs the script.
	UBOOT_BIN=/usr/lib/u-boot/qemu_arm64/u-boot.bin
	[ -f "$UBOOT_BIN" ] || die "$UBOOT_BIN missing: run tools/deps.sh (u-boot-qemu)"
	cat >"$work/qemu-virt.board" <<EOF
[board]
name = qemu-virt-rig
ram_start = 0x40000000
ram_size = ${RIG_MEM:-2048}M
device_tree = firmware
[xen]
image = $XEN
bootargs = $XEN_ARGS
[dom0]
kernel = $IMAGE
ramdisk = $work/initrd.cpio
bootargs = $DOM0_ARGS
EOF
	"$RIG_DIR/../mkboot.py" "$work/qemu-virt.board" "$work/boot" >&2 || die "tools/mkboot.py failed"
	LOADER=(-bios "$UBOOT_BIN" -drive "if=none,id=bootdisk,format=raw,file=$work/boot/boot.img"
		-device virtio-blk-device,drive=bootdisk)
else
	LOADER=(-kernel "$XEN" -append "$XEN_ARGS"
		-device "guest-loader,addr=0x50000000,kernel=$(q "$IMAGE"),bootargs=$(q "$DOM0_ARGS")"
		-device "guest-loader,addr=0x54000000,initrd=$(q "$work/initrd.cpio")")
fi
QEMU=(qemu-system-aarch64 -machine "virt,gic-version=$GIC,virtualization=on" -cpu cortex-a57
	"${SMP[@]}" -m "${RIG_MEM:-2048}" -nographic -no-reboot "${LOADER[@]}"
	"${EXTRA[@]+"${EXTRA[@]}"}")

if [ -z "$SCENARIO" ]; then
	msg "interactive boot (gic $GIC; Ctrl-A x quits QEMU; 'poweroff -f' in dom0)"
	"${QEMU[@]}"
	exit $?
fi

if [ -z "$LOG" ]; then
	mkdir -p "$CACHE/logs"
	LOG=$CACHE/logs/boot-$(date +%Y%m%d-%H%M%S)-gic$GIC-$$.log
fi
mkdir -p "$(dirname "$LOG")"
msg "booting: gic $GIC, $([ "$ICOUNT" = 1 ] && echo "icount, smp 1" || echo "smp 2"), xsm $XSM,$([ "$UBOOT" = 1 ] && echo " through U-Boot,") scenario $SCENARIO, timeout ${TIMEOUT}s, log $LOG"
t0=$(date +%s.%N)
set +e
: >"$LOG"
if [ -n "${RIG_KILL_ON:-}" ]; then
	(
		# grep reads through a process substitution: the kill must not wait for tail.
		grep -q -m 1 -- "$RIG_KILL_ON" < <(tail -n +1 -f --pid=$$ "$LOG" 2>/dev/null) &&
			pkill -KILL -f -- "^qemu-system-aarch64 .*$work/"
	) &
	killer=$!
fi
timeout -k 5 "$TIMEOUT" "${QEMU[@]}" </dev/null 2>&1 | tee "$LOG"
st=("${PIPESTATUS[@]}")
[ -z "${killer:-}" ] || kill "$killer" 2>/dev/null
set -e
if [ -n "${RIG_KILL_ON:-}" ] && grep -q -- "$RIG_KILL_ON" "$LOG"; then
	msg "QEMU killed at '$RIG_KILL_ON', as asked (log: $LOG)"
	exit 0
fi
dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
if [ "${st[0]}" = 124 ] || [ "${st[0]}" = 137 ]; then
	msg "TIMEOUT: QEMU killed after ${TIMEOUT}s (log: $LOG)"
	exit 1
fi
res=$(tr -d '\r' <"$LOG" | sed -n 's/.*RIG: scenario exit \([0-9]*\).*/\1/p' | tail -n 1)
if [ "$res" = 0 ]; then
	msg "PASS: scenario exit 0 (${dt}s wall, log: $LOG)"
	exit 0
fi
if [ -n "$res" ]; then
	msg "FAIL: scenario exit $res (${dt}s wall, log: $LOG)"
else
	msg "FAIL: no 'RIG: scenario exit' line; QEMU status ${st[0]} (${dt}s wall, log: $LOG)"
fi
exit 1
