/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * sasl: decoding of SASL PLAIN (RFC 4616) and LOGIN responses.  Runs in
 * the worker; input is UNTRUSTED base64 from the client, bounded by
 * SASL_MAX_LINE.  Decoded credentials with CR, LF, NUL or TAB are refused
 * (threat rows 13, 19, 21).
 */
#ifndef BAILEY_SASL_H
#define BAILEY_SASL_H

#include "buf.h"
#include "bailey_limits.h"

struct creds {
	char	user[MAX_USER + 1];
	char	pass[MAX_PASS + 1];
};

/* Zeroes the credentials. */
void	creds_clear(struct creds *);
/*
 * Decodes a PLAIN response ("authzid\0authcid\0passwd", base64).  A
 * non-empty authzid must equal authcid.  Returns 0, or -1 with *errstr_r.
 */
int	sasl_plain_decode(struct span b64, struct creds *, const char **errstr_r);
/* Decodes one LOGIN step (base64 of the username or the password). */
int	sasl_login_decode(struct span b64, char *dst, size_t dstsz,
	    const char **errstr_r);
/* Checks a plain-text credential: no CR/LF/NUL/TAB, fits in dstsz. */
int	creds_set(struct span, char *dst, size_t dstsz, const char **errstr_r);

#endif
