# e2e harness, the container engine of an emulated host. A host runs one of:
#   docker    the machine's docker.io (Debian 12: 20.10, API 1.41) with its
#             own containerd; the default, what every other .bats file uses
#   docker26  Debian 13's docker.io 26.1 (API 1.45), containerd and runc,
#             run with chroot from a trixie root file system of their own
#             (tools/engine-trixie-root.sh builds and caches it), so the
#             machine's packages stay as they are
#   podman    the machine's podman (Debian 12: 4.3, netavark, aardvark-dns)
#             serving its Docker-compatible API (`podman system service`)
#   podman5   Debian 13's podman 5.4 from the same trixie root
# Whatever the engine, it listens on hN/docker.sock, so hdocker (the docker
# CLI, which negotiates the API version down), glued (DOCKER_HOST) and the
# tests do not care which one they talk to. The engine's main process is
# recorded as "hN.dockerd" (docker*) or "hN.podman" (podman*).
# host_create N ENGINE picks it (default $E2E_ENGINE, else docker).

host_engine() { # HOST: the engine it runs
	cat "$E2E_DIR/$1/engine" 2>/dev/null || echo docker
}

# The name under which the engine's main process is recorded.
host_engine_proc() {
	case $(host_engine "$1") in
	podman*) echo "$1.podman" ;;
	*) echo "$1.dockerd" ;;
	esac
}

# host_engine_prepare HOST: what the engine needs once, before its first
# start (the chroot for trixie engines; the containerd for docker engines).
host_engine_prepare() {
	local h=$1
	case $(host_engine "$h") in
	docker) host_containerd_start "$h" ;;
	docker26) host_chroot_prepare "$h" && host_containerd_start "$h" ;;
	podman) host_podman_prepare "$h" ;;
	podman5) host_chroot_prepare "$h" && host_podman_prepare "$h" ;;
	*)
		echo "host_engine_prepare: unknown engine $(host_engine "$h")" >&2
		return 1
		;;
	esac
}

# The command prefix that runs an engine binary of HOST inside its mount
# and network namespaces (and its trixie chroot where it has one).
host_engine_exec() {
	local h=$1
	set -- nsenter -t "$(host_var "$h" anchor)" -n -m --
	case $(host_engine "$h") in
	docker26 | podman5) set -- "$@" chroot "$(host_var "$h" dir)/troot" ;;
	esac
	echo "$@"
}

# host_chroot_prepare HOST: inside the host's mount namespace, the cached
# trixie root bound read-only at hN/troot with what the engines need writable
# or shared: /proc, /sys (the host's, with its cgroups and bpffs), /dev, a
# tmpfs on /run, /tmp, /var/lib and /etc/docker, and the run directory at the
# same path as outside, so socket and config paths mean the same in both.
# The bind is a mount point of its own: Docker 26 makes / rslave, which
# fails on a root that is not one ("remount /, flags: 0x84000").
host_chroot_prepare() {
	local h=$1 dir root
	dir=$(host_var "$h" dir)
	root=$(e2e_step trixie-root "$E2E_TOP/tools/engine-trixie-root.sh") || return 1
	mkdir -p "$dir/troot"
	nsenter -t "$(host_var "$h" anchor)" -m -- /bin/sh -ec "
		mount --bind '$root' '$dir/troot'
		mount -o remount,bind,ro '$dir/troot'
		mount -t proc proc '$dir/troot/proc'
		mount --rbind /sys '$dir/troot/sys'
		mount --rbind /dev '$dir/troot/dev'
		for d in run tmp var/tmp var/lib etc/docker; do
			[ -d '$dir/troot/'\$d ] || continue
			mount -t tmpfs -o mode=755 tmpfs '$dir/troot/'\$d
		done
		mkdir -p '$dir/troot$E2E_DIR'
		mount --bind '$E2E_DIR' '$dir/troot$E2E_DIR'
		cp /etc/resolv.conf '$dir/troot/run/resolv.conf'"
}

# host_engine_start HOST: start (or restart) the engine and wait until it
# answers on hN/docker.sock.
host_engine_start() {
	case $(host_engine "$1") in
	podman*) host_podman_start "$1" ;;
	*) host_dockerd_start "$1" ;;
	esac
}

host_engine_ready() {
	e2e_pid_alive "$(e2e_pid_of "$(host_engine_proc "$1")")" || return 2
	hdocker "$1" version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# host_engine_kill HOST [SIGNAL]: signal the engine by its recorded PID, wait.
host_engine_kill() {
	e2e_kill "$(host_engine_proc "$1")" 15 "${2:-TERM}"
}

# host_engine_version HOST: "<server version> API <api version>".
host_engine_version() {
	hdocker "$1" version --format '{{.Server.Version}} API {{.Server.APIVersion}}'
}

# Podman keeps everything under hN/podman: storage, run state, its network
# configs (netavark) and the events log (file backend: no journald here).
# Containers go under the host's cgroup (cgroupfs: there is no systemd;
# ctr_run passes --cgroup-parent), so teardown finds what outlives the
# service, as it does for dockerd's.
host_podman_prepare() {
	local h=$1 dir
	dir=$(host_var "$h" dir)
	mkdir -p "$dir/podman/net" "$dir/podman/tmp"
	# runc, not crun: crun refuses this machine's hybrid cgroup layout
	# ("cgroups in hybrid mode not supported").
	# Podman raises a container's open-files and process limits to its own
	# maximum, which needs CAP_SYS_RESOURCE; without it (this machine) crun
	# fails with "setrlimit RLIMIT_NOFILE: Operation not permitted". Lowering
	# needs nothing, and a busybox sleep needs little.
	cat >"$dir/podman/containers.conf" <<-EOF
		[containers]
		cgroups = "enabled"
		default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
		[engine]
		cgroup_manager = "cgroupfs"
		runtime = "runc"
		events_logger = "file"
		events_logfile_path = "$dir/podman/events.log"
		tmp_dir = "$dir/podman/tmp"
		static_dir = "$dir/podman/root/libpod"
		volume_path = "$dir/podman/root/volumes"
		[network]
		network_backend = "netavark"
		network_config_dir = "$dir/podman/net"
	EOF
}

host_podman_start() {
	local h=$1 dir
	dir=$(host_var "$h" dir)
	rm -f "$dir/docker.sock"
	# shellcheck disable=SC2046
	e2e_spawn "$h.podman" "$dir/podman.log" env CONTAINERS_CONF="$dir/podman/containers.conf" \
		$(host_engine_exec "$h") podman --root "$dir/podman/root" \
		--runroot "$dir/podman/run" --cgroup-manager cgroupfs --events-backend file \
		--network-config-dir "$dir/podman/net" --tmpdir "$dir/podman/tmp" \
		--log-level info system service --time 0 "unix://$dir/docker.sock"
	wait_until 20 host_engine_ready "$h" || {
		tail -n 30 "$dir/podman.log" >&2
		return 1
	}
}
