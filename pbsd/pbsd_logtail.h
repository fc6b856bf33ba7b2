/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_logtail: follows a log file of another gateway (Perdition, Dovecot)
 * like "tail -F" and turns its successful-login lines into the same
 * login-ok events that pbsd takes from datagrams.  Runs inside pbsd after
 * the privilege drop and under its seccomp filter: it only open()s,
 * fstat()s, stat()s, read()s, pread()s and lseek()s the configured path,
 * which must be readable by pbsd's user (see logtail_group in
 * pbsd.conf(5)).  The file's bytes are untrusted (pbsd_logtail_parse.h).
 */
#ifndef BAILEY_PBSD_LOGTAIL_H
#define BAILEY_PBSD_LOGTAIL_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "pbsd_logtail_parse.h"
#include "pbsd_out.h"
#include "pbsd_proto.h"

/* How often pbsd looks at the files (pbsd's poll loop). */
#define PBSD_LOGTAIL_INTERVAL_MS	500
/* Bytes read from one file per look, so one busy log cannot starve pbsd. */
#define PBSD_LOGTAIL_MAX_READ		(1U << 20)
/*
 * After a broken login line (e.g. a Perdition message cut at its length
 * limit), logins from the same file are ignored for this long: the lines
 * that follow in the same write may be forged.  A damage limiter only: a
 * user name with line breaks can make every line well-formed, which is
 * why Perdition lines count only with a syslog host (pbsd_logtail_parse.h)
 * and a file that showed one without is never trusted again (lt_unsafe).
 */
#define PBSD_LOGTAIL_QUARANTINE_MS	2000
/* Bytes before the read offset remembered to notice copytruncate. */
#define PBSD_LOGTAIL_TAIL		32

struct pbsd_logtail_stats {
	uint64_t	ls_lines;
	uint64_t	ls_logins;	/* events handed on */
	uint64_t	ls_broken;
	uint64_t	ls_overlong;
	uint64_t	ls_quarantined;	/* logins dropped in quarantine */
	uint64_t	ls_nohost;	/* Perdition lines without syslog host */
	uint64_t	ls_rotations;	/* new file at the path */
	uint64_t	ls_truncations;	/* copytruncate */
	uint64_t	ls_open_errors;
};

struct pbsd_logtail {
	char		lt_path[PBSD_PATH_MAX];
	int		lt_fmt;		/* enum pbsd_logtail_fmt */
	int		lt_fd;		/* -1 while the file is absent */
	int		lt_from_start;	/* first open: read existing lines */
	int		lt_opened;	/* opened at least once */
	int		lt_missing;	/* "absent" already logged */
	dev_t		lt_dev;
	ino_t		lt_ino;
	off_t		lt_off;		/* bytes consumed */
	uint8_t		lt_tail[PBSD_LOGTAIL_TAIL];
	size_t		lt_taillen;
	struct buf	lt_line;	/* partial line, max MAX_LINE */
	int		lt_skipping;	/* in an over-long line */
	int64_t		lt_quarantine_until;	/* ms */
	/*
	 * Set for good by the first PBSD_LOGTAIL_NOHOST line: the file is a
	 * Perdition -F file, in which a forged line may carry a host field
	 * too, so no login from it counts until pbsd restarts.
	 */
	int		lt_unsafe;
	struct pbsd_logtail_stats lt_stats;
};

/* Receives each login-ok event; rec is valid only during the call. */
typedef void	pbsd_logtail_cb(void *arg, const struct pbsd_record *rec);

/*
 * Sets up a follower of path (absolute) in format fmt.  from_start = 0:
 * the first open starts at the end of the file (history is not replayed);
 * 1: it reads the existing lines too.  A file that appears later, or after
 * a rotation, is always read from its start.  Opens nothing yet.
 */
void	 pbsd_logtail_init(struct pbsd_logtail *, const char *path, int fmt,
	    int from_start);

/*
 * UNTRUSTED: feeds file bytes.  Assembles lines (a partial last line is
 * kept until its LF; a line longer than PBSD_LOGTAIL_MAX_LINE is dropped up
 * to its LF and counted), parses each, and calls cb for every successful
 * login outside quarantine.  now_ms drives the quarantine.
 */
void	 pbsd_logtail_feed(struct pbsd_logtail *, struct span,
	    int64_t now_ms, pbsd_logtail_cb *cb, void *arg);

/*
 * Looks at the file once: (re)opens it, reads what is new (at most
 * PBSD_LOGTAIL_MAX_READ), notices rotation by rename (new inode at the
 * path: the old file is read to its end first, the new one from its
 * start), copytruncate (size below, or other bytes before, the offset:
 * restart at 0) and absence (keeps trying).  Errors are logged, never
 * fatal.
 */
void	 pbsd_logtail_poll(struct pbsd_logtail *, int64_t now_ms,
	    pbsd_logtail_cb *cb, void *arg);

void	 pbsd_logtail_close(struct pbsd_logtail *);

#endif
