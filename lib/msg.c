/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * msg: IPC encoding, decoding and queued sending over SOCK_SEQPACKET.
 * Runs in every bailey role.  Decoding trusts nothing: lengths are checked
 * against what arrived, strings may not hold NUL, and trailing bytes make
 * a message invalid.  A received fd is always either handed to the caller
 * in msg_in.fd or closed.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"

struct msg_qent {
	struct msg_qent	*next;
	int		 fd;
	size_t		 len;
	uint8_t		 data[];
};

static const char *const msg_names[MSG_TYPE_MAX] = {
	[MSG_NONE] = "none",
	[MSG_LOOKUP] = "lookup",
	[MSG_LOOKUP_RESULT] = "lookup-result",
	[MSG_CONNECT] = "connect",
	[MSG_CONNECT_RESULT] = "connect-result",
	[MSG_BACKEND] = "backend",
	[MSG_AUTH_OK] = "auth-ok",
	[MSG_SESSION_ALIVE] = "session-alive",
	[MSG_SESSION_END] = "session-end",
	[MSG_ACCEPTED] = "accepted",
	[MSG_DRAIN] = "drain",
	[MSG_RELOAD] = "reload",
	[MSG_KH_CLIENT] = "kh-client",
	[MSG_KH_CHANNEL] = "kh-channel",
	[MSG_KH_SIGN] = "kh-sign",
	[MSG_KH_SIG] = "kh-sig",
	[MSG_SPAWN] = "spawn",
	[MSG_SPAWNED] = "spawned",
	[MSG_CONF_RELOAD] = "conf-reload",
	[MSG_CONF] = "conf",
};

_Static_assert(sizeof(msg_names) / sizeof(msg_names[0]) == MSG_TYPE_MAX,
    "msg_names must name every msg_type");

const char *
msg_type_name(unsigned t)
{
	if (t >= MSG_TYPE_MAX || msg_names[t] == NULL) {
		return "unknown";
	}
	return msg_names[t];
}

void
msg_init(struct msg_out *m, enum msg_type type)
{
	m->type = (uint16_t)type;
	m->len = 0;
	m->err = 0;
}

static void
msg_add(struct msg_out *m, const void *p, size_t n)
{
	if (m->err || n > sizeof(m->data) - m->len) {
		m->err = 1;
		return;
	}
	memcpy(m->data + m->len, p, n);
	m->len += n;
}

void
msg_add_u8(struct msg_out *m, uint8_t v)
{
	msg_add(m, &v, 1);
}

void
msg_add_u16(struct msg_out *m, uint16_t v)
{
	uint8_t	b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	msg_add(m, b, sizeof(b));
}

void
msg_add_u32(struct msg_out *m, uint32_t v)
{
	msg_add_u16(m, (uint16_t)(v >> 16));
	msg_add_u16(m, (uint16_t)v);
}

void
msg_add_u64(struct msg_out *m, uint64_t v)
{
	msg_add_u32(m, (uint32_t)(v >> 32));
	msg_add_u32(m, (uint32_t)v);
}

void
msg_add_str(struct msg_out *m, const char *s)
{
	size_t	n = strlen(s);

	if (n > UINT16_MAX) {
		m->err = 1;
		return;
	}
	msg_add_u16(m, (uint16_t)n);
	msg_add(m, s, n);
}

void
msg_add_data(struct msg_out *m, const void *p, size_t n)
{
	if (n > UINT16_MAX) {
		m->err = 1;
		return;
	}
	msg_add_u16(m, (uint16_t)n);
	msg_add(m, p, n);
}

static const uint8_t *
msg_get(struct msg_in *m, size_t n)
{
	const uint8_t *p;

	if (m->err || n > m->len - m->off) {
		m->err = 1;
		return NULL;
	}
	p = m->data + m->off;
	m->off += n;
	return p;
}

uint8_t
msg_get_u8(struct msg_in *m)
{
	const uint8_t *p = msg_get(m, 1);

	return p ? p[0] : 0;
}

uint16_t
msg_get_u16(struct msg_in *m)
{
	const uint8_t *p = msg_get(m, 2);

	return p ? (uint16_t)((p[0] << 8) | p[1]) : 0;
}

uint32_t
msg_get_u32(struct msg_in *m)
{
	uint32_t hi = msg_get_u16(m);

	return (hi << 16) | msg_get_u16(m);
}

uint64_t
msg_get_u64(struct msg_in *m)
{
	uint64_t hi = msg_get_u32(m);

	return (hi << 32) | msg_get_u32(m);
}

void
msg_get_str(struct msg_in *m, char *dst, size_t dstsz)
{
	uint16_t	 n = msg_get_u16(m);
	const uint8_t	*p = msg_get(m, n);

	if (dstsz > 0) {
		dst[0] = '\0';
	}
	if (p == NULL) {
		return;
	}
	if ((size_t)n >= dstsz || (n > 0 && memchr(p, '\0', n) != NULL)) {
		m->err = 1;
		return;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
}

size_t
msg_get_data(struct msg_in *m, void *dst, size_t dstsz)
{
	uint16_t	 n = msg_get_u16(m);
	const uint8_t	*p = msg_get(m, n);

	if (p == NULL || n > dstsz) {
		m->err = 1;
		return 0;
	}
	memcpy(dst, p, n);
	return n;
}

int
msg_end(struct msg_in *m)
{
	return (m->err || m->off != m->len) ? -1 : 0;
}

int
msg_parse(struct msg_in *m, const uint8_t *p, size_t n)
{
	uint16_t version, type;
	uint32_t len;

	if (n < 8) {
		return -1;
	}
	version = (uint16_t)((p[0] << 8) | p[1]);
	type = (uint16_t)((p[2] << 8) | p[3]);
	len = ((uint32_t)p[4] << 24) | ((uint32_t)p[5] << 16) |
	    ((uint32_t)p[6] << 8) | p[7];
	if (version != MSG_VERSION || type == MSG_NONE ||
	    type >= MSG_TYPE_MAX || len != n - 8 || len > sizeof(m->data)) {
		return -1;
	}
	m->type = type;
	m->len = len;
	m->off = 0;
	m->err = 0;
	memcpy(m->data, p + 8, len);
	return 0;
}

void
chan_init(struct chan *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
}

int
chan_pending(const struct chan *c)
{
	return c->qhead != NULL;
}

static int
chan_sendone(struct chan *c, struct msg_qent *q)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct cmsghdr	*cmp;
	ssize_t		 n;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = q->data;
	iov.iov_len = q->len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (q->fd != -1) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		cmp = CMSG_FIRSTHDR(&mh);
		cmp->cmsg_level = SOL_SOCKET;
		cmp->cmsg_type = SCM_RIGHTS;
		cmp->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmp), &q->fd, sizeof(int));
	}
	n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
			return 1;
		}
		return -1;
	}
	return 0;
}

int
chan_flush(struct chan *c)
{
	struct msg_qent	*q;
	int		 rv;

	while ((q = c->qhead) != NULL) {
		if ((rv = chan_sendone(c, q)) != 0) {
			return rv;
		}
		c->qhead = q->next;
		if (c->qhead == NULL) {
			c->qtail = NULL;
		}
		c->qlen--;
		if (q->fd != -1) {
			close(q->fd);
		}
		free(q);
	}
	return 0;
}

int
chan_send(struct chan *c, const struct msg_out *m, int fd)
{
	struct msg_qent	*q;

	if (m->err) {
		log_warnx("chan_send: %s message too large", msg_type_name(m->type));
		if (fd != -1) {
			close(fd);
		}
		return -1;
	}
	if ((q = malloc(sizeof(*q) + 8 + m->len)) == NULL) {
		fatal("chan_send");
	}
	q->next = NULL;
	q->fd = fd;
	q->len = 8 + m->len;
	q->data[0] = MSG_VERSION >> 8;
	q->data[1] = MSG_VERSION & 0xff;
	q->data[2] = (uint8_t)(m->type >> 8);
	q->data[3] = (uint8_t)m->type;
	q->data[4] = (uint8_t)(m->len >> 24);
	q->data[5] = (uint8_t)(m->len >> 16);
	q->data[6] = (uint8_t)(m->len >> 8);
	q->data[7] = (uint8_t)m->len;
	memcpy(q->data + 8, m->data, m->len);
	if (c->qtail != NULL) {
		c->qtail->next = q;
	} else {
		c->qhead = q;
	}
	c->qtail = q;
	c->qlen++;
	return chan_flush(c) == -1 ? -1 : 0;
}

int
chan_recv(struct chan *c, struct msg_in *m)
{
	uint8_t		 raw[8 + MSG_MAX_PAYLOAD];
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct cmsghdr	*cmp;
	ssize_t		 n;
	int		 fds[4], nfd = 0, i;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = raw;
	iov.iov_len = sizeof(raw);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	m->fd = -1;
	n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == -1) {
		return (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR) ? 0 : -1;
	}
	if (n == 0) {
		return -1;
	}
	for (cmp = CMSG_FIRSTHDR(&mh); cmp != NULL;
	    cmp = CMSG_NXTHDR(&mh, cmp)) {
		if (cmp->cmsg_level == SOL_SOCKET &&
		    cmp->cmsg_type == SCM_RIGHTS) {
			size_t k = (cmp->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (i = 0; i < (int)k && nfd < 4; i++) {
				memcpy(&fds[nfd++], CMSG_DATA(cmp) +
				    (size_t)i * sizeof(int), sizeof(int));
			}
		}
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || nfd > 1 ||
	    msg_parse(m, raw, (size_t)n) == -1) {
		for (i = 0; i < nfd; i++) {
			close(fds[i]);
		}
		log_warnx("chan_recv: malformed message (%zd bytes)", n);
		errno = EBADMSG;
		return -1;
	}
	if (nfd == 1) {
		m->fd = fds[0];
	}
	return 1;
}

void
chan_close(struct chan *c)
{
	struct msg_qent	*q;

	while ((q = c->qhead) != NULL) {
		c->qhead = q->next;
		if (q->fd != -1) {
			close(q->fd);
		}
		free(q);
	}
	c->qtail = NULL;
	c->qlen = 0;
	if (c->fd != -1) {
		close(c->fd);
	}
	c->fd = -1;
}
