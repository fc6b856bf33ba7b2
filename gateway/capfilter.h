/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * capfilter: post-login capability filtering as a pure streaming filter.
 * Runs in the worker, unprivileged, after the backend login, for sessions
 * whose policy asks for it (others keep splicing).  The backend is
 * semi-trusted, the client untrusted, and the bytes in between (message
 * data above all) are trusted for nothing.  It rewrites IMAP untagged
 * CAPABILITY responses and [CAPABILITY ...] response codes, and the POP3
 * CAPA list, through an allow-list and a strip-list.  Everything else --
 * every literal, every message line, every RETR body -- passes byte-exact.
 * It follows IMAP response framing ({n} and ~{n} literals) and, for POP3,
 * the command/response pairing (it also watches the client's commands).
 * No I/O; resumable at any byte; see docs/capabilities.md.
 */
#ifndef BAILEY_CAPFILTER_H
#define BAILEY_CAPFILTER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Limits (proposed for lib/bailey_limits.h).  A held capability -- the
 * spaces before it plus the atom -- longer than CAPFILTER_MAX_ATOM cuts the
 * session: real ones are under 64 bytes (APPENDLIMIT=4294967295 is 22).
 * POP3 CAPA lines and client commands use POP3_MAX_REPLY / POP3_MAX_CMD.
 * Nothing else is ever held: a line's tag and first words pass at once
 * (they are never changed), so tags and lines have no length limit here.
 */
#define CAPFILTER_MAX_ATOM	1024
/* Most bytes ever held back (max of the above and POP3_MAX_REPLY). */
#define CAPFILTER_MAX_HOLD	1024
/* A rule (capability name, optionally ending in '*'). */
#define CAPFILTER_MAX_RULE	64
#define CAPFILTER_MAX_RULES	64
/* POP3: runs of pending responses of one kind (RETR x 1000 is one run). */
#define CAPFILTER_MAX_PENDING	64

enum capfilter_proto {
	CAPFILTER_IMAP = 0,
	CAPFILTER_POP3,
};

enum capfilter_list {
	CAPFILTER_ALLOW = 0,	/* non-empty: only these pass */
	CAPFILTER_STRIP,	/* these never pass (wins over allow) */
};

struct capfilter_rule {
	char		name[CAPFILTER_MAX_RULE + 1];
	size_t		len;		/* without a trailing '*' */
	int		prefix;		/* rule ended in '*' */
};

/* Per protocol; built from bailey.conf, shared read-only by sessions. */
struct capfilter_conf {
	enum capfilter_proto	proto;
	struct capfilter_rule	allow[CAPFILTER_MAX_RULES];
	size_t			nallow;
	struct capfilter_rule	strip[CAPFILTER_MAX_RULES];
	size_t			nstrip;
};

/* Literal detector (private). */
struct capfilter_lit {
	int		st;
	int		ovf;
	uint64_t	n;
};

/*
 * One per session (both directions: the client side only observes).
 * About 1 KB; the held bytes live in lazily allocated buffers that are
 * released whenever they drain.  Members are private.
 */
struct capfilter {
	const struct capfilter_conf *conf;
	enum capfilter_proto proto;
	int		state;		/* backend -> client machine */
	int		failed;
	int		pass;		/* framing given up: identity */
	const char	*note;		/* for the session's log line */
	uint64_t	stripped;	/* capabilities removed so far */
	struct buf	hold;		/* bytes held back (<= MAX_HOLD) */
	struct capfilter_lit lit;	/* backend side {n} detector */
	uint64_t	literal_left;
	/* IMAP response line. */
	uint64_t	tag_len;
	uint8_t		tag_first;
	size_t		word_len;
	unsigned	word_mask;	/* words the word may still be */
	size_t		sep_len;	/* spaces before the held atom */
	unsigned	match;		/* bytes of "[CAPABILITY" matched */
	int		untagged;
	int		tagged;
	int		code;		/* list is a [CAPABILITY ...] code */
	int		compress;	/* client asked for COMPRESS */
	/* POP3 response side. */
	int		after;		/* what follows the status line */
	uint8_t		q_kind[CAPFILTER_MAX_PENDING];
	uint32_t	q_count[CAPFILTER_MAX_PENDING];
	size_t		q_head;
	size_t		q_len;
	/* Client -> backend tracker. */
	int		c_state;
	unsigned	c_match;
	struct buf	c_hold;		/* POP3 command line */
	struct capfilter_lit c_lit;
	uint64_t	c_literal_left;
};

void	capfilter_conf_init(struct capfilter_conf *, enum capfilter_proto);
/*
 * Adds a rule: a capability name (IMAP atom / POP3 CAPA tag), compared
 * without regard to case.  "NAME" also matches "NAME=anything"; a trailing
 * '*' makes it a prefix ("AUTH=*", "X-*", "*").  IMAP4rev1 and IMAP4rev2
 * are always kept; stripping them by name is refused.  Returns 0, or -1
 * with *errstr_r set (bad characters, too long, too many rules).
 */
int	capfilter_conf_add(struct capfilter_conf *, enum capfilter_list,
	    const char *rule, const char **errstr_r);
/* 1 if the conf has no rules (the session may splice), else 0. */
int	capfilter_conf_empty(const struct capfilter_conf *);
/* 1 if a capability passes the conf, 0 if it is removed. */
int	capfilter_keep(const struct capfilter_conf *, struct span name);

/* conf must outlive the filter; the protocol is conf's. */
void	capfilter_init(struct capfilter *, const struct capfilter_conf *);
/* Releases and zeroes held bytes. */
void	capfilter_free(struct capfilter *);

/*
 * UNTRUSTED: backend -> client bytes, bounded by CAPFILTER_MAX_HOLD held
 * bytes (CAPFILTER_MAX_ATOM, POP3_MAX_REPLY); literals, tags and
 * non-capability lines are never held.
 * Consumes bytes from the head of in and appends the filtered stream to
 * out.  It consumes only as much as is sure to fit: out needs room for
 * CAPFILTER_MAX_HOLD + 1 bytes before anything is consumed, so when in is
 * not empty afterwards, drain out and call again.  The output is always a
 * subsequence of the input (bytes are only ever removed).  Returns 0, or
 * -1 on a protocol violation with *errstr_r set (then the session must be
 * cut; later calls fail too).
 */
int	capfilter_feed(struct capfilter *, struct buf *in, struct buf *out,
	    const char **errstr_r);

/*
 * UNTRUSTED: client -> backend bytes, bounded by POP3_MAX_CMD per POP3
 * command and CAPFILTER_MAX_PENDING pending response runs.
 * Observes (does not change) the client's bytes.  Each byte must be given
 * exactly once and before it is written to the backend, so the tracker
 * knows a command before its response can arrive.  POP3: learns which
 * response is a CAPA list, a multi-line body or a single line.  IMAP:
 * watches for COMPRESS (after which the stream is opaque).  Returns 0, or
 * -1 with *errstr_r set (command too long, too many pipelined commands).
 */
int	capfilter_client(struct capfilter *, struct span in,
	    const char **errstr_r);

/*
 * UNTRUSTED: one complete backend response line (ending in LF), bounded
 * by its length.  Filters it with a fresh filter and appends the result
 * to out: for lines the session composes itself before the relay starts,
 * e.g. the LOGIN tagged OK carrying the backend's [CAPABILITY ...] code.
 * IMAP only.  Returns 0, or -1 with *errstr_r (a POP3 conf, no LF at the
 * end, a literal, a violation, or out too small).
 */
int	capfilter_filter_line(const struct capfilter_conf *, struct span line,
	    struct buf *out, const char **errstr_r);

/*
 * A static text describing the last notable event (filtering given up,
 * capabilities removed), or NULL; reading it clears it.  The session logs
 * it with its own context.
 */
const char *capfilter_note(struct capfilter *);
/*
 * Bytes held back at the moment (an unfinished capability or CAPA line).
 * If the backend closes now, they are dropped with the connection.
 */
size_t	capfilter_held(const struct capfilter *);
/* Number of capabilities removed so far. */
uint64_t capfilter_stripped(const struct capfilter *);

#endif
