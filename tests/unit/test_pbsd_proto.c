/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests of the pbsd event record codec (pbsd_proto.c): every rejection
 * case, each field at its length limits and one past, every truncation and
 * extension, every single-byte mutation, and pbsd_send() over a real unix
 * datagram socket.  Runs as the invoking user; trusts nothing it decodes.
 * Threat row 36 (control characters / over-long fields in the PBS IPC).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "pbsd_proto.h"

static size_t
enc(const struct pbsd_record *r, uint8_t *out, size_t outsz)
{
	struct buf	 b;
	const char	*errstr = NULL;
	size_t		 n = 0;

	buf_init(&b, PBSD_PROTO_MAX_LEN);
	if (pbsd_event_encode(r, &b, &errstr) == 0 && buf_len(&b) <= outsz) {
		n = buf_len(&b);
		memcpy(out, buf_ptr(&b), n);
	}
	buf_release(&b);
	return n;
}

static void
mkrec(struct pbsd_record *r, int ev, int fam, const char *user)
{
	memset(r, 0, sizeof(*r));
	r->pr_event = (uint8_t)ev;
	r->pr_family = (uint8_t)fam;
	r->pr_proto = PBSD_PROTO_IMAP;
	if (fam == PBSD_FAM_INET) {
		(void)inet_pton(AF_INET, "192.0.2.7", r->pr_addr);
	} else {
		(void)inet_pton(AF_INET6, "2001:db8::7", r->pr_addr);
	}
	if (user != NULL) {
		r->pr_userlen = strlen(user);
		memcpy(r->pr_user, user, r->pr_userlen);
	}
}

static int
dec(const uint8_t *p, size_t n, struct pbsd_record *r)
{
	const char	*errstr = NULL;
	int		 rv = pbsd_event_decode(p, n, r, &errstr);

	if (rv == -1 && errstr == NULL) {
		return -2;	/* a rejection must say why */
	}
	return rv;
}

static void
test_roundtrip(void)
{
	struct pbsd_record	r, d;
	uint8_t			out[PBSD_PROTO_MAX_LEN];
	size_t			n;
	int			ev, fam;

	for (ev = PBSD_EV_LOGIN_OK; ev <= PBSD_EV_LOGOUT; ev++) {
		for (fam = 4; fam <= 6; fam += 2) {
			mkrec(&r, ev, fam, "alice@example.org");
			n = enc(&r, out, sizeof(out));
			T_EQ_INT(n, PBSD_PROTO_HDR + (fam == 4 ? 4 : 16) + 1 +
			    17);
			T_EQ_INT(dec(out, n, &d), 0);
			T_EQ_INT(d.pr_event, ev);
			T_EQ_INT(d.pr_family, fam);
			T_EQ_INT(d.pr_proto, PBSD_PROTO_IMAP);
			T_ASSERT(memcmp(d.pr_addr, r.pr_addr, 16) == 0);
			T_EQ_STR(d.pr_user, "alice@example.org");
			T_EQ_INT(d.pr_userlen, 17);
		}
	}
	/* Wire layout: magic, version, event, family, proto. */
	mkrec(&r, PBSD_EV_LOGOUT, PBSD_FAM_INET, NULL);
	n = enc(&r, out, sizeof(out));
	T_EQ_INT(n, PBSD_PROTO_MIN_LEN);
	T_ASSERT(memcmp(out, "PBSD\x01\x03\x04\x02\xc0\x00\x02\x07\x00",
	    13) == 0);
}

static void
test_length_limits(void)
{
	struct pbsd_record	r, d;
	uint8_t			out[PBSD_PROTO_MAX_LEN + 8];
	char			user[PBSD_PROTO_MAX_USER + 2];
	size_t			n;

	/* Shortest: IPv4, no user = 13; longest: IPv6, 255-byte user. */
	mkrec(&r, PBSD_EV_LOGIN_OK, PBSD_FAM_INET, NULL);
	n = enc(&r, out, sizeof(out));
	T_EQ_INT(n, PBSD_PROTO_MIN_LEN);
	T_EQ_INT(dec(out, n, &d), 0);
	T_EQ_INT(dec(out, n - 1, &d), -1);
	memset(user, 'u', sizeof(user));
	user[PBSD_PROTO_MAX_USER] = '\0';
	mkrec(&r, PBSD_EV_LOGIN_OK, PBSD_FAM_INET6, user);
	n = enc(&r, out, sizeof(out));
	T_EQ_INT(n, PBSD_PROTO_MAX_LEN);
	T_EQ_INT(dec(out, n, &d), 0);
	T_EQ_INT(d.pr_userlen, PBSD_PROTO_MAX_USER);
	/* One past: 256-byte user cannot be encoded ... */
	user[PBSD_PROTO_MAX_USER] = 'u';
	user[PBSD_PROTO_MAX_USER + 1] = '\0';
	memset(&r, 0, sizeof(r));
	mkrec(&r, PBSD_EV_LOGIN_OK, PBSD_FAM_INET6, NULL);
	r.pr_userlen = PBSD_PROTO_MAX_USER + 1;
	T_EQ_INT(enc(&r, out, sizeof(out)), 0);
	/* ... and 281 bytes on the wire are too long whatever they hold. */
	n = PBSD_PROTO_MAX_LEN;
	mkrec(&r, PBSD_EV_LOGIN_OK, PBSD_FAM_INET6, NULL);
	(void)enc(&r, out, sizeof(out));
	memset(out + 25, 'u', sizeof(out) - 25);
	out[24] = 255;
	T_EQ_INT(dec(out, PBSD_PROTO_MAX_LEN, &d), 0);
	T_EQ_INT(dec(out, PBSD_PROTO_MAX_LEN + 1, &d), -1);
	/* Empty and tiny inputs. */
	T_EQ_INT(dec(out, 0, &d), -1);
	T_EQ_INT(dec(NULL, 0, &d), -1);
	T_EQ_INT(dec(out, 1, &d), -1);
}

/* Every proper prefix and every 1-byte extension is rejected. */
static void
test_truncations_and_trailing(void)
{
	struct pbsd_record	r, d;
	uint8_t			out[PBSD_PROTO_MAX_LEN + 2];
	const char		*users[] = { NULL, "a", "bob" };
	size_t			n, i, u;
	int			fam;

	for (u = 0; u < 3; u++) {
		for (fam = 4; fam <= 6; fam += 2) {
			mkrec(&r, PBSD_EV_LOGIN_OK, fam, users[u]);
			n = enc(&r, out, sizeof(out));
			T_ASSERT(n > 0);
			for (i = 0; i < n; i++) {
				T_EQ_INT(dec(out, i, &d), -1);
			}
			T_EQ_INT(dec(out, n, &d), 0);
			out[n] = 'x';
			T_EQ_INT(dec(out, n + 1, &d), -1);
			out[n] = '\0';
			T_EQ_INT(dec(out, n + 1, &d), -1);
		}
	}
}

static void
test_header_rejects(void)
{
	struct pbsd_record	r, d;
	uint8_t			out[PBSD_PROTO_MAX_LEN], bad[PBSD_PROTO_MAX_LEN];
	size_t			n;
	int			v;

	mkrec(&r, PBSD_EV_LOGIN_OK, PBSD_FAM_INET, "x");
	n = enc(&r, out, sizeof(out));
	/* magic */
	memcpy(bad, out, n);
	bad[0] = 'Q';
	T_EQ_INT(dec(bad, n, &d), -1);
	memcpy(bad, out, n);
	bad[3] = 'd';
	T_EQ_INT(dec(bad, n, &d), -1);
	/* version: only 1 */
	for (v = 0; v < 256; v++) {
		memcpy(bad, out, n);
		bad[4] = (uint8_t)v;
		T_EQ_INT(dec(bad, n, &d), v == 1 ? 0 : -1);
	}
	/* event: only 1..3 (threat row 43: no other type makes an entry) */
	for (v = 0; v < 256; v++) {
		memcpy(bad, out, n);
		bad[5] = (uint8_t)v;
		T_EQ_INT(dec(bad, n, &d), (v >= 1 && v <= 3) ? 0 : -1);
	}
	/* family: 4 fits this length, 6 would need 12 more bytes */
	for (v = 0; v < 256; v++) {
		memcpy(bad, out, n);
		bad[6] = (uint8_t)v;
		T_EQ_INT(dec(bad, n, &d), v == 4 ? 0 : -1);
	}
	/* protocol: 0..2 */
	for (v = 0; v < 256; v++) {
		memcpy(bad, out, n);
		bad[7] = (uint8_t)v;
		T_EQ_INT(dec(bad, n, &d), v <= 2 ? 0 : -1);
	}
	/* user length byte must match exactly */
	for (v = 0; v < 256; v++) {
		memcpy(bad, out, n);
		bad[12] = (uint8_t)v;
		T_EQ_INT(dec(bad, n, &d), v == 1 ? 0 : -1);
	}
	/* encoder refuses what the decoder refuses */
	r.pr_event = 4;
	T_EQ_INT(enc(&r, out, sizeof(out)), 0);
	r.pr_event = PBSD_EV_LOGIN_OK;
	r.pr_family = 10;
	T_EQ_INT(enc(&r, out, sizeof(out)), 0);
	r.pr_family = PBSD_FAM_INET;
	r.pr_proto = 3;
	T_EQ_INT(enc(&r, out, sizeof(out)), 0);
}

/* Threat row 36: CR, LF, NUL, TAB and every other control char. */
static void
test_row36_user_control_chars(void)
{
	struct pbsd_record	r, d;
	uint8_t			out[PBSD_PROTO_MAX_LEN];
	size_t			n, pos;
	int			c;

	mkrec(&r, PBSD_EV_LOGIN_OK, PBSD_FAM_INET6, "abc");
	n = enc(&r, out, sizeof(out));
	T_EQ_INT(n, PBSD_PROTO_HDR + 16 + 1 + 3);
	for (pos = n - 3; pos < n; pos++) {
		for (c = 0; c < 256; c++) {
			uint8_t	bad[PBSD_PROTO_MAX_LEN];
			int	want = (c < 0x20 || c == 0x7f) ? -1 : 0;

			memcpy(bad, out, n);
			bad[pos] = (uint8_t)c;
			T_EQ_INT(dec(bad, n, &d), want);
		}
	}
	/* The encoder refuses them too. */
	mkrec(&r, PBSD_EV_LOGIN_OK, PBSD_FAM_INET, "a\tb");
	T_EQ_INT(enc(&r, out, sizeof(out)), 0);
	mkrec(&r, PBSD_EV_LOGIN_OK, PBSD_FAM_INET, "a\r\nb");
	T_EQ_INT(enc(&r, out, sizeof(out)), 0);
	mkrec(&r, PBSD_EV_LOGIN_OK, PBSD_FAM_INET, "a\x7f");
	T_EQ_INT(enc(&r, out, sizeof(out)), 0);
	/* Embedded NUL: length says 3, string says 1. */
	mkrec(&r, PBSD_EV_LOGIN_OK, PBSD_FAM_INET, "abc");
	r.pr_user[1] = '\0';
	T_EQ_INT(enc(&r, out, sizeof(out)), 0);
}

/* Any single-byte change: rejected, or decodes to a canonical record. */
static void
test_every_mutation(void)
{
	struct pbsd_record	r, d;
	uint8_t			out[PBSD_PROTO_MAX_LEN], bad[PBSD_PROTO_MAX_LEN];
	uint8_t			re[PBSD_PROTO_MAX_LEN];
	size_t			n, pos, m;
	int			c, fam;

	for (fam = 4; fam <= 6; fam += 2) {
		mkrec(&r, PBSD_EV_SESSION_ALIVE, fam, "us");
		n = enc(&r, out, sizeof(out));
		for (pos = 0; pos < n; pos++) {
			for (c = 0; c < 256; c++) {
				memcpy(bad, out, n);
				bad[pos] = (uint8_t)c;
				if (dec(bad, n, &d) != 0) {
					continue;
				}
				m = enc(&d, re, sizeof(re));
				T_EQ_INT(m, n);
				T_ASSERT(memcmp(re, bad, n) == 0);
			}
		}
	}
}

static void
test_set_addr_mapped(void)
{
	struct pbsd_record	r;
	struct sockaddr_in6	sin6;
	struct sockaddr_in	sin;
	struct sockaddr_un	sun;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	(void)inet_pton(AF_INET6, "::ffff:192.0.2.9", &sin6.sin6_addr);
	T_EQ_INT(pbsd_record_set_addr(&r, (struct sockaddr *)&sin6), 0);
	T_EQ_INT(r.pr_family, PBSD_FAM_INET);
	T_ASSERT(memcmp(r.pr_addr, "\xc0\x00\x02\x09", 4) == 0);
	(void)inet_pton(AF_INET6, "2001:db8::9", &sin6.sin6_addr);
	T_EQ_INT(pbsd_record_set_addr(&r, (struct sockaddr *)&sin6), 0);
	T_EQ_INT(r.pr_family, PBSD_FAM_INET6);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	T_EQ_INT(pbsd_record_set_addr(&r, (struct sockaddr *)&sin), 0);
	T_EQ_INT(r.pr_family, PBSD_FAM_INET);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	T_EQ_INT(pbsd_record_set_addr(&r, (struct sockaddr *)&sun), -1);
}

static void
test_send(void)
{
	struct sockaddr_un	sun;
	struct sockaddr_in	sin;
	struct pbsd_record	d;
	char			path[] = "/tmp/test_pbsd_proto.XXXXXX";
	char			sock[200];
	uint8_t			in[512];
	char			longuser[300];
	ssize_t			n;
	int			rfd, cfd;

	T_ASSERT(mkdtemp(path) != NULL);
	(void)snprintf(sock, sizeof(sock), "%s/s", path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock, strlen(sock));
	rfd = socket(AF_UNIX, SOCK_DGRAM, 0);
	T_ASSERT(rfd != -1);
	T_EQ_INT(bind(rfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cfd = pbsd_client_socket();
	T_ASSERT(cfd != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	(void)inet_pton(AF_INET, "198.51.100.4", &sin.sin_addr);
	T_EQ_INT(pbsd_send(cfd, sock, PBSD_EV_LOGIN_OK,
	    (struct sockaddr *)&sin, "carol", "pop3"), 0);
	n = recv(rfd, in, sizeof(in), 0);
	T_EQ_INT(n, PBSD_PROTO_MIN_LEN + 5);
	T_EQ_INT(dec(in, (size_t)n, &d), 0);
	T_EQ_STR(d.pr_user, "carol");
	T_EQ_INT(d.pr_proto, PBSD_PROTO_POP3);
	/* Bad arguments fail with EINVAL and send nothing. */
	errno = 0;
	T_EQ_INT(pbsd_send(cfd, sock, PBSD_EV_LOGIN_OK,
	    (struct sockaddr *)&sin, "bad\nuser", NULL), -1);
	T_EQ_INT(errno, EINVAL);
	T_EQ_INT(pbsd_send(cfd, sock, (enum pbsd_event)9,
	    (struct sockaddr *)&sin, NULL, NULL), -1);
	T_EQ_INT(pbsd_send(cfd, sock, PBSD_EV_LOGIN_OK,
	    (struct sockaddr *)&sin, NULL, "smtp"), -1);
	memset(longuser, 'x', sizeof(longuser) - 1);
	longuser[sizeof(longuser) - 1] = '\0';
	T_EQ_INT(pbsd_send(cfd, sock, PBSD_EV_LOGIN_OK,
	    (struct sockaddr *)&sin, longuser, NULL), -1);
	longuser[PBSD_PROTO_MAX_USER] = '\0';
	T_EQ_INT(pbsd_send(cfd, sock, PBSD_EV_LOGIN_OK,
	    (struct sockaddr *)&sin, longuser, NULL), 0);
	n = recv(rfd, in, sizeof(in), MSG_DONTWAIT);
	T_EQ_INT(n, PBSD_PROTO_MIN_LEN + PBSD_PROTO_MAX_USER);
	T_EQ_INT(recv(rfd, in, sizeof(in), MSG_DONTWAIT), -1);
	/* No listener: fails at once, never blocks. */
	close(rfd);
	(void)unlink(sock);
	T_EQ_INT(pbsd_send(cfd, sock, PBSD_EV_LOGIN_OK,
	    (struct sockaddr *)&sin, NULL, NULL), -1);
	close(cfd);
	(void)rmdir(path);
}

static const struct harness_case cases[] = {
	{ "roundtrip", test_roundtrip },
	{ "length_limits", test_length_limits },
	{ "truncations_and_trailing", test_truncations_and_trailing },
	{ "row43_header_rejects_unknown_event_types", test_header_rejects },
	{ "row36_user_control_chars", test_row36_user_control_chars },
	{ "every_mutation", test_every_mutation },
	{ "set_addr_mapped", test_set_addr_mapped },
	{ "send", test_send },
};

HARNESS_MAIN("test_pbsd_proto", cases)
