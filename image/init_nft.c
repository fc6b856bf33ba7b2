/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * init_nft: the appliance's firewall, loaded by PID 1 (root) over raw
 * nfnetlink before the network comes up; no nft binary is shipped.  It
 * trusts the kernel's replies only as far as their lengths check out.
 * The ruleset (table inet bailey_image):
 *
 *	sets:   relay4 (ipv4_addr), relay6 (ipv6_addr), both flags timeout:
 *		pbsd's nft output (pbsd.conf nft_table = bailey_image)
 *		fills them with the addresses of recent logins
 *	input:  policy drop; iif lo accept; ct state established,related
 *		accept; tcp dport <each allow-in port> accept; ip saddr
 *		@relay4 and ip6 saddr @relay6 tcp dport 25 and 587 accept
 *	output: policy drop; oif lo accept; ct state established,related
 *		accept; ip daddr <A> tcp dport <P> accept for each allow-out
 *
 * With conf == NULL only the loopback and established rules are loaded
 * (no sets: pbsd is not started then).
 * Messages are built with struct buf, nested attributes from the inside
 * out, so no length is ever patched in place.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

#define NFT_TABLE	"bailey_image"
#define NFT_MSG_MAX	(64 * 1024)
#define NFT_ATTR_MAX	4096
#define NFT_REG		NFT_REG_1
#define NFT_SET4	"relay4"
#define NFT_SET6	"relay6"
#define NFT_SET_ID4	1
#define NFT_SET_ID6	2
/* nft(8)'s data type numbers for ipv4_addr and ipv6_addr. */
#define NFT_TYPE_IPADDR		7
#define NFT_TYPE_IP6ADDR	8

/* SMTP and submission: accepted from the relay sets only. */
static const uint16_t nft_relay_ports[] = { 25, 587 };

struct nft_batch {
	struct buf	 b_msgs;
	uint32_t	 b_seq;
	unsigned int	 b_acks;	/* messages that will be acked */
};

static int	nft_attr(struct buf *, uint16_t, const void *, size_t);
static int	nft_attr_u32(struct buf *, uint16_t, uint32_t);
static int	nft_attr_str(struct buf *, uint16_t, const char *);
static int	nft_nest(struct buf *, uint16_t, struct buf *);
static int	nft_msg(struct nft_batch *, uint16_t, uint16_t, uint8_t,
		    uint16_t, struct buf *);
static int	nft_expr(struct buf *, const char *, struct buf *);
static int	nft_e_meta(struct buf *, uint32_t);
static int	nft_e_payload(struct buf *, uint32_t, uint32_t, uint32_t);
static int	nft_e_cmp(struct buf *, uint32_t, const void *, size_t);
static int	nft_e_accept(struct buf *);
static int	nft_e_ct_est(struct buf *);
static int	nft_e_lookup(struct buf *, const char *, uint32_t);
static int	nft_set(struct nft_batch *, const char *, uint32_t, uint32_t,
		    uint32_t);
static int	nft_rule_relay(struct nft_batch *, int, uint16_t);
static int	nft_relay(struct nft_batch *);
static int	nft_table(struct nft_batch *, uint16_t);
static int	nft_chain(struct nft_batch *, const char *, uint32_t);
static int	nft_rule(struct nft_batch *, const char *, struct buf *);
static int	nft_rules_base(struct nft_batch *, const char *, uint32_t);
static int	nft_rules_conf(struct nft_batch *, const struct image_conf *);
static int	nft_build(struct nft_batch *, const struct image_conf *);
static int	nft_send(struct nft_batch *, const char **);
static int	nft_acks(int, unsigned int, const char **);

/* One netlink attribute, padded to 4 bytes. */
static int
nft_attr(struct buf *b, uint16_t type, const void *data, size_t len)
{
	struct nlattr nla;
	static const uint8_t pad[NLA_ALIGNTO];
	size_t padlen = NLA_ALIGN(NLA_HDRLEN + len) - (NLA_HDRLEN + len);

	if (len > NFT_ATTR_MAX) {
		return -1;
	}
	nla.nla_len = (uint16_t)(NLA_HDRLEN + len);
	nla.nla_type = type;
	if (buf_add(b, &nla, sizeof(nla)) == -1 ||
	    buf_add(b, data, len) == -1 || buf_add(b, pad, padlen) == -1) {
		return -1;
	}
	return 0;
}

static int
nft_attr_u32(struct buf *b, uint16_t type, uint32_t host)
{
	uint32_t be = htonl(host);

	return nft_attr(b, type, &be, sizeof(be));
}

static int
nft_attr_str(struct buf *b, uint16_t type, const char *s)
{
	return nft_attr(b, type, s, strlen(s) + 1);
}

/* Appends inner as the payload of a nested attribute; releases inner. */
static int
nft_nest(struct buf *b, uint16_t type, struct buf *inner)
{
	int rv;

	rv = nft_attr(b, type | NLA_F_NESTED, buf_ptr(inner),
	    buf_len(inner));
	buf_release(inner);
	return rv;
}

/* nlmsghdr + nfgenmsg + payload; releases payload (may be NULL). */
static int
nft_msg(struct nft_batch *nb, uint16_t type, uint16_t flags, uint8_t family,
    uint16_t res_id, struct buf *payload)
{
	struct nlmsghdr nlh;
	struct nfgenmsg nfg;
	size_t plen = payload ? buf_len(payload) : 0;
	int rv = -1;

	memset(&nlh, 0, sizeof(nlh));
	nlh.nlmsg_len = (uint32_t)(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfg)) +
	    plen);
	nlh.nlmsg_type = type;
	nlh.nlmsg_flags = NLM_F_REQUEST | flags;
	nlh.nlmsg_seq = nb->b_seq++;
	nfg.nfgen_family = family;
	nfg.version = NFNETLINK_V0;
	nfg.res_id = htons(res_id);
	if (buf_add(&nb->b_msgs, &nlh, sizeof(nlh)) == -1 ||
	    buf_add(&nb->b_msgs, &nfg, sizeof(nfg)) == -1) {
		goto out;
	}
	if (payload != NULL && buf_add(&nb->b_msgs, buf_ptr(payload),
	    plen) == -1) {
		goto out;
	}
	if (flags & NLM_F_ACK) {
		nb->b_acks++;
	}
	rv = 0;
out:
	if (payload != NULL) {
		buf_release(payload);
	}
	return rv;
}

/* NFTA_LIST_ELEM { NAME, DATA { data } }; releases data. */
static int
nft_expr(struct buf *list, const char *name, struct buf *data)
{
	struct buf elem;

	buf_init(&elem, NFT_ATTR_MAX);
	if (nft_attr_str(&elem, NFTA_EXPR_NAME, name) == -1 ||
	    nft_nest(&elem, NFTA_EXPR_DATA, data) == -1) {
		buf_release(&elem);
		buf_release(data);
		return -1;
	}
	return nft_nest(list, NFTA_LIST_ELEM, &elem);
}

static int
nft_e_meta(struct buf *list, uint32_t key)
{
	struct buf d;

	buf_init(&d, NFT_ATTR_MAX);
	if (nft_attr_u32(&d, NFTA_META_DREG, NFT_REG) == -1 ||
	    nft_attr_u32(&d, NFTA_META_KEY, key) == -1) {
		buf_release(&d);
		return -1;
	}
	return nft_expr(list, "meta", &d);
}

static int
nft_e_payload(struct buf *list, uint32_t base, uint32_t off, uint32_t len)
{
	struct buf d;

	buf_init(&d, NFT_ATTR_MAX);
	if (nft_attr_u32(&d, NFTA_PAYLOAD_DREG, NFT_REG) == -1 ||
	    nft_attr_u32(&d, NFTA_PAYLOAD_BASE, base) == -1 ||
	    nft_attr_u32(&d, NFTA_PAYLOAD_OFFSET, off) == -1 ||
	    nft_attr_u32(&d, NFTA_PAYLOAD_LEN, len) == -1) {
		buf_release(&d);
		return -1;
	}
	return nft_expr(list, "payload", &d);
}

static int
nft_e_cmp(struct buf *list, uint32_t op, const void *val, size_t len)
{
	struct buf d, v;

	buf_init(&d, NFT_ATTR_MAX);
	buf_init(&v, NFT_ATTR_MAX);
	if (nft_attr_u32(&d, NFTA_CMP_SREG, NFT_REG) == -1 ||
	    nft_attr_u32(&d, NFTA_CMP_OP, op) == -1 ||
	    nft_attr(&v, NFTA_DATA_VALUE, val, len) == -1 ||
	    nft_nest(&d, NFTA_CMP_DATA, &v) == -1) {
		buf_release(&v);
		buf_release(&d);
		return -1;
	}
	return nft_expr(list, "cmp", &d);
}

static int
nft_e_accept(struct buf *list)
{
	struct buf d, data, verdict;

	buf_init(&d, NFT_ATTR_MAX);
	buf_init(&data, NFT_ATTR_MAX);
	buf_init(&verdict, NFT_ATTR_MAX);
	if (nft_attr_u32(&verdict, NFTA_VERDICT_CODE, NF_ACCEPT) == -1 ||
	    nft_nest(&data, NFTA_DATA_VERDICT, &verdict) == -1 ||
	    nft_attr_u32(&d, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT) == -1 ||
	    nft_nest(&d, NFTA_IMMEDIATE_DATA, &data) == -1) {
		buf_release(&verdict);
		buf_release(&data);
		buf_release(&d);
		return -1;
	}
	return nft_expr(list, "immediate", &d);
}

/* ct state & (established|related) != 0 */
static int
nft_e_ct_est(struct buf *list)
{
	struct buf ct, bw, mask, xor;
	uint32_t m = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) |
	    NF_CT_STATE_BIT(IP_CT_RELATED), zero = 0;

	buf_init(&ct, NFT_ATTR_MAX);
	buf_init(&bw, NFT_ATTR_MAX);
	buf_init(&mask, NFT_ATTR_MAX);
	buf_init(&xor, NFT_ATTR_MAX);
	if (nft_attr_u32(&ct, NFTA_CT_DREG, NFT_REG) == -1 ||
	    nft_attr_u32(&ct, NFTA_CT_KEY, NFT_CT_STATE) == -1 ||
	    nft_expr(list, "ct", &ct) == -1) {
		goto fail;
	}
	if (nft_attr_u32(&bw, NFTA_BITWISE_SREG, NFT_REG) == -1 ||
	    nft_attr_u32(&bw, NFTA_BITWISE_DREG, NFT_REG) == -1 ||
	    nft_attr_u32(&bw, NFTA_BITWISE_LEN, sizeof(m)) == -1 ||
	    nft_attr(&mask, NFTA_DATA_VALUE, &m, sizeof(m)) == -1 ||
	    nft_nest(&bw, NFTA_BITWISE_MASK, &mask) == -1 ||
	    nft_attr(&xor, NFTA_DATA_VALUE, &zero, sizeof(zero)) == -1 ||
	    nft_nest(&bw, NFTA_BITWISE_XOR, &xor) == -1 ||
	    nft_expr(list, "bitwise", &bw) == -1) {
		goto fail;
	}
	return nft_e_cmp(list, NFT_CMP_NEQ, &zero, sizeof(zero));
fail:
	buf_release(&ct);
	buf_release(&bw);
	buf_release(&mask);
	buf_release(&xor);
	return -1;
}

/* The source address in NFT_REG is an element of the named set. */
static int
nft_e_lookup(struct buf *list, const char *set, uint32_t id)
{
	struct buf d;

	buf_init(&d, NFT_ATTR_MAX);
	if (nft_attr_str(&d, NFTA_LOOKUP_SET, set) == -1 ||
	    nft_attr_u32(&d, NFTA_LOOKUP_SET_ID, id) == -1 ||
	    nft_attr_u32(&d, NFTA_LOOKUP_SREG, NFT_REG) == -1) {
		buf_release(&d);
		return -1;
	}
	return nft_expr(list, "lookup", &d);
}

static int
nft_table(struct nft_batch *nb, uint16_t msg)
{
	struct buf p;
	uint16_t fl = NLM_F_ACK;

	if (msg == NFT_MSG_NEWTABLE) {
		fl |= NLM_F_CREATE;
	}
	buf_init(&p, NFT_ATTR_MAX);
	if (nft_attr_str(&p, NFTA_TABLE_NAME, NFT_TABLE) == -1) {
		buf_release(&p);
		return -1;
	}
	return nft_msg(nb, (NFNL_SUBSYS_NFTABLES << 8) | msg, fl,
	    NFPROTO_INET, 0, &p);
}

static int
nft_chain(struct nft_batch *nb, const char *name, uint32_t hook)
{
	struct buf p, h;

	buf_init(&p, NFT_ATTR_MAX);
	buf_init(&h, NFT_ATTR_MAX);
	if (nft_attr_str(&p, NFTA_CHAIN_TABLE, NFT_TABLE) == -1 ||
	    nft_attr_str(&p, NFTA_CHAIN_NAME, name) == -1 ||
	    nft_attr_u32(&h, NFTA_HOOK_HOOKNUM, hook) == -1 ||
	    nft_attr_u32(&h, NFTA_HOOK_PRIORITY, 0) == -1 ||
	    nft_nest(&p, NFTA_CHAIN_HOOK, &h) == -1 ||
	    nft_attr_u32(&p, NFTA_CHAIN_POLICY, NF_DROP) == -1 ||
	    nft_attr_str(&p, NFTA_CHAIN_TYPE, "filter") == -1) {
		buf_release(&h);
		buf_release(&p);
		return -1;
	}
	return nft_msg(nb, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN,
	    NLM_F_ACK | NLM_F_CREATE, NFPROTO_INET, 0, &p);
}

/* A named address set whose elements carry their own timeout. */
static int
nft_set(struct nft_batch *nb, const char *name, uint32_t id, uint32_t type,
    uint32_t keylen)
{
	struct buf p;

	buf_init(&p, NFT_ATTR_MAX);
	if (nft_attr_str(&p, NFTA_SET_TABLE, NFT_TABLE) == -1 ||
	    nft_attr_str(&p, NFTA_SET_NAME, name) == -1 ||
	    nft_attr_u32(&p, NFTA_SET_FLAGS, NFT_SET_TIMEOUT) == -1 ||
	    nft_attr_u32(&p, NFTA_SET_KEY_TYPE, type) == -1 ||
	    nft_attr_u32(&p, NFTA_SET_KEY_LEN, keylen) == -1 ||
	    nft_attr_u32(&p, NFTA_SET_ID, id) == -1) {
		buf_release(&p);
		return -1;
	}
	return nft_msg(nb, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSET,
	    NLM_F_ACK | NLM_F_CREATE, NFPROTO_INET, 0, &p);
}

/* Appends a rule made of the expression list exprs (released). */
static int
nft_rule(struct nft_batch *nb, const char *chain, struct buf *exprs)
{
	struct buf p;

	buf_init(&p, NFT_MSG_MAX);
	if (nft_attr_str(&p, NFTA_RULE_TABLE, NFT_TABLE) == -1 ||
	    nft_attr_str(&p, NFTA_RULE_CHAIN, chain) == -1 ||
	    nft_nest(&p, NFTA_RULE_EXPRESSIONS, exprs) == -1) {
		buf_release(exprs);
		buf_release(&p);
		return -1;
	}
	return nft_msg(nb, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE,
	    NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND, NFPROTO_INET, 0, &p);
}

/* "iif/oif lo accept" and "ct state established,related accept". */
static int
nft_rules_base(struct nft_batch *nb, const char *chain, uint32_t ifkey)
{
	struct buf e;
	uint32_t lo = 1;	/* the loopback device is always ifindex 1 */

	buf_init(&e, NFT_ATTR_MAX);
	if (nft_e_meta(&e, ifkey) == -1 ||
	    nft_e_cmp(&e, NFT_CMP_EQ, &lo, sizeof(lo)) == -1 ||
	    nft_e_accept(&e) == -1 || nft_rule(nb, chain, &e) == -1) {
		buf_release(&e);
		return -1;
	}
	buf_init(&e, NFT_ATTR_MAX);
	if (nft_e_ct_est(&e) == -1 || nft_e_accept(&e) == -1 ||
	    nft_rule(nb, chain, &e) == -1) {
		buf_release(&e);
		return -1;
	}
	return 0;
}

static int
nft_rules_conf(struct nft_batch *nb, const struct image_conf *c)
{
	struct buf e;
	uint8_t tcp = IPPROTO_TCP, ip4 = NFPROTO_IPV4;
	uint16_t port;
	size_t i;

	for (i = 0; i < c->ic_nin; i++) {
		port = htons(c->ic_in[i]);
		buf_init(&e, NFT_ATTR_MAX);
		if (nft_e_meta(&e, NFT_META_L4PROTO) == -1 ||
		    nft_e_cmp(&e, NFT_CMP_EQ, &tcp, 1) == -1 ||
		    nft_e_payload(&e, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2) ==
		    -1 || nft_e_cmp(&e, NFT_CMP_EQ, &port, 2) == -1 ||
		    nft_e_accept(&e) == -1 || nft_rule(nb, "input", &e) == -1) {
			buf_release(&e);
			return -1;
		}
	}
	for (i = 0; i < c->ic_nout; i++) {
		port = htons(c->ic_out[i].d_port);
		buf_init(&e, NFT_ATTR_MAX);
		if (nft_e_meta(&e, NFT_META_NFPROTO) == -1 ||
		    nft_e_cmp(&e, NFT_CMP_EQ, &ip4, 1) == -1 ||
		    nft_e_payload(&e, NFT_PAYLOAD_NETWORK_HEADER, 16, 4) ==
		    -1 || nft_e_cmp(&e, NFT_CMP_EQ, &c->ic_out[i].d_addr,
		    4) == -1 || nft_e_meta(&e, NFT_META_L4PROTO) == -1 ||
		    nft_e_cmp(&e, NFT_CMP_EQ, &tcp, 1) == -1 ||
		    nft_e_payload(&e, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2) ==
		    -1 || nft_e_cmp(&e, NFT_CMP_EQ, &port, 2) == -1 ||
		    nft_e_accept(&e) == -1 ||
		    nft_rule(nb, "output", &e) == -1) {
			buf_release(&e);
			return -1;
		}
	}
	return 0;
}

/* "ip saddr @relay4 tcp dport P accept", or ip6 with v6 != 0. */
static int
nft_rule_relay(struct nft_batch *nb, int v6, uint16_t hport)
{
	struct buf e;
	uint8_t tcp = IPPROTO_TCP, fam = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	uint16_t port = htons(hport);

	buf_init(&e, NFT_ATTR_MAX);
	if (nft_e_meta(&e, NFT_META_NFPROTO) == -1 ||
	    nft_e_cmp(&e, NFT_CMP_EQ, &fam, 1) == -1 ||
	    nft_e_payload(&e, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12,
	    v6 ? 16 : 4) == -1 ||
	    nft_e_lookup(&e, v6 ? NFT_SET6 : NFT_SET4,
	    v6 ? NFT_SET_ID6 : NFT_SET_ID4) == -1 ||
	    nft_e_meta(&e, NFT_META_L4PROTO) == -1 ||
	    nft_e_cmp(&e, NFT_CMP_EQ, &tcp, 1) == -1 ||
	    nft_e_payload(&e, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2) == -1 ||
	    nft_e_cmp(&e, NFT_CMP_EQ, &port, 2) == -1 ||
	    nft_e_accept(&e) == -1 || nft_rule(nb, "input", &e) == -1) {
		buf_release(&e);
		return -1;
	}
	return 0;
}

/* pbsd's sets and the SMTP rules that read them. */
static int
nft_relay(struct nft_batch *nb)
{
	size_t i;
	int v6;

	if (nft_set(nb, NFT_SET4, NFT_SET_ID4, NFT_TYPE_IPADDR, 4) == -1 ||
	    nft_set(nb, NFT_SET6, NFT_SET_ID6, NFT_TYPE_IP6ADDR, 16) == -1) {
		return -1;
	}
	for (v6 = 0; v6 <= 1; v6++) {
		for (i = 0; i < sizeof(nft_relay_ports) /
		    sizeof(nft_relay_ports[0]); i++) {
			if (nft_rule_relay(nb, v6, nft_relay_ports[i]) == -1) {
				return -1;
			}
		}
	}
	return 0;
}

static int
nft_build(struct nft_batch *nb, const struct image_conf *c)
{
	if (nft_msg(nb, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC,
	    NFNL_SUBSYS_NFTABLES, NULL) == -1 ||
	    nft_table(nb, NFT_MSG_NEWTABLE) == -1 ||
	    nft_table(nb, NFT_MSG_DELTABLE) == -1 ||
	    nft_table(nb, NFT_MSG_NEWTABLE) == -1 ||
	    nft_chain(nb, "input", NF_INET_LOCAL_IN) == -1 ||
	    nft_chain(nb, "output", NF_INET_LOCAL_OUT) == -1 ||
	    nft_rules_base(nb, "input", NFT_META_IIF) == -1 ||
	    nft_rules_base(nb, "output", NFT_META_OIF) == -1) {
		return -1;
	}
	if (c != NULL && (nft_rules_conf(nb, c) == -1 ||
	    nft_relay(nb) == -1)) {
		return -1;
	}
	return nft_msg(nb, NFNL_MSG_BATCH_END, 0, AF_UNSPEC,
	    NFNL_SUBSYS_NFTABLES, NULL);
}

/* Reads acks until n arrived; the first non-zero error fails. */
static int
nft_acks(int s, unsigned int n, const char **errstr_r)
{
	static char ebuf[96];
	uint8_t rb[8192];
	struct nlmsghdr nlh;
	struct nlmsgerr err;
	struct span all, m;
	size_t off;
	ssize_t r;

	while (n > 0) {
		if ((r = recv(s, rb, sizeof(rb), 0)) <= 0) {
			*errstr_r = "no answer from nf_tables";
			return -1;
		}
		all.p = rb;
		all.len = (size_t)r;
		for (off = 0; n > 0 && all.len - off >= NLMSG_HDRLEN; ) {
			m = span_sub(all, off, NLMSG_HDRLEN);
			memcpy(&nlh, m.p, sizeof(nlh));
			if (nlh.nlmsg_len < NLMSG_HDRLEN ||
			    nlh.nlmsg_len > all.len - off) {
				*errstr_r = "bad netlink reply";
				return -1;
			}
			if (nlh.nlmsg_type == NLMSG_ERROR &&
			    nlh.nlmsg_len >= NLMSG_HDRLEN + sizeof(err)) {
				m = span_sub(all, off + NLMSG_HDRLEN,
				    sizeof(err));
				memcpy(&err, m.p, sizeof(err));
				if (err.error != 0) {
					snprintf(ebuf, sizeof(ebuf),
					    "nf_tables: message %u: %s",
					    err.msg.nlmsg_seq,
					    strerror(-err.error));
					*errstr_r = ebuf;
					return -1;
				}
				n--;
			}
			off += NLMSG_ALIGN(nlh.nlmsg_len);
			if (off > all.len) {
				break;
			}
		}
	}
	return 0;
}

static int
nft_send(struct nft_batch *nb, const char **errstr_r)
{
	struct sockaddr_nl snl;
	struct timeval tv = { 3, 0 };
	ssize_t w;
	int s, rv = -1;

	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (s == -1) {
		*errstr_r = "netlink socket";
		return -1;
	}
	(void)setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&snl, 0, sizeof(snl));
	snl.nl_family = AF_NETLINK;
	w = sendto(s, buf_ptr(&nb->b_msgs), buf_len(&nb->b_msgs), 0,
	    (struct sockaddr *)&snl, sizeof(snl));
	if (w < 0 || (size_t)w != buf_len(&nb->b_msgs)) {
		*errstr_r = "netlink send";
		goto out;
	}
	rv = nft_acks(s, nb->b_acks, errstr_r);
out:
	close(s);
	return rv;
}

int
init_nft_load(const struct image_conf *c, const char **errstr_r)
{
	struct nft_batch nb;
	int rv = -1;

	memset(&nb, 0, sizeof(nb));
	buf_init(&nb.b_msgs, NFT_MSG_MAX);
	nb.b_seq = 1;
	if (nft_build(&nb, c) == -1) {
		*errstr_r = "ruleset too large";
		goto out;
	}
	rv = nft_send(&nb, errstr_r);
out:
	buf_release(&nb.b_msgs);
	return rv;
}
