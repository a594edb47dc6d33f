#!/usr/bin/env bash
# Record real Docker Engine API responses for the docker_json unit tests and
# fuzz corpus (tests/unit/data/docker/). Starts a private containerd + dockerd
# in a fresh network namespace (as /work/shared/E2E-HOSTS.md describes), builds
# a busybox image, creates glued_net (IPv4 + IPv6) and other_net, runs the
# containers the tests talk about, drives the events the watcher reacts to,
# saves every response with curl, then stops everything it started by PID.
#
#   tools/docker-record.sh record [OUTDIR]   (default tests/unit/data/docker)
#   tools/docker-record.sh up DIR            start an engine, leave it running;
#                                            socket DIR/docker.sock
#   tools/docker-record.sh down DIR          stop what `up DIR` started
#   tools/docker-record.sh restart-dockerd DIR   kill dockerd (SIGKILL), start again
#
# Needs root, docker.io, containerd, busybox-static, curl, jq.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)

log() { echo "docker-record: $*" >&2; }

# --- engine lifecycle -------------------------------------------------------
# State of one engine lives in DIR: netns name, PIDs, sockets, data.

start_containerd() {
	local dir=$1 ns
	ns=$(cat "$dir/netns")
	cat >"$dir/containerd.toml" <<EOF
version = 2
root = "$dir/ctr-root"
state = "$dir/ctr-state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
EOF
	nsenter --net="/run/netns/$ns" containerd --config "$dir/containerd.toml" \
		>"$dir/containerd.log" 2>&1 &
	echo $! >"$dir/containerd.pid"
	wait_for_sock "$dir/containerd.sock" containerd
}

start_dockerd() {
	local dir=$1 ns
	ns=$(cat "$dir/netns")
	nsenter --net="/run/netns/$ns" dockerd --host "unix://$dir/docker.sock" \
		--data-root "$dir/data" --exec-root "$dir/x" --pidfile "$dir/dockerd.pidfile" \
		--containerd "$dir/containerd.sock" --bridge none --iptables=false \
		--ip6tables=false --cgroup-parent "/$ns" \
		--exec-opt native.cgroupdriver=cgroupfs >>"$dir/dockerd.log" 2>&1 &
	echo $! >"$dir/dockerd.pid"
	local i
	for i in $(seq 100); do
		curl -sf --unix-socket "$dir/docker.sock" http://localhost/_ping >/dev/null 2>&1 &&
			return 0
		sleep 0.1
	done
	log "dockerd did not come up; see $dir/dockerd.log"
	return 1
}

wait_for_sock() {
	local i
	for i in $(seq 100); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	log "$2 did not come up"
	return 1
}

kill_pidfile() { # FILE: TERM, wait up to 10 s, then KILL; only that PID
	local f=$1 pid i
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$f"
}

engine_up() {
	local dir=$1 ns
	mkdir -p "$dir"
	ns=glued-rec-$$
	echo "$ns" >"$dir/netns"
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	start_containerd "$dir"
	start_dockerd "$dir"
	# busybox image from busybox-static: /bin/busybox plus its applet links.
	local root=$dir/bbroot
	mkdir -p "$root/bin"
	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
	done
	tar -C "$root" -c . | dk "$dir" import - bb:latest >/dev/null
}

engine_down() {
	local dir=$1 ns
	[ -d "$dir" ] || return 0
	# Containers' shims are children of containerd; stopping dockerd first
	# lets it stop them (live-restore is off).
	if [ -S "$dir/docker.sock" ] && [ -f "$dir/dockerd.pid" ]; then
		dk "$dir" ps -aq 2>/dev/null | xargs -r docker -H "unix://$dir/docker.sock" rm -f \
			>/dev/null 2>&1 || true
	fi
	kill_pidfile "$dir/dockerd.pid"
	kill_pidfile "$dir/containerd.pid"
	# Mounts dockerd or containerd may have left under DIR.
	local m
	for m in $(grep -o " $dir/[^ ]*" /proc/mounts | sort -r || true); do
		umount -l "$m" 2>/dev/null || true
	done
	if [ -f "$dir/netns" ]; then
		ns=$(cat "$dir/netns")
		ip netns del "$ns" 2>/dev/null || true
		local c
		for c in /sys/fs/cgroup/*/"$ns"; do
			if [ -d "$c" ]; then
				find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null || true
			fi
		done
	fi
	rm -rf "$dir"
}

dk() { local dir=$1; shift; docker -H "unix://$dir/docker.sock" "$@"; }
api() { curl -sS --unix-socket "$1/docker.sock" "http://localhost$2"; }

# --- the recording scenario ------------------------------------------------

# The engine here speaks API 1.41, which has no DNSNames. API 1.44 moved the
# short-ID alias out of Aliases into DNSNames (name + aliases + short ID); this
# derives that shape from the real 1.41 inspect of "web" (and says so in the
# file name) so the parser's 1.44 path is tested on a realistic body.
synth_api144() {
	jq '.NetworkSettings.Networks.glued_net |= (
		.DNSNames = (["web"] + .Aliases) |
		.Aliases = (.Aliases[:-1]))' "$1/inspect_web.json" >"$1/inspect_web_api144_synth.json"
}

record() {
	local out=$1 dir
	dir=$(mktemp -d /tmp/glued-rec.XXXXXX)
	trap 'engine_down "$dir"' EXIT
	engine_up "$dir"
	mkdir -p "$out"
	local d="dk $dir"

	api "$dir" /version | jq . >"$out/version.json"
	printf '%s' "$(api "$dir" /_ping)" >"$out/ping.txt"

	local since
	since=$(date +%s)
	$d network create --ipv6 --subnet fd00:dead:beef::/64 --subnet 172.30.0.0/16 \
		glued_net >/dev/null
	$d network create --subnet 172.31.0.0/16 -o com.docker.network.bridge.name=gluedother0 \
		other_net >/dev/null
	# web: two aliases, one mixed case, one not a single label (filtered).
	$d run -d --name web --network glued_net --network-alias www --network-alias WebApp \
		--network-alias api.v1 bb:latest sleep 100000 >/dev/null
	# Db-1: mixed-case name; an alias equal to its name (dedup).
	$d run -d --name Db-1 --network glued_net --network-alias db-1 --network-alias db \
		bb:latest sleep 100000 >/dev/null
	# stopped: on glued_net but not running; keeps the network entry.
	$d run -d --name stopped --network glued_net --network-alias gone bb:latest \
		sleep 100000 >/dev/null
	$d stop -t 0 stopped >/dev/null
	# multi: on glued_net and other_net.
	$d run -d --name multi --network glued_net bb:latest sleep 100000 >/dev/null
	$d network connect --alias multi-other other_net multi
	# other: on other_net only.
	$d run -d --name other --network other_net bb:latest sleep 100000 >/dev/null

	api "$dir" '/containers/json?filters=%7B%22network%22%3A%5B%22glued_net%22%5D%7D' |
		jq . >"$out/list_glued_net.json"
	api "$dir" '/containers/json?all=1&filters=%7B%22network%22%3A%5B%22glued_net%22%5D%7D' |
		jq . >"$out/list_glued_net_all.json"
	local c
	for c in web Db-1 stopped multi other; do
		api "$dir" "/containers/$c/json" | jq . >"$out/inspect_$(echo "$c" |
			tr 'A-Z' 'a-z').json"
	done
	api "$dir" /containers/nosuch/json >"$out/inspect_404.json"
	synth_api144 "$out"
	api "$dir" /networks/glued_net | jq . >"$out/network_glued_net.json"
	api "$dir" /networks/other_net | jq . >"$out/network_other_net.json"
	api "$dir" /networks/nosuch >"$out/network_404.json"

	# Events the watcher reacts to, on a container of its own.
	sleep 1.1
	local ev_since
	ev_since=$(date +%s)
	$d run -d --name ev --network glued_net --network-alias evalias bb:latest \
		sleep 100000 >/dev/null
	$d rename ev ev2
	$d network disconnect glued_net ev2
	$d network connect --alias back glued_net ev2
	$d stop -t 0 ev2 >/dev/null
	$d start ev2 >/dev/null
	$d kill ev2 >/dev/null
	$d rm -f ev2 >/dev/null
	$d run -d --name ev3 --network glued_net bb:latest sleep 100000 >/dev/null
	$d rm -f ev3 >/dev/null
	$d network create tmp_net >/dev/null
	$d network rm tmp_net >/dev/null
	sleep 1.1
	local until
	until=$(date +%s)
	api "$dir" "/events?since=$ev_since&until=$until" >"$out/events_actions.jsonl"
	api "$dir" "/events?since=$since&until=$ev_since" >"$out/events_setup.jsonl"
	# The filtered stream the watcher subscribes to (same period).
	api "$dir" "/events?since=$ev_since&until=$until&filters=%7B%22type%22%3A%5B%22container%22%2C%22network%22%5D%7D" \
		>"$out/events_filtered.jsonl"

	log "recorded into $out"
	trap - EXIT
	engine_down "$dir"
}

cmd=${1:-record}
case $cmd in
record) record "${2:-$top/tests/unit/data/docker}" ;;
up)
	engine_up "$2"
	echo "$2/docker.sock"
	;;
down) engine_down "$2" ;;
restart-dockerd)
	pid=$(cat "$2/dockerd.pid")
	kill -KILL "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
	start_dockerd "$2"
	;;
*)
	echo "usage: $0 record [OUTDIR] | up DIR | down DIR | restart-dockerd DIR" >&2
	exit 2
	;;
esac
