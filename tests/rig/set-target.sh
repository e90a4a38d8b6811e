# dom0 scenario: `vdisk-dom0 set-target BACKEND FRONTEND` (XEN_DOMCTL_set_target through
# /dev/xen/privcmd) on real Xen 4.17 with the dummy XSM policy (boot.sh's default).
# Needs /rig/vdisk.img (any small guest image: three copies run as dummy domains),
# /rig/vdisk.cfg and /rig/vdisk-dom0. Xen 4.17 lets a domain get a target only once.
set -u
# shellcheck disable=SC1091 # put there by boot.sh
. /rig/lib/rig.sh
VD=/rig/vdisk-dom0

mk() { # NAME: a small dummy domain (vdisk's image, no event-channel benchmark)
	sed -e "s/^name = .*/name = \"$1\"/" -e 's/^extra = .*/extra = "evtchn_bench=0"/' \
		/rig/vdisk.cfg >"/tmp/$1.cfg"
	xl create "/tmp/$1.cfg" >/dev/null 2>&1 || { rig_fail "create_$1" "xl create $1 failed"; return 1; }
}
if ! { mk st-backend && mk st-front1 && mk st-front2; }; then rig_summary; exit 1; fi
BE=$(xl domid st-backend) FE1=$(xl domid st-front1) FE2=$(xl domid st-front2)
echo "domains: backend $BE, frontends $FE1 $FE2"
ls -l /dev/xen/privcmd /dev/xen/hypercall

run() { # CMD...: runs, prints "$ CMD" and its output; sets OUT and RC
	OUT=$("$@" 2>&1)
	RC=$?
	echo "\$ $* -> exit $RC"
	[ -n "$OUT" ] && echo "$OUT" | sed 's/^/  /'
}

run $VD set-target "$BE" "$FE1"
if [ $RC = 0 ] && echo "$OUT" | grep -q "domain $BE (backend) now has domain $FE1 (frontend) as its target"; then
	rig_pass set_target
else
	rig_fail set_target "exit $RC: $OUT"
fi

# Xen 4.17 (common/domctl.c): -EINVAL once the backend has a target, whatever the frontend.
run $VD set-target "$BE" "$FE2"
if [ $RC != 0 ] && echo "$OUT" | grep -q "set-target backend domain $BE -> frontend domain $FE2 failed: EINVAL" &&
	echo "$OUT" | grep -q "already has a target"; then
	rig_pass set_target_second_frontend_einval
else
	rig_fail set_target_second_frontend_einval "exit $RC: $OUT"
fi
run $VD set-target "$BE" "$FE1"
if [ $RC != 0 ] && echo "$OUT" | grep -q "failed: EINVAL"; then
	rig_pass set_target_same_frontend_again_einval
else
	rig_fail set_target_same_frontend_again_einval "exit $RC: $OUT"
fi

# Error reporting: a domain that does not exist, a domain as its own target.
run $VD set-target "$FE2" 32000
if [ $RC != 0 ] && echo "$OUT" | grep -q "failed: ESRCH"; then rig_pass set_target_no_domain_esrch; else rig_fail set_target_no_domain_esrch "exit $RC: $OUT"; fi
run $VD set-target "$FE2" "$FE2"
if [ $RC != 0 ] && echo "$OUT" | grep -q "failed: EINVAL"; then rig_pass set_target_self_einval; else rig_fail set_target_self_einval "exit $RC: $OUT"; fi
run $VD set-target "$FE2"
if [ $RC = 2 ]; then rig_pass set_target_usage; else rig_fail set_target_usage "exit $RC"; fi

# The domctl buffer: from /dev/xen/hypercall by default; plain (mlocked) user memory also works on
# this kernel (Xen walks the caller's stage-1 tables). FE2 has no target yet.
run env VDISK_DOM0_HCALL_BUF=user $VD set-target "$FE2" "$FE1"
if [ $RC = 0 ]; then rig_pass set_target_user_memory_buffer; else rig_fail set_target_user_memory_buffer "exit $RC: $OUT"; fi

# The target's reference is held until the backend dies: destroying the frontend first must
# still work, and so must destroying the backend afterwards.
if xl destroy st-front1 && xl destroy st-backend && xl destroy st-front2 &&
	rig_wait_gone 30 st-front1 && rig_wait_gone 30 st-backend && rig_wait_gone 30 st-front2; then
	rig_pass destroy_after_set_target; else rig_fail destroy_after_set_target "$(xl list)"; fi
xl list
rig_summary
