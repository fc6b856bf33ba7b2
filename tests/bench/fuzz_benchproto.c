/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Fuzz target for the bench tools' parsers (benchproto.c): the fake
 * backend's IMAP command reader, the load generator's response reader and
 * the auth_http request reader.  Runs in the fuzzer or the corpus replayer
 * (tests/fuzz/replay.c) as the invoking user; the input is untrusted.
 * The first byte picks the chunk size, so the same bytes are also fed in
 * pieces, as a socket would deliver them.
 */
#include <stddef.h>
#include <stdint.h>

#include "benchproto.h"
#include "buf.h"
#include "bailey_limits.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_cmd(struct buf *in, struct bp_imap_cmd *ic)
{
	const char	*errstr = NULL;
	int		 r, cont;

	while ((r = bp_imap_cmd_feed(ic, in, IMAP_MAX_LINE, &cont,
	    &errstr)) == 1) {
		bp_imap_cmd_init(ic);
	}
	if (r == -1) {
		buf_reset(in);
		bp_imap_cmd_init(ic);
	}
}

static void
fuzz_resp(struct buf *in, struct bp_resp *rr)
{
	struct span	 line;
	const char	*errstr = NULL;
	size_t		 used;
	int		 r;

	while ((r = bp_resp_next(rr, in, 8192, &line, &used, &errstr)) == 1) {
		(void)bp_token(line, &line);
		buf_consume(in, used);
	}
	if (r == -1) {
		buf_reset(in);
		bp_resp_init(rr, 1);
	}
}

static void
fuzz_http(struct buf *in, struct bp_http *hh)
{
	const char	*errstr = NULL;

	if (bp_http_feed(hh, in, &errstr) != 0) {
		buf_reset(in);
		bp_http_init(hh);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bp_imap_cmd	 ic;
	struct bp_resp		 rr;
	struct bp_http		 hh;
	struct buf		 a, b, c;
	size_t			 step, off, n;

	if (size == 0) {
		return 0;
	}
	step = (size_t)data[0] % 64 + 1;
	buf_init(&a, 1 << 20);
	buf_init(&b, 1 << 20);
	buf_init(&c, 1 << 20);
	bp_imap_cmd_init(&ic);
	bp_resp_init(&rr, 1);
	bp_http_init(&hh);
	for (off = 1; off < size; off += n) {
		n = size - off < step ? size - off : step;
		if (buf_add(&a, data + off, n) == -1 ||
		    buf_add(&b, data + off, n) == -1 ||
		    buf_add(&c, data + off, n) == -1) {
			break;
		}
		fuzz_cmd(&a, &ic);
		fuzz_resp(&b, &rr);
		fuzz_http(&c, &hh);
	}
	buf_release(&a);
	buf_release(&b);
	buf_release(&c);
	return 0;
}
