/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * buf: bounded byte buffers and spans.  Runs in every role.  This is the
 * only file that does pointer arithmetic on wire bytes; everything else goes
 * through these checked accessors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

#define BUF_MIN_ALLOC	512

/* explicit_bzero: a memset the compiler may not drop (a byte loop
 * through a volatile pointer was ten times slower on the login path). */
void
secure_zero(void *p, size_t n)
{
	explicit_bzero(p, n);
}

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
buf_release(struct buf *b)
{
	/* Zero what was ever written (it may have held credentials), not
	 * the whole allocation: draining is on every hot path. */
	if (b->data != NULL) {
		secure_zero(b->data, b->hwm);
		free(b->data);
	}
	b->data = NULL;
	b->off = b->len = b->cap = b->hwm = 0;
}

void
buf_reset(struct buf *b)
{
	buf_release(b);
}

static int
buf_grow(struct buf *b, size_t need)
{
	size_t	 ncap;
	uint8_t	*n;

	if (need > b->max) {
		return -1;
	}
	if (b->off > 0 && b->len > 0) {
		memmove(b->data, b->data + b->off, b->len);
	}
	b->off = 0;
	if (need <= b->cap) {
		return 0;
	}
	ncap = b->cap ? b->cap : BUF_MIN_ALLOC;
	while (ncap < need) {
		ncap *= 2;
	}
	if (ncap > b->max) {
		ncap = b->max;
	}
	n = malloc(ncap);
	if (n == NULL) {
		fatal("buf_grow");
	}
	if (b->data != NULL) {
		memcpy(n, b->data, b->len);
		secure_zero(b->data, b->hwm);
		free(b->data);
	}
	b->hwm = b->len;
	b->data = n;
	b->cap = ncap;
	return 0;
}

int
buf_reserve(struct buf *b, size_t want, uint8_t **p_r, size_t *room_r)
{
	size_t	room;

	if (b->len >= b->max) {
		return -1;
	}
	room = b->max - b->len;
	if (want < room) {
		room = want;
	}
	if (b->off + b->len + room > b->cap) {
		if (buf_grow(b, b->len + room) == -1) {
			return -1;
		}
	}
	*p_r = b->data + b->off + b->len;
	*room_r = room;
	return 0;
}

int
buf_read_all(struct buf *b, int fd, size_t chunk)
{
	uint8_t	*dst;
	size_t	 room;
	ssize_t	 n;

	for (;;) {
		if (buf_reserve(b, chunk, &dst, &room) == -1) {
			errno = EFBIG;
			return -1;
		}
		n = read(fd, dst, room);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1) {
			return -1;
		}
		if (n == 0) {
			return 0;
		}
		buf_commit(b, (size_t)n);
	}
}

void
buf_commit(struct buf *b, size_t n)
{
	if (b->off + b->len + n > b->cap) {
		fatalx("buf_commit: past capacity");
	}
	b->len += n;
	if (b->off + b->len > b->hwm) {
		b->hwm = b->off + b->len;
	}
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	uint8_t	*dst;
	size_t	 room;

	if (n == 0) {
		return 0;
	}
	if (n > b->max - b->len) {
		return -1;
	}
	if (buf_reserve(b, n, &dst, &room) == -1 || room < n) {
		return -1;
	}
	memcpy(dst, p, n);
	buf_commit(b, n);
	return 0;
}

int
buf_add_str(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_add_span(struct buf *b, struct span s)
{
	return buf_add(b, s.p, s.len);
}

int
buf_addf(struct buf *b, const char *fmt, ...)
{
	char	 small[512], *big = NULL;
	va_list	 ap;
	int	 n, rv;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		return -1;
	}
	if ((size_t)n < sizeof(small)) {
		rv = buf_add(b, small, (size_t)n);
		secure_zero(small, sizeof(small));
		return rv;
	}
	if ((size_t)n > b->max - b->len) {
		return -1;
	}
	if ((big = malloc((size_t)n + 1)) == NULL) {
		fatal("buf_addf");
	}
	va_start(ap, fmt);
	(void)vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rv = buf_add(b, big, (size_t)n);
	secure_zero(big, (size_t)n);
	free(big);
	return rv;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n > b->len) {
		fatalx("buf_consume: %zu > %zu", n, b->len);
	}
	b->off += n;
	b->len -= n;
	if (b->len == 0) {
		buf_release(b);
	}
}

size_t
buf_len(const struct buf *b)
{
	return b->len;
}

const uint8_t *
buf_ptr(const struct buf *b)
{
	if (b->data == NULL) {
		return (const uint8_t *)"";
	}
	return b->data + b->off;
}

struct span
buf_span(const struct buf *b)
{
	struct span s = { buf_ptr(b), b->len };

	return s;
}

uint8_t
buf_byte(const struct buf *b, size_t i)
{
	if (i >= b->len) {
		fatalx("buf_byte: %zu out of range %zu", i, b->len);
	}
	return b->data[b->off + i];
}

int
buf_getline(const struct buf *b, size_t max, struct span *line_r,
    size_t *used_r)
{
	const uint8_t	*p = buf_ptr(b), *lf;
	size_t		 scan = b->len, n;

	if (scan > max) {
		scan = max;
	}
	lf = scan ? memchr(p, '\n', scan) : NULL;
	if (lf == NULL) {
		return b->len >= max ? -1 : 0;
	}
	n = (size_t)(lf - p);
	*used_r = n + 1;
	if (n > 0 && p[n - 1] == '\r') {
		n--;
	}
	line_r->p = p;
	line_r->len = n;
	return 1;
}

struct span
span_from_str(const char *s)
{
	struct span sp = { (const uint8_t *)s, strlen(s) };

	return sp;
}

int
span_eq(struct span s, const char *lit)
{
	size_t	n = strlen(lit);

	return s.len == n && memcmp(s.p, lit, n) == 0;
}

static uint8_t
lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

int
span_has_prefix_ci(struct span s, const char *lit)
{
	size_t	n = strlen(lit), i;

	if (s.len < n) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (lower(s.p[i]) != lower((uint8_t)lit[i])) {
			return 0;
		}
	}
	return 1;
}

int
span_eq_ci(struct span s, const char *lit)
{
	return s.len == strlen(lit) && span_has_prefix_ci(s, lit);
}

uint8_t
span_byte(struct span s, size_t i)
{
	if (i >= s.len) {
		fatalx("span_byte: %zu out of range %zu", i, s.len);
	}
	return s.p[i];
}

struct span
span_sub(struct span s, size_t off, size_t len)
{
	struct span r;

	if (off > s.len || len > s.len - off) {
		fatalx("span_sub: %zu+%zu out of range %zu", off, len, s.len);
	}
	r.p = s.p + off;
	r.len = len;
	return r;
}

long
span_find(struct span s, size_t from, uint8_t c)
{
	const uint8_t *f;

	if (from >= s.len) {
		return -1;
	}
	f = memchr(s.p + from, c, s.len - from);
	return f == NULL ? -1 : (long)(f - s.p);
}

struct span
span_trim(struct span s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t')) {
		s.len--;
	}
	return s;
}

int
span_cstr(struct span s, char *dst, size_t dstsz)
{
	if (dstsz == 0 || s.len > dstsz - 1) {
		return -1;
	}
	if (s.len > 0 && memchr(s.p, '\0', s.len) != NULL) {
		return -1;
	}
	if (s.len > 0) {
		memcpy(dst, s.p, s.len);
	}
	dst[s.len] = '\0';
	return 0;
}

int
span_has_ctl(struct span s)
{
	size_t	i;

	for (i = 0; i < s.len; i++) {
		switch (s.p[i]) {
		case '\r':
		case '\n':
		case '\0':
		case '\t':
			return 1;
		default:
			break;
		}
	}
	return 0;
}

int
span_parse_uint(struct span s, uint64_t min, uint64_t max, uint64_t *v_r)
{
	uint64_t v = 0;
	size_t	 i;
	uint8_t	 c;

	if (s.len == 0) {
		return -1;
	}
	for (i = 0; i < s.len; i++) {
		c = s.p[i];
		if (c < '0' || c > '9') {
			return -1;
		}
		if (v > (UINT64_MAX - (uint64_t)(c - '0')) / 10) {
			return -1;
		}
		v = v * 10 + (uint64_t)(c - '0');
	}
	if (v < min || v > max) {
		return -1;
	}
	*v_r = v;
	return 0;
}

int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *v_r,
    const char **errstr_r)
{
	struct span sp = span_from_str(s);
	uint64_t v = 0;

	if (span_parse_uint(sp, 0, UINT64_MAX, &v) == -1) {
		*errstr_r = "invalid";
		return -1;
	}
	if (v < min) {
		*errstr_r = "too small";
		return -1;
	}
	if (v > max) {
		*errstr_r = "too large";
		return -1;
	}
	*v_r = v;
	return 0;
}

int
hex_digit(uint8_t c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

static int
b64_val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z') {
		return c - 'A';
	}
	if (c >= 'a' && c <= 'z') {
		return c - 'a' + 26;
	}
	if (c >= '0' && c <= '9') {
		return c - '0' + 52;
	}
	if (c == '+') {
		return 62;
	}
	if (c == '/') {
		return 63;
	}
	return -1;
}

int
b64_decode(struct span s, uint8_t *dst, size_t dstsz, size_t *len_r)
{
	size_t	 i, o = 0, pad = 0;
	uint32_t acc;
	int	 v, k;

	if (s.len % 4 != 0) {
		return -1;
	}
	for (i = 0; i < s.len; i += 4) {
		acc = 0;
		for (k = 0; k < 4; k++) {
			uint8_t c = s.p[i + (size_t)k];

			if (c == '=' && i + 4 == s.len && k >= 2) {
				pad++;
				v = 0;
			} else if (pad > 0 || (v = b64_val(c)) < 0) {
				return -1;
			}
			acc = (acc << 6) | (uint32_t)v;
		}
		for (k = 0; k < 3 - (int)pad; k++) {
			if (o >= dstsz) {
				return -1;
			}
			dst[o++] = (uint8_t)(acc >> (16 - 8 * k));
		}
	}
	*len_r = o;
	return 0;
}

int
b64_encode(const uint8_t *p, size_t n, char *dst, size_t dstsz)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t	 i, o = 0;
	uint32_t acc;

	if (dstsz == 0 || (n + 2) / 3 * 4 > dstsz - 1) {
		return -1;
	}
	for (i = 0; i < n; i += 3) {
		acc = (uint32_t)p[i] << 16;
		if (i + 1 < n) {
			acc |= (uint32_t)p[i + 1] << 8;
		}
		if (i + 2 < n) {
			acc |= p[i + 2];
		}
		dst[o++] = tbl[(acc >> 18) & 63];
		dst[o++] = tbl[(acc >> 12) & 63];
		dst[o++] = i + 1 < n ? tbl[(acc >> 6) & 63] : '=';
		dst[o++] = i + 2 < n ? tbl[acc & 63] : '=';
	}
	dst[o] = '\0';
	return 0;
}
