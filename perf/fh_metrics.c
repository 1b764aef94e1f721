/* SPDX-License-Identifier: MIT */
/* fh_metrics.c: metrics registry, interval collection, Prometheus/JSON/HDR-log rendering, shm snapshot. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fh_metrics.h"

enum series_kind { S_COUNTER, S_COUNTER_FN, S_GAUGE, S_GAUGE_FN, S_LATENCY };

struct family {
	char name[FH_METRICS_NAME_LEN];
	char help[160];
	int kind_type; /* enum fh_metrics_type */
	int first, last; /* series list, -1 when empty */
};

struct series {
	int kind;
	int family;
	int next;
	int ref;   /* counter slot or latency index */
	char labels[FH_METRICS_LABELS_LEN];
	uint64_t (*cfn)(void *);
	double (*gfn)(void *);
	void *arg;
	double gauge;
	uint64_t counter; /* fn counters: value at the last tick */
	uint64_t at_tick; /* counters: value at the last tick, for the rate */
	double rate;      /* counters: per second over the last tick interval, NAN before two */
};

struct latency {
	int series;
	uint64_t mask;
	struct fh_hdr *cum;      /* since start */
	struct fh_hdr *win;      /* the last completed interval */
	struct fh_hdr *building; /* the interval being collected */
	char tag[FH_METRICS_NAME_LEN + FH_METRICS_LABELS_LEN];
};

struct fh_metrics {
	struct fh_metrics_cfg cfg;
	struct fh_metrics_core *cores;   /* [n_cores] */
	uint64_t *ctr_mem;
	struct fh_hdr **lat_mem;         /* [n_cores][max_latency * 2] */
	unsigned core_lat[FH_METRICS_MAX_CORES]; /* latency series per core */
	struct family *fam;
	struct series *ser;
	struct latency *lat;
	int n_fam, n_ser, n_lat, n_slots;
	int64_t *le_ns;
	double *le_s;
	unsigned n_le;
	uint64_t start_ns, last_tick_ns;
	long (*status_fn)(char *, size_t, void *);
	void *status_arg;
	struct fh_hdr_log log;           /* encoding buffers for /hdr */
	char *line;                      /* one /hdr line */
	size_t line_cap;
	struct fh_metrics_snap *snap;
	size_t snap_len;
	FILE *hdr_log;                   /* interval log written at every tick */
	bool hdr_log_header;
	int64_t *le_counts;              /* [n_le] scratch for rendering */
};

static const double default_le[] = {
	100e-9, 200e-9, 300e-9, 500e-9, 750e-9, 1e-6, 1.5e-6, 2e-6, 2.8e-6, 5e-6,
	10e-6, 20e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3,
	25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1.0, 10.0,
};

static const double json_pcts[] = { 0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.995,
				    99.999, 100 };

static bool valid_name(const char *s)
{
	if (!s || !*s || strlen(s) >= FH_METRICS_NAME_LEN - 16)
		return false;
	for (const char *p = s; *p; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
			  *p == ':' || (p != s && *p >= '0' && *p <= '9');
		if (!ok)
			return false;
	}
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* `k="v",k2="v2"`: Prometheus label names, values with \\ \" \n escapes. */
static bool valid_labels(const char *s, bool latency)
{
	if (!s)
		return true;
	if (strlen(s) >= FH_METRICS_LABELS_LEN)
		return false;
	const char *p = s;
	while (*p) {
		const char *k = p;
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
			return false;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
		       (*p >= '0' && *p <= '9'))
			p++;
		size_t klen = (size_t)(p - k);
		if ((klen >= 2 && k[0] == '_' && k[1] == '_') ||
		    (latency && ((klen == 2 && !strncmp(k, "le", 2)) ||
				 (klen == 8 && !strncmp(k, "quantile", 8)))))
			return false;
		if (p[0] != '=' || p[1] != '"')
			return false;
		p += 2;
		while (*p && *p != '"') {
			if (*p == '\n')
				return false;
			if (*p == '\\') {
				if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
					return false;
				p++;
			}
			p++;
		}
		if (*p != '"')
			return false;
		p++;
		if (*p == ',')
			p++;
		else if (*p)
			return false;
	}
	return true;
}

struct fh_metrics *fh_metrics_create(const struct fh_metrics_cfg *cfg_in)
{
	struct fh_metrics_cfg cfg = cfg_in ? *cfg_in : (struct fh_metrics_cfg){ 0 };
	if (!cfg.n_cores)
		cfg.n_cores = 4;
	if (!cfg.max_counters)
		cfg.max_counters = 512;
	if (!cfg.max_series)
		cfg.max_series = 2048;
	if (!cfg.max_latency)
		cfg.max_latency = 64;
	if (!cfg.le_seconds || !cfg.n_le) {
		cfg.le_seconds = default_le;
		cfg.n_le = FH_ARRAY_SIZE(default_le);
	}
	if (cfg.n_cores > FH_METRICS_MAX_CORES || fh_hdr_cfg_norm(&cfg.hdr) != 0) {
		errno = EINVAL;
		return NULL;
	}
	for (unsigned i = 1; i < cfg.n_le; i++)
		if (!(cfg.le_seconds[i] > cfg.le_seconds[i - 1])) {
			errno = EINVAL;
			return NULL;
		}
	struct fh_metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cfg = cfg;
	size_t ctr_stride = ((size_t)cfg.max_counters * 8 + FH_CACHE_LINE - 1) & ~(size_t)(FH_CACHE_LINE - 1);
	m->cores = aligned_alloc(FH_CACHE_LINE, sizeof(*m->cores) * cfg.n_cores);
	m->ctr_mem = aligned_alloc(FH_CACHE_LINE, ctr_stride * cfg.n_cores);
	m->lat_mem = calloc((size_t)cfg.n_cores * cfg.max_latency * 2, sizeof(*m->lat_mem));
	m->fam = calloc(cfg.max_series, sizeof(*m->fam));
	m->ser = calloc(cfg.max_series, sizeof(*m->ser));
	m->lat = calloc(cfg.max_latency, sizeof(*m->lat));
	m->le_ns = calloc(cfg.n_le, sizeof(*m->le_ns));
	m->le_s = calloc(cfg.n_le, sizeof(*m->le_s));
	m->le_counts = calloc(cfg.n_le, sizeof(*m->le_counts));
	m->n_le = cfg.n_le;
	if (!m->cores || !m->ctr_mem || !m->lat_mem || !m->fam || !m->ser || !m->lat ||
	    !m->le_ns || !m->le_s || !m->le_counts)
		goto out_free;
	memset(m->cores, 0, sizeof(*m->cores) * cfg.n_cores);
	memset(m->ctr_mem, 0, ctr_stride * cfg.n_cores);
	for (unsigned i = 0; i < cfg.n_cores; i++) {
		m->cores[i].ctr = (uint64_t *)((char *)m->ctr_mem + ctr_stride * i);
		m->cores[i].lat = m->lat_mem + (size_t)i * cfg.max_latency * 2;
	}
	for (unsigned i = 0; i < cfg.n_le; i++) {
		m->le_s[i] = cfg.le_seconds[i];
		m->le_ns[i] = (int64_t)llround(cfg.le_seconds[i] * 1e9);
	}
	if (fh_hdr_log_open(&m->log, NULL, 0, &cfg.hdr) != 0)
		goto out_free;
	m->line_cap = m->log.b64_cap + 512;
	m->line = malloc(m->line_cap);
	if (!m->line)
		goto out_log;
	if (cfg.shm_path) {
		m->snap_len = sizeof(struct fh_metrics_snap) +
			      (size_t)cfg.max_series * sizeof(struct fh_metrics_snap_ent);
		int fd = open(cfg.shm_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			goto out_line;
		if (ftruncate(fd, (off_t)m->snap_len) != 0) {
			close(fd);
			goto out_line;
		}
		void *p = mmap(NULL, m->snap_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		if (p == MAP_FAILED)
			goto out_line;
		m->snap = p;
		m->snap->cap = cfg.max_series;
		m->snap->magic = FH_METRICS_SNAP_MAGIC;
	}
	return m;

out_line:
	free(m->line);
out_log:
	fh_hdr_log_close(&m->log);
out_free:
	free(m->cores);
	free(m->ctr_mem);
	free(m->lat_mem);
	free(m->fam);
	free(m->ser);
	free(m->lat);
	free(m->le_ns);
	free(m->le_s);
	free(m->le_counts);
	free(m);
	errno = ENOMEM;
	return NULL;
}

void fh_metrics_destroy(struct fh_metrics *m)
{
	if (!m)
		return;
	for (int l = 0; l < m->n_lat; l++) {
		fh_hdr_destroy(m->lat[l].cum);
		fh_hdr_destroy(m->lat[l].win);
		fh_hdr_destroy(m->lat[l].building);
	}
	for (size_t i = 0; i < (size_t)m->cfg.n_cores * m->cfg.max_latency * 2; i++)
		fh_hdr_destroy(m->lat_mem[i]);
	if (m->snap)
		munmap(m->snap, m->snap_len);
	free(m->line);
	fh_hdr_log_close(&m->log);
	free(m->cores);
	free(m->ctr_mem);
	free(m->lat_mem);
	free(m->fam);
	free(m->ser);
	free(m->lat);
	free(m->le_ns);
	free(m->le_s);
	free(m->le_counts);
	free(m);
}

static int add_series(struct fh_metrics *m, const char *name, const char *help,
		      const char *labels, int type, int kind)
{
	if (!valid_name(name) || !valid_labels(labels, kind == S_LATENCY) ||
	    (help && (strchr(help, '\n') || strchr(help, '\\'))))
		return -EINVAL;
	if ((kind == S_COUNTER || kind == S_COUNTER_FN) != ends_with(name, "_total"))
		return -EINVAL;
	if (kind == S_LATENCY && (ends_with(name, "_seconds") || ends_with(name, "_total")))
		return -EINVAL;
	if (m->n_ser >= (int)m->cfg.max_series)
		return -ENOSPC;
	int f;
	for (f = 0; f < m->n_fam; f++)
		if (strcmp(m->fam[f].name, name) == 0)
			break;
	if (f < m->n_fam) {
		if (m->fam[f].kind_type != type)
			return -EINVAL;
		for (int s = m->fam[f].first; s >= 0; s = m->ser[s].next)
			if (strcmp(m->ser[s].labels, labels ? labels : "") == 0)
				return -EEXIST;
	} else {
		f = m->n_fam++;
		snprintf(m->fam[f].name, sizeof(m->fam[f].name), "%s", name);
		snprintf(m->fam[f].help, sizeof(m->fam[f].help), "%s", help ? help : name);
		m->fam[f].kind_type = type;
		m->fam[f].first = m->fam[f].last = -1;
	}
	int s = m->n_ser++;
	struct series *se = &m->ser[s];
	memset(se, 0, sizeof(*se));
	se->kind = kind;
	se->family = f;
	se->next = -1;
	snprintf(se->labels, sizeof(se->labels), "%s", labels ? labels : "");
	if (m->fam[f].last >= 0)
		m->ser[m->fam[f].last].next = s;
	else
		m->fam[f].first = s;
	m->fam[f].last = s;
	return s;
}

static void drop_last_series(struct fh_metrics *m, int s)
{
	/* Undo add_series for a registration that failed after it. */
	struct family *f = &m->fam[m->ser[s].family];
	if (f->first == s) {
		f->first = f->last = -1;
		if (m->ser[s].family == m->n_fam - 1)
			m->n_fam--;
	} else {
		for (int p = f->first; p >= 0; p = m->ser[p].next)
			if (m->ser[p].next == s) {
				m->ser[p].next = -1;
				f->last = p;
			}
	}
	m->n_ser--;
}

int fh_metrics_counter(struct fh_metrics *m, const char *name, const char *help,
		       const char *labels)
{
	if (m->n_slots >= (int)m->cfg.max_counters)
		return -ENOSPC;
	int s = add_series(m, name, help, labels, FH_METRICS_COUNTER, S_COUNTER);
	if (s < 0)
		return s;
	m->ser[s].ref = m->n_slots++;
	return m->ser[s].ref;
}

int fh_metrics_counter_fn(struct fh_metrics *m, const char *name, const char *help,
			  const char *labels, uint64_t (*fn)(void *arg), void *arg)
{
	if (!fn)
		return -EINVAL;
	int s = add_series(m, name, help, labels, FH_METRICS_COUNTER, S_COUNTER_FN);
	if (s < 0)
		return s;
	m->ser[s].cfn = fn;
	m->ser[s].arg = arg;
	m->ser[s].counter = fn(arg);
	return s;
}

int fh_metrics_gauge(struct fh_metrics *m, const char *name, const char *help,
		     const char *labels)
{
	return add_series(m, name, help, labels, FH_METRICS_GAUGE, S_GAUGE);
}

int fh_metrics_gauge_fn(struct fh_metrics *m, const char *name, const char *help,
			const char *labels, double (*fn)(void *arg), void *arg)
{
	if (!fn)
		return -EINVAL;
	int s = add_series(m, name, help, labels, FH_METRICS_GAUGE, S_GAUGE_FN);
	if (s < 0)
		return s;
	m->ser[s].gfn = fn;
	m->ser[s].arg = arg;
	m->ser[s].gauge = fn(arg);
	return s;
}

static void make_tag(char *out, size_t cap, const char *name, const char *labels)
{
	/* name.value1.value2 with characters the log format reserves replaced. */
	size_t n = (size_t)snprintf(out, cap, "%s", name);
	for (const char *p = labels; p && *p && n + 2 < cap; p++) {
		if (*p == '"') {
			out[n++] = '.';
			p++;
			while (*p && *p != '"' && n + 1 < cap) {
				if (*p == '\\')
					p++;
				out[n++] = (*p == ',' || *p == ' ' || *p == '\n' || *p == '=') ? '_' : *p;
				p++;
			}
			if (!*p)
				break;
		}
	}
	out[n < cap ? n : cap - 1] = '\0';
}

int fh_metrics_latency(struct fh_metrics *m, const char *name, const char *help,
		       const char *labels, uint64_t core_mask)
{
	if (m->n_lat >= (int)m->cfg.max_latency)
		return -ENOSPC;
	if (core_mask == 0 || (m->cfg.n_cores < 64 && (core_mask >> m->cfg.n_cores) != 0))
		return -EINVAL;
	int s = add_series(m, name, help, labels, FH_METRICS_LATENCY, S_LATENCY);
	if (s < 0)
		return s;
	int l = m->n_lat;
	struct latency *lt = &m->lat[l];
	memset(lt, 0, sizeof(*lt));
	lt->series = s;
	lt->mask = core_mask;
	lt->cum = fh_hdr_create(&m->cfg.hdr);
	lt->win = fh_hdr_create(&m->cfg.hdr);
	lt->building = fh_hdr_create(&m->cfg.hdr);
	bool ok = lt->cum && lt->win && lt->building;
	for (unsigned c = 0; ok && c < m->cfg.n_cores; c++) {
		if (!(core_mask >> c & 1))
			continue;
		struct fh_hdr **pair = &m->cores[c].lat[2 * l];
		pair[0] = fh_hdr_create(&m->cfg.hdr);
		pair[1] = fh_hdr_create(&m->cfg.hdr);
		ok = pair[0] && pair[1];
	}
	if (!ok) {
		for (unsigned c = 0; c < m->cfg.n_cores; c++) {
			struct fh_hdr **pair = &m->cores[c].lat[2 * l];
			fh_hdr_destroy(pair[0]);
			fh_hdr_destroy(pair[1]);
			pair[0] = pair[1] = NULL;
		}
		fh_hdr_destroy(lt->cum);
		fh_hdr_destroy(lt->win);
		fh_hdr_destroy(lt->building);
		drop_last_series(m, s);
		return -ENOMEM;
	}
	for (unsigned c = 0; c < m->cfg.n_cores; c++)
		if (core_mask >> c & 1)
			m->core_lat[c]++;
	make_tag(lt->tag, sizeof(lt->tag), name, labels);
	lt->win->start_ns = lt->win->end_ns = m->last_tick_ns;
	m->ser[s].ref = l;
	m->n_lat++;
	return l;
}

struct fh_metrics_core *fh_metrics_core(struct fh_metrics *m, unsigned core)
{
	return core < m->cfg.n_cores ? &m->cores[core] : NULL;
}

double fh_rate_peak_per_second(void *arg)
{
	const struct fh_rate_peak *p = arg;
	uint64_t peak = __atomic_load_n(&p->peak, __ATOMIC_RELAXED);
	return p->width_ns ? (double)peak * 1e9 / (double)p->width_ns : 0.0;
}

void fh_metrics_gauge_set(struct fh_metrics *m, int id, double v)
{
	if (id >= 0 && id < m->n_ser && m->ser[id].kind == S_GAUGE)
		m->ser[id].gauge = v;
}

uint64_t fh_metrics_counter_value(const struct fh_metrics *m, int id)
{
	/* id is the slot for per-core counters; series ids for fn counters
	 * never collide because the lookup goes by kind. */
	for (int s = 0; s < m->n_ser; s++) {
		const struct series *se = &m->ser[s];
		if (se->kind == S_COUNTER && se->ref == id) {
			uint64_t v = 0;
			for (unsigned c = 0; c < m->cfg.n_cores; c++)
				v += __atomic_load_n(&m->cores[c].ctr[id], __ATOMIC_RELAXED);
			return v;
		}
	}
	return 0;
}

static uint64_t series_counter(const struct fh_metrics *m, const struct series *se)
{
	if (se->kind == S_COUNTER_FN)
		return se->counter;
	uint64_t v = 0;
	for (unsigned c = 0; c < m->cfg.n_cores; c++)
		v += __atomic_load_n(&m->cores[c].ctr[se->ref], __ATOMIC_RELAXED);
	return v;
}

double fh_metrics_gauge_value(const struct fh_metrics *m, int id)
{
	if (id < 0 || id >= m->n_ser)
		return NAN;
	if (m->ser[id].kind == S_COUNTER_FN)
		return (double)m->ser[id].counter;
	return m->ser[id].gauge;
}

const struct fh_hdr *fh_metrics_latency_cumulative(const struct fh_metrics *m, int lat)
{
	return lat >= 0 && lat < m->n_lat ? m->lat[lat].cum : NULL;
}

const struct fh_hdr *fh_metrics_latency_window(const struct fh_metrics *m, int lat)
{
	return lat >= 0 && lat < m->n_lat ? m->lat[lat].win : NULL;
}

void fh_metrics_set_status_fn(struct fh_metrics *m,
			      long (*fn)(char *buf, size_t cap, void *arg), void *arg)
{
	m->status_fn = fn;
	m->status_arg = arg;
}

static void write_snapshot(struct fh_metrics *m, uint64_t now_ns);

int fh_metrics_set_hdr_log(struct fh_metrics *m, FILE *f)
{
	m->hdr_log = f;
	m->hdr_log_header = false;
	return 0;
}

static void write_hdr_log(struct fh_metrics *m)
{
	if (!m->hdr_log_header) {
		/* Timestamps in the log are relative to the first tick. */
		long n = fh_hdr_log_format_header(m->start_ns, m->line, m->line_cap);
		if (n > 0)
			fwrite(m->line, 1, (size_t)n, m->hdr_log);
		m->hdr_log_header = true;
	}
	m->log.base_ns = m->start_ns;
	for (int l = 0; l < m->n_lat; l++) {
		if (m->lat[l].win->total == 0)
			continue;
		long n = fh_hdr_log_format(&m->log, m->lat[l].win, m->lat[l].tag, 1e6, m->line,
					   m->line_cap);
		if (n > 0)
			fwrite(m->line, 1, (size_t)n, m->hdr_log);
	}
	fflush(m->hdr_log);
}

int fh_metrics_tick(struct fh_metrics *m, uint64_t now_ns)
{
	int stalled = 0;
	if (!m->start_ns)
		m->start_ns = now_ns;
	for (int l = 0; l < m->n_lat; l++)
		fh_hdr_reset(m->lat[l].building);
	for (unsigned c = 0; c < m->cfg.n_cores; c++) {
		struct fh_metrics_core *core = &m->cores[c];
		if (!m->core_lat[c])
			continue;
		uint32_t a = __atomic_load_n(&core->ack, __ATOMIC_ACQUIRE);
		if (core->pending && a != core->req) {
			core->stalls++;
			stalled++;
			continue;
		}
		if (core->pending) {
			/* The core now records into phase (a & 1); the other is ours. */
			uint32_t closed = (a & 1) ^ 1;
			for (int l = 0; l < m->n_lat; l++) {
				struct fh_hdr *h = core->lat[2 * l + closed];
				if (!h || h->total == 0)
					continue;
				fh_hdr_merge(m->lat[l].building, h);
				fh_hdr_merge(m->lat[l].cum, h);
				fh_hdr_reset(h);
			}
		}
		core->pending = 1;
		/* The histograms the core will switch to were reset above. */
		__atomic_store_n(&core->req, core->req + 1, __ATOMIC_RELEASE);
	}
	for (int l = 0; l < m->n_lat; l++) {
		struct latency *lt = &m->lat[l];
		struct fh_hdr *t = lt->win;
		lt->win = lt->building;
		lt->building = t;
		lt->win->start_ns = m->last_tick_ns ? m->last_tick_ns : now_ns;
		lt->win->end_ns = now_ns;
		lt->cum->start_ns = m->start_ns;
		lt->cum->end_ns = now_ns;
	}
	double dt = m->last_tick_ns && now_ns > m->last_tick_ns
			    ? (double)(now_ns - m->last_tick_ns) / 1e9 : 0.0;
	for (int s = 0; s < m->n_ser; s++) {
		struct series *se = &m->ser[s];
		if (se->kind == S_GAUGE_FN)
			se->gauge = se->gfn(se->arg);
		else if (se->kind == S_COUNTER_FN)
			se->counter = se->cfn(se->arg);
		if (se->kind == S_COUNTER || se->kind == S_COUNTER_FN) {
			/* Rates at the source, so that one /status read shows them. */
			uint64_t v = series_counter(m, se);
			se->rate = dt > 0 && v >= se->at_tick ? (double)(v - se->at_tick) / dt : NAN;
			se->at_tick = v;
		}
	}
	m->last_tick_ns = now_ns;
	if (m->snap)
		write_snapshot(m, now_ns);
	if (m->hdr_log)
		write_hdr_log(m);
	return stalled;
}

/* --- rendering --- */

struct out {
	char *buf;
	size_t cap, len;
	bool full;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	if (o->full)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

static long finish(struct out *o)
{
	return o->full ? -ENOSPC : (long)o->len;
}

/* Prometheus float: integers exactly, others with enough digits. */
static void put_num(struct out *o, double v)
{
	if (isnan(v))
		put(o, "NaN");
	else if (isinf(v))
		put(o, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		put(o, "%.0f", v);
	else
		put(o, "%.9g", v);
}

static void put_series(struct out *o, const char *name, const char *suffix, const char *labels,
		       const char *extra)
{
	bool any = (labels && *labels) || extra;
	put(o, "%s%s", name, suffix);
	if (any)
		put(o, "{%s%s%s}", labels ? labels : "", labels && *labels && extra ? "," : "",
		    extra ? extra : "");
	put(o, " ");
}

static void le_counts(struct fh_metrics *m, const struct fh_hdr *h)
{
	/* One pass: a bucket counts under a bound when its highest value fits. */
	unsigned k = 0;
	int64_t cum = 0;
	int32_t first = 0, last = -1;
	if (h->total) { /* counts lie between the buckets of min and max */
		first = fh_hdr_pvt_index(h, h->min);
		last = fh_hdr_pvt_index(h, h->max);
	}
	for (int32_t i = first; i <= last && i < h->counts_len; i++) {
		if (h->counts[i] == 0)
			continue;
		int64_t hi = fh_hdr_highest_equivalent(h, fh_hdr_value_at_index(h, i));
		while (k < m->n_le && hi > m->le_ns[k])
			m->le_counts[k++] = cum;
		cum += h->counts[i];
	}
	while (k < m->n_le)
		m->le_counts[k++] = cum;
}

/* Displayed quantiles never exceed the exact maximum (a value's bucket top
 * can lie above it). */
static void clamp_max(const struct fh_hdr *w, int64_t *vs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (w->total && vs[i] > w->max)
			vs[i] = w->max;
}

static const double summary_q[] = { 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0 };

long fh_metrics_render_prometheus(struct fh_metrics *m, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0, false };
	char extra[64];
	for (int f = 0; f < m->n_fam; f++) {
		const struct family *fa = &m->fam[f];
		if (fa->first < 0)
			continue;
		if (fa->kind_type == FH_METRICS_COUNTER || fa->kind_type == FH_METRICS_GAUGE) {
			bool ctr = fa->kind_type == FH_METRICS_COUNTER;
			put(&o, "# HELP %s %s\n# TYPE %s %s\n", fa->name, fa->help, fa->name,
			    ctr ? "counter" : "gauge");
			for (int s = fa->first; s >= 0; s = m->ser[s].next) {
				const struct series *se = &m->ser[s];
				put_series(&o, fa->name, "", se->labels, NULL);
				if (ctr)
					put(&o, "%" PRIu64 "\n", series_counter(m, se));
				else {
					put_num(&o, se->gauge);
					put(&o, "\n");
				}
			}
			continue;
		}
		/* Latency: a histogram since start, a summary of the last interval. */
		put(&o, "# HELP %s_seconds %s\n# TYPE %s_seconds histogram\n", fa->name, fa->help,
		    fa->name);
		for (int s = fa->first; s >= 0; s = m->ser[s].next) {
			const struct series *se = &m->ser[s];
			const struct fh_hdr *h = m->lat[se->ref].cum;
			le_counts(m, h);
			for (unsigned k = 0; k < m->n_le; k++) {
				snprintf(extra, sizeof(extra), "le=\"%.9g\"", m->le_s[k]);
				put_series(&o, fa->name, "_seconds_bucket", se->labels, extra);
				put(&o, "%" PRId64 "\n", m->le_counts[k]);
			}
			put_series(&o, fa->name, "_seconds_bucket", se->labels, "le=\"+Inf\"");
			put(&o, "%" PRId64 "\n", h->total);
			put_series(&o, fa->name, "_seconds_sum", se->labels, NULL);
			put_num(&o, (double)h->sum / 1e9);
			put(&o, "\n");
			put_series(&o, fa->name, "_seconds_count", se->labels, NULL);
			put(&o, "%" PRId64 "\n", h->total);
		}
		put(&o, "# HELP %s_window_seconds %s (quantiles over the last interval)\n"
			"# TYPE %s_window_seconds summary\n",
		    fa->name, fa->help, fa->name);
		for (int s = fa->first; s >= 0; s = m->ser[s].next) {
			const struct series *se = &m->ser[s];
			const struct fh_hdr *w = m->lat[se->ref].win, *h = m->lat[se->ref].cum;
			double ps[FH_ARRAY_SIZE(summary_q)];
			int64_t vs[FH_ARRAY_SIZE(summary_q)];
			for (size_t q = 0; q < FH_ARRAY_SIZE(summary_q); q++)
				ps[q] = summary_q[q] * 100.0;
			fh_hdr_values_at_percentiles(w, ps, vs, FH_ARRAY_SIZE(ps));
			clamp_max(w, vs, FH_ARRAY_SIZE(ps));
			for (size_t q = 0; q < FH_ARRAY_SIZE(summary_q); q++) {
				snprintf(extra, sizeof(extra), "quantile=\"%g\"", summary_q[q]);
				put_series(&o, fa->name, "_window_seconds", se->labels, extra);
				if (w->total == 0)
					put(&o, "NaN\n");
				else {
					/* The top quantile is the exact maximum. */
					int64_t v = summary_q[q] >= 1.0 ? w->max : vs[q];
					put_num(&o, (double)v / 1e9);
					put(&o, "\n");
				}
			}
			put_series(&o, fa->name, "_window_seconds_sum", se->labels, NULL);
			put_num(&o, (double)h->sum / 1e9);
			put(&o, "\n");
			put_series(&o, fa->name, "_window_seconds_count", se->labels, NULL);
			put(&o, "%" PRId64 "\n", h->total);
		}
	}
	return finish(&o);
}

/* Labels `k="v",...` as JSON members "k":"v" (the escapes are JSON's too). */
static void put_json_labels(struct out *o, const char *labels)
{
	put(o, "{");
	const char *p = labels;
	bool first = true;
	while (p && *p) {
		const char *eq = strchr(p, '=');
		if (!eq)
			break;
		put(o, "%s\"%.*s\":\"", first ? "" : ",", (int)(eq - p), p);
		first = false;
		p = eq + 2;
		const char *v = p;
		while (*p && *p != '"') {
			if (*p == '\\')
				p++;
			if (*p)
				p++;
		}
		put(o, "%.*s\"", (int)(p - v), v);
		if (*p == '"')
			p++;
		if (*p == ',')
			p++;
	}
	put(o, "}");
}

static void put_json_num(struct out *o, double v)
{
	if (isnan(v) || isinf(v))
		put(o, "null");
	else
		put_num(o, v);
}

long fh_metrics_render_json(struct fh_metrics *m, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0, false };
	unsigned stalled = 0;
	for (unsigned c = 0; c < m->cfg.n_cores; c++)
		stalled += m->core_lat[c] && m->cores[c].pending &&
			   __atomic_load_n(&m->cores[c].ack, __ATOMIC_ACQUIRE) != m->cores[c].req;
	put(&o, "{\"time_ms\":%" PRIu64 ",\"start_ms\":%" PRIu64 ",\"uptime_s\":%.3f,"
		"\"stalled_cores\":%u,\"metrics\":[",
	    m->last_tick_ns / 1000000, m->start_ns / 1000000,
	    (double)(m->last_tick_ns - m->start_ns) / 1e9, stalled);
	bool first = true;
	for (int f = 0; f < m->n_fam; f++) {
		const struct family *fa = &m->fam[f];
		if (fa->kind_type == FH_METRICS_LATENCY)
			continue;
		for (int s = fa->first; s >= 0; s = m->ser[s].next) {
			const struct series *se = &m->ser[s];
			put(&o, "%s{\"name\":\"%s\",\"type\":\"%s\",\"labels\":", first ? "" : ",",
			    fa->name, fa->kind_type == FH_METRICS_COUNTER ? "counter" : "gauge");
			put_json_labels(&o, se->labels);
			put(&o, ",\"value\":");
			if (fa->kind_type == FH_METRICS_COUNTER) {
				put(&o, "%" PRIu64 ",\"rate\":", series_counter(m, se));
				put_json_num(&o, se->rate);
			} else {
				put_json_num(&o, se->gauge);
			}
			put(&o, "}");
			first = false;
		}
	}
	put(&o, "],\"latency\":[");
	first = true;
	for (int l = 0; l < m->n_lat; l++) {
		const struct latency *lt = &m->lat[l];
		const struct series *se = &m->ser[lt->series];
		const struct fh_hdr *w = lt->win;
		int64_t vs[FH_ARRAY_SIZE(json_pcts)];
		fh_hdr_values_at_percentiles(w, json_pcts, vs, FH_ARRAY_SIZE(json_pcts));
		clamp_max(w, vs, FH_ARRAY_SIZE(json_pcts));
		put(&o, "%s{\"name\":\"%s\",\"labels\":", first ? "" : ",", m->fam[se->family].name);
		put_json_labels(&o, se->labels);
		put(&o, ",\"count\":%" PRId64 ",\"total\":%" PRId64 ",\"interval_s\":%.3f,"
			"\"mean_ns\":%.1f,\"max_ns\":%" PRId64 ",\"p50_ns\":%" PRId64
			",\"p90_ns\":%" PRId64 ",\"p99_ns\":%" PRId64 ",\"p999_ns\":%" PRId64
			",\"p9999_ns\":%" PRId64 ",\"dist\":[",
		    w->total, lt->cum->total,
		    w->end_ns > w->start_ns ? (double)(w->end_ns - w->start_ns) / 1e9 : 0.0,
		    fh_hdr_mean(w), w->total ? w->max : 0, vs[1], vs[3], vs[5], vs[7], vs[9]);
		for (size_t k = 0; k < FH_ARRAY_SIZE(json_pcts) && w->total; k++)
			put(&o, "%s[%g,%" PRId64 "]", k ? "," : "", json_pcts[k],
			    json_pcts[k] >= 100 ? w->max : vs[k]);
		put(&o, "]}");
		first = false;
	}
	put(&o, "]");
	if (m->status_fn && !o.full) {
		put(&o, ",\"app\":");
		if (!o.full) {
			long n = m->status_fn(o.buf + o.len, o.cap - o.len, m->status_arg);
			if (n < 0 || (size_t)n >= o.cap - o.len)
				o.full = true;
			else
				o.len += (size_t)n;
		}
	}
	put(&o, "}\n");
	return finish(&o);
}

long fh_metrics_render_hdr_log(struct fh_metrics *m, char *buf, size_t cap)
{
	long n = fh_hdr_log_format_header(m->start_ns, buf, cap);
	if (n < 0)
		return n;
	size_t len = (size_t)n;
	m->log.base_ns = m->start_ns;
	for (int l = 0; l < m->n_lat; l++) {
		long k = fh_hdr_log_format(&m->log, m->lat[l].win, m->lat[l].tag, 1e6, buf + len,
					   cap - len);
		if (k < 0)
			return k;
		len += (size_t)k;
	}
	return (long)len;
}

/* --- shm snapshot --- */

static void write_snapshot(struct fh_metrics *m, uint64_t now_ns)
{
	struct fh_metrics_snap *s = m->snap;
	uint64_t seq = s->seq;
	__atomic_store_n(&s->seq, seq + 1, __ATOMIC_RELAXED);
	/* Readers that see the odd sequence, or a changed one, retry. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	uint32_t n = 0;
	for (int f = 0; f < m->n_fam && n < s->cap; f++) {
		const struct family *fa = &m->fam[f];
		for (int i = fa->first; i >= 0 && n < s->cap; i = m->ser[i].next) {
			const struct series *se = &m->ser[i];
			struct fh_metrics_snap_ent *e = &s->ent[n++];
			memset(e, 0, sizeof(*e));
			e->type = (uint32_t)fa->kind_type;
			snprintf(e->name, sizeof(e->name), "%s", fa->name);
			snprintf(e->labels, sizeof(e->labels), "%s", se->labels);
			if (fa->kind_type == FH_METRICS_COUNTER) {
				e->value = (double)series_counter(m, se);
			} else if (fa->kind_type == FH_METRICS_GAUGE) {
				e->value = se->gauge;
			} else {
				const struct fh_hdr *w = m->lat[se->ref].win;
				static const double ps[] = { 50, 90, 99, 99.9, 99.99 };
				e->value = (double)w->total;
				e->total = m->lat[se->ref].cum->total;
				fh_hdr_values_at_percentiles(w, ps, e->pct_ns, 5);
				clamp_max(w, e->pct_ns, 5);
				e->pct_ns[5] = w->total ? w->max : 0;
				e->pct_ns[6] = (int64_t)fh_hdr_mean(w);
			}
		}
	}
	s->n = n;
	s->time_ns = now_ns;
	s->start_ns = m->start_ns;
	__atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

int fh_metrics_snap_read(const struct fh_metrics_snap *s, size_t region_len,
			 struct fh_metrics_snap *out, size_t out_cap)
{
	if (region_len < sizeof(*s) || s->magic != FH_METRICS_SNAP_MAGIC)
		return -EINVAL;
	for (int tries = 0; tries < 1000; tries++) {
		uint64_t a = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		if (a & 1) {
			usleep(100);
			continue;
		}
		uint32_t n = s->n;
		size_t fit = (region_len - sizeof(*s)) / sizeof(s->ent[0]);
		if (n > fit)
			return -EINVAL;
		if (n > out_cap)
			n = (uint32_t)out_cap;
		memcpy(out, s, sizeof(*s));
		memcpy(out->ent, s->ent, n * sizeof(s->ent[0]));
		out->n = n;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == a)
			return (int)n;
	}
	return -EAGAIN;
}
