/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_remote: remote gateways.  The listener takes authenticated
 * envelopes (pbsd_auth.h) over UDP and TCP from the pbsd processes of other
 * gateway hosts; the forwarder seals each local event and sends it to a
 * central pbsd.  Both run inside pbsd: keys are read and sockets bound as
 * root in pbsd_remote_open(), everything else runs as pbsd's user inside
 * its seccomp filter.  Nothing received is trusted before its MAC, window
 * and nonce checks (pbsd_auth_verify) and the record decoder passed.  All
 * of it is off unless pbsd.conf has remote_listen or forward.
 */
#ifndef BAILEY_PBSD_REMOTE_H
#define BAILEY_PBSD_REMOTE_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "pbsd_auth.h"
#include "pbsd_conf.h"
#include "pbsd_proto.h"

#define PBSD_REMOTE_BATCH	256		/* datagrams per round */
#define PBSD_REMOTE_FWD_MAX	(64U * 1024)	/* queued TCP bytes */
#define PBSD_REMOTE_KEYFILE_MAX	4096
#define PBSD_REMOTE_RETRY_MIN	1000		/* ms, TCP reconnect */
#define PBSD_REMOTE_RETRY_MAX	30000

/* Called for every record that passed all checks. */
typedef void pbsd_remote_apply_fn(void *arg, const struct pbsd_record *,
    int64_t now_s);

struct pbsd_remote_stats {
	uint64_t	rs_received;	/* datagrams + TCP frames */
	uint64_t	rs_accepted;
	uint64_t	rs_drops[PBSD_AUTH_NDROPS];
	uint64_t	rs_denied;	/* source not in remote_allow */
	uint64_t	rs_conns_refused;	/* over remote_max_connections */
	uint64_t	rs_conns_evicted;	/* unverified, made room */
	uint64_t	rs_conns_closed_idle;
	uint64_t	rs_fwd_sent;
	uint64_t	rs_fwd_dropped;	/* queue full, send error, cut */
	uint64_t	rs_fwd_connects;
};

struct pbsd_remote_conn {
	int		rcn_fd;		/* -1 = free slot */
	int64_t		rcn_deadline;	/* ms; moved on by verified frames */
	int64_t		rcn_accepted;	/* ms */
	int		rcn_authed;	/* delivered a verified envelope */
	struct buf	rcn_in;
	char		rcn_peer[80];	/* "[v6]:port" */
};

struct pbsd_remote {
	const struct pbsd_remote_conf	*r_conf;
	int				 r_epfd;	/* -1 = off */
	int				 r_lfd[PBSD_REMOTE_MAX_LISTEN];
	int				 r_lproto[PBSD_REMOTE_MAX_LISTEN];
	size_t				 r_nlisten;
	struct pbsd_remote_conn		*r_conns;
	size_t				 r_nconns;	/* open */
	struct pbsd_auth_verifier	 r_verifier;
	struct pbsd_auth_key		 r_fwd_key;
	int				 r_fwd_fd;	/* -1 = none */
	int				 r_fwd_connecting;
	size_t				 r_fwd_left;	/* of head frame */
	struct buf			 r_fwd_out;
	int64_t				 r_fwd_retry;	/* ms, 0 = none */
	int64_t				 r_fwd_backoff;
	int64_t				 r_last_log;	/* s */
	struct pbsd_remote_stats	 r_stats;
	pbsd_remote_apply_fn		*r_apply;
	void				*r_arg;
};

/*
 * Reads a key file as root: a regular file owned by root or owner_uid,
 * with no group or other permission bits, holding hex text (see
 * pbsd_auth_key_parse).  Returns 0, or -1 with *errstr_r.
 */
int	 pbsd_remote_key_load(const char *path, uid_t owner_uid,
	    struct pbsd_auth_key *, const char **errstr_r);

/* Everything off, every fd -1. */
void	 pbsd_remote_init(struct pbsd_remote *);
/*
 * As root, before the privilege drop: loads keys, binds listeners,
 * creates the forwarder's socket.  Fatal on any error (start-up).  Does
 * nothing if the configuration has neither remote_listen nor forward.
 */
void	 pbsd_remote_open(struct pbsd_remote *, const struct pbsd_remote_conf *,
	    uid_t owner_uid, pbsd_remote_apply_fn *, void *arg);
/* The fd to poll for POLLIN (an epoll instance), or -1. */
int	 pbsd_remote_fd(const struct pbsd_remote *);
/* UNTRUSTED: handles whatever is ready, bounded per round. */
void	 pbsd_remote_run(struct pbsd_remote *, int64_t now_ms);
/* Earliest deadline (ms) of an idle timeout or reconnect, or -1. */
int64_t	 pbsd_remote_deadline(const struct pbsd_remote *);
void	 pbsd_remote_tick(struct pbsd_remote *, int64_t now_ms);
/* Seals and sends one already decoded local record, if forwarding. */
void	 pbsd_remote_forward(struct pbsd_remote *, struct span record,
	    int64_t now_ms);
/* Appends "name value" lines for pbsctl stats. */
void	 pbsd_remote_stats(const struct pbsd_remote *, struct buf *);
/* 1 if the forwarder may need socket(AF_INET*, SOCK_STREAM) later. */
int	 pbsd_remote_needs_inet_socket(void);
void	 pbsd_remote_close(struct pbsd_remote *);

#endif
