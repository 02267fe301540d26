/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "code.h"
#include "config.h"
#include "deliver.h"
#include "helper.h"
#include "log.h"
#include "mailproto.h"
#include "mailq.h"
#include "message.h"
#include "util.h"

#define BATCH 64 /* mails claimed, and their outcomes committed, together */
#define WINDOW 16 /* mails handed to the mailer ahead of its answers: it never waits for us */
#define MAILER_IDLE 60 /* s: then the mailer and its SMTP connection are closed */
#define ANSWER_GRACE 15 /* s beyond smtp_timeout before a silent mailer is killed */
#define LEASE_EXTRA 60 /* s beyond smtp_timeout that a claimed mail stays claimed */
#define BACKOFF_FIRST 30
#define BACKOFF_MAX 1800
#define RESCAN_IDLE 30 /* s between looks at a queue with nothing due */

struct item {
	uint64_t id;
	struct mail_rec rec;
	struct mailans ans;
	bool awaiting; /* handed to the mailer, no answer yet */
	uint64_t sent_at;
};

struct courier {
	int fd; /* our end of the mailer's socketpair, -1: no mailer */
	pid_t pid;
	pid_t leaving; /* a mailer told to go, not yet reaped */
	uint64_t mailer_used; /* last time the mailer had a job */
	struct item batch[BATCH];
	size_t n; /* claimed */
	size_t next; /* the next to send */
	unsigned awaiting; /* mails handed to the mailer, not answered yet (at most WINDOW) */
	uint32_t deadline; /* s after an item's sent_at */
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
	sodium_memzero(c, sizeof(*c));
	free(c);
}

bool courier_lease(
	const struct helper *h, const struct courier *c, struct mail_rec *rec, uint64_t now)
{
	if (!c || !h->store || !h->conf_ok || c->n >= BATCH)
		return false;
	rec->lease_until = now + h->conf.smtp_timeout + LEASE_EXTRA;
	return true;
}

void courier_adopt(struct courier *c, uint64_t id, const struct mail_rec *rec)
{
	struct item *it;

	if (!c || c->n >= BATCH)
		return; /* not leased by courier_lease: the lease runs out, then a claim takes it */
	it = &c->batch[c->n++];
	memset(it, 0, sizeof(*it));
	it->id = id;
	it->rec = *rec;
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
	for (size_t i = 0; c->awaiting && i < c->n; i++)
		if (c->batch[i].awaiting)
			return ms_until(c->batch[i].sent_at + c->deadline, now);
	if (c->next < c->n)
		return 0;
	t = ms_until(c->next_scan, now);
	if (c->fd >= 0) {
		u = ms_until(c->mailer_used + MAILER_IDLE, now);
		t = u < t ? u : t;
	}
	return t;
}

bool courier_idle(const struct courier *c)
{
	return !c || (c->scanned && !c->waiting && c->next_scan != 0 && !c->awaiting && c->n == 0);
}

bool courier_busy(const struct helper *h, const struct courier *c, uint64_t now)
{
	return c && h->store && h->conf_ok &&
	       (c->awaiting || c->next < c->n || c->n || c->next_scan <= now);
}

static void mail_audit(int prio, const char *event, const struct mail_rec *r, const char *result,
	const char *reason)
{
	static const char *kinds[] = {"", "code", "admin-reset", "changed"};
	char why[MAIL_REPLY_MAX + 32];
	struct log_event e = {.event = event, .user = r->user, .by = -1, .result = result};

	snprintf(why, sizeof(why), "%s: %s", r->kind < 4 ? kinds[r->kind] : "?", reason);
	e.reason = why;
	log_event(prio, &e);
}

/* Start pwreset-mailer as mail_user: a fresh socketpair end on fd 0, /dev/null on 1 and 2,
 * nothing else open, no supplementary groups, no way back to root, an empty environment. */
static int mailer_start(struct helper *h, struct courier *c, char *why, size_t whylen)
{
	struct passwd pw, *pwr = NULL;
	char pbuf[4096];
	int sv[2];
	pid_t pid, parent;

	if (getpwnam_r(h->conf.mail_user, &pw, pbuf, sizeof(pbuf), &pwr) != 0 || !pwr) {
		snprintf(why, whylen, "mail_user %s does not exist: nothing can be sent",
			h->conf.mail_user);
		return -ENOENT;
	}
	if (pw.pw_uid == 0 || pw.pw_gid == 0) {
		snprintf(why, whylen,
			"mail_user %s is root's uid or gid: refusing to start the mailer",
			h->conf.mail_user);
		return -EPERM;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(why, whylen, "socketpair: %s", strerror(errno));
		return -errno;
	}
	parent = getpid();
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -EAGAIN;
	}
	if (pid == 0) {
		char *const argv[] = {"pwreset-mailer", NULL}, *const envp[] = {NULL};
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null < 0 || dup2(sv[1], 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		close_range(3, ~0U, 0);
		signal(SIGPIPE, SIG_DFL);
		if (setgroups(0, NULL) < 0 || setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) < 0 ||
			setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) < 0 || setuid(0) == 0 ||
			geteuid() == 0 || getegid() == 0)
			_exit(126);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		/* it ends with the helper (set after the uid change, which clears it; the helper
		 * may already be gone) */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
			_exit(126);
		execve(PWR_MAILER_PATH, argv, envp);
		_exit(127);
	}
	close(sv[1]);
	c->fd = sv[0];
	c->pid = pid;
	return 0;
}

/* The SMTP password: the first line of smtp_password_file, a file of root's nobody else can
 * read. In a sodium_malloc'd *out (the caller frees it). */
static int smtp_password(const struct pwr_conf *conf, char **out, char *why, size_t whylen)
{
	char *data = NULL;
	size_t len = 0, total = 0;
	struct stat st;
	int fd, r;

	*out = NULL;
	if (!*conf->smtp_password_file)
		return 0;
	fd = open(conf->smtp_password_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		snprintf(why, whylen, "smtp_password_file %s: %s", conf->smtp_password_file,
			strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077)) {
		close(fd);
		snprintf(why, whylen,
			"smtp_password_file %s must be a file of root's that only "
			"root can read (mode 0600 or 0400)",
			conf->smtp_password_file);
		return -EPERM;
	}
	r = util_read_all(fd, MAILJOB_PASSWORD_MAX, &data, &total);
	close(fd);
	if (r < 0) {
		snprintf(why, whylen, "smtp_password_file %s: %s", conf->smtp_password_file,
			r == -EFBIG ? "longer than 1024 bytes" : strerror(-r));
		return r;
	}
	len = strcspn(data, "\r\n");
	*out = sodium_malloc(len + 1);
	if (*out) {
		memcpy(*out, data, len);
		(*out)[len] = '\0';
	}
	sodium_memzero(data, total);
	free(data);
	return *out ? 0 : -ENOMEM;
}

/* The mailer failed us: every mail it holds is deferred with why, and it is stopped. */
static void give_up_awaiting(struct courier *c, const char *why)
{
	for (size_t i = 0; i < c->n; i++) {
		struct item *it = &c->batch[i];
		if (!it->awaiting)
			continue;
		it->awaiting = false;
		it->ans.outcome = MAIL_TEMPFAIL;
		it->ans.smtp_code = 0;
		util_copy(it->ans.reply, sizeof(it->ans.reply), why);
	}
	c->awaiting = 0;
	mailer_stop(c, true);
}

/* Build mail i and hand it to the mailer. 0: in flight; < 0: its outcome is already set. */
static int send_one(struct helper *h, struct courier *c, size_t i, uint64_t now)
{
	static const uint32_t tls[] = {
		MAILJOB_TLS_REQUIRED, MAILJOB_TLS_OPPORTUNISTIC, MAILJOB_TLS_OFF};
	struct item *it = &c->batch[i];
	char code[CODE_LEN + 1] = "", shown[CODE_SHOWN_LEN + 1] = "", from[PWR_ADDR_MAX + 1];
	char why[MAILANS_REPLY_MAX + 1] = "", *msg = NULL, *password = NULL;
	struct message_in in = {it->rec.kind, it->rec.user, it->rec.to, it->rec.rhost, NULL,
		it->rec.created, it->rec.code_expires};
	unsigned char *packet = NULL;
	size_t len = 0;
	long n = 0;
	int r;

	if (it->rec.sealed_len) {
		if ((r = mailq_unseal(h->store, &it->rec, code)) < 0) {
			snprintf(why, sizeof(why), "the code in the queue cannot be opened");
			goto done;
		}
		code_format(code, shown);
		in.code = shown;
	}
	if ((r = message_build(&h->conf, &in, &msg, &len, from, sizeof(from), why, sizeof(why))) <
			0 ||
		(r = smtp_password(&h->conf, &password, why, sizeof(why))) < 0)
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
		struct mailjob j = {(uint32_t)i, tls[h->conf.smtp_starttls], h->conf.smtp_timeout,
			h->conf.smtp_url, h->conf.smtp_user, password ? password : "",
			h->conf.smtp_ca_file, from, it->rec.to, msg, len};
		n = mailjob_encode(&j, packet, MAILJOB_PACKET_MAX);
	}
	if (n < 0) {
		r = (int)n;
		snprintf(why, sizeof(why), "the mail cannot be encoded for the mailer");
		goto done;
	}
	if (send(c->fd, packet, (size_t)n, MSG_NOSIGNAL) != n) {
		r = -errno;
		snprintf(why, sizeof(why), "the mailer is gone: %s", strerror(errno));
		give_up_awaiting(c, why);
		goto done;
	}
	it->awaiting = true;
	it->sent_at = now;
	c->awaiting++;
	c->deadline = h->conf.smtp_timeout + ANSWER_GRACE;
	c->mailer_used = now;
	r = 0;
done:
	if (r < 0) {
		it->ans.outcome = MAIL_TEMPFAIL;
		util_copy(it->ans.reply, sizeof(it->ans.reply), why);
		log_msg(LOG_ERR, "mail %llu to %s: %s", (unsigned long long)it->id, it->rec.user,
			why);
	}
	sodium_memzero(code, sizeof(code));
	sodium_memzero(shown, sizeof(shown));
	if (msg) {
		sodium_memzero(msg, len);
		free(msg);
	}
	if (packet) {
		sodium_memzero(packet, MAILJOB_PACKET_MAX);
		free(packet);
	}
	sodium_free(password);
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

/* Write the outcomes of the batch in one transaction. */
static void record(struct helper *h, struct courier *c, uint64_t now)
{
	MDB_txn *txn;

	if (store_begin(h->store, true, &txn) < 0)
		goto out;
	for (size_t i = 0; i < c->n; i++) {
		struct item *it = &c->batch[i];
		struct mail_rec r;

		if (mailq_get(h->store, txn, it->id, &r) < 0)
			continue;
		r.attempts++;
		r.lease_until = 0;
		util_copy(r.reply, sizeof(r.reply), it->ans.reply);
		switch (it->ans.outcome) {
		case MAIL_SENT_OK:
			r.state = MAIL_SENT;
			r.next_try = now;
			forget_code(&r);
			mail_audit(LOG_NOTICE, "mail-sent", &r, "ok", it->ans.reply);
			break;
		case MAIL_PERMFAIL:
			r.state = MAIL_FAILED;
			forget_code(&r);
			mail_audit(LOG_WARNING, "mail-failed", &r, "fail", it->ans.reply);
			break;
		default:
			r.state = MAIL_DEFERRED;
			r.next_try = now + backoff(r.attempts);
			mail_audit(LOG_NOTICE, "mail-deferred", &r, "fail", it->ans.reply);
		}
		if (mailq_put(h->store, txn, it->id, &r) < 0) {
			store_abort(txn);
			goto out;
		}
		sodium_memzero(&r, sizeof(r));
	}
	store_commit(txn);
out:
	sodium_memzero(c->batch, sizeof(c->batch));
	c->n = c->next = 0;
}

/* Claim up to BATCH mails that are due; fail those too old to be of use. */
static void claim(struct helper *h, struct courier *c, uint64_t now)
{
	uint64_t id = 0, due = now + RESCAN_IDLE, lease = h->conf.smtp_timeout + LEASE_EXTRA;
	struct mail_rec r;
	MDB_txn *txn;
	int failed = 0;

	c->n = c->next = 0;
	c->waiting = true; /* until a whole look says otherwise */
	if (store_begin(h->store, true, &txn) < 0) {
		c->next_scan = due;
		return;
	}
	c->waiting = false;
	while (c->n < BATCH && mailq_next_due(h->store, txn, id, &id, &r) == 0) {
		if (r.state != MAIL_QUEUED && r.state != MAIL_DEFERRED)
			continue;
		c->waiting = true;
		if (now >= r.give_up) {
			char why[MAIL_REPLY_MAX + 1];
			snprintf(why, sizeof(why), "not delivered in time (%u tries)%s%.200s",
				r.attempts, *r.reply ? "; last: " : "", r.reply);
			util_copy(r.reply, sizeof(r.reply), why);
			r.state = MAIL_FAILED;
			forget_code(&r);
			mail_audit(LOG_WARNING, "mail-failed", &r, "fail", r.reply);
			failed++;
		} else if (r.next_try > now || r.lease_until > now) {
			uint64_t at = r.next_try > r.lease_until ? r.next_try : r.lease_until;
			due = at < due ? at : due;
			continue;
		} else {
			r.lease_until = now + lease;
			c->batch[c->n].id = id;
			c->batch[c->n].rec = r;
			c->n++;
		}
		if (mailq_put(h->store, txn, id, &r) < 0) {
			store_abort(txn);
			c->n = 0;
			c->next_scan = now + RESCAN_IDLE;
			return;
		}
	}
	sodium_memzero(&r, sizeof(r));
	if (store_commit(txn) < 0) {
		sodium_memzero(c->batch, sizeof(c->batch));
		c->n = 0;
		c->next_scan = now + RESCAN_IDLE;
		return;
	}
	/* a full batch may have left more behind: look again as soon as it is done */
	c->next_scan = c->n == BATCH ? now : due;
	c->scanned = true;
	if (failed)
		log_msg(LOG_WARNING, "%d mail(s) given up: not delivered in time", failed);
}

/* The answers the mailer has sent; each names its mail by the tag it was given (its index in
 * the batch), in whatever order the mailer finished them. */
static void take_answers(struct courier *c, uint64_t now)
{
	while (c->awaiting) {
		unsigned char buf[MAILANS_PACKET_MAX + 1];
		struct mailans a;
		struct item *oldest = NULL;
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			for (size_t i = 0; i < c->n; i++)
				if (c->batch[i].awaiting &&
					(!oldest || c->batch[i].sent_at < oldest->sent_at))
					oldest = &c->batch[i];
			if (oldest && now >= oldest->sent_at + c->deadline) {
				char why[96];
				snprintf(why, sizeof(why),
					"the mailer did not answer within %u s; stopped it",
					c->deadline);
				give_up_awaiting(c, why);
			}
			return;
		}
		if (n <= 0 || (size_t)n > MAILANS_PACKET_MAX ||
			mailans_decode(buf, (size_t)n, &a) < 0 || a.tag >= c->n ||
			!c->batch[a.tag].awaiting) {
			give_up_awaiting(
				c, n == 0 ? "the mailer exited (see its log)"
					  : "the mailer's answer is malformed; stopped it");
			return;
		}
		c->batch[a.tag].ans = a;
		c->batch[a.tag].awaiting = false;
		c->awaiting--;
		c->mailer_used = now;
	}
}

void courier_run(struct helper *h, struct courier *c, uint64_t now)
{
	if (!c || !h->store || !h->conf_ok)
		return;
	reap(c);
	take_answers(c, now);
	for (;;) {
		while (c->next < c->n && c->awaiting < WINDOW)
			send_one(h, c, c->next++, now);
		if (c->awaiting)
			return; /* the mailer's answers wake us */
		if (c->n) {
			record(h, c, now);
			c->next_scan = now; /* what is left (retries, new mail) is known at once */
			continue;
		}
		if (now < c->next_scan)
			break;
		claim(h, c, now);
		if (!c->n)
			break;
	}
	if (c->fd >= 0 && now >= c->mailer_used + MAILER_IDLE)
		mailer_stop(c, false);
}
