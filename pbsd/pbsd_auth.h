/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_auth: the authenticated envelope that carries one pbsd_proto record
 * between pbsd processes on different hosts (remote gateways).  Pure
 * functions, no I/O.  Sealing runs in a gateway host's pbsd (unprivileged,
 * after its sandbox; it trusts its own key and its local, already decoded
 * events).  Opening runs in the central pbsd, also unprivileged and
 * sandboxed, and trusts no byte: lengths and fixed fields are checked, the
 * key id is looked up, and the HMAC-SHA-256 is compared in constant time
 * before the timestamp, the nonce or the inner record are looked at.
 *
 * Envelope (multi-byte fields in network byte order), see docs/pbsd.md:
 *
 *	off   size  field
 *	0     4     magic "PBSA" (0x50425341)
 *	4     1     version (PBSD_AUTH_VERSION)
 *	5     1     reserved, must be 0
 *	6     2     record length n (PBSD_PROTO_MIN_LEN..PBSD_PROTO_MAX_LEN)
 *	8     4     key id: the first 4 bytes of
 *		    HMAC-SHA-256(key, "pbsd remote key id")
 *	12    8     timestamp, seconds since the epoch (sender's clock)
 *	20    16    nonce, random (getrandom)
 *	36    n     the pbsd_proto record, unchanged
 *	36+n  32    HMAC-SHA-256(key, bytes 0 .. 36+n-1)
 *
 * Nothing may follow the MAC, so an envelope is 81..348 bytes.  Over UDP
 * one datagram is one envelope; over TCP each envelope is preceded by its
 * length as 2 bytes (network order).
 */
#ifndef BAILEY_PBSD_AUTH_H
#define BAILEY_PBSD_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "pbsd_proto.h"

#define PBSD_AUTH_MAGIC		0x50425341U
#define PBSD_AUTH_VERSION	1
#define PBSD_AUTH_HDR		36
#define PBSD_AUTH_NONCE_LEN	16
#define PBSD_AUTH_MAC_LEN	32
#define PBSD_AUTH_MIN_LEN	(PBSD_AUTH_HDR + PBSD_PROTO_MIN_LEN + \
				    PBSD_AUTH_MAC_LEN)
#define PBSD_AUTH_MAX_LEN	(PBSD_AUTH_HDR + PBSD_PROTO_MAX_LEN + \
				    PBSD_AUTH_MAC_LEN)
#define PBSD_AUTH_FRAME_HDR	2	/* TCP length prefix */
#define PBSD_AUTH_KEY_MIN	32	/* bytes of key material */
#define PBSD_AUTH_KEY_MAX	64
#define PBSD_AUTH_KEY_ID_LABEL	"pbsd remote key id"
/* Replay window and nonce cache bounds (pbsd.conf remote_*). */
#define PBSD_AUTH_WINDOW_MAX	3600
#define PBSD_AUTH_NONCES_MIN	16
#define PBSD_AUTH_NONCES_MAX	(1U << 20)

/* Why an envelope was dropped; each is a counter in "pbsctl stats". */
enum pbsd_auth_drop {
	PBSD_AUTH_OK = 0,
	PBSD_AUTH_MALFORMED,	/* length, magic, version, reserved, record */
	PBSD_AUTH_UNKNOWN_KEY,	/* key id is neither current nor previous */
	PBSD_AUTH_BAD_MAC,	/* MAC does not verify */
	PBSD_AUTH_STALE,	/* timestamp outside now +- window */
	PBSD_AUTH_REPLAY,	/* nonce seen within the window */
	PBSD_AUTH_CACHE_FULL,	/* nonce cache full of live nonces */
	PBSD_AUTH_NDROPS
};

struct pbsd_auth_key {
	uint32_t	ak_id;
	size_t		ak_len;		/* 0 = no key */
	uint8_t		ak_bytes[PBSD_AUTH_KEY_MAX];
};

/* What an envelope said; am_record points into the input. */
struct pbsd_auth_msg {
	uint32_t	am_key_id;
	uint64_t	am_ts;
	uint8_t		am_nonce[PBSD_AUTH_NONCE_LEN];
	struct span	am_record;
};

struct pbsd_nonce_slot {
	uint8_t		ns_nonce[PBSD_AUTH_NONCE_LEN];
	int64_t		ns_expiry;	/* seconds; forget after it */
	int		ns_used;
};

/*
 * Nonces seen within the window: open addressing, capacity twice the
 * maximum count.  Expired nonces are purged only when the cache is full and
 * the earliest expiry has passed; when it is full of live nonces new
 * envelopes are refused (never forgotten: forgetting would allow replays).
 */
struct pbsd_nonce_cache {
	struct pbsd_nonce_slot	*nc_slots;
	size_t			 nc_cap;
	size_t			 nc_count;
	size_t			 nc_max;
	int64_t			 nc_min_expiry;
	uint64_t		 nc_seed;
};

/* Everything the receiving side checks against. */
struct pbsd_auth_verifier {
	struct pbsd_auth_key	av_keys[2];	/* current, previous */
	size_t			av_nkeys;
	unsigned int		av_window;	/* seconds */
	struct pbsd_nonce_cache	av_nonces;
};

/* "bad_mac" ... (stats and log names), NULL for an unknown value. */
const char	*pbsd_auth_drop_name(int);

/*
 * Sets a key from raw bytes (PBSD_AUTH_KEY_MIN..PBSD_AUTH_KEY_MAX) and
 * derives its id.  Returns 0, or -1 with *errstr_r.
 */
int	 pbsd_auth_key_set(struct pbsd_auth_key *, const uint8_t *, size_t,
	    const char **errstr_r);
/*
 * Key file contents: 64..128 hex digits (either case), optionally followed
 * by blanks and line ends; nothing else.  Returns 0, or -1 with *errstr_r.
 */
int	 pbsd_auth_key_parse(struct span, struct pbsd_auth_key *,
	    const char **errstr_r);
void	 pbsd_auth_key_clear(struct pbsd_auth_key *);

/*
 * Appends the envelope around record (a valid pbsd_proto record) to out;
 * with framed, the 2-byte TCP length prefix first.  Returns 0, or -1 with
 * *errstr_r (record length out of range, out too small, MAC failure); on
 * -1 out is unchanged (never a lone length prefix).
 */
int	 pbsd_auth_seal(const struct pbsd_auth_key *, uint64_t ts,
	    const uint8_t nonce[PBSD_AUTH_NONCE_LEN], struct span record,
	    int framed, struct buf *out, const char **errstr_r);

/*
 * UNTRUSTED: checks structure, key id and MAC of one envelope (bounded by
 * PBSD_AUTH_MAX_LEN) against keys[0..nkeys).  Nothing past the fixed
 * header fields is interpreted before the MAC verified.  Returns 0 and
 * fills *msg_r, or -1 with *drop_r set (MALFORMED, UNKNOWN_KEY, BAD_MAC).
 */
int	 pbsd_auth_open(struct span, const struct pbsd_auth_key *keys,
	    size_t nkeys, struct pbsd_auth_msg *msg_r, int *drop_r);

/* 1 if now - window <= ts <= now + window, else 0. */
int	 pbsd_auth_fresh(uint64_t ts, int64_t now, unsigned int window);

/* Allocates for max nonces (PBSD_AUTH_NONCES_MIN..MAX).  0 or -1. */
int	 pbsd_nonce_init(struct pbsd_nonce_cache *, size_t max, uint64_t seed);
void	 pbsd_nonce_free(struct pbsd_nonce_cache *);
/*
 * Remembers nonce until expiry.  Returns 1 if it was new (now remembered),
 * 0 if it was seen before, -1 if the cache is full of unexpired nonces.
 */
int	 pbsd_nonce_add(struct pbsd_nonce_cache *,
	    const uint8_t nonce[PBSD_AUTH_NONCE_LEN], int64_t expiry,
	    int64_t now);

/*
 * UNTRUSTED: pbsd_auth_open(), then the window, then the nonce cache.
 * Returns 0 and fills *msg_r (the record is still to be decoded), or -1
 * with *drop_r.
 */
int	 pbsd_auth_verify(struct pbsd_auth_verifier *, struct span,
	    int64_t now, struct pbsd_auth_msg *msg_r, int *drop_r);

/*
 * UNTRUSTED: the next TCP frame in in (bounded by PBSD_AUTH_FRAME_HDR +
 * PBSD_AUTH_MAX_LEN).  Returns 1 with the envelope in *frame_r and the
 * bytes to consume in *used_r, 0 if more bytes are needed, -1 if the
 * length prefix is out of range (close the connection).
 */
int	 pbsd_auth_frame(struct span in, struct span *frame_r, size_t *used_r);

#endif
