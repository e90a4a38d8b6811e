#!/bin/sh
# shellcheck disable=SC2015 # "A && B || C" is meant as "unless A and B, C"
# Build the arm64 Xen hypervisor from Debian's xen source package (fetched by fetch.sh) with
# CONFIG_IOREQ_SERVER=y (Debian's binary lacks it). Result: $CACHE/xen/xen (+ xen-syms, config),
# or $CACHE/xen-VARIANT/xen for a named variant (RIG_XEN_VARIANT), so variants do not evict
# each other. Rebuilds only when an input changes (source version, config fragment, FLASK
# modules, this script).
# Usage: tools/rig/build-xen.sh
# Env (hooks, all optional; they are part of the cache key):
#   RIG_XEN_VARIANT        name of the build ([a-z0-9-]); output in $CACHE/xen-NAME instead of
#                          $CACHE/xen (boot.sh --xsm flask builds variant "flask" with
#                          tools/rig/flask/vdisk.te)
#   RIG_XEN_KCONFIG        extra Kconfig lines appended before olddefconfig (newline-separated),
#                          e.g. "CONFIG_DEBUG=y"
#   RIG_XEN_FLASK_MODULES  space-separated FLASK policy module files (NAME.te, optional NAME.if /
#                          NAME.fc next to it): copied into tools/flask/policy/modules/, enabled in
#                          modules.conf, and the policy is built into Xen (CONFIG_XSM_FLASK_POLICY=y,
#                          needs the host's checkpolicy + m4). Boot with RIG_XEN_ARGS=".. xsm=flask
#                          flask=enforcing" to use it.
set -eu
. "$(dirname -- "$0")/common.sh"
need_cmd aarch64-linux-gnu-gcc make flex bison sha256sum

[ -f "$CACHE/src/xen.stamp" ] && [ -d "$CACHE/src/xen/xen" ] || "$RIG_DIR/fetch.sh"
rig_lock build-xen

XVER=$(cat "$CACHE/src/xen.stamp")
VARIANT=${RIG_XEN_VARIANT:-}
case $VARIANT in *[!a-z0-9-]*) die "RIG_XEN_VARIANT '$VARIANT': use [a-z0-9-]" ;; esac
OUT=$CACHE/xen${VARIANT:+-$VARIANT}
FRAG="CONFIG_EXPERT=y
CONFIG_IOREQ_SERVER=y
CONFIG_XSM=y
CONFIG_XSM_FLASK=y"
FLASK_MODS=${RIG_XEN_FLASK_MODULES:-}
[ -n "$FLASK_MODS" ] && FRAG="$FRAG
CONFIG_XSM_FLASK_POLICY=y"
[ -n "${RIG_XEN_KCONFIG:-}" ] && FRAG="$FRAG
$RIG_XEN_KCONFIG"

key=$({
	echo "xen-src $XVER"
	echo "$FRAG"
	cat "$0"
	for m in $FLASK_MODS; do
		[ -f "$m" ] || die "FLASK module $m not found"
		for f in "$m" "${m%.te}.if" "${m%.te}.fc"; do [ -f "$f" ] && { echo "== ${f##*/}"; cat "$f"; }; done
	done
	aarch64-linux-gnu-gcc --version | head -n 1
} | sha256sum | cut -d' ' -f1)

if stamp_ok "$OUT/stamp" "$key" && [ -f "$OUT/xen" ]; then
	msg "xen $XVER${VARIANT:+ ($VARIANT)} (cached: yes)"
	exit 0
fi

msg "building xen $XVER${VARIANT:+ ($VARIANT)} (cached: no) -> $OUT/xen"
t0=$(date +%s)
B=$OUT/build
rm -rf "$B" "$OUT/stamp"
mkdir -p "$OUT"
cp -a "$CACHE/src/xen" "$B"

for m in $FLASK_MODS; do
	name=$(basename "$m" .te)
	for f in "$m" "${m%.te}.if" "${m%.te}.fc"; do
		[ -f "$f" ] && cp "$f" "$B/tools/flask/policy/modules/"
	done
	echo "$name = on" >>"$B/tools/flask/policy/modules/modules.conf"
done

LOG=$OUT/build.log
MK="make -C $B/xen XEN_TARGET_ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-"
{
	$MK defconfig &&
		echo "$FRAG" >>"$B/xen/.config" &&
		$MK olddefconfig &&
		$MK -j"$(nproc)"
} >"$LOG" 2>&1 || { tail -n 40 "$LOG" >&2; die "xen build failed (full log: $LOG)"; }

for l in $(echo "$FRAG" | grep '=y$'); do
	grep -qx "$l" "$B/xen/.config" || die "xen .config lacks $l after olddefconfig (dependency missing?)"
done
cp "$B/xen/xen" "$OUT/xen.new" && mv "$OUT/xen.new" "$OUT/xen"
cp "$B/xen/xen-syms" "$OUT/xen-syms"
cp "$B/xen/.config" "$OUT/config"
echo "$key" >"$OUT/stamp"
msg "xen built in $(($(date +%s) - t0)) s: $OUT/xen ($(grep -E '^CONFIG_(IOREQ_SERVER|XSM_FLASK|XSM_FLASK_POLICY)=' "$OUT/config" | tr '\n' ' '))"
