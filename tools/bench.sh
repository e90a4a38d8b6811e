#!/bin/bash
# shellcheck disable=SC2015 # "A && B || C" is meant as "unless A and B, C"
# make bench: the fio 4 KiB job set (tests/rig/lib/guest-lib.sh g_fio_set) against vdisk's
# virtio-blk disk and against Linux's own PV block path (xen-blkback in dom0 over a brd RAM
# disk, xen-blkfront in the guest), in one guest of one rig boot under QEMU -icount (guest
# time, so the figures repeat), side by side; plus vdisk's hypercalls and IOREQs per request.
# A benchmark, not a test: it is not part of `make test`.
#   tools/bench.sh [IOS]     IOS: I/Os per fio job, at most 2048 (default $BENCH_IOS or 2048):
#                            the jobs cover an 8 MiB region in 4 KiB blocks, each block once
# A second boot does the same for an SD card (tests/rig/bench-sd.sh): the 4 KiB jobs and 1 MiB
# sequential write and read on partition 2 of a card behind QEMU's sdhci-pci, served by vdisk
# driving the controller itself, then by dom0 Linux's sdhci-pci driver and xen-blkback.
# Env: GIC (3 or 2, default 3), BENCH_TIMEOUT (seconds for each boot, default 1800),
# BENCH_SERVE (vdisk's serve= policy: adaptive, the default, inline or defer), BENCH_PARTS
# ("ram sd", the default; "ram" or "sd" for one of them), BENCH_SD_IOS (I/Os per 4 KiB job on
# the card, default 256), BENCH_VDISK_WEIGHT (vdisk's credit2 weight, xl sched-credit2 -w;
# default Xen's 256, as every domain), BENCH_BUSY_MS (how often dom0 runs `xl list` during the
# dom0-at-work job, default 100).
# Prints the tables and writes them as CSV to build/bench/bench-gic$GIC.csv and
# build/bench/bench-sd-gic$GIC.csv, the guest's floor (the same jobs on null_blk in the guest)
# to build/bench/floor-gic$GIC.csv; exit status 1 (with the reason) when a run failed.
# Plots (tools/plot-latency.py, Debian's python3-matplotlib) the latency of randread_qd1 and
# randread_qd32, vdisk against blkback, to build/bench/latency-JOB-gic$GIC.png and .csv, from
# fio's latency logs (build/bench/{vdisk,blkback}_JOB_lat.log, cut from the boot log) and
# vdisk's service-time histogram of the job (build/bench/vdisk_JOB_service.hist); a plot that
# cannot be made is reported and does not fail the run.
set -eu -o pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
IOS=${1:-${BENCH_IOS:-2048}}
GIC=${GIC:-3}
case $IOS in '' | *[!0-9]*) echo "bench: IOS must be a number, got '$IOS'" >&2; exit 2 ;; esac
SD_IOS=${BENCH_SD_IOS:-256}
case $SD_IOS in '' | *[!0-9]*) echo "bench: BENCH_SD_IOS must be a number, got '$SD_IOS'" >&2; exit 2 ;; esac
[ "$SD_IOS" -ge 1 ] && [ "$SD_IOS" -le 2048 ] ||
	{ echo "bench: BENCH_SD_IOS must be 1..2048 (the partition's 8 MiB in 4 KiB blocks), got $SD_IOS" >&2; exit 2; }
PARTS=${BENCH_PARTS:-ram sd}
for p in $PARTS; do
	case $p in ram | sd) ;; *) echo "bench: BENCH_PARTS lists ram and/or sd, got '$p'" >&2; exit 2 ;; esac
done
want() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
# fio's number_ios only cuts a job short: past 8 MiB / 4 KiB the jobs would stop at 2048 anyway
[ "$IOS" -ge 1 ] && [ "$IOS" -le 2048 ] ||
	{ echo "bench: IOS must be 1..2048 (the jobs' 8 MiB region in 4 KiB blocks), got $IOS" >&2; exit 2; }
cache=${VDISK_CACHE:-$HOME/.cache/vdisk}
out=build/bench
log=$out/bench-gic$GIC.log
mkdir -p "$out"
fail() { echo "bench: FAILED: $*" >&2; exit 1; }

# ---- what the boot needs ----
make -s build/vdisk.img
tools/rig/fetch.sh
tools/rig/mk-dom0.sh
kabi=$(cat "$cache/dom0/kernel-version")
# dom0: brd and xen-blkback with their dependencies, loaded by the scenario
# (the SD boot: Linux's own SD host driver, loaded once vdisk has let go of the controller)
rm -rf "$out/dom0-mods" "$out/dom0-mods-sd"
mkdir -p "$out/dom0-mods" "$out/dom0-mods-sd"
tools/rig/kmods.sh "$cache/sysroot" "$kabi" "$out/dom0-mods" brd xen-blkback \
	>"$out/dom0-mods/modules.load" || fail "dom0 kernel modules brd, xen-blkback"
tools/rig/kmods.sh "$cache/sysroot" "$kabi" "$out/dom0-mods-sd" sdhci-pci xen-blkback \
	>"$out/dom0-mods-sd/modules.load" || fail "dom0 kernel modules sdhci-pci, xen-blkback"
# guest: fio, virtio-blk and blkfront, and mmio-lat (the null-IOREQ floor); null_blk for the
# guest's floor, not loaded at boot (the guest script loads it with its parameters)
"${CROSS:-aarch64-linux-gnu-}gcc" -static -O2 -Wall -Wextra -Werror -o "$out/mmio-lat" \
	tools/guest/mmio-lat.c || fail "building tools/guest/mmio-lat.c"
rm -rf "$out/guest-mods"
mkdir -p "$out/guest-mods"
tools/rig/kmods.sh "$cache/sysroot" "$kabi" "$out/guest-mods" null_blk \
	>"$out/guest-mods/modules.load" || fail "guest kernel module null_blk"
tools/rig/mk-domu-initrd.sh "$out/bench.cpio.zst" --blk \
	--modules "virtio_mmio virtio_blk xen_blkfront" --add "$out/mmio-lat:/usr/bin/mmio-lat" \
	--add "$out/guest-mods:/rig/guest-mods" >/dev/null
SERVE=${BENCH_SERVE:-adaptive}
case $SERVE in adaptive | inline | defer) ;; *) echo "bench: BENCH_SERVE must be adaptive, inline or defer, got '$SERVE'" >&2; exit 2 ;; esac
WEIGHT=${BENCH_VDISK_WEIGHT:-}
case $WEIGHT in '' | [1-9] | [1-9][0-9] | [1-9][0-9][0-9] | [1-9][0-9][0-9][0-9] | [1-9][0-9][0-9][0-9][0-9]) ;;
*) WEIGHT=bad ;; esac
[ "$WEIGHT" != bad ] && [ "${WEIGHT:-1}" -le 65535 ] ||
	{ echo "bench: BENCH_VDISK_WEIGHT must be a credit2 weight, 1..65535, got '$BENCH_VDISK_WEIGHT'" >&2; exit 2; }
BUSY_MS=${BENCH_BUSY_MS:-100}
case $BUSY_MS in [1-9] | [1-9][0-9] | [1-9][0-9][0-9] | [1-9][0-9][0-9][0-9]) ;;
*) echo "bench: BENCH_BUSY_MS must be 1..9999 (milliseconds), got '$BUSY_MS'" >&2; exit 2 ;; esac
printf 'BENCH_IOS=%s\nBENCH_SERVE=%s\nBENCH_SD_IOS=%s\nBENCH_VDISK_WEIGHT=%s\nBENCH_BUSY_MS=%s\n' \
	"$IOS" "$SERVE" "$SD_IOS" "$WEIGHT" "$BUSY_MS" >"$out/bench.env"

# boot SCENARIO LOG MODS [BOOT.SH-ARG...]: one rig boot under -icount; sets clean (its log
# without CRs) and wall (seconds), or fails with the reason
boot() {
	local scenario=$1 log=$2 mods=$3 rc=0 start
	shift 3
	local cmd=(tools/rig/boot.sh --gic "$GIC" --icount --xsm flask --scenario "$scenario"
		--timeout "${BENCH_TIMEOUT:-1800}" --log "$log"
		--add build/vdisk.img:/rig/vdisk.img --add tests/rig/vdisk.cfg:/rig/vdisk.cfg
		--add "$cache/dom0/Image:/rig/domu/Image" --add "$out/bench.cpio.zst:/rig/domu/bench.cpio.zst"
		--add tests/rig/guest:/rig/guest --add "$mods:/rig/dom0-mods"
		--add "$out/bench.env:/rig/bench.env" "$@")
	# shellcheck disable=SC2086 # the QEMU arguments on one line
	echo "bench: ${RIG_QEMU_ARGS:+RIG_QEMU_ARGS=\"$(echo ${RIG_QEMU_ARGS})\" }${cmd[*]}"
	start=$(date +%s)
	"${cmd[@]}" >"$log.raw" 2>&1 || rc=$?
	wall=$(($(date +%s) - start))
	clean=$(tr -d '\r' <"$log")
	if [ "$rc" != 0 ] || ! grep -q "RIG-SUMMARY: 0 failure" <<<"$clean"; then
		grep -a "RIG-TEST: FAIL\|BENCH-STATS-FAIL\|rig: \(FAIL\|TIMEOUT\)" <<<"$clean" "$log.raw" | head -n 20 >&2 || true
		tail -n 30 <<<"$clean" | sed 's/^/    /' >&2
		fail "the rig run did not pass (boot status $rc, ${wall}s wall; log: $log)"
	fi
}
metric() { sed -n "s/.*RIG-METRIC: $1=\([0-9.]*\).*/\1/p" <<<"$clean" | tail -n 1; }
div() { awk -v a="${1:-0}" -v b="${2:-0}" -v f="${3:-%.2f}" 'BEGIN { if (b > 0) printf f, a / b; else print "-" }'; }
hdr='%-15s | %7s %6s %6s %6s %6s | %7s %6s %6s %6s %6s | %5s %5s %5s\n'
missing=0
declare -A row
CSV_HEAD=job,vdisk_iops,vdisk_p50_us,vdisk_p99_us,vdisk_p999_us,vdisk_max_us,blkback_iops,blkback_p50_us,blkback_p99_us,blkback_p999_us,blkback_max_us,iops_ratio,p50_ratio,max_ratio,requests,ioreqs_per_req,hypercalls_per_req,yields_per_req,vdisk_us_per_req,ioreq_us_per_ioreq,vdisk_share
table_head() {
	printf "$hdr" "" vdisk "" "" "" "" blkback "" "" "" "" ratio ratio ratio
	printf "$hdr" job IOPS p50 p99 p99.9 max IOPS p50 p99 p99.9 max IOPS p50 max
}
# line JOB VDISK-PREFIX BLKBACK-PREFIX: one row of the table and of the CSV
line() {
	local v=() b=() x ratio p50r maxr
	for k in iops p50_us p99_us p999_us max_us; do
		v+=("$(metric "$2_$k")")
		b+=("$(metric "$3_$k")")
	done
	for x in "${v[@]}" "${b[@]}"; do [ -n "$x" ] || missing=1; done
	ratio=$(div "${v[0]}" "${b[0]}")
	p50r=$(div "${v[1]}" "${b[1]}")
	maxr=$(div "${v[4]}" "${b[4]}")
	printf "$hdr" "$1" "${v[@]}" "${b[@]}" "$ratio" "$p50r" "$maxr"
	row[$1]="$1,$(IFS=,; echo "${v[*]},${b[*]}"),$ratio,$p50r,$maxr"
}

# per_job CSV IOPS-PREFIXES JOB...: per job, from vdisk's counters around it (verify reads
# included), exits and vdisk's own time, as a table and appended to the job's CSV row (the
# job's IOPS: metric PREFIX<job>_iops of the first prefix that has it).
# vdisk's time = the clock minus time asleep in WFI or yielded (time Xen gave another vCPU
# while vdisk was runnable counts too); its share = that time per request times the IOPS,
# i.e. the part of the job's time vdisk was running.
per_job() {
	local csv=$1 prefixes=$2 job reqs busy iops p cols
	shift 2
	echo
	echo "vdisk, per job (fio's verify reads included): requests, and per request: IOREQs, hypercalls,"
	echo "yields, vdisk's own time (awake, not yielded) in us; per IOREQ: time from reading it to"
	echo "answering it in us; vdisk's share of the job's time"
	printf '%-15s %9s %8s %8s %8s %8s %8s %7s\n' job requests ioreqs hcalls yields "vdisk us" "ioreq us" share
	for job in "$@"; do
		d() { metric "vdisk_delta_${job}_$1"; }
		reqs=$(d requests)
		[ -n "$reqs" ] && [ "$reqs" -gt 0 ] || fail "no vdisk request count for $job"
		busy=$(awk -v n="$(d now_ns)" -v i="$(d idle_ns)" 'BEGIN { print n - i }')
		iops=
		for p in $prefixes; do [ -n "$iops" ] || iops=$(metric "$p${job}_iops"); done
		cols=("$reqs" "$(div "$(d ioreqs)" "$reqs")" "$(div "$(d hypercalls)" "$reqs")"
			"$(div "$(d yields)" "$reqs")" "$(div "$busy" "$((reqs * 1000))" %.1f)"
			"$(div "$(d ioreq_ns)" "$(($(d ioreqs) * 1000))" %.2f)"
			"$(div "$(awk -v b="$busy" -v i="$iops" 'BEGIN { print b * i }')" \
				"$((reqs * 1000000000))" %.2f)")
		printf '%-15s %9s %8s %8s %8s %8s %8s %7s\n' "$job" "${cols[@]}"
		echo "${row[$job]},$(IFS=,; echo "${cols[*]}")" >>"$csv"
	done
}

if want sd; then
	sd_img=$out/sd.img
	tools/rig/mk-sd-image.py make "$sd_img"
	dtc -q -I dts -O dtb -o "$out/sd-dt.dtb" tests/rig/sd-dt.dts
	RIG_QEMU_ARGS="-device sdhci-pci -device sd-card,drive=card0
		-drive if=none,id=card0,format=raw,cache=writethrough,file=$sd_img" \
		boot tests/rig/bench-sd.sh "$out/bench-sd-gic$GIC.log" "$out/dom0-mods-sd" \
		--add "$out/sd-dt.dtb:/rig/sd-dt.dtb"
	csv=$out/bench-sd-gic$GIC.csv
	echo
	echo "SD card: vdisk (its own SDHCI driver, PIO, polled) vs. dom0 Linux's sdhci-pci + xen-blkback,"
	echo "partition 2 (8 MiB) of a 64 MiB card behind QEMU's sdhci-pci, one guest (1 vCPU) each in turn;"
	echo "fio 4 KiB jobs of $SD_IOS I/Os, 1 MiB jobs over the whole partition (IOPS = MiB/s there);"
	echo "QEMU -icount guest time, microseconds; GICv$GIC, Xen FLASK, rig boot ${wall}s wall"
	echo
	table_head
	echo "$CSV_HEAD" >"$csv"
	sd_jobs="randread_qd1 randread_qd32 randwrite_qd1 randwrite_qd32 seqwrite_1m seqread_1m"
	for job in $sd_jobs; do
		line "$job" "bench-sd-vdisk.vdisk_$job" "bench-sd-blkback.blkback_$job"
	done
	[ "$missing" = 0 ] || fail "some fio figures of the SD card are missing (log: $out/bench-sd-gic$GIC.log)"
	echo "dom0's driver: $(sed -n 's/.*RIG-METRIC: dom0_sdhci_driver=//p' <<<"$clean" | tail -n 1)"
	# shellcheck disable=SC2086 # one job a word
	per_job "$csv" bench-sd-vdisk.vdisk_ $sd_jobs
	echo "(share takes one request per fio I/O; a 1 MiB I/O becomes about 9 requests here, the card's"
	echo "largest command being 128 KiB, so for those jobs it is about 9 times what the column says)"
	echo "csv: $csv"
	echo "log: $out/bench-sd-gic$GIC.log"
	want ram || exit 0
fi

boot tests/rig/bench.sh "$log" "$out/dom0-mods"

# ---- table ----
csv=$out/bench-gic$GIC.csv
echo "$CSV_HEAD" >"$csv"
echo
echo "vdisk vs. xen-blkback: fio 4 KiB, $IOS I/Os per job, 64 MiB RAM disks, one guest (1 vCPU)"
echo "times are QEMU -icount guest time (shift=0: 1 instruction = 1 ns), not wall-clock time;"
echo "p50/p99/p99.9/max: fio's total latency (submission + completion) in microseconds;"
echo "GICv$GIC, Xen FLASK, vdisk serve=$SERVE, rig boot ${wall}s wall"
echo
table_head
jobs="randread_qd1 randread_qd32 randwrite_qd1 randwrite_qd32"
for job in $jobs; do
	line "$job" "bench.vdisk_$job" "bench.blkback_$job"
done
[ "$missing" = 0 ] || fail "some fio figures are missing (log: $log)"

# The 2-vCPU guest: vdisk offers a queue per vCPU. poll_qd1 (a polled queue, no completion
# interrupts) is set against blkback's randread_qd1 above (blkfront has no polled queues).
echo
echo "2-vCPU guest (vdisk: a queue per vCPU): poll_qd1 = io_uring --hipri on a polled queue"
echo "(virtio_blk.poll_queues=1), ratio against blkback's randread_qd1; mq_qd32 = 2 fio jobs of QD16"
line poll_qd1 bench-mq.vdisk_poll_qd1 bench.blkback_randread_qd1
line mq_qd32 bench-mq.vdisk_mq_qd32 bench-mq.blkback_mq_qd32
[ "$missing" = 0 ] || fail "some fio figures of the 2-vCPU guest are missing (log: $log)"
jobs="$jobs poll_qd1 mq_qd32"

# randread QD1 on both disks once more, dom0 running `xl list` every BUSY_MS meanwhile: vdisk
# waits while dom0 has the one CPU, blkback's thread shares dom0 with the work
echo
echo "dom0 at work (xl list every $BUSY_MS ms), the first guest again:"
line busy_qd1 bench.vdisk_busy_randread_qd1 bench.blkback_busy_randread_qd1
[ "$missing" = 0 ] || fail "the dom0-at-work figures are missing (log: $log)"

# The floor under every figure above: one register read of vdisk's device from the guest.
null=$(sed -n 's/.*\(mmio-lat: .*\)/\1/p' <<<"$clean" | tail -n 1)
[ -n "$null" ] || fail "no mmio-lat line from the guest (log: $log)"
echo
echo "null IOREQ (tools/guest/mmio-lat.c, 2000 reads of MagicValue, no driver bound): ${null#mmio-lat: }"

# The guest's floor: the first guest's jobs once more on null_blk in the guest (memory-backed,
# each request completed where it is submitted): the guest's own path with no device, exit or
# interrupt. A reference more than a bound: a real device adds its driver and interrupts, but
# completing inline also changes how fio and the block layer batch (blkback's randwrite QD32
# beat the floor's by 4% on 2026-12-07). At QD1 with interrupts a virtio-mmio request adds
# 3 IOREQs (QueueNotify, InterruptStatus, InterruptACK) to it.
null_us=$(sed -n 's/.* p50 \([0-9]*\) ns.*/\1/p' <<<"$null" | awk '{ printf "%.1f", $1 / 1000 }')
[ -n "$null_us" ] || fail "no p50 in the mmio-lat line '$null' (log: $log)"
fcsv=$out/floor-gic$GIC.csv
echo "job,floor_iops,floor_p50_us,floor_p99_us,floor_p999_us,floor_max_us,vdisk_iops_of_floor,blkback_iops_of_floor,blkback_1_2x_iops_of_floor,qd1_virtio_mmio_bound_us,blkback_1_2x_p50_us" >"$fcsv"
echo
echo "The guest's floor: the same jobs on null_blk in the guest (memory-backed, irqmode=0: no device,"
echo "no exit, no interrupt; the guest's own path). vdisk's and blkback's IOPS as a fraction of the"
echo "floor's, and at QD32 1.2x blkback's (issue 10's goal) against it; at QD1 the floor's p50 plus"
echo "3 null IOREQs (a virtio-mmio request with interrupts) against 1.2x blkback's p50 (the goal):"
printf '%-15s | %7s %6s %6s %6s %6s | %6s %6s %6s | %9s %9s\n' job IOPS p50 p99 p99.9 max vdisk blkbk 1.2xbb "p50+3io" 1.2xbb
for job in randread_qd1 randread_qd32 randwrite_qd1 randwrite_qd32; do
	f=()
	for k in iops p50_us p99_us p999_us max_us; do f+=("$(metric "bench.floor_${job}_$k")"); done
	for x in "${f[@]}"; do [ -n "$x" ] || fail "no floor figures for $job (log: $log)"; done
	bb=$(metric "bench.blkback_${job}_iops")
	fv=("$(div "$(metric "bench.vdisk_${job}_iops")" "${f[0]}")" "$(div "$bb" "${f[0]}")"
		"$(div "$(awk -v b="$bb" 'BEGIN { print 1.2 * b }')" "${f[0]}")" - -)
	case $job in *_qd1)
		fv[2]=-
		fv[3]=$(awk -v p="${f[1]}" -v n="$null_us" 'BEGIN { printf "%.1f", p + 3 * n }')
		fv[4]=$(awk -v p="$(metric "bench.blkback_${job}_p50_us")" 'BEGIN { printf "%.1f", 1.2 * p }')
		;;
	esac
	printf '%-15s | %7s %6s %6s %6s %6s | %6s %6s %6s | %9s %9s\n' "$job" "${f[@]}" "${fv[@]}"
	echo "$job,$(IFS=,; echo "${f[*]},${fv[*]}")" >>"$fcsv"
done
echo "(null IOREQ p50 $null_us us; floor csv: $fcsv)"

per_job "$csv" "bench.vdisk_ bench-mq.vdisk_" $jobs
echo "${row[busy_qd1]},,,,,,," >>"$csv" # no snapshot of vdisk's counters around it
echo
echo "  hypercalls by kind, per request over the jobs:"
total=0
for job in $jobs; do total=$((total + $(metric "vdisk_delta_${job}_requests"))); done
while read -r k; do
	n=0
	for job in $jobs; do n=$((n + $(metric "vdisk_delta_${job}_hc_$k" || echo 0) + 0)); done
	[ "$n" != 0 ] && printf '  %-24s %10s %8s\n' "$k" "$n" "$(div "$n" "$total")"
done < <(sed -n 's/.*RIG-METRIC: vdisk_delta_[a-z0-9]*_qd[0-9]*_hc_\([a-z_]*\)=.*/\1/p' <<<"$clean" | sort -u)
echo
echo "vdisk's own latency histograms of the first guest's device (fill and the four jobs with their"
echo "verify reads; vdisk's virtual counter, ns): service = taken from the available ring to put"
echo "in the used ring, ioreq = an IOREQ read to answered; upcall = vdisk's event-channel upcall"
echo "sampled while it served, send to handler (upcall_sample_ms)"
sed -n 's/.*BENCH-LATENCY: [^ ]* \([a-z]*\) \(.*\) buckets=.*/  \1: \2/p' <<<"$clean"

# plot JOB NEXT: the latency plot of the first guest's JOB. The guest prints fio's total
# latency of each I/O at its end (tests/rig/lib/guest-lib.sh g_lat_log: "BENCH-LAT: NAME NS..."
# lines and "BENCH-LAT-END: NAME COUNT"); a line a dom0 or Xen message broke into no longer
# matches, and the count tells. vdisk's service-time histogram is read at each snapshot
# ("BENCH-HIST: vdisk-SNAP DEVICE service ...", tests/rig/lib/rig.sh rig_snap_lines): the
# readings at the job's snapshot and at the NEXT one hold the job between them.
plot() {
	local job=$1 next=$2 src f want got series=() hist name
	for src in vdisk blkback; do
		f=$out/${src}_${job}_lat.log
		{ sed -n "s/.*BENCH-LAT: ${src}_$job \([0-9 ]*\)\$/\1/p" <<<"$clean" | tr ' ' '\n' | grep . || true; } >"$f"
		want=$(sed -n "s/.*BENCH-LAT-END: ${src}_$job \([0-9]*\)\$/\1/p" <<<"$clean" | tail -n 1)
		got=$(wc -l <"$f")
		if [ -z "$want" ] || [ "$got" != "$want" ] || [ "$got" = 0 ]; then
			echo "bench: no latency plot for $job: $got of ${want:-an unknown number of} $src latencies in $log" >&2
			return 0
		fi
		series+=("$src, fio total latency=$f")
	done
	hist=$out/vdisk_${job}_service.hist
	grep -E "BENCH-HIST: vdisk-($job|$next) [^ ]+ service count=[0-9]+ .*buckets=[0-9:,]*\$" <<<"$clean" |
		sed 's/.*BENCH-HIST: /BENCH-HIST: /' >"$hist" || true
	if [ "$(wc -l <"$hist")" = 2 ]; then
		series+=("vdisk, its own service time=$hist")
	else
		echo "bench: $job's plot without vdisk's service time: $(wc -l <"$hist") BENCH-HIST lines for vdisk-$job and vdisk-$next in $log, not 2" >&2
	fi
	name=latency-$job-gic$GIC
	if tools/plot-latency.py --out "$out" --name "$name" "${series[@]}" \
		--title "$job (4 KiB random read, QD${job##*_qd}): QEMU -icount guest time, GICv$GIC" >/dev/null; then
		echo "plot: $out/$name.png ($out/$name.csv)"
	else
		echo "bench: no latency plot for $job (tools/plot-latency.py failed: above)" >&2
	fi
}
echo
plot randread_qd1 randread_qd32
plot randread_qd32 randwrite_qd1
echo
echo "csv: $csv"
echo "log: $log"
