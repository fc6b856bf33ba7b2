/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_auth: seal and open the remote-gateway envelope, the replay window
 * and the nonce cache.  Runs in pbsd as its unprivileged user, inside the
 * seccomp filter (only memory allocation is needed).  Sealing trusts the
 * local key and a record pbsd already decoded; opening trusts no byte and
 * checks the MAC (mbedTLS HMAC-SHA-256, constant-time compare) before the
 * timestamp, nonce or record are used.  Byte access goes through lib/buf.
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/constant_time.h>
#include <mbedtls/md.h>

#include "buf.h"
#include "pbsd_auth.h"

static const char *const pbsd_auth_drop_names[] = {
	"ok", "malformed", "unknown_key", "bad_mac", "stale", "replay",
	"cache_full",
};
_Static_assert(sizeof(pbsd_auth_drop_names) /
    sizeof(pbsd_auth_drop_names[0]) == PBSD_AUTH_NDROPS, "drop name table");

const char *
pbsd_auth_drop_name(int d)
{
	if (d < 0 || d >= PBSD_AUTH_NDROPS) {
		return NULL;
	}
	return pbsd_auth_drop_names[d];
}

static int
pbsd_auth_hmac(const uint8_t *key, size_t keylen, struct span data,
    uint8_t mac[PBSD_AUTH_MAC_LEN])
{
	const mbedtls_md_info_t	*info;

	if ((info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256)) == NULL ||
	    mbedtls_md_get_size(info) != PBSD_AUTH_MAC_LEN) {
		return -1;
	}
	if (mbedtls_md_hmac(info, key, keylen, data.p, data.len, mac) != 0) {
		return -1;
	}
	return 0;
}

static uint64_t
pbsd_auth_get(struct span s, size_t off, size_t n)
{
	uint64_t	v = 0;
	size_t		i;

	for (i = 0; i < n; i++) {
		v = v << 8 | span_byte(s, off + i);
	}
	return v;
}

static void
pbsd_auth_put(uint8_t *dst, size_t off, uint64_t v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		dst[off + n - 1 - i] = (uint8_t)(v >> (8 * i));
	}
}

int
pbsd_auth_key_set(struct pbsd_auth_key *k, const uint8_t *p, size_t len,
    const char **errstr_r)
{
	uint8_t		mac[PBSD_AUTH_MAC_LEN];
	struct span	label = SPAN_LIT(PBSD_AUTH_KEY_ID_LABEL);

	memset(k, 0, sizeof(*k));
	if (len < PBSD_AUTH_KEY_MIN) {
		*errstr_r = "key shorter than 32 bytes";
		return -1;
	}
	if (len > PBSD_AUTH_KEY_MAX) {
		*errstr_r = "key longer than 64 bytes";
		return -1;
	}
	if (pbsd_auth_hmac(p, len, label, mac) == -1) {
		*errstr_r = "HMAC-SHA-256 failed";
		return -1;
	}
	memcpy(k->ak_bytes, p, len);
	k->ak_len = len;
	k->ak_id = (uint32_t)pbsd_auth_get((struct span){ mac, sizeof(mac) },
	    0, 4);
	return 0;
}

/* UNTRUSTED (a root-owned file, still bounded): hex key text. */
int
pbsd_auth_key_parse(struct span text, struct pbsd_auth_key *k,
    const char **errstr_r)
{
	uint8_t	raw[PBSD_AUTH_KEY_MAX];
	size_t	i, ndig = 0;
	uint8_t	c;
	int	v, rv = -1;

	memset(k, 0, sizeof(*k));
	for (i = 0; i < text.len; i++) {
		c = span_byte(text, i);
		if ((v = hex_digit(c)) == -1) {
			break;
		}
		if (ndig / 2 >= sizeof(raw)) {
			*errstr_r = "key longer than 64 bytes";
			goto out;
		}
		if (ndig % 2 == 0) {
			raw[ndig / 2] = (uint8_t)(v << 4);
		} else {
			raw[ndig / 2] |= (uint8_t)v;
		}
		ndig++;
	}
	for (; i < text.len; i++) {
		c = span_byte(text, i);
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			*errstr_r = "key file must hold hex digits only";
			goto out;
		}
	}
	if (ndig % 2 != 0) {
		*errstr_r = "odd number of hex digits in key";
		goto out;
	}
	rv = pbsd_auth_key_set(k, raw, ndig / 2, errstr_r);
out:
	secure_zero(raw, sizeof(raw));
	return rv;
}

void
pbsd_auth_key_clear(struct pbsd_auth_key *k)
{
	secure_zero(k, sizeof(*k));
}

int
pbsd_auth_seal(const struct pbsd_auth_key *k, uint64_t ts,
    const uint8_t nonce[PBSD_AUTH_NONCE_LEN], struct span record,
    int framed, struct buf *out, const char **errstr_r)
{
	uint8_t		hdr[PBSD_AUTH_HDR], mac[PBSD_AUTH_MAC_LEN];
	uint8_t		flen[PBSD_AUTH_FRAME_HDR];
	uint8_t		*dst;
	struct buf	env;
	size_t		need, room;
	int		rv = -1;

	if (k->ak_len == 0) {
		*errstr_r = "no key";
		return -1;
	}
	if (record.len < PBSD_PROTO_MIN_LEN ||
	    record.len > PBSD_PROTO_MAX_LEN) {
		*errstr_r = "record length out of range";
		return -1;
	}
	pbsd_auth_put(hdr, 0, PBSD_AUTH_MAGIC, 4);
	hdr[4] = PBSD_AUTH_VERSION;
	hdr[5] = 0;
	pbsd_auth_put(hdr, 6, record.len, 2);
	pbsd_auth_put(hdr, 8, k->ak_id, 4);
	pbsd_auth_put(hdr, 12, ts, 8);
	memcpy(&hdr[20], nonce, PBSD_AUTH_NONCE_LEN);
	buf_init(&env, PBSD_AUTH_MAX_LEN);
	if (buf_add(&env, hdr, sizeof(hdr)) == -1 ||
	    buf_add_span(&env, record) == -1) {
		*errstr_r = "envelope too long";
		goto out;
	}
	if (pbsd_auth_hmac(k->ak_bytes, k->ak_len, buf_span(&env),
	    mac) == -1 || buf_add(&env, mac, sizeof(mac)) == -1) {
		*errstr_r = "HMAC-SHA-256 failed";
		goto out;
	}
	pbsd_auth_put(flen, 0, buf_len(&env), sizeof(flen));
	/*
	 * All or nothing: a lone length prefix would corrupt the stream.
	 * Once the room is reserved, the two adds below cannot fail.
	 */
	need = buf_len(&env) + (framed ? sizeof(flen) : 0);
	if (buf_reserve(out, need, &dst, &room) == -1 || room < need ||
	    (framed && buf_add(out, flen, sizeof(flen)) == -1) ||
	    buf_add_span(out, buf_span(&env)) == -1) {
		*errstr_r = "output buffer full";
		goto out;
	}
	rv = 0;
out:
	buf_release(&env);
	return rv;
}

static const struct pbsd_auth_key *
pbsd_auth_find_key(const struct pbsd_auth_key *keys, size_t nkeys,
    uint32_t id)
{
	size_t	i;

	for (i = 0; i < nkeys; i++) {
		if (keys[i].ak_len > 0 && keys[i].ak_id == id) {
			return &keys[i];
		}
	}
	return NULL;
}

/* UNTRUSTED: bounded by PBSD_AUTH_MAX_LEN. */
int
pbsd_auth_open(struct span in, const struct pbsd_auth_key *keys,
    size_t nkeys, struct pbsd_auth_msg *msg_r, int *drop_r)
{
	const struct pbsd_auth_key	*k;
	uint8_t				 mac[PBSD_AUTH_MAC_LEN];
	size_t				 n, i;
	uint32_t			 id;

	*drop_r = PBSD_AUTH_MALFORMED;
	if (in.len < PBSD_AUTH_MIN_LEN || in.len > PBSD_AUTH_MAX_LEN ||
	    pbsd_auth_get(in, 0, 4) != PBSD_AUTH_MAGIC ||
	    span_byte(in, 4) != PBSD_AUTH_VERSION || span_byte(in, 5) != 0) {
		return -1;
	}
	n = (size_t)pbsd_auth_get(in, 6, 2);
	if (n < PBSD_PROTO_MIN_LEN || n > PBSD_PROTO_MAX_LEN ||
	    in.len != PBSD_AUTH_HDR + n + PBSD_AUTH_MAC_LEN) {
		return -1;
	}
	id = (uint32_t)pbsd_auth_get(in, 8, 4);
	if ((k = pbsd_auth_find_key(keys, nkeys, id)) == NULL) {
		*drop_r = PBSD_AUTH_UNKNOWN_KEY;
		return -1;
	}
	if (pbsd_auth_hmac(k->ak_bytes, k->ak_len,
	    span_sub(in, 0, PBSD_AUTH_HDR + n), mac) == -1 ||
	    mbedtls_ct_memcmp(mac, span_sub(in, PBSD_AUTH_HDR + n,
	    PBSD_AUTH_MAC_LEN).p, PBSD_AUTH_MAC_LEN) != 0) {
		*drop_r = PBSD_AUTH_BAD_MAC;
		return -1;
	}
	msg_r->am_key_id = id;
	msg_r->am_ts = pbsd_auth_get(in, 12, 8);
	for (i = 0; i < PBSD_AUTH_NONCE_LEN; i++) {
		msg_r->am_nonce[i] = span_byte(in, 20 + i);
	}
	msg_r->am_record = span_sub(in, PBSD_AUTH_HDR, n);
	*drop_r = PBSD_AUTH_OK;
	return 0;
}

int
pbsd_auth_fresh(uint64_t ts, int64_t now, unsigned int window)
{
	uint64_t	lo, hi;

	if (now < 0) {
		return 0;
	}
	hi = (uint64_t)now + window;
	lo = (uint64_t)now > window ? (uint64_t)now - window : 0;
	return ts >= lo && ts <= hi ? 1 : 0;
}

int
pbsd_nonce_init(struct pbsd_nonce_cache *c, size_t max, uint64_t seed)
{
	size_t	cap = 1;

	memset(c, 0, sizeof(*c));
	if (max < PBSD_AUTH_NONCES_MIN || max > PBSD_AUTH_NONCES_MAX) {
		return -1;
	}
	while (cap < 2 * max) {
		cap <<= 1;
	}
	if ((c->nc_slots = calloc(cap, sizeof(*c->nc_slots))) == NULL) {
		return -1;
	}
	c->nc_cap = cap;
	c->nc_max = max;
	c->nc_seed = seed;
	return 0;
}

void
pbsd_nonce_free(struct pbsd_nonce_cache *c)
{
	free(c->nc_slots);
	memset(c, 0, sizeof(*c));
}

/* FNV-1a over the seeded nonce; senders are authenticated by now. */
static size_t
pbsd_nonce_hash(const struct pbsd_nonce_cache *c, const uint8_t *nonce)
{
	uint64_t	h = 0xcbf29ce484222325ULL ^ c->nc_seed;
	size_t		i;

	for (i = 0; i < PBSD_AUTH_NONCE_LEN; i++) {
		h ^= nonce[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 29;
	return (size_t)h & (c->nc_cap - 1);
}

/* The slot holding nonce, or the empty slot where it would go. */
static struct pbsd_nonce_slot *
pbsd_nonce_slot(struct pbsd_nonce_slot *slots, size_t cap, size_t idx,
    const uint8_t *nonce)
{
	while (slots[idx].ns_used &&
	    memcmp(slots[idx].ns_nonce, nonce, PBSD_AUTH_NONCE_LEN) != 0) {
		idx = (idx + 1) & (cap - 1);
	}
	return &slots[idx];
}

/* Rebuilds the table without nonces that expired before now. */
static void
pbsd_nonce_purge(struct pbsd_nonce_cache *c, int64_t now)
{
	struct pbsd_nonce_slot	*fresh, *s;
	size_t			 i;

	if ((fresh = calloc(c->nc_cap, sizeof(*fresh))) == NULL) {
		return;		/* stays full: refuse rather than forget */
	}
	c->nc_count = 0;
	c->nc_min_expiry = INT64_MAX;
	for (i = 0; i < c->nc_cap; i++) {
		if (!c->nc_slots[i].ns_used ||
		    c->nc_slots[i].ns_expiry < now) {
			continue;
		}
		s = pbsd_nonce_slot(fresh, c->nc_cap,
		    pbsd_nonce_hash(c, c->nc_slots[i].ns_nonce),
		    c->nc_slots[i].ns_nonce);
		*s = c->nc_slots[i];
		c->nc_count++;
		if (s->ns_expiry < c->nc_min_expiry) {
			c->nc_min_expiry = s->ns_expiry;
		}
	}
	free(c->nc_slots);
	c->nc_slots = fresh;
}

int
pbsd_nonce_add(struct pbsd_nonce_cache *c,
    const uint8_t nonce[PBSD_AUTH_NONCE_LEN], int64_t expiry, int64_t now)
{
	struct pbsd_nonce_slot	*s;

	if (c->nc_slots == NULL) {
		return -1;
	}
	s = pbsd_nonce_slot(c->nc_slots, c->nc_cap,
	    pbsd_nonce_hash(c, nonce), nonce);
	if (s->ns_used && s->ns_expiry >= now) {
		return 0;
	}
	if (s->ns_used) {
		/* Expired, not yet purged: its old envelope is stale anyway. */
		s->ns_expiry = expiry;
		return 1;
	}
	if (c->nc_count >= c->nc_max) {
		if (now <= c->nc_min_expiry) {
			return -1;
		}
		pbsd_nonce_purge(c, now);
		if (c->nc_count >= c->nc_max) {
			return -1;
		}
		s = pbsd_nonce_slot(c->nc_slots, c->nc_cap,
		    pbsd_nonce_hash(c, nonce), nonce);
	}
	memcpy(s->ns_nonce, nonce, PBSD_AUTH_NONCE_LEN);
	s->ns_expiry = expiry;
	s->ns_used = 1;
	if (c->nc_count == 0 || expiry < c->nc_min_expiry) {
		c->nc_min_expiry = expiry;
	}
	c->nc_count++;
	return 1;
}

/* UNTRUSTED: bounded by PBSD_AUTH_MAX_LEN. */
int
pbsd_auth_verify(struct pbsd_auth_verifier *v, struct span in, int64_t now,
    struct pbsd_auth_msg *msg_r, int *drop_r)
{
	struct pbsd_auth_msg	msg;
	int			r;

	if (pbsd_auth_open(in, v->av_keys, v->av_nkeys, &msg, drop_r) == -1) {
		return -1;
	}
	if (!pbsd_auth_fresh(msg.am_ts, now, v->av_window)) {
		*drop_r = PBSD_AUTH_STALE;
		return -1;
	}
	r = pbsd_nonce_add(&v->av_nonces, msg.am_nonce,
	    (int64_t)msg.am_ts + v->av_window, now);
	if (r != 1) {
		*drop_r = r == 0 ? PBSD_AUTH_REPLAY : PBSD_AUTH_CACHE_FULL;
		return -1;
	}
	*msg_r = msg;
	*drop_r = PBSD_AUTH_OK;
	return 0;
}

/* UNTRUSTED: bounded by PBSD_AUTH_FRAME_HDR + PBSD_AUTH_MAX_LEN. */
int
pbsd_auth_frame(struct span in, struct span *frame_r, size_t *used_r)
{
	size_t	len;

	if (in.len < PBSD_AUTH_FRAME_HDR) {
		return 0;
	}
	len = (size_t)pbsd_auth_get(in, 0, PBSD_AUTH_FRAME_HDR);
	if (len < PBSD_AUTH_MIN_LEN || len > PBSD_AUTH_MAX_LEN) {
		return -1;
	}
	if (in.len - PBSD_AUTH_FRAME_HDR < len) {
		return 0;
	}
	*frame_r = span_sub(in, PBSD_AUTH_FRAME_HDR, len);
	*used_r = PBSD_AUTH_FRAME_HDR + len;
	return 1;
}
