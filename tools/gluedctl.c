/* gluedctl: the command-line client of glued's control API.
 *
 * It asks the daemon over its unix socket (libcurl, HTTP, JSON bodies; see
 * userspace/io/ctl.h for the endpoints) and prints either aligned tables
 * for people or, with --json, the document itself for scripts. It never
 * changes the daemon: every request is a GET. Exit status: 0 success, 1
 * the daemon is not running or answered an error, 2 usage.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/glued/glued.sock"
#define TIMEOUT_S 10

static const char *g_socket;
static bool g_json;

static void usage(FILE *f)
{
	fprintf(f, "usage: gluedctl [--socket PATH] [--json] COMMAND\n\n"
		   "Ask a running glued what it knows.\n\n"
		   "commands:\n"
		   "  status        version, node, uptime, Docker, fast path, upstreams, RRL\n"
		   "  names         every record: name, addresses, node, owner, age\n"
		   "  peers         cluster members: state, incarnation, address, last contact\n"
		   "  stats         every counter\n"
		   "  lookup NAME   how NAME would be answered, and by which path\n"
		   "  version       gluedctl's and the daemon's version\n\n"
		   "options:\n"
		   "  -s, --socket PATH  control socket (default $GLUED_CTL_SOCKET or %s)\n"
		   "  -j, --json         print the JSON document (for scripts and jq)\n"
		   "  -h, --help         this text\n",
		   DEFAULT_SOCKET);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("gluedctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* --- HTTP over the unix socket ------------------------------------------------------ */

struct buf {
	char *p;
	size_t len;
};

static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;
	char *p = realloc(b->p, b->len + size * n + 1);

	if (!p)
		return 0;
	memcpy(p + b->len, data, size * n);
	b->p = p;
	b->len += size * n;
	p[b->len] = '\0';
	return size * n;
}

/* Why connecting failed, in the words an operator needs. */
static void explain_connect(long os_errno)
{
	struct stat st;

	if (stat(g_socket, &st) < 0 && errno == ENOENT)
		die("glued is not running (no socket at %s)", g_socket);
	if (os_errno == EACCES || os_errno == EPERM)
		die("%s: permission denied (run as root or as a member of the socket's group)",
		    g_socket);
	if (os_errno == ECONNREFUSED)
		die("glued is not running (nothing listens on %s)", g_socket);
	die("cannot reach glued at %s: %s", g_socket, strerror((int)os_errno));
}

/* GET path; returns the parsed body (an object) and the HTTP status. Soft
 * mode returns NULL instead of exiting when the daemon is not there. */
static json_t *get(const char *path, long *status, bool soft)
{
	struct buf b = { 0 };
	char url[512], errbuf[CURL_ERROR_SIZE] = "";
	json_error_t jerr;
	CURL *c = curl_easy_init();
	CURLcode rc;
	long os_errno = 0;
	json_t *doc;

	if (!c)
		die("out of memory");
	snprintf(url, sizeof(url), "http://glued%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, g_socket);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	if (rc == CURLE_COULDNT_CONNECT) {
		free(b.p);
		if (soft && access(g_socket, F_OK) < 0)
			return NULL;
		explain_connect(os_errno);
	}
	if (rc != CURLE_OK)
		die("%s: %s", g_socket, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	doc = json_loadb(b.p ? b.p : "", b.len, 0, &jerr);
	if (!doc || !json_is_object(doc))
		die("%s: the reply to %s is not a JSON object (%s)", g_socket, path, jerr.text);
	free(b.p);
	return doc;
}

/* GET a document that must come back 200. */
static json_t *get_ok(const char *path)
{
	long status = 0;
	json_t *doc = get(path, &status, false);

	if (status != 200) {
		const char *e = json_string_value(json_object_get(doc, "error"));
		die("%s: HTTP %ld: %s", path, status, e ? e : "error");
	}
	return doc;
}

static void print_json(json_t *doc)
{
	json_dumpf(doc, stdout, JSON_INDENT(2));
	putchar('\n');
}

/* --- tables ------------------------------------------------------------------------------ */

#define COLS_MAX 8

struct table {
	size_t ncols, nrows, cap;
	char **cells; /* nrows * ncols, malloc'ed strings */
};

static void row_add(struct table *t, ...)
{
	va_list ap;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = realloc(t->cells, t->cap * t->ncols * sizeof(char *));
		if (!t->cells)
			die("out of memory");
	}
	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);
		t->cells[t->nrows * t->ncols + i] = strdup(s ? s : "-");
	}
	va_end(ap);
	t->nrows++;
}

static void table_print(struct table *t)
{
	size_t w[COLS_MAX] = { 0 };

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t l = strlen(t->cells[r * t->ncols + c]);
			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			if (c + 1 == t->ncols)
				printf("%s\n", s);
			else
				printf("%-*s  ", (int)w[c], s);
			free((char *)s);
		}
	}
	free(t->cells);
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static long long num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void fmt_age(char *buf, size_t len, long long ms)
{
	long long s = ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

/* "a, b, c" of a JSON array of strings. */
static void join(char *buf, size_t len, json_t *arr)
{
	size_t i, o = 0;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(arr, i, v)
	{
		int n = snprintf(buf + o, len - o, "%s%s", i ? "," : "", json_string_value(v));
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
	if (!o)
		snprintf(buf, len, "-");
}

/* --- commands ------------------------------------------------------------------------------ */

/* "100/s per /24 and /56, slip 2, 2 exempt prefixes + watched subnets:
 * 300 limited (100 slipped, 200 dropped), 0 evicted; kernel: 290 passed up"
 * (docs/operations.md, "Response rate limiting"). No "rrl" object: an
 * older glued. */
static void rrl_row(struct table *t, json_t *r)
{
	char line[512], k[64] = "";

	if (!json_is_object(r))
		return;
	if (!num(r, "rate")) {
		row_add(t, "rrl", "off (GLUED_RRL_RATE=0)");
		return;
	}
	if (json_is_integer(json_object_get(r, "kernel_rate_limited")))
		snprintf(k, sizeof(k), "; kernel: %lld passed up", num(r, "kernel_rate_limited"));
	snprintf(line, sizeof(line),
		 "%lld/s per /%lld and /%lld, slip %lld, %lld exempt prefix%s + watched subnets: "
		 "%lld limited (%lld slipped, %lld dropped), %lld evicted%s",
		 num(r, "rate"), num(r, "prefix4"), num(r, "prefix6"), num(r, "slip"),
		 num(r, "exempt"), num(r, "exempt") == 1 ? "" : "es",
		 num(r, "slipped") + num(r, "dropped"), num(r, "slipped"), num(r, "dropped"),
		 num(r, "evicted"), k);
	row_add(t, "rrl", line);
}

static int cmd_status(void)
{
	json_t *d = get_ok("/v1/status"), *dk, *net, *fp, *v, *cl;
	struct table t = { .ncols = 2 };
	char line[1024], a[512], b[256];
	size_t i, o;

	if (g_json) {
		print_json(d);
		return 0;
	}
	snprintf(line, sizeof(line), "%s (%s)", str(d, "version"), str(d, "git_rev"));
	row_add(&t, "glued", line);
	fmt_age(a, sizeof(a), num(d, "uptime_s") * 1000);
	snprintf(line, sizeof(line), "%s (since %s), pid %lld", a, str(d, "started_at"),
		 num(d, "pid"));
	row_add(&t, "uptime", line);
	row_add(&t, "node", str(d, "node_id") ? str(d, "node_id") : "- (no cluster)");
	snprintf(line, sizeof(line), "%s (%s receive)", str(d, "dns_bind"),
		 str(d, "dns_receive") ? str(d, "dns_receive") : "?");
	row_add(&t, "dns", line);

	dk = json_object_get(d, "docker");
	net = json_object_get(dk, "network");
	if (json_is_true(json_object_get(dk, "connected")))
		snprintf(line, sizeof(line), "connected to %s (API %s), %lld containers published, "
					     "%lld events, %lld reconnects",
			 str(dk, "socket"), str(dk, "api") ? str(dk, "api") : "?",
			 num(dk, "containers"), num(dk, "events"), num(dk, "reconnects"));
	else
		snprintf(line, sizeof(line), "NOT connected to %s: %s (%lld reconnects)",
			 str(dk, "socket"), str(dk, "reason") ? str(dk, "reason") : "",
			 num(dk, "reconnects"));
	row_add(&t, "docker", line);
	join(a, sizeof(a), json_object_get(net, "subnets"));
	snprintf(line, sizeof(line), "%s: %s, bridge %s, subnets %s", str(net, "name"),
		 str(net, "id") ? "present" : "not found", str(net, "bridge") ? str(net, "bridge") : "-",
		 a);
	row_add(&t, "network", line);

	fp = json_object_get(d, "fastpath");
	o = 0;
	a[0] = '\0';
	json_array_foreach(json_object_get(fp, "attach"), i, v)
	{
		int n = snprintf(a + o, sizeof(a) - o, "%s%s on %s (%s%s)", i ? ", " : "",
				 str(v, "hook"), str(v, "ifname"), str(v, "mode"),
				 json_is_true(json_object_get(v, "adopted")) ? ", adopted" : "");
		if (n < 0 || (size_t)n >= sizeof(a) - o)
			break;
		o += (size_t)n;
	}
	snprintf(line, sizeof(line), "%s%s%s", str(fp, "state"), o ? "; attached: " : "", a);
	row_add(&t, "fast path", line);

	/* "on: 3 served in-container, 1 fell back (localnet_reset 1)" */
	v = json_object_get(fp, "containers");
	o = 0;
	a[0] = '\0';
	{
		const char *k;
		json_t *n;

		json_object_foreach(json_object_get(v, "fallback_by"), k, n)
		{
			int w;

			if (!json_integer_value(n))
				continue;
			w = snprintf(a + o, sizeof(a) - o, "%s%s %lld", o ? ", " : "", k,
				     (long long)json_integer_value(n));
			if (w < 0 || (size_t)w >= sizeof(a) - o)
				break;
			o += (size_t)w;
		}
	}
	snprintf(line, sizeof(line),
		 "%s: %lld served in-container, %lld fell back to Docker's resolver%s%s%s",
		 str(v, "state") ? str(v, "state") : "?", num(v, "served"), num(v, "fallback"),
		 o ? " (" : "", a, o ? ")" : "");
	row_add(&t, "containers", line);

	o = 0;
	a[0] = '\0';
	json_array_foreach(json_object_get(d, "upstreams"), i, v)
	{
		int n = snprintf(a + o, sizeof(a) - o, "%s%s (%s%s%s)", i ? ", " : "",
				 str(v, "address"), str(v, "state"),
				 str(v, "reason") && *str(v, "reason") ? ": " : "", str(v, "reason"));
		if (n < 0 || (size_t)n >= sizeof(a) - o)
			break;
		o += (size_t)n;
	}
	snprintf(line, sizeof(line), "%s from %s", o ? a : "none", str(d, "upstreams_from"));
	row_add(&t, "upstreams", line);

	rrl_row(&t, json_object_get(d, "rrl"));

	v = json_object_get(d, "table");
	snprintf(line, sizeof(line), "%lld entries, %lld names, %lld records", num(v, "entries"),
		 num(v, "names"), num(v, "records"));
	row_add(&t, "table", line);
	cl = json_object_get(d, "cluster");
	if (json_is_object(cl))
		snprintf(b, sizeof(b), "%lld members, %lld alive", num(cl, "members"), num(cl, "alive"));
	else
		snprintf(b, sizeof(b), "none (this glued runs alone)");
	row_add(&t, "cluster", b);
	if (json_is_object(cl) && str(cl, "secret")) {
		snprintf(line, sizeof(line), "%s%s (%lld key%s): %s", str(cl, "secret"),
			 strcmp(str(cl, "secret"), "default") == 0 ? " (INSECURE)" : "",
			 num(cl, "secrets"), num(cl, "secrets") == 1 ? "" : "s", str(cl, "scope"));
		row_add(&t, "secret", line);
	}
	row_add(&t, "control", str(d, "ctl_socket"));
	table_print(&t);
	json_decref(d);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(str(x, "name"), str(y, "name"));

	return c ? c : strcmp(str(x, "owner"), str(y, "owner"));
}

/* glued escapes names and owners already (\DDD); whatever a daemon sends,
 * the terminal gets printable ASCII only: a byte outside 0x20..0x7e
 * becomes \DDD here too. NULL stays NULL. */
static const char *printable(const char *s, char *buf, size_t cap)
{
	size_t o = 0;

	if (!s)
		return NULL;
	for (; *s && o + 5 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c <= 0x7e)
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, cap - o, "\\%03u", c);
	}
	buf[o] = '\0';
	return buf;
}

static int cmd_names(void)
{
	json_t *d = get_ok("/v1/names"), *list = json_object_get(d, "names"), **rows;
	struct table t = { .ncols = 5 };
	size_t n = json_array_size(list);
	char addrs[512], age[32], node[24], owner[40], name[256], ownbuf[40];

	if (g_json) {
		print_json(d);
		return 0;
	}
	if (n == 0) {
		printf("no names (no container on the watched network, no hosts file, no peers)\n");
		json_decref(d);
		return 0;
	}
	rows = calloc(n, sizeof(*rows));
	if (!rows)
		die("out of memory");
	for (size_t i = 0; i < n; i++)
		rows[i] = json_array_get(list, i);
	qsort(rows, n, sizeof(*rows), cmp_name);
	row_add(&t, "NAME", "ADDRESSES", "NODE", "OWNER", "AGE");
	for (size_t i = 0; i < n; i++) {
		const char *nd = str(rows[i], "node");
		join(addrs, sizeof(addrs), json_object_get(rows[i], "addresses"));
		fmt_age(age, sizeof(age), num(rows[i], "age_ms"));
		snprintf(node, sizeof(node), "%.16s", nd ? printable(nd, ownbuf, sizeof(ownbuf)) : "?");
		snprintf(owner, sizeof(owner), "%s",
			 printable(str(rows[i], "container") ? str(rows[i], "container")
							     : str(rows[i], "owner"),
				   ownbuf, sizeof(ownbuf)));
		row_add(&t, printable(str(rows[i], "name"), name, sizeof(name)), addrs, node, owner,
			age);
	}
	table_print(&t);
	free(rows);
	json_decref(d);
	return 0;
}

static int cmd_peers(void)
{
	json_t *d = get_ok("/v1/peers"), *list = json_object_get(d, "peers"), *v;
	struct table t = { .ncols = 6 };
	char inc[24], last[32], node[80];
	size_t i;

	if (g_json) {
		print_json(d);
		return 0;
	}
	if (!json_is_true(json_object_get(d, "cluster"))) {
		printf("no peers: this glued runs without a cluster (gossip is not part of it)\n");
		json_decref(d);
		return 0;
	}
	row_add(&t, "NODE", "STATE", "INCARNATION", "ADDRESS", "LAST CONTACT", "");
	json_array_foreach(list, i, v)
	{
		json_t *lc = json_object_get(v, "last_contact_ms");
		snprintf(inc, sizeof(inc), "%lld", num(v, "incarnation"));
		if (json_is_true(json_object_get(v, "self"))) {
			snprintf(last, sizeof(last), "-");
		} else if (json_is_integer(lc)) {
			fmt_age(last, sizeof(last), json_integer_value(lc));
			strncat(last, " ago", sizeof(last) - strlen(last) - 1);
		} else {
			snprintf(last, sizeof(last), "never");
		}
		snprintf(node, sizeof(node), "%.16s", str(v, "node_id"));
		row_add(&t, node, str(v, "state"), inc, str(v, "address"), last,
			json_is_true(json_object_get(v, "self")) ? "(self)" : "");
	}
	table_print(&t);
	json_decref(d);
	return 0;
}

/* Flatten a stats document into "section.key  value" rows. */
static void flatten(struct table *t, const char *prefix, json_t *v)
{
	char key[256], val[64];
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, k, x)
		{
			snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", k);
			flatten(t, key, x);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
		{
			json_t *le = json_object_get(x, "le_us");
			if (le && json_is_integer(le))
				snprintf(key, sizeof(key), "%s[<=%lldus]", prefix, json_integer_value(le));
			else if (le)
				snprintf(key, sizeof(key), "%s[%s]", prefix, json_string_value(le));
			else
				snprintf(key, sizeof(key), "%s[%zu]", prefix, i);
			flatten(t, key, le ? json_object_get(x, "count") : x);
		}
	} else if (json_is_null(v)) {
		row_add(t, prefix, "- (part not running)");
	} else if (json_is_boolean(v)) {
		row_add(t, prefix, json_is_true(v) ? "yes" : "no");
	} else if (json_is_integer(v)) {
		snprintf(val, sizeof(val), "%lld", json_integer_value(v));
		row_add(t, prefix, val);
	} else {
		row_add(t, prefix, json_string_value(v));
	}
}

static int cmd_stats(void)
{
	json_t *d = get_ok("/v1/stats");
	struct table t = { .ncols = 2 };

	if (g_json) {
		print_json(d);
		return 0;
	}
	flatten(&t, "", d);
	table_print(&t);
	json_decref(d);
	return 0;
}

static int cmd_lookup(const char *name)
{
	char path[600], esc[400], addrs[512];
	json_t *d, *v;
	long status = 0;
	struct table t = { .ncols = 5 };
	size_t i;
	CURL *c = curl_easy_init();
	char *e = c ? curl_easy_escape(c, name, 0) : NULL;

	if (!e)
		die("out of memory");
	snprintf(esc, sizeof(esc), "%s", e);
	curl_free(e);
	curl_easy_cleanup(c);
	snprintf(path, sizeof(path), "/v1/lookup?name=%s", esc);
	d = get(path, &status, false);
	if (g_json) {
		print_json(d);
		return status == 200 ? 0 : 1;
	}
	if (status != 200)
		die("lookup %s: %s", name, str(d, "error") ? str(d, "error") : "error");
	printf("%s: %s name, %s\n", str(d, "name"), str(d, "kind"),
	       json_is_true(json_object_get(d, "in_table")) ? "in the table"
	       : json_object_get(d, "in_table")	     ? "not in the table"
							     : "not a table name (forwarded upstream)");
	row_add(&t, "TYPE", "RESULT", "RCODE", "PATH", "ADDRESSES");
	json_array_foreach(json_object_get(d, "answers"), i, v)
	{
		join(addrs, sizeof(addrs), json_object_get(v, "addresses"));
		row_add(&t, str(v, "type"), str(v, "result"), str(v, "rcode"), str(v, "path"),
			addrs);
	}
	table_print(&t);
	json_array_foreach(json_object_get(d, "records"), i, v)
	{
		const char *nd = str(v, "node");
		printf("record: node %.16s, owner %s\n", nd ? nd : "?", str(v, "owner"));
	}
	printf("kernel map: %s\n", str(d, "kernel_map"));
	json_decref(d);
	return 0;
}

static int cmd_version(void)
{
	long status = 0;
	json_t *d = get("/v1/status", &status, true);

	if (g_json) {
		json_t *o = json_object();
		json_object_set_new(o, "gluedctl", json_string(GLUED_VERSION));
		json_object_set_new(o, "gluedctl_git_rev", json_string(GLUED_GIT_REV));
		json_object_set_new(o, "glued", d ? json_incref(json_object_get(d, "version"))
						  : json_null());
		json_object_set_new(o, "glued_git_rev",
				    d ? json_incref(json_object_get(d, "git_rev")) : json_null());
		print_json(o);
		json_decref(o);
	} else {
		printf("gluedctl %s (%s)\n", GLUED_VERSION, GLUED_GIT_REV);
		if (d)
			printf("glued    %s (%s)\n", str(d, "version"), str(d, "git_rev"));
		else
			printf("glued    not running (no socket at %s)\n", g_socket);
	}
	json_decref(d);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd;
	int c, ret;

	g_socket = getenv("GLUED_CTL_SOCKET");
	if (!g_socket || !*g_socket)
		g_socket = DEFAULT_SOCKET;
	while ((c = getopt_long(argc, argv, "+s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			g_socket = optarg;
			break;
		case 'j':
			g_json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	/* Options after the command too: "gluedctl names --json". */
	for (int i = optind; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
			g_json = true;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i - 1) * sizeof(*argv));
			argc--;
			i--;
		}
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("libcurl init failed");
	if (strcmp(cmd, "status") == 0 && optind == argc)
		ret = cmd_status();
	else if (strcmp(cmd, "names") == 0 && optind == argc)
		ret = cmd_names();
	else if (strcmp(cmd, "peers") == 0 && optind == argc)
		ret = cmd_peers();
	else if (strcmp(cmd, "stats") == 0 && optind == argc)
		ret = cmd_stats();
	else if (strcmp(cmd, "lookup") == 0 && optind + 1 == argc)
		ret = cmd_lookup(argv[optind]);
	else if (strcmp(cmd, "version") == 0 && optind == argc)
		ret = cmd_version();
	else {
		fprintf(stderr, "gluedctl: unknown command or wrong arguments: %s\n", cmd);
		usage(stderr);
		ret = 2;
	}
	curl_global_cleanup();
	return ret;
}
