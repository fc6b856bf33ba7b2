/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests of the bench tools' parsers (benchproto.c).  A test program,
 * run unprivileged by make; trusts only itself.  Every input is also fed
 * one byte at a time and split at every position, and every limit is
 * tried at its value and one past it.
 */
#include <stdlib.h>
#include <string.h>

#include "benchproto.h"
#include "buf.h"
#include "../unit/harness.h"
#include "bailey_limits.h"

/* Event trace of a parser run: one letter per event, for comparison. */
struct trace {
	char	 ev[512];
	size_t	 n;
};

static void
trace_add(struct trace *t, char c)
{
	if (t->n + 1 < sizeof(t->ev)) {
		t->ev[t->n++] = c;
		t->ev[t->n] = '\0';
	}
}

/*
 * Feeds s to the IMAP command reader in pieces of at most step bytes
 * (step 0: first split at `split`, then the rest).  Events: 'C' a
 * continuation request, '1' a command (then its verb's first letter,
 * lower-cased), 'E' an error (and the feed stops).
 */
static void
feed_cmd(const char *s, size_t len, size_t step, size_t split,
    struct trace *t)
{
	struct bp_imap_cmd	 ic;
	struct buf		 in;
	const char		*errstr = NULL;
	size_t			 off = 0, n;
	int			 r, cont;

	memset(t, 0, sizeof(*t));
	buf_init(&in, 1 << 20);
	bp_imap_cmd_init(&ic);
	while (off < len) {
		n = step ? step : (off == 0 ? split : len - off);
		if (n > len - off) {
			n = len - off;
		}
		T_ASSERT(buf_add(&in, s + off, n) == 0);
		off += n;
		for (;;) {
			r = bp_imap_cmd_feed(&ic, &in, IMAP_MAX_LINE, &cont,
			    &errstr);
			if (cont) {
				trace_add(t, 'C');
			}
			if (r == -1) {
				trace_add(t, 'E');
				buf_release(&in);
				return;
			}
			if (r == 0) {
				break;
			}
			trace_add(t, '1');
			trace_add(t, (char)(ic.ic_verb[0] | 0x20));	/* lower */
			bp_imap_cmd_init(&ic);
		}
	}
	buf_release(&in);
}

/* The trace without its 'C' events (they depend on how bytes arrive). */
static const char *
strip_cont(const struct trace *t, char *dst, size_t dstsz)
{
	size_t	 i, n = 0;

	for (i = 0; i < t->n && n + 1 < dstsz; i++) {
		if (t->ev[i] != 'C') {
			dst[n++] = t->ev[i];
		}
	}
	dst[n] = '\0';
	return dst;
}

/*
 * Every way of cutting s gives the same commands; fed one byte at a time,
 * each synchronising literal asks for "+" exactly once (want_bytewise),
 * fed whole (the peer did not wait) never.
 */
static void
check_cmd_splits(const char *s, const char *want_bytewise)
{
	struct trace	 t;
	char		 want[512], got[512];
	size_t		 len = strlen(s), i;

	feed_cmd(s, len, 1, 0, &t);
	T_EQ_STR(t.ev, want_bytewise);
	strip_cont(&t, want, sizeof(want));
	feed_cmd(s, len, len, 0, &t);
	T_EQ_STR(t.ev, want);
	for (i = 1; i < len; i++) {
		feed_cmd(s, len, 0, i, &t);
		T_EQ_STR(strip_cont(&t, got, sizeof(got)), want);
	}
}

static void
test_literal_suffix(void)
{
	static const struct {
		const char	*line;
		int		 r;
		uint64_t	 n;
		int		 sync;
	} tab[] = {
		{ "a LOGIN {5}", 1, 5, 1 },
		{ "a LOGIN {5+}", 1, 5, 0 },
		{ "{0}", 1, 0, 1 },
		{ "{65536}", 1, 65536, 1 },
		{ "{65537}", -1, 0, 0 },
		{ "{99999999999999999999999}", -1, 0, 0 },
		{ "a LOGIN user pass", 0, 0, 0 },
		{ "{}", 0, 0, 0 },
		{ "{+}", 0, 0, 0 },
		{ "{a}", 0, 0, 0 },
		{ "{5}x", 0, 0, 0 },
		{ "5}", 0, 0, 0 },
		{ "}", 0, 0, 0 },
		{ "", 0, 0, 0 },
		{ "{5++}", 0, 0, 0 },
	};
	size_t		 i;
	uint64_t	 n;
	int		 sync, r;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		n = 12345;
		sync = -1;
		r = bp_literal_suffix(span_from_str(tab[i].line),
		    BP_MAX_CMD_LITERAL, &n, &sync);
		T_EQ_INT(r, tab[i].r);
		if (r == 1) {
			T_EQ_INT(n, tab[i].n);
			T_EQ_INT(sync, tab[i].sync);
		}
	}
}

static void
test_token(void)
{
	struct span	 rest, tok;

	tok = bp_token(span_from_str("a1 LOGIN x"), &rest);
	T_EQ_SPAN(tok, "a1");
	T_EQ_SPAN(rest, "LOGIN x");
	tok = bp_token(rest, &rest);
	T_EQ_SPAN(tok, "LOGIN");
	tok = bp_token(rest, &rest);
	T_EQ_SPAN(tok, "x");
	T_EQ_INT(rest.len, 0);
}

static void
test_cmd_simple(void)
{
	struct bp_imap_cmd	 ic;
	struct buf		 in;
	const char		*errstr = NULL;
	int			 cont;

	buf_init(&in, 4096);
	bp_imap_cmd_init(&ic);
	T_ASSERT(buf_add_str(&in, "a1 login User pass\r\nb2 Fe") == 0);
	T_EQ_INT(bp_imap_cmd_feed(&ic, &in, IMAP_MAX_LINE, &cont, &errstr), 1);
	T_EQ_STR(ic.ic_tag, "a1");
	T_EQ_STR(ic.ic_verb, "LOGIN");
	T_EQ_STR(ic.ic_arg1, "USER");
	T_EQ_INT(ic.ic_nargs, 2);
	T_EQ_INT(cont, 0);
	bp_imap_cmd_init(&ic);
	T_EQ_INT(bp_imap_cmd_feed(&ic, &in, IMAP_MAX_LINE, &cont, &errstr), 0);
	T_EQ_INT(buf_len(&in), 5);
	buf_release(&in);
	check_cmd_splits("a1 LOGIN u p\r\nb2 LOGOUT\r\n", "1l1l");
	check_cmd_splits("a1 NOOP\nb CAPABILITY\n", "1n1c");
}

static void
test_cmd_literals(void)
{
	check_cmd_splits("a2 LOGIN {4}\r\nuser {4}\r\npass\r\n", "CC1l");
	check_cmd_splits("a2 LOGIN {4+}\r\nuser {4+}\r\npass\r\n", "1l");
	/* Literal bytes are never parsed: a CRLF inside one is data. */
	check_cmd_splits("a3 LOGIN {6+}\r\nu\r\nx\r\n {0}\r\n\r\nz NOOP\r\n",
	    "C1l1n");
	/* A split right after the announcement: exactly one "+". */
	{
		struct trace	 t;
		const char	*s = "a LOGIN {1}\r\nu {1}\r\np\r\n";

		feed_cmd(s, strlen(s), 0, 13, &t);
		T_EQ_STR(t.ev, "C1l");
	}
	check_cmd_splits("a AUTHENTICATE PLAIN\r\n", "1a");
}

static void
test_cmd_errors(void)
{
	struct trace	 t;
	char		 tag[BP_MAX_TAG + 16];

	check_cmd_splits("\r\n", "E");
	check_cmd_splits("a1\r\n", "E");
	check_cmd_splits("a1 LOGIN {65537}\r\n", "E");
	check_cmd_splits("a1 LOGIN {65536+}\r\n", "");
	/* Tag: 64 characters pass, 65 do not. */
	memset(tag, 't', sizeof(tag));
	memcpy(tag + BP_MAX_TAG, " NOOP\r\n", 8);
	feed_cmd(tag, strlen(tag), 7, 0, &t);
	T_EQ_STR(t.ev, "1n");
	memset(tag, 't', sizeof(tag));
	memcpy(tag + BP_MAX_TAG + 1, " NOOP\r\n", 8);
	feed_cmd(tag, strlen(tag), 7, 0, &t);
	T_EQ_STR(t.ev, "E");
}

/* A command line of total length len (including CRLF). */
static char *
long_line(size_t len)
{
	char	*s = malloc(len + 1);

	if (s == NULL) {
		abort();
	}
	memset(s, 'x', len);
	memcpy(s, "a NOOP ", 7);
	memcpy(s + len - 2, "\r\n", 3);
	return s;
}

static void
test_cmd_line_limit(void)
{
	struct trace	 t;
	char		*s;

	s = long_line(IMAP_MAX_LINE);
	feed_cmd(s, IMAP_MAX_LINE, 1000, 0, &t);
	T_EQ_STR(t.ev, "1n");
	free(s);
	s = long_line(IMAP_MAX_LINE + 1);
	feed_cmd(s, IMAP_MAX_LINE + 1, 1000, 0, &t);
	T_EQ_STR(t.ev, "E");
	free(s);
}

/*
 * Feeds s to the response reader; events: 'L' a line (first byte after
 * it), 'E' error.  Ends with the literal byte count as digits.
 */
static void
feed_resp(const char *s, size_t len, size_t step, size_t split, size_t max,
    int literals, struct trace *t)
{
	struct bp_resp	 rr;
	struct buf	 in;
	struct span	 line;
	const char	*errstr = NULL;
	size_t		 off = 0, n, used;
	int		 r;
	char		 num[32];

	memset(t, 0, sizeof(*t));
	buf_init(&in, 1 << 20);
	bp_resp_init(&rr, literals);
	while (off < len) {
		n = step ? step : (off == 0 ? split : len - off);
		if (n > len - off) {
			n = len - off;
		}
		T_ASSERT(buf_add(&in, s + off, n) == 0);
		off += n;
		while ((r = bp_resp_next(&rr, &in, max, &line, &used,
		    &errstr)) == 1) {
			trace_add(t, 'L');
			trace_add(t, line.len ? (char)span_byte(line, 0) : '-');
			buf_consume(&in, used);
		}
		if (r == -1) {
			trace_add(t, 'E');
			break;
		}
	}
	(void)snprintf(num, sizeof(num), "%llu",
	    (unsigned long long)rr.rr_lit_bytes);
	for (n = 0; num[n] != '\0'; n++) {
		trace_add(t, num[n]);
	}
	buf_release(&in);
}

static void
check_resp_splits(const char *s, int literals, const char *want)
{
	struct trace	 t;
	size_t		 len = strlen(s), i;

	feed_resp(s, len, len, 0, 8192, literals, &t);
	T_EQ_STR(t.ev, want);
	feed_resp(s, len, 1, 0, 8192, literals, &t);
	T_EQ_STR(t.ev, want);
	for (i = 1; i < len; i++) {
		feed_resp(s, len, 0, i, 8192, literals, &t);
		T_EQ_STR(t.ev, want);
	}
}

static void
test_resp(void)
{
	check_resp_splits("* OK hi\r\nL OK done\r\n", 1, "L*LL0");
	check_resp_splits("* 1 FETCH (BODY[] {9}\r\nab\r\n{2}\r\n)\r\n"
	    "F OK x\r\n", 1, "L*L)LF9");
	/* Without literals (POP3) braces are just text. */
	check_resp_splits("+OK {3}\r\nabc\r\n.\r\n", 0, "L+LaL.0");
	check_resp_splits("* x {0}\r\n\r\n", 1, "L*L-0");
}

static void
test_resp_limits(void)
{
	struct trace	 t;
	char		 big[64];
	char		*s;

	s = long_line(8192);
	feed_resp(s, 8192, 100, 0, 8192, 1, &t);
	T_EQ_STR(t.ev, "La0");
	free(s);
	s = long_line(8193);
	feed_resp(s, 8193, 100, 0, 8192, 1, &t);
	T_EQ_STR(t.ev, "E0");
	free(s);
	(void)snprintf(big, sizeof(big), "* {%llu}\r\n",
	    (unsigned long long)BP_MAX_RESP_LITERAL);
	feed_resp(big, strlen(big), 3, 0, 8192, 1, &t);
	T_EQ_STR(t.ev, "L*0");
	(void)snprintf(big, sizeof(big), "* {%llu}\r\n",
	    (unsigned long long)BP_MAX_RESP_LITERAL + 1);
	feed_resp(big, strlen(big), 3, 0, 8192, 1, &t);
	T_EQ_STR(t.ev, "E0");
}

static void
test_resp_skipped(void)
{
	struct bp_resp	 rr;
	struct buf	 in;
	struct span	 line;
	const char	*errstr = NULL;
	size_t		 used;

	buf_init(&in, 4096);
	bp_resp_init(&rr, 1);
	T_EQ_INT(bp_resp_literal_left(&rr), 0);
	T_ASSERT(buf_add_str(&in, "* 1 FETCH {10}\r\n") == 0);
	T_EQ_INT(bp_resp_next(&rr, &in, 100, &line, &used, &errstr), 1);
	buf_consume(&in, used);
	T_EQ_INT(bp_resp_literal_left(&rr), 10);
	bp_resp_literal_skipped(&rr, 4);
	T_EQ_INT(bp_resp_literal_left(&rr), 6);
	bp_resp_literal_skipped(&rr, 100);	/* clamped */
	T_EQ_INT(bp_resp_literal_left(&rr), 0);
	T_EQ_INT(rr.rr_lit_bytes, 10);
	T_ASSERT(buf_add_str(&in, "F OK\r\n") == 0);
	T_EQ_INT(bp_resp_next(&rr, &in, 100, &line, &used, &errstr), 1);
	T_EQ_SPAN(line, "F OK");
	buf_release(&in);
}

/* Feeds an auth_http request; returns "1<proto>", "0" or "E". */
static void
feed_http(const char *s, size_t len, size_t step, size_t split,
    struct trace *t)
{
	struct bp_http	 hh;
	struct buf	 in;
	const char	*errstr = NULL;
	size_t		 off = 0, n;
	int		 r = 0;

	memset(t, 0, sizeof(*t));
	buf_init(&in, 1 << 20);
	bp_http_init(&hh);
	while (off < len && r == 0) {
		n = step ? step : (off == 0 ? split : len - off);
		if (n > len - off) {
			n = len - off;
		}
		T_ASSERT(buf_add(&in, s + off, n) == 0);
		off += n;
		r = bp_http_feed(&hh, &in, &errstr);
	}
	if (r == 1) {
		trace_add(t, '1');
		trace_add(t, (char)('0' + hh.hh_proto));
	} else {
		trace_add(t, r == 0 ? '0' : 'E');
	}
	buf_release(&in);
}

static void
check_http_splits(const char *s, const char *want)
{
	struct trace	 t;
	size_t		 len = strlen(s), i;

	feed_http(s, len, len, 0, &t);
	T_EQ_STR(t.ev, want);
	feed_http(s, len, 1, 0, &t);
	T_EQ_STR(t.ev, want);
	for (i = 1; i < len; i++) {
		feed_http(s, len, 0, i, &t);
		T_EQ_STR(t.ev, want);
	}
}

static void
test_http(void)
{
	check_http_splits("GET /auth HTTP/1.0\r\nHost: x\r\nAuth-Protocol: "
	    "imap\r\nAuth-User: u\r\n\r\n", "11");
	check_http_splits("GET /auth HTTP/1.0\r\nauth-protocol:  POP3 \r\n\r\n",
	    "12");
	check_http_splits("GET / HTTP/1.0\r\n\r\n", "10");
	check_http_splits("GET / HTTP/1.0\r\nAuth-Protocol: x\r\n", "0");
	check_http_splits("POST / HTTP/1.0\r\n\r\n", "E");
}

static void
test_http_limits(void)
{
	struct trace	 t;
	char		*s;
	size_t		 len, i;

	/* A header line of BP_HTTP_MAX_LINE bytes passes, one more fails. */
	for (i = 0; i < 2; i++) {
		len = 16 + BP_HTTP_MAX_LINE + i + 2;
		s = malloc(len + 1);
		T_ASSERT(s != NULL);
		memset(s, 'x', len);
		memcpy(s, "GET / HTTP/1.0\r\n", 16);
		memcpy(s + 16 + BP_HTTP_MAX_LINE + i - 2, "\r\n\r\n", 5);
		feed_http(s, len, 64, 0, &t);
		T_EQ_STR(t.ev, i == 0 ? "10" : "E");
		free(s);
	}
	/* The whole head: exactly BP_HTTP_MAX_HEAD passes, one more fails. */
	for (i = 0; i < 2; i++) {
		len = BP_HTTP_MAX_HEAD + i;
		s = malloc(len + 1);
		T_ASSERT(s != NULL);
		memset(s, 'h', len);
		memcpy(s, "GET / HTTP/1.0\r\n", 16);
		for (len = 16 + 500; len + 4 < BP_HTTP_MAX_HEAD + i;
		    len += 500) {
			memcpy(s + len - 2, "\r\n", 2);
		}
		len = BP_HTTP_MAX_HEAD + i;
		memcpy(s + len - 4, "\r\n\r\n", 4);
		s[len] = '\0';
		feed_http(s, len, 333, 0, &t);
		T_EQ_STR(t.ev, i == 0 ? "10" : "E");
		free(s);
	}
}

static const struct harness_case cases[] = {
	{ "literal_suffix", test_literal_suffix },
	{ "token", test_token },
	{ "cmd_simple", test_cmd_simple },
	{ "cmd_literals", test_cmd_literals },
	{ "cmd_errors", test_cmd_errors },
	{ "cmd_line_limit", test_cmd_line_limit },
	{ "resp", test_resp },
	{ "resp_limits", test_resp_limits },
	{ "resp_skipped", test_resp_skipped },
	{ "http", test_http },
	{ "http_limits", test_http_limits },
};

HARNESS_MAIN("benchproto", cases)
