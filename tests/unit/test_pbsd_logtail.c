/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests of pbsd's log-tail mode: the line parser (pbsd_logtail_parse.c)
 * with real lines captured from Dovecot 2.3.19 (log_path) and Perdition
 * 2.2-3.2 (its -F log file) on this machine, their syslog/ISO variants,
 * failed/aborted/proxied/IPv6/IPv4-mapped lines, attacker user names with
 * spaces, quotes, "rip=" and status="ok" inside, the line and Perdition
 * message limits at and one past; and the follower (pbsd_logtail.c): line
 * assembly fed whole, byte by byte and split at every position, over-long
 * lines, quarantine, and a real file renamed, copytruncated and missing.
 * Runs as the invoking user in a private directory under /tmp, removed at
 * the end.  Threat row 43 (only successful logins may produce entries).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "pbsd_conf.h"
#include "pbsd_logtail.h"
#include "pbsd_logtail_parse.h"
#include "pbsd_proto.h"

#define DOV	PBSD_LOGTAIL_DOVECOT
#define PERD	PBSD_LOGTAIL_PERDITION

/* Real lines (Dovecot log_path, Nov 23 2026, this machine). */
static const char dov_imap[] = "Nov 23 16:47:49 imap-login: Info: Login: "
    "user=<alice>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=24959, "
    "secured, session=<yrKgWvRgAqV/AAAB>";
static const char dov_pop3[] = "Nov 23 16:47:49 pop3-login: Info: Login: "
    "user=<alice>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=24961, "
    "secured, session=<lGmhWvRgHtF/AAAB>";
static const char dov_failed[] = "Nov 23 16:47:51 imap-login: Info: "
    "Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): "
    "user=<alice>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, "
    "session=<EcGhWvRgBKV/AAAB>";
static const char dov_aborted[] = "Nov 23 16:47:42 imap-login: Info: "
    "Disconnected: Connection closed (no auth attempts in 0 secs): user=<>, "
    "rip=127.0.0.1, lip=127.0.0.1, secured, session=<2B5DWvRglol/AAAB>";
static const char dov_auth[] = "Nov 23 16:47:49 auth: Info: passwd-file("
    "alice,127.0.0.1,<EcGhWvRgBKV/AAAB>): Password mismatch";
static const char dov_mail[] = "Nov 23 16:47:49 imap(alice)<24959>"
    "<yrKgWvRgAqV/AAAB>: Info: Disconnected: Logged out in=12 out=477";
/* Real lines (perdition 2.2 -F file, this machine) with the host field
 * that a syslog daemon adds: only such lines count. */
static const char perd_ok[] = "Nov 23 16:48:00 mx perdition.pop3[25242]: "
    "Auth: 127.0.0.1:56986->127.0.0.1:17210 client-secure=plaintext "
    "authorisation_id=NONE authentication_id=\"alice\" "
    "server=\"127.0.0.1:17110\" protocol=POP3 server-secure=plaintext "
    "status=\"ok\"";
static const char perd_failed[] = "Nov 23 16:48:05 mx perdition.pop3[25245]: "
    "Auth: 127.0.0.1:57002->127.0.0.1:17210 client-secure=plaintext "
    "authorisation_id=NONE authentication_id=\"alice\" "
    "server=\"127.0.0.1:17110\" protocol=POP3 server-secure=plaintext "
    "status=\"failed: Re-Authentication Failure\"";
static const char perd_connect[] = "Nov 23 16:48:00 mx perdition.pop3[25242]: "
    "Connect:  127.0.0.1:56986->127.0.0.1:17210";
static const char perd_close[] = "Nov 23 16:48:00 mx perdition.pop3[25242]: "
    "Closing session: 127.0.0.1:56986->127.0.0.1:17210 "
    "authorisation_id=NONE authentication_id=\"alice\" received=6 sent=18";

static int
parse(int fmt, const char *line, struct pbsd_record *rec)
{
	const char	*errstr;

	memset(rec, 0, sizeof(*rec));
	return pbsd_logtail_parse(fmt, span_from_str(line), rec, &errstr);
}

/* Address of a record as text. */
static const char *
addr(const struct pbsd_record *rec)
{
	static char	text[64];

	if (inet_ntop(rec->pr_family == PBSD_FAM_INET ? AF_INET : AF_INET6,
	    rec->pr_addr, text, sizeof(text)) == NULL) {
		return "?";
	}
	return text;
}

static void
expect_login(int fmt, const char *line, const char *a, int proto,
    const char *user)
{
	struct pbsd_record	rec;

	T_EQ_INT(parse(fmt, line, &rec), PBSD_LOGTAIL_LOGIN);
	T_EQ_STR(addr(&rec), a);
	T_EQ_INT(rec.pr_proto, proto);
	T_EQ_INT(rec.pr_event, PBSD_EV_LOGIN_OK);
	T_EQ_STR(rec.pr_user, user);
	T_EQ_INT(rec.pr_userlen, strlen(user));
}

static void
test_dovecot_real(void)
{
	struct pbsd_record	rec;

	expect_login(DOV, dov_imap, "127.0.0.1", PBSD_PROTO_IMAP, "alice");
	expect_login(DOV, dov_pop3, "127.0.0.1", PBSD_PROTO_POP3, "alice");
	T_EQ_INT(parse(DOV, dov_failed, &rec), PBSD_LOGTAIL_OTHER);
	T_EQ_INT(parse(DOV, dov_aborted, &rec), PBSD_LOGTAIL_OTHER);
	T_EQ_INT(parse(DOV, dov_auth, &rec), PBSD_LOGTAIL_OTHER);
	T_EQ_INT(parse(DOV, dov_mail, &rec), PBSD_LOGTAIL_OTHER);
	/* A Dovecot line is nothing to the Perdition parser, and back. */
	T_EQ_INT(parse(PERD, dov_imap, &rec), PBSD_LOGTAIL_OTHER);
	T_EQ_INT(parse(DOV, perd_ok, &rec), PBSD_LOGTAIL_OTHER);
	T_EQ_INT(parse(0, dov_imap, &rec), PBSD_LOGTAIL_BROKEN);
}

static void
test_dovecot_syslog(void)
{
	struct pbsd_record	rec;

	/* rsyslog's file format, with and without a PID. */
	expect_login(DOV, "Nov  3 10:00:00 mx1 dovecot: imap-login: Login: "
	    "user=<bob@example.org>, method=PLAIN, rip=192.0.2.10, "
	    "lip=192.0.2.1, mpid=812, TLS, session=<abc+/=>", "192.0.2.10",
	    PBSD_PROTO_IMAP, "bob@example.org");
	expect_login(DOV, "Nov 23 10:00:00 mx1 dovecot[77]: pop3-login: "
	    "Login: user=<bob>, method=PLAIN, rip=192.0.2.11, lip=192.0.2.1, "
	    "mpid=9", "192.0.2.11", PBSD_PROTO_POP3, "bob");
	/* RFC 3339 (rsyslog) and journalctl -o short-iso prefixes. */
	expect_login(DOV, "2026-11-23T10:00:00.123456+00:00 mx1 dovecot[77]: "
	    "imap-login: Login: user=<bob>, method=PLAIN, rip=192.0.2.12, "
	    "lip=192.0.2.1, mpid=9, secured, session=<x>", "192.0.2.12",
	    PBSD_PROTO_IMAP, "bob");
	expect_login(DOV, "2026-11-23T10:00:00+0000 mx1 dovecot[77]: "
	    "imap-login: Login: user=<bob>, method=PLAIN, rip=192.0.2.13, "
	    "lip=192.0.2.1", "192.0.2.13", PBSD_PROTO_IMAP, "bob");
	expect_login(DOV, "2026-11-23T10:00:00Z mx1 dovecot: imap-login: "
	    "Login: user=<bob>, method=PLAIN, rip=192.0.2.14, lip=192.0.2.1",
	    "192.0.2.14", PBSD_PROTO_IMAP, "bob");
	expect_login(DOV, "<22>Nov 23 10:00:00 dovecot: imap-login: Login: "
	    "user=<bob>, method=PLAIN, rip=192.0.2.15, lip=192.0.2.1",
	    "192.0.2.15", PBSD_PROTO_IMAP, "bob");
	/* Bad prefixes: no stamp, bad month, bad zone, bad pid. */
	T_EQ_INT(parse(DOV, "imap-login: Login: user=<bob>, method=PLAIN, "
	    "rip=192.0.2.1, lip=192.0.2.1", &rec), PBSD_LOGTAIL_OTHER);
	T_EQ_INT(parse(DOV, "Foo 23 10:00:00 imap-login: Login: user=<b>, "
	    "method=PLAIN, rip=192.0.2.1, lip=192.0.2.1", &rec),
	    PBSD_LOGTAIL_OTHER);
	T_EQ_INT(parse(DOV, "2026-11-23T10:00:00+0 mx dovecot: imap-login: "
	    "Login: user=<b>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.1",
	    &rec), PBSD_LOGTAIL_OTHER);
	T_EQ_INT(parse(DOV, "Nov 23 10:00:00 mx dovecot[7x]: imap-login: "
	    "Login: user=<b>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.1",
	    &rec), PBSD_LOGTAIL_OTHER);
	/* Other services and other programs. */
	T_EQ_INT(parse(DOV, "Nov 23 10:00:00 mx dovecot: submission-login: "
	    "Login: user=<b>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.1",
	    &rec), PBSD_LOGTAIL_OTHER);
	T_EQ_INT(parse(DOV, "Nov 23 10:00:00 mx postfix/smtpd[1]: "
	    "imap-login: Login: user=<b>, method=PLAIN, rip=192.0.2.1, "
	    "lip=192.0.2.1", &rec), PBSD_LOGTAIL_OTHER);
}

static void
test_dovecot_addresses(void)
{
	struct pbsd_record	rec;

	expect_login(DOV, "Nov 23 10:00:00 imap-login: Info: Login: "
	    "user=<bob>, method=PLAIN, rip=2001:db8::2, lip=2001:db8::1, "
	    "mpid=5, secured, session=<x>", "2001:db8::2", PBSD_PROTO_IMAP,
	    "bob");
	T_EQ_INT(parse(DOV, "Nov 23 10:00:00 imap-login: Info: Login: "
	    "user=<bob>, method=PLAIN, rip=2001:db8::2, lip=2001:db8::1",
	    &rec), PBSD_LOGTAIL_LOGIN);
	T_EQ_INT(rec.pr_family, PBSD_FAM_INET6);
	/* IPv4-mapped is folded to IPv4 (pbsd's key rule). */
	expect_login(DOV, "Nov 23 10:00:00 imap-login: Info: Login: "
	    "user=<bob>, method=PLAIN, rip=::ffff:192.0.2.7, lip=::1",
	    "192.0.2.7", PBSD_PROTO_IMAP, "bob");
	T_EQ_INT(parse(DOV, "Nov 23 10:00:00 imap-login: Info: Login: "
	    "user=<bob>, method=PLAIN, rip=::ffff:192.0.2.7, lip=::1", &rec),
	    PBSD_LOGTAIL_LOGIN);
	T_EQ_INT(rec.pr_family, PBSD_FAM_INET);
	/* Not addresses: host names, brackets, zones, empty. */
	T_EQ_INT(parse(DOV, "Nov 23 10:00:00 imap-login: Info: Login: "
	    "user=<bob>, method=PLAIN, rip=mx.example.org, lip=::1", &rec),
	    PBSD_LOGTAIL_BROKEN);
	T_EQ_INT(parse(DOV, "Nov 23 10:00:00 imap-login: Info: Login: "
	    "user=<bob>, method=PLAIN, rip=[2001:db8::2], lip=::1", &rec),
	    PBSD_LOGTAIL_BROKEN);
	T_EQ_INT(parse(DOV, "Nov 23 10:00:00 imap-login: Info: Login: "
	    "user=<bob>, method=PLAIN, rip=fe80::1%eth0, lip=::1", &rec),
	    PBSD_LOGTAIL_BROKEN);
	T_EQ_INT(parse(DOV, "Nov 23 10:00:00 imap-login: Info: Login: "
	    "user=<bob>, method=PLAIN, rip=, lip=::1", &rec),
	    PBSD_LOGTAIL_BROKEN);
	T_EQ_INT(parse(DOV, "Nov 23 10:00:00 imap-login: Info: Login: "
	    "user=<bob>, method=PLAIN, rip=192.0.2.300, lip=::1", &rec),
	    PBSD_LOGTAIL_BROKEN);
}

static void
test_dovecot_proxy(void)
{
	struct pbsd_record	rec;

	/* login-common/client-common.c: proxy(U): started proxying to. */
	expect_login(DOV, "Oct 19 14:14:38 host dovecot: imap-login: "
	    "proxy(username): started proxying to 192.0.2.2:143: "
	    "user=<username>, method=PLAIN, rip=198.51.100.2, "
	    "lip=192.0.2.5, secured, session=<GKEBFAwQMgDBAgFf>",
	    "198.51.100.2", PBSD_PROTO_IMAP, "username");
	expect_login(DOV, "Oct 19 14:14:38 host dovecot: pop3-login: "
	    "proxy(u@example.org): started proxying to 192.0.2.2:110/other "
	    "(master m): user=<u@example.org>, method=PLAIN, "
	    "rip=198.51.100.3, lip=192.0.2.5, TLS, session=<u/+=>",
	    "198.51.100.3", PBSD_PROTO_POP3, "u@example.org");
	/* Failed or ended proxy sessions are not logins. */
	T_EQ_INT(parse(DOV, "Oct 19 14:14:38 host dovecot: imap-login: "
	    "proxy(u): Login failed to 192.0.2.2:143: Authentication failed: "
	    "user=<u>, method=PLAIN, rip=198.51.100.2, lip=192.0.2.5", &rec),
	    PBSD_LOGTAIL_OTHER);
	T_EQ_INT(parse(DOV, "Oct 19 14:14:38 host dovecot: imap-login: "
	    "proxy(u): disconnecting 198.51.100.2 (Disconnected by client)",
	    &rec), PBSD_LOGTAIL_OTHER);
	/*
	 * The proxy user is not sanitised by Dovecot: a name outside the
	 * default auth_username_chars that fakes the fixed text is broken.
	 */
	T_EQ_INT(parse(DOV, "Oct 19 14:14:38 host dovecot: imap-login: "
	    "proxy(x): started proxying to 1.1.1.1:1: user=<x>, rip=6.6.6.6, "
	    "lip=1.1.1.1): Login failed to 192.0.2.2:143: user=<u>, "
	    "method=PLAIN, rip=198.51.100.2, lip=192.0.2.5", &rec),
	    PBSD_LOGTAIL_BROKEN);
	T_EQ_INT(parse(DOV, "Oct 19 14:14:38 host dovecot: imap-login: "
	    "proxy(x): started proxying to 1.1.1.1:1: user=<x>, "
	    "method=PLAIN, rip=6.6.6.6, lip=1.1.1.1): Login failed to "
	    "192.0.2.2:143: user=<u>, method=PLAIN, rip=198.51.100.2, "
	    "lip=192.0.2.5", &rec), PBSD_LOGTAIL_BROKEN);
	/* The user=<U> element must repeat proxy(U). */
	T_EQ_INT(parse(DOV, "Oct 19 14:14:38 host dovecot: imap-login: "
	    "proxy(a): started proxying to 192.0.2.2:143: user=<b>, "
	    "method=PLAIN, rip=198.51.100.2, lip=192.0.2.5", &rec),
	    PBSD_LOGTAIL_BROKEN);
	T_EQ_INT(parse(DOV, "Oct 19 14:14:38 host dovecot: imap-login: "
	    "proxy(): started proxying to 192.0.2.2:143: user=<>, "
	    "method=PLAIN, rip=198.51.100.2, lip=192.0.2.5", &rec),
	    PBSD_LOGTAIL_BROKEN);
}

static void
test_dovecot_attacker_users(void)
{
	struct pbsd_record	rec;

	/* Dovecot sanitises U but keeps ", rip=": the last rip counts. */
	expect_login(DOV, "Nov 23 10:00:00 imap-login: Info: Login: "
	    "user=<x, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1, mpid=1>, "
	    "method=PLAIN, rip=192.0.2.9, lip=192.0.2.1, mpid=3, secured, "
	    "session=<a>", "192.0.2.9", PBSD_PROTO_IMAP,
	    "x, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1, mpid=1");
	expect_login(DOV, "Nov 23 10:00:00 imap-login: Info: Login: "
	    "user=<a b \"c\" status=\"ok\">, method=PLAIN, rip=192.0.2.9, "
	    "lip=192.0.2.1", "192.0.2.9", PBSD_PROTO_IMAP, "");
	/* A failed login whose user name holds a whole Login line. */
	T_EQ_INT(parse(DOV, "Nov 23 10:00:00 imap-login: Info: Disconnected "
	    "(auth failed, 1 attempts in 2 secs): user=<x imap-login: Info: "
	    "Login: user=<y>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1>, "
	    "method=PLAIN, rip=192.0.2.9, lip=192.0.2.1, secured", &rec),
	    PBSD_LOGTAIL_OTHER);
	/* Anything but the default elements after the real rip: broken. */
	T_EQ_INT(parse(DOV, "Nov 23 10:00:00 imap-login: Info: Login: "
	    "user=<bob>, method=PLAIN, rip=192.0.2.9, lip=192.0.2.1, "
	    "secured, session=<a>, foo", &rec), PBSD_LOGTAIL_BROKEN);
	T_EQ_INT(parse(DOV, "Nov 23 10:00:00 imap-login: Info: Login: "
	    "user=<bob>, method=PLAIN, rip=192.0.2.9", &rec),
	    PBSD_LOGTAIL_BROKEN);
	T_EQ_INT(parse(DOV, "Nov 23 10:00:00 imap-login: Info: Login: "
	    "user=bob, method=PLAIN, rip=192.0.2.9, lip=192.0.2.1", &rec),
	    PBSD_LOGTAIL_BROKEN);
	T_EQ_INT(parse(DOV, "Nov 23 10:00:00 imap-login: Info: Login: "
	    "method=PLAIN, rip=192.0.2.9, lip=192.0.2.1, mpid=x", &rec),
	    PBSD_LOGTAIL_BROKEN);
	/* An empty user is still a login (no user in the record). */
	expect_login(DOV, "Nov 23 10:00:00 imap-login: Info: Login: "
	    "user=<>, method=EXTERNAL, rip=192.0.2.9, lip=192.0.2.1",
	    "192.0.2.9", PBSD_PROTO_IMAP, "");
}

static void
test_perdition_real(void)
{
	struct pbsd_record	rec;

	expect_login(PERD, perd_ok, "127.0.0.1", PBSD_PROTO_POP3, "alice");
	T_EQ_INT(parse(PERD, perd_failed, &rec), PBSD_LOGTAIL_OTHER);
	T_EQ_INT(parse(PERD, perd_connect, &rec), PBSD_LOGTAIL_OTHER);
	T_EQ_INT(parse(PERD, perd_close, &rec), PBSD_LOGTAIL_OTHER);
	/* research/pbsd.md section 7: syslog with host, IMAP4, IPv6. */
	expect_login(PERD, "Nov 23 13:01:56 mx perdition.imap4[20408]: Auth: "
	    "127.0.0.3:41227->127.0.0.1:143 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"alice\" "
	    "server=\"127.0.0.1:1143\" protocol=IMAP4 server-secure=plaintext "
	    "status=\"ok\"", "127.0.0.3", PBSD_PROTO_IMAP, "alice");
	expect_login(PERD, "Nov 23 13:03:49 mx perdition.pop3[9821]: Auth: "
	    "2001:db8::2:48385->2001:db8::1:110 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"alice\" "
	    "server=\"127.0.0.1:1110\" protocol=POP3 server-secure=plaintext "
	    "status=\"ok\"", "2001:db8::2", PBSD_PROTO_POP3, "alice");
	expect_login(PERD, "Nov 23 13:03:49 mx perdition.imap4s[9821]: Auth: "
	    "::ffff:192.0.2.8:48385->::ffff:192.0.2.1:993 client-secure=ssl "
	    "authorisation_id=\"z\" authentication_id=\"bob\" "
	    "server=\"10.0.0.1:143\" protocol=IMAP4S server-secure=starttls "
	    "status=\"ok\"", "192.0.2.8", PBSD_PROTO_IMAP, "bob");
	expect_login(PERD, "2026-11-23T13:03:49+01:00 mx perdition[1]: Auth: "
	    "192.0.2.8:1->192.0.2.1:2000 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"bob\" server=\"s:1\" "
	    "protocol=MANAGESIEVE server-secure=ssl status=\"ok\"",
	    "192.0.2.8", PBSD_PROTO_UNSPEC, "bob");
	/* Other tags are not Perdition. */
	T_EQ_INT(parse(PERD, "Nov 23 13:03:49 mx perditionx[1]: Auth: "
	    "192.0.2.8:1->192.0.2.1:110 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"b\" server=\"s:1\" "
	    "protocol=POP3 server-secure=plaintext status=\"ok\"", &rec),
	    PBSD_LOGTAIL_OTHER);
	/* Debug mode's passwd="..." never becomes the logged user. */
	expect_login(PERD, "Nov 23 13:03:49 mx perdition.pop3[1]: Auth: "
	    "192.0.2.8:1->192.0.2.1:110 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"bob\" "
	    "passwd=\"s3cret\" server=\"s:1\" protocol=POP3 "
	    "server-secure=plaintext status=\"ok\"", "192.0.2.8",
	    PBSD_PROTO_POP3, "");
}

static void
test_perdition_attacker_users(void)
{
	struct pbsd_record	rec;

	/* Quotes and a fake status inside a failed login's user. */
	T_EQ_INT(parse(PERD, "Nov 23 16:48:05 mx perdition.pop3[1]: Auth: "
	    "192.0.2.4:5->192.0.2.1:110 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"x\" server=\"6.6.6.6:1\" "
	    "protocol=POP3 server-secure=plaintext status=\"ok\" a b\" "
	    "server=\"127.0.0.1:1110\" protocol=POP3 server-secure=plaintext "
	    "status=\"failed: Re-Authentication Failure\"", &rec),
	    PBSD_LOGTAIL_OTHER);
	/* A user name with a fake address: the first token counts. */
	expect_login(PERD, "Nov 23 16:48:05 mx perdition.pop3[1]: Auth: "
	    "192.0.2.4:5->192.0.2.1:110 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"Auth: 6.6.6.6:1->x\" "
	    "server=\"127.0.0.1:1110\" protocol=POP3 server-secure=plaintext "
	    "status=\"ok\"", "192.0.2.4", PBSD_PROTO_POP3,
	    "Auth: 6.6.6.6:1->x");
	/* The first half of a user name with a line break: broken. */
	T_EQ_INT(parse(PERD, "Nov 23 16:48:44 mx perdition.imap4[25854]: Auth: "
	    "127.0.0.1:60694->127.0.0.1:17243 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"a", &rec),
	    PBSD_LOGTAIL_BROKEN);
	/* Malformed addresses and ports. */
	T_EQ_INT(parse(PERD, "Nov 23 16:48:05 mx perdition.pop3[1]: Auth: "
	    "192.0.2.4->192.0.2.1:110 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"b\" server=\"s:1\" "
	    "protocol=POP3 server-secure=plaintext status=\"ok\"", &rec),
	    PBSD_LOGTAIL_BROKEN);
	T_EQ_INT(parse(PERD, "Nov 23 16:48:05 mx perdition.pop3[1]: Auth: "
	    "192.0.2.4:65536->192.0.2.1:110 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"b\" server=\"s:1\" "
	    "protocol=POP3 server-secure=plaintext status=\"ok\"", &rec),
	    PBSD_LOGTAIL_BROKEN);
	T_EQ_INT(parse(PERD, "Nov 23 16:48:05 mx perdition.pop3[1]: Auth: "
	    "client-secure=plaintext authorisation_id=NONE "
	    "authentication_id=\"b\" server=\"s:1\" protocol=POP3 "
	    "server-secure=plaintext status=\"ok\"", &rec),
	    PBSD_LOGTAIL_BROKEN);
	T_EQ_INT(parse(PERD, "Nov 23 16:48:05 mx perdition.pop3[1]: Auth: "
	    "192.0.2.4:5->192.0.2.1:110 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"b\" server=\"s:1\" "
	    "protocol=POP3 server-secure=weird status=\"ok\"", &rec),
	    PBSD_LOGTAIL_BROKEN);
}

/*
 * The review's attack (F1) on Perdition's own -F file: an IMAP literal user
 * name with line feeds ends the real line as a well-formed failure and adds
 * a whole forged success.  Lines without a syslog host never count.
 */
static const char perd_forged_f[] =
    "Nov 23 16:48:44 perdition.imap4[7]: Auth: 127.0.0.24:5->127.0.0.1:143 "
    "client-secure=plaintext authorisation_id=NONE authentication_id=\"a\" "
    "server=\"127.0.0.1:1\" protocol=IMAP4 server-secure=plaintext "
    "status=\"failed\"\n"
    "Nov 23 16:48:44 perdition.imap4[1]: Auth: 127.0.0.77:1->127.0.0.1:143 "
    "client-secure=plaintext authorisation_id=NONE authentication_id=\"b\" "
    "server=\"127.0.0.1:1\" protocol=IMAP4 server-secure=plaintext "
    "status=\"ok\"\n"
    "Nov 23 16:48:44 perdition.imap4[1]: Auth: 127.0.0.78:1->127.0.0.1:143 "
    "client-secure=plaintext authorisation_id=NONE authentication_id=\"z\" "
    "server=\"127.0.0.1:1143\" protocol=IMAP4 server-secure=plaintext "
    "status=\"failed: Re-Authentication Failure\"\n";

static void
test_perdition_nohost(void)
{
	struct pbsd_record	 rec;
	const char		*errstr;
	char			 l[512];
	const char		*nl;

	/* The forged success alone, as the -F file holds it. */
	nl = strchr(perd_forged_f, '\n') + 1;
	snprintf(l, sizeof(l), "%.*s", (int)(strchr(nl, '\n') - nl), nl);
	memset(&rec, 0, sizeof(rec));
	T_EQ_INT(pbsd_logtail_parse(PERD, span_from_str(l), &rec, &errstr),
	    PBSD_LOGTAIL_NOHOST);
	T_ASSERT(strstr(errstr, "syslog") != NULL);
	T_EQ_INT(rec.pr_family, 0);
	/* Real -F lines, success and failure, ISO stamp: all refused. */
	T_EQ_INT(parse(PERD, "Nov 23 16:48:00 perdition.pop3[25242]: Auth: "
	    "127.0.0.1:56986->127.0.0.1:17210 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"alice\" "
	    "server=\"127.0.0.1:17110\" protocol=POP3 server-secure=plaintext "
	    "status=\"ok\"", &rec), PBSD_LOGTAIL_NOHOST);
	T_EQ_INT(parse(PERD, perd_forged_f, &rec), PBSD_LOGTAIL_NOHOST);
	T_EQ_INT(parse(PERD, "2026-11-23T13:03:49+01:00 perdition[1]: Auth: "
	    "192.0.2.8:1->192.0.2.1:2000 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"bob\" server=\"s:1\" "
	    "protocol=POP3 server-secure=ssl status=\"ok\"", &rec),
	    PBSD_LOGTAIL_NOHOST);
	/* With a raw syslog <PRI> but no host (a datagram): refused too. */
	T_EQ_INT(parse(PERD, "<22>Nov 23 16:48:00 perdition.pop3[2]: Auth: "
	    "192.0.2.8:1->192.0.2.1:110 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"b\" server=\"s:1\" "
	    "protocol=POP3 server-secure=plaintext status=\"ok\"", &rec),
	    PBSD_LOGTAIL_NOHOST);
	/* Other Perdition lines without host are just not logins. */
	T_EQ_INT(parse(PERD, "Nov 23 16:48:00 perdition.pop3[25242]: "
	    "Connect:  127.0.0.1:56986->127.0.0.1:17210", &rec),
	    PBSD_LOGTAIL_OTHER);
	/* The same attack through rsyslog: one line, LFs as #012, the real
	 * status at its end. */
	T_EQ_INT(parse(PERD, "Nov 23 16:48:44 mx perdition.imap4[7]: Auth: "
	    "127.0.0.24:5->127.0.0.1:143 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"a\" "
	    "server=\"127.0.0.1:1\" protocol=IMAP4 server-secure=plaintext "
	    "status=\"failed\"#012Nov 23 16:48:44 perdition.imap4[1]: Auth: "
	    "127.0.0.77:1->127.0.0.1:143 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"b\" "
	    "server=\"127.0.0.1:1\" protocol=IMAP4 server-secure=plaintext "
	    "status=\"ok\"#012z\" server=\"127.0.0.1:1143\" protocol=IMAP4 "
	    "server-secure=plaintext status=\"failed: Re-Authentication "
	    "Failure\"", &rec), PBSD_LOGTAIL_OTHER);
	/* Two words before the tag: not a syslog prefix we know. */
	T_EQ_INT(parse(PERD, "Nov 23 16:48:00 mx y perdition.pop3[2]: Auth: "
	    "192.0.2.8:1->192.0.2.1:110 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"b\" server=\"s:1\" "
	    "protocol=POP3 server-secure=plaintext status=\"ok\"", &rec),
	    PBSD_LOGTAIL_OTHER);
	/* Dovecot lines need no host (Dovecot sanitises user names). */
	expect_login(DOV, dov_imap, "127.0.0.1", PBSD_PROTO_IMAP, "alice");
}

/*
 * A Perdition "Auth:" message of exactly msglen bytes whose user name is
 * padding: at PBSD_LOGTAIL_PERDITION_MSG_MAX - 1 it is a login, at the
 * maximum (what Perdition's 4096-byte buffer cuts to) it is broken.
 */
static char *
perd_line(size_t msglen, const char *tail)
{
	static const char stamp[] = "Nov 23 16:48:05 mx perdition.pop3[1]: ";
	static const char head[] = "Auth: 192.0.2.4:5->192.0.2.1:110 "
	    "client-secure=plaintext authorisation_id=NONE "
	    "authentication_id=\"";
	size_t	pad = msglen - strlen(head) - strlen(tail);
	char	*l = malloc(strlen(stamp) + msglen + 1);

	if (l == NULL) {
		abort();
	}
	memcpy(l, stamp, strlen(stamp));
	memcpy(l + strlen(stamp), head, strlen(head));
	memset(l + strlen(stamp) + strlen(head), 'A', pad);
	memcpy(l + strlen(stamp) + strlen(head) + pad, tail, strlen(tail) + 1);
	return l;
}

static void
test_perdition_truncation(void)
{
	static const char ok[] = "\" server=\"s:1\" protocol=POP3 "
	    "server-secure=plaintext status=\"ok\"";
	struct pbsd_record	rec;
	char			*l;

	l = perd_line(PBSD_LOGTAIL_PERDITION_MSG_MAX - 1, ok);
	T_EQ_INT(parse(PERD, l, &rec), PBSD_LOGTAIL_LOGIN);
	free(l);
	/* The attack: a user name that ends where Perdition cuts. */
	l = perd_line(PBSD_LOGTAIL_PERDITION_MSG_MAX, ok);
	T_EQ_INT(parse(PERD, l, &rec), PBSD_LOGTAIL_BROKEN);
	free(l);
	l = perd_line(PBSD_LOGTAIL_PERDITION_MSG_MAX + 1, ok);
	T_EQ_INT(parse(PERD, l, &rec), PBSD_LOGTAIL_BROKEN);
	free(l);
}

static void
test_line_limit(void)
{
	struct pbsd_record	 rec;
	const char		*errstr;
	char			*l = malloc(PBSD_LOGTAIL_MAX_LINE + 2);
	size_t			 n = strlen(dov_imap);

	if (l == NULL) {
		abort();
	}
	/* A login line padded with spaces to the limit: a valid prefix,
	 * then a tail that is not Dovecot's: broken, but parsed. */
	memcpy(l, dov_imap, n);
	memset(l + n, 'x', PBSD_LOGTAIL_MAX_LINE + 1 - n);
	T_EQ_INT(pbsd_logtail_parse(DOV, (struct span){ (uint8_t *)l,
	    PBSD_LOGTAIL_MAX_LINE }, &rec, &errstr), PBSD_LOGTAIL_BROKEN);
	T_ASSERT(strcmp(errstr, "line too long") != 0);
	T_EQ_INT(pbsd_logtail_parse(DOV, (struct span){ (uint8_t *)l,
	    PBSD_LOGTAIL_MAX_LINE + 1 }, &rec, &errstr), PBSD_LOGTAIL_BROKEN);
	T_EQ_STR(errstr, "line too long");
	/* A CR before the LF is ignored. */
	memcpy(l, dov_imap, n);
	l[n] = '\r';
	T_EQ_INT(pbsd_logtail_parse(DOV, (struct span){ (uint8_t *)l,
	    n + 1 }, &rec, &errstr), PBSD_LOGTAIL_LOGIN);
	free(l);
}

/* --- the follower ------------------------------------------------------- */

struct got {
	int	n;
	char	addrs[16][64];
};

static void
got_cb(void *arg, const struct pbsd_record *rec)
{
	struct got	*g = arg;

	if (g->n < 16) {
		snprintf(g->addrs[g->n], sizeof(g->addrs[0]), "%s",
		    addr(rec));
	}
	g->n++;
}

static const char stream[] =
    "Nov 23 16:47:49 imap-login: Info: Login: user=<alice>, method=PLAIN, "
    "rip=192.0.2.1, lip=127.0.0.1, mpid=1, secured, session=<a>\n"
    "Nov 23 16:47:51 imap-login: Info: Disconnected: Connection closed "
    "(auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, "
    "rip=192.0.2.66, lip=127.0.0.1, secured, session=<b>\n"
    "\n"
    "Nov 23 16:47:52 pop3-login: Info: Login: user=<bob>, method=PLAIN, "
    "rip=2001:db8::2, lip=::1, mpid=2\r\n"
    "Nov 23 16:47:53 imap-login: Info: Login: user=<c>, method=PLAIN, "
    "rip=192.0.2.3, lip=127.0.0.1\n"
    "Nov 23 16:47:54 imap-login: Info: Login: user=<d>, method=PLAIN, "
    "rip=192.0.2.4, lip=127.0.0.1";	/* no LF yet: kept */

static void
check_stream(const struct got *g, const struct pbsd_logtail *lt)
{
	T_EQ_INT(g->n, 3);
	T_EQ_STR(g->addrs[0], "192.0.2.1");
	T_EQ_STR(g->addrs[1], "2001:db8::2");
	T_EQ_STR(g->addrs[2], "192.0.2.3");
	T_EQ_INT(lt->lt_stats.ls_lines, 5);
	T_EQ_INT(buf_len(&lt->lt_line), strlen(strrchr(stream, '\n') + 1));
}

static void
test_feed_splits(void)
{
	struct pbsd_logtail	lt;
	struct got		g;
	struct span		s = span_from_str(stream);
	size_t			i, cut;

	memset(&g, 0, sizeof(g));
	pbsd_logtail_init(&lt, "/nonexistent", DOV, 0);
	pbsd_logtail_feed(&lt, s, 0, got_cb, &g);
	check_stream(&g, &lt);
	/* The partial line completes with its LF. */
	pbsd_logtail_feed(&lt, SPAN_LIT("\n"), 0, got_cb, &g);
	T_EQ_INT(g.n, 4);
	T_EQ_STR(g.addrs[3], "192.0.2.4");
	pbsd_logtail_close(&lt);

	memset(&g, 0, sizeof(g));
	pbsd_logtail_init(&lt, "/nonexistent", DOV, 0);
	for (i = 0; i < s.len; i++) {
		pbsd_logtail_feed(&lt, span_sub(s, i, 1), 0, got_cb, &g);
	}
	check_stream(&g, &lt);
	pbsd_logtail_close(&lt);

	for (cut = 0; cut <= s.len; cut++) {
		memset(&g, 0, sizeof(g));
		pbsd_logtail_init(&lt, "/nonexistent", DOV, 0);
		pbsd_logtail_feed(&lt, span_sub(s, 0, cut), 0, got_cb, &g);
		pbsd_logtail_feed(&lt, span_sub(s, cut, s.len - cut), 0,
		    got_cb, &g);
		check_stream(&g, &lt);
		pbsd_logtail_close(&lt);
	}
}

static void
feed_long(struct pbsd_logtail *lt, size_t len, struct got *g)
{
	char	*l = malloc(len + 1);

	if (l == NULL) {
		abort();
	}
	memset(l, 'z', len);
	l[len] = '\n';
	pbsd_logtail_feed(lt, (struct span){ (uint8_t *)l, len + 1 }, 0,
	    got_cb, g);
	free(l);
}

static void
test_feed_overlong(void)
{
	struct pbsd_logtail	lt;
	struct got		g;
	static const char	ok[] = "Nov 23 16:47:53 imap-login: Info: "
	    "Login: user=<c>, method=PLAIN, rip=192.0.2.3, lip=127.0.0.1\n";

	memset(&g, 0, sizeof(g));
	pbsd_logtail_init(&lt, "/nonexistent", DOV, 0);
	feed_long(&lt, PBSD_LOGTAIL_MAX_LINE, &g);	/* at the limit */
	T_EQ_INT(lt.lt_stats.ls_overlong, 0);
	T_EQ_INT(lt.lt_stats.ls_lines, 1);
	feed_long(&lt, PBSD_LOGTAIL_MAX_LINE + 1, &g);	/* one past */
	T_EQ_INT(lt.lt_stats.ls_overlong, 1);
	T_EQ_INT(lt.lt_stats.ls_lines, 1);
	feed_long(&lt, 3 * PBSD_LOGTAIL_MAX_LINE, &g);
	T_EQ_INT(lt.lt_stats.ls_overlong, 2);
	/* The next line after an over-long one is read normally. */
	pbsd_logtail_feed(&lt, span_from_str(ok), 0, got_cb, &g);
	T_EQ_INT(g.n, 1);
	T_EQ_INT(lt.lt_stats.ls_lines, 2);
	pbsd_logtail_close(&lt);
}

/* Perdition writes a user name's line break raw: the forged line that
 * follows the broken first half is ignored (quarantine). */
static void
test_feed_quarantine(void)
{
	struct pbsd_logtail	lt;
	struct got		g;
	static const char	inj[] =
	    "Nov 23 16:48:44 mx perdition.imap4[25854]: Auth: "
	    "127.0.0.1:60694->127.0.0.1:17243 client-secure=plaintext "
	    "authorisation_id=NONE authentication_id=\"a\n"
	    "Nov 23 16:48:44 mx perdition.imap4[1]: Auth: 6.6.6.6:1->1.1.1.1:143 "
	    "client-secure=plaintext authorisation_id=NONE "
	    "authentication_id=\"b\" server=\"s:1\" protocol=IMAP4 "
	    "server-secure=plaintext status=\"ok\"\n"
	    "x\" server=\"127.0.0.1:17143\" protocol=IMAP4 "
	    "server-secure=plaintext status=\"failed: Re-Authentication "
	    "Failure\"\n";

	memset(&g, 0, sizeof(g));
	pbsd_logtail_init(&lt, "/nonexistent", PERD, 0);
	pbsd_logtail_feed(&lt, span_from_str(inj), 1000, got_cb, &g);
	T_EQ_INT(g.n, 0);
	T_EQ_INT(lt.lt_stats.ls_broken, 1);
	T_EQ_INT(lt.lt_stats.ls_quarantined, 1);
	/* Still inside the window, then after it. */
	pbsd_logtail_feed(&lt, span_from_str(perd_ok), 2999, got_cb, &g);
	pbsd_logtail_feed(&lt, SPAN_LIT("\n"), 2999, got_cb, &g);
	T_EQ_INT(g.n, 0);
	pbsd_logtail_feed(&lt, span_from_str(perd_ok), 3000, got_cb, &g);
	pbsd_logtail_feed(&lt, SPAN_LIT("\n"), 3000, got_cb, &g);
	T_EQ_INT(g.n, 1);
	T_EQ_STR(g.addrs[0], "127.0.0.1");
	pbsd_logtail_close(&lt);
}

/* --- a real file --------------------------------------------------------- */

static char	tdir[64];

static void
file_write(const char *path, const char *mode, const char *text)
{
	FILE	*f = fopen(path, mode);

	if (f == NULL) {
		abort();
	}
	fputs(text, f);
	fclose(f);
}

static const char *
login_line(const char *a)
{
	static char	l[256];

	snprintf(l, sizeof(l), "Nov 23 16:47:49 imap-login: Info: Login: "
	    "user=<u>, method=PLAIN, rip=%s, lip=127.0.0.1, mpid=1, "
	    "secured\n", a);
	return l;
}

/* The -F attack fed whole, byte by byte and split at every position:
 * never a login, and the file stays refused afterwards. */
static void
check_nohost(struct pbsd_logtail *lt, const struct got *g)
{
	T_EQ_INT(g->n, 0);
	T_EQ_INT(lt->lt_stats.ls_nohost, 3);
	T_EQ_INT(lt->lt_stats.ls_broken, 3);
	T_EQ_INT(lt->lt_unsafe, 1);
}

static void
test_feed_nohost(void)
{
	struct pbsd_logtail	lt;
	struct got		g;
	struct span		s = span_from_str(perd_forged_f);
	size_t			i, cut;

	memset(&g, 0, sizeof(g));
	pbsd_logtail_init(&lt, "/nonexistent", PERD, 0);
	pbsd_logtail_feed(&lt, s, 1000, got_cb, &g);
	check_nohost(&lt, &g);
	/* A forged line with a host much later, and a real syslog line:
	 * neither counts from this file. */
	pbsd_logtail_feed(&lt, span_from_str(perd_ok), 100000, got_cb, &g);
	pbsd_logtail_feed(&lt, SPAN_LIT("\n"), 100000, got_cb, &g);
	T_EQ_INT(g.n, 0);
	T_EQ_INT(lt.lt_stats.ls_quarantined, 1);
	pbsd_logtail_close(&lt);

	memset(&g, 0, sizeof(g));
	pbsd_logtail_init(&lt, "/nonexistent", PERD, 0);
	for (i = 0; i < s.len; i++) {
		pbsd_logtail_feed(&lt, span_sub(s, i, 1), (int64_t)i * 1000,
		    got_cb, &g);
	}
	check_nohost(&lt, &g);
	pbsd_logtail_close(&lt);

	for (cut = 0; cut <= s.len; cut++) {
		memset(&g, 0, sizeof(g));
		pbsd_logtail_init(&lt, "/nonexistent", PERD, 0);
		pbsd_logtail_feed(&lt, span_sub(s, 0, cut), 0, got_cb, &g);
		pbsd_logtail_feed(&lt, span_sub(s, cut, s.len - cut), 99999,
		    got_cb, &g);
		check_nohost(&lt, &g);
		pbsd_logtail_close(&lt);
	}
	/* A Dovecot follower has no such rule. */
	memset(&g, 0, sizeof(g));
	pbsd_logtail_init(&lt, "/nonexistent", DOV, 0);
	pbsd_logtail_feed(&lt, span_from_str(perd_forged_f), 0, got_cb, &g);
	pbsd_logtail_feed(&lt, span_from_str(login_line("192.0.2.9")), 0,
	    got_cb, &g);
	T_EQ_INT(g.n, 1);
	T_EQ_INT(lt.lt_unsafe, 0);
	pbsd_logtail_close(&lt);
}

static void
test_file_follow(void)
{
	struct pbsd_logtail	lt;
	struct got		g;
	char			path[128], old[140];

	snprintf(tdir, sizeof(tdir), "/tmp/test_pbsd_logtail.XXXXXX");
	T_ASSERT(mkdtemp(tdir) != NULL);
	snprintf(path, sizeof(path), "%s/mail.log", tdir);
	snprintf(old, sizeof(old), "%s.1", path);
	memset(&g, 0, sizeof(g));
	/* History is not replayed. */
	file_write(path, "w", login_line("192.0.2.100"));
	pbsd_logtail_init(&lt, path, DOV, 0);
	pbsd_logtail_poll(&lt, 0, got_cb, &g);
	T_EQ_INT(g.n, 0);
	T_ASSERT(lt.lt_fd != -1);
	file_write(path, "a", login_line("192.0.2.1"));
	pbsd_logtail_poll(&lt, 0, got_cb, &g);
	T_EQ_INT(g.n, 1);
	T_EQ_STR(g.addrs[0], "192.0.2.1");
	/* Rename: the old file is finished first, then the new one read
	 * from its start. */
	T_EQ_INT(rename(path, old), 0);
	file_write(old, "a", login_line("192.0.2.2"));
	pbsd_logtail_poll(&lt, 0, got_cb, &g);
	T_EQ_INT(g.n, 2);
	file_write(old, "a", login_line("192.0.2.3"));
	file_write(path, "w", login_line("192.0.2.4"));
	pbsd_logtail_poll(&lt, 0, got_cb, &g);
	T_EQ_INT(g.n, 4);
	T_EQ_STR(g.addrs[2], "192.0.2.3");
	T_EQ_STR(g.addrs[3], "192.0.2.4");
	T_EQ_INT(lt.lt_stats.ls_rotations, 1);
	/* copytruncate, shorter than before. */
	T_EQ_INT(truncate(path, 0), 0);
	file_write(path, "a", "x\n");
	pbsd_logtail_poll(&lt, 0, got_cb, &g);
	file_write(path, "a", login_line("192.0.2.5"));
	pbsd_logtail_poll(&lt, 0, got_cb, &g);
	T_EQ_INT(g.n, 5);
	T_EQ_STR(g.addrs[4], "192.0.2.5");
	T_EQ_INT(lt.lt_stats.ls_truncations, 1);
	/* copytruncate, and grown past the old offset before we look. */
	T_EQ_INT(truncate(path, 0), 0);
	file_write(path, "a", login_line("192.0.2.6"));
	file_write(path, "a", login_line("192.0.2.7"));
	pbsd_logtail_poll(&lt, 0, got_cb, &g);
	T_EQ_INT(g.n, 7);
	T_EQ_STR(g.addrs[5], "192.0.2.6");
	T_EQ_STR(g.addrs[6], "192.0.2.7");
	T_EQ_INT(lt.lt_stats.ls_truncations, 2);
	/* Absent for a while, then back: read from its start. */
	T_EQ_INT(unlink(path), 0);
	T_EQ_INT(unlink(old), 0);
	pbsd_logtail_poll(&lt, 0, got_cb, &g);
	pbsd_logtail_poll(&lt, 0, got_cb, &g);
	T_EQ_INT(g.n, 7);
	file_write(path, "w", login_line("192.0.2.8"));
	pbsd_logtail_poll(&lt, 0, got_cb, &g);
	T_EQ_INT(g.n, 8);
	T_EQ_STR(g.addrs[7], "192.0.2.8");
	pbsd_logtail_close(&lt);
	(void)unlink(path);
	(void)rmdir(tdir);
}

static void
test_file_missing_at_start(void)
{
	struct pbsd_logtail	lt;
	struct got		g;
	char			path[128], link[128];

	snprintf(tdir, sizeof(tdir), "/tmp/test_pbsd_logtail.XXXXXX");
	T_ASSERT(mkdtemp(tdir) != NULL);
	snprintf(path, sizeof(path), "%s/maillog", tdir);
	memset(&g, 0, sizeof(g));
	pbsd_logtail_init(&lt, path, PERD, 0);
	pbsd_logtail_poll(&lt, 0, got_cb, &g);
	T_EQ_INT(lt.lt_fd, -1);
	/* A file that appears later is new: all of it counts. */
	file_write(path, "w", perd_ok);
	file_write(path, "a", "\n");
	file_write(path, "a", perd_failed);
	file_write(path, "a", "\n");
	pbsd_logtail_poll(&lt, 0, got_cb, &g);
	T_EQ_INT(g.n, 1);
	T_EQ_INT(lt.lt_stats.ls_lines, 2);
	pbsd_logtail_close(&lt);
	/* logtail_start = beginning reads what is there. */
	memset(&g, 0, sizeof(g));
	pbsd_logtail_init(&lt, path, PERD, 1);
	pbsd_logtail_poll(&lt, 0, got_cb, &g);
	T_EQ_INT(g.n, 1);
	pbsd_logtail_close(&lt);
	/* Not a regular file. */
	pbsd_logtail_init(&lt, tdir, PERD, 1);
	pbsd_logtail_poll(&lt, 0, got_cb, &g);
	T_EQ_INT(lt.lt_fd, -1);
	T_EQ_INT(lt.lt_stats.ls_open_errors, 1);
	pbsd_logtail_close(&lt);
	/* A symbolic link, even to the readable log, is not followed (L4):
	 * whoever can write the log directory cannot point pbsd elsewhere. */
	snprintf(link, sizeof(link), "%s/link", tdir);
	T_EQ_INT(symlink(path, link), 0);
	memset(&g, 0, sizeof(g));
	pbsd_logtail_init(&lt, link, PERD, 1);
	pbsd_logtail_poll(&lt, 0, got_cb, &g);
	T_EQ_INT(lt.lt_fd, -1);
	T_EQ_INT(lt.lt_stats.ls_open_errors, 1);
	T_EQ_INT(g.n, 0);
	pbsd_logtail_close(&lt);
	(void)unlink(link);
	(void)unlink(path);
	(void)rmdir(tdir);
}

static void
test_fmt_names(void)
{
	T_EQ_INT(pbsd_logtail_fmt_from_name(SPAN_LIT("dovecot")), DOV);
	T_EQ_INT(pbsd_logtail_fmt_from_name(SPAN_LIT("perdition")), PERD);
	T_EQ_INT(pbsd_logtail_fmt_from_name(SPAN_LIT("Dovecot")), 0);
	T_EQ_STR(pbsd_logtail_fmt_name(DOV), "dovecot");
	T_EQ_STR(pbsd_logtail_fmt_name(PERD), "perdition");
}

static int
conf(const char *text, struct pbsd_conf *c)
{
	const char	*errstr;
	size_t		 line;

	pbsd_conf_defaults(c);
	return pbsd_conf_parse(c, (const uint8_t *)text, strlen(text),
	    &errstr, &line);
}

static void
test_conf_keys(void)
{
	static struct pbsd_conf	c;
	const char		*errstr;
	char			text[2048];
	size_t			i, n = 0;

	T_EQ_INT(conf("logtail = dovecot:/var/log/mail.log\n"
	    "logtail = perdition:/var/log/maillog\nlogtail_start = beginning\n"
	    "logtail_group = adm\n", &c), 0);
	T_EQ_INT(c.pc_nlogtails, 2);
	T_EQ_INT(c.pc_logtails[0].lc_fmt, DOV);
	T_EQ_STR(c.pc_logtails[0].lc_path, "/var/log/mail.log");
	T_EQ_INT(c.pc_logtails[1].lc_fmt, PERD);
	T_EQ_INT(c.pc_logtail_from_start, 1);
	T_EQ_STR(c.pc_logtail_group, "adm");
	T_EQ_INT(conf("logtail_start = end\n", &c), 0);
	T_EQ_INT(c.pc_logtail_from_start, 0);
	T_EQ_INT(conf("logtail = nginx:/var/log/x\n", &c), -1);
	T_EQ_INT(conf("logtail = dovecot:relative\n", &c), -1);
	T_EQ_INT(conf("logtail = /var/log/mail.log\n", &c), -1);
	T_EQ_INT(conf("logtail = dovecot:\n", &c), -1);
	T_EQ_INT(conf("logtail_start = middle\n", &c), -1);
	/* PBSD_CONF_MAX_LOGTAILS files, and one past. */
	for (i = 0; i < PBSD_CONF_MAX_LOGTAILS; i++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "logtail = dovecot:/l%zu\n", i);
	}
	T_EQ_INT(conf(text, &c), 0);
	T_EQ_INT(c.pc_nlogtails, PBSD_CONF_MAX_LOGTAILS);
	(void)snprintf(text + n, sizeof(text) - n, "logtail = dovecot:/x\n");
	T_EQ_INT(conf(text, &c), -1);
	/* A logtail alone needs no allow_uid. */
	T_EQ_INT(conf("logtail = dovecot:/l\n", &c), 0);
	T_EQ_INT(pbsd_conf_check(&c, &errstr), 0);
	T_EQ_INT(conf("expire = 60\n", &c), 0);
	T_EQ_INT(pbsd_conf_check(&c, &errstr), -1);
}

static const struct harness_case cases[] = {
	{ "conf_keys", test_conf_keys },
	{ "dovecot_real", test_dovecot_real },
	{ "dovecot_syslog", test_dovecot_syslog },
	{ "dovecot_addresses", test_dovecot_addresses },
	{ "dovecot_proxy", test_dovecot_proxy },
	{ "dovecot_attacker_users", test_dovecot_attacker_users },
	{ "perdition_real", test_perdition_real },
	{ "perdition_attacker_users", test_perdition_attacker_users },
	{ "perdition_truncation", test_perdition_truncation },
	{ "perdition_nohost", test_perdition_nohost },
	{ "line_limit", test_line_limit },
	{ "feed_splits", test_feed_splits },
	{ "feed_overlong", test_feed_overlong },
	{ "feed_quarantine", test_feed_quarantine },
	{ "feed_nohost", test_feed_nohost },
	{ "file_follow", test_file_follow },
	{ "file_missing_at_start", test_file_missing_at_start },
	{ "fmt_names", test_fmt_names },
};

HARNESS_MAIN("test_pbsd_logtail", cases)
