/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * spawn: how a child role comes to life.  Two sides:
 *
 * - in the parent (unprivileged, filtered: it may not fork or exec):
 *   spawn_child() asks the spawner over their SOCK_SEQPACKET channel and
 *   waits for the answer (the spawner is fast and serves nobody else);
 *   with "sandbox off" there is no spawner and the parent, then still
 *   root and unfiltered, forks itself as before.  It trusts the spawner's
 *   answers (a malformed one is fatal).
 * - in the spawner (root, spawn capabilities, no filter): spawn_clone()
 *   makes the child with clone(CLONE_PARENT), so that it is the parent's
 *   child, supervised and reaped by the parent as if it had forked it.
 *
 * Either way the new process gets exactly: its end of a SOCK_SEQPACKET
 * socketpair on FD_PARENT, the configuration memfd on FD_CONFIG, the
 * scoreboard on FD_SCOREBOARD, a keyholder channel (or /dev/null) on
 * FD_KEYHOLDER and, for workers, the listeners from FD_LISTEN_BASE on.
 * Every other descriptor is closed before execve of /proc/self/exe, so no
 * child inherits what is not its business.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "parent.h"

#define SPAWN_TMPFD		512
/* How long the parent waits for the spawner (a reload checks maps). */
#define SPAWN_TIMEOUT_MS	10000
#define SPAWN_RELOAD_TIMEOUT_MS	60000
/* The configuration text, as child_load_config() accepts it. */
#define SPAWN_MAX_CONF		(1u << 20)

static int	spawn_debug;
static int	spawn_verbose;

/* The parent's side of the spawner channel. */
static int		spawner_used;
static pid_t		spawner_pid = -1;
static struct chan	spawner_chan = { .fd = -1 };

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

/* ---- the spawner's side ----------------------------------------------- */

pid_t
spawn_clone(enum role role, unsigned index, int slot, int sp, int conffd,
    int sbfd, int khfd, const int *lfds, size_t nlfds)
{
	long	pid;

	/*
	 * Raw clone: like fork, but the child's parent is our parent, whose
	 * SIGCHLD and waitpid() supervise it.  The child only rearranges
	 * descriptors and executes, so glibc's stale thread id in it does
	 * not matter.
	 */
	pid = syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD),
	    NULL, NULL, NULL, NULL);
	if (pid == 0) {
		spawn_exec(role, index, slot, sp, conffd, sbfd, khfd,
		    role == ROLE_WORKER ? lfds : NULL,
		    role == ROLE_WORKER ? nlfds : 0);
	}
	return (pid_t)pid;
}

/* ---- the parent's side -------------------------------------------------- */

void
spawn_use_spawner(int fd, pid_t pid)
{
	spawner_used = 1;
	spawner_pid = pid;
	chan_init(&spawner_chan, fd);
}

pid_t
spawn_spawner_pid(void)
{
	return spawner_pid;
}

int
spawn_spawner_fd(void)
{
	return spawner_chan.fd;
}

void
spawn_spawner_close(void)
{
	if (spawner_chan.fd != -1) {
		chan_close(&spawner_chan);
	}
}

static int
spawner_wait(short events, int timeout_ms)
{
	struct pollfd	pfd;
	int		rv;

	pfd.fd = spawner_chan.fd;
	pfd.events = events;
	pfd.revents = 0;
	do {
		rv = poll(&pfd, 1, timeout_ms);
	} while (rv == -1 && errno == EINTR);
	return rv == 1 ? 0 : -1;
}

/*
 * One request and its answer.  fd goes along with m (the channel closes
 * it).  On any failure the channel is closed: the spawner then exits, and
 * the parent, seeing it go, stops (it cannot make children any more).
 */
static int
spawner_call(const struct msg_out *m, int fd, enum msg_type want,
    struct msg_in *in, int timeout_ms)
{
	int	rv;

	if (spawner_chan.fd == -1) {
		if (fd != -1) {
			close(fd);
		}
		return -1;
	}
	if (chan_send(&spawner_chan, m, fd) == -1) {
		goto fail;
	}
	while (chan_pending(&spawner_chan)) {
		if (spawner_wait(POLLOUT, timeout_ms) == -1 ||
		    chan_flush(&spawner_chan) == -1) {
			goto fail;
		}
	}
	do {
		if (spawner_wait(POLLIN, timeout_ms) == -1) {
			goto fail;
		}
	} while ((rv = chan_recv(&spawner_chan, in)) == 0);
	if (rv == -1) {
		goto fail;
	}
	if (in->type != want) {
		fatalx("spawner: %s instead of %s", msg_type_name(in->type),
		    msg_type_name(want));
	}
	return 0;
fail:
	log_warnx("spawner: no answer to %s; giving it up",
	    msg_type_name(m->type));
	chan_close(&spawner_chan);
	return -1;
}

static int
spawn_remote(enum role role, unsigned index, int slot, int khfd,
    pid_t *pid_r, int *chfd_r)
{
	struct msg_out	 m;
	struct msg_in	*in;
	uint8_t		 status;
	uint32_t	 pid;
	int		 rv = -1;

	if ((in = malloc(sizeof(*in))) == NULL) {
		fatal("malloc");
	}
	msg_init(&m, MSG_SPAWN);
	msg_add_u8(&m, (uint8_t)role);
	msg_add_u32(&m, index);
	msg_add_u16(&m, slot >= 0 ? (uint16_t)slot : 0xffff);
	if (spawner_call(&m, khfd, MSG_SPAWNED, in, SPAWN_TIMEOUT_MS) == -1) {
		goto out;
	}
	status = msg_get_u8(in);
	pid = msg_get_u32(in);
	if (msg_end(in) == -1 || (status == 0) != (in->fd != -1) ||
	    (status == 0 && (pid == 0 || pid > INT32_MAX))) {
		fatalx("spawner: malformed %s", msg_type_name(in->type));
	}
	if (status != 0) {
		log_warnx("spawn %s: the spawner could not", role_name(role));
		goto out;
	}
	*pid_r = (pid_t)pid;
	*chfd_r = in->fd;
	rv = 0;
out:
	free(in);
	return rv;
}

static int
spawn_local(enum role role, unsigned index, int slot, int conffd, int sbfd,
    int khfd, const int *lfds, size_t nlfds, pid_t *pid_r, int *chfd_r)
{
	int	sp[2];
	pid_t	pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("spawn %s: socketpair", role_name(role));
		return -1;
	}
	switch ((pid = fork())) {
	case -1:
		log_warn("spawn %s: fork", role_name(role));
		close(sp[0]);
		close(sp[1]);
		return -1;
	case 0:
		close(sp[0]);
		spawn_exec(role, index, slot, sp[1], conffd, sbfd, khfd,
		    role == ROLE_WORKER ? lfds : NULL,
		    role == ROLE_WORKER ? nlfds : 0);
	default:
		break;
	}
	close(sp[1]);
	*pid_r = pid;
	*chfd_r = sp[0];
	return 0;
}

struct child *
spawn_child(enum role role, unsigned index, int slot, unsigned gen,
    int conffd, int sbfd, int khfd, const int *lfds, size_t nlfds)
{
	struct child	*c;
	pid_t		 pid;
	int		 chfd, rv;

	if (spawner_used) {
		rv = spawn_remote(role, index, slot, khfd, &pid, &chfd);
		khfd = -1;		/* the channel took it */
	} else {
		rv = spawn_local(role, index, slot, conffd, sbfd, khfd, lfds,
		    nlfds, &pid, &chfd);
	}
	if (khfd != -1) {
		close(khfd);
	}
	if (rv == -1) {
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		fatal("calloc");
	}
	c->role = role;
	c->index = index;
	c->slot = slot;
	c->gen = gen;
	c->pid = pid;
	c->started = ev_clock_ms();
	chan_init(&c->chan, chfd);
	set_nonblock(chfd);
	log_debug("spawned %s %u pid %d", role_name(role), index, (int)pid);
	return c;
}

int
spawn_conf_reload(int *fd_r, size_t *len_r)
{
	struct msg_out	 m;
	struct msg_in	*in;
	uint8_t		 status;
	uint32_t	 len;
	int		 rv = -1;

	if ((in = malloc(sizeof(*in))) == NULL) {
		fatal("malloc");
	}
	msg_init(&m, MSG_CONF_RELOAD);
	if (spawner_call(&m, -1, MSG_CONF, in, SPAWN_RELOAD_TIMEOUT_MS) ==
	    -1) {
		goto out;
	}
	status = msg_get_u8(in);
	len = msg_get_u32(in);
	if (msg_end(in) == -1 || (status == 0) != (in->fd != -1) ||
	    len > SPAWN_MAX_CONF) {
		fatalx("spawner: malformed %s", msg_type_name(in->type));
	}
	if (status == 0) {
		*fd_r = in->fd;
		*len_r = len;
		rv = 0;
	}
out:
	free(in);
	return rv;
}
