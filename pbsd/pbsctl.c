/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsctl: the operator's tool for a running pbsd.  Runs as root (or as
 * pbsd's user) from the command line; connects to pbsd's control socket,
 * sends one request line and prints the reply.  Trusts pbsd's reply only
 * as text to print.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "pbsd_conf.h"
#include "pbsd_ctl.h"

static void
usage(void)
{
	fprintf(stderr, "usage: pbsctl [-f file] [-s socket] list | stats | "
	    "flush | add address [seconds] | del address\n");
	exit(2);
}

static int
pbsctl_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fatalx("socket path too long");
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fatal("socket");
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fatal("connect %s", path);
	}
	return fd;
}

static int
pbsctl_request(int fd, const struct buf *req)
{
	struct span	s = buf_span(req);
	size_t		off = 0;
	ssize_t		n;

	while (off < s.len) {
		n = write(fd, span_sub(s, off, s.len - off).p, s.len - off);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Prints the reply without its "ok" line; returns the exit status. */
static int
pbsctl_reply(int fd)
{
	struct buf	 b;
	struct span	 s, first;
	long		 lf;
	int		 rv = 1;

	buf_init(&b, PBSD_CTL_MAX_REPLY);
	if (buf_read_all(&b, fd, 65536) == -1) {
		if (errno == EFBIG) {
			fatalx("reply too long");
		}
		fatal("read");
	}
	s = buf_span(&b);
	if ((lf = span_find(s, 0, '\n')) < 0) {
		fprintf(stderr, "pbsctl: no reply from pbsd\n");
		goto out;
	}
	first = span_sub(s, 0, (size_t)lf);
	if (!span_eq(first, "ok")) {
		fprintf(stderr, "pbsctl: %.*s\n", (int)first.len,
		    (const char *)first.p);
		goto out;
	}
	s = span_sub(s, (size_t)lf + 1, s.len - (size_t)lf - 1);
	if (s.len > 0 && fwrite(s.p, 1, s.len, stdout) != s.len) {
		goto out;
	}
	rv = 0;
out:
	buf_release(&b);
	return rv;
}

int
main(int argc, char *argv[])
{
	struct pbsd_conf	 conf;
	struct buf		 req;
	const char		*conffile = NULL, *sock = NULL, *errstr;
	size_t			 line;
	int			 ch, fd, i, rv;

	log_init("pbsctl", 1, 0, LOG_LVL_WARN);
	while ((ch = getopt(argc, argv, "f:s:")) != -1) {
		switch (ch) {
		case 'f':
			conffile = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 3) {
		usage();
	}
	pbsd_conf_defaults(&conf);
	if (sock == NULL) {
		if (conffile != NULL && pbsd_conf_load(&conf, conffile,
		    &errstr, &line) == -1) {
			fatalx("%s:%zu: %s", conffile, line, errstr);
		}
		sock = conf.pc_control;
	}
	buf_init(&req, PBSD_CTL_MAX_LINE + 1);
	for (i = 0; i < argc; i++) {
		if (buf_addf(&req, "%s%s", i ? " " : "", argv[i]) == -1) {
			fatalx("request too long");
		}
	}
	if (buf_add_str(&req, "\n") == -1) {
		fatalx("request too long");
	}
	fd = pbsctl_connect(sock);
	if (pbsctl_request(fd, &req) == -1) {
		fatal("write");
	}
	(void)shutdown(fd, SHUT_WR);
	rv = pbsctl_reply(fd);
	close(fd);
	buf_release(&req);
	return rv;
}
