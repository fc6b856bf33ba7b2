/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * map: the map front end, run in the lookup role (unprivileged, chrooted
 * to the maps directory, read-only).  It trusts the map files as the
 * admin's and the parent's framing of each query, but not the query's
 * contents: the username and addresses are substituted into query keys
 * once, literally (threat row 26), and every map answer is parsed and
 * validated here before it leaves the process, with bytes that came from
 * the user barred from the answer's structure (see map_parse_result_taint
 * and docs/maps.md).
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "map.h"

#define MAP_LOG_ERRORS		50	/* load errors logged per load */
#define MAP_MAX_LABEL		63	/* RFC 1035 label length */

static const struct span map_empty_span = { (const uint8_t *)"", 0 };

/* ---- reading map files ------------------------------------------------ */

int
map_load_file(struct map *m, const char *path,
    int (*load_text)(struct map *, const char *, const char *, size_t, char *,
    size_t), char *errbuf, size_t errbufsz)
{
	const char	*errstr = NULL;
	char		*text = NULL;
	size_t		 len = 0;
	int		 rv;

	if (map_read_file(path, &text, &len, &errstr) == -1) {
		(void)snprintf(errbuf, errbufsz, "%s: %s", path, errstr);
		return -1;
	}
	rv = load_text(m, path, text, len, errbuf, errbufsz);
	free(text);
	return rv;
}

int
map_read_file(const char *path, char **text_r, size_t *len_r,
    const char **errstr_r)
{
	struct stat	 st;
	char		*text = NULL;
	size_t		 len = 0, cap;
	ssize_t		 n;
	int		 fd, rv = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		*errstr_r = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		*errstr_r = strerror(errno);
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		*errstr_r = "not a regular file";
		goto out_close;
	}
	if (st.st_size < 0 || st.st_size > MAP_MAX_FILE) {
		*errstr_r = "file larger than MAP_MAX_FILE";
		goto out_close;
	}
	/* Room for one byte more than fstat said, to notice a file that
	 * grew while it was read (it is refused then; the next refresh sees
	 * the new mtime and tries again). */
	cap = (size_t)st.st_size + 1;
	if ((text = malloc(cap + 1)) == NULL) {
		fatal("map_read_file");
	}
	for (;;) {
		n = read(fd, text + len, cap - len);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1) {
			*errstr_r = strerror(errno);
			goto out_free;
		}
		if (n == 0) {
			break;
		}
		len += (size_t)n;
		if (len == cap) {
			*errstr_r = "file changed while it was read";
			goto out_free;
		}
	}
	text[len] = '\0';
	*text_r = text;
	*len_r = len;
	text = NULL;
	rv = 0;
out_free:
	free(text);
out_close:
	close(fd);
	return rv;
}

int
map_text_lines(struct span text,
    int (*fn)(void *, struct span, size_t, int), void *arg)
{
	struct span	line;
	size_t		off = 0, end, lineno = 0;
	long		lf;
	int		too_long;

	while (off < text.len) {
		lf = span_find(text, off, '\n');
		end = lf == -1 ? text.len : (size_t)lf;
		line = span_sub(text, off, end - off);
		lineno++;
		if (line.len > 0 && span_byte(line, line.len - 1) == '\r') {
			line = span_sub(line, 0, line.len - 1);
		}
		too_long = line.len > MAX_MAP_LINE;
		if (fn(arg, too_long ? map_empty_span : line, lineno,
		    too_long) == -1) {
			return -1;
		}
		off = lf == -1 ? text.len : end + 1;
	}
	return 0;
}

void
map_load_error(const char *fname, size_t lineno, const char *msg,
    char *errbuf, size_t errbufsz, size_t *nerrors)
{
	if (*nerrors < MAP_LOG_ERRORS) {
		log_warnx("%s:%zu: %s", fname, lineno, msg);
	} else if (*nerrors == MAP_LOG_ERRORS) {
		log_warnx("%s: more errors not shown", fname);
	}
	if (*nerrors == 0 && errbuf != NULL && errbufsz > 0) {
		(void)snprintf(errbuf, errbufsz, "%s:%zu: %s", fname, lineno,
		    msg);
	}
	(*nerrors)++;
}

/* ---- open, refresh, close ---------------------------------------------- */

static const struct map_ops *
map_ops_for(enum map_type type)
{
	switch (type) {
	case MAP_REGEX:
		return &map_regex_ops;
	case MAP_STATIC:
		return &map_static_ops;
	default:
		return NULL;
	}
}

static void
map_set_version(struct map *m, const struct stat *st)
{
	m->mtime = st->st_mtim.tv_sec;
	m->mtime_ns = st->st_mtim.tv_nsec;
	m->dev = st->st_dev;
	m->ino = st->st_ino;
	m->size = st->st_size;
}

static int
map_same_version(const struct map *m, const struct stat *st)
{
	return m->mtime == st->st_mtim.tv_sec &&
	    m->mtime_ns == st->st_mtim.tv_nsec && m->dev == st->st_dev &&
	    m->ino == st->st_ino && m->size == st->st_size;
}

/* Loads the file into a scratch map; swaps it in only if it loaded. */
static int
map_reload(struct map *m)
{
	struct map	tmp = *m, old;
	char		errbuf[512];

	tmp.priv = NULL;
	errbuf[0] = '\0';
	if (m->ops->load(&tmp, m->conf.path, errbuf, sizeof(errbuf)) == -1) {
		log_warnx("map %s: not loaded: %s", m->conf.path,
		    errbuf[0] ? errbuf : "error");
		return -1;
	}
	old = *m;
	m->priv = tmp.priv;
	if (old.priv != NULL) {
		m->ops->free(&old);
	}
	return 0;
}

struct map *
map_open(const struct map_conf *conf)
{
	const struct map_ops	*ops;
	struct map		*m;
	struct stat		 st;

	if ((ops = map_ops_for(conf->type)) == NULL) {
		log_warnx("map %s: unknown type %d", conf->path,
		    (int)conf->type);
		return NULL;
	}
	if (stat(conf->path, &st) == -1) {
		log_warn("map %s", conf->path);
		return NULL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		fatal("map_open");
	}
	m->ops = ops;
	m->conf = *conf;
	map_set_version(m, &st);
	if (map_reload(m) == -1) {
		free(m);
		return NULL;
	}
	log_debug("map %s: loaded (%s)", conf->path, ops->name);
	return m;
}

void
map_refresh(struct map *m)
{
	struct stat	st;

	if (m == NULL) {
		return;
	}
	if (stat(m->conf.path, &st) == -1) {
		if (!m->stat_failed) {
			log_warn("map %s: keeping the loaded contents",
			    m->conf.path);
		}
		m->stat_failed = 1;
		return;
	}
	m->stat_failed = 0;
	if (map_same_version(m, &st)) {
		return;
	}
	/* Remember this version even if it fails: no retry until it changes. */
	map_set_version(m, &st);
	if (map_reload(m) == 0) {
		log_info("map %s: reloaded", m->conf.path);
	} else {
		log_warnx("map %s: keeping the previous contents",
		    m->conf.path);
	}
}

void
map_close(struct map **mp)
{
	struct map	*m;

	if (mp == NULL || (m = *mp) == NULL) {
		return;
	}
	if (m->priv != NULL) {
		m->ops->free(m);
	}
	free(m);
	*mp = NULL;
}

/* ---- query keys -------------------------------------------------------- */

/* A NUL-terminated field of a fixed-size array, as a span (never past it). */
static struct span
map_field(const char *s, size_t sz)
{
	struct span	sp;

	sp.p = (const uint8_t *)s;
	sp.len = strnlen(s, sz);
	return sp;
}

static char
map_delimiter(const struct map_query *q)
{
	return q->delimiter != '\0' ? q->delimiter : '@';
}

/* Splits the username at its last delimiter: local part, domain part. */
static void
map_split_user(const struct map_query *q, struct span *local_r,
    struct span *domain_r)
{
	struct span	user = map_field(q->user, sizeof(q->user));
	uint8_t		delim = (uint8_t)map_delimiter(q);
	long		at = -1, f = -1;

	while ((f = span_find(user, (size_t)(f + 1), delim)) != -1) {
		at = f;
	}
	if (at == -1) {
		*local_r = user;
		*domain_r = map_empty_span;
		return;
	}
	*local_r = span_sub(user, 0, (size_t)at);
	*domain_r = span_sub(user, (size_t)at + 1, user.len - (size_t)at - 1);
}

static int
map_expand_one(struct buf *b, uint8_t esc, const struct map_query *q)
{
	struct span	local, domain;
	char		delim;

	switch (esc) {
	case 'U':
		return buf_add_span(b, map_field(q->user, sizeof(q->user)));
	case 'u':
		map_split_user(q, &local, &domain);
		return buf_add_span(b, local);
	case 'd':
		map_split_user(q, &local, &domain);
		return buf_add_span(b, domain);
	case 'D':
		delim = map_delimiter(q);
		return buf_add(b, &delim, 1);
	case 'i':
		return buf_add_span(b,
		    map_field(q->client_addr, sizeof(q->client_addr)));
	case 'I':
		return buf_add_span(b,
		    map_field(q->server_addr, sizeof(q->server_addr)));
	case 'p':
		return buf_addf(b, "%u", (unsigned)q->client_port);
	case 'P':
		return buf_addf(b, "%u", (unsigned)q->server_port);
	case '\\':
		return buf_add(b, "\\", 1);
	default:
		/* Unknown escape: copied as it is. */
		if (buf_add(b, "\\", 1) == -1) {
			return -1;
		}
		return buf_add(b, &esc, 1);
	}
}

int
map_expand_key(const char *tmpl, size_t tmpllen, const struct map_query *q,
    char *dst, size_t dstsz)
{
	struct span	t = { (const uint8_t *)tmpl, tmpllen };
	struct buf	b;
	size_t		i;
	uint8_t		c;
	int		rv = -1;

	if (dstsz == 0) {
		return -1;
	}
	dst[0] = '\0';
	buf_init(&b, dstsz - 1);
	for (i = 0; i < t.len; i++) {
		c = span_byte(t, i);
		if (c != '\\' || i + 1 == t.len) {
			if (buf_add(&b, &c, 1) == -1) {
				goto out;
			}
			continue;
		}
		i++;
		if (map_expand_one(&b, span_byte(t, i), q) == -1) {
			goto out;
		}
	}
	if (span_cstr(buf_span(&b), dst, dstsz) == -1) {
		dst[0] = '\0';
		goto out;
	}
	rv = 0;
out:
	buf_release(&b);
	return rv;
}

/* 1 if s has a byte that never belongs in a key: controls and DEL. */
static int
map_has_ctl(struct span s)
{
	size_t	i;
	uint8_t	c;

	for (i = 0; i < s.len; i++) {
		c = span_byte(s, i);
		if (c < 0x20 || c == 0x7f) {
			return 1;
		}
	}
	return 0;
}

/* The query must be NUL-terminated in each field and free of controls. */
static int
map_query_ok(const struct map_query *q)
{
	if (strnlen(q->user, sizeof(q->user)) == sizeof(q->user) ||
	    strnlen(q->client_addr, sizeof(q->client_addr)) ==
	    sizeof(q->client_addr) ||
	    strnlen(q->server_addr, sizeof(q->server_addr)) ==
	    sizeof(q->server_addr)) {
		return 0;
	}
	return !map_has_ctl(map_field(q->user, sizeof(q->user))) &&
	    !map_has_ctl(map_field(q->client_addr, sizeof(q->client_addr))) &&
	    !map_has_ctl(map_field(q->server_addr, sizeof(q->server_addr)));
}

int
map_lookup(struct map *m, const struct map_query *q, struct map_result *r)
{
	struct span	spec, tmpl;
	char		key[MAP_MAX_KEY];
	char		esc[MAX_USER * 4 + 8];
	size_t		off = 0, end;
	long		comma;
	int		rv = 0;

	memset(r, 0, sizeof(*r));
	if (m == NULL || m->priv == NULL) {
		return -1;
	}
	if (!map_query_ok(q)) {
		log_warnx("map %s: query with control characters refused: "
		    "user=%s", m->conf.path, log_escape(map_field(q->user,
		    sizeof(q->user)), esc, sizeof(esc)));
		return -1;
	}
	spec = map_field(m->conf.key, sizeof(m->conf.key));
	if (spec.len == 0) {
		spec = SPAN_LIT("\\U");
	}
	while (off <= spec.len && rv == 0) {
		comma = span_find(spec, off, ',');
		end = comma == -1 ? spec.len : (size_t)comma;
		if (end > off) {
			tmpl = span_sub(spec, off, end - off);
			if (map_expand_key((const char *)tmpl.p, tmpl.len, q,
			    key, sizeof(key)) == -1) {
				log_warnx("map %s: query key longer than %d "
				    "bytes", m->conf.path, MAP_MAX_KEY - 1);
				rv = -1;
				break;
			}
			if (key[0] != '\0') {
				rv = m->ops->lookup(m, key, r);
			}
		}
		off = end + 1;
	}
	secure_zero(key, sizeof(key));
	if (rv != 1) {
		memset(r, 0, sizeof(*r));
	}
	return rv;
}

/* ---- results ----------------------------------------------------------- */

static int
map_tainted(const uint8_t *taint, size_t i)
{
	return taint != NULL && taint[i] != 0;
}

static int
map_is_alnum(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
map_is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* A label made only of digits, or of 0x and hex digits (inet_aton). */
static int
map_label_numeric(struct span l)
{
	size_t	i = 0;

	if (l.len == 0) {
		return 0;
	}
	if (l.len > 2 && span_byte(l, 0) == '0' &&
	    (span_byte(l, 1) == 'x' || span_byte(l, 1) == 'X')) {
		for (i = 2; i < l.len; i++) {
			if (!map_is_hex(span_byte(l, i))) {
				return 0;
			}
		}
		return 1;
	}
	for (i = 0; i < l.len; i++) {
		if (span_byte(l, i) < '0' || span_byte(l, i) > '9') {
			return 0;
		}
	}
	return 1;
}

/*
 * Host names: letters, digits, '-', '_' and '.', labels of 1..63 bytes
 * starting with a letter or digit, an optional final dot.  A name made only
 * of numeric labels must be a dotted quad: "2130706433", "127.1" and
 * "0x7f.1" would otherwise reach the resolver as addresses (threat row 8).
 */
static int
map_host_ok(struct span h, char *dst, size_t dstsz, const char **errstr_r)
{
	struct in_addr	in4;
	size_t		i, start = 0;
	uint8_t		c;
	int		all_numeric = 1;

	if (h.len == 0) {
		*errstr_r = "empty host";
		return -1;
	}
	if (h.len > MAX_HOST) {
		*errstr_r = "host longer than MAX_HOST";
		return -1;
	}
	for (i = 0; i <= h.len; i++) {
		c = i < h.len ? span_byte(h, i) : '.';
		if (c == '.') {
			if (i == start && i == h.len && i > 0) {
				break;		/* one final dot */
			}
			if (i == start || i - start > MAP_MAX_LABEL) {
				*errstr_r = "bad host name label";
				return -1;
			}
			if (!map_label_numeric(span_sub(h, start, i - start))) {
				all_numeric = 0;
			}
			start = i + 1;
			continue;
		}
		if (!map_is_alnum(c) && c != '-' && c != '_') {
			*errstr_r = "bad character in host";
			return -1;
		}
		if (i == start && !map_is_alnum(c)) {
			*errstr_r = "bad host name label";
			return -1;
		}
	}
	if (span_cstr(h, dst, dstsz) == -1) {
		*errstr_r = "bad host";
		return -1;
	}
	if (all_numeric && inet_pton(AF_INET, dst, &in4) != 1) {
		*errstr_r = "numeric host is not a dotted-quad IPv4 address";
		return -1;
	}
	return 0;
}

static int
map_v6_ok(struct span a, char *dst, size_t dstsz, const char **errstr_r)
{
	struct in6_addr	in6;
	size_t		i;
	uint8_t		c;

	if (a.len == 0 || a.len >= INET6_ADDRSTRLEN || a.len >= dstsz) {
		*errstr_r = "bad IPv6 address";
		return -1;
	}
	for (i = 0; i < a.len; i++) {
		c = span_byte(a, i);
		if (!map_is_hex(c) && c != ':' && c != '.') {
			*errstr_r = "bad character in IPv6 address";
			return -1;
		}
	}
	if (span_cstr(a, dst, dstsz) == -1 ||
	    inet_pton(AF_INET6, dst, &in6) != 1) {
		dst[0] = '\0';
		*errstr_r = "bad IPv6 address";
		return -1;
	}
	return 0;
}

static int
map_port_ok(struct span p, uint16_t *port_r, const char **errstr_r)
{
	uint64_t	v;

	if (p.len == 0 || p.len > 5 || span_parse_uint(p, 1, 65535, &v) == -1) {
		*errstr_r = "port not in 1..65535";
		return -1;
	}
	*port_r = (uint16_t)v;
	return 0;
}

static int
map_user_ok(struct span u, char *dst, size_t dstsz, const char **errstr_r)
{
	if (u.len > MAX_USER) {
		*errstr_r = "user longer than MAX_USER";
		return -1;
	}
	if (map_has_ctl(u) || span_cstr(u, dst, dstsz) == -1) {
		*errstr_r = "control character in user";
		return -1;
	}
	return 0;
}

/* host[:port] or [v6][:port]; off is hp's offset in the whole result. */
static int
map_parse_hostport(struct span hp, size_t off, const uint8_t *taint,
    struct map_result *r, const char **errstr_r)
{
	struct span	host = hp, port = map_empty_span;
	long		rb, colon;

	if (hp.len > 0 && span_byte(hp, 0) == '[') {
		if (map_tainted(taint, off) ||
		    (rb = span_find(hp, 1, ']')) == -1 ||
		    map_tainted(taint, off + (size_t)rb)) {
			*errstr_r = "bad [IPv6] host";
			return -1;
		}
		if (map_v6_ok(span_sub(hp, 1, (size_t)rb - 1), r->host,
		    sizeof(r->host), errstr_r) == -1) {
			return -1;
		}
		colon = (size_t)rb + 1 < hp.len ? rb + 1 : -1;
		if (colon != -1 && span_byte(hp, (size_t)colon) != ':') {
			*errstr_r = "junk after [IPv6] host";
			return -1;
		}
	} else {
		colon = span_find(hp, 0, ':');
		host = colon == -1 ? hp : span_sub(hp, 0, (size_t)colon);
		if (map_host_ok(host, r->host, sizeof(r->host),
		    errstr_r) == -1) {
			return -1;
		}
	}
	if (colon == -1) {
		return 0;
	}
	if (map_tainted(taint, off + (size_t)colon)) {
		*errstr_r = "user input supplies the ':' before the port";
		return -1;
	}
	port = span_sub(hp, (size_t)colon + 1, hp.len - (size_t)colon - 1);
	return map_port_ok(port, &r->port, errstr_r);
}

int
map_parse_result_taint(struct span s, const uint8_t *taint,
    struct map_result *r, const char **errstr_r)
{
	long	at = -1, f = -1;
	size_t	hoff = 0;

	memset(r, 0, sizeof(*r));
	if (s.len == 0) {
		*errstr_r = "empty result";
		return -1;
	}
	while ((f = span_find(s, (size_t)(f + 1), '@')) != -1) {
		at = f;
	}
	if (at != -1) {
		if (map_tainted(taint, (size_t)at)) {
			*errstr_r = "user input supplies the '@' separator";
			goto fail;
		}
		if (map_user_ok(span_sub(s, 0, (size_t)at), r->user,
		    sizeof(r->user), errstr_r) == -1) {
			goto fail;
		}
		hoff = (size_t)at + 1;
	}
	if (map_parse_hostport(span_sub(s, hoff, s.len - hoff), hoff, taint, r,
	    errstr_r) == -1) {
		goto fail;
	}
	return 0;
fail:
	memset(r, 0, sizeof(*r));
	return -1;
}

int
map_parse_result(const char *s, struct map_result *r)
{
	const char	*errstr = NULL;

	if (s == NULL) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return map_parse_result_taint(span_from_str(s), NULL, r, &errstr);
}
