/* SPDX-License-Identifier: MIT */
/* fh_dpdk.h: DPDK EAL start-up, RX ports (net_pcap, net_af_packet, net_null, PCI) and bursts. */
#ifndef FH_DPDK_H
#define FH_DPDK_H

/*
 * Cold path: fh_dpdk_eal_init() once per process, fh_dpdk_port_open() per
 * device (a vdev spec such as "net_pcap0,rx_pcap=FILE" or a PCI address),
 * each RX queue owned by exactly one lcore afterwards. Hot path:
 * fh_dpdk_rx_burst() (inline rte_eth_rx_burst) and fh_dpdk_mbuf_ts_ns().
 * Mempools are created on the port's NUMA socket (or the lcore's when the
 * device reports none), so descriptors and mbufs are local to the core
 * that polls them.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#define FH_DPDK_BURST 32
#define FH_DPDK_MAX_MC 16

struct fh_dpdk_port_cfg {
	const char *dev;      /* vdev spec ("net_pcap0,rx_pcap=f.pcap") or PCI address */
	uint16_t rx_queues;   /* default 1 */
	uint16_t rx_desc;     /* default 1024 */
	uint32_t mbufs;       /* pool size, default 8191 */
	int socket;           /* NUMA socket for the pool, -1: the port's */
	bool timestamps;      /* request RX timestamps (net_pcap: the capture's) */
	bool promiscuous;     /* default off: only our multicast groups */
	uint32_t mc_groups[FH_DPDK_MAX_MC]; /* IPv4 groups (host order) to filter for */
	unsigned n_mc;
};

struct fh_dpdk_port {
	uint16_t port_id;
	uint16_t rx_queues;
	int socket;
	bool has_ts;
	uint32_t ts_mult; /* driver timestamp units to ns: net_pcap gives microseconds */
	struct rte_mempool *pool;
	char name[RTE_ETH_NAME_MAX_LEN];
};

/* Starts the EAL with argv-style args (args[0] is the program name).
 * Returns 0 or -errno; the reason is in err. Only once per process. */
int fh_dpdk_eal_init(int argc, char **argv, char *err, size_t errlen);

/* Probes a vdev (hot-plug) or finds a PCI device, configures rx queues, a
 * NUMA-local mempool, multicast MAC filters for the groups, starts it.
 * Returns 0 or -errno with the reason in err. */
int fh_dpdk_port_open(struct fh_dpdk_port *p, const struct fh_dpdk_port_cfg *cfg,
		      char *err, size_t errlen);

/* Stops and closes the port, frees the pool. */
void fh_dpdk_port_close(struct fh_dpdk_port *p);

struct fh_dpdk_port_stats {
	uint64_t ipackets, ibytes, imissed, ierrors, rx_nombuf;
};
int fh_dpdk_port_stats(const struct fh_dpdk_port *p, struct fh_dpdk_port_stats *s);

/* Ethernet multicast MAC for an IPv4 group (01:00:5e + low 23 bits). */
void fh_dpdk_mc_mac(uint32_t group, struct rte_ether_addr *mac);

/* Offset of the RX timestamp dynfield, -1 when no driver registered it. */
extern int fh_dpdk_ts_offset;

static inline uint16_t fh_dpdk_rx_burst(const struct fh_dpdk_port *p, uint16_t queue,
					struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_rx_burst(p->port_id, queue, pkts, n);
}

/* The driver's RX timestamp of m in ns (net_pcap: the capture time, at
 * microsecond resolution in DPDK 22.11), or 0 when the port has none. */
static inline uint64_t fh_dpdk_mbuf_ts_ns(const struct fh_dpdk_port *p, const struct rte_mbuf *m)
{
	if (!p->has_ts)
		return 0;
	return *RTE_MBUF_DYNFIELD(m, fh_dpdk_ts_offset, const rte_mbuf_timestamp_t *) * p->ts_mult;
}

/*
 * For fh_memstat_set_pools(): every DPDK mempool (objects in use, free,
 * capacity) and every socket's malloc heap (bytes allocated, free, total).
 * Control thread; after EAL init. Returns the entries written.
 */
struct fh_memstat_pool;
unsigned fh_dpdk_memstat_pools(struct fh_memstat_pool *out, unsigned cap, void *arg);

#endif /* FH_DPDK_H */
