#!/bin/bash
# Everything `make test` runs: host unit tests, the tools' Python tests (tests/tools), a short
# bounded pass of every fuzzer (FUZZ_SECONDS each, 10 by default; one test per target), image
# checks, and the real-Xen rig under both GIC versions. Each suite ends with "<suite>: N passed,
# N failed"; this adds them up and ends with the line CI reads: "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mkdir -p build
passed=0 failed=0

suite() { # name command...
	local name=$1 out=build/test-$1.out
	shift
	echo "=== $name"
	"$@" 2>&1 | tee "$out"
	local status=${PIPESTATUS[0]}
	local line
	line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $name: suite ended (status $status) without a result line"
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + $(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')))
	failed=$((failed + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
	if [ "$status" != 0 ] && echo "$line" | grep -q " 0 failed"; then
		echo "FAIL $name: exit status $status despite no failed test"
		failed=$((failed + 1))
	fi
}

suite unit make -s unit
suite tools tests/tools/run.sh
suite fuzz make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
suite image tests/image/run.sh build/vdisk.img build/vdisk.elf
suite rig tests/rig/run.sh ${RIG_GICS:-3 2}

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
