/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * dest: the destination policy engine.  Pure code without I/O or DNS.
 * The parent builds the policy from the configuration (trusted) and runs
 * the client-string lexer on the login name (UNTRUSTED); the dialer runs
 * the address checks on every address getaddrinfo returns, before
 * connect(), trusting only the rules the parent gave it.  Neither needs
 * any privilege for this code.  See dest.h for the API, docs/policy.md
 * for the grammar and the reasons behind each refusal.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dest.h"
#include "hostaddr.h"
#include "log.h"

/*
 * Ranges refused unless a net rule inside them lists them explicitly.
 * Nested entries are fine: the longest one containing an address decides.
 */
static const struct {
	const char	*cidr;
	const char	*why;
} dest_special_table[] = {
	{ "0.0.0.0/8",		"this-network address (0.0.0.0/8)" },
	{ "0.0.0.0/32",		"unspecified address" },
	{ "10.0.0.0/8",		"private address (RFC 1918)" },
	{ "100.64.0.0/10",	"shared address space (RFC 6598)" },
	{ "127.0.0.0/8",	"loopback address" },
	{ "169.254.0.0/16",	"link-local address" },
	{ "172.16.0.0/12",	"private address (RFC 1918)" },
	{ "192.0.0.0/24",	"IETF protocol assignment (192.0.0.0/24)" },
	{ "192.0.2.0/24",	"documentation address" },
	{ "192.88.99.0/24",	"6to4 relay anycast address" },
	{ "192.168.0.0/16",	"private address (RFC 1918)" },
	{ "198.18.0.0/15",	"benchmarking address" },
	{ "198.51.100.0/24",	"documentation address" },
	{ "203.0.113.0/24",	"documentation address" },
	{ "224.0.0.0/4",	"multicast address" },
	{ "240.0.0.0/4",	"reserved address (240.0.0.0/4)" },
	{ "255.255.255.255/32",	"broadcast address" },
	{ "::/128",		"unspecified address" },
	{ "::1/128",		"loopback address" },
	{ "::/96",		"IPv4-compatible IPv6 address" },
	{ "64:ff9b::/96",	"NAT64 address (embeds IPv4)" },
	{ "64:ff9b:1::/48",	"local-use NAT64 address" },
	{ "100::/64",		"discard-only address" },
	{ "2001::/23",		"IETF protocol assignment (Teredo, ...)" },
	{ "2001:db8::/32",	"documentation address" },
	{ "2002::/16",		"6to4 address (embeds IPv4)" },
	{ "fc00::/7",		"unique-local address" },
	{ "fe80::/10",		"link-local address" },
	{ "fec0::/10",		"site-local address" },
	{ "ff00::/8",		"multicast address" },
};

_Static_assert(DEST_NSPECIAL == sizeof(dest_special_table) /
    sizeof(dest_special_table[0]), "DEST_NSPECIAL and the table disagree");

static int	dest_ports_add(struct dest_policy *, struct span,
		    const char **);

/* ---- policy -------------------------------------------------------- */

void
dest_policy_init(struct dest_policy *p)
{
	const char	*err;
	size_t		 i;

	memset(p, 0, sizeof(*p));
	p->delim = DEST_DEFAULT_DELIM;
	p->maps = DEST_MAPS_TRUST;
	for (i = 0; i < DEST_NSPECIAL; i++) {
		if (hostaddr_cidr_parse(span_from_str(
		    dest_special_table[i].cidr), &p->specials[i].c,
		    &err) == -1) {
			fatalx("dest: special range %s: %s",
			    dest_special_table[i].cidr, err);
		}
		p->specials[i].why = dest_special_table[i].why;
	}
	if (dest_ports_add(p, span_from_str(DEST_DEFAULT_PORTS), &err) == -1) {
		fatalx("dest: default ports: %s", err);
	}
	p->ports_set = 0;
}

struct dest_policy *
dest_policy_new(void)
{
	struct dest_policy	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		fatal("calloc");
	}
	dest_policy_init(p);
	return p;
}

void
dest_policy_free(struct dest_policy **pp)
{
	if (*pp != NULL) {
		free(*pp);
		*pp = NULL;
	}
}

void
dest_policy_set_user_host(struct dest_policy *p, int on)
{
	p->user_host = on != 0;
}

int
dest_policy_user_host(const struct dest_policy *p)
{
	return p->user_host;
}

static int
dest_delim_ok(char c)
{
	return c != '\0' && strchr(DEST_DELIMS, c) != NULL;
}

int
dest_policy_set_delim(struct dest_policy *p, const char *s,
    const char **errstr_r)
{
	if (s == NULL || strlen(s) != 1 || !dest_delim_ok(s[0])) {
		*errstr_r = "delimiter must be one of " DEST_DELIMS;
		return -1;
	}
	p->delim = s[0];
	return 0;
}

char
dest_policy_delim(const struct dest_policy *p)
{
	return p->delim;
}

void
dest_policy_set_maps(struct dest_policy *p, enum dest_maps m)
{
	p->maps = m == DEST_MAPS_CHECK ? DEST_MAPS_CHECK : DEST_MAPS_TRUST;
}

enum dest_maps
dest_policy_maps(const struct dest_policy *p)
{
	return p->maps;
}

/* ---- rules --------------------------------------------------------- */

/* A port number: 1..5 digits, no leading zero, 1..65535. */
static int
dest_port_parse(struct span s, unsigned *v_r)
{
	uint64_t	v;

	if (s.len == 0 || s.len > DEST_MAX_PORT_DIGITS ||
	    span_byte(s, 0) == '0') {
		return -1;
	}
	if (span_parse_uint(s, 1, 65535, &v) == -1) {
		return -1;
	}
	*v_r = (unsigned)v;
	return 0;
}

/* Sorts (insertion; at most 2 * DEST_MAX_PORT_RANGES) and merges. */
static size_t
dest_ports_merge(struct dest_port_range *r, size_t n)
{
	struct dest_port_range	t;
	size_t			i, j, out = 0;

	for (i = 1; i < n; i++) {
		t = r[i];
		for (j = i; j > 0 && r[j - 1].lo > t.lo; j--) {
			r[j] = r[j - 1];
		}
		r[j] = t;
	}
	for (i = 0; i < n; i++) {
		if (out > 0 && r[i].lo <= r[out - 1].hi + 1) {
			if (r[i].hi > r[out - 1].hi) {
				r[out - 1].hi = r[i].hi;
			}
		} else {
			r[out++] = r[i];
		}
	}
	return out;
}

/* "143,993,1100-1200": items split at ',', each N or N-M. */
static int
dest_ports_add(struct dest_policy *p, struct span s, const char **errstr_r)
{
	struct dest_port_range	 r[2 * DEST_MAX_PORT_RANGES];
	struct span		 item, lo, hi;
	size_t			 n = 0, off = 0, end;
	long			 comma, dash;

	if (p->ports_set) {
		memcpy(r, p->ports, p->nports * sizeof(r[0]));
		n = p->nports;
	}
	if (s.len == 0) {
		*errstr_r = "empty port list";
		return -1;
	}
	for (;;) {
		comma = span_find(s, off, ',');
		end = comma == -1 ? s.len : (size_t)comma;
		item = span_sub(s, off, end - off);
		if (n == sizeof(r) / sizeof(r[0])) {
			*errstr_r = "too many port ranges";
			return -1;
		}
		dash = span_find(item, 0, '-');
		lo = dash == -1 ? item : span_sub(item, 0, (size_t)dash);
		hi = dash == -1 ? item : span_sub(item, (size_t)dash + 1,
		    item.len - (size_t)dash - 1);
		if (dest_port_parse(lo, &r[n].lo) == -1 ||
		    dest_port_parse(hi, &r[n].hi) == -1) {
			*errstr_r = "bad port (1-65535, no leading zeros)";
			return -1;
		}
		if (r[n].lo > r[n].hi) {
			*errstr_r = "port range runs backwards";
			return -1;
		}
		n++;
		if (comma == -1) {
			break;
		}
		off = (size_t)comma + 1;
		if (off == s.len) {
			*errstr_r = "empty item in port list";
			return -1;
		}
	}
	n = dest_ports_merge(r, n);
	if (n > DEST_MAX_PORT_RANGES) {
		*errstr_r = "too many port ranges";
		return -1;
	}
	memcpy(p->ports, r, n * sizeof(r[0]));
	p->nports = n;
	p->ports_set = 1;
	return 0;
}

static int
dest_hosts_add(struct dest_policy *p, struct span s, const char **errstr_r)
{
	struct dest_host_rule	r;
	struct hostaddr		h;
	size_t			i;

	memset(&r, 0, sizeof(r));
	if (s.len == 1 && span_byte(s, 0) == '*') {
		r.wild = 1;
	} else {
		if (s.len > 2 && span_byte(s, 0) == '*' &&
		    span_byte(s, 1) == '.') {
			r.wild = 1;
			s = span_sub(s, 2, s.len - 2);
		}
		if (hostaddr_parse(s, 0, &h, errstr_r) == -1) {
			return -1;
		}
		if (h.kind != HOSTADDR_NAME) {
			*errstr_r = "an address in allow host: use allow net";
			return -1;
		}
		memcpy(r.name, h.text, sizeof(r.name));
	}
	for (i = 0; i < p->nhosts; i++) {
		if (p->hosts[i].wild == r.wild &&
		    strcmp(p->hosts[i].name, r.name) == 0) {
			return 0;
		}
	}
	if (p->nhosts == DEST_MAX_HOST_RULES) {
		*errstr_r = "too many allow host rules";
		return -1;
	}
	p->hosts[p->nhosts++] = r;
	return 0;
}

static int
dest_nets_add(struct dest_policy *p, struct span s, const char **errstr_r)
{
	struct hostaddr_cidr	c;
	size_t			i;

	if (hostaddr_cidr_parse(s, &c, errstr_r) == -1) {
		return -1;
	}
	for (i = 0; i < p->nnets; i++) {
		if (p->nets[i].plen == c.plen &&
		    hostaddr_ip_eq(&p->nets[i].net, &c.net)) {
			return 0;
		}
	}
	if (p->nnets == DEST_MAX_NET_RULES) {
		*errstr_r = "too many allow net rules";
		return -1;
	}
	p->nets[p->nnets++] = c;
	return 0;
}

/* Splits a rule at SP/TAB runs into at most max tokens; -1 if more. */
static int
dest_rule_tokens(struct span s, struct span *tok, size_t max, size_t *n_r)
{
	size_t	i, start = 0, n = 0;
	int	in_tok = 0;
	uint8_t	c;

	for (i = 0; i <= s.len; i++) {
		c = i < s.len ? span_byte(s, i) : ' ';
		if (c == ' ' || c == '\t') {
			if (in_tok) {
				if (n == max) {
					return -1;
				}
				tok[n++] = span_sub(s, start, i - start);
				in_tok = 0;
			}
		} else if (!in_tok) {
			start = i;
			in_tok = 1;
		}
	}
	*n_r = n;
	return 0;
}

int
dest_policy_add(struct dest_policy *p, const char *rule,
    const char **errstr_r)
{
	struct span	s, tok[3];
	size_t		n, i;

	if (rule == NULL) {
		*errstr_r = "no rule";
		return -1;
	}
	s = span_from_str(rule);
	if (s.len >= DEST_MAX_RULE) {
		*errstr_r = "rule too long";
		return -1;
	}
	for (i = 0; i < s.len; i++) {
		if ((span_byte(s, i) < 0x20 && span_byte(s, i) != '\t') ||
		    span_byte(s, i) == 0x7f) {
			*errstr_r = "control character in rule";
			return -1;
		}
	}
	if (dest_rule_tokens(s, tok, 3, &n) == -1 || n != 3 ||
	    !span_eq(tok[0], "allow")) {
		*errstr_r = "expected: allow host|net|port ARG";
		return -1;
	}
	if (span_eq(tok[1], "host")) {
		return dest_hosts_add(p, tok[2], errstr_r);
	}
	if (span_eq(tok[1], "net")) {
		return dest_nets_add(p, tok[2], errstr_r);
	}
	if (span_eq(tok[1], "port")) {
		return dest_ports_add(p, tok[2], errstr_r);
	}
	*errstr_r = "expected: allow host|net|port ARG";
	return -1;
}

size_t
dest_policy_nrules(const struct dest_policy *p)
{
	return p->nhosts + p->nnets + (p->ports_set ? 1 : 0);
}

static int
dest_ports_format(const struct dest_policy *p, struct buf *b)
{
	size_t	i;
	int	rv = 0;

	for (i = 0; i < p->nports && rv == 0; i++) {
		if (p->ports[i].lo == p->ports[i].hi) {
			rv = buf_addf(b, "%s%u", i ? "," : "", p->ports[i].lo);
		} else {
			rv = buf_addf(b, "%s%u-%u", i ? "," : "",
			    p->ports[i].lo, p->ports[i].hi);
		}
	}
	return rv;
}

int
dest_policy_rule(const struct dest_policy *p, size_t i, char *dst,
    size_t dstsz)
{
	struct buf		 b;
	const struct dest_host_rule *h;
	char			 cidr[INET6_ADDRSTRLEN + 8];
	int			 rv = -1;

	buf_init(&b, DEST_MAX_RULE);
	if (i < p->nhosts) {
		h = &p->hosts[i];
		if (h->wild && h->name[0] == '\0') {
			rv = buf_add_str(&b, "allow host *");
		} else {
			rv = buf_addf(&b, "allow host %s%s", h->wild ? "*." : "",
			    h->name);
		}
	} else if (i < p->nhosts + p->nnets) {
		if (hostaddr_cidr_format(&p->nets[i - p->nhosts], cidr,
		    sizeof(cidr)) == 0) {
			rv = buf_addf(&b, "allow net %s", cidr);
		}
	} else if (i == p->nhosts + p->nnets && p->ports_set) {
		rv = buf_add_str(&b, "allow port ");
		if (rv == 0) {
			rv = dest_ports_format(p, &b);
		}
	}
	if (rv == 0) {
		rv = span_cstr(buf_span(&b), dst, dstsz);
	}
	buf_release(&b);
	return rv;
}

/* ---- client strings ------------------------------------------------ */

void
dest_lex_init(struct dest_lex *l, char delim, int want_user)
{
	memset(l, 0, sizeof(*l));
	l->delim = want_user ? delim : '\0';
	l->want_user = want_user;
	l->state = want_user ? DEST_LX_USER : DEST_LX_HOST_FIRST;
	buf_init(&l->user, MAX_USER);
	buf_init(&l->host, MAX_HOST);
	buf_init(&l->port, DEST_MAX_PORT_DIGITS);
}

void
dest_lex_release(struct dest_lex *l)
{
	buf_release(&l->user);
	buf_release(&l->host);
	buf_release(&l->port);
}

static void
dest_lex_fail(struct dest_lex *l, const char *err)
{
	l->state = DEST_LX_ERROR;
	l->err = err;
}

static void
dest_lex_add(struct dest_lex *l, struct buf *b, uint8_t c, const char *err)
{
	if (buf_add(b, &c, 1) == -1) {
		dest_lex_fail(l, err);
	}
}

static void
dest_lex_user(struct dest_lex *l, uint8_t c)
{
	if (c == (uint8_t)l->delim) {
		if (buf_len(&l->user) == 0) {
			dest_lex_fail(l, "empty user before the delimiter");
		} else {
			l->state = DEST_LX_HOST_FIRST;
		}
	} else {
		dest_lex_add(l, &l->user, c, "user name too long");
	}
}

static void
dest_lex_host_first(struct dest_lex *l, uint8_t c)
{
	if (c == '[') {
		l->bracketed = 1;
		l->state = DEST_LX_V6;
	} else if (c == ':') {
		dest_lex_fail(l, "empty host");
	} else if (c == ']') {
		dest_lex_fail(l, "unbalanced ]");
	} else {
		l->state = DEST_LX_HOST;
		dest_lex_add(l, &l->host, c, "host too long");
	}
}

static void
dest_lex_host(struct dest_lex *l, uint8_t c)
{
	if (c == ':') {
		l->state = DEST_LX_PORT;
	} else if (c == '[' || c == ']') {
		dest_lex_fail(l, "bracket inside host");
	} else {
		dest_lex_add(l, &l->host, c, "host too long");
	}
}

static void
dest_lex_v6(struct dest_lex *l, uint8_t c)
{
	if (c == ']') {
		if (buf_len(&l->host) == 0) {
			dest_lex_fail(l, "empty brackets");
		} else {
			l->state = DEST_LX_V6_CLOSED;
		}
	} else if (c == '[') {
		dest_lex_fail(l, "nested [");
	} else if (buf_len(&l->host) >= HOSTADDR_MAX_V6TEXT) {
		dest_lex_fail(l, "IPv6 address too long");
	} else {
		dest_lex_add(l, &l->host, c, "IPv6 address too long");
	}
}

static void
dest_lex_port(struct dest_lex *l, uint8_t c)
{
	if (c >= '0' && c <= '9') {
		dest_lex_add(l, &l->port, c, "port too long");
	} else {
		dest_lex_fail(l, "bad character in port");
	}
}

/* UNTRUSTED: one byte; every buffer is bounded (MAX_USER, MAX_HOST, 5). */
static void
dest_lex_byte(struct dest_lex *l, uint8_t c)
{
	if (l->state == DEST_LX_ERROR) {
		return;
	}
	if (c < 0x20 || c == 0x7f) {
		dest_lex_fail(l, "control character");
		return;
	}
	if (c == ' ') {
		dest_lex_fail(l, "space");
		return;
	}
	if (l->state != DEST_LX_USER && l->delim != '\0' &&
	    c == (uint8_t)l->delim) {
		dest_lex_fail(l, "more than one delimiter");
		return;
	}
	switch (l->state) {
	case DEST_LX_USER:
		dest_lex_user(l, c);
		break;
	case DEST_LX_HOST_FIRST:
		dest_lex_host_first(l, c);
		break;
	case DEST_LX_HOST:
		dest_lex_host(l, c);
		break;
	case DEST_LX_V6:
		dest_lex_v6(l, c);
		break;
	case DEST_LX_V6_CLOSED:
		if (c == ':') {
			l->state = DEST_LX_PORT;
		} else {
			dest_lex_fail(l, "junk after ]");
		}
		break;
	case DEST_LX_PORT:
		dest_lex_port(l, c);
		break;
	case DEST_LX_ERROR:
		break;
	}
}

int
dest_lex_feed(struct dest_lex *l, struct span s)
{
	size_t	i;

	for (i = 0; i < s.len && l->state != DEST_LX_ERROR; i++) {
		dest_lex_byte(l, span_byte(s, i));
	}
	return l->state == DEST_LX_ERROR ? -1 : 0;
}

static int
dest_lex_check_end(const struct dest_lex *l, const char **errstr_r)
{
	switch (l->state) {
	case DEST_LX_ERROR:
		*errstr_r = l->err;
		return -1;
	case DEST_LX_USER:
		if (buf_len(&l->user) == 0) {
			*errstr_r = "empty login name";
			return -1;
		}
		return 0;
	case DEST_LX_HOST_FIRST:
		*errstr_r = "empty host";
		return -1;
	case DEST_LX_V6:
		*errstr_r = "unterminated [";
		return -1;
	case DEST_LX_PORT:
		if (buf_len(&l->port) == 0) {
			*errstr_r = "empty port";
			return -1;
		}
		return 0;
	case DEST_LX_HOST:
	case DEST_LX_V6_CLOSED:
		return 0;
	}
	*errstr_r = "bad lexer state";
	return -1;
}

int
dest_lex_finish(struct dest_lex *l, struct dest_target *t_r,
    const char **errstr_r)
{
	struct dest_target	t;
	unsigned		port;

	memset(&t, 0, sizeof(t));
	if (dest_lex_check_end(l, errstr_r) == -1) {
		return -1;
	}
	if (span_cstr(buf_span(&l->user), t.user, sizeof(t.user)) == -1) {
		*errstr_r = "user name too long";
		return -1;
	}
	if (l->state == DEST_LX_USER) {
		*t_r = t;
		return 0;
	}
	if (hostaddr_parse(buf_span(&l->host), l->bracketed, &t.host,
	    errstr_r) == -1) {
		return -1;
	}
	if (l->state == DEST_LX_PORT) {
		if (buf_len(&l->port) > 1 && buf_byte(&l->port, 0) == '0') {
			*errstr_r = "leading zero in port";
			return -1;
		}
		if (dest_port_parse(buf_span(&l->port), &port) == -1) {
			*errstr_r = "port out of range (1-65535)";
			return -1;
		}
		t.port = (uint16_t)port;
	}
	*t_r = t;
	return l->want_user ? 1 : 0;
}

int
dest_parse_client_span(struct span s, char delim, struct dest_target *t_r,
    const char **errstr_r)
{
	struct dest_lex	l;
	int		rv;

	if (!dest_delim_ok(delim)) {
		*errstr_r = "bad delimiter";
		return -1;
	}
	dest_lex_init(&l, delim, 1);
	(void)dest_lex_feed(&l, s);
	rv = dest_lex_finish(&l, t_r, errstr_r);
	dest_lex_release(&l);
	return rv;
}

int
dest_parse_client_host(const char *s, char delim, struct dest_target *t_r,
    const char **errstr_r)
{
	if (s == NULL) {
		*errstr_r = "no login name";
		return -1;
	}
	return dest_parse_client_span(span_from_str(s), delim, t_r, errstr_r);
}

int
dest_parse_hostport(struct span s, struct dest_target *t_r,
    const char **errstr_r)
{
	struct dest_lex	l;
	int		rv;

	dest_lex_init(&l, '\0', 0);
	(void)dest_lex_feed(&l, s);
	rv = dest_lex_finish(&l, t_r, errstr_r);
	dest_lex_release(&l);
	return rv;
}

int
dest_target_format(const struct dest_target *t, char delim, char *dst,
    size_t dstsz)
{
	struct buf	b;
	int		rv = 0;
	int		v6 = t->host.kind == HOSTADDR_V6;

	if (t->host.kind == 0) {
		return -1;
	}
	buf_init(&b, MAX_USER + MAX_HOST + 16);
	if (t->user[0] != '\0') {
		rv = buf_addf(&b, "%s%c", t->user, delim);
	}
	if (rv == 0) {
		rv = buf_addf(&b, "%s%s%s", v6 ? "[" : "", t->host.text,
		    v6 ? "]" : "");
	}
	if (rv == 0 && t->port != 0) {
		rv = buf_addf(&b, ":%u", (unsigned)t->port);
	}
	if (rv == 0) {
		rv = span_cstr(buf_span(&b), dst, dstsz);
	}
	buf_release(&b);
	return rv;
}

/* ---- checks -------------------------------------------------------- */

static int
dest_name_match(const struct dest_host_rule *r, const char *name)
{
	size_t	nlen, rlen;

	if (!r->wild) {
		return strcmp(r->name, name) == 0;
	}
	if (r->name[0] == '\0') {
		return 1;
	}
	nlen = strlen(name);
	rlen = strlen(r->name);
	/* At least one label, then ".", then the suffix. */
	if (nlen < rlen + 2) {
		return 0;
	}
	return name[nlen - rlen - 1] == '.' &&
	    strcmp(name + (nlen - rlen), r->name) == 0;
}

int
dest_ip_allowed(const struct dest_policy *p, const struct hostaddr_ip *ip_in,
    const char **why_r)
{
	struct hostaddr_ip		 ip;
	const struct dest_special	*sp = NULL;
	size_t				 i;

	if (!hostaddr_unmap(ip_in, &ip)) {
		ip = *ip_in;
	}
	for (i = 0; i < DEST_NSPECIAL; i++) {
		if (hostaddr_cidr_contains(&p->specials[i].c, &ip) &&
		    (sp == NULL || p->specials[i].c.plen > sp->c.plen)) {
			sp = &p->specials[i];
		}
	}
	for (i = 0; i < p->nnets; i++) {
		if (hostaddr_cidr_contains(&p->nets[i], &ip) &&
		    (sp == NULL || hostaddr_cidr_within(&p->nets[i],
		    &sp->c))) {
			return 1;
		}
	}
	*why_r = sp != NULL ? sp->why : "address not on the allow-list";
	return 0;
}

static int
dest_host_allowed(const struct dest_policy *p, const struct hostaddr *h,
    const char **why_r)
{
	size_t	i;

	if (h->kind == HOSTADDR_V4 || h->kind == HOSTADDR_V6) {
		return dest_ip_allowed(p, &h->ip, why_r);
	}
	if (h->kind != HOSTADDR_NAME) {
		*why_r = "no host";
		return 0;
	}
	for (i = 0; i < p->nhosts; i++) {
		if (dest_name_match(&p->hosts[i], h->text)) {
			return 1;
		}
	}
	*why_r = "name not on the allow-list";
	return 0;
}

int
dest_name_allowed(const struct dest_policy *p, const char *host,
    const char **why_r)
{
	struct hostaddr	 h;
	struct span	 s;
	const char	*err;

	if (host == NULL) {
		*why_r = "no host";
		return 0;
	}
	s = span_from_str(host);
	if (hostaddr_parse(s, span_find(s, 0, ':') != -1, &h, &err) == -1) {
		*why_r = err;
		return 0;
	}
	return dest_host_allowed(p, &h, why_r);
}

int
dest_port_allowed(const struct dest_policy *p, uint16_t port,
    const char **why_r)
{
	size_t	i;

	if (port == 0) {
		*why_r = "port 0";
		return 0;
	}
	for (i = 0; i < p->nports; i++) {
		if (port >= p->ports[i].lo && port <= p->ports[i].hi) {
			return 1;
		}
	}
	*why_r = "port not on the allow-list";
	return 0;
}

int
dest_target_allowed(const struct dest_policy *p, const struct dest_target *t,
    uint16_t default_port, const char **why_r)
{
	if (dest_port_allowed(p, t->port != 0 ? t->port : default_port,
	    why_r) != 1) {
		return 0;
	}
	return dest_host_allowed(p, &t->host, why_r);
}

int
dest_addr_allowed(const struct dest_policy *p, const struct sockaddr *sa,
    socklen_t salen, const char **why_r)
{
	struct hostaddr_ip	ip;
	uint16_t		port;

	if (hostaddr_from_sockaddr(sa, salen, &ip, &port) == -1) {
		*why_r = "not an IPv4/IPv6 address without scope";
		return -1;
	}
	if (dest_port_allowed(p, port, why_r) != 1) {
		return 0;
	}
	return dest_ip_allowed(p, &ip, why_r);
}
