/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_key: client addresses as pbsd stores them, and the text keys the
 * MTAs look up (research/pbsd.md sections 1, 2 and 4).  Runs in pbsd and
 * pbsctl; pure functions, no I/O.  Addresses come from decoded records or
 * from the operator (pbsctl, the state file); text input is parsed with
 * inet_pton() and bounded by PBSD_KEY_MAX.
 */
#ifndef BAILEY_PBSD_KEY_H
#define BAILEY_PBSD_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Longest key text: "ipv6:" + 8 * 4 hex + 7 ':' + "/128" + NUL, rounded. */
#define PBSD_KEY_MAX	64

/*
 * An address in the table.  IPv4-mapped IPv6 is always folded to IPv4.
 * plen is 32 for IPv4, 128 or 64 for IPv6 (then the low 64 bits are 0).
 */
struct pbsd_addr {
	uint8_t		pa_family;	/* PBSD_FAM_INET or PBSD_FAM_INET6 */
	uint8_t		pa_plen;
	uint8_t		pa_bytes[16];	/* first 4 used for IPv4 */
};

enum pbsd_key_style {
	PBSD_KEY_POSTFIX,	/* 192.0.2.1, 2001:db8::2 (Postfix, Exim) */
	PBSD_KEY_SENDMAIL,	/* 192.0.2.1, ipv6:2001:db8:0:0:0:0:0:2 */
	PBSD_KEY_STATE,		/* 192.0.2.1, 2001:db8::2, 2001:db8:1:2::/64 */
};

/*
 * Builds a table address from family + raw bytes, folding IPv4-mapped
 * IPv6 to IPv4 and masking IPv6 to v6_plen (64 or 128).  Returns 0 or -1.
 */
int	 pbsd_addr_make(uint8_t family, const uint8_t *bytes, int v6_plen,
	    struct pbsd_addr *addr_r);

/*
 * UNTRUSTED (operator/state text): "192.0.2.1", "2001:db8::2" or
 * "2001:db8:1:2::/64", bounded by PBSD_KEY_MAX.  v6_plen applies when no
 * "/64" is given.  Returns 0 or -1.
 */
int	 pbsd_addr_parse(struct span, int v6_plen, struct pbsd_addr *addr_r);

/* 1 if equal, else 0. */
int	 pbsd_addr_eq(const struct pbsd_addr *, const struct pbsd_addr *);
uint32_t pbsd_addr_hash(const struct pbsd_addr *);

/*
 * Writes the key text (lower case) for style into dst.  Returns 0, or -1
 * if dst is too small.
 */
int	 pbsd_key_format(const struct pbsd_addr *, enum pbsd_key_style,
	    char *dst, size_t dstsz);

#endif
