#!/bin/sh
# Fetch the arm64 Debian pieces the rig needs, into ${VDISK_CACHE:-~/.cache/vdisk}:
#   apt/      private apt state (arm64 only; host apt/dpkg state is never touched)
#   debs/     downloaded .deb files
#   sysroot/  all of them unpacked with dpkg -x (kernel, busybox, Xen tools, libs, libfdt-dev)
#   src/xen/  Debian's xen source package, unpacked with dpkg-source -x (patches applied)
#   kernel-abi, xen-src-version   resolved names, for the other scripts
# Usage: tools/rig/fetch.sh
# Env: RIG_APT_MAX_AGE (seconds before apt lists are refreshed, default 21600; 0 = always),
#      RIG_OFFLINE=1 (never run apt-get update; use cached lists),
#      RIG_DEBIAN_MIRROR / RIG_SECURITY_MIRROR (default: the ones in /etc/apt/sources.list*),
#      RIG_SUITE (default bookworm).
set -eu
. "$(dirname -- "$0")/common.sh"
need_cmd apt-get apt-cache dpkg-deb dpkg-source aarch64-linux-gnu-readelf flock

rig_lock fetch

SUITE=${RIG_SUITE:-bookworm}
MAX_AGE=${RIG_APT_MAX_AGE:-21600}

# ---- 1. private apt state -------------------------------------------------

# Print the URIs of enabled 'deb' entries in the host's apt sources (both formats).
host_uris() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i !~ /=/) { print $i, $(i+1); break } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no") { n = split(suites, s, " "); m = split(uris, u, " "); for (i = 1; i <= m; i++) for (j = 1; j <= n; j++) print u[i], s[j] } types = uris = suites = ""; enabled = "" }
		     /^[ \t]*$/ { flush(); next }
		     /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
		     /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
		     /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
		     /^Enabled:/ { enabled = tolower($2) }
		     END { flush() }' "$f"
	done
}
pick_mirror() { # suite default
	_m=$(host_uris | awk -v s="$1" '$2 == s { print $1; exit }')
	echo "${_m:-$2}"
}
MIRROR=${RIG_DEBIAN_MIRROR:-$(pick_mirror "$SUITE" http://deb.debian.org/debian)}
SECMIRROR=${RIG_SECURITY_MIRROR:-$(pick_mirror "$SUITE-security" http://deb.debian.org/debian-security)}
MIRROR=${MIRROR%/}
SECMIRROR=${SECMIRROR%/}

mkdir -p "$APTDIR/etc/sources.list.d" "$APTDIR/etc/preferences.d" "$APTDIR/lists/partial" \
	"$APTDIR/state" "$APTDIR/cache" "$APTDIR/archives/partial"
[ -f "$APTDIR/state/status" ] || : >"$APTDIR/state/status"
KR=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$KR" ] || die "$KR missing (install debian-archive-keyring)"
src_new=$(
	for t in deb deb-src; do
		echo "$t [signed-by=$KR] $MIRROR $SUITE main"
		echo "$t [signed-by=$KR] $MIRROR $SUITE-updates main"
		echo "$t [signed-by=$KR] $SECMIRROR $SUITE-security main"
	done
)
refresh=no
if ! stamp_ok "$APTDIR/etc/sources.list" "$src_new"; then
	echo "$src_new" >"$APTDIR/etc/sources.list"
	refresh=yes
fi
if [ ! -f "$APTDIR/updated" ]; then
	refresh=yes
elif [ "$MAX_AGE" -eq 0 ] ||
	[ $(($(date +%s) - $(stat -c %Y "$APTDIR/updated"))) -ge "$MAX_AGE" ]; then
	refresh=yes
fi
[ "${RIG_OFFLINE:-0}" = 1 ] && [ -f "$APTDIR/updated" ] && refresh=no
if [ "$refresh" = yes ]; then
	msg "apt update (arm64, $MIRROR $SUITE{,-updates}, $SECMIRROR $SUITE-security)"
	if rig_apt_get update >"$APTDIR/update.log" 2>&1; then
		grep -E '^(W|E):' "$APTDIR/update.log" >&2 || true
		touch "$APTDIR/updated"
	elif [ -f "$APTDIR/updated" ] && [ -f "$CACHE/fetch.stamp" ]; then
		grep -E '^(W|E|Err):' "$APTDIR/update.log" | head -n 5 >&2 || true
		msg "WARNING: apt-get update failed; carrying on with the cached lists and packages"
		refresh=no
	else
		cat "$APTDIR/update.log" >&2
		die "apt-get update failed (log: $APTDIR/update.log)"
	fi
else
	msg "apt lists are fresh (cached: yes)"
fi

# Fast path: nothing to do when the lists did not change since the last complete run.
fkey=$({
	stat -c %Y "$APTDIR/updated"
	cat "$APTDIR/etc/sources.list" "$0" "$RIG_DIR/elfdeps.sh" "$RIG_DIR/dom0-bins.sh"
	echo "${RIG_EXTRA_LIBPKGS:-}"
} | sha256sum | cut -d' ' -f1)
if stamp_ok "$CACHE/fetch.stamp" "$fkey" && [ -d "$SYSROOT" ] && [ -d "$CACHE/src/xen/xen" ]; then
	msg "fetch: kernel $(cat "$CACHE/kernel-abi"), xen source $(cat "$CACHE/xen-src-version") (cached: yes)"
	exit 0
fi
rm -f "$CACHE/fetch.stamp"

# ---- 2. resolve package names --------------------------------------------

kpkg=$(rig_apt_cache depends linux-image-arm64 |
	sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-arm64\)$/\1/p' | sort -V | tail -n 1)
[ -n "$kpkg" ] || die "cannot resolve the kernel package from linux-image-arm64"
KABI=${kpkg#linux-image-}
echo "$KABI" >"$CACHE/kernel-abi.tmp" && mv "$CACHE/kernel-abi.tmp" "$CACHE/kernel-abi"

ROOTS="xen-utils-4.17 xen-utils-common xenstore-utils"
PKGS="$kpkg busybox-static libfdt-dev $ROOTS"
# Shared-library closure from the packages' Depends/Pre-Depends (lib* and zlib1g packages only).
# The result is verified against the real ELF NEEDED entries below.
LIBPKGS=$(rig_lib_closure $ROOTS)
# Extra libraries that may be named by NEEDED but not by Depends (extend if the check fails).
EXTRA_LIBPKGS=${RIG_EXTRA_LIBPKGS:-}
PKGS="$PKGS $LIBPKGS $EXTRA_LIBPKGS"

# ---- 3. download -----------------------------------------------------------

DEBS=$CACHE/debs
# shellcheck disable=SC2086
rig_fetch_debs "$DEBS" "the rig" $PKGS

# ---- 4. unpack into the sysroot -------------------------------------------

rig_unpack_debs "$DEBS" "$SYSROOT"

# ---- 5. verify the shared-library closure of the dom0 binaries -----------

# shellcheck disable=SC2046
"$RIG_DIR/elfdeps.sh" "$SYSROOT" $(sh "$RIG_DIR/dom0-bins.sh" "$SYSROOT") >/dev/null ||
	die "shared-library closure incomplete: add the arm64 package providing the library above to RIG_EXTRA_LIBPKGS (or EXTRA_LIBPKGS in $0)"
msg "dom0 binaries' shared-library closure: complete"

# ---- 6. Xen source package -----------------------------------------------

SRC=$CACHE/src
mkdir -p "$SRC/dl"
# Source versions, newest first. A mirror may lack some source files (seen: the security
# archive's xen source answered 404 while its binaries were there), so fall back to older
# versions; versions that failed are remembered in src/unavailable until the next apt update.
[ "$refresh" = yes ] && rm -f "$SRC/unavailable"
touch "$SRC/unavailable"
versions=$(rig_apt_cache showsrc xen 2>/dev/null | sed -n 's/^Version: //p' | sort -V -r -u)
[ -n "$versions" ] || die "no xen source package (deb-src) in $SUITE"
newest=$(echo "$versions" | head -n 1)
XVER=""
for v in $versions; do
	grep -qxF "$v" "$SRC/unavailable" && continue
	if stamp_ok "$SRC/xen.stamp" "$v" && [ -d "$SRC/xen/xen" ]; then
		msg "xen source $v (cached: yes)"
		XVER=$v
		break
	fi
	msg "fetching xen source $v (cached: no)"
	if ! (cd "$SRC/dl" && rig_apt_get source --download-only "xen=$v") >"$SRC/dl/source.log" 2>&1; then
		grep -E '^(E|Err):' "$SRC/dl/source.log" | head -n 3 >&2
		msg "xen source $v is not downloadable from the mirror; trying an older version"
		echo "$v" >>"$SRC/unavailable"
		continue
	fi
	rm -rf "$SRC/xen" "$SRC/xen.stamp" "$SRC/xen.tmp"
	dpkg-source --no-check -x "$SRC/dl/xen_$v.dsc" "$SRC/xen.tmp" >"$SRC/dl/unpack.log" 2>&1 ||
		{ cat "$SRC/dl/unpack.log" >&2; die "dpkg-source -x xen_$v.dsc failed"; }
	mv "$SRC/xen.tmp" "$SRC/xen"
	rm -f "$SRC"/xen_*.orig.tar.* # dpkg-source leaves a copy of the tarball beside the tree
	echo "$v" >"$SRC/xen.stamp"
	for f in "$SRC"/dl/xen_*; do # keep only the current source's files
		case "$f" in *"_${v%-*}"*) ;; *) rm -f "$f" ;; esac
	done
	XVER=$v
	break
done
[ -n "$XVER" ] || die "no version of the xen source package could be downloaded ($(echo "$versions" | tr "\n" " "))"
[ "$XVER" = "$newest" ] ||
	msg "note: building Xen from source $XVER; the newest ($newest) is not downloadable (tools stay $newest; same 4.17 ABI)"
echo "$XVER" >"$CACHE/xen-src-version"
msg "fetch done: kernel $KABI, xen source $XVER"
echo "$fkey" >"$CACHE/fetch.stamp"
