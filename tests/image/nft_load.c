/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * nft_load: test helper for tests/image.  Loads the appliance's firewall
 * (image/init_nft.c) from an appliance.conf, exactly as init does, so the
 * test can list the result with nft.  Runs as root inside a throw-away
 * network namespace (unshare -n) created by the test; trusts its
 * arguments.  "-" instead of a file loads the deny-all ruleset.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

int
main(int argc, char **argv)
{
	struct image_conf_parser p;
	struct image_conf c;
	uint8_t chunk[512];
	const char *err = NULL;
	ssize_t n;
	int fd, rv = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: nft_load appliance.conf|-\n");
		return 2;
	}
	if (strcmp(argv[1], "-") == 0) {
		rv = init_nft_load(NULL, &err);
		goto out;
	}
	image_conf_init(&p, &c);
	if ((fd = open(argv[1], O_RDONLY)) == -1) {
		perror(argv[1]);
		return 1;
	}
	while (rv == 0 && (n = read(fd, chunk, sizeof(chunk))) > 0) {
		rv = image_conf_feed(&p, chunk, (size_t)n, &err);
	}
	close(fd);
	if (rv == 0) {
		rv = image_conf_end(&p, &err);
	}
	image_conf_release(&p);
	if (rv == 0) {
		rv = init_nft_load(&c, &err);
	}
out:
	if (rv == -1) {
		fprintf(stderr, "nft_load: %s\n", err != NULL ? err : "failed");
		return 1;
	}
	return 0;
}
