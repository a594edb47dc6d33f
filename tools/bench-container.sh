#!/usr/bin/env bash
# Containers' own lookups (issue 12): a container on a user-defined network
# asks 127.0.0.11. Two paths for the same names, same container, same run:
#   dockerd   today's: Docker's embedded resolver (inside dockerd) forwards
#             to glued (--dns <gateway>; glued's fast path answers that on
#             the bridge); glued_ctr_dns not attached
#             (GLUED_CONTAINER_FASTPATH=off)
#   kernel    glued_ctr_dns on the container's lo answers before dockerd
#             sees the query
# Built on the e2e single-host world (tests/e2e/lib: its own containerd and
# dockerd, the busybox image, glued_net); dnsperf runs inside the
# container's network namespace (nsenter --net=/proc/PID/ns/net).
#
# Per path: p50/p99/p99.9 at a fixed rate (dnsperf -Q, one line per answer
# with -v; a lost query counts as slower than any answer), closed-loop
# replies/s (dnsperf -q 100 -c 4), and CPU per answered query in the
# closed-loop run: dnsperf + dockerd + containerd + glued (utime + stime
# from /proc) + softirq of every CPU (/proc/stat), the machine's busy time
# beside it. Proof of the path: glued_ctr_stats `answered` against dnsperf's
# completed queries. Then the ratios against the issue's goals (p99 <= 0.1x,
# q/s >= 2x, CPU <= 0.2x).
#
# Who attaches the program for the kernel path (BENCH_CONTAINER_ATTACH):
#   glued     glued itself (GLUED_CONTAINER_FASTPATH=auto; the dockerd path
#             restarts it with =off), its counters pinned as ctr_stats
#   ctr-load  build/tools/ctr-load, a stand-in for glued's attach: the
#             program in the container's namespace from glued's pinned maps
#   auto      (default) glued when this glued knows GLUED_CONTAINER_FASTPATH
# The report says which did. Root only.
#
#   tools/bench-container.sh [-r ROUNDS] [-l SECONDS] [-L SECONDS] [-Q QPS] [-n NAMES]
#     -r rounds, paths interleaved (default 1)   -l closed-loop run (default 10)
#     -L fixed-rate run (default 10)             -Q its rate (default 20000)
#     -n names in glued's hosts file and the query file (default 1000)
set -u

ROUNDS=1 LEN=10 LAT_LEN=10 LAT_QPS=20000 NAMES=1000
while getopts r:l:L:Q:n: opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	l) LEN=$OPTARG ;;
	L) LAT_LEN=$OPTARG ;;
	Q) LAT_QPS=$OPTARG ;;
	n) NAMES=$OPTARG ;;
	*) sed -n '/^#   tools/,/^set/p' "$0" | sed '$d' >&2; exit 2 ;;
	esac
done
say() { echo "bench-container: $*" >&2; }
[ "$(id -u)" = 0 ] || { say "needs root"; exit 1; }
command -v dnsperf >/dev/null || { say "needs dnsperf (make deps-test)"; exit 1; }

TOP=$(cd "$(dirname "$0")/.." && pwd)
CTR_LOAD=$TOP/build/tools/ctr-load
[ -x "$CTR_LOAD" ] || { say "build/tools/ctr-load not built (make bench-container)"; exit 1; }
export E2E_TOP=$TOP
# shellcheck disable=SC2034 # read by tests/e2e/lib (its setup line)
BATS_TEST_FILENAME=bench-container.sh
exec 3>&2
# shellcheck source=/dev/null
source "$TOP/tests/e2e/lib/load.bash"

LOADER_PID=""
cleanup() {
	if [ -n "$LOADER_PID" ]; then
		kill -TERM "$LOADER_PID" 2>/dev/null
		wait "$LOADER_PID" 2>/dev/null
	fi
	[ -n "${KEEP:-}" ] || rm -rf "${OUT:-}"
	e2e_teardown_all >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
E2E_NO_GLUED=1 e2e_setup_single_host || { say "e2e host setup failed"; exit 1; }
OUT=$(mktemp -d /tmp/bench-container.XXXXXX)
PIN=/sys/fs/bpf/glued
ATTACH=${BENCH_CONTAINER_ATTACH:-auto}
if [ "$ATTACH" = auto ]; then
	ATTACH=ctr-load
	grep -aq GLUED_CONTAINER_FASTPATH "$E2E_GLUED" && ATTACH=glued
fi
case $ATTACH in
glued) CTR_STATS=$PIN/ctr_stats ;;
ctr-load) CTR_STATS=$PIN/bench_ctr_stats ;;
*) say "BENCH_CONTAINER_ATTACH: glued, ctr-load or auto, not '$ATTACH'"; exit 2 ;;
esac
dir=$(host_var h1 dir)
hosts=$dir/hosts
qfile=$OUT/queries
awk -v n="$NAMES" 'BEGIN { for (i = 1; i <= n; i++)
	printf "10.77.%d.%d name%d\n", int(i / 250), i % 250 + 1, i }' >"$hosts"
awk -v n="$NAMES" 'BEGIN { for (i = 1; i <= n; i++) printf "name%d A\n", i }' >"$qfile"

gw=$(host_var h1 gw4)
# glued_mode off|auto: (re)start glued with the container fast path so.
glued_mode() {
	glued_stop h1 >/dev/null 2>&1
	glued_start h1 GLUED_XDP=on GLUED_LOG=info GLUED_HOSTS_FILE="$hosts" \
		GLUED_CONTAINER_FASTPATH="$1" || { say "glued ($1) did not start"; return 1; }
	daemons=("$(e2e_pid_of h1.dockerd)" "$(e2e_pid_of h1.containerd)" "$(glued_pid h1)")
}
glued_mode off || exit 1
ctr_run h1 bench --dns "$gw" || { say "docker run failed"; exit 1; }
cpid=$(hdocker h1 inspect -f '{{.State.Pid}}' bench)
cnet=/proc/$cpid/ns/net
in_ctr() { nsenter --net="$cnet" "$@"; }

# Docker's resolver plumbing in the container, as found (iptables or nft).
dnat=$(in_ctr iptables -w -t nat -S 2>/dev/null | grep -E 'DNAT.*127\.0\.0\.11' | grep -- '-p udp')
[ -n "$dnat" ] || dnat=$(in_ctr nft list ruleset 2>/dev/null | grep -E 'udp.*dnat.*127\.0\.0\.11')
[ -n "$dnat" ] || { say "no DNAT to Docker's resolver in the container's namespace"; exit 1; }

# kstat MAP_PIN FIELD: a counter summed over CPUs (0 when the map is not there).
kstat() {
	local v
	v=$(hx h1 bpftool -j map dump pinned "$1" 2>/dev/null |
		jq ".[0].formatted.values | map(.value.$2) | add // 0" 2>/dev/null)
	echo "${v:-0}"
}
# proc_cpu PID...: utime + stime of the processes, in ticks.
proc_cpu() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}
softirq() { awk '$1 == "cpu" { print $8 }' /proc/stat; }
busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
hz=$(getconf CLK_TCK)

ask() { in_ctr dig +time=1 +tries=1 +short @127.0.0.11 "$1" A 2>&1 | head -1; }
want=$(awk '$2 == "name7" { print $1 }' "$hosts")

# The kernel path is on when a query to a known name moves the program's
# `answered` counter (dig's answer alone cannot tell who gave it).
ctr_answers() {
	local k0
	k0=$(kstat "$CTR_STATS" answered)
	[ "$(ask name7)" = "$want" ] && [ "$(kstat "$CTR_STATS" answered)" -gt "$k0" ]
}
attach() {
	case $ATTACH in
	glued)
		glued_mode auto || return 1
		wait_until 15 ctr_answers || {
			grep -E 'ctr|container' "$(host_var h1 dir)/glued.log" | tail -n 20 >&2
			return 1
		}
		;;
	ctr-load)
		nsenter --net="$cnet" --mount=/proc/"$(host_var h1 anchor)"/ns/mnt -- \
			"$CTR_LOAD" "$PIN" "$CTR_STATS" >"$OUT/ctr-load.log" 2>&1 &
		LOADER_PID=$!
		wait_until 10 grep -qs 'attached' "$OUT/ctr-load.log" || {
			cat "$OUT/ctr-load.log" >&2
			return 1
		}
		;;
	esac
}
detach() {
	if [ "$ATTACH" = glued ]; then
		glued_mode off
		return
	fi
	if [ -n "$LOADER_PID" ]; then
		kill -TERM "$LOADER_PID"
		wait "$LOADER_PID"
		LOADER_PID=""
	fi
}

# measure PATH ROUND: the fixed-rate run then the closed-loop run; one line
# of results in $OUT/results: path round sent lost answered p50 p99 p999 qps
# completed cpu_us_per_q busy_us_per_q ctr_answered% glued_kernel_answered%
# (the last two: of the closed loop's completed queries)
measure() {
	local path=$1 r=$2 lat=$OUT/$1.r$2.lat k0 k1 g0 g1 c0 c1 s0 s1 b0 b1 out
	local done_ qps tchild
	in_ctr dnsperf -s 127.0.0.11 -d "$qfile" -l 1 -q 100 >/dev/null 2>&1 # warm up
	in_ctr dnsperf -s 127.0.0.11 -d "$qfile" -l "$LAT_LEN" -Q "$LAT_QPS" -c 4 -q 500 -t 1 -v \
		>"$lat" 2>&1
	awk '/^> / { print $NF * 1e6 }' "$lat" | sort -n >"$lat.sorted"
	read -r sent answered p50 p99 p999 < <(awk -v f="$lat.sorted" '
		/Queries sent:/ { sent = $3 }
		END {
			n = 0
			while ((getline v < f) > 0) lat[++n] = v
			split("0.5 0.99 0.999", q, " ")
			for (j = 1; j <= 3; j++) {
				i = int(q[j] * sent + 0.999999)
				p[j] = (i <= n && i > 0) ? sprintf("%.0f", lat[i]) : "lost"
			}
			print sent + 0, n, p[1], p[2], p[3]
		}' "$lat")
	g0=$(kstat "$PIN/stats" answered) k0=$(kstat "$CTR_STATS" answered)
	c0=$(proc_cpu "${daemons[@]}") s0=$(softirq) b0=$(busy)
	out=$( (in_ctr dnsperf -s 127.0.0.11 -d "$qfile" -l "$LEN" -c 4 -q 100 -t 1 2>&1; times) )
	b1=$(busy) s1=$(softirq) c1=$(proc_cpu "${daemons[@]}")
	k1=$(kstat "$CTR_STATS" answered) g1=$(kstat "$PIN/stats" answered)
	echo "$out" >"$OUT/$path.r$r.closed"
	done_=$(sed -n 's/.*Queries completed: *\([0-9]*\).*/\1/p' <<<"$out")
	qps=$(sed -n 's/.*Queries per second: *\([0-9.]*\).*/\1/p' <<<"$out")
	# `times`: the subshell's children (nsenter + dnsperf), "XmY.YYYs XmY.YYYs" on line 2.
	tchild=$(tail -1 <<<"$out" | awk '{ t = 0; for (i = 1; i <= 2; i++) {
		split($i, a, /[ms]/); t += a[1] * 60 + a[2] } print t }')
	if [ -z "$done_" ] || [ "$done_" -eq 0 ]; then
		say "$path: dnsperf completed nothing"
		echo "$out" >&2
		return 1
	fi
	awk -v path="$path" -v r="$r" -v sent="$sent" -v ans="$answered" -v p50="$p50" \
		-v p99="$p99" -v p999="$p999" -v qps="$qps" -v n="$done_" -v hz="$hz" \
		-v dc=$((c1 - c0)) -v ds=$((s1 - s0)) -v db=$((b1 - b0)) -v tc="$tchild" \
		-v k=$((k1 - k0)) -v g=$((g1 - g0)) 'BEGIN {
		cpu = (dc + ds) / hz + tc
		printf "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%.0f\t%d\t%.2f\t%.2f\t%.0f\t%.0f\n", path, r,
			sent, sent - ans, ans, p50, p99, p999, qps, n, cpu * 1e6 / n, db / hz * 1e6 / n,
			100 * k / n, 100 * g / n }' >>"$OUT/results"
	say "$path round $r: p99 $p99 us at $LAT_QPS q/s, $qps q/s closed loop"
}

say "container bench: dnsperf in its netns -> 127.0.0.11 ($NAMES names, dockerd forwards to $gw)"
got=$(ask name7)
[ "$got" = "$want" ] || { say "dockerd path: dig name7 got '$got', want $want"; exit 1; }
: >"$OUT/results"
for ((r = 1; r <= ROUNDS; r++)); do
	measure dockerd "$r" || exit 1
	attach || { say "attach failed"; exit 1; }
	got=$(ask name7)
	[ "$got" = "$want" ] || { say "kernel path: dig name7 got '$got', want $want"; exit 1; }
	measure kernel "$r" || exit 1
	detach
done

# --- report ---------------------------------------------------------------------------------
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
med() { awk -F'\t' -v p="$1" -v c="$2" '$1 == p { printf "%s ", $c }' "$OUT/results" | median; }
rev=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$TOP" diff --quiet HEAD -- userspace include bpf tools 2>/dev/null || rev="$rev (+uncommitted)"
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC'), tree $rev"
echo "kernel:    $(uname -sr), $(nproc) CPUs, load at start $LOAD_START, now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "engine:    $(hdocker h1 version -f '{{.Server.Version}}' 2>/dev/null) (dockerd --iptables=false; the resolver's NAT is per container)"
echo "resolver:  $dnat"
if [ "$ATTACH" = glued ]; then
	echo "attach:    glued (GLUED_CONTAINER_FASTPATH=auto): $(grep -m1 -o 'fastpath: container .*answering in its netns.*' \
		"$(host_var h1 dir)/glued.log" | cut -c1-110)"
else
	echo "attach:    tools/ctr-load, NOT glued ($(head -1 "$OUT/ctr-load.log" 2>/dev/null))"
fi
echo "runs:      $ROUNDS round(s); fixed rate dnsperf -Q $LAT_QPS -l $LAT_LEN -c 4 -v; closed loop dnsperf -l $LEN -c 4 -q 100"
echo "CPU:       per answered query, closed loop: dnsperf + dockerd + containerd + glued + softirq (all CPUs); busy = the whole machine"
echo "answered:  ctr_ans = glued_ctr_stats answered, host_ans = glued's own hooks' answered (the bridge,"
echo "           for dockerd's forwarded queries), each as a share of the closed loop's completed queries"
printf '\n  %-8s %9s %6s %7s %7s %8s %10s %9s %9s %8s %8s\n' path sent lost p50_us p99_us \
	p99.9_us "q/s" "cpu_us/q" "busy_us/q" "ctr_ans" "host_ans"
for p in dockerd kernel; do
	awk -F'\t' -v p="$p" '$1 == p {
		printf "  %-8s %9d %6d %7s %7s %8s %10.0f %9.2f %9.2f %7s%% %7s%%  (round %s)\n",
			$1, $3, $4, $6, $7, $8, $9, $11, $12, $13, $14, $2 }' "$OUT/results"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.3f", a / b; else print "n/a" }'; }
goal() { awk -v v="$1" -v g="$2" -v op="$3" 'BEGIN { if (v == "n/a") print "n/a";
	else if ((op == "le" && v <= g) || (op == "ge" && v >= g)) print "met"; else print "NOT met" }'; }
rp99=$(ratio "$(med kernel 7)" "$(med dockerd 7)")
rqps=$(ratio "$(med kernel 9)" "$(med dockerd 9)")
rcpu=$(ratio "$(med kernel 11)" "$(med dockerd 11)")
echo
echo "kernel / dockerd (medians over rounds):"
echo "  p99 at $LAT_QPS q/s   ${rp99}x   goal <= 0.1x: $(goal "$rp99" 0.1 le)"
echo "  closed-loop q/s      ${rqps}x   goal >= 2x:   $(goal "$rqps" 2 ge)"
echo "  CPU per query        ${rcpu}x   goal <= 0.2x: $(goal "$rcpu" 0.2 le)"
