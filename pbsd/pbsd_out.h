/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_out: the files pbsd writes from its table (Berkeley DB hash or
 * btree for the MTAs, a text snapshot, and the state file), each replaced
 * atomically: new file in the same directory, fsync, rename, fsync of the
 * directory (research/pbsd.md 5.4).  Also reads the state file back at
 * start-up.  Runs in pbsd, as root at start-up and unprivileged after.
 */
#ifndef BAILEY_PBSD_OUT_H
#define BAILEY_PBSD_OUT_H

#include <stdint.h>

#include "buf.h"
#include "pbsd_table.h"

/* Not PATH_MAX: -Ilib makes <limits.h> find lib/limits.h. */
#define PBSD_PATH_MAX	1024

enum pbsd_out_type {
	PBSD_OUT_HASH,
	PBSD_OUT_BTREE,
	PBSD_OUT_TEXT,
};

enum pbsd_out_nul {
	PBSD_NUL_NO,
	PBSD_NUL_YES,
	PBSD_NUL_BOTH,
};

enum pbsd_out_value {
	PBSD_VAL_OK,
	PBSD_VAL_RELAY,
	PBSD_VAL_EXPIRY,
};

#define PBSD_KEYS_POSTFIX	0x01
#define PBSD_KEYS_SENDMAIL	0x02
/* Sendmail's classic access map: "connect:" + the Sendmail spelling; a
 * file of its own (pbsd_conf refuses to mix it with the other styles). */
#define PBSD_KEYS_SENDMAIL_CONNECT	0x04

struct pbsd_output {
	int	po_type;		/* enum pbsd_out_type */
	int	po_nul;			/* enum pbsd_out_nul (DB only) */
	int	po_keys;		/* PBSD_KEYS_* (IPv6 spellings) */
	int	po_value;		/* enum pbsd_out_value (DB only) */
	char	po_path[PBSD_PATH_MAX];	/* absolute */
};

/* Longest state file line, and its maximum size. */
#define PBSD_STATE_MAX_LINE	128

/* Writes one output from the table.  Returns 0, or -1 with *errstr_r. */
int	 pbsd_out_write(const struct pbsd_output *, const struct pbsd_table *,
	    const char **errstr_r);
/* Writes the state file (text: "ADDR EXPIRY" per line). */
int	 pbsd_state_write(const char *path, const struct pbsd_table *,
	    const char **errstr_r);
/*
 * Removes left-over ".BASE.tmp.*" files next to path, and the
 * "__db..BASE.tmp.*" files Berkeley DB makes while creating one.  Returns
 * how many.
 */
int	 pbsd_out_clean_tmp(const char *path);

/* Incremental state file reader (UNTRUSTED-ish: a file; lines bounded). */
struct pbsd_state_reader {
	struct buf		 sr_buf;
	struct pbsd_table	*sr_table;
	int64_t			 sr_now;
	int			 sr_v6plen;
	size_t			 sr_loaded;	/* entries taken */
	size_t			 sr_expired;	/* lines already expired */
	size_t			 sr_bad;	/* malformed lines skipped */
	size_t			 sr_full;	/* table full */
	int			 sr_skipping;	/* inside an over-long line */
};

void	 pbsd_state_reader_init(struct pbsd_state_reader *,
	    struct pbsd_table *, int64_t now, int v6plen);
/*
 * UNTRUSTED: feeds n bytes; bounded by PBSD_STATE_MAX_LINE per line (a
 * longer line is skipped as bad).  Returns 0.
 */
int	 pbsd_state_reader_feed(struct pbsd_state_reader *, const uint8_t *,
	    size_t);
/* End of input: a last line without LF counts as bad.  Frees buffers. */
void	 pbsd_state_reader_finish(struct pbsd_state_reader *);
/* Reads the file at path; a missing file is not an error. 0 or -1. */
int	 pbsd_state_load(const char *path, struct pbsd_state_reader *,
	    const char **errstr_r);

#endif
