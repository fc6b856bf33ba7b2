/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * benchproto: the three small stream parsers of the benchmark tools.  They
 * run in the unprivileged bench processes only (the fake backend, its
 * auth_http responder and the load generator), never in bailey.  They
 * trust nobody: the proxy under test may send anything, so every line is
 * bounded by the caller's max and every literal by BP_MAX_*_LITERAL.
 * Parsers never do I/O; they read a struct buf and consume what they used.
 */
#ifndef BAILEY_BENCHPROTO_H
#define BAILEY_BENCHPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Command literal accepted by the fake backend (LOGIN user/password). */
#define BP_MAX_CMD_LITERAL	65536
/* Literal accepted by the load generator in a response (FETCH body). */
#define BP_MAX_RESP_LITERAL	(256ULL * 1024 * 1024)
#define BP_MAX_TAG		64
#define BP_MAX_WORD		32
/* auth_http request head (nginx sends a dozen short headers). */
#define BP_HTTP_MAX_LINE	1024
#define BP_HTTP_MAX_HEAD	16384

enum bp_imap_state {
	BP_IMAP_LINE = 0,
	BP_IMAP_LITERAL
};

/*
 * Server side: one IMAP command (a line, possibly continued through
 * literals).  After a 1 return, tag, verb and arg1 describe the command
 * (from its first line; upper-cased verb/arg1), nargs counts the tokens
 * after the verb on that first line.
 */
struct bp_imap_cmd {
	enum bp_imap_state	 ic_state;
	uint64_t		 ic_lit_left;
	int			 ic_cont;	/* "+" owed, nothing sent yet */
	size_t			 ic_lines;
	char			 ic_tag[BP_MAX_TAG + 1];
	char			 ic_verb[BP_MAX_WORD + 1];
	char			 ic_arg1[BP_MAX_WORD + 1];
	size_t			 ic_nargs;
};

void	bp_imap_cmd_init(struct bp_imap_cmd *);
/*
 * UNTRUSTED: bounded by max per line and BP_MAX_CMD_LITERAL per literal.
 * Returns 1 when a whole command was read (fields filled; call init
 * before the next one), 0 when more bytes are needed (*cont_r is then 1,
 * once, if a synchronising literal was announced and nothing after it has
 * arrived: the peer waits for "+"), -1 on a line over max, a bad or
 * oversized literal, or a first line without tag and verb.
 */
int	bp_imap_cmd_feed(struct bp_imap_cmd *, struct buf *in, size_t max,
	    int *cont_r, const char **errstr_r);

/*
 * Client side: response lines; with literals on, a line ending in {N}
 * is returned and the N bytes after it are then skipped (counted in
 * rr_lit_bytes) before the next line.
 */
struct bp_resp {
	enum bp_imap_state	 rr_state;
	int			 rr_literals;
	uint64_t		 rr_lit_left;
	uint64_t		 rr_lit_bytes;
};

void	bp_resp_init(struct bp_resp *, int literals);
/*
 * UNTRUSTED: bounded by max per line and BP_MAX_RESP_LITERAL.  Returns 1
 * with a line (without CRLF) in *line_r, valid until the caller does
 * buf_consume(in, *used_r), which it must do before the next call; 0 when
 * more bytes are needed; -1 on a line over max or a bad literal.
 */
int	bp_resp_next(struct bp_resp *, struct buf *in, size_t max,
	    struct span *line_r, size_t *used_r, const char **errstr_r);

/*
 * Literal bytes the caller read straight off the socket while in the
 * literal state with an empty buffer (they are only counted, never
 * parsed).  Returns how many more the literal may take: read at most that.
 */
uint64_t bp_resp_literal_left(const struct bp_resp *);
void	bp_resp_literal_skipped(struct bp_resp *, size_t n);

/*
 * The literal announced at the end of a line ("{N}" or "{N+}"): returns 1
 * with its size (and *sync_r = 0 for the non-synchronising {N+} form), 0
 * if the line does not end in that form, -1 if N exceeds max.
 */
int	bp_literal_suffix(struct span line, uint64_t max, uint64_t *n_r,
	    int *sync_r);

/* Splits off the first token (up to SP) of s; returns it, *rest_r after. */
struct span bp_token(struct span s, struct span *rest_r);

/* nginx auth_http request head. */
enum bp_http_proto {
	BP_HTTP_PROTO_NONE = 0,
	BP_HTTP_PROTO_IMAP,
	BP_HTTP_PROTO_POP3,
	BP_HTTP_PROTO_SMTP
};

struct bp_http {
	size_t			 hh_seen;
	size_t			 hh_lines;
	enum bp_http_proto	 hh_proto;
};

void	bp_http_init(struct bp_http *);
/*
 * UNTRUSTED: bounded by BP_HTTP_MAX_LINE per line and BP_HTTP_MAX_HEAD in
 * all.  Returns 1 at the empty line ending the head, 0 for more, -1 on an
 * oversized line or head or a first line that is not a GET request.
 */
int	bp_http_feed(struct bp_http *, struct buf *in, const char **errstr_r);

#endif
