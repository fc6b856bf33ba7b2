/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Fuzz target: IPC decoding (lib/msg.c).  The input is a raw datagram;
 * it is parsed, then decoded as each message layout the parent accepts
 * from a worker (the untrusted direction).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct msg_in	m;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	s[256];

	if (size > 8 + MSG_MAX_PAYLOAD || msg_parse(&m, data, size) == -1) {
		return 0;
	}
	/* MSG_LOOKUP layout. */
	(void)msg_get_u64(&m);
	(void)msg_get_u8(&m);
	msg_get_str(&m, s, sizeof(s));
	if (m.err == 0 && memchr(s, '\0', sizeof(s)) == NULL) {
		__builtin_trap();
	}
	msg_get_str(&m, s, sizeof(s));
	(void)msg_get_u16(&m);
	msg_get_str(&m, s, sizeof(s));
	(void)msg_get_u16(&m);
	(void)msg_end(&m);
	/* MSG_AUTH_OK layout, from the start again. */
	(void)msg_parse(&m, data, size);
	(void)msg_get_u64(&m);
	(void)msg_get_u8(&m);
	msg_get_str(&m, s, sizeof(s));
	msg_get_str(&m, s, sizeof(s));
	(void)msg_get_u16(&m);
	if (msg_end(&m) == 0 && m.off != m.len) {
		__builtin_trap();
	}
	return 0;
}
