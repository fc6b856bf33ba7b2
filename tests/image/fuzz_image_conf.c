/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Fuzz target for image/image_conf.c (appliance.conf, parsed by the
 * image's init).  Runs in the fuzzer or the corpus replayer as the
 * invoking user.  The first byte picks a chunk size, so splits are fuzzed
 * too; the rest is the file.
 */
#include <stddef.h>
#include <stdint.h>

#include "image_conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_conf_parser p;
	struct image_conf c;
	const char *err = NULL;
	size_t chunk, off = 1, n;
	int rv = 0;

	if (size == 0) {
		return 0;
	}
	chunk = (size_t)data[0] + 1;
	image_conf_init(&p, &c);
	while (rv == 0 && off < size) {
		n = size - off < chunk ? size - off : chunk;
		rv = image_conf_feed(&p, data + off, n, &err);
		off += n;
	}
	if (rv == 0) {
		rv = image_conf_end(&p, &err);
	}
	if (rv == 0 && (c.ic_nin > IMAGE_CONF_MAX_IN ||
	    c.ic_nout > IMAGE_CONF_MAX_OUT || c.ic_prefix < 1 ||
	    c.ic_prefix > 32)) {
		__builtin_trap();
	}
	image_conf_release(&p);
	return 0;
}
