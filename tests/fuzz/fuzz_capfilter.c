/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Fuzz target for gateway/capfilter.c.  Runs in a test or fuzzing process
 * with the invoking user's privilege; the input is arbitrary bytes and is
 * trusted for nothing.  Layout: byte 0 picks the protocol (bit 0), the
 * rule set (bit 1: real rules or one that never matches) and a chunk size
 * (bits 2-7); byte 1 is the length of the client bytes that follow; the
 * rest is the backend stream.  The stream is filtered whole, in chunks,
 * and through a minimal output buffer; results must agree.  Invariants:
 * the output is a subsequence of the input, never longer; with the rule
 * set that matches nothing, output plus held bytes is exactly the input;
 * no more than CAPFILTER_MAX_HOLD bytes are ever held.  A violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "bailey_limits.h"
#include "capfilter.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_OUT_BIG	(64 * 1024 * 1024)

struct fuzz_result {
	int		rc;
	size_t		held;
	struct buf	out;
};

static void
fuzz_check(int cond)
{
	if (!cond) {
		abort();
	}
}

static void
fuzz_conf(struct capfilter_conf *c, enum capfilter_proto proto, int real)
{
	const char	*err;

	capfilter_conf_init(c, proto);
	if (!real) {
		fuzz_check(capfilter_conf_add(c, CAPFILTER_STRIP, "X-NEVER",
		    &err) == 0);
		return;
	}
	fuzz_check(capfilter_conf_add(c, CAPFILTER_STRIP, "COMPRESS", &err)
	    == 0);
	fuzz_check(capfilter_conf_add(c, CAPFILTER_STRIP, "STLS", &err) == 0);
	fuzz_check(capfilter_conf_add(c, CAPFILTER_STRIP, "STARTTLS", &err)
	    == 0);
	fuzz_check(capfilter_conf_add(c, CAPFILTER_STRIP, "X-*", &err) == 0);
	fuzz_check(capfilter_conf_add(c, CAPFILTER_ALLOW, "A*", &err) == 0);
	fuzz_check(capfilter_conf_add(c, CAPFILTER_ALLOW, "I*", &err) == 0);
	fuzz_check(capfilter_conf_add(c, CAPFILTER_ALLOW, "SASL", &err) == 0);
	fuzz_check(capfilter_conf_add(c, CAPFILTER_ALLOW, "TOP", &err) == 0);
}

/* Filters client + backend; chunk 0: whole; outmax 0: big. */
static void
fuzz_run(const struct capfilter_conf *conf, struct span client,
    struct span backend, size_t chunk, size_t outmax, struct fuzz_result *r)
{
	struct capfilter	 f;
	struct buf		 in, out;
	const char		*err = NULL;
	size_t			 pos = 0, n;

	capfilter_init(&f, conf);
	buf_init(&r->out, FUZZ_OUT_BIG);
	buf_init(&in, backend.len + 1);
	buf_init(&out, outmax ? outmax : FUZZ_OUT_BIG);
	r->rc = capfilter_client(&f, client, &err);
	fuzz_check(r->rc == 0 || err != NULL);
	while (r->rc == 0 && pos < backend.len) {
		n = backend.len - pos;
		if (chunk > 0 && chunk < n) {
			n = chunk;
		}
		fuzz_check(buf_add_span(&in, span_sub(backend, pos, n)) == 0);
		pos += n;
		while (r->rc == 0 && buf_len(&in) > 0) {
			r->rc = capfilter_feed(&f, &in, &out, &err);
			fuzz_check(r->rc == 0 || err != NULL);
			fuzz_check(capfilter_held(&f) <= CAPFILTER_MAX_HOLD);
			fuzz_check(buf_add_span(&r->out, buf_span(&out)) == 0);
			buf_consume(&out, buf_len(&out));
		}
	}
	r->held = capfilter_held(&f);
	(void)capfilter_note(&f);
	capfilter_free(&f);
	buf_release(&in);
	buf_release(&out);
}

/* 1 if a is a subsequence of b. */
static int
fuzz_subseq(struct span a, struct span b)
{
	size_t	i = 0, j;

	for (j = 0; j < b.len && i < a.len; j++) {
		if (span_byte(a, i) == span_byte(b, j)) {
			i++;
		}
	}
	return i == a.len;
}

static int
fuzz_same(const struct fuzz_result *a, const struct fuzz_result *b)
{
	struct span	x = buf_span(&a->out), y = buf_span(&b->out);

	return a->rc == b->rc && a->held == b->held && x.len == y.len &&
	    (x.len == 0 || memcmp(x.p, y.p, x.len) == 0);
}

/* UNTRUSTED: arbitrary bytes, bounded by the fuzzer's input size. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct span		 s = { data, len }, client, backend, o;
	struct capfilter_conf	 conf;
	struct fuzz_result	 whole, chunked, small;
	size_t			 clen, chunk;
	uint8_t			 flags;

	if (len < 2) {
		return 0;
	}
	flags = span_byte(s, 0);
	clen = span_byte(s, 1);
	if (clen > len - 2) {
		clen = len - 2;
	}
	client = span_sub(s, 2, clen);
	backend = span_sub(s, 2 + clen, len - 2 - clen);
	chunk = (size_t)(flags >> 2) + 1;
	fuzz_conf(&conf, (flags & 1) ? CAPFILTER_POP3 : CAPFILTER_IMAP,
	    (flags & 2) != 0);

	fuzz_run(&conf, client, backend, 0, 0, &whole);
	fuzz_run(&conf, client, backend, chunk, 0, &chunked);
	fuzz_run(&conf, client, backend, 1, CAPFILTER_MAX_HOLD + 1, &small);
	fuzz_check(fuzz_same(&whole, &chunked));
	fuzz_check(fuzz_same(&whole, &small));

	o = buf_span(&whole.out);
	fuzz_check(o.len + whole.held <= backend.len);
	fuzz_check(fuzz_subseq(o, backend));
	if (!(flags & 2) && whole.rc == 0) {
		/* Nothing matches: everything not held passes unchanged. */
		fuzz_check(o.len + whole.held == backend.len);
		fuzz_check(o.len == 0 || memcmp(o.p, backend.p, o.len) == 0);
	}
	buf_release(&whole.out);
	buf_release(&chunked.out);
	buf_release(&small.out);
	return 0;
}
