/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_table: the one in-memory source of truth, address -> expiry.  A
 * chained hash finds an address in O(1); a binary min-heap on the expiry
 * time gives the next expiry in O(1) and updates in O(log n).  Runs in pbsd
 * (unprivileged); callers pass already validated addresses.  The number of
 * entries is capped by the caller-given maximum.
 */
#ifndef BAILEY_PBSD_TABLE_H
#define BAILEY_PBSD_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "pbsd_key.h"

struct pbsd_entry {
	struct pbsd_addr	 pe_addr;
	int64_t			 pe_expiry;	/* epoch seconds */
	size_t			 pe_heapidx;
	struct pbsd_entry	*pe_next;	/* hash chain */
};

struct pbsd_table {
	struct pbsd_entry	**pt_buckets;
	size_t			  pt_nbuckets;	/* power of two */
	struct pbsd_entry	**pt_heap;
	size_t			  pt_count;
	size_t			  pt_heapcap;
	size_t			  pt_max;
};

void	 pbsd_table_init(struct pbsd_table *, size_t max);
void	 pbsd_table_free(struct pbsd_table *);
/* Removes every entry. */
void	 pbsd_table_clear(struct pbsd_table *);

/* Lookup: 1 and *entry_r if present, 0 if not. */
int	 pbsd_table_find(const struct pbsd_table *, const struct pbsd_addr *,
	    struct pbsd_entry **entry_r);
/*
 * Inserts or sets the expiry.  Returns 1 if a new entry was made, 0 if an
 * existing one was updated, -1 if the table is full.
 */
int	 pbsd_table_set(struct pbsd_table *, const struct pbsd_addr *,
	    int64_t expiry);
/* Updates only an existing entry: 1 updated, 0 not present. */
int	 pbsd_table_refresh(struct pbsd_table *, const struct pbsd_addr *,
	    int64_t expiry);
/* 1 removed, 0 not present. */
int	 pbsd_table_remove(struct pbsd_table *, const struct pbsd_addr *);
/* The entry expiring first, or NULL if empty. */
const struct pbsd_entry *pbsd_table_first(const struct pbsd_table *);
/* Removes every entry with expiry <= now; returns how many. */
size_t	 pbsd_table_expire(struct pbsd_table *, int64_t now);
size_t	 pbsd_table_count(const struct pbsd_table *);
/* Entry i (0 <= i < count), in heap order. */
const struct pbsd_entry *pbsd_table_at(const struct pbsd_table *, size_t i);
/* 0 if the heap and hash invariants hold (for tests), else -1. */
int	 pbsd_table_check(const struct pbsd_table *);

#endif
