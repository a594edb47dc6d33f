# e2e harness entry point: `load lib/load` at the top of every .bats file.
# Gives the standard single-host fixture: setup_file builds the LAN, the
# client, the upstream dnsmasq and host h1 with glued running; teardown (per
# test) removes the test's containers and dumps state if the test failed;
# teardown_file removes everything and checks that nothing is left.
# A .bats file may define its own setup_file and call these pieces itself.

_e2e_lib=$(dirname "${BASH_SOURCE[0]}")
source "$_e2e_lib/common.bash"
source "$_e2e_lib/net.bash"
source "$_e2e_lib/host.bash"
source "$_e2e_lib/glued.bash"
source "$_e2e_lib/dns.bash"
source "$_e2e_lib/teardown.bash"

# e2e_setup_single_host [GLUED VAR=VALUE...]: the standard fixture.
e2e_setup_single_host() {
	e2e_init
	e2e_step lan lan_create &&
		e2e_step client client_create &&
		e2e_step upstream upstream_create &&
		host_create 1 &&
		{ [ -n "${E2E_NO_GLUED:-}" ] || e2e_step glued glued_start h1 "$@"; }
	local rc=$?
	echo "# $(basename "$BATS_TEST_FILENAME"): setup $(e2e_timings_line)" >&3
	[ $rc -eq 0 ] || { e2e_dump h1; return 1; }
}

# Per-test teardown: on failure dump state (bats shows it with the failure),
# mark the run failed (its logs are kept), then remove the test's containers.
e2e_teardown_test() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		touch "$E2E_DIR/failed"
		e2e_dump h1
	fi
	# Put back what a failed test may have left stopped.
	host_engine_ready h1 || host_engine_start h1 || true
	e2e_pid_alive "$(e2e_pid_of dnsmasq)" || upstream_start || true
	ctr_rm_all h1 || true
	# A test that stopped glued or changed its environment leaves it for the
	# next one as the fixture had it.
	if [ -n "${E2E_RESTORE_GLUED:-}" ] || ! glued_alive h1; then
		[ -n "${E2E_NO_GLUED:-}" ] || glued_restart h1 || true
	fi
}
