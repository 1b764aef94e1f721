/* SPDX-License-Identifier: MIT */
/* fh_seqbuf.c: MoldUDP64 hold buffer (held copies sorted by sequence, released in order, on expiry or for room). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fh_seqbuf.h"

int fh_seqbuf_init(struct fh_seqbuf *sb, const struct fh_seqbuf_cfg *cfg)
{
	memset(sb, 0, sizeof(*sb));
	if (cfg)
		sb->cfg = *cfg;
	if (!sb->cfg.max_pkts)
		sb->cfg.max_pkts = 256;
	if (!sb->cfg.max_len)
		sb->cfg.max_len = 2048;
	if (!sb->cfg.hold_ns)
		sb->cfg.hold_ns = 1000000;
	if (sb->cfg.max_pkts > FH_SEQBUF_MAX_PKTS || sb->cfg.max_len < FH_MOLD_HDR_LEN)
		return -EINVAL;
	sb->mem = malloc((size_t)sb->cfg.max_pkts * sb->cfg.max_len);
	if (!sb->mem)
		return -ENOMEM;
	/* touched once here, not on the first held packet */
	memset(sb->mem, 0, (size_t)sb->cfg.max_pkts * sb->cfg.max_len);
	for (unsigned i = 0; i < sb->cfg.max_pkts; i++)
		sb->free_slots[i] = (uint16_t)(sb->cfg.max_pkts - 1 - i);
	sb->n_free = sb->cfg.max_pkts;
	sb->cur = -1;
	return 0;
}

void fh_seqbuf_free(struct fh_seqbuf *sb)
{
	free(sb->mem);
	sb->mem = NULL;
}

enum fh_seqbuf_verdict fh_seqbuf_offer(struct fh_seqbuf *sb, const struct fh_mold *m, unsigned line,
				       const uint8_t *p, uint32_t len, uint64_t now_ns)
{
	struct fh_mold_hdr h;

	/* fh_mold judges what it would reject, new sessions and anything not ahead */
	if (fh_mold_parse_hdr(p, len, &h) < 0 || !m->started ||
	    memcmp(h.session, m->session, FH_MOLD_SESSION_LEN) != 0 || h.seq == 0 ||
	    h.seq <= m->expected)
		return FH_SEQBUF_DELIVER;
	if (len > sb->cfg.max_len) {
		sb->st.too_long++;
		return FH_SEQBUF_DELIVER;
	}
	unsigned i = sb->n;
	for (unsigned k = 0; k < sb->n; k++) {
		if (sb->ent[k].seq == h.seq && sb->ent[k].count == h.count) {
			sb->st.dups++;
			return FH_SEQBUF_DUP;
		}
		if (sb->ent[k].seq > h.seq && i == sb->n)
			i = k;
	}
	if (!sb->n_free) {
		sb->pressure = true;
		return FH_SEQBUF_FULL;
	}
	uint16_t slot = sb->free_slots[--sb->n_free];
	memcpy(sb->mem + (size_t)slot * sb->cfg.max_len, p, len);
	memmove(&sb->ent[i + 1], &sb->ent[i], (sb->n - i) * sizeof(sb->ent[0]));
	sb->ent[i] = (struct fh_seqbuf_ent){ .seq = h.seq, .since_ns = now_ns, .len = len,
					     .count = h.count, .line = (uint8_t)line, .slot = slot };
	sb->n++;
	sb->st.held++;
	if (sb->n > sb->st.peak)
		sb->st.peak = sb->n;
	return FH_SEQBUF_HELD;
}

const uint8_t *fh_seqbuf_next(struct fh_seqbuf *sb, const struct fh_mold *m, uint64_t now_ns,
			      unsigned *line, uint32_t *len)
{
	if (!sb->n || sb->cur >= 0)
		return NULL;
	const struct fh_seqbuf_ent *e = &sb->ent[0];
	if (e->seq <= m->expected || memcmp(m->session, sb->mem + (size_t)e->slot * sb->cfg.max_len,
					    FH_MOLD_SESSION_LEN) != 0) {
		sb->st.released++;
	} else if (sb->pressure) {
		sb->st.forced++;
	} else {
		uint64_t oldest = UINT64_MAX;
		for (unsigned k = 0; k < sb->n; k++)
			if (sb->ent[k].since_ns < oldest)
				oldest = sb->ent[k].since_ns;
		if (now_ns - oldest < sb->cfg.hold_ns)
			return NULL; /* the hole may still be filled */
		sb->st.expired++;
	}
	sb->cur = 0;
	*line = e->line;
	*len = e->len;
	return sb->mem + (size_t)e->slot * sb->cfg.max_len;
}

void fh_seqbuf_pop(struct fh_seqbuf *sb)
{
	if (sb->cur < 0)
		return;
	sb->free_slots[sb->n_free++] = sb->ent[0].slot;
	memmove(&sb->ent[0], &sb->ent[1], (sb->n - 1) * sizeof(sb->ent[0]));
	sb->n--;
	sb->cur = -1;
	sb->pressure = false;
}
