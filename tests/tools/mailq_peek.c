/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test tool: list the mail queue of the store in STATE_DIR, opening each sealed code the way
 * the delivery step will, so a test can read "the mail" before the mailer exists.
 * Never installed.
 */
#include <stdio.h>
#include <string.h>

#include "mailq.h"
#include "store.h"
#include "storefill.h"

int main(int argc, char **argv)
{
	struct store *s;
	MDB_txn *txn;
	struct mail_rec rec;
	uint64_t id = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: mailq-peek STATE_DIR\n");
		return 2;
	}
	if (store_open(argv[1], 0, store_fills, &s) < 0 || store_begin(s, false, &txn) < 0)
		return 1;
	while (mailq_next(s, txn, id, &id, &rec) == 0) {
		char code[CODE_LEN + 1] = "", shown[CODE_SHOWN_LEN + 1] = "-";
		if (mailq_unseal(s, &rec, code) == 0)
			code_format(code, shown);
		printf("mail id=%llu kind=%u state=%u user=%s to=%s rhost=%s code=%s\n",
			(unsigned long long)id, rec.kind, rec.state, rec.user, rec.to, rec.rhost,
			shown);
	}
	store_abort(txn);
	store_close(s);
	return 0;
}
