/* SPDX-License-Identifier: MIT */
/* fh_rx.c: one RX core's pipeline (set-up on the cold path, the per-packet path inline here). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fh_dlq.h"
#include "fh_pcap.h"
#include "fh_rx.h"
#include "fh_time.h"

/* Allocations on the core's NUMA node when there is one (first touch
 * happens here, on the control thread, so the policy must say where). */
static void *rx_alloc(size_t size, int socket)
{
	void *p = NULL;

	size = (size + FH_CACHE_LINE - 1) & ~(size_t)(FH_CACHE_LINE - 1);
	if (socket >= 0 && numa_available() >= 0)
		numa_set_preferred(socket);
	if (posix_memalign(&p, FH_CACHE_LINE, size) != 0)
		p = NULL;
	else
		memset(p, 0, size);
	if (socket >= 0 && numa_available() >= 0)
		numa_set_localalloc();
	return p;
}

static void engine_emit(void *arg, const struct fh_event *ev);

static void stage(struct fh_rx_core *c, const struct fh_event *ev);
static void snapshot_book(struct fh_rx_core *c, struct fh_rx_chan *ch, uint32_t instr);

/* FIX session events: the decoded L2 levels and trades, then the book's BBO. */
static void fix_events(void *arg, const struct fh_event *ev, unsigned n)
{
	struct fh_rx_chan *ch = arg;
	struct fh_rx_core *c = ch->core;
	struct fh_event out[FH_L2BOOK_MAX_OUT];

	for (unsigned i = 0; i < n; i++) {
		stage(c, &ev[i]);
		if (c->engine)
			fh_engine_process(c->engine, &ev[i]);
		int k = fh_l2book_apply(ch->l2, &ev[i], out);
		for (int j = 0; j < k; j++) {
			stage(c, &out[j]);
			if (c->engine)
				fh_engine_process(c->engine, &out[j]);
		}
	}
	ch->st.messages++;
	ch->st.events += n;
}

/* Session log lines go to stderr: the session logs on connects, logons,
 * gaps and errors, never per message. */
static void fix_log(void *arg, const char *line)
{
	const struct fh_rx_chan *ch = arg;
	char msg[512];
	size_t n = 0;

	/* JSON-escape what a peer may have put in the line (Logout text). */
	for (const char *p = line; *p && n < sizeof(msg) - 7; p++) {
		unsigned char ch8 = (unsigned char)*p;
		if (ch8 == '"' || ch8 == '\\') {
			msg[n++] = '\\';
			msg[n++] = (char)ch8;
		} else if (ch8 < 0x20) {
			n += (size_t)snprintf(msg + n, sizeof(msg) - n, "\\u%04x", ch8);
		} else {
			msg[n++] = (char)ch8;
		}
	}
	msg[n] = 0;
	fprintf(stderr, "{\"level\":\"info\",\"event\":\"fix_session\",\"source\":\"%s\",\"msg\":\"%s\"}\n",
		ch->cfg.name, msg);
}

static int fix_init(struct fh_rx_chan *ch, const struct fh_rx_chan_cfg *cfg, char *err,
		    size_t errlen)
{
	struct fh_l2book_cfg bc = { .max_instruments = cfg->book.max_instruments,
				    .depth = cfg->book.depth };

	if (!cfg->fix) {
		snprintf(err, errlen, "%s: no FIX session configuration", cfg->name);
		return -EINVAL;
	}
	ch->l2 = fh_l2book_create(&bc);
	if (!ch->l2) {
		snprintf(err, errlen, "%s: FIX books: %s", cfg->name, strerror(errno));
		return -ENOMEM;
	}
	ch->fix = fh_fix_session_create(cfg->fix, fix_events, fix_log, ch);
	if (!ch->fix) {
		snprintf(err, errlen, "%s: FIX session: %s", cfg->name, strerror(errno));
		return -EINVAL;
	}
	fh_fix_set_dlq(fh_fix_session_decoder(ch->fix), cfg->dlq);
	return 0;
}

static int rec_init(struct fh_rx_core *c, struct fh_rx_chan *ch, const struct fh_rx_recovery_cfg *rc,
		    char *err, size_t errlen)
{
	struct fh_seqbuf_cfg sc = { .max_pkts = rc->hold_pkts ? rc->hold_pkts : 1024,
				    .max_len = 2048,
				    .hold_ns = rc->hold_ns ? rc->hold_ns : 1000000 };
	struct fh_rx_rec *r;
	char sess[FH_MOLD_SESSION_LEN];
	int ret;

	r = rx_alloc(sizeof(*r), c->cfg.numa_socket);
	if (!r) {
		snprintf(err, errlen, "%s: recovery: out of memory", ch->cfg.name);
		return -ENOMEM;
	}
	ch->rec = r;
	r->sock.fd = -1;
	r->hold_ns = sc.hold_ns;
	ret = fh_seqbuf_init(&r->sb, &sc);
	if (ret < 0) {
		snprintf(err, errlen, "%s: recovery hold buffer (%u packets): %s", ch->cfg.name,
			 sc.max_pkts, strerror(-ret));
		return ret;
	}
	/* the session is learnt from the feed (fh_rereq takes it per request) */
	memset(sess, ' ', sizeof(sess));
	ret = fh_rereq_init(&r->q, &rc->rereq, sess);
	if (ret < 0) {
		snprintf(err, errlen, "%s: re-request settings: %s", ch->cfg.name, strerror(-ret));
		return ret;
	}
	if (rc->snap_addr) {
		struct fh_soup_cfg scfg;
		char host[16];
		fh_soup_cfg_default(&scfg);
		snprintf(host, sizeof(host), "%u.%u.%u.%u", rc->snap_addr >> 24,
			 (rc->snap_addr >> 16) & 255, (rc->snap_addr >> 8) & 255, rc->snap_addr & 255);
		scfg.host = host;
		scfg.port = rc->snap_port;
		scfg.dlq = ch->cfg.dlq;
		scfg.source_id = ch->cfg.source_id;
		r->snap_min_gap = rc->snap_min_gap ? rc->snap_min_gap : 100000;
		r->soup = fh_soup_create(&scfg, err, errlen);
		if (!r->soup) {
			size_t l = strlen(err);
			snprintf(err + l, errlen - l, " (%s: snapshot client)", ch->cfg.name);
			return -EINVAL;
		}
	}
	if (!rc->rereq_addr)
		return 0;
	r->srv_addr = rc->rereq_addr;
	r->srv_port = rc->rereq_port;
	/* an ephemeral unicast port of our own; the server answers to it */
	ret = fh_kudp_open(&r->sock, 0, 0, NULL, 0, err, errlen);
	if (ret < 0) {
		size_t l = strlen(err);
		snprintf(err + l, errlen - l, " (%s: re-request socket)", ch->cfg.name);
		return ret;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(rc->rereq_port),
				  .sin_addr.s_addr = htonl(rc->rereq_addr) };
	if (connect(r->sock.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: re-request server %u.%u.%u.%u:%u: %s", ch->cfg.name,
			 rc->rereq_addr >> 24, (rc->rereq_addr >> 16) & 255, (rc->rereq_addr >> 8) & 255,
			 rc->rereq_addr & 255, rc->rereq_port, strerror(-ret));
		return ret;
	}
	socklen_t sl = sizeof(sa);
	if (getsockname(r->sock.fd, (struct sockaddr *)&sa, &sl) == 0) {
		r->local_addr = ntohl(sa.sin_addr.s_addr);
		r->local_port = ntohs(sa.sin_port);
	}
	return 0;
}

static void rec_destroy(struct fh_rx_rec *r)
{
	if (!r)
		return;
	fh_seqbuf_free(&r->sb);
	fh_soup_destroy(r->soup);
	if (r->sock.buf)
		fh_kudp_close(&r->sock);
	free(r);
}

static int chan_init(struct fh_rx_core *c, struct fh_rx_chan *ch, const struct fh_rx_chan_cfg *cfg,
		     char *err, size_t errlen)
{
	char berr[256];
	int ret;

	ch->cfg = *cfg;
	if (cfg->n_lines == 0 || cfg->n_lines > FH_RX_MAX_LINES) {
		snprintf(err, errlen, "%s: %u lines (1..%u)", cfg->name, cfg->n_lines, FH_RX_MAX_LINES);
		return -EINVAL;
	}
	if (cfg->kind == FH_RX_DPDK && !cfg->port) {
		snprintf(err, errlen, "%s: no DPDK port", cfg->name);
		return -EINVAL;
	}
	for (unsigned l = 0; cfg->kind == FH_RX_KUDP && l < cfg->n_lines; l++) {
		if (!cfg->kudp[l]) {
			snprintf(err, errlen, "%s: line %u has no socket", cfg->name, l);
			return -EINVAL;
		}
	}
	ch->core = c;
	ch->peak_1s.width_ns = 1000000000ull;
	ch->peak_1ms.width_ns = 1000000ull;
	fh_mold_init(&ch->mold, cfg->source_id, cfg->dlq);
	fh_itch_decoder_init(&ch->dec, cfg->source_id, cfg->day_base_ns, cfg->dlq);
	if (cfg->kind == FH_RX_FIX)
		return fix_init(ch, cfg, err, errlen);
	if (c->cfg.numa_socket >= 0 && numa_available() >= 0)
		numa_set_preferred(c->cfg.numa_socket);
	ret = fh_book_create(&cfg->book, &ch->book, berr, sizeof(berr));
	if (c->cfg.numa_socket >= 0 && numa_available() >= 0)
		numa_set_localalloc();
	if (ret < 0) {
		snprintf(err, errlen, "%s: books: %s", cfg->name, berr);
		return ret;
	}
	ch->n_instr_ev = fh_book_max_instruments(ch->book);
	ch->instr_ev = rx_alloc((size_t)ch->n_instr_ev * sizeof(*ch->instr_ev), c->cfg.numa_socket);
	if (!ch->instr_ev) {
		snprintf(err, errlen, "%s: instrument table: out of memory", cfg->name);
		return -ENOMEM;
	}
	ch->pace_ticks_per_ns = fh_tsc_clock.hz / 1e9;
	if (ch->pace_ticks_per_ns <= 0)
		ch->pace_ticks_per_ns = 1.0;
	if (cfg->pace == FH_RX_PACE_RECORDED && cfg->speed > 0)
		ch->pace_ticks_per_ns /= cfg->speed;
	if (cfg->recovery.enabled)
		return rec_init(c, ch, &cfg->recovery, err, errlen);
	return 0;
}

struct fh_rx_core *fh_rx_core_create(const struct fh_rx_core_cfg *cfg, char *err, size_t errlen)
{
	struct fh_rx_core *c;
	int ret;

	if (cfg->n_chans == 0 || cfg->n_chans > FH_RX_MAX_CHANS) {
		snprintf(err, errlen, "rx core %u: %u channels (1..%u)", cfg->index, cfg->n_chans,
			 FH_RX_MAX_CHANS);
		return NULL;
	}
	uint64_t cap = cfg->ring_capacity ? cfg->ring_capacity : (1u << 16);
	if (cap & (cap - 1)) {
		snprintf(err, errlen, "rx core %u: ring capacity %llu is not a power of two",
			 cfg->index, (unsigned long long)cap);
		return NULL;
	}
	c = rx_alloc(sizeof(*c), cfg->numa_socket);
	if (!c)
		goto out_nomem;
	c->cfg = *cfg;
	c->cfg.chans = NULL;
	c->n_chans = cfg->n_chans;
	c->chans = rx_alloc(sizeof(*c->chans) * cfg->n_chans, cfg->numa_socket);
	c->ring = rx_alloc(fh_spsc_memsize(cap), cfg->numa_socket);
	if (!c->chans || !c->ring)
		goto out_nomem;
	ret = fh_spsc_init(c->ring, cap);
	if (ret < 0) {
		snprintf(err, errlen, "rx core %u: ring: %s", cfg->index, strerror(-ret));
		goto out_destroy;
	}
	for (unsigned i = 0; i < cfg->n_chans; i++) {
		ret = chan_init(c, &c->chans[i], &cfg->chans[i], err, errlen);
		if (ret < 0)
			goto out_destroy;
	}
	if (cfg->engine) {
		size_t sz = fh_engine_memsize(cfg->engine);
		if (sz == 0) {
			snprintf(err, errlen, "rx core %u: engine configuration rejected", cfg->index);
			goto out_destroy;
		}
		c->engine_mem = rx_alloc(sz, cfg->numa_socket);
		if (!c->engine_mem)
			goto out_nomem;
		c->engine = fh_engine_init(c->engine_mem, cfg->engine);
		if (!c->engine) {
			snprintf(err, errlen, "rx core %u: engine initialisation failed", cfg->index);
			goto out_destroy;
		}
		fh_engine_set_emit(c->engine, engine_emit, c);
	}
	c->lat_every = 64;
	fh_probe_ring_init(&c->probes);
	c->snap_interval_tsc = (uint64_t)((double)cfg->snapshot_interval_ns * fh_tsc_clock.hz / 1e9);
	c->next_snap_tsc = fh_rdtsc() + c->snap_interval_tsc;
	return c;

out_nomem:
	snprintf(err, errlen, "rx core %u: out of memory", cfg->index);
out_destroy:
	fh_rx_core_destroy(c);
	return NULL;
}

void fh_rx_core_destroy(struct fh_rx_core *c)
{
	if (!c)
		return;
	for (unsigned i = 0; c->chans && i < c->n_chans; i++) {
		struct fh_rx_chan *ch = &c->chans[i];
		for (unsigned k = ch->pend_pos; k < ch->pend_n; k++)
			rte_pktmbuf_free(ch->pend[k]);
		if (ch->book)
			fh_book_destroy(ch->book);
		if (ch->fix)
			fh_fix_session_destroy(ch->fix);
		if (ch->l2)
			fh_l2book_destroy(ch->l2);
		rec_destroy(ch->rec);
		free(ch->instr_ev);
	}
	free(c->chans);
	free(c->ring);
	free(c->engine_mem);
	free(c);
}

void fh_rx_flush(struct fh_rx_core *c)
{
	unsigned done = 0;

	/* the probe goes first: the publisher may take the events at once, and
	 * must find the probe waiting for their position (this flush always
	 * completes, so the position is reached) */
	if (fh_unlikely(c->probe_pending)) {
		struct fh_probe pr = { .pos = c->ring_events + c->nb, .tsc = c->probe_tsc,
				       .source_id = c->probe_src };
		fh_probe_push(&c->probes, &pr);
		c->probe_pending = false;
	}
	while (done < c->nb) {
		unsigned n = fh_spsc_enqueue_burst(c->ring, c->batch + done, c->nb - done);
		if (fh_unlikely(n == 0)) {
			/* The publisher is behind: wait rather than lose events a
			 * subscriber's book depends on; loss moves to the NIC, where
			 * it is counted (imissed) and seen as a gap. */
			c->ring_full_spins++;
			__builtin_ia32_pause();
			continue;
		}
		done += n;
	}
	c->ring_events += c->nb;
	c->nb = 0;
}

static inline void stage(struct fh_rx_core *c, const struct fh_event *ev)
{
	if (fh_unlikely(c->mute))
		return;
	if (fh_unlikely(c->nb == FH_RX_BATCH))
		fh_rx_flush(c);
	c->batch[c->nb++] = *ev;
	c->staged++;
	if (fh_likely(!c->in_snapshot))
		c->by_type[ev->type < FH_EV__COUNT ? ev->type : FH_EV__COUNT]++;
}

static void engine_emit(void *arg, const struct fh_event *ev)
{
	stage(arg, ev);
}

/* One decoded event through the book and the engine. */
/* probe NULL on the hot path (the compiler drops the probes); else
 * probe[0] and probe[1] get the TSC after the book and after the engine. */
static inline void process_event(struct fh_rx_core *c, struct fh_rx_chan *ch,
				 const struct fh_event *ev, uint64_t *probe)
{
	struct fh_event out[FH_BOOK_MAX_OUT];
	unsigned t = ev->type;

	/* P/Q/B trades come back out of the book: stage them once, from there. */
	if (t != FH_EV_TRADE && t != FH_EV_BROKEN_TRADE) {
		stage(c, ev);
		if (fh_unlikely(t == FH_EV_INSTRUMENT) && ev->instrument < ch->n_instr_ev)
			ch->instr_ev[ev->instrument] = *ev;
		if (c->engine && t >= FH_EV_INSTRUMENT)
			fh_engine_process(c->engine, ev);
	}
	int n = fh_book_apply(ch->book, ev, out);
	if (fh_unlikely(n < 0)) {
		/* crossed book under the abort policy: its events are still out */
		n = (int)fh_book_last_out(ch->book);
		c->book_aborts++;
		c->abort = true;
	}
	if (probe)
		probe[0] = fh_rdtsc();
	for (int i = 0; i < n; i++) {
		stage(c, &out[i]);
		if (c->engine)
			fh_engine_process(c->engine, &out[i]);
	}
	if (probe)
		probe[1] = fh_rdtsc();
}

/* The first message of a sampled packet, with the stage probes. */
FH_COLD static void probe_first(struct fh_rx_core *c, struct fh_rx_chan *ch,
				const struct fh_event *ev, int k)
{
	uint64_t t_dec = fh_rdtsc(), p[2];

	for (int j = 0; j < k; j++)
		process_event(c, ch, &ev[j], j == 0 ? p : NULL);
	if (k > 0 && c->lat_fn) {
		c->lat_fn(c->lat_arg, FH_RX_STAGE_DECODE, t_dec - c->burst_tsc, 1);
		c->lat_fn(c->lat_arg, FH_RX_STAGE_BOOK, p[0] - c->burst_tsc, 1);
		c->lat_fn(c->lat_arg, FH_RX_STAGE_ENGINE, p[1] - c->burst_tsc, 1);
	}
}

FH_COLD static void gap_log(struct fh_rx_chan *ch, uint64_t first, uint64_t last)
{
	if (ch->n_gap_log && ch->gap_log[ch->n_gap_log - 1][1] + 1 == first) {
		ch->gap_log[ch->n_gap_log - 1][1] = last;
		return;
	}
	if (ch->n_gap_log == FH_RX_GAP_LOG) {
		ch->gap_log_more++;
		return;
	}
	ch->gap_log[ch->n_gap_log][0] = first;
	ch->gap_log[ch->n_gap_log][1] = last;
	ch->n_gap_log++;
}

FH_COLD static void rec_mold_status(struct fh_rx_chan *ch, unsigned line, const struct fh_mold_rx *mr)
{
	struct fh_rx_rec *r = ch->rec;

	for (unsigned i = 0; i < mr->nstatus; i++) {
		const struct fh_event *e = &mr->status[i];
		if (e->u.feed.kind != FH_FEED_GAP)
			continue;
		/* reported: nobody waits for these any more */
		r->st.lost_msgs += e->u.feed.last_seq - e->u.feed.first_seq + 1;
		fh_rereq_filled(&r->q, e->u.feed.first_seq, e->u.feed.last_seq);
	}
	if (mr->n && r->q.n)
		fh_rereq_filled(&r->q, mr->first_seq, mr->first_seq + mr->n - 1);
	if (line == FH_RX_RETRANS_LINE)
		r->st.recovered_msgs += mr->n;
}

/* One MoldUDP64 datagram through sequencing, decoding, books and engine. */
static void rx_mold(struct fh_rx_core *c, struct fh_rx_chan *ch, unsigned line, const uint8_t *p,
		    uint32_t len, uint64_t recv_ns)
{
	struct fh_mold_rx mr;
	struct fh_event ev[FH_ITCH_MAX_EVENTS];

	uint64_t staged0 = c->staged;

	/* answers to different requests go back and forth in sequence */
	if (fh_unlikely(line == FH_RX_RETRANS_LINE))
		ch->mold.line_next[line] = 0;
	if (fh_mold_rx(&ch->mold, line, p, len, recv_ns, &mr) < 0)
		return; /* counted and dead-lettered by the session */
	for (unsigned i = 0; i < mr.nstatus; i++) {
		if (mr.status[i].u.feed.kind == FH_FEED_GAP)
			gap_log(ch, mr.status[i].u.feed.first_seq, mr.status[i].u.feed.last_seq);
		process_event(c, ch, &mr.status[i], NULL);
	}
	if (fh_unlikely(ch->rec != NULL) && (mr.nstatus || ch->rec->q.n || line == FH_RX_RETRANS_LINE))
		rec_mold_status(ch, line, &mr);
	const uint8_t *cur = mr.next;
	uint64_t seq = mr.first_seq;
	unsigned i = 0;
	bool sampled = false;
	if (fh_unlikely((++c->lat_count & (c->lat_every - 1)) == 0) && mr.n && c->burst_tsc) {
		size_t mlen;
		const uint8_t *msg = fh_mold_next_msg(&cur, &mlen);
		int k = fh_itch_decode(&ch->dec, msg, mlen, seq++, recv_ns, ev);
		probe_first(c, ch, ev, k);
		i = 1;
		sampled = true;
	}
	for (; i < mr.n; i++, seq++) {
		size_t mlen;
		const uint8_t *msg = fh_mold_next_msg(&cur, &mlen);
		int k = fh_itch_decode(&ch->dec, msg, mlen, seq, recv_ns, ev);
		for (int j = 0; j < k; j++)
			process_event(c, ch, &ev[j], NULL);
	}
	if (mr.n) {
		if (fh_unlikely(!ch->st.first_seq))
			ch->st.first_seq = mr.first_seq;
		ch->st.last_seq = mr.first_seq + mr.n - 1;
	}
	ch->st.messages += mr.n;
	ch->st.events += c->staged - staged0;
	if (fh_unlikely(sampled)) {
		/* pushed at the next flush, once all its events are in the ring */
		c->probe_pending = true;
		c->probe_tsc = c->burst_tsc;
		c->probe_src = ch->cfg.source_id;
	}
}

static inline uint64_t rec_now(void)
{
	return fh_tsc_to_ns(fh_rdtsc());
}

/* The holes before and between held packets, beyond what was handed over. */
FH_COLD static void rec_report_holes(struct fh_rx_chan *ch)
{
	struct fh_rx_rec *r = ch->rec;
	uint64_t next = ch->mold.expected;

	/* holes appear only with newly held packets: one scan per new packet at most */
	if (r->sb.st.held == r->reported_held)
		return;
	r->reported_held = r->sb.st.held;

	for (unsigned k = 0; k < r->sb.n; k++) {
		const struct fh_seqbuf_ent *e = &r->sb.ent[k];
		if (e->seq > next) {
			uint64_t first = next, last = e->seq - 1;
			if (first <= r->reported_upto)
				first = r->reported_upto + 1;
			if (first <= last) {
				r->st.holes++;
				if (fh_rereq_gap(&r->q, first, last) < 0) {
					r->st.failed_ranges++;
					if (last > r->release_upto)
						r->release_upto = last;
				}
				r->reported_upto = last;
			}
		}
		if (e->seq + e->count > next)
			next = e->seq + e->count;
	}
}

static void feed_status(struct fh_rx_chan *ch, uint8_t kind, uint64_t first, uint64_t last)
{
	struct fh_event ev;

	fh_event_init(&ev, FH_EV_FEED_STATUS);
	ev.source_id = ch->cfg.source_id;
	ev.instrument = FH_INSTRUMENT_NONE;
	ev.seq = first;
	ev.recv_ts_ns = fh_tsc_wall_ns(fh_rdtsc());
	ev.u.feed.kind = kind;
	ev.u.feed.first_seq = first;
	ev.u.feed.last_seq = last;
	process_event(ch->core, ch, &ev, NULL);
}

/* A hole the re-requests cannot (or should not) fill: rebuild from the
 * snapshot server. The source is stale meanwhile. */
FH_COLD static void rec_snapshot_start(struct fh_rx_chan *ch)
{
	struct fh_rx_rec *r = ch->rec;
	uint64_t first = ch->mold.expected, last = r->sb.ent[0].seq - 1;

	fh_book_reset(ch->book);
	feed_status(ch, FH_FEED_GAP, first, last);
	fh_rereq_filled(&r->q, first, last);
	r->snap_gap[0] = first;
	r->snap_gap[1] = last;
	r->release_upto = 0;
	r->snap_reset = true;
	r->snap = FH_RX_SNAP_RUNNING;
	if (fh_soup_state(r->soup) != FH_SOUP_CONNECTING)
		fh_soup_restart(r->soup);
	fh_rx_flush(ch->core);
}

/* After a long-gap snapshot: every book whole, then fresh. */
FH_COLD static void rec_snapshot_publish(struct fh_rx_chan *ch)
{
	struct fh_rx_core *c = ch->core;
	struct fh_rx_rec *r = ch->rec;

	r->snap_reset = false;
	c->in_snapshot = true;
	for (uint32_t t = 0; t < fh_book_max_instruments(ch->book); t++)
		if (fh_book_symbol(ch->book, t)[0] || fh_book_order_count(ch->book, t))
			snapshot_book(c, ch, t);
	c->in_snapshot = false;
	feed_status(ch, FH_FEED_RECOVERED, r->snap_gap[0], r->snap_gap[1]);
	fh_rx_flush(c);
}

static inline uint64_t rec_hold(const struct fh_rx_core *c, const struct fh_rx_chan *ch)
{
	const struct fh_rx_rec *r = ch->rec;

	if (c->warm || r->snap == FH_RX_SNAP_RUNNING ||
	    (r->q.n && r->q.r[0].first <= ch->mold.expected))
		return UINT64_MAX;
	return r->hold_ns;
}

/* Held packets that may go on now: in order, expired, or given up on. */
static void rec_drain(struct fh_rx_core *c, struct fh_rx_chan *ch, uint64_t now)
{
	struct fh_rx_rec *r = ch->rec;
	const uint8_t *q;
	unsigned line;
	uint32_t len;

	/* (release_upto UINT64_MAX: stopping, everything goes on as it is) */
	if (fh_unlikely(r->soup != NULL) && r->snap == FH_RX_SNAP_IDLE && !c->warm && r->sb.n &&
	    r->release_upto != UINT64_MAX && ch->mold.started &&
	    r->sb.ent[0].seq > ch->mold.expected) {
		bool expired = r->wait_since && now - r->wait_since >= r->hold_ns;
		if (r->release_upto >= ch->mold.expected || (r->sock.fd < 0 && expired) ||
		    r->sb.ent[0].seq - ch->mold.expected >= r->snap_min_gap)
			rec_snapshot_start(ch);
	}
	if (r->sock.fd >= 0 && !c->warm && r->sb.n && r->wait_since &&
	    now - r->wait_since >= r->hold_ns && r->snap == FH_RX_SNAP_IDLE)
		rec_report_holes(ch);
	/* keep holding while the first hole is being re-requested, and while
	 * replaying the journal (its answers come later in the file) */
	r->sb.cfg.hold_ns = rec_hold(c, ch);
	for (;;) {
		if (r->sb.n && r->release_upto >= ch->mold.expected)
			r->sb.pressure = true; /* the hole was given up: go on past it */
		q = fh_seqbuf_next(&r->sb, &ch->mold, now, &line, &len);
		if (!q)
			break;
		rx_mold(c, ch, line, q, len, fh_tsc_wall_ns(fh_rdtsc()));
		fh_seqbuf_pop(&r->sb);
		r->sb.cfg.hold_ns = rec_hold(c, ch);
	}
	if (!r->sb.n)
		r->wait_since = 0;
	else if (!r->wait_since)
		r->wait_since = now;
}

/* The first packet of a channel with a snapshot server: joining after the
 * session's first message, it takes the books from a snapshot first. */
FH_COLD static void rec_late_start(struct fh_rx_chan *ch, const uint8_t *p, uint32_t len)
{
	struct fh_rx_rec *r = ch->rec;
	struct fh_mold_hdr h;

	if (r->snap != FH_RX_SNAP_IDLE || fh_mold_parse_hdr(p, len, &h) < 0 || h.seq <= 1 ||
	    h.count == FH_MOLD_END_OF_SESSION)
		return;
	/* sequencing starts at 1; everything live waits in the hold buffer */
	ch->mold.started = true;
	ch->mold.sessions++;
	memcpy(ch->mold.session, h.session, FH_MOLD_SESSION_LEN);
	ch->mold.expected = 1;
	r->snap = FH_RX_SNAP_RUNNING;
	if (fh_soup_state(r->soup) != FH_SOUP_CONNECTING)
		fh_soup_restart(r->soup);
}

/* A snapshot message: decoded and applied like a live one. */
static void snap_msg(void *arg, const uint8_t *msg, size_t len)
{
	struct fh_rx_chan *ch = arg;
	struct fh_rx_core *c = ch->core;
	struct fh_event ev[FH_ITCH_MAX_EVENTS];
	uint64_t staged0 = c->staged;

	int k = fh_itch_decode(&ch->dec, msg, len, 0, fh_tsc_wall_ns(fh_rdtsc()), ev);
	c->mute = ch->rec->snap_reset;
	for (int j = 0; j < k; j++)
		process_event(c, ch, &ev[j], NULL);
	c->mute = false;
	ch->rec->st.snapshot_msgs++;
	ch->st.events += c->staged - staged0;
}

/* Snapshot in progress: read it; when done, go live from its sequence. */
FH_COLD static unsigned rec_snapshot(struct fh_rx_chan *ch, uint64_t now)
{
	struct fh_rx_rec *r = ch->rec;
	unsigned w = fh_soup_poll(r->soup, now, snap_msg, ch);

	switch (fh_soup_state(r->soup)) {
	case FH_SOUP_DONE: {
		uint64_t next = fh_soup_next_seq(r->soup);
		r->st.snapshots++;
		r->st.snapshot_next_seq = next;
		if (next > ch->mold.expected)
			ch->mold.expected = next;
		r->snap = FH_RX_SNAP_IDLE;
		r->reported_upto = ch->mold.expected - 1;
		r->reported_held = 0;
		if (r->snap_reset)
			rec_snapshot_publish(ch);
		w++;
		break;
	}
	case FH_SOUP_FAILED:
		/* the books stay as they are (stale after a long gap): what the
		 * live stream lacks is a gap */
		r->st.snapshot_failed++;
		r->snap = FH_RX_SNAP_IDLE;
		if (r->snap_reset) {
			r->snap_reset = false;
			r->release_upto = r->snap_gap[1];
		}
		w++;
		break;
	default:
		break;
	}
	return w;
}

void fh_rx_udp(struct fh_rx_core *c, struct fh_rx_chan *ch, unsigned line, const uint8_t *p,
	       uint32_t len, uint64_t recv_ns)
{
	struct fh_rx_rec *r = ch->rec;

	if (fh_likely(!r)) {
		rx_mold(c, ch, line, p, len, recv_ns);
		return;
	}
	if (fh_unlikely(r->soup && !ch->mold.started))
		rec_late_start(ch, p, len);
	/* fast path: nothing held and the packet is the next one */
	uint64_t now = rec_now();
	enum fh_seqbuf_verdict v = fh_seqbuf_offer(&r->sb, &ch->mold, line, p, len, now);
	while (fh_unlikely(v == FH_SEQBUF_FULL) && r->snap == FH_RX_SNAP_RUNNING) {
		/* the books are being built: the oldest live packet goes (the
		 * hole after the snapshot is re-requested or reported) */
		unsigned l;
		uint32_t n;
		r->sb.pressure = true;
		if (fh_seqbuf_next(&r->sb, &ch->mold, now, &l, &n))
			fh_seqbuf_pop(&r->sb);
		r->st.snapshot_dropped++;
		v = fh_seqbuf_offer(&r->sb, &ch->mold, line, p, len, now);
	}
	while (fh_unlikely(v == FH_SEQBUF_FULL)) {
		/* no room: the lowest held packet goes on (its hole becomes a gap) */
		unsigned l;
		uint32_t n;
		const uint8_t *q = fh_seqbuf_next(&r->sb, &ch->mold, now, &l, &n);
		if (q) {
			rx_mold(c, ch, l, q, n, recv_ns);
			fh_seqbuf_pop(&r->sb);
		}
		v = fh_seqbuf_offer(&r->sb, &ch->mold, line, p, len, now);
	}
	if (v == FH_SEQBUF_DELIVER)
		rx_mold(c, ch, line, p, len, recv_ns);
	if (r->sb.n)
		rec_drain(c, ch, now);
}

/* Recovery work of one channel when something is held or missing. */
FH_COLD static unsigned rec_poll(struct fh_rx_core *c, struct fh_rx_chan *ch)
{
	struct fh_rx_rec *r = ch->rec;
	uint64_t now = rec_now(), first, last;
	unsigned work = 0;

	if (r->snap == FH_RX_SNAP_RUNNING)
		work += rec_snapshot(ch, now);
	if (r->sock.fd >= 0) {
		uint8_t req[FH_REREQ_REQ_LEN];
		struct fh_kudp_pkt pk[FH_KUDP_BURST];

		if (r->sb.n && r->wait_since && now - r->wait_since >= r->hold_ns)
			rec_report_holes(ch);
		memcpy(r->q.session, ch->mold.session, sizeof(r->q.session));
		while (fh_rereq_poll(&r->q, now, req)) {
			if (send(r->sock.fd, req, sizeof(req), MSG_DONTWAIT) == (ssize_t)sizeof(req))
				r->st.requests++;
			else
				r->st.send_errors++;
		}
		int n = fh_kudp_recv(&r->sock, pk, FH_KUDP_BURST);
		for (int i = 0; i < n; i++) {
			uint64_t recv_ns = pk[i].recv_ts_ns ? pk[i].recv_ts_ns
							    : fh_tsc_wall_ns(fh_rdtsc());
			r->st.answer_pkts++;
			if (c->cfg.journal && !c->warm)
				fh_journal_push_udp(c->cfg.journal, pk[i].src_addr, r->local_addr,
						    pk[i].src_port, r->local_port, pk[i].data,
						    pk[i].len, recv_ns);
			fh_rx_udp(c, ch, FH_RX_RETRANS_LINE, pk[i].data, pk[i].len, recv_ns);
			work++;
		}
		while (fh_rereq_next_failed(&r->q, &first, &last)) {
			r->st.failed_ranges++;
			if (last > r->release_upto)
				r->release_upto = last;
		}
	}
	rec_drain(c, ch, now);
	fh_rx_flush(c);
	return work;
}

static int line_of(const struct fh_rx_chan *ch, const struct fh_pkt_udp *u)
{
	/* a journaled re-request answer (warm restart) */
	if (fh_unlikely(ch->rec && ch->rec->srv_addr == u->src_ip && ch->rec->srv_port == u->src_port))
		return FH_RX_RETRANS_LINE;
	for (unsigned l = 0; l < ch->cfg.n_lines; l++) {
		const struct fh_rx_line_cfg *lc = &ch->cfg.line[l];
		if ((lc->group == 0 || lc->group == u->dst_ip) &&
		    (lc->port == 0 || lc->port == u->dst_port))
			return (int)l;
	}
	return -1;
}

FH_COLD static void frame_reject(struct fh_rx_chan *ch, int r, const uint8_t *f, uint32_t len,
				 uint64_t recv_ns)
{
	ch->st.frame_rejects[r]++;
	if (r >= FH_PKT_FIRST_REJ && ch->cfg.dlq)
		fh_dlq_write(ch->cfg.dlq, ch->cfg.source_id, NULL, 0, recv_ns,
			     fh_pkt_result_name((unsigned)r), f, len);
}

void fh_rx_frame(struct fh_rx_core *c, struct fh_rx_chan *ch, const uint8_t *f, uint32_t len,
		 uint64_t recv_ns)
{
	static const struct fh_pkt_filter any = { 0 };
	struct fh_pkt_udp u;

	if (c->cfg.journal && !c->warm)
		fh_journal_push(c->cfg.journal, f, len, recv_ns);
	ch->st.frames++;
	ch->st.bytes += len;
	ch->st.last_rx_ns = recv_ns;
	int r = fh_pkt_parse(FH_PKT_LINK_ETHERNET, f, len, &any, &u);
	if (fh_unlikely(r != FH_PKT_OK)) {
		frame_reject(ch, r, f, len, recv_ns);
		return;
	}
	int line = line_of(ch, &u);
	if (fh_unlikely(line < 0)) {
		ch->st.not_ours++;
		return;
	}
	ch->st.udp++;
	fh_rx_udp(c, ch, (unsigned)line, u.payload, u.len, recv_ns);
}

/* A replay pass is over: start the next one as a new session. */
FH_COLD static void new_pass(struct fh_rx_core *c, struct fh_rx_chan *ch)
{
	fh_rx_flush(c);
	if (c->engine)
		fh_engine_close_session(c->engine, ch->cfg.source_id, 0);
	fh_book_reset(ch->book);
	/* A new session: sequencing starts again, the counters go on. */
	struct fh_mold keep = ch->mold;
	fh_mold_init(&ch->mold, ch->cfg.source_id, ch->cfg.dlq);
	ch->mold.packets = keep.packets;
	ch->mold.heartbeats = keep.heartbeats;
	ch->mold.messages = keep.messages;
	ch->mold.dup_packets = keep.dup_packets;
	ch->mold.dup_msgs = keep.dup_msgs;
	ch->mold.late_msgs = keep.late_msgs;
	ch->mold.gaps_count = keep.gaps_count;
	ch->mold.gap_msgs = keep.gap_msgs;
	ch->mold.sessions = keep.sessions;
	ch->mold.end_of_session = keep.end_of_session;
	ch->mold.unsequenced = keep.unsequenced;
	memcpy(ch->mold.rejects, keep.rejects, sizeof(keep.rejects));
	ch->pass_frames = 0;
	ch->pace_started = false;
	ch->st.sessions++;
}

static inline void frame_done(struct fh_rx_core *c, struct fh_rx_chan *ch)
{
	if (ch->cfg.expected_frames && ++ch->pass_frames == ch->cfg.expected_frames) {
		if (ch->cfg.loop)
			new_pass(c, ch);
		else
			ch->done = true;
	}
}

/* After a burst: RX -> ring latency of its messages, and the peak rates. */
static inline void burst_done(struct fh_rx_core *c, struct fh_rx_chan *ch, uint64_t t0,
			      uint64_t recv_ns, uint64_t n)
{
	if (!n)
		return;
	fh_rate_peak_add(&ch->peak_1s, recv_ns, n);
	fh_rate_peak_add(&ch->peak_1ms, recv_ns, n);
	if (c->lat_fn)
		c->lat_fn(c->lat_arg, FH_RX_STAGE_RING, fh_rdtsc() - t0, n);
}

static unsigned poll_dpdk(struct fh_rx_core *c, struct fh_rx_chan *ch)
{
	unsigned work = 0;

	if (ch->done)
		return 0;
	if (ch->pend_pos == ch->pend_n) {
		ch->pend_n = fh_dpdk_rx_burst(ch->cfg.port, ch->cfg.queue, ch->pend, FH_DPDK_BURST);
		ch->pend_pos = 0;
		if (ch->pend_n == 0)
			return 0;
	}
	uint64_t t0 = fh_rdtsc();
	uint64_t recv_ns = fh_tsc_wall_ns(t0);
	uint64_t msgs0 = ch->st.messages;
	c->burst_tsc = t0;
	while (ch->pend_pos < ch->pend_n) {
		struct rte_mbuf *m = ch->pend[ch->pend_pos];
		if (ch->cfg.pace == FH_RX_PACE_RECORDED) {
			/* net_pcap's infinite_rx replays without timestamps: the
			 * capture's own times, by position in the pass, when given. */
			uint64_t cap = ch->cfg.frame_ts && ch->pass_frames < ch->cfg.expected_frames
					       ? ch->cfg.frame_ts[ch->pass_frames]
					       : fh_dpdk_mbuf_ts_ns(ch->cfg.port, m);
			if (fh_unlikely(!ch->pace_started)) {
				ch->pace_started = true;
				ch->pace_cap0_ns = cap;
				ch->pace_tsc0 = t0;
			}
			uint64_t due = ch->pace_tsc0 +
				       (uint64_t)((double)(cap - ch->pace_cap0_ns) * ch->pace_ticks_per_ns);
			if (cap > ch->pace_cap0_ns && fh_rdtsc() < due)
				break; /* not yet: keep it for the next call */
			/* latency from when it was due, not from when we got to it */
			c->burst_tsc = due;
		}
		if (ch->pend_pos + 1 < ch->pend_n)
			fh_prefetch0(rte_pktmbuf_mtod(ch->pend[ch->pend_pos + 1], void *));
		fh_rx_frame(c, ch, rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
			    recv_ns);
		rte_pktmbuf_free(m);
		ch->pend_pos++;
		work++;
		frame_done(c, ch);
		if (fh_unlikely(ch->done)) {
			/* end of the capture: nothing after it is ours (when looping,
			 * the rest of the burst starts the next pass instead) */
			while (ch->pend_pos < ch->pend_n)
				rte_pktmbuf_free(ch->pend[ch->pend_pos++]);
			break;
		}
		if (fh_unlikely(ch->pass_frames == 0))
			recv_ns = fh_tsc_wall_ns(t0 = fh_rdtsc());
	}
	fh_rx_flush(c);
	burst_done(c, ch, t0, recv_ns, ch->st.messages - msgs0);
	return work;
}

static unsigned poll_kudp(struct fh_rx_core *c, struct fh_rx_chan *ch)
{
	struct fh_kudp_pkt pk[FH_KUDP_BURST];
	unsigned work = 0;

	for (unsigned l = 0; l < ch->cfg.n_lines; l++) {
		int n = fh_kudp_recv(ch->cfg.kudp[l], pk, FH_KUDP_BURST);
		if (n <= 0)
			continue;
		uint64_t t0 = fh_rdtsc();
		uint64_t msgs0 = ch->st.messages;
		c->burst_tsc = t0;
		for (int i = 0; i < n; i++) {
			uint64_t recv_ns = pk[i].recv_ts_ns ? pk[i].recv_ts_ns : fh_tsc_wall_ns(t0);
			ch->st.frames++;
			ch->st.udp++;
			ch->st.bytes += pk[i].len;
			ch->st.last_rx_ns = recv_ns;
			if (c->cfg.journal)
				fh_journal_push_udp(c->cfg.journal, pk[i].src_addr,
						    ch->cfg.kudp[l]->group, pk[i].src_port,
						    ch->cfg.kudp[l]->port, pk[i].data, pk[i].len,
						    recv_ns);
			fh_rx_udp(c, ch, l, pk[i].data, pk[i].len, recv_ns);
		}
		fh_rx_flush(c);
		burst_done(c, ch, t0, fh_tsc_wall_ns(t0), ch->st.messages - msgs0);
		work += (unsigned)n;
	}
	return work;
}

static unsigned poll_fix(struct fh_rx_core *c, struct fh_rx_chan *ch)
{
	uint64_t t0 = fh_rdtsc();
	uint64_t msgs0 = ch->st.messages;

	c->burst_tsc = t0;
	int w = fh_fix_session_do_work(ch->fix, fh_clock_ns(CLOCK_MONOTONIC));
	if (ch->st.messages != msgs0) {
		ch->st.last_rx_ns = fh_tsc_wall_ns(t0);
		fh_rx_flush(c);
		burst_done(c, ch, t0, ch->st.last_rx_ns, ch->st.messages - msgs0);
	}
	return w > 0 ? (unsigned)w : 0;
}

void fh_rx_stop_sessions(struct fh_rx_core *c)
{
	for (unsigned i = 0; i < c->n_chans; i++) {
		struct fh_rx_chan *ch = &c->chans[i];
		if (ch->rec && (ch->rec->sb.n || ch->rec->snap == FH_RX_SNAP_RUNNING)) {
			/* stopping: a snapshot in progress is abandoned (its books
			 * stay stale), what waits behind a hole goes on, the hole
			 * is a gap */
			struct fh_rx_rec *r = ch->rec;
			if (r->snap == FH_RX_SNAP_RUNNING) {
				fh_soup_close(r->soup);
				r->snap = FH_RX_SNAP_IDLE;
				r->snap_reset = false;
			}
			r->release_upto = UINT64_MAX;
			rec_drain(c, ch, rec_now());
		}
		if (!ch->fix)
			continue;
		uint64_t t0 = fh_clock_ns(CLOCK_MONOTONIC);
		fh_fix_session_stop(ch->fix, t0);
		while (fh_fix_session_state(ch->fix) != FH_FIX_SS_STOPPED &&
		       fh_clock_ns(CLOCK_MONOTONIC) - t0 < 3000000000ull) {
			if (!fh_fix_session_do_work(ch->fix, fh_clock_ns(CLOCK_MONOTONIC))) {
				struct timespec ts = { 0, 200000 };
				nanosleep(&ts, NULL);
			}
		}
	}
	fh_rx_flush(c);
}

/* Snapshot of one book: BOOK_SNAPSHOT, then its top levels flagged SNAPSHOT. */
static void snapshot_book(struct fh_rx_core *c, struct fh_rx_chan *ch, uint32_t instr)
{
	struct fh_book_level_view lv[FH_BOOK_MAX_DEPTH];
	struct fh_event hdr, ev;
	unsigned depth = ch->cfg.book.depth ? ch->cfg.book.depth : FH_BOOK_DEF_DEPTH;
	unsigned total = 0, n[2];
	static const uint8_t sides[2] = { FH_SIDE_BID, FH_SIDE_ASK };

	if (instr >= fh_book_max_instruments(ch->book))
		return;
	fh_event_init(&hdr, FH_EV_BOOK_SNAPSHOT);
	hdr.source_id = ch->cfg.source_id;
	hdr.instrument = instr;
	hdr.seq = ch->mold.expected ? ch->mold.expected - 1 : 0;
	hdr.recv_ts_ns = fh_tsc_wall_ns(fh_rdtsc());
	/* its reference data first (a late joiner learns the book's name),
	 * stamped like the snapshot it belongs to */
	if (instr < ch->n_instr_ev && ch->instr_ev[instr].type == FH_EV_INSTRUMENT) {
		ev = ch->instr_ev[instr];
		ev.seq = hdr.seq;
		ev.recv_ts_ns = hdr.recv_ts_ns;
		stage(c, &ev);
	}
	fh_book_snapshot(ch->book, instr, &hdr, &ev);
	stage(c, &ev);
	for (unsigned s = 0; s < 2; s++) {
		n[s] = fh_book_levels(ch->book, instr, sides[s], lv, depth);
		total += n[s];
	}
	unsigned sent = 0;
	for (unsigned s = 0; s < 2; s++) {
		n[s] = fh_book_levels(ch->book, instr, sides[s], lv, depth);
		for (unsigned i = 0; i < n[s]; i++) {
			fh_event_init(&ev, FH_EV_L2_UPDATE);
			ev.source_id = hdr.source_id;
			ev.instrument = instr;
			ev.seq = hdr.seq;
			ev.recv_ts_ns = hdr.recv_ts_ns;
			ev.u.l2.side = sides[s];
			ev.u.l2.level = (uint16_t)(i + 1);
			ev.u.l2.action = FH_L2_NEW;
			ev.u.l2.price = lv[i].price;
			ev.u.l2.qty = lv[i].qty;
			ev.u.l2.orders = lv[i].orders;
			ev.u.l2.flags = FH_L2_F_SNAPSHOT | (++sent == total ? FH_L2_F_LAST : 0);
			stage(c, &ev);
		}
	}
	c->snapshots++;
}

static void snapshot_all(struct fh_rx_core *c, struct fh_rx_chan *ch)
{
	if (!ch->book)
		return;
	for (uint32_t t = 0; t < fh_book_max_instruments(ch->book); t++)
		if (fh_book_order_count(ch->book, t) || fh_book_flags(ch->book, t))
			snapshot_book(c, ch, t);
}

FH_COLD static void serve_snapshots(struct fh_rx_core *c)
{
	c->in_snapshot = true;
	if (__atomic_exchange_n(&c->req_all, 0, __ATOMIC_ACQ_REL)) {
		for (unsigned i = 0; i < c->n_chans; i++)
			snapshot_all(c, &c->chans[i]);
	}
	uint32_t head = __atomic_load_n(&c->req_head, __ATOMIC_ACQUIRE);

	while (c->req_tail != head) {
		unsigned k = c->req_tail % FH_RX_SNAP_REQS;
		uint16_t src = c->req_src[k];
		uint32_t instr = c->req_instr[k];
		for (unsigned i = 0; i < c->n_chans; i++) {
			struct fh_rx_chan *ch = &c->chans[i];
			if (src != UINT16_MAX && src != ch->cfg.source_id)
				continue;
			if (instr != FH_INSTRUMENT_NONE) {
				if (ch->book)
					snapshot_book(c, ch, instr);
				continue;
			}
			snapshot_all(c, ch);
		}
		c->req_tail++;
		__atomic_store_n(&c->req_tail, c->req_tail, __ATOMIC_RELEASE);
	}
	fh_rx_flush(c);
	c->in_snapshot = false;
}

/* Periodic integrity summaries: a few books per call, round robin. */
FH_COLD static void periodic_snapshots(struct fh_rx_core *c, uint64_t now)
{
	struct fh_event ev[16], hdr;

	c->next_snap_tsc = now + c->snap_interval_tsc;
	c->in_snapshot = true;
	fh_event_init(&hdr, FH_EV_BOOK_SNAPSHOT);
	hdr.recv_ts_ns = fh_tsc_wall_ns(now);
	for (unsigned i = 0; i < c->n_chans; i++) {
		struct fh_rx_chan *ch = &c->chans[i];
		if (!ch->book)
			continue;
		hdr.source_id = ch->cfg.source_id;
		hdr.seq = ch->mold.expected ? ch->mold.expected - 1 : 0;
		unsigned n = fh_book_snapshot_all(ch->book, &ch->snap_cursor, &hdr, ev, 16);
		for (unsigned k = 0; k < n; k++)
			stage(c, &ev[k]);
		c->snapshots += n;
	}
	fh_rx_flush(c);
	c->in_snapshot = false;
}

unsigned fh_rx_do_work(struct fh_rx_core *c)
{
	unsigned work = 0;

	c->loops++;
	for (unsigned i = 0; i < c->n_chans; i++) {
		struct fh_rx_chan *ch = &c->chans[i];
		switch (ch->cfg.kind) {
		case FH_RX_DPDK: work += poll_dpdk(c, ch); break;
		case FH_RX_KUDP: work += poll_kudp(c, ch); break;
		case FH_RX_FIX: work += poll_fix(c, ch); break;
		}
		if (fh_unlikely(ch->rec != NULL) &&
		    (ch->rec->sb.n || ch->rec->q.n || ch->rec->snap == FH_RX_SNAP_RUNNING))
			work += rec_poll(c, ch);
	}
	if (fh_unlikely(__atomic_load_n(&c->req_head, __ATOMIC_ACQUIRE) != c->req_tail ||
			__atomic_load_n(&c->req_all, __ATOMIC_ACQUIRE)))
		serve_snapshots(c);
	if (c->snap_interval_tsc) {
		uint64_t now = fh_rdtsc();
		if (fh_unlikely(now >= c->next_snap_tsc))
			periodic_snapshots(c, now);
	}
	return work;
}

bool fh_rx_done(const struct fh_rx_core *c)
{
	for (unsigned i = 0; i < c->n_chans; i++) {
		const struct fh_rx_chan *ch = &c->chans[i];
		if (!ch->done)
			return false;
		/* the capture is over, not its recovery (bounded by the retries) */
		if (ch->rec && (ch->rec->sb.n || ch->rec->q.n || ch->rec->snap == FH_RX_SNAP_RUNNING))
			return false;
	}
	return true;
}

void fh_rx_request_snapshot(struct fh_rx_core *c, uint16_t source_id, uint32_t instrument)
{
	uint32_t head = c->req_head;
	uint32_t tail = __atomic_load_n(&c->req_tail, __ATOMIC_ACQUIRE);

	if (head - tail >= FH_RX_SNAP_REQS) {
		/* full: the core will sweep every book instead */
		__atomic_store_n(&c->req_all, 1, __ATOMIC_RELEASE);
		return;
	}
	unsigned k = head % FH_RX_SNAP_REQS;
	c->req_src[k] = source_id;
	c->req_instr[k] = instrument;
	__atomic_store_n(&c->req_head, head + 1, __ATOMIC_RELEASE);
}

uint64_t fh_rx_chan_rejects(const struct fh_rx_chan *ch)
{
	uint64_t n = 0;

	for (unsigned r = FH_PKT_FIRST_REJ; r < FH_PKT__COUNT; r++)
		n += ch->st.frame_rejects[r];
	for (unsigned r = 1; r < FH_ITCH_REJ__COUNT; r++)
		n += ch->mold.rejects[r] + ch->dec.rejects[r];
	return n;
}

long fh_rx_warm_replay(struct fh_rx_core *c, const char *const *files, unsigned n_files, char *err,
		       size_t errlen)
{
	static const struct fh_pkt_filter any = { 0 };
	long n = 0;

	c->warm = true;
	for (unsigned i = 0; i < n_files; i++) {
		struct fh_pcap pc;
		struct fh_pcap_rec rec;
		int ret = fh_pcap_open(&pc, files[i], 0);
		if (ret < 0) {
			snprintf(err, errlen, "%s: %s", files[i], strerror(-ret));
			c->warm = false;
			return ret;
		}
		if (pc.linktype != FH_JOURNAL_LINKTYPE_ETHERNET) {
			snprintf(err, errlen, "%s: link type %u, not Ethernet", files[i], pc.linktype);
			fh_pcap_close(&pc);
			c->warm = false;
			return -EINVAL;
		}
		/* a journal cut by a crash ends in zeros or a partial record: its end */
		while (fh_pcap_next(&pc, &rec) == 1) {
			struct fh_pkt_udp u;
			if (fh_pkt_parse(FH_PKT_LINK_ETHERNET, rec.data, rec.caplen, &any, &u) != FH_PKT_OK)
				continue;
			for (unsigned k = 0; k < c->n_chans; k++) {
				struct fh_rx_chan *ch = &c->chans[k];
				if (!ch->book)
					continue;
				int line = line_of(ch, &u);
				if (line < 0)
					continue;
				ch->st.frames++;
				ch->st.udp++;
				ch->st.bytes += rec.caplen;
				fh_rx_udp(c, ch, (unsigned)line, u.payload, u.len, rec.ts_ns);
				n++;
				break;
			}
		}
		fh_pcap_close(&pc);
	}
	c->warm = false;
	/* what is still held waits for the live stream or a re-request */
	for (unsigned k = 0; k < c->n_chans; k++)
		if (c->chans[k].rec && c->chans[k].rec->sb.n)
			rec_drain(c, &c->chans[k], rec_now());
	fh_rx_flush(c);
	return n;
}
