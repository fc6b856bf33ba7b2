/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests of pbsd_out.c: the state file reader fed whole, one byte at a
 * time and split at every position; line limits; the atomic writers (DB
 * and text) read back with libdb; stale temp file removal.  Runs as any
 * user in a private directory under /tmp.
 */
#include <db.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "pbsd_out.h"
#include "pbsd_proto.h"

static const char state_text[] =
    "# pbsd state 1\n"
    "192.0.2.1 2000\n"
    "2001:db8::2 3000\r\n"
    "2001:db8:1:2::/64 4000\n"
    "192.0.2.9 500\n"			/* expired (now = 1000) */
    "bogus 5000\n"			/* bad */
    "192.0.2.3 x\n"			/* bad */
    "192.0.2.4\n"			/* bad */
    "\n"
    "192.0.2.5 1001\n";

struct result {
	size_t	loaded, expired, bad, count;
};

static struct result
feed_split(const char *text, size_t len, size_t split, size_t step)
{
	struct pbsd_table		t;
	struct pbsd_state_reader	r;
	struct result			res;
	size_t				off = 0, n;

	pbsd_table_init(&t, 100);
	pbsd_state_reader_init(&r, &t, 1000, 128);
	if (split > 0) {
		(void)pbsd_state_reader_feed(&r, (const uint8_t *)text, split);
		off = split;
	}
	while (off < len) {
		n = step == 0 ? len - off : step;
		if (n > len - off) {
			n = len - off;
		}
		(void)pbsd_state_reader_feed(&r, (const uint8_t *)text + off,
		    n);
		off += n;
	}
	pbsd_state_reader_finish(&r);
	res.loaded = r.sr_loaded;
	res.expired = r.sr_expired;
	res.bad = r.sr_bad;
	res.count = pbsd_table_count(&t);
	pbsd_table_free(&t);
	return res;
}

static void
test_reader_whole_bytewise_split(void)
{
	struct result	r;
	size_t		len = strlen(state_text), i;

	r = feed_split(state_text, len, 0, 0);
	T_EQ_INT(r.loaded, 4);
	T_EQ_INT(r.expired, 1);
	T_EQ_INT(r.bad, 3);
	T_EQ_INT(r.count, 4);
	r = feed_split(state_text, len, 0, 1);
	T_EQ_INT(r.loaded, 4);
	T_EQ_INT(r.bad, 3);
	for (i = 1; i < len; i++) {
		r = feed_split(state_text, len, i, 0);
		T_EQ_INT(r.loaded, 4);
		T_EQ_INT(r.expired, 1);
		T_EQ_INT(r.bad, 3);
	}
	/* A last line without LF is not taken (a torn write). */
	r = feed_split("192.0.2.1 2000\n192.0.2.2 2000", 29, 0, 0);
	T_EQ_INT(r.loaded, 1);
	T_EQ_INT(r.bad, 1);
}

static void
test_reader_line_limit(void)
{
	char		text[3 * PBSD_STATE_MAX_LINE];
	struct result	r;
	size_t		n, i;

	/* A line of exactly PBSD_STATE_MAX_LINE bytes (comment) is fine. */
	memset(text, ' ', sizeof(text));
	text[0] = '#';
	text[PBSD_STATE_MAX_LINE] = '\n';
	memcpy(text + PBSD_STATE_MAX_LINE + 1, "192.0.2.1 2000\n", 15);
	n = PBSD_STATE_MAX_LINE + 16;
	for (i = 0; i <= 1; i++) {
		r = feed_split(text, n, 0, i);
		T_EQ_INT(r.loaded, 1);
		T_EQ_INT(r.bad, 0);
	}
	/* One byte more: that line is skipped as bad, the next still read. */
	memset(text, ' ', sizeof(text));
	text[0] = '#';
	text[PBSD_STATE_MAX_LINE + 1] = '\n';
	memcpy(text + PBSD_STATE_MAX_LINE + 2, "192.0.2.1 2000\n", 15);
	n = PBSD_STATE_MAX_LINE + 17;
	for (i = 0; i <= 1; i++) {
		r = feed_split(text, n, 0, i);
		T_EQ_INT(r.loaded, 1);
		T_EQ_INT(r.bad, 1);
	}
	for (i = 1; i < n; i++) {
		r = feed_split(text, n, i, 0);
		T_EQ_INT(r.loaded, 1);
		T_EQ_INT(r.bad, 1);
	}
}

static char	dir[64];

static void
mkpath(char *dst, size_t sz, const char *name)
{
	(void)snprintf(dst, sz, "%s/%s", dir, name);
}

static int
db_get(const char *path, int type, const char *key, size_t klen,
    char *val, size_t valsz)
{
	DB	*db;
	DBT	 k, v;
	int	 rv = -1;

	if (db_create(&db, NULL, 0) != 0) {
		return -1;
	}
	if (db->open(db, NULL, path, NULL, type, DB_RDONLY, 0) != 0) {
		(void)db->close(db, 0);
		return -1;
	}
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)(uintptr_t)key;
	k.size = (u_int32_t)klen;
	if (db->get(db, NULL, &k, &v, 0) == 0 && v.size < valsz) {
		memcpy(val, v.data, v.size);
		val[v.size] = '\0';
		rv = (int)v.size;
	}
	(void)db->close(db, 0);
	return rv;
}

static void
fill(struct pbsd_table *t)
{
	struct pbsd_addr	a;

	pbsd_table_init(t, 10);
	(void)pbsd_addr_parse(span_from_str("192.0.2.1"), 128, &a);
	(void)pbsd_table_set(t, &a, 1795000000);
	(void)pbsd_addr_parse(span_from_str("2001:DB8::2"), 128, &a);
	(void)pbsd_table_set(t, &a, 1795000001);
}

static void
test_write_db(void)
{
	struct pbsd_output	 o;
	struct pbsd_table	 t;
	struct stat		 st;
	const char		*errstr;
	char			 val[64];

	fill(&t);
	memset(&o, 0, sizeof(o));
	o.po_type = PBSD_OUT_HASH;
	o.po_keys = PBSD_KEYS_POSTFIX | PBSD_KEYS_SENDMAIL;
	o.po_nul = PBSD_NUL_NO;
	mkpath(o.po_path, sizeof(o.po_path), "relay.db");
	T_EQ_INT(pbsd_out_write(&o, &t, &errstr), 0);
	T_EQ_INT(db_get(o.po_path, DB_HASH, "192.0.2.1", 9, val, sizeof(val)),
	    2);
	T_EQ_STR(val, "OK");
	T_EQ_INT(db_get(o.po_path, DB_HASH, "192.0.2.1", 10, val,
	    sizeof(val)), -1);		/* no NUL variant */
	T_EQ_INT(db_get(o.po_path, DB_HASH, "2001:db8::2", 11, val,
	    sizeof(val)), 2);
	T_EQ_INT(db_get(o.po_path, DB_HASH, "ipv6:2001:db8:0:0:0:0:0:2", 25,
	    val, sizeof(val)), 2);
	T_EQ_INT(stat(o.po_path, &st), 0);
	T_EQ_INT(st.st_mode & 0777, 0644);
	/* nul=yes: only keys with NUL; value expiry. */
	o.po_nul = PBSD_NUL_YES;
	o.po_value = PBSD_VAL_EXPIRY;
	o.po_keys = PBSD_KEYS_POSTFIX;
	T_EQ_INT(pbsd_out_write(&o, &t, &errstr), 0);
	T_EQ_INT(db_get(o.po_path, DB_HASH, "192.0.2.1", 9, val, sizeof(val)),
	    -1);
	T_EQ_INT(db_get(o.po_path, DB_HASH, "192.0.2.1", 10, val,
	    sizeof(val)), 11);
	T_EQ_STR(val, "1795000000");
	T_EQ_INT(db_get(o.po_path, DB_HASH, "ipv6:2001:db8:0:0:0:0:0:2", 26,
	    val, sizeof(val)), -1);
	/* nul=both, btree, RELAY. */
	o.po_nul = PBSD_NUL_BOTH;
	o.po_type = PBSD_OUT_BTREE;
	o.po_value = PBSD_VAL_RELAY;
	T_EQ_INT(pbsd_out_write(&o, &t, &errstr), 0);
	T_EQ_INT(db_get(o.po_path, DB_BTREE, "192.0.2.1", 9, val,
	    sizeof(val)), 5);
	T_EQ_STR(val, "RELAY");
	T_EQ_INT(db_get(o.po_path, DB_BTREE, "192.0.2.1", 10, val,
	    sizeof(val)), 6);
	/* Empty table: still a valid, openable file. */
	pbsd_table_clear(&t);
	o.po_type = PBSD_OUT_HASH;
	T_EQ_INT(pbsd_out_write(&o, &t, &errstr), 0);
	T_EQ_INT(db_get(o.po_path, DB_HASH, "192.0.2.1", 9, val, sizeof(val)),
	    -1);
	T_EQ_INT(stat(o.po_path, &st), 0);
	T_ASSERT(st.st_size > 0);
	pbsd_table_free(&t);
	(void)unlink(o.po_path);
}

static void
test_write_state_and_reload(void)
{
	struct pbsd_table		t, t2;
	struct pbsd_state_reader	r;
	struct pbsd_addr		a;
	struct pbsd_entry		*e;
	const char			*errstr;
	char				path[128];

	fill(&t);
	mkpath(path, sizeof(path), "state");
	T_EQ_INT(pbsd_state_write(path, &t, &errstr), 0);
	pbsd_table_init(&t2, 10);
	pbsd_state_reader_init(&r, &t2, 1795000000, 128);
	T_EQ_INT(pbsd_state_load(path, &r, &errstr), 0);
	T_EQ_INT(r.sr_loaded, 1);	/* 192.0.2.1 expires at "now" */
	T_EQ_INT(r.sr_expired, 1);
	(void)pbsd_addr_parse(span_from_str("2001:db8::2"), 128, &a);
	T_EQ_INT(pbsd_table_find(&t2, &a, &e), 1);
	T_EQ_INT(e->pe_expiry, 1795000001);
	pbsd_table_free(&t2);
	/* Missing file: empty, no error. */
	pbsd_table_init(&t2, 10);
	pbsd_state_reader_init(&r, &t2, 0, 128);
	mkpath(path, sizeof(path), "missing");
	T_EQ_INT(pbsd_state_load(path, &r, &errstr), 0);
	T_EQ_INT(pbsd_table_count(&t2), 0);
	pbsd_table_free(&t2);
	pbsd_table_free(&t);
	mkpath(path, sizeof(path), "state");
	(void)unlink(path);
}

static void
test_clean_tmp(void)
{
	char	path[128], tmp[160];
	int	fd, i;

	mkpath(path, sizeof(path), "relay.db");
	for (i = 0; i < 3; i++) {
		(void)snprintf(tmp, sizeof(tmp), "%s/.relay.db.tmp.%d", dir,
		    1000 + i);
		fd = open(tmp, O_CREAT | O_WRONLY, 0600);
		T_ASSERT(fd != -1);
		close(fd);
	}
	(void)snprintf(tmp, sizeof(tmp), "%s/__db..relay.db.tmp.77", dir);
	fd = open(tmp, O_CREAT | O_WRONLY, 0600);
	close(fd);
	(void)snprintf(tmp, sizeof(tmp), "%s/.other.db.tmp.1", dir);
	fd = open(tmp, O_CREAT | O_WRONLY, 0600);
	close(fd);
	T_EQ_INT(pbsd_out_clean_tmp(path), 4);
	T_EQ_INT(pbsd_out_clean_tmp(path), 0);
	T_EQ_INT(access(tmp, F_OK), 0);		/* other files untouched */
	(void)unlink(tmp);
}

static void
test_setup(void)
{
	(void)snprintf(dir, sizeof(dir), "/tmp/test_pbsd_state.XXXXXX");
	T_ASSERT(mkdtemp(dir) != NULL);
}

static void
test_teardown(void)
{
	T_EQ_INT(rmdir(dir), 0);
}

static const struct harness_case cases[] = {
	{ "reader_whole_bytewise_split", test_reader_whole_bytewise_split },
	{ "reader_line_limit", test_reader_line_limit },
	{ "setup", test_setup },
	{ "write_db", test_write_db },
	{ "write_state_and_reload", test_write_state_and_reload },
	{ "clean_tmp", test_clean_tmp },
	{ "teardown_dir_empty", test_teardown },
};

HARNESS_MAIN("test_pbsd_state", cases)
