#!/usr/bin/env bash
# The deterministic gossip simulation (tests/sim/, rules in mk/sim.mk):
# SIM_SEEDS seeds (default 216: every scenario at every size 2..64, twice),
# then SIM_BYZ_SEEDS (default 200) runs of the Byzantine member scenario
# (4..12 nodes, 5 % loss), each split over two processes. A failure prints
# its seed and the exact `make sim SEED=... NODES=... SCENARIO=...` that
# replays it. Ends with one line "sim: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
logdir=$top/build/test-logs
mkdir -p "$logdir"
seeds=${SIM_SEEDS:-216}
sim=build/sim/glued-sim

mk=()
grep -q 'mk/sim.mk' mk/rules.mk || mk=(-f Makefile -f mk/sim.mk)
if ! make -s "${mk[@]}" "$sim" >>"$logdir/sim.log" 2>&1; then
	echo "  build failed (see $logdir/sim.log)"
	tail -n 20 "$logdir/sim.log" | sed 's/^/    /'
	echo "sim: 0 passed, 1 failed"
	exit 1
fi

byz=${SIM_BYZ_SEEDS:-200}
half=$((seeds / 2))
t0=$(date +%s)
"$sim" --first 0 --seeds "$half" >"$logdir/sim-a.out" 2>&1 &
a=$!
"$sim" --first "$half" --seeds "$((seeds - half))" >"$logdir/sim-b.out" 2>&1 &
b=$!
wait $a; ra=$?
wait $b; rb=$?
t1=$(date +%s)
bhalf=$((byz / 2))
"$sim" --scenario byzantine --first 0 --seeds "$bhalf" >"$logdir/sim-c.out" 2>&1 &
c=$!
"$sim" --scenario byzantine --first "$bhalf" --seeds "$((byz - bhalf))" \
	>"$logdir/sim-d.out" 2>&1 &
d=$!
wait $c; rc=$?
wait $d; rd=$?
pass=0 fail=0
for f in "$logdir/sim-a.out" "$logdir/sim-b.out" "$logdir/sim-c.out" "$logdir/sim-d.out"; do
	cat "$f" >>"$logdir/sim.log"
	grep -E '^sim: (seed|FAILED)' "$f" | head -n 40 | sed 's/^/  /'
	line=$(grep -E '^sim: [0-9]+ passed, [0-9]+ failed' "$f" | tail -n 1)
	if [ -z "$line" ]; then
		echo "  a simulator process crashed:"
		tail -n 20 "$f" | sed 's/^/    /'
		fail=$((fail + 1))
		continue
	fi
	p=$(sed -E 's/^sim: ([0-9]+) passed.*/\1/' <<<"$line")
	f2=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	pass=$((pass + p)); fail=$((fail + f2))
done
for r in $ra $rb $rc $rd; do
	[ "$r" -ne 0 ] && [ $fail -eq 0 ] && fail=1
done
grep -h '^sim: byzantine:' "$logdir/sim-c.out" "$logdir/sim-d.out" | sed 's/^/  /'
echo "  $seeds seeds in $((t1 - t0))s, $byz byzantine seeds in $(( $(date +%s) - t1 ))s"
echo "sim: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
