/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Our trimmed mbedTLS 3.6 configuration.  scripts/mbedtls.sh copies it over
 * the source tree's include/mbedtls/mbedtls_config.h before building, so the
 * library and every role that includes <mbedtls/...> from build/mbedtls see
 * the same options (some change struct layouts, e.g. SSL_ASYNC_PRIVATE).
 * The library runs in the worker (TLS, no privilege, trusts nobody) and in
 * the keyholder (signing only).  Choices are explained in docs/tls.md; a
 * change here triggers a rebuild of the library (the stamp hashes this file).
 */
#ifndef BAILEY_MBEDTLS_CONFIG_H
#define BAILEY_MBEDTLS_CONFIG_H

/* --- platform ------------------------------------------------------------ */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE		/* certificate validity checks */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_FS_IO			/* load certs/keys before the sandbox */
#define MBEDTLS_ERROR_C			/* mbedtls_strerror() for log lines */
#define MBEDTLS_VERSION_C
#define MBEDTLS_DEPRECATED_REMOVED	/* no deprecated API in our code */
/* No MBEDTLS_NET_C: tls.c has its own send/recv on a non-blocking fd. */
/* No MBEDTLS_THREADING_C: every role is single-threaded. */
/* No MBEDTLS_TIMING_C: only DTLS needs it. */
/* No MBEDTLS_SELF_TEST, no MBEDTLS_DEBUG_C (size; enable to debug). */

/* --- randomness: PSA RNG (fork-safe since 3.6.6) on CTR_DRBG ------------- */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_KEY_STORE_DYNAMIC
/* No PSA key storage (no key files written by the library). */

/* --- symmetric: AES-GCM and ChaCha20-Poly1305 only ----------------------- */
#define MBEDTLS_AES_C
#define MBEDTLS_AESNI_C
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C
/* No MBEDTLS_CIPHER_MODE_CBC: no CBC suites can exist. */

/* --- hashes -------------------------------------------------------------- */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA224_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_HKDF_C
/* No SHA-1/MD5: no certificate signed with them verifies. */

/* --- public key ---------------------------------------------------------- */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15		/* RSA PKCS#1 v1.5 signatures */
#define MBEDTLS_PKCS1_V21		/* RSA-PSS (TLS 1.3 needs it) */
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C		/* SPKI DER for pinning */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
/* No MBEDTLS_ECP_RESTARTABLE: keeps mbedtls_pk_info_t's layout as the
 * keyholder's pk_info expects (research/deps.md section 3). */
/* No MBEDTLS_PK_RSA_ALT_SUPPORT: RSA keys go through SSL_ASYNC_PRIVATE. */

/* --- X.509 --------------------------------------------------------------- */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT

/* --- TLS ----------------------------------------------------------------- */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
/* TLS 1.2: ECDHE only (no static RSA/ECDH, no DHE, no PSK). */
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
/* TLS 1.3: (EC)DHE with a certificate, and ticket resumption with a
 * fresh (EC)DHE (PSK_EPHEMERAL: forward secrecy kept).  No pure PSK. */
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE	/* TLS 1.3 requires it */
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_TICKET_C
#define MBEDTLS_SSL_ASYNC_PRIVATE		/* keyholder, TLS 1.2 */
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH	/* required by the next */
#define MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH
#define MBEDTLS_SSL_IN_CONTENT_LEN	16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN	16384
/* No renegotiation, no DTLS, no CBC/encrypt-then-MAC, no early data, no
 * session cache (tickets work across processes), no context serialisation. */

#endif
