/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_conf: the pbsd.conf parser.  Runs in pbsd as root before anything
 * is opened, and in "pbsd -n".  The file is root's, but the parser is still
 * bounded and strict: unknown keys, bad numbers and over-long lines are
 * errors with a line number.  Names are resolved only in pbsd_conf_ids().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "pbsd_auth.h"
#include "pbsd_conf.h"
#include "pbsd_logtail_parse.h"

#define PBSD_CONF_MAX_FILE	(1U << 20)

struct pbsd_conf_key;
typedef int pbsd_conf_set_fn(struct pbsd_conf *, const struct pbsd_conf_key *,
    struct span, const char **);

struct pbsd_conf_key {
	const char		*ck_name;
	pbsd_conf_set_fn	*ck_set;
	size_t			 ck_off;	/* into struct pbsd_conf */
	size_t			 ck_size;	/* string size */
	uint64_t		 ck_min, ck_max;
};

static void *
pbsd_conf_field(struct pbsd_conf *c, const struct pbsd_conf_key *k)
{
	return (char *)c + k->ck_off;
}

static int
pbsd_conf_set_str(struct pbsd_conf *c, const struct pbsd_conf_key *k,
    struct span v, const char **errstr_r)
{
	if (v.len == 0 || span_has_ctl(v) ||
	    span_cstr(v, pbsd_conf_field(c, k), k->ck_size) == -1) {
		*errstr_r = "empty, too long or bad characters in value";
		return -1;
	}
	return 0;
}

static int
pbsd_conf_set_path(struct pbsd_conf *c, const struct pbsd_conf_key *k,
    struct span v, const char **errstr_r)
{
	if (v.len == 0 || span_byte(v, 0) != '/') {
		*errstr_r = "path must be absolute";
		return -1;
	}
	return pbsd_conf_set_str(c, k, v, errstr_r);
}

static int
pbsd_conf_set_uint(struct pbsd_conf *c, const struct pbsd_conf_key *k,
    struct span v, const char **errstr_r)
{
	uint64_t	n;

	if (span_parse_uint(v, k->ck_min, k->ck_max, &n) == -1) {
		*errstr_r = "number out of range";
		return -1;
	}
	*(unsigned int *)pbsd_conf_field(c, k) = (unsigned int)n;
	return 0;
}

static int
pbsd_conf_set_mode(struct pbsd_conf *c, const struct pbsd_conf_key *k,
    struct span v, const char **errstr_r)
{
	unsigned int	m = 0;
	size_t		i;
	uint8_t		ch;

	if (v.len == 0 || v.len > 4) {
		*errstr_r = "mode must be 1 to 4 octal digits";
		return -1;
	}
	for (i = 0; i < v.len; i++) {
		ch = span_byte(v, i);
		if (ch < '0' || ch > '7') {
			*errstr_r = "mode must be octal";
			return -1;
		}
		m = m * 8 + (unsigned int)(ch - '0');
	}
	if (m > 0777) {
		*errstr_r = "mode must be at most 0777";
		return -1;
	}
	*(unsigned int *)pbsd_conf_field(c, k) = m;
	return 0;
}

static int
pbsd_conf_set_prefix(struct pbsd_conf *c, const struct pbsd_conf_key *k,
    struct span v, const char **errstr_r)
{
	(void)k;
	if (span_eq(v, "64")) {
		c->pc_ipv6_prefix = 64;
	} else if (span_eq(v, "128")) {
		c->pc_ipv6_prefix = 128;
	} else {
		*errstr_r = "ipv6_prefix must be 64 or 128";
		return -1;
	}
	return 0;
}

/* Splits v at SP, TAB or ',' and calls fn for each word. */
static int
pbsd_conf_words(struct span v, int (*fn)(void *, struct span, const char **),
    void *arg, const char **errstr_r)
{
	size_t	i, start = 0;
	uint8_t	ch;
	int	nwords = 0;

	for (i = 0; i <= v.len; i++) {
		ch = i < v.len ? span_byte(v, i) : ' ';
		if (ch != ' ' && ch != '\t' && ch != ',') {
			continue;
		}
		if (i > start) {
			if (fn(arg, span_sub(v, start, i - start),
			    errstr_r) == -1) {
				return -1;
			}
			nwords++;
		}
		start = i + 1;
	}
	if (nwords == 0) {
		*errstr_r = "empty list";
		return -1;
	}
	return 0;
}

struct pbsd_conf_idlist {
	char	(*names)[PBSD_CONF_MAX_NAME];
	size_t	*n;
};

static int
pbsd_conf_add_id(void *arg, struct span w, const char **errstr_r)
{
	struct pbsd_conf_idlist	*l = arg;

	if (*l->n >= PBSD_CONF_MAX_IDS) {
		*errstr_r = "too many ids";
		return -1;
	}
	if (span_cstr(w, l->names[*l->n], PBSD_CONF_MAX_NAME) == -1) {
		*errstr_r = "id too long";
		return -1;
	}
	(*l->n)++;
	return 0;
}

static int
pbsd_conf_set_uids(struct pbsd_conf *c, const struct pbsd_conf_key *k,
    struct span v, const char **errstr_r)
{
	struct pbsd_conf_idlist	l = { c->pc_allow_uid, &c->pc_nallow_uid };

	(void)k;
	return pbsd_conf_words(v, pbsd_conf_add_id, &l, errstr_r);
}

static int
pbsd_conf_set_gids(struct pbsd_conf *c, const struct pbsd_conf_key *k,
    struct span v, const char **errstr_r)
{
	struct pbsd_conf_idlist	l = { c->pc_allow_gid, &c->pc_nallow_gid };

	(void)k;
	return pbsd_conf_words(v, pbsd_conf_add_id, &l, errstr_r);
}

/* "output = hash|btree|text /abs/path" starts a new output. */
static int
pbsd_conf_set_output(struct pbsd_conf *c, const struct pbsd_conf_key *k,
    struct span v, const char **errstr_r)
{
	struct pbsd_output	*o;
	struct span		 type, path;
	long			 sp;

	(void)k;
	if (c->pc_noutputs >= PBSD_CONF_MAX_OUTPUTS) {
		*errstr_r = "too many outputs";
		return -1;
	}
	if ((sp = span_find(v, 0, ' ')) < 0) {
		*errstr_r = "output needs a type and a path";
		return -1;
	}
	type = span_sub(v, 0, (size_t)sp);
	path = span_trim(span_sub(v, (size_t)sp, v.len - (size_t)sp));
	o = &c->pc_outputs[c->pc_noutputs];
	memset(o, 0, sizeof(*o));
	o->po_keys = PBSD_KEYS_POSTFIX;
	if (span_eq(type, "hash")) {
		o->po_type = PBSD_OUT_HASH;
	} else if (span_eq(type, "btree")) {
		o->po_type = PBSD_OUT_BTREE;
	} else if (span_eq(type, "text")) {
		o->po_type = PBSD_OUT_TEXT;
	} else {
		*errstr_r = "output type must be hash, btree or text";
		return -1;
	}
	if (path.len == 0 || span_byte(path, 0) != '/' ||
	    span_find(path, 0, ' ') >= 0 || span_has_ctl(path) ||
	    span_cstr(path, o->po_path, sizeof(o->po_path)) == -1) {
		*errstr_r = "output path must be absolute, without spaces";
		return -1;
	}
	c->pc_noutputs++;
	return 0;
}

static struct pbsd_output *
pbsd_conf_last_output(struct pbsd_conf *c, const char **errstr_r)
{
	if (c->pc_noutputs == 0) {
		*errstr_r = "output_* before any output line";
		return NULL;
	}
	return &c->pc_outputs[c->pc_noutputs - 1];
}

static int
pbsd_conf_set_nul(struct pbsd_conf *c, const struct pbsd_conf_key *k,
    struct span v, const char **errstr_r)
{
	struct pbsd_output	*o;

	(void)k;
	if ((o = pbsd_conf_last_output(c, errstr_r)) == NULL) {
		return -1;
	}
	if (span_eq(v, "no")) {
		o->po_nul = PBSD_NUL_NO;
	} else if (span_eq(v, "yes")) {
		o->po_nul = PBSD_NUL_YES;
	} else if (span_eq(v, "both")) {
		o->po_nul = PBSD_NUL_BOTH;
	} else {
		*errstr_r = "output_nul must be no, yes or both";
		return -1;
	}
	return 0;
}

static int
pbsd_conf_set_value(struct pbsd_conf *c, const struct pbsd_conf_key *k,
    struct span v, const char **errstr_r)
{
	struct pbsd_output	*o;

	(void)k;
	if ((o = pbsd_conf_last_output(c, errstr_r)) == NULL) {
		return -1;
	}
	if (span_eq(v, "OK")) {
		o->po_value = PBSD_VAL_OK;
	} else if (span_eq(v, "RELAY")) {
		o->po_value = PBSD_VAL_RELAY;
	} else if (span_eq(v, "expiry")) {
		o->po_value = PBSD_VAL_EXPIRY;
	} else {
		*errstr_r = "output_value must be OK, RELAY or expiry";
		return -1;
	}
	return 0;
}

static int
pbsd_conf_add_keystyle(void *arg, struct span w, const char **errstr_r)
{
	int	*keys = arg;

	if (span_eq(w, "postfix")) {
		*keys |= PBSD_KEYS_POSTFIX;
	} else if (span_eq(w, "sendmail")) {
		*keys |= PBSD_KEYS_SENDMAIL;
	} else if (span_eq(w, "sendmail-connect")) {
		*keys |= PBSD_KEYS_SENDMAIL_CONNECT;
	} else {
		*errstr_r = "output_keys are postfix and/or sendmail, or "
		    "sendmail-connect";
		return -1;
	}
	if ((*keys & PBSD_KEYS_SENDMAIL_CONNECT) &&
	    (*keys & ~PBSD_KEYS_SENDMAIL_CONNECT)) {
		*errstr_r = "output_keys sendmail-connect needs a file of its "
		    "own";
		return -1;
	}
	return 0;
}

static int
pbsd_conf_set_keys(struct pbsd_conf *c, const struct pbsd_conf_key *k,
    struct span v, const char **errstr_r)
{
	struct pbsd_output	*o;
	int			 keys = 0;

	(void)k;
	if ((o = pbsd_conf_last_output(c, errstr_r)) == NULL) {
		return -1;
	}
	if (pbsd_conf_words(v, pbsd_conf_add_keystyle, &keys,
	    errstr_r) == -1) {
		return -1;
	}
	o->po_keys = keys;
	return 0;
}

/* nftables table and set names: [A-Za-z0-9_], 1..31 characters. */
static int
pbsd_conf_set_nftname(struct pbsd_conf *c, const struct pbsd_conf_key *k,
    struct span v, const char **errstr_r)
{
	size_t	i;
	uint8_t	ch;

	for (i = 0; i < v.len; i++) {
		ch = span_byte(v, i);
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_')) {
			*errstr_r = "nft names are letters, digits and '_'";
			return -1;
		}
	}
	return pbsd_conf_set_str(c, k, v, errstr_r);
}

/* --- remote gateways (issue 6) ------------------------------------------ */

/* Parses a numeric IPv4 or IPv6 address (no brackets) into addr. */
static int
pbsd_conf_inet(struct span v, int *family_r, uint8_t addr[16])
{
	char	tmp[INET6_ADDRSTRLEN + 1];

	memset(addr, 0, 16);
	if (span_cstr(v, tmp, sizeof(tmp)) == -1) {
		return -1;
	}
	if (inet_pton(AF_INET, tmp, addr) == 1) {
		*family_r = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, addr) == 1) {
		*family_r = AF_INET6;
		return 0;
	}
	return -1;
}

/* UNTRUSTED: bounded by PBSD_CONF_MAX_LINE. */
int
pbsd_conf_endpoint(struct span v, struct pbsd_endpoint *ep,
    const char **errstr_r)
{
	struct span	rest, host, port;
	uint64_t	n;
	long		i;

	memset(ep, 0, sizeof(*ep));
	*errstr_r = "endpoint must be udp:ADDRESS:PORT or tcp:ADDRESS:PORT "
	    "(IPv6 in brackets)";
	if (v.len < 4 || v.len > PBSD_CONF_MAX_LINE) {
		return -1;
	}
	if (span_has_prefix_ci(v, "udp:")) {
		ep->ep_proto = PBSD_EP_UDP;
	} else if (span_has_prefix_ci(v, "tcp:")) {
		ep->ep_proto = PBSD_EP_TCP;
	} else {
		return -1;
	}
	rest = span_sub(v, 4, v.len - 4);
	if (rest.len > 0 && span_byte(rest, 0) == '[') {
		if ((i = span_find(rest, 0, ']')) < 0 ||
		    (size_t)i + 1 >= rest.len ||
		    span_byte(rest, (size_t)i + 1) != ':') {
			return -1;
		}
		host = span_sub(rest, 1, (size_t)i - 1);
		port = span_sub(rest, (size_t)i + 2, rest.len - (size_t)i - 2);
		if (pbsd_conf_inet(host, &ep->ep_family, ep->ep_addr) == -1 ||
		    ep->ep_family != AF_INET6) {
			return -1;
		}
	} else {
		if ((i = span_find(rest, 0, ':')) < 0) {
			return -1;
		}
		host = span_sub(rest, 0, (size_t)i);
		port = span_sub(rest, (size_t)i + 1, rest.len - (size_t)i - 1);
		if (pbsd_conf_inet(host, &ep->ep_family, ep->ep_addr) == -1 ||
		    ep->ep_family != AF_INET) {
			return -1;
		}
	}
	if (span_parse_uint(port, 1, 65535, &n) == -1) {
		return -1;
	}
	ep->ep_port = (uint16_t)n;
	return 0;
}

int
pbsd_netmask_match(const struct pbsd_netmask *m, int family,
    const uint8_t *addr)
{
	unsigned int	i, bits;
	uint8_t		mask;

	if (m->nm_family != family) {
		return 0;
	}
	for (i = 0; i * 8 < m->nm_plen; i++) {
		bits = m->nm_plen - i * 8;
		mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		if ((addr[i] & mask) != m->nm_addr[i]) {
			return 0;
		}
	}
	return 1;
}

static int
pbsd_conf_add_allow(void *arg, struct span w, const char **errstr_r)
{
	struct pbsd_remote_conf	*rc = arg;
	struct pbsd_netmask	*m;
	struct span		 host = w;
	uint64_t		 plen = 0;
	unsigned int		 i, bits;
	long			 sl;

	if (rc->rc_nallow >= PBSD_REMOTE_MAX_ALLOW) {
		*errstr_r = "too many remote_allow networks";
		return -1;
	}
	m = &rc->rc_allow[rc->rc_nallow];
	memset(m, 0, sizeof(*m));
	if ((sl = span_find(w, 0, '/')) >= 0) {
		host = span_sub(w, 0, (size_t)sl);
	}
	if (pbsd_conf_inet(host, &m->nm_family, m->nm_addr) == -1) {
		*errstr_r = "remote_allow: bad address";
		return -1;
	}
	bits = m->nm_family == AF_INET ? 32 : 128;
	if (sl >= 0 && span_parse_uint(span_sub(w, (size_t)sl + 1,
	    w.len - (size_t)sl - 1), 0, bits, &plen) == -1) {
		*errstr_r = "remote_allow: bad prefix length";
		return -1;
	}
	m->nm_plen = sl >= 0 ? (unsigned int)plen : bits;
	for (i = 0; i < 16; i++) {
		if (i * 8 >= m->nm_plen) {
			m->nm_addr[i] = 0;
		} else if (m->nm_plen - i * 8 < 8) {
			m->nm_addr[i] &= (uint8_t)(0xff <<
			    (8 - (m->nm_plen - i * 8)));
		}
	}
	rc->rc_nallow++;
	return 0;
}

static int
pbsd_conf_set_allow(struct pbsd_conf *c, const struct pbsd_conf_key *k,
    struct span v, const char **errstr_r)
{
	(void)k;
	return pbsd_conf_words(v, pbsd_conf_add_allow, &c->pc_remote,
	    errstr_r);
}

static int
pbsd_conf_set_listen(struct pbsd_conf *c, const struct pbsd_conf_key *k,
    struct span v, const char **errstr_r)
{
	struct pbsd_remote_conf	*rc = &c->pc_remote;

	(void)k;
	if (rc->rc_nlisten >= PBSD_REMOTE_MAX_LISTEN) {
		*errstr_r = "too many remote_listen lines";
		return -1;
	}
	if (pbsd_conf_endpoint(v, &rc->rc_listen[rc->rc_nlisten],
	    errstr_r) == -1) {
		return -1;
	}
	rc->rc_nlisten++;
	return 0;
}

static int
pbsd_conf_set_forward(struct pbsd_conf *c, const struct pbsd_conf_key *k,
    struct span v, const char **errstr_r)
{
	(void)k;
	if (c->pc_remote.rc_forward.ep_proto != PBSD_EP_NONE) {
		*errstr_r = "only one forward";
		return -1;
	}
	return pbsd_conf_endpoint(v, &c->pc_remote.rc_forward, errstr_r);
}

static int
pbsd_conf_check_remote(const struct pbsd_remote_conf *rc,
    const char **errstr_r)
{
	size_t	i;

	if (rc->rc_nlisten > 0 && rc->rc_key[0] == '\0') {
		*errstr_r = "remote_listen needs remote_key";
		return -1;
	}
	/* A TCP peer holds a slot before its first MAC: fence it. */
	for (i = 0; i < rc->rc_nlisten; i++) {
		if (rc->rc_listen[i].ep_proto == PBSD_EP_TCP &&
		    rc->rc_nallow == 0) {
			*errstr_r = "remote_listen tcp needs remote_allow";
			return -1;
		}
	}
	if (rc->rc_nlisten == 0 && (rc->rc_key[0] != '\0' ||
	    rc->rc_key_previous[0] != '\0' || rc->rc_nallow > 0)) {
		*errstr_r = "remote_key, remote_key_previous or remote_allow "
		    "without remote_listen";
		return -1;
	}
	if (rc->rc_key_previous[0] != '\0' &&
	    strcmp(rc->rc_key, rc->rc_key_previous) == 0) {
		*errstr_r = "remote_key and remote_key_previous are the same";
		return -1;
	}
	if ((rc->rc_forward.ep_proto != PBSD_EP_NONE) !=
	    (rc->rc_forward_key[0] != '\0')) {
		*errstr_r = "forward and forward_key go together";
		return -1;
	}
	return 0;
}
/* --- end remote gateways ------------------------------------------------- */

/* --- log-tail mode (issue 6) ------------------------------------------ */

/* "logtail = dovecot|perdition:/absolute/path" adds one followed file. */
static int
pbsd_conf_set_logtail(struct pbsd_conf *c, const struct pbsd_conf_key *k,
    struct span v, const char **errstr_r)
{
	struct pbsd_logtail_conf	*l;
	long				 colon;

	(void)k;
	if (c->pc_nlogtails >= PBSD_CONF_MAX_LOGTAILS) {
		*errstr_r = "too many logtail lines";
		return -1;
	}
	l = &c->pc_logtails[c->pc_nlogtails];
	memset(l, 0, sizeof(*l));
	if ((colon = span_find(v, 0, ':')) < 0 ||
	    (l->lc_fmt = pbsd_logtail_fmt_from_name(span_sub(v, 0,
	    (size_t)colon))) == PBSD_LOGTAIL_NONE) {
		*errstr_r = "logtail must be dovecot:/path or perdition:/path";
		return -1;
	}
	v = span_sub(v, (size_t)colon + 1, v.len - (size_t)colon - 1);
	if (v.len == 0 || span_byte(v, 0) != '/' || span_has_ctl(v) ||
	    span_cstr(v, l->lc_path, sizeof(l->lc_path)) == -1) {
		*errstr_r = "logtail path must be absolute";
		return -1;
	}
	c->pc_nlogtails++;
	return 0;
}

static int
pbsd_conf_set_logtail_start(struct pbsd_conf *c,
    const struct pbsd_conf_key *k, struct span v, const char **errstr_r)
{
	(void)k;
	if (span_eq(v, "end")) {
		c->pc_logtail_from_start = 0;
	} else if (span_eq(v, "beginning")) {
		c->pc_logtail_from_start = 1;
	} else {
		*errstr_r = "logtail_start must be end or beginning";
		return -1;
	}
	return 0;
}
/* --- end log-tail mode ------------------------------------------------- */

#define PC_OFF(f)	offsetof(struct pbsd_conf, f)
#define PC_SZ(f)	sizeof(((struct pbsd_conf *)0)->f)

/* Sorted by name (checked by test_pbsd_conf). */
static const struct pbsd_conf_key pbsd_conf_keys[] = {
	{ "allow_gid", pbsd_conf_set_gids, 0, 0, 0, 0 },
	{ "allow_uid", pbsd_conf_set_uids, 0, 0, 0, 0 },
	{ "control_path", pbsd_conf_set_path, PC_OFF(pc_control),
	    PC_SZ(pc_control), 0, 0 },
	{ "expire", pbsd_conf_set_uint, PC_OFF(pc_expire), 0, 1, 604800 },
	{ "flush_interval", pbsd_conf_set_uint, PC_OFF(pc_flush_interval),
	    0, 0, 3600 },
	/* remote gateways (issue 6) */
	{ "forward", pbsd_conf_set_forward, 0, 0, 0, 0 },
	{ "forward_key", pbsd_conf_set_path, PC_OFF(pc_remote.rc_forward_key),
	    PC_SZ(pc_remote.rc_forward_key), 0, 0 },
	{ "ipv6_prefix", pbsd_conf_set_prefix, 0, 0, 0, 0 },
	{ "logtail", pbsd_conf_set_logtail, 0, 0, 0, 0 },
	{ "logtail_group", pbsd_conf_set_str, PC_OFF(pc_logtail_group),
	    PC_SZ(pc_logtail_group), 0, 0 },
	{ "logtail_start", pbsd_conf_set_logtail_start, 0, 0, 0, 0 },
	{ "max_entries", pbsd_conf_set_uint, PC_OFF(pc_max_entries), 0, 1,
	    10000000 },
	{ "nft_set4", pbsd_conf_set_nftname, PC_OFF(pc_nft.nc_set4),
	    PC_SZ(pc_nft.nc_set4), 0, 0 },
	{ "nft_set6", pbsd_conf_set_nftname, PC_OFF(pc_nft.nc_set6),
	    PC_SZ(pc_nft.nc_set6), 0, 0 },
	{ "nft_table", pbsd_conf_set_nftname, PC_OFF(pc_nft.nc_table),
	    PC_SZ(pc_nft.nc_table), 0, 0 },
	{ "output", pbsd_conf_set_output, 0, 0, 0, 0 },
	{ "output_keys", pbsd_conf_set_keys, 0, 0, 0, 0 },
	{ "output_nul", pbsd_conf_set_nul, 0, 0, 0, 0 },
	{ "output_value", pbsd_conf_set_value, 0, 0, 0, 0 },
	/* remote gateways (issue 6) */
	{ "remote_allow", pbsd_conf_set_allow, 0, 0, 0, 0 },
	{ "remote_idle_timeout", pbsd_conf_set_uint,
	    PC_OFF(pc_remote.rc_idle_timeout), 0, 1, 3600 },
	{ "remote_key", pbsd_conf_set_path, PC_OFF(pc_remote.rc_key),
	    PC_SZ(pc_remote.rc_key), 0, 0 },
	{ "remote_key_previous", pbsd_conf_set_path,
	    PC_OFF(pc_remote.rc_key_previous),
	    PC_SZ(pc_remote.rc_key_previous), 0, 0 },
	{ "remote_listen", pbsd_conf_set_listen, 0, 0, 0, 0 },
	{ "remote_max_connections", pbsd_conf_set_uint,
	    PC_OFF(pc_remote.rc_max_conns), 0, 1, 1024 },
	{ "remote_nonce_cache", pbsd_conf_set_uint,
	    PC_OFF(pc_remote.rc_nonces), 0, PBSD_AUTH_NONCES_MIN,
	    PBSD_AUTH_NONCES_MAX },
	{ "remote_window", pbsd_conf_set_uint, PC_OFF(pc_remote.rc_window),
	    0, 1, PBSD_AUTH_WINDOW_MAX },
	{ "socket_group", pbsd_conf_set_str, PC_OFF(pc_socket_group),
	    PC_SZ(pc_socket_group), 0, 0 },
	{ "socket_mode", pbsd_conf_set_mode, PC_OFF(pc_socket_mode), 0, 0,
	    0 },
	{ "socket_path", pbsd_conf_set_path, PC_OFF(pc_socket),
	    PC_SZ(pc_socket), 0, 0 },
	{ "state_file", pbsd_conf_set_path, PC_OFF(pc_state),
	    PC_SZ(pc_state), 0, 0 },
	{ "user", pbsd_conf_set_str, PC_OFF(pc_user), PC_SZ(pc_user), 0, 0 },
};

const char	*pbsd_conf_key_name(size_t);

/* For tests: the i-th keyword, or NULL past the end. */
const char *
pbsd_conf_key_name(size_t i)
{
	if (i >= sizeof(pbsd_conf_keys) / sizeof(pbsd_conf_keys[0])) {
		return NULL;
	}
	return pbsd_conf_keys[i].ck_name;
}

void
pbsd_conf_defaults(struct pbsd_conf *c)
{
	memset(c, 0, sizeof(*c));
	(void)snprintf(c->pc_socket, sizeof(c->pc_socket), "%s",
	    PBSD_DEF_SOCKET);
	(void)snprintf(c->pc_control, sizeof(c->pc_control), "%s",
	    PBSD_DEF_CONTROL);
	(void)snprintf(c->pc_state, sizeof(c->pc_state), "%s", PBSD_DEF_STATE);
	(void)snprintf(c->pc_user, sizeof(c->pc_user), "%s", PBSD_DEF_USER);
	(void)snprintf(c->pc_nft.nc_set4, sizeof(c->pc_nft.nc_set4), "relay4");
	(void)snprintf(c->pc_nft.nc_set6, sizeof(c->pc_nft.nc_set6), "relay6");
	c->pc_socket_mode = 0660;
	c->pc_expire = PBSD_DEF_EXPIRE;
	c->pc_flush_interval = 1;
	c->pc_ipv6_prefix = 128;
	c->pc_max_entries = PBSD_DEF_MAX_ENTRIES;
	c->pc_remote.rc_window = PBSD_REMOTE_DEF_WINDOW;
	c->pc_remote.rc_max_conns = PBSD_REMOTE_DEF_CONNS;
	c->pc_remote.rc_idle_timeout = PBSD_REMOTE_DEF_IDLE;
	c->pc_remote.rc_nonces = PBSD_REMOTE_DEF_NONCES;
}

/* One line without its LF: blank, "# comment" or "key = value". */
static int
pbsd_conf_line(struct pbsd_conf *c, struct span line, const char **errstr_r)
{
	struct span	key, val;
	long		eq;
	size_t		i;

	line = span_trim(line);
	if (line.len == 0 || span_byte(line, 0) == '#') {
		return 0;
	}
	if ((eq = span_find(line, 0, '=')) < 0) {
		*errstr_r = "expected key = value";
		return -1;
	}
	key = span_trim(span_sub(line, 0, (size_t)eq));
	val = span_trim(span_sub(line, (size_t)eq + 1,
	    line.len - (size_t)eq - 1));
	for (i = 0; i < sizeof(pbsd_conf_keys) / sizeof(pbsd_conf_keys[0]);
	    i++) {
		if (span_eq(key, pbsd_conf_keys[i].ck_name)) {
			return pbsd_conf_keys[i].ck_set(c, &pbsd_conf_keys[i],
			    val, errstr_r);
		}
	}
	*errstr_r = "unknown key";
	return -1;
}

/* UNTRUSTED: bounded by PBSD_CONF_MAX_LINE per line. */
int
pbsd_conf_parse(struct pbsd_conf *c, const uint8_t *p, size_t n,
    const char **errstr_r, size_t *line_r)
{
	struct span	in = { p, n }, rest, line;
	size_t		off = 0;
	long		lf;

	*line_r = 0;
	while (off < in.len) {
		(*line_r)++;
		rest = span_sub(in, off, in.len - off);
		lf = span_find(rest, 0, '\n');
		line = lf < 0 ? rest : span_sub(rest, 0, (size_t)lf);
		if (line.len > PBSD_CONF_MAX_LINE) {
			*errstr_r = "line too long";
			return -1;
		}
		if (line.len > 0 && span_byte(line, line.len - 1) == '\r') {
			line = span_sub(line, 0, line.len - 1);
		}
		if (pbsd_conf_line(c, line, errstr_r) == -1) {
			return -1;
		}
		off += lf < 0 ? rest.len : (size_t)lf + 1;
	}
	return 0;
}

int
pbsd_conf_load(struct pbsd_conf *c, const char *path, const char **errstr_r,
    size_t *line_r)
{
	struct buf	 b;
	int		 fd, rv = -1;

	*line_r = 0;
	buf_init(&b, PBSD_CONF_MAX_FILE);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*errstr_r = strerror(errno);
		return -1;
	}
	if (buf_read_all(&b, fd, 4096) == -1) {
		*errstr_r = errno == EFBIG ? "file too large" :
		    strerror(errno);
		goto out;
	}
	rv = pbsd_conf_parse(c, buf_ptr(&b), buf_len(&b), errstr_r, line_r);
out:
	close(fd);
	buf_release(&b);
	return rv;
}

/*
 * Sendmail reads "connect:IP OK" as "accept the connection", which grants
 * no relaying: only RELAY does (research/pbsd.md 2.1).
 */
static int
pbsd_conf_check_outputs(const struct pbsd_conf *c, const char **errstr_r)
{
	size_t	i;

	for (i = 0; i < c->pc_noutputs; i++) {
		if ((c->pc_outputs[i].po_keys & PBSD_KEYS_SENDMAIL_CONNECT) &&
		    c->pc_outputs[i].po_value != PBSD_VAL_RELAY) {
			*errstr_r = "sendmail-connect needs output_value = RELAY";
			return -1;
		}
	}
	return 0;
}

int
pbsd_conf_check(const struct pbsd_conf *c, const char **errstr_r)
{
	if (c->pc_nallow_uid == 0 && c->pc_nallow_gid == 0 &&
	    c->pc_nlogtails == 0) {
		*errstr_r = "no allow_uid or allow_gid: nobody could send events";
		return -1;
	}
	if (strcmp(c->pc_socket, c->pc_control) == 0) {
		*errstr_r = "socket_path and control_path are the same";
		return -1;
	}
	if (pbsd_conf_check_outputs(c, errstr_r) == -1) {
		return -1;
	}
	return pbsd_conf_check_remote(&c->pc_remote, errstr_r);
}

static int
pbsd_conf_numeric(const char *s, uint64_t *v_r)
{
	const char	*errstr;

	return parse_uint(s, 0, 0x7fffffff, v_r, &errstr);
}

int
pbsd_conf_ids(const struct pbsd_conf *c, struct pbsd_ids *ids,
    const char **errstr_r)
{
	struct passwd	*pw;
	struct group	*gr;
	uint64_t	 v;
	size_t		 i;

	memset(ids, 0, sizeof(*ids));
	for (i = 0; i < c->pc_nallow_uid; i++) {
		if (pbsd_conf_numeric(c->pc_allow_uid[i], &v) == 0) {
			ids->pi_uids[ids->pi_nuids++] = (uid_t)v;
		} else if ((pw = getpwnam(c->pc_allow_uid[i])) != NULL) {
			ids->pi_uids[ids->pi_nuids++] = pw->pw_uid;
		} else {
			*errstr_r = "unknown user in allow_uid";
			return -1;
		}
	}
	for (i = 0; i < c->pc_nallow_gid; i++) {
		if (pbsd_conf_numeric(c->pc_allow_gid[i], &v) == 0) {
			ids->pi_gids[ids->pi_ngids++] = (gid_t)v;
		} else if ((gr = getgrnam(c->pc_allow_gid[i])) != NULL) {
			ids->pi_gids[ids->pi_ngids++] = gr->gr_gid;
		} else {
			*errstr_r = "unknown group in allow_gid";
			return -1;
		}
	}
	return 0;
}
