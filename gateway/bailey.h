/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * bailey: declarations shared by the roles of the gateway.  The parent
 * forks and re-executes itself once per role (fresh ASLR per process,
 * OpenSMTPD style); a child finds its parent channel on FD_PARENT, the
 * configuration text on FD_CONFIG, the connection scoreboard on
 * FD_SCOREBOARD and (workers only) its listening sockets from FD_LISTEN_BASE
 * on, in the configuration's listener order.
 */
#ifndef BAILEY_BAILEY_H
#define BAILEY_BAILEY_H

#include <sys/socket.h>

#include "config.h"
#include "msg.h"

#define BAILEY_VERSION	"0.1.0"
#define BAILEY_CONF	"/etc/bailey/bailey.conf"

#define FD_PARENT	3
#define FD_CONFIG	4
#define FD_SCOREBOARD	5
#define FD_KEYHOLDER	6	/* workers: channel to the keyholder */
#define FD_LISTEN_BASE	7

enum role {
	ROLE_PARENT = 0,
	ROLE_LOOKUP,
	ROLE_DIALER,
	ROLE_WORKER,
	ROLE_KEYHOLDER,
	ROLE_MAX
};

extern struct bailey_conf	*bconf;
extern struct chan		 parent_chan;	/* in a child: to the parent */

const char *role_name(enum role);
enum role role_from_name(const char *);

/* Children: each runs its loop and exits. */
void	lookup_main(void) __attribute__((noreturn));
void	dialer_main(void) __attribute__((noreturn));
void	keyholder_main(void) __attribute__((noreturn));
/* slot: scoreboard slot in shared mode, -1 in per-connection mode. */
void	worker_main(unsigned index, int slot) __attribute__((noreturn));

/* Enters the sandbox of a child role (before its first untrusted byte). */
void	child_sandbox(enum role);
/* Reads the configuration handed over on FD_CONFIG; fatal on error. */
void	child_load_config(void);

/* Formats a socket address as "addr" and port (numeric). 0 / -1. */
int	sockaddr_fmt(const struct sockaddr *, char *addr, size_t addrsz,
	    uint16_t *port_r);
/*
 * The reverse: a numeric IPv4 or IPv6 address and a port into ss, with
 * its length in *len_r (may be NULL).  0, or -1 if addr is not numeric.
 */
int	sockaddr_parse(const char *addr, uint16_t port,
	    struct sockaddr_storage *ss, socklen_t *len_r);
void	set_nonblock(int fd);

#endif
