/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * fakebackend: a minimal, fast IMAP/POP3 server for the benchmark, plus an
 * nginx auth_http responder.  Runs as a bench tool on loopback with the
 * privilege of whoever starts it (never installed, never in bailey).  It
 * trusts no client: commands go through the bounded benchproto parsers.
 * Every LOGIN/USER+PASS/AUTHENTICATE succeeds; SELECT and FETCH/RETR serve
 * one fixed message of a chosen size; LOGOUT/QUIT close.  One epoll loop,
 * one process; it exits on SIGTERM/SIGINT or after its lifetime (-t).
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

#include "benchproto.h"
#include "buf.h"
#include "bailey_limits.h"
#include "log.h"

#define FB_MAX_EVENTS	256
#define FB_POP3_LINE	4096
#define FB_OUT_MAX	(1024 * 1024)
#define FB_IN_MAX	(IMAP_MAX_LINE + 4096)
#define FB_READ_CHUNK	16384

#define FB_CAPS "IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE AUTH=PLAIN " \
		"AUTH=LOGIN"

enum fb_kind {
	FB_IMAP = 0,
	FB_POP3,
	FB_HTTP
};

struct fb_conn {
	int			 c_fd;
	enum fb_kind		 c_kind;
	struct buf		 c_in;
	struct buf		 c_out;		/* before the bulk */
	struct buf		 c_post;	/* after the bulk */
	size_t			 c_bulk_off;
	size_t			 c_bulk_left;
	struct bp_imap_cmd	 c_ic;
	struct bp_http		 c_hh;
	char			 c_sasl_tag[BP_MAX_TAG + 1];
	int			 c_sasl_wait;	/* SASL lines still expected */
	int			 c_closing;
	int			 c_epout;
};

struct fb_listener {
	int			 l_fd;
	enum fb_kind		 l_kind;
};

struct fb_server {
	int			 s_ep;
	struct fb_listener	 s_lis[3];
	size_t			 s_nlis;
	struct fb_conn		**s_conns;
	size_t			 s_maxfd;
	struct buf		 s_msg;
	struct span		 s_msgspan;
	char			 s_addr[64];
	unsigned		 s_auth_imap;
	unsigned		 s_auth_pop3;
	unsigned long		 s_accepted;
};

static volatile sig_atomic_t fb_stop;

static void	fb_close(struct fb_server *, struct fb_conn *);

static void
fb_onsig(int sig)
{
	(void)sig;
	fb_stop = 1;
}

static void
fb_usage(void)
{
	fprintf(stderr, "usage: fakebackend [-b addr] [-i imapport] "
	    "[-p pop3port] [-a authhttpport]\n"
	    "    [-I authimapport] [-O authpop3port] [-s msgsize] "
	    "[-t lifetime]\n");
	exit(2);
}

/* The fixed message: headers, then 76-character lines, exactly size. */
static void
fb_make_message(struct fb_server *s, size_t size)
{
	static const char hdr[] = "From: bench@example.net\r\n"
	    "To: user@example.net\r\nSubject: bench message\r\n"
	    "Message-ID: <bench@example.net>\r\n\r\n";
	char	 line[79];
	size_t	 i, left;

	for (i = 0; i < 76; i++) {
		line[i] = (char)('a' + (i % 26));
	}
	line[76] = '\r';
	line[77] = '\n';
	line[78] = '\0';
	buf_init(&s->s_msg, size);
	if (size < sizeof(hdr) + 2) {
		fatalx("message size must be at least %zu", sizeof(hdr) + 2);
	}
	if (buf_add_str(&s->s_msg, hdr) == -1) {
		fatalx("message");
	}
	while ((left = size - buf_len(&s->s_msg)) > 0) {
		if (left >= 78 + 3 || left == 78) {
			(void)buf_add(&s->s_msg, line, 78);
		} else {
			/* Last line: shorter, never empty, still CRLF. */
			(void)buf_add(&s->s_msg, line, left - 2);
			(void)buf_add(&s->s_msg, "\r\n", 2);
		}
	}
	s->s_msgspan = buf_span(&s->s_msg);
}

static int
fb_listen(struct fb_server *s, const char *addr, unsigned port,
    enum fb_kind kind)
{
	struct sockaddr_in	 sin;
	struct epoll_event	 ev;
	int			 fd, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fatalx("bad address %s", addr);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		fatal("socket");
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		fatal("bind %s:%u", addr, port);
	}
	if (listen(fd, 4096) == -1) {
		fatal("listen");
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	if (epoll_ctl(s->s_ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		fatal("epoll_ctl");
	}
	s->s_lis[s->s_nlis].l_fd = fd;
	s->s_lis[s->s_nlis].l_kind = kind;
	s->s_nlis++;
	return fd;
}

static int
fb_out_pending(const struct fb_conn *c)
{
	return buf_len(&c->c_out) > 0 || c->c_bulk_left > 0 ||
	    buf_len(&c->c_post) > 0;
}

static void
fb_set_epout(struct fb_server *s, struct fb_conn *c, int on)
{
	struct epoll_event	 ev;

	if (c->c_epout == on) {
		return;
	}
	memset(&ev, 0, sizeof(ev));
	/* While output is pending, input waits (no pipelining needed). */
	ev.events = on ? EPOLLOUT : EPOLLIN;
	ev.data.fd = c->c_fd;
	if (epoll_ctl(s->s_ep, EPOLL_CTL_MOD, c->c_fd, &ev) == -1) {
		fatal("epoll_ctl mod");
	}
	c->c_epout = on;
}

/* Writes a span; returns bytes written, or -1 on a hard error. */
static ssize_t
fb_write_span(int fd, struct span sp)
{
	ssize_t	 n;

	if (sp.len == 0) {
		return 0;
	}
	n = send(fd, sp.p, sp.len, MSG_NOSIGNAL);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		return 0;
	}
	return n;
}

static int
fb_flush_buf(int fd, struct buf *b)
{
	ssize_t	 n;

	n = fb_write_span(fd, buf_span(b));
	if (n == -1) {
		return -1;
	}
	buf_consume(b, (size_t)n);
	return 0;
}

/* Returns 0 (maybe still pending) or -1 when the connection is dead. */
static int
fb_flush(struct fb_server *s, struct fb_conn *c)
{
	ssize_t	 n;

	if (fb_flush_buf(c->c_fd, &c->c_out) == -1) {
		return -1;
	}
	while (buf_len(&c->c_out) == 0 && c->c_bulk_left > 0) {
		n = fb_write_span(c->c_fd, span_sub(s->s_msgspan,
		    c->c_bulk_off, c->c_bulk_left));
		if (n <= 0) {
			return (int)n;
		}
		c->c_bulk_off += (size_t)n;
		c->c_bulk_left -= (size_t)n;
	}
	if (buf_len(&c->c_out) == 0 && c->c_bulk_left == 0 &&
	    fb_flush_buf(c->c_fd, &c->c_post) == -1) {
		return -1;
	}
	return 0;
}

static void
fb_reply(struct fb_conn *c, const char *text)
{
	if (buf_add_str(&c->c_out, text) == -1) {
		c->c_closing = 1;
	}
}

static void
fb_tagged(struct fb_conn *c, const char *tag, const char *text)
{
	if (buf_addf(&c->c_out, "%s %s\r\n", tag, text) == -1) {
		c->c_closing = 1;
	}
}

static void
fb_bulk(struct fb_server *s, struct fb_conn *c)
{
	c->c_bulk_off = 0;
	c->c_bulk_left = s->s_msgspan.len;
}

static void
fb_imap_fetch(struct fb_server *s, struct fb_conn *c, const char *tag)
{
	if (buf_addf(&c->c_out, "* 1 FETCH (UID 1 BODY[] {%zu}\r\n",
	    s->s_msgspan.len) == -1 ||
	    buf_addf(&c->c_post, ")\r\n%s OK FETCH completed\r\n", tag) == -1) {
		c->c_closing = 1;
		return;
	}
	fb_bulk(s, c);
}

static void
fb_imap_authenticate(struct fb_conn *c, const struct bp_imap_cmd *ic)
{
	int	 login = strcmp(ic->ic_arg1, "LOGIN") == 0;

	if (strcmp(ic->ic_arg1, "PLAIN") != 0 && !login) {
		fb_tagged(c, ic->ic_tag, "NO unsupported mechanism");
		return;
	}
	c->c_sasl_wait = (login ? 2 : 1) - (ic->ic_nargs >= 2 ? 1 : 0);
	if (c->c_sasl_wait == 0) {
		fb_tagged(c, ic->ic_tag, "OK [CAPABILITY " FB_CAPS "] "
		    "Logged in");
		return;
	}
	(void)snprintf(c->c_sasl_tag, sizeof(c->c_sasl_tag), "%s",
	    ic->ic_tag);
	fb_reply(c, "+ \r\n");
}

static void
fb_imap_select(struct fb_conn *c, const char *tag)
{
	fb_reply(c, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft)\r\n* 1 EXISTS\r\n* 0 RECENT\r\n"
	    "* OK [UIDVALIDITY 1] UIDs valid\r\n"
	    "* OK [UIDNEXT 2] Predicted next UID\r\n");
	fb_tagged(c, tag, "OK [READ-WRITE] SELECT completed");
}

static void
fb_imap_command(struct fb_server *s, struct fb_conn *c,
    const struct bp_imap_cmd *ic)
{
	const char	*v = ic->ic_verb, *tag = ic->ic_tag;

	if (strcmp(v, "LOGIN") == 0) {
		fb_tagged(c, tag, "OK [CAPABILITY " FB_CAPS "] Logged in");
	} else if (strcmp(v, "AUTHENTICATE") == 0) {
		fb_imap_authenticate(c, ic);
	} else if (strcmp(v, "CAPABILITY") == 0) {
		fb_reply(c, "* CAPABILITY " FB_CAPS "\r\n");
		fb_tagged(c, tag, "OK CAPABILITY completed");
	} else if (strcmp(v, "SELECT") == 0 || strcmp(v, "EXAMINE") == 0) {
		fb_imap_select(c, tag);
	} else if (strcmp(v, "FETCH") == 0 || (strcmp(v, "UID") == 0 &&
	    strcmp(ic->ic_arg1, "FETCH") == 0)) {
		fb_imap_fetch(s, c, tag);
	} else if (strcmp(v, "ID") == 0) {
		fb_reply(c, "* ID NIL\r\n");
		fb_tagged(c, tag, "OK ID completed");
	} else if (strcmp(v, "LOGOUT") == 0) {
		fb_reply(c, "* BYE Logging out\r\n");
		fb_tagged(c, tag, "OK LOGOUT completed");
		c->c_closing = 1;
	} else if (strcmp(v, "STARTTLS") == 0) {
		fb_tagged(c, tag, "NO no TLS here");
	} else if (strcmp(v, "NOOP") == 0 || strcmp(v, "CHECK") == 0 ||
	    strcmp(v, "ENABLE") == 0 || strcmp(v, "CLOSE") == 0) {
		fb_tagged(c, tag, "OK completed");
	} else {
		fb_tagged(c, tag, "BAD unknown command");
	}
}

/* UNTRUSTED: a SASL response line after "+ ", bounded by max. */
static int
fb_sasl_line(struct fb_conn *c, size_t max, int *done_r)
{
	struct span	 line;
	size_t		 used;
	int		 r, cancel;

	*done_r = 0;
	r = buf_getline(&c->c_in, max, &line, &used);
	if (r <= 0) {
		return r;
	}
	cancel = span_eq(line, "*");
	buf_consume(&c->c_in, used);
	c->c_sasl_wait = cancel ? 0 : c->c_sasl_wait - 1;
	*done_r = c->c_sasl_wait == 0;
	if (cancel) {
		return 2;
	}
	if (c->c_sasl_wait > 0) {
		fb_reply(c, "+ \r\n");
	}
	return 1;
}

/* UNTRUSTED: client IMAP commands, bounded by IMAP_MAX_LINE (benchproto). */
static int
fb_imap_input(struct fb_server *s, struct fb_conn *c)
{
	const char	*errstr = NULL;
	int		 r, cont, done;

	while (!fb_out_pending(c) && !c->c_closing) {
		if (c->c_sasl_wait > 0) {
			r = fb_sasl_line(c, IMAP_MAX_LINE, &done);
			if (r <= 0) {
				return r;
			}
			if (done) {
				fb_tagged(c, c->c_sasl_tag, r == 2 ?
				    "BAD cancelled" : "OK [CAPABILITY "
				    FB_CAPS "] Logged in");
			}
			continue;
		}
		r = bp_imap_cmd_feed(&c->c_ic, &c->c_in, IMAP_MAX_LINE, &cont,
		    &errstr);
		if (r == -1) {
			fb_reply(c, "* BYE ");
			fb_reply(c, errstr);
			fb_reply(c, "\r\n");
			c->c_closing = 1;
			return 0;
		}
		if (r == 0) {
			if (cont) {
				fb_reply(c, "+ OK\r\n");
			}
			return 0;
		}
		fb_imap_command(s, c, &c->c_ic);
		bp_imap_cmd_init(&c->c_ic);
	}
	return 0;
}

static void
fb_pop3_auth(struct fb_conn *c, struct span arg)
{
	struct span	 rest, mech = bp_token(arg, &rest);
	int		 login = span_eq_ci(mech, "LOGIN");

	if (!span_eq_ci(mech, "PLAIN") && !login) {
		fb_reply(c, "-ERR unsupported mechanism\r\n");
		return;
	}
	c->c_sasl_wait = (login ? 2 : 1) - (rest.len > 0 ? 1 : 0);
	fb_reply(c, c->c_sasl_wait == 0 ? "+OK Logged in\r\n" : "+ \r\n");
}

static void
fb_pop3_command(struct fb_server *s, struct fb_conn *c, struct span line)
{
	struct span	 arg, verb = bp_token(line, &arg);

	if (span_eq_ci(verb, "USER") || span_eq_ci(verb, "NOOP") ||
	    span_eq_ci(verb, "RSET") || span_eq_ci(verb, "DELE")) {
		fb_reply(c, "+OK\r\n");
	} else if (span_eq_ci(verb, "PASS") || span_eq_ci(verb, "APOP")) {
		fb_reply(c, "+OK Logged in\r\n");
	} else if (span_eq_ci(verb, "AUTH") && arg.len > 0) {
		fb_pop3_auth(c, arg);
	} else if (span_eq_ci(verb, "CAPA")) {
		fb_reply(c, "+OK\r\nUSER\r\nSASL PLAIN LOGIN\r\nUIDL\r\n"
		    "PIPELINING\r\n.\r\n");
	} else if (span_eq_ci(verb, "STAT")) {
		(void)buf_addf(&c->c_out, "+OK 1 %zu\r\n", s->s_msgspan.len);
	} else if (span_eq_ci(verb, "LIST") && arg.len > 0) {
		(void)buf_addf(&c->c_out, "+OK 1 %zu\r\n", s->s_msgspan.len);
	} else if (span_eq_ci(verb, "LIST")) {
		(void)buf_addf(&c->c_out, "+OK 1 messages\r\n1 %zu\r\n.\r\n",
		    s->s_msgspan.len);
	} else if (span_eq_ci(verb, "UIDL")) {
		fb_reply(c, "+OK\r\n1 bench1\r\n.\r\n");
	} else if (span_eq_ci(verb, "RETR")) {
		(void)buf_addf(&c->c_out, "+OK %zu octets\r\n",
		    s->s_msgspan.len);
		(void)buf_add_str(&c->c_post, ".\r\n");
		fb_bulk(s, c);
	} else if (span_eq_ci(verb, "QUIT")) {
		fb_reply(c, "+OK Logging out\r\n");
		c->c_closing = 1;
	} else {
		fb_reply(c, "-ERR unknown command\r\n");
	}
}

/* UNTRUSTED: client POP3 commands, bounded by FB_POP3_LINE. */
static int
fb_pop3_input(struct fb_server *s, struct fb_conn *c)
{
	struct span	 line;
	size_t		 used;
	int		 r, done;

	while (!fb_out_pending(c) && !c->c_closing) {
		if (c->c_sasl_wait > 0) {
			r = fb_sasl_line(c, FB_POP3_LINE, &done);
			if (r <= 0) {
				return r;
			}
			if (done) {
				fb_reply(c, r == 2 ? "-ERR cancelled\r\n" :
				    "+OK Logged in\r\n");
			}
			continue;
		}
		r = buf_getline(&c->c_in, FB_POP3_LINE, &line, &used);
		if (r == -1) {
			fb_reply(c, "-ERR line too long\r\n");
			c->c_closing = 1;
			return 0;
		}
		if (r == 0) {
			return 0;
		}
		fb_pop3_command(s, c, line);
		buf_consume(&c->c_in, used);
	}
	return 0;
}

/* UNTRUSTED: nginx's auth_http request, bounded by BP_HTTP_MAX_HEAD. */
static int
fb_http_input(struct fb_server *s, struct fb_conn *c)
{
	const char	*errstr = NULL;
	unsigned	 port = 0;
	int		 r;

	r = bp_http_feed(&c->c_hh, &c->c_in, &errstr);
	if (r == 0) {
		return 0;
	}
	c->c_closing = 1;
	if (r == -1) {
		fb_reply(c, "HTTP/1.0 400 Bad Request\r\n\r\n");
		return 0;
	}
	if (c->c_hh.hh_proto == BP_HTTP_PROTO_IMAP) {
		port = s->s_auth_imap;
	} else if (c->c_hh.hh_proto == BP_HTTP_PROTO_POP3) {
		port = s->s_auth_pop3;
	}
	if (port == 0) {
		fb_reply(c, "HTTP/1.0 200 OK\r\nAuth-Status: Invalid "
		    "protocol\r\n\r\n");
		return 0;
	}
	(void)buf_addf(&c->c_out, "HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
	    "Auth-Server: %s\r\nAuth-Port: %u\r\n\r\n", s->s_addr, port);
	return 0;
}

/* Reads what is there; returns 0, or -1 on EOF or error. */
static int
fb_read(struct fb_conn *c)
{
	uint8_t	*p;
	size_t	 room;
	ssize_t	 n;

	for (;;) {
		if (buf_reserve(&c->c_in, FB_READ_CHUNK, &p, &room) == -1) {
			return 0;	/* full: parse first */
		}
		n = recv(c->c_fd, p, room, 0);
		if (n > 0) {
			buf_commit(&c->c_in, (size_t)n);
			if ((size_t)n < room) {
				return 0;
			}
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			return 0;
		}
		return -1;
	}
}

static int
fb_input(struct fb_server *s, struct fb_conn *c)
{
	switch (c->c_kind) {
	case FB_IMAP:
		return fb_imap_input(s, c);
	case FB_POP3:
		return fb_pop3_input(s, c);
	case FB_HTTP:
		return fb_http_input(s, c);
	}
	return -1;
}

static void
fb_event(struct fb_server *s, struct fb_conn *c, uint32_t events)
{
	int	 eof = 0;

	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		eof = fb_read(c) == -1;
	}
	for (;;) {
		if (fb_input(s, c) == -1) {
			fb_close(s, c);
			return;
		}
		if (!fb_out_pending(c)) {
			break;		/* waiting for more input */
		}
		if (fb_flush(s, c) == -1) {
			fb_close(s, c);
			return;
		}
		if (fb_out_pending(c) || c->c_closing) {
			break;		/* socket full, or done */
		}
	}
	if (!fb_out_pending(c) && (c->c_closing || eof)) {
		fb_close(s, c);
		return;
	}
	fb_set_epout(s, c, fb_out_pending(c));
}

static void
fb_close(struct fb_server *s, struct fb_conn *c)
{
	(void)epoll_ctl(s->s_ep, EPOLL_CTL_DEL, c->c_fd, NULL);
	(void)close(c->c_fd);
	s->s_conns[c->c_fd] = NULL;
	buf_release(&c->c_in);
	buf_release(&c->c_out);
	buf_release(&c->c_post);
	free(c);
}

static void
fb_greet(struct fb_conn *c)
{
	if (c->c_kind == FB_IMAP) {
		fb_reply(c, "* OK [CAPABILITY " FB_CAPS "] fake backend "
		    "ready\r\n");
	} else if (c->c_kind == FB_POP3) {
		fb_reply(c, "+OK fake backend ready\r\n");
	}
}

static void
fb_accept(struct fb_server *s, const struct fb_listener *l)
{
	struct epoll_event	 ev;
	struct fb_conn		*c;
	int			 fd, on = 1;

	while ((fd = accept4(l->l_fd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
		if ((size_t)fd >= s->s_maxfd || (c = calloc(1,
		    sizeof(*c))) == NULL) {
			(void)close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on));
		c->c_fd = fd;
		c->c_kind = l->l_kind;
		buf_init(&c->c_in, FB_IN_MAX);
		buf_init(&c->c_out, FB_OUT_MAX);
		buf_init(&c->c_post, FB_OUT_MAX);
		bp_imap_cmd_init(&c->c_ic);
		bp_http_init(&c->c_hh);
		s->s_conns[fd] = c;
		s->s_accepted++;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (epoll_ctl(s->s_ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
			fb_close(s, c);
			continue;
		}
		fb_greet(c);
		fb_event(s, c, 0);
	}
}

static void
fb_loop(struct fb_server *s, time_t lifetime)
{
	struct epoll_event	 evs[FB_MAX_EVENTS];
	struct timespec		 now, end;
	int			 n, i, fd;
	size_t			 k;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += lifetime;
	while (!fb_stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec >= end.tv_sec) {
			break;
		}
		n = epoll_wait(s->s_ep, evs, FB_MAX_EVENTS, 1000);
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			for (k = 0; k < s->s_nlis; k++) {
				if (s->s_lis[k].l_fd == fd) {
					fb_accept(s, &s->s_lis[k]);
					break;
				}
			}
			if (k == s->s_nlis && s->s_conns[fd] != NULL) {
				fb_event(s, s->s_conns[fd], evs[i].events);
			}
		}
	}
}

static size_t
fb_raise_nofile(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		fatal("getrlimit");
	}
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	(void)getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur > 1048576 ? 1048576 : (size_t)rl.rlim_cur;
}

static unsigned
fb_port(const char *arg)
{
	const char	*errstr = NULL;
	uint64_t	 v;

	if (parse_uint(arg, 1, 65535, &v, &errstr) == -1) {
		fatalx("port %s: %s", arg, errstr);
	}
	return (unsigned)v;
}

int
main(int argc, char **argv)
{
	struct fb_server	 s;
	struct sigaction	 sa;
	const char		*errstr = NULL;
	unsigned		 pi = 0, pp = 0, pa = 0;
	uint64_t		 size = 10 * 1024 * 1024, life = 3600;
	size_t			 i;
	int			 ch;

	memset(&s, 0, sizeof(s));
	log_init("fakebackend", 1, 0, LOG_LVL_WARN);
	(void)snprintf(s.s_addr, sizeof(s.s_addr), "127.0.0.1");
	while ((ch = getopt(argc, argv, "a:b:i:I:O:p:s:t:")) != -1) {
		switch (ch) {
		case 'a':
			pa = fb_port(optarg);
			break;
		case 'b':
			(void)snprintf(s.s_addr, sizeof(s.s_addr), "%s",
			    optarg);
			break;
		case 'i':
			pi = fb_port(optarg);
			break;
		case 'I':
			s.s_auth_imap = fb_port(optarg);
			break;
		case 'O':
			s.s_auth_pop3 = fb_port(optarg);
			break;
		case 'p':
			pp = fb_port(optarg);
			break;
		case 's':
			if (parse_uint(optarg, 128, 1ULL << 30, &size,
			    &errstr) == -1) {
				fatalx("size %s: %s", optarg, errstr);
			}
			break;
		case 't':
			if (parse_uint(optarg, 1, 86400, &life,
			    &errstr) == -1) {
				fatalx("lifetime %s: %s", optarg, errstr);
			}
			break;
		default:
			fb_usage();
		}
	}
	if (optind != argc || (pi == 0 && pp == 0 && pa == 0)) {
		fb_usage();
	}
	if (s.s_auth_imap == 0) {
		s.s_auth_imap = pi;
	}
	if (s.s_auth_pop3 == 0) {
		s.s_auth_pop3 = pp;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fb_onsig;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	s.s_maxfd = fb_raise_nofile();
	if ((s.s_conns = calloc(s.s_maxfd, sizeof(*s.s_conns))) == NULL) {
		fatal("calloc");
	}
	fb_make_message(&s, (size_t)size);
	if ((s.s_ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		fatal("epoll_create1");
	}
	if (pi != 0) {
		(void)fb_listen(&s, s.s_addr, pi, FB_IMAP);
	}
	if (pp != 0) {
		(void)fb_listen(&s, s.s_addr, pp, FB_POP3);
	}
	if (pa != 0) {
		(void)fb_listen(&s, s.s_addr, pa, FB_HTTP);
	}
	printf("fakebackend ready imap=%u pop3=%u auth_http=%u msg=%zu\n",
	    pi, pp, pa, s.s_msgspan.len);
	fflush(stdout);
	fb_loop(&s, (time_t)life);
	for (i = 0; i < s.s_maxfd; i++) {
		if (s.s_conns[i] != NULL) {
			fb_close(&s, s.s_conns[i]);
		}
	}
	free(s.s_conns);
	buf_release(&s.s_msg);
	return 0;
}
