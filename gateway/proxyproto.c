/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * proxyproto: the inbound PROXY protocol v1/v2 header as a byte-at-a-time
 * state machine.  Runs in the worker (unprivileged, sandboxed) and in the
 * unit test and fuzz target; no I/O.  Its input is UNTRUSTED: every state
 * has a bound (PROXY_V1_MAX for the v1 line, PROXY_V2_MAX_LEN for the v2
 * block, PROXYPROTO_TOKEN_MAX for one field), and the machine stops at
 * the header's last byte.  Addresses are read with policy/hostaddr.c's
 * strict parsers, so a v1 address has exactly one accepted text form.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <string.h>

#include "proxyproto.h"

static const uint8_t	pp_v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00,
    0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
static const char	pp_v1_sig[] = "PROXY ";

/* v1 fields, in order. */
enum { PP_F_SRC = 0, PP_F_DST, PP_F_SPORT, PP_F_DPORT, PP_F_END };

/* v2 address families and transports (high and low nibble). */
enum { PP_AF_UNSPEC = 0, PP_AF_INET, PP_AF_INET6, PP_AF_UNIX };
enum { PP_TR_UNSPEC = 0, PP_TR_STREAM, PP_TR_DGRAM };

static int
pp_fail(struct proxyproto *p, const char *err)
{
	p->state = PP_ST_ERROR;
	p->err = err;
	return -1;
}

static int
pp_tok_add(struct proxyproto *p, uint8_t c, size_t max)
{
	if (p->ntok >= max || p->ntok >= sizeof(p->tok)) {
		return -1;
	}
	p->tok[p->ntok++] = c;
	return 0;
}

static struct span
pp_tok(const struct proxyproto *p)
{
	struct span	s = { p->tok, p->ntok };

	return s;
}

/* ip into ss (port 0); ::ffff:a.b.c.d becomes AF_INET. */
static void
pp_set_sa(struct sockaddr_storage *ss, const struct hostaddr_ip *ip)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)(void *)ss;
	struct hostaddr_ip	 v4;

	if (ip->family == AF_INET6 && hostaddr_unmap(ip, &v4)) {
		ip = &v4;
	}
	memset(ss, 0, sizeof(*ss));
	if (ip->family == AF_INET) {
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, ip->a, 4);
	} else {
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, ip->a, 16);
	}
}

/* port (host order) into ss, whose family is already set. */
static void
pp_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET) {
		((struct sockaddr_in *)(void *)ss)->sin_port = htons(port);
	} else {
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons(port);
	}
}

/* ---- version 1 ------------------------------------------------------- */

static int
pp_v1_addr(struct proxyproto *p, struct sockaddr_storage *ss,
    const char *err)
{
	struct hostaddr_ip	ip;

	memset(&ip, 0, sizeof(ip));
	if (p->v1_v6) {
		ip.family = AF_INET6;
		if (hostaddr_parse_v6(pp_tok(p), ip.a) == -1) {
			return pp_fail(p, err);
		}
	} else {
		ip.family = AF_INET;
		if (hostaddr_parse_v4(pp_tok(p), ip.a) == -1) {
			return pp_fail(p, err);
		}
	}
	pp_set_sa(ss, &ip);
	return 0;
}

static int
pp_v1_port(struct proxyproto *p, struct sockaddr_storage *ss)
{
	uint64_t	v = 0;

	if (p->ntok > 1 && span_byte(pp_tok(p), 0) == '0') {
		return pp_fail(p, "v1: port with a leading zero");
	}
	if (span_parse_uint(pp_tok(p), 0, 65535, &v) == -1) {
		return pp_fail(p, "v1: port out of range");
	}
	pp_set_port(ss, (uint16_t)v);
	return 0;
}

/* A field ended at its delimiter. */
static int
pp_v1_field_end(struct proxyproto *p)
{
	int	rv;

	if (p->ntok == 0) {
		return pp_fail(p, "v1: empty field");
	}
	switch (p->v1_field) {
	case PP_F_SRC:
		rv = pp_v1_addr(p, &p->res.src, "v1: bad source address");
		break;
	case PP_F_DST:
		rv = pp_v1_addr(p, &p->res.dst,
		    "v1: bad destination address");
		break;
	case PP_F_SPORT:
		rv = pp_v1_port(p, &p->res.src);
		break;
	default:
		rv = pp_v1_port(p, &p->res.dst);
		break;
	}
	p->ntok = 0;
	p->v1_field++;
	return rv;
}

static int
pp_v1_field_char(uint8_t c, unsigned field)
{
	if (c >= '0' && c <= '9') {
		return 1;
	}
	if (field >= PP_F_SPORT) {
		return 0;
	}
	return c == '.' || c == ':' || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
pp_v1_field(struct proxyproto *p, uint8_t c)
{
	uint8_t	delim = p->v1_field == PP_F_DPORT ? '\r' : ' ';
	size_t	max;

	if (c == ' ' || c == '\r') {
		if (c != delim) {
			return pp_fail(p, c == '\r' ? "v1: missing field" :
			    "v1: too many fields");
		}
		if (pp_v1_field_end(p) == -1) {
			return -1;
		}
		if (p->v1_field == PP_F_END) {
			p->state = PP_ST_V1_LF;
		}
		return 0;
	}
	if (!pp_v1_field_char(c, p->v1_field)) {
		return pp_fail(p, "v1: bad character in a field");
	}
	if (p->v1_field >= PP_F_SPORT) {
		max = 5;
	} else {
		max = p->v1_v6 ? HOSTADDR_MAX_V6TEXT : 15;
	}
	if (pp_tok_add(p, c, max) == -1) {
		return pp_fail(p, "v1: field too long");
	}
	return 0;
}

static int
pp_v1_proto(struct proxyproto *p, uint8_t c)
{
	struct span	t = pp_tok(p);

	if (c != ' ' && c != '\r') {
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ||
		    pp_tok_add(p, c, 7) == -1) {
			return pp_fail(p, "v1: unknown protocol");
		}
		return 0;
	}
	if (t.len == 7 && memcmp(t.p, "UNKNOWN", 7) == 0) {
		p->res.local = 1;
		p->state = c == ' ' ? PP_ST_V1_UNKNOWN : PP_ST_V1_LF;
		return 0;
	}
	if (t.len != 4 || (memcmp(t.p, "TCP4", 4) != 0 &&
	    memcmp(t.p, "TCP6", 4) != 0)) {
		return pp_fail(p, "v1: unknown protocol");
	}
	if (c == '\r') {
		return pp_fail(p, "v1: missing field");
	}
	p->v1_v6 = span_byte(t, 3) == '6';
	p->ntok = 0;
	p->v1_field = PP_F_SRC;
	p->state = PP_ST_V1_FIELD;
	return 0;
}

static int
pp_v1_byte(struct proxyproto *p, uint8_t c)
{
	if (p->total > PROXY_V1_MAX) {
		return pp_fail(p, "v1: line longer than 107 bytes");
	}
	switch (p->state) {
	case PP_ST_V1_SIG:
		if (c != (uint8_t)pp_v1_sig[p->idx]) {
			return pp_fail(p, "v1: bad signature");
		}
		if (++p->idx == sizeof(pp_v1_sig) - 1) {
			p->ntok = 0;
			p->state = PP_ST_V1_PROTO;
		}
		return 0;
	case PP_ST_V1_PROTO:
		return pp_v1_proto(p, c);
	case PP_ST_V1_UNKNOWN:
		if (c == '\n') {
			return pp_fail(p, "v1: LF without CR");
		}
		if (c == '\r') {
			p->state = PP_ST_V1_LF;
		}
		return 0;
	case PP_ST_V1_FIELD:
		return pp_v1_field(p, c);
	default:
		if (c != '\n') {
			return pp_fail(p, "v1: CR without LF");
		}
		p->state = PP_ST_DONE;
		return 1;
	}
}

/* ---- version 2 ------------------------------------------------------- */

static void
pp_v2_addresses(struct proxyproto *p)
{
	struct span		t = pp_tok(p);
	struct hostaddr_ip	src, dst;
	size_t			alen, i;

	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	alen = (p->fam >> 4) == PP_AF_INET ? 4 : 16;
	src.family = dst.family = alen == 4 ? AF_INET : AF_INET6;
	for (i = 0; i < alen; i++) {
		src.a[i] = span_byte(t, i);
		dst.a[i] = span_byte(t, alen + i);
	}
	pp_set_sa(&p->res.src, &src);
	pp_set_sa(&p->res.dst, &dst);
	pp_set_port(&p->res.src, (uint16_t)(span_byte(t, 2 * alen) << 8 |
	    span_byte(t, 2 * alen + 1)));
	pp_set_port(&p->res.dst, (uint16_t)(span_byte(t, 2 * alen + 2) << 8 |
	    span_byte(t, 2 * alen + 3)));
}

/* The length field is complete: decide what the block holds. */
static int
pp_v2_len_done(struct proxyproto *p)
{
	unsigned	af = p->fam >> 4, tr = p->fam & 0x0f;

	if (p->v2_len > PROXY_V2_MAX_LEN) {
		return pp_fail(p, "v2: header longer than 1024 bytes");
	}
	p->left = p->v2_len;
	if (!p->res.local) {
		if (af > PP_AF_UNIX) {
			return pp_fail(p, "v2: unknown address family");
		}
		if (tr > PP_TR_DGRAM) {
			return pp_fail(p, "v2: unknown transport");
		}
		if (af == PP_AF_UNIX) {
			return pp_fail(p, "v2: AF_UNIX refused");
		}
		if (tr == PP_TR_DGRAM) {
			return pp_fail(p, "v2: datagram transport refused");
		}
		if (af == PP_AF_UNSPEC || tr == PP_TR_UNSPEC) {
			p->res.local = 1;
		}
	}
	if (!p->res.local) {
		if (p->v2_len < (af == PP_AF_INET ? 12u : 36u)) {
			return pp_fail(p, "v2: address block too short");
		}
		p->ntok = 0;
		p->state = PP_ST_V2_ADDR;
		return 0;
	}
	if (p->left == 0) {
		p->state = PP_ST_DONE;
		return 1;
	}
	p->state = PP_ST_V2_SKIP;
	return 0;
}

/* One byte of the block after the fixed header; p->left counts it. */
static int
pp_v2_block_byte(struct proxyproto *p, uint8_t c)
{
	size_t	need;

	p->left--;
	switch (p->state) {
	case PP_ST_V2_ADDR:
		need = (p->fam >> 4) == PP_AF_INET ? 12 : 36;
		(void)pp_tok_add(p, c, PROXYPROTO_V2_ADDR_MAX);
		if (p->ntok < need) {
			return 0;
		}
		pp_v2_addresses(p);
		p->idx = 0;
		p->state = PP_ST_V2_TLV_HDR;
		break;
	case PP_ST_V2_TLV_HDR:
		if (p->idx == 1) {
			p->tlv_left = (size_t)c << 8;
		} else if (p->idx == 2) {
			p->tlv_left |= c;
		}
		if (++p->idx < 3) {
			if (p->left == 0) {
				return pp_fail(p, "v2: truncated TLV");
			}
			return 0;
		}
		if (p->tlv_left > p->left) {
			return pp_fail(p, "v2: TLV overruns the header");
		}
		p->idx = 0;
		if (p->tlv_left > 0) {
			p->state = PP_ST_V2_TLV_VALUE;
			return 0;
		}
		break;
	case PP_ST_V2_TLV_VALUE:
		if (--p->tlv_left > 0) {
			return 0;
		}
		p->state = PP_ST_V2_TLV_HDR;
		break;
	default:	/* PP_ST_V2_SKIP */
		break;
	}
	if (p->left == 0) {
		p->state = PP_ST_DONE;
		return 1;
	}
	return 0;
}

static int
pp_v2_byte(struct proxyproto *p, uint8_t c)
{
	switch (p->state) {
	case PP_ST_V2_SIG:
		if (c != pp_v2_sig[p->idx]) {
			return pp_fail(p, "v2: bad signature");
		}
		if (++p->idx == sizeof(pp_v2_sig)) {
			p->state = PP_ST_V2_VERCMD;
		}
		return 0;
	case PP_ST_V2_VERCMD:
		if ((c >> 4) != 2) {
			return pp_fail(p, "v2: bad version");
		}
		if ((c & 0x0f) > 1) {
			return pp_fail(p, "v2: unknown command");
		}
		p->res.local = (c & 0x0f) == 0;		/* LOCAL */
		p->state = PP_ST_V2_FAM;
		return 0;
	case PP_ST_V2_FAM:
		p->fam = c;
		p->idx = 0;
		p->v2_len = 0;
		p->state = PP_ST_V2_LEN;
		return 0;
	case PP_ST_V2_LEN:
		p->v2_len = (p->v2_len << 8) | c;
		if (++p->idx < 2) {
			return 0;
		}
		return pp_v2_len_done(p);
	default:
		return pp_v2_block_byte(p, c);
	}
}

/* ---- entry points ---------------------------------------------------- */

static int
pp_byte(struct proxyproto *p, uint8_t c)
{
	p->total++;
	switch (p->state) {
	case PP_ST_START:
		if (c == 'P') {
			if (!(p->versions & PROXYPROTO_V1)) {
				return pp_fail(p, "PROXY v1 not accepted on "
				    "this listener");
			}
			p->res.version = 1;
			p->idx = 1;
			p->state = PP_ST_V1_SIG;
			return 0;
		}
		if (c == 0x0d) {
			if (!(p->versions & PROXYPROTO_V2)) {
				return pp_fail(p, "PROXY v2 not accepted on "
				    "this listener");
			}
			p->res.version = 2;
			p->idx = 1;
			p->state = PP_ST_V2_SIG;
			return 0;
		}
		return pp_fail(p, "not a PROXY protocol header");
	case PP_ST_V1_SIG:
	case PP_ST_V1_PROTO:
	case PP_ST_V1_UNKNOWN:
	case PP_ST_V1_FIELD:
	case PP_ST_V1_LF:
		return pp_v1_byte(p, c);
	case PP_ST_DONE:
		return 1;
	case PP_ST_ERROR:
		return -1;
	default:
		return pp_v2_byte(p, c);
	}
}

void
proxyproto_init(struct proxyproto *p, unsigned versions)
{
	memset(p, 0, sizeof(*p));
	p->state = PP_ST_START;
	p->versions = versions & (PROXYPROTO_V1 | PROXYPROTO_V2);
}

/* UNTRUSTED: bounded as the header says (see proxyproto.h). */
int
proxyproto_feed(struct proxyproto *p, struct span in, size_t *used_r,
    struct proxyproto_result *res_r, const char **errstr_r)
{
	size_t	i;
	int	rv = 0;

	*used_r = 0;
	if (p->state == PP_ST_DONE) {
		*res_r = p->res;
		return 1;
	}
	if (p->state == PP_ST_ERROR) {
		*errstr_r = p->err;
		return -1;
	}
	for (i = 0; i < in.len && rv == 0; i++) {
		rv = pp_byte(p, span_byte(in, i));
	}
	*used_r = i;
	if (rv == 1) {
		*res_r = p->res;
	} else if (rv == -1) {
		*errstr_r = p->err;
	}
	return rv;
}

const char *
proxyproto_versions_name(unsigned versions)
{
	switch (versions & (PROXYPROTO_V1 | PROXYPROTO_V2)) {
	case PROXYPROTO_V1:
		return "v1";
	case PROXYPROTO_V2:
		return "v2";
	case PROXYPROTO_V1 | PROXYPROTO_V2:
		return "v1,v2";
	default:
		return "none";
	}
}

int
proxyproto_trusted(const struct hostaddr_cidr *nets, size_t n,
    const struct sockaddr *sa, socklen_t salen)
{
	struct hostaddr_ip	ip, v4;
	uint16_t		port;
	size_t			i;

	if (hostaddr_from_sockaddr(sa, salen, &ip, &port) == -1) {
		return 0;
	}
	if (hostaddr_unmap(&ip, &v4)) {
		ip = v4;
	}
	for (i = 0; i < n; i++) {
		if (hostaddr_cidr_contains(&nets[i], &ip)) {
			return 1;
		}
	}
	return 0;
}
