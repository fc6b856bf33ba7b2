/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * session: one client connection inside a worker, from accept to close.
 * Runs in the worker, unprivileged-to-be; everything a client or backend
 * sends is UNTRUSTED.  session.c owns the sockets and timers; imap.c and
 * pop3.c are the protocol state machines (they never do I/O themselves,
 * only through session_reply() and the buffers); relay.c moves bytes after
 * login.
 */
#ifndef BAILEY_SESSION_H
#define BAILEY_SESSION_H

#include <sys/socket.h>

#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "conn.h"
#include "ev.h"
#include "imap_parse.h"
#include "msg.h"
#include "sasl.h"

enum phase {
	PH_TLS = 0,		/* client TLS handshake (implicit or STARTTLS) */
	PH_PREAUTH,		/* reading pre-login commands */
	PH_SASL,		/* waiting for a SASL response line */
	PH_LOOKUP,		/* waiting for MSG_BACKEND from the parent */
	PH_BACKEND,		/* logging in to the backend */
	PH_DELAY,		/* auth failure delay before the NO */
	PH_RELAY,		/* logged in: moving bytes */
	PH_CLOSING,		/* flushing the last reply, then close */
	PH_PROXY,		/* reading the inbound PROXY protocol header */
};

enum sasl_mech {
	SASL_NONE = 0,
	SASL_PLAIN,
	SASL_LOGIN,
};

/* Relay direction: client to backend, backend to client. */
enum { DIR_C2B = 0, DIR_B2C = 1 };

struct relay_dir {
	int		pipe[2];	/* splice pipe; -1 until needed */
	size_t		pending;	/* bytes in the pipe */
	struct buf	copy;		/* TLS on a side: user-space copy */
	struct buf	raw;		/* filtered direction: unfiltered */
	int		src_eof;
	int		dst_shut;
	int		want_src;	/* waiting for the source */
	int		src_wants_write; /* TLS source needs its fd writable */
	int		want_dst;	/* waiting for the destination */
	int		src_hup;	/* source hung up: read it to EOF */
};

/* Pre-login state; freed when the relay starts (idle sessions stay small). */
struct prelogin {
	struct imap_parser	ip;		/* IMAP only */
	struct creds		creds;
	int			have_user;	/* POP3 USER given; LOGIN step */
	char			tag[IMAP_MAX_TAG + 1];
	enum sasl_mech		mech;
	unsigned		bad_commands;
	unsigned		auth_failures;
	uint64_t		delay_until;
	int			delay_ok;	/* what to say after the delay */
	/* Backend login. */
	struct buf		bin;		/* backend bytes, line by line */
	int			bstate;
	int			bcaps;		/* backend capabilities seen */
	char			backend_name[CONF_MAX_HOSTNAME + 16];
	unsigned		bserver;	/* server index or TLSCTX_MAP */
	enum tls_mode		btls;		/* outbound TLS mode */
	char			bhost[CONF_MAX_HOSTNAME]; /* TLS name */
	char			okline[512];	/* tagged OK text for IMAP */
};

struct proxyproto;

struct session {
	uint64_t		 id;
	enum proto		 proto;
	enum phase		 phase;
	const struct listen_conf *lc;
	struct conn		 c;		/* client side */
	struct conn		 b;		/* backend side; fd -1 if none */
	int			 tls_active;	/* client side speaks TLS */
	struct ev_io		 cio;
	struct ev_io		 bio;
	struct ev_timer		 timer;
	struct buf		 cin;		/* from the client */
	struct buf		 cout;		/* to the client */
	struct buf		 bout;		/* to the backend */
	struct prelogin		*pl;
	struct relay_dir	 dir[2];
	struct capfilter	*cf;		/* post-login filter, or NULL */
	/* The client: the socket peer, or what its PROXY header says. */
	char			 caddr[CONF_MAX_ADDR];
	uint16_t		 cport;
	/* PROXY protocol listeners: the balancer (socket peer), the header
	 * parser until the header is read, and the address the client
	 * connected to according to the header (have_laddr). */
	char			 paddr[CONF_MAX_ADDR];	/* "" if none */
	uint16_t		 pport;
	struct proxyproto	*pp;
	struct sockaddr_storage	 laddr;
	int			 have_laddr;
	/* A LOCAL / UNKNOWN header: caddr is the balancer, not a client,
	 * so pbsd never hears of this session (it would grant relay to
	 * the balancer). */
	int			 proxy_local;
	char			*user;		/* for the log; escaped later */
	char			*backend;
	uint64_t		 started;	/* ms */
	uint64_t		 login_deadline;
	uint64_t		 hs_deadline;	/* client or backend handshake */
	uint64_t		 last_active;
	uint64_t		 bytes_in;	/* client -> backend */
	uint64_t		 bytes_out;	/* backend -> client */
	const char		*reason;
	int			 closed;
	int			 pen_counted;	/* in the per-address count */
	struct session		*next_dead;
};

/* A protocol's state machine, called by session.c. */
struct proto_ops {
	void	(*greet)(struct session *);
	/* Consume what is in s->cin (PH_PREAUTH / PH_SASL). */
	void	(*client_input)(struct session *);
	/* MSG_BACKEND arrived for a session in PH_LOOKUP. */
	void	(*backend_ready)(struct session *, enum backend_status,
		    const char *login_user);
	/* Backend bytes in s->pl->bin during PH_BACKEND. */
	void	(*backend_input)(struct session *);
	/* The auth failure delay is over (PH_DELAY). */
	void	(*delay_over)(struct session *);
	/* The client's STARTTLS handshake is done: forget pre-TLS state. */
	void	(*tls_reset)(struct session *);
	/* The backend TLS handshake (after its STARTTLS) is done. */
	void	(*backend_tls_done)(struct session *);
	/* Messages for closing events. */
	const char	*bye_timeout;
	const char	*bye_toomany;
	const char	*bye_shutdown;
	const char	*bye_internal;
};

extern const struct proto_ops imap_ops;
extern const struct proto_ops pop3_ops;

/* session.c */
void	session_reply(struct session *, const char *, size_t);
void	session_reply_str(struct session *, const char *);
void	session_replyf(struct session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	session_backend_write(struct session *, const char *, size_t);
/*
 * Takes one line (without CRLF) out of b into dst (dstsz >= max), so the
 * caller may act on it after the buffer changed.  1 = line in *line_r,
 * 0 = need more, -1 = longer than max.  Zero dst after secret lines.
 */
int	session_getline(struct buf *b, size_t max, char *dst, size_t dstsz,
	    struct span *line_r);
/* Back in PH_PREAUTH: handle client bytes that were pipelined. */
void	session_resume(struct session *);
/* Asks the parent for a backend for pl->creds.user. */
void	session_lookup(struct session *);
/* Drops the backend connection (after a failed login). */
void	session_backend_drop(struct session *);
/* Starts the failure delay; then ops->delay_over runs. */
void	session_fail_delay(struct session *);
/* Tells the parent about a logged-in session (pbsd events). */
void	session_event_msg(struct session *, enum msg_type);
/* Login succeeded: tell the parent, free pre-login state, relay. */
void	session_login_ok(struct session *, const char *login_user);
/* Sends what is queued, then closes with reason. */
void	session_finish(struct session *, const char *reason);
void	session_close(struct session *, const char *reason);
/* Counts a bad command; 1 if the limit is reached (caller says BYE). */
int	session_bad_command(struct session *);
/* Counts an auth failure; 1 if the limit is reached. */
int	session_auth_failure(struct session *);
void	session_update_events(struct session *);
const struct proto_ops *session_ops(const struct session *);
struct session *session_new(int fd, const struct listen_conf *,
	    const struct sockaddr *);
void	session_start(struct session *);
/*
 * PROXY protocol listener, peer already found trusted: read the header
 * (bounded by `timeout handshake`), then take its client address and
 * hand the session to worker_session_admit().
 */
void	session_proxy_begin(struct session *);
/* Says bye (a whole protocol line) and closes. */
void	session_reject(struct session *, const char *bye, const char *reason);
/* The client's address as a sockaddr (from s->caddr).  0 / -1. */
int	session_client_sa(const struct session *, struct sockaddr_storage *);
/* MSG_BACKEND from the parent; owns fd. */
void	session_backend_msg(struct session *, enum backend_status,
	    const char *login_user, const char *backend, unsigned server_idx,
	    const char *host, int fd);
/*
 * STARTTLS/STLS accepted (the OK is queued): drops any pipelined
 * plaintext and starts the handshake.  Pre-TLS state is reset through
 * ops->tls_reset once it succeeds.
 */
void	session_starttls(struct session *);
/* Starts TLS towards the backend (after its STARTTLS OK). */
void	session_backend_starttls(struct session *);
/* 1 if this listener offers STARTTLS and TLS is not on yet. */
int	session_can_starttls(const struct session *);
/* 1 if login must wait for TLS (listener "tls required"). */
int	session_tls_required(const struct session *);

/* worker.c */
struct capfilter_conf;
struct scoreboard;
struct scoreboard *worker_scoreboard(void);
/* The capability rules for proto, or NULL when there are none. */
const struct capfilter_conf *worker_capconf(enum proto);
void	worker_send(const struct msg_out *);
void	worker_session_gone(struct session *);
/* Per-address limit on s->caddr, then session_start().  0 started, -1
 * turned away (the session is closing). */
int	worker_session_admit(struct session *);

/* relay.c */
void	relay_start(struct session *);
void	relay_client_event(struct session *, uint32_t);
void	relay_backend_event(struct session *, uint32_t);
void	relay_free(struct session *);

#endif
