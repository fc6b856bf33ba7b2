/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * seccomp: the allow-list of every sandboxed role, as tables (chrony
 * sys_linux.c style) that lib/sandbox.c loads with libseccomp.  Runs in
 * each role just before it is locked in, already unprivileged; the
 * tables trust nobody.  Anything not listed kills the process
 * (SCMP_ACT_KILL_PROCESS).  A few calls that glibc makes on its own and
 * copes with failing (socket(AF_UNIX) to reconnect syslog or reach nscd,
 * AF_NETLINK from the resolver) fail with EACCES instead.  Why each row
 * is here is in docs/sandbox.md; the lists came from strace -f of the
 * real roles under the e2e suite.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "seccomp.h"

/* One comparison: arg n (op) a [, b]. */
#define SC_CMP(n, o, a, b)						\
	{ .arg = (n), .op = (o), .datum_a = (scmp_datum_t)(a),		\
	    .datum_b = (scmp_datum_t)(b) }

#define SC_ROW(x, act)							\
	{ .sr_nr = SCMP_SYS(x), .sr_name = #x, .sr_act = (act) }
/* The comparisons expand to braces with commas: hence variadic. */
#define SC_ROWN(x, act, n, ...)						\
	{ .sr_nr = SCMP_SYS(x), .sr_name = #x, .sr_act = (act),		\
	    .sr_nargs = (n), .sr_args = { __VA_ARGS__ } }
#define SC_ROW1(x, act, ...)	SC_ROWN(x, act, 1, __VA_ARGS__)

#define SC_OK(x)		SC_ROW(x, SC_ALLOW)
#define SC_OK1(x, ...)		SC_ROWN(x, SC_ALLOW, 1, __VA_ARGS__)
#define SC_OK2(x, ...)		SC_ROWN(x, SC_ALLOW, 2, __VA_ARGS__)
#define SC_NO(x)		SC_ROW(x, SC_KILL)

/* Flags of open(2) that write, create or truncate: never in a reader. */
#define SC_OPEN_WRITE	(O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND)
/* socket(2) type without SOCK_NONBLOCK / SOCK_CLOEXEC. */
#define SC_SOCK_TYPE	0xf

#define SC_N(t)		(sizeof(t) / sizeof((t)[0]))
#define SC_TAB(t)	{ .st_rules = (t), .st_n = SC_N(t) }

/*
 * Every sandboxed role: memory (never executable), the clock, its pid
 * (logging, PSA's fork check), randomness, logging to stderr (dprintf
 * does fstat + lseek) and to the syslog socket opened before the chroot,
 * exit, and raise(SIGABRT) on itself only.
 */
static const struct sc_rule sc_base[] = {
	SC_OK(read), SC_OK(write), SC_OK(readv), SC_OK(writev),
	SC_OK(close),
	SC_OK(exit), SC_OK(exit_group), SC_OK(rt_sigreturn),
	SC_OK(restart_syscall),
	SC_OK(brk), SC_OK(munmap), SC_OK(mremap), SC_OK(madvise),
	SC_OK1(mmap, SC_CMP(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
	SC_OK1(mprotect, SC_CMP(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
	SC_OK(futex),
	SC_OK(getpid), SC_OK(gettid),
	SC_OK(getuid), SC_OK(geteuid), SC_OK(getgid), SC_OK(getegid),
	SC_OK(clock_gettime), SC_OK(gettimeofday),
	SC_OK(getrandom),
	SC_OK(rt_sigprocmask),
	SC_OK(fstat),
	SC_OK1(newfstatat, SC_CMP(3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH,
	    AT_EMPTY_PATH)),
	SC_OK(lseek),
	SC_OK1(fcntl, SC_CMP(1, SCMP_CMP_EQ, F_GETFL, 0)),
	SC_OK1(fcntl, SC_CMP(1, SCMP_CMP_EQ, F_GETFD, 0)),
	/* syslog(3) on its connected socket: no destination address. */
	SC_OK1(sendto, SC_CMP(4, SCMP_CMP_EQ, 0, 0)),
	{ .sr_nr = SCMP_SYS(tgkill), .sr_name = "tgkill",
	    .sr_act = SC_ALLOW, .sr_flags = SC_F_SELF_A0, .sr_nargs = 1,
	    .sr_args = { SC_CMP(0, SCMP_CMP_EQ, 0, 0) } },
	/* Recorded: the calls a role must never make. */
	SC_NO(execve), SC_NO(execveat), SC_NO(ptrace),
	SC_NO(process_vm_readv), SC_NO(process_vm_writev),
};

/*
 * Chrooted roles: syslog(3) reconnecting after a syslogd restart (there is
 * no /dev/log in the chroot anyway) and glibc's nscd probes get EACCES.
 */
static const struct sc_rule sc_nounix[] = {
	SC_ROW1(socket, SC_EACCES, SC_CMP(0, SCMP_CMP_EQ, AF_UNIX, 0)),
};

/* Roles with an event loop and channels (messages with SCM_RIGHTS). */
static const struct sc_rule sc_ipc[] = {
	SC_OK(epoll_wait), SC_OK(epoll_pwait), SC_OK(epoll_ctl),
	SC_OK(epoll_create1),		/* ev_init() may come after */
	SC_OK(recvmsg), SC_OK(sendmsg),
	SC_OK1(fcntl, SC_CMP(1, SCMP_CMP_EQ, F_SETFL, 0)),
	SC_OK1(fcntl, SC_CMP(1, SCMP_CMP_EQ, F_SETFD, 0)),
};

/*
 * worker: accept on the inherited listeners, the client and backend
 * sockets it was handed, splice relay through pipes, sign requests to the
 * keyholder.  No open, socket,
 * connect, bind, listen, exec, fork.
 */
static const struct sc_rule sc_worker[] = {
	SC_OK(accept4),
	SC_OK(recvfrom),
	SC_OK(splice),
	SC_OK(pipe2),
	SC_OK1(fcntl, SC_CMP(1, SCMP_CMP_EQ, F_SETPIPE_SZ, 0)),
	/* The synchronous TLS 1.3 sign round trip to the keyholder, and
	 * a new keyholder channel moved onto FD_KEYHOLDER. */
	SC_OK(poll), SC_OK(ppoll),
	SC_OK(dup2), SC_OK(dup3),
	SC_OK(shutdown),
	SC_OK(getsockname), SC_OK(getpeername),
	SC_OK2(setsockopt, SC_CMP(1, SCMP_CMP_EQ, IPPROTO_TCP, 0),
	    SC_CMP(2, SCMP_CMP_EQ, TCP_NODELAY, 0)),
	SC_OK2(getsockopt, SC_CMP(1, SCMP_CMP_EQ, SOL_SOCKET, 0),
	    SC_CMP(2, SCMP_CMP_EQ, SO_ERROR, 0)),
	SC_NO(open), SC_NO(openat), SC_NO(connect), SC_NO(bind),
	SC_NO(listen), SC_NO(clone), SC_NO(clone3), SC_NO(fork),
	SC_NO(vfork),
};

/*
 * lookup: reads and re-reads map files (read-only opens), stat()s them for
 * changes.  No sockets besides the inherited channel.
 */
static const struct sc_rule sc_lookup[] = {
	SC_OK1(openat, SC_CMP(2, SCMP_CMP_MASKED_EQ, SC_OPEN_WRITE, 0)),
	SC_OK(newfstatat),
	SC_OK(pread64),
	SC_NO(connect), SC_NO(bind), SC_NO(listen), SC_NO(clone),
	SC_NO(clone3), SC_NO(fork), SC_NO(vfork),
};

/*
 * dialer: getaddrinfo (reads /etc/hosts, resolv.conf, nsswitch.conf;
 * may dlopen an NSS module, hence executable file mappings; talks to DNS
 * over UDP and TCP) and outbound TCP connections.  AF_UNIX (nscd) and
 * AF_NETLINK fail with EACCES, so connect() only ever sees inet sockets.
 */
static const struct sc_rule sc_dialer[] = {
	SC_OK2(socket, SC_CMP(0, SCMP_CMP_EQ, AF_INET, 0),
	    SC_CMP(1, SCMP_CMP_MASKED_EQ, SC_SOCK_TYPE, SOCK_STREAM)),
	SC_OK2(socket, SC_CMP(0, SCMP_CMP_EQ, AF_INET6, 0),
	    SC_CMP(1, SCMP_CMP_MASKED_EQ, SC_SOCK_TYPE, SOCK_STREAM)),
	SC_OK2(socket, SC_CMP(0, SCMP_CMP_EQ, AF_INET, 0),
	    SC_CMP(1, SCMP_CMP_MASKED_EQ, SC_SOCK_TYPE, SOCK_DGRAM)),
	SC_OK2(socket, SC_CMP(0, SCMP_CMP_EQ, AF_INET6, 0),
	    SC_CMP(1, SCMP_CMP_MASKED_EQ, SC_SOCK_TYPE, SOCK_DGRAM)),
	SC_ROW1(socket, SC_EACCES, SC_CMP(0, SCMP_CMP_EQ, AF_NETLINK, 0)),
	SC_OK(connect),
	SC_OK(sendmmsg), SC_OK(recvfrom),
	SC_OK(poll), SC_OK(ppoll),
	SC_OK(getsockname), SC_OK(getpeername),
	SC_OK1(ioctl, SC_CMP(1, SCMP_CMP_EQ, FIONREAD, 0)),
	SC_OK2(setsockopt, SC_CMP(1, SCMP_CMP_EQ, IPPROTO_TCP, 0),
	    SC_CMP(2, SCMP_CMP_EQ, TCP_NODELAY, 0)),
	SC_OK2(getsockopt, SC_CMP(1, SCMP_CMP_EQ, SOL_SOCKET, 0),
	    SC_CMP(2, SCMP_CMP_EQ, SO_ERROR, 0)),
	SC_OK1(openat, SC_CMP(2, SCMP_CMP_MASKED_EQ, SC_OPEN_WRITE, 0)),
	SC_OK(newfstatat),
	SC_OK(pread64),
	SC_OK(uname),
	/* dlopen() of an NSS module named in nsswitch.conf. */
	SC_OK(mmap), SC_OK(mprotect),
	SC_NO(bind), SC_NO(listen), SC_NO(clone), SC_NO(clone3),
	SC_NO(fork), SC_NO(vfork),
};

/* keyholder: answers sign requests on its channels, nothing else. */
static const struct sc_rule sc_keyholder[] = {
	SC_NO(open), SC_NO(openat), SC_NO(connect), SC_NO(bind),
	SC_NO(listen), SC_NO(clone), SC_NO(clone3), SC_NO(fork),
	SC_NO(vfork),
};

/*
 * pbsd: its datagram and control sockets, poll, the clock, writing the
 * Berkeley DB files in its directories (create, fsync, rename), syslog
 * reconnects (it is not chrooted).  Mirrors pbsd/pbsd_sandbox.c.
 */
static const struct sc_rule sc_pbsd[] = {
	SC_OK(accept4), SC_OK(recvfrom), SC_OK(recvmsg), SC_OK(sendmsg),
	SC_OK(sendto), SC_OK(shutdown), SC_OK(getsockopt),
	SC_OK(poll), SC_OK(ppoll), SC_OK(nanosleep), SC_OK(clock_nanosleep),
	SC_OK(sched_yield),
	SC_OK(open), SC_OK(openat), SC_OK(stat), SC_OK(lstat), SC_OK(statx),
	SC_OK(newfstatat), SC_OK(getdents64),
	SC_OK(pread64), SC_OK(pwrite64), SC_OK(ftruncate),
	SC_OK(fsync), SC_OK(fdatasync), SC_OK(flock), SC_OK(fcntl),
	SC_OK(chmod), SC_OK(fchmod), SC_OK(fchmodat),
	SC_OK(rename), SC_OK(renameat), SC_OK(renameat2),
	SC_OK(unlink), SC_OK(unlinkat),
	SC_OK(rt_sigaction),
	SC_OK(sysinfo), SC_OK(prlimit64), SC_OK(getrlimit),
	SC_OK(sched_getaffinity), SC_OK(uname),
	SC_OK1(socket, SC_CMP(0, SCMP_CMP_EQ, AF_UNIX, 0)),
	SC_OK(connect),
	SC_NO(bind), SC_NO(listen), SC_NO(clone), SC_NO(clone3),
	SC_NO(fork), SC_NO(vfork), SC_NO(setuid), SC_NO(setresuid),
};

/*
 * parent (the supervisor, since the spawner split): routes messages,
 * reaps and signals its children (all of them its own user once
 * sandboxed), makes keyholder channels, asks the spawner for children and
 * configurations, sends pbsd its datagrams (sendto a path: hence no
 * chroot) and rotates the ticket keys.  Never forks, executes, opens a
 * file, binds or connects.
 */
static const struct sc_rule sc_parent[] = {
	SC_OK(wait4), SC_OK(waitid), SC_OK(kill),
	SC_OK1(socketpair, SC_CMP(0, SCMP_CMP_EQ, AF_UNIX, 0)),
	SC_OK(sendto),				/* pbsd's socket path */
	SC_OK(poll), SC_OK(ppoll),		/* the spawner's reply */
	SC_OK(pread64),				/* the configuration memfd */
	SC_OK(nanosleep), SC_OK(clock_nanosleep),	/* respawn delay */
	/*
	 * config_defaults() on reload: sysconf(_SC_NPROCESSORS_ONLN) tries
	 * /sys/devices/system/cpu/online and /proc/stat, then falls back
	 * to sched_getaffinity.  Opening fails softly; nothing is opened.
	 */
	SC_ROW(open, SC_EACCES), SC_ROW(openat, SC_EACCES),
	SC_OK(sched_getaffinity),
	SC_NO(connect), SC_NO(bind),
	SC_NO(listen), SC_NO(accept4), SC_NO(clone), SC_NO(clone3),
	SC_NO(fork), SC_NO(vfork), SC_NO(chroot), SC_NO(setuid),
	SC_NO(setresuid), SC_NO(setgid), SC_NO(setresgid),
	SC_NO(setgroups), SC_NO(capset), SC_NO(mount), SC_NO(memfd_create),
	SC_NO(prctl), SC_NO(seccomp),
};

/* pbsd's nft helper: netlink requests on its open socket, its channel. */
static const struct sc_rule sc_nft[] = {
	SC_OK(recvfrom), SC_OK(recvmsg), SC_OK(sendto), SC_OK(sendmsg),
	SC_NO(open), SC_NO(openat), SC_NO(connect), SC_NO(bind),
	SC_NO(listen), SC_NO(clone), SC_NO(clone3), SC_NO(fork),
	SC_NO(vfork),
};

#if defined(__SANITIZE_ADDRESS__)
/* make SAN=1: what the ASan/UBSan runtime calls on its own. */
static const struct sc_rule sc_san[] = {
	SC_OK(sigaltstack),
};
#define SC_SAN_TAB	SC_TAB(sc_san)
#else
#define SC_SAN_TAB	{ .st_rules = NULL, .st_n = 0 }
#endif

static const struct sc_profile sc_profiles[SB_ROLE_MAX] = {
	[SB_SPAWNER] = { .sp_name = NULL },
	[SB_LOOKUP] = { "lookup", { SC_TAB(sc_base), SC_TAB(sc_nounix),
	    SC_TAB(sc_ipc), SC_TAB(sc_lookup), SC_SAN_TAB } },
	[SB_DIALER] = { "dialer", { SC_TAB(sc_base), SC_TAB(sc_nounix),
	    SC_TAB(sc_ipc), SC_TAB(sc_dialer), SC_SAN_TAB } },
	[SB_WORKER] = { "worker", { SC_TAB(sc_base), SC_TAB(sc_nounix),
	    SC_TAB(sc_ipc), SC_TAB(sc_worker), SC_SAN_TAB } },
	[SB_KEYHOLDER] = { "keyholder", { SC_TAB(sc_base), SC_TAB(sc_nounix),
	    SC_TAB(sc_ipc), SC_TAB(sc_keyholder), SC_SAN_TAB } },
	[SB_PBSD] = { "pbsd", { SC_TAB(sc_base), SC_TAB(sc_pbsd),
	    SC_SAN_TAB } },
	[SB_NFT] = { "nft", { SC_TAB(sc_base), SC_TAB(sc_nounix),
	    SC_TAB(sc_nft), SC_SAN_TAB } },
	[SB_SUPERVISOR] = { "parent", { SC_TAB(sc_base), SC_TAB(sc_nounix),
	    SC_TAB(sc_ipc), SC_TAB(sc_parent), SC_SAN_TAB } },
};

const struct sc_profile *
seccomp_profile(enum sandbox_role role)
{
	if ((unsigned)role >= SB_ROLE_MAX ||
	    sc_profiles[role].sp_name == NULL) {
		return NULL;
	}
	return &sc_profiles[role];
}

static uint32_t
seccomp_action(enum sc_action act)
{
	switch (act) {
	case SC_ALLOW:
		return SCMP_ACT_ALLOW;
	case SC_EACCES:
		return SCMP_ACT_ERRNO(EACCES);
	case SC_KILL:
	default:
		return SCMP_ACT_KILL_PROCESS;
	}
}

static int
seccomp_add_row(scmp_filter_ctx ctx, const struct sc_rule *r, pid_t pid,
    const char **errstr_r)
{
	static char		errbuf[96];
	struct scmp_arg_cmp	args[2];
	unsigned		i;
	int			rc;

	if (r->sr_act == SC_KILL) {
		return 0;		/* the default action already */
	}
	if (r->sr_nr < 0) {
		return 0;		/* no such call on this architecture */
	}
	for (i = 0; i < r->sr_nargs && i < 2; i++) {
		args[i] = r->sr_args[i];
	}
	if (r->sr_flags & SC_F_SELF_A0) {
		args[0].datum_a = (scmp_datum_t)pid;
	}
	rc = seccomp_rule_add_array(ctx, seccomp_action(r->sr_act),
	    r->sr_nr, r->sr_nargs, args);
	if (rc < 0) {
		snprintf(errbuf, sizeof(errbuf), "seccomp rule %s: %s",
		    r->sr_name, strerror(-rc));
		*errstr_r = errbuf;
		return -1;
	}
	return 0;
}

int
seccomp_build(const struct sc_profile *p, uint32_t defact, pid_t pid,
    scmp_filter_ctx *ctx_r, const char **errstr_r)
{
	scmp_filter_ctx	ctx;
	size_t		t, i;

	if ((ctx = seccomp_init(defact)) == NULL) {
		*errstr_r = "seccomp_init failed";
		return -1;
	}
	for (t = 0; t < SC_MAX_TABLES; t++) {
		for (i = 0; i < p->sp_tables[t].st_n; i++) {
			if (seccomp_add_row(ctx, &p->sp_tables[t].st_rules[i],
			    pid, errstr_r) == -1) {
				seccomp_release(ctx);
				return -1;
			}
		}
	}
	*ctx_r = ctx;
	return 0;
}

int
seccomp_allows(const struct sc_profile *p, const char *name,
    int *conditional_r)
{
	const struct sc_rule	*r;
	size_t			 t, i;
	int			 found = 0;

	*conditional_r = 1;
	for (t = 0; t < SC_MAX_TABLES; t++) {
		for (i = 0; i < p->sp_tables[t].st_n; i++) {
			r = &p->sp_tables[t].st_rules[i];
			if (r->sr_act != SC_ALLOW ||
			    strcmp(r->sr_name, name) != 0) {
				continue;
			}
			found = 1;
			if (r->sr_nargs == 0) {
				*conditional_r = 0;
			}
		}
	}
	return found;
}
