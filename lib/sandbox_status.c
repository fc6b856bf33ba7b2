/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * sandbox_status: the bounded parser of /proc/PID/status behind the
 * sandbox self-check (sandbox.h).  Runs in every sandboxed role, after
 * the filter is loaded, unprivileged; it treats the text as untrusted
 * input (line and size limits, exact field formats) although the kernel
 * wrote it.  Kept apart from sandbox.c so that its unit test and fuzz
 * target link without libseccomp and libcap.
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "sandbox.h"

/* ---- /proc/PID/status parser ------------------------------------------ */

struct sb_field {
	const char	*f_name;
	unsigned	 f_bit;
};

static const struct sb_field sb_fields[] = {
	{ "Uid", SB_ST_UID }, { "Gid", SB_ST_GID },
	{ "CapInh", SB_ST_CAPINH }, { "CapPrm", SB_ST_CAPPRM },
	{ "CapEff", SB_ST_CAPEFF }, { "CapBnd", SB_ST_CAPBND },
	{ "CapAmb", SB_ST_CAPAMB }, { "NoNewPrivs", SB_ST_NNP },
	{ "Seccomp", SB_ST_SECCOMP },
};

#define SB_NFIELDS	(sizeof(sb_fields) / sizeof(sb_fields[0]))

void
sandbox_status_init(struct sandbox_status_parser *p)
{
	memset(p, 0, sizeof(*p));
	buf_init(&p->line, SB_STATUS_MAX_LINE);
	p->state = SB_STATUS_LINE;
}

void
sandbox_status_free(struct sandbox_status_parser *p)
{
	buf_release(&p->line);
}

static int
sb_st_fail(struct sandbox_status_parser *p, const char *why,
    const char **errstr_r)
{
	p->state = SB_STATUS_ERROR;
	p->errstr = why;
	*errstr_r = why;
	return -1;
}

static int
sb_is_ws(uint8_t ch)
{
	return ch == ' ' || ch == '\t';
}

/* "a\tb\tc\td": exactly four decimal ids. */
static int
sb_st_ids(struct span v, uint32_t ids[4])
{
	size_t		i = 0, start, n = 0;
	uint64_t	x;

	while (i < v.len) {
		while (i < v.len && sb_is_ws(span_byte(v, i))) {
			i++;
		}
		if (i == v.len) {
			break;
		}
		start = i;
		while (i < v.len && !sb_is_ws(span_byte(v, i))) {
			i++;
		}
		if (n == 4 || span_parse_uint(span_sub(v, start, i - start),
		    0, UINT32_MAX, &x) == -1) {
			return -1;
		}
		ids[n++] = (uint32_t)x;
	}
	return n == 4 ? 0 : -1;
}

/* Exactly 16 hex digits. */
static int
sb_st_hex64(struct span v, uint64_t *x_r)
{
	uint64_t	x = 0;
	size_t		i;
	uint8_t		ch;

	if (v.len != 16) {
		return -1;
	}
	for (i = 0; i < v.len; i++) {
		ch = span_byte(v, i);
		if (ch >= '0' && ch <= '9') {
			x = x << 4 | (uint64_t)(ch - '0');
		} else if (ch >= 'a' && ch <= 'f') {
			x = x << 4 | (uint64_t)(ch - 'a' + 10);
		} else {
			return -1;
		}
	}
	*x_r = x;
	return 0;
}

static int
sb_st_small(struct span v, uint64_t max, unsigned *x_r)
{
	uint64_t	x;

	if (span_parse_uint(v, 0, max, &x) == -1) {
		return -1;
	}
	*x_r = (unsigned)x;
	return 0;
}

static int
sb_st_value(struct sandbox_status *st, unsigned bit, struct span v)
{
	switch (bit) {
	case SB_ST_UID:
		return sb_st_ids(v, st->uid);
	case SB_ST_GID:
		return sb_st_ids(v, st->gid);
	case SB_ST_CAPINH:
		return sb_st_hex64(v, &st->cap_inh);
	case SB_ST_CAPPRM:
		return sb_st_hex64(v, &st->cap_prm);
	case SB_ST_CAPEFF:
		return sb_st_hex64(v, &st->cap_eff);
	case SB_ST_CAPBND:
		return sb_st_hex64(v, &st->cap_bnd);
	case SB_ST_CAPAMB:
		return sb_st_hex64(v, &st->cap_amb);
	case SB_ST_NNP:
		return sb_st_small(v, 1, &st->no_new_privs);
	case SB_ST_SECCOMP:
		return sb_st_small(v, 2, &st->seccomp);
	default:
		return -1;
	}
}

/* The field a line (or the start of an over-long one) names, or 0. */
static unsigned
sb_st_field(struct span line)
{
	size_t	i, n;

	for (i = 0; i < SB_NFIELDS; i++) {
		n = strlen(sb_fields[i].f_name);
		if (line.len > n && span_byte(line, n) == ':' &&
		    span_eq(span_sub(line, 0, n), sb_fields[i].f_name)) {
			return sb_fields[i].f_bit;
		}
	}
	return 0;
}

static int
sb_st_line(struct sandbox_status_parser *p, struct span line,
    const char **errstr_r)
{
	unsigned	bit;
	long		colon;

	if ((bit = sb_st_field(line)) == 0) {
		return 0;		/* a field we do not check */
	}
	if (p->st.seen & bit) {
		return sb_st_fail(p, "field repeated", errstr_r);
	}
	colon = span_find(line, 0, ':');
	if (sb_st_value(&p->st, bit, span_trim(span_sub(line,
	    (size_t)colon + 1, line.len - (size_t)colon - 1))) == -1) {
		return sb_st_fail(p, "malformed field", errstr_r);
	}
	p->st.seen |= bit;
	return 0;
}

/* SKIP: drops bytes up to and including LF; returns the bytes used. */
static size_t
sb_st_skip(struct sandbox_status_parser *p, struct span in)
{
	long	lf = span_find(in, 0, '\n');

	if (lf == -1) {
		return in.len;
	}
	p->state = SB_STATUS_LINE;
	return (size_t)lf + 1;
}

/* LINE: buffers what fits, hands out complete lines; the bytes used. */
static size_t
sb_st_collect(struct sandbox_status_parser *p, struct span in,
    const char **errstr_r)
{
	struct span	line;
	size_t		take, used;
	int		rv;

	take = SB_STATUS_MAX_LINE - buf_len(&p->line);
	if (take > in.len) {
		take = in.len;
	}
	if (buf_add(&p->line, in.p, take) == -1) {
		(void)sb_st_fail(p, "buffer", errstr_r);
		return 0;
	}
	while ((rv = buf_getline(&p->line, SB_STATUS_MAX_LINE, &line,
	    &used)) == 1) {
		if (sb_st_line(p, line, errstr_r) == -1) {
			return 0;
		}
		buf_consume(&p->line, used);
	}
	if (rv == -1) {
		if (sb_st_field(buf_span(&p->line)) != 0) {
			(void)sb_st_fail(p, "checked field too long",
			    errstr_r);
			return 0;
		}
		buf_reset(&p->line);
		p->state = SB_STATUS_SKIP;
	}
	return take;
}

/* UNTRUSTED: /proc/PID/status text, bounded by SB_STATUS_MAX_LINE per line
 * and SB_STATUS_MAX in all. */
int
sandbox_status_feed(struct sandbox_status_parser *p, const void *data,
    size_t len, const char **errstr_r)
{
	struct span	in = { data, len };
	size_t		used;

	if (p->state == SB_STATUS_ERROR) {
		*errstr_r = p->errstr;
		return -1;
	}
	if (len > SB_STATUS_MAX - p->total) {
		return sb_st_fail(p, "longer than SB_STATUS_MAX", errstr_r);
	}
	p->total += len;
	while (in.len > 0) {
		if (p->state == SB_STATUS_SKIP) {
			used = sb_st_skip(p, in);
		} else {
			used = sb_st_collect(p, in, errstr_r);
		}
		if (p->state == SB_STATUS_ERROR) {
			return -1;
		}
		in = span_sub(in, used, in.len - used);
	}
	return 0;
}

int
sandbox_status_end(struct sandbox_status_parser *p,
    struct sandbox_status *st_r, const char **errstr_r)
{
	int	rv = -1;

	if (p->state == SB_STATUS_ERROR) {
		*errstr_r = p->errstr;
		goto out;
	}
	/* A last line without LF still counts. */
	if (p->state == SB_STATUS_LINE && buf_len(&p->line) > 0 &&
	    sb_st_line(p, buf_span(&p->line), errstr_r) == -1) {
		goto out;
	}
	if (p->st.seen != SB_ST_ALL) {
		*errstr_r = "field missing";
		goto out;
	}
	*st_r = p->st;
	rv = 0;
out:
	buf_release(&p->line);
	return rv;
}
