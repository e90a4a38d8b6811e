#!/bin/bash
# Puts the files the example board descriptions name into one directory, built the way the rig
# builds them, with copies of the descriptions of that layout beside them:
#   tools/boards/stage.sh A|B DIR
# then:  tools/mkboot.py DIR/BOARD.board DIR/out
#
#   both  DIR/Image        Debian's arm64 kernel ($VDISK_CACHE/dom0/Image, tools/rig/mk-dom0.sh)
#         DIR/zcu102.dtb   Debian's zynqmp-zcu102-rev1.0.dtb (ZCU102_DTB=rev1.1, revA, revB for
#                          another revision of the board)
#         DIR/rpi4-fat/    for a Raspberry Pi 4's FAT partition, besides the Pi firmware:
#                          config.txt, bcm2711-rpi-4-b.dtb (Debian's), u-boot.bin (Debian's
#                          u-boot-rpi, rpi_arm64)
#   A     DIR/xen-flask    tools/rig/build-xen.sh with tools/rig/flask/vdisk.te (FLASK)
#         DIR/dom0.cpio    the rig's dom0 initramfs (base.cpio: busybox, xl, xenstored; a shell
#                          on the console) and, appended: /rig/vdisk.img, /usr/bin/vdisk-dom0,
#                          /etc/xen/auto/vdisk.cfg (tests/rig/vdisk-auto.cfg: dom0's init
#                          creates vdisk at boot), /etc/xen/fio-guest.cfg (tools/fio/fio-guest.cfg),
#                          /usr/bin/dom0-run.sh (tools/fio/dom0-run.sh), /rig/domu/Image and
#                          /rig/domu/guest.cpio (the fio guest)
#   B     DIR/xen          tools/rig/build-xen.sh (no FLASK policy)
#         DIR/vdisk.img    build/vdisk.img
#         DIR/guest.cpio   the fio guest: tools/rig/mk-domu-initrd.sh --blk (fio) with
#                          tools/fio/guest-run.sh as the script it runs at boot and tools/fio at
#                          /fio
#         DIR/guest-virtio.dtb   tools/boards/guest-virtio.dts, compiled
# Needs `make` first (build/vdisk.img; for A also `make build/dom0/vdisk-dom0`); the rest
# comes from the rig's cache ($VDISK_CACHE, default ~/.cache/vdisk), built there when missing
# (minutes the first time: Debian packages, Xen).
set -eu -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
usage() { sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
[ $# = 2 ] || usage
layout=$1 dir=$2
case $layout in A | a) layout=a ;; B | b) layout=b ;; *) usage ;; esac
# shellcheck source=tools/rig/common.sh
. "$top/tools/rig/common.sh"
RIG_DIR=$top/tools/rig
need_cmd cpio dtc
need=(build/vdisk.img)
[ "$layout" = a ] && need+=(build/dom0/vdisk-dom0)
for f in "${need[@]}"; do
	[ -f "$top/$f" ] || die "$top/$f missing: run make ${need[*]}"
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

"$RIG_DIR/fetch.sh"
"$RIG_DIR/mk-dom0.sh"
cp "$CACHE/dom0/Image" "$dir/Image"
# the fio guest: fio and the job files, tools/fio/guest-run.sh run at boot
mkdir -p "$CACHE/boards"
"$RIG_DIR/mk-domu-initrd.sh" "$CACHE/boards/guest.cpio" --blk --script "$top/tools/fio/guest-run.sh" \
	--add "$top/tools/fio:/fio"

kdirs=("$CACHE"/sysroot/usr/lib/linux-image-*-arm64) # the kernel fetch.sh unpacked
kdir=${kdirs[0]}
[ -d "$kdir/xilinx" ] || die "no kernel device trees in $CACHE/sysroot (tools/rig/fetch.sh)"
cp "$kdir/xilinx/zynqmp-zcu102-${ZCU102_DTB:-rev1.0}.dtb" "$dir/zcu102.dtb"
mkdir -p "$dir/rpi4-fat"
cp "$kdir/broadcom/bcm2711-rpi-4-b.dtb" "$dir/rpi4-fat/"
cat >"$dir/rpi4-fat/config.txt" <<'EOF'
# Raspberry Pi 4 firmware: 64-bit, U-Boot as the "kernel", the mini UART on GPIO 14/15
arm_64bit=1
enable_uart=1
kernel=u-boot.bin
EOF
work=$(mktemp -d "${TMPDIR:-/tmp}/vdisk-stage.XXXXXX")
trap 'rm -rf "$work"' EXIT
if (cd "$work" && rig_apt_get download u-boot-rpi >"$work/apt.log" 2>&1); then
	dpkg-deb -x "$work"/u-boot-rpi_*.deb "$work/u-boot"
	cp "$work/u-boot/usr/lib/u-boot/rpi_arm64/u-boot.bin" "$dir/rpi4-fat/u-boot.bin"
else
	msg "WARNING: could not download u-boot-rpi ($work/apt.log): get u-boot.bin yourself"
fi

if [ "$layout" = a ]; then
	RIG_XEN_VARIANT=flask RIG_XEN_FLASK_MODULES="$(echo "$RIG_DIR"/flask/*.te)" "$RIG_DIR/build-xen.sh"
	cp "$CACHE/xen-flask/xen" "$dir/xen-flask"
	ov=$work/overlay
	mkdir -p "$ov/rig/domu" "$ov/usr/bin" "$ov/etc/xen/auto"
	cp "$top/build/vdisk.img" "$ov/rig/vdisk.img"
	cp "$top/build/dom0/vdisk-dom0" "$ov/usr/bin/vdisk-dom0"
	cp "$top/tests/rig/vdisk-auto.cfg" "$ov/etc/xen/auto/vdisk.cfg"
	cp "$top/tools/fio/fio-guest.cfg" "$ov/etc/xen/fio-guest.cfg"
	cp "$top/tools/fio/dom0-run.sh" "$ov/usr/bin/dom0-run.sh"
	cp "$CACHE/dom0/Image" "$ov/rig/domu/Image"
	cp "$CACHE/boards/guest.cpio" "$ov/rig/domu/guest.cpio"
	(cd "$ov" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$work/overlay.cpio"
	# Linux unpacks concatenated newc archives, the later over the earlier
	cat "$CACHE/dom0/base.cpio" "$work/overlay.cpio" >"$dir/dom0.cpio"
else
	"$RIG_DIR/build-xen.sh"
	cp "$CACHE/xen/xen" "$dir/xen"
	cp "$top/build/vdisk.img" "$dir/vdisk.img"
	cp "$CACHE/boards/guest.cpio" "$dir/guest.cpio"
	dtc -q -I dts -O dtb -o "$dir/guest-virtio.dtb" "$top/tools/boards/guest-virtio.dts"
fi
cp "$top"/tools/boards/*-"$layout".board "$dir/"
msg "staged layout ${layout^^} in $dir: $(cd "$dir" && echo *)"
msg "next: tools/mkboot.py $dir/BOARD.board $dir/out"
