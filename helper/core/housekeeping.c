/* SPDX-License-Identifier: BSD-3-Clause */
#include <syslog.h>

#include "code.h"
#include "dirlink.h"
#include "housekeeping.h"
#include "log.h"
#include "mailq.h"
#include "pending.h"
#include "rate.h"

#define PURGE_EVERY 300u

void housekeeping_run(struct helper *h, uint64_t now)
{
	uint64_t last = 0;
	MDB_txn *txn;
	int a, b, c, d;

	dirlink_tick(h->accounts.dir, now);
	if (!h->store || store_begin(h->store, true, &txn) < 0)
		return;
	store_meta_get(h->store, txn, "last_purge", &last, sizeof(last));
	if (now >= last && now < last + PURGE_EVERY) {
		store_abort(txn);
		return;
	}
	/* keep dead codes a day, so `tokens` and the audit trail agree for a while */
	a = code_purge(h->store, txn, now, 86400);
	b = rate_purge(h->store, txn, now, 3600);
	/* sent and failed mails stay a week, for `pwresetctl queue` and the audit trail */
	c = mailq_purge(h->store, txn, now, 7 * 86400);
	/* addresses awaiting confirmation: a day after their code died, like codes */
	d = pending_purge(h->store, txn, now, 86400);
	if (a < 0 || b < 0 || c < 0 || d < 0 ||
		store_meta_put(h->store, txn, "last_purge", &now, sizeof(now)) < 0) {
		store_abort(txn);
		return;
	}
	if (store_commit(txn) == 0 && (a > 0 || b > 0 || c > 0 || d > 0))
		log_msg(LOG_INFO,
			"purged %d expired code(s), %d rate window(s), %d old mail(s), %d unconfirmed "
			"address(es)",
			a, b, c, d);
}
