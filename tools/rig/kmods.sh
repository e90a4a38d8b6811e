#!/bin/sh
# Copy kernel modules and their dependencies (modinfo "depends=" and "softdep=pre:", the latter
# by module name or alias, e.g. crypto-crc32c -> crc32c_generic) from the arm64 sysroot's kernel
# into a root tree, decompressed.
# Usage: tools/rig/kmods.sh SYSROOT KABI DESTROOT MODULE...
# Prints the modules' paths inside DESTROOT, one a line, in load order (dependencies first).
# Modules built into the kernel are skipped (named on stderr). Exits 1 if one is not found.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 SYSROOT KABI DESTROOT MODULE..." >&2; exit 2; }
ROOT=$1 KABI=$2 DEST=$3
shift 3
MD=/lib/modules/$KABI
[ -d "$ROOT$MD/kernel" ] || { echo "kmods: $ROOT$MD/kernel missing" >&2; exit 1; }
tmpd=$(mktemp -d)
trap 'rm -rf "$tmpd"' EXIT
(cd "$ROOT$MD" && find kernel -name '*.ko*') |
	awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko.*$/, "", n); gsub(/-/, "_", n); print n, $0 }' >"$tmpd/index"
norm() { echo "$1" | tr '-' '_'; }
modpath() { awk -v n="$(norm "$1")" '$1 == n { print $2; exit }' "$tmpd/index"; }
builtin() { grep -q "/$(norm "$1").ko\$\|/$1.ko\$" "$ROOT$MD/modules.builtin" 2>/dev/null; }
# alias_provider ALIAS: the module (file in this kernel) declaring "alias=ALIAS" (softdeps name
# aliases such as crypto-crc32c); a *_generic one first. Builtin providers print nothing.
alias_provider() {
	grep -q -a -x "alias=$1" "$ROOT$MD/modules.builtin.modinfo" 2>/dev/null ||
		grep -q -a "[.]alias=$1\$" "$ROOT$MD/modules.builtin.modinfo" 2>/dev/null && return 0
	(cd "$ROOT$MD" && grep -rl -a --include='*.ko*' "alias=$1" kernel 2>/dev/null) |
		sed 's|.*/||; s|\.ko.*$||' | awk '/_generic$/ { print; found = 1; exit } { l[NR] = $0 } END { if (!found && NR) print l[1] }'
}
order=" "
visit() { # NAME: its dependencies first, then itself
	# shellcheck disable=SC3043 # dash and busybox sh have local
	local _n _p _dst _d _deps _a
	_n=$(norm "$1")
	case "$order" in *" $_n "*) return 0 ;; esac
	order="$order$_n " # before recursing: breaks cycles
	_p=$(modpath "$_n")
	if [ -z "$_p" ]; then
		builtin "$_n" && { echo "kmods: $_n is built into the kernel" >&2; return 0; }
		echo "kmods: module $_n not found in $KABI" >&2
		exit 1
	fi
	_dst=$MD/${_p%.ko*}.ko
	mkdir -p "$DEST$(dirname "$_dst")"
	case $_p in
	*.ko) cp "$ROOT$MD/$_p" "$DEST$_dst" ;;
	*.ko.xz) xz -dc "$ROOT$MD/$_p" >"$DEST$_dst" ;;
	*.ko.zst) zstd -qdc "$ROOT$MD/$_p" >"$DEST$_dst" ;;
	*.ko.gz) gzip -dc "$ROOT$MD/$_p" >"$DEST$_dst" ;;
	*) echo "kmods: unknown module compression: $_p" >&2; exit 1 ;;
	esac
	aarch64-linux-gnu-objcopy -O binary --only-section=.modinfo "$DEST$_dst" "$tmpd/mi"
	_deps="$(tr '\0' '\n' <"$tmpd/mi" | sed -n 's/^depends=//p' | tr ',' ' ')"
	_deps="$_deps $(tr '\0' '\n' <"$tmpd/mi" | sed -n 's/^softdep=.*pre: *//p' | sed 's/ *post:.*//')"
	for _d in $_deps; do
		if [ -n "$(modpath "$_d")" ]; then
			visit "$_d"
		elif ! builtin "$_d"; then
			_a=$(alias_provider "$_d")
			if [ -n "$_a" ]; then
				visit "$_a"
			else
				echo "kmods: note: $_n wants '$_d': no module provides it" >&2
			fi
		fi
	done
	echo "$_dst" >>"$tmpd/load"
}
: >"$tmpd/load"
for m in "$@"; do visit "$m"; done
cat "$tmpd/load"
