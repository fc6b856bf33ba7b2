/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_key: table addresses and MTA key text.  Runs in pbsd (unprivileged)
 * and pbsctl; no I/O.  Text addresses come from the operator or pbsd's own
 * state file and are parsed with inet_pton() after a length check.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "pbsd_key.h"
#include "pbsd_proto.h"

static const uint8_t pbsd_v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

int
pbsd_addr_make(uint8_t family, const uint8_t *bytes, int v6_plen,
    struct pbsd_addr *addr_r)
{
	struct pbsd_addr a;

	memset(&a, 0, sizeof(a));
	if (v6_plen != 64 && v6_plen != 128) {
		return -1;
	}
	switch (family) {
	case PBSD_FAM_INET:
		a.pa_family = PBSD_FAM_INET;
		a.pa_plen = 32;
		memcpy(a.pa_bytes, bytes, 4);
		break;
	case PBSD_FAM_INET6:
		if (memcmp(bytes, pbsd_v4mapped, sizeof(pbsd_v4mapped)) == 0) {
			a.pa_family = PBSD_FAM_INET;
			a.pa_plen = 32;
			memcpy(a.pa_bytes, bytes + 12, 4);
			break;
		}
		a.pa_family = PBSD_FAM_INET6;
		a.pa_plen = (uint8_t)v6_plen;
		memcpy(a.pa_bytes, bytes, v6_plen / 8);
		break;
	default:
		return -1;
	}
	*addr_r = a;
	return 0;
}

/* UNTRUSTED: bounded by PBSD_KEY_MAX. */
int
pbsd_addr_parse(struct span s, int v6_plen, struct pbsd_addr *addr_r)
{
	char		text[PBSD_KEY_MAX];
	uint8_t		bytes[16];
	long		slash;
	struct span	host;
	uint64_t	plen;

	slash = span_find(s, 0, '/');
	host = s;
	if (slash >= 0) {
		host = span_sub(s, 0, (size_t)slash);
		if (span_parse_uint(span_sub(s, (size_t)slash + 1,
		    s.len - (size_t)slash - 1), 64, 64, &plen) == -1) {
			return -1;
		}
		v6_plen = 64;
	}
	if (span_cstr(host, text, sizeof(text)) == -1) {
		return -1;
	}
	if (inet_pton(AF_INET, text, bytes) == 1) {
		if (slash >= 0) {
			return -1;
		}
		return pbsd_addr_make(PBSD_FAM_INET, bytes, v6_plen, addr_r);
	}
	if (inet_pton(AF_INET6, text, bytes) == 1) {
		if (slash >= 0 &&
		    memcmp(bytes, pbsd_v4mapped, sizeof(pbsd_v4mapped)) == 0) {
			return -1;
		}
		return pbsd_addr_make(PBSD_FAM_INET6, bytes, v6_plen, addr_r);
	}
	return -1;
}

int
pbsd_addr_eq(const struct pbsd_addr *a, const struct pbsd_addr *b)
{
	return a->pa_family == b->pa_family && a->pa_plen == b->pa_plen &&
	    memcmp(a->pa_bytes, b->pa_bytes, sizeof(a->pa_bytes)) == 0;
}

/* FNV-1a over family, prefix and bytes. */
uint32_t
pbsd_addr_hash(const struct pbsd_addr *a)
{
	uint32_t	h = 2166136261U;
	size_t		i;

	h = (h ^ a->pa_family) * 16777619U;
	h = (h ^ a->pa_plen) * 16777619U;
	for (i = 0; i < sizeof(a->pa_bytes); i++) {
		h = (h ^ a->pa_bytes[i]) * 16777619U;
	}
	return h;
}

static unsigned int
pbsd_word(const struct pbsd_addr *a, int i)
{
	return (unsigned int)a->pa_bytes[2 * i] << 8 | a->pa_bytes[2 * i + 1];
}

/* "2001:db8:1:2" or with prefix "ipv6:": groups without leading zeros. */
static int
pbsd_key_groups(const struct pbsd_addr *a, const char *prefix, int ngroups,
    char *dst, size_t dstsz)
{
	struct buf	b;
	int		i, rv = 0;

	buf_init(&b, dstsz - 1);
	if (buf_add_str(&b, prefix) == -1) {
		rv = -1;
	}
	for (i = 0; i < ngroups && rv == 0; i++) {
		if (buf_addf(&b, i == 0 ? "%x" : ":%x", pbsd_word(a, i)) == -1) {
			rv = -1;
		}
	}
	if (rv == 0 && span_cstr(buf_span(&b), dst, dstsz) == -1) {
		rv = -1;
	}
	buf_release(&b);
	return rv;
}

int
pbsd_key_format(const struct pbsd_addr *a, enum pbsd_key_style style,
    char *dst, size_t dstsz)
{
	char	text[INET6_ADDRSTRLEN];
	int	n;

	if (dstsz == 0) {
		return -1;
	}
	if (a->pa_family == PBSD_FAM_INET) {
		if (inet_ntop(AF_INET, a->pa_bytes, text, sizeof(text)) ==
		    NULL) {
			return -1;
		}
		n = snprintf(dst, dstsz, "%s", text);
		return (n < 0 || (size_t)n >= dstsz) ? -1 : 0;
	}
	switch (style) {
	case PBSD_KEY_POSTFIX:
		if (a->pa_plen == 64) {
			return pbsd_key_groups(a, "", 4, dst, dstsz);
		}
		break;
	case PBSD_KEY_SENDMAIL:
		return pbsd_key_groups(a, "ipv6:", a->pa_plen / 16, dst, dstsz);
	case PBSD_KEY_STATE:
		break;
	default:
		return -1;
	}
	if (inet_ntop(AF_INET6, a->pa_bytes, text, sizeof(text)) == NULL) {
		return -1;
	}
	n = snprintf(dst, dstsz, "%s%s", text, a->pa_plen == 64 ? "/64" : "");
	return (n < 0 || (size_t)n >= dstsz) ? -1 : 0;
}
