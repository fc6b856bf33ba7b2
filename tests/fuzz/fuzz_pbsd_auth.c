/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Fuzz target: the remote-gateway envelope (pbsd_auth_open/verify) and its
 * TCP framing (pbsd_auth_frame).  The input is read as a TCP stream of
 * frames and also as one UDP datagram, against a fixed key (bytes 0..31,
 * the key the seed corpus was made with).  An envelope that opens must
 * re-seal to exactly the same bytes, and its record must lie inside the
 * input.  Runs in the fuzzer/replayer only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pbsd_auth.h"
#include "pbsd_proto.h"

#define FUZZ_NOW	1800000000LL

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_key(struct pbsd_auth_key *k)
{
	uint8_t		 raw[32];
	const char	*errstr;
	size_t		 i;

	for (i = 0; i < sizeof(raw); i++) {
		raw[i] = (uint8_t)i;
	}
	if (pbsd_auth_key_set(k, raw, sizeof(raw), &errstr) == -1) {
		abort();
	}
}

static void
fuzz_one(struct pbsd_auth_verifier *v, struct span env)
{
	struct pbsd_auth_msg	 msg;
	struct pbsd_record	 rec;
	struct buf		 out;
	const char		*errstr;
	int			 drop;

	if (pbsd_auth_open(env, v->av_keys, v->av_nkeys, &msg, &drop) == -1) {
		if (drop <= PBSD_AUTH_OK || drop >= PBSD_AUTH_NDROPS) {
			abort();
		}
		return;
	}
	if (msg.am_record.len < PBSD_PROTO_MIN_LEN ||
	    msg.am_record.len > PBSD_PROTO_MAX_LEN ||
	    msg.am_record.len + PBSD_AUTH_HDR + PBSD_AUTH_MAC_LEN != env.len) {
		abort();
	}
	buf_init(&out, PBSD_AUTH_MAX_LEN);
	if (pbsd_auth_seal(&v->av_keys[0], msg.am_ts, msg.am_nonce,
	    msg.am_record, 0, &out, &errstr) == -1 ||
	    buf_len(&out) != env.len ||
	    memcmp(buf_ptr(&out), env.p, env.len) != 0) {
		abort();
	}
	buf_release(&out);
	if (pbsd_auth_verify(v, env, FUZZ_NOW, &msg, &drop) == 0) {
		(void)pbsd_event_decode(msg.am_record.p, msg.am_record.len,
		    &rec, &errstr);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pbsd_auth_verifier	v;
	struct span			in = { data, size }, frame;
	size_t				used, off = 0;
	int				r;

	memset(&v, 0, sizeof(v));
	fuzz_key(&v.av_keys[0]);
	v.av_nkeys = 1;
	v.av_window = 60;
	if (pbsd_nonce_init(&v.av_nonces, PBSD_AUTH_NONCES_MIN, 1) == -1) {
		abort();
	}
	fuzz_one(&v, in);
	while (off < size) {
		r = pbsd_auth_frame(span_sub(in, off, size - off), &frame,
		    &used);
		if (r != 1) {
			break;
		}
		if (used > size - off || frame.len + PBSD_AUTH_FRAME_HDR !=
		    used) {
			abort();
		}
		fuzz_one(&v, frame);
		off += used;
	}
	pbsd_nonce_free(&v.av_nonces);
	return 0;
}
