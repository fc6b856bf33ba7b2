/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * session: sockets, buffers and timers of one client connection in a
 * worker.  Runs unprivileged-to-be; client and backend bytes are
 * UNTRUSTED and only ever reach the protocol machines through bounded
 * buffers (client input: SESSION_CIN_MAX; queued output: SESSION_OUT_MAX,
 * beyond which we stop reading so a client that does not read its
 * replies cannot make us buffer without bound).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bailey.h"
#include "bailey_limits.h"
#include "log.h"
#include "session.h"

#define SESSION_CIN_MAX		(IMAP_MAX_LINE + IMAP_MAX_LITERAL + 1024)
#define SESSION_OUT_MAX		(256 * 1024)
#define SESSION_OUT_PAUSE	(16 * 1024)
#define SESSION_READ_CHUNK	4096
#define SESSION_BIN_MAX		(2 * BACKEND_MAX_LINE)
#define SESSION_CLOSE_GRACE_MS	5000

const struct proto_ops *
session_ops(const struct session *s)
{
	return s->proto == PROTO_IMAP ? &imap_ops : &pop3_ops;
}

static int
session_flush_fd(int fd, struct buf *b, uint64_t *count)
{
	ssize_t	n;

	while (buf_len(b) > 0) {
		n = write(fd, buf_ptr(b), buf_len(b));
		if (n == -1) {
			if (errno == EINTR) {
				continue;
			}
			return (errno == EAGAIN || errno == EWOULDBLOCK) ?
			    0 : -1;
		}
		if (count != NULL) {
			*count += (uint64_t)n;
		}
		buf_consume(b, (size_t)n);
	}
	return 0;
}

void
session_update_events(struct session *s)
{
	uint32_t	ev = EPOLLRDHUP;

	if (s->closed || s->phase == PH_RELAY) {
		return;
	}
	if ((s->phase == PH_PREAUTH || s->phase == PH_SASL) &&
	    buf_len(&s->cout) < SESSION_OUT_PAUSE) {
		ev |= EPOLLIN;
	}
	if (buf_len(&s->cout) > 0) {
		ev |= EPOLLOUT;
	}
	if (s->phase == PH_CLOSING) {
		ev = EPOLLOUT;
	}
	ev_io_events(&s->cio, ev);
	if (s->bfd != -1 && s->bio.active) {
		ev = EPOLLIN;
		if (buf_len(&s->bout) > 0) {
			ev |= EPOLLOUT;
		}
		ev_io_events(&s->bio, ev);
	}
}

void
session_reply(struct session *s, const char *p, size_t n)
{
	if (s->closed) {
		return;
	}
	if (buf_add(&s->cout, p, n) == -1) {
		session_close(s, "output-overflow");
		return;
	}
	if (session_flush_fd(s->cfd, &s->cout, NULL) == -1) {
		session_close(s, "client-write-error");
		return;
	}
	session_update_events(s);
}

void
session_reply_str(struct session *s, const char *str)
{
	session_reply(s, str, strlen(str));
}

void
session_replyf(struct session *s, const char *fmt, ...)
{
	char	line[1024];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		session_close(s, "internal-error");
		return;
	}
	session_reply(s, line, (size_t)n);
}

void
session_backend_write(struct session *s, const char *p, size_t n)
{
	if (s->closed || s->bfd == -1) {
		return;
	}
	if (buf_add(&s->bout, p, n) == -1) {
		session_close(s, "internal-error");
		return;
	}
	if (session_flush_fd(s->bfd, &s->bout, NULL) == -1) {
		session_backend_drop(s);
		session_ops(s)->backend_ready(s, BACKEND_UNREACHABLE, NULL);
		return;
	}
	session_update_events(s);
}

int
session_getline(struct buf *b, size_t max, char *dst, size_t dstsz,
    struct span *line_r)
{
	struct span	line;
	size_t		used;
	int		rv;

	if ((rv = buf_getline(b, max, &line, &used)) != 1) {
		return rv;
	}
	if (line.len > dstsz) {
		return -1;
	}
	if (line.len > 0) {
		memcpy(dst, line.p, line.len);
	}
	line_r->p = (const uint8_t *)dst;
	line_r->len = line.len;
	buf_consume(b, used);
	return 1;
}

void
session_resume(struct session *s)
{
	if (!s->closed && s->phase == PH_PREAUTH && buf_len(&s->cin) > 0) {
		session_ops(s)->client_input(s);
	}
	if (!s->closed) {
		session_update_events(s);
	}
}

static void
session_timer_arm(struct session *s)
{
	uint64_t	when = UINT64_MAX, now = ev_clock_ms();

	if (s->phase == PH_RELAY) {
		when = s->last_active + (uint64_t)bconf->timeout_idle * 1000;
	} else if (s->phase == PH_CLOSING) {
		when = now + SESSION_CLOSE_GRACE_MS;
	} else {
		when = s->login_deadline;
		if (s->phase == PH_DELAY && s->pl->delay_until < when) {
			when = s->pl->delay_until;
		}
	}
	ev_timer_add(&s->timer, when > now ? when - now : 0);
}

static void
session_timeout(struct ev_timer *t)
{
	struct session		*s = t->arg;
	const struct proto_ops	*ops = session_ops(s);
	uint64_t		 now = ev_clock_ms();

	switch (s->phase) {
	case PH_CLOSING:
		session_close(s, s->reason ? s->reason : "closing-timeout");
		return;
	case PH_RELAY:
		if (now - s->last_active >=
		    (uint64_t)bconf->timeout_idle * 1000) {
			session_close(s, "idle-timeout");
			return;
		}
		break;
	default:
		if (now >= s->login_deadline) {
			session_reply(s, ops->bye_timeout,
			    strlen(ops->bye_timeout));
			session_finish(s, "login-timeout");
			return;
		}
		if (s->phase == PH_DELAY && now >= s->pl->delay_until) {
			s->phase = PH_PREAUTH;
			ops->delay_over(s);
			session_resume(s);
			if (s->closed) {
				return;
			}
		}
		break;
	}
	session_timer_arm(s);
}

void
session_fail_delay(struct session *s)
{
	s->phase = PH_DELAY;
	s->pl->delay_until = ev_clock_ms() + bconf->auth_fail_delay_ms;
	session_update_events(s);
	session_timer_arm(s);
}

int
session_bad_command(struct session *s)
{
	return ++s->pl->bad_commands >= bconf->max_bad_commands;
}

int
session_auth_failure(struct session *s)
{
	return ++s->pl->auth_failures >= bconf->max_auth_attempts;
}

static void
session_read_client(struct session *s)
{
	uint8_t	*p;
	size_t	 room;
	ssize_t	 n;

	if (buf_reserve(&s->cin, SESSION_READ_CHUNK, &p, &room) == -1) {
		return;		/* full: the protocol decides (too long) */
	}
	n = read(s->cfd, p, room);
	if (n == 0) {
		session_close(s, "client-eof");
		return;
	}
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			session_close(s, "client-read-error");
		}
		if (buf_len(&s->cin) == 0) {
			buf_release(&s->cin);
		}
		return;
	}
	buf_commit(&s->cin, (size_t)n);
	session_ops(s)->client_input(s);
}

static void
session_client_io(struct ev_io *io, uint32_t revents)
{
	struct session	*s = io->arg;

	if (s->phase == PH_RELAY) {
		relay_client_event(s, revents);
		return;
	}
	if (revents & EPOLLOUT) {
		if (session_flush_fd(s->cfd, &s->cout, NULL) == -1) {
			session_close(s, "client-write-error");
			return;
		}
		if (s->phase == PH_CLOSING && buf_len(&s->cout) == 0) {
			session_close(s, s->reason);
			return;
		}
	}
	if (revents & EPOLLERR) {
		session_close(s, "client-error");
		return;
	}
	if ((revents & EPOLLIN) &&
	    (s->phase == PH_PREAUTH || s->phase == PH_SASL)) {
		session_read_client(s);
	} else if (revents & (EPOLLRDHUP | EPOLLHUP)) {
		/* Gone while we wait for lookup/backend (threat row 17). */
		session_close(s, "client-gone");
		return;
	}
	if (!s->closed) {
		session_update_events(s);
	}
}

static void
session_backend_io(struct ev_io *io, uint32_t revents)
{
	struct session	*s = io->arg;
	uint8_t		*p;
	size_t		 room;
	ssize_t		 n;

	if (s->phase == PH_RELAY) {
		relay_backend_event(s, revents);
		return;
	}
	if ((revents & EPOLLOUT) &&
	    session_flush_fd(s->bfd, &s->bout, NULL) == -1) {
		revents |= EPOLLERR;
	}
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (buf_reserve(&s->pl->bin, SESSION_READ_CHUNK, &p, &room) ==
		    -1) {
			n = -1;
			errno = EMSGSIZE;
		} else {
			n = read(s->bfd, p, room);
		}
		if (n > 0) {
			buf_commit(&s->pl->bin, (size_t)n);
			session_ops(s)->backend_input(s);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			log_debug("session=%016llx backend closed during "
			    "login", (unsigned long long)s->id);
			session_backend_drop(s);
			session_ops(s)->backend_ready(s, BACKEND_UNREACHABLE,
			    NULL);
		}
	}
	session_resume(s);
}

void
session_lookup(struct session *s)
{
	struct msg_out		m;
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	char			saddr[CONF_MAX_ADDR] = "";
	uint16_t		sport = 0;

	if (getsockname(s->cfd, (struct sockaddr *)&ss, &len) == 0) {
		(void)sockaddr_fmt((struct sockaddr *)&ss, saddr,
		    sizeof(saddr), &sport);
	}
	free(s->user);
	if ((s->user = strdup(s->pl->creds.user)) == NULL) {
		fatal("strdup");
	}
	msg_init(&m, MSG_LOOKUP);
	msg_add_u64(&m, s->id);
	msg_add_u8(&m, (uint8_t)s->proto);
	msg_add_str(&m, s->pl->creds.user);
	msg_add_str(&m, s->caddr);
	msg_add_u16(&m, s->cport);
	msg_add_str(&m, saddr);
	msg_add_u16(&m, sport);
	s->phase = PH_LOOKUP;
	worker_send(&m);
	session_update_events(s);
}

void
session_backend_msg(struct session *s, enum backend_status st,
    const char *login_user, const char *backend, int fd)
{
	if (s->closed || s->phase != PH_LOOKUP) {
		if (fd != -1) {
			close(fd);
		}
		return;
	}
	snprintf(s->pl->backend_name, sizeof(s->pl->backend_name), "%s",
	    backend);
	if (st == BACKEND_OK) {
		s->bfd = fd;
		set_nonblock(fd);
		memset(&s->bio, 0, sizeof(s->bio));
		ev_io_set(&s->bio, fd, EPOLLIN, session_backend_io, s);
		s->pl->bstate = 0;
		buf_release(&s->pl->bin);
		s->phase = PH_BACKEND;
	}
	session_ops(s)->backend_ready(s, st, login_user);
	session_resume(s);
}

void
session_backend_drop(struct session *s)
{
	if (s->bfd != -1) {
		ev_io_del(&s->bio);
		close(s->bfd);
		s->bfd = -1;
	}
	buf_release(&s->bout);
	if (s->pl != NULL) {
		buf_release(&s->pl->bin);
	}
}

static void
prelogin_free(struct session *s)
{
	if (s->pl == NULL) {
		return;
	}
	imap_parser_free(&s->pl->ip);
	creds_clear(&s->pl->creds);
	buf_release(&s->pl->bin);
	secure_zero(s->pl, sizeof(*s->pl));
	free(s->pl);
	s->pl = NULL;
}

void
session_login_ok(struct session *s, const char *login_user)
{
	struct msg_out	m;

	(void)login_user;
	msg_init(&m, MSG_AUTH_OK);
	msg_add_u64(&m, s->id);
	msg_add_u8(&m, (uint8_t)s->proto);
	msg_add_str(&m, s->user ? s->user : "");
	msg_add_str(&m, s->caddr);
	msg_add_u16(&m, s->cport);
	worker_send(&m);
	free(s->backend);
	if ((s->backend = strdup(s->pl->backend_name)) == NULL) {
		fatal("strdup");
	}
	log_info("session=%016llx client=%s:%u event=auth-ok backend=%s",
	    (unsigned long long)s->id, s->caddr, s->cport, s->backend);
	s->phase = PH_RELAY;
	s->last_active = ev_clock_ms();
	relay_start(s);		/* takes the leftover bytes from pl */
	prelogin_free(s);
	if (!s->closed) {
		session_timer_arm(s);
	}
}

void
session_finish(struct session *s, const char *reason)
{
	if (s->closed) {
		return;
	}
	s->reason = reason;
	session_backend_drop(s);
	buf_release(&s->cin);
	if (buf_len(&s->cout) == 0) {
		session_close(s, reason);
		return;
	}
	s->phase = PH_CLOSING;
	session_update_events(s);
	session_timer_arm(s);
}

static void
session_log_end(struct session *s, const char *reason)
{
	char	user[2 * MAX_USER + 8];

	log_info("session=%016llx client=%s:%u user=%s backend=%s in=%llu "
	    "out=%llu duration=%.3f reason=%s", (unsigned long long)s->id,
	    s->caddr, s->cport,
	    s->user ? log_escape(span_from_str(s->user), user, sizeof(user)) :
	    "-", s->backend ? s->backend : "-",
	    (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out,
	    (double)(ev_clock_ms() - s->started) / 1000.0,
	    reason ? reason : "unknown");
}

void
session_close(struct session *s, const char *reason)
{
	if (s->closed) {
		return;
	}
	s->closed = 1;
	session_log_end(s, reason);
	ev_timer_del(&s->timer);
	ev_io_del(&s->cio);
	relay_free(s);
	session_backend_drop(s);
	close(s->cfd);
	s->cfd = -1;
	prelogin_free(s);
	buf_release(&s->cin);
	buf_release(&s->cout);
	free(s->user);
	s->user = NULL;
	free(s->backend);
	s->backend = NULL;
	worker_session_gone(s);
}

struct session *
session_new(int fd, const struct listen_conf *lc, const struct sockaddr *sa)
{
	struct session	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->pl = calloc(1, sizeof(*s->pl))) == NULL) {
		fatal("calloc");
	}
	s->proto = lc->proto;
	s->lc = lc;
	s->cfd = fd;
	s->bfd = -1;
	s->dir[0].pipe[0] = s->dir[0].pipe[1] = -1;
	s->dir[1].pipe[0] = s->dir[1].pipe[1] = -1;
	s->started = ev_clock_ms();
	s->login_deadline = s->started + (uint64_t)bconf->timeout_login * 1000;
	buf_init(&s->cin, SESSION_CIN_MAX);
	buf_init(&s->cout, SESSION_OUT_MAX);
	buf_init(&s->bout, SESSION_OUT_MAX);
	buf_init(&s->pl->bin, SESSION_BIN_MAX);
	imap_parser_init(&s->pl->ip, IMAP_PARSE_LITERAL_MINUS);
	(void)sockaddr_fmt(sa, s->caddr, sizeof(s->caddr), &s->cport);
	ev_timer_init(&s->timer, session_timeout, s);
	ev_io_set(&s->cio, fd, EPOLLIN | EPOLLRDHUP, session_client_io, s);
	session_timer_arm(s);
	return s;
}

void
session_start(struct session *s)
{
	session_ops(s)->greet(s);
}

void
session_reject(struct session *s, const char *bye, const char *reason)
{
	session_reply(s, bye, strlen(bye));
	session_finish(s, reason);
}
