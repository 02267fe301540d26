/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The request handler. One table says what each kind of peer may ask:
 *   PERM_SELF   uid 0 for any user; any other uid for the account whose uid it is, only
 *   PERM_ADMIN  uid 0, or a member of admin_group
 * MUST: a request that is not permitted is refused, logged, and the peer dropped. The answer to
 * a reset request is the same for every user and is sent before any work that depends on the
 * user (lookups, the store, the queue), so neither its content nor its timing tells anything.
 * Every refusal and every change is logged; no code is ever logged or answered.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include "config.h"
#include "account.h"
#include "address.h"
#include "code.h"
#include "deliver.h"
#include "eligible.h"
#include "helper.h"
#include "log.h"
#include "mailq.h"
#include "password.h"
#include "rate.h"
#include "shadowfile.h"
#include "util.h"

enum perm { PERM_SELF, PERM_ADMIN };

typedef int handler_fn(struct helper *h, struct peer *p, union pwr_msg *m);

struct route {
	uint16_t op;
	enum perm perm;
	bool needs_store;
	handler_fn *fn;
};

#define HOUR 3600u
#define PURGE_EVERY 300u
#define READY_EVERY 2u /* seconds between two looks at the password dictionary */

static int send_msg(struct peer *p, uint16_t op, const void *msg)
{
	int r = wire_send(p->fd, op, msg, p->send_flags);
	if (r < 0)
		log_msg(LOG_WARNING, "peer pid %ld uid %ld: cannot send %s: %s; dropping it",
			(long)p->pid, (long)p->uid, wire_op_name(op), strerror(-r));
	return r;
}

static int send_error(struct peer *p, uint32_t status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int send_error(struct peer *p, uint32_t status, const char *fmt, ...)
{
	struct pwr_error_ans a = {.status = status};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a.text, sizeof(a.text), fmt, ap);
	va_end(ap);
	return send_msg(p, PWR_ANS_ERROR, &a);
}

static int send_done(
	struct peer *p, uint32_t status, uint32_t count, bool more, uint32_t next, const char *text)
{
	struct pwr_done_ans d = {.status = status, .count = count, .more = more, .next = next};
	util_copy(d.text, sizeof(d.text), text ? text : "");
	return send_msg(p, PWR_ANS_DONE, &d);
}

static void audit(int prio, const char *event, const struct peer *p, const char *user,
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
	};
	log_event(prio, &e);
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

/* dispatch_ready(), and why not in why[]. */
static bool reset_ready(struct helper *h, char *why, size_t len)
{
	if (dispatch_ready(h))
		return true;
	util_copy(why, len, h->unready);
	return false;
}

#define REASON_UNREADY "no-password-dictionary"

static bool peer_is_admin(struct helper *h, const struct peer *p)
{
	struct passwd pw, *pwr = NULL;
	struct group gr, *grr = NULL;
	char pbuf[4096], gbuf[8192];
	gid_t groups[1024];
	int n = 1024;

	if (p->uid == 0)
		return true;
	if (!h->conf.admin_group[0])
		return false;
	if (getgrnam_r(h->conf.admin_group, &gr, gbuf, sizeof(gbuf), &grr) || !grr) {
		log_msg(LOG_WARNING, "admin_group '%s' does not exist", h->conf.admin_group);
		return false;
	}
	if (getpwuid_r(p->uid, &pw, pbuf, sizeof(pbuf), &pwr) || !pwr)
		return false;
	if (pwr->pw_gid == grr->gr_gid)
		return true;
	if (getgrouplist(pwr->pw_name, pwr->pw_gid, groups, &n) < 0)
		return false; /* more groups than we look at: fail closed */
	for (int i = 0; i < n; i++)
		if (groups[i] == grr->gr_gid)
			return true;
	return false;
}

/* Whether the account (name, primary group gid) is in admin_group; true when that cannot be
 * told (account_in_groups fails closed), which refuses. */
static bool account_is_admin(struct helper *h, const char *name, gid_t gid)
{
	char *one[] = {h->conf.admin_group, NULL};
	struct conf_list l = {one, 1};

	return h->conf.admin_group[0] && account_in_groups(name, gid, &l);
}

/* MUST: a member of admin_group who is not root may not act on root, on an account that
 * self-service excludes (exclude_users, exclude_groups, uid below min_uid) or on another member
 * of admin_group: delegating resets must not delegate root. 0; or -EPERM (or the lookup's
 * error) with the rule, for the administrator, in why. */
static int admin_may_act_on(
	struct helper *h, const struct peer *p, const char *user, char *why, size_t len)
{
	struct account acct;
	int r;

	if (p->uid == 0)
		return 0;
	if ((r = account_lookup(user, &acct)) < 0) {
		snprintf(why, len, "cannot look up %s: %s", user, strerror(-r));
		return r;
	}
	r = -EPERM;
	if (!acct.exists)
		r = 0; /* nothing to protect: the request itself says there is no such user */
	else if (acct.uid == 0)
		snprintf(why, len, "only root may act on %s: its uid is 0", user);
	else if (acct.uid < h->conf.min_uid)
		snprintf(why, len, "only root may act on %s: its uid %lu is below min_uid %lu",
			user, (unsigned long)acct.uid, (unsigned long)h->conf.min_uid);
	else if (conf_list_has(&h->conf.exclude_users, user))
		snprintf(why, len, "only root may act on %s: it is in exclude_users", user);
	else if (account_in_groups(user, acct.gid, &h->conf.exclude_groups))
		snprintf(why, len, "only root may act on %s: it is in a group of exclude_groups",
			user);
	else if (account_is_admin(h, user, acct.gid))
		snprintf(why, len, "only root may act on %s: it is a member of admin_group %s",
			user, h->conf.admin_group);
	else
		r = 0;
	account_clear(&acct);
	return r;
}

#define REASON_ROOT_ONLY "root-only-account"

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

/* The rate bucket of where a request comes from. A root peer (login, sshd) is believed about
 * the remote host ("local" when there is none); any other peer is counted by its uid, which the
 * kernel told us: what it says of a remote host is not believed (dispatch() clears it). */
static void origin_bucket(const struct peer *p, const struct pwr_who *who, char *out, size_t len)
{
	if (p->uid == 0)
		snprintf(out, len, "r:%.*s", PWR_RHOST_MAX, *who->rhost ? who->rhost : "local");
	else
		snprintf(out, len, "p:%lu", (unsigned long)p->uid);
}

/* ---- self-service ---- */

static int h_offer(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_offer_ans a = {.status = PWR_OK, .code_ttl = h->conf.code_ttl};
	char why[PWR_TEXT_MAX + 1];

	/* nothing is offered that could not end in a new password */
	if (!reset_ready(h, why, sizeof(why))) {
		a.status = PWR_E_UNAVAILABLE;
		audit(LOG_ERR, "offer", p, m->who.user, &m->who, "refused", REASON_UNREADY);
		return send_msg(p, PWR_ANS_OFFER, &a);
	}
	/* the same for every account: with self-service off, whether an administrator's code is
	 * pending must not show (the module then asks everyone for such a code) */
	a.enabled = h->conf.self_reset;
	util_copy(a.help, sizeof(a.help), h->conf.help_message);
	audit(LOG_INFO, "offer", p, m->who.user, &m->who, a.enabled ? "ok" : "refused",
		a.enabled ? NULL : "disabled");
	return send_msg(p, PWR_ANS_OFFER, &a);
}

/* After the answer: decide whether a code is sent. Everything here is logged, nothing shown. */
static void request_work(struct helper *h, struct peer *p, const struct pwr_who *who)
{
	struct elig_facts f;
	struct account acct;
	struct code_rec rec;
	struct mail_rec mail;
	char reasons[PWR_TEXT_MAX + 1], bucket[RATE_BUCKET_MAX + 1], code[CODE_LEN + 1];
	unsigned char fp[CODE_FP_BYTES];
	uint64_t now = util_now(), id;
	const char *why = NULL;
	bool ok, adopt;
	MDB_txn *txn = NULL;
	int r;

	memset(&acct, 0, sizeof(acct));
	memset(&mail, 0, sizeof(mail));
	if (!reset_ready(h, reasons, sizeof(reasons))) {
		audit(LOG_NOTICE, "request", p, who->user, who, "refused", REASON_UNREADY);
		goto out;
	}
	if ((r = store_begin(h->store, true, &txn)) < 0)
		goto fail;

	origin_bucket(p, who, bucket, sizeof(bucket));
	if ((r = rate_take(h->store, txn, bucket, h->conf.rhost_requests_per_hour, HOUR, now, &ok)))
		goto fail;
	if (!ok) {
		why = "rate-limit-rhost";
		goto refuse;
	}
	if ((r = eligible_gather(&h->conf, h->store, txn, who->user, now, &f, &acct)) < 0)
		goto fail;
	/* a window per account that exists: names that are none leave nothing in the store */
	snprintf(bucket, sizeof(bucket), "u:%.*s", PWR_USER_MAX, who->user);
	if (f.exists && (r = rate_take(h->store, txn, bucket, h->conf.user_requests_per_hour, HOUR,
				 now, &ok)))
		goto fail;
	if (f.exists && !ok) {
		why = "rate-limit-user";
		goto refuse;
	}
	if (eligible_reasons(&f, reasons, sizeof(reasons)) > 0) {
		why = reasons;
		goto refuse;
	}
	if (code_get(h->store, txn, who->user, now, &rec) == 0 && rec.kind == PWR_KIND_ADMIN) {
		why = "admin-code-pending";
		goto refuse;
	}
	if ((r = rate_take(h->store, txn, "h:mail", h->conf.mails_per_minute, 60, now, &ok)))
		goto fail;
	if (!ok) {
		why = "rate-limit-host";
		goto refuse;
	}

	code_generate(code);
	code_fingerprint(h->store, acct.shadow_line, fp);
	memset(&mail, 0, sizeof(mail));
	mail.kind = MAIL_CODE;
	mail.created = now;
	mail.next_try = now;
	mail.code_expires = now + h->conf.code_ttl;
	mail.give_up = mail.code_expires;
	util_copy(mail.user, sizeof(mail.user), who->user);
	util_copy(mail.to, sizeof(mail.to), f.address);
	util_copy(mail.rhost, sizeof(mail.rhost), who->rhost);
	util_copy(mail.tty, sizeof(mail.tty), who->tty);
	adopt = courier_lease(h, h->courier, &mail, now);
	r = code_issue(h->store, txn, who->user, code, PWR_KIND_SELF, now, h->conf.code_ttl,
		h->conf.code_attempts, fp);
	if (r == 0)
		r = mailq_push(h->store, txn, &mail, code, &id);
	sodium_memzero(code, sizeof(code));
	if (r < 0)
		goto fail;
	if ((r = store_commit(txn)) < 0) {
		txn = NULL;
		goto fail;
	}
	txn = NULL;
	if (adopt)
		courier_adopt(h->courier, id, &mail);
	audit(LOG_NOTICE, "request", p, who->user, who, "ok", "code-queued");
	goto out;

refuse:
	/* the refusal still counts in the windows it passed */
	if ((r = store_commit(txn)) < 0) {
		txn = NULL;
		goto fail;
	}
	txn = NULL;
	audit(LOG_NOTICE, "request", p, who->user, who, "refused", why);
	goto out;
fail:
	audit(LOG_ERR, "request", p, who->user, who, "error", strerror(-r));
out:
	store_abort(txn);
	account_clear(&acct);
	sodium_memzero(&rec, sizeof(rec));
	sodium_memzero(&mail, sizeof(mail));
}

static int h_request(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_request_ans a = {.status = PWR_OK, .code_ttl = h->conf.code_ttl};
	int r = send_msg(p, PWR_ANS_REQUEST, &a);

	request_work(h, p, &m->who);
	return r;
}

static int h_verify(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_verify_ans a = {.status = PWR_E_BADCODE};
	struct pwr_who *who = &m->verify.who;
	struct account acct;
	struct code_rec rec;
	char code[CODE_LEN + 1];
	unsigned char fp[CODE_FP_BYTES];
	const char *why = "wrong-code";
	MDB_txn *txn = NULL;
	int r;

	p->verified = false;
	if (code_normalize(m->verify.code, code) < 0) {
		a.status = PWR_E_BADFORMAT;
		audit(LOG_NOTICE, "verify", p, who->user, who, "fail", "malformed");
		return send_msg(p, PWR_ANS_VERIFY, &a);
	}
	if ((r = account_lookup(who->user, &acct)) < 0)
		goto fail;
	code_fingerprint(h->store, acct.shadow_line, fp);
	account_clear(&acct);
	if ((r = store_begin(h->store, true, &txn)) < 0)
		goto fail;
	r = code_verify(h->store, txn, who->user, code, util_now(), fp);
	if (r == 0 && !h->conf.self_reset &&
		(code_get(h->store, txn, who->user, util_now(), &rec) != 0 ||
			rec.kind != PWR_KIND_ADMIN)) {
		r = -EACCES;
		why = "disabled";
	}
	if (r < 0 && r != -EACCES)
		goto fail;
	if (r == 0 && code_get(h->store, txn, who->user, util_now(), &rec) == 0) {
		a.status = PWR_OK;
		p->verified = true;
		util_copy(p->verified_user, sizeof(p->verified_user), who->user);
		memcpy(p->verified_hash, rec.hash, sizeof(p->verified_hash));
	}
	r = store_commit(txn);
	txn = NULL;
	if (r < 0) {
		p->verified = false;
		goto fail;
	}
	audit(LOG_NOTICE, "verify", p, who->user, who, a.status == PWR_OK ? "ok" : "fail",
		a.status == PWR_OK ? NULL : why);
	goto out;
fail:
	a.status = PWR_E_INTERNAL;
	audit(LOG_ERR, "verify", p, who->user, who, "error", strerror(-r));
out:
	store_abort(txn);
	sodium_memzero(code, sizeof(code));
	sodium_memzero(&rec, sizeof(rec));
	return send_msg(p, PWR_ANS_VERIFY, &a);
}

/* ---- setting the password ---- */

struct setpw_edit {
	struct helper *h;
	struct peer *p;
	const char *hash;
	long lastchg;
	bool lock; /* admin reset: lock instead of setting */
};

/* Under the shadow locks: the code this connection showed must still be the user's, alive,
 * and issued for exactly this shadow line; then field 2 and 3 change. */
static int setpw_edit(void *vctx, const char *old, char *new_line, size_t cap)
{
	struct setpw_edit *e = vctx;
	unsigned char fp[CODE_FP_BYTES];
	struct code_rec rec;
	MDB_txn *txn;
	int r;

	code_fingerprint(e->h->store, old, fp);
	if ((r = store_begin(e->h->store, false, &txn)) < 0)
		return r;
	r = code_get(e->h->store, txn, e->p->verified_user, util_now(), &rec);
	store_abort(txn);
	if (r == 0 && (sodium_memcmp(rec.hash, e->p->verified_hash, sizeof(rec.hash)) != 0 ||
			      sodium_memcmp(rec.shadow_fp, fp, sizeof(fp)) != 0))
		r = -ENOENT;
	sodium_memzero(&rec, sizeof(rec));
	if (r < 0)
		return -EACCES;
	return shadow_set_password(old, e->hash, e->lastchg, new_line, cap);
}

/* After a password change: the code is spent, the tally cleared, caches told, the owner
 * notified. */
static void setpw_after(struct helper *h, struct peer *p, const struct pwr_who *who)
{
	char addr[PWR_ADDR_MAX + 1];
	struct mail_rec mail;
	MDB_txn *txn;
	uint64_t now = util_now(), id;
	bool adopt = false;
	int r;

	if ((r = store_begin(h->store, true, &txn)) == 0) {
		code_revoke(h->store, txn, who->user);
		if (h->conf.notify_on_change && address_get(h->store, txn, who->user, addr) == 0) {
			memset(&mail, 0, sizeof(mail));
			mail.kind = MAIL_CHANGED;
			mail.created = now;
			mail.next_try = now;
			mail.give_up = now + h->conf.mail_max_age;
			util_copy(mail.user, sizeof(mail.user), who->user);
			util_copy(mail.to, sizeof(mail.to), addr);
			util_copy(mail.rhost, sizeof(mail.rhost), who->rhost);
			util_copy(mail.tty, sizeof(mail.tty), who->tty);
			adopt = courier_lease(h, h->courier, &mail, now);
			r = mailq_push(h->store, txn, &mail, NULL, &id);
		}
		r = r < 0 ? (store_abort(txn), r) : store_commit(txn);
		if (r == 0 && adopt)
			courier_adopt(h->courier, id, &mail);
	}
	if (r < 0)
		audit(LOG_ERR, "password-changed", p, who->user, who, "error", "code-not-consumed");
	if ((r = account_reset_tally(who->user)) < 0)
		audit(LOG_WARNING, "faillock-reset", p, who->user, who, "error", strerror(-r));
	account_flush_caches();
}

static int h_set_password(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_set_password_ans a = {.status = PWR_E_INTERNAL};
	struct pwr_who *who = &m->set_password.who;
	size_t len = strlen(m->set_password.password);
	char *pw = NULL, *hash = NULL, current[SHADOW_LINE_MAX], unready[PWR_TEXT_MAX + 1];
	struct setpw_edit e = {.h = h, .p = p};
	struct account acct = {0};
	const char *why = NULL;
	int r;

	if (!p->verified || strcmp(p->verified_user, who->user) != 0) {
		sodium_memzero(m->set_password.password, sizeof(m->set_password.password));
		audit(LOG_WARNING, "set-password", p, who->user, who, "refused", "no-valid-code");
		send_error(p, PWR_E_PERM, "no valid code was shown for %s on this connection",
			who->user);
		return -EPERM;
	}
	pw = sodium_malloc(len + 1);
	hash = sodium_malloc(PASSWORD_HASH_MAX);
	if (!pw || !hash) {
		sodium_memzero(m->set_password.password, sizeof(m->set_password.password));
		r = -ENOMEM;
		goto fail;
	}
	memcpy(pw, m->set_password.password, len + 1);
	sodium_memzero(m->set_password.password, sizeof(m->set_password.password));

	if (!reset_ready(h, unready, sizeof(unready))) {
		/* the code stays valid: the person may come back once the host is mended */
		a.status = PWR_E_UNAVAILABLE;
		audit(LOG_ERR, "set-password", p, who->user, who, "refused", REASON_UNREADY);
		goto out;
	}
	if ((r = account_lookup(who->user, &acct)) < 0)
		goto fail;
	if (!acct.shadow_line || shadow_field2(acct.shadow_line, current, sizeof(current)) < 0) {
		r = -ENOENT;
		goto fail;
	}
	if (password_check(&h->conf, who->user, pw, current, a.text, sizeof(a.text)) < 0) {
		a.status = PWR_E_QUALITY;
		audit(LOG_NOTICE, "set-password", p, who->user, who, "refused", "quality");
		goto out;
	}
	if ((r = password_hash(&h->conf, pw, hash)) < 0)
		goto fail;
	e.hash = hash;
	e.lastchg = (long)(util_now() / 86400);
	r = shadow_update(PWR_SHADOW_PATH, who->user, setpw_edit, &e);
	if (r == -EACCES) {
		/* the code was replaced, revoked, expired, or the entry changed meanwhile */
		p->verified = false;
		a.status = PWR_E_BADCODE;
		audit(LOG_NOTICE, "set-password", p, who->user, who, "refused",
			"code-no-longer-valid");
		goto out;
	}
	if (r < 0) {
		why = shadow_strerror(r);
		goto fail;
	}
	p->verified = false;
	setpw_after(h, p, who);
	a.status = PWR_OK;
	audit(LOG_NOTICE, "password-changed", p, who->user, who, "ok", "self-service");
	goto out;
fail:
	if (!why)
		why = strerror(-r);
	audit(LOG_ERR, "set-password", p, who->user, who, "error", why);
	util_copy(a.text, sizeof(a.text), "the password could not be set; see the helper's log");
out:
	account_clear(&acct);
	explicit_bzero(current, sizeof(current));
	sodium_free(pw);
	sodium_free(hash);
	return send_msg(p, PWR_ANS_SET_PASSWORD, &a);
}

/* ---- admin reset ---- */

struct lock_edit {
	struct store *store;
	unsigned char *fp; /* out: the fingerprint of the locked entry */
};

/* Lock the entry, and bind the code to it as written: the lock does not void the code. */
static int lock_edit(void *ctx, const char *old, char *new_line, size_t cap)
{
	struct lock_edit *e = ctx;
	int r = shadow_lock_password(old, new_line, cap);

	if (r == 0)
		code_fingerprint(e->store, new_line, e->fp);
	return r;
}

/* Reset one user: lock, clear the tally, issue an admin code, mail it or hand it over. */
static void reset_one(struct helper *h, struct peer *p, const char *user, uint32_t flags,
	uint32_t ttl, struct pwr_reset_item *it)
{
	char code[CODE_LEN + 1], addr[PWR_ADDR_MAX + 1];
	unsigned char fp[CODE_FP_BYTES];
	struct account acct = {0};
	struct mail_rec mail;
	uint64_t now = util_now(), id;
	bool has_addr, adopt = false;
	MDB_txn *txn;
	int r;

	util_copy(it->user, sizeof(it->user), user);
	it->status = PWR_E_INTERNAL;
	if ((r = admin_may_act_on(h, p, user, it->text, sizeof(it->text))) < 0) {
		if (r == -EPERM)
			it->status = PWR_E_PERM;
		audit(LOG_WARNING, "admin-reset", p, user, NULL, "refused",
			r == -EPERM ? REASON_ROOT_ONLY : it->text);
		return;
	}
	if ((r = account_lookup(user, &acct)) < 0)
		goto fail;
	if (!acct.exists) {
		it->status = PWR_E_NOTFOUND;
		snprintf(it->text, sizeof(it->text), "no such user");
		goto refused;
	}
	if (!acct.shadow_line) {
		it->status = PWR_E_INVALID;
		snprintf(it->text, sizeof(it->text),
			"not a local account: its password is not in /etc/shadow");
		goto refused;
	}
	if (flags & PWR_RESET_NO_LOCK) {
		code_fingerprint(h->store, acct.shadow_line, fp);
	} else {
		struct lock_edit e = {h->store, fp};
		if ((r = shadow_update(PWR_SHADOW_PATH, user, lock_edit, &e)) < 0) {
			snprintf(it->text, sizeof(it->text), "%s", shadow_strerror(r));
			audit(LOG_ERR, "admin-reset", p, user, NULL, "error", it->text);
			goto out;
		}
		it->locked = 1;
	}
	if ((r = account_reset_tally(user)) < 0)
		audit(LOG_WARNING, "faillock-reset", p, user, NULL, "error", strerror(-r));
	account_flush_caches();
	code_generate(code);
	if ((r = store_begin(h->store, true, &txn)) < 0)
		goto fail;
	has_addr = address_get(h->store, txn, user, addr) == 0;
	r = code_issue(
		h->store, txn, user, code, PWR_KIND_ADMIN, now, ttl, h->conf.code_attempts, fp);
	if (r == 0 && has_addr && !(flags & PWR_RESET_PRINT)) {
		memset(&mail, 0, sizeof(mail));
		mail.kind = MAIL_ADMIN;
		mail.created = now;
		mail.next_try = now;
		mail.code_expires = now + ttl;
		mail.give_up = mail.code_expires;
		util_copy(mail.user, sizeof(mail.user), user);
		util_copy(mail.to, sizeof(mail.to), addr);
		adopt = courier_lease(h, h->courier, &mail, now);
		r = mailq_push(h->store, txn, &mail, code, &id);
		it->mailed = r == 0;
	}
	r = r < 0 ? (store_abort(txn), r) : store_commit(txn);
	if (r == 0 && it->mailed && adopt)
		courier_adopt(h->courier, id, &mail);
	sodium_memzero(&mail, sizeof(mail));
	if (r < 0) {
		it->mailed = 0;
		goto fail;
	}
	if (!it->mailed)
		code_format(code, it->code);
	it->expires = now + ttl;
	it->status = PWR_OK;
	audit(LOG_NOTICE, "admin-reset", p, user, NULL, "ok",
		it->mailed ? "code-mailed" : "code-handed-over");
	goto out;
fail:
	snprintf(it->text, sizeof(it->text), "%s", strerror(-r));
	audit(LOG_ERR, "admin-reset", p, user, NULL, "error", strerror(-r));
	goto out;
refused:
	audit(LOG_NOTICE, "admin-reset", p, user, NULL, "refused", it->text);
out:
	sodium_memzero(code, sizeof(code));
	account_clear(&acct);
}

static int h_reset(struct helper *h, struct peer *p, union pwr_msg *m)
{
	uint32_t ttl = m->reset.ttl ? m->reset.ttl : h->conf.admin_code_ttl, done = 0;
	char *save = m->reset.users, *user, why[PWR_TEXT_MAX + 1];
	int r = 0;

	if (ttl < 60 || ttl > 30u * 86400) {
		audit(LOG_NOTICE, "admin-reset", p, NULL, NULL, "refused", "bad-ttl");
		return send_error(p, PWR_E_INVALID, "the lifetime must be from 60 s to 30 days");
	}
	/* a locked account whose owner cannot choose a new password would be locked out */
	if (!reset_ready(h, why, sizeof(why))) {
		audit(LOG_ERR, "admin-reset", p, NULL, NULL, "refused", REASON_UNREADY);
		return send_error(p, PWR_E_UNAVAILABLE, "%s; nobody was reset", why);
	}
	while ((user = strsep(&save, "\n")) != NULL) {
		struct pwr_reset_item it = {0};
		if (!*user)
			continue;
		reset_one(h, p, user, m->reset.flags, ttl, &it);
		done += it.status == PWR_OK;
		r = send_msg(p, PWR_ITEM_RESET, &it);
		sodium_memzero(&it, sizeof(it));
		if (r < 0)
			return r;
	}
	return send_done(p, PWR_OK, done, false, 0, NULL);
}

/* ---- addresses ---- */

/* Validate user and addr for registration; on refusal why[] says what. */
static int address_check(const char *user, const char *addr, char *why, size_t len)
{
	struct account acct;
	int r = account_lookup(user, &acct);

	if (r < 0) {
		snprintf(why, len, "cannot look up user %s: %s", user, strerror(-r));
		return r;
	}
	r = acct.exists ? 0 : -ENOENT;
	account_clear(&acct);
	if (r < 0) {
		snprintf(why, len, "no such user: %s", user);
		return r;
	}
	return address_validate(addr, why, len);
}

static int h_email_set(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_email_set_ans a = {.status = PWR_OK};
	const char *user = m->email_set.user, *addr = m->email_set.addr;
	char why[256];
	MDB_txn *txn;
	int r = admin_may_act_on(h, p, user, why, sizeof(why)), n;

	if (r < 0) {
		audit(LOG_WARNING, "email-set", p, user, NULL, "refused",
			r == -EPERM ? REASON_ROOT_ONLY : why);
		return send_error(p, r == -EPERM ? PWR_E_PERM : PWR_E_INTERNAL, "%s", why);
	}
	if ((r = address_check(user, addr, why, sizeof(why))) < 0) {
		audit(LOG_NOTICE, "email-set", p, user, NULL, "refused", why);
		return send_error(p, r == -ENOENT ? PWR_E_NOTFOUND : PWR_E_INVALID, "%s", why);
	}
	if ((r = store_begin(h->store, true, &txn)) < 0)
		goto fail;
	if ((r = address_set(h->store, txn, user, addr)) < 0 ||
		(n = address_sharers(
			 h->store, txn, addr, user, a.shared_with, sizeof(a.shared_with))) < 0) {
		store_abort(txn);
		r = r < 0 ? r : n;
		goto fail;
	}
	if ((r = store_commit(txn)) < 0)
		goto fail;
	if (n > 0)
		a.warnings |= PWR_WARN_SHARED;
	if (address_local_only(&h->conf, addr))
		a.warnings |= PWR_WARN_LOCAL;
	audit(LOG_NOTICE, "email-set", p, user, NULL, "ok", NULL);
	return send_msg(p, PWR_ANS_EMAIL_SET, &a);
fail:
	audit(LOG_ERR, "email-set", p, user, NULL, "error", strerror(-r));
	return send_error(p, PWR_E_INTERNAL, "cannot store the address: %s", strerror(-r));
}

static int h_email_unset(struct helper *h, struct peer *p, union pwr_msg *m)
{
	const char *user = m->user.user;
	char why[256];
	MDB_txn *txn;
	int r;

	if ((r = admin_may_act_on(h, p, user, why, sizeof(why))) < 0) {
		audit(LOG_WARNING, "email-unset", p, user, NULL, "refused",
			r == -EPERM ? REASON_ROOT_ONLY : why);
		return send_error(p, r == -EPERM ? PWR_E_PERM : PWR_E_INTERNAL, "%s", why);
	}
	if ((r = store_begin(h->store, true, &txn)) < 0)
		goto fail;
	r = address_unset(h->store, txn, user);
	if (r < 0) {
		store_abort(txn);
		if (r != -ENOENT)
			goto fail;
		audit(LOG_NOTICE, "email-unset", p, user, NULL, "refused", "no-address");
		return send_error(p, PWR_E_NOTFOUND, "no address is registered for %s", user);
	}
	if ((r = store_commit(txn)) < 0)
		goto fail;
	audit(LOG_NOTICE, "email-unset", p, user, NULL, "ok", NULL);
	return send_done(p, PWR_OK, 1, false, 0, NULL);
fail:
	audit(LOG_ERR, "email-unset", p, user, NULL, "error", strerror(-r));
	return send_error(p, PWR_E_INTERNAL, "cannot remove the address: %s", strerror(-r));
}

static int h_email_show(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_email_show_ans a = {.status = PWR_OK};
	MDB_txn *txn;
	int r;

	if ((r = store_begin(h->store, false, &txn)) < 0)
		return send_error(p, PWR_E_INTERNAL, "cannot read the store: %s", strerror(-r));
	r = address_get(h->store, txn, m->user.user, a.addr);
	store_abort(txn);
	audit(LOG_INFO, "email-show", p, m->user.user, NULL, r == 0 ? "ok" : "fail",
		r == 0 ? NULL : "no-address");
	if (r == -ENOENT)
		return send_error(
			p, PWR_E_NOTFOUND, "no address is registered for %s", m->user.user);
	if (r < 0)
		return send_error(p, PWR_E_INTERNAL, "cannot read the store: %s", strerror(-r));
	return send_msg(p, PWR_ANS_EMAIL_SHOW, &a);
}

static int reject(struct peer *p, uint32_t line, const char *why)
{
	struct pwr_reject_item it = {.line = line};
	util_copy(it.reason, sizeof(it.reason), why);
	return send_msg(p, PWR_ITEM_REJECT, &it);
}

static int h_email_import(struct helper *h, struct peer *p, union pwr_msg *m)
{
	char *text = m->import.text, *save = NULL, *line, why[256];
	uint32_t lineno = m->import.first_line, imported = 0, rejected = 0;
	MDB_txn *txn;
	int r;

	if ((r = store_begin(h->store, true, &txn)) < 0)
		return send_error(p, PWR_E_INTERNAL, "cannot write the store: %s", strerror(-r));
	/* strsep keeps empty lines, so line numbers stay true */
	for (save = text; (line = strsep(&save, "\n")) != NULL; lineno++) {
		const char *user, *addr;
		if (!save && !*line)
			break; /* after the final newline */
		if ((r = address_import_line(line, &user, &addr, why, sizeof(why))) == 0)
			continue;
		if (r > 0 && (r = admin_may_act_on(h, p, user, why, sizeof(why))) == 0 &&
			(r = address_check(user, addr, why, sizeof(why))) == 0) {
			if (!m->import.dry_run && (r = address_set(h->store, txn, user, addr)) < 0)
				goto fail;
			imported++;
			continue;
		}
		rejected++;
		if (reject(p, lineno, why) < 0) {
			store_abort(txn);
			return -EPIPE;
		}
	}
	if (!m->import.dry_run && (r = store_commit(txn)) < 0) {
		txn = NULL;
		goto fail;
	}
	if (m->import.dry_run)
		store_abort(txn);
	snprintf(why, sizeof(why), "%u imported, %u rejected", imported, rejected);
	audit(LOG_NOTICE, "email-import", p, NULL, NULL, "ok", why);
	return send_done(p, PWR_OK, imported, false, 0, why);
fail:
	store_abort(txn);
	audit(LOG_ERR, "email-import", p, NULL, NULL, "error", strerror(-r));
	return send_error(p, PWR_E_INTERNAL, "cannot store addresses: %s", strerror(-r));
}

/* Send one item for a record of a listed database: 1 sent, 0 skipped, < 0 failed. */
typedef int page_item_fn(struct peer *p, const MDB_val *k, const MDB_val *v, uint64_t now);

/* Send the records of dbi whose keys follow `after` (all, when it is empty), at most
 * PWR_PAGE_MAX items, then PWR_ANS_DONE saying whether more remain. */
static int send_page(struct helper *h, struct peer *p, MDB_dbi dbi, const char *after,
	page_item_fn *fn, const char *event)
{
	MDB_val k = {strlen(after), (void *)after}, v;
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	uint64_t now = util_now();
	uint32_t n = 0;
	bool more = false;
	int r, rc;

	if ((r = store_begin(h->store, false, &txn)) < 0)
		return send_error(p, PWR_E_INTERNAL, "cannot read the store: %s", strerror(-r));
	if ((rc = mdb_cursor_open(txn, dbi, &c))) {
		store_abort(txn);
		return send_error(p, PWR_E_INTERNAL, "cannot read the store");
	}
	rc = mdb_cursor_get(c, &k, &v, *after ? MDB_SET_RANGE : MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size == strlen(after) && !memcmp(k.mv_data, after, k.mv_size))
			continue;
		if (k.mv_size > PWR_USER_MAX)
			continue;
		if (n == PWR_PAGE_MAX) {
			more = true;
			break;
		}
		if ((r = fn(p, &k, &v, now)) < 0)
			break;
		n += (uint32_t)r;
	}
	mdb_cursor_close(c);
	store_abort(txn);
	if (r < 0)
		return r;
	audit(LOG_INFO, event, p, NULL, NULL, "ok", NULL);
	return send_done(p, PWR_OK, n, more, 0, NULL);
}

static int email_item(struct peer *p, const MDB_val *k, const MDB_val *v, uint64_t now)
{
	struct pwr_email_item it = {0};

	(void)now;
	if (v->mv_size > PWR_ADDR_MAX)
		return 0;
	memcpy(it.user, k->mv_data, k->mv_size);
	memcpy(it.addr, v->mv_data, v->mv_size);
	return send_msg(p, PWR_ITEM_EMAIL, &it) < 0 ? -EPIPE : 1;
}

static int h_email_export(struct helper *h, struct peer *p, union pwr_msg *m)
{
	return send_page(h, p, h->store->addr, m->page.user, email_item, "email-export");
}

/* ---- check ---- */

struct check_ctx {
	struct helper *h;
	struct peer *p;
	MDB_txn *txn;
	uint32_t count;
};

static int check_one(void *vctx, const char *user)
{
	struct check_ctx *ctx = vctx;
	struct pwr_check_item it = {0};
	struct elig_facts f;
	struct account acct;
	int r = eligible_gather(
		&ctx->h->conf, ctx->h->store, ctx->txn, user, util_now(), &f, &acct);

	account_clear(&acct);
	if (r < 0)
		return r;
	util_copy(it.user, sizeof(it.user), user);
	it.uid = f.exists ? f.uid : UINT32_MAX;
	it.eligible = eligible_reasons(&f, it.reasons, sizeof(it.reasons)) == 0;
	ctx->count++;
	return send_msg(ctx->p, PWR_ITEM_CHECK, &it);
}

static int h_check(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct check_ctx ctx = {h, p, NULL, 0};
	uint32_t next = m->page.start;
	bool more = false;
	int r;

	if ((r = store_begin(h->store, false, &ctx.txn)) < 0)
		return send_error(p, PWR_E_INTERNAL, "cannot read the store: %s", strerror(-r));
	if (m->page.user[0])
		r = check_one(&ctx, m->page.user);
	else
		r = account_local_each(&next, h->conf.min_uid, h->conf.max_uid, PWR_PAGE_MAX,
			check_one, &ctx, &more);
	store_abort(ctx.txn);
	audit(LOG_INFO, "check", p, m->page.user[0] ? m->page.user : NULL, NULL,
		r < 0 ? "error" : "ok", r < 0 ? strerror(-r) : NULL);
	if (r == -EPIPE || r == -EAGAIN || r == -ECONNRESET)
		return r;
	if (r < 0)
		return send_error(p, PWR_E_INTERNAL, "cannot check accounts: %s", strerror(-r));
	return send_done(p, PWR_OK, ctx.count, more, next, NULL);
}

/* ---- codes ---- */

static int token_item(struct peer *p, const MDB_val *k, const MDB_val *v, uint64_t now)
{
	struct pwr_token_item it = {0};
	struct code_rec rec;

	if (v->mv_size != sizeof(rec))
		return 0;
	memcpy(&rec, v->mv_data, sizeof(rec));
	if (!code_alive(&rec, now)) {
		sodium_memzero(&rec, sizeof(rec));
		return 0;
	}
	memcpy(it.user, k->mv_data, k->mv_size);
	it.kind = rec.kind;
	it.issued = rec.issued;
	it.expires = rec.expires;
	it.failures = rec.failures;
	it.tries_left = rec.max_failures - rec.failures;
	sodium_memzero(&rec, sizeof(rec));
	return send_msg(p, PWR_ITEM_TOKEN, &it) < 0 ? -EPIPE : 1;
}

static int h_tokens(struct helper *h, struct peer *p, union pwr_msg *m)
{
	return send_page(h, p, h->store->code, m->page.user, token_item, "tokens");
}

static int h_revoke(struct helper *h, struct peer *p, union pwr_msg *m)
{
	const char *user = m->user.user;
	char why[256];
	MDB_txn *txn;
	int r;

	if ((r = admin_may_act_on(h, p, user, why, sizeof(why))) < 0) {
		audit(LOG_WARNING, "revoke", p, user, NULL, "refused",
			r == -EPERM ? REASON_ROOT_ONLY : why);
		return send_error(p, r == -EPERM ? PWR_E_PERM : PWR_E_INTERNAL, "%s", why);
	}
	if ((r = store_begin(h->store, true, &txn)) < 0)
		goto fail;
	r = code_revoke(h->store, txn, user);
	if (r == -ENOENT) {
		store_abort(txn);
		audit(LOG_NOTICE, "revoke", p, user, NULL, "refused", "no-code");
		return send_error(p, PWR_E_NOTFOUND, "no pending code for %s", user);
	}
	if (r < 0) {
		store_abort(txn);
		goto fail;
	}
	if ((r = store_commit(txn)) < 0)
		goto fail;
	audit(LOG_NOTICE, "revoke", p, user, NULL, "ok", NULL);
	return send_done(p, PWR_OK, 1, false, 0, NULL);
fail:
	audit(LOG_ERR, "revoke", p, user, NULL, "error", strerror(-r));
	return send_error(p, PWR_E_INTERNAL, "cannot revoke: %s", strerror(-r));
}

/* ---- the mail queue ---- */

static int h_queue(struct helper *h, struct peer *p, union pwr_msg *m)
{
	uint64_t id = m->page.start, last = id;
	struct pwr_mail_item it;
	struct mail_rec rec;
	uint32_t n = 0;
	bool more = false;
	MDB_txn *txn;
	int r;

	if ((r = store_begin(h->store, false, &txn)) < 0)
		return send_error(p, PWR_E_INTERNAL, "cannot read the store: %s", strerror(-r));
	while ((r = mailq_next(h->store, txn, id, &id, &rec)) == 0) {
		if (n == PWR_PAGE_MAX) {
			more = true;
			break;
		}
		memset(&it, 0, sizeof(it));
		it.id = id;
		util_copy(it.user, sizeof(it.user), rec.user);
		util_copy(it.to, sizeof(it.to), rec.to);
		util_copy(it.reply, sizeof(it.reply), rec.reply);
		it.kind = rec.kind;
		it.state = rec.state;
		it.attempts = rec.attempts;
		it.created = rec.created;
		it.next_try = rec.next_try;
		if ((r = send_msg(p, PWR_ITEM_MAIL, &it)) < 0)
			break;
		last = id;
		n++;
	}
	sodium_memzero(&rec, sizeof(rec));
	store_abort(txn);
	if (r < 0 && r != -ENOENT)
		return r;
	audit(LOG_INFO, "queue", p, NULL, NULL, "ok", NULL);
	return send_done(p, PWR_OK, n, more, (uint32_t)last, NULL);
}

static int h_queue_flush(struct helper *h, struct peer *p, union pwr_msg *m)
{
	const char *user = m->user.user;
	uint64_t id = 0, now = util_now();
	struct mail_rec rec;
	uint32_t n = 0;
	MDB_txn *txn;
	int r;

	if ((r = store_begin(h->store, true, &txn)) < 0)
		return send_error(p, PWR_E_INTERNAL, "cannot write the store: %s", strerror(-r));
	while ((r = mailq_next(h->store, txn, id, &id, &rec)) == 0) {
		if ((rec.state != MAIL_QUEUED && rec.state != MAIL_DEFERRED) ||
			(*user && strcmp(user, rec.user) != 0) || rec.next_try <= now)
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
		return send_error(p, PWR_E_INTERNAL, "cannot write the store: %s", strerror(-r));
	}
	courier_wake(h->courier);
	audit(LOG_NOTICE, "queue-flush", p, *user ? user : NULL, NULL, "ok", NULL);
	return send_done(p, PWR_OK, n, false, 0, NULL);
}

/* ---- status ---- */

static int status_counts(struct helper *h, struct pwr_status_ans *a)
{
	uint64_t now = util_now(), id = 0;
	struct mail_rec mail;
	struct code_rec code;
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_stat st;
	MDB_txn *txn;
	int r, rc;

	if ((r = store_begin(h->store, false, &txn)) < 0)
		return r;
	if ((rc = mdb_stat(txn, h->store->addr, &st)) != 0) {
		store_abort(txn);
		return store_err(rc, "counting addresses");
	}
	a->addresses = (uint32_t)st.ms_entries;
	if ((rc = mdb_cursor_open(txn, h->store->code, &cur)) != 0) {
		store_abort(txn);
		return store_err(rc, "counting codes");
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (v.mv_size != sizeof(code))
			continue;
		memcpy(&code, v.mv_data, sizeof(code));
		if (code_alive(&code, now))
			(*(code.kind == PWR_KIND_ADMIN ? &a->codes_admin : &a->codes_self))++;
	}
	sodium_memzero(&code, sizeof(code));
	mdb_cursor_close(cur);
	while ((r = mailq_next(h->store, txn, id, &id, &mail)) == 0) {
		a->mail_queued += mail.state == MAIL_QUEUED;
		a->mail_deferred += mail.state == MAIL_DEFERRED;
		a->mail_failed += mail.state == MAIL_FAILED;
		a->mail_sent += mail.state == MAIL_SENT;
	}
	sodium_memzero(&mail, sizeof(mail));
	store_abort(txn);
	a->store_bytes = store_used(h->store);
	return r == -ENOENT ? 0 : r;
}

static int h_status(struct helper *h, struct peer *p, union pwr_msg *m)
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
	reset_ready(h, a.problems, sizeof(a.problems)); /* left empty when resets can complete */
	if ((r = status_counts(h, &a)) < 0) {
		audit(LOG_ERR, "status", p, NULL, NULL, "error", strerror(-r));
		return send_error(p, PWR_E_INTERNAL, "cannot read the store: %s", strerror(-r));
	}
	audit(LOG_INFO, "status", p, NULL, NULL, "ok", NULL);
	return send_msg(p, PWR_ANS_STATUS, &a);
}

static const struct route routes[] = {
	{PWR_REQ_OFFER, PERM_SELF, false, h_offer},
	{PWR_REQ_REQUEST, PERM_SELF, true, h_request},
	{PWR_REQ_VERIFY, PERM_SELF, true, h_verify},
	{PWR_REQ_SET_PASSWORD, PERM_SELF, true, h_set_password},
	{PWR_REQ_EMAIL_SET, PERM_ADMIN, true, h_email_set},
	{PWR_REQ_EMAIL_UNSET, PERM_ADMIN, true, h_email_unset},
	{PWR_REQ_EMAIL_SHOW, PERM_ADMIN, true, h_email_show},
	{PWR_REQ_EMAIL_IMPORT, PERM_ADMIN, true, h_email_import},
	{PWR_REQ_EMAIL_EXPORT, PERM_ADMIN, true, h_email_export},
	{PWR_REQ_CHECK, PERM_ADMIN, true, h_check},
	{PWR_REQ_TOKENS, PERM_ADMIN, true, h_tokens},
	{PWR_REQ_REVOKE, PERM_ADMIN, true, h_revoke},
	{PWR_REQ_RESET, PERM_ADMIN, true, h_reset},
	{PWR_REQ_QUEUE, PERM_ADMIN, true, h_queue},
	{PWR_REQ_QUEUE_FLUSH, PERM_ADMIN, true, h_queue_flush},
	{PWR_REQ_STATUS, PERM_ADMIN, true, h_status},
};

/* Who a self-service request speaks for. */
static struct pwr_who *self_who(uint16_t op, union pwr_msg *m)
{
	if (op == PWR_REQ_VERIFY)
		return &m->verify.who;
	if (op == PWR_REQ_SET_PASSWORD)
		return &m->set_password.who;
	return &m->who;
}

int dispatch(struct helper *h, struct peer *p, uint16_t op, union pwr_msg *m)
{
	const struct route *rt = NULL;
	const char *user = NULL;
	int r;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].op == op)
			rt = &routes[i];
	if (!rt) {
		audit(LOG_WARNING, "refused", p, NULL, NULL, "refused", "not-a-request");
		send_error(p, PWR_E_PROTO, "%s is not a request", wire_op_name(op));
		return -EPROTO;
	}
	if (!h->conf_ok) {
		audit(LOG_ERR, wire_op_name(op), p, NULL, NULL, "refused", "broken-configuration");
		send_error(p, PWR_E_CONFIG,
			"the helper's configuration is broken; pwreset-helper --check-config says why");
		return -EINVAL;
	}
	if (rt->perm == PERM_SELF) {
		struct pwr_who *who = self_who(op, m);
		/* what PAM says of the remote host and terminal ends up in logs and mails: no
		 * control character may come along (the user name is refused instead) */
		util_sanitize(who->rhost);
		util_sanitize(who->tty);
		util_sanitize(who->service);
		/* only root (login, sshd) is believed about the remote host; the log's by= says
		 * which uid asked, and its rate window is that uid's */
		if (p->uid != 0)
			who->rhost[0] = '\0';
		user = who->user;
		if (!peer_may_act_for(p, user)) {
			audit(LOG_WARNING, wire_op_name(op), p, user, NULL, "refused",
				"not-permitted");
			send_error(p, PWR_E_PERM, "uid %ld may not act for %s", (long)p->uid, user);
			return -EPERM;
		}
	} else if (!peer_is_admin(h, p)) {
		audit(LOG_WARNING, wire_op_name(op), p, NULL, NULL, "refused", "not-admin");
		send_error(
			p, PWR_E_PERM, "permission denied: root or a member of admin_group only");
		return -EPERM;
	}
	if (rt->needs_store && !h->store) {
		audit(LOG_ERR, wire_op_name(op), p, user, NULL, "error", "no-store");
		return send_error(p, PWR_E_INTERNAL, "the helper's store is not available");
	}
	r = rt->fn(h, p, m);
	/* these may have queued a mail: it is tried at once, after the answer */
	if (op == PWR_REQ_REQUEST || op == PWR_REQ_SET_PASSWORD || op == PWR_REQ_RESET)
		courier_wake(h->courier);
	return r;
}

void dispatch_malformed(struct peer *p, int err)
{
	log_refusal(LOG_WARNING, (long)p->uid, "malformed", strerror(-err));
	send_error(p, PWR_E_PROTO, "malformed request: %s", strerror(-err));
}

/* The time of the last purge is kept in the store, so one-shot helpers share it. */
void dispatch_housekeeping(struct helper *h, uint64_t now)
{
	MDB_val k = {10, "last_purge"}, v;
	uint64_t last = 0;
	MDB_txn *txn;
	int a, b, c;

	if (!h->store || store_begin(h->store, true, &txn) < 0)
		return;
	if (mdb_get(txn, h->store->meta, &k, &v) == 0 && v.mv_size == sizeof(last))
		memcpy(&last, v.mv_data, sizeof(last));
	if (now >= last && now < last + PURGE_EVERY) {
		store_abort(txn);
		return;
	}
	/* keep dead codes a day, so `tokens` and the audit trail agree for a while */
	a = code_purge(h->store, txn, now, 86400);
	b = rate_purge(h->store, txn, now, HOUR);
	/* sent and failed mails stay a week, for `pwresetctl queue` and the audit trail */
	c = mailq_purge(h->store, txn, now, 7 * 86400);
	v.mv_size = sizeof(now);
	v.mv_data = &now;
	if (a < 0 || b < 0 || c < 0 || mdb_put(txn, h->store->meta, &k, &v, 0) != 0) {
		store_abort(txn);
		return;
	}
	if (store_commit(txn) == 0 && (a > 0 || b > 0 || c > 0))
		log_msg(LOG_INFO, "purged %d expired code(s), %d rate window(s), %d old mail(s)", a,
			b, c);
}
