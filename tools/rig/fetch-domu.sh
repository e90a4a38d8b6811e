#!/bin/sh
# Fetch the arm64 Debian userland for Linux test guests (domUs) of the virtio-blk tests:
# fio and e2fsprogs (mke2fs/mkfs.ext4, e2fsck/fsck.ext4) with the closure of their shared
# libraries, into ${VDISK_CACHE:-~/.cache/vdisk}/domu/ (kept apart from fetch.sh's sysroot):
#   domu/debs/     downloaded .deb files
#   domu/sysroot/  unpacked with dpkg -x
# Uses fetch.sh's private arm64 apt state (runs fetch.sh first). The library closure is taken
# from the packages' Depends (lib* packages) and then checked against the binaries' real ELF
# NEEDED entries (elfdeps.sh); it fails naming a missing library.
# Usage: tools/rig/fetch-domu.sh
# Env: RIG_DOMU_PKGS   packages (default "fio e2fsprogs"), RIG_DOMU_BINS  binaries to check
#      (default "/usr/bin/fio /sbin/mke2fs /sbin/e2fsck"), RIG_DOMU_EXTRA_LIBPKGS
set -eu
. "$(dirname -- "$0")/common.sh"
need_cmd apt-get apt-cache dpkg-deb aarch64-linux-gnu-readelf flock sha256sum
"$RIG_DIR/fetch.sh"
rig_lock fetch-domu

ROOTS=${RIG_DOMU_PKGS:-fio e2fsprogs}
BINS=${RIG_DOMU_BINS:-/usr/bin/fio /sbin/mke2fs /sbin/e2fsck}
OUT=$CACHE/domu
DEBS=$OUT/debs
DSYS=$OUT/sysroot
key=$({
	stat -c %Y "$APTDIR/updated"
	echo "$ROOTS | $BINS | ${RIG_DOMU_EXTRA_LIBPKGS:-}"
	cat "$0" "$RIG_DIR/elfdeps.sh"
} | sha256sum | cut -d' ' -f1)
if stamp_ok "$OUT/fetch.stamp" "$key" && [ -d "$DSYS" ]; then
	msg "domU userland ($ROOTS) in $DSYS (cached: yes)"
	exit 0
fi
rm -f "$OUT/fetch.stamp"

# Library closure by Depends/Pre-Depends (lib* and zlib1g only, as fetch.sh does).
LIBPKGS=$(rig_lib_closure $ROOTS)
PKGS="$ROOTS $LIBPKGS ${RIG_DOMU_EXTRA_LIBPKGS:-}"

# shellcheck disable=SC2086
rig_fetch_debs "$DEBS" "domUs" $PKGS
rig_unpack_debs "$DEBS" "$DSYS"
for b in $BINS; do [ -f "$DSYS$b" ] || die "$b not in the domU packages ($ROOTS)"; done
# shellcheck disable=SC2086
"$RIG_DIR/elfdeps.sh" "$DSYS" $BINS >/dev/null ||
	die "shared-library closure incomplete: add the package providing it to RIG_DOMU_EXTRA_LIBPKGS"
echo "$key" >"$OUT/fetch.stamp"
msg "domU userland: $(echo "$manifest" | wc -l) debs, closure of $BINS complete"
