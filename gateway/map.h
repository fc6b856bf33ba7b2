/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * map: user maps, behind a table of functions (OpenSMTPD table_*.c).
 * Runs in the lookup role.  Map files are trusted as the admin's, but the
 * query (username, addresses) is UNTRUSTED and is never expanded twice:
 * query keys substitute user input once, literally (threat row 26).
 */
#ifndef BAILEY_MAP_H
#define BAILEY_MAP_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "bailey_limits.h"

/*
 * Limits of the map files (admin input, but still bounded; see
 * docs/maps.md).  MAX_MAP_LINE (lib/bailey_limits.h) bounds each line.
 */
#define MAP_MAX_FILE		(16 * 1024 * 1024)	/* bytes per map file */
#define MAP_MAX_REGEX		10000	/* lines of a regex map */
#define MAP_MAX_STATIC		(1024 * 1024)	/* lines of a static map */
/* An expanded query key: a few templates' worth of user and addresses. */
#define MAP_MAX_KEY		1024
/* A result before it is parsed ("$n" expanded): user@host:port and more. */
#define MAP_MAX_VALUE		MAX_MAP_LINE

/* What lookup knows about a login attempt. */
struct map_query {
	char		user[MAX_USER + 1];	/* as the client sent it */
	char		client_addr[CONF_MAX_ADDR];
	uint16_t	client_port;
	char		server_addr[CONF_MAX_ADDR];
	uint16_t	server_port;
	enum proto	proto;
	char		delimiter;		/* domain delimiter, '@' */
};

/* "[user@]host[:port]"; empty user means keep the client's; port 0 means
 * the protocol's backend port. */
struct map_result {
	char		user[MAX_USER + 1];
	char		host[MAX_HOST + 1];
	uint16_t	port;
};

struct map;

struct map_ops {
	const char	*name;
	/* Loads the file; 0 or -1 with *errstr_r (static or in errbuf). */
	int	(*load)(struct map *, const char *path, char *errbuf,
		    size_t errbufsz);
	/* 1 found, 0 not found, -1 error. */
	int	(*lookup)(struct map *, const char *key, struct map_result *);
	void	(*free)(struct map *);
};

struct map {
	const struct map_ops	*ops;
	struct map_conf		 conf;
	void			*priv;
	time_t			 mtime;
	long			 mtime_ns;
	/* The file version last loaded or tried (map_refresh compares). */
	dev_t			 dev;
	ino_t			 ino;
	off_t			 size;
	int			 stat_failed;	/* logged once until it works */
};

/* Opens a map of conf->type.  Returns NULL and logs why on error. */
struct map *map_open(const struct map_conf *);
/* Reloads if the file's mtime changed; keeps the old data on failure. */
void	map_refresh(struct map *);
void	map_close(struct map **);
/*
 * Expands each comma-separated key of the map's key spec for q and looks
 * them up in order; first hit wins.  1 found, 0 not found, -1 error.
 */
int	map_lookup(struct map *, const struct map_query *, struct map_result *);
/*
 * Expands one query-key template (\U full user, \u user before the
 * delimiter, \d domain after it, \D the delimiter itself (Perdition's
 * meaning, see docs/maps.md), \i \I client/server address, \p \P
 * client/server port, \\ a backslash; any other escape is copied as it
 * is).  User input is inserted once, literally.  Returns 0, or -1 if the
 * result does not fit in dstsz.
 */
int	map_expand_key(const char *tmpl, size_t tmpllen,
	    const struct map_query *, char *dst, size_t dstsz);
/* Parses "[user@]host[:port]" (IPv6 as [addr]:port). 0 or -1. */
int	map_parse_result(const char *s, struct map_result *);
/*
 * UNTRUSTED (after "$n" substitution): parses len bytes of s, where
 * taint[i] != 0 marks a byte that came from user input (may be NULL).
 * Tainted bytes may never be the '@' user separator, a '[' or ']', or the
 * ':' before the port, and may only be hostname characters in the host.
 * Bounded by MAX_USER and MAX_HOST.  0, or -1 with *errstr_r.
 */
int	map_parse_result_taint(struct span s, const uint8_t *taint,
	    struct map_result *, const char **errstr_r);

/* Backends (map_regex.c, map_static.c). */
extern const struct map_ops	map_regex_ops;
extern const struct map_ops	map_static_ops;
/*
 * Load a map from text already in memory (the fuzz targets and tests use
 * these; ops->load reads the file and calls them).  fname names the text
 * in "fname:line: message" log lines.  Every bad line is logged and the
 * whole map is refused: 0, or -1 with the first error in errbuf.  On
 * success m->priv holds the new contents (the caller frees the old).
 */
int	map_regex_load_text(struct map *, const char *fname, const char *text,
	    size_t len, char *errbuf, size_t errbufsz);
int	map_static_load_text(struct map *, const char *fname,
	    const char *text, size_t len, char *errbuf, size_t errbufsz);

/* Helpers shared by the backends (map.c). */
/* Reads a regular file of at most MAP_MAX_FILE bytes (malloc, +1 NUL). */
int	map_read_file(const char *path, char **text_r, size_t *len_r,
	    const char **errstr_r);
/* ops->load for a text backend: reads path and hands it to load_text. */
int	map_load_file(struct map *, const char *path,
	    int (*load_text)(struct map *, const char *, const char *, size_t,
	    char *, size_t), char *errbuf, size_t errbufsz);
/*
 * Calls fn once per line of text (without its LF; a CR before it is
 * dropped), with its 1-based number.  A line longer than MAX_MAP_LINE
 * bytes is reported to fn as too_long with an empty span.  Stops and
 * returns -1 if fn does; 0 otherwise.
 */
int	map_text_lines(struct span text,
	    int (*fn)(void *, struct span line, size_t lineno, int too_long),
	    void *arg);
/* Records one load error: logs "fname:line: msg", keeps the first. */
void	map_load_error(const char *fname, size_t lineno, const char *msg,
	    char *errbuf, size_t errbufsz, size_t *nerrors);

#endif
