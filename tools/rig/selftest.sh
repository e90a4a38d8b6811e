#!/bin/bash
# Rig self-test: boot Xen + dom0 under GICv3 and GICv2 and run selftest/xl-smoke.sh
# (xl info/list, xenstore, a Linux domU whose output must arrive through `xl console`).
# Usage: tools/rig/selftest.sh [GIC...]   (default: 3 2); extra boot.sh options via RIG_BOOT_OPTS
set -eu
. "$(dirname -- "$0")/common.sh"
"$RIG_DIR/fetch.sh"
"$RIG_DIR/build-xen.sh"
"$RIG_DIR/mk-dom0.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/vdisk-selftest.XXXXXX")
trap 'rm -rf "$work"' EXIT
printf 'echo "DOMU: script running"\nsleep 4\n' >"$work/domu.sh"
"$RIG_DIR/mk-domu-initrd.sh" "$work/domu.cpio" --script "$work/domu.sh" --modules ""
rc=0
mkdir -p "$CACHE/logs"
gics=("$@")
[ ${#gics[@]} -gt 0 ] || gics=(3 2)
for gic in "${gics[@]}"; do
	t0=$(date +%s)
	# shellcheck disable=SC2086
	if "$RIG_DIR/boot.sh" --no-prepare --gic "$gic" ${RIG_BOOT_OPTS:-} \
		--scenario "$RIG_DIR/selftest/xl-smoke.sh" \
		--add "$CACHE/dom0/Image:/rig/domu/Image" --add "$work/domu.cpio:/rig/domu/initrd.cpio" \
		--log "$CACHE/logs/selftest-gic$gic.log" --timeout 400 >/dev/null; then
		msg "selftest gic $gic: PASS ($(($(date +%s) - t0)) s, log $CACHE/logs/selftest-gic$gic.log)"
	else
		msg "selftest gic $gic: FAIL ($(($(date +%s) - t0)) s, log $CACHE/logs/selftest-gic$gic.log)"
		rc=1
	fi
	tr -d '\r' <"$CACHE/logs/selftest-gic$gic.log" | grep -E '^(SMOKE|RIG|RIG-[A-Z]*):' | sed "s/^/  gic$gic: /" >&2 || true
done
exit $rc
