/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * config: the bailey.conf lexer and parser.  Runs in the parent (as root,
 * at start and on SIGHUP, before any client byte is read) and in each
 * re-executed child on the same bytes.  The file is trusted as root's, but
 * the parser still treats it as arbitrary bytes: every token is bounded by
 * CONF_TOKEN_MAX, every list by its CONF_MAX_* and every number by its
 * keyword's range, so a broken or hostile file can only produce
 * "file:line: message" errors (threat row 3), never an overflow.  It does
 * no I/O besides config_read_file() and logging.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "bailey_limits.h"
#include "log.h"

/* Longest token, with its NUL: the longest value is a path. */
#define CONF_TOKEN_MAX		CONF_MAX_PATH
/* Keyword plus its arguments; "server" has the most (12 arguments). */
#define CONF_MAX_TOKENS		16
/* config_read_file() refuses larger files. */
#define CONF_MAX_FILE		(1024 * 1024)
/* Errors reported per parse; later ones are counted but not logged. */
#define CONF_MAX_REPORTED	100
/* Room for an escaped, truncated token in an error message. */
#define CONF_SHOW_MAX		64

struct conf_token {
	char	s[CONF_TOKEN_MAX];
	size_t	len;
};

/* Lexer states; one byte at a time, resumable across config_parser_feed. */
enum conf_lex_state {
	LEX_SPACE = 0,		/* between tokens */
	LEX_BARE,		/* inside a bare word */
	LEX_QUOTED,		/* inside "..." */
	LEX_QUOTED_ESC,		/* after a backslash inside "..." */
	LEX_QUOTE_END,		/* right after the closing quote */
	LEX_COMMENT,		/* after '#', up to the end of the line */
	LEX_SKIP,		/* after an error, up to the end of the line */
};

struct config_parser {
	struct bailey_conf	*conf;
	const char		*fname;
	int			 line;
	int			 errors;
	enum conf_lex_state	 state;
	struct conf_token	 tok[CONF_MAX_TOKENS];
	size_t			 ntok;
};

struct conf_choice {
	const char	*name;
	int		 value;
};

struct conf_keyword {
	const char	*name;
	size_t		 min_args;
	size_t		 max_args;
	int		(*fn)(struct config_parser *,
			    const struct conf_keyword *,
			    const struct conf_token *, size_t);
	size_t		 off;		/* numeric keywords: the field */
	uint64_t	 min;		/* numeric range */
	uint64_t	 max;
};

static const struct conf_choice conf_protos[] = {
	{ "imap", PROTO_IMAP },
	{ "pop3", PROTO_POP3 },
	{ NULL, 0 },
};

static const struct conf_choice conf_isolations[] = {
	{ "shared", ISOLATION_SHARED },
	{ "per-connection", ISOLATION_PER_CONNECTION },
	{ NULL, 0 },
};

static const struct conf_choice conf_listen_tls[] = {
	{ "none", TLS_MODE_NONE },
	{ "starttls", TLS_MODE_STARTTLS },
	{ "required", TLS_MODE_REQUIRED },
	{ "implicit", TLS_MODE_IMPLICIT },
	{ NULL, 0 },
};

/* listen ... proxy-protocol [v1|v2]: without a version, both. */
static const struct conf_choice conf_proxy_versions[] = {
	{ "v1", LISTEN_PROXY_V1 },
	{ "v2", LISTEN_PROXY_V2 },
	{ NULL, 0 },
};

/* "required" is a listener's policy towards clients, not a backend's. */
static const struct conf_choice conf_server_tls[] = {
	{ "none", TLS_MODE_NONE },
	{ "starttls", TLS_MODE_STARTTLS },
	{ "implicit", TLS_MODE_IMPLICIT },
	{ NULL, 0 },
};

static const struct conf_choice conf_timeouts[] = {
	{ "login", (int)offsetof(struct bailey_conf, timeout_login) },
	{ "idle", (int)offsetof(struct bailey_conf, timeout_idle) },
	{ "connect", (int)offsetof(struct bailey_conf, timeout_connect) },
	{ "handshake", (int)offsetof(struct bailey_conf, timeout_handshake) },
	{ NULL, 0 },
};

enum conf_log_opt {
	CONF_LOG_LEVEL = 0,
	CONF_LOG_SYSLOG,
	CONF_LOG_STDERR,
};

static const struct conf_choice conf_log_opts[] = {
	{ "level", CONF_LOG_LEVEL },
	{ "syslog", CONF_LOG_SYSLOG },
	{ "stderr", CONF_LOG_STDERR },
	{ NULL, 0 },
};

static const struct conf_choice conf_log_levels[] = {
	{ "warn", LOG_LVL_WARN },
	{ "info", LOG_LVL_INFO },
	{ "debug", LOG_LVL_DEBUG },
	{ NULL, 0 },
};

static const struct conf_choice conf_bools[] = {
	{ "yes", 1 },
	{ "no", 0 },
	{ NULL, 0 },
};

static const struct conf_choice conf_map_types[] = {
	{ "regex", MAP_REGEX },
	{ "static", MAP_STATIC },
	{ NULL, 0 },
};

/* Fixed words that are not keywords nor in a choice table above. */
static const struct conf_choice conf_tls_versions[] = {
	{ "1.2", 12 },
	{ "1.3", 13 },
	{ NULL, 0 },
};

static const struct conf_choice conf_verify[] = {
	{ "full", VERIFY_FULL },
	{ "no-name", VERIFY_NO_NAME },
	{ "pin", VERIFY_PIN },
	{ "insecure", VERIFY_INSECURE },
	{ NULL, 0 },
};

static const struct conf_choice conf_cap_lists[] = {
	{ "allow", 0 },
	{ "strip", 1 },
	{ NULL, 0 },
};

static const struct conf_choice conf_pbsd_opts[] = {
	{ "socket", 0 },
	{ "alive-interval", 1 },
	{ NULL, 0 },
};

static const struct conf_choice conf_forward[] = {
	{ "none", FORWARD_NONE },
	{ "id", FORWARD_ID },
	{ "xclient", FORWARD_XCLIENT },
	{ "proxy-v1", FORWARD_PROXY_V1 },
	{ "proxy-v2", FORWARD_PROXY_V2 },
	{ NULL, 0 },
};

static const struct conf_choice conf_username[] = {
	{ "lowercase", 0 },
	{ "strip-domain", 1 },
	{ "add-domain", 2 },
	{ NULL, 0 },
};

static const struct conf_choice conf_sandbox[] = {
	{ "on", SANDBOX_ON },
	{ "off", SANDBOX_OFF },
	{ "debug", SANDBOX_DEBUG },
	{ NULL, 0 },
};

static const struct conf_choice conf_fillers[] = {
	{ "on", 0 },
	{ "port", 0 },
	{ "tls", 0 },
	{ "key", 0 },
	{ "verify", 0 },
	{ "pin", 0 },
	{ "name", 0 },
	{ "forward", 0 },
	{ "proxy-protocol", 0 },
	{ NULL, 0 },
};

static const struct conf_choice *const conf_word_tables[] = {
	conf_protos, conf_isolations, conf_listen_tls, conf_timeouts,
	conf_log_opts, conf_log_levels, conf_bools, conf_map_types,
	conf_fillers, conf_tls_versions, conf_verify, conf_pbsd_opts,
	conf_cap_lists, conf_forward, conf_sandbox, conf_username,
	conf_proxy_versions,
};

static int	conf_kw_number(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_isolation(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_timeout(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_allow(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_policy(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_delimiter(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_log(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_listen(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_proxy_trusted(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_server(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_backend_port(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_map(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_map_tls(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_certificate(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_tls_version(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_path(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_bool(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_capability(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_suites(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_username(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_sandbox(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_string(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);
static int	conf_kw_pbsd(struct config_parser *,
		    const struct conf_keyword *, const struct conf_token *,
		    size_t);

#define CONF_OFF(f)	offsetof(struct bailey_conf, f)

/* Sorted by name (strcmp): looked up with bsearch; a unit test checks. */
static const struct conf_keyword conf_keywords[] = {
	{ "allow", 2, 2, conf_kw_allow, 0, 0, 0 },
	{ "auth-failure-delay", 1, 1, conf_kw_number,
	    CONF_OFF(auth_fail_delay_ms), 0, 60000 },
	{ "backend-ca", 1, 1, conf_kw_path, CONF_OFF(backend_ca), 0, 0 },
	{ "backend-port", 2, 2, conf_kw_backend_port, 0, 1, 65535 },
	{ "backend-tls-ciphers", 1, CONF_MAX_SUITES, conf_kw_suites,
	    CONF_OFF(backend_tls_ciphers), 0, 0 },
	{ "backend-tls-min-version", 1, 1, conf_kw_tls_version,
	    CONF_OFF(backend_tls_min_version), 0, 0 },
	{ "capability", 3, 15, conf_kw_capability, 0, 0, 0 },
	{ "certificate", 3, 3, conf_kw_certificate, 0, 0, 0 },
	{ "chroot", 1, 1, conf_kw_path, CONF_OFF(chroot), 0, 0 },
	{ "domain-delimiter", 1, 1, conf_kw_delimiter, 0, 0, 0 },
	{ "isolation", 1, 1, conf_kw_isolation, 0, 0, 0 },
	{ "listen", 5, 9, conf_kw_listen, 0, 1, 65535 },
	{ "log", 2, 2, conf_kw_log, 0, 0, 0 },
	{ "map", 2, 4, conf_kw_map, 0, 0, 0 },
	{ "map-tls", 1, 9, conf_kw_map_tls, 0, 0, 0 },
	{ "max-auth-attempts", 1, 1, conf_kw_number,
	    CONF_OFF(max_auth_attempts), 1, 100 },
	{ "max-bad-commands", 1, 1, conf_kw_number,
	    CONF_OFF(max_bad_commands), 1, 1000 },
	{ "max-connections", 1, 1, conf_kw_number,
	    CONF_OFF(max_connections), 1, 1000000 },
	{ "max-connections-per-ip", 1, 1, conf_kw_number,
	    CONF_OFF(max_per_ip), 0, 1000000 },
	{ "pbsd", 2, 2, conf_kw_pbsd, 0, 10, 86400 },
	{ "policy", 2, 2, conf_kw_policy, 0, 0, 0 },
	{ "proxy-trusted", 1, CONF_MAX_TOKENS - 1, conf_kw_proxy_trusted, 0,
	    0, 0 },
	{ "sandbox", 1, 1, conf_kw_sandbox, 0, 0, 0 },
	{ "server", 4, 14, conf_kw_server, 0, 1, 65535 },
	{ "timeout", 2, 2, conf_kw_timeout, 0, 1, 86400 },
	{ "tls-ciphers", 1, CONF_MAX_SUITES, conf_kw_suites,
	    CONF_OFF(tls_ciphers), 0, 0 },
	{ "tls-min-version", 1, 1, conf_kw_tls_version,
	    CONF_OFF(tls_min_version), 0, 0 },
	{ "tls-rsa-in-worker", 1, 1, conf_kw_bool, CONF_OFF(tls_rsa_in_worker),
	    0, 0 },
	{ "user", 1, 1, conf_kw_string, CONF_OFF(user), 0, 0 },
	{ "username", 1, 2, conf_kw_username, 0, 0, 0 },
	{ "workers", 1, 1, conf_kw_number, CONF_OFF(workers), 1, 64 },
};

#define CONF_NKEYWORDS	(sizeof(conf_keywords) / sizeof(conf_keywords[0]))

static void	conf_err(struct config_parser *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
conf_err(struct config_parser *p, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	p->errors++;
	if (p->errors > CONF_MAX_REPORTED) {
		return;
	}
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s:%d: %s", p->fname, p->line, msg);
	if (p->errors == CONF_MAX_REPORTED) {
		log_warnx("%s:%d: too many errors, not reporting more",
		    p->fname, p->line);
	}
}

/* A token as it may appear in a log line: escaped and truncated. */
static const char *
conf_show(const struct conf_token *t, char *dst, size_t dstsz)
{
	struct span s = { (const uint8_t *)t->s, t->len };

	return log_escape(s, dst, dstsz);
}

static int
conf_choose(struct config_parser *p, const char *kw, const char *what,
    const struct conf_choice *tbl, const struct conf_token *t, int *v_r)
{
	char	list[256], show[CONF_SHOW_MAX];
	size_t	i, n = 0;
	int	len;

	for (i = 0; tbl[i].name != NULL; i++) {
		if (strcmp(tbl[i].name, t->s) == 0) {
			*v_r = tbl[i].value;
			return 0;
		}
	}
	list[0] = '\0';
	for (i = 0; tbl[i].name != NULL; i++) {
		len = snprintf(list + n, sizeof(list) - n, "%s%s",
		    i == 0 ? "" : (tbl[i + 1].name == NULL ? " or " : ", "),
		    tbl[i].name);
		if (len < 0 || (size_t)len >= sizeof(list) - n) {
			break;
		}
		n += (size_t)len;
	}
	conf_err(p, "%s: unknown %s \"%s\" (expected %s)", kw, what,
	    conf_show(t, show, sizeof(show)), list);
	return -1;
}

static int
conf_expect(struct config_parser *p, const char *kw,
    const struct conf_token *t, const char *word)
{
	char	show[CONF_SHOW_MAX];

	if (strcmp(t->s, word) == 0) {
		return 0;
	}
	conf_err(p, "%s: expected \"%s\" instead of \"%s\"", kw, word,
	    conf_show(t, show, sizeof(show)));
	return -1;
}

static int
conf_number(struct config_parser *p, const char *kw, const char *what,
    const struct conf_token *t, uint64_t min, uint64_t max, uint64_t *v_r)
{
	char		 show[CONF_SHOW_MAX];
	const char	*errstr = "invalid";

	if (parse_uint(t->s, min, max, v_r, &errstr) == 0) {
		return 0;
	}
	conf_err(p, "%s: %s \"%s\" is %s (allowed %llu..%llu)", kw, what,
	    conf_show(t, show, sizeof(show)), errstr,
	    (unsigned long long)min, (unsigned long long)max);
	return -1;
}

/* An optional "word VALUE" pair was cut short after its first token. */
static void
conf_missing(struct config_parser *p, const char *kw,
    const struct conf_token *t, const char *word)
{
	if (conf_expect(p, kw, t, word) == 0) {
		conf_err(p, "%s: missing argument after \"%s\"", kw, word);
	}
}

/* Copies a token into a fixed field; an error if it does not fit. */
static int
conf_copy(struct config_parser *p, const char *kw, const char *what,
    const struct conf_token *t, char *dst, size_t dstsz)
{
	struct span s = { (const uint8_t *)t->s, t->len };

	if (t->len == 0) {
		conf_err(p, "%s: empty %s", kw, what);
		return -1;
	}
	if (span_cstr(s, dst, dstsz) == -1) {
		conf_err(p, "%s: %s too long (%zu bytes, max %zu)", kw, what,
		    t->len, dstsz - 1);
		return -1;
	}
	return 0;
}

static int
conf_kw_number(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	uint64_t	 v = 0;
	unsigned	*field;

	(void)nargs;
	if (conf_number(p, kw->name, "value", &args[0], kw->min, kw->max,
	    &v) == -1) {
		return -1;
	}
	field = (unsigned *)(void *)((char *)p->conf + kw->off);
	*field = (unsigned)v;
	return 0;
}

static int
conf_kw_isolation(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	int	v = 0;

	(void)nargs;
	if (conf_choose(p, kw->name, "mode", conf_isolations, &args[0],
	    &v) == -1) {
		return -1;
	}
	p->conf->isolation = (enum isolation)v;
	return 0;
}

static int
conf_kw_timeout(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	uint64_t	 v = 0;
	unsigned	*field;
	int		 off = 0;

	(void)nargs;
	if (conf_choose(p, kw->name, "timeout", conf_timeouts, &args[0],
	    &off) == -1) {
		return -1;
	}
	if (conf_number(p, kw->name, "seconds", &args[1], kw->min, kw->max,
	    &v) == -1) {
		return -1;
	}
	field = (unsigned *)(void *)((char *)p->conf + off);
	*field = (unsigned)v;
	return 0;
}

static int
conf_kw_allow(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	char		 rule[DEST_MAX_RULE];
	const char	*err;
	int		 n;

	(void)nargs;
	n = snprintf(rule, sizeof(rule), "%s %.*s %.*s", kw->name,
	    (int)args[0].len, args[0].s, (int)args[1].len, args[1].s);
	if (n < 0 || (size_t)n >= sizeof(rule)) {
		conf_err(p, "allow: rule too long");
		return -1;
	}
	if (dest_policy_add(&p->conf->policy, rule, &err) == -1) {
		conf_err(p, "%s: %s", rule, err);
		return -1;
	}
	return 0;
}

static int
conf_kw_policy(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	char		 v[8];
	const char	*err;

	(void)kw;
	(void)nargs;
	if (args[1].len >= sizeof(v)) {
		conf_err(p, "policy: bad value");
		return -1;
	}
	memcpy(v, args[1].s, args[1].len);
	v[args[1].len] = '\0';
	if (args[0].len == 9 && memcmp(args[0].s, "user-host", 9) == 0 &&
	    (strcmp(v, "on") == 0 || strcmp(v, "off") == 0)) {
		dest_policy_set_user_host(&p->conf->policy, v[1] == 'n');
	} else if (args[0].len == 4 && memcmp(args[0].s, "maps", 4) == 0 &&
	    (strcmp(v, "check") == 0 || strcmp(v, "trust") == 0)) {
		dest_policy_set_maps(&p->conf->policy, v[0] == 'c' ?
		    DEST_MAPS_CHECK : DEST_MAPS_TRUST);
	} else if (args[0].len == 9 && memcmp(args[0].s, "delimiter", 9) == 0) {
		if (dest_policy_set_delim(&p->conf->policy, v, &err) == -1) {
			conf_err(p, "policy delimiter: %s", err);
			return -1;
		}
	} else {
		conf_err(p, "policy: expected user-host on|off, "
		    "delimiter C, maps check|trust");
		return -1;
	}
	return 0;
}

static int
conf_kw_delimiter(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	char	show[CONF_SHOW_MAX];
	uint8_t	c;

	(void)nargs;
	c = args[0].len == 1 ? (uint8_t)args[0].s[0] : 0;
	if (c <= 0x20 || c >= 0x7f) {
		conf_err(p, "%s: \"%s\" is not one printable non-space "
		    "character", kw->name, conf_show(&args[0], show,
		    sizeof(show)));
		return -1;
	}
	p->conf->domain_delimiter = (char)c;
	return 0;
}

static int
conf_kw_log(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	int	opt = 0, v = 0;

	(void)nargs;
	if (conf_choose(p, kw->name, "option", conf_log_opts, &args[0],
	    &opt) == -1) {
		return -1;
	}
	switch (opt) {
	case CONF_LOG_LEVEL:
		if (conf_choose(p, "log level", "level", conf_log_levels,
		    &args[1], &v) == -1) {
			return -1;
		}
		p->conf->log_level = v;
		break;
	case CONF_LOG_SYSLOG:
		if (conf_choose(p, "log syslog", "value", conf_bools,
		    &args[1], &v) == -1) {
			return -1;
		}
		p->conf->log_syslog = v;
		break;
	default:
		if (conf_choose(p, "log stderr", "value", conf_bools,
		    &args[1], &v) == -1) {
			return -1;
		}
		p->conf->log_stderr = v;
		break;
	}
	return 0;
}

/* Numeric address as (family, bytes) so "::1" and "0::1" compare equal. */
static int
conf_addr_key(const char *s, uint8_t key[17])
{
	memset(key, 0, 17);
	if (inet_pton(AF_INET, s, key + 1) == 1) {
		key[0] = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, key + 1) == 1) {
		key[0] = 6;
		return 0;
	}
	return -1;
}

static int
conf_listen_dup(struct config_parser *p, const struct listen_conf *l)
{
	uint8_t	a[17], b[17];
	size_t	i;

	if (conf_addr_key(l->addr, a) == -1) {
		return 0;
	}
	for (i = 0; i < p->conf->nlisteners; i++) {
		const struct listen_conf *o = &p->conf->listeners[i];

		if (o->port != l->port || conf_addr_key(o->addr, b) == -1) {
			continue;
		}
		if (memcmp(a, b, sizeof(a)) == 0) {
			conf_err(p, "listen: duplicate listener %s port %u "
			    "(first on line %d)", l->addr, l->port, o->line);
			return 1;
		}
	}
	return 0;
}

/*
 * The options after the port, in any order, each at most once:
 *   tls MODE
 *   proxy-protocol [v1|v2]
 */
static int
conf_listen_opts(struct config_parser *p, const char *kw,
    const struct conf_token *args, size_t nargs, struct listen_conf *l)
{
	char	show[CONF_SHOW_MAX];
	size_t	i = 5;
	int	v = 0, seen_tls = 0;

	while (i < nargs) {
		if (strcmp(args[i].s, "tls") == 0 && !seen_tls) {
			if (i + 1 >= nargs) {
				conf_err(p, "%s: missing argument after "
				    "\"tls\"", kw);
				return -1;
			}
			if (conf_choose(p, kw, "tls mode", conf_listen_tls,
			    &args[i + 1], &v) == -1) {
				return -1;
			}
			l->tls = (enum tls_mode)v;
			seen_tls = 1;
			i += 2;
		} else if (strcmp(args[i].s, "proxy-protocol") == 0 &&
		    l->proxy == 0) {
			l->proxy = LISTEN_PROXY_V1 | LISTEN_PROXY_V2;
			i++;
			if (i < nargs && strcmp(args[i].s, "tls") != 0) {
				if (conf_choose(p, kw, "proxy-protocol "
				    "version", conf_proxy_versions, &args[i],
				    &v) == -1) {
					return -1;
				}
				l->proxy = (unsigned)v;
				i++;
			}
		} else {
			conf_err(p, "%s: expected \"tls\" or \"proxy-protocol\""
			    " (once each) instead of \"%s\"", kw,
			    conf_show(&args[i], show, sizeof(show)));
			return -1;
		}
	}
	return 0;
}

/* listen imap|pop3 on ADDRESS port N [tls MODE] [proxy-protocol [V]] */
static int
conf_kw_listen(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	struct listen_conf	 l;
	char			 show[CONF_SHOW_MAX];
	uint8_t			 key[17];
	uint64_t		 port = 0;
	int			 v = 0;

	memset(&l, 0, sizeof(l));
	l.line = p->line;
	if (conf_choose(p, kw->name, "protocol", conf_protos, &args[0],
	    &v) == -1) {
		return -1;
	}
	l.proto = (enum proto)v;
	if (conf_expect(p, kw->name, &args[1], "on") == -1) {
		return -1;
	}
	if (args[2].len >= sizeof(l.addr) ||
	    conf_addr_key(args[2].s, key) == -1) {
		conf_err(p, "%s: \"%s\" is not a numeric IPv4 or IPv6 "
		    "address", kw->name, conf_show(&args[2], show,
		    sizeof(show)));
		return -1;
	}
	if (conf_copy(p, kw->name, "address", &args[2], l.addr,
	    sizeof(l.addr)) == -1) {
		return -1;
	}
	if (conf_expect(p, kw->name, &args[3], "port") == -1 ||
	    conf_number(p, kw->name, "port", &args[4], kw->min, kw->max,
	    &port) == -1) {
		return -1;
	}
	l.port = (uint16_t)port;
	l.tls = TLS_MODE_NONE;
	if (conf_listen_opts(p, kw->name, args, nargs, &l) == -1) {
		return -1;
	}
	if (conf_listen_dup(p, &l)) {
		return -1;
	}
	if (p->conf->nlisteners >= CONF_MAX_LISTENERS) {
		conf_err(p, "%s: too many listeners (max %d)", kw->name,
		    CONF_MAX_LISTENERS);
		return -1;
	}
	p->conf->listeners[p->conf->nlisteners++] = l;
	return 0;
}

/*
 * proxy-trusted PREFIX ...: the balancers allowed to send a PROXY
 * protocol header (IPv4 or IPv6, ADDR or ADDR/LEN, policy/hostaddr.h
 * rules).  Statements add up; a duplicate prefix is kept once.
 */
static int
conf_kw_proxy_trusted(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	struct hostaddr_cidr	 c;
	struct span		 t;
	char			 show[CONF_SHOW_MAX];
	const char		*err = "invalid";
	size_t			 i, j;
	int			 rv = 0;

	for (i = 0; i < nargs; i++) {
		t.p = (const uint8_t *)args[i].s;
		t.len = args[i].len;
		memset(&c, 0, sizeof(c));
		if (hostaddr_cidr_parse(t, &c, &err) == -1) {
			conf_err(p, "%s: \"%s\": %s", kw->name,
			    conf_show(&args[i], show, sizeof(show)), err);
			rv = -1;
			continue;
		}
		for (j = 0; j < p->conf->nproxy_trusted; j++) {
			if (memcmp(&p->conf->proxy_trusted[j], &c,
			    sizeof(c)) == 0) {
				break;
			}
		}
		if (j < p->conf->nproxy_trusted) {
			continue;
		}
		if (p->conf->nproxy_trusted >= CONF_MAX_PROXY_TRUSTED) {
			conf_err(p, "%s: too many prefixes (max %d)",
			    kw->name, CONF_MAX_PROXY_TRUSTED);
			return -1;
		}
		p->conf->proxy_trusted[p->conf->nproxy_trusted++] = c;
	}
	return rv;
}

/* A host name or address: printable ASCII without spaces. */
static int
conf_valid_host(const struct conf_token *t)
{
	size_t	i;
	uint8_t	c;

	if (t->len == 0) {
		return 0;
	}
	for (i = 0; i < t->len; i++) {
		c = (uint8_t)t->s[i];
		if (c <= 0x20 || c >= 0x7f) {
			return 0;
		}
	}
	return 1;
}

/* 1 if t is 64 hexadecimal digits. */
static int
conf_valid_pin(const struct conf_token *t)
{
	size_t	i;
	char	c;

	if (t->len != CONF_PIN_HEX) {
		return 0;
	}
	for (i = 0; i < t->len; i++) {
		c = t->s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F'))) {
			return 0;
		}
	}
	return 1;
}

/*
 * Backend TLS options, as "word value" pairs in any order:
 * tls none|starttls|implicit, verify full|no-name|pin|insecure,
 * pin HEX (SHA-256 of the SubjectPublicKeyInfo), name HOST.
 */
static int
conf_backend_tls(struct config_parser *p, const char *kw,
    const struct conf_token *args, size_t nargs, struct backend_tls *bt)
{
	char	show[CONF_SHOW_MAX];
	size_t	i;
	int	v = 0;

	memset(bt, 0, sizeof(*bt));
	if (nargs % 2 != 0) {
		conf_missing(p, kw, &args[nargs - 1], args[nargs - 1].s);
		return -1;
	}
	for (i = 0; i < nargs; i += 2) {
		const struct conf_token *w = &args[i], *val = &args[i + 1];

		if (strcmp(w->s, "tls") == 0) {
			if (conf_choose(p, kw, "tls mode", conf_server_tls, val,
			    &v) == -1) {
				return -1;
			}
			bt->mode = (enum tls_mode)v;
		} else if (strcmp(w->s, "verify") == 0) {
			if (conf_choose(p, kw, "verify mode", conf_verify, val,
			    &v) == -1) {
				return -1;
			}
			bt->verify = (enum verify_mode)v;
		} else if (strcmp(w->s, "pin") == 0) {
			if (!conf_valid_pin(val)) {
				conf_err(p, "%s: pin must be 64 hex digits "
				    "(SHA-256 of the public key)", kw);
				return -1;
			}
			(void)snprintf(bt->pin, sizeof(bt->pin), "%s", val->s);
		} else if (strcmp(w->s, "forward") == 0) {
			if (conf_choose(p, kw, "forward mode", conf_forward, val,
			    &v) == -1) {
				return -1;
			}
			bt->forward = (enum forward_mode)v;
		} else if (strcmp(w->s, "name") == 0) {
			if (!conf_valid_host(val) || conf_copy(p, kw, "name",
			    val, bt->name, sizeof(bt->name)) == -1) {
				conf_err(p, "%s: bad name \"%s\"", kw,
				    conf_show(val, show, sizeof(show)));
				return -1;
			}
		} else {
			conf_err(p, "%s: unknown option \"%s\" (expected tls, "
			    "verify, pin, name or forward)", kw,
			    conf_show(w, show, sizeof(show)));
			return -1;
		}
	}
	if (bt->verify == VERIFY_PIN && bt->pin[0] == '\0') {
		conf_err(p, "%s: verify pin needs a pin", kw);
		return -1;
	}
	return 0;
}

/* server imap|pop3 HOST port N [tls MODE] [verify V] [pin HEX] [name N] */
static int
conf_kw_server(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	struct server_conf	 s;
	char			 show[CONF_SHOW_MAX];
	uint64_t		 port = 0;
	int			 v = 0;

	memset(&s, 0, sizeof(s));
	if (conf_choose(p, kw->name, "protocol", conf_protos, &args[0],
	    &v) == -1) {
		return -1;
	}
	s.proto = (enum proto)v;
	if (!conf_valid_host(&args[1])) {
		conf_err(p, "%s: \"%s\" is not a valid host", kw->name,
		    conf_show(&args[1], show, sizeof(show)));
		return -1;
	}
	if (conf_copy(p, kw->name, "host", &args[1], s.host,
	    sizeof(s.host)) == -1) {
		return -1;
	}
	if (conf_expect(p, kw->name, &args[2], "port") == -1 ||
	    conf_number(p, kw->name, "port", &args[3], kw->min, kw->max,
	    &port) == -1) {
		return -1;
	}
	s.port = (uint16_t)port;
	if (conf_backend_tls(p, kw->name, args + 4, nargs - 4, &s.btls) ==
	    -1) {
		return -1;
	}
	s.tls = s.btls.mode;
	if (p->conf->nservers >= CONF_MAX_SERVERS) {
		conf_err(p, "%s: too many servers (max %d)", kw->name,
		    CONF_MAX_SERVERS);
		return -1;
	}
	p->conf->servers[p->conf->nservers++] = s;
	return 0;
}

/* map-tls MODE [verify V] [pin HEX] [name NAME] */
static int
conf_kw_map_tls(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	struct conf_token	t[10];
	size_t			i;

	/* Same option syntax as a server line: "tls" MODE first. */
	memset(t, 0, sizeof(t[0]));
	(void)snprintf(t[0].s, sizeof(t[0].s), "tls");
	t[0].len = 3;
	for (i = 0; i < nargs && i + 1 < sizeof(t) / sizeof(t[0]); i++) {
		t[i + 1] = args[i];
	}
	return conf_backend_tls(p, kw->name, t, nargs + 1,
	    &p->conf->map_tls);
}

/* tls-ciphers NAME... (mbedTLS suite names; checked when used) */
static int
conf_kw_suites(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	struct suite_list	*l = (void *)((char *)p->conf + kw->off);
	size_t			 i;

	memset(l, 0, sizeof(*l));
	for (i = 0; i < nargs; i++) {
		if (conf_copy(p, kw->name, "suite", &args[i], l->name[i],
		    sizeof(l->name[i])) == -1) {
			return -1;
		}
	}
	l->n = nargs;
	return 0;
}

/* certificate CHAIN key KEYFILE */
static int
conf_kw_certificate(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	struct cert_conf	*c;

	(void)nargs;
	if (p->conf->ncerts >= CONF_MAX_CERTS) {
		conf_err(p, "%s: too many certificates (max %d)", kw->name,
		    CONF_MAX_CERTS);
		return -1;
	}
	c = &p->conf->certs[p->conf->ncerts];
	if (conf_copy(p, kw->name, "chain file", &args[0], c->chain,
	    sizeof(c->chain)) == -1 ||
	    conf_expect(p, kw->name, &args[1], "key") == -1 ||
	    conf_copy(p, kw->name, "key file", &args[2], c->key,
	    sizeof(c->key)) == -1) {
		return -1;
	}
	c->passphrase[0] = '\0';	/* encrypted keys: not in our build */
	p->conf->ncerts++;
	return 0;
}

static int
conf_kw_tls_version(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	int	v = 0;

	(void)nargs;
	if (conf_choose(p, kw->name, "version", conf_tls_versions, &args[0],
	    &v) == -1) {
		return -1;
	}
	*(int *)(void *)((char *)p->conf + kw->off) = v;
	return 0;
}

static int
conf_kw_path(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	(void)nargs;
	return conf_copy(p, kw->name, "path", &args[0],
	    (char *)p->conf + kw->off, CONF_MAX_PATH);
}

/* username lowercase | strip-domain | add-domain DOMAIN */
static int
conf_kw_username(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	char	show[CONF_SHOW_MAX];
	int	v = 0;

	if (conf_choose(p, kw->name, "rewrite", conf_username, &args[0],
	    &v) == -1) {
		return -1;
	}
	if ((v == 2) != (nargs == 2)) {
		conf_err(p, "%s: only add-domain takes (and needs) a domain",
		    kw->name);
		return -1;
	}
	if (v == 0) {
		p->conf->user_lowercase = 1;
	} else if (v == 1) {
		p->conf->user_strip_domain = 1;
	} else if (!conf_valid_host(&args[1]) ||
	    strchr(args[1].s, p->conf->domain_delimiter) != NULL ||
	    conf_copy(p, kw->name, "domain", &args[1],
	    p->conf->user_add_domain,
	    sizeof(p->conf->user_add_domain)) == -1) {
		conf_err(p, "%s: bad domain \"%s\"", kw->name,
		    conf_show(&args[1], show, sizeof(show)));
		return -1;
	}
	return 0;
}

static int
conf_kw_sandbox(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	int	v = 0;

	(void)nargs;
	if (conf_choose(p, kw->name, "mode", conf_sandbox, &args[0], &v) ==
	    -1) {
		return -1;
	}
	p->conf->sandbox = v;
	return 0;
}

/* A user name: what useradd would take. */
static int
conf_kw_string(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	size_t	i;

	(void)nargs;
	for (i = 0; i < args[0].len; i++) {
		char c = args[0].s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		    c == '.')) {
			conf_err(p, "%s: bad user name", kw->name);
			return -1;
		}
	}
	return conf_copy(p, kw->name, "user", &args[0],
	    (char *)p->conf + kw->off, 64);
}

static int
conf_kw_bool(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	int	v = 0;

	(void)nargs;
	if (conf_choose(p, kw->name, "value", conf_bools, &args[0], &v) ==
	    -1) {
		return -1;
	}
	*(int *)(void *)((char *)p->conf + kw->off) = v;
	return 0;
}

/* A capability name: printable ASCII without space, brackets, quotes
 * or parentheses; an optional trailing '*' makes a prefix rule. */
static int
conf_valid_cap(const struct conf_token *t)
{
	size_t	i;
	uint8_t	c;

	if (t->len == 0 || t->len > CONF_MAX_CAP_NAME) {
		return 0;
	}
	for (i = 0; i < t->len; i++) {
		c = (uint8_t)t->s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("[]()\"{}\\", c) != NULL ||
		    (c == '*' && i + 1 != t->len)) {
			return 0;
		}
	}
	return 1;
}

/* capability imap|pop3 allow|strip NAME... */
static int
conf_kw_capability(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	char	show[CONF_SHOW_MAX];
	size_t	i;
	int	proto = 0, strip = 0;

	if (conf_choose(p, kw->name, "protocol", conf_protos, &args[0],
	    &proto) == -1 ||
	    conf_choose(p, kw->name, "list", conf_cap_lists, &args[1],
	    &strip) == -1) {
		return -1;
	}
	for (i = 2; i < nargs; i++) {
		struct cap_rule *r;

		if (!conf_valid_cap(&args[i])) {
			conf_err(p, "%s: bad capability \"%s\"", kw->name,
			    conf_show(&args[i], show, sizeof(show)));
			return -1;
		}
		if (strip && (strcasecmp(args[i].s, "IMAP4rev1") == 0 ||
		    strcasecmp(args[i].s, "IMAP4rev2") == 0)) {
			conf_err(p, "%s: %s cannot be stripped", kw->name,
			    args[i].s);
			return -1;
		}
		if (p->conf->ncap_rules >= CONF_MAX_CAP_RULES) {
			conf_err(p, "%s: too many rules (max %d)", kw->name,
			    CONF_MAX_CAP_RULES);
			return -1;
		}
		r = &p->conf->cap_rules[p->conf->ncap_rules++];
		r->proto = (enum proto)proto;
		r->strip = strip;
		(void)snprintf(r->name, sizeof(r->name), "%s", args[i].s);
	}
	return 0;
}

/* pbsd socket PATH | pbsd alive-interval SECONDS */
static int
conf_kw_pbsd(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	uint64_t	v = 0;
	int		which = 0;

	(void)nargs;
	if (conf_choose(p, kw->name, "option", conf_pbsd_opts, &args[0],
	    &which) == -1) {
		return -1;
	}
	if (which == 0) {
		if (args[1].s[0] != '/') {
			conf_err(p, "%s: socket must be an absolute path",
			    kw->name);
			return -1;
		}
		return conf_copy(p, kw->name, "socket", &args[1],
		    p->conf->pbsd_socket, sizeof(p->conf->pbsd_socket));
	}
	if (conf_number(p, kw->name, "alive-interval", &args[1], kw->min,
	    kw->max, &v) == -1) {
		return -1;
	}
	p->conf->pbsd_alive = (unsigned)v;
	return 0;
}

static int
conf_kw_backend_port(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	uint64_t	port = 0;
	int		v = 0;

	(void)nargs;
	if (conf_choose(p, kw->name, "protocol", conf_protos, &args[0],
	    &v) == -1 ||
	    conf_number(p, kw->name, "port", &args[1], kw->min, kw->max,
	    &port) == -1) {
		return -1;
	}
	p->conf->backend_port[v] = (uint16_t)port;
	return 0;
}

enum conf_key_state {
	KEY_START = 0,		/* start of one comma-separated key */
	KEY_TEXT,		/* inside a key */
	KEY_ESC,		/* after a backslash */
};

/*
 * Checks a query key list: comma-separated, none empty, and every
 * backslash starts one of \U \u \d \D \i \I \p \P \\.
 */
static int
conf_valid_keys(const struct conf_token *t, const char **errstr_r)
{
	enum conf_key_state	 st = KEY_START;
	size_t			 i;
	char			 c;

	for (i = 0; i < t->len; i++) {
		c = t->s[i];
		switch (st) {
		case KEY_START:
		case KEY_TEXT:
			if (c == ',') {
				if (st == KEY_START) {
					*errstr_r = "empty key in list";
					return -1;
				}
				st = KEY_START;
			} else if (c == '\\') {
				st = KEY_ESC;
			} else {
				st = KEY_TEXT;
			}
			break;
		case KEY_ESC:
			if (c == '\0' || strchr("UudDiIpP\\", c) == NULL) {
				*errstr_r = "unknown escape (expected one of "
				    "\\U \\u \\d \\D \\i \\I \\p \\P \\\\)";
				return -1;
			}
			st = KEY_TEXT;
			break;
		}
	}
	if (st == KEY_START) {
		*errstr_r = "empty key in list";
		return -1;
	}
	if (st == KEY_ESC) {
		*errstr_r = "backslash at the end of a key";
		return -1;
	}
	return 0;
}

/* map regex|static PATH [key TEMPLATES] */
static int
conf_kw_map(struct config_parser *p, const struct conf_keyword *kw,
    const struct conf_token *args, size_t nargs)
{
	struct map_conf	 m;
	char		 show[CONF_SHOW_MAX];
	const char	*errstr;
	int		 v = 0;

	memset(&m, 0, sizeof(m));
	if (nargs == 3) {
		conf_missing(p, kw->name, &args[2], "key");
		return -1;
	}
	if (conf_choose(p, kw->name, "map type", conf_map_types, &args[0],
	    &v) == -1) {
		return -1;
	}
	m.type = (enum map_type)v;
	if (conf_copy(p, kw->name, "path", &args[1], m.path,
	    sizeof(m.path)) == -1) {
		return -1;
	}
	(void)snprintf(m.key, sizeof(m.key), "%s", "\\U");
	if (nargs == 4) {
		if (conf_expect(p, kw->name, &args[2], "key") == -1) {
			return -1;
		}
		if (args[3].len >= sizeof(m.key)) {
			conf_err(p, "%s: key too long (%zu bytes, max %zu)",
			    kw->name, args[3].len, sizeof(m.key) - 1);
			return -1;
		}
		if (conf_valid_keys(&args[3], &errstr) == -1) {
			conf_err(p, "%s: key \"%s\": %s", kw->name,
			    conf_show(&args[3], show, sizeof(show)), errstr);
			return -1;
		}
		if (conf_copy(p, kw->name, "key", &args[3], m.key,
		    sizeof(m.key)) == -1) {
			return -1;
		}
	}
	if (p->conf->nmaps >= CONF_MAX_MAPS) {
		conf_err(p, "%s: too many maps (max %d)", kw->name,
		    CONF_MAX_MAPS);
		return -1;
	}
	p->conf->maps[p->conf->nmaps++] = m;
	return 0;
}

static int
conf_keyword_cmp(const void *key, const void *elem)
{
	const struct conf_keyword *kw = elem;

	return strcmp(key, kw->name);
}

/* One whole statement is in p->tok[0 .. ntok). */
static void
conf_statement(struct config_parser *p)
{
	const struct conf_keyword	*kw;
	char				 show[CONF_SHOW_MAX];
	size_t				 nargs = p->ntok - 1;

	kw = bsearch(p->tok[0].s, conf_keywords, CONF_NKEYWORDS,
	    sizeof(conf_keywords[0]), conf_keyword_cmp);
	if (kw == NULL) {
		conf_err(p, "unknown keyword \"%s\"", conf_show(&p->tok[0],
		    show, sizeof(show)));
		return;
	}
	if (nargs < kw->min_args) {
		conf_err(p, "%s: missing argument", kw->name);
		return;
	}
	if (nargs > kw->max_args) {
		conf_err(p, "%s: too many arguments", kw->name);
		return;
	}
	(void)kw->fn(p, kw, &p->tok[1], nargs);
}

static void
conf_lex_error(struct config_parser *p, const char *msg)
{
	conf_err(p, "%s", msg);
	p->state = LEX_SKIP;
}

static void
conf_tok_begin(struct config_parser *p)
{
	if (p->ntok >= CONF_MAX_TOKENS) {
		conf_err(p, "too many arguments (max %d)",
		    CONF_MAX_TOKENS - 1);
		p->state = LEX_SKIP;
		return;
	}
	p->tok[p->ntok].len = 0;
	p->tok[p->ntok].s[0] = '\0';
	p->ntok++;
}

static void
conf_tok_add(struct config_parser *p, char c)
{
	struct conf_token *t = &p->tok[p->ntok - 1];

	if (t->len + 1 >= sizeof(t->s)) {
		conf_err(p, "argument %zu too long (max %zu bytes)",
		    p->ntok - 1, sizeof(t->s) - 1);
		p->state = LEX_SKIP;
		return;
	}
	t->s[t->len++] = c;
	t->s[t->len] = '\0';
}

static int
conf_is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int
conf_is_ctl(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

static void
conf_end_line(struct config_parser *p)
{
	if (p->state == LEX_QUOTED || p->state == LEX_QUOTED_ESC) {
		conf_err(p, "unterminated quoted string");
	} else if (p->state != LEX_SKIP && p->ntok > 0) {
		conf_statement(p);
	}
	p->ntok = 0;
	p->state = LEX_SPACE;
}

static void
conf_lex_space(struct config_parser *p, uint8_t c)
{
	if (conf_is_space(c)) {
		return;
	}
	if (c == '#') {
		p->state = LEX_COMMENT;
		return;
	}
	if (conf_is_ctl(c)) {
		conf_lex_error(p, "invalid control character");
		return;
	}
	conf_tok_begin(p);
	if (p->state == LEX_SKIP) {
		return;
	}
	if (c == '"') {
		p->state = LEX_QUOTED;
		return;
	}
	p->state = LEX_BARE;
	conf_tok_add(p, (char)c);
}

static void
conf_lex_bare(struct config_parser *p, uint8_t c)
{
	if (conf_is_space(c)) {
		p->state = LEX_SPACE;
	} else if (c == '#') {
		p->state = LEX_COMMENT;
	} else if (c == '"') {
		conf_lex_error(p, "quote inside a word");
	} else if (conf_is_ctl(c)) {
		conf_lex_error(p, "invalid control character");
	} else {
		conf_tok_add(p, (char)c);
	}
}

/* Inside quotes only \" and \\ are escapes: "\U" stays a backslash-U. */
static void
conf_lex_quoted(struct config_parser *p, uint8_t c)
{
	if (p->state == LEX_QUOTED_ESC) {
		p->state = LEX_QUOTED;
		if (c != '"' && c != '\\') {
			conf_tok_add(p, '\\');
			if (p->state == LEX_SKIP) {
				return;
			}
		} else {
			conf_tok_add(p, (char)c);
			return;
		}
	}
	if (c == '"') {
		p->state = LEX_QUOTE_END;
	} else if (c == '\\') {
		p->state = LEX_QUOTED_ESC;
	} else if (conf_is_ctl(c)) {
		conf_lex_error(p, "control character in quoted string");
	} else {
		conf_tok_add(p, (char)c);
	}
}

static void
conf_lex_quote_end(struct config_parser *p, uint8_t c)
{
	if (conf_is_space(c)) {
		p->state = LEX_SPACE;
	} else if (c == '#') {
		p->state = LEX_COMMENT;
	} else {
		conf_lex_error(p, "missing space after quoted string");
	}
}

/* UNTRUSTED: one byte of the file; bounded by CONF_TOKEN_MAX per token,
 * CONF_MAX_TOKENS per line. */
static void
conf_lex_byte(struct config_parser *p, uint8_t c)
{
	if (c == '\n') {
		conf_end_line(p);
		p->line++;
		return;
	}
	switch (p->state) {
	case LEX_SPACE:
		conf_lex_space(p, c);
		break;
	case LEX_BARE:
		conf_lex_bare(p, c);
		break;
	case LEX_QUOTED:
	case LEX_QUOTED_ESC:
		conf_lex_quoted(p, c);
		break;
	case LEX_QUOTE_END:
		conf_lex_quote_end(p, c);
		break;
	case LEX_COMMENT:
	case LEX_SKIP:
		break;
	}
}

void
config_defaults(struct bailey_conf *conf)
{
	long	ncpu;

	memset(conf, 0, sizeof(*conf));
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1) {
		ncpu = 1;
	}
	if (ncpu > 64) {
		ncpu = 64;
	}
	conf->workers = (unsigned)ncpu;
	conf->isolation = ISOLATION_SHARED;
	conf->max_connections = DEF_MAX_CONNECTIONS;
	conf->max_bad_commands = DEF_MAX_BAD_COMMANDS;
	conf->max_auth_attempts = DEF_MAX_AUTH_ATTEMPTS;
	conf->auth_fail_delay_ms = DEF_AUTH_FAIL_DELAY_MS;
	conf->timeout_login = DEF_LOGIN_TIMEOUT;
	conf->timeout_idle = DEF_IDLE_TIMEOUT;
	conf->timeout_connect = DEF_CONNECT_TIMEOUT;
	conf->timeout_handshake = DEF_HANDSHAKE_TIMEOUT;
	conf->backend_port[PROTO_IMAP] = 143;
	conf->backend_port[PROTO_POP3] = 110;
	conf->domain_delimiter = '@';
	dest_policy_init(&conf->policy);
	conf->log_level = LOG_LVL_INFO;
	conf->log_syslog = 1;
	conf->log_stderr = 0;
	conf->tls_min_version = 12;
	conf->pbsd_alive = 300;
	conf->sandbox = SANDBOX_ON;
	(void)snprintf(conf->user, sizeof(conf->user), "_bailey");
	(void)snprintf(conf->chroot, sizeof(conf->chroot), "/var/empty/bailey");
	conf->backend_tls_min_version = 12;
}

/* A TLS listener needs a certificate. */
static void
conf_check_tls(struct config_parser *p)
{
	size_t	i;

	for (i = 0; i < p->conf->nlisteners; i++) {
		if (p->conf->listeners[i].tls != TLS_MODE_NONE &&
		    p->conf->ncerts == 0) {
			p->line = p->conf->listeners[i].line;
			conf_err(p, "listen: tls needs a certificate statement");
			return;
		}
	}
}

/* A PROXY protocol listener believes only proxy-trusted peers. */
static void
conf_check_proxy(struct config_parser *p)
{
	size_t	i;

	for (i = 0; i < p->conf->nlisteners; i++) {
		if (p->conf->listeners[i].proxy != 0 &&
		    p->conf->nproxy_trusted == 0) {
			p->line = p->conf->listeners[i].line;
			conf_err(p, "listen: proxy-protocol needs a "
			    "proxy-trusted statement");
			return;
		}
	}
}

struct config_parser *
config_parser_new(struct bailey_conf *conf, const char *fname)
{
	struct config_parser *p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		fatal("config_parser_new");
	}
	config_defaults(conf);
	p->conf = conf;
	p->fname = fname;
	p->line = 1;
	p->state = LEX_SPACE;
	return p;
}

/* UNTRUSTED: any bytes; bounded by CONF_TOKEN_MAX per token and
 * CONF_MAX_TOKENS per statement, whatever len is. */
void
config_parser_feed(struct config_parser *p, const char *text, size_t len)
{
	struct span	s = { (const uint8_t *)text, len };
	size_t		i;

	for (i = 0; i < s.len; i++) {
		conf_lex_byte(p, span_byte(s, i));
	}
}

int
config_parser_finish(struct config_parser **pp)
{
	struct config_parser	*p = *pp;
	int			 rv;

	/* A last line without its LF still counts. */
	if (p->state != LEX_SPACE || p->ntok > 0) {
		conf_end_line(p);
	} else if (p->line > 1) {
		p->line--;
	}
	if (p->conf->nlisteners == 0) {
		conf_err(p, "no listen statement");
	}
	conf_check_tls(p);
	conf_check_proxy(p);
	rv = p->errors > 0 ? -1 : 0;
	free(p);
	*pp = NULL;
	return rv;
}

int
config_parse(struct bailey_conf *conf, const char *fname, const char *text,
    size_t len)
{
	struct config_parser *p;

	p = config_parser_new(conf, fname);
	config_parser_feed(p, text, len);
	return config_parser_finish(&p);
}

int
config_read_file(const char *path, char **text_r, size_t *len_r)
{
	struct buf	 b;
	struct stat	 st;
	char		*text;
	int		 fd, rv = -1;

	buf_init(&b, CONF_MAX_FILE + 1);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		log_warn("%s", path);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		log_warn("%s: fstat", path);
		goto out_close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file", path);
		goto out_close_fd;
	}
	if (buf_read_all(&b, fd, 65536) == -1) {
		if (errno == EFBIG) {
			log_warnx("%s: larger than %d bytes", path,
			    CONF_MAX_FILE);
		} else {
			log_warn("%s: read", path);
		}
		goto out_release;
	}
	if (buf_len(&b) > CONF_MAX_FILE) {
		log_warnx("%s: larger than %d bytes", path, CONF_MAX_FILE);
		goto out_release;
	}
	if ((text = malloc(buf_len(&b) + 1)) == NULL) {
		fatal("config_read_file");
	}
	if (buf_len(&b) > 0) {
		memcpy(text, buf_ptr(&b), buf_len(&b));
	}
	text[buf_len(&b)] = '\0';
	*text_r = text;
	*len_r = buf_len(&b);
	rv = 0;
out_release:
	buf_release(&b);
out_close_fd:
	close(fd);
	return rv;
}

const char *
proto_name(enum proto proto)
{
	switch (proto) {
	case PROTO_IMAP:
		return "imap";
	case PROTO_POP3:
		return "pop3";
	}
	return "unknown";
}

const char *
config_keyword(size_t i)
{
	return i < CONF_NKEYWORDS ? conf_keywords[i].name : NULL;
}

const char *
config_word(size_t i)
{
	size_t	t, j;

	for (t = 0; t < sizeof(conf_word_tables) /
	    sizeof(conf_word_tables[0]); t++) {
		for (j = 0; conf_word_tables[t][j].name != NULL; j++) {
			if (i == 0) {
				return conf_word_tables[t][j].name;
			}
			i--;
		}
	}
	return NULL;
}
