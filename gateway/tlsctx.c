/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * tlsctx: the TLS contexts of a worker, built from the configuration
 * before the worker serves anyone: one server context per protocol (so
 * ALPN can refuse cross-protocol clients, ALPACA) and one client context
 * per backend server line plus one for map results.  Reads certificate,
 * key and CA files, so it runs before any sandbox is entered.
 */
#include <stdio.h>
#include <string.h>

#include "bailey.h"
#include "log.h"
#include "tls.h"
#include "tlsctx.h"

static struct tls_server *srv[2];
static struct tls_client *cli[CONF_MAX_SERVERS + 1];
static int		  inited;

static int
hexval(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

static void
tlsctx_server(enum proto proto)
{
	static const char *const alpn_imap[] = { "imap", NULL };
	static const char *const alpn_pop3[] = { "pop3", NULL };
	struct tls_server_opts	 o;
	const char		*err = NULL;
	size_t			 i;

	memset(&o, 0, sizeof(o));
	o.min_version = bconf->tls_min_version == 13 ? TLS_VERSION_1_3 :
	    TLS_VERSION_1_2;
	o.alpn = proto == PROTO_IMAP ? alpn_imap : alpn_pop3;
	if ((srv[proto] = tls_server_new(&o, &err)) == NULL) {
		fatalx("tls: %s", err);
	}
	for (i = 0; i < bconf->ncerts; i++) {
		if (tls_server_add_cert(srv[proto], bconf->certs[i].chain,
		    bconf->certs[i].key, 0, &err) == -1) {
			fatalx("certificate %s: %s", bconf->certs[i].chain, err);
		}
	}
}

static struct tls_client *
tlsctx_client_new(const struct backend_tls *bt)
{
	struct tls_client_opts	 o;
	struct tls_client	*c;
	uint8_t			 pin[TLS_PIN_LEN];
	const char		*err = NULL;
	size_t			 i;

	memset(&o, 0, sizeof(o));
	o.ca_file = bconf->backend_ca[0] ? bconf->backend_ca : NULL;
	o.min_version = bconf->backend_tls_min_version == 13 ?
	    TLS_VERSION_1_3 : TLS_VERSION_1_2;
	switch (bt->verify) {
	case VERIFY_NO_NAME:
		o.verify = TLS_VERIFY_NO_NAME;
		break;
	case VERIFY_PIN:
		o.verify = TLS_VERIFY_PIN_ONLY;
		break;
	case VERIFY_INSECURE:
		o.verify = TLS_VERIFY_INSECURE;
		break;
	default:
		o.verify = TLS_VERIFY_FULL;
		break;
	}
	if (bt->pin[0] != '\0') {
		for (i = 0; i < TLS_PIN_LEN; i++) {
			pin[i] = (uint8_t)(hexval(bt->pin[2 * i]) << 4 |
			    hexval(bt->pin[2 * i + 1]));
		}
		o.spki_sha256 = pin;
	}
	if ((c = tls_client_new(&o, &err)) == NULL) {
		fatalx("backend tls: %s", err);
	}
	return c;
}

void
tlsctx_init(void)
{
	const char	*err = NULL;
	size_t		 i;
	int		 need_srv[2] = { 0, 0 }, need_cli = 0;

	for (i = 0; i < bconf->nlisteners; i++) {
		if (bconf->listeners[i].tls != TLS_MODE_NONE) {
			need_srv[bconf->listeners[i].proto] = 1;
		}
	}
	for (i = 0; i < bconf->nservers; i++) {
		need_cli |= bconf->servers[i].btls.mode != TLS_MODE_NONE;
	}
	need_cli |= bconf->map_tls.mode != TLS_MODE_NONE;
	if (!need_srv[0] && !need_srv[1] && !need_cli) {
		return;
	}
	if (tls_init(&err) == -1) {
		fatalx("tls_init: %s", err);
	}
	inited = 1;
	for (i = 0; i < 2; i++) {
		if (need_srv[i]) {
			tlsctx_server((enum proto)i);
		}
	}
	for (i = 0; i < bconf->nservers; i++) {
		if (bconf->servers[i].btls.mode != TLS_MODE_NONE) {
			cli[i] = tlsctx_client_new(&bconf->servers[i].btls);
		}
	}
	if (bconf->map_tls.mode != TLS_MODE_NONE) {
		cli[CONF_MAX_SERVERS] = tlsctx_client_new(&bconf->map_tls);
	}
}

struct tls_server *
tlsctx_server_for(enum proto proto)
{
	return srv[proto];
}

const struct backend_tls *
tlsctx_backend(unsigned server_idx)
{
	if (server_idx < bconf->nservers) {
		return &bconf->servers[server_idx].btls;
	}
	return &bconf->map_tls;
}

struct tls_client *
tlsctx_client_for(unsigned server_idx)
{
	return cli[server_idx < bconf->nservers ? server_idx :
	    CONF_MAX_SERVERS];
}
