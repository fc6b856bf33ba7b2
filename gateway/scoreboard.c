/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * scoreboard: see scoreboard.h.  Runs in the parent and the workers.
 */
#include <sys/mman.h>
#include <sys/random.h>

#include <string.h>

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

void
sb_ticket_rotate(struct scoreboard *sb)
{
	uint8_t	fresh[SB_TICKET_NAME + SB_TICKET_KEY];

	if (getrandom(fresh, sizeof(fresh), 0) != (ssize_t)sizeof(fresh)) {
		fatal("getrandom");
	}
	__atomic_add_fetch(&sb->ticket_gen, 1, __ATOMIC_SEQ_CST);	/* odd */
	memcpy(sb->ticket_name, fresh, SB_TICKET_NAME);
	memcpy(sb->ticket_key, fresh + SB_TICKET_NAME, SB_TICKET_KEY);
	__atomic_add_fetch(&sb->ticket_gen, 1, __ATOMIC_SEQ_CST);	/* even */
	explicit_bzero(fresh, sizeof(fresh));
}

int
sb_ticket_get(const struct scoreboard *sb, uint32_t *gen,
    uint8_t name[SB_TICKET_NAME], uint8_t key[SB_TICKET_KEY])
{
	uint32_t	g = __atomic_load_n(&sb->ticket_gen, __ATOMIC_SEQ_CST);

	if (g == *gen || (g & 1) != 0 || g == 0) {
		return 0;
	}
	memcpy(name, sb->ticket_name, SB_TICKET_NAME);
	memcpy(key, sb->ticket_key, SB_TICKET_KEY);
	if (__atomic_load_n(&sb->ticket_gen, __ATOMIC_SEQ_CST) != g) {
		return 0;		/* rotated while we read: next time */
	}
	*gen = g;
	return 1;
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
