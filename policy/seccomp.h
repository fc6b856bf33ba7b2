/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * seccomp: one allow-list table per sandbox role (chrony style: rows of
 * system calls, some with argument rules), turned into a libseccomp
 * filter.  Used by lib/sandbox.c in every role while it is still setting
 * itself up; the tables are data reviewed here and in docs/sandbox.md, and
 * trust nobody.
 */
#ifndef BAILEY_SECCOMP_H
#define BAILEY_SECCOMP_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <seccomp.h>

#include "sandbox.h"

enum sc_action {
	SC_ALLOW = 0,
	SC_EACCES,	/* EACCES: calls libc makes and survives failing */
	SC_KILL		/* the default anyway: listed for the record */
};

/* Rows whose args hold the caller's pid (tgkill to itself only). */
#define SC_F_SELF_A0	0x1u

struct sc_rule {
	int			 sr_nr;		/* SCMP_SYS(name) */
	const char		*sr_name;
	enum sc_action		 sr_act;
	unsigned		 sr_flags;	/* SC_F_* */
	unsigned		 sr_nargs;	/* 0..2 comparisons, ANDed */
	struct scmp_arg_cmp	 sr_args[2];
};

struct sc_table {
	const struct sc_rule	*st_rules;
	size_t			 st_n;
};

#define SC_MAX_TABLES	5

/* A role's filter: the union of up to SC_MAX_TABLES tables. */
struct sc_profile {
	const char		*sp_name;
	struct sc_table		 sp_tables[SC_MAX_TABLES];
};

/*
 * The profile of a role, or NULL if the role loads no filter (SB_SPAWNER,
 * see docs/sandbox.md).
 */
const struct sc_profile *seccomp_profile(enum sandbox_role);

/*
 * Builds the filter of a profile with default action defact
 * (SCMP_ACT_KILL_PROCESS, or SCMP_ACT_TRAP in debug mode), substituting
 * pid for SC_F_SELF_A0 rows.  Returns 0 and the context in *ctx_r (the
 * caller loads and releases it), or -1 with *errstr_r.
 */
int	seccomp_build(const struct sc_profile *, uint32_t defact, pid_t pid,
	    scmp_filter_ctx *ctx_r, const char **errstr_r);

/*
 * Whether a profile allows a system call (unit tests, docs): 1 if some
 * row allows it, with *conditional_r 0 if one row allows it whatever the
 * arguments and 1 if only argument rules do; 0 if no row allows it.
 */
int	seccomp_allows(const struct sc_profile *, const char *name,
	    int *conditional_r);

#endif
