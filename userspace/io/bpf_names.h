/* Encoding of glued's name table into the BPF maps' keys and values
 * (include/glued/abi.h): one name and its table_answer in, one
 * glued_names key and value out; also the config value, local-address
 * keys and counter names. Pure functions, no syscalls: the daemon's
 * mirror (io/fastpath_mirror.c) and the BPF tests share them so that what the
 * tests check is what the daemon writes.
 *
 * Writing a name: bpf_map_update_elem(names_fd, &key, &val, BPF_ANY) with
 * the whole value; the program never sees half of it. Removing one:
 * bpf_map_delete_elem(names_fd, &key).
 */
#ifndef GLUED_IO_BPF_NAMES_H
#define GLUED_IO_BPF_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glued/abi.h"
#include "core/table.h"
#include "lib/addr.h"
#include "lib/err.h"

/* The key of a name: the hash of its lowercase, zero-padded form (abi.h).
 * GLUED_EMALF if name[0..len) is not a valid table label
 * (table_name_valid()). Two names may share a key (see abi.h): the value
 * says which one it holds. */
int bpf_names_key(const char *name, size_t len, struct glued_name_key *key) GLUED_MUST_CHECK;

/* Key and value for a name as table_lookup() answers it: the value holds
 * the lowercase name (what bpftool shows, what the program compares), and
 * the addresses copied
 * in table order (the program rotates them like dns_answer()); a family
 * with more than GLUED_V4_MAX / GLUED_V6_MAX addresses sets its overflow
 * flag and stores none (userspace answers it). Every byte of *key and *val
 * is written (pads zero). Errors as bpf_names_key(). */
int bpf_names_encode(const char *name, size_t len, const struct table_answer *ans,
		     struct glued_name_key *key, struct glued_name_val *val) GLUED_MUST_CHECK;

/* Whether a glued_names value is the one of name[0..len) (any case): what
 * to check after a lookup by bpf_names_key(), since two names may share a
 * key. False for an invalid name. */
bool bpf_names_val_holds(const struct glued_name_val *val, const char *name, size_t len);

/* glued_config value: ABI version, TTL, port (host order in, stored network
 * order), enabled, no liveness deadline (alive_until_ns 0: never stale),
 * no rate limit (bpf_config_set_rrl()). */
void bpf_config_init(struct glued_bpf_config *c, uint32_t ttl_s, uint16_t port);

/* The dead man's switch: the program passes everything (counted `stale`)
 * once CLOCK_MONOTONIC passes until_ns (0: never). The daemon sets it to
 * now + grace (clock_gettime(CLOCK_MONOTONIC), in ns) on every refresh of
 * glued_config, e.g. every second with a 10 s grace: a glued that dies
 * stops the kernel answering from a map nobody maintains within the grace,
 * and one restarted within it loses no answer. */
void bpf_config_set_alive(struct glued_bpf_config *c, uint64_t until_ns);

/* glued_addrs key for a local address. GLUED_EMALF for a family other than
 * AF_INET/AF_INET6 or the wildcard address (never a valid destination). */
int bpf_local_key(const struct glued_addr *a, struct glued_local_key *k) GLUED_MUST_CHECK;

/* The kernel's response rate limiting, glued_config's `rrl` (abi.h,
 * "glued_rrl"): `rate` answers per second per source prefix (0: off),
 * prefixes of prefix4 / prefix6 bits (capped at 32 /
 * GLUED_RRL_PREFIX6_MAX) as masks; GCRA with a burst of one second.
 * bpf_config_init() leaves it off. */
void bpf_config_set_rrl(struct glued_bpf_config *c, uint32_t rate, unsigned prefix4,
			unsigned prefix6);

/* "answered", "miss", ... for a counter index; NULL past GLUED_STAT_MAX. */
const char *bpf_stat_name(unsigned stat);

#endif
