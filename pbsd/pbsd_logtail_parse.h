/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_logtail_parse: turns one log line of another gateway (Perdition 2.2
 * "Auth:" lines, Dovecot 2.3 imap-login/pop3-login "Login:" and
 * "proxy(...): started proxying" lines) into a pbsd login-ok record.  Runs
 * in pbsd, unprivileged and under seccomp; pure, no I/O.  It trusts nothing
 * in the line: user names are chosen by whoever connects, may hold spaces,
 * quotes, "rip=" and 'status="ok"', and Perdition writes them unescaped
 * (line feeds too: its lines count only if a syslog daemon, which escapes
 * control characters, wrote them, i.e. with a host field).
 * The address is therefore taken only from a position that the logging
 * server writes itself (see the .c file), and a line that looks like a
 * login but does not have exactly the expected shape is reported as
 * broken, never as a login.
 */
#ifndef BAILEY_PBSD_LOGTAIL_PARSE_H
#define BAILEY_PBSD_LOGTAIL_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "pbsd_proto.h"

/*
 * Longest line looked at, without its LF: Perdition's largest message
 * (4095 bytes, see below) plus any syslog prefix, rounded up.  Longer lines
 * are discarded up to the next LF and counted.
 */
#define PBSD_LOGTAIL_MAX_LINE		8192
/*
 * Perdition 2.2 formats its "Auth:" message with snprintf() into a
 * 4096-byte buffer (perdition.c, perdition_log_auth): a message of 4095
 * bytes may have been cut, and then its end (status="...") is the user's
 * text.  Such messages are broken, never logins.  Measured with the Debian
 * perdition 2.2-3.2: a 4000-byte user name gives a 4095-byte message.
 */
#define PBSD_LOGTAIL_PERDITION_MSG_MAX	4095

enum pbsd_logtail_fmt {
	PBSD_LOGTAIL_NONE = 0,
	PBSD_LOGTAIL_DOVECOT = 1,	/* Dovecot 2.3 login processes */
	PBSD_LOGTAIL_PERDITION = 2,	/* Perdition 2.2 */
};

enum pbsd_logtail_result {
	/*
	 * A Perdition "Auth:" line without a syslog host word: it comes from
	 * Perdition's own -F log file, which keeps line feeds of user names,
	 * so it and every line after it may be forged.  Never a login.
	 */
	PBSD_LOGTAIL_NOHOST = -2,
	PBSD_LOGTAIL_BROKEN = -1,	/* a login line of the wrong shape */
	PBSD_LOGTAIL_OTHER = 0,		/* not a successful login: ignored */
	PBSD_LOGTAIL_LOGIN = 1,		/* *rec_r holds a login-ok event */
};

/* "dovecot" / "perdition" -> format, else PBSD_LOGTAIL_NONE. */
int		 pbsd_logtail_fmt_from_name(struct span);
const char	*pbsd_logtail_fmt_name(int);

/*
 * UNTRUSTED: one line without its LF (a trailing CR is ignored), bounded by
 * PBSD_LOGTAIL_MAX_LINE (longer lines are BROKEN).  Returns
 * PBSD_LOGTAIL_LOGIN and fills *rec_r (event login-ok, family and address
 * with IPv4-mapped IPv6 folded to IPv4, protocol, and the user if it is
 * printable, else no user), PBSD_LOGTAIL_OTHER for every other line,
 * PBSD_LOGTAIL_BROKEN with *errstr_r for a line that starts like a login
 * line of fmt but does not parse, or PBSD_LOGTAIL_NOHOST with *errstr_r
 * for a Perdition "Auth:" line that no syslog daemon wrote.
 */
int	 pbsd_logtail_parse(int fmt, struct span line,
	    struct pbsd_record *rec_r, const char **errstr_r);

#endif
