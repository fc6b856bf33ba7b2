/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * session: sockets, TLS, buffers and timers of one client connection in a
 * worker.  Runs unprivileged-to-be; client and backend bytes are
 * UNTRUSTED and only ever reach the protocol machines through bounded
 * buffers (client input: SESSION_CIN_MAX; queued output: SESSION_OUT_MAX,
 * beyond which we stop reading so a client that does not read its
 * replies cannot make us buffer without bound).  TLS handshakes are
 * bounded by `timeout handshake`, and so is the inbound PROXY protocol
 * header on proxy-protocol listeners (only from proxy-trusted peers; its
 * size is bounded by gateway/proxyproto.h).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bailey.h"
#include "bailey_limits.h"
#include "log.h"
#include "session.h"
#include "penalty.h"
#include "proxyproto.h"
#include "tls.h"
#include "tlsctx.h"

#define SESSION_CIN_MAX		(IMAP_MAX_LINE + IMAP_MAX_LITERAL + 1024)
#define SESSION_OUT_MAX		(256 * 1024)
#define SESSION_OUT_PAUSE	(16 * 1024)
#define SESSION_READ_CHUNK	4096
#define SESSION_BIN_MAX		(2 * BACKEND_MAX_LINE)
#define SESSION_CLOSE_GRACE_MS	5000
/* Bytes peeked at a time while reading a PROXY protocol header. */
#define SESSION_PROXY_PEEK	256

_Static_assert(LISTEN_PROXY_V1 == PROXYPROTO_V1 &&
    LISTEN_PROXY_V2 == PROXYPROTO_V2, "listen proxy-protocol bits");

const struct proto_ops *
session_ops(const struct session *s)
{
	return s->proto == PROTO_IMAP ? &imap_ops : &pop3_ops;
}

int
session_can_starttls(const struct session *s)
{
	return !s->tls_active && (s->lc->tls == TLS_MODE_STARTTLS ||
	    s->lc->tls == TLS_MODE_REQUIRED);
}

int
session_tls_required(const struct session *s)
{
	return !s->tls_active && s->lc->tls == TLS_MODE_REQUIRED;
}

/* Writes b to c.  0 = all or blocked, -1 = error. */
static int
session_flush(struct conn *c, struct buf *b)
{
	return conn_write_buf(c, b, NULL) == -1 ? -1 : 0;
}

static uint32_t
session_hs_events(const struct conn *c)
{
	return c->want_write ? EPOLLOUT : EPOLLIN;
}

void
session_update_events(struct session *s)
{
	uint32_t	ev = EPOLLRDHUP;

	if (s->closed || s->phase == PH_RELAY) {
		return;
	}
	if (s->phase == PH_TLS) {
		ev_io_events(&s->cio, session_hs_events(&s->c));
		return;
	}
	if (s->phase == PH_PROXY) {
		ev_io_events(&s->cio, EPOLLIN | EPOLLRDHUP);
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
	if (s->b.fd != -1 && s->bio.active) {
		if (s->b.hs) {
			ev = session_hs_events(&s->b);
		} else {
			/* RDHUP as in the relay: no epoll_ctl at the switch. */
			ev = EPOLLIN | EPOLLRDHUP;
			if (buf_len(&s->bout) > 0 || s->b.want_write) {
				ev |= EPOLLOUT;
			}
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
	if (s->phase != PH_TLS && session_flush(&s->c, &s->cout) == -1) {
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

static void
session_backend_failed(struct session *s, const char *why)
{
	log_info("session=%016llx backend=%s event=backend-error error=\"%s\"",
	    (unsigned long long)s->id, s->pl ? s->pl->backend_name : "-",
	    why);
	session_backend_drop(s);
	session_ops(s)->backend_ready(s, BACKEND_UNREACHABLE, NULL);
}

void
session_backend_write(struct session *s, const char *p, size_t n)
{
	if (s->closed || s->b.fd == -1) {
		return;
	}
	if (buf_add(&s->bout, p, n) == -1) {
		session_close(s, "internal-error");
		return;
	}
	if (!s->b.hs && session_flush(&s->b, &s->bout) == -1) {
		session_backend_failed(s, "write failed");
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
		if (s->hs_deadline != 0 && s->hs_deadline < when) {
			when = s->hs_deadline;
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
	case PH_PROXY:
		if (now >= s->hs_deadline || now >= s->login_deadline) {
			log_info("session=%016llx client=%s:%u event=proxy-error "
			    "error=\"no complete header in time\"",
			    (unsigned long long)s->id, s->caddr, s->cport);
			session_close(s, "proxy-timeout");
			return;
		}
		break;
	case PH_RELAY:
		if (now - s->last_active >=
		    (uint64_t)bconf->timeout_idle * 1000) {
			session_close(s, "idle-timeout");
			return;
		}
		break;
	default:
		if (s->hs_deadline != 0 && now >= s->hs_deadline) {
			if (s->phase == PH_TLS) {
				session_close(s, "handshake-timeout");
				return;
			}
			session_backend_failed(s, "TLS handshake timed out");
			session_resume(s);
			if (s->closed) {
				return;
			}
		}
		if (now >= s->login_deadline) {
			session_reply_str(s, ops->bye_timeout);
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

int
session_client_sa(const struct session *s, struct sockaddr_storage *ss)
{
	return sockaddr_parse(s->caddr, s->cport, ss, NULL);
}

/* A failed login: the delay grows with this address's and user's recent
 * failures (shared by all workers), then ops->delay_over says NO. */
void
session_fail_delay(struct session *s)
{
	struct sockaddr_storage	ss;
	const char		*user = s->user ? s->user : "";
	uint32_t		 delay = bconf->auth_fail_delay_ms;

	if (session_client_sa(s, &ss) == 0) {
		delay = pen_delay_ms(worker_scoreboard(),
		    (struct sockaddr *)&ss, user, bconf->auth_fail_delay_ms);
		pen_auth_result(worker_scoreboard(), (struct sockaddr *)&ss,
		    user, 0);
	}
	s->phase = PH_DELAY;
	s->pl->delay_until = ev_clock_ms() + delay;
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

/* Reads what the client sent; with TLS, also what mbedTLS holds. */
static void
session_read_client(struct session *s)
{
	uint8_t	*p;
	size_t	 room;
	ssize_t	 n;

	do {
		if (buf_reserve(&s->cin, SESSION_READ_CHUNK, &p, &room) ==
		    -1) {
			return;		/* full: the protocol decides */
		}
		n = conn_read(&s->c, p, room);
		if (n == CONN_EOF) {
			session_close(s, "client-eof");
			return;
		}
		if (n == CONN_ERROR) {
			session_close(s, "client-read-error");
			return;
		}
		if (n == CONN_AGAIN) {
			if (buf_len(&s->cin) == 0) {
				buf_release(&s->cin);
			}
			return;
		}
		buf_commit(&s->cin, (size_t)n);
		session_ops(s)->client_input(s);
	} while (!s->closed && conn_pending(&s->c) &&
	    (s->phase == PH_PREAUTH || s->phase == PH_SASL));
}

static void
session_tls_event(struct session *s)
{
	int	rv = conn_handshake(&s->c);

	if (rv == -1) {
		log_info("session=%016llx client=%s:%u event=tls-failed "
		    "error=\"%s\"", (unsigned long long)s->id, s->caddr,
		    s->cport, s->c.err ? s->c.err : "?");
		session_close(s, "tls-handshake-failed");
		return;
	}
	if (rv == 0) {
		session_update_events(s);
		return;
	}
	s->hs_deadline = 0;
	s->tls_active = 1;
	s->phase = PH_PREAUTH;
	log_debug("session=%016llx event=tls version=%s cipher=%s sni=%s",
	    (unsigned long long)s->id, tls_version_name(s->c.tls),
	    tls_cipher_name(s->c.tls), tls_sni_name(s->c.tls));
	if (s->lc->tls == TLS_MODE_IMPLICIT) {
		session_ops(s)->greet(s);
	} else {
		session_ops(s)->tls_reset(s);
	}
	if (!s->closed) {
		session_timer_arm(s);
		session_resume(s);
	}
}

/* ---- inbound PROXY protocol header ---------------------------------- */

static void
session_proxy_fail(struct session *s, const char *err, const char *reason)
{
	log_info("session=%016llx client=%s:%u event=proxy-error "
	    "error=\"%s\"", (unsigned long long)s->id, s->caddr, s->cport,
	    err);
	session_close(s, reason);
}

/* Takes n header bytes, already seen with MSG_PEEK, off the socket. */
static int
session_proxy_drain(struct session *s, size_t n)
{
	uint8_t	sink[SESSION_PROXY_PEEK];
	ssize_t	r;

	while (n > 0) {
		r = read(s->c.fd, sink, n < sizeof(sink) ? n : sizeof(sink));
		if (r == -1 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			return -1;
		}
		n -= (size_t)r;
	}
	return 0;
}

/* The header is read: its source becomes the client everywhere. */
static void
session_proxy_done(struct session *s, const struct proxyproto_result *res)
{
	free(s->pp);
	s->pp = NULL;
	if (!res->local) {
		if (sockaddr_fmt((const struct sockaddr *)&res->src, s->caddr,
		    sizeof(s->caddr), &s->cport) == -1) {
			session_close(s, "internal-error");
			return;
		}
		s->laddr = res->dst;
		s->have_laddr = 1;
	}
	s->proxy_local = res->local;
	log_info("session=%016llx client=%s:%u proxy=%s:%u event=proxy "
	    "version=%d%s", (unsigned long long)s->id, s->caddr, s->cport,
	    s->paddr, s->pport, res->version,
	    res->local ? " local=yes" : "");
	s->hs_deadline = 0;
	s->phase = PH_PREAUTH;
	if (worker_session_admit(s) == 0 && !s->closed) {
		session_timer_arm(s);
	}
}

/*
 * UNTRUSTED: the balancer's header, bounded by the parser's limits and
 * `timeout handshake`.  Bytes are peeked and only the header's own are
 * taken off the socket: what follows stays there for the protocol or
 * the TLS handshake.
 */
static void
session_proxy_read(struct session *s)
{
	uint8_t			 peek[SESSION_PROXY_PEEK];
	struct proxyproto_result res;
	struct span		 in;
	const char		*err = "?";
	size_t			 used = 0;
	ssize_t			 n;
	int			 rv;

	for (;;) {
		n = recv(s->c.fd, peek, sizeof(peek), MSG_PEEK);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		}
		if (n == -1) {
			session_close(s, "client-read-error");
			return;
		}
		if (n == 0) {
			if (s->pp->total == 0) {
				session_close(s, "client-eof");
			} else {
				session_proxy_fail(s, "connection closed "
				    "inside the header", "proxy-malformed");
			}
			return;
		}
		in.p = peek;
		in.len = (size_t)n;
		rv = proxyproto_feed(s->pp, in, &used, &res, &err);
		if (rv == -1) {
			session_proxy_fail(s, err, "proxy-malformed");
			return;
		}
		if (session_proxy_drain(s, used) == -1) {
			session_close(s, "client-read-error");
			return;
		}
		if (rv == 1) {
			session_proxy_done(s, &res);
			return;
		}
	}
}

void
session_proxy_begin(struct session *s)
{
	if ((s->pp = calloc(1, sizeof(*s->pp))) == NULL) {
		fatal("calloc");
	}
	proxyproto_init(s->pp, s->lc->proxy);
	(void)snprintf(s->paddr, sizeof(s->paddr), "%s", s->caddr);
	s->pport = s->cport;
	s->phase = PH_PROXY;
	s->hs_deadline = ev_clock_ms() +
	    (uint64_t)bconf->timeout_handshake * 1000;
	session_timer_arm(s);
	session_update_events(s);
	session_proxy_read(s);
}

static void
session_client_io(struct ev_io *io, uint32_t revents)
{
	struct session	*s = io->arg;

	if (s->phase == PH_RELAY) {
		relay_client_event(s, revents);
		return;
	}
	if (s->phase == PH_TLS) {
		if (revents & (EPOLLERR | EPOLLHUP)) {
			session_close(s, "client-eof");
			return;
		}
		session_tls_event(s);
		return;
	}
	if (s->phase == PH_PROXY) {
		if (revents & EPOLLERR) {
			session_close(s, "client-error");
			return;
		}
		session_proxy_read(s);
		return;
	}
	if (revents & EPOLLOUT) {
		if (session_flush(&s->c, &s->cout) == -1) {
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

/* The client side turns to TLS (implicit, or after STARTTLS): the
 * handshake starts, bounded by `timeout handshake`.  0, or -1 (closed). */
static int
session_tls_begin(struct session *s)
{
	const char	*err = NULL;

	s->c.tls = tls_conn_new_server(tlsctx_server_for(s->proto), s->c.fd,
	    &err);
	if (s->c.tls == NULL) {
		log_warnx("tls: %s", err ? err : "?");
		session_close(s, "internal-error");
		return -1;
	}
	s->c.hs = 1;
	s->phase = PH_TLS;
	s->hs_deadline = ev_clock_ms() +
	    (uint64_t)bconf->timeout_handshake * 1000;
	session_timer_arm(s);
	return 0;
}

void
session_starttls(struct session *s)
{
	if (buf_len(&s->cout) > 0) {
		/* Our OK could not be sent in the clear yet: give up. */
		session_close(s, "client-write-error");
		return;
	}
	/* Plaintext pipelined after STARTTLS is never executed (rows 11,
	 * 33): it is dropped here, before the handshake. */
	if (buf_len(&s->cin) > 0) {
		log_info("session=%016llx client=%s:%u event=starttls-"
		    "injection bytes=%zu", (unsigned long long)s->id,
		    s->caddr, s->cport, buf_len(&s->cin));
	}
	buf_release(&s->cin);
	if (session_tls_begin(s) == 0) {
		session_update_events(s);
	}
}

/* ---- backend -------------------------------------------------------- */

static void
session_backend_hs(struct session *s)
{
	int	rv = conn_handshake(&s->b);

	if (rv == 0) {
		return;
	}
	if (rv == -1) {
		session_backend_failed(s, s->b.err ? s->b.err : "TLS failed");
		return;
	}
	s->hs_deadline = 0;
	session_timer_arm(s);
	log_debug("session=%016llx backend=%s event=backend-tls version=%s",
	    (unsigned long long)s->id, s->pl->backend_name,
	    tls_version_name(s->b.tls));
	if (session_flush(&s->b, &s->bout) == -1) {
		session_backend_failed(s, "write failed");
		return;
	}
	session_ops(s)->backend_tls_done(s);
}

static void
session_backend_read(struct session *s)
{
	uint8_t	*p;
	size_t	 room;
	ssize_t	 n;

	do {
		if (buf_reserve(&s->pl->bin, SESSION_READ_CHUNK, &p, &room) ==
		    -1) {
			session_backend_failed(s, "line too long");
			return;
		}
		n = conn_read(&s->b, p, room);
		if (n == CONN_AGAIN) {
			return;
		}
		if (n <= 0) {
			session_backend_failed(s, n == CONN_EOF ?
			    "closed during login" : "read error");
			return;
		}
		buf_commit(&s->pl->bin, (size_t)n);
		session_ops(s)->backend_input(s);
	} while (!s->closed && s->phase == PH_BACKEND && !s->b.hs &&
	    conn_pending(&s->b));
}

static void
session_backend_io(struct ev_io *io, uint32_t revents)
{
	struct session	*s = io->arg;

	if (s->phase == PH_RELAY) {
		relay_backend_event(s, revents);
		return;
	}
	if (s->b.hs) {
		session_backend_hs(s);
	} else {
		if ((revents & EPOLLOUT) &&
		    session_flush(&s->b, &s->bout) == -1) {
			session_backend_failed(s, "write failed");
		} else if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
			session_backend_read(s);
		}
	}
	session_resume(s);
}

/* The address the client connected to: the PROXY header's destination
 * on a proxied session, else our socket's.  0 / -1. */
static int
session_local_sa(const struct session *s, struct sockaddr_storage *ss)
{
	socklen_t	len = sizeof(*ss);

	if (s->have_laddr) {
		*ss = s->laddr;
		return 0;
	}
	return getsockname(s->c.fd, (struct sockaddr *)ss, &len);
}

/*
 * PROXY protocol header towards the backend (haproxy's spec, v1 text or
 * v2 binary): the client's address and the address it connected to.
 * Written first, in clear, before any TLS; our own numbers only.
 */
static void
session_proxy_header(struct session *s, enum forward_mode fwd)
{
	static const uint8_t	sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00,
	    0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
	struct sockaddr_storage	cs, ls;
	char			laddr[CONF_MAX_ADDR] = "", hdr[232];
	uint16_t		lport = 0;
	uint8_t			bin[16 + 36];
	size_t			alen, n = 0;
	int			v6;

	if (session_client_sa(s, &cs) == -1 ||
	    session_local_sa(s, &ls) == -1 ||
	    sockaddr_fmt((struct sockaddr *)&ls, laddr, sizeof(laddr),
	    &lport) == -1) {
		return;
	}
	v6 = cs.ss_family == AF_INET6;
	if (cs.ss_family != ls.ss_family) {
		if (fwd == FORWARD_PROXY_V1) {
			session_backend_write(s, "PROXY UNKNOWN\r\n", 15);
		}
		return;
	}
	if (fwd == FORWARD_PROXY_V1) {
		n = (size_t)snprintf(hdr, sizeof(hdr), "PROXY %s %s %s %u %u\r\n",
		    v6 ? "TCP6" : "TCP4", s->caddr, laddr, s->cport, lport);
		session_backend_write(s, hdr, n);
		return;
	}
	memcpy(bin, sig, sizeof(sig));
	bin[12] = 0x21;				/* version 2, PROXY */
	bin[13] = v6 ? 0x21 : 0x11;		/* TCP over IPv6 / IPv4 */
	alen = v6 ? 36 : 12;
	bin[14] = 0;
	bin[15] = (uint8_t)alen;
	if (v6) {
		memcpy(bin + 16, &((struct sockaddr_in6 *)&cs)->sin6_addr, 16);
		memcpy(bin + 32, &((struct sockaddr_in6 *)&ls)->sin6_addr, 16);
	} else {
		memcpy(bin + 16, &((struct sockaddr_in *)&cs)->sin_addr, 4);
		memcpy(bin + 20, &((struct sockaddr_in *)&ls)->sin_addr, 4);
	}
	bin[16 + alen - 4] = (uint8_t)(s->cport >> 8);
	bin[16 + alen - 3] = (uint8_t)s->cport;
	bin[16 + alen - 2] = (uint8_t)(lport >> 8);
	bin[16 + alen - 1] = (uint8_t)lport;
	session_backend_write(s, (const char *)bin, 16 + alen);
}

static int
session_backend_tls_conn(struct session *s)
{
	const char		*err = NULL;
	const struct backend_tls *bt = tlsctx_backend(s->pl->bserver);

	s->b.tls = tls_conn_new_client(tlsctx_client_for(s->pl->bserver),
	    s->b.fd, bt->name[0] ? bt->name : s->pl->bhost, &err);
	if (s->b.tls == NULL) {
		session_backend_failed(s, err ? err : "TLS setup failed");
		return -1;
	}
	if (bt->verify == VERIFY_INSECURE) {
		log_warnx("session=%016llx backend=%s: certificate not "
		    "verified (verify insecure)", (unsigned long long)s->id,
		    s->pl->backend_name);
	}
	s->b.hs = 1;
	s->hs_deadline = ev_clock_ms() +
	    (uint64_t)bconf->timeout_handshake * 1000;
	session_timer_arm(s);
	session_backend_hs(s);
	return 0;
}

void
session_backend_starttls(struct session *s)
{
	/* Backend bytes after its STARTTLS reply are never taken as the
	 * post-TLS conversation (row 16): abort instead. */
	if (buf_len(&s->pl->bin) > 0) {
		session_backend_failed(s, "data after the STARTTLS reply");
		return;
	}
	(void)session_backend_tls_conn(s);
}

/*
 * Username rewriting (config "username"): on the decoded name, once, in
 * this order: lowercase, strip the domain, add a domain where there is
 * none.  Nothing in the name is ever expanded.  -1 if the result is
 * empty or longer than MAX_USER.
 */
static int
session_rewrite_user(struct session *s)
{
	char	*u = s->pl->creds.user, *d;
	size_t	 i, n;

	if (bconf->user_lowercase) {
		for (i = 0; u[i] != '\0'; i++) {
			if (u[i] >= 'A' && u[i] <= 'Z') {
				u[i] = (char)(u[i] - 'A' + 'a');
			}
		}
	}
	if (bconf->user_strip_domain &&
	    (d = strrchr(u, bconf->domain_delimiter)) != NULL) {
		*d = '\0';
	}
	if (bconf->user_add_domain[0] != '\0' &&
	    strchr(u, bconf->domain_delimiter) == NULL) {
		n = strlen(u);
		if (n + 1 + strlen(bconf->user_add_domain) > MAX_USER) {
			return -1;
		}
		u[n] = bconf->domain_delimiter;
		memcpy(u + n + 1, bconf->user_add_domain,
		    strlen(bconf->user_add_domain) + 1);
	}
	return u[0] == '\0' ? -1 : 0;
}

void
session_lookup(struct session *s)
{
	struct msg_out		m;
	struct sockaddr_storage	ss;
	char			saddr[CONF_MAX_ADDR] = "";
	uint16_t		sport = 0;

	if (session_rewrite_user(s) == -1) {
		s->phase = PH_LOOKUP;
		session_ops(s)->backend_ready(s, BACKEND_NONE, NULL);
		return;
	}

	/* Only maps look at the server address: no getsockname() without. */
	if (bconf->nmaps > 0 && session_local_sa(s, &ss) == 0) {
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
    const char *login_user, const char *backend, unsigned server_idx,
    const char *host, int fd)
{
	int	fl;

	if (s->closed || s->phase != PH_LOOKUP) {
		if (fd != -1) {
			close(fd);
		}
		return;
	}
	snprintf(s->pl->backend_name, sizeof(s->pl->backend_name), "%s",
	    backend);
	if (st == BACKEND_OK) {
		conn_init(&s->b, fd);
		/* The dialer's sockets are non-blocking already; check. */
		fl = fcntl(fd, F_GETFL);
		if (fl == -1 || (fl & O_NONBLOCK) == 0) {
			set_nonblock(fd);
		}
		memset(&s->bio, 0, sizeof(s->bio));
		ev_io_set(&s->bio, fd, EPOLLIN | EPOLLRDHUP, session_backend_io,
		    s);
		s->pl->bserver = server_idx;
		s->pl->btls = tlsctx_backend(server_idx)->mode;
		snprintf(s->pl->bhost, sizeof(s->pl->bhost), "%s", host);
		s->pl->bstate = 0;
		buf_release(&s->pl->bin);
		s->phase = PH_BACKEND;
		if (tlsctx_backend(server_idx)->forward == FORWARD_PROXY_V1 ||
		    tlsctx_backend(server_idx)->forward == FORWARD_PROXY_V2) {
			session_proxy_header(s,
			    tlsctx_backend(server_idx)->forward);
			if (s->closed || s->phase != PH_BACKEND) {
				session_resume(s);	/* the write failed */
				return;
			}
		}
	}
	session_ops(s)->backend_ready(s, st, login_user);
	if (st == BACKEND_OK && !s->closed && s->phase == PH_BACKEND &&
	    s->pl->btls == TLS_MODE_IMPLICIT) {
		(void)session_backend_tls_conn(s);
	}
	session_resume(s);
}

void
session_backend_drop(struct session *s)
{
	if (s->b.fd != -1) {
		ev_io_del(&s->bio);
		conn_close(&s->b);
	}
	if (s->hs_deadline != 0 && s->phase != PH_TLS) {
		s->hs_deadline = 0;
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

/* MSG_AUTH_OK, MSG_SESSION_ALIVE or MSG_SESSION_END for this session. */
void
session_event_msg(struct session *s, enum msg_type type)
{
	struct msg_out	m;

	if (s->proxy_local) {
		return;		/* no client address: never tell pbsd */
	}
	if (bconf->pbsd_socket[0] == '\0') {
		return;		/* only pbsd listens: save the parent a hop */
	}
	msg_init(&m, type);
	msg_add_u64(&m, s->id);
	msg_add_u8(&m, (uint8_t)s->proto);
	msg_add_str(&m, s->user ? s->user : "");
	msg_add_str(&m, s->caddr);
	msg_add_u16(&m, s->cport);
	worker_send(&m);
}

void
session_login_ok(struct session *s, const char *login_user)
{
	(void)login_user;
	struct sockaddr_storage	ss;

	/* Only here, after the backend said OK, does pbsd hear of it. */
	session_event_msg(s, MSG_AUTH_OK);
	if (session_client_sa(s, &ss) == 0) {
		pen_auth_result(worker_scoreboard(), (struct sockaddr *)&ss,
		    s->user ? s->user : "", 1);
	}
	free(s->backend);
	if ((s->backend = strdup(s->pl->backend_name)) == NULL) {
		fatal("strdup");
	}
	log_info("session=%016llx client=%s:%u event=auth-ok backend=%s%s",
	    (unsigned long long)s->id, s->caddr, s->cport, s->backend,
	    s->b.tls ? " backend-tls=yes" : "");
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
	if (buf_len(&s->cout) == 0 || s->phase == PH_TLS) {
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
	char	user[2 * MAX_USER + 8], proxy[CONF_MAX_ADDR + 16] = "";

	if (s->paddr[0] != '\0') {
		(void)snprintf(proxy, sizeof(proxy), " proxy=%s:%u", s->paddr,
		    s->pport);
	}
	log_info("session=%016llx client=%s:%u user=%s backend=%s in=%llu "
	    "out=%llu duration=%.3f reason=%s%s", (unsigned long long)s->id,
	    s->caddr, s->cport,
	    s->user ? log_escape(span_from_str(s->user), user, sizeof(user)) :
	    "-", s->backend ? s->backend : "-",
	    (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out,
	    (double)(ev_clock_ms() - s->started) / 1000.0,
	    reason ? reason : "unknown", proxy);
}

void
session_close(struct session *s, const char *reason)
{
	if (s->closed) {
		return;
	}
	s->closed = 1;
	session_log_end(s, reason);
	if (s->backend != NULL) {
		session_event_msg(s, MSG_SESSION_END);
	}
	ev_timer_del(&s->timer);
	/* The client socket was accepted here and never shared: closing
	 * it ends its epoll registration (the backend's fd came through
	 * other processes, so it gets an explicit delete). */
	ev_io_del_closing(&s->cio);
	relay_free(s);
	session_backend_drop(s);
	conn_close(&s->c);
	prelogin_free(s);
	free(s->pp);
	s->pp = NULL;
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
	conn_init(&s->c, fd);
	conn_init(&s->b, -1);
	s->dir[0].pipe[0] = s->dir[0].pipe[1] = -1;
	s->dir[1].pipe[0] = s->dir[1].pipe[1] = -1;
	s->started = ev_clock_ms();
	s->login_deadline = s->started + (uint64_t)bconf->timeout_login * 1000;
	s->phase = PH_PREAUTH;
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
	if (s->lc->tls != TLS_MODE_IMPLICIT) {
		session_ops(s)->greet(s);
		return;
	}
	if (session_tls_begin(s) == 0) {
		session_tls_event(s);
	}
}

void
session_reject(struct session *s, const char *bye, const char *reason)
{
	if (s->lc->tls == TLS_MODE_IMPLICIT) {
		/* No clear-text words on a TLS port. */
		session_close(s, reason);
		return;
	}
	session_reply(s, bye, strlen(bye));
	session_finish(s, reason);
}
