#!/usr/bin/env bash
# Loopback integration tests of the I/O edges: build every tests/net/test_*.c
# (ASan+UBSan, rules in mk/net.mk) and run each; each prints its own
# "N passed, N failed". Ends with one line "net: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
logdir=$top/build/test-logs
mkdir -p "$logdir"
pass=0 fail=0

srcs=(tests/net/test_*.c)
bins=()
for s in "${srcs[@]}"; do
	[ -e "$s" ] || continue
	b=${s#tests/net/}
	bins+=("build/asan/tests/net/${b%.c}")
done

mk=()
grep -q 'mk/net.mk' mk/rules.mk || mk=(-f Makefile -f mk/net.mk)
if [ ${#bins[@]} -gt 0 ] && ! make -s "${mk[@]}" "${bins[@]}" >>"$logdir/net.log" 2>&1; then
	echo "  build failed (see $logdir/net.log)"
	tail -n 20 "$logdir/net.log" | sed 's/^/    /'
	echo "net: 0 passed, ${#bins[@]} failed"
	exit 1
fi

for b in "${bins[@]}"; do
	out=$(timeout 120 "$b" 2>&1); rc=$?
	echo "$out" >>"$logdir/net.log"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -n 1)
	printf '  %-28s %s\n' "${b##*/}" "${line:-crashed (exit $rc)}"
	if [ -z "$line" ]; then
		fail=$((fail + 1))
		tail -n 30 <<<"$out" | sed 's/^/    /'
		continue
	fi
	[ $rc -ne 0 ] && grep -vE '^[0-9]+ passed' <<<"$out" | head -n 30 | sed 's/^/    /'
	p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	# A clean summary with a non-zero exit (e.g. a leak report) still fails.
	[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
	pass=$((pass + p)); fail=$((fail + f))
done
echo "net: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
