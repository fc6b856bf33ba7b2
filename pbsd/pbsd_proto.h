/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_proto: the datagram that tells pbsd "this client address logged in".
 * The encoder and pbsd_send() run in the bailey parent (root, before any
 * client byte is read by it; it trusts only its own session table).  The
 * decoder runs in pbsd (unprivileged after start-up) and trusts nothing: a
 * datagram is accepted only if it has exactly the layout below.  Needs only
 * lib/ (no libdb), so bailey links it on its own.
 *
 * Layout (all multi-byte fields in network byte order):
 *
 *	off  size  field
 *	0    4     magic "PBSD" (0x50425344)
 *	4    1     version (PBSD_PROTO_VERSION)
 *	5    1     event: 1 login-ok, 2 session-alive, 3 logout
 *	6    1     family: 4 (IPv4) or 6 (IPv6)
 *	7    1     protocol: 0 unspecified, 1 pop3, 2 imap
 *	8    4|16  client address
 *	+0   1     user length n (0..255; 0 = no user)
 *	+1   n     user: bytes 0x20..0x7e and >= 0x80; no CR, LF, NUL, TAB
 *		   or any other control character (0x00..0x1f, 0x7f)
 *
 * Nothing may follow the user.  So a record is 13..280 bytes long.
 */
#ifndef BAILEY_PBSD_PROTO_H
#define BAILEY_PBSD_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"

#define PBSD_PROTO_MAGIC	0x50425344U
#define PBSD_PROTO_VERSION	1
#define PBSD_PROTO_HDR		8
/* Username cap: the length byte, and MAX_USER in lib/bailey_limits.h. */
#define PBSD_PROTO_MAX_USER	255
#define PBSD_PROTO_MIN_LEN	(PBSD_PROTO_HDR + 4 + 1)
#define PBSD_PROTO_MAX_LEN	(PBSD_PROTO_HDR + 16 + 1 + PBSD_PROTO_MAX_USER)

enum pbsd_event {
	PBSD_EV_LOGIN_OK = 1,		/* successful login: create/refresh */
	PBSD_EV_SESSION_ALIVE = 2,	/* long session still open: refresh */
	PBSD_EV_LOGOUT = 3,		/* session closed: expiry restarts */
};

enum pbsd_family {
	PBSD_FAM_INET = 4,
	PBSD_FAM_INET6 = 6,
};

enum pbsd_protocol {
	PBSD_PROTO_UNSPEC = 0,
	PBSD_PROTO_POP3 = 1,
	PBSD_PROTO_IMAP = 2,
};

struct pbsd_record {
	uint8_t		 pr_event;	/* enum pbsd_event */
	uint8_t		 pr_family;	/* enum pbsd_family */
	uint8_t		 pr_proto;	/* enum pbsd_protocol */
	uint8_t		 pr_addr[16];	/* 4 or 16 bytes used */
	size_t		 pr_userlen;	/* 0 = no user */
	char		 pr_user[PBSD_PROTO_MAX_USER + 1];	/* NUL-ended */
};

/* Name of an event ("login-ok" ...) or NULL if it is not one. */
const char	*pbsd_event_name(int);
/* Protocol byte for "pop3"/"imap" (case-insensitive), NULL -> UNSPEC. */
int	 pbsd_proto_from_name(const char *, uint8_t *proto_r);
const char	*pbsd_proto_name(int);

/*
 * Appends the record to out (whose max must allow PBSD_PROTO_MAX_LEN).
 * Checks the same rules as the decoder.  Returns 0, or -1 with *errstr_r.
 */
int	 pbsd_event_encode(const struct pbsd_record *, struct buf *out,
	    const char **errstr_r);

/*
 * UNTRUSTED: decodes one datagram, bounded by PBSD_PROTO_MAX_LEN.  Fills
 * *rec_r only on success.  Returns 0, or -1 with *errstr_r (short, long,
 * bad magic/version/event/family/protocol, trailing bytes, bad user).
 */
int	 pbsd_event_decode(const uint8_t *, size_t, struct pbsd_record *rec_r,
	    const char **errstr_r);

/*
 * Fills family and address from a sockaddr (AF_INET or AF_INET6; an
 * IPv4-mapped IPv6 address becomes IPv4).  Returns 0 or -1.
 */
int	 pbsd_record_set_addr(struct pbsd_record *, const struct sockaddr *);

/* A non-blocking, close-on-exec, unbound AF_UNIX SOCK_DGRAM socket. */
int	 pbsd_client_socket(void);

/*
 * Sends one event to pbsd listening on sockpath, on the unconnected
 * datagram socket fd, without blocking (MSG_DONTWAIT): a full or absent
 * pbsd makes it fail, never wait.  user may be NULL, proto "pop3", "imap"
 * or NULL.  Returns 0, or -1 with errno set (EINVAL for bad arguments).
 */
int	 pbsd_send(int fd, const char *sockpath, enum pbsd_event,
	    const struct sockaddr *client, const char *user, const char *proto);

#endif
