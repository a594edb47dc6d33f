/* Private to config.c, config_keys.c and config_file.c: the key table's
 * row type, the value type both sources hand to the key table, and the
 * helpers the file readers share with the env reader. Nothing outside the
 * config module includes this.
 */
#ifndef GLUED_CORE_CONFIG_INTERNAL_H
#define GLUED_CORE_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

#define CONFIG_VALUE_MAX 8192 /* longest value (or array, items joined) we accept */
#define CONFIG_ITEMS_MAX 128  /* items a list value may be split into before the key's own cap */

enum key_type {
	KT_STRING, /* a string */
	KT_SWITCH, /* a string; a file boolean means "on" / "off" */
	KT_INT,	   /* an integer in [min, max] stored as uint32_t at off */
	KT_LIST,   /* comma list in a string, or an array of strings */
};

typedef int (*set_str_fn)(struct glued_config *c, const char *s, char *why, size_t n);
typedef int (*set_list_fn)(struct glued_config *c, const char *const *items, size_t n_items,
			   char *why, size_t n);

struct config_key {
	struct config_key_info info;
	enum key_type type;
	bool secret; /* never echo the value */
	set_str_fn set_str;
	set_list_fn set_list;
	size_t max_items;   /* KT_LIST */
	size_t off;	    /* KT_INT: offsetof the uint32_t */
	long long min, max; /* KT_INT */
};

/* The key table (config_keys.c), indexed by enum config_key_id. */
extern const struct config_key config_keys[CONFIG_KEY_COUNT];

/* A value as one of the sources gives it, before the key's parser sees it. */
enum cval_type { CVAL_STR, CVAL_INT, CVAL_BOOL, CVAL_LIST, CVAL_OTHER };

struct cval {
	enum cval_type type;
	const char *str;	  /* CVAL_STR */
	long long i;		  /* CVAL_INT */
	bool b;			  /* CVAL_BOOL */
	const char *const *items; /* CVAL_LIST */
	size_t n_items;
};

/* Where a value came from, for the one-line error. */
struct where {
	enum config_source src;
	const char *path; /* file path, NULL for the environment */
	unsigned line;	  /* TOML line of the key, 0 when unknown */
	const char *key;  /* the key as the user wrote it */
};

/* Hand one value to its key's setter; on failure write the one-line error.
 * Empty strings and empty lists mean "not set". 0 or GLUED_ECONFIG. */
int config_value_apply(struct glued_config *c, enum config_key_id id, const struct cval *v,
		       const struct where *w, char *err, size_t errlen);
/* "config: [PATH[:LINE]: ]<formatted reason>" into err; returns GLUED_ECONFIG. */
int config_fail(char *err, size_t errlen, const struct where *w, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The key id a file key names (any case, with or without glued_), or -1. */
int config_file_key_lookup(const char *key);
/* Recompute the values that depend on several keys and the *_set flags. */
void config_derive(struct glued_config *c);
/* A value quoted and escaped for a message, cut short after 256 bytes. */
void config_quote(char *dst, size_t cap, const char *s);
/* Decimal integer with optional sign: 0, GLUED_EMALF or GLUED_ELIMIT. */
int config_parse_int(const char *s, long long *out);
bool config_is_hex(const char *s, size_t len);
int config_hex_nibble(char ch);

#endif
