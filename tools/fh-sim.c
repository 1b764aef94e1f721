/* SPDX-License-Identifier: MIT */
/* fh-sim: deterministic Nasdaq TotalView-ITCH 5.0 exchange simulator writing day files and MoldUDP64 pcaps, and serving re-requests and snapshots. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fh_rereq_srv.h"
#include "fh_sim.h"
#include "fh_snapsrv.h"
#include "fh_time.h"

static void usage(FILE *o)
{
	fputs("usage: fh-sim --seed S --messages N [--symbols K] [--itch FILE] [--pcap FILE] [options]\n"
	      "\n"
	      "Generates one deterministic TotalView-ITCH 5.0 trading day (same options, same bytes).\n"
	      "\n"
	      "Session:\n"
	      "  --seed S            random seed (default 1)\n"
	      "  --messages N        ITCH messages in the session, all types (default 1000000; k/M suffixes)\n"
	      "  --symbols K         instruments in the stock directory (default 8700)\n"
	      "  --peak-live N       live orders targeted at the peak (default messages/55)\n"
	      "  --zipf S            activity skew exponent (default 1.0)\n"
	      "  --anomalies N       inject N anomalies on active instruments (needs --truth)\n"
	      "  --truth FILE        write `<kind> <locate> <symbol> <start_ns> <end_ns>` per anomaly\n"
	      "  --stats             print counts, peak live orders and generation speed to stderr\n"
	      "Outputs:\n"
	      "  --itch FILE         Nasdaq day file (2-byte big-endian length before each message)\n"
	      "  --pcap FILE         nanosecond pcap of MoldUDP64 in UDP/IPv4/Ethernet\n"
	      "pcap options:\n"
	      "  --session NAME      MoldUDP64 session, up to 10 characters (default FHSIM00001)\n"
	      "  --first-seq N       sequence number of the first message (default 1)\n"
	      "  --group IP[:PORT]   line A multicast group (default 233.54.12.111:26477)\n"
	      "  --group-b IP[:PORT] add a line B: the same packets to a second group (default port 26478)\n"
	      "  --src IP[:PORT]     source address (default 10.0.0.1:50000)\n"
	      "  --max-payload N     UDP payload cap incl. the 20-byte header (default 1400)\n"
	      "  --bundle-us N       close a packet once a message is N us after its first (default 1000; 0: fill)\n"
	      "  --heartbeat-ms N    heartbeat after N ms without data (default 1000; 0: none)\n"
	      "  --no-end            no end-of-session packet\n"
	      "  --pps N             pace packets evenly at N per second instead of ITCH times\n"
	      "  --date YYYY-MM-DD   session day for capture times (default 2019-12-30)\n"
	      "Impairments (line A unless --impair-lines):\n"
	      "  --gap FIRST-LAST[:A|B|AB]  drop exactly these sequence numbers (repeatable, default line A)\n"
	      "  --drop-pct P        drop P %% of data packets at random\n"
	      "  --reorder-pct P     swap P %% of data packets with the next one\n"
	      "  --corrupt-pct P     corrupt P %% of data packets (alternately an overrunning block\n"
	      "                      length and a truncated datagram; UDP/IP checksums stay valid)\n"
	      "  --impair-lines L    A, B or AB: lines the random impairments apply to\n"
	      "  --impair-seed N     seed of the impairment choices (default 7)\n"
	      "Exchange side (the same session: same --seed/--messages/--symbols/--session/--first-seq):\n"
	      "  --serve-rereq IP:PORT     MoldUDP64 re-request server (UDP; answers go to the requester)\n"
	      "  --rereq-down              an outage: swallow every re-request (counted)\n"
	      "  --serve-snapshot IP:PORT  SoupBinTCP GLIMPSE-style snapshot server (TCP)\n"
	      "  --snapshot-seq S          the snapshot holds messages first..S-1, its 'G' says S\n"
	      "                            (default: the end of the session)\n"
	      "  --snapshot-user U         require this user name (6 chars max; default: any)\n"
	      "  --snapshot-password P     require this password (10 chars max; default: any)\n"
	      "  --snapshot-down           refuse snapshot connections (accept and close)\n"
	      "  --serve-seconds N         serve N seconds then exit (default: until SIGTERM/SIGINT)\n"
	      "  Port 0 picks a free port. One line per service goes to stdout, flushed:\n"
	      "  `rereq IP:PORT` / `snapshot IP:PORT`; counters go to stderr at exit.\n",
	      o);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	if (*end == 'k' || *end == 'K')
		v *= 1000ULL, end++;
	else if (*end == 'M')
		v *= 1000000ULL, end++;
	else if (*end == 'G')
		v *= 1000000000ULL, end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	return errno || end == s || *end ? -1 : 0;
}

static int parse_ip(const char *s, uint32_t *ip, uint16_t *port)
{
	unsigned a, b, c, d, p;
	char tail;
	int n = sscanf(s, "%u.%u.%u.%u:%u%c", &a, &b, &c, &d, &p, &tail);
	if (n < 4 || a > 255 || b > 255 || c > 255 || d > 255)
		return -1;
	if (n == 4 && strchr(s, ':'))
		return -1;
	if (n == 5) {
		if (p == 0 || p > 65535 || !port)
			return -1;
		*port = (uint16_t)p;
	}
	if (n == 6)
		return -1;
	*ip = a << 24 | b << 16 | c << 8 | d;
	return 0;
}

/* IP:PORT for a listening service: the port may be 0 (any free one). */
static int parse_listen(const char *s, uint32_t *ip, uint16_t *port)
{
	unsigned a, b, c, d, p;
	char tail;
	if (sscanf(s, "%u.%u.%u.%u:%u%c", &a, &b, &c, &d, &p, &tail) != 5 || a > 255 || b > 255 ||
	    c > 255 || d > 255 || p > 65535)
		return -1;
	*ip = a << 24 | b << 16 | c << 8 | d;
	*port = (uint16_t)p;
	return 0;
}

static volatile sig_atomic_t stop_serving;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_serving = 1;
}


static void print_ip(char *out, size_t n, uint32_t ip, uint16_t port)
{
	snprintf(out, n, "%u.%u.%u.%u:%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255, port);
}

struct serve_opts {
	bool rereq, snapshot, rereq_down, snapshot_down;
	uint32_t rereq_ip, snap_ip;
	uint16_t rereq_port, snap_port;
	uint64_t snapshot_seq;
	uint64_t seconds; /* 0: until a signal */
	char user[7], password[11];
};

/* Serves the session until the time is up or a signal; 0 or 1 (error printed). */
static int serve(const struct fh_sim_cfg *cfg, const struct fh_sim_pcap_cfg *pc, const struct serve_opts *so)
{
	struct fh_sim_store *store = fh_sim_store_create(cfg, pc->first_seq);
	struct fh_rereq_srv *rr = NULL;
	struct fh_snapsrv *ss = NULL;
	char err[256], where[64];
	int rc = 1;

	if (!store) {
		fprintf(stderr, "fh-sim: session store: %s\n", strerror(errno));
		return 1;
	}
	if (so->rereq) {
		struct fh_rereq_srv_cfg rc_ = { .store = store, .addr = so->rereq_ip, .port = so->rereq_port,
					      .down = so->rereq_down };
		memcpy(rc_.session, pc->session, 10);
		rr = fh_rereq_srv_create(&rc_, err, sizeof(err));
		if (!rr) {
			fprintf(stderr, "fh-sim: %s\n", err);
			goto out;
		}
		print_ip(where, sizeof(where), so->rereq_ip, fh_rereq_srv_port(rr));
		printf("rereq %s\n", where);
	}
	if (so->snapshot) {
		struct fh_snapsrv_cfg sc = { .store = store, .snapshot_seq = so->snapshot_seq,
					     .addr = so->snap_ip, .port = so->snap_port,
					     .down = so->snapshot_down };
		memcpy(sc.username, so->user, sizeof(sc.username));
		memcpy(sc.password, so->password, sizeof(sc.password));
		ss = fh_snapsrv_create(&sc, err, sizeof(err));
		if (!ss) {
			fprintf(stderr, "fh-sim: %s\n", err);
			goto out;
		}
		struct fh_snapsrv_info info;
		fh_snapsrv_info(ss, &info);
		print_ip(where, sizeof(where), so->snap_ip, fh_snapsrv_port(ss));
		printf("snapshot %s\n", where);
		fprintf(stderr, "snapshot seq %" PRIu64 " messages %" PRIu64 " orders %" PRIu64
			" stocks %" PRIu64 " bytes %" PRIu64 "\n", info.snapshot_seq, info.messages,
			info.orders, info.stocks, info.bytes);
	}
	fflush(stdout);

	struct sigaction sa = { .sa_handler = on_stop_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	uint64_t t0 = fh_clock_ns(CLOCK_MONOTONIC);
	while (!stop_serving && (!so->seconds || fh_clock_ns(CLOCK_MONOTONIC) - t0 < so->seconds * 1000000000ull)) {
		unsigned work = 0;
		if (rr)
			work += fh_rereq_srv_poll(rr);
		if (ss)
			work += fh_snapsrv_poll(ss, fh_clock_ns(CLOCK_MONOTONIC));
		if (!work) {
			struct timespec nap = { 0, 200000 }; /* idle: 0.2 ms */
			nanosleep(&nap, NULL);
		}
	}
	if (rr) {
		struct fh_rereq_srv_stats st;
		fh_rereq_srv_stats(rr, &st);
		fprintf(stderr, "rereq requests %" PRIu64 " answered_msgs %" PRIu64 " packets %" PRIu64
			" bad %" PRIu64 " outside %" PRIu64 " ignored %" PRIu64 " send_errors %" PRIu64 "\n",
			st.requests, st.answered_msgs, st.packets, st.bad, st.outside, st.ignored, st.send_errors);
	}
	if (ss) {
		struct fh_snapsrv_stats st;
		fh_snapsrv_stats(ss, &st);
		fprintf(stderr, "snapshot connections %" PRIu64 " refused %" PRIu64 " logins %" PRIu64
			" rejected_auth %" PRIu64 " rejected_session %" PRIu64 " sent %" PRIu64
			" bytes %" PRIu64 " logouts %" PRIu64 " timeouts %" PRIu64 " bad_frames %" PRIu64 "\n",
			st.connections, st.refused, st.logins_accepted, st.rejected_auth, st.rejected_session,
			st.snapshots_sent, st.bytes_sent, st.logouts, st.timeouts, st.bad_frames);
	}
	rc = 0;
out:
	fh_snapsrv_destroy(ss);
	fh_rereq_srv_destroy(rr);
	fh_sim_store_destroy(store);
	return rc;
}

static int parse_lines(const char *s, uint8_t *out)
{
	if (!strcmp(s, "A"))
		*out = FH_SIM_LINE_A;
	else if (!strcmp(s, "B"))
		*out = FH_SIM_LINE_B;
	else if (!strcmp(s, "AB") || !strcmp(s, "BA"))
		*out = FH_SIM_LINE_A | FH_SIM_LINE_B;
	else
		return -1;
	return 0;
}

static int parse_gap(const char *s, struct fh_sim_gap *g)
{
	unsigned long long a, b;
	char lines[4] = "A";
	int n = sscanf(s, "%llu-%llu:%3s", &a, &b, lines);
	if (n < 2 || a == 0 || a > b)
		return -1;
	g->first = a;
	g->last = b;
	return parse_lines(lines, &g->lines);
}

static double now_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void print_stats(const struct fh_sim_stats *st, double secs, double cpu)
{
	fprintf(stderr, "messages %" PRIu64 "\nbytes %" PRIu64 "\n", st->messages, st->bytes);
	for (int t = 'A'; t < 128; t++)
		if (st->by_type[t])
			fprintf(stderr, "type %c %" PRIu64 " %.3f%%\n", t, st->by_type[t],
				100.0 * (double)st->by_type[t] / (double)st->messages);
	unsigned long long pt = st->peak_live_ts_ns;
	fprintf(stderr, "live_orders_end %" PRIu64 "\npeak_live_orders %" PRIu64 " at %02llu:%02llu:%02llu.%09llu\n",
		st->live_orders, st->peak_live_orders, pt / 3600000000000ULL, pt / 60000000000ULL % 60,
		pt / 1000000000ULL % 60, pt % 1000000000ULL);
	fprintf(stderr, "orders_added %" PRIu64 "\nbook_full %" PRIu64 "\nwide_spread_spells_2s %" PRIu64 "\n",
		st->orders_added, st->book_full, st->wide_spells);
	if (secs > 0 && cpu > 0)
		fprintf(stderr, "generation %.3f s wall (%.2f M msg/s), %.3f s cpu (%.2f M msg/s), incl. output\n",
			secs, (double)st->messages / secs / 1e6, cpu, (double)st->messages / cpu / 1e6);
}

int main(int argc, char **argv)
{
	struct fh_sim_cfg cfg = fh_sim_cfg_default();
	struct fh_sim_pcap_cfg pc;
	const char *itch = NULL, *pcap = NULL, *truth = NULL;
	bool stats = false;
	struct serve_opts so = { 0 };
	uint64_t v;
	double d;

	fh_sim_pcap_cfg_default(&pc);
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char *a = i + 1 < argc ? argv[i + 1] : NULL;
		bool arg = true;
#define NEED() do { if (!a) { fprintf(stderr, "fh-sim: %s needs a value\n", o); return 2; } } while (0)
#define BAD() do { fprintf(stderr, "fh-sim: bad value for %s: %s\n", o, a); return 2; } while (0)
		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(o, "--stats")) {
			stats = true;
			arg = false;
		} else if (!strcmp(o, "--no-end")) {
			pc.end_of_session = false;
			arg = false;
		} else if (!strcmp(o, "--seed")) {
			NEED();
			if (parse_u64(a, &cfg.seed))
				BAD();
		} else if (!strcmp(o, "--messages")) {
			NEED();
			if (parse_u64(a, &cfg.messages))
				BAD();
		} else if (!strcmp(o, "--symbols")) {
			NEED();
			if (parse_u64(a, &v) || v < 1 || v > FH_SIM_MAX_SYMBOLS)
				BAD();
			cfg.symbols = (uint32_t)v;
		} else if (!strcmp(o, "--peak-live")) {
			NEED();
			if (parse_u64(a, &v) || v > 200000000)
				BAD();
			cfg.peak_live = (uint32_t)v;
		} else if (!strcmp(o, "--zipf")) {
			NEED();
			if (parse_double(a, &cfg.zipf_s))
				BAD();
		} else if (!strcmp(o, "--anomalies")) {
			NEED();
			if (parse_u64(a, &v) || v > 1000)
				BAD();
			cfg.anomalies = (uint32_t)v;
		} else if (!strcmp(o, "--truth")) {
			NEED();
			truth = a;
		} else if (!strcmp(o, "--itch")) {
			NEED();
			itch = a;
		} else if (!strcmp(o, "--pcap")) {
			NEED();
			pcap = a;
		} else if (!strcmp(o, "--session")) {
			NEED();
			size_t n = strlen(a);
			if (n == 0 || n > 10)
				BAD();
			memset(pc.session, ' ', 10);
			memcpy(pc.session, a, n);
		} else if (!strcmp(o, "--first-seq")) {
			NEED();
			if (parse_u64(a, &pc.first_seq) || !pc.first_seq)
				BAD();
		} else if (!strcmp(o, "--group")) {
			NEED();
			if (parse_ip(a, &pc.group_a, &pc.port_a))
				BAD();
		} else if (!strcmp(o, "--group-b")) {
			NEED();
			if (parse_ip(a, &pc.group_b, &pc.port_b) || !pc.group_b)
				BAD();
		} else if (!strcmp(o, "--src")) {
			NEED();
			if (parse_ip(a, &pc.src_ip, &pc.src_port))
				BAD();
		} else if (!strcmp(o, "--max-payload")) {
			NEED();
			if (parse_u64(a, &v) || v < 64 || v > 8972)
				BAD();
			pc.max_payload = (uint16_t)v;
		} else if (!strcmp(o, "--bundle-us")) {
			NEED();
			if (parse_u64(a, &v))
				BAD();
			pc.bundle_ns = v * 1000;
		} else if (!strcmp(o, "--heartbeat-ms")) {
			NEED();
			if (parse_u64(a, &v))
				BAD();
			pc.heartbeat_ns = v * 1000000;
		} else if (!strcmp(o, "--pps")) {
			NEED();
			if (parse_u64(a, &pc.pps))
				BAD();
		} else if (!strcmp(o, "--date")) {
			NEED();
			struct tm tm = { 0 };
			char *e = strptime(a, "%Y-%m-%d", &tm);
			if (!e || *e)
				BAD();
			pc.epoch_ns = (uint64_t)timegm(&tm) * 1000000000ULL;
		} else if (!strcmp(o, "--gap")) {
			NEED();
			if (pc.n_gaps == FH_SIM_MAX_GAPS || parse_gap(a, &pc.gaps[pc.n_gaps]))
				BAD();
			pc.n_gaps++;
		} else if (!strcmp(o, "--drop-pct")) {
			NEED();
			if (parse_double(a, &d) || d < 0 || d > 100)
				BAD();
			pc.drop_pct = d;
		} else if (!strcmp(o, "--reorder-pct")) {
			NEED();
			if (parse_double(a, &d) || d < 0 || d > 100)
				BAD();
			pc.reorder_pct = d;
		} else if (!strcmp(o, "--corrupt-pct")) {
			NEED();
			if (parse_double(a, &d) || d < 0 || d > 100)
				BAD();
			pc.corrupt_pct = d;
		} else if (!strcmp(o, "--impair-lines")) {
			NEED();
			if (parse_lines(a, &pc.impair_lines))
				BAD();
		} else if (!strcmp(o, "--serve-rereq")) {
			NEED();
			if (parse_listen(a, &so.rereq_ip, &so.rereq_port))
				BAD();
			so.rereq = true;
		} else if (!strcmp(o, "--serve-snapshot")) {
			NEED();
			if (parse_listen(a, &so.snap_ip, &so.snap_port))
				BAD();
			so.snapshot = true;
		} else if (!strcmp(o, "--snapshot-seq")) {
			NEED();
			if (parse_u64(a, &so.snapshot_seq) || !so.snapshot_seq)
				BAD();
		} else if (!strcmp(o, "--snapshot-user")) {
			NEED();
			if (strlen(a) > 6)
				BAD();
			snprintf(so.user, sizeof(so.user), "%s", a);
		} else if (!strcmp(o, "--snapshot-password")) {
			NEED();
			if (strlen(a) > 10)
				BAD();
			snprintf(so.password, sizeof(so.password), "%s", a);
		} else if (!strcmp(o, "--serve-seconds")) {
			NEED();
			if (parse_u64(a, &so.seconds) || !so.seconds)
				BAD();
		} else if (!strcmp(o, "--rereq-down")) {
			so.rereq_down = true;
			arg = false;
		} else if (!strcmp(o, "--snapshot-down")) {
			so.snapshot_down = true;
			arg = false;
		} else if (!strcmp(o, "--impair-seed")) {
			NEED();
			if (parse_u64(a, &pc.impair_seed))
				BAD();
		} else {
			fprintf(stderr, "fh-sim: unknown option %s (see --help)\n", o);
			return 2;
		}
		if (arg)
			i++;
	}
	if (cfg.anomalies && !truth) {
		fprintf(stderr, "fh-sim: --anomalies needs --truth FILE\n");
		return 2;
	}
	if (!itch && !pcap && !truth && !stats && !so.rereq && !so.snapshot) {
		usage(stderr);
		return 2;
	}

	/* each output is its own pass over the same deterministic session */
	int passes = 0;
	for (int out = 0; out < 3; out++) {
		const char *path = out == 0 ? itch : out == 1 ? pcap : NULL;
		if (out < 2 && !path)
			continue;
		if (out == 2 && (passes || (!stats && !truth)))
			break; /* stats and truth come from the last pass */
		struct fh_sim *s = fh_sim_create(&cfg);
		if (!s) {
			fprintf(stderr, "fh-sim: %s\n", errno == EINVAL
					? "invalid configuration (messages >= 1000 and >= ~6 per symbol, symbols <= 65000)"
					: strerror(errno));
			return 1;
		}
		double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
		int rc = 0;
		struct fh_sim_pcap_stats ps;
		FILE *f = path ? fopen(path, "wb") : NULL;
		if (path && !f) {
			fprintf(stderr, "fh-sim: %s: %s\n", path, strerror(errno));
			fh_sim_destroy(s);
			return 1;
		}
		if (out == 0) {
			rc = fh_sim_write_itch(s, f);
		} else if (out == 1) {
			rc = fh_sim_write_pcap(s, &pc, f, &ps);
		} else {
			uint8_t m[FH_SIM_MSG_MAX];
			while ((rc = fh_sim_next(s, m, sizeof(m))) > 0)
				;
		}
		if (f && fclose(f) && !rc)
			rc = -errno;
		double secs = now_s(CLOCK_MONOTONIC) - t0, cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
		if (rc < 0) {
			fprintf(stderr, "fh-sim: %s: %s\n", path ? path : "generation", strerror(-rc));
			fh_sim_destroy(s);
			return 1;
		}
		passes++;
		bool last = (out == 1) || (out == 0 && !pcap) || out == 2;
		if (stats && out == 1)
			fprintf(stderr,
				"pcap records %" PRIu64 " data_packets %" PRIu64 " heartbeats %" PRIu64
				" end %" PRIu64 " seq %" PRIu64 "-%" PRIu64 "\n"
				"pcap lineA dropped %" PRIu64 " (%" PRIu64 " msgs) reordered %" PRIu64
				" bad_len %" PRIu64 " truncated %" PRIu64 "\n"
				"pcap lineB dropped %" PRIu64 " (%" PRIu64 " msgs) reordered %" PRIu64
				" bad_len %" PRIu64 " truncated %" PRIu64 "\n",
				ps.packets, ps.data_packets, ps.heartbeats, ps.end_packets, ps.first_seq,
				ps.next_seq - 1, ps.dropped[0], ps.dropped_msgs[0], ps.reordered[0], ps.bad_len[0],
				ps.truncated[0], ps.dropped[1], ps.dropped_msgs[1], ps.reordered[1], ps.bad_len[1],
				ps.truncated[1]);
		if (last) {
			if (stats) {
				struct fh_sim_stats st;
				fh_sim_get_stats(s, &st);
				print_stats(&st, secs, cpu);
			}
			if (truth) {
				FILE *tf = fopen(truth, "w");
				if (!tf || fh_sim_write_truth(s, tf) || fclose(tf)) {
					fprintf(stderr, "fh-sim: %s: %s\n", truth, strerror(errno));
					fh_sim_destroy(s);
					return 1;
				}
			}
		}
		fh_sim_destroy(s);
	}
	if (so.rereq || so.snapshot)
		return serve(&cfg, &pc, &so);
	return 0;
}
