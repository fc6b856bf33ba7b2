/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * sandbox: locks a role in (see sandbox.h for the order, docs/sandbox.md
 * for each role's rules).  Runs in every bailey role and in pbsd, called
 * as root by the role's own entry point before it reads its first
 * untrusted byte; it trusts the caller's options and the tables in
 * policy/seccomp.c.  Any failure is fatal: a role that cannot lock itself
 * in must not run.  The only input it parses is /proc/self/status, with
 * the same bounded line parser rules as wire input.
 */
#include <sys/types.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <linux/landlock.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "log.h"
#include "sandbox.h"
#include "seccomp.h"

#define SB_CAP(c)	(1ULL << (c))

/* Role flags. */
#define SB_RC_NPROC0	0x01u	/* RLIMIT_NPROC 0: no fork */
#define SB_RC_FSIZE0	0x02u	/* RLIMIT_FSIZE 0: no file writes */
#define SB_RC_LL_NONE	0x04u	/* landlock: no file-system access */
#define SB_RC_LL_RO	0x08u	/* landlock: read opts->ro_paths only */
#define SB_RC_LL_SYS	0x10u	/* landlock: read system dirs */
#define SB_RC_EMPTYROOT	0x20u	/* chroot dir must be empty */
#define SB_RC_ROOT	0x40u	/* stays root (spawner), no filter */

struct sb_role_conf {
	const char	*rc_name;
	unsigned	 rc_flags;
	uint64_t	 rc_caps;	/* capabilities kept (mask) */
};

/*
 * What the spawner keeps: its children are executed with at most these
 * (no_new_privs) and need SETUID, SETGID, SETPCAP and SYS_CHROOT to lock
 * themselves in, DAC_OVERRIDE and DAC_READ_SEARCH to read root-only
 * keys, maps and configuration (the spawner too, on reload), and the
 * spawner binds low ports on reload (NET_BIND_SERVICE).  Gone since the
 * parent no longer forks: CHOWN, FOWNER, KILL (the parent signals its
 * children as their own user), SYS_RESOURCE (NOFILE is raised before).
 */
#define SB_SPAWNER_CAPS							\
	(SB_CAP(CAP_DAC_OVERRIDE) | SB_CAP(CAP_DAC_READ_SEARCH) |	\
	SB_CAP(CAP_SETGID) | SB_CAP(CAP_SETUID) | SB_CAP(CAP_SETPCAP) |	\
	SB_CAP(CAP_NET_BIND_SERVICE) | SB_CAP(CAP_SYS_CHROOT))

static const struct sb_role_conf sb_roles[SB_ROLE_MAX] = {
	[SB_SPAWNER] = { "spawner", SB_RC_ROOT, SB_SPAWNER_CAPS },
	[SB_LOOKUP] = { "lookup", SB_RC_NPROC0 | SB_RC_FSIZE0 |
	    SB_RC_LL_RO, 0 },
	[SB_DIALER] = { "dialer", SB_RC_NPROC0 | SB_RC_FSIZE0 |
	    SB_RC_LL_SYS, 0 },
	[SB_WORKER] = { "worker", SB_RC_NPROC0 | SB_RC_FSIZE0 |
	    SB_RC_LL_NONE | SB_RC_EMPTYROOT, 0 },
	[SB_KEYHOLDER] = { "keyholder", SB_RC_NPROC0 | SB_RC_FSIZE0 |
	    SB_RC_LL_NONE | SB_RC_EMPTYROOT, 0 },
	[SB_PBSD] = { "pbsd", SB_RC_NPROC0, 0 },
	[SB_NFT] = { "nft", SB_RC_NPROC0 | SB_RC_FSIZE0 | SB_RC_LL_NONE,
	    SB_CAP(CAP_NET_ADMIN) },
	[SB_SUPERVISOR] = { "parent", SB_RC_NPROC0 | SB_RC_FSIZE0 |
	    SB_RC_LL_NONE, 0 },
};

/* The dialer's resolver reads these (resolv.conf may point into /run). */
static const char *const sb_sys_ro[] = {
	"/etc", "/usr", "/lib", "/lib64", "/run",
};

/* State of one sandbox_enter(); the SIGSYS handler reads the statics. */
struct sb_ctx {
	enum sandbox_role		 role;
	const struct sb_role_conf	*rc;
	const struct sandbox_opts	*opts;
	struct passwd			 pw;
	char				 pwbuf[4096];
	int				 have_user;
	int				 was_root;
	int				 check_bnd;
	int				 statusfd;
	int				 llfd;
};

#define SB_SYSNAMES	1024
static const char	*sb_sysnames[SB_SYSNAMES];
static const char	*sb_debug_role = "?";

const char *
sandbox_role_name(enum sandbox_role role)
{
	return (unsigned)role < SB_ROLE_MAX ? sb_roles[role].rc_name :
	    "unknown";
}

uint64_t
sandbox_spawner_caps(void)
{
	return SB_SPAWNER_CAPS;
}

/* ---- 1. descriptors --------------------------------------------------- */

/* The socket openlog(LOG_NDELAY) made: AF_UNIX, connected to a path. */
static int
sb_is_syslog_fd(int fd)
{
	struct sockaddr_un	sun;
	struct stat		st;
	socklen_t		len = sizeof(sun);
	int			dom, type;
	socklen_t		ol = sizeof(dom);

	if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode)) {
		return 0;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &ol) == -1 ||
	    dom != AF_UNIX) {
		return 0;
	}
	ol = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) == -1 ||
	    (type != SOCK_DGRAM && type != SOCK_STREAM)) {
		return 0;
	}
	memset(&sun, 0, sizeof(sun));
	if (getpeername(fd, (struct sockaddr *)&sun, &len) == -1 ||
	    len <= offsetof(struct sockaddr_un, sun_path) ||
	    sun.sun_path[0] != '/') {
		return 0;
	}
	return 1;
}

static int
sb_int_cmp(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int
sb_find_syslog_fd(void)
{
	DIR		*d;
	struct dirent	*de;
	uint64_t	 v;
	const char	*errstr;
	int		 fd = -1, dfd;

	if ((d = opendir("/proc/self/fd")) == NULL) {
		fatal("sandbox: /proc/self/fd");
	}
	dfd = dirfd(d);
	while (fd == -1 && (de = readdir(d)) != NULL) {
		if (parse_uint(de->d_name, 3, INT32_MAX, &v, &errstr) == -1 ||
		    (int)v == dfd) {
			continue;
		}
		if (sb_is_syslog_fd((int)v)) {
			fd = (int)v;
		}
	}
	closedir(d);
	return fd;
}

/* Closes everything but 0, 1, 2, the kept fds and maybe syslog's. */
static void
sb_close_fds(const struct sandbox_opts *o)
{
	int	keep[SB_MAX_KEEP_FDS + 1];
	size_t	n = 0, i;
	int	from = 3;

	if (o->nkeep > SB_MAX_KEEP_FDS) {
		fatalx("sandbox: more than %d descriptors to keep",
		    SB_MAX_KEEP_FDS);
	}
	for (i = 0; i < o->nkeep; i++) {
		if (o->keep_fds[i] < 0 ||
		    fcntl(o->keep_fds[i], F_GETFD) == -1) {
			fatalx("sandbox: descriptor %d to keep is not open",
			    o->keep_fds[i]);
		}
		keep[n++] = o->keep_fds[i];
	}
	if (o->keep_syslog && (keep[n] = sb_find_syslog_fd()) != -1) {
		n++;
	}
	qsort(keep, n, sizeof(keep[0]), sb_int_cmp);
	for (i = 0; i < n; i++) {
		if (keep[i] > from && close_range((unsigned)from,
		    (unsigned)keep[i] - 1, 0) == -1) {
			fatal("sandbox: close_range");
		}
		if (keep[i] >= from) {
			from = keep[i] + 1;
		}
	}
	if (close_range((unsigned)from, ~0U, 0) == -1) {
		fatal("sandbox: close_range");
	}
}

/* ---- 2. who we become ---------------------------------------------------- */

static void
sb_resolve_user(struct sb_ctx *c)
{
	struct passwd	*res = NULL;
	int		 rv;

	c->was_root = geteuid() == 0 || getuid() == 0;
	if (c->opts->user == NULL) {
		if (c->was_root && !(c->rc->rc_flags & SB_RC_ROOT)) {
			fatalx("sandbox: %s: no user to run as, and root "
			    "will not do", c->rc->rc_name);
		}
		return;
	}
	if (c->rc->rc_flags & SB_RC_ROOT) {
		fatalx("sandbox: the %s keeps its user", c->rc->rc_name);
	}
	rv = getpwnam_r(c->opts->user, &c->pw, c->pwbuf, sizeof(c->pwbuf),
	    &res);
	if (res == NULL) {
		fatalx("sandbox: %s: unknown user %s%s%s", c->rc->rc_name,
		    c->opts->user, rv ? ": " : "", rv ? strerror(rv) : "");
	}
	if (c->pw.pw_uid == 0 || c->pw.pw_gid == 0) {
		fatalx("sandbox: %s: user %s has uid or gid 0",
		    c->rc->rc_name, c->opts->user);
	}
	if (!c->was_root && c->pw.pw_uid != getuid()) {
		fatalx("sandbox: %s: cannot become %s without root",
		    c->rc->rc_name, c->opts->user);
	}
	c->have_user = 1;
}

/* ---- 3. rlimits ------------------------------------------------------ */

static void
sb_setrlimit(int res, rlim_t v, const char *what)
{
	struct rlimit	rl;

	rl.rlim_cur = rl.rlim_max = v;
	if (setrlimit(res, &rl) == -1) {
		fatal("sandbox: setrlimit %s", what);
	}
}

/*
 * RLIMIT_FSIZE also applies to descriptors opened before: with stdout or
 * stderr on a regular file (bailey -d > log) FSIZE 0 would kill the role
 * with SIGXFSZ at its first log line, so it is left alone then.
 */
static int
sb_logs_to_file(void)
{
	struct stat	st;
	int		fd;

	for (fd = STDOUT_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			return 1;
		}
	}
	return 0;
}

static void
sb_rlimits(const struct sb_ctx *c)
{
	struct rlimit	rl;

	sb_setrlimit(RLIMIT_CORE, 0, "CORE");
	if (c->rc->rc_flags & SB_RC_ROOT) {
		return;
	}
	sb_setrlimit(RLIMIT_MEMLOCK, 0, "MEMLOCK");
	sb_setrlimit(RLIMIT_MSGQUEUE, 0, "MSGQUEUE");
	if (c->rc->rc_flags & SB_RC_NPROC0) {
		sb_setrlimit(RLIMIT_NPROC, 0, "NPROC");
	}
	if ((c->rc->rc_flags & SB_RC_FSIZE0) && !sb_logs_to_file()) {
		sb_setrlimit(RLIMIT_FSIZE, 0, "FSIZE");
	}
	if (c->opts->nofile != 0) {
		if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
			fatal("sandbox: getrlimit NOFILE");
		}
		if (c->opts->nofile < rl.rlim_max || c->was_root) {
			sb_setrlimit(RLIMIT_NOFILE, (rlim_t)c->opts->nofile,
			    "NOFILE");
		}
	}
}

/* ---- 4. chroot ------------------------------------------------------- */

static void
sb_check_root_dir(const struct sb_ctx *c, const char *dir)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;

	if (stat(dir, &st) == -1) {
		fatal("sandbox: %s: chroot %s", c->rc->rc_name, dir);
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		fatalx("sandbox: %s: chroot %s must be a directory owned by "
		    "root and writable by nobody else", c->rc->rc_name, dir);
	}
	if (!(c->rc->rc_flags & SB_RC_EMPTYROOT)) {
		return;
	}
	if ((d = opendir(dir)) == NULL) {
		fatal("sandbox: %s: chroot %s", c->rc->rc_name, dir);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			closedir(d);
			fatalx("sandbox: %s: chroot %s is not empty",
			    c->rc->rc_name, dir);
		}
	}
	closedir(d);
}

static void
sb_chroot(const struct sb_ctx *c)
{
	const char	*dir = c->opts->chroot_dir;

	if (dir == NULL) {
		return;
	}
	if ((c->rc->rc_flags & SB_RC_ROOT) || !c->was_root) {
		fatalx("sandbox: %s: cannot chroot", c->rc->rc_name);
	}
	sb_check_root_dir(c, dir);
	if (chroot(dir) == -1 || chdir("/") == -1) {
		fatal("sandbox: %s: chroot %s", c->rc->rc_name, dir);
	}
}

/* ---- 5, 6. ids and capabilities ----------------------------------------- */

static void
sb_drop_bounding(struct sb_ctx *c)
{
	cap_value_t	v, last = (cap_value_t)cap_max_bits();
	cap_flag_value_t can = CAP_CLEAR;
	cap_t		cur;

	if ((cur = cap_get_proc()) == NULL ||
	    cap_get_flag(cur, CAP_SETPCAP, CAP_EFFECTIVE, &can) == -1) {
		fatal("sandbox: cap_get_proc");
	}
	cap_free(cur);
	c->check_bnd = can == CAP_SET;
	if (!c->check_bnd) {
		return;		/* unprivileged: NNP makes it moot */
	}
	for (v = 0; v < last; v++) {
		if ((c->rc->rc_caps & SB_CAP(v)) == 0 &&
		    cap_drop_bound(v) == -1) {
			fatal("sandbox: cap_drop_bound %d", (int)v);
		}
	}
}

static void
sb_setids(const struct sb_ctx *c)
{
	uid_t	uid = c->pw.pw_uid;
	gid_t	gid = c->pw.pw_gid;

	if (!c->have_user) {
		return;
	}
	if (c->rc->rc_caps != 0 &&
	    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1) {
		fatal("sandbox: PR_SET_KEEPCAPS");
	}
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		fatal("sandbox: %s: cannot become %s", c->rc->rc_name,
		    c->opts->user);
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1) {
		fatal("sandbox: PR_SET_KEEPCAPS");
	}
}

static void
sb_caps(const struct sb_ctx *c)
{
	cap_value_t		keep[64];
	int			n = 0;
	cap_value_t		v;
	cap_t			caps, cur;
	cap_flag_value_t	have;

	/* Keep what the role may have and we hold (containers drop some). */
	if ((cur = cap_get_proc()) == NULL) {
		fatal("sandbox: cap_get_proc");
	}
	for (v = 0; v < 64; v++) {
		if ((c->rc->rc_caps & SB_CAP(v)) == 0) {
			continue;
		}
		if (cap_get_flag(cur, v, CAP_PERMITTED, &have) == -1 ||
		    have != CAP_SET) {
			if (!(c->rc->rc_flags & SB_RC_ROOT)) {
				fatalx("sandbox: %s: capability %d missing",
				    c->rc->rc_name, (int)v);
			}
			continue;
		}
		keep[n++] = v;
	}
	cap_free(cur);
	if ((caps = cap_init()) == NULL) {
		fatal("sandbox: cap_init");
	}
	if (n > 0 && (cap_set_flag(caps, CAP_PERMITTED, n, keep,
	    CAP_SET) == -1 || cap_set_flag(caps, CAP_EFFECTIVE, n, keep,
	    CAP_SET) == -1)) {
		fatal("sandbox: cap_set_flag");
	}
	if (cap_set_proc(caps) == -1) {
		fatal("sandbox: %s: cap_set_proc", c->rc->rc_name);
	}
	cap_free(caps);
	if (cap_reset_ambient() == -1 && errno != EINVAL) {
		fatal("sandbox: cap_reset_ambient");
	}
	/* Unless we stay root: no way back. */
	if (c->have_user && (setuid(0) != -1 || seteuid(0) != -1 ||
	    setgid(0) != -1)) {
		fatalx("sandbox: %s: could regain root", c->rc->rc_name);
	}
}

static void
sb_prctl(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		fatal("sandbox: PR_SET_NO_NEW_PRIVS");
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		fatal("sandbox: PR_SET_DUMPABLE");
	}
}

/* ---- 7. landlock (best effort: seccomp and the chroot stand alone) ---- */

static uint64_t
sb_ll_handled(long abi)
{
	uint64_t	h;

	h = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2) {
		h |= 1ULL << 13;	/* LANDLOCK_ACCESS_FS_REFER */
	}
	if (abi >= 3) {
		h |= 1ULL << 14;	/* LANDLOCK_ACCESS_FS_TRUNCATE */
	}
	return h;
}

static void
sb_ll_add(int rfd, const char *path, uint64_t handled, int must)
{
	struct landlock_path_beneath_attr	pb;
	struct stat				st;
	int					fd;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1) {
		if (must) {
			fatal("sandbox: landlock %s", path);
		}
		return;
	}
	if (fstat(fd, &st) == -1) {
		fatal("sandbox: landlock %s", path);
	}
	memset(&pb, 0, sizeof(pb));
	pb.parent_fd = fd;
	pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE;
	if (S_ISDIR(st.st_mode)) {
		pb.allowed_access |= LANDLOCK_ACCESS_FS_READ_DIR;
	}
	pb.allowed_access &= handled;
	if (syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0) == -1) {
		fatal("sandbox: landlock_add_rule %s", path);
	}
	close(fd);
}

/* Builds the ruleset while paths still resolve outside the chroot. */
static void
sb_ll_prepare(struct sb_ctx *c)
{
	struct landlock_ruleset_attr	 ra;
	const char *const		*paths = NULL;
	size_t				 n = 0, i;
	unsigned			 fl = c->rc->rc_flags;
	long				 abi;

	c->llfd = -1;
	if ((fl & (SB_RC_LL_NONE | SB_RC_LL_RO | SB_RC_LL_SYS)) == 0) {
		return;
	}
	/* lookup without map directories: seccomp's read-only rule only. */
	if ((fl & SB_RC_LL_RO) && c->opts->nro_paths == 0) {
		return;
	}
	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		log_debug("sandbox: %s: no landlock (%s)", c->rc->rc_name,
		    strerror(errno));
		return;
	}
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = sb_ll_handled(abi);
	if ((c->llfd = (int)syscall(SYS_landlock_create_ruleset, &ra,
	    sizeof(ra), 0)) == -1) {
		fatal("sandbox: landlock_create_ruleset");
	}
	if (c->opts->nro_paths > SB_MAX_RO_PATHS) {
		fatalx("sandbox: more than %d read-only paths",
		    SB_MAX_RO_PATHS);
	}
	if (c->opts->nro_paths > 0 && (fl & (SB_RC_LL_RO | SB_RC_LL_SYS))) {
		paths = c->opts->ro_paths;
		n = c->opts->nro_paths;
	} else if (fl & SB_RC_LL_SYS) {
		paths = sb_sys_ro;
		n = sizeof(sb_sys_ro) / sizeof(sb_sys_ro[0]);
	}
	for (i = 0; i < n; i++) {
		sb_ll_add(c->llfd, paths[i], ra.handled_access_fs,
		    paths != sb_sys_ro);
	}
}

static void
sb_ll_apply(struct sb_ctx *c)
{
	if (c->llfd == -1) {
		return;
	}
	if (syscall(SYS_landlock_restrict_self, c->llfd, 0) == -1) {
		fatal("sandbox: landlock_restrict_self");
	}
	close(c->llfd);
	c->llfd = -1;
}

/* ---- 8. seccomp ------------------------------------------------------ */

static size_t
sb_put(char *dst, size_t off, size_t sz, const char *s)
{
	while (*s != '\0' && off + 1 < sz) {
		dst[off++] = *s++;
	}
	return off;
}

static size_t
sb_put_uint(char *dst, size_t off, size_t sz, unsigned v)
{
	char	tmp[12];
	size_t	n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && n < sizeof(tmp));
	while (n > 0 && off + 1 < sz) {
		dst[off++] = tmp[--n];
	}
	return off;
}

/* Debug mode: report the call and let it fail with ENOSYS. */
static void
sb_sigsys(int sig, siginfo_t *si, void *vctx)
{
	ucontext_t	*uc = vctx;
	char		 msg[192];
	size_t		 n = 0;
	int		 nr = si->si_syscall;
	const char	*name = NULL;
	int		 saved = errno;

	(void)sig;
	if (nr >= 0 && nr < SB_SYSNAMES) {
		name = sb_sysnames[nr];
	}
	n = sb_put(msg, n, sizeof(msg), "sandbox: ");
	n = sb_put(msg, n, sizeof(msg), sb_debug_role);
	n = sb_put(msg, n, sizeof(msg), ": forbidden system call ");
	n = sb_put(msg, n, sizeof(msg), name ? name : "?");
	n = sb_put(msg, n, sizeof(msg), " (");
	n = sb_put_uint(msg, n, sizeof(msg), (unsigned)nr);
	n = sb_put(msg, n, sizeof(msg), "), failing it with ENOSYS\n");
	(void)!write(STDERR_FILENO, msg, n);
#if defined(__x86_64__)
	uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
#elif defined(__aarch64__)
	uc->uc_mcontext.regs[0] = (unsigned long long)-ENOSYS;
#else
	(void)uc;
	_exit(128 + SIGSYS);
#endif
	errno = saved;
}

static void
sb_debug_setup(const struct sb_ctx *c)
{
	struct sigaction	sa;
	sigset_t		set;
	int			nr;

	for (nr = 0; nr < SB_SYSNAMES; nr++) {
		sb_sysnames[nr] = seccomp_syscall_resolve_num_arch(
		    SCMP_ARCH_NATIVE, nr);	/* kept for the handler */
	}
	sb_debug_role = c->rc->rc_name;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sb_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1) {
		fatal("sandbox: sigaction SIGSYS");
	}
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	if (sigprocmask(SIG_UNBLOCK, &set, NULL) == -1) {
		fatal("sandbox: sigprocmask");
	}
	log_warnx("sandbox: %s: debug mode: forbidden system calls are "
	    "logged and fail, not fatal", c->rc->rc_name);
}

static void
sb_seccomp(const struct sb_ctx *c)
{
	const struct sc_profile	*p;
	scmp_filter_ctx		 ctx;
	const char		*errstr;
	int			 rc;

	if ((p = seccomp_profile(c->role)) == NULL) {
		return;
	}
	if (c->opts->debug) {
		sb_debug_setup(c);
	}
	if (seccomp_build(p, c->opts->debug ? SCMP_ACT_TRAP :
	    SCMP_ACT_KILL_PROCESS, getpid(), &ctx, &errstr) == -1) {
		fatalx("sandbox: %s: %s", c->rc->rc_name, errstr);
	}
	if ((rc = seccomp_load(ctx)) < 0) {
		seccomp_release(ctx);
		fatalx("sandbox: %s: seccomp_load: %s", c->rc->rc_name,
		    strerror(-rc));
	}
	seccomp_release(ctx);
}

/* ---- 9. self-check ----------------------------------------------------- */

static void
sb_selfcheck(const struct sb_ctx *c)
{
	struct sandbox_status_parser	 sp;
	struct sandbox_status		 st;
	uint8_t				 chunk[512];
	const char			*errstr;
	ssize_t				 n;

	sandbox_status_init(&sp);
	for (;;) {
		n = read(c->statusfd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1) {
			fatal("sandbox: %s: read /proc/self/status",
			    c->rc->rc_name);
		}
		if (n == 0) {
			break;
		}
		if (sandbox_status_feed(&sp, chunk, (size_t)n, &errstr) ==
		    -1) {
			sandbox_status_free(&sp);
			fatalx("sandbox: %s: /proc/self/status: %s",
			    c->rc->rc_name, errstr);
		}
	}
	close(c->statusfd);
	if (sandbox_status_end(&sp, &st, &errstr) == -1 ||
	    sandbox_status_check(&st, c->role, c->check_bnd, &errstr) == -1) {
		fatalx("sandbox: %s: self-check failed: %s", c->rc->rc_name,
		    errstr);
	}
	if (c->have_user && (getuid() != c->pw.pw_uid ||
	    geteuid() != c->pw.pw_uid || getgid() != c->pw.pw_gid ||
	    getegid() != c->pw.pw_gid)) {
		fatalx("sandbox: %s: self-check failed: ids",
		    c->rc->rc_name);
	}
}

int
sandbox_enter(enum sandbox_role role, const struct sandbox_opts *opts)
{
	static const struct sandbox_opts	 none;
	struct sb_ctx				*c;

	if ((unsigned)role >= SB_ROLE_MAX) {
		fatalx("sandbox: bad role %d", (int)role);
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		fatal("sandbox: calloc");
	}
	c->role = role;
	c->rc = &sb_roles[role];
	c->opts = opts != NULL ? opts : &none;
	c->statusfd = -1;
#if defined(__SANITIZE_ADDRESS__)
	/*
	 * make SAN=1: LeakSanitizer's exit-time check needs /proc, clone and
	 * ptrace, none of which a sandboxed role has.  Check now; the exit
	 * check is then skipped (leaks made after this point go unseen).
	 */
	if (!(c->rc->rc_flags & SB_RC_ROOT)) {
		__lsan_do_leak_check();
	}
#endif
	sb_close_fds(c->opts);
	sb_resolve_user(c);
	if ((c->statusfd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)) ==
	    -1) {
		fatal("sandbox: /proc/self/status");
	}
	sb_rlimits(c);
	sb_ll_prepare(c);
	sb_chroot(c);
	sb_drop_bounding(c);
	sb_setids(c);
	sb_caps(c);
	sb_prctl();
	sb_ll_apply(c);
	sb_seccomp(c);
	sb_selfcheck(c);
	log_debug("sandbox: %s: entered%s", c->rc->rc_name,
	    c->opts->debug ? " (debug)" : "");
	explicit_bzero(c, sizeof(*c));
	free(c);
	return 0;
}

int
sandbox_status_check(const struct sandbox_status *st,
    enum sandbox_role role, int check_bnd, const char **errstr_r)
{
	const struct sb_role_conf	*rc;
	uint64_t			 keep;
	size_t				 i;

	if ((unsigned)role >= SB_ROLE_MAX) {
		*errstr_r = "bad role";
		return -1;
	}
	rc = &sb_roles[role];
	keep = rc->rc_caps;
	if (st->seen != SB_ST_ALL) {
		*errstr_r = "field missing";
		return -1;
	}
	for (i = 0; i < 4 && !(rc->rc_flags & SB_RC_ROOT); i++) {
		if (st->uid[i] == 0 || st->gid[i] == 0) {
			*errstr_r = "uid or gid 0";
			return -1;
		}
	}
	if (st->cap_inh != 0 || st->cap_amb != 0) {
		*errstr_r = "inheritable or ambient capabilities";
		return -1;
	}
	if ((st->cap_prm & ~keep) != 0 || (st->cap_eff & ~keep) != 0) {
		*errstr_r = "capabilities beyond the role's";
		return -1;
	}
	if (!(rc->rc_flags & SB_RC_ROOT) && (st->cap_prm != keep ||
	    st->cap_eff != keep)) {
		*errstr_r = "the role's capabilities are missing";
		return -1;
	}
	if (check_bnd && (st->cap_bnd & ~keep) != 0) {
		*errstr_r = "bounding set not cut";
		return -1;
	}
	if (st->no_new_privs != 1) {
		*errstr_r = "no_new_privs not set";
		return -1;
	}
	if (seccomp_profile(role) != NULL && st->seccomp != 2) {
		*errstr_r = "no seccomp filter";
		return -1;
	}
	return 0;
}
