/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * imap: the IMAP4 pre-login state machine (client side) and the login to
 * an IMAP backend.  Runs in the worker.  Client bytes are UNTRUSTED and
 * reach us only as commands decoded by imap_parse (bounded by lib/bailey_limits.h);
 * backend lines are UNTRUSTED, bounded by BACKEND_MAX_LINE, and their text
 * is never shown to the client before the login succeeded.
 *
 * Command table: {verb, handler}; every verb is allowed only in PH_PREAUTH
 * (the only phase in which commands are parsed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bailey.h"
#include "bailey_limits.h"
#include "capfilter.h"
#include "log.h"
#include "resp.h"
#include "session.h"
#include "tlsctx.h"

/* Pre-login capabilities: ours, by listener and TLS state. */
#define IMAP_CAPS_BASE	"IMAP4rev1 SASL-IR ID LITERAL-"
#define IMAP_CAPS_AUTH	" AUTH=PLAIN AUTH=LOGIN"
#define IMAP_BTAG	"B1"
#define IMAP_BTAG_TLS	"B0"
#define IMAP_BTAG_ID	"B2"

/* Backend login states (pl->bstate). */
enum imap_bstate {
	IB_GREETING = 0,
	IB_STARTTLS,		/* sent STARTTLS, waiting for its OK */
	IB_STARTTLS_HS,		/* TLS handshake after STARTTLS */
	IB_WAIT_USER_LIT,	/* sent "{n}", waiting for "+" */
	IB_WAIT_PASS_LIT,
	IB_LOGIN,		/* waiting for the tagged reply */
};

/* Backend capability bits (pl->bcaps). */
#define IB_CAP_LITERALPLUS	0x01

struct imap_cmd {
	const char	*verb;
	void		(*run)(struct session *);
};

static void	imap_cmd_capability(struct session *);
static void	imap_cmd_noop(struct session *);
static void	imap_cmd_logout(struct session *);
static void	imap_cmd_id(struct session *);
static void	imap_cmd_login(struct session *);
static void	imap_cmd_authenticate(struct session *);
static void	imap_cmd_starttls(struct session *);

static const struct imap_cmd imap_cmds[] = {
	{ "AUTHENTICATE",	imap_cmd_authenticate },
	{ "CAPABILITY",		imap_cmd_capability },
	{ "ID",			imap_cmd_id },
	{ "LOGIN",		imap_cmd_login },
	{ "LOGOUT",		imap_cmd_logout },
	{ "NOOP",		imap_cmd_noop },
	{ "STARTTLS",		imap_cmd_starttls },
};

static const char *
tag(const struct session *s)
{
	return s->pl->tag;
}

static void
imap_bad(struct session *s, const char *text)
{
	if (s->pl->tag[0] != '\0') {
		session_replyf(s, "%s BAD %s\r\n", tag(s), text);
	} else {
		session_replyf(s, "* BAD %s\r\n", text);
	}
	if (!s->closed && session_bad_command(s)) {
		session_reply_str(s, "* BYE Too many invalid commands.\r\n");
		session_finish(s, "too-many-bad-commands");
	}
}

static const char *
imap_caps(const struct session *s)
{
	if (session_tls_required(s)) {
		return IMAP_CAPS_BASE " STARTTLS LOGINDISABLED";
	}
	if (session_can_starttls(s)) {
		return IMAP_CAPS_BASE " STARTTLS" IMAP_CAPS_AUTH;
	}
	return IMAP_CAPS_BASE IMAP_CAPS_AUTH;
}

static void
imap_greet(struct session *s)
{
	session_replyf(s, "* OK [CAPABILITY %s] Bailey ready.\r\n",
	    imap_caps(s));
}

/* After STARTTLS: nothing said before TLS counts (row 41). */
static void
imap_tls_reset(struct session *s)
{
	creds_clear(&s->pl->creds);
	s->pl->have_user = 0;
	s->pl->mech = SASL_NONE;
	s->pl->tag[0] = '\0';
	imap_parser_free(&s->pl->ip);
	imap_parser_init(&s->pl->ip, IMAP_PARSE_LITERAL_MINUS);
}

/* LOGINDISABLED until TLS: 1 (and NO sent) if the login must wait. */
static int
imap_need_tls(struct session *s)
{
	if (!session_tls_required(s)) {
		return 0;
	}
	session_replyf(s, "%s NO [PRIVACYREQUIRED] Use STARTTLS first.\r\n",
	    tag(s));
	return 1;
}

static int
imap_noargs(struct session *s)
{
	if (imap_nargs(&s->pl->ip) != 0) {
		imap_bad(s, "Unexpected arguments.");
		return -1;
	}
	return 0;
}

static void
imap_cmd_capability(struct session *s)
{
	if (imap_noargs(s) == 0) {
		session_replyf(s, "* CAPABILITY %s\r\n"
		    "%s OK Capability completed.\r\n", imap_caps(s), tag(s));
	}
}

static void
imap_cmd_noop(struct session *s)
{
	if (imap_noargs(s) == 0) {
		session_replyf(s, "%s OK NOOP completed.\r\n", tag(s));
	}
}

static void
imap_cmd_logout(struct session *s)
{
	if (imap_noargs(s) == 0) {
		session_replyf(s, "* BYE Logging out.\r\n"
		    "%s OK Logout completed.\r\n", tag(s));
		session_finish(s, "logout");
	}
}

static void
imap_cmd_starttls(struct session *s)
{
	/* Not offered here, or TLS is on already: never pretend (row 5). */
	if (!session_can_starttls(s)) {
		imap_bad(s, "STARTTLS not available.");
		return;
	}
	if (imap_noargs(s) == -1) {
		return;
	}
	session_replyf(s, "%s OK Begin TLS negotiation now.\r\n", tag(s));
	if (!s->closed) {
		session_starttls(s);
	}
}

/* ID NIL, or ID ( *(string SP nstring) ) per RFC 2971; the data is
 * checked and dropped. */
static void
imap_cmd_id(struct session *s)
{
	const struct imap_parser *p = &s->pl->ip;
	size_t	n = imap_nargs(p), i;

	if (n == 1 && imap_arg_type(p, 0) == IMAP_TOK_NIL) {
		goto ok;
	}
	if (n < 2 || imap_arg_type(p, 0) != IMAP_TOK_LIST_START ||
	    imap_arg_type(p, n - 1) != IMAP_TOK_LIST_END || (n - 2) % 2 != 0 ||
	    (n - 2) / 2 > 30) {
		imap_bad(s, "Invalid ID arguments.");
		return;
	}
	for (i = 1; i + 1 < n - 1; i += 2) {
		enum imap_tok kt = imap_arg_type(p, i);
		enum imap_tok vt = imap_arg_type(p, i + 1);

		if (kt != IMAP_TOK_STRING || imap_arg(p, i).len >
		    IMAP_ID_MAX_KEY || (vt != IMAP_TOK_STRING &&
		    vt != IMAP_TOK_NIL) || imap_arg(p, i + 1).len >
		    IMAP_ID_MAX_VALUE) {
			imap_bad(s, "Invalid ID arguments.");
			return;
		}
	}
ok:
	session_replyf(s, "* ID NIL\r\n%s OK ID completed.\r\n", tag(s));
}

/* An astring argument: atom, string or the atom NIL. */
static int
imap_astring(struct session *s, size_t i, char *dst, size_t dstsz)
{
	const struct imap_parser *p = &s->pl->ip;
	enum imap_tok		  t = imap_arg_type(p, i);
	const char		 *err;

	if (t != IMAP_TOK_ATOM && t != IMAP_TOK_STRING && t != IMAP_TOK_NIL) {
		return -1;
	}
	return creds_set(imap_arg(p, i), dst, dstsz, &err);
}

static void
imap_cmd_login(struct session *s)
{
	struct creds	*c = &s->pl->creds;

	if (imap_nargs(&s->pl->ip) != 2) {
		imap_bad(s, "LOGIN needs a user name and a password.");
		return;
	}
	if (imap_need_tls(s)) {
		return;
	}
	if (imap_astring(s, 0, c->user, sizeof(c->user)) == -1 ||
	    imap_astring(s, 1, c->pass, sizeof(c->pass)) == -1 ||
	    c->user[0] == '\0') {
		creds_clear(c);
		imap_bad(s, "Invalid user name or password.");
		return;
	}
	session_lookup(s);
}

static void
imap_sasl_done(struct session *s, int rv, const char *err)
{
	if (rv == -1) {
		creds_clear(&s->pl->creds);
		s->phase = PH_PREAUTH;
		imap_bad(s, err ? err : "Invalid SASL response.");
		return;
	}
	session_lookup(s);
}

/* One SASL response (base64) for the mechanism in progress. */
static void
imap_sasl_step(struct session *s, struct span b64)
{
	struct creds	*c = &s->pl->creds;
	const char	*err = NULL;
	int		 rv;

	if (s->pl->mech == SASL_PLAIN) {
		rv = sasl_plain_decode(b64, c, &err);
		imap_sasl_done(s, rv, err);
		return;
	}
	if (!s->pl->have_user) {
		if (sasl_login_decode(b64, c->user, sizeof(c->user), &err) ==
		    -1 || c->user[0] == '\0') {
			imap_sasl_done(s, -1, err);
			return;
		}
		s->pl->have_user = 1;
		s->phase = PH_SASL;
		session_reply_str(s, "+ UGFzc3dvcmQ6\r\n");
		return;
	}
	rv = sasl_login_decode(b64, c->pass, sizeof(c->pass), &err);
	imap_sasl_done(s, rv, err);
}

static void
imap_cmd_authenticate(struct session *s)
{
	const struct imap_parser *p = &s->pl->ip;
	size_t			  n = imap_nargs(p);
	struct span		  mech, ir;

	if (n < 1 || n > 2 || imap_arg_type(p, 0) != IMAP_TOK_ATOM) {
		imap_bad(s, "AUTHENTICATE needs a mechanism.");
		return;
	}
	if (imap_need_tls(s)) {
		return;
	}
	mech = imap_arg(p, 0);
	if (span_eq_ci(mech, "PLAIN")) {
		s->pl->mech = SASL_PLAIN;
	} else if (span_eq_ci(mech, "LOGIN")) {
		s->pl->mech = SASL_LOGIN;
	} else {
		/* Not enabled means not accepted (threat row 18). */
		session_replyf(s, "%s NO Unsupported authentication "
		    "mechanism.\r\n", tag(s));
		return;
	}
	s->pl->have_user = 0;
	creds_clear(&s->pl->creds);
	if (n == 2) {
		/* SASL-IR (RFC 4959): an atom, base64 or "=". */
		if (imap_arg_type(p, 1) != IMAP_TOK_ATOM) {
			imap_bad(s, "Invalid initial response.");
			return;
		}
		ir = imap_arg(p, 1);
		if (span_eq(ir, "=")) {
			ir.len = 0;
		}
		imap_sasl_step(s, ir);
		return;
	}
	s->phase = PH_SASL;
	if (s->pl->mech == SASL_PLAIN) {
		session_reply_str(s, "+ \r\n");
	} else {
		session_reply_str(s, "+ VXNlcm5hbWU6\r\n");
	}
}

static void
imap_dispatch(struct session *s)
{
	const struct imap_parser *p = &s->pl->ip;
	struct span		  verb = imap_verb(p), t = imap_tag(p);
	size_t			  i;

	if (span_cstr(t, s->pl->tag, sizeof(s->pl->tag)) == -1) {
		s->pl->tag[0] = '\0';
		imap_bad(s, "Invalid tag.");
		return;
	}
	for (i = 0; i < sizeof(imap_cmds) / sizeof(imap_cmds[0]); i++) {
		if (span_eq_ci(verb, imap_cmds[i].verb)) {
			imap_cmds[i].run(s);
			return;
		}
	}
	imap_bad(s, "Command not permitted before login.");
}

/* A SASL response line in PH_SASL. */
static int
imap_sasl_line(struct session *s)
{
	char		copy[SASL_MAX_LINE];
	struct span	line;
	int		rv;

	rv = session_getline(&s->cin, SASL_MAX_LINE, copy, sizeof(copy),
	    &line);
	if (rv == 0) {
		return 0;
	}
	if (rv == -1) {
		session_replyf(s, "%s BAD Response too long.\r\n", tag(s));
		session_finish(s, "line-too-long");
		return 0;
	}
	if (span_eq(line, "*")) {
		s->phase = PH_PREAUTH;
		creds_clear(&s->pl->creds);
		session_replyf(s, "%s BAD Authentication cancelled.\r\n",
		    tag(s));
		return 1;
	}
	imap_sasl_step(s, line);
	secure_zero(copy, sizeof(copy));
	return 1;
}

static void
imap_client_input(struct session *s)
{
	enum imap_rc	rc;

	while (!s->closed) {
		if (s->phase == PH_SASL) {
			if (imap_sasl_line(s) == 0) {
				return;
			}
			continue;
		}
		if (s->phase != PH_PREAUTH) {
			return;
		}
		rc = imap_parse(&s->pl->ip, &s->cin);
		switch (rc) {
		case IMAP_RC_MORE:
			return;
		case IMAP_RC_CONTINUE:
			session_reply_str(s, "+ Ready for literal data\r\n");
			break;
		case IMAP_RC_CMD:
			imap_dispatch(s);
			break;
		case IMAP_RC_BAD:
			s->pl->tag[0] = '\0';
			if (imap_has_tag(&s->pl->ip)) {
				(void)span_cstr(imap_tag(&s->pl->ip),
				    s->pl->tag, sizeof(s->pl->tag));
			}
			imap_bad(s, imap_error(&s->pl->ip));
			break;
		case IMAP_RC_FATAL:
		default:
			session_replyf(s, "* BYE %s\r\n", imap_error(&s->pl->ip));
			session_finish(s, "protocol-error");
			return;
		}
	}
}

/* ---- backend side ------------------------------------------------- */

static void
imap_login_failed(struct session *s, int auth)
{
	session_backend_drop(s);
	creds_clear(&s->pl->creds);
	if (!auth) {
		s->phase = PH_PREAUTH;
		session_replyf(s, "%s NO [UNAVAILABLE] Backend server not "
		    "available.\r\n", tag(s));
		return;
	}
	if (session_auth_failure(s)) {
		session_replyf(s, "%s NO [AUTHENTICATIONFAILED] "
		    "Authentication failed.\r\n"
		    "* BYE Too many authentication failures.\r\n", tag(s));
		session_finish(s, "too-many-auth-failures");
		return;
	}
	session_fail_delay(s);
}

static void
imap_delay_over(struct session *s)
{
	session_replyf(s, "%s NO [AUTHENTICATIONFAILED] Authentication "
	    "failed.\r\n", tag(s));
}

static void
imap_backend_ready(struct session *s, enum backend_status st,
    const char *login_user)
{
	if (st != BACKEND_OK) {
		if (st == BACKEND_NONE) {
			log_info("session=%016llx client=%s:%u event=no-backend",
			    (unsigned long long)s->id, s->caddr, s->cport);
		}
		imap_login_failed(s, 0);
		return;
	}
	if (login_user != NULL && login_user[0] != '\0' &&
	    strcmp(login_user, s->pl->creds.user) != 0) {
		snprintf(s->pl->creds.user, sizeof(s->pl->creds.user), "%s",
		    login_user);
	}
	s->pl->bstate = IB_GREETING;
}

/* Quotable as an IMAP quoted string: printable 7-bit only. */
static int
imap_quotable(const char *v)
{
	for (; *v != '\0'; v++) {
		if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e) {
			return 0;
		}
	}
	return 1;
}

/*
 * Appends v as an astring: a quoted string when possible, otherwise a
 * literal header.  Returns 1 if a synchronising literal header was written
 * (wait for "+" before the data), 0 otherwise (the data is written too).
 */
static int
imap_put_astring(struct session *s, struct buf *out, const char *v)
{
	size_t	i, n = strlen(v);

	if (imap_quotable(v)) {
		(void)buf_add(out, "\"", 1);
		for (i = 0; i < n; i++) {
			if (v[i] == '"' || v[i] == '\\') {
				(void)buf_add(out, "\\", 1);
			}
			(void)buf_add(out, &v[i], 1);
		}
		(void)buf_add(out, "\"", 1);
		return 0;
	}
	if (s->pl->bcaps & IB_CAP_LITERALPLUS) {
		(void)buf_addf(out, "{%zu+}\r\n", n);
		(void)buf_add(out, v, n);
		return 0;
	}
	(void)buf_addf(out, "{%zu}\r\n", n);
	return 1;
}

static void
imap_backend_send(struct session *s, struct buf *out)
{
	session_backend_write(s, (const char *)buf_ptr(out), buf_len(out));
	buf_release(out);
}

/* Sends the LOGIN command from the current step on. */
static void
imap_send_login(struct session *s, enum imap_bstate from)
{
	struct creds	*c = &s->pl->creds;
	struct buf	 out;

	buf_init(&out, 4 * (MAX_USER + MAX_PASS) + 256);
	if (from == IB_GREETING) {
		/* The client's address for the backend's logs and policies
		 * (it trusts it only from its login_trusted_networks).  Our
		 * own numeric strings only: nothing from the client. */
		if (tlsctx_backend(s->pl->bserver)->forward == FORWARD_ID) {
			(void)buf_addf(&out, IMAP_BTAG_ID " ID ("
			    "\"x-originating-ip\" \"%s\" "
			    "\"x-originating-port\" \"%u\" "
			    "\"x-session-id\" \"%016llx\")\r\n", s->caddr,
			    s->cport, (unsigned long long)s->id);
		}
		(void)buf_add_str(&out, IMAP_BTAG " LOGIN ");
		if (imap_put_astring(s, &out, c->user)) {
			s->pl->bstate = IB_WAIT_USER_LIT;
			imap_backend_send(s, &out);
			return;
		}
		from = IB_WAIT_USER_LIT;
	} else if (from == IB_WAIT_USER_LIT) {
		(void)buf_add_str(&out, c->user);
	}
	if (from == IB_WAIT_USER_LIT) {
		(void)buf_add(&out, " ", 1);
		if (imap_put_astring(s, &out, c->pass)) {
			s->pl->bstate = IB_WAIT_PASS_LIT;
			imap_backend_send(s, &out);
			return;
		}
	} else {
		(void)buf_add_str(&out, c->pass);
	}
	(void)buf_add(&out, "\r\n", 2);
	s->pl->bstate = IB_LOGIN;
	imap_backend_send(s, &out);
}

/* The LOGIN tagged OK, with the backend's [CAPABILITY] code filtered. */
static void
imap_reply_ok(struct session *s)
{
	const struct capfilter_conf *cc = worker_capconf(PROTO_IMAP);
	struct buf	 line, out;
	const char	*err = NULL;

	buf_init(&line, sizeof(s->pl->okline) + IMAP_MAX_TAG + 16);
	buf_init(&out, 2 * (sizeof(s->pl->okline) + IMAP_MAX_TAG) + 2048);
	(void)buf_addf(&line, "%s OK %s\r\n", tag(s), s->pl->okline);
	if (cc == NULL) {
		session_reply(s, (const char *)buf_ptr(&line), buf_len(&line));
	} else if (capfilter_filter_line(cc, buf_span(&line), &out, &err) ==
	    0) {
		session_reply(s, (const char *)buf_ptr(&out), buf_len(&out));
	} else {
		/* Never pass an unfiltered list: say OK without one. */
		session_replyf(s, "%s OK Logged in.\r\n", tag(s));
	}
	buf_release(&line);
	buf_release(&out);
}

static void
imap_backend_line(struct session *s, struct span line)
{
	struct imap_resp	r;

	if (imap_resp_parse(line, &r) == -1) {
		imap_login_failed(s, 0);
		return;
	}
	if (r.kind == IMAP_RESP_TAGGED && span_eq(r.tag, IMAP_BTAG_ID)) {
		return;		/* our ID's answer, whatever it says */
	}
	switch (s->pl->bstate) {
	case IB_GREETING:
		if (r.kind != IMAP_RESP_UNTAGGED || r.status != IMAP_ST_OK) {
			/* BYE, PREAUTH (we did not log in!) or junk. */
			imap_login_failed(s, 0);
			return;
		}
		if (imap_caps_has(r.text, "LITERAL+")) {
			s->pl->bcaps |= IB_CAP_LITERALPLUS;
		}
		if (s->pl->btls == TLS_MODE_STARTTLS) {
			/* A greeting that lists capabilities without
			 * STARTTLS is a downgrade: never log in (row 42). */
			if (imap_caps_has(r.text, "IMAP4rev1") &&
			    !imap_caps_has(r.text, "STARTTLS")) {
				imap_login_failed(s, 0);
				return;
			}
			session_backend_write(s, IMAP_BTAG_TLS " STARTTLS\r\n",
			    sizeof(IMAP_BTAG_TLS " STARTTLS\r\n") - 1);
			s->pl->bstate = IB_STARTTLS;
			return;
		}
		imap_send_login(s, IB_GREETING);
		return;
	case IB_STARTTLS:
		if (r.kind == IMAP_RESP_UNTAGGED && r.status != IMAP_ST_BYE &&
		    r.status != IMAP_ST_PREAUTH) {
			return;		/* pre-TLS chatter is ignored */
		}
		if (r.kind != IMAP_RESP_TAGGED ||
		    !span_eq(r.tag, IMAP_BTAG_TLS) || r.status != IMAP_ST_OK) {
			imap_login_failed(s, 0);	/* never in clear */
			return;
		}
		s->pl->bstate = IB_STARTTLS_HS;
		s->pl->bcaps = 0;	/* pre-TLS capabilities are void */
		session_backend_starttls(s);
		return;
	case IB_WAIT_USER_LIT:
	case IB_WAIT_PASS_LIT:
		if (r.kind == IMAP_RESP_CONTINUE) {
			imap_send_login(s, (enum imap_bstate)s->pl->bstate);
			return;
		}
		if (r.kind == IMAP_RESP_UNTAGGED &&
		    r.status == IMAP_ST_OTHER) {
			return;
		}
		break;
	case IB_LOGIN:
		if (r.kind == IMAP_RESP_UNTAGGED &&
		    r.status != IMAP_ST_BYE) {
			return;		/* e.g. CAPABILITY; dropped */
		}
		break;
	default:
		break;
	}
	if (r.kind != IMAP_RESP_TAGGED || !span_eq(r.tag, IMAP_BTAG)) {
		imap_login_failed(s, 0);
		return;
	}
	if (r.status != IMAP_ST_OK) {
		imap_login_failed(s, 1);
		return;
	}
	creds_clear(&s->pl->creds);
	if (span_cstr(r.text, s->pl->okline, sizeof(s->pl->okline)) == -1) {
		snprintf(s->pl->okline, sizeof(s->pl->okline), "Logged in.");
	}
	imap_reply_ok(s);
	session_login_ok(s, NULL);
}

static void
imap_backend_tls_done(struct session *s)
{
	if (s->pl->bstate == IB_STARTTLS_HS) {
		imap_send_login(s, IB_GREETING);
	}
}

static void
imap_backend_input(struct session *s)
{
	char		copy[BACKEND_MAX_LINE];
	struct span	line;
	int		rv;

	while (!s->closed && s->phase == PH_BACKEND) {
		rv = session_getline(&s->pl->bin, BACKEND_MAX_LINE, copy,
		    sizeof(copy), &line);
		if (rv == 0) {
			return;
		}
		if (rv == -1) {
			imap_login_failed(s, 0);	/* huge backend line */
			return;
		}
		imap_backend_line(s, line);
	}
}

const struct proto_ops imap_ops = {
	.greet = imap_greet,
	.client_input = imap_client_input,
	.backend_ready = imap_backend_ready,
	.backend_input = imap_backend_input,
	.delay_over = imap_delay_over,
	.tls_reset = imap_tls_reset,
	.backend_tls_done = imap_backend_tls_done,
	.bye_timeout = "* BYE Autologout; idle for too long.\r\n",
	.bye_toomany = "* BYE Too many connections, try again later.\r\n",
	.bye_shutdown = "* BYE Server shutting down.\r\n",
	.bye_internal = "* BYE Internal error.\r\n",
};
