/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_logtail: the "tail -F" of pbsd's log-tail mode.  Runs in pbsd as its
 * unprivileged user under seccomp (open/openat, fstat, newfstatat/stat,
 * read, pread64, lseek, close: all in pbsd_sandbox.c's list).  Trusts the
 * configured path only as a place to read bytes from (opened with
 * O_NOFOLLOW: never through a symbolic link); the bytes go through
 * the bounded line assembly below and pbsd_logtail_parse().  Polled from
 * pbsd's poll loop every PBSD_LOGTAIL_INTERVAL_MS: no inotify, so a log
 * directory that pbsd cannot watch and rotation schemes of every kind work
 * the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "pbsd_logtail.h"

#define LT_READ_CHUNK	16384

void
pbsd_logtail_init(struct pbsd_logtail *lt, const char *path, int fmt,
    int from_start)
{
	memset(lt, 0, sizeof(*lt));
	(void)snprintf(lt->lt_path, sizeof(lt->lt_path), "%s", path);
	lt->lt_fmt = fmt;
	lt->lt_fd = -1;
	lt->lt_from_start = from_start;
	buf_init(&lt->lt_line, PBSD_LOGTAIL_MAX_LINE);
}

void
pbsd_logtail_close(struct pbsd_logtail *lt)
{
	if (lt->lt_fd != -1) {
		close(lt->lt_fd);
	}
	lt->lt_fd = -1;
	buf_release(&lt->lt_line);
	lt->lt_skipping = 0;
}

static void
lt_line(struct pbsd_logtail *lt, struct span line, int64_t now_ms,
    pbsd_logtail_cb *cb, void *arg)
{
	struct pbsd_record	 rec;
	const char		*errstr;
	char			 esc[96];
	int			 r;

	lt->lt_stats.ls_lines++;
	r = pbsd_logtail_parse(lt->lt_fmt, line, &rec, &errstr);
	if (r == PBSD_LOGTAIL_NOHOST) {
		lt->lt_stats.ls_broken++;
		lt->lt_stats.ls_nohost++;
		if (!lt->lt_unsafe) {
			log_warnx("logtail %s: %s; no login from this file "
			    "counts until pbsd restarts: \"%s\"", lt->lt_path,
			    errstr, log_escape(line, esc, sizeof(esc)));
		}
		lt->lt_unsafe = 1;
		return;
	}
	if (r == PBSD_LOGTAIL_BROKEN) {
		lt->lt_stats.ls_broken++;
		lt->lt_quarantine_until = now_ms + PBSD_LOGTAIL_QUARANTINE_MS;
		log_warnx("logtail %s: %s, logins ignored for %d ms: \"%s\"",
		    lt->lt_path, errstr, PBSD_LOGTAIL_QUARANTINE_MS,
		    log_escape(line, esc, sizeof(esc)));
		return;
	}
	if (r != PBSD_LOGTAIL_LOGIN) {
		return;
	}
	if (lt->lt_unsafe || now_ms < lt->lt_quarantine_until) {
		lt->lt_stats.ls_quarantined++;
		log_warnx("logtail %s: login in quarantine ignored%s",
		    lt->lt_path, lt->lt_unsafe ? " (file has Perdition lines "
		    "without a syslog host)" : "");
	} else {
		lt->lt_stats.ls_logins++;
		cb(arg, &rec);
	}
	secure_zero(&rec, sizeof(rec));
}

/* UNTRUSTED: file bytes, lines bounded by PBSD_LOGTAIL_MAX_LINE. */
void
pbsd_logtail_feed(struct pbsd_logtail *lt, struct span data, int64_t now_ms,
    pbsd_logtail_cb *cb, void *arg)
{
	size_t	take;
	long	lf;

	while (data.len > 0) {
		lf = span_find(data, 0, '\n');
		if (lt->lt_skipping) {
			if (lf < 0) {
				return;
			}
			lt->lt_skipping = 0;
			data = span_sub(data, (size_t)lf + 1,
			    data.len - (size_t)lf - 1);
			continue;
		}
		take = lf < 0 ? data.len : (size_t)lf;
		if (buf_add_span(&lt->lt_line, span_sub(data, 0, take)) ==
		    -1) {
			lt->lt_stats.ls_overlong++;
			buf_reset(&lt->lt_line);
			lt->lt_skipping = 1;
			continue;	/* drops up to the LF above */
		}
		if (lf < 0) {
			return;		/* partial line: wait for its LF */
		}
		lt_line(lt, buf_span(&lt->lt_line), now_ms, cb, arg);
		buf_reset(&lt->lt_line);
		data = span_sub(data, (size_t)lf + 1, data.len - (size_t)lf - 1);
	}
}

/* Forgets the partial line (the file it came from is gone or was cut). */
static void
lt_restart(struct pbsd_logtail *lt)
{
	buf_reset(&lt->lt_line);
	lt->lt_skipping = 0;
	lt->lt_off = 0;
	lt->lt_taillen = 0;
}

static void
lt_open(struct pbsd_logtail *lt)
{
	struct stat	st;
	int		fd, at_end = !lt->lt_opened && !lt->lt_from_start;

	fd = open(lt->lt_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY |
	    O_NOFOLLOW);
	if (fd == -1) {
		if (errno != ENOENT) {
			lt->lt_stats.ls_open_errors++;
		}
		if (!lt->lt_missing) {
			log_warn("logtail %s: cannot open, will retry",
			    lt->lt_path);
			lt->lt_missing = 1;
		}
		lt->lt_opened = 1;	/* a file that appears is new */
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		if (!lt->lt_missing) {
			log_warnx("logtail %s: not a regular file",
			    lt->lt_path);
			lt->lt_missing = 1;
		}
		lt->lt_stats.ls_open_errors++;
		close(fd);
		return;
	}
	lt_restart(lt);
	if (at_end) {
		if (lseek(fd, st.st_size, SEEK_SET) == -1) {
			log_warn("logtail %s: lseek", lt->lt_path);
			close(fd);
			return;
		}
		lt->lt_off = st.st_size;
	}
	lt->lt_fd = fd;
	lt->lt_dev = st.st_dev;
	lt->lt_ino = st.st_ino;
	lt->lt_opened = 1;
	lt->lt_missing = 0;
	log_info("logtail %s (%s): following from offset %lld",
	    lt->lt_path, pbsd_logtail_fmt_name(lt->lt_fmt),
	    (long long)lt->lt_off);
}

/* Remembers the last bytes consumed, to notice copytruncate. */
static void
lt_remember(struct pbsd_logtail *lt, const uint8_t *p, size_t n)
{
	size_t	keep;

	if (n >= PBSD_LOGTAIL_TAIL) {
		memcpy(lt->lt_tail, p + n - PBSD_LOGTAIL_TAIL,
		    PBSD_LOGTAIL_TAIL);
		lt->lt_taillen = PBSD_LOGTAIL_TAIL;
		return;
	}
	keep = lt->lt_taillen + n > PBSD_LOGTAIL_TAIL ?
	    PBSD_LOGTAIL_TAIL - n : lt->lt_taillen;
	memmove(lt->lt_tail, lt->lt_tail + lt->lt_taillen - keep, keep);
	memcpy(lt->lt_tail + keep, p, n);
	lt->lt_taillen = keep + n;
}

/*
 * 1 if the file was cut (copytruncate) since we read it: it is shorter
 * than our offset, or the bytes just before the offset changed (it was
 * cut and has grown past the offset again).  0 if not.
 */
static int
lt_truncated(struct pbsd_logtail *lt)
{
	uint8_t		now[PBSD_LOGTAIL_TAIL];
	struct stat	st;
	ssize_t		n;

	if (fstat(lt->lt_fd, &st) == -1) {
		return 0;
	}
	if (st.st_size < lt->lt_off) {
		return 1;
	}
	if (lt->lt_taillen == 0 || lt->lt_off < (off_t)lt->lt_taillen) {
		return 0;
	}
	n = pread(lt->lt_fd, now, lt->lt_taillen,
	    lt->lt_off - (off_t)lt->lt_taillen);
	return n != (ssize_t)lt->lt_taillen ||
	    memcmp(now, lt->lt_tail, lt->lt_taillen) != 0;
}

/* Reads what is new.  Returns 0 at EOF (or budget used), -1 on error. */
static int
lt_read(struct pbsd_logtail *lt, int64_t now_ms, size_t *budget,
    pbsd_logtail_cb *cb, void *arg)
{
	uint8_t		chunk[LT_READ_CHUNK];
	ssize_t		n;

	while (*budget > 0) {
		n = read(lt->lt_fd, chunk, sizeof(chunk) < *budget ?
		    sizeof(chunk) : *budget);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1) {
			log_warn("logtail %s: read", lt->lt_path);
			return -1;
		}
		if (n == 0) {
			return 0;
		}
		*budget -= (size_t)n;
		lt->lt_off += n;
		lt_remember(lt, chunk, (size_t)n);
		pbsd_logtail_feed(lt, (struct span){ chunk, (size_t)n },
		    now_ms, cb, arg);
	}
	return 0;
}

/* 1 if another file is now at the path (rename rotation), else 0. */
static int
lt_rotated(const struct pbsd_logtail *lt)
{
	struct stat	st;

	if (stat(lt->lt_path, &st) == -1) {
		return 0;	/* renamed away, new one not there yet */
	}
	return st.st_dev != lt->lt_dev || st.st_ino != lt->lt_ino;
}

void
pbsd_logtail_poll(struct pbsd_logtail *lt, int64_t now_ms,
    pbsd_logtail_cb *cb, void *arg)
{
	size_t	budget = PBSD_LOGTAIL_MAX_READ;
	int	round;

	for (round = 0; round < 3 && budget > 0; round++) {
		if (lt->lt_fd == -1) {
			lt_open(lt);
			if (lt->lt_fd == -1) {
				return;
			}
		}
		if (lt_truncated(lt)) {
			lt->lt_stats.ls_truncations++;
			log_info("logtail %s: truncated, reading from the "
			    "start", lt->lt_path);
			lt_restart(lt);
			if (lseek(lt->lt_fd, 0, SEEK_SET) == -1) {
				pbsd_logtail_close(lt);
				buf_init(&lt->lt_line, PBSD_LOGTAIL_MAX_LINE);
				return;
			}
		}
		if (lt_read(lt, now_ms, &budget, cb, arg) == -1 ||
		    (budget > 0 && lt_rotated(lt))) {
			/* The old file is read to its end: take the new. */
			if (budget > 0) {
				lt->lt_stats.ls_rotations++;
				log_info("logtail %s: rotated, opening the new "
				    "file", lt->lt_path);
			}
			close(lt->lt_fd);
			lt->lt_fd = -1;
			lt_restart(lt);
			continue;
		}
		return;
	}
}
