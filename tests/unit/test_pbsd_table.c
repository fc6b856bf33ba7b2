/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * Unit tests of pbsd_table.c (hash + expiry heap) against a brute-force
 * model with random operations, plus the max_entries limit.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pbsd_proto.h"
#include "pbsd_table.h"

#define NADDR	300

static struct pbsd_addr
addr_n(int i)
{
	struct pbsd_addr	a;
	uint8_t			b[16];

	memset(b, 0, sizeof(b));
	b[0] = 10;
	b[2] = (uint8_t)(i >> 8);
	b[3] = (uint8_t)i;
	if (i % 3 == 0) {
		b[0] = 0x20;
		b[1] = 0x01;
		b[15] = (uint8_t)i;
		b[14] = (uint8_t)(i >> 8);
		(void)pbsd_addr_make(PBSD_FAM_INET6, b, 128, &a);
	} else {
		(void)pbsd_addr_make(PBSD_FAM_INET, b, 128, &a);
	}
	return a;
}

static void
test_basic(void)
{
	struct pbsd_table	 t;
	struct pbsd_entry	*e;
	struct pbsd_addr	 a = addr_n(1), b = addr_n(2), c = addr_n(3);

	pbsd_table_init(&t, 10);
	T_ASSERT(pbsd_table_first(&t) == NULL);
	T_EQ_INT(pbsd_table_set(&t, &a, 100), 1);
	T_EQ_INT(pbsd_table_set(&t, &b, 50), 1);
	T_EQ_INT(pbsd_table_set(&t, &c, 75), 1);
	T_EQ_INT(pbsd_table_count(&t), 3);
	T_ASSERT(pbsd_addr_eq(&pbsd_table_first(&t)->pe_addr, &b));
	T_EQ_INT(pbsd_table_set(&t, &b, 200), 0);	/* update */
	T_ASSERT(pbsd_addr_eq(&pbsd_table_first(&t)->pe_addr, &c));
	T_EQ_INT(pbsd_table_refresh(&t, &a, 10), 1);
	T_EQ_INT(pbsd_table_first(&t)->pe_expiry, 10);
	T_EQ_INT(pbsd_table_expire(&t, 9), 0);
	T_EQ_INT(pbsd_table_expire(&t, 10), 1);		/* expiry <= now */
	T_EQ_INT(pbsd_table_find(&t, &a, &e), 0);
	T_EQ_INT(pbsd_table_refresh(&t, &a, 500), 0);	/* no resurrection */
	T_EQ_INT(pbsd_table_remove(&t, &c), 1);
	T_EQ_INT(pbsd_table_remove(&t, &c), 0);
	T_EQ_INT(pbsd_table_count(&t), 1);
	T_EQ_INT(pbsd_table_check(&t), 0);
	pbsd_table_clear(&t);
	T_EQ_INT(pbsd_table_count(&t), 0);
	T_EQ_INT(pbsd_table_find(&t, &b, &e), 0);
	pbsd_table_free(&t);
}

static void
test_max_entries(void)
{
	struct pbsd_table	t;
	struct pbsd_addr	a;
	int			i;

	pbsd_table_init(&t, 100);
	for (i = 0; i < 100; i++) {
		a = addr_n(i);
		T_EQ_INT(pbsd_table_set(&t, &a, 1000 + i), 1);
	}
	a = addr_n(100);
	T_EQ_INT(pbsd_table_set(&t, &a, 5), -1);	/* one past */
	a = addr_n(5);
	T_EQ_INT(pbsd_table_set(&t, &a, 5), 0);		/* update still ok */
	T_EQ_INT(pbsd_table_count(&t), 100);
	T_EQ_INT(pbsd_table_check(&t), 0);
	pbsd_table_free(&t);
}

/* Random operations checked against an array model. */
static void
test_random_model(void)
{
	struct pbsd_table	 t;
	struct pbsd_entry	*e;
	struct pbsd_addr	 a;
	int64_t			 model[NADDR], now = 0, min;
	int			 i, op, k, want;
	size_t			 n, count;

	srand(12345);
	for (k = 0; k < NADDR; k++) {
		model[k] = -1;
	}
	pbsd_table_init(&t, NADDR);
	for (i = 0; i < 20000; i++) {
		op = rand() % 10;
		k = rand() % NADDR;
		a = addr_n(k);
		if (op < 5) {
			want = model[k] == -1 ? 1 : 0;
			model[k] = now + 1 + rand() % 500;
			T_EQ_INT(pbsd_table_set(&t, &a, model[k]), want);
		} else if (op < 7) {
			want = model[k] != -1;
			if (want) {
				model[k] = now + 1 + rand() % 500;
			}
			T_EQ_INT(pbsd_table_refresh(&t, &a, model[k]), want);
		} else if (op < 8) {
			T_EQ_INT(pbsd_table_remove(&t, &a), model[k] != -1);
			model[k] = -1;
		} else {
			now += rand() % 20;
			count = 0;
			for (k = 0; k < NADDR; k++) {
				if (model[k] != -1 && model[k] <= now) {
					model[k] = -1;
					count++;
				}
			}
			n = pbsd_table_expire(&t, now);
			T_EQ_INT(n, count);
		}
		if (i % 500 == 0) {
			T_EQ_INT(pbsd_table_check(&t), 0);
		}
	}
	count = 0;
	min = INT64_MAX;
	for (k = 0; k < NADDR; k++) {
		a = addr_n(k);
		T_EQ_INT(pbsd_table_find(&t, &a, &e), model[k] != -1);
		if (model[k] != -1) {
			count++;
			T_EQ_INT(e->pe_expiry, model[k]);
			if (model[k] < min) {
				min = model[k];
			}
		}
	}
	T_EQ_INT(pbsd_table_count(&t), count);
	if (count > 0) {
		T_EQ_INT(pbsd_table_first(&t)->pe_expiry, min);
	}
	T_EQ_INT(pbsd_table_check(&t), 0);
	pbsd_table_free(&t);
}

/* Expiry pops in non-decreasing order. */
static void
test_heap_order(void)
{
	struct pbsd_table	t;
	struct pbsd_addr	a;
	int64_t			last = -1, cur;
	int			i;

	pbsd_table_init(&t, 1000);
	srand(7);
	for (i = 0; i < 1000; i++) {
		a = addr_n(i);
		(void)pbsd_table_set(&t, &a, rand() % 100000);
	}
	while (pbsd_table_first(&t) != NULL) {
		cur = pbsd_table_first(&t)->pe_expiry;
		T_ASSERT(cur >= last);
		last = cur;
		(void)pbsd_table_expire(&t, cur);
	}
	pbsd_table_free(&t);
}

static const struct harness_case cases[] = {
	{ "basic", test_basic },
	{ "max_entries", test_max_entries },
	{ "random_model", test_random_model },
	{ "heap_order", test_heap_order },
};

HARNESS_MAIN("test_pbsd_table", cases)
