/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_out: atomic rewrites of pbsd's output files and the state file,
 * and the state file reader.  Runs in pbsd: as root at start-up (clean
 * temp files, load state, first write) and as the unprivileged pbsd user
 * afterwards.  Trusts its own table; the state file is parsed defensively.
 * The live file is never written in place (research/pbsd.md 5.1, 5.2).
 */
#include <db.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "pbsd_out.h"
#include "pbsd_proto.h"

/* Big enough to keep a 100,000-entry build in memory (research 5.3). */
#define PBSD_DB_CACHE		(8U << 20)
#define PBSD_TEXT_MAX		(64U << 20)

struct pbsd_tmpname {
	char	dir[PBSD_PATH_MAX];
	char	tmp[PBSD_PATH_MAX];
	char	prefix[PBSD_PATH_MAX];	/* ".BASE.tmp." */
};

static int
pbsd_tmpname(const char *path, struct pbsd_tmpname *t)
{
	char	copy[PBSD_PATH_MAX], copy2[PBSD_PATH_MAX];
	int	n;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy) ||
	    snprintf(copy2, sizeof(copy2), "%s", path) >= (int)sizeof(copy2)) {
		return -1;
	}
	if (snprintf(t->dir, sizeof(t->dir), "%s", dirname(copy)) >=
	    (int)sizeof(t->dir)) {
		return -1;
	}
	n = snprintf(t->prefix, sizeof(t->prefix), ".%s.tmp.",
	    basename(copy2));
	if (n < 0 || (size_t)n >= sizeof(t->prefix)) {
		return -1;
	}
	n = snprintf(t->tmp, sizeof(t->tmp), "%s/%s%ld", t->dir, t->prefix,
	    (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(t->tmp)) {
		return -1;
	}
	return 0;
}

static int
pbsd_fsync_path(const char *path, int flags)
{
	int	fd, rv;

	if ((fd = open(path, flags | O_CLOEXEC)) == -1) {
		return -1;
	}
	rv = fsync(fd);
	close(fd);
	return rv;
}

/* fsync(tmp), rename(tmp, path), fsync(dir); on failure unlink(tmp). */
static int
pbsd_commit(const struct pbsd_tmpname *t, const char *path,
    const char **errstr_r)
{
	if (chmod(t->tmp, 0644) == -1 ||
	    pbsd_fsync_path(t->tmp, O_RDONLY) == -1) {
		*errstr_r = "fsync of temporary file failed";
		goto fail;
	}
	if (rename(t->tmp, path) == -1) {
		*errstr_r = "rename failed";
		goto fail;
	}
	if (pbsd_fsync_path(t->dir, O_RDONLY | O_DIRECTORY) == -1) {
		*errstr_r = "fsync of directory failed";
		return -1;
	}
	return 0;
fail:
	(void)unlink(t->tmp);
	return -1;
}

int
pbsd_out_clean_tmp(const char *path)
{
	struct pbsd_tmpname	 t;
	struct dirent		*de;
	DIR			*d;
	int			 n = 0;

	if (pbsd_tmpname(path, &t) == -1 || (d = opendir(t.dir)) == NULL) {
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		/* Berkeley DB creates "__db.NAME" first and renames it. */
		if (strncmp(de->d_name, t.prefix, strlen(t.prefix)) != 0 &&
		    (strncmp(de->d_name, "__db.", 5) != 0 ||
		    strncmp(de->d_name + 5, t.prefix, strlen(t.prefix)) != 0)) {
			continue;
		}
		if (unlinkat(dirfd(d), de->d_name, 0) == 0) {
			n++;
		}
	}
	closedir(d);
	return n;
}

static const char *
pbsd_value_text(const struct pbsd_output *o, const struct pbsd_entry *e,
    char *dst, size_t dstsz)
{
	switch (o->po_value) {
	case PBSD_VAL_RELAY:
		return "RELAY";
	case PBSD_VAL_EXPIRY:
		(void)snprintf(dst, dstsz, "%lld", (long long)e->pe_expiry);
		return dst;
	default:
		return "OK";
	}
}

static int
pbsd_db_put1(DB *db, const char *key, const char *val, int withnul)
{
	DBT	k, v;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)(uintptr_t)key;
	k.size = (u_int32_t)(strlen(key) + (withnul ? 1 : 0));
	v.data = (void *)(uintptr_t)val;
	v.size = (u_int32_t)(strlen(val) + (withnul ? 1 : 0));
	return db->put(db, NULL, &k, &v, 0) == 0 ? 0 : -1;
}

static int
pbsd_db_put(DB *db, const struct pbsd_output *o, const char *key,
    const char *val)
{
	if (o->po_nul != PBSD_NUL_YES && pbsd_db_put1(db, key, val, 0) == -1) {
		return -1;
	}
	if (o->po_nul != PBSD_NUL_NO && pbsd_db_put1(db, key, val, 1) == -1) {
		return -1;
	}
	return 0;
}

/* Sendmail's classic access map: "connect:192.0.2.1",
 * "connect:ipv6:2001:db8:0:0:0:0:0:2". */
static int
pbsd_db_connect_entry(DB *db, const struct pbsd_output *o,
    const struct pbsd_entry *e, const char *val)
{
	char	key[PBSD_KEY_MAX], tagged[sizeof("connect:") + PBSD_KEY_MAX];
	int	n;

	if (pbsd_key_format(&e->pe_addr, PBSD_KEY_SENDMAIL, key,
	    sizeof(key)) == -1) {
		return -1;
	}
	n = snprintf(tagged, sizeof(tagged), "connect:%s", key);
	if (n < 0 || (size_t)n >= sizeof(tagged)) {
		return -1;
	}
	return pbsd_db_put(db, o, tagged, val);
}

static int
pbsd_db_entry(DB *db, const struct pbsd_output *o, const struct pbsd_entry *e)
{
	char		 key[PBSD_KEY_MAX], vbuf[32];
	const char	*val = pbsd_value_text(o, e, vbuf, sizeof(vbuf));

	if (o->po_keys & PBSD_KEYS_SENDMAIL_CONNECT) {
		return pbsd_db_connect_entry(db, o, e, val);
	}
	if (e->pe_addr.pa_family != PBSD_FAM_INET6 ||
	    (o->po_keys & PBSD_KEYS_POSTFIX)) {
		if (pbsd_key_format(&e->pe_addr, PBSD_KEY_POSTFIX, key,
		    sizeof(key)) == -1 || pbsd_db_put(db, o, key, val) == -1) {
			return -1;
		}
	}
	if (e->pe_addr.pa_family == PBSD_FAM_INET6 &&
	    (o->po_keys & PBSD_KEYS_SENDMAIL)) {
		if (pbsd_key_format(&e->pe_addr, PBSD_KEY_SENDMAIL, key,
		    sizeof(key)) == -1 || pbsd_db_put(db, o, key, val) == -1) {
			return -1;
		}
	}
	return 0;
}

static int
pbsd_write_db(const struct pbsd_output *o, const struct pbsd_table *t,
    const char **errstr_r)
{
	struct pbsd_tmpname	 tn;
	DB			*db = NULL;
	size_t			 i;
	int			 ret;

	if (pbsd_tmpname(o->po_path, &tn) == -1) {
		*errstr_r = "path too long";
		return -1;
	}
	(void)unlink(tn.tmp);
	if (db_create(&db, NULL, 0) != 0) {
		*errstr_r = "db_create failed";
		return -1;
	}
	(void)db->set_cachesize(db, 0, PBSD_DB_CACHE, 1);
	ret = db->open(db, NULL, tn.tmp, NULL,
	    o->po_type == PBSD_OUT_BTREE ? DB_BTREE : DB_HASH,
	    DB_CREATE | DB_EXCL, 0644);
	if (ret != 0) {
		*errstr_r = "cannot create temporary database";
		(void)db->close(db, 0);
		(void)unlink(tn.tmp);
		return -1;
	}
	for (i = 0; i < pbsd_table_count(t); i++) {
		if (pbsd_db_entry(db, o, pbsd_table_at(t, i)) == -1) {
			*errstr_r = "database put failed";
			(void)db->close(db, 0);
			(void)unlink(tn.tmp);
			return -1;
		}
	}
	if (db->close(db, 0) != 0) {
		*errstr_r = "database close failed";
		(void)unlink(tn.tmp);
		return -1;
	}
	return pbsd_commit(&tn, o->po_path, errstr_r);
}

static int
pbsd_write_buf(const char *path, const struct buf *b, const char **errstr_r)
{
	struct pbsd_tmpname	 tn;
	struct span		 s = buf_span(b);
	ssize_t			 n;
	size_t			 off = 0;
	int			 fd;

	if (pbsd_tmpname(path, &tn) == -1) {
		*errstr_r = "path too long";
		return -1;
	}
	(void)unlink(tn.tmp);
	fd = open(tn.tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1) {
		*errstr_r = "cannot create temporary file";
		return -1;
	}
	while (off < s.len) {
		n = write(fd, span_sub(s, off, s.len - off).p, s.len - off);
		if (n <= 0 && errno != EINTR) {
			*errstr_r = "write failed";
			close(fd);
			(void)unlink(tn.tmp);
			return -1;
		}
		if (n > 0) {
			off += (size_t)n;
		}
	}
	if (close(fd) == -1) {
		*errstr_r = "close failed";
		(void)unlink(tn.tmp);
		return -1;
	}
	return pbsd_commit(&tn, path, errstr_r);
}

static int
pbsd_write_text(const char *path, const struct pbsd_table *t,
    const char *header, const char **errstr_r)
{
	struct buf	 b;
	char		 key[PBSD_KEY_MAX];
	const struct pbsd_entry *e;
	size_t		 i;
	int		 rv;

	buf_init(&b, PBSD_TEXT_MAX);
	rv = buf_add_str(&b, header);
	for (i = 0; i < pbsd_table_count(t) && rv == 0; i++) {
		e = pbsd_table_at(t, i);
		if (pbsd_key_format(&e->pe_addr, PBSD_KEY_STATE, key,
		    sizeof(key)) == -1) {
			rv = -1;
			break;
		}
		rv = buf_addf(&b, "%s %lld\n", key, (long long)e->pe_expiry);
	}
	if (rv == -1) {
		*errstr_r = "snapshot too large";
	} else {
		rv = pbsd_write_buf(path, &b, errstr_r);
	}
	buf_release(&b);
	return rv;
}

int
pbsd_out_write(const struct pbsd_output *o, const struct pbsd_table *t,
    const char **errstr_r)
{
	if (o->po_type == PBSD_OUT_TEXT) {
		return pbsd_write_text(o->po_path, t,
		    "# pbsd snapshot: address expiry-epoch-seconds\n", errstr_r);
	}
	return pbsd_write_db(o, t, errstr_r);
}

int
pbsd_state_write(const char *path, const struct pbsd_table *t,
    const char **errstr_r)
{
	return pbsd_write_text(path, t, "# pbsd state 1\n", errstr_r);
}

void
pbsd_state_reader_init(struct pbsd_state_reader *r, struct pbsd_table *t,
    int64_t now, int v6plen)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->sr_buf, PBSD_STATE_MAX_LINE + 1);
	r->sr_table = t;
	r->sr_now = now;
	r->sr_v6plen = v6plen;
}

/* UNTRUSTED: one line without its LF, at most PBSD_STATE_MAX_LINE bytes. */
static void
pbsd_state_line(struct pbsd_state_reader *r, struct span line)
{
	struct pbsd_addr	a;
	long			sp;
	uint64_t		expiry;

	if (line.len == 0 || span_byte(line, 0) == '#') {
		return;
	}
	sp = span_find(line, 0, ' ');
	if (sp <= 0 || span_parse_uint(span_sub(line, (size_t)sp + 1,
	    line.len - (size_t)sp - 1), 0, INT64_MAX, &expiry) == -1 ||
	    pbsd_addr_parse(span_sub(line, 0, (size_t)sp), r->sr_v6plen,
	    &a) == -1) {
		r->sr_bad++;
		return;
	}
	if ((int64_t)expiry <= r->sr_now) {
		r->sr_expired++;
		return;
	}
	if (pbsd_table_set(r->sr_table, &a, (int64_t)expiry) == -1) {
		r->sr_full++;
		return;
	}
	r->sr_loaded++;
}

int
pbsd_state_reader_feed(struct pbsd_state_reader *r, const uint8_t *p,
    size_t n)
{
	struct span	in = { p, n }, rest, line;
	size_t		off = 0, used, take;
	long		lf;
	int		got;

	while (off < in.len) {
		rest = span_sub(in, off, in.len - off);
		if (r->sr_skipping) {
			lf = span_find(rest, 0, '\n');
			take = lf < 0 ? rest.len : (size_t)lf + 1;
			if (lf >= 0) {
				r->sr_skipping = 0;
				r->sr_bad++;
			}
			off += take;
			continue;
		}
		take = PBSD_STATE_MAX_LINE + 1 - buf_len(&r->sr_buf);
		if (take > rest.len) {
			take = rest.len;
		}
		if (buf_add_span(&r->sr_buf, span_sub(rest, 0, take)) == -1) {
			fatalx("pbsd_state_reader_feed");
		}
		off += take;
		while ((got = buf_getline(&r->sr_buf, PBSD_STATE_MAX_LINE + 1,
		    &line, &used)) == 1) {
			pbsd_state_line(r, line);
			buf_consume(&r->sr_buf, used);
		}
		if (got == -1) {
			buf_reset(&r->sr_buf);
			r->sr_skipping = 1;
		}
	}
	return 0;
}

void
pbsd_state_reader_finish(struct pbsd_state_reader *r)
{
	if (buf_len(&r->sr_buf) > 0 || r->sr_skipping) {
		r->sr_bad++;
	}
	buf_release(&r->sr_buf);
	r->sr_skipping = 0;
}

int
pbsd_state_load(const char *path, struct pbsd_state_reader *r,
    const char **errstr_r)
{
	uint8_t	chunk[4096];
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT) {
			pbsd_state_reader_finish(r);
			return 0;
		}
		*errstr_r = "cannot open state file";
		pbsd_state_reader_finish(r);
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1) {
			*errstr_r = "cannot read state file";
			close(fd);
			pbsd_state_reader_finish(r);
			return -1;
		}
		(void)pbsd_state_reader_feed(r, chunk, (size_t)n);
	}
	close(fd);
	pbsd_state_reader_finish(r);
	return 0;
}
