/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * tls: the TLS layer over mbedTLS 3.6 (see tls.h and docs/tls.md).
 * Contexts are built by a role while it still may open files (before the
 * sandbox); connections run in the worker as _bailey in an empty chroot
 * with no capabilities and trust nobody: handshake and record bytes come
 * from the client or from a semi-trusted backend.  After set-up the only
 * system calls are recvfrom/sendto on the connection's fd, getpid (PSA's
 * fork check) and, in a fresh child, getrandom.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

/* The private layout of mbedtls_pk_info_t, from the tree we built. */
#include "mbedtls-private/pk_wrap.h"

#include "buf.h"
#include "bailey_limits.h"
#include "log.h"
#include "tls.h"

struct tls_remote_key {
	const struct tls_key_ops	*ops;
	uint32_t			 key_id;
	size_t				 bits;
};

struct tls_cert {
	mbedtls_x509_crt	 chain;
	mbedtls_pk_context	 key;
	char			*names[TLS_MAX_NAMES];
	size_t			 nnames;
	struct tls_remote_key	 remote;
};

struct tls_alpn {
	char		*names[TLS_MAX_ALPN];
	const char	*list[TLS_MAX_ALPN + 1];	/* NULL-terminated */
};

struct tls_server {
	mbedtls_ssl_config		 conf;
	struct tls_alpn			 alpn;
	mbedtls_ssl_ticket_context	 ticket;
	int				 suites[32];
	struct tls_cert			*certs[TLS_MAX_CERTS];
	size_t				 ncerts;
};

struct tls_client {
	mbedtls_ssl_config	 conf;
	struct tls_alpn		 alpn;
	mbedtls_x509_crt	 ca;
	int			 suites[32];
	enum tls_verify		 verify;
	int			 has_pin;
	uint8_t			 pin[TLS_PIN_LEN];
};

enum tls_pin_state {
	TLS_PIN_UNSEEN = 0,
	TLS_PIN_MATCH,
	TLS_PIN_MISMATCH,
};

struct tls_conn {
	mbedtls_ssl_context	 ssl;
	int			 fd;
	int			 io_errno;	/* errno of a failed recv/send */
	struct tls_server	*srv;
	struct tls_client	*cli;
	enum tls_pin_state	 pin;
	char			 sni[MAX_HOST + 1];
	char			 errbuf[256];
};

/* Our default suites, strongest first; the build has no others. */
static const char *const tls_default_suites[] = {
	"TLS1-3-AES-256-GCM-SHA384",
	"TLS1-3-CHACHA20-POLY1305-SHA256",
	"TLS1-3-AES-128-GCM-SHA256",
	"TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384",
	"TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256",
	"TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
	"TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384",
	"TLS-ECDHE-RSA-WITH-CHACHA20-POLY1305-SHA256",
	"TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256",
	NULL,
};

static const uint16_t tls_groups[] = {
	MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
	MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
	MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1,
	MBEDTLS_SSL_IANA_TLS_GROUP_NONE,
};

/* Context-level errors (single-threaded roles; valid until the next). */
static char	tls_errbuf[256];
static int	tls_initialised;

static const char *
tls_mberr(const char *what, int ret)
{
	char	 m[160];

	mbedtls_strerror(ret, m, sizeof(m));
	(void)snprintf(tls_errbuf, sizeof(tls_errbuf), "%s: %s (-0x%04x)",
	    what, m, (unsigned int)-ret);
	return tls_errbuf;
}

static const char *
tls_fileerr(const char *what, const char *path, const char *why)
{
	(void)snprintf(tls_errbuf, sizeof(tls_errbuf), "%s %s: %s", what,
	    path, why);
	return tls_errbuf;
}

/* --- private ABI guard ------------------------------------------------ */

/*
 * The remote-key pk_info fills in mbedTLS's private struct; refuse to run
 * if the built-in EC one does not look as research/deps.md describes.
 */
static int
tls_check_pk_abi(const char **errstr_r)
{
	const mbedtls_pk_info_t	*ec;

	ec = mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY);
	if (ec == NULL || ec->type != MBEDTLS_PK_ECKEY ||
	    ec->name == NULL || strcmp(ec->name, "EC") != 0 ||
	    ec->sign_func == NULL || ec->ctx_alloc_func == NULL ||
	    ec->ctx_free_func == NULL || ec->debug_func == NULL ||
	    ec->decrypt_func != NULL || ec->encrypt_func != NULL) {
		*errstr_r = "mbedTLS pk_info layout is not the expected one";
		return -1;
	}
	return 0;
}

int
tls_init(const char **errstr_r)
{
	psa_status_t	 st;

	if (tls_initialised) {
		return 0;
	}
	st = psa_crypto_init();
	if (st != PSA_SUCCESS) {
		(void)snprintf(tls_errbuf, sizeof(tls_errbuf),
		    "psa_crypto_init failed (%d)", (int)st);
		*errstr_r = tls_errbuf;
		return -1;
	}
	if (tls_check_pk_abi(errstr_r) == -1) {
		return -1;
	}
	tls_initialised = 1;
	return 0;
}

/* --- host names (SNI) -------------------------------------------------- */

enum tls_sni_state {
	SNI_LABEL_START,
	SNI_IN_LABEL,
};

/* UNTRUSTED: the client's SNI bytes, bounded by MAX_HOST. */
int
tls_sni_valid(struct span name)
{
	enum tls_sni_state	 st = SNI_LABEL_START;
	size_t			 i, label = 0;
	uint8_t			 c;

	if (name.len == 0 || name.len > MAX_HOST) {
		return 0;
	}
	for (i = 0; i < name.len; i++) {
		c = span_byte(name, i);
		if (c == '.') {
			if (st == SNI_LABEL_START) {
				return 0;
			}
			st = SNI_LABEL_START;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_')) {
			return 0;
		}
		if (++label > TLS_MAX_LABEL) {
			return 0;
		}
		st = SNI_IN_LABEL;
	}
	return st == SNI_IN_LABEL;
}

int
tls_name_match(const char *pattern, struct span name)
{
	long	 dot;

	if (!tls_sni_valid(name)) {
		return 0;
	}
	if (pattern[0] == '*' && pattern[1] == '.' && pattern[2] != '\0') {
		dot = span_find(name, 0, '.');
		if (dot <= 0) {
			return 0;
		}
		return span_eq_ci(span_sub(name, (size_t)dot,
		    name.len - (size_t)dot), pattern + 1);
	}
	return span_eq_ci(name, pattern);
}

/* --- certificates ------------------------------------------------------- */

static int
tls_cert_add_name(struct tls_cert *c, struct span s)
{
	char	*n;

	if (c->nnames >= TLS_MAX_NAMES || s.len == 0 || s.len > MAX_HOST) {
		return -1;
	}
	if ((n = malloc(s.len + 1)) == NULL) {
		fatal("malloc");
	}
	if (span_cstr(s, n, s.len + 1) == -1) {
		free(n);
		return -1;
	}
	c->names[c->nnames++] = n;
	return 0;
}

/* Names for SNI: the leaf's SAN DNS entries, or its CN if it has none. */
static void
tls_cert_collect_names(struct tls_cert *c)
{
	const mbedtls_x509_sequence	*san;
	const mbedtls_x509_name		*dn;
	struct span			 s;

	for (san = &c->chain.subject_alt_names; san != NULL; san = san->next) {
		if (san->buf.p == NULL || san->buf.tag !=
		    (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME)) {
			continue;
		}
		s.p = san->buf.p;
		s.len = san->buf.len;
		(void)tls_cert_add_name(c, s);
	}
	if (c->nnames > 0) {
		return;
	}
	for (dn = &c->chain.subject; dn != NULL; dn = dn->next) {
		if (dn->oid.p != NULL &&
		    MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &dn->oid) == 0) {
			s.p = dn->val.p;
			s.len = dn->val.len;
			(void)tls_cert_add_name(c, s);
		}
	}
}

static void
tls_cert_free(struct tls_cert *c)
{
	size_t	 i;

	if (c == NULL) {
		return;
	}
	for (i = 0; i < c->nnames; i++) {
		free(c->names[i]);
	}
	mbedtls_pk_free(&c->key);
	mbedtls_x509_crt_free(&c->chain);
	free(c);
}

/*
 * Reads a key file that only its owner (root or us) may read; refuses
 * anything else (OpenSMTPD check_file_secrecy).  Symlinks are followed
 * (certbot's live/ layout) and the checks apply to what was opened.  The
 * caller zeroes *buf_r.
 */
static int
tls_read_secret(const char *path, uint8_t **buf_r, size_t *len_r,
    const char **errstr_r)
{
	struct stat	 st;
	uint8_t		*b;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd, ret = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*errstr_r = tls_fileerr("key file", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		*errstr_r = tls_fileerr("key file", path, strerror(errno));
		goto out_close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		*errstr_r = tls_fileerr("key file", path, "not a regular file");
		goto out_close_fd;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		*errstr_r = tls_fileerr("key file", path,
		    "accessible by group or other (chmod 600)");
		goto out_close_fd;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		*errstr_r = tls_fileerr("key file", path,
		    "owned by another user");
		goto out_close_fd;
	}
	if (st.st_size <= 0 || st.st_size >= TLS_MAX_KEY_FILE) {
		*errstr_r = tls_fileerr("key file", path, "bad size");
		goto out_close_fd;
	}
	/* One byte more for the NUL that PEM parsing wants. */
	if ((b = calloc(1, (size_t)st.st_size + 1)) == NULL) {
		fatal("calloc");
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, b + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			secure_zero(b, (size_t)st.st_size + 1);
			free(b);
			*errstr_r = tls_fileerr("key file", path, n == 0 ?
			    "short read" : strerror(errno));
			goto out_close_fd;
		}
		len += (size_t)n;
	}
	*buf_r = b;
	*len_r = len + 1;
	ret = 0;
out_close_fd:
	(void)close(fd);
	return ret;
}

static int
tls_load_key_pw(mbedtls_pk_context *pk, const char *path, const char *passfile,
    const char **errstr_r)
{
	uint8_t	*b, *pw = NULL;
	size_t	 len, pwlen = 0;
	int	 r;

	/* The passphrase file gets the same checks as a key file. */
	if (passfile != NULL && passfile[0] != '\0') {
		if (tls_read_secret(passfile, &pw, &pwlen, errstr_r) == -1) {
			return -1;
		}
		pwlen = strcspn((const char *)pw, "\r\n");
	}
	if (tls_read_secret(path, &b, &len, errstr_r) == -1) {
		if (pw != NULL) {
			secure_zero(pw, pwlen);
			free(pw);
		}
		return -1;
	}
	r = mbedtls_pk_parse_key(pk, b, len, pw, pwlen, mbedtls_psa_get_random,
	    MBEDTLS_PSA_RANDOM_STATE);
	secure_zero(b, len);
	free(b);
	if (pw != NULL) {
		secure_zero(pw, pwlen);
		free(pw);
	}
	if (r != 0) {
		*errstr_r = tls_mberr(path, r);
		return -1;
	}
	return 0;
}

static int
tls_load_key(mbedtls_pk_context *pk, const char *path, const char **errstr_r)
{
	return tls_load_key_pw(pk, path, NULL, errstr_r);
}

static struct tls_cert *
tls_cert_load_chain(const char *chain_file, const char **errstr_r)
{
	struct tls_cert	*c;
	int		 r;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		fatal("calloc");
	}
	mbedtls_x509_crt_init(&c->chain);
	mbedtls_pk_init(&c->key);
	if ((r = mbedtls_x509_crt_parse_file(&c->chain, chain_file)) != 0) {
		*errstr_r = r > 0 ? tls_fileerr("certificate file",
		    chain_file, "a certificate did not parse") :
		    tls_mberr(chain_file, r);
		tls_cert_free(c);
		return NULL;
	}
	tls_cert_collect_names(c);
	return c;
}

static int
tls_server_install(struct tls_server *srv, struct tls_cert *c,
    unsigned int flags, const char **errstr_r)
{
	int	 r;

	if (srv->ncerts == 0 || (flags & TLS_CERT_DEFAULT)) {
		r = mbedtls_ssl_conf_own_cert(&srv->conf, &c->chain, &c->key);
		if (r != 0) {
			*errstr_r = tls_mberr("own certificate", r);
			return -1;
		}
	}
	srv->certs[srv->ncerts++] = c;
	return 0;
}

int
tls_server_add_cert(struct tls_server *srv, const char *chain_file,
    const char *key_file, unsigned int flags, const char **errstr_r)
{
	struct tls_cert	*c;
	int		 r;

	if (srv->ncerts >= TLS_MAX_CERTS) {
		*errstr_r = "too many certificates";
		return -1;
	}
	if ((c = tls_cert_load_chain(chain_file, errstr_r)) == NULL) {
		return -1;
	}
	if (tls_load_key(&c->key, key_file, errstr_r) == -1) {
		goto out_free;
	}
	r = mbedtls_pk_check_pair(&c->chain.pk, &c->key,
	    mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
	if (r != 0) {
		*errstr_r = tls_fileerr("key file", key_file,
		    "does not match the certificate");
		goto out_free;
	}
	if (tls_server_install(srv, c, flags, errstr_r) == -1) {
		goto out_free;
	}
	return 0;
out_free:
	tls_cert_free(c);
	return -1;
}

/* --- remote (keyholder) ECDSA keys: a custom pk_info -------------------- */

static size_t
tls_rk_bitlen(mbedtls_pk_context *pk)
{
	const struct tls_remote_key *rk = pk->MBEDTLS_PRIVATE(pk_ctx);

	return rk->bits;
}

static int
tls_rk_can_do(mbedtls_pk_type_t type)
{
	/* Never ECKEY: static-ECDH suites would treat us as a keypair. */
	return type == MBEDTLS_PK_ECDSA;
}

static int
tls_rk_sign(mbedtls_pk_context *pk, mbedtls_md_type_t md,
    const unsigned char *hash, size_t hash_len, unsigned char *sig,
    size_t sig_size, size_t *sig_len, int (*f_rng)(void *, unsigned char *,
    size_t), void *p_rng)
{
	const struct tls_remote_key *rk = pk->MBEDTLS_PRIVATE(pk_ctx);

	(void)f_rng;
	(void)p_rng;
	if (rk->ops->sign(rk->ops->arg, rk->key_id, (int)md, hash, hash_len,
	    sig, sig_size, sig_len) == -1 || *sig_len > sig_size) {
		return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
	}
	return 0;
}

static void *
tls_rk_alloc(void)
{
	return calloc(1, sizeof(struct tls_remote_key));
}

static void
tls_rk_free(void *ctx)
{
	free(ctx);
}

static const mbedtls_pk_info_t tls_remote_pk_info = {
	.type = MBEDTLS_PK_ECDSA,
	.name = "bailey-remote-ECDSA",
	.get_bitlen = tls_rk_bitlen,
	.can_do = tls_rk_can_do,
	.sign_func = tls_rk_sign,
	.ctx_alloc_func = tls_rk_alloc,
	.ctx_free_func = tls_rk_free,
};

/* One test signature through the key source, checked with the cert. */
static int
tls_rk_check(struct tls_cert *c, const char **errstr_r)
{
	static const char	 msg[] = "bailey remote key check";
	uint8_t			 h[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	size_t			 slen;

	if (mbedtls_sha256((const unsigned char *)msg, sizeof(msg) - 1, h,
	    0) != 0 || mbedtls_pk_sign(&c->key, MBEDTLS_MD_SHA256, h, sizeof(h),
	    sig, sizeof(sig), &slen, mbedtls_psa_get_random,
	    MBEDTLS_PSA_RANDOM_STATE) != 0 ||
	    mbedtls_pk_verify(&c->chain.pk, MBEDTLS_MD_SHA256, h, sizeof(h),
	    sig, slen) != 0) {
		*errstr_r = "remote key does not sign for the certificate";
		return -1;
	}
	return 0;
}

int
tls_server_add_cert_remote(struct tls_server *srv, const char *chain_file,
    const struct tls_key_ops *ops, uint32_t key_id, unsigned int flags,
    const char **errstr_r)
{
	struct tls_cert		*c;
	struct tls_remote_key	*rk;

	if (srv->ncerts >= TLS_MAX_CERTS) {
		*errstr_r = "too many certificates";
		return -1;
	}
	if ((c = tls_cert_load_chain(chain_file, errstr_r)) == NULL) {
		return -1;
	}
	if (!mbedtls_pk_can_do(&c->chain.pk, MBEDTLS_PK_ECDSA)) {
		*errstr_r = tls_fileerr("certificate file", chain_file,
		    "remote keys must be ECDSA");
		goto out_free;
	}
	if (mbedtls_pk_setup(&c->key, &tls_remote_pk_info) != 0) {
		*errstr_r = "cannot set up the remote key";
		goto out_free;
	}
	rk = c->key.MBEDTLS_PRIVATE(pk_ctx);
	rk->ops = ops;
	rk->key_id = key_id;
	rk->bits = mbedtls_pk_get_bitlen(&c->chain.pk);
	if (tls_rk_check(c, errstr_r) == -1) {
		goto out_free;
	}
	if (tls_server_install(srv, c, flags, errstr_r) == -1) {
		goto out_free;
	}
	return 0;
out_free:
	tls_cert_free(c);
	return -1;
}

/* --- configuration shared by both sides -------------------------------- */

static int
tls_conf_versions(mbedtls_ssl_config *conf, enum tls_version min,
    enum tls_version max, const char **errstr_r)
{
	mbedtls_ssl_protocol_version	 lo, hi;

	lo = min == TLS_VERSION_1_3 ? MBEDTLS_SSL_VERSION_TLS1_3 :
	    MBEDTLS_SSL_VERSION_TLS1_2;
	hi = max == TLS_VERSION_1_2 ? MBEDTLS_SSL_VERSION_TLS1_2 :
	    MBEDTLS_SSL_VERSION_TLS1_3;
	if ((min != TLS_VERSION_DEFAULT && min != TLS_VERSION_1_2 &&
	    min != TLS_VERSION_1_3) || (max != TLS_VERSION_DEFAULT &&
	    max != TLS_VERSION_1_2 && max != TLS_VERSION_1_3) || lo > hi) {
		*errstr_r = "bad TLS version range";
		return -1;
	}
	mbedtls_ssl_conf_min_tls_version(conf, lo);
	mbedtls_ssl_conf_max_tls_version(conf, hi);
	return 0;
}

static int
tls_conf_suites(mbedtls_ssl_config *conf, int *ids, size_t max,
    const char *const *names, const char **errstr_r)
{
	size_t	 i, n = 0;

	if (names == NULL) {
		names = tls_default_suites;
	}
	for (i = 0; names[i] != NULL; i++) {
		if (n + 1 >= max) {
			*errstr_r = "too many cipher suites";
			return -1;
		}
		ids[n] = mbedtls_ssl_get_ciphersuite_id(names[i]);
		if (ids[n] == 0) {
			*errstr_r = tls_fileerr("cipher suite", names[i],
			    "unknown or not in this build");
			return -1;
		}
		n++;
	}
	if (n == 0) {
		*errstr_r = "empty cipher suite list";
		return -1;
	}
	ids[n] = 0;
	mbedtls_ssl_conf_ciphersuites(conf, ids);
	return 0;
}

static void
tls_alpn_free(struct tls_alpn *a)
{
	size_t	 i;

	for (i = 0; i < TLS_MAX_ALPN; i++) {
		free(a->names[i]);
		a->names[i] = NULL;
	}
}

static int
tls_conf_alpn(mbedtls_ssl_config *conf, struct tls_alpn *a,
    const char *const *names, const char **errstr_r)
{
	size_t	 i, len;
	int	 r;

	if (names == NULL) {
		return 0;
	}
	for (i = 0; names[i] != NULL; i++) {
		len = strlen(names[i]);
		if (i >= TLS_MAX_ALPN || len == 0 || len > TLS_MAX_ALPN_LEN) {
			*errstr_r = "bad ALPN protocol list";
			return -1;
		}
		if ((a->names[i] = strdup(names[i])) == NULL) {
			fatal("strdup");
		}
		a->list[i] = a->names[i];
	}
	a->list[i] = NULL;
	if (i == 0) {
		*errstr_r = "empty ALPN protocol list";
		return -1;
	}
	if ((r = mbedtls_ssl_conf_alpn_protocols(conf, a->list)) != 0) {
		*errstr_r = tls_mberr("ALPN", r);
		return -1;
	}
	return 0;
}

static int
tls_conf_common(mbedtls_ssl_config *conf, int endpoint, enum tls_version min,
    enum tls_version max, int *ids, size_t nids, const char *const *suites,
    const char **errstr_r)
{
	int	 r;

	if (!tls_initialised && tls_init(errstr_r) == -1) {
		return -1;
	}
	r = mbedtls_ssl_config_defaults(conf, endpoint,
	    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (r != 0) {
		*errstr_r = tls_mberr("ssl config", r);
		return -1;
	}
	mbedtls_ssl_conf_rng(conf, mbedtls_psa_get_random,
	    MBEDTLS_PSA_RANDOM_STATE);
	mbedtls_ssl_conf_groups(conf, tls_groups);
	if (tls_conf_versions(conf, min, max, errstr_r) == -1) {
		return -1;
	}
	return tls_conf_suites(conf, ids, nids, suites, errstr_r);
}

/* --- server ------------------------------------------------------------ */

/*
 * UNTRUSTED: the SNI bytes from the ClientHello, bounded by MAX_HOST (and
 * by mbedTLS's record size).  Adds every matching certificate; no match
 * means the default set; a malformed name aborts the handshake.
 */
static int
tls_sni_cb(void *arg, mbedtls_ssl_context *ssl, const unsigned char *name,
    size_t len)
{
	struct tls_server	*srv = arg;
	struct tls_conn		*conn = mbedtls_ssl_get_user_data_p(ssl);
	struct span		 s = { name, len };
	struct tls_cert		*c;
	size_t			 i, j;

	if (!tls_sni_valid(s)) {
		return -1;
	}
	if (conn != NULL) {
		(void)span_cstr(s, conn->sni, sizeof(conn->sni));
	}
	for (i = 0; i < srv->ncerts; i++) {
		c = srv->certs[i];
		for (j = 0; j < c->nnames; j++) {
			if (tls_name_match(c->names[j], s)) {
				break;
			}
		}
		if (j < c->nnames &&
		    mbedtls_ssl_set_hs_own_cert(ssl, &c->chain, &c->key) != 0) {
			return -1;
		}
	}
	return 0;
}

struct tls_server *
tls_server_new(const struct tls_server_opts *opts, const char **errstr_r)
{
	struct tls_server	*srv;
	uint32_t		 life;
	int			 r;

	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		fatal("calloc");
	}
	mbedtls_ssl_config_init(&srv->conf);
	mbedtls_ssl_ticket_init(&srv->ticket);
	if (tls_conf_common(&srv->conf, MBEDTLS_SSL_IS_SERVER,
	    opts->min_version, opts->max_version, srv->suites,
	    sizeof(srv->suites) / sizeof(srv->suites[0]), opts->ciphers,
	    errstr_r) == -1) {
		goto out_free;
	}
	mbedtls_ssl_conf_sni(&srv->conf, tls_sni_cb, srv);
	if (tls_conf_alpn(&srv->conf, &srv->alpn, opts->alpn, errstr_r) ==
	    -1) {
		goto out_free;
	}
	/* TLS 1.3 tickets resume with PSK_EPHEMERAL only (a fresh ECDHE):
	 * one ticket per handshake is enough for mail clients. */
	mbedtls_ssl_conf_new_session_tickets(&srv->conf, 1);
	if (!opts->no_tickets) {
		life = opts->ticket_lifetime ? opts->ticket_lifetime :
		    TLS_DEF_TICKET_LIFETIME;
		r = mbedtls_ssl_ticket_setup(&srv->ticket,
		    mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE,
		    MBEDTLS_CIPHER_AES_256_GCM, life);
		if (r != 0) {
			*errstr_r = tls_mberr("session tickets", r);
			goto out_free;
		}
		mbedtls_ssl_conf_session_tickets_cb(&srv->conf,
		    mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse,
		    &srv->ticket);
	}
	return srv;
out_free:
	tls_server_free(&srv);
	return NULL;
}

int
tls_server_ticket_key(struct tls_server *srv,
    const uint8_t name[TLS_TICKET_NAME_LEN],
    const uint8_t key[TLS_TICKET_KEY_LEN], uint32_t lifetime,
    const char **errstr_r)
{
	int	 r;

	r = mbedtls_ssl_ticket_rotate(&srv->ticket, name, TLS_TICKET_NAME_LEN,
	    key, TLS_TICKET_KEY_LEN, lifetime ? lifetime :
	    TLS_DEF_TICKET_LIFETIME);
	if (r != 0) {
		*errstr_r = tls_mberr("ticket key", r);
		return -1;
	}
	return 0;
}

void
tls_server_free(struct tls_server **srvp)
{
	struct tls_server	*srv = *srvp;
	size_t			 i;

	if (srv == NULL) {
		return;
	}
	mbedtls_ssl_config_free(&srv->conf);
	mbedtls_ssl_ticket_free(&srv->ticket);
	tls_alpn_free(&srv->alpn);
	for (i = 0; i < srv->ncerts; i++) {
		tls_cert_free(srv->certs[i]);
	}
	free(srv);
	*srvp = NULL;
}

/* --- client ------------------------------------------------------------ */

static int
tls_client_load_ca(struct tls_client *cli, const struct tls_client_opts *o,
    const char **errstr_r)
{
	const char	*file = o->ca_file;
	int		 r;

	if (file == NULL && o->ca_dir == NULL) {
		file = TLS_SYSTEM_CA_FILE;
	}
	/* r > 0: that many certificates did not parse (other algorithms). */
	if (file != NULL) {
		r = mbedtls_x509_crt_parse_file(&cli->ca, file);
		if (r < 0) {
			*errstr_r = tls_mberr(file, r);
			return -1;
		}
	}
	if (o->ca_dir != NULL) {
		r = mbedtls_x509_crt_parse_path(&cli->ca, o->ca_dir);
		if (r < 0) {
			*errstr_r = tls_mberr(o->ca_dir, r);
			return -1;
		}
	}
	if (cli->ca.raw.p == NULL) {
		*errstr_r = "no usable CA certificate";
		return -1;
	}
	mbedtls_ssl_conf_ca_chain(&cli->conf, &cli->ca, NULL);
	return 0;
}

struct tls_client *
tls_client_new(const struct tls_client_opts *opts, const char **errstr_r)
{
	struct tls_client	*cli;

	if (opts->verify > TLS_VERIFY_INSECURE ||
	    (opts->verify == TLS_VERIFY_PIN_ONLY &&
	    opts->spki_sha256 == NULL)) {
		*errstr_r = "bad verification mode (pin-only needs a pin)";
		return NULL;
	}
	if ((cli = calloc(1, sizeof(*cli))) == NULL) {
		fatal("calloc");
	}
	mbedtls_ssl_config_init(&cli->conf);
	mbedtls_x509_crt_init(&cli->ca);
	cli->verify = opts->verify;
	if (opts->spki_sha256 != NULL) {
		memcpy(cli->pin, opts->spki_sha256, TLS_PIN_LEN);
		cli->has_pin = 1;
	}
	if (tls_conf_common(&cli->conf, MBEDTLS_SSL_IS_CLIENT,
	    opts->min_version, opts->max_version, cli->suites,
	    sizeof(cli->suites) / sizeof(cli->suites[0]), opts->ciphers,
	    errstr_r) == -1 ||
	    tls_conf_alpn(&cli->conf, &cli->alpn, opts->alpn, errstr_r) == -1) {
		goto out_free;
	}
	if (cli->verify == TLS_VERIFY_INSECURE) {
		mbedtls_ssl_conf_authmode(&cli->conf, MBEDTLS_SSL_VERIFY_NONE);
	} else {
		mbedtls_ssl_conf_authmode(&cli->conf,
		    MBEDTLS_SSL_VERIFY_REQUIRED);
		if (cli->verify != TLS_VERIFY_PIN_ONLY || opts->ca_file ||
		    opts->ca_dir) {
			if (tls_client_load_ca(cli, opts, errstr_r) == -1) {
				goto out_free;
			}
		} else {
			/* mbedTLS wants some CA chain even when unused. */
			mbedtls_ssl_conf_ca_chain(&cli->conf, &cli->ca, NULL);
		}
	}
	return cli;
out_free:
	tls_client_free(&cli);
	return NULL;
}

void
tls_client_free(struct tls_client **clip)
{
	struct tls_client	*cli = *clip;

	if (cli == NULL) {
		return;
	}
	mbedtls_ssl_config_free(&cli->conf);
	mbedtls_x509_crt_free(&cli->ca);
	tls_alpn_free(&cli->alpn);
	free(cli);
	*clip = NULL;
}

/*
 * Certificate check hook, per connection: applies the verification mode
 * and the SPKI pin to the flags mbedTLS computed for each chain element.
 */
static int
tls_verify_cb(void *arg, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	struct tls_conn		*conn = arg;
	struct tls_client	*cli = conn->cli;
	uint8_t			 h[TLS_PIN_LEN];

	if (cli->verify == TLS_VERIFY_PIN_ONLY) {
		*flags = 0;
	}
	if (depth != 0) {
		return 0;
	}
	if (cli->verify == TLS_VERIFY_NO_NAME) {
		*flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
	}
	if (cli->has_pin) {
		if (mbedtls_sha256(crt->pk_raw.p, crt->pk_raw.len, h, 0) != 0 ||
		    memcmp(h, cli->pin, TLS_PIN_LEN) != 0) {
			conn->pin = TLS_PIN_MISMATCH;
			*flags |= MBEDTLS_X509_BADCERT_OTHER;
		} else if (conn->pin == TLS_PIN_UNSEEN) {
			conn->pin = TLS_PIN_MATCH;
		}
	}
	return 0;
}

/* --- connections --------------------------------------------------------- */

static int
tls_send_cb(void *arg, const unsigned char *p, size_t len)
{
	struct tls_conn	*conn = arg;
	ssize_t		 n;

	for (;;) {
		n = send(conn->fd, p, len, MSG_NOSIGNAL);
		if (n >= 0) {
			return (int)n;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return MBEDTLS_ERR_SSL_WANT_WRITE;
		}
		conn->io_errno = errno;
		return MBEDTLS_ERR_NET_SEND_FAILED;
	}
}

static int
tls_recv_cb(void *arg, unsigned char *p, size_t len)
{
	struct tls_conn	*conn = arg;
	ssize_t		 n;

	for (;;) {
		n = recv(conn->fd, p, len, 0);
		if (n >= 0) {
			return (int)n;	/* 0: EOF, mbedTLS reports CONN_EOF */
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return MBEDTLS_ERR_SSL_WANT_READ;
		}
		conn->io_errno = errno;
		return MBEDTLS_ERR_NET_RECV_FAILED;
	}
}

static struct tls_conn *
tls_conn_new(mbedtls_ssl_config *conf, int fd, const char **errstr_r)
{
	struct tls_conn	*conn;
	int		 r;

	if ((conn = calloc(1, sizeof(*conn))) == NULL) {
		fatal("calloc");
	}
	conn->fd = fd;
	mbedtls_ssl_init(&conn->ssl);
	if ((r = mbedtls_ssl_setup(&conn->ssl, conf)) != 0) {
		*errstr_r = tls_mberr("ssl setup", r);
		tls_conn_free(&conn);
		return NULL;
	}
	mbedtls_ssl_set_user_data_p(&conn->ssl, conn);
	mbedtls_ssl_set_bio(&conn->ssl, conn, tls_send_cb, tls_recv_cb, NULL);
	return conn;
}

struct tls_conn *
tls_conn_new_server(struct tls_server *srv, int fd, const char **errstr_r)
{
	struct tls_conn	*conn;

	if (srv->ncerts == 0) {
		*errstr_r = "server context has no certificate";
		return NULL;
	}
	if ((conn = tls_conn_new(&srv->conf, fd, errstr_r)) != NULL) {
		conn->srv = srv;
	}
	return conn;
}

struct tls_conn *
tls_conn_new_client(struct tls_client *cli, int fd, const char *hostname,
    const char **errstr_r)
{
	struct tls_conn	*conn;
	int		 r;

	if (hostname == NULL || hostname[0] == '\0' ||
	    strlen(hostname) > MAX_HOST) {
		*errstr_r = "a client connection needs a host name";
		return NULL;
	}
	if ((conn = tls_conn_new(&cli->conf, fd, errstr_r)) == NULL) {
		return NULL;
	}
	conn->cli = cli;
	if ((r = mbedtls_ssl_set_hostname(&conn->ssl, hostname)) != 0) {
		*errstr_r = tls_mberr("host name", r);
		tls_conn_free(&conn);
		return NULL;
	}
	if (cli->verify != TLS_VERIFY_INSECURE) {
		mbedtls_ssl_set_verify(&conn->ssl, tls_verify_cb, conn);
	}
	return conn;
}

/* Connection error text, kept in the connection. */
static const char *
tls_conn_err(struct tls_conn *conn, const char *what, int ret)
{
	char		 m[160];
	uint32_t	 flags;
	size_t		 i;

	if (conn->io_errno != 0) {
		(void)snprintf(conn->errbuf, sizeof(conn->errbuf), "%s: %s",
		    what, strerror(conn->io_errno));
	} else if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED &&
	    conn->pin == TLS_PIN_MISMATCH) {
		(void)snprintf(conn->errbuf, sizeof(conn->errbuf),
		    "%s: certificate does not match the SPKI pin", what);
	} else if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
		flags = mbedtls_ssl_get_verify_result(&conn->ssl);
		if (mbedtls_x509_crt_verify_info(m, sizeof(m), "", flags) < 0) {
			(void)snprintf(m, sizeof(m), "flags 0x%x",
			    (unsigned int)flags);
		}
		for (i = 0; m[i] != '\0'; i++) {
			if (m[i] == '\n') {
				m[i] = (m[i + 1] == '\0') ? '\0' : ';';
			}
		}
		(void)snprintf(conn->errbuf, sizeof(conn->errbuf),
		    "%s: certificate verification failed: %s", what, m);
	} else {
		mbedtls_strerror(ret, m, sizeof(m));
		(void)snprintf(conn->errbuf, sizeof(conn->errbuf),
		    "%s: %s (-0x%04x)", what, m, (unsigned int)-ret);
	}
	return conn->errbuf;
}

static enum tls_status
tls_status_of(struct tls_conn *conn, const char *what, int ret,
    const char **errstr_r)
{
	switch (ret) {
	case MBEDTLS_ERR_SSL_WANT_READ:
		return TLS_WANT_READ;
	case MBEDTLS_ERR_SSL_WANT_WRITE:
		return TLS_WANT_WRITE;
	case MBEDTLS_ERR_SSL_ASYNC_IN_PROGRESS:
	case MBEDTLS_ERR_SSL_CRYPTO_IN_PROGRESS:
		return TLS_WANT_ASYNC;
	default:
		*errstr_r = tls_conn_err(conn, what, ret);
		return TLS_ERROR;
	}
}

enum tls_status
tls_handshake(struct tls_conn *conn, const char **errstr_r)
{
	int	 r;

	r = mbedtls_ssl_handshake(&conn->ssl);
	if (r != 0) {
		return tls_status_of(conn, "handshake", r, errstr_r);
	}
	/* Belt and braces: a pinned client must have seen the pin. */
	if (conn->cli != NULL && conn->cli->has_pin &&
	    conn->pin != TLS_PIN_MATCH) {
		*errstr_r = "handshake: certificate does not match the SPKI pin";
		return TLS_ERROR;
	}
	return TLS_OK;
}

enum tls_status
tls_read(struct tls_conn *conn, void *buf, size_t len, size_t *n_r,
    const char **errstr_r)
{
	int	 r;

	*n_r = 0;
	if (len == 0) {
		*errstr_r = "read: zero length";
		return TLS_ERROR;
	}
	for (;;) {
		r = mbedtls_ssl_read(&conn->ssl, buf, len);
		if (r > 0) {
			*n_r = (size_t)r;
			return TLS_OK;
		}
		switch (r) {
		case 0:
		case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
		case MBEDTLS_ERR_SSL_CONN_EOF:
			return TLS_EOF;
		case MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET:
			continue;
		default:
			return tls_status_of(conn, "read", r, errstr_r);
		}
	}
}

enum tls_status
tls_write(struct tls_conn *conn, const void *buf, size_t len, size_t *n_r,
    const char **errstr_r)
{
	int	 r;

	*n_r = 0;
	r = mbedtls_ssl_write(&conn->ssl, buf, len);
	if (r >= 0) {
		*n_r = (size_t)r;
		return TLS_OK;
	}
	return tls_status_of(conn, "write", r, errstr_r);
}

size_t
tls_pending(const struct tls_conn *conn)
{
	size_t	 n;

	n = mbedtls_ssl_get_bytes_avail(&conn->ssl);
	if (n == 0 && mbedtls_ssl_check_pending(&conn->ssl)) {
		n = 1;
	}
	return n;
}

enum tls_status
tls_close_notify(struct tls_conn *conn, const char **errstr_r)
{
	int	 r;

	r = mbedtls_ssl_close_notify(&conn->ssl);
	if (r == 0) {
		return TLS_OK;
	}
	return tls_status_of(conn, "close_notify", r, errstr_r);
}

void
tls_conn_free(struct tls_conn **connp)
{
	struct tls_conn	*conn = *connp;

	if (conn == NULL) {
		return;
	}
	mbedtls_ssl_free(&conn->ssl);
	secure_zero(conn, sizeof(*conn));
	free(conn);
	*connp = NULL;
}

const char *
tls_version_name(const struct tls_conn *conn)
{
	if (!mbedtls_ssl_is_handshake_over(
	    (mbedtls_ssl_context *)(uintptr_t)&conn->ssl)) {
		return "none";
	}
	return mbedtls_ssl_get_version(&conn->ssl);
}

const char *
tls_cipher_name(const struct tls_conn *conn)
{
	const char	*s;

	if (!mbedtls_ssl_is_handshake_over(
	    (mbedtls_ssl_context *)(uintptr_t)&conn->ssl)) {
		return "none";
	}
	s = mbedtls_ssl_get_ciphersuite(&conn->ssl);
	return s != NULL ? s : "none";
}

const char *
tls_sni_name(const struct tls_conn *conn)
{
	return conn->sni;
}

const char *
tls_alpn_name(const struct tls_conn *conn)
{
	const char	*s;

	s = mbedtls_ssl_get_alpn_protocol(&conn->ssl);
	return s != NULL ? s : "";
}

/* --- the keyholder's side: private keys that sign digests ----------------- */

struct tls_key {
	mbedtls_pk_context	pk;
};

struct tls_key *
tls_key_load(const char *path, const char *passfile, const char **errstr_r)
{
	struct tls_key	*k;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		fatal("calloc");
	}
	mbedtls_pk_init(&k->pk);
	if (tls_load_key_pw(&k->pk, path, passfile, errstr_r) == -1) {
		mbedtls_pk_free(&k->pk);
		free(k);
		return NULL;
	}
	return k;
}

int
tls_key_is_ecdsa(const struct tls_key *k)
{
	return mbedtls_pk_can_do(&k->pk, MBEDTLS_PK_ECDSA);
}

size_t
tls_md_hash_len(int md)
{
	switch ((mbedtls_md_type_t)md) {
	case MBEDTLS_MD_SHA256:
		return 32;
	case MBEDTLS_MD_SHA384:
		return 48;
	case MBEDTLS_MD_SHA512:
		return 64;
	default:
		return 0;
	}
}

int
tls_key_sign(struct tls_key *k, int md, const uint8_t *hash, size_t hash_len,
    uint8_t *sig, size_t sig_size, size_t *sig_len_r)
{
	/* Only whole digests of the sizes the hash names: the keyholder
	 * never signs attacker-chosen data of any other shape. */
	if (tls_md_hash_len(md) == 0 || hash_len != tls_md_hash_len(md) ||
	    !tls_key_is_ecdsa(k)) {
		return -1;
	}
	if (mbedtls_pk_sign(&k->pk, (mbedtls_md_type_t)md, hash, hash_len,
	    sig, sig_size, sig_len_r, mbedtls_psa_get_random,
	    MBEDTLS_PSA_RANDOM_STATE) != 0) {
		return -1;
	}
	return 0;
}

void
tls_key_free(struct tls_key **kp)
{
	if (*kp == NULL) {
		return;
	}
	mbedtls_pk_free(&(*kp)->pk);
	free(*kp);
	*kp = NULL;
}

int
tls_cert_file_is_ecdsa(const char *chain_file, const char **errstr_r)
{
	struct tls_cert	*c;
	int		 ec;

	if ((c = tls_cert_load_chain(chain_file, errstr_r)) == NULL) {
		return -1;
	}
	ec = mbedtls_pk_can_do(&c->chain.pk, MBEDTLS_PK_ECDSA);
	tls_cert_free(c);
	return ec;
}
