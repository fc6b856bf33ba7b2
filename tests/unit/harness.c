/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 */
#include <stdio.h>

#include "harness.h"

int	harness_failures;

int
harness_run(const char *suite, const struct harness_case *cases, size_t n)
{
	size_t	i, passed = 0, failed = 0;

	for (i = 0; i < n; i++) {
		harness_failures = 0;
		cases[i].fn();
		if (harness_failures == 0) {
			passed++;
		} else {
			failed++;
			fprintf(stderr, "FAIL %s/%s\n", suite, cases[i].name);
		}
	}
	printf("%s: %zu passed, %zu failed\n", suite, passed, failed);
	return failed == 0 ? 0 : 1;
}
