/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_remote: the remote-gateway listener and forwarder inside pbsd.
 * pbsd_remote_open() runs as root before the privilege drop (key files,
 * bind, the forwarder's first socket); the rest runs as pbsd's user under
 * its seccomp filter (epoll_ctl/epoll_wait, accept4, recvfrom, read, send,
 * getrandom; and socket(AF_INET*, SOCK_STREAM) + connect to reconnect a TCP
 * forward).  Peers are trusted only after pbsd_auth_verify() and
 * pbsd_event_decode() accepted what they sent; remote_allow is a second
 * fence, checked before any byte is read from a peer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "pbsd_auth.h"
#include "pbsd_remote.h"

/* epoll data: kind in the high half, index in the low half. */
#define PBSD_RK_LISTEN		1ULL
#define PBSD_RK_CONN		2ULL
#define PBSD_RK_FWD		3ULL
#define PBSD_RK(kind, i)	((kind) << 32 | (uint64_t)(i))
#define PBSD_RK_MAX_EVENTS	64
#define PBSD_RK_CONN_BUF	(PBSD_AUTH_FRAME_HDR + PBSD_AUTH_MAX_LEN)

static int	pbsd_remote_inet_socket;	/* read by the sandbox */

int
pbsd_remote_needs_inet_socket(void)
{
	return pbsd_remote_inet_socket;
}

/*
 * As root: regular file, owned by root or owner_uid, mode 0?00.  O_NONBLOCK
 * so that a FIFO at the path is refused by the S_ISREG check instead of
 * blocking start-up in open() (a regular file ignores the flag).  Symbolic
 * links are followed: secret stores link key files into place, and the
 * checks apply to the file itself.
 */
int
pbsd_remote_key_load(const char *path, uid_t owner_uid,
    struct pbsd_auth_key *k, const char **errstr_r)
{
	static char	 msg[160];
	struct buf	 b;
	struct stat	 st;
	int		 fd, rv = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		*errstr_r = strerror(errno);
		return -1;
	}
	buf_init(&b, PBSD_REMOTE_KEYFILE_MAX);
	if (fstat(fd, &st) == -1) {
		*errstr_r = strerror(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*errstr_r = "not a regular file";
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != owner_uid) {
		(void)snprintf(msg, sizeof(msg), "owned by uid %ld: must be "
		    "owned by root or pbsd's user (uid %ld)", (long)st.st_uid,
		    (long)owner_uid);
		*errstr_r = msg;
		goto out;
	}
	if (st.st_mode & 077) {
		(void)snprintf(msg, sizeof(msg), "mode %04o is group or world "
		    "accessible: must be 0600 or 0400",
		    (unsigned int)(st.st_mode & 07777));
		*errstr_r = msg;
		goto out;
	}
	if (buf_read_all(&b, fd, 512) == -1) {
		*errstr_r = errno == EFBIG ? "key file too large" :
		    strerror(errno);
		goto out;
	}
	rv = pbsd_auth_key_parse(buf_span(&b), k, errstr_r);
out:
	buf_release(&b);
	close(fd);
	return rv;
}

void
pbsd_remote_init(struct pbsd_remote *r)
{
	size_t	i;

	memset(r, 0, sizeof(*r));
	r->r_epfd = -1;
	r->r_fwd_fd = -1;
	for (i = 0; i < PBSD_REMOTE_MAX_LISTEN; i++) {
		r->r_lfd[i] = -1;
	}
}

static socklen_t
pbsd_remote_sockaddr(const struct pbsd_endpoint *ep,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (ep->ep_family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(ep->ep_port);
		memcpy(&sin->sin_addr, ep->ep_addr, 4);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(ep->ep_port);
	memcpy(&sin6->sin6_addr, ep->ep_addr, 16);
	return sizeof(*sin6);
}

static void
pbsd_remote_fmt(const struct sockaddr_storage *ss, char *dst, size_t dstsz)
{
	char		 a[INET6_ADDRSTRLEN];
	const void	*src;
	unsigned int	 port;

	if (ss->ss_family == AF_INET) {
		src = &((const struct sockaddr_in *)ss)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		src = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	} else {
		(void)snprintf(dst, dstsz, "?");
		return;
	}
	if (inet_ntop(ss->ss_family, src, a, sizeof(a)) == NULL) {
		(void)snprintf(dst, dstsz, "?");
		return;
	}
	(void)snprintf(dst, dstsz, ss->ss_family == AF_INET6 ? "[%s]:%u" :
	    "%s:%u", a, port);
}

static void
pbsd_remote_ep_fmt(const struct pbsd_endpoint *ep, char *dst, size_t dstsz)
{
	struct sockaddr_storage	ss;

	(void)pbsd_remote_sockaddr(ep, &ss);
	pbsd_remote_fmt(&ss, dst, dstsz);
}

/* op: EPOLL_CTL_ADD or EPOLL_CTL_MOD. */
static void
pbsd_remote_ep_ctl(struct pbsd_remote *r, int op, int fd, uint32_t events,
    uint64_t tag)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = tag;
	if (epoll_ctl(r->r_epfd, op, fd, &ev) == -1) {
		fatal("epoll_ctl");
	}
}

static int
pbsd_remote_bind(const struct pbsd_endpoint *ep)
{
	struct sockaddr_storage	ss;
	socklen_t		sl = pbsd_remote_sockaddr(ep, &ss);
	char			name[80];
	int			fd, one = 1, sz = 1 << 20;

	pbsd_remote_ep_fmt(ep, name, sizeof(name));
	fd = socket(ep->ep_family, (ep->ep_proto == PBSD_EP_TCP ?
	    SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		fatal("remote_listen %s: socket", name);
	}
	if (ep->ep_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1) {
		fatal("remote_listen %s: IPV6_V6ONLY", name);
	}
	if (ep->ep_proto == PBSD_EP_TCP) {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
	} else {
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1) {
		fatal("remote_listen %s: bind", name);
	}
	if (ep->ep_proto == PBSD_EP_TCP && listen(fd, 16) == -1) {
		fatal("remote_listen %s: listen", name);
	}
	log_info("remote: listening on %s:%s",
	    ep->ep_proto == PBSD_EP_TCP ? "tcp" : "udp", name);
	return fd;
}

/* A new nonblocking socket towards the forward target; -1 on failure. */
static int
pbsd_remote_fwd_connect(struct pbsd_remote *r)
{
	const struct pbsd_endpoint	*ep = &r->r_conf->rc_forward;
	struct sockaddr_storage		 ss;
	socklen_t			 sl = pbsd_remote_sockaddr(ep, &ss);
	int				 fd, tcp = ep->ep_proto == PBSD_EP_TCP;

	fd = socket(ep->ep_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		return -1;
	}
	r->r_fwd_connecting = 0;
	if (connect(fd, (struct sockaddr *)&ss, sl) == -1) {
		if (!tcp || errno != EINPROGRESS) {
			close(fd);
			return -1;
		}
		r->r_fwd_connecting = 1;
	}
	r->r_fwd_fd = fd;
	r->r_stats.rs_fwd_connects++;
	if (tcp) {
		pbsd_remote_ep_ctl(r, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLOUT,
		    PBSD_RK(PBSD_RK_FWD, 0));
	}
	return 0;
}

static void
pbsd_remote_open_verifier(struct pbsd_remote *r, uid_t owner_uid)
{
	const struct pbsd_remote_conf	*c = r->r_conf;
	struct pbsd_auth_verifier	*v = &r->r_verifier;
	const char			*errstr;
	uint64_t			 seed;

	if (pbsd_remote_key_load(c->rc_key, owner_uid, &v->av_keys[0],
	    &errstr) == -1) {
		fatalx("remote_key %s: %s", c->rc_key, errstr);
	}
	v->av_nkeys = 1;
	if (c->rc_key_previous[0] != '\0') {
		if (pbsd_remote_key_load(c->rc_key_previous, owner_uid,
		    &v->av_keys[1], &errstr) == -1) {
			fatalx("remote_key_previous %s: %s",
			    c->rc_key_previous, errstr);
		}
		if (v->av_keys[1].ak_id == v->av_keys[0].ak_id) {
			fatalx("remote_key and remote_key_previous have the "
			    "same key id");
		}
		v->av_nkeys = 2;
	}
	v->av_window = c->rc_window;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) {
		fatal("getrandom");
	}
	if (pbsd_nonce_init(&v->av_nonces, c->rc_nonces, seed) == -1) {
		fatalx("cannot allocate the nonce cache (%u)", c->rc_nonces);
	}
	if ((r->r_conns = calloc(c->rc_max_conns, sizeof(*r->r_conns))) ==
	    NULL) {
		fatal("calloc");
	}
}

void
pbsd_remote_open(struct pbsd_remote *r, const struct pbsd_remote_conf *c,
    uid_t owner_uid, pbsd_remote_apply_fn *apply, void *arg)
{
	const char	*errstr;
	char		 name[80];
	size_t		 i;

	pbsd_remote_init(r);
	r->r_conf = c;
	r->r_apply = apply;
	r->r_arg = arg;
	if (c->rc_nlisten == 0 && c->rc_forward.ep_proto == PBSD_EP_NONE) {
		return;
	}
	if ((r->r_epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		fatal("epoll_create1");
	}
	if (c->rc_nlisten > 0) {
		pbsd_remote_open_verifier(r, owner_uid);
		for (i = 0; i < c->rc_max_conns; i++) {
			r->r_conns[i].rcn_fd = -1;
		}
	}
	for (i = 0; i < c->rc_nlisten; i++) {
		r->r_lfd[i] = pbsd_remote_bind(&c->rc_listen[i]);
		r->r_lproto[i] = c->rc_listen[i].ep_proto;
		pbsd_remote_ep_ctl(r, EPOLL_CTL_ADD, r->r_lfd[i], EPOLLIN,
		    PBSD_RK(PBSD_RK_LISTEN, i));
		r->r_nlisten++;
	}
	if (c->rc_forward.ep_proto == PBSD_EP_NONE) {
		return;
	}
	if (pbsd_remote_key_load(c->rc_forward_key, owner_uid,
	    &r->r_fwd_key, &errstr) == -1) {
		fatalx("forward_key %s: %s", c->rc_forward_key, errstr);
	}
	buf_init(&r->r_fwd_out, PBSD_REMOTE_FWD_MAX);
	r->r_fwd_backoff = PBSD_REMOTE_RETRY_MIN;
	pbsd_remote_ep_fmt(&c->rc_forward, name, sizeof(name));
	if (pbsd_remote_fwd_connect(r) == -1) {
		if (c->rc_forward.ep_proto == PBSD_EP_UDP) {
			fatal("forward udp:%s", name);
		}
		log_warn("forward tcp:%s: connect (will retry)", name);
		r->r_fwd_retry = 1;
	}
	pbsd_remote_inet_socket = c->rc_forward.ep_proto == PBSD_EP_TCP;
	log_info("remote: forwarding events to %s:%s (key id %08x)",
	    c->rc_forward.ep_proto == PBSD_EP_TCP ? "tcp" : "udp", name,
	    (unsigned int)r->r_fwd_key.ak_id);
}

int
pbsd_remote_fd(const struct pbsd_remote *r)
{
	return r->r_epfd;
}

static int
pbsd_remote_allowed(const struct pbsd_remote *r,
    const struct sockaddr_storage *ss)
{
	const uint8_t	*a;
	size_t		 i;

	if (r->r_conf->rc_nallow == 0) {
		return 1;
	}
	if (ss->ss_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)ss)->
		    sin_addr;
	} else if (ss->ss_family == AF_INET6) {
		a = (const uint8_t *)&((const struct sockaddr_in6 *)ss)->
		    sin6_addr;
	} else {
		return 0;
	}
	for (i = 0; i < r->r_conf->rc_nallow; i++) {
		if (pbsd_netmask_match(&r->r_conf->rc_allow[i],
		    ss->ss_family, a)) {
			return 1;
		}
	}
	return 0;
}

/* One log line per second at most: drops are counted, not all logged. */
static void
pbsd_remote_log_drop(struct pbsd_remote *r, int64_t now_ms,
    const char *peer, const char *why)
{
	if (now_ms / 1000 == r->r_last_log) {
		return;
	}
	r->r_last_log = now_ms / 1000;
	log_warnx("remote: %s: dropped: %s", peer, why);
}

/*
 * UNTRUSTED: one envelope, bounded by PBSD_AUTH_MAX_LEN.  Returns 0 if it
 * passed pbsd_auth_verify() (the peer holds a key), else -1.
 */
static int
pbsd_remote_envelope(struct pbsd_remote *r, struct span env,
    const char *peer, int64_t now_ms)
{
	struct pbsd_auth_msg	 msg;
	struct pbsd_record	 rec;
	const char		*errstr;
	int			 drop;

	r->r_stats.rs_received++;
	if (pbsd_auth_verify(&r->r_verifier, env, now_ms / 1000, &msg,
	    &drop) == -1) {
		r->r_stats.rs_drops[drop]++;
		pbsd_remote_log_drop(r, now_ms, peer,
		    pbsd_auth_drop_name(drop));
		return -1;
	}
	if (pbsd_event_decode(msg.am_record.p, msg.am_record.len, &rec,
	    &errstr) == -1) {
		/* Signed by a key holder: a bug there, not an attack. */
		r->r_stats.rs_drops[PBSD_AUTH_MALFORMED]++;
		pbsd_remote_log_drop(r, now_ms, peer, errstr);
		return 0;
	}
	r->r_stats.rs_accepted++;
	log_debug("remote: event from %s (key id %08x)", peer,
	    (unsigned int)msg.am_key_id);
	r->r_apply(r->r_arg, &rec, now_ms / 1000);
	secure_zero(&rec, sizeof(rec));
	return 0;
}

/* UNTRUSTED: datagrams, each bounded by PBSD_AUTH_MAX_LEN (+1). */
static void
pbsd_remote_udp(struct pbsd_remote *r, int fd, int64_t now_ms)
{
	uint8_t			data[PBSD_AUTH_MAX_LEN + 1];
	struct sockaddr_storage	ss;
	socklen_t		sl;
	char			peer[80];
	ssize_t			n;
	int			i;

	for (i = 0; i < PBSD_REMOTE_BATCH; i++) {
		sl = sizeof(ss);
		n = recvfrom(fd, data, sizeof(data), MSG_DONTWAIT | MSG_TRUNC,
		    (struct sockaddr *)&ss, &sl);
		if (n == -1) {
			break;
		}
		pbsd_remote_fmt(&ss, peer, sizeof(peer));
		if (!pbsd_remote_allowed(r, &ss)) {
			r->r_stats.rs_denied++;
			pbsd_remote_log_drop(r, now_ms, peer, "not in "
			    "remote_allow");
			continue;
		}
		if ((size_t)n > PBSD_AUTH_MAX_LEN) {
			r->r_stats.rs_received++;
			r->r_stats.rs_drops[PBSD_AUTH_MALFORMED]++;
			pbsd_remote_log_drop(r, now_ms, peer, "too long");
			continue;
		}
		(void)pbsd_remote_envelope(r, (struct span){ data, (size_t)n },
		    peer, now_ms);
	}
}

static void
pbsd_remote_conn_close(struct pbsd_remote *r, size_t i)
{
	struct pbsd_remote_conn	*c = &r->r_conns[i];

	if (c->rcn_fd == -1) {
		return;
	}
	(void)epoll_ctl(r->r_epfd, EPOLL_CTL_DEL, c->rcn_fd, NULL);
	close(c->rcn_fd);
	c->rcn_fd = -1;
	buf_release(&c->rcn_in);
	r->r_nconns--;
}

/*
 * A free connection slot; with none free, the slot of the oldest connection
 * that has not yet delivered a verified envelope, which is closed: a peer
 * without the key cannot keep a key holder out by holding every slot.
 * SIZE_MAX if every slot holds a verified peer.
 */
static size_t
pbsd_remote_slot(struct pbsd_remote *r, int64_t now_ms)
{
	const struct pbsd_remote_conn	*c;
	size_t				 i, victim = SIZE_MAX;

	for (i = 0; i < r->r_conf->rc_max_conns; i++) {
		c = &r->r_conns[i];
		if (c->rcn_fd == -1) {
			return i;
		}
		if (!c->rcn_authed && (victim == SIZE_MAX ||
		    c->rcn_accepted < r->r_conns[victim].rcn_accepted)) {
			victim = i;
		}
	}
	if (victim != SIZE_MAX) {
		r->r_stats.rs_conns_evicted++;
		pbsd_remote_log_drop(r, now_ms, r->r_conns[victim].rcn_peer,
		    "unverified connection closed to make room");
		pbsd_remote_conn_close(r, victim);
	}
	return victim;
}

static void
pbsd_remote_accept(struct pbsd_remote *r, int lfd, int64_t now_ms)
{
	struct sockaddr_storage	 ss;
	struct pbsd_remote_conn	*c = NULL;
	socklen_t		 sl = sizeof(ss);
	char			 peer[80];
	size_t			 i;
	int			 fd;

	if ((fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		return;
	}
	pbsd_remote_fmt(&ss, peer, sizeof(peer));
	if (!pbsd_remote_allowed(r, &ss)) {
		r->r_stats.rs_denied++;
		pbsd_remote_log_drop(r, now_ms, peer, "not in remote_allow");
		close(fd);
		return;
	}
	if ((i = pbsd_remote_slot(r, now_ms)) == SIZE_MAX) {
		r->r_stats.rs_conns_refused++;
		pbsd_remote_log_drop(r, now_ms, peer,
		    "remote_max_connections reached");
		close(fd);
		return;
	}
	c = &r->r_conns[i];
	c->rcn_fd = fd;
	c->rcn_deadline = now_ms + (int64_t)r->r_conf->rc_idle_timeout * 1000;
	c->rcn_accepted = now_ms;
	c->rcn_authed = 0;
	buf_init(&c->rcn_in, PBSD_RK_CONN_BUF);
	(void)snprintf(c->rcn_peer, sizeof(c->rcn_peer), "%s", peer);
	r->r_nconns++;
	pbsd_remote_ep_ctl(r, EPOLL_CTL_ADD, fd, EPOLLIN,
	    PBSD_RK(PBSD_RK_CONN, i));
	log_debug("remote: connection from %s", peer);
}

/* UNTRUSTED: TCP bytes, bounded by PBSD_RK_CONN_BUF per frame. */
static void
pbsd_remote_conn_read(struct pbsd_remote *r, size_t i, int64_t now_ms)
{
	struct pbsd_remote_conn	*c = &r->r_conns[i];
	struct span		 frame;
	uint8_t			*dst;
	size_t			 room, used;
	ssize_t			 n;
	int			 got;

	if (buf_reserve(&c->rcn_in, PBSD_RK_CONN_BUF, &dst, &room) == -1) {
		pbsd_remote_conn_close(r, i);
		return;
	}
	n = read(c->rcn_fd, dst, room);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n <= 0) {
		pbsd_remote_conn_close(r, i);
		return;
	}
	buf_commit(&c->rcn_in, (size_t)n);
	while ((got = pbsd_auth_frame(buf_span(&c->rcn_in), &frame,
	    &used)) == 1) {
		/* Only a key holder's frame buys more time (not any byte). */
		if (pbsd_remote_envelope(r, frame, c->rcn_peer, now_ms) == 0) {
			c->rcn_authed = 1;
			c->rcn_deadline = now_ms +
			    (int64_t)r->r_conf->rc_idle_timeout * 1000;
		}
		buf_consume(&c->rcn_in, used);
	}
	if (got == -1) {
		r->r_stats.rs_received++;
		r->r_stats.rs_drops[PBSD_AUTH_MALFORMED]++;
		pbsd_remote_log_drop(r, now_ms, c->rcn_peer,
		    "bad frame length, connection closed");
		pbsd_remote_conn_close(r, i);
	}
}

static void
pbsd_remote_fwd_close(struct pbsd_remote *r, int64_t now_ms)
{
	if (r->r_fwd_fd != -1) {
		(void)epoll_ctl(r->r_epfd, EPOLL_CTL_DEL, r->r_fwd_fd, NULL);
		close(r->r_fwd_fd);
		r->r_fwd_fd = -1;
	}
	r->r_fwd_connecting = 0;
	/* A frame cut in the middle cannot be resumed on a new stream. */
	if (r->r_fwd_left > 0) {
		buf_consume(&r->r_fwd_out, r->r_fwd_left);
		r->r_fwd_left = 0;
		r->r_stats.rs_fwd_dropped++;
	}
	r->r_fwd_retry = now_ms + r->r_fwd_backoff;
	r->r_fwd_backoff *= 2;
	if (r->r_fwd_backoff > PBSD_REMOTE_RETRY_MAX) {
		r->r_fwd_backoff = PBSD_REMOTE_RETRY_MAX;
	}
}

/* Counts how many whole frames n sent bytes completed. */
static void
pbsd_remote_fwd_sent(struct pbsd_remote *r, size_t n)
{
	struct span	s;
	size_t		take;

	while (n > 0) {
		if (r->r_fwd_left == 0) {
			s = buf_span(&r->r_fwd_out);
			r->r_fwd_left = PBSD_AUTH_FRAME_HDR +
			    ((size_t)span_byte(s, 0) << 8 | span_byte(s, 1));
		}
		take = n < r->r_fwd_left ? n : r->r_fwd_left;
		buf_consume(&r->r_fwd_out, take);
		r->r_fwd_left -= take;
		n -= take;
		if (r->r_fwd_left == 0) {
			r->r_stats.rs_fwd_sent++;
		}
	}
}

static void
pbsd_remote_fwd_flush(struct pbsd_remote *r, int64_t now_ms)
{
	struct span	s;
	ssize_t		n;
	int		err = 0;
	socklen_t	el = sizeof(err);

	if (r->r_fwd_fd == -1) {
		return;
	}
	if (r->r_fwd_connecting) {
		if (getsockopt(r->r_fwd_fd, SOL_SOCKET, SO_ERROR, &err,
		    &el) == -1 || err != 0) {
			pbsd_remote_fwd_close(r, now_ms);
			return;
		}
		r->r_fwd_connecting = 0;
		r->r_fwd_backoff = PBSD_REMOTE_RETRY_MIN;
	}
	while (buf_len(&r->r_fwd_out) > 0) {
		s = buf_span(&r->r_fwd_out);
		n = send(r->r_fwd_fd, s.p, s.len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			break;
		}
		if (n <= 0) {
			pbsd_remote_fwd_close(r, now_ms);
			return;
		}
		pbsd_remote_fwd_sent(r, (size_t)n);
	}
	pbsd_remote_ep_ctl(r, EPOLL_CTL_MOD, r->r_fwd_fd, EPOLLIN |
	    (buf_len(&r->r_fwd_out) > 0 ? EPOLLOUT : 0),
	    PBSD_RK(PBSD_RK_FWD, 0));
}

/* The central pbsd never sends: readable means closed (or garbage). */
static void
pbsd_remote_fwd_event(struct pbsd_remote *r, uint32_t events, int64_t now_ms)
{
	uint8_t	sink[256];
	ssize_t	n;

	if (events & (EPOLLERR | EPOLLHUP)) {
		pbsd_remote_fwd_close(r, now_ms);
		return;
	}
	if (events & EPOLLIN) {
		n = read(r->r_fwd_fd, sink, sizeof(sink));
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
			pbsd_remote_fwd_close(r, now_ms);
			return;
		}
	}
	if (events & EPOLLOUT) {
		pbsd_remote_fwd_flush(r, now_ms);
	}
}

void
pbsd_remote_forward(struct pbsd_remote *r, struct span record,
    int64_t now_ms)
{
	const struct pbsd_remote_conf	*c = r->r_conf;
	uint8_t				 nonce[PBSD_AUTH_NONCE_LEN];
	struct buf			 one;
	const char			*errstr;
	int				 tcp;

	if (c == NULL || c->rc_forward.ep_proto == PBSD_EP_NONE) {
		return;
	}
	tcp = c->rc_forward.ep_proto == PBSD_EP_TCP;
	if (getrandom(nonce, sizeof(nonce), 0) != sizeof(nonce)) {
		r->r_stats.rs_fwd_dropped++;
		return;
	}
	if (tcp) {
		if (pbsd_auth_seal(&r->r_fwd_key, (uint64_t)(now_ms / 1000),
		    nonce, record, 1, &r->r_fwd_out, &errstr) == -1) {
			r->r_stats.rs_fwd_dropped++;
			pbsd_remote_log_drop(r, now_ms, "forward", errstr);
			return;
		}
		/* Connect on demand: an idle central may have closed us. */
		if (r->r_fwd_fd == -1 && (r->r_fwd_retry == 0 ||
		    now_ms >= r->r_fwd_retry)) {
			r->r_fwd_retry = 0;
			if (pbsd_remote_fwd_connect(r) == -1) {
				pbsd_remote_fwd_close(r, now_ms);
			}
		}
		if (r->r_fwd_fd != -1 && !r->r_fwd_connecting) {
			pbsd_remote_fwd_flush(r, now_ms);
		}
		return;
	}
	buf_init(&one, PBSD_AUTH_MAX_LEN);
	if (pbsd_auth_seal(&r->r_fwd_key, (uint64_t)(now_ms / 1000), nonce,
	    record, 0, &one, &errstr) == -1) {
		r->r_stats.rs_fwd_dropped++;
		pbsd_remote_log_drop(r, now_ms, "forward", errstr);
	} else if (send(r->r_fwd_fd, buf_ptr(&one), buf_len(&one),
	    MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)buf_len(&one)) {
		r->r_stats.rs_fwd_dropped++;
	} else {
		r->r_stats.rs_fwd_sent++;
	}
	buf_release(&one);
}

void
pbsd_remote_run(struct pbsd_remote *r, int64_t now_ms)
{
	struct epoll_event	ev[PBSD_RK_MAX_EVENTS];
	uint64_t		kind, idx;
	int			n, i;

	if (r->r_epfd == -1) {
		return;
	}
	n = epoll_wait(r->r_epfd, ev, PBSD_RK_MAX_EVENTS, 0);
	for (i = 0; i < n; i++) {
		kind = ev[i].data.u64 >> 32;
		idx = ev[i].data.u64 & 0xffffffffULL;
		if (kind == PBSD_RK_LISTEN && idx < r->r_nlisten) {
			if (r->r_lproto[idx] == PBSD_EP_TCP) {
				pbsd_remote_accept(r, r->r_lfd[idx], now_ms);
			} else {
				pbsd_remote_udp(r, r->r_lfd[idx], now_ms);
			}
		} else if (kind == PBSD_RK_CONN &&
		    idx < r->r_conf->rc_max_conns &&
		    r->r_conns[idx].rcn_fd != -1) {
			pbsd_remote_conn_read(r, (size_t)idx, now_ms);
		} else if (kind == PBSD_RK_FWD && r->r_fwd_fd != -1) {
			pbsd_remote_fwd_event(r, ev[i].events, now_ms);
		}
	}
}

int64_t
pbsd_remote_deadline(const struct pbsd_remote *r)
{
	int64_t	d = -1;
	size_t	i;

	if (r->r_epfd == -1) {
		return -1;
	}
	for (i = 0; r->r_conns != NULL && i < r->r_conf->rc_max_conns; i++) {
		if (r->r_conns[i].rcn_fd != -1 &&
		    (d == -1 || r->r_conns[i].rcn_deadline < d)) {
			d = r->r_conns[i].rcn_deadline;
		}
	}
	if (r->r_fwd_retry != 0 && buf_len(&r->r_fwd_out) > 0 &&
	    (d == -1 || r->r_fwd_retry < d)) {
		d = r->r_fwd_retry;
	}
	return d;
}

void
pbsd_remote_tick(struct pbsd_remote *r, int64_t now_ms)
{
	size_t	i;

	if (r->r_epfd == -1) {
		return;
	}
	for (i = 0; r->r_conns != NULL && i < r->r_conf->rc_max_conns; i++) {
		if (r->r_conns[i].rcn_fd != -1 &&
		    now_ms >= r->r_conns[i].rcn_deadline) {
			log_debug("remote: %s idle, closed",
			    r->r_conns[i].rcn_peer);
			r->r_stats.rs_conns_closed_idle++;
			pbsd_remote_conn_close(r, i);
		}
	}
	if (r->r_fwd_retry != 0 && now_ms >= r->r_fwd_retry &&
	    r->r_fwd_fd == -1 && buf_len(&r->r_fwd_out) > 0) {
		r->r_fwd_retry = 0;
		if (pbsd_remote_fwd_connect(r) == -1) {
			pbsd_remote_fwd_close(r, now_ms);
		}
	}
}

void
pbsd_remote_stats(const struct pbsd_remote *r, struct buf *out)
{
	const struct pbsd_remote_stats	*s = &r->r_stats;
	int				 d;

	(void)buf_addf(out, "remote_received %llu\nremote_accepted %llu\n",
	    (unsigned long long)s->rs_received,
	    (unsigned long long)s->rs_accepted);
	for (d = PBSD_AUTH_MALFORMED; d < PBSD_AUTH_NDROPS; d++) {
		(void)buf_addf(out, "remote_dropped_%s %llu\n",
		    pbsd_auth_drop_name(d),
		    (unsigned long long)s->rs_drops[d]);
	}
	(void)buf_addf(out, "remote_dropped_denied %llu\n"
	    "remote_connections %zu\nremote_connections_refused %llu\n"
	    "remote_connections_evicted %llu\n"
	    "remote_connections_idle %llu\nforward_sent %llu\n"
	    "forward_dropped %llu\nforward_connects %llu\n",
	    (unsigned long long)s->rs_denied, r->r_nconns,
	    (unsigned long long)s->rs_conns_refused,
	    (unsigned long long)s->rs_conns_evicted,
	    (unsigned long long)s->rs_conns_closed_idle,
	    (unsigned long long)s->rs_fwd_sent,
	    (unsigned long long)s->rs_fwd_dropped,
	    (unsigned long long)s->rs_fwd_connects);
}

void
pbsd_remote_close(struct pbsd_remote *r)
{
	size_t	i;

	for (i = 0; r->r_conns != NULL && i < r->r_conf->rc_max_conns; i++) {
		pbsd_remote_conn_close(r, i);
	}
	free(r->r_conns);
	for (i = 0; i < r->r_nlisten; i++) {
		close(r->r_lfd[i]);
	}
	if (r->r_fwd_fd != -1) {
		close(r->r_fwd_fd);
	}
	if (r->r_epfd != -1) {
		close(r->r_epfd);
	}
	buf_release(&r->r_fwd_out);
	pbsd_auth_key_clear(&r->r_fwd_key);
	pbsd_auth_key_clear(&r->r_verifier.av_keys[0]);
	pbsd_auth_key_clear(&r->r_verifier.av_keys[1]);
	pbsd_nonce_free(&r->r_verifier.av_nonces);
	pbsd_remote_init(r);
}
