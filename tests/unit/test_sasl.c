/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests for gateway/sasl.c.  Runs as a plain test process with the
 * invoking user's privilege; trusts the decoder under test for nothing.
 * Inputs are built from raw bytes with b64_encode so each case states the
 * decoded message it is about.  Threat-row cases are named after their row
 * in threats.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "harness.h"
#include "bailey_limits.h"
#include "sasl.h"

#define RAW(s)		(const uint8_t *)(s), sizeof(s) - 1
#define B64_MAX		4096

/* Base64 of raw[0..len), NUL-terminated, in a static buffer. */
static struct span
enc(const uint8_t *raw, size_t len)
{
	static char	out[B64_MAX];

	T_ASSERT(b64_encode(raw, len, out, sizeof(out)) == 0);
	return span_from_str(out);
}

/* PLAIN must succeed with exactly these fields. */
static void
plain_ok(const char *name, const uint8_t *raw, size_t len, const char *user,
    const char *pass)
{
	struct creds	 c;
	const char	*err = NULL;

	if (sasl_plain_decode(enc(raw, len), &c, &err) != 0) {
		fprintf(stderr, "  case %s: refused: %s\n", name,
		    err ? err : "(null)");
		harness_failures++;
		return;
	}
	T_EQ_STR(c.user, user);
	T_EQ_STR(c.pass, pass);
	creds_clear(&c);
}

/* Must fail with an error text and leave the creds cleared. */
static void
plain_bad_b64(const char *name, struct span b64)
{
	struct creds	 c;
	const char	*err = NULL;

	memset(&c, 'X', sizeof(c));
	if (sasl_plain_decode(b64, &c, &err) != -1) {
		fprintf(stderr, "  case %s: accepted\n", name);
		harness_failures++;
	}
	T_ASSERT(err != NULL);
	T_EQ_INT(c.user[0], 0);
	T_EQ_INT(c.pass[0], 0);
	T_EQ_INT(c.pass[sizeof(c.pass) - 1], 0);
}

static void
plain_bad(const char *name, const uint8_t *raw, size_t len)
{
	plain_bad_b64(name, enc(raw, len));
}

/* Must fail for the stated reason (checks that did not merely overlap). */
static void
plain_err(const char *name, const uint8_t *raw, size_t len, const char *why)
{
	struct creds	 c;
	const char	*err = NULL;

	T_EQ_INT(sasl_plain_decode(enc(raw, len), &c, &err), -1);
	if (err == NULL || strstr(err, why) == NULL) {
		fprintf(stderr, "  case %s: error \"%s\", expected \"%s\"\n",
		    name, err ? err : "(null)", why);
		harness_failures++;
	}
}

static void
login_bad_b64(const char *name, struct span b64)
{
	char		 dst[MAX_PASS + 1];
	const char	*err = NULL;

	memset(dst, 'X', sizeof(dst));
	if (sasl_login_decode(b64, dst, sizeof(dst), &err) != -1) {
		fprintf(stderr, "  case %s: accepted\n", name);
		harness_failures++;
	}
	T_ASSERT(err != NULL);
	T_EQ_INT(dst[0], 0);
}

static void
test_plain_basic(void)
{
	plain_ok("no_authzid", RAW("\0user\0pass"), "user", "pass");
	plain_ok("authzid_same", RAW("user\0user\0pass"), "user", "pass");
	plain_ok("utf8", RAW("\0j\xc3\xb6rg\0p\xe2\x82\xac"), "j\xc3\xb6rg",
	    "p\xe2\x82\xac");
	plain_ok("one_byte_fields", RAW("\0u\0p"), "u", "p");
	plain_ok("space_in_pass", RAW("\0u\0p w"), "u", "p w");
	plain_bad("authzid_other", RAW("admin\0user\0pass"));
	plain_bad("authzid_prefix", RAW("use\0user\0pass"));
	plain_bad("authzid_longer", RAW("users\0user\0pass"));
	plain_bad("one_nul", RAW("user\0pass"));
	plain_bad("no_nul", RAW("userpass"));
	plain_bad("three_nuls", RAW("\0user\0pa\0ss"));
	plain_err("three_nuls_err", RAW("\0user\0pa\0ss"), "NUL");
	plain_err("authzid_other_err", RAW("admin\0user\0pass"), "proxy");
	plain_err("one_nul_err", RAW("user\0pass"), "malformed");
	plain_bad("trailing_nul", RAW("\0user\0pass\0"));
	plain_bad("empty_authcid", RAW("\0\0pass"));
	plain_bad("empty_pass", RAW("\0user\0"));
	plain_bad("only_nuls", RAW("\0\0"));
}

static void
test_plain_known_vector(void)
{
	struct creds	 c;
	const char	*err = NULL;

	/* RFC 4616 section 4 example: "\0tim\0tanstaaftanstaaf". */
	T_EQ_INT(sasl_plain_decode(SPAN_LIT("AHRpbQB0YW5zdGFhZnRhbnN0YWFm"),
	    &c, &err), 0);
	T_EQ_STR(c.user, "tim");
	T_EQ_STR(c.pass, "tanstaaftanstaaf");
	creds_clear(&c);
	T_EQ_INT(c.user[0], 0);
}

/* Row 13 (CVE-2025-53859): NUL, odd padding, zero and max length. */
static void
test_row13_plain_lengths(void)
{
	uint8_t		 raw[2 * MAX_USER + MAX_PASS + 8];
	char		 user[MAX_USER + 2], pass[MAX_PASS + 2];
	struct creds	 c;
	const char	*err = NULL;
	size_t		 n;

	memset(user, 'u', sizeof(user));
	memset(pass, 'p', sizeof(pass));
	/* authzid = authcid = MAX_USER, passwd = MAX_PASS: the largest. */
	n = 0;
	memcpy(raw + n, user, MAX_USER);
	n += MAX_USER;
	raw[n++] = 0;
	memcpy(raw + n, user, MAX_USER);
	n += MAX_USER;
	raw[n++] = 0;
	memcpy(raw + n, pass, MAX_PASS);
	n += MAX_PASS;
	T_EQ_INT(sasl_plain_decode(enc(raw, n), &c, &err), 0);
	T_EQ_INT(strlen(c.user), MAX_USER);
	T_EQ_INT(strlen(c.pass), MAX_PASS);
	T_ASSERT(memcmp(c.user, user, MAX_USER) == 0);
	T_ASSERT(memcmp(c.pass, pass, MAX_PASS) == 0);
	creds_clear(&c);
	/* One past for the user. */
	n = 0;
	raw[n++] = 0;
	memcpy(raw + n, user, MAX_USER + 1);
	n += MAX_USER + 1;
	raw[n++] = 0;
	raw[n++] = 'p';
	plain_bad("row13_user_past_max", raw, n);
	/* One past for the password. */
	n = 0;
	raw[n++] = 0;
	raw[n++] = 'u';
	raw[n++] = 0;
	memcpy(raw + n, pass, MAX_PASS + 1);
	n += MAX_PASS + 1;
	plain_bad("row13_pass_past_max", raw, n);
	/* NUL inside a field, zero length, odd padding. */
	plain_bad("row13_nul_in_pass", RAW("\0user\0pa\0ss"));
	plain_bad("row13_nul_in_authzid", RAW("u\0ser\0user\0pass"));
	plain_bad("row13_zero_length", RAW(""));
	plain_bad_b64("row13_no_padding", SPAN_LIT("AHVzZXIAcGFzcw"));
	plain_bad_b64("row13_short_padding", SPAN_LIT("AHVzZXIAcGFzcw="));
	plain_bad_b64("row13_extra_padding", SPAN_LIT("AHVzZXIAcGFzcw==="));
	plain_bad_b64("row13_pad_in_middle", SPAN_LIT("AH==ZXIAcGFzcw=="));
	plain_bad_b64("row13_triple_pad", SPAN_LIT("A==="));
	plain_bad_b64("row13_only_padding", SPAN_LIT("===="));
}

/* Row 21: CR, LF, NUL in any field must never reach the lookup. */
static void
test_row21_plain_injection(void)
{
	plain_bad("row21_crlf_authcid", RAW("\0bob\r\nDELE 1\0pass"));
	plain_bad("row21_lf_authcid", RAW("\0bob\nx\0pass"));
	plain_bad("row21_cr_authcid", RAW("\0bob\rx\0pass"));
	plain_bad("row21_crlf_pass", RAW("\0bob\0pa\r\nss"));
	plain_bad("row21_lf_pass", RAW("\0bob\0pass\n"));
	plain_bad("row21_crlf_authzid", RAW("bob\r\n\0bob\0pass"));
	plain_bad("row21_cr_authzid_equal",
	    RAW("bob\rx\0bob\rx\0pass"));
	/* Rows 36/40: TAB is an IPC field separator. */
	plain_bad("row36_tab_authcid", RAW("\0bob\tx\0pass"));
	plain_bad("row40_tab_pass", RAW("\0bob\0pa\tss"));
	plain_bad("row36_tab_authzid", RAW("b\tob\0bob\0pass"));
}

/* Row 30: "=" and empty responses, invalid base64. */
static void
test_row30_empty_and_invalid(void)
{
	plain_bad_b64("row30_empty", SPAN_LIT(""));
	plain_bad_b64("row30_equals", SPAN_LIT("="));
	plain_bad_b64("row30_bad_chars", SPAN_LIT("@@@@"));
	plain_bad_b64("row30_space", SPAN_LIT("AHVz ZXIAcGFzcw=="));
	plain_bad_b64("row30_leading_space", SPAN_LIT(" AHVzZXIAcGFzcw=="));
	plain_bad_b64("row30_crlf", SPAN_LIT("AHVzZXIAcGFzcw==\r\n"));
	plain_bad_b64("row30_tab", SPAN_LIT("AHVzZXIA\tcGFzcw=="));
	plain_bad_b64("row30_star", SPAN_LIT("*"));
	plain_bad_b64("row30_urlsafe", SPAN_LIT("AHVzZXIAcG-_cw=="));
	login_bad_b64("row30_login_empty", SPAN_LIT(""));
	login_bad_b64("row30_login_equals", SPAN_LIT("="));
	login_bad_b64("row30_login_space", SPAN_LIT("dXNl cg=="));
	login_bad_b64("row30_login_bad_chars", SPAN_LIT("d$Nlcg=="));
}

/* Row 31: empty, 1-byte, max-length and truncated messages. */
static void
test_row31_sizes(void)
{
	static const uint8_t	 msg[] = "\0someone\0secretpassword";
	char			 full[128], one[2];
	struct span		 s;
	struct creds		 c;
	const char		*err;
	size_t			 n, len;
	int			 rv;

	plain_bad_b64("row31_empty", SPAN_LIT(""));
	one[1] = '\0';
	for (n = 0; n < 256; n++) {
		one[0] = (char)n;
		plain_bad_b64("row31_one_byte",
		    (struct span){ (const uint8_t *)one, 1 });
		login_bad_b64("row31_login_one_byte",
		    (struct span){ (const uint8_t *)one, 1 });
	}
	/* Every truncation of a valid response: clean accept or refuse. */
	s = enc(msg, sizeof(msg) - 1);
	T_ASSERT(s.len < sizeof(full));
	memcpy(full, s.p, s.len);
	len = s.len;
	for (n = 0; n < len; n++) {
		err = NULL;
		memset(&c, 'X', sizeof(c));
		rv = sasl_plain_decode((struct span){ (const uint8_t *)full,
		    n }, &c, &err);
		if (rv == 0) {
			/* Only a cut inside the password can still parse. */
			T_EQ_STR(c.user, "someone");
			T_ASSERT(strncmp(c.pass, "secretpassword",
			    strlen(c.pass)) == 0);
			T_ASSERT(strlen(c.pass) > 0 && n % 4 == 0);
		} else {
			T_EQ_INT(rv, -1);
			T_ASSERT(err != NULL);
			T_EQ_INT(c.user[0], 0);
		}
	}
	/* Past the longest valid response: refused before decoding. */
	{
		static char	big[B64_MAX];

		memset(big, 'A', sizeof(big));
		plain_bad_b64("row31_too_long",
		    (struct span){ (const uint8_t *)big, SASL_MAX_LINE });
		login_bad_b64("row31_login_too_long",
		    (struct span){ (const uint8_t *)big, SASL_MAX_LINE });
	}
}

static void
test_login_decode(void)
{
	char		 dst[MAX_PASS + 1], small[5];
	uint8_t		 raw[MAX_PASS + 2];
	const char	*err = NULL;

	T_EQ_INT(sasl_login_decode(SPAN_LIT("dXNlcg=="), dst, sizeof(dst),
	    &err), 0);
	T_EQ_STR(dst, "user");
	/* Exactly fits a 5-byte destination, one more does not. */
	T_EQ_INT(sasl_login_decode(SPAN_LIT("dXNlcg=="), small,
	    sizeof(small), &err), 0);
	T_EQ_STR(small, "user");
	T_EQ_INT(sasl_login_decode(SPAN_LIT("dXNlcnM="), small,
	    sizeof(small), &err), -1);
	T_EQ_INT(small[0], 0);
	memset(raw, 'p', sizeof(raw));
	T_EQ_INT(sasl_login_decode(enc(raw, MAX_PASS), dst, sizeof(dst),
	    &err), 0);
	T_EQ_INT(strlen(dst), MAX_PASS);
	login_bad_b64("login_past_max", enc(raw, MAX_PASS + 1));
	login_bad_b64("login_cr", enc(RAW("bob\rx")));
	login_bad_b64("login_lf", enc(RAW("bob\nDELE 1")));
	login_bad_b64("login_nul", enc(RAW("bob\0x")));
	login_bad_b64("login_tab", enc(RAW("bob\tx")));
	login_bad_b64("login_empty_decoded", SPAN_LIT(""));
}

static void
test_creds_set(void)
{
	char		 dst[5];
	const char	*err = NULL;

	T_EQ_INT(creds_set(SPAN_LIT("abcd"), dst, sizeof(dst), &err), 0);
	T_EQ_STR(dst, "abcd");
	T_EQ_INT(creds_set(SPAN_LIT(""), dst, sizeof(dst), &err), 0);
	T_EQ_STR(dst, "");
	err = NULL;
	T_EQ_INT(creds_set(SPAN_LIT("abcde"), dst, sizeof(dst), &err), -1);
	T_ASSERT(err != NULL);
	err = NULL;
	T_EQ_INT(creds_set(SPAN_LIT("a\rb"), dst, sizeof(dst), &err), -1);
	T_ASSERT(err != NULL);
	T_EQ_INT(creds_set(SPAN_LIT("a\nb"), dst, sizeof(dst), &err), -1);
	T_EQ_INT(creds_set(SPAN_LIT("a\tb"), dst, sizeof(dst), &err), -1);
	T_EQ_INT(creds_set((struct span){ (const uint8_t *)"a\0b", 3 }, dst,
	    sizeof(dst), &err), -1);
	T_EQ_INT(dst[0], 0);
	T_EQ_INT(creds_set(SPAN_LIT(""), dst, 0, &err), -1);
}

static void
test_creds_clear(void)
{
	struct creds	c;
	size_t		i;
	int		dirty = 0;

	memset(&c, 0xa5, sizeof(c));
	creds_clear(&c);
	for (i = 0; i < sizeof(c.user); i++) {
		dirty |= c.user[i];
	}
	for (i = 0; i < sizeof(c.pass); i++) {
		dirty |= c.pass[i];
	}
	T_EQ_INT(dirty, 0);
}

static const struct harness_case cases[] = {
	{ "plain_basic", test_plain_basic },
	{ "plain_known_vector", test_plain_known_vector },
	{ "row13_plain_lengths", test_row13_plain_lengths },
	{ "row21_plain_injection", test_row21_plain_injection },
	{ "row30_empty_and_invalid", test_row30_empty_and_invalid },
	{ "row31_sizes", test_row31_sizes },
	{ "login_decode", test_login_decode },
	{ "creds_set", test_creds_set },
	{ "creds_clear", test_creds_clear },
};

HARNESS_MAIN("sasl", cases)
