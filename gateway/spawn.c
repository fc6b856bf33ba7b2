/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * spawn: fork and re-execute bailey for one child role.  Runs in the
 * parent.  The child gets exactly: its end of a SOCK_SEQPACKET socketpair
 * on FD_PARENT, the configuration memfd on FD_CONFIG and, for workers, the
 * listeners from FD_LISTEN_BASE on.  Every other descriptor is closed
 * before exec, so no child inherits what is not its business.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "parent.h"

#define SPAWN_TMPFD	512

static int	spawn_debug;
static int	spawn_verbose;

void
spawn_set_args(int debug, int verbose)
{
	spawn_debug = debug;
	spawn_verbose = verbose;
}

static void __attribute__((noreturn))
spawn_exec(enum role role, unsigned index, int slot, int sp, int conffd,
    int sbfd, int khfd, const int *lfds, size_t nlfds)
{
	int	 src[4 + CONF_MAX_LISTENERS], tmp[4 + CONF_MAX_LISTENERS];
	char	 idx[16], rname[16], sl[16], *argv[10];
	size_t	 n = 0, i;
	int	 a = 0;
	sigset_t set;

	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	src[n++] = sp;
	src[n++] = conffd;
	src[n++] = sbfd;
	if (khfd == -1 && (khfd = open("/dev/null", O_RDWR | O_CLOEXEC)) ==
	    -1) {
		fatal("spawn: /dev/null");
	}
	src[n++] = khfd;
	for (i = 0; i < nlfds && n < sizeof(src) / sizeof(src[0]); i++) {
		src[n++] = lfds[i];
	}
	/* Move everything out of the way first, then into place. */
	for (i = 0; i < n; i++) {
		if ((tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, SPAWN_TMPFD)) ==
		    -1) {
			fatal("spawn: dup");
		}
	}
	for (i = 0; i < n; i++) {
		if (dup2(tmp[i], FD_PARENT + (int)i) == -1) {
			fatal("spawn: dup2");
		}
	}
	if (close_range(FD_PARENT + (unsigned)n, ~0U, 0) == -1) {
		fatal("spawn: close_range");
	}
	snprintf(idx, sizeof(idx), "%u", index);
	argv[a++] = (char *)"bailey";
	argv[a++] = (char *)"-R";
	snprintf(rname, sizeof(rname), "%s", role_name(role));
	argv[a++] = rname;
	argv[a++] = (char *)"-I";
	argv[a++] = idx;
	if (slot >= 0) {
		snprintf(sl, sizeof(sl), "%d", slot);
		argv[a++] = (char *)"-S";
		argv[a++] = sl;
	}
	if (spawn_debug) {
		argv[a++] = (char *)"-d";
	}
	if (spawn_verbose) {
		argv[a++] = (char *)"-v";
	}
	argv[a] = NULL;
	execv("/proc/self/exe", argv);
	fatal("spawn: execv");
}

struct child *
spawn_child(enum role role, unsigned index, int slot, unsigned gen,
    int conffd, int sbfd, int khfd, const int *lfds, size_t nlfds)
{
	struct child	*c;
	int		 sp[2];
	pid_t		 pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("spawn %s: socketpair", role_name(role));
		return NULL;
	}
	switch ((pid = fork())) {
	case -1:
		log_warn("spawn %s: fork", role_name(role));
		close(sp[0]);
		close(sp[1]);
		return NULL;
	case 0:
		close(sp[0]);
		spawn_exec(role, index, slot, sp[1], conffd, sbfd, khfd,
		    role == ROLE_WORKER ? lfds : NULL,
		    role == ROLE_WORKER ? nlfds : 0);
	default:
		break;
	}
	close(sp[1]);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		fatal("calloc");
	}
	c->role = role;
	c->index = index;
	c->slot = slot;
	c->gen = gen;
	c->pid = pid;
	c->started = ev_clock_ms();
	chan_init(&c->chan, sp[0]);
	set_nonblock(sp[0]);
	log_debug("spawned %s %u pid %d", role_name(role), index, (int)pid);
	return c;
}
