/* The node key and the boot epoch in the state directory; see identity.h.
 * Owns two files and their crash-safe replacement. Never logs: every
 * failure comes back as a code plus one line naming the path.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/identity.h"
#include "lib/hex.h"

#define KEY_FILE "node.key"
#define EPOCH_FILE "epoch"
#define KEY_TAG "glued-ed25519-seed "
#define PATH_LEN 4096

void identity_hex(char out[IDENTITY_ID_HEX + 1], const uint8_t id[IDENTITY_ID_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < IDENTITY_ID_LEN; i++) {
		out[2 * i] = digits[id[i] >> 4];
		out[2 * i + 1] = digits[id[i] & 15];
	}
	out[IDENTITY_ID_HEX] = '\0';
}

int identity_unhex(uint8_t id[IDENTITY_ID_LEN], const char *hex)
{
	for (size_t i = 0; i < IDENTITY_ID_LEN; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hi < 0 ? -1 : hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return GLUED_EMALF;
		id[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void identity_clear(struct identity *id)
{
	sodium_memzero(id->sk, sizeof(id->sk));
}

static int fail(char *err, size_t errlen, int ret, const char *path, const char *what)
{
	snprintf(err, errlen, "identity: %s: %s: %s", path, what, glued_strerror(ret));
	return ret;
}

/* mkdir -p with mode 0700 for the directories it creates. */
static int mkdirs(const char *dir)
{
	char p[PATH_LEN];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		p[i] = i == n ? '\0' : '/';
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Write text to a fresh temporary file next to path (mode), fsync it. The
 * temporary's name goes to tmp. */
static int write_tmp(const char *path, char *tmp, size_t tmplen, const char *text, mode_t mode)
{
	int fd, ret;

	snprintf(tmp, tmplen, "%s.tmp.%ld", path, (long)getpid());
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, text, strlen(text));
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

static int read_small(const char *path, char *buf, size_t cap, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (st && fstat(fd, st) < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	n = read(fd, buf, cap - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	return (int)n;
}

static int parse_key(struct identity *id, const char *text)
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	size_t tag = strlen(KEY_TAG);

	if (strncmp(text, KEY_TAG, tag) != 0 || strlen(text) < tag + 64 ||
	    (text[tag + 64] != '\n' && text[tag + 64] != '\0'))
		return GLUED_EMALF;
	if (identity_unhex(seed, text + tag))
		return GLUED_EMALF;
	crypto_sign_seed_keypair(id->pk, id->sk, seed);
	sodium_memzero(seed, sizeof(seed));
	return 0;
}

static int load_key(struct identity *id, const char *dir, char *err, size_t errlen)
{
	char path[PATH_LEN], tmp[PATH_LEN + 32], text[256];
	uint8_t seed[crypto_sign_SEEDBYTES];
	struct stat st;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, KEY_FILE);
	for (int attempt = 0; attempt < 2; attempt++) {
		ret = read_small(path, text, sizeof(text), &st);
		if (ret >= 0) {
			ret = parse_key(id, text);
			sodium_memzero(text, sizeof(text));
			if (ret)
				return fail(
				    err, errlen, ret, path,
				    "not a glued node key (remove it to make a new identity)");
			if (st.st_mode & 077) {
				if (chmod(path, 0600) < 0)
					return fail(err, errlen, -errno, path,
						    "readable by others and cannot chmod 0600");
				id->mode_fixed = true;
			}
			return 0;
		}
		if (ret != -ENOENT)
			return fail(err, errlen, ret, path, "read");

		/* First start: a new key, written whole under a temporary name
		 * and linked into place; link(2) never replaces, so a racing
		 * start's key wins and both load the same one. */
		randombytes_buf(seed, sizeof(seed));
		memcpy(text, KEY_TAG, strlen(KEY_TAG));
		sodium_bin2hex(text + strlen(KEY_TAG), 65, seed, sizeof(seed));
		strcat(text, "\n");
		sodium_memzero(seed, sizeof(seed));
		ret = write_tmp(path, tmp, sizeof(tmp), text, 0600);
		sodium_memzero(text, sizeof(text));
		if (ret)
			return fail(err, errlen, ret, tmp, "create (is GLUED_STATE_DIR writable?)");
		ret = link(tmp, path) < 0 ? -errno : 0;
		unlink(tmp);
		if (ret && ret != -EEXIST)
			return fail(err, errlen, ret, path, "create");
		if (ret == 0) {
			id->created = true;
			ret = fsync_dir(dir);
			if (ret)
				return fail(err, errlen, ret, dir, "fsync");
		}
	}
	return fail(err, errlen, -EAGAIN, path, "created but unreadable");
}

static int bump_epoch(struct identity *id, const char *dir, char *err, size_t errlen)
{
	char path[PATH_LEN], tmp[PATH_LEN + 32], text[64], *end;
	unsigned long long prev = 0;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, EPOCH_FILE);
	ret = read_small(path, text, sizeof(text), NULL);
	if (ret >= 0) {
		errno = 0;
		prev = strtoull(text, &end, 10);
		if (errno || end == text || (*end != '\n' && *end != '\0') || text[0] == '-' ||
		    prev >= UINT64_MAX - 1)
			return fail(err, errlen, GLUED_EMALF, path,
				    "not an epoch counter (a decimal number)");
	} else if (ret != -ENOENT) {
		return fail(err, errlen, ret, path, "read");
	}
	id->epoch = prev + 1;
	snprintf(text, sizeof(text), "%" PRIu64 "\n", id->epoch);
	ret = write_tmp(path, tmp, sizeof(tmp), text, 0600);
	if (ret)
		return fail(err, errlen, ret, tmp, "write (is GLUED_STATE_DIR writable?)");
	if (rename(tmp, path) < 0) {
		ret = -errno;
		unlink(tmp);
		return fail(err, errlen, ret, path, "replace");
	}
	ret = fsync_dir(dir);
	if (ret)
		return fail(err, errlen, ret, dir, "fsync");
	return 0;
}

int identity_load(struct identity *id, const char *state_dir, char *err, size_t errlen)
{
	int ret;

	memset(id, 0, sizeof(*id));
	if (sodium_init() < 0)
		return fail(err, errlen, -ENOSYS, state_dir, "libsodium initialisation");
	ret = mkdirs(state_dir);
	if (ret)
		return fail(err, errlen, ret, state_dir, "create the state directory");
	ret = load_key(id, state_dir, err, errlen);
	if (ret)
		goto err_key;
	identity_hex(id->node_id, id->pk);
	ret = bump_epoch(id, state_dir, err, errlen);
	if (ret)
		goto err_key;
	return 0;

err_key:
	identity_clear(id);
	return ret;
}
