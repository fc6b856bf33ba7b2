/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * parent: the supervisor's state.  Runs as root (until the sandbox issue
 * narrows it); never handles client bytes.
 */
#ifndef BAILEY_PARENT_H
#define BAILEY_PARENT_H

#include <sys/types.h>

#include "bailey.h"
#include "ev.h"
#include "msg.h"

struct child {
	enum role	role;
	unsigned	index;
	unsigned	gen;		/* configuration generation */
	pid_t		pid;
	int		draining;	/* told to finish and exit */
	int		busy;		/* per-connection worker with a session */
	int		slot;		/* shared-mode scoreboard slot, or -1 */
	uint32_t	sessions;
	uint64_t	started;	/* ms */
	struct chan	chan;
	struct ev_io	io;
};

int	parent_main(const char *conffile, int debug, int noaction,
	    int verbose);

/* spawn.c */
struct child *spawn_child(enum role, unsigned index, int slot,
	    unsigned gen, int conffd, int sbfd, int khfd, const int *lfds,
	    size_t nlfds);
void	spawn_set_args(int debug, int verbose);
/* Called by the parent loop for every message from a child. */
void	parent_dispatch(struct child *, struct msg_in *);
void	parent_child_gone(struct child *);

#endif
