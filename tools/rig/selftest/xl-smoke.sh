# shellcheck shell=sh
# dom0 scenario for tools/rig/selftest.sh: xl basics + a Linux domU (the dom0 Image with a tiny
# initramfs, /rig/domu/{Image,initrd.cpio}) whose output must arrive through `xl console` and in
# xenconsoled's log. Also exercises tests/rig/lib/rig.sh.
set -u
# shellcheck disable=SC1091 # tests/rig/lib/rig.sh, put there by boot.sh
. /rig/lib/rig.sh

rig_metric dom0_ready_uptime_ms "$(rig_uptime_ms)"
t_ns=$(rig_now_ns)
sleep 0.1
d_ns=$(($(rig_now_ns) - t_ns))
echo "SMOKE: rig-now measured 'sleep 0.1' as $d_ns ns; busybox date +%s%N -> $(date +%s%N)"
rig_check clock_ns [ "$d_ns" -ge 100000000 ] && [ "$d_ns" -lt 1000000000 ]

xl info | grep -E '^(xen_version|xen_caps|total_memory|free_memory|xen_commandline)'
xl list
xenstore-ls /local/domain/0 | head
rig_check xenstore_read [ "$(xenstore-read /local/domain/0/name)" = Domain-0 ]

cat >/tmp/smoke.cfg <<CFG
name = "smoke"
kernel = "/rig/domu/Image"
ramdisk = "/rig/domu/initrd.cpio"
extra = "console=hvc0 quiet"
memory = 256
vcpus = 1
CFG
LOGF=$(rig_console_log smoke)

# 1) xl create -p + `xl console` with stdin /dev/null in the background + xl unpause
t0=$(rig_now_ms)
rig_check xl_create rig_xl_start /tmp/smoke.cfg smoke /tmp/con1.txt
xl list
rig_wait_gone 120 smoke
wait "$RIG_CONSOLE_PID"
echo "SMOKE: xl console exit status $? (domain gone after $(($(rig_now_ms) - t0)) ms)"
sed 's/^/con1| /' /tmp/con1.txt
rig_check xl_console_output grep -q "DOMU: hello from" /tmp/con1.txt
rig_check xl_console_complete grep -q "DOMU: script exit 0" /tmp/con1.txt
echo "SMOKE: xenconsoled logs: $(ls /var/log/xen/console/)"
sed 's/^/log1| /' "$LOGF"
rig_check console_log grep -q "DOMU: hello from" "$LOGF"
xl list

# 2) late attach: `xl console` started only after the domU printed (its script sleeps 4 s):
#    is the earlier output replayed?
rm -f "$LOGF"
xl create /tmp/smoke.cfg
rig_wait_log 60 "$LOGF" "DOMU: hello"
timeout 60 xl console smoke </dev/null >/tmp/con2.txt 2>&1
echo "SMOKE: late xl console exit status $?"
sed 's/^/con2| /' /tmp/con2.txt
if grep -q "DOMU: hello" /tmp/con2.txt; then
	echo "SMOKE: late attach: earlier output IS replayed"
else
	echo "SMOKE: late attach: earlier output is NOT replayed"
fi
rig_check domu_gone rig_wait_gone 30 smoke
xl list

rig_summary
