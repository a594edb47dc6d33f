# e2e harness, glued itself: start, stop and restart it inside a host's
# namespaces with a clean environment (only the GLUED_* variables given
# here), wait until it answers, and dump its log and the relevant state when
# a test fails. The binary is $E2E_GLUED (default build/glued).

E2E_GLUED=${E2E_GLUED:-$E2E_TOP/build/glued}

# glued_start HOST [VAR=VALUE...]: start glued on HOST; later VAR=VALUE
# override the defaults below (VAR= sets it empty, -VAR leaves it unset).
# Waits until it answers.
glued_start() {
	local h=$1 dir envs
	shift
	dir=$(host_var "$h" dir)
	mkdir -p "$dir/state"
	[ -x "$E2E_GLUED" ] || {
		echo "glued_start: $E2E_GLUED not built (run make)" >&2
		return 1
	}
	envs=(
		PATH="$PATH"
		GLUED_DNS_BIND=0.0.0.0:53
		GLUED_NETWORK_NAME=glued_net
		DOCKER_HOST="unix://$dir/docker.sock"
		GLUED_UPSTREAMS="$E2E_UPSTREAM_IP:53"
		GLUED_STATE_DIR="$dir/state"
		GLUED_CTL_SOCKET="$dir/ctl.sock"
		GLUED_BPF_PIN=/sys/fs/bpf/glued
		GLUED_XDP=off
		GLUED_LOG=debug
		"$@"
	)
	local a u kept=()
	for u in "${envs[@]}"; do
		[[ $u == -* ]] || continue
		for a in "${envs[@]}"; do
			[[ $a == "${u#-}="* || $a == -* ]] || kept+=("$a")
		done
		envs=("${kept[@]}")
		kept=()
	done
	echo "=== $(date +%T.%3N) glued start: ${envs[*]:1}" >>"$dir/glued.log"
	e2e_spawn "glued-$h" "$dir/glued.log" env -i "${envs[@]}" \
		nsenter -t "$(host_var "$h" anchor)" -n -m -- "$E2E_GLUED"
	host_set "$h" glued_env "${envs[*]:1}"
	# Probe the family it listens on: the last GLUED_DNS_BIND given wins.
	local probe a
	probe=$(host_var "$h" ip)
	for a in "${envs[@]}"; do
		case $a in
		GLUED_DNS_BIND=\[*) probe=$(host_var "$h" ip6) ;;
		GLUED_DNS_BIND=*) probe=$(host_var "$h" ip) ;;
		esac
	done
	wait_until 10 glued_answers "$h" "$probe" || {
		echo "glued_start: glued on $h does not answer after 10 s" >&2
		glued_alive "$h" || echo "glued_start: glued on $h exited" >&2
		tail -n 40 "$dir/glued.log" >&2
		return 1
	}
}

# glued_answers HOST [SERVER]: any DNS reply (whatever the rcode) from HOST's
# glued, asked on its LAN address (or SERVER).
glued_answers() {
	glued_alive "$1" || return 1
	cx dig +time=1 +tries=1 @"${2:-$(host_var "$1" ip)}" glued-e2e-probe A 2>/dev/null |
		grep -q 'status: '
}

glued_pid() {
	e2e_pid_of "glued-$1"
}

glued_alive() {
	local pid
	pid=$(glued_pid "$1")
	[ -n "$pid" ] && e2e_pid_alive "$pid"
}

# glued_stop HOST [SIGNAL]: stop it by PID (SIGTERM, then SIGKILL after 5 s);
# fails if SIGTERM did not stop it within 5 s.
glued_stop() {
	local rc=0
	e2e_kill "glued-$1" 5 "${2:-TERM}" || rc=$?
	[ $rc -eq 3 ] && echo "glued_stop: glued on $1 ignored SIG${2:-TERM} for 5 s" >&2
	return $rc
}

# glued_restart HOST [VAR=VALUE...]: stop, then start with new overrides.
glued_restart() {
	local h=$1
	shift
	glued_stop "$h" && glued_start "$h" "$@"
}

glued_log() {
	cat "$(host_var "$1" dir)/glued.log"
}

# e2e_dump HOST: what a person needs to see when a test failed, to stderr.
e2e_dump() {
	local h=${1:-h1} dir
	dir=$E2E_DIR/$h
	{
		echo "---- e2e dump for $h ($E2E_DIR) ----"
		echo "glued pid: $(glued_pid "$h" || true) env: $(cat "$dir/glued_env" 2>/dev/null)"
		echo "-- docker ps (glued_net):"
		hdocker "$h" ps -a --format '{{.ID}} {{.Names}} {{.Status}}' 2>&1 | head -n 50
		hdocker "$h" network inspect glued_net \
			-f '{{range $id, $c := .Containers}}{{$c.Name}} {{$c.IPv4Address}} {{$c.IPv6Address}}{{println}}{{end}}' \
			2>&1 | head -n 50
		echo "-- glued log (last 80 lines):"
		tail -n 80 "$dir/glued.log" 2>/dev/null
		echo "-- dnsmasq log (last 15 lines):"
		tail -n 15 "$E2E_DIR/dnsmasq.log" 2>/dev/null
		echo "-- dockerd log (last 10 lines):"
		tail -n 10 "$dir/dockerd.log" 2>/dev/null
		echo "-- harness log (last 15 lines):"
		tail -n 15 "$E2E_DIR/harness.log" 2>/dev/null
		echo "---- end of dump ----"
	} >&2
}
