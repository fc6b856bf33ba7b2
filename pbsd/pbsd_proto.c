/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_proto: encoder, decoder and sender of pbsd event datagrams.  The
 * encoder and pbsd_send() run in the bailey parent (root, trusting its own
 * session table); the decoder runs in pbsd as its unprivileged user and
 * trusts no byte it is given (threat row 36).  Byte access goes through
 * lib/buf spans only.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "pbsd_proto.h"

static const char *const pbsd_event_names[] = {
	NULL, "login-ok", "session-alive", "logout",
};
static const char *const pbsd_proto_names[] = {
	"-", "pop3", "imap",
};
_Static_assert(sizeof(pbsd_event_names) / sizeof(pbsd_event_names[0]) ==
    PBSD_EV_LOGOUT + 1, "event name table");
_Static_assert(sizeof(pbsd_proto_names) / sizeof(pbsd_proto_names[0]) ==
    PBSD_PROTO_IMAP + 1, "protocol name table");

const char *
pbsd_event_name(int ev)
{
	if (ev < PBSD_EV_LOGIN_OK || ev > PBSD_EV_LOGOUT) {
		return NULL;
	}
	return pbsd_event_names[ev];
}

const char *
pbsd_proto_name(int proto)
{
	if (proto < PBSD_PROTO_UNSPEC || proto > PBSD_PROTO_IMAP) {
		return NULL;
	}
	return pbsd_proto_names[proto];
}

int
pbsd_proto_from_name(const char *name, uint8_t *proto_r)
{
	struct span s;

	if (name == NULL) {
		*proto_r = PBSD_PROTO_UNSPEC;
		return 0;
	}
	s = span_from_str(name);
	if (span_eq_ci(s, "pop3") || span_eq_ci(s, "pop")) {
		*proto_r = PBSD_PROTO_POP3;
		return 0;
	}
	if (span_eq_ci(s, "imap") || span_eq_ci(s, "imap4")) {
		*proto_r = PBSD_PROTO_IMAP;
		return 0;
	}
	return -1;
}

static size_t
pbsd_addr_len(uint8_t family)
{
	switch (family) {
	case PBSD_FAM_INET:
		return 4;
	case PBSD_FAM_INET6:
		return 16;
	default:
		return 0;
	}
}

/* 0 if every byte of the user is allowed (see pbsd_proto.h). */
static int
pbsd_user_check(struct span user)
{
	size_t	i;
	uint8_t	c;

	if (span_has_ctl(user)) {
		return -1;
	}
	for (i = 0; i < user.len; i++) {
		c = span_byte(user, i);
		if (c < 0x20 || c == 0x7f) {
			return -1;
		}
	}
	return 0;
}

static int
pbsd_header_check(uint8_t event, uint8_t family, uint8_t proto,
    const char **errstr_r)
{
	if (pbsd_event_name(event) == NULL) {
		*errstr_r = "unknown event type";
		return -1;
	}
	if (pbsd_addr_len(family) == 0) {
		*errstr_r = "bad address family";
		return -1;
	}
	if (pbsd_proto_name(proto) == NULL) {
		*errstr_r = "unknown protocol";
		return -1;
	}
	return 0;
}

int
pbsd_event_encode(const struct pbsd_record *rec, struct buf *out,
    const char **errstr_r)
{
	uint8_t		hdr[PBSD_PROTO_HDR];
	uint8_t		ulen;
	size_t		alen;
	struct span	user;

	if (pbsd_header_check(rec->pr_event, rec->pr_family, rec->pr_proto,
	    errstr_r) == -1) {
		return -1;
	}
	if (rec->pr_userlen > PBSD_PROTO_MAX_USER ||
	    strnlen(rec->pr_user, sizeof(rec->pr_user)) != rec->pr_userlen) {
		*errstr_r = "user too long or length mismatch";
		return -1;
	}
	user.p = (const uint8_t *)rec->pr_user;
	user.len = rec->pr_userlen;
	if (pbsd_user_check(user) == -1) {
		*errstr_r = "control character in user";
		return -1;
	}
	alen = pbsd_addr_len(rec->pr_family);
	hdr[0] = (uint8_t)(PBSD_PROTO_MAGIC >> 24);
	hdr[1] = (uint8_t)(PBSD_PROTO_MAGIC >> 16);
	hdr[2] = (uint8_t)(PBSD_PROTO_MAGIC >> 8);
	hdr[3] = (uint8_t)PBSD_PROTO_MAGIC;
	hdr[4] = PBSD_PROTO_VERSION;
	hdr[5] = rec->pr_event;
	hdr[6] = rec->pr_family;
	hdr[7] = rec->pr_proto;
	ulen = (uint8_t)rec->pr_userlen;
	if (buf_add(out, hdr, sizeof(hdr)) == -1 ||
	    buf_add(out, rec->pr_addr, alen) == -1 ||
	    buf_add(out, &ulen, 1) == -1 ||
	    buf_add_span(out, user) == -1) {
		*errstr_r = "output buffer too small";
		return -1;
	}
	return 0;
}

static uint32_t
pbsd_get32(struct span s, size_t off)
{
	return (uint32_t)span_byte(s, off) << 24 |
	    (uint32_t)span_byte(s, off + 1) << 16 |
	    (uint32_t)span_byte(s, off + 2) << 8 |
	    (uint32_t)span_byte(s, off + 3);
}

/* UNTRUSTED: bounded by PBSD_PROTO_MAX_LEN; every field checked. */
int
pbsd_event_decode(const uint8_t *p, size_t len, struct pbsd_record *rec_r,
    const char **errstr_r)
{
	struct pbsd_record	rec;
	struct span		in, addr, user;
	size_t			alen, ulen;

	if (len < PBSD_PROTO_MIN_LEN) {
		*errstr_r = "record too short";
		return -1;
	}
	if (len > PBSD_PROTO_MAX_LEN) {
		*errstr_r = "record too long";
		return -1;
	}
	in.p = p;
	in.len = len;
	if (pbsd_get32(in, 0) != PBSD_PROTO_MAGIC) {
		*errstr_r = "bad magic";
		return -1;
	}
	if (span_byte(in, 4) != PBSD_PROTO_VERSION) {
		*errstr_r = "unsupported version";
		return -1;
	}
	memset(&rec, 0, sizeof(rec));
	rec.pr_event = span_byte(in, 5);
	rec.pr_family = span_byte(in, 6);
	rec.pr_proto = span_byte(in, 7);
	if (pbsd_header_check(rec.pr_event, rec.pr_family, rec.pr_proto,
	    errstr_r) == -1) {
		return -1;
	}
	alen = pbsd_addr_len(rec.pr_family);
	if (len < PBSD_PROTO_HDR + alen + 1) {
		*errstr_r = "record too short for address";
		return -1;
	}
	addr = span_sub(in, PBSD_PROTO_HDR, alen);
	ulen = span_byte(in, PBSD_PROTO_HDR + alen);
	if (len - (PBSD_PROTO_HDR + alen + 1) < ulen) {
		*errstr_r = "user field truncated";
		return -1;
	}
	if (len - (PBSD_PROTO_HDR + alen + 1) > ulen) {
		*errstr_r = "trailing bytes";
		return -1;
	}
	user = span_sub(in, PBSD_PROTO_HDR + alen + 1, ulen);
	if (pbsd_user_check(user) == -1 ||
	    span_cstr(user, rec.pr_user, sizeof(rec.pr_user)) == -1) {
		*errstr_r = "control character in user";
		return -1;
	}
	memcpy(rec.pr_addr, addr.p, addr.len);
	rec.pr_userlen = ulen;
	*rec_r = rec;
	return 0;
}

int
pbsd_record_set_addr(struct pbsd_record *rec, const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	memset(rec->pr_addr, 0, sizeof(rec->pr_addr));
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		rec->pr_family = PBSD_FAM_INET;
		memcpy(rec->pr_addr, &sin->sin_addr, 4);
		return 0;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			rec->pr_family = PBSD_FAM_INET;
			memcpy(rec->pr_addr, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			rec->pr_family = PBSD_FAM_INET6;
			memcpy(rec->pr_addr, &sin6->sin6_addr, 16);
		}
		return 0;
	default:
		return -1;
	}
}

int
pbsd_client_socket(void)
{
	return socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

int
pbsd_send(int fd, const char *sockpath, enum pbsd_event ev,
    const struct sockaddr *client, const char *user, const char *proto)
{
	struct pbsd_record	 rec;
	struct sockaddr_un	 sun;
	struct buf		 out;
	const char		*errstr;
	ssize_t			 n;
	int			 rv = -1, saved;

	memset(&rec, 0, sizeof(rec));
	memset(&sun, 0, sizeof(sun));
	buf_init(&out, PBSD_PROTO_MAX_LEN);
	errno = EINVAL;
	if (sockpath == NULL || client == NULL ||
	    strlen(sockpath) >= sizeof(sun.sun_path)) {
		goto out;
	}
	rec.pr_event = (uint8_t)ev;
	if (pbsd_record_set_addr(&rec, client) == -1 ||
	    pbsd_proto_from_name(proto, &rec.pr_proto) == -1) {
		goto out;
	}
	if (user != NULL) {
		rec.pr_userlen = strnlen(user, PBSD_PROTO_MAX_USER + 1);
		if (rec.pr_userlen > PBSD_PROTO_MAX_USER) {
			goto out;
		}
		memcpy(rec.pr_user, user, rec.pr_userlen);
	}
	if (pbsd_event_encode(&rec, &out, &errstr) == -1) {
		errno = EINVAL;
		goto out;
	}
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sockpath, strlen(sockpath));
	n = sendto(fd, buf_ptr(&out), buf_len(&out),
	    MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sun, sizeof(sun));
	if (n == (ssize_t)buf_len(&out)) {
		rv = 0;
	} else if (n >= 0) {
		errno = EMSGSIZE;
	}
out:
	saved = errno;
	secure_zero(&rec, sizeof(rec));
	buf_release(&out);
	errno = saved;
	return rv;
}
