#!/usr/bin/env bats
# One Docker host with glued: the engine dies under glued (SIGKILL to dockerd,
# by PID) and comes back. glued must keep answering what it knew, reconnect,
# re-list and reconcile, so that its answers match `docker ps` afterwards.

load lib/load

setup_file() { e2e_setup_single_host; }
teardown_file() { e2e_teardown_all; }
teardown() { e2e_teardown_test; }

# glued's answers for every container on glued_net match `docker ps`, and
# each name in GONE (containers that no longer run) is NXDOMAIN.
answers_match_docker_ps() {
	local name ip gone
	while read -r name; do
		ip=$(ctr_ip h1 "$name")
		dns_is A "$name" "NOERROR $ip" || {
			echo "mismatch: $name: docker says $ip, glued says $DNS_GOT"
			return 1
		}
	done < <(hdocker h1 ps --filter network=glued_net --format '{{.Names}}')
	for gone in "$@"; do
		hdocker h1 ps --filter network=glued_net --format '{{.Names}}' | grep -qx "$gone" &&
			continue
		dns_is A "$gone" NXDOMAIN || {
			echo "mismatch: $gone is not running, glued says $DNS_GOT"
			return 1
		}
	done
}

@test "dockerd killed and restarted: glued keeps answering, reconnects, matches docker ps" {
	ctr_run h1 keep1 --network-alias keep1-alias
	ctr_run h1 keep2
	ip1=$(ctr_ip h1 keep1)
	ip2=$(ctr_ip h1 keep2)
	expect_dns 5 A keep1 "NOERROR $ip1"
	expect_dns 5 A keep2 "NOERROR $ip2"

	host_dockerd_kill h1 KILL
	! host_dockerd_ready h1 || fail "dockerd still answers after SIGKILL"
	# While the engine is gone (4 s, longer than a reconnect backoff step)
	# everything known keeps being answered.
	for i in $(seq 8); do
		dns_is A keep1 "NOERROR $ip1" || fail "keep1 while dockerd is down (try $i): $DNS_GOT"
		dns_is A keep1-alias "NOERROR $ip1" || fail "keep1-alias while dockerd is down: $DNS_GOT"
		sleep 0.5
	done
	glued_alive h1 || fail "glued exited when dockerd died"

	t0=$(e2e_now_ms)
	host_dockerd_start h1
	echo "# dockerd back after $(($(e2e_now_ms) - t0)) ms" >&3
	# Without live-restore the engine stops the containers it finds running
	# when it starts; whatever it did, glued must follow `docker ps`.
	echo "# after the restart: $(hdocker h1 ps -a --format "{{.Names}}={{.Status}}" | tr "\n" " ")" >&3

	# A container started right after the restart appears (glued reconnected).
	t0=$(e2e_now_ms)
	ctr_run h1 after1 --network-alias after1-alias
	ip3=$(ctr_ip h1 after1)
	expect_dns 15 A after1 "NOERROR $ip3"
	echo "# container started after the restart answered after $(($(e2e_now_ms) - t0)) ms" >&3
	expect_dns 5 A after1-alias "NOERROR $ip3"

	# Everything running is answered, everything gone is NXDOMAIN.
	wait_until 10 answers_match_docker_ps keep1 keep2 ||
		fail "glued's answers do not match docker ps"

	# A container removed after the restart disappears.
	ctr_run h1 after2
	ip4=$(ctr_ip h1 after2)
	expect_dns 5 A after2 "NOERROR $ip4"
	hdocker h1 rm -f after2 >/dev/null
	expect_dns 5 A after2 NXDOMAIN
	wait_until 5 answers_match_docker_ps keep1 keep2 after2 ||
		fail "glued's answers do not match docker ps at the end"
}

@test "glued started while dockerd is down serves once dockerd comes up" {
	E2E_RESTORE_GLUED=1
	ctr_run h1 early1
	host_dockerd_kill h1 TERM
	glued_restart h1
	dq early1 A
	assert_eq "$(dq_rcode)" NXDOMAIN "a name glued never saw, engine down"
	host_dockerd_start h1
	ctr_run h1 early2
	ip=$(ctr_ip h1 early2)
	expect_dns 15 A early2 "NOERROR $ip"
	wait_until 10 answers_match_docker_ps early1 || fail "answers do not match docker ps"
}
