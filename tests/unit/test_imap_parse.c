/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests for gateway/imap_parse.c.  Runs as a plain test process with
 * the invoking user's privilege; it trusts the parser under test for
 * nothing and checks every result.  Each input is fed whole, split at
 * every position (or at sampled positions for the very large ones) and one
 * byte at a time; the rendered sequence of results must be the same each
 * way.  Threat-row cases are named after their row in threats.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "harness.h"
#include "imap_parse.h"
#include "bailey_limits.h"

#define IN(s)		(const uint8_t *)(s), sizeof(s) - 1
#define LM		IMAP_PARSE_LITERAL_MINUS
#define RENDER_MAX	(1024 * 1024)
#define GEN_MAX		(4 * 1024 * 1024)
#define RUN_MIN		8	/* runs this long render as c*N */

struct pcase {
	const char	*name;
	const uint8_t	*in;
	size_t		 len;
	unsigned	 flags;
	const char	*want;
};

/* One byte, escaped so that the rendering is unambiguous. */
static void
render_byte(struct buf *out, uint8_t c)
{
	if (c >= 0x20 && c < 0x7f && c != '\\' && c != ']' && c != '*') {
		T_ASSERT(buf_add(out, &c, 1) == 0);
	} else {
		T_ASSERT(buf_addf(out, "\\x%02x", c) == 0);
	}
}

/* Bytes with runs of RUN_MIN or more written as c*N. */
static void
render_span(struct buf *out, struct span s)
{
	size_t	i = 0, j;

	while (i < s.len) {
		j = i;
		while (j < s.len && span_byte(s, j) == span_byte(s, i)) {
			j++;
		}
		render_byte(out, span_byte(s, i));
		if (j - i >= RUN_MIN) {
			T_ASSERT(buf_addf(out, "*%zu", j - i) == 0);
		} else {
			for (i = i + 1; i < j; i++) {
				render_byte(out, span_byte(s, i));
			}
		}
		i = j;
	}
}

/* Structural checks that must hold after every call. */
static void
check_invariants(const struct imap_parser *p)
{
	size_t	i, dlen = buf_len(&p->data);

	T_ASSERT(p->nargs <= IMAP_MAX_ARGS);
	T_ASSERT(p->data.cap <= IMAP_MAX_CMD_BYTES);
	T_ASSERT(p->tag.len <= IMAP_MAX_TAG);
	T_ASSERT(p->line_len <= IMAP_MAX_LINE + 1);
	T_ASSERT(p->depth <= IMAP_MAX_DEPTH);
	T_ASSERT(p->tag.off + p->tag.len <= dlen);
	T_ASSERT(p->verb.off + p->verb.len <= dlen);
	for (i = 0; i < p->nargs; i++) {
		T_ASSERT(p->args[i].off <= dlen);
		T_ASSERT(p->args[i].len <= dlen - p->args[i].off);
	}
}

static void
render_cmd(struct buf *out, const struct imap_parser *p)
{
	static const char *const open[] = {
		[IMAP_TOK_ATOM] = " A[",
		[IMAP_TOK_STRING] = " S[",
		[IMAP_TOK_NIL] = " N[",
	};
	enum imap_tok	t;
	size_t		i;

	T_ASSERT(imap_has_tag(p));
	T_ASSERT(buf_add_str(out, "CMD ") == 0);
	render_span(out, imap_tag(p));
	T_ASSERT(buf_add_str(out, " ") == 0);
	render_span(out, imap_verb(p));
	for (i = 0; i < imap_nargs(p); i++) {
		t = imap_arg_type(p, i);
		if (t == IMAP_TOK_LIST_START || t == IMAP_TOK_LIST_END) {
			T_ASSERT(imap_arg(p, i).len == 0);
			T_ASSERT(buf_add_str(out,
			    t == IMAP_TOK_LIST_START ? " (" : " )") == 0);
			continue;
		}
		T_ASSERT(buf_add_str(out, open[t]) == 0);
		render_span(out, imap_arg(p, i));
		T_ASSERT(buf_add_str(out, "]") == 0);
	}
}

static void
render_event(struct buf *out, const struct imap_parser *p, enum imap_rc rc)
{
	if (buf_len(out) > 0) {
		T_ASSERT(buf_add_str(out, " | ") == 0);
	}
	switch (rc) {
	case IMAP_RC_CONTINUE:
		T_ASSERT(buf_add_str(out, "+") == 0);
		break;
	case IMAP_RC_CMD:
		render_cmd(out, p);
		break;
	case IMAP_RC_BAD:
		T_ASSERT(imap_error(p) != NULL);
		T_ASSERT(buf_add_str(out, "BAD ") == 0);
		if (imap_has_tag(p)) {
			render_span(out, imap_tag(p));
		} else {
			T_ASSERT(imap_tag(p).len == 0);
			T_ASSERT(buf_add_str(out, "*") == 0);
		}
		break;
	case IMAP_RC_FATAL:
		T_ASSERT(imap_error(p) != NULL);
		T_ASSERT(buf_add_str(out, "FATAL") == 0);
		break;
	default:
		T_ASSERT(!"unexpected rc");
		break;
	}
}

/*
 * Feeds in[0..len) in chunks of chunk bytes (0: whole), except that with
 * split > 0 the chunks are [0, split) and [split, len).  Renders every
 * result but MORE into out.  Returns the final rc.
 */
static enum imap_rc
feed(const uint8_t *in, size_t len, unsigned flags, size_t chunk,
    size_t split, struct buf *out)
{
	struct imap_parser	p;
	struct buf		b;
	enum imap_rc		rc = IMAP_RC_MORE;
	size_t			pos = 0, n;

	imap_parser_init(&p, flags);
	buf_init(&b, GEN_MAX);
	buf_init(out, RENDER_MAX);
	while (pos < len && rc != IMAP_RC_FATAL) {
		n = len - pos;
		if (split > 0) {
			n = pos < split ? split - pos : n;
		} else if (chunk > 0 && chunk < n) {
			n = chunk;
		}
		T_ASSERT(buf_add_span(&b, span_sub((struct span){ in, len },
		    pos, n)) == 0);
		pos += n;
		do {
			rc = imap_parse(&p, &b);
			check_invariants(&p);
			if (rc != IMAP_RC_MORE) {
				render_event(out, &p, rc);
			}
		} while (rc != IMAP_RC_MORE && rc != IMAP_RC_FATAL);
		if (rc == IMAP_RC_MORE) {
			T_EQ_INT(buf_len(&b), 0);
		}
	}
	if (rc == IMAP_RC_FATAL) {
		/* FATAL is sticky and consumes nothing more. */
		T_EQ_INT(imap_parse(&p, &b), IMAP_RC_FATAL);
	}
	imap_parser_free(&p);
	buf_release(&b);
	return rc;
}

static int
same(const char *name, const char *mode, size_t at, struct buf *out,
    const char *want)
{
	if (buf_len(out) == strlen(want) &&
	    memcmp(buf_ptr(out), want, buf_len(out)) == 0) {
		return 1;
	}
	fprintf(stderr, "  case %s (%s %zu):\n    got  \"%.*s\"\n"
	    "    want \"%s\"\n", name, mode, at, (int)buf_len(out),
	    (const char *)buf_ptr(out), want);
	harness_failures++;
	return 0;
}

/* Whole, one byte at a time, and split at every position (or sampled). */
static void
check_input(const char *name, const uint8_t *in, size_t len, unsigned flags,
    const char *want)
{
	struct buf	out;
	size_t		k, step = 1;

	feed(in, len, flags, 0, 0, &out);
	same(name, "whole", 0, &out, want);
	buf_release(&out);
	feed(in, len, flags, 1, 0, &out);
	same(name, "bytewise", 0, &out, want);
	buf_release(&out);
	if (len > 2048) {
		step = len / 97 + 1;
	}
	for (k = 1; k < len; k += step) {
		feed(in, len, flags, 0, k, &out);
		if (!same(name, "split", k, &out, want)) {
			buf_release(&out);
			break;
		}
		buf_release(&out);
	}
	/* An odd chunk size exercises boundaries the splits may skip. */
	feed(in, len, flags, 7, 0, &out);
	same(name, "chunk7", 0, &out, want);
	buf_release(&out);
}

static void
run_table(const struct pcase *t, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		check_input(t[i].name, t[i].in, t[i].len, t[i].flags,
		    t[i].want);
	}
}

#define RUN_TABLE(t)	run_table(t, sizeof(t) / sizeof(t[0]))

/* Generated inputs: a growing buffer of pieces. */
static void
gen_rep(struct buf *g, const char *piece, size_t times)
{
	size_t	i;

	for (i = 0; i < times; i++) {
		T_ASSERT(buf_add_str(g, piece) == 0);
	}
}

/* Expected text: pre + n * piece + post, NUL-terminated in w. */
static const char *
want_rep(struct buf *w, const char *pre, const char *piece, size_t n,
    const char *post)
{
	buf_init(w, RENDER_MAX);
	T_ASSERT(buf_add_str(w, pre) == 0);
	gen_rep(w, piece, n);
	T_ASSERT(buf_add_str(w, post) == 0);
	T_ASSERT(buf_add(w, "", 1) == 0);
	return (const char *)buf_ptr(w);
}

static void
check_gen(const char *name, struct buf *g, unsigned flags, const char *want)
{
	check_input(name, buf_ptr(g), buf_len(g), flags, want);
	buf_release(g);
}

/* ---- basic grammar ---------------------------------------------------- */

static const struct pcase basic_cases[] = {
	{ "noop", IN("a NOOP\r\n"), 0, "CMD a NOOP" },
	{ "bare_lf", IN("a NOOP\n"), 0, "CMD a NOOP" },
	{ "verb_as_sent", IN("a1 nOoP\r\n"), 0, "CMD a1 nOoP" },
	{ "tag_bracket", IN("x]y CAPABILITY\r\n"), 0,
	    "CMD x\\x5dy CAPABILITY" },
	{ "login_atoms", IN("a LOGIN user pass\r\n"), 0,
	    "CMD a LOGIN A[user] A[pass]" },
	{ "login_quoted", IN("a LOGIN \"us er\" \"p\\\\w\\\"d\"\r\n"), 0,
	    "CMD a LOGIN S[us er] S[p\\x5cw\"d]" },
	{ "empty_quoted", IN("a LOGIN \"\" \"\"\r\n"), 0,
	    "CMD a LOGIN S[] S[]" },
	{ "atom_bracket", IN("a X a]b\r\n"), 0, "CMD a X A[a\\x5db]" },
	{ "nil", IN("a ID NIL\r\n"), 0, "CMD a ID N[NIL]" },
	{ "nil_lower", IN("a ID nil\r\n"), 0, "CMD a ID N[nil]" },
	{ "nil_quoted", IN("a ID \"NIL\"\r\n"), 0, "CMD a ID S[NIL]" },
	{ "nil_prefix", IN("a ID NILS\r\n"), 0, "CMD a ID A[NILS]" },
	{ "base64", IN("a AUTHENTICATE PLAIN AGEAYg==\r\n"), 0,
	    "CMD a AUTHENTICATE A[PLAIN] A[AGEAYg==]" },
	{ "sasl_ir_empty", IN("a AUTHENTICATE PLAIN =\r\n"), 0,
	    "CMD a AUTHENTICATE A[PLAIN] A[=]" },
	{ "pipelined", IN("a NOOP\r\nb CAPABILITY\nc LOGOUT\r\n"), 0,
	    "CMD a NOOP | CMD b CAPABILITY | CMD c LOGOUT" },
	{ "partial_pending", IN("a NOOP\r\nb NO"), 0, "CMD a NOOP" },
	{ "empty_input", IN(""), 0, "" },
};

static const struct pcase list_cases[] = {
	{ "id_list", IN("a ID (\"name\" \"x\" \"version\" NIL)\r\n"), 0,
	    "CMD a ID ( S[name] S[x] S[version] N[NIL] )" },
	{ "empty_list", IN("a ID ()\r\n"), 0, "CMD a ID ( )" },
	{ "depth2", IN("a X ((b) c)\r\n"), 0, "CMD a X ( ( A[b] ) A[c] )" },
	{ "depth3", IN("a X (((b)))\r\nb NOOP\r\n"), 0, "BAD a | CMD b NOOP" },
	{ "close_unbalanced", IN("a X b)\r\n"), 0, "BAD a" },
	{ "close_after_verb", IN("a X)\r\n"), 0, "BAD a" },
	{ "unclosed", IN("a X (b\r\nc NOOP\r\n"), 0, "BAD a | CMD c NOOP" },
	{ "space_after_open", IN("a X ( b)\r\n"), 0, "BAD a" },
	{ "space_before_close", IN("a X (b )\r\n"), 0, "BAD a" },
	{ "list_after_list", IN("a X ()()\r\n"), 0, "BAD a" },
	{ "quoted_then_list", IN("a X (\"a\"\"b\")\r\n"), 0, "BAD a" },
	{ "open_no_space", IN("a X b(c)\r\n"), 0, "BAD a" },
	{ "two_lists", IN("a X (b) (c)\r\n"), 0,
	    "CMD a X ( A[b] ) ( A[c] )" },
};

static const struct pcase literal_cases[] = {
	{ "sync", IN("a LOGIN {4}\r\nuser {4}\r\npass\r\n"), 0,
	    "+ | + | CMD a LOGIN S[user] S[pass]" },
	{ "sync_lf", IN("a LOGIN {4}\nuser pass\n"), 0,
	    "+ | CMD a LOGIN S[user] A[pass]" },
	{ "sync_nul_inside", IN("a LOGIN {3}\r\na\0b x\r\n"), 0,
	    "+ | CMD a LOGIN S[a\\x00b] A[x]" },
	{ "sync_crlf_inside", IN("a X {4}\r\n\r\n\r\n\r\n"), 0,
	    "+ | CMD a X S[\\x0d\\x0a\\x0d\\x0a]" },
	{ "sync_8bit_inside", IN("a X {2}\r\n\xff\x80\r\n"), 0,
	    "+ | CMD a X S[\\xff\\x80]" },
	{ "in_list", IN("a ID ({1}\r\nx)\r\n"), 0, "+ | CMD a ID ( S[x] )" },
	{ "then_next", IN("a X {1}\r\nx\r\nb NOOP\r\n"), 0,
	    "+ | CMD a X S[x] | CMD b NOOP" },
	{ "minus", IN("a LOGIN {4+}\r\nuser x\r\n"), LM,
	    "CMD a LOGIN S[user] A[x]" },
	{ "minus_zero", IN("a LOGIN {0+}\r\n x\r\n"), LM,
	    "CMD a LOGIN S[] A[x]" },
	{ "minus_not_enabled", IN("a LOGIN {4+}\r\nuser x\r\n"), 0, "FATAL" },
	{ "empty_digits", IN("a X {}\r\nb NOOP\r\n"), 0, "BAD a | CMD b NOOP" },
	{ "plus_only", IN("a X {+}\r\n"), LM, "BAD a" },
	{ "plus_then_junk", IN("a X {1+x}\r\nb NOOP\r\n"), LM,
	    "BAD a | CMD b NOOP" },
	{ "letter", IN("a X {1a}\r\n"), 0, "BAD a" },
	{ "space_inside", IN("a X { 1}\r\n"), 0, "BAD a" },
	{ "junk_after", IN("a X {1}x\r\n"), 0, "BAD a" },
	{ "cr_junk_after", IN("a X {1}\rx\n"), 0, "BAD a" },
	{ "space_after", IN("a X {1} \r\n"), 0, "BAD a" },
	{ "as_verb", IN("a {4}\r\nNOOP\r\n"), 0, "BAD a | BAD NOOP" },
	{ "as_tag", IN("{1}\r\n"), 0, "BAD *" },
	{ "mid_atom", IN("a X ab{1}\r\n"), 0, "BAD a" },
	{ "then_close_then_eol", IN("a ID (x {2}\r\nyz)\r\n"), 0,
	    "+ | CMD a ID ( A[x] S[yz] )" },
};

static const struct pcase error_cases[] = {
	{ "bad_then_good", IN("a N\x80OOP\r\nb NOOP\r\n"), 0,
	    "BAD a | CMD b NOOP" },
	{ "bare_cr_verb", IN("a NO\rOP\r\nb NOOP\r\n"), 0,
	    "BAD a | CMD b NOOP" },
	{ "cr_cr_lf", IN("a NOOP\r\r\nb NOOP\r\n"), 0, "BAD a | CMD b NOOP" },
	{ "bare_cr_arg", IN("a X b\rc\r\n"), 0, "BAD a" },
	{ "nul_verb", IN("a NO\0OP\r\n"), 0, "BAD a" },
	{ "nul_atom", IN("a X b\0c\r\n"), 0, "BAD a" },
	{ "nul_after_cr", IN("a X\r\0\n"), 0, "BAD a" },
	{ "trailing_space", IN("a NOOP \r\n"), 0, "BAD a" },
	{ "double_space", IN("a  NOOP\r\n"), 0, "BAD a" },
	{ "double_space_args", IN("a X b  c\r\n"), 0, "BAD a" },
	{ "tag_only", IN("a\r\n"), 0, "BAD a" },
	{ "tag_only_lf", IN("a\nb NOOP\n"), 0, "BAD a | CMD b NOOP" },
	{ "tag_space_eol", IN("a \r\n"), 0, "BAD a" },
	{ "empty_line", IN("\r\n"), 0, "BAD *" },
	{ "empty_line_lf", IN("\nb NOOP\r\n"), 0, "BAD * | CMD b NOOP" },
	{ "leading_space", IN(" NOOP\r\n"), 0, "BAD *" },
	{ "tab_sep", IN("a\tNOOP\r\n"), 0, "BAD *" },
	{ "verb_bracket", IN("a NO]OP\r\n"), 0, "BAD a" },
	{ "verb_quote", IN("a \"NOOP\"\r\n"), 0, "BAD a" },
	{ "bad_escape", IN("a X \"\\a\"\r\n"), 0, "BAD a" },
	{ "quoted_cr", IN("a X \"a\rb\"\r\nb NOOP\r\n"), 0,
	    "BAD a | CMD b NOOP" },
	{ "quoted_lf", IN("a X \"ab\nc NOOP\r\n"), 0, "BAD a | CMD c NOOP" },
	{ "quoted_nul", IN("a X \"a\0b\"\r\n"), 0, "BAD a" },
	{ "quoted_then_atom", IN("a X \"a\"b\r\n"), 0, "BAD a" },
	{ "quoted_unterminated", IN("a X \"abc\r\n"), 0, "BAD a" },
	{ "atom_specials", IN("a X b%c\r\n"), 0, "BAD a" },
	{ "atom_star", IN("a X *\r\n"), 0, "BAD a" },
	{ "atom_brace", IN("a X b{c\r\n"), 0, "BAD a" },
	{ "atom_del", IN("a X b\x7f\r\n"), 0, "BAD a" },
	{ "bad_pipelined_twice", IN("\x80\r\n\x81\nc NOOP\n"), 0,
	    "BAD * | BAD * | CMD c NOOP" },
};

static void
test_basic(void)
{
	RUN_TABLE(basic_cases);
}

static void
test_lists(void)
{
	RUN_TABLE(list_cases);
}

static void
test_literals(void)
{
	RUN_TABLE(literal_cases);
}

static void
test_errors(void)
{
	RUN_TABLE(error_cases);
}

/* Accessors outside the command: empty spans, no reads past the end. */
static void
test_accessors(void)
{
	struct imap_parser	p;
	struct buf		b;

	imap_parser_init(&p, 0);
	buf_init(&b, 1024);
	T_EQ_INT(imap_nargs(&p), 0);
	T_EQ_INT(imap_has_tag(&p), 0);
	T_EQ_INT(imap_arg(&p, 0).len, 0);
	T_EQ_INT(imap_arg(&p, 99).len, 0);
	T_EQ_INT(imap_tag(&p).len, 0);
	T_EQ_INT(imap_verb(&p).len, 0);
	T_ASSERT(imap_error(&p) != NULL);
	T_ASSERT(buf_add_str(&b, "t1 LOGIN u p\r\n") == 0);
	T_EQ_INT(imap_parse(&p, &b), IMAP_RC_CMD);
	T_EQ_INT(imap_nargs(&p), 2);
	T_EQ_SPAN(imap_tag(&p), "t1");
	T_EQ_SPAN(imap_verb(&p), "LOGIN");
	T_EQ_SPAN(imap_arg(&p, 1), "p");
	T_EQ_INT(imap_arg(&p, 2).len, 0);
	T_EQ_INT(imap_arg_type(&p, 0), IMAP_TOK_ATOM);
	T_EQ_INT(imap_arg_type(&p, 2), IMAP_TOK_NIL);
	T_EQ_INT(buf_len(&b), 0);
	imap_parser_free(&p);
	buf_release(&b);
}

/* After CMD the next call zeroes the data; an idle parser holds no heap. */
static void
test_reset_and_idle(void)
{
	struct imap_parser	p;
	struct buf		b;

	imap_parser_init(&p, 0);
	buf_init(&b, 1024);
	T_ASSERT(p.data.data == NULL);
	T_ASSERT(buf_add_str(&b, "a LOGIN user secret\r\n") == 0);
	T_EQ_INT(imap_parse(&p, &b), IMAP_RC_CMD);
	T_ASSERT(p.data.data != NULL);
	T_EQ_SPAN(imap_arg(&p, 1), "secret");
	T_EQ_INT(imap_parse(&p, &b), IMAP_RC_MORE);
	T_ASSERT(p.data.data == NULL);
	T_EQ_INT(imap_nargs(&p), 0);
	T_EQ_INT(imap_has_tag(&p), 0);
	/* The same after BAD. */
	T_ASSERT(buf_add(&b, "b LOGIN \"x\0", 11) == 0);
	T_EQ_INT(imap_parse(&p, &b), IMAP_RC_BAD);
	T_EQ_INT(imap_has_tag(&p), 1);
	T_EQ_SPAN(imap_tag(&p), "b");
	T_ASSERT(buf_add_str(&b, "rest\r\n") == 0);
	T_EQ_INT(imap_parse(&p, &b), IMAP_RC_MORE);
	T_ASSERT(p.data.data == NULL);
	T_EQ_INT(imap_has_tag(&p), 0);
	imap_parser_free(&p);
	T_ASSERT(p.data.data == NULL);
	buf_release(&b);
}

/* A BAD in the middle of a buffer leaves the rest of the line unread. */
static void
test_bad_returns_early(void)
{
	struct imap_parser	p;
	struct buf		b;

	imap_parser_init(&p, 0);
	buf_init(&b, 1024);
	T_ASSERT(buf_add_str(&b, "a N\x80OOP\r\nb NOOP\r\n") == 0);
	T_EQ_INT(imap_parse(&p, &b), IMAP_RC_BAD);
	T_EQ_INT(buf_len(&b), strlen("OOP\r\nb NOOP\r\n"));
	T_EQ_INT(imap_parse(&p, &b), IMAP_RC_CMD);
	T_EQ_SPAN(imap_tag(&p), "b");
	T_EQ_INT(imap_parse(&p, &b), IMAP_RC_MORE);
	imap_parser_free(&p);
	buf_release(&b);
}

/* ---- limits: at and one past ------------------------------------------ */

static void
test_limit_tag(void)
{
	struct buf	g;
	char		want[128];

	buf_init(&g, GEN_MAX);
	gen_rep(&g, "t", IMAP_MAX_TAG);
	gen_rep(&g, " NOOP\r\n", 1);
	snprintf(want, sizeof(want), "CMD t*%d NOOP", IMAP_MAX_TAG);
	check_gen("tag_at_limit", &g, 0, want);
	gen_rep(&g, "t", IMAP_MAX_TAG + 1);
	gen_rep(&g, " NOOP\r\nb NOOP\r\n", 1);
	check_gen("tag_past_limit", &g, 0, "BAD * | CMD b NOOP");
}

static void
test_limit_line(void)
{
	struct buf	g;
	char		want[128];
	size_t		fill = IMAP_MAX_LINE - strlen("a X ") - 2;

	buf_init(&g, GEN_MAX);
	gen_rep(&g, "a X ", 1);
	gen_rep(&g, "y", fill);
	gen_rep(&g, "\r\n", 1);
	snprintf(want, sizeof(want), "CMD a X A[y*%zu]", fill);
	check_gen("line_at_limit", &g, 0, want);
	gen_rep(&g, "a X ", 1);
	gen_rep(&g, "y", fill + 1);
	gen_rep(&g, "\r\n", 1);
	check_gen("line_past_limit", &g, 0, "FATAL");
	/* Bare LF: one byte less for the terminator. */
	gen_rep(&g, "a X ", 1);
	gen_rep(&g, "y", fill + 1);
	gen_rep(&g, "\n", 1);
	snprintf(want, sizeof(want), "CMD a X A[y*%zu]", fill + 1);
	check_gen("line_at_limit_lf", &g, 0, want);
	/* A bad line being discarded is bounded too. */
	gen_rep(&g, "a \x80", 1);
	gen_rep(&g, "y", IMAP_MAX_LINE);
	gen_rep(&g, "\r\n", 1);
	check_gen("line_past_limit_discard", &g, 0, "BAD a | FATAL");
}

/* Continuation lines after a literal count towards the same line. */
static void
test_limit_line_literal(void)
{
	struct buf	g;
	char		want[128];
	size_t		fill;

	fill = IMAP_MAX_LINE - strlen("a X {1}\r\n") - strlen(" ") - 2;
	buf_init(&g, GEN_MAX);
	gen_rep(&g, "a X {1}\r\nz ", 1);
	gen_rep(&g, "y", fill);
	gen_rep(&g, "\r\n", 1);
	snprintf(want, sizeof(want), "+ | CMD a X S[z] A[y*%zu]", fill);
	check_gen("line_literal_at_limit", &g, 0, want);
	gen_rep(&g, "a X {1}\r\nz ", 1);
	gen_rep(&g, "y", fill + 1);
	gen_rep(&g, "\r\n", 1);
	check_gen("line_literal_past_limit", &g, 0, "+ | FATAL");
}

static void
test_limit_literal(void)
{
	struct buf	g;
	char		want[128];

	buf_init(&g, GEN_MAX);
	T_ASSERT(buf_addf(&g, "a X {%d}\r\n", IMAP_MAX_LITERAL) == 0);
	gen_rep(&g, "q", IMAP_MAX_LITERAL);
	gen_rep(&g, "\r\n", 1);
	snprintf(want, sizeof(want), "+ | CMD a X S[q*%d]", IMAP_MAX_LITERAL);
	check_gen("literal_at_limit", &g, 0, want);
	/* One past: BAD before any continuation; only CRLF follows. */
	T_ASSERT(buf_addf(&g, "a X {%d}\r\nb NOOP\r\n",
	    IMAP_MAX_LITERAL + 1) == 0);
	check_gen("literal_past_limit", &g, 0, "BAD a | CMD b NOOP");
	T_ASSERT(buf_addf(&g, "a X {%d+}\r\n", IMAP_MAX_LITERAL) == 0);
	gen_rep(&g, "q", IMAP_MAX_LITERAL);
	gen_rep(&g, "\r\n", 1);
	snprintf(want, sizeof(want), "CMD a X S[q*%d]", IMAP_MAX_LITERAL);
	check_gen("literal_minus_at_limit", &g, LM, want);
	T_ASSERT(buf_addf(&g, "a X {%d+}\r\n", IMAP_MAX_LITERAL + 1) == 0);
	gen_rep(&g, "q", IMAP_MAX_LITERAL + 1);
	gen_rep(&g, "\r\n", 1);
	check_gen("literal_minus_past_limit", &g, LM, "FATAL");
}

static void
test_limit_args(void)
{
	struct buf	g, w;

	buf_init(&g, GEN_MAX);
	gen_rep(&g, "a X", 1);
	gen_rep(&g, " b", IMAP_MAX_ARGS);
	gen_rep(&g, "\r\n", 1);
	check_gen("args_at_limit", &g, 0,
	    want_rep(&w, "CMD a X", " A[b]", IMAP_MAX_ARGS, ""));
	buf_release(&w);
	gen_rep(&g, "a X", 1);
	gen_rep(&g, " b", IMAP_MAX_ARGS + 1);
	gen_rep(&g, "\r\nc NOOP\r\n", 1);
	check_gen("args_past_limit", &g, 0, "BAD a | CMD c NOOP");
	gen_rep(&g, "a X", 1);
	gen_rep(&g, " b", IMAP_MAX_ARGS);
	gen_rep(&g, " ()\r\n", 1);
	check_gen("args_past_limit_paren", &g, 0, "BAD a");
	/* Parentheses count: ( + 62 + ) = 64. */
	gen_rep(&g, "a ID (b", 1);
	gen_rep(&g, " b", IMAP_MAX_ARGS - 3);
	gen_rep(&g, ")\r\n", 1);
	check_gen("args_list_at_limit", &g, 0,
	    want_rep(&w, "CMD a ID (", " A[b]", IMAP_MAX_ARGS - 2, " )"));
	buf_release(&w);
	gen_rep(&g, "a ID (b", 1);
	gen_rep(&g, " b", IMAP_MAX_ARGS - 2);
	gen_rep(&g, ")\r\n", 1);
	check_gen("args_list_past_limit", &g, 0, "BAD a");
	/* The 65th token a literal: sync is refused before "+"... */
	gen_rep(&g, "a X", 1);
	gen_rep(&g, " b", IMAP_MAX_ARGS);
	gen_rep(&g, " {1}\r\n", 1);
	check_gen("args_past_limit_literal", &g, 0, "BAD a");
	/* ...a non-sync one cannot be, its bytes are on the way. */
	gen_rep(&g, "a X", 1);
	gen_rep(&g, " b", IMAP_MAX_ARGS);
	gen_rep(&g, " {1+}\r\nx\r\n", 1);
	check_gen("args_past_limit_literal_minus", &g, LM, "FATAL");
}

static void
test_limit_depth(void)
{
	struct buf	g;

	buf_init(&g, GEN_MAX);
	gen_rep(&g, "a X ", 1);
	gen_rep(&g, "(", IMAP_MAX_DEPTH);
	gen_rep(&g, ")", IMAP_MAX_DEPTH);
	gen_rep(&g, "\r\n", 1);
	T_EQ_INT(IMAP_MAX_DEPTH, 2);
	check_gen("depth_at_limit", &g, 0, "CMD a X ( ( ) )");
	gen_rep(&g, "a X ", 1);
	gen_rep(&g, "(", IMAP_MAX_DEPTH + 1);
	gen_rep(&g, ")", IMAP_MAX_DEPTH + 1);
	gen_rep(&g, "\r\nb NOOP\r\n", 1);
	check_gen("depth_past_limit", &g, 0, "BAD a | CMD b NOOP");
}

/* All decoded data: tag + verb + literals <= IMAP_MAX_CMD_BYTES. */
static void
test_limit_cmd_bytes(void)
{
	struct buf	g;
	char		want[256];
	size_t		last = IMAP_MAX_CMD_BYTES - 2 - 3 * IMAP_MAX_LITERAL;
	int		i;

	buf_init(&g, GEN_MAX);
	gen_rep(&g, "a X", 1);
	for (i = 0; i < 3; i++) {
		T_ASSERT(buf_addf(&g, " {%d}\r\n", IMAP_MAX_LITERAL) == 0);
		gen_rep(&g, "q", IMAP_MAX_LITERAL);
	}
	T_ASSERT(buf_addf(&g, " {%zu}\r\n", last) == 0);
	gen_rep(&g, "r", last);
	gen_rep(&g, "\r\n", 1);
	snprintf(want, sizeof(want), "+ | + | + | + | CMD a X S[q*%d] "
	    "S[q*%d] S[q*%d] S[r*%zu]", IMAP_MAX_LITERAL, IMAP_MAX_LITERAL,
	    IMAP_MAX_LITERAL, last);
	check_gen("cmd_bytes_at_limit", &g, 0, want);
	gen_rep(&g, "a X", 1);
	for (i = 0; i < 3; i++) {
		T_ASSERT(buf_addf(&g, " {%d}\r\n", IMAP_MAX_LITERAL) == 0);
		gen_rep(&g, "q", IMAP_MAX_LITERAL);
	}
	T_ASSERT(buf_addf(&g, " {%zu}\r\n", last + 1) == 0);
	gen_rep(&g, "r", last + 1);
	gen_rep(&g, "\r\n", 1);
	check_gen("cmd_bytes_past_limit", &g, 0, "+ | + | + | FATAL");
}

/* ---- threat rows ------------------------------------------------------ */

/* Row 1 (CVE-2007-5740): hostile tags are refused as "* BAD". */
static const struct pcase row01_cases[] = {
	{ "row01_nul_format", IN("a\0%n%n NOOP\r\nb NOOP\r\n"), 0,
	    "BAD * | CMD b NOOP" },
	{ "row01_format", IN("%s%s%s NOOP\r\n"), 0, "BAD *" },
	{ "row01_8bit", IN("\xe4\xf6 NOOP\r\n"), 0, "BAD *" },
	{ "row01_8bit_late", IN("ab\xff NOOP\r\n"), 0, "BAD *" },
	{ "row01_star", IN("* NOOP\r\n"), 0, "BAD *" },
	{ "row01_plus", IN("+ NOOP\r\n"), 0, "BAD *" },
	{ "row01_plus_inside", IN("a+b NOOP\r\n"), 0, "BAD *" },
	{ "row01_empty", IN(" NOOP\r\n"), 0, "BAD *" },
	{ "row01_quote", IN("a\"b NOOP\r\n"), 0, "BAD *" },
	{ "row01_backslash", IN("a\\b NOOP\r\n"), 0, "BAD *" },
	{ "row01_paren", IN("a( NOOP\r\n"), 0, "BAD *" },
	{ "row01_brace", IN("a{1} NOOP\r\n"), 0, "BAD *" },
	{ "row01_ctl", IN("a\x01 NOOP\r\n"), 0, "BAD *" },
};

static void
test_row01_tags(void)
{
	struct buf	g;

	RUN_TABLE(row01_cases);
	buf_init(&g, GEN_MAX);
	gen_rep(&g, "a", 1024 * 1024);
	gen_rep(&g, " NOOP\r\n", 1);
	check_gen("row01_1mb_tag", &g, 0, "BAD * | FATAL");
}

/* Row 9: literal sizes refused before the continuation. */
static const struct pcase row09_cases[] = {
	{ "row09_2e31", IN("a LOGIN {2147483648}\r\nb NOOP\r\n"), 0,
	    "BAD a | CMD b NOOP" },
	{ "row09_2e32", IN("a LOGIN {4294967296}\r\nb NOOP\r\n"), 0,
	    "BAD a | CMD b NOOP" },
	{ "row09_2e64", IN("a LOGIN {18446744073709551616}\r\n"), 0,
	    "BAD a" },
	{ "row09_2e64_minus1", IN("a LOGIN {18446744073709551615}\r\n"), 0,
	    "BAD a" },
	{ "row09_2e32_plus_small", IN("a LOGIN {4294967297}\r\n"), 0,
	    "BAD a" },
	{ "row09_negative", IN("a LOGIN {-1}\r\n"), 0, "BAD a" },
	{ "row09_leading_zeros", IN("a LOGIN {00001}\r\nx\r\n"), 0,
	    "+ | CMD a LOGIN S[x]" },
	{ "row09_nonsync_not_advertised", IN("a LOGIN {1+}\r\nx\r\n"), 0,
	    "FATAL" },
	{ "row09_nonsync_2e32", IN("a LOGIN {4294967296+}\r\n"), LM,
	    "FATAL" },
};

static void
test_row09_literal_sizes(void)
{
	RUN_TABLE(row09_cases);
}

/* Row 20: literal length overflow; SP or CRLF must follow a literal. */
static const struct pcase row20_cases[] = {
	{ "row20_overflow", IN("a LOGIN {99999999999999999999}\r\n"), 0,
	    "BAD a" },
	{ "row20_overflow_long",
	    IN("a LOGIN {999999999999999999999999999999999999999999}\r\n"), 0,
	    "BAD a" },
	{ "row20_trailing_byte", IN("a LOGIN {5}\r\nabcdeX\r\nb NOOP\r\n"), 0,
	    "+ | BAD a | CMD b NOOP" },
	{ "row20_zero", IN("a LOGIN {0}\r\n {0}\r\n\r\n"), 0,
	    "+ | + | CMD a LOGIN S[] S[]" },
	{ "row20_zero_eol", IN("a X {0}\r\n\r\n"), 0, "+ | CMD a X S[]" },
};

static void
test_row20_literal_overflow(void)
{
	RUN_TABLE(row20_cases);
}

/* Row 29 (CVE-2019-11500): NUL and escapes in quoted strings. */
static const struct pcase row29_cases[] = {
	{ "row29_nul", IN("a LOGIN \"us\0er\" \"p\"\r\nb NOOP\r\n"), 0,
	    "BAD a | CMD b NOOP" },
	{ "row29_backslash_eof", IN("a LOGIN \"abc\\"), 0, "" },
	{ "row29_escaped_quote_runs_on", IN("a LOGIN \"abc\\\" p\r\n"), 0,
	    "BAD a" },
	{ "row29_backslash_completed", IN("a LOGIN \"abc\\\\\" p\r\n"), 0,
	    "CMD a LOGIN S[abc\\x5c] A[p]" },
	{ "row29_backslash_nul", IN("a LOGIN \"abc\\\0\" p\r\n"), 0,
	    "BAD a" },
	{ "row29_backslash_cr", IN("a LOGIN \"abc\\\r\n"), 0, "BAD a" },
};

static void
test_row29_quoted(void)
{
	struct buf	g;
	char		want[128];
	size_t		n;
	const size_t	sizes[] = { 300, 511, 512, 2100 };
	size_t		i;

	RUN_TABLE(row29_cases);
	buf_init(&g, GEN_MAX);
	/* Escape pairs across every feed boundary and buffer growth. */
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = sizes[i];
		gen_rep(&g, "a LOGIN \"", 1);
		gen_rep(&g, "\\\\", n);
		gen_rep(&g, "\" p\r\n", 1);
		snprintf(want, sizeof(want), "CMD a LOGIN S[\\x5c*%zu] A[p]",
		    n);
		check_gen("row29_backslash_runs", &g, 0, want);
	}
	/* The same, unterminated: nothing but MORE. */
	gen_rep(&g, "a LOGIN \"", 1);
	gen_rep(&g, "\\\\", 1000);
	gen_rep(&g, "\\", 1);
	check_gen("row29_backslash_runs_eof", &g, 0, "");
}

/* Row 32 (CVE-2020-7046): truncated UTF-8 at the end of a line. */
static const struct pcase row32_cases[] = {
	{ "row32_quoted", IN("a LOGIN \"u\xc3\" \"p\xe2\x82\"\r\n"), 0,
	    "CMD a LOGIN S[u\\xc3] S[p\\xe2\\x82]" },
	{ "row32_literal", IN("a LOGIN {2}\r\nu\xf0 p\r\n"), 0,
	    "+ | CMD a LOGIN S[u\\xf0] A[p]" },
	{ "row32_atom", IN("a LOGIN u\xc3\r\nb NOOP\r\n"), 0,
	    "BAD a | CMD b NOOP" },
	{ "row32_verb", IN("a NOOP\xe2\x82\r\n"), 0, "BAD a" },
	{ "row32_tag", IN("a\xc3\r\n"), 0, "BAD *" },
	{ "row32_eof", IN("a LOGIN \"\xe2\x82"), 0, "" },
};

static void
test_row32_truncated_utf8(void)
{
	RUN_TABLE(row32_cases);
}

/* Row 34 (Dovecot imap-login): parentheses and huge ID lists. */
static void
test_row34_id_bounds(void)
{
	struct buf	g;
	char		want[128];

	buf_init(&g, GEN_MAX);
	gen_rep(&g, "a ID ", 1);
	gen_rep(&g, "(", 100000);
	check_gen("row34_parens", &g, 0, "BAD a | FATAL");
	gen_rep(&g, "a ID (", 1);
	gen_rep(&g, "\"k\" \"v\" ", 100000);
	gen_rep(&g, ")\r\n", 1);
	check_gen("row34_pairs", &g, 0, "BAD a | FATAL");
	gen_rep(&g, "a ID (", 1);
	gen_rep(&g, "k v ", 100000);
	gen_rep(&g, ")\r\n", 1);
	check_gen("row34_pairs_atoms", &g, 0, "BAD a | FATAL");
	/* Values past 1024 are bounded by the line; the session caps them. */
	gen_rep(&g, "a ID (\"name\" \"", 1);
	gen_rep(&g, "v", 2000);
	gen_rep(&g, "\")\r\n", 1);
	snprintf(want, sizeof(want), "CMD a ID ( S[name] S[v*2000] )");
	check_gen("row34_value_2000", &g, 0, want);
	gen_rep(&g, "a ID (\"name\" \"", 1);
	gen_rep(&g, "v", 9000);
	gen_rep(&g, "\")\r\n", 1);
	check_gen("row34_value_9000", &g, 0, "FATAL");
	T_ASSERT(buf_addf(&g, "a ID (\"name\" {%d}\r\n",
	    IMAP_MAX_LITERAL + 1) == 0);
	check_gen("row34_value_literal", &g, 0, "BAD a");
}

/* Row 38: AUTHENTICATE with a literal initial response is a string arg. */
static const struct pcase row38_cases[] = {
	{ "row38_sync", IN("a AUTHENTICATE PLAIN {20}\r\n"
	    "AHVzZXIAcGFzc3dvcmQ=\r\n"), 0,
	    "+ | CMD a AUTHENTICATE A[PLAIN] S[AHVzZXIAcGFzc3dvcmQ=]" },
	{ "row38_raw", IN("a AUTHENTICATE PLAIN {14}\r\n"
	    "\0user\0password\r\n"), 0,
	    "+ | CMD a AUTHENTICATE A[PLAIN] S[\\x00user\\x00password]" },
	{ "row38_nonsync", IN("a AUTHENTICATE \"PLAIN\" {20+}\r\n"
	    "AHVzZXIAcGFzc3dvcmQ=\r\n"), LM,
	    "CMD a AUTHENTICATE S[PLAIN] S[AHVzZXIAcGFzc3dvcmQ=]" },
	{ "row38_nonsync_off", IN("a AUTHENTICATE \"PLAIN\" {20+}\r\n"
	    "AHVzZXIAcGFzc3dvcmQ=\r\n"), 0, "FATAL" },
	{ "row38_short", IN("a AUTHENTICATE PLAIN {20}\r\nAHVz"), 0, "+" },
};

static void
test_row38_authenticate_literal(void)
{
	RUN_TABLE(row38_cases);
}

static const struct harness_case cases[] = {
	{ "basic", test_basic },
	{ "lists", test_lists },
	{ "literals", test_literals },
	{ "errors", test_errors },
	{ "accessors", test_accessors },
	{ "reset_and_idle", test_reset_and_idle },
	{ "bad_returns_early", test_bad_returns_early },
	{ "limit_tag", test_limit_tag },
	{ "limit_line", test_limit_line },
	{ "limit_line_literal", test_limit_line_literal },
	{ "limit_literal", test_limit_literal },
	{ "limit_args", test_limit_args },
	{ "limit_depth", test_limit_depth },
	{ "limit_cmd_bytes", test_limit_cmd_bytes },
	{ "row01_tags", test_row01_tags },
	{ "row09_literal_sizes", test_row09_literal_sizes },
	{ "row20_literal_overflow", test_row20_literal_overflow },
	{ "row29_quoted", test_row29_quoted },
	{ "row32_truncated_utf8", test_row32_truncated_utf8 },
	{ "row34_id_bounds", test_row34_id_bounds },
	{ "row38_authenticate_literal", test_row38_authenticate_literal },
};

HARNESS_MAIN("imap_parse", cases)
