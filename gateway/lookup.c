/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * lookup: runs the user maps.  A child of the parent, talking only to it;
 * it trusts the parent's messages (a malformed one is fatal) but treats the
 * username inside as untrusted data: it is only ever substituted into map
 * keys once, literally (map.c).  Maps are reopened when their files change
 * and on MSG_RELOAD.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bailey.h"
#include "ev.h"
#include "log.h"
#include "map.h"

#define LOOKUP_REFRESH_MS	1000

static struct map	*maps[CONF_MAX_MAPS];
static size_t		 nmaps;
static struct ev_io	 lookup_io;
static uint64_t		 last_refresh;
static int		 draining;

static void
lookup_refresh(int force)
{
	size_t	i;

	if (!force && ev_now() - last_refresh < LOOKUP_REFRESH_MS) {
		return;
	}
	last_refresh = ev_now();
	for (i = 0; i < nmaps; i++) {
		map_refresh(maps[i]);
	}
}

static void
lookup_answer(uint64_t id, enum lookup_status st, const struct map_result *r)
{
	struct msg_out	m;

	msg_init(&m, MSG_LOOKUP_RESULT);
	msg_add_u64(&m, id);
	msg_add_u8(&m, (uint8_t)st);
	msg_add_str(&m, r ? r->user : "");
	msg_add_str(&m, r ? r->host : "");
	msg_add_u16(&m, r ? r->port : 0);
	if (chan_send(&parent_chan, &m, -1) == -1) {
		fatal("lookup: send");
	}
}

static void
lookup_one(struct msg_in *in)
{
	struct map_query	q;
	struct map_result	r;
	uint64_t		id;
	uint8_t			proto;
	size_t			i;
	int			rv = 0;

	memset(&q, 0, sizeof(q));
	id = msg_get_u64(in);
	proto = msg_get_u8(in);
	msg_get_str(in, q.user, sizeof(q.user));
	msg_get_str(in, q.client_addr, sizeof(q.client_addr));
	q.client_port = msg_get_u16(in);
	msg_get_str(in, q.server_addr, sizeof(q.server_addr));
	q.server_port = msg_get_u16(in);
	if (msg_end(in) == -1 || proto > PROTO_POP3) {
		fatalx("lookup: malformed request");
	}
	q.proto = (enum proto)proto;
	q.delimiter = bconf->domain_delimiter;
	lookup_refresh(0);
	for (i = 0; i < nmaps; i++) {
		memset(&r, 0, sizeof(r));
		if ((rv = map_lookup(maps[i], &q, &r)) != 0) {
			break;
		}
	}
	if (rv == 1) {
		lookup_answer(id, LOOKUP_FOUND, &r);
	} else if (rv == 0) {
		lookup_answer(id, LOOKUP_NOTFOUND, NULL);
	} else {
		lookup_answer(id, LOOKUP_ERROR, NULL);
	}
	secure_zero(&q, sizeof(q));
}

static void
lookup_input(struct ev_io *io, uint32_t revents)
{
	struct msg_in	*in;
	int		 rv;

	(void)io;
	if (revents & EPOLLOUT) {
		(void)chan_flush(&parent_chan);
	}
	if ((in = malloc(sizeof(*in))) == NULL) {
		fatal("malloc");
	}
	while ((rv = chan_recv(&parent_chan, in)) == 1) {
		if (in->fd != -1) {
			fatalx("lookup: unexpected fd");
		}
		switch (in->type) {
		case MSG_LOOKUP:
			lookup_one(in);
			break;
		case MSG_RELOAD:
			lookup_refresh(1);
			break;
		case MSG_DRAIN:
			draining = 1;
			break;
		default:
			fatalx("lookup: unexpected %s", msg_type_name(in->type));
		}
	}
	free(in);
	if (rv == -1) {
		exit(0);		/* parent went away */
	}
	if (draining && !chan_pending(&parent_chan)) {
		exit(0);
	}
	ev_io_events(&lookup_io, chan_pending(&parent_chan) ?
	    EPOLLIN | EPOLLOUT : EPOLLIN);
}

void
lookup_main(void)
{
	size_t	i;

	for (i = 0; i < bconf->nmaps; i++) {
		if ((maps[nmaps] = map_open(&bconf->maps[i])) == NULL) {
			fatalx("cannot open map %s", bconf->maps[i].path);
		}
		nmaps++;
	}
	child_sandbox(ROLE_LOOKUP);
	ev_init();
	last_refresh = ev_now();
	ev_io_set(&lookup_io, FD_PARENT, EPOLLIN, lookup_input, NULL);
	ev_loop();
	exit(0);
}
