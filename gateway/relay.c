/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * relay: after login, moves bytes between client and backend.  When both
 * sides are plain sockets it uses splice(2) through a pipe per direction,
 * so payload never enters user space; when either side speaks TLS it
 * copies through a buffer that exists only while bytes are in flight.
 * Either way an idle session holds no user-space buffer.  Runs in the
 * worker.  The bytes are UNTRUSTED but never parsed here; bounded by the
 * pipe or buffer size per direction (full: stop reading the source).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bailey.h"
#include "capfilter.h"
#include "log.h"
#include "session.h"

#define RELAY_PIPE_SIZE	(256 * 1024)
#define RELAY_ROUNDS	8
#define RELAY_COPY_MAX	(64 * 1024)
/* Empty pipes kept for the next session (each: 2 fds, no pages). */
#define RELAY_POOL_MAX	128

static int	relay_pool[RELAY_POOL_MAX][2];
static size_t	relay_npool;

static int
dir_src(const struct session *s, int d)
{
	return d == DIR_C2B ? s->c.fd : s->b.fd;
}

static int
dir_dst(const struct session *s, int d)
{
	return d == DIR_C2B ? s->b.fd : s->c.fd;
}

static struct conn *
dir_srcconn(struct session *s, int d)
{
	return d == DIR_C2B ? &s->c : &s->b;
}

static struct conn *
dir_dstconn(struct session *s, int d)
{
	return d == DIR_C2B ? &s->b : &s->c;
}

static int
relay_copy_mode(const struct session *s)
{
	return s->c.tls != NULL || s->b.tls != NULL || s->cf != NULL;
}

/* Backend bytes in rd->raw go through the capability filter into copy. */
static int
relay_filter(struct session *s, struct relay_dir *rd)
{
	const char	*err = NULL, *note;
	size_t		 before = buf_len(&rd->raw);

	if (capfilter_feed(s->cf, &rd->raw, &rd->copy, &err) == -1 ||
	    (buf_len(&rd->raw) == before && buf_len(&rd->copy) == 0)) {
		log_info("session=%016llx event=capfilter-error error=\"%s\"",
		    (unsigned long long)s->id, err ? err : "?");
		return -1;
	}
	if ((note = capfilter_note(s->cf)) != NULL) {
		log_debug("session=%016llx capfilter: %s",
		    (unsigned long long)s->id, note);
	}
	return 0;
}

static struct buf *
dir_ubuf(struct session *s, int d)
{
	return d == DIR_C2B ? &s->bout : &s->cout;
}

static uint64_t *
dir_count(struct session *s, int d)
{
	return d == DIR_C2B ? &s->bytes_in : &s->bytes_out;
}

/* Writes user-space leftovers.  0 done, 1 blocked, -1 error. */
static int
relay_flush_ubuf(struct session *s, int d)
{
	return conn_write_buf(dir_dstconn(s, d), dir_ubuf(s, d),
	    dir_count(s, d));
}

/*
 * TLS on a side: read into a buffer, write it out, repeat.  The buffer
 * is released as soon as it is drained.  Returns as relay_pump.
 */
static int
relay_copy(struct session *s, int d)
{
	struct relay_dir *rd = &s->dir[d];
	struct conn	 *src = dir_srcconn(s, d);
	struct buf	 *inb;
	const char	 *cerr = NULL;
	uint8_t		 *p;
	size_t		  room;
	ssize_t		  n;
	int		  rv;

	/* No round limit: mbedTLS may hold decrypted bytes that no epoll
	 * event would announce, so read until it says "again". */
	for (;;) {
		if (s->cf != NULL && d == DIR_B2C && buf_len(&rd->raw) > 0 &&
		    buf_len(&rd->copy) == 0 && relay_filter(s, rd) == -1) {
			return -1;
		}
		if ((rv = conn_write_buf(dir_dstconn(s, d), &rd->copy,
		    NULL)) != 0) {
			rd->want_dst = rv == 1;
			return rv == -1 ? -1 : 0;
		}
		if (s->cf != NULL && d == DIR_B2C && buf_len(&rd->raw) > 0) {
			continue;		/* filter the rest first */
		}
		if (rd->src_eof) {
			break;
		}
		inb = (s->cf != NULL && d == DIR_B2C) ? &rd->raw : &rd->copy;
		if (buf_reserve(inb, RELAY_COPY_MAX, &p, &room) == -1) {
			return -1;
		}
		n = conn_read(src, p, room);
		if (n == CONN_AGAIN) {
			if (buf_len(inb) == 0) {
				buf_release(inb);
			}
			rd->want_src = 1;
			rd->src_wants_write = src->want_write;
			return 0;
		}
		if (n == CONN_ERROR) {
			return -1;
		}
		if (n == CONN_EOF) {
			rd->src_eof = 1;
			buf_release(inb);
			break;
		}
		/* The client tracker sees each command before the backend. */
		if (s->cf != NULL && d == DIR_C2B && capfilter_client(s->cf,
		    (struct span){ p, (size_t)n }, &cerr) == -1) {
			log_info("session=%016llx event=capfilter-error "
			    "error=\"%s\"", (unsigned long long)s->id,
			    cerr ? cerr : "?");
			return -1;
		}
		buf_commit(inb, (size_t)n);
		*dir_count(s, d) += (uint64_t)n;
		s->last_active = ev_now();
	}
	if (!rd->src_eof) {
		rd->want_src = 1;
		return 0;
	}
	if (!rd->dst_shut) {
		rv = dir_dstconn(s, d)->tls == NULL ?
		    shutdown(dir_dst(s, d), SHUT_WR) : 0;
		(void)rv;
		rd->dst_shut = 1;
	}
	return 0;
}

/* Empties the pipe into the destination.  0 done, 1 blocked, -1 error. */
static int
relay_drain_pipe(struct session *s, int d)
{
	struct relay_dir *rd = &s->dir[d];
	ssize_t		  n;

	while (rd->pending > 0) {
		n = splice(rd->pipe[0], NULL, dir_dst(s, d), NULL, rd->pending,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == -1) {
			if (errno == EINTR) {
				continue;
			}
			return errno == EAGAIN ? 1 : -1;
		}
		if (n == 0) {
			return -1;
		}
		rd->pending -= (size_t)n;
	}
	return 0;
}

/* Moves what can be moved in direction d.  -1 on a fatal error. */
static int
relay_pump(struct session *s, int d)
{
	struct relay_dir *rd = &s->dir[d];
	ssize_t		  n;
	int		  rv, round;

	rd->want_src = rd->want_dst = rd->src_wants_write = 0;
	if ((rv = relay_flush_ubuf(s, d)) != 0) {
		rd->want_dst = rv == 1;
		return rv == -1 ? -1 : 0;
	}
	if (relay_copy_mode(s)) {
		return relay_copy(s, d);
	}
	for (round = 0; round < RELAY_ROUNDS; round++) {
		if ((rv = relay_drain_pipe(s, d)) != 0) {
			rd->want_dst = rv == 1;
			return rv == -1 ? -1 : 0;
		}
		if (rd->src_eof) {
			break;
		}
		n = splice(dir_src(s, d), NULL, rd->pipe[1], NULL,
		    RELAY_PIPE_SIZE, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR) {
				rd->want_src = 1;
				return 0;
			}
			return -1;
		}
		if (n == 0) {
			rd->src_eof = 1;
			break;
		}
		rd->pending += (size_t)n;
		*dir_count(s, d) += (uint64_t)n;
		s->last_active = ev_now();
		/* A short read emptied the socket: no EAGAIN round trip to
		 * learn it (epoll is level-triggered and says when there is
		 * more), unless the peer hung up and EOF is next. */
		if ((size_t)n < RELAY_PIPE_SIZE && !rd->src_hup) {
			break;
		}
	}
	/* What the last round read must not wait in the pipe for more
	 * input that may never come (the backend may be waiting for us). */
	if ((rv = relay_drain_pipe(s, d)) != 0) {
		rd->want_dst = rv == 1;
		return rv == -1 ? -1 : 0;
	}
	if (!rd->src_eof) {
		rd->want_src = 1;	/* more rounds next time */
		return 0;
	}
	if (!rd->dst_shut) {
		/* The backend's end, all sent: relay_step() closes the
		 * client now, and close() sends the FIN itself. */
		if (!(d == DIR_B2C && buf_len(&s->cout) == 0)) {
			(void)shutdown(dir_dst(s, d), SHUT_WR);
		}
		rd->dst_shut = 1;
	}
	return 0;
}

static void
relay_events(struct session *s)
{
	struct relay_dir *c2b = &s->dir[DIR_C2B], *b2c = &s->dir[DIR_B2C];
	uint32_t	  ce = 0, be = 0;

	if (c2b->want_src) {
		ce |= c2b->src_wants_write ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
	}
	if (b2c->want_dst) {
		ce |= EPOLLOUT;
	}
	if (b2c->want_src) {
		be |= b2c->src_wants_write ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
	}
	if (c2b->want_dst) {
		be |= EPOLLOUT;
	}
	ev_io_events(&s->cio, ce);
	if (s->bio.active) {
		ev_io_events(&s->bio, be);
	}
}

/* Which directions an event can move: its fd as source (readable) or,
 * when writable, both (a destination, or a TLS source that writes). */
#define RELAY_C2B	(1 << DIR_C2B)
#define RELAY_B2C	(1 << DIR_B2C)
#define RELAY_BOTH	(RELAY_C2B | RELAY_B2C)

static int
relay_dirs(const struct session *s, int src_dir, uint32_t revents)
{
	if (relay_copy_mode(s) || (revents & (EPOLLOUT | EPOLLERR))) {
		return RELAY_BOTH;
	}
	return 1 << src_dir;
}

static void
relay_step(struct session *s, int dirs)
{
	struct relay_dir *c2b = &s->dir[DIR_C2B], *b2c = &s->dir[DIR_B2C];

	if ((dirs & RELAY_C2B) && !(b2c->src_eof && c2b->src_eof) &&
	    s->bio.active && relay_pump(s, DIR_C2B) == -1) {
		session_close(s, "backend-write-error");
		return;
	}
	if ((dirs & RELAY_B2C) && relay_pump(s, DIR_B2C) == -1) {
		session_close(s, "client-write-error");
		return;
	}
	if (b2c->src_eof && b2c->pending == 0 && buf_len(&s->cout) == 0) {
		/* The backend ended the session and all of it was sent. */
		session_close(s, c2b->src_eof ? "client-eof" : "backend-eof");
		return;
	}
	if (b2c->src_eof && s->bio.active) {
		/* Nothing more to read; a closed backend fd would spin. */
		ev_io_del(&s->bio);
		c2b->want_src = 0;
		c2b->want_dst = 0;
	}
	relay_events(s);
}

void
relay_client_event(struct session *s, uint32_t revents)
{
	if (revents & (EPOLLERR | EPOLLHUP)) {
		session_close(s, "client-eof");
		return;
	}
	s->dir[DIR_C2B].src_hup = (revents & EPOLLRDHUP) != 0;
	relay_step(s, relay_dirs(s, DIR_C2B, revents));
}

void
relay_backend_event(struct session *s, uint32_t revents)
{
	s->dir[DIR_B2C].src_hup = (revents & (EPOLLRDHUP | EPOLLHUP)) != 0;
	relay_step(s, relay_dirs(s, DIR_B2C, revents));
}

static int
relay_pipe(struct relay_dir *rd)
{
	if (relay_npool > 0) {
		relay_npool--;
		rd->pipe[0] = relay_pool[relay_npool][0];
		rd->pipe[1] = relay_pool[relay_npool][1];
		rd->pending = 0;
		return 0;
	}
	if (pipe2(rd->pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		log_warn("pipe2");
		return -1;
	}
	/* Bigger pipes mean fewer splice calls per megabyte; the pages are
	 * only allocated while bytes are in flight (idle costs nothing). */
	(void)fcntl(rd->pipe[1], F_SETPIPE_SZ, RELAY_PIPE_SIZE);
	return 0;
}

void
relay_start(struct session *s)
{
	/* Pipelined client bytes after the login go to the backend, and
	 * backend bytes after its OK go to the client, before any splice. */
	const struct capfilter_conf *cc = worker_capconf(s->proto);
	const char	*err = NULL;

	buf_init(&s->dir[DIR_C2B].copy, RELAY_COPY_MAX);
	buf_init(&s->dir[DIR_B2C].copy, RELAY_COPY_MAX);
	buf_init(&s->dir[DIR_B2C].raw, RELAY_COPY_MAX);
	if (cc != NULL) {
		if ((s->cf = calloc(1, sizeof(*s->cf))) == NULL) {
			fatal("calloc");
		}
		capfilter_init(s->cf, cc);
		if (buf_len(&s->cin) > 0 && capfilter_client(s->cf,
		    buf_span(&s->cin), &err) == -1) {
			session_close(s, "capfilter-error");
			return;
		}
	}
	if (buf_len(&s->cin) > 0) {
		if (buf_add(&s->bout, buf_ptr(&s->cin), buf_len(&s->cin)) ==
		    -1) {
			session_close(s, "internal-error");
			return;
		}
	}
	buf_release(&s->cin);
	if (s->pl != NULL && buf_len(&s->pl->bin) > 0) {
		if (buf_add(s->cf ? &s->dir[DIR_B2C].raw : &s->cout,
		    buf_ptr(&s->pl->bin), buf_len(&s->pl->bin)) == -1) {
			session_close(s, "internal-error");
			return;
		}
		buf_release(&s->pl->bin);
	}
	if (!relay_copy_mode(s) && (relay_pipe(&s->dir[DIR_C2B]) == -1 ||
	    relay_pipe(&s->dir[DIR_B2C]) == -1)) {
		session_close(s, "internal-error");
		return;
	}
	relay_step(s, RELAY_BOTH);
}

/*
 * A pipe goes back to the pool only when it is known to be empty: every
 * byte spliced into it was spliced out (pending counts exactly what the
 * kernel reported moved), so no session ever sees another's bytes.
 */
static void
relay_pipe_put(struct relay_dir *rd)
{
	int	i;

	if (rd->pipe[0] != -1 && rd->pipe[1] != -1 && rd->pending == 0 &&
	    relay_npool < RELAY_POOL_MAX) {
		relay_pool[relay_npool][0] = rd->pipe[0];
		relay_pool[relay_npool][1] = rd->pipe[1];
		relay_npool++;
		rd->pipe[0] = rd->pipe[1] = -1;
		return;
	}
	for (i = 0; i < 2; i++) {
		if (rd->pipe[i] != -1) {
			close(rd->pipe[i]);
			rd->pipe[i] = -1;
		}
	}
}

void
relay_free(struct session *s)
{
	int	d;

	if (s->cf != NULL) {
		capfilter_free(s->cf);
		free(s->cf);
		s->cf = NULL;
	}
	for (d = 0; d < 2; d++) {
		buf_release(&s->dir[d].copy);
		buf_release(&s->dir[d].raw);
		relay_pipe_put(&s->dir[d]);
	}
}
