/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Fuzz target: the pbsctl request parser (pbsd_ctl_parse), both IPv6
 * granularities.  Runs in the fuzzer/replayer only.
 */
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "pbsd_ctl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pbsd_ctl_req	 req;
	struct span		 s = { data, size };
	const char		*errstr;
	char			 key[PBSD_KEY_MAX];

	if (pbsd_ctl_parse(s, 128, &req, &errstr) == 0 &&
	    (req.cr_cmd == PBSD_CTL_ADD || req.cr_cmd == PBSD_CTL_DEL) &&
	    pbsd_key_format(&req.cr_addr, PBSD_KEY_STATE, key,
	    sizeof(key)) == -1) {
		abort();
	}
	(void)pbsd_ctl_parse(s, 64, &req, &errstr);
	return 0;
}
