/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * resp: pure parsers for lines a client or backend sends during login:
 * POP3 command lines from clients, and IMAP/POP3 response lines from
 * backends.  Runs in the worker.  Backends are semi-trusted: their lines
 * are UNTRUSTED input bounded by BACKEND_MAX_LINE, classified by what each
 * login phase expects (nginx mail proxy style).  No I/O here.
 */
#ifndef BAILEY_RESP_H
#define BAILEY_RESP_H

#include "buf.h"

/* A POP3 command line split into verb and argument. */
struct pop3_cmd {
	struct span	verb;		/* 1..4 letters, as sent */
	struct span	arg;		/* everything after the first SP */
	int		has_arg;
};

/* UNTRUSTED: line without CRLF, bounded by POP3_MAX_CMD.  0 / -1. */
int	pop3_cmd_parse(struct span line, struct pop3_cmd *);

enum imap_resp_kind {
	IMAP_RESP_UNTAGGED = 0,		/* "* ..." */
	IMAP_RESP_CONTINUE,		/* "+ ..." */
	IMAP_RESP_TAGGED,		/* "tag ..." */
};

enum imap_resp_status {
	IMAP_ST_OTHER = 0,		/* untagged data (CAPABILITY, ...) */
	IMAP_ST_OK,
	IMAP_ST_NO,
	IMAP_ST_BAD,
	IMAP_ST_BYE,
	IMAP_ST_PREAUTH,
};

struct imap_resp {
	enum imap_resp_kind	kind;
	enum imap_resp_status	status;
	struct span		tag;	/* tagged only */
	struct span		text;	/* after the status word */
};

/* UNTRUSTED: a backend line without CRLF.  0, or -1 if malformed. */
int	imap_resp_parse(struct span line, struct imap_resp *);
/* 1 if a "[CAPABILITY ...]" code or CAPABILITY data lists cap. */
int	imap_caps_has(struct span text, const char *cap);

enum pop3_resp {
	POP3_RESP_OK = 0,
	POP3_RESP_ERR,
	POP3_RESP_CONT,			/* "+ " SASL continuation */
	POP3_RESP_BAD,
};

/* 1 if a CAPA list line "SASL m1 m2 ..." names mechanism mech. */
int	pop3_capa_sasl_has(struct span line, const char *mech);

/* UNTRUSTED: a backend line without CRLF; *text_r after the status. */
enum pop3_resp pop3_resp_parse(struct span line, struct span *text_r);

#endif
