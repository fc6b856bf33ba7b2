/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * bailey: main() for every role, and the parent.  The parent starts as
 * root, reads the configuration, binds the listeners, forks the root
 * spawner and drops to its own sandbox; the spawner re-executes bailey
 * once per child role (lookup, dialer, workers).  It never reads a
 * client byte: it only routes small typed messages (lookup -> dialer ->
 * worker, so a worker never chooses where it connects), supervises and
 * restarts children, reloads on SIGHUP and drains on SIGTERM.  It trusts
 * lookup and dialer; it trusts no worker.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bailey.h"
#include "ev.h"
#include "log.h"
#include "parent.h"
#include "sandbox.h"

struct bailey_conf	*bconf;
struct chan		 parent_chan = { .fd = -1 };

static const char *const role_names[ROLE_MAX] = {
	[ROLE_PARENT] = "parent",
	[ROLE_LOOKUP] = "lookup",
	[ROLE_DIALER] = "dialer",
	[ROLE_WORKER] = "worker",
	[ROLE_KEYHOLDER] = "keyholder",
};

_Static_assert(sizeof(role_names) / sizeof(role_names[0]) == ROLE_MAX,
    "role_names must name every role");

const char *
role_name(enum role r)
{
	return (unsigned)r < ROLE_MAX ? role_names[r] : "unknown";
}

enum role
role_from_name(const char *s)
{
	int	i;

	for (i = 0; i < ROLE_MAX; i++) {
		if (strcmp(s, role_names[i]) == 0) {
			return (enum role)i;
		}
	}
	return ROLE_MAX;
}

void
set_nonblock(int fd)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		fatal("fcntl O_NONBLOCK");
	}
}

int
sockaddr_fmt(const struct sockaddr *sa, char *addr, size_t addrsz,
    uint16_t *port_r)
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;

	switch (sa->sa_family) {
	case AF_INET:
		s4 = (const struct sockaddr_in *)(const void *)sa;
		*port_r = ntohs(s4->sin_port);
		return inet_ntop(AF_INET, &s4->sin_addr, addr,
		    (socklen_t)addrsz) ? 0 : -1;
	case AF_INET6:
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		*port_r = ntohs(s6->sin6_port);
		return inet_ntop(AF_INET6, &s6->sin6_addr, addr,
		    (socklen_t)addrsz) ? 0 : -1;
	default:
		snprintf(addr, addrsz, "unknown");
		*port_r = 0;
		return -1;
	}
}

int
sockaddr_parse(const char *addr, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *len_r)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;
	socklen_t		 len;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		len = sizeof(*s6);
	} else {
		return -1;
	}
	if (len_r != NULL) {
		*len_r = len;
	}
	return 0;
}

void
child_load_config(void)
{
	struct stat	 st;
	char		*text;
	ssize_t		 n;

	if (fstat(FD_CONFIG, &st) == -1) {
		fatal("config fd");
	}
	if (st.st_size < 0 || st.st_size > (1 << 20)) {
		fatalx("config fd: bad size");
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		fatal("malloc");
	}
	n = pread(FD_CONFIG, text, (size_t)st.st_size, 0);
	if (n != st.st_size) {
		fatal("config fd: read");
	}
	if ((bconf = calloc(1, sizeof(*bconf))) == NULL) {
		fatal("calloc");
	}
	config_defaults(bconf);
	if (config_parse(bconf, "bailey.conf", text, (size_t)n) == -1) {
		fatalx("configuration changed under us");
	}
	free(text);
	close(FD_CONFIG);
}

/* Directories of the map files: all that lookup may read (landlock). */
static size_t
child_map_dirs(char dirs[][PATH_MAX], size_t max)
{
	size_t	i, j, n = 0;
	char	*slash;

	for (i = 0; i < bconf->nmaps && n < max; i++) {
		snprintf(dirs[n], PATH_MAX, "%s", bconf->maps[i].path);
		if ((slash = strrchr(dirs[n], '/')) == NULL) {
			snprintf(dirs[n], PATH_MAX, ".");
		} else if (slash == dirs[n]) {
			slash[1] = '\0';
		} else {
			*slash = '\0';
		}
		for (j = 0; j < n && strcmp(dirs[j], dirs[n]) != 0; j++) {
			continue;
		}
		if (j == n) {
			n++;
		}
	}
	return n;
}

/*
 * Enters the role's sandbox (lib/sandbox.c) before the first untrusted
 * byte: stray fds closed, rlimits, chroot (worker, keyholder), the
 * unprivileged user, no capabilities, no_new_privs, the role's seccomp
 * allow-list.  Not root (development): all of it but user and chroot.
 */
void
child_sandbox(enum role role)
{
	static char		 dirs[SB_MAX_RO_PATHS][PATH_MAX];
	const char		*ro[SB_MAX_RO_PATHS];
	struct sandbox_opts	 o;
	int			 keep[3 + CONF_MAX_LISTENERS];
	size_t			 nkeep = 0, i, n;
	enum sandbox_role	 sr = SB_WORKER;

	if (bconf->sandbox == SANDBOX_OFF) {
		log_warnx("sandbox off: this %s runs unconfined",
		    role_name(role));
		return;
	}
	memset(&o, 0, sizeof(o));
	keep[nkeep++] = FD_PARENT;
	o.keep_syslog = 1;
	o.debug = bconf->sandbox == SANDBOX_DEBUG;
	if (getuid() == 0) {
		o.user = bconf->user;
	}
	switch (role) {
	case ROLE_WORKER:
		if (fcntl(FD_KEYHOLDER, F_GETFD) != -1) {
			keep[nkeep++] = FD_KEYHOLDER;
		}
		for (i = 0; i < bconf->nlisteners; i++) {
			keep[nkeep++] = FD_LISTEN_BASE + (int)i;
		}
		/* FALLTHROUGH */
	case ROLE_KEYHOLDER:
		sr = role == ROLE_WORKER ? SB_WORKER : SB_KEYHOLDER;
		if (getuid() == 0) {
			o.chroot_dir = bconf->chroot;
		}
		break;
	case ROLE_LOOKUP:
		sr = SB_LOOKUP;
		n = child_map_dirs(dirs, SB_MAX_RO_PATHS);
		for (i = 0; i < n; i++) {
			ro[i] = dirs[i];
		}
		o.ro_paths = ro;
		o.nro_paths = n;
		break;
	case ROLE_DIALER:
		sr = SB_DIALER;
		break;
	default:
		fatalx("child_sandbox: bad role");
	}
	o.keep_fds = keep;
	o.nkeep = nkeep;
	(void)sandbox_enter(sr, &o);
}

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: bailey [-dhnVv] [-f file]\n"
	    "  -d       stay in the foreground and log to stderr\n"
	    "  -f file  configuration file (default %s)\n"
	    "  -h       show this help\n"
	    "  -n       check the configuration, print \"configuration OK\"\n"
	    "  -V       print the version\n"
	    "  -v       more verbose logging (repeatable)\n"
	    "Every role but a small root spawner runs in a sandbox\n"
	    "(unprivileged user, chroot, no capabilities, seccomp): see\n"
	    "\"sandbox\" in bailey.conf(5).\n",
	    BAILEY_CONF);
	exit(status);
}

static void
child_start(enum role role, unsigned index, int slot, int debug,
    int verbose)
{
	char	name[32];

	if (role == ROLE_WORKER) {
		snprintf(name, sizeof(name), "worker %u", index);
	} else {
		snprintf(name, sizeof(name), "%s", role_name(role));
	}
	log_init("bailey", debug, !debug, LOG_LVL_INFO);
	log_procinit(name);
	chan_init(&parent_chan, FD_PARENT);
	set_nonblock(FD_PARENT);
	child_load_config();
	log_init("bailey", debug || bconf->log_stderr, bconf->log_syslog,
	    verbose > 0 ? LOG_LVL_DEBUG : bconf->log_level);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	switch (role) {
	case ROLE_LOOKUP:
		lookup_main();
	case ROLE_DIALER:
		dialer_main();
	case ROLE_WORKER:
		worker_main(index, slot);
	case ROLE_KEYHOLDER:
		keyholder_main();
	default:
		fatalx("bad role");
	}
}

int
main(int argc, char *argv[])
{
	const char	*conffile = BAILEY_CONF, *errstr;
	enum role	 role = ROLE_PARENT;
	unsigned	 index = 0;
	int		 ch, debug = 0, noaction = 0, verbose = 0, slot = -1;
	uint64_t	 v;

	while ((ch = getopt(argc, argv, "df:hI:nR:S:Vv")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			conffile = optarg;
			break;
		case 'h':
			usage(0);
		case 'I':
			if (parse_uint(optarg, 0, 1u << 20, &v, &errstr) == -1) {
				fatalx("-I %s: %s", optarg, errstr);
			}
			index = (unsigned)v;
			break;
		case 'n':
			noaction = 1;
			break;
		case 'R':
			if ((role = role_from_name(optarg)) == ROLE_MAX ||
			    role == ROLE_PARENT) {
				fatalx("unknown role %s", optarg);
			}
			break;
		case 'S':
			if (parse_uint(optarg, 0, 255, &v, &errstr) == -1) {
				fatalx("-S %s: %s", optarg, errstr);
			}
			slot = (int)v;
			break;
		case 'V':
			printf("bailey %s\n", BAILEY_VERSION);
			return 0;
		case 'v':
			verbose++;
			break;
		default:
			usage(1);
		}
	}
	if (optind != argc) {
		usage(1);
	}
#ifdef BAILEY_TESTHOOKS
	if (role == ROLE_PARENT) {
		fprintf(stderr, "bailey: TEST BUILD with test hooks "
		    "(gateway/testhooks.c): never run it in production\n");
	}
#endif
	if (role != ROLE_PARENT) {
		child_start(role, index, slot, debug, verbose);
	}
	return parent_main(conffile, debug, noaction, verbose);
}
