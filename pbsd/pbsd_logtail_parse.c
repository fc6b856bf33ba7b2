/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_logtail_parse: the log-line parser of pbsd's log-tail mode.  Runs in
 * pbsd after it dropped to its own user and entered seccomp; pure, no I/O,
 * no regex.  Every byte of the line is untrusted: the whole line may even
 * have been sent to syslog by any local user (see CAVEATS in pbsd.conf(5)).
 *
 * Where the address comes from, and why an attacker's user name cannot move
 * it:
 *  - Perdition 2.2 (perdition.c, perdition_log_auth):
 *	Auth: IP:PORT->IP:PORT client-secure=X authorisation_id=NONE|"Z"
 *	authentication_id="U" server="S:P" protocol=P server-secure=X
 *	status="ok"
 *    The address is the first token after "Auth: ", written by Perdition
 *    with getnameinfo(NI_NUMERICHOST) before any user text.  The status is
 *    the line's end; U (unescaped) comes before it, so only a cut line
 *    (message of PBSD_LOGTAIL_PERDITION_MSG_MAX bytes) could end in user
 *    text: such lines are broken.  U may also hold line feeds, which
 *    Perdition's own -F file keeps: a user name can end the real line as
 *    a well-formed failure and add a whole forged success line after it,
 *    and no parser can tell those lines from real ones.  So only lines
 *    with a syslog HOST field count (a syslog daemon escapes control
 *    characters, rsyslog as "#012"); others are PBSD_LOGTAIL_NOHOST.
 *    Dovecot needs no such rule: it replaces control characters in user
 *    names with '?' before logging (str_sanitize; checked by
 *    test_pbsd_logtail.py with a real Dovecot).
 *  - Dovecot 2.3 (login-common/client-common.c, client_get_log_str):
 *	imap-login: Login: user=<U>, method=M, rip=R, lip=L, mpid=N,
 *	secured, session=<S>
 *	imap-login: proxy(U): started proxying to H:P: user=<U>, ...
 *    U is str_sanitize()d (no control characters) but may hold ", rip=".
 *    Every element after U is Dovecot's own, so the address is the value of
 *    the *last* ", rip=", and what follows it must be exactly the default
 *    elements (lip, mpid, secured/TLS, session).  The message kind
 *    ("Login:" / "proxy(") is fixed before U; in the proxy form U is not
 *    sanitised, so it must consist of Dovecot's default auth_username_chars.
 */
#include <arpa/inet.h>
#include <string.h>

#include "buf.h"
#include "pbsd_key.h"
#include "pbsd_logtail_parse.h"
#include "pbsd_proto.h"

struct lt_prefix {
	struct span	tag;		/* program name without [pid] */
	struct span	msg;		/* the text after "tag: " */
	int		host;		/* exactly one host word: syslog */
};

static const char *const lt_months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

int
pbsd_logtail_fmt_from_name(struct span s)
{
	if (span_eq(s, "dovecot")) {
		return PBSD_LOGTAIL_DOVECOT;
	}
	if (span_eq(s, "perdition")) {
		return PBSD_LOGTAIL_PERDITION;
	}
	return PBSD_LOGTAIL_NONE;
}

const char *
pbsd_logtail_fmt_name(int fmt)
{
	switch (fmt) {
	case PBSD_LOGTAIL_DOVECOT:
		return "dovecot";
	case PBSD_LOGTAIL_PERDITION:
		return "perdition";
	default:
		return "none";
	}
}

/* --- span helpers (no pointer arithmetic: span_sub/span_byte) --------- */

static struct span
lt_from(struct span s, size_t off)
{
	return span_sub(s, off, s.len - off);
}

static int
lt_starts(struct span s, const char *lit)
{
	size_t	n = strlen(lit);

	return s.len >= n && span_eq(span_sub(s, 0, n), lit);
}

static int
lt_ends(struct span s, const char *lit)
{
	size_t	n = strlen(lit);

	return s.len >= n && span_eq(span_sub(s, s.len - n, n), lit);
}

static int
lt_ends_span(struct span s, struct span end)
{
	size_t	i;

	if (end.len > s.len) {
		return 0;
	}
	for (i = 0; i < end.len; i++) {
		if (span_byte(s, s.len - end.len + i) != span_byte(end, i)) {
			return 0;
		}
	}
	return 1;
}

/* Index of the first lit at or after from, or -1. */
static long
lt_find(struct span s, size_t from, const char *lit)
{
	size_t	n = strlen(lit), i;

	for (i = from; n <= s.len && i <= s.len - n; i++) {
		if (span_eq(span_sub(s, i, n), lit)) {
			return (long)i;
		}
	}
	return -1;
}

/* Index of the last lit, or -1. */
static long
lt_rfind(struct span s, const char *lit)
{
	size_t	n = strlen(lit), i;

	if (n > s.len) {
		return -1;
	}
	for (i = s.len - n + 1; i > 0; i--) {
		if (span_eq(span_sub(s, i - 1, n), lit)) {
			return (long)(i - 1);
		}
	}
	return -1;
}

static int
lt_isdigit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* 1 if s[off .. off+n) are all digits. */
static int
lt_digits(struct span s, size_t off, size_t n)
{
	size_t	i;

	if (off > s.len || n > s.len - off) {
		return 0;
	}
	for (i = off; i < off + n; i++) {
		if (!lt_isdigit(span_byte(s, i))) {
			return 0;
		}
	}
	return 1;
}

/* Length of the run of digits at off (0 if none). */
static size_t
lt_ndigits(struct span s, size_t off)
{
	size_t	n = 0;

	while (off + n < s.len && lt_isdigit(span_byte(s, off + n))) {
		n++;
	}
	return n;
}

/* --- syslog prefixes --------------------------------------------------- */

/* "<PRI>" as in a raw syslog datagram: skipped.  Returns bytes used. */
static size_t
lt_pri_len(struct span s)
{
	size_t	n;

	if (s.len == 0 || span_byte(s, 0) != '<') {
		return 0;
	}
	n = lt_ndigits(s, 1);
	if (n < 1 || n > 3 || 1 + n >= s.len || span_byte(s, 1 + n) != '>') {
		return 0;
	}
	return n + 2;
}

/* "Nov 23 10:00:00 " or "Nov  3 10:00:00 " (RFC 3164): 16 or 0. */
static size_t
lt_bsd_stamp_len(struct span s)
{
	size_t	i;
	int	month = 0;

	if (s.len < 16) {
		return 0;
	}
	for (i = 0; i < sizeof(lt_months) / sizeof(lt_months[0]); i++) {
		if (span_eq(span_sub(s, 0, 3), lt_months[i])) {
			month = 1;
		}
	}
	if (!month || span_byte(s, 3) != ' ' ||
	    !(span_byte(s, 4) == ' ' || lt_isdigit(span_byte(s, 4))) ||
	    !lt_digits(s, 5, 1) || span_byte(s, 6) != ' ' ||
	    !lt_digits(s, 7, 2) || span_byte(s, 9) != ':' ||
	    !lt_digits(s, 10, 2) || span_byte(s, 12) != ':' ||
	    !lt_digits(s, 13, 2) || span_byte(s, 15) != ' ') {
		return 0;
	}
	return 16;
}

/*
 * ISO 8601 as rsyslog (RFC3339 templates) and journalctl -o short-iso
 * write it: "2026-11-23T10:00:00[.123456](Z|+01:00|+0100) ".  Returns the
 * length including the space, or 0.
 */
static size_t
lt_iso_stamp_len(struct span s)
{
	size_t	i, n;

	if (s.len < 20 || !lt_digits(s, 0, 4) || span_byte(s, 4) != '-' ||
	    !lt_digits(s, 5, 2) || span_byte(s, 7) != '-' ||
	    !lt_digits(s, 8, 2) || span_byte(s, 10) != 'T' ||
	    !lt_digits(s, 11, 2) || span_byte(s, 13) != ':' ||
	    !lt_digits(s, 14, 2) || span_byte(s, 16) != ':' ||
	    !lt_digits(s, 17, 2)) {
		return 0;
	}
	i = 19;
	if (i < s.len && span_byte(s, i) == '.') {
		n = lt_ndigits(s, i + 1);
		if (n < 1 || n > 9) {
			return 0;
		}
		i += 1 + n;
	}
	if (i < s.len && span_byte(s, i) == 'Z') {
		i++;
	} else if (i < s.len && (span_byte(s, i) == '+' ||
	    span_byte(s, i) == '-')) {
		if (!lt_digits(s, i + 1, 2)) {
			return 0;
		}
		i += 3;
		if (i < s.len && span_byte(s, i) == ':') {
			i++;
		}
		if (!lt_digits(s, i, 2)) {
			return 0;
		}
		i += 2;
	} else {
		return 0;
	}
	if (i >= s.len || span_byte(s, i) != ' ') {
		return 0;
	}
	return i + 1;
}

/* The word at the start of s up to a space: -1 if there is no space. */
static long
lt_word_len(struct span s)
{
	long	sp = span_find(s, 0, ' ');

	return sp <= 0 ? -1 : sp;
}

/* "name[1234]" -> "name"; a bad "[...]" makes an empty span. */
static struct span
lt_tag_name(struct span w)
{
	long	lb = span_find(w, 0, '[');
	size_t	n;

	if (lb < 0) {
		return w;
	}
	n = w.len - (size_t)lb;
	if (n < 3 || span_byte(w, w.len - 1) != ']' ||
	    !lt_digits(w, (size_t)lb + 1, n - 2)) {
		return span_sub(w, 0, 0);
	}
	return span_sub(w, 0, (size_t)lb);
}

/*
 * Splits "[<PRI>]STAMP [HOST ]TAG: MSG".  STAMP is RFC 3164 or ISO 8601;
 * without HOST it is the format of Dovecot's log_path and of Perdition's
 * own log file.  p->host tells whether there was a HOST word: a syslog
 * daemon wrote the line.  Returns 0 or -1.
 */
static int
lt_prefix(struct span line, struct lt_prefix *p)
{
	struct span	s = line;
	size_t		n;
	long		w;
	int		words;

	s = lt_from(s, lt_pri_len(s));
	if ((n = lt_bsd_stamp_len(s)) == 0 && (n = lt_iso_stamp_len(s)) == 0) {
		return -1;
	}
	s = lt_from(s, n);
	for (words = 0; words < 2; words++) {
		if ((w = lt_word_len(s)) < 2) {
			return -1;
		}
		if (span_byte(s, (size_t)w - 1) == ':') {
			p->tag = lt_tag_name(span_sub(s, 0, (size_t)w - 1));
			p->msg = lt_from(s, (size_t)w + 1);
			p->host = words == 1;
			return p->tag.len > 0 ? 0 : -1;
		}
		s = lt_from(s, (size_t)w + 1);	/* the host name */
	}
	return -1;
}

/* --- addresses and users ------------------------------------------------ */

/* A numeric IPv4 or unbracketed IPv6 address into rec (mapped -> IPv4). */
static int
lt_addr(struct span s, struct pbsd_record *rec)
{
	char			text[64];
	uint8_t			bytes[16];
	struct pbsd_addr	a;
	size_t			i;
	uint8_t			c;

	if (s.len == 0 || s.len >= sizeof(text)) {
		return -1;
	}
	for (i = 0; i < s.len; i++) {
		c = span_byte(s, i);
		if (!lt_isdigit(c) && !(c >= 'a' && c <= 'f') &&
		    !(c >= 'A' && c <= 'F') && c != '.' && c != ':') {
			return -1;	/* no zone "%eth0", no brackets */
		}
	}
	if (span_cstr(s, text, sizeof(text)) == -1) {
		return -1;
	}
	memset(bytes, 0, sizeof(bytes));
	if (inet_pton(AF_INET, text, bytes) == 1) {
		rec->pr_family = PBSD_FAM_INET;
	} else if (inet_pton(AF_INET6, text, bytes) == 1) {
		rec->pr_family = PBSD_FAM_INET6;
	} else {
		return -1;
	}
	/* pbsd's own key rule folds ::ffff:a.b.c.d (pbsd_key.c). */
	if (pbsd_addr_make(rec->pr_family, bytes, 128, &a) == -1) {
		return -1;
	}
	rec->pr_family = a.pa_family;
	memset(rec->pr_addr, 0, sizeof(rec->pr_addr));
	memcpy(rec->pr_addr, a.pa_bytes, a.pa_family == PBSD_FAM_INET ? 4 : 16);
	return 0;
}

/*
 * Copies a user name into rec if it obeys the record's rules (printable,
 * no quote: a quote may mean a Perdition passwd="..." field follows), else
 * leaves the record without a user: the user only goes to the log.
 */
static void
lt_user(struct span u, struct pbsd_record *rec)
{
	size_t	i;
	uint8_t	c;

	rec->pr_userlen = 0;
	rec->pr_user[0] = '\0';
	if (u.len == 0 || u.len > PBSD_PROTO_MAX_USER) {
		return;
	}
	for (i = 0; i < u.len; i++) {
		c = span_byte(u, i);
		if (c < 0x20 || c == 0x7f || c == '"') {
			return;
		}
	}
	if (span_cstr(u, rec->pr_user, sizeof(rec->pr_user)) == 0) {
		rec->pr_userlen = u.len;
	}
}

/* --- Perdition 2.2 ------------------------------------------------------ */

static int
lt_perdition_tag(struct span tag)
{
	size_t	i;
	uint8_t	c;

	if (span_eq(tag, "perdition")) {
		return 1;
	}
	if (!lt_starts(tag, "perdition.") || tag.len == 10) {
		return 0;
	}
	for (i = 10; i < tag.len; i++) {
		c = span_byte(tag, i);
		if (!(c >= 'a' && c <= 'z') && !lt_isdigit(c)) {
			return 0;
		}
	}
	return 1;
}

/* "A:P->B:Q": the client address A (IPv6 unbracketed: last ':'). */
static int
lt_perdition_from(struct span tok, struct pbsd_record *rec)
{
	struct span	from;
	long		arrow, colon;
	size_t		nd;
	uint64_t	port;

	if ((arrow = lt_find(tok, 0, "->")) <= 0) {
		return -1;
	}
	from = span_sub(tok, 0, (size_t)arrow);
	if ((colon = lt_rfind(from, ":")) <= 0) {
		return -1;
	}
	nd = from.len - (size_t)colon - 1;
	if (nd < 1 || nd > 5 || !lt_digits(from, (size_t)colon + 1, nd) ||
	    span_parse_uint(lt_from(from, (size_t)colon + 1), 1, 65535,
	    &port) == -1) {
		return -1;
	}
	return lt_addr(span_sub(from, 0, (size_t)colon), rec);
}

/*
 * The fixed tail " protocol=P server-secure=X status="V"": returns the
 * protocol and the status value, or -1.
 */
static int
lt_perdition_tail(struct span msg, struct span *proto_r, struct span *status_r)
{
	struct span	head;
	long		st, ss, pr;

	if ((st = lt_rfind(msg, " status=\"")) < 0 || !lt_ends(msg, "\"") ||
	    (size_t)st + 9 > msg.len - 1) {
		return -1;
	}
	*status_r = span_sub(msg, (size_t)st + 9, msg.len - 1 - (size_t)st - 9);
	if (span_find(*status_r, 0, '"') >= 0) {
		return -1;
	}
	head = span_sub(msg, 0, (size_t)st);
	if (!lt_ends(head, " server-secure=plaintext") &&
	    !lt_ends(head, " server-secure=ssl") &&
	    !lt_ends(head, " server-secure=starttls")) {
		return -1;
	}
	ss = lt_rfind(head, " server-secure=");
	head = span_sub(head, 0, (size_t)ss);
	if ((pr = lt_rfind(head, " protocol=")) < 0) {
		return -1;
	}
	*proto_r = lt_from(head, (size_t)pr + 10);
	if (proto_r->len == 0 || span_find(*proto_r, 0, ' ') >= 0) {
		return -1;
	}
	return 0;
}

static int
lt_perdition(struct lt_prefix *p, struct pbsd_record *rec,
    const char **errstr_r)
{
	struct span	msg = p->msg, rest, proto, status;
	long		sp, a, b;

	if (!lt_perdition_tag(p->tag) || !lt_starts(msg, "Auth: ")) {
		return PBSD_LOGTAIL_OTHER;
	}
	if (!p->host) {
		*errstr_r = "perdition Auth line without a syslog host: "
		    "Perdition must log through syslog";
		return PBSD_LOGTAIL_NOHOST;
	}
	if (msg.len >= PBSD_LOGTAIL_PERDITION_MSG_MAX) {
		*errstr_r = "perdition Auth message may be truncated";
		return PBSD_LOGTAIL_BROKEN;
	}
	if (lt_perdition_tail(msg, &proto, &status) == -1) {
		*errstr_r = "perdition Auth line without its status tail";
		return PBSD_LOGTAIL_BROKEN;
	}
	if (!span_eq(status, "ok")) {
		return PBSD_LOGTAIL_OTHER;	/* status="failed: ..." */
	}
	rest = lt_from(msg, 6);
	if ((sp = span_find(rest, 0, ' ')) <= 0 ||
	    lt_perdition_from(span_sub(rest, 0, (size_t)sp), rec) == -1) {
		*errstr_r = "perdition Auth line without a client address";
		return PBSD_LOGTAIL_BROKEN;
	}
	rest = lt_from(rest, (size_t)sp);
	if (!lt_starts(rest, " client-secure=")) {
		*errstr_r = "perdition Auth line without client-secure";
		return PBSD_LOGTAIL_BROKEN;
	}
	rec->pr_proto = lt_starts(proto, "POP3") ? PBSD_PROTO_POP3 :
	    lt_starts(proto, "IMAP4") ? PBSD_PROTO_IMAP : PBSD_PROTO_UNSPEC;
	a = lt_find(rest, 0, " authentication_id=\"");
	b = lt_rfind(rest, "\" server=\"");
	if (a >= 0 && b >= a + 20) {
		lt_user(span_sub(rest, (size_t)a + 20, (size_t)(b - a - 20)),
		    rec);
	}
	return PBSD_LOGTAIL_LOGIN;
}

/* --- Dovecot 2.3 --------------------------------------------------------- */

/* Dovecot's default auth_username_chars. */
static int
lt_dovecot_userchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    lt_isdigit(c) || c == '.' || c == '-' || c == '_' || c == '@';
}

/* One element after lip=: mpid, secured/TLS, session. */
static int
lt_dovecot_element(struct span e)
{
	size_t	i;
	uint8_t	c;

	if (lt_starts(e, "mpid=")) {
		return e.len > 5 && lt_digits(e, 5, e.len - 5) ? 0 : -1;
	}
	if (span_eq(e, "secured") || span_eq(e, "TLS") ||
	    span_eq(e, "TLS handshaking")) {
		return 0;
	}
	if (lt_starts(e, "session=<") && lt_ends(e, ">") && e.len > 10) {
		for (i = 9; i < e.len - 1; i++) {
			c = span_byte(e, i);
			if (!lt_dovecot_userchar(c) && c != '+' && c != '/' &&
			    c != '=') {
				return -1;
			}
		}
		return 0;
	}
	return -1;
}

/* "R, lip=L[, element]*" after the last ", rip=". */
static int
lt_dovecot_tail(struct span t, struct pbsd_record *rec)
{
	struct span	lip;
	long		c;
	size_t		off;

	if ((c = span_find(t, 0, ',')) <= 0 ||
	    lt_addr(span_sub(t, 0, (size_t)c), rec) == -1) {
		return -1;
	}
	t = lt_from(t, (size_t)c);
	if (!lt_starts(t, ", lip=")) {
		return -1;
	}
	t = lt_from(t, 6);
	c = span_find(t, 0, ',');
	lip = c < 0 ? t : span_sub(t, 0, (size_t)c);
	if (lip.len == 0) {
		return -1;
	}
	while (c >= 0) {
		off = (size_t)c;
		t = lt_from(t, off);
		if (!lt_starts(t, ", ")) {
			return -1;
		}
		t = lt_from(t, 2);
		c = span_find(t, 0, ',');
		if (lt_dovecot_element(c < 0 ? t :
		    span_sub(t, 0, (size_t)c)) == -1) {
			return -1;
		}
	}
	return 0;
}

/*
 * "proxy(U): started proxying to H:P...: user=<U>, method=M, rip=": U in
 * Dovecot's default auth_username_chars (so without ')'), and the element
 * just before the last ", rip=" must be that same user=<U>: a failed proxy
 * line whose U fakes "started proxying" has its failure text, with a ')',
 * between the two.
 */
static int
lt_dovecot_proxy(struct span body, size_t rip, struct pbsd_record *rec)
{
	struct span	head = span_sub(body, 0, rip), pu, tail;
	long		rp = span_find(body, 0, ')'), m;
	size_t		i;
	uint8_t		c;

	if (rp <= 6) {
		return -1;
	}
	pu = span_sub(body, 6, (size_t)rp - 6);
	for (i = 0; i < pu.len; i++) {
		if (!lt_dovecot_userchar(span_byte(pu, i))) {
			return -1;
		}
	}
	if (!lt_starts(lt_from(body, (size_t)rp), "): started proxying to ") ||
	    (m = lt_rfind(head, ">, method=")) < 0 ||
	    (size_t)m + 10 >= head.len) {
		return -1;
	}
	for (i = (size_t)m + 10; i < head.len; i++) {
		c = span_byte(head, i);
		if (!lt_dovecot_userchar(c) || c == '.' || c == '@') {
			return -1;
		}
	}
	tail = span_sub(head, 0, (size_t)m);
	if (tail.len < pu.len + 8 ||
	    !span_eq(span_sub(tail, tail.len - pu.len - 8, 8), ": user=<") ||
	    !lt_ends_span(tail, pu)) {
		return -1;
	}
	lt_user(pu, rec);
	return 0;
}

/* "Login: user=<U>, method=M, rip=...": U up to the last ">, method=". */
static int
lt_dovecot_login_user(struct span body, size_t rip, struct pbsd_record *rec)
{
	struct span	head = span_sub(body, 0, rip);
	long		m = lt_rfind(head, ", method=");
	size_t		end = m >= 0 ? (size_t)m : rip;

	if (!lt_starts(body, "Login: user=<") || end < 14 ||
	    span_byte(body, end - 1) != '>') {
		return -1;
	}
	lt_user(span_sub(body, 13, end - 14), rec);
	return 0;
}

static int
lt_dovecot(struct lt_prefix *p, struct pbsd_record *rec,
    const char **errstr_r)
{
	struct span	msg = p->msg;
	long		rip;
	int		proto;

	if (span_eq(p->tag, "dovecot")) {
		if (lt_starts(msg, "imap-login: ")) {
			proto = PBSD_PROTO_IMAP;
		} else if (lt_starts(msg, "pop3-login: ")) {
			proto = PBSD_PROTO_POP3;
		} else {
			return PBSD_LOGTAIL_OTHER;
		}
		msg = lt_from(msg, 12);
	} else if (span_eq(p->tag, "imap-login")) {
		proto = PBSD_PROTO_IMAP;
	} else if (span_eq(p->tag, "pop3-login")) {
		proto = PBSD_PROTO_POP3;
	} else {
		return PBSD_LOGTAIL_OTHER;
	}
	if (lt_starts(msg, "Info: ")) {
		msg = lt_from(msg, 6);
	}
	if (!lt_starts(msg, "Login: ") && !lt_starts(msg, "proxy(")) {
		return PBSD_LOGTAIL_OTHER;
	}
	if (lt_starts(msg, "proxy(") && lt_find(msg, 0,
	    "): started proxying to ") < 0) {
		return PBSD_LOGTAIL_OTHER;	/* proxy failures, disconnects */
	}
	rec->pr_proto = (uint8_t)proto;
	if ((rip = lt_rfind(msg, ", rip=")) < 0 ||
	    lt_dovecot_tail(lt_from(msg, (size_t)rip + 6), rec) == -1) {
		*errstr_r = "dovecot login line without rip/lip elements";
		return PBSD_LOGTAIL_BROKEN;
	}
	if (lt_starts(msg, "Login: ")) {
		if (lt_dovecot_login_user(msg, (size_t)rip, rec) == -1) {
			*errstr_r = "dovecot Login line without user=<...>";
			return PBSD_LOGTAIL_BROKEN;
		}
	} else if (lt_dovecot_proxy(msg, (size_t)rip, rec) == -1) {
		*errstr_r = "dovecot proxy line with an unexpected user";
		return PBSD_LOGTAIL_BROKEN;
	}
	return PBSD_LOGTAIL_LOGIN;
}

/* UNTRUSTED: one log line, bounded by PBSD_LOGTAIL_MAX_LINE. */
int
pbsd_logtail_parse(int fmt, struct span line, struct pbsd_record *rec_r,
    const char **errstr_r)
{
	struct pbsd_record	rec;
	struct lt_prefix	p;
	int			r;

	*errstr_r = "";
	if (line.len > PBSD_LOGTAIL_MAX_LINE) {
		*errstr_r = "line too long";
		return PBSD_LOGTAIL_BROKEN;
	}
	if (line.len > 0 && span_byte(line, line.len - 1) == '\r') {
		line = span_sub(line, 0, line.len - 1);
	}
	if (lt_prefix(line, &p) == -1) {
		return PBSD_LOGTAIL_OTHER;
	}
	memset(&rec, 0, sizeof(rec));
	rec.pr_event = PBSD_EV_LOGIN_OK;
	switch (fmt) {
	case PBSD_LOGTAIL_DOVECOT:
		r = lt_dovecot(&p, &rec, errstr_r);
		break;
	case PBSD_LOGTAIL_PERDITION:
		r = lt_perdition(&p, &rec, errstr_r);
		break;
	default:
		*errstr_r = "unknown log format";
		return PBSD_LOGTAIL_BROKEN;
	}
	if (r == PBSD_LOGTAIL_LOGIN) {
		*rec_r = rec;
	}
	secure_zero(&rec, sizeof(rec));
	return r;
}
