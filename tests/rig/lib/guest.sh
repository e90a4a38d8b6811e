# shellcheck shell=sh disable=SC2034
# Linux test guests for dom0 scenarios: create a guest with the given xl disk lines, run a shell
# script inside it and report what it found. Source after rig.sh:
#   . /rig/lib/rig.sh; . /rig/lib/guest.sh
#
#   rig_guest_run NAME SCRIPT [DISK...]
#     NAME    xl domain name, and the prefix of the test names reported
#     SCRIPT  file in dom0: runs in the guest as /rig/domu.sh (busybox sh, after the guest's
#             modules are loaded); it starts with ". /rig/glib.sh" (tests/rig/lib/guest-lib.sh:
#             g_pass/g_fail/g_check/g_metric/g_summary) and should end with g_summary
#     DISK    an xl disk spec each, e.g. 'backend=vdisk, backendtype=standalone,
#             specification=virtio, vdev=xvda, target=ram:64M'
#   Steps: xl create -p (libxl 4.17 itself waits there until every backend is in InitWait, state
#   2: 10 s, then it gives up, waits up to 10 s more for the backend to let go and destroys the
#   guest); RIG_GUEST_ON_CREATE runs meanwhile; check each virtio disk's backend state is 2-4;
#   attach `xl console`; xl unpause; wait for the guest's "DOMU: script exit N" (or the
#   domain's end, or RIG_GUEST_TIMEOUT); destroy the guest.
#   Reports (rig_pass/rig_fail): NAME.xl_create, NAME.backend_initwait (virtio disks only),
#   NAME.<each GUEST-TEST of the script>, NAME.script (exit status 0); metrics NAME.xl_create_ms,
#   NAME.unpause_to_script_end_ms and the script's GUEST-METRICs as NAME.<key>.
#   Returns 0 when all of them passed. Sets RIG_GUEST_DOMID and RIG_GUEST_CONSOLE (the console
#   output, \r removed; also printed with a "NAME| " prefix).
#
# Files in dom0 (the runner adds them with boot.sh --add):
#   /rig/domu/Image          guest kernel (the dom0 kernel, $CACHE/dom0/Image)
#   /rig/domu/blk.cpio.zst   guest initramfs (tools/rig/mk-domu-initrd.sh OUT --blk: busybox,
#                            virtio_mmio, virtio_blk, ext4, loop, fio, mkfs.ext4, fsck.ext4)
# Env (optional):
#   RIG_GUEST_KERNEL, RIG_GUEST_INITRD   other kernel / initramfs
#   RIG_GUEST_MEMORY         MB (default 512; the blk initramfs unpacks to about 90 MB)
#   RIG_GUEST_VCPUS          vCPUs (default 1)
#   RIG_GUEST_TIMEOUT        seconds from unpause to the script's end (default 300)
#   RIG_GUEST_POLL_MS        how often dom0 looks for the script's end (default 200; each look
#                            is a grep and an `xl list`, milliseconds of dom0's CPU). 0: dom0
#                            does not look but waits for the guest's `xl console` to end (the
#                            guest powers off, or the timeout): for benchmarks, where a look in
#                            the middle of a job shows in its tail (a backend outside dom0 can
#                            wait a whole credit2 slice, 10 ms, for dom0)
#   RIG_GUEST_DEFERRED_PROBE deferred_probe_timeout= for the guest kernel (default 0). The
#                            frontend's iommus=<&xen_grant_dma> has no driver in Debian's kernel,
#                            so virtio_mmio waits for this timeout before it probes: Linux's default
#                            (10) meant /dev/vda about 12 s after boot; 1 about 1 s after the
#                            module loads; 0 probes at once, inside insmod virtio_mmio.
#   RIG_GUEST_EXTRA          more guest kernel arguments
#   RIG_GUEST_SECLABEL       xl seclabel (e.g. system_u:system_r:domU_t under --xsm flask)
#   RIG_GUEST_BACKEND_WAIT   seconds to wait for the backends' InitWait after xl create -p
#                            (default 30; 0: no check)
#   RIG_GUEST_ON_CREATE      command run (eval, with the guest's domid appended) as soon as the
#                            domain exists, while xl create -p waits for the backends; e.g.
#                            RIG_GUEST_ON_CREATE="/rig/vdisk-dom0 set-target $(xl domid vdisk)"
#   RIG_GUEST_CFG            extra xl config lines

rig_guest_run() { # NAME SCRIPT [DISK...]
	_g_name=$1 _g_script=$2
	shift 2
	_g_dir=/tmp/rig-guest-$_g_name
	_g_fails_before=$RIG_FAILS
	RIG_GUEST_DOMID="" RIG_GUEST_CONSOLE=$_g_dir/console.txt
	rm -rf "$_g_dir"
	mkdir -p "$_g_dir/ov/rig"

	# initramfs = the prepared one + a small archive with the script (Linux unpacks both; the
	# second must start 4-byte aligned)
	cp "$_g_script" "$_g_dir/ov/rig/domu.sh"
	cp /rig/lib/guest-lib.sh "$_g_dir/ov/rig/glib.sh"
	(cd "$_g_dir/ov" && find . | cpio -o -H newc 2>/dev/null) >"$_g_dir/ov.cpio"
	cp "${RIG_GUEST_INITRD:-/rig/domu/blk.cpio.zst}" "$_g_dir/initrd"
	_g_pad=$(((4 - $(stat -c %s "$_g_dir/initrd") % 4) % 4))
	[ "$_g_pad" = 0 ] || head -c "$_g_pad" /dev/zero >>"$_g_dir/initrd"
	cat "$_g_dir/ov.cpio" >>"$_g_dir/initrd"

	{
		echo "name = \"$_g_name\""
		echo "kernel = \"${RIG_GUEST_KERNEL:-/rig/domu/Image}\""
		echo "ramdisk = \"$_g_dir/initrd\""
		echo "extra = \"console=hvc0 quiet deferred_probe_timeout=${RIG_GUEST_DEFERRED_PROBE:-0} ${RIG_GUEST_EXTRA:-}\""
		echo "memory = ${RIG_GUEST_MEMORY:-512}"
		echo "vcpus = ${RIG_GUEST_VCPUS:-1}"
		echo 'on_crash = "preserve"'
		[ -n "${RIG_GUEST_SECLABEL:-}" ] && echo "seclabel = \"$RIG_GUEST_SECLABEL\""
		if [ $# -gt 0 ]; then
			printf 'disk = [ '
			_g_sep=""
			for _g_d in "$@"; do printf "%s'%s'" "$_g_sep" "$_g_d"; _g_sep=", "; done
			echo ' ]'
		fi
		[ -n "${RIG_GUEST_CFG:-}" ] && echo "$RIG_GUEST_CFG"
	} >"$_g_dir/xl.cfg"
	sed "s/^/$_g_name| cfg: /" "$_g_dir/xl.cfg"

	_g_t0=$(rig_now_ms)
	rm -f "$_g_dir/create.rc"
	(xl create -p "$_g_dir/xl.cfg" >"$_g_dir/create.txt" 2>&1; echo $? >"$_g_dir/create.rc") &
	if [ -n "${RIG_GUEST_ON_CREATE:-}" ]; then
		# xl create -p waits for the backends' InitWait: the hook runs meanwhile, once the
		# guest's domid exists (e.g. vdisk-dom0 set-target under the dummy XSM policy)
		rig_wait_for 60 sh -c "xl domid '$_g_name' || test -f '$_g_dir/create.rc'"
		_g_id=$(xl domid "$_g_name" 2>/dev/null)
		if [ -n "$_g_id" ]; then
			echo "$_g_name| hook: $RIG_GUEST_ON_CREATE $_g_id"
			eval "$RIG_GUEST_ON_CREATE $_g_id" 2>&1 | sed "s/^/$_g_name| hook: /"
		fi
	fi
	rig_wait_for 120 test -f "$_g_dir/create.rc"
	if [ "$(cat "$_g_dir/create.rc" 2>/dev/null)" != 0 ]; then
		rig_metric "$_g_name.xl_create_ms" $(($(rig_now_ms) - _g_t0))
		sed "s/^/$_g_name| xl create: /" "$_g_dir/create.txt"
		rig_fail "$_g_name.xl_create" "$(grep -v '^Parsing' "$_g_dir/create.txt" | tail -n 2 | tr '\n' ' ')"
		xl destroy "$_g_name" >/dev/null 2>&1
		return 1
	fi
	rig_metric "$_g_name.xl_create_ms" $(($(rig_now_ms) - _g_t0))
	rig_pass "$_g_name.xl_create"
	RIG_GUEST_DOMID=$(xl domid "$_g_name")

	# Virtio disks served by another domain: the backend must be in InitWait before the guest
	# runs (its first MMIO access needs the IOREQ server).
	_g_wait=${RIG_GUEST_BACKEND_WAIT:-30}
	for _g_d in "$@"; do
		case $_g_d in *specification=virtio*) ;; *) continue ;; esac
		_g_be=$(echo "$_g_d" | sed -n 's/.*backend=\([^, ]*\).*/\1/p')
		if [ -z "$_g_be" ] || [ "$_g_wait" -le 0 ]; then continue; fi
		case $_g_be in *[!0-9]*) _g_be=$(xl domid "$_g_be" 2>/dev/null) ;; esac
		_g_bp=/local/domain/$_g_be/backend/virtio_disk/$RIG_GUEST_DOMID
		_g_n=$((_g_wait * 10))
		while [ "$_g_n" -gt 0 ] && [ "$(rig_guest_backends "$_g_bp")" = waiting ]; do
			sleep 0.1
			_g_n=$((_g_n - 1))
		done
		if [ "$(rig_guest_backends "$_g_bp")" = ready ]; then
			rig_pass "$_g_name.backend_initwait"
		else
			rig_fail "$_g_name.backend_initwait" "backend states under $_g_bp: $(rig_guest_backend_states "$_g_bp")"
			xenstore-ls "$_g_bp" 2>/dev/null | sed "s/^/$_g_name| backend: /"
		fi
	done

	timeout $((${RIG_GUEST_TIMEOUT:-300} + 30)) xl console "$_g_name" </dev/null >"$_g_dir/console.raw" 2>&1 &
	_g_con=$!
	sleep 0.5
	_g_t1=$(rig_now_ms)
	xl unpause "$_g_name"
	_g_poll=${RIG_GUEST_POLL_MS:-200}
	if [ "$_g_poll" = 0 ]; then
		# No look while the guest runs: its `xl console` ends with the domain (the
		# script powers it off) or at the timeout, and dom0 starts nothing meanwhile.
		wait "$_g_con"
		_g_poll=1 _g_n=1 # then one look: the script's end, or what became of the guest
	else
		_g_n=$((${RIG_GUEST_TIMEOUT:-300} * 1000 / _g_poll))
	fi
	_g_poll=$(awk -v ms="$_g_poll" 'BEGIN { print ms / 1000 }')
	_g_end=timeout
	while [ "$_g_n" -gt 0 ]; do
		if grep -q "DOMU: script exit" "$_g_dir/console.raw"; then _g_end=script; break; fi
		_g_state=$(xl list "$_g_name" 2>/dev/null | awk 'NR == 2 { print $5 }')
		if [ -z "$_g_state" ]; then
			# A guest that powers off right after its last line can be gone before
			# this loop's grep saw the line: look once more.
			sleep 0.3
			if grep -q "DOMU: script exit" "$_g_dir/console.raw"; then _g_end=script; else _g_end=gone; fi
			break
		fi
		case $_g_state in *c*) _g_end=crashed; break ;; esac
		sleep "$_g_poll"
		_g_n=$((_g_n - 1))
	done
	[ "$_g_end" = script ] && rig_metric "$_g_name.unpause_to_script_end_ms" $(($(rig_now_ms) - _g_t1))
	sleep 0.3 # the rest of the console output
	if xl list "$_g_name" >/dev/null 2>&1; then
		[ "$_g_end" = script ] || echo "$_g_name| domain state at the end: $(xl list "$_g_name" | awk 'NR == 2 { print $5 }')"
		xl destroy "$_g_name" >/dev/null 2>&1
	fi
	rig_wait_gone 30 "$_g_name"
	kill "$_g_con" 2>/dev/null
	wait "$_g_con" 2>/dev/null
	tr -d '\r' <"$_g_dir/console.raw" >"$RIG_GUEST_CONSOLE"
	sed "s/^/$_g_name| /" "$RIG_GUEST_CONSOLE"

	# The script's results, as rig tests named NAME.test
	while IFS= read -r _g_l; do
		case $_g_l in
		*"GUEST-TEST: PASS "*) rig_pass "$_g_name.${_g_l#*GUEST-TEST: PASS }" ;;
		*"GUEST-TEST: FAIL "*)
			_g_l=${_g_l#*GUEST-TEST: FAIL }
			rig_fail "$_g_name.${_g_l%%:*}" "${_g_l#*: }"
			;;
		*"GUEST-METRIC: "*=*)
			_g_l=${_g_l#*GUEST-METRIC: }
			rig_metric "$_g_name.${_g_l%%=*}" "${_g_l#*=}"
			;;
		esac
	done <"$RIG_GUEST_CONSOLE"
	_g_rc=$(sed -n 's/.*DOMU: script exit \([0-9]*\).*/\1/p' "$RIG_GUEST_CONSOLE" | tail -n 1)
	case $_g_end/$_g_rc in
	script/0) rig_pass "$_g_name.script" ;;
	script/*) rig_fail "$_g_name.script" "exit status $_g_rc" ;;
	*) rig_fail "$_g_name.script" "no 'DOMU: script exit' ($_g_end after $(($(rig_now_ms) - _g_t1)) ms)" ;;
	esac
	[ "$RIG_FAILS" = "$_g_fails_before" ]
}

# rig_guest_backend_states DIR: "devid=state ..." for the devices under a backend directory
rig_guest_backend_states() {
	for _gb_d in $(xenstore-list "$1" 2>/dev/null); do
		printf '%s=%s ' "$_gb_d" "$(xenstore-read "$1/$_gb_d/state" 2>/dev/null)"
	done
}
# rig_guest_backends DIR: "ready" when every device under DIR is in state 2-4 (InitWait,
# Initialised, Connected), "failed" when one is Closing/Closed (5/6), else "waiting"
rig_guest_backends() {
	_gb_s=$(rig_guest_backend_states "$1")
	_gb_r=ready
	[ -n "$_gb_s" ] || _gb_r=waiting
	for _gb_x in $_gb_s; do
		case ${_gb_x#*=} in
		2 | 3 | 4) ;;
		5 | 6) echo failed; return 0 ;;
		*) _gb_r=waiting ;;
		esac
	done
	echo "$_gb_r"
}
