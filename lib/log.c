/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * log: runs in every role.  openlog(LOG_NDELAY) is called by log_init so
 * the syslog socket is open before any chroot.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int	 log_stderr = 1;
static int	 log_syslog = 0;
static int	 log_level = LOG_LVL_INFO;
static char	 log_ident[32] = "bailey";
static char	 log_role[32] = "";

void
log_init(const char *ident, int to_stderr, int to_syslog, int level)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_stderr = to_stderr;
	log_syslog = to_syslog;
	log_level = level;
	if (log_syslog) {
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	}
	tzset();
}

void
log_procinit(const char *role)
{
	snprintf(log_role, sizeof(log_role), "%s", role);
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

static void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 msg[2048];
	va_list	 ap2;

	va_copy(ap2, ap);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap2);
	va_end(ap2);
	if (log_stderr) {
		dprintf(STDERR_FILENO, "%s[%d]%s%s: %s\n", log_ident,
		    (int)getpid(), log_role[0] ? " " : "", log_role, msg);
	}
	if (log_syslog) {
		if (log_role[0]) {
			syslog(pri, "%s: %s", log_role, msg);
		} else {
			syslog(pri, "%s", msg);
		}
	}
}

static void
logv_errno(int pri, int err, const char *fmt, va_list ap)
{
	char	 f[1024];

	if (err == 0) {
		vlog(pri, fmt, ap);
		return;
	}
	(void)snprintf(f, sizeof(f), "%s: %s", fmt, strerror(err));
	/* f is our own format plus strerror text: no '%' from untrusted data. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	vlog(pri, f, ap);
#pragma GCC diagnostic pop
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	e = errno;

	va_start(ap, fmt);
	logv_errno(LOG_WARNING, e, fmt, ap);
	va_end(ap);
	errno = e;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LVL_INFO) {
		return;
	}
	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LVL_DEBUG) {
		return;
	}
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	e = errno;

	va_start(ap, fmt);
	logv_errno(LOG_CRIT, e, fmt, ap);
	va_end(ap);
	_exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	_exit(1);
}

char *
log_escape(struct span s, char *dst, size_t dstsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t	i, o = 0;
	uint8_t	c;

	if (dstsz < 8) {
		if (dstsz > 0) {
			dst[0] = '\0';
		}
		return dst;
	}
	for (i = 0; i < s.len; i++) {
		c = s.p[i];
		if (o + 4 + 4 >= dstsz) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (c > 0x20 && c < 0x7f && c != '\\' && c != '"') {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return dst;
}
