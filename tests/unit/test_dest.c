/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests for policy/dest.c and policy/hostaddr.c, the destination
 * policy.  Runs as the invoking user in the test process; no I/O, no DNS
 * (resolved addresses are built by hand as sockaddrs).  Cases named
 * row8_* defend row 8 (SSRF through user@host:port) of
 * shared/research/threats.md.  Every client string is also fed to the
 * lexer one byte at a time and split at every position.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dest.h"
#include "harness.h"
#include "hostaddr.h"

/* ---- helpers ----------------------------------------------------------- */

enum outcome {
	MALFORMED,	/* the parser refuses it */
	REFUSED,	/* parsed, but the policy refuses it */
	ALLOWED,	/* parsed and allowed */
	PLAIN,		/* no delimiter: a plain user name */
};

/*
 * The policy of a typical site: its own mail hosts by name, "the
 * internet" by CIDR (which must never open special ranges), one DMZ
 * subnet listed explicitly, and the usual mail ports.
 */
static const char *const site_rules[] = {
	"allow host mail.example.net",
	"allow host *.mail.example.org",
	"allow host *.example.net",
	"allow net 0.0.0.0/0",
	"allow net ::/0",
	"allow net 10.1.0.0/16",
	"allow port 110,143,993,995,1100-1200",
};

static struct dest_policy *
mk_policy(const char *const *rules, size_t n)
{
	struct dest_policy	*p = dest_policy_new();
	const char		*err = NULL;
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (dest_policy_add(p, rules[i], &err) == -1) {
			fprintf(stderr, "  rule \"%s\": %s\n", rules[i], err);
			harness_failures++;
		}
	}
	return p;
}

static struct dest_policy *
site_policy(void)
{
	return mk_policy(site_rules, sizeof(site_rules) / sizeof(site_rules[0]));
}

static int
target_eq(const struct dest_target *a, const struct dest_target *b)
{
	return strcmp(a->user, b->user) == 0 && a->host.kind == b->host.kind &&
	    strcmp(a->host.text, b->host.text) == 0 && a->port == b->port &&
	    (a->host.kind == HOSTADDR_NAME || a->host.kind == 0 ||
	    hostaddr_ip_eq(&a->host.ip, &b->host.ip));
}

/* Lexes s fed as the pieces [0,a) [a,b) [b,len). */
static int
lex_pieces(struct span s, char delim, size_t a, size_t b,
    struct dest_target *t_r, const char **err_r)
{
	struct dest_lex	l;
	int		rv;

	dest_lex_init(&l, delim, 1);
	(void)dest_lex_feed(&l, span_sub(s, 0, a));
	(void)dest_lex_feed(&l, span_sub(s, a, b - a));
	(void)dest_lex_feed(&l, span_sub(s, b, s.len - b));
	rv = dest_lex_finish(&l, t_r, err_r);
	dest_lex_release(&l);
	return rv;
}

/*
 * Parses s one-shot, then byte by byte and split at every position, and
 * checks that all give the same result.  Returns the one-shot result.
 */
static int
parse_all_ways(struct span s, char delim, struct dest_target *t_r,
    const char **err_r)
{
	struct dest_target	t1, t2;
	struct dest_lex		l;
	const char		*e1 = NULL, *e2 = NULL;
	int			rv, rv2;
	size_t			i;

	memset(&t1, 0, sizeof(t1));
	rv = dest_parse_client_span(s, delim, &t1, &e1);
	dest_lex_init(&l, delim, 1);
	for (i = 0; i < s.len; i++) {
		(void)dest_lex_feed(&l, span_sub(s, i, 1));
	}
	memset(&t2, 0, sizeof(t2));
	rv2 = dest_lex_finish(&l, &t2, &e2);
	dest_lex_release(&l);
	T_EQ_INT(rv2, rv);
	if (rv >= 0 && rv2 == rv) {
		T_ASSERT(target_eq(&t1, &t2));
	} else if (rv == -1 && rv2 == -1) {
		T_EQ_STR(e2, e1);
	}
	for (i = 0; i <= s.len; i++) {
		memset(&t2, 0, sizeof(t2));
		rv2 = lex_pieces(s, delim, i, i, &t2, &e2);
		if (rv2 != rv || (rv >= 0 && !target_eq(&t1, &t2)) ||
		    (rv == -1 && strcmp(e1, e2) != 0)) {
			fprintf(stderr, "  split at %zu of \"%.*s\" differs\n",
			    i, (int)s.len, (const char *)s.p);
			harness_failures++;
		}
	}
	*t_r = t1;
	*err_r = e1;
	return rv;
}

/* The outcome of a client string against a policy (as the parent and
 * then the dialer would see it). */
static enum outcome
judge_span(const struct dest_policy *p, struct span s, const char **why_r)
{
	struct dest_target	t;
	const char		*err = NULL;
	int			rv;

	rv = parse_all_ways(s, dest_policy_delim(p), &t, &err);
	if (rv == -1) {
		*why_r = err;
		return MALFORMED;
	}
	if (rv == 0) {
		*why_r = "plain";
		return PLAIN;
	}
	if (dest_target_allowed(p, &t, 143, why_r) != 1) {
		return REFUSED;
	}
	return ALLOWED;
}

static enum outcome
judge(const struct dest_policy *p, const char *s, const char **why_r)
{
	return judge_span(p, span_from_str(s), why_r);
}

static const char *
outcome_name(enum outcome o)
{
	switch (o) {
	case MALFORMED:
		return "malformed";
	case REFUSED:
		return "refused";
	case ALLOWED:
		return "allowed";
	case PLAIN:
		return "plain";
	}
	return "?";
}

struct judge_case {
	const char	*in;
	enum outcome	 want;
};

static void
judge_table(const struct dest_policy *p, const struct judge_case *c,
    size_t n)
{
	const char	*why = NULL;
	enum outcome	 got;
	size_t		 i;

	for (i = 0; i < n; i++) {
		why = NULL;
		got = judge(p, c[i].in, &why);
		if (got != c[i].want) {
			fprintf(stderr, "  \"%s\": %s (%s), expected %s\n",
			    c[i].in, outcome_name(got), why ? why : "-",
			    outcome_name(c[i].want));
			harness_failures++;
		} else if (got != ALLOWED) {
			T_ASSERT(why != NULL && why[0] != '\0');
		}
	}
}

#define JUDGE_TABLE(p, c)	judge_table(p, c, sizeof(c) / sizeof(c[0]))

/* A resolved address as getaddrinfo would return it. */
static socklen_t
mk_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return sizeof(*sin6);
	}
	fprintf(stderr, "  test bug: bad address %s\n", addr);
	abort();
}

/* dest_addr_allowed on addr:port. */
static int
addr_ok(const struct dest_policy *p, const char *addr, uint16_t port)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	const char		*why = NULL;
	int			 rv;

	len = mk_sockaddr(addr, port, &ss);
	rv = dest_addr_allowed(p, (struct sockaddr *)&ss, len, &why);
	if (rv != 1) {
		T_ASSERT(why != NULL);
	}
	return rv;
}

struct addr_case {
	const char	*addr;
	uint16_t	 port;
	int		 want;
};

static void
addr_table(const struct dest_policy *p, const struct addr_case *c, size_t n)
{
	size_t	i;
	int	got;

	for (i = 0; i < n; i++) {
		got = addr_ok(p, c[i].addr, c[i].port);
		if (got != c[i].want) {
			fprintf(stderr, "  %s port %u: %d, expected %d\n",
			    c[i].addr, c[i].port, got, c[i].want);
			harness_failures++;
		}
	}
}

#define ADDR_TABLE(p, c)	addr_table(p, c, sizeof(c) / sizeof(c[0]))

/* ---- row 8: the threat-row cases --------------------------------------- */

static void
test_row8_loopback_v4_port22(void)
{
	struct dest_policy	*p = site_policy();
	static const struct judge_case c[] = {
		{ "u@127.0.0.1:22", REFUSED },
		{ "u@127.0.0.1:143", REFUSED },		/* the address too */
		{ "u@127.0.0.1", REFUSED },
		{ "u@127.255.255.254:993", REFUSED },
	};

	JUDGE_TABLE(p, c);
	T_EQ_INT(addr_ok(p, "127.0.0.1", 22), 0);
	T_EQ_INT(addr_ok(p, "127.0.0.1", 143), 0);
	dest_policy_free(&p);
	T_ASSERT(p == NULL);
}

static void
test_row8_loopback_v6_port25(void)
{
	struct dest_policy	*p = site_policy();
	static const struct judge_case c[] = {
		{ "u@[::1]:25", REFUSED },
		{ "u@[::1]:143", REFUSED },
		{ "u@[0:0:0:0:0:0:0:1]", REFUSED },
	};

	JUDGE_TABLE(p, c);
	T_EQ_INT(addr_ok(p, "::1", 143), 0);
	dest_policy_free(&p);
}

static void
test_row8_metadata_link_local(void)
{
	struct dest_policy	*p = site_policy();
	static const struct judge_case c[] = {
		{ "u@169.254.169.254:80", REFUSED },
		{ "u@169.254.169.254:143", REFUSED },
		{ "u@[fe80::1]:143", REFUSED },
		{ "u@[febf:ffff::1]:143", REFUSED },
		{ "u@[fec0::1]:143", REFUSED },		/* site-local */
	};
	const char	*why = NULL;

	JUDGE_TABLE(p, c);
	T_EQ_INT(addr_ok(p, "169.254.169.254", 143), 0);
	T_EQ_INT(addr_ok(p, "fe80::a9fe:a9fe", 143), 0);
	T_EQ_INT(judge(p, "u@169.254.169.254:143", &why), REFUSED);
	T_EQ_STR(why, "link-local address");
	dest_policy_free(&p);
}

static void
test_row8_decimal_ip(void)
{
	struct dest_policy	*p = site_policy();
	static const struct judge_case c[] = {
		{ "u@2130706433", MALFORMED },
		{ "u@2130706433:143", MALFORMED },
		{ "u@4294967295", MALFORMED },
		{ "u@0", MALFORMED },
		{ "u@1.2.3.4.5", MALFORMED },		/* numeric last label */
		{ "u@mail.example.net.1", MALFORMED },
	};
	const char	*why = NULL;

	JUDGE_TABLE(p, c);
	/* Also before DNS, for hosts that come from maps. */
	T_EQ_INT(dest_name_allowed(p, "2130706433", &why), 0);
	dest_policy_free(&p);
}

static void
test_row8_hex_ip(void)
{
	struct dest_policy	*p = site_policy();
	static const struct judge_case c[] = {
		{ "u@0x7f000001", MALFORMED },
		{ "u@0X7F000001", MALFORMED },
		{ "u@0x7f.0x0.0x0.0x1", MALFORMED },
		{ "u@0x7f.1", MALFORMED },
		{ "u@0x", MALFORMED },
		{ "u@a.0xff", MALFORMED },
		{ "u@0x7f.example.net", ALLOWED },	/* a name: *.example.net */
	};

	JUDGE_TABLE(p, c);
	dest_policy_free(&p);
}

static void
test_row8_octal_ip(void)
{
	struct dest_policy	*p = site_policy();
	static const struct judge_case c[] = {
		{ "u@0177.0.0.1", MALFORMED },
		{ "u@0177.0.0.01", MALFORMED },
		{ "u@127.0.0.01", MALFORMED },
		{ "u@010.1.0.1", MALFORMED },
		{ "u@00.0.0.0", MALFORMED },
		{ "u@10.1.0.1", ALLOWED },		/* explicit 10.1/16 */
	};

	JUDGE_TABLE(p, c);
	dest_policy_free(&p);
}

static void
test_row8_short_ip(void)
{
	struct dest_policy	*p = site_policy();
	static const struct judge_case c[] = {
		{ "u@127.1", MALFORMED },
		{ "u@127.0.1", MALFORMED },
		{ "u@10.1.1", MALFORMED },
		{ "u@127.0.0.1.", MALFORMED },
		{ "u@.127.0.0.1", MALFORMED },
		{ "u@256.0.0.1", MALFORMED },
		{ "u@1.2.3.256", MALFORMED },
	};

	JUDGE_TABLE(p, c);
	dest_policy_free(&p);
}

static void
test_row8_port_zero(void)
{
	struct dest_policy	*p = site_policy();
	static const struct judge_case c[] = {
		{ "u@host:0", MALFORMED },
		{ "u@mail.example.net:0", MALFORMED },
		{ "u@mail.example.net:00000", MALFORMED },
		{ "u@mail.example.net:0143", MALFORMED },
		{ "u@mail.example.net:", MALFORMED },
		{ "u@mail.example.net:-1", MALFORMED },
		{ "u@mail.example.net:+143", MALFORMED },
		{ "u@mail.example.net:143", ALLOWED },
	};

	JUDGE_TABLE(p, c);
	T_EQ_INT(addr_ok(p, "8.8.8.8", 0), 0);
	dest_policy_free(&p);
}

static void
test_row8_port_65536(void)
{
	struct dest_policy	*p = site_policy();
	static const struct judge_case c[] = {
		{ "u@host:65536", MALFORMED },
		{ "u@mail.example.net:65536", MALFORMED },
		{ "u@mail.example.net:99999", MALFORMED },
		{ "u@mail.example.net:100000", MALFORMED },
		{ "u@mail.example.net:4294967439", MALFORMED },	/* 2^32+143 */
		{ "u@mail.example.net:65535", REFUSED },	/* not listed */
	};

	JUDGE_TABLE(p, c);
	dest_policy_free(&p);
}

static void
test_row8_mapped_v6(void)
{
	struct dest_policy	*p = site_policy();
	static const struct judge_case c[] = {
		{ "u@[::ffff:127.0.0.1]", REFUSED },
		{ "u@[::ffff:127.0.0.1]:143", REFUSED },
		{ "u@[::ffff:7f00:1]:143", REFUSED },
		{ "u@[::ffff:169.254.169.254]:143", REFUSED },
		{ "u@[::ffff:10.2.0.1]:143", REFUSED },
		{ "u@[::ffff:10.1.0.1]:143", ALLOWED },	/* IPv4 rule applies */
		{ "u@[::127.0.0.1]:143", REFUSED },	/* IPv4-compatible */
		{ "u@[64:ff9b::7f00:1]:143", REFUSED },	/* NAT64 */
		{ "u@[2002:7f00:1::1]:143", REFUSED },	/* 6to4 */
		{ "u@[::ffff:8.8.8.8]:143", ALLOWED },
	};
	const char	*why = NULL;

	JUDGE_TABLE(p, c);
	/* After DNS: an AAAA answer with a mapped loopback address. */
	T_EQ_INT(addr_ok(p, "::ffff:127.0.0.1", 143), 0);
	T_EQ_INT(addr_ok(p, "::ffff:10.1.2.3", 143), 1);
	T_EQ_INT(judge(p, "u@[::ffff:127.0.0.1]", &why), REFUSED);
	T_EQ_STR(why, "loopback address");
	dest_policy_free(&p);
}

static void
test_row8_unterminated_bracket(void)
{
	struct dest_policy	*p = site_policy();
	static const struct judge_case c[] = {
		{ "u@[::1", MALFORMED },
		{ "u@[::1:143", MALFORMED },
		{ "u@::1]", MALFORMED },
		{ "u@[]", MALFORMED },
		{ "u@[[::1]]", MALFORMED },
		{ "u@[::1]x", MALFORMED },
		{ "u@[::1]:", MALFORMED },
		{ "u@[::1]]", MALFORMED },
		{ "u@mail[.example.net", MALFORMED },
		{ "u@::1", MALFORMED },
		{ "u@1::2", MALFORMED },
		{ "u@[127.0.0.1]", MALFORMED },
		{ "u@[mail.example.net]", MALFORMED },
		{ "u@[fe80::1%eth0]", MALFORMED },
		{ "u@[fe80::1%25eth0]", MALFORMED },
		{ "u@[1:2:3:4:5:6:7:8:9]", MALFORMED },
		{ "u@[1::2::3]", MALFORMED },
	};

	JUDGE_TABLE(p, c);
	dest_policy_free(&p);
}

static void
test_row8_two_delimiters(void)
{
	struct dest_policy	*p = site_policy();
	static const struct judge_case c[] = {
		{ "u@a@b", MALFORMED },
		{ "u@mail.example.net@127.0.0.1", MALFORMED },
		{ "u@@mail.example.net", MALFORMED },
		{ "u@mail.example.net:143@x", MALFORMED },
		{ "u@[::1]@x", MALFORMED },
		{ "@mail.example.net", MALFORMED },
		{ "u@", MALFORMED },
		{ "u@:143", MALFORMED },
		{ "", MALFORMED },
	};

	JUDGE_TABLE(p, c);
	dest_policy_free(&p);
}

static void
test_row8_percent_and_nul(void)
{
	struct dest_policy	*p = site_policy();
	static const struct judge_case c[] = {
		{ "u@host%00evil", MALFORMED },
		{ "u@mail.example.net%00.evil.com", MALFORMED },
		{ "u@mail%2eexample.net", MALFORMED },
		{ "u@mail.example.net%0d%0a", MALFORMED },
	};
	static const char	nul[] = "u@mail.example.net\0.evil.com";
	const char		*why = NULL;

	JUDGE_TABLE(p, c);
	T_EQ_INT(judge_span(p, (struct span){ (const uint8_t *)nul,
	    sizeof(nul) - 1 }, &why), MALFORMED);
	T_EQ_STR(why, "control character");
	dest_policy_free(&p);
}

static void
test_row8_spaces_crlf(void)
{
	struct dest_policy	*p = site_policy();
	static const struct judge_case c[] = {
		{ "u@mail.example.net ", MALFORMED },
		{ "u@ mail.example.net", MALFORMED },
		{ "u @mail.example.net", MALFORMED },
		{ "u@mail.example.net\r\n", MALFORMED },
		{ "u@mail.example.net\n", MALFORMED },
		{ "u@mail.example.net\r", MALFORMED },
		{ "u@mail.example.net\t", MALFORMED },
		{ "u@mail.example.net:143\r\nA LOGIN x y", MALFORMED },
		{ "u\r\n@mail.example.net", MALFORMED },
		{ "u@mail.example.net\x7f", MALFORMED },
		{ "u@mail.example.net\x1b", MALFORMED },
	};

	JUDGE_TABLE(p, c);
	dest_policy_free(&p);
}

static void
test_row8_idn_punycode(void)
{
	static const char *const rules[] = {
		"allow host mail.example.net",
		"allow host *.xn--bcher-kva.example",
		"allow net 0.0.0.0/0",
	};
	struct dest_policy	*p = mk_policy(rules, 3);
	static const struct judge_case c[] = {
		/* U-labels are refused: normalisation is the client's job. */
		{ "u@b\xc3\xbc" "cher.example", MALFORMED },
		{ "u@mail.b\xc3\xbc" "cher.example", MALFORMED },
		/* Fullwidth full stop U+3002 and a Cyrillic 'a'. */
		{ "u@mail\xe3\x80\x82" "example.net", MALFORMED },
		{ "u@m\xd0\xb0il.example.net", MALFORMED },
		{ "u@\xff", MALFORMED },
		/* A-labels are LDH names, matched literally. */
		{ "u@mail.xn--bcher-kva.example", ALLOWED },
		{ "u@MAIL.XN--BCHER-KVA.EXAMPLE", ALLOWED },
		{ "u@xn--bcher-kva.example", REFUSED },	/* the suffix itself */
		{ "u@xn--mail-9ta.example.net", REFUSED },
	};
	const char	*err = NULL;

	JUDGE_TABLE(p, c);
	T_EQ_INT(dest_policy_add(p, "allow host b\xc3\xbc" "cher.example",
	    &err), -1);
	T_ASSERT(err != NULL && strstr(err, "xn--") != NULL);
	dest_policy_free(&p);
}

static void
test_row8_special_ranges(void)
{
	struct dest_policy	*p = site_policy();
	static const struct judge_case c[] = {
		{ "u@0.0.0.0", REFUSED },
		{ "u@0.1.2.3", REFUSED },
		{ "u@[::]", REFUSED },
		{ "u@255.255.255.255", REFUSED },
		{ "u@224.0.0.1", REFUSED },
		{ "u@239.255.255.250", REFUSED },
		{ "u@240.0.0.1", REFUSED },
		{ "u@[ff02::1]", REFUSED },
		{ "u@10.0.0.1", REFUSED },		/* only 10.1/16 listed */
		{ "u@172.16.0.1", REFUSED },
		{ "u@192.168.1.1", REFUSED },
		{ "u@100.64.0.1", REFUSED },
		{ "u@192.0.0.8", REFUSED },
		{ "u@198.18.0.1", REFUSED },
		{ "u@[fd00::1]", REFUSED },
		{ "u@[100::1]", REFUSED },
		{ "u@[2001:db8::1]", REFUSED },
		{ "u@[2001::1]", REFUSED },		/* Teredo */
		{ "u@8.8.8.8", ALLOWED },
		{ "u@[2a00:1450::1]", ALLOWED },
	};

	JUDGE_TABLE(p, c);
	dest_policy_free(&p);
}

/* DNS rebinding: an allowed name whose A/AAAA records point inside. */
static void
test_row8_dns_rebinding(void)
{
	struct dest_policy	*p = site_policy();
	static const struct addr_case c[] = {
		{ "127.0.0.1", 143, 0 },
		{ "169.254.169.254", 143, 0 },
		{ "10.0.0.5", 143, 0 },
		{ "::1", 143, 0 },
		{ "::ffff:127.0.0.1", 143, 0 },
		{ "0.0.0.0", 143, 0 },
		{ "::", 143, 0 },
		{ "fe80::1", 143, 0 },
		{ "8.8.8.8", 143, 1 },
		{ "8.8.8.8", 22, 0 },			/* port */
		{ "10.1.2.3", 993, 1 },			/* explicit DMZ net */
		{ "10.1.2.3", 25, 0 },
	};
	const char	*why = NULL;

	T_EQ_INT(dest_name_allowed(p, "mail.example.net", &why), 1);
	ADDR_TABLE(p, c);
	dest_policy_free(&p);
}

/* "Unless listed explicitly by CIDR": a rule inside the special range. */
static void
test_row8_explicit_special(void)
{
	static const char *const rules[] = {
		"allow net 127.0.0.1/32",
		"allow net ::1/128",
		"allow net 126.0.0.0/7",	/* covers 127/8, is not in it */
		"allow net 169.254.169.0/24",
		"allow port 143",
	};
	struct dest_policy	*p = mk_policy(rules, 5);
	static const struct addr_case c[] = {
		{ "127.0.0.1", 143, 1 },
		{ "127.0.0.2", 143, 0 },
		{ "::1", 143, 1 },
		{ "::ffff:127.0.0.1", 143, 1 },
		{ "126.1.2.3", 143, 1 },
		{ "169.254.169.254", 143, 1 },
		{ "169.254.170.1", 143, 0 },
		{ "127.0.0.1", 25, 0 },
	};
	static const struct judge_case j[] = {
		{ "u@127.0.0.1", ALLOWED },
		{ "u@[::1]:143", ALLOWED },
		{ "u@127.0.0.1:22", REFUSED },
		{ "u@127.1", MALFORMED },
	};

	ADDR_TABLE(p, c);
	JUDGE_TABLE(p, j);
	dest_policy_free(&p);
}

/* ---- parsing and normalisation ---------------------------------------- */

static void
test_parse_normalise(void)
{
	static const struct {
		const char	*in;
		int		 rv;
		const char	*user;
		const char	*host;
		unsigned	 port;
		const char	*out;
	} c[] = {
		{ "u@Mail.Example.NET:143", 1, "u", "mail.example.net", 143,
		  "u@mail.example.net:143" },
		{ "Alice.Smith@mail.example.net", 1, "Alice.Smith",
		  "mail.example.net", 0, "Alice.Smith@mail.example.net" },
		{ "u@[2001:DB8:0:0::1]:993", 1, "u", "2001:db8::1", 993,
		  "u@[2001:db8::1]:993" },
		{ "u@[::ffff:7f00:1]", 1, "u", "::ffff:127.0.0.1", 0,
		  "u@[::ffff:127.0.0.1]" },
		{ "u@8.8.8.8:1", 1, "u", "8.8.8.8", 1, "u@8.8.8.8:1" },
		{ "u@a:65535", 1, "u", "a", 65535, "u@a:65535" },
		{ "u:x[y]@a-b.c", 1, "u:x[y]", "a-b.c", 0, "u:x[y]@a-b.c" },
		{ "alice", 0, "alice", "", 0, NULL },
		{ "al:ce[1]", 0, "al:ce[1]", "", 0, NULL },
	};
	struct dest_target	 t, t2;
	const char		*err = NULL;
	char			 out[1024];
	size_t			 i;
	int			 rv;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		rv = parse_all_ways(span_from_str(c[i].in), '@', &t, &err);
		T_EQ_INT(rv, c[i].rv);
		if (rv != c[i].rv) {
			fprintf(stderr, "  input \"%s\": %s\n", c[i].in,
			    rv == -1 ? err : "");
			continue;
		}
		T_EQ_STR(t.user, c[i].user);
		T_EQ_STR(t.host.text, c[i].host);
		T_EQ_INT(t.port, c[i].port);
		if (c[i].out == NULL) {
			continue;
		}
		T_EQ_INT(dest_target_format(&t, '@', out, sizeof(out)), 0);
		T_EQ_STR(out, c[i].out);
		T_EQ_INT(dest_parse_client_host(out, '@', &t2, &err), 1);
		T_ASSERT(target_eq(&t, &t2));
	}
}

static void
test_parse_hostport(void)
{
	static const struct {
		const char	*in;
		int		 rv;
		const char	*host;
		unsigned	 port;
	} c[] = {
		{ "mail.example.net", 0, "mail.example.net", 0 },
		{ "mail.example.net:1143", 0, "mail.example.net", 1143 },
		{ "[::1]:143", 0, "::1", 143 },
		{ "127.0.0.1", 0, "127.0.0.1", 0 },
		{ "u@mail.example.net", -1, NULL, 0 },
		{ "127.1", -1, NULL, 0 },
		{ "mail.example.net:0", -1, NULL, 0 },
		{ "", -1, NULL, 0 },
		{ "a b", -1, NULL, 0 },
	};
	struct dest_target	 t;
	const char		*err = NULL;
	char			 out[300];
	size_t			 i;
	int			 rv;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		rv = dest_parse_hostport(span_from_str(c[i].in), &t, &err);
		T_EQ_INT(rv, c[i].rv);
		if (rv == 0 && c[i].rv == 0) {
			T_EQ_STR(t.host.text, c[i].host);
			T_EQ_INT(t.port, c[i].port);
			T_EQ_STR(t.user, "");
			T_EQ_INT(dest_target_format(&t, '@', out, sizeof(out)),
			    0);
			T_EQ_STR(out, c[i].in);
		}
	}
}

static void
test_delimiter(void)
{
	struct dest_policy	*p = site_policy();
	struct dest_target	 t;
	const char		*err = NULL;
	static const char *const bad[] = { "", ":", "ab", " ", "[", "a",
	    ".", "-", "\n", "]", "0" };
	size_t			 i;

	T_EQ_INT(dest_policy_delim(p), '@');
	T_EQ_INT(dest_policy_user_host(p), 0);		/* off by default */
	T_EQ_INT(dest_policy_maps(p), DEST_MAPS_TRUST);
	T_EQ_INT(dest_policy_set_delim(p, "%", &err), 0);
	T_EQ_INT(dest_policy_delim(p), '%');
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		T_EQ_INT(dest_policy_set_delim(p, bad[i], &err), -1);
		T_ASSERT(err != NULL);
		T_EQ_INT(dest_policy_delim(p), '%');
	}
	T_EQ_INT(dest_parse_client_host("alice@example.com%mail.example.net:993",
	    '%', &t, &err), 1);
	T_EQ_STR(t.user, "alice@example.com");
	T_EQ_STR(t.host.text, "mail.example.net");
	T_EQ_INT(t.port, 993);
	T_EQ_INT(dest_parse_client_host("alice@example.com", '%', &t, &err),
	    0);
	T_EQ_STR(t.user, "alice@example.com");
	T_EQ_INT(dest_parse_client_host("u%host%00evil", '%', &t, &err), -1);
	T_EQ_INT(dest_parse_client_host("u:host", ':', &t, &err), -1);
	T_EQ_INT(dest_parse_client_host("u\nhost", '\n', &t, &err), -1);
	dest_policy_set_user_host(p, 1);
	T_EQ_INT(dest_policy_user_host(p), 1);
	dest_policy_set_maps(p, DEST_MAPS_CHECK);
	T_EQ_INT(dest_policy_maps(p), DEST_MAPS_CHECK);
	dest_policy_free(&p);
}

/* ---- limits: at each one and one past --------------------------------- */

static void
test_limit_user(void)
{
	char			 s[MAX_USER + 64];
	struct dest_target	 t;
	const char		*err = NULL;

	memset(s, 'u', MAX_USER);
	snprintf(s + MAX_USER, sizeof(s) - MAX_USER, "@mail.example.net");
	T_EQ_INT(parse_all_ways(span_from_str(s), '@', &t, &err), 1);
	T_EQ_INT(strlen(t.user), MAX_USER);
	memset(s, 'u', MAX_USER + 1);
	snprintf(s + MAX_USER + 1, sizeof(s) - MAX_USER - 1,
	    "@mail.example.net");
	T_EQ_INT(parse_all_ways(span_from_str(s), '@', &t, &err), -1);
	T_EQ_STR(err, "user name too long");
	/* A plain user at the limit, and one past. */
	memset(s, 'u', MAX_USER);
	s[MAX_USER] = '\0';
	T_EQ_INT(dest_parse_client_host(s, '@', &t, &err), 0);
	s[MAX_USER] = 'u';
	s[MAX_USER + 1] = '\0';
	T_EQ_INT(dest_parse_client_host(s, '@', &t, &err), -1);
}

/* A name of n bytes made of 63-byte labels, ending in ".net"-like. */
static void
mk_name(char *dst, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		dst[i] = (i % 64 == 63) ? '.' : 'a';
	}
	if (n > 0 && dst[n - 1] == '.') {
		dst[n - 1] = 'b';
	}
	dst[n] = '\0';
}

static void
test_limit_host(void)
{
	char			 name[MAX_HOST + 8], s[MAX_HOST + 16];
	struct dest_target	 t;
	const char		*err = NULL;

	mk_name(name, HOSTADDR_MAX_NAME);
	snprintf(s, sizeof(s), "u@%s", name);
	T_EQ_INT(parse_all_ways(span_from_str(s), '@', &t, &err), 1);
	T_EQ_INT(strlen(t.host.text), HOSTADDR_MAX_NAME);
	mk_name(name, HOSTADDR_MAX_NAME + 1);
	snprintf(s, sizeof(s), "u@%s", name);
	T_EQ_INT(parse_all_ways(span_from_str(s), '@', &t, &err), -1);
	T_EQ_STR(err, "host name too long");
	/* The lexer's own bound: MAX_HOST bytes, then "too long". */
	mk_name(name, MAX_HOST + 1);
	snprintf(s, sizeof(s), "u@%s", name);
	T_EQ_INT(parse_all_ways(span_from_str(s), '@', &t, &err), -1);
	T_EQ_STR(err, "host too long");
	/* Labels: 63 bytes, then 64. */
	memset(name, 'a', 63);
	snprintf(name + 63, sizeof(name) - 63, ".net");
	snprintf(s, sizeof(s), "u@%s", name);
	T_EQ_INT(parse_all_ways(span_from_str(s), '@', &t, &err), 1);
	memset(name, 'a', 64);
	snprintf(name + 64, sizeof(name) - 64, ".net");
	snprintf(s, sizeof(s), "u@%s", name);
	T_EQ_INT(parse_all_ways(span_from_str(s), '@', &t, &err), -1);
	T_EQ_STR(err, "label longer than 63 bytes");
}

static void
test_limit_port_and_v6(void)
{
	struct dest_target	 t;
	const char		*err = NULL;
	/* 45 bytes: the longest IPv6 text; then one more (a leading 0). */
	static const char	 v6max[] =
	    "u@[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]";
	static const char	 v6over[] =
	    "u@[0ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]";

	T_EQ_INT(parse_all_ways(span_from_str("u@a:1"), '@', &t, &err), 1);
	T_EQ_INT(t.port, 1);
	T_EQ_INT(parse_all_ways(span_from_str("u@a:65535"), '@', &t, &err), 1);
	T_EQ_INT(t.port, 65535);
	T_EQ_INT(parse_all_ways(span_from_str("u@a:65536"), '@', &t, &err), -1);
	T_EQ_STR(err, "port out of range (1-65535)");
	T_EQ_INT(parse_all_ways(span_from_str("u@a:0"), '@', &t, &err), -1);
	T_EQ_INT(parse_all_ways(span_from_str("u@a:123456"), '@', &t, &err),
	    -1);
	T_EQ_STR(err, "port too long");
	T_EQ_INT(parse_all_ways(span_from_str(v6max), '@', &t, &err), 1);
	T_EQ_INT(parse_all_ways(span_from_str(v6over), '@', &t, &err), -1);
	T_EQ_STR(err, "IPv6 address too long");
}

static void
test_limit_rules(void)
{
	struct dest_policy	*p = dest_policy_new();
	char			 rule[DEST_MAX_RULE + 16];
	const char		*err = NULL;
	size_t			 i;

	for (i = 0; i < DEST_MAX_HOST_RULES; i++) {
		snprintf(rule, sizeof(rule), "allow host h%zu.example.net", i);
		T_EQ_INT(dest_policy_add(p, rule, &err), 0);
	}
	T_EQ_INT(dest_policy_add(p, "allow host one-more.example.net", &err),
	    -1);
	T_EQ_STR(err, "too many allow host rules");
	/* A duplicate is not one more. */
	T_EQ_INT(dest_policy_add(p, "allow host h0.example.net", &err), 0);
	for (i = 0; i < DEST_MAX_NET_RULES; i++) {
		snprintf(rule, sizeof(rule), "allow net 8.%zu.0.0/16", i);
		T_EQ_INT(dest_policy_add(p, rule, &err), 0);
	}
	T_EQ_INT(dest_policy_add(p, "allow net 9.0.0.0/8", &err), -1);
	T_EQ_STR(err, "too many allow net rules");
	T_EQ_INT(dest_policy_nrules(p),
	    DEST_MAX_HOST_RULES + DEST_MAX_NET_RULES);
	dest_policy_free(&p);

	/* Port ranges: 64 disjoint ones fit, the 65th does not. */
	p = dest_policy_new();
	for (i = 0; i < DEST_MAX_PORT_RANGES; i++) {
		snprintf(rule, sizeof(rule), "allow port %zu", 2 * i + 1);
		T_EQ_INT(dest_policy_add(p, rule, &err), 0);
	}
	T_EQ_INT(dest_policy_add(p, "allow port 1000", &err), -1);
	T_EQ_STR(err, "too many port ranges");
	/* Merging keeps the count: 2 joins 1 and 3. */
	T_EQ_INT(dest_policy_add(p, "allow port 2", &err), 0);
	T_EQ_INT(dest_policy_add(p, "allow port 1000", &err), 0);
	dest_policy_free(&p);

	/* Rule length: DEST_MAX_RULE - 1 bytes parse, DEST_MAX_RULE not. */
	p = dest_policy_new();
	memset(rule, ' ', DEST_MAX_RULE);
	memcpy(rule, "allow port 143", 14);
	rule[DEST_MAX_RULE - 1] = '\0';
	T_EQ_INT(dest_policy_add(p, rule, &err), 0);
	rule[DEST_MAX_RULE - 1] = ' ';
	rule[DEST_MAX_RULE] = '\0';
	T_EQ_INT(dest_policy_add(p, rule, &err), -1);
	T_EQ_STR(err, "rule too long");
	dest_policy_free(&p);
}

/* ---- CIDR ------------------------------------------------------------ */

static void
test_cidr_edges(void)
{
	static const char *const rules[] = {
		"allow net 8.8.8.0/24",
		"allow net 8.8.16.0/20",
		"allow net 9.9.9.9/32",
		"allow net 9.9.9.10",		/* no length: /32 */
		"allow net 11.0.0.0/31",
		"allow net 2a00:1450::/32",
		"allow net 2a01::1/128",
		"allow net 2a02::/15",
		"allow port 143",
	};
	struct dest_policy	*p = mk_policy(rules, 9);
	static const struct addr_case c[] = {
		{ "8.8.7.255", 143, 0 },
		{ "8.8.8.0", 143, 1 },
		{ "8.8.8.255", 143, 1 },
		{ "8.8.9.0", 143, 0 },
		{ "8.8.15.255", 143, 0 },
		{ "8.8.16.0", 143, 1 },
		{ "8.8.31.255", 143, 1 },
		{ "8.8.32.0", 143, 0 },
		{ "9.9.9.8", 143, 0 },
		{ "9.9.9.9", 143, 1 },
		{ "9.9.9.10", 143, 1 },
		{ "9.9.9.11", 143, 0 },
		{ "10.255.255.255", 143, 0 },
		{ "11.0.0.0", 143, 1 },
		{ "11.0.0.1", 143, 1 },
		{ "11.0.0.2", 143, 0 },
		{ "2a00:144f:ffff:ffff:ffff:ffff:ffff:ffff", 143, 0 },
		{ "2a00:1450::", 143, 1 },
		{ "2a00:1450:ffff:ffff:ffff:ffff:ffff:ffff", 143, 1 },
		{ "2a00:1451::", 143, 0 },
		{ "2a01::", 143, 0 },
		{ "2a01::1", 143, 1 },
		{ "2a01::2", 143, 0 },
		{ "2a01:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 143, 0 },
		{ "2a02::", 143, 1 },
		{ "2a03:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 143, 1 },
		{ "2a04::", 143, 0 },
		{ "::ffff:8.8.8.1", 143, 1 },	/* mapped: IPv4 rules */
		{ "::ffff:9.9.9.11", 143, 0 },
	};

	ADDR_TABLE(p, c);
	dest_policy_free(&p);
}

static void
test_cidr_zero(void)
{
	static const char *const v4all[] = { "allow net 0.0.0.0/0",
	    "allow port 143" };
	static const char *const v6all[] = { "allow net ::/0",
	    "allow port 143" };
	struct dest_policy	*p = mk_policy(v4all, 2);
	static const struct addr_case c4[] = {
		{ "1.0.0.0", 143, 1 },
		{ "223.255.255.255", 143, 1 },
		{ "172.15.255.255", 143, 1 },	/* around 172.16/12 */
		{ "172.16.0.0", 143, 0 },
		{ "172.31.255.255", 143, 0 },
		{ "172.32.0.0", 143, 1 },
		{ "100.63.255.255", 143, 1 },	/* around 100.64/10 */
		{ "100.64.0.0", 143, 0 },
		{ "100.127.255.255", 143, 0 },
		{ "100.128.0.0", 143, 1 },
		{ "126.255.255.255", 143, 1 },	/* around 127/8 */
		{ "127.0.0.0", 143, 0 },
		{ "128.0.0.0", 143, 1 },
		{ "223.255.255.255", 143, 1 },	/* around 224/4 */
		{ "224.0.0.0", 143, 0 },
		{ "255.255.255.254", 143, 0 },
		{ "2a00:1450::1", 143, 0 },	/* IPv4 rule, IPv6 address */
	};
	static const struct addr_case c6[] = {
		{ "2a00:1450::1", 143, 1 },
		{ "1.2.3.4", 143, 0 },
		{ "::ffff:1.2.3.4", 143, 0 },	/* checked as IPv4 */
		{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 143, 1 },
		{ "fc00::", 143, 0 },		/* around fc00::/7 */
		{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 143, 0 },
		{ "fe00::", 143, 1 },
		{ "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 143, 1 },
		{ "fe80::", 143, 0 },
		{ "ff00::", 143, 0 },
		{ "::2", 143, 0 },		/* IPv4-compatible */
		{ "0:0:0:0:0:1::", 143, 1 },	/* just past ::/96 */
	};

	ADDR_TABLE(p, c4);
	dest_policy_free(&p);
	p = mk_policy(v6all, 2);
	ADDR_TABLE(p, c6);
	dest_policy_free(&p);
}

static void
test_cidr_errors(void)
{
	static const char *const bad[] = {
		"allow net 8.8.8.1/24",		/* host bits */
		"allow net 8.8.8.0/33",
		"allow net ::/129",
		"allow net 8.8.8.0/-1",
		"allow net 8.8.8.0/08",
		"allow net 8.8.8.0/",
		"allow net 08.8.8.0/24",
		"allow net 8.8.8/24",
		"allow net 134744064/24",
		"allow net ::ffff:0.0.0.0/96",
		"allow net ::ffff:127.0.0.1",
		"allow net [::1]/128",
		"allow net 1.2.3.4/24x",
		"allow net fe80::1%eth0/128",
		"allow net mail.example.net",
		"allow net 2a00:1450::1/32",
	};
	struct dest_policy	*p = dest_policy_new();
	const char		*err;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (dest_policy_add(p, bad[i], &err) != -1) {
			fprintf(stderr, "  \"%s\" accepted\n", bad[i]);
			harness_failures++;
		}
		T_ASSERT(err != NULL);
	}
	T_EQ_INT(dest_policy_nrules(p), 0);
	/* With no net rule nothing is allowed, whatever the address. */
	T_EQ_INT(addr_ok(p, "8.8.8.8", 143), 0);
	dest_policy_free(&p);
}

/* ---- ports ----------------------------------------------------------- */

static void
test_ports(void)
{
	static const char *const rules[] = { "allow net 0.0.0.0/0",
	    "allow port 143,993,1100-1200" };
	struct dest_policy	*p = dest_policy_new();
	const char		*why = NULL;
	static const struct addr_case def[] = {
		{ "8.8.8.8", 110, 1 }, { "8.8.8.8", 143, 1 },
		{ "8.8.8.8", 993, 1 }, { "8.8.8.8", 995, 1 },
		{ "8.8.8.8", 22, 0 }, { "8.8.8.8", 25, 0 },
		{ "8.8.8.8", 994, 0 }, { "8.8.8.8", 65535, 0 },
	};
	static const struct addr_case set[] = {
		{ "8.8.8.8", 143, 1 }, { "8.8.8.8", 993, 1 },
		{ "8.8.8.8", 110, 0 },		/* the default is replaced */
		{ "8.8.8.8", 1099, 0 }, { "8.8.8.8", 1100, 1 },
		{ "8.8.8.8", 1150, 1 }, { "8.8.8.8", 1200, 1 },
		{ "8.8.8.8", 1201, 0 }, { "8.8.8.8", 0, 0 },
	};

	T_EQ_INT(dest_policy_add(p, "allow net 0.0.0.0/0", &why), 0);
	ADDR_TABLE(p, def);
	dest_policy_free(&p);
	p = mk_policy(rules, 2);
	ADDR_TABLE(p, set);
	T_EQ_INT(dest_port_allowed(p, 0, &why), 0);
	T_EQ_STR(why, "port 0");
	dest_policy_free(&p);

	p = mk_policy((const char *const[]){ "allow port 1-65535" }, 1);
	T_EQ_INT(dest_port_allowed(p, 1, &why), 1);
	T_EQ_INT(dest_port_allowed(p, 65535, &why), 1);
	T_EQ_INT(dest_port_allowed(p, 0, &why), 0);
	dest_policy_free(&p);

	p = mk_policy((const char *const[]){ "allow port 65535" }, 1);
	T_EQ_INT(dest_port_allowed(p, 65535, &why), 1);
	T_EQ_INT(dest_port_allowed(p, 65534, &why), 0);
	dest_policy_free(&p);
}

static void
test_port_errors(void)
{
	static const char *const bad[] = {
		"allow port 0", "allow port 65536", "allow port 10-5",
		"allow port 143,", "allow port ,143", "allow port 1--2",
		"allow port 0143", "allow port 143 993", "allow port",
		"allow port -5", "allow port 5-", "allow port 1-65536",
		"allow port 0-10", "allow port 143,,993", "allow port x",
		"allow port 4294967439",
	};
	struct dest_policy	*p = dest_policy_new();
	const char		*err;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (dest_policy_add(p, bad[i], &err) != -1) {
			fprintf(stderr, "  \"%s\" accepted\n", bad[i]);
			harness_failures++;
		}
		T_ASSERT(err != NULL);
	}
	/* Failed rules leave the default port set untouched. */
	T_EQ_INT(dest_policy_nrules(p), 0);
	T_EQ_INT(dest_port_allowed(p, 143, &err), 1);
	T_EQ_INT(dest_port_allowed(p, 10, &err), 0);
	dest_policy_free(&p);
}

/* ---- host rules -------------------------------------------------------- */

static void
test_host_rules(void)
{
	static const char *const rules[] = {
		"allow host Mail.Example.NET",
		"allow host *.example.org",
	};
	struct dest_policy	*p = mk_policy(rules, 2);
	static const struct {
		const char	*host;
		int		 want;
	} c[] = {
		{ "mail.example.net", 1 },
		{ "MAIL.EXAMPLE.NET", 1 },
		{ "mail.example.net.evil.com", 0 },
		{ "xmail.example.net", 0 },
		{ "example.net", 0 },
		{ "a.example.org", 1 },
		{ "a.b.c.example.org", 1 },
		{ "example.org", 0 },		/* the suffix itself */
		{ "badexample.org", 0 },
		{ "a.example.org.evil.com", 0 },
		{ "8.8.8.8", 0 },		/* no net rule */
		{ "2130706433", 0 },
		{ "mail.example.net.", 0 },
		{ "", 0 },
	};
	const char	*why = NULL, *err = NULL;
	size_t		 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		why = NULL;
		if (dest_name_allowed(p, c[i].host, &why) != c[i].want) {
			fprintf(stderr, "  \"%s\": expected %d\n", c[i].host,
			    c[i].want);
			harness_failures++;
		}
		if (c[i].want == 0) {
			T_ASSERT(why != NULL);
		}
	}
	T_EQ_INT(dest_policy_add(p, "allow host *", &err), 0);
	T_EQ_INT(dest_name_allowed(p, "anything.example.com", &why), 1);
	T_EQ_INT(dest_name_allowed(p, "127.1", &why), 0);	/* still */
	T_EQ_INT(dest_name_allowed(p, "127.0.0.1", &why), 0);	/* a net */
	dest_policy_free(&p);
}

static void
test_rule_errors(void)
{
	static const char *const bad[] = {
		"allow host 1.2.3.4", "allow host [::1]", "allow host *.1",
		"allow host x..y", "allow host *.", "allow host **.x",
		"allow host *.*.x", "allow host a*.x", "allow host -a.x",
		"allow host a-.x", "allow host x.", "allow host 0x7f000001",
		"allow host", "allow host a b", "deny host a",
		"allow hosts a", "Allow host a", "", "allow",
		"allow host a\nallow net 0.0.0.0/0", "allow host a\r",
		"allow host a_b.x", "allow host a%00.x",
	};
	struct dest_policy	*p = dest_policy_new();
	const char		*err;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (dest_policy_add(p, bad[i], &err) != -1) {
			fprintf(stderr, "  \"%s\" accepted\n", bad[i]);
			harness_failures++;
		}
		T_ASSERT(err != NULL);
	}
	T_EQ_INT(dest_policy_nrules(p), 0);
	T_EQ_INT(dest_policy_add(p, "\tallow  host\t a.x ", &err), 0);
	T_EQ_INT(dest_policy_add(p, NULL, &err), -1);
	dest_policy_free(&p);
}

/* ---- serialisation (the dialer's copy) --------------------------------- */

static void
test_rules_roundtrip(void)
{
	static const char *const rules[] = {
		"allow host Mail.Example.NET",
		"allow host *.example.org",
		"allow host *",
		"allow net 10.1.0.0/16",
		"allow net 2001:DB8:0::/48",
		"allow net 9.9.9.9",
		"allow port 993,143",
		"allow port 1100-1200,1150-1300,1301",
		"allow host mail.example.net",		/* duplicate */
		"allow net 10.1.0.0/16",		/* duplicate */
	};
	static const char *const want[] = {
		"allow host mail.example.net",
		"allow host *.example.org",
		"allow host *",
		"allow net 10.1.0.0/16",
		"allow net 2001:db8::/48",
		"allow net 9.9.9.9/32",
		"allow port 143,993,1100-1301",
	};
	struct dest_policy	*p = mk_policy(rules, 10), *q;
	char			 line[DEST_MAX_RULE], line2[DEST_MAX_RULE];
	const char		*err = NULL;
	size_t			 i, n;

	n = dest_policy_nrules(p);
	T_EQ_INT(n, sizeof(want) / sizeof(want[0]));
	q = dest_policy_new();
	for (i = 0; i < n && i < sizeof(want) / sizeof(want[0]); i++) {
		T_EQ_INT(dest_policy_rule(p, i, line, sizeof(line)), 0);
		T_EQ_STR(line, want[i]);
		T_EQ_INT(dest_policy_add(q, line, &err), 0);
	}
	T_EQ_INT(dest_policy_rule(p, n, line, sizeof(line)), -1);
	T_EQ_INT(dest_policy_rule(p, 0, line, 5), -1);	/* too small */
	T_EQ_INT(dest_policy_nrules(q), n);
	for (i = 0; i < n; i++) {
		T_EQ_INT(dest_policy_rule(p, i, line, sizeof(line)), 0);
		T_EQ_INT(dest_policy_rule(q, i, line2, sizeof(line2)), 0);
		T_EQ_STR(line2, line);
	}
	/* No port rule yet: none is serialised (the default stays). */
	dest_policy_free(&q);
	q = dest_policy_new();
	T_EQ_INT(dest_policy_nrules(q), 0);
	dest_policy_free(&q);
	dest_policy_free(&p);
}

/* Held by value in a configuration and compared with memcmp there. */
static void
test_policy_by_value(void)
{
	static const char *const rules[] = { "allow host *.example.net",
	    "allow net 10.1.0.0/16", "allow port 143,993" };
	struct dest_policy	*a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	const char		*err = NULL;
	size_t			 i;

	if (a == NULL || b == NULL) {
		abort();
	}
	memset(a, 0xa5, sizeof(*a));		/* garbage, then init */
	memset(b, 0x5a, sizeof(*b));
	dest_policy_init(a);
	dest_policy_init(b);
	T_ASSERT(memcmp(a, b, sizeof(*a)) == 0);
	for (i = 0; i < 3; i++) {
		T_EQ_INT(dest_policy_add(a, rules[i], &err), 0);
		T_EQ_INT(dest_policy_add(b, rules[i], &err), 0);
	}
	T_EQ_INT(dest_policy_add(b, "allow net 10.1.2.3/16", &err), -1);
	T_ASSERT(memcmp(a, b, sizeof(*a)) == 0);
	T_EQ_INT(dest_policy_add(b, "allow port 995", &err), 0);
	T_ASSERT(memcmp(a, b, sizeof(*a)) != 0);
	T_EQ_INT(addr_ok(a, "10.1.0.1", 993), 1);
	free(a);
	free(b);
}

/* ---- sockaddrs ---------------------------------------------------------- */

static void
test_sockaddr_checks(void)
{
	struct dest_policy	*p = site_policy();
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr		 un;
	socklen_t		 len;
	const char		*why = NULL;

	len = mk_sockaddr("8.8.8.8", 143, &ss);
	T_EQ_INT(dest_addr_allowed(p, (struct sockaddr *)&ss, len, &why), 1);
	T_EQ_INT(dest_addr_allowed(p, (struct sockaddr *)&ss, len - 1, &why),
	    -1);
	T_EQ_INT(dest_addr_allowed(p, NULL, len, &why), -1);
	len = mk_sockaddr("2a00:1450::1", 993, &ss);
	T_EQ_INT(dest_addr_allowed(p, (struct sockaddr *)&ss, len, &why), 1);
	sin6->sin6_scope_id = 2;
	T_EQ_INT(dest_addr_allowed(p, (struct sockaddr *)&ss, len, &why), -1);
	memset(&un, 0, sizeof(un));
	un.sa_family = AF_UNIX;
	T_EQ_INT(dest_addr_allowed(p, &un, sizeof(un), &why), -1);
	T_ASSERT(why != NULL);
	dest_policy_free(&p);
}

/* Every special range in the documentation is refused by 0/0 and ::/0. */
static void
test_special_table(void)
{
	static const char *const rules[] = { "allow net 0.0.0.0/0",
	    "allow net ::/0", "allow port 143" };
	static const char *const inside[] = {
		"0.0.0.1", "10.255.0.1", "100.100.0.1", "127.0.0.1",
		"169.254.0.1", "172.20.0.1", "192.0.0.1", "192.0.2.1",
		"192.88.99.1", "192.168.0.1", "198.19.255.255",
		"198.51.100.1", "203.0.113.1", "230.0.0.1", "250.0.0.1",
		"255.255.255.255", "::", "::1", "::1.2.3.4", "64:ff9b::1",
		"64:ff9b:1::1", "100::1", "2001:1::1", "2001:db8::1",
		"2002::1", "fc00::1", "fd12::1", "fe80::1", "fec0::1",
		"ff02::1",
	};
	struct dest_policy	*p = mk_policy(rules, 3);
	size_t			 i;

	for (i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
		if (addr_ok(p, inside[i], 143) != 0) {
			fprintf(stderr, "  %s allowed\n", inside[i]);
			harness_failures++;
		}
	}
	dest_policy_free(&p);
}

static const struct harness_case cases[] = {
	{ "row8_loopback_v4_port22", test_row8_loopback_v4_port22 },
	{ "row8_loopback_v6_port25", test_row8_loopback_v6_port25 },
	{ "row8_metadata_link_local", test_row8_metadata_link_local },
	{ "row8_decimal_ip", test_row8_decimal_ip },
	{ "row8_hex_ip", test_row8_hex_ip },
	{ "row8_octal_ip", test_row8_octal_ip },
	{ "row8_short_ip", test_row8_short_ip },
	{ "row8_port_zero", test_row8_port_zero },
	{ "row8_port_65536", test_row8_port_65536 },
	{ "row8_mapped_v6", test_row8_mapped_v6 },
	{ "row8_unterminated_bracket", test_row8_unterminated_bracket },
	{ "row8_two_delimiters", test_row8_two_delimiters },
	{ "row8_percent_and_nul", test_row8_percent_and_nul },
	{ "row8_spaces_crlf", test_row8_spaces_crlf },
	{ "row8_idn_punycode", test_row8_idn_punycode },
	{ "row8_special_ranges", test_row8_special_ranges },
	{ "row8_dns_rebinding", test_row8_dns_rebinding },
	{ "row8_explicit_special", test_row8_explicit_special },
	{ "parse_normalise", test_parse_normalise },
	{ "parse_hostport", test_parse_hostport },
	{ "delimiter", test_delimiter },
	{ "limit_user", test_limit_user },
	{ "limit_host", test_limit_host },
	{ "limit_port_and_v6", test_limit_port_and_v6 },
	{ "limit_rules", test_limit_rules },
	{ "cidr_edges", test_cidr_edges },
	{ "cidr_zero", test_cidr_zero },
	{ "cidr_errors", test_cidr_errors },
	{ "ports", test_ports },
	{ "port_errors", test_port_errors },
	{ "host_rules", test_host_rules },
	{ "rule_errors", test_rule_errors },
	{ "rules_roundtrip", test_rules_roundtrip },
	{ "policy_by_value", test_policy_by_value },
	{ "sockaddr_checks", test_sockaddr_checks },
	{ "special_table", test_special_table },
};

HARNESS_MAIN("test_dest", cases)
