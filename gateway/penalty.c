/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * penalty: per-client-address connection counts and per-address and
 * per-user authentication failures, shared by all workers in the
 * scoreboard (a memfd the parent made), so limits hold across workers.
 * Runs in the workers.  The keys (the client's address, the user name it
 * typed) are UNTRUSTED: they are hashed or masked into fixed 16-byte keys
 * and only ever compared; the table is bounded (SB_PEN_SLOTS entries,
 * SB_PEN_PROBE probes), and when it is full we fail open and say so.
 * IPv6 clients count per /64 (one subscriber usually has a whole /64).
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <string.h>

#include "ev.h"
#include "log.h"
#include "penalty.h"

/* Failures older than this are forgotten. */
#define PEN_FORGET_MS	(15 * 60 * 1000)
/* The delay doubles per failure up to this many doublings... */
#define PEN_MAX_SHIFT	4
/* ...and never exceeds this. */
#define PEN_MAX_DELAY_MS	15000

static void
pen_lock(struct scoreboard *sb)
{
	while (__atomic_exchange_n(&sb->pen_lock, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&sb->pen_lock, __ATOMIC_RELAXED)) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
		}
	}
}

static void
pen_unlock(struct scoreboard *sb)
{
	__atomic_store_n(&sb->pen_lock, 0, __ATOMIC_RELEASE);
}

/* Key of an address: IPv4 as ::ffff:a.b.c.d, IPv6 masked to /64. */
static int
pen_addr_key(const struct sockaddr *sa, uint8_t key[SB_PEN_KEY])
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;

	memset(key, 0, SB_PEN_KEY);
	key[0] = PEN_KIND_ADDR;
	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		key[10] = 0xff;		/* kind, 9 zeros, ff ff, a.b.c.d */
		key[11] = 0xff;
		memcpy(key + 12, &s4->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(key + 1, &s6->sin6_addr, 8);
		return 0;
	}
	return -1;
}

/* Key of a user name: two FNV-1a hashes (collisions only merge two
 * users' penalties). */
static void
pen_user_key(const char *user, uint8_t key[SB_PEN_KEY])
{
	uint64_t	h1 = 0xcbf29ce484222325ULL, h2 = 0x84222325cbf29ce4ULL;
	const uint8_t	*p = (const uint8_t *)user;

	for (; *p != '\0'; p++) {
		h1 = (h1 ^ *p) * 0x100000001b3ULL;
		h2 = (h2 ^ (uint8_t)(*p + 0x5a)) * 0x100000001b3ULL;
	}
	memset(key, 0, SB_PEN_KEY);
	key[0] = PEN_KIND_USER;
	memcpy(key + 1, &h1, 7);
	memcpy(key + 8, &h2, 8);
}

static int
pen_slot_free(const struct sb_pen *e, uint64_t now)
{
	return e->key[0] == 0 || (e->conns == 0 &&
	    now - e->last_fail > PEN_FORGET_MS);
}

/* The entry for key, made if create; NULL if absent or the table is
 * full.  Called with the lock held. */
static struct sb_pen *
pen_find(struct scoreboard *sb, const uint8_t key[SB_PEN_KEY], int create)
{
	uint64_t	 h = 1469598103934665603ULL, now = ev_clock_ms();
	struct sb_pen	*e, *spare = NULL;
	size_t		 i, k;

	for (k = 0; k < SB_PEN_KEY; k++) {
		h = (h ^ key[k]) * 1099511628211ULL;
	}
	for (i = 0; i < SB_PEN_PROBE; i++) {
		e = &sb->pen[(h + i) % SB_PEN_SLOTS];
		if (e->key[0] != 0 && memcmp(e->key, key, SB_PEN_KEY) == 0) {
			return e;
		}
		if (spare == NULL && pen_slot_free(e, now)) {
			spare = e;
		}
	}
	if (!create || spare == NULL) {
		return NULL;
	}
	memset(spare, 0, sizeof(*spare));
	memcpy(spare->key, key, SB_PEN_KEY);
	return spare;
}

int
pen_conn_open(struct scoreboard *sb, const struct sockaddr *sa,
    unsigned max)
{
	uint8_t		 key[SB_PEN_KEY];
	struct sb_pen	*e;
	int		 ok = 1;

	if (max == 0 || pen_addr_key(sa, key) == -1) {
		return 1;
	}
	pen_lock(sb);
	if ((e = pen_find(sb, key, 1)) == NULL) {
		log_warnx("penalty table full: per-address limit not applied");
	} else if (e->conns >= max) {
		ok = 0;
	} else {
		e->conns++;
	}
	pen_unlock(sb);
	return ok;
}

void
pen_conn_close(struct scoreboard *sb, const struct sockaddr *sa)
{
	uint8_t		 key[SB_PEN_KEY];
	struct sb_pen	*e;

	if (pen_addr_key(sa, key) == -1) {
		return;
	}
	pen_lock(sb);
	if ((e = pen_find(sb, key, 0)) != NULL && e->conns > 0) {
		e->conns--;
	}
	pen_unlock(sb);
}

static uint32_t
pen_fails_of(struct scoreboard *sb, const uint8_t key[SB_PEN_KEY],
    uint64_t now)
{
	struct sb_pen	*e = pen_find(sb, key, 0);

	if (e == NULL || now - e->last_fail > PEN_FORGET_MS) {
		return 0;
	}
	return e->fails;
}

uint32_t
pen_delay_ms(struct scoreboard *sb, const struct sockaddr *sa,
    const char *user, unsigned base_ms)
{
	uint8_t		akey[SB_PEN_KEY], ukey[SB_PEN_KEY];
	uint64_t	now = ev_clock_ms(), d;
	uint32_t	fa = 0, fu, f;

	pen_user_key(user, ukey);
	pen_lock(sb);
	if (pen_addr_key(sa, akey) == 0) {
		fa = pen_fails_of(sb, akey, now);
	}
	fu = pen_fails_of(sb, ukey, now);
	pen_unlock(sb);
	f = fa > fu ? fa : fu;
	if (f == 0) {
		return base_ms;
	}
	d = (uint64_t)base_ms << (f > PEN_MAX_SHIFT ? PEN_MAX_SHIFT : f);
	return (uint32_t)(d > PEN_MAX_DELAY_MS ? PEN_MAX_DELAY_MS : d);
}

static void
pen_bump(struct scoreboard *sb, const uint8_t key[SB_PEN_KEY], int fail)
{
	struct sb_pen	*e = pen_find(sb, key, fail);
	uint64_t	 now = ev_clock_ms();

	if (e == NULL) {
		return;
	}
	if (!fail) {
		e->fails = 0;
		return;
	}
	if (now - e->last_fail > PEN_FORGET_MS) {
		e->fails = 0;
	}
	if (e->fails < UINT32_MAX) {
		e->fails++;
	}
	e->last_fail = now;
}

void
pen_auth_result(struct scoreboard *sb, const struct sockaddr *sa,
    const char *user, int ok)
{
	uint8_t	key[SB_PEN_KEY];

	pen_lock(sb);
	if (pen_addr_key(sa, key) == 0) {
		pen_bump(sb, key, !ok);
	}
	pen_user_key(user, key);
	pen_bump(sb, key, !ok);
	pen_unlock(sb);
}

void
pen_forget_conns(struct scoreboard *sb)
{
	size_t	i;

	pen_lock(sb);
	for (i = 0; i < SB_PEN_SLOTS; i++) {
		sb->pen[i].conns = 0;
	}
	pen_unlock(sb);
}
