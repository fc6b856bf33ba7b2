/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * loadgen: the benchmark's load generator.  A bench tool run by whoever
 * runs `make bench`, unprivileged apart from raising its own soft nofile
 * limit, against loopback targets only.  It trusts no server: responses
 * are read through the bounded benchproto parsers.  One epoll loop drives
 * N non-blocking connections through IMAP or POP3 login cycles (plain or
 * implicit TLS via OpenSSL, full or resumed handshakes), holds logged-in
 * connections open (idle), or fetches one message repeatedly (fetch).  It
 * always stops by itself: at its duration, its cycle count, or (idle) when
 * its standard input is closed or a line arrives on it.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "benchproto.h"
#include "buf.h"
#include "bailey_limits.h"
#include "log.h"

#define LG_MAX_EVENTS	512
#define LG_LINE_MAX	(BACKEND_MAX_LINE * 2)
#define LG_IN_MAX	(1024 * 1024)
#define LG_READ_CHUNK	65536
#define LG_MAX_SAMPLES	(4 * 1024 * 1024)
#define LG_STDIN_TAG	UINT32_MAX
#define LG_NS		1000000000ULL

enum lg_proto {
	LG_IMAP = 0,
	LG_POP3
};

enum lg_work {
	LG_LOGIN = 0,
	LG_IDLE,
	LG_FETCH
};

enum lg_tls {
	LG_TLS_NONE = 0,
	LG_TLS_FULL,
	LG_TLS_RESUME
};

enum lg_state {
	LG_ST_FREE = 0,
	LG_ST_CONNECTING,
	LG_ST_HANDSHAKE,
	LG_ST_GREETING,
	LG_ST_LOGIN,		/* IMAP LOGIN or POP3 PASS sent */
	LG_ST_USER,		/* POP3 USER sent */
	LG_ST_SELECT,
	LG_ST_FETCH,
	LG_ST_HELD,		/* idle: logged in, waiting */
	LG_ST_LOGOUT,
	LG_ST_CLOSING		/* logout answered, waiting for EOF */
};

struct lg_conn {
	int		 c_fd;
	enum lg_state	 c_state;
	SSL		*c_ssl;
	SSL_SESSION	*c_sess;	/* kept across cycles (resume) */
	struct buf	 c_in;
	struct buf	 c_out;
	struct bp_resp	 c_rr;
	uint64_t	 c_start;
	uint64_t	 c_deadline;
	unsigned	 c_fetches;
	int		 c_multi;	/* POP3: inside a RETR body */
	uint32_t	 c_events;
};

struct lg_opts {
	const char	*o_host;
	unsigned	 o_port;
	enum lg_proto	 o_proto;
	enum lg_work	 o_work;
	enum lg_tls	 o_tls;
	size_t		 o_conns;
	uint64_t	 o_secs;
	uint64_t	 o_count;
	const char	*o_user;
	uint64_t	 o_nusers;
	const char	*o_pass;
	uint64_t	 o_fetches;
	uint64_t	 o_ramp;
	uint64_t	 o_seed;
	uint64_t	 o_timeout;
};

struct lg {
	struct lg_opts	 g_o;
	int		 g_ep;
	struct lg_conn	*g_conns;
	struct sockaddr_in g_dst;
	SSL_CTX		*g_ctx;
	SSL_SESSION	*g_sess;	/* latest, for slots without one */
	uint64_t	 g_rng;
	uint64_t	 g_t0;
	uint64_t	 g_tend;
	uint64_t	 g_started;
	uint64_t	 g_ok;
	uint64_t	 g_err;
	uint64_t	 g_bytes;
	uint64_t	 g_resumed;
	uint64_t	 g_handshakes;
	size_t		 g_inflight;
	size_t		 g_held;
	int		 g_ready;	/* idle: READY printed */
	int		 g_release;	/* idle: stdin said stop */
	uint32_t	*g_lat;
	size_t		 g_nlat;
	char		 g_first_err[200];
};

static volatile sig_atomic_t lg_stop;

static void
lg_onsig(int sig)
{
	(void)sig;
	lg_stop = 1;
}

static uint64_t
lg_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * LG_NS + (uint64_t)ts.tv_nsec;
}

static uint64_t
lg_rand(struct lg *g)
{
	/* xorshift64*: reproducible user choice from -S. */
	g->g_rng ^= g->g_rng >> 12;
	g->g_rng ^= g->g_rng << 25;
	g->g_rng ^= g->g_rng >> 27;
	return g->g_rng * 2685821657736338717ULL;
}

static void
lg_usage(void)
{
	fprintf(stderr, "usage: loadgen -p port [-h host] [-P imap|pop3] "
	    "[-W login|idle|fetch]\n"
	    "    [-t none|full|resume] [-c conns] [-d secs] [-n cycles] "
	    "[-u userprefix]\n"
	    "    [-U nusers] [-k password] [-f fetches] [-r ramp] "
	    "[-S seed] [-o timeout]\n");
	exit(2);
}

/* Error of one connection: counted, the first one kept for the report. */
static void
lg_fail(struct lg *g, struct lg_conn *c, const char *why, struct span sp)
{
	char	 esc[96];

	g->g_err++;
	if (g->g_first_err[0] == '\0') {
		(void)snprintf(g->g_first_err, sizeof(g->g_first_err),
		    "state %d: %s \"%s\"", (int)c->c_state, why,
		    log_escape(sp, esc, sizeof(esc)));
	}
}

static void
lg_set_events(struct lg *g, struct lg_conn *c, uint32_t ev, size_t idx)
{
	struct epoll_event	 e;

	if (c->c_events == ev) {
		return;
	}
	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.u32 = (uint32_t)idx;
	if (epoll_ctl(g->g_ep, EPOLL_CTL_MOD, c->c_fd, &e) == -1) {
		fatal("epoll_ctl mod");
	}
	c->c_events = ev;
}

static void
lg_close(struct lg *g, struct lg_conn *c)
{
	if (c->c_ssl != NULL) {
		SSL_free(c->c_ssl);
		c->c_ssl = NULL;
	}
	if (c->c_fd != -1) {
		(void)close(c->c_fd);
		c->c_fd = -1;
	}
	buf_release(&c->c_in);
	buf_release(&c->c_out);
	if (c->c_state == LG_ST_HELD) {
		g->g_held--;
	} else if (c->c_state != LG_ST_FREE) {
		g->g_inflight--;
	}
	c->c_state = LG_ST_FREE;
}

static void
lg_cycle_done(struct lg *g, struct lg_conn *c)
{
	uint64_t us = (lg_now() - c->c_start) / 1000;

	g->g_ok++;
	if (g->g_nlat < LG_MAX_SAMPLES) {
		g->g_lat[g->g_nlat++] = us > UINT32_MAX ? UINT32_MAX :
		    (uint32_t)us;
	}
	lg_close(g, c);
}

static int
lg_connect(struct lg *g, struct lg_conn *c, size_t idx)
{
	struct epoll_event	 e;
	int			 on = 1;

	c->c_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (c->c_fd == -1) {
		return -1;
	}
	(void)setsockopt(c->c_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(c->c_fd, (struct sockaddr *)&g->g_dst,
	    sizeof(g->g_dst)) == -1 && errno != EINPROGRESS) {
		return -1;
	}
	memset(&e, 0, sizeof(e));
	e.events = EPOLLOUT;
	e.data.u32 = (uint32_t)idx;
	if (epoll_ctl(g->g_ep, EPOLL_CTL_ADD, c->c_fd, &e) == -1) {
		return -1;
	}
	c->c_events = EPOLLOUT;
	return 0;
}

static void
lg_start(struct lg *g, size_t idx)
{
	struct lg_conn	*c = &g->g_conns[idx];
	int		 imap = g->g_o.o_proto == LG_IMAP;

	buf_init(&c->c_in, LG_IN_MAX);
	buf_init(&c->c_out, 4096);
	bp_resp_init(&c->c_rr, imap);
	c->c_multi = 0;
	c->c_fetches = (unsigned)g->g_o.o_fetches;
	c->c_start = lg_now();
	c->c_deadline = c->c_start + g->g_o.o_timeout * LG_NS;
	c->c_state = LG_ST_CONNECTING;
	g->g_inflight++;
	g->g_started++;
	if (lg_connect(g, c, idx) == -1) {
		lg_fail(g, c, strerror(errno), SPAN_LIT(""));
		lg_close(g, c);
	}
}

/* Queues a command; the format stays a literal so it is checked. */
#define LG_SEND(c, ...) do {						\
	if (buf_addf(&(c)->c_out, __VA_ARGS__) == -1) {			\
		fatalx("command too long");				\
	}								\
} while (0)

static void
lg_send_login(struct lg *g, struct lg_conn *c)
{
	char	 user[128];

	if (g->g_o.o_nusers == 0) {
		(void)snprintf(user, sizeof(user), "%s", g->g_o.o_user);
	} else {
		(void)snprintf(user, sizeof(user), "%s%llu", g->g_o.o_user,
		    (unsigned long long)(lg_rand(g) % g->g_o.o_nusers));
	}
	if (g->g_o.o_proto == LG_IMAP) {
		LG_SEND(c, "L LOGIN %s %s\r\n", user, g->g_o.o_pass);
		c->c_state = LG_ST_LOGIN;
	} else {
		LG_SEND(c, "USER %s\r\n", user);
		c->c_state = LG_ST_USER;
	}
}

static void
lg_send_logout(struct lg *g, struct lg_conn *c)
{
	if (g->g_o.o_proto == LG_IMAP) {
		LG_SEND(c, "Q LOGOUT\r\n");
	} else {
		LG_SEND(c, "QUIT\r\n");
	}
	c->c_state = LG_ST_LOGOUT;
}

static void
lg_send_fetch(struct lg *g, struct lg_conn *c)
{
	if (g->g_o.o_proto == LG_IMAP) {
		LG_SEND(c, "F FETCH 1 BODY[]\r\n");
	} else {
		LG_SEND(c, "RETR 1\r\n");
	}
	c->c_state = LG_ST_FETCH;
}

/* After a successful login: what the workload does next. */
static void
lg_logged_in(struct lg *g, struct lg_conn *c)
{
	if (g->g_o.o_work == LG_IDLE) {
		c->c_state = LG_ST_HELD;
		g->g_inflight--;
		g->g_held++;
	} else if (g->g_o.o_work == LG_FETCH && g->g_o.o_proto == LG_IMAP) {
		LG_SEND(c, "S SELECT INBOX\r\n");
		c->c_state = LG_ST_SELECT;
	} else if (g->g_o.o_work == LG_FETCH) {
		lg_send_fetch(g, c);
	} else {
		lg_send_logout(g, c);
	}
}

static void
lg_fetched(struct lg *g, struct lg_conn *c)
{
	if (c->c_fetches > 0) {
		c->c_fetches--;
	}
	if (c->c_fetches > 0 && !lg_stop && lg_now() < g->g_tend) {
		lg_send_fetch(g, c);
	} else {
		lg_send_logout(g, c);
	}
}

/* Tagged IMAP reply for the current state; 0, or -1 on a failure. */
static int
lg_imap_tagged(struct lg *g, struct lg_conn *c, struct span line)
{
	static const char	 tags[] = "LSFQ";
	static const enum lg_state sts[] = { LG_ST_LOGIN, LG_ST_SELECT,
	    LG_ST_FETCH, LG_ST_LOGOUT };
	struct span		 rest, tag = bp_token(line, &rest);
	struct span		 st = bp_token(rest, &rest);
	size_t			 i;

	for (i = 0; i < 4; i++) {
		if (sts[i] == c->c_state) {
			break;
		}
	}
	if (i == 4 || tag.len != 1 || span_byte(tag, 0) != (uint8_t)tags[i]) {
		lg_fail(g, c, "unexpected tag", line);
		return -1;
	}
	if (!span_eq_ci(st, "OK")) {
		lg_fail(g, c, "command failed", line);
		return -1;
	}
	switch (c->c_state) {
	case LG_ST_LOGIN:
		lg_logged_in(g, c);
		break;
	case LG_ST_SELECT:
		lg_send_fetch(g, c);
		break;
	case LG_ST_FETCH:
		lg_fetched(g, c);
		break;
	default:
		c->c_state = LG_ST_CLOSING;
		break;
	}
	return 0;
}

static int
lg_imap_line(struct lg *g, struct lg_conn *c, struct span line)
{
	if (c->c_state == LG_ST_GREETING) {
		if (!span_has_prefix_ci(line, "* OK")) {
			lg_fail(g, c, "bad greeting", line);
			return -1;
		}
		lg_send_login(g, c);
		return 0;
	}
	if (span_has_prefix_ci(line, "* ") || span_eq(line, "*") ||
	    span_eq(line, ")")) {
		return 0;	/* untagged data, or the end of a FETCH */
	}
	if (c->c_state == LG_ST_HELD || c->c_state == LG_ST_CLOSING) {
		lg_fail(g, c, "unsolicited", line);
		return -1;
	}
	return lg_imap_tagged(g, c, line);
}

static int
lg_pop3_line(struct lg *g, struct lg_conn *c, struct span line)
{
	if (c->c_multi) {
		if (span_eq(line, ".")) {
			c->c_multi = 0;
			lg_fetched(g, c);
		} else {
			g->g_bytes += line.len + 2;
		}
		return 0;
	}
	if (!span_has_prefix_ci(line, "+OK")) {
		lg_fail(g, c, "not +OK", line);
		return -1;
	}
	switch (c->c_state) {
	case LG_ST_GREETING:
		lg_send_login(g, c);
		break;
	case LG_ST_USER:
		LG_SEND(c, "PASS %s\r\n", g->g_o.o_pass);
		c->c_state = LG_ST_LOGIN;
		break;
	case LG_ST_LOGIN:
		lg_logged_in(g, c);
		break;
	case LG_ST_FETCH:
		c->c_multi = 1;
		break;
	case LG_ST_LOGOUT:
		c->c_state = LG_ST_CLOSING;
		break;
	default:
		lg_fail(g, c, "unsolicited", line);
		return -1;
	}
	return 0;
}

/*
 * UNTRUSTED: server responses, bounded by LG_LINE_MAX per line and
 * BP_MAX_RESP_LITERAL per literal.  Returns 0, or -1 when the connection
 * failed.
 */
static int
lg_parse(struct lg *g, struct lg_conn *c)
{
	struct span	 line;
	const char	*errstr = NULL;
	uint64_t	 before;
	size_t		 used;
	int		 r;

	for (;;) {
		before = c->c_rr.rr_lit_bytes;
		r = bp_resp_next(&c->c_rr, &c->c_in, LG_LINE_MAX, &line, &used,
		    &errstr);
		g->g_bytes += c->c_rr.rr_lit_bytes - before;
		if (r == 0) {
			return 0;
		}
		if (r == -1) {
			lg_fail(g, c, errstr, SPAN_LIT(""));
			return -1;
		}
		r = g->g_o.o_proto == LG_IMAP ? lg_imap_line(g, c, line) :
		    lg_pop3_line(g, c, line);
		buf_consume(&c->c_in, used);
		if (r == -1) {
			return -1;
		}
	}
}

/* One read from the socket or TLS: > 0 bytes, 0 EOF, -1 error, -2 wait. */
static ssize_t
lg_recv(struct lg_conn *c, void *p, size_t room)
{
	ssize_t	 n;
	int	 e;

	if (c->c_ssl != NULL) {
		n = SSL_read(c->c_ssl, p, room > INT32_MAX ? INT32_MAX :
		    (int)room);
		if (n > 0) {
			return n;
		}
		e = SSL_get_error(c->c_ssl, (int)n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			return -2;
		}
		return e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ?
		    0 : -1;
	}
	n = recv(c->c_fd, p, room, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		return -2;
	}
	return n;
}

/*
 * A FETCH body is only counted: while the buffer is empty, read it into
 * scratch space instead (buf zeroes and frees its storage on every drain,
 * which would make the generator the bottleneck).
 */
static ssize_t
lg_read_literal(struct lg *g, struct lg_conn *c)
{
	static uint8_t	 scratch[256 * 1024];
	uint64_t	 left;
	ssize_t		 n, total = 0;

	while (buf_len(&c->c_in) == 0 &&
	    (left = bp_resp_literal_left(&c->c_rr)) > 0) {
		n = lg_recv(c, scratch, left < sizeof(scratch) ?
		    (size_t)left : sizeof(scratch));
		if (n <= 0) {
			return n == -2 ? total : n;
		}
		bp_resp_literal_skipped(&c->c_rr, (size_t)n);
		g->g_bytes += (uint64_t)n;
		total += n;
	}
	return total > 0 ? total : -2;
}

/* Reads into c_in: 1 = got bytes or nothing yet, 0 = EOF, -1 = error. */
static int
lg_read(struct lg_conn *c)
{
	uint8_t	*p;
	size_t	 room, chunk;
	ssize_t	 n;

	/*
	 * buf frees (and zeroes) its storage whenever it drains, so small
	 * reads keep login cycles cheap; only bodies get big chunks.
	 */
	chunk = c->c_multi ? LG_READ_CHUNK : 2048;
	for (;;) {
		if (buf_reserve(&c->c_in, chunk, &p, &room) == -1) {
			return 1;
		}
		n = lg_recv(c, p, room);
		if (n == -2) {
			return 1;
		}
		if (n <= 0) {
			return (int)n;
		}
		buf_commit(&c->c_in, (size_t)n);
		if (c->c_ssl == NULL && (size_t)n < room) {
			return 1;
		}
	}
}

/* Writes c_out: 0 (maybe partly), -1 on error. */
static int
lg_flush(struct lg_conn *c)
{
	struct span	 sp;
	ssize_t		 n;

	while (buf_len(&c->c_out) > 0) {
		sp = buf_span(&c->c_out);
		if (c->c_ssl != NULL) {
			n = SSL_write(c->c_ssl, sp.p, (int)sp.len);
			if (n <= 0) {
				n = SSL_get_error(c->c_ssl, (int)n);
				return n == SSL_ERROR_WANT_READ ||
				    n == SSL_ERROR_WANT_WRITE ? 0 : -1;
			}
		} else {
			n = send(c->c_fd, sp.p, sp.len, MSG_NOSIGNAL);
			if (n == -1) {
				return errno == EAGAIN || errno == EINTR ?
				    0 : -1;
			}
		}
		buf_consume(&c->c_out, (size_t)n);
	}
	return 0;
}

static int
lg_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct lg_conn	*c = SSL_get_app_data(ssl);
	struct lg	*g = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (c == NULL || g == NULL) {
		return 0;
	}
	if (c->c_sess != NULL) {
		SSL_SESSION_free(c->c_sess);
	}
	c->c_sess = sess;
	/* A slot's first cycle may resume a sibling's session. */
	if (g->g_sess != NULL) {
		SSL_SESSION_free(g->g_sess);
	}
	SSL_SESSION_up_ref(sess);
	g->g_sess = sess;
	return 1;
}

static int
lg_tls_begin(struct lg *g, struct lg_conn *c)
{
	if ((c->c_ssl = SSL_new(g->g_ctx)) == NULL ||
	    SSL_set_fd(c->c_ssl, c->c_fd) != 1) {
		return -1;
	}
	SSL_set_app_data(c->c_ssl, c);
	SSL_set_connect_state(c->c_ssl);
	if (g->g_o.o_tls == LG_TLS_RESUME && (c->c_sess != NULL ||
	    g->g_sess != NULL)) {
		(void)SSL_set_session(c->c_ssl, c->c_sess != NULL ?
		    c->c_sess : g->g_sess);
	}
	c->c_state = LG_ST_HANDSHAKE;
	return 0;
}

/* 1 = done, 0 = in progress, -1 = failed. */
static int
lg_tls_step(struct lg *g, struct lg_conn *c, uint32_t *want_r)
{
	int	 r, e;

	r = SSL_do_handshake(c->c_ssl);
	if (r == 1) {
		g->g_handshakes++;
		if (SSL_session_reused(c->c_ssl)) {
			g->g_resumed++;
		}
		c->c_state = LG_ST_GREETING;
		return 1;
	}
	e = SSL_get_error(c->c_ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		*want_r = EPOLLIN;
		return 0;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		*want_r = EPOLLOUT;
		return 0;
	}
	return -1;
}

/* Connect and handshake phases; 1 = proceed to I/O, 0 = wait, -1 fail. */
static int
lg_setup_step(struct lg *g, struct lg_conn *c, uint32_t *want_r)
{
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	if (c->c_state == LG_ST_CONNECTING) {
		if (getsockopt(c->c_fd, SOL_SOCKET, SO_ERROR, &err,
		    &len) == -1 || err != 0) {
			lg_fail(g, c, "connect", span_from_str(strerror(err)));
			return -1;
		}
		if (g->g_o.o_tls == LG_TLS_NONE) {
			c->c_state = LG_ST_GREETING;
			return 1;
		}
		if (lg_tls_begin(g, c) == -1) {
			lg_fail(g, c, "SSL_new", SPAN_LIT(""));
			return -1;
		}
	}
	if (c->c_state == LG_ST_HANDSHAKE) {
		err = lg_tls_step(g, c, want_r);
		if (err == -1) {
			lg_fail(g, c, "TLS handshake", SPAN_LIT(""));
		}
		return err;
	}
	return 1;
}

static void
lg_event(struct lg *g, size_t idx)
{
	struct lg_conn	*c = &g->g_conns[idx];
	uint32_t	 want = EPOLLIN;
	int		 r;

	if (c->c_state == LG_ST_FREE) {
		return;
	}
	r = lg_setup_step(g, c, &want);
	if (r == -1) {
		lg_close(g, c);
		return;
	}
	if (r == 0) {
		lg_set_events(g, c, want, idx);
		return;
	}
	r = 1;
	if (lg_read_literal(g, c) == 0) {
		r = 0;
	} else {
		r = lg_read(c);
	}
	if (r == -1 || lg_parse(g, c) == -1 || lg_flush(c) == -1) {
		if (r == -1) {
			lg_fail(g, c, "read error", SPAN_LIT(""));
		}
		lg_close(g, c);
		return;
	}
	if (c->c_state == LG_ST_CLOSING && c->c_ssl != NULL &&
	    !(SSL_get_shutdown(c->c_ssl) & SSL_SENT_SHUTDOWN)) {
		(void)SSL_shutdown(c->c_ssl);	/* keeps the session valid */
	}
	if (r == 0) {
		if (c->c_state == LG_ST_CLOSING) {
			lg_cycle_done(g, c);
		} else {
			lg_fail(g, c, "early EOF", SPAN_LIT(""));
			lg_close(g, c);
		}
		return;
	}
	lg_set_events(g, c, EPOLLIN | (buf_len(&c->c_out) > 0 ?
	    EPOLLOUT : 0), idx);
}

/* Whether new cycles may start now. */
static int
lg_may_start(const struct lg *g, uint64_t now)
{
	if (lg_stop || now >= g->g_tend) {
		return 0;
	}
	if (g->g_o.o_work == LG_IDLE) {
		return !g->g_ready;
	}
	return g->g_o.o_count == 0 || g->g_started < g->g_o.o_count;
}

static void
lg_fill(struct lg *g, uint64_t now)
{
	size_t	 i;

	for (i = 0; i < g->g_o.o_conns; i++) {
		if (!lg_may_start(g, now) || g->g_inflight >= g->g_o.o_ramp) {
			return;
		}
		if (g->g_conns[i].c_state == LG_ST_FREE) {
			lg_start(g, i);
		}
	}
}

static void
lg_timeouts(struct lg *g, uint64_t now)
{
	struct lg_conn	*c;
	size_t		 i;

	for (i = 0; i < g->g_o.o_conns; i++) {
		c = &g->g_conns[i];
		if (c->c_state != LG_ST_FREE && c->c_state != LG_ST_HELD &&
		    now > c->c_deadline) {
			lg_fail(g, c, "timeout", SPAN_LIT(""));
			lg_close(g, c);
		}
	}
}

static void
lg_stdin_event(struct lg *g)
{
	char	 tmp[256];
	ssize_t	 n;

	/* Any line, EOF or error on stdin releases the held connections. */
	n = read(STDIN_FILENO, tmp, sizeof(tmp));
	if (n != -1 || errno != EAGAIN) {
		g->g_release = 1;
	}
}

/* Whether the run is over. */
static int
lg_done(struct lg *g, uint64_t now)
{
	if (lg_stop || now >= g->g_tend) {
		return 1;
	}
	if (g->g_o.o_work == LG_IDLE) {
		if (!g->g_ready && g->g_held == g->g_o.o_conns) {
			g->g_ready = 1;
			printf("READY held=%zu secs=%.3f\n", g->g_held,
			    (double)(now - g->g_t0) / LG_NS);
			fflush(stdout);
		}
		return g->g_release;
	}
	return g->g_o.o_count != 0 && g->g_started >= g->g_o.o_count &&
	    g->g_inflight == 0;
}

static void
lg_run(struct lg *g)
{
	struct epoll_event	 evs[LG_MAX_EVENTS];
	struct epoll_event	 e;
	uint64_t		 now, last_to = 0;
	int			 n, i;

	if (g->g_o.o_work == LG_IDLE) {
		memset(&e, 0, sizeof(e));
		e.events = EPOLLIN;
		e.data.u32 = LG_STDIN_TAG;
		(void)epoll_ctl(g->g_ep, EPOLL_CTL_ADD, STDIN_FILENO, &e);
	}
	g->g_t0 = lg_now();
	g->g_tend = g->g_t0 + g->g_o.o_secs * LG_NS;
	for (;;) {
		now = lg_now();
		if (lg_done(g, now)) {
			break;
		}
		lg_fill(g, now);
		n = epoll_wait(g->g_ep, evs, LG_MAX_EVENTS, 50);
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 == LG_STDIN_TAG) {
				lg_stdin_event(g);
			} else {
				lg_event(g, evs[i].data.u32);
			}
		}
		now = lg_now();
		if (now - last_to > LG_NS / 10) {
			lg_timeouts(g, now);
			last_to = now;
		}
	}
}

static int
lg_cmp_u32(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t
lg_pct(const struct lg *g, unsigned pct)
{
	size_t	 i;

	if (g->g_nlat == 0) {
		return 0;
	}
	i = (g->g_nlat * pct + 99) / 100;
	return g->g_lat[i == 0 ? 0 : i - 1];
}

static void
lg_report(struct lg *g)
{
	static const char *works[] = { "login", "idle", "fetch" };
	static const char *tlss[] = { "none", "full", "resume" };
	double	 secs = (double)(lg_now() - g->g_t0) / LG_NS;

	qsort(g->g_lat, g->g_nlat, sizeof(*g->g_lat), lg_cmp_u32);
	printf("RESULT workload=%s proto=%s tls=%s conns=%zu ok=%llu "
	    "err=%llu secs=%.3f rate=%.1f p50_us=%u p99_us=%u bytes=%llu "
	    "mbps=%.1f handshakes=%llu resumed=%llu held=%zu\n",
	    works[g->g_o.o_work], g->g_o.o_proto == LG_IMAP ? "imap" : "pop3",
	    tlss[g->g_o.o_tls], g->g_o.o_conns, (unsigned long long)g->g_ok,
	    (unsigned long long)g->g_err, secs,
	    secs > 0 ? (double)g->g_ok / secs : 0.0, lg_pct(g, 50),
	    lg_pct(g, 99), (unsigned long long)g->g_bytes,
	    secs > 0 ? (double)g->g_bytes / secs / 1e6 : 0.0,
	    (unsigned long long)g->g_handshakes,
	    (unsigned long long)g->g_resumed, g->g_held);
	if (g->g_first_err[0] != '\0') {
		fprintf(stderr, "loadgen: %llu errors, first: %s\n",
		    (unsigned long long)g->g_err, g->g_first_err);
	}
	fflush(stdout);
}

static void
lg_tls_init(struct lg *g)
{
	if (g->g_o.o_tls == LG_TLS_NONE) {
		return;
	}
	if ((g->g_ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		fatalx("SSL_CTX_new");
	}
	SSL_CTX_set_verify(g->g_ctx, SSL_VERIFY_NONE, NULL);
	/* Some servers close without close_notify after LOGOUT. */
	SSL_CTX_set_options(g->g_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	(void)SSL_CTX_set_min_proto_version(g->g_ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(g->g_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (g->g_o.o_tls == LG_TLS_FULL) {
		SSL_CTX_set_options(g->g_ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_session_cache_mode(g->g_ctx, SSL_SESS_CACHE_OFF);
	} else {
		SSL_CTX_set_session_cache_mode(g->g_ctx,
		    SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(g->g_ctx, lg_new_session);
		SSL_CTX_set_app_data(g->g_ctx, g);
	}
}

static size_t
lg_raise_nofile(size_t want)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		fatal("getrlimit");
	}
	if (rl.rlim_cur < want + 64) {
		rl.rlim_cur = want + 64 > rl.rlim_max ? rl.rlim_max :
		    want + 64;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	return (size_t)rl.rlim_cur;
}

static uint64_t
lg_num(const char *arg, uint64_t min, uint64_t max, const char *what)
{
	const char	*errstr = NULL;
	uint64_t	 v;

	if (parse_uint(arg, min, max, &v, &errstr) == -1) {
		fatalx("%s %s: %s", what, arg, errstr);
	}
	return v;
}

static int
lg_pick(const char *arg, const char *const *names, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (strcmp(arg, names[i]) == 0) {
			return (int)i;
		}
	}
	lg_usage();
	return -1;
}

static void
lg_getopts(struct lg_opts *o, int argc, char **argv)
{
	static const char *const protos[] = { "imap", "pop3" };
	static const char *const works[] = { "login", "idle", "fetch" };
	static const char *const tlss[] = { "none", "full", "resume" };
	int	 ch;

	while ((ch = getopt(argc, argv, "c:d:f:h:k:n:o:p:P:r:S:t:u:U:W:")) !=
	    -1) {
		switch (ch) {
		case 'c':
			o->o_conns = (size_t)lg_num(optarg, 1, 200000, "conns");
			break;
		case 'd':
			o->o_secs = lg_num(optarg, 1, 3600, "duration");
			break;
		case 'f':
			o->o_fetches = lg_num(optarg, 1, 1000000, "fetches");
			break;
		case 'h':
			o->o_host = optarg;
			break;
		case 'k':
			o->o_pass = optarg;
			break;
		case 'n':
			o->o_count = lg_num(optarg, 0, UINT32_MAX, "count");
			break;
		case 'o':
			o->o_timeout = lg_num(optarg, 1, 600, "timeout");
			break;
		case 'p':
			o->o_port = (unsigned)lg_num(optarg, 1, 65535, "port");
			break;
		case 'P':
			o->o_proto = (enum lg_proto)lg_pick(optarg, protos, 2);
			break;
		case 'r':
			o->o_ramp = lg_num(optarg, 1, 100000, "ramp");
			break;
		case 'S':
			o->o_seed = lg_num(optarg, 1, UINT64_MAX, "seed");
			break;
		case 't':
			o->o_tls = (enum lg_tls)lg_pick(optarg, tlss, 3);
			break;
		case 'u':
			o->o_user = optarg;
			break;
		case 'U':
			o->o_nusers = lg_num(optarg, 0, UINT32_MAX, "nusers");
			break;
		case 'W':
			o->o_work = (enum lg_work)lg_pick(optarg, works, 3);
			break;
		default:
			lg_usage();
		}
	}
	if (optind != argc || o->o_port == 0 || strlen(o->o_user) > 64 ||
	    strlen(o->o_pass) > 64) {
		lg_usage();
	}
}

int
main(int argc, char **argv)
{
	struct lg		 g;
	struct sigaction	 sa;
	size_t			 i, lim;

	memset(&g, 0, sizeof(g));
	log_init("loadgen", 1, 0, LOG_LVL_WARN);
	g.g_o.o_host = "127.0.0.1";
	g.g_o.o_conns = 1;
	g.g_o.o_secs = 10;
	g.g_o.o_user = "user";
	g.g_o.o_nusers = 1000;
	g.g_o.o_pass = "pass";
	g.g_o.o_fetches = 5;
	g.g_o.o_ramp = 256;
	g.g_o.o_seed = 1;
	g.g_o.o_timeout = 10;
	lg_getopts(&g.g_o, argc, argv);
	g.g_rng = g.g_o.o_seed;
	lim = lg_raise_nofile(g.g_o.o_conns);
	if (g.g_o.o_conns + 16 > lim) {
		fatalx("%zu connections need a nofile limit of %zu, have %zu",
		    g.g_o.o_conns, g.g_o.o_conns + 16, lim);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lg_onsig;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	g.g_dst.sin_family = AF_INET;
	g.g_dst.sin_port = htons((uint16_t)g.g_o.o_port);
	if (inet_pton(AF_INET, g.g_o.o_host, &g.g_dst.sin_addr) != 1) {
		fatalx("bad IPv4 address %s", g.g_o.o_host);
	}
	lg_tls_init(&g);
	if ((g.g_ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		fatal("epoll_create1");
	}
	g.g_conns = calloc(g.g_o.o_conns, sizeof(*g.g_conns));
	g.g_lat = calloc(LG_MAX_SAMPLES, sizeof(*g.g_lat));
	if (g.g_conns == NULL || g.g_lat == NULL) {
		fatal("calloc");
	}
	for (i = 0; i < g.g_o.o_conns; i++) {
		g.g_conns[i].c_fd = -1;
	}
	lg_run(&g);
	lg_report(&g);
	for (i = 0; i < g.g_o.o_conns; i++) {
		lg_close(&g, &g.g_conns[i]);
		if (g.g_conns[i].c_sess != NULL) {
			SSL_SESSION_free(g.g_conns[i].c_sess);
		}
	}
	if (g.g_sess != NULL) {
		SSL_SESSION_free(g.g_sess);
	}
	SSL_CTX_free(g.g_ctx);
	free(g.g_conns);
	free(g.g_lat);
	return g.g_err > 0 && g.g_ok == 0 && g.g_held == 0 ? 1 : 0;
}
