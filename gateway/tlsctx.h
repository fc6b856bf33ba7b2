/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * tlsctx: a worker's TLS contexts (see tlsctx.c).
 */
#ifndef BAILEY_TLSCTX_H
#define BAILEY_TLSCTX_H

#include "config.h"

/* Index of map results in server_idx arguments and MSG_BACKEND. */
#define TLSCTX_MAP	0xffff

struct tls_server;
struct tls_client;

/* Builds every context the configuration needs; fatal on error. */
void	tlsctx_init(void);
struct scoreboard;
/* Installs the shared session-ticket key if the parent rotated it. */
void	tlsctx_tickets(const struct scoreboard *);
/* The parent handed over a new keyholder channel (fd is consumed). */
void	tlsctx_keyholder_channel(int fd);
struct tls_server *tlsctx_server_for(enum proto);
const struct backend_tls *tlsctx_backend(unsigned server_idx);
struct tls_client *tlsctx_client_for(unsigned server_idx);

#endif
