/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * init: the appliance's PID 1 (root, all capabilities, before and while
 * the services run).  It trusts the kernel and the initramfs it was built
 * into; it treats the config disk as administrator input that may be
 * missing or broken, and its console as physical access.
 */
#ifndef BAILEY_IMAGE_INIT_H
#define BAILEY_IMAGE_INIT_H

#include <stdint.h>

#include "image_conf.h"

#define INIT_TAG		"bailey-image: "
#define INIT_CONF_DIR		"/etc/bailey"	/* config disk, read-only */
#define INIT_DISK_MNT		"/run/cfgdisk"	/* whole config disk, rw */
#define INIT_PBSD_STATE		"/var/lib/pbsd"	/* config disk, rw */
#define INIT_MODULE_DIR		"/lib/modules"

void	init_log(const char *, ...) __attribute__((format(printf, 1, 2)));

/* init_sys.c: mounts, modules, sysctls, the config disk, the network. */
int	init_sys_mounts(void);
int	init_sys_modules(void);
void	init_sys_harden(void);
int	init_sys_modules_lock(void);
int	init_sys_config_disk(const char **errstr_r);
void	init_sys_config_disk_release(void);
int	init_sys_read_conf(const char *, struct image_conf *,
	    const char **errstr_r);
int	init_sys_network(const struct image_conf *, const char **errstr_r);
double	init_sys_uptime(void);

/*
 * init_nft.c: loads the ruleset (table inet bailey_image) over raw
 * nfnetlink.  conf == NULL loads the deny-all ruleset.  0 or -1.
 */
int	init_nft_load(const struct image_conf *, const char **errstr_r);

#endif
