/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * worker: accepts client connections and runs their sessions in one epoll
 * loop.  A child of the parent; trusts the parent's messages and nothing
 * that arrives on a client or backend socket.  In `isolation shared` it
 * serves many sessions (up to its share of max-connections); in
 * `isolation per-connection` it takes exactly one connection, tells the
 * parent (which forks the next worker), and exits when that session ends.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bailey.h"
#include "log.h"
#include "capfilter.h"
#include "penalty.h"
#include "proxyproto.h"
#include "scoreboard.h"
#include "session.h"
#include "tlsctx.h"

#define ACCEPT_BATCH	32

struct listener {
	struct ev_io		 io;
	int			 fd;
	int			 nodelay;	/* accepted sockets inherit it */
	const struct listen_conf *lc;
};

static struct listener	  listeners[CONF_MAX_LISTENERS];
static size_t		  nlisteners;
static struct ev_io	  parent_io;
static struct session	**slots;
static uint32_t		 *slot_gen;
static size_t		  nslots;
static unsigned		  nsessions;
static int		  draining, per_connection, took_one;
static unsigned		  worker_index;
static int		  worker_slot;
static struct scoreboard *sb;
static struct session	 *dead;
static struct ev_timer	  alive_timer;
static struct capfilter_conf capconf[2];
static int		  capon[2];
static unsigned long long proxy_untrusted;	/* refused balancers */
static pid_t		  worker_pid;	/* for session ids; getpid() once */

static void
worker_capconf_init(void)
{
	const char	*err = NULL;
	size_t		 i;
	int		 p;

	for (p = 0; p < 2; p++) {
		capfilter_conf_init(&capconf[p], p == PROTO_IMAP ?
		    CAPFILTER_IMAP : CAPFILTER_POP3);
	}
	for (i = 0; i < bconf->ncap_rules; i++) {
		const struct cap_rule *r = &bconf->cap_rules[i];

		if (capfilter_conf_add(&capconf[r->proto], r->strip ?
		    CAPFILTER_STRIP : CAPFILTER_ALLOW, r->name, &err) == -1) {
			fatalx("capability %s: %s", r->name, err);
		}
	}
	for (p = 0; p < 2; p++) {
		capon[p] = !capfilter_conf_empty(&capconf[p]);
	}
}

struct scoreboard *
worker_scoreboard(void)
{
	return sb;
}

const struct capfilter_conf *
worker_capconf(enum proto p)
{
	return capon[p] ? &capconf[p] : NULL;
}

void
worker_send(const struct msg_out *m)
{
	if (chan_send(&parent_chan, m, -1) == -1) {
		fatal("worker: send to parent");
	}
	if (chan_pending(&parent_chan)) {
		ev_io_events(&parent_io, EPOLLIN | EPOLLOUT);
	}
}

static void
listeners_close(void)
{
	size_t	i;

	for (i = 0; i < nlisteners; i++) {
		if (listeners[i].fd != -1) {
			ev_io_del(&listeners[i].io);
			close(listeners[i].fd);
			listeners[i].fd = -1;
		}
	}
}

static uint64_t
slot_add(struct session *s)
{
	size_t	i, n;

	for (i = 0; i < nslots; i++) {
		if (slots[i] == NULL) {
			break;
		}
	}
	if (i == nslots) {
		n = nslots ? nslots * 2 : 64;
		slots = reallocarray(slots, n, sizeof(*slots));
		slot_gen = reallocarray(slot_gen, n, sizeof(*slot_gen));
		if (slots == NULL || slot_gen == NULL) {
			fatal("slots");
		}
		memset(slots + nslots, 0, (n - nslots) * sizeof(*slots));
		memset(slot_gen + nslots, 0, (n - nslots) * sizeof(*slot_gen));
		nslots = n;
	}
	slots[i] = s;
	slot_gen[i]++;
	/* pid (24 bits) | generation of the slot (16) | slot (24): unique
	 * among live processes, and stale ids do not match a reused slot. */
	return ((uint64_t)(worker_pid & 0xffffff) << 40) |
	    ((uint64_t)(slot_gen[i] & 0xffff) << 24) | (uint64_t)i;
}

static struct session *
slot_find(uint64_t id)
{
	size_t	i = (size_t)(id & 0xffffffu);

	if (i >= nslots || slots[i] == NULL || slots[i]->id != id) {
		return NULL;
	}
	return slots[i];
}

void
worker_session_gone(struct session *s)
{
	size_t	i = (size_t)(s->id & 0xffffffu);

	if (i < nslots && slots[i] == s) {
		slots[i] = NULL;
	}
	nsessions--;
	if (worker_slot >= 0) {
		sb_add(&sb->slots[worker_slot], -1);
	}
	if (s->pen_counted) {
		struct sockaddr_storage ss;

		if (session_client_sa(s, &ss) == 0) {
			pen_conn_close(sb, (struct sockaddr *)&ss);
		}
	}
	s->next_dead = dead;
	dead = s;
}

static void
worker_post(void)
{
	struct session	*s;

	while ((s = dead) != NULL) {
		dead = s->next_dead;
		free(s);
	}
	if ((draining || (per_connection && took_one)) && nsessions == 0 &&
	    !chan_pending(&parent_chan)) {
		exit(0);
	}
}

/* Shared mode: all workers' sessions; per-connection: busy workers. */
static int
over_limit(void)
{
	if (worker_slot >= 0) {
		return sb_total(sb) > bconf->max_connections;
	}
	if (__atomic_fetch_add(&sb->busy, 1, __ATOMIC_RELAXED) >=
	    bconf->max_connections) {
		sb_add(&sb->busy, -1);
		return 1;
	}
	return 0;
}

int
worker_session_admit(struct session *s)
{
	struct sockaddr_storage	ss;

	if (session_client_sa(s, &ss) == -1) {
		session_close(s, "internal-error");
		return -1;
	}
	if (!pen_conn_open(sb, (struct sockaddr *)&ss, bconf->max_per_ip)) {
		session_reject(s, session_ops(s)->bye_toomany,
		    "too-many-from-address");
		return -1;
	}
	s->pen_counted = bconf->max_per_ip > 0;
	session_start(s);
	return 0;
}

/*
 * A PROXY protocol listener: only a proxy-trusted peer may speak first;
 * anyone else is closed at once, without a greeting, so that nothing
 * answers a client that reached the port around the balancer.
 */
static int
worker_proxy_accept(struct session *s, const struct sockaddr_storage *ss,
    socklen_t len)
{
	if (!proxyproto_trusted(bconf->proxy_trusted, bconf->nproxy_trusted,
	    (const struct sockaddr *)ss, len)) {
		proxy_untrusted++;
		log_info("session=%016llx client=%s:%u event=proxy-untrusted "
		    "refused=%llu", (unsigned long long)s->id, s->caddr,
		    s->cport, proxy_untrusted);
		session_close(s, "proxy-untrusted");
		return -1;
	}
	session_proxy_begin(s);
	return 0;
}

/* 0 if the session was started, -1 if it was turned away. */
static int
worker_accept_one(struct listener *l, int fd, struct sockaddr_storage *ss,
    socklen_t len)
{
	struct session	*s;
	int		 on = 1;
	const char	*bye;

	if (!l->nodelay) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on));
	}
	if (l->lc->tls != TLS_MODE_NONE) {
		tlsctx_tickets(sb);
	}
	s = session_new(fd, l->lc, (struct sockaddr *)ss);
	s->id = slot_add(s);
	nsessions++;
	if (worker_slot >= 0) {
		sb_add(&sb->slots[worker_slot], 1);
	}
	if (over_limit() || draining) {
		bye = draining ? session_ops(s)->bye_shutdown :
		    session_ops(s)->bye_toomany;
		session_reject(s, bye, draining ? "shutdown" :
		    "too-many-connections");
		return -1;
	}
	if (l->lc->proxy != 0) {
		/* The per-address limit waits for the header's address. */
		return worker_proxy_accept(s, ss, len);
	}
	return worker_session_admit(s);
}

static void
worker_accept(struct ev_io *io, uint32_t revents)
{
	struct listener		*l = io->arg;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct msg_out		 m;
	int			 fd, i;

	(void)revents;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		len = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warn("accept");
			}
			return;
		}
		if (worker_accept_one(l, fd, &ss, len) == 0 &&
		    per_connection) {
			msg_init(&m, MSG_ACCEPTED);
			msg_add_u32(&m, nsessions);
			worker_send(&m);
		}
		if (per_connection) {
			took_one = 1;
			listeners_close();
			return;
		}
	}
}

static void
worker_backend_msg(struct msg_in *in)
{
	struct session	*s;
	uint64_t	 id;
	uint8_t		 st;
	uint16_t	 idx;
	char		 user[MAX_USER + 1], backend[CONF_MAX_HOSTNAME + 16];
	char		 host[CONF_MAX_HOSTNAME];

	id = msg_get_u64(in);
	st = msg_get_u8(in);
	msg_get_str(in, user, sizeof(user));
	msg_get_str(in, backend, sizeof(backend));
	idx = msg_get_u16(in);
	msg_get_str(in, host, sizeof(host));
	if (msg_end(in) == -1 || st > BACKEND_TEMPFAIL ||
	    (st == BACKEND_OK) != (in->fd != -1)) {
		fatalx("worker: malformed backend message");
	}
	if ((s = slot_find(id)) == NULL) {
		if (in->fd != -1) {
			close(in->fd);
		}
		in->fd = -1;
		return;
	}
	session_backend_msg(s, (enum backend_status)st, user, backend, idx,
	    host, in->fd);
	in->fd = -1;
	secure_zero(user, sizeof(user));
}

/* Every pbsd alive-interval: logged-in sessions are still there. */
static void
worker_alive(struct ev_timer *t)
{
	size_t	i;

	for (i = 0; i < nslots; i++) {
		if (slots[i] != NULL && slots[i]->phase == PH_RELAY &&
		    !slots[i]->closed) {
			session_event_msg(slots[i], MSG_SESSION_ALIVE);
		}
	}
	ev_timer_add(t, (uint64_t)bconf->pbsd_alive * 1000);
}

static void
worker_drain(void)
{
	draining = 1;
	listeners_close();
}

static void
worker_parent_io(struct ev_io *io, uint32_t revents)
{
	struct msg_in	*in;
	int		 rv;

	(void)io;
	if ((revents & EPOLLOUT) && chan_flush(&parent_chan) == -1) {
		fatal("worker: parent channel");
	}
	if ((in = malloc(sizeof(*in))) == NULL) {
		fatal("malloc");
	}
	while ((rv = chan_recv(&parent_chan, in)) == 1) {
		switch (in->type) {
		case MSG_BACKEND:
			worker_backend_msg(in);
			break;
		case MSG_DRAIN:
			worker_drain();
			break;
		case MSG_KH_CHANNEL:
			if (in->fd == -1) {
				fatalx("worker: kh-channel without fd");
			}
			tlsctx_keyholder_channel(in->fd);
			in->fd = -1;
			break;
		default:
			fatalx("worker: unexpected %s", msg_type_name(in->type));
		}
		if (in->fd != -1) {
			close(in->fd);
		}
	}
	free(in);
	if (rv == -1) {
		/* The parent is gone: nobody can serve new logins. */
		exit(0);
	}
	ev_io_events(&parent_io, chan_pending(&parent_chan) ?
	    EPOLLIN | EPOLLOUT : EPOLLIN);
}

void
worker_main(unsigned index, int slot)
{
	size_t	i;
	int	on = 1;

	worker_index = index;
	worker_slot = slot;
	worker_pid = getpid();
	if ((sb = sb_attach(FD_SCOREBOARD)) == NULL) {
		fatal("scoreboard");
	}
	close(FD_SCOREBOARD);
	tlsctx_init();
	worker_capconf_init();
	child_sandbox(ROLE_WORKER);
	ev_timer_init(&alive_timer, worker_alive, NULL);
	per_connection = bconf->isolation == ISOLATION_PER_CONNECTION;
	ev_init();
	ev_set_post_hook(worker_post);
	ev_io_set(&parent_io, FD_PARENT, EPOLLIN, worker_parent_io, NULL);
	nlisteners = bconf->nlisteners;
	for (i = 0; i < nlisteners; i++) {
		listeners[i].fd = FD_LISTEN_BASE + (int)i;
		listeners[i].lc = &bconf->listeners[i];
		/* Set once on the listener, TCP_NODELAY is inherited by
		 * every accepted socket: no setsockopt() per connection. */
		listeners[i].nodelay = setsockopt(listeners[i].fd,
		    IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0;
		ev_io_set(&listeners[i].io, listeners[i].fd,
		    EPOLLIN | EPOLLEXCLUSIVE, worker_accept, &listeners[i]);
	}
	if (bconf->pbsd_socket[0] != '\0') {
		ev_timer_add(&alive_timer, (uint64_t)bconf->pbsd_alive * 1000);
	}
	ev_loop();
	exit(0);
}
