/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_nft: the nftables writer process.  Forked by pbsd as root, it
 * switches to pbsd's user keeping only CAP_NET_ADMIN (effective and
 * permitted; bounding set, inheritable and ambient cleared), sets
 * no_new_privs, and then only reads fixed-size requests from pbsd and
 * turns them into nf_tables set element batches (research/pbsd.md 6.2,
 * 6.3: refresh = NEW without timeout, DEL, NEW with timeout, one batch).
 * It trusts pbsd, its parent; a malformed request is fatal.
 */
#include <errno.h>
#include <grp.h>
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

#define PBSD_NFT_BUF	16384

struct pbsd_nft {
	const struct pbsd_nft_conf	*n_conf;
	struct mnl_socket		*n_nl;
	uint32_t			 n_seq;
};

static struct nftnl_set *
pbsd_nft_elem(const struct pbsd_nft *n, const struct pbsd_nft_req *r,
    uint64_t timeout_ms)
{
	struct nftnl_set	*s;
	struct nftnl_set_elem	*e;
	size_t			 alen = r->nr_family == PBSD_FAM_INET ? 4 : 16;

	if ((s = nftnl_set_alloc()) == NULL ||
	    (e = nftnl_set_elem_alloc()) == NULL) {
		fatalx("nft: out of memory");
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, n->n_conf->nc_table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, r->nr_family == PBSD_FAM_INET ?
	    n->n_conf->nc_set4 : n->n_conf->nc_set6);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, r->nr_addr, (uint32_t)alen);
	if (timeout_ms > 0) {
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
	}
	nftnl_set_elem_add(s, e);
	return s;
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
	mnl_nlmsg_batch_next(b);
}

/* Reads acks until want arrived or the receive timeout; first error. */
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
			if (nlh->nlmsg_type != NLMSG_ERROR) {
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

static void
pbsd_nft_apply(struct pbsd_nft *n, const struct pbsd_nft_req *r)
{
	char			 buf[PBSD_NFT_BUF];
	char			 text[PBSD_KEY_MAX];
	struct mnl_nlmsg_batch	*b;
	struct pbsd_addr	 a;
	int			 acks, err;

	b = mnl_nlmsg_batch_start(buf, sizeof(buf));
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), n->n_seq++);
	mnl_nlmsg_batch_next(b);
	if (r->nr_op == PBSD_NFT_REFRESH) {
		pbsd_nft_msg(n, b, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_ACK,
		    pbsd_nft_elem(n, r, 0));
		pbsd_nft_msg(n, b, NFT_MSG_DELSETELEM, NLM_F_ACK,
		    pbsd_nft_elem(n, r, 0));
		pbsd_nft_msg(n, b, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_ACK,
		    pbsd_nft_elem(n, r, (uint64_t)r->nr_timeout * 1000));
		acks = 3;
	} else {
		pbsd_nft_msg(n, b, NFT_MSG_DELSETELEM, NLM_F_ACK,
		    pbsd_nft_elem(n, r, 0));
		acks = 1;
	}
	nftnl_batch_end(mnl_nlmsg_batch_current(b), n->n_seq++);
	mnl_nlmsg_batch_next(b);
	if (mnl_socket_sendto(n->n_nl, mnl_nlmsg_batch_head(b),
	    mnl_nlmsg_batch_size(b)) < 0) {
		err = errno;
	} else {
		err = pbsd_nft_acks(n, acks);
	}
	mnl_nlmsg_batch_stop(b);
	if (err != 0 && !(r->nr_op == PBSD_NFT_DELETE && err == ENOENT)) {
		(void)pbsd_addr_make(r->nr_family, r->nr_addr, 128, &a);
		(void)pbsd_key_format(&a, PBSD_KEY_STATE, text, sizeof(text));
		log_warnx("nft: %s %s in inet %s: %s", r->nr_op ==
		    PBSD_NFT_REFRESH ? "refresh" : "delete", text,
		    n->n_conf->nc_table, strerror(err));
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

static void __attribute__((noreturn))
pbsd_nft_main(const struct pbsd_nft_conf *conf, int fd, uid_t uid, gid_t gid)
{
	struct pbsd_nft		n;
	struct pbsd_nft_req	r;
	struct timeval		tv = { 1, 0 };
	ssize_t			len;

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
	if (getuid() == 0 && uid != 0) {
		pbsd_nft_drop(uid, gid);
	}
	for (;;) {
		len = recv(fd, &r, sizeof(r), 0);
		if (len == -1 && errno == EINTR) {
			continue;
		}
		if (len == 0 || (len == -1 && errno == ECONNRESET)) {
			_exit(0);
		}
		if (len != (ssize_t)sizeof(r) ||
		    (r.nr_op != PBSD_NFT_REFRESH && r.nr_op != PBSD_NFT_DELETE) ||
		    (r.nr_family != PBSD_FAM_INET &&
		    r.nr_family != PBSD_FAM_INET6) ||
		    r.nr_timeout > PBSD_NFT_MAX_TIMEOUT ||
		    (r.nr_op == PBSD_NFT_REFRESH && r.nr_timeout == 0)) {
			fatalx("nft: bad request from pbsd");
		}
		pbsd_nft_apply(&n, &r);
	}
}

int
pbsd_nft_start(const struct pbsd_nft_conf *conf, uid_t uid, gid_t gid,
    pid_t *pid_r)
{
	int	sv[2];
	pid_t	pid;

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
	r.nr_timeout = timeout > PBSD_NFT_MAX_TIMEOUT ? PBSD_NFT_MAX_TIMEOUT :
	    timeout;
	memcpy(r.nr_addr, a->pa_bytes, sizeof(r.nr_addr));
	if (send(fd, &r, sizeof(r), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(r)) {
		return -1;
	}
	return 0;
}
