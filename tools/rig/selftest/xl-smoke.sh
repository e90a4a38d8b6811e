# dom0 scenario (tools/rig/selftest.sh): xl basics + a Linux domU whose console output must
# arrive through `xl console` and in xenconsoled's log. Expects /rig/domu/Image, /rig/domu/initrd.cpio.
set -u
fails=0
check() { if "$@"; then echo "SMOKE: ok: $*"; else echo "SMOKE: FAIL: $*"; fails=$((fails + 1)); fi; }

echo "SMOKE: uptime=$(cut -d' ' -f1 /proc/uptime) date_ns=$(date +%s%N)"
xl info | grep -E '^(xen_version|xen_caps|total_memory|free_memory|xen_commandline)'
xl list
xenstore-ls /local/domain/0 | head
check test "$(xenstore-read /local/domain/0/name)" = Domain-0

cat >/tmp/smoke.cfg <<CFG
name = "smoke"
kernel = "/rig/domu/Image"
ramdisk = "/rig/domu/initrd.cpio"
extra = "console=hvc0 quiet"
memory = 256
vcpus = 1
CFG

# 1) paused create, attach `xl console` with stdin not a tty, unpause, wait for the domU to end.
t0=$(cut -d' ' -f1 /proc/uptime)
check xl create -p /tmp/smoke.cfg
xl list
timeout 120 xl console smoke </dev/null >/tmp/con1.txt 2>&1 &
cpid=$!
sleep 1
check xl unpause smoke
wait $cpid
echo "SMOKE: xl console (stdin /dev/null) rc=$? after $(awk -v a="$t0" '{ print $1 - a }' /proc/uptime) s"
sed 's/^/con1| /' /tmp/con1.txt
check grep -q "DOMU: hello from" /tmp/con1.txt
i=0; while xl list smoke >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
echo "SMOKE: xenconsoled log files: $(ls /var/log/xen/console/)"
sed 's/^/log1| /' /var/log/xen/console/guest-smoke.log
check grep -q "DOMU: hello from" /var/log/xen/console/guest-smoke.log
xl list

# 2) the same through busybox `script` (gives xl console a pty), if the applet exists
if busybox --list | grep -qx script; then
	rm -f /var/log/xen/console/guest-smoke.log
	xl create -p /tmp/smoke.cfg
	timeout 120 script -q -c "xl console smoke" /tmp/con2.txt </dev/null >/dev/null 2>&1 &
	cpid=$!
	sleep 1
	xl unpause smoke
	wait $cpid
	echo "SMOKE: script -c 'xl console' rc=$?"
	sed 's/^/con2| /' /tmp/con2.txt
	i=0; while xl list smoke >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
else
	echo "SMOKE: busybox has no 'script' applet"
fi

# 3) late attach: `xl console` started after the domU already printed (is the output replayed?)
xl create /tmp/smoke.cfg
sleep 0.5
timeout 60 xl console smoke </dev/null >/tmp/con3.txt 2>&1
echo "SMOKE: late xl console rc=$?"
sed 's/^/con3| /' /tmp/con3.txt
i=0; while xl list smoke >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
xl list

echo "SMOKE: uptime=$(cut -d' ' -f1 /proc/uptime) date_ns=$(date +%s%N)"
echo "SMOKE: busybox applets: $(busybox --list | grep -E -x 'script|timeout|usleep|time|mktemp|seq|stty|setsid|nohup|flock|xxd|hexdump|od|dd|sha256sum|md5sum|cmp|awk|sed|grep' | tr '\n' ' ')"
echo "SMOKE: $fails failure(s)"
[ $fails -eq 0 ]
