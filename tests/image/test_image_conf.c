/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests for image/image_conf.c, the appliance.conf parser of the
 * image's init.  Runs in the test process as the invoking user; feeds
 * every input whole, one byte at a time and split at every position, and
 * tests each limit at and one past it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "harness.h"
#include "image_conf.h"

static const char good[] =
    "# sample\n"
    "address 10.0.2.15/24\n"
    "\tgateway   10.0.2.2   # the host\r\n"
    "\n"
    "allow-in 143\n"
    "allow-in 110\n"
    "allow-out 10.0.2.2 10143\n"
    "allow-out 192.0.2.7 110";	/* no final LF */

/* Parses s fed in pieces of `chunk` bytes (0 = whole), split at `split`. */
static int
parse(const char *s, size_t len, size_t chunk, size_t split,
    struct image_conf *c, const char **err)
{
	struct image_conf_parser p;
	const uint8_t *b = (const uint8_t *)s;
	size_t off = 0, n;
	int rv = 0;

	*err = NULL;
	image_conf_init(&p, c);
	if (split > 0 && split < len) {
		rv = image_conf_feed(&p, b, split, err);
		off = split;
	}
	while (rv == 0 && off < len) {
		n = (chunk == 0 || chunk > len - off) ? len - off : chunk;
		rv = image_conf_feed(&p, b + off, n, err);
		off += n;
	}
	if (rv == 0) {
		rv = image_conf_end(&p, err);
	}
	image_conf_release(&p);
	return rv;
}

static void
check_good(const struct image_conf *c)
{
	T_EQ_INT(c->ic_addr, inet_addr("10.0.2.15"));
	T_EQ_INT(c->ic_prefix, 24);
	T_EQ_INT(c->ic_gateway, inet_addr("10.0.2.2"));
	T_EQ_INT(c->ic_nin, 2);
	T_EQ_INT(c->ic_in[0], 143);
	T_EQ_INT(c->ic_in[1], 110);
	T_EQ_INT(c->ic_nout, 2);
	T_EQ_INT(c->ic_out[0].d_addr, inet_addr("10.0.2.2"));
	T_EQ_INT(c->ic_out[0].d_port, 10143);
	T_EQ_INT(c->ic_out[1].d_addr, inet_addr("192.0.2.7"));
	T_EQ_INT(c->ic_out[1].d_port, 110);
}

static void
test_good_whole(void)
{
	struct image_conf c;
	const char *err;

	T_EQ_INT(parse(good, strlen(good), 0, 0, &c, &err), 0);
	check_good(&c);
}

static void
test_good_bytewise_and_splits(void)
{
	struct image_conf c;
	const char *err;
	size_t i, len = strlen(good);

	T_EQ_INT(parse(good, len, 1, 0, &c, &err), 0);
	check_good(&c);
	for (i = 1; i < len; i++) {
		memset(&c, 0xa5, sizeof(c));
		T_EQ_INT(parse(good, len, 0, i, &c, &err), 0);
		check_good(&c);
	}
}

struct bad_case {
	const char	*in;
	size_t		 len;
	const char	*err;
};

#define BAD(in, err)	{ in, sizeof(in) - 1, err }

static const struct bad_case bad_cases[] = {
	BAD("address 10.0.2.15/24\nfrobnicate 1\n", "line 2: unknown keyword"),
	BAD("address 10.0.2.15\n", "line 1: address: need A.B.C.D/PREFIX"),
	BAD("address 10.0.2/24\n", "line 1: address: need A.B.C.D/PREFIX"),
	BAD("address 10.0.2.15/0\n",
	    "line 1: address: prefix must be 1 to 32"),
	BAD("address 10.0.2.15/33\n",
	    "line 1: address: prefix must be 1 to 32"),
	BAD("address 10.0.2.15/\n",
	    "line 1: address: prefix must be 1 to 32"),
	BAD("address 10.0.2.15/24 x\n",
	    "line 1: usage: address A.B.C.D/PREFIX"),
	BAD("address 1.2.3.4/8\ngateway ::1\n",
	    "line 2: usage: gateway A.B.C.D"),
	BAD("address 1.2.3.4/8\nallow-in 0\n",
	    "line 2: usage: allow-in PORT (1 to 65535)"),
	BAD("address 1.2.3.4/8\nallow-in 65536\n",
	    "line 2: usage: allow-in PORT (1 to 65535)"),
	BAD("address 1.2.3.4/8\nallow-in -1\n",
	    "line 2: usage: allow-in PORT (1 to 65535)"),
	BAD("address 1.2.3.4/8\nallow-out 1.2.3.4\n",
	    "line 2: usage: allow-out A.B.C.D PORT"),
	BAD("address 1.2.3.4/8\nallow-out 1.2.3.4 99999\n",
	    "line 2: usage: allow-out A.B.C.D PORT"),
	BAD("a b c d e\n", "line 1: too many words"),
	BAD("address 1.2.3.4/8\x01\n", "line 1: control character"),
	BAD("address 1.2.3.4/8\0\n", "line 1: control character"),
	BAD("address 1.2.3.4/8\n\x7f\n", "line 2: control character"),
	BAD("allow-in 143\n", "no address line"),
	BAD("", "no address line"),
};

static void
test_bad(void)
{
	struct image_conf c;
	const char *err;
	const struct bad_case *bc;
	size_t i, j;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		bc = &bad_cases[i];
		/* whole, byte by byte, and split at every position */
		T_EQ_INT(parse(bc->in, bc->len, 0, 0, &c, &err), -1);
		T_EQ_STR(err, bc->err);
		T_EQ_INT(parse(bc->in, bc->len, 1, 0, &c, &err), -1);
		T_EQ_STR(err, bc->err);
		for (j = 1; j < bc->len; j++) {
			T_EQ_INT(parse(bc->in, bc->len, 0, j, &c, &err), -1);
			T_EQ_STR(err, bc->err);
		}
	}
}

/* A line of exactly n bytes: a valid statement padded with a comment. */
static char *
line_of(size_t n)
{
	static const char stmt[] = "address 10.0.2.15/24 #";
	char *s = malloc(n + 2);

	if (s == NULL) {
		abort();
	}
	memcpy(s, stmt, sizeof(stmt) - 1);
	memset(s + sizeof(stmt) - 1, 'x', n - (sizeof(stmt) - 1));
	s[n] = '\n';
	s[n + 1] = '\0';
	return s;
}

static void
test_line_limit(void)
{
	struct image_conf c;
	const char *err;
	char *s;
	size_t i;

	s = line_of(IMAGE_CONF_MAX_LINE);
	T_EQ_INT(parse(s, strlen(s), 0, 0, &c, &err), 0);
	T_EQ_INT(parse(s, strlen(s), 1, 0, &c, &err), 0);
	free(s);
	s = line_of(IMAGE_CONF_MAX_LINE + 1);
	for (i = 0; i < 3; i++) {
		T_EQ_INT(parse(s, strlen(s), i, 0, &c, &err), -1);
		T_EQ_STR(err, "line 1: line too long");
	}
	/* Without a LF at all, also at the end of input. */
	s[IMAGE_CONF_MAX_LINE + 1] = '\0';
	T_EQ_INT(parse(s, strlen(s), 1, 0, &c, &err), -1);
	T_EQ_STR(err, "line 1: line too long");
	free(s);
}

static void
test_count_limits(void)
{
	char s[4096];
	struct image_conf c;
	const char *err;
	size_t i, off;

	off = (size_t)snprintf(s, sizeof(s), "address 1.2.3.4/8\n");
	for (i = 0; i < IMAGE_CONF_MAX_IN; i++) {
		off += (size_t)snprintf(s + off, sizeof(s) - off,
		    "allow-in %zu\n", i + 1);
	}
	T_EQ_INT(parse(s, off, 0, 0, &c, &err), 0);
	T_EQ_INT(c.ic_nin, IMAGE_CONF_MAX_IN);
	T_EQ_INT(c.ic_in[IMAGE_CONF_MAX_IN - 1], IMAGE_CONF_MAX_IN);
	off += (size_t)snprintf(s + off, sizeof(s) - off, "allow-in 9\n");
	T_EQ_INT(parse(s, off, 0, 0, &c, &err), -1);
	T_EQ_STR(err, "line 18: too many allow-in lines");

	off = (size_t)snprintf(s, sizeof(s), "address 1.2.3.4/8\n");
	for (i = 0; i < IMAGE_CONF_MAX_OUT; i++) {
		off += (size_t)snprintf(s + off, sizeof(s) - off,
		    "allow-out 10.0.0.%zu %zu\n", i, i + 1000);
	}
	T_EQ_INT(parse(s, off, 7, 0, &c, &err), 0);
	T_EQ_INT(c.ic_nout, IMAGE_CONF_MAX_OUT);
	T_EQ_INT(c.ic_out[IMAGE_CONF_MAX_OUT - 1].d_port,
	    IMAGE_CONF_MAX_OUT - 1 + 1000);
	off += (size_t)snprintf(s + off, sizeof(s) - off, "allow-out 1.1.1.1 "
	    "1\n");
	T_EQ_INT(parse(s, off, 7, 0, &c, &err), -1);
	T_EQ_STR(err, "line 34: too many allow-out lines");
}

static void
test_file_limit(void)
{
	struct image_conf c;
	const char *err;
	char *s = malloc(IMAGE_CONF_MAX_FILE + 1);
	size_t i;

	if (s == NULL) {
		abort();
	}
	memset(s, '\n', IMAGE_CONF_MAX_FILE + 1);
	memcpy(s, "address 1.2.3.4/8", 17);
	T_EQ_INT(parse(s, IMAGE_CONF_MAX_FILE, 0, 0, &c, &err), 0);
	T_EQ_INT(parse(s, IMAGE_CONF_MAX_FILE, 1000, 0, &c, &err), 0);
	for (i = 0; i < 2; i++) {
		T_EQ_INT(parse(s, IMAGE_CONF_MAX_FILE + 1, i * 1000, 0, &c,
		    &err), -1);
		T_EQ_STR(err, "file too large");
	}
	free(s);
}

static void
test_error_is_sticky(void)
{
	struct image_conf_parser p;
	struct image_conf c;
	const char *err = NULL;

	image_conf_init(&p, &c);
	T_EQ_INT(image_conf_feed(&p, (const uint8_t *)"bogus\n", 6, &err), -1);
	T_EQ_INT(image_conf_feed(&p, (const uint8_t *)"address 1.2.3.4/8\n",
	    18, &err), -1);
	T_EQ_INT(image_conf_end(&p, &err), -1);
	T_EQ_STR(err, "line 1: unknown keyword");
	image_conf_release(&p);
}

static const struct harness_case cases[] = {
	{ "good whole", test_good_whole },
	{ "good bytewise and at every split", test_good_bytewise_and_splits },
	{ "bad input", test_bad },
	{ "line length at and past the limit", test_line_limit },
	{ "allow-in/allow-out counts at and past", test_count_limits },
	{ "file size at and past the limit", test_file_limit },
	{ "first error is sticky", test_error_is_sticky },
};

HARNESS_MAIN("image_conf", cases)
