#!/usr/bin/env bats
# The container image, built and run for real with no registry: the Debian 12
# bases are made here (debootstrap --variant=minbase from the Debian mirror
# apt uses, cached as tarballs under $GLUED_IMAGE_CACHE, default
# /var/cache/glued-test/image-cache — outside the clone, so a fresh clone on
# the same machine (CI) reuses them; rm -rf it to rebuild — so reruns take
# seconds), `docker import`ed into an emulated host's engine, the image is
# built from packaging/Dockerfile with --network none, and run the way
# docker-compose.yml runs it: host network, Docker socket mounted, /sys/fs/bpf
# mounted, the BPF capabilities. A client then resolves a container by name
# through it.

load lib/load
load lib/debian

CACHE=${GLUED_IMAGE_CACHE:-/var/cache/glued-test/image-cache}
BUILD_PKGS=make,pkg-config,clang,llvm,libbpf-dev,bpftool,linux-libc-dev,liburing-dev,libcurl4-openssl-dev,libjansson-dev,libsodium-dev,libmicrohttpd-dev,libseccomp-dev
RUNTIME_PKGS=libcurl4,libjansson4,libsodium23,liburing2,libbpf1,libmicrohttpd12,libseccomp2

# base_tar NAME PACKAGES: $CACHE/NAME-<hash of PACKAGES>.tar, made once (a
# changed package list makes a new one).
base_tar_path() {
	echo "$CACHE/$1-$(printf '%s' "$2" | sha256sum | cut -c1-12).tar"
}
base_tar() {
	debian_minbase_tar "$(base_tar_path "$1" "$2")" "$CACHE" "$CACHE/$1.log" "$2"
}

# The tracked files of the tree as they are now: the build context.
context_tar() {
	(cd "$E2E_TOP" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c '[ -e "{}" ] && printf "%s\0" "{}"' |
		tar --null -T - -cf -) >"$E2E_DIR/context.tar"
}

image_build() {
	hdocker h1 build -q --network none -f packaging/Dockerfile \
		--build-arg BUILD_BASE=glued-base-build:bookworm \
		--build-arg RUNTIME_BASE=glued-base-runtime:bookworm \
		--build-arg GIT_REV="$(git -C "$E2E_TOP" rev-parse --short HEAD)" \
		-t glued-e2e:test - <"$E2E_DIR/context.tar" >"$E2E_DIR/image-build.log" 2>&1 || {
		tail -n 30 "$E2E_DIR/image-build.log" >&2
		return 1
	}
}

setup_file() {
	local rc=0
	E2E_NO_GLUED=1 e2e_setup_single_host || return 1
	e2e_step base-build base_tar bookworm-build "$BUILD_PKGS" &&
		e2e_step base-runtime base_tar bookworm-runtime "$RUNTIME_PKGS" &&
		e2e_step import hdocker h1 import "$(base_tar_path bookworm-build "$BUILD_PKGS")" glued-base-build:bookworm &&
		e2e_step import2 hdocker h1 import "$(base_tar_path bookworm-runtime "$RUNTIME_PKGS")" glued-base-runtime:bookworm &&
		e2e_step context context_tar &&
		e2e_step image image_build || rc=$?
	echo "# 70-image.bats: image $(e2e_timings_line)" >&3
	return $rc
}

teardown_file() { e2e_teardown_all; }

teardown() {
	[ -n "${BATS_TEST_COMPLETED:-}" ] || {
		touch "$E2E_DIR/failed"
		hdocker h1 logs glued-node 2>&1 | tail -n 40 >&2
	}
	hdocker h1 rm -f glued-node >/dev/null 2>&1 || true
	ctr_rm_all h1 || true
}

@test "the image is small and holds only the runtime (no compiler)" {
	size=$(hdocker h1 image inspect -f '{{.Size}}' glued-e2e:test)
	echo "image size: $((size / 1000000)) MB"
	[ "$size" -lt 200000000 ] || fail "image is $((size / 1000000)) MB"
	hdocker h1 run --rm --network none --entrypoint /bin/sh glued-e2e:test -c \
		'! command -v clang && ! command -v make && /usr/sbin/glued --version && gluedctl --help' ||
		fail "runtime image content"
}

@test "glued in the image, host network + Docker socket, resolves a container by name" {
	local dir
	dir=$(host_var h1 dir)
	# As docker-compose.yml: BPF and PERFMON where the engine knows them
	# (Docker >= 23); Docker 20.10 (Debian 12) only knows SYS_ADMIN for BPF.
	local caps=(--cap-add BPF --cap-add PERFMON)
	hdocker h1 run --rm --network none --cap-drop ALL "${caps[@]}" --entrypoint /bin/true \
		glued-e2e:test 2>/dev/null || caps=(--cap-add SYS_ADMIN)
	hdocker h1 run -d --name glued-node --network host \
		--cap-drop ALL --cap-add NET_BIND_SERVICE --cap-add NET_ADMIN "${caps[@]}" \
		-v "$dir/docker.sock:/var/run/docker.sock" -v /sys/fs/bpf:/sys/fs/bpf \
		-e GLUED_UPSTREAMS="$E2E_UPSTREAM_IP:53" -e GLUED_LOG=debug \
		glued-e2e:test >/dev/null
	ctr_run h1 imgweb --network-alias imgalias
	ip=$(ctr_ip h1 imgweb)
	expect_dns 15 A imgweb "NOERROR $ip"
	expect_dns 5 A imgalias "NOERROR $ip"
	expect_dns 5 A host.example.test "NOERROR 192.0.2.10"
	# gluedctl inside the image talks to the daemon next to it.
	out=$(hdocker h1 exec glued-node gluedctl names --json)
	assert_eq "$(jq -r '.names[] | select(.name == "imgweb") | .addresses[0]' <<<"$out")" "$ip" \
		"gluedctl names in the container"
	hdocker h1 stop -t 5 glued-node >/dev/null
	hdocker h1 logs glued-node 2>&1 | grep -q "glued: stopped" || fail "no clean stop on docker stop"
}
