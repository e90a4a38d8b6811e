# dom0 scenario for Xen booted with FLASK enforcing (tools/rig/boot.sh --xsm flask: Xen's example
# policy + tools/rig/flask/vdisk.te built in): dom0 works, a Linux domU labelled domU_t runs
# (the test guest of tests/rig/guest/tools.sh), vdisk labelled vdisk_t passes the foundation
# checks (tests/rig/foundation.sh, run unchanged on a vdisk.cfg with a seclabel line), and Xen
# logged no AVC denial meanwhile.
# Needs what foundation.sh needs (/rig/vdisk.img, /rig/vdisk-dom0, /rig/vdisk.cfg), plus
# /rig/foundation.sh, /rig/domu/Image, /rig/domu/blk.cpio.zst, tests/rig/guest at /rig/guest.
set -u
# shellcheck disable=SC1091 # put there by boot.sh
. /rig/lib/rig.sh
# shellcheck disable=SC1091
. /rig/lib/guest.sh
GUEST_LABEL=system_u:system_r:domU_t
VDISK_LABEL=system_u:system_r:vdisk_t

denials() { xl dmesg | tr -d '\r' | grep "avc: *denied"; }

mode=$(flask-getenforce 2>&1)
echo "flask-getenforce: $mode"
if [ "$mode" = Enforcing ]; then rig_pass flask_enforcing; else rig_fail flask_enforcing "flask-getenforce says '$mode'"; fi
xl list -Z
if xl list -Z | awk '$1 == "Domain-0"' | grep -q "system_u:system_r:dom0_t"; then
	rig_pass flask_dom0_label
else
	rig_fail flask_dom0_label "$(xl list -Z | grep Domain-0)"
fi
boot_denials=$(denials)
[ -n "$boot_denials" ] && { echo "AVC denials during boot:"; echo "$boot_denials"; }

# ---- a Linux domU of type domU_t ----
RIG_GUEST_SECLABEL=$GUEST_LABEL rig_guest_run flaskdomu /rig/guest/tools.sh

# ---- vdisk of type vdisk_t: the foundation checks, unchanged ----
grep -v '^seclabel' /rig/vdisk.cfg >/tmp/vdisk-flask.cfg
echo "seclabel = \"$VDISK_LABEL\"" >>/tmp/vdisk-flask.cfg
cp /tmp/vdisk-flask.cfg /rig/vdisk.cfg # foundation.sh reads /rig/vdisk.cfg
sh /rig/foundation.sh >/tmp/foundation.out 2>&1
frc=$?
# its tests count as ours; its summary line is replaced by this scenario's
grep -v '^RIG-SUMMARY:' /tmp/foundation.out
RIG_FAILS=$((RIG_FAILS + $(grep -c '^RIG-TEST: FAIL' /tmp/foundation.out)))
if [ $frc = 0 ] && grep -q '^RIG-SUMMARY: 0 failure' /tmp/foundation.out; then
	rig_pass flask_foundation_scenario
else
	rig_fail flask_foundation_scenario "foundation.sh exit $frc"
fi

# the label really is vdisk_t
xl create /tmp/vdisk-flask.cfg >/dev/null 2>&1
xl list -Z vdisk
if xl list -Z vdisk | grep -q "$VDISK_LABEL"; then rig_pass flask_vdisk_label; else rig_fail flask_vdisk_label "$(xl list -Z vdisk 2>&1 | tail -n 1)"; fi
xl destroy vdisk 2>/dev/null

# ---- no AVC denials at all (dom0, the domU, vdisk) ----
all=$(denials)
if [ -z "$all" ]; then
	rig_pass flask_no_denials
else
	echo "AVC denials:"
	echo "$all"
	rig_fail flask_no_denials "$(echo "$all" | wc -l) denial(s); see above"
fi
rig_summary
