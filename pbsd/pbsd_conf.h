/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_conf: pbsd.conf, a table-driven "key = value" file (vsftpd
 * parseconf style), see pbsd.conf(5).  Parsed by pbsd as root at start-up
 * and by "pbsd -n"; the file is trusted to be root's, but every line is
 * still bounded (PBSD_CONF_MAX_LINE) and every value checked.
 */
#ifndef BAILEY_PBSD_CONF_H
#define BAILEY_PBSD_CONF_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "pbsd_nft.h"
#include "pbsd_out.h"

#define PBSD_CONF_MAX_LINE	1024
#define PBSD_CONF_MAX_OUTPUTS	8
#define PBSD_CONF_MAX_IDS	16
#define PBSD_CONF_MAX_NAME	64

#define PBSD_DEF_CONF		"/etc/pbsd.conf"
#define PBSD_DEF_SOCKET		"/run/pbsd/pbsd.sock"
#define PBSD_DEF_CONTROL	"/run/pbsd/control.sock"
#define PBSD_DEF_STATE		"/var/lib/pbsd/state"
#define PBSD_DEF_USER		"_pbsd"
#define PBSD_DEF_EXPIRE		1800
#define PBSD_DEF_MAX_ENTRIES	100000

/* --- remote gateways (issue 6): pbsd_remote.c, docs/pbsd.md ------------ */
#define PBSD_REMOTE_MAX_LISTEN	4
#define PBSD_REMOTE_MAX_ALLOW	16
#define PBSD_REMOTE_DEF_WINDOW	60
#define PBSD_REMOTE_DEF_CONNS	16
#define PBSD_REMOTE_DEF_IDLE	60
#define PBSD_REMOTE_DEF_NONCES	65536

enum pbsd_ep_proto {
	PBSD_EP_NONE = 0,
	PBSD_EP_UDP,
	PBSD_EP_TCP,
};

/* "udp:192.0.2.1:7025" or "tcp:[2001:db8::1]:7025" (numeric only). */
struct pbsd_endpoint {
	int		ep_proto;	/* enum pbsd_ep_proto */
	int		ep_family;	/* AF_INET, AF_INET6 */
	uint8_t		ep_addr[16];
	uint16_t	ep_port;
};

/* "192.0.2.0/24", "2001:db8::/32", or one address. */
struct pbsd_netmask {
	int		nm_family;	/* AF_INET, AF_INET6 */
	unsigned int	nm_plen;
	uint8_t		nm_addr[16];	/* host bits cleared */
};

struct pbsd_remote_conf {
	struct pbsd_endpoint	rc_listen[PBSD_REMOTE_MAX_LISTEN];
	size_t			rc_nlisten;
	char			rc_key[PBSD_PATH_MAX];		/* "" = none */
	char			rc_key_previous[PBSD_PATH_MAX];
	unsigned int		rc_window;
	unsigned int		rc_max_conns;
	unsigned int		rc_idle_timeout;
	unsigned int		rc_nonces;
	struct pbsd_netmask	rc_allow[PBSD_REMOTE_MAX_ALLOW];
	size_t			rc_nallow;	/* 0 = any source */
	struct pbsd_endpoint	rc_forward;	/* ep_proto NONE = off */
	char			rc_forward_key[PBSD_PATH_MAX];
};

/*
 * UNTRUSTED (config or command line): parses an endpoint, bounded by
 * PBSD_CONF_MAX_LINE.  Returns 0, or -1 with *errstr_r.
 */
int	 pbsd_conf_endpoint(struct span, struct pbsd_endpoint *,
	    const char **errstr_r);
/* 1 if the address (family AF_INET/AF_INET6) is in the mask, else 0. */
int	 pbsd_netmask_match(const struct pbsd_netmask *, int family,
	    const uint8_t *addr);
/* --- end remote gateways ---------------------------------------------- */

/* --- log-tail mode (issue 6): pbsd_logtail.c, pbsd.conf(5) ------------- */
#define PBSD_CONF_MAX_LOGTAILS	8

/* "logtail = dovecot:/var/log/mail.log" (fmt: enum pbsd_logtail_fmt). */
struct pbsd_logtail_conf {
	int		lc_fmt;
	char		lc_path[PBSD_PATH_MAX];
};
/* --- end log-tail mode ------------------------------------------------- */

struct pbsd_conf {
	char		pc_socket[108];		/* sun_path size */
	unsigned int	pc_socket_mode;
	char		pc_socket_group[PBSD_CONF_MAX_NAME];
	char		pc_control[108];
	char		pc_state[PBSD_PATH_MAX];
	char		pc_user[PBSD_CONF_MAX_NAME];
	unsigned int	pc_expire;		/* seconds */
	unsigned int	pc_flush_interval;	/* seconds, 0 = at once */
	unsigned int	pc_ipv6_prefix;		/* 64 or 128 */
	unsigned int	pc_max_entries;
	char		pc_allow_uid[PBSD_CONF_MAX_IDS][PBSD_CONF_MAX_NAME];
	size_t		pc_nallow_uid;
	char		pc_allow_gid[PBSD_CONF_MAX_IDS][PBSD_CONF_MAX_NAME];
	size_t		pc_nallow_gid;
	struct pbsd_output pc_outputs[PBSD_CONF_MAX_OUTPUTS];
	size_t		pc_noutputs;
	struct pbsd_nft_conf pc_nft;		/* nc_table "" = off */
	struct pbsd_remote_conf pc_remote;	/* remote gateways, issue 6 */
	struct pbsd_logtail_conf pc_logtails[PBSD_CONF_MAX_LOGTAILS];
	size_t		pc_nlogtails;
	int		pc_logtail_from_start;	/* logtail_start = beginning */
	char		pc_logtail_group[PBSD_CONF_MAX_NAME];	/* "" = none */
};

/* Resolved uid/gid lists (names looked up with getpwnam/getgrnam). */
struct pbsd_ids {
	uid_t		pi_uids[PBSD_CONF_MAX_IDS];
	size_t		pi_nuids;
	gid_t		pi_gids[PBSD_CONF_MAX_IDS];
	size_t		pi_ngids;
};

void	 pbsd_conf_defaults(struct pbsd_conf *);
/*
 * UNTRUSTED (bounded by PBSD_CONF_MAX_LINE per line): parses a whole
 * file's bytes into conf (on top of the defaults already set).  Returns 0,
 * or -1 with *errstr_r and the 1-based line number in *line_r.
 */
int	 pbsd_conf_parse(struct pbsd_conf *, const uint8_t *, size_t,
	    const char **errstr_r, size_t *line_r);
/* Reads and parses path.  Same returns (line 0 = could not read). */
int	 pbsd_conf_load(struct pbsd_conf *, const char *path,
	    const char **errstr_r, size_t *line_r);
/* Final checks (at least one allowed sender ...).  0 or -1. */
int	 pbsd_conf_check(const struct pbsd_conf *, const char **errstr_r);
/* Looks up allow_uid / allow_gid names.  0 or -1 with *errstr_r. */
int	 pbsd_conf_ids(const struct pbsd_conf *, struct pbsd_ids *,
	    const char **errstr_r);

#endif
