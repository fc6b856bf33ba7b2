/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Fuzz target: the pbsd.conf parser (pbsd_conf_parse).  Runs in the
 * fuzzer/replayer only; resolves no names.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pbsd_conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pbsd_conf	 c;
	const char		*errstr;
	size_t			 line, i;

	pbsd_conf_defaults(&c);
	if (pbsd_conf_parse(&c, data, size, &errstr, &line) == 0) {
		if (c.pc_noutputs > PBSD_CONF_MAX_OUTPUTS ||
		    c.pc_nallow_uid > PBSD_CONF_MAX_IDS ||
		    c.pc_nallow_gid > PBSD_CONF_MAX_IDS) {
			abort();
		}
		for (i = 0; i < c.pc_noutputs; i++) {
			if (c.pc_outputs[i].po_path[0] != '/') {
				abort();
			}
		}
		(void)pbsd_conf_check(&c, &errstr);
	} else if (errstr == NULL || line == 0) {
		abort();
	}
	return 0;
}
