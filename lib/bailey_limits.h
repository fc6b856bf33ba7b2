/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Every hard limit on untrusted input, with where its number comes from.
 * Tests exercise each one at the limit and one past it.
 */
#ifndef BAILEY_BAILEY_LIMITS_H
#define BAILEY_BAILEY_LIMITS_H

/* POP3 command line incl. CRLF: RFC 2449 section 4 says 255 octets. */
#define POP3_MAX_CMD		255
/* POP3 reply line incl. CRLF from a backend: RFC 2449 says 512 octets. */
#define POP3_MAX_REPLY		512
/* IMAP command line before login: RFC 7162 section 4 advises 8192. */
#define IMAP_MAX_LINE		8192
/* Literal size accepted before login (Dovecot caps LITERAL- at 4096). */
#define IMAP_MAX_LITERAL	4096
/* All decoded arguments of one pre-login IMAP command together. */
#define IMAP_MAX_CMD_BYTES	(IMAP_MAX_LINE + 2 * IMAP_MAX_LITERAL)
/* IMAP tag length (Dovecot uses no limit beyond the line; ours is tight). */
#define IMAP_MAX_TAG		64
/* Arguments (tokens, including parentheses) of one pre-login command:
 * ID takes at most 30 field/value pairs (RFC 2971) = 60 strings + 2. */
#define IMAP_MAX_ARGS		64
/* Nesting of parenthesised lists before login (threat row 34). */
#define IMAP_MAX_DEPTH		2
/* ID field name and value (RFC 2971: 30 and 1024 octets). */
#define IMAP_ID_MAX_KEY		30
#define IMAP_ID_MAX_VALUE	1024
/* Username and password, after decoding (Dovecot: 255 / no fixed cap). */
#define MAX_USER		255
#define MAX_PASS		1024
/* SASL response line (base64 of authzid\0authcid\0passwd plus slack). */
#define SASL_MAX_LINE		(((3 * MAX_USER + MAX_PASS + 2) / 3 + 1) * 4 + 2)
/* Backend reply line before relay (IMAP greeting/CAPABILITY can be long). */
#define BACKEND_MAX_LINE	8192
/* Host names and map results. */
#define MAX_HOST		255
#define MAX_MAP_LINE		4096
/* Defaults for configurable limits. */
#define DEF_MAX_BAD_COMMANDS	10
#define DEF_MAX_AUTH_ATTEMPTS	3
#define DEF_AUTH_FAIL_DELAY_MS	1000
#define DEF_LOGIN_TIMEOUT	60
#define DEF_IDLE_TIMEOUT	1800
#define DEF_CONNECT_TIMEOUT	10
/* Half-done TLS handshakes are cut after this (threat row 23). */
#define DEF_HANDSHAKE_TIMEOUT	10
#define DEF_MAX_CONNECTIONS	10000
/* PROXY protocol v1 line incl. CRLF (haproxy proxy-protocol.txt 2.1:
 * "PROXY UNKNOWN" with two full IPv6 addresses and ports is 107). */
#define PROXY_V1_MAX		107
/* PROXY protocol v2: the 16-bit length field (addresses + TLVs) we take.
 * The spec allows 65535; haproxy's TLVs (SSL, unique id, AWS/Azure ids)
 * fit well under 1024, and the whole header stays below one MSS. */
#define PROXY_V2_MAX_LEN	1024
/* Fixed part of a v2 header: signature, ver/cmd, family, length. */
#define PROXY_V2_HDR		16
/* IPC message payload (lib/msg.h). */
#define MSG_MAX_PAYLOAD		8192

#endif
