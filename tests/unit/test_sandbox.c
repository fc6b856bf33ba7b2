/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests for lib/sandbox.c, lib/sandbox_status.c and the tables in
 * policy/seccomp.c.  Runs as root (the process cases fork children that
 * become "nobody" and chroot; as another user they are skipped with a
 * message).  The parent of each child reads /proc/PID/status, limits and
 * root itself, so the checks do not rely on the code under test alone.
 * Every child is reaped, and temporary directories removed, on failure
 * too.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "log.h"
#include "sandbox.h"
#include "seccomp.h"

#define TEST_USER	"nobody"

/* ---- the /proc/PID/status parser -------------------------------------- */

static const char status_sample[] =
    "Name:\ttest_sandbox\n"
    "Umask:\t0022\n"
    "State:\tS (sleeping)\n"
    "Tgid:\t4242\n"
    "Uid:\t65534\t65534\t65534\t65534\n"
    "Gid:\t65533\t65533\t65533\t65533\n"
    "FDSize:\t64\n"
    "Groups:\t65533 \n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t0000000000001000\n"
    "CapEff:\t0000000000001000\n"
    "CapBnd:\t0000000000001000\n"
    "CapAmb:\t0000000000000000\n"
    "NoNewPrivs:\t1\n"
    "Seccomp:\t2\n"
    "Seccomp_filters:\t1\n"
    "Cpus_allowed:\tff\n";

/* Parses text fed in pieces of at most `step` bytes (0: all at once). */
static int
status_parse(const char *text, size_t len, size_t step,
    struct sandbox_status *st, const char **errstr)
{
	struct sandbox_status_parser	p;
	size_t				off = 0, n;

	sandbox_status_init(&p);
	while (off < len) {
		n = step == 0 || len - off < step ? len - off : step;
		if (sandbox_status_feed(&p, text + off, n, errstr) == -1) {
			sandbox_status_free(&p);
			return -1;
		}
		off += n;
	}
	return sandbox_status_end(&p, st, errstr);
}

/* Parses text split once at `at`. */
static int
status_parse_split(const char *text, size_t len, size_t at,
    struct sandbox_status *st, const char **errstr)
{
	struct sandbox_status_parser	p;

	sandbox_status_init(&p);
	if (sandbox_status_feed(&p, text, at, errstr) == -1 ||
	    sandbox_status_feed(&p, text + at, len - at, errstr) == -1) {
		sandbox_status_free(&p);
		return -1;
	}
	return sandbox_status_end(&p, st, errstr);
}

static void
check_sample(const struct sandbox_status *st)
{
	T_EQ_INT(st->seen, SB_ST_ALL);
	T_EQ_INT(st->uid[0], 65534);
	T_EQ_INT(st->uid[3], 65534);
	T_EQ_INT(st->gid[1], 65533);
	T_EQ_INT(st->cap_inh, 0);
	T_EQ_INT(st->cap_prm, 1ULL << CAP_NET_ADMIN);
	T_EQ_INT(st->cap_eff, 1ULL << CAP_NET_ADMIN);
	T_EQ_INT(st->cap_bnd, 1ULL << CAP_NET_ADMIN);
	T_EQ_INT(st->no_new_privs, 1);
	T_EQ_INT(st->seccomp, 2);
}

static void
test_status_sample(void)
{
	struct sandbox_status	 st;
	const char		*errstr = NULL;
	size_t			 len = sizeof(status_sample) - 1, i;

	T_EQ_INT(status_parse(status_sample, len, 0, &st, &errstr), 0);
	check_sample(&st);
	/* One byte at a time. */
	memset(&st, 0, sizeof(st));
	T_EQ_INT(status_parse(status_sample, len, 1, &st, &errstr), 0);
	check_sample(&st);
	/* Split at every position. */
	for (i = 0; i <= len; i++) {
		memset(&st, 0, sizeof(st));
		T_EQ_INT(status_parse_split(status_sample, len, i, &st,
		    &errstr), 0);
		T_EQ_INT(st.cap_eff, 1ULL << CAP_NET_ADMIN);
		T_EQ_INT(st.seen, SB_ST_ALL);
	}
	/* No final LF: the last line still counts. */
	T_EQ_INT(status_parse(status_sample, len - 1, 0, &st, &errstr), 0);
}

/* The real thing, from this process. */
static void
test_status_self(void)
{
	struct sandbox_status	 st;
	const char		*errstr = NULL;
	char			 text[SB_STATUS_MAX];
	ssize_t			 n;
	size_t			 len = 0;
	int			 fd;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	T_ASSERT(fd != -1);
	if (fd == -1) {
		return;
	}
	while ((n = read(fd, text + len, sizeof(text) - len)) > 0) {
		len += (size_t)n;
	}
	close(fd);
	T_EQ_INT(status_parse(text, len, 7, &st, &errstr), 0);
	T_EQ_INT(st.uid[0], getuid());
	T_EQ_INT(st.gid[0], getgid());
	T_EQ_INT(st.no_new_privs, 0);
	T_EQ_INT(st.seccomp, 0);
}

static void
expect_bad(const char *text, const char *why)
{
	struct sandbox_status	 st;
	const char		*errstr = NULL;
	size_t			 len = strlen(text);

	if (status_parse(text, len, 0, &st, &errstr) != -1) {
		fprintf(stderr, "  accepted: %s\n", why);
		harness_failures++;
		return;
	}
	T_ASSERT(errstr != NULL);
	/* The same, byte by byte. */
	T_EQ_INT(status_parse(text, len, 1, &st, &errstr), -1);
}

/* status_sample with one line replaced. */
static void
expect_bad_line(const char *key, const char *line, const char *why)
{
	char		 text[2048];
	const char	*p = status_sample, *hit, *eol;
	size_t		 n;

	hit = strstr(p, key);
	if (hit == NULL || (eol = strchr(hit, '\n')) == NULL) {
		harness_failures++;
		return;
	}
	n = (size_t)(hit - p);
	if (n + strlen(line) + strlen(eol + 1) >= sizeof(text)) {
		harness_failures++;
		return;
	}
	memcpy(text, p, n);
	memcpy(text + n, line, strlen(line));
	n += strlen(line);
	memcpy(text + n, eol + 1, strlen(eol + 1) + 1);
	expect_bad(text, why);
}

static void
test_status_malformed(void)
{
	char	text[2048];

	expect_bad_line("CapEff:", "CapEff:\t000000000000100\n",
	    "15 hex digits");
	expect_bad_line("CapEff:", "CapEff:\t00000000000001000\n",
	    "17 hex digits");
	expect_bad_line("CapEff:", "CapEff:\t000000000000100A\n",
	    "upper-case hex");
	expect_bad_line("CapEff:", "CapEff:\t00000000000010 0\n",
	    "space inside hex");
	expect_bad_line("Uid:", "Uid:\t1\t2\t3\n", "three uids");
	expect_bad_line("Uid:", "Uid:\t1\t2\t3\t4\t5\n", "five uids");
	expect_bad_line("Uid:", "Uid:\t1\t2\t-3\t4\n", "negative uid");
	expect_bad_line("Uid:", "Uid:\t1\t2\t4294967296\t4\n",
	    "uid past 32 bits");
	expect_bad_line("NoNewPrivs:", "NoNewPrivs:\t2\n", "NoNewPrivs 2");
	expect_bad_line("Seccomp:", "Seccomp:\t3\n", "Seccomp 3");
	expect_bad_line("Seccomp:", "Seccomp:\n", "empty Seccomp");
	expect_bad_line("Seccomp:", "Name:\tx\n", "Seccomp missing");
	expect_bad_line("Gid:", "Gid:\t1\t2\t3\t4\nGid:\t1\t2\t3\t4\n",
	    "Gid twice");
	/* A NUL inside a value. */
	memcpy(text, "Seccomp:\t2\0\n", 12);
	{
		struct sandbox_status_parser	 p;
		const char			*errstr;

		sandbox_status_init(&p);
		T_EQ_INT(sandbox_status_feed(&p, text, 12, &errstr), -1);
		sandbox_status_free(&p);
	}
	expect_bad("", "empty");
}

/* A line of exactly `len` bytes before its LF: key, value, padding. */
static size_t
put_line(char *dst, const char *key_value, size_t len)
{
	size_t	n = strlen(key_value);

	memcpy(dst, key_value, n);
	memset(dst + n, ' ', len - n);
	dst[len] = '\n';
	return len + 1;
}

/* status_sample without the line starting with key; returns its length. */
static size_t
sample_without(const char *key, char *dst)
{
	const char	*hit = strstr(status_sample, key);
	const char	*eol = strchr(hit, '\n') + 1;
	size_t		 a = (size_t)(hit - status_sample);
	size_t		 b = strlen(eol);

	memcpy(dst, status_sample, a);
	memcpy(dst + a, eol, b);
	return a + b;
}

static void
test_status_limits(void)
{
	static char		 text[SB_STATUS_MAX + 64];
	struct sandbox_status	 st;
	const char		*errstr = NULL;
	size_t			 n, base = sizeof(status_sample) - 1;

	/* A checked field at the line limit (padding is trimmed) ... */
	n = put_line(text, "Uid:\t7\t7\t7\t7", SB_STATUS_MAX_LINE - 1);
	n += sample_without("Uid:", text + n);
	T_EQ_INT(status_parse(text, n, 0, &st, &errstr), 0);
	T_EQ_INT(st.uid[2], 7);
	T_EQ_INT(status_parse(text, n, 1, &st, &errstr), 0);
	T_EQ_INT(st.uid[3], 7);
	/* ... and one byte past it. */
	n = put_line(text, "Uid:\t7\t7\t7\t7", SB_STATUS_MAX_LINE);
	n += sample_without("Uid:", text + n);
	T_EQ_INT(status_parse(text, n, 0, &st, &errstr), -1);
	T_EQ_INT(status_parse(text, n, 1, &st, &errstr), -1);
	/* An unchecked field past the limit is skipped, however long. */
	memcpy(text, status_sample, base);
	n = base + put_line(text + base, "Cpus_allowed_list:\t0",
	    SB_STATUS_MAX_LINE);
	T_EQ_INT(status_parse(text, n, 0, &st, &errstr), 0);
	n = base + put_line(text + base, "Cpus_allowed_list:\t0",
	    3 * SB_STATUS_MAX_LINE + 5);
	T_EQ_INT(status_parse(text, n, 0, &st, &errstr), 0);
	T_EQ_INT(status_parse(text, n, 1, &st, &errstr), 0);
	T_EQ_INT(st.seccomp, 2);
	/* The whole text at SB_STATUS_MAX, and one byte past it. */
	memcpy(text, status_sample, base);
	n = base;
	while (SB_STATUS_MAX - n > 2000) {
		n += put_line(text + n, "X:", 1000);
	}
	n += put_line(text + n, "X:", SB_STATUS_MAX - n - 1);
	T_EQ_INT(n, SB_STATUS_MAX);
	T_EQ_INT(status_parse(text, n, 0, &st, &errstr), 0);
	T_EQ_INT(status_parse(text, n, 4096, &st, &errstr), 0);
	text[n] = '\n';
	T_EQ_INT(status_parse(text, n + 1, 0, &st, &errstr), -1);
	T_EQ_INT(status_parse(text, n + 1, 4096, &st, &errstr), -1);
}

static void
good_status(struct sandbox_status *st)
{
	memset(st, 0, sizeof(*st));
	st->uid[0] = st->uid[1] = st->uid[2] = st->uid[3] = 65534;
	st->gid[0] = st->gid[1] = st->gid[2] = st->gid[3] = 65534;
	st->no_new_privs = 1;
	st->seccomp = 2;
	st->seen = SB_ST_ALL;
}

static void
test_status_check(void)
{
	struct sandbox_status	 st;
	const char		*errstr;

	good_status(&st);
	T_EQ_INT(sandbox_status_check(&st, SB_WORKER, 1, &errstr), 0);
	st.uid[2] = 0;
	T_EQ_INT(sandbox_status_check(&st, SB_WORKER, 1, &errstr), -1);
	good_status(&st);
	st.gid[3] = 0;
	T_EQ_INT(sandbox_status_check(&st, SB_LOOKUP, 1, &errstr), -1);
	good_status(&st);
	st.cap_bnd = 1;
	T_EQ_INT(sandbox_status_check(&st, SB_WORKER, 1, &errstr), -1);
	T_EQ_INT(sandbox_status_check(&st, SB_WORKER, 0, &errstr), 0);
	good_status(&st);
	st.cap_amb = 1ULL << CAP_NET_ADMIN;
	T_EQ_INT(sandbox_status_check(&st, SB_NFT, 1, &errstr), -1);
	good_status(&st);
	st.no_new_privs = 0;
	T_EQ_INT(sandbox_status_check(&st, SB_DIALER, 1, &errstr), -1);
	good_status(&st);
	st.seccomp = 0;
	T_EQ_INT(sandbox_status_check(&st, SB_KEYHOLDER, 1, &errstr), -1);
	good_status(&st);
	st.seen &= ~SB_ST_CAPAMB;
	T_EQ_INT(sandbox_status_check(&st, SB_WORKER, 1, &errstr), -1);
	/* nft: exactly CAP_NET_ADMIN. */
	good_status(&st);
	T_EQ_INT(sandbox_status_check(&st, SB_NFT, 1, &errstr), -1);
	st.cap_prm = st.cap_eff = st.cap_bnd = 1ULL << CAP_NET_ADMIN;
	T_EQ_INT(sandbox_status_check(&st, SB_NFT, 1, &errstr), 0);
	T_EQ_INT(sandbox_status_check(&st, SB_WORKER, 1, &errstr), -1);
	st.cap_eff |= 1ULL << CAP_SYS_ADMIN;
	T_EQ_INT(sandbox_status_check(&st, SB_NFT, 1, &errstr), -1);
	/* parent: root is fine, caps within its set, no filter needed. */
	good_status(&st);
	memset(st.uid, 0, sizeof(st.uid));
	memset(st.gid, 0, sizeof(st.gid));
	st.seccomp = 0;
	st.cap_prm = st.cap_eff = st.cap_bnd = sandbox_spawner_caps();
	T_EQ_INT(sandbox_status_check(&st, SB_SPAWNER, 1, &errstr), 0);
	st.cap_bnd |= 1ULL << CAP_SYS_ADMIN;
	T_EQ_INT(sandbox_status_check(&st, SB_SPAWNER, 1, &errstr), -1);
	T_EQ_INT(sandbox_status_check(&st, SB_ROLE_MAX, 1, &errstr), -1);
}

/* ---- the tables ------------------------------------------------------- */

static const char *const never_worker[] = {
	"open", "openat", "socket", "connect", "bind", "listen", "execve",
	"execveat", "clone", "clone3", "fork", "vfork", "ptrace",
	"setuid", "setresuid", "chroot", "mount", "kill", "prctl",
	"process_vm_readv", "memfd_create", "seccomp", "bpf",
};

static void
test_tables(void)
{
	const struct sc_profile	*p;
	scmp_filter_ctx		 ctx;
	const char		*errstr;
	size_t			 i;
	int			 r, cond;

	T_ASSERT(seccomp_profile(SB_SPAWNER) == NULL);
	T_ASSERT(seccomp_profile(SB_ROLE_MAX) == NULL);
	for (r = SB_LOOKUP; r < SB_ROLE_MAX; r++) {
		p = seccomp_profile((enum sandbox_role)r);
		T_ASSERT(p != NULL);
		if (p == NULL) {
			continue;
		}
		T_EQ_INT(seccomp_build(p, SCMP_ACT_KILL_PROCESS, getpid(),
		    &ctx, &errstr), 0);
		seccomp_release(ctx);
		T_ASSERT(!seccomp_allows(p, "execve", &cond));
		T_ASSERT(!seccomp_allows(p, "ptrace", &cond));
		T_ASSERT(!seccomp_allows(p, "bind", &cond));
		T_ASSERT(!seccomp_allows(p, "listen", &cond));
		T_ASSERT(!seccomp_allows(p, "clone", &cond));
		T_ASSERT(!seccomp_allows(p, "setuid", &cond));
		T_EQ_STR(p->sp_name, sandbox_role_name((enum sandbox_role)r));
	}
	p = seccomp_profile(SB_WORKER);
	for (i = 0; i < sizeof(never_worker) / sizeof(never_worker[0]); i++) {
		if (seccomp_allows(p, never_worker[i], &cond)) {
			fprintf(stderr, "  worker allows %s\n",
			    never_worker[i]);
			harness_failures++;
		}
	}
	T_ASSERT(seccomp_allows(p, "accept4", &cond) && !cond);
	T_ASSERT(seccomp_allows(p, "setsockopt", &cond) && cond);
	T_ASSERT(seccomp_allows(p, "mmap", &cond) && cond);
	p = seccomp_profile(SB_KEYHOLDER);
	T_ASSERT(!seccomp_allows(p, "accept4", &cond));
	T_ASSERT(!seccomp_allows(p, "socket", &cond));
	T_ASSERT(!seccomp_allows(p, "openat", &cond));
	p = seccomp_profile(SB_LOOKUP);
	T_ASSERT(seccomp_allows(p, "openat", &cond) && cond);
	T_ASSERT(!seccomp_allows(p, "socket", &cond));
	p = seccomp_profile(SB_DIALER);
	T_ASSERT(seccomp_allows(p, "socket", &cond) && cond);
	T_ASSERT(seccomp_allows(p, "openat", &cond) && cond);
	T_EQ_STR(sandbox_role_name(SB_ROLE_MAX), "unknown");
}

/* ---- processes in each profile ---------------------------------------- */

enum act {
	ACT_NONE = 0,
	ACT_SOCKET_INET,
	ACT_SOCKET_UNIX,
	ACT_SOCKET_PACKET,
	ACT_OPEN_RO,
	ACT_OPEN_WR,
	ACT_FORK,
	ACT_CONNECT,
	ACT_GAI,
	ACT_STRAY_FD,
	ACT_MMAP_EXEC,
	ACT_SETUID0,
};

struct spec {
	enum sandbox_role	 role;
	int			 chroot;
	int			 debug;
	enum act		 act;
	const char		*path;		/* OPEN_* */
	int			 port;		/* CONNECT */
	const char *const	*ro;
	size_t			 nro;
};

struct run {
	pid_t			 pid;
	int			 status;	/* wait status */
	int			 result;	/* the action's return */
	int			 got_result;
	struct sandbox_status	 st;
	int			 st_ok;
	char			 limits[4096];
	char			 root[256];
	char			 err[4096];	/* the child's stderr */
};

static char	chroot_dir[64];
static int	can_run;

#define STRAY_FD	77

static int
child_act(const struct spec *s)
{
	int	fd, one = 1;

	switch (s->act) {
	case ACT_SOCKET_INET:
		fd = socket(AF_INET, SOCK_STREAM, 0);
		break;
	case ACT_SOCKET_UNIX:
		fd = socket(AF_UNIX, SOCK_DGRAM, 0);
		break;
	case ACT_SOCKET_PACKET:
		fd = socket(AF_PACKET, SOCK_RAW, 0);
		break;
	case ACT_OPEN_RO:
		fd = open(s->path, O_RDONLY | O_CLOEXEC);
		break;
	case ACT_OPEN_WR:
		fd = open(s->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		break;
	case ACT_FORK:
		fd = (int)fork();
		if (fd == 0) {
			_exit(0);
		}
		break;
	case ACT_CONNECT: {
		struct sockaddr_in	sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)s->port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) !=
		    -1) {
			(void)setsockopt(fd, IPPROTO_TCP, 1, &one,
			    sizeof(one));
			if (connect(fd, (struct sockaddr *)&sin,
			    sizeof(sin)) == -1) {
				fd = -1;
			}
		}
		break;
	}
	case ACT_GAI: {
		struct addrinfo	hints, *ai = NULL;

		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_family = AF_INET;
		fd = getaddrinfo("localhost", "143", &hints, &ai) == 0 ?
		    0 : -1;
		if (ai != NULL) {
			errno = 0;
			freeaddrinfo(ai);
		}
		return fd;
	}
	case ACT_STRAY_FD:
		/* The stray one is gone, 0..2 are still there. */
		if (fcntl(STRAY_FD, F_GETFD) != -1 || errno != EBADF) {
			return -1000;
		}
		return fcntl(2, F_GETFD) == -1 ? -1001 : 0;
	case ACT_MMAP_EXEC:
		fd = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0;
		break;
	case ACT_SETUID0:
		fd = setuid(0);
		break;
	case ACT_NONE:
	default:
		return 0;
	}
	return fd >= 0 ? 0 : -errno;
}

static void __attribute__((noreturn))
child_main(const struct spec *s, int ready, int go, int errw)
{
	struct sandbox_opts	o;
	int			keep[2] = { ready, go }, res;
	char			c;

	if (dup2(errw, 1) == -1 || dup2(errw, 2) == -1 ||
	    dup2(0, STRAY_FD) == -1) {
		_exit(120);
	}
	close(errw);
	log_init("test_sandbox", 1, 0, LOG_LVL_WARN);
	memset(&o, 0, sizeof(o));
	o.user = s->role == SB_SPAWNER ? NULL : TEST_USER;
	o.chroot_dir = s->chroot ? chroot_dir : NULL;
	o.keep_fds = keep;
	o.nkeep = 2;
	o.debug = s->debug;
	o.nofile = 64;
	o.ro_paths = s->ro;
	o.nro_paths = s->nro;
	sandbox_enter(s->role, &o);
	if (write(ready, "R", 1) != 1 || read(go, &c, 1) != 1) {
		_exit(121);
	}
	res = child_act(s);
	if (write(ready, &res, sizeof(res)) != (ssize_t)sizeof(res)) {
		_exit(122);
	}
	_exit(0);
}

static int
read_file(const char *path, char *dst, size_t sz)
{
	ssize_t	n;
	size_t	len = 0;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		return -1;
	}
	while (len + 1 < sz && (n = read(fd, dst + len, sz - 1 - len)) > 0) {
		len += (size_t)n;
	}
	dst[len] = '\0';
	close(fd);
	return 0;
}

/* Reads all the child wrote on fd until EOF (bounded by sz). */
static void
drain(int fd, char *dst, size_t sz)
{
	ssize_t	n;
	size_t	len = 0;

	while (len + 1 < sz && (n = read(fd, dst + len, sz - 1 - len)) > 0) {
		len += (size_t)n;
	}
	dst[len] = '\0';
}

/* Runs one child through its sandbox and action; fills r. */
static void
run_child(const struct spec *s, struct run *r)
{
	int		 rp[2], gp[2], ep[2];
	char		 c, path[64], text[SB_STATUS_MAX];
	const char	*errstr;
	ssize_t		 n;

	memset(r, 0, sizeof(*r));
	if (pipe2(rp, O_CLOEXEC) == -1 || pipe2(gp, O_CLOEXEC) == -1 ||
	    pipe2(ep, O_CLOEXEC) == -1) {
		harness_failures++;
		return;
	}
	fflush(NULL);
	if ((r->pid = fork()) == 0) {
		close(rp[0]);
		close(gp[1]);
		close(ep[0]);
		child_main(s, rp[1], gp[0], ep[1]);
	}
	close(rp[1]);
	close(gp[0]);
	close(ep[1]);
	if (r->pid == -1) {
		harness_failures++;
		goto out;
	}
	if (read(rp[0], &c, 1) == 1) {
		snprintf(path, sizeof(path), "/proc/%d/status", (int)r->pid);
		if (read_file(path, text, sizeof(text)) == 0 &&
		    status_parse(text, strlen(text), 0, &r->st, &errstr) ==
		    0) {
			r->st_ok = 1;
		}
		snprintf(path, sizeof(path), "/proc/%d/limits", (int)r->pid);
		(void)read_file(path, r->limits, sizeof(r->limits));
		snprintf(path, sizeof(path), "/proc/%d/root", (int)r->pid);
		n = readlink(path, r->root, sizeof(r->root) - 1);
		r->root[n > 0 ? n : 0] = '\0';
		(void)!write(gp[1], "G", 1);
		if (read(rp[0], &r->result, sizeof(r->result)) ==
		    (ssize_t)sizeof(r->result)) {
			r->got_result = 1;
		}
	}
	close(gp[1]);
	gp[1] = -1;
	drain(ep[0], r->err, sizeof(r->err));
	while (waitpid(r->pid, &r->status, 0) == -1 && errno == EINTR) {
		continue;
	}
out:
	close(rp[0]);
	if (gp[1] != -1) {
		close(gp[1]);
	}
	close(ep[0]);
}

static int
exited_ok(const struct run *r)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

static int
killed_by_sigsys(const struct run *r)
{
	return WIFSIGNALED(r->status) && WTERMSIG(r->status) == SIGSYS;
}

static int
skip(const char *what)
{
	if (!can_run) {
		printf("  skipped %s: needs root and user %s\n", what,
		    TEST_USER);
		return 1;
	}
	return 0;
}

/* "Max processes  0  0  processes" */
static int
limit_is_zero(const char *limits, const char *name)
{
	const char	*p = strstr(limits, name);
	char		 soft[32], hard[32];

	if (p == NULL || sscanf(p + strlen(name), " %31s %31s", soft,
	    hard) != 2) {
		return 0;
	}
	return strcmp(soft, "0") == 0 && strcmp(hard, "0") == 0;
}

static void
check_locked(const struct run *r, enum sandbox_role role)
{
	const char	*errstr = "";
	uint64_t	 keep = role == SB_NFT ? 1ULL << CAP_NET_ADMIN : 0;

	T_ASSERT(r->st_ok);
	T_ASSERT(r->st.uid[0] != 0 && r->st.uid[1] != 0 &&
	    r->st.uid[2] != 0 && r->st.uid[3] != 0);
	T_ASSERT(r->st.gid[0] != 0 && r->st.gid[1] != 0 &&
	    r->st.gid[2] != 0 && r->st.gid[3] != 0);
	T_EQ_INT(r->st.cap_eff, keep);
	T_EQ_INT(r->st.cap_prm, keep);
	T_EQ_INT(r->st.cap_bnd, keep);
	T_EQ_INT(r->st.cap_inh, 0);
	T_EQ_INT(r->st.cap_amb, 0);
	T_EQ_INT(r->st.no_new_privs, 1);
	T_EQ_INT(r->st.seccomp, 2);
	if (sandbox_status_check(&r->st, role, 1, &errstr) != 0) {
		fprintf(stderr, "  %s: %s\n", sandbox_role_name(role), errstr);
		harness_failures++;
	}
	T_ASSERT(limit_is_zero(r->limits, "Max core file size"));
}

static void
test_each_role(void)
{
	struct spec	s;
	struct run	r;
	int		role;

	if (skip("each role")) {
		return;
	}
	for (role = SB_LOOKUP; role < SB_ROLE_MAX; role++) {
		memset(&s, 0, sizeof(s));
		s.role = (enum sandbox_role)role;
		s.chroot = role == SB_WORKER || role == SB_KEYHOLDER;
		s.act = ACT_STRAY_FD;
		run_child(&s, &r);
		check_locked(&r, s.role);
		T_ASSERT(exited_ok(&r));
		T_ASSERT(r.got_result);
		T_EQ_INT(r.result, 0);
		if (!exited_ok(&r) || r.result != 0) {
			fprintf(stderr, "  role %s: status %#x result %d: %s\n",
			    sandbox_role_name(s.role), r.status, r.result,
			    r.err);
		}
		if (s.chroot) {
			T_EQ_STR(r.root, chroot_dir);
		} else {
			T_EQ_STR(r.root, "/");
		}
		if (role != SB_PBSD) {
			T_ASSERT(limit_is_zero(r.limits, "Max file size"));
		}
		T_ASSERT(limit_is_zero(r.limits, "Max processes"));
	}
}

/* The action is forbidden: the child dies of SIGSYS, says nothing. */
static void
expect_killed(enum sandbox_role role, enum act act, const char *path)
{
	struct spec	s;
	struct run	r;

	memset(&s, 0, sizeof(s));
	s.role = role;
	s.chroot = role == SB_WORKER || role == SB_KEYHOLDER;
	s.act = act;
	s.path = path;
	run_child(&s, &r);
	T_ASSERT(r.st_ok);
	T_ASSERT(!r.got_result);
	if (!killed_by_sigsys(&r)) {
		fprintf(stderr, "  %s act %d: not killed by SIGSYS (status "
		    "%#x, result %d)\n", sandbox_role_name(role), (int)act,
		    r.status, r.result);
		harness_failures++;
	}
}

/* The action runs and returns `want` (0 or -errno). */
static void
expect_result(enum sandbox_role role, enum act act, const char *path,
    int port, int want)
{
	struct spec	s;
	struct run	r;

	memset(&s, 0, sizeof(s));
	s.role = role;
	s.chroot = role == SB_WORKER || role == SB_KEYHOLDER;
	s.act = act;
	s.path = path;
	s.port = port;
	run_child(&s, &r);
	T_ASSERT(exited_ok(&r));
	T_ASSERT(r.got_result);
	if (r.result != want) {
		fprintf(stderr, "  %s act %d: result %d, expected %d: %s\n",
		    sandbox_role_name(role), (int)act, r.result, want, r.err);
		harness_failures++;
	}
}

static void
test_worker_forbidden(void)
{
	if (skip("worker forbidden")) {
		return;
	}
	expect_killed(SB_WORKER, ACT_SOCKET_INET, NULL);
	expect_killed(SB_WORKER, ACT_OPEN_RO, "/");
	expect_killed(SB_WORKER, ACT_FORK, NULL);
	expect_killed(SB_WORKER, ACT_MMAP_EXEC, NULL);
	expect_killed(SB_WORKER, ACT_SETUID0, NULL);
	expect_killed(SB_KEYHOLDER, ACT_SOCKET_INET, NULL);
	expect_killed(SB_NFT, ACT_SOCKET_INET, NULL);
	expect_killed(SB_LOOKUP, ACT_SOCKET_INET, NULL);
	/* glibc's syslog reconnect gets an error, not death. */
	expect_result(SB_WORKER, ACT_SOCKET_UNIX, NULL, 0, -EACCES);
	expect_result(SB_WORKER, ACT_NONE, NULL, 0, 0);
}

static void
test_worker_debug(void)
{
	struct spec	s;
	struct run	r;

	if (skip("worker debug")) {
		return;
	}
	memset(&s, 0, sizeof(s));
	s.role = SB_WORKER;
	s.chroot = 1;
	s.debug = 1;
	s.act = ACT_SOCKET_INET;
	run_child(&s, &r);
	T_ASSERT(r.st_ok);
	T_EQ_INT(r.st.seccomp, 2);
	T_ASSERT(exited_ok(&r));
	T_ASSERT(r.got_result);
	T_EQ_INT(r.result, -ENOSYS);
	T_ASSERT(strstr(r.err, "forbidden system call socket (") != NULL);
	if (strstr(r.err, "forbidden system call socket (") == NULL) {
		fprintf(stderr, "  child said: %s\n", r.err);
	}
	/* Allowed calls are not reported. */
	s.act = ACT_SOCKET_UNIX;
	run_child(&s, &r);
	T_EQ_INT(r.result, -EACCES);
	T_ASSERT(strstr(r.err, "ENOSYS") == NULL);
}

static void
test_lookup(void)
{
	char		dir[64], file[96];
	const char	*ro[1];
	struct spec	s;
	struct run	r;
	int		fd;

	if (skip("lookup")) {
		return;
	}
	snprintf(dir, sizeof(dir), "/tmp/test_sandbox.maps.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		harness_failures++;
		return;
	}
	snprintf(file, sizeof(file), "%s/map", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	T_ASSERT(fd != -1 && write(fd, "u h\n", 4) == 4);
	close(fd);
	(void)chmod(dir, 0755);
	expect_result(SB_LOOKUP, ACT_OPEN_RO, file, 0, 0);
	expect_killed(SB_LOOKUP, ACT_OPEN_WR, file);
	/* With landlock, only the map directory is readable. */
	ro[0] = dir;
	memset(&s, 0, sizeof(s));
	s.role = SB_LOOKUP;
	s.act = ACT_OPEN_RO;
	s.path = file;
	s.ro = ro;
	s.nro = 1;
	run_child(&s, &r);
	T_EQ_INT(r.result, 0);
	s.path = "/etc/passwd";
	run_child(&s, &r);
	T_ASSERT(exited_ok(&r));
	if (r.result == 0) {
		printf("  note: no landlock here, /etc readable by lookup\n");
	} else {
		T_EQ_INT(r.result, -EACCES);
	}
	unlink(file);
	rmdir(dir);
}

static void
test_dialer(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			lfd;

	if (skip("dialer")) {
		return;
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_ASSERT(lfd != -1 && bind(lfd, (struct sockaddr *)&sin,
	    sizeof(sin)) == 0 && listen(lfd, 4) == 0 &&
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == 0);
	expect_result(SB_DIALER, ACT_CONNECT, NULL, ntohs(sin.sin_port), 0);
	expect_result(SB_DIALER, ACT_GAI, NULL, 0, 0);
	expect_result(SB_DIALER, ACT_OPEN_RO, "/etc/hosts", 0, 0);
	expect_result(SB_DIALER, ACT_SOCKET_UNIX, NULL, 0, -EACCES);
	expect_killed(SB_DIALER, ACT_OPEN_WR, "/tmp/test_sandbox.never");
	expect_killed(SB_DIALER, ACT_SOCKET_PACKET, NULL);
	expect_killed(SB_DIALER, ACT_FORK, NULL);
	close(lfd);
	T_ASSERT(access("/tmp/test_sandbox.never", F_OK) == -1);
}

/* The parent stays root with the spawn capabilities, and may fork. */
static void
test_parent(void)
{
	struct spec	 s;
	struct run	 r;
	const char	*errstr = "";

	if (skip("parent")) {
		return;
	}
	memset(&s, 0, sizeof(s));
	s.role = SB_SPAWNER;
	s.act = ACT_FORK;
	run_child(&s, &r);
	T_ASSERT(r.st_ok);
	if (!r.st_ok) {
		fprintf(stderr, "  parent: status %#x: %s\n", r.status, r.err);
	}
	T_EQ_INT(r.st.uid[0], 0);
	/* The spawn set, less what this machine's root lacks. */
	T_EQ_INT(r.st.cap_bnd & ~sandbox_spawner_caps(), 0);
	T_EQ_INT(r.st.cap_eff, r.st.cap_bnd);
	T_EQ_INT(r.st.cap_prm, r.st.cap_bnd);
	T_ASSERT(r.st.cap_eff & (1ULL << CAP_SETUID));
	T_ASSERT(r.st.cap_eff & (1ULL << CAP_SYS_CHROOT));
	T_EQ_INT(r.st.cap_inh, 0);
	T_EQ_INT(r.st.no_new_privs, 1);
	T_EQ_INT(r.st.seccomp, 0);
	T_EQ_INT(sandbox_status_check(&r.st, SB_SPAWNER, 1, &errstr), 0);
	T_ASSERT(exited_ok(&r));
	T_EQ_INT(r.result, 0);
	T_ASSERT((sandbox_spawner_caps() & (1ULL << CAP_SYS_ADMIN)) == 0);
	T_ASSERT((sandbox_spawner_caps() & (1ULL << CAP_SYS_PTRACE)) == 0);
	T_ASSERT((sandbox_spawner_caps() & (1ULL << CAP_SETUID)) != 0);
}

static void
test_setup(void)
{
	struct passwd	*pw = getpwnam(TEST_USER);

	can_run = geteuid() == 0 && pw != NULL && pw->pw_uid != 0;
	snprintf(chroot_dir, sizeof(chroot_dir), "/tmp/test_sandbox.XXXXXX");
	if (can_run && mkdtemp(chroot_dir) == NULL) {
		harness_failures++;
		can_run = 0;
	}
}

static void
test_teardown(void)
{
	if (can_run) {
		T_EQ_INT(rmdir(chroot_dir), 0);
	}
}

static const struct harness_case cases[] = {
	{ "setup", test_setup },
	{ "status_sample", test_status_sample },
	{ "status_self", test_status_self },
	{ "status_malformed", test_status_malformed },
	{ "status_limits", test_status_limits },
	{ "status_check", test_status_check },
	{ "tables", test_tables },
	{ "each_role", test_each_role },
	{ "worker_forbidden", test_worker_forbidden },
	{ "worker_debug", test_worker_debug },
	{ "lookup", test_lookup },
	{ "dialer", test_dialer },
	{ "parent", test_parent },
	{ "teardown", test_teardown },
};

HARNESS_MAIN("sandbox", cases)
