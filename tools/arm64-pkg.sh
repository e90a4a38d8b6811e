#!/bin/sh
# Fetch Debian arm64 packages without enabling multiarch on the host, and unpack each
# into $VDISK_CACHE/arm64/<package>/ (the cache lives outside git).
#   tools/arm64-pkg.sh PACKAGE...     unpack (skips packages whose version is unpacked)
#   tools/arm64-pkg.sh --update       refresh the private package lists
# The private apt state uses the host's Debian mirrors (from /etc/apt/sources.list.d).
set -eu

CACHE=${VDISK_CACHE:-$HOME/.cache/vdisk}
STATE=$CACHE/apt-arm64
OUT=$CACHE/arm64

mkdir -p "$STATE/lists/partial" "$STATE/archives/partial" "$STATE/etc" "$OUT"

# Mirror from the host's configuration; Debian's own host as a last resort.
mirror=$(grep -hoE '^(URIs:|deb) *https?://[^ ]*/debian/?( |$)' /etc/apt/sources.list \
	/etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
	grep -oE 'https?://[^ ]*' | head -n1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
secmirror=$(echo "$mirror" | sed 's#/debian/*$#/debian-security#')

cat > "$STATE/etc/sources.list.new" <<EOS
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm-updates main
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $secmirror bookworm-security main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm-updates main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $secmirror bookworm-security main
EOS
cmp -s "$STATE/etc/sources.list.new" "$STATE/etc/sources.list" ||
	{ mv "$STATE/etc/sources.list.new" "$STATE/etc/sources.list"; rm -f "$STATE/updated"; }

apt_arm64() {
	apt-get -q -oAPT::Architecture=arm64 -oAPT::Architectures=arm64 \
		-oDir::State="$STATE" -oDir::State::Lists="$STATE/lists" \
		-oDir::State::status=/dev/null -oDir::Cache="$STATE" \
		-oDir::Cache::archives="$STATE/archives" \
		-oDir::Etc::SourceList="$STATE/etc/sources.list" -oDir::Etc::SourceParts=/nonexistent \
		-oDebug::NoLocking=1 -oAPT::Sandbox::User=root "$@"
}

# Lists are refreshed once a day at most, or on request.
if [ "${1:-}" = "--update" ] || [ -z "$(find "$STATE/updated" -mtime -1 2>/dev/null)" ]; then
	echo "arm64-pkg: updating package lists"
	apt_arm64 update >"$STATE/update.log" 2>&1 || { cat "$STATE/update.log" >&2; exit 1; }
	touch "$STATE/updated"
fi
[ "${1:-}" = "--update" ] && shift

for pkg in "$@"; do
	ver=$(apt_arm64 -qq --print-uris download "$pkg" 2>/dev/null | awk '{print $2}' | head -n1)
	[ -n "$ver" ] || { echo "arm64-pkg: no arm64 package '$pkg'" >&2; exit 1; }
	[ "$(cat "$OUT/$pkg/.deb" 2>/dev/null)" = "$ver" ] && continue
	echo "arm64-pkg: fetching $ver"
	(cd "$STATE/archives" && apt_arm64 download "$pkg" >/dev/null)
	rm -rf "$OUT/$pkg"
	dpkg-deb -x "$STATE/archives/$ver" "$OUT/$pkg"
	echo "$ver" > "$OUT/$pkg/.deb"
done
