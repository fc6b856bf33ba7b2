/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests for lib/buf.c: bounds, lazy allocation, lines, spans,
 * numbers and base64.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "log.h"

static void
test_add_max(void)
{
	struct buf	b;

	buf_init(&b, 8);
	T_ASSERT(b.data == NULL);		/* nothing until bytes come */
	T_EQ_INT(buf_add(&b, "12345678", 8), 0);	/* at the limit */
	T_EQ_INT(buf_add(&b, "9", 1), -1);		/* one past */
	T_EQ_INT(buf_len(&b), 8);
	buf_consume(&b, 8);
	T_ASSERT(b.data == NULL);		/* released when drained */
	T_EQ_INT(buf_add(&b, "abc", 3), 0);
	buf_release(&b);
	T_EQ_INT(buf_len(&b), 0);
}

static void
test_reserve_commit(void)
{
	struct buf	 b;
	uint8_t		*p;
	size_t		 room;

	buf_init(&b, 100);
	T_EQ_INT(buf_reserve(&b, 1000, &p, &room), 0);
	T_EQ_INT(room, 100);
	memcpy(p, "hello", 5);
	buf_commit(&b, 5);
	T_EQ_SPAN(buf_span(&b), "hello");
	T_EQ_INT(buf_reserve(&b, 1000, &p, &room), 0);
	T_EQ_INT(room, 95);
	buf_commit(&b, 95);
	T_EQ_INT(buf_reserve(&b, 1, &p, &room), -1);
	buf_release(&b);
}

static void
test_addf(void)
{
	struct buf	b;
	char		big[2000];

	buf_init(&b, 1500);
	T_EQ_INT(buf_addf(&b, "%s %d", "x", 42), 0);
	T_EQ_SPAN(buf_span(&b), "x 42");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	T_EQ_INT(buf_addf(&b, "%s", big), -1);
	T_EQ_INT(buf_len(&b), 4);
	big[1000] = '\0';
	T_EQ_INT(buf_addf(&b, "%s", big), 0);
	T_EQ_INT(buf_len(&b), 1004);
	buf_release(&b);
}

static void
test_getline(void)
{
	struct buf	b;
	struct span	line;
	size_t		used;

	buf_init(&b, 64);
	(void)buf_add_str(&b, "abc");
	T_EQ_INT(buf_getline(&b, 10, &line, &used), 0);
	(void)buf_add_str(&b, "\r\ndef\nxyz");
	T_EQ_INT(buf_getline(&b, 10, &line, &used), 1);
	T_EQ_SPAN(line, "abc");
	T_EQ_INT(used, 5);
	buf_consume(&b, used);
	T_EQ_INT(buf_getline(&b, 10, &line, &used), 1);	/* bare LF */
	T_EQ_SPAN(line, "def");
	buf_consume(&b, used);
	T_EQ_INT(buf_getline(&b, 10, &line, &used), 0);
	buf_release(&b);
}

static void
test_getline_limit(void)
{
	struct buf	b;
	struct span	line;
	size_t		used;

	/* max counts the LF: 9 bytes + LF = 10 is at the limit. */
	buf_init(&b, 64);
	(void)buf_add_str(&b, "123456789\n");
	T_EQ_INT(buf_getline(&b, 10, &line, &used), 1);
	T_EQ_INT(line.len, 9);
	buf_release(&b);
	(void)buf_add_str(&b, "1234567890\n");
	T_EQ_INT(buf_getline(&b, 10, &line, &used), -1);
	buf_release(&b);
	(void)buf_add_str(&b, "123456789");
	T_EQ_INT(buf_getline(&b, 10, &line, &used), 0);
	(void)buf_add_str(&b, "0");
	T_EQ_INT(buf_getline(&b, 10, &line, &used), -1);
	buf_release(&b);
}

static void
test_span(void)
{
	struct span	s = SPAN_LIT("  Hello World \t");
	char		out[8];

	T_ASSERT(span_eq_ci(span_trim(s), "hello world"));
	T_ASSERT(!span_eq(span_trim(s), "hello world"));
	T_ASSERT(span_has_prefix_ci(span_trim(s), "HELLO"));
	T_EQ_INT(span_find(s, 0, 'W'), 8);
	T_EQ_INT(span_find(s, 9, 'W'), -1);
	T_EQ_INT(span_cstr(SPAN_LIT("1234567"), out, sizeof(out)), 0);
	T_EQ_STR(out, "1234567");
	T_EQ_INT(span_cstr(SPAN_LIT("12345678"), out, sizeof(out)), -1);
	T_EQ_INT(span_cstr(((struct span){ (const uint8_t *)"a\0b", 3 }), out,
	    sizeof(out)), -1);
	T_ASSERT(span_has_ctl(SPAN_LIT("a\tb")));
	T_ASSERT(span_has_ctl(SPAN_LIT("a\rb")));
	T_ASSERT(span_has_ctl(((struct span){ (const uint8_t *)"a\0", 2 })));
	T_ASSERT(!span_has_ctl(SPAN_LIT("a b")));
}

static void
test_uint(void)
{
	uint64_t	 v = 0;
	const char	*err;

	T_EQ_INT(parse_uint("65535", 1, 65535, &v, &err), 0);
	T_EQ_INT(v, 65535);
	T_EQ_INT(parse_uint("65536", 1, 65535, &v, &err), -1);
	T_EQ_INT(parse_uint("0", 1, 65535, &v, &err), -1);
	T_EQ_INT(parse_uint("-1", 0, 65535, &v, &err), -1);
	T_EQ_INT(parse_uint("", 0, 65535, &v, &err), -1);
	T_EQ_INT(parse_uint("18446744073709551615", 0, UINT64_MAX, &v, &err),
	    0);
	T_EQ_INT(parse_uint("18446744073709551616", 0, UINT64_MAX, &v, &err),
	    -1);
	T_EQ_INT(parse_uint("99999999999999999999", 0, UINT64_MAX, &v, &err),
	    -1);
	T_EQ_INT(parse_uint("00001", 0, 10, &v, &err), 0);
	T_EQ_INT(v, 1);
}

static void
test_base64(void)
{
	uint8_t	out[16];
	char	enc[32];
	size_t	n = 0;

	T_EQ_INT(b64_decode(SPAN_LIT("AGJvYgBzZWNyZXQ="), out, sizeof(out), &n),
	    0);
	T_EQ_INT(n, 11);
	T_ASSERT(memcmp(out, "\0bob\0secret", 11) == 0);
	T_EQ_INT(b64_decode(SPAN_LIT(""), out, sizeof(out), &n), 0);
	T_EQ_INT(n, 0);
	T_EQ_INT(b64_decode(SPAN_LIT("QQ"), out, sizeof(out), &n), -1);
	T_EQ_INT(b64_decode(SPAN_LIT("QQ=A"), out, sizeof(out), &n), -1);
	T_EQ_INT(b64_decode(SPAN_LIT("=QQQ"), out, sizeof(out), &n), -1);
	T_EQ_INT(b64_decode(SPAN_LIT("QQ==QQ=="), out, sizeof(out), &n), -1);
	T_EQ_INT(b64_decode(SPAN_LIT("Q Q="), out, sizeof(out), &n), -1);
	T_EQ_INT(b64_decode(SPAN_LIT("QUJDREVGR0hJSktMTU5PUFE="), out, 16,
	    &n), -1);			/* 17 bytes do not fit in 16 */
	T_EQ_INT(b64_encode((const uint8_t *)"\0bob\0secret", 11, enc,
	    sizeof(enc)), 0);
	T_EQ_STR(enc, "AGJvYgBzZWNyZXQ=");
	T_EQ_INT(b64_encode((const uint8_t *)"abc", 3, enc, 4), -1);
	T_EQ_INT(b64_encode((const uint8_t *)"abc", 3, enc, 5), 0);
	T_EQ_STR(enc, "YWJj");
}

static void
test_log_escape(void)
{
	char	out[32];

	T_EQ_STR(log_escape(SPAN_LIT("bob"), out, sizeof(out)), "bob");
	T_EQ_STR(log_escape(SPAN_LIT("a b\r\n%n"), out, sizeof(out)),
	    "a\\x20b\\x0d\\x0a%n");
	T_EQ_STR(log_escape(SPAN_LIT("\"\\"), out, sizeof(out)),
	    "\\x22\\x5c");
	log_escape(SPAN_LIT("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), out,
	    sizeof(out));
	T_ASSERT(strlen(out) < sizeof(out));
	T_ASSERT(strstr(out, "...") != NULL);
}

static void
test_hex_digit(void)
{
	const char	*hex = "0123456789abcdef", *HEX = "0123456789ABCDEF";
	int		 c, want;

	for (c = 0; c < 256; c++) {
		want = -1;
		if (c != 0 && strchr(hex, c) != NULL) {
			want = (int)(strchr(hex, c) - hex);
		} else if (c != 0 && strchr(HEX, c) != NULL) {
			want = (int)(strchr(HEX, c) - HEX);
		}
		T_EQ_INT(hex_digit((uint8_t)c), want);
	}
}

/* Reads a pipe holding n bytes (then EOF) into a buffer of maximum max. */
static int
read_all_pipe(size_t n, size_t max, size_t chunk, struct buf *b)
{
	char	data[64];
	int	p[2], rv;

	memset(data, 'x', sizeof(data));
	T_ASSERT(n <= sizeof(data) && pipe(p) == 0);
	T_ASSERT(write(p[1], data, n) == (ssize_t)n);
	close(p[1]);
	buf_init(b, max);
	rv = buf_read_all(b, p[0], chunk);
	close(p[0]);
	return rv;
}

static void
test_read_all(void)
{
	struct buf	b;

	/* Whole, in 1-byte and 7-byte reads; below the maximum. */
	T_EQ_INT(read_all_pipe(40, 100, 1, &b), 0);
	T_EQ_INT((int)buf_len(&b), 40);
	buf_release(&b);
	T_EQ_INT(read_all_pipe(40, 41, 7, &b), 0);
	T_EQ_INT((int)buf_len(&b), 40);
	buf_release(&b);
	T_EQ_INT(read_all_pipe(0, 10, 4, &b), 0);
	T_EQ_INT((int)buf_len(&b), 0);
	buf_release(&b);
	/* At the maximum: full before EOF is seen, so EFBIG (callers size
	 * the buffer one past what they accept). */
	T_EQ_INT(read_all_pipe(40, 40, 8, &b), -1);
	T_EQ_INT(errno, EFBIG);
	buf_release(&b);
	T_EQ_INT(read_all_pipe(41, 40, 8, &b), -1);
	T_EQ_INT(errno, EFBIG);
	buf_release(&b);
	/* A read error is passed on. */
	buf_init(&b, 10);
	T_EQ_INT(buf_read_all(&b, -1, 4), -1);
	T_EQ_INT(errno, EBADF);
	buf_release(&b);
}

static const struct harness_case cases[] = {
	{ "hex_digit", test_hex_digit },
	{ "read_all", test_read_all },
	{ "add_max", test_add_max },
	{ "reserve_commit", test_reserve_commit },
	{ "addf", test_addf },
	{ "getline", test_getline },
	{ "getline_limit", test_getline_limit },
	{ "span", test_span },
	{ "uint", test_uint },
	{ "base64", test_base64 },
	{ "log_escape", test_log_escape },
};

HARNESS_MAIN("buf", cases)
