/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests for gateway/map.c, map_regex.c and map_static.c.  Runs as the
 * invoking user in the test process; writes only to a private mkdtemp(3)
 * directory that it removes again, on failure too.  Cases named threat_N
 * defend row N of shared/research/threats.md.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "log.h"
#include "map.h"

/* ---- helpers ----------------------------------------------------------- */

static void	quiet_logs(void) __attribute__((constructor));

/* Load errors are logged on purpose; show them with TEST_MAP_VERBOSE=1. */
static void
quiet_logs(void)
{
	log_init("test_map", getenv("TEST_MAP_VERBOSE") != NULL, 0,
	    LOG_LVL_DEBUG);
}

static char	errbuf[512];

static struct map *
mk_map(enum map_type type, const char *key, const char *text, size_t len)
{
	struct map	*m;
	int		 rv;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		abort();
	}
	m->conf.type = type;
	(void)snprintf(m->conf.key, sizeof(m->conf.key), "%s", key);
	(void)snprintf(m->conf.path, sizeof(m->conf.path), "test.map");
	m->ops = type == MAP_REGEX ? &map_regex_ops : &map_static_ops;
	errbuf[0] = '\0';
	if (type == MAP_REGEX) {
		rv = map_regex_load_text(m, "test.map", text, len, errbuf,
		    sizeof(errbuf));
	} else {
		rv = map_static_load_text(m, "test.map", text, len, errbuf,
		    sizeof(errbuf));
	}
	if (rv == -1) {
		free(m);
		return NULL;
	}
	return m;
}

static struct map *
mk_map_s(enum map_type type, const char *key, const char *text)
{
	return mk_map(type, key, text, strlen(text));
}

static struct map *
rx_map(const char *text)
{
	return mk_map(MAP_REGEX, "\\U", text, strlen(text));
}

static struct map *
st_map(const char *text)
{
	return mk_map(MAP_STATIC, "\\U", text, strlen(text));
}

static void
q_init(struct map_query *q, const char *user)
{
	memset(q, 0, sizeof(*q));
	(void)snprintf(q->user, sizeof(q->user), "%s", user);
	(void)snprintf(q->client_addr, sizeof(q->client_addr), "192.0.2.1");
	q->client_port = 50000;
	(void)snprintf(q->server_addr, sizeof(q->server_addr), "198.51.100.7");
	q->server_port = 143;
	q->proto = PROTO_IMAP;
	q->delimiter = '@';
}

static int
look(struct map *m, const char *user, struct map_result *r)
{
	struct map_query	q;

	q_init(&q, user);
	return map_lookup(m, &q, r);
}

/* Looks user up and checks the answer; exp_user "" = keep the client's. */
static void
expect(struct map *m, const char *user, const char *exp_user,
    const char *exp_host, unsigned exp_port)
{
	struct map_result	r;
	int			rv;

	rv = look(m, user, &r);
	if (rv != 1) {
		fprintf(stderr, "  lookup of \"%s\" gave %d\n", user, rv);
	}
	T_EQ_INT(rv, 1);
	T_EQ_STR(r.user, exp_user);
	T_EQ_STR(r.host, exp_host);
	T_EQ_INT(r.port, exp_port);
}

static void
expect_rv(struct map *m, const char *user, int exp)
{
	struct map_result	r;
	int			rv;

	rv = look(m, user, &r);
	if (rv != exp) {
		fprintf(stderr, "  lookup of \"%s\" gave %d\n", user, rv);
	}
	T_EQ_INT(rv, exp);
	if (rv != 1) {
		/* No half answer is left behind. */
		T_EQ_STR(r.host, "");
		T_EQ_STR(r.user, "");
	}
}

static void
free_map(struct map *m)
{
	map_close(&m);
	T_ASSERT(m == NULL);
}

/* The source tree: the cwd when run by make, else beside the binary. */
static void
src_path(const char *rel, char *dst, size_t dstsz)
{
	char	exe[PATH_MAX];
	ssize_t	n;

	(void)snprintf(dst, dstsz, "%s", rel);
	if (access(dst, R_OK) == 0) {
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		(void)snprintf(dst, dstsz, "%.*s/../../%s",
		    (int)(strrchr(exe, '/') - exe), exe, rel);
	}
}

static struct map *
open_file(enum map_type type, const char *path, const char *key)
{
	struct map_conf	conf;

	memset(&conf, 0, sizeof(conf));
	conf.type = type;
	if (strlen(path) >= sizeof(conf.path)) {
		return NULL;
	}
	memcpy(conf.path, path, strlen(path) + 1);
	(void)snprintf(conf.key, sizeof(conf.key), "%s", key);
	return map_open(&conf);
}

/* Builds "k: " + a value of n bytes (a host of 63-byte labels). */
static char *
long_value_line(const char *prefix, size_t n)
{
	size_t	pl = strlen(prefix), i;
	char	*s;

	if ((s = malloc(pl + n + 2)) == NULL) {
		abort();
	}
	memcpy(s, prefix, pl);
	for (i = 0; i < n; i++) {
		s[pl + i] = (i % 64 == 63) ? '.' : 'a';
	}
	s[pl + n] = '\n';
	s[pl + n + 1] = '\0';
	return s;
}

/* ---- Perdition's documented format ------------------------------------- */

/* perditiondb(5) examples, each in a map of its own. */
static void
test_perdition_doc_examples(void)
{
	struct map	*m;

	m = rx_map("^[a-k]: localhost\n");
	T_ASSERT(m != NULL);
	expect(m, "abc", "", "localhost", 0);
	expect_rv(m, "zed", 0);
	free_map(m);

	m = rx_map("^[^a-k]: localhost:110\n");
	T_ASSERT(m != NULL);
	expect(m, "zed", "", "localhost", 110);
	free_map(m);

	m = rx_map("^user: user2@localhost\n");
	T_ASSERT(m != NULL);
	expect(m, "user", "user2", "localhost", 0);
	free_map(m);

	/* "For the regex (.*)@(.*): $1_$2@localhost user@x.y.z.de would
	 * return user_x.y.z.de@localhost" */
	m = rx_map("(.*)@(.*): $1_$2@localhost\n");
	T_ASSERT(m != NULL);
	expect(m, "user@x.y.z.de", "user_x.y.z.de", "localhost", 0);
	free_map(m);

	/* "flim: localhost" matches "flim", "flimstix", "itsflim". */
	m = rx_map("flim: localhost\n^flim$: other\n");
	T_ASSERT(m != NULL);
	expect(m, "flim", "", "localhost", 0);
	expect(m, "flimstix", "", "localhost", 0);
	expect(m, "itsflim", "", "localhost", 0);
	expect(m, "totallyflimless", "", "localhost", 0);
	expect_rv(m, "flam", 0);
	free_map(m);
	m = rx_map("^flim$: localhost\n");
	T_ASSERT(m != NULL);
	expect(m, "flim", "", "localhost", 0);
	expect_rv(m, "flimstix", 0);
	free_map(m);
}

static void
test_first_match_wins(void)
{
	struct map	*m;

	/* All four doc lines in order: "user" hits ^[^a-k] first. */
	m = rx_map("^[a-k]: localhost\n^[^a-k]: localhost:110\n"
	    "^user: user2@localhost\n(.*)@(.*): $1_$2@localhost\n");
	T_ASSERT(m != NULL);
	expect(m, "user", "", "localhost", 110);
	expect(m, "abc@d", "", "localhost", 0);
	free_map(m);

	m = rx_map("^dup: first\n^dup: second\n^d: third\n");
	T_ASSERT(m != NULL);
	expect(m, "dup", "", "first", 0);
	expect(m, "dx", "", "third", 0);
	free_map(m);
}

/* The lexer rules of Perdition 2.2 (vanessa_config_file_read). */
static void
test_regex_format(void)
{
	struct map	*m;

	m = rx_map(
	    "# a comment line\n"
	    "\n"
	    "   \t \n"
	    "^mm  host1   \n"			/* colon optional */
	    "^vv:: host7\n"			/* one ':' is stripped */
	    "^oo\\ p: host3 # trailing comment\n"
	    "'^q q': host4\n"
	    "\"^r#\": host5\n"
	    "^s\\#t: host6\n"
	    "^uu: a\\\nb\n"			/* continuation */
	    "\t ^ind:\thost8\n"
	    "^XX: upper\n"
	    "^z3: \"quoted.val\"\n"
	    "^a\\.b: dot1\n"			/* \. is just . */
	    "^c\\\\.d: dot2\n"			/* \\. is a literal dot */
	    "^col\\:on: host9\r\n"		/* CRLF, escaped colon */
	    "^cr: host10\r\n");
	T_ASSERT(m != NULL);
	if (m == NULL) {
		fprintf(stderr, "  %s\n", errbuf);
		return;
	}
	expect(m, "mm", "", "host1", 0);
	expect(m, "vv:", "", "host7", 0);
	expect_rv(m, "vv", 0);
	expect(m, "oo p", "", "host3", 0);
	expect(m, "q q", "", "host4", 0);
	expect(m, "r#", "", "host5", 0);
	expect(m, "s#t", "", "host6", 0);
	expect(m, "uu", "", "ab", 0);
	expect(m, "ind", "", "host8", 0);
	expect(m, "XX", "", "upper", 0);
	expect_rv(m, "xx", 0);			/* case-sensitive */
	expect(m, "z3", "", "quoted.val", 0);
	expect(m, "a.b", "", "dot1", 0);
	expect(m, "axb", "", "dot1", 0);
	expect(m, "c.d", "", "dot2", 0);
	expect_rv(m, "cxd", 0);
	expect(m, "col:on", "", "host9", 0);
	expect(m, "cr", "", "host10", 0);
	free_map(m);

	/* A file that ends without a newline, or inside a continuation. */
	m = rx_map("^last: lasthost");
	T_ASSERT(m != NULL);
	expect(m, "last", "", "lasthost", 0);
	free_map(m);
	m = rx_map("^last: last\\");
	T_ASSERT(m != NULL);
	expect(m, "last", "", "last", 0);
	free_map(m);
	/* An empty file is an empty map. */
	m = rx_map("");
	T_ASSERT(m != NULL);
	expect_rv(m, "anyone", 0);
	free_map(m);
}

/* Each bad line refuses the whole map and names file:line. */
static void
test_regex_format_errors(void)
{
	static const struct {
		const char	*text;
		const char	*msg;
	} bad[] = {
		{ "^ok: host\n^novalue:\n", "test.map:2: regular" },
		{ "^ok: host\n^a: b c\n", "test.map:2: text after" },
		{ "^a: 'host\n", "test.map:1: unterminated" },
		{ "^a: \"host\n", "test.map:1: unterminated" },
		{ "(: host\n", "test.map:1: bad regular expression" },
		{ ": host\n", "test.map:1: empty regular" },
		{ "^a: ''\n", "test.map:1: empty value" },
		{ "^(a)(b): $3@host\n", "test.map:1: bad value: $n" },
		{ "^a: host:0\n", "test.map:1: bad value" },
		{ "^a: host:65536\n", "test.map:1: bad value" },
		{ "^a: ho/st\n", "test.map:1: bad value" },
		{ "^a: $\n", "test.map:1: bad value" },
		{ "\n\n^a: h\\\n:x\n^b h\n", "test.map:3: bad value" },
	};
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct map *m = rx_map(bad[i].text);

		T_ASSERT(m == NULL);
		if (strncmp(errbuf, bad[i].msg, strlen(bad[i].msg)) != 0) {
			fprintf(stderr, "  case %zu: \"%s\"\n", i, errbuf);
			T_ASSERT(0);
		}
		map_close(&m);
	}
	/* A NUL byte inside a line. */
	{
		static const char t[] = "^a\0b: host\n";
		struct map *m = mk_map(MAP_REGEX, "\\U", t, sizeof(t) - 1);

		T_ASSERT(m == NULL);
		T_ASSERT(strstr(errbuf, "NUL") != NULL);
	}
}

static void
test_dollar_n(void)
{
	struct map	*m;

	m = rx_map("^([a-z]+)-(x)?(y)$: $1$2$3.example:14$0\n"
	    "^w(.)(.)(.)(.)(.)(.)(.)(.)(.)$: $9$8$7$6$5$4$3$2$1\n"
	    "^pay$: pay$x@host\n"
	    "^(.*)@(.*)$: $1@$2\n");
	T_ASSERT(m != NULL);
	if (m == NULL) {
		fprintf(stderr, "  %s\n", errbuf);
		return;
	}
	/* $0 is the whole match: here it lands in the port and is not a
	 * number, so the answer is refused. */
	expect_rv(m, "ab-xy", -1);
	expect(m, "wabcdefghi", "", "ihgfedcba", 0);
	expect(m, "pay", "pay$x", "host", 0);
	expect(m, "bob@mail.example", "bob", "mail.example", 0);
	free_map(m);

	/* A group that took no part in the match expands to nothing. */
	m = rx_map("^([a-z]+)-(x)?y$: $1$2.example\n");
	T_ASSERT(m != NULL);
	expect(m, "ab-y", "", "ab.example", 0);
	expect(m, "ab-xy", "", "abx.example", 0);
	free_map(m);

	/* Group text in the port: allowed, checked as a port. */
	m = rx_map("^([a-z]+)\\\\+([0-9]+)$: $1.example:$2\n");
	T_ASSERT(m != NULL);
	expect(m, "ab+993", "", "ab.example", 993);
	expect_rv(m, "ab+0", -1);
	expect_rv(m, "ab+99999", -1);
	free_map(m);
}

/*
 * Perdition 2.2 returns the part of the key before the match followed by
 * the value; Bailey returns the value alone (docs/maps.md), so a user
 * cannot prepend text to an admin's address.
 */
static void
test_no_prefix_before_match(void)
{
	struct map	*m;

	m = rx_map("example\\\\.com$: 10.1.2.3\n");
	T_ASSERT(m != NULL);
	expect(m, "a@1example.com", "", "10.1.2.3", 0);
	free_map(m);
	/* An empty match returns the value (Perdition appends a byte). */
	m = rx_map("x*: catchall.example\n");
	T_ASSERT(m != NULL);
	expect(m, "abc", "", "catchall.example", 0);
	free_map(m);
}

/*
 * Group text is inserted literally and may never supply the answer's
 * structure: "(.*)@(.*): $2" with user "x@evil:25" must not pick port 25.
 */
static void
test_taint_structure(void)
{
	struct map	*m;

	m = rx_map("^(.*)@(.*)$: $2\n");
	T_ASSERT(m != NULL);
	expect(m, "x@evil", "", "evil", 0);
	expect_rv(m, "x@evil:25", -1);
	expect(m, "x@a@evil", "", "evil", 0);	/* $1 = "x@a", greedy */
	expect_rv(m, "x@[::1]", -1);
	expect_rv(m, "x@[::1]:25", -1);
	expect_rv(m, "x@evil/x", -1);
	expect_rv(m, "x@ev il", -1);
	expect_rv(m, "x@evil\r\nA01 LOGOUT", -1);
	free_map(m);

	m = rx_map("^(.*)@(.*)$: $1@$2\n");
	T_ASSERT(m != NULL);
	expect(m, "x@y@evil", "x@y", "evil", 0);
	expect_rv(m, "x@evil:25", -1);
	expect_rv(m, "x@evil@", -1);
	free_map(m);

	/* The whole result from the user: no '@' or ':' of theirs counts. */
	m = rx_map("^(.*)$: $1\n");
	T_ASSERT(m != NULL);
	expect(m, "plainhost", "", "plainhost", 0);
	expect_rv(m, "u@evil", -1);
	expect_rv(m, "evil:25", -1);
	expect_rv(m, "[::1]", -1);
	free_map(m);

	/* The admin's structure is honoured around group text. */
	m = rx_map("^(.*)@(.*)$: \"$1@[2001:db8::1]:143\"\n");
	T_ASSERT(m != NULL);
	expect(m, "x:y@z", "x:y", "2001:db8::1", 143);
	expect(m, "x@y@z", "x@y", "2001:db8::1", 143);
	free_map(m);
}

/* ---- query keys ---------------------------------------------------------- */

static void
test_expand_key(void)
{
	static const struct {
		const char	*tmpl;
		const char	*user;
		char		 delim;
		const char	*exp;
	} t[] = {
		{ "\\U", "bob@example.org", '@', "bob@example.org" },
		{ "\\u", "bob@example.org", '@', "bob" },
		{ "\\d", "bob@example.org", '@', "example.org" },
		{ "\\D", "bob@example.org", '@', "@" },
		{ "\\u\\D\\d", "bob@example.org", '@', "bob@example.org" },
		{ "\\u,\\D\\d", "bob@example.org", '@', "bob,@example.org" },
		{ "\\u", "bob", '@', "bob" },
		{ "\\d", "bob", '@', "" },
		{ "[\\d]", "bob@", '@', "[]" },
		{ "\\u|\\d", "a@b@c", '@', "a@b|c" },	/* last delimiter */
		{ "\\u|\\d|\\D", "bob%example.org", '%', "bob|example.org|%" },
		{ "\\u", "bob%x", '\0', "bob%x" },	/* default '@' */
		{ "\\i:\\p>\\I:\\P", "u", '@',
		    "192.0.2.1:50000>198.51.100.7:143" },
		{ "\\\\U", "u", '@', "\\U" },
		{ "\\x\\%", "u", '@', "\\x\\%" },	/* unknown: literal */
		{ "end\\", "u", '@', "end\\" },
		{ "", "u", '@', "" },
		{ "lit", "u", '@', "lit" },
		/* perdition(8)'s example */
		{ "\\u\\da_domain", "x@y", '@', "xya_domain" },
	};
	struct map_query	q;
	char			out[MAP_MAX_KEY];
	size_t			i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		q_init(&q, t[i].user);
		q.delimiter = t[i].delim;
		T_EQ_INT(map_expand_key(t[i].tmpl, strlen(t[i].tmpl), &q, out,
		    sizeof(out)), 0);
		T_EQ_STR(out, t[i].exp);
	}
	/* Limits: exact fit and one byte short. */
	q_init(&q, "abcd");
	T_EQ_INT(map_expand_key("\\U", 2, &q, out, 5), 0);
	T_EQ_STR(out, "abcd");
	T_EQ_INT(map_expand_key("\\U", 2, &q, out, 4), -1);
	T_EQ_STR(out, "");
	T_EQ_INT(map_expand_key("x", 1, &q, out, 0), -1);
	T_EQ_INT(map_expand_key("\\p", 2, &q, out, 6), 0);
	T_EQ_STR(out, "50000");
	T_EQ_INT(map_expand_key("\\p", 2, &q, out, 5), -1);
	/* The template length is honoured, not a NUL. */
	T_EQ_INT(map_expand_key("\\U,\\u", 2, &q, out, sizeof(out)), 0);
	T_EQ_STR(out, "abcd");
	T_EQ_INT(map_expand_key("a\0b", 3, &q, out, sizeof(out)), -1);
}

/* Threat row 26: user input is substituted once, literally. */
static void
test_threat_26_no_reexpansion(void)
{
	static const char *users[] = {
		"%u", "%{x}", "\\U\\u\\d\\i", "$1", "$1@$2", "\\\\", "%n%s",
		"\\U@\\d",
	};
	struct map_query	q;
	struct map		*m;
	char			out[MAP_MAX_KEY];
	size_t			i;

	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		q_init(&q, users[i]);
		T_EQ_INT(map_expand_key("\\U", 2, &q, out, sizeof(out)), 0);
		T_EQ_STR(out, users[i]);
		T_EQ_INT(map_expand_key("<\\U>", 4, &q, out, sizeof(out)), 0);
		T_ASSERT(strlen(out) == strlen(users[i]) + 2);
		T_ASSERT(strncmp(out + 1, users[i], strlen(users[i])) == 0);
	}
	/* Through a regex map: "$1" typed by the user stays "$1". */
	m = rx_map("^(.*)@(.*)$: $1@$2\n");
	T_ASSERT(m != NULL);
	expect(m, "$2$1@backend", "$2$1", "backend", 0);
	expect(m, "\\U\\u\\d\\i@backend", "\\U\\u\\d\\i", "backend", 0);
	expect(m, "%{x}%u@backend", "%{x}%u", "backend", 0);
	free_map(m);
	/* Through a static map: a key "\U" matches only that username. */
	m = st_map("\\U: literal.example\n%u: percent.example\n");
	T_ASSERT(m != NULL);
	expect(m, "\\U", "", "literal.example", 0);
	expect(m, "%u", "", "percent.example", 0);
	expect_rv(m, "bob", 0);
	free_map(m);
}

/*
 * Threat row 40: the lookup key holds every input the map looks at, so two
 * queries that differ in any of them can get different answers.
 */
static void
test_threat_40_key_has_every_input(void)
{
	struct map_query	q, q2;
	struct map_result	r;
	struct map		*m;
	char			a[MAP_MAX_KEY], b[MAP_MAX_KEY];

	q_init(&q, "bob@example.org");
	T_EQ_INT(map_expand_key("\\U|\\i|\\p|\\I|\\P", 14, &q, a, sizeof(a)),
	    0);
	T_EQ_STR(a, "bob@example.org|192.0.2.1|50000|198.51.100.7|143");
	q2 = q;
	q2.client_port = 50001;
	T_EQ_INT(map_expand_key("\\U|\\i|\\p|\\I|\\P", 14, &q2, b, sizeof(b)),
	    0);
	T_ASSERT(strcmp(a, b) != 0);

	m = mk_map_s(MAP_STATIC, "\\U/\\i,\\U",
	    "bob@example.org/192.0.2.1: inside.example\n"
	    "bob@example.org: outside.example\n");
	T_ASSERT(m != NULL);
	T_EQ_INT(map_lookup(m, &q, &r), 1);
	T_EQ_STR(r.host, "inside.example");
	q2 = q;
	(void)snprintf(q2.client_addr, sizeof(q2.client_addr), "192.0.2.2");
	T_EQ_INT(map_lookup(m, &q2, &r), 1);
	T_EQ_STR(r.host, "outside.example");
	q2 = q;
	(void)snprintf(q2.user, sizeof(q2.user), "bob@example.net");
	T_EQ_INT(map_lookup(m, &q2, &r), 0);
	free_map(m);
}

/* Comma-separated keys in order; empty expansions are skipped. */
static void
test_lookup_key_spec(void)
{
	struct map	*m;

	m = mk_map_s(MAP_STATIC, "\\u@\\d,,\\u,\\D\\d",
	    "alice@x.org: h1\nalice: h2\n@z.org: h3\n");
	T_ASSERT(m != NULL);
	expect(m, "alice@x.org", "", "h1", 0);
	expect(m, "alice@y.org", "", "h2", 0);
	expect(m, "carol@z.org", "", "h3", 0);
	expect_rv(m, "carol@w.org", 0);
	free_map(m);
	/* An empty key spec means \U (Perdition's default). */
	m = mk_map_s(MAP_STATIC, "", "alice@x.org: h1\n");
	T_ASSERT(m != NULL);
	expect(m, "alice@x.org", "", "h1", 0);
	expect_rv(m, "alice", 0);
	free_map(m);
	/* A key spec that expands past MAP_MAX_KEY is an error. */
	m = mk_map_s(MAP_STATIC, "\\U\\U\\U\\U\\U", "a: h\n");
	T_ASSERT(m != NULL);
	{
		char	u[MAX_USER + 1];

		memset(u, 'a', MAX_USER);
		u[MAX_USER] = '\0';
		expect_rv(m, u, -1);
		u[150] = '\0';
		expect_rv(m, u, 0);
	}
	free_map(m);
}

/* ---- results ------------------------------------------------------------- */

static void
test_parse_result(void)
{
	static const struct {
		const char	*s;
		int		 rv;
		const char	*user;
		const char	*host;
		unsigned	 port;
	} t[] = {
		{ "host", 0, "", "host", 0 },
		{ "host:110", 0, "", "host", 110 },
		{ "u@host", 0, "u", "host", 0 },
		{ "@host", 0, "", "host", 0 },
		{ "u@host:1", 0, "u", "host", 1 },
		{ "host:65535", 0, "", "host", 65535 },
		{ "host:00110", 0, "", "host", 110 },
		{ "a@b@c", 0, "a@b", "c", 0 },
		{ "u s@host", 0, "u s", "host", 0 },
		{ "[::1]", 0, "", "::1", 0 },
		{ "[::1]:993", 0, "", "::1", 993 },
		{ "u@[2001:db8::1]:143", 0, "u", "2001:db8::1", 143 },
		{ "[::ffff:192.0.2.1]", 0, "", "::ffff:192.0.2.1", 0 },
		{ "127.0.0.1", 0, "", "127.0.0.1", 0 },
		{ "host.example.", 0, "", "host.example.", 0 },
		{ "a-b_c.d9", 0, "", "a-b_c.d9", 0 },
		{ "1a.example", 0, "", "1a.example", 0 },
		{ "", -1, "", "", 0 },
		{ "host:0", -1, "", "", 0 },
		{ "host:65536", -1, "", "", 0 },
		{ "host:abc", -1, "", "", 0 },
		{ "host:", -1, "", "", 0 },
		{ "host:1:2", -1, "", "", 0 },
		{ "host:+1", -1, "", "", 0 },
		{ "host:000110", -1, "", "", 0 },
		{ "[::1", -1, "", "", 0 },
		{ "[::1]x", -1, "", "", 0 },
		{ "[::1]:", -1, "", "", 0 },
		{ "[]", -1, "", "", 0 },
		{ "[::1%eth0]", -1, "", "", 0 },
		{ "[host]", -1, "", "", 0 },
		{ "::1", -1, "", "", 0 },
		{ "a b", -1, "", "", 0 },
		{ "h/x", -1, "", "", 0 },
		{ "u@", -1, "", "", 0 },
		{ "u@:25", -1, "", "", 0 },
		{ "ho\rst", -1, "", "", 0 },
		{ "u\n@host", -1, "", "", 0 },
		{ "u\t@host", -1, "", "", 0 },
		{ "host%00evil", -1, "", "", 0 },
		{ "2130706433", -1, "", "", 0 },
		{ "127.1", -1, "", "", 0 },
		{ "0x7f.0.0.1", -1, "", "", 0 },
		{ "127.000.0.1", -1, "", "", 0 },
		{ "-host", -1, "", "", 0 },
		{ ".host", -1, "", "", 0 },
		{ "a..b", -1, "", "", 0 },
		{ "_x", -1, "", "", 0 },
		{ "h\xffst", -1, "", "", 0 },
	};
	struct map_result	r;
	size_t			i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&r, 'X', sizeof(r));
		if (map_parse_result(t[i].s, &r) != t[i].rv) {
			fprintf(stderr, "  \"%s\": expected %d\n", t[i].s,
			    t[i].rv);
			T_ASSERT(0);
		}
		T_EQ_STR(r.user, t[i].user);
		T_EQ_STR(r.host, t[i].host);
		T_EQ_INT(r.port, t[i].port);
	}
	T_EQ_INT(map_parse_result(NULL, &r), -1);
}

/* Every prefix of each input parses without harm; the whole one right. */
static void
test_parse_result_every_split(void)
{
	static const char *ok[] = {
		"user@host.example:143", "[2001:db8::1]:993", "a@b@c:1",
	};
	struct map_result	r;
	const char		*errstr;
	size_t			i, k, n;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		n = strlen(ok[i]);
		for (k = 0; k <= n; k++) {
			struct span s = { (const uint8_t *)ok[i], k };
			int rv;

			errstr = NULL;
			rv = map_parse_result_taint(s, NULL, &r, &errstr);
			T_ASSERT(rv == 0 || (rv == -1 && errstr != NULL &&
			    r.host[0] == '\0'));
			T_ASSERT(rv == -1 || strlen(r.host) <= MAX_HOST);
		}
		T_EQ_INT(map_parse_result(ok[i], &r), 0);
	}
}

/* Limits: MAX_USER and MAX_HOST at the limit and one past it. */
static void
test_limits_result(void)
{
	char			s[2 * MAX_HOST + 64];
	struct map_result	r;
	size_t			i;

	/* A host of exactly MAX_HOST bytes: labels of 63 and dots. */
	for (i = 0; i < MAX_HOST; i++) {
		s[i] = (i % 64 == 63) ? '.' : 'h';
	}
	s[MAX_HOST] = '\0';
	T_EQ_INT(map_parse_result(s, &r), 0);
	T_EQ_INT(strlen(r.host), MAX_HOST);
	s[MAX_HOST] = 'h';
	s[MAX_HOST + 1] = '\0';
	T_EQ_INT(map_parse_result(s, &r), -1);
	/* A label of 63 and of 64. */
	memset(s, 'l', 63);
	s[63] = '\0';
	T_EQ_INT(map_parse_result(s, &r), 0);
	s[63] = 'l';
	s[64] = '\0';
	T_EQ_INT(map_parse_result(s, &r), -1);
	/* A user of MAX_USER and MAX_USER + 1. */
	memset(s, 'u', MAX_USER);
	memcpy(s + MAX_USER, "@h", 3);
	T_EQ_INT(map_parse_result(s, &r), 0);
	T_EQ_INT(strlen(r.user), MAX_USER);
	memset(s, 'u', MAX_USER + 1);
	memcpy(s + MAX_USER + 1, "@h", 3);
	T_EQ_INT(map_parse_result(s, &r), -1);
}

/* Threat row 4: values of 4095, 4096 and 65536 bytes; lines at the cap. */
static void
test_threat_4_long_values(void)
{
	static const size_t	 sizes[] = { 4095, 4096, 65536 };
	struct map_result	 r;
	struct map		*m;
	char			*line;
	size_t			 i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		line = long_value_line("", sizes[i]);
		line[sizes[i]] = '\0';
		T_EQ_INT(map_parse_result(line, &r), -1);
		free(line);

		line = long_value_line("^k: ", sizes[i]);
		m = rx_map(line);
		T_ASSERT(m == NULL);
		T_ASSERT(strstr(errbuf, "test.map:1:") != NULL);
		free(line);

		line = long_value_line("k: ", sizes[i]);
		m = st_map(line);
		T_ASSERT(m == NULL);
		T_ASSERT(strstr(errbuf, "test.map:1:") != NULL);
		free(line);
	}
	/* A line of exactly MAX_MAP_LINE bytes is read (its value is then
	 * too long for a host); one byte more is a line error. */
	line = long_value_line("^k: ", MAX_MAP_LINE - 4);
	m = rx_map(line);
	T_ASSERT(m == NULL);
	T_ASSERT(strstr(errbuf, "bad value") != NULL);
	free(line);
	line = long_value_line("^k: ", MAX_MAP_LINE - 3);
	m = rx_map(line);
	T_ASSERT(m == NULL);
	T_ASSERT(strstr(errbuf, "line longer") != NULL);
	free(line);
	/* A long comment line at the cap is fine, past it refused. */
	line = long_value_line("#", MAX_MAP_LINE - 1);
	m = rx_map(line);
	T_ASSERT(m != NULL);
	map_close(&m);
	free(line);
	line = long_value_line("#", MAX_MAP_LINE);
	m = st_map(line);
	T_ASSERT(m == NULL);
	T_ASSERT(strstr(errbuf, "line longer") != NULL);
	free(line);
	/* "$1" repeated: a result that outgrows MAP_MAX_VALUE at lookup. */
	{
		char	text[MAX_MAP_LINE], exp[64];
		char	u[MAX_USER + 1];
		size_t	o;

		o = (size_t)snprintf(text, sizeof(text), "^(.*)$: h");
		for (i = 0; i < 40; i++) {
			o += (size_t)snprintf(text + o, sizeof(text) - o, "$1");
		}
		(void)snprintf(text + o, sizeof(text) - o, "\n");
		m = rx_map(text);
		T_ASSERT(m != NULL);
		memset(u, 'a', MAX_USER);
		u[MAX_USER] = '\0';
		expect_rv(m, u, -1);		/* 40 * 255 > MAP_MAX_VALUE */
		u[1] = '\0';
		memset(exp, 'a', 41);
		exp[0] = 'h';
		exp[41] = '\0';
		expect(m, u, "", exp, 0);
		free_map(m);
	}
}

/* Threat row 28: 8-bit, invalid UTF-8 and NUL in usernames. */
static void
test_threat_28_odd_bytes(void)
{
	static const char *users[] = {
		"\xff@h", "\xc0\xaf@h", "\xed\xa0\x80@h", "\xe0\x80\xaf@h",
		"\xf8\x88\x80\x80\x80@h",
	};
	struct map_query	q;
	struct map_result	r;
	struct map		*m;
	char			out[MAP_MAX_KEY];
	size_t			i;

	m = rx_map("^(.*)@(.*)$: $1@$2\n^.*$: fallback\n");
	T_ASSERT(m != NULL);
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		char	exp[16];

		(void)snprintf(exp, sizeof(exp), "%.*s",
		    (int)(strlen(users[i]) - 2), users[i]);
		expect(m, users[i], exp, "h", 0);
	}
	/* 8-bit bytes never make a host. */
	expect_rv(m, "u@\xff", -1);
	expect_rv(m, "u@h\xc0\xaf", -1);
	/* A control byte anywhere in the query is refused outright. */
	expect_rv(m, "u\x01@h", -1);
	expect_rv(m, "u\x7f@h", -1);
	expect_rv(m, "u\t@h", -1);
	expect_rv(m, "u\n@h", -1);
	free_map(m);

	/* A NUL ends the username: the bytes after it are never seen. */
	q_init(&q, "");
	memcpy(q.user, "ab\0cd@evil", 11);
	T_EQ_INT(map_expand_key("\\U|\\d", 5, &q, out, sizeof(out)), 0);
	T_EQ_STR(out, "ab|");
	/* An unterminated username field is refused, not over-read. */
	m = st_map("ab: h\n");
	T_ASSERT(m != NULL);
	memset(q.user, 'a', sizeof(q.user));
	T_EQ_INT(map_lookup(m, &q, &r), -1);
	q.user[MAX_USER] = '\0';
	T_EQ_INT(map_lookup(m, &q, &r), 0);
	free_map(m);

	/* Static keys with 8-bit bytes match byte for byte. */
	m = st_map("\xff\xfe: eightbit.example\n");
	T_ASSERT(m != NULL);
	expect(m, "\xff\xfe", "", "eightbit.example", 0);
	expect_rv(m, "\xff", 0);
	free_map(m);
}

/* ---- static maps --------------------------------------------------------- */

static void
test_static_format(void)
{
	struct map	*m;

	m = st_map("# comment\n\n"
	    "horms:localhost:110\n"			/* Perdition's popmap */
	    "jain: jane@backend1.example.net\n"
	    "  Bob@Example.COM:\timap.example.com:993   # comment\r\n"
	    "::1: loopback.example\n"
	    "a:b: colon.example\n"
	    "v6: [2001:db8::25]:143\n"
	    "last: last.example");
	T_ASSERT(m != NULL);
	if (m == NULL) {
		fprintf(stderr, "  %s\n", errbuf);
		return;
	}
	expect(m, "horms", "", "localhost", 110);
	expect(m, "jain", "jane", "backend1.example.net", 0);
	expect(m, "Bob@example.com", "", "imap.example.com", 993);
	expect(m, "Bob@EXAMPLE.com", "", "imap.example.com", 993);
	expect(m, "bob@example.com", "", "imap.example.com", 993);
	expect(m, "::1", "", "loopback.example", 0);
	expect(m, "a:b", "", "colon.example", 0);
	expect(m, "v6", "", "2001:db8::25", 143);
	expect(m, "last", "", "last.example", 0);
	expect_rv(m, "horms:localhost", 0);
	expect(m, "HORMS", "", "localhost", 110);
	free_map(m);
	/* An empty static map answers "not found". */
	m = st_map("# only a comment\n\n");
	T_ASSERT(m != NULL);
	expect_rv(m, "horms", 0);
	free_map(m);
}

static void
test_static_format_errors(void)
{
	static const struct {
		const char	*text;
		const char	*msg;
	} bad[] = {
		{ "ok: h\nnocolon\n", "test.map:2: no ':'" },
		{ ": h\n", "test.map:1: empty key" },
		{ "a b: h\n", "test.map:1: blank" },
		{ "k:\n", "test.map:1: empty value" },
		{ "k: a b\n", "test.map:1: blank" },
		{ "k: host:0\n", "test.map:1: port" },
		{ "k: h/x\n", "test.map:1: bad character" },
		{ "k: h1\nx: h\nK: h2\n", "test.map:3: duplicate key "
		    "(first on line 1)" },
		{ "k@A.b: h1\nk@a.B: h2\n", "test.map:2: duplicate" },
	};
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct map *m = st_map(bad[i].text);

		T_ASSERT(m == NULL);
		if (strncmp(errbuf, bad[i].msg, strlen(bad[i].msg)) != 0) {
			fprintf(stderr, "  case %zu: \"%s\"\n", i, errbuf);
			T_ASSERT(0);
		}
	}
}

/* Many keys: each is found (the sorted array and bsearch). */
static void
test_static_many(void)
{
	struct map	*m;
	char		*text, user[32], host[32];
	size_t		 i, o = 0, n = 5000;
	struct map_result r;

	if ((text = malloc(n * 40)) == NULL) {
		abort();
	}
	for (i = n; i > 0; i--) {
		o += (size_t)snprintf(text + o, n * 40 - o,
		    "u%zu@d%zu.example: h%zu.example:%zu\n", i, i % 7, i,
		    i % 60000 + 1);
	}
	m = mk_map(MAP_STATIC, "\\U", text, o);
	T_ASSERT(m != NULL);
	for (i = 1; i <= n && m != NULL; i += 37) {
		(void)snprintf(user, sizeof(user), "u%zu@D%zu.EXAMPLE", i,
		    i % 7);
		(void)snprintf(host, sizeof(host), "h%zu.example", i);
		T_EQ_INT(look(m, user, &r), 1);
		T_EQ_STR(r.host, host);
		T_EQ_INT(r.port, i % 60000 + 1);
	}
	T_EQ_INT(look(m, "u0@d0.example", &r), 0);
	T_EQ_INT(look(m, "u5001@d5.example", &r), 0);
	free_map(m);
	free(text);
}

/* ---- splitting: every position, one byte at a time ---------------------- */

/*
 * The map parsers take whole texts, so "split at every position" means:
 * a backslash-newline (Perdition's line continuation) inserted at any
 * position of a line leaves the entry unchanged, and every prefix of a
 * map loads or fails cleanly.
 */
static void
test_regex_split_every_position(void)
{
	static const char	 line[] =
	    "^(al)i(ce)$:\t$1$2@'b.e'x.example:14";
	static const char	 line2[] = "^pay\\ x: pay.example";
	struct map		*m;
	char			 text[256];
	size_t			 i, n = sizeof(line) - 1;
	size_t			 q1 = (size_t)(strchr(line, '\'') - line);
	size_t			 q2 = (size_t)(strrchr(line, '\'') - line);

	for (i = 0; i <= n; i++) {
		/* Inside the quotes a backslash is literal: skip those. */
		if (i > q1 && i <= q2) {
			continue;
		}
		(void)snprintf(text, sizeof(text), "%.*s\\\n%s\n", (int)i,
		    line, line + i);
		m = rx_map(text);
		if (m == NULL) {
			fprintf(stderr, "  split at %zu: %s\n", i, errbuf);
		}
		T_ASSERT(m != NULL);
		if (m != NULL) {
			expect(m, "alice", "alce", "b.ex.example", 14);
			free_map(m);
		}
	}
	n = sizeof(line2) - 1;
	for (i = 0; i <= n; i++) {
		if (i == 5) {
			continue;	/* between the backslash and its byte */
		}
		(void)snprintf(text, sizeof(text), "%.*s\\\n%s\n", (int)i,
		    line2, line2 + i);
		m = rx_map(text);
		T_ASSERT(m != NULL);
		if (m != NULL) {
			expect(m, "pay x", "", "pay.example", 0);
			free_map(m);
		}
	}
}

static void
test_prefixes_load_cleanly(void)
{
	static const char	text[] =
	    "# c\n^(a)\\ b: \"$1@h\":1\n'x y'  h2 # c\n"
	    "^z\\\n: h3\nk: [::1]:9\n";
	struct map		*m;
	size_t			 k, loaded = 0;

	for (k = 0; k <= sizeof(text) - 1; k++) {
		m = mk_map(MAP_REGEX, "\\U", text, k);
		if (m != NULL) {
			loaded++;
			map_close(&m);
		} else {
			T_ASSERT(strstr(errbuf, "test.map:") != NULL);
		}
		m = mk_map(MAP_STATIC, "\\U", text, k);
		if (m != NULL) {
			map_close(&m);
		}
	}
	/* The whole text loads, and so does the empty prefix. */
	T_ASSERT(loaded >= 2);
	m = mk_map(MAP_REGEX, "\\U", text, sizeof(text) - 1);
	T_ASSERT(m != NULL);
	if (m != NULL) {
		expect(m, "a b", "a", "h", 1);
		expect(m, "x y", "", "h2", 0);
		expect(m, "z", "", "h3", 0);
		expect(m, "k", "", "::1", 9);
		free_map(m);
	}
}

/* ---- limits ------------------------------------------------------------- */

static void
test_limits_regex_count(void)
{
	struct map	*m;
	char		*text;
	size_t		 i, o = 0, sz = (MAP_MAX_REGEX + 1) * 24;

	if ((text = malloc(sz)) == NULL) {
		abort();
	}
	for (i = 0; i < MAP_MAX_REGEX; i++) {
		o += (size_t)snprintf(text + o, sz - o, "^u%zu$: h%zu\n", i, i);
	}
	m = mk_map(MAP_REGEX, "\\U", text, o);
	T_ASSERT(m != NULL);
	if (m != NULL) {
		expect(m, "u0", "", "h0", 0);
		expect(m, "u9999", "", "h9999", 0);
		free_map(m);
	}
	o += (size_t)snprintf(text + o, sz - o, "^one-more$: h\n");
	m = mk_map(MAP_REGEX, "\\U", text, o);
	T_ASSERT(m == NULL);
	T_ASSERT(strstr(errbuf, "test.map:10001: more than MAP_MAX_REGEX")
	    != NULL);
	free(text);
}

static void
test_limits_key(void)
{
	struct map	*m;
	char		*text;
	size_t		 n;

	/* A static key of MAP_MAX_KEY - 1 bytes loads; MAP_MAX_KEY not. */
	for (n = MAP_MAX_KEY - 1; n <= MAP_MAX_KEY; n++) {
		if ((text = malloc(n + 16)) == NULL) {
			abort();
		}
		memset(text, 'k', n);
		memcpy(text + n, ": h\n", 5);
		m = st_map(text);
		if (n < MAP_MAX_KEY) {
			T_ASSERT(m != NULL);
		} else {
			T_ASSERT(m == NULL);
			T_ASSERT(strstr(errbuf, "MAP_MAX_KEY") != NULL);
		}
		map_close(&m);
		free(text);
	}
}

/* ---- files: open, reload on mtime, close ------------------------------- */

static char	tmpdir[64];

static int
write_file(const char *path, const char *text, time_t mtime)
{
	struct timespec	ts[2];
	int		fd;
	size_t		len = strlen(text);

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1) {
		return -1;
	}
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	close(fd);
	ts[0].tv_sec = ts[1].tv_sec = mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	return utimensat(AT_FDCWD, path, ts, 0);
}

static void
test_reload_on_mtime(void)
{
	struct map	*m = NULL;
	char		 path[128], path2[128];

	if (mkdtemp(memcpy(tmpdir, "/tmp/test_map.XXXXXX", 21)) == NULL) {
		T_ASSERT(0);
		return;
	}
	(void)snprintf(path, sizeof(path), "%s/popmap.re", tmpdir);
	(void)snprintf(path2, sizeof(path2), "%s/other", tmpdir);
	T_EQ_INT(write_file(path, "^bob$: old.example\n", 1000000), 0);
	m = open_file(MAP_REGEX, path, "\\U");
	T_ASSERT(m != NULL);
	if (m == NULL) {
		goto out;
	}
	expect(m, "bob", "", "old.example", 0);

	/* Same mtime and size: not reread (the new text is not seen). */
	T_EQ_INT(write_file(path, "^bob$: new.example\n", 1000000), 0);
	map_refresh(m);
	expect(m, "bob", "", "old.example", 0);

	/* New mtime: reloaded. */
	T_EQ_INT(write_file(path, "^bob$: new.example\n", 1000001), 0);
	map_refresh(m);
	expect(m, "bob", "", "new.example", 0);

	/* A broken file: the old contents stay. */
	T_EQ_INT(write_file(path, "^bob$: new.example\n(: bad\n", 1000002), 0);
	map_refresh(m);
	expect(m, "bob", "", "new.example", 0);
	map_refresh(m);				/* not retried, still fine */
	expect(m, "bob", "", "new.example", 0);

	/* The file gone: the old contents stay. */
	T_EQ_INT(unlink(path), 0);
	map_refresh(m);
	expect(m, "bob", "", "new.example", 0);

	/* Back, fixed: reloaded. */
	T_EQ_INT(write_file(path, "^bob$: fixed.example\n", 1000003), 0);
	map_refresh(m);
	expect(m, "bob", "", "fixed.example", 0);

	/* Replaced by rename with an older mtime: still noticed (inode). */
	T_EQ_INT(write_file(path2, "^bob$: renamed.example\n", 999), 0);
	T_EQ_INT(rename(path2, path), 0);
	map_refresh(m);
	expect(m, "bob", "", "renamed.example", 0);

	/* Static maps too. */
	map_close(&m);
	T_EQ_INT(write_file(path, "bob: s1.example\n", 2000000), 0);
	m = open_file(MAP_STATIC, path, "\\U");
	T_ASSERT(m != NULL);
	if (m == NULL) {
		goto out;
	}
	expect(m, "bob", "", "s1.example", 0);
	T_EQ_INT(write_file(path, "bob: s2.example\n", 2000001), 0);
	map_refresh(m);
	expect(m, "bob", "", "s2.example", 0);
	T_EQ_INT(write_file(path, "bob s3.example\n", 2000002), 0);
	map_refresh(m);
	expect(m, "bob", "", "s2.example", 0);
out:
	map_close(&m);
	(void)unlink(path);
	(void)unlink(path2);
	(void)rmdir(tmpdir);
}

static void
test_open_errors(void)
{
	struct map_conf	 conf;
	struct map	*m;
	char		 path[128];

	m = open_file(MAP_REGEX, "/nonexistent/popmap.re", "\\U");
	T_ASSERT(m == NULL);
	m = open_file(MAP_REGEX, "/tmp", "\\U");	/* a directory */
	T_ASSERT(m == NULL);
	memset(&conf, 0, sizeof(conf));
	conf.type = (enum map_type)7;
	(void)snprintf(conf.path, sizeof(conf.path), "/dev/null");
	T_ASSERT(map_open(&conf) == NULL);
	map_close(NULL);
	m = NULL;
	map_close(&m);
	map_refresh(NULL);
	T_EQ_INT(map_lookup(NULL, NULL, &(struct map_result){ 0 }), -1);
	/* A file that fails to load is refused at open. */
	if (mkdtemp(memcpy(tmpdir, "/tmp/test_map.XXXXXX", 21)) == NULL) {
		T_ASSERT(0);
		return;
	}
	(void)snprintf(path, sizeof(path), "%s/bad.re", tmpdir);
	T_EQ_INT(write_file(path, "^a: b c\n", 1000), 0);
	m = open_file(MAP_REGEX, path, "\\U");
	T_ASSERT(m == NULL);
	/* MAP_MAX_FILE bytes load (blank lines); one more byte does not. */
	{
		static char	nl[1024 * 1024];
		size_t		i;
		int		fd;

		memset(nl, '\n', sizeof(nl));
		fd = open(path, O_WRONLY | O_TRUNC);
		T_ASSERT(fd != -1);
		for (i = 0; fd != -1 && i < MAP_MAX_FILE / sizeof(nl); i++) {
			T_EQ_INT(write(fd, nl, sizeof(nl)), sizeof(nl));
		}
		if (fd != -1) {
			close(fd);
		}
		m = open_file(MAP_STATIC, path, "\\U");
		T_ASSERT(m != NULL);
		map_close(&m);
		T_EQ_INT(truncate(path, (off_t)MAP_MAX_FILE + 1), 0);
		m = open_file(MAP_STATIC, path, "\\U");
		T_ASSERT(m == NULL);
	}
	(void)unlink(path);
	(void)rmdir(tmpdir);
}

/* The shipped examples load and answer as their comments say. */
static void
test_shipped_maps(void)
{
	struct map	*m;
	char		 path[PATH_MAX + 32];

	src_path("tests/data/maps/popmap.re", path, sizeof(path));
	m = open_file(MAP_REGEX, path, "\\U");
	T_ASSERT(m != NULL);
	if (m != NULL) {
		expect(m, "horms", "", "localhost", 0);
		expect(m, "jain", "jane", "backend1.example.net", 0);
		expect(m, "user", "user2", "localhost", 0);
		expect(m, "user@x.y.z.de", "user_x.y.z.de", "localhost", 0);
		expect(m, "bob@v6.example.org", "bob", "2001:db8::25", 143);
		expect(m, "with space", "", "space.example.net", 0);
		expect(m, "long-user-name-with-continuation", "",
		    "cont.example.net", 0);
		expect(m, "alice", "", "pop1.example.net", 110);
		expect(m, "zed", "", "pop2.example.net", 110);
		expect_rv(m, "bob@elsewhere.example", 0);
		free_map(m);
	}
	src_path("tests/data/maps/static.map", path, sizeof(path));
	m = open_file(MAP_STATIC, path, "\\U,\\d");
	T_ASSERT(m != NULL);
	if (m != NULL) {
		expect(m, "horms", "", "localhost", 110);
		expect(m, "jain", "jane", "backend1.example.net", 0);
		expect(m, "Bob@example.com", "", "imap.example.com", 993);
		expect(m, "carol@Example.org", "", "2001:db8::25", 143);
		expect_rv(m, "carol@example.net", 0);
		free_map(m);
	}
}

static const struct harness_case cases[] = {
	{ "perdition_doc_examples", test_perdition_doc_examples },
	{ "first_match_wins", test_first_match_wins },
	{ "regex_format", test_regex_format },
	{ "regex_format_errors", test_regex_format_errors },
	{ "dollar_n", test_dollar_n },
	{ "no_prefix_before_match", test_no_prefix_before_match },
	{ "taint_structure", test_taint_structure },
	{ "expand_key", test_expand_key },
	{ "threat_26_no_reexpansion", test_threat_26_no_reexpansion },
	{ "threat_40_key_has_every_input", test_threat_40_key_has_every_input },
	{ "lookup_key_spec", test_lookup_key_spec },
	{ "parse_result", test_parse_result },
	{ "parse_result_every_split", test_parse_result_every_split },
	{ "limits_result", test_limits_result },
	{ "threat_4_long_values", test_threat_4_long_values },
	{ "threat_28_odd_bytes", test_threat_28_odd_bytes },
	{ "static_format", test_static_format },
	{ "static_format_errors", test_static_format_errors },
	{ "static_many", test_static_many },
	{ "regex_split_every_position", test_regex_split_every_position },
	{ "prefixes_load_cleanly", test_prefixes_load_cleanly },
	{ "limits_regex_count", test_limits_regex_count },
	{ "limits_key", test_limits_key },
	{ "reload_on_mtime", test_reload_on_mtime },
	{ "open_errors", test_open_errors },
	{ "shipped_maps", test_shipped_maps },
};

HARNESS_MAIN("map", cases)
