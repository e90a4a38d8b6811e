#!/bin/sh
# Shared-library closure of arm64 ELF files inside a sysroot.
# Usage: tools/rig/elfdeps.sh SYSROOT FILE...   (FILEs are paths inside SYSROOT, e.g. /usr/sbin/xl)
# Prints, one per line, the in-sysroot paths of every library needed (recursively, via DT_NEEDED
# and DT_RUNPATH/RPATH) plus the program interpreter. Exits 1, naming the library, if any is missing.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 SYSROOT FILE..." >&2; exit 2; }
ROOT=$1
shift
RE=aarch64-linux-gnu-readelf
DEFAULT_DIRS="/lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu /lib /usr/lib"

out=""
todo=""
for f in "$@"; do todo="$todo $f"; done
done_list=" "
rc=0
while [ -n "$todo" ]; do
	# shellcheck disable=SC2086
	set -- $todo
	f=$1
	shift
	todo="$*"
	case "$done_list" in *" $f "*) continue ;; esac
	done_list="$done_list$f "
	hdr=$($RE -d "$ROOT$f" 2>/dev/null) || continue # not an ELF file (script): nothing to add
	interp=$($RE -l "$ROOT$f" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)\]$/\1/p')
	if [ -n "$interp" ]; then
		[ -e "$ROOT$interp" ] || { echo "elfdeps: $f: interpreter $interp missing" >&2; rc=1; }
		case " $out " in *" $interp "*) ;; *) out="$out $interp" ;; esac
	fi
	rpath=$(echo "$hdr" | sed -n 's/.*(R[UN]*PATH).*path: \[\(.*\)\]$/\1/p' | tr ':' ' ')
	origin=$(dirname "$f")
	for lib in $(echo "$hdr" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
		found=""
		for d in $(echo "$rpath" | sed "s|\$ORIGIN|$origin|g; s|\${ORIGIN}|$origin|g") $DEFAULT_DIRS; do
			if [ -e "$ROOT$d/$lib" ]; then found="$d/$lib"; break; fi
		done
		if [ -z "$found" ]; then
			echo "elfdeps: $f needs $lib: not found in the sysroot" >&2
			rc=1
			continue
		fi
		case " $out " in *" $found "*) ;; *) out="$out $found"; todo="$todo $found" ;; esac
	done
done
for p in $out; do echo "$p"; done
exit $rc
