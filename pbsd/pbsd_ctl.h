/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_ctl: the control protocol between pbsctl and pbsd over a unix
 * stream socket (mode 0600; pbsd also checks SO_PEERCRED: root or its own
 * uid).  One request line per connection, bounded by PBSD_CTL_MAX_LINE:
 *
 *	list | stats | flush | add ADDR [SECONDS] | del ADDR
 *
 * The reply is "ok" or "error: TEXT" on the first line, then data lines;
 * pbsd closes the connection after the reply.
 */
#ifndef BAILEY_PBSD_CTL_H
#define BAILEY_PBSD_CTL_H

#include "buf.h"
#include "pbsd_key.h"

#define PBSD_CTL_MAX_LINE	256
/* Longest reply pbsd builds (list of max_entries lines). */
#define PBSD_CTL_MAX_REPLY	(256U << 20)

enum pbsd_ctl_cmd {
	PBSD_CTL_LIST,
	PBSD_CTL_STATS,
	PBSD_CTL_FLUSH,
	PBSD_CTL_ADD,
	PBSD_CTL_DEL,
};

struct pbsd_ctl_req {
	int			cr_cmd;		/* enum pbsd_ctl_cmd */
	struct pbsd_addr	cr_addr;	/* ADD, DEL */
	unsigned int		cr_seconds;	/* ADD; 0 = configured expire */
};

/*
 * UNTRUSTED: one request line without its LF, bounded by
 * PBSD_CTL_MAX_LINE.  Returns 0, or -1 with *errstr_r.
 */
int	 pbsd_ctl_parse(struct span, int v6plen, struct pbsd_ctl_req *req_r,
	    const char **errstr_r);

#endif
