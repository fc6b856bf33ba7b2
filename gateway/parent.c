/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * parent: supervision and message routing.  Starts as root (reads the
 * configuration, binds the listeners, forks the spawner), then runs as the
 * configured user with no capabilities under its own seccomp filter (no
 * fork, exec, open, bind or connect: docs/sandbox.md); children come from
 * the spawner.  It never reads client bytes.  A worker asks for a backend
 * with MSG_LOOKUP; the parent
 * asks lookup, turns the answer (or the default servers, round robin) into
 * a candidate list, asks the dialer to connect, and hands the connected
 * socket to the worker.  Workers are not trusted: a malformed message from
 * one is logged and dropped, and the worker is stopped.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "map.h"
#include "parent.h"
#include "scoreboard.h"
#include "pbsd_proto.h"
#include "penalty.h"
#include "sandbox.h"
#include "tls.h"

#define DRAIN_TIMEOUT_MS	10000
#define RESPAWN_DELAY_MS	1000
#define CRASH_WINDOW_MS		2000

enum req_stage {
	REQ_FREE = 0,
	REQ_LOOKUP,
	REQ_CONNECT,
};

struct req {
	enum req_stage	 stage;
	uint32_t	 seq;
	struct child	*worker;
	struct child	*helper;	/* lookup or dialer asked */
	uint64_t	 session;
	enum proto	 proto;
	char		 user[MAX_USER + 1];
	char		 login_user[MAX_USER + 1];
	/* Candidates sent to the dialer: server index, or 0xffff (map). */
	uint16_t	 cand_idx[CONF_MAX_SERVERS];
	unsigned	 ncand;
	char		 map_host[MAX_HOST + 1];
	int		 client_dest;	/* the client named the backend */
};

/* The configuration of each generation that still has children. */
struct genconf {
	unsigned		 gen;
	struct bailey_conf	*conf;
};

static struct child	**children;
static size_t		  nchildren, capchildren;
static struct req	 *reqs;
static size_t		  nreqs;
static uint32_t		  req_seq;

static struct bailey_conf *conf_cur;
static int		  conffd_cur = -1;
static int		  sbfd = -1;
static struct scoreboard *sb;
static uint8_t		  slot_used[SB_SLOTS];
static unsigned		  gen_cur;
static int		  lfds[CONF_MAX_LISTENERS];
static size_t		  nlfds;
static unsigned		  rr_next[2];
static unsigned		  next_worker_index;
static int		  shutting_down;
static int		  startup_failed;
static const char	 *conf_path;

static int		  pbsd_fd = -1;
static struct genconf	 *genconfs;
static size_t		  ngenconfs;
static struct child	 **graveyard;
static size_t		  ngraveyard;
static struct ev_io	  sig_io;
static struct ev_timer	  drain_timer, respawn_timer, ticket_timer;

/* New session tickets are sealed with a fresh key every 6 hours; a key
 * stays valid for decryption for twice that (TLS_DEF_TICKET_LIFETIME). */
#define TICKET_ROTATE_MS	(6 * 3600 * 1000)

static void
ticket_rotate(struct ev_timer *t)
{
	sb_ticket_rotate(sb);
	ev_timer_add(t, TICKET_ROTATE_MS);
}

static void	parent_child_io(struct ev_io *, uint32_t);
static void	child_send(struct child *, const struct msg_out *, int);
static void	parent_shutdown(void);
static void	pool_check(void);
static void	spawner_gone(int);

/* ---- children table ------------------------------------------------ */

static void
children_add(struct child *c)
{
	if (nchildren == capchildren) {
		capchildren = capchildren ? capchildren * 2 : 16;
		children = reallocarray(children, capchildren,
		    sizeof(*children));
		if (children == NULL) {
			fatal("children");
		}
	}
	children[nchildren++] = c;
	ev_io_set(&c->io, c->chan.fd, EPOLLIN, parent_child_io, c);
}

static struct child *
child_find_role(enum role role)
{
	size_t	i;

	for (i = 0; i < nchildren; i++) {
		if (children[i]->role == role && !children[i]->draining &&
		    children[i]->pid > 0 && children[i]->chan.fd != -1) {
			return children[i];
		}
	}
	return NULL;
}

static int
slot_alloc(void)
{
	int	i;

	for (i = 0; i < SB_SLOTS; i++) {
		if (!slot_used[i]) {
			slot_used[i] = 1;
			__atomic_store_n(&sb->slots[i], 0, __ATOMIC_RELAXED);
			return i;
		}
	}
	return -1;
}

/* The keyholder is needed where a listener speaks TLS. */
static int
keyholder_needed(const struct bailey_conf *c)
{
	size_t	i;

	for (i = 0; c->ncerts > 0 && i < c->nlisteners; i++) {
		if (c->listeners[i].tls != TLS_MODE_NONE) {
			return 1;
		}
	}
	return 0;
}

static struct child *
keyholder_of(unsigned gen)
{
	size_t	i;

	for (i = 0; i < nchildren; i++) {
		if (children[i]->role == ROLE_KEYHOLDER &&
		    children[i]->gen == gen && !children[i]->draining &&
		    children[i]->chan.fd != -1) {
			return children[i];
		}
	}
	return NULL;
}

/*
 * A socketpair between a worker and its generation's keyholder: the
 * keyholder's end goes out now, the worker's end is returned (or -1).
 */
static int
keyholder_pair(unsigned gen)
{
	struct child	*kh = keyholder_of(gen);
	struct msg_out	 m;
	int		 sp[2];

	if (kh == NULL) {
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("keyholder socketpair");
		return -1;
	}
	msg_init(&m, MSG_KH_CLIENT);
	child_send(kh, &m, sp[0]);
	return sp[1];
}

static struct child *
spawn_role(enum role role, unsigned index)
{
	struct child	*c;
	int		 slot = -1, khfd = -1;

	if (role == ROLE_WORKER &&
	    conf_cur->isolation == ISOLATION_SHARED &&
	    (slot = slot_alloc()) == -1) {
		log_warnx("no free scoreboard slot for a worker");
		return NULL;
	}
	if (role == ROLE_WORKER) {
		khfd = keyholder_pair(gen_cur);
	}
	c = spawn_child(role, index, slot, gen_cur, conffd_cur, sbfd, khfd,
	    lfds, nlfds);
	if (c != NULL) {
		children_add(c);
	} else if (slot >= 0) {
		slot_used[slot] = 0;
	}
	return c;
}

/* A new keyholder: every worker of its generation gets a new channel. */
static void
keyholder_respawned(void)
{
	struct msg_out	m;
	size_t		i;
	int		fd;

	for (i = 0; i < nchildren; i++) {
		if (children[i]->role != ROLE_WORKER ||
		    children[i]->gen != gen_cur || children[i]->draining) {
			continue;
		}
		if ((fd = keyholder_pair(gen_cur)) == -1) {
			return;
		}
		msg_init(&m, MSG_KH_CHANNEL);
		child_send(children[i], &m, fd);
	}
}

/* A worker is gone: its connections no longer count. */
static void
slot_release(struct child *c)
{
	if (c->role != ROLE_WORKER) {
		return;
	}
	if (c->slot >= 0) {
		__atomic_store_n(&sb->slots[c->slot], 0, __ATOMIC_RELAXED);
		slot_used[c->slot] = 0;
	}
	if (c->busy) {
		sb_add(&sb->busy, -1);
	}
}

static void
child_send(struct child *c, const struct msg_out *m, int fd)
{
	if (c->chan.fd == -1 || chan_send(&c->chan, m, fd) == -1) {
		log_debug("send to %s %d failed", role_name(c->role),
		    (int)c->pid);
		return;
	}
	if (chan_pending(&c->chan)) {
		ev_io_events(&c->io, EPOLLIN | EPOLLOUT);
	}
}

static void
child_drain(struct child *c)
{
	struct msg_out	m;

	if (c->draining) {
		return;
	}
	c->draining = 1;
	msg_init(&m, MSG_DRAIN);
	child_send(c, &m, -1);
}

/* ---- requests -------------------------------------------------------- */

static struct req *
req_new(void)
{
	size_t	i;

	for (i = 0; i < nreqs; i++) {
		if (reqs[i].stage == REQ_FREE) {
			break;
		}
	}
	if (i == nreqs) {
		if (nreqs >= (1u << 20)) {
			return NULL;
		}
		reqs = reallocarray(reqs, nreqs ? nreqs * 2 : 64,
		    sizeof(*reqs));
		if (reqs == NULL) {
			fatal("reqs");
		}
		memset(reqs + nreqs, 0, (nreqs ? nreqs : 64) * sizeof(*reqs));
		nreqs = nreqs ? nreqs * 2 : 64;
	}
	memset(&reqs[i], 0, sizeof(reqs[i]));
	reqs[i].seq = ++req_seq;
	return &reqs[i];
}

static uint64_t
req_id(const struct req *r)
{
	return ((uint64_t)r->seq << 32) | (uint64_t)(r - reqs);
}

static struct req *
req_find(uint64_t id, enum req_stage stage)
{
	size_t	i = (size_t)(id & 0xffffffffu);

	if (i >= nreqs || reqs[i].stage != stage ||
	    reqs[i].seq != (uint32_t)(id >> 32)) {
		return NULL;
	}
	return &reqs[i];
}

static void
req_free(struct req *r)
{
	secure_zero(r, sizeof(*r));
}

/* The configuration the requesting worker runs with. */
static const struct bailey_conf *
req_conf(const struct req *r)
{
	size_t	i;

	for (i = 0; r->worker != NULL && i < ngenconfs; i++) {
		if (genconfs[i].gen == r->worker->gen) {
			return genconfs[i].conf;
		}
	}
	return conf_cur;
}

/* Ends a request: tells the worker (if still there) and frees it. */
static void
req_finish2(struct req *r, enum backend_status status, const char *backend,
    unsigned cand, int fd)
{
	const struct bailey_conf *c = req_conf(r);
	struct msg_out		  m;
	uint16_t		  idx = 0xffff;
	const char		 *host = "";

	if (cand < r->ncand) {
		idx = r->cand_idx[cand];
		host = idx < c->nservers ? c->servers[idx].host : r->map_host;
	}
	if (r->worker != NULL) {
		msg_init(&m, MSG_BACKEND);
		msg_add_u64(&m, r->session);
		msg_add_u8(&m, (uint8_t)status);
		msg_add_str(&m, r->login_user[0] ? r->login_user : r->user);
		msg_add_str(&m, backend);
		msg_add_u16(&m, idx);
		msg_add_str(&m, host);
		child_send(r->worker, &m, fd);
	} else if (fd != -1) {
		close(fd);
	}
	req_free(r);
}

static void
req_finish(struct req *r, enum backend_status status, const char *backend,
    int fd)
{
	req_finish2(r, status, backend, ~0u, fd);
}

/* ---- routing ---------------------------------------------------------- */

static void
route_connect(struct req *r, const char *host, uint16_t port, int from_map)
{
	const struct bailey_conf *c = req_conf(r);
	struct msg_out		  m;
	struct child		 *dialer;
	unsigned		  n = 0, i, start;
	size_t			  k;

	msg_init(&m, MSG_CONNECT);
	msg_add_u64(&m, req_id(r));
	msg_add_u32(&m, c->timeout_connect * 1000);
	msg_add_u8(&m, (uint8_t)(from_map && (r->client_dest ||
	    dest_policy_maps(&c->policy) == DEST_MAPS_CHECK)));
	if (from_map) {
		msg_add_u8(&m, 1);
		msg_add_str(&m, host);
		msg_add_u16(&m, port ? port : c->backend_port[r->proto]);
		r->cand_idx[0] = 0xffff;
		r->ncand = 1;
		snprintf(r->map_host, sizeof(r->map_host), "%s", host);
	} else {
		for (k = 0; k < c->nservers; k++) {
			if (c->servers[k].proto == r->proto) {
				n++;
			}
		}
		if (n == 0) {
			req_finish(r, BACKEND_NONE, "", -1);
			return;
		}
		msg_add_u8(&m, (uint8_t)n);
		start = rr_next[r->proto]++ % n;
		for (i = 0; i < n; i++) {
			unsigned want = (start + i) % n, seen = 0;

			for (k = 0; k < c->nservers; k++) {
				const struct server_conf *s = &c->servers[k];

				if (s->proto != r->proto) {
					continue;
				}
				if (seen++ == want) {
					msg_add_str(&m, s->host);
					msg_add_u16(&m, s->port);
					r->cand_idx[r->ncand++] = (uint16_t)k;
					break;
				}
			}
		}
	}
	if ((dialer = child_find_role(ROLE_DIALER)) == NULL) {
		req_finish(r, BACKEND_TEMPFAIL, "", -1);
		return;
	}
	r->stage = REQ_CONNECT;
	r->helper = dialer;
	child_send(dialer, &m, -1);
}

static void
on_worker_lookup(struct child *w, struct msg_in *in)
{
	struct msg_out	 m;
	struct req	*r;
	struct child	*lk;
	char		 caddr[CONF_MAX_ADDR], saddr[CONF_MAX_ADDR];
	uint16_t	 cport, sport;
	uint64_t	 session;
	uint8_t		 proto;
	char		 user[MAX_USER + 1];

	session = msg_get_u64(in);
	proto = msg_get_u8(in);
	msg_get_str(in, user, sizeof(user));
	msg_get_str(in, caddr, sizeof(caddr));
	cport = msg_get_u16(in);
	msg_get_str(in, saddr, sizeof(saddr));
	sport = msg_get_u16(in);
	if (msg_end(in) == -1 || proto > PROTO_POP3 ||
	    span_has_ctl(span_from_str(user))) {
		log_warnx("worker %d: bad lookup message; stopping it",
		    (int)w->pid);
		kill(w->pid, SIGTERM);
		return;
	}
	if ((r = req_new()) == NULL) {
		log_warnx("too many pending logins");
		return;
	}
	r->stage = REQ_LOOKUP;
	r->worker = w;
	r->session = session;
	r->proto = (enum proto)proto;
	memcpy(r->user, user, sizeof(user));
	secure_zero(user, sizeof(user));
	if (dest_policy_user_host(&req_conf(r)->policy)) {
		struct dest_target	 t;
		const char		*why = NULL;
		char			 esc[2 * MAX_USER];
		int			 rv;

		rv = dest_parse_client_host(r->user,
		    dest_policy_delim(&req_conf(r)->policy), &t, &why);
		if (rv == 1 && dest_target_allowed(&req_conf(r)->policy, &t,
		    req_conf(r)->backend_port[r->proto], &why) != 1) {
			rv = -1;
		}
		if (rv == -1) {
			log_info("session=%016llx client=%s:%u "
			    "event=policy-refused user=%s reason=\"%s\"",
			    (unsigned long long)session, caddr, cport,
			    log_escape(span_from_str(r->user), esc,
			    sizeof(esc)), why);
			req_finish(r, BACKEND_NONE, "", -1);
			return;
		}
		if (rv == 1) {
			snprintf(r->login_user, sizeof(r->login_user), "%s",
			    t.user);
			r->client_dest = 1;
			route_connect(r, t.host.text, t.port, 1);
			return;
		}
	}
	if (req_conf(r)->nmaps == 0) {
		route_connect(r, NULL, 0, 0);
		return;
	}
	if ((lk = child_find_role(ROLE_LOOKUP)) == NULL) {
		req_finish(r, BACKEND_TEMPFAIL, "", -1);
		return;
	}
	r->helper = lk;
	msg_init(&m, MSG_LOOKUP);
	msg_add_u64(&m, req_id(r));
	msg_add_u8(&m, proto);
	msg_add_str(&m, r->user);
	msg_add_str(&m, caddr);
	msg_add_u16(&m, cport);
	msg_add_str(&m, saddr);
	msg_add_u16(&m, sport);
	child_send(lk, &m, -1);
}

static void
on_lookup_result(struct child *c, struct msg_in *in)
{
	struct req	*r;
	uint64_t	 id;
	uint8_t		 status;
	char		 user[MAX_USER + 1], host[MAX_HOST + 1];
	uint16_t	 port;

	id = msg_get_u64(in);
	status = msg_get_u8(in);
	msg_get_str(in, user, sizeof(user));
	msg_get_str(in, host, sizeof(host));
	port = msg_get_u16(in);
	if (msg_end(in) == -1) {
		fatalx("lookup sent a malformed result");
	}
	if ((r = req_find(id, REQ_LOOKUP)) == NULL || r->helper != c) {
		return;
	}
	switch (status) {
	case LOOKUP_FOUND:
		snprintf(r->login_user, sizeof(r->login_user), "%s", user);
		route_connect(r, host, port, 1);
		break;
	case LOOKUP_NOTFOUND:
		route_connect(r, NULL, 0, 0);
		break;
	default:
		req_finish(r, BACKEND_TEMPFAIL, "", -1);
		break;
	}
}

static void
on_connect_result(struct child *c, struct msg_in *in)
{
	struct req	*r;
	uint64_t	 id;
	uint8_t		 status, cand;
	char		 peer[CONF_MAX_HOSTNAME + 16];

	id = msg_get_u64(in);
	status = msg_get_u8(in);
	cand = msg_get_u8(in);
	msg_get_str(in, peer, sizeof(peer));
	if (msg_end(in) == -1 || (status == CONNECT_OK) != (in->fd != -1)) {
		fatalx("dialer sent a malformed result");
	}
	if ((r = req_find(id, REQ_CONNECT)) == NULL || r->helper != c) {
		if (in->fd != -1) {
			close(in->fd);
		}
		return;
	}
	if (status == CONNECT_OK) {
		req_finish2(r, BACKEND_OK, peer, cand, in->fd);
	} else {
		req_finish(r, BACKEND_UNREACHABLE, peer, -1);
	}
	in->fd = -1;
}

/* Feeds pbsd: only what a worker reports after a backend login. */
static void
on_session_event(struct child *w, struct msg_in *in)
{
	struct sockaddr_storage	 ss;
	char			 user[MAX_USER + 1], caddr[CONF_MAX_ADDR];
	uint16_t		 cport;
	uint8_t			 proto;
	enum pbsd_event		 ev;

	(void)msg_get_u64(in);
	proto = msg_get_u8(in);
	msg_get_str(in, user, sizeof(user));
	msg_get_str(in, caddr, sizeof(caddr));
	cport = msg_get_u16(in);
	if (msg_end(in) == -1 || proto > PROTO_POP3) {
		log_warnx("worker %d: bad %s message", (int)w->pid,
		    msg_type_name(in->type));
		return;
	}
	if (conf_cur->pbsd_socket[0] == '\0') {
		return;
	}
	if (sockaddr_parse(caddr, cport, &ss, NULL) == -1) {
		return;
	}
	ev = in->type == MSG_AUTH_OK ? PBSD_EV_LOGIN_OK :
	    in->type == MSG_SESSION_ALIVE ? PBSD_EV_SESSION_ALIVE :
	    PBSD_EV_LOGOUT;
	if (pbsd_fd == -1 && (pbsd_fd = pbsd_client_socket()) == -1) {
		log_warn("pbsd socket");
		return;
	}
	if (pbsd_send(pbsd_fd, conf_cur->pbsd_socket, ev,
	    (struct sockaddr *)&ss, user, proto_name(proto)) == -1) {
		log_warn("pbsd %s: event for %s lost", conf_cur->pbsd_socket,
		    caddr);
	}
}

void
parent_dispatch(struct child *c, struct msg_in *in)
{
	switch (c->role) {
	case ROLE_WORKER:
		if (in->fd != -1) {
			log_warnx("worker %d sent an fd; stopping it",
			    (int)c->pid);
			kill(c->pid, SIGTERM);
			return;
		}
		if (in->type == MSG_LOOKUP) {
			on_worker_lookup(c, in);
		} else if (in->type == MSG_AUTH_OK ||
		    in->type == MSG_SESSION_ALIVE ||
		    in->type == MSG_SESSION_END) {
			on_session_event(c, in);
		} else if (in->type == MSG_ACCEPTED) {
			c->sessions = msg_get_u32(in);
			c->busy = 1;
			pool_check();
		} else {
			log_warnx("worker %d: unexpected %s", (int)c->pid,
			    msg_type_name(in->type));
		}
		break;
	case ROLE_LOOKUP:
		if (in->type != MSG_LOOKUP_RESULT || in->fd != -1) {
			fatalx("lookup: unexpected %s", msg_type_name(in->type));
		}
		on_lookup_result(c, in);
		break;
	case ROLE_DIALER:
		if (in->type != MSG_CONNECT_RESULT) {
			fatalx("dialer: unexpected %s", msg_type_name(in->type));
		}
		on_connect_result(c, in);
		break;
	default:
		break;
	}
	if (in->fd != -1) {
		close(in->fd);
		in->fd = -1;
	}
}

static void
parent_child_io(struct ev_io *io, uint32_t revents)
{
	struct child	*c = io->arg;
	struct msg_in	*in;
	int		 rv, k;

	if (revents & EPOLLOUT) {
		if (chan_flush(&c->chan) == 0) {
			ev_io_events(&c->io, EPOLLIN);
		}
	}
	if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		return;
	}
	if ((in = malloc(sizeof(*in))) == NULL) {
		fatal("malloc");
	}
	for (k = 0; k < 64; k++) {
		if ((rv = chan_recv(&c->chan, in)) != 1) {
			break;
		}
		parent_dispatch(c, in);
	}
	free(in);
	if (rv == -1) {
		ev_io_del(&c->io);
		chan_close(&c->chan);
	}
}

/* ---- lifecycle ------------------------------------------------------- */

static void
genconf_add(unsigned gen, struct bailey_conf *c)
{
	genconfs = reallocarray(genconfs, ngenconfs + 1, sizeof(*genconfs));
	if (genconfs == NULL) {
		fatal("genconfs");
	}
	genconfs[ngenconfs].gen = gen;
	genconfs[ngenconfs].conf = c;
	ngenconfs++;
}

/* Frees the configurations of generations without children. */
static void
genconf_gc(void)
{
	size_t	i, k;
	int	used;

	for (i = 0; i < ngenconfs; i++) {
		if (genconfs[i].gen == gen_cur) {
			continue;
		}
		used = 0;
		for (k = 0; k < nchildren; k++) {
			used |= children[k]->gen == genconfs[i].gen;
		}
		if (!used) {
			free(genconfs[i].conf);
			genconfs[i--] = genconfs[--ngenconfs];
		}
	}
}

static void
spawn_generation(void)
{
	unsigned	i;

	if (keyholder_needed(conf_cur)) {
		spawn_role(ROLE_KEYHOLDER, 0);
	}
	if (conf_cur->nmaps > 0) {
		spawn_role(ROLE_LOOKUP, 0);
	}
	spawn_role(ROLE_DIALER, 0);
	for (i = 0; i < conf_cur->workers; i++) {
		spawn_role(ROLE_WORKER, next_worker_index++);
	}
}

/* Per-connection mode: keep `workers` idle workers waiting. */
static void
pool_check(void)
{
	size_t		i;
	unsigned	idle = 0, busy = 0;

	if (shutting_down) {
		return;
	}
	for (i = 0; i < nchildren; i++) {
		struct child *c = children[i];

		if (c->role != ROLE_WORKER || c->draining ||
		    c->gen != gen_cur) {
			continue;
		}
		if (c->busy) {
			busy++;
		} else {
			idle++;
		}
	}
	if (conf_cur->isolation != ISOLATION_PER_CONNECTION) {
		return;
	}
	/* Idle workers may exceed the limit: they turn clients away
	 * cleanly (scoreboard) instead of leaving them in the backlog. */
	(void)busy;
	while (idle < conf_cur->workers) {
		if (spawn_role(ROLE_WORKER, next_worker_index++) == NULL) {
			break;
		}
		idle++;
	}
}

/* Reads a configuration memfd from the spawner; fatal on failure. */
static char *
parent_read_conf(int fd, size_t len)
{
	char	*text;

	if ((text = malloc(len + 1)) == NULL) {
		fatal("malloc");
	}
	if (pread(fd, text, len, 0) != (ssize_t)len) {
		fatal("configuration from the spawner");
	}
	text[len] = '\0';
	return text;
}

/*
 * The new configuration: with a spawner, it reads, checks and binds
 * (root) and hands over the text, which the parent parses again (the same
 * trusted text; failing now would be a broken invariant).
 */
static struct bailey_conf *
parent_load_conf(int *conffd_r)
{
	struct bailey_conf	*nc;
	char			*text;
	size_t			 len, i;
	int			 nfds[CONF_MAX_LISTENERS], fd;

	if ((nc = calloc(1, sizeof(*nc))) == NULL) {
		fatal("calloc");
	}
	config_defaults(nc);
	if (spawn_spawner_pid() != -1) {
		if (spawn_conf_reload(&fd, &len) == -1) {
			free(nc);
			return NULL;
		}
		text = parent_read_conf(fd, len);
		if (config_parse(nc, conf_path, text, len) == -1) {
			fatalx("the spawner's configuration does not parse");
		}
		free(text);
		*conffd_r = fd;
		return nc;
	}
	log_info("reloading %s", conf_path);
	if (config_read_file(conf_path, &text, &len) == -1) {
		free(nc);
		return NULL;
	}
	if (config_parse(nc, conf_path, text, len) == -1 ||
	    conf_check(nc) == -1 ||
	    conf_bind_listeners(nc, conf_cur, lfds, nfds) == -1) {
		free(text);
		free(nc);
		return NULL;
	}
	for (i = 0; i < nlfds; i++) {
		close(lfds[i]);
	}
	memcpy(lfds, nfds, sizeof(nfds[0]) * nc->nlisteners);
	nlfds = nc->nlisteners;
	*conffd_r = conf_memfd(text, len);
	free(text);
	return nc;
}

static void
parent_reload(void)
{
	struct bailey_conf	*nc;
	size_t			 i;
	int			 fd;

	if ((nc = parent_load_conf(&fd)) == NULL) {
		log_warnx("reload failed; keeping the running configuration");
		return;
	}
	for (i = 0; i < nchildren; i++) {
		child_drain(children[i]);
	}
	close(conffd_cur);
	conffd_cur = fd;
	conf_cur = nc;
	bconf = nc;
	gen_cur++;
	genconf_add(gen_cur, nc);
	genconf_gc();
	spawn_generation();
	log_info("configuration generation %u running", gen_cur);
}

static void
child_exit_log(struct child *c, int status)
{
	const char	*abbrev;
	int		 sig;

	if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		abbrev = sigabbrev_np(sig);
		log_warnx("%s %u (pid %d) killed by signal %d (SIG%s, %s)%s",
		    role_name(c->role), c->index, (int)c->pid, sig,
		    abbrev != NULL ? abbrev : "?", strsignal(sig),
		    sig == SIGSYS ? ": a system call its seccomp filter "
		    "forbids" : "");
	} else if (WEXITSTATUS(status) != 0 && !c->draining) {
		log_warnx("%s %u (pid %d) exited with status %d",
		    role_name(c->role), c->index, (int)c->pid,
		    WEXITSTATUS(status));
	} else {
		log_debug("%s %u (pid %d) exited", role_name(c->role),
		    c->index, (int)c->pid);
	}
}

void
parent_child_gone(struct child *c)
{
	size_t	i;

	for (i = 0; i < nreqs; i++) {
		struct req *r = &reqs[i];

		if (r->stage == REQ_FREE) {
			continue;
		}
		if (r->worker == c) {
			r->worker = NULL;
		}
		if (r->helper == c) {
			req_finish(r, BACKEND_TEMPFAIL, "", -1);
		}
	}
}

static int
needs_respawn(const struct child *c)
{
	if (shutting_down || c->draining || c->gen != gen_cur) {
		return 0;
	}
	if (c->role == ROLE_WORKER &&
	    conf_cur->isolation == ISOLATION_PER_CONNECTION) {
		return 0;	/* pool_check replaces it */
	}
	return 1;
}

static void
respawn_due(struct ev_timer *t)
{
	(void)t;
	if (shutting_down) {
		return;
	}
	if (conf_cur->nmaps > 0 && child_find_role(ROLE_LOOKUP) == NULL) {
		spawn_role(ROLE_LOOKUP, 0);
	}
	if (child_find_role(ROLE_DIALER) == NULL) {
		spawn_role(ROLE_DIALER, 0);
	}
	if (keyholder_needed(conf_cur) && keyholder_of(gen_cur) == NULL &&
	    spawn_role(ROLE_KEYHOLDER, 0) != NULL) {
		keyholder_respawned();
	}
}

static void
reap_children(void)
{
	pid_t		 pid;
	int		 status;
	size_t		 i;
	struct child	*c;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < nchildren; i++) {
			if (children[i]->pid == pid) {
				break;
			}
		}
		if (i == nchildren) {
			if (pid == spawn_spawner_pid()) {
				spawner_gone(status);
			}
			continue;
		}
		c = children[i];
		children[i] = children[--nchildren];
		child_exit_log(c, status);
		slot_release(c);
		/* A keyholder that cannot load the keys at start (a wrong
		 * passphrase...) would only fail again: stop, clearly. */
		if (c->role == ROLE_KEYHOLDER && c->gen == 0 &&
		    !shutting_down && WIFEXITED(status) &&
		    WEXITSTATUS(status) != 0 &&
		    ev_clock_ms() - c->started < CRASH_WINDOW_MS) {
			log_warnx("the keyholder could not load the TLS keys "
			    "(see above); stopping");
			startup_failed = 1;
			parent_shutdown();
		}
		if (c->role == ROLE_WORKER && WIFSIGNALED(status)) {
			pen_forget_conns(sb);
		}
		ev_io_del(&c->io);
		chan_close(&c->chan);
		parent_child_gone(c);
		if (needs_respawn(c)) {
			if (c->role == ROLE_WORKER) {
				if (ev_clock_ms() - c->started <
				    CRASH_WINDOW_MS) {
					usleep(RESPAWN_DELAY_MS * 100);
				}
				spawn_role(ROLE_WORKER, c->index);
			} else if (!ev_timer_pending(&respawn_timer)) {
				ev_timer_add(&respawn_timer,
				    ev_clock_ms() - c->started <
				    CRASH_WINDOW_MS ? RESPAWN_DELAY_MS : 0);
			}
		}
		/* An event for c may still be in this epoll batch. */
		graveyard = reallocarray(graveyard, ngraveyard + 1,
		    sizeof(*graveyard));
		if (graveyard == NULL) {
			fatal("graveyard");
		}
		graveyard[ngraveyard++] = c;
	}
	pool_check();
	genconf_gc();
	if (shutting_down && nchildren == 0) {
		ev_break();
	}
}

/* Without the spawner no child can be made: stop (the children drain). */
static void
spawner_gone(int status)
{
	spawn_spawner_close();
	if (shutting_down) {
		log_debug("spawner (pid %d) exited", (int)spawn_spawner_pid());
		return;
	}
	if (WIFSIGNALED(status)) {
		log_warnx("spawner (pid %d) killed by signal %d (%s); stopping",
		    (int)spawn_spawner_pid(), WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	} else {
		log_warnx("spawner (pid %d) exited with status %d; stopping",
		    (int)spawn_spawner_pid(), WEXITSTATUS(status));
	}
	startup_failed = 1;
	parent_shutdown();
}

static void
parent_post(void)
{
	while (ngraveyard > 0) {
		free(graveyard[--ngraveyard]);
	}
}

static void
drain_expired(struct ev_timer *t)
{
	size_t	i;

	(void)t;
	log_warnx("drain timeout: stopping %zu children", nchildren);
	for (i = 0; i < nchildren; i++) {
		kill(children[i]->pid, SIGKILL);
	}
}

static void
parent_shutdown(void)
{
	size_t	i;

	if (shutting_down) {
		drain_expired(NULL);
		return;
	}
	log_info("shutting down");
	shutting_down = 1;
	for (i = 0; i < nlfds; i++) {
		close(lfds[i]);
		lfds[i] = -1;
	}
	/* Its copies of the listeners go with it; nothing is spawned now. */
	spawn_spawner_close();
	for (i = 0; i < nchildren; i++) {
		child_drain(children[i]);
	}
	ev_timer_add(&drain_timer, DRAIN_TIMEOUT_MS);
	if (nchildren == 0) {
		ev_break();
	}
}

static void
parent_signal(struct ev_io *io, uint32_t revents)
{
	struct signalfd_siginfo	si;

	(void)revents;
	while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap_children();
			break;
		case SIGHUP:
			if (!shutting_down) {
				parent_reload();
			}
			break;
		case SIGTERM:
		case SIGINT:
			parent_shutdown();
			break;
		default:
			break;
		}
	}
}

/*
 * The spawner takes the privileges and the listeners; the parent drops
 * to the configured user (when root), loses every capability and locks
 * itself in (SB_SUPERVISOR: no fork, exec, open, bind, connect).  Not
 * chrooted: pbsd is reached by socket path (sendto), and without open(2)
 * a chroot would add little (docs/sandbox.md).
 */
static void
parent_sandbox(int sfd)
{
	struct sandbox_opts	o;
	int			keep[5], chfd;
	size_t			i;
	pid_t			pid;

	pid = spawner_start(conf_path, conf_cur, conffd_cur, sbfd, lfds,
	    nlfds, &chfd);
	spawn_use_spawner(chfd, pid);
	log_debug("spawner pid %d", (int)pid);
	for (i = 0; i < nlfds; i++) {
		close(lfds[i]);
		lfds[i] = -1;
	}
	nlfds = 0;
	/* Made now: socket(2) is not in the parent's filter. */
	if ((pbsd_fd = pbsd_client_socket()) == -1) {
		fatal("pbsd socket");
	}
	keep[0] = sfd;
	keep[1] = chfd;
	keep[2] = conffd_cur;
	keep[3] = sbfd;
	keep[4] = pbsd_fd;
	memset(&o, 0, sizeof(o));
	o.keep_fds = keep;
	o.nkeep = sizeof(keep) / sizeof(keep[0]);
	o.keep_syslog = 1;
	o.debug = conf_cur->sandbox == SANDBOX_DEBUG;
	if (getuid() == 0 || geteuid() == 0) {
		o.user = conf_cur->user;
	}
	(void)sandbox_enter(SB_SUPERVISOR, &o);
}

static void
raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
parent_main(const char *conffile, int debug, int noaction, int verbose)
{
	char		*text;
	size_t		 len;
	sigset_t	 set;
	int		 sfd, ok;

	conf_path = conffile;
	log_init("bailey", 1, 0, verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (config_read_file(conffile, &text, &len) == -1) {
		return 1;
	}
	if ((conf_cur = calloc(1, sizeof(*conf_cur))) == NULL) {
		fatal("calloc");
	}
	config_defaults(conf_cur);
	ok = config_parse(conf_cur, conffile, text, len) == 0 &&
	    conf_check(conf_cur) == 0;
	if (!ok || noaction) {
		free(text);
		free(conf_cur);
		conf_cur = NULL;
		if (ok) {
			printf("configuration OK\n");
		}
		return ok ? 0 : 1;
	}
	bconf = conf_cur;
	log_init("bailey", debug || conf_cur->log_stderr, conf_cur->log_syslog,
	    verbose ? LOG_LVL_DEBUG : conf_cur->log_level);
	log_procinit("parent");
	if (!debug && daemon(0, 0) == -1) {
		fatal("daemon");
	}
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		fatal("signalfd");
	}
	if (conf_bind_listeners(conf_cur, NULL, NULL, lfds) == -1) {
		fatalx("cannot bind the listeners");
	}
	nlfds = conf_cur->nlisteners;
	conffd_cur = conf_memfd(text, len);
	free(text);
	sbfd = sb_create(&sb);
	sb_ticket_rotate(sb);
	genconf_add(gen_cur, conf_cur);
	spawn_set_args(debug, verbose);
	if (conf_cur->sandbox != SANDBOX_OFF) {
		parent_sandbox(sfd);
	} else {
		log_warnx("sandbox off: the parent stays root and unconfined "
		    "and forks its children itself");
	}
	ev_init();
	ev_set_post_hook(parent_post);
	ev_timer_init(&drain_timer, drain_expired, NULL);
	ev_timer_init(&respawn_timer, respawn_due, NULL);
	ev_timer_init(&ticket_timer, ticket_rotate, NULL);
	ev_timer_add(&ticket_timer, TICKET_ROTATE_MS);
	ev_io_set(&sig_io, sfd, EPOLLIN, parent_signal, NULL);
	spawn_generation();
	log_info("bailey %s ready: %zu listeners, %u workers, isolation %s",
	    BAILEY_VERSION, conf_cur->nlisteners, conf_cur->workers,
	    conf_cur->isolation == ISOLATION_SHARED ? "shared" :
	    "per-connection");
	ev_loop();
	log_info("stopped");
	return startup_failed ? 1 : 0;
}
