#!/bin/bash
# Runs the host tests of the Python tools in tools/: every tests/tools/test_*.py, each with
# Debian's /usr/bin/python3 -m unittest (where python3-matplotlib is: a pyenv python3 may come
# first on PATH) under a 120 s timeout, and sums their results. A file that crashes, times out
# or ends without unittest's "Ran N tests" counts one more failure; skipped tests count as
# neither passed nor failed. Ends with "tools: N passed, N failed"; exit status 1 on failures.
#
#   tests/tools/run.sh [tests/tools/test_NAME.py...]   (default: all of them)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the tree
files=("$@")
[ $# -gt 0 ] || files=(tests/tools/test_*.py)

# count KEY: N of "KEY=N" in unittest's result line ($result), 0 if absent
count() {
	local n
	n=$(sed -n "s/.*[(, ]$1=\([0-9]*\).*/\1/p" <<<"$result")
	echo "${n:-0}"
}

total_passed=0
total_failed=0
for f in "${files[@]}"; do
	name=$(basename "$f" .py)
	echo "== $name"
	out=$(mktemp)
	timeout 120 /usr/bin/python3 -m unittest discover -v -s "$(dirname "$f")" -p "$(basename "$f")" \
		>"$out" 2>&1
	rc=$?
	cat "$out"
	# unittest ends with "Ran N tests in S" and "OK" or "FAILED (failures=F, errors=E, ...)",
	# either with ", skipped=S" / "(skipped=S)"
	ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in .*/\1/p' "$out" | tail -n 1)
	result=$(grep -E '^(OK|FAILED)( \(.*\))?$' "$out" | tail -n 1)
	failed=$(($(count failures) + $(count errors) + $(count unexpected_successes)))
	skipped=$(count skipped)
	why=""
	if [ -z "$ran" ] || [ -z "$result" ]; then
		case $rc in
		124) why="timed out after 120 s" ;;
		*) why="ended without unittest's result (exit $rc)" ;;
		esac
		ran=0
	elif [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
		why="exited $rc with no failed test"
	fi
	passed=$((ran - failed - skipped))
	if [ -n "$why" ]; then
		echo "FAIL $name: $why"
		failed=$((failed + 1))
	fi
	if [ "$skipped" != 0 ]; then
		echo "$name: $passed passed, $failed failed, $skipped skipped"
	else
		echo "$name: $passed passed, $failed failed"
	fi
	rm -f "$out"
	total_passed=$((total_passed + passed))
	total_failed=$((total_failed + failed))
done

echo "tools: $total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
