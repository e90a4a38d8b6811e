# shellcheck shell=sh disable=SC2034
# Guest-side helpers for scripts run inside a Linux test guest by rig_guest_run
# (tests/rig/lib/guest.sh). rig_guest_run installs this file in the guest as /rig/glib.sh and the
# script as /rig/domu.sh; the script starts with   . /rig/glib.sh
#
#   g_pass NAME | g_fail NAME WHY | g_check NAME CMD... | g_metric KEY VALUE
#   g_summary              last line of the script: "GUEST-SUMMARY: N failure(s)", status 1 if any
#   g_now_ms               milliseconds since the guest booted (/proc/uptime, 10 ms steps)
#   g_wait_for SECONDS CMD...   retry CMD every 0.1 s
#   g_need_disk NAME       /dev/NAME within 20 s (test NAME_present), else fail and exit
# Output protocol (read from `xl console` by rig_guest_run, which reports each one as a rig test
# named GUEST.NAME): "GUEST-TEST: PASS name", "GUEST-TEST: FAIL name: why",
# "GUEST-METRIC: key=value". The guest's /init then prints "DOMU: script exit N".
G_FAILS=0
g_pass() { echo "GUEST-TEST: PASS $1"; }
g_fail() { echo "GUEST-TEST: FAIL $1: $2"; G_FAILS=$((G_FAILS + 1)); }
g_check() { # NAME CMD...: PASS if CMD succeeds (its output goes to the console)
	_gc_name=$1
	shift
	if "$@"; then g_pass "$_gc_name"; else g_fail "$_gc_name" "failed ($?): $*"; fi
}
g_metric() { echo "GUEST-METRIC: $1=$2"; }
g_now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
g_wait_for() { # SECONDS CMD...
	_gw_n=$(($1 * 10))
	shift
	while [ "$_gw_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_gw_n=$((_gw_n - 1))
	done
	return 1
}
g_need_disk() { # NAME: /dev/NAME within 20 s (test NAME_present), or the script ends here
	if g_wait_for 20 test -b "/dev/$1"; then
		g_pass "${1}_present"
		return 0
	fi
	g_fail "${1}_present" "no /dev/$1 after 20 s"
	dmesg | grep -i -E "virtio|vd|xvd|blkfront|deferred" | tail -n 10
	g_summary
	exit 1
}
g_summary() {
	echo "GUEST-SUMMARY: $G_FAILS failure(s)"
	[ "$G_FAILS" -eq 0 ]
}

# g_fio_set DEV PREFIX [IOS] — the 4 KiB job set of the virtio-blk tests and of `make bench`:
# fill the first 8 MiB sequentially with crc32c-verifiable blocks, then random read and random
# write at queue depth 1 and 32 (libaio, O_DIRECT), IOS I/Os each (default 1000; at most 2048,
# the 8 MiB in 4 KiB blocks: fio's number_ios only cuts a job short), each with verify=crc32c
# (reads check the filled blocks, writes are read back and checked after the job).
# Reports test PREFIX_<job> (fio exit 0, err 0) and metrics PREFIX_<job>_iops, _p50_us, _p99_us,
# _p999_us and _max_us
# (latency from submission to completion: vdisk completes a request while the guest's notify
# write is trapped, so completion latency alone would leave out most of it) for the jobs
# randread_qd1, randread_qd32, randwrite_qd1, randwrite_qd32.
g_fio_set() {
	_gf_dev=$1 _gf_pre=$2 _gf_ios=${3:-1000}
	g_fio "$_gf_dev" "${_gf_pre}_fill" write 1 --bs=64k --verify_interval=4k --do_verify=0
	for _gf_rw in randread randwrite; do
		for _gf_qd in 1 32; do
			g_fio "$_gf_dev" "${_gf_pre}_${_gf_rw}_qd$_gf_qd" "$_gf_rw" "$_gf_qd" \
				--number_ios="$_gf_ios" --do_verify=1
		done
	done
}
# g_fio DEV NAME RW QD [FIO-OPTION...]: one fio job; terse (v3) output gives the read fields
# 5 error, 8 iops, 18/19/20 p50/p99/p99.9 (µs; total latency with --lat_percentiles), 39 the
# total latency's max, and the write fields 49, 59/60/61, 80.
# G_FIO_LAT_LOG (`make bench`): the kinds of job, RW_qdQD (e.g. "randread_qd1 randread_qd32"),
# that also write fio's total-latency log, the same latency as those percentiles, one line per
# I/O, to /tmp/NAME_lat.log (and its clat and slat logs beside it); g_lat_log prints it.
g_fio() {
	_gf_dev=$1 _gf_name=$2 _gf_rw=$3 _gf_qd=$4
	shift 4
	case " ${G_FIO_LAT_LOG:-} " in
	*" ${_gf_rw}_qd$_gf_qd "*)
		set -- "$@" --write_lat_log=/tmp/"$_gf_name" --per_job_logs=0 --log_avg_msec=0
		;;
	esac
	fio --name="$_gf_name" --filename="$_gf_dev" --size=8m --bs=4k --rw="$_gf_rw" \
		--ioengine=libaio --iodepth="$_gf_qd" --direct=1 --verify=crc32c \
		--output-format=terse --terse-version=3 --percentile_list=50:99:99.9 \
		--lat_percentiles=1 --clat_percentiles=0 "$@" \
		>/tmp/"$_gf_name".fio 2>&1
	_gf_rc=$?
	if [ "$_gf_rc" != 0 ]; then
		g_fail "$_gf_name" "fio exit status $_gf_rc: $(grep -v '^3;' /tmp/"$_gf_name".fio | head -n 2 | tr '\n' ' ')"
		return 1
	fi
	# shellcheck disable=SC2046 # one field per positional parameter
	set -- $(tail -n 1 /tmp/"$_gf_name".fio | tr ';' ' ')
	if [ "${1:-}" != 3 ] || [ "${5:-x}" != 0 ]; then
		g_fail "$_gf_name" "fio reported: $(tail -n 1 /tmp/"$_gf_name".fio | cut -c 1-200)"
		return 1
	fi
	g_pass "$_gf_name"
	case $_gf_rw in
	*read) _gf_iops=$8 _gf_p50=${18} _gf_p99=${19} _gf_p999=${20} _gf_max=${39} ;;
	*) _gf_iops=${49} _gf_p50=${59} _gf_p99=${60} _gf_p999=${61} _gf_max=${80} ;;
	esac
	g_metric "${_gf_name}_iops" "$_gf_iops"
	g_metric "${_gf_name}_p50_us" "${_gf_p50#*%=}"
	g_metric "${_gf_name}_p99_us" "${_gf_p99#*%=}"
	g_metric "${_gf_name}_p999_us" "${_gf_p999#*%=}"
	g_metric "${_gf_name}_max_us" "${_gf_max%.*}"
}

# g_lat_log NAME (`make bench`): prints the latencies of fio's total-latency log of job NAME
# (/tmp/NAME_lat.log, see G_FIO_LAT_LOG; fio 3.33 writes "time ms, latency ns, direction, block
# size, priority" a line) for tools/bench.sh to cut from the console: only the latency column,
# in the log's order, 32 values a line, then the count
#   BENCH-LAT: NAME NS NS ...
#   BENCH-LAT-END: NAME COUNT
g_lat_log() {
	awk -F', ' -v name="$1" '
		{ line = line " " $2; n++ }
		n % 32 == 0 { print "BENCH-LAT: " name line; line = "" }
		END { if (line != "") print "BENCH-LAT: " name line; print "BENCH-LAT-END: " name " " n + 0 }
	' "/tmp/$1_lat.log"
}
