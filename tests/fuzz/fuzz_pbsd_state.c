/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Fuzz target: the state file reader.  The input is fed whole and then
 * split at a position taken from its first byte; both must agree.  Runs in
 * the fuzzer/replayer only.
 */
#include <stdint.h>
#include <stdlib.h>

#include "pbsd_out.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t
run(const uint8_t *data, size_t size, size_t split, size_t *bad_r)
{
	struct pbsd_table		t;
	struct pbsd_state_reader	r;
	size_t				n;

	pbsd_table_init(&t, 1000);
	pbsd_state_reader_init(&r, &t, 1000, 64);
	(void)pbsd_state_reader_feed(&r, data, split);
	if (size > split) {
		(void)pbsd_state_reader_feed(&r, data + split, size - split);
	}
	pbsd_state_reader_finish(&r);
	if (pbsd_table_check(&t) == -1) {
		abort();
	}
	n = pbsd_table_count(&t);
	*bad_r = r.sr_bad;
	pbsd_table_free(&t);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	split, a, b, bad_a, bad_b;

	if (size == 0) {
		return 0;
	}
	split = data[0] % size;
	a = run(data, size, size, &bad_a);
	b = run(data, size, split, &bad_b);
	if (a != b || bad_a != bad_b) {
		abort();
	}
	return 0;
}
