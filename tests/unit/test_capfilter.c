/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests for gateway/capfilter.c.  Runs as a plain test process with
 * the invoking user's privilege; it trusts the filter under test for
 * nothing and compares every output with the expected bytes.  Each case is
 * fed whole, one byte at a time (client and backend side), and split in
 * two at every position of either side; output and result must be the
 * same each way.  It also prints the filter's throughput on 10 MB streams
 * (no timed assertions).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "bailey_limits.h"
#include "capfilter.h"
#include "harness.h"

#define S(s)		SPAN_LIT(s)
#define BIG		(64 * 1024 * 1024)
#define BENCH_SIZE	(10 * 1024 * 1024)
#define BENCH_LINE	"* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE " \
			"0123456789abcdef012345\r\n"

/* How a run feeds its input. */
struct feed {
	size_t	cchunk;		/* client chunk size, 0: whole */
	size_t	csplit;		/* client: first feed this many bytes */
	size_t	bchunk;		/* backend chunk size, 0: whole */
	size_t	bsplit;		/* backend: first feed this many bytes */
	size_t	outmax;		/* 0: big */
};

static struct capfilter_conf imap_conf, pop3_conf, none_conf;

static void
add_rule(struct capfilter_conf *c, enum capfilter_list l, const char *r)
{
	const char	*err = NULL;

	if (capfilter_conf_add(c, l, r, &err) == -1) {
		fprintf(stderr, "  rule %s: %s\n", r, err);
		T_ASSERT(0);
	}
}

static void
setup(void)
{
	capfilter_conf_init(&imap_conf, CAPFILTER_IMAP);
	add_rule(&imap_conf, CAPFILTER_STRIP, "COMPRESS");
	add_rule(&imap_conf, CAPFILTER_STRIP, "STARTTLS");
	add_rule(&imap_conf, CAPFILTER_STRIP, "LOGINDISABLED");
	add_rule(&imap_conf, CAPFILTER_STRIP, "X-DROP-*");
	capfilter_conf_init(&pop3_conf, CAPFILTER_POP3);
	add_rule(&pop3_conf, CAPFILTER_STRIP, "STLS");
	add_rule(&pop3_conf, CAPFILTER_STRIP, "SASL");
	capfilter_conf_init(&none_conf, CAPFILTER_IMAP);
	add_rule(&none_conf, CAPFILTER_STRIP, "X-NEVER-SEEN");
}

/* Feeds sp[0..len) as chunks; 0 or -1. */
static int
feed_client(struct capfilter *f, struct span sp, size_t chunk, size_t split,
    const char **err)
{
	size_t	pos = 0, n;

	while (pos < sp.len) {
		n = sp.len - pos;
		if (pos == 0 && split > 0 && split < n) {
			n = split;
		} else if (chunk > 0 && chunk < n) {
			n = chunk;
		}
		if (capfilter_client(f, span_sub(sp, pos, n), err) == -1) {
			return -1;
		}
		pos += n;
	}
	return 0;
}

/* Moves everything in out to acc (a small out buffer is drained). */
static void
drain(struct buf *out, struct buf *acc)
{
	T_ASSERT(buf_add_span(acc, buf_span(out)) == 0);
	buf_consume(out, buf_len(out));
}

static int
feed_backend(struct capfilter *f, struct span sp, const struct feed *fd,
    struct buf *acc, const char **err)
{
	struct buf	in, out;
	size_t		pos = 0, n, before;
	int		rc = 0, stuck = 0;

	buf_init(&in, sp.len + 1);
	buf_init(&out, fd->outmax ? fd->outmax : BIG);
	while (pos < sp.len && rc == 0) {
		n = sp.len - pos;
		if (pos == 0 && fd->bsplit > 0 && fd->bsplit < n) {
			n = fd->bsplit;
		} else if (fd->bchunk > 0 && fd->bchunk < n) {
			n = fd->bchunk;
		}
		T_ASSERT(buf_add_span(&in, span_sub(sp, pos, n)) == 0);
		pos += n;
		while (buf_len(&in) > 0 && rc == 0 && stuck < 2) {
			before = buf_len(&in);
			rc = capfilter_feed(f, &in, &out, err);
			stuck = buf_len(&in) == before ? stuck + 1 : 0;
			drain(&out, acc);
		}
		T_ASSERT(rc == -1 || buf_len(&in) == 0);
	}
	buf_release(&in);
	buf_release(&out);
	return rc;
}

static int
run_filter(const struct capfilter_conf *conf, struct span client,
    struct span backend, const struct feed *fd, struct buf *acc,
    const char **err)
{
	struct capfilter	f;
	int			rc;

	capfilter_init(&f, conf);
	rc = feed_client(&f, client, fd->cchunk, fd->csplit, err);
	if (rc == 0) {
		rc = feed_backend(&f, backend, fd, acc, err);
	}
	capfilter_free(&f);
	return rc;
}

static void
show(const char *what, struct span s)
{
	size_t	i;
	uint8_t	c;

	fprintf(stderr, "  %s (%zu): \"", what, s.len);
	for (i = 0; i < s.len && i < 400; i++) {
		c = span_byte(s, i);
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			fputc(c, stderr);
		} else {
			fprintf(stderr, "\\x%02x", c);
		}
	}
	fprintf(stderr, "%s\"\n", s.len > 400 ? "..." : "");
}

/* One feeding pattern: output and result must be the expected ones. */
static int
check_one(const struct capfilter_conf *conf, struct span client,
    struct span backend, struct span want, int want_rc,
    const struct feed *fd, const char *label)
{
	struct buf	 acc;
	const char	*err = NULL;
	int		 rc, ok;

	buf_init(&acc, BIG);
	rc = run_filter(conf, client, backend, fd, &acc, &err);
	ok = rc == want_rc && buf_len(&acc) == want.len &&
	    (want.len == 0 || memcmp(buf_ptr(&acc), want.p, want.len) == 0);
	if (rc == -1) {
		ok = ok && err != NULL;
	}
	if (!ok) {
		fprintf(stderr, "  %s (cchunk %zu csplit %zu bchunk %zu "
		    "bsplit %zu outmax %zu): rc %d want %d err %s\n", label,
		    fd->cchunk, fd->csplit, fd->bchunk, fd->bsplit, fd->outmax,
		    rc, want_rc, err ? err : "-");
		show("got ", buf_span(&acc));
		show("want", want);
		T_ASSERT(0);
	}
	buf_release(&acc);
	return ok;
}

/*
 * Whole, one byte at a time, split at every position of the backend
 * bytes and of the client bytes, and through a minimal output buffer.
 */
static void
check(const struct capfilter_conf *conf, struct span client,
    struct span backend, struct span want, int want_rc)
{
	struct feed	fd;
	size_t		k;

	memset(&fd, 0, sizeof(fd));
	if (!check_one(conf, client, backend, want, want_rc, &fd, "whole")) {
		return;
	}
	fd.cchunk = fd.bchunk = 1;
	if (!check_one(conf, client, backend, want, want_rc, &fd, "bytes")) {
		return;
	}
	fd.cchunk = fd.bchunk = 0;
	fd.outmax = CAPFILTER_MAX_HOLD + 2;
	if (!check_one(conf, client, backend, want, want_rc, &fd, "outmax")) {
		return;
	}
	fd.outmax = 0;
	for (k = 1; k < backend.len; k++) {
		fd.bsplit = k;
		if (!check_one(conf, client, backend, want, want_rc, &fd,
		    "bsplit")) {
			return;
		}
	}
	fd.bsplit = 0;
	for (k = 1; k < client.len; k++) {
		fd.csplit = k;
		if (!check_one(conf, client, backend, want, want_rc, &fd,
		    "csplit")) {
			return;
		}
	}
}

/* Output must equal input. */
static void
check_same(const struct capfilter_conf *conf, struct span client,
    struct span backend)
{
	check(conf, client, backend, backend, 0);
}

static const struct span none = { (const uint8_t *)"", 0 };

/* ---- configuration ---------------------------------------------------- */

static void
t_conf_rules(void)
{
	struct capfilter_conf	 c;
	const char		*err = NULL;
	char			 name[CAPFILTER_MAX_RULE + 2];
	size_t			 i;

	capfilter_conf_init(&c, CAPFILTER_IMAP);
	T_EQ_INT(capfilter_conf_empty(&c), 1);
	T_EQ_INT(capfilter_conf_add(&c, CAPFILTER_STRIP, "", &err), -1);
	T_EQ_STR(err, "empty capability rule");
	T_EQ_INT(capfilter_conf_add(&c, CAPFILTER_STRIP, "A B", &err), -1);
	T_EQ_INT(capfilter_conf_add(&c, CAPFILTER_STRIP, "A*B", &err), -1);
	T_EQ_INT(capfilter_conf_add(&c, CAPFILTER_STRIP, "A]", &err), -1);
	T_EQ_INT(capfilter_conf_add(&c, CAPFILTER_STRIP, "A\x80", &err), -1);
	T_EQ_INT(capfilter_conf_add(&c, CAPFILTER_STRIP, "imap4REV1", &err),
	    -1);
	T_EQ_STR(err, "IMAP4rev1/IMAP4rev2 cannot be stripped");
	T_EQ_INT(capfilter_conf_add(&c, CAPFILTER_STRIP, "IMAP4rev2", &err),
	    -1);
	T_EQ_INT(capfilter_conf_empty(&c), 1);
	/* At the length limit and one past. */
	memset(name, 'A', sizeof(name));
	name[CAPFILTER_MAX_RULE] = '\0';
	T_EQ_INT(capfilter_conf_add(&c, CAPFILTER_ALLOW, name, &err), 0);
	name[CAPFILTER_MAX_RULE] = 'A';
	name[CAPFILTER_MAX_RULE + 1] = '\0';
	T_EQ_INT(capfilter_conf_add(&c, CAPFILTER_ALLOW, name, &err), -1);
	T_EQ_STR(err, "capability rule too long");
	T_EQ_INT(capfilter_conf_empty(&c), 0);
	/* At the count limit and one past. */
	for (i = 1; i < CAPFILTER_MAX_RULES; i++) {
		T_EQ_INT(capfilter_conf_add(&c, CAPFILTER_ALLOW, "X", &err), 0);
	}
	T_EQ_INT(capfilter_conf_add(&c, CAPFILTER_ALLOW, "X", &err), -1);
	T_EQ_STR(err, "too many capability rules");
	T_EQ_INT(c.nallow, CAPFILTER_MAX_RULES);
	/* POP3 has no mandatory names. */
	capfilter_conf_init(&c, CAPFILTER_POP3);
	T_EQ_INT(capfilter_conf_add(&c, CAPFILTER_STRIP, "IMAP4rev1", &err),
	    0);
}

static void
t_conf_keep(void)
{
	struct capfilter_conf	c;

	capfilter_conf_init(&c, CAPFILTER_IMAP);
	T_EQ_INT(capfilter_keep(&c, S("ANYTHING")), 1);
	add_rule(&c, CAPFILTER_STRIP, "compress");
	add_rule(&c, CAPFILTER_STRIP, "AUTH=GSSAPI");
	add_rule(&c, CAPFILTER_STRIP, "X-*");
	T_EQ_INT(capfilter_keep(&c, S("COMPRESS")), 0);
	T_EQ_INT(capfilter_keep(&c, S("Compress=Deflate")), 0);
	T_EQ_INT(capfilter_keep(&c, S("COMPRESS=ZSTD")), 0);
	T_EQ_INT(capfilter_keep(&c, S("COMPRESSX")), 1);
	T_EQ_INT(capfilter_keep(&c, S("COMPRES")), 1);
	T_EQ_INT(capfilter_keep(&c, S("AUTH=GSSAPI")), 0);
	T_EQ_INT(capfilter_keep(&c, S("AUTH=GSSAPIX")), 1);
	T_EQ_INT(capfilter_keep(&c, S("AUTH=PLAIN")), 1);
	T_EQ_INT(capfilter_keep(&c, S("x-anything")), 0);
	T_EQ_INT(capfilter_keep(&c, S("X")), 1);
	/* Allow-list: only listed names (and the mandatory ones) pass. */
	add_rule(&c, CAPFILTER_ALLOW, "IDLE");
	add_rule(&c, CAPFILTER_ALLOW, "AUTH=*");
	add_rule(&c, CAPFILTER_ALLOW, "X-KEEP");
	T_EQ_INT(capfilter_keep(&c, S("idle")), 1);
	T_EQ_INT(capfilter_keep(&c, S("IDLEX")), 0);
	T_EQ_INT(capfilter_keep(&c, S("AUTH=PLAIN")), 1);
	T_EQ_INT(capfilter_keep(&c, S("AUTH=GSSAPI")), 0);	/* strip wins */
	T_EQ_INT(capfilter_keep(&c, S("X-KEEP")), 0);		/* strip wins */
	T_EQ_INT(capfilter_keep(&c, S("UIDPLUS")), 0);
	T_EQ_INT(capfilter_keep(&c, S("IMAP4rev1")), 1);
	T_EQ_INT(capfilter_keep(&c, S("imap4REV2")), 1);
	/* Strip everything: only the mandatory ones remain. */
	capfilter_conf_init(&c, CAPFILTER_IMAP);
	add_rule(&c, CAPFILTER_STRIP, "*");
	T_EQ_INT(capfilter_keep(&c, S("IDLE")), 0);
	T_EQ_INT(capfilter_keep(&c, S("IMAP4REV1")), 1);
}

/* ---- IMAP ---------------------------------------------------------- */

static void
t_imap_untagged(void)
{
	check(&imap_conf, none,
	    S("* CAPABILITY IMAP4rev1 IDLE COMPRESS=DEFLATE STARTTLS "
	    "LITERAL+\r\n"),
	    S("* CAPABILITY IMAP4rev1 IDLE LITERAL+\r\n"), 0);
	/* Keyword and names in any case. */
	check(&imap_conf, none,
	    S("* capability imap4rev1 compress=deflate Idle starttls\r\n"),
	    S("* capability imap4rev1 Idle\r\n"), 0);
	check(&imap_conf, none,
	    S("* CaPaBiLiTy STARTTLS IMAP4rev1 LOGINDISABLED\r\n"),
	    S("* CaPaBiLiTy IMAP4rev1\r\n"), 0);
	/* Everything stripped but the mandatory one. */
	check(&imap_conf, none,
	    S("* CAPABILITY COMPRESS=DEFLATE X-DROP-ME IMAP4rev2\r\n"),
	    S("* CAPABILITY IMAP4rev2\r\n"), 0);
	/* Bare LF line ends. */
	check(&imap_conf, none,
	    S("* CAPABILITY IMAP4rev1 STARTTLS\n* OK x\n"),
	    S("* CAPABILITY IMAP4rev1\n* OK x\n"), 0);
	/* Several lines in a row; the second needs no change. */
	check(&imap_conf, none,
	    S("* CAPABILITY IMAP4rev1 STARTTLS\r\n* CAPABILITY IMAP4rev1\r\n"
	    "a1 OK done\r\n"),
	    S("* CAPABILITY IMAP4rev1\r\n* CAPABILITY IMAP4rev1\r\n"
	    "a1 OK done\r\n"), 0);
}

static void
t_imap_spaces(void)
{
	/* Separators are kept exactly for what is kept. */
	check_same(&none_conf, none,
	    S("* CAPABILITY  IMAP4rev1   IDLE  \r\n"));
	check(&imap_conf, none,
	    S("* CAPABILITY  IMAP4rev1   STARTTLS  IDLE \r\n"),
	    S("* CAPABILITY  IMAP4rev1  IDLE \r\n"), 0);
	check(&imap_conf, none,
	    S("* CAPABILITY STARTTLS\r\n"),
	    S("* CAPABILITY\r\n"), 0);
}

static void
t_imap_code(void)
{
	/* Greeting-like untagged OK. */
	check(&imap_conf, none,
	    S("* OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS LOGINDISABLED "
	    "AUTH=PLAIN] Dovecot ready.\r\n"),
	    S("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] Dovecot "
	    "ready.\r\n"), 0);
	/* The LOGIN tagged OK. */
	check(&imap_conf, none,
	    S("a1 OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE IDLE] "
	    "Logged in\r\n"),
	    S("a1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n"), 0);
	/* Case of the code and the condition. */
	check(&imap_conf, none,
	    S("A0002 ok [capability IMAP4rev1 starttls] done\r\n"),
	    S("A0002 ok [capability IMAP4rev1] done\r\n"), 0);
	/* PREAUTH, BYE, NO, BAD carry codes too. */
	check(&imap_conf, none,
	    S("* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n"
	    "* BYE [CAPABILITY IMAP4rev1 STARTTLS] bye\r\n"
	    "t NO [CAPABILITY STARTTLS IMAP4rev1] no\r\n"),
	    S("* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n"
	    "* BYE [CAPABILITY IMAP4rev1] bye\r\n"
	    "t NO [CAPABILITY IMAP4rev1] no\r\n"), 0);
	/* The last capability dropped right before "]". */
	check(&imap_conf, none,
	    S("* OK [CAPABILITY IMAP4rev1 STARTTLS]\r\n"),
	    S("* OK [CAPABILITY IMAP4rev1]\r\n"), 0);
	/* The text after "]" is not a list, even if it looks like one. */
	check(&imap_conf, none,
	    S("* OK [CAPABILITY IMAP4rev1 STARTTLS] STARTTLS ] X\r\n"),
	    S("* OK [CAPABILITY IMAP4rev1] STARTTLS ] X\r\n"), 0);
}

static void
t_imap_not_candidates(void)
{
	check_same(&imap_conf, none,
	    S("* 1 FETCH (FLAGS (\\Seen) UID 7)\r\n"
	    "* OK [UIDVALIDITY 3] UIDs valid\r\n"
	    "* OK [CAPABILITYX STARTTLS] x\r\n"
	    "* OK [CAPABILITY] STARTTLS\r\n"
	    "* OK STARTTLS [CAPABILITY STARTTLS]\r\n"
	    "* XCAPABILITY STARTTLS\r\n"
	    "* CAPABILITY\r\n"
	    "a1 CAPABILITY STARTTLS\r\n"
	    "+ CAPABILITY STARTTLS\r\n"
	    "+ OK [CAPABILITY STARTTLS]\r\n"
	    " * CAPABILITY STARTTLS\r\n"
	    "*  CAPABILITY STARTTLS\r\n"
	    "\r\n"
	    "*\r\n"
	    "* OKAY [CAPABILITY STARTTLS]\r\n"
	    "* 3 EXISTS\r\n"
	    "a2 OK Fetch completed.\r\n"));
}

/* The message text that must never be taken for a response. */
#define EVIL	"\r\n* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE\r\n"
#define EVIL_N	"43"

static void
t_imap_literal(void)
{
	/* A FETCH literal holding a capability line passes byte-exact,
	 * and framing holds: the real line after it is filtered. */
	check(&imap_conf, none,
	    S("* 1 FETCH (BODY[] {" EVIL_N "}\r\n" EVIL ")\r\n"
	    "* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE\r\n"),
	    S("* 1 FETCH (BODY[] {" EVIL_N "}\r\n" EVIL ")\r\n"
	    "* CAPABILITY IMAP4rev1\r\n"), 0);
	/* literal8 (BINARY). */
	check_same(&imap_conf, none,
	    S("* 2 FETCH (BINARY[1] ~{" EVIL_N "}\r\n" EVIL ")\r\n"));
	/* Two literals in one response, the line continuing after each. */
	check_same(&imap_conf, none,
	    S("* 3 FETCH (BODY[1] {" EVIL_N "}\r\n" EVIL " BODY[2] {"
	    EVIL_N "}\r\n" EVIL " UID 9)\r\na OK x\r\n"));
	/* Literal at the very end of a literal. */
	check(&imap_conf, none,
	    S("* 4 FETCH (BODY[] {5}\r\n{3}\r\n)\r\n"
	    "* CAPABILITY IMAP4rev1 STARTTLS\r\n"),
	    S("* 4 FETCH (BODY[] {5}\r\n{3}\r\n)\r\n"
	    "* CAPABILITY IMAP4rev1\r\n"), 0);
	/* Non-synchronising form, leading zeros, zero length, bare LF. */
	check_same(&imap_conf, none,
	    S("* 5 FETCH (BODY[] {" EVIL_N "+}\r\n" EVIL ")\r\n"
	    "* 6 FETCH (BODY[] {00000" EVIL_N "}\r\n" EVIL ")\r\n"
	    "* 7 FETCH (BODY[] {0}\r\n)\r\n"
	    "* 8 FETCH (BODY[] {" EVIL_N "}\n" EVIL ")\r\n"));
	/* After {0} the same line continues: not a line start. */
	check_same(&imap_conf, none,
	    S("* 9 X {0}\r\n* CAPABILITY STARTTLS\r\n"));
	/* "{n}" not at the end of a line is not a literal. */
	check(&imap_conf, none,
	    S("* OK text {5} more\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n"),
	    S("* OK text {5} more\r\n* CAPABILITY IMAP4rev1\r\n"), 0);
	check(&imap_conf, none,
	    S("* OK {5}x\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n"),
	    S("* OK {5}x\r\n* CAPABILITY IMAP4rev1\r\n"), 0);
	check(&imap_conf, none,
	    S("* OK {}\r\n* OK {5\r\n* OK 5}\r\n* OK {+}\r\n"
	    "* CAPABILITY IMAP4rev1 STARTTLS\r\n"),
	    S("* OK {}\r\n* OK {5\r\n* OK 5}\r\n* OK {+}\r\n"
	    "* CAPABILITY IMAP4rev1\r\n"), 0);
	/* A candidate line that ends in a literal: framing wins. */
	check(&imap_conf, none,
	    S("* CAPABILITY STARTTLS {5}\r\nabcde STARTTLS\r\n"
	    "* CAPABILITY STARTTLS\r\n"),
	    S("* CAPABILITY {5}\r\nabcde STARTTLS\r\n"
	    "* CAPABILITY\r\n"), 0);
}

static void
t_imap_literal_huge(void)
{
	/* 2^63: passes, and so does everything after it. */
	check_same(&imap_conf, none,
	    S("* 1 FETCH (BODY[] {9223372036854775808}\r\n"
	    "* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE\r\n"));
	/* 2^64 - 1 is the limit; 2^64 is a protocol violation. */
	check_same(&imap_conf, none,
	    S("* 1 FETCH (BODY[] {18446744073709551615}\r\n"
	    "* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE\r\n"));
	check(&imap_conf, none,
	    S("* 1 FETCH (BODY[] {18446744073709551616}\r\n"
	    "* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE\r\n"),
	    S("* 1 FETCH (BODY[] {18446744073709551616}\r"), -1);
	check(&imap_conf, none,
	    S("* 1 FETCH (BODY[] ~{99999999999999999999999}\r\n"),
	    S("* 1 FETCH (BODY[] ~{99999999999999999999999}\r"), -1);
	/* A huge number that is not a literal is only text. */
	check_same(&imap_conf, none,
	    S("* OK {99999999999999999999999} x\r\n"));
}

static void
t_imap_odd_bytes(void)
{
	/* A byte that cannot be in a capability: the rest passes. */
	check(&imap_conf, none,
	    S("* CAPABILITY IMAP4rev1 STARTTLS (X) STARTTLS\r\n"
	    "* CAPABILITY STARTTLS\r\n"),
	    S("* CAPABILITY IMAP4rev1 (X) STARTTLS\r\n"
	    "* CAPABILITY\r\n"), 0);
	check_same(&imap_conf, none,
	    S("* CAPABILITY IMAP4rev1 STARTTLS] STARTTLS\r\n"));
	check(&imap_conf, none,
	    S("* CAPABILITY IMAP4rev1 STARTTLS\x80 STARTTLS\r\n"),
	    S("* CAPABILITY IMAP4rev1 STARTTLS\x80 STARTTLS\r\n"), 0);
	/* A bare CR ends the list; the rest of the line passes. */
	check(&imap_conf, none,
	    S("* CAPABILITY STARTTLS\rSTARTTLS\r\n"),
	    S("* CAPABILITY\rSTARTTLS\r\n"), 0);
	/* NUL and 8-bit in message lines pass. */
	check_same(&imap_conf, none,
	    S("* 1 FETCH (X \"\x00\xff\")\r\n\x00\xff\r\n"));
}

static void
t_imap_limits(void)
{
	struct buf	in, want;
	size_t		i;

	/* A held capability of CAPFILTER_MAX_ATOM bytes (space + atom). */
	buf_init(&in, BIG);
	buf_init(&want, BIG);
	T_ASSERT(buf_add_str(&in, "* CAPABILITY IMAP4rev1 ") == 0);
	T_ASSERT(buf_add_str(&want, "* CAPABILITY IMAP4rev1") == 0);
	for (i = 0; i + 1 < CAPFILTER_MAX_ATOM; i++) {
		T_ASSERT(buf_add(&in, "A", 1) == 0);
	}
	T_ASSERT(buf_add_str(&in, " STARTTLS\r\n") == 0);
	T_ASSERT(buf_add_span(&want, span_sub(buf_span(&in), 22,
	    CAPFILTER_MAX_ATOM)) == 0);
	T_ASSERT(buf_add_str(&want, "\r\n") == 0);
	check(&imap_conf, none, buf_span(&in), buf_span(&want), 0);
	/* One past: the session is cut; the capability is never sent. */
	buf_reset(&in);
	T_ASSERT(buf_add_str(&in, "* CAPABILITY IMAP4rev1 ") == 0);
	for (i = 0; i < CAPFILTER_MAX_ATOM; i++) {
		T_ASSERT(buf_add(&in, "A", 1) == 0);
	}
	T_ASSERT(buf_add_str(&in, " STARTTLS\r\n") == 0);
	check(&imap_conf, none, buf_span(&in),
	    S("* CAPABILITY IMAP4rev1"), -1);
	/* Spaces count too. */
	buf_reset(&in);
	T_ASSERT(buf_add_str(&in, "* CAPABILITY") == 0);
	for (i = 0; i < CAPFILTER_MAX_ATOM + 1; i++) {
		T_ASSERT(buf_add(&in, " ", 1) == 0);
	}
	T_ASSERT(buf_add_str(&in, "IDLE\r\n") == 0);
	check(&imap_conf, none, buf_span(&in), S("* CAPABILITY"), -1);

	/* Tags are never held: a 100 KB tag is still filtered. */
	buf_reset(&in);
	buf_reset(&want);
	for (i = 0; i < 100 * 1024; i++) {
		T_ASSERT(buf_add(&in, "t", 1) == 0);
	}
	T_ASSERT(buf_add_span(&want, buf_span(&in)) == 0);
	T_ASSERT(buf_add_str(&in, " OK [CAPABILITY IMAP4rev1 STARTTLS] x\r\n")
	    == 0);
	T_ASSERT(buf_add_str(&want, " OK [CAPABILITY IMAP4rev1] x\r\n") == 0);
	{
		struct feed	fd;

		memset(&fd, 0, sizeof(fd));
		check_one(&imap_conf, none, buf_span(&in), buf_span(&want), 0,
		    &fd, "long tag");
		fd.bchunk = 1;
		fd.outmax = CAPFILTER_MAX_HOLD + 2;
		check_one(&imap_conf, none, buf_span(&in), buf_span(&want), 0,
		    &fd, "long tag bytes");
	}
	buf_release(&in);
	buf_release(&want);
}

static void
t_imap_long_lines(void)
{
	struct buf	in;
	size_t		i;

	/* Non-candidate lines of any length stream through. */
	buf_init(&in, BIG);
	T_ASSERT(buf_add_str(&in, "* 1 FETCH (ENVELOPE (\"") == 0);
	for (i = 0; i < 5 * CAPFILTER_MAX_HOLD; i++) {
		T_ASSERT(buf_add(&in, "x", 1) == 0);
	}
	T_ASSERT(buf_add_str(&in, "\"))\r\n* OK [CAPABILITY IMAP4rev1] x\r\n")
	    == 0);
	check_same(&imap_conf, none, buf_span(&in));
	buf_release(&in);
}

static void
t_imap_compress(void)
{
	struct capfilter	 f;
	struct buf		 in, out;
	const char		*err = NULL;

	/* Before the tagged OK, lines are filtered; after it, nothing is:
	 * the "compressed" bytes pass exactly. */
	check(&imap_conf, S("a COMPRESS DEFLATE\r\n"),
	    S("* CAPABILITY IMAP4rev1 STARTTLS\r\n"
	    "a OK DEFLATE active\r\n"
	    "* CAPABILITY IMAP4rev1 STARTTLS\r\n\x78\x9c{5}\r\n"),
	    S("* CAPABILITY IMAP4rev1\r\n"
	    "a OK DEFLATE active\r\n"
	    "* CAPABILITY IMAP4rev1 STARTTLS\r\n\x78\x9c{5}\r\n"), 0);
	/* Not COMPRESS: filtering goes on. */
	check(&imap_conf,
	    S("a COMPRESSX DEFLATE\r\nb COMPRES\r\nc X COMPRESS\r\n"),
	    S("a OK x\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n"),
	    S("a OK x\r\n* CAPABILITY IMAP4rev1\r\n"), 0);
	/* COMPRESS inside a client literal (APPEND data) is data. */
	check(&imap_conf,
	    S("a APPEND INBOX {20}\r\nb COMPRESS DEFLATE\r\n\r\n"),
	    S("a OK x\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n"),
	    S("a OK x\r\n* CAPABILITY IMAP4rev1\r\n"), 0);
	/* After the literal, the next command is seen again. */
	check(&imap_conf,
	    S("a APPEND INBOX {3+}\r\nabc\r\nb compress DEFLATE\r\n"),
	    S("a OK x\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n"),
	    S("a OK x\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n"), 0);
	/* A client literal too large to follow: give up at the next tag. */
	check(&imap_conf,
	    S("a APPEND INBOX {99999999999999999999999}\r\n"),
	    S("* CAPABILITY IMAP4rev1 STARTTLS\r\na NO x\r\n"
	    "* CAPABILITY IMAP4rev1 STARTTLS\r\n"),
	    S("* CAPABILITY IMAP4rev1\r\na NO x\r\n"
	    "* CAPABILITY IMAP4rev1 STARTTLS\r\n"), 0);
	/* The note is set once, and reading it clears it. */
	capfilter_init(&f, &imap_conf);
	buf_init(&in, BIG);
	buf_init(&out, BIG);
	T_EQ_INT(capfilter_client(&f, S("a COMPRESS DEFLATE\r\n"), &err), 0);
	T_ASSERT(buf_add_str(&in, "a OK go\r\n* CAPABILITY STARTTLS\r\n") == 0);
	T_EQ_INT(capfilter_feed(&f, &in, &out, &err), 0);
	T_ASSERT(capfilter_note(&f) != NULL);
	T_ASSERT(capfilter_note(&f) == NULL);
	T_EQ_INT(buf_len(&in), 0);
	T_EQ_INT(buf_len(&out), 32);
	capfilter_free(&f);
	buf_release(&in);
	buf_release(&out);
}

static void
t_imap_backpressure(void)
{
	struct capfilter	 f;
	struct buf		 in, out;
	const char		*err = NULL;

	/* Less than CAPFILTER_MAX_HOLD + 1 room: nothing is consumed. */
	capfilter_init(&f, &imap_conf);
	buf_init(&in, BIG);
	buf_init(&out, CAPFILTER_MAX_HOLD);
	T_ASSERT(buf_add_str(&in, "* CAPABILITY STARTTLS IDLE\r\n") == 0);
	T_EQ_INT(capfilter_feed(&f, &in, &out, &err), 0);
	T_EQ_INT(buf_len(&in), 28);
	T_EQ_INT(buf_len(&out), 0);
	/* Room for MAX_HOLD + 3: three bytes are consumed. */
	out.max = CAPFILTER_MAX_HOLD + 3;
	T_EQ_INT(capfilter_feed(&f, &in, &out, &err), 0);
	T_EQ_INT(buf_len(&in), 25);
	T_EQ_INT(capfilter_stripped(&f), 0);
	out.max = BIG;
	T_EQ_INT(capfilter_feed(&f, &in, &out, &err), 0);
	T_EQ_INT(buf_len(&in), 0);
	T_EQ_SPAN(buf_span(&out), "* CAPABILITY IDLE\r\n");
	T_EQ_INT(capfilter_stripped(&f), 1);
	/* After a failure every call fails. */
	T_ASSERT(buf_add_str(&in, "* 1 FETCH {99999999999999999999}\r\n") == 0);
	T_EQ_INT(capfilter_feed(&f, &in, &out, &err), -1);
	T_EQ_STR(err, "literal size does not fit in 64 bits");
	T_ASSERT(buf_add_str(&in, "x") == 0);
	T_EQ_INT(capfilter_feed(&f, &in, &out, &err), -1);
	T_EQ_INT(capfilter_client(&f, S("a NOOP\r\n"), &err), -1);
	capfilter_free(&f);
	buf_release(&in);
	buf_release(&out);
}

static void
t_imap_filter_line(void)
{
	struct buf	 out;
	const char	*err = NULL;

	buf_init(&out, 4096);
	T_EQ_INT(capfilter_filter_line(&imap_conf,
	    S("a1 OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE IDLE] "
	    "Logged in\r\n"),
	    &out, &err), 0);
	T_EQ_SPAN(buf_span(&out),
	    "a1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n");
	buf_reset(&out);
	T_EQ_INT(capfilter_filter_line(&imap_conf, S("a1 OK Logged in\r\n"),
	    &out, &err), 0);
	T_EQ_SPAN(buf_span(&out), "a1 OK Logged in\r\n");
	buf_reset(&out);
	/* Not exactly one line, or a line announcing a literal. */
	T_EQ_INT(capfilter_filter_line(&imap_conf, S("a1 OK x"), &out, &err),
	    -1);
	T_EQ_INT(capfilter_filter_line(&imap_conf, S(""), &out, &err), -1);
	T_EQ_INT(capfilter_filter_line(&imap_conf, S("a OK\r\nb OK\r\n"),
	    &out, &err), -1);
	T_EQ_INT(capfilter_filter_line(&imap_conf, S("* 1 FETCH {5}\r\n"),
	    &out, &err), -1);
	T_EQ_STR(err, "line did not end where expected");
	T_EQ_INT(buf_len(&out), 0);
	T_EQ_INT(capfilter_filter_line(&pop3_conf, S("-ERR x\r\n"), &out,
	    &err), -1);
	/* Output too small. */
	out.max = 10;
	T_EQ_INT(capfilter_filter_line(&imap_conf, S("a1 OK Logged in\r\n"),
	    &out, &err), -1);
	T_EQ_STR(err, "output buffer full");
	buf_release(&out);
}

/* ---- POP3 ------------------------------------------------------------ */

#define CAPA_LIST	"+OK Capability list follows\r\nTOP\r\nUSER\r\n" \
			"STLS\r\n" \
			"SASL PLAIN LOGIN\r\nRESP-CODES\r\nPIPELINING\r\n.\r\n"
#define CAPA_FILT	"+OK Capability list follows\r\nTOP\r\nUSER\r\n" \
			"RESP-CODES\r\nPIPELINING\r\n.\r\n"

static void
t_pop3_capa(void)
{
	check(&pop3_conf, S("CAPA\r\n"), S(CAPA_LIST), S(CAPA_FILT), 0);
	check(&pop3_conf, S("capa\n"), S(CAPA_LIST), S(CAPA_FILT), 0);
	/* -ERR to CAPA is one line; the next response is parsed again. */
	check(&pop3_conf, S("CAPA\r\nCAPA\r\n"),
	    S("-ERR no\r\n" CAPA_LIST),
	    S("-ERR no\r\n" CAPA_FILT), 0);
	/* Tags in any case, bare LF, dot-stuffed and empty lines. */
	check(&pop3_conf, S("CAPA\r\n"),
	    S("+OK\nstls\n.SASL X\n\nIMPLEMENTATION x\n.\n"),
	    S("+OK\n\nIMPLEMENTATION x\n.\n"), 0);
	/* Allow-list. */
	{
		struct capfilter_conf c;

		capfilter_conf_init(&c, CAPFILTER_POP3);
		add_rule(&c, CAPFILTER_ALLOW, "TOP");
		add_rule(&c, CAPFILTER_ALLOW, "UIDL");
		add_rule(&c, CAPFILTER_ALLOW, "SASL");
		check(&c, S("CAPA\r\n"),
		    S("+OK\r\nTOP\r\nUSER\r\nSASL PLAIN\r\nUIDL\r\n.\r\n"),
		    S("+OK\r\nTOP\r\nSASL PLAIN\r\nUIDL\r\n.\r\n"), 0);
	}
}

static void
t_pop3_retr(void)
{
	/* The same text as a message body passes byte-exact. */
	check_same(&pop3_conf, S("RETR 1\r\n"), S(CAPA_LIST));
	check_same(&pop3_conf, S("TOP 1 10\r\n"), S(CAPA_LIST));
	check_same(&pop3_conf, S("LIST\r\n"), S(CAPA_LIST));
	check_same(&pop3_conf, S("UIDL\r\n"), S(CAPA_LIST));
	/* Pipelined: body with stuffed dots and "+OK" lines, then CAPA. */
	check(&pop3_conf, S("RETR 1\r\nCAPA\r\nNOOP\r\n"),
	    S("+OK 9 octets\r\n+OK\r\nSTLS\r\n..\r\n.STLS\r\n.\r\r\n"
	    ".x\r\n.\r\n" CAPA_LIST "+OK\r\n"),
	    S("+OK 9 octets\r\n+OK\r\nSTLS\r\n..\r\n.STLS\r\n.\r\r\n"
	    ".x\r\n.\r\n" CAPA_FILT "+OK\r\n"), 0);
	/* RETR refused: one line, then the CAPA list. */
	check(&pop3_conf, S("RETR 9\r\nCAPA\r\n"),
	    S("-ERR no such message\r\n" CAPA_LIST),
	    S("-ERR no such message\r\n" CAPA_FILT), 0);
	/* Single-line commands, LIST n and UIDL n. */
	check(&pop3_conf,
	    S("STAT\r\nLIST 1\r\nUIDL 1\r\nDELE 1\r\nNOOP\r\nRSET\r\n"
	    "CAPA\r\nQUIT\r\n"),
	    S("+OK 1 2\r\n+OK 1 2\r\n+OK 1 x\r\n+OK\r\n+OK\r\n+OK\r\n"
	    CAPA_LIST "+OK bye\r\n"),
	    S("+OK 1 2\r\n+OK 1 2\r\n+OK 1 x\r\n+OK\r\n+OK\r\n+OK\r\n"
	    CAPA_FILT "+OK bye\r\n"), 0);
}

static void
t_pop3_unknown(void)
{
	/* +OK to an unknown command: framing unknown, identity from then. */
	check_same(&pop3_conf, S("XTND XMIT\r\nCAPA\r\n"),
	    S("+OK\r\nSTLS\r\n.\r\n" CAPA_LIST));
	check_same(&pop3_conf, S("CAPA x\r\n"), S(CAPA_LIST));
	check_same(&pop3_conf, S("LIST \r\n"), S(CAPA_LIST));
	check_same(&pop3_conf, S("\r\nCAPA\r\n"), S("+OK\r\n" CAPA_LIST));
	check_same(&pop3_conf, S("AUTH PLAIN\r\nCAPA\r\n"),
	    S("+ \r\n" CAPA_LIST));
	/* -ERR to an unknown command is one line: filtering goes on. */
	check(&pop3_conf, S("XTND\r\nCAPA\r\n"),
	    S("-ERR unknown\r\n" CAPA_LIST),
	    S("-ERR unknown\r\n" CAPA_FILT), 0);
}

static void
t_pop3_violations(void)
{
	/* Unsolicited: -ERR passes (idle logout), anything else cuts. */
	check_same(&pop3_conf, none, S("-ERR Disconnected for inactivity\r\n"));
	check(&pop3_conf, none, S("+OK surprise\r\n"), none, -1);
	check(&pop3_conf, S("NOOP\r\n"), S("+OK\r\n+OK\r\n"), S("+OK\r\n"),
	    -1);
	check(&pop3_conf, S("NOOP\r\n"), S("hello\r\n"), none, -1);
	check(&pop3_conf, S("RETR 1\r\nNOOP\r\n"),
	    S("+OK\r\nbody\r\n.\r\nbody\r\n"), S("+OK\r\nbody\r\n.\r\n"), -1);
}

static void
t_pop3_limits(void)
{
	struct buf	in, want, cmd;
	size_t		i;

	/* A CAPA line of POP3_MAX_REPLY bytes with its CRLF. */
	buf_init(&in, BIG);
	buf_init(&want, BIG);
	buf_init(&cmd, BIG);
	T_ASSERT(buf_add_str(&in, "+OK\r\nSASL ") == 0);
	for (i = 0; i < POP3_MAX_REPLY - 7; i++) {
		T_ASSERT(buf_add(&in, "x", 1) == 0);
	}
	T_ASSERT(buf_add_str(&in, "\r\nTOP\r\n.\r\n") == 0);
	check(&pop3_conf, S("CAPA\r\n"), buf_span(&in),
	    S("+OK\r\nTOP\r\n.\r\n"), 0);
	/* One past: cut. */
	buf_reset(&in);
	T_ASSERT(buf_add_str(&in, "+OK\r\nIMPL") == 0);
	for (i = 0; i < POP3_MAX_REPLY - 5; i++) {
		T_ASSERT(buf_add(&in, "x", 1) == 0);
	}
	T_ASSERT(buf_add_str(&in, "\r\n.\r\n") == 0);
	check(&pop3_conf, S("CAPA\r\n"), buf_span(&in), S("+OK\r\n"), -1);

	/* A client command of POP3_MAX_CMD bytes with its CRLF. */
	T_ASSERT(buf_add_str(&cmd, "NOOP ") == 0);
	for (i = 0; i < POP3_MAX_CMD - 7; i++) {
		T_ASSERT(buf_add(&cmd, "y", 1) == 0);
	}
	T_ASSERT(buf_add_str(&cmd, "\r\nCAPA\r\n") == 0);
	check(&pop3_conf, buf_span(&cmd), S("-ERR\r\n" CAPA_LIST),
	    S("-ERR\r\n" CAPA_FILT), 0);
	buf_reset(&cmd);
	T_ASSERT(buf_add_str(&cmd, "NOOP ") == 0);
	for (i = 0; i < POP3_MAX_CMD - 6; i++) {
		T_ASSERT(buf_add(&cmd, "y", 1) == 0);
	}
	T_ASSERT(buf_add_str(&cmd, "\r\n") == 0);
	check(&pop3_conf, buf_span(&cmd), S("-ERR\r\n"), none, -1);

	/* CAPFILTER_MAX_PENDING runs of pending responses, and one past. */
	buf_reset(&cmd);
	buf_reset(&in);
	for (i = 0; i < CAPFILTER_MAX_PENDING; i++) {
		T_ASSERT(buf_add_str(&cmd, i % 2 ? "NOOP\r\n" : "RETR 1\r\n")
		    == 0);
		T_ASSERT(buf_add_str(&in, i % 2 ? "+OK\r\n" :
		    "+OK\r\nx\r\n.\r\n") == 0);
	}
	check_same(&pop3_conf, buf_span(&cmd), buf_span(&in));
	T_ASSERT(buf_add_str(&cmd, "RETR 1\r\n") == 0);
	check(&pop3_conf, buf_span(&cmd), buf_span(&in), none, -1);
	/* Runs of one kind are counted, not stored: 10000 DELEs. */
	buf_reset(&cmd);
	buf_reset(&in);
	for (i = 0; i < 10000; i++) {
		T_ASSERT(buf_add_str(&cmd, "DELE 1\r\n") == 0);
		T_ASSERT(buf_add_str(&in, "+OK\r\n") == 0);
	}
	T_ASSERT(buf_add_str(&cmd, "CAPA\r\n") == 0);
	T_ASSERT(buf_add_str(&in, CAPA_LIST) == 0);
	{
		struct feed	fd;

		memset(&fd, 0, sizeof(fd));
		T_ASSERT(buf_add_span(&want, span_sub(buf_span(&in), 0,
		    50000)) == 0);
		T_ASSERT(buf_add_str(&want, CAPA_FILT) == 0);
		check_one(&pop3_conf, buf_span(&cmd), buf_span(&in),
		    buf_span(&want), 0, &fd, "dele");
		fd.cchunk = fd.bchunk = 1;
		check_one(&pop3_conf, buf_span(&cmd), buf_span(&in),
		    buf_span(&want), 0, &fd, "dele bytes");
	}
	buf_release(&in);
	buf_release(&want);
	buf_release(&cmd);
}

/* ---- identity over generated streams ---------------------------------- */

static uint32_t
prng(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Runs s through a fresh filter; returns how many bytes it holds. */
static size_t
held_after(const struct capfilter_conf *conf, struct span s)
{
	struct capfilter	 f;
	struct buf		 in, out;
	const char		*err = NULL;
	size_t			 held;

	capfilter_init(&f, conf);
	buf_init(&in, BIG);
	buf_init(&out, BIG);
	T_ASSERT(buf_add_span(&in, s) == 0);
	T_EQ_INT(capfilter_feed(&f, &in, &out, &err), 0);
	T_EQ_INT(buf_len(&in), 0);
	held = capfilter_held(&f);
	T_ASSERT(held <= CAPFILTER_MAX_HOLD);
	T_EQ_INT(buf_len(&out) + held, s.len);
	capfilter_free(&f);
	buf_release(&in);
	buf_release(&out);
	return held;
}

static void
t_identity_generated(void)
{
	static const char *const toks[] = {
		"* ", "a1 ", "OK ", "[CAPABILITY ", "CAPABILITY ", "IMAP4rev1 ",
		"X-NEVER-SEEN", " ", "]", "{3}", "~{2}", "{0}", "\r\n", "\n",
		"\r", "{", "}", "+", "x", "9", "(", "\"", "\xff",
	};
	struct buf	in;
	uint32_t	seed = 0x2545f491;
	size_t		round, i, k, held;

	buf_init(&in, BIG);
	for (round = 0; round < 300 && harness_failures == 0; round++) {
		buf_reset(&in);
		k = prng(&seed) % 60;
		for (i = 0; i < k; i++) {
			T_ASSERT(buf_add_str(&in, toks[prng(&seed) %
			    (sizeof(toks) / sizeof(toks[0]))]) == 0);
		}
		/* Output + held == input, the same for every chunking. */
		held = held_after(&none_conf, buf_span(&in));
		check(&none_conf, none, buf_span(&in),
		    span_sub(buf_span(&in), 0, buf_len(&in) - held), 0);
	}
	buf_release(&in);
}

/* ---- throughput ------------------------------------------------------ */

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Feeds the stream in 16 KB reads; prints MB/s. */
static void
bench_one(const char *label, const struct capfilter_conf *conf,
    struct span client, struct span stream)
{
	struct capfilter	 f;
	struct buf		 in, out;
	const char		*err = NULL;
	size_t			 pos = 0, n, total = 0;
	double			 t0, t;

	capfilter_init(&f, conf);
	buf_init(&in, 64 * 1024);
	buf_init(&out, 128 * 1024);
	T_EQ_INT(capfilter_client(&f, client, &err), 0);
	t0 = now();
	while (pos < stream.len) {
		n = stream.len - pos < 16384 ? stream.len - pos : 16384;
		T_ASSERT(buf_add_span(&in, span_sub(stream, pos, n)) == 0);
		pos += n;
		while (buf_len(&in) > 0) {
			if (capfilter_feed(&f, &in, &out, &err) == -1) {
				T_ASSERT(0);
				break;
			}
			total += buf_len(&out);
			buf_consume(&out, buf_len(&out));
		}
	}
	t = now() - t0;
	T_EQ_INT(total, stream.len);
	printf("capfilter bench: %s: %zu bytes in %.3f s = %.1f MB/s\n", label,
	    stream.len, t, t > 0 ? (double)stream.len / t / 1e6 : 0.0);
	capfilter_free(&f);
	buf_release(&in);
	buf_release(&out);
}

static void
t_bench(void)
{
	struct buf	s;
	size_t		i, msg;
	char		hdr[64];

	T_EQ_INT(strlen(BENCH_LINE), 64);
	buf_init(&s, BIG);
	/* 10 MB of FETCH responses with 100 KB literal bodies. */
	for (msg = 1; buf_len(&s) < BENCH_SIZE; msg++) {
		snprintf(hdr, sizeof(hdr),
		    "* %zu FETCH (UID %zu BODY[] {%d}\r\n", msg, msg,
		    100 * 1024);
		T_ASSERT(buf_add_str(&s, hdr) == 0);
		for (i = 0; i < 100 * 1024 / 64; i++) {
			T_ASSERT(buf_add_str(&s, BENCH_LINE) == 0);
		}
		T_ASSERT(buf_add_str(&s, ")\r\n") == 0);
	}
	T_ASSERT(buf_add_str(&s, "a1 OK done\r\n") == 0);
	bench_one("IMAP FETCH literals", &imap_conf, none, buf_span(&s));
	/* Worst case: 10 MB of short untagged lines, no literal. */
	buf_reset(&s);
	while (buf_len(&s) < BENCH_SIZE) {
		T_ASSERT(buf_add_str(&s, "* 1 FETCH (FLAGS (\\Seen) UID 1)\r\n")
		    == 0);
	}
	bench_one("IMAP short lines", &imap_conf, none, buf_span(&s));
	/* 10 MB POP3 RETR body (line by line, dot-aware). */
	buf_reset(&s);
	T_ASSERT(buf_add_str(&s, "+OK message follows\r\n") == 0);
	while (buf_len(&s) < BENCH_SIZE) {
		T_ASSERT(buf_add_str(&s, "STLS and some text of a message "
		    "line, 64 bytes long......\r\n") == 0);
	}
	T_ASSERT(buf_add_str(&s, ".\r\n") == 0);
	bench_one("POP3 RETR body", &pop3_conf, S("RETR 1\r\n"),
	    buf_span(&s));
	buf_release(&s);
}

static void
t_setup(void)
{
	setup();
	T_EQ_INT(imap_conf.nstrip, 4);
	T_EQ_INT(pop3_conf.nstrip, 2);
}

static const struct harness_case cases[] = {
	{ "setup", t_setup },
	{ "conf_rules", t_conf_rules },
	{ "conf_keep", t_conf_keep },
	{ "imap_untagged", t_imap_untagged },
	{ "imap_spaces", t_imap_spaces },
	{ "imap_code", t_imap_code },
	{ "imap_not_candidates", t_imap_not_candidates },
	{ "imap_literal", t_imap_literal },
	{ "imap_literal_huge", t_imap_literal_huge },
	{ "imap_odd_bytes", t_imap_odd_bytes },
	{ "imap_limits", t_imap_limits },
	{ "imap_long_lines", t_imap_long_lines },
	{ "imap_compress", t_imap_compress },
	{ "imap_backpressure", t_imap_backpressure },
	{ "imap_filter_line", t_imap_filter_line },
	{ "pop3_capa", t_pop3_capa },
	{ "pop3_retr", t_pop3_retr },
	{ "pop3_unknown", t_pop3_unknown },
	{ "pop3_violations", t_pop3_violations },
	{ "pop3_limits", t_pop3_limits },
	{ "identity_generated", t_identity_generated },
	{ "bench", t_bench },
};

HARNESS_MAIN("capfilter", cases)
