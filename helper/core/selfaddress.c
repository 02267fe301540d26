/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Recovery addresses that users register themselves (SPEC §11): show, set (with the current
 * password; a code is mailed to the new address), confirm (the code registers it; the old
 * address is told), remove (with the current password; the old address is told).
 * MUST: the current password is checked here against the account's own hash, never by the
 * client; every set and remove counts in the account's request window (so wrong passwords
 * do); why an address cannot be used is logged, never told (it would tell of another
 * account); `set` answers alike for every well-formed address that is not host-only, one
 * another account has included (that is refused at `confirm`, once the mailbox is shown to
 * be the user's); a confirmation mail counts in the host's window of mails (mails_per_minute);
 * the old address is never shown whole.
 */
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "account.h"
#include "address.h"
#include "answer.h"
#include "audit.h"
#include "catalog.h"
#include "code.h"
#include "config.h"
#include "eligible.h"
#include "language.h"
#include "log.h"
#include "mailaddr.h"
#include "mailq.h"
#include "password.h"
#include "pending.h"
#include "rate.h"
#include "selfaddress.h"
#include "userlang.h"
#include "util.h"

#define T_OFF N_("Recovery addresses are set by your administrator. %s")
#define T_UNUSABLE N_("This address cannot be used for password reset.")
#define T_LIMIT N_("Too many requests for this account; try again later.")
#define T_HOST_LIMIT N_("Too many mails are being sent from this host; try again in a minute.")
#define T_PASSWORD N_("The current password is not right.")
#define T_BAD_LANGUAGE N_("'%s' is not a language name (ja, de, de_DE.UTF-8, or default).")
#define T_FAILED N_("The request failed; see the helper's log.")

/* The answer to a change, with its audit line: its text the format one (many when n is not
 * one, if many), in the language the caller reads (SPEC §13); its catalog read for this answer
 * alone (a person's own changes are few: the account's request window bounds them). */
static int answer_v(struct peer *p, const struct pwr_address_req *q, const char *event,
	uint32_t status, const char *result, const char *reason, const char *one, const char *many,
	unsigned long n, va_list ap) __attribute__((format(printf, 7, 0)));
static int answer_v(struct peer *p, const struct pwr_address_req *q, const char *event,
	uint32_t status, const char *result, const char *reason, const char *one, const char *many,
	unsigned long n, va_list ap)
{
	struct pwr_address_change_ans a = {.status = status};
	struct catalog words;
	char why[256];
	int r = catalog_open(
		&words, PWR_LOCALEDIR, q->caller_language, "pam_pwreset", why, sizeof(why));

	if (r < 0 && r != -ENOENT)
		log_msg(LOG_WARNING, "the answer to %s is in English: %s", q->who.user, why);
	vsnprintf(a.text, sizeof(a.text),
		many ? catalog_nformat(&words, one, many, n) : catalog_format(&words, one), ap);
	catalog_close(&words);
	audit(status == PWR_OK ? LOG_NOTICE : LOG_WARNING, event, p, q->who.user, &q->who, result,
		reason);
	return answer_send(p, PWR_ANS_ADDRESS_CHANGE, &a);
}

/* The same, the text in the form for the number n of the language (NP_(one, many)). */
static int change_answer_n(struct peer *p, const struct pwr_address_req *q, const char *event,
	uint32_t status, const char *result, const char *reason, unsigned long n, const char *one,
	const char *many, ...) __attribute__((format(printf, 8, 10)));
static int change_answer_n(struct peer *p, const struct pwr_address_req *q, const char *event,
	uint32_t status, const char *result, const char *reason, unsigned long n, const char *one,
	const char *many, ...)
{
	va_list ap;
	int r;

	va_start(ap, many);
	r = answer_v(p, q, event, status, result, reason, one, many, n, ap);
	va_end(ap);
	return r;
}

static int change_answer(struct peer *p, const struct pwr_address_req *q, const char *event,
	uint32_t status, const char *result, const char *reason, const char *format, ...)
	__attribute__((format(printf, 7, 8)));
static int change_answer(struct peer *p, const struct pwr_address_req *q, const char *event,
	uint32_t status, const char *result, const char *reason, const char *format, ...)
{
	va_list ap;
	int r;

	va_start(ap, format);
	r = answer_v(p, q, event, status, result, reason, format, NULL, 0, ap);
	va_end(ap);
	return r;
}

/* With user_addresses = no, a change is refused with the administrators' word; a directory
 * account's address is the directory's (SPEC §12). Otherwise the account is looked up into
 * acct (the caller clears it) and true returned. */
static bool allowed(struct helper *h, struct peer *p, const struct pwr_address_req *q,
	const char *event, struct account *acct, int *r)
{
	memset(acct, 0, sizeof(*acct));
	if (!h->conf.user_addresses) {
		*r = change_answer(p, q, event, PWR_E_DISABLED, "refused", "user-addresses-off",
			T_OFF, h->conf.help_message);
		return false;
	}
	if (account_lookup(&h->accounts, q->who.user, acct) < 0 || !acct->directory)
		return true; /* a failed lookup: the account's password cannot be proved */
	p->about_directory = true;
	*r = change_answer(p, q, event, PWR_E_DISABLED, "refused", "directory-account",
		N_("the address of %s comes from the directory (%s)"), q->who.user,
		h->conf.directory_address_attribute);
	return false;
}

/* The account's request window (every set, remove and choice of language counts): 0 when it
 * has room; else the refusal is answered and *r holds what to return. */
static int take_window(struct helper *h, struct peer *p, const struct pwr_address_req *q,
	const char *event, int *r)
{
	char bucket[RATE_BUCKET_MAX + 1];
	MDB_txn *txn = NULL;
	bool ok = false;
	int e;

	snprintf(bucket, sizeof(bucket), "u:%.*s", PWR_USER_MAX, q->who.user);
	if ((e = store_begin(h->store, true, &txn)) == 0 &&
		(e = rate_take(h->store, txn, bucket, h->conf.user_requests_per_hour, 3600,
			 util_now(), &ok)) == 0)
		e = store_commit(txn);
	else if (txn)
		store_abort(txn);
	if (e < 0) {
		*r = change_answer(p, q, event, PWR_E_INTERNAL, "error", strerror(-e), T_FAILED);
		return e;
	}
	if (!ok) {
		*r = change_answer(p, q, event, PWR_E_LIMIT, "refused", "rate-limit-user", T_LIMIT);
		return -EAGAIN;
	}
	return 0;
}

/* The account's request window, then its current password. 0 when both pass; else the
 * refusal is answered and *r holds what to return. */
static int prove(struct helper *h, struct peer *p, const struct pwr_address_req *q,
	const struct account *acct, const char *event, int *r)
{
	int e;

	if ((e = take_window(h, p, q, event, r)) < 0)
		return e;
	if ((e = acct->local ? password_verify(q->password, acct->hash) : -EACCES) < 0) {
		*r = change_answer(
			p, q, event, PWR_E_PASSWORD, "refused", "wrong-password", T_PASSWORD);
		return e;
	}
	return 0;
}

/* Asked at every login that has the session hint: what the account is, then its address
 * and a pending one, read once; who else has the address does not matter here. */
int selfaddress_show(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_address_ans a = {.status = PWR_OK, .allowed = h->conf.user_addresses};
	const struct pwr_who *who = &m->address.who;
	struct address_info info;
	struct elig_facts f;
	struct account acct;
	MDB_txn *txn;
	int r;

	if ((r = account_lookup(&h->accounts, who->user, &acct)) == 0)
		eligible_account(&h->accounts, &h->conf, &acct, util_now(), &f);
	account_clear(&acct);
	if (r == 0 && (r = store_begin(h->store, false, &txn)) == 0) {
		if (f.directory) {
			/* the directory's address (SPEC §12) */
			util_copy(a.addr, sizeof(a.addr), f.address);
			a.source = PWR_SOURCE_DIRECTORY;
		} else if ((r = address_get_info(h->store, txn, who->user, &info)) == 0) {
			util_copy(a.addr, sizeof(a.addr), info.addr);
			a.source = info.source;
			a.confirmed = info.confirmed;
			f.has_address = true;
		}
		if (r == 0 || r == -ENOENT)
			r = pending_get(h->store, txn, who->user, util_now(), a.pending);
		if (r == 0 || r == -ENOENT)
			r = userlang_get(h->store, txn, who->user, a.language) < 0 ? -EIO : r;
		store_abort(txn);
	}
	if (r < 0 && r != -ENOENT)
		return answer_error(p, PWR_E_INTERNAL, "cannot read the store: %s", strerror(-r));
	a.hint = h->conf.user_addresses && eligible_but_address(&f);
	language_host(&h->conf, a.host_language, sizeof(a.host_language));
	audit(LOG_INFO, "address-show", p, who->user, who, "ok", NULL);
	return answer_send(p, PWR_ANS_ADDRESS, &a);
}

/* Whether addr cannot be the user's recovery address (taken: another account's is not either);
 * why (for the log) in why. */
static bool unusable(struct helper *h, MDB_txn *txn, const char *user, const char *addr, bool taken,
	char *why, size_t len)
{
	char others[PWR_TEXT_MAX / 2];
	int n;

	if (mailaddr_validate(addr, why, len) < 0)
		return true;
	if (address_local_only(&h->conf, addr)) {
		snprintf(why, len, "local-only-address");
		return true;
	}
	if (taken &&
		(n = address_sharers(h->store, txn, addr, user, others, sizeof(others))) != 0) {
		snprintf(why, len, "shared-address:%s", n < 0 ? "?" : others);
		return true;
	}
	return false;
}

/* Keep addr pending for the user and queue its confirmation code: 0 (why[] set when addr is
 * unusable or the host's window of mails is full, and nothing was done), or < 0. Whether
 * another account has addr is not asked here (see confirm_in). */
static int set_pending(
	struct helper *h, const struct pwr_who *who, const char *addr, char *why, size_t len)
{
	uint64_t now = util_now();
	struct mail_draft d = {PWR_MAIL_ADDRESS_CONFIRM, who->user, addr, who->rhost, who->tty,
		now + h->conf.code_ttl, now + h->conf.code_ttl};
	char *code;
	MDB_txn *txn;
	bool ok;
	int r;

	*why = '\0';
	if ((r = store_begin(h->store, true, &txn)) < 0)
		return r;
	if (unusable(h, txn, who->user, addr, false, why, len)) {
		store_abort(txn);
		return 0;
	}
	if ((r = rate_take(h->store, txn, "h:mail", h->conf.mails_per_minute, 60, now, &ok)) < 0 ||
		!ok) {
		store_abort(txn);
		snprintf(why, len, "rate-limit-host");
		return r;
	}
	if (!(code = code_new())) {
		store_abort(txn);
		return -ENOMEM;
	}
	code_generate(code);
	r = pending_issue(
		h->store, txn, who->user, addr, code, now, h->conf.code_ttl, h->conf.code_attempts);
	if (r == 0)
		r = mailq_enqueue(h->store, txn, &d, code, now);
	code_free(code);
	return r < 0 ? (store_abort(txn), r) : store_commit(txn);
}

/* The language of user's mail, stored: 0 or < 0. */
static int language_store(struct helper *h, const char *user, const char *lang)
{
	MDB_txn *txn;
	int r = store_begin(h->store, true, &txn);

	if (r == 0 && (r = userlang_set(h->store, txn, user, lang)) < 0)
		store_abort(txn);
	else if (r == 0)
		r = store_commit(txn);
	return r;
}

int selfaddress_set(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_address_req *q = &m->address;
	char why[PWR_TEXT_MAX + 1];
	struct account acct = {0}; /* cleared below on every path, also a refused language's */
	int r = 0, e;

	if (*q->language && strcmp(q->language, "default") && !catalog_lang_ok(q->language)) {
		r = change_answer(p, q, "address-set-requested", PWR_E_INVALID, "refused",
			"bad-language", T_BAD_LANGUAGE, q->language);
	} else if (allowed(h, p, q, "address-set-requested", &acct, &r) &&
		   prove(h, p, q, &acct, "address-set-requested", &r) == 0) {
		/* the confirmation mail is already in the language chosen with it */
		e = *q->language ? language_store(h, q->who.user, q->language) : 0;
		if (e == 0)
			e = set_pending(h, &q->who, q->addr, why, sizeof(why));
		if (e == 0 && !strcmp(why, "rate-limit-host"))
			r = change_answer(p, q, "address-set-requested", PWR_E_LIMIT, "refused",
				why, T_HOST_LIMIT);
		else if (e == 0 && *why)
			r = change_answer(p, q, "address-set-requested", PWR_E_INVALID, "refused",
				why, T_UNUSABLE);
		else if (e < 0)
			r = change_answer(p, q, "address-set-requested", PWR_E_INTERNAL, "error",
				strerror(-e), T_FAILED);
		else {
			unsigned minutes = (h->conf.code_ttl + 59) / 60;
			r = change_answer_n(p, q, "address-set-requested", PWR_OK, "ok",
				"code-queued", minutes,
				NP_("A confirmation code was sent to %s. It expires in %u minute.",
					"A confirmation code was sent to %s. It expires in %u minutes."),
				q->addr, minutes);
		}
	}
	sodium_memzero(q->password, sizeof(q->password));
	account_clear(&acct);
	return r;
}

/* The language of one's own mail (SPEC §13): no password (the kernel said who asks, and a
 * language gives nothing away), but the account's request window, as a change of address. */
int selfaddress_language(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_address_req *q = &m->address;
	int e, r = 0;

	if (!*q->language || (strcmp(q->language, "default") && !catalog_lang_ok(q->language)))
		return change_answer(p, q, "address-language", PWR_E_INVALID, "refused",
			"bad-language", T_BAD_LANGUAGE, q->language);
	if (take_window(h, p, q, "address-language", &r) < 0)
		return r;
	if ((e = language_store(h, q->who.user, q->language)) < 0)
		return change_answer(
			p, q, "address-language", PWR_E_INTERNAL, "error", strerror(-e), T_FAILED);
	if (!strcmp(q->language, "default"))
		return change_answer(p, q, "address-language", PWR_OK, "ok", NULL,
			N_("Your mail will be written in this host's language."));
	return change_answer(p, q, "address-language", PWR_OK, "ok", NULL,
		N_("Your mail will be written in %s."), q->language);
}

/* Register the pending address the code confirms; tell the old one. 0 (why[] set when the
 * address became unusable meanwhile: then nothing is registered), -EACCES (the code), or
 * < 0. */
static int confirm_in(struct helper *h, MDB_txn *txn, const struct pwr_who *who, const char *code,
	char *old, char *why, size_t len)
{
	uint64_t now = util_now();
	struct address_info a = {.source = PWR_SOURCE_USER, .confirmed = now};
	struct mail_draft d = {PWR_MAIL_ADDRESS_REPLACED, who->user, old, who->rhost, who->tty,
		now + h->conf.mail_max_age, 0};
	int r;

	*why = '\0';
	if ((r = pending_confirm(h->store, txn, who->user, code, now, a.addr)) == -ENOENT)
		r = -EACCES; /* nothing pending reads as a wrong code */
	if (r < 0)
		return r;
	if (unusable(h, txn, who->user, a.addr, true, why, len))
		return 0;
	if ((r = address_get(h->store, txn, who->user, old)) == -ENOENT)
		old[0] = '\0';
	else if (r < 0)
		return r;
	if ((r = address_set_info(h->store, txn, who->user, &a)) == 0 && *old &&
		strcasecmp(old, a.addr) != 0)
		r = mailq_enqueue(h->store, txn, &d, NULL, now);
	return r;
}

int selfaddress_confirm(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_address_req *q = &m->address;
	char old[PWR_ADDR_MAX + 1] = "", why[PWR_TEXT_MAX + 1];
	char masked[PWR_ADDR_MAX + 1], *code;
	struct account acct;
	MDB_txn *txn;
	int r = 0, e;
	bool ok = allowed(h, p, q, "address-confirmed", &acct, &r);

	account_clear(&acct);
	if (!ok)
		return r;
	if (!(code = code_new()))
		return change_answer(p, q, "address-confirmed", PWR_E_INTERNAL, "error",
			strerror(ENOMEM), T_FAILED);
	if (code_normalize(q->code, code) < 0) {
		code_free(code);
		return change_answer(p, q, "address-confirmed", PWR_E_BADFORMAT, "fail",
			"malformed", N_("That is not a code."));
	}
	if ((e = store_begin(h->store, true, &txn)) == 0) {
		e = confirm_in(h, txn, &q->who, code, old, why, sizeof(why));
		if (e < 0 && e != -EACCES) {
			store_abort(txn);
		} else {
			/* a wrong code's failure is counted: the transaction is kept */
			int c = store_commit(txn);
			e = c < 0 ? c : e;
		}
	}
	code_free(code);
	if (e == -EACCES)
		return change_answer(p, q, "address-confirmed", PWR_E_BADCODE, "fail", "wrong-code",
			N_("That code is not valid."));
	if (e == 0 && *why)
		return change_answer(
			p, q, "address-confirmed", PWR_E_INVALID, "refused", why, T_UNUSABLE);
	if (e < 0)
		return change_answer(
			p, q, "address-confirmed", PWR_E_INTERNAL, "error", strerror(-e), T_FAILED);
	mailaddr_mask(old, masked, sizeof(masked));
	if (!*old)
		return change_answer(p, q, "address-confirmed", PWR_OK, "ok", NULL,
			N_("The recovery address is registered."));
	return change_answer(p, q, "address-confirmed", PWR_OK, "ok", NULL,
		N_("The recovery address is registered. The previous address (%s) was told."),
		masked);
}

/* Remove the address (and any pending one); tell it. 0, -ENOENT (none), or < 0. */
static int remove_in(struct helper *h, MDB_txn *txn, const struct pwr_who *who, char *old)
{
	uint64_t now = util_now();
	struct mail_draft d = {PWR_MAIL_ADDRESS_REMOVED, who->user, old, who->rhost, who->tty,
		now + h->conf.mail_max_age, 0};
	int r = address_get(h->store, txn, who->user, old);

	if (r == 0)
		r = address_unset(h->store, txn, who->user);
	if (r == 0 && (r = pending_drop(h->store, txn, who->user)) == -ENOENT)
		r = 0;
	if (r == 0)
		r = mailq_enqueue(h->store, txn, &d, NULL, now);
	return r;
}

int selfaddress_remove(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_address_req *q = &m->address;
	char old[PWR_ADDR_MAX + 1], masked[PWR_ADDR_MAX + 1];
	struct account acct;
	MDB_txn *txn;
	int r = 0, e;
	bool ok = allowed(h, p, q, "address-removed", &acct, &r) &&
		  prove(h, p, q, &acct, "address-removed", &r) == 0;

	sodium_memzero(q->password, sizeof(q->password));
	account_clear(&acct);
	if (!ok)
		return r;
	if ((e = store_begin(h->store, true, &txn)) == 0) {
		e = remove_in(h, txn, &q->who, old);
		e = e < 0 ? (store_abort(txn), e) : store_commit(txn);
	}
	if (e == -ENOENT)
		return change_answer(p, q, "address-removed", PWR_E_NOTFOUND, "refused",
			"no-address", N_("No recovery address is set."));
	if (e < 0)
		return change_answer(
			p, q, "address-removed", PWR_E_INTERNAL, "error", strerror(-e), T_FAILED);
	mailaddr_mask(old, masked, sizeof(masked));
	return change_answer(p, q, "address-removed", PWR_OK, "ok", NULL,
		N_("The recovery address %s is removed; it was told."), masked);
}
