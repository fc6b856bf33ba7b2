/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * hostaddr: parsing and normalisation of host names, IP addresses and
 * CIDR prefixes for the destination policy (policy/dest.h).  Pure code,
 * no I/O and no DNS: it runs in the parent (config, client-supplied
 * targets) and in the dialer (resolved addresses), with whatever privilege
 * that role has, and trusts none of its input.  There is exactly one
 * accepted text form of each address, so an address that a libc function
 * (inet_aton, getaddrinfo) would read differently from us is refused here,
 * never passed on.  Rules (docs/policy.md):
 *   - IPv4 only as canonical dotted quad: four decimal parts 0..255, no
 *     leading zeros.  Everything else inet_aton(3) accepts (2130706433,
 *     0x7f000001, 0177.0.0.1, 127.1) is refused, as is any name whose
 *     last label is all digits or 0x-hex.
 *   - IPv6 only inside brackets at the client, no zone index; printed in
 *     the RFC 5952 form inet_ntop(3) gives.
 *   - Names: LDH labels of 1..63 bytes, 253 in all, no trailing dot,
 *     folded to lower case.  Bytes >= 0x80 (IDN U-labels) are refused;
 *     A-labels (xn--...) are ordinary LDH labels and match literally.
 */
#ifndef BAILEY_HOSTADDR_H
#define BAILEY_HOSTADDR_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "bailey_limits.h"
#include "buf.h"

/* Longest host name in DNS presentation form, without a trailing dot. */
#define HOSTADDR_MAX_NAME	253
#define HOSTADDR_MAX_LABEL	63
/* Longest IPv6 text we read: 8 groups of 4 plus 7 colons, or a v4 tail. */
#define HOSTADDR_MAX_V6TEXT	45

enum hostaddr_kind {
	HOSTADDR_NAME = 1,	/* a DNS name, to be resolved */
	HOSTADDR_V4,		/* a canonical dotted quad */
	HOSTADDR_V6,		/* an IPv6 literal (given in brackets) */
};

/* An address; v4 uses a[0..3].  Compare with hostaddr_ip_eq(). */
struct hostaddr_ip {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		a[16];
};

struct hostaddr {
	enum hostaddr_kind	kind;
	struct hostaddr_ip	ip;	/* V4 and V6 only */
	/* Canonical text: lower-case name, dotted quad, or RFC 5952 IPv6
	 * without brackets.  Always NUL-terminated. */
	char			text[MAX_HOST + 1];
};

struct hostaddr_cidr {
	struct hostaddr_ip	net;	/* host bits are zero */
	unsigned		plen;	/* 0..32 or 0..128 */
};

/*
 * UNTRUSTED: one host as the client or a map wrote it, bounded by
 * MAX_HOST.  bracketed: the text stood inside [...], so only an IPv6
 * literal is accepted; otherwise a dotted quad or a name is.  Fills *h_r
 * and returns 0, or returns -1 with *errstr_r set (a static string).
 */
int	hostaddr_parse(struct span, int bracketed, struct hostaddr *h_r,
	    const char **errstr_r);

/* Strict canonical dotted quad.  0, or -1 if s is anything else. */
int	hostaddr_parse_v4(struct span, uint8_t a_r[4]);
/* An IPv6 literal without brackets or zone.  0 or -1. */
int	hostaddr_parse_v6(struct span, uint8_t a_r[16]);

/*
 * 1 if the name (not an address) is in a form that inet_aton(3) or a
 * resolver could read as an IPv4 address, or whose last label is numeric
 * or 0x-hex; 0 otherwise.  Used to refuse such names before DNS.
 */
int	hostaddr_numeric_name(struct span);

/*
 * Reads the address and port of a resolved sockaddr (AF_INET or AF_INET6;
 * salen must cover the family's struct).  Returns 0, or -1 for another
 * family, a short length, or an IPv6 address with a scope id.
 */
int	hostaddr_from_sockaddr(const struct sockaddr *, socklen_t salen,
	    struct hostaddr_ip *ip_r, uint16_t *port_r);
/* 1 and the embedded IPv4 in *v4_r if ip is ::ffff:a.b.c.d, else 0. */
int	hostaddr_unmap(const struct hostaddr_ip *ip, struct hostaddr_ip *v4_r);
/* Canonical text of an address into dst.  0, or -1 if it does not fit. */
int	hostaddr_ip_format(const struct hostaddr_ip *, char *dst,
	    size_t dstsz);
int	hostaddr_ip_eq(const struct hostaddr_ip *, const struct hostaddr_ip *);

/*
 * A CIDR prefix "ADDR[/LEN]" from the configuration (IPv6 without
 * brackets).  Without /LEN the prefix is the single address.  Refused:
 * host bits set, a length with leading zeros or out of range, and
 * IPv4-mapped IPv6 prefixes (write the IPv4 form).  0 or -1 + *errstr_r.
 */
int	hostaddr_cidr_parse(struct span, struct hostaddr_cidr *c_r,
	    const char **errstr_r);
/* "ADDR/LEN", always with the length.  0, or -1 if it does not fit. */
int	hostaddr_cidr_format(const struct hostaddr_cidr *, char *dst,
	    size_t dstsz);
/* 1 if ip lies in c (same family), else 0. */
int	hostaddr_cidr_contains(const struct hostaddr_cidr *c,
	    const struct hostaddr_ip *ip);
/* 1 if every address of inner lies in outer, else 0. */
int	hostaddr_cidr_within(const struct hostaddr_cidr *inner,
	    const struct hostaddr_cidr *outer);

#endif
