/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * conn: plain or TLS byte streams for a session (see conn.h).  Runs in
 * the worker.
 */
#include <errno.h>
#include <unistd.h>

#include "conn.h"
#include "tls.h"

void
conn_init(struct conn *c, int fd)
{
	c->fd = fd;
	c->tls = NULL;
	c->hs = 0;
	c->want_write = 0;
	c->err = NULL;
}

static ssize_t
conn_tls_result(struct conn *c, enum tls_status st, size_t n)
{
	switch (st) {
	case TLS_OK:
		return (ssize_t)n;
	case TLS_EOF:
		return CONN_EOF;
	case TLS_WANT_READ:
		return CONN_AGAIN;
	case TLS_WANT_WRITE:
		c->want_write = 1;
		return CONN_AGAIN;
	default:
		return CONN_ERROR;
	}
}

ssize_t
conn_read(struct conn *c, void *p, size_t len)
{
	enum tls_status	st;
	size_t		n = 0;
	ssize_t		r;

	c->want_write = 0;
	if (c->tls != NULL) {
		st = tls_read(c->tls, p, len, &n, &c->err);
		return conn_tls_result(c, st, n);
	}
	do {
		r = read(c->fd, p, len);
	} while (r == -1 && errno == EINTR);
	if (r == -1) {
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? CONN_AGAIN :
		    CONN_ERROR;
	}
	return r;
}

ssize_t
conn_write(struct conn *c, const void *p, size_t len)
{
	enum tls_status	st;
	size_t		n = 0;
	ssize_t		r;

	c->want_write = 0;
	if (c->tls != NULL) {
		st = tls_write(c->tls, p, len, &n, &c->err);
		if (st == TLS_WANT_READ || st == TLS_WANT_WRITE) {
			c->want_write = 1;
			return CONN_AGAIN;
		}
		return st == TLS_OK ? (ssize_t)n : CONN_ERROR;
	}
	do {
		r = write(c->fd, p, len);
	} while (r == -1 && errno == EINTR);
	if (r == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			c->want_write = 1;
			return CONN_AGAIN;
		}
		return CONN_ERROR;
	}
	return r;
}

int
conn_write_buf(struct conn *c, struct buf *b, uint64_t *count)
{
	ssize_t	n;

	while (buf_len(b) > 0) {
		n = conn_write(c, buf_ptr(b), buf_len(b));
		if (n == CONN_AGAIN) {
			return 1;
		}
		if (n <= 0) {
			return -1;
		}
		if (count != NULL) {
			*count += (uint64_t)n;
		}
		buf_consume(b, (size_t)n);
	}
	return 0;
}

int
conn_pending(const struct conn *c)
{
	return c->tls != NULL && tls_pending(c->tls) > 0;
}

int
conn_handshake(struct conn *c)
{
	enum tls_status	st;

	c->want_write = 0;
	st = tls_handshake(c->tls, &c->err);
	switch (st) {
	case TLS_OK:
		c->hs = 0;
		return 1;
	case TLS_WANT_READ:
		return 0;
	case TLS_WANT_WRITE:
		c->want_write = 1;
		return 0;
	default:
		return -1;
	}
}

void
conn_close(struct conn *c)
{
	if (c->tls != NULL) {
		tls_conn_free(&c->tls);
	}
	if (c->fd != -1) {
		close(c->fd);
	}
	c->fd = -1;
	c->hs = 0;
}
