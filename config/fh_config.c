/* SPDX-License-Identifier: MIT */
/* fh_config.c: YAML (libyaml document API) to struct fh_config, with units, defaults and validation. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <yaml.h>

#include "fh_common.h"
#include "fh_config.h"
#include "fh_config_pvt.h"
#include "fh_engine.h"

#define FH_CFG_MAX_FILE_BYTES (4u << 20) /* a config larger than this is refused */


/* Parser state: the document, where we are in it (key path) and where errors go. */
struct p {
	yaml_document_t doc;
	const char *file;
	char *err;
	size_t errlen;
	unsigned flags;
	struct fh_config *cfg;
	char path[512];
	size_t plen;
	char sbuf[2048]; /* the current scalar after ${VAR} expansion */
	/* rx_core as written (-1 when defaulted), to assign defaults after cores. */
	bool rx_core_set[FH_CFG_MAX_SOURCES];
	const yaml_node_t *root_map; /* the only mapping where x-... keys are allowed */
};

#define TRY(x)                         \
	do {                           \
		int _rc = (x);         \
		if (_rc)               \
			return _rc;    \
	} while (0)

/* ---------- key paths and messages ---------- */

static size_t push_key(struct p *p, const char *k)
{
	size_t old = p->plen;
	int n = snprintf(p->path + old, sizeof(p->path) - old, old ? ".%s" : "%s", k);
	if (n > 0)
		p->plen = old + (size_t)n < sizeof(p->path) ? old + (size_t)n : sizeof(p->path) - 1;
	return old;
}

static size_t push_quoted(struct p *p, const char *k)
{
	size_t old = p->plen;
	int n = snprintf(p->path + old, sizeof(p->path) - old, "[\"%s\"]", k);
	if (n > 0)
		p->plen = old + (size_t)n < sizeof(p->path) ? old + (size_t)n : sizeof(p->path) - 1;
	return old;
}

static size_t push_idx(struct p *p, unsigned i)
{
	size_t old = p->plen;
	int n = snprintf(p->path + old, sizeof(p->path) - old, "[%u]", i);
	if (n > 0)
		p->plen = old + (size_t)n < sizeof(p->path) ? old + (size_t)n : sizeof(p->path) - 1;
	return old;
}

static void pop(struct p *p, size_t old)
{
	p->plen = old;
	p->path[old] = '\0';
}

static void set_path(struct p *p, const char *path)
{
	snprintf(p->path, sizeof(p->path), "%s", path);
	p->plen = strlen(p->path);
}

static void __attribute__((format(printf, 3, 0)))
vfail_mark(struct p *p, const yaml_mark_t *m, const char *fmt, va_list ap)
{
	size_t n = 0;
	int w;

	if (!p->errlen)
		return;
	if (m)
		w = snprintf(p->err, p->errlen, "%s:%zu:%zu: ", p->file, m->line + 1, m->column + 1);
	else
		w = snprintf(p->err, p->errlen, "%s: ", p->file);
	if (w > 0)
		n = (size_t)w < p->errlen ? (size_t)w : p->errlen - 1;
	if (p->plen && n < p->errlen) {
		w = snprintf(p->err + n, p->errlen - n, "%s: ", p->path);
		if (w > 0)
			n += (size_t)w < p->errlen - n ? (size_t)w : p->errlen - n - 1;
	}
	if (n < p->errlen)
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
}

/* Error at node n (its start); returns -EINVAL. */
static int __attribute__((format(printf, 3, 4))) fail(struct p *p, const yaml_node_t *n,
						      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_mark(p, n ? &n->start_mark : NULL, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The node's value for messages: "text" (truncated, escaped), a list, a mapping, nothing. */
static const char *got(const yaml_node_t *n, char *buf, size_t len)
{
	size_t o = 0, i;

	if (!n)
		return "nothing";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type != YAML_SCALAR_NODE)
		return "nothing";
	if (n->data.scalar.length == 0)
		return "nothing";
	buf[o++] = '"';
	for (i = 0; i < n->data.scalar.length && o + 8 < len; i++) {
		unsigned char c = n->data.scalar.value[i];
		if (i == 40) {
			o += (size_t)snprintf(buf + o, len - o, "...");
			break;
		}
		if (c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* "expected X, got Y" at node n. */
static int expected(struct p *p, const yaml_node_t *n, const char *what)
{
	char g[128];
	return fail(p, n, "expected %s, got %s", what, got(n, g, sizeof(g)));
}

/* ---------- document access ---------- */

static yaml_node_t *node(struct p *p, int id)
{
	return yaml_document_get_node(&p->doc, id);
}

static bool is_null(const yaml_node_t *n)
{
	const char *v;

	if (!n)
		return true;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

static bool key_is(const yaml_node_t *k, const char *name)
{
	return k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, name);
}

#define MERGE_DEPTH 4 /* nested YAML merge keys (<<: *anchor) followed */

static yaml_node_t *get_d(struct p *p, const yaml_node_t *map, const char *key, unsigned depth)
{
	yaml_node_pair_t *pr;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		if (key_is(node(p, pr->key), key)) {
			yaml_node_t *v = node(p, pr->value);
			return is_null(v) ? NULL : v;
		}
	}
	/* YAML merge keys: explicit keys win, then the merged mappings in order. */
	if (depth >= MERGE_DEPTH)
		return NULL;
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *v;
		if (!key_is(node(p, pr->key), "<<"))
			continue;
		v = node(p, pr->value);
		if (v && v->type == YAML_MAPPING_NODE)
			return get_d(p, v, key, depth + 1);
		if (v && v->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				yaml_node_t *r = get_d(p, node(p, *it), key, depth + 1);
				if (r)
					return r;
			}
		}
	}
	return NULL;
}

/* Value of `key` in map (or in what it merges with <<), NULL when absent or null. */
static yaml_node_t *get(struct p *p, const yaml_node_t *map, const char *key)
{
	return get_d(p, map, key, 0);
}

/* Optimal string alignment distance, for "did you mean". */
static unsigned edit_distance(const char *a, const char *b)
{
	unsigned d[33][33];
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (la > 32 || lb > 32)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			unsigned c = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			unsigned v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + c < v)
				v = d[i - 1][j - 1] + c;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* Closest of names to s when close enough to be a typo, else NULL. */
static const char *did_you_mean(const char *s, const char *const *names)
{
	const char *best = NULL;
	unsigned bd = 99, lim = strlen(s) <= 4 ? 1 : (strlen(s) <= 8 ? 2 : 3);

	for (; *names; names++) {
		unsigned d = edit_distance(s, *names);
		if (d < bd) {
			bd = d;
			best = *names;
		}
	}
	return bd <= lim ? best : NULL;
}

static void join_names(const char *const *names, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (; *names && o < len; names++) {
		int w = snprintf(buf + o, len - o, "%s%s", o ? ", " : "", *names);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

static int check_map_d(struct p *p, const yaml_node_t *n, const char *const *allowed,
		       unsigned depth);

/* The value of a merge key: a mapping or a list of mappings, each checked like n. */
static int check_merge(struct p *p, const yaml_node_t *v, const char *const *allowed,
		       unsigned depth)
{
	static const char what[] = "a mapping or a list of mappings (<<: *anchor)";

	if (depth >= MERGE_DEPTH)
		return fail(p, v, "merge keys nested deeper than %d", MERGE_DEPTH);
	if (v && v->type == YAML_MAPPING_NODE)
		return check_map_d(p, v, allowed, depth + 1);
	if (!v || v->type != YAML_SEQUENCE_NODE)
		return expected(p, v, what);
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *m = node(p, *it);
		if (!m || m->type != YAML_MAPPING_NODE)
			return expected(p, m, what);
		TRY(check_map_d(p, m, allowed, depth + 1));
	}
	return 0;
}

/* n must be a mapping whose keys are all in `allowed` and unique. */
static int check_map(struct p *p, const yaml_node_t *n, const char *const *allowed)
{
	return check_map_d(p, n, allowed, 0);
}

static int check_map_d(struct p *p, const yaml_node_t *n, const char *const *allowed,
		       unsigned depth)
{
	yaml_node_pair_t *pr, *q;
	char list[512];

	if (n->type != YAML_MAPPING_NODE) {
		join_names(allowed, list, sizeof(list));
		char what[600];
		snprintf(what, sizeof(what), "a mapping (keys: %s)", list);
		return expected(p, n, what);
	}
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(p, pr->key);
		const char *ks, *const *a;
		const char *mean;
		size_t o;

		if (!k || k->type != YAML_SCALAR_NODE)
			return fail(p, k, "keys must be plain strings, got %s",
				    k && k->type == YAML_SEQUENCE_NODE ? "a list" : "a mapping");
		ks = (const char *)k->data.scalar.value;
		for (q = n->data.mapping.pairs.start; q < pr; q++) {
			if (key_is(node(p, q->key), ks)) {
				o = push_key(p, ks);
				return fail(p, k, "duplicate key (first at line %zu)",
					    node(p, q->key)->start_mark.line + 1);
			}
		}
		/* Extension fields (as in compose files): a home for anchors, ignored. */
		if (p->root_map == n && !strncmp(ks, "x-", 2))
			continue;
		if (!strcmp(ks, "<<")) {
			o = push_key(p, ks);
			TRY(check_merge(p, node(p, pr->value), allowed, depth));
			pop(p, o);
			continue;
		}
		for (a = allowed; *a; a++)
			if (!strcmp(*a, ks))
				break;
		if (*a)
			continue;
		o = push_key(p, ks);
		(void)o;
		mean = did_you_mean(ks, allowed);
		if (mean)
			return fail(p, k, "unknown key (did you mean \"%s\"?)", mean);
		join_names(allowed, list, sizeof(list));
		return fail(p, k, "unknown key (expected one of: %s)", list);
	}
	return 0;
}

/* Follows a key path ("sources[1].lines.b.port") as far as the document has it. */
static yaml_node_t *resolve(struct p *p, const char *path)
{
	yaml_node_t *n = yaml_document_get_root_node(&p->doc);
	const char *s = path;
	char key[128];

	while (n && *s) {
		if (*s == '.') {
			s++;
			continue;
		}
		if (*s == '[') {
			char *end;
			unsigned long i = strtoul(s + 1, &end, 10);
			if (*end != ']' || n->type != YAML_SEQUENCE_NODE)
				break;
			if (n->data.sequence.items.start + i >= n->data.sequence.items.top)
				break;
			n = node(p, n->data.sequence.items.start[i]);
			s = end + 1;
			continue;
		}
		size_t l = strcspn(s, ".[");
		if (l >= sizeof(key))
			break;
		memcpy(key, s, l);
		key[l] = '\0';
		yaml_node_t *v = get(p, n, key);
		if (!v)
			break;
		n = v;
		s += l;
	}
	return n;
}

/* Cross-field error at a key path (the deepest node the document has on it). */
static int __attribute__((format(printf, 3, 4))) fail_at(struct p *p, const char *path,
							 const char *fmt, ...)
{
	yaml_node_t *n = resolve(p, path);
	va_list ap;

	set_path(p, path);
	va_start(ap, fmt);
	vfail_mark(p, n ? &n->start_mark : NULL, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---------- scalars ---------- */

/* Text of scalar n with ${VAR} / ${VAR:-default} expanded ($$ is $), into p->sbuf. */
static int scalar(struct p *p, const yaml_node_t *n, const char *what, const char **out)
{
	const char *v;
	size_t o = 0, cap = sizeof(p->sbuf);

	if (!n || n->type != YAML_SCALAR_NODE)
		return expected(p, n, what);
	v = (const char *)n->data.scalar.value;
	if (strlen(v) != n->data.scalar.length)
		return fail(p, n, "NUL byte in value");
	while (*v) {
		const char *add = v;
		size_t alen = 1;
		if (v[0] == '$' && v[1] == '$') {
			v += 2;
		} else if (v[0] == '$' && v[1] == '{') {
			const char *nm = v + 2, *e = nm, *def = NULL, *close;
			char name[128];
			size_t nl;
			while (isalnum((unsigned char)*e) || *e == '_')
				e++;
			nl = (size_t)(e - nm);
			if (e[0] == ':' && e[1] == '-')
				def = e + 2;
			close = strchr(e, '}');
			if (!nl || nl >= sizeof(name) || isdigit((unsigned char)*nm) || !close ||
			    (!def && e != close))
				return fail(p, n, "bad ${VAR} reference (expected ${NAME} or "
						  "${NAME:-default}), got %s",
					    got(n, name, sizeof(name)));
			memcpy(name, nm, nl);
			name[nl] = '\0';
			add = getenv(name);
			if (add && !*add && def)
				add = NULL;
			if (!add && def) {
				add = def;
				alen = (size_t)(close - def);
			} else if (!add) {
				return fail(p, n, "environment variable %s is not set (use ${%s:-default})",
					    name, name);
			} else {
				alen = strlen(add);
			}
			v = close + 1;
		} else {
			v++;
		}
		if (o + alen >= cap)
			return fail(p, n, "value too long after ${VAR} expansion (max %zu bytes)",
				    cap - 1);
		memcpy(p->sbuf + o, add, alen);
		o += alen;
	}
	p->sbuf[o] = '\0';
	*out = p->sbuf;
	return 0;
}

/* Decimal "123", "1_000", "1.5" into integer and fraction parts; returns the rest of s. */
static const char *parse_decimal(const char *s, uint64_t *ip, uint64_t *frac, unsigned *fdigits,
				 bool *ok)
{
	bool any = false;

	*ip = 0;
	*frac = 0;
	*fdigits = 0;
	*ok = false;
	for (; isdigit((unsigned char)*s) || (*s == '_' && any); s++) {
		if (*s == '_')
			continue;
		if (*ip > (UINT64_MAX - 9) / 10)
			return s;
		*ip = *ip * 10 + (uint64_t)(*s - '0');
		any = true;
	}
	if (*s == '.' && any && isdigit((unsigned char)s[1])) {
		for (s++; isdigit((unsigned char)*s); s++) {
			if (*fdigits < 9) {
				*frac = *frac * 10 + (uint64_t)(*s - '0');
				(*fdigits)++;
			}
		}
	}
	*ok = any;
	return s;
}

/* value * mult exactly (rounded down), false on overflow. */
static bool scale(uint64_t ip, uint64_t frac, unsigned fd, uint64_t mult, uint64_t *out)
{
	unsigned __int128 v = (unsigned __int128)ip * mult;
	unsigned __int128 f = (unsigned __int128)frac * mult;
	uint64_t pw = 1;

	while (fd--)
		pw *= 10;
	v += f / pw;
	if (v > UINT64_MAX)
		return false;
	*out = (uint64_t)v;
	return true;
}

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit size_units[] = {
	{ "B", 1 },	   { "K", KiB },	{ "KiB", KiB },	   { "KB", UINT64_C(1000) },
	{ "M", MiB },	   { "MiB", MiB },	{ "MB", UINT64_C(1000000) }, { "G", GiB },
	{ "GiB", GiB },	   { "GB", UINT64_C(1000000000) }, { "T", TiB }, { "TiB", TiB },
	{ "TB", UINT64_C(1000000000000) }, { "k", KiB }, { "kB", UINT64_C(1000) }, { "m", MiB },
	{ "g", GiB },	   { NULL, 0 },
};

static const struct unit dur_units[] = {
	{ "ns", 1 },	 { "us", NS_US }, { "\xc2\xb5s", NS_US }, { "ms", NS_MS },
	{ "s", NS_S },	 { "m", NS_M },	  { "min", NS_M },	  { "h", NS_H },
	{ NULL, 0 },
};

static const struct unit count_units[] = {
	{ "k", UINT64_C(1000) },	{ "K", UINT64_C(1000) }, { "M", UINT64_C(1000000) }, { "G", UINT64_C(1000000000) },
	{ "Ki", KiB },		{ "Mi", MiB },	  { "Gi", GiB },       { NULL, 0 },
};

enum numkind { NK_INT, NK_COUNT, NK_SIZE, NK_DUR };

/* Plain integer: decimal (with _), 0x hex, 0o octal. */
static bool parse_int(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;
	bool any = false;

	if (*s == '+')
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && s[1] == 'o') {
		base = 8;
		s += 2;
	}
	for (; *s; s++) {
		unsigned d;
		if (*s == '_' && any)
			continue;
		if (isdigit((unsigned char)*s))
			d = (unsigned)(*s - '0');
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
		else
			return false;
		if (d >= base || v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
		any = true;
	}
	*out = v;
	return any;
}

static bool parse_units(const char *s, const struct unit *units, uint64_t bare, uint64_t *out)
{
	uint64_t ip, frac, mult = 0;
	unsigned fd;
	bool ok;
	const char *rest = parse_decimal(s, &ip, &frac, &fd, &ok);

	if (!ok)
		return false;
	while (*rest == ' ')
		rest++;
	if (!*rest) {
		mult = bare;
	} else {
		for (const struct unit *u = units; u->name; u++)
			if (!strcmp(u->name, rest))
				mult = u->mult;
	}
	if (!mult)
		return false;
	return scale(ip, frac, fd, mult, out);
}

const char *fh_config_pvt_fmt_size(uint64_t v, char *buf, size_t len)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned i = 0;

	while (i < 4 && v && v % KiB == 0) {
		v /= KiB;
		i++;
	}
	snprintf(buf, len, "%" PRIu64 "%s", v, u[i]);
	return buf;
}

const char *fh_config_pvt_fmt_dur(uint64_t v, char *buf, size_t len)
{
	if (v && v % NS_H == 0)
		snprintf(buf, len, "%" PRIu64 "h", v / NS_H);
	else if (v && v % NS_M == 0)
		snprintf(buf, len, "%" PRIu64 "m", v / NS_M);
	else if (v && v % NS_S == 0)
		snprintf(buf, len, "%" PRIu64 "s", v / NS_S);
	else if (v && v % NS_MS == 0)
		snprintf(buf, len, "%" PRIu64 "ms", v / NS_MS);
	else if (v && v % NS_US == 0)
		snprintf(buf, len, "%" PRIu64 "us", v / NS_US);
	else
		snprintf(buf, len, "%" PRIu64 "ns", v);
	return buf;
}

/* Number of kind `k` in [lo, hi]; `bare` is the unit of a number without one (0: unit required). */
static int num(struct p *p, const yaml_node_t *n, enum numkind k, uint64_t bare, uint64_t lo,
	       uint64_t hi, uint64_t *out)
{
	char what[160], a[32], b[32];
	const char *s;
	uint64_t v = 0;
	bool ok;

	switch (k) {
	case NK_INT:
		snprintf(what, sizeof(what), "an integer %" PRIu64 "..%" PRIu64, lo, hi);
		break;
	case NK_COUNT:
		snprintf(what, sizeof(what), "a count %" PRIu64 "..%" PRIu64 " (e.g. 4096, 2M, 4Mi)",
			 lo, hi);
		break;
	case NK_SIZE:
		fh_config_pvt_fmt_size(lo, a, sizeof(a));
		fh_config_pvt_fmt_size(hi, b, sizeof(b));
		snprintf(what, sizeof(what), "a size %s..%s (e.g. 64MiB, 2G)", a, b);
		break;
	case NK_DUR:
		fh_config_pvt_fmt_dur(lo, a, sizeof(a));
		fh_config_pvt_fmt_dur(hi, b, sizeof(b));
		snprintf(what, sizeof(what), "a duration %s..%s%s", a, b,
			 bare ? " (e.g. 500ms, 5s, 1m)" : " with a unit (e.g. 500ms, 5s, 1m)");
		break;
	}
	TRY(scalar(p, n, what, &s));
	switch (k) {
	case NK_INT:
		ok = parse_int(s, &v);
		break;
	case NK_COUNT:
		ok = parse_int(s, &v) || parse_units(s, count_units, 1, &v);
		break;
	case NK_SIZE:
		ok = parse_units(s, size_units, bare, &v);
		break;
	default:
		ok = parse_units(s, dur_units, bare, &v);
		break;
	}
	if (!ok || v < lo || v > hi)
		return expected(p, n, what);
	*out = v;
	return 0;
}

#define OPT_NUM(map, key, kind, bare, lo, hi, dst)                                          \
	do {                                                                                \
		yaml_node_t *_n = get(p, (map), (key));                                     \
		if (_n) {                                                                   \
			uint64_t _v;                                                        \
			size_t _o = push_key(p, (key));                                     \
			TRY(num(p, _n, (kind), (bare), (lo), (hi), &_v));                   \
			pop(p, _o);                                                         \
			(dst) = (__typeof__(dst))_v;                                        \
		}                                                                           \
	} while (0)

static int boolean(struct p *p, const yaml_node_t *n, bool *out)
{
	static const char *const t[] = { "true", "yes", "on", NULL };
	static const char *const f[] = { "false", "no", "off", NULL };
	const char *s;

	TRY(scalar(p, n, "true or false", &s));
	for (int i = 0; t[i]; i++) {
		if (!strcasecmp(s, t[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, f[i])) {
			*out = false;
			return 0;
		}
	}
	return expected(p, n, "true or false");
}

static int opt_bool(struct p *p, const yaml_node_t *map, const char *key, bool *out)
{
	yaml_node_t *n = get(p, map, key);
	size_t o;

	if (!n)
		return 0;
	o = push_key(p, key);
	TRY(boolean(p, n, out));
	pop(p, o);
	return 0;
}

/* One of names[] (index + base into *out). */
static int enumv(struct p *p, const yaml_node_t *n, const char *const *names, int base, int *out)
{
	char list[256], what[300], g[128];
	const char *s, *mean;

	join_names(names, list, sizeof(list));
	snprintf(what, sizeof(what), "one of: %s", list);
	TRY(scalar(p, n, what, &s));
	for (int i = 0; names[i]; i++) {
		if (!strcmp(s, names[i])) {
			*out = base + i;
			return 0;
		}
	}
	mean = did_you_mean(s, names);
	if (mean)
		return fail(p, n, "expected one of: %s, got %s (did you mean \"%s\"?)", list,
			    got(n, g, sizeof(g)), mean);
	return expected(p, n, what);
}

#define OPT_ENUM(map, key, names, base, dst)                                                \
	do {                                                                                \
		yaml_node_t *_n = get(p, (map), (key));                                     \
		if (_n) {                                                                   \
			int _v;                                                             \
			size_t _o = push_key(p, (key));                                     \
			TRY(enumv(p, _n, (names), (base), &_v));                            \
			pop(p, _o);                                                         \
			(dst) = (__typeof__(dst))_v;                                        \
		}                                                                           \
	} while (0)

enum charset {
	CS_TEXT,   /* printable, no control characters */
	CS_NAME,   /* [A-Za-z0-9_.-] */
	CS_HOST,   /* host name or IP literal */
	CS_SYMBOL, /* printable, no spaces */
};

static bool in_charset(const char *s, enum charset cs)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			return false;
		switch (cs) {
		case CS_NAME:
			if (!isalnum(c) && c != '_' && c != '.' && c != '-')
				return false;
			break;
		case CS_HOST:
			if (!isalnum(c) && c != '.' && c != '-' && c != ':' && c != '_')
				return false;
			break;
		case CS_SYMBOL:
			if (c == ' ' || c >= 0x80)
				return false;
			break;
		case CS_TEXT:
			break;
		}
	}
	return true;
}

static const char *charset_what(enum charset cs)
{
	switch (cs) {
	case CS_NAME:
		return "name";
	case CS_HOST:
		return "host name or IP address";
	case CS_SYMBOL:
		return "symbol";
	default:
		return "string";
	}
}

/* Copy a string value of 1..cap-1 characters (0.. when allow_empty) in charset cs. */
static int str(struct p *p, const yaml_node_t *n, enum charset cs, bool allow_empty, char *dst,
	       size_t cap)
{
	char what[200];
	const char *s;
	size_t l;

	snprintf(what, sizeof(what), "a %s of %u..%zu characters%s", charset_what(cs),
		 allow_empty ? 0 : 1, cap - 1,
		 cs == CS_NAME ? " [A-Za-z0-9_.-]" : (cs == CS_SYMBOL ? " without spaces" : ""));
	TRY(scalar(p, n, what, &s));
	l = strlen(s);
	if ((!l && !allow_empty) || l >= cap || !in_charset(s, cs))
		return expected(p, n, what);
	memset(dst, 0, cap);
	memcpy(dst, s, l);
	return 0;
}

static int opt_str(struct p *p, const yaml_node_t *map, const char *key, enum charset cs,
		   bool allow_empty, char *dst, size_t cap)
{
	yaml_node_t *n = get(p, map, key);
	size_t o;

	if (!n) {
		/* An explicit empty value clears a default when empty is allowed. */
		if (allow_empty) {
			yaml_node_pair_t *pr;
			for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
			     pr++)
				if (key_is(node(p, pr->key), key))
					memset(dst, 0, cap);
		}
		return 0;
	}
	o = push_key(p, key);
	TRY(str(p, n, cs, allow_empty, dst, cap));
	pop(p, o);
	return 0;
}

static int dbl(struct p *p, const yaml_node_t *n, double lo, double hi, bool lo_open,
	       double *out)
{
	char what[128];
	const char *s;
	char *end;
	double v;

	snprintf(what, sizeof(what), "a number %s %g and <= %g", lo_open ? ">" : ">=", lo, hi);
	TRY(scalar(p, n, what, &s));
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v > hi || (lo_open ? v <= lo : v < lo))
		return expected(p, n, what);
	*out = v;
	return 0;
}

#define OPT_DBL(map, key, lo, hi, lo_open, dst)                                             \
	do {                                                                                \
		yaml_node_t *_n = get(p, (map), (key));                                     \
		if (_n) {                                                                   \
			size_t _o = push_key(p, (key));                                     \
			TRY(dbl(p, _n, (lo), (hi), (lo_open), &(dst)));                     \
			pop(p, _o);                                                         \
		}                                                                           \
	} while (0)

/* n must be a list of at most max items. */
static int seq(struct p *p, const yaml_node_t *n, unsigned max, const char *what, unsigned *count)
{
	size_t c;

	*count = 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return expected(p, n, what);
	c = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (c > max)
		return fail(p, n, "too many entries: %zu (at most %u)", c, max);
	*count = (unsigned)c;
	return 0;
}

static yaml_node_t *item(struct p *p, const yaml_node_t *n, unsigned i)
{
	return node(p, n->data.sequence.items.start[i]);
}

/* A required child: returns a "missing" error at the parent mapping when absent. */
static int required(struct p *p, const yaml_node_t *map, const char *key, const char *what,
		    yaml_node_t **out)
{
	size_t o;

	*out = get(p, map, key);
	if (*out)
		return 0;
	o = push_key(p, key);
	(void)o;
	return fail(p, map, "missing (%s)", what);
}

/* A key that must not be set in this context. */
static int forbid(struct p *p, const yaml_node_t *map, const char *key, const char *why)
{
	yaml_node_t *n = get(p, map, key);
	size_t o;

	if (!n)
		return 0;
	o = push_key(p, key);
	(void)o;
	return fail(p, n, "not allowed here: %s", why);
}

/* ---------- value types ---------- */

static int port_val(struct p *p, const yaml_node_t *n, uint16_t *out)
{
	uint64_t v;
	TRY(num(p, n, NK_INT, 1, 1, 65535, &v));
	*out = (uint16_t)v;
	return 0;
}

static int opt_port(struct p *p, const yaml_node_t *map, const char *key, uint16_t *out)
{
	yaml_node_t *n = get(p, map, key);
	size_t o;

	if (!n)
		return 0;
	o = push_key(p, key);
	TRY(port_val(p, n, out));
	pop(p, o);
	return 0;
}

static int mcast_group(struct p *p, const yaml_node_t *n, struct fh_cfg_line *l)
{
	static const char what[] = "an IPv4 multicast group 224.0.0.0..239.255.255.255";
	struct in_addr a;
	const char *s;

	TRY(scalar(p, n, what, &s));
	if (strlen(s) >= sizeof(l->group) || inet_pton(AF_INET, s, &a) != 1)
		return expected(p, n, what);
	if ((ntohl(a.s_addr) >> 28) != 0xe)
		return expected(p, n, what);
	memset(l->group, 0, sizeof(l->group));
	memcpy(l->group, s, strlen(s));
	l->group_addr = ntohl(a.s_addr);
	return 0;
}

static int opt_group(struct p *p, const yaml_node_t *map, struct fh_cfg_line *l)
{
	yaml_node_t *n = get(p, map, "group");
	size_t o;

	if (!n)
		return 0;
	o = push_key(p, "group");
	TRY(mcast_group(p, n, l));
	pop(p, o);
	return 0;
}

/* "host:port", "[v6]:port". */
static int host_port(struct p *p, const yaml_node_t *n, char *host, size_t hcap, uint16_t *port)
{
	static const char what[] = "host:port (e.g. 127.0.0.1:9100, [::1]:9100, kafka1:9093)";
	const char *s, *colon, *h;
	size_t hl;
	uint64_t v;

	TRY(scalar(p, n, what, &s));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return expected(p, n, what);
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return expected(p, n, what);
		h = s;
		hl = (size_t)(colon - s);
	}
	if (!hl || hl >= hcap || !parse_int(colon + 1, &v) || v < 1 || v > 65535)
		return expected(p, n, what);
	memset(host, 0, hcap);
	memcpy(host, h, hl);
	if (!in_charset(host, CS_HOST) && strcmp(host, "*"))
		return expected(p, n, what);
	*port = (uint16_t)v;
	return 0;
}

/* ---------- sections ---------- */

static const char *const protocol_names[] = { "itch50", "fix", NULL };
static const char *const transport_names[] = { "multicast", "pcap", "tcp", "kernel_udp", NULL };
static const char *const rule_names[] = { "price_spike",  "volume_surge",    "spike_surge",
					  "spread_widening", "price_gap", "circuit_breaker",
					  "crossed_book", "locked_book",     "stale_book",
					  NULL };
static const char *const family_names[] = { "book",   "trades", "bars",	     "alerts",
					    "status", "orders", "reference", NULL };
static const char *const severity_names[] = { "info", "warning", "critical", NULL };

static int parse_line(struct p *p, const yaml_node_t *m, struct fh_cfg_line *l)
{
	static const char *const keys[] = { "group", "port", "interface", NULL };

	TRY(check_map(p, m, keys));
	TRY(opt_group(p, m, l));
	TRY(opt_port(p, m, "port", &l->port));
	TRY(opt_str(p, m, "interface", CS_SYMBOL, false, l->interface, sizeof(l->interface)));
	l->set = true;
	return 0;
}

static int days_from_civil(int y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int)doe - 719468;
}

/* Venue midnight of y-m-d in time zone tz, in ns since the epoch. */
static int midnight_ns(const char *tz, int y, int mo, int d, uint64_t *out)
{
	char *old = getenv("TZ");
	char saved[256];
	bool had = old != NULL;
	struct tm tm = { 0 };
	time_t t;

	if (had)
		snprintf(saved, sizeof(saved), "%s", old);
	setenv("TZ", tz, 1);
	tzset();
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (had)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	if (t == (time_t)-1 || t < 0)
		return -EINVAL;
	*out = (uint64_t)t * NS_S;
	return 0;
}

static int parse_day(struct p *p, const yaml_node_t *src, struct fh_cfg_source *s)
{
	yaml_node_t *n = get(p, src, "day");
	static const char what[] = "a trading date YYYY-MM-DD (1970-01-02..2200-12-31)";
	const char *v;
	int y, mo, d, used = 0;
	char zpath[512];
	size_t o;

	if (!n)
		return 0;
	o = push_key(p, "day");
	TRY(scalar(p, n, what, &v));
	if (strlen(v) != 10 || sscanf(v, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10 ||
	    y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return expected(p, n, what);
	/* Reject 2026-02-30 and friends: the day must survive a round trip. */
	{
		int days = days_from_civil(y, (unsigned)mo, (unsigned)d);
		int nm = mo == 12 ? 1 : mo + 1, ny = mo == 12 ? y + 1 : y;
		if (days_from_civil(ny, (unsigned)nm, 1) <= days || days < 1)
			return expected(p, n, what);
	}
	memcpy(s->day, v, 10);
	s->day[10] = '\0';
	pop(p, o);

	n = get(p, src, "tz");
	o = push_key(p, "tz");
	if (!(p->flags & FH_CONFIG_F_NO_HOST_CHECKS) && !strchr(s->tz, '.')) {
		const char *dir = getenv("TZDIR");
		snprintf(zpath, sizeof(zpath), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo",
			 s->tz);
		if (access(zpath, R_OK) != 0)
			return n ? fail(p, n, "unknown time zone \"%s\" (no %s)", s->tz, zpath)
				 : fail(p, src, "unknown time zone \"%s\" (no %s)", s->tz, zpath);
	}
	if (midnight_ns(s->tz, y, mo, d, &s->midnight_utc_ns))
		return n ? fail(p, n, "cannot resolve midnight of %s in %s", s->day, s->tz)
			 : fail(p, src, "cannot resolve midnight of %s in %s", s->day, s->tz);
	pop(p, o);
	return 0;
}

static int parse_recovery(struct p *p, const yaml_node_t *m, struct fh_cfg_source *s)
{
	static const char *const keys[] = { "rerequest", "snapshot", "hold_packets", "hold_ms", NULL };
	static const char *const rk[] = { "host",	 "port",	    "timeout_ms", "retries",
					  "max_outstanding", "max_request", NULL };
	static const char *const sk[] = { "host", "port", "min_gap", NULL };
	yaml_node_t *n, *h;
	size_t o;

	TRY(check_map(p, m, keys));
	OPT_NUM(m, "hold_packets", NK_COUNT, 1, 64, 8192, s->recovery.hold_packets);
	OPT_NUM(m, "hold_ms", NK_DUR, NS_MS, 10 * NS_US, 10 * NS_S, s->recovery.hold_ns);
	n = get(p, m, "rerequest");
	if (n) {
		o = push_key(p, "rerequest");
		TRY(check_map(p, n, rk));
		TRY(required(p, n, "host", "the MoldUDP64 re-request server", &h));
		TRY(opt_str(p, n, "host", CS_HOST, false, s->recovery.rerequest.host,
			    sizeof(s->recovery.rerequest.host)));
		TRY(required(p, n, "port", "the re-request server's UDP port", &h));
		TRY(opt_port(p, n, "port", &s->recovery.rerequest.port));
		OPT_NUM(n, "timeout_ms", NK_DUR, NS_MS, NS_MS, 60 * NS_S,
			s->recovery.rerequest.timeout_ns);
		OPT_NUM(n, "retries", NK_INT, 1, 0, 100, s->recovery.rerequest.retries);
		OPT_NUM(n, "max_outstanding", NK_INT, 1, 1, 1024,
			s->recovery.rerequest.max_outstanding);
		OPT_NUM(n, "max_request", NK_INT, 1, 1, 65535, s->recovery.rerequest.max_request);
		s->recovery.rerequest.enabled = true;
		pop(p, o);
	}
	n = get(p, m, "snapshot");
	if (n) {
		o = push_key(p, "snapshot");
		TRY(check_map(p, n, sk));
		TRY(required(p, n, "host", "the snapshot (GLIMPSE) server", &h));
		TRY(opt_str(p, n, "host", CS_HOST, false, s->recovery.snapshot.host,
			    sizeof(s->recovery.snapshot.host)));
		TRY(required(p, n, "port", "the snapshot server's TCP port", &h));
		TRY(opt_port(p, n, "port", &s->recovery.snapshot.port));
		OPT_NUM(n, "min_gap", NK_COUNT, 1, 1, 1ull << 40, s->recovery.snapshot.min_gap);
		s->recovery.snapshot.enabled = true;
		pop(p, o);
	}
	return 0;
}

static int parse_fix(struct p *p, const yaml_node_t *m, struct fh_cfg_source *s, bool tcp)
{
	static const char *const keys[] = { "host",	     "port",	      "sender_comp_id",
					    "target_comp_id", "heartbeat_s", "subscriptions",
					    "seq_store",      NULL };
	yaml_node_t *n;
	size_t o;

	TRY(check_map(p, m, keys));
	if (tcp) {
		TRY(required(p, m, "host", "the FIX acceptor's host", &n));
		TRY(required(p, m, "port", "the FIX acceptor's TCP port", &n));
		TRY(required(p, m, "sender_comp_id", "our SenderCompID (49)", &n));
		TRY(required(p, m, "target_comp_id", "the venue's TargetCompID (56)", &n));
	}
	TRY(opt_str(p, m, "host", CS_HOST, false, s->fix.host, sizeof(s->fix.host)));
	TRY(opt_port(p, m, "port", &s->fix.port));
	TRY(opt_str(p, m, "sender_comp_id", CS_SYMBOL, false, s->fix.sender_comp_id,
		    sizeof(s->fix.sender_comp_id)));
	TRY(opt_str(p, m, "target_comp_id", CS_SYMBOL, false, s->fix.target_comp_id,
		    sizeof(s->fix.target_comp_id)));
	{
		uint64_t hb = (uint64_t)s->fix.heartbeat_s * NS_S;
		OPT_NUM(m, "heartbeat_s", NK_DUR, NS_S, NS_S, 3600 * NS_S, hb);
		s->fix.heartbeat_s = (uint32_t)(hb / NS_S);
	}
	TRY(opt_str(p, m, "seq_store", CS_TEXT, true, s->fix.seq_store, sizeof(s->fix.seq_store)));
	n = get(p, m, "subscriptions");
	if (n) {
		unsigned c;
		o = push_key(p, "subscriptions");
		TRY(seq(p, n, FH_CFG_MAX_SUBSCRIPTIONS, "a list of symbols", &c));
		for (unsigned i = 0; i < c; i++) {
			size_t o2 = push_idx(p, i);
			TRY(str(p, item(p, n, i), CS_TEXT, false, s->fix.subscriptions[i],
				FH_CFG_FIX_SYMBOL_LEN));
			for (unsigned j = 0; j < i; j++)
				if (!strcmp(s->fix.subscriptions[j], s->fix.subscriptions[i]))
					return fail(p, item(p, n, i),
						    "duplicate symbol \"%s\" (also at [%u])",
						    s->fix.subscriptions[i], j);
			pop(p, o2);
		}
		s->fix.n_subscriptions = c;
		pop(p, o);
	}
	return 0;
}

static int parse_pcap(struct p *p, const yaml_node_t *m, struct fh_cfg_source *s)
{
	static const char *const keys[] = { "file", "speed", "loop", NULL };
	static const char what[] = "recorded, max or a multiplier like 10x or 0.5x";
	yaml_node_t *n;

	TRY(check_map(p, m, keys));
	TRY(required(p, m, "file", "the capture to replay", &n));
	TRY(opt_str(p, m, "file", CS_TEXT, false, s->pcap.file, sizeof(s->pcap.file)));
	TRY(opt_bool(p, m, "loop", &s->pcap.loop));
	n = get(p, m, "speed");
	if (n) {
		const char *v;
		size_t o = push_key(p, "speed");
		TRY(scalar(p, n, what, &v));
		if (!strcmp(v, "recorded")) {
			s->pcap.speed = FH_CFG_SPEED_RECORDED;
			s->pcap.speed_mult = 1.0;
		} else if (!strcmp(v, "max")) {
			s->pcap.speed = FH_CFG_SPEED_MAX;
			s->pcap.speed_mult = 0;
		} else {
			char *end;
			double x = strtod(v, &end);
			if (end == v || (*end != 'x' && *end != 'X') || end[1] || !isfinite(x) ||
			    x < 0.001 || x > 100000)
				return expected(p, n, what);
			s->pcap.speed = FH_CFG_SPEED_MULT;
			s->pcap.speed_mult = x;
		}
		pop(p, o);
	}
	return 0;
}

static int parse_source(struct p *p, const yaml_node_t *m, unsigned idx)
{
	static const char *const keys[] = { "name",    "protocol", "transport", "group",
					    "port",    "interface", "lines",    "pcap",
					    "fix",     "session",  "day",	    "tz",
					    "rx_core", "recovery", NULL };
	static const char *const lk[] = { "a", "b", NULL };
	struct fh_cfg_source *s = &p->cfg->sources[idx];
	struct fh_cfg_line top = { 0 };
	yaml_node_t *n, *lines;
	int proto = 0, tr = 0;
	size_t o;

	TRY(check_map(p, m, keys));
	s->id = (uint16_t)idx;
	TRY(required(p, m, "name", "a unique source name", &n));
	TRY(opt_str(p, m, "name", CS_NAME, false, s->name, sizeof(s->name)));
	TRY(required(p, m, "protocol", "itch50 or fix", &n));
	OPT_ENUM(m, "protocol", protocol_names, 1, proto);
	TRY(required(p, m, "transport", "multicast, pcap, tcp or kernel_udp", &n));
	OPT_ENUM(m, "transport", transport_names, 1, tr);
	s->protocol = (uint8_t)proto;
	s->transport = (uint8_t)tr;
	snprintf(s->tz, sizeof(s->tz), "%s", proto == FH_CFG_PROTO_FIX ? "UTC" : "America/New_York");

	if (proto == FH_CFG_PROTO_ITCH50 && tr == FH_CFG_TR_TCP) {
		o = push_key(p, "transport");
		return fail(p, get(p, m, "transport"),
			    "itch50 sources take multicast, kernel_udp or pcap, got \"tcp\"");
	}
	if (proto == FH_CFG_PROTO_FIX && tr != FH_CFG_TR_TCP && tr != FH_CFG_TR_PCAP) {
		o = push_key(p, "transport");
		return fail(p, get(p, m, "transport"), "fix sources take tcp or pcap, got \"%s\"",
			    transport_names[tr - 1]);
	}

	/* Where packets come from. */
	TRY(opt_group(p, m, &top));
	TRY(opt_port(p, m, "port", &top.port));
	TRY(opt_str(p, m, "interface", CS_SYMBOL, false, top.interface, sizeof(top.interface)));
	lines = get(p, m, "lines");
	if (tr == FH_CFG_TR_TCP) {
		TRY(forbid(p, m, "group", "transport tcp takes fix.host and fix.port"));
		TRY(forbid(p, m, "port", "transport tcp takes fix.host and fix.port"));
		TRY(forbid(p, m, "interface", "transport tcp uses the kernel's routing"));
		TRY(forbid(p, m, "lines", "transport tcp has no A/B lines"));
	}
	if (tr == FH_CFG_TR_PCAP) {
		TRY(forbid(p, m, "interface", "a pcap source replays a file (pcap.file)"));
		TRY(required(p, m, "pcap", "pcap.file is required for transport pcap", &n));
	} else {
		TRY(forbid(p, m, "pcap", "only transport pcap replays a file"));
	}
	if (lines) {
		o = push_key(p, "lines");
		TRY(check_map(p, lines, lk));
		TRY(required(p, lines, "a", "the A line", &n));
		for (unsigned i = 0; i < 2; i++) {
			n = get(p, lines, lk[i]);
			if (!n)
				continue;
			size_t o2 = push_key(p, lk[i]);
			s->line[i] = top;
			TRY(parse_line(p, n, &s->line[i]));
			pop(p, o2);
		}
		s->n_lines = s->line[1].set ? 2 : 1;
		pop(p, o);
	} else {
		s->line[0] = top;
		s->line[0].set = true;
		s->n_lines = 1;
	}
	if (tr == FH_CFG_TR_MULTICAST || tr == FH_CFG_TR_KERNEL_UDP) {
		for (unsigned i = 0; i < s->n_lines; i++) {
			const char *lp = lines ? (i ? "lines.b" : "lines.a") : NULL;
			const yaml_node_t *at = lines ? get(p, lines, lk[i]) : m;
			o = lp ? push_key(p, lp) : p->plen;
			if (!s->line[i].group[0]) {
				push_key(p, "group");
				return fail(p, at, "missing (the line's multicast group)");
			}
			if (!s->line[i].port) {
				push_key(p, "port");
				return fail(p, at, "missing (the line's UDP port)");
			}
			if (tr == FH_CFG_TR_MULTICAST && !s->line[i].interface[0]) {
				push_key(p, "interface");
				return fail(p, at, "missing (a PCI address, a DPDK vdev name or a "
						   "Linux interface)");
			}
			pop(p, o);
		}
		if (s->n_lines == 2 && s->line[0].group_addr == s->line[1].group_addr &&
		    s->line[0].port == s->line[1].port &&
		    !strcmp(s->line[0].interface, s->line[1].interface)) {
			o = push_key(p, "lines.b");
			return fail(p, get(p, lines, "b"),
				    "the B line must differ from the A line (same group %s, port %u "
				    "and interface \"%s\")",
				    s->line[1].group, s->line[1].port, s->line[1].interface);
		}
	}

	n = get(p, m, "pcap");
	if (n) {
		o = push_key(p, "pcap");
		TRY(parse_pcap(p, n, s));
		pop(p, o);
	}
	n = get(p, m, "fix");
	if (proto == FH_CFG_PROTO_FIX) {
		if (tr == FH_CFG_TR_TCP)
			TRY(required(p, m, "fix", "the FIX session: host, port, comp ids", &n));
		if (n) {
			o = push_key(p, "fix");
			TRY(parse_fix(p, n, s, tr == FH_CFG_TR_TCP));
			pop(p, o);
		}
		TRY(forbid(p, m, "session", "MoldUDP64 sessions are for itch50 sources"));
		TRY(forbid(p, m, "recovery", "FIX recovers with ResendRequest in the session"));
	} else {
		TRY(forbid(p, m, "fix", "only fix sources take a fix section"));
		n = get(p, m, "session");
		if (n) {
			o = push_key(p, "session");
			TRY(str(p, n, CS_SYMBOL, false, s->session, sizeof(s->session)));
			pop(p, o);
		}
		n = get(p, m, "recovery");
		if (n) {
			o = push_key(p, "recovery");
			TRY(parse_recovery(p, n, s));
			pop(p, o);
		}
	}
	TRY(opt_str(p, m, "tz", CS_SYMBOL, false, s->tz, sizeof(s->tz)));
	if (strstr(s->tz, "..")) {
		o = push_key(p, "tz");
		return expected(p, get(p, m, "tz"), "a time zone name like America/New_York");
	}
	TRY(parse_day(p, m, s));
	n = get(p, m, "rx_core");
	if (n) {
		uint64_t v;
		o = push_key(p, "rx_core");
		TRY(num(p, n, NK_INT, 1, 0, FH_CFG_MAX_CPU - 1, &v));
		s->rx_core = (int)v;
		p->rx_core_set[idx] = true;
		pop(p, o);
	}
	return 0;
}

static int parse_sources(struct p *p, const yaml_node_t *root)
{
	yaml_node_t *n = get(p, root, "sources");
	unsigned c;
	size_t o;

	if (!n)
		return fail(p, root, "sources: missing (at least one source is required)");
	o = push_key(p, "sources");
	TRY(seq(p, n, FH_CFG_MAX_SOURCES, "a list of sources", &c));
	if (!c)
		return fail(p, n, "at least one source is required");
	for (unsigned i = 0; i < c; i++) {
		struct fh_cfg_source *s = &p->cfg->sources[i];
		size_t o2 = push_idx(p, i);
		s->pcap.speed = FH_CFG_SPEED_RECORDED;
		s->pcap.speed_mult = 1.0;
		s->fix.heartbeat_s = 30;
		s->recovery.hold_packets = 1024;
		s->recovery.snapshot.min_gap = 100000;
		s->recovery.hold_ns = NS_MS;
		s->recovery.rerequest.timeout_ns = 200 * NS_MS;
		s->recovery.rerequest.retries = 5;
		s->recovery.rerequest.max_outstanding = 4;
		s->recovery.rerequest.max_request = 1000;
		s->rx_core = -1;
		TRY(parse_source(p, item(p, n, i), i));
		pop(p, o2);
	}
	p->cfg->n_sources = c;
	pop(p, o);
	return 0;
}

static int cpu_id(struct p *p, const yaml_node_t *n, int *out)
{
	uint64_t v;
	TRY(num(p, n, NK_INT, 1, 0, FH_CFG_MAX_CPU - 1, &v));
	*out = (int)v;
	return 0;
}

static int parse_cores(struct p *p, const yaml_node_t *m)
{
	static const char *const keys[] = { "rx", "publisher", "control", "numa_node", NULL };
	struct fh_config *c = p->cfg;
	yaml_node_t *n;
	size_t o;

	TRY(check_map(p, m, keys));
	n = get(p, m, "rx");
	if (n) {
		unsigned k;
		o = push_key(p, "rx");
		TRY(seq(p, n, FH_CFG_MAX_RX_CORES, "a list of lcore ids (e.g. [2, 3])", &k));
		if (!k)
			return fail(p, n, "at least one RX core is required");
		for (unsigned i = 0; i < k; i++) {
			size_t o2 = push_idx(p, i);
			TRY(cpu_id(p, item(p, n, i), &c->cores.rx[i]));
			for (unsigned j = 0; j < i; j++)
				if (c->cores.rx[j] == c->cores.rx[i])
					return fail(p, item(p, n, i),
						    "core %d is listed twice (also cores.rx[%u])",
						    c->cores.rx[i], j);
			pop(p, o2);
		}
		c->cores.n_rx = k;
		pop(p, o);
	}
	n = get(p, m, "publisher");
	if (n) {
		o = push_key(p, "publisher");
		TRY(cpu_id(p, n, &c->cores.publisher));
		pop(p, o);
	}
	n = get(p, m, "control");
	if (n) {
		o = push_key(p, "control");
		if (n->type == YAML_SCALAR_NODE && !strcmp((const char *)n->data.scalar.value, "any")) {
			c->cores.control = -1;
		} else {
			uint64_t v;
			const char *s;
			TRY(scalar(p, n, "an lcore id or any", &s));
			if (!parse_int(s, &v) || v >= FH_CFG_MAX_CPU)
				return expected(p, n, "an lcore id 0..1023 or any");
			c->cores.control = (int)v;
		}
		pop(p, o);
	}
	n = get(p, m, "numa_node");
	if (n) {
		o = push_key(p, "numa_node");
		if (n->type == YAML_SCALAR_NODE && !strcmp((const char *)n->data.scalar.value, "auto")) {
			c->cores.numa_node = -1;
		} else {
			uint64_t v;
			const char *s;
			TRY(scalar(p, n, "a NUMA node 0..63 or auto", &s));
			if (!parse_int(s, &v) || v > 63)
				return expected(p, n, "a NUMA node 0..63 or auto");
			c->cores.numa_node = (int)v;
		}
		pop(p, o);
	}
	return 0;
}

static bool is_pci_addr(const char *s)
{
	unsigned d, b, dev, f;
	int n = 0;

	if (sscanf(s, "%4x:%2x:%2x.%1x%n", &d, &b, &dev, &f, &n) == 4 && (s[n] == 0 || s[n] == ','))
		return n == 12;
	if (sscanf(s, "%2x:%2x.%1x%n", &b, &dev, &f, &n) == 3 && (s[n] == 0 || s[n] == ','))
		return n == 7;
	return false;
}

static int str_list(struct p *p, const yaml_node_t *m, const char *key, unsigned max, size_t cap,
		    char *dst, unsigned *count, enum charset cs, const char *what)
{
	yaml_node_t *n = get(p, m, key);
	unsigned c;
	size_t o;

	if (!n)
		return 0;
	o = push_key(p, key);
	TRY(seq(p, n, max, what, &c));
	for (unsigned i = 0; i < c; i++) {
		size_t o2 = push_idx(p, i);
		TRY(str(p, item(p, n, i), cs, false, dst + (size_t)i * cap, cap));
		pop(p, o2);
	}
	*count = c;
	pop(p, o);
	return 0;
}

static int parse_eal(struct p *p, const yaml_node_t *m)
{
	static const char *const keys[] = { "no_huge", "no_pci",    "no_shconf", "in_memory",
					    "memory_mb", "file_prefix", "hugepages", "log_level",
					    "vdevs",   "pci",	    "args",	 NULL };
	static const char *const hk[] = { "dir", "size", NULL };
	struct fh_config *c = p->cfg;
	yaml_node_t *n;
	size_t o;

	TRY(check_map(p, m, keys));
	TRY(opt_bool(p, m, "no_huge", &c->eal.no_huge));
	TRY(opt_bool(p, m, "no_pci", &c->eal.no_pci));
	TRY(opt_bool(p, m, "no_shconf", &c->eal.no_shconf));
	TRY(opt_bool(p, m, "in_memory", &c->eal.in_memory));
	OPT_NUM(m, "memory_mb", NK_SIZE, MiB, 0, 16 * TiB, c->eal.memory_mb);
	c->eal.memory_mb /= MiB;
	TRY(opt_str(p, m, "file_prefix", CS_NAME, false, c->eal.file_prefix,
		    sizeof(c->eal.file_prefix)));
	TRY(opt_str(p, m, "log_level", CS_SYMBOL, false, c->eal.log_level, sizeof(c->eal.log_level)));
	n = get(p, m, "hugepages");
	if (n) {
		o = push_key(p, "hugepages");
		TRY(check_map(p, n, hk));
		if (c->eal.no_huge)
			return fail(p, n, "conflicts with eal.no_huge: true");
		TRY(opt_str(p, n, "dir", CS_TEXT, false, c->eal.huge_dir, sizeof(c->eal.huge_dir)));
		yaml_node_t *sz = get(p, n, "size");
		if (sz) {
			uint64_t v;
			size_t o2 = push_key(p, "size");
			TRY(num(p, sz, NK_SIZE, 1, 64 * KiB, 16 * GiB, &v));
			if (v & (v - 1))
				return expected(p, sz, "a power-of-two page size (e.g. 2M, 1G)");
			c->eal.hugepage_size = v;
			pop(p, o2);
		}
		pop(p, o);
	}
	TRY(str_list(p, m, "vdevs", FH_CFG_MAX_VDEVS, FH_CFG_ARG_LEN, c->eal.vdevs[0], &c->eal.n_vdevs,
		     CS_SYMBOL, "a list of DPDK vdev specs (e.g. net_pcap0,rx_pcap=x.pcap)"));
	for (unsigned i = 0; i < c->eal.n_vdevs; i++) {
		const char *v = c->eal.vdevs[i];
		size_t l = strcspn(v, ",");
		if (l < 1 || !isalpha((unsigned char)v[0])) {
			char path[64];
			snprintf(path, sizeof(path), "eal.vdevs[%u]", i);
			return fail_at(p, path, "expected a vdev spec NAME[,k=v...], got \"%s\"", v);
		}
		for (unsigned j = 0; j < i; j++) {
			if (strcspn(c->eal.vdevs[j], ",") == l && !strncmp(c->eal.vdevs[j], v, l)) {
				char path[64];
				snprintf(path, sizeof(path), "eal.vdevs[%u]", i);
				return fail_at(p, path, "duplicate vdev name \"%.*s\" (also eal.vdevs[%u])",
					       (int)l, v, j);
			}
		}
	}
	TRY(str_list(p, m, "pci", FH_CFG_MAX_PCI, 32, c->eal.pci[0], &c->eal.n_pci, CS_SYMBOL,
		     "a list of PCI addresses (e.g. 0000:3b:00.0)"));
	for (unsigned i = 0; i < c->eal.n_pci; i++) {
		char path[64];
		snprintf(path, sizeof(path), "eal.pci[%u]", i);
		if (!is_pci_addr(c->eal.pci[i]))
			return fail_at(p, path,
				       "expected a PCI address DDDD:BB:DD.F (e.g. 0000:3b:00.0), got \"%s\"",
				       c->eal.pci[i]);
		if (c->eal.no_pci)
			return fail_at(p, path, "conflicts with eal.no_pci: true");
	}
	TRY(str_list(p, m, "args", FH_CFG_MAX_EAL_ARGS, FH_CFG_ARG_LEN, c->eal.args[0], &c->eal.n_args,
		     CS_TEXT, "a list of extra EAL arguments"));
	for (unsigned i = 0; i < c->eal.n_args; i++) {
		static const char *const owned[] = { "-l", "-c", "--lcores", "--main-lcore",
						     "--master-lcore", NULL };
		for (const char *const *w = owned; *w; w++) {
			if (!strcmp(c->eal.args[i], *w) ||
			    (!strncmp(c->eal.args[i], *w, strlen(*w)) &&
			     c->eal.args[i][strlen(*w)] == '=')) {
				char path[64];
				snprintf(path, sizeof(path), "eal.args[%u]", i);
				return fail_at(p, path,
					       "\"%s\" is set from the cores section; remove it",
					       *w);
			}
		}
	}
	return 0;
}

static int parse_books(struct p *p, const yaml_node_t *m)
{
	static const char *const keys[] = { "depth",	  "max_orders",	    "max_instruments",
					    "max_levels", "crossed_policy", "snapshot_interval_ms",
					    NULL };
	static const char *const pol[] = { "flag", "abort", NULL };
	struct fh_config *c = p->cfg;

	TRY(check_map(p, m, keys));
	OPT_NUM(m, "depth", NK_INT, 1, 1, 1000, c->books.depth);
	OPT_NUM(m, "max_orders", NK_COUNT, 1, 1024, UINT32_MAX, c->books.max_orders);
	OPT_NUM(m, "max_instruments", NK_COUNT, 1, 1, 16 * MiB, c->books.max_instruments);
	OPT_NUM(m, "max_levels", NK_COUNT, 1, 1024, UINT32_MAX, c->books.max_levels);
	OPT_ENUM(m, "crossed_policy", pol, 1, c->books.crossed_policy);
	OPT_NUM(m, "snapshot_interval_ms", NK_DUR, NS_MS, 0, NS_H, c->books.snapshot_interval_ns);
	if (c->books.snapshot_interval_ns && c->books.snapshot_interval_ns < 10 * NS_MS)
		return fail_at(p, "books.snapshot_interval_ms",
			       "expected 0 (off) or a duration 10ms..1h, got %" PRIu64 "ns",
			       c->books.snapshot_interval_ns);
	return 0;
}

/* Which params each rule kind takes. */
static const char *const *rule_param_keys(int kind)
{
	static const char *const spike[] = { "k", "lookback", "min_samples", "min_bps", "min_move",
					     NULL };
	static const char *const spread[] = { "k", "window", "min_samples", "min_bps", "min_move",
					      NULL };
	static const char *const surge[] = { "window", "ratio", "lookback", "min_samples",
					     "min_qty", NULL };
	static const char *const both[] = { "window",  "z",	  "ratio",   "lookback",
					    "min_samples", "min_bps", "min_qty", NULL };
	static const char *const gap[] = { "pct", "min_move", "min_bps", NULL };
	static const char *const cb[] = { "window", "pct", "min_samples", NULL };
	static const char *const none[] = { NULL };

	switch (kind) {
	case FH_CFG_RULE_PRICE_SPIKE:
		return spike;
	case FH_CFG_RULE_SPREAD_WIDENING:
		return spread;
	case FH_CFG_RULE_VOLUME_SURGE:
		return surge;
	case FH_CFG_RULE_SPIKE_SURGE:
		return both;
	case FH_CFG_RULE_PRICE_GAP:
		return gap;
	case FH_CFG_RULE_CIRCUIT_BREAKER:
		return cb;
	default:
		return none;
	}
}

/*
 * Defaults of a rule of `kind`: the thresholds of that kind in the engine's
 * default rule set (fh_engine_cfg_default), so the engine stays the one
 * source of its tuning. The window is the caller's business.
 */
static void rule_defaults(struct fh_cfg_rule *r, int kind)
{
	static struct fh_engine_cfg d; /* cold path, single-threaded loader */

	fh_engine_cfg_default(&d);
	r->kind = (uint8_t)kind;
	r->severity = FH_SEV_WARNING;
	r->window = -1;
	r->all_instruments = true;
	for (unsigned i = 0; i < d.n_rules; i++) {
		const struct fh_engine_rule *e = &d.rules[i];
		if (e->kind != kind)
			continue;
		r->severity = e->severity;
		r->k = e->k;
		r->k2 = e->k2;
		r->lookback = e->lookback;
		r->min_samples = e->min_samples;
		r->min_bps = e->min_bps;
		r->min_move = e->min_move;
		r->min_qty = e->min_qty;
		r->cooldown_ns = (uint64_t)e->cooldown_ms * NS_MS;
		break;
	}
}

static bool rule_needs_window(int kind)
{
	return kind == FH_CFG_RULE_VOLUME_SURGE || kind == FH_CFG_RULE_SPIKE_SURGE ||
	       kind == FH_CFG_RULE_CIRCUIT_BREAKER;
}

/* A price like 0.05 into FH_PRICE_SCALE (1e-8) units, exactly. */
static int price(struct p *p, const yaml_node_t *n, int64_t *out)
{
	static const char what[] = "a price >= 0 with at most 8 decimals (e.g. 0.05)";
	uint64_t ip, frac, v;
	unsigned fd;
	bool ok;
	const char *s, *rest;

	TRY(scalar(p, n, what, &s));
	rest = parse_decimal(s, &ip, &frac, &fd, &ok);
	if (!ok || *rest || (fd == 9 && frac % 10) || !scale(ip, frac, fd, 100000000, &v) ||
	    v > INT64_MAX)
		return expected(p, n, what);
	*out = (int64_t)v;
	return 0;
}

static int parse_rule(struct p *p, const yaml_node_t *m, unsigned idx)
{
	static const char *const keys[] = { "name",	"kind",	       "params",  "severity",
					    "instruments", "cooldown", NULL };
	struct fh_config *c = p->cfg;
	struct fh_cfg_rule *r = &c->engine.rules[idx];
	yaml_node_t *n, *pm;
	int kind = 0;
	size_t o;

	TRY(check_map(p, m, keys));
	TRY(required(p, m, "name", "a unique rule name", &n));
	TRY(required(p, m, "kind", "the detector", &n));
	OPT_ENUM(m, "kind", rule_names, 1, kind);
	memset(r, 0, sizeof(*r));
	rule_defaults(r, kind);
	TRY(opt_str(p, m, "name", CS_NAME, false, r->name, sizeof(r->name)));
	for (unsigned j = 0; j < idx; j++) {
		if (!strcmp(c->engine.rules[j].name, r->name)) {
			o = push_key(p, "name");
			return fail(p, get(p, m, "name"),
				    "duplicate rule name \"%s\" (also engine.rules[%u])", r->name, j);
		}
	}
	OPT_ENUM(m, "severity", severity_names, 1, r->severity);
	OPT_NUM(m, "cooldown", NK_DUR, 0, 0, NS_H, r->cooldown_ns);
	if (r->cooldown_ns % NS_MS) {
		o = push_key(p, "cooldown");
		return expected(p, get(p, m, "cooldown"), "whole milliseconds (e.g. 1s, 250ms)");
	}

	pm = get(p, m, "params");
	if (pm) {
		o = push_key(p, "params");
		TRY(check_map(p, pm, rule_param_keys(kind)));
		/* Every threshold names its unit; all of them must be > 0. */
		if (kind == FH_CFG_RULE_PRICE_SPIKE || kind == FH_CFG_RULE_SPREAD_WIDENING)
			OPT_DBL(pm, "k", 0, 1e6, true, r->k);
		if (kind == FH_CFG_RULE_VOLUME_SURGE)
			OPT_DBL(pm, "ratio", 0, 1e6, true, r->k);
		if (kind == FH_CFG_RULE_SPIKE_SURGE) {
			OPT_DBL(pm, "z", 0, 1e6, true, r->k);
			OPT_DBL(pm, "ratio", 0, 1e6, true, r->k2);
		}
		if (kind == FH_CFG_RULE_PRICE_GAP || kind == FH_CFG_RULE_CIRCUIT_BREAKER)
			OPT_DBL(pm, "pct", 0, 1000, true, r->k);
		OPT_NUM(pm, "lookback", NK_COUNT, 1, 1, 1000000, r->lookback);
		OPT_NUM(pm, "min_samples", NK_COUNT, 1, 0, 1000000, r->min_samples);
		OPT_NUM(pm, "min_bps", NK_INT, 1, 0, 1000000, r->min_bps);
		OPT_NUM(pm, "min_qty", NK_COUNT, 1, 0, UINT32_MAX, r->min_qty);
		n = get(p, pm, "min_move");
		if (n) {
			size_t o2 = push_key(p, "min_move");
			TRY(price(p, n, &r->min_move));
			pop(p, o2);
		}
		n = get(p, pm, "window");
		if (n) {
			char wname[FH_CFG_NAME_LEN];
			size_t o2 = push_key(p, "window");
			TRY(str(p, n, CS_NAME, false, wname, sizeof(wname)));
			r->window = fh_config_window_index(c, wname);
			if (r->window < 0) {
				const char *names[FH_CFG_MAX_WINDOWS + 1];
				const char *mean;
				for (unsigned w = 0; w < c->engine.n_windows; w++)
					names[w] = c->engine.windows[w].name;
				names[c->engine.n_windows] = NULL;
				mean = did_you_mean(wname, names);
				if (mean)
					return fail(p, n, "unknown window \"%s\" (did you mean \"%s\"?)",
						    wname, mean);
				return fail(p, n, "unknown window \"%s\" (not in engine.windows)",
					    wname);
			}
			if (kind == FH_CFG_RULE_CIRCUIT_BREAKER) {
				const struct fh_cfg_window *w = &c->engine.windows[r->window];
				if (w->size_ns / w->slide_ns > FH_CFG_MAX_CB_SLIDES)
					return fail(p, n,
						    "window \"%s\" has %" PRIu64 " slides; a circuit "
						    "breaker's reference takes at most %d (use a larger "
						    "slide)",
						    wname, w->size_ns / w->slide_ns, FH_CFG_MAX_CB_SLIDES);
			}
			pop(p, o2);
		}
		pop(p, o);
	}
	if (rule_needs_window(kind) && r->window < 0) {
		o = push_key(p, "params.window");
		return fail(p, pm ? pm : m, "missing (a %s rule needs one of engine.windows)",
			    rule_names[kind - 1]);
	}

	n = get(p, m, "instruments");
	if (n) {
		o = push_key(p, "instruments");
		if (n->type == YAML_SCALAR_NODE) {
			const char *s;
			TRY(scalar(p, n, "all or a list of symbols", &s));
			if (strcmp(s, "all"))
				return expected(p, n, "all or a list of symbols");
			r->all_instruments = true;
		} else {
			unsigned k;
			TRY(seq(p, n, FH_CFG_MAX_RULE_INSTRUMENTS, "all or a list of symbols", &k));
			if (!k)
				return expected(p, n, "all or a non-empty list of symbols");
			for (unsigned i = 0; i < k; i++) {
				size_t o2 = push_idx(p, i);
				TRY(str(p, item(p, n, i), CS_SYMBOL, false, r->instruments[i],
					FH_CFG_SYMBOL_LEN));
				for (unsigned j = 0; j < i; j++)
					if (!strcmp(r->instruments[j], r->instruments[i]))
						return fail(p, item(p, n, i),
							    "duplicate symbol \"%s\" (also [%u])",
							    r->instruments[i], j);
				pop(p, o2);
			}
			r->n_instruments = k;
			r->all_instruments = false;
		}
		pop(p, o);
	}
	return 0;
}

static int parse_window(struct p *p, const yaml_node_t *m, unsigned idx)
{
	static const char *const keys[] = { "name", "kind", "size", "slide", NULL };
	static const char *const kinds[] = { "tumbling", "sliding", NULL };
	struct fh_config *c = p->cfg;
	struct fh_cfg_window *w = &c->engine.windows[idx];
	yaml_node_t *n;
	size_t o;

	TRY(check_map(p, m, keys));
	memset(w, 0, sizeof(*w));
	TRY(required(p, m, "name", "a unique window name", &n));
	TRY(opt_str(p, m, "name", CS_NAME, false, w->name, sizeof(w->name)));
	for (unsigned j = 0; j < idx; j++) {
		if (!strcmp(c->engine.windows[j].name, w->name)) {
			o = push_key(p, "name");
			return fail(p, n, "duplicate window name \"%s\" (also engine.windows[%u])",
				    w->name, j);
		}
	}
	TRY(required(p, m, "kind", "tumbling or sliding", &n));
	OPT_ENUM(m, "kind", kinds, 1, w->kind);
	TRY(required(p, m, "size", "the window length, e.g. 1m", &n));
	OPT_NUM(m, "size", NK_DUR, 0, NS_MS, 24 * NS_H, w->size_ns);
	if (w->size_ns % NS_MS) {
		o = push_key(p, "size");
		return expected(p, n, "whole milliseconds (event-time windows have 1 ms resolution)");
	}
	n = get(p, m, "slide");
	if (w->kind == FH_CFG_WIN_TUMBLING) {
		w->slide_ns = w->size_ns;
		if (n) {
			uint64_t v;
			o = push_key(p, "slide");
			TRY(num(p, n, NK_DUR, 0, NS_MS, 24 * NS_H, &v));
			if (v != w->size_ns)
				return fail(p, n, "a tumbling window slides by its size; use kind: "
						  "sliding for a different slide");
			pop(p, o);
		}
		return 0;
	}
	TRY(required(p, m, "slide", "how far a sliding window moves, e.g. 30s", &n));
	OPT_NUM(m, "slide", NK_DUR, 0, NS_MS, 24 * NS_H, w->slide_ns);
	if (w->slide_ns % NS_MS) {
		o = push_key(p, "slide");
		return expected(p, n, "whole milliseconds (event-time windows have 1 ms resolution)");
	}
	if (w->slide_ns > w->size_ns) {
		char a[32], b[32];
		fh_config_pvt_fmt_dur(w->slide_ns, a, sizeof(a));
		fh_config_pvt_fmt_dur(w->size_ns, b, sizeof(b));
		o = push_key(p, "slide");
		return fail(p, n, "slide %s is larger than size %s (slide must be <= size)", a, b);
	}
	if (w->size_ns % w->slide_ns) {
		char a[32], b[32];
		fh_config_pvt_fmt_dur(w->slide_ns, a, sizeof(a));
		fh_config_pvt_fmt_dur(w->size_ns, b, sizeof(b));
		o = push_key(p, "slide");
		return fail(p, n, "size %s is not a whole number of slides of %s", b, a);
	}
	if (w->size_ns / w->slide_ns > FH_CFG_MAX_SLIDES) {
		o = push_key(p, "slide");
		return fail(p, n, "size / slide = %" PRIu64 " slides, at most %d", w->size_ns / w->slide_ns,
			    FH_CFG_MAX_SLIDES);
	}
	return 0;
}

static int parse_engine(struct p *p, const yaml_node_t *m)
{
	static const char *const keys[] = { "windows", "vwap_window", "rules", NULL };
	struct fh_config *c = p->cfg;
	yaml_node_t *n;
	unsigned k;
	size_t o;

	TRY(check_map(p, m, keys));
	n = get(p, m, "windows");
	if (n) {
		/* The default rules name the default windows: new windows, new rules. */
		c->engine.n_windows = 0;
		c->engine.n_rules = 0;
		c->engine.vwap_window = -1;
	}
	if (get(p, m, "rules"))
		c->engine.n_rules = 0;
	if (n) {
		o = push_key(p, "windows");
		TRY(seq(p, n, FH_CFG_MAX_WINDOWS, "a list of windows", &k));
		for (unsigned i = 0; i < k; i++) {
			size_t o2 = push_idx(p, i);
			TRY(parse_window(p, item(p, n, i), i));
			c->engine.n_windows = i + 1;
			pop(p, o2);
		}
		pop(p, o);
	}
	n = get(p, m, "vwap_window");
	if (n) {
		const char *v;
		o = push_key(p, "vwap_window");
		TRY(scalar(p, n, "a window name or none", &v));
		if (!strcmp(v, "none")) {
			c->engine.vwap_window = -1;
		} else {
			c->engine.vwap_window = fh_config_window_index(c, v);
			if (c->engine.vwap_window < 0)
				return fail(p, n, "unknown window \"%s\" (not in engine.windows; or none)",
					    v);
		}
		pop(p, o);
	}
	n = get(p, m, "rules");
	if (n) {
		o = push_key(p, "rules");
		TRY(seq(p, n, FH_CFG_MAX_RULES, "a list of rules", &k));
		for (unsigned i = 0; i < k; i++) {
			size_t o2 = push_idx(p, i);
			TRY(parse_rule(p, item(p, n, i), i));
			c->engine.n_rules = i + 1;
			pop(p, o2);
		}
		pop(p, o);
	}
	return 0;
}

static int parse_shm(struct p *p, const yaml_node_t *m)
{
	static const char *const keys[] = { "enabled", "name", "path", "slots", "group", "mode",
					    "snapshot_interval_ms", "lock", NULL };
	struct fh_config *c = p->cfg;
	yaml_node_t *n;
	size_t o;

	TRY(check_map(p, m, keys));
	TRY(opt_bool(p, m, "enabled", &c->publish.shm.enabled));
	TRY(opt_bool(p, m, "lock", &c->publish.shm.lock));
	TRY(opt_str(p, m, "name", CS_NAME, false, c->publish.shm.name, sizeof(c->publish.shm.name)));
	TRY(opt_str(p, m, "path", CS_TEXT, false, c->publish.shm.path, sizeof(c->publish.shm.path)));
	if (c->publish.shm.path[0] != '/') {
		o = push_key(p, "path");
		return expected(p, get(p, m, "path"),
				"an absolute directory (/dev/shm or a hugetlbfs mount)");
	}
	n = get(p, m, "slots");
	if (n) {
		uint64_t v;
		o = push_key(p, "slots");
		TRY(num(p, n, NK_COUNT, 1, 1024, UINT64_C(1) << 30, &v));
		if (v & (v - 1))
			return fail(p, n, "expected a power of two 1024..1073741824 (e.g. 1Mi), "
					  "got %" PRIu64, v);
		c->publish.shm.slots = v;
		pop(p, o);
	}
	TRY(opt_str(p, m, "group", CS_NAME, true, c->publish.shm.group,
		    sizeof(c->publish.shm.group)));
	n = get(p, m, "mode");
	if (n) {
		static const char what[] = "an octal file mode like 0640";
		const char *s, *d;
		uint64_t v = 0;
		o = push_key(p, "mode");
		TRY(scalar(p, n, what, &s));
		d = !strncmp(s, "0o", 2) ? s + 2 : s;
		if (!*d || strlen(d) > 4)
			return expected(p, n, what);
		for (; *d; d++) {
			if (*d < '0' || *d > '7')
				return expected(p, n, what);
			v = v * 8 + (uint64_t)(*d - '0');
		}
		if (v > 0777)
			return fail(p, n, "expected permission bits only (<= 0777), got %s", s);
		if (v & 0002)
			return fail(p, n, "mode %04" PRIo64 " is world-writable: any local user could "
					  "corrupt the ring (use 0640, or 0660 with a group)",
				    v);
		if ((v & 0600) != 0600)
			return fail(p, n, "mode %04" PRIo64 " must let the owner (the writer) read "
					  "and write (0600 bits)",
				    v);
		c->publish.shm.mode = (uint32_t)v;
		pop(p, o);
	}
	OPT_NUM(m, "snapshot_interval_ms", NK_DUR, NS_MS, 0, NS_H, c->publish.shm.snapshot_interval_ns);
	return 0;
}

static int broker(struct p *p, const yaml_node_t *n, char *dst, size_t *o)
{
	char host[FH_CFG_HOST_LEN];
	uint16_t port;
	const char *s;
	size_t l;

	TRY(host_port(p, n, host, sizeof(host), &port));
	TRY(scalar(p, n, "host:port", &s));
	l = strlen(s);
	if (*o + l + 2 > FH_CFG_BROKERS_LEN)
		return fail(p, n, "broker list too long (at most %d bytes)", FH_CFG_BROKERS_LEN - 1);
	if (*o)
		dst[(*o)++] = ',';
	memcpy(dst + *o, s, l);
	*o += l;
	dst[*o] = '\0';
	return 0;
}

static int parse_topics(struct p *p, const yaml_node_t *m)
{
	static const char *const tk[] = { "encoding", NULL };
	static const char *const enc[] = { "binary", "json", "off", NULL };
	struct fh_config *c = p->cfg;

	TRY(check_map(p, m, family_names));
	for (unsigned f = 0; f < FH_CFG_FAM__COUNT; f++) {
		struct fh_cfg_kafka_topic *t = &c->publish.kafka.topics[f];
		yaml_node_t *n = get(p, m, family_names[f]);
		size_t o;
		if (!n)
			continue;
		o = push_key(p, family_names[f]);
		if (n->type == YAML_SCALAR_NODE) {
			OPT_ENUM(m, family_names[f], enc, 1, t->encoding);
		} else {
			TRY(check_map(p, n, tk));
			OPT_ENUM(n, "encoding", enc, 1, t->encoding);
		}
		pop(p, o);
	}
	return 0;
}

static int parse_props(struct p *p, const yaml_node_t *m)
{
	static const struct {
		const char *prop, *key;
	} owned[] = {
		{ "bootstrap.servers", "brokers" },   { "metadata.broker.list", "brokers" },
		{ "linger.ms", "linger_ms" },	      { "queue.buffering.max.ms", "linger_ms" },
		{ "batch.size", "batch_size" },	      { "compression.type", "compression" },
		{ "compression.codec", "compression" }, { "acks", "acks" },
		{ "request.required.acks", "acks" },  { "enable.idempotence", "idempotence" },
	};
	struct fh_config *c = p->cfg;
	yaml_node_pair_t *pr;
	rd_kafka_conf_t *rk = NULL;
	int rc = 0;

	if (m->type != YAML_MAPPING_NODE)
		return expected(p, m, "a mapping of librdkafka properties (e.g. security.protocol: "
				      "SASL_SSL)");
	/* librdkafka itself judges names and values, so typos fail here, with a line. */
	rk = rd_kafka_conf_new();
	for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(p, pr->key), *v = node(p, pr->value);
		struct fh_cfg_prop *pp;
		const char *ks;
		size_t o;

		if (!k || k->type != YAML_SCALAR_NODE) {
			rc = fail(p, k, "keys must be plain strings");
			goto out;
		}
		ks = (const char *)k->data.scalar.value;
		o = push_quoted(p, ks);
		if (!*ks || strlen(ks) >= FH_CFG_PROP_KEY_LEN || !in_charset(ks, CS_NAME)) {
			rc = expected(p, k, "a librdkafka property name (e.g. sasl.mechanism)");
			goto out;
		}
		for (size_t i = 0; i < FH_ARRAY_SIZE(owned); i++) {
			if (!strcmp(ks, owned[i].prop)) {
				rc = fail(p, k, "set by publish.kafka.%s; remove it from properties",
					  owned[i].key);
				goto out;
			}
		}
		for (unsigned j = 0; j < c->publish.kafka.n_props; j++) {
			if (!strcmp(c->publish.kafka.props[j].key, ks)) {
				rc = fail(p, k, "duplicate key");
				goto out;
			}
		}
		if (c->publish.kafka.n_props >= FH_CFG_MAX_KAFKA_PROPS) {
			rc = fail(p, k, "too many properties (at most %d)", FH_CFG_MAX_KAFKA_PROPS);
			goto out;
		}
		pp = &c->publish.kafka.props[c->publish.kafka.n_props];
		memcpy(pp->key, ks, strlen(ks) + 1);
		rc = str(p, v, CS_TEXT, true, pp->value, sizeof(pp->value));
		if (rc)
			goto out;
		if (rk) {
			char e[256];
			if (rd_kafka_conf_set(rk, pp->key, pp->value, e, sizeof(e)) !=
			    RD_KAFKA_CONF_OK) {
				rc = fail(p, v, "librdkafka rejects it: %s", e);
				goto out;
			}
		}
		c->publish.kafka.n_props++;
		pop(p, o);
	}
out:
	if (rk)
		rd_kafka_conf_destroy(rk);
	return rc;
}

static int parse_kafka(struct p *p, const yaml_node_t *m)
{
	static const char *const keys[] = { "enabled",	   "brokers",	  "mock_brokers",
					    "partitions",  "topic_prefix", "topics",
					    "linger_ms",   "batch_size",   "compression",
					    "acks",	   "idempotence",  "queue",
					    "flush_timeout_ms", "properties", NULL };
	static const char *const qk[] = { "capacity", "policy", "spill_dir", "spill_max_bytes",
					  NULL };
	static const char *const comp[] = { "none", "gzip", "snappy", "lz4", "zstd", NULL };
	static const char *const acks[] = { "all", "0", "1", "-1", NULL };
	static const char *const pol[] = { "drop_oldest", "spill", NULL };
	struct fh_config *c = p->cfg;
	yaml_node_t *n;
	size_t o;

	TRY(check_map(p, m, keys));
	TRY(opt_bool(p, m, "enabled", &c->publish.kafka.enabled));
	n = get(p, m, "brokers");
	if (n) {
		size_t bo = 0;
		o = push_key(p, "brokers");
		c->publish.kafka.brokers[0] = '\0';
		if (n->type == YAML_SEQUENCE_NODE) {
			unsigned k;
			TRY(seq(p, n, 64, "a list of host:port", &k));
			for (unsigned i = 0; i < k; i++) {
				size_t o2 = push_idx(p, i);
				TRY(broker(p, item(p, n, i), c->publish.kafka.brokers, &bo));
				pop(p, o2);
			}
		} else {
			/* "a:9092,b:9092" as librdkafka writes it. */
			const char *s;
			char list[FH_CFG_BROKERS_LEN];
			TRY(scalar(p, n, "a list of host:port", &s));
			if (strlen(s) >= sizeof(list))
				return fail(p, n, "broker list too long");
			memcpy(list, s, strlen(s) + 1);
			for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				yaml_node_t fake = *n;
				while (*tok == ' ')
					tok++;
				fake.data.scalar.value = (yaml_char_t *)tok;
				fake.data.scalar.length = strlen(tok);
				fake.data.scalar.style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
				TRY(broker(p, &fake, c->publish.kafka.brokers, &bo));
			}
		}
		pop(p, o);
	}
	c->publish.kafka.mock = c->publish.kafka.brokers[0] == '\0';
	OPT_NUM(m, "mock_brokers", NK_INT, 1, 1, 9, c->publish.kafka.mock_brokers);
	OPT_NUM(m, "partitions", NK_INT, 1, 1, 1024, c->publish.kafka.partitions);
	TRY(opt_str(p, m, "topic_prefix", CS_NAME, false, c->publish.kafka.topic_prefix,
		    sizeof(c->publish.kafka.topic_prefix)));
	n = get(p, m, "topics");
	if (n) {
		o = push_key(p, "topics");
		TRY(parse_topics(p, n));
		pop(p, o);
	}
	OPT_NUM(m, "linger_ms", NK_DUR, NS_MS, 0, 900 * NS_S, c->publish.kafka.linger_ns);
	OPT_NUM(m, "batch_size", NK_SIZE, 1, 1, 2 * GiB - 1, c->publish.kafka.batch_size);
	OPT_ENUM(m, "compression", comp, 1, c->publish.kafka.compression);
	n = get(p, m, "acks");
	if (n) {
		int v;
		o = push_key(p, "acks");
		TRY(enumv(p, n, acks, 0, &v));
		c->publish.kafka.acks = v == 0 || v == 3 ? -1 : v - 1;
		pop(p, o);
	}
	TRY(opt_bool(p, m, "idempotence", &c->publish.kafka.idempotence));
	if (c->publish.kafka.idempotence && c->publish.kafka.acks != -1)
		return fail_at(p, "publish.kafka.acks",
			       "idempotence: true requires acks: all (set idempotence: false to "
			       "use acks %d)",
			       c->publish.kafka.acks);
	n = get(p, m, "queue");
	if (n) {
		o = push_key(p, "queue");
		TRY(check_map(p, n, qk));
		OPT_NUM(n, "capacity", NK_COUNT, 1, 1024, 256 * MiB, c->publish.kafka.queue.capacity);
		if (c->publish.kafka.queue.capacity & (c->publish.kafka.queue.capacity - 1)) {
			push_key(p, "capacity");
			return fail(p, get(p, n, "capacity"),
				    "expected a power of two 1024..268435456 (e.g. 1Mi), got %" PRIu64,
				    c->publish.kafka.queue.capacity);
		}
		OPT_ENUM(n, "policy", pol, 1, c->publish.kafka.queue.policy);
		TRY(opt_str(p, n, "spill_dir", CS_TEXT, false, c->publish.kafka.queue.spill_dir,
			    sizeof(c->publish.kafka.queue.spill_dir)));
		OPT_NUM(n, "spill_max_bytes", NK_SIZE, 1, MiB, 64 * TiB,
			c->publish.kafka.queue.spill_max_bytes);
		if (c->publish.kafka.queue.policy == FH_CFG_QUEUE_SPILL &&
		    !c->publish.kafka.queue.spill_dir[0]) {
			push_key(p, "spill_dir");
			return fail(p, n, "missing (policy spill needs a directory)");
		}
		pop(p, o);
	}
	OPT_NUM(m, "flush_timeout_ms", NK_DUR, NS_MS, 0, 600 * NS_S, c->publish.kafka.flush_timeout_ns);
	n = get(p, m, "properties");
	if (n) {
		o = push_key(p, "properties");
		TRY(parse_props(p, n));
		pop(p, o);
	}
	return 0;
}

/* Topic names are <topic_prefix>.<family>. */
static int topic_names(struct p *p)
{
	struct fh_config *c = p->cfg;

	for (unsigned f = 0; f < FH_CFG_FAM__COUNT; f++) {
		struct fh_cfg_kafka_topic *t = &c->publish.kafka.topics[f];
		if ((size_t)snprintf(t->name, sizeof(t->name), "%s.%s", c->publish.kafka.topic_prefix,
				     family_names[f]) >= sizeof(t->name))
			return fail_at(p, "publish.kafka.topic_prefix", "too long for topic names");
	}
	return 0;
}

static int parse_publish(struct p *p, const yaml_node_t *m)
{
	static const char *const keys[] = { "shm", "kafka", "heartbeat_ms", NULL };
	yaml_node_t *n;
	size_t o;

	TRY(check_map(p, m, keys));
	OPT_NUM(m, "heartbeat_ms", NK_DUR, NS_MS, 10 * NS_MS, NS_M, p->cfg->publish.heartbeat_ns);
	n = get(p, m, "shm");
	if (n) {
		o = push_key(p, "shm");
		TRY(parse_shm(p, n));
		pop(p, o);
	}
	n = get(p, m, "kafka");
	if (n) {
		o = push_key(p, "kafka");
		TRY(parse_kafka(p, n));
		pop(p, o);
	}
	return 0;
}

static int parse_telemetry(struct p *p, const yaml_node_t *m)
{
	static const char *const keys[] = { "http", "hdr", "latency_budget_p99_ns", NULL };
	static const char *const hk[] = { "enabled", "listen", NULL };
	static const char *const dk[] = { "lowest_ns", "highest_ns", "sig_digits", "interval_ms",
					  "log", NULL };
	struct fh_config *c = p->cfg;
	yaml_node_t *n, *l;
	size_t o;

	TRY(check_map(p, m, keys));
	n = get(p, m, "http");
	if (n) {
		o = push_key(p, "http");
		TRY(check_map(p, n, hk));
		TRY(opt_bool(p, n, "enabled", &c->telemetry.http.enabled));
		l = get(p, n, "listen");
		if (l) {
			const char *s;
			size_t o2 = push_key(p, "listen");
			struct in_addr ia;
			TRY(host_port(p, l, c->telemetry.http.host, sizeof(c->telemetry.http.host),
				      &c->telemetry.http.port));
			if (inet_pton(AF_INET, c->telemetry.http.host, &ia) != 1)
				return expected(p, l, "an IPv4 address:port (e.g. 127.0.0.1:9100, "
						      "0.0.0.0:9100)");
			TRY(scalar(p, l, "host:port", &s));
			snprintf(c->telemetry.http.listen, sizeof(c->telemetry.http.listen), "%s", s);
			pop(p, o2);
		}
		pop(p, o);
	}
	n = get(p, m, "hdr");
	if (n) {
		o = push_key(p, "hdr");
		TRY(check_map(p, n, dk));
		OPT_NUM(n, "lowest_ns", NK_DUR, 1, 1, NS_S, c->telemetry.hdr.lowest_ns);
		OPT_NUM(n, "highest_ns", NK_DUR, 1, 2, 24 * NS_H, c->telemetry.hdr.highest_ns);
		OPT_NUM(n, "sig_digits", NK_INT, 1, 1, 5, c->telemetry.hdr.sig_digits);
		OPT_NUM(n, "interval_ms", NK_DUR, NS_MS, 10 * NS_MS, NS_H,
			c->telemetry.hdr.interval_ns);
		TRY(opt_str(p, n, "log", CS_TEXT, true, c->telemetry.hdr.log,
			    sizeof(c->telemetry.hdr.log)));
		if (c->telemetry.hdr.highest_ns < 2 * c->telemetry.hdr.lowest_ns)
			return fail_at(p, "telemetry.hdr.highest_ns",
				       "must be at least 2 x lowest_ns (%" PRIu64 "ns)",
				       c->telemetry.hdr.lowest_ns);
		pop(p, o);
	}
	OPT_NUM(m, "latency_budget_p99_ns", NK_DUR, 1, 1, NS_S, c->telemetry.latency_budget_p99_ns);
	return 0;
}

static int parse_dlq(struct p *p, const yaml_node_t *m)
{
	static const char *const keys[] = { "path", "max_bytes", NULL };
	struct fh_config *c = p->cfg;

	TRY(check_map(p, m, keys));
	TRY(opt_str(p, m, "path", CS_TEXT, true, c->dead_letter.path, sizeof(c->dead_letter.path)));
	OPT_NUM(m, "max_bytes", NK_SIZE, 1, 64 * KiB, 16 * TiB, c->dead_letter.max_bytes);
	return 0;
}

static int parse_journal(struct p *p, const yaml_node_t *m)
{
	static const char *const keys[] = { "enabled",	"dir",	     "rotate_bytes",
					    "rotate_s", "flush_ms", "warm_restart", NULL };
	struct fh_config *c = p->cfg;

	TRY(check_map(p, m, keys));
	TRY(opt_bool(p, m, "enabled", &c->journal.enabled));
	TRY(opt_str(p, m, "dir", CS_TEXT, false, c->journal.dir, sizeof(c->journal.dir)));
	OPT_NUM(m, "rotate_bytes", NK_SIZE, 1, MiB, TiB, c->journal.rotate_bytes);
	OPT_NUM(m, "rotate_s", NK_DUR, NS_S, NS_S, 7 * 24 * NS_H, c->journal.rotate_ns);
	OPT_NUM(m, "flush_ms", NK_DUR, NS_MS, NS_MS, 60 * NS_S, c->journal.flush_ns);
	TRY(opt_bool(p, m, "warm_restart", &c->journal.warm_restart));
	if (c->journal.enabled && !c->journal.dir[0]) {
		set_path(p, "journal.dir");
		return fail(p, m, "missing (journal.enabled needs a directory)");
	}
	return 0;
}

/* ---------- cross-field and host checks ---------- */

static bool is_vdev_name(const char *iface)
{
	return !strncmp(iface, "net_", 4);
}

static int check_interface(struct p *p, unsigned si, unsigned li, const char *lpath)
{
	struct fh_config *c = p->cfg;
	const char *ifc = c->sources[si].line[li].interface;
	char path[96];

	snprintf(path, sizeof(path), "sources[%u].%sinterface", si, lpath);
	if (c->sources[si].transport == FH_CFG_TR_KERNEL_UDP) {
		if (ifc[0] && (strlen(ifc) > 15 || strchr(ifc, '/')))
			return fail_at(p, path, "expected a Linux interface name (at most 15 "
						"characters), got \"%s\"",
				       ifc);
		return 0;
	}
	if (is_pci_addr(ifc)) {
		if (c->eal.no_pci)
			return fail_at(p, path, "PCI device %s but eal.no_pci is true", ifc);
		if (c->eal.n_pci) {
			for (unsigned i = 0; i < c->eal.n_pci; i++)
				if (!strcmp(c->eal.pci[i], ifc))
					return 0;
			return fail_at(p, path, "PCI device %s is not in eal.pci (the allow list)",
				       ifc);
		}
		return 0;
	}
	if (is_vdev_name(ifc)) {
		for (unsigned i = 0; i < c->eal.n_vdevs; i++) {
			size_t l = strcspn(c->eal.vdevs[i], ",");
			if (strlen(ifc) == l && !strncmp(c->eal.vdevs[i], ifc, l))
				return 0;
		}
		return fail_at(p, path, "no eal.vdevs entry is named \"%s\"", ifc);
	}
	if (strlen(ifc) > 15 || strchr(ifc, '/'))
		return fail_at(p, path, "expected a PCI address, a DPDK vdev name (net_...) or a "
					"Linux interface name, got \"%s\"",
			       ifc);
	return 0;
}

static int find_rx(const struct fh_config *c, int core)
{
	for (unsigned i = 0; i < c->cores.n_rx; i++)
		if (c->cores.rx[i] == core)
			return (int)i;
	return -1;
}

static void rx_list(const struct fh_config *c, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < c->cores.n_rx && o < len; i++) {
		int w = snprintf(buf + o, len - o, "%s%d", i ? ", " : "", c->cores.rx[i]);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

static int cross_check(struct p *p)
{
	struct fh_config *c = p->cfg;
	char path[128], list[256];
	unsigned next_rx = 0;
	int i;

	/* Cores: every role on its own CPU. */
	i = find_rx(c, c->cores.publisher);
	if (i >= 0)
		return fail_at(p, "cores.publisher",
			       "core %d is also an RX core (cores.rx[%d]); rx, publisher and "
			       "control cores must differ",
			       c->cores.publisher, i);
	if (c->cores.control >= 0) {
		i = find_rx(c, c->cores.control);
		if (i >= 0)
			return fail_at(p, "cores.control",
				       "core %d is also an RX core (cores.rx[%d]); rx, publisher and "
				       "control cores must differ",
				       c->cores.control, i);
		if (c->cores.control == c->cores.publisher)
			return fail_at(p, "cores.control",
				       "core %d is also the publisher core; rx, publisher and control "
				       "cores must differ",
				       c->cores.control);
	}
	if (!(p->flags & FH_CONFIG_F_NO_HOST_CHECKS)) {
		long ncpu = sysconf(_SC_NPROCESSORS_CONF);
		for (unsigned k = 0; k < c->cores.n_rx; k++) {
			if (ncpu > 0 && c->cores.rx[k] >= ncpu) {
				snprintf(path, sizeof(path), "cores.rx[%u]", k);
				return fail_at(p, path, "CPU %d does not exist on this host (%ld CPUs)",
					       c->cores.rx[k], ncpu);
			}
		}
		if (ncpu > 0 && c->cores.publisher >= ncpu)
			return fail_at(p, "cores.publisher",
				       "CPU %d does not exist on this host (%ld CPUs)",
				       c->cores.publisher, ncpu);
		if (ncpu > 0 && c->cores.control >= ncpu)
			return fail_at(p, "cores.control", "CPU %d does not exist on this host (%ld CPUs)",
				       c->cores.control, ncpu);
	}

	/* Sources: names, cores, groups, interfaces, files. */
	for (unsigned s = 0; s < c->n_sources; s++) {
		struct fh_cfg_source *src = &c->sources[s];
		for (unsigned t = 0; t < s; t++) {
			if (!strcmp(c->sources[t].name, src->name)) {
				snprintf(path, sizeof(path), "sources[%u].name", s);
				return fail_at(p, path, "duplicate source name \"%s\" (also sources[%u])",
					       src->name, t);
			}
		}
		if (p->rx_core_set[s]) {
			if (find_rx(c, src->rx_core) < 0) {
				rx_list(c, list, sizeof(list));
				snprintf(path, sizeof(path), "sources[%u].rx_core", s);
				return fail_at(p, path, "core %d is not an RX core (cores.rx: [%s])",
					       src->rx_core, list);
			}
		} else {
			/* Unassigned sources go round-robin over the RX cores, in order. */
			src->rx_core = c->cores.rx[next_rx++ % c->cores.n_rx];
		}
		{
			unsigned owned = 0;
			for (unsigned t = 0; t < s; t++)
				owned += c->sources[t].rx_core == src->rx_core;
			if (owned >= FH_CFG_MAX_SOURCES_PER_CORE) {
				snprintf(path, sizeof(path), "sources[%u].rx_core", s);
				return fail_at(p, path,
					       "core %d already owns %u sources; one RX core (one "
					       "engine shard) takes at most %d: add a core to cores.rx",
					       src->rx_core, owned, FH_CFG_MAX_SOURCES_PER_CORE);
			}
		}
		if (src->transport == FH_CFG_TR_MULTICAST || src->transport == FH_CFG_TR_KERNEL_UDP) {
			for (unsigned l = 0; l < src->n_lines; l++) {
				const char *lp = "";
				char sp[32];
				snprintf(sp, sizeof(sp), "sources[%u]", s);
				snprintf(path, sizeof(path), "sources[%u].lines", s);
				if (resolve(p, path) != resolve(p, sp))
					lp = l ? "lines.b." : "lines.a.";
				TRY(check_interface(p, s, l, lp));
				/* The same group and port twice would deliver every packet twice. */
				for (unsigned t = 0; t <= s; t++) {
					struct fh_cfg_source *o = &c->sources[t];
					if (o->transport != FH_CFG_TR_MULTICAST &&
					    o->transport != FH_CFG_TR_KERNEL_UDP)
						continue;
					for (unsigned m = 0; m < o->n_lines; m++) {
						if (t == s && m >= l)
							break;
						if (t == s)
							continue; /* A/B of one source: checked at parse */
						if (o->line[m].group_addr == src->line[l].group_addr &&
						    o->line[m].port == src->line[l].port) {
							snprintf(path, sizeof(path), "sources[%u].%sgroup",
								 s, lp);
							return fail_at(p, path,
								       "duplicate group %s:%u (also "
								       "sources[%u] \"%s\" line %c)",
								       src->line[l].group,
								       src->line[l].port, t, o->name,
								       'A' + m);
						}
					}
				}
			}
		}
		if (src->transport == FH_CFG_TR_PCAP && !(p->flags & FH_CONFIG_F_NO_HOST_CHECKS) &&
		    access(src->pcap.file, R_OK) != 0) {
			int e = errno;
			snprintf(path, sizeof(path), "sources[%u].pcap.file", s);
			return fail_at(p, path, "cannot read \"%s\": %s", src->pcap.file, strerror(e));
		}
	}

	/* The engine accepts what we give each shard (it has its own checks too). */
	for (unsigned k = 0; k < c->cores.n_rx; k++) {
		struct fh_engine_cfg ec;
		char e[256];
		if (fh_config_engine_cfg(c, c->cores.rx[k], &ec, e, sizeof(e)))
			return fail_at(p, "engine", "rejected by the engine: %s", e);
	}

	/* Publish: the shm directory and group exist here. */
	if (c->publish.shm.enabled && !(p->flags & FH_CONFIG_F_NO_HOST_CHECKS)) {
		struct stat st;
		struct statfs sf;
		if (stat(c->publish.shm.path, &st) != 0 || !S_ISDIR(st.st_mode))
			return fail_at(p, "publish.shm.path", "no such directory \"%s\"",
				       c->publish.shm.path);
		c->publish.shm.hugetlb = statfs(c->publish.shm.path, &sf) == 0 &&
					 (unsigned long)sf.f_type == 0x958458f6UL; /* HUGETLBFS_MAGIC */
		if (c->publish.shm.group[0] && !getgrnam(c->publish.shm.group))
			return fail_at(p, "publish.shm.group", "no such group \"%s\" on this host",
				       c->publish.shm.group);
	}

	/* Memory: everything preallocated must fit in this host's RAM. */
	if (!(p->flags & FH_CONFIG_F_NO_HOST_CHECKS)) {
		long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGE_SIZE);
		uint64_t need = fh_config_memory_estimate(c);
		if (pages > 0 && psz > 0) {
			uint64_t ram = (uint64_t)pages * (uint64_t)psz;
			if (need > ram) {
				char a[32], b[32];
				snprintf(a, sizeof(a), "%.1f GiB", (double)need / (double)GiB);
				snprintf(b, sizeof(b), "%.1f GiB", (double)ram / (double)GiB);
				return fail_at(p, "books.max_orders",
					       "impossible memory size: %u RX core(s) x (%" PRIu64
					       " orders x %d B + %" PRIu64 " levels x %d B + %" PRIu64
					       " instruments x %d B) plus rings need %s, more than "
					       "this host's %s of physical RAM",
					       c->cores.n_rx, c->books.max_orders, FH_CFG_ORDER_BYTES,
					       c->books.max_levels, FH_CFG_LEVEL_BYTES,
					       c->books.max_instruments, FH_CFG_INSTRUMENT_BYTES, a, b);
			}
			if (c->eal.memory_mb && c->eal.memory_mb > ram / MiB)
				return fail_at(p, "eal.memory_mb",
					       "impossible memory size: %" PRIu64 " MiB, more than this "
					       "host's %" PRIu64 " MiB of physical RAM",
					       c->eal.memory_mb, ram / MiB);
		}
	}
	return 0;
}

/* ---------- entry points ---------- */

/* The engine's default windows and rules, named: bar_<size> / slide_<size>, rules by kind. */
static void engine_defaults(struct fh_config *c)
{
	static struct fh_engine_cfg d;
	char dur[24];

	fh_engine_cfg_default(&d);
	for (unsigned i = 0; i < d.n_windows && i < FH_CFG_MAX_WINDOWS; i++) {
		struct fh_cfg_window *w = &c->engine.windows[i];
		w->kind = d.windows[i].kind;
		w->size_ns = (uint64_t)d.windows[i].size_ms * NS_MS;
		w->slide_ns = w->kind == FH_CFG_WIN_SLIDING ? (uint64_t)d.windows[i].slide_ms * NS_MS
							    : w->size_ns;
		fh_config_pvt_fmt_dur(w->size_ns, dur, sizeof(dur));
		snprintf(w->name, sizeof(w->name), "%s_%.20s",
			 w->kind == FH_CFG_WIN_SLIDING ? "slide" : "bar", dur);
		c->engine.n_windows = i + 1;
	}
	c->engine.vwap_window = d.vwap_window;
	for (unsigned i = 0; i < d.n_rules && i < FH_CFG_MAX_RULES; i++) {
		const struct fh_engine_rule *e = &d.rules[i];
		struct fh_cfg_rule *r = &c->engine.rules[i];
		rule_defaults(r, e->kind);
		snprintf(r->name, sizeof(r->name), "%s", rule_names[e->kind - 1]);
		/* Its window: the default window of that length (and slide, for a breaker). */
		for (unsigned w = 0; e->window_ms && w < c->engine.n_windows; w++) {
			const struct fh_cfg_window *cw = &c->engine.windows[w];
			if (cw->size_ns == (uint64_t)e->window_ms * NS_MS &&
			    (e->kind != FH_CFG_RULE_CIRCUIT_BREAKER ||
			     cw->slide_ns == (uint64_t)e->slide_ms * NS_MS)) {
				r->window = (int)w;
				break;
			}
		}
		c->engine.n_rules = i + 1;
	}
}

void fh_config_defaults(struct fh_config *c)
{
	memset(c, 0, sizeof(*c));
	c->version = 1;
	snprintf(c->instance, sizeof(c->instance), "fh");
	c->cores.n_rx = 1;
	c->cores.rx[0] = 1;
	c->cores.publisher = 0;
	c->cores.control = -1;
	c->cores.numa_node = -1;

	c->books.depth = 10;
	c->books.max_orders = 2 * MiB;
	c->books.max_instruments = 16 * KiB;
	c->books.max_levels = MiB;
	c->books.crossed_policy = FH_CFG_CROSSED_FLAG;
	c->books.snapshot_interval_ns = NS_S;

	engine_defaults(c);

	c->publish.shm.enabled = true;
	snprintf(c->publish.shm.name, sizeof(c->publish.shm.name), "fh");
	snprintf(c->publish.shm.path, sizeof(c->publish.shm.path), "/dev/shm");
	c->publish.shm.slots = MiB;
	c->publish.shm.mode = 0640;
	c->publish.shm.snapshot_interval_ns = NS_S;
	c->publish.heartbeat_ns = NS_S;

	c->publish.kafka.enabled = true;
	c->publish.kafka.mock = true;
	c->publish.kafka.mock_brokers = 3;
	c->publish.kafka.partitions = 3;
	snprintf(c->publish.kafka.topic_prefix, sizeof(c->publish.kafka.topic_prefix), "fh");
	for (unsigned f = 0; f < FH_CFG_FAM__COUNT; f++)
		c->publish.kafka.topics[f].encoding = FH_CFG_ENC_BINARY;
	c->publish.kafka.linger_ns = 5 * NS_MS;
	c->publish.kafka.batch_size = 1000000;
	c->publish.kafka.compression = FH_CFG_COMP_LZ4;
	c->publish.kafka.acks = -1;
	c->publish.kafka.idempotence = true;
	c->publish.kafka.queue.capacity = MiB;
	c->publish.kafka.queue.policy = FH_CFG_QUEUE_DROP_OLDEST;
	c->publish.kafka.queue.spill_max_bytes = GiB;
	c->publish.kafka.flush_timeout_ns = 5 * NS_S;

	c->telemetry.http.enabled = true;
	snprintf(c->telemetry.http.listen, sizeof(c->telemetry.http.listen), "127.0.0.1:9100");
	snprintf(c->telemetry.http.host, sizeof(c->telemetry.http.host), "127.0.0.1");
	c->telemetry.http.port = 9100;
	c->telemetry.hdr.lowest_ns = 1;
	c->telemetry.hdr.highest_ns = NS_H;
	c->telemetry.hdr.sig_digits = 3;
	c->telemetry.hdr.interval_ns = NS_S;
	c->telemetry.latency_budget_p99_ns = 1000;

	snprintf(c->dead_letter.path, sizeof(c->dead_letter.path), "fh-dead-letter.dlq");
	c->dead_letter.max_bytes = 256 * MiB;

	c->journal.rotate_bytes = GiB;
	c->journal.rotate_ns = NS_H;
	c->journal.flush_ns = 100 * NS_MS;
}

static int parse_root(struct p *p)
{
	static const char *const keys[] = { "version", "instance", "sources",	  "cores",
					    "eal",     "books",	   "engine",	  "publish",
					    "telemetry", "dead_letter", "journal", NULL };
	static const struct {
		const char *key;
		int (*fn)(struct p *, const yaml_node_t *);
	} sections[] = {
		{ "cores", parse_cores },	  { "eal", parse_eal },
		{ "books", parse_books },	  { "engine", parse_engine },
		{ "publish", parse_publish },	  { "telemetry", parse_telemetry },
		{ "dead_letter", parse_dlq },	  { "journal", parse_journal },
	};
	yaml_node_t *root = yaml_document_get_root_node(&p->doc);
	size_t o;

	if (!root || is_null(root))
		return fail(p, NULL, "empty config (expected a mapping with at least `sources`)");
	p->root_map = root;
	TRY(check_map(p, root, keys));
	OPT_NUM(root, "version", NK_INT, 1, 1, 1, p->cfg->version);
	TRY(opt_str(p, root, "instance", CS_NAME, false, p->cfg->instance,
		    sizeof(p->cfg->instance)));
	/* Sections first (sources refer to cores and eal), then sources, then across. */
	for (unsigned i = 0; i < FH_ARRAY_SIZE(sections); i++) {
		yaml_node_t *n = get(p, root, sections[i].key);
		if (!n)
			continue;
		o = push_key(p, sections[i].key);
		TRY(sections[i].fn(p, n));
		pop(p, o);
	}
	TRY(topic_names(p));
	TRY(parse_sources(p, root));
	return cross_check(p);
}

int fh_config_load_string(const char *yaml, size_t len, const char *name, unsigned flags,
			  struct fh_config *cfg, char *err, size_t errlen)
{
	yaml_parser_t parser;
	struct p *p;
	int rc;

	if (errlen)
		err[0] = '\0';
	p = calloc(1, sizeof(*p));
	if (!p) {
		if (errlen)
			snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->file = name ? name : "<string>";
	p->err = err;
	p->errlen = errlen;
	p->flags = flags;
	p->cfg = cfg;
	fh_config_defaults(cfg);
	snprintf(cfg->file, sizeof(cfg->file), "%s", p->file);

	if (len > FH_CFG_MAX_FILE_BYTES) {
		rc = fail(p, NULL, "config too large (%zu bytes, at most %u)", len,
			  FH_CFG_MAX_FILE_BYTES);
		goto out_free;
	}
	if (!yaml_parser_initialize(&parser)) {
		rc = fail(p, NULL, "cannot initialise the YAML parser");
		goto out_free;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &p->doc)) {
		yaml_mark_t m = parser.problem_mark;
		if (parser.error == YAML_MEMORY_ERROR)
			rc = fail(p, NULL, "out of memory while parsing YAML");
		else {
			rc = -EINVAL;
			if (errlen)
				snprintf(err, errlen, "%s:%zu:%zu: YAML syntax error: %s%s%s", p->file,
					 m.line + 1, m.column + 1,
					 parser.problem ? parser.problem : "invalid YAML",
					 parser.context ? " " : "", parser.context ? parser.context : "");
		}
		yaml_parser_delete(&parser);
		goto out_free;
	}
	rc = parse_root(p);
	if (!rc) {
		/* One document per file: a second one is almost always a paste error. */
		yaml_document_t extra;
		if (yaml_parser_load(&parser, &extra)) {
			yaml_node_t *r = yaml_document_get_root_node(&extra);
			if (r) {
				p->plen = 0;
				p->path[0] = '\0';
				rc = fail(p, r, "a second YAML document (only one is read; remove "
						"the ---)");
			}
			yaml_document_delete(&extra);
		} else {
			yaml_mark_t m = parser.problem_mark;
			if (errlen)
				snprintf(err, errlen, "%s:%zu:%zu: YAML syntax error: %s", p->file,
					 m.line + 1, m.column + 1,
					 parser.problem ? parser.problem : "invalid YAML");
			rc = -EINVAL;
		}
	}
	yaml_document_delete(&p->doc);
	yaml_parser_delete(&parser);
out_free:
	free(p);
	return rc;
}

int fh_config_load_ex(const char *path, unsigned flags, struct fh_config *cfg, char *err,
		      size_t errlen)
{
	FILE *f;
	char *buf;
	size_t n;
	int rc;

	if (errlen)
		err[0] = '\0';
	f = fopen(path, "rb");
	if (!f) {
		rc = -errno;
		if (errlen)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	buf = malloc(FH_CFG_MAX_FILE_BYTES + 1);
	if (!buf) {
		fclose(f);
		if (errlen)
			snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	n = fread(buf, 1, FH_CFG_MAX_FILE_BYTES + 1, f);
	if (ferror(f)) {
		rc = -EIO;
		if (errlen)
			snprintf(err, errlen, "%s: read error", path);
	} else {
		rc = fh_config_load_string(buf, n, path, flags, cfg, err, errlen);
	}
	free(buf);
	fclose(f);
	return rc;
}

int fh_config_load(const char *path, struct fh_config *cfg, char *err, size_t errlen)
{
	return fh_config_load_ex(path, 0, cfg, err, errlen);
}

int fh_config_load_default(unsigned flags, struct fh_config *cfg, char *err, size_t errlen)
{
	size_t len;
	const char *y = fh_config_default_yaml(&len);
	return fh_config_load_string(y, len, "config/default.yaml", flags, cfg, err, errlen);
}

uint64_t fh_config_memory_estimate(const struct fh_config *c)
{
	unsigned __int128 per = (unsigned __int128)c->books.max_orders * FH_CFG_ORDER_BYTES +
				(unsigned __int128)c->books.max_levels * FH_CFG_LEVEL_BYTES +
				(unsigned __int128)c->books.max_instruments * FH_CFG_INSTRUMENT_BYTES;
	unsigned __int128 tot = per * c->cores.n_rx;

	if (c->publish.shm.enabled)
		tot += (unsigned __int128)c->publish.shm.slots * FH_CFG_EVENT_BYTES;
	if (c->publish.kafka.enabled)
		tot += (unsigned __int128)c->publish.kafka.queue.capacity * FH_CFG_EVENT_BYTES;
	for (unsigned i = 0; i < c->n_sources; i++)
		tot += (unsigned __int128)c->sources[i].recovery.hold_packets * FH_CFG_HOLD_PKT_BYTES;
	return tot > UINT64_MAX ? UINT64_MAX : (uint64_t)tot;
}

int fh_config_engine_cfg(const struct fh_config *c, int rx_core, struct fh_engine_cfg *e,
			 char *err, size_t errlen)
{
	static struct fh_engine_cfg d; /* cold path: loader and start-up only */

	_Static_assert(FH_CFG_MAX_WINDOWS <= FH_ENGINE_MAX_WINDOWS, "engine windows");
	_Static_assert(FH_CFG_MAX_RULES <= FH_ENGINE_MAX_RULES, "engine rules");
	_Static_assert(FH_CFG_MAX_RULE_INSTRUMENTS <= FH_ENGINE_SCOPE_MAX, "engine scope");
	_Static_assert(FH_CFG_SYMBOL_LEN <= FH_ENGINE_SYMBOL_LEN, "engine symbols");
	_Static_assert(FH_CFG_MAX_SOURCES_PER_CORE <= FH_ENGINE_MAX_SOURCES, "engine sources");
	_Static_assert(FH_CFG_MAX_SLIDES <= FH_ENGINE_MAX_BUCKETS, "engine buckets");
	_Static_assert(FH_CFG_MAX_CB_SLIDES < FH_ENGINE_MAX_CB_BUCKETS, "engine cb buckets");
	_Static_assert((int)FH_CFG_RULE_STALE_BOOK == (int)FH_ENGINE_RULE_STALE_BOOK &&
			       (int)FH_CFG_RULE_LOCKED_BOOK == (int)FH_ENGINE_RULE_LOCKED_BOOK &&
			       (int)FH_CFG_RULE_PRICE_SPIKE == (int)FH_ENGINE_RULE_PRICE_SPIKE &&
			       (int)FH_CFG_RULE__COUNT == (int)FH_ENGINE_RULE__COUNT,
		       "rule kinds are the engine's");
	_Static_assert(FH_CFG_WIN_TUMBLING == FH_WINDOW_TUMBLING &&
			       FH_CFG_WIN_SLIDING == FH_WINDOW_SLIDING,
		       "window kinds are the event's");

	memset(e, 0, sizeof(*e));
	e->max_instruments = (uint32_t)c->books.max_instruments;
	for (unsigned i = 0; i < c->n_sources; i++) {
		if (c->sources[i].rx_core != rx_core)
			continue;
		if (e->n_sources == FH_ENGINE_MAX_SOURCES) {
			if (errlen)
				snprintf(err, errlen, "core %d owns more than %d sources", rx_core,
					 FH_ENGINE_MAX_SOURCES);
			return -EINVAL;
		}
		e->source_ids[e->n_sources++] = c->sources[i].id;
	}
	if (!e->n_sources) {
		/* A core without sources still runs an (idle) shard. */
		e->source_ids[0] = UINT16_MAX;
		e->n_sources = 1;
	}
	e->n_windows = (uint16_t)c->engine.n_windows;
	for (unsigned i = 0; i < c->engine.n_windows; i++) {
		const struct fh_cfg_window *w = &c->engine.windows[i];
		e->windows[i].kind = w->kind;
		e->windows[i].size_ms = (uint32_t)(w->size_ns / NS_MS);
		e->windows[i].slide_ms =
			w->kind == FH_CFG_WIN_SLIDING ? (uint32_t)(w->slide_ns / NS_MS) : 0;
	}
	e->vwap_window = (int16_t)c->engine.vwap_window;
	e->n_rules = (uint16_t)c->engine.n_rules;
	fh_engine_cfg_default(&d);
	for (unsigned i = 0; i < c->engine.n_rules; i++) {
		const struct fh_cfg_rule *r = &c->engine.rules[i];
		struct fh_engine_rule *o = &e->rules[i];
		/* Start from the engine's default rule of this kind: fields the config
		 * does not name keep the engine's tuning. */
		for (unsigned j = 0; j < d.n_rules; j++) {
			if (d.rules[j].kind == r->kind) {
				*o = d.rules[j];
				break;
			}
		}
		o->n_symbols = 0;
		o->instr_lo = 0;
		o->instr_hi = 0;
		memset(o->symbols, 0, sizeof(o->symbols));
		o->kind = r->kind;
		o->severity = r->severity;
		o->k = r->k;
		o->k2 = r->k2;
		o->lookback = r->lookback;
		o->min_samples = r->min_samples;
		o->min_bps = r->min_bps;
		o->min_move = r->min_move;
		o->min_qty = r->min_qty;
		o->cooldown_ms = (uint32_t)(r->cooldown_ns / NS_MS);
		/* Without a window a rule keeps the engine's (spread_widening's time constant). */
		if (r->window >= 0) {
			const struct fh_cfg_window *w = &c->engine.windows[r->window];
			o->window_ms = (uint32_t)(w->size_ns / NS_MS);
			o->slide_ms = r->kind == FH_CFG_RULE_CIRCUIT_BREAKER
					      ? (uint32_t)(w->slide_ns / NS_MS)
					      : 0;
		}
		if (!r->all_instruments) {
			o->n_symbols = (uint16_t)r->n_instruments;
			for (unsigned k = 0; k < r->n_instruments; k++)
				memcpy(o->symbols[k], r->instruments[k], FH_CFG_SYMBOL_LEN);
		}
	}
	return fh_engine_cfg_validate(e, err, errlen);
}

int fh_config_kafka_props(const struct fh_config *c, const char **kv, size_t max)
{
	static const char *const comp[] = { "", "none", "gzip", "snappy", "lz4", "zstd" };
	size_t n = 0;

	if (max < 2 * (3 + (size_t)c->publish.kafka.n_props) + 1)
		return -ENOSPC;
	kv[n++] = "compression.type";
	kv[n++] = c->publish.kafka.compression <= FH_CFG_COMP_ZSTD ? comp[c->publish.kafka.compression]
								   : "lz4";
	kv[n++] = "acks";
	kv[n++] = c->publish.kafka.acks < 0 ? "all" : (c->publish.kafka.acks ? "1" : "0");
	kv[n++] = "enable.idempotence";
	kv[n++] = c->publish.kafka.idempotence ? "true" : "false";
	for (unsigned i = 0; i < c->publish.kafka.n_props; i++) {
		kv[n++] = c->publish.kafka.props[i].key;
		kv[n++] = c->publish.kafka.props[i].value;
	}
	kv[n] = NULL;
	return (int)(n / 2);
}

int fh_config_source_index(const struct fh_config *c, const char *name)
{
	for (unsigned i = 0; i < c->n_sources; i++)
		if (!strcmp(c->sources[i].name, name))
			return (int)i;
	return -1;
}

int fh_config_window_index(const struct fh_config *c, const char *name)
{
	for (unsigned i = 0; i < c->engine.n_windows; i++)
		if (!strcmp(c->engine.windows[i].name, name))
			return (int)i;
	return -1;
}

const char *fh_config_protocol_name(unsigned v)
{
	return v >= 1 && v <= 2 ? protocol_names[v - 1] : "unknown";
}

const char *fh_config_transport_name(unsigned v)
{
	return v >= 1 && v <= 4 ? transport_names[v - 1] : "unknown";
}

const char *fh_config_rule_kind_name(unsigned v)
{
	return v >= 1 && v < FH_CFG_RULE__COUNT ? rule_names[v - 1] : "unknown";
}

const char *fh_config_family_name(unsigned v)
{
	return v < FH_CFG_FAM__COUNT ? family_names[v] : "unknown";
}

const char *fh_config_severity_name(unsigned v)
{
	return v >= 1 && v <= 3 ? severity_names[v - 1] : "unknown";
}
