/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * proxyproto: the inbound PROXY protocol header (haproxy's
 * proxy-protocol.txt, v1 text line and v2 binary block) that a load
 * balancer puts in front of a client's bytes.  Pure code, no I/O: runs in
 * the worker, unprivileged and sandboxed, before the greeting and before
 * any TLS.  The header bytes are UNTRUSTED (the session only feeds them
 * after the socket peer matched `proxy-trusted`, but even a trusted
 * balancer may be confused); the parser is a resumable byte machine that
 * stops exactly at the header's last byte, so whatever follows (the
 * client's first command, or its TLS ClientHello) is never taken.
 */
#ifndef BAILEY_PROXYPROTO_H
#define BAILEY_PROXYPROTO_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "bailey_limits.h"
#include "buf.h"
#include "hostaddr.h"

/* Versions a listener accepts (bit mask; the same values as LISTEN_PROXY_*
 * in config.h). */
#define PROXYPROTO_V1		0x1
#define PROXYPROTO_V2		0x2

/* Longest v1 field: an IPv6 text with an IPv4 tail (hostaddr.h). */
#define PROXYPROTO_TOKEN_MAX	HOSTADDR_MAX_V6TEXT
/* Longest v2 address block we read (TCP over IPv6: 2 * 16 + 2 * 2). */
#define PROXYPROTO_V2_ADDR_MAX	36

enum proxyproto_state {
	PP_ST_START = 0,	/* first byte: 'P' is v1, CR is v2 */
	PP_ST_V1_SIG,		/* the rest of "PROXY " */
	PP_ST_V1_PROTO,		/* TCP4, TCP6 or UNKNOWN */
	PP_ST_V1_UNKNOWN,	/* after UNKNOWN: ignored up to the CR */
	PP_ST_V1_FIELD,		/* source, destination, ports (v1_field) */
	PP_ST_V1_LF,		/* CR seen, LF must follow */
	PP_ST_V2_SIG,		/* the rest of the 12-byte signature */
	PP_ST_V2_VERCMD,	/* version 2, LOCAL or PROXY */
	PP_ST_V2_FAM,		/* address family and transport */
	PP_ST_V2_LEN,		/* 16-bit length, two bytes */
	PP_ST_V2_ADDR,		/* the address block of INET / INET6 */
	PP_ST_V2_TLV_HDR,	/* type and 16-bit length of a TLV */
	PP_ST_V2_TLV_VALUE,	/* a TLV's value, skipped */
	PP_ST_V2_SKIP,		/* LOCAL / UNSPEC: the block, skipped */
	PP_ST_DONE,
	PP_ST_ERROR,
};

/* What the header said. */
struct proxyproto_result {
	int			version;	/* 1 or 2 */
	/* 1: LOCAL (v2), UNKNOWN (v1) or an unspecified family (v2): the
	 * connection's own addresses stand; src and dst are unset. */
	int			local;
	/* The client (source) and the address it connected to
	 * (destination), AF_INET or AF_INET6 with the port.  IPv4-mapped
	 * IPv6 addresses are given as AF_INET. */
	struct sockaddr_storage	src;
	struct sockaddr_storage	dst;
};

struct proxyproto {
	enum proxyproto_state	 state;
	unsigned		 versions;	/* PROXYPROTO_V1 | _V2 */
	size_t			 total;		/* header bytes taken */
	size_t			 idx;		/* in a signature or field */
	unsigned		 v1_field;	/* 0 src, 1 dst, 2 sport, 3 dport */
	int			 v1_v6;		/* TCP6 */
	uint8_t			 tok[PROXYPROTO_TOKEN_MAX];
	size_t			 ntok;
	uint8_t			 fam;		/* v2 family/transport byte */
	size_t			 v2_len;	/* the length field */
	size_t			 left;		/* v2 bytes still to come */
	size_t			 tlv_left;	/* of the current TLV value */
	struct proxyproto_result res;
	const char		*err;
};

/* Starts a parse accepting the versions in mask (PROXYPROTO_V1 | _V2). */
void	proxyproto_init(struct proxyproto *, unsigned versions);

/*
 * UNTRUSTED: the next bytes from the balancer, bounded by PROXY_V1_MAX
 * (v1) and PROXY_V2_HDR + PROXY_V2_MAX_LEN (v2) in all, whatever the
 * split.  Returns
 *    1: the header is complete after *used_r bytes of in (the rest of in
 *       is the client's and was not looked at); the result is in
 *       *res_r;
 *    0: every byte of in was header; feed more (*used_r = in.len);
 *   -1: not a valid header (*errstr_r: a static string, safe to log).
 * After 1 or -1 the parser stays in that state: feeding again returns the
 * same and takes nothing.
 */
int	proxyproto_feed(struct proxyproto *, struct span in, size_t *used_r,
	    struct proxyproto_result *res_r, const char **errstr_r);

/* The text of a mask for logs and docs: "v1", "v2" or "v1,v2". */
const char *proxyproto_versions_name(unsigned versions);

/*
 * 1 if the socket peer sa (AF_INET or AF_INET6; ::ffff:a.b.c.d counts as
 * a.b.c.d) lies in one of the n prefixes of nets, 0 otherwise (also for
 * any other family).
 */
int	proxyproto_trusted(const struct hostaddr_cidr *nets, size_t n,
	    const struct sockaddr *sa, socklen_t salen);

#endif
