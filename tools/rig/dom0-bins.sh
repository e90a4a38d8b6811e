#!/bin/sh
# The Debian Xen tools copied into the dom0 initramfs (paths inside the arm64 sysroot).
# Usage: tools/rig/dom0-bins.sh SYSROOT   (prints only the ones present; fails if a required one is missing)
set -eu
ROOT=$1
XB=/usr/lib/xen-4.17/bin
# libgcc_s.so.1 is dlopen()ed by glibc for pthread_cancel (xl create aborts without it), so
# no DT_NEEDED entry names it.
REQUIRED="$XB/xl $XB/xenstored $XB/xenconsoled $XB/xenconsole $XB/xen-init-dom0 /usr/bin/xenstore
 /lib/aarch64-linux-gnu/libgcc_s.so.1"
OPTIONAL="$XB/xenstore-control $XB/init-dom0less $XB/xen-diag $XB/xentop $XB/xenpm
 $XB/flask-get-bool $XB/flask-getenforce $XB/flask-label-pci $XB/flask-loadpolicy
 $XB/flask-set-bool $XB/flask-setenforce"
for f in $REQUIRED; do
	[ -f "$ROOT$f" ] || { echo "dom0-bins: $f missing in $ROOT" >&2; exit 1; }
	echo "$f"
done
for f in $OPTIONAL; do
	[ -f "$ROOT$f" ] && echo "$f"
done
exit 0
