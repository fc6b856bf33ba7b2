/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * config: bailey.conf in memory.  Parsed by the parent at start and on
 * SIGHUP, and again by each re-executed child from the same bytes (the
 * parent hands the file's contents over in a memfd), so every role sees the
 * same configuration.  Trusts the file's owner (root), but still reports
 * every error as file:line and never overflows on long values.
 */
#ifndef BAILEY_CONFIG_H
#define BAILEY_CONFIG_H

#include <limits.h>
/* PATH_MAX: -Ilib makes <limits.h> find lib/limits.h, not the libc one. */
#include <linux/limits.h>
#include <stddef.h>
#include <stdint.h>

#include "dest.h"

#define CONF_MAX_LISTENERS	32
#define CONF_MAX_SERVERS	32
#define CONF_MAX_MAPS		8
#define CONF_MAX_CERTS		8
#define CONF_PIN_HEX		64	/* SHA-256, hex */
#define CONF_MAX_CAP_RULES	128
#define CONF_MAX_CAP_NAME	64
#define CONF_MAX_SUITES		16
#define CONF_MAX_SUITE_NAME	64
#define CONF_MAX_ADDR		64
#define CONF_MAX_HOSTNAME	256
#define CONF_MAX_KEY		256
#define CONF_MAX_PATH		PATH_MAX
#define CONF_MAX_PROXY_TRUSTED	64	/* proxy-trusted prefixes */

/* Inbound PROXY protocol versions of a listener (bit mask; the same
 * values as PROXYPROTO_V1/_V2 in proxyproto.h).  0: off. */
#define LISTEN_PROXY_V1		0x1
#define LISTEN_PROXY_V2		0x2

enum proto {
	PROTO_IMAP = 0,
	PROTO_POP3 = 1,
};

enum sandbox_mode {
	SANDBOX_ON = 0,
	SANDBOX_OFF = 1,		/* logged as a warning */
	SANDBOX_DEBUG = 2,		/* log forbidden calls, do not kill */
};

enum isolation {
	ISOLATION_SHARED = 0,		/* many connections per worker */
	ISOLATION_PER_CONNECTION = 1,	/* one connection per worker */
};

/* TLS mode of a listener or a backend (issue 4 fills these in). */
enum tls_mode {
	TLS_MODE_NONE = 0,		/* plain */
	TLS_MODE_STARTTLS = 1,		/* STARTTLS/STLS offered */
	TLS_MODE_REQUIRED = 2,		/* STARTTLS/STLS before login */
	TLS_MODE_IMPLICIT = 3,		/* TLS from the first byte */
};

enum map_type {
	MAP_REGEX = 0,			/* Perdition popmap.re format */
	MAP_STATIC = 1,			/* key: value text file */
};

/* How a backend's certificate is checked (enum tls_verify in tls.h). */
enum verify_mode {
	VERIFY_FULL = 0,		/* chain, host name, pin if set */
	VERIFY_NO_NAME = 1,		/* chain and pin, any name */
	VERIFY_PIN = 2,			/* the SPKI pin only */
	VERIFY_INSECURE = 3,		/* nothing: explicit opt-out */
};

/* How the client's address reaches a backend. */
enum forward_mode {
	FORWARD_NONE = 0,
	FORWARD_ID = 1,			/* IMAP ID x-originating-ip/port */
	FORWARD_XCLIENT = 2,		/* POP3 XCLIENT ADDR= PORT= */
	FORWARD_PROXY_V1 = 3,		/* PROXY protocol v1 header */
	FORWARD_PROXY_V2 = 4,		/* PROXY protocol v2 header */
};

/* Outbound settings of a server line (or of map results). */
struct backend_tls {
	enum tls_mode	mode;
	enum forward_mode forward;
	enum verify_mode verify;
	char		pin[CONF_PIN_HEX + 1];	/* hex SPKI SHA-256, or "" */
	char		name[CONF_MAX_HOSTNAME]; /* SNI/verify name, or "" */
};

/* A post-login capability rule (capfilter.c). */
struct cap_rule {
	enum proto	proto;
	int		strip;			/* 1 strip, 0 allow */
	char		name[CONF_MAX_CAP_NAME + 1];
};

/* A server certificate (chain + private key); SNI picks among them. */
struct cert_conf {
	char		chain[CONF_MAX_PATH];
	char		key[CONF_MAX_PATH];
	char		passphrase[CONF_MAX_PATH];	/* file, or "" */
};

/* A cipher suite list (mbedTLS names); none: the built-in AEAD list. */
struct suite_list {
	char		name[CONF_MAX_SUITES][CONF_MAX_SUITE_NAME];
	size_t		n;
};

struct listen_conf {
	char		addr[CONF_MAX_ADDR];	/* numeric IPv4 or IPv6 */
	uint16_t	port;
	enum proto	proto;
	enum tls_mode	tls;
	unsigned	proxy;			/* LISTEN_PROXY_*, 0: off */
	int		line;			/* for error messages */
};

/* A default backend server; chosen round robin when no map answers. */
struct server_conf {
	char		host[CONF_MAX_HOSTNAME];
	uint16_t	port;
	enum proto	proto;
	enum tls_mode	tls;
	struct backend_tls btls;	/* btls.mode == tls */
};

struct map_conf {
	enum map_type	type;
	char		path[CONF_MAX_PATH];
	/* Comma-separated query keys, e.g. "\\u@\\d,\\u"; first hit wins. */
	char		key[CONF_MAX_KEY];
};

struct bailey_conf {
	struct listen_conf	listeners[CONF_MAX_LISTENERS];
	size_t			nlisteners;
	struct server_conf	servers[CONF_MAX_SERVERS];
	size_t			nservers;
	struct map_conf		maps[CONF_MAX_MAPS];
	size_t			nmaps;

	unsigned		workers;		/* default: cores */
	enum isolation		isolation;
	unsigned		max_connections;
	unsigned		max_per_ip;		/* 0: no limit */
	unsigned		max_bad_commands;
	unsigned		max_auth_attempts;
	unsigned		auth_fail_delay_ms;
	unsigned		timeout_login;		/* seconds */
	unsigned		timeout_idle;		/* seconds */
	unsigned		timeout_connect;	/* seconds */
	unsigned		timeout_handshake;	/* seconds, TLS */
	uint16_t		backend_port[2];	/* by enum proto */
	struct dest_policy	policy;		/* policy/dest.h */
	/* Balancers whose PROXY protocol headers we believe. */
	struct hostaddr_cidr	proxy_trusted[CONF_MAX_PROXY_TRUSTED];
	size_t			nproxy_trusted;
	char			domain_delimiter;	/* '@' */
	/* Username rewriting before lookup and backend login. */
	int			user_lowercase;
	int			user_strip_domain;
	char			user_add_domain[CONF_MAX_HOSTNAME];

	/* TLS (docs/tls.md).  Versions are 12 or 13. */
	struct cert_conf	certs[CONF_MAX_CERTS];
	size_t			ncerts;
	int			tls_min_version;
	int			backend_tls_min_version;
	int			tls_rsa_in_worker;	/* 0/1, weaker */
	struct suite_list	tls_ciphers;
	struct suite_list	backend_tls_ciphers;
	char			backend_ca[CONF_MAX_PATH];	/* "" = system */
	struct backend_tls	map_tls;		/* for map results */

	/* Post-login capability filtering; none: relay untouched. */
	struct cap_rule		cap_rules[CONF_MAX_CAP_RULES];
	size_t			ncap_rules;

	/* pbsd(8) events for successful logins; "" = off. */
	char			pbsd_socket[CONF_MAX_PATH];
	unsigned		pbsd_alive;		/* seconds */

	/* Sandbox of the child roles (lib/sandbox.c, docs/sandbox.md). */
	int			sandbox;		/* SANDBOX_* */
	char			user[64];		/* run as, when root */
	char			chroot[CONF_MAX_PATH];	/* worker, keyholder */

	int			log_level;		/* enum log_level */
	int			log_syslog;		/* 0/1 */
	int			log_stderr;		/* 0/1 */
};

/* Sets every field to its documented default. */
void	config_defaults(struct bailey_conf *);
/*
 * Parses text (not NUL-terminated; len bytes) named fname in messages.
 * Reports each error as "fname:line: message" through log_warnx and keeps
 * going; returns 0, or -1 if there was any error.
 */
int	config_parse(struct bailey_conf *, const char *fname, const char *text,
	    size_t len);
/* Reads the whole file (at most 1 MiB) into *text_r (malloc). 0 / -1. */
int	config_read_file(const char *path, char **text_r, size_t *len_r);
const char *proto_name(enum proto);

/*
 * Added by the config task.  config_parse() is config_parser_new() (which
 * calls config_defaults() on conf), one config_parser_feed() and
 * config_parser_finish().  Feeding in pieces gives the same result as one
 * call.  fname must outlive the parser.  finish frees the parser, NULLs
 * the pointer and returns 0, or -1 if any error was reported.
 */
struct config_parser;
struct config_parser *config_parser_new(struct bailey_conf *,
	    const char *fname);
void	config_parser_feed(struct config_parser *, const char *text,
	    size_t len);
int	config_parser_finish(struct config_parser **);
/* The grammar's top-level keywords in table (sorted) order; NULL past the
 * end.  config_word: every other fixed word the grammar accepts. */
const char *config_keyword(size_t);
const char *config_word(size_t);

#endif
