#!/usr/bin/env bash
# Where the fast path's time goes in BPF_PROG_TEST_RUN (root; docs/fastpath.md,
# "Where the time goes"): runs the warm answer (glued_xdp_bench: restore the
# query "web", then answer it; repeat = 1000000) through tools/bpf-ab for a
# while under `perf record -e cpu-clock` (no hardware PMU needed), then puts
# the samples that landed in the JITed program on its instructions and source
# lines (tools/bpf-jit-lines, objdump). Prints the kernel symbols by share,
# then the program's samples by source line; the annotated listing is left in
# OUT/annotated.txt. Timer sampling skids to the instruction after a stall:
# read the split inside the program as approximate.
#
# Usage: tools/bpf-prof.sh [OBJ]  (default build/bpf/glued_dns_bench.bpf.o)
# Environment: BPF_PROF_BATCHES=300 (about 30 s), BPF_PROF_OUT=build/bpf-prof
# It owns only OUT and the bpf-ab process it starts (waited for, not killed).
set -euo pipefail
cd "$(dirname "$0")/.."
OBJ=${1:-build/bpf/glued_dns_bench.bpf.o}
OUT=${BPF_PROF_OUT:-build/bpf-prof}
BATCHES=${BPF_PROF_BATCHES:-300}
PROG=glued_xdp_bench

[ "$(id -u)" = 0 ] || { echo "bpf-prof: needs root" >&2; exit 1; }
for c in perf objdump bpftool python3 build/tools/bpf-ab build/tools/bpf-jit-lines; do
	command -v "$c" >/dev/null || [ -x "$c" ] ||
		{ echo "bpf-prof: $c missing (make bpf-test-build; apt-get install linux-perf)" >&2; exit 1; }
done
mkdir -p "$OUT"

# The program of our own bpf-ab: the first of that name with an id above
# every id in use now.
ids() { bpftool prog show name "$PROG" 2>/dev/null | sed -n 's/^\([0-9]*\): .*/\1/p'; }
last=$(bpftool prog show 2>/dev/null | sed -n 's/^\([0-9]*\): .*/\1/p' | sort -n | tail -n 1)
BPF_AB_ROWS=A BPF_AB_BATCHES=$BATCHES BPF_AB_REPEAT=1000000 \
	perf record -q -e cpu-clock -F 20000 -o "$OUT/perf.data" -- \
	build/tools/bpf-ab "$OBJ" >"$OUT/bpf-ab.txt" 2>&1 &
rec=$!
id=
for _ in $(seq 100); do
	id=$(ids | awk -v l="${last:-0}" '$1 > l { print; exit }')
	[ -n "$id" ] && break
	sleep 0.1
done
[ -n "$id" ] || { echo "bpf-prof: $PROG never loaded (see $OUT/bpf-ab.txt)" >&2; wait $rec; exit 1; }
sleep 1 # the rest of the object loads
if ! build/tools/bpf-jit-lines "$id" "$OUT/jit" >"$OUT/jit.lines"; then
	wait $rec
	exit 1
fi
# perf names the functions by their kernel symbols: take them while loaded.
grep '^func ' "$OUT/jit.lines" | while read -r _ _ addr _; do
	grep "^$addr " /proc/kallsyms || echo "$addr t ?"
done >"$OUT/ksyms.txt"
wait $rec

echo "== kernel symbols, share of all samples"
perf report -i "$OUT/perf.data" --no-children --sort sym -g none 2>/dev/null |
	grep -E '^ +[0-9.]+%' | sed -n 1,20p

# Samples per offset into each JITed function, by symbol.
perf script -i "$OUT/perf.data" -F ip,sym,symoff 2>/dev/null >"$OUT/samples.txt"

# Each function disassembled at its kernel address, every instruction with
# its samples and source line (the last line record at or before it); then
# the samples summed by source line.
python3 - "$OUT" "$PROG" <<'PY'
import collections, re, subprocess, sys
out, prog = sys.argv[1], sys.argv[2]
samples = [l.split() for l in open(out + "/samples.txt") if l.strip()]
total = len(samples)
cnt = collections.Counter()
for s in samples:  # ip sym+off
    if len(s) > 1 and re.match(r"bpf_prog_[0-9a-f]+_", s[1]) and "+" in s[1]:
        sym, off = s[1].split("+")
        cnt[(sym, int(off, 16))] += 1
funcs, recs = [], []
for l in open(out + "/jit.lines"):
    f = l.rstrip("\n").split(" ", 2)
    if f[0] == "func":
        funcs.append((int(l.split()[2], 16), int(l.split()[3])))
    else:
        recs.append((int(f[0], 16), f[1] + " " + (f[2] if len(f) > 2 else "")))
recs.sort()
ksyms = {}
for l in open(out + "/ksyms.txt"):
    a, _, name = l.split()[:3]
    ksyms[int(a, 16)] = name
image = open(out + "/jit.bin", "rb").read()
per_line = collections.Counter()
skip = 0
with open(out + "/annotated.txt", "w") as ann:
    for addr, length in funcs:
        sym = ksyms.get(addr, "?")
        open(out + "/func.bin", "wb").write(image[skip:skip + length])
        skip += length
        dis = subprocess.run(["objdump", "-D", "-b", "binary", "-m", "i386:x86-64",
                              "--adjust-vma=%d" % addr, out + "/func.bin"],
                             capture_output=True, text=True, check=True).stdout
        ri, cur = 0, "?"
        for d in dis.splitlines():
            m = re.match(r"\s*([0-9a-f]+):\t(.*)", d)
            if not m:
                continue
            a = int(m.group(1), 16)
            while ri < len(recs) and recs[ri][0] <= a:
                if addr <= recs[ri][0] < addr + length:
                    cur = recs[ri][1]
                ri += 1
            c = cnt.get((sym, a - addr), 0)
            where, _, text = cur.partition(" ")
            per_line[where.rsplit(":", 1)[0] + "  " + text.strip()[:70]] += c
            ann.write("%6d  %s  |  %s\n" % (c, m.group(2).split("\t")[-1], cur))
print("== %s by source line, share of all %d samples (top 40)" % (prog, total))
for k, v in per_line.most_common(40):
    if v:
        print("%6.2f%%  %s" % (100.0 * v / total, k))
PY
echo "(listing: $OUT/annotated.txt; bpf-ab's own figures: $OUT/bpf-ab.txt)"
