/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * keyholder: the only process that reads the TLS private keys.  A child of
 * the parent (trusted: its messages hand us one socketpair end per
 * worker); workers are NOT trusted.  A worker may ask for one thing only:
 * an ECDSA signature over a digest of exactly the length its hash
 * algorithm produces (tls_key_sign), with a certificate index that exists,
 * at a bounded rate.  There is no decryption and no other key operation,
 * so a compromised worker gains a signing oracle for handshakes at most,
 * never the key (TLS 1.2 suites are ECDHE-only: no RSA key exchange).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bailey.h"
#include "ev.h"
#include "log.h"
#include "tls.h"

/* Per worker: a burst of KH_BURST signatures, refilled at KH_RATE/s. */
#define KH_RATE		5000
#define KH_BURST	1000
#define KH_SIG_MAX	160		/* DER ECDSA P-521 and smaller */

struct kh_client {
	struct chan		 chan;
	struct ev_io		 io;
	double			 tokens;
	uint64_t		 last;
	struct kh_client	*next;
	int			 dead;
};

static struct tls_key	*keys[CONF_MAX_CERTS];
static struct kh_client	*clients, *graveyard;
static struct ev_io	 parent_io;
static int		 draining;
static unsigned		 nclients;

static int
kh_allow(struct kh_client *c)
{
	uint64_t	now = ev_now();

	c->tokens += (double)(now - c->last) * KH_RATE / 1000.0;
	if (c->tokens > KH_BURST) {
		c->tokens = KH_BURST;
	}
	c->last = now;
	if (c->tokens < 1.0) {
		return 0;
	}
	c->tokens -= 1.0;
	return 1;
}

static void
kh_client_gone(struct kh_client *c)
{
	struct kh_client **pp;

	ev_io_del(&c->io);
	chan_close(&c->chan);
	for (pp = &clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	c->dead = 1;
	c->next = graveyard;
	graveyard = c;
	nclients--;
}

static void
kh_sign(struct kh_client *c, struct msg_in *in)
{
	struct msg_out	m;
	uint8_t		hash[64], sig[KH_SIG_MAX];
	size_t		hlen, slen = 0;
	uint32_t	reqid, key_id;
	uint8_t		md;
	int		ok;

	reqid = msg_get_u32(in);
	key_id = msg_get_u32(in);
	md = msg_get_u8(in);
	hlen = msg_get_data(in, hash, sizeof(hash));
	if (msg_end(in) == -1) {
		log_warnx("malformed sign request; dropping that worker");
		kh_client_gone(c);
		return;
	}
	ok = key_id < CONF_MAX_CERTS && keys[key_id] != NULL &&
	    kh_allow(c) && tls_key_sign(keys[key_id], md, hash, hlen, sig,
	    sizeof(sig), &slen) == 0;
	if (!ok) {
		log_warnx("sign request refused (key %u, %zu-byte digest)",
		    key_id, hlen);
		slen = 0;
	}
	msg_init(&m, MSG_KH_SIG);
	msg_add_u32(&m, reqid);
	msg_add_u8(&m, ok ? 0 : 1);
	msg_add_data(&m, sig, slen);
	secure_zero(sig, sizeof(sig));
	if (chan_send(&c->chan, &m, -1) == -1) {
		kh_client_gone(c);
		return;
	}
	if (chan_pending(&c->chan)) {
		ev_io_events(&c->io, EPOLLIN | EPOLLOUT);
	}
}

static void
kh_client_io(struct ev_io *io, uint32_t revents)
{
	struct kh_client *c = io->arg;
	struct msg_in	 *in;
	int		  rv, k;

	if ((revents & EPOLLOUT) && chan_flush(&c->chan) == 0) {
		ev_io_events(&c->io, EPOLLIN);
	}
	if ((in = malloc(sizeof(*in))) == NULL) {
		fatal("malloc");
	}
	for (k = 0; k < 16 && !c->dead; k++) {
		if ((rv = chan_recv(&c->chan, in)) != 1) {
			break;
		}
		if (in->type != MSG_KH_SIGN || in->fd != -1) {
			if (in->fd != -1) {
				close(in->fd);
			}
			log_warnx("unexpected %s from a worker",
			    msg_type_name(in->type));
			kh_client_gone(c);
			break;
		}
		kh_sign(c, in);
	}
	free(in);
	if (!c->dead && rv == -1) {
		kh_client_gone(c);
	}
}

static void
kh_add_client(int fd)
{
	struct kh_client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		fatal("calloc");
	}
	set_nonblock(fd);
	chan_init(&c->chan, fd);
	c->tokens = KH_BURST;
	c->last = ev_now();
	ev_io_set(&c->io, fd, EPOLLIN, kh_client_io, c);
	c->next = clients;
	clients = c;
	nclients++;
}

static void
kh_parent_io(struct ev_io *io, uint32_t revents)
{
	struct msg_in	*in;
	int		 rv;

	(void)io;
	(void)revents;
	if ((in = malloc(sizeof(*in))) == NULL) {
		fatal("malloc");
	}
	while ((rv = chan_recv(&parent_chan, in)) == 1) {
		if (in->type == MSG_KH_CLIENT && in->fd != -1) {
			kh_add_client(in->fd);
		} else if (in->type == MSG_DRAIN) {
			draining = 1;
		} else {
			fatalx("keyholder: unexpected %s",
			    msg_type_name(in->type));
		}
	}
	free(in);
	if (rv == -1) {
		exit(0);
	}
}

static void
kh_post(void)
{
	struct kh_client *c;

	while ((c = graveyard) != NULL) {
		graveyard = c->next;
		free(c);
	}
	if (draining && nclients == 0) {
		exit(0);
	}
}

static void
kh_load_keys(void)
{
	const char	*err = NULL;
	size_t		 i;

	if (tls_init(&err) == -1) {
		fatalx("tls_init: %s", err);
	}
	for (i = 0; i < bconf->ncerts; i++) {
		if ((keys[i] = tls_key_load(bconf->certs[i].key,
		    bconf->certs[i].passphrase, &err)) == NULL) {
			fatalx("%s", err);
		}
		if (tls_key_is_ecdsa(keys[i])) {
			continue;
		}
		/* mbedTLS cannot sign TLS 1.3 RSA-PSS outside the process
		 * that holds the key: never a silent fallback. */
		if (!bconf->tls_rsa_in_worker) {
			fatalx("certificate %s: RSA key; use an ECDSA key, or "
			    "set tls-rsa-in-worker yes (weaker: the key is "
			    "then loaded in the workers)", bconf->certs[i].chain);
		}
		tls_key_free(&keys[i]);
	}
}

void
keyholder_main(void)
{
	kh_load_keys();
	child_sandbox(ROLE_KEYHOLDER);
	ev_init();
	ev_set_post_hook(kh_post);
	ev_io_set(&parent_io, FD_PARENT, EPOLLIN, kh_parent_io, NULL);
	log_info("holding %zu keys", bconf->ncerts);
	ev_loop();
	exit(0);
}
