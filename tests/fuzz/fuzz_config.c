/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * fuzz_config: libFuzzer target (and, through replay.c, a corpus replayer)
 * for the bailey.conf parser.  Runs in a test process without privilege;
 * the input is arbitrary bytes.  Besides "no crash", it checks that the
 * parser's output keeps its invariants and that feeding the same bytes in
 * two pieces gives the same result as one call.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_config_check(const struct bailey_conf *c, int rv)
{
	size_t	i;

	if (rv == 0 && c->nlisteners == 0) {
		abort();
	}
	if (c->nlisteners > CONF_MAX_LISTENERS ||
	    c->nservers > CONF_MAX_SERVERS || c->nmaps > CONF_MAX_MAPS) {
		abort();
	}
	for (i = 0; i < c->nlisteners; i++) {
		if (memchr(c->listeners[i].addr, '\0', CONF_MAX_ADDR) == NULL ||
		    c->listeners[i].port == 0) {
			abort();
		}
	}
	for (i = 0; i < c->nservers; i++) {
		if (memchr(c->servers[i].host, '\0', CONF_MAX_HOSTNAME) ==
		    NULL || c->servers[i].host[0] == '\0') {
			abort();
		}
	}
	for (i = 0; i < c->nmaps; i++) {
		if (memchr(c->maps[i].path, '\0', CONF_MAX_PATH) == NULL ||
		    memchr(c->maps[i].key, '\0', CONF_MAX_KEY) == NULL) {
			abort();
		}
	}
	if (c->workers < 1 || c->workers > 64 || c->timeout_login < 1 ||
	    c->timeout_login > 86400 || c->auth_fail_delay_ms > 60000) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 init;
	struct bailey_conf	*one, *two;
	struct config_parser	*p;
	size_t			 split;
	int			 rv1, rv2;

	if (!init) {
		/* Messages are still formatted, just not written. */
		log_init("fuzz", 0, 0, LOG_LVL_WARN);
		init = 1;
	}
	if ((one = calloc(1, sizeof(*one))) == NULL ||
	    (two = calloc(1, sizeof(*two))) == NULL) {
		abort();
	}
	rv1 = config_parse(one, "fuzz.conf", (const char *)data, size);
	fuzz_config_check(one, rv1);

	split = size > 0 ? data[0] % (size + 1) : 0;
	p = config_parser_new(two, "fuzz.conf");
	config_parser_feed(p, (const char *)data, split);
	config_parser_feed(p, (const char *)data + split, size - split);
	rv2 = config_parser_finish(&p);
	if (rv1 != rv2 || memcmp(one, two, sizeof(*one)) != 0) {
		abort();
	}
	free(one);
	free(two);
	return 0;
}
