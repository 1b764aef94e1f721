/* SPDX-License-Identifier: MIT */
/* fh_dpdk.c: EAL start-up and RX port set-up (cold path). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include "fh_dpdk.h"
#include "fh_memstat.h"

int fh_dpdk_ts_offset = -1;

int fh_dpdk_eal_init(int argc, char **argv, char *err, size_t errlen)
{
	int ret = rte_eal_init(argc, argv);

	if (ret < 0) {
		int e = rte_errno ? rte_errno : EINVAL;
		snprintf(err, errlen, "DPDK EAL initialisation failed: %s", rte_strerror(e));
		return -e;
	}
	return 0;
}

void fh_dpdk_mc_mac(uint32_t group, struct rte_ether_addr *mac)
{
	mac->addr_bytes[0] = 0x01;
	mac->addr_bytes[1] = 0x00;
	mac->addr_bytes[2] = 0x5e;
	mac->addr_bytes[3] = (uint8_t)((group >> 16) & 0x7f);
	mac->addr_bytes[4] = (uint8_t)(group >> 8);
	mac->addr_bytes[5] = (uint8_t)group;
}

/* A vdev spec is "net_<driver><N>[,args]"; anything else is a device name/PCI address. */
static bool is_vdev(const char *dev)
{
	return strncmp(dev, "net_", 4) == 0;
}

static int find_port(const char *name, uint16_t *port_id)
{
	uint16_t pid;

	RTE_ETH_FOREACH_DEV(pid) {
		char n[RTE_ETH_NAME_MAX_LEN];
		if (rte_eth_dev_get_name_by_port(pid, n) == 0 && strcmp(n, name) == 0) {
			*port_id = pid;
			return 0;
		}
	}
	return -ENODEV;
}

int fh_dpdk_port_open(struct fh_dpdk_port *p, const struct fh_dpdk_port_cfg *cfg,
		      char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t nq = cfg->rx_queues ? cfg->rx_queues : 1;
	uint16_t nd = cfg->rx_desc ? cfg->rx_desc : 1024;
	uint32_t nm = cfg->mbufs ? cfg->mbufs : 8191;
	int ret;

	memset(p, 0, sizeof(*p));
	if (!cfg->dev || !*cfg->dev) {
		snprintf(err, errlen, "no device given");
		return -EINVAL;
	}
	/* The ethdev name is the vdev spec up to its first comma. */
	size_t nl = strcspn(cfg->dev, ",");
	if (nl >= sizeof(name)) {
		snprintf(err, errlen, "device name too long: %s", cfg->dev);
		return -EINVAL;
	}
	memcpy(name, cfg->dev, nl);
	name[nl] = 0;

	if (is_vdev(cfg->dev) && find_port(name, &p->port_id) != 0) {
		const char *args = cfg->dev[nl] == ',' ? cfg->dev + nl + 1 : "";
		ret = rte_eal_hotplug_add("vdev", name, args);
		if (ret < 0) {
			snprintf(err, errlen, "cannot create %s: %s", cfg->dev, rte_strerror(-ret));
			return ret;
		}
	}
	ret = find_port(name, &p->port_id);
	if (ret < 0 && rte_eth_dev_get_port_by_name(name, &p->port_id) != 0) {
		snprintf(err, errlen, "no DPDK port %s (for a NIC: bind it with dpdk-devbind.py and allow it in eal args)", name);
		return -ENODEV;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);

	ret = rte_eth_dev_info_get(p->port_id, &info);
	if (ret < 0) {
		snprintf(err, errlen, "%s: cannot read device info: %s", name, rte_strerror(-ret));
		return ret;
	}
	if (nq > info.max_rx_queues) {
		snprintf(err, errlen, "%s: %u rx queues asked, device has %u", name, nq,
			 info.max_rx_queues);
		return -EINVAL;
	}
	p->socket = cfg->socket >= 0 ? cfg->socket : rte_eth_dev_socket_id(p->port_id);
	if (p->socket < 0)
		p->socket = (int)rte_socket_id();

	char pool_name[RTE_MEMPOOL_NAMESIZE];
	snprintf(pool_name, sizeof(pool_name), "fh_mp_%u", p->port_id);
	p->pool = rte_pktmbuf_pool_create(pool_name, nm, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  p->socket);
	if (!p->pool) {
		snprintf(err, errlen, "%s: cannot allocate %u mbufs on socket %d: %s (more -m memory or hugepages?)",
			 name, nm, p->socket, rte_strerror(rte_errno));
		return -ENOMEM;
	}

	memset(&conf, 0, sizeof(conf));
	if (cfg->timestamps && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP))
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	if (nq > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_UDP & info.flow_type_rss_offloads;
	}
	ret = rte_eth_dev_configure(p->port_id, nq, 1, &conf);
	if (ret < 0) {
		snprintf(err, errlen, "%s: configure failed: %s", name, rte_strerror(-ret));
		goto out_free_pool;
	}
	for (uint16_t q = 0; q < nq; q++) {
		ret = rte_eth_rx_queue_setup(p->port_id, q, nd, (unsigned)p->socket, NULL, p->pool);
		if (ret < 0) {
			snprintf(err, errlen, "%s: rx queue %u setup failed: %s", name, q,
				 rte_strerror(-ret));
			goto out_free_pool;
		}
	}
	/* Some PMDs (net_pcap) refuse to start without a tx queue; it stays unused. */
	ret = rte_eth_tx_queue_setup(p->port_id, 0, 64, (unsigned)p->socket, NULL);
	if (ret < 0) {
		snprintf(err, errlen, "%s: tx queue setup failed: %s", name, rte_strerror(-ret));
		goto out_free_pool;
	}
	ret = rte_eth_dev_start(p->port_id);
	if (ret < 0) {
		snprintf(err, errlen, "%s: start failed: %s", name, rte_strerror(-ret));
		goto out_free_pool;
	}
	/* net_pcap stamps every mbuf with the capture time without advertising
	 * the offload: look the field up whenever some driver registered it. */
	if (cfg->timestamps) {
		fh_dpdk_ts_offset = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
		p->has_ts = fh_dpdk_ts_offset >= 0;
		/* net_pcap fills sec * 1e6 + usec; NIC clocks are in ns. */
		p->ts_mult = strncmp(name, "net_pcap", 8) == 0 ? 1000 : 1;
	}
	if (cfg->promiscuous) {
		rte_eth_promiscuous_enable(p->port_id);
	} else if (cfg->n_mc) {
		/* Only our groups: program the multicast MAC list, falling back
		 * to all-multicast where the PMD has no such filter. */
		struct rte_ether_addr macs[FH_DPDK_MAX_MC];
		unsigned n = cfg->n_mc < FH_DPDK_MAX_MC ? cfg->n_mc : FH_DPDK_MAX_MC;
		for (unsigned i = 0; i < n; i++)
			fh_dpdk_mc_mac(cfg->mc_groups[i], &macs[i]);
		if (rte_eth_dev_set_mc_addr_list(p->port_id, macs, n) != 0)
			rte_eth_allmulticast_enable(p->port_id);
	}
	p->rx_queues = nq;
	return 0;

out_free_pool:
	rte_mempool_free(p->pool);
	p->pool = NULL;
	return ret;
}

void fh_dpdk_port_close(struct fh_dpdk_port *p)
{
	if (!p->pool)
		return;
	rte_eth_dev_stop(p->port_id);
	rte_eth_dev_close(p->port_id);
	rte_mempool_free(p->pool);
	p->pool = NULL;
}

int fh_dpdk_port_stats(const struct fh_dpdk_port *p, struct fh_dpdk_port_stats *s)
{
	struct rte_eth_stats st;
	int ret = rte_eth_stats_get(p->port_id, &st);

	if (ret < 0)
		return ret;
	s->ipackets = st.ipackets;
	s->ibytes = st.ibytes;
	s->imissed = st.imissed;
	s->ierrors = st.ierrors;
	s->rx_nombuf = st.rx_nombuf;
	return 0;
}

struct pool_walk {
	struct fh_memstat_pool *out;
	unsigned cap, n;
};

static void pool_one(struct rte_mempool *mp, void *arg)
{
	struct pool_walk *w = arg;

	if (w->n == w->cap)
		return;
	struct fh_memstat_pool *p = &w->out[w->n++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", mp->name);
	p->in_use = rte_mempool_in_use_count(mp);
	p->avail = rte_mempool_avail_count(mp);
	p->size = mp->size;
}

unsigned fh_dpdk_memstat_pools(struct fh_memstat_pool *out, unsigned cap, void *arg)
{
	struct pool_walk w = { out, cap, 0 };

	(void)arg;
	rte_mempool_walk(pool_one, &w);
	for (int s = 0; s < RTE_MAX_NUMA_NODES && w.n < cap; s++) {
		struct rte_malloc_socket_stats st;
		if (rte_malloc_get_socket_stats(s, &st) != 0 || st.heap_totalsz_bytes == 0)
			continue;
		struct fh_memstat_pool *p = &out[w.n++];
		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "heap-socket%d", s);
		p->in_use = st.heap_allocsz_bytes;
		p->avail = st.heap_freesz_bytes;
		p->size = st.heap_totalsz_bytes;
		p->heap = true;
	}
	return w.n;
}
