/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * penalty: per-address connection limit and growing authentication-
 * failure delays, shared by all workers (see penalty.c).
 */
#ifndef BAILEY_PENALTY_H
#define BAILEY_PENALTY_H

#include <sys/socket.h>

#include <stdint.h>

#include "scoreboard.h"

#define PEN_KIND_ADDR	1
#define PEN_KIND_USER	2

/* 1 if the address may open another connection (counted), 0 if it has
 * max already; max 0 means no limit. */
int	 pen_conn_open(struct scoreboard *, const struct sockaddr *,
	    unsigned max);
void	 pen_conn_close(struct scoreboard *, const struct sockaddr *);
/* The delay before saying "authentication failed": base_ms, doubled per
 * recent failure of this address (/64) or this user, at most 15 s. */
uint32_t pen_delay_ms(struct scoreboard *, const struct sockaddr *,
	    const char *user, unsigned base_ms);
/* Counts a failure, or forgets the failures after a success. */
void	 pen_auth_result(struct scoreboard *, const struct sockaddr *,
	    const char *user, int ok);
/* Parent, after a worker died: its connections are gone, but which
 * addresses they came from is not known; forget all counts (the limit is
 * loose, never too tight, until the other workers' sessions end). */
void	 pen_forget_conns(struct scoreboard *);

#endif
