#!/usr/bin/env bash
# Record Engine API responses from one of the e2e engines (docker, docker26,
# podman, podman5: tests/e2e/lib/engine.bash) for the docker_json unit tests
# and the fuzz corpus, into tests/unit/data/docker/<engine>/.
#
#   tools/engine-record.sh ENGINE [OUTDIR]
#
# Builds one emulated host with the e2e harness (its own namespaces and
# engine; glued is not started), runs the scenario of tools/docker-record.sh
# through the docker CLI (web with aliases, Db-1, stopped, multi on two
# networks, other), saves version, list, inspect, network and 404 bodies,
# then drives run / rename / disconnect / connect / stop / start / kill / rm
# and a network create / rm and saves the filtered event stream. Everything
# it started is stopped by PID and checked gone (e2e_teardown_all). Root.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
engine=${1:?usage: $0 ENGINE [OUTDIR]}
out=${2:-$top/tests/unit/data/docker/$engine}
export E2E_TOP=$top E2E_ENGINE=$engine
# shellcheck source=/dev/null
source "$top/tests/e2e/lib/load.bash"
exec 3>&2 # the harness reports to bats' fd 3

e2e_init
trap 'e2e_teardown_all' EXIT
lan_create && host_create 1 "$engine" || exit 1

api() { curl -sSN --unix-socket "$E2E_DIR/h1/docker.sock" "http://localhost$1"; }
d() { hdocker h1 "$@"; }
run() { # NAME [opts]: a busybox container that sleeps
	local n=$1
	shift
	d run -d --init --name "$n" --cgroup-parent "/$(host_var h1 cgroup)" "$@" "$E2E_IMAGE" \
		sleep 100000 >/dev/null
}
filter='filters=%7B%22type%22%3A%5B%22container%22%2C%22network%22%5D%7D'

mkdir -p "$out"
api /version | jq . >"$out/version.json"
d network create --subnet 172.31.0.0/16 -o com.docker.network.bridge.name=gluedother0 \
	other_net >/dev/null || exit 1
run web --network glued_net --network-alias www --network-alias WebApp --network-alias api.v1
run Db-1 --network glued_net --network-alias db-1 --network-alias db
run stopped --network glued_net --network-alias gone
d stop -t 0 stopped >/dev/null
run multi --network glued_net
d network connect --alias multi-other other_net multi
run other --network other_net

api '/containers/json?filters=%7B%22network%22%3A%5B%22glued_net%22%5D%7D' |
	jq . >"$out/list_glued_net.json"
for c in web Db-1 stopped multi other; do
	api "/containers/$c/json" | jq . >"$out/inspect_$(tr 'A-Z' 'a-z' <<<"$c").json"
done
api /containers/nosuch/json >"$out/inspect_404.json"
api /networks/glued_net | jq . >"$out/network_glued_net.json"
api /networks/other_net | jq . >"$out/network_other_net.json"
api /networks/nosuch >"$out/network_404.json"

# The events the watcher reacts to, as the watcher subscribes to them.
curl -sSN --unix-socket "$E2E_DIR/h1/docker.sock" "http://localhost/events?$filter" \
	>"$out/events_filtered.jsonl" &
stream=$!
sleep 0.5
run ev --network glued_net --network-alias evalias
d rename ev ev2
d network disconnect glued_net ev2
d network connect --alias back glued_net ev2
d stop -t 0 ev2 >/dev/null
d start ev2 >/dev/null
d kill ev2 >/dev/null
d rm -f ev2 >/dev/null
run ev3 --network glued_net
d rm -f ev3 >/dev/null
d network create tmp_net >/dev/null
d network rm tmp_net >/dev/null
sleep 1
kill "$stream"
wait "$stream" 2>/dev/null
# A line cut by the kill is not a recording.
sed -i '$ { /}$/!d }' "$out/events_filtered.jsonl"
echo "engine-record: $(host_engine_version h1) recorded into $out" >&2
