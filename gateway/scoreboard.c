/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * scoreboard: see scoreboard.h.  Runs in the parent and the workers.
 */
#include <sys/mman.h>

#include <unistd.h>

#include "log.h"
#include "scoreboard.h"

int
sb_create(struct scoreboard **sb_r)
{
	int	fd;

	if ((fd = memfd_create("bailey-scoreboard", MFD_CLOEXEC)) == -1 ||
	    ftruncate(fd, sizeof(struct scoreboard)) == -1) {
		fatal("scoreboard");
	}
	if ((*sb_r = sb_attach(fd)) == NULL) {
		fatal("scoreboard mmap");
	}
	return fd;
}

struct scoreboard *
sb_attach(int fd)
{
	void	*p;

	p = mmap(NULL, sizeof(struct scoreboard), PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

void
sb_add(uint32_t *v, int32_t d)
{
	__atomic_add_fetch(v, (uint32_t)d, __ATOMIC_RELAXED);
}

uint32_t
sb_get(const uint32_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

uint32_t
sb_total(const struct scoreboard *sb)
{
	uint32_t	sum = 0;
	size_t		i;

	for (i = 0; i < SB_SLOTS; i++) {
		sum += sb_get(&sb->slots[i]);
	}
	return sum;
}
