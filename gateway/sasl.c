/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * sasl: decodes SASL PLAIN (RFC 4616) and LOGIN responses into checked
 * credentials.  Runs in the worker, as the unprivileged _bailey user in its
 * sandbox; the base64 it is given comes straight from an unauthenticated
 * client and is trusted for nothing.  Decoded credentials must be safe to
 * hand to the lookup role, pbsd and the backend: CR, LF, NUL and TAB are
 * refused (threat rows 13, 19, 21, 36, 40).  Every temporary that held
 * decoded bytes is cleared with secure_zero before return.
 */
#include <string.h>

#include "buf.h"
#include "bailey_limits.h"
#include "sasl.h"

/* authzid NUL authcid NUL passwd, authzid empty or equal to authcid. */
#define SASL_PLAIN_MAX	(MAX_USER + 1 + MAX_USER + 1 + MAX_PASS)
/* A LOGIN step is a username or a password. */
#define SASL_LOGIN_MAX	(MAX_USER > MAX_PASS ? MAX_USER : MAX_PASS)
/* Base64 length of n bytes. */
#define SASL_B64_LEN(n)	((((n) + 2) / 3) * 4)

void
creds_clear(struct creds *c)
{
	secure_zero(c, sizeof(*c));
}

/* Plain-text credential: no CR/LF/NUL/TAB and it fits in dstsz. */
int
creds_set(struct span s, char *dst, size_t dstsz, const char **errstr_r)
{
	if (dstsz == 0) {
		*errstr_r = "no room for credential";
		return -1;
	}
	dst[0] = '\0';
	if (span_has_ctl(s)) {
		*errstr_r = "control character in credential";
		return -1;
	}
	if (span_cstr(s, dst, dstsz) == -1) {
		*errstr_r = "credential too long";
		return -1;
	}
	return 0;
}

/*
 * Decodes b64 into dst (dstsz bytes).  The empty response and "=" (RFC
 * 4959 empty initial response) are refused: no mechanism we accept has a
 * valid empty message.
 */
static int
sasl_b64(struct span b64, uint8_t *dst, size_t dstsz, size_t *len_r,
    const char **errstr_r)
{
	if (b64.len == 0 || span_eq(b64, "=")) {
		*errstr_r = "empty SASL response";
		return -1;
	}
	if (b64.len > SASL_B64_LEN(dstsz)) {
		*errstr_r = "SASL response too long";
		return -1;
	}
	if (b64_decode(b64, dst, dstsz, len_r) == -1) {
		*errstr_r = "invalid base64";
		return -1;
	}
	return 0;
}

/*
 * Splits "authzid NUL authcid NUL passwd" at exactly two NULs.  A NUL in
 * the password would be a third one and is refused here.
 */
static int
sasl_plain_split(struct span msg, struct span *authz_r, struct span *authc_r,
    struct span *pass_r, const char **errstr_r)
{
	long	nul1, nul2;
	size_t	a, b;

	nul1 = span_find(msg, 0, '\0');
	nul2 = nul1 < 0 ? -1 : span_find(msg, (size_t)nul1 + 1, '\0');
	if (nul1 < 0 || nul2 < 0) {
		*errstr_r = "malformed PLAIN response";
		return -1;
	}
	a = (size_t)nul1;
	b = (size_t)nul2;
	if (span_find(msg, b + 1, '\0') >= 0) {
		*errstr_r = "NUL in PLAIN credentials";
		return -1;
	}
	*authz_r = span_sub(msg, 0, a);
	*authc_r = span_sub(msg, a + 1, b - a - 1);
	*pass_r = span_sub(msg, b + 1, msg.len - b - 1);
	return 0;
}

static int
sasl_plain_check(struct span authz, struct span authc, struct span pass,
    struct creds *c, const char **errstr_r)
{
	if (authc.len == 0) {
		*errstr_r = "empty user name";
		return -1;
	}
	if (pass.len == 0) {
		*errstr_r = "empty password";
		return -1;
	}
	if (span_has_ctl(authz)) {
		*errstr_r = "control character in authorization identity";
		return -1;
	}
	if (authz.len != 0 && (authz.len != authc.len ||
	    memcmp(authz.p, authc.p, authc.len) != 0)) {
		*errstr_r = "proxy authorization not supported";
		return -1;
	}
	if (creds_set(authc, c->user, sizeof(c->user), errstr_r) == -1 ||
	    creds_set(pass, c->pass, sizeof(c->pass), errstr_r) == -1) {
		return -1;
	}
	return 0;
}

/* UNTRUSTED: client base64, bounded by the decoded PLAIN maximum. */
int
sasl_plain_decode(struct span b64, struct creds *c, const char **errstr_r)
{
	uint8_t		tmp[SASL_PLAIN_MAX];
	struct span	msg, authz, authc, pass;
	size_t		len = 0;
	int		rv = -1;

	creds_clear(c);
	if (sasl_b64(b64, tmp, sizeof(tmp), &len, errstr_r) == -1) {
		goto out_zero;
	}
	msg.p = tmp;
	msg.len = len;
	if (sasl_plain_split(msg, &authz, &authc, &pass, errstr_r) == -1) {
		goto out_zero;
	}
	if (sasl_plain_check(authz, authc, pass, c, errstr_r) == -1) {
		creds_clear(c);
		goto out_zero;
	}
	rv = 0;
out_zero:
	secure_zero(tmp, sizeof(tmp));
	return rv;
}

/* UNTRUSTED: client base64, bounded by SASL_LOGIN_MAX decoded bytes. */
int
sasl_login_decode(struct span b64, char *dst, size_t dstsz,
    const char **errstr_r)
{
	uint8_t		tmp[SASL_LOGIN_MAX];
	struct span	field;
	size_t		len = 0;
	int		rv = -1;

	if (dstsz > 0) {
		dst[0] = '\0';
	}
	if (sasl_b64(b64, tmp, sizeof(tmp), &len, errstr_r) == -1) {
		goto out_zero;
	}
	field.p = tmp;
	field.len = len;
	if (field.len == 0) {
		*errstr_r = "empty SASL response";
		goto out_zero;
	}
	if (creds_set(field, dst, dstsz, errstr_r) == -1) {
		if (dstsz > 0) {
			secure_zero(dst, dstsz);
		}
		goto out_zero;
	}
	rv = 0;
out_zero:
	secure_zero(tmp, sizeof(tmp));
	return rv;
}
