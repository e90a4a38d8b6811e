# dom0 scenario of tools/boot-timing.sh, layout A: dom0's init created vdisk and the guest
# from /etc/xen/auto at boot (tests/rig/vdisk-auto.cfg, tests/rig/guest-auto.cfg); this waits
# for the guest's checks (tests/rig/guest-blk.sh) and prints vdisk's console, whose lines the
# timing tool reads (tools/boot-timing.py).
set -u
# shellcheck disable=SC1091 # put there by boot.sh
. /rig/lib/rig.sh
VLOG=$(rig_console_log vdisk)
GLOG=$(rig_console_log guest)
rig_check vdisk_first_read rig_wait_log 300 "$VLOG" "first read completed"
rig_check guest_finished rig_wait_log 300 "$GLOG" "DOMU: script exit"
tr -d '\r' <"$GLOG" | grep "RIG-TEST:"
echo "--- vdisk's console ---"
tr -d '\r' <"$VLOG"
rig_summary
