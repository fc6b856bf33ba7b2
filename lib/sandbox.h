/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * sandbox: the one way a bailey role or pbsd locks itself in.  Called by
 * each role's entry point, as root (or as the unprivileged user the role
 * will run as, for tests and development), before the first untrusted
 * byte is read; trusts its caller's options and the seccomp tables in
 * policy/seccomp.c, and nothing else.  docs/sandbox.md lists what every
 * role may do and why.
 */
#ifndef BAILEY_SANDBOX_H
#define BAILEY_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

enum sandbox_role {
	SB_SPAWNER = 0,	/* bailey's spawner: root, spawn caps, no filter */
	SB_LOOKUP,	/* maps: read-only files, parent channel only */
	SB_DIALER,	/* resolver + outbound TCP, no file writes */
	SB_WORKER,	/* sessions: no open, socket, connect, exec, fork */
	SB_KEYHOLDER,	/* TLS keys: its channels, nothing else */
	SB_PBSD,	/* pbsd: its db directory, its sockets */
	SB_NFT,		/* pbsd's nft helper: CAP_NET_ADMIN, netlink */
	SB_SUPERVISOR,	/* bailey parent: unprivileged, no fork or exec */
	SB_ROLE_MAX
};

/* Lines of /proc/self/status longer than this are skipped unread (only
 * the Cpus_allowed masks of very large machines get near it). */
#define SB_STATUS_MAX_LINE	4096
/* The whole of /proc/self/status; it is about 1.5 KiB. */
#define SB_STATUS_MAX		65536
/* Read-only trees a role may name for landlock (lookup: map dirs). */
#define SB_MAX_RO_PATHS		16
/* Descriptors a role may keep besides 0, 1 and 2. */
#define SB_MAX_KEEP_FDS		256

struct sandbox_opts {
	/*
	 * The user to become (getpwnam before chroot: uid, gid, no
	 * supplementary groups).  NULL: stay who we are, allowed only when
	 * not root (tests, development).
	 */
	const char	 *user;
	/* Empty, root-owned directory to chroot to; NULL: no chroot. */
	const char	 *chroot_dir;
	/* Descriptors to keep open besides 0, 1 and 2; all others close. */
	const int	 *keep_fds;
	size_t		  nkeep;
	/*
	 * Keep the socket openlog(LOG_NDELAY) made (a connected AF_UNIX
	 * datagram or stream socket with a named peer), so syslog works
	 * after the chroot.
	 */
	int		  keep_syslog;
	/*
	 * Log forbidden system calls (name and number, on stderr) and let
	 * them fail with ENOSYS instead of killing the process.  Never in
	 * production: a compromised role then probes at leisure.
	 */
	int		  debug;
	/* RLIMIT_NOFILE to set; 0: keep the inherited one. */
	uint64_t	  nofile;
	/*
	 * Landlock (if the kernel has it): trees the role may read.  Every
	 * other file-system access is refused, write access everywhere.
	 * Ignored by roles whose table in sandbox.c sets no landlock.
	 */
	const char *const *ro_paths;
	size_t		  nro_paths;
};

/*
 * Enters the role's sandbox, in this order: close stray descriptors,
 * resolve the user, open /proc/self/status for the self-check, rlimits,
 * chroot + chdir("/"), setgroups/setresgid/setresuid, capabilities
 * (bounding, ambient, inheritable, permitted, effective: all empty; SB_NFT
 * keeps CAP_NET_ADMIN, SB_SPAWNER stays root with what spawning children
 * needs), PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE 0, landlock (lookup,
 * dialer, worker, keyholder, parent, pbsd's nft helper; best effort), the
 * seccomp allow-list (default: kill the process; none for SB_SPAWNER),
 * then the self-check from /proc/self/status.  Returns 0; every failure
 * is fatal().
 */
int	sandbox_enter(enum sandbox_role, const struct sandbox_opts *);

/* "worker", "lookup", ...; "unknown" for a bad value. */
const char *sandbox_role_name(enum sandbox_role);

/* ---- /proc/self/status: parsed for the self-check --------------------- */

#define SB_ST_UID	0x01u
#define SB_ST_GID	0x02u
#define SB_ST_CAPINH	0x04u
#define SB_ST_CAPPRM	0x08u
#define SB_ST_CAPEFF	0x10u
#define SB_ST_CAPBND	0x20u
#define SB_ST_CAPAMB	0x40u
#define SB_ST_NNP	0x80u
#define SB_ST_SECCOMP	0x100u
#define SB_ST_ALL	0x1ffu

struct sandbox_status {
	uint32_t	 uid[4];	/* real, effective, saved, fs */
	uint32_t	 gid[4];
	uint64_t	 cap_inh;
	uint64_t	 cap_prm;
	uint64_t	 cap_eff;
	uint64_t	 cap_bnd;
	uint64_t	 cap_amb;
	unsigned	 no_new_privs;
	unsigned	 seccomp;	/* 0 off, 1 strict, 2 filter */
	unsigned	 seen;		/* SB_ST_* fields found */
};

enum sb_status_state {
	SB_STATUS_LINE = 0,	/* collecting a line */
	SB_STATUS_SKIP,		/* discarding an over-long line to LF */
	SB_STATUS_ERROR
};

struct sandbox_status_parser {
	struct buf		 line;
	enum sb_status_state	 state;
	size_t			 total;
	struct sandbox_status	 st;
	const char		*errstr;
};

/*
 * UNTRUSTED (well, kernel-made, but parsed as if not): the text of
 * /proc/PID/status, fed in pieces of any size.  Bounded by
 * SB_STATUS_MAX_LINE per line and SB_STATUS_MAX in all.  feed and end
 * return 0, or -1 with *errstr_r set (the parser then stays failed).
 * A field that appears twice or is malformed is an error; unknown fields
 * are ignored.  end() also fails unless every SB_ST_ALL field was seen,
 * and releases the line buffer.
 */
void	sandbox_status_init(struct sandbox_status_parser *);
int	sandbox_status_feed(struct sandbox_status_parser *, const void *,
	    size_t, const char **errstr_r);
int	sandbox_status_end(struct sandbox_status_parser *,
	    struct sandbox_status *st_r, const char **errstr_r);
/* Releases the parser's buffer (after an error, instead of end). */
void	sandbox_status_free(struct sandbox_status_parser *);

/*
 * Checks a parsed status against what the role must look like once
 * sandboxed: uid/gid not 0 (SB_SPAWNER: may be 0), no capabilities in any
 * set (SB_NFT: CAP_NET_ADMIN only in permitted, effective and bounding;
 * SB_SPAWNER: at most sandbox_spawner_caps()), NoNewPrivs 1, Seccomp 2
 * (SB_SPAWNER: no filter needed).  check_bnd 0 skips the bounding set (a
 * process that never had CAP_SETPCAP cannot empty it).  Returns 0 or -1
 * with *errstr_r.
 */
int	sandbox_status_check(const struct sandbox_status *,
	    enum sandbox_role, int check_bnd, const char **errstr_r);

/* The capability mask the spawner keeps (bit n = capability n). */
uint64_t sandbox_spawner_caps(void);

#endif
