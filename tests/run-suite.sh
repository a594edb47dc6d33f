#!/usr/bin/env bash
# Run one suite and print its own "N passed, N failed" line last.
#   tests/run-suite.sh unit BIN...   each unit binary prints its own line
#   tests/run-suite.sh fuzz BIN...   replay each target's committed corpus
#   tests/run-suite.sh e2e           bats, as root
# Output of each suite also goes to build/test-logs/<suite>.log.
set -uo pipefail
suite=$1; shift
top=$(cd "$(dirname "$0")/.." && pwd)
logdir=$top/build/test-logs
mkdir -p "$logdir"
pass=0 fail=0

add_line() { # "N passed, N failed" -> totals
	local line p f
	line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' <<<"$1" | tail -n 1)
	if [ -z "$line" ]; then fail=$((fail + 1)); return; fi
	p=$(sed -E 's/^([A-Za-z]+: )?([0-9]+) passed.*/\2/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	pass=$((pass + p)); fail=$((fail + f))
}

case $suite in
unit)
	for b in "$@"; do
		out=$("$b" 2>&1); rc=$?
		echo "$out" >>"$logdir/unit.log"
		summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -n 1)
		printf '  %-28s %s\n' "${b##*/}" "${summary:-crashed (exit $rc)}"
		[ $rc -ne 0 ] && grep -vE '^[0-9]+ passed' <<<"$out" | head -n 30 | sed 's/^/    /'
		if [ -z "$summary" ]; then fail=$((fail + 1)); else add_line "$out"; fi
	done
	;;
fuzz)
	for b in "$@"; do
		name=${b##*/}; corpus=$top/tests/fuzz/corpus/${name#fuzz_}
		files=()
		[ -d "$corpus" ] && mapfile -t files < <(find "$corpus" -type f | sort)
		if [ ${#files[@]} -eq 0 ]; then
			printf '  %-28s no corpus\n' "$name"; fail=$((fail + 1)); continue
		fi
		if "$b" -runs=1 "${files[@]}" >>"$logdir/fuzz.log" 2>&1; then
			printf '  %-28s %d inputs replayed\n' "$name" "${#files[@]}"
			pass=$((pass + 1))
		else
			printf '  %-28s FAILED (see %s)\n' "$name" "$logdir/fuzz.log"
			fail=$((fail + 1))
		fi
	done
	;;
e2e)
	if [ "$(id -u)" != 0 ]; then echo "e2e: needs root"; echo "0 passed, 1 failed"; exit 1; fi
	files=("$top"/tests/e2e/*.bats)
	bats --tap "${E2E_FILTER[@]:-${files[@]}}" 2>&1 | tee "$logdir/e2e.log" | sed 's/^/  /'
	pass=$(grep -cE '^ok ' "$logdir/e2e.log")
	fail=$(grep -cE '^not ok ' "$logdir/e2e.log")
	planned=$(grep -oE '^1\.\.[0-9]+' "$logdir/e2e.log" | head -n1 | cut -d. -f3)
	ran=$((pass + fail))
	if [ -n "$planned" ] && [ "$ran" -lt "$planned" ]; then fail=$((fail + planned - ran)); fi
	;;
*)
	echo "usage: $0 unit|fuzz|e2e ..." >&2; exit 2 ;;
esac
echo "$suite: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
