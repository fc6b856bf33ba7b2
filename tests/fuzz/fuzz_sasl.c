/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Fuzz target for gateway/sasl.c.  Runs in a test or fuzzing process with
 * the invoking user's privilege; the input is arbitrary bytes and is
 * trusted for nothing.  The first byte picks the decoder (PLAIN or LOGIN)
 * and whether the rest is base64 as sent, or a raw decoded message that is
 * base64-encoded first so the field checks are reached.  Results are
 * checked: accepted credentials hold no CR, LF, NUL or TAB and fit their
 * limits; a refusal sets an error and leaves nothing behind.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "bailey_limits.h"
#include "sasl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_B64_MAX	(SASL_MAX_LINE * 2 + 8)

static void
fuzz_check(int cond)
{
	if (!cond) {
		abort();
	}
}

/* A C string the decoders produced: bounded, no CR/LF/TAB. */
static void
fuzz_field(const char *s, size_t max, int nonempty)
{
	size_t	n = strnlen(s, max + 1);

	fuzz_check(n <= max);
	fuzz_check(!nonempty || n > 0);
	fuzz_check(!span_has_ctl((struct span){ (const uint8_t *)s, n }));
}

static void
fuzz_plain(struct span b64)
{
	struct creds	 c;
	const char	*err = NULL;
	size_t		 i;

	memset(&c, 'X', sizeof(c));
	if (sasl_plain_decode(b64, &c, &err) == 0) {
		fuzz_field(c.user, MAX_USER, 1);
		fuzz_field(c.pass, MAX_PASS, 1);
	} else {
		fuzz_check(err != NULL);
		for (i = 0; i < sizeof(c.user); i++) {
			fuzz_check(c.user[i] == 0);
		}
		for (i = 0; i < sizeof(c.pass); i++) {
			fuzz_check(c.pass[i] == 0);
		}
	}
	creds_clear(&c);
}

static void
fuzz_login(struct span b64, size_t dstsz)
{
	char		 dst[MAX_PASS + 1];
	const char	*err = NULL;

	memset(dst, 'X', sizeof(dst));
	if (sasl_login_decode(b64, dst, dstsz, &err) == 0) {
		fuzz_field(dst, dstsz - 1, 1);
	} else {
		fuzz_check(err != NULL);
		fuzz_check(dstsz == 0 || dst[0] == '\0');
	}
}

/* UNTRUSTED: arbitrary bytes, bounded by the fuzzer's input size. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static char	enc[FUZZ_B64_MAX];
	struct span	s = { data, len };
	uint8_t		mode;
	size_t		dstsz;

	if (len == 0) {
		return 0;
	}
	mode = span_byte(s, 0);
	s = span_sub(s, 1, len - 1);
	if (mode & 2) {
		/* Raw message: encode it, so decoding succeeds. */
		if (b64_encode(s.p, s.len, enc, sizeof(enc)) == -1) {
			return 0;
		}
		s = span_from_str(enc);
	}
	dstsz = (mode & 4) ? MAX_USER + 1 : MAX_PASS + 1;
	if (mode & 1) {
		fuzz_login(s, dstsz);
	} else {
		fuzz_plain(s);
	}
	return 0;
}
