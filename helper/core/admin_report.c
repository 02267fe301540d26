/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What administrators read of the helper itself (SPEC §7): the mail queue (and a retry of it
 * now) and the status. Part of admin.h's requests; admin.c has those about accounts.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "config.h"
#include "account.h"
#include "address.h"
#include "admin.h"
#include "answer.h"
#include "audit.h"
#include "code.h"
#include "mailq.h"
#include "ready.h"
#include "util.h"

/* ---- the mail queue ---- */

int admin_queue(struct helper *h, struct peer *p, union pwr_msg *m)
{
	uint64_t id = m->page.start, last = id;
	struct pwr_mail_item it;
	struct mail_rec rec;
	uint32_t n = 0;
	bool more = false;
	MDB_txn *txn;
	int r;

	if ((r = store_begin(h->store, false, &txn)) < 0)
		return answer_error(p, PWR_E_INTERNAL, "cannot read the store: %s", strerror(-r));
	while ((r = mailq_next(h->store, txn, id, &id, &rec)) == 0) {
		if (n == PWR_PAGE_MAX) {
			more = true;
			break;
		}
		it = (struct pwr_mail_item){.id = id,
			.kind = rec.kind,
			.state = rec.state,
			.attempts = rec.attempts,
			.created = rec.created,
			.next_try = rec.next_try};
		util_copy(it.user, sizeof(it.user), rec.user);
		util_copy(it.to, sizeof(it.to), rec.to);
		util_copy(it.reply, sizeof(it.reply), rec.reply);
		if ((r = answer_send(p, PWR_ITEM_MAIL, &it)) < 0)
			break;
		last = id;
		n++;
	}
	sodium_memzero(&rec, sizeof(rec));
	store_abort(txn);
	if (r < 0 && r != -ENOENT)
		return r;
	audit(LOG_INFO, "queue", p, NULL, NULL, "ok", NULL);
	return answer_done(p, PWR_OK, n, more, (uint32_t)last, NULL);
}

int admin_queue_flush(struct helper *h, struct peer *p, union pwr_msg *m)
{
	const char *user = m->user.user;
	uint64_t id = 0, now = util_now();
	struct mail_rec rec;
	uint32_t n = 0;
	MDB_txn *txn;
	int r;

	if ((r = store_begin(h->store, true, &txn)) < 0)
		return answer_error(p, PWR_E_INTERNAL, "cannot write the store: %s", strerror(-r));
	while ((r = mailq_next_due(h->store, txn, id, &id, &rec)) == 0) {
		if ((*user && strcmp(user, rec.user) != 0) || rec.next_try <= now)
			continue;
		rec.next_try = now;
		if ((r = mailq_put(h->store, txn, id, &rec)) < 0)
			break;
		n++;
	}
	sodium_memzero(&rec, sizeof(rec));
	r = r < 0 && r != -ENOENT ? (store_abort(txn), r) : store_commit(txn);
	if (r < 0) {
		audit(LOG_ERR, "queue-flush", p, *user ? user : NULL, NULL, "error", strerror(-r));
		return answer_error(p, PWR_E_INTERNAL, "cannot write the store: %s", strerror(-r));
	}
	audit(LOG_NOTICE, "queue-flush", p, *user ? user : NULL, NULL, "ok", NULL);
	return answer_done(p, PWR_OK, n, false, 0, NULL);
}

/* ---- status ---- */

static int count_code(void *ctx, const char *user, const struct code_rec *rec)
{
	struct pwr_status_ans *a = ctx;

	(void)user;
	(*(rec->kind == PWR_KIND_ADMIN ? &a->codes_admin : &a->codes_self))++;
	return 0;
}

static int status_counts(struct helper *h, struct pwr_status_ans *a)
{
	uint64_t id = 0;
	struct mail_rec mail;
	MDB_txn *txn;
	long n;
	int r;

	if ((r = store_begin(h->store, false, &txn)) < 0)
		return r;
	if ((n = address_count(h->store, txn)) < 0 ||
		(r = code_each(h->store, txn, "", util_now(), count_code, a)) < 0) {
		store_abort(txn);
		return n < 0 ? (int)n : r;
	}
	a->addresses = (uint32_t)n;
	while ((r = mailq_next(h->store, txn, id, &id, &mail)) == 0) {
		a->mail_queued += mail.state == PWR_MAIL_QUEUED;
		a->mail_deferred += mail.state == PWR_MAIL_DEFERRED;
		a->mail_failed += mail.state == PWR_MAIL_FAILED;
		a->mail_sent += mail.state == PWR_MAIL_SENT;
	}
	sodium_memzero(&mail, sizeof(mail));
	store_abort(txn);
	a->store_bytes = store_used(h->store);
	return r == -ENOENT ? 0 : r;
}

int admin_status(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_status_ans a = {0};
	int r;

	(void)m;
	util_copy(a.version, sizeof(a.version), PWR_VERSION);
	a.mode = h->mode;
	a.started = h->started;
	a.self_reset = h->conf.self_reset;
	a.code_ttl = h->conf.code_ttl;
	a.admin_code_ttl = h->conf.admin_code_ttl;
	util_copy(a.admin_group, sizeof(a.admin_group), h->conf.admin_group);
	/* shown to an administrator: a value too long for the answer is cut, not dropped */
	snprintf(a.smtp_url, sizeof(a.smtp_url), "%s", h->conf.smtp_url);
	snprintf(a.help, sizeof(a.help), "%s", h->conf.help_message);
	ready_why(h, a.problems, sizeof(a.problems)); /* left empty when resets can complete */
	if (h->accounts.dir) {
		snprintf(a.directory, sizeof(a.directory), "%.*s", (int)sizeof(a.directory) - 1,
			h->conf.directory_url);
		a.directory_ok = account_db_status(&h->accounts, a.directory_as,
					 sizeof(a.directory_as), &a.directory_type) == 0;
	}
	if ((r = status_counts(h, &a)) < 0) {
		audit(LOG_ERR, "status", p, NULL, NULL, "error", strerror(-r));
		return answer_error(p, PWR_E_INTERNAL, "cannot read the store: %s", strerror(-r));
	}
	audit(LOG_INFO, "status", p, NULL, NULL, "ok", NULL);
	return answer_send(p, PWR_ANS_STATUS, &a);
}
