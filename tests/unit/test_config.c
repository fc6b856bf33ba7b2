/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests for gateway/config.c, the bailey.conf parser.  Runs as an
 * ordinary test process with no privilege; trusts nothing but the parser's
 * documented grammar.  Errors are checked by capturing the log (fd 2) in a
 * temporary file.  Also checks that every keyword appears in
 * docs/bailey.conf.5 (run from the repository root, as make does).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "harness.h"
#include "log.h"

#define FNAME		"t.conf"
#define BASE		"listen imap on 127.0.0.1 port 1143\n"
#define LOGSZ		(256 * 1024)
#define HUGE		(100 * 1024)

static char	logbuf[LOGSZ];

/* Runs config_parse with fd 2 redirected into logbuf. */
static int
parse_cap(struct bailey_conf *c, const char *text, size_t len)
{
	FILE	*f;
	ssize_t	 n;
	size_t	 got = 0;
	int	 saved, rv;

	log_init("test", 1, 0, LOG_LVL_WARN);
	logbuf[0] = '\0';
	if ((f = tmpfile()) == NULL) {
		fprintf(stderr, "tmpfile: %s\n", strerror(errno));
		exit(2);
	}
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	if (saved == -1 || dup2(fileno(f), STDERR_FILENO) == -1) {
		exit(2);
	}
	rv = config_parse(c, FNAME, text, len);
	if (dup2(saved, STDERR_FILENO) == -1) {
		exit(2);
	}
	close(saved);
	if (lseek(fileno(f), 0, SEEK_SET) == -1) {
		exit(2);
	}
	while (got < sizeof(logbuf) - 1 &&
	    (n = read(fileno(f), logbuf + got, sizeof(logbuf) - 1 - got)) > 0) {
		got += (size_t)n;
	}
	logbuf[got] = '\0';
	fclose(f);
	return rv;
}

static struct bailey_conf *
conf_new(void)
{
	struct bailey_conf *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		exit(2);
	}
	return c;
}

static int
parse_str(struct bailey_conf *c, const char *text)
{
	return parse_cap(c, text, strlen(text));
}

/* BASE + text must parse without any log output. */
static void
expect_ok(struct bailey_conf *c, const char *text)
{
	char	*s;
	int	 rv;

	if (asprintf(&s, "%s%s", BASE, text) == -1) {
		exit(2);
	}
	rv = parse_str(c, s);
	if (rv != 0 || logbuf[0] != '\0') {
		fprintf(stderr, "  unexpected failure for [%s]: %s", text,
		    logbuf);
	}
	T_EQ_INT(rv, 0);
	T_EQ_STR(logbuf, "");
	free(s);
}

/* Checks the log holds "t.conf:line: " followed (later) by msg. */
static void
expect_log(int line, const char *msg)
{
	char	 pfx[64];
	char	*at;

	snprintf(pfx, sizeof(pfx), "%s:%d: ", FNAME, line);
	at = strstr(logbuf, pfx);
	if (at == NULL || strstr(at, msg) == NULL) {
		fprintf(stderr, "  expected \"%s%s\" in log: %s", pfx, msg,
		    logbuf);
	}
	T_ASSERT(at != NULL && strstr(at, msg) != NULL);
}

/* BASE + text (line 2) must fail with msg reported on line 2. */
static void
expect_err(const char *text, const char *msg)
{
	struct bailey_conf	*c = conf_new();
	char			*s;

	if (asprintf(&s, "%s%s", BASE, text) == -1) {
		exit(2);
	}
	T_EQ_INT(parse_str(c, s), -1);
	expect_log(2, msg);
	free(s);
	free(c);
}

static void
test_keywords_sorted(void)
{
	size_t	i;

	T_ASSERT(config_keyword(0) != NULL);
	for (i = 0; config_keyword(i + 1) != NULL; i++) {
		if (strcmp(config_keyword(i), config_keyword(i + 1)) >= 0) {
			fprintf(stderr, "  %s >= %s\n", config_keyword(i),
			    config_keyword(i + 1));
		}
		T_ASSERT(strcmp(config_keyword(i), config_keyword(i + 1)) < 0);
	}
	T_EQ_INT(i + 1, 31);
	T_ASSERT(config_word(0) != NULL);
}

/* Every keyword is found by the binary search: none is "unknown". */
static void
test_keywords_found(void)
{
	struct bailey_conf	*c = conf_new();
	char			 line[128], want[160];
	size_t			 i;

	for (i = 0; config_keyword(i) != NULL; i++) {
		snprintf(line, sizeof(line), BASE "%s\n", config_keyword(i));
		T_EQ_INT(parse_str(c, line), -1);
		snprintf(want, sizeof(want), "%s: missing argument",
		    config_keyword(i));
		expect_log(2, want);
		T_ASSERT(strstr(logbuf, "unknown keyword") == NULL);
	}
	expect_err("workerz 4\n", "unknown keyword \"workerz\"");
	expect_err("Workers 4\n", "unknown keyword");
	expect_err("aaa 4\n", "unknown keyword");
	expect_err("zzz 4\n", "unknown keyword");
	free(c);
}

static void
test_defaults(void)
{
	struct bailey_conf	*c = conf_new();
	long			 ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	config_defaults(c);
	T_EQ_INT(c->workers, ncpu < 1 ? 1 : (ncpu > 64 ? 64 : ncpu));
	T_EQ_INT(c->isolation, ISOLATION_SHARED);
	T_EQ_INT(c->max_connections, 10000);
	T_EQ_INT(c->max_bad_commands, 10);
	T_EQ_INT(c->max_auth_attempts, 3);
	T_EQ_INT(c->auth_fail_delay_ms, 1000);
	T_EQ_INT(c->timeout_login, 60);
	T_EQ_INT(c->timeout_idle, 1800);
	T_EQ_INT(c->timeout_connect, 10);
	T_EQ_INT(c->backend_port[PROTO_IMAP], 143);
	T_EQ_INT(c->backend_port[PROTO_POP3], 110);
	T_EQ_INT(c->domain_delimiter, '@');
	T_EQ_INT(c->log_level, LOG_LVL_INFO);
	T_EQ_INT(c->log_syslog, 1);
	T_EQ_INT(c->log_stderr, 0);
	T_EQ_INT(c->nlisteners + c->nservers + c->nmaps, 0);

	/* Parsing starts from the defaults, whatever was there before. */
	memset(c, 0x5a, sizeof(*c));
	expect_ok(c, "");
	T_EQ_INT(c->max_connections, 10000);
	T_EQ_INT(c->nlisteners, 1);
	T_EQ_INT(c->nservers, 0);
	T_EQ_STR(c->listeners[0].addr, "127.0.0.1");
	T_EQ_INT(c->listeners[0].port, 1143);
	T_EQ_INT(c->listeners[0].proto, PROTO_IMAP);
	T_EQ_INT(c->listeners[0].tls, TLS_MODE_NONE);
	T_EQ_INT(c->listeners[0].line, 1);
	free(c);
}

static void
test_empty(void)
{
	struct bailey_conf *c = conf_new();

	T_EQ_INT(parse_cap(c, "", 0), -1);
	expect_log(1, "no listen statement");
	T_EQ_INT(parse_str(c, "# only a comment\n\n   \n"), -1);
	expect_log(3, "no listen statement");
	T_EQ_INT(parse_str(c, "workers 2\n"), -1);
	expect_log(1, "no listen statement");
	free(c);
}

static void
test_comments(void)
{
	struct bailey_conf *c = conf_new();

	expect_ok(c, "# comment\n\n\t \n   # indented comment\n"
	    "workers 4 # trailing comment\n"
	    "workers 5# no space before the comment\n"
	    "#workers 9\n"
	    "map static \"/m#1\" # a quoted # is no comment\n");
	T_EQ_INT(c->workers, 5);
	T_EQ_INT(c->nmaps, 1);
	T_EQ_STR(c->maps[0].path, "/m#1");
	/* CRLF line ends, tabs, and no final newline. */
	T_EQ_INT(parse_str(c, "listen pop3\ton ::1 port 1110\r\n"
	    "workers\t7\r\nmax-connections 12"), 0);
	T_EQ_STR(logbuf, "");
	T_EQ_INT(c->workers, 7);
	T_EQ_INT(c->max_connections, 12);
	T_EQ_INT(c->listeners[0].proto, PROTO_POP3);
	free(c);
}

struct num_case {
	const char	*fmt;		/* statement with one %s */
	uint64_t	 min;
	uint64_t	 max;
	int		 which;
};

static uint64_t
num_get(const struct bailey_conf *c, int which)
{
	switch (which) {
	case 0: return c->workers;
	case 1: return c->max_connections;
	case 2: return c->max_bad_commands;
	case 3: return c->max_auth_attempts;
	case 4: return c->auth_fail_delay_ms;
	case 5: return c->timeout_login;
	case 6: return c->timeout_idle;
	case 7: return c->timeout_connect;
	case 8: return c->backend_port[PROTO_IMAP];
	case 9: return c->backend_port[PROTO_POP3];
	case 10: return c->listeners[1].port;
	case 11: return c->servers[0].port;
	default: return UINT64_MAX;
	}
}

static const struct num_case num_cases[] = {
	{ "workers %s\n", 1, 64, 0 },
	{ "max-connections %s\n", 1, 1000000, 1 },
	{ "max-bad-commands %s\n", 1, 1000, 2 },
	{ "max-auth-attempts %s\n", 1, 100, 3 },
	{ "auth-failure-delay %s\n", 0, 60000, 4 },
	{ "timeout login %s\n", 1, 86400, 5 },
	{ "timeout idle %s\n", 1, 86400, 6 },
	{ "timeout connect %s\n", 1, 86400, 7 },
	{ "backend-port imap %s\n", 1, 65535, 8 },
	{ "backend-port pop3 %s\n", 1, 65535, 9 },
	{ "listen pop3 on 127.0.0.2 port %s\n", 1, 65535, 10 },
	{ "server imap mail.example.net port %s\n", 1, 65535, 11 },
};

static void
num_try(const struct num_case *nc, const char *val, int ok, uint64_t want,
    const char *err)
{
	struct bailey_conf	*c = conf_new();
	char			 stmt[128];

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(stmt, sizeof(stmt), nc->fmt, val);
#pragma GCC diagnostic pop
	if (ok) {
		expect_ok(c, stmt);
		T_EQ_INT(num_get(c, nc->which), want);
	} else {
		expect_err(stmt, err);
	}
	free(c);
}

/* Every number at its limits and one past them. */
static void
test_numbers(void)
{
	char	v[32];
	size_t	i;

	for (i = 0; i < sizeof(num_cases) / sizeof(num_cases[0]); i++) {
		const struct num_case *nc = &num_cases[i];

		snprintf(v, sizeof(v), "%llu", (unsigned long long)nc->min);
		num_try(nc, v, 1, nc->min, NULL);
		snprintf(v, sizeof(v), "%llu", (unsigned long long)nc->max);
		num_try(nc, v, 1, nc->max, NULL);
		snprintf(v, sizeof(v), "%llu",
		    (unsigned long long)nc->max + 1);
		num_try(nc, v, 0, 0, "is too large");
		if (nc->min > 0) {
			snprintf(v, sizeof(v), "%llu",
			    (unsigned long long)nc->min - 1);
			num_try(nc, v, 0, 0, "is too small");
		}
		snprintf(v, sizeof(v), "00%llu", (unsigned long long)nc->max);
		num_try(nc, v, 1, nc->max, NULL);
		num_try(nc, "-1", 0, 0, "is invalid");
		num_try(nc, "1x", 0, 0, "is invalid");
		num_try(nc, "0x10", 0, 0, "is invalid");
		num_try(nc, "\"\"", 0, 0, "is invalid");
		num_try(nc, "99999999999999999999999", 0, 0, "");
		num_try(nc, "18446744073709551616", 0, 0, "");
	}
}

static void
test_last_wins(void)
{
	struct bailey_conf *c = conf_new();

	expect_ok(c, "workers 3\nworkers 4\nisolation per-connection\n"
	    "isolation shared\n");
	T_EQ_INT(c->workers, 4);
	T_EQ_INT(c->isolation, ISOLATION_SHARED);
	free(c);
}

static void
test_isolation(void)
{
	struct bailey_conf *c = conf_new();

	expect_ok(c, "isolation per-connection\n");
	T_EQ_INT(c->isolation, ISOLATION_PER_CONNECTION);
	expect_ok(c, "isolation shared\n");
	T_EQ_INT(c->isolation, ISOLATION_SHARED);
	expect_err("isolation none\n", "isolation: unknown mode \"none\" "
	    "(expected shared or per-connection)");
	expect_err("isolation\n", "isolation: missing argument");
	expect_err("isolation shared shared\n",
	    "isolation: too many arguments");
	free(c);
}

static void
test_timeout(void)
{
	expect_err("timeout login\n", "timeout: missing argument");
	expect_err("timeout session 10\n", "timeout: unknown timeout "
	    "\"session\" (expected login, idle, connect or handshake)");
	expect_err("timeout 10 login\n", "unknown timeout");
	expect_err("timeout idle 10 20\n", "timeout: too many arguments");
}

static void
test_delimiter(void)
{
	struct bailey_conf *c = conf_new();

	expect_ok(c, "domain-delimiter %\n");
	T_EQ_INT(c->domain_delimiter, '%');
	expect_ok(c, "domain-delimiter \"#\"\n");
	T_EQ_INT(c->domain_delimiter, '#');
	expect_ok(c, "domain-delimiter \"\\\\\"\n");
	T_EQ_INT(c->domain_delimiter, '\\');
	expect_ok(c, "domain-delimiter ~\n");
	T_EQ_INT(c->domain_delimiter, '~');
	expect_err("domain-delimiter ab\n", "not one printable");
	expect_err("domain-delimiter \" \"\n", "not one printable");
	expect_err("domain-delimiter \"\"\n", "not one printable");
	expect_err("domain-delimiter \xc3\xa9\n", "not one printable");
	expect_err("domain-delimiter \x80\n", "not one printable");
	free(c);
}

static void
test_log(void)
{
	struct bailey_conf *c = conf_new();

	expect_ok(c, "log level debug\nlog syslog no\nlog stderr yes\n");
	T_EQ_INT(c->log_level, LOG_LVL_DEBUG);
	T_EQ_INT(c->log_syslog, 0);
	T_EQ_INT(c->log_stderr, 1);
	expect_ok(c, "log level warn\nlog syslog yes\nlog stderr no\n");
	T_EQ_INT(c->log_level, LOG_LVL_WARN);
	T_EQ_INT(c->log_syslog, 1);
	T_EQ_INT(c->log_stderr, 0);
	expect_ok(c, "log level info\n");
	T_EQ_INT(c->log_level, LOG_LVL_INFO);
	expect_err("log level trace\n", "log level: unknown level "
	    "\"trace\" (expected warn, info or debug)");
	expect_err("log syslog maybe\n", "expected yes or no");
	expect_err("log stderr 1\n", "expected yes or no");
	expect_err("log file /x\n", "log: unknown option \"file\"");
	expect_err("log level\n", "log: missing argument");
	expect_err("log level info debug\n", "log: too many arguments");
	free(c);
}

static void
test_listen(void)
{
	struct bailey_conf	*c = conf_new();
	char			*s;
	size_t			 i;

	expect_ok(c, "certificate /c.pem key /k.pem\n"
	    "listen pop3 on ::1 port 110 tls implicit\n"
	    "listen imap on 0.0.0.0 port 993 tls required\n"
	    "listen imap on 2001:db8::1 port 143 tls starttls\n"
	    "listen pop3 on 127.0.0.1 port 110 tls none\n"
	    "listen imap on 127.0.0.1 port 1144\n");
	T_EQ_INT(c->nlisteners, 6);
	T_EQ_STR(c->listeners[1].addr, "::1");
	T_EQ_INT(c->listeners[1].proto, PROTO_POP3);
	T_EQ_INT(c->listeners[1].tls, TLS_MODE_IMPLICIT);
	T_EQ_INT(c->listeners[1].line, 3);
	T_EQ_INT(c->listeners[2].tls, TLS_MODE_REQUIRED);
	T_EQ_INT(c->listeners[3].tls, TLS_MODE_STARTTLS);
	T_EQ_STR(c->listeners[3].addr, "2001:db8::1");
	T_EQ_INT(c->listeners[4].tls, TLS_MODE_NONE);
	T_EQ_INT(c->listeners[5].port, 1144);

	expect_err("listen imap on localhost port 143\n",
	    "\"localhost\" is not a numeric IPv4 or IPv6 address");
	expect_err("listen imap on 1.2.3.4.5 port 143\n", "not a numeric");
	expect_err("listen imap on 1.2.3 port 143\n", "not a numeric");
	expect_err("listen imap on ::1%lo port 143\n", "not a numeric");
	expect_err("listen imap on [::1] port 143\n", "not a numeric");
	expect_err("listen imap on \"\" port 143\n", "not a numeric");
	expect_err("listen imap on "
	    "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0 "
	    "port 143\n", "not a numeric");
	expect_err("listen smtp on ::1 port 25\n", "listen: unknown "
	    "protocol \"smtp\" (expected imap or pop3)");
	expect_err("listen imap at ::1 port 143\n",
	    "listen: expected \"on\" instead of \"at\"");
	expect_err("listen imap on ::1 prt 143\n",
	    "expected \"port\" instead of \"prt\"");
	expect_err("listen imap on ::1 port 143 tls\n",
	    "listen: missing argument after \"tls\"");
	expect_err("listen imap on ::1 port 143 ssl\n",
	    "expected \"tls\" or \"proxy-protocol\" (once each) instead "
	    "of \"ssl\"");
	expect_err("listen imap on ::1 port 143 ssl yes\n",
	    "expected \"tls\" or \"proxy-protocol\" (once each) instead "
	    "of \"ssl\"");
	expect_err("listen imap on ::1 port 143 tls always\n",
	    "unknown tls mode \"always\" (expected none, starttls, "
	    "required or implicit)");
	expect_err("listen imap on ::1 port 143 tls none x\n",
	    "listen: expected \"tls\" or \"proxy-protocol\" (once each) "
	    "instead of \"x\"");
	expect_err("listen imap on ::1 port 143 tls none proxy-protocol v1 "
	    "x\n", "listen: too many arguments");
	expect_err("listen imap on ::1\n", "listen: missing argument");
	/* Duplicates: same address and port, however written. */
	expect_err("listen pop3 on 127.0.0.1 port 1143\n",
	    "duplicate listener 127.0.0.1 port 1143 (first on line 1)");
	T_EQ_INT(parse_str(c, "listen imap on ::1 port 1\n"
	    "listen imap on 0:0::0:1 port 1\n"), -1);
	expect_log(2, "duplicate listener");
	/* CONF_MAX_LISTENERS, and one more. */
	s = NULL;
	for (i = 0; i < CONF_MAX_LISTENERS + 1; i++) {
		char *n;

		if (asprintf(&n, "%slisten imap on 127.0.0.1 port %zu\n",
		    s ? s : "", 2000 + i) == -1) {
			exit(2);
		}
		free(s);
		s = n;
		if (i == CONF_MAX_LISTENERS - 1) {
			T_EQ_INT(parse_str(c, s), 0);
			T_EQ_INT(c->nlisteners, CONF_MAX_LISTENERS);
		}
	}
	T_EQ_INT(parse_str(c, s), -1);
	expect_log(CONF_MAX_LISTENERS + 1, "too many listeners (max 32)");
	T_EQ_INT(c->nlisteners, CONF_MAX_LISTENERS);
	free(s);
	free(c);
}

/* listen ... proxy-protocol [v1|v2] and proxy-trusted. */
static void
test_proxy_protocol(void)
{
	struct bailey_conf	*c = conf_new();
	char			*s, *n;
	size_t			 i;

	T_EQ_INT(c->listeners[0].proxy, 0);
	expect_ok(c, "certificate /c.pem key /k.pem\n"
	    "proxy-trusted 10.0.0.0/8 192.0.2.7 2001:db8::/32\n"
	    "proxy-trusted 127.0.0.1 10.0.0.0/8\n"
	    "listen imap on ::1 port 143 proxy-protocol\n"
	    "listen imap on ::1 port 144 proxy-protocol v1\n"
	    "listen imap on ::1 port 993 tls implicit proxy-protocol v2\n"
	    "listen pop3 on ::1 port 995 proxy-protocol tls implicit\n"
	    "listen pop3 on ::1 port 996 proxy-protocol v1 tls required\n");
	T_EQ_INT(c->nlisteners, 6);
	T_EQ_INT(c->listeners[0].proxy, 0);
	T_EQ_INT(c->listeners[1].proxy, LISTEN_PROXY_V1 | LISTEN_PROXY_V2);
	T_EQ_INT(c->listeners[1].tls, TLS_MODE_NONE);
	T_EQ_INT(c->listeners[2].proxy, LISTEN_PROXY_V1);
	T_EQ_INT(c->listeners[3].proxy, LISTEN_PROXY_V2);
	T_EQ_INT(c->listeners[3].tls, TLS_MODE_IMPLICIT);
	T_EQ_INT(c->listeners[4].proxy, LISTEN_PROXY_V1 | LISTEN_PROXY_V2);
	T_EQ_INT(c->listeners[4].tls, TLS_MODE_IMPLICIT);
	T_EQ_INT(c->listeners[5].proxy, LISTEN_PROXY_V1);
	T_EQ_INT(c->listeners[5].tls, TLS_MODE_REQUIRED);
	/* Four prefixes: the duplicate 10.0.0.0/8 is kept once. */
	T_EQ_INT(c->nproxy_trusted, 4);
	T_EQ_INT(c->proxy_trusted[0].plen, 8);
	T_EQ_INT(c->proxy_trusted[1].plen, 32);
	T_EQ_INT(c->proxy_trusted[2].plen, 32);
	T_EQ_INT(c->proxy_trusted[2].net.family, AF_INET6);
	T_EQ_INT(c->proxy_trusted[3].plen, 32);

	/* A proxy-protocol listener without trusted balancers. */
	T_EQ_INT(parse_str(c, "listen imap on ::1 port 143\n"
	    "listen imap on ::1 port 144 proxy-protocol\n"), -1);
	expect_log(2, "listen: proxy-protocol needs a proxy-trusted "
	    "statement");
	expect_err("listen imap on ::1 port 143 proxy-protocol v3\n",
	    "listen: unknown proxy-protocol version \"v3\" (expected v1 "
	    "or v2)");
	expect_err("listen imap on ::1 port 143 proxy-protocol tls\n",
	    "listen: missing argument after \"tls\"");
	expect_err("listen imap on ::1 port 143 proxy-protocol "
	    "proxy-protocol\n", "listen: unknown proxy-protocol version");
	expect_err("listen imap on ::1 port 143 proxy-protocol v1 "
	    "proxy-protocol\n", "(once each) instead of \"proxy-protocol\"");
	expect_err("listen imap on ::1 port 143 tls none tls none\n",
	    "(once each) instead of \"tls\"");
	expect_err("proxy-trusted\n", "proxy-trusted: missing argument");
	expect_err("proxy-trusted 10.0.0.1/8\n",
	    "proxy-trusted: \"10.0.0.1/8\": ");
	expect_err("proxy-trusted 10.0.0.0/33\n", "proxy-trusted: "
	    "\"10.0.0.0/33\": ");
	expect_err("proxy-trusted lb.example.net\n",
	    "proxy-trusted: \"lb.example.net\": ");
	expect_err("proxy-trusted ::ffff:10.0.0.1\n",
	    "proxy-trusted: \"::ffff:10.0.0.1\": ");
	expect_err("proxy-trusted [::1]\n", "proxy-trusted: \"[::1]\": ");
	expect_err("proxy-trusted 127.0.0.1 010.0.0.1\n",
	    "proxy-trusted: \"010.0.0.1\": ");
	/* CONF_MAX_PROXY_TRUSTED prefixes, and one more. */
	s = NULL;
	for (i = 0; i < CONF_MAX_PROXY_TRUSTED + 1; i++) {
		if (asprintf(&n, "%sproxy-trusted 10.0.%zu.0/24\n",
		    s ? s : "", i) == -1) {
			exit(2);
		}
		free(s);
		s = n;
		if (i == CONF_MAX_PROXY_TRUSTED - 1) {
			expect_ok(c, s);
			T_EQ_INT(c->nproxy_trusted, CONF_MAX_PROXY_TRUSTED);
		}
	}
	T_EQ_INT(parse_str(c, s), -1);
	expect_log(CONF_MAX_PROXY_TRUSTED + 1,
	    "proxy-trusted: too many prefixes (max 64)");
	T_EQ_INT(c->nproxy_trusted, CONF_MAX_PROXY_TRUSTED);
	free(s);
	free(c);
}

static void
test_server(void)
{
	struct bailey_conf	*c = conf_new();
	char			 host[CONF_MAX_HOSTNAME + 2];
	char			*s;
	size_t			 i;

	expect_ok(c, "server imap mail1.example.net port 143\n"
	    "server pop3 ::1 port 995 tls implicit\n"
	    "server imap 192.0.2.1 port 143 tls starttls\n"
	    "server imap \"mail2\" port 143 tls none\n");
	T_EQ_INT(c->nservers, 4);
	T_EQ_STR(c->servers[0].host, "mail1.example.net");
	T_EQ_INT(c->servers[0].proto, PROTO_IMAP);
	T_EQ_INT(c->servers[0].tls, TLS_MODE_NONE);
	T_EQ_STR(c->servers[1].host, "::1");
	T_EQ_INT(c->servers[1].port, 995);
	T_EQ_INT(c->servers[1].proto, PROTO_POP3);
	T_EQ_INT(c->servers[1].tls, TLS_MODE_IMPLICIT);
	T_EQ_INT(c->servers[2].tls, TLS_MODE_STARTTLS);
	T_EQ_STR(c->servers[3].host, "mail2");

	expect_err("server imap h port 143 tls required\n",
	    "unknown tls mode \"required\" (expected none, starttls or "
	    "implicit)");
	expect_err("server imap \"a b\" port 143\n", "not a valid host");
	expect_err("server imap \"\" port 143\n", "not a valid host");
	expect_err("server imap h\xc3\xa9 port 143\n", "not a valid host");
	expect_err("server imap h port 143 tls\n",
	    "server: missing argument after \"tls\"");
	expect_err("server imap h prt 143\n", "expected \"port\"");
	expect_err("server smtp h port 25\n", "unknown protocol");
	expect_err("server imap h port\n", "server: missing argument");

	/* Host: CONF_MAX_HOSTNAME - 1 characters, and one more. */
	memset(host, 'h', sizeof(host));
	host[CONF_MAX_HOSTNAME - 1] = '\0';
	if (asprintf(&s, "server imap %s port 1\n", host) == -1) {
		exit(2);
	}
	expect_ok(c, s);
	T_EQ_INT(strlen(c->servers[0].host), CONF_MAX_HOSTNAME - 1);
	free(s);
	host[CONF_MAX_HOSTNAME - 1] = 'h';
	host[CONF_MAX_HOSTNAME] = '\0';
	if (asprintf(&s, "server imap %s port 1\n", host) == -1) {
		exit(2);
	}
	expect_err(s, "server: host too long (256 bytes, max 255)");
	free(s);

	/* CONF_MAX_SERVERS, and one more. */
	s = NULL;
	for (i = 0; i < CONF_MAX_SERVERS + 1; i++) {
		char *n;

		if (asprintf(&n, "%sserver pop3 h%zu port 110\n",
		    s ? s : BASE, i) == -1) {
			exit(2);
		}
		free(s);
		s = n;
		if (i == CONF_MAX_SERVERS - 1) {
			T_EQ_INT(parse_str(c, s), 0);
			T_EQ_INT(c->nservers, CONF_MAX_SERVERS);
		}
	}
	T_EQ_INT(parse_str(c, s), -1);
	expect_log(CONF_MAX_SERVERS + 2, "too many servers (max 32)");
	free(s);
	free(c);
}

static void
test_map(void)
{
	struct bailey_conf	*c = conf_new();
	char			 big[CONF_MAX_PATH + 2];
	char			*s;
	size_t			 i;

	expect_ok(c, "map regex /etc/bailey/popmap.re\n"
	    "map static /etc/bailey/users key \\u@\\d,\\U\n"
	    "map static \"/a b\" key \"\\\\U,\\i:\\P,\\D\\p\\I,x\\\\\\\\y\"\n");
	T_EQ_INT(c->nmaps, 3);
	T_EQ_INT(c->maps[0].type, MAP_REGEX);
	T_EQ_STR(c->maps[0].path, "/etc/bailey/popmap.re");
	T_EQ_STR(c->maps[0].key, "\\U");
	T_EQ_INT(c->maps[1].type, MAP_STATIC);
	T_EQ_STR(c->maps[1].key, "\\u@\\d,\\U");
	T_EQ_STR(c->maps[2].path, "/a b");
	T_EQ_STR(c->maps[2].key, "\\U,\\i:\\P,\\D\\p\\I,x\\\\y");

	expect_err("map db /x\n", "map: unknown map type \"db\" "
	    "(expected regex or static)");
	expect_err("map regex\n", "map: missing argument");
	expect_err("map regex \"\"\n", "map: empty path");
	expect_err("map regex /x kee \\U\n",
	    "map: expected \"key\" instead of \"kee\"");
	expect_err("map regex /x key\n", "map: missing argument after "
	    "\"key\"");
	expect_err("map regex /x foo\n", "expected \"key\" instead of");
	expect_err("map regex /x key \\U extra\n", "map: too many arguments");
	expect_err("map regex /x key \\x\n", "unknown escape");
	expect_err("map regex /x key \"\\n\"\n", "unknown escape");
	expect_err("map regex /x key a,,b\n", "empty key in list");
	expect_err("map regex /x key ,a\n", "empty key in list");
	expect_err("map regex /x key a,\n", "empty key in list");
	expect_err("map regex /x key \"\"\n", "empty key in list");
	expect_err("map regex /x key a\\\n", "backslash at the end");

	/* Key: CONF_MAX_KEY - 1 bytes, and one more. */
	memset(big, 'k', sizeof(big));
	big[CONF_MAX_KEY - 1] = '\0';
	if (asprintf(&s, "map regex /x key %s\n", big) == -1) {
		exit(2);
	}
	expect_ok(c, s);
	T_EQ_INT(strlen(c->maps[0].key), CONF_MAX_KEY - 1);
	free(s);
	big[CONF_MAX_KEY - 1] = 'k';
	big[CONF_MAX_KEY] = '\0';
	if (asprintf(&s, "map regex /x key %s\n", big) == -1) {
		exit(2);
	}
	expect_err(s, "map: key too long (256 bytes, max 255)");
	free(s);

	/* Path: CONF_MAX_PATH - 1 bytes, and one more. */
	memset(big, 'p', sizeof(big));
	big[CONF_MAX_PATH - 1] = '\0';
	if (asprintf(&s, "map static %s\n", big) == -1) {
		exit(2);
	}
	expect_ok(c, s);
	T_EQ_INT(strlen(c->maps[0].path), CONF_MAX_PATH - 1);
	free(s);
	big[CONF_MAX_PATH - 1] = 'p';
	big[CONF_MAX_PATH] = '\0';
	if (asprintf(&s, "map static \"%s\"\n", big) == -1) {
		exit(2);
	}
	expect_err(s, "argument 2 too long (max 4095 bytes)");
	free(s);

	/* CONF_MAX_MAPS, and one more. */
	s = NULL;
	for (i = 0; i < CONF_MAX_MAPS + 1; i++) {
		char *n;

		if (asprintf(&n, "%smap regex /m%zu\n", s ? s : BASE,
		    i) == -1) {
			exit(2);
		}
		free(s);
		s = n;
		if (i == CONF_MAX_MAPS - 1) {
			T_EQ_INT(parse_str(c, s), 0);
			T_EQ_INT(c->nmaps, CONF_MAX_MAPS);
			T_EQ_STR(c->maps[CONF_MAX_MAPS - 1].path, "/m7");
		}
	}
	T_EQ_INT(parse_str(c, s), -1);
	expect_log(CONF_MAX_MAPS + 2, "too many maps (max 8)");
	free(s);
	free(c);
}

static void
test_backend_port(void)
{
	expect_err("backend-port smtp 25\n", "unknown protocol \"smtp\"");
	expect_err("backend-port imap\n", "backend-port: missing argument");
	expect_err("backend-port imap 1 2\n", "too many arguments");
}

static void
test_quoting(void)
{
	struct bailey_conf *c = conf_new();

	/* Only \" and \\ are escapes inside quotes. */
	expect_ok(c, "map static \"/a\\\"b\\\\c\\Ud\\\" \" key \"\\U\"\n");
	T_EQ_STR(c->maps[0].path, "/a\"b\\c\\Ud\" ");
	T_EQ_STR(c->maps[0].key, "\\U");
	/* Outside quotes a backslash is an ordinary character. */
	expect_ok(c, "map static /a\\b key \\u\n");
	T_EQ_STR(c->maps[0].path, "/a\\b");
	T_EQ_STR(c->maps[0].key, "\\u");
	/* Keywords may be quoted too. */
	expect_ok(c, "\"workers\" \"9\"\n");
	T_EQ_INT(c->workers, 9);

	expect_err("map static \"/a\n", "unterminated quoted string");
	expect_err("map static \"/a\\\"\n", "unterminated quoted string");
	expect_err("map static \"/a\\\n", "unterminated quoted string");
	expect_err("map static /a\"b\"\n", "quote inside a word");
	expect_err("map static \"/a\"b\n", "missing space after quoted");
	expect_err("map static \"/a\"\"b\"\n", "missing space after quoted");
	expect_err("map static \"/a\tb\"\n", "control character in quoted");
	expect_err("map static \"/a\\\x01\"\n", "control character in quoted");
	expect_err("map static /a\x01\n", "invalid control character");
	expect_err("\x7fworkers 1\n", "invalid control character");
	expect_err("workers 1 2 3 4 5 6 7 8 9 10 11 12\n",
	    "too many arguments");
	expect_err("workers 1 2 3 4 5 6 7 8\n", "workers: too many arguments");
	free(c);
}

/* A NUL byte in the file is an error, not the end of the file. */
static void
test_nul(void)
{
	struct bailey_conf	*c = conf_new();
	static const char	 t[] = BASE "workers 4\0 5\nworkers 6\n";

	T_EQ_INT(parse_cap(c, t, sizeof(t) - 1), -1);
	expect_log(2, "invalid control character");
	T_EQ_INT(c->workers, 6);
	free(c);
}

/* Errors are counted and the rest of the file is still parsed. */
static void
test_continue(void)
{
	struct bailey_conf *c = conf_new();

	T_EQ_INT(parse_str(c, "workers 0\n"
	    "max-connections 5\n"
	    "bogus\n"
	    "listen imap on 127.0.0.1 port 1143\n"
	    "\n"
	    "timeout idle 99999999\n"
	    "timeout idle 77\n"
	    "map regex \"/unterminated\n"
	    "listen imap on 127.0.0.1 port 1143\n"), -1);
	expect_log(1, "workers: value \"0\" is too small (allowed 1..64)");
	expect_log(3, "unknown keyword \"bogus\"");
	expect_log(6, "timeout: seconds \"99999999\" is too large");
	expect_log(8, "unterminated quoted string");
	expect_log(9, "duplicate listener 127.0.0.1 port 1143 (first on "
	    "line 4)");
	T_EQ_INT(c->max_connections, 5);
	T_EQ_INT(c->timeout_idle, 77);
	T_EQ_INT(c->nlisteners, 1);
	T_EQ_INT(c->nmaps, 0);
	T_ASSERT(strstr(logbuf, FNAME ":2:") == NULL);
	free(c);
}

/* Only the first CONF_MAX_REPORTED errors are logged. */
static void
test_error_flood(void)
{
	struct bailey_conf	*c = conf_new();
	char			*s;
	size_t			 i, n = 5000, lines = 0;
	const char		*p;

	if ((s = malloc(n * 2 + 1)) == NULL) {
		exit(2);
	}
	for (i = 0; i < n; i++) {
		s[2 * i] = 'x';
		s[2 * i + 1] = '\n';
	}
	s[2 * n] = '\0';
	T_EQ_INT(parse_str(c, s), -1);
	for (p = logbuf; (p = strchr(p, '\n')) != NULL; p++) {
		lines++;
	}
	T_ASSERT(lines >= 100 && lines <= 102);
	expect_log(100, "too many errors");
	free(s);
	free(c);
}

/* Threat row 3: 100 KB values for every keyword and argument. */
static void
test_huge_values(void)
{
	static const char *const stmts[] = {
		"workers %s", "isolation %s", "max-connections %s",
		"max-bad-commands %s", "max-auth-attempts %s",
		"auth-failure-delay %s", "timeout %s 1", "timeout login %s",
		"domain-delimiter %s", "log %s yes", "log level %s",
		"log syslog %s", "log stderr %s",
		"listen %s on ::1 port 1", "listen imap %s ::1 port 1",
		"listen imap on %s port 1", "listen imap on ::1 %s 1",
		"listen imap on ::1 port %s",
		"listen imap on ::1 port 1 %s none",
		"listen imap on ::1 port 1 tls %s",
		"server %s h port 1", "server imap %s port 1",
		"server imap h %s 1", "server imap h port %s",
		"server imap h port 1 %s none", "server imap h port 1 tls %s",
		"backend-port %s 1", "backend-port imap %s",
		"map %s /x", "map regex %s", "map regex /x %s \\U",
		"map regex /x key %s", "%s 1", "workers 1 %s",
	};
	struct bailey_conf	*c = conf_new();
	char			*val, *qval, *s;
	size_t			 i, q;

	if ((val = malloc(HUGE + 1)) == NULL ||
	    (qval = malloc(HUGE + 3)) == NULL) {
		exit(2);
	}
	memset(val, '9', HUGE);
	val[HUGE] = '\0';
	snprintf(qval, HUGE + 3, "\"%s\"", val);
	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		for (q = 0; q < 2; q++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			if (asprintf(&s, stmts[i], q ? qval : val) == -1) {
				exit(2);
			}
#pragma GCC diagnostic pop
			expect_err(s, "too long (max 4095 bytes)");
			T_ASSERT(strlen(logbuf) < 1024);
			free(s);
		}
	}
	/* A huge comment and huge runs of blanks are fine. */
	memset(val, ' ', HUGE);
	if (asprintf(&s, "%s# %s\nworkers%s2%s\n", val, val, val, val) == -1) {
		exit(2);
	}
	expect_ok(c, s);
	T_EQ_INT(c->workers, 2);
	free(s);
	free(val);
	free(qval);
	free(c);
}

static const char *const split_inputs[] = {
	BASE "certificate c key k\nworkers 4\nmap static \"/a \\\"b\\\\\" key \"\\u@\\d,\\U\"\n"
	    "server pop3 ::1 port 110 tls starttls # comment\r\n"
	    "log level debug\nlisten pop3 on ::1 port 995 tls implicit",
	BASE "workers 0\nbogus \"x\ny\"z\nlisten imap on 127.0.0.1 port 1143"
	    "\n\"unterminated\n\x01\n",
	"",
	"# nothing\n",
};

/* Parses in = a[0..k) + a[k..n) and compares with the one-shot parse. */
static void
split_check(const char *in, size_t n, size_t k, int step)
{
	struct bailey_conf	*one = conf_new(), *two = conf_new();
	struct config_parser	*p;
	char			*log1;
	FILE			*f;
	size_t			 i;
	int			 rv1, rv2, saved;

	rv1 = parse_cap(one, in, n);
	if ((log1 = strdup(logbuf)) == NULL) {
		exit(2);
	}
	/* parse_cap() again, by hand, feeding pieces. */
	if ((f = tmpfile()) == NULL) {
		exit(2);
	}
	saved = dup(STDERR_FILENO);
	if (saved == -1 || dup2(fileno(f), STDERR_FILENO) == -1) {
		exit(2);
	}
	p = config_parser_new(two, FNAME);
	if (step) {
		for (i = 0; i < n; i++) {
			config_parser_feed(p, in + i, 1);
		}
	} else {
		config_parser_feed(p, in, k);
		config_parser_feed(p, in + k, n - k);
	}
	rv2 = config_parser_finish(&p);
	if (dup2(saved, STDERR_FILENO) == -1) {
		exit(2);
	}
	close(saved);
	T_ASSERT(p == NULL);
	T_EQ_INT(rv2, rv1);
	T_ASSERT(memcmp(one, two, sizeof(*one)) == 0);
	i = 0;
	if (lseek(fileno(f), 0, SEEK_SET) == 0) {
		ssize_t r;

		while (i < sizeof(logbuf) - 1 &&
		    (r = read(fileno(f), logbuf + i,
		    sizeof(logbuf) - 1 - i)) > 0) {
			i += (size_t)r;
		}
	}
	logbuf[i] = '\0';
	T_EQ_STR(logbuf, log1);
	fclose(f);
	free(log1);
	free(one);
	free(two);
}

static void
test_split(void)
{
	size_t	i, k, n;

	for (i = 0; i < sizeof(split_inputs) / sizeof(split_inputs[0]); i++) {
		n = strlen(split_inputs[i]);
		split_check(split_inputs[i], n, 0, 1);
		for (k = 0; k <= n; k++) {
			split_check(split_inputs[i], n, k, 0);
		}
	}
}

/*
 * Every prefix, in an allocation of exactly its size (no NUL after it), so
 * that ASan catches a read past len; a prefix that ends a line after the
 * listener parses cleanly.
 */
static void
test_prefixes(void)
{
	struct bailey_conf	*c = conf_new();
	const char		*in = split_inputs[0];
	size_t			 n = strlen(in), k;
	char			*copy;
	int			 rv;

	for (k = 0; k <= n; k++) {
		if ((copy = malloc(k ? k : 1)) == NULL) {
			exit(2);
		}
		memcpy(copy, in, k);
		rv = parse_cap(c, copy, k);
		if (k >= strlen(BASE) &&
		    (k == n || in[k - 1] == '\n')) {
			T_EQ_INT(rv, 0);
		}
		if (k < strlen("listen imap on 127.0.0.1 port 1")) {
			T_EQ_INT(rv, -1);
		}
		free(copy);
	}
	T_EQ_INT(c->nlisteners, 2);
	T_EQ_INT(c->nservers, 1);
	T_EQ_INT(c->log_level, LOG_LVL_DEBUG);
	free(c);
}

static int
write_file(const char *path, const char *data, size_t len)
{
	int	fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1) {
		return -1;
	}
	if (len > 0 && write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void
test_read_file(void)
{
	char	 dir[] = "/tmp/test_config.XXXXXX", path[64];
	char	*text = NULL, *big;
	size_t	 len = 0;

	if (mkdtemp(dir) == NULL) {
		exit(2);
	}
	snprintf(path, sizeof(path), "%s/bailey.conf", dir);
	T_EQ_INT(write_file(path, BASE, strlen(BASE)), 0);
	T_EQ_INT(config_read_file(path, &text, &len), 0);
	T_EQ_INT(len, strlen(BASE));
	T_ASSERT(text != NULL && memcmp(text, BASE, len) == 0);
	T_ASSERT(text != NULL && text[len] == '\0');
	free(text);

	T_EQ_INT(write_file(path, "", 0), 0);
	T_EQ_INT(config_read_file(path, &text, &len), 0);
	T_EQ_INT(len, 0);
	free(text);

	/* Exactly 1 MiB is allowed, one byte more is not. */
	if ((big = malloc(1024 * 1024 + 1)) == NULL) {
		exit(2);
	}
	memset(big, '#', 1024 * 1024 + 1);
	T_EQ_INT(write_file(path, big, 1024 * 1024), 0);
	T_EQ_INT(config_read_file(path, &text, &len), 0);
	T_EQ_INT(len, 1024 * 1024);
	free(text);
	T_EQ_INT(write_file(path, big, 1024 * 1024 + 1), 0);

	/* The failures below log; keep that out of the test output. */
	log_init("test", 0, 0, LOG_LVL_WARN);
	T_EQ_INT(config_read_file(path, &text, &len), -1);
	T_EQ_INT(config_read_file(dir, &text, &len), -1);
	T_EQ_INT(unlink(path), 0);
	T_EQ_INT(config_read_file(path, &text, &len), -1);
	T_EQ_INT(rmdir(dir), 0);
	free(big);
}

static void
test_proto_name(void)
{
	T_EQ_STR(proto_name(PROTO_IMAP), "imap");
	T_EQ_STR(proto_name(PROTO_POP3), "pop3");
	T_EQ_STR(proto_name((enum proto)7), "unknown");
}

static char *
slurp(const char *path)
{
	struct stat	 st;
	char		*s;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1) {
		return NULL;
	}
	if (fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    (s = calloc(1, (size_t)st.st_size + 1)) == NULL ||
	    read(fd, s, (size_t)st.st_size) != st.st_size) {
		close(fd);
		return NULL;
	}
	close(fd);
	return s;
}

static int
is_word_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '-';
}

/* Whether w occurs in s after pfx, as a whole word. */
static int
has_word(const char *s, const char *pfx, const char *w)
{
	char		 needle[128];
	const char	*p = s;
	size_t		 n;

	snprintf(needle, sizeof(needle), "%s%s", pfx, w);
	n = strlen(needle);
	while ((p = strstr(p, needle)) != NULL) {
		if ((p == s || !is_word_char(p[-1]) || pfx[0] != '\0') &&
		    !is_word_char(p[n])) {
			return 1;
		}
		p++;
	}
	return 0;
}

static char *
read_man(void)
{
	static const char *const paths[] = {
		"docs/bailey.conf.5", "../docs/bailey.conf.5",
		"../../docs/bailey.conf.5",
	};
	char	*man = NULL;
	size_t	 i;

	for (i = 0; man == NULL && i < sizeof(paths) / sizeof(paths[0]);
	    i++) {
		man = slurp(paths[i]);
	}
	if (man == NULL) {
		fprintf(stderr, "  cannot read docs/bailey.conf.5 (run from "
		    "the repository root)\n");
	}
	return man;
}

/* Every keyword is documented as ".It Ic keyword" or ".Ic keyword". */
static void
test_man_keywords(void)
{
	const char	*w;
	char		*man = read_man();
	size_t		 i;

	T_ASSERT(man != NULL);
	if (man == NULL) {
		return;
	}
	for (i = 0; (w = config_keyword(i)) != NULL; i++) {
		if (!has_word(man, "Ic ", w)) {
			fprintf(stderr, "  keyword %s not in bailey.conf.5\n",
			    w);
		}
		T_ASSERT(has_word(man, "Ic ", w));
	}
	for (i = 0; (w = config_word(i)) != NULL; i++) {
		if (!has_word(man, "", w)) {
			fprintf(stderr, "  word %s not in bailey.conf.5\n", w);
		}
		T_ASSERT(has_word(man, "", w));
	}
	T_ASSERT(!has_word(man, "Ic ", "no-such-keyword"));
	free(man);
}

/* The first literal display under EXAMPLES is a valid configuration. */
static void
test_man_example(void)
{
	struct bailey_conf	*c = conf_new();
	char			*man = read_man(), *p, *end, *cfg;
	size_t			 i, j, n;

	T_ASSERT(man != NULL);
	if (man == NULL) {
		free(c);
		return;
	}
	p = strstr(man, "\n.Sh EXAMPLES\n");
	p = p ? strstr(p, "\n.Bd -literal") : NULL;
	p = p ? strchr(p + 1, '\n') : NULL;
	end = p ? strstr(p, "\n.Ed\n") : NULL;
	T_ASSERT(p != NULL && end != NULL);
	if (p == NULL || end == NULL) {
		free(man);
		free(c);
		return;
	}
	/* Copy the display, undoing roff's \e (a backslash). */
	n = (size_t)(end - p);
	if ((cfg = malloc(n + 1)) == NULL) {
		exit(2);
	}
	for (i = 1, j = 0; i <= n; i++) {
		if (p[i] == '\\' && i < n && p[i + 1] == 'e') {
			cfg[j++] = '\\';
			i++;
		} else {
			cfg[j++] = p[i];
		}
	}
	cfg[j] = '\0';
	T_EQ_INT(parse_str(c, cfg), 0);
	free(cfg);
	T_EQ_STR(logbuf, "");
	T_EQ_INT(c->nlisteners, 2);
	T_EQ_INT(c->nservers, 2);
	T_EQ_INT(c->nmaps, 1);
	T_EQ_STR(c->maps[0].key, "\\u\\D\\d,\\u");
	free(man);
	free(c);
}

static const struct harness_case cases[] = {
	{ "keywords_sorted", test_keywords_sorted },
	{ "keywords_found", test_keywords_found },
	{ "defaults", test_defaults },
	{ "empty", test_empty },
	{ "comments", test_comments },
	{ "numbers", test_numbers },
	{ "last_wins", test_last_wins },
	{ "isolation", test_isolation },
	{ "timeout", test_timeout },
	{ "delimiter", test_delimiter },
	{ "log", test_log },
	{ "listen", test_listen },
	{ "proxy_protocol", test_proxy_protocol },
	{ "server", test_server },
	{ "map", test_map },
	{ "backend_port", test_backend_port },
	{ "quoting", test_quoting },
	{ "nul", test_nul },
	{ "continue", test_continue },
	{ "error_flood", test_error_flood },
	{ "huge_values", test_huge_values },
	{ "split", test_split },
	{ "prefixes", test_prefixes },
	{ "read_file", test_read_file },
	{ "proto_name", test_proto_name },
	{ "man_keywords", test_man_keywords },
	{ "man_example", test_man_example },
};

HARNESS_MAIN("config", cases)
