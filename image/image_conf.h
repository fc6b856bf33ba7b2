/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * image_conf: the appliance's own settings (appliance.conf on the config
 * disk): guest address, gateway, the inbound ports the firewall opens and
 * the backend destinations it lets out.  Parsed by init (PID 1, root,
 * before any service runs); the file is the administrator's, but it is read
 * from a disk that may be swapped, so it is parsed with hard limits and
 * never trusted to be well formed.  No I/O here: the caller feeds bytes.
 */
#ifndef BAILEY_IMAGE_CONF_H
#define BAILEY_IMAGE_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Limits (they belong in lib/bailey_limits.h; here until moved). */
#define IMAGE_CONF_MAX_LINE	256	/* bytes per line, LF excluded */
#define IMAGE_CONF_MAX_IN	16	/* allow-in ports */
#define IMAGE_CONF_MAX_OUT	32	/* allow-out destinations */
#define IMAGE_CONF_MAX_FILE	(64 * 1024)	/* whole file */

struct image_conf_dest {
	uint32_t	 d_addr;	/* IPv4, network byte order */
	uint16_t	 d_port;	/* host byte order */
};

struct image_conf {
	uint32_t	 ic_addr;	/* network byte order */
	unsigned int	 ic_prefix;	/* 1..32 */
	uint32_t	 ic_gateway;	/* network byte order; 0 = none */
	uint16_t	 ic_in[IMAGE_CONF_MAX_IN];
	size_t		 ic_nin;
	struct image_conf_dest ic_out[IMAGE_CONF_MAX_OUT];
	size_t		 ic_nout;
};

struct image_conf_parser {
	struct buf	 p_line;	/* partial line */
	unsigned long	 p_lineno;
	size_t		 p_total;
	int		 p_have_addr;
	int		 p_failed;
	char		 p_err[160];
	struct image_conf *p_conf;
};

void	image_conf_init(struct image_conf_parser *, struct image_conf *);
/*
 * UNTRUSTED: bytes of appliance.conf, any split; bounded by
 * IMAGE_CONF_MAX_LINE per line and IMAGE_CONF_MAX_FILE in total.
 * Returns 0, or -1 with *errstr_r ("line N: ...") on the first error.
 */
int	image_conf_feed(struct image_conf_parser *, const uint8_t *, size_t,
	    const char **errstr_r);
/* End of input: handles a last line without LF and checks that an
 * address was given.  Returns 0 or -1 with *errstr_r. */
int	image_conf_end(struct image_conf_parser *, const char **errstr_r);
/* Frees the parser's storage (not the conf). */
void	image_conf_release(struct image_conf_parser *);

#endif
