/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_nft: the optional nftables writer.  pbsd forks it before dropping
 * privileges; it runs as pbsd's user keeping only CAP_NET_ADMIN (needed on
 * every netlink send, research/pbsd.md 6.4), speaks nfnetlink and nothing
 * else, and trusts only the pbsd process at the other end of its
 * socketpair: a malformed request from there is fatal.  It also listens
 * to nf_tables' own notifications (NFNLGRP_NFTABLES) and puts its elements
 * back by itself when the ruleset re-creates one of its sets.
 */
#ifndef BAILEY_PBSD_NFT_H
#define BAILEY_PBSD_NFT_H

#include <stdint.h>
#include <sys/types.h>

#include "pbsd_key.h"

#define PBSD_NFT_MAX_NAME	32
#define PBSD_NFT_MAX_TIMEOUT	604800

enum pbsd_nft_op {
	PBSD_NFT_REFRESH = 1,	/* add or re-add with a new timeout */
	PBSD_NFT_DELETE = 2,
};

/*
 * One request, pbsd -> writer, on a SOCK_SEQPACKET socketpair.  An IPv6
 * /64 (ipv6_prefix = 64) becomes an interval element [prefix, next /64)
 * of set6, which must then be declared "flags interval, timeout".
 */
struct pbsd_nft_req {
	uint8_t		nr_op;		/* enum pbsd_nft_op */
	uint8_t		nr_family;	/* PBSD_FAM_INET or PBSD_FAM_INET6 */
	uint8_t		nr_plen;	/* 32; 128 or 64 for IPv6 */
	uint8_t		nr_pad;
	uint32_t	nr_timeout;	/* seconds, REFRESH only */
	uint8_t		nr_addr[16];
};

struct pbsd_nft_conf {
	char	nc_table[PBSD_NFT_MAX_NAME];	/* "" = no nft output */
	char	nc_set4[PBSD_NFT_MAX_NAME];
	char	nc_set6[PBSD_NFT_MAX_NAME];
};

/*
 * Forks the writer.  Call as root, before pbsd drops privileges; the child
 * keeps CAP_NET_ADMIN only and runs as uid/gid.  Returns the pbsd end of
 * the socketpair and the child's pid, or fatal.
 */
int	 pbsd_nft_start(const struct pbsd_nft_conf *, uid_t, gid_t,
	    pid_t *pid_r);
/*
 * Queues one request without blocking.  Returns 0, or -1 if the writer's
 * socket is full or gone (the caller counts it).
 */
int	 pbsd_nft_send(int fd, int op, const struct pbsd_addr *,
	    unsigned int timeout);

#endif
