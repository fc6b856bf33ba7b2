/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * image_conf: parser for appliance.conf, run by init (PID 1, root) before
 * any service starts.  It trusts nothing in the file: every line is
 * length-checked by buf_getline, tokens are spans into the line, numbers
 * go through parse_uint and addresses through inet_pton.  Grammar, one
 * statement a line, '#' starts a comment:
 *
 *	address A.B.C.D/PREFIX
 *	gateway A.B.C.D
 *	allow-in PORT
 *	allow-out A.B.C.D PORT
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "image_conf.h"

#define IC_MAX_TOKENS	4
/* A line, its CR and its LF. */
#define IC_WINDOW	(IMAGE_CONF_MAX_LINE + 2)

enum ic_lex_state {
	IC_LEX_BLANK,
	IC_LEX_WORD
};

struct ic_line {
	struct span	 l_tok[IC_MAX_TOKENS];
	size_t		 l_ntok;
};

static int	ic_error(struct image_conf_parser *, const char *);
static int	ic_tokenize(struct image_conf_parser *, struct span,
		    struct ic_line *);
static int	ic_ipv4(struct span, uint32_t *);
static int	ic_port(struct span, uint16_t *);
static int	ic_do_line(struct image_conf_parser *, struct span);
static int	ic_drain(struct image_conf_parser *);
static int	ic_address(struct image_conf_parser *, const struct ic_line *);
static int	ic_gateway(struct image_conf_parser *, const struct ic_line *);
static int	ic_allow_in(struct image_conf_parser *, const struct ic_line *);
static int	ic_allow_out(struct image_conf_parser *,
		    const struct ic_line *);

void
image_conf_init(struct image_conf_parser *p, struct image_conf *c)
{
	memset(p, 0, sizeof(*p));
	memset(c, 0, sizeof(*c));
	buf_init(&p->p_line, IC_WINDOW);
	p->p_conf = c;
}

void
image_conf_release(struct image_conf_parser *p)
{
	buf_release(&p->p_line);
}

static int
ic_error(struct image_conf_parser *p, const char *msg)
{
	snprintf(p->p_err, sizeof(p->p_err), "line %lu: %s", p->p_lineno,
	    msg);
	p->p_failed = 1;
	return -1;
}

/* Splits a line into blank-separated words; a '#' at a word start ends it. */
static int
ic_tokenize(struct image_conf_parser *p, struct span line, struct ic_line *l)
{
	enum ic_lex_state st = IC_LEX_BLANK;
	size_t i, start = 0;
	uint8_t c;

	l->l_ntok = 0;
	for (i = 0; i <= line.len; i++) {
		c = (i < line.len) ? span_byte(line, i) : ' ';
		if (c == '\t') {
			c = ' ';
		}
		if (c < 0x20 || c == 0x7f) {
			return ic_error(p, "control character");
		}
		if (st == IC_LEX_BLANK && c == '#') {
			break;
		}
		if (st == IC_LEX_BLANK && c != ' ') {
			st = IC_LEX_WORD;
			start = i;
		} else if (st == IC_LEX_WORD && c == ' ') {
			if (l->l_ntok == IC_MAX_TOKENS) {
				return ic_error(p, "too many words");
			}
			l->l_tok[l->l_ntok++] = span_sub(line, start,
			    i - start);
			st = IC_LEX_BLANK;
		}
	}
	return 0;
}

static int
ic_ipv4(struct span s, uint32_t *addr_r)
{
	char tmp[INET_ADDRSTRLEN];
	struct in_addr a;

	if (span_cstr(s, tmp, sizeof(tmp)) == -1 ||
	    inet_pton(AF_INET, tmp, &a) != 1) {
		return -1;
	}
	*addr_r = a.s_addr;
	return 0;
}

static int
ic_port(struct span s, uint16_t *port_r)
{
	uint64_t v;

	if (span_parse_uint(s, 1, 65535, &v) == -1) {
		return -1;
	}
	*port_r = (uint16_t)v;
	return 0;
}

static int
ic_address(struct image_conf_parser *p, const struct ic_line *l)
{
	struct span tok = l->l_tok[1];
	long slash;
	uint64_t prefix;

	if (l->l_ntok != 2) {
		return ic_error(p, "usage: address A.B.C.D/PREFIX");
	}
	slash = span_find(tok, 0, '/');
	if (slash < 0 || ic_ipv4(span_sub(tok, 0, (size_t)slash),
	    &p->p_conf->ic_addr) == -1) {
		return ic_error(p, "address: need A.B.C.D/PREFIX");
	}
	if (span_parse_uint(span_sub(tok, (size_t)slash + 1,
	    tok.len - (size_t)slash - 1), 1, 32, &prefix) == -1) {
		return ic_error(p, "address: prefix must be 1 to 32");
	}
	p->p_conf->ic_prefix = (unsigned int)prefix;
	p->p_have_addr = 1;
	return 0;
}

static int
ic_gateway(struct image_conf_parser *p, const struct ic_line *l)
{
	if (l->l_ntok != 2 || ic_ipv4(l->l_tok[1],
	    &p->p_conf->ic_gateway) == -1) {
		return ic_error(p, "usage: gateway A.B.C.D");
	}
	return 0;
}

static int
ic_allow_in(struct image_conf_parser *p, const struct ic_line *l)
{
	struct image_conf *c = p->p_conf;
	uint16_t port;

	if (l->l_ntok != 2 || ic_port(l->l_tok[1], &port) == -1) {
		return ic_error(p, "usage: allow-in PORT (1 to 65535)");
	}
	if (c->ic_nin == IMAGE_CONF_MAX_IN) {
		return ic_error(p, "too many allow-in lines");
	}
	c->ic_in[c->ic_nin++] = port;
	return 0;
}

static int
ic_allow_out(struct image_conf_parser *p, const struct ic_line *l)
{
	struct image_conf *c = p->p_conf;
	struct image_conf_dest d;

	if (l->l_ntok != 3 || ic_ipv4(l->l_tok[1], &d.d_addr) == -1 ||
	    ic_port(l->l_tok[2], &d.d_port) == -1) {
		return ic_error(p, "usage: allow-out A.B.C.D PORT");
	}
	if (c->ic_nout == IMAGE_CONF_MAX_OUT) {
		return ic_error(p, "too many allow-out lines");
	}
	c->ic_out[c->ic_nout++] = d;
	return 0;
}

static int
ic_do_line(struct image_conf_parser *p, struct span line)
{
	struct ic_line l;

	p->p_lineno++;
	if (ic_tokenize(p, line, &l) == -1) {
		return -1;
	}
	if (l.l_ntok == 0) {
		return 0;
	}
	if (span_eq(l.l_tok[0], "address")) {
		return ic_address(p, &l);
	}
	if (span_eq(l.l_tok[0], "gateway")) {
		return ic_gateway(p, &l);
	}
	if (span_eq(l.l_tok[0], "allow-in")) {
		return ic_allow_in(p, &l);
	}
	if (span_eq(l.l_tok[0], "allow-out")) {
		return ic_allow_out(p, &l);
	}
	return ic_error(p, "unknown keyword");
}

/* Takes complete lines out of the line buffer.  0, or -1 on an error. */
static int
ic_drain(struct image_conf_parser *p)
{
	struct span line;
	size_t used;
	int rv;

	while ((rv = buf_getline(&p->p_line, IC_WINDOW, &line, &used)) == 1) {
		if (line.len > IMAGE_CONF_MAX_LINE) {
			p->p_lineno++;
			return ic_error(p, "line too long");
		}
		if (ic_do_line(p, line) == -1) {
			return -1;
		}
		buf_consume(&p->p_line, used);
	}
	if (rv == -1) {
		p->p_lineno++;
		return ic_error(p, "line too long");
	}
	return 0;
}

int
image_conf_feed(struct image_conf_parser *p, const uint8_t *data, size_t len,
    const char **errstr_r)
{
	struct span in = { data, len };
	size_t off = 0, n;

	if (p->p_failed) {
		goto fail;
	}
	if (len > IMAGE_CONF_MAX_FILE - p->p_total) {
		snprintf(p->p_err, sizeof(p->p_err), "file too large");
		p->p_failed = 1;
		goto fail;
	}
	p->p_total += len;
	while (off < len) {
		n = IC_WINDOW - buf_len(&p->p_line);
		if (n > len - off) {
			n = len - off;
		}
		if (buf_add_span(&p->p_line, span_sub(in, off, n)) == -1) {
			ic_error(p, "internal: line buffer");
			goto fail;
		}
		off += n;
		if (ic_drain(p) == -1) {
			goto fail;
		}
	}
	return 0;
fail:
	*errstr_r = p->p_err;
	return -1;
}

int
image_conf_end(struct image_conf_parser *p, const char **errstr_r)
{
	if (p->p_failed) {
		goto fail;
	}
	if (buf_len(&p->p_line) > IMAGE_CONF_MAX_LINE) {
		p->p_lineno++;
		ic_error(p, "line too long");
		goto fail;
	}
	if (buf_len(&p->p_line) > 0) {
		if (ic_do_line(p, buf_span(&p->p_line)) == -1) {
			goto fail;
		}
		buf_reset(&p->p_line);
	}
	if (!p->p_have_addr) {
		snprintf(p->p_err, sizeof(p->p_err), "no address line");
		p->p_failed = 1;
		goto fail;
	}
	return 0;
fail:
	*errstr_r = p->p_err;
	return -1;
}
