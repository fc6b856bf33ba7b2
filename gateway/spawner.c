/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * spawner: bailey's one privileged process after start-up (OpenSSH's
 * sshd / sshd-session split).  Forked by the parent once the
 * configuration is parsed and checked and the listeners are bound, it
 * stays root with only the capabilities spawning needs
 * (sandbox_spawner_caps()), no_new_privs, not dumpable and without a
 * seccomp filter (a filter would be inherited by every child before its
 * own sandbox, docs/sandbox.md).  It keeps its own copies of the
 * configuration memfd, the scoreboard and the listeners, closes every
 * other descriptor, and serves exactly two requests on its SOCK_SEQPACKET
 * channel to the parent:
 *
 *   MSG_SPAWN		clone(CLONE_PARENT) + exec of one child role, so
 *			the child is the parent's (spawn_clone()); answered
 *			with MSG_SPAWNED (pid, the parent's channel end)
 *   MSG_CONF_RELOAD	reread the configuration file (its path is fixed at
 *			start), parse it, check maps and certificates, bind
 *			new listeners (reusing its sockets for unchanged
 *			addresses); answered with MSG_CONF (ok/error, memfd
 *			of the text)
 *
 * It never reads a client byte and trusts only the parent, whose bad
 * requests are fatal all the same (checked: role, index, slot, fds).  It
 * exits when the parent's channel closes, and PR_SET_PDEATHSIG kills it
 * should the parent die first.  The helpers below also serve the parent
 * at start, before it drops root.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "map.h"
#include "parent.h"
#include "sandbox.h"
#include "tls.h"

/* Highest child index the parent hands out (bailey -I takes 1 << 20). */
#define SPAWNER_MAX_INDEX	(1u << 20)
/* Scoreboard slots: bailey -S takes 0..255; 0xffff means none. */
#define SPAWNER_MAX_SLOT	255u
#define SPAWNER_NO_SLOT		0xffffu

struct spawner {
	struct chan		 chan;
	const char		*conf_path;
	struct bailey_conf	*conf;		/* for listener reuse */
	int			 conffd;
	int			 sbfd;
	int			 lfds[CONF_MAX_LISTENERS];
	size_t			 nlfds;
};

/* ---- checks and listeners: the parent at start, the spawner on reload */

/* Cipher suite names, checked by making a throwaway context. */
static int
conf_check_suites(const struct suite_list *l, int client)
{
	const char		*names[CONF_MAX_SUITES + 1], *err = NULL;
	struct tls_server_opts	 so;
	struct tls_client_opts	 co;
	struct tls_server	*srv;
	struct tls_client	*cli;
	size_t			 i;

	if (l->n == 0) {
		return 0;
	}
	for (i = 0; i < l->n; i++) {
		names[i] = l->name[i];
	}
	names[l->n] = NULL;
	memset(&so, 0, sizeof(so));
	memset(&co, 0, sizeof(co));
	if (client) {
		co.ciphers = names;
		co.verify = TLS_VERIFY_INSECURE;
		if ((cli = tls_client_new(&co, &err)) == NULL) {
			log_warnx("backend-tls-ciphers: %s", err);
			return -1;
		}
		tls_client_free(&cli);
		return 0;
	}
	so.ciphers = names;
	so.no_tickets = 1;
	if ((srv = tls_server_new(&so, &err)) == NULL) {
		log_warnx("tls-ciphers: %s", err);
		return -1;
	}
	tls_server_free(&srv);
	return 0;
}

/*
 * Certificates are public: the parent checks them now so that a bad one
 * is a start-up error.  Keys are read by the keyholder only.
 */
static int
conf_check_certs(const struct bailey_conf *c)
{
	const char	*err = NULL;
	size_t		 i;
	int		 ec;

	if (c->ncerts == 0 && c->tls_ciphers.n == 0 &&
	    c->backend_tls_ciphers.n == 0) {
		return 0;
	}
	if (tls_init(&err) == -1) {
		log_warnx("tls: %s", err);
		return -1;
	}
	if (conf_check_suites(&c->tls_ciphers, 0) == -1 ||
	    conf_check_suites(&c->backend_tls_ciphers, 1) == -1) {
		return -1;
	}
	for (i = 0; i < c->ncerts; i++) {
		if ((ec = tls_cert_file_is_ecdsa(c->certs[i].chain, &err)) ==
		    -1) {
			log_warnx("certificate %s: %s", c->certs[i].chain, err);
			return -1;
		}
		if (!ec && !c->tls_rsa_in_worker) {
			log_warnx("certificate %s: not an ECDSA key; the keyholder "
			    "can only keep ECDSA keys out of the workers (use "
			    "one, or set tls-rsa-in-worker yes)",
			    c->certs[i].chain);
			return -1;
		}
	}
	return 0;
}

/* Loads every map once, so a broken map is an error now, not a child
 * restarting in a loop later.  0 / -1 (map_open logged why). */
static int
conf_check_maps(const struct bailey_conf *c)
{
	struct map	*m;
	size_t		 i;

	for (i = 0; i < c->nmaps; i++) {
		if ((m = map_open(&c->maps[i])) == NULL) {
			return -1;
		}
		map_close(&m);
	}
	return 0;
}

static int
conf_bind_one(const struct listen_conf *l)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd, on = 1;

	if (sockaddr_parse(l->addr, l->port, &ss, &len) == -1) {
		log_warnx("listen %s: not a numeric address", l->addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		log_warn("socket");
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ss.ss_family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 1024) == -1) {
		log_warn("listen on %s port %u", l->addr, l->port);
		close(fd);
		return -1;
	}
	return fd;
}

int
conf_bind_listeners(const struct bailey_conf *nc,
    const struct bailey_conf *oc, const int *ofds, int *fds)
{
	size_t	i, j;

	for (i = 0; i < nc->nlisteners; i++) {
		fds[i] = -1;
		for (j = 0; oc != NULL && j < oc->nlisteners; j++) {
			if (strcmp(oc->listeners[j].addr,
			    nc->listeners[i].addr) == 0 &&
			    oc->listeners[j].port == nc->listeners[i].port &&
			    ofds[j] != -1) {
				fds[i] = fcntl(ofds[j], F_DUPFD_CLOEXEC, 0);
				break;
			}
		}
		if (fds[i] == -1 && (fds[i] = conf_bind_one(&nc->listeners[i])) ==
		    -1) {
			while (i-- > 0) {
				close(fds[i]);
			}
			return -1;
		}
	}
	return 0;
}

int
conf_memfd(const char *text, size_t len)
{
	int	fd;

	if ((fd = memfd_create("bailey.conf", MFD_CLOEXEC)) == -1) {
		fatal("memfd_create");
	}
	if (write(fd, text, len) != (ssize_t)len) {
		fatal("memfd write");
	}
	return fd;
}


int
conf_check(const struct bailey_conf *c)
{
	return conf_check_maps(c) == 0 && conf_check_certs(c) == 0 ? 0 : -1;
}

/* ---- the spawner process ----------------------------------------------- */

/* Sends one answer, waiting for room if the parent is slow to read. */
static void
spawner_reply(struct spawner *sp, const struct msg_out *m, int fd)
{
	struct pollfd	pfd;

	if (chan_send(&sp->chan, m, fd) == -1) {
		fatalx("spawner: cannot answer the parent");
	}
	while (chan_pending(&sp->chan)) {
		pfd.fd = sp->chan.fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR) {
			fatal("spawner: poll");
		}
		if (chan_flush(&sp->chan) == -1) {
			fatalx("spawner: the parent went away");
		}
	}
}

static void
spawner_spawn(struct spawner *sp, struct msg_in *in)
{
	struct msg_out	m;
	uint8_t		role;
	uint32_t	index;
	uint16_t	slot;
	int		pair[2] = { -1, -1 }, khfd = in->fd;
	pid_t		pid = -1;

	in->fd = -1;
	role = msg_get_u8(in);
	index = msg_get_u32(in);
	slot = msg_get_u16(in);
	if (msg_end(in) == -1 || (role != ROLE_LOOKUP &&
	    role != ROLE_DIALER && role != ROLE_WORKER &&
	    role != ROLE_KEYHOLDER) || index > SPAWNER_MAX_INDEX ||
	    (slot > SPAWNER_MAX_SLOT && slot != SPAWNER_NO_SLOT) ||
	    (slot != SPAWNER_NO_SLOT && role != ROLE_WORKER) ||
	    (khfd != -1 && role != ROLE_WORKER)) {
		fatalx("spawner: bad spawn request from the parent");
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) ==
	    -1) {
		log_warn("spawner: socketpair");
	} else if ((pid = spawn_clone((enum role)role, index,
	    slot == SPAWNER_NO_SLOT ? -1 : (int)slot, pair[1], sp->conffd,
	    sp->sbfd, khfd, sp->lfds, sp->nlfds)) == -1) {
		log_warn("spawner: clone %s", role_name((enum role)role));
	}
	if (pair[1] != -1) {
		close(pair[1]);
	}
	if (khfd != -1) {
		close(khfd);
	}
	msg_init(&m, MSG_SPAWNED);
	msg_add_u8(&m, pid > 0 ? 0 : 1);
	msg_add_u32(&m, pid > 0 ? (uint32_t)pid : 0);
	if (pid <= 0 && pair[0] != -1) {
		close(pair[0]);
		pair[0] = -1;
	}
	spawner_reply(sp, &m, pair[0]);
}

/* A new configuration, checked and bound; sp is unchanged on failure. */
static int
spawner_load(struct spawner *sp, char **text_r, size_t *len_r)
{
	struct bailey_conf	*nc;
	int			 nfds[CONF_MAX_LISTENERS];
	size_t			 i;

	log_info("reloading %s", sp->conf_path);
	if (config_read_file(sp->conf_path, text_r, len_r) == -1) {
		return -1;
	}
	if ((nc = calloc(1, sizeof(*nc))) == NULL) {
		fatal("calloc");
	}
	config_defaults(nc);
	if (config_parse(nc, sp->conf_path, *text_r, *len_r) == -1 ||
	    conf_check(nc) == -1 ||
	    conf_bind_listeners(nc, sp->conf, sp->lfds, nfds) == -1) {
		free(nc);
		free(*text_r);
		*text_r = NULL;
		return -1;
	}
	for (i = 0; i < sp->nlfds; i++) {
		close(sp->lfds[i]);
	}
	memcpy(sp->lfds, nfds, sizeof(nfds[0]) * nc->nlisteners);
	sp->nlfds = nc->nlisteners;
	free(sp->conf);
	sp->conf = nc;
	return 0;
}

static void
spawner_reload(struct spawner *sp, struct msg_in *in)
{
	struct msg_out	 m;
	char		*text = NULL;
	size_t		 len = 0;
	int		 fd = -1;

	if (msg_end(in) == -1 || in->fd != -1) {
		fatalx("spawner: bad reload request from the parent");
	}
	msg_init(&m, MSG_CONF);
	if (spawner_load(sp, &text, &len) == -1) {
		msg_add_u8(&m, 1);
		msg_add_u32(&m, 0);
	} else {
		close(sp->conffd);
		sp->conffd = conf_memfd(text, len);
		if ((fd = fcntl(sp->conffd, F_DUPFD_CLOEXEC, 0)) == -1) {
			fatal("spawner: dup");
		}
		msg_add_u8(&m, 0);
		msg_add_u32(&m, (uint32_t)len);
	}
	free(text);
	spawner_reply(sp, &m, fd);
}

static void __attribute__((noreturn))
spawner_main(struct spawner *sp, pid_t ppid)
{
	struct sandbox_opts	 o;
	struct msg_in		*in;
	struct pollfd		 pfd;
	int			 keep[3 + CONF_MAX_LISTENERS], rv;
	size_t			 nkeep = 0, i;

	/* A backstop: normally the channel's EOF ends us. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1) {
		fatal("spawner: PR_SET_PDEATHSIG");
	}
	if (getppid() != ppid) {
		_exit(0);
	}
	log_procinit("spawner");
	keep[nkeep++] = sp->chan.fd;
	keep[nkeep++] = sp->conffd;
	keep[nkeep++] = sp->sbfd;
	for (i = 0; i < sp->nlfds; i++) {
		keep[nkeep++] = sp->lfds[i];
	}
	memset(&o, 0, sizeof(o));
	o.keep_fds = keep;
	o.nkeep = nkeep;
	o.keep_syslog = 1;
	(void)sandbox_enter(SB_SPAWNER, &o);
	if ((in = malloc(sizeof(*in))) == NULL) {
		fatal("malloc");
	}
	for (;;) {
		pfd.fd = sp->chan.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR) {
			fatal("spawner: poll");
		}
		if ((rv = chan_recv(&sp->chan, in)) == 0) {
			continue;
		}
		if (rv == -1) {
			break;		/* the parent is gone, or broken */
		}
		switch (in->type) {
		case MSG_SPAWN:
			spawner_spawn(sp, in);
			break;
		case MSG_CONF_RELOAD:
			spawner_reload(sp, in);
			break;
		default:
			fatalx("spawner: unexpected %s from the parent",
			    msg_type_name(in->type));
		}
	}
	log_debug("the parent's channel closed; exiting");
	exit(0);
}

pid_t
spawner_start(const char *conf_path, struct bailey_conf *conf, int conffd,
    int sbfd, const int *lfds, size_t nlfds, int *chan_r)
{
	static struct spawner	 sp;
	int			 pair[2];
	pid_t			 pid, ppid = getpid();
	size_t			 i;

	if (nlfds > CONF_MAX_LISTENERS) {
		fatalx("spawner: too many listeners");
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) ==
	    -1) {
		fatal("spawner: socketpair");
	}
	switch ((pid = fork())) {
	case -1:
		fatal("spawner: fork");
	case 0:
		close(pair[0]);
		chan_init(&sp.chan, pair[1]);
		sp.conf_path = conf_path;
		sp.conf = conf;
		sp.conffd = conffd;
		sp.sbfd = sbfd;
		for (i = 0; i < nlfds; i++) {
			sp.lfds[i] = lfds[i];
		}
		sp.nlfds = nlfds;
		spawner_main(&sp, ppid);
	default:
		break;
	}
	close(pair[1]);
	*chan_r = pair[0];
	return pid;
}
