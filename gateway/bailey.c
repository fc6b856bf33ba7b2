/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * bailey: main() for every role, and the parent.  The parent starts as
 * root, reads the configuration, binds the listeners, and re-executes
 * itself once per child role (lookup, dialer, workers).  It never reads a
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
	    "  -v       more verbose logging (repeatable)\n", BAILEY_CONF);
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
	if (role != ROLE_PARENT) {
		child_start(role, index, slot, debug, verbose);
	}
	return parent_main(conffile, debug, noaction, verbose);
}
