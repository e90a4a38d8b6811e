#!/bin/bash
# Real-Xen rig tests: boots Xen (with IOREQ) + Debian dom0 under QEMU for each GIC version
# and runs a dom0 scenario that creates vdisk with xl and checks what it does.
#   tests/rig/run.sh [GIC...]     foundation tests, GIC versions 3 2 by default
#   tests/rig/run.sh --demo       boot once, show vdisk's console through xl console (make run)
# Ends with "rig: N passed, N failed"; exit status 1 if anything failed.
set -eu -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
mkdir -p build/rig
make -s build/vdisk.img build/dom0/vdisk-dom0

boot() { # boot GIC SCENARIO LOG
	tools/rig/boot.sh --gic "$1" --scenario "$2" --log "$3" --timeout "${RIG_TIMEOUT:-900}" \
		--add build/vdisk.img:/rig/vdisk.img --add build/dom0/vdisk-dom0:/rig/vdisk-dom0
}

if [ "${1:-}" = "--demo" ]; then
	log=build/rig/demo.log
	boot 3 tests/rig/demo.sh "$log" >"$log.raw" 2>&1 || true
	tr -d '\r' <"$log" | sed -n '/^DEMO:/s/^DEMO: \{0,1\}//p'
	grep -q "RIG: scenario exit 0" "$log" || { echo "demo failed; full log: $log" >&2; exit 1; }
	exit 0
fi

passed=0 failed=0
for gic in ${@:-3 2}; do
	log=build/rig/foundation-gic$gic.log
	echo "rig: GICv$gic: booting Xen + dom0 (log: $log)"
	start=$(date +%s)
	boot "$gic" tests/rig/foundation.sh "$log" >"$log.raw" 2>&1 || true
	clean=$(tr -d '\r' <"$log")
	while read -r verdict name why; do
		case $verdict in
		PASS) passed=$((passed + 1)); echo "PASS gic$gic.$name" ;;
		FAIL) failed=$((failed + 1)); echo "FAIL gic$gic.$name $why" ;;
		esac
	done < <(sed -n 's/.*RIG-TEST: \(PASS\|FAIL\) \([^:]*\):\{0,1\} *\(.*\)/\1 \2 \3/p' <<<"$clean")
	if grep -q "RIG-SUMMARY:" <<<"$clean"; then
		passed=$((passed + 1)); echo "PASS gic$gic.scenario_completed"
	else
		failed=$((failed + 1)); echo "FAIL gic$gic.scenario_completed (no summary; tail of $log:)"
		tail -n 40 <<<"$clean" | sed 's/^/    /'
	fi
	sed -n 's/.*RIG-METRIC: /    metric gic'"$gic"': /p' <<<"$clean"
	echo "rig: GICv$gic took $(($(date +%s) - start)) s"
done
echo "rig: $passed passed, $failed failed"
[ "$failed" = 0 ]
