/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * map_regex: Perdition's popmap.re format (perditiondb(5)), run in the
 * lookup role, unprivileged and chrooted.  The file is the admin's and is
 * trusted to hold sane regular expressions, but it is still parsed with
 * hard limits (MAX_MAP_LINE, MAP_MAX_REGEX) and every bad line is reported
 * as file:line.  The lookup key carries user input: it is only ever matched
 * against, and the text of a match group is copied into the admin's value
 * literally, marked as tainted, so map_parse_result_taint can keep it out
 * of the answer's structure.  Format details and deviations from Perdition
 * are in docs/maps.md.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "map.h"

/* $0..$9, as Perdition (REXEX_NOSUBMATCH 10). */
#define RX_NMATCH	10

struct rx_entry {
	regex_t		 re;
	char		*value;
	size_t		 lineno;
};

struct rx_map {
	struct rx_entry	*v;
	size_t		 n;
	size_t		 cap;
};

/* The lexer: vanessa_config_file_read()'s rules (shell-like), per byte. */
enum rx_state {
	RX_BLANK = 0,		/* between tokens */
	RX_WORD,		/* in an unquoted part of a token */
	RX_SQUOTE,		/* in '...': every byte literal */
	RX_DQUOTE,		/* in "...": backslash still escapes */
	RX_COMMENT,		/* after an unquoted, unescaped '#' */
};

struct rx_lex {
	enum rx_state	 state;
	int		 escape;	/* the previous byte was a backslash */
	size_t		 ntok;		/* tokens begun on this logical line */
	struct buf	 tok[2];	/* regex, value */
	int		 overflow;	/* a token exceeded MAX_MAP_LINE */
	size_t		 startline;
	int		 continued;	/* the last line ended in a backslash */
};

struct rx_load {
	const char	*fname;
	struct rx_map	*rm;
	struct rx_lex	 lx;
	char		*errbuf;
	size_t		 errbufsz;
	size_t		 nerrors;
};

static void
rx_entries_free(struct rx_map *rm)
{
	size_t	i;

	for (i = 0; i < rm->n; i++) {
		regfree(&rm->v[i].re);
		free(rm->v[i].value);
	}
	free(rm->v);
	free(rm);
}

static void
rx_free(struct map *m)
{
	if (m->priv != NULL) {
		rx_entries_free(m->priv);
	}
	m->priv = NULL;
}

static void
rx_lex_reset(struct rx_lex *lx)
{
	buf_release(&lx->tok[0]);
	buf_release(&lx->tok[1]);
	lx->state = RX_BLANK;
	lx->escape = 0;
	lx->ntok = 0;
	lx->overflow = 0;
	lx->continued = 0;
}

static void
rx_error(struct rx_load *ld, size_t lineno, const char *msg)
{
	map_load_error(ld->fname, lineno, msg, ld->errbuf, ld->errbufsz,
	    &ld->nerrors);
}

/* ---- "$n" expansion ------------------------------------------------ */

/*
 * Copies value into out, replacing $0..$9 by the text of that group of key
 * (nothing if the group did not take part in the match).  Group bytes are
 * marked 1 in taint, the admin's bytes 0.  -1 if it does not fit.
 */
static int
rx_expand(const char *value, struct span key, const regmatch_t *pm,
    size_t nsub, struct buf *out, struct buf *taint)
{
	struct span	v = span_from_str(value), g;
	size_t		i, n, k;
	uint8_t		c, one = 1, zero = 0;

	for (i = 0; i < v.len; i++) {
		c = span_byte(v, i);
		if (c != '$' || i + 1 == v.len || span_byte(v, i + 1) < '0' ||
		    span_byte(v, i + 1) > '9' ||
		    (n = (size_t)(span_byte(v, i + 1) - '0')) > nsub) {
			if (buf_add(out, &c, 1) == -1 ||
			    buf_add(taint, &zero, 1) == -1) {
				return -1;
			}
			continue;
		}
		i++;
		if (pm[n].rm_so < 0 || pm[n].rm_eo < pm[n].rm_so ||
		    (size_t)pm[n].rm_eo > key.len) {
			continue;
		}
		g = span_sub(key, (size_t)pm[n].rm_so,
		    (size_t)(pm[n].rm_eo - pm[n].rm_so));
		if (buf_add_span(out, g) == -1) {
			return -1;
		}
		for (k = 0; k < g.len; k++) {
			if (buf_add(taint, &one, 1) == -1) {
				return -1;
			}
		}
	}
	return 0;
}

/* Expands and validates; 0 with *r, or -1 with *errstr_r. */
static int
rx_result(const char *value, struct span key, const regmatch_t *pm,
    size_t nsub, struct map_result *r, const char **errstr_r)
{
	struct buf	out, taint;
	int		rv = -1;

	buf_init(&out, MAP_MAX_VALUE);
	buf_init(&taint, MAP_MAX_VALUE);
	if (rx_expand(value, key, pm, nsub, &out, &taint) == -1) {
		*errstr_r = "result longer than MAP_MAX_VALUE";
	} else if (buf_len(&out) == 0) {
		*errstr_r = "empty result";
	} else {
		rv = map_parse_result_taint(buf_span(&out), buf_ptr(&taint),
		    r, errstr_r);
	}
	buf_release(&out);
	buf_release(&taint);
	return rv;
}

/*
 * Checks a value at load time: every $n names a group of the regex, and
 * the value is a valid result when each group is "1" or "a" (a port or a
 * host name).
 */
static int
rx_check_value(const char *value, size_t nsub, const char **errstr_r)
{
	struct span		v = span_from_str(value);
	struct map_result	r;
	regmatch_t		pm[RX_NMATCH];
	size_t			i;
	uint8_t			d;

	for (i = 0; i + 1 < v.len; i++) {
		if (span_byte(v, i) != '$') {
			continue;
		}
		d = span_byte(v, i + 1);
		if (d >= '0' && d <= '9' && (size_t)(d - '0') > nsub) {
			*errstr_r = "$n names a group the expression lacks";
			return -1;
		}
	}
	for (i = 0; i < RX_NMATCH; i++) {
		pm[i].rm_so = 0;
		pm[i].rm_eo = 1;
	}
	if (rx_result(value, SPAN_LIT("1"), pm, nsub, &r, errstr_r) == 0) {
		return 0;
	}
	return rx_result(value, SPAN_LIT("a"), pm, nsub, &r, errstr_r);
}

/* ---- loading ------------------------------------------------------- */

static void
rx_tok_add(struct rx_lex *lx, uint8_t c)
{
	if (lx->ntok == 0 || lx->ntok > 2) {
		return;
	}
	if (buf_add(&lx->tok[lx->ntok - 1], &c, 1) == -1) {
		lx->overflow = 1;
	}
}

static void
rx_tok_begin(struct rx_lex *lx, enum rx_state st)
{
	lx->ntok++;
	lx->state = st;
}

static void
rx_byte(struct rx_lex *lx, uint8_t c)
{
	if (lx->escape) {
		lx->escape = 0;
		if (lx->state == RX_BLANK) {
			rx_tok_begin(lx, RX_WORD);
		}
		rx_tok_add(lx, c);
		return;
	}
	switch (lx->state) {
	case RX_COMMENT:
		break;
	case RX_BLANK:
		if (c == ' ' || c == '\t') {
			break;
		}
		if (c == '#') {
			lx->state = RX_COMMENT;
		} else if (c == '\\') {
			lx->escape = 1;
		} else if (c == '\'') {
			rx_tok_begin(lx, RX_SQUOTE);
		} else if (c == '"') {
			rx_tok_begin(lx, RX_DQUOTE);
		} else {
			rx_tok_begin(lx, RX_WORD);
			rx_tok_add(lx, c);
		}
		break;
	case RX_WORD:
		if (c == ' ' || c == '\t') {
			lx->state = RX_BLANK;
		} else if (c == '#') {
			lx->state = RX_COMMENT;
		} else if (c == '\\') {
			lx->escape = 1;
		} else if (c == '\'') {
			lx->state = RX_SQUOTE;
		} else if (c == '"') {
			lx->state = RX_DQUOTE;
		} else {
			rx_tok_add(lx, c);
		}
		break;
	case RX_SQUOTE:
		if (c == '\'') {
			lx->state = RX_WORD;
		} else {
			rx_tok_add(lx, c);
		}
		break;
	case RX_DQUOTE:
		if (c == '"') {
			lx->state = RX_WORD;
		} else if (c == '\\') {
			lx->escape = 1;
		} else {
			rx_tok_add(lx, c);
		}
		break;
	}
}

/* Takes one token as a C string (malloc); -1 if it holds a NUL. */
static int
rx_tok_cstr(struct span t, char **s_r)
{
	char	*s;

	if ((s = malloc(t.len + 1)) == NULL) {
		fatal("rx_tok_cstr");
	}
	if (span_cstr(t, s, t.len + 1) == -1) {
		free(s);
		return -1;
	}
	*s_r = s;
	return 0;
}

static void
rx_add_entry(struct rx_load *ld, size_t lineno, char *rx, char *value)
{
	struct rx_entry	*e;
	char		 msg[256], rerr[160];
	const char	*errstr = NULL;
	int		 rc;

	if (ld->rm->n == ld->rm->cap) {
		ld->rm->cap = ld->rm->cap ? ld->rm->cap * 2 : 16;
		e = reallocarray(ld->rm->v, ld->rm->cap, sizeof(*e));
		if (e == NULL) {
			fatal("rx_add_entry");
		}
		ld->rm->v = e;
	}
	e = &ld->rm->v[ld->rm->n];
	if ((rc = regcomp(&e->re, rx, REG_EXTENDED | REG_NEWLINE)) != 0) {
		(void)regerror(rc, &e->re, rerr, sizeof(rerr));
		(void)snprintf(msg, sizeof(msg), "bad regular expression: %s",
		    rerr);
		rx_error(ld, lineno, msg);
		free(value);
		return;
	}
	if (rx_check_value(value, e->re.re_nsub, &errstr) == -1) {
		(void)snprintf(msg, sizeof(msg), "bad value: %s", errstr);
		rx_error(ld, lineno, msg);
		regfree(&e->re);
		free(value);
		return;
	}
	e->value = value;
	e->lineno = lineno;
	ld->rm->n++;
}

/* A logical line is complete: check it and add its entry. */
static void
rx_finish(struct rx_load *ld, size_t lineno)
{
	struct rx_lex	*lx = &ld->lx;
	struct span	 rxs = buf_span(&lx->tok[0]);
	struct span	 vs = buf_span(&lx->tok[1]);
	char		*rx = NULL, *value = NULL;

	if (lx->ntok == 0) {
		return;
	}
	/* One trailing ':' ends the expression (the colon is optional). */
	if (rxs.len > 0 && span_byte(rxs, rxs.len - 1) == ':') {
		rxs = span_sub(rxs, 0, rxs.len - 1);
	}
	if (lx->overflow) {
		rx_error(ld, lineno, "token longer than MAX_MAP_LINE");
	} else if (lx->ntok == 1) {
		rx_error(ld, lineno, "regular expression without a value");
	} else if (lx->ntok > 2) {
		rx_error(ld, lineno, "text after the value");
	} else if (rxs.len == 0) {
		rx_error(ld, lineno, "empty regular expression");
	} else if (vs.len == 0) {
		rx_error(ld, lineno, "empty value");
	} else if (ld->rm->n >= MAP_MAX_REGEX) {
		rx_error(ld, lineno, "more than MAP_MAX_REGEX expressions");
	} else if (rx_tok_cstr(rxs, &rx) == -1 ||
	    rx_tok_cstr(vs, &value) == -1) {
		rx_error(ld, lineno, "NUL byte");
		free(value);
	} else {
		rx_add_entry(ld, lineno, rx, value);
	}
	free(rx);
}

static int
rx_line(void *arg, struct span line, size_t lineno, int too_long)
{
	struct rx_load	*ld = arg;
	struct rx_lex	*lx = &ld->lx;
	size_t		 i;

	if (!lx->continued) {
		lx->startline = lineno;
	}
	lx->continued = 0;
	if (too_long) {
		rx_error(ld, lineno, "line longer than MAX_MAP_LINE");
		rx_lex_reset(lx);
		return 0;
	}
	for (i = 0; i < line.len; i++) {
		rx_byte(lx, span_byte(line, i));
	}
	if (lx->escape && lx->state != RX_COMMENT) {
		/* Backslash-newline joins the next line (Perdition). */
		lx->escape = 0;
		lx->continued = 1;
		return 0;
	}
	if (lx->state == RX_SQUOTE || lx->state == RX_DQUOTE) {
		rx_error(ld, lineno, "unterminated quote");
	} else {
		rx_finish(ld, lx->startline);
	}
	rx_lex_reset(lx);
	return 0;
}

int
map_regex_load_text(struct map *m, const char *fname, const char *text,
    size_t len, char *errbuf, size_t errbufsz)
{
	struct rx_load	ld;
	struct span	t = { (const uint8_t *)text, len };

	memset(&ld, 0, sizeof(ld));
	ld.fname = fname;
	ld.errbuf = errbuf;
	ld.errbufsz = errbufsz;
	if ((ld.rm = calloc(1, sizeof(*ld.rm))) == NULL) {
		fatal("map_regex_load_text");
	}
	buf_init(&ld.lx.tok[0], MAX_MAP_LINE);
	buf_init(&ld.lx.tok[1], MAX_MAP_LINE);
	(void)map_text_lines(t, rx_line, &ld);
	if (ld.lx.continued || ld.lx.ntok > 0) {
		/* The file ended right after a backslash. */
		rx_finish(&ld, ld.lx.startline);
	}
	rx_lex_reset(&ld.lx);
	if (ld.nerrors > 0) {
		rx_entries_free(ld.rm);
		return -1;
	}
	m->priv = ld.rm;
	return 0;
}

static int
rx_load(struct map *m, const char *path, char *errbuf, size_t errbufsz)
{
	return map_load_file(m, path, map_regex_load_text, errbuf, errbufsz);
}

/* ---- lookup -------------------------------------------------------- */

/* UNTRUSTED: key holds user input, bounded by MAP_MAX_KEY (map_lookup). */
static int
rx_lookup(struct map *m, const char *key, struct map_result *r)
{
	struct rx_map	*rm = m->priv;
	struct rx_entry	*e;
	struct span	 k = span_from_str(key);
	regmatch_t	 pm[RX_NMATCH];
	const char	*errstr = NULL;
	char		 esc[MAP_MAX_KEY * 4 + 8];
	size_t		 i;
	int		 rc;

	if (rm == NULL || span_find(k, 0, '\n') != -1 ||
	    span_find(k, 0, '\r') != -1) {
		return -1;
	}
	for (i = 0; i < rm->n; i++) {
		e = &rm->v[i];
		rc = regexec(&e->re, key, RX_NMATCH, pm, 0);
		if (rc == REG_NOMATCH) {
			continue;
		}
		if (rc != 0) {
			log_warnx("map %s:%zu: regexec failed (%d)",
			    m->conf.path, e->lineno, rc);
			return -1;
		}
		if (rx_result(e->value, k, pm, e->re.re_nsub, r,
		    &errstr) == -1) {
			log_warnx("map %s:%zu: answer for key=%s refused: %s",
			    m->conf.path, e->lineno,
			    log_escape(k, esc, sizeof(esc)), errstr);
			return -1;
		}
		return 1;
	}
	return 0;
}

const struct map_ops map_regex_ops = {
	.name = "regex",
	.load = rx_load,
	.lookup = rx_lookup,
	.free = rx_free,
};
