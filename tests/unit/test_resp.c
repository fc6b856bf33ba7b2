/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests for gateway/resp.c: POP3 command lines and backend response
 * lines, including the limits and hostile backend lines.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "bailey_limits.h"
#include "resp.h"

static void
test_pop3_cmd(void)
{
	struct pop3_cmd	c;

	T_EQ_INT(pop3_cmd_parse(SPAN_LIT("USER bob"), &c), 0);
	T_EQ_SPAN(c.verb, "USER");
	T_EQ_SPAN(c.arg, "bob");
	T_EQ_INT(pop3_cmd_parse(SPAN_LIT("PASS  two  spaces "), &c), 0);
	T_EQ_SPAN(c.arg, " two  spaces ");	/* kept as sent */
	T_EQ_INT(pop3_cmd_parse(SPAN_LIT("capa"), &c), 0);
	T_EQ_INT(c.has_arg, 0);
	T_EQ_INT(pop3_cmd_parse(SPAN_LIT(""), &c), -1);
	T_EQ_INT(pop3_cmd_parse(SPAN_LIT("USERS x"), &c), -1);
	T_EQ_INT(pop3_cmd_parse(SPAN_LIT("US3R x"), &c), -1);
	T_EQ_INT(pop3_cmd_parse(SPAN_LIT(" USER x"), &c), -1);
	T_EQ_INT(pop3_cmd_parse(SPAN_LIT("USER\tx"), &c), -1);
}

static void
test_pop3_cmd_limit(void)
{
	struct pop3_cmd	c;
	char		line[POP3_MAX_CMD + 1];
	struct span	s;

	/* 253 bytes + CRLF = 255 is at the limit; 254 is past it. */
	memset(line, 'a', sizeof(line));
	memcpy(line, "USER ", 5);
	s.p = (const uint8_t *)line;
	s.len = POP3_MAX_CMD - 2;
	T_EQ_INT(pop3_cmd_parse(s, &c), 0);
	s.len++;
	T_EQ_INT(pop3_cmd_parse(s, &c), -1);
}

static void
test_imap_resp(void)
{
	struct imap_resp	r;

	T_EQ_INT(imap_resp_parse(SPAN_LIT("* OK [CAPABILITY IMAP4rev1 "
	    "LITERAL+] Dovecot ready."), &r), 0);
	T_EQ_INT(r.kind, IMAP_RESP_UNTAGGED);
	T_EQ_INT(r.status, IMAP_ST_OK);
	T_ASSERT(imap_caps_has(r.text, "LITERAL+"));
	T_ASSERT(imap_caps_has(r.text, "imap4rev1"));
	T_ASSERT(!imap_caps_has(r.text, "LITERAL"));
	T_ASSERT(!imap_caps_has(r.text, "Dovecot"));
	T_EQ_INT(imap_resp_parse(SPAN_LIT("B1 OK [CAPABILITY IMAP4rev1] "
	    "Logged in"), &r), 0);
	T_EQ_INT(r.kind, IMAP_RESP_TAGGED);
	T_EQ_SPAN(r.tag, "B1");
	T_EQ_INT(r.status, IMAP_ST_OK);
	T_EQ_SPAN(r.text, "[CAPABILITY IMAP4rev1] Logged in");
	T_EQ_INT(imap_resp_parse(SPAN_LIT("B1 NO [AUTHENTICATIONFAILED] x"),
	    &r), 0);
	T_EQ_INT(r.status, IMAP_ST_NO);
	T_EQ_INT(imap_resp_parse(SPAN_LIT("+ go ahead"), &r), 0);
	T_EQ_INT(r.kind, IMAP_RESP_CONTINUE);
	T_EQ_INT(imap_resp_parse(SPAN_LIT("+"), &r), 0);
	T_EQ_INT(imap_resp_parse(SPAN_LIT("* PREAUTH welcome"), &r), 0);
	T_EQ_INT(r.status, IMAP_ST_PREAUTH);
	T_EQ_INT(imap_resp_parse(SPAN_LIT("* CAPABILITY IMAP4rev1 X"), &r), 0);
	T_EQ_INT(r.status, IMAP_ST_OTHER);
	T_ASSERT(imap_caps_has(r.text, "X"));
	T_EQ_INT(imap_resp_parse(SPAN_LIT("B1 FOO bar"), &r), -1);
	T_EQ_INT(imap_resp_parse(SPAN_LIT("B1"), &r), -1);
	T_EQ_INT(imap_resp_parse(SPAN_LIT(""), &r), -1);
	T_EQ_INT(imap_resp_parse(((struct span){ (const uint8_t *)"* OK a\0b",
	    8 }), &r), -1);
	T_EQ_INT(imap_resp_parse(SPAN_LIT("* OK a\rb"), &r), -1);
}

static void
test_imap_resp_limit(void)
{
	struct imap_resp	 r;
	char			*line = malloc(BACKEND_MAX_LINE + 1);
	struct span		 s;

	memset(line, 'x', BACKEND_MAX_LINE + 1);
	memcpy(line, "* OK ", 5);
	s.p = (const uint8_t *)line;
	s.len = BACKEND_MAX_LINE;
	T_EQ_INT(imap_resp_parse(s, &r), 0);
	s.len++;
	T_EQ_INT(imap_resp_parse(s, &r), -1);
	free(line);
}

static void
test_pop3_resp(void)
{
	struct span	t;

	T_EQ_INT(pop3_resp_parse(SPAN_LIT("+OK Dovecot ready."), &t),
	    POP3_RESP_OK);
	T_EQ_SPAN(t, "Dovecot ready.");
	T_EQ_INT(pop3_resp_parse(SPAN_LIT("+OK"), &t), POP3_RESP_OK);
	T_EQ_INT(pop3_resp_parse(SPAN_LIT("-ERR [AUTH] no"), &t),
	    POP3_RESP_ERR);
	T_EQ_INT(pop3_resp_parse(SPAN_LIT("+ "), &t), POP3_RESP_CONT);
	T_EQ_INT(pop3_resp_parse(SPAN_LIT("+OKAY"), &t), POP3_RESP_BAD);
	T_EQ_INT(pop3_resp_parse(SPAN_LIT("ok"), &t), POP3_RESP_BAD);
	T_ASSERT(pop3_capa_sasl_has(SPAN_LIT("SASL PLAIN LOGIN"), "PLAIN"));
	T_ASSERT(pop3_capa_sasl_has(SPAN_LIT("sasl login plain"), "PLAIN"));
	T_ASSERT(!pop3_capa_sasl_has(SPAN_LIT("SASL LOGIN"), "PLAIN"));
	T_ASSERT(!pop3_capa_sasl_has(SPAN_LIT("USER PLAIN"), "PLAIN"));
	T_ASSERT(!pop3_capa_sasl_has(SPAN_LIT("SASL PLAINX"), "PLAIN"));
}

/* Threat row 16: a response-injection attempt is one line per parse;
 * the caller sees the first line only, the rest stays buffered. */
static void
test_row16_one_line_at_a_time(void)
{
	struct imap_resp	r;

	T_EQ_INT(imap_resp_parse(SPAN_LIT("B1 OK Begin TLS"), &r), 0);
	T_EQ_SPAN(r.text, "Begin TLS");
	T_EQ_INT(imap_resp_parse(SPAN_LIT("B1 OK Begin TLS\r\n* OK fake"),
	    &r), -1);
}

static const struct harness_case cases[] = {
	{ "pop3_cmd", test_pop3_cmd },
	{ "pop3_cmd_limit", test_pop3_cmd_limit },
	{ "imap_resp", test_imap_resp },
	{ "imap_resp_limit", test_imap_resp_limit },
	{ "pop3_resp", test_pop3_resp },
	{ "row16_one_line_at_a_time", test_row16_one_line_at_a_time },
};

HARNESS_MAIN("resp", cases)
