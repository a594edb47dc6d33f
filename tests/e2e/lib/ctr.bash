# e2e harness, the container fast path's part (tests/e2e/45-container.bats).
#
# ctr_share_exec_root HOST: make the netns files of a chrooted engine
# (docker26 runs from hN/troot, lib/engine.bash) visible outside its chroot.
# dockerd bind-mounts each container's netns on <exec-root>/netns/<id>;
# the chroot sees the run directory through a private bind, so those mounts
# stay inside it and glued, outside, finds an empty file at the SandboxKey
# (setns: EINVAL). On a real host dockerd runs unchrooted and there is
# nothing to do. Here: the exec-root becomes a shared mount with a peer
# inside the chroot, and the engine is restarted to use it.
ctr_share_exec_root() {
	local h=$1 dir
	dir=$(host_var "$h" dir)
	case $(host_engine "$h") in
	docker26) ;;
	*) return 0 ;;
	esac
	host_engine_kill "$h" || return 1
	nsenter -t "$(host_var "$h" anchor)" -m -- /bin/sh -ec "
		mkdir -p '$dir/x'
		mount --bind '$dir/x' '$dir/x'
		mount --make-shared '$dir/x'
		mount --bind '$dir/x' '$dir/troot$dir/x'" || return 1
	host_engine_start "$h"
}
