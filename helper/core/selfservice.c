/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Self-service: offer, request a code, verify it, set the new password (SPEC §4, §5).
 * MUST: the answer to a request is the same for every user and is sent before any work that
 * depends on the user (lookups, the store, the queue), so neither its content nor its timing
 * tells anything. The password is checked and written only on a connection that has shown a
 * valid code for that user, and only if that code is still the user's and bound to the entry
 * as it is when the new password is written.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "account.h"
#include "address.h"
#include "answer.h"
#include "audit.h"
#include "code.h"
#include "eligible.h"
#include "log.h"
#include "mailq.h"
#include "language.h"
#include "password.h"
#include "rate.h"
#include "ready.h"
#include "selfservice.h"
#include "util.h"

#define HOUR 3600u

int selfservice_offer(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_offer_ans a = {.status = PWR_OK, .code_ttl = h->conf.code_ttl};
	char why[PWR_TEXT_MAX + 1];

	language_host(&h->conf, a.language, sizeof(a.language));

	/* nothing is offered that could not end in a new password */
	if (!ready_why(h, why, sizeof(why))) {
		a.status = PWR_E_UNAVAILABLE;
		audit(LOG_ERR, "offer", p, m->who.user, &m->who, "refused", REASON_UNREADY);
		return answer_send(p, PWR_ANS_OFFER, &a);
	}
	/* the same for every account: with self-service off, whether an administrator's code is
	 * pending must not show (the module then asks everyone for such a code) */
	a.enabled = h->conf.self_reset;
	util_copy(a.help, sizeof(a.help), h->conf.help_message);
	audit(LOG_INFO, "offer", p, m->who.user, &m->who, a.enabled ? "ok" : "refused",
		a.enabled ? NULL : "disabled");
	return answer_send(p, PWR_ANS_OFFER, &a);
}

/* The rate bucket of where a request comes from. A root peer (login, sshd) is believed about
 * the remote host ("local" when there is none): an IPv6 address counts by its /64 (one host's
 * share of a network), an IPv4-mapped one as the IPv4 address, anything else as it is said;
 * any other peer is counted by its uid, which the kernel told us: what it says of a remote host
 * is not believed (route_dispatch() clears it).
 * MUST: the store is never filled by hosts: a host without a bucket of its own gets one only
 * while the store holds fewer than RHOST_NEW_BELOW buckets and is less than three quarters
 * full; past that, new hosts share RHOST_OVERFLOW, and codes keep the room. */
#define RHOST_NEW_BELOW 20000
#define RHOST_OVERFLOW "r:*"
static int origin_bucket(struct helper *h, MDB_txn *txn, const struct peer *p,
	const struct pwr_who *who, char *out, size_t len)
{
	const char *host = *who->rhost ? who->rhost : "local";
	char ip[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	long n;
	int r;

	if (p->uid != 0) {
		snprintf(out, len, "p:%lu", (unsigned long)p->uid);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_V4MAPPED(&a6) &&
		inet_ntop(AF_INET, a6.s6_addr + 12, ip, sizeof(ip))) {
		snprintf(out, len, "r:%s", ip);
	} else if (inet_pton(AF_INET6, host, &a6) == 1) {
		memset(a6.s6_addr + 8, 0, 8);
		snprintf(out, len, "r:%s/64", inet_ntop(AF_INET6, &a6, ip, sizeof(ip)) ? ip : "?");
	} else {
		snprintf(out, len, "r:%.*s", PWR_RHOST_MAX, host);
	}
	if ((r = rate_exists(h->store, txn, out)) != 0)
		return r < 0 ? r : 0;
	if ((n = rate_count(h->store, txn)) < 0)
		return (int)n;
	if (n >= RHOST_NEW_BELOW || store_used(h->store) >= STORE_MAP_SIZE / 4 * 3) {
		static bool said; /* once a process: a flood of hosts does not flood the log */
		if (!said)
			log_msg(LOG_WARNING,
				"requests from new hosts now share one window (%ld buckets, %zu bytes "
				"of the store used)",
				n, store_used(h->store));
		said = true;
		snprintf(out, len, "%s", RHOST_OVERFLOW);
	}
	return 0;
}

struct request {
	struct helper *h;
	const struct peer *p;
	const struct pwr_who *who;
	MDB_txn *txn;
	uint64_t now;
	struct elig_facts f;
	struct account acct;
	char reasons[PWR_TEXT_MAX + 1];
};

/* Count one event in bucket: 0, with *why set to refusal when the window is full; or < 0
 * when the store failed. */
static int take(struct request *q, const char *bucket, uint32_t limit, uint32_t window,
	const char *refusal, const char **why)
{
	bool ok;
	int r = rate_take(q->h->store, q->txn, bucket, limit, window, q->now, &ok);

	if (r == 0 && !ok)
		*why = refusal;
	return r;
}

/* The checks of a request in order, each window counting as it is passed: 0, and a code may be
 * sent unless *why says why not; or < 0. */
static int request_checks(struct request *q, const char **why)
{
	struct pwr_conf *c = &q->h->conf;
	char bucket[RATE_BUCKET_MAX + 1];
	struct code_rec rec;
	int r;

	if ((r = eligible_store(c, q->h->store, q->txn, q->who->user, &q->f)) < 0)
		return r;
	/* a window per account that exists: names that are none leave nothing in the store */
	if (q->f.exists) {
		snprintf(bucket, sizeof(bucket), "u:%.*s", PWR_USER_MAX, q->who->user);
		r = take(q, bucket, c->user_requests_per_hour, HOUR, "rate-limit-user", why);
		if (r < 0 || *why)
			return r;
	}
	if (eligible_reasons(&q->f, q->reasons, sizeof(q->reasons)) > 0) {
		*why = q->reasons;
		return 0;
	}
	r = code_get(q->h->store, q->txn, q->who->user, q->now, &rec) == 0 &&
	    rec.kind == PWR_KIND_ADMIN;
	sodium_memzero(&rec, sizeof(rec));
	if (r) {
		*why = "admin-code-pending";
		return 0;
	}
	return take(q, "h:mail", c->mails_per_minute, 60, "rate-limit-host", why);
}

/* Issue a code bound to the account as it is and queue the mail that carries it. */
static int request_issue(struct request *q)
{
	struct pwr_conf *c = &q->h->conf;
	struct mail_draft d = {PWR_MAIL_CODE, q->who->user, q->f.address, q->who->rhost,
		q->who->tty, q->now + c->code_ttl, q->now + c->code_ttl, q->acct.language};
	unsigned char fp[CODE_FP_BYTES];
	char *code = code_new();
	int r;

	if (!code)
		return -ENOMEM;
	code_generate(code);
	code_fingerprint(q->h->store, q->acct.binding, fp);
	r = code_issue(q->h->store, q->txn, q->who->user, code, PWR_KIND_SELF, q->now, c->code_ttl,
		c->code_attempts, fp);
	if (r == 0)
		r = mailq_enqueue(q->h->store, q->txn, &d, code, q->now);
	code_free(code);
	return r;
}

/* After the answer: decide whether a code is sent. Everything here is logged, nothing shown. */
static void request_work(struct helper *h, struct peer *p, const struct pwr_who *who)
{
	struct request q = {.h = h, .p = p, .who = who, .now = util_now()};
	char bucket[RATE_BUCKET_MAX + 1];
	const char *why = NULL;
	int r;

	if (!ready_why(h, q.reasons, sizeof(q.reasons))) {
		audit(LOG_NOTICE, "request", p, who->user, who, "refused", REASON_UNREADY);
		return;
	}
	/* the window of where it comes from before anything slow: a flood is refused before it
	 * costs a directory call, and no write waits behind one */
	if ((r = store_begin(h->store, true, &q.txn)) < 0)
		goto out;
	if ((r = origin_bucket(h, q.txn, p, who, bucket, sizeof(bucket))) == 0)
		r = take(&q, bucket, h->conf.rhost_requests_per_hour, HOUR, "rate-limit-rhost",
			&why);
	r = r < 0 ? (store_abort(q.txn), r) : store_commit(q.txn);
	if (r < 0 || why)
		goto out;
	/* then the account databases (the directory may take its time), then the store */
	if ((r = account_lookup(&h->accounts, who->user, &q.acct)) == 0) {
		p->about_directory = q.acct.directory;
		eligible_account(&h->accounts, &h->conf, &q.acct, q.now, &q.f);
		r = eligible_directory_sharers(&h->accounts, &q.acct, &q.f);
	}
	if (r < 0 || (r = store_begin(h->store, true, &q.txn)) < 0)
		goto out;
	r = request_checks(&q, &why);
	if (r == 0 && !why)
		r = request_issue(&q);
	/* a refusal still counts in the windows it passed */
	if (r >= 0)
		r = store_commit(q.txn);
	else
		store_abort(q.txn);
out:
	if (r < 0)
		audit(LOG_ERR, "request", p, who->user, who, "error", strerror(-r));
	else if (why)
		audit(LOG_NOTICE, "request", p, who->user, who, "refused", why);
	else
		audit(LOG_NOTICE, "request", p, who->user, who, "ok", "code-queued");
	account_clear(&q.acct);
	sodium_memzero(&q, sizeof(q));
}

int selfservice_request(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_request_ans a = {.status = PWR_OK, .code_ttl = h->conf.code_ttl};
	int r = answer_send(p, PWR_ANS_REQUEST, &a);

	request_work(h, p, &m->who);
	return r;
}

/* The code's first check, before anything slow: whether code is the user's live code (a wrong
 * one is counted against it). 0 with the code's hash in hash, -EACCES, or another < 0. No
 * account is looked up: a name with no code pending costs no directory call. */
static int verify_code(struct helper *h, const struct pwr_who *who, const char *code,
	unsigned char hash[CODE_HASH_BYTES])
{
	uint64_t now = util_now();
	struct code_rec rec;
	MDB_txn *txn;
	int r;

	if ((r = store_begin(h->store, true, &txn)) < 0)
		return r;
	r = code_verify(h->store, txn, who->user, code, now, NULL);
	if (r == 0 && code_get(h->store, txn, who->user, now, &rec) < 0)
		r = -EACCES;
	if (r == 0)
		memcpy(hash, rec.hash, CODE_HASH_BYTES);
	sodium_memzero(&rec, sizeof(rec));
	if (r < 0 && r != -EACCES) {
		store_abort(txn);
		return r;
	}
	return store_commit(txn) < 0 ? -EIO : r; /* the commit's failure is logged */
}

/* Then against the account as it is now (fp): still the same code, issued for this entry, and
 * let through by the policy. 0 valid (the connection remembers which code), -EACCES with the
 * reason in *why, or another < 0. */
static int verify_binding(struct helper *h, struct peer *p, const struct pwr_who *who,
	const unsigned char *hash, const unsigned char *fp, const char **why)
{
	struct code_rec rec;
	MDB_txn *txn;
	int r;

	if ((r = store_begin(h->store, false, &txn)) < 0)
		return r;
	r = code_get(h->store, txn, who->user, util_now(), &rec) < 0 ? -EACCES : 0;
	store_abort(txn);
	if (r == 0 && (sodium_memcmp(rec.hash, hash, CODE_HASH_BYTES) != 0 ||
			      sodium_memcmp(rec.shadow_fp, fp, CODE_FP_BYTES) != 0))
		r = -EACCES; /* replaced meanwhile, or the entry changed since it was issued */
	/* with self-service off, only an administrator's code opens the way */
	if (r == 0 && !h->conf.self_reset && rec.kind != PWR_KIND_ADMIN) {
		r = -EACCES;
		*why = "disabled";
	}
	if (r == 0) {
		p->verified = true;
		util_copy(p->verified_user, sizeof(p->verified_user), who->user);
		memcpy(p->verified_hash, rec.hash, sizeof(p->verified_hash));
	}
	sodium_memzero(&rec, sizeof(rec));
	return r;
}

int selfservice_verify(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_verify_ans a = {.status = PWR_E_BADCODE};
	struct pwr_who *who = &m->verify.who;
	struct account acct;
	char *code = code_new();
	unsigned char fp[CODE_FP_BYTES], hash[CODE_HASH_BYTES];
	const char *why = "wrong-code";
	int r = -ENOMEM;

	p->verified = false;
	if (!code)
		goto fail;
	if (code_normalize(m->verify.code, code) < 0) {
		code_free(code);
		a.status = PWR_E_BADFORMAT;
		audit(LOG_NOTICE, "verify", p, who->user, who, "fail", "malformed");
		return answer_send(p, PWR_ANS_VERIFY, &a);
	}
	r = verify_code(h, who, code, hash);
	if (r == 0) {
		/* the right code: is it still bound to the account as it is? */
		if ((r = account_lookup(&h->accounts, who->user, &acct)) < 0)
			goto fail;
		p->about_directory = acct.directory;
		code_fingerprint(h->store, acct.binding, fp);
		account_clear(&acct);
		r = verify_binding(h, p, who, hash, fp, &why);
	}
	if (r < 0 && r != -EACCES)
		goto fail;
	a.status = r == 0 ? PWR_OK : PWR_E_BADCODE;
	audit(LOG_NOTICE, "verify", p, who->user, who, a.status == PWR_OK ? "ok" : "fail",
		a.status == PWR_OK ? NULL : why);
	goto out;
fail:
	p->verified = false;
	a.status = PWR_E_INTERNAL;
	audit(LOG_ERR, "verify", p, who->user, who, "error", strerror(-r));
out:
	sodium_memzero(hash, sizeof(hash));
	code_free(code);
	return answer_send(p, PWR_ANS_VERIFY, &a);
}

struct setpw_guard {
	struct helper *h;
	struct peer *p;
};

/* Under the account's lock: the code this connection showed must still be the user's, alive,
 * and issued for exactly the entry as it is. */
static int code_still_valid(void *ctx, const char *before, const char *after)
{
	struct helper *h = ((struct setpw_guard *)ctx)->h;
	struct peer *p = ((struct setpw_guard *)ctx)->p;
	unsigned char fp[CODE_FP_BYTES];
	struct code_rec rec;
	MDB_txn *txn;
	int r;

	(void)after;
	code_fingerprint(h->store, before, fp);
	if ((r = store_begin(h->store, false, &txn)) < 0)
		return r;
	r = code_get(h->store, txn, p->verified_user, util_now(), &rec);
	store_abort(txn);
	if (r == 0 && (sodium_memcmp(rec.hash, p->verified_hash, sizeof(rec.hash)) != 0 ||
			      sodium_memcmp(rec.shadow_fp, fp, sizeof(fp)) != 0))
		r = -ENOENT;
	sodium_memzero(&rec, sizeof(rec));
	return r < 0 ? -EACCES : 0;
}

/* After a password change: the code is spent, the lockout cleared, caches told, the owner
 * notified. */
static void setpw_after(
	struct helper *h, struct peer *p, const struct pwr_who *who, const struct account *acct)
{
	char addr[PWR_ADDR_MAX + 1];
	uint64_t now = util_now();
	struct mail_draft d = {PWR_MAIL_CHANGED, who->user, addr, who->rhost, who->tty,
		now + h->conf.mail_max_age, 0, acct->language};
	const struct account_db *db = &h->accounts;
	bool notify = h->conf.notify_on_change && address_of(h->store, acct, addr) == 0;
	MDB_txn *txn;
	int r;

	if ((r = store_begin(h->store, true, &txn)) == 0) {
		code_revoke(h->store, txn, who->user);
		if (notify)
			r = mailq_enqueue(h->store, txn, &d, NULL, now);
		r = r < 0 ? (store_abort(txn), r) : store_commit(txn);
	}
	if (r < 0)
		audit(LOG_ERR, "password-changed", p, who->user, who, "error", "code-not-consumed");
	if ((r = account_clear_lockout(db, acct)) < 0)
		audit(LOG_WARNING, "faillock-reset", p, who->user, who, "error", strerror(-r));
	account_flush(db);
}

/* Check pw against the quality rules (*refused, and why in text, when it fails them) and, for a
 * local account, hash it into hash: 0, or < 0. A directory hashes the password itself (SPEC
 * §12) and then applies its own policy too. */
static int setpw_prepare(struct helper *h, const struct account *acct, const char *pw, char *hash,
	bool *refused, char *text, size_t len)
{
	int r;

	*refused = false;
	if (!acct->local && !acct->directory)
		return acct->unreachable ? -EHOSTUNREACH : -ENOENT;
	if ((r = password_check(&h->conf, language_words(&h->conf, &h->words), acct->name, pw,
		     acct->hash, refused, text, len)) < 0 ||
		*refused)
		return r;
	return acct->local ? password_hash(&h->conf, pw, hash) : 0;
}

int selfservice_set_password(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_set_password_ans a = {.status = PWR_E_INTERNAL};
	struct pwr_who *who = &m->set_password.who;
	size_t len = strlen(m->set_password.password);
	char *pw = sodium_malloc(len + 1), *hash = sodium_malloc(PASSWORD_HASH_MAX);
	struct new_password *np = sodium_malloc(sizeof(*np));
	struct setpw_guard guard = {h, p};
	struct account acct = {0};
	char why[ACCOUNT_WHY_MAX] = "";
	bool refused;
	int r = -ENOMEM;

	if (pw)
		memcpy(pw, m->set_password.password, len + 1);
	sodium_memzero(m->set_password.password, sizeof(m->set_password.password));
	if (!pw || !hash || !np)
		goto fail;
	if (!ready_why(h, why, sizeof(why))) {
		/* the code stays valid: the person may come back once the host is mended */
		a.status = PWR_E_UNAVAILABLE;
		audit(LOG_ERR, "set-password", p, who->user, who, "refused", REASON_UNREADY);
		goto out;
	}
	*why = '\0';
	if ((r = account_lookup(&h->accounts, who->user, &acct)) < 0)
		goto fail;
	p->about_directory = acct.directory;
	r = setpw_prepare(h, &acct, pw, hash, &refused, a.text, sizeof(a.text));
	if (r < 0)
		goto fail;
	if (refused) {
		a.status = PWR_E_QUALITY;
		audit(LOG_NOTICE, "set-password", p, who->user, who, "refused", "quality");
		goto out;
	}
	*np = (struct new_password){.hash = hash, .clear = pw};
	r = h->accounts.ops->set_password(&h->accounts, &acct, np, code_still_valid, &guard, why);
	if (r == 0 && np->refused) {
		a.status = PWR_E_QUALITY; /* the directory's policy, in its words or ours */
		password_directory_refusal(
			language_words(&h->conf, &h->words), np->why, a.text, sizeof(a.text));
		audit(LOG_NOTICE, "set-password", p, who->user, who, "refused", "directory-policy");
		goto out;
	}
	if (r == -EBUSY || r == -ETIMEDOUT) {
		/* another program held the lock all the while: nothing written, nothing spent */
		a.status = PWR_E_BUSY;
		audit(LOG_WARNING, "set-password", p, who->user, who, "refused", "lock-busy");
		goto out;
	}
	if (r == -EACCES) {
		/* the code was replaced, revoked, expired, or the entry changed meanwhile */
		p->verified = false;
		a.status = PWR_E_BADCODE;
		audit(LOG_NOTICE, "set-password", p, who->user, who, "refused",
			"code-no-longer-valid");
		goto out;
	}
	if (r < 0)
		goto fail;
	p->verified = false;
	setpw_after(h, p, who, &acct);
	a.status = PWR_OK;
	audit(LOG_NOTICE, "password-changed", p, who->user, who, "ok", "self-service");
	goto out;
fail:
	audit(LOG_ERR, "set-password", p, who->user, who, "error", *why ? why : strerror(-r));
	util_copy(a.text, sizeof(a.text), "the password could not be set; see the helper's log");
out:
	account_clear(&acct);
	sodium_free(pw);
	sodium_free(hash);
	sodium_free(np);
	return answer_send(p, PWR_ANS_SET_PASSWORD, &a);
}
