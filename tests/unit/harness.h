/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * A tiny unit-test harness (OpenSSH test_helper / Dovecot test_run style).
 * Each test binary defines a table of cases and calls harness_run(); the
 * last line printed is "N passed, N failed", and the exit code is non-zero
 * if anything failed.
 */
#ifndef BAILEY_HARNESS_H
#define BAILEY_HARNESS_H

#include <stdio.h>
#include <string.h>

struct harness_case {
	const char	*name;
	void		(*fn)(void);
};

extern int	harness_failures;	/* failed assertions in this case */

#define T_ASSERT(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "  %s:%d: assertion failed: %s\n",	\
		    __FILE__, __LINE__, #c);				\
		harness_failures++;					\
	}								\
} while (0)

#define T_EQ_INT(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b) {							\
		fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n",	\
		    __FILE__, __LINE__, #a, _a, _b);			\
		harness_failures++;					\
	}								\
} while (0)

#define T_EQ_STR(a, b) do {						\
	const char *_a = (a), *_b = (b);				\
	if (_a == NULL || _b == NULL || strcmp(_a, _b) != 0) {		\
		fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", \
		    __FILE__, __LINE__, #a, _a ? _a : "(null)",	\
		    _b ? _b : "(null)");				\
		harness_failures++;					\
	}								\
} while (0)

/* Compares a span (p, len) with a C string. */
#define T_EQ_SPAN(s, lit) do {						\
	struct span _s = (s);						\
	const char *_l = (lit);						\
	if (_s.len != strlen(_l) || memcmp(_s.p, _l, _s.len) != 0) {	\
		fprintf(stderr, "  %s:%d: %s == \"%.*s\", expected \"%s\"\n", \
		    __FILE__, __LINE__, #s, (int)_s.len, (const char *)_s.p, _l); \
		harness_failures++;					\
	}								\
} while (0)

int	harness_run(const char *suite, const struct harness_case *, size_t n);

#define HARNESS_MAIN(suite, cases)					\
int									\
main(void)								\
{									\
	return harness_run(suite, cases, sizeof(cases) / sizeof(cases[0])); \
}

#endif
