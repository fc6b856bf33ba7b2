/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Fuzz target: the login-phase line parsers (gateway/resp.c).  Each input
 * line (split at LF) goes through every parser.
 */
#include <stddef.h>
#include <stdint.h>

#include "resp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span		 all = { data, size }, line;
	struct pop3_cmd		 c;
	struct imap_resp	 r;
	struct span		 t;
	size_t			 off = 0;
	long			 lf;

	while (off <= size) {
		lf = span_find(all, off, '\n');
		line = span_sub(all, off, (lf < 0 ? size : (size_t)lf) - off);
		if (pop3_cmd_parse(line, &c) == 0 && c.verb.len == 0) {
			__builtin_trap();
		}
		if (imap_resp_parse(line, &r) == 0) {
			(void)imap_caps_has(r.text, "LITERAL+");
			if (r.kind == IMAP_RESP_TAGGED && r.tag.len == 0) {
				__builtin_trap();
			}
		}
		(void)pop3_resp_parse(line, &t);
		(void)pop3_capa_sasl_has(line, "PLAIN");
		if (lf < 0) {
			break;
		}
		off = (size_t)lf + 1;
	}
	return 0;
}
