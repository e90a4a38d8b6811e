# dom0 scenario: the hostile test guest (tests/guests/hostile, build/guests/hostile.img) attacks
# vdisk's virtio-blk devices (a 2 MiB writable RAM disk, a 1 MiB read-only one, a 256 KiB one
# that holds each request 100 ms, so that requests are at the disk while it resets, storms
# the notify register or gives one buffer to two requests) while a well-behaved Linux guest
# writes and reads back its own vdisk disk (tests/rig/guest/steady.sh). Its last act: reads on
# a 64 KiB disk that holds them 30 s, then it is destroyed; vdisk must let them go without
# touching the dead guest, and once both guests are gone no page stays mapped.
# It also does I/O in grant mode (VIRTIO_F_ACCESS_PLATFORM, its own grant table, rings and
# buffers on pages it grants to vdisk) and attacks that (revoked, read-only, bad references, a
# ring page's grant rewritten while vdisk has it mapped, the used ring on the descriptor table
# through a second grant). It checks the devices' interrupts at its GIC (completion, config
# change with DEVICE_NEEDS_RESET, avail.flags suppression, VIRTIO_F_EVENT_IDX with garbage
# used_event/avail_event values) and that rings overlapping by address are refused; it takes
# the ring indices through 65535 to 0, and makes MMIO accesses no driver makes (unaligned, from
# the window mapped as normal memory; straddling its end; load pairs; past the windows). It has
# two vCPUs: the second keeps publishing and notifying while the first resets the device.
# The neighbour runs until the hostile guest is done, then dom0 stops it (xl sysrq).
# Each attack is a rig test hostile.NAME (the device's answer) and hostile.NAME_after (the device
# still serves and the disk hash is unchanged). Then: vdisk still runs, logged one line for each
# kind of attack, and did not flood its console.
# FLASK (boot.sh --xsm flask): vdisk is vdisk_t, the guests domU_t.
# Needs /rig/vdisk.img, /rig/vdisk.cfg, /rig/hostile.img, /rig/domu/Image, /rig/domu/blk.cpio.zst,
# tests/rig/guest at /rig/guest.
set -u
# shellcheck disable=SC1091 # put there by boot.sh
. /rig/lib/rig.sh
# shellcheck disable=SC1091
. /rig/lib/guest.sh
VIRTIO='backend=vdisk, backendtype=standalone, specification=virtio'

rig_vdisk_flask evtchn_bench=0 128
# What vdisk maps and keeps for mappings with no guest: every later count is checked against it.
stats=$(rig_vdisk_stats before) || stats=
frames_before=$(rig_stat frames_free "$stats")
rig_metric vdisk_frames_free_before "$frames_before"

# The neighbour, in the background; the attacks start once it is doing I/O, and it stops
# when told after them (STEADY_SECONDS only bounds it if the telling fails).
steady_max=${STEADY_SECONDS:-600}
{ echo "STEADY_SECONDS=$steady_max"; cat /rig/guest/steady.sh; } >/tmp/steady.sh
(RIG_GUEST_TIMEOUT=$((steady_max + 120)) rig_guest_run steady /tmp/steady.sh \
	"$VIRTIO, vdev=xvda, target=ram:16M" >/tmp/steady.out 2>&1) &
steady_pid=$!
rig_check steady_running rig_wait_log 180 /tmp/rig-guest-steady/console.raw "STEADY: running"

# The hostile guest: a bare-metal image; rig_guest_run's initramfs is loaded but unused.
echo "not an initramfs" >/tmp/hostile.initrd
steady_rounds() { grep -c "STEADY: round [0-9]* done" /tmp/rig-guest-steady/console.raw; }
rounds_before=$(steady_rounds)
RIG_GUEST_KERNEL=/rig/hostile.img RIG_GUEST_INITRD=/tmp/hostile.initrd RIG_GUEST_MEMORY=32 \
	RIG_GUEST_VCPUS=2 RIG_GUEST_TIMEOUT=${HOSTILE_TIMEOUT:-400} \
	rig_guest_run hostile /dev/null "$VIRTIO, vdev=xvda, target=ram:2M" \
	"$VIRTIO, vdev=xvdb, access=ro, target=ram:1M" \
	"$VIRTIO, vdev=xvdc, target=ram:256K,latency=100ms" \
	"$VIRTIO, vdev=xvdd, target=ram:64K,latency=30s"
hid=$RIG_GUEST_DOMID
rig_metric hostile.domid "$hid"
# How much the neighbour did while the hostile guest was created and ran; it must still be
# running now, so that it was served throughout.
during=$(($(steady_rounds) - rounds_before))
rig_metric steady.rounds_during_hostile "$during"
if [ "$during" -gt 0 ] && xl list steady >/dev/null 2>&1 &&
	! grep -q "STEADY: time is up" /tmp/rig-guest-steady/console.raw; then
	rig_pass steady_outlived_hostile
else
	rig_fail steady_outlived_hostile "$during rounds during the hostile guest's run; $(grep "STEADY: time is up" /tmp/rig-guest-steady/console.raw)"
fi
xl sysrq steady s

wait "$steady_pid"
cat /tmp/steady.out
rig_check steady_stopped_by_dom0 grep -q "STEADY: stopped by dom0" /tmp/rig-guest-steady/console.raw
RIG_FAILS=$((RIG_FAILS + $(grep -c "RIG-TEST: FAIL" /tmp/steady.out)))

# The hostile guest was destroyed with reads at xvdd's disk (30 s each): vdisk took the device
# away at once, cancelled them, and freed its slot when the disk gave them back. With both
# guests gone, nothing of theirs may stay mapped and every frame is back.
rig_check hostile_destroyed_in_flight rig_wait_log 5 "$LOGF" \
	"dom$hid/51760: removed with [1-9][0-9]* request(s) at the disk"
rig_check hostile_in_flight_drained rig_wait_log 45 "$LOGF" \
	"dom$hid/51760: the disk gave back its last request"
stats=$(rig_vdisk_stats after) || stats=
mapped=$(rig_stat mapped "$stats") frames=$(rig_stat frames_free "$stats")
rig_metric vdisk_mapped_after "$mapped"
rig_metric vdisk_frames_free_after "$frames"
if [ "$mapped" = 0 ] && [ -n "$frames" ] && [ "$frames" = "$frames_before" ]; then
	rig_pass no_mapping_leak
else
	rig_fail no_mapping_leak "mapped=$mapped frames_free=$frames (before the guests: $frames_before): expected 0 and the same"
fi

# vdisk survived, and said what happened: one clear line per kind of attack.
state=$(xl list vdisk 2>/dev/null | awk 'NR == 2 { print $5 }')
case $state in
*c* | "") rig_fail vdisk_alive "vdisk's state is '$state'" ;;
*) rig_pass vdisk_alive ;;
esac
rig_check vdisk_no_crash_line sh -c "! grep -q -E 'fatal:|exception:' '$LOGF'"
tr -d '\r' <"$LOGF" >/tmp/vdisk.log
grep -E "dom$hid/|gmem: dom$hid:" /tmp/vdisk.log >/tmp/vdisk-hostile.log
expect() { # NAME REGEX: vdisk logged REGEX for the hostile guest's devices
	if grep -q -E -- "$2" /tmp/vdisk-hostile.log; then rig_pass "vdisk_logged_$1"; else rig_fail "vdisk_logged_$1" "no line matching '$2'"; fi
}
expect loop "longer than the [0-9]+ descriptors of its queue"
expect next_out_of_range "next index [0-9]+ is outside the descriptor table"
expect head_out_of_range "available entry [0-9]+ names descriptor"
expect avail_jump "available index jumped"
expect buffer_outside "buffer 0x100000000000\\+[0-9]+ is not in guest memory"
expect header_outside "descriptor table|0x100000000000\\+16"
expect length "buffer of 2147483648 bytes is larger than"
expect readable_after_writable "device-readable buffer after a device-writable one"
expect indirect_not_negotiated "indirect descriptor without VIRTIO_F_INDIRECT_DESC"
expect indirect_in_indirect "indirect descriptor inside an indirect table"
expect indirect_loop "descriptors of its indirect table"
expect indirect_too_long "indirect table has too many descriptors"
expect indirect_bad_length "not a positive multiple of 16"
expect past_end "past the end of the disk"
expect partial_sector "is not whole sectors"
expect unknown_type "type 127 is not supported"
expect short_header "header of 8 device-readable bytes"
expect missing_status "no device-writable byte for the status"
expect read_only_register "to read-only register MagicValue"
expect wrong_width "registers take 32-bit accesses"
expect past_config "past the 72-byte config space"
expect unknown_register "unknown register 0x0f0"
expect queue_change_while_ready "to QueueDescLow of queue 0 while it is ready"
expect notify_missing_queue "notify of queue 3, which is not ready"
expect status_order "sets bits out of order"
expect no_version_1 "lack VIRTIO_F_VERSION_1"
expect extra_features "are not a subset"
expect clear_bits "would clear bits"
expect queue_num "QueueNum 12 of queue 0 is not a power of two"
expect read_only_disk "to a read-only disk"
expect unnegotiated_feature "without its feature negotiated"
expect needs_reset "device needs reset"
expect rings_outside "rings not in guest memory"
expect rings_misaligned "misaligned rings"
expect grant_refused "gmem: dom$hid: grant [0-9]+ cannot be mapped"
expect grant_buffer "buffer 0x80000000000[0-9a-f]+\\+512 is not in guest memory"
expect reserved_bits "bits 62..48 set: neither guest-physical nor a grant"
expect rings_overlap "rings overlap: descriptors 0x[0-9a-f]+\\+256, .*; not started"
# Unaligned accesses reach vdisk only from a window mapped as normal memory (mmio_unaligned);
# those straddling the window's end, load pairs and accesses past the windows Xen does not
# forward (the guest takes a data abort).
expect mmio_misaligned_read "4-byte read at 0x71 is misaligned"
expect mmio_misaligned_write "4-byte write at 0x71 is misaligned"
expect grant_ring_revoked "rings not in guest memory: descriptors 0x8000000000"
# Not floods: a repeated attack (2000 empty notifies, 50 of a missing queue) must not make
# a line each.
lines=$(wc -l </tmp/vdisk-hostile.log)
rig_metric vdisk_lines_about_hostile "$lines"
# What the per-device log limit held back, as vdisk reported it (at the latest when the
# hostile guest's devices went away).
rig_metric vdisk_lines_held_back "$(sed -n 's/.* \([0-9]*\) more line(s) about it were not logged.*/\1/p' /tmp/vdisk-hostile.log | awk '{ n += $1 } END { print n + 0 }')"
storm=$(grep -c "notify of queue 3" /tmp/vdisk-hostile.log)
rig_metric vdisk_lines_notify_storm "$storm"
# VMMIO_WARN_BURST (10) lines, then a count of the rest
if [ "$storm" -le 10 ]; then rig_pass vdisk_no_log_flood; else rig_fail vdisk_no_log_flood "$storm lines for 50 notifies of a missing queue"; fi
expect storm_counted "the last warning repeated 40 more time"
# The reset race (vCPU 1 notifying while vCPU 0 resets ten times): a reset must not start a new
# burst, so about one burst in all (and one line from an earlier attack), not one per reset.
race=$(grep -c "notify of queue 0 with status" /tmp/vdisk-hostile.log)
rig_metric vdisk_lines_reset_race "$race"
if [ "$race" -le 20 ]; then rig_pass vdisk_no_log_flood_reset_race; else rig_fail vdisk_no_log_flood_reset_race "$race lines for notifies around ten resets"; fi

echo "--- vdisk's console about the hostile guest (dom$hid) ---"
cat /tmp/vdisk-hostile.log
echo "--- vdisk's other warnings ---"
grep -v "dom$hid/" /tmp/vdisk.log | grep -E "WARNING|ERROR" | tail -n 30
echo "--- the end of vdisk's console ---"
tail -n 15 /tmp/vdisk.log
xl destroy vdisk
rig_summary
