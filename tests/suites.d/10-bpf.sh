#!/usr/bin/env bash
# BPF suite (root): build the programs, their skeletons and the tests, then
# run the BPF_PROG_TEST_RUN fixture table and the differential test against
# dns_answer(). Last line: "bpf: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
pass=0 fail=0
if [ "$(id -u)" != 0 ]; then
	echo "bpf: needs root (BPF_PROG_TEST_RUN, map creation)" >&2
	echo "bpf: 0 passed, 1 failed"
	exit 1
fi
if ! make -s bpf-test-build >&2; then
	echo "bpf: build failed" >&2
	echo "bpf: 0 passed, 1 failed"
	exit 1
fi
for t in build/tests/bpf/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1); rc=$?
	echo "$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed$' >&2
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "bpf: ${t##*/} crashed (exit $rc)" >&2
		fail=$((fail + 1))
		continue
	fi
	printf '  %-28s %s\n' "${t##*/}" "$line" >&2
	pass=$((pass + ${line%% passed*}))
	f=${line##*, }; fail=$((fail + ${f%% failed}))
done
echo "bpf: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
