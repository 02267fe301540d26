/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test tool: queue N code mails in the store in STATE_DIR (users bench0.., addresses
 * benchN@example.org), as requests would, for the delivery benchmark. Never installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "code.h"
#include "mailq.h"
#include "store.h"
#include "storefill.h"
#include "util.h"

int main(int argc, char **argv)
{
	struct store *s;
	MDB_txn *txn;
	long n;

	if (argc != 3 || (n = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: mailq-fill STATE_DIR N\n");
		return 2;
	}
	if (store_open(argv[1], 0, store_fills, &s) < 0 || store_begin(s, true, &txn) < 0)
		return 1;
	for (long i = 0; i < n; i++) {
		struct mail_rec rec;
		char code[CODE_LEN + 1];
		uint64_t id, now = util_now();

		memset(&rec, 0, sizeof(rec));
		rec.kind = PWR_MAIL_CODE;
		rec.created = rec.next_try = now;
		rec.code_expires = rec.give_up = now + 3600;
		snprintf(rec.user, sizeof(rec.user), "bench%ld", i);
		snprintf(rec.to, sizeof(rec.to), "bench%ld@example.org", i);
		code_generate(code);
		if (mailq_push(s, txn, &rec, code, &id) < 0)
			return 1;
	}
	if (store_commit(txn) < 0)
		return 1;
	store_close(s);
	return 0;
}
