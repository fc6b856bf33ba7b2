/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests of the pbsctl request parser (pbsd_ctl.c): every command,
 * argument counts, the line limit and control characters.
 */
#include <string.h>

#include "buf.h"
#include "harness.h"
#include "pbsd_ctl.h"

static int
p(const char *line, struct pbsd_ctl_req *r)
{
	const char	*errstr = NULL;
	int		 rv;

	rv = pbsd_ctl_parse(span_from_str(line), 128, r, &errstr);
	return (rv == -1 && errstr == NULL) ? -2 : rv;
}

static void
test_commands(void)
{
	struct pbsd_ctl_req	r;
	char			key[PBSD_KEY_MAX];

	T_EQ_INT(p("list", &r), 0);
	T_EQ_INT(r.cr_cmd, PBSD_CTL_LIST);
	T_EQ_INT(p("stats", &r), 0);
	T_EQ_INT(r.cr_cmd, PBSD_CTL_STATS);
	T_EQ_INT(p("flush", &r), 0);
	T_EQ_INT(r.cr_cmd, PBSD_CTL_FLUSH);
	T_EQ_INT(p("add 192.0.2.1", &r), 0);
	T_EQ_INT(r.cr_cmd, PBSD_CTL_ADD);
	T_EQ_INT(r.cr_seconds, 0);
	T_EQ_INT(p("add 2001:DB8::1 60", &r), 0);
	T_EQ_INT(r.cr_seconds, 60);
	T_EQ_INT(pbsd_key_format(&r.cr_addr, PBSD_KEY_STATE, key, sizeof(key)),
	    0);
	T_EQ_STR(key, "2001:db8::1");
	T_EQ_INT(p("del ::ffff:192.0.2.1", &r), 0);
	T_EQ_INT(r.cr_cmd, PBSD_CTL_DEL);
	T_EQ_INT(r.cr_addr.pa_family, 4);
	T_EQ_INT(p("add 192.0.2.1 604800", &r), 0);
}

static void
test_rejects(void)
{
	struct pbsd_ctl_req	r;
	static const char	*bad[] = {
		"", " ", "list ", " list", "list  x", "LIST", "list x",
		"add", "add 192.0.2.1 60 x", "add 192.0.2.1 0",
		"add 192.0.2.1 604801", "add 192.0.2.1 -5", "add host.example",
		"del", "del 192.0.2.1 5", "add  192.0.2.1", "flush now",
		"stats\t", "add 192.0.2.1\r", "nope",
	};
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (p(bad[i], &r) != -1) {
			fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
			harness_failures++;
		}
	}
	T_EQ_INT(pbsd_ctl_parse((struct span){ (const uint8_t *)"list\0", 5 },
	    128, &r, &(const char *){ NULL }), -1);
}

static void
test_line_limit(void)
{
	struct pbsd_ctl_req	r;
	char			line[PBSD_CTL_MAX_LINE + 2];

	/* At the limit the parser still decides on content ... */
	memset(line, '1', sizeof(line));
	memcpy(line, "add 192.0.2.1 ", 14);
	line[PBSD_CTL_MAX_LINE] = '\0';
	T_EQ_INT(p(line, &r), -1);	/* huge number */
	memset(line, ' ', sizeof(line));
	memcpy(line, "list", 4);
	line[PBSD_CTL_MAX_LINE] = '\0';
	T_EQ_INT(p(line, &r), -1);
	/* ... one past is refused as too long. */
	line[PBSD_CTL_MAX_LINE] = 'x';
	line[PBSD_CTL_MAX_LINE + 1] = '\0';
	T_EQ_INT(p(line, &r), -1);
}

static const struct harness_case cases[] = {
	{ "commands", test_commands },
	{ "rejects", test_rejects },
	{ "line_limit", test_line_limit },
};

HARNESS_MAIN("test_pbsd_ctl", cases)
