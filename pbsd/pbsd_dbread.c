/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd-dbread: a test helper that reads a pbsd Berkeley DB output the way
 * a long-lived Postfix smtpd does (research/pbsd.md 1.3, 1.4): open once
 * read-only, flock(LOCK_SH) around each lookup, re-open when the file was
 * replaced (st_nlink == 0) or its mtime changed.  Runs as the test user
 * against files it does not trust to be well-formed: every failure is
 * counted, never fatal.
 *
 *	pbsd-dbread FILE KEY SECONDS
 *
 * prints "lookups N reopens N errors N misses N" and exits 0 only if no
 * open or lookup failed and KEY was found every time.
 */
#include <db.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

struct dbread {
	DB	*db;
	int	 fd;
	time_t	 mtime;
};

static int
dbread_open(struct dbread *r, const char *path)
{
	struct stat	st;

	r->db = NULL;
	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		return -1;
	}
	if (fstat(r->fd, &st) == -1 || flock(r->fd, LOCK_SH) == -1) {
		close(r->fd);
		return -1;
	}
	r->mtime = st.st_mtime;
	if (db_create(&r->db, NULL, 0) != 0 ||
	    r->db->open(r->db, NULL, path, NULL, DB_UNKNOWN, DB_RDONLY,
	    0) != 0) {
		if (r->db != NULL) {
			(void)r->db->close(r->db, 0);
		}
		r->db = NULL;
		(void)flock(r->fd, LOCK_UN);
		close(r->fd);
		return -1;
	}
	(void)flock(r->fd, LOCK_UN);
	return 0;
}

static void
dbread_close(struct dbread *r)
{
	if (r->db != NULL) {
		(void)r->db->close(r->db, 0);
	}
	r->db = NULL;
	close(r->fd);
}

static int
dbread_changed(const struct dbread *r)
{
	struct stat	st;

	return fstat(r->fd, &st) == -1 || st.st_nlink == 0 ||
	    st.st_mtime != r->mtime;
}

int
main(int argc, char *argv[])
{
	struct dbread	 r;
	DBT		 k, v;
	const char	*errstr;
	uint64_t	 secs;
	time_t		 end;
	unsigned long	 lookups = 0, reopens = 0, errors = 0, misses = 0;
	int		 ret;

	if (argc != 4 || parse_uint(argv[3], 1, 3600, &secs, &errstr) == -1) {
		fprintf(stderr, "usage: pbsd-dbread file key seconds\n");
		return 2;
	}
	end = time(NULL) + (time_t)secs;
	if (dbread_open(&r, argv[1]) == -1) {
		fprintf(stderr, "pbsd-dbread: cannot open %s\n", argv[1]);
		return 1;
	}
	while (time(NULL) < end) {
		if (dbread_changed(&r)) {
			dbread_close(&r);
			reopens++;
			if (dbread_open(&r, argv[1]) == -1) {
				errors++;
				continue;
			}
		}
		memset(&k, 0, sizeof(k));
		memset(&v, 0, sizeof(v));
		k.data = argv[2];
		k.size = (u_int32_t)strlen(argv[2]);
		(void)flock(r.fd, LOCK_SH);
		ret = r.db->get(r.db, NULL, &k, &v, 0);
		(void)flock(r.fd, LOCK_UN);
		lookups++;
		if (ret == DB_NOTFOUND) {
			misses++;
		} else if (ret != 0) {
			errors++;
		}
	}
	dbread_close(&r);
	printf("lookups %lu reopens %lu errors %lu misses %lu\n", lookups,
	    reopens, errors, misses);
	return (errors == 0 && misses == 0) ? 0 : 1;
}
