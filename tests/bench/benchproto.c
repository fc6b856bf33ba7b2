/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * benchproto: stream parsers of the benchmark tools (fake backend, its
 * auth_http responder, load generator).  Runs unprivileged in those test
 * processes; trusts no peer: all byte access goes through lib/buf.h and
 * every line and literal is bounded.
 */
#include <ctype.h>
#include <string.h>

#include "benchproto.h"

enum bp_lit_state {
	BP_LS_CLOSE = 0,
	BP_LS_PLUS,
	BP_LS_DIGITS
};

int
bp_literal_suffix(struct span line, uint64_t max, uint64_t *n_r,
    int *sync_r)
{
	enum bp_lit_state st = BP_LS_CLOSE;
	size_t	 i, ndig = 0;
	int	 sync = 1;
	uint8_t	 c;

	for (i = line.len; i > 0; i--) {
		c = span_byte(line, i - 1);
		switch (st) {
		case BP_LS_CLOSE:
			if (c != '}') {
				return 0;
			}
			st = BP_LS_PLUS;
			break;
		case BP_LS_PLUS:
			st = BP_LS_DIGITS;
			if (c == '+') {
				sync = 0;
				break;
			}
			/* FALLTHROUGH */
		case BP_LS_DIGITS:
			if (c >= '0' && c <= '9') {
				ndig++;
				break;
			}
			if (c != '{' || ndig == 0) {
				return 0;
			}
			if (span_parse_uint(span_sub(line, i, ndig), 0, max,
			    n_r) == -1) {
				return -1;
			}
			*sync_r = sync;
			return 1;
		}
	}
	return 0;
}

struct span
bp_token(struct span s, struct span *rest_r)
{
	long	 sp;
	size_t	 at;

	sp = span_find(s, 0, ' ');
	if (sp < 0) {
		*rest_r = span_sub(s, s.len, 0);
		return s;
	}
	at = (size_t)sp;
	*rest_r = span_sub(s, at + 1, s.len - at - 1);
	return span_sub(s, 0, at);
}

/* Copies a token upper-cased; -1 if empty, too long or holding a NUL. */
static int
bp_word(struct span tok, char *dst, size_t dstsz, int upper)
{
	size_t	 i;

	if (tok.len == 0 || span_cstr(tok, dst, dstsz) == -1) {
		return -1;
	}
	for (i = 0; upper && dst[i] != '\0'; i++) {
		dst[i] = (char)toupper((unsigned char)dst[i]);
	}
	return 0;
}

static int
bp_imap_first_line(struct bp_imap_cmd *ic, struct span line)
{
	struct span	 tok, rest;

	tok = bp_token(line, &rest);
	if (bp_word(tok, ic->ic_tag, sizeof(ic->ic_tag), 0) == -1) {
		return -1;
	}
	tok = bp_token(rest, &rest);
	if (bp_word(tok, ic->ic_verb, sizeof(ic->ic_verb), 1) == -1) {
		return -1;
	}
	ic->ic_nargs = 0;
	ic->ic_arg1[0] = '\0';
	while (rest.len > 0) {
		tok = bp_token(rest, &rest);
		if (tok.len == 0) {
			continue;
		}
		if (ic->ic_nargs++ == 0) {
			/* Long first arguments (SASL-IR) need not be kept. */
			(void)bp_word(tok, ic->ic_arg1, sizeof(ic->ic_arg1),
			    1);
		}
	}
	return 0;
}

void
bp_imap_cmd_init(struct bp_imap_cmd *ic)
{
	memset(ic, 0, sizeof(*ic));
	ic->ic_state = BP_IMAP_LINE;
}

/* Skips literal bytes; returns 1 when the literal is done, 0 for more. */
static int
bp_skip_literal(struct buf *in, uint64_t *left, uint64_t *count)
{
	size_t	 n;

	n = buf_len(in);
	if ((uint64_t)n > *left) {
		n = (size_t)*left;
	}
	if (n > 0) {
		buf_consume(in, n);
		*left -= n;
		if (count != NULL) {
			*count += n;
		}
	}
	return *left == 0 ? 1 : 0;
}

int
bp_imap_cmd_feed(struct bp_imap_cmd *ic, struct buf *in, size_t max,
    int *cont_r, const char **errstr_r)
{
	struct span	 line;
	size_t		 used;
	uint64_t	 n;
	int		 r, sync;

	*cont_r = 0;
	for (;;) {
		if (ic->ic_state == BP_IMAP_LITERAL) {
			if (buf_len(in) > 0) {
				ic->ic_cont = 0;	/* peer did not wait */
			}
			if (bp_skip_literal(in, &ic->ic_lit_left, NULL) == 0) {
				break;
			}
			ic->ic_state = BP_IMAP_LINE;
		}
		r = buf_getline(in, max, &line, &used);
		if (r == 0) {
			break;
		}
		ic->ic_cont = 0;
		if (r == -1) {
			*errstr_r = "command line too long";
			return -1;
		}
		if (ic->ic_lines++ == 0 && bp_imap_first_line(ic, line) == -1) {
			buf_consume(in, used);
			*errstr_r = "no tag or verb";
			return -1;
		}
		r = bp_literal_suffix(line, BP_MAX_CMD_LITERAL, &n, &sync);
		buf_consume(in, used);
		if (r == -1) {
			*errstr_r = "literal too large";
			return -1;
		}
		if (r == 0) {
			return 1;
		}
		ic->ic_state = BP_IMAP_LITERAL;
		ic->ic_lit_left = n;
		ic->ic_cont = sync;
	}
	*cont_r = ic->ic_cont;
	ic->ic_cont = 0;
	return 0;
}

void
bp_resp_init(struct bp_resp *rr, int literals)
{
	memset(rr, 0, sizeof(*rr));
	rr->rr_state = BP_IMAP_LINE;
	rr->rr_literals = literals;
}

int
bp_resp_next(struct bp_resp *rr, struct buf *in, size_t max,
    struct span *line_r, size_t *used_r, const char **errstr_r)
{
	uint64_t	 n;
	int		 r, sync;

	if (rr->rr_state == BP_IMAP_LITERAL) {
		if (bp_skip_literal(in, &rr->rr_lit_left,
		    &rr->rr_lit_bytes) == 0) {
			return 0;
		}
		rr->rr_state = BP_IMAP_LINE;
	}
	r = buf_getline(in, max, line_r, used_r);
	if (r == -1) {
		*errstr_r = "response line too long";
		return -1;
	}
	if (r == 0 || !rr->rr_literals) {
		return r;
	}
	r = bp_literal_suffix(*line_r, BP_MAX_RESP_LITERAL, &n, &sync);
	if (r == -1) {
		*errstr_r = "response literal too large";
		return -1;
	}
	if (r == 1) {
		rr->rr_state = BP_IMAP_LITERAL;
		rr->rr_lit_left = n;
	}
	return 1;
}

uint64_t
bp_resp_literal_left(const struct bp_resp *rr)
{
	return rr->rr_state == BP_IMAP_LITERAL ? rr->rr_lit_left : 0;
}

void
bp_resp_literal_skipped(struct bp_resp *rr, size_t n)
{
	if ((uint64_t)n > bp_resp_literal_left(rr)) {
		n = (size_t)bp_resp_literal_left(rr);
	}
	rr->rr_lit_left -= n;
	rr->rr_lit_bytes += n;
	if (rr->rr_lit_left == 0) {
		rr->rr_state = BP_IMAP_LINE;
	}
}

void
bp_http_init(struct bp_http *hh)
{
	memset(hh, 0, sizeof(*hh));
}

static void
bp_http_header(struct bp_http *hh, struct span line)
{
	struct span	 v;
	size_t		 k = sizeof("Auth-Protocol:") - 1;

	if (!span_has_prefix_ci(line, "Auth-Protocol:")) {
		return;
	}
	v = span_trim(span_sub(line, k, line.len - k));
	if (span_eq_ci(v, "imap")) {
		hh->hh_proto = BP_HTTP_PROTO_IMAP;
	} else if (span_eq_ci(v, "pop3")) {
		hh->hh_proto = BP_HTTP_PROTO_POP3;
	} else if (span_eq_ci(v, "smtp")) {
		hh->hh_proto = BP_HTTP_PROTO_SMTP;
	}
}

int
bp_http_feed(struct bp_http *hh, struct buf *in, const char **errstr_r)
{
	struct span	 line;
	size_t		 used;
	int		 r;

	for (;;) {
		r = buf_getline(in, BP_HTTP_MAX_LINE, &line, &used);
		if (r == -1) {
			*errstr_r = "header line too long";
			return -1;
		}
		if (r == 0) {
			if (hh->hh_seen + buf_len(in) >= BP_HTTP_MAX_HEAD) {
				*errstr_r = "request head too long";
				return -1;
			}
			return 0;
		}
		hh->hh_seen += used;
		if (hh->hh_seen > BP_HTTP_MAX_HEAD) {
			*errstr_r = "request head too long";
			return -1;
		}
		if (hh->hh_lines++ == 0) {
			if (!span_has_prefix_ci(line, "GET ")) {
				*errstr_r = "not a GET request";
				return -1;
			}
		} else if (line.len == 0) {
			buf_consume(in, used);
			return 1;
		} else {
			bp_http_header(hh, line);
		}
		buf_consume(in, used);
	}
}
