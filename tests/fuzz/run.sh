#!/bin/bash
# Runs each libFuzzer target for a bounded time, one job, one process at a time, and prints
# one line per target and the suite's total:
#
#   fuzz: <name> PASS (N runs in S s, corpus C)
#   fuzz: <name> FAIL (<why>; artifact <path>, log <path>)
#   fuzz: N passed, N failed
#
# The committed seeds in tests/fuzz/corpus/<name>/ are read, never written: what a run
# learns goes to build/fuzz/corpus/<name>/, crash artifacts to build/fuzz/artifacts/<name>/.
#
#   tests/fuzz/run.sh SECONDS build/fuzz/fuzz_vq_blk ...
set -u

[ $# -gt 1 ] || { echo "usage: $0 SECONDS FUZZ_BINARY..." >&2; exit 2; }
seconds=$1
shift
top=$(cd "$(dirname "$0")/../.." && pwd)
out_dir=$top/build/fuzz

passed=0 failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	seeds=$top/tests/fuzz/corpus/$name
	corpus=$out_dir/corpus/$name
	artifacts=$out_dir/artifacts/$name/
	log=$out_dir/$name.log
	mkdir -p "$corpus" "$artifacts" "$seeds"
	# A hung run is a finding too: libFuzzer's own -timeout reports it with an artifact;
	# the outer timeout only guards against libFuzzer itself not stopping.
	timeout $((seconds + 120)) "$bin" -max_total_time="$seconds" -rss_limit_mb=1024 \
		-timeout=10 -print_final_stats=1 \
		-artifact_prefix="$artifacts" "$corpus" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
	time=$(sed -nE 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/p' "$log" | tail -n 1)
	size=$(find "$corpus" -type f | wc -l)
	if [ "$rc" = 0 ] && [ -n "$runs" ]; then
		echo "fuzz: $name PASS (${runs} runs in ${time:-$seconds} s, corpus $size)"
		passed=$((passed + 1))
		continue
	fi
	artifact=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n 1)
	why=$(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz_[a-z_]+: invariant)' \
		"$log" | cut -c1-160)
	echo "fuzz: $name FAIL (exit $rc${why:+: $why}; artifact ${artifact:-none}, log $log)"
	failed=$((failed + 1))
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
