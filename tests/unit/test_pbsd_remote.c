/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests of the remote-gateway configuration (issue 6): endpoints
 * ("udp:ADDR:PORT", "tcp:[V6]:PORT"), remote_allow networks and their
 * matching, the key pairing checks, and each line fed whole and cut at
 * every length (a cut line must never parse as something else silently
 * longer).  Runs in the test process only, unprivileged.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "harness.h"
#include "pbsd_conf.h"

static int
ep(const char *s, struct pbsd_endpoint *e)
{
	const char	*errstr = NULL;
	int		 r;

	r = pbsd_conf_endpoint(span_from_str(s), e, &errstr);
	if (r == -1) {
		T_ASSERT(errstr != NULL);
	}
	return r;
}

static void
test_endpoints(void)
{
	struct pbsd_endpoint	e;
	static const char *const bad[] = {
		"", "udp", "udp:", "udp:127.0.0.1", "udp:127.0.0.1:",
		"udp:127.0.0.1:0", "udp:127.0.0.1:65536", "udp:127.0.0.1:x",
		"sctp:127.0.0.1:1", "udp:::1:7025", "udp:[127.0.0.1]:7025",
		"udp:[::1]7025", "udp:[::1]:", "udp:[::1", "tcp:host:25",
		"udp:127.0.0.1:70 25", "udp:127.0.0.1:-1", "udp: 127.0.0.1:1",
	};
	size_t			i;

	T_EQ_INT(ep("udp:127.0.0.1:7025", &e), 0);
	T_EQ_INT(e.ep_proto, PBSD_EP_UDP);
	T_EQ_INT(e.ep_family, AF_INET);
	T_EQ_INT(e.ep_port, 7025);
	T_EQ_INT(e.ep_addr[0], 127);
	T_EQ_INT(e.ep_addr[3], 1);
	T_EQ_INT(ep("TCP:[2001:db8::1]:65535", &e), 0);
	T_EQ_INT(e.ep_proto, PBSD_EP_TCP);
	T_EQ_INT(e.ep_family, AF_INET6);
	T_EQ_INT(e.ep_port, 65535);
	T_EQ_INT(e.ep_addr[0], 0x20);
	T_EQ_INT(e.ep_addr[15], 1);
	T_EQ_INT(ep("udp:0.0.0.0:1", &e), 0);
	T_EQ_INT(e.ep_port, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ep(bad[i], &e) != -1) {
			fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
			harness_failures++;
		}
	}
}

/* Every proper prefix of a good endpoint is rejected or is itself valid
 * with a shorter port (never a crash or a read past the cut). */
static void
test_endpoint_prefixes(void)
{
	static const char *const good[] = {
		"udp:127.0.0.1:7025", "tcp:[2001:db8::1]:7025",
	};
	struct pbsd_endpoint	 e;
	const char		*errstr;
	size_t			 i, n, len;
	int			 r;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		len = strlen(good[i]);
		for (n = 0; n < len; n++) {
			r = pbsd_conf_endpoint((struct span){
			    (const uint8_t *)good[i], n }, &e, &errstr);
			if (r == 0) {
				/* only "...:70", "...:702" and so on */
				T_ASSERT(e.ep_port < 7025);
				T_ASSERT(n > len - 4);
			}
		}
		T_EQ_INT(pbsd_conf_endpoint((struct span){
		    (const uint8_t *)good[i], len }, &e, &errstr), 0);
	}
}

static int
conf(const char *text, struct pbsd_conf *c)
{
	const char	*errstr = NULL;
	size_t		 line;

	pbsd_conf_defaults(c);
	if (pbsd_conf_parse(c, (const uint8_t *)text, strlen(text), &errstr,
	    &line) == -1) {
		return -1;
	}
	return pbsd_conf_check(c, &errstr);
}

static void
test_allow(void)
{
	static struct pbsd_conf	c;
	uint8_t			a4[4], a6[16];

	T_EQ_INT(conf("allow_uid = 0\nremote_listen = udp:127.0.0.1:1\n"
	    "remote_key = /k\nremote_allow = 192.0.2.77/24, 10.1.2.3 "
	    "2001:db8::/32 0.0.0.0/0\n", &c), 0);
	T_EQ_INT(c.pc_remote.rc_nallow, 4);
	T_EQ_INT(c.pc_remote.rc_allow[0].nm_plen, 24);
	T_EQ_INT(c.pc_remote.rc_allow[0].nm_addr[3], 0);	/* masked */
	T_EQ_INT(c.pc_remote.rc_allow[1].nm_plen, 32);
	T_ASSERT(inet_pton(AF_INET, "192.0.2.200", a4) == 1);
	T_EQ_INT(pbsd_netmask_match(&c.pc_remote.rc_allow[0], AF_INET, a4),
	    1);
	T_EQ_INT(pbsd_netmask_match(&c.pc_remote.rc_allow[1], AF_INET, a4),
	    0);
	T_ASSERT(inet_pton(AF_INET, "192.0.3.1", a4) == 1);
	T_EQ_INT(pbsd_netmask_match(&c.pc_remote.rc_allow[0], AF_INET, a4),
	    0);
	T_EQ_INT(pbsd_netmask_match(&c.pc_remote.rc_allow[3], AF_INET, a4),
	    1);
	T_ASSERT(inet_pton(AF_INET6, "2001:db8:ffff::1", a6) == 1);
	T_EQ_INT(pbsd_netmask_match(&c.pc_remote.rc_allow[2], AF_INET6, a6),
	    1);
	T_EQ_INT(pbsd_netmask_match(&c.pc_remote.rc_allow[0], AF_INET6, a6),
	    0);
	a6[3] ^= 1;		/* 2001:db9:... */
	T_EQ_INT(pbsd_netmask_match(&c.pc_remote.rc_allow[2], AF_INET6, a6),
	    0);
	/* Prefix limits: /32 and /128 fine, one past not. */
	T_EQ_INT(conf("allow_uid = 0\nremote_listen = udp:127.0.0.1:1\n"
	    "remote_key = /k\nremote_allow = 1.2.3.4/32 ::1/128\n", &c), 0);
	T_EQ_INT(conf("allow_uid = 0\nremote_listen = udp:127.0.0.1:1\n"
	    "remote_key = /k\nremote_allow = 1.2.3.4/33\n", &c), -1);
	T_EQ_INT(conf("allow_uid = 0\nremote_listen = udp:127.0.0.1:1\n"
	    "remote_key = /k\nremote_allow = ::1/129\n", &c), -1);
	T_EQ_INT(conf("allow_uid = 0\nremote_listen = udp:127.0.0.1:1\n"
	    "remote_key = /k\nremote_allow = 1.2.3/8\n", &c), -1);
	/* 16 networks is the limit. */
	T_EQ_INT(conf("allow_uid = 0\nremote_listen = udp:127.0.0.1:1\n"
	    "remote_key = /k\nremote_allow = 1.0.0.1 1.0.0.2 1.0.0.3 1.0.0.4 "
	    "1.0.0.5 1.0.0.6 1.0.0.7 1.0.0.8 1.0.0.9 1.0.0.10 1.0.0.11 "
	    "1.0.0.12 1.0.0.13 1.0.0.14 1.0.0.15 1.0.0.16\n", &c), 0);
	T_EQ_INT(conf("allow_uid = 0\nremote_listen = udp:127.0.0.1:1\n"
	    "remote_key = /k\nremote_allow = 1.0.0.1 1.0.0.2 1.0.0.3 1.0.0.4 "
	    "1.0.0.5 1.0.0.6 1.0.0.7 1.0.0.8 1.0.0.9 1.0.0.10 1.0.0.11 "
	    "1.0.0.12 1.0.0.13 1.0.0.14 1.0.0.15 1.0.0.16 1.0.0.17\n", &c),
	    -1);
}

static void
test_pairs_and_limits(void)
{
	static struct pbsd_conf	c;

	T_EQ_INT(conf("allow_uid = 0\n", &c), 0);
	T_EQ_INT(c.pc_remote.rc_nlisten, 0);
	T_EQ_INT(c.pc_remote.rc_forward.ep_proto, PBSD_EP_NONE);
	T_EQ_INT(c.pc_remote.rc_window, 60);
	T_EQ_INT(conf("allow_uid = 0\nremote_listen = udp:127.0.0.1:1\n",
	    &c), -1);
	T_EQ_INT(conf("allow_uid = 0\nremote_key = /k\n", &c), -1);
	T_EQ_INT(conf("allow_uid = 0\nremote_listen = udp:127.0.0.1:1\n"
	    "remote_key = /k\nremote_key_previous = /k\n", &c), -1);
	T_EQ_INT(conf("allow_uid = 0\nforward = udp:127.0.0.1:1\n", &c), -1);
	T_EQ_INT(conf("allow_uid = 0\nforward_key = /k\n", &c), -1);
	T_EQ_INT(conf("allow_uid = 0\nforward = udp:127.0.0.1:1\n"
	    "forward_key = /k\n", &c), 0);
	T_EQ_INT(conf("allow_uid = 0\nforward = udp:127.0.0.1:1\n"
	    "forward = udp:127.0.0.1:2\nforward_key = /k\n", &c), -1);
	T_EQ_INT(conf("allow_uid = 0\nforward = udp:127.0.0.1:1\n"
	    "forward_key = k\n", &c), -1);		/* not absolute */
	/* remote_window 1..3600, nonce cache 16..1048576, listen <= 4. */
	T_EQ_INT(conf("allow_uid = 0\nremote_window = 3600\n"
	    "remote_nonce_cache = 16\n", &c), 0);
	T_EQ_INT(c.pc_remote.rc_window, 3600);
	T_EQ_INT(conf("allow_uid = 0\nremote_window = 3601\n", &c), -1);
	T_EQ_INT(conf("allow_uid = 0\nremote_window = 0\n", &c), -1);
	T_EQ_INT(conf("allow_uid = 0\nremote_nonce_cache = 15\n", &c), -1);
	T_EQ_INT(conf("allow_uid = 0\nremote_nonce_cache = 1048577\n", &c),
	    -1);
	T_EQ_INT(conf("allow_uid = 0\nremote_max_connections = 1025\n", &c),
	    -1);
	T_EQ_INT(conf("allow_uid = 0\nremote_key = /k\nremote_allow = ::1\n"
	    "remote_listen = udp:127.0.0.1:1\nremote_listen = tcp:[::1]:1\n"
	    "remote_listen = udp:127.0.0.1:2\n"
	    "remote_listen = udp:127.0.0.1:3\n", &c), 0);
	T_EQ_INT(c.pc_remote.rc_nlisten, 4);
	T_EQ_INT(conf("allow_uid = 0\nremote_key = /k\nremote_allow = ::1\n"
	    "remote_listen = udp:127.0.0.1:1\nremote_listen = tcp:[::1]:1\n"
	    "remote_listen = udp:127.0.0.1:2\n"
	    "remote_listen = udp:127.0.0.1:3\n"
	    "remote_listen = udp:127.0.0.1:4\n", &c), -1);
}

/* Review F2: a TCP listener needs remote_allow; UDP does not. */
static void
test_tcp_needs_allow(void)
{
	static struct pbsd_conf	 c;
	static const char	 text[] = "allow_uid = 0\nremote_key = /k\n"
	    "remote_listen = udp:127.0.0.1:1\nremote_listen = tcp:127.0.0.1:1\n";
	const char		*errstr = NULL;
	size_t			 line;

	pbsd_conf_defaults(&c);
	T_EQ_INT(pbsd_conf_parse(&c, (const uint8_t *)text, strlen(text),
	    &errstr, &line), 0);
	T_EQ_INT(pbsd_conf_check(&c, &errstr), -1);
	T_EQ_STR(errstr, "remote_listen tcp needs remote_allow");
	T_EQ_INT(conf("allow_uid = 0\nremote_key = /k\n"
	    "remote_listen = tcp:[::1]:1\n", &c), -1);
	T_EQ_INT(conf("allow_uid = 0\nremote_key = /k\n"
	    "remote_listen = tcp:[::1]:1\nremote_allow = ::1/128\n", &c), 0);
	T_EQ_INT(conf("allow_uid = 0\nremote_key = /k\n"
	    "remote_listen = udp:[::1]:1\n", &c), 0);
}

static const struct harness_case cases[] = {
	{ "endpoints", test_endpoints },
	{ "endpoint prefixes", test_endpoint_prefixes },
	{ "remote_allow", test_allow },
	{ "pairs and limits", test_pairs_and_limits },
	{ "tcp needs remote_allow", test_tcp_needs_allow },
};

HARNESS_MAIN("test_pbsd_remote", cases)
