/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * init: PID 1 of the Bailey appliance.  Runs as root with every
 * capability for the life of the machine; trusts the kernel and the
 * initramfs it came in, treats the config disk as administrator input
 * that may be missing or broken, and the serial console as physical
 * access.  It sets the system up (init_sys.c), loads the firewall
 * (init_nft.c), checks the configuration with "bailey -n", then starts
 * pbsd and bailey, restarts them with back-off when they die, reaps
 * orphans, and stops everything cleanly on "poweroff" (console), SIGTERM,
 * SIGINT (Ctrl-Alt-Del) or SIGPWR.  With a missing or invalid
 * configuration it says so on the console and serves nothing.
 */
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

#define INIT_BAILEY		"/sbin/bailey"
#define INIT_PBSD		"/sbin/pbsd"
#define INIT_BAILEY_CONF	INIT_CONF_DIR "/bailey.conf"
#define INIT_PBSD_CONF		INIT_CONF_DIR "/pbsd.conf"
#define INIT_APPLIANCE_CONF	INIT_CONF_DIR "/appliance.conf"
#define INIT_BACKOFF_MIN_MS	500
#define INIT_BACKOFF_MAX_MS	30000
#define INIT_STABLE_MS		60000	/* a run this long resets back-off */
#define INIT_STOP_GRACE_MS	5000
#define INIT_READY_WARN_MS	20000
#define INIT_CONSOLE_LINE	128

struct init_svc {
	const char	*s_name;
	const char	*s_path;
	const char	*s_conf;
	pid_t		 s_pid;
	int		 s_enabled;
	unsigned int	 s_restarts;
	long		 s_backoff_ms;
	long long	 s_started_ms;
	long long	 s_next_ms;	/* restart due; 0 = none */
	int		 s_out[2];	/* its stdout/stderr, relayed by init */
};

struct init_state {
	struct init_svc	 i_svc[2];
	struct image_conf i_conf;
	int		 i_serving;	/* config valid, services wanted */
	int		 i_sigfd;
	int		 i_stopping;
	long long	 i_ready_since;	/* probe start; 0 = not probing */
	int		 i_ready_warned;
	unsigned int	 i_ready_count;
	char		 i_line[INIT_CONSOLE_LINE];
	size_t		 i_linelen;
	int		 i_line_overflow;
#ifdef IMAGE_DEBUG
	pid_t		 i_shell;
	pid_t		 i_tool;	/* pbsctl list/stats, nft list */
#endif
};

static long long	init_now_ms(void);
static void		init_console(void);
static int		init_check_bailey(void);
static void		init_configure(struct init_state *);
static void		init_svc_pipe(struct init_svc *);
static void		init_svc_relay(struct init_svc *);
static void		init_svc_start(struct init_svc *);
static void		init_svc_exited(struct init_state *, pid_t, int);
static void		init_reap(struct init_state *);
static void		init_restart_due(struct init_state *);
static void		init_ready_probe(struct init_state *);
static int		init_port_answers(uint32_t, uint16_t);
static void		init_console_input(struct init_state *);
static void		init_command(struct init_state *, const char *);
#ifdef IMAGE_DEBUG
static void		init_debug_tool(struct init_state *, const char *,
			    char *const []);
#endif
static void		init_shutdown(struct init_state *);
static void		init_signal(struct init_state *, uint32_t);
static int		init_poll_timeout(const struct init_state *);
static void		init_loop(struct init_state *);

void
init_log(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dprintf(STDOUT_FILENO, INIT_TAG "[%.3f] %s\n", init_sys_uptime(), msg);
}

static long long
init_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* devtmpfs first, so /dev/console exists even if the archive lacks it. */
static void
init_console(void)
{
	int fd;

	(void)mkdir("/dev", 0755);
	(void)mount("dev", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC,
	    "mode=0755");
	if ((fd = open("/dev/console", O_RDWR | O_NOCTTY)) == -1) {
		return;
	}
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO) {
		close(fd);
	}
}

/* In a just-forked service or tool: its own session, no blocked
 * signals (init blocks the ones it reads through signalfd), stdin from
 * /dev/null. */
static void
init_child_begin(void)
{
	sigset_t none;
	int fd;

	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
}

/* Runs "bailey -n -f conf"; its own messages go to the console. */
static int
init_check_bailey(void)
{
	char *const argv[] = { "bailey", "-n", "-f", INIT_BAILEY_CONF, NULL };
	char *const envp[] = { "PATH=/sbin", NULL };
	sigset_t none;
	pid_t pid;
	int status;

	if ((pid = fork()) == -1) {
		return -1;
	}
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(INIT_BAILEY, argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			return -1;
		}
	}
	return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : -1;
}

/*
 * Config disk, appliance.conf, firewall, network, bailey -n.  Any failure
 * leaves the deny-all ruleset, no network and no service.
 */
static void
init_configure(struct init_state *st)
{
	const char *err = NULL;
	struct stat sb;

	if (init_sys_config_disk(&err) == -1) {
		goto fail;
	}
	if (init_sys_read_conf(INIT_APPLIANCE_CONF, &st->i_conf,
	    &err) == -1) {
		err = "appliance.conf is missing or invalid";
		goto fail;
	}
	if (stat(INIT_BAILEY_CONF, &sb) == -1) {
		err = "bailey.conf is missing";
		goto fail;
	}
	if (init_check_bailey() == -1) {
		err = "bailey.conf is invalid (bailey -n failed)";
		goto fail;
	}
	if (init_nft_load(&st->i_conf, &err) == -1) {
		goto fail;
	}
	if (init_sys_network(&st->i_conf, &err) == -1) {
		goto fail;
	}
	st->i_serving = 1;
	st->i_svc[1].s_enabled = 1;
	st->i_svc[0].s_enabled = stat(INIT_PBSD, &sb) == 0 &&
	    stat(INIT_PBSD_CONF, &sb) == 0;
	if (!st->i_svc[0].s_enabled) {
		init_log("pbsd: not in the image or no pbsd.conf; "
		    "not started");
	}
	return;
fail:
	init_log("CONFIG ERROR: %s", err != NULL ? err : "unknown");
	init_log("CONFIG ERROR: serving nothing; fix the config disk and "
	    "reboot (type \"poweroff\" to stop)");
	if (init_nft_load(NULL, &err) == -1) {
		init_log("firewall: %s", err);
	}
}

/*
 * Services write to a pipe, not to the console: glibc's stdio probes a
 * character device with ioctl(TCGETS), which a seccomp allow-list may
 * (rightly) not permit.  The read end is non-blocking; init keeps the
 * write end, so the pipe outlives restarts.
 */
static void
init_svc_pipe(struct init_svc *s)
{
	s->s_out[0] = s->s_out[1] = -1;
	if (pipe2(s->s_out, O_CLOEXEC) == -1) {
		init_log("%s: pipe: %s", s->s_name, strerror(errno));
		s->s_out[0] = s->s_out[1] = -1;
		return;
	}
	(void)fcntl(s->s_out[0], F_SETFL, O_NONBLOCK);
}

static void
init_svc_relay(struct init_svc *s)
{
	char chunk[2048];
	ssize_t n;

	while ((n = read(s->s_out[0], chunk, sizeof(chunk))) > 0) {
		if (write(STDOUT_FILENO, chunk, (size_t)n) != n) {
			return;
		}
	}
}

static void
init_svc_start(struct init_svc *s)
{
	char name[16], conf[64];
	char *const argv[] = { name, "-d", "-f", conf, NULL };
#ifdef IMAGE_DEBUG
	/* Sandbox violations are reported by name instead of killed. */
	char *const envp[] = { "PATH=/sbin", "PBSD_DEBUG_SANDBOX=1", NULL };
#else
	char *const envp[] = { "PATH=/sbin", NULL };
#endif
	pid_t pid;

	snprintf(name, sizeof(name), "%s", s->s_name);
	snprintf(conf, sizeof(conf), "%s", s->s_conf);

	s->s_next_ms = 0;
	if ((pid = fork()) == -1) {
		init_log("%s: fork: %s", s->s_name, strerror(errno));
		s->s_next_ms = init_now_ms() + s->s_backoff_ms;
		return;
	}
	if (pid == 0) {
		init_child_begin();
		if (s->s_out[1] != -1) {
			dup2(s->s_out[1], STDOUT_FILENO);
			dup2(s->s_out[1], STDERR_FILENO);
		}
		execve(s->s_path, argv, envp);
		_exit(127);
	}
	s->s_pid = pid;
	s->s_started_ms = init_now_ms();
	init_log("started %s (pid %d)", s->s_name, (int)pid);
}

static void
init_svc_exited(struct init_state *st, pid_t pid, int status)
{
	struct init_svc *s;
	size_t i;
	long long ran;

	for (i = 0; i < 2; i++) {
		s = &st->i_svc[i];
		if (s->s_pid != pid) {
			continue;
		}
		s->s_pid = 0;
		/* The whole process group: stray children hold listeners. */
		(void)kill(-pid, SIGKILL);
		if (st->i_stopping) {
			return;
		}
		ran = init_now_ms() - s->s_started_ms;
		if (ran >= INIT_STABLE_MS) {
			s->s_backoff_ms = INIT_BACKOFF_MIN_MS;
		}
		s->s_restarts++;
		init_log("%s exited (%s %d); restart %u in %ld ms", s->s_name,
		    WIFSIGNALED(status) ? "signal" : "status",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status), s->s_restarts, s->s_backoff_ms);
		s->s_next_ms = init_now_ms() + s->s_backoff_ms;
		s->s_backoff_ms *= 2;
		if (s->s_backoff_ms > INIT_BACKOFF_MAX_MS) {
			s->s_backoff_ms = INIT_BACKOFF_MAX_MS;
		}
		return;
	}
}

/* Services and every orphan the kernel hands to PID 1. */
static void
init_reap(struct init_state *st)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
#ifdef IMAGE_DEBUG
		if (pid == st->i_shell) {
			st->i_shell = 0;
			init_log("debug shell exited");
		}
		if (pid == st->i_tool) {
			st->i_tool = 0;
			init_log("debug: tool done (status %d)",
			    WIFEXITED(status) ? WEXITSTATUS(status) : 128 +
			    WTERMSIG(status));
		}
#endif
		init_svc_exited(st, pid, status);
	}
}

static void
init_restart_due(struct init_state *st)
{
	long long now = init_now_ms();
	size_t i;

	for (i = 0; i < 2; i++) {
		if (st->i_svc[i].s_next_ms != 0 &&
		    st->i_svc[i].s_next_ms <= now && !st->i_stopping) {
			init_svc_start(&st->i_svc[i]);
			if (i == 1) {
				st->i_ready_since = now;
				st->i_ready_warned = 0;
			}
		}
	}
}

/* The guest's own address: reaches listeners on it and on 0.0.0.0. */
static int
init_port_answers(uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin;
	int s, rv;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		return 0;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = addr;
	rv = connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(s);
	return rv;
}

/* Ready once every allow-in port accepts on loopback. */
static void
init_ready_probe(struct init_state *st)
{
	size_t i;

	if (st->i_ready_since == 0 || st->i_svc[1].s_pid == 0) {
		return;
	}
	for (i = 0; i < st->i_conf.ic_nin; i++) {
		if (!init_port_answers(st->i_conf.ic_addr,
		    st->i_conf.ic_in[i])) {
			break;
		}
	}
	if (i == st->i_conf.ic_nin) {
		st->i_ready_count++;
		init_log("READY %u: bailey serving on %zu port(s)",
		    st->i_ready_count, st->i_conf.ic_nin);
		st->i_ready_since = 0;
		return;
	}
	if (!st->i_ready_warned &&
	    init_now_ms() - st->i_ready_since > INIT_READY_WARN_MS) {
		init_log("warning: port %u does not answer yet",
		    (unsigned int)st->i_conf.ic_in[i]);
		st->i_ready_warned = 1;
	}
}

#ifdef IMAGE_DEBUG
/*
 * A read-only look at the services' state for the tests: the tool writes
 * straight to the console; its end is logged by init_reap ("tool done").
 * One at a time.
 */
static void
init_debug_tool(struct init_state *st, const char *path, char *const argv[])
{
	char *const envp[] = { "PATH=/sbin", NULL };

	if (st->i_tool > 0) {
		init_log("debug: a tool is still running (pid %d)",
		    (int)st->i_tool);
		return;
	}
	init_log("debug: running %s", path);
	if ((st->i_tool = fork()) == -1) {
		init_log("debug: fork: %s", strerror(errno));
		st->i_tool = 0;
		return;
	}
	if (st->i_tool == 0) {
		init_child_begin();
		execve(path, argv, envp);
		_exit(127);
	}
}
#endif

static void
init_command(struct init_state *st, const char *cmd)
{
	if (strcmp(cmd, "poweroff") == 0) {
		init_shutdown(st);
	}
#ifdef IMAGE_DEBUG
	if (strcmp(cmd, "kill bailey") == 0 && st->i_svc[1].s_pid > 0) {
		init_log("debug: killing bailey (pid %d)",
		    (int)st->i_svc[1].s_pid);
		(void)kill(st->i_svc[1].s_pid, SIGKILL);
	} else if (strcmp(cmd, "kill pbsd") == 0 && st->i_svc[0].s_pid > 0) {
		(void)kill(st->i_svc[0].s_pid, SIGKILL);
	} else if (strcmp(cmd, "status") == 0) {
		init_log("debug: pbsd pid %d restarts %u, bailey pid %d "
		    "restarts %u", (int)st->i_svc[0].s_pid,
		    st->i_svc[0].s_restarts, (int)st->i_svc[1].s_pid,
		    st->i_svc[1].s_restarts);
	} else if (strcmp(cmd, "pbsctl list") == 0 ||
	    strcmp(cmd, "pbsctl stats") == 0) {
		char *const argv[] = { "pbsctl", "-f", INIT_PBSD_CONF,
		    cmd[7] == 'l' ? "list" : "stats", NULL };

		init_debug_tool(st, "/sbin/pbsctl", argv);
	} else if (strcmp(cmd, "nft list") == 0) {
		char *const argv[] = { "nft", "list", "table", "inet",
		    "bailey_image", NULL };

		init_debug_tool(st, "/sbin/nft", argv);
	} else if (strcmp(cmd, "sh") == 0 && st->i_shell == 0) {
		char *const argv[] = { "sh", NULL };
		char *const envp[] = { "PATH=/bin:/sbin", NULL };
		sigset_t none;

		if ((st->i_shell = fork()) == 0) {
			setsid();
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			execve("/bin/busybox", argv, envp);
			_exit(127);
		}
	}
#endif
}

/* One line from the console; over-long lines are dropped whole. */
static void
init_console_input(struct init_state *st)
{
	char c;
	ssize_t n;

	if ((n = read(STDIN_FILENO, &c, 1)) <= 0) {
		return;
	}
	if (c == '\r' || c == '\n') {
		st->i_line[st->i_linelen] = '\0';
		if (!st->i_line_overflow && st->i_linelen > 0) {
			init_command(st, st->i_line);
		}
		st->i_linelen = 0;
		st->i_line_overflow = 0;
		return;
	}
	if (st->i_linelen + 1 >= sizeof(st->i_line)) {
		st->i_line_overflow = 1;
		return;
	}
	st->i_line[st->i_linelen++] = c;
}

static void
init_shutdown(struct init_state *st)
{
	long long deadline;
	size_t i;

	init_log("stopping services");
	st->i_stopping = 1;
	for (i = 0; i < 2; i++) {
		if (st->i_svc[i].s_pid > 0) {
			(void)kill(-st->i_svc[i].s_pid, SIGTERM);
			(void)kill(st->i_svc[i].s_pid, SIGTERM);
		}
	}
	deadline = init_now_ms() + INIT_STOP_GRACE_MS;
	while ((st->i_svc[0].s_pid > 0 || st->i_svc[1].s_pid > 0) &&
	    init_now_ms() < deadline) {
		init_reap(st);
		init_svc_relay(&st->i_svc[0]);
		init_svc_relay(&st->i_svc[1]);
		(void)poll(NULL, 0, 50);
	}
	for (i = 0; i < 2; i++) {
		if (st->i_svc[i].s_pid > 0) {
			init_log("%s did not stop; killing it",
			    st->i_svc[i].s_name);
			(void)kill(-st->i_svc[i].s_pid, SIGKILL);
			(void)kill(st->i_svc[i].s_pid, SIGKILL);
		}
	}
	(void)kill(-1, SIGKILL);
	init_sys_config_disk_release();
	init_log("power off");
	reboot(RB_POWER_OFF);
	for (;;) {
		pause();
	}
}

/* SIGCHLD is handled by the reaper; SIGHUP is passed on (reload). */
static void
init_signal(struct init_state *st, uint32_t signo)
{
	size_t i;

	if (signo == SIGCHLD) {
		return;
	}
	if (signo == SIGHUP) {
		for (i = 0; i < 2; i++) {
			if (st->i_svc[i].s_pid > 0) {
				(void)kill(st->i_svc[i].s_pid, SIGHUP);
			}
		}
		return;
	}
	init_log("signal %u", (unsigned int)signo);
	init_shutdown(st);
}

static int
init_poll_timeout(const struct init_state *st)
{
	long long now = init_now_ms(), t = -1, d;
	size_t i;

	for (i = 0; i < 2; i++) {
		if (st->i_svc[i].s_next_ms != 0) {
			d = st->i_svc[i].s_next_ms - now;
			if (d < 0) {
				d = 0;
			}
			if (t < 0 || d < t) {
				t = d;
			}
		}
	}
	if (st->i_ready_since != 0 && (t < 0 || t > 50)) {
		t = 50;
	}
	return (int)t;
}

static void
init_loop(struct init_state *st)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[4];
	int console = 1;

	for (;;) {
		pfd[0].fd = st->i_sigfd;
		pfd[1].fd = st->i_svc[0].s_out[0];
		pfd[2].fd = st->i_svc[1].s_out[0];
		pfd[3].fd = console ? STDIN_FILENO : -1;
#ifdef IMAGE_DEBUG
		if (st->i_shell > 0) {
			pfd[3].fd = -1;
		}
#endif
		pfd[0].events = pfd[1].events = pfd[2].events =
		    pfd[3].events = POLLIN;
		if (poll(pfd, 4, init_poll_timeout(st)) > 0) {
			if ((pfd[0].revents & POLLIN) && read(st->i_sigfd, &si,
			    sizeof(si)) == (ssize_t)sizeof(si)) {
				init_signal(st, si.ssi_signo);
			}
			init_svc_relay(&st->i_svc[0]);
			init_svc_relay(&st->i_svc[1]);
			if (pfd[3].revents & POLLIN) {
				init_console_input(st);
			} else if (pfd[3].revents & (POLLHUP | POLLERR |
			    POLLNVAL)) {
				console = 0;
			}
		}
		init_reap(st);
		init_restart_due(st);
		init_ready_probe(st);
	}
}

int
main(void)
{
	static struct init_state st;
	sigset_t set;

	if (getpid() != 1) {
		fprintf(stderr, "init: must run as PID 1\n");
		return 1;
	}
	init_console();
	init_log("Bailey appliance init starting");
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPWR);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	st.i_sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	reboot(RB_DISABLE_CAD);
	umask(022);
	st.i_svc[0] = (struct init_svc){ .s_name = "pbsd",
	    .s_path = INIT_PBSD, .s_conf = INIT_PBSD_CONF,
	    .s_backoff_ms = INIT_BACKOFF_MIN_MS };
	st.i_svc[1] = (struct init_svc){ .s_name = "bailey",
	    .s_path = INIT_BAILEY, .s_conf = INIT_BAILEY_CONF,
	    .s_backoff_ms = INIT_BACKOFF_MIN_MS };
	init_svc_pipe(&st.i_svc[0]);
	init_svc_pipe(&st.i_svc[1]);
	(void)init_sys_mounts();
	(void)init_sys_modules();
	init_sys_harden();
	init_configure(&st);
	(void)init_sys_modules_lock();
	if (st.i_serving) {
		if (st.i_svc[0].s_enabled) {
			init_svc_start(&st.i_svc[0]);
		}
		init_svc_start(&st.i_svc[1]);
		st.i_ready_since = init_now_ms();
	}
	init_loop(&st);
	return 0;
}
