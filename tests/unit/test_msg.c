/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests for lib/msg.c: typed encoding, strict decoding, fd passing
 * over a real SOCK_SEQPACKET socketpair.
 */
#include <sys/socket.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"
#include "msg.h"

static struct msg_in	in;

static void
roundtrip(const struct msg_out *m, struct msg_in *r)
{
	uint8_t	raw[8 + MSG_MAX_PAYLOAD];

	raw[0] = MSG_VERSION >> 8;
	raw[1] = MSG_VERSION & 0xff;
	raw[2] = (uint8_t)(m->type >> 8);
	raw[3] = (uint8_t)m->type;
	raw[4] = (uint8_t)(m->len >> 24);
	raw[5] = (uint8_t)(m->len >> 16);
	raw[6] = (uint8_t)(m->len >> 8);
	raw[7] = (uint8_t)m->len;
	memcpy(raw + 8, m->data, m->len);
	T_EQ_INT(msg_parse(r, raw, 8 + m->len), 0);
}

static void
test_codec(void)
{
	struct msg_out	m;
	char		s[16];

	msg_init(&m, MSG_LOOKUP);
	msg_add_u64(&m, 0x0102030405060708ULL);
	msg_add_u8(&m, 7);
	msg_add_str(&m, "bob@example.org");
	msg_add_u16(&m, 993);
	msg_add_u32(&m, 123456789);
	T_EQ_INT(m.err, 0);
	roundtrip(&m, &in);
	T_EQ_INT(in.type, MSG_LOOKUP);
	T_ASSERT(msg_get_u64(&in) == 0x0102030405060708ULL);
	T_EQ_INT(msg_get_u8(&in), 7);
	msg_get_str(&in, s, sizeof(s));
	T_EQ_STR(s, "bob@example.org");
	T_EQ_INT(msg_get_u16(&in), 993);
	T_EQ_INT(msg_get_u32(&in), 123456789);
	T_EQ_INT(msg_end(&in), 0);
}

static void
test_strict(void)
{
	struct msg_out	m;
	char		s[4];

	/* Trailing bytes make a message invalid. */
	msg_init(&m, MSG_AUTH_OK);
	msg_add_u8(&m, 1);
	msg_add_u8(&m, 2);
	roundtrip(&m, &in);
	(void)msg_get_u8(&in);
	T_EQ_INT(msg_end(&in), -1);
	/* Reading past the end is an error, not a crash. */
	roundtrip(&m, &in);
	(void)msg_get_u64(&in);
	T_EQ_INT(msg_end(&in), -1);
	/* A string that does not fit (3 chars + NUL in 4 is at the limit). */
	msg_init(&m, MSG_AUTH_OK);
	msg_add_str(&m, "abc");
	roundtrip(&m, &in);
	msg_get_str(&in, s, sizeof(s));
	T_EQ_INT(msg_end(&in), 0);
	msg_init(&m, MSG_AUTH_OK);
	msg_add_str(&m, "abcd");
	roundtrip(&m, &in);
	msg_get_str(&in, s, sizeof(s));
	T_EQ_INT(msg_end(&in), -1);
	/* NUL inside a string (threat row 36: no field injection). */
	msg_init(&m, MSG_AUTH_OK);
	msg_add_u16(&m, 3);
	msg_add_u8(&m, 'a');
	msg_add_u8(&m, 0);
	msg_add_u8(&m, 'b');
	roundtrip(&m, &in);
	msg_get_str(&in, s, sizeof(s));
	T_EQ_INT(msg_end(&in), -1);
}

static void
test_header(void)
{
	uint8_t	raw[16] = { 0, MSG_VERSION, 0, MSG_DRAIN, 0, 0, 0, 0 };

	T_EQ_INT(msg_parse(&in, raw, 8), 0);
	raw[1] = MSG_VERSION + 1;			/* wrong version */
	T_EQ_INT(msg_parse(&in, raw, 8), -1);
	raw[1] = MSG_VERSION;
	raw[3] = MSG_TYPE_MAX;				/* unknown type */
	T_EQ_INT(msg_parse(&in, raw, 8), -1);
	raw[3] = MSG_NONE;
	T_EQ_INT(msg_parse(&in, raw, 8), -1);
	raw[3] = MSG_DRAIN;
	raw[7] = 1;					/* length mismatch */
	T_EQ_INT(msg_parse(&in, raw, 8), -1);
	T_EQ_INT(msg_parse(&in, raw, 9), 0);
	T_EQ_INT(msg_parse(&in, raw, 7), -1);		/* short */
}

static void
test_overflow(void)
{
	struct msg_out	 m;
	char		*big = malloc(MSG_MAX_PAYLOAD);

	memset(big, 'x', MSG_MAX_PAYLOAD - 1);
	big[MSG_MAX_PAYLOAD - 1] = '\0';
	msg_init(&m, MSG_LOOKUP);
	msg_add_str(&m, big);		/* 2 + 8191 > 8192 */
	T_EQ_INT(m.err, 1);
	big[MSG_MAX_PAYLOAD - 2] = '\0';
	msg_init(&m, MSG_LOOKUP);
	msg_add_str(&m, big);		/* 2 + 8190 = 8192: at the limit */
	T_EQ_INT(m.err, 0);
	free(big);
}

static void
test_chan_fd(void)
{
	struct chan	a, b;
	struct msg_out	m;
	int		sp[2], p[2];
	char		c = 0;

	T_EQ_INT(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	T_EQ_INT(pipe(p), 0);
	chan_init(&a, sp[0]);
	chan_init(&b, sp[1]);
	msg_init(&m, MSG_BACKEND);
	msg_add_u64(&m, 42);
	T_EQ_INT(chan_send(&a, &m, p[1]), 0);	/* the channel owns p[1] */
	T_EQ_INT(chan_recv(&b, &in), 1);
	T_EQ_INT(in.type, MSG_BACKEND);
	T_ASSERT(in.fd != -1);
	T_ASSERT(msg_get_u64(&in) == 42);
	T_EQ_INT(write(in.fd, "z", 1), 1);
	T_EQ_INT(read(p[0], &c, 1), 1);
	T_EQ_INT(c, 'z');
	close(in.fd);
	T_EQ_INT(chan_recv(&b, &in), 0);	/* nothing more */
	chan_close(&a);
	T_EQ_INT(chan_recv(&b, &in), -1);	/* peer gone */
	chan_close(&b);
	close(p[0]);
}

static const struct harness_case cases[] = {
	{ "codec", test_codec },
	{ "strict", test_strict },
	{ "header", test_header },
	{ "overflow", test_overflow },
	{ "chan_fd", test_chan_fd },
};

HARNESS_MAIN("msg", cases)
