/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * conn: one side of a session (client or backend) as a byte stream that
 * is either a plain socket or TLS over it, so the protocol machines and
 * the relay do not care which.  Runs in the worker; the bytes are
 * UNTRUSTED and pass through unparsed.
 */
#ifndef BAILEY_CONN_H
#define BAILEY_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

struct tls_conn;

struct conn {
	int		 fd;
	struct tls_conn	*tls;		/* NULL: plain */
	int		 hs;		/* TLS handshake still under way */
	int		 want_write;	/* the last call wants the fd writable */
	const char	*err;		/* last TLS error, for the log */
};

/* Results besides a byte count. */
#define CONN_EOF	0
#define CONN_AGAIN	(-2)		/* try again when the fd is ready */
#define CONN_ERROR	(-1)

void	 conn_init(struct conn *, int fd);
/* n > 0 bytes, CONN_EOF, CONN_AGAIN or CONN_ERROR. */
ssize_t	 conn_read(struct conn *, void *, size_t);
ssize_t	 conn_write(struct conn *, const void *, size_t);
/* TLS: decrypted bytes (or a record) held inside; read again first. */
int	 conn_pending(const struct conn *);
/*
 * Writes b out until it is empty (0) or the fd would block (1); -1 on an
 * error.  Bytes written are added to *count if count is not NULL.
 */
int	 conn_write_buf(struct conn *, struct buf *b, uint64_t *count);
/* Drives the TLS handshake: 1 done, 0 again later, -1 failed (c->err). */
int	 conn_handshake(struct conn *);
/* Frees TLS state and closes the fd. */
void	 conn_close(struct conn *);

#endif
