/* SPDX-License-Identifier: MIT */
/* test_dpdk.c: EAL under --no-huge, net_pcap replay of a real capture, net_null, port errors. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>

#include "fh_dpdk.h"
#include "fh_time.h"
#include "fh_test.h"

static int eal_ok;

static void test_eal(void)
{
	char err[256];
	char a0[] = "test_dpdk", a1[] = "--no-huge", a2[] = "--no-pci", a3[] = "--no-shconf",
	     a4[] = "-m", a5[] = "64", a6[] = "-l", a7[] = "0", a8[] = "--log-level=lib.*:error";
	char *argv[] = { a0, a1, a2, a3, a4, a5, a6, a7, a8, NULL };
	int ret = fh_dpdk_eal_init(9, argv, err, sizeof(err));
	if (ret != 0)
		fprintf(stderr, "  eal: %s\n", err);
	FH_CHECK_EQ_I(ret, 0);
	eal_ok = ret == 0;
}

/* Reads a pcap through net_pcap until `want` packets or an idle timeout:
 * net_pcap never signals the end of a file. */
static unsigned drain(struct fh_dpdk_port *p, unsigned want, unsigned *lens, uint64_t *ts)
{
	struct rte_mbuf *b[FH_DPDK_BURST];
	unsigned got = 0;
	uint64_t idle_since = fh_clock_ns(CLOCK_MONOTONIC);

	while (got < want && fh_clock_ns(CLOCK_MONOTONIC) - idle_since < 2000000000ull) {
		uint16_t n = fh_dpdk_rx_burst(p, 0, b, FH_DPDK_BURST);
		if (n)
			idle_since = fh_clock_ns(CLOCK_MONOTONIC);
		for (uint16_t i = 0; i < n; i++) {
			if (got < want) {
				lens[got] = rte_pktmbuf_pkt_len(b[i]);
				ts[got] = fh_dpdk_mbuf_ts_ns(p, b[i]);
			}
			got++;
			rte_pktmbuf_free(b[i]);
		}
	}
	return got;
}

static void test_pcap_replay(void)
{
	char dev[512], err[256];
	struct fh_dpdk_port p;
	struct fh_dpdk_port_cfg cfg = { .socket = -1, .timestamps = true, .mbufs = 1023,
					 .rx_desc = 256 };
	unsigned lens[4] = { 0 };
	uint64_t ts[4] = { 0 };

	if (!eal_ok)
		FH_SKIP("EAL not initialised");
	snprintf(dev, sizeof(dev),
		 "net_pcap0,rx_pcap=%s/itch/omi/Nasdaq.Equities.TotalView.Itch.v5.0__Multiple.Packets.pcap",
		 fh_test_data_dir());
	cfg.dev = dev;
	int ret = fh_dpdk_port_open(&p, &cfg, err, sizeof(err));
	if (ret)
		fprintf(stderr, "  port: %s\n", err);
	FH_CHECK_EQ_I(ret, 0);
	if (ret)
		return;
	/* The real capture holds two frames: 87 and 1518 bytes (VLAN-tagged). */
	FH_CHECK_EQ_U(drain(&p, 2, lens, ts), 2);
	FH_CHECK_EQ_U(lens[0], 87);
	FH_CHECK_EQ_U(lens[1], 1518);
	FH_CHECK(p.has_ts);
	/* Capture timestamps come through as ns since the epoch, in order. */
	/* tshark reads the frames at 1692711000.007661955 and 1692711038.952561782;
	 * net_pcap keeps microseconds. */
	FH_CHECK_EQ_U(ts[0], 1692711000007661000ull);
	FH_CHECK_EQ_U(ts[1], 1692711038952561000ull);
	FH_CHECK(ts[1] >= ts[0]);
	struct fh_dpdk_port_stats st;
	FH_CHECK_EQ_I(fh_dpdk_port_stats(&p, &st), 0);
	FH_CHECK_EQ_U(st.ipackets, 2);
	fh_dpdk_port_close(&p);
}

static void test_null_port(void)
{
	char err[256];
	struct fh_dpdk_port p;
	struct fh_dpdk_port_cfg cfg = { .dev = "net_null0,size=256", .socket = -1,
					 .mbufs = 1023, .rx_desc = 256, .n_mc = 1,
					 .mc_groups = { 0xe9360c6f } };
	struct rte_mbuf *b[FH_DPDK_BURST];

	if (!eal_ok)
		FH_SKIP("EAL not initialised");
	FH_CHECK_EQ_I(fh_dpdk_port_open(&p, &cfg, err, sizeof(err)), 0);
	uint16_t n = fh_dpdk_rx_burst(&p, 0, b, FH_DPDK_BURST);
	FH_CHECK_EQ_U(n, FH_DPDK_BURST);
	for (uint16_t i = 0; i < n; i++) {
		FH_CHECK_EQ_U(rte_pktmbuf_pkt_len(b[i]), 256);
		rte_pktmbuf_free(b[i]);
	}
	fh_dpdk_port_close(&p);
}

static void test_errors(void)
{
	char err[256] = "";
	struct fh_dpdk_port p;
	struct fh_dpdk_port_cfg cfg = { .dev = "net_pcap9,rx_pcap=/nonexistent.pcap", .socket = -1 };

	if (!eal_ok)
		FH_SKIP("EAL not initialised");
	FH_CHECK(fh_dpdk_port_open(&p, &cfg, err, sizeof(err)) < 0);
	FH_CHECK(strstr(err, "net_pcap9") != NULL);
	cfg.dev = "0000:99:00.0";
	FH_CHECK_EQ_I(fh_dpdk_port_open(&p, &cfg, err, sizeof(err)), -ENODEV);
	FH_CHECK(strstr(err, "dpdk-devbind") != NULL);
	cfg.dev = "";
	FH_CHECK_EQ_I(fh_dpdk_port_open(&p, &cfg, err, sizeof(err)), -EINVAL);
}

static void test_mc_mac(void)
{
	struct rte_ether_addr m;

	fh_dpdk_mc_mac(0xe9360c6f, &m); /* 233.54.12.111 */
	FH_CHECK_EQ_U(m.addr_bytes[0], 0x01);
	FH_CHECK_EQ_U(m.addr_bytes[2], 0x5e);
	FH_CHECK_EQ_U(m.addr_bytes[3], 0x36);
	FH_CHECK_EQ_U(m.addr_bytes[4], 0x0c);
	FH_CHECK_EQ_U(m.addr_bytes[5], 0x6f);
	fh_dpdk_mc_mac(0xefff0001, &m); /* 239.255.0.1: the 24th bit is dropped */
	FH_CHECK_EQ_U(m.addr_bytes[3], 0x7f);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_mc_mac),
	FH_CASE(test_eal),
	FH_CASE(test_pcap_replay),
	FH_CASE(test_null_port),
	FH_CASE(test_errors),
	{ 0 },
};

int main(int argc, char **argv)
{
	int ret = fh_test_main(argc, argv, cases);
	if (eal_ok)
		rte_eal_cleanup();
	return ret;
}
