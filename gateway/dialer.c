/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * dialer: the only role that opens connections.  A child of the parent,
 * trusting its messages.  For each MSG_CONNECT it resolves and connects to
 * the candidates in order (every address of a name, then the next
 * candidate), with a timeout per attempt, and returns the first connected
 * socket with SCM_RIGHTS.  Workers never connect() themselves and never
 * choose a destination: the parent builds the candidate list from the
 * configuration and the lookup answer.  (The destination policy that runs
 * on every resolved address belongs here; see the sandbox/policy issue.)
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bailey.h"
#include "ev.h"
#include "log.h"

struct dial_cand {
	char		host[CONF_MAX_HOSTNAME];
	uint16_t	port;
};

struct dial {
	uint64_t	 id;
	uint32_t	 timeout;
	int		 check;		/* destination policy applies */
	struct dial_cand cands[CONF_MAX_SERVERS];
	unsigned	 ncand;
	unsigned	 cur;
	struct addrinfo	*ai;
	struct addrinfo	*aicur;
	int		 fd;
	struct ev_io	 io;
	struct ev_timer	 timer;
	struct dial	*next;
};

static struct ev_io	 dialer_io;
static struct dial	*dials;
static struct dial	*graveyard;
/* Finished dials kept for reuse: a struct dial is 8 KiB, and freeing
 * and allocating one per login moved the heap top (brk) every time. */
#define DIAL_CACHE_MAX	64
static struct dial	*dial_cache;
static unsigned		 ndial_cache;
static unsigned		 ndials;
static int		 draining;

static void	dial_next_addr(struct dial *);

static void
dialer_send(struct dial *d, enum connect_status st, int fd)
{
	struct msg_out	m;
	char		peer[CONF_MAX_HOSTNAME + 16];

	if (d->cur < d->ncand) {
		snprintf(peer, sizeof(peer), "%s:%u", d->cands[d->cur].host,
		    d->cands[d->cur].port);
	} else {
		snprintf(peer, sizeof(peer), "%s", d->ncand ? "all-failed" :
		    "none");
	}
	msg_init(&m, MSG_CONNECT_RESULT);
	msg_add_u64(&m, d->id);
	msg_add_u8(&m, (uint8_t)st);
	msg_add_u8(&m, (uint8_t)(d->cur < d->ncand ? d->cur : 0xff));
	msg_add_str(&m, peer);
	if (chan_send(&parent_chan, &m, fd) == -1) {
		fatal("dialer: send");
	}
	ev_io_events(&dialer_io, chan_pending(&parent_chan) ?
	    EPOLLIN | EPOLLOUT : EPOLLIN);
}

static void
dial_done(struct dial *d, enum connect_status st)
{
	struct dial	**pp;

	ev_timer_del(&d->timer);
	ev_io_del(&d->io);
	if (st == CONNECT_OK) {
		dialer_send(d, st, d->fd);	/* the channel owns fd now */
	} else {
		if (d->fd != -1) {
			close(d->fd);
		}
		dialer_send(d, st, -1);
	}
	d->fd = -1;
	if (d->ai != NULL) {
		freeaddrinfo(d->ai);
		d->ai = NULL;
	}
	for (pp = &dials; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	d->next = graveyard;
	graveyard = d;
	ndials--;
}

static void
dial_reap(void)
{
	struct dial	*d;

	while ((d = graveyard) != NULL) {
		graveyard = d->next;
		if (ndial_cache < DIAL_CACHE_MAX) {
			d->next = dial_cache;
			dial_cache = d;
			ndial_cache++;
		} else {
			free(d);
		}
	}
	if (draining && ndials == 0 && !chan_pending(&parent_chan)) {
		exit(0);
	}
}

static void
dial_fail_addr(struct dial *d)
{
	ev_timer_del(&d->timer);
	ev_io_del(&d->io);
	if (d->fd != -1) {
		close(d->fd);
		d->fd = -1;
	}
	d->aicur = d->aicur ? d->aicur->ai_next : NULL;
	dial_next_addr(d);
}

static void
dial_writable(struct ev_io *io, uint32_t revents)
{
	struct dial	*d = io->arg;
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	(void)revents;
	if (getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0) {
		log_debug("connect %s:%u: %s", d->cands[d->cur].host,
		    d->cands[d->cur].port, strerror(err ? err : errno));
		dial_fail_addr(d);
		return;
	}
	dial_done(d, CONNECT_OK);
}

static void
dial_timeout(struct ev_timer *t)
{
	struct dial	*d = t->arg;

	log_debug("connect %s:%u: timed out", d->cands[d->cur].host,
	    d->cands[d->cur].port);
	dial_fail_addr(d);
}

/*
 * A second connect() right after EINPROGRESS: on loopback (and to a
 * near host) the handshake is often done by then, which saves an epoll
 * registration and a loop round per login.  1 connected, 0 still in
 * progress (errno EINPROGRESS or EALREADY), -1 failed (errno set).
 */
static int
dial_connected(struct dial *d, const struct addrinfo *a)
{
	if (connect(d->fd, a->ai_addr, a->ai_addrlen) == 0 ||
	    errno == EISCONN) {
		return 1;
	}
	if (errno == EALREADY || errno == EINPROGRESS) {
		errno = EINPROGRESS;
		return 0;
	}
	return -1;
}

static int
dial_resolve(struct dial *d)
{
	struct addrinfo	hints;
	char		port[8];
	int		rv;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", d->cands[d->cur].port);
	if (d->ai != NULL) {
		freeaddrinfo(d->ai);
		d->ai = NULL;
	}
	/* Numeric addresses need no resolver (and no /etc/hosts read). */
	hints.ai_flags |= AI_NUMERICHOST;
	rv = getaddrinfo(d->cands[d->cur].host, port, &hints, &d->ai);
	if (rv == EAI_NONAME) {
		hints.ai_flags &= ~AI_NUMERICHOST;
		rv = getaddrinfo(d->cands[d->cur].host, port, &hints, &d->ai);
	}
	if (rv != 0) {
		log_warnx("resolve %s: %s", d->cands[d->cur].host,
		    gai_strerror(rv));
		return -1;
	}
	d->aicur = d->ai;
	return 0;
}

static void
dial_next_addr(struct dial *d)
{
	struct addrinfo	*a;
	const char	*why = NULL;
	int		 on = 1;

	for (;;) {
		while (d->aicur == NULL) {
			if (d->ai != NULL) {
				d->cur++;
			}
			if (d->cur >= d->ncand) {
				dial_done(d, CONNECT_FAIL);
				return;
			}
			if (dial_resolve(d) == -1) {
				d->ai = NULL;
				d->aicur = NULL;
				d->cur++;
				if (d->cur >= d->ncand) {
					dial_done(d, CONNECT_FAIL);
					return;
				}
				continue;
			}
		}
		a = d->aicur;
		if (d->check && dest_addr_allowed(&bconf->policy, a->ai_addr,
		    a->ai_addrlen, &why) != 1) {
			log_info("event=policy-refused dest=%s:%u reason=\"%s\"",
			    d->cands[d->cur].host, d->cands[d->cur].port, why);
			d->aicur = a->ai_next;
			continue;
		}
		d->fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, a->ai_protocol);
		if (d->fd == -1) {
			log_warn("socket");
			d->aicur = a->ai_next;
			continue;
		}
		(void)setsockopt(d->fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on));
		if (connect(d->fd, a->ai_addr, a->ai_addrlen) == 0) {
			dial_done(d, CONNECT_OK);
			return;
		}
		if (errno == EINPROGRESS && dial_connected(d, a) == 1) {
			dial_done(d, CONNECT_OK);
			return;
		}
		if (errno == EINPROGRESS || errno == EALREADY) {
			ev_io_set(&d->io, d->fd, EPOLLOUT, dial_writable, d);
			ev_timer_add(&d->timer, d->timeout);
			return;
		}
		log_debug("connect %s:%u: %s", d->cands[d->cur].host,
		    d->cands[d->cur].port, strerror(errno));
		close(d->fd);
		d->fd = -1;
		d->aicur = a->ai_next;
	}
}

static void
dialer_request(struct msg_in *in)
{
	struct dial	*d;
	unsigned	 i;

	if ((d = dial_cache) != NULL) {
		dial_cache = d->next;
		ndial_cache--;
		memset(d, 0, sizeof(*d));
	} else if ((d = calloc(1, sizeof(*d))) == NULL) {
		fatal("calloc");
	}
	d->fd = -1;
	d->id = msg_get_u64(in);
	d->timeout = msg_get_u32(in);
	d->check = msg_get_u8(in);
	d->ncand = msg_get_u8(in);
	if (d->ncand > CONF_MAX_SERVERS) {
		fatalx("dialer: too many candidates");
	}
	for (i = 0; i < d->ncand; i++) {
		msg_get_str(in, d->cands[i].host, sizeof(d->cands[i].host));
		d->cands[i].port = msg_get_u16(in);
	}
	if (msg_end(in) == -1 || d->timeout == 0) {
		fatalx("dialer: malformed request");
	}
	ev_timer_init(&d->timer, dial_timeout, d);
	d->next = dials;
	dials = d;
	ndials++;
	if (d->ncand == 0) {
		dial_done(d, CONNECT_FAIL);
		return;
	}
	dial_next_addr(d);
}

static void
dialer_input(struct ev_io *io, uint32_t revents)
{
	struct msg_in	*in;
	int		 rv;

	(void)io;
	if (revents & EPOLLOUT) {
		(void)chan_flush(&parent_chan);
	}
	if ((in = malloc(sizeof(*in))) == NULL) {
		fatal("malloc");
	}
	while ((rv = chan_recv(&parent_chan, in)) == 1) {
		if (in->fd != -1) {
			fatalx("dialer: unexpected fd");
		}
		if (in->type == MSG_CONNECT) {
			dialer_request(in);
		} else if (in->type == MSG_DRAIN) {
			draining = 1;
		} else {
			fatalx("dialer: unexpected %s", msg_type_name(in->type));
		}
	}
	free(in);
	if (rv == -1) {
		exit(0);
	}
	ev_io_events(&dialer_io, chan_pending(&parent_chan) ?
	    EPOLLIN | EPOLLOUT : EPOLLIN);
}

void
dialer_main(void)
{
	child_sandbox(ROLE_DIALER);
	ev_init();
	ev_set_post_hook(dial_reap);
	ev_io_set(&dialer_io, FD_PARENT, EPOLLIN, dialer_input, NULL);
	ev_loop();
	exit(0);
}
