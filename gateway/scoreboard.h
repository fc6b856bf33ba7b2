/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * scoreboard: connection counts shared between the parent and workers in a
 * small memfd mapping, so `max-connections` holds across all workers
 * exactly.  The parent creates it and is the only one that resets a slot
 * (when the worker that owned it is gone), so a crashed worker's count
 * never leaks.  Workers trust it only as a counter: a corrupt value can
 * at worst make them refuse connections.
 */
#ifndef BAILEY_SCOREBOARD_H
#define BAILEY_SCOREBOARD_H

#include <stdint.h>

#define SB_SLOTS	256	/* shared-mode workers alive at once */

#define SB_PEN_SLOTS	4096	/* addresses and users tracked at once */
#define SB_PEN_PROBE	16
#define SB_PEN_KEY	16

/* penalty.c: one address (/64) or user. */
struct sb_pen {
	uint8_t		key[SB_PEN_KEY];	/* key[0] 0: free */
	uint32_t	conns;
	uint32_t	fails;
	uint64_t	last_fail;		/* ms, CLOCK_MONOTONIC */
};

#define SB_TICKET_NAME	4
#define SB_TICKET_KEY	32

struct scoreboard {
	/* per-connection mode: workers holding a session */
	uint32_t	busy;
	/* The session-ticket key every worker uses, so that a ticket from
	 * one worker resumes on any other; the parent rotates it and bumps
	 * ticket_gen (even while written: seqlock). */
	uint32_t	ticket_gen;
	uint8_t		ticket_name[SB_TICKET_NAME];
	uint8_t		ticket_key[SB_TICKET_KEY];
	/* shared mode: sessions per worker slot */
	uint32_t	slots[SB_SLOTS];
	/* penalty.c, under pen_lock (a spin lock: a few compares). */
	uint32_t	pen_lock;
	struct sb_pen	pen[SB_PEN_SLOTS];
};

/* Parent: creates the memfd and maps it.  Returns the fd. */
int	sb_create(struct scoreboard **);
/* Worker: maps the memfd it inherited. */
struct scoreboard *sb_attach(int fd);
void	sb_add(uint32_t *, int32_t);
uint32_t sb_get(const uint32_t *);
/* Sum of all shared-mode slots. */
uint32_t sb_total(const struct scoreboard *);
/* Parent: a fresh random ticket key (at start, then every few hours). */
void	sb_ticket_rotate(struct scoreboard *);
/* Worker: copies the key if its generation differs from *gen (updated);
 * 1 if copied, 0 if unchanged or being written. */
int	sb_ticket_get(const struct scoreboard *, uint32_t *gen,
	    uint8_t name[SB_TICKET_NAME], uint8_t key[SB_TICKET_KEY]);

#endif
