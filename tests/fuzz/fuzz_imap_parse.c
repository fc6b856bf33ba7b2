/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Fuzz target for gateway/imap_parse.c.  Runs in a test or fuzzing process
 * with the invoking user's privilege; the input is arbitrary bytes and is
 * trusted for nothing.  The first byte picks the flags and a chunk size;
 * the rest is fed to the parser in chunks of that size and again whole,
 * and both runs must give the same results (the parser is resumable at any
 * byte).  Structural invariants are checked after every call; a violation
 * aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap_parse.h"
#include "bailey_limits.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_FNV_OFF	1469598103934665603ULL
#define FUZZ_FNV_PRIME	1099511628211ULL

static void
fuzz_check(int cond)
{
	if (!cond) {
		abort();
	}
}

static uint64_t
fuzz_hash(uint64_t h, const void *p, size_t n)
{
	struct span	s = { p, n };
	size_t		i;

	for (i = 0; i < n; i++) {
		h = (h ^ span_byte(s, i)) * FUZZ_FNV_PRIME;
	}
	return h;
}

static uint64_t
fuzz_hash_span(uint64_t h, struct span s)
{
	h = fuzz_hash(h, &s.len, sizeof(s.len));
	return s.len > 0 ? fuzz_hash(h, s.p, s.len) : h;
}

static void
fuzz_invariants(const struct imap_parser *p)
{
	size_t	i, dlen = buf_len(&p->data);

	fuzz_check(p->nargs <= IMAP_MAX_ARGS);
	fuzz_check(p->data.cap <= IMAP_MAX_CMD_BYTES);
	fuzz_check(p->depth <= IMAP_MAX_DEPTH);
	fuzz_check(p->tag.len <= IMAP_MAX_TAG);
	fuzz_check(p->line_len <= IMAP_MAX_LINE + 1);
	fuzz_check(p->literal_left <= IMAP_MAX_LITERAL + 1);
	fuzz_check(p->tag.off + p->tag.len <= dlen);
	fuzz_check(p->verb.off + p->verb.len <= dlen);
	for (i = 0; i < p->nargs; i++) {
		fuzz_check(p->args[i].off <= dlen);
		fuzz_check(p->args[i].len <= dlen - p->args[i].off);
	}
}

/* Folds one result into h, reading every byte a session could read. */
static uint64_t
fuzz_event(uint64_t h, const struct imap_parser *p, enum imap_rc rc)
{
	size_t	i;
	int	t;

	h = fuzz_hash(h, &rc, sizeof(rc));
	if (rc == IMAP_RC_BAD || rc == IMAP_RC_CMD) {
		i = (size_t)imap_has_tag(p);
		h = fuzz_hash(h, &i, sizeof(i));
		h = fuzz_hash_span(h, imap_tag(p));
	}
	if (rc == IMAP_RC_BAD || rc == IMAP_RC_FATAL) {
		fuzz_check(imap_error(p) != NULL);
	}
	if (rc != IMAP_RC_CMD) {
		return h;
	}
	fuzz_check(imap_has_tag(p) && imap_tag(p).len > 0);
	fuzz_check(imap_verb(p).len > 0);
	h = fuzz_hash_span(h, imap_verb(p));
	for (i = 0; i < imap_nargs(p); i++) {
		t = (int)imap_arg_type(p, i);
		h = fuzz_hash(h, &t, sizeof(t));
		h = fuzz_hash_span(h, imap_arg(p, i));
	}
	fuzz_check(imap_arg(p, imap_nargs(p)).len == 0);
	return h;
}

/* Feeds data in chunks of chunk bytes (0: whole); returns a result hash. */
static uint64_t
fuzz_run(const uint8_t *data, size_t len, unsigned flags, size_t chunk)
{
	struct imap_parser	p;
	struct buf		in;
	struct span		all = { data, len };
	enum imap_rc		rc = IMAP_RC_MORE;
	uint64_t		h = FUZZ_FNV_OFF;
	size_t			pos = 0, n;

	imap_parser_init(&p, flags);
	buf_init(&in, len + 1);
	while (pos < len && rc != IMAP_RC_FATAL) {
		n = len - pos;
		if (chunk > 0 && chunk < n) {
			n = chunk;
		}
		fuzz_check(buf_add_span(&in, span_sub(all, pos, n)) == 0);
		pos += n;
		do {
			rc = imap_parse(&p, &in);
			fuzz_invariants(&p);
			if (rc != IMAP_RC_MORE) {
				h = fuzz_event(h, &p, rc);
			}
		} while (rc != IMAP_RC_MORE && rc != IMAP_RC_FATAL);
		if (rc == IMAP_RC_MORE) {
			fuzz_check(buf_len(&in) == 0);
		}
	}
	imap_parser_free(&p);
	buf_release(&in);
	return h;
}

/* UNTRUSTED: arbitrary bytes, bounded by the fuzzer's input size. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct span	s = { data, len };
	unsigned	flags;
	size_t		chunk;

	if (len == 0) {
		return 0;
	}
	flags = (span_byte(s, 0) & 1) ? IMAP_PARSE_LITERAL_MINUS : 0;
	chunk = (size_t)(span_byte(s, 0) >> 1) + 1;
	s = span_sub(s, 1, len - 1);
	fuzz_check(fuzz_run(s.p, s.len, flags, chunk) ==
	    fuzz_run(s.p, s.len, flags, 0));
	return 0;
}
