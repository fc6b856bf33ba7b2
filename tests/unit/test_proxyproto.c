/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit test of gateway/proxyproto.c (inbound PROXY protocol v1/v2).  Runs
 * as the invoking user; no I/O besides stderr.  Every input is fed whole,
 * one byte at a time and split at every position, and must give the same
 * answer each way; the parser must stop exactly at the header's end.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "proxyproto.h"

#define BOTH		(PROXYPROTO_V1 | PROXYPROTO_V2)
#define TRAILER		"A1 LOGIN u p\r\n"
#define MAX_INPUT	(PROXY_V2_HDR + PROXY_V2_MAX_LEN + 64)

struct outcome {
	int			 rv;
	size_t			 used;		/* over all feeds */
	struct proxyproto_result res;
	const char		*err;
};

/* Feeds data in pieces: split 0 = whole, (size_t)-1 = byte by byte,
 * otherwise the first split bytes, then the rest. */
static void
run(unsigned mask, const uint8_t *data, size_t len, size_t split,
    struct outcome *o)
{
	struct proxyproto	 p;
	struct span		 s;
	size_t			 off = 0, n, used;

	memset(o, 0, sizeof(*o));
	proxyproto_init(&p, mask);
	while (off < len || (len == 0 && off == 0)) {
		if (split == (size_t)-1) {
			n = 1;
		} else if (split == 0 || off >= split) {
			n = len - off;
		} else {
			n = split - off;
		}
		if (n > len - off) {
			n = len - off;
		}
		s.p = data + off;
		s.len = n;
		used = 0;
		o->rv = proxyproto_feed(&p, s, &used, &o->res, &o->err);
		T_ASSERT(used <= n);
		o->used += used;
		if (o->rv != 0) {
			break;
		}
		T_EQ_INT(used, n);
		off += n;
		if (len == 0) {
			break;
		}
	}
	/* Feeding after the end takes nothing and repeats the answer. */
	if (o->rv != 0) {
		struct proxyproto_result r2;
		const char		*e2 = NULL;

		s.p = (const uint8_t *)"x";
		s.len = 1;
		used = 99;
		T_EQ_INT(proxyproto_feed(&p, s, &used, &r2, &e2), o->rv);
		T_EQ_INT(used, 0);
		if (o->rv == -1) {
			T_EQ_STR(e2, o->err);
		}
	}
}

static int
outcome_eq(const struct outcome *a, const struct outcome *b)
{
	if (a->rv != b->rv) {
		return 0;
	}
	if (a->rv == -1) {
		return strcmp(a->err, b->err) == 0;
	}
	if (a->rv == 0) {
		return a->used == b->used;
	}
	return a->used == b->used && a->res.version == b->res.version &&
	    a->res.local == b->res.local &&
	    memcmp(&a->res.src, &b->res.src, sizeof(a->res.src)) == 0 &&
	    memcmp(&a->res.dst, &b->res.dst, sizeof(a->res.dst)) == 0;
}

/* Whole, byte by byte, and every split give the same outcome (*o). */
static void
run_all(unsigned mask, const uint8_t *data, size_t len, struct outcome *o)
{
	struct outcome	alt;
	size_t		k;

	run(mask, data, len, 0, o);
	run(mask, data, len, (size_t)-1, &alt);
	T_ASSERT(outcome_eq(o, &alt));
	for (k = 1; k < len; k++) {
		run(mask, data, len, k, &alt);
		if (!outcome_eq(o, &alt)) {
			fprintf(stderr, "  split at %zu differs\n", k);
		}
		T_ASSERT(outcome_eq(o, &alt));
	}
}

static void
sa_text(const struct sockaddr_storage *ss, char *dst, size_t dstsz)
{
	const struct sockaddr_in	*s4 = (const void *)ss;
	const struct sockaddr_in6	*s6 = (const void *)ss;
	char				 a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(dst, dstsz, "%s:%u", a, ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(dst, dstsz, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		snprintf(dst, dstsz, "family %d", ss->ss_family);
	}
}

/*
 * A valid header followed by the client's first bytes: accepted in
 * every split, used == hlen exactly; src/dst as text ("" for local).
 */
static void
expect_ok(unsigned mask, const uint8_t *hdr, size_t hlen, int version,
    const char *src, const char *dst)
{
	uint8_t		buf[MAX_INPUT];
	struct outcome	o;
	char		t[96];
	size_t		k;

	T_ASSERT(hlen + sizeof(TRAILER) <= sizeof(buf));
	memcpy(buf, hdr, hlen);
	memcpy(buf + hlen, TRAILER, sizeof(TRAILER) - 1);
	run_all(mask, buf, hlen + sizeof(TRAILER) - 1, &o);
	T_EQ_INT(o.rv, 1);
	if (o.rv != 1) {
		fprintf(stderr, "  error: %s\n", o.err ? o.err : "(none)");
		return;
	}
	T_EQ_INT(o.used, hlen);
	T_EQ_INT(o.res.version, version);
	if (src == NULL) {
		T_EQ_INT(o.res.local, 1);
	} else {
		T_EQ_INT(o.res.local, 0);
		sa_text(&o.res.src, t, sizeof(t));
		T_EQ_STR(t, src);
		sa_text(&o.res.dst, t, sizeof(t));
		T_EQ_STR(t, dst);
	}
	/* Header alone: also complete, nothing more wanted. */
	run_all(mask, hdr, hlen, &o);
	T_EQ_INT(o.rv, 1);
	T_EQ_INT(o.used, hlen);
	/* Every proper prefix: need more, all taken. */
	for (k = 0; k < hlen; k++) {
		run(mask, hdr, k, 0, &o);
		T_EQ_INT(o.rv, 0);
		T_EQ_INT(o.used, k);
	}
}

static void
expect_err(unsigned mask, const uint8_t *hdr, size_t hlen, const char *err)
{
	uint8_t		buf[MAX_INPUT];
	struct outcome	o;

	T_ASSERT(hlen + sizeof(TRAILER) <= sizeof(buf));
	memcpy(buf, hdr, hlen);
	memcpy(buf + hlen, TRAILER, sizeof(TRAILER) - 1);
	run_all(mask, buf, hlen + sizeof(TRAILER) - 1, &o);
	T_EQ_INT(o.rv, -1);
	if (o.rv == -1) {
		T_EQ_STR(o.err, err);
	} else {
		fprintf(stderr, "  accepted, expected \"%s\"\n", err);
	}
}

#define V1_OK(s, src, dst) \
	expect_ok(BOTH, (const uint8_t *)(s), sizeof(s) - 1, 1, src, dst)
#define V1_ERR(s, e) \
	expect_err(BOTH, (const uint8_t *)(s), sizeof(s) - 1, e)

/* A v2 header: ver_cmd, fam, then body of blen bytes. */
static size_t
v2(uint8_t *out, uint8_t vercmd, uint8_t fam, const uint8_t *body,
    size_t blen)
{
	static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
	    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

	memcpy(out, sig, 12);
	out[12] = vercmd;
	out[13] = fam;
	out[14] = (uint8_t)(blen >> 8);
	out[15] = (uint8_t)blen;
	if (blen > 0) {
		memcpy(out + 16, body, blen);
	}
	return 16 + blen;
}

static const uint8_t v4body[12] = { 192, 0, 2, 7, 10, 0, 0, 1,
    0xc3, 0x50, 0x00, 0x8f };		/* 50000, 143 */
static const uint8_t v6body[36] = {
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
    0x00, 0x01, 0x03, 0xe1 };		/* 1, 993 */

static void
test_v1_valid(void)
{
	V1_OK("PROXY TCP4 192.0.2.7 10.0.0.1 50000 143\r\n",
	    "192.0.2.7:50000", "10.0.0.1:143");
	V1_OK("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n",
	    "0.0.0.0:0", "255.255.255.255:65535");
	V1_OK("PROXY TCP6 2001:db8::42 2001:db8::1 1 993\r\n",
	    "[2001:db8::42]:1", "[2001:db8::1]:993");
	V1_OK("PROXY TCP6 2001:DB8::42 ::1 1 993\r\n",
	    "[2001:db8::42]:1", "[::1]:993");
	/* IPv4-mapped source comes out as IPv4. */
	V1_OK("PROXY TCP6 ::ffff:198.51.100.9 ::1 1234 110\r\n",
	    "198.51.100.9:1234", "[::1]:110");
	V1_OK("PROXY UNKNOWN\r\n", NULL, NULL);
	V1_OK("PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n", NULL, NULL);
	V1_OK("PROXY UNKNOWN whatever \x01 bytes\r\n", NULL, NULL);
	/* v1 only, too. */
	expect_ok(PROXYPROTO_V1, (const uint8_t *)"PROXY UNKNOWN\r\n", 15, 1,
	    NULL, NULL);
}

static void
test_v1_limits(void)
{
	char	line[256];
	size_t	n;

	/* The spec's longest lines: 56 (TCP4), 104 (TCP6), 107 (UNKNOWN). */
	V1_OK("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
	    "255.255.255.255:65535", "255.255.255.255:65535");
	snprintf(line, sizeof(line), "%s", "PROXY TCP6 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n");
	T_EQ_INT(strlen(line), 104);
	expect_ok(BOTH, (const uint8_t *)line, strlen(line), 1,
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:65535",
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	/* Exactly PROXY_V1_MAX bytes including CRLF, then one more. */
	snprintf(line, sizeof(line), "%s", "PROXY UNKNOWN ");
	n = strlen(line);
	memset(line + n, 'x', PROXY_V1_MAX - 2 - n);
	memcpy(line + PROXY_V1_MAX - 2, "\r\n", 3);
	T_EQ_INT(strlen(line), PROXY_V1_MAX);
	expect_ok(BOTH, (const uint8_t *)line, PROXY_V1_MAX, 1, NULL, NULL);
	memset(line + n, 'x', PROXY_V1_MAX - 1 - n);
	memcpy(line + PROXY_V1_MAX - 1, "\r\n", 3);
	expect_err(BOTH, (const uint8_t *)line, PROXY_V1_MAX + 1,
	    "v1: line longer than 107 bytes");
	/* A line with no CRLF at all: cut at byte 108. */
	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", n);
	expect_err(BOTH, (const uint8_t *)line, sizeof(line),
	    "v1: line longer than 107 bytes");
	/* Field lengths: a 46-character IPv6 text, a 6-digit port. */
	V1_ERR("PROXY TCP6 0000:0000:0000:0000:0000:ffff:255.255.255.2550 "
	    "::1 1 2\r\n", "v1: field too long");
	V1_ERR("PROXY TCP4 1.2.3.4 5.6.7.8 000001 2\r\n",
	    "v1: field too long");
	V1_ERR("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
	    "v1: port out of range");
	V1_ERR("PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\n",
	    "v1: port out of range");
	V1_ERR("PROXY TCP4 255.255.255.2555 5.6.7.8 1 2\r\n",
	    "v1: field too long");
	V1_ERR("PROXY TCP4 1111.2.3.4 5.6.7.8 1 2\r\n",
	    "v1: bad source address");
}

static void
test_v1_rejects(void)
{
	V1_ERR("PROXY TCP4 192.0.2.7 10.0.0.1 50000 143\n",
	    "v1: bad character in a field");
	V1_ERR("PROXY TCP4 192.0.2.7 10.0.0.1 50000 143\rX",
	    "v1: CR without LF");
	V1_ERR("PROXY UNKNOWN\n", "v1: unknown protocol");
	V1_ERR("PROXY UNKNOWN foo\n", "v1: LF without CR");
	V1_ERR("PROXY UNKNOWN\rfoo", "v1: CR without LF");
	V1_ERR("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
	    "not a PROXY protocol header");
	V1_ERR("PROXX TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "v1: bad signature");
	V1_ERR("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "v1: unknown protocol");
	V1_ERR("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "v1: unknown protocol");
	V1_ERR("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "v1: unknown protocol");
	V1_ERR("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", "v1: unknown protocol");
	V1_ERR("PROXY UNKNOWNX\r\n", "v1: unknown protocol");
	V1_ERR("PROXY TCP4\r\n", "v1: missing field");
	V1_ERR("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "v1: missing field");
	V1_ERR("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "v1: too many fields");
	V1_ERR("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "v1: empty field");
	V1_ERR("PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n", "v1: empty field");
	V1_ERR("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",
	    "v1: bad source address");
	V1_ERR("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "v1: bad source address");
	V1_ERR("PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "v1: bad source address");
	V1_ERR("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "v1: bad source address");
	V1_ERR("PROXY TCP4 1.2.3.4 5.6.7.256 1 2\r\n",
	    "v1: bad destination address");
	V1_ERR("PROXY TCP6 ::1 ::1::2 1 2\r\n", "v1: bad destination address");
	V1_ERR("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n",
	    "v1: bad character in a field");
	V1_ERR("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
	    "v1: port with a leading zero");
	V1_ERR("PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n",
	    "v1: bad character in a field");
	V1_ERR("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", "v1: CR without LF");
	/* Not configured. */
	expect_err(PROXYPROTO_V2, (const uint8_t *)"PROXY UNKNOWN\r\n", 15,
	    "PROXY v1 not accepted on this listener");
	/* What a client would say without a balancer. */
	V1_ERR("A1 LOGIN u p\r\n", "not a PROXY protocol header");
	V1_ERR("\x16\x03\x01\x02\x00", "not a PROXY protocol header");
	V1_ERR("USER u\r\n", "not a PROXY protocol header");
	V1_ERR("\r\n", "v2: bad signature");
}

static void
test_v2_valid(void)
{
	uint8_t	b[MAX_INPUT], body[MAX_INPUT];
	size_t	n;

	n = v2(b, 0x21, 0x11, v4body, sizeof(v4body));
	expect_ok(BOTH, b, n, 2, "192.0.2.7:50000", "10.0.0.1:143");
	expect_ok(PROXYPROTO_V2, b, n, 2, "192.0.2.7:50000",
	    "10.0.0.1:143");
	n = v2(b, 0x21, 0x21, v6body, sizeof(v6body));
	expect_ok(BOTH, b, n, 2, "[2001:db8::42]:1", "[2001:db8::1]:993");
	/* IPv4-mapped IPv6 source. */
	memcpy(body, v6body, sizeof(v6body));
	memset(body, 0, 16);
	body[10] = body[11] = 0xff;
	body[12] = 203;
	body[13] = 0;
	body[14] = 113;
	body[15] = 5;
	n = v2(b, 0x21, 0x21, body, sizeof(v6body));
	expect_ok(BOTH, b, n, 2, "203.0.113.5:1", "[2001:db8::1]:993");
	/* TLVs after the addresses: skipped (ALPN, NOOP empty, SSL). */
	memcpy(body, v4body, 12);
	memcpy(body + 12, "\x01\x00\x04imap" "\x04\x00\x00"
	    "\x20\x00\x05\x01\x00\x00\x00\x00", 7 + 3 + 8);
	n = v2(b, 0x21, 0x11, body, 12 + 18);
	expect_ok(BOTH, b, n, 2, "192.0.2.7:50000", "10.0.0.1:143");
	/* LOCAL (health check): addresses, if any, are ignored. */
	n = v2(b, 0x20, 0x00, NULL, 0);
	expect_ok(BOTH, b, n, 2, NULL, NULL);
	n = v2(b, 0x20, 0x11, v4body, sizeof(v4body));
	expect_ok(BOTH, b, n, 2, NULL, NULL);
	/* LOCAL ignores even a family we would refuse. */
	n = v2(b, 0x20, 0x31, v4body, 5);
	expect_ok(BOTH, b, n, 2, NULL, NULL);
	/* PROXY with an unspecified family or transport: own addresses. */
	n = v2(b, 0x21, 0x00, v4body, 3);
	expect_ok(BOTH, b, n, 2, NULL, NULL);
	n = v2(b, 0x21, 0x10, v4body, sizeof(v4body));
	expect_ok(BOTH, b, n, 2, NULL, NULL);
	n = v2(b, 0x21, 0x01, NULL, 0);
	expect_ok(BOTH, b, n, 2, NULL, NULL);
}

static void
test_v2_limits(void)
{
	uint8_t	b[MAX_INPUT], body[MAX_INPUT];
	size_t	n, tl;

	/* Length exactly PROXY_V2_MAX_LEN: addresses + one NOOP TLV. */
	memset(body, 0xaa, sizeof(body));
	memcpy(body, v6body, 36);
	tl = PROXY_V2_MAX_LEN - 36 - 3;
	body[36] = 0x04;
	body[37] = (uint8_t)(tl >> 8);
	body[38] = (uint8_t)tl;
	n = v2(b, 0x21, 0x21, body, PROXY_V2_MAX_LEN);
	T_EQ_INT(n, PROXY_V2_HDR + PROXY_V2_MAX_LEN);
	expect_ok(BOTH, b, n, 2, "[2001:db8::42]:1", "[2001:db8::1]:993");
	/* One past: refused at the length field already. */
	tl++;
	body[37] = (uint8_t)(tl >> 8);
	body[38] = (uint8_t)tl;
	n = v2(b, 0x21, 0x21, body, PROXY_V2_MAX_LEN + 1);
	expect_err(BOTH, b, n, "v2: header longer than 1024 bytes");
	expect_err(BOTH, b, PROXY_V2_HDR, "v2: header longer than 1024 bytes");
	/* The largest length field, LOCAL too. */
	b[14] = 0xff;
	b[15] = 0xff;
	expect_err(BOTH, b, PROXY_V2_HDR, "v2: header longer than 1024 bytes");
	b[12] = 0x20;
	expect_err(BOTH, b, PROXY_V2_HDR, "v2: header longer than 1024 bytes");
	/* LOCAL with exactly the limit, skipped. */
	n = v2(b, 0x20, 0x00, body, PROXY_V2_MAX_LEN);
	expect_ok(BOTH, b, n, 2, NULL, NULL);
	/* Address blocks one short of the family's size. */
	n = v2(b, 0x21, 0x11, v4body, 11);
	expect_err(BOTH, b, n, "v2: address block too short");
	n = v2(b, 0x21, 0x21, v6body, 35);
	expect_err(BOTH, b, n, "v2: address block too short");
	n = v2(b, 0x21, 0x21, v4body, 12);
	expect_err(BOTH, b, n, "v2: address block too short");
}

static void
test_v2_rejects(void)
{
	uint8_t	b[MAX_INPUT], body[256];
	size_t	n, i;

	n = v2(b, 0x21, 0x11, v4body, sizeof(v4body));
	/* Each signature byte wrong in turn. */
	for (i = 1; i < 12; i++) {
		b[i] ^= 0x40;
		expect_err(BOTH, b, n, "v2: bad signature");
		b[i] ^= 0x40;
	}
	b[12] = 0x11;
	expect_err(BOTH, b, n, "v2: bad version");
	b[12] = 0x31;
	expect_err(BOTH, b, n, "v2: bad version");
	b[12] = 0x22;
	expect_err(BOTH, b, n, "v2: unknown command");
	b[12] = 0x2f;
	expect_err(BOTH, b, n, "v2: unknown command");
	b[12] = 0x21;
	b[13] = 0x41;
	expect_err(BOTH, b, n, "v2: unknown address family");
	b[13] = 0xf1;
	expect_err(BOTH, b, n, "v2: unknown address family");
	b[13] = 0x13;
	expect_err(BOTH, b, n, "v2: unknown transport");
	b[13] = 0x31;
	expect_err(BOTH, b, n, "v2: AF_UNIX refused");
	b[13] = 0x32;
	expect_err(BOTH, b, n, "v2: AF_UNIX refused");
	b[13] = 0x12;
	expect_err(BOTH, b, n, "v2: datagram transport refused");
	b[13] = 0x22;
	expect_err(BOTH, b, n, "v2: datagram transport refused");
	/* A 216-byte AF_UNIX block, as a sender would really send it. */
	memset(body, 0, 216);
	n = v2(b, 0x21, 0x31, body, 216);
	expect_err(BOTH, b, n, "v2: AF_UNIX refused");
	/* TLV framing. */
	memcpy(body, v4body, 12);
	memcpy(body + 12, "\x01\x00", 2);
	n = v2(b, 0x21, 0x11, body, 13);
	expect_err(BOTH, b, n, "v2: truncated TLV");
	n = v2(b, 0x21, 0x11, body, 14);
	expect_err(BOTH, b, n, "v2: truncated TLV");
	memcpy(body + 12, "\x01\x00\x05imap", 7);
	n = v2(b, 0x21, 0x11, body, 19);
	expect_err(BOTH, b, n, "v2: TLV overruns the header");
	memcpy(body + 12, "\x01\xff\xff", 3);
	n = v2(b, 0x21, 0x11, body, 15);
	expect_err(BOTH, b, n, "v2: TLV overruns the header");
	/* Not configured. */
	n = v2(b, 0x21, 0x11, v4body, sizeof(v4body));
	expect_err(PROXYPROTO_V1, b, n,
	    "PROXY v2 not accepted on this listener");
}

/* Truncated headers never complete and never error: the caller's
 * timeout decides. */
static void
test_truncated(void)
{
	uint8_t		b[MAX_INPUT];
	struct outcome	o;
	size_t		n;

	n = v2(b, 0x21, 0x21, v6body, sizeof(v6body));
	run_all(BOTH, b, n - 1, &o);
	T_EQ_INT(o.rv, 0);
	T_EQ_INT(o.used, n - 1);
	run_all(BOTH, (const uint8_t *)"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r",
	    31, &o);
	T_EQ_INT(o.rv, 0);
	T_EQ_INT(o.used, 31);
	run(BOTH, b, 0, 0, &o);
	T_EQ_INT(o.rv, 0);
	T_EQ_INT(o.used, 0);
}

static void
cidr(struct hostaddr_cidr *c, const char *text)
{
	const char	*err = NULL;

	T_EQ_INT(hostaddr_cidr_parse(span_from_str(text), c, &err), 0);
}

static void
test_trusted(void)
{
	struct hostaddr_cidr	nets[3];
	struct sockaddr_in	s4;
	struct sockaddr_in6	s6;
	struct sockaddr		un;

	cidr(&nets[0], "10.0.0.0/8");
	cidr(&nets[1], "192.0.2.7");
	cidr(&nets[2], "2001:db8::/32");
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	inet_pton(AF_INET, "10.9.8.7", &s4.sin_addr);
	T_EQ_INT(proxyproto_trusted(nets, 3, (struct sockaddr *)&s4,
	    sizeof(s4)), 1);
	inet_pton(AF_INET, "192.0.2.7", &s4.sin_addr);
	T_EQ_INT(proxyproto_trusted(nets, 3, (struct sockaddr *)&s4,
	    sizeof(s4)), 1);
	inet_pton(AF_INET, "192.0.2.8", &s4.sin_addr);
	T_EQ_INT(proxyproto_trusted(nets, 3, (struct sockaddr *)&s4,
	    sizeof(s4)), 0);
	inet_pton(AF_INET, "11.0.0.1", &s4.sin_addr);
	T_EQ_INT(proxyproto_trusted(nets, 3, (struct sockaddr *)&s4,
	    sizeof(s4)), 0);
	T_EQ_INT(proxyproto_trusted(nets, 0, (struct sockaddr *)&s4,
	    sizeof(s4)), 0);
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1::5", &s6.sin6_addr);
	T_EQ_INT(proxyproto_trusted(nets, 3, (struct sockaddr *)&s6,
	    sizeof(s6)), 1);
	inet_pton(AF_INET6, "2001:db9::5", &s6.sin6_addr);
	T_EQ_INT(proxyproto_trusted(nets, 3, (struct sockaddr *)&s6,
	    sizeof(s6)), 0);
	/* A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d. */
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &s6.sin6_addr);
	T_EQ_INT(proxyproto_trusted(nets, 3, (struct sockaddr *)&s6,
	    sizeof(s6)), 1);
	inet_pton(AF_INET6, "::ffff:11.1.2.3", &s6.sin6_addr);
	T_EQ_INT(proxyproto_trusted(nets, 3, (struct sockaddr *)&s6,
	    sizeof(s6)), 0);
	/* Short length, other families. */
	T_EQ_INT(proxyproto_trusted(nets, 3, (struct sockaddr *)&s6, 8), 0);
	memset(&un, 0, sizeof(un));
	un.sa_family = AF_UNIX;
	T_EQ_INT(proxyproto_trusted(nets, 3, &un, sizeof(un)), 0);
}

static void
test_names(void)
{
	T_EQ_STR(proxyproto_versions_name(PROXYPROTO_V1), "v1");
	T_EQ_STR(proxyproto_versions_name(PROXYPROTO_V2), "v2");
	T_EQ_STR(proxyproto_versions_name(BOTH), "v1,v2");
	T_EQ_STR(proxyproto_versions_name(0), "none");
	/* A parser for no version refuses everything. */
	expect_err(0, (const uint8_t *)"PROXY UNKNOWN\r\n", 15,
	    "PROXY v1 not accepted on this listener");
}

static const struct harness_case cases[] = {
	{ "v1_valid", test_v1_valid },
	{ "v1_limits", test_v1_limits },
	{ "v1_rejects", test_v1_rejects },
	{ "v2_valid", test_v2_valid },
	{ "v2_limits", test_v2_limits },
	{ "v2_rejects", test_v2_rejects },
	{ "truncated", test_truncated },
	{ "trusted", test_trusted },
	{ "names", test_names },
};

HARNESS_MAIN("proxyproto", cases)
