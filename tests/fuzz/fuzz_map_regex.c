/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * fuzz_map_regex: the input is a popmap.re text, loaded with
 * map_regex_load_text (no file I/O) and then asked about a few usernames;
 * the same text also goes through the static loader.  Runs in the fuzzer
 * or the corpus replayer only, as the invoking user.  The map files are
 * the admin's and regcomp/regexec trust their expressions, so inputs with
 * interval expressions ('{'), stacked repetitions ("a+++", each one copies
 * the tree in glibc's regcomp) or a backslash before a digit (back-
 * references) are skipped: glibc may spend exponential time or memory on
 * those, which is not a bug in our code.  Aborts if an answer breaks the
 * documented invariants.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "map.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

#define FUZZ_MAX_INPUT	(2 * MAX_MAP_LINE + 64)

static int	fz_ready;

static const char *fz_users[] = {
	"alice", "bob@example.org", "x@evil:25", "x@y@evil", "a@[::1]",
	"\xff@h", "$1@$2", "\\U\\u\\d", "%u", "UPPER@Example.ORG",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_map_regex", 0, 0, LOG_LVL_WARN);
	fz_ready = 1;
	return 0;
}

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
		    r->host[i] == '/') {
			abort();
		}
	}
}

static int
fz_is_dup(uint8_t c)
{
	return c == '*' || c == '+' || c == '?';
}

/* 1 if the text holds what regcomp/regexec may blow up on. */
static int
fz_skip(struct span in)
{
	size_t	i;

	if (span_find(in, 0, '{') != -1) {
		return 1;
	}
	for (i = 0; i + 1 < in.len; i++) {
		if (span_byte(in, i) == '\\' && span_byte(in, i + 1) >= '0' &&
		    span_byte(in, i + 1) <= '9') {
			return 1;
		}
		if (fz_is_dup(span_byte(in, i)) &&
		    fz_is_dup(span_byte(in, i + 1))) {
			return 1;
		}
	}
	return 0;
}

static void
fz_run(const struct map_ops *ops, const char *text, size_t len)
{
	struct map		 m;
	struct map_query	 q;
	struct map_result	 r;
	char			 errbuf[256];
	size_t			 i;
	int			 rv;

	memset(&m, 0, sizeof(m));
	m.ops = ops;
	m.conf.type = ops == &map_regex_ops ? MAP_REGEX : MAP_STATIC;
	memcpy(m.conf.key, "\\U,\\u,\\D\\d", 11);
	if (ops == &map_regex_ops) {
		rv = map_regex_load_text(&m, "fuzz", text, len, errbuf,
		    sizeof(errbuf));
	} else {
		rv = map_static_load_text(&m, "fuzz", text, len, errbuf,
		    sizeof(errbuf));
	}
	if (rv == -1) {
		if (m.priv != NULL || strncmp(errbuf, "fuzz:", 5) != 0) {
			abort();
		}
		return;
	}
	for (i = 0; i < sizeof(fz_users) / sizeof(fz_users[0]); i++) {
		memset(&q, 0, sizeof(q));
		memcpy(q.user, fz_users[i], strlen(fz_users[i]) + 1);
		memcpy(q.client_addr, "192.0.2.1", 10);
		memcpy(q.server_addr, "198.51.100.7", 13);
		q.client_port = 40000;
		q.server_port = 143;
		q.delimiter = '@';
		if (map_lookup(&m, &q, &r) == 1) {
			fz_check(&r);
		}
	}
	ops->free(&m);
	if (m.priv != NULL) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct span	in = { data, len };

	if (!fz_ready) {
		(void)LLVMFuzzerInitialize(NULL, NULL);
	}
	if (len > FUZZ_MAX_INPUT || fz_skip(in)) {
		return 0;
	}
	fz_run(&map_regex_ops, (const char *)data, len);
	fz_run(&map_static_ops, (const char *)data, len);
	return 0;
}
