# e2e harness, teardown: take down every host, kill every recorded process,
# delete the namespaces the run created, then check that nothing carrying the
# run's prefix is left (namespaces, processes, mounts, cgroups). The run
# directory is removed, except its logs when a test failed (see README.md).

e2e_teardown_all() {
	local dir=${E2E_DIR:-} h what name
	[ -n "$dir" ] && [ -d "$dir" ] || return 0
	# Every step is best effort and the next one must still run: no errexit
	# (bats' ERR trap included); the leak check alone decides the status.
	set +e
	trap - ERR
	e2e_log "teardown"
	# Hosts in parallel: each waits for its own engines to stop. (Only these
	# jobs are waited for: daemons started by this shell are too.)
	local jobs=()
	for h in "$dir"/h*/; do
		[ -d "$h" ] || continue
		host_destroy "$(basename "$h")" &
		jobs+=($!)
	done
	[ ${#jobs[@]} -eq 0 ] || wait "${jobs[@]}"
	e2e_kill_all_recorded
	if [ -f "$dir/created" ]; then
		while read -r what name; do
			[ "$what" = netns ] && ip netns del "$name" 2>/dev/null
		done < <(tac "$dir/created")
	fi
	e2e_leak_check
	local leaked=$?
	if [ -e "$dir/failed" ] || [ $leaked -ne 0 ] || [ -n "${E2E_KEEP:-}" ]; then
		# Keep the logs for a person to read; the bulky engine state goes.
		rm -rf "$dir"/h*/data "$dir"/h*/ctd "$dir"/h*/x "$dir/busybox.tar"
		echo "# logs kept in $dir (tools/e2e-clean.sh removes them)" >&3
	else
		rm -rf "$dir"
	fi
	return $leaked
}

# e2e_leak_check: 0 when nothing of this run is left, else print what is.
e2e_leak_check() {
	local left=() pid st name
	while read -r name; do left+=("netns $name"); done < <(ip netns list |
		awk '{print $1}' | grep "^$E2E_PREFIX")
	if [ -f "$E2E_DIR/pids" ]; then
		while read -r pid st name; do
			e2e_pid_alive "$pid" "$st" && left+=("process $pid ($name)")
		done <"$E2E_DIR/pids"
	fi
	while read -r name; do left+=("mount $name"); done < <(awk -v p="$E2E_PREFIX" \
		'index($2, p) {print $2}' /proc/mounts)
	while read -r name; do left+=("cgroup $name"); done < <(find /sys/fs/cgroup/ \
		-mindepth 2 -maxdepth 2 -type d -name "$E2E_PREFIX*" 2>/dev/null)
	[ ${#left[@]} -eq 0 ] && return 0
	printf 'e2e teardown: left behind: %s\n' "${left[@]}" >&2
	return 1
}
