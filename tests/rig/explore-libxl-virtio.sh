# dom0 scenario (observation, for the virtio-blk backend work): what libxl 4.17 and Linux do with
#   disk = [ 'backend=vdisk, backendtype=standalone, specification=virtio, vdev=xvda, target=ram:64M' ]
# while vdisk runs. Prints the xenstore keys libxl writes (backend and frontend side), what
# `xl create [-p]` prints and how long it waits when the backend never moves to InitWait, whether
# dom0 writing state=2 by hand lets it finish, and how long the guest's virtio_mmio waits for
# deferred probe (deferred_probe_timeout= values). With a vdisk image that serves disks, the last
# part (set-target, then unpause vdisk) shows the real handshake.
# Needs /rig/vdisk.img, /rig/vdisk.cfg, /rig/vdisk-dom0, /rig/domu/Image,
# /rig/domu/probe.cpio (tools/rig/mk-domu-initrd.sh OUT --script tests/rig/guest/probe.sh
#   --add tests/rig/lib/guest-lib.sh:/rig/glib.sh: virtio_mmio + virtio_blk + that script).

set -u
# shellcheck disable=SC1091 # put there by boot.sh
. /rig/lib/rig.sh
# shellcheck disable=SC1091
. /rig/lib/guest.sh
DISK='backend=vdisk, backendtype=standalone, specification=virtio, vdev=xvda, target=ram:64M'
say() { echo "EXPLORE: $*"; }

start_vdisk() { # [-p]: vdisk with 128 MiB (room for a 64 MiB RAM disk), no latency benchmark
	sed -e 's/^extra = .*/extra = "evtchn_bench=0"/' -e 's/^memory = .*/memory = 128/' /rig/vdisk.cfg >/tmp/vdisk.cfg
	rm -f /var/log/xen/console/guest-vdisk.log
	# shellcheck disable=SC2086 # no argument or -p
	xl create ${1:-} /tmp/vdisk.cfg
	VD=$(xl domid vdisk)
	[ "${1:-}" = -p ] || rig_wait_log 60 /var/log/xen/console/guest-vdisk.log "vdisk: ready"
}
guest_cfg() { # NAME [extra kernel args]
	cat >"/tmp/$1.cfg" <<CFG
name = "$1"
kernel = "/rig/domu/Image"
ramdisk = "/rig/domu/probe.cpio"
extra = "console=hvc0 loglevel=5 ${2:-}"
memory = 256
vcpus = 1
on_crash = "preserve"
disk = [ '$DISK' ]
CFG
}
# timed_create NAME ARGS...: xl create in the background; dumps xenstore once the backend
# directory appears; waits for xl to finish; sets CREATE_RC, CREATE_MS
timed_create() {
	_n=$1
	shift
	rm -f /tmp/create.done
	_t0=$(rig_now_ms)
	(xl "$@" >/tmp/create.txt 2>&1; echo $? >/tmp/create.done) &
	if rig_wait_for 30 sh -c "xenstore-list /local/domain/$VD/backend/virtio_disk 2>/dev/null | grep -q ."; then
		say "$_n: backend directory appeared after $(($(rig_now_ms) - _t0)) ms"
		sleep 0.3
		FE=$(xl domid "$_n" 2>/dev/null)
		say "$_n: domid $FE; xenstore-ls -f /local/domain/$VD/backend:"
		xenstore-ls -f "/local/domain/$VD/backend" | sed 's/^/EXPLORE:   /'
		say "$_n: xenstore-ls -f /local/domain/$FE/device:"
		xenstore-ls -f "/local/domain/$FE/device" | sed 's/^/EXPLORE:   /'
		say "$_n: xenstore-ls -f /libxl/$FE/device:"
		xenstore-ls -f "/libxl/$FE/device" 2>&1 | sed 's/^/EXPLORE:   /'
	fi
	[ -n "${STATE2_AFTER:-}" ] && {
		sleep "$STATE2_AFTER"
		_p=$(xenstore-ls -f "/local/domain/$VD/backend/virtio_disk" | sed -n 's| *=.*||; s|/state$||p' | head -n 1)
		say "$_n: dom0 writes $_p/state = 2 at $(($(rig_now_ms) - _t0)) ms"
		xenstore-write "$_p/state" 2
	}
	rig_wait_for 120 test -f /tmp/create.done
	CREATE_RC=$(cat /tmp/create.done 2>/dev/null) CREATE_MS=$(($(rig_now_ms) - _t0))
	say "$_n: 'xl $*' exit ${CREATE_RC:-still running} after $CREATE_MS ms; it printed:"
	sed 's/^/EXPLORE:   | /' /tmp/create.txt
	say "$_n: after it: $(xl list "$_n" 2>&1 | tail -n 1)"
	say "$_n: backend dir now: $(xenstore-ls -f "/local/domain/$VD/backend" 2>&1 | tr '\n' ';' | cut -c1-300)"
}

# ---- 1. vdisk as it is: nobody answers the backend ----
start_vdisk
say "vdisk is domain $VD ($(grep -m1 'starting' /var/log/xen/console/guest-vdisk.log | sed 's/.*\(vdisk [^ ]*\) starting.*/\1/'))"
guest_cfg g1
STATE2_AFTER="" timed_create g1 create -p /tmp/g1.cfg
xl destroy g1 2>/dev/null
rig_wait_gone 20 g1
sleep 1
STATE2_AFTER="" timed_create g1 create /tmp/g1.cfg
xl destroy g1 2>/dev/null
rig_wait_gone 20 g1
sleep 1
say "vdisk's console:"
tr -d '\r' </var/log/xen/console/guest-vdisk.log | grep -v "^\[ *[0-9.]*\] evtchn" | tail -n 15 | sed 's/^/EXPLORE:   vdisk| /'

# ---- 2. dom0 plays the backend's InitWait: does xl create -p return then? And the guest's
# deferred probe wait (no IOREQ server: its first MMIO access faults) ----
if [ "$(xenstore-ls "/local/domain/$VD/backend" 2>/dev/null)" = "" ]; then
	for dpt in default 1 0; do
		args=""
		[ $dpt = default ] || args="deferred_probe_timeout=$dpt"
		guest_cfg g2 "$args"
		STATE2_AFTER=2 timed_create g2 create -p /tmp/g2.cfg
		if xl list g2 >/dev/null 2>&1; then
			rm -f /var/log/xen/console/guest-g2.log
			timeout 60 xl console g2 </dev/null >/tmp/g2.con 2>&1 &
			cpid=$!
			sleep 0.5
			t1=$(rig_now_ms)
			xl unpause g2
			rig_wait_for 45 grep -q -E "DOMU: script exit|Internal error|Unable to handle|Kernel panic" /tmp/g2.con
			sleep 3
			say "g2 ($dpt): console after $(($(rig_now_ms) - t1)) ms, state $(xl list g2 2>/dev/null | awk 'NR == 2 { print $5 }'):"
			tr -d '\r' </tmp/g2.con | grep -v "^\s*$" | head -n 60 | sed 's/^/EXPLORE:   g2| /'
			kill $cpid 2>/dev/null
		fi
		xl destroy g2 2>/dev/null
		rig_wait_gone 30 g2
		# libxl leaves nothing behind when the backend is not dom0?
		say "backend dir after destroy: '$(xenstore-ls "/local/domain/$VD/backend" 2>&1 | tr '\n' ';')'"
		xenstore-rm "/local/domain/$VD/backend" 2>/dev/null
	done
fi
xl destroy vdisk
rig_wait_gone 20 vdisk

# ---- 3. a vdisk that serves: set-target before it sees the device, then the guest ----
start_vdisk -p
guest_cfg g3 deferred_probe_timeout=1
rm -f /tmp/g3.done
(xl create -p /tmp/g3.cfg >/tmp/g3.create 2>&1; echo $? >/tmp/g3.done) &
rig_wait_for 30 xl domid g3
FE=$(xl domid g3)
/rig/vdisk-dom0 set-target "$VD" "$FE"
t0=$(rig_now_ms)
xl unpause vdisk
rig_wait_for 60 test -f /tmp/g3.done
say "g3: set-target $VD $FE, vdisk unpaused; xl create -p exit $(cat /tmp/g3.done 2>/dev/null) $(($(rig_now_ms) - t0)) ms later:"
sed 's/^/EXPLORE:   | /' /tmp/g3.create
xenstore-ls -f "/local/domain/$VD/backend" | sed 's/^/EXPLORE:   /'
if xl list g3 >/dev/null 2>&1; then
	timeout 90 xl console g3 </dev/null >/tmp/g3.con 2>&1 &
	cpid=$!
	sleep 0.5
	t1=$(rig_now_ms)
	xl unpause g3
	rig_wait_for 60 grep -q -E "DOMU: script exit|Kernel panic" /tmp/g3.con
	sleep 2
	say "g3: console after $(($(rig_now_ms) - t1)) ms, state $(xl list g3 2>/dev/null | awk 'NR == 2 { print $5 }'):"
	tr -d '\r' </tmp/g3.con | grep -v "^\s*$" | head -n 60 | sed 's/^/EXPLORE:   g3| /'
	kill $cpid 2>/dev/null
	xenstore-ls -f "/local/domain/$VD/backend" | sed 's/^/EXPLORE:   /'
	xl destroy g3
	rig_wait_gone 30 g3
fi
say "vdisk's console (backend lines):"
tr -d '\r' </var/log/xen/console/guest-vdisk.log | grep -i -E "backend|ioreq|virtio|blk|error" | head -n 40 | sed 's/^/EXPLORE:   vdisk| /'
xl destroy vdisk 2>/dev/null
rig_wait_gone 20 vdisk
echo "--- xl dmesg (tail) ---"
xl dmesg | tail -n 20
rig_summary
