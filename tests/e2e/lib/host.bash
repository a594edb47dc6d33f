# e2e harness, emulated Docker host: a network namespace on the LAN, a mount
# namespace held by an anchor process (sysfs remounted for the netns with the
# cgroup hierarchies moved back under it, a private bpffs, a private tmpfs on
# /run, a private /etc/docker, /etc/resolv.conf bound to the host's own file),
# its own containerd (CRI off) and dockerd (no iptables, no default bridge,
# cgroups under /<prefix>-<host>), the busybox image and the watched network
# glued_net. See /work/shared/E2E-HOSTS.md for why each piece is there.
#
# Host N is named hN; its variables are read with host_var hN FIELD:
#   ns, dir, anchor, ip and ip6 (LAN), subnet4, gw4, subnet6, gw6, cgroup.

source "$(dirname "${BASH_SOURCE[0]}")/engine.bash"

# host_var HOST FIELD
host_var() {
	cat "$E2E_DIR/$1/$2"
}

host_set() { # HOST FIELD VALUE
	echo "$3" >"$E2E_DIR/$1/$2"
}

# hx HOST CMD...: run CMD inside the host's network and mount namespaces.
hx() {
	local h=$1
	shift
	nsenter -t "$(host_var "$h" anchor)" -n -m -- "$@"
}

# hdocker HOST ARGS...: the docker CLI against the host's engine.
hdocker() {
	local h=$1
	shift
	DOCKER_HOST=unix://$E2E_DIR/$h/docker.sock docker "$@"
}

# host_create N [ENGINE]: build host hN (expects lan_create done) running
# ENGINE (lib/engine.bash; default $E2E_ENGINE, else docker). Each step is
# timed.
host_create() {
	local n=$1 h=h$1 dir ns
	dir=$E2E_DIR/$h
	ns=$(e2e_ns "$h")
	mkdir -p "$dir"
	host_set "$h" engine "${2:-${E2E_ENGINE:-docker}}"
	host_set "$h" ns "$ns"
	host_set "$h" dir "$dir"
	host_set "$h" ip "$E2E_LAN_NET.$((10 + n))"
	host_set "$h" ip6 "$E2E_LAN_NET6:$((10 + n))"
	host_set "$h" subnet4 "10.213.$n.0/24"
	host_set "$h" gw4 "10.213.$n.1"
	host_set "$h" subnet6 "fd00:e2e:$n::/64"
	host_set "$h" gw6 "fd00:e2e:$n::1"
	host_set "$h" cgroup "$E2E_PREFIX-$h"
	e2e_step "$h.netns" netns_create "$h" &&
		e2e_step "$h.lan" lan_attach "$ns" "$(host_var "$h" ip)" &&
		e2e_step "$h.anchor" host_anchor "$h" &&
		e2e_step "$h.prepare" host_engine_prepare "$h" &&
		e2e_step "$h.engine" host_engine_start "$h" &&
		e2e_step "$h.image" host_image "$h" &&
		e2e_step "$h.network" host_network "$h"
}

# The anchor: a sleep in a new mount namespace joined to the host's netns.
host_anchor() {
	local h=$1 dir ns
	dir=$(host_var "$h" dir)
	ns=$(host_var "$h" ns)
	mkdir -p "$dir/cgmove" "$dir/etc-docker"
	echo "nameserver $E2E_UPSTREAM_IP" >"$dir/resolv.conf"
	# Order matters: the cgroup tree must be bound aside before the new sysfs
	# hides it, then moved under it (dockerd and runc need it there).
	e2e_spawn "$h.anchor" "$dir/anchor.log" nsenter --net="/run/netns/$ns" \
		unshare --mount --propagation private -- /bin/sh -ec "
		mount -t tmpfs -o mode=755 tmpfs /run
		mount --rbind /sys/fs/cgroup '$dir/cgmove'
		mount -t sysfs sysfs /sys
		mount --move '$dir/cgmove' /sys/fs/cgroup
		mount -t bpf bpf /sys/fs/bpf
		mount --bind '$dir/etc-docker' /etc/docker
		mount --bind '$dir/resolv.conf' /etc/resolv.conf
		touch '$dir/anchor.ready'
		exec sleep 2147483647"
	host_set "$h" anchor "$E2E_PID"
	wait_until 5 test -e "$dir/anchor.ready" || {
		cat "$dir/anchor.log" >&2
		return 1
	}
}

host_containerd_start() {
	local h=$1 dir
	dir=$(host_var "$h" dir)
	mkdir -p "$dir/ctd"
	cat >"$dir/containerd.toml" <<-EOF
		version = 2
		root = "$dir/ctd/root"
		state = "$dir/ctd/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "$dir/ctd.sock"
		[ttrpc]
		  address = "$dir/ctd.sock.ttrpc"
		[debug]
		  address = ""
		[metrics]
		  address = ""
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$dir/ctd/opt"
	EOF
	# shellcheck disable=SC2046
	e2e_spawn "$h.containerd" "$dir/containerd.log" \
		$(host_engine_exec "$h") containerd --config "$dir/containerd.toml"
	wait_until 10 test -S "$dir/ctd.sock" || {
		tail -n 30 "$dir/containerd.log" >&2
		return 1
	}
}

host_dockerd_start() {
	local h=$1 dir
	dir=$(host_var "$h" dir)
	mkdir -p "$dir/data" "$dir/x"
	[ -f "$dir/daemon.json" ] || echo '{}' >"$dir/daemon.json"
	# A dockerd killed by SIGKILL leaves its pidfile, and stays a zombie
	# until something reaps it (orphans here go to a PID 1 that is slow to):
	# Docker 26 takes the zombie's /proc entry for a running daemon and
	# refuses to start ("process ... is still running"). Wait for the old
	# one to be gone, then drop its pidfile.
	local old
	old=$(cat "$dir/dockerd.pid" 2>/dev/null || true) # none after a clean stop
	if [ -n "$old" ]; then
		wait_until 10 host_pid_gone "$old" || e2e_log "$h: dockerd $old still running"
		e2e_pid_alive "$old" || rm -f "$dir/dockerd.pid"
	fi
	# shellcheck disable=SC2046
	e2e_spawn "$h.dockerd" "$dir/dockerd.log" \
		$(host_engine_exec "$h") dockerd \
		--config-file "$dir/daemon.json" \
		--host "unix://$dir/docker.sock" --data-root "$dir/data" --exec-root "$dir/x" \
		--pidfile "$dir/dockerd.pid" --containerd "$dir/ctd.sock" \
		--bridge none --iptables=false --ip6tables=false --ip-masq=false \
		--storage-driver overlay2 \
		--cgroup-parent "/$(host_var "$h" cgroup)" --exec-opt native.cgroupdriver=cgroupfs
	wait_until 20 host_dockerd_ready "$h" || {
		tail -n 30 "$dir/dockerd.log" >&2
		return 1
	}
}

host_pid_gone() { ! e2e_pid_alive "$1"; }

host_dockerd_ready() {
	host_engine_ready "$1"
}

# host_dockerd_kill HOST SIGNAL: signal the engine by its recorded PID and
# wait (the name is older than lib/engine.bash: any engine).
host_dockerd_kill() {
	host_engine_kill "$1" "${2:-TERM}"
}

host_image() {
	local h=$1
	[ -s "$E2E_DIR/busybox.tar" ] ||
		"$E2E_TOP/tools/mkimage-busybox.sh" -o "$E2E_DIR/busybox.tar" || return 1
	hdocker "$h" import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' \
		"$E2E_DIR/busybox.tar" "$E2E_IMAGE" >/dev/null
}

host_network() {
	local h=$1
	hdocker "$h" network create --driver bridge --ipv6 \
		--subnet "$(host_var "$h" subnet4)" --gateway "$(host_var "$h" gw4)" \
		--subnet "$(host_var "$h" subnet6)" --gateway "$(host_var "$h" gw6)" \
		glued_net >/dev/null
}

# ctr_run HOST NAME [docker run options...]: a busybox container on glued_net
# (unless the options name another --network) that sleeps until stopped.
ctr_run() {
	local h=$1 name=$2 net=(--network glued_net)
	shift 2
	[[ " $* " == *" --network "* || " $* " == *" --network="* ]] && net=()
	# Podman puts containers and conmon under /libpod_parent unless told:
	# under the host's cgroup, teardown finds whatever outlives the engine.
	[[ $(host_engine "$h") == podman* ]] && net+=(--cgroup-parent "/$(host_var "$h" cgroup)")
	hdocker "$h" run -d --init --name "$name" "${net[@]}" "$@" "$E2E_IMAGE" \
		sleep 2147483647 >/dev/null
}

# ctr_ip HOST NAME [NETWORK]: the container's IPv4 address on NETWORK.
ctr_ip() {
	hdocker "$1" inspect -f "{{(index .NetworkSettings.Networks \"${3:-glued_net}\").IPAddress}}" "$2"
}

ctr_ip6() {
	hdocker "$1" inspect \
		-f "{{(index .NetworkSettings.Networks \"${3:-glued_net}\").GlobalIPv6Address}}" "$2"
}

# ctr_rm_all HOST: remove every container of the host (between tests), a few
# at a time (the CLI removes the IDs it is given one after the other).
ctr_rm_all() {
	hdocker "$1" ps -aq | xargs -r -n 8 -P 4 env DOCKER_HOST="unix://$E2E_DIR/$1/docker.sock" \
		docker rm -f >/dev/null
}

# host_destroy HOST: containers, engines, leftover processes in the host's
# cgroups and mount namespace, the anchor (and with it every mount), cgroups.
host_destroy() {
	local h=$1 dir anchor mntns pid cg i
	dir=$E2E_DIR/$h
	[ -d "$dir" ] || return 0
	e2e_kill "glued-$h" 5
	if e2e_pid_alive "$(e2e_pid_of "$(host_engine_proc "$h")")"; then
		local ids
		ids=$(timeout 10 env DOCKER_HOST="unix://$dir/docker.sock" docker ps -aq)
		[ -z "$ids" ] || timeout 60 env DOCKER_HOST="unix://$dir/docker.sock" \
			docker rm -f $ids >/dev/null || e2e_log "teardown: rm of $h containers failed"
	fi
	e2e_kill "$h.dockerd" 15
	e2e_kill "$h.podman" 15
	e2e_kill "$h.containerd" 10
	# Shims and container processes that outlived their engines: only those in
	# this host's cgroups or mount namespace.
	anchor=$(cat "$dir/anchor" 2>/dev/null)
	mntns=$(readlink "/proc/$anchor/ns/mnt" 2>/dev/null)
	cg=$(cat "$dir/cgroup" 2>/dev/null)
	for i in 1 2 3; do
		local victims=()
		if [ -n "$cg" ]; then
			mapfile -t -O 0 victims < <(cat /sys/fs/cgroup/*/"$cg"/*/cgroup.procs \
				/sys/fs/cgroup/*/"$cg"/cgroup.procs 2>/dev/null | sort -u)
		fi
		if [ -n "$mntns" ]; then
			for pid in /proc/[0-9]*; do
				pid=${pid#/proc/}
				[ "$pid" = "$anchor" ] && continue
				[ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$mntns" ] &&
					victims+=("$pid")
			done
		fi
		# Shims (containerd's, podman's conmon) outlive a dead anchor; they
		# name the host's directory.
		for pid in /proc/[0-9]*; do
			tr '\0' ' ' 2>/dev/null <"$pid/cmdline" | grep -qE -- "-address $dir/|conmon .*$dir/" &&
				victims+=("${pid#/proc/}")
		done
		[ ${#victims[@]} -eq 0 ] && break
		e2e_log "teardown: $h leftover processes: ${victims[*]}"
		kill -KILL "${victims[@]}" 2>/dev/null
		sleep 0.3
	done
	e2e_kill "$h.anchor" 5
	if [ -n "$cg" ]; then
		# Deepest first; a cgroup with no process left can be removed.
		find /sys/fs/cgroup/ -mindepth 2 -maxdepth 3 -type d -path "*/$cg*" 2>/dev/null |
			sort -r | while read -r d; do rmdir "$d" 2>/dev/null || true; done
	fi
}
