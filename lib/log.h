/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * log: syslog and/or stderr logging for every role (OpenSMTPD style).
 * Untrusted strings must go through log_escape() before they are logged.
 */
#ifndef BAILEY_LOG_H
#define BAILEY_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "buf.h"

enum log_level {
	LOG_LVL_WARN = 0,
	LOG_LVL_INFO = 1,
	LOG_LVL_DEBUG = 2,
};

/* to_stderr: also (or only, if no syslog) write to stderr. */
void	log_init(const char *ident, int to_stderr, int to_syslog, int level);
void	log_procinit(const char *role);
void	log_setlevel(int level);
int	log_getlevel(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Escapes an untrusted span for a log line: printable ASCII except '\\',
 * '"' and space are kept, everything else becomes \xNN; truncated to fit
 * dstsz (marked with "...").  Always NUL-terminates.  Returns dst.
 */
char	*log_escape(struct span, char *dst, size_t dstsz);

#endif
