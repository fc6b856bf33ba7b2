/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * dest: the destination policy, i.e. where bailey may connect when the
 * client names the backend ("user@host[:port]") or a map answers with a
 * host.  Pure code, no I/O, no DNS.  The parent builds a policy from the
 * configuration (trusted) and parses the client's login name (UNTRUSTED)
 * with dest_parse_client_host(); the dialer, which holds a copy of the
 * rules (dest_policy_rule() serialises them, dest_policy_add() reads them
 * back), calls dest_addr_allowed() on EVERY address getaddrinfo returns,
 * before connect(), so a name cannot be re-pointed into the DMZ by DNS.
 * Grammar, decisions and their reasons: docs/policy.md.
 *
 * Returns: 0 / -1 for actions, 1 / 0 (/ -1 for bad arguments) for checks.
 * Error and refusal texts are static strings, safe to log as they are.
 */
#ifndef BAILEY_DEST_H
#define BAILEY_DEST_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "bailey_limits.h"
#include "buf.h"
#include "hostaddr.h"

/* Limits of one policy (each refused one past, with an error). */
#define DEST_MAX_HOST_RULES	256
#define DEST_MAX_NET_RULES	256
#define DEST_MAX_PORT_RANGES	64	/* after merging overlaps */
#define DEST_MAX_RULE		1024	/* one rule line, in and out */
/* Digits of a port in a client string ("65535"). */
#define DEST_MAX_PORT_DIGITS	5
/* Ports allowed while no "allow port" rule has been added. */
#define DEST_DEFAULT_PORTS	"110,143,993,995"
#define DEST_DEFAULT_DELIM	'@'
/* Bytes that may serve as the user/host delimiter. */
#define DEST_DELIMS		"@%!#+/=~,;|"

enum dest_maps {
	DEST_MAPS_TRUST = 0,	/* map results are not checked */
	DEST_MAPS_CHECK = 1,	/* map results pass the same rules */
};

/* Number of special ranges (dest.c checks its table against it). */
#define DEST_NSPECIAL		30

/*
 * The policy.  Its fields are private to dest.c; the struct is public
 * only so that a configuration can hold it by value (and compare two
 * configurations with memcmp: dest_policy_init and the rule functions
 * leave no stray bytes).
 */
struct dest_host_rule {
	char		name[MAX_HOST + 1];	/* "" with wild: "*" */
	int		wild;			/* "*.name" */
};

struct dest_port_range {
	unsigned	lo;
	unsigned	hi;
};

struct dest_special {
	struct hostaddr_cidr	 c;
	const char		*why;
};

struct dest_policy {
	int			user_host;
	char			delim;
	enum dest_maps		maps;
	struct dest_host_rule	hosts[DEST_MAX_HOST_RULES];
	size_t			nhosts;
	struct hostaddr_cidr	nets[DEST_MAX_NET_RULES];
	size_t			nnets;
	struct dest_port_range	ports[DEST_MAX_PORT_RANGES];
	size_t			nports;
	int			ports_set;	/* an allow port rule was added */
	struct dest_special	specials[DEST_NSPECIAL];
};

/* What a client string or map result names. */
struct dest_target {
	char		user[MAX_USER + 1];	/* "" for a map result */
	struct hostaddr	host;			/* canonical, see hostaddr.h */
	uint16_t	port;			/* 0: none given, use default */
};

/*
 * A new empty policy: user-host off, delimiter '@', maps trusted, no
 * host or net rules (so nothing is allowed), default ports.  Out of
 * memory is fatal.  Free with dest_policy_free(), which NULLs the pointer.
 */
struct dest_policy *dest_policy_new(void);
void	dest_policy_free(struct dest_policy **);
/* The same for a policy held by value (all of *p is overwritten). */
void	dest_policy_init(struct dest_policy *);

/*
 * One rule line (configuration; bounded by DEST_MAX_RULE):
 *   allow host NAME | *.SUFFIX | *
 *   allow net ADDR[/LEN]		IPv4 or IPv6 (no brackets)
 *   allow port LIST		e.g. 143,993,1100-1200 (1..65535)
 * Tokens are separated by SP or TAB.  A duplicate rule is accepted and
 * kept once.  Returns 0, or -1 with *errstr_r set; on error the policy is
 * unchanged.
 */
int	dest_policy_add(struct dest_policy *, const char *rule,
	    const char **errstr_r);
/* "policy user-host on|off": whether clients may name a backend. */
void	dest_policy_set_user_host(struct dest_policy *, int on);
int	dest_policy_user_host(const struct dest_policy *);
/* "policy delimiter C": one byte of DEST_DELIMS.  0 or -1 + *errstr_r. */
int	dest_policy_set_delim(struct dest_policy *, const char *,
	    const char **errstr_r);
char	dest_policy_delim(const struct dest_policy *);
/* "policy maps check|trust". */
void	dest_policy_set_maps(struct dest_policy *, enum dest_maps);
enum dest_maps dest_policy_maps(const struct dest_policy *);

/*
 * The rules in canonical form, one line each: host rules, net rules, then
 * at most one merged port rule.  Feeding them to dest_policy_add() on a
 * fresh policy gives an equal policy (the dialer's copy; the fuzz target
 * checks this).  dest_policy_rule returns 0, or -1 if i is out of range
 * or dst (DEST_MAX_RULE is enough) too small.
 */
size_t	dest_policy_nrules(const struct dest_policy *);
int	dest_policy_rule(const struct dest_policy *, size_t i, char *dst,
	    size_t dstsz);

/*
 * UNTRUSTED: the login name from the client, "user<delim>host[:port]"
 * with host a name, a canonical dotted quad, or "[IPv6]".  Bounded by
 * MAX_USER for the user part, MAX_HOST for the host and 5 digits for the
 * port.  Returns 1 and the split, normalised target in *t_r; 0 if there
 * is no delimiter (a plain user name, copied to t_r->user, host empty);
 * -1 with *errstr_r set if malformed: a second delimiter, empty user or
 * host, SP or any control byte (CR, LF, NUL, TAB ...), bad brackets,
 * port 0, > 65535 or with leading zeros, non-canonical IPv4, IDN
 * U-labels, '%'.  The span form allows embedded NULs (refused).
 */
int	dest_parse_client_host(const char *, char delim,
	    struct dest_target *t_r, const char **errstr_r);
int	dest_parse_client_span(struct span, char delim,
	    struct dest_target *t_r, const char **errstr_r);
/*
 * UNTRUSTED (map results): "host[:port]" or "[IPv6][:port]", same rules,
 * no user part.  0, or -1 with *errstr_r set.
 */
int	dest_parse_hostport(struct span, struct dest_target *t_r,
	    const char **errstr_r);
/*
 * Canonical text of a target: "user<delim>host[:port]", or
 * "host[:port]" when user is empty; IPv6 in brackets.  The parsers read
 * it back to an equal target.  0, or -1 if it does not fit.
 */
int	dest_target_format(const struct dest_target *, char delim,
	    char *dst, size_t dstsz);

/*
 * The resumable lexer behind the parsers, for input that arrives in
 * pieces.  Feed any split of the input, then finish; the result equals a
 * one-shot parse.  want_user: 1 for client strings, 0 for host[:port].
 * After a feed error, finish returns -1 with that error.  release frees
 * the lexer's buffers (always call it).
 */
enum dest_lex_state {
	DEST_LX_USER = 0,
	DEST_LX_HOST_FIRST,
	DEST_LX_HOST,
	DEST_LX_V6,
	DEST_LX_V6_CLOSED,
	DEST_LX_PORT,
	DEST_LX_ERROR,
};

struct dest_lex {
	enum dest_lex_state	 state;
	char			 delim;
	int			 want_user;
	int			 bracketed;
	struct buf		 user;
	struct buf		 host;
	struct buf		 port;
	const char		*err;
};

void	dest_lex_init(struct dest_lex *, char delim, int want_user);
int	dest_lex_feed(struct dest_lex *, struct span);
int	dest_lex_finish(struct dest_lex *, struct dest_target *t_r,
	    const char **errstr_r);
void	dest_lex_release(struct dest_lex *);

/*
 * Before DNS.  A name must match a host rule (exact, "*.suffix" = at
 * least one more label, "*" = any name); an address literal must pass
 * dest_ip_allowed().  host is parsed as by dest_parse_hostport without a
 * port, so a malformed or non-canonical host is refused.  1 allowed, 0
 * refused with *why_r set.
 */
int	dest_name_allowed(const struct dest_policy *, const char *host,
	    const char **why_r);
/* 1 if port (1..65535) is in the port set, else 0 with *why_r set. */
int	dest_port_allowed(const struct dest_policy *, uint16_t port,
	    const char **why_r);
/* Name (or address) and port (t->port, or default_port if 0). */
int	dest_target_allowed(const struct dest_policy *,
	    const struct dest_target *, uint16_t default_port,
	    const char **why_r);
/*
 * An address (any port).  ::ffff:a.b.c.d is checked as a.b.c.d.  Allowed
 * iff some net rule contains it and, when it lies in a special range
 * (loopback, link-local, private, multicast, ...: docs/policy.md), that
 * rule lies entirely inside the special range, i.e. it names it
 * explicitly: 0.0.0.0/0 never opens 127.0.0.1, 127.0.0.0/8 does.
 */
int	dest_ip_allowed(const struct dest_policy *, const struct hostaddr_ip *,
	    const char **why_r);
/*
 * After DNS, for every resolved address: address and port of the
 * sockaddr.  1 allowed, 0 refused with *why_r set, -1 (also with *why_r)
 * for a family other than AF_INET/AF_INET6, a short salen or an IPv6
 * scope id; treat -1 as refused.
 */
int	dest_addr_allowed(const struct dest_policy *, const struct sockaddr *,
	    socklen_t salen, const char **why_r);

#endif
