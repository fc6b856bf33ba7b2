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

struct scoreboard {
	/* per-connection mode: workers holding a session */
	uint32_t	busy;
	/* shared mode: sessions per worker slot */
	uint32_t	slots[SB_SLOTS];
};

/* Parent: creates the memfd and maps it.  Returns the fd. */
int	sb_create(struct scoreboard **);
/* Worker: maps the memfd it inherited. */
struct scoreboard *sb_attach(int fd);
void	sb_add(uint32_t *, int32_t);
uint32_t sb_get(const uint32_t *);
/* Sum of all shared-mode slots. */
uint32_t sb_total(const struct scoreboard *);

#endif
