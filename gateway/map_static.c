/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * map_static: a text file of "key: value" lines (Perdition's flat popmap
 * "key:value" works too), run in the lookup role, unprivileged and
 * chrooted.  The file is the admin's; it is parsed with hard limits and
 * each value is validated once, at load time.  Lookup keys carry user
 * input and are only compared (ASCII case-insensitively), never
 * interpreted.  Entries are kept in a sorted array: O(log n) per lookup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "map.h"

struct st_entry {
	char			*key;	/* folded to lower case */
	struct map_result	 res;
	size_t			 lineno;
};

struct st_map {
	struct st_entry	*v;
	size_t		 n;
	size_t		 cap;
};

struct st_load {
	const char	*fname;
	struct st_map	*sm;
	char		*errbuf;
	size_t		 errbufsz;
	size_t		 nerrors;
};

static void
st_entries_free(struct st_map *sm)
{
	size_t	i;

	for (i = 0; i < sm->n; i++) {
		free(sm->v[i].key);
	}
	free(sm->v);
	free(sm);
}

static void
st_free(struct map *m)
{
	if (m->priv != NULL) {
		st_entries_free(m->priv);
	}
	m->priv = NULL;
}

/*
 * Copies a key, folding ASCII letters to lower case: keys are compared
 * case-insensitively (a key may be a bare domain from \d, and mail systems
 * treat local parts alike too).  8-bit bytes are compared as they are.
 */
static int
st_fold_key(struct span k, char *dst, size_t dstsz)
{
	struct buf	b;
	size_t		i;
	uint8_t		c;
	int		rv = -1;

	if (dstsz == 0) {
		return -1;
	}
	buf_init(&b, dstsz - 1);
	for (i = 0; i < k.len; i++) {
		c = span_byte(k, i);
		if (c >= 'A' && c <= 'Z') {
			c = (uint8_t)(c + ('a' - 'A'));
		}
		if (buf_add(&b, &c, 1) == -1) {
			goto out;
		}
	}
	rv = span_cstr(buf_span(&b), dst, dstsz);
out:
	buf_release(&b);
	return rv;
}

static int
st_has_space_or_ctl(struct span s)
{
	size_t	i;
	uint8_t	c;

	for (i = 0; i < s.len; i++) {
		c = span_byte(s, i);
		if (c <= 0x20 || c == 0x7f) {
			return 1;
		}
	}
	return 0;
}

/* The key ends at the first ':' followed by blank, else the first ':'. */
static long
st_split(struct span line)
{
	long	c = -1, first;
	size_t	next;

	first = span_find(line, 0, ':');
	while ((c = span_find(line, (size_t)(c + 1), ':')) != -1) {
		next = (size_t)c + 1;
		if (next < line.len && (span_byte(line, next) == ' ' ||
		    span_byte(line, next) == '\t')) {
			return c;
		}
	}
	return first;
}

static void
st_add(struct st_load *ld, struct span key, const struct map_result *res,
    size_t lineno)
{
	struct st_entry	*e;
	char		 k[MAP_MAX_KEY];

	if (st_fold_key(key, k, sizeof(k)) == -1) {
		map_load_error(ld->fname, lineno, "key longer than MAP_MAX_KEY",
		    ld->errbuf, ld->errbufsz, &ld->nerrors);
		return;
	}
	if (ld->sm->n >= MAP_MAX_STATIC) {
		map_load_error(ld->fname, lineno,
		    "more than MAP_MAX_STATIC keys", ld->errbuf, ld->errbufsz, &ld->nerrors);
		return;
	}
	if (ld->sm->n == ld->sm->cap) {
		ld->sm->cap = ld->sm->cap ? ld->sm->cap * 2 : 64;
		e = reallocarray(ld->sm->v, ld->sm->cap, sizeof(*e));
		if (e == NULL) {
			fatal("st_add");
		}
		ld->sm->v = e;
	}
	e = &ld->sm->v[ld->sm->n];
	if ((e->key = strdup(k)) == NULL) {
		fatal("st_add");
	}
	e->res = *res;
	e->lineno = lineno;
	ld->sm->n++;
}

static int
st_line(void *arg, struct span line, size_t lineno, int too_long)
{
	struct st_load		*ld = arg;
	struct map_result	 res;
	struct span		 key, value;
	const char		*err = NULL;
	char			 msg[160];
	long			 hash, colon;

	if (too_long) {
		err = "line longer than MAX_MAP_LINE";
		goto bad;
	}
	if ((hash = span_find(line, 0, '#')) != -1) {
		line = span_sub(line, 0, (size_t)hash);
	}
	line = span_trim(line);
	if (line.len == 0) {
		return 0;
	}
	if ((colon = st_split(line)) == -1) {
		err = "no ':' after the key";
		goto bad;
	}
	key = span_trim(span_sub(line, 0, (size_t)colon));
	value = span_trim(span_sub(line, (size_t)colon + 1,
	    line.len - (size_t)colon - 1));
	if (key.len == 0) {
		err = "empty key";
	} else if (st_has_space_or_ctl(key)) {
		err = "blank or control character in key";
	} else if (value.len == 0) {
		err = "empty value";
	} else if (st_has_space_or_ctl(value)) {
		err = "blank or control character in value";
	} else if (map_parse_result_taint(value, NULL, &res, &err) == 0) {
		st_add(ld, key, &res, lineno);
		return 0;
	}
bad:
	(void)snprintf(msg, sizeof(msg), "%s", err);
	map_load_error(ld->fname, lineno, msg, ld->errbuf, ld->errbufsz,
	    &ld->nerrors);
	return 0;
}

static int
st_cmp(const void *a, const void *b)
{
	const struct st_entry	*x = a, *y = b;
	int			 c = strcmp(x->key, y->key);

	if (c != 0) {
		return c;
	}
	return x->lineno < y->lineno ? -1 : x->lineno > y->lineno;
}

int
map_static_load_text(struct map *m, const char *fname, const char *text,
    size_t len, char *errbuf, size_t errbufsz)
{
	struct st_load	ld;
	struct span	t = { (const uint8_t *)text, len };
	char		msg[96];
	size_t		i;

	memset(&ld, 0, sizeof(ld));
	ld.fname = fname;
	ld.errbuf = errbuf;
	ld.errbufsz = errbufsz;
	if ((ld.sm = calloc(1, sizeof(*ld.sm))) == NULL) {
		fatal("map_static_load_text");
	}
	(void)map_text_lines(t, st_line, &ld);
	if (ld.sm->n > 1) {
		qsort(ld.sm->v, ld.sm->n, sizeof(*ld.sm->v), st_cmp);
	}
	for (i = 1; i < ld.sm->n; i++) {
		if (strcmp(ld.sm->v[i - 1].key, ld.sm->v[i].key) == 0) {
			(void)snprintf(msg, sizeof(msg),
			    "duplicate key (first on line %zu)",
			    ld.sm->v[i - 1].lineno);
			map_load_error(fname, ld.sm->v[i].lineno, msg, errbuf,
			    errbufsz, &ld.nerrors);
		}
	}
	if (ld.nerrors > 0) {
		st_entries_free(ld.sm);
		return -1;
	}
	m->priv = ld.sm;
	return 0;
}

static int
st_load(struct map *m, const char *path, char *errbuf, size_t errbufsz)
{
	return map_load_file(m, path, map_static_load_text, errbuf, errbufsz);
}

static int
st_key_cmp(const void *key, const void *ent)
{
	const struct st_entry	*e = ent;

	return strcmp(key, e->key);
}

/* UNTRUSTED: key holds user input, bounded by MAP_MAX_KEY (map_lookup). */
static int
st_lookup(struct map *m, const char *key, struct map_result *r)
{
	struct st_map	*sm = m->priv;
	struct st_entry	*e;
	char		 k[MAP_MAX_KEY];

	if (sm == NULL) {
		return -1;
	}
	if (sm->n == 0) {
		return 0;
	}
	if (st_fold_key(span_from_str(key), k, sizeof(k)) == -1) {
		return 0;	/* longer than any key in the map */
	}
	e = bsearch(k, sm->v, sm->n, sizeof(*sm->v), st_key_cmp);
	secure_zero(k, sizeof(k));
	if (e == NULL) {
		return 0;
	}
	*r = e->res;
	return 1;
}

const struct map_ops map_static_ops = {
	.name = "static",
	.load = st_load,
	.lookup = st_lookup,
	.free = st_free,
};
