/* Configuration: applying one value to its key (type checks, list
 * splitting, the one-line errors), defaults and derived values, the
 * environment reader, file key names, and the help text. The key table and
 * one parser per key are in config_keys.c, the file readers in
 * config_file.c. It owns the exact wording of config errors. It must never
 * read files or the environment itself, log, or keep state outside the
 * struct it is given: main.c does the I/O and the logging.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config_internal.h"

/* --- applying one value ----------------------------------------------------- */

#define SHOWN_MAX 256 /* longer values are cut short with "..." in messages */

/* Quote a value for a message: escapes keep the error on one line. */
void config_quote(char *dst, size_t cap, const char *s)
{
	size_t o = 0, max = cap > 8 ? cap - 8 : 0;

	if (max > SHOWN_MAX + 1)
		max = SHOWN_MAX + 1; /* + the opening quote */

	if (cap == 0)
		return;
	dst[o++] = '"';
	for (; *s && o < max; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			o += (size_t)snprintf(dst + o, cap - o, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", ch);
		else
			dst[o++] = (char)ch;
	}
	if (*s && o + 4 < cap)
		o += (size_t)snprintf(dst + o, cap - o, "...");
	if (o + 2 <= cap) {
		dst[o++] = '"';
		dst[o] = '\0';
	} else {
		dst[cap - 1] = '\0';
	}
}

static void show_value(char *dst, size_t cap, const struct config_key *k, const struct cval *v)
{
	size_t o;

	if (k && k->secret) {
		snprintf(dst, cap, "=<hidden>");
		return;
	}
	switch (v->type) {
	case CVAL_STR:
		dst[0] = '=';
		config_quote(dst + 1, cap - 1, v->str);
		return;
	case CVAL_INT:
		snprintf(dst, cap, "=%lld", v->i);
		return;
	case CVAL_BOOL:
		snprintf(dst, cap, "=%s", v->b ? "true" : "false");
		return;
	case CVAL_LIST:
		o = (size_t)snprintf(dst, cap, "=[");
		for (size_t i = 0; i < v->n_items && o + 8 < cap; i++) {
			if (i)
				o += (size_t)snprintf(dst + o, cap - o, ", ");
			config_quote(dst + o, cap - o, v->items[i]);
			o += strlen(dst + o);
		}
		if (o + 2 <= cap)
			snprintf(dst + o, cap - o, "]");
		return;
	case CVAL_OTHER:
		dst[0] = '\0';
		return;
	}
}

static void where_prefix(char *dst, size_t cap, const struct where *w)
{
	if (!w->path)
		snprintf(dst, cap, "config: ");
	else if (w->line)
		snprintf(dst, cap, "config: %s:%u: ", w->path, w->line);
	else
		snprintf(dst, cap, "config: %s: ", w->path);
}

/* Last guard for "exactly one line": values are escaped where they are
 * shown, but a path, a jansson message or a reason may still carry a control
 * byte. */
static int one_line(char *err, size_t errlen)
{
	for (size_t i = 0; i < errlen && err[i]; i++)
		if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
			err[i] = '?';
	return GLUED_ECONFIG;
}

static int fail_value(char *err, size_t errlen, const struct where *w, const struct config_key *k,
		      const struct cval *v, const char *why)
{
	char pre[CONFIG_PATH_MAX + 48], val[320];

	where_prefix(pre, sizeof(pre), w);
	show_value(val, sizeof(val), k, v);
	if (errlen)
		snprintf(err, errlen, "%s%s%s: %s", pre, w->key, val, why);
	return one_line(err, errlen);
}

int config_fail(char *err, size_t errlen, const struct where *w, const char *fmt, ...)
{
	char pre[CONFIG_PATH_MAX + 48], why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	where_prefix(pre, sizeof(pre), w);
	if (errlen)
		snprintf(err, errlen, "%s%s", pre, why);
	return one_line(err, errlen);
}

/* Split a comma list in place: items trimmed, empty items dropped. */
static int split_list(char *buf, const char **items, size_t *n_items)
{
	size_t n = 0;
	char *p = buf;

	for (;;) {
		char *end = strchr(p, ','), *q;
		if (end)
			*end = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		q = p + strlen(p);
		while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
			*--q = '\0';
		if (*p) {
			if (n == CONFIG_ITEMS_MAX)
				return GLUED_ELIMIT;
			items[n++] = p;
		}
		if (!end)
			break;
		p = end + 1;
	}
	*n_items = n;
	return 0;
}

int config_parse_int(const char *s, long long *out)
{
	long long v = 0;
	bool neg = false;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!*s)
		return GLUED_EMALF;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return GLUED_EMALF;
		if (v > (LLONG_MAX - 9) / 10)
			return GLUED_ELIMIT;
		v = v * 10 + (*s - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

/* Hand one value to its key's setter. Empty strings and empty lists mean
 * "not set": the value already there (default or file) stays. */
int config_value_apply(struct glued_config *c, enum config_key_id id, const struct cval *v,
		       const struct where *w, char *err, size_t errlen)
{
	const struct config_key *k = &config_keys[id];
	char why[256] = "", scratch[CONFIG_VALUE_MAX];
	const char *items[CONFIG_ITEMS_MAX];
	const char *s = v->str;
	size_t n_items = 0;
	long long num = 0;
	int rc = 0;

	switch (k->type) {
	case KT_SWITCH:
		if (v->type == CVAL_BOOL) {
			s = v->b ? "on" : "off";
			break;
		}
		if (v->type != CVAL_STR)
			return fail_value(err, errlen, w, k, v, "must be a string or a boolean");
		break;
	case KT_STRING:
		if (v->type != CVAL_STR)
			return fail_value(err, errlen, w, k, v, "must be a string");
		break;
	case KT_INT:
		if (v->type == CVAL_INT) {
			num = v->i;
		} else if (v->type == CVAL_STR) {
			if (!*v->str)
				return 0;
			rc = config_parse_int(v->str, &num);
			if (rc == GLUED_EMALF)
				return fail_value(err, errlen, w, k, v, "not a number");
		} else {
			return fail_value(err, errlen, w, k, v, "must be an integer");
		}
		if (rc || num < k->min || num > k->max) {
			snprintf(why, sizeof(why), "out of range (%lld..%lld)", k->min, k->max);
			return fail_value(err, errlen, w, k, v, why);
		}
		*(uint32_t *)((char *)c + k->off) = (uint32_t)num;
		c->source[id] = (uint8_t)w->src;
		return 0;
	case KT_LIST:
		if (v->type == CVAL_STR) {
			if (strlen(v->str) >= sizeof(scratch))
				return fail_value(err, errlen, w, k, v, "too long");
			memcpy(scratch, v->str, strlen(v->str) + 1);
			rc = split_list(scratch, items, &n_items);
		} else if (v->type == CVAL_LIST) {
			if (v->n_items > k->max_items)
				rc = GLUED_ELIMIT;
			for (size_t i = 0; i < v->n_items && !rc; i++) {
				if (!v->items[i][0])
					return fail_value(err, errlen, w, k, v, "empty item");
				if (n_items == CONFIG_ITEMS_MAX)
					rc = GLUED_ELIMIT;
				else
					items[n_items++] = v->items[i];
			}
		} else {
			return fail_value(err, errlen, w, k, v,
					  "must be a string or an array of strings");
		}
		if (rc || n_items > k->max_items) {
			snprintf(why, sizeof(why), "too many items (max %zu)", k->max_items);
			return fail_value(err, errlen, w, k, v, why);
		}
		if (n_items == 0)
			return 0;
		if (k->set_list(c, items, n_items, why, sizeof(why)))
			return fail_value(err, errlen, w, k, v, why);
		c->source[id] = (uint8_t)w->src;
		return 0;
	}
	if (!*s)
		return 0;
	if (k->set_str(c, s, why, sizeof(why)))
		return fail_value(err, errlen, w, k, v, why);
	c->source[id] = (uint8_t)w->src;
	return 0;
}

/* Values that depend on more than one key, and the *_set flags. Idempotent:
 * called after every source is applied. */
void config_derive(struct glued_config *c)
{
	c->dns_bind = c->dns_bind_spec;
	c->bind_ip_set = c->source[CONFIG_KEY_BIND_IP] != CONFIG_SRC_DEFAULT;
	if (c->bind_ip_set && c->source[CONFIG_KEY_BIND_IP] >= c->source[CONFIG_KEY_DNS_BIND])
		c->dns_bind.addr = c->bind_ip;
	c->topic_id_set = c->source[CONFIG_KEY_TOPIC_ID] != CONFIG_SRC_DEFAULT;
	c->upstreams_set = c->source[CONFIG_KEY_UPSTREAMS] != CONFIG_SRC_DEFAULT;
	c->allow_set = c->source[CONFIG_KEY_ALLOW] != CONFIG_SRC_DEFAULT;
	c->cluster_secret_default = config_secret_is_default(c->cluster_secret);
}

static void add_warning(struct glued_config *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_warning(struct glued_config *c, const char *fmt, ...)
{
	va_list ap;

	if (c->n_warnings == CONFIG_WARNINGS_MAX) {
		c->n_warnings_dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(c->warnings[c->n_warnings++], CONFIG_WARNING_LEN, fmt, ap);
	va_end(ap);
}

void config_defaults(struct glued_config *c)
{
	struct where w = {.src = CONFIG_SRC_DEFAULT};
	char err[CONFIG_ERR_LEN];

	memset(c, 0, sizeof(*c));
	for (int id = 0; id < CONFIG_KEY_COUNT; id++) {
		struct cval v = {.type = CVAL_STR, .str = config_keys[id].info.def};
		if (!v.str)
			continue;
		w.key = config_keys[id].info.env;
		/* A default that does not parse is a bug in the table above. */
		if (config_value_apply(c, (enum config_key_id)id, &v, &w, err, sizeof(err)))
			abort();
	}
	config_derive(c);
}

/* --- the environment --------------------------------------------------------- */

static const char *env_get(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (char **e = envp; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static bool env_known(const char *name, size_t n)
{
	for (int id = 0; id < CONFIG_KEY_COUNT; id++) {
		const struct config_key_info *ki = &config_keys[id].info;
		if ((strlen(ki->env) == n && !strncmp(ki->env, name, n)) ||
		    (ki->alias && strlen(ki->alias) == n && !strncmp(ki->alias, name, n)))
			return true;
	}
	return false;
}

int config_apply_env(struct glued_config *c, char **envp, char *err, size_t errlen)
{
	for (int id = 0; id < CONFIG_KEY_COUNT; id++) {
		const struct config_key_info *ki = &config_keys[id].info;
		const char *val = env_get(envp, ki->env), *name = ki->env;
		const char *aval = ki->alias ? env_get(envp, ki->alias) : NULL;
		struct where w = {.src = CONFIG_SRC_ENV};
		struct cval v = {.type = CVAL_STR};
		int rc;

		/* The primary name wins over its alias, whatever their order. */
		if (val && *val && aval && *aval && strcmp(val, aval) != 0)
			add_warning(c, "config: %s ignored: %s is set", ki->alias, ki->env);
		if ((!val || !*val) && aval && *aval) {
			val = aval;
			name = ki->alias;
		}
		if (!val || !*val)
			continue;
		w.key = name;
		v.str = val;
		rc = config_value_apply(c, (enum config_key_id)id, &v, &w, err, errlen);
		if (rc)
			return rc;
	}
	for (char **e = envp; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		size_t n = eq ? (size_t)(eq - *e) : strlen(*e);
		if (strncmp(*e, "GLUED_", 6) == 0 && !env_known(*e, n))
			add_warning(c, "config: unknown environment variable %.*s ignored",
				    (int)(n > 64 ? 64 : n), *e);
	}
	config_derive(c);
	if (c->bind_ip_set && c->source[CONFIG_KEY_BIND_IP] < c->source[CONFIG_KEY_DNS_BIND])
		add_warning(c,
			    "config: bind_ip from the file ignored: GLUED_DNS_BIND is set in the "
			    "environment");
	return 0;
}

int config_load(struct glued_config *c, char **envp, const char *text, size_t len,
		enum config_format fmt, const char *path, char *err, size_t errlen)
{
	int rc;

	config_defaults(c);
	if (text) {
		rc = config_apply_file(c, text, len, fmt, path, err, errlen);
		if (rc)
			return rc;
	}
	return config_apply_env(c, envp, err, errlen);
}

/* --- file keys ---------------------------------------------------------------- */

/* File keys: the environment names and aliases in lower case, with or without
 * the glued_ prefix. Matched case-insensitively. */
static bool file_key_matches(const char *name, const char *key)
{
	if (!name)
		return false;
	if (!strcasecmp(key, name))
		return true;
	return !strncasecmp(name, "GLUED_", 6) && !strcasecmp(key, name + 6);
}

int config_file_key_lookup(const char *key)
{
	for (int id = 0; id < CONFIG_KEY_COUNT; id++)
		if (file_key_matches(config_keys[id].info.env, key) ||
		    file_key_matches(config_keys[id].info.alias, key))
			return id;
	return -1;
}

/* --- help ------------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t cap, used;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->used < b->cap ? b->p + b->used : NULL,
		      b->used < b->cap ? b->cap - b->used : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->used += (size_t)n;
}

/* The file key a user would write: the env name, lowercase, without glued_. */
static void file_key_of(char *dst, size_t cap, const char *env)
{
	size_t i = 0;

	if (!strncmp(env, "GLUED_", 6))
		env += 6;
	for (; env[i] && i + 1 < cap; i++)
		dst[i] = (char)tolower((unsigned char)env[i]);
	dst[i] = '\0';
}

size_t config_help(char *buf, size_t len, enum config_help_style style)
{
	struct sbuf b = {.p = buf, .cap = len};

	if (len)
		buf[0] = '\0';
	if (style == CONFIG_HELP_MARKDOWN)
		sb_printf(&b, "| variable | file key | default | meaning |\n"
			      "| --- | --- | --- | --- |\n");
	else
		sb_printf(&b, "Settings (environment variables; a config file takes the same "
			      "keys in lower case, and the environment wins):\n");
	for (int id = 0; id < CONFIG_KEY_COUNT; id++) {
		const struct config_key_info *ki = &config_keys[id].info;
		char fk[48];

		file_key_of(fk, sizeof(fk), ki->env);
		if (style == CONFIG_HELP_MARKDOWN) {
			sb_printf(&b, "| `%s`", ki->env);
			if (ki->alias)
				sb_printf(&b, " (alias `%s`)", ki->alias);
			sb_printf(&b, " | `%s` | ", fk);
			if (ki->def)
				sb_printf(&b, "`%s`", ki->def);
			else
				sb_printf(&b, "unset: %s", ki->unset_means);
			sb_printf(&b, " | %s |\n", ki->help);
		} else {
			sb_printf(&b, "  %s", ki->env);
			if (ki->alias)
				sb_printf(&b, " (alias %s)", ki->alias);
			sb_printf(&b, "\n      %s\n      default: %s\n", ki->help,
				  ki->def ? ki->def : ki->unset_means);
		}
	}
	return b.used;
}
