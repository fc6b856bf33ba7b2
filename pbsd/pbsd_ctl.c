/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_ctl: parser of control requests.  Runs in pbsd as its unprivileged
 * user; requests come only from root or pbsd's own uid (SO_PEERCRED), but
 * are parsed as untrusted text all the same.
 */
#include <string.h>

#include "buf.h"
#include "pbsd_ctl.h"

#define PBSD_CTL_MAX_WORDS	3
#define PBSD_CTL_MAX_SECONDS	(7U * 86400)

/* Splits at single spaces; empty words and too many words fail. */
static int
pbsd_ctl_split(struct span line, struct span *w, size_t *nw_r)
{
	size_t	off = 0, n = 0;
	long	sp;

	while (off <= line.len) {
		if (n == PBSD_CTL_MAX_WORDS) {
			return -1;
		}
		sp = span_find(line, off, ' ');
		w[n] = span_sub(line, off,
		    (sp < 0 ? line.len : (size_t)sp) - off);
		if (w[n].len == 0) {
			return -1;
		}
		n++;
		if (sp < 0) {
			break;
		}
		off = (size_t)sp + 1;
	}
	*nw_r = n;
	return 0;
}

/* UNTRUSTED: bounded by PBSD_CTL_MAX_LINE. */
int
pbsd_ctl_parse(struct span line, int v6plen, struct pbsd_ctl_req *req_r,
    const char **errstr_r)
{
	struct pbsd_ctl_req	req;
	struct span		w[PBSD_CTL_MAX_WORDS];
	size_t			nw = 0;
	uint64_t		secs;

	memset(&req, 0, sizeof(req));
	if (line.len > PBSD_CTL_MAX_LINE || span_has_ctl(line) ||
	    pbsd_ctl_split(line, w, &nw) == -1) {
		*errstr_r = "malformed request";
		return -1;
	}
	if (span_eq(w[0], "list") && nw == 1) {
		req.cr_cmd = PBSD_CTL_LIST;
	} else if (span_eq(w[0], "stats") && nw == 1) {
		req.cr_cmd = PBSD_CTL_STATS;
	} else if (span_eq(w[0], "flush") && nw == 1) {
		req.cr_cmd = PBSD_CTL_FLUSH;
	} else if (span_eq(w[0], "del") && nw == 2) {
		req.cr_cmd = PBSD_CTL_DEL;
	} else if (span_eq(w[0], "add") && (nw == 2 || nw == 3)) {
		req.cr_cmd = PBSD_CTL_ADD;
		if (nw == 3) {
			if (span_parse_uint(w[2], 1, PBSD_CTL_MAX_SECONDS,
			    &secs) == -1) {
				*errstr_r = "bad number of seconds";
				return -1;
			}
			req.cr_seconds = (unsigned int)secs;
		}
	} else {
		*errstr_r = "unknown command or wrong number of arguments";
		return -1;
	}
	if ((req.cr_cmd == PBSD_CTL_ADD || req.cr_cmd == PBSD_CTL_DEL) &&
	    pbsd_addr_parse(w[1], v6plen, &req.cr_addr) == -1) {
		*errstr_r = "bad address";
		return -1;
	}
	*req_r = req;
	return 0;
}
