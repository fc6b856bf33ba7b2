/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * resp: classification of login-phase lines (see resp.h).  Runs in the
 * worker on UNTRUSTED bytes; every access goes through the span helpers.
 */
#include <string.h>

#include "bailey_limits.h"
#include "resp.h"

/* Backend lines may not carry NUL or a stray CR (LF ends the line). */
static int
has_nul_cr(struct span s)
{
	size_t	i;

	for (i = 0; i < s.len; i++) {
		if (span_byte(s, i) == '\0' || span_byte(s, i) == '\r') {
			return 1;
		}
	}
	return 0;
}

static int
is_alpha(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

int
pop3_cmd_parse(struct span line, struct pop3_cmd *cmd)
{
	size_t	i = 0;

	memset(cmd, 0, sizeof(*cmd));
	if (line.len == 0 || line.len > POP3_MAX_CMD - 2) {
		return -1;
	}
	while (i < line.len && is_alpha(span_byte(line, i))) {
		i++;
	}
	if (i == 0 || i > 4) {
		return -1;
	}
	cmd->verb = span_sub(line, 0, i);
	if (i == line.len) {
		return 0;
	}
	if (span_byte(line, i) != ' ') {
		return -1;
	}
	cmd->has_arg = 1;
	cmd->arg = span_sub(line, i + 1, line.len - i - 1);
	return 0;
}

/* Splits the first word off; returns it and leaves the rest in *rest. */
static struct span
next_word(struct span s, struct span *rest)
{
	long	sp = span_find(s, 0, ' ');

	if (sp < 0) {
		*rest = span_sub(s, s.len, 0);
		return s;
	}
	*rest = span_sub(s, (size_t)sp + 1, s.len - (size_t)sp - 1);
	return span_sub(s, 0, (size_t)sp);
}

static enum imap_resp_status
status_of(struct span w)
{
	if (span_eq_ci(w, "OK")) {
		return IMAP_ST_OK;
	}
	if (span_eq_ci(w, "NO")) {
		return IMAP_ST_NO;
	}
	if (span_eq_ci(w, "BAD")) {
		return IMAP_ST_BAD;
	}
	if (span_eq_ci(w, "BYE")) {
		return IMAP_ST_BYE;
	}
	if (span_eq_ci(w, "PREAUTH")) {
		return IMAP_ST_PREAUTH;
	}
	return IMAP_ST_OTHER;
}

int
imap_resp_parse(struct span line, struct imap_resp *r)
{
	struct span	first, word, rest;

	memset(r, 0, sizeof(*r));
	if (line.len == 0 || line.len > BACKEND_MAX_LINE || has_nul_cr(line)) {
		return -1;
	}
	first = next_word(line, &rest);
	if (span_eq(first, "+")) {
		r->kind = IMAP_RESP_CONTINUE;
		r->text = rest;
		return 0;
	}
	if (first.len == 0 || rest.len == 0) {
		return -1;
	}
	word = next_word(rest, &r->text);
	r->status = status_of(word);
	if (span_eq(first, "*")) {
		r->kind = IMAP_RESP_UNTAGGED;
		if (r->status == IMAP_ST_OTHER) {
			r->text = rest;
		}
		return 0;
	}
	r->kind = IMAP_RESP_TAGGED;
	r->tag = first;
	if (r->status != IMAP_ST_OK && r->status != IMAP_ST_NO &&
	    r->status != IMAP_ST_BAD) {
		return -1;
	}
	return 0;
}

int
imap_caps_has(struct span text, const char *cap)
{
	struct span	w, rest = text;

	/* "[CAPABILITY a b c] text" or "CAPABILITY a b c". */
	if (rest.len > 0 && span_byte(rest, 0) == '[') {
		rest = span_sub(rest, 1, rest.len - 1);
	}
	w = next_word(rest, &rest);
	if (!span_eq_ci(w, "CAPABILITY")) {
		return 0;
	}
	while (rest.len > 0) {
		w = next_word(rest, &rest);
		if (w.len > 0 && span_byte(w, w.len - 1) == ']') {
			return span_eq_ci(span_sub(w, 0, w.len - 1), cap);
		}
		if (span_eq_ci(w, cap)) {
			return 1;
		}
	}
	return 0;
}

enum pop3_resp
pop3_resp_parse(struct span line, struct span *text_r)
{
	struct span	w, rest;

	*text_r = span_sub(line, line.len, 0);
	if (line.len > POP3_MAX_REPLY || has_nul_cr(line)) {
		return POP3_RESP_BAD;
	}
	w = next_word(line, &rest);
	*text_r = rest;
	if (span_eq(w, "+OK")) {
		return POP3_RESP_OK;
	}
	if (span_eq(w, "-ERR")) {
		return POP3_RESP_ERR;
	}
	if (span_eq(w, "+")) {
		return POP3_RESP_CONT;
	}
	return POP3_RESP_BAD;
}

int
pop3_capa_sasl_has(struct span line, const char *mech)
{
	struct span	w, rest;

	w = next_word(line, &rest);
	if (!span_eq_ci(w, "SASL")) {
		return 0;
	}
	while (rest.len > 0) {
		w = next_word(rest, &rest);
		if (span_eq_ci(w, mech)) {
			return 1;
		}
	}
	return 0;
}
