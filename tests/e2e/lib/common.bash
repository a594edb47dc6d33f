# e2e harness, common part: the per-run prefix and directory, PID records,
# timing, polling and assertions. Every name the harness creates (network
# namespaces, cgroups, directories) starts with $E2E_PREFIX = "ge2e" + 4 hex
# digits, so tools/e2e-clean.sh can find the leftovers of an interrupted run
# and nothing else. Processes are recorded in $E2E_DIR/pids as
# "pid starttime name" and only ever killed by that PID (the start time
# guards against a recycled PID). Sourced by every .bats file (load lib/load).

E2E_TOP=${E2E_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
E2E_STEM=ge2e
E2E_IMAGE=${E2E_IMAGE:-glued-e2e-busybox:latest}

# e2e_init: a fresh prefix and run directory. Call first in setup_file.
e2e_init() {
	export LC_ALL=C
	export E2E_TOP E2E_IMAGE
	export E2E_PREFIX=$E2E_STEM$(od -An -N2 -tx2 /dev/urandom | tr -d ' \n')
	export E2E_DIR=${E2E_TMP:-/tmp}/$E2E_PREFIX
	mkdir -p "$E2E_DIR"
	: >"$E2E_DIR/pids"
	: >"$E2E_DIR/timings"
	export DOCKER_CONFIG=$E2E_DIR/docker-cli
	mkdir -p "$DOCKER_CONFIG"
	e2e_log "init $E2E_PREFIX in $E2E_DIR (from ${BATS_TEST_FILENAME:-?})"
}

e2e_log() {
	printf '%s %s\n' "$(date +%T.%3N)" "$*" >>"$E2E_DIR/harness.log"
}

# Milliseconds since the epoch, from bash's own clock (no fork).
e2e_now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# e2e_step NAME CMD...: run CMD, record how long it took in $E2E_DIR/timings.
e2e_step() {
	local name=$1 t0 rc=0
	shift
	t0=$(e2e_now_ms)
	"$@" || rc=$?
	printf '%-28s %6d ms%s\n' "$name" $(($(e2e_now_ms) - t0)) \
		"$([ $rc -eq 0 ] || echo " (failed: $rc)")" >>"$E2E_DIR/timings"
	return $rc
}

# One line summing the timings, for setup_file to print to the TAP stream.
e2e_timings_line() {
	awk '{printf "%s%s=%sms", sep, $1, $2; sep=" "}' "$E2E_DIR/timings"
}

e2e_starttime() { # field 22 of /proc/PID/stat (after the "(comm)" field)
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	set -- $s
	echo "${20}"
}

# e2e_spawn NAME LOG CMD...: start CMD in the background (stdin closed, output
# to LOG, bats' fd 3 closed so bats does not wait for it), record its PID.
# CMD must exec its final program (nsenter, env, ip netns exec all do), so the
# recorded PID is the daemon's. Sets E2E_PID.
e2e_spawn() {
	local name=$1 log=$2
	shift 2
	"$@" </dev/null >>"$log" 2>&1 3>&- &
	E2E_PID=$!
	echo "$E2E_PID $(e2e_starttime $E2E_PID || echo 0) $name" >>"$E2E_DIR/pids"
	e2e_log "spawn $name pid $E2E_PID: $*"
}

# PID of the most recent live process recorded under NAME.
e2e_pid_of() {
	local pid st name
	while read -r pid st name; do
		[ "$name" = "$1" ] && e2e_pid_alive "$pid" "$st" && echo "$pid"
	done < <(tac "$E2E_DIR/pids") | head -n 1
}

# e2e_pid_alive PID [STARTTIME]: running (not a zombie) and still the process
# that was recorded.
e2e_pid_alive() {
	local st state
	st=$(e2e_starttime "$1") || return 1
	[ -z "${2:-}" ] || [ "$2" = 0 ] || [ "$st" = "$2" ] || return 1
	state=$(awk '{sub(/.*\) /, ""); print $1}' "/proc/$1/stat" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# e2e_kill_pid PID [TIMEOUT_S] [SIGNAL]: SIGNAL (TERM), wait, then KILL.
# Returns 0 when it stopped on SIGNAL, 3 when it took a SIGKILL, 1 on failure.
e2e_kill_pid() {
	local pid=$1 timeout=${2:-5} sig=${3:-TERM} st i
	st=$(e2e_starttime "$pid") || return 0
	grep -q "^$pid $st " "$E2E_DIR/pids" 2>/dev/null ||
		grep -q "^$pid 0 " "$E2E_DIR/pids" 2>/dev/null || {
		e2e_log "refusing to kill unrecorded pid $pid"
		return 1
	}
	kill -"$sig" "$pid" 2>/dev/null || return 0
	for ((i = 0; i < timeout * 20; i++)); do
		e2e_pid_alive "$pid" "$st" || return 0
		sleep 0.05
	done
	e2e_log "pid $pid did not stop on $sig in ${timeout}s: SIGKILL"
	kill -KILL "$pid" 2>/dev/null
	for ((i = 0; i < 40; i++)); do
		e2e_pid_alive "$pid" "$st" || return 3
		sleep 0.05
	done
	return 1
}

# e2e_kill NAME [TIMEOUT_S] [SIGNAL]: stop the live process recorded as NAME.
e2e_kill() {
	local pid
	pid=$(e2e_pid_of "$1")
	[ -n "$pid" ] || return 0
	e2e_kill_pid "$pid" "${2:-5}" "${3:-TERM}"
}

# Kill every recorded process still running, newest first.
e2e_kill_all_recorded() {
	local pid st name
	[ -f "$E2E_DIR/pids" ] || return 0
	while read -r pid st name; do
		e2e_pid_alive "$pid" "$st" || continue
		e2e_log "teardown: stopping $name ($pid)"
		e2e_kill_pid "$pid" 5 || true
	done < <(tac "$E2E_DIR/pids")
}

# wait_until TIMEOUT_S CMD...: poll CMD every 0.1 s until it succeeds.
wait_until() {
	local deadline=$(($(e2e_now_ms) + $1 * 1000))
	shift
	while :; do
		"$@" && return 0
		[ "$(e2e_now_ms)" -lt $deadline ] || return 1
		sleep 0.1
	done
}

# Assertions print what they saw, so a failure explains itself in bats output.
fail() {
	echo "FAIL: $*" >&2
	return 1
}

assert_eq() { # ACTUAL EXPECTED [WHAT]
	[ "$1" = "$2" ] && return 0
	printf 'FAIL: %s\n  expected: %s\n  actual:   %s\n' "${3:-value}" "$2" "$1" >&2
	return 1
}

assert_match() { # ACTUAL REGEX [WHAT]
	[[ $1 =~ $2 ]] && return 0
	printf 'FAIL: %s\n  expected to match: %s\n  actual: %s\n' "${3:-value}" "$2" "$1" >&2
	return 1
}
