/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * imap_parse: the pre-login IMAP command lexer (RFC 9051 / 3501 grammar
 * subset).  Runs in the worker, unprivileged; the input is UNTRUSTED client
 * bytes, bounded by IMAP_MAX_LINE per line, IMAP_MAX_LITERAL per literal,
 * IMAP_MAX_ARGS tokens, IMAP_MAX_DEPTH list nesting and IMAP_MAX_CMD_BYTES
 * of decoded data.  It does no I/O: the session feeds it a buffer, and it
 * consumes bytes from the head of that buffer as it goes.  It is resumable
 * at any byte (state is kept in struct imap_parser, nginx sw_* style).
 */
#ifndef BAILEY_IMAP_PARSE_H
#define BAILEY_IMAP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "bailey_limits.h"

enum imap_tok {
	IMAP_TOK_ATOM = 0,	/* atom chars, also used for base64/"=" */
	IMAP_TOK_STRING,	/* quoted string (unescaped) or literal */
	IMAP_TOK_NIL,		/* the atom NIL, unquoted */
	IMAP_TOK_LIST_START,	/* "(" */
	IMAP_TOK_LIST_END,	/* ")" */
};

enum imap_rc {
	IMAP_RC_MORE = 0,	/* need more bytes; everything was consumed */
	IMAP_RC_CONTINUE,	/* sync literal announced and accepted: the
				 * session sends "+ Ready\r\n", then feeds on */
	IMAP_RC_CMD,		/* a whole command is available */
	IMAP_RC_BAD,		/* recoverable syntax error: reply BAD (with
				 * the tag if imap_has_tag()); the parser
				 * discards the rest of the line by itself */
	IMAP_RC_FATAL,		/* unrecoverable (line too long, bad non-sync
				 * literal...): reply BAD/BYE, then close */
};

struct imap_token {
	enum imap_tok	type;
	size_t		off;		/* into the parser's decoded data */
	size_t		len;
};

struct imap_parser {
	int		state;		/* private: lexer state */
	int		substate;	/* private */
	unsigned	flags;		/* IMAP_PARSE_* */
	size_t		line_len;	/* bytes of the current line so far */
	uint64_t	literal_left;	/* bytes still to read of a literal */
	int		literal_nonsync;
	unsigned	depth;
	int		has_tag;
	int		tok_open;	/* a token is being built */
	const char	*error;		/* static text for BAD/BYE */
	struct buf	data;		/* decoded tag, verb, tokens */
	struct imap_token tag;
	struct imap_token verb;
	struct imap_token args[IMAP_MAX_ARGS];
	size_t		nargs;
};

/* LITERAL- (RFC 7888): accept non-sync literals up to IMAP_MAX_LITERAL. */
#define IMAP_PARSE_LITERAL_MINUS	0x01

void	imap_parser_init(struct imap_parser *, unsigned flags);
/* Frees and zeroes the decoded data (it may hold a password). */
void	imap_parser_free(struct imap_parser *);
/*
 * Consumes bytes from in.  After IMAP_RC_CMD, the command stays available
 * until the next imap_parse call, which first resets it (zeroing data).
 */
enum imap_rc imap_parse(struct imap_parser *, struct buf *in);
int	imap_has_tag(const struct imap_parser *);
struct span imap_tag(const struct imap_parser *);
struct span imap_verb(const struct imap_parser *);	/* as sent */
size_t	imap_nargs(const struct imap_parser *);
enum imap_tok imap_arg_type(const struct imap_parser *, size_t i);
struct span imap_arg(const struct imap_parser *, size_t i);
const char *imap_error(const struct imap_parser *);
/* ATOM-CHAR of RFC 9051: not CTL, SP, 8-bit or an atom-special. */
int	imap_is_atom_char(uint8_t);

#endif
