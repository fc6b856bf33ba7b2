/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd: the POP/IMAP-before-SMTP daemon.  Starts as root only to read its
 * configuration, create its directories and bind its two unix sockets;
 * then it drops to the configured user (setgroups/setresgid/setresuid),
 * sets no_new_privs and loads a seccomp allow-list.  It trusts no datagram:
 * the sender's credentials (SCM_CREDENTIALS) must match allow_uid or
 * allow_gid, and the record must decode exactly (pbsd_proto.c).  Control
 * requests are taken from root or pbsd's own uid only.  The in-memory
 * table is the one source of truth; outputs and the state file are
 * rewritten from it atomically, at most once per flush_interval and at
 * expiry times.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "pbsd_conf.h"
#include "pbsd_ctl.h"
#include "pbsd_logtail.h"
#include "pbsd_nft.h"
#include "pbsd_out.h"
#include "pbsd_proto.h"
#include "pbsd_remote.h"
#include "pbsd_sandbox.h"
#include "pbsd_table.h"

#define PBSD_MAX_BATCH		1024	/* datagrams per poll round */
#define PBSD_CTL_TIMEOUT_MS	5000
#define PBSD_MAX_SLEEP_MS	60000

struct pbsd_stats {
	uint64_t	st_received;
	uint64_t	st_dropped_cred;
	uint64_t	st_dropped_format;
	uint64_t	st_dropped_full;
	uint64_t	st_logins;
	uint64_t	st_refreshes;
	uint64_t	st_logouts;
	uint64_t	st_unknown;	/* refresh/logout without an entry */
	uint64_t	st_expired;
	uint64_t	st_writes;
	uint64_t	st_write_errors;
	uint64_t	st_ctl_requests;
	uint64_t	st_nft_sent;
	uint64_t	st_nft_errors;
};

struct pbsd {
	struct pbsd_conf	 p_conf;
	struct pbsd_ids		 p_ids;
	struct pbsd_table	 p_table;
	struct pbsd_stats	 p_stats;
	int			 p_evfd;
	int			 p_ctlfd;
	int			 p_clientfd;	/* control connection or -1 */
	int			 p_nftfd;	/* nft writer or -1 */
	pid_t			 p_nftpid;
	int			 p_client_writing;
	int64_t			 p_client_deadline;
	struct buf		 p_ctl_in;
	struct buf		 p_ctl_out;
	int			 p_dirty;
	int			 p_force;
	int64_t			 p_last_write;	/* ms */
	int64_t			 p_started;
	struct pbsd_remote	 p_remote;	/* remote gateways */
	struct pbsd_logtail	 p_logtails[PBSD_CONF_MAX_LOGTAILS];	/* logtail */
	size_t			 p_nlogtails;
	int64_t			 p_logtail_next;	/* ms */
};

static volatile sig_atomic_t pbsd_quit;
static volatile sig_atomic_t pbsd_hup;
/* TERM, INT and HUP are blocked except inside ppoll(), so one that comes
 * between the loop's check and the wait cannot be slept through. */
static sigset_t pbsd_waitmask;

static void
pbsd_sighandler(int sig)
{
	if (sig == SIGHUP) {
		pbsd_hup = 1;
	} else {
		pbsd_quit = 1;
	}
}

static int64_t
pbsd_now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1) {
		fatal("clock_gettime");
	}
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
usage(void)
{
	fprintf(stderr, "usage: pbsd [-dn] [-f file]\n");
	exit(1);
}

/*
 * Creates the directory of path (0755, owned by uid/gid) if it is missing.
 * If it exists and must_own is set, it must belong to uid: pbsd writes its
 * temporary files there after dropping privileges.
 */
static void
pbsd_ensure_dir(const char *path, uid_t uid, gid_t gid, int must_own)
{
	char		copy[PBSD_PATH_MAX], *slash;
	struct stat	st;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy)) {
		fatalx("path too long: %s", path);
	}
	if ((slash = strrchr(copy, '/')) == NULL) {
		fatalx("path not absolute: %s", path);
	}
	*slash = '\0';
	if (copy[0] == '\0') {
		return;
	}
	if (stat(copy, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			fatalx("%s is not a directory", copy);
		}
		if (must_own && st.st_uid != uid) {
			fatalx("%s must be owned by the pbsd user (uid %ld)",
			    copy, (long)uid);
		}
		if (st.st_mode & 022) {
			log_warnx("%s is group or world writable (Sendmail "
			    "ignores maps there)", copy);
		}
		return;
	}
	if (mkdir(copy, 0755) == -1) {
		fatal("mkdir %s", copy);
	}
	if (chown(copy, uid, gid) == -1 || chmod(copy, 0755) == -1) {
		fatal("chown/chmod %s", copy);
	}
	log_info("created directory %s", copy);
}

static int
pbsd_bind(const char *path, int type, unsigned int mode, gid_t gid)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fatalx("socket path too long: %s", path);
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fatalx("%s exists and is not a socket", path);
		}
		(void)unlink(path);
	}
	if ((fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) ==
	    -1) {
		fatal("socket");
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fatal("bind %s", path);
	}
	if (chmod(path, mode) == -1) {
		fatal("chmod %s", path);
	}
	if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) == -1) {
		fatal("chown %s", path);
	}
	return fd;
}

static void
pbsd_open_sockets(struct pbsd *p)
{
	struct group	*gr;
	gid_t		 gid = (gid_t)-1;
	int		 one = 1, sz = 1 << 20;

	if (p->p_conf.pc_socket_group[0] != '\0') {
		if ((gr = getgrnam(p->p_conf.pc_socket_group)) == NULL) {
			fatalx("unknown socket_group %s",
			    p->p_conf.pc_socket_group);
		}
		gid = gr->gr_gid;
	}
	p->p_evfd = pbsd_bind(p->p_conf.pc_socket, SOCK_DGRAM,
	    p->p_conf.pc_socket_mode, gid);
	if (setsockopt(p->p_evfd, SOL_SOCKET, SO_PASSCRED, &one,
	    sizeof(one)) == -1) {
		fatal("SO_PASSCRED");
	}
	(void)setsockopt(p->p_evfd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	p->p_ctlfd = pbsd_bind(p->p_conf.pc_control, SOCK_STREAM, 0600,
	    (gid_t)-1);
	if (listen(p->p_ctlfd, 8) == -1) {
		fatal("listen");
	}
}

static void
pbsd_drop_privs(const struct pbsd *p, const struct passwd *pw)
{
	struct group	*gr;
	gid_t		 gids[2];
	size_t		 ngids = 1;

	if (pw != NULL) {
		gids[0] = pw->pw_gid;
		/* logtail_group: read another gateway's log (logtail). */
		if (p->p_conf.pc_logtail_group[0] != '\0') {
			if ((gr = getgrnam(p->p_conf.pc_logtail_group)) ==
			    NULL) {
				fatalx("unknown logtail_group %s",
				    p->p_conf.pc_logtail_group);
			}
			gids[ngids++] = gr->gr_gid;
		}
		if (setgroups(ngids, gids) == -1 ||
		    setresgid(gids[0], gids[0], gids[0]) == -1 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
			fatal("cannot drop privileges to %s",
			    p->p_conf.pc_user);
		}
		if (pw->pw_uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
			fatalx("could regain root after dropping privileges");
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		fatal("PR_SET_NO_NEW_PRIVS");
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		fatal("PR_SET_DUMPABLE");
	}
}

static void
pbsd_write_all(struct pbsd *p, int64_t now)
{
	const char	*errstr;
	size_t		 i;
	int		 failed = 0;

	/*
	 * State first: whatever an MTA can see must come back after a crash
	 * (the outputs are rewritten from the state at start-up).
	 */
	if (pbsd_state_write(p->p_conf.pc_state, &p->p_table, &errstr) == -1) {
		log_warn("state %s: %s", p->p_conf.pc_state, errstr);
		failed = 1;
	}
	for (i = 0; i < p->p_conf.pc_noutputs; i++) {
		if (pbsd_out_write(&p->p_conf.pc_outputs[i], &p->p_table,
		    &errstr) == -1) {
			log_warn("output %s: %s",
			    p->p_conf.pc_outputs[i].po_path, errstr);
			failed = 1;
		}
	}
	if (failed) {
		p->p_stats.st_write_errors++;
	} else {
		p->p_stats.st_writes++;
	}
	/* On failure stay dirty: retry after the next interval. */
	p->p_dirty = failed;
	p->p_force = 0;
	p->p_last_write = now;
}

static int
pbsd_cred_ok(const struct pbsd *p, const struct ucred *uc)
{
	size_t	i;

	for (i = 0; i < p->p_ids.pi_nuids; i++) {
		if (p->p_ids.pi_uids[i] == uc->uid) {
			return 1;
		}
	}
	for (i = 0; i < p->p_ids.pi_ngids; i++) {
		if (p->p_ids.pi_gids[i] == uc->gid) {
			return 1;
		}
	}
	return 0;
}

/* Tells the nft writer (if any) about one address; timeout 0 = delete. */
static void
pbsd_nft(struct pbsd *p, const struct pbsd_addr *a, int64_t timeout)
{
	if (p->p_nftfd == -1) {
		return;
	}
	if (timeout < 0) {
		return;
	}
	if (pbsd_nft_send(p->p_nftfd, timeout > 0 ? PBSD_NFT_REFRESH :
	    PBSD_NFT_DELETE, a, (unsigned int)timeout) == -1) {
		p->p_stats.st_nft_errors++;
		return;
	}
	p->p_stats.st_nft_sent++;
}

/* Re-adds every entry with its remaining time (start-up, SIGHUP). */
static void
pbsd_nft_sync(struct pbsd *p, int64_t now_s)
{
	const struct pbsd_entry	*e;
	size_t			 i;

	for (i = 0; i < pbsd_table_count(&p->p_table); i++) {
		e = pbsd_table_at(&p->p_table, i);
		if (e->pe_expiry > now_s) {
			pbsd_nft(p, &e->pe_addr, e->pe_expiry - now_s);
		}
	}
}

static void
pbsd_apply(struct pbsd *p, const struct pbsd_record *rec, int64_t now_s)
{
	struct pbsd_addr	a;
	char			key[PBSD_KEY_MAX], user[128];
	int64_t			expiry = now_s + p->p_conf.pc_expire;
	int			r;

	if (pbsd_addr_make(rec->pr_family, rec->pr_addr,
	    (int)p->p_conf.pc_ipv6_prefix, &a) == -1 ||
	    pbsd_key_format(&a, PBSD_KEY_STATE, key, sizeof(key)) == -1) {
		p->p_stats.st_dropped_format++;
		return;
	}
	(void)log_escape((struct span){ (const uint8_t *)rec->pr_user,
	    rec->pr_userlen }, user, sizeof(user));
	switch (rec->pr_event) {
	case PBSD_EV_LOGIN_OK:
		r = pbsd_table_set(&p->p_table, &a, expiry);
		if (r == -1) {
			p->p_stats.st_dropped_full++;
			log_warnx("table full (max_entries %u): client=%s "
			    "dropped", p->p_conf.pc_max_entries, key);
			return;
		}
		p->p_stats.st_logins++;
		break;
	case PBSD_EV_SESSION_ALIVE:
	case PBSD_EV_LOGOUT:
		r = pbsd_table_refresh(&p->p_table, &a, expiry);
		if (r == 0) {
			p->p_stats.st_unknown++;
			log_debug("event=%s client=%s: no entry, ignored",
			    pbsd_event_name(rec->pr_event), key);
			return;
		}
		if (rec->pr_event == PBSD_EV_LOGOUT) {
			p->p_stats.st_logouts++;
		} else {
			p->p_stats.st_refreshes++;
		}
		break;
	default:
		p->p_stats.st_dropped_format++;
		return;
	}
	p->p_dirty = 1;
	pbsd_nft(p, &a, p->p_conf.pc_expire);
	log_info("event=%s client=%s user=%s proto=%s expires=%lld",
	    pbsd_event_name(rec->pr_event), key, user,
	    pbsd_proto_name(rec->pr_proto), (long long)expiry);
}

/* Records from remote gateways (pbsd_remote.c) take the local path. */
static void
pbsd_apply_remote(void *arg, const struct pbsd_record *rec, int64_t now_s)
{
	pbsd_apply(arg, rec, now_s);
}

/* --- log-tail mode: login lines of another gateway's log -------------- */
static void
pbsd_apply_logtail(void *arg, const struct pbsd_record *rec)
{
	pbsd_apply(arg, rec, pbsd_now_ms() / 1000);
}

static void
pbsd_logtail_run(struct pbsd *p, int64_t now)
{
	size_t	i;

	if (p->p_nlogtails == 0 || now < p->p_logtail_next) {
		return;
	}
	for (i = 0; i < p->p_nlogtails; i++) {
		pbsd_logtail_poll(&p->p_logtails[i], now, pbsd_apply_logtail,
		    p);
	}
	p->p_logtail_next = now + PBSD_LOGTAIL_INTERVAL_MS;
}

static void
pbsd_logtail_stats_out(struct pbsd *p)
{
	struct pbsd_logtail_stats	t;
	const struct pbsd_logtail_stats	*s;
	size_t				 i;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < p->p_nlogtails; i++) {
		s = &p->p_logtails[i].lt_stats;
		t.ls_lines += s->ls_lines;
		t.ls_logins += s->ls_logins;
		t.ls_broken += s->ls_broken;
		t.ls_overlong += s->ls_overlong;
		t.ls_quarantined += s->ls_quarantined;
		t.ls_nohost += s->ls_nohost;
		t.ls_rotations += s->ls_rotations;
		t.ls_truncations += s->ls_truncations;
	}
	(void)buf_addf(&p->p_ctl_out, "logtail_lines %llu\n"
	    "logtail_logins %llu\nlogtail_broken %llu\n"
	    "logtail_overlong %llu\nlogtail_quarantined %llu\n"
	    "logtail_rotations %llu\nlogtail_truncations %llu\n"
	    "logtail_nohost %llu\n",
	    (unsigned long long)t.ls_lines, (unsigned long long)t.ls_logins,
	    (unsigned long long)t.ls_broken,
	    (unsigned long long)t.ls_overlong,
	    (unsigned long long)t.ls_quarantined,
	    (unsigned long long)t.ls_rotations,
	    (unsigned long long)t.ls_truncations,
	    (unsigned long long)t.ls_nohost);
}
/* --- end log-tail mode -------------------------------------------------- */

/* UNTRUSTED: one datagram, bounded by PBSD_PROTO_MAX_LEN (+1 to see more). */
static int
pbsd_recv_one(struct pbsd *p, int64_t now_s)
{
	uint8_t			 data[PBSD_PROTO_MAX_LEN + 1];
	union {
		struct cmsghdr	 hdr;
		uint8_t		 space[CMSG_SPACE(sizeof(struct ucred))];
	}			 cbuf;
	struct msghdr		 msg;
	struct iovec		 iov;
	struct cmsghdr		*cm;
	struct ucred		 uc;
	struct pbsd_record	 rec;
	const char		*errstr;
	ssize_t			 n;
	int			 have_cred = 0;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = data;
	iov.iov_len = sizeof(data);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = &cbuf;
	msg.msg_controllen = sizeof(cbuf);
	n = recvmsg(p->p_evfd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			log_warn("recvmsg");
		}
		return -1;
	}
	p->p_stats.st_received++;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_CREDENTIALS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(uc))) {
			memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
			have_cred = 1;
		}
	}
	if (!have_cred || (msg.msg_flags & MSG_CTRUNC) ||
	    !pbsd_cred_ok(p, &uc)) {
		p->p_stats.st_dropped_cred++;
		log_warnx("dropped datagram from uid=%ld gid=%ld pid=%ld: "
		    "sender not allowed", have_cred ? (long)uc.uid : -1L,
		    have_cred ? (long)uc.gid : -1L,
		    have_cred ? (long)uc.pid : -1L);
		return 0;
	}
	if (msg.msg_flags & MSG_TRUNC) {
		p->p_stats.st_dropped_format++;
		log_warnx("dropped datagram from pid=%ld: record too long",
		    (long)uc.pid);
		return 0;
	}
	if (pbsd_event_decode(data, (size_t)n, &rec, &errstr) == -1) {
		p->p_stats.st_dropped_format++;
		log_warnx("dropped datagram from pid=%ld: %s", (long)uc.pid,
		    errstr);
		return 0;
	}
	pbsd_remote_forward(&p->p_remote, (struct span){ data, (size_t)n },
	    pbsd_now_ms());
	pbsd_apply(p, &rec, now_s);
	secure_zero(&rec, sizeof(rec));
	return 0;
}

static void
pbsd_ctl_close(struct pbsd *p)
{
	if (p->p_clientfd != -1) {
		close(p->p_clientfd);
	}
	p->p_clientfd = -1;
	p->p_client_writing = 0;
	buf_release(&p->p_ctl_in);
	buf_release(&p->p_ctl_out);
}

static void
pbsd_ctl_accept(struct pbsd *p, int64_t now)
{
	struct ucred	uc;
	socklen_t	len = sizeof(uc);
	int		fd;

	if ((fd = accept4(p->p_ctlfd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    (uc.uid != 0 && uc.uid != getuid())) {
		log_warnx("control connection from uid %ld refused",
		    (long)uc.uid);
		close(fd);
		return;
	}
	p->p_clientfd = fd;
	p->p_client_writing = 0;
	p->p_client_deadline = now + PBSD_CTL_TIMEOUT_MS;
	buf_init(&p->p_ctl_in, PBSD_CTL_MAX_LINE + 2);
	buf_init(&p->p_ctl_out, PBSD_CTL_MAX_REPLY);
}

static void
pbsd_ctl_list(struct pbsd *p, int64_t now_s)
{
	const struct pbsd_entry	*e;
	char			 key[PBSD_KEY_MAX];
	size_t			 i;

	for (i = 0; i < pbsd_table_count(&p->p_table); i++) {
		e = pbsd_table_at(&p->p_table, i);
		if (pbsd_key_format(&e->pe_addr, PBSD_KEY_STATE, key,
		    sizeof(key)) == -1) {
			continue;
		}
		(void)buf_addf(&p->p_ctl_out, "%s %lld %lld\n", key,
		    (long long)e->pe_expiry,
		    (long long)(e->pe_expiry - now_s));
	}
}

static void
pbsd_ctl_stats(struct pbsd *p, int64_t now_s)
{
	const struct pbsd_stats	*s = &p->p_stats;

	(void)buf_addf(&p->p_ctl_out,
	    "entries %zu\nuptime %lld\nreceived %llu\ndropped_cred %llu\n"
	    "dropped_format %llu\ndropped_full %llu\nlogins %llu\n"
	    "refreshes %llu\nlogouts %llu\nunknown %llu\nexpired %llu\n"
	    "writes %llu\nwrite_errors %llu\ncontrol_requests %llu\n"
	    "nft_sent %llu\nnft_errors %llu\n",
	    pbsd_table_count(&p->p_table),
	    (long long)(now_s - p->p_started / 1000),
	    (unsigned long long)s->st_received,
	    (unsigned long long)s->st_dropped_cred,
	    (unsigned long long)s->st_dropped_format,
	    (unsigned long long)s->st_dropped_full,
	    (unsigned long long)s->st_logins,
	    (unsigned long long)s->st_refreshes,
	    (unsigned long long)s->st_logouts,
	    (unsigned long long)s->st_unknown,
	    (unsigned long long)s->st_expired,
	    (unsigned long long)s->st_writes,
	    (unsigned long long)s->st_write_errors,
	    (unsigned long long)s->st_ctl_requests,
	    (unsigned long long)s->st_nft_sent,
	    (unsigned long long)s->st_nft_errors);
	pbsd_remote_stats(&p->p_remote, &p->p_ctl_out);
	pbsd_logtail_stats_out(p);
}

static void
pbsd_ctl_run(struct pbsd *p, struct span line, int64_t now)
{
	struct pbsd_ctl_req	 req;
	const char		*errstr;
	char			 key[PBSD_KEY_MAX];
	int64_t			 now_s = now / 1000;
	unsigned int		 secs;

	p->p_stats.st_ctl_requests++;
	if (pbsd_ctl_parse(line, (int)p->p_conf.pc_ipv6_prefix, &req,
	    &errstr) == -1) {
		(void)buf_addf(&p->p_ctl_out, "error: %s\n", errstr);
		return;
	}
	(void)pbsd_key_format(&req.cr_addr, PBSD_KEY_STATE, key, sizeof(key));
	switch (req.cr_cmd) {
	case PBSD_CTL_LIST:
		(void)buf_add_str(&p->p_ctl_out, "ok\n");
		pbsd_ctl_list(p, now_s);
		break;
	case PBSD_CTL_STATS:
		(void)buf_add_str(&p->p_ctl_out, "ok\n");
		pbsd_ctl_stats(p, now_s);
		break;
	case PBSD_CTL_FLUSH:
		while (pbsd_table_count(&p->p_table) > 0) {
			pbsd_nft(p, &pbsd_table_at(&p->p_table, 0)->pe_addr, 0);
			(void)pbsd_table_remove(&p->p_table,
			    &pbsd_table_at(&p->p_table, 0)->pe_addr);
		}
		p->p_dirty = p->p_force = 1;
		log_info("control: flushed all entries");
		(void)buf_add_str(&p->p_ctl_out, "ok\n");
		break;
	case PBSD_CTL_ADD:
		secs = req.cr_seconds ? req.cr_seconds : p->p_conf.pc_expire;
		if (pbsd_table_set(&p->p_table, &req.cr_addr,
		    now_s + secs) == -1) {
			(void)buf_add_str(&p->p_ctl_out, "error: table full\n");
			break;
		}
		p->p_dirty = p->p_force = 1;
		pbsd_nft(p, &req.cr_addr, secs);
		log_info("control: add client=%s for %us", key, secs);
		(void)buf_add_str(&p->p_ctl_out, "ok\n");
		break;
	case PBSD_CTL_DEL:
		if (pbsd_table_remove(&p->p_table, &req.cr_addr) == 0) {
			(void)buf_add_str(&p->p_ctl_out, "error: not found\n");
			break;
		}
		p->p_dirty = p->p_force = 1;
		pbsd_nft(p, &req.cr_addr, 0);
		log_info("control: del client=%s", key);
		(void)buf_add_str(&p->p_ctl_out, "ok\n");
		break;
	default:
		(void)buf_add_str(&p->p_ctl_out, "error: internal\n");
		break;
	}
}

/* UNTRUSTED: control request bytes, bounded by PBSD_CTL_MAX_LINE. */
static void
pbsd_ctl_read(struct pbsd *p, int64_t now)
{
	struct span	 line;
	uint8_t		*dst;
	size_t		 room, used;
	ssize_t		 n;
	int		 got;

	if (buf_reserve(&p->p_ctl_in, PBSD_CTL_MAX_LINE + 2, &dst,
	    &room) == -1) {
		pbsd_ctl_close(p);
		return;
	}
	n = read(p->p_clientfd, dst, room);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n <= 0) {
		pbsd_ctl_close(p);
		return;
	}
	buf_commit(&p->p_ctl_in, (size_t)n);
	got = buf_getline(&p->p_ctl_in, PBSD_CTL_MAX_LINE + 2, &line, &used);
	if (got == 0) {
		return;
	}
	if (got == -1) {
		(void)buf_add_str(&p->p_ctl_out, "error: request too long\n");
	} else {
		pbsd_ctl_run(p, line, now);
	}
	p->p_client_writing = 1;
	(void)shutdown(p->p_clientfd, SHUT_RD);
}

static void
pbsd_ctl_write(struct pbsd *p)
{
	struct span	s = buf_span(&p->p_ctl_out);
	ssize_t		n;

	if (s.len == 0) {
		pbsd_ctl_close(p);
		return;
	}
	n = send(p->p_clientfd, s.p, s.len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n <= 0) {
		pbsd_ctl_close(p);
		return;
	}
	buf_consume(&p->p_ctl_out, (size_t)n);
	if (buf_len(&p->p_ctl_out) == 0) {
		pbsd_ctl_close(p);
	}
}

static int
pbsd_poll_timeout(const struct pbsd *p, int64_t now)
{
	const struct pbsd_entry	*first = pbsd_table_first(&p->p_table);
	int64_t			 t = PBSD_MAX_SLEEP_MS, d;

	if (first != NULL) {
		d = first->pe_expiry * 1000 - now;
		if (d < t) {
			t = d;
		}
	}
	if (p->p_dirty) {
		d = p->p_last_write + (int64_t)p->p_conf.pc_flush_interval *
		    1000 - now;
		if (p->p_force || d < 0) {
			d = 0;
		}
		if (d < t) {
			t = d;
		}
	}
	if (p->p_clientfd != -1) {
		d = p->p_client_deadline - now;
		if (d < t) {
			t = d;
		}
	}
	if ((d = pbsd_remote_deadline(&p->p_remote)) != -1 && d - now < t) {
		t = d - now;
	}
	if (p->p_nlogtails > 0 && p->p_logtail_next - now < t) {
		t = p->p_logtail_next - now;
	}
	return t < 0 ? 0 : (int)t;
}

static void
pbsd_tick(struct pbsd *p, int64_t now)
{
	size_t	n;

	if ((n = pbsd_table_expire(&p->p_table, now / 1000)) > 0) {
		p->p_stats.st_expired += n;
		p->p_dirty = p->p_force = 1;
		log_info("event=expire count=%zu entries=%zu", n,
		    pbsd_table_count(&p->p_table));
	}
	if (pbsd_hup) {
		pbsd_hup = 0;
		p->p_dirty = p->p_force = 1;
		pbsd_nft_sync(p, now / 1000);
	}
	if (p->p_dirty && (p->p_force || now >= p->p_last_write +
	    (int64_t)p->p_conf.pc_flush_interval * 1000)) {
		pbsd_write_all(p, now);
	}
	if (p->p_clientfd != -1 && now >= p->p_client_deadline) {
		pbsd_ctl_close(p);
	}
	pbsd_remote_tick(&p->p_remote, now);
	pbsd_logtail_run(p, now);
}

static void
pbsd_loop(struct pbsd *p)
{
	struct pollfd	pfd[4];
	int64_t		now;
	nfds_t		nfds;
	struct timespec	ts;
	int64_t		wait_ms;
	int		i;

	while (!pbsd_quit) {
		now = pbsd_now_ms();
		pbsd_tick(p, now);
		pfd[0].fd = p->p_evfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = p->p_clientfd == -1 ? p->p_ctlfd : -1;
		pfd[1].events = POLLIN;
		pfd[2].fd = p->p_clientfd;
		pfd[2].events = p->p_client_writing ? POLLOUT : POLLIN;
		pfd[3].fd = pbsd_remote_fd(&p->p_remote);
		pfd[3].events = POLLIN;
		nfds = 4;
		pfd[0].revents = pfd[1].revents = pfd[2].revents = 0;
		pfd[3].revents = 0;
		wait_ms = pbsd_poll_timeout(p, now);
		ts.tv_sec = (time_t)(wait_ms / 1000);
		ts.tv_nsec = (long)(wait_ms % 1000) * 1000000L;
		if (ppoll(pfd, nfds, &ts, &pbsd_waitmask) == -1) {
			if (errno == EINTR) {
				continue;
			}
			fatal("poll");
		}
		now = pbsd_now_ms();
		if (pfd[0].revents & POLLIN) {
			for (i = 0; i < PBSD_MAX_BATCH; i++) {
				if (pbsd_recv_one(p, now / 1000) == -1) {
					break;
				}
			}
		}
		if (pfd[3].revents & POLLIN) {
			pbsd_remote_run(&p->p_remote, now);
		}
		if (pfd[1].revents & POLLIN) {
			pbsd_ctl_accept(p, now);
		} else if (pfd[2].revents != 0 && p->p_clientfd != -1) {
			if (p->p_client_writing) {
				pbsd_ctl_write(p);
			} else {
				pbsd_ctl_read(p, now);
			}
		}
	}
}

static void
pbsd_load_state(struct pbsd *p)
{
	struct pbsd_state_reader	 r;
	const char			*errstr;

	pbsd_state_reader_init(&r, &p->p_table, pbsd_now_ms() / 1000,
	    (int)p->p_conf.pc_ipv6_prefix);
	if (pbsd_state_load(p->p_conf.pc_state, &r, &errstr) == -1) {
		log_warn("state %s: %s", p->p_conf.pc_state, errstr);
	}
	log_info("state %s: %zu entries loaded, %zu expired, %zu bad, "
	    "%zu over max_entries", p->p_conf.pc_state, r.sr_loaded,
	    r.sr_expired, r.sr_bad, r.sr_full);
}

static void
pbsd_setup_signals(void)
{
	struct sigaction	sa;
	sigset_t		set;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = pbsd_sighandler;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1) {
		fatal("sigaction");
	}
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1) {
		fatal("sigaction");
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, &pbsd_waitmask) == -1) {
		fatal("sigprocmask");
	}
}

static void
pbsd_prepare_files(struct pbsd *p, const struct passwd *pw)
{
	uid_t	uid = pw != NULL ? pw->pw_uid : getuid();
	gid_t	gid = pw != NULL ? pw->pw_gid : getgid();
	size_t	i;
	int	n;

	pbsd_ensure_dir(p->p_conf.pc_socket, 0, 0, 0);
	pbsd_ensure_dir(p->p_conf.pc_control, 0, 0, 0);
	pbsd_ensure_dir(p->p_conf.pc_state, uid, gid, 1);
	if ((n = pbsd_out_clean_tmp(p->p_conf.pc_state)) > 0) {
		log_info("removed %d stale temporary state files", n);
	}
	for (i = 0; i < p->p_conf.pc_noutputs; i++) {
		pbsd_ensure_dir(p->p_conf.pc_outputs[i].po_path, uid, gid,
		    1);
		n = pbsd_out_clean_tmp(p->p_conf.pc_outputs[i].po_path);
		if (n > 0) {
			log_info("removed %d stale temporary files of %s", n,
			    p->p_conf.pc_outputs[i].po_path);
		}
	}
}

int
main(int argc, char *argv[])
{
	static struct pbsd	 p;
	struct passwd		*pw = NULL;
	const char		*conffile = PBSD_DEF_CONF, *errstr;
	size_t			 line;
	int			 ch, debug = 0, check = 0;

	while ((ch = getopt(argc, argv, "df:n")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			conffile = optarg;
			break;
		case 'n':
			check = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc) {
		usage();
	}
	log_init("pbsd", debug || check, !debug && !check,
	    debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	log_procinit("pbsd");
	pbsd_conf_defaults(&p.p_conf);
	if (pbsd_conf_load(&p.p_conf, conffile, &errstr, &line) == -1) {
		fatalx("%s:%zu: %s", conffile, line, errstr);
	}
	if (pbsd_conf_check(&p.p_conf, &errstr) == -1 ||
	    pbsd_conf_ids(&p.p_conf, &p.p_ids, &errstr) == -1) {
		fatalx("%s: %s", conffile, errstr);
	}
	if (getuid() == 0 && (pw = getpwnam(p.p_conf.pc_user)) == NULL) {
		fatalx("%s: unknown user %s", conffile, p.p_conf.pc_user);
	}
	if (check) {
		fprintf(stderr, "configuration OK\n");
		return 0;
	}
	umask(022);
	p.p_clientfd = -1;
	p.p_nftfd = -1;
	p.p_started = pbsd_now_ms();
	pbsd_setup_signals();
	pbsd_prepare_files(&p, pw);
	pbsd_open_sockets(&p);
	pbsd_remote_init(&p.p_remote);
	pbsd_remote_open(&p.p_remote, &p.p_conf.pc_remote,
	    pw != NULL ? pw->pw_uid : getuid(), pbsd_apply_remote, &p);
	if (!debug && daemon(0, 0) == -1) {
		fatal("daemon");
	}
	if (p.p_conf.pc_nft.nc_table[0] != '\0') {
		p.p_nftfd = pbsd_nft_start(&p.p_conf.pc_nft,
		    pw != NULL ? pw->pw_uid : getuid(),
		    pw != NULL ? pw->pw_gid : getgid(), &p.p_nftpid);
	}
	pbsd_drop_privs(&p, pw);
	/* logtail: files are opened in the loop, as pbsd's user, sandboxed. */
	for (; p.p_nlogtails < p.p_conf.pc_nlogtails; p.p_nlogtails++) {
		pbsd_logtail_init(&p.p_logtails[p.p_nlogtails],
		    p.p_conf.pc_logtails[p.p_nlogtails].lc_path,
		    p.p_conf.pc_logtails[p.p_nlogtails].lc_fmt,
		    p.p_conf.pc_logtail_from_start);
	}
	pbsd_table_init(&p.p_table, p.p_conf.pc_max_entries);
	pbsd_load_state(&p);
	pbsd_sandbox_enter();
	/* A valid table before any MTA reads it (research 1.5). */
	pbsd_write_all(&p, pbsd_now_ms());
	if (p.p_dirty) {
		fatalx("cannot write the initial tables, exiting");
	}
	pbsd_nft_sync(&p, pbsd_now_ms() / 1000);
	log_info("started: %zu entries, %zu outputs, expire %us",
	    pbsd_table_count(&p.p_table), p.p_conf.pc_noutputs,
	    p.p_conf.pc_expire);
	pbsd_loop(&p);
	pbsd_tick(&p, pbsd_now_ms());
	if (p.p_dirty) {
		pbsd_write_all(&p, pbsd_now_ms());
	}
	log_info("exiting");
	pbsd_remote_close(&p.p_remote);
	pbsd_table_free(&p.p_table);
	return 0;
}
