#!/bin/bash
# shellcheck disable=SC2015 # "A && B || C" is meant as "unless A and B, C"
# Build a busybox initramfs for a Linux domU (use the dom0 Image, $CACHE/dom0/Image, as kernel).
# Its /init mounts proc/sys/devtmpfs, insmods the chosen modules, prints
# "DOMU: hello from <hostname> (uptime S)", runs /rig/domu.sh if present and prints
# "DOMU: script exit N", then powers off (poweroff -f).
# Usage: tools/rig/mk-domu-initrd.sh OUT.cpio [--script FILE] [--add SRC:DEST]... [--modules "m1 m2"]
#                                    [--blk] [--zstd]
#   --script FILE   installed as /rig/domu.sh
#   --add SRC:DEST  extra file or directory at DEST
#   --modules LIST  kernel modules of the dom0 kernel (any in its package; dependencies are added
#                   and loaded first; default "virtio_mmio virtio_blk"; "" for none)
#   --blk           block-test guest: modules virtio_mmio virtio_blk ext4 loop (+ deps: jbd2 mbcache
#                   crc16 crc32c_generic), and Debian arm64 fio, mke2fs/mkfs.ext4, e2fsck/fsck.ext4
#                   with their shared-library closure (tools/rig/fetch-domu.sh); implies --zstd
#   --zstd          compress the archive with zstd (Linux unpacks it; a plain newc archive
#                   appended to it, e.g. with a script, is unpacked after it)
# OUT is left untouched (and not recompressed) when its content would not change.
set -eu -o pipefail
. "$(dirname -- "$0")/common.sh"
need_cmd cpio sha256sum
[ $# -ge 1 ] || { sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
OUTF=$1
shift
SCRIPT="" MODS="virtio_mmio virtio_blk" BLK=0 ZSTD=0
ADDS=()
while [ $# -gt 0 ]; do
	case $1 in
	--script) SCRIPT=${2:?}; shift 2 ;;
	--add) ADDS+=("${2:?}"); shift 2 ;;
	--modules) MODS=$2; shift 2 ;;
	--blk) BLK=1 ZSTD=1; shift ;;
	--zstd) ZSTD=1; shift ;;
	*) die "mk-domu-initrd: unknown argument '$1'" ;;
	esac
done
[ -f "$CACHE/dom0/stamp" ] && [ -f "$CACHE/dom0/kernel-version" ] || "$RIG_DIR/mk-dom0.sh"
KABI=$(cat "$CACHE/dom0/kernel-version")
[ "$BLK" = 1 ] && MODS="$MODS ext4 loop"
[ "$BLK" = 1 ] && "$RIG_DIR/fetch-domu.sh"
[ "$ZSTD" = 1 ] && need_cmd zstd

work=$(mktemp -d "${TMPDIR:-/tmp}/vdisk-domu.XXXXXX")
trap 'rm -rf "$work"' EXIT
R=$work/root
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,rig,etc/rig,run}
cp "$SYSROOT/bin/busybox" "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
ln -s /proc/mounts "$R/etc/mtab"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
# shellcheck disable=SC2086
"$RIG_DIR/kmods.sh" "$SYSROOT" "$KABI" "$R" $MODS >"$R/etc/rig/modules.load" ||
	die "kernel modules ($MODS) not found"

if [ "$BLK" = 1 ]; then
	DS=$CACHE/domu/sysroot
	bins="/usr/bin/fio /sbin/mke2fs /sbin/e2fsck"
	# shellcheck disable=SC2086
	libs=$("$RIG_DIR/elfdeps.sh" "$DS" $bins) || die "fio/e2fsprogs shared-library closure incomplete"
	for f in $bins $libs /etc/mke2fs.conf; do
		mkdir -p "$R$(dirname "$f")"
		cp -L "$DS$f" "$R$f"
	done
	for n in mkfs.ext4 mkfs.ext2; do ln -s mke2fs "$R/sbin/$n"; done
	for n in fsck.ext4 fsck.ext2; do ln -s e2fsck "$R/sbin/$n"; done
	echo "/lib/aarch64-linux-gnu
/usr/lib/aarch64-linux-gnu" >"$R/etc/ld.so.conf"
fi
[ -z "$SCRIPT" ] || install -m 755 "$SCRIPT" "$R/rig/domu.sh"
for a in "${ADDS[@]+"${ADDS[@]}"}"; do
	src=${a%%:*} dst=${a#*:}
	[ "$src" != "$a" ] && [ -e "$src" ] && [ "${dst#/}" != "$dst" ] || die "bad --add '$a' (SRC:/DEST, SRC must exist)"
	mkdir -p "$R$(dirname "$dst")"
	cp -a "$src" "$R$dst"
done
cat >"$R/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/
export LD_LIBRARY_PATH=/lib/aarch64-linux-gnu:/usr/lib/aarch64-linux-gnu
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/shm /dev/pts
mount -t tmpfs tmpfs /dev/shm
while read -r m; do insmod "$m" || echo "DOMU: insmod $m failed"; done </etc/rig/modules.load
echo "DOMU: hello from $(hostname) (uptime $(cut -d' ' -f1 /proc/uptime))"
if [ -f /rig/domu.sh ]; then
	sh /rig/domu.sh
	echo "DOMU: script exit $?"
fi
poweroff -f
sleep 10
INIT
chmod 755 "$R/init"
find "$R" -exec touch -h -d @0 {} + # same content, same archive (for the cache check below)
(cd "$R" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) >"$work/out.cpio"
key="$(sha256sum <"$work/out.cpio" | cut -d' ' -f1) zstd=$ZSTD"
if [ -f "$OUTF" ] && stamp_ok "$OUTF.key" "$key"; then
	msg "domU initramfs: $OUTF (cached: yes)"
	exit 0
fi
rm -f "$OUTF.key"
if [ "$ZSTD" = 1 ]; then
	zstd -q -f -12 -T0 "$work/out.cpio" -o "$work/out.cpio.zst"
	mv "$work/out.cpio.zst" "$OUTF"
else
	mv "$work/out.cpio" "$OUTF"
fi
echo "$key" >"$OUTF.key"
msg "domU initramfs: $OUTF ($(($(stat -c %s "$OUTF") / 1024)) KB$([ "$ZSTD" = 1 ] && echo ", zstd"); modules:${MODS:+ $MODS}$([ "$BLK" = 1 ] && echo "; fio, mke2fs, e2fsck"))"
