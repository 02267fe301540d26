/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "audit.h"
#include "code.h"
#include "config.h"
#include "courier.h"
#include "helper.h"
#include "log.h"
#include "mailproto.h"
#include "mailq.h"
#include "message.h"
#include "secret.h"
#include "unpriv.h"
#include "userlang.h"
#include "util.h"

#define MAILER_IDLE 60 /* s: then the mailer and its SMTP connection are closed */
#define ANSWER_GRACE 15 /* s beyond smtp_timeout before a silent mailer is killed */
#define LEASE_EXTRA 60 /* s beyond smtp_timeout that a claimed mail stays claimed */
#define BACKOFF_FIRST 30
#define BACKOFF_MAX 1800
#define RESCAN_IDLE 30 /* s between looks at a queue with nothing due */

/* One mail at a time: claimed (leased in the store), handed to the mailer, its outcome
 * recorded, then the next. */
struct courier {
	int fd; /* our end of the mailer's socketpair, -1: no mailer */
	pid_t pid;
	pid_t leaving; /* a mailer told to go, not yet reaped */
	uint64_t mailer_used; /* last time the mailer had a job */
	bool awaiting; /* the mail below is with the mailer, no answer yet */
	uint64_t id;
	struct mail_rec rec;
	uint64_t sent_at;
	uint32_t deadline; /* s after sent_at */
	uint64_t next_scan; /* when to look at the queue again */
	bool scanned; /* the queue was looked at once at least */
	bool waiting; /* the last look found mail queued or deferred (due or not) */
};

struct courier *courier_new(void)
{
	struct courier *c = calloc(1, sizeof(*c));

	if (c)
		c->fd = -1;
	return c;
}

/* Reap a mailer that was told to go (its socket closed); it may still be saying QUIT. */
static void reap(struct courier *c)
{
	if (c->leaving > 0 && waitpid(c->leaving, NULL, WNOHANG) != 0)
		c->leaving = 0;
}

/* Close the mailer's socket: it finishes and exits on its own, or at once when killed. */
static void mailer_stop(struct courier *c, bool kill_it)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->pid <= 0)
		return;
	if (kill_it) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
	} else {
		if (c->leaving > 0) { /* one still leaving: do not pile them up */
			kill(c->leaving, SIGKILL);
			waitpid(c->leaving, NULL, 0);
		}
		c->leaving = c->pid;
	}
	c->pid = 0;
}

void courier_free(struct courier *c)
{
	if (!c)
		return;
	mailer_stop(c, false);
	/* let it say QUIT for up to 2 s */
	for (int i = 0; i < 40 && c->leaving > 0; i++) {
		reap(c);
		if (c->leaving > 0)
			usleep(50 * 1000);
	}
	if (c->leaving > 0) {
		kill(c->leaving, SIGKILL);
		waitpid(c->leaving, NULL, 0);
	}
	util_free_wiped(c, sizeof(*c));
}

void courier_forget(struct courier *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd); /* this process's copy only: the mailer goes on for the daemon */
	util_free_wiped(c, sizeof(*c));
}

void courier_wake(struct courier *c)
{
	if (c)
		c->next_scan = 0;
}

int courier_fd(const struct courier *c)
{
	return c && c->awaiting ? c->fd : -1;
}

static int ms_until(uint64_t when, uint64_t now)
{
	if (when <= now)
		return 0;
	return when - now > 3600 ? 3600 * 1000 : (int)(when - now) * 1000;
}

int courier_timeout_ms(const struct courier *c, uint64_t now)
{
	int t = -1, u;

	if (!c)
		return -1;
	if (c->awaiting)
		return ms_until(c->sent_at + c->deadline, now);
	t = ms_until(c->next_scan, now);
	if (c->fd >= 0) {
		u = ms_until(c->mailer_used + MAILER_IDLE, now);
		t = u < t ? u : t;
	}
	return t;
}

bool courier_idle(const struct courier *c)
{
	return !c || (c->scanned && !c->waiting && c->next_scan != 0 && !c->awaiting);
}

bool courier_busy(const struct helper *h, const struct courier *c, uint64_t now)
{
	return c && h->store && h->conf_ok && (c->awaiting || c->next_scan <= now);
}

static void mail_audit(int prio, const char *event, const struct mail_rec *r, const char *result,
	const char *reason)
{
	char why[MAIL_REPLY_MAX + 32];
	struct log_event e = {.event = event, .user = r->user, .by = -1, .result = result};

	snprintf(why, sizeof(why), "%s: %s", wire_mail_kind(r->kind), reason);
	e.reason = why;
	log_event(prio, &e);
}

/* Start pwreset-mailer as mail_user on a fresh socketpair. */
static int mailer_start(struct helper *h, struct courier *c, char *why, size_t whylen)
{
	const struct unpriv_user u = {h->conf.mail_user, "mail_user"};

	return unpriv_start(&u, PWR_MAILER_PATH, "the mailer", &c->fd, &c->pid, why, whylen);
}

/* Build the claimed mail and hand it to the mailer. 0: in flight; < 0: not sent, why in ans. */
static int send_one(struct helper *h, struct courier *c, uint64_t now, struct mailans *ans)
{
	static const uint32_t tls[] = {
		MAILJOB_TLS_REQUIRED, MAILJOB_TLS_OPPORTUNISTIC, MAILJOB_TLS_OFF};
	char *code = NULL, shown[CODE_SHOWN_LEN + 1] = "", from[PWR_ADDR_MAX + 1];
	char why[MAILANS_REPLY_MAX + 1] = "", *msg = NULL, *password = NULL;
	char lang[CATALOG_LANG_MAX + 1] = "";
	struct message_in in = {c->rec.kind, c->rec.user, c->rec.to, c->rec.rhost, NULL,
		c->rec.created, c->rec.code_expires, lang};
	unsigned char *packet = NULL;
	size_t len = 0;
	long n = 0;
	MDB_txn *txn;
	int r;

	/* the account's own language, as it is when the mail goes (SPEC §13); else the
	 * directory's when the mail was queued; none: the host's */
	if (store_begin(h->store, false, &txn) == 0) {
		(void)userlang_get(h->store, txn, c->rec.user, lang);
		store_abort(txn);
	}
	if (!*lang && catalog_lang_ok(c->rec.lang))
		util_copy(lang, sizeof(lang), c->rec.lang);

	if (c->rec.sealed_len) {
		if (!(code = code_new())) {
			r = -ENOMEM;
			snprintf(why, sizeof(why), "out of memory");
			goto done;
		}
		if ((r = mailq_unseal(h->store, &c->rec, code)) < 0) {
			snprintf(why, sizeof(why), "the code in the queue cannot be opened");
			goto done;
		}
		code_format(code, shown);
		in.code = shown;
	}
	if ((r = message_build(&h->conf, &in, &msg, &len, from, sizeof(from), why, sizeof(why))) <
			0 ||
		(*h->conf.smtp_password_file &&
			(r = secret_file_read("smtp_password_file", h->conf.smtp_password_file,
				 MAILJOB_PASSWORD_MAX, &password, why, sizeof(why))) < 0))
		goto done;
	if (c->fd < 0 && (r = mailer_start(h, c, why, sizeof(why))) < 0)
		goto done;
	packet = malloc(MAILJOB_PACKET_MAX);
	if (!packet) {
		r = -ENOMEM;
		snprintf(why, sizeof(why), "out of memory");
		goto done;
	}
	{
		struct mailjob j = {0, tls[h->conf.smtp_starttls], h->conf.smtp_timeout,
			h->conf.smtp_url, h->conf.smtp_user, password ? password : "",
			h->conf.smtp_ca_file, from, c->rec.to, msg, len};
		n = mailproto_job_encode(&j, packet, MAILJOB_PACKET_MAX);
	}
	if (n < 0) {
		r = (int)n;
		snprintf(why, sizeof(why), "the mail cannot be encoded for the mailer");
		goto done;
	}
	if (send(c->fd, packet, (size_t)n, MSG_NOSIGNAL) != n) {
		r = -errno;
		snprintf(why, sizeof(why), "the mailer is gone: %s", strerror(errno));
		mailer_stop(c, true);
		goto done;
	}
	c->awaiting = true;
	c->sent_at = now;
	c->deadline = h->conf.smtp_timeout + ANSWER_GRACE;
	c->mailer_used = now;
	r = 0;
done:
	if (r < 0) {
		ans->outcome = MAIL_TEMPFAIL;
		util_copy(ans->reply, sizeof(ans->reply), why);
		log_msg(LOG_ERR, "mail %llu to %s: %s", (unsigned long long)c->id, c->rec.user,
			why);
	}
	code_free(code);
	sodium_memzero(shown, sizeof(shown));
	util_free_wiped(msg, len);
	util_free_wiped(packet, MAILJOB_PACKET_MAX);
	secret_free(password);
	return r;
}

static uint64_t backoff(uint32_t attempts)
{
	uint64_t s = BACKOFF_FIRST;

	while (attempts-- > 1 && s < BACKOFF_MAX)
		s *= 2;
	return s < BACKOFF_MAX ? s : BACKOFF_MAX;
}

static void forget_code(struct mail_rec *r)
{
	r->sealed_len = 0;
	sodium_memzero(r->nonce, sizeof(r->nonce));
	sodium_memzero(r->sealed, sizeof(r->sealed));
}

/* Write the outcome of the claimed mail, and let it go. */
static void record(struct helper *h, struct courier *c, const struct mailans *ans, uint64_t now)
{
	struct mail_rec r;
	MDB_txn *txn;

	if (store_begin(h->store, true, &txn) < 0)
		goto out;
	if (mailq_get(h->store, txn, c->id, &r) < 0) {
		store_abort(txn);
		goto out;
	}
	r.attempts++;
	r.lease_until = 0;
	util_copy(r.reply, sizeof(r.reply), ans->reply);
	switch (ans->outcome) {
	case MAIL_SENT_OK:
		r.state = PWR_MAIL_SENT;
		r.next_try = now;
		forget_code(&r);
		mail_audit(LOG_NOTICE, "mail-sent", &r, "ok", ans->reply);
		break;
	case MAIL_PERMFAIL:
		r.state = PWR_MAIL_FAILED;
		forget_code(&r);
		mail_audit(LOG_WARNING, "mail-failed", &r, "fail", ans->reply);
		break;
	default:
		r.state = PWR_MAIL_DEFERRED;
		r.next_try = now + backoff(r.attempts);
		mail_audit(LOG_NOTICE, "mail-deferred", &r, "fail", ans->reply);
	}
	if (mailq_put(h->store, txn, c->id, &r) < 0)
		store_abort(txn);
	else
		store_commit(txn);
	sodium_memzero(&r, sizeof(r));
out:
	sodium_memzero(&c->rec, sizeof(c->rec));
	c->id = 0;
	c->awaiting = false;
	c->next_scan = now; /* what is left (retries, new mail) is known at once */
}

/* A mail too old to be of use: failed, with the last reply kept. */
static void give_up(struct mail_rec *r)
{
	char why[MAIL_REPLY_MAX + 1];

	snprintf(why, sizeof(why), "not delivered in time (%u tries)%s%.200s", r->attempts,
		*r->reply ? "; last: " : "", r->reply);
	util_copy(r->reply, sizeof(r->reply), why);
	r->state = PWR_MAIL_FAILED;
	forget_code(r);
	mail_audit(LOG_WARNING, "mail-failed", r, "fail", r->reply);
}

/* Claim the first mail that is due (a lease in the store), failing on the way those too old
 * to be of use: true when one is claimed. When none is, the next look is set for when the
 * first one falls due. */
static bool claim(struct helper *h, struct courier *c, uint64_t now)
{
	uint64_t id = 0, due = now + RESCAN_IDLE;
	struct mail_rec r;
	MDB_txn *txn;
	bool found = false;
	int r_put = 0;

	c->waiting = true; /* until a whole look says otherwise */
	c->next_scan = due;
	if (store_begin(h->store, true, &txn) < 0)
		return false;
	c->waiting = false;
	while (!found && r_put == 0 && mailq_next_due(h->store, txn, id, &id, &r) == 0) {
		c->waiting = true;
		if (now >= r.give_up) {
			give_up(&r);
		} else if (r.next_try > now || r.lease_until > now) {
			uint64_t at = r.next_try > r.lease_until ? r.next_try : r.lease_until;
			due = at < due ? at : due;
			continue;
		} else {
			r.lease_until = now + h->conf.smtp_timeout + LEASE_EXTRA;
			c->id = id;
			c->rec = r;
			found = true;
		}
		r_put = mailq_put(h->store, txn, id, &r);
	}
	sodium_memzero(&r, sizeof(r));
	if (r_put < 0 || store_commit(txn) < 0) {
		if (r_put < 0)
			store_abort(txn);
		sodium_memzero(&c->rec, sizeof(c->rec));
		return false;
	}
	c->next_scan = found ? now : due;
	c->scanned = true;
	return found;
}

/* The mailer's answer to the mail it holds, if it has come: true when it has (or the mailer
 * failed, which defers the mail), with the outcome in ans. */
static bool take_answer(struct courier *c, uint64_t now, struct mailans *ans)
{
	unsigned char buf[MAILANS_PACKET_MAX + 1];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	const char *why;
	char text[96];

	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		if (now < c->sent_at + c->deadline)
			return false;
		snprintf(text, sizeof(text), "the mailer did not answer within %u s; stopped it",
			c->deadline);
		why = text;
	} else if (n > 0 && (size_t)n <= MAILANS_PACKET_MAX &&
		   mailproto_ans_decode(buf, (size_t)n, ans) == 0 && ans->tag == 0) {
		c->mailer_used = now;
		return true;
	} else {
		why = n == 0 ? "the mailer exited (see its log)"
			     : "the mailer's answer is malformed; stopped it";
	}
	memset(ans, 0, sizeof(*ans));
	ans->outcome = MAIL_TEMPFAIL;
	util_copy(ans->reply, sizeof(ans->reply), why);
	mailer_stop(c, true);
	return true;
}

void courier_run(struct helper *h, struct courier *c, uint64_t now)
{
	struct mailans ans;

	if (!c || !h->store || !h->conf_ok)
		return;
	reap(c);
	if (c->awaiting) {
		if (!take_answer(c, now, &ans))
			return; /* the mailer's answer wakes us */
		record(h, c, &ans, now);
	}
	/* a mail that cannot be handed over is recorded at once and the next one tried */
	while (now >= c->next_scan && claim(h, c, now)) {
		memset(&ans, 0, sizeof(ans));
		if (send_one(h, c, now, &ans) == 0)
			return;
		record(h, c, &ans, now);
	}
	if (c->fd >= 0 && now >= c->mailer_used + MAILER_IDLE)
		mailer_stop(c, false);
}
