/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * fuzz_dest: arbitrary bytes through the destination policy (policy/dest.c,
 * policy/hostaddr.c).  Runs only in the fuzzer or the corpus replayer, as
 * the invoking user; trusts nothing in the input.  The first byte picks
 * the delimiter (itself if it is one); the rest is split into lines.  Lines starting "allow"
 * are policy rules, every other line is a client login name and a map
 * result.  Invariants (abort on violation):
 *   - whatever a parser accepts re-serialises to a canonical text that
 *     parses back to an equal target and serialises identically again;
 *   - feeding the lexer in two pieces gives the one-shot result;
 *   - names accepted are never addresses to inet_aton(3), addresses are
 *     in the form inet_ntop(3) prints;
 *   - the rules re-serialise to a policy that decides identically;
 *   - an address literal gets the same answer before DNS (the name
 *     check) and after (the sockaddr check), and an IPv4 address the same
 *     as its IPv4-mapped IPv6 form.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dest.h"
#include "hostaddr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_MAX_TARGETS	16

static void
fuzz_check(int ok)
{
	if (!ok) {
		abort();
	}
}

static int
fuzz_target_eq(const struct dest_target *a, const struct dest_target *b)
{
	return strcmp(a->user, b->user) == 0 && a->host.kind == b->host.kind &&
	    strcmp(a->host.text, b->host.text) == 0 && a->port == b->port &&
	    (a->host.kind == HOSTADDR_NAME ||
	    hostaddr_ip_eq(&a->host.ip, &b->host.ip));
}

/* A parsed target's host is canonical. */
static void
fuzz_check_host(const struct hostaddr *h)
{
	struct in_addr	ia;
	char		text[INET6_ADDRSTRLEN];

	if (h->kind == HOSTADDR_NAME) {
		fuzz_check(inet_aton(h->text, &ia) == 0);
		fuzz_check(strlen(h->text) <= HOSTADDR_MAX_NAME);
		return;
	}
	fuzz_check(h->kind == HOSTADDR_V4 || h->kind == HOSTADDR_V6);
	fuzz_check(inet_ntop(h->ip.family, h->ip.a, text, sizeof(text)) !=
	    NULL);
	fuzz_check(strcmp(text, h->text) == 0);
}

/* Parse, format, re-parse, format: a fixed point. */
static void
fuzz_roundtrip(const struct dest_target *t, char delim, int client)
{
	struct dest_target	 t2;
	const char		*err;
	char			 s1[MAX_USER + MAX_HOST + 16];
	char			 s2[sizeof(s1)];
	int			 rv;

	fuzz_check(dest_target_format(t, delim, s1, sizeof(s1)) == 0);
	if (client) {
		rv = dest_parse_client_host(s1, delim, &t2, &err);
		fuzz_check(rv == 1);
	} else {
		rv = dest_parse_hostport(span_from_str(s1), &t2, &err);
		fuzz_check(rv == 0);
	}
	fuzz_check(fuzz_target_eq(t, &t2));
	fuzz_check(dest_target_format(&t2, delim, s2, sizeof(s2)) == 0);
	fuzz_check(strcmp(s1, s2) == 0);
}

/* The same input split in two gives the one-shot result. */
static void
fuzz_split(struct span s, char delim, int rv, const struct dest_target *t,
    const char *err)
{
	struct dest_lex		 l;
	struct dest_target	 t2;
	const char		*err2 = NULL;
	size_t			 cut = s.len / 3;
	int			 rv2;

	dest_lex_init(&l, delim, 1);
	(void)dest_lex_feed(&l, span_sub(s, 0, cut));
	(void)dest_lex_feed(&l, span_sub(s, cut, s.len - cut));
	rv2 = dest_lex_finish(&l, &t2, &err2);
	dest_lex_release(&l);
	fuzz_check(rv2 == rv);
	if (rv >= 0) {
		fuzz_check(fuzz_target_eq(t, &t2));
	} else if (rv == -1) {
		fuzz_check(strcmp(err, err2) == 0);
	}
}

/* An address literal: the same answer before and after "DNS". */
static void
fuzz_addr_consistent(const struct dest_policy *p, const struct dest_target *t)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	struct hostaddr_ip	 v4;
	const char		*why;
	uint16_t		 port = t->port != 0 ? t->port : 143;
	int			 before, after, mapped;

	before = dest_target_allowed(p, t, 143, &why);
	if (t->host.kind == HOSTADDR_V4) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		memcpy(&sin.sin_addr, t->host.ip.a, 4);
		after = dest_addr_allowed(p, (struct sockaddr *)&sin,
		    sizeof(sin), &why);
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		sin6.sin6_addr.s6_addr[10] = 0xff;
		sin6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sin6.sin6_addr.s6_addr[12], t->host.ip.a, 4);
		mapped = dest_addr_allowed(p, (struct sockaddr *)&sin6,
		    sizeof(sin6), &why);
		fuzz_check(after == mapped);
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		memcpy(&sin6.sin6_addr, t->host.ip.a, 16);
		after = dest_addr_allowed(p, (struct sockaddr *)&sin6,
		    sizeof(sin6), &why);
		if (hostaddr_unmap(&t->host.ip, &v4)) {
			fuzz_check(v4.family == AF_INET);
		}
	}
	fuzz_check(before == after);
}

/* Serialise the rules into a fresh policy; it must print the same. */
static struct dest_policy *
fuzz_policy_copy(const struct dest_policy *p)
{
	struct dest_policy	*q = dest_policy_new();
	char			 a[DEST_MAX_RULE], b[DEST_MAX_RULE];
	const char		*err;
	size_t			 i, n = dest_policy_nrules(p);

	for (i = 0; i < n; i++) {
		fuzz_check(dest_policy_rule(p, i, a, sizeof(a)) == 0);
		fuzz_check(dest_policy_add(q, a, &err) == 0);
	}
	fuzz_check(dest_policy_nrules(q) == n);
	for (i = 0; i < n; i++) {
		fuzz_check(dest_policy_rule(p, i, a, sizeof(a)) == 0);
		fuzz_check(dest_policy_rule(q, i, b, sizeof(b)) == 0);
		fuzz_check(strcmp(a, b) == 0);
	}
	return q;
}

static void
fuzz_rule(struct dest_policy *p, struct span line)
{
	char		 rule[DEST_MAX_RULE + 1];
	const char	*err = NULL;
	size_t		 before = dest_policy_nrules(p);

	if (span_cstr(line, rule, sizeof(rule)) == -1) {
		return;
	}
	if (dest_policy_add(p, rule, &err) == -1) {
		fuzz_check(err != NULL);
		fuzz_check(dest_policy_nrules(p) == before);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span		 in = { data, size }, line;
	struct dest_policy	*p, *q;
	struct dest_target	 t[FUZZ_MAX_TARGETS], h;
	const char		*err = NULL, *why;
	size_t			 off = 1, nt = 0, i;
	long			 nl;
	char			 delim;
	int			 rv;

	if (size == 0) {
		return 0;
	}
	/* The first byte if it is a delimiter (readable seeds), else mod. */
	delim = (char)span_byte(in, 0);
	if (delim == '\0' || strchr(DEST_DELIMS, delim) == NULL) {
		delim = DEST_DELIMS[span_byte(in, 0) % (sizeof(DEST_DELIMS) - 1)];
	}
	p = dest_policy_new();
	while (off < size) {
		nl = span_find(in, off, '\n');
		line = span_sub(in, off, (nl == -1 ? size : (size_t)nl) - off);
		off = nl == -1 ? size : (size_t)nl + 1;
		if (span_has_prefix_ci(line, "allow")) {
			fuzz_rule(p, line);
			continue;
		}
		rv = dest_parse_client_span(line, delim, &t[nt], &err);
		fuzz_split(line, delim, rv, &t[nt], err);
		if (rv == -1) {
			fuzz_check(err != NULL);
		} else if (rv == 0) {
			fuzz_check(t[nt].user[0] != '\0');
			fuzz_check(strchr(t[nt].user, delim) == NULL);
		} else {
			fuzz_check_host(&t[nt].host);
			fuzz_roundtrip(&t[nt], delim, 1);
			if (nt < FUZZ_MAX_TARGETS - 1) {
				nt++;
			}
		}
		if (dest_parse_hostport(line, &h, &err) == 0) {
			fuzz_check_host(&h.host);
			fuzz_roundtrip(&h, delim, 0);
		}
	}
	q = fuzz_policy_copy(p);
	for (i = 0; i < nt; i++) {
		fuzz_check(dest_target_allowed(p, &t[i], 143, &why) ==
		    dest_target_allowed(q, &t[i], 143, &why));
		fuzz_check(dest_name_allowed(p, t[i].host.text, &why) ==
		    dest_name_allowed(q, t[i].host.text, &why));
		if (t[i].host.kind != HOSTADDR_NAME) {
			fuzz_addr_consistent(p, &t[i]);
		}
	}
	dest_policy_free(&q);
	dest_policy_free(&p);
	return 0;
}
