/* SPDX-License-Identifier: MIT */
/* test_sim.c: exchange simulator: determinism, message mix, every type, self-consistency, pcap framing and impairments, anomalies. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fh_common.h"
#include "fh_itch.h"
#include "fh_sim.h"
#include "fh_test.h"

/* ---------------------------------------------------------------- helpers */

static struct fh_sim_cfg small_cfg(uint64_t seed, uint64_t n)
{
	struct fh_sim_cfg c = fh_sim_cfg_default();
	c.seed = seed;
	c.messages = n;
	c.symbols = 600;
	return c;
}

static uint64_t fnv(const uint8_t *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static int type_len(uint8_t t)
{
	switch (t) {
	case 'S': return 12;
	case 'R': return 39;
	case 'H': return 25;
	case 'Y': return 20;
	case 'L': return 26;
	case 'V': return 35;
	case 'W': return 12;
	case 'K': return 28;
	case 'J': return 35;
	case 'h': return 21;
	case 'A': return 36;
	case 'F': return 40;
	case 'E': return 31;
	case 'C': return 36;
	case 'X': return 23;
	case 'D': return 19;
	case 'U': return 35;
	case 'P': return 44;
	case 'Q': return 40;
	case 'B': return 19;
	case 'I': return 50;
	case 'N': return 20;
	case 'O': return 48;
	default: return -1;
	}
}

/* ---------------------------------------------------------------- shadow book */

/* An independent model of the resting orders, built only from the messages. */
struct sh_order {
	uint64_t ref;
	uint32_t shares, price;
	uint16_t locate;
	uint8_t side;
	uint32_t dense; /* position in live[] */
};

struct shadow {
	struct sh_order *tab; /* open addressing on ref, tombstones as ref 1 */
	uint32_t mask;
	uint32_t *live; /* table slots of live orders */
	uint32_t n_live, peak;
	uint64_t max_ref;
	uint64_t errors;
	uint64_t not_touch;  /* executions not at the best price of their side */
	uint64_t crossed;    /* checkpoints with bid >= ask */
	uint64_t prints;
	double max_jump;     /* largest relative move between consecutive printable trades of a locate */
	uint32_t *last_px;   /* per locate */
	uint64_t ref_not_increasing;
};

static int sh_init(struct shadow *s, uint32_t cap_pow2)
{
	memset(s, 0, sizeof(*s));
	s->tab = calloc(cap_pow2, sizeof(*s->tab));
	s->live = calloc(cap_pow2, sizeof(*s->live));
	s->last_px = calloc(65536, sizeof(*s->last_px));
	s->mask = cap_pow2 - 1;
	return s->tab && s->live && s->last_px ? 0 : -ENOMEM;
}

static void sh_free(struct shadow *s)
{
	free(s->tab);
	free(s->live);
	free(s->last_px);
}

static struct sh_order *sh_find(struct shadow *s, uint64_t ref)
{
	for (uint32_t h = (uint32_t)(ref * 0x9e3779b97f4a7c15ULL >> 32) & s->mask;; h = (h + 1) & s->mask) {
		if (s->tab[h].ref == ref)
			return &s->tab[h];
		if (s->tab[h].ref == 0)
			return NULL;
	}
}

static void sh_add(struct shadow *s, uint64_t ref, uint16_t locate, uint8_t side, uint32_t shares, uint32_t px)
{
	if (ref <= s->max_ref)
		s->ref_not_increasing++;
	if (ref > s->max_ref)
		s->max_ref = ref;
	if (sh_find(s, ref)) {
		s->errors++;
		return;
	}
	uint32_t h = (uint32_t)(ref * 0x9e3779b97f4a7c15ULL >> 32) & s->mask;
	while (s->tab[h].ref > 1)
		h = (h + 1) & s->mask;
	struct sh_order *o = &s->tab[h];
	o->ref = ref;
	o->shares = shares;
	o->price = px;
	o->locate = locate;
	o->side = side;
	o->dense = s->n_live;
	s->live[s->n_live++] = h;
	if (s->n_live > s->peak)
		s->peak = s->n_live;
	if (!shares || (side != 'B' && side != 'S') || !px)
		s->errors++;
}

static void sh_remove(struct shadow *s, struct sh_order *o)
{
	uint32_t last = s->live[--s->n_live];
	s->live[o->dense] = last;
	s->tab[last].dense = o->dense;
	o->ref = 1; /* tombstone */
}

/* Best price of a side of a locate (0: none), scanning the live set. */
static uint32_t sh_best(const struct shadow *s, uint16_t locate, uint8_t side)
{
	uint32_t best = 0;
	for (uint32_t k = 0; k < s->n_live; k++) {
		const struct sh_order *o = &s->tab[s->live[k]];
		if (o->locate != locate || o->side != side)
			continue;
		if (!best || (side == 'B' ? o->price > best : o->price < best))
			best = o->price;
	}
	return best;
}

static void sh_print(struct shadow *s, uint16_t locate, uint32_t px)
{
	if (s->last_px[locate]) {
		double j = fabs((double)px / s->last_px[locate] - 1.0);
		if (j > s->max_jump)
			s->max_jump = j;
	}
	s->last_px[locate] = px;
	s->prints++;
}

static void sh_check_crossed(struct shadow *s)
{
	/* per locate best bid / best ask in one pass */
	uint32_t *bb = calloc(65536, sizeof(*bb)), *ba = calloc(65536, sizeof(*ba));
	if (!bb || !ba) {
		s->errors++;
		goto out;
	}
	for (uint32_t k = 0; k < s->n_live; k++) {
		const struct sh_order *o = &s->tab[s->live[k]];
		if (o->side == 'B' && o->price > bb[o->locate])
			bb[o->locate] = o->price;
		if (o->side == 'S' && (!ba[o->locate] || o->price < ba[o->locate]))
			ba[o->locate] = o->price;
	}
	for (uint32_t l = 0; l < 65536; l++)
		if (bb[l] && ba[l] && bb[l] >= ba[l])
			s->crossed++;
out:
	free(bb);
	free(ba);
}

/* Applies one message; check_touch scans for the best price on executions (slow, small runs). */
static void sh_apply(struct shadow *s, const uint8_t *m, int len, bool check_touch)
{
	uint16_t locate = fh_be16(m + 1);
	struct sh_order *o;

	if (type_len(m[0]) != len) {
		s->errors++;
		return;
	}
	switch (m[0]) {
	case 'A':
	case 'F':
		sh_add(s, fh_be64(m + 11), locate, m[19], fh_be32(m + 20), fh_be32(m + 32));
		break;
	case 'E':
	case 'C':
		o = sh_find(s, fh_be64(m + 11));
		if (!o || o->locate != locate || fh_be32(m + 19) == 0 || fh_be32(m + 19) > o->shares) {
			s->errors++;
			break;
		}
		if (check_touch && o->price != sh_best(s, locate, o->side))
			s->not_touch++;
		if (m[0] == 'E' || m[31] == 'Y')
			sh_print(s, locate, m[0] == 'E' ? o->price : fh_be32(m + 32));
		o->shares -= fh_be32(m + 19);
		if (!o->shares)
			sh_remove(s, o);
		break;
	case 'X':
		o = sh_find(s, fh_be64(m + 11));
		/* a partial cancel leaves shares: a full one is a D */
		if (!o || o->locate != locate || fh_be32(m + 19) == 0 || fh_be32(m + 19) >= o->shares) {
			s->errors++;
			break;
		}
		o->shares -= fh_be32(m + 19);
		break;
	case 'D':
		o = sh_find(s, fh_be64(m + 11));
		if (!o || o->locate != locate) {
			s->errors++;
			break;
		}
		sh_remove(s, o);
		break;
	case 'U': {
		o = sh_find(s, fh_be64(m + 11));
		if (!o || o->locate != locate) {
			s->errors++;
			break;
		}
		uint8_t side = o->side;
		sh_remove(s, o);
		sh_add(s, fh_be64(m + 19), locate, side, fh_be32(m + 27), fh_be32(m + 31));
		break;
	}
	case 'P':
		sh_print(s, locate, fh_be32(m + 32));
		break;
	case 'Q':
		sh_print(s, locate, fh_be32(m + 27));
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------- tests */

static void test_determinism(void)
{
	uint64_t h[3] = { 0 };
	uint8_t *buf = malloc(1 << 20);
	struct fh_sim_cfg cfg[3] = { small_cfg(42, 60000), small_cfg(42, 60000), small_cfg(43, 60000) };

	FH_CHECK(buf != NULL);
	if (!buf)
		return;
	for (int k = 0; k < 3; k++) {
		struct fh_sim *s = fh_sim_create(&cfg[k]);
		size_t n;
		h[k] = 0xcbf29ce484222325ULL;
		FH_CHECK(s != NULL);
		if (!s)
			continue;
		/* odd buffer sizes: a message that does not fit is carried to the next call */
		while ((n = fh_sim_fill(s, buf, k == 1 ? 997 : (1 << 20))) > 0)
			h[k] = fnv(buf, n, h[k]);
		fh_sim_destroy(s);
	}
	FH_CHECK(h[0] == h[1]);
	FH_CHECK(h[0] != h[2]);
	free(buf);
}

struct run {
	struct fh_sim_stats st;
	uint64_t count, by_type[128], bytes;
	uint64_t ts_back, first_type, last_type, last_code, first_code;
	struct shadow sh;
};

static void run_session(const struct fh_sim_cfg *cfg, struct run *r, bool touch)
{
	uint8_t m[FH_SIM_MSG_MAX];
	uint64_t last = 0;
	int n;
	struct fh_sim *s = fh_sim_create(cfg);

	memset(r, 0, sizeof(*r));
	FH_CHECK(s != NULL);
	FH_CHECK(sh_init(&r->sh, 1u << 22) == 0);
	if (!s)
		return;
	while ((n = fh_sim_next(s, m, sizeof(m))) > 0) {
		uint64_t ts = fh_be48(m + 5);
		if (ts < last)
			r->ts_back++;
		last = ts;
		if (!r->count) {
			r->first_type = m[0];
			r->first_code = m[11];
		}
		r->last_type = m[0];
		r->last_code = m[11];
		r->count++;
		r->bytes += (uint64_t)n;
		r->by_type[m[0] & 0x7f]++;
		sh_apply(&r->sh, m, n, touch);
		if (r->count % 20000 == 0)
			sh_check_crossed(&r->sh);
	}
	FH_CHECK_EQ_I(fh_sim_next(s, m, 8), -EINVAL);
	fh_sim_get_stats(s, &r->st);
	fh_sim_destroy(s);
}

static void test_types_and_session(void)
{
	struct run r;
	struct fh_sim_cfg c = small_cfg(7, 200000);
	static const char all[] = "SRHYLVWKJhAFECXDUPQBINO";

	run_session(&c, &r, false);
	FH_CHECK_EQ_U(r.count, 200000);
	FH_CHECK_EQ_U(r.st.messages, 200000);
	FH_CHECK_EQ_U(r.st.bytes, r.bytes);
	for (const char *t = all; *t; t++) {
		if (!r.by_type[(int)*t])
			fprintf(stderr, "  missing type %c\n", *t);
		FH_CHECK(r.by_type[(int)*t] > 0);
		FH_CHECK_EQ_U(r.st.by_type[(int)*t], r.by_type[(int)*t]);
	}
	FH_CHECK_EQ_U(r.ts_back, 0);
	FH_CHECK_EQ_U(r.first_type, 'S');
	FH_CHECK_EQ_U(r.first_code, 'O');
	FH_CHECK_EQ_U(r.last_type, 'S');
	FH_CHECK_EQ_U(r.last_code, 'C');
	FH_CHECK_EQ_U(r.by_type['R'], c.symbols);
	FH_CHECK_EQ_U(r.by_type['S'], 6);
	FH_CHECK_EQ_U(r.sh.errors, 0);
	sh_free(&r.sh);
}

/* Whatever the size, exactly N messages from S/O to S/C, and consistent. */
static void test_sizes(void)
{
	static const uint64_t ns[] = { 1000, 1777, 5000, 40000, 123457 };
	static const uint32_t syms[] = { 20, 50, 500, 500, 2000 };

	for (unsigned k = 0; k < FH_ARRAY_SIZE(ns); k++) {
		struct run r;
		struct fh_sim_cfg c = small_cfg(100 + k, ns[k]);
		c.symbols = syms[k];
		c.anomalies = k >= 3 ? 6 : 0;
		run_session(&c, &r, false);
		FH_CHECK_EQ_U(r.count, ns[k]);
		FH_CHECK_EQ_U(r.first_type, 'S');
		FH_CHECK_EQ_U(r.first_code, 'O');
		FH_CHECK_EQ_U(r.last_type, 'S');
		FH_CHECK_EQ_U(r.last_code, 'C');
		FH_CHECK_EQ_U(r.by_type['S'], 6);
		FH_CHECK_EQ_U(r.ts_back, 0);
		FH_CHECK_EQ_U(r.sh.errors, 0);
		FH_CHECK_EQ_U(r.sh.crossed, 0);
		sh_free(&r.sh);
	}
}

static void test_mix_and_consistency(void)
{
	struct run r;
	struct fh_sim_cfg c = small_cfg(11, 400000);
	c.symbols = 300;

	run_session(&c, &r, true);
	double n = (double)r.count;
	double add = (r.by_type['A'] + r.by_type['F']) / n, del = r.by_type['D'] / n;
	double rep = r.by_type['U'] / n, exe = (r.by_type['E'] + r.by_type['C']) / n;
	double prt = r.by_type['P'] / n;
	fprintf(stderr, "  mix: add %.3f del %.3f rep %.3f exec %.3f print %.3f cancel %.3f peak %u\n", add,
		del, rep, exe, prt, r.by_type['X'] / n, r.sh.peak);
	FH_CHECK(fabs(add - 0.44) < 0.03);
	FH_CHECK(fabs(del - 0.43) < 0.03);
	FH_CHECK(fabs(rep - 0.07) < 0.015);
	FH_CHECK(fabs(exe - 0.03) < 0.01);
	FH_CHECK(fabs(prt - 0.01) < 0.005);
	FH_CHECK(r.by_type['F'] > 0 && r.by_type['A'] > r.by_type['F']);
	/* the stream is self-consistent: every reference names a live order with enough shares */
	FH_CHECK_EQ_U(r.sh.errors, 0);
	FH_CHECK_EQ_U(r.sh.ref_not_increasing, 0);
	FH_CHECK_EQ_U(r.sh.crossed, 0);
	/* executions at the touch, and a thin-tailed clean price process */
	FH_CHECK_EQ_U(r.sh.not_touch, 0);
	FH_CHECK(r.sh.prints > 1000);
	fprintf(stderr, "  largest move between consecutive prints: %.4f\n", r.sh.max_jump);
	FH_CHECK(r.sh.max_jump < 0.025); /* below the 3 % of a price_spike */
	/* the generator's own live count agrees with the shadow book */
	FH_CHECK_EQ_U(r.st.live_orders, r.sh.n_live);
	FH_CHECK_EQ_U(r.st.peak_live_orders, r.sh.peak);
	sh_free(&r.sh);
}

static void test_live_target(void)
{
	struct run r;
	struct fh_sim_cfg c = small_cfg(5, 300000);

	c.peak_live = 20000;
	run_session(&c, &r, false);
	fprintf(stderr, "  peak %llu target %u\n", (unsigned long long)r.st.peak_live_orders, c.peak_live);
	FH_CHECK(r.st.peak_live_orders >= c.peak_live * 9 / 10);
	FH_CHECK(r.st.peak_live_orders <= c.peak_live * 5 / 4);
	FH_CHECK_EQ_U(r.st.book_full, 0);
	FH_CHECK_EQ_U(r.sh.errors, 0);
	sh_free(&r.sh);
}

static void test_bad_cfg(void)
{
	struct fh_sim_cfg c = small_cfg(1, 100);
	FH_CHECK(fh_sim_create(&c) == NULL);
	FH_CHECK_EQ_I(errno, EINVAL);
	c = small_cfg(1, 100000);
	c.symbols = 0;
	FH_CHECK(fh_sim_create(&c) == NULL);
	c.symbols = 70000;
	FH_CHECK(fh_sim_create(&c) == NULL);
	c = small_cfg(1, 100000);
	c.anomalies = 5000;
	FH_CHECK(fh_sim_create(&c) == NULL);
}

/* ---------------------------------------------------------------- pcap */

struct pkt {
	int line; /* 0 A, 1 B */
	uint64_t t_ns;
	uint64_t seq;
	uint16_t count;
	bool bad;   /* blocks overrun the datagram */
	size_t off; /* payload offset in the file buffer */
	size_t len;
};

struct pcap_file {
	uint8_t *buf;
	size_t len;
	struct pkt *p;
	size_t n;
	uint64_t bad_ip_csum, bad_udp_csum, bad_mac, bad_session, time_back, bad_frame;
};

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (; n > 1; n -= 2, p += 2)
		s += (uint32_t)p[0] << 8 | p[1];
	if (n)
		s += (uint32_t)p[0] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Parses every record independently of the writer: headers, checksums, MoldUDP64 blocks. */
static int read_pcap(const char *path, const struct fh_sim_pcap_cfg *pc, struct pcap_file *pf)
{
	FILE *f = fopen(path, "rb");
	long sz;

	memset(pf, 0, sizeof(*pf));
	if (!f)
		return -errno;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	pf->buf = malloc((size_t)sz);
	pf->p = calloc((size_t)sz / 62 + 1, sizeof(*pf->p));
	if (!pf->buf || !pf->p || fread(pf->buf, 1, (size_t)sz, f) != (size_t)sz) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	pf->len = (size_t)sz;
	if (sz < 24 || le32(pf->buf) != 0xa1b23c4d || le32(pf->buf + 20) != 1)
		return -EINVAL;
	uint64_t last_t = 0;
	for (size_t off = 24; off + 16 <= pf->len;) {
		uint64_t t = (uint64_t)le32(pf->buf + off) * 1000000000ULL + le32(pf->buf + off + 4);
		uint32_t incl = le32(pf->buf + off + 8), orig = le32(pf->buf + off + 12);
		const uint8_t *e = pf->buf + off + 16, *ip = e + 14, *udp = ip + 20;
		off += 16 + incl;
		if (off > pf->len || incl != orig || incl < 42 + 20) {
			pf->bad_frame++;
			return -EINVAL;
		}
		if (t < last_t)
			pf->time_back++;
		last_t = t;
		uint32_t dst = fh_be32(ip + 16);
		int line = dst == pc->group_a ? 0 : dst == pc->group_b && pc->group_b ? 1 : -1;
		if (line < 0 || fh_be16(e + 12) != 0x0800 || ip[0] != 0x45 || ip[9] != 17 ||
		    fh_be16(ip + 2) != incl - 14 || fh_be16(udp + 4) != incl - 34 ||
		    fh_be16(udp + 2) != (line ? pc->port_b : pc->port_a))
			pf->bad_frame++;
		if (e[0] != 0x01 || e[1] != 0x00 || e[2] != 0x5e || e[3] != ((dst >> 16) & 0x7f) ||
		    e[4] != (uint8_t)(dst >> 8) || e[5] != (uint8_t)dst)
			pf->bad_mac++;
		if (fold(sum16(ip, 20, 0)) != 0xffff)
			pf->bad_ip_csum++;
		uint32_t ps = sum16(ip + 12, 8, 0) + 17 + (incl - 34);
		if (fold(sum16(udp, incl - 34, ps)) != 0xffff)
			pf->bad_udp_csum++;
		const uint8_t *mold = udp + 8;
		size_t ml = incl - 42;
		if (memcmp(mold, pc->session, 10))
			pf->bad_session++;
		struct pkt *p = &pf->p[pf->n++];
		p->line = line;
		p->t_ns = t;
		p->seq = fh_be64(mold + 10);
		p->count = fh_be16(mold + 18);
		p->off = (size_t)(mold - pf->buf);
		p->len = ml;
		if (p->count && p->count != 0xffff) {
			size_t q = 20;
			for (uint16_t k = 0; k < p->count; k++) {
				if (q + 2 > ml || q + 2 + fh_be16(mold + q) > ml) {
					p->bad = true;
					break;
				}
				q += 2 + fh_be16(mold + q);
			}
			if (q != ml)
				p->bad = true;
		}
	}
	return 0;
}

static void free_pcap(struct pcap_file *pf)
{
	free(pf->buf);
	free(pf->p);
}

static void tmp_path(char *b, size_t n, const char *tag)
{
	snprintf(b, n, "/tmp/fh-test-sim-%d-%s", (int)getpid(), tag);
}

/* The day-file stream of a config, for comparing message bytes. */
static uint8_t *day(const struct fh_sim_cfg *c, size_t *len)
{
	return fh_sim_itch_mem(c, len, NULL);
}

static void test_pcap_wellformed(void)
{
	struct fh_sim_cfg c = small_cfg(3, 50000);
	struct fh_sim_pcap_cfg pc;
	struct fh_sim_pcap_stats ps;
	struct pcap_file pf;
	char path[96];
	size_t dlen;
	uint8_t *d = day(&c, &dlen);

	fh_sim_pcap_cfg_default(&pc);
	pc.max_payload = 1000;
	pc.bundle_ns = 0; /* fill every packet */
	tmp_path(path, sizeof(path), "ok.pcap");
	FH_CHECK_EQ_I(fh_sim_write_pcap_path(&c, &pc, path, &ps), 0);
	FH_CHECK_EQ_I(read_pcap(path, &pc, &pf), 0);
	FH_CHECK_EQ_U(pf.bad_frame + pf.bad_mac + pf.bad_ip_csum + pf.bad_udp_csum + pf.bad_session, 0);
	FH_CHECK_EQ_U(pf.time_back, 0);
	FH_CHECK_EQ_U(pf.n, ps.packets);
	/* sequences run contiguously; the payload concatenates to the day file, bytes for bytes */
	uint64_t next = 1, hb = 0, ends = 0, full = 0, data = 0;
	size_t doff = 0;
	bool same = d != NULL;
	for (size_t k = 0; k < pf.n; k++) {
		struct pkt *p = &pf.p[k];
		FH_CHECK(!p->bad);
		FH_CHECK(p->len <= pc.max_payload);
		if (p->count == 0) {
			hb++;
			FH_CHECK_EQ_U(p->seq, next);
			continue;
		}
		if (p->count == 0xffff) {
			ends++;
			FH_CHECK_EQ_U(p->seq, next);
			continue;
		}
		data++;
		FH_CHECK_EQ_U(p->seq, next);
		next = p->seq + p->count;
		if (p->len + 52 > pc.max_payload)
			full++;
		/* MoldUDP64 blocks and day-file records share the 2-byte length prefix */
		if (same && (doff + p->len - 20 > dlen || memcmp(d + doff, pf.buf + p->off + 20, p->len - 20)))
			same = false;
		doff += p->len - 20;
	}
	FH_CHECK(same);
	FH_CHECK_EQ_U(doff, dlen);
	FH_CHECK_EQ_U(next, 50001);
	FH_CHECK_EQ_U(ends, 1);
	FH_CHECK(hb > 0);
	FH_CHECK_EQ_U(hb, ps.heartbeats);
	FH_CHECK(full > data / 2); /* busy periods fill packets to the payload cap */
	free_pcap(&pf);
	free(d);
	unlink(path);
}

/* Message sequences present on a line, with their packet count, from a parsed pcap. */
static uint8_t *seen_on(const struct pcap_file *pf, int line, uint64_t n)
{
	uint8_t *seen = calloc(n + 2, 1);
	for (size_t k = 0; seen && k < pf->n; k++) {
		const struct pkt *p = &pf->p[k];
		if (p->line != line || !p->count || p->count == 0xffff || p->bad)
			continue;
		for (uint64_t q = p->seq; q < p->seq + p->count && q <= n; q++)
			seen[q]++;
	}
	return seen;
}

static void test_pcap_ab_gaps(void)
{
	struct fh_sim_cfg c = small_cfg(4, 30000);
	struct fh_sim_pcap_cfg pc;
	struct fh_sim_pcap_stats ps;
	struct pcap_file pf;
	char path[96];

	fh_sim_pcap_cfg_default(&pc);
	pc.group_b = 0xe9360c70; /* 233.54.12.112 */
	pc.gaps[0] = (struct fh_sim_gap){ 1000, 1004, FH_SIM_LINE_A };
	pc.gaps[1] = (struct fh_sim_gap){ 20000, 20999, FH_SIM_LINE_A | FH_SIM_LINE_B };
	pc.gaps[2] = (struct fh_sim_gap){ 5000, 5000, FH_SIM_LINE_B };
	pc.n_gaps = 3;
	tmp_path(path, sizeof(path), "ab.pcap");
	FH_CHECK_EQ_I(fh_sim_write_pcap_path(&c, &pc, path, &ps), 0);
	FH_CHECK_EQ_I(read_pcap(path, &pc, &pf), 0);
	FH_CHECK_EQ_U(pf.bad_frame + pf.bad_mac + pf.bad_ip_csum + pf.bad_udp_csum, 0);
	uint8_t *a = seen_on(&pf, 0, 30000), *b = seen_on(&pf, 1, 30000);
	uint64_t miss_a = 0, miss_b = 0, dup = 0;
	bool exact = a && b;
	for (uint64_t q = 1; exact && q <= 30000; q++) {
		bool ga = (q >= 1000 && q <= 1004) || (q >= 20000 && q <= 20999);
		bool gb = (q == 5000) || (q >= 20000 && q <= 20999);
		miss_a += !a[q];
		miss_b += !b[q];
		dup += a[q] > 1 || b[q] > 1;
		if ((bool)a[q] == ga || (bool)b[q] == gb)
			exact = false;
	}
	FH_CHECK(exact); /* exactly the named sequences are missing, per line */
	FH_CHECK_EQ_U(miss_a, 1005);
	FH_CHECK_EQ_U(miss_b, 1001);
	FH_CHECK_EQ_U(dup, 0);
	FH_CHECK_EQ_U(ps.dropped_msgs[0], 1005);
	FH_CHECK_EQ_U(ps.dropped_msgs[1], 1001);
	/* B carries the same packets as A under the same sequence numbers */
	size_t same = 0, pairs = 0;
	for (size_t k = 0; k + 1 < pf.n; k++) {
		struct pkt *p = &pf.p[k], *q = &pf.p[k + 1];
		if (p->line == 0 && q->line == 1 && p->seq == q->seq) {
			pairs++;
			same += p->len == q->len && !memcmp(pf.buf + p->off, pf.buf + q->off, p->len);
		}
	}
	FH_CHECK(pairs > 100);
	FH_CHECK_EQ_U(same, pairs);
	free(a);
	free(b);
	free_pcap(&pf);
	unlink(path);
}

static void test_pcap_impairments(void)
{
	struct fh_sim_cfg c = small_cfg(9, 40000);
	struct fh_sim_pcap_cfg pc;
	struct fh_sim_pcap_stats ps;
	struct pcap_file pf;
	char path[96];

	fh_sim_pcap_cfg_default(&pc);
	pc.reorder_pct = 5;
	pc.corrupt_pct = 4;
	pc.drop_pct = 3;
	pc.bundle_ns = 0; /* always full packets */
	tmp_path(path, sizeof(path), "imp.pcap");
	FH_CHECK_EQ_I(fh_sim_write_pcap_path(&c, &pc, path, &ps), 0);
	FH_CHECK_EQ_I(read_pcap(path, &pc, &pf), 0);
	/* corruption is at the MoldUDP64 layer: frames and checksums stay valid */
	FH_CHECK_EQ_U(pf.bad_frame + pf.bad_mac + pf.bad_ip_csum + pf.bad_udp_csum, 0);
	uint64_t bad = 0, back = 0, data = 0, msgs = 0, last = 0;
	for (size_t k = 0; k < pf.n; k++) {
		struct pkt *p = &pf.p[k];
		if (!p->count || p->count == 0xffff)
			continue;
		data++;
		if (p->bad) {
			bad++;
			continue;
		}
		msgs += p->count;
		if (p->seq < last)
			back++;
		last = p->seq;
	}
	fprintf(stderr, "  data %llu bad %llu back %llu dropped %llu reordered %llu\n",
		(unsigned long long)data, (unsigned long long)bad, (unsigned long long)back,
		(unsigned long long)ps.dropped[0], (unsigned long long)ps.reordered[0]);
	FH_CHECK(ps.bad_len[0] > 0 && ps.truncated[0] > 0);
	FH_CHECK_EQ_U(bad, ps.bad_len[0] + ps.truncated[0]);
	/* a held packet whose successor is dropped goes out in place: inversions <= reorders */
	FH_CHECK(ps.reordered[0] > 0);
	FH_CHECK(back > 0 && back <= ps.reordered[0]);
	FH_CHECK(ps.dropped[0] > 0);
	FH_CHECK_EQ_U(data + ps.dropped[0], ps.data_packets);
	/* every message is accounted for: delivered intact, dropped, or inside a corrupted packet */
	uint64_t corrupted_msgs = 0;
	for (size_t k = 0; k < pf.n; k++)
		if (pf.p[k].bad)
			corrupted_msgs += pf.p[k].count;
	FH_CHECK_EQ_U(msgs + ps.dropped_msgs[0] + corrupted_msgs, 40000);
	free_pcap(&pf);
	unlink(path);

	/* the same impairment seed writes the same file */
	char p2[96];
	tmp_path(p2, sizeof(p2), "imp2.pcap");
	FH_CHECK_EQ_I(fh_sim_write_pcap_path(&c, &pc, path, NULL), 0);
	FH_CHECK_EQ_I(fh_sim_write_pcap_path(&c, &pc, p2, NULL), 0);
	struct pcap_file f1, f2;
	FH_CHECK_EQ_I(read_pcap(path, &pc, &f1), 0);
	FH_CHECK_EQ_I(read_pcap(p2, &pc, &f2), 0);
	FH_CHECK(f1.len == f2.len && !memcmp(f1.buf, f2.buf, f1.len));
	free_pcap(&f1);
	free_pcap(&f2);
	unlink(path);
	unlink(p2);
}

static void test_pcap_pacing(void)
{
	struct fh_sim_cfg c = small_cfg(2, 20000);
	struct fh_sim_pcap_cfg pc;
	struct pcap_file pf;
	char path[96];

	fh_sim_pcap_cfg_default(&pc);
	pc.pps = 100000; /* 10 us apart */
	tmp_path(path, sizeof(path), "pace.pcap");
	FH_CHECK_EQ_I(fh_sim_write_pcap_path(&c, &pc, path, NULL), 0);
	FH_CHECK_EQ_I(read_pcap(path, &pc, &pf), 0);
	uint64_t hb = 0, off = 0;
	for (size_t k = 1; k < pf.n; k++) {
		hb += pf.p[k].count == 0;
		if (pf.p[k].t_ns - pf.p[k - 1].t_ns != 10000)
			off++;
	}
	FH_CHECK(pf.n > 100);
	FH_CHECK_EQ_U(hb, 0);
	FH_CHECK_EQ_U(off, 0);
	free_pcap(&pf);
	unlink(path);
}

/* ---------------------------------------------------------------- anomalies, store */

static void test_anomalies(void)
{
	struct fh_sim_cfg c = small_cfg(21, 400000);
	uint8_t m[FH_SIM_MSG_MAX];
	struct shadow sh;
	int n;

	c.symbols = 400;
	c.anomalies = 12;
	struct fh_sim *s = fh_sim_create(&c);
	FH_CHECK(s != NULL);
	FH_CHECK(sh_init(&sh, 1u << 21) == 0);
	if (!s)
		return;
	/* per truth entry: the largest print move inside its window */
	double big[32] = { 0 }, dev[32] = { 0 };
	uint32_t ref[32] = { 0 };
	uint64_t vol[32] = { 0 };
	static uint32_t last_px[65536];
	static uint64_t day_vol[65536];
	const struct fh_sim_truth *t;
	size_t nt = 0;
	while ((n = fh_sim_next(s, m, sizeof(m))) > 0) {
		sh_apply(&sh, m, n, false);
		uint32_t px = 0, q = 0;
		uint16_t l = fh_be16(m + 1);
		if (m[0] == 'P')
			px = fh_be32(m + 32), q = fh_be32(m + 20);
		else if (m[0] == 'E' || (m[0] == 'C' && m[31] == 'Y'))
			px = sh.last_px[l], q = fh_be32(m + 19);
		if (!px)
			continue;
		nt = fh_sim_truth(s, &t);
		uint64_t ts = fh_be48(m + 5);
		if (ts >= 34200000000000ULL && ts < 57600000000000ULL)
			day_vol[l] += q;
		for (size_t k = 0; k < nt && k < 32; k++)
			if (t[k].locate == l && ts >= t[k].start_ns && ts <= t[k].end_ns && last_px[l]) {
				double j = fabs((double)px / last_px[l] - 1.0);
				if (j > big[k])
					big[k] = j;
				if (!ref[k])
					ref[k] = last_px[l];
				j = fabs((double)px / ref[k] - 1.0);
				if (j > dev[k])
					dev[k] = j;
				vol[k] += q;
			}
		last_px[l] = px;
	}
	nt = fh_sim_truth(s, &t);
	FH_CHECK_EQ_U(nt, 12);
	FH_CHECK_EQ_U(sh.errors, 0);
	uint64_t prev = 0;
	for (size_t k = 0; k < nt && k < 32; k++) {
		char sym[9];
		FH_CHECK(t[k].start_ns >= prev);
		prev = t[k].start_ns;
		FH_CHECK(t[k].end_ns >= t[k].start_ns);
		FH_CHECK_EQ_I(fh_sim_symbol(s, t[k].locate, sym), 0);
		FH_CHECK_STR(sym, t[k].symbol);
		/* normal 1-s volume: the instrument's regular-session volume per second */
		double norm = (double)day_vol[t[k].locate] / 23400.0;
		double secs = (double)(t[k].end_ns - t[k].start_ns) / 1e9;
		fprintf(stderr, "  %-16s %5u step %.2f%% from ref %.2f%% vol %llu (%.1fx normal 1-s)\n",
			fh_sim_anomaly_name(t[k].kind), t[k].locate, 100 * big[k], 100 * dev[k],
			(unsigned long long)vol[k], (double)vol[k] / (norm > 0 ? norm : 1));
		if (t[k].kind == FH_SIM_AN_VOLUME_SURGE) {
			FH_CHECK(secs <= 1.0);
			FH_CHECK((double)vol[k] >= 20.0 * norm);
			FH_CHECK(big[k] < 0.01);
		}
		if (t[k].kind == FH_SIM_AN_SPIKE_SURGE) {
			FH_CHECK(secs <= 1.0);
			FH_CHECK((double)vol[k] >= 5.0 * norm);
		}
		if (t[k].kind == FH_SIM_AN_CIRCUIT_BREAKER)
			FH_CHECK(dev[k] >= 0.12);
		switch (t[k].kind) {
		case FH_SIM_AN_PRICE_SPIKE:
			FH_CHECK(big[k] > 0.025 && big[k] < 0.04);
			break;
		case FH_SIM_AN_PRICE_GAP:
			FH_CHECK(big[k] > 0.07 && big[k] < 0.095);
			break;
		case FH_SIM_AN_SPIKE_SURGE:
			FH_CHECK(big[k] > 0.015 && big[k] < 0.03);
			break;
		case FH_SIM_AN_CIRCUIT_BREAKER:
			FH_CHECK(t[k].end_ns - t[k].start_ns <= 300000000000ULL);
			break;
		case FH_SIM_AN_SPREAD_WIDENING:
			FH_CHECK(t[k].end_ns - t[k].start_ns >= 2000000000ULL);
			break;
		default:
			break;
		}
	}
	/* second pass over the same session: the top-of-book spread around each spread_widening */
	struct fh_sim_truth tw[32];
	size_t nw = 0;
	for (size_t k = 0; k < nt && nw < 32; k++)
		if (t[k].kind == FH_SIM_AN_SPREAD_WIDENING)
			tw[nw++] = t[k];
	FH_CHECK(nw >= 2);
	struct shadow sh2;
	struct fh_sim *s2 = fh_sim_create(&c);
	FH_CHECK(sh_init(&sh2, 1u << 21) == 0);
	/* spreads after the last message before the start, after the start burst and in the 2 s after,
	 * and whether a later message shows it back near normal */
	double base[32] = { 0 }, wide_min[32], restored[32] = { 0 };
	for (size_t k = 0; k < 32; k++)
		wide_min[k] = 1e18;
	while (s2 && (n = fh_sim_next(s2, m, sizeof(m))) > 0) {
		sh_apply(&sh2, m, n, false);
		uint16_t l = fh_be16(m + 1);
		uint64_t ts = fh_be48(m + 5);
		for (size_t k = 0; k < nw; k++) {
			if (tw[k].locate != l || (restored[k] > 0 && ts > tw[k].end_ns))
				continue;
			uint32_t b = sh_best(&sh2, l, 'B'), a = sh_best(&sh2, l, 'S');
			double sp = a && b ? (double)a - (double)b : 0;
			if (ts < tw[k].start_ns)
				base[k] = sp;
			else if (ts == tw[k].start_ns)
				wide_min[k] = sp ? sp : 1e18; /* the burst ends wide */
			else if (ts <= tw[k].start_ns + 2000000000ULL && (!sp || sp < wide_min[k]))
				wide_min[k] = sp;
			else if (ts > tw[k].end_ns && sp > 0 && sp <= 2 * base[k])
				restored[k] = sp;
		}
	}
	for (size_t k = 0; k < nw; k++) {
		fprintf(stderr, "  spread_widening %u: before %.0f, narrowest in 2 s %.0f, restored %.0f\n",
			tw[k].locate, base[k], wide_min[k], restored[k]);
		FH_CHECK(base[k] > 0 && wide_min[k] < 1e18 && wide_min[k] >= 5 * base[k]);
		FH_CHECK(restored[k] > 0);
	}
	FH_CHECK_EQ_U(sh2.errors, 0);
	sh_free(&sh2);
	fh_sim_destroy(s2);

	char path[96];
	tmp_path(path, sizeof(path), "truth");
	FILE *f = fopen(path, "w");
	FH_CHECK(f && fh_sim_write_truth(s, f) == 0);
	if (f)
		fclose(f);
	f = fopen(path, "r");
	char kind[32], sym[16];
	unsigned loc;
	unsigned long long a, b;
	size_t lines = 0;
	while (f && fscanf(f, "%31s %u %15s %llu %llu", kind, &loc, sym, &a, &b) == 5)
		lines++;
	FH_CHECK_EQ_U(lines, 12);
	if (f)
		fclose(f);
	unlink(path);
	sh_free(&sh);
	fh_sim_destroy(s);
}

static void test_store(void)
{
	struct fh_sim_cfg c = small_cfg(8, 20000);
	size_t dlen;
	uint8_t *d = day(&c, &dlen);
	struct fh_sim_store *st = fh_sim_store_create(&c, 100);
	const uint8_t *m;
	size_t len, off = 0;
	bool same = d && st;

	FH_CHECK(st != NULL);
	if (!same)
		goto out;
	FH_CHECK_EQ_U(fh_sim_store_count(st), 20000);
	FH_CHECK_EQ_U(fh_sim_store_first_seq(st), 100);
	for (uint64_t q = 100; q < 20100; q++) {
		if (fh_sim_store_get(st, q, &m, &len) || len != fh_be16(d + off) || memcmp(m, d + off + 2, len))
			same = false;
		off += 2 + fh_be16(d + off);
	}
	FH_CHECK(same);
	FH_CHECK_EQ_I(fh_sim_store_get(st, 99, &m, &len), -ENOENT);
	FH_CHECK_EQ_I(fh_sim_store_get(st, 20100, &m, &len), -ENOENT);
out:
	fh_sim_store_destroy(st);
	free(d);
}

static void test_frame_builders(void)
{
	uint8_t f[200], pl[20];
	fh_sim_mold_header(pl, "ABCDEFGHIJ", 0x0102030405060708ULL, 0xffff);
	FH_CHECK(!memcmp(pl, "ABCDEFGHIJ", 10));
	FH_CHECK_EQ_U(fh_be64(pl + 10), 0x0102030405060708ULL);
	FH_CHECK_EQ_U(fh_be16(pl + 18), 0xffff);
	FH_CHECK_EQ_U(fh_sim_udp_frame(f, 61, 1, 0xef010203, 1, 2, pl, 20), 0);
	FH_CHECK_EQ_U(fh_sim_udp_frame(f, sizeof(f), 0x0a000001, 0xef810203, 1000, 2000, pl, 20), 62);
	/* 239.129.2.3: the MAC keeps only the low 23 bits */
	static const uint8_t mac[6] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 };
	FH_CHECK(!memcmp(f, mac, 6));
	FH_CHECK_EQ_U(fold(sum16(f + 14, 20, 0)), 0xffff);
}

/* The project's ITCH decoder (written independently) accepts every simulated message. */
static void test_decoder_accepts(void)
{
	struct fh_sim_cfg c = small_cfg(31, 100000);
	struct fh_itch_decoder d;
	struct fh_event ev[FH_ITCH_MAX_EVENTS] = { 0 };
	struct fh_sim_stats st;
	uint8_t m[FH_SIM_MSG_MAX];
	uint64_t seq = 0, adds_ok = 0, adds = 0;
	int n;
	struct fh_sim *s = fh_sim_create(&c);

	FH_CHECK(s != NULL);
	if (!s)
		return;
	fh_itch_decoder_init(&d, 1, 0, NULL);
	while ((n = fh_sim_next(s, m, sizeof(m))) > 0) {
		int k = fh_itch_decode(&d, m, (size_t)n, ++seq, 0, ev);
		FH_CHECK(k > 0);
		if (k > 0 && m[0] == 'A') {
			adds++;
			adds_ok += ev[0].type == FH_EV_ORDER_ADD && ev[0].instrument == fh_be16(m + 1) &&
				   ev[0].exch_ts_ns == fh_be48(m + 5) && ev[0].u.add.order_ref == fh_be64(m + 11) &&
				   ev[0].u.add.side == m[19] && ev[0].u.add.qty == fh_be32(m + 20) &&
				   ev[0].u.add.price == (int64_t)fh_be32(m + 32) * FH_PRICE_ITCH_MULT;
		}
	}
	fh_sim_get_stats(s, &st);
	for (unsigned r = 0; r < FH_ITCH_REJ__COUNT; r++)
		FH_CHECK_EQ_U(d.rejects[r], 0);
	FH_CHECK_EQ_U(d.messages, 100000);
	for (unsigned t = 0; t < 128; t++)
		FH_CHECK_EQ_U(d.count[t], st.by_type[t]);
	FH_CHECK(adds > 1000);
	FH_CHECK_EQ_U(adds_ok, adds);
	fh_sim_destroy(s);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_determinism),
	FH_CASE(test_types_and_session),
	FH_CASE(test_sizes),
	FH_CASE(test_mix_and_consistency),
	FH_CASE(test_live_target),
	FH_CASE(test_bad_cfg),
	FH_CASE(test_pcap_wellformed),
	FH_CASE(test_pcap_ab_gaps),
	FH_CASE(test_pcap_impairments),
	FH_CASE(test_pcap_pacing),
	FH_CASE(test_anomalies),
	FH_CASE(test_store),
	FH_CASE(test_frame_builders),
	FH_CASE(test_decoder_accepts),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
