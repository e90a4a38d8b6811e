#!/bin/bash
# shellcheck disable=SC2015 # "A && B || C" is meant as "unless A and B, C"
# Build the dom0 pieces from the arm64 sysroot (fetch.sh):
#   $CACHE/dom0/Image       Debian's arm64 kernel Image (decompressed if needed)
#   $CACHE/dom0/base.cpio   newc initramfs: busybox, Xen tools + libs, Xen/virtio modules, /init
#   $CACHE/dom0/kernel-version
#   (also /usr/bin/rig-now in dom0: CLOCK_MONOTONIC in ns, built from tools/rig/dom0/rig-now.c)
# /init brings up the Xen toolstack, prints "RIG: dom0 ready", creates the domains of
# /etc/xen/auto/*.cfg (xendomains' directory), runs /rig/scenario.sh if present
# (overlay cpio from boot.sh) and prints "RIG: scenario exit N", then powers off; with no
# scenario it gives a shell on the console.
# Usage: tools/rig/mk-dom0.sh
# Env: RIG_DOM0_MODULES  kernel modules to include and load at boot (default below; deps added).
set -eu
. "$(dirname -- "$0")/common.sh"
need_cmd cpio aarch64-linux-gnu-objcopy aarch64-linux-gnu-gcc aarch64-linux-gnu-strip sha256sum

[ -f "$SYSROOT.stamp" ] && [ -f "$CACHE/kernel-abi" ] || "$RIG_DIR/fetch.sh"
rig_lock mk-dom0

KABI=$(cat "$CACHE/kernel-abi")
MODULES=${RIG_DOM0_MODULES:-xen-evtchn xen-privcmd xen-gntdev xen-gntalloc xenfs virtio_mmio virtio_blk}
OUT=$CACHE/dom0
key=$({
	cat "$SYSROOT.stamp"
	echo "$KABI $MODULES"
	cat "$0" "$RIG_DIR/dom0-bins.sh" "$RIG_DIR/elfdeps.sh" "$RIG_DIR/dom0/rig-now.c"
} | sha256sum | cut -d' ' -f1)
if stamp_ok "$OUT/stamp" "$key" && [ -f "$OUT/Image" ] && [ -f "$OUT/base.cpio" ]; then
	msg "dom0 Image + base.cpio, kernel $KABI (cached: yes)"
	exit 0
fi
msg "building dom0 Image + base.cpio, kernel $KABI (cached: no)"
rm -f "$OUT/stamp"
mkdir -p "$OUT"

# ---- kernel Image ----
vmlinuz=$SYSROOT/boot/vmlinuz-$KABI
[ -f "$vmlinuz" ] || die "$vmlinuz missing"
case $(od -An -tx1 -N2 "$vmlinuz" | tr -d ' ') in
1f8b) gzip -dc "$vmlinuz" >"$OUT/Image.new" ;;
*) cp "$vmlinuz" "$OUT/Image.new" ;;
esac
# arm64 Image header: "ARM\x64" magic at offset 56
[ "$(od -An -c -j56 -N3 "$OUT/Image.new" | tr -d ' ')" = ARM ] || die "$vmlinuz is not an arm64 Image"
mv "$OUT/Image.new" "$OUT/Image"
echo "$KABI" >"$OUT/kernel-version"

# ---- initramfs tree ----
R=$OUT/root
rm -rf "$R"
mkdir -p "$R"
for d in bin sbin usr/bin usr/sbin etc/xen etc/rig dev proc sys run tmp rig root \
	var/lib/xen var/lib/xenstored var/log/xen/console var/lock; do
	mkdir -p "$R/$d"
done
ln -s ../run "$R/var/run"
cp "$SYSROOT/bin/busybox" "$R/bin/busybox"
ln -s busybox "$R/bin/sh" # the other applets are linked by /init (busybox --install -s)

# Xen tools: same paths as Debian, plus links in /usr/sbin and /usr/bin for PATH users.
bins=$(sh "$RIG_DIR/dom0-bins.sh" "$SYSROOT")
for f in $bins; do
	mkdir -p "$R$(dirname "$f")"
	cp -L "$SYSROOT$f" "$R$f"
done
for f in $bins; do
	case $f in /usr/lib/xen-4.17/bin/*) ;; *) continue ;; esac
	n=$(basename "$f")
	[ -e "$R/usr/sbin/$n" ] || ln -s "../lib/xen-4.17/bin/$n" "$R/usr/sbin/$n"
done
# xenstore-read/write/ls/rm/watch/...: Debian ships them as hard links of the multi-call 'xenstore'.
xs_ino=$(stat -c %i "$SYSROOT/usr/bin/xenstore")
for f in "$SYSROOT"/usr/bin/xenstore-*; do
	n=$(basename "$f")
	if [ "$(stat -c %i "$f")" = "$xs_ino" ]; then
		ln -s xenstore "$R/usr/bin/$n"
	else
		cp "$f" "$R/usr/bin/$n"
		bins="$bins /usr/bin/$n"
	fi
done
# shellcheck disable=SC2086
libs=$("$RIG_DIR/elfdeps.sh" "$SYSROOT" $bins) || die "shared-library closure incomplete (see above)"
for l in $libs; do
	mkdir -p "$R$(dirname "$l")"
	cp -L "$SYSROOT$l" "$R$l"
done
# rig-now: nanosecond clock for scenarios (static, from the host's cross toolchain)
aarch64-linux-gnu-gcc -static -O2 -Wall -o "$R/usr/bin/rig-now" "$RIG_DIR/dom0/rig-now.c" ||
	die "cannot build rig-now with aarch64-linux-gnu-gcc -static (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross)"
aarch64-linux-gnu-strip "$R/usr/bin/rig-now"
cp "$SYSROOT/etc/xen/xl.conf" "$R/etc/xen/xl.conf" 2>/dev/null || : >"$R/etc/xen/xl.conf"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\ntty:x:5:\n' >"$R/etc/group"
echo dom0 >"$R/etc/hostname"
echo "/lib/aarch64-linux-gnu
/usr/lib/aarch64-linux-gnu" >"$R/etc/ld.so.conf"

# ---- kernel modules (+ dependencies from .modinfo, in load order) ----
MD=/lib/modules/$KABI
[ -d "$SYSROOT$MD/kernel" ] || die "$SYSROOT$MD/kernel missing"
tmpd=$(mktemp -d)
trap 'rm -rf "$tmpd"' EXIT
# index: "normalised_name relative_path" for every module file of the kernel
(cd "$SYSROOT$MD" && find kernel -name '*.ko*') |
	awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko.*$/, "", n); gsub(/-/, "_", n); print n, $0 }' >"$tmpd/index"
modpath() { # name -> path (relative to $MD) of the module file
	awk -v n="$(echo "$1" | tr '-' '_')" '$1 == n { print $2; exit }' "$tmpd/index"
}
order=""
deplines=""
visit() { # depth-first: dependencies first
	local _p _dst _deps _deppaths _d _dp
	case " $order " in *" $1 "*) return 0 ;; esac
	_p=$(modpath "$1")
	[ -n "$_p" ] || {
		grep -q "/$(echo "$1" | tr '-' '_').ko" "$SYSROOT$MD/modules.builtin" 2>/dev/null ||
			grep -q "/$1.ko" "$SYSROOT$MD/modules.builtin" 2>/dev/null ||
			die "kernel module $1 not found in $KABI"
		msg "module $1 is built into the kernel"
		return 0
	}
	_dst=${_p%.ko*}.ko
	mkdir -p "$R$MD/$(dirname "$_dst")"
	case $_p in
	*.ko) cp "$SYSROOT$MD/$_p" "$R$MD/$_dst" ;;
	*.ko.xz) xz -dc "$SYSROOT$MD/$_p" >"$R$MD/$_dst" ;;
	*.ko.zst) zstd -qdc "$SYSROOT$MD/$_p" >"$R$MD/$_dst" ;;
	*.ko.gz) gzip -dc "$SYSROOT$MD/$_p" >"$R$MD/$_dst" ;;
	*) die "unknown module compression: $_p" ;;
	esac
	aarch64-linux-gnu-objcopy -O binary --only-section=.modinfo "$R$MD/$_dst" "$tmpd/modinfo"
	_deps=$(tr '\0' '\n' <"$tmpd/modinfo" | sed -n 's/^depends=//p' | tr ',' ' ')
	_deppaths=""
	for _d in $_deps; do
		visit "$_d"
		_dp=$(modpath "$_d")
		[ -n "$_dp" ] && _deppaths="$_deppaths ${_dp%.ko*}.ko"
	done
	order="$order $1"
	echo "$MD/$_dst" >>"$R/etc/rig/modules.load"
	deplines="$deplines$_dst:$_deppaths
"
}
: >"$R/etc/rig/modules.load"
for m in $MODULES; do visit "$m"; done
printf '%s' "$deplines" >"$R$MD/modules.dep"
for f in modules.builtin modules.order; do
	[ -f "$SYSROOT$MD/$f" ] && cp "$SYSROOT$MD/$f" "$R$MD/$f"
done
msg "modules (load order):$order"

# ---- /init ----
cat >"$R/init" <<'EOF'
#!/bin/busybox sh
# vdisk rig dom0 init (generated by tools/rig/mk-dom0.sh)
/bin/busybox --install -s
export PATH=/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LD_LIBRARY_PATH=/lib/aarch64-linux-gnu:/usr/lib/aarch64-linux-gnu
export HOME=/root TERM=${TERM:-vt100}
fail() { echo "RIG: dom0 init FAILED: $*"; echo "RIG: scenario exit 99"; poweroff -f; sleep 10; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs tmpfs /run
mkdir -p /var/lock /run/xen /run/xenstored /var/log/xen/console /var/lib/xen /var/lib/xenstored /tmp
hostname dom0

while read -r m; do
	insmod "$m" || fail "insmod $m"
done </etc/rig/modules.load
mkdir -p /proc/xen
mount -t xenfs xenfs /proc/xen || fail "mount xenfs"

xenstored --pid-file=/run/xen/xenstored.pid || fail "xenstored"
i=0
until xenstore-read -s / >/dev/null 2>&1 || xenstore-exists / 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "xenstored does not answer"
	sleep 0.1
done
xen-init-dom0 >/var/log/xen/xen-init-dom0.log 2>&1 || { cat /var/log/xen/xen-init-dom0.log; fail "xen-init-dom0"; }
xenconsoled --pid-file=/run/xen/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console ||
	fail "xenconsoled"
echo "RIG: dom0 ready"

# Domains to start at boot, as Xen's xendomains service does on a Debian dom0: every xl
# configuration in /etc/xen/auto (layout A: vdisk's domain comes up with dom0).
for cfg in /etc/xen/auto/*.cfg; do
	[ -f "$cfg" ] || continue
	if xl create "$cfg" >/var/log/xen/autostart.log 2>&1; then
		echo "RIG: started $cfg"
	else
		echo "RIG: xl create $cfg FAILED: $(tail -n 3 /var/log/xen/autostart.log)"
	fi
done

if [ -f /rig/scenario.sh ]; then
	chmod +x /rig/scenario.sh
	cd /rig
	sh /rig/scenario.sh </dev/null
	rc=$?
	cd /
	echo "RIG: scenario exit $rc"
	sync
	poweroff -f
	sleep 10
fi
echo "RIG: no /rig/scenario.sh: shell on the console ('poweroff -f' to quit)"
setsid cttyhack sh -l
poweroff -f
EOF
chmod 755 "$R/init"

# ---- pack ----
(cd "$R" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) >"$OUT/base.cpio.new"
mv "$OUT/base.cpio.new" "$OUT/base.cpio"
echo "$key" >"$OUT/stamp"
msg "dom0 ready: $OUT/Image ($(($(stat -c %s "$OUT/Image") / 1048576)) MB), $OUT/base.cpio ($(($(stat -c %s "$OUT/base.cpio") / 1048576)) MB)"
