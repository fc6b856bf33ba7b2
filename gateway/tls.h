/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * tls: a small non-blocking TLS layer over mbedTLS 3.6 (our own build,
 * gateway/mbedtls_config.h).  Contexts are built in a role before it enters
 * its sandbox (they read certificate, key and CA files); connections run in
 * the worker, unprivileged, over a connected non-blocking socket, and trust
 * nobody: every record from the peer is untrusted.  Clients of this API
 * never include mbedTLS headers.  See docs/tls.md.
 *
 * Conventions: functions returning int return 0 on success and -1 on
 * error, with a static or object-owned message in *errstr_r (valid until
 * the next call on the same object).  Connection calls return an enum
 * tls_status.  Destroy functions take a pointer to the pointer and NULL it.
 */
#ifndef BAILEY_TLS_H
#define BAILEY_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The system CA bundle used when a client context names no CA. */
#define TLS_SYSTEM_CA_FILE	"/etc/ssl/certs/ca-certificates.crt"
/* Certificates (chain + key pairs) one server context may hold. */
#define TLS_MAX_CERTS		32
/* Names (SAN DNS entries, else the CN) kept per certificate for SNI. */
#define TLS_MAX_NAMES		64
/* SNI: RFC 1035 limits, label 63, name 255 octets (bailey_limits.h MAX_HOST). */
#define TLS_MAX_LABEL		63
/* Largest private key file read (PEM or DER). */
#define TLS_MAX_KEY_FILE	(64 * 1024)
/* Ticket keys: a 4-byte name and a 32-byte AES-256-GCM key. */
#define TLS_TICKET_NAME_LEN	4
#define TLS_TICKET_KEY_LEN	32
#define TLS_DEF_TICKET_LIFETIME	(12 * 3600)
/* ALPN protocol names per context, and their length (RFC 7301). */
#define TLS_MAX_ALPN		8
#define TLS_MAX_ALPN_LEN	32
/* SHA-256 of the DER SubjectPublicKeyInfo (RFC 7469 pin-sha256). */
#define TLS_PIN_LEN		32

enum tls_status {
	TLS_ERROR = -1,		/* fatal for the connection; see errstr_r */
	TLS_OK = 0,		/* done (tls_read/tls_write: *n_r bytes) */
	TLS_WANT_READ = 1,	/* call again when the fd is readable */
	TLS_WANT_WRITE = 2,	/* call again when the fd is writable */
	TLS_WANT_ASYNC = 3,	/* a remote private-key operation is pending:
				 * call again when the key source says so
				 * (reserved for the keyholder's async path) */
	TLS_EOF = 4,		/* tls_read only: the peer closed */
};

enum tls_version {
	TLS_VERSION_DEFAULT = 0,	/* min: 1.2, max: 1.3 */
	TLS_VERSION_1_2 = 12,
	TLS_VERSION_1_3 = 13,
};

/* How a client context checks the server (zero = the safe default). */
enum tls_verify {
	TLS_VERIFY_FULL = 0,	/* chain to the CAs, host name, pin if set */
	TLS_VERIFY_NO_NAME,	/* chain and pin; the host name is ignored */
	TLS_VERIFY_PIN_ONLY,	/* only the SPKI pin (self-signed backends) */
	TLS_VERIFY_INSECURE,	/* nothing at all: an explicit opt-out */
};

/* A zeroed struct means the defaults. */
struct tls_server_opts {
	enum tls_version	 min_version;
	enum tls_version	 max_version;
	/* NULL-terminated mbedTLS suite names ("TLS1-3-AES-256-GCM-SHA384",
	 * "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384", ...); NULL = ours.
	 * Only suites compiled into our build exist: AEAD with ECDHE. */
	const char *const	*ciphers;
	int			 no_tickets;	/* 1 = no session tickets */
	uint32_t		 ticket_lifetime; /* s; 0 = default */
	/* NULL-terminated ALPN names we accept ("imap", "pop3"); a client
	 * offering ALPN without one of them is refused (ALPACA).  NULL:
	 * no ALPN.  Copied. */
	const char *const	*alpn;
};

struct tls_client_opts {
	const char		*ca_file;	/* PEM bundle, or NULL */
	const char		*ca_dir;	/* directory of PEM files, or NULL */
	/* both NULL: TLS_SYSTEM_CA_FILE */
	enum tls_version	 min_version;
	enum tls_version	 max_version;
	const char *const	*ciphers;	/* as for the server */
	enum tls_verify		 verify;
	const uint8_t		*spki_sha256;	/* TLS_PIN_LEN bytes, or NULL */
	const char *const	*alpn;		/* offered; NULL: none. Copied */
};

/*
 * A private key kept elsewhere (the keyholder).  sign() gets the digest
 * (md is an mbedtls_md_type_t value, hash_len bytes) of key key_id and
 * writes a DER ECDSA signature into sig (sig_size bytes); it returns 0 and
 * the length in *sig_len_r, or -1.  It is called synchronously in the
 * middle of tls_handshake() (TLS 1.3 has no asynchronous hook in mbedTLS).
 * Only ECDSA keys are supported this way (research/deps.md section 3).
 */
struct tls_key_ops {
	int	(*sign)(void *arg, uint32_t key_id, int md,
		    const uint8_t *hash, size_t hash_len, uint8_t *sig,
		    size_t sig_size, size_t *sig_len_r);
	void	*arg;
};

struct tls_server;
struct tls_client;
struct tls_conn;

/*
 * Before any other call, before the sandbox: initialises PSA crypto (the
 * RNG opens its entropy source here) and checks the private pk_info ABI.
 * Safe to call more than once.
 */
int	tls_init(const char **errstr_r);

/* Server contexts. */
struct tls_server *tls_server_new(const struct tls_server_opts *,
	    const char **errstr_r);
/*
 * Adds a certificate chain (PEM, leaf first) and its private key.  The key
 * file must be a regular file not accessible by group or other and owned
 * by root or the caller; it is read once and its buffer zeroed.  The first
 * certificate added is the default (used when SNI names none of them);
 * flags TLS_CERT_DEFAULT adds another to the default set (an RSA next to
 * an ECDSA certificate).  SNI selects every certificate whose SAN DNS
 * names (or CN, without SAN) match, "*." wildcards covering one label.
 */
#define TLS_CERT_DEFAULT	0x1
int	tls_server_add_cert(struct tls_server *, const char *chain_file,
	    const char *key_file, unsigned int flags, const char **errstr_r);
/* The same with the key in another process, reached through ops. */
int	tls_server_add_cert_remote(struct tls_server *, const char *chain_file,
	    const struct tls_key_ops *, uint32_t key_id, unsigned int flags,
	    const char **errstr_r);
/*
 * Installs a session-ticket key (the parent hands the same key to every
 * worker so tickets resume anywhere).  The previous key stays valid for
 * decryption until lifetime passes; without this call each process makes
 * and rotates its own keys every ticket_lifetime.  TLS 1.3 tickets are
 * not issued: our build has no PSK key exchange (docs/tls.md).
 */
int	tls_server_ticket_key(struct tls_server *,
	    const uint8_t name[TLS_TICKET_NAME_LEN],
	    const uint8_t key[TLS_TICKET_KEY_LEN], uint32_t lifetime,
	    const char **errstr_r);
void	tls_server_free(struct tls_server **);

/* Client contexts (towards backends). */
struct tls_client *tls_client_new(const struct tls_client_opts *,
	    const char **errstr_r);
void	tls_client_free(struct tls_client **);

/*
 * Connections over fd (a connected socket, O_NONBLOCK, owned by the
 * caller: tls_conn_free() does not close it).  The context must outlive
 * the connection.  A client connection always sends hostname as SNI and
 * checks it against the certificate unless the context says otherwise.
 */
struct tls_conn *tls_conn_new_server(struct tls_server *, int fd,
	    const char **errstr_r);
struct tls_conn *tls_conn_new_client(struct tls_client *, int fd,
	    const char *hostname, const char **errstr_r);

/*
 * UNTRUSTED: handshake records from the peer, bounded by
 * MBEDTLS_SSL_IN_CONTENT_LEN per record.  TLS_OK once established.
 */
enum tls_status tls_handshake(struct tls_conn *, const char **errstr_r);
/*
 * UNTRUSTED: reads up to len decrypted bytes (bounded by len).  TLS_OK
 * with *n_r > 0, or TLS_EOF when the peer closed (with or without
 * close_notify).  After TLS_OK, check tls_pending() before waiting on the
 * fd: mbedTLS may hold further decrypted bytes or whole records.
 */
enum tls_status tls_read(struct tls_conn *, void *buf, size_t len,
	    size_t *n_r, const char **errstr_r);
/*
 * Writes up to len bytes; TLS_OK with *n_r bytes consumed (possibly
 * fewer than len).  After TLS_WANT_*, call again with the SAME buf and len
 * (an mbedTLS rule).
 */
enum tls_status tls_write(struct tls_conn *, const void *buf, size_t len,
	    size_t *n_r, const char **errstr_r);
/*
 * Bytes of decrypted data tls_read() can return without reading the fd;
 * when none but an undecrypted record is buffered, 1.  Non-zero: call
 * tls_read() again before polling.
 */
size_t	tls_pending(const struct tls_conn *);
/* Sends close_notify: TLS_OK, TLS_WANT_WRITE or TLS_ERROR. */
enum tls_status tls_close_notify(struct tls_conn *, const char **errstr_r);
/* Frees every per-connection byte (records zeroed by mbedTLS). */
void	tls_conn_free(struct tls_conn **);

/* For log lines: "TLSv1.3", "TLS1-3-AES-256-GCM-SHA384"; "none" before. */
const char *tls_version_name(const struct tls_conn *);
const char *tls_cipher_name(const struct tls_conn *);
/* The SNI name the client sent ("" if none or not a valid host name). */
const char *tls_sni_name(const struct tls_conn *);
/* The negotiated ALPN protocol, or "" if none. */
const char *tls_alpn_name(const struct tls_conn *);

/*
 * Exposed for tests.  tls_sni_valid: 1 if name is a syntactically valid
 * DNS host name (letters, digits, '-', '_', dots between non-empty labels
 * of at most TLS_MAX_LABEL, at most MAX_HOST octets), else 0.
 * tls_name_match: 1 if the valid name matches pattern (a certificate name,
 * case-insensitive; "*.rest" matches exactly one extra label), else 0.
 */
int	tls_sni_valid(struct span);
int	tls_name_match(const char *pattern, struct span name);

/*
 * Private keys in the keyholder.  tls_key_load reads a key file with the
 * same checks as tls_server_add_cert.  tls_key_sign signs a digest only
 * if its length is the one md (an mbedtls_md_type_t: SHA-256/384/512)
 * produces, and only with an ECDSA key; 0 or -1.
 */
struct tls_key;
/* passfile: a file holding the key's passphrase (first line), or NULL. */
struct tls_key *tls_key_load(const char *path, const char *passfile,
	    const char **errstr_r);
int	tls_key_is_ecdsa(const struct tls_key *);
size_t	tls_md_hash_len(int md);
int	tls_key_sign(struct tls_key *, int md, const uint8_t *hash,
	    size_t hash_len, uint8_t *sig, size_t sig_size, size_t *sig_len_r);
void	tls_key_free(struct tls_key **);
/* 1 if the certificate (leaf) has an ECDSA key, 0 if not, -1 error. */
int	tls_cert_file_is_ecdsa(const char *chain_file, const char **errstr_r);

#endif
