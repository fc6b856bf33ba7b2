/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Fuzz target for lib/sandbox_status.c, the /proc/PID/status parser of
 * the sandbox self-check.  Runs in a test or fuzzing process with the
 * invoking user's privilege; the input is arbitrary bytes and is trusted
 * for nothing.  The first byte picks the piece size the input is fed in;
 * the rest is the text.  Checked: the result does not depend on how the
 * input is cut, an accepted status has every field and in-range values,
 * and a failed parser stays failed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_check(int cond)
{
	if (!cond) {
		abort();
	}
}

static int
fuzz_parse(const uint8_t *data, size_t len, size_t step,
    struct sandbox_status *st)
{
	struct sandbox_status_parser	 p;
	const char			*errstr = NULL;
	size_t				 off = 0, n;

	memset(st, 0, sizeof(*st));
	sandbox_status_init(&p);
	while (off < len) {
		n = len - off < step ? len - off : step;
		if (sandbox_status_feed(&p, data + off, n, &errstr) == -1) {
			fuzz_check(errstr != NULL);
			/* Failed stays failed. */
			fuzz_check(sandbox_status_feed(&p, data, 0,
			    &errstr) == -1);
			sandbox_status_free(&p);
			return -1;
		}
		off += n;
	}
	if (sandbox_status_end(&p, st, &errstr) == -1) {
		fuzz_check(errstr != NULL);
		return -1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct sandbox_status	a, b;
	size_t			step;
	int			ra, rb;

	if (len < 1) {
		return 0;
	}
	step = (size_t)data[0] % 64 + 1;
	data++;
	len--;
	ra = fuzz_parse(data, len, len > 0 ? len : 1, &a);
	rb = fuzz_parse(data, len, step, &b);
	fuzz_check(ra == rb);
	if (ra == 0) {
		fuzz_check(memcmp(&a, &b, sizeof(a)) == 0);
		fuzz_check(a.seen == SB_ST_ALL);
		fuzz_check(a.no_new_privs <= 1 && a.seccomp <= 2);
	}
	return 0;
}
