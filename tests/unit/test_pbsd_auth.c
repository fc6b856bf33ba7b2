/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests of pbsd_auth: the remote-gateway envelope (seal, open,
 * verify), key files, the replay window, the nonce cache and TCP framing.
 * Runs in the test process only, unprivileged; trusts nothing it decodes.
 * The known-answer vector was computed with Python's hmac/hashlib from the
 * layout in pbsd_auth.h, independently of this code.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "harness.h"
#include "pbsd_auth.h"
#include "pbsd_proto.h"

#define NOW	1800000000LL
#define WINDOW	60

/* The smallest record: login-ok, IPv4, no user (13 bytes). */
static const uint8_t rec_min[] = {
	0x50, 0x42, 0x53, 0x44, 1, 1, 4, 0, 192, 0, 2, 1, 0,
};
#define REC_MIN	((struct span){ rec_min, sizeof(rec_min) })

/* Python: key bytes 0..31, ts 1800000000, nonce a0..af, user "alice". */
static const char kat_hex[] =
    "504253410100001222c2f1e1000000006b49d200a0a1a2a3a4a5a6a7a8a9aaab"
    "acadaeaf5042534401010402c000020105616c696365b4bd8a46bcf5fb7e7bca"
    "e953100cbf120a7c40f665576514c283b5e3a67c3c8a";

static void
key_fill(struct pbsd_auth_key *k, uint8_t base, size_t len)
{
	uint8_t		raw[PBSD_AUTH_KEY_MAX + 1];
	const char	*errstr;
	size_t		i;

	for (i = 0; i < len; i++) {
		raw[i] = (uint8_t)(base + i);
	}
	T_ASSERT(pbsd_auth_key_set(k, raw, len, &errstr) == 0);
}

static void
nonce_fill(uint8_t nonce[PBSD_AUTH_NONCE_LEN], unsigned int n)
{
	size_t	i;

	for (i = 0; i < PBSD_AUTH_NONCE_LEN; i++) {
		nonce[i] = (uint8_t)(n * 31 + i * 7 + (n >> 8));
	}
	nonce[0] = (uint8_t)n;
	nonce[1] = (uint8_t)(n >> 8);
	nonce[2] = (uint8_t)(n >> 16);
}

static void
seal(const struct pbsd_auth_key *k, uint64_t ts, unsigned int n,
    struct span rec, int framed, struct buf *out)
{
	uint8_t		 nonce[PBSD_AUTH_NONCE_LEN];
	const char	*errstr = NULL;

	nonce_fill(nonce, n);
	buf_init(out, 4 * PBSD_AUTH_MAX_LEN);
	T_ASSERT(pbsd_auth_seal(k, ts, nonce, rec, framed, out, &errstr) == 0);
}

static void
verifier(struct pbsd_auth_verifier *v, const struct pbsd_auth_key *k0,
    const struct pbsd_auth_key *k1, size_t nonces)
{
	memset(v, 0, sizeof(*v));
	v->av_keys[0] = *k0;
	v->av_nkeys = 1;
	if (k1 != NULL) {
		v->av_keys[1] = *k1;
		v->av_nkeys = 2;
	}
	v->av_window = WINDOW;
	T_ASSERT(pbsd_nonce_init(&v->av_nonces, nonces, 42) == 0);
}

static int
verify(struct pbsd_auth_verifier *v, struct span in, int64_t now)
{
	struct pbsd_auth_msg	msg;
	int			drop = -1;

	if (pbsd_auth_verify(v, in, now, &msg, &drop) == 0) {
		T_EQ_INT(drop, PBSD_AUTH_OK);
		return PBSD_AUTH_OK;
	}
	T_ASSERT(drop > PBSD_AUTH_OK && drop < PBSD_AUTH_NDROPS);
	return drop;
}

static void
test_known_answer(void)
{
	struct pbsd_auth_key		k;
	struct pbsd_auth_verifier	v;
	struct pbsd_auth_msg		msg;
	struct pbsd_record		rec;
	uint8_t				env[sizeof(kat_hex) / 2];
	uint8_t				nonce[PBSD_AUTH_NONCE_LEN];
	const char			*errstr;
	struct buf			out;
	size_t				i;
	unsigned int			x;
	int				drop;

	for (i = 0; i < sizeof(env); i++) {
		T_ASSERT(sscanf(&kat_hex[2 * i], "%2x", &x) == 1);
		env[i] = (uint8_t)x;
	}
	key_fill(&k, 0, 32);
	T_EQ_INT(k.ak_id, 0x22c2f1e1);
	verifier(&v, &k, NULL, 16);
	T_EQ_INT(pbsd_auth_verify(&v, (struct span){ env, sizeof(env) }, NOW,
	    &msg, &drop), 0);
	T_EQ_INT(msg.am_ts, NOW);
	T_EQ_INT(msg.am_key_id, 0x22c2f1e1);
	T_EQ_INT(msg.am_nonce[0], 0xa0);
	T_EQ_INT(msg.am_nonce[15], 0xaf);
	T_ASSERT(pbsd_event_decode(msg.am_record.p, msg.am_record.len, &rec,
	    &errstr) == 0);
	T_EQ_STR(rec.pr_user, "alice");
	/* Sealing the same record with the same inputs gives the same bytes. */
	for (i = 0; i < sizeof(nonce); i++) {
		nonce[i] = (uint8_t)(0xa0 + i);
	}
	buf_init(&out, PBSD_AUTH_MAX_LEN);
	T_ASSERT(pbsd_auth_seal(&k, NOW, nonce, msg.am_record, 0, &out,
	    &errstr) == 0);
	T_EQ_INT(buf_len(&out), sizeof(env));
	T_ASSERT(memcmp(buf_ptr(&out), env, sizeof(env)) == 0);
	buf_release(&out);
	pbsd_nonce_free(&v.av_nonces);
}

static void
test_good_and_replay(void)
{
	struct pbsd_auth_key		k;
	struct pbsd_auth_verifier	v;
	struct buf			env;

	key_fill(&k, 1, 32);
	verifier(&v, &k, NULL, 64);
	seal(&k, NOW, 1, REC_MIN, 0, &env);
	T_EQ_INT(buf_len(&env), PBSD_AUTH_MIN_LEN);
	T_EQ_INT(verify(&v, buf_span(&env), NOW), PBSD_AUTH_OK);
	T_EQ_INT(verify(&v, buf_span(&env), NOW), PBSD_AUTH_REPLAY);
	T_EQ_INT(verify(&v, buf_span(&env), NOW + 5), PBSD_AUTH_REPLAY);
	buf_release(&env);
	/* Same record, new nonce: accepted. */
	seal(&k, NOW, 2, REC_MIN, 0, &env);
	T_EQ_INT(verify(&v, buf_span(&env), NOW), PBSD_AUTH_OK);
	buf_release(&env);
	pbsd_nonce_free(&v.av_nonces);
}

/* Every single-bit flip anywhere in the envelope is rejected. */
static void
test_bit_flips(void)
{
	struct pbsd_auth_key		k;
	struct pbsd_auth_verifier	v;
	struct pbsd_auth_msg		msg;
	struct buf			env;
	uint8_t				copy[PBSD_AUTH_MAX_LEN];
	size_t				i, len;
	int				bit, drop, bad_mac = 0;

	key_fill(&k, 2, 40);
	verifier(&v, &k, NULL, 16);
	seal(&k, NOW, 3, REC_MIN, 0, &env);
	len = buf_len(&env);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(copy, buf_ptr(&env), len);
			copy[i] ^= (uint8_t)(1 << bit);
			drop = -1;
			T_ASSERT(pbsd_auth_open((struct span){ copy, len },
			    v.av_keys, v.av_nkeys, &msg, &drop) == -1);
			if (i >= 12) {
				/* ts, nonce, record and MAC: the MAC says no */
				T_EQ_INT(drop, PBSD_AUTH_BAD_MAC);
				bad_mac++;
			} else if (i >= 8) {
				T_EQ_INT(drop, PBSD_AUTH_UNKNOWN_KEY);
			} else {
				T_EQ_INT(drop, PBSD_AUTH_MALFORMED);
			}
		}
	}
	T_EQ_INT(bad_mac, (len - 12) * 8);
	/* The untouched envelope still verifies. */
	T_EQ_INT(verify(&v, buf_span(&env), NOW), PBSD_AUTH_OK);
	buf_release(&env);
	pbsd_nonce_free(&v.av_nonces);
}

static void
test_keys(void)
{
	struct pbsd_auth_key		a, b, forged;
	struct pbsd_auth_verifier	v;
	struct buf			env;

	key_fill(&a, 10, 32);
	key_fill(&b, 11, 32);
	T_ASSERT(a.ak_id != b.ak_id);
	/* Wrong key: b's id is unknown to a verifier holding only a. */
	verifier(&v, &a, NULL, 16);
	seal(&b, NOW, 4, REC_MIN, 0, &env);
	T_EQ_INT(verify(&v, buf_span(&env), NOW), PBSD_AUTH_UNKNOWN_KEY);
	buf_release(&env);
	/* Wrong key under the right id: the MAC fails. */
	forged = b;
	forged.ak_id = a.ak_id;
	seal(&forged, NOW, 5, REC_MIN, 0, &env);
	T_EQ_INT(verify(&v, buf_span(&env), NOW), PBSD_AUTH_BAD_MAC);
	buf_release(&env);
	pbsd_nonce_free(&v.av_nonces);
	/* Rotation: current b, previous a; both accepted, others not. */
	verifier(&v, &b, &a, 16);
	seal(&a, NOW, 6, REC_MIN, 0, &env);
	T_EQ_INT(verify(&v, buf_span(&env), NOW), PBSD_AUTH_OK);
	buf_release(&env);
	seal(&b, NOW, 7, REC_MIN, 0, &env);
	T_EQ_INT(verify(&v, buf_span(&env), NOW), PBSD_AUTH_OK);
	buf_release(&env);
	key_fill(&forged, 12, 64);
	seal(&forged, NOW, 8, REC_MIN, 0, &env);
	T_EQ_INT(verify(&v, buf_span(&env), NOW), PBSD_AUTH_UNKNOWN_KEY);
	buf_release(&env);
	pbsd_nonce_free(&v.av_nonces);
	/* No key: cannot seal. */
	memset(&forged, 0, sizeof(forged));
	buf_init(&env, PBSD_AUTH_MAX_LEN);
	{
		const char	*errstr;
		uint8_t		 nonce[PBSD_AUTH_NONCE_LEN] = { 0 };

		T_EQ_INT(pbsd_auth_seal(&forged, NOW, nonce,
		    REC_MIN, 0, &env, &errstr), -1);
	}
	buf_release(&env);
}

static void
test_key_limits(void)
{
	struct pbsd_auth_key	 k;
	uint8_t			 raw[PBSD_AUTH_KEY_MAX + 1];
	const char		*errstr;

	memset(raw, 0x5a, sizeof(raw));
	T_EQ_INT(pbsd_auth_key_set(&k, raw, PBSD_AUTH_KEY_MIN - 1, &errstr),
	    -1);
	T_EQ_INT(k.ak_len, 0);
	T_EQ_INT(pbsd_auth_key_set(&k, raw, PBSD_AUTH_KEY_MIN, &errstr), 0);
	T_EQ_INT(k.ak_len, PBSD_AUTH_KEY_MIN);
	T_EQ_INT(pbsd_auth_key_set(&k, raw, PBSD_AUTH_KEY_MAX, &errstr), 0);
	T_EQ_INT(pbsd_auth_key_set(&k, raw, PBSD_AUTH_KEY_MAX + 1, &errstr),
	    -1);
	pbsd_auth_key_clear(&k);
	T_EQ_INT(k.ak_len, 0);
}

static int
key_text(const char *text, struct pbsd_auth_key *k)
{
	const char	*errstr;

	return pbsd_auth_key_parse(span_from_str(text), k, &errstr);
}

static void
test_key_parse(void)
{
	struct pbsd_auth_key	k1, k2;
	char			hex[300];
	size_t			i;

	for (i = 0; i < 130; i++) {
		hex[i] = "0123456789abcdef"[i % 16];
	}
	hex[64] = '\0';
	T_EQ_INT(key_text(hex, &k1), 0);
	T_EQ_INT(k1.ak_len, 32);
	T_EQ_INT(k1.ak_bytes[0], 0x01);
	T_EQ_INT(k1.ak_bytes[31], 0xef);
	/* Upper case and a trailing newline give the same key. */
	for (i = 0; i < 64; i++) {
		if (hex[i] >= 'a') {
			hex[i] = (char)(hex[i] - 'a' + 'A');
		}
	}
	hex[64] = '\n';
	hex[65] = '\0';
	T_EQ_INT(key_text(hex, &k2), 0);
	T_EQ_INT(k2.ak_id, k1.ak_id);
	T_ASSERT(memcmp(k1.ak_bytes, k2.ak_bytes, 32) == 0);
	hex[64] = ' ';
	hex[65] = '\r';
	hex[66] = '\n';
	hex[67] = '\0';
	T_EQ_INT(key_text(hex, &k2), 0);
	hex[62] = '\0';				/* 31 bytes: too short */
	T_EQ_INT(key_text(hex, &k2), -1);
	hex[62] = '0';
	hex[63] = '\0';				/* odd */
	T_EQ_INT(key_text(hex, &k2), -1);
	for (i = 0; i < 130; i++) {
		hex[i] = "0123456789abcdef"[i % 16];
	}
	hex[128] = '\0';			/* 64 bytes: the maximum */
	T_EQ_INT(key_text(hex, &k2), 0);
	T_EQ_INT(k2.ak_len, 64);
	hex[128] = '0';
	hex[129] = '0';
	hex[130] = '\0';			/* 65 bytes */
	T_EQ_INT(key_text(hex, &k2), -1);
	hex[64] = 'x';				/* garbage after the key */
	hex[65] = '\0';
	T_EQ_INT(key_text(hex, &k2), -1);
	hex[64] = '\n';
	hex[65] = '0';				/* digits after a newline */
	hex[66] = '\0';
	T_EQ_INT(key_text(hex, &k2), -1);
	T_EQ_INT(key_text("", &k2), -1);
	T_EQ_INT(key_text("\n", &k2), -1);
}

static void
test_window(void)
{
	struct pbsd_auth_key		k;
	struct pbsd_auth_verifier	v;
	struct buf			env;
	static const struct {
		int64_t	off;
		int	want;
	} cases[] = {
		{ 0, PBSD_AUTH_OK },
		{ -WINDOW, PBSD_AUTH_OK },
		{ WINDOW, PBSD_AUTH_OK },
		{ -WINDOW - 1, PBSD_AUTH_STALE },
		{ WINDOW + 1, PBSD_AUTH_STALE },
		{ -100000, PBSD_AUTH_STALE },
		{ 100000, PBSD_AUTH_STALE },
	};
	size_t				i;

	key_fill(&k, 20, 32);
	verifier(&v, &k, NULL, 64);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		seal(&k, (uint64_t)(NOW + cases[i].off), 100 + (unsigned int)i,
		    REC_MIN, 0, &env);
		T_EQ_INT(verify(&v, buf_span(&env), NOW), cases[i].want);
		buf_release(&env);
	}
	/* Far future (2^64 - 1) and zero. */
	seal(&k, UINT64_MAX, 200, REC_MIN, 0, &env);
	T_EQ_INT(verify(&v, buf_span(&env), NOW), PBSD_AUTH_STALE);
	buf_release(&env);
	seal(&k, 0, 201, REC_MIN, 0, &env);
	T_EQ_INT(verify(&v, buf_span(&env), NOW), PBSD_AUTH_STALE);
	buf_release(&env);
	T_EQ_INT(pbsd_auth_fresh(0, 30, WINDOW), 1);	/* now < window */
	T_EQ_INT(pbsd_auth_fresh(91, 30, WINDOW), 0);
	T_EQ_INT(pbsd_auth_fresh(90, 30, WINDOW), 1);
	T_EQ_INT(pbsd_auth_fresh(5, -1, WINDOW), 0);
	pbsd_nonce_free(&v.av_nonces);
}

static void
test_cache_full(void)
{
	struct pbsd_auth_key		k;
	struct pbsd_auth_verifier	v;
	struct buf			env;
	unsigned int			i;

	key_fill(&k, 30, 32);
	verifier(&v, &k, NULL, PBSD_AUTH_NONCES_MIN);
	for (i = 0; i < PBSD_AUTH_NONCES_MIN; i++) {
		seal(&k, NOW, 300 + i, REC_MIN, 0, &env);
		T_EQ_INT(verify(&v, buf_span(&env), NOW), PBSD_AUTH_OK);
		buf_release(&env);
	}
	T_EQ_INT(v.av_nonces.nc_count, PBSD_AUTH_NONCES_MIN);
	/* Full of live nonces: refused, not forgotten. */
	seal(&k, NOW, 400, REC_MIN, 0, &env);
	T_EQ_INT(verify(&v, buf_span(&env), NOW), PBSD_AUTH_CACHE_FULL);
	T_EQ_INT(verify(&v, buf_span(&env), NOW + WINDOW),
	    PBSD_AUTH_CACHE_FULL);
	buf_release(&env);
	/* A replay of a remembered nonce is still a replay. */
	seal(&k, NOW, 300, REC_MIN, 0, &env);
	T_EQ_INT(verify(&v, buf_span(&env), NOW), PBSD_AUTH_REPLAY);
	buf_release(&env);
	/* Once the old ones expired they are purged and room is made. */
	seal(&k, NOW + WINDOW + 1, 401, REC_MIN, 0, &env);
	T_EQ_INT(verify(&v, buf_span(&env), NOW + WINDOW + 1), PBSD_AUTH_OK);
	buf_release(&env);
	T_EQ_INT(v.av_nonces.nc_count, 1);
	pbsd_nonce_free(&v.av_nonces);
	T_EQ_INT(pbsd_nonce_init(&v.av_nonces, PBSD_AUTH_NONCES_MIN - 1, 1),
	    -1);
	T_EQ_INT(pbsd_nonce_init(&v.av_nonces, PBSD_AUTH_NONCES_MAX + 1, 1),
	    -1);
}

/* Many nonces, colliding buckets included: each is found again. */
static void
test_nonce_cache_model(void)
{
	struct pbsd_nonce_cache	c;
	uint8_t			nonce[PBSD_AUTH_NONCE_LEN];
	unsigned int		i, n = 5000;

	T_EQ_INT(pbsd_nonce_init(&c, n, 7), 0);
	for (i = 0; i < n; i++) {
		nonce_fill(nonce, i);
		T_EQ_INT(pbsd_nonce_add(&c, nonce, NOW + (int64_t)(i % 50),
		    NOW), 1);
	}
	for (i = 0; i < n; i++) {
		nonce_fill(nonce, i);
		T_EQ_INT(pbsd_nonce_add(&c, nonce, NOW + 100, NOW), 0);
	}
	nonce_fill(nonce, n);
	T_EQ_INT(pbsd_nonce_add(&c, nonce, NOW + 100, NOW), -1);
	/* At NOW + 25 the nonces with i % 50 < 25 have expired: new again. */
	for (i = 0; i < n; i++) {
		nonce_fill(nonce, i);
		T_EQ_INT(pbsd_nonce_add(&c, nonce, NOW + 100, NOW + 25),
		    i % 50 < 25 ? 1 : 0);
	}
	T_EQ_INT(c.nc_count, n);
	nonce_fill(nonce, n);
	T_EQ_INT(pbsd_nonce_add(&c, nonce, NOW + 100, NOW + 25), -1);
	/* At NOW + 50 the other half expired: purged, room for one more. */
	T_EQ_INT(pbsd_nonce_add(&c, nonce, NOW + 100, NOW + 50), 1);
	T_EQ_INT(c.nc_count, n / 2 + 1);
	T_EQ_INT(pbsd_nonce_add(&c, nonce, NOW + 100, NOW + 50), 0);
	pbsd_nonce_free(&c);
}

/* Every truncation and one byte of trailing garbage are malformed. */
static void
test_short_and_long(void)
{
	struct pbsd_auth_key		k;
	struct pbsd_auth_verifier	v;
	struct pbsd_auth_msg		msg;
	struct buf			env;
	uint8_t				copy[PBSD_AUTH_MAX_LEN + 1];
	size_t				len, i;
	int				drop;

	key_fill(&k, 40, 32);
	verifier(&v, &k, NULL, 16);
	seal(&k, NOW, 500, REC_MIN, 0, &env);
	len = buf_len(&env);
	memcpy(copy, buf_ptr(&env), len);
	for (i = 0; i < len; i++) {
		T_EQ_INT(pbsd_auth_open((struct span){ copy, i }, v.av_keys,
		    v.av_nkeys, &msg, &drop), -1);
		T_EQ_INT(drop, PBSD_AUTH_MALFORMED);
	}
	copy[len] = 0;
	T_EQ_INT(pbsd_auth_open((struct span){ copy, len + 1 }, v.av_keys,
	    v.av_nkeys, &msg, &drop), -1);
	T_EQ_INT(drop, PBSD_AUTH_MALFORMED);
	T_EQ_INT(pbsd_auth_open((struct span){ copy, len }, v.av_keys,
	    v.av_nkeys, &msg, &drop), 0);
	buf_release(&env);
	pbsd_nonce_free(&v.av_nonces);
}

/* The largest record (IPv6, 255-byte user) and one past each limit. */
static void
test_record_limits(void)
{
	struct pbsd_auth_key		 k;
	struct pbsd_auth_verifier	 v;
	struct pbsd_record		 rec;
	struct buf			 r, env;
	uint8_t				 nonce[PBSD_AUTH_NONCE_LEN] = { 9 };
	uint8_t				 big[PBSD_PROTO_MAX_LEN + 1];
	const char			*errstr;

	memset(&rec, 0, sizeof(rec));
	rec.pr_event = PBSD_EV_LOGIN_OK;
	rec.pr_family = PBSD_FAM_INET6;
	rec.pr_proto = PBSD_PROTO_IMAP;
	rec.pr_addr[0] = 0x20;
	memset(rec.pr_user, 'u', PBSD_PROTO_MAX_USER);
	rec.pr_userlen = PBSD_PROTO_MAX_USER;
	buf_init(&r, PBSD_PROTO_MAX_LEN);
	T_ASSERT(pbsd_event_encode(&rec, &r, &errstr) == 0);
	T_EQ_INT(buf_len(&r), PBSD_PROTO_MAX_LEN);
	key_fill(&k, 50, 64);
	verifier(&v, &k, NULL, 16);
	seal(&k, NOW, 600, buf_span(&r), 0, &env);
	T_EQ_INT(buf_len(&env), PBSD_AUTH_MAX_LEN);
	T_EQ_INT(verify(&v, buf_span(&env), NOW), PBSD_AUTH_OK);
	buf_release(&env);
	/* Record lengths one outside the range cannot be sealed. */
	memset(big, 'x', sizeof(big));
	buf_init(&env, 4 * PBSD_AUTH_MAX_LEN);
	T_EQ_INT(pbsd_auth_seal(&k, NOW, nonce, (struct span){ big,
	    PBSD_PROTO_MAX_LEN + 1 }, 0, &env, &errstr), -1);
	T_EQ_INT(pbsd_auth_seal(&k, NOW, nonce, (struct span){ big,
	    PBSD_PROTO_MIN_LEN - 1 }, 0, &env, &errstr), -1);
	T_EQ_INT(buf_len(&env), 0);
	/* Output buffer one byte too small. */
	buf_release(&env);
	buf_init(&env, PBSD_AUTH_MIN_LEN - 1);
	T_EQ_INT(pbsd_auth_seal(&k, NOW, nonce, REC_MIN, 0, &env,
	    &errstr), -1);
	buf_release(&env);
	buf_init(&env, PBSD_AUTH_MIN_LEN);
	T_EQ_INT(pbsd_auth_seal(&k, NOW, nonce, REC_MIN, 0, &env,
	    &errstr), 0);
	buf_release(&env);
	buf_release(&r);
	pbsd_nonce_free(&v.av_nonces);
}

/* A record that is authentic but not a valid record: MAC first. */
static void
test_mac_before_record(void)
{
	struct pbsd_auth_key		 k;
	struct pbsd_auth_verifier	 v;
	struct pbsd_auth_msg		 msg;
	struct pbsd_record		 rec;
	struct buf			 env;
	uint8_t				 junk[PBSD_PROTO_MIN_LEN];
	const char			*errstr;
	int				 drop;

	memset(junk, 0xff, sizeof(junk));
	key_fill(&k, 60, 32);
	verifier(&v, &k, NULL, 16);
	seal(&k, NOW, 700, (struct span){ junk, sizeof(junk) }, 0, &env);
	T_EQ_INT(pbsd_auth_verify(&v, buf_span(&env), NOW, &msg, &drop), 0);
	T_EQ_INT(pbsd_event_decode(msg.am_record.p, msg.am_record.len, &rec,
	    &errstr), -1);
	buf_release(&env);
	pbsd_nonce_free(&v.av_nonces);
}

/* Feeds a stream of framed envelopes in pieces of step bytes. */
static size_t
frames_feed(struct pbsd_auth_verifier *v, struct span stream, size_t cut,
    size_t step)
{
	struct buf	in;
	struct span	frame;
	size_t		off = 0, n, used, got = 0;
	int		r;

	buf_init(&in, PBSD_AUTH_FRAME_HDR + PBSD_AUTH_MAX_LEN);
	while (off < stream.len) {
		n = off < cut && cut - off < step ? cut - off : step;
		if (n > stream.len - off) {
			n = stream.len - off;
		}
		T_EQ_INT(buf_add_span(&in, span_sub(stream, off, n)), 0);
		off += n;
		while ((r = pbsd_auth_frame(buf_span(&in), &frame,
		    &used)) == 1) {
			T_EQ_INT(verify(v, frame, NOW), PBSD_AUTH_OK);
			buf_consume(&in, used);
			got++;
		}
		T_EQ_INT(r, 0);
	}
	T_EQ_INT(buf_len(&in), 0);
	buf_release(&in);
	return got;
}

static void
test_frames_split(void)
{
	struct pbsd_auth_key		k;
	struct pbsd_auth_verifier	v;
	struct buf			stream, one;
	size_t				cut;
	unsigned int			nonce = 1000;
	int				i;

	key_fill(&k, 70, 32);
	verifier(&v, &k, NULL, 4096);
	/* Whole, one byte at a time, and split at every position. */
	for (cut = 0; cut <= 3 * (PBSD_AUTH_FRAME_HDR + PBSD_AUTH_MIN_LEN);
	    cut++) {
		buf_init(&stream, 4 * PBSD_AUTH_MAX_LEN);
		for (i = 0; i < 3; i++) {
			seal(&k, NOW, nonce++, REC_MIN, 1, &one);
			T_EQ_INT(buf_add_span(&stream, buf_span(&one)), 0);
			buf_release(&one);
		}
		T_EQ_INT(frames_feed(&v, buf_span(&stream), cut,
		    cut == 0 ? 1 : buf_len(&stream)), 3);
		buf_release(&stream);
	}
	pbsd_nonce_free(&v.av_nonces);
}

static void
test_frame_limits(void)
{
	uint8_t		b[PBSD_AUTH_FRAME_HDR + PBSD_AUTH_MAX_LEN + 1];
	struct span	frame;
	size_t		used;

	memset(b, 0, sizeof(b));
	T_EQ_INT(pbsd_auth_frame((struct span){ b, 0 }, &frame, &used), 0);
	T_EQ_INT(pbsd_auth_frame((struct span){ b, 1 }, &frame, &used), 0);
	T_EQ_INT(pbsd_auth_frame((struct span){ b, 2 }, &frame, &used), -1);
	b[0] = 0;
	b[1] = PBSD_AUTH_MIN_LEN - 1;
	T_EQ_INT(pbsd_auth_frame((struct span){ b, sizeof(b) }, &frame,
	    &used), -1);
	b[1] = PBSD_AUTH_MIN_LEN;
	T_EQ_INT(pbsd_auth_frame((struct span){ b, 2 + PBSD_AUTH_MIN_LEN - 1 },
	    &frame, &used), 0);
	T_EQ_INT(pbsd_auth_frame((struct span){ b, 2 + PBSD_AUTH_MIN_LEN },
	    &frame, &used), 1);
	T_EQ_INT(used, 2 + PBSD_AUTH_MIN_LEN);
	T_EQ_INT(frame.len, PBSD_AUTH_MIN_LEN);
	b[0] = PBSD_AUTH_MAX_LEN >> 8;
	b[1] = PBSD_AUTH_MAX_LEN & 0xff;
	T_EQ_INT(pbsd_auth_frame((struct span){ b, sizeof(b) - 1 }, &frame,
	    &used), 1);
	T_EQ_INT(frame.len, PBSD_AUTH_MAX_LEN);
	b[1] = (PBSD_AUTH_MAX_LEN + 1) & 0xff;
	T_EQ_INT(pbsd_auth_frame((struct span){ b, sizeof(b) }, &frame,
	    &used), -1);
	b[0] = 0xff;
	b[1] = 0xff;
	T_EQ_INT(pbsd_auth_frame((struct span){ b, 2 }, &frame, &used), -1);
}

/*
 * A full output queue (F3): sealing fails and leaves the queue as it was,
 * no stray length prefix; a queue with exactly the room for one frame takes
 * it, one byte less does not.
 */
static void
test_seal_queue_full(void)
{
	struct pbsd_auth_key	 k;
	struct buf		 out, one;
	uint8_t			 nonce[PBSD_AUTH_NONCE_LEN], fill[900];
	uint8_t			 big[200];
	const char		*errstr;
	size_t			 flen;
	int			 framed;

	/* seal() only bounds the record's length; the bytes do not matter. */
	memset(big, 0x42, sizeof(big));
	key_fill(&k, 90, 32);
	nonce_fill(nonce, 500);
	memset(fill, 'q', sizeof(fill));
	for (framed = 0; framed <= 1; framed++) {
		buf_init(&out, 1000);
		T_EQ_INT(buf_add(&out, fill, 900), 0);
		errstr = NULL;
		T_EQ_INT(pbsd_auth_seal(&k, NOW, nonce, (struct span){ big,
		    sizeof(big) }, framed, &out, &errstr), -1);
		T_ASSERT(errstr != NULL);
		T_EQ_INT(buf_len(&out), 900);
		buf_release(&out);
	}
	seal(&k, NOW, 501, REC_MIN, 1, &one);
	flen = buf_len(&one);
	buf_release(&one);
	nonce_fill(nonce, 502);
	buf_init(&out, 900 + flen);
	T_EQ_INT(buf_add(&out, fill, 900), 0);
	T_EQ_INT(pbsd_auth_seal(&k, NOW, nonce, REC_MIN, 1, &out, &errstr), 0);
	T_EQ_INT(buf_len(&out), 900 + flen);
	buf_release(&out);
	buf_init(&out, 900 + flen - 1);
	T_EQ_INT(buf_add(&out, fill, 900), 0);
	T_EQ_INT(pbsd_auth_seal(&k, NOW, nonce, REC_MIN, 1, &out, &errstr),
	    -1);
	T_EQ_INT(buf_len(&out), 900);
	buf_release(&out);
}

static void
test_drop_names(void)
{
	T_EQ_STR(pbsd_auth_drop_name(PBSD_AUTH_BAD_MAC), "bad_mac");
	T_EQ_STR(pbsd_auth_drop_name(PBSD_AUTH_UNKNOWN_KEY), "unknown_key");
	T_ASSERT(pbsd_auth_drop_name(PBSD_AUTH_NDROPS) == NULL);
	T_ASSERT(pbsd_auth_drop_name(-1) == NULL);
}

static const struct harness_case cases[] = {
	{ "known answer (Python hmac)", test_known_answer },
	{ "good envelope, replay", test_good_and_replay },
	{ "every bit flip rejected", test_bit_flips },
	{ "wrong key, key id, rotation", test_keys },
	{ "key length limits", test_key_limits },
	{ "key file text", test_key_parse },
	{ "window edges", test_window },
	{ "nonce cache full", test_cache_full },
	{ "nonce cache model", test_nonce_cache_model },
	{ "each input one byte short/long", test_short_and_long },
	{ "record limits", test_record_limits },
	{ "MAC before record", test_mac_before_record },
	{ "TCP frames split everywhere", test_frames_split },
	{ "TCP frame length limits", test_frame_limits },
	{ "drop names", test_drop_names },
	{ "seal into a full queue", test_seal_queue_full },
};

HARNESS_MAIN("test_pbsd_auth", cases)
