/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_nft: the nftables writer process.  Forked by pbsd as root, it
 * switches to pbsd's user keeping only CAP_NET_ADMIN (effective and
 * permitted; bounding set, inheritable and ambient cleared), sets
 * no_new_privs, and then only reads fixed-size requests from pbsd and
 * turns them into nf_tables set element batches (research/pbsd.md 6.2,
 * 6.3: refresh = NEW without timeout, DEL, NEW with timeout, one batch;
 * an IPv6 /64 is an interval element).  It mirrors what it added, and
 * when nf_tables notifies (NFNLGRP_NFTABLES) that one of its sets was
 * created again, e.g. by a "flush ruleset" reload, it puts the live
 * elements back by itself.  It trusts pbsd, its parent (a malformed
 * request is fatal), and the kernel's notifications.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "log.h"
#include "pbsd_nft.h"
#include "pbsd_proto.h"
#include "pbsd_table.h"

/*
 * Batches: libmnl writes each message past the batch limit before it can
 * tell it did not fit, so the limit is half the buffer (its documented
 * convention); every message must fit in that half.
 */
#define PBSD_NFT_BUF		16384
#define PBSD_NFT_BATCH_LIMIT	(PBSD_NFT_BUF / 2)
#define PBSD_NFT_PER_MSG	64	/* addresses per resync message */
/*
 * Bytes one address adds to a message, bounded: an IPv6 /64 is two
 * elements (start with key and timeout, end with key and flags), each a
 * nest of a few attributes, 76 bytes in all; and the fixed part (netlink
 * and nfgen headers, table and set names of up to 32 bytes, the list).
 */
#define PBSD_NFT_ADDR_MAX	96
#define PBSD_NFT_MSG_FIXED	256
_Static_assert(PBSD_NFT_PER_MSG * PBSD_NFT_ADDR_MAX + PBSD_NFT_MSG_FIXED +
    2 * 64 <= PBSD_NFT_BATCH_LIMIT, "a resync message fits a batch");
#define PBSD_NFT_MON_RCVBUF	(4 << 20)
#define PBSD_NFT_ENOBUFS_GAP_MS	5000	/* resync at most this often */
#define PBSD_NFT_MAX_MIRROR	10000000
#define PBSD_NFT_SET4		0x01
#define PBSD_NFT_SET6		0x02

struct pbsd_nft {
	const struct pbsd_nft_conf	*n_conf;
	struct mnl_socket		*n_nl;
	struct mnl_socket		*n_mon;		/* NULL: no monitor */
	struct pbsd_table		 n_mirror;	/* expiry: monotonic ms */
	uint32_t			 n_seq;
	uint32_t			 n_batch_seq;	/* seq of BEGIN */
	int				 n_resync;	/* PBSD_NFT_SET* bits */
	int64_t				 n_last_overrun;
};

static int64_t
pbsd_nft_now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1) {
		fatal("nft: clock_gettime");
	}
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct nftnl_set *
pbsd_nft_set(const struct pbsd_nft *n, int family)
{
	struct nftnl_set	*s;

	if ((s = nftnl_set_alloc()) == NULL) {
		fatalx("nft: out of memory");
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->n_conf->nc_table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, family == PBSD_FAM_INET ?
	    n->n_conf->nc_set4 : n->n_conf->nc_set6);
	return s;
}

static void
pbsd_nft_add_key(struct nftnl_set *s, const uint8_t *key, uint32_t len,
    uint64_t timeout_ms, int end)
{
	struct nftnl_set_elem	*e;

	if ((e = nftnl_set_elem_alloc()) == NULL) {
		fatalx("nft: out of memory");
	}
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len);
	if (end) {
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS,
		    NFT_SET_ELEM_INTERVAL_END);
	} else if (timeout_ms > 0) {
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
	}
	nftnl_set_elem_add(s, e);
}

/*
 * Appends the element(s) for a to s: one key for an address; for an IPv6
 * /64 the interval start (with the timeout) and its end, the first address
 * of the next /64, flagged INTERVAL_END as nft(8) sends it (none for the
 * last /64 of the address space: the interval then runs to its end).
 * The kernel's garbage collector drops the end together with its start.
 */
static void
pbsd_nft_add_addr(struct nftnl_set *s, const struct pbsd_addr *a,
    uint64_t timeout_ms)
{
	uint8_t	next[16];
	int	i;

	if (a->pa_family == PBSD_FAM_INET) {
		pbsd_nft_add_key(s, a->pa_bytes, 4, timeout_ms, 0);
		return;
	}
	pbsd_nft_add_key(s, a->pa_bytes, 16, timeout_ms, 0);
	if (a->pa_plen != 64) {
		return;
	}
	memcpy(next, a->pa_bytes, sizeof(next));
	for (i = 7; i >= 0; i--) {
		if (++next[i] != 0) {
			break;
		}
	}
	if (i >= 0) {
		pbsd_nft_add_key(s, next, 16, 0, 1);
	}
}

static struct nftnl_set *
pbsd_nft_one(const struct pbsd_nft *n, const struct pbsd_addr *a,
    uint64_t timeout_ms)
{
	struct nftnl_set	*s = pbsd_nft_set(n, a->pa_family);

	pbsd_nft_add_addr(s, a, timeout_ms);
	return s;
}

/*
 * Takes the message just written into the batch.  Every batch here is one
 * transaction of a few bounded messages (see PBSD_NFT_ADDR_MAX), so one
 * that does not fit is a bug: it was written inside the buffer's second
 * half, but is not part of the batch, and cutting a refresh in two would
 * break its atomicity.
 */
static void
pbsd_nft_next(struct mnl_nlmsg_batch *b)
{
	if (!mnl_nlmsg_batch_next(b)) {
		fatalx("nft: batch overflow (%d byte limit)",
		    PBSD_NFT_BATCH_LIMIT);
	}
}

static void
pbsd_nft_msg(struct pbsd_nft *n, struct mnl_nlmsg_batch *b, uint16_t type,
    uint16_t flags, struct nftnl_set *s)
{
	struct nlmsghdr	*nlh;

	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), type,
	    NFPROTO_INET, flags, n->n_seq++);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	pbsd_nft_next(b);
}

/*
 * Reads acks until want arrived or the receive timeout; first error.  Only
 * acks whose sequence number lies in this batch count: a late ack of an
 * earlier batch that timed out is skipped.
 */
static int
pbsd_nft_acks(struct pbsd_nft *n, int want)
{
	char			 buf[PBSD_NFT_BUF];
	const struct nlmsghdr	*nlh;
	const struct nlmsgerr	*err;
	ssize_t			 len;
	int			 len_i, got = 0, first = 0;

	while (got < want) {
		len = mnl_socket_recvfrom(n->n_nl, buf, sizeof(buf));
		if (len <= 0) {
			return first ? first : (len == 0 ? EIO : errno);
		}
		len_i = (int)len;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len_i);
		    nlh = mnl_nlmsg_next(nlh, &len_i)) {
			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_seq - n->n_batch_seq >=
			    n->n_seq - n->n_batch_seq) {
				continue;
			}
			err = mnl_nlmsg_get_payload(nlh);
			got++;
			if (err->error != 0 && first == 0) {
				first = -err->error;
			}
		}
	}
	return first;
}

static struct mnl_nlmsg_batch *
pbsd_nft_begin(struct pbsd_nft *n, char *buf, size_t bufsz)
{
	struct mnl_nlmsg_batch	*b;

	if ((b = mnl_nlmsg_batch_start(buf, bufsz / 2)) == NULL) {
		fatalx("nft: out of memory");
	}
	n->n_batch_seq = n->n_seq;
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), n->n_seq++);
	pbsd_nft_next(b);
	return b;
}

/* Ends, sends and frees batch b; waits for acks.  0 or an errno. */
static int
pbsd_nft_commit(struct pbsd_nft *n, struct mnl_nlmsg_batch *b, int acks)
{
	int	err;

	nftnl_batch_end(mnl_nlmsg_batch_current(b), n->n_seq++);
	pbsd_nft_next(b);
	if (mnl_socket_sendto(n->n_nl, mnl_nlmsg_batch_head(b),
	    mnl_nlmsg_batch_size(b)) < 0) {
		err = errno;
	} else {
		err = pbsd_nft_acks(n, acks);
	}
	mnl_nlmsg_batch_stop(b);
	return err;
}

static void
pbsd_nft_mirror(struct pbsd_nft *n, const struct pbsd_nft_req *r,
    const struct pbsd_addr *a)
{
	if (r->nr_op == PBSD_NFT_DELETE) {
		(void)pbsd_table_remove(&n->n_mirror, a);
		return;
	}
	(void)pbsd_table_set(&n->n_mirror, a, pbsd_nft_now_ms() +
	    (int64_t)r->nr_timeout * 1000);
}

static void
pbsd_nft_apply(struct pbsd_nft *n, const struct pbsd_nft_req *r)
{
	char			 buf[PBSD_NFT_BUF];
	char			 text[PBSD_KEY_MAX];
	struct mnl_nlmsg_batch	*b;
	struct pbsd_addr	 a;
	int			 acks, err;

	if (pbsd_addr_make(r->nr_family, r->nr_addr, r->nr_family ==
	    PBSD_FAM_INET ? 128 : r->nr_plen, &a) == -1) {
		fatalx("nft: bad address from pbsd");
	}
	b = pbsd_nft_begin(n, buf, sizeof(buf));
	if (r->nr_op == PBSD_NFT_REFRESH) {
		pbsd_nft_msg(n, b, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_ACK,
		    pbsd_nft_one(n, &a, 0));
		pbsd_nft_msg(n, b, NFT_MSG_DELSETELEM, NLM_F_ACK,
		    pbsd_nft_one(n, &a, 0));
		pbsd_nft_msg(n, b, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_ACK,
		    pbsd_nft_one(n, &a, (uint64_t)r->nr_timeout * 1000));
		acks = 3;
	} else {
		pbsd_nft_msg(n, b, NFT_MSG_DELSETELEM, NLM_F_ACK,
		    pbsd_nft_one(n, &a, 0));
		acks = 1;
	}
	err = pbsd_nft_commit(n, b, acks);
	pbsd_nft_mirror(n, r, &a);
	if (err != 0 && !(r->nr_op == PBSD_NFT_DELETE && err == ENOENT)) {
		(void)pbsd_key_format(&a, PBSD_KEY_STATE, text, sizeof(text));
		log_warnx("nft: %s %s in inet %s: %s", r->nr_op ==
		    PBSD_NFT_REFRESH ? "refresh" : "delete", text,
		    n->n_conf->nc_table, strerror(err));
	}
}

/* Sends the pending resync message *s (if any) as one batch. */
static void
pbsd_nft_resync_send(struct pbsd_nft *n, struct nftnl_set **s, int *cnt,
    size_t *added, int *fails)
{
	char			 buf[PBSD_NFT_BUF];
	struct mnl_nlmsg_batch	*b;

	if (*s == NULL) {
		return;
	}
	b = pbsd_nft_begin(n, buf, sizeof(buf));
	pbsd_nft_msg(n, b, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_ACK, *s);
	if (pbsd_nft_commit(n, b, 1) != 0) {
		(*fails)++;
	} else {
		*added += (size_t)*cnt;
	}
	*s = NULL;
	*cnt = 0;
}

/*
 * Puts every mirrored element of the sets in which back with its remaining
 * time, PBSD_NFT_PER_MSG elements a batch (a failing element only costs
 * its batch).  Used after the ruleset re-created a set.
 */
static void
pbsd_nft_resync(struct pbsd_nft *n, int which)
{
	const struct pbsd_entry	*e;
	struct nftnl_set	*s[2] = { NULL, NULL };
	int			 cnt[2] = { 0, 0 }, k, fails = 0;
	size_t			 i, added = 0;
	int64_t			 now = pbsd_nft_now_ms();

	(void)pbsd_table_expire(&n->n_mirror, now);
	for (i = 0; i < pbsd_table_count(&n->n_mirror); i++) {
		e = pbsd_table_at(&n->n_mirror, i);
		k = e->pe_addr.pa_family == PBSD_FAM_INET ? 0 : 1;
		if (!(which & (k == 0 ? PBSD_NFT_SET4 : PBSD_NFT_SET6))) {
			continue;
		}
		if (s[k] == NULL) {
			s[k] = pbsd_nft_set(n, e->pe_addr.pa_family);
		}
		pbsd_nft_add_addr(s[k], &e->pe_addr,
		    (uint64_t)(e->pe_expiry - now));
		if (++cnt[k] == PBSD_NFT_PER_MSG) {
			pbsd_nft_resync_send(n, &s[k], &cnt[k], &added,
			    &fails);
		}
	}
	for (k = 0; k < 2; k++) {
		pbsd_nft_resync_send(n, &s[k], &cnt[k], &added, &fails);
	}
	log_info("nft: set%s re-created in inet %s: %zu elements put back%s",
	    which == (PBSD_NFT_SET4 | PBSD_NFT_SET6) ? "s" : "",
	    n->n_conf->nc_table, added, fails ? ", some batches failed" : "");
}

/*
 * UNTRUSTED-ish (the kernel's notifications, bounded by PBSD_NFT_BUF a
 * read): drains the monitor socket and notes which of our sets were
 * created.  An overrun (ENOBUFS) may have hidden one: resync both, but not
 * more often than PBSD_NFT_ENOBUFS_GAP_MS.
 */
static void
pbsd_nft_monitor(struct pbsd_nft *n)
{
	char			 buf[PBSD_NFT_BUF];
	const struct nlmsghdr	*nlh;
	struct nftnl_set	*s;
	const char		*table, *name;
	ssize_t			 len;
	int			 len_i;
	int64_t			 now;

	if (n->n_mon == NULL) {
		return;
	}
	for (;;) {
		len = mnl_socket_recvfrom(n->n_mon, buf, sizeof(buf));
		if (len == -1 && errno == ENOBUFS) {
			now = pbsd_nft_now_ms();
			if (now - n->n_last_overrun >= PBSD_NFT_ENOBUFS_GAP_MS) {
				n->n_last_overrun = now;
				n->n_resync |= PBSD_NFT_SET4 | PBSD_NFT_SET6;
			}
			continue;
		}
		if (len <= 0) {
			return;
		}
		len_i = (int)len;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len_i);
		    nlh = mnl_nlmsg_next(nlh, &len_i)) {
			if (NFNL_SUBSYS_ID(nlh->nlmsg_type) !=
			    NFNL_SUBSYS_NFTABLES ||
			    NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSET) {
				continue;
			}
			if ((s = nftnl_set_alloc()) == NULL) {
				fatalx("nft: out of memory");
			}
			if (nftnl_set_nlmsg_parse(nlh, s) == 0 &&
			    nftnl_set_get_u32(s, NFTNL_SET_FAMILY) ==
			    NFPROTO_INET &&
			    (table = nftnl_set_get_str(s, NFTNL_SET_TABLE)) !=
			    NULL && (name = nftnl_set_get_str(s,
			    NFTNL_SET_NAME)) != NULL &&
			    strcmp(table, n->n_conf->nc_table) == 0) {
				if (strcmp(name, n->n_conf->nc_set4) == 0) {
					n->n_resync |= PBSD_NFT_SET4;
				}
				if (strcmp(name, n->n_conf->nc_set6) == 0) {
					n->n_resync |= PBSD_NFT_SET6;
				}
			}
			nftnl_set_free(s);
		}
	}
}

static void
pbsd_nft_drop(uid_t uid, gid_t gid)
{
	cap_t		caps;
	cap_value_t	keep[1] = { CAP_NET_ADMIN };
	cap_value_t	c;

	/* The bounding set needs CAP_SETPCAP: cut it while still root. */
	for (c = 0; c <= CAP_LAST_CAP; c++) {
		if (c != CAP_NET_ADMIN && prctl(PR_CAPBSET_DROP, c, 0, 0,
		    0) == -1 && errno != EINVAL) {
			fatal("nft: PR_CAPBSET_DROP");
		}
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1 ||
	    setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		fatal("nft: cannot drop privileges");
	}
	if ((caps = cap_init()) == NULL ||
	    cap_set_flag(caps, CAP_EFFECTIVE, 1, keep, CAP_SET) == -1 ||
	    cap_set_flag(caps, CAP_PERMITTED, 1, keep, CAP_SET) == -1 ||
	    cap_set_proc(caps) == -1) {
		fatal("nft: cannot keep CAP_NET_ADMIN");
	}
	cap_free(caps);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		fatal("nft: prctl");
	}
}

/* The notification socket; the writer works without it (SIGHUP only). */
static struct mnl_socket *
pbsd_nft_monitor_open(void)
{
	struct mnl_socket	*m;
	int			 fd, sz = PBSD_NFT_MON_RCVBUF;

	if ((m = mnl_socket_open(NETLINK_NETFILTER)) == NULL) {
		log_warn("nft: monitor socket");
		return NULL;
	}
	if (mnl_socket_bind(m, 1 << (NFNLGRP_NFTABLES - 1),
	    MNL_SOCKET_AUTOPID) < 0) {
		log_warn("nft: monitor bind");
		(void)mnl_socket_close(m);
		return NULL;
	}
	fd = mnl_socket_get_fd(m);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) ==
	    -1) {
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		fatal("nft: monitor O_NONBLOCK");
	}
	return m;
}

/* One request from pbsd: 0 done, 1 none waiting, -1 pbsd has gone. */
static int
pbsd_nft_request(struct pbsd_nft *n, int fd)
{
	struct pbsd_nft_req	r;
	ssize_t			len;

	len = recv(fd, &r, sizeof(r), MSG_DONTWAIT);
	if (len == -1 && (errno == EINTR || errno == EAGAIN)) {
		return 1;
	}
	if (len == 0 || (len == -1 && errno == ECONNRESET)) {
		return -1;
	}
	if (len != (ssize_t)sizeof(r) ||
	    (r.nr_op != PBSD_NFT_REFRESH && r.nr_op != PBSD_NFT_DELETE) ||
	    !((r.nr_family == PBSD_FAM_INET && r.nr_plen == 32) ||
	    (r.nr_family == PBSD_FAM_INET6 && (r.nr_plen == 128 ||
	    r.nr_plen == 64))) ||
	    r.nr_timeout > PBSD_NFT_MAX_TIMEOUT ||
	    (r.nr_op == PBSD_NFT_REFRESH && r.nr_timeout == 0)) {
		fatalx("nft: bad request from pbsd");
	}
	pbsd_nft_apply(n, &r);
	return 0;
}

static int
pbsd_nft_poll_timeout(const struct pbsd_nft *n)
{
	const struct pbsd_entry	*first = pbsd_table_first(&n->n_mirror);
	int64_t			 d;

	if (first == NULL) {
		return -1;
	}
	d = first->pe_expiry - pbsd_nft_now_ms();
	return d < 0 ? 0 : (d > 60000 ? 60000 : (int)d);
}

static void __attribute__((noreturn))
pbsd_nft_main(const struct pbsd_nft_conf *conf, int fd, uid_t uid, gid_t gid)
{
	struct pbsd_nft		n;
	struct pollfd		pfd[2];
	struct timeval		tv = { 1, 0 };
	int			which, i, rc;

	log_procinit("nft");
	memset(&n, 0, sizeof(n));
	n.n_conf = conf;
	n.n_seq = (uint32_t)time(NULL);
	if ((n.n_nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL ||
	    mnl_socket_bind(n.n_nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fatal("nft: netlink socket");
	}
	(void)setsockopt(mnl_socket_get_fd(n.n_nl), SOL_SOCKET, SO_RCVTIMEO,
	    &tv, sizeof(tv));
	n.n_mon = pbsd_nft_monitor_open();
	n.n_last_overrun = pbsd_nft_now_ms() - PBSD_NFT_ENOBUFS_GAP_MS;
	pbsd_table_init(&n.n_mirror, PBSD_NFT_MAX_MIRROR);
	if (getuid() == 0 && uid != 0) {
		pbsd_nft_drop(uid, gid);
	}
	for (;;) {
		pfd[0].fd = fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = n.n_mon != NULL ? mnl_socket_get_fd(n.n_mon) : -1;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, pbsd_nft_poll_timeout(&n)) == -1 &&
		    errno != EINTR) {
			fatal("nft: poll");
		}
		(void)pbsd_table_expire(&n.n_mirror, pbsd_nft_now_ms());
		/* Our own changes are notified too: drain after each. */
		for (i = 0; i < PBSD_NFT_PER_MSG && (pfd[0].revents &
		    (POLLIN | POLLHUP | POLLERR)); i++) {
			if ((rc = pbsd_nft_request(&n, fd)) == -1) {
				_exit(0);
			}
			pbsd_nft_monitor(&n);
			if (rc == 1) {
				break;
			}
		}
		pbsd_nft_monitor(&n);
		if (n.n_resync != 0) {
			which = n.n_resync;
			n.n_resync = 0;
			pbsd_nft_resync(&n, which);
			pbsd_nft_monitor(&n);
		}
	}
}

int
pbsd_nft_start(const struct pbsd_nft_conf *conf, uid_t uid, gid_t gid,
    pid_t *pid_r)
{
	sigset_t	set;
	int		sv[2];
	pid_t		pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		fatal("nft: socketpair");
	}
	if ((pid = fork()) == -1) {
		fatal("nft: fork");
	}
	if (pid == 0) {
		close(sv[0]);
		(void)signal(SIGTERM, SIG_DFL);
		(void)signal(SIGINT, SIG_IGN);
		(void)signal(SIGHUP, SIG_IGN);
		/* pbsd blocks TERM outside its ppoll(); the helper must not
		 * inherit that, or PDEATHSIG would never reach it. */
		sigemptyset(&set);
		(void)sigprocmask(SIG_SETMASK, &set, NULL);
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		pbsd_nft_main(conf, sv[1], uid, gid);
	}
	close(sv[1]);
	*pid_r = pid;
	return sv[0];
}

int
pbsd_nft_send(int fd, int op, const struct pbsd_addr *a, unsigned int timeout)
{
	struct pbsd_nft_req	r;

	memset(&r, 0, sizeof(r));
	r.nr_op = (uint8_t)op;
	r.nr_family = a->pa_family;
	r.nr_plen = a->pa_plen;
	r.nr_timeout = timeout > PBSD_NFT_MAX_TIMEOUT ? PBSD_NFT_MAX_TIMEOUT :
	    timeout;
	memcpy(r.nr_addr, a->pa_bytes, sizeof(r.nr_addr));
	if (send(fd, &r, sizeof(r), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(r)) {
		return -1;
	}
	return 0;
}
