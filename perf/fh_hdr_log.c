/* SPDX-License-Identifier: MIT */
/* fh_hdr_log.c: HdrHistogram V2 encoding (ZigZag LEB128, zlib), base64 and the interval log format. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "fh_hdr.h"

#define V2_HEADER 40
#define COMPRESSED_HEADER 8

static int32_t get_be32s(const uint8_t *p)
{
	return (int32_t)fh_be32(p);
}

size_t fh_hdr_encode_bound(const struct fh_hdr *h)
{
	/* 9 bytes per count at worst (ZigZag LEB128 of 64 bits). */
	return V2_HEADER + (size_t)h->counts_len * 9;
}

static size_t put_zigzag(uint8_t *p, int64_t v)
{
	uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	size_t n = 0;
	/* Eight groups of 7 bits, then a ninth byte holding the last 8 bits. */
	while (n < 8) {
		if (u < 0x80) {
			p[n++] = (uint8_t)u;
			return n;
		}
		p[n++] = (uint8_t)((u & 0x7f) | 0x80);
		u >>= 7;
	}
	p[n++] = (uint8_t)u;
	return n;
}

/* Returns bytes consumed, 0 when truncated. */
static size_t get_zigzag(const uint8_t *p, size_t len, int64_t *out)
{
	uint64_t u = 0;
	size_t n = 0;
	for (int shift = 0; n < len; shift += 7) {
		uint8_t b = p[n++];
		if (shift == 56) {
			u |= (uint64_t)b << 56;
			break;
		}
		u |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
		if (n == len)
			return 0;
	}
	if (n == 0)
		return 0;
	*out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
	return n;
}

long fh_hdr_encode_v2(const struct fh_hdr *h, uint8_t *out, size_t cap)
{
	if (cap < fh_hdr_encode_bound(h))
		return -ENOSPC;
	int32_t limit = 0;
	for (int32_t i = h->counts_len - 1; i >= 0; i--)
		if (h->counts[i]) {
			limit = i + 1;
			break;
		}
	size_t pos = V2_HEADER;
	for (int32_t i = 0; i < limit;) {
		int64_t c = h->counts[i++];
		int64_t zeros = 0;
		if (c == 0) {
			zeros = 1;
			while (i < limit && h->counts[i] == 0) {
				zeros++;
				i++;
			}
		}
		pos += put_zigzag(out + pos, zeros > 1 ? -zeros : c);
	}
	double ratio = 1.0;
	uint64_t ratio_bits;
	memcpy(&ratio_bits, &ratio, sizeof(ratio_bits));
	fh_put_be32(out, FH_HDR_V2_COOKIE);
	fh_put_be32(out + 4, (uint32_t)(pos - V2_HEADER));
	fh_put_be32(out + 8, 0); /* normalizing index offset */
	fh_put_be32(out + 12, (uint32_t)h->sigfigs);
	fh_put_be64(out + 16, (uint64_t)h->lowest);
	fh_put_be64(out + 24, (uint64_t)h->highest);
	fh_put_be64(out + 32, ratio_bits);
	return (long)pos;
}

long fh_hdr_encode_compressed(const struct fh_hdr *h, uint8_t *out, size_t cap,
			      uint8_t *scratch, size_t scratch_cap)
{
	long raw = fh_hdr_encode_v2(h, scratch, scratch_cap);
	if (raw < 0)
		return raw;
	if (cap < COMPRESSED_HEADER + 16)
		return -ENOSPC;
	uLongf zlen = (uLongf)(cap - COMPRESSED_HEADER);
	int rc = compress2(out + COMPRESSED_HEADER, &zlen, scratch, (uLong)raw, Z_DEFAULT_COMPRESSION);
	if (rc == Z_BUF_ERROR)
		return -ENOSPC;
	if (rc != Z_OK)
		return -ENOMEM;
	fh_put_be32(out, FH_HDR_V2_COMPRESSED_COOKIE);
	fh_put_be32(out + 4, (uint32_t)zlen);
	return (long)(COMPRESSED_HEADER + zlen);
}

int fh_hdr_decode_cfg(const uint8_t *in, size_t len, struct fh_hdr_cfg *cfg)
{
	if (len < V2_HEADER || (uint32_t)get_be32s(in) != FH_HDR_V2_COOKIE)
		return -EINVAL;
	cfg->sigfigs = get_be32s(in + 12);
	cfg->lowest = (int64_t)fh_be64(in + 16);
	cfg->highest = (int64_t)fh_be64(in + 24);
	return fh_hdr_cfg_norm(cfg);
}

static int decode_raw(struct fh_hdr *h, const uint8_t *in, size_t len)
{
	struct fh_hdr_cfg cfg;
	if (fh_hdr_decode_cfg(in, len, &cfg) != 0)
		return -EINVAL;
	if (get_be32s(in + 8) != 0)
		return -EINVAL; /* normalizing offsets are never written by HdrHistogram's encoders */
	uint32_t payload = fh_be32(in + 4);
	if (payload > len - V2_HEADER)
		return -EINVAL;
	/* Bucket geometry of the encoded layout (a cold path: a temporary). */
	size_t need = fh_hdr_memsize(&cfg);
	struct fh_hdr *src = malloc(need);
	if (!src)
		return -ENOMEM;
	fh_hdr_init(src, need, &cfg);
	bool same = fh_hdr_same_layout(h, src);
	const uint8_t *p = in + V2_HEADER, *end = p + payload;
	int32_t idx = 0;
	int rc = 0;
	while (p < end) {
		int64_t c;
		size_t n = get_zigzag(p, (size_t)(end - p), &c);
		if (n == 0) {
			rc = -EINVAL;
			break;
		}
		p += n;
		if (c < 0) {
			if (c == INT64_MIN || -c > (int64_t)src->counts_len - idx) {
				rc = -EINVAL;
				break;
			}
			idx += (int32_t)-c;
			continue;
		}
		if (idx >= src->counts_len) {
			rc = -EINVAL;
			break;
		}
		if (c > INT64_MAX - h->total) {
			rc = -EINVAL; /* counts cannot add up past 2^63 */
			break;
		}
		if (c > 0) {
			int64_t v = fh_hdr_value_at_index(src, idx);
			if (same) {
				h->counts[idx] += c;
				h->total += c;
				h->sum = (int64_t)((uint64_t)h->sum + (uint64_t)v * (uint64_t)c);
				h->min = v < h->min ? v : h->min;
				h->max = fh_hdr_highest_equivalent(h, v) > h->max ?
						 fh_hdr_highest_equivalent(h, v) : h->max;
			} else {
				if (v > h->highest)
					rc = -ERANGE;
				int64_t sum = h->sum;
				fh_hdr_record_n(h, v > h->highest ? h->highest : v, 1);
				h->counts[fh_hdr_pvt_index(h, v > h->highest ? h->highest : v)] += c - 1;
				h->total += c - 1;
				h->sum = (int64_t)((uint64_t)sum + (uint64_t)v * (uint64_t)c);
			}
		}
		idx++;
	}
	free(src);
	return rc;
}

int fh_hdr_decode(struct fh_hdr *h, const uint8_t *in, size_t len,
		  uint8_t *scratch, size_t scratch_cap)
{
	if (len < COMPRESSED_HEADER)
		return -EINVAL;
	uint32_t cookie = fh_be32(in);
	if (cookie == FH_HDR_V2_COOKIE)
		return decode_raw(h, in, len);
	if (cookie != FH_HDR_V2_COMPRESSED_COOKIE)
		return -EINVAL;
	uint32_t zlen = fh_be32(in + 4);
	if (zlen > len - COMPRESSED_HEADER)
		return -EINVAL;
	uLongf out = (uLongf)scratch_cap;
	int rc = uncompress(scratch, &out, in + COMPRESSED_HEADER, zlen);
	if (rc == Z_BUF_ERROR)
		return -ENOSPC;
	if (rc != Z_OK)
		return -EINVAL;
	return decode_raw(h, scratch, out);
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

long fh_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	size_t need = (len + 2) / 3 * 4;
	if (cap < need + 1)
		return -ENOSPC;
	size_t o = 0, i = 0;
	for (; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return (long)o;
}

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long fh_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	while (len > 0 && in[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -EINVAL;
	size_t need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	if (cap < need)
		return -ENOSPC;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64_val(in[i]);
		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (long)o;
}

long fh_hdr_log_format_header(uint64_t base_ns, char *buf, size_t cap)
{
	char when[64];
	time_t t = (time_t)(base_ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%a %b %d %H:%M:%S UTC %Y", &tm);
	double s = (double)base_ns / 1e9;
	int n = snprintf(buf, cap,
			 "#[Logged with fh (feed handler) telemetry]\n"
			 "#[Histogram log format version 1.3]\n"
			 "#[StartTime: %.3f (seconds since epoch), %s]\n"
			 "#[BaseTime: %.3f (seconds since epoch)]\n"
			 "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
			 "\"Interval_Compressed_Histogram\"\n",
			 s, when, s);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

int fh_hdr_log_open(struct fh_hdr_log *l, FILE *f, uint64_t base_ns,
		    const struct fh_hdr_cfg *cfg)
{
	memset(l, 0, sizeof(*l));
	struct fh_hdr_cfg c = cfg ? *cfg : (struct fh_hdr_cfg){ 0 };
	size_t sz = fh_hdr_memsize(&c);
	if (sz == 0)
		return -EINVAL;
	size_t counts = (sz - sizeof(struct fh_hdr)) / sizeof(int64_t);
	l->scratch_cap = V2_HEADER + counts * 9;
	l->enc_cap = COMPRESSED_HEADER + compressBound((uLong)l->scratch_cap);
	l->b64_cap = (l->enc_cap + 2) / 3 * 4 + 1;
	l->scratch = malloc(l->scratch_cap);
	l->enc = malloc(l->enc_cap);
	l->b64 = malloc(l->b64_cap);
	l->f = f;
	l->base_ns = base_ns;
	if (!l->scratch || !l->enc || !l->b64) {
		fh_hdr_log_close(l);
		return -ENOMEM;
	}
	if (f) {
		char hdr[512];
		long n = fh_hdr_log_format_header(base_ns, hdr, sizeof(hdr));
		if (n < 0 || fwrite(hdr, 1, (size_t)n, f) != (size_t)n) {
			fh_hdr_log_close(l);
			return -EIO;
		}
	}
	return 0;
}

long fh_hdr_log_format(struct fh_hdr_log *l, const struct fh_hdr *h, const char *tag,
		       double max_scale, char *buf, size_t cap)
{
	if (fh_hdr_encode_bound(h) > l->scratch_cap)
		return -ENOSPC;
	if (tag && strpbrk(tag, ", \n\r"))
		return -EINVAL;
	long n = fh_hdr_encode_compressed(h, l->enc, l->enc_cap, l->scratch, l->scratch_cap);
	if (n < 0)
		return n;
	long b = fh_base64_encode(l->enc, (size_t)n, l->b64, l->b64_cap);
	if (b < 0)
		return b;
	if (max_scale <= 0)
		max_scale = 1.0;
	double start = h->start_ns >= l->base_ns ? (double)(h->start_ns - l->base_ns) / 1e9 : 0.0;
	double len = h->end_ns > h->start_ns ? (double)(h->end_ns - h->start_ns) / 1e9 : 0.0;
	int k = snprintf(buf, cap, "%s%s%s%.3f,%.3f,%.3f,%s\n", tag ? "Tag=" : "", tag ? tag : "",
			 tag ? "," : "", start, len, h->total ? (double)h->max / max_scale : 0.0,
			 l->b64);
	if (k < 0 || (size_t)k >= cap)
		return -ENOSPC;
	return k;
}

int fh_hdr_log_write(struct fh_hdr_log *l, const struct fh_hdr *h, const char *tag,
		     double max_scale)
{
	if (!l->f)
		return -EBADF;
	size_t cap = l->b64_cap + 256;
	char *line = malloc(cap);
	if (!line)
		return -ENOMEM;
	long n = fh_hdr_log_format(l, h, tag, max_scale, line, cap);
	int rc = 0;
	if (n < 0)
		rc = (int)n;
	else if (fwrite(line, 1, (size_t)n, l->f) != (size_t)n)
		rc = -EIO;
	free(line);
	return rc;
}

void fh_hdr_log_close(struct fh_hdr_log *l)
{
	free(l->scratch);
	free(l->enc);
	free(l->b64);
	l->scratch = l->enc = NULL;
	l->b64 = NULL;
}

/* Parses "<double> (seconds..." after a "#[...: " prefix. */
static double header_seconds(const char *s)
{
	return strtod(s, NULL);
}

int fh_hdr_log_read(FILE *f, int (*fn)(const struct fh_hdr *h, const char *tag, void *arg),
		    void *arg)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	double start_s = 0, base_s = -1;
	int count = 0, rc = 0;
	uint8_t *bin = NULL, *scratch = NULL;
	size_t bin_cap = 0, scratch_cap = 0;

	while ((n = getline(&line, &cap, f)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (strncmp(line, "#[StartTime: ", 13) == 0) {
			start_s = header_seconds(line + 13);
			continue;
		}
		if (strncmp(line, "#[BaseTime: ", 12) == 0) {
			base_s = header_seconds(line + 12);
			continue;
		}
		if (n == 0 || line[0] == '#' || line[0] == '"')
			continue;
		char *p = line, *tag = NULL;
		if (strncmp(p, "Tag=", 4) == 0) {
			tag = p + 4;
			p = strchr(p, ',');
			if (!p) {
				rc = -EINVAL;
				break;
			}
			*p++ = '\0';
		}
		char *e;
		double ts = strtod(p, &e);
		if (*e != ',') {
			rc = -EINVAL;
			break;
		}
		double len = strtod(e + 1, &e);
		if (*e != ',') {
			rc = -EINVAL;
			break;
		}
		strtod(e + 1, &e); /* interval max, implied by the histogram */
		if (*e != ',') {
			rc = -EINVAL;
			break;
		}
		const char *b64 = e + 1;
		size_t b64_len = strlen(b64);
		size_t need = b64_len / 4 * 3 + 3;
		if (need > bin_cap) {
			free(bin);
			bin = malloc(need);
			bin_cap = bin ? need : 0;
			if (!bin) {
				rc = -ENOMEM;
				break;
			}
		}
		long blen = fh_base64_decode(b64, b64_len, bin, bin_cap);
		struct fh_hdr_cfg cfg;
		if (blen < COMPRESSED_HEADER) {
			rc = -EINVAL;
			break;
		}
		/* The header of the inner encoding sizes the histogram. */
		uint8_t head[V2_HEADER];
		const uint8_t *raw = bin;
		size_t raw_len = (size_t)blen;
		if (fh_be32(bin) == FH_HDR_V2_COMPRESSED_COOKIE) {
			z_stream z = { 0 };
			if (inflateInit(&z) != Z_OK) {
				rc = -ENOMEM;
				break;
			}
			z.next_in = bin + COMPRESSED_HEADER;
			z.avail_in = (uInt)(blen - COMPRESSED_HEADER);
			z.next_out = head;
			z.avail_out = sizeof(head);
			int zr = inflate(&z, Z_SYNC_FLUSH);
			inflateEnd(&z);
			if ((zr != Z_OK && zr != Z_STREAM_END) || z.avail_out != 0) {
				rc = -EINVAL;
				break;
			}
			raw = head;
			raw_len = sizeof(head);
		}
		if (fh_hdr_decode_cfg(raw, raw_len, &cfg) != 0) {
			rc = -EINVAL;
			break;
		}
		struct fh_hdr *h = fh_hdr_create(&cfg);
		if (!h) {
			rc = -ENOMEM;
			break;
		}
		size_t sneed = fh_hdr_encode_bound(h);
		if (sneed > scratch_cap) {
			free(scratch);
			scratch = malloc(sneed);
			scratch_cap = scratch ? sneed : 0;
		}
		int dr = scratch ? fh_hdr_decode(h, bin, (size_t)blen, scratch, scratch_cap) : -ENOMEM;
		if (dr != 0) {
			fh_hdr_destroy(h);
			rc = dr;
			break;
		}
		double abs_s = ts + (base_s >= 0 ? base_s : start_s);
		h->start_ns = (uint64_t)llround(abs_s * 1e9);
		h->end_ns = h->start_ns + (uint64_t)llround(len * 1e9);
		count++;
		int cr = fn ? fn(h, tag, arg) : 0;
		fh_hdr_destroy(h);
		if (cr) {
			rc = cr;
			break;
		}
	}
	free(line);
	free(bin);
	free(scratch);
	return rc < 0 ? rc : count;
}
