/* SPDX-License-Identifier: MIT */
/* fh_memstat.c: jemalloc statistics through mallctl, /proc/self/status, DPDK pool callback, gauges. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fh_memstat.h"
#include "fh_metrics.h"

/* Weak: resolved when jemalloc is linked (the normal build), NULL in the
 * sanitizer and fuzz builds where ASan owns malloc. */
extern int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
	__attribute__((weak));

static unsigned (*pools_fn)(struct fh_memstat_pool *, unsigned, void *);
static void *pools_arg;

void fh_memstat_set_pools(unsigned (*fn)(struct fh_memstat_pool *out, unsigned cap, void *arg),
			  void *arg)
{
	pools_fn = fn;
	pools_arg = arg;
}

static int ctl_size(const char *name, uint64_t *out)
{
	size_t v = 0, len = sizeof(v);
	if (mallctl(name, &v, &len, NULL, 0) != 0)
		return -ENOENT;
	*out = v;
	return 0;
}

static void read_jemalloc(struct fh_memstat *st)
{
	uint64_t epoch = 1;
	size_t len = sizeof(epoch);
	/* Stats are cached by jemalloc until the epoch advances. */
	if (mallctl("epoch", &epoch, &len, &epoch, len) != 0)
		return;
	if (ctl_size("stats.allocated", &st->allocated) || ctl_size("stats.active", &st->active) ||
	    ctl_size("stats.resident", &st->resident))
		return;
	ctl_size("stats.mapped", &st->mapped);
	ctl_size("stats.retained", &st->retained);
	st->jemalloc = true;
	unsigned narenas = 0;
	len = sizeof(narenas);
	if (mallctl("arenas.narenas", &narenas, &len, NULL, 0) != 0)
		return;
	size_t page = 4096;
	len = sizeof(page);
	mallctl("arenas.page", &page, &len, NULL, 0);
	for (unsigned i = 0; i < narenas && st->n_arenas < FH_MEMSTAT_MAX_ARENAS; i++) {
		char name[64];
		uint64_t pactive = 0, resident = 0;
		snprintf(name, sizeof(name), "stats.arenas.%u.pactive", i);
		if (ctl_size(name, &pactive) != 0)
			continue; /* an arena never initialised has no stats */
		snprintf(name, sizeof(name), "stats.arenas.%u.resident", i);
		ctl_size(name, &resident);
		st->arena_active[st->n_arenas] = pactive * page;
		st->arena_resident[st->n_arenas] = resident;
		st->n_arenas++;
	}
}

static int read_proc(struct fh_memstat *st)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long kb;
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
			st->rss = kb * 1024;
		else if (sscanf(line, "VmHWM: %llu kB", &kb) == 1)
			st->hwm = kb * 1024;
	}
	fclose(f);
	return 0;
}

int fh_memstat_read(struct fh_memstat *st)
{
	memset(st, 0, sizeof(*st));
	if (mallctl)
		read_jemalloc(st);
	int rc = read_proc(st);
	if (pools_fn)
		st->n_pools = pools_fn(st->pools, FH_MEMSTAT_MAX_POOLS, pools_arg);
	if (st->n_pools > FH_MEMSTAT_MAX_POOLS)
		st->n_pools = FH_MEMSTAT_MAX_POOLS;
	return st->jemalloc || rc == 0 ? 0 : -ENOENT;
}

int64_t fh_memstat_growth(const struct fh_memstat *a, const struct fh_memstat *b)
{
	if (a->jemalloc && b->jemalloc)
		return (int64_t)b->resident - (int64_t)a->resident;
	return (int64_t)b->rss - (int64_t)a->rss;
}

/* Gauges: the first one refreshes the struct, the others read fields. */
struct field {
	struct fh_memstat *st;
	size_t off;   /* offset of a uint64_t in struct fh_memstat */
	int kind;     /* 0 field, 1 refresh + field, 2 pool in_use, 3 pool avail */
	unsigned idx;
};

#define MAX_FIELDS (8 + 2 * FH_MEMSTAT_MAX_ARENAS + 2 * FH_MEMSTAT_MAX_POOLS)
static struct field fields[MAX_FIELDS];
static unsigned n_fields;

static double field_value(void *arg)
{
	struct field *f = arg;
	if (f->kind == 1)
		fh_memstat_read(f->st);
	if (f->kind == 2)
		return f->idx < f->st->n_pools ? (double)f->st->pools[f->idx].in_use : 0;
	if (f->kind == 3)
		return f->idx < f->st->n_pools ? (double)f->st->pools[f->idx].avail : 0;
	uint64_t v;
	memcpy(&v, (const char *)f->st + f->off + (size_t)f->idx * sizeof(uint64_t), sizeof(v));
	return (double)v;
}

static int add_field(struct fh_metrics *m, struct fh_memstat *st, const char *name,
		     const char *help, const char *labels, size_t off, int kind, unsigned idx)
{
	if (n_fields >= MAX_FIELDS)
		return -ENOSPC;
	struct field *f = &fields[n_fields];
	*f = (struct field){ st, off, kind, idx };
	int rc = fh_metrics_gauge_fn(m, name, help, labels, field_value, f);
	if (rc < 0)
		return rc;
	n_fields++;
	return 0;
}

int fh_memstat_register(struct fh_metrics *m, struct fh_memstat *st)
{
	static const char help[] = "Process memory by allocator and kind (jemalloc stats, kernel RSS)";
	int rc = fh_memstat_read(st);
	if (rc)
		return rc;
	/* Registered first so that it refreshes the struct before the others read it. */
	rc = add_field(m, st, "fh_memory_bytes", help, "allocator=\"kernel\",kind=\"rss\"",
		       offsetof(struct fh_memstat, rss), 1, 0);
	if (!rc)
		rc = add_field(m, st, "fh_memory_bytes", help, "allocator=\"kernel\",kind=\"rss_peak\"",
			       offsetof(struct fh_memstat, hwm), 0, 0);
	if (!rc && st->jemalloc) {
		static const struct {
			const char *kind;
			size_t off;
		} je[] = {
			{ "allocated", offsetof(struct fh_memstat, allocated) },
			{ "active", offsetof(struct fh_memstat, active) },
			{ "resident", offsetof(struct fh_memstat, resident) },
			{ "mapped", offsetof(struct fh_memstat, mapped) },
			{ "retained", offsetof(struct fh_memstat, retained) },
		};
		char labels[96];
		for (size_t i = 0; i < FH_ARRAY_SIZE(je) && !rc; i++) {
			snprintf(labels, sizeof(labels), "allocator=\"jemalloc\",kind=\"%s\"", je[i].kind);
			rc = add_field(m, st, "fh_memory_bytes", help, labels, je[i].off, 0, 0);
		}
		for (unsigned a = 0; a < st->n_arenas && !rc; a++) {
			snprintf(labels, sizeof(labels), "arena=\"%u\",kind=\"active\"", a);
			rc = add_field(m, st, "fh_jemalloc_arena_bytes",
				       "jemalloc bytes per arena (active pages, resident)", labels,
				       offsetof(struct fh_memstat, arena_active), 0, a);
			snprintf(labels, sizeof(labels), "arena=\"%u\",kind=\"resident\"", a);
			if (!rc)
				rc = add_field(m, st, "fh_jemalloc_arena_bytes",
					       "jemalloc bytes per arena (active pages, resident)",
					       labels, offsetof(struct fh_memstat, arena_resident), 0, a);
		}
	}
	for (unsigned p = 0; p < st->n_pools && !rc; p++) {
		char labels[128];
		const struct fh_memstat_pool *pl = &st->pools[p];
		const char *name = pl->heap ? "fh_dpdk_heap_bytes" : "fh_mempool_objects";
		const char *h = pl->heap ? "DPDK malloc heap bytes by state"
					 : "DPDK mempool objects by state";
		/* Pool names come from DPDK: keep them valid as label values. */
		char pname[sizeof(pl->name)];
		size_t k;
		for (k = 0; k + 1 < sizeof(pname) && pl->name[k]; k++)
			pname[k] = (pl->name[k] == '"' || pl->name[k] == '\\' || pl->name[k] == '\n')
					   ? '_' : pl->name[k];
		pname[k] = '\0';
		snprintf(labels, sizeof(labels), "pool=\"%s\",state=\"in_use\"", pname);
		rc = add_field(m, st, name, h, labels, 0, 2, p);
		snprintf(labels, sizeof(labels), "pool=\"%s\",state=\"avail\"", pname);
		if (!rc)
			rc = add_field(m, st, name, h, labels, 0, 3, p);
	}
	return rc;
}

void fh_memstat_watch_init(struct fh_memstat_watch *w, uint64_t settle_ns)
{
	memset(w, 0, sizeof(*w));
	w->settle_ns = settle_ns;
}

int64_t fh_memstat_watch_sample(struct fh_memstat_watch *w, uint64_t now_ns)
{
	int rc = fh_memstat_read(&w->last);
	if (rc)
		return rc;
	w->samples++;
	if (!w->started) {
		w->started = true;
		w->first_ns = now_ns;
	}
	if (!w->baseline_taken) {
		if (now_ns - w->first_ns < w->settle_ns)
			return 0;
		w->base = w->last;
		w->baseline_taken = true;
		return 0;
	}
	int64_t g = fh_memstat_growth(&w->base, &w->last);
	if (g > w->max_growth)
		w->max_growth = g;
	return g;
}

int64_t fh_memstat_watch_growth(const struct fh_memstat_watch *w)
{
	return w->max_growth;
}

static double watch_growth(void *arg)
{
	return (double)fh_memstat_watch_growth(arg);
}

int fh_memstat_watch_register(struct fh_metrics *m, struct fh_memstat_watch *w)
{
	int rc = fh_metrics_gauge_fn(m, "fh_memory_growth_bytes",
				     "Largest resident memory growth since the first second (flat: 0)",
				     NULL, watch_growth, w);
	return rc < 0 ? rc : 0;
}
