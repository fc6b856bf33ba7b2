/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pop3: the POP3 pre-login state machine (client side) and the login to a
 * POP3 backend.  Runs in the worker.  Client lines are UNTRUSTED, bounded
 * by POP3_MAX_CMD (RFC 2449); backend lines are UNTRUSTED, bounded by
 * POP3_MAX_REPLY / BACKEND_MAX_LINE, and never shown to the client before
 * the login succeeded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bailey.h"
#include "bailey_limits.h"
#include "log.h"
#include "resp.h"
#include "session.h"
#include "tlsctx.h"

/* Pre-login CAPA: ours, by listener and TLS state. */
#define POP3_CAPA_HEAD	"+OK Capability list follows.\r\n"
#define POP3_CAPA_LOGIN	"USER\r\nSASL PLAIN LOGIN\r\n"
#define POP3_CAPA_TAIL	"RESP-CODES\r\nAUTH-RESP-CODE\r\n.\r\n"

enum pop3_bstate {
	PB_GREETING = 0,
	PB_STLS,		/* sent STLS, waiting for +OK */
	PB_STLS_HS,		/* TLS handshake after STLS */
	PB_CAPA,		/* waiting for CAPA's status line */
	PB_CAPA_LIST,		/* reading the CAPA list */
	PB_AUTH,		/* sent AUTH PLAIN with initial response */
	PB_USER,		/* sent USER */
	PB_PASS,		/* sent PASS */
	PB_XCLIENT,		/* sent XCLIENT, waiting for its answer */
};

#define PB_CAP_SASL_PLAIN	0x01
#define PB_CAP_XCLIENT		0x02

/*
 * What a configured backend's CAPA said (SASL PLAIN, XCLIENT), per server
 * and TLS state, reused for POP3_CAPA_TTL_MS: one backend round trip
 * less per login.  A failed backend login forgets the entry, so a backend
 * whose capabilities changed is asked again on the next login.  Map
 * destinations are always asked.
 */
#define POP3_CAPA_TTL_MS	60000

struct pop3_capcache {
	uint64_t	until;		/* ev_now() ms; 0 = empty */
	int		bcaps;
};

static struct pop3_capcache pop3_capcache[CONF_MAX_SERVERS][2];

struct pop3_cmdent {
	const char	*verb;
	void		(*run)(struct session *, const struct pop3_cmd *);
};

static void	pop3_cmd_capa(struct session *, const struct pop3_cmd *);
static void	pop3_cmd_user(struct session *, const struct pop3_cmd *);
static void	pop3_cmd_pass(struct session *, const struct pop3_cmd *);
static void	pop3_cmd_auth(struct session *, const struct pop3_cmd *);
static void	pop3_cmd_noop(struct session *, const struct pop3_cmd *);
static void	pop3_cmd_quit(struct session *, const struct pop3_cmd *);
static void	pop3_cmd_stls(struct session *, const struct pop3_cmd *);

static const struct pop3_cmdent pop3_cmds[] = {
	{ "AUTH",	pop3_cmd_auth },
	{ "CAPA",	pop3_cmd_capa },
	{ "NOOP",	pop3_cmd_noop },
	{ "PASS",	pop3_cmd_pass },
	{ "QUIT",	pop3_cmd_quit },
	{ "STLS",	pop3_cmd_stls },
	{ "USER",	pop3_cmd_user },
};

static void
pop3_err(struct session *s, const char *text)
{
	session_replyf(s, "-ERR %s\r\n", text);
	if (!s->closed && session_bad_command(s)) {
		session_reply_str(s, "-ERR Too many invalid commands.\r\n");
		session_finish(s, "too-many-bad-commands");
	}
}

static void
pop3_greet(struct session *s)
{
	session_reply_str(s, "+OK Bailey ready.\r\n");
}

static void
pop3_cmd_capa(struct session *s, const struct pop3_cmd *c)
{
	if (c->has_arg) {
		pop3_err(s, "Unexpected arguments.");
		return;
	}
	session_replyf(s, "%s%s%s%s", POP3_CAPA_HEAD,
	    session_can_starttls(s) ? "STLS\r\n" : "",
	    session_tls_required(s) ? "" : POP3_CAPA_LOGIN, POP3_CAPA_TAIL);
}

/* After STLS: a USER given before TLS is forgotten (row 41). */
static void
pop3_tls_reset(struct session *s)
{
	creds_clear(&s->pl->creds);
	s->pl->have_user = 0;
	s->pl->mech = SASL_NONE;
}

/* 1 (and -ERR sent) if the login must wait for STLS. */
static int
pop3_need_tls(struct session *s)
{
	if (!session_tls_required(s)) {
		return 0;
	}
	session_reply_str(s, "-ERR [SYS/PERM] Use STLS first.\r\n");
	return 1;
}

static void
pop3_cmd_noop(struct session *s, const struct pop3_cmd *c)
{
	(void)c;
	session_reply_str(s, "+OK\r\n");
}

static void
pop3_cmd_quit(struct session *s, const struct pop3_cmd *c)
{
	(void)c;
	session_reply_str(s, "+OK Bye.\r\n");
	session_finish(s, "logout");
}

static void
pop3_cmd_stls(struct session *s, const struct pop3_cmd *c)
{
	/* Not offered here, or TLS is on already (row 5). */
	if (!session_can_starttls(s) || c->has_arg) {
		pop3_err(s, "STLS not available.");
		return;
	}
	session_reply_str(s, "+OK Begin TLS negotiation.\r\n");
	if (!s->closed) {
		session_starttls(s);
	}
}

static void
pop3_cmd_user(struct session *s, const struct pop3_cmd *c)
{
	const char	*err;

	creds_clear(&s->pl->creds);
	s->pl->have_user = 0;
	if (pop3_need_tls(s)) {
		return;
	}
	if (!c->has_arg || c->arg.len == 0 ||
	    creds_set(c->arg, s->pl->creds.user, sizeof(s->pl->creds.user),
	    &err) == -1) {
		pop3_err(s, "Invalid user name.");
		return;
	}
	s->pl->have_user = 1;
	session_reply_str(s, "+OK\r\n");
}

static void
pop3_cmd_pass(struct session *s, const struct pop3_cmd *c)
{
	const char	*err;

	if (!s->pl->have_user) {
		pop3_err(s, "No user name given.");
		return;
	}
	s->pl->have_user = 0;
	if (!c->has_arg || creds_set(c->arg, s->pl->creds.pass,
	    sizeof(s->pl->creds.pass), &err) == -1) {
		creds_clear(&s->pl->creds);
		pop3_err(s, "Invalid password.");
		return;
	}
	session_lookup(s);
}

static void
pop3_sasl_done(struct session *s, int rv, const char *err)
{
	if (rv == -1) {
		creds_clear(&s->pl->creds);
		s->phase = PH_PREAUTH;
		pop3_err(s, err ? err : "Invalid SASL response.");
		return;
	}
	session_lookup(s);
}

static void
pop3_sasl_step(struct session *s, struct span b64)
{
	struct creds	*c = &s->pl->creds;
	const char	*err = NULL;

	if (s->pl->mech == SASL_PLAIN) {
		pop3_sasl_done(s, sasl_plain_decode(b64, c, &err), err);
		return;
	}
	if (!s->pl->have_user) {
		if (sasl_login_decode(b64, c->user, sizeof(c->user), &err) ==
		    -1 || c->user[0] == '\0') {
			pop3_sasl_done(s, -1, err);
			return;
		}
		s->pl->have_user = 1;
		s->phase = PH_SASL;
		session_reply_str(s, "+ UGFzc3dvcmQ6\r\n");
		return;
	}
	pop3_sasl_done(s, sasl_login_decode(b64, c->pass, sizeof(c->pass),
	    &err), err);
}

static void
pop3_cmd_auth(struct session *s, const struct pop3_cmd *c)
{
	struct span	mech, ir;
	long		sp;

	if (pop3_need_tls(s)) {
		return;
	}
	if (!c->has_arg) {
		session_reply_str(s, "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
		return;
	}
	sp = span_find(c->arg, 0, ' ');
	mech = sp < 0 ? c->arg : span_sub(c->arg, 0, (size_t)sp);
	if (span_eq_ci(mech, "PLAIN")) {
		s->pl->mech = SASL_PLAIN;
	} else if (span_eq_ci(mech, "LOGIN")) {
		s->pl->mech = SASL_LOGIN;
	} else {
		pop3_err(s, "Unsupported authentication mechanism.");
		return;
	}
	s->pl->have_user = 0;
	creds_clear(&s->pl->creds);
	if (sp >= 0) {
		ir = span_sub(c->arg, (size_t)sp + 1,
		    c->arg.len - (size_t)sp - 1);
		if (span_eq(ir, "=")) {
			ir.len = 0;
		}
		pop3_sasl_step(s, ir);
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
pop3_dispatch(struct session *s, struct span line)
{
	struct pop3_cmd	c;
	size_t		i;

	if (pop3_cmd_parse(line, &c) == -1) {
		pop3_err(s, "Invalid command.");
		return;
	}
	for (i = 0; i < sizeof(pop3_cmds) / sizeof(pop3_cmds[0]); i++) {
		if (span_eq_ci(c.verb, pop3_cmds[i].verb)) {
			pop3_cmds[i].run(s, &c);
			return;
		}
	}
	pop3_err(s, "Command not permitted before login.");
}

static void
pop3_client_input(struct session *s)
{
	char		copy[SASL_MAX_LINE];
	struct span	line;
	int		rv;

	while (!s->closed &&
	    (s->phase == PH_PREAUTH || s->phase == PH_SASL)) {
		rv = session_getline(&s->cin, s->phase == PH_SASL ?
		    SASL_MAX_LINE : POP3_MAX_CMD, copy, sizeof(copy), &line);
		if (rv == 0) {
			return;
		}
		if (rv == -1) {
			session_reply_str(s, "-ERR Line too long.\r\n");
			session_finish(s, "line-too-long");
			return;
		}
		if (s->phase == PH_SASL) {
			if (span_eq(line, "*")) {
				s->phase = PH_PREAUTH;
				creds_clear(&s->pl->creds);
				session_reply_str(s, "-ERR Authentication "
				    "cancelled.\r\n");
			} else {
				pop3_sasl_step(s, line);
			}
		} else {
			pop3_dispatch(s, line);
		}
		secure_zero(copy, sizeof(copy));
	}
}

/* ---- backend side ------------------------------------------------- */

static struct pop3_capcache *
pop3_capcache_slot(const struct session *s)
{
	if (s->pl->bserver >= bconf->nservers ||
	    s->pl->bserver >= CONF_MAX_SERVERS) {
		return NULL;
	}
	return &pop3_capcache[s->pl->bserver][s->b.tls != NULL];
}

static void
pop3_capcache_forget(const struct session *s)
{
	struct pop3_capcache	*c;

	if (s->pl != NULL && s->b.fd != -1 &&
	    (c = pop3_capcache_slot(s)) != NULL) {
		c->until = 0;
	}
}

static void
pop3_login_failed(struct session *s, int auth)
{
	pop3_capcache_forget(s);
	session_backend_drop(s);
	creds_clear(&s->pl->creds);
	s->pl->have_user = 0;
	if (!auth) {
		s->phase = PH_PREAUTH;
		session_reply_str(s, "-ERR [SYS/TEMP] Backend server not "
		    "available.\r\n");
		return;
	}
	if (session_auth_failure(s)) {
		session_reply_str(s, "-ERR [AUTH] Authentication failed.\r\n");
		session_finish(s, "too-many-auth-failures");
		return;
	}
	session_fail_delay(s);
}

static void
pop3_delay_over(struct session *s)
{
	session_reply_str(s, "-ERR [AUTH] Authentication failed.\r\n");
}

static void
pop3_backend_ready(struct session *s, enum backend_status st,
    const char *login_user)
{
	if (st != BACKEND_OK) {
		if (st == BACKEND_NONE) {
			log_info("session=%016llx client=%s:%u event=no-backend",
			    (unsigned long long)s->id, s->caddr, s->cport);
		}
		pop3_login_failed(s, 0);
		return;
	}
	if (login_user != NULL && login_user[0] != '\0') {
		snprintf(s->pl->creds.user, sizeof(s->pl->creds.user), "%s",
		    login_user);
	}
	s->pl->bstate = PB_GREETING;
	s->pl->bcaps = 0;
}

static void
pop3_send_credentials(struct session *s)
{
	struct creds	*c = &s->pl->creds;
	uint8_t		 raw[2 * MAX_USER + MAX_PASS + 4];
	char		 b64[((sizeof(raw) + 2) / 3) * 4 + 1];
	struct buf	 out;
	size_t		 ul = strlen(c->user), pl = strlen(c->pass);

	buf_init(&out, sizeof(b64) + MAX_PASS + 32);
	if (s->pl->bcaps & PB_CAP_SASL_PLAIN) {
		raw[0] = '\0';
		memcpy(raw + 1, c->user, ul);
		raw[1 + ul] = '\0';
		memcpy(raw + 2 + ul, c->pass, pl);
		(void)b64_encode(raw, 2 + ul + pl, b64, sizeof(b64));
		(void)buf_addf(&out, "AUTH PLAIN %s\r\n", b64);
		s->pl->bstate = PB_AUTH;
		secure_zero(raw, sizeof(raw));
		secure_zero(b64, sizeof(b64));
	} else {
		(void)buf_addf(&out, "USER %s\r\n", c->user);
		s->pl->bstate = PB_USER;
	}
	session_backend_write(s, (const char *)buf_ptr(&out), buf_len(&out));
	buf_release(&out);
}

/* CAPA read: forward the client's address if asked and offered. */
static void
pop3_capa_done(struct session *s)
{
	char			 line[128];
	struct pop3_capcache	*c;

	if (s->pl->bstate == PB_CAPA_LIST &&
	    (c = pop3_capcache_slot(s)) != NULL) {
		c->bcaps = s->pl->bcaps & (PB_CAP_SASL_PLAIN | PB_CAP_XCLIENT);
		c->until = ev_now() + POP3_CAPA_TTL_MS;
	}

	if (tlsctx_backend(s->pl->bserver)->forward != FORWARD_XCLIENT ||
	    !(s->pl->bcaps & PB_CAP_XCLIENT)) {
		pop3_send_credentials(s);
		return;
	}
	/* Our own numeric strings only (row 15: nothing from the client). */
	(void)snprintf(line, sizeof(line), "XCLIENT ADDR=%s PORT=%u\r\n",
	    s->caddr, s->cport);
	s->pl->bstate = PB_XCLIENT;
	session_backend_write(s, line, strlen(line));
}

/* CAPA, or what it said a moment ago. */
static void
pop3_capa(struct session *s)
{
	struct pop3_capcache	*c = pop3_capcache_slot(s);

	if (c != NULL && c->until != 0 && ev_now() < c->until) {
		s->pl->bcaps |= c->bcaps;
		s->pl->bstate = PB_CAPA;
		pop3_capa_done(s);
		return;
	}
	session_backend_write(s, "CAPA\r\n", 6);
	s->pl->bstate = PB_CAPA;
}

static void
pop3_login_done(struct session *s, struct span text)
{
	char	okline[POP3_MAX_REPLY];

	creds_clear(&s->pl->creds);
	if (text.len == 0 || span_cstr(text, okline, sizeof(okline)) == -1) {
		snprintf(okline, sizeof(okline), "Logged in.");
	}
	session_replyf(s, "+OK %s\r\n", okline);
	session_login_ok(s, NULL);
}

static void
pop3_backend_line(struct session *s, struct span line)
{
	struct span	text;
	enum pop3_resp	r;
	struct buf	out;

	if (s->pl->bstate == PB_CAPA_LIST) {
		if (span_eq(line, ".")) {
			pop3_capa_done(s);
		} else if (pop3_capa_sasl_has(line, "PLAIN")) {
			s->pl->bcaps |= PB_CAP_SASL_PLAIN;
		} else if (span_eq_ci(line, "XCLIENT") ||
		    span_has_prefix_ci(line, "XCLIENT ")) {
			s->pl->bcaps |= PB_CAP_XCLIENT;
		}
		return;
	}
	r = pop3_resp_parse(line, &text);
	switch (s->pl->bstate) {
	case PB_GREETING:
		if (r != POP3_RESP_OK) {
			pop3_login_failed(s, 0);
			return;
		}
		/* Dovecot announces XCLIENT here, as a response code. */
		if (span_has_prefix_ci(text, "[XCLIENT]")) {
			s->pl->bcaps |= PB_CAP_XCLIENT;
		}
		if (s->pl->btls == TLS_MODE_STARTTLS) {
			session_backend_write(s, "STLS\r\n", 6);
			s->pl->bstate = PB_STLS;
			return;
		}
		pop3_capa(s);
		return;
	case PB_STLS:
		if (r != POP3_RESP_OK) {
			pop3_login_failed(s, 0);	/* never in clear */
			return;
		}
		s->pl->bstate = PB_STLS_HS;
		session_backend_starttls(s);
		return;
	case PB_CAPA:
		if (r == POP3_RESP_OK) {
			s->pl->bstate = PB_CAPA_LIST;
		} else if (r == POP3_RESP_ERR) {
			pop3_send_credentials(s);
		} else {
			pop3_login_failed(s, 0);
		}
		return;
	case PB_XCLIENT:
		/* Refused (we are not a trusted network there): the login
		 * goes on, only without the address. */
		if (r != POP3_RESP_OK) {
			log_info("session=%016llx event=xclient-refused",
			    (unsigned long long)s->id);
		}
		pop3_send_credentials(s);
		return;
	case PB_USER:
		if (r != POP3_RESP_OK) {
			pop3_login_failed(s, r == POP3_RESP_ERR);
			return;
		}
		buf_init(&out, MAX_PASS + 16);
		(void)buf_addf(&out, "PASS %s\r\n", s->pl->creds.pass);
		s->pl->bstate = PB_PASS;
		session_backend_write(s, (const char *)buf_ptr(&out),
		    buf_len(&out));
		buf_release(&out);
		return;
	case PB_AUTH:
	case PB_PASS:
		if (r == POP3_RESP_OK) {
			pop3_login_done(s, text);
		} else {
			pop3_login_failed(s, r == POP3_RESP_ERR);
		}
		return;
	default:
		pop3_login_failed(s, 0);
		return;
	}
}

static void
pop3_backend_tls_done(struct session *s)
{
	if (s->pl->bstate == PB_STLS_HS) {
		pop3_capa(s);
	}
}

static void
pop3_backend_input(struct session *s)
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
			pop3_login_failed(s, 0);
			return;
		}
		pop3_backend_line(s, line);
	}
}

const struct proto_ops pop3_ops = {
	.greet = pop3_greet,
	.client_input = pop3_client_input,
	.backend_ready = pop3_backend_ready,
	.backend_input = pop3_backend_input,
	.delay_over = pop3_delay_over,
	.tls_reset = pop3_tls_reset,
	.backend_tls_done = pop3_backend_tls_done,
	.bye_timeout = "-ERR [SYS/TEMP] Autologout; idle for too long.\r\n",
	.bye_toomany = "-ERR [SYS/TEMP] Too many connections.\r\n",
	.bye_shutdown = "-ERR [SYS/TEMP] Server shutting down.\r\n",
	.bye_internal = "-ERR [SYS/TEMP] Internal error.\r\n",
};
