/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * imap_parse: the pre-login IMAP command lexer.  Runs in the worker, as the
 * unprivileged _bailey user inside its chroot and seccomp sandbox; it trusts
 * nothing it reads: every byte comes from an unauthenticated client.  It is
 * a resumable byte-at-a-time state machine (nginx sw_* style) whose whole
 * state lives in struct imap_parser, so a command may arrive split at any
 * byte.  It does no I/O and never indexes wire bytes itself: reads go
 * through buf_byte/buf_span/span_sub and decoded bytes are appended to the
 * parser's own bounded struct buf.
 */
#include <string.h>

#include "buf.h"
#include "imap_parse.h"
#include "bailey_limits.h"
#include "log.h"

/* Lexer states (struct imap_parser.state). */
enum imap_state {
	ST_RESET_TAG = 0,	/* a command was returned; reset, then TAG */
	ST_RESET_DISCARD,	/* BAD was returned; reset, then DISCARD */
	ST_TAG,
	ST_VERB,
	ST_ARG_START,
	ST_ATOM,
	ST_QUOTED,
	ST_QUOTED_ESC,
	ST_LIT_DIGITS,
	ST_LIT_CLOSE,
	ST_LIT_CR,
	ST_LIT_LF,
	ST_LIT_DATA,
	ST_AFTER_TOKEN,
	ST_EOL_LF,
	ST_DISCARD,
	ST_FATAL,
};

/* ST_ARG_START substates: what came just before. */
#define ARG_AFTER_SP	0
#define ARG_AFTER_OPEN	1

/* Any literal size above this is "too big"; the value saturates here. */
#define LIT_SATURATED	((uint64_t)IMAP_MAX_LITERAL + 1)

static const struct span imap_empty = { (const uint8_t *)"", 0 };

/*
 * ATOM-CHAR: any CHAR except atom-specials, i.e. not CTL, SP, 8-bit,
 * "(" ")" "{" "%" "*" '"' "\" "]".
 */
int
imap_is_atom_char(uint8_t c)
{
	if (c <= 0x20 || c >= 0x7f) {
		return 0;
	}
	switch (c) {
	case '(':
	case ')':
	case '{':
	case '%':
	case '*':
	case '"':
	case '\\':
	case ']':
		return 0;
	default:
		return 1;
	}
}

/* ASTRING-CHAR = ATOM-CHAR / resp-specials ("]"). */
static int
imap_is_astring_char(uint8_t c)
{
	return c == ']' || imap_is_atom_char(c);
}

/* tag = 1*<any ASTRING-CHAR except "+">. */
static int
imap_is_tag_char(uint8_t c)
{
	return c != '+' && imap_is_astring_char(c);
}

static void
imap_cmd_reset(struct imap_parser *p)
{
	buf_release(&p->data);
	memset(&p->tag, 0, sizeof(p->tag));
	memset(&p->verb, 0, sizeof(p->verb));
	memset(p->args, 0, sizeof(p->args));
	p->nargs = 0;
	p->has_tag = 0;
	p->tok_open = 0;
	p->error = NULL;
}

static void
imap_line_reset(struct imap_parser *p)
{
	p->line_len = 0;
	p->depth = 0;
	p->literal_left = 0;
	p->literal_nonsync = 0;
	p->substate = 0;
}

void
imap_parser_init(struct imap_parser *p, unsigned flags)
{
	memset(p, 0, sizeof(*p));
	p->flags = flags;
	buf_init(&p->data, IMAP_MAX_CMD_BYTES);
	p->state = ST_TAG;
}

void
imap_parser_free(struct imap_parser *p)
{
	buf_release(&p->data);
	secure_zero(p, sizeof(*p));
}

static enum imap_rc
imap_fatal(struct imap_parser *p, const char *err)
{
	p->error = err;
	p->state = ST_FATAL;
	return IMAP_RC_FATAL;
}

/*
 * Recoverable error on byte c.  If c ended the line there is nothing to
 * discard; otherwise the rest of the line is skipped on the next calls.
 */
static enum imap_rc
imap_bad(struct imap_parser *p, uint8_t c, const char *err)
{
	p->error = err;
	p->tok_open = 0;
	if (c == '\n') {
		imap_line_reset(p);
		p->state = ST_RESET_TAG;
	} else {
		p->state = ST_RESET_DISCARD;
	}
	return IMAP_RC_BAD;
}

/* The line ended (LF consumed) outside any token. */
static enum imap_rc
imap_end(struct imap_parser *p)
{
	if (p->depth > 0) {
		return imap_bad(p, '\n', "unbalanced parenthesis");
	}
	imap_line_reset(p);
	p->state = ST_RESET_TAG;
	return IMAP_RC_CMD;
}

static enum imap_rc
imap_append(struct imap_parser *p, uint8_t c)
{
	if (buf_add(&p->data, &c, 1) == -1) {
		return imap_fatal(p, "command too large");
	}
	return IMAP_RC_MORE;
}

static enum imap_rc
imap_tok_begin(struct imap_parser *p, uint8_t c, enum imap_tok type)
{
	struct imap_token *t;

	if (p->nargs >= IMAP_MAX_ARGS) {
		return imap_bad(p, c, "too many arguments");
	}
	t = &p->args[p->nargs];
	t->type = type;
	t->off = buf_len(&p->data);
	t->len = 0;
	p->tok_open = 1;
	return IMAP_RC_MORE;
}

static void
imap_tok_end(struct imap_parser *p)
{
	struct imap_token *t;

	if (!p->tok_open || p->nargs >= IMAP_MAX_ARGS) {
		fatalx("imap_tok_end: no open token");
	}
	t = &p->args[p->nargs];
	t->len = buf_len(&p->data) - t->off;
	if (t->type == IMAP_TOK_ATOM && t->len == 3 &&
	    span_eq_ci(span_sub(buf_span(&p->data), t->off, t->len), "NIL")) {
		t->type = IMAP_TOK_NIL;
	}
	p->tok_open = 0;
	p->nargs++;
}

/* A token with no content of its own: "(" or ")". */
static enum imap_rc
imap_tok_paren(struct imap_parser *p, uint8_t c, enum imap_tok type)
{
	enum imap_rc rc;

	if ((rc = imap_tok_begin(p, c, type)) != IMAP_RC_MORE) {
		return rc;
	}
	imap_tok_end(p);
	return IMAP_RC_MORE;
}

static enum imap_rc
imap_list_open(struct imap_parser *p, uint8_t c)
{
	enum imap_rc rc;

	if (p->depth >= IMAP_MAX_DEPTH) {
		return imap_bad(p, c, "lists nested too deeply");
	}
	if ((rc = imap_tok_paren(p, c, IMAP_TOK_LIST_START)) != IMAP_RC_MORE) {
		return rc;
	}
	p->depth++;
	p->state = ST_ARG_START;
	p->substate = ARG_AFTER_OPEN;
	return IMAP_RC_MORE;
}

static enum imap_rc
imap_list_close(struct imap_parser *p, uint8_t c)
{
	enum imap_rc rc;

	if (p->depth == 0) {
		return imap_bad(p, c, "unbalanced parenthesis");
	}
	if ((rc = imap_tok_paren(p, c, IMAP_TOK_LIST_END)) != IMAP_RC_MORE) {
		return rc;
	}
	p->depth--;
	p->state = ST_AFTER_TOKEN;
	return IMAP_RC_MORE;
}

/* What may follow a complete token or the verb: SP, ")", CRLF or LF. */
static enum imap_rc
imap_token_follow(struct imap_parser *p, uint8_t c)
{
	switch (c) {
	case ' ':
		p->state = ST_ARG_START;
		p->substate = ARG_AFTER_SP;
		return IMAP_RC_MORE;
	case ')':
		return imap_list_close(p, c);
	case '\r':
		p->state = ST_EOL_LF;
		return IMAP_RC_MORE;
	case '\n':
		return imap_end(p);
	default:
		return imap_bad(p, c, "expected space or end of line");
	}
}

static enum imap_rc
imap_st_tag(struct imap_parser *p, uint8_t c)
{
	if (imap_is_tag_char(c)) {
		if (p->tag.len >= IMAP_MAX_TAG) {
			return imap_bad(p, c, "tag too long");
		}
		if (imap_append(p, c) != IMAP_RC_MORE) {
			return IMAP_RC_FATAL;
		}
		p->tag.len++;
		return IMAP_RC_MORE;
	}
	if (c != ' ' && c != '\r' && c != '\n') {
		return imap_bad(p, c, "invalid tag");
	}
	if (p->tag.len == 0) {
		return imap_bad(p, c, "missing tag");
	}
	p->has_tag = 1;
	if (c != ' ') {
		return imap_bad(p, c, "missing command");
	}
	p->verb.off = buf_len(&p->data);
	p->state = ST_VERB;
	return IMAP_RC_MORE;
}

static enum imap_rc
imap_st_verb(struct imap_parser *p, uint8_t c)
{
	if (imap_is_atom_char(c)) {
		if (imap_append(p, c) != IMAP_RC_MORE) {
			return IMAP_RC_FATAL;
		}
		p->verb.len++;
		return IMAP_RC_MORE;
	}
	if (c != ' ' && c != '\r' && c != '\n') {
		return imap_bad(p, c, "invalid command");
	}
	if (p->verb.len == 0) {
		return imap_bad(p, c, "missing command");
	}
	return imap_token_follow(p, c);
}

static enum imap_rc
imap_st_arg_start(struct imap_parser *p, uint8_t c)
{
	enum imap_rc rc;

	switch (c) {
	case '"':
		if ((rc = imap_tok_begin(p, c, IMAP_TOK_STRING)) !=
		    IMAP_RC_MORE) {
			return rc;
		}
		p->state = ST_QUOTED;
		return IMAP_RC_MORE;
	case '{':
		p->literal_left = 0;
		p->literal_nonsync = 0;
		p->substate = 0;	/* digits seen */
		p->state = ST_LIT_DIGITS;
		return IMAP_RC_MORE;
	case '(':
		return imap_list_open(p, c);
	case ')':
		if (p->substate != ARG_AFTER_OPEN) {
			return imap_bad(p, c, "unexpected parenthesis");
		}
		return imap_list_close(p, c);
	default:
		break;
	}
	if (!imap_is_astring_char(c)) {
		return imap_bad(p, c, "invalid argument");
	}
	if ((rc = imap_tok_begin(p, c, IMAP_TOK_ATOM)) != IMAP_RC_MORE) {
		return rc;
	}
	p->state = ST_ATOM;
	return imap_append(p, c);
}

static enum imap_rc
imap_st_atom(struct imap_parser *p, uint8_t c)
{
	if (imap_is_astring_char(c)) {
		return imap_append(p, c);
	}
	if (c != ' ' && c != ')' && c != '\r' && c != '\n') {
		return imap_bad(p, c, "invalid character in atom");
	}
	imap_tok_end(p);
	return imap_token_follow(p, c);
}

static enum imap_rc
imap_st_quoted(struct imap_parser *p, uint8_t c)
{
	switch (c) {
	case '"':
		imap_tok_end(p);
		p->state = ST_AFTER_TOKEN;
		return IMAP_RC_MORE;
	case '\\':
		p->state = ST_QUOTED_ESC;
		return IMAP_RC_MORE;
	case '\0':
	case '\r':
	case '\n':
		return imap_bad(p, c, "invalid character in quoted string");
	default:
		/* 8-bit allowed: RFC 9051 utf8-quoted; not validated here. */
		return imap_append(p, c);
	}
}

static enum imap_rc
imap_st_quoted_esc(struct imap_parser *p, uint8_t c)
{
	if (c != '\\' && c != '"') {
		return imap_bad(p, c, "invalid escape in quoted string");
	}
	p->state = ST_QUOTED;
	return imap_append(p, c);
}

/*
 * The literal header is complete up to and including "}": decide before
 * any continuation.  A sync literal can be refused with BAD (the client
 * waits for "+"); a non-sync one cannot, its bytes are already on the way.
 */
static enum imap_rc
imap_lit_header(struct imap_parser *p, uint8_t c)
{
	enum imap_rc rc;

	if (p->literal_nonsync) {
		if (!(p->flags & IMAP_PARSE_LITERAL_MINUS)) {
			return imap_fatal(p, "non-synchronizing literal "
			    "not allowed");
		}
		if (p->literal_left > IMAP_MAX_LITERAL) {
			return imap_fatal(p, "literal too big");
		}
		if (p->nargs >= IMAP_MAX_ARGS) {
			return imap_fatal(p, "too many arguments");
		}
	}
	if (p->literal_left > IMAP_MAX_LITERAL) {
		return imap_bad(p, c, "literal too big");
	}
	if (p->literal_left > IMAP_MAX_CMD_BYTES - buf_len(&p->data)) {
		return imap_fatal(p, "command too large");
	}
	if ((rc = imap_tok_begin(p, c, IMAP_TOK_STRING)) != IMAP_RC_MORE) {
		return rc;
	}
	p->state = ST_LIT_CR;
	return IMAP_RC_MORE;
}

static enum imap_rc
imap_st_lit_digits(struct imap_parser *p, uint8_t c)
{
	if (c >= '0' && c <= '9') {
		p->substate = 1;
		/* Saturates at LIT_SATURATED: no overflow for any length. */
		if (p->literal_left < LIT_SATURATED) {
			p->literal_left = p->literal_left * 10 +
			    (uint64_t)(c - '0');
		}
		if (p->literal_left > LIT_SATURATED) {
			p->literal_left = LIT_SATURATED;
		}
		return IMAP_RC_MORE;
	}
	if (p->substate == 0 || (c != '+' && c != '}')) {
		return imap_bad(p, c, "invalid literal");
	}
	if (c == '+') {
		p->literal_nonsync = 1;
		p->state = ST_LIT_CLOSE;
		return IMAP_RC_MORE;
	}
	return imap_lit_header(p, c);
}

static enum imap_rc
imap_st_lit_close(struct imap_parser *p, uint8_t c)
{
	if (c != '}') {
		return imap_bad(p, c, "invalid literal");
	}
	return imap_lit_header(p, c);
}

/* The LF after "}" was consumed: the literal's bytes come next. */
static enum imap_rc
imap_lit_start(struct imap_parser *p)
{
	if (p->literal_left == 0) {
		imap_tok_end(p);
		p->state = ST_AFTER_TOKEN;
	} else {
		p->state = ST_LIT_DATA;
	}
	return p->literal_nonsync ? IMAP_RC_MORE : IMAP_RC_CONTINUE;
}

/* After "}": CRLF or LF must follow at once. */
static enum imap_rc
imap_st_lit_cr(struct imap_parser *p, uint8_t c)
{
	if (c == '\r') {
		p->state = ST_LIT_LF;
		return IMAP_RC_MORE;
	}
	if (c != '\n') {
		return imap_bad(p, c, "literal not followed by CRLF");
	}
	return imap_lit_start(p);
}

static enum imap_rc
imap_st_lit_lf(struct imap_parser *p, uint8_t c)
{
	if (c != '\n') {
		return imap_bad(p, c, "literal not followed by CRLF");
	}
	return imap_lit_start(p);
}

static enum imap_rc
imap_st_eol_lf(struct imap_parser *p, uint8_t c)
{
	if (c != '\n') {
		return imap_bad(p, c, "bare CR");
	}
	return imap_end(p);
}

static enum imap_rc
imap_st_discard(struct imap_parser *p, uint8_t c)
{
	if (c == '\n') {
		imap_line_reset(p);
		p->state = ST_TAG;
	}
	return IMAP_RC_MORE;
}

/*
 * One byte outside a literal.  Every such byte counts against the line
 * limit, also while a bad line is being discarded.
 */
static enum imap_rc
imap_step(struct imap_parser *p, uint8_t c)
{
	if (++p->line_len > IMAP_MAX_LINE) {
		return imap_fatal(p, "line too long");
	}
	switch (p->state) {
	case ST_TAG:
		return imap_st_tag(p, c);
	case ST_VERB:
		return imap_st_verb(p, c);
	case ST_ARG_START:
		return imap_st_arg_start(p, c);
	case ST_ATOM:
		return imap_st_atom(p, c);
	case ST_QUOTED:
		return imap_st_quoted(p, c);
	case ST_QUOTED_ESC:
		return imap_st_quoted_esc(p, c);
	case ST_LIT_DIGITS:
		return imap_st_lit_digits(p, c);
	case ST_LIT_CLOSE:
		return imap_st_lit_close(p, c);
	case ST_LIT_CR:
		return imap_st_lit_cr(p, c);
	case ST_LIT_LF:
		return imap_st_lit_lf(p, c);
	case ST_AFTER_TOKEN:
		return imap_token_follow(p, c);
	case ST_EOL_LF:
		return imap_st_eol_lf(p, c);
	case ST_DISCARD:
		return imap_st_discard(p, c);
	default:
		fatalx("imap_step: bad state %d", p->state);
	}
}

/* Copies as much of the literal as is buffered; any byte value goes. */
static enum imap_rc
imap_lit_data(struct imap_parser *p, const struct buf *in, size_t *pos)
{
	size_t	n = buf_len(in) - *pos;

	if (n > p->literal_left) {
		n = (size_t)p->literal_left;
	}
	if (buf_add_span(&p->data, span_sub(buf_span(in), *pos, n)) == -1) {
		return imap_fatal(p, "command too large");
	}
	*pos += n;
	p->literal_left -= n;
	if (p->literal_left == 0) {
		imap_tok_end(p);
		p->state = ST_AFTER_TOKEN;
	}
	return IMAP_RC_MORE;
}

/* UNTRUSTED: client bytes, bounded by IMAP_MAX_LINE, IMAP_MAX_LITERAL,
 * IMAP_MAX_ARGS, IMAP_MAX_DEPTH and IMAP_MAX_CMD_BYTES. */
enum imap_rc
imap_parse(struct imap_parser *p, struct buf *in)
{
	enum imap_rc	rc = IMAP_RC_MORE;
	size_t		pos = 0, n = buf_len(in);

	switch (p->state) {
	case ST_FATAL:
		return IMAP_RC_FATAL;
	case ST_RESET_TAG:
		imap_cmd_reset(p);
		p->state = ST_TAG;
		break;
	case ST_RESET_DISCARD:
		imap_cmd_reset(p);
		p->state = ST_DISCARD;
		break;
	default:
		break;
	}
	while (pos < n && rc == IMAP_RC_MORE) {
		if (p->state == ST_LIT_DATA) {
			rc = imap_lit_data(p, in, &pos);
		} else {
			rc = imap_step(p, buf_byte(in, pos));
			pos++;
		}
	}
	buf_consume(in, pos);
	return rc;
}

int
imap_has_tag(const struct imap_parser *p)
{
	return p->has_tag;
}

static struct span
imap_tok_span(const struct imap_parser *p, const struct imap_token *t)
{
	return span_sub(buf_span(&p->data), t->off, t->len);
}

struct span
imap_tag(const struct imap_parser *p)
{
	if (!p->has_tag) {
		return imap_empty;
	}
	return imap_tok_span(p, &p->tag);
}

struct span
imap_verb(const struct imap_parser *p)
{
	return imap_tok_span(p, &p->verb);
}

size_t
imap_nargs(const struct imap_parser *p)
{
	return p->nargs;
}

/* Out of range: NIL with an empty span, never a read past the tokens. */
enum imap_tok
imap_arg_type(const struct imap_parser *p, size_t i)
{
	if (i >= p->nargs) {
		return IMAP_TOK_NIL;
	}
	return p->args[i].type;
}

struct span
imap_arg(const struct imap_parser *p, size_t i)
{
	if (i >= p->nargs) {
		return imap_empty;
	}
	return imap_tok_span(p, &p->args[i]);
}

const char *
imap_error(const struct imap_parser *p)
{
	return p->error != NULL ? p->error : "syntax error";
}
