/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests of pbsd_key.c: address folding and the key text each MTA
 * looks up (research/pbsd.md 1.1, 2.1, 4).  Runs as the invoking user.
 */
#include <arpa/inet.h>
#include <string.h>

#include "buf.h"
#include "harness.h"
#include "pbsd_key.h"
#include "pbsd_proto.h"

static const char *
key(const char *text, int plen, enum pbsd_key_style style)
{
	static char		out[PBSD_KEY_MAX];
	struct pbsd_addr	a;

	if (pbsd_addr_parse(span_from_str(text), plen, &a) == -1) {
		return "(parse error)";
	}
	if (pbsd_key_format(&a, style, out, sizeof(out)) == -1) {
		return "(format error)";
	}
	return out;
}

static void
test_ipv4(void)
{
	T_EQ_STR(key("192.0.2.1", 128, PBSD_KEY_POSTFIX), "192.0.2.1");
	T_EQ_STR(key("192.0.2.1", 64, PBSD_KEY_SENDMAIL), "192.0.2.1");
	T_EQ_STR(key("10.0.0.255", 128, PBSD_KEY_STATE), "10.0.0.255");
	T_EQ_STR(key("192.0.2.1/64", 128, PBSD_KEY_STATE), "(parse error)");
	T_EQ_STR(key("192.0.2.256", 128, PBSD_KEY_STATE), "(parse error)");
	T_EQ_STR(key("192.0.2", 128, PBSD_KEY_STATE), "(parse error)");
	T_EQ_STR(key("", 128, PBSD_KEY_STATE), "(parse error)");
	T_EQ_STR(key(" 192.0.2.1", 128, PBSD_KEY_STATE), "(parse error)");
}

static void
test_ipv6_compressed_lower(void)
{
	T_EQ_STR(key("2001:DB8:0:0:0:0:0:2", 128, PBSD_KEY_POSTFIX),
	    "2001:db8::2");
	T_EQ_STR(key("2001:0db8::0002", 128, PBSD_KEY_POSTFIX), "2001:db8::2");
	T_EQ_STR(key("2001:db8::2", 128, PBSD_KEY_SENDMAIL),
	    "ipv6:2001:db8:0:0:0:0:0:2");
	T_EQ_STR(key("FE80::ABCD", 128, PBSD_KEY_SENDMAIL),
	    "ipv6:fe80:0:0:0:0:0:0:abcd");
	T_EQ_STR(key("::1", 128, PBSD_KEY_POSTFIX), "::1");
	T_EQ_STR(key("2001:db8:1:2:3:4:5:6", 128, PBSD_KEY_STATE),
	    "2001:db8:1:2:3:4:5:6");
	T_EQ_STR(key("2001:db8::2::3", 128, PBSD_KEY_STATE), "(parse error)");
}

static void
test_ipv4_mapped_folding(void)
{
	struct pbsd_addr	a;
	uint8_t			b[16];
	char			out[PBSD_KEY_MAX];

	T_EQ_STR(key("::ffff:192.0.2.1", 128, PBSD_KEY_POSTFIX), "192.0.2.1");
	T_EQ_STR(key("::FFFF:192.0.2.1", 128, PBSD_KEY_SENDMAIL),
	    "192.0.2.1");
	T_EQ_STR(key("::ffff:192.0.2.1", 64, PBSD_KEY_STATE), "192.0.2.1");
	T_EQ_STR(key("::ffff:c000:201", 128, PBSD_KEY_STATE), "192.0.2.1");
	T_EQ_STR(key("::ffff:192.0.2.1/64", 128, PBSD_KEY_STATE),
	    "(parse error)");
	/* From raw record bytes, too. */
	(void)inet_pton(AF_INET6, "::ffff:203.0.113.5", b);
	T_EQ_INT(pbsd_addr_make(PBSD_FAM_INET6, b, 128, &a), 0);
	T_EQ_INT(a.pa_family, PBSD_FAM_INET);
	T_EQ_INT(pbsd_key_format(&a, PBSD_KEY_POSTFIX, out, sizeof(out)), 0);
	T_EQ_STR(out, "203.0.113.5");
	/* Not mapped: ::fffe:... stays IPv6. */
	T_EQ_STR(key("::fffe:192.0.2.1", 128, PBSD_KEY_POSTFIX),
	    "::fffe:c000:201");
	T_EQ_INT(pbsd_addr_make(9, b, 128, &a), -1);
	T_EQ_INT(pbsd_addr_make(PBSD_FAM_INET6, b, 96, &a), -1);
}

static void
test_ipv6_prefix64(void)
{
	struct pbsd_addr	a, b;

	T_EQ_STR(key("2001:db8:1:2:a:b:c:d", 64, PBSD_KEY_STATE),
	    "2001:db8:1:2::/64");
	T_EQ_STR(key("2001:db8:1:2:a:b:c:d", 64, PBSD_KEY_POSTFIX),
	    "2001:db8:1:2");
	T_EQ_STR(key("2001:db8:1:2:a:b:c:d", 64, PBSD_KEY_SENDMAIL),
	    "ipv6:2001:db8:1:2");
	T_EQ_STR(key("2001:db8:1:2::/64", 128, PBSD_KEY_STATE),
	    "2001:db8:1:2::/64");
	T_EQ_STR(key("2001:db8:1:2::/48", 128, PBSD_KEY_STATE),
	    "(parse error)");
	T_EQ_STR(key("2001:db8:1:2::/", 128, PBSD_KEY_STATE),
	    "(parse error)");
	/* Two hosts of one /64 are the same table address. */
	T_EQ_INT(pbsd_addr_parse(span_from_str("2001:db8:1:2::1"), 64, &a), 0);
	T_EQ_INT(pbsd_addr_parse(span_from_str("2001:db8:1:2:ffff::9"), 64,
	    &b), 0);
	T_EQ_INT(pbsd_addr_eq(&a, &b), 1);
	T_EQ_INT(pbsd_addr_hash(&a) == pbsd_addr_hash(&b), 1);
	T_EQ_INT(pbsd_addr_parse(span_from_str("2001:db8:1:2:ffff::9"), 128,
	    &b), 0);
	T_EQ_INT(pbsd_addr_eq(&a, &b), 0);
}

static void
test_limits(void)
{
	struct pbsd_addr	a;
	char			out[PBSD_KEY_MAX], big[PBSD_KEY_MAX + 8];

	/* Longest key fits PBSD_KEY_MAX; a small buffer fails cleanly. */
	T_EQ_INT(pbsd_addr_parse(span_from_str(
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 128, &a), 0);
	T_EQ_INT(pbsd_key_format(&a, PBSD_KEY_SENDMAIL, out, sizeof(out)), 0);
	T_EQ_STR(out, "ipv6:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	T_EQ_INT(pbsd_key_format(&a, PBSD_KEY_SENDMAIL, out, strlen(
	    "ipv6:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")), -1);
	T_EQ_INT(pbsd_key_format(&a, PBSD_KEY_POSTFIX, out, 4), -1);
	T_EQ_INT(pbsd_key_format(&a, PBSD_KEY_POSTFIX, out, 0), -1);
	/* Input text: PBSD_KEY_MAX - 1 chars parse (if valid), more fail. */
	memset(big, '0', sizeof(big));
	memcpy(big + PBSD_KEY_MAX - 1 - 9, "192.0.2.1", 9);
	T_EQ_INT(pbsd_addr_parse((struct span){ (const uint8_t *)big,
	    PBSD_KEY_MAX }, 128, &a), -1);
	T_EQ_INT(pbsd_addr_parse((struct span){ (const uint8_t *)"1.2.3.4\0",
	    8 }, 128, &a), -1);
}

static const struct harness_case cases[] = {
	{ "ipv4", test_ipv4 },
	{ "ipv6_compressed_lower", test_ipv6_compressed_lower },
	{ "ipv4_mapped_folding", test_ipv4_mapped_folding },
	{ "ipv6_prefix64", test_ipv6_prefix64 },
	{ "limits", test_limits },
};

HARNESS_MAIN("test_pbsd_key", cases)
