/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * fuzz_tls_sni: the SNI name checks of gateway/tls.c on arbitrary bytes
 * (what a ClientHello's server_name may carry).  Runs in the fuzzer or
 * the corpus replayer only, unprivileged; trusts nothing in the input.
 * Checks invariants and aborts when one breaks: a matching name is a
 * valid one, matching ignores case, a wildcard covers exactly one label,
 * and every name matches itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "bailey_limits.h"
#include "tls.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fuzz_patterns[] = {
	"mail.example.test",
	"*.wild.test",
	"*.test",
	"a",
	"*",
};

static void
fuzz_check(struct span name)
{
	char	 lower[MAX_HOST + 1], self[MAX_HOST + 1];
	size_t	 i;
	int	 valid, m;

	valid = tls_sni_valid(name);
	for (i = 0; i < sizeof(fuzz_patterns) / sizeof(fuzz_patterns[0]);
	    i++) {
		m = tls_name_match(fuzz_patterns[i], name);
		if (m && !valid) {
			abort();
		}
	}
	if (!valid) {
		return;
	}
	if (name.len > MAX_HOST || span_find(name, 0, '.') == 0 ||
	    span_cstr(name, self, sizeof(self)) == -1) {
		abort();
	}
	if (!tls_name_match(self, name)) {
		abort();
	}
	for (i = 0; self[i] != '\0'; i++) {
		lower[i] = (self[i] >= 'A' && self[i] <= 'Z') ?
		    (char)(self[i] - 'A' + 'a') : self[i];
	}
	lower[i] = '\0';
	if (!tls_name_match(lower, name)) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span	 s = { data, size };
	size_t		 i;

	fuzz_check(s);
	/* and every split: each prefix on its own */
	for (i = 0; i < size && i <= MAX_HOST + 1; i++) {
		fuzz_check(span_sub(s, 0, i));
	}
	return 0;
}
