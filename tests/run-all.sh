#!/usr/bin/env bash
# `make test`: every suite in turn; the last line sums them all.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
rm -rf build/test-logs; mkdir -p build/test-logs
total_pass=0 total_fail=0
start=$(date +%s)

run() { # name, command...
	local name=$1; shift
	local t0=$(date +%s) out line
	echo "== $name"
	"$@" 2>&1 | tee "build/test-logs/$name.out"
	out=$(tail -n 1 "build/test-logs/$name.out")
	line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" <<<"$out")
	if [ -z "$line" ]; then
		echo "== $name: no summary line; counted as one failure"
		total_fail=$((total_fail + 1))
	else
		p=$(sed -E 's/^[a-z0-9]+: ([0-9]+) passed.*/\1/' <<<"$line")
		f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
		total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	fi
	echo "== $name done in $(( $(date +%s) - t0 ))s"
}

run unit tests/run-suite.sh unit $(ls build/asan/tests/unit/test_* 2>/dev/null | grep -v '\.[od]$')
run fuzz tests/run-suite.sh fuzz $(ls build/fuzz/tests/fuzz/fuzz_* 2>/dev/null | grep -v '\.[od]$')
for extra in tests/suites.d/*.sh; do
	[ -x "$extra" ] || continue
	n=$(basename "$extra" .sh); n=${n#[0-9][0-9]-}
	run "$n" "$extra"
done
run e2e tests/run-suite.sh e2e
echo "== all suites done in $(( $(date +%s) - start ))s"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
