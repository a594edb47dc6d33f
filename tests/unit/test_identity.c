/* Unit tests of io/identity: the node key and the boot epoch in a scratch
 * state directory. First start creates both (0700 directory, 0600 key in
 * the documented format, epoch 1); later starts load the same key and bump
 * the epoch; a key readable by others is made 0600; a key written by hand
 * from a known seed gives libsodium's public key as the node ID; corrupt
 * files are named in the error and left as they were; two racing first
 * starts agree on one key; hex helpers round-trip and reject non-hex.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/identity.h"
#include "t.h"

static char root[] = "/tmp/glued-test-identity.XXXXXX";

static void path_of(char *out, size_t cap, const char *dir, const char *file)
{
	snprintf(out, cap, "%s/%s", dir, file);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror(path);
		exit(2);
	}
	fchmod(fd, mode);
	close(fd);
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? (mode_t)-1 : st.st_mode & 07777;
}

static void dir_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", root, name);
}

int main(void)
{
	char err[IDENTITY_ERR_LEN], dir[512], path[600], text[512], before[512];
	struct identity a, b;

	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 2;
	}

	T_CASE("first start creates the directory, a 0600 key and epoch 1")
	{
		dir_of(dir, sizeof(dir), "fresh/nested/state");
		T_EQ_INT(identity_load(&a, dir, err, sizeof(err)), 0);
		T_ASSERT(a.created, "the key is new");
		T_ASSERT(!a.mode_fixed, "nothing to fix");
		T_EQ_INT((long long)a.epoch, 1);
		T_EQ_INT(mode_of(dir), 0700);
		path_of(path, sizeof(path), dir, "node.key");
		T_EQ_INT(mode_of(path), 0600);
		T_ASSERT(read_file(path, text, sizeof(text)) == strlen("glued-ed25519-seed ") + 65,
			 "key file: '%s'", text);
		T_ASSERT(!strncmp(text, "glued-ed25519-seed ", 19) && text[19 + 64] == '\n',
			 "key file format: '%s'", text);
		path_of(path, sizeof(path), dir, "epoch");
		read_file(path, text, sizeof(text));
		T_ASSERT(!strcmp(text, "1\n"), "epoch file: '%s'", text);
	}

	T_CASE("the node ID is the public key in lowercase hex, and the key pair matches")
	{
		uint8_t pk[IDENTITY_ID_LEN], msg[] = "glued", sig[crypto_sign_BYTES];

		T_EQ_INT(strlen(a.node_id), IDENTITY_ID_HEX);
		for (size_t i = 0; i < IDENTITY_ID_HEX; i++)
			T_ASSERT((a.node_id[i] >= '0' && a.node_id[i] <= '9') ||
				     (a.node_id[i] >= 'a' && a.node_id[i] <= 'f'),
				 "hex digit at %zu: %c", i, a.node_id[i]);
		T_EQ_INT(identity_unhex(pk, a.node_id), 0);
		T_ASSERT(!memcmp(pk, a.pk, sizeof(pk)), "node_id decodes to pk");
		T_ASSERT(!memcmp(a.sk + 32, a.pk, 32), "libsodium's sk ends with pk");
		crypto_sign_detached(sig, NULL, msg, sizeof(msg), a.sk);
		T_EQ_INT(crypto_sign_verify_detached(sig, msg, sizeof(msg), a.pk), 0);
	}

	T_CASE("later starts load the same key and bump the epoch")
	{
		for (uint64_t want = 2; want <= 4; want++) {
			T_EQ_INT(identity_load(&b, dir, err, sizeof(err)), 0);
			T_ASSERT(!b.created, "loaded, not created");
			T_ASSERT(!memcmp(a.pk, b.pk, sizeof(a.pk)), "same key");
			T_ASSERT(!strcmp(a.node_id, b.node_id), "same ID");
			T_EQ_INT((long long)b.epoch, (long long)want);
		}
		path_of(path, sizeof(path), dir, "epoch");
		read_file(path, text, sizeof(text));
		T_ASSERT(!strcmp(text, "4\n"), "epoch persisted before use: '%s'", text);
	}

	T_CASE("a stale temporary file from a crashed start is no obstacle")
	{
		char tmp[700];

		snprintf(tmp, sizeof(tmp), "%s/epoch.tmp.%ld", dir, (long)getpid());
		write_file(tmp, "garbage", 0600);
		T_EQ_INT(identity_load(&b, dir, err, sizeof(err)), 0);
		T_EQ_INT((long long)b.epoch, 5);
		T_ASSERT(access(tmp, F_OK) < 0, "temporary replaced and renamed away");
	}

	T_CASE("a key readable by others is made 0600 and still used")
	{
		path_of(path, sizeof(path), dir, "node.key");
		chmod(path, 0644);
		T_EQ_INT(identity_load(&b, dir, err, sizeof(err)), 0);
		T_ASSERT(b.mode_fixed, "mode_fixed reported");
		T_EQ_INT(mode_of(path), 0600);
		T_ASSERT(!memcmp(a.pk, b.pk, sizeof(a.pk)), "same key");
	}

	T_CASE("a key written from a known seed gives libsodium's public key")
	{
		uint8_t seed[32], pk[32], sk[64];
		char hex[65], want[65];

		for (int i = 0; i < 32; i++)
			seed[i] = (uint8_t)(i * 37 + 5);
		crypto_sign_seed_keypair(pk, sk, seed);
		identity_hex(want, pk);
		/* uppercase hex in the file is accepted */
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02X", seed[i]);
		dir_of(dir, sizeof(dir), "seeded");
		mkdir(dir, 0700);
		path_of(path, sizeof(path), dir, "node.key");
		snprintf(text, sizeof(text), "glued-ed25519-seed %s\n", hex);
		write_file(path, text, 0600);
		T_EQ_INT(identity_load(&b, dir, err, sizeof(err)), 0);
		T_ASSERT(!b.created, "loaded");
		T_ASSERT(!strcmp(b.node_id, want), "node_id %s, want %s", b.node_id, want);
		T_ASSERT(!memcmp(b.sk, sk, sizeof(sk)), "same secret key");
	}

	T_CASE("a corrupt key is named in the error and left untouched")
	{
		static const char *bad[] = {
		    "",
		    "hello\n",
		    "glued-ed25519-seed 0123\n",
		    "glued-ed25519-seed "
		    "zz23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
		    "glued-ed25519-seed "
		    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0\n",
		};

		dir_of(dir, sizeof(dir), "corrupt-key");
		mkdir(dir, 0700);
		path_of(path, sizeof(path), dir, "node.key");
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			write_file(path, bad[i], 0600);
			err[0] = '\0';
			T_EQ_INT(identity_load(&b, dir, err, sizeof(err)), GLUED_EMALF);
			T_ASSERT(strstr(err, path) && strstr(err, "not a glued node key"),
				 "case %zu: error '%s'", i, err);
			read_file(path, text, sizeof(text));
			T_ASSERT(!strcmp(text, bad[i]), "case %zu: file changed to '%s'", i, text);
			T_ASSERT(b.sk[0] == 0 && b.sk[63] == 0, "no secret left behind");
		}
	}

	T_CASE("a corrupt epoch is named in the error and left untouched")
	{
		static const char *bad[] = {"abc\n", "-1\n", "12x\n", "", "18446744073709551615\n"};
		char kept[512];

		dir_of(dir, sizeof(dir), "corrupt-epoch");
		T_EQ_INT(identity_load(&b, dir, err, sizeof(err)), 0);
		path_of(path, sizeof(path), dir, "node.key");
		read_file(path, kept, sizeof(kept));
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			path_of(path, sizeof(path), dir, "epoch");
			write_file(path, bad[i], 0600);
			err[0] = '\0';
			T_EQ_INT(identity_load(&b, dir, err, sizeof(err)), GLUED_EMALF);
			T_ASSERT(strstr(err, path) && strstr(err, "not an epoch counter"),
				 "case %zu: error '%s'", i, err);
			read_file(path, text, sizeof(text));
			T_ASSERT(!strcmp(text, bad[i]), "case %zu: epoch changed to '%s'", i, text);
		}
		path_of(path, sizeof(path), dir, "node.key");
		read_file(path, before, sizeof(before));
		T_ASSERT(!strcmp(before, kept), "the key was not touched");
	}

	T_CASE("a state directory that cannot exist gives an error naming it")
	{
		char file[600];

		path_of(file, sizeof(file), root, "a-file");
		write_file(file, "x", 0600);
		snprintf(dir, sizeof(dir), "%s/sub", file);
		err[0] = '\0';
		T_EQ_INT(identity_load(&b, dir, err, sizeof(err)), -ENOTDIR);
		T_ASSERT(strstr(err, dir) && strstr(err, "create the state directory"),
			 "error '%s'", err);
	}

	T_CASE("two racing first starts agree on one key")
	{
		for (int round = 0; round < 8; round++) {
			char ids[2][IDENTITY_ID_HEX + 1] = {{0}};
			int fds[2][2];
			pid_t pid[2];

			snprintf(dir, sizeof(dir), "%s/race-%d", root, round);
			for (int c = 0; c < 2; c++) {
				if (pipe(fds[c]) < 0)
					exit(2);
				pid[c] = fork();
				if (pid[c] == 0) {
					struct identity me;
					char e[IDENTITY_ERR_LEN];

					close(fds[c][0]);
					if (identity_load(&me, dir, e, sizeof(e)))
						_exit(1);
					_exit(write(fds[c][1], me.node_id, IDENTITY_ID_HEX) ==
						      IDENTITY_ID_HEX
						  ? 0
						  : 1);
				}
				close(fds[c][1]);
			}
			for (int c = 0; c < 2; c++) {
				int st = 0;

				T_ASSERT(read(fds[c][0], ids[c], IDENTITY_ID_HEX) == IDENTITY_ID_HEX,
					 "round %d: child %d reported its ID", round, c);
				close(fds[c][0]);
				waitpid(pid[c], &st, 0);
				T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0,
					 "round %d: child %d loaded", round, c);
			}
			T_ASSERT(!strcmp(ids[0], ids[1]), "round %d: %s vs %s", round, ids[0],
				 ids[1]);
		}
	}

	T_CASE("hex helpers round-trip, accept uppercase and reject non-hex")
	{
		uint8_t in[IDENTITY_ID_LEN], out[IDENTITY_ID_LEN];
		char hex[IDENTITY_ID_HEX + 1];

		for (int i = 0; i < IDENTITY_ID_LEN; i++)
			in[i] = (uint8_t)(255 - i * 7);
		identity_hex(hex, in);
		T_EQ_INT(identity_unhex(out, hex), 0);
		T_ASSERT(!memcmp(in, out, sizeof(in)), "round trip");
		for (int i = 0; i < IDENTITY_ID_HEX; i++)
			if (hex[i] >= 'a')
				hex[i] = (char)(hex[i] - 32);
		T_EQ_INT(identity_unhex(out, hex), 0);
		T_ASSERT(!memcmp(in, out, sizeof(in)), "uppercase");
		hex[17] = 'g';
		T_EQ_INT(identity_unhex(out, hex), GLUED_EMALF);
		hex[17] = '0';
		hex[63] = '\0';
		T_EQ_INT(identity_unhex(out, hex), GLUED_EMALF);
	}

	T_CASE("identity_clear wipes the secret key")
	{
		uint8_t zero[64] = {0};

		identity_clear(&a);
		T_ASSERT(!memcmp(a.sk, zero, sizeof(zero)), "sk zeroed");
	}

	if (!getenv("T_KEEP")) {
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", root);
	}
	return t_summary();
}
