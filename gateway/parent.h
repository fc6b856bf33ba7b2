/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * parent: the supervisor's state, and the spawner it starts.  The parent
 * starts as root, forks the spawner (stays root, spawns children) and
 * then runs as the configured user under its own seccomp filter; neither
 * ever handles client bytes.  The spawner trusts only the parent.
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

/*
 * spawn.c.  spawn_child() consumes khfd (closed in every case).  Through
 * the spawner when spawn_use_spawner() was called (conffd, sbfd and lfds
 * are then the spawner's own), else by fork.  NULL on failure.
 */
struct child *spawn_child(enum role, unsigned index, int slot,
	    unsigned gen, int conffd, int sbfd, int khfd, const int *lfds,
	    size_t nlfds);
void	spawn_set_args(int debug, int verbose);
/* Parent: from now on ask the spawner (channel fd, its pid). */
void	spawn_use_spawner(int fd, pid_t pid);
pid_t	spawn_spawner_pid(void);
int	spawn_spawner_fd(void);
/* Parent: closes the channel; the spawner then exits. */
void	spawn_spawner_close(void);
/*
 * Parent: asks the spawner to reread, check and bind the configuration.
 * 0 with a memfd of the new text in *fd_r (*len_r bytes): the spawner
 * already uses the new listeners.  -1: it failed (the spawner logged
 * why) and nothing changed, or the spawner is gone.
 */
int	spawn_conf_reload(int *fd_r, size_t *len_r);
/* Spawner: clone(CLONE_PARENT) + exec of one child.  Its pid or -1. */
pid_t	spawn_clone(enum role, unsigned index, int slot, int sp, int conffd,
	    int sbfd, int khfd, const int *lfds, size_t nlfds);

/* spawner.c */
/*
 * Forks the spawner (see spawner.c), which keeps its own copies of
 * conffd, sbfd and the listeners.  Returns its pid and the parent's end
 * of the channel in *chan_r; fatal on failure.
 */
pid_t	spawner_start(const char *conf_path, struct bailey_conf *conf,
	    int conffd, int sbfd, const int *lfds, size_t nlfds, int *chan_r);
/* Maps and certificates of a configuration: 0 / -1 (logged). */
int	conf_check(const struct bailey_conf *);
/*
 * Binds the listeners of nc into fds, reusing (duplicating) ofds, the
 * sockets of oc (may be NULL), for unchanged addresses.  0 / -1.
 */
int	conf_bind_listeners(const struct bailey_conf *nc,
	    const struct bailey_conf *oc, const int *ofds, int *fds);
/* A memfd holding the configuration text; fatal on failure. */
int	conf_memfd(const char *text, size_t len);
/* Called by the parent loop for every message from a child. */
void	parent_dispatch(struct child *, struct msg_in *);
void	parent_child_gone(struct child *);

#endif
