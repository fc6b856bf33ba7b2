/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * testhooks: linked ONLY into the test build (build/testhooks/bailey,
 * compiled with -DBAILEY_TESTHOOKS), never into the bailey that is
 * installed.  Runs in the worker, after its sandbox is in place, on
 * UNTRUSTED client bytes; it trusts nothing and only ever asks the kernel
 * for something the worker's filter forbids, so that the e2e suite can
 * watch a worker die of SIGSYS and the parent restart it
 * (tests/e2e/test_forbidden_syscall.py).
 *
 * The hook sits in front of two parser entry points through the linker
 * (-Wl,--wrap=imap_verb,--wrap=pop3_cmd_parse), so the protocol code is
 * the same in both builds:
 *
 *	IMAP (pre-login)	TAG XBAILEYTEST SYSCALL
 *	POP3 (pre-login)	XBAILEYTEST SYSCALL
 *
 * make a socket(AF_INET) call.  Under the filter that kills the worker;
 * with "sandbox off" or "sandbox debug" the call is harmless, the socket
 * is closed again and the command gets the usual "not permitted" error,
 * exactly as in the production build.
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "imap_parse.h"
#include "log.h"
#include "resp.h"

#ifndef BAILEY_TESTHOOKS
#error "gateway/testhooks.c belongs to the test build only"
#endif

#define TH_VERB		"XBAILEYTEST"
#define TH_ARG		"SYSCALL"
#define TH_POP3_LINE	TH_VERB " " TH_ARG

struct span	__real_imap_verb(const struct imap_parser *);
struct span	__wrap_imap_verb(const struct imap_parser *);
int		__real_pop3_cmd_parse(struct span, struct pop3_cmd *);
int		__wrap_pop3_cmd_parse(struct span, struct pop3_cmd *);

/* The forbidden call; returns only if the filter let it through. */
static void
testhook_syscall(const char *proto)
{
	int	fd, saved;

	log_warnx("testhook: %s XBAILEYTEST SYSCALL: calling socket(2), "
	    "which the worker's seccomp filter forbids", proto);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	saved = errno;
	if (fd != -1) {
		close(fd);
	}
	log_warnx("testhook: still alive after socket(2) (%s)",
	    fd != -1 ? "it succeeded" : strerror(saved));
}

struct span
__wrap_imap_verb(const struct imap_parser *p)
{
	struct span	verb = __real_imap_verb(p);

	if (span_eq_ci(verb, TH_VERB) && imap_nargs(p) == 1 &&
	    span_eq_ci(imap_arg(p, 0), TH_ARG)) {
		testhook_syscall("IMAP");
	}
	return verb;
}

int
__wrap_pop3_cmd_parse(struct span line, struct pop3_cmd *cmd)
{
	/* The verb has more than POP3's 4 letters: look at the line. */
	if (span_eq_ci(line, TH_POP3_LINE)) {
		testhook_syscall("POP3");
	}
	return __real_pop3_cmd_parse(line, cmd);
}
