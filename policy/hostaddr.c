/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * hostaddr: host name, address and CIDR parsing for the destination
 * policy.  Pure functions without I/O; runs in the parent (configuration
 * and client-supplied targets) and in the dialer (resolved addresses) with
 * that role's privilege, and trusts none of its input.  Wire bytes are
 * read through spans (lib/buf.h); the one place a C string is built is the
 * bounded copy handed to inet_pton/inet_aton.  See hostaddr.h for the
 * accepted forms and docs/policy.md for why.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "hostaddr.h"

static int
hostaddr_is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int
hostaddr_is_hex(uint8_t c)
{
	return hostaddr_is_digit(c) || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
hostaddr_is_alnum(uint8_t c)
{
	return hostaddr_is_digit(c) || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static uint8_t
hostaddr_lower(uint8_t c)
{
	if (c >= 'A' && c <= 'Z') {
		return (uint8_t)(c - 'A' + 'a');
	}
	return c;
}

/* UNTRUSTED: bounded by the span; a state machine over parts and digits. */
int
hostaddr_parse_v4(struct span s, uint8_t a_r[4])
{
	uint8_t		a[4];
	unsigned	part = 0, ndig = 0, val = 0;
	size_t		i;
	uint8_t		c;

	for (i = 0; i < s.len; i++) {
		c = span_byte(s, i);
		if (hostaddr_is_digit(c)) {
			if (ndig > 0 && val == 0) {
				return -1;		/* leading zero */
			}
			val = val * 10 + (unsigned)(c - '0');
			ndig++;
			if (val > 255) {
				return -1;
			}
		} else if (c == '.') {
			if (ndig == 0 || part == 3) {
				return -1;
			}
			a[part++] = (uint8_t)val;
			ndig = 0;
			val = 0;
		} else {
			return -1;
		}
	}
	if (ndig == 0 || part != 3) {
		return -1;
	}
	a[3] = (uint8_t)val;
	memcpy(a_r, a, sizeof(a));
	return 0;
}

/* UNTRUSTED: bounded by HOSTADDR_MAX_V6TEXT. */
int
hostaddr_parse_v6(struct span s, uint8_t a_r[16])
{
	char		text[HOSTADDR_MAX_V6TEXT + 1];
	size_t		i;
	uint8_t		c;

	if (s.len == 0 || s.len > HOSTADDR_MAX_V6TEXT) {
		return -1;
	}
	for (i = 0; i < s.len; i++) {
		c = span_byte(s, i);
		if (!hostaddr_is_hex(c) && c != ':' && c != '.') {
			return -1;
		}
	}
	if (span_cstr(s, text, sizeof(text)) == -1) {
		return -1;
	}
	if (inet_pton(AF_INET6, text, a_r) != 1) {
		return -1;
	}
	return 0;
}

/* The last label, ignoring one trailing dot. */
static struct span
hostaddr_last_label(struct span s)
{
	size_t	end = s.len, i;

	if (end > 0 && span_byte(s, end - 1) == '.') {
		end--;
	}
	i = end;
	while (i > 0 && span_byte(s, i - 1) != '.') {
		i--;
	}
	return span_sub(s, i, end - i);
}

int
hostaddr_numeric_name(struct span s)
{
	char		text[MAX_HOST + 1];
	struct in_addr	ia;
	struct span	last;
	size_t		i, start = 0;
	int		all = 1;

	if (span_cstr(s, text, sizeof(text)) == 0 && inet_aton(text, &ia)) {
		return 1;
	}
	last = hostaddr_last_label(s);
	if (last.len == 0) {
		return 0;
	}
	if (last.len >= 2 && span_byte(last, 0) == '0' &&
	    hostaddr_lower(span_byte(last, 1)) == 'x') {
		start = 2;
		for (i = start; i < last.len; i++) {
			if (!hostaddr_is_hex(span_byte(last, i))) {
				all = 0;
			}
		}
		return all;
	}
	for (i = 0; i < last.len; i++) {
		if (!hostaddr_is_digit(span_byte(last, i))) {
			all = 0;
		}
	}
	return all;
}

/*
 * UNTRUSTED: a host name, bounded by HOSTADDR_MAX_NAME.  One pass over the
 * bytes, the state being the length of the current label and the byte
 * before.
 */
static int
hostaddr_check_name(struct span s, const char **errstr_r)
{
	size_t	i, lablen = 0;
	uint8_t	c, prev = '.';

	if (s.len > HOSTADDR_MAX_NAME) {
		*errstr_r = "host name too long";
		return -1;
	}
	for (i = 0; i < s.len; i++) {
		c = span_byte(s, i);
		if (c >= 0x80) {
			*errstr_r = "non-ASCII host name (write IDN names in "
			    "their xn-- form)";
			return -1;
		} else if (c == '.') {
			if (lablen == 0) {
				*errstr_r = "empty label in host name";
				return -1;
			}
			if (prev == '-') {
				*errstr_r = "label ends with a hyphen";
				return -1;
			}
			lablen = 0;
		} else if (c == '-') {
			if (lablen == 0) {
				*errstr_r = "label starts with a hyphen";
				return -1;
			}
			lablen++;
		} else if (hostaddr_is_alnum(c)) {
			lablen++;
		} else if (c == '%') {
			*errstr_r = "percent sign in host name";
			return -1;
		} else if (c == ':') {
			*errstr_r = "IPv6 address outside brackets";
			return -1;
		} else {
			*errstr_r = "bad character in host name";
			return -1;
		}
		if (lablen > HOSTADDR_MAX_LABEL) {
			*errstr_r = "label longer than 63 bytes";
			return -1;
		}
		prev = c;
	}
	if (s.len == 0) {
		*errstr_r = "empty host";
		return -1;
	}
	if (lablen == 0) {
		*errstr_r = "trailing dot in host name";
		return -1;
	}
	if (prev == '-') {
		*errstr_r = "label ends with a hyphen";
		return -1;
	}
	if (hostaddr_numeric_name(s)) {
		*errstr_r = "numeric host name (IPv4 address in a "
		    "non-canonical form?)";
		return -1;
	}
	return 0;
}

int
hostaddr_ip_format(const struct hostaddr_ip *ip, char *dst, size_t dstsz)
{
	if (ip->family != AF_INET && ip->family != AF_INET6) {
		return -1;
	}
	if (inet_ntop(ip->family, ip->a, dst, (socklen_t)dstsz) == NULL) {
		return -1;
	}
	return 0;
}

int
hostaddr_parse(struct span s, int bracketed, struct hostaddr *h_r,
    const char **errstr_r)
{
	struct hostaddr	h;
	size_t		i;

	memset(&h, 0, sizeof(h));
	if (s.len == 0) {
		*errstr_r = "empty host";
		return -1;
	}
	if (s.len > MAX_HOST) {
		*errstr_r = "host too long";
		return -1;
	}
	if (bracketed) {
		if (span_find(s, 0, '%') != -1) {
			*errstr_r = "IPv6 zone index not allowed";
			return -1;
		}
		if (hostaddr_parse_v6(s, h.ip.a) == -1) {
			*errstr_r = "bad IPv6 address";
			return -1;
		}
		h.kind = HOSTADDR_V6;
		h.ip.family = AF_INET6;
	} else if (hostaddr_parse_v4(s, h.ip.a) == 0) {
		h.kind = HOSTADDR_V4;
		h.ip.family = AF_INET;
	} else {
		if (hostaddr_check_name(s, errstr_r) == -1) {
			return -1;
		}
		h.kind = HOSTADDR_NAME;
		for (i = 0; i < s.len; i++) {
			h.text[i] = (char)hostaddr_lower(span_byte(s, i));
		}
		h.text[s.len] = '\0';
	}
	if (h.kind != HOSTADDR_NAME &&
	    hostaddr_ip_format(&h.ip, h.text, sizeof(h.text)) == -1) {
		*errstr_r = "cannot format address";
		return -1;
	}
	*h_r = h;
	return 0;
}

int
hostaddr_from_sockaddr(const struct sockaddr *sa, socklen_t salen,
    struct hostaddr_ip *ip_r, uint16_t *port_r)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;

	if (sa == NULL || salen < (socklen_t)sizeof(sa->sa_family)) {
		return -1;
	}
	memset(ip_r, 0, sizeof(*ip_r));
	if (sa->sa_family == AF_INET) {
		if (salen < (socklen_t)sizeof(sin)) {
			return -1;
		}
		memcpy(&sin, sa, sizeof(sin));
		ip_r->family = AF_INET;
		memcpy(ip_r->a, &sin.sin_addr, 4);
		*port_r = ntohs(sin.sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		if (salen < (socklen_t)sizeof(sin6)) {
			return -1;
		}
		memcpy(&sin6, sa, sizeof(sin6));
		if (sin6.sin6_scope_id != 0) {
			return -1;
		}
		ip_r->family = AF_INET6;
		memcpy(ip_r->a, &sin6.sin6_addr, 16);
		*port_r = ntohs(sin6.sin6_port);
		return 0;
	}
	return -1;
}

int
hostaddr_unmap(const struct hostaddr_ip *ip, struct hostaddr_ip *v4_r)
{
	static const uint8_t	prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0xff, 0xff };

	if (ip->family != AF_INET6 || memcmp(ip->a, prefix, 12) != 0) {
		return 0;
	}
	memset(v4_r, 0, sizeof(*v4_r));
	v4_r->family = AF_INET;
	memcpy(v4_r->a, &ip->a[12], 4);
	return 1;
}

int
hostaddr_ip_eq(const struct hostaddr_ip *a, const struct hostaddr_ip *b)
{
	size_t	n;

	if (a->family != b->family) {
		return 0;
	}
	n = a->family == AF_INET ? 4 : 16;
	return memcmp(a->a, b->a, n) == 0;
}

static unsigned
hostaddr_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* 1 if the first plen bits of a and b agree. */
static int
hostaddr_prefix_eq(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned	full = plen / 8, rest = plen % 8;
	uint8_t		mask;

	if (full > 0 && memcmp(a, b, full) != 0) {
		return 0;
	}
	if (rest == 0) {
		return 1;
	}
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* 1 if any bit past plen is set. */
static int
hostaddr_host_bits(const struct hostaddr_ip *ip, unsigned plen)
{
	unsigned	i, nbits = hostaddr_bits(ip->family);

	for (i = plen; i < nbits; i++) {
		if (ip->a[i / 8] & (0x80 >> (i % 8))) {
			return 1;
		}
	}
	return 0;
}

/* UNTRUSTED (configuration): bounded by MAX_HOST. */
int
hostaddr_cidr_parse(struct span s, struct hostaddr_cidr *c_r,
    const char **errstr_r)
{
	struct hostaddr_cidr	c;
	struct hostaddr_ip	v4;
	struct span		addr, len;
	long			slash;
	uint64_t		v;

	memset(&c, 0, sizeof(c));
	if (s.len == 0 || s.len > MAX_HOST) {
		*errstr_r = "bad CIDR prefix";
		return -1;
	}
	slash = span_find(s, 0, '/');
	addr = slash == -1 ? s : span_sub(s, 0, (size_t)slash);
	if (hostaddr_parse_v4(addr, c.net.a) == 0) {
		c.net.family = AF_INET;
	} else if (hostaddr_parse_v6(addr, c.net.a) == 0) {
		c.net.family = AF_INET6;
	} else {
		*errstr_r = "bad address in CIDR prefix (IPv4 as a canonical "
		    "dotted quad, IPv6 without brackets)";
		return -1;
	}
	c.plen = hostaddr_bits(c.net.family);
	if (slash != -1) {
		len = span_sub(s, (size_t)slash + 1, s.len - (size_t)slash - 1);
		if (len.len == 0 || len.len > 3 ||
		    (len.len > 1 && span_byte(len, 0) == '0') ||
		    span_parse_uint(len, 0, hostaddr_bits(c.net.family),
		    &v) == -1) {
			*errstr_r = "bad prefix length";
			return -1;
		}
		c.plen = (unsigned)v;
	}
	if (hostaddr_host_bits(&c.net, c.plen)) {
		*errstr_r = "host bits set in CIDR prefix";
		return -1;
	}
	if (c.plen >= 96 && hostaddr_unmap(&c.net, &v4)) {
		*errstr_r = "IPv4-mapped prefix: write the IPv4 form";
		return -1;
	}
	*c_r = c;
	return 0;
}

int
hostaddr_cidr_format(const struct hostaddr_cidr *c, char *dst, size_t dstsz)
{
	char	text[INET6_ADDRSTRLEN];
	int	n;

	if (hostaddr_ip_format(&c->net, text, sizeof(text)) == -1) {
		return -1;
	}
	n = snprintf(dst, dstsz, "%s/%u", text, c->plen);
	if (n < 0 || (size_t)n >= dstsz) {
		return -1;
	}
	return 0;
}

int
hostaddr_cidr_contains(const struct hostaddr_cidr *c,
    const struct hostaddr_ip *ip)
{
	if (c->net.family != ip->family) {
		return 0;
	}
	return hostaddr_prefix_eq(c->net.a, ip->a, c->plen);
}

int
hostaddr_cidr_within(const struct hostaddr_cidr *inner,
    const struct hostaddr_cidr *outer)
{
	if (inner->net.family != outer->net.family ||
	    inner->plen < outer->plen) {
		return 0;
	}
	return hostaddr_prefix_eq(inner->net.a, outer->net.a, outer->plen);
}
