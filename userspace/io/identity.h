/* This node's identity in GLUED_STATE_DIR: the Ed25519 key pair whose public
 * key (in hex) is the node ID, and the boot epoch, a counter persisted next
 * to it that grows by one at every start so (epoch, seq) stamps and record
 * versions keep growing across restarts.
 *
 * Files (created on first start, never rewritten in place):
 *   <dir>/node.key  0600, "glued-ed25519-seed <64 hex>\n"; created through a
 *                   temporary file, fsync and link(2), so a crash never
 *                   leaves a half-written key and two racing starts agree
 *   <dir>/epoch     "<decimal>\n"; replaced by write, fsync, rename, fsync
 *                   of the directory before the new epoch is used
 * An I/O edge: it owns these files and nothing else; it does not log (the
 * caller prints the one-line error it returns).
 */
#ifndef GLUED_IO_IDENTITY_H
#define GLUED_IO_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define IDENTITY_ID_LEN 32
#define IDENTITY_ID_HEX (IDENTITY_ID_LEN * 2)
#define IDENTITY_ERR_LEN 512

struct identity {
	uint8_t pk[IDENTITY_ID_LEN];	   /* the node ID */
	uint8_t sk[64];			   /* libsodium's secret key (seed || pk) */
	char node_id[IDENTITY_ID_HEX + 1]; /* lowercase hex of pk */
	uint64_t epoch;			   /* this boot's epoch, >= 1, already persisted */
	bool created;			   /* the key was created by this call */
	bool mode_fixed;		   /* node.key was readable by others: made 0600 */
};

/* Load or create the key pair in state_dir (created 0700 if missing), then
 * bump and persist the epoch. Returns 0, or a negative code with one line
 * in err naming the file and the reason (not writable, corrupt, ...). */
int identity_load(struct identity *id, const char *state_dir, char *err,
		  size_t errlen) GLUED_MUST_CHECK;

/* Wipe the secret key from memory. */
void identity_clear(struct identity *id);

/* Hex of 32 bytes into out (65 bytes); parse 64 hex chars (any case) into 32
 * bytes: 0 or GLUED_EMALF. */
void identity_hex(char out[IDENTITY_ID_HEX + 1], const uint8_t id[IDENTITY_ID_LEN]);
int identity_unhex(uint8_t id[IDENTITY_ID_LEN], const char *hex) GLUED_MUST_CHECK;

#endif
