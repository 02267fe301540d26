/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The request handler's front: one table says, for each request, who may ask it, what it needs
 * and whether it queues mail. Permissions:
 *   PERM_SELF   uid 0 for any user; any other uid for the account whose uid it is, only
 *   PERM_ADMIN  uid 0, or a member of admin_group
 * MUST: a request that is not permitted is refused, logged, and the peer dropped. Every refusal
 * and every change is logged; no code is ever logged or answered.
 */
#include <errno.h>
#include <pwd.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "account.h"
#include "address.h"
#include "code.h"
#include "deliver.h"
#include "dirlink.h"
#include "handler.h"
#include "log.h"
#include "mailq.h"
#include "password.h"
#include "pending.h"
#include "policy.h"
#include "rate.h"
#include "util.h"

enum perm { PERM_SELF, PERM_ADMIN };

/* What a request needs before its handler runs, and what follows it. */
enum {
	NEEDS_STORE = 1, /* answered PWR_E_INTERNAL when the store is not open */
	NEEDS_CODE = 2, /* this connection must have shown a valid code for the user */
	MAILS = 4, /* it may queue mail: the courier looks at the queue after the answer */
};

/* Where a self-service request says whom it is about. */
enum about { ABOUT_WHO, ABOUT_VERIFY, ABOUT_SET_PASSWORD, ABOUT_ADDRESS, ABOUT_NOBODY };

struct route {
	uint16_t op;
	enum perm perm;
	unsigned flags;
	enum about about;
	handler_fn *fn;
};

static const struct route routes[] = {
	{PWR_REQ_OFFER, PERM_SELF, 0, ABOUT_WHO, h_offer},
	{PWR_REQ_REQUEST, PERM_SELF, NEEDS_STORE | MAILS, ABOUT_WHO, h_request},
	{PWR_REQ_VERIFY, PERM_SELF, NEEDS_STORE, ABOUT_VERIFY, h_verify},
	{PWR_REQ_SET_PASSWORD, PERM_SELF, NEEDS_STORE | NEEDS_CODE | MAILS, ABOUT_SET_PASSWORD,
		h_set_password},
	{PWR_REQ_ADDRESS_SHOW, PERM_SELF, NEEDS_STORE, ABOUT_ADDRESS, h_address_show},
	{PWR_REQ_ADDRESS_SET, PERM_SELF, NEEDS_STORE | MAILS, ABOUT_ADDRESS, h_address_set},
	{PWR_REQ_ADDRESS_CONFIRM, PERM_SELF, NEEDS_STORE | MAILS, ABOUT_ADDRESS,
		h_address_confirm},
	{PWR_REQ_ADDRESS_REMOVE, PERM_SELF, NEEDS_STORE | MAILS, ABOUT_ADDRESS, h_address_remove},
	{PWR_REQ_EMAIL_SET, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, h_email_set},
	{PWR_REQ_EMAIL_UNSET, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, h_email_unset},
	{PWR_REQ_EMAIL_SHOW, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, h_email_show},
	{PWR_REQ_EMAIL_IMPORT, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, h_email_import},
	{PWR_REQ_EMAIL_EXPORT, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, h_email_export},
	{PWR_REQ_CHECK, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, h_check},
	{PWR_REQ_TOKENS, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, h_tokens},
	{PWR_REQ_REVOKE, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, h_revoke},
	{PWR_REQ_RESET, PERM_ADMIN, NEEDS_STORE | MAILS, ABOUT_NOBODY, h_reset},
	{PWR_REQ_QUEUE, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, h_queue},
	{PWR_REQ_QUEUE_FLUSH, PERM_ADMIN, NEEDS_STORE | MAILS, ABOUT_NOBODY, h_queue_flush},
	{PWR_REQ_STATUS, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, h_status},
	{PWR_REQ_POLICY_SHOW, PERM_ADMIN, 0, ABOUT_NOBODY, h_policy_show},
	{PWR_REQ_POLICY_SET, PERM_ADMIN, 0, ABOUT_NOBODY, h_policy_set}, /* root: checked there */
};

#define PURGE_EVERY 300u
#define READY_EVERY 2u /* seconds between two looks at the password dictionary */

int ans_send(struct peer *p, uint16_t op, const void *msg)
{
	int r = wire_send(p->fd, op, msg, p->send_flags);
	if (r < 0)
		log_msg(LOG_WARNING, "peer pid %ld uid %ld: cannot send %s: %s; dropping it",
			(long)p->pid, (long)p->uid, wire_op_name(op), strerror(-r));
	return r;
}

int ans_error(struct peer *p, uint32_t status, const char *fmt, ...)
{
	struct pwr_error_ans a = {.status = status};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a.text, sizeof(a.text), fmt, ap);
	va_end(ap);
	return ans_send(p, PWR_ANS_ERROR, &a);
}

int ans_done(
	struct peer *p, uint32_t status, uint32_t count, bool more, uint32_t next, const char *text)
{
	struct pwr_done_ans d = {.status = status, .count = count, .more = more, .next = next};
	util_copy(d.text, sizeof(d.text), text ? text : "");
	return ans_send(p, PWR_ANS_DONE, &d);
}

/* The account last said to be a directory account (one request is handled at a time). */
static char directory_user[PWR_USER_MAX + 1];

void audit_source(const char *user, bool directory)
{
	util_copy(directory_user, sizeof(directory_user), directory ? user : "");
}

void audit(int prio, const char *event, const struct peer *p, const char *user,
	const struct pwr_who *who, const char *result, const char *reason)
{
	struct log_event e = {
		.event = event,
		.user = user,
		.rhost = who ? who->rhost : NULL,
		.tty = who ? who->tty : NULL,
		.by = (long)p->uid,
		.result = result,
		.reason = reason,
		.source = user && *directory_user && !strcmp(user, directory_user) ? "directory"
										     : NULL,
	};
	log_event(prio, &e);
}

int account_address(struct helper *h, const char *user, char addr[PWR_ADDR_MAX + 1])
{
	struct account acct;
	MDB_txn *txn;
	int r;

	if ((r = account_lookup(&h->accounts, user, &acct)) < 0)
		return r;
	if (acct.directory) {
		r = acct.address ? util_copy(addr, PWR_ADDR_MAX + 1, acct.address) : -ENOENT;
		account_clear(&acct);
		return r < 0 ? -ENOENT : 0;
	}
	account_clear(&acct);
	if ((r = store_begin(h->store, false, &txn)) < 0)
		return r;
	r = address_get(h->store, txn, user, addr);
	store_abort(txn);
	return r;
}

bool dispatch_ready(struct helper *h)
{
	uint64_t now = util_now();
	bool was = h->ready_at ? h->ready : true;

	if (h->ready_at && now >= h->ready_at && now < h->ready_at + READY_EVERY)
		return h->ready;
	h->ready = password_ready(h->unready, sizeof(h->unready)) == 0;
	h->ready_at = now;
	if (!h->ready && was)
		log_msg(LOG_ERR, "password reset is refused until this is fixed: %s", h->unready);
	else if (h->ready && !was)
		log_msg(LOG_NOTICE, "the password dictionary is back: password reset works again");
	return h->ready;
}

bool reset_ready(struct helper *h, char *why, size_t len)
{
	if (dispatch_ready(h))
		return true;
	util_copy(why, len, h->unready);
	return false;
}

/* A peer that is not root may act for its own account only. */
static bool peer_may_act_for(const struct peer *p, const char *user)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (p->uid == 0)
		return true;
	if (!*user || !util_text_ok(user))
		return false;
	return getpwnam_r(user, &pw, buf, sizeof(buf), &res) == 0 && res && res->pw_uid == p->uid;
}

static bool peer_is_admin(struct helper *h, const struct peer *p)
{
	return p->uid == 0 ||
	       (h->conf.admin_group[0] && account_uid_in_group(p->uid, h->conf.admin_group));
}

static struct pwr_who *about(enum about a, union pwr_msg *m)
{
	switch (a) {
	case ABOUT_VERIFY:
		return &m->verify.who;
	case ABOUT_SET_PASSWORD:
		return &m->set_password.who;
	case ABOUT_ADDRESS:
		return &m->address.who;
	case ABOUT_WHO:
		return &m->who;
	default:
		return NULL;
	}
}

/* A self-service request: what it says of where it comes from is cleaned, and the peer must
 * be root or the account's own uid. 0, or < 0 (refused, answered) to drop the peer. */
static int self_permitted(const struct route *rt, struct peer *p, union pwr_msg *m)
{
	struct pwr_who *who = about(rt->about, m);
	const char *event = wire_op_name(rt->op);

	/* what PAM says of the remote host and terminal ends up in logs and mails: no control
	 * character may come along (the user name is refused instead) */
	util_sanitize(who->rhost);
	util_sanitize(who->tty);
	util_sanitize(who->service);
	/* only root (login, sshd) is believed about the remote host; the log's by= says which
	 * uid asked, and its rate window is that uid's */
	if (p->uid != 0)
		who->rhost[0] = '\0';
	if (!peer_may_act_for(p, who->user)) {
		audit(LOG_WARNING, event, p, who->user, NULL, "refused", "not-permitted");
		ans_error(p, PWR_E_PERM, "uid %ld may not act for %s", (long)p->uid, who->user);
		sodium_memzero(m, sizeof(*m)); /* it may hold a password */
		return -EPERM;
	}
	if ((rt->flags & NEEDS_CODE) &&
		(!p->verified || strcmp(p->verified_user, who->user) != 0)) {
		char user[PWR_USER_MAX + 1];

		util_copy(user, sizeof(user), who->user);
		audit(LOG_WARNING, event, p, user, who, "refused", "no-valid-code");
		sodium_memzero(m, sizeof(*m)); /* it may hold a password */
		ans_error(p, PWR_E_PERM, "no valid code was shown for %s on this connection", user);
		return -EPERM;
	}
	return 0;
}

static const struct route *route_of(uint16_t op)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].op == op)
			return &routes[i];
	return NULL;
}

int dispatch(struct helper *h, struct peer *p, uint16_t op, union pwr_msg *m)
{
	const struct route *rt = route_of(op);
	int r;

	/* the daemon answers by the configuration file as it is now (one-shot helpers read it
	 * when they start) */
	if (h->mode == PWR_MODE_DAEMON)
		policy_check_file(h);

	if (!rt) {
		audit(LOG_WARNING, "refused", p, NULL, NULL, "refused", "not-a-request");
		ans_error(p, PWR_E_PROTO, "%s is not a request", wire_op_name(op));
		return -EPROTO;
	}
	if (!h->conf_ok) {
		audit(LOG_ERR, wire_op_name(op), p, NULL, NULL, "refused", "broken-configuration");
		ans_error(p, PWR_E_CONFIG,
			"the helper's configuration is broken; pwreset-helper --check-config says why");
		return -EINVAL;
	}
	if (rt->perm == PERM_SELF && (r = self_permitted(rt, p, m)) < 0)
		return r;
	if (rt->perm == PERM_ADMIN && !peer_is_admin(h, p)) {
		audit(LOG_WARNING, wire_op_name(op), p, NULL, NULL, "refused", "not-admin");
		ans_error(p, PWR_E_PERM, "permission denied: root or a member of admin_group only");
		return -EPERM;
	}
	if ((rt->flags & NEEDS_STORE) && !h->store) {
		const struct pwr_who *who = about(rt->about, m);
		audit(LOG_ERR, wire_op_name(op), p, who ? who->user : NULL, NULL, "error",
			"no-store");
		return ans_error(p, PWR_E_INTERNAL, "the helper's store is not available");
	}
	r = rt->fn(h, p, m);
	/* a mail queued is tried at once, after the answer */
	if (rt->flags & MAILS)
		courier_wake(h->courier);
	return r;
}

void dispatch_malformed(struct peer *p, int err)
{
	log_refusal(LOG_WARNING, (long)p->uid, "malformed", strerror(-err));
	ans_error(p, PWR_E_PROTO, "malformed request: %s", strerror(-err));
}

/* The time of the last purge is kept in the store, so one-shot helpers share it. */
void dispatch_housekeeping(struct helper *h, uint64_t now)
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
