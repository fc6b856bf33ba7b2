/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Fuzz target: pbsd_event_decode() (threat rows 36, 43).  A record that
 * decodes must re-encode to exactly the same bytes, and its user must hold
 * no control character.  Runs in the fuzzer/replayer only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pbsd_key.h"
#include "pbsd_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pbsd_record	 rec;
	struct pbsd_addr	 a;
	struct buf		 out;
	const char		*errstr;
	char			 key[PBSD_KEY_MAX];
	size_t			 i;

	if (pbsd_event_decode(data, size, &rec, &errstr) == -1) {
		return 0;
	}
	if (rec.pr_event < PBSD_EV_LOGIN_OK || rec.pr_event > PBSD_EV_LOGOUT) {
		abort();
	}
	for (i = 0; i < rec.pr_userlen; i++) {
		if ((uint8_t)rec.pr_user[i] < 0x20 || rec.pr_user[i] == 0x7f) {
			abort();
		}
	}
	buf_init(&out, PBSD_PROTO_MAX_LEN);
	if (pbsd_event_encode(&rec, &out, &errstr) == -1 ||
	    buf_len(&out) != size || memcmp(buf_ptr(&out), data, size) != 0) {
		abort();
	}
	buf_release(&out);
	if (pbsd_addr_make(rec.pr_family, rec.pr_addr, 64, &a) == -1 ||
	    pbsd_key_format(&a, PBSD_KEY_POSTFIX, key, sizeof(key)) == -1 ||
	    pbsd_key_format(&a, PBSD_KEY_SENDMAIL, key, sizeof(key)) == -1) {
		abort();
	}
	return 0;
}
