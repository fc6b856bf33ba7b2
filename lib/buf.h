/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * buf: the one module that does arithmetic on wire bytes.  Used by every
 * role; trusts nobody: every append is checked against the buffer's max,
 * every read against its length.  Storage is allocated lazily and released
 * when drained (buf_compact/buf_release), so an idle session holds none.
 */
#ifndef BAILEY_BUF_H
#define BAILEY_BUF_H

#include <stddef.h>
#include <stdint.h>

/* A view into bytes owned by someone else (nginx ngx_str_t). */
struct span {
	const uint8_t	*p;
	size_t		 len;
};

/*
 * Valid bytes are data[off .. off + len).  cap is the allocation size,
 * max the hard limit of len: buf_add past it fails (sshbuf).
 */
struct buf {
	uint8_t		*data;
	size_t		 off;
	size_t		 len;
	size_t		 cap;
	size_t		 max;
	size_t		 hwm;		/* bytes of data[] ever written */
};

#define SPAN_LIT(s)	((struct span){ (const uint8_t *)(s), sizeof(s) - 1 })

void	 buf_init(struct buf *, size_t max);
/* Frees storage; zeroes it first (buffers may have held credentials). */
void	 buf_release(struct buf *);
/* Appends n bytes.  Returns 0, or -1 if len would exceed max. */
int	 buf_add(struct buf *, const void *, size_t);
int	 buf_add_str(struct buf *, const char *);
int	 buf_add_span(struct buf *, struct span);
/* printf-style append; -1 if the result would exceed max. */
int	 buf_addf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * Makes room for up to want bytes at the tail (bounded by max - len) and
 * returns a pointer to it in *p_r and the room in *room_r.  Returns -1
 * when the buffer is full.  Follow with buf_commit(n) after filling n.
 */
int	 buf_reserve(struct buf *, size_t want, uint8_t **p_r, size_t *room_r);
/*
 * Appends what fd gives until EOF, in reads of at most chunk bytes.  0, or
 * -1 with errno: EFBIG when the buffer's maximum is reached first, else
 * read(2)'s error.
 */
int	 buf_read_all(struct buf *, int fd, size_t chunk);
void	 buf_commit(struct buf *, size_t n);
/* Drops n bytes from the head.  Releases storage when it becomes empty. */
void	 buf_consume(struct buf *, size_t n);
/* Drops all bytes (zeroed) but keeps nothing allocated. */
void	 buf_reset(struct buf *);
size_t	 buf_len(const struct buf *);
const uint8_t *buf_ptr(const struct buf *);
struct span buf_span(const struct buf *);
/* Byte at index i of the valid data; i must be < len (checked, aborts). */
uint8_t	 buf_byte(const struct buf *, size_t i);

/*
 * UNTRUSTED input: finds a line ending in LF (a CR before it is dropped).
 * Returns 1 and the line without its terminator in *line_r (valid until the
 * next buf call; consume it with buf_consume(b, *used_r)), 0 when more bytes
 * are needed, -1 when max bytes arrived without a LF.
 */
int	 buf_getline(const struct buf *, size_t max, struct span *line_r,
	    size_t *used_r);

/* Spans. */
struct span span_from_str(const char *);
int	 span_eq(struct span, const char *);
int	 span_eq_ci(struct span, const char *);
int	 span_has_prefix_ci(struct span, const char *);
uint8_t	 span_byte(struct span, size_t i);		/* checked */
struct span span_sub(struct span, size_t off, size_t len);	/* checked */
/* Index of the first c at or after from, or -1. */
long	 span_find(struct span, size_t from, uint8_t c);
/* Strips leading and trailing SP and HTAB. */
struct span span_trim(struct span);
/*
 * Copies into dst (NUL-terminated).  Returns 0, or -1 if the span holds a
 * NUL byte or does not fit in dstsz - 1 bytes.
 */
int	 span_cstr(struct span, char *dst, size_t dstsz);
/* 1 if the span contains any of CR, LF, NUL, TAB (CRLF/IPC injection). */
int	 span_has_ctl(struct span);

/*
 * Decimal number without sign, leading zeros allowed, no overflow past max.
 * Returns 0, or -1 with *errstr_r set.
 */
int	 parse_uint(const char *, uint64_t min, uint64_t max, uint64_t *v_r,
	    const char **errstr_r);
int	 span_parse_uint(struct span, uint64_t min, uint64_t max,
	    uint64_t *v_r);

/*
 * Base64 (RFC 4648, padding required, no whitespace).  Decodes into dst;
 * returns 0 and the length in *len_r, -1 on bad input or if it won't fit.
 */
int	 b64_decode(struct span, uint8_t *dst, size_t dstsz, size_t *len_r);
/* The value of a hexadecimal digit (either case), or -1. */
int	 hex_digit(uint8_t);
/* Encodes; returns 0 or -1 if dst (including the NUL) is too small. */
int	 b64_encode(const uint8_t *, size_t, char *dst, size_t dstsz);

/* Clears memory that held secrets; never optimised away. */
void	 secure_zero(void *, size_t);

#endif
