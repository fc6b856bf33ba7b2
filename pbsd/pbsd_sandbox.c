/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_sandbox: libseccomp allow-list for pbsd (chrony-style table).  Runs
 * in pbsd after setresuid() and no_new_privs, so it needs no privilege.
 * pbsd needs: its sockets (recvmsg/accept4/read/send), poll, the clock,
 * file creation, fsync and rename in its output directories, Berkeley DB
 * (pread/pwrite/fcntl/ftruncate), memory management and logging.  No
 * socket(), connect(), execve(), setuid() or ptrace.
 */
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "log.h"
#include "pbsd_remote.h"
#include "pbsd_sandbox.h"

static const int pbsd_sandbox_allow[] = {
	SCMP_SYS(accept4), SCMP_SYS(brk), SCMP_SYS(chmod),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(close),
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(fchmod),
	SCMP_SYS(fchmodat), SCMP_SYS(fcntl), SCMP_SYS(fdatasync),
	SCMP_SYS(flock), SCMP_SYS(fstat), SCMP_SYS(fsync),
	SCMP_SYS(ftruncate), SCMP_SYS(futex), SCMP_SYS(getdents64),
	SCMP_SYS(getpid), SCMP_SYS(getrandom), SCMP_SYS(getsockopt),
	SCMP_SYS(gettid), SCMP_SYS(gettimeofday), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(lseek), SCMP_SYS(madvise), SCMP_SYS(mmap),
	SCMP_SYS(mprotect), SCMP_SYS(mremap), SCMP_SYS(munmap),
	SCMP_SYS(nanosleep), SCMP_SYS(newfstatat), SCMP_SYS(open),
	SCMP_SYS(openat), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(read),
	SCMP_SYS(readv), SCMP_SYS(recvfrom), SCMP_SYS(recvmsg),
	SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2),
	SCMP_SYS(restart_syscall), SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(sched_yield), SCMP_SYS(sendmsg), SCMP_SYS(sendto),
	SCMP_SYS(shutdown), SCMP_SYS(stat), SCMP_SYS(statx),
	SCMP_SYS(sysinfo), SCMP_SYS(prlimit64), SCMP_SYS(getrlimit),
	SCMP_SYS(sched_getaffinity),
	SCMP_SYS(lstat), SCMP_SYS(uname), SCMP_SYS(unlink),
	SCMP_SYS(unlinkat), SCMP_SYS(write), SCMP_SYS(writev),
};

/*
 * --- logtail (issue 6, pbsd_logtail.c) ---------------------------------
 * Following another gateway's log file needs open/openat (O_RDONLY),
 * fstat, stat/newfstatat/statx, read, pread64 (copytruncate check), lseek
 * and close, all in the list above already; rotation re-opens the path
 * under this same filter, as pbsd's user.  Nothing is added here on
 * purpose: no inotify (the files are polled from the main loop).
 * --- end logtail ---------------------------------------------------------
 */

/* --- remote gateways (issue 6, pbsd_remote.c) ----------------------------
 * The listener and forwarder sockets and their epoll instance are made
 * before the filter; afterwards pbsd only needs epoll_ctl (accepted TCP
 * connections) and epoll_wait/epoll_pwait (glibc may use either).  A TCP
 * forward reconnects after the central pbsd went away: only then is
 * socket(AF_INET or AF_INET6, SOCK_STREAM) allowed (connect already is).
 */
static const int pbsd_sandbox_remote_allow[] = {
	SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
};

static int
pbsd_sandbox_remote(scmp_filter_ctx ctx)
{
	size_t	i;
	int	rc, fam[2] = { AF_INET, AF_INET6 };

	for (i = 0; i < sizeof(pbsd_sandbox_remote_allow) /
	    sizeof(pbsd_sandbox_remote_allow[0]); i++) {
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    pbsd_sandbox_remote_allow[i], 0)) < 0) {
			return rc;
		}
	}
	if (!pbsd_remote_needs_inet_socket()) {
		return 0;
	}
	for (i = 0; i < 2; i++) {
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(socket), 2, SCMP_A0(SCMP_CMP_EQ,
		    (scmp_datum_t)fam[i]), SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf,
		    SOCK_STREAM))) < 0) {
			return rc;
		}
	}
	return 0;
}
/* --- end remote gateways ------------------------------------------------ */

/* --- tty (issue 6, pbsd started by hand) ---------------------------------
 * With stderr on a terminal, a C library may ask isatty() before it
 * buffers log output: ioctl(fd, TCGETS) and nothing else.  Any other ioctl
 * request still kills pbsd.
 */
static int
pbsd_sandbox_tty(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)TCGETS));
}
/* --- end tty ------------------------------------------------------------ */

static void
pbsd_sandbox_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char	msg[64];
	int	n, nr = si->si_syscall;

	(void)sig;
	(void)ctx;
	memcpy(msg, "pbsd: sandbox: forbidden syscall ", 33);
	n = 33;
	if (nr < 0) {
		nr = 0;
	}
	if (nr >= 100) {
		msg[n++] = (char)('0' + nr / 100 % 10);
	}
	if (nr >= 10) {
		msg[n++] = (char)('0' + nr / 10 % 10);
	}
	msg[n++] = (char)('0' + nr % 10);
	msg[n++] = '\n';
	if (write(STDERR_FILENO, msg, (size_t)n) < 0) {
		_exit(98);
	}
	_exit(99);
}

void
pbsd_sandbox_enter(void)
{
	struct sigaction	 sa;
	scmp_filter_ctx		 ctx;
	const char		*dbg = getenv("PBSD_DEBUG_SANDBOX");
	uint32_t		 def = SCMP_ACT_KILL_PROCESS;
	size_t			 i;
	int			 rc;

	if (dbg != NULL && strcmp(dbg, "1") == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = pbsd_sandbox_sigsys;
		sa.sa_flags = SA_SIGINFO;
		if (sigaction(SIGSYS, &sa, NULL) == -1) {
			fatal("sigaction SIGSYS");
		}
		def = SCMP_ACT_TRAP;
	}
	if ((ctx = seccomp_init(def)) == NULL) {
		fatalx("seccomp_init failed");
	}
	for (i = 0; i < sizeof(pbsd_sandbox_allow) /
	    sizeof(pbsd_sandbox_allow[0]); i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    pbsd_sandbox_allow[i], 0);
		if (rc < 0) {
			seccomp_release(ctx);
			fatalx("seccomp_rule_add: %s", strerror(-rc));
		}
	}
	/* syslog(3) reconnects to /dev/log after a syslogd restart. */
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(connect),
	    0)) < 0) {
		seccomp_release(ctx);
		fatalx("seccomp_rule_add: %s", strerror(-rc));
	}
	if ((rc = pbsd_sandbox_remote(ctx)) < 0) {
		seccomp_release(ctx);
		fatalx("seccomp_rule_add: %s", strerror(-rc));
	}
	if ((rc = pbsd_sandbox_tty(ctx)) < 0) {
		seccomp_release(ctx);
		fatalx("seccomp_rule_add: %s", strerror(-rc));
	}
#if defined(__SANITIZE_ADDRESS__)
	/* make SAN=1: LeakSanitizer's exit-time check needs clone, ptrace
	 * and /proc, which the filter forbids (pbsd would die of SIGSYS at
	 * exit).  Check now; the exit check is then skipped, as in
	 * lib/sandbox.c. */
	__lsan_do_leak_check();
#endif
	if ((rc = seccomp_load(ctx)) < 0) {
		seccomp_release(ctx);
		fatalx("seccomp_load: %s", strerror(-rc));
	}
	seccomp_release(ctx);
}
