/* Config files: the JSON reader (jansson) and the reader of a flat TOML
 * subset, both feeding the key table in config.c. It owns file syntax, the
 * line numbers in file errors, and the "same key twice" rule. It must never
 * open the file (main.c hands in the bytes), log, or know what a key means.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config_internal.h"

/* State shared by both file readers: duplicate detection across aliases. */
struct file_ctx {
	struct glued_config *c;
	const char *path;
	unsigned seen_line[CONFIG_KEY_COUNT]; /* TOML line; 0 for JSON */
	bool seen[CONFIG_KEY_COUNT];
	char *err;
	size_t errlen;
};

static int file_apply(struct file_ctx *f, const char *key, unsigned line, const struct cval *v)
{
	struct where w = {.src = CONFIG_SRC_FILE, .path = f->path, .line = line, .key = key};
	int id = config_file_key_lookup(key);
	char shown[80];

	config_quote(shown, sizeof(shown), key);
	if (id < 0)
		return config_fail(f->err, f->errlen, &w, "unknown key %s", shown);
	if (f->seen[id]) {
		if (f->seen_line[id])
			return config_fail(f->err, f->errlen, &w, "%s: already set on line %u",
					   shown, f->seen_line[id]);
		return config_fail(f->err, f->errlen, &w, "%s: set twice", shown);
	}
	f->seen[id] = true;
	f->seen_line[id] = line;
	return config_value_apply(f->c, (enum config_key_id)id, v, &w, f->err, f->errlen);
}

static int apply_json(struct file_ctx *f, const char *text, size_t len)
{
	struct where w = {.src = CONFIG_SRC_FILE, .path = f->path};
	json_error_t jerr;
	json_t *root, *val;
	const char *key;
	int rc = 0;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		w.line = jerr.line > 0 ? (unsigned)jerr.line : 0;
		return config_fail(f->err, f->errlen, &w, "%s", jerr.text);
	}
	if (!json_is_object(root)) {
		rc = config_fail(f->err, f->errlen, &w, "the top level must be an object");
		goto out;
	}
	json_object_foreach(root, key, val)
	{
		const char *items[CONFIG_ITEMS_MAX];
		struct cval v = {.type = CVAL_OTHER};
		size_t i;
		json_t *it;

		if (json_is_null(val))
			continue; /* null means not set */
		if (json_is_string(val)) {
			v.type = CVAL_STR;
			v.str = json_string_value(val);
		} else if (json_is_integer(val)) {
			v.type = CVAL_INT;
			v.i = (long long)json_integer_value(val);
		} else if (json_is_boolean(val)) {
			v.type = CVAL_BOOL;
			v.b = json_is_true(val);
		} else if (json_is_array(val) && json_array_size(val) <= CONFIG_ITEMS_MAX) {
			v.type = CVAL_LIST;
			json_array_foreach(val, i, it)
			{
				if (!json_is_string(it)) {
					v.type = CVAL_OTHER;
					break;
				}
				items[i] = json_string_value(it);
			}
			v.items = items;
			v.n_items = json_array_size(val);
		} else if (json_is_array(val)) {
			/* Longer than any key allows. */
			rc = config_fail(f->err, f->errlen, &w, "%s: too many items", key);
			break;
		}
		rc = file_apply(f, key, 0, &v);
		if (rc)
			break;
	}
out:
	json_decref(root);
	return rc;
}

/* The flat TOML subset: key = "string" | 'literal' | integer | true | false |
 * ["array", "of", "strings"] (which may span lines), comments and blank
 * lines. Anything else is an error with its line number. */
struct toml {
	const char *p, *end;
	unsigned line;
	char buf[CONFIG_VALUE_MAX]; /* unescaped strings, NUL-separated */
	size_t used;
	const char *items[CONFIG_ITEMS_MAX];
};

static void toml_skip_blank(struct toml *t)
{
	while (t->p < t->end && (*t->p == ' ' || *t->p == '\t'))
		t->p++;
}

static void toml_skip_comment(struct toml *t)
{
	if (t->p < t->end && *t->p == '#')
		while (t->p < t->end && *t->p != '\n')
			t->p++;
}

/* Blanks, comments and newlines (between entries, inside arrays). */
static void toml_skip_space(struct toml *t)
{
	for (;;) {
		toml_skip_blank(t);
		toml_skip_comment(t);
		if (t->p < t->end && *t->p == '\r' && t->p + 1 < t->end && t->p[1] == '\n')
			t->p++;
		if (t->p < t->end && *t->p == '\n') {
			t->p++;
			t->line++;
			continue;
		}
		return;
	}
}

static int toml_put(struct toml *t, const char *bytes, size_t n)
{
	if (t->used + n + 1 > sizeof(t->buf))
		return -1;
	memcpy(t->buf + t->used, bytes, n);
	t->used += n;
	return 0;
}

static size_t utf8_encode(char *out, unsigned long cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A basic "..." or literal '...' string on one line; the result is appended
 * to t->buf, NUL-terminated, and returned in *out. NULL reason on success. */
static const char *toml_string(struct toml *t, const char **out)
{
	char quote_ch = *t->p++, tmp[4];
	size_t start = t->used;

	if (t->end - t->p >= 2 && t->p[0] == quote_ch && t->p[1] == quote_ch)
		return "multi-line strings are not supported";
	for (;;) {
		unsigned char ch;
		if (t->p >= t->end || *t->p == '\n' || *t->p == '\r')
			return "unterminated string";
		ch = (unsigned char)*t->p++;
		if (ch == (unsigned char)quote_ch)
			break;
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return "control character in string";
		if (ch != '\\' || quote_ch == '\'') {
			if (toml_put(t, (const char *)&ch, 1))
				return "value too long";
			continue;
		}
		if (t->p >= t->end)
			return "unterminated string";
		ch = (unsigned char)*t->p++;
		const char *simple = strchr("btnfr\"\\", ch);
		if (ch && simple) {
			static const char repl[] = "\b\t\n\f\r\"\\";
			if (toml_put(t, &repl[simple - "btnfr\"\\"], 1))
				return "value too long";
		} else if (ch == 'u' || ch == 'U') {
			size_t nd = ch == 'u' ? 4 : 8;
			unsigned long cp = 0;
			if ((size_t)(t->end - t->p) < nd || !config_is_hex(t->p, nd))
				return "bad \\u escape";
			for (size_t i = 0; i < nd; i++)
				cp = cp << 4 | (unsigned long)config_hex_nibble(t->p[i]);
			t->p += nd;
			if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
				return "bad \\u escape";
			if (toml_put(t, tmp, utf8_encode(tmp, cp)))
				return "value too long";
		} else {
			return "unknown escape in string";
		}
	}
	if (toml_put(t, "", 0))
		return "value too long";
	t->buf[t->used++] = '\0';
	*out = t->buf + start;
	return NULL;
}

static const char *toml_value(struct toml *t, struct cval *v)
{
	const char *why;

	if (t->p >= t->end || *t->p == '\n' || *t->p == '\r' || *t->p == '#')
		return "missing value after '='";
	if (*t->p == '"' || *t->p == '\'') {
		v->type = CVAL_STR;
		return toml_string(t, &v->str);
	}
	if (*t->p == '[') {
		v->type = CVAL_LIST;
		v->items = t->items;
		v->n_items = 0;
		t->p++;
		for (;;) {
			toml_skip_space(t);
			if (t->p >= t->end)
				return "unterminated array";
			if (*t->p == ']') {
				t->p++;
				return NULL;
			}
			if (*t->p != '"' && *t->p != '\'')
				return "arrays may hold only strings";
			if (v->n_items == CONFIG_ITEMS_MAX)
				return "array too long";
			why = toml_string(t, &t->items[v->n_items]);
			if (why)
				return why;
			v->n_items++;
			toml_skip_space(t);
			if (t->p < t->end && *t->p == ',')
				t->p++;
			else if (t->p < t->end && *t->p != ']')
				return "expected ',' or ']' in array";
		}
	}
	const char *s = t->p;
	while (t->p < t->end && (isalnum((unsigned char)*t->p) || strchr("+-_.:", *t->p)))
		t->p++;
	size_t n = (size_t)(t->p - s);
	if ((n == 4 && !strncmp(s, "true", 4)) || (n == 5 && !strncmp(s, "false", 5))) {
		v->type = CVAL_BOOL;
		v->b = n == 4;
		return NULL;
	}
	char num[24];
	if (n > 0 && n < sizeof(num)) {
		memcpy(num, s, n);
		num[n] = '\0';
		if (config_parse_int(num, &v->i) == 0) {
			v->type = CVAL_INT;
			return NULL;
		}
	}
	return "not a supported value (strings, integers, booleans, arrays of strings)";
}

static int apply_toml(struct file_ctx *f, const char *text, size_t len)
{
	struct toml *t = malloc(sizeof(*t)); /* 9 KiB: keep it off small stacks */
	struct where w = {.src = CONFIG_SRC_FILE, .path = f->path};
	int rc = 0;

	if (!t)
		return config_fail(f->err, f->errlen, &w, "out of memory");
	t->p = text;
	t->end = text + len;
	t->line = 1;
	for (;;) {
		char key[64];
		const char *ks, *why;
		struct cval v = {0};
		unsigned key_line;

		toml_skip_space(t);
		if (t->p >= t->end)
			break;
		w.line = key_line = t->line;
		if (*t->p == '[') {
			rc = config_fail(f->err, f->errlen, &w,
					 "tables are not supported (the file is flat)");
			break;
		}
		ks = t->p;
		while (t->p < t->end &&
		       (isalnum((unsigned char)*t->p) || *t->p == '_' || *t->p == '-'))
			t->p++;
		if (t->p == ks || (size_t)(t->p - ks) >= sizeof(key)) {
			rc = config_fail(f->err, f->errlen, &w, "expected a key");
			break;
		}
		memcpy(key, ks, (size_t)(t->p - ks));
		key[t->p - ks] = '\0';
		toml_skip_blank(t);
		if (t->p < t->end && *t->p == '.') {
			rc = config_fail(f->err, f->errlen, &w, "dotted keys are not supported");
			break;
		}
		if (t->p >= t->end || *t->p != '=') {
			rc = config_fail(f->err, f->errlen, &w, "expected '=' after %s", key);
			break;
		}
		t->p++;
		toml_skip_blank(t);
		t->used = 0;
		why = toml_value(t, &v);
		if (!why) {
			toml_skip_blank(t);
			toml_skip_comment(t);
			if (t->p < t->end && *t->p == '\r')
				t->p++;
			if (t->p < t->end && *t->p != '\n')
				why = "unexpected text after the value";
		}
		if (why) {
			w.line = t->line;
			rc = config_fail(f->err, f->errlen, &w, "%s: %s", key, why);
			break;
		}
		rc = file_apply(f, key, key_line, &v);
		if (rc)
			break;
	}
	free(t);
	return rc;
}

int config_apply_file(struct glued_config *c, const char *text, size_t len, enum config_format fmt,
		      const char *path, char *err, size_t errlen)
{
	struct file_ctx f = {
	    .c = c, .path = path ? path : "config file", .err = err, .errlen = errlen};
	int rc;

	if (fmt == CONFIG_FMT_UNKNOWN) {
		/* No telling extension: a JSON file is an object. */
		size_t i = 0;
		while (i < len && isspace((unsigned char)text[i]))
			i++;
		fmt = i < len && text[i] == '{' ? CONFIG_FMT_JSON : CONFIG_FMT_TOML;
	}
	if (memchr(text, '\0', len)) {
		struct where w = {.src = CONFIG_SRC_FILE, .path = f.path};
		return config_fail(err, errlen, &w, "file contains a NUL byte");
	}
	rc = fmt == CONFIG_FMT_JSON ? apply_json(&f, text, len) : apply_toml(&f, text, len);
	config_derive(c);
	return rc;
}

enum config_format config_format_from_path(const char *path)
{
	size_t n = strlen(path);

	if (n >= 5 && !strcasecmp(path + n - 5, ".json"))
		return CONFIG_FMT_JSON;
	if (n >= 5 && !strcasecmp(path + n - 5, ".toml"))
		return CONFIG_FMT_TOML;
	return CONFIG_FMT_UNKNOWN;
}
