/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * msg: typed IPC between bailey's processes over SOCK_SEQPACKET
 * socketpairs (one datagram = one message, with at most one fd alongside).
 * The parent trusts its helpers (lookup, dialer): their bad messages are
 * fatal to the parent's view of that child, which is then restarted.
 * Nobody trusts a worker: a bad or out-of-phase message from a worker is
 * dropped and logged, and never harms the parent.  Decoding checks every
 * length and rejects trailing bytes (OpenSMTPD mproc.c).
 *
 * Bump MSG_VERSION on any change to a message's layout.
 */
#ifndef BAILEY_MSG_H
#define BAILEY_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "bailey_limits.h"

#define MSG_VERSION	6

enum msg_type {
	MSG_NONE = 0,
	/*
	 * worker -> parent -> lookup.  A login wants a backend.
	 * u64 id, u8 proto, str user, str client addr, u16 client port,
	 * str server addr, u16 server port.  (The parent rewrites id.)
	 */
	MSG_LOOKUP,
	/*
	 * lookup -> parent.  u64 id, u8 status (enum lookup_status),
	 * str user (empty: keep), str host, u16 port (0: protocol default).
	 */
	MSG_LOOKUP_RESULT,
	/*
	 * parent -> dialer.  u64 id, u32 timeout ms, u8 check (1: every
	 * resolved address must pass dest_addr_allowed, policy/dest.h), u8 n,
	 * then n times (str host, u16 port).  Candidates are tried in order.
	 */
	MSG_CONNECT,
	/*
	 * dialer -> parent, with the connected fd on success.
	 * u64 id, u8 status (enum connect_status), u8 index, str peer.
	 */
	MSG_CONNECT_RESULT,
	/*
	 * parent -> worker, with the backend fd on success.
	 * u64 session id, u8 status (enum backend_status), str user to log
	 * in as, str backend name ("host:port"), u16 server index in the
	 * worker's configuration (0xffff: a map result), str host (the name
	 * the backend's certificate must carry).
	 */
	MSG_BACKEND,
	/*
	 * worker -> parent.  u64 session id, u8 proto, str user,
	 * str client addr, u16 client port.  Sent after a backend login
	 * succeeded, never otherwise (pbsd, penalties).
	 */
	MSG_AUTH_OK,
	/* worker -> parent, same layout as MSG_AUTH_OK: a logged-in session
	 * is still open (every pbsd alive-interval). */
	MSG_SESSION_ALIVE,
	/* worker -> parent, same layout: a logged-in session ended. */
	MSG_SESSION_END,
	/* worker -> parent.  u32 open sessions.  Per-connection mode: the
	 * worker took its connection, the parent may spawn the next. */
	MSG_ACCEPTED,
	/* parent -> worker/lookup/dialer.  Empty.  Stop taking new work,
	 * finish what is under way, then exit. */
	MSG_DRAIN,
	/* parent -> lookup.  Empty.  Reopen maps now. */
	MSG_RELOAD,
	/* parent -> keyholder, with one end of a new worker's socketpair.
	 * Empty payload. */
	MSG_KH_CLIENT,
	/* parent -> worker, with a fresh keyholder channel (the keyholder
	 * was restarted).  Empty payload. */
	MSG_KH_CHANNEL,
	/* worker -> keyholder.  u32 request id, u32 key id (certificate
	 * index), u8 md (mbedtls_md_type_t), data digest. */
	MSG_KH_SIGN,
	/* keyholder -> worker.  u32 request id, u8 status (0 ok), data
	 * DER signature. */
	MSG_KH_SIG,
	/*
	 * parent -> spawner.  u8 role (enum role: lookup, dialer, worker,
	 * keyholder), u32 index, u16 scoreboard slot (0xffff: none); with
	 * the worker's keyholder channel as fd (workers only, optional).
	 * The spawner answers with MSG_SPAWNED.
	 */
	MSG_SPAWN,
	/*
	 * spawner -> parent.  u8 status (0 ok), u32 pid; on success with the
	 * parent's end of the new child's channel as fd.
	 */
	MSG_SPAWNED,
	/* parent -> spawner.  Empty.  Reread, check and bind the
	 * configuration file (SIGHUP); answered with MSG_CONF. */
	MSG_CONF_RELOAD,
	/*
	 * spawner -> parent.  u8 status (0 ok: the spawner has switched to
	 * the new listeners), u32 length of the text; on success with a
	 * memfd holding the configuration text as fd.
	 */
	MSG_CONF,
	MSG_TYPE_MAX
};

enum lookup_status {
	LOOKUP_FOUND = 0,
	LOOKUP_NOTFOUND = 1,
	LOOKUP_ERROR = 2,
};

enum connect_status {
	CONNECT_OK = 0,
	CONNECT_FAIL = 1,
};

enum backend_status {
	BACKEND_OK = 0,
	BACKEND_NONE = 1,		/* no map entry and no default server */
	BACKEND_UNREACHABLE = 2,	/* every candidate failed */
	BACKEND_TEMPFAIL = 3,		/* a helper failed */
};

struct msg_hdr {
	uint16_t	version;
	uint16_t	type;
	uint32_t	len;
};

/* A message being built. */
struct msg_out {
	uint16_t	type;
	size_t		len;
	int		err;
	uint8_t		data[MSG_MAX_PAYLOAD];
};

/* A message being decoded. */
struct msg_in {
	uint16_t	type;
	size_t		len;
	size_t		off;
	int		err;
	int		fd;		/* received fd, or -1 */
	uint8_t		data[MSG_MAX_PAYLOAD];
};

void	msg_init(struct msg_out *, enum msg_type);
void	msg_add_u8(struct msg_out *, uint8_t);
void	msg_add_u16(struct msg_out *, uint16_t);
void	msg_add_u32(struct msg_out *, uint32_t);
void	msg_add_u64(struct msg_out *, uint64_t);
/* A string without NUL, at most 65535 bytes. */
void	msg_add_str(struct msg_out *, const char *);
/* Bytes with a u16 length (may hold NUL). */
void	msg_add_data(struct msg_out *, const void *, size_t);

uint8_t	 msg_get_u8(struct msg_in *);
uint16_t msg_get_u16(struct msg_in *);
uint32_t msg_get_u32(struct msg_in *);
uint64_t msg_get_u64(struct msg_in *);
/* Copies into dst (NUL-terminated); error if it does not fit or has NUL. */
void	msg_get_str(struct msg_in *, char *dst, size_t dstsz);
/* Copies data into dst; error if it does not fit.  Returns the length. */
size_t	msg_get_data(struct msg_in *, void *dst, size_t dstsz);
/* 0 if everything decoded and nothing is left over, else -1. */
int	msg_end(struct msg_in *);
/* Decodes a received datagram (header + payload) into m.  0 / -1. */
int	msg_parse(struct msg_in *, const uint8_t *, size_t);
const char *msg_type_name(unsigned);

/*
 * A channel: one end of a socketpair with an output queue, so a full
 * socket never blocks the event loop.
 */
struct msg_qent;
struct chan {
	int		 fd;
	struct msg_qent	*qhead;
	struct msg_qent	*qtail;
	size_t		 qlen;
};

void	chan_init(struct chan *, int fd);
/* Queues m (and fd, which the channel then owns) and tries to send. */
int	chan_send(struct chan *, const struct msg_out *, int fd);
/* Sends what is queued; 0 when empty, 1 when some remains, -1 on error. */
int	chan_flush(struct chan *);
int	chan_pending(const struct chan *);
/*
 * Receives one message.  1 = got one, 0 = nothing now (EAGAIN),
 * -1 = peer closed or a malformed message (errno/log says which).
 */
int	chan_recv(struct chan *, struct msg_in *);
/* Drops the queue (closing queued fds) and closes the socket. */
void	chan_close(struct chan *);

#endif
