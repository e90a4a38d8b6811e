#!/bin/sh
# Checks the linked firmware: self-relocation in head.S handles R_AARCH64_RELATIVE only,
# so any other dynamic relocation (or an interpreter request) is a build error.
set -eu
elf=$1
READELF=${READELF:-aarch64-linux-gnu-readelf}
bad=$($READELF -rW "$elf" | awk '/^[0-9a-f]+ +[0-9a-f]+ +R_AARCH64/ && $3 != "R_AARCH64_RELATIVE"')
if [ -n "$bad" ]; then
	echo "check-elf: $elf has relocations head.S cannot apply:" >&2
	echo "$bad" >&2
	exit 1
fi
if $READELF -lW "$elf" | grep -q INTERP; then
	echo "check-elf: $elf asks for a dynamic linker" >&2
	exit 1
fi
