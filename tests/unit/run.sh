#!/bin/bash
# Runs host unit-test binaries, each under a 60 s timeout, and sums their results.
# A binary that crashes, times out or ends without its "N passed, N failed" line counts
# one more failure on top of the FAIL lines it printed.
#
#   tests/unit/run.sh build/host/test_xs build/host/test_log ...
set -u

[ $# -gt 0 ] || { echo "usage: $0 TEST_BINARY..." >&2; exit 2; }

total_passed=0
total_failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	echo "== $name"
	out=$(mktemp)
	timeout 60 "$bin" >"$out" 2>&1
	rc=$?
	cat "$out"

	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	if [ -n "$summary" ]; then
		passed=$(echo "$summary" | cut -d' ' -f1)
		failed=$(echo "$summary" | cut -d' ' -f3)
	else
		passed=$(grep -c '^PASS ' "$out")
		failed=$(grep -c '^FAIL ' "$out")
	fi
	case $rc in
	0) why="" ;;
	1) why="" ;;
	124) why="timed out after 60 s" ;;
	*) why="exited with status $rc" ;;
	esac
	[ -z "$why" ] && [ -z "$summary" ] && why="ended without its summary line (exit $rc)"
	[ -z "$why" ] && [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && why="exited 1 with no failed test"
	[ -z "$why" ] && [ "$rc" -eq 0 ] && [ "$failed" -ne 0 ] && why="exited 0 despite failures"
	if [ -n "$why" ]; then
		echo "FAIL $name: $why"
		# test.c names the test a crash or timeout hit ("FAIL suite.name (reason)"):
		# that line is the failure; otherwise count the binary itself as one.
		if ! grep -qE '^FAIL [^ ]+ \(' "$out" && [ "$rc" -ne 0 -o "$failed" -eq 0 ]; then
			failed=$((failed + 1))
		fi
	fi
	rm -f "$out"
	total_passed=$((total_passed + passed))
	total_failed=$((total_failed + failed))
done

echo "unit: $total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
