/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * tlsctx: the TLS contexts of a worker, built from the configuration
 * before the worker serves anyone: one server context per protocol (so
 * ALPN can refuse cross-protocol clients, ALPACA) and one client context
 * per backend server line plus one for map results.  Reads certificate,
 * key and CA files, so it runs before any sandbox is entered.  Private
 * keys stay in the keyholder: certificates are added with a remote key
 * whose signatures are asked for over FD_KEYHOLDER (RSA keys only with
 * `tls-rsa-in-worker yes`).
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bailey.h"
#include "log.h"
#include "ev.h"
#include "scoreboard.h"
#include "tls.h"
#include "tlsctx.h"

static struct tls_server *srv[2];
static const char	*srv_suites[CONF_MAX_SUITES + 1];
static const char	*cli_suites[CONF_MAX_SUITES + 1];

/* A NULL-terminated array of the configured names, or NULL (defaults). */
static const char *const *
tlsctx_suites(const struct suite_list *l, const char **arr)
{
	size_t	i;

	if (l->n == 0) {
		return NULL;
	}
	for (i = 0; i < l->n; i++) {
		arr[i] = l->name[i];
	}
	arr[l->n] = NULL;
	return arr;
}
static struct tls_client *cli[CONF_MAX_SERVERS + 1];
static int		  inited;
static struct chan	  khchan = { .fd = -1 };
static struct msg_in	  khin;

#define KH_TIMEOUT_MS	2000

/* Waits for fd to be ready for ev until deadline.  0 ready, -1 not. */
static int
kh_wait(short ev, uint64_t deadline)
{
	struct pollfd	pfd = { khchan.fd, ev, 0 };
	uint64_t	now = ev_clock_ms();

	if (now >= deadline) {
		return -1;
	}
	return poll(&pfd, 1, (int)(deadline - now)) == 1 &&
	    (pfd.revents & ev) ? 0 : -1;
}

/*
 * tls_key_ops.sign: one synchronous round trip to the keyholder (TLS 1.3
 * in mbedTLS has no asynchronous hook).  Replies to earlier requests that
 * timed out are recognised by their id and dropped.
 */
static int
kh_remote_sign(void *arg, uint32_t key_id, int md, const uint8_t *hash,
    size_t hash_len, uint8_t *sig, size_t sig_size, size_t *sig_len_r)
{
	static uint32_t	 seq;
	struct msg_out	 m;
	uint64_t	 deadline = ev_clock_ms() + KH_TIMEOUT_MS;
	uint32_t	 id;
	uint8_t		 status;
	size_t		 n;
	int		 rv;

	(void)arg;
	msg_init(&m, MSG_KH_SIGN);
	msg_add_u32(&m, ++seq);
	msg_add_u32(&m, key_id);
	msg_add_u8(&m, (uint8_t)md);
	msg_add_data(&m, hash, hash_len);
	if (chan_send(&khchan, &m, -1) == -1) {
		return -1;
	}
	while (chan_pending(&khchan)) {
		if (kh_wait(POLLOUT, deadline) == -1 ||
		    chan_flush(&khchan) == -1) {
			return -1;
		}
	}
	for (;;) {
		if ((rv = chan_recv(&khchan, &khin)) == -1) {
			return -1;
		}
		if (rv == 0) {
			if (kh_wait(POLLIN, deadline) == -1) {
				log_warnx("keyholder did not answer");
				return -1;
			}
			continue;
		}
		if (khin.fd != -1) {
			close(khin.fd);
		}
		id = msg_get_u32(&khin);
		status = msg_get_u8(&khin);
		n = msg_get_data(&khin, sig, sig_size);
		if (khin.type != MSG_KH_SIG || msg_end(&khin) == -1) {
			return -1;
		}
		if (id != seq) {
			continue;		/* a late answer */
		}
		*sig_len_r = n;
		return status == 0 ? 0 : -1;
	}
}

static const struct tls_key_ops kh_ops = { kh_remote_sign, NULL };

void
tlsctx_keyholder_channel(int fd)
{
	if (dup2(fd, FD_KEYHOLDER) == -1) {
		fatal("keyholder channel");
	}
	close(fd);
	chan_close(&khchan);
	chan_init(&khchan, FD_KEYHOLDER);
	set_nonblock(FD_KEYHOLDER);
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
	o.ciphers = tlsctx_suites(&bconf->tls_ciphers, srv_suites);
	if ((srv[proto] = tls_server_new(&o, &err)) == NULL) {
		fatalx("tls: %s", err);
	}
	for (i = 0; i < bconf->ncerts; i++) {
		if (tls_server_add_cert_remote(srv[proto],
		    bconf->certs[i].chain, &kh_ops, (uint32_t)i, 0, &err) == 0) {
			continue;
		}
		/* RSA: only where the admin said so (docs: weaker). */
		if (!bconf->tls_rsa_in_worker ||
		    tls_server_add_cert(srv[proto], bconf->certs[i].chain,
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
	o.ciphers = tlsctx_suites(&bconf->backend_tls_ciphers, cli_suites);
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
			pin[i] = (uint8_t)(hex_digit((uint8_t)bt->pin[2 * i])
			    << 4 | hex_digit((uint8_t)bt->pin[2 * i + 1]));
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
	chan_init(&khchan, FD_KEYHOLDER);
	set_nonblock(FD_KEYHOLDER);
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

void
tlsctx_tickets(const struct scoreboard *sb)
{
	static uint32_t	 gen;
	uint8_t		 name[SB_TICKET_NAME], key[SB_TICKET_KEY];
	const char	*err = NULL;
	int		 p;

	if ((srv[0] == NULL && srv[1] == NULL) ||
	    !sb_ticket_get(sb, &gen, name, key)) {
		return;
	}
	for (p = 0; p < 2; p++) {
		if (srv[p] != NULL && tls_server_ticket_key(srv[p], name, key,
		    0, &err) == -1) {
			log_warnx("ticket key: %s", err);
		}
	}
	secure_zero(key, sizeof(key));
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
