/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Administration of accounts (SPEC §7): forced resets, pending codes, recovery addresses, the
 * eligibility check (the mail queue and the status are admin_report.c's). route.c lets only
 * root and members of admin_group here; admin_may_act_on() keeps a member of admin_group away from root and from the accounts
 * self-service excludes.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config.h"
#include "account.h"
#include "address.h"
#include "admin.h"
#include "answer.h"
#include "audit.h"
#include "catalog.h"
#include "census.h"
#include "code.h"
#include "eligible.h"
#include "language.h"
#include "log.h"
#include "mailaddr.h"
#include "mailq.h"
#include "ready.h"
#include "userlang.h"
#include "util.h"

/* MUST: a member of admin_group who is not root may not act on root, on an account that
 * self-service excludes (exclude_users, exclude_groups, uid below min_uid), on another member
 * of admin_group or on a member of a group that grants root (admin_protected_groups, through
 * NSS, so a directory's groups count; a membership that cannot be told counts): delegating
 * resets must not delegate root. 0, or -EPERM with the rule, for the administrator, in why.
 * acct is the looked-up account, its own name and uid (never the name as typed). */
static int admin_may_act_on(
	struct helper *h, const struct peer *p, const struct account *acct, char *why, size_t len)
{
	char *one[] = {h->conf.admin_group, NULL};
	struct conf_list admins = {one, 1};
	const char *user = acct->name;

	if (p->uid == 0 || !acct->exists) /* nothing to protect: the request says no such user */
		return 0;
	if (acct->uid == 0)
		snprintf(why, len, "only root may act on %s: its uid is 0", user);
	else if (acct->uid < h->conf.min_uid)
		snprintf(why, len, "only root may act on %s: its uid %lu is below min_uid %lu",
			user, (unsigned long)acct->uid, (unsigned long)h->conf.min_uid);
	else if (conf_list_has(&h->conf.exclude_users, user))
		snprintf(why, len, "only root may act on %s: it is in exclude_users", user);
	else if (account_in_groups(acct, &h->conf.exclude_groups))
		snprintf(why, len, "only root may act on %s: it is in a group of exclude_groups",
			user);
	else if (h->conf.admin_group[0] && account_in_groups(acct, &admins))
		snprintf(why, len, "only root may act on %s: it is a member of admin_group %s",
			user, h->conf.admin_group);
	else if (account_in_groups(acct, &h->conf.admin_protected_groups))
		snprintf(why, len,
			"only root may act on %s: it is in a group that grants root "
			"(admin_protected_groups)",
			user);
	else
		return 0;
	return -EPERM;
}

bool admin_protected(struct helper *h, const struct peer *p, const struct account *acct)
{
	char *one[] = {h->conf.admin_group, NULL};
	struct conf_list admins = {one, 1};

	return p->uid != 0 && acct->exists &&
	       ((h->conf.admin_group[0] && account_in_groups(acct, &admins)) ||
		       account_in_groups(acct, &h->conf.admin_protected_groups));
}

/* Look user up into acct and apply admin_may_act_on, with a refusal logged as event and
 * answered: 0, or (acct cleared) what to return, *answered set. */
static int may_act_on(struct helper *h, struct peer *p, const char *user, const char *event,
	struct account *acct, bool *answered)
{
	char why[256];
	int r = account_lookup(&h->accounts, user, acct);

	*answered = false;
	if (r < 0)
		snprintf(why, sizeof(why), "cannot look up %s: %s", user, strerror(-r));
	else if ((r = admin_may_act_on(h, p, acct, why, sizeof(why))) == 0)
		return 0;
	account_clear(acct);
	audit(LOG_WARNING, event, p, user, NULL, "refused", r == -EPERM ? REASON_ROOT_ONLY : why);
	*answered = true;
	return answer_error(p, r == -EPERM ? PWR_E_PERM : PWR_E_INTERNAL, "%s", why);
}

/* ---- forced reset ---- */

struct bind {
	struct store *store;
	unsigned char *fp;
};

/* The lock's guard: the code is bound to the entry as locked, so the lock does not void it. */
static int bind_to_locked(void *ctx, const char *before, const char *after)
{
	struct bind *b = ctx;

	(void)before;
	code_fingerprint(b->store, after, b->fp);
	return 0;
}

/* The account's entry to bind the code to, locked first unless asked not to: 0, or < 0 with
 * the item's status and text set. */
static int reset_lock(struct helper *h, const struct account *acct, uint32_t flags,
	unsigned char *fp, struct pwr_reset_item *it)
{
	const struct account_db *db = &h->accounts;
	struct bind bind = {h->store, fp};
	enum account_locked locked;
	int r = 0;

	if (!acct->exists) {
		it->status = PWR_E_NOTFOUND;
		snprintf(it->text, sizeof(it->text), "no such user");
		r = -ENOENT;
	} else if (acct->unreachable) {
		snprintf(it->text, sizeof(it->text), "the directory did not answer; see the log");
		r = -EHOSTUNREACH;
	} else if (!acct->local && !acct->directory) {
		it->status = PWR_E_INVALID;
		snprintf(it->text, sizeof(it->text),
			db->dir ? "neither local nor in the directory"
				: "not a local account: its password "
				  "is not in /etc/shadow");
		r = -EINVAL;
	} else if (flags & PWR_RESET_NO_LOCK) {
		code_fingerprint(h->store, acct->binding, fp);
	} else if ((r = db->ops->lock(db, acct, bind_to_locked, &bind, &locked, it->text)) == 0) {
		/* a directory without ppolicy: the password was replaced by one nobody knows */
		it->locked = locked == ACCOUNT_LOCKED_RANDOM ? PWR_LOCKED_RANDOM : PWR_LOCKED;
	}
	return r;
}

/* Issue the administrator's code, and queue its mail when it is to be mailed. */
static int reset_issue(struct helper *h, const struct account *acct, uint32_t flags, uint32_t ttl,
	const unsigned char *fp, const char *code, struct pwr_reset_item *it)
{
	const char *user = it->user;
	char addr[PWR_ADDR_MAX + 1];
	uint64_t now = util_now();
	struct mail_draft d = {
		PWR_MAIL_ADMIN, user, addr, NULL, NULL, now + ttl, now + ttl, acct->language};
	bool mail = !(flags & PWR_RESET_PRINT) && address_of(h->store, acct, addr) == 0;
	MDB_txn *txn;
	int r;

	if ((r = store_begin(h->store, true, &txn)) < 0)
		return r;
	r = code_issue(
		h->store, txn, user, code, PWR_KIND_ADMIN, now, ttl, h->conf.code_attempts, fp);
	if (r == 0 && mail)
		r = mailq_enqueue(h->store, txn, &d, code, now);
	r = r < 0 ? (store_abort(txn), r) : store_commit(txn);
	it->mailed = r == 0 && mail;
	it->expires = now + ttl;
	return r;
}

/* The sheet's language (the account's mail's: its own, else the directory's) and the
 * prompts' (SPEC §13), into it. */
static void reset_languages(
	struct helper *h, const char *user, const char *directory, struct pwr_reset_item *it)
{
	char own[CATALOG_LANG_MAX + 1] = "";
	MDB_txn *txn;

	if (store_begin(h->store, false, &txn) == 0) {
		(void)userlang_get(h->store, txn, user, own);
		store_abort(txn);
	}
	language_mail(&h->conf, *own ? own : directory, it->language, sizeof(it->language));
	language_host(&h->conf, it->host_language, sizeof(it->host_language));
}

/* Reset one user: lock, clear the lockout, issue an admin code, mail it or hand it over. The
 * account is looked up once, here. */
static void reset_one(struct helper *h, struct peer *p, const char *user, uint32_t flags,
	uint32_t ttl, struct pwr_reset_item *it)
{
	const struct account_db *db = &h->accounts;
	unsigned char fp[CODE_FP_BYTES];
	struct account acct;
	char *code = code_new();
	int r;

	util_copy(it->user, sizeof(it->user), user);
	it->status = PWR_E_INTERNAL;
	if (!code) {
		snprintf(it->text, sizeof(it->text), "%s", strerror(ENOMEM));
		audit(LOG_ERR, "admin-reset", p, user, NULL, "error", it->text);
		return;
	}
	if ((r = account_lookup(db, user, &acct)) < 0) {
		snprintf(it->text, sizeof(it->text), "cannot look up %s: %s", user, strerror(-r));
		audit(LOG_ERR, "admin-reset", p, user, NULL, "error", it->text);
		goto out;
	}
	p->about_directory = acct.directory;
	reset_languages(h, user, acct.language, it);
	if ((r = admin_may_act_on(h, p, &acct, it->text, sizeof(it->text))) < 0) {
		it->status = PWR_E_PERM;
		audit(LOG_WARNING, "admin-reset", p, user, NULL, "refused", REASON_ROOT_ONLY);
		goto out;
	}
	if ((r = reset_lock(h, &acct, flags, fp, it)) < 0) {
		bool refused = it->status != PWR_E_INTERNAL;
		audit(refused ? LOG_NOTICE : LOG_ERR, "admin-reset", p, user, NULL,
			refused ? "refused" : "error", it->text);
		goto out;
	}
	if ((r = account_clear_lockout(db, &acct)) < 0)
		audit(LOG_WARNING, "faillock-reset", p, user, NULL, "error", strerror(-r));
	account_flush(db);
	code_generate(code);
	if ((r = reset_issue(h, &acct, flags, ttl, fp, code, it)) < 0) {
		snprintf(it->text, sizeof(it->text), "%s", strerror(-r));
		audit(LOG_ERR, "admin-reset", p, user, NULL, "error", strerror(-r));
	} else {
		if (!it->mailed)
			code_format(code, it->code);
		it->status = PWR_OK;
		audit(LOG_NOTICE, "admin-reset", p, user, NULL, "ok",
			it->mailed ? "code-mailed" : "code-handed-over");
	}
out:
	account_clear(&acct);
	code_free(code);
}

int admin_reset(struct helper *h, struct peer *p, union pwr_msg *m)
{
	uint32_t ttl = m->reset.ttl ? m->reset.ttl : h->conf.admin_code_ttl, done = 0;
	char *save = m->reset.users, *user, why[PWR_TEXT_MAX + 1];
	int r = 0;

	if (ttl < 60 || ttl > 30u * 86400) {
		audit(LOG_NOTICE, "admin-reset", p, NULL, NULL, "refused", "bad-ttl");
		return answer_error(p, PWR_E_INVALID, "the lifetime must be from 60 s to 30 days");
	}
	/* a locked account whose owner cannot choose a new password would be locked out */
	if (!ready_why(h, why, sizeof(why))) {
		audit(LOG_ERR, "admin-reset", p, NULL, NULL, "refused", REASON_UNREADY);
		return answer_error(p, PWR_E_UNAVAILABLE, "%s; nobody was reset", why);
	}
	while ((user = strsep(&save, "\n")) != NULL) {
		struct pwr_reset_item it = {.self_reset = h->conf.self_reset};
		if (!*user)
			continue;
		reset_one(h, p, user, m->reset.flags, ttl, &it);
		done += it.status == PWR_OK;
		r = answer_send(p, PWR_ITEM_RESET, &it);
		sodium_memzero(&it, sizeof(it));
		if (r < 0)
			return r;
	}
	return answer_done(p, PWR_OK, done, false, 0, NULL);
}

/* A removal from the store about one user (a pending code, an address), answered
 * PWR_ANS_DONE. */
struct removal {
	const char *event;
	int (*remove)(struct store *s, MDB_txn *txn, const char *user); /* -ENOENT: none */
	const char *none_reason, *none_text; /* logged and answered when there was none */
	const char *cannot; /* "cannot revoke" */
};

static int remove_for(struct helper *h, struct peer *p, const char *user, const struct removal *d)
{
	struct account acct;
	bool answered;
	MDB_txn *txn;
	int r;

	if ((r = may_act_on(h, p, user, d->event, &acct, &answered)) != 0 || answered)
		return r;
	p->about_directory = acct.directory;
	account_clear(&acct);
	if ((r = store_begin(h->store, true, &txn)) < 0)
		goto fail;
	if ((r = d->remove(h->store, txn, user)) < 0) {
		store_abort(txn);
		if (r != -ENOENT)
			goto fail;
		audit(LOG_NOTICE, d->event, p, user, NULL, "refused", d->none_reason);
		return answer_error(p, PWR_E_NOTFOUND, "%s %s", d->none_text, user);
	}
	if ((r = store_commit(txn)) < 0)
		goto fail;
	audit(LOG_NOTICE, d->event, p, user, NULL, "ok", NULL);
	return answer_done(p, PWR_OK, 1, false, 0, NULL);
fail:
	audit(LOG_ERR, d->event, p, user, NULL, "error", strerror(-r));
	return answer_error(p, PWR_E_INTERNAL, "%s: %s", d->cannot, strerror(-r));
}

int admin_revoke(struct helper *h, struct peer *p, union pwr_msg *m)
{
	static const struct removal d = {
		"revoke", code_revoke, "no-code", "no pending code for", "cannot revoke"};

	return remove_for(h, p, m->user.user, &d);
}

/* ---- pages of records: addresses, codes ---- */

struct page {
	struct peer *p;
	uint32_t n;
	bool more;
};

/* Before each item of a page: 0 to send it, 1 when the page is full (more remain). */
static int page_full(struct page *pg)
{
	if (pg->n < PWR_PAGE_MAX)
		return 0;
	pg->more = true;
	return 1;
}

static int email_item(void *ctx, const char *user, const char *addr)
{
	struct page *pg = ctx;
	struct pwr_email_item it = {0};

	if (page_full(pg))
		return 1;
	util_copy(it.user, sizeof(it.user), user);
	util_copy(it.addr, sizeof(it.addr), addr);
	pg->n++;
	return answer_send(pg->p, PWR_ITEM_EMAIL, &it) < 0 ? -EPIPE : 0;
}

static int token_item(void *ctx, const char *user, const struct code_rec *rec)
{
	struct page *pg = ctx;
	struct pwr_token_item it = {
		.kind = rec->kind,
		.issued = rec->issued,
		.expires = rec->expires,
		.failures = rec->failures,
		.tries_left = rec->max_failures - rec->failures,
	};

	if (page_full(pg))
		return 1;
	util_copy(it.user, sizeof(it.user), user);
	pg->n++;
	return answer_send(pg->p, PWR_ITEM_TOKEN, &it) < 0 ? -EPIPE : 0;
}

/* Send a page of addresses or codes, of the users after `after`, then PWR_ANS_DONE. */
static int send_page(
	struct helper *h, struct peer *p, const char *after, bool codes, const char *event)
{
	struct page pg = {p, 0, false};
	MDB_txn *txn;
	int r;

	if ((r = store_begin(h->store, false, &txn)) < 0)
		return answer_error(p, PWR_E_INTERNAL, "cannot read the store: %s", strerror(-r));
	r = codes ? code_each(h->store, txn, after, util_now(), token_item, &pg)
		  : address_each(h->store, txn, after, email_item, &pg);
	store_abort(txn);
	if (r == -EPIPE)
		return r;
	if (r < 0)
		return answer_error(p, PWR_E_INTERNAL, "cannot read the store: %s", strerror(-r));
	audit(LOG_INFO, event, p, NULL, NULL, "ok", NULL);
	return answer_done(p, PWR_OK, pg.n, pg.more, 0, NULL);
}

int admin_email_export(struct helper *h, struct peer *p, union pwr_msg *m)
{
	return send_page(h, p, m->page.user, false, "email-export");
}

int admin_tokens(struct helper *h, struct peer *p, union pwr_msg *m)
{
	return send_page(h, p, m->page.user, true, "tokens");
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
	struct helper *h = ctx->h;
	struct pwr_check_item it = {0};
	struct elig_facts f;
	struct account acct;
	bool protected = false;
	int r = account_lookup(&h->accounts, user, &acct);

	if (r == 0 && !(protected = admin_protected(h, ctx->p, &acct)))
		r = eligible_gather(
			&h->accounts, &h->conf, h->store, ctx->txn, &acct, util_now(), &f);
	it.uid = acct.exists ? (uint32_t)acct.uid : UINT32_MAX;
	account_clear(&acct);
	if (r < 0)
		return r;
	util_copy(it.user, sizeof(it.user), user);
	if (protected)
		util_copy(it.reasons, sizeof(it.reasons), wire_reason(PWR_REASON_PROTECTED));
	else
		it.eligible = eligible_reasons(&f, it.reasons, sizeof(it.reasons)) == 0;
	ctx->count++;
	return answer_send(ctx->p, PWR_ITEM_CHECK, &it);
}

int admin_check(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct check_ctx ctx = {h, p, NULL, 0};
	char why[PWR_TEXT_MAX / 2];
	int r;

	if (!m->page.user[0]) {
		/* every account: one pass, in one answer (census.c) */
		r = census_run(
			h, p, m->page.start == PWR_CHECK_PACKED, &ctx.count, why, sizeof(why));
	} else if ((r = store_begin(h->store, false, &ctx.txn)) == 0) {
		r = check_one(&ctx, m->page.user);
		store_abort(ctx.txn);
	}
	if (r < 0 && !m->page.user[0] && r != -EPIPE)
		audit(LOG_ERR, "check", p, NULL, NULL, "error", why);
	else
		audit(LOG_INFO, "check", p, m->page.user[0] ? m->page.user : NULL, NULL,
			r < 0 ? "error" : "ok", r < 0 ? strerror(-r) : NULL);
	if (r == -EPIPE || r == -EAGAIN || r == -ECONNRESET || r == -ETIMEDOUT)
		return r;
	if (r < 0)
		return answer_error(p, PWR_E_INTERNAL, "cannot check accounts: %s",
			m->page.user[0] ? strerror(-r) : why);
	return answer_done(p, PWR_OK, ctx.count, false, 0, NULL);
}

/* ---- addresses ---- */

/* Validate acct (user as asked) and addr for registration; on refusal why[] says what. */
static int address_check(struct helper *h, const struct account *acct, const char *user,
	const char *addr, char *why, size_t len)
{
	if (acct->directory) {
		snprintf(why, len, "the address of %s comes from the directory (%s)", user,
			h->conf.directory_address_attribute);
		return -EROFS;
	}
	if (!acct->exists) {
		snprintf(why, len, "no such user: %s", user);
		return -ENOENT;
	}
	return mailaddr_validate(addr, why, len);
}

int admin_email_set(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_email_set_ans a = {.status = PWR_OK};
	const char *user = m->email_set.user, *addr = m->email_set.addr;
	char why[256];
	struct account acct;
	bool answered;
	MDB_txn *txn;
	int r, n = 0;

	if ((r = may_act_on(h, p, user, "email-set", &acct, &answered)) != 0 || answered)
		return r;
	p->about_directory = acct.directory;
	r = address_check(h, &acct, user, addr, why, sizeof(why));
	account_clear(&acct);
	if (r < 0) {
		audit(LOG_NOTICE, "email-set", p, user, NULL, "refused", why);
		return answer_error(p, r == -ENOENT ? PWR_E_NOTFOUND : PWR_E_INVALID, "%s", why);
	}
	if (*m->email_set.language && strcmp(m->email_set.language, "default") &&
		!catalog_lang_ok(m->email_set.language)) {
		audit(LOG_NOTICE, "email-set", p, user, NULL, "refused", "bad-language");
		return answer_error(p, PWR_E_INVALID,
			"'%s' is not a language name (ja, de, de_DE.UTF-8, or default)",
			m->email_set.language);
	}
	if ((r = store_begin(h->store, true, &txn)) < 0)
		goto fail;
	if ((r = address_set(h->store, txn, user, addr)) == 0 && *m->email_set.language)
		r = userlang_set(h->store, txn, user, m->email_set.language);
	if (r == 0)
		r = n = address_sharers(
			h->store, txn, addr, user, a.shared_with, sizeof(a.shared_with));
	if ((r = r < 0 ? (store_abort(txn), r) : store_commit(txn)) < 0)
		goto fail;
	if (n > 0)
		a.warnings |= PWR_WARN_SHARED;
	if (address_local_only(&h->conf, addr))
		a.warnings |= PWR_WARN_LOCAL;
	audit(LOG_NOTICE, "email-set", p, user, NULL, "ok", NULL);
	return answer_send(p, PWR_ANS_EMAIL_SET, &a);
fail:
	audit(LOG_ERR, "email-set", p, user, NULL, "error", strerror(-r));
	return answer_error(p, PWR_E_INTERNAL, "cannot store the address: %s", strerror(-r));
}

int admin_email_language(struct helper *h, struct peer *p, union pwr_msg *m)
{
	const char *user = m->email_set.user, *lang = m->email_set.language;
	struct account acct;
	bool answered;
	MDB_txn *txn;
	int r;

	if ((r = may_act_on(h, p, user, "email-language", &acct, &answered)) != 0 || answered)
		return r;
	p->about_directory = acct.directory;
	account_clear(&acct);
	if (!*lang || (strcmp(lang, "default") && !catalog_lang_ok(lang))) {
		audit(LOG_NOTICE, "email-language", p, user, NULL, "refused", "bad-language");
		return answer_error(p, PWR_E_INVALID,
			"'%s' is not a language name (ja, de, de_DE.UTF-8, or default)", lang);
	}
	if ((r = store_begin(h->store, true, &txn)) < 0)
		goto fail;
	r = userlang_set(h->store, txn, user, lang);
	if ((r = r < 0 ? (store_abort(txn), r) : store_commit(txn)) < 0)
		goto fail;
	audit(LOG_NOTICE, "email-language", p, user, NULL, "ok", NULL);
	return answer_done(p, PWR_OK, 1, false, 0, NULL);
fail:
	audit(LOG_ERR, "email-language", p, user, NULL, "error", strerror(-r));
	return answer_error(p, PWR_E_INTERNAL, "cannot store the language: %s", strerror(-r));
}

int admin_email_unset(struct helper *h, struct peer *p, union pwr_msg *m)
{
	static const struct removal d = {"email-unset", address_unset, "no-address",
		"no address is registered for", "cannot remove the address"};

	return remove_for(h, p, m->user.user, &d);
}

int admin_email_show(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_email_show_ans a = {.status = PWR_OK};
	struct address_info info;
	struct account acct;
	MDB_txn *txn;
	int r;

	if (account_lookup(&h->accounts, m->user.user, &acct) == 0 && acct.directory) {
		/* the directory's (SPEC §12), never the store's */
		r = acct.address ? 0 : -ENOENT;
		util_copy(info.addr, sizeof(info.addr), acct.address ? acct.address : "");
		info.source = PWR_SOURCE_DIRECTORY;
		info.confirmed = 0;
	} else if ((r = store_begin(h->store, false, &txn)) == 0) {
		r = address_get_info(h->store, txn, m->user.user, &info);
		store_abort(txn);
	}
	/* the language its mail is in, whoever keeps the address */
	if (r == 0 && (r = store_begin(h->store, false, &txn)) == 0) {
		r = userlang_get(h->store, txn, m->user.user, a.language);
		store_abort(txn);
	}
	account_clear(&acct);
	if (r == 0) {
		util_copy(a.addr, sizeof(a.addr), info.addr);
		a.source = info.source;
		a.confirmed = info.confirmed;
	}
	audit(LOG_INFO, "email-show", p, m->user.user, NULL, r == 0 ? "ok" : "fail",
		r == 0 ? NULL : "no-address");
	if (r == -ENOENT)
		return answer_error(
			p, PWR_E_NOTFOUND, "no address is registered for %s", m->user.user);
	if (r < 0)
		return answer_error(p, PWR_E_INTERNAL, "cannot read the store: %s", strerror(-r));
	return answer_send(p, PWR_ANS_EMAIL_SHOW, &a);
}

/* What became of the lines of an import block: the good ones (pointing into the request),
 * and each rejected one with why. */
struct import_block {
	struct {
		const char *user, *addr;
	} ok[PWR_IMPORT_MAX / 2 + 1];
	size_t nok, nrej;
	struct pwr_reject_item rej[PWR_IMPORT_MAX / 2 + 1];
};

/* One line of an import, checked (the account looked up, the rules applied, the address
 * read), into b. */
static void import_line(
	struct helper *h, struct peer *p, char *line, uint32_t lineno, struct import_block *b)
{
	const char *user, *addr;
	struct account acct;
	char why[256];
	int r = address_import_line(line, &user, &addr, why, sizeof(why));

	if (r == 0 && !user)
		return;
	if (r == 0) {
		if ((r = account_lookup(&h->accounts, user, &acct)) < 0)
			snprintf(why, sizeof(why), "cannot look up %s: %s", user, strerror(-r));
		else if ((r = admin_may_act_on(h, p, &acct, why, sizeof(why))) == 0)
			r = address_check(h, &acct, user, addr, why, sizeof(why));
		account_clear(&acct);
	}
	if (r == 0) {
		b->ok[b->nok].user = user;
		b->ok[b->nok++].addr = addr;
		return;
	}
	b->rej[b->nrej].line = lineno;
	util_copy(b->rej[b->nrej++].reason, sizeof(b->rej[0].reason), why);
}

/* MUST: the lines are checked with no transaction open (a lookup may ask NSS or the
 * directory), the good ones written in one transaction, and the rejected lines answered only
 * once it is closed: a caller that does not read its answers holds nothing of the store. */
int admin_email_import(struct helper *h, struct peer *p, union pwr_msg *m)
{
	char *save = m->import.text, *line, text[64];
	uint32_t lineno = m->import.first_line;
	struct import_block *b = calloc(1, sizeof(*b));
	MDB_txn *txn;
	int r = 0;

	if (!b)
		return answer_error(p, PWR_E_INTERNAL, "cannot import: %s", strerror(ENOMEM));
	/* strsep keeps empty lines, so line numbers stay true */
	for (; (line = strsep(&save, "\n")) != NULL && (save || *line); lineno++)
		import_line(h, p, line, lineno, b);
	if (!m->import.dry_run && b->nok && (r = store_begin(h->store, true, &txn)) == 0) {
		for (size_t i = 0; r == 0 && i < b->nok; i++)
			r = address_set(h->store, txn, b->ok[i].user, b->ok[i].addr);
		r = r < 0 ? (store_abort(txn), r) : store_commit(txn);
	}
	if (r < 0) {
		free(b);
		audit(LOG_ERR, "email-import", p, NULL, NULL, "error", strerror(-r));
		return answer_error(p, PWR_E_INTERNAL, "cannot store addresses: %s", strerror(-r));
	}
	snprintf(text, sizeof(text), "%zu imported, %zu rejected", b->nok, b->nrej);
	audit(LOG_NOTICE, "email-import", p, NULL, NULL, "ok", text);
	for (size_t i = 0; r == 0 && i < b->nrej; i++)
		r = answer_send(p, PWR_ITEM_REJECT, &b->rej[i]) < 0 ? -EPIPE : 0;
	if (r == 0)
		r = answer_done(p, PWR_OK, (uint32_t)b->nok, false, 0, text);
	free(b);
	return r;
}
