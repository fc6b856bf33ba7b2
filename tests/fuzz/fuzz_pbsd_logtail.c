/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Fuzz target: pbsd's log-tail mode (threat row 43).  The first byte picks
 * the format (even: Dovecot, odd: Perdition); the rest is one log file's
 * bytes, fed to the follower's line assembly in pieces whose sizes come
 * from the data, and also parsed as one line.  Every login must carry a
 * valid family, a login-ok event and a printable user; the line buffer
 * never exceeds its limit; no login is handed on once the file showed a
 * Perdition line without a syslog host.  Runs in the fuzzer/replayer only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pbsd_key.h"
#include "pbsd_logtail.h"
#include "pbsd_logtail_parse.h"
#include "pbsd_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_check(const struct pbsd_record *rec)
{
	struct pbsd_addr	a;
	size_t			i;

	if (rec->pr_event != PBSD_EV_LOGIN_OK ||
	    (rec->pr_family != PBSD_FAM_INET &&
	    rec->pr_family != PBSD_FAM_INET6) ||
	    rec->pr_userlen > PBSD_PROTO_MAX_USER ||
	    strlen(rec->pr_user) != rec->pr_userlen) {
		abort();
	}
	for (i = 0; i < rec->pr_userlen; i++) {
		if ((uint8_t)rec->pr_user[i] < 0x20 ||
		    rec->pr_user[i] == 0x7f || rec->pr_user[i] == '"') {
			abort();
		}
	}
	/* IPv4-mapped addresses are always folded. */
	if (pbsd_addr_make(rec->pr_family, rec->pr_addr, 128, &a) == -1 ||
	    a.pa_family != rec->pr_family) {
		abort();
	}
}

struct fuzz_state {
	const struct pbsd_logtail	*lt;
	size_t				 logins;
};

static void
fuzz_cb(void *arg, const struct pbsd_record *rec)
{
	struct fuzz_state	*st = arg;

	st->logins++;
	if (st->lt->lt_unsafe) {
		abort();
	}
	fuzz_check(rec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pbsd_logtail	 lt;
	struct pbsd_record	 rec;
	struct fuzz_state	 st;
	struct span		 in, piece;
	const char		*errstr;
	size_t			 off = 0, n;
	int			 fmt, r;

	if (size < 1) {
		return 0;
	}
	fmt = data[0] & 1 ? PBSD_LOGTAIL_PERDITION : PBSD_LOGTAIL_DOVECOT;
	in = (struct span){ data + 1, size - 1 };
	r = pbsd_logtail_parse(fmt, in, &rec, &errstr);
	if (r == PBSD_LOGTAIL_LOGIN) {
		fuzz_check(&rec);
	} else if (r == PBSD_LOGTAIL_NOHOST && fmt != PBSD_LOGTAIL_PERDITION) {
		abort();
	}
	pbsd_logtail_init(&lt, "/nonexistent", fmt, 0);
	st.lt = &lt;
	st.logins = 0;
	while (off < in.len) {
		n = 1 + (size_t)span_byte(in, off) % 97;
		if (n > in.len - off) {
			n = in.len - off;
		}
		piece = span_sub(in, off, n);
		pbsd_logtail_feed(&lt, piece, (int64_t)off, fuzz_cb, &st);
		if (buf_len(&lt.lt_line) > PBSD_LOGTAIL_MAX_LINE) {
			abort();
		}
		off += n;
	}
	if (st.logins != lt.lt_stats.ls_logins ||
	    lt.lt_stats.ls_logins > lt.lt_stats.ls_lines) {
		abort();
	}
	pbsd_logtail_close(&lt);
	return 0;
}
