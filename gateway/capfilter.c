/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * capfilter: post-login capability filtering.  Runs in the worker, as the
 * unprivileged _bailey user inside its chroot and seccomp sandbox, for
 * sessions configured with capability rules.  It trusts neither side: the
 * backend's responses and the client's commands are parsed only as far as
 * framing needs, with hard limits, and message data is never interpreted.
 * Two resumable byte-at-a-time state machines (nginx sw_* style): the
 * backend -> client filter, and a tiny client -> backend tracker that tells
 * it which POP3 response is a CAPA list and when IMAP turns to COMPRESS.
 * Bytes that pass unchanged are copied as runs, never one by one; only a
 * candidate capability (or a POP3 CAPA line) is ever held back.  No I/O,
 * no pointer arithmetic on wire bytes: all access goes through lib/buf.h.
 */
#include <string.h>

#include "buf.h"
#include "bailey_limits.h"
#include "capfilter.h"
#include "imap_parse.h"
#include "log.h"

/* Backend -> client states (struct capfilter.state). */
enum cf_state {
	IS_TAG = 0,		/* IMAP: line start, tag held */
	IS_WORD,		/* IMAP: word after the tag held */
	IS_BRACKET,		/* IMAP: matching "[CAPABILITY" */
	IS_CAPS,		/* IMAP: in a capability list */
	IS_LINE,		/* IMAP: rest of a line passes */
	IS_LITERAL,		/* IMAP: literal bytes pass */
	PS_START,		/* POP3: a response starts */
	PS_STATUS,		/* POP3: rest of the status line */
	PS_MULTI_LS,		/* POP3: line start in a multi-line body */
	PS_MULTI_DOT,		/* POP3: body line began with "." */
	PS_MULTI_DOT_CR,	/* POP3: ".\r" */
	PS_MULTI_LINE,		/* POP3: rest of a body line */
	PS_CAPA_LINE,		/* POP3: a CAPA line, held */
};

/* Client -> backend states (struct capfilter.c_state). */
enum cf_cstate {
	CI_TAG = 0,
	CI_VERB,
	CI_REST,
	CI_LIT,
};

/* What a POP3 response will be, from the command that asked for it. */
enum cf_kind {
	K_NONE = 0,		/* status line only */
	K_SINGLE,
	K_MULTI,		/* +OK starts a dot-terminated body */
	K_CAPA,			/* +OK starts the CAPA list */
	K_UNKNOWN,		/* +OK: framing unknown, stop filtering */
};

/* Literal detector states: "{" digits ["+"] "}" [CR] LF ends a line. */
enum cf_lit_state {
	LIT_NONE = 0,
	LIT_OPEN,
	LIT_DIGITS,
	LIT_PLUS,
	LIT_CLOSE,
	LIT_CR,
};

/* Step results. */
#define CF_ERR		(-1)
#define CF_TAKEN	0	/* byte held or dropped */
#define CF_PASS		1	/* byte passes unchanged */
#define CF_AGAIN	2	/* state changed: same byte again */

#define CF_CAPA_WORD	"[CAPABILITY"
#define CF_CAPA_WORDLEN	11
#define CF_COMPRESS	"COMPRESS"
#define CF_COMPRESSLEN	8

/* One feed call: the input, what of it is done, where the run starts. */
struct cf_ctx {
	struct capfilter *f;
	struct span	 in;
	size_t		 pos;
	size_t		 run;
	struct buf	*out;
	const char	*err;
};

/* Words that may follow the tag of a candidate line. */
static const char *const cf_imap_words[] = {
	"CAPABILITY", "OK", "NO", "BAD", "PREAUTH", "BYE",
};
#define CF_WORD_CAPABILITY	0
#define CF_NWORDS	(sizeof(cf_imap_words) / sizeof(cf_imap_words[0]))

_Static_assert(CF_NWORDS <= 8 * sizeof(unsigned), "word mask too small");
_Static_assert(CAPFILTER_MAX_HOLD >= CAPFILTER_MAX_ATOM &&
    CAPFILTER_MAX_HOLD >= POP3_MAX_REPLY, "CAPFILTER_MAX_HOLD too small");

static const char *const cf_imap_mandatory[] = {
	"IMAP4rev1", "IMAP4rev2",
};

static uint8_t
cf_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* ---- configuration ---------------------------------------------------- */

void
capfilter_conf_init(struct capfilter_conf *c, enum capfilter_proto proto)
{
	memset(c, 0, sizeof(*c));
	c->proto = proto;
}

static int
cf_is_mandatory(enum capfilter_proto proto, struct span name)
{
	size_t	i;

	if (proto != CAPFILTER_IMAP) {
		return 0;
	}
	for (i = 0; i < sizeof(cf_imap_mandatory) /
	    sizeof(cf_imap_mandatory[0]); i++) {
		if (span_eq_ci(name, cf_imap_mandatory[i])) {
			return 1;
		}
	}
	return 0;
}

/* Checks a rule's text; fills r.  0, or -1 with *errstr_r. */
static int
cf_rule_parse(const char *text, struct capfilter_rule *r,
    const char **errstr_r)
{
	struct span	s = span_from_str(text);
	size_t		i, n = s.len;

	if (n == 0) {
		*errstr_r = "empty capability rule";
		return -1;
	}
	if (n > CAPFILTER_MAX_RULE) {
		*errstr_r = "capability rule too long";
		return -1;
	}
	memset(r, 0, sizeof(*r));
	if (span_byte(s, n - 1) == '*') {
		r->prefix = 1;
		n--;
	}
	for (i = 0; i < n; i++) {
		if (!imap_is_atom_char(span_byte(s, i))) {
			*errstr_r = "invalid character in capability rule";
			return -1;
		}
	}
	if (span_cstr(span_sub(s, 0, n), r->name, sizeof(r->name)) == -1) {
		*errstr_r = "capability rule too long";
		return -1;
	}
	r->len = n;
	return 0;
}

int
capfilter_conf_add(struct capfilter_conf *c, enum capfilter_list list,
    const char *text, const char **errstr_r)
{
	struct capfilter_rule	 r, *tbl;
	size_t			*np;

	if (cf_rule_parse(text, &r, errstr_r) == -1) {
		return -1;
	}
	if (list == CAPFILTER_ALLOW) {
		tbl = c->allow;
		np = &c->nallow;
	} else {
		tbl = c->strip;
		np = &c->nstrip;
		if (!r.prefix && cf_is_mandatory(c->proto,
		    span_from_str(r.name))) {
			*errstr_r = "IMAP4rev1/IMAP4rev2 cannot be stripped";
			return -1;
		}
	}
	if (*np >= CAPFILTER_MAX_RULES) {
		*errstr_r = "too many capability rules";
		return -1;
	}
	tbl[*np] = r;
	(*np)++;
	return 0;
}

int
capfilter_conf_empty(const struct capfilter_conf *c)
{
	return c->nallow == 0 && c->nstrip == 0;
}

static int
cf_rule_match(const struct capfilter_rule *r, struct span name)
{
	if (r->prefix) {
		return span_has_prefix_ci(name, r->name);
	}
	if (span_eq_ci(name, r->name)) {
		return 1;
	}
	/* "COMPRESS" also names "COMPRESS=DEFLATE". */
	if (strchr(r->name, '=') == NULL && name.len > r->len &&
	    span_byte(name, r->len) == '=') {
		return span_has_prefix_ci(name, r->name);
	}
	return 0;
}

static int
cf_list_match(const struct capfilter_rule *tbl, size_t n, struct span name)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (cf_rule_match(&tbl[i], name)) {
			return 1;
		}
	}
	return 0;
}

int
capfilter_keep(const struct capfilter_conf *c, struct span name)
{
	if (cf_is_mandatory(c->proto, name)) {
		return 1;
	}
	if (cf_list_match(c->strip, c->nstrip, name)) {
		return 0;
	}
	if (c->nallow > 0 && !cf_list_match(c->allow, c->nallow, name)) {
		return 0;
	}
	return 1;
}

/* ---- shared pieces ---------------------------------------------------- */

void
capfilter_init(struct capfilter *f, const struct capfilter_conf *conf)
{
	memset(f, 0, sizeof(*f));
	f->conf = conf;
	f->proto = conf->proto;
	f->state = f->proto == CAPFILTER_IMAP ? IS_TAG : PS_START;
	f->c_state = CI_TAG;
	buf_init(&f->hold, CAPFILTER_MAX_HOLD);
	buf_init(&f->c_hold, POP3_MAX_CMD);
}

void
capfilter_free(struct capfilter *f)
{
	buf_release(&f->hold);
	buf_release(&f->c_hold);
	secure_zero(f, sizeof(*f));
}

const char *
capfilter_note(struct capfilter *f)
{
	const char	*n = f->note;

	f->note = NULL;
	return n;
}

size_t
capfilter_held(const struct capfilter *f)
{
	return buf_len(&f->hold);
}

uint64_t
capfilter_stripped(const struct capfilter *f)
{
	return f->stripped;
}

/* Gives up on framing: everything from here on passes unchanged. */
static void
cf_give_up(struct capfilter *f, const char *why)
{
	f->pass = 1;
	f->note = why;
	buf_reset(&f->hold);
}

static void
cf_lit_byte(struct capfilter_lit *l, uint8_t c)
{
	uint64_t	d;

	if (c == '{') {
		l->st = LIT_OPEN;
		l->n = 0;
		l->ovf = 0;
		return;
	}
	if (c >= '0' && c <= '9' &&
	    (l->st == LIT_OPEN || l->st == LIT_DIGITS)) {
		d = (uint64_t)(c - '0');
		if (l->n > (UINT64_MAX - d) / 10) {
			l->ovf = 1;
		} else {
			l->n = l->n * 10 + d;
		}
		l->st = LIT_DIGITS;
		return;
	}
	if (c == '+' && l->st == LIT_DIGITS) {
		l->st = LIT_PLUS;
	} else if (c == '}' && (l->st == LIT_DIGITS || l->st == LIT_PLUS)) {
		l->st = LIT_CLOSE;
	} else if (c == '\r' && l->st == LIT_CLOSE) {
		l->st = LIT_CR;
	} else {
		l->st = LIT_NONE;
	}
}

/*
 * At LF: 1 and the size in *n_r if the line ended in a literal header,
 * 0 if not, -1 if it did but the size does not fit in 64 bits.
 */
static int
cf_lit_eol(struct capfilter_lit *l, uint64_t *n_r)
{
	int	r = 0;

	if (l->st == LIT_CLOSE || l->st == LIT_CR) {
		r = l->ovf ? -1 : 1;
		*n_r = l->n;
	}
	memset(l, 0, sizeof(*l));
	return r;
}

/* Outputs the run of passing bytes before the current one. */
static void
cf_flush(struct cf_ctx *x)
{
	if (x->pos > x->run) {
		if (buf_add_span(x->out,
		    span_sub(x->in, x->run, x->pos - x->run)) == -1) {
			fatalx("capfilter: output room miscounted");
		}
	}
	x->run = x->pos;
}

/* Outputs the held bytes unchanged and empties the hold. */
static void
cf_emit_hold(struct cf_ctx *x)
{
	cf_flush(x);
	if (buf_add_span(x->out, buf_span(&x->f->hold)) == -1) {
		fatalx("capfilter: output room miscounted");
	}
	buf_reset(&x->f->hold);
}

static int
cf_hold(struct cf_ctx *x, uint8_t c, size_t limit, const char *err)
{
	cf_flush(x);
	if (buf_len(&x->f->hold) >= limit ||
	    buf_add(&x->f->hold, &c, 1) == -1) {
		x->err = err;
		return CF_ERR;
	}
	return CF_TAKEN;
}

/* ---- IMAP, backend -> client ------------------------------------------ */

/* Not a candidate after all: release what was held, pass the line. */
static int
cf_imap_pass_line(struct cf_ctx *x)
{
	cf_emit_hold(x);
	x->f->state = IS_LINE;
	return CF_AGAIN;
}

/* Tag done: "*" is untagged, "+" a continuation, others tagged. */
static int
cf_imap_tag(struct cf_ctx *x, uint8_t c)
{
	struct capfilter	*f = x->f;

	if (c == '\n') {
		f->state = IS_LINE;
		return CF_AGAIN;
	}
	if (c != ' ') {
		if (f->tag_len == 0) {
			f->tag_first = c;
		}
		f->tag_len++;
		return CF_PASS;
	}
	if (f->tag_len == 1 && f->tag_first == '*') {
		f->untagged = 1;
	} else if (f->tag_len == 0 ||
	    (f->tag_len == 1 && f->tag_first == '+')) {
		f->state = IS_LINE;
		return CF_PASS;
	} else {
		f->tagged = 1;
	}
	f->word_len = 0;
	f->word_mask = (1u << CF_NWORDS) - 1;
	if (!f->untagged) {
		f->word_mask &= ~(1u << CF_WORD_CAPABILITY);
	}
	f->state = IS_WORD;
	return CF_PASS;
}

/* The prefix has passed; c (SP) starts the first held capability. */
static int
cf_imap_list_start(struct cf_ctx *x, uint8_t c, int code)
{
	struct capfilter	*f = x->f;

	f->code = code;
	f->sep_len = 1;
	f->state = IS_CAPS;
	return cf_hold(x, c, CAPFILTER_MAX_ATOM, "capability too long");
}

/* Narrows the words the current one may still be by its next byte. */
static void
cf_imap_word_narrow(struct capfilter *f, uint8_t c)
{
	struct span	w;
	size_t		i;

	for (i = 0; i < CF_NWORDS; i++) {
		if (!(f->word_mask & (1u << i))) {
			continue;
		}
		w = span_from_str(cf_imap_words[i]);
		if (f->word_len >= w.len ||
		    cf_lower(c) != cf_lower(span_byte(w, f->word_len))) {
			f->word_mask &= ~(1u << i);
		}
	}
	f->word_len++;
}

/* The word ended with SP: which one is it, fully? -1 for none. */
static int
cf_imap_word_which(const struct capfilter *f)
{
	size_t	i;

	for (i = 0; i < CF_NWORDS; i++) {
		if ((f->word_mask & (1u << i)) &&
		    strlen(cf_imap_words[i]) == f->word_len) {
			return (int)i;
		}
	}
	return -1;
}

static int
cf_imap_word(struct cf_ctx *x, uint8_t c)
{
	struct capfilter	*f = x->f;
	int			 w;

	if (c == '\r' || c == '\n') {
		f->state = IS_LINE;
		return CF_AGAIN;
	}
	if (c != ' ') {
		cf_imap_word_narrow(f, c);
		if (f->word_mask == 0) {
			f->state = IS_LINE;
		}
		return CF_PASS;
	}
	if ((w = cf_imap_word_which(f)) == -1) {
		f->state = IS_LINE;
		return CF_PASS;
	}
	if (w == CF_WORD_CAPABILITY) {
		return cf_imap_list_start(x, c, 0);
	}
	f->match = 0;
	f->state = IS_BRACKET;
	return CF_PASS;
}

static int
cf_imap_bracket(struct cf_ctx *x, uint8_t c)
{
	struct capfilter	*f = x->f;
	struct span		 want = SPAN_LIT(CF_CAPA_WORD);

	if (f->match < CF_CAPA_WORDLEN) {
		if (cf_lower(c) != cf_lower(span_byte(want, f->match))) {
			f->state = IS_LINE;
			return CF_AGAIN;
		}
		f->match++;
		return CF_PASS;
	}
	if (c != ' ') {
		f->state = IS_LINE;	/* "[CAPABILITY]" and such */
		return CF_AGAIN;
	}
	return cf_imap_list_start(x, c, 1);
}

/* The held spaces + capability are complete: keep or drop them. */
static void
cf_imap_decide(struct cf_ctx *x)
{
	struct capfilter	*f = x->f;
	struct span		 h = buf_span(&f->hold), atom;

	atom = span_sub(h, f->sep_len, h.len - f->sep_len);
	if (atom.len == 0 || capfilter_keep(f->conf, atom)) {
		cf_emit_hold(x);
	} else {
		f->stripped++;
		buf_reset(&f->hold);
	}
	f->sep_len = 0;
}

static int
cf_imap_caps(struct cf_ctx *x, uint8_t c)
{
	struct capfilter	*f = x->f;

	if (c == ' ') {
		if (buf_len(&f->hold) > f->sep_len) {
			cf_imap_decide(x);
		}
		f->sep_len++;
		return cf_hold(x, c, CAPFILTER_MAX_ATOM, "capability too long");
	}
	if (imap_is_atom_char(c)) {
		return cf_hold(x, c, CAPFILTER_MAX_ATOM, "capability too long");
	}
	if (c == '\r' || c == '\n' || (c == ']' && f->code)) {
		cf_imap_decide(x);
		f->state = IS_LINE;
		return CF_AGAIN;
	}
	/* Not a capability list we understand: the rest passes as is. */
	f->sep_len = 0;
	f->note = "unexpected byte in a capability list; rest of the line "
	    "passed unfiltered";
	return cf_imap_pass_line(x);
}

static void
cf_imap_line_reset(struct capfilter *f)
{
	f->untagged = 0;
	f->tagged = 0;
	f->code = 0;
	f->match = 0;
	f->tag_len = 0;
	f->tag_first = 0;
	f->word_len = 0;
	f->word_mask = 0;
	f->sep_len = 0;
	f->state = IS_TAG;
}

static int
cf_imap_line(struct cf_ctx *x, uint8_t c)
{
	struct capfilter	*f = x->f;
	uint64_t		 n = 0;
	int			 r;

	if (c != '\n') {
		return CF_PASS;
	}
	if ((r = cf_lit_eol(&f->lit, &n)) == -1) {
		x->err = "literal size does not fit in 64 bits";
		return CF_ERR;
	}
	if (r == 1) {
		f->literal_left = n;
		f->state = n > 0 ? IS_LITERAL : IS_LINE;
		return CF_PASS;
	}
	if (f->compress && f->tagged) {
		cf_give_up(f, "COMPRESS requested; capability filtering "
		    "stopped");
	}
	cf_imap_line_reset(f);
	return CF_PASS;
}

static int
cf_imap_step(struct cf_ctx *x, uint8_t c)
{
	switch (x->f->state) {
	case IS_TAG:
		return cf_imap_tag(x, c);
	case IS_WORD:
		return cf_imap_word(x, c);
	case IS_BRACKET:
		return cf_imap_bracket(x, c);
	case IS_CAPS:
		return cf_imap_caps(x, c);
	case IS_LINE:
		return cf_imap_line(x, c);
	default:
		fatalx("capfilter: bad IMAP state %d", x->f->state);
	}
}

/* ---- POP3, backend -> client ------------------------------------------ */

static int
cf_pop3_push(struct capfilter *f, enum cf_kind k)
{
	size_t	tail;

	if (f->q_len > 0) {
		tail = (f->q_head + f->q_len - 1) % CAPFILTER_MAX_PENDING;
		if (f->q_kind[tail] == k && f->q_count[tail] < UINT32_MAX) {
			f->q_count[tail]++;
			return 0;
		}
	}
	if (f->q_len >= CAPFILTER_MAX_PENDING) {
		return -1;
	}
	tail = (f->q_head + f->q_len) % CAPFILTER_MAX_PENDING;
	f->q_kind[tail] = (uint8_t)k;
	f->q_count[tail] = 1;
	f->q_len++;
	return 0;
}

static enum cf_kind
cf_pop3_pop(struct capfilter *f)
{
	enum cf_kind	k;

	if (f->q_len == 0) {
		return K_NONE;
	}
	k = (enum cf_kind)f->q_kind[f->q_head];
	if (--f->q_count[f->q_head] == 0) {
		f->q_head = (f->q_head + 1) % CAPFILTER_MAX_PENDING;
		f->q_len--;
	}
	return k;
}

static int
cf_pop3_start(struct cf_ctx *x, uint8_t c)
{
	struct capfilter	*f = x->f;
	enum cf_kind		 k;

	if (f->q_len == 0 && c != '-') {
		/* An unsolicited -ERR (idle logout) passes; nothing else. */
		x->err = "unsolicited response from the backend";
		return CF_ERR;
	}
	k = cf_pop3_pop(f);
	f->state = PS_STATUS;
	f->after = K_NONE;
	if (c == '-') {
		return CF_PASS;
	}
	if (c != '+') {
		x->err = "backend response is neither +OK nor -ERR";
		return CF_ERR;
	}
	if (k == K_UNKNOWN) {
		cf_give_up(f, "+OK to a command of unknown framing; "
		    "capability filtering stopped");
	} else if (k == K_MULTI || k == K_CAPA) {
		f->after = k;
	}
	return CF_PASS;
}

static int
cf_pop3_status(struct capfilter *f, uint8_t c)
{
	if (c != '\n') {
		return CF_PASS;
	}
	switch (f->after) {
	case K_MULTI:
		f->state = PS_MULTI_LS;
		break;
	case K_CAPA:
		f->state = PS_CAPA_LINE;
		break;
	default:
		f->state = PS_START;
		break;
	}
	return CF_PASS;
}

/* Body of a multi-line response: only the "." line matters. */
static int
cf_pop3_multi(struct capfilter *f, uint8_t c)
{
	switch (f->state) {
	case PS_MULTI_LS:
		if (c == '.') {
			f->state = PS_MULTI_DOT;
		} else if (c != '\n') {
			f->state = PS_MULTI_LINE;
		}
		break;
	case PS_MULTI_DOT:
		if (c == '\r') {
			f->state = PS_MULTI_DOT_CR;
		} else {
			f->state = c == '\n' ? PS_START : PS_MULTI_LINE;
		}
		break;
	case PS_MULTI_DOT_CR:
		f->state = c == '\n' ? PS_START : PS_MULTI_LINE;
		break;
	default:
		if (c == '\n') {
			f->state = PS_MULTI_LS;
		}
		break;
	}
	return CF_PASS;
}

/* A whole CAPA line is held (LF included): keep or drop it. */
static void
cf_pop3_capa_decide(struct cf_ctx *x)
{
	struct capfilter	*f = x->f;
	struct span		 line = buf_span(&f->hold), name;
	long			 sp;

	line.len--;				/* LF */
	if (line.len > 0 && span_byte(line, line.len - 1) == '\r') {
		line.len--;
	}
	if (span_eq(line, ".")) {
		cf_emit_hold(x);
		f->state = PS_START;
		return;
	}
	if (line.len > 0 && span_byte(line, 0) == '.') {
		line = span_sub(line, 1, line.len - 1);	/* dot-stuffed */
	}
	sp = span_find(line, 0, ' ');
	name = sp < 0 ? line : span_sub(line, 0, (size_t)sp);
	if (name.len == 0 || capfilter_keep(f->conf, name)) {
		cf_emit_hold(x);
	} else {
		f->stripped++;
		buf_reset(&f->hold);
	}
}

static int
cf_pop3_capa(struct cf_ctx *x, uint8_t c)
{
	if (cf_hold(x, c, POP3_MAX_REPLY, "CAPA line too long") == CF_ERR) {
		return CF_ERR;
	}
	if (c == '\n') {
		cf_pop3_capa_decide(x);
	}
	return CF_TAKEN;
}

static int
cf_pop3_step(struct cf_ctx *x, uint8_t c)
{
	switch (x->f->state) {
	case PS_START:
		return cf_pop3_start(x, c);
	case PS_STATUS:
		return cf_pop3_status(x->f, c);
	case PS_MULTI_LS:
	case PS_MULTI_DOT:
	case PS_MULTI_DOT_CR:
	case PS_MULTI_LINE:
		return cf_pop3_multi(x->f, c);
	case PS_CAPA_LINE:
		return cf_pop3_capa(x, c);
	default:
		fatalx("capfilter: bad POP3 state %d", x->f->state);
	}
}

/* ---- feed --------------------------------------------------------------- */

/* Literal bytes: they stay in the run, whatever they are. */
static void
cf_skip_literal(struct cf_ctx *x, size_t n)
{
	struct capfilter	*f = x->f;
	size_t			 k = n - x->pos;

	if ((uint64_t)k > f->literal_left) {
		k = (size_t)f->literal_left;
	}
	x->pos += k;
	f->literal_left -= k;
	if (f->literal_left == 0) {
		f->state = IS_LINE;
	}
}

/* Bytes whose effect on the literal detector depends on its state. */
static int
cf_lit_stateful(uint8_t c)
{
	return (c >= '0' && c <= '9') || c == '+' || c == '}' || c == '\r';
}

/*
 * The rest of a line that passes: jump to its LF (memchr).  The literal
 * detector only needs the line's tail: every byte outside
 * cf_lit_stateful() sets its state regardless of the past, so it is fed
 * from the last such byte on.  The LF itself goes through cf_byte.
 */
static void
cf_skip_line(struct cf_ctx *x, size_t n)
{
	struct span	s = span_sub(x->in, 0, n);
	long		lf = span_find(s, x->pos, '\n');
	size_t		end = lf < 0 ? n : (size_t)lf, i = end;

	if (x->f->proto == CAPFILTER_IMAP) {
		while (i > x->pos && cf_lit_stateful(span_byte(s, i - 1))) {
			i--;
		}
		if (i > x->pos) {
			i--;
		}
		for (; i < end; i++) {
			cf_lit_byte(&x->f->lit, span_byte(s, i));
		}
	}
	x->pos = end;
}

static int
cf_byte(struct cf_ctx *x, uint8_t c)
{
	int	r;

	if (x->f->proto == CAPFILTER_IMAP && c != '\n') {
		cf_lit_byte(&x->f->lit, c);
	}
	do {
		if (x->f->proto == CAPFILTER_IMAP) {
			r = cf_imap_step(x, c);
		} else {
			r = cf_pop3_step(x, c);
		}
	} while (r == CF_AGAIN);
	return r;
}

/* UNTRUSTED: backend bytes, bounded by CAPFILTER_MAX_HOLD held bytes. */
int
capfilter_feed(struct capfilter *f, struct buf *in, struct buf *out,
    const char **errstr_r)
{
	struct cf_ctx	x;
	size_t		n, room;
	int		r = CF_PASS;

	if (f->failed) {
		*errstr_r = "capability filter failed earlier";
		return -1;
	}
	memset(&x, 0, sizeof(x));
	x.f = f;
	x.in = buf_span(in);
	x.out = out;
	room = out->max - buf_len(out);
	if (room <= CAPFILTER_MAX_HOLD) {
		return 0;
	}
	n = x.in.len;
	if (n > room - CAPFILTER_MAX_HOLD) {
		n = room - CAPFILTER_MAX_HOLD;
	}
	while (x.pos < n && r != CF_ERR) {
		if (f->pass) {
			x.pos = n;
		} else if (f->state == IS_LITERAL) {
			cf_skip_literal(&x, n);
		} else {
			if (f->state == IS_LINE || f->state == PS_MULTI_LINE) {
				cf_skip_line(&x, n);
			}
			if (x.pos < n) {
				r = cf_byte(&x, span_byte(x.in, x.pos));
				x.pos++;
				if (r == CF_TAKEN) {
					x.run = x.pos;
				}
			}
		}
	}
	if (r == CF_ERR) {
		x.pos--;			/* the offending byte stays */
	}
	cf_flush(&x);
	buf_consume(in, x.pos);
	if (r == CF_ERR) {
		f->failed = 1;
		buf_reset(&f->hold);
		*errstr_r = x.err;
		return -1;
	}
	return 0;
}

int
capfilter_filter_line(const struct capfilter_conf *conf, struct span line,
    struct buf *out, const char **errstr_r)
{
	struct capfilter	 f;
	struct buf		 in, tmp;
	int			 rc = -1;

	if (conf->proto != CAPFILTER_IMAP) {
		*errstr_r = "only IMAP lines can be filtered alone";
		return -1;
	}
	if (line.len == 0 || span_byte(line, line.len - 1) != '\n' ||
	    span_find(line, 0, '\n') != (long)(line.len - 1)) {
		*errstr_r = "not one complete line";
		return -1;
	}
	capfilter_init(&f, conf);
	buf_init(&in, line.len);
	buf_init(&tmp, line.len + CAPFILTER_MAX_HOLD + 1);
	if (buf_add_span(&in, line) == -1 ||
	    capfilter_feed(&f, &in, &tmp, errstr_r) == -1) {
		goto out_free;
	}
	if (buf_len(&in) != 0 || capfilter_held(&f) != 0 ||
	    (f.proto == CAPFILTER_IMAP && f.state != IS_TAG)) {
		*errstr_r = "line did not end where expected";
		goto out_free;
	}
	if (buf_add_span(out, buf_span(&tmp)) == -1) {
		*errstr_r = "output buffer full";
		goto out_free;
	}
	rc = 0;
out_free:
	capfilter_free(&f);
	buf_release(&in);
	buf_release(&tmp);
	return rc;
}

/* ---- client -> backend tracker ---------------------------------------- */

static enum cf_kind
cf_pop3_classify(struct span line)
{
	static const char *const single[] = {
		"STAT", "DELE", "NOOP", "RSET", "QUIT", "LAST", "USER",
		"PASS", "APOP", "STLS", "UTF8",
	};
	struct span	verb, args = { NULL, 0 };
	long		sp = span_find(line, 0, ' ');
	int		has_args = sp >= 0;
	size_t		i;

	verb = has_args ? span_sub(line, 0, (size_t)sp) : line;
	if (has_args) {
		args = span_trim(span_sub(line, (size_t)sp + 1,
		    line.len - (size_t)sp - 1));
	}
	if (span_eq_ci(verb, "CAPA")) {
		return has_args ? K_UNKNOWN : K_CAPA;
	}
	if (span_eq_ci(verb, "RETR") || span_eq_ci(verb, "TOP")) {
		return K_MULTI;
	}
	if (span_eq_ci(verb, "LIST") || span_eq_ci(verb, "UIDL") ||
	    span_eq_ci(verb, "LANG")) {
		if (!has_args) {
			return K_MULTI;
		}
		return args.len > 0 ? K_SINGLE : K_UNKNOWN;
	}
	if (span_eq_ci(verb, "AUTH")) {
		return has_args ? K_UNKNOWN : K_MULTI;
	}
	for (i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
		if (span_eq_ci(verb, single[i])) {
			return K_SINGLE;
		}
	}
	return K_UNKNOWN;
}

static int
cf_pop3_client(struct capfilter *f, struct span in, const char **errstr_r)
{
	struct span	line;
	size_t		pos = 0, k;
	long		lf;

	while (pos < in.len) {
		lf = span_find(in, pos, '\n');
		k = (lf < 0 ? in.len : (size_t)lf + 1) - pos;
		if (k > POP3_MAX_CMD - buf_len(&f->c_hold) ||
		    buf_add_span(&f->c_hold, span_sub(in, pos, k)) == -1) {
			*errstr_r = "POP3 command line too long";
			return -1;
		}
		pos += k;
		if (lf < 0) {
			break;
		}
		line = buf_span(&f->c_hold);
		line.len--;
		if (line.len > 0 && span_byte(line, line.len - 1) == '\r') {
			line.len--;
		}
		if (cf_pop3_push(f, cf_pop3_classify(line)) == -1) {
			*errstr_r = "too many pipelined POP3 commands";
			return -1;
		}
		buf_reset(&f->c_hold);
	}
	return 0;
}

static void
cf_imap_client_eol(struct capfilter *f)
{
	uint64_t	n = 0;
	int		r;

	if ((r = cf_lit_eol(&f->c_lit, &n)) == -1) {
		/* Cannot follow the client any more: assume the worst. */
		f->compress = 1;
		f->note = "client literal too large to follow; filtering "
		    "stops at the next tagged response";
		f->c_state = CI_REST;
		return;
	}
	if (r == 1) {
		f->c_literal_left = n;
		f->c_state = n > 0 ? CI_LIT : CI_REST;
		return;
	}
	f->c_state = CI_TAG;
}

static void
cf_imap_client_verb(struct capfilter *f, uint8_t c)
{
	struct span	want = SPAN_LIT(CF_COMPRESS);

	if (c == ' ' || c == '\r' || c == '\n') {
		if (f->c_match == CF_COMPRESSLEN) {
			f->compress = 1;
		}
		f->c_state = CI_REST;
		return;
	}
	if (f->c_match < CF_COMPRESSLEN &&
	    cf_lower(c) == cf_lower(span_byte(want, f->c_match))) {
		f->c_match++;
	} else {
		f->c_match = CF_COMPRESSLEN + 1;
	}
}

static void
cf_imap_client_byte(struct capfilter *f, uint8_t c)
{
	if (c != '\n') {
		cf_lit_byte(&f->c_lit, c);
	}
	switch (f->c_state) {
	case CI_TAG:
		if (c == ' ') {
			f->c_match = 0;
			f->c_state = CI_VERB;
		}
		break;
	case CI_VERB:
		cf_imap_client_verb(f, c);
		break;
	default:
		break;
	}
	if (c == '\n') {
		cf_imap_client_eol(f);
	}
}

static void
cf_imap_client(struct capfilter *f, struct span in)
{
	size_t	pos = 0, k;

	while (pos < in.len && !f->compress) {
		if (f->c_state == CI_LIT) {
			k = in.len - pos;
			if ((uint64_t)k > f->c_literal_left) {
				k = (size_t)f->c_literal_left;
			}
			pos += k;
			f->c_literal_left -= k;
			if (f->c_literal_left == 0) {
				f->c_state = CI_REST;
			}
		} else {
			cf_imap_client_byte(f, span_byte(in, pos));
			pos++;
		}
	}
}

/* UNTRUSTED: client bytes, bounded by POP3_MAX_CMD per command and
 * CAPFILTER_MAX_PENDING pending response runs. */
int
capfilter_client(struct capfilter *f, struct span in, const char **errstr_r)
{
	if (f->failed) {
		*errstr_r = "capability filter failed earlier";
		return -1;
	}
	if (f->pass) {
		return 0;
	}
	if (f->proto == CAPFILTER_IMAP) {
		cf_imap_client(f, in);
		return 0;
	}
	if (cf_pop3_client(f, in, errstr_r) == -1) {
		f->failed = 1;
		buf_reset(&f->c_hold);
		return -1;
	}
	return 0;
}
