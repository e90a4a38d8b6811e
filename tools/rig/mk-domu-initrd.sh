#!/bin/bash
# shellcheck disable=SC2015 # "A && B || C" is meant as "unless A and B, C"
# Build a tiny busybox initramfs for a Linux domU (use the dom0 Image as the domU kernel).
# Its /init mounts proc/sys/devtmpfs, insmods the chosen modules, prints
# "DOMU: hello from <hostname> (uptime S)", runs /rig/domu.sh if present and prints
# "DOMU: script exit N", then powers off (poweroff -f).
# Usage: tools/rig/mk-domu-initrd.sh OUT.cpio [--script FILE] [--add SRC:DEST]... [--modules "m1 m2"]
#   --script FILE   installed as /rig/domu.sh
#   --add SRC:DEST  extra file or directory at DEST
#   --modules LIST  kernel modules from dom0's set (mk-dom0.sh; default "virtio_mmio virtio_blk";
#                   "" for none), loaded with their dependencies in order
set -eu
. "$(dirname -- "$0")/common.sh"
need_cmd cpio
[ $# -ge 1 ] || { sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
OUTF=$1
shift
SCRIPT="" MODS="virtio_mmio virtio_blk"
ADDS=()
while [ $# -gt 0 ]; do
	case $1 in
	--script) SCRIPT=${2:?}; shift 2 ;;
	--add) ADDS+=("${2:?}"); shift 2 ;;
	--modules) MODS=$2; shift 2 ;;
	*) die "mk-domu-initrd: unknown argument '$1'" ;;
	esac
done
D0=$CACHE/dom0/root
[ -f "$CACHE/dom0/stamp" ] && [ -d "$D0" ] || "$RIG_DIR/mk-dom0.sh"
KABI=$(cat "$CACHE/dom0/kernel-version")
MD=/lib/modules/$KABI

work=$(mktemp -d "${TMPDIR:-/tmp}/vdisk-domu.XXXXXX")
trap 'rm -rf "$work"' EXIT
R=$work/root
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,rig,etc/rig}
cp "$SYSROOT/bin/busybox" "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
: >"$R/etc/rig/modules.load"
for m in $MODS; do
	n=$(echo "$m" | tr '-' '_')
	path=$(awk -F: -v n="$n" '{ b = $1; sub(/.*\//, "", b); sub(/\.ko$/, "", b); gsub(/-/, "_", b); if (b == n) { print $0; exit } }' "$D0$MD/modules.dep")
	[ -n "$path" ] || die "module $m is not in dom0's module set (RIG_DOM0_MODULES of mk-dom0.sh)"
	for p in ${path#*:} ${path%%:*}; do # dependencies first
		grep -qx "$MD/$p" "$R/etc/rig/modules.load" && continue
		mkdir -p "$R$MD/$(dirname "$p")"
		cp "$D0$MD/$p" "$R$MD/$p"
		echo "$MD/$p" >>"$R/etc/rig/modules.load"
	done
done
[ -z "$SCRIPT" ] || install -m 755 "$SCRIPT" "$R/rig/domu.sh"
for a in "${ADDS[@]+"${ADDS[@]}"}"; do
	src=${a%%:*} dst=${a#*:}
	[ "$src" != "$a" ] && [ -e "$src" ] && [ "${dst#/}" != "$dst" ] || die "bad --add '$a' (SRC:/DEST, SRC must exist)"
	mkdir -p "$R$(dirname "$dst")"
	cp -a "$src" "$R$dst"
done
cat >"$R/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do insmod "$m" || echo "DOMU: insmod $m failed"; done </etc/rig/modules.load
echo "DOMU: hello from $(hostname) (uptime $(cut -d' ' -f1 /proc/uptime))"
if [ -f /rig/domu.sh ]; then
	sh /rig/domu.sh
	echo "DOMU: script exit $?"
fi
poweroff -f
sleep 10
EOF
chmod 755 "$R/init"
(cd "$R" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$OUTF"
msg "domU initramfs: $OUTF ($(($(stat -c %s "$OUTF") / 1024)) KB; modules:${MODS:+ $MODS})"
