/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * fuzz_map_result: map_parse_result_taint, map_expand_key and map_lookup
 * (over a small static map) on arbitrary bytes.  Runs in the fuzzer or the
 * corpus replayer only, as the invoking user; trusts nothing in the input.
 * Input: one flag byte (delimiter, taint pattern), then a query-key
 * template up to the first LF, then the username / result text.  Aborts
 * if an answer breaks the documented invariants.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "map.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

#define FUZZ_MAX_INPUT	(4 * MAX_MAP_LINE)

static struct map	fz_map;
static int		fz_ready;

static const char fz_static[] =
    "alice: h1.example\n"
    "alice@example.org: bob@h2.example:143\n"
    "@example.net: [2001:db8::1]:993\n"
    "192.0.2.1: by-address.example\n"
    "%u: percent.example\n";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	errbuf[256];

	(void)argc;
	(void)argv;
	log_init("fuzz_map_result", 0, 0, LOG_LVL_WARN);
	fz_map.ops = &map_static_ops;
	fz_map.conf.type = MAP_STATIC;
	if (map_static_load_text(&fz_map, "fuzz", fz_static,
	    sizeof(fz_static) - 1, errbuf, sizeof(errbuf)) == -1) {
		abort();
	}
	fz_ready = 1;
	return 0;
}

/* The invariants every accepted answer keeps. */
static void
fz_check(const struct map_result *r)
{
	size_t	i, hl = strnlen(r->host, sizeof(r->host));

	if (hl == 0 || hl > MAX_HOST ||
	    strnlen(r->user, sizeof(r->user)) > MAX_USER) {
		abort();
	}
	for (i = 0; i < hl; i++) {
		if ((unsigned char)r->host[i] <= ' ' || r->host[i] == '@' ||
		    r->host[i] == '/' || r->host[i] == '[') {
			abort();
		}
	}
	for (i = 0; r->user[i] != '\0'; i++) {
		if ((unsigned char)r->user[i] < ' ' || r->user[i] == 0x7f) {
			abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct span		 in = { data, len }, tmpl, rest;
	struct map_query	 q;
	struct map_result	 r;
	const char		*errstr = NULL;
	uint8_t			*taint;
	uint8_t			 flags;
	char			 key[MAP_MAX_KEY];
	size_t			 i;
	long			 lf;

	if (!fz_ready) {
		(void)LLVMFuzzerInitialize(NULL, NULL);
	}
	if (len == 0 || len > FUZZ_MAX_INPUT) {
		return 0;
	}
	flags = span_byte(in, 0);
	in = span_sub(in, 1, len - 1);
	lf = span_find(in, 0, '\n');
	tmpl = lf == -1 ? in : span_sub(in, 0, (size_t)lf);
	rest = lf == -1 ? in : span_sub(in, (size_t)lf + 1,
	    in.len - (size_t)lf - 1);

	/* The result parser, with a taint pattern picked by the flags. */
	if ((taint = malloc(rest.len + 1)) == NULL) {
		abort();
	}
	for (i = 0; i < rest.len; i++) {
		taint[i] = (uint8_t)((flags >> (i % 8)) & 1);
	}
	if (map_parse_result_taint(rest, (flags & 0x80) ? taint : NULL, &r,
	    &errstr) == 0) {
		fz_check(&r);
	} else if (errstr == NULL || r.host[0] != '\0') {
		abort();
	}
	free(taint);

	/* Query keys and a lookup with the rest as the username. */
	memset(&q, 0, sizeof(q));
	(void)span_cstr(span_sub(rest, 0, rest.len > MAX_USER ? MAX_USER :
	    rest.len), q.user, sizeof(q.user));
	memcpy(q.client_addr, "192.0.2.1", 10);
	memcpy(q.server_addr, "2001:db8::2", 12);
	q.client_port = (uint16_t)(flags * 257);
	q.server_port = 993;
	q.delimiter = (flags & 0x40) ? '%' : (flags & 0x20) ? '\0' : '@';
	if (map_expand_key((const char *)tmpl.p, tmpl.len, &q, key,
	    sizeof(key)) == 0 && strlen(key) >= sizeof(key)) {
		abort();
	}
	(void)map_expand_key((const char *)tmpl.p, tmpl.len, &q, key,
	    (flags & 15) + 1);
	memset(fz_map.conf.key, 0, sizeof(fz_map.conf.key));
	if (span_cstr(span_sub(tmpl, 0, tmpl.len >= CONF_MAX_KEY ?
	    CONF_MAX_KEY - 1 : tmpl.len), fz_map.conf.key,
	    sizeof(fz_map.conf.key)) == -1) {
		fz_map.conf.key[0] = '\0';
	}
	if (map_lookup(&fz_map, &q, &r) == 1) {
		fz_check(&r);
	}
	return 0;
}
