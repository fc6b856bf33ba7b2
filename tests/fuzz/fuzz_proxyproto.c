/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * fuzz_proxyproto: arbitrary bytes through the inbound PROXY protocol
 * parser (gateway/proxyproto.c).  Runs only in the fuzzer or the corpus
 * replayer, as the invoking user; trusts nothing in the input.  The first
 * byte picks the accepted versions (low two bits; 0 means both) and the
 * second a split point; the rest is what the balancer sent.  Invariants
 * (abort on violation):
 *   - whole, byte by byte and split in two give the same answer;
 *   - the parser never takes a byte past the header: on success it took
 *     at most PROXY_V1_MAX (v1) or PROXY_V2_HDR + PROXY_V2_MAX_LEN (v2)
 *     bytes, and "need more" only ever means all input was header;
 *   - a header it accepts with addresses, written back out in the same
 *     version (our own writer), parses to the same addresses.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "proxyproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fz_out {
	int			 rv;
	size_t			 used;
	struct proxyproto_result res;
	const char		*err;
};

static void
fz_check(int ok)
{
	if (!ok) {
		abort();
	}
}

/* step 0: whole; otherwise pieces of step bytes, the first of first. */
static void
fz_run(unsigned mask, const uint8_t *d, size_t len, size_t first,
    size_t step, struct fz_out *o)
{
	struct proxyproto	p;
	struct span		s;
	size_t			off = 0, n, used;

	memset(o, 0, sizeof(*o));
	proxyproto_init(&p, mask);
	while (off < len) {
		n = step == 0 ? len - off : (off == 0 && first > 0 ? first :
		    step);
		if (n > len - off) {
			n = len - off;
		}
		s.p = d + off;
		s.len = n;
		o->rv = proxyproto_feed(&p, s, &used, &o->res, &o->err);
		fz_check(used <= n);
		o->used += used;
		if (o->rv != 0) {
			return;
		}
		fz_check(used == n);
		off += n;
	}
}

static int
fz_eq(const struct fz_out *a, const struct fz_out *b)
{
	if (a->rv != b->rv) {
		return 0;
	}
	if (a->rv == -1) {
		return strcmp(a->err, b->err) == 0;
	}
	if (a->used != b->used) {
		return 0;
	}
	if (a->rv == 0) {
		return 1;
	}
	return a->res.version == b->res.version &&
	    a->res.local == b->res.local &&
	    memcmp(&a->res.src, &b->res.src, sizeof(a->res.src)) == 0 &&
	    memcmp(&a->res.dst, &b->res.dst, sizeof(a->res.dst)) == 0;
}

static void
fz_sa(const struct sockaddr_storage *ss, char *a, size_t asz,
    unsigned *port)
{
	const struct sockaddr_in	*s4 = (const void *)ss;
	const struct sockaddr_in6	*s6 = (const void *)ss;

	if (ss->ss_family == AF_INET) {
		fz_check(inet_ntop(AF_INET, &s4->sin_addr, a,
		    (socklen_t)asz) != NULL);
		*port = ntohs(s4->sin_port);
	} else {
		fz_check(ss->ss_family == AF_INET6);
		fz_check(inet_ntop(AF_INET6, &s6->sin6_addr, a,
		    (socklen_t)asz) != NULL);
		*port = ntohs(s6->sin6_port);
	}
}

/* Writes the result back out as the version it came in and re-parses. */
static void
fz_roundtrip(const struct fz_out *o)
{
	static const uint8_t	sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00,
	    0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
	const struct sockaddr_in	*s4, *d4;
	const struct sockaddr_in6	*s6, *d6;
	char			 sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	uint8_t			 out[128];
	unsigned		 sp, dp;
	struct fz_out		 o2;
	int			 n, v6;

	if (o->res.local || o->res.src.ss_family != o->res.dst.ss_family) {
		return;		/* mapped addresses made the families differ */
	}
	v6 = o->res.src.ss_family == AF_INET6;
	if (o->res.version == 1) {
		fz_sa(&o->res.src, sa, sizeof(sa), &sp);
		fz_sa(&o->res.dst, da, sizeof(da), &dp);
		n = snprintf((char *)out, sizeof(out), "PROXY %s %s %s %u %u\r\n",
		    v6 ? "TCP6" : "TCP4", sa, da, sp, dp);
		fz_check(n > 0 && (size_t)n < sizeof(out));
	} else {
		memcpy(out, sig, 12);
		out[12] = 0x21;
		out[13] = v6 ? 0x21 : 0x11;
		out[14] = 0;
		out[15] = v6 ? 36 : 12;
		if (v6) {
			s6 = (const void *)&o->res.src;
			d6 = (const void *)&o->res.dst;
			memcpy(out + 16, &s6->sin6_addr, 16);
			memcpy(out + 32, &d6->sin6_addr, 16);
			memcpy(out + 48, &s6->sin6_port, 2);
			memcpy(out + 50, &d6->sin6_port, 2);
		} else {
			s4 = (const void *)&o->res.src;
			d4 = (const void *)&o->res.dst;
			memcpy(out + 16, &s4->sin_addr, 4);
			memcpy(out + 20, &d4->sin_addr, 4);
			memcpy(out + 24, &s4->sin_port, 2);
			memcpy(out + 26, &d4->sin_port, 2);
		}
		n = 16 + out[15];
	}
	fz_run(PROXYPROTO_V1 | PROXYPROTO_V2, out, (size_t)n, 0, 0, &o2);
	fz_check(o2.rv == 1 && o2.used == (size_t)n);
	fz_check(o2.res.local == 0 && o2.res.version == o->res.version);
	fz_check(memcmp(&o2.res.src, &o->res.src, sizeof(o->res.src)) == 0);
	fz_check(memcmp(&o2.res.dst, &o->res.dst, sizeof(o->res.dst)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_out	whole, alt;
	unsigned	mask;
	size_t		split, len;

	if (size < 2) {
		return 0;
	}
	mask = data[0] & 3;
	if (mask == 0) {
		mask = PROXYPROTO_V1 | PROXYPROTO_V2;
	}
	split = data[1];
	data += 2;
	len = size - 2;

	fz_run(mask, data, len, 0, 0, &whole);
	fz_check(whole.used <= len);
	if (whole.rv == 0) {
		fz_check(whole.used == len);
		fz_check(len < PROXY_V2_HDR + PROXY_V2_MAX_LEN);
	}
	if (whole.rv == 1) {
		fz_check(whole.res.version == 1 || whole.res.version == 2);
		fz_check(whole.used <= (whole.res.version == 1 ?
		    (size_t)PROXY_V1_MAX :
		    (size_t)(PROXY_V2_HDR + PROXY_V2_MAX_LEN)));
		fz_check((mask & (unsigned)whole.res.version) != 0);
		fz_roundtrip(&whole);
	}
	fz_run(mask, data, len, 0, 1, &alt);
	fz_check(fz_eq(&whole, &alt));
	if (split > 0 && split < len) {
		fz_run(mask, data, len, split, len, &alt);
		fz_check(fz_eq(&whole, &alt));
	}
	return 0;
}
