#!/bin/sh
# Install the Debian packages vdisk's build, tests and rig need on the host.
# Idempotent: installs only what is missing. Called by the Makefile; safe to run by hand.
set -eu

# ipxe-qemu: QEMU's virt machine loads efi-virtio.rom for its default NIC and will not start
# without it; it is only a Recommends of qemu-system-arm (--no-install-recommends skips it).
PACKAGES="
make gcc libc6-dev clang llvm libclang-rt-14-dev
gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross
picolibc-aarch64-linux-gnu libxen-dev libfdt-dev device-tree-compiler
qemu-system-arm ipxe-qemu u-boot-qemu u-boot-tools mtools python3-matplotlib
cpio flex bison bc python3 xz-utils zstd dpkg-dev
checkpolicy m4 valgrind
"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
