/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_table: hash + binary min-heap of client addresses and their expiry.
 * Runs in pbsd as its unprivileged user; trusts its callers (addresses are
 * validated before they get here).  Out of memory is fatal.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pbsd_table.h"

#define PBSD_TABLE_MINBUCKETS	64

static void *
pbsd_calloc(size_t n, size_t sz)
{
	void	*p;

	if ((p = calloc(n, sz)) == NULL) {
		fatal("pbsd_table");
	}
	return p;
}

void
pbsd_table_init(struct pbsd_table *t, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->pt_max = max;
	t->pt_nbuckets = PBSD_TABLE_MINBUCKETS;
	t->pt_buckets = pbsd_calloc(t->pt_nbuckets, sizeof(*t->pt_buckets));
}

void
pbsd_table_clear(struct pbsd_table *t)
{
	size_t	i;

	for (i = 0; i < t->pt_count; i++) {
		free(t->pt_heap[i]);
	}
	t->pt_count = 0;
	memset(t->pt_buckets, 0, t->pt_nbuckets * sizeof(*t->pt_buckets));
}

void
pbsd_table_free(struct pbsd_table *t)
{
	pbsd_table_clear(t);
	free(t->pt_buckets);
	free(t->pt_heap);
	memset(t, 0, sizeof(*t));
}

static size_t
pbsd_bucket(const struct pbsd_table *t, const struct pbsd_addr *a)
{
	return pbsd_addr_hash(a) & (t->pt_nbuckets - 1);
}

int
pbsd_table_find(const struct pbsd_table *t, const struct pbsd_addr *a,
    struct pbsd_entry **entry_r)
{
	struct pbsd_entry	*e;

	for (e = t->pt_buckets[pbsd_bucket(t, a)]; e != NULL; e = e->pe_next) {
		if (pbsd_addr_eq(&e->pe_addr, a)) {
			*entry_r = e;
			return 1;
		}
	}
	return 0;
}

static void
pbsd_heap_swap(struct pbsd_table *t, size_t i, size_t j)
{
	struct pbsd_entry	*tmp = t->pt_heap[i];

	t->pt_heap[i] = t->pt_heap[j];
	t->pt_heap[j] = tmp;
	t->pt_heap[i]->pe_heapidx = i;
	t->pt_heap[j]->pe_heapidx = j;
}

static void
pbsd_heap_up(struct pbsd_table *t, size_t i)
{
	size_t	parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (t->pt_heap[parent]->pe_expiry <= t->pt_heap[i]->pe_expiry) {
			break;
		}
		pbsd_heap_swap(t, i, parent);
		i = parent;
	}
}

static void
pbsd_heap_down(struct pbsd_table *t, size_t i)
{
	size_t	l, r, m;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < t->pt_count &&
		    t->pt_heap[l]->pe_expiry < t->pt_heap[m]->pe_expiry) {
			m = l;
		}
		if (r < t->pt_count &&
		    t->pt_heap[r]->pe_expiry < t->pt_heap[m]->pe_expiry) {
			m = r;
		}
		if (m == i) {
			break;
		}
		pbsd_heap_swap(t, i, m);
		i = m;
	}
}

static void
pbsd_heap_fix(struct pbsd_table *t, size_t i)
{
	struct pbsd_entry	*e = t->pt_heap[i];

	pbsd_heap_up(t, i);
	pbsd_heap_down(t, e->pe_heapidx);
}

static void
pbsd_table_rehash(struct pbsd_table *t)
{
	struct pbsd_entry	**nb;
	size_t			  i, n = t->pt_nbuckets * 2, h;

	nb = pbsd_calloc(n, sizeof(*nb));
	for (i = 0; i < t->pt_count; i++) {
		h = pbsd_addr_hash(&t->pt_heap[i]->pe_addr) & (n - 1);
		t->pt_heap[i]->pe_next = nb[h];
		nb[h] = t->pt_heap[i];
	}
	free(t->pt_buckets);
	t->pt_buckets = nb;
	t->pt_nbuckets = n;
}

int
pbsd_table_refresh(struct pbsd_table *t, const struct pbsd_addr *a,
    int64_t expiry)
{
	struct pbsd_entry	*e;

	if (!pbsd_table_find(t, a, &e)) {
		return 0;
	}
	e->pe_expiry = expiry;
	pbsd_heap_fix(t, e->pe_heapidx);
	return 1;
}

int
pbsd_table_set(struct pbsd_table *t, const struct pbsd_addr *a,
    int64_t expiry)
{
	struct pbsd_entry	*e, **nh;
	size_t			 h, ncap;

	if (pbsd_table_refresh(t, a, expiry)) {
		return 0;
	}
	if (t->pt_count >= t->pt_max) {
		return -1;
	}
	if (t->pt_count == t->pt_heapcap) {
		ncap = t->pt_heapcap ? t->pt_heapcap * 2 : 64;
		if ((nh = reallocarray(t->pt_heap, ncap, sizeof(*nh))) ==
		    NULL) {
			fatal("pbsd_table_set");
		}
		t->pt_heap = nh;
		t->pt_heapcap = ncap;
	}
	if (t->pt_count + 1 > t->pt_nbuckets) {
		pbsd_table_rehash(t);
	}
	e = pbsd_calloc(1, sizeof(*e));
	e->pe_addr = *a;
	e->pe_expiry = expiry;
	h = pbsd_bucket(t, a);
	e->pe_next = t->pt_buckets[h];
	t->pt_buckets[h] = e;
	e->pe_heapidx = t->pt_count;
	t->pt_heap[t->pt_count++] = e;
	pbsd_heap_up(t, e->pe_heapidx);
	return 1;
}

static void
pbsd_table_unlink(struct pbsd_table *t, struct pbsd_entry *e)
{
	struct pbsd_entry	**pp;
	size_t			  i = e->pe_heapidx, last = t->pt_count - 1;

	for (pp = &t->pt_buckets[pbsd_bucket(t, &e->pe_addr)]; *pp != e;
	    pp = &(*pp)->pe_next) {
		;
	}
	*pp = e->pe_next;
	if (i != last) {
		pbsd_heap_swap(t, i, last);
	}
	t->pt_count--;
	if (i != last) {
		pbsd_heap_fix(t, i);
	}
	free(e);
}

int
pbsd_table_remove(struct pbsd_table *t, const struct pbsd_addr *a)
{
	struct pbsd_entry	*e;

	if (!pbsd_table_find(t, a, &e)) {
		return 0;
	}
	pbsd_table_unlink(t, e);
	return 1;
}

const struct pbsd_entry *
pbsd_table_first(const struct pbsd_table *t)
{
	return t->pt_count > 0 ? t->pt_heap[0] : NULL;
}

size_t
pbsd_table_expire(struct pbsd_table *t, int64_t now)
{
	size_t	n = 0;

	while (t->pt_count > 0 && t->pt_heap[0]->pe_expiry <= now) {
		pbsd_table_unlink(t, t->pt_heap[0]);
		n++;
	}
	return n;
}

size_t
pbsd_table_count(const struct pbsd_table *t)
{
	return t->pt_count;
}

const struct pbsd_entry *
pbsd_table_at(const struct pbsd_table *t, size_t i)
{
	if (i >= t->pt_count) {
		fatalx("pbsd_table_at: %zu >= %zu", i, t->pt_count);
	}
	return t->pt_heap[i];
}

int
pbsd_table_check(const struct pbsd_table *t)
{
	struct pbsd_entry	*e;
	size_t			 i, chained = 0;

	for (i = 0; i < t->pt_count; i++) {
		if (t->pt_heap[i]->pe_heapidx != i) {
			return -1;
		}
		if (i > 0 && t->pt_heap[(i - 1) / 2]->pe_expiry >
		    t->pt_heap[i]->pe_expiry) {
			return -1;
		}
		if (!pbsd_table_find(t, &t->pt_heap[i]->pe_addr, &e) ||
		    e != t->pt_heap[i]) {
			return -1;
		}
	}
	for (i = 0; i < t->pt_nbuckets; i++) {
		for (e = t->pt_buckets[i]; e != NULL; e = e->pe_next) {
			chained++;
		}
	}
	return chained == t->pt_count ? 0 : -1;
}
