/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test tool: register the address PREFIX<i>@DOMAIN for each account PREFIX<i>, FROM <= i < TO,
 * in the store in STATE_DIR, through address.c (the index kept as the helper keeps it), in
 * commits of 5,000: a real site's number of addresses for the benchmarks, without the helper's
 * checks of each account. Never installed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "address.h"
#include "store.h"
#include "storefill.h"

#define PER_COMMIT 5000

int main(int argc, char **argv)
{
	char user[PWR_USER_MAX + 1], addr[PWR_ADDR_MAX + 1];
	struct store *s;
	MDB_txn *txn = NULL;
	long from, to;

	if (argc != 6 || (from = strtol(argv[3], NULL, 10)) < 0 ||
		(to = strtol(argv[4], NULL, 10)) < from) {
		fprintf(stderr, "usage: addr-fill STATE_DIR PREFIX FROM TO DOMAIN\n");
		return 2;
	}
	if (store_open(argv[1], 0, store_fills, &s) < 0)
		return 1;
	for (long i = from; i < to; i++) {
		if (!txn && store_begin(s, true, &txn) < 0)
			return 1;
		snprintf(user, sizeof(user), "%s%ld", argv[2], i);
		snprintf(addr, sizeof(addr), "%s%ld@%s", argv[2], i, argv[5]);
		if (address_set(s, txn, user, addr) < 0)
			return 1;
		if ((i - from + 1) % PER_COMMIT == 0 || i + 1 == to) {
			if (store_commit(txn) < 0)
				return 1;
			txn = NULL;
		}
	}
	store_close(s);
	return 0;
}
