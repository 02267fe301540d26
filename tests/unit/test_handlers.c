/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The request handler without root: every request of the route table, through route_dispatch(), as
 * the daemon and the one-shot helper call it, against a temporary store, a temporary shadow
 * file and a socketpair peer. The peer's credentials are what the kernel would have said
 * (struct peer), so a test speaks as root or as another uid without being either. Accounts are
 * the host's own system accounts (daemon, bin, sys, games), which every Debian has, with their
 * shadow lines in the temporary file; min_uid = 1 makes them ordinary here. No mail goes out:
 * the test reads the queue.
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "address.h"
#include "code.h"
#include "helper.h"
#include "log.h"
#include "mailq.h"
#include "route.h"
#include "storefill.h"

#define OLD_PASSWORD "an old pass phrase 1"
#define NEW_PASSWORD "Tulip-Gravel-Orbit-93"

struct fx {
	char dir[64], path[3][128]; /* the directory; its shadow file, faillock.conf, log */
	struct helper h;
	struct peer p;
	int far; /* the test's end of the peer's socketpair */
	int saved_stderr;
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The text of a whole file, malloc'd. */
static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static const char *const users[] = {"daemon", "bin", "sys", "games"};

static int setup(void **state)
{
	static const char conf_fmt[] = "state_dir = %s/state\n"
				       "min_uid = 1\n"
				       "smtp_url = smtp://127.0.0.1:25\n"
				       "mail_from = reset@example.org\n"
				       "help_message = Ask the desk.\n";
	struct fx *f = calloc(1, sizeof(*f));
	char text[4096], line[256], *hash;
	size_t pos = 0;
	int sv[2];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/pwr-handlers-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path[0], sizeof(f->path[0]), "%s/shadow", f->dir);
	snprintf(f->path[1], sizeof(f->path[1]), "%s/faillock.conf", f->dir);
	snprintf(f->path[2], sizeof(f->path[2]), "%s/log", f->dir);
	hash = crypt(OLD_PASSWORD, "$6$handlers$");
	assert_non_null(hash);
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		pos += (size_t)snprintf(text + pos, sizeof(text) - pos,
			"%s:%s:19000:0:99999:7:::\n", users[i], hash);
	write_file(f->path[0], text);
	snprintf(line, sizeof(line), "dir = %s/faillock\n", f->dir);
	write_file(f->path[1], line);

	/* the audit lines, read back by the tests */
	fflush(stderr);
	f->saved_stderr = dup(2);
	assert_int_equal(dup2(open(f->path[2], O_WRONLY | O_CREAT | O_APPEND, 0600), 2), 2);
	log_init("test-handlers", 1);

	assert_int_equal(conf_init(&f->h.conf), 0);
	snprintf(text, sizeof(text), conf_fmt, f->dir);
	assert_int_equal(conf_parse(&f->h.conf, "test", text, strlen(text), NULL, NULL), 0);
	f->h.conf_ok = true;
	f->h.mail_kick = -1;
	assert_int_equal(store_open(f->h.conf.state_dir, 0, store_fills, &f->h.store), 0);
	account_db_local(&f->h.accounts, f->path[0], "/etc/passwd", f->path[1]);

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){.tv_sec = 10},
		sizeof(struct timeval));
	f->p = (struct peer){.fd = sv[0], .uid = 0, .pid = getpid()};
	f->far = sv[1];
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	store_close(f->h.store);
	conf_free(&f->h.conf);
	close(f->p.fd);
	close(f->far);
	fflush(stderr);
	dup2(f->saved_stderr, 2);
	close(f->saved_stderr);
	/* what was said besides the audit lines (a failed assertion among them) is shown */
	{
		char *text = read_text(f->path[2]), *save = NULL;
		for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			if (strncmp(l, "event=", 6) != 0)
				fprintf(stderr, "%s\n", l);
		free(text);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Send op with m as the peer f->p; what route_dispatch() returned. */
static int ask(struct fx *f, uint16_t op, union pwr_msg *m)
{
	return route_dispatch(&f->h, &f->p, op, m);
}

/* The next answer on the test's end. */
static uint16_t answer(struct fx *f, union pwr_msg *m)
{
	uint16_t op = 0;

	memset(m, 0, sizeof(*m));
	assert_int_equal(wire_recv(f->far, &op, m), 0);
	return op;
}

/* Whether nothing more was answered. */
static bool no_answer(struct fx *f)
{
	char b;
	return recv(f->far, &b, 1, MSG_DONTWAIT) < 0;
}

static void expect_error(struct fx *f, uint32_t status, const char *text_part)
{
	union pwr_msg m;

	assert_int_equal(answer(f, &m), PWR_ANS_ERROR);
	assert_int_equal(m.error.status, status);
	if (text_part && !strstr(m.error.text, text_part))
		fail_msg("error text '%s' lacks '%s'", m.error.text, text_part);
}

static void expect_done(struct fx *f, uint32_t count)
{
	union pwr_msg m;

	assert_int_equal(answer(f, &m), PWR_ANS_DONE);
	assert_int_equal(m.done.status, PWR_OK);
	assert_int_equal(m.done.count, count);
}

/* Whether the audit log holds a line with every one of the words. */
static bool logged(struct fx *f, const char *a, const char *b, const char *c)
{
	char *text, *line, *save = NULL;
	bool found = false;

	fflush(stderr);
	text = read_text(f->path[2]);
	for (line = strtok_r(text, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save))
		found = strstr(line, a) && (!b || strstr(line, b)) && (!c || strstr(line, c));
	free(text);
	return found;
}

static void set_address(struct fx *f, const char *user, const char *addr)
{
	union pwr_msg m = {0};

	snprintf(m.email_set.user, sizeof(m.email_set.user), "%s", user);
	snprintf(m.email_set.addr, sizeof(m.email_set.addr), "%s", addr);
	assert_int_equal(ask(f, PWR_REQ_EMAIL_SET, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ANS_EMAIL_SET);
	assert_int_equal(m.email_set_ans.status, PWR_OK);
}

static void who(union pwr_msg *m, const char *user)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->who.user, sizeof(m->who.user), "%s", user);
	snprintf(m->who.rhost, sizeof(m->who.rhost), "192.0.2.7");
	snprintf(m->who.service, sizeof(m->who.service), "sshd");
}

/* The mails in the queue, in order: how many; the last one in *last, its code (if any) in
 * code. */
static int queued(struct fx *f, struct mail_rec *last, char code[CODE_LEN + 1])
{
	uint64_t id = 0;
	struct mail_rec rec;
	MDB_txn *txn;
	int n = 0;

	assert_int_equal(store_begin(f->h.store, false, &txn), 0);
	while (mailq_next(f->h.store, txn, id, &id, &rec) == 0) {
		n++;
		if (last)
			*last = rec;
		if (code && mailq_unseal(f->h.store, &rec, code) < 0)
			code[0] = '\0';
	}
	store_abort(txn);
	return n;
}

/* A self-service request for user: the code it mailed. */
static void request_code(struct fx *f, const char *user, char code[CODE_LEN + 1])
{
	struct mail_rec rec;
	union pwr_msg m;

	who(&m, user);
	assert_int_equal(ask(f, PWR_REQ_REQUEST, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ANS_REQUEST);
	assert_int_equal(m.request.status, PWR_OK);
	assert_true(queued(f, &rec, code) > 0);
	assert_string_equal(rec.user, user);
	assert_int_equal(rec.kind, PWR_MAIL_CODE);
	assert_int_equal(strlen(code), CODE_LEN);
}

static uint32_t verify(struct fx *f, const char *user, const char *code)
{
	union pwr_msg m;

	who(&m, user);
	snprintf(m.verify.code, sizeof(m.verify.code), "%s", code);
	assert_int_equal(ask(f, PWR_REQ_VERIFY, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ANS_VERIFY);
	return m.verify_ans.status;
}

/* user's line in the temporary shadow file. */
static void shadow_line(struct fx *f, const char *user, char *out, size_t cap)
{
	char *text = read_text(f->path[0]), *p = text;
	size_t ul = strlen(user);

	out[0] = '\0';
	for (; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, user, ul) && p[ul] == ':') {
			snprintf(out, cap, "%.*s", (int)strcspn(p, "\n"), p);
			break;
		}
	free(text);
}

/* ---- self-service ---- */

static void test_offer(void **state)
{
	struct fx *f = *state;
	union pwr_msg m;

	who(&m, "daemon");
	assert_int_equal(ask(f, PWR_REQ_OFFER, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ANS_OFFER);
	assert_int_equal(m.offer.status, PWR_OK);
	assert_int_equal(m.offer.enabled, 1);
	assert_string_equal(m.offer.help, "Ask the desk.");
	assert_true(logged(f, "event=offer", "user=daemon", "result=ok"));
}

static void test_request_is_uniform(void **state)
{
	struct fx *f = *state;
	union pwr_msg a, b;

	set_address(f, "daemon", "daemon@example.org");
	/* one with an address, one without, one that does not exist: the same answer */
	who(&a, "daemon");
	assert_int_equal(ask(f, PWR_REQ_REQUEST, &a), 0);
	assert_int_equal(answer(f, &a), PWR_ANS_REQUEST);
	for (int i = 0; i < 2; i++) {
		who(&b, i ? "no-such-user-x" : "bin");
		assert_int_equal(ask(f, PWR_REQ_REQUEST, &b), 0);
		assert_int_equal(answer(f, &b), PWR_ANS_REQUEST);
		assert_memory_equal(&a.request, &b.request, sizeof(a.request));
	}
	assert_int_equal(queued(f, NULL, NULL), 1); /* only daemon's code went out */
	assert_true(logged(f, "event=request", "user=daemon", "reason=code-queued"));
	assert_true(logged(f, "event=request", "user=bin", "reason=no-address"));
	assert_true(logged(f, "event=request", "user=no-such-user-x", "no-account"));
}

static void test_verify(void **state)
{
	struct fx *f = *state;
	char code[CODE_LEN + 1];

	set_address(f, "daemon", "daemon@example.org");
	request_code(f, "daemon", code);
	assert_int_equal(verify(f, "daemon", "00000-00000"), PWR_E_BADCODE);
	assert_false(f->p.verified);
	assert_int_equal(verify(f, "daemon", "not a code"), PWR_E_BADFORMAT);
	assert_int_equal(verify(f, "daemon", code), PWR_OK);
	assert_true(f->p.verified);
	assert_string_equal(f->p.verified_user, "daemon");
	assert_true(logged(f, "event=verify", "user=daemon", "reason=wrong-code"));
}

static void test_set_password(void **state)
{
	struct fx *f = *state;
	char code[CODE_LEN + 1], before[512], after[512];
	struct mail_rec rec;
	union pwr_msg m;

	/* without a valid code on this connection: refused, and the peer is dropped */
	who(&m, "daemon");
	snprintf(m.set_password.password, sizeof(m.set_password.password), NEW_PASSWORD);
	assert_int_equal(ask(f, PWR_REQ_SET_PASSWORD, &m), -EPERM);
	expect_error(f, PWR_E_PERM, "no valid code");
	assert_true(logged(f, "event=set-password", "user=daemon", "reason=no-valid-code"));

	set_address(f, "daemon", "daemon@example.org");
	request_code(f, "daemon", code);
	assert_int_equal(verify(f, "daemon", code), PWR_OK);
	shadow_line(f, "daemon", before, sizeof(before));

	/* a weak password: refused with the rule, the code still good */
	who(&m, "daemon");
	snprintf(m.set_password.password, sizeof(m.set_password.password), "abc");
	assert_int_equal(ask(f, PWR_REQ_SET_PASSWORD, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ANS_SET_PASSWORD);
	assert_int_equal(m.set_password_ans.status, PWR_E_QUALITY);
	assert_true(strlen(m.set_password_ans.text) > 0);

	who(&m, "daemon");
	snprintf(m.set_password.password, sizeof(m.set_password.password), NEW_PASSWORD);
	assert_int_equal(ask(f, PWR_REQ_SET_PASSWORD, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ANS_SET_PASSWORD);
	assert_int_equal(m.set_password_ans.status, PWR_OK);
	/* the message's copy of the password is wiped */
	assert_int_equal(m.set_password.password[0], '\0');
	shadow_line(f, "daemon", after, sizeof(after));
	assert_string_not_equal(before, after);
	{
		char hash[256];
		snprintf(hash, sizeof(hash), "%.*s", (int)strcspn(after + 7, ":"), after + 7);
		assert_string_equal(crypt(NEW_PASSWORD, hash), hash);
	}
	/* the code is spent; the owner is told */
	assert_false(f->p.verified);
	assert_int_equal(verify(f, "daemon", code), PWR_E_BADCODE);
	assert_int_equal(queued(f, &rec, NULL), 2);
	assert_int_equal(rec.kind, PWR_MAIL_CHANGED);
	assert_true(logged(f, "event=password-changed", "user=daemon", "result=ok"));
}

static void test_shadow_change_voids_code(void **state)
{
	struct fx *f = *state;
	char code[CODE_LEN + 1], *text;
	union pwr_msg m;
	FILE *out;

	set_address(f, "daemon", "daemon@example.org");
	request_code(f, "daemon", code);
	assert_int_equal(verify(f, "daemon", code), PWR_OK);
	/* the entry changes behind our back (passwd, usermod): the code no longer opens it */
	text = read_text(f->path[0]);
	text[strlen("daemon:") + 3] ^= 1;
	out = fopen(f->path[0], "w");
	fputs(text, out);
	fclose(out);
	free(text);
	who(&m, "daemon");
	snprintf(m.set_password.password, sizeof(m.set_password.password), NEW_PASSWORD);
	assert_int_equal(ask(f, PWR_REQ_SET_PASSWORD, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ANS_SET_PASSWORD);
	assert_int_equal(m.set_password_ans.status, PWR_E_BADCODE);
	assert_true(logged(f, "event=set-password", "user=daemon", "code-no-longer-valid"));
}

static void test_self_only_for_own_account(void **state)
{
	struct fx *f = *state;
	union pwr_msg m;

	/* uid 1 (daemon) may ask for itself, not for bin; what it says of a remote host is not
	 * believed */
	f->p.uid = 1;
	who(&m, "daemon");
	assert_int_equal(ask(f, PWR_REQ_OFFER, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ANS_OFFER);
	assert_true(logged(f, "event=offer", "user=daemon", "by=1"));
	assert_false(logged(f, "event=offer", "by=1", "rhost=192.0.2.7"));
	who(&m, "bin");
	assert_int_equal(ask(f, PWR_REQ_OFFER, &m), -EPERM);
	expect_error(f, PWR_E_PERM, "may not act for bin");
	assert_true(logged(f, "event=offer", "user=bin", "reason=not-permitted"));
}

/* ---- administration ---- */

static void test_not_admin(void **state)
{
	struct fx *f = *state;
	union pwr_msg m = {0};

	f->p.uid = 1;
	assert_int_equal(ask(f, PWR_REQ_STATUS, &m), -EPERM);
	expect_error(f, PWR_E_PERM, "admin_group");
	assert_true(logged(f, "event=status", "by=1", "reason=not-admin"));
}

static void test_email_set_show_unset(void **state)
{
	struct fx *f = *state;
	union pwr_msg m = {0};

	set_address(f, "daemon", "shared@example.org");
	/* a second account with the same address: stored, with a warning naming the first */
	snprintf(m.email_set.user, sizeof(m.email_set.user), "bin");
	snprintf(m.email_set.addr, sizeof(m.email_set.addr), "Shared@Example.org");
	assert_int_equal(ask(f, PWR_REQ_EMAIL_SET, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ANS_EMAIL_SET);
	assert_true(m.email_set_ans.warnings & PWR_WARN_SHARED);
	assert_string_equal(m.email_set_ans.shared_with, "daemon");

	/* an address with a header in it, and a user that does not exist: refused */
	memset(&m, 0, sizeof(m));
	snprintf(m.email_set.user, sizeof(m.email_set.user), "sys");
	snprintf(m.email_set.addr, sizeof(m.email_set.addr), "a@b.org\r\nBcc: x@y.org");
	assert_int_equal(ask(f, PWR_REQ_EMAIL_SET, &m), 0);
	expect_error(f, PWR_E_INVALID, NULL);
	snprintf(m.email_set.user, sizeof(m.email_set.user), "no-such-user-x");
	snprintf(m.email_set.addr, sizeof(m.email_set.addr), "a@b.org");
	assert_int_equal(ask(f, PWR_REQ_EMAIL_SET, &m), 0);
	expect_error(f, PWR_E_NOTFOUND, "no such user");

	memset(&m, 0, sizeof(m));
	snprintf(m.user.user, sizeof(m.user.user), "daemon");
	assert_int_equal(ask(f, PWR_REQ_EMAIL_SHOW, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ANS_EMAIL_SHOW);
	assert_string_equal(m.email_show.addr, "shared@example.org");
	assert_int_equal(m.email_show.source, PWR_SOURCE_ADMIN);
	assert_int_equal(m.email_show.confirmed, 0);

	memset(&m, 0, sizeof(m));
	snprintf(m.user.user, sizeof(m.user.user), "daemon");
	assert_int_equal(ask(f, PWR_REQ_EMAIL_UNSET, &m), 0);
	expect_done(f, 1);
	assert_int_equal(ask(f, PWR_REQ_EMAIL_UNSET, &m), 0);
	expect_error(f, PWR_E_NOTFOUND, "no address is registered for daemon");
	assert_int_equal(ask(f, PWR_REQ_EMAIL_SHOW, &m), 0);
	expect_error(f, PWR_E_NOTFOUND, NULL);
	assert_true(logged(f, "event=email-unset", "user=daemon", "reason=no-address"));
}

/* An address registered before SPEC §11 (the bare address) reads as an administrator's; one a
 * user confirmed keeps its source and time, and both stay in the index of shared addresses. */
static void test_address_records(void **state)
{
	struct fx *f = *state;
	struct address_info a = {"sys@example.org", PWR_SOURCE_USER, 1795000000}, got;
	MDB_val k = {6, "daemon"}, v = {15, "old@example.org"};
	char shared[64];
	union pwr_msg m = {0};
	MDB_txn *txn;

	assert_int_equal(store_begin(f->h.store, true, &txn), 0);
	assert_int_equal(mdb_put(txn, store_db(f->h.store, STORE_DB_ADDR), &k, &v, 0), 0);
	assert_int_equal(address_set_info(f->h.store, txn, "sys", &a), 0);
	assert_int_equal(address_set(f->h.store, txn, "bin", "SYS@example.org"), 0);
	assert_int_equal(store_commit(txn), 0);

	snprintf(m.user.user, sizeof(m.user.user), "daemon");
	assert_int_equal(ask(f, PWR_REQ_EMAIL_SHOW, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ANS_EMAIL_SHOW);
	assert_string_equal(m.email_show.addr, "old@example.org");
	assert_int_equal(m.email_show.source, PWR_SOURCE_ADMIN);
	snprintf(m.user.user, sizeof(m.user.user), "sys");
	assert_int_equal(ask(f, PWR_REQ_EMAIL_SHOW, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ANS_EMAIL_SHOW);
	assert_string_equal(m.email_show.addr, "sys@example.org");
	assert_int_equal(m.email_show.source, PWR_SOURCE_USER);
	assert_int_equal(m.email_show.confirmed, 1795000000);

	assert_int_equal(store_begin(f->h.store, false, &txn), 0);
	assert_int_equal(address_get_info(f->h.store, txn, "sys", &got), 0);
	assert_memory_equal(&got, &a, sizeof(a));
	assert_int_equal(
		address_sharers(f->h.store, txn, "sys@example.org", "sys", shared, sizeof(shared)),
		1);
	assert_string_equal(shared, "bin");
	store_abort(txn);
}

static void test_email_import_export(void **state)
{
	struct fx *f = *state;
	union pwr_msg m = {0};
	int items = 0;

	m.import.first_line = 1;
	snprintf(m.import.text, sizeof(m.import.text),
		"# comment\n"
		"daemon daemon@example.org\n"
		"bin not-an-address\n"
		"\n"
		"sys sys@example.org\n");
	assert_int_equal(ask(f, PWR_REQ_EMAIL_IMPORT, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ITEM_REJECT);
	assert_int_equal(m.reject.line, 3);
	assert_int_equal(answer(f, &m), PWR_ANS_DONE);
	assert_int_equal(m.done.count, 2);
	assert_string_equal(m.done.text, "2 imported, 1 rejected");

	memset(&m, 0, sizeof(m));
	assert_int_equal(ask(f, PWR_REQ_EMAIL_EXPORT, &m), 0);
	while (answer(f, &m) == PWR_ITEM_EMAIL) {
		assert_string_equal(m.email.user, items ? "sys" : "daemon");
		items++;
	}
	assert_int_equal(m.done.count, 2);
	assert_int_equal(items, 2);
}

static void test_check(void **state)
{
	struct fx *f = *state;
	union pwr_msg m = {0};
	int n = 0;

	set_address(f, "daemon", "daemon@example.org");
	snprintf(m.page.user, sizeof(m.page.user), "daemon");
	assert_int_equal(ask(f, PWR_REQ_CHECK, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ITEM_CHECK);
	assert_int_equal(m.check.eligible, 1);
	assert_int_equal(m.check.uid, 1);
	expect_done(f, 1);

	snprintf(m.page.user, sizeof(m.page.user), "bin");
	assert_int_equal(ask(f, PWR_REQ_CHECK, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ITEM_CHECK);
	assert_int_equal(m.check.eligible, 0);
	assert_string_equal(m.check.reasons, "no-address");
	expect_done(f, 1);

	/* every account of the passwd file from min_uid up, in pages */
	memset(&m, 0, sizeof(m));
	assert_int_equal(ask(f, PWR_REQ_CHECK, &m), 0);
	while (answer(f, &m) == PWR_ITEM_CHECK)
		n++;
	assert_int_equal(m.done.count, n);
	assert_true(n >= 4);
}

static void test_reset_print_tokens_revoke(void **state)
{
	struct fx *f = *state;
	char line[512];
	union pwr_msg m = {0};

	m.reset.flags = PWR_RESET_PRINT;
	snprintf(m.reset.users, sizeof(m.reset.users), "sys\nno-such-user-x\n");
	assert_int_equal(ask(f, PWR_REQ_RESET, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ITEM_RESET);
	assert_string_equal(m.reset_item.user, "sys");
	assert_int_equal(m.reset_item.status, PWR_OK);
	assert_int_equal(m.reset_item.locked, 1);
	assert_int_equal(m.reset_item.mailed, 0);
	assert_int_equal(strlen(m.reset_item.code), CODE_SHOWN_LEN);
	assert_int_equal(answer(f, &m), PWR_ITEM_RESET);
	assert_int_equal(m.reset_item.status, PWR_E_NOTFOUND);
	expect_done(f, 1);
	shadow_line(f, "sys", line, sizeof(line));
	assert_int_equal(line[4], '!'); /* locked */
	assert_int_equal(queued(f, NULL, NULL), 0); /* printed, not mailed */

	memset(&m, 0, sizeof(m));
	assert_int_equal(ask(f, PWR_REQ_TOKENS, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ITEM_TOKEN);
	assert_string_equal(m.token.user, "sys");
	assert_int_equal(m.token.kind, PWR_KIND_ADMIN);
	expect_done(f, 1);

	memset(&m, 0, sizeof(m));
	snprintf(m.user.user, sizeof(m.user.user), "sys");
	assert_int_equal(ask(f, PWR_REQ_REVOKE, &m), 0);
	expect_done(f, 1);
	assert_int_equal(ask(f, PWR_REQ_REVOKE, &m), 0);
	expect_error(f, PWR_E_NOTFOUND, "no pending code for sys");
	assert_true(logged(f, "event=admin-reset", "user=sys", "reason=code-handed-over"));
}

static void test_reset_mails_and_bad_ttl(void **state)
{
	struct fx *f = *state;
	struct mail_rec rec;
	union pwr_msg m = {0};

	set_address(f, "games", "games@example.org");
	m.reset.flags = PWR_RESET_NO_LOCK;
	snprintf(m.reset.users, sizeof(m.reset.users), "games");
	assert_int_equal(ask(f, PWR_REQ_RESET, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ITEM_RESET);
	assert_int_equal(m.reset_item.mailed, 1);
	assert_int_equal(m.reset_item.locked, 0);
	assert_int_equal(m.reset_item.code[0], '\0'); /* mailed: not shown */
	expect_done(f, 1);
	assert_int_equal(queued(f, &rec, NULL), 1);
	assert_int_equal(rec.kind, PWR_MAIL_ADMIN);
	assert_string_equal(rec.to, "games@example.org");

	memset(&m, 0, sizeof(m));
	m.reset.ttl = 10;
	snprintf(m.reset.users, sizeof(m.reset.users), "games");
	assert_int_equal(ask(f, PWR_REQ_RESET, &m), 0);
	expect_error(f, PWR_E_INVALID, "60 s to 30 days");
}

static void test_queue_and_flush(void **state)
{
	struct fx *f = *state;
	char code[CODE_LEN + 1];
	union pwr_msg m = {0};

	set_address(f, "daemon", "daemon@example.org");
	request_code(f, "daemon", code);
	assert_int_equal(ask(f, PWR_REQ_QUEUE, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ITEM_MAIL);
	assert_string_equal(m.mail.user, "daemon");
	assert_int_equal(m.mail.kind, PWR_MAIL_CODE);
	assert_int_equal(m.mail.state, PWR_MAIL_QUEUED);
	expect_done(f, 1);

	/* due now already: nothing to bring forward */
	memset(&m, 0, sizeof(m));
	assert_int_equal(ask(f, PWR_REQ_QUEUE_FLUSH, &m), 0);
	expect_done(f, 0);
	assert_true(logged(f, "event=queue-flush", "result=ok", NULL));
}

static void test_status(void **state)
{
	struct fx *f = *state;
	union pwr_msg m = {0};

	set_address(f, "daemon", "daemon@example.org");
	assert_int_equal(ask(f, PWR_REQ_STATUS, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ANS_STATUS);
	assert_int_equal(m.status.addresses, 1);
	assert_int_equal(m.status.self_reset, 1);
	assert_string_equal(m.status.smtp_url, "smtp://127.0.0.1:25");
	assert_true(m.status.store_bytes > 0);
}

/* ---- recovery addresses users register (SPEC §11) ---- */

static uint32_t address_op(struct fx *f, uint16_t op, const char *user, const char *password,
	const char *addr, const char *code, char *text)
{
	union pwr_msg m = {0};

	snprintf(m.address.who.user, sizeof(m.address.who.user), "%s", user);
	snprintf(m.address.password, sizeof(m.address.password), "%s", password ? password : "");
	snprintf(m.address.addr, sizeof(m.address.addr), "%s", addr ? addr : "");
	snprintf(m.address.code, sizeof(m.address.code), "%s", code ? code : "");
	assert_int_equal(ask(f, op, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ANS_ADDRESS_CHANGE);
	if (text)
		snprintf(text, PWR_TEXT_MAX + 1, "%s", m.address_change.text);
	return m.address_change.status;
}

static void address_show(struct fx *f, const char *user, union pwr_msg *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->address.who.user, sizeof(m->address.who.user), "%s", user);
	assert_int_equal(ask(f, PWR_REQ_ADDRESS_SHOW, m), 0);
	assert_int_equal(answer(f, m), PWR_ANS_ADDRESS);
}

static void test_user_sets_and_confirms(void **state)
{
	struct fx *f = *state;
	char text[PWR_TEXT_MAX + 1], code[CODE_LEN + 1], first[CODE_LEN + 1];
	struct mail_rec rec;
	union pwr_msg m;

	set_address(f, "daemon", "old@example.org"); /* by an administrator */
	f->h.conf.user_requests_per_hour = 10;
	f->p.uid = 1; /* daemon itself */
	assert_int_equal(address_op(f, PWR_REQ_ADDRESS_SET, "daemon", OLD_PASSWORD,
				 "first@example.org", NULL, text),
		PWR_OK);
	assert_non_null(strstr(text, "first@example.org"));
	assert_int_equal(queued(f, &rec, first), 1);
	assert_int_equal(rec.kind, PWR_MAIL_ADDRESS_CONFIRM);
	assert_string_equal(rec.to, "first@example.org");
	/* a second set voids the first code; nothing changes until a confirm */
	assert_int_equal(address_op(f, PWR_REQ_ADDRESS_SET, "daemon", OLD_PASSWORD,
				 "new@example.org", NULL, NULL),
		PWR_OK);
	assert_int_equal(queued(f, &rec, code), 2);
	address_show(f, "daemon", &m);
	assert_string_equal(m.address_ans.addr, "old@example.org");
	assert_string_equal(m.address_ans.pending, "new@example.org");
	assert_int_equal(address_op(f, PWR_REQ_ADDRESS_CONFIRM, "daemon", NULL, NULL, first, NULL),
		PWR_E_BADCODE);
	assert_int_equal(
		address_op(f, PWR_REQ_ADDRESS_CONFIRM, "daemon", NULL, NULL, code, text), PWR_OK);
	assert_non_null(strstr(text, "o***@example.org"));
	assert_null(strstr(text, "old@example.org"));
	address_show(f, "daemon", &m);
	assert_string_equal(m.address_ans.addr, "new@example.org");
	assert_int_equal(m.address_ans.source, PWR_SOURCE_USER);
	assert_true(m.address_ans.confirmed > 0);
	assert_string_equal(m.address_ans.pending, "");
	/* the old address is told */
	assert_int_equal(queued(f, &rec, NULL), 3);
	assert_int_equal(rec.kind, PWR_MAIL_ADDRESS_REPLACED);
	assert_string_equal(rec.to, "old@example.org");
	assert_true(logged(f, "event=address-set-requested", "user=daemon", "result=ok"));
	assert_true(logged(f, "event=address-confirmed", "user=daemon", "result=ok"));
	/* then removed, with the password; the removed address is told */
	assert_int_equal(
		address_op(f, PWR_REQ_ADDRESS_REMOVE, "daemon", OLD_PASSWORD, NULL, NULL, text),
		PWR_OK);
	assert_non_null(strstr(text, "n***@example.org"));
	assert_int_equal(queued(f, &rec, NULL), 4);
	assert_int_equal(rec.kind, PWR_MAIL_ADDRESS_REMOVED);
	assert_string_equal(rec.to, "new@example.org");
	assert_int_equal(
		address_op(f, PWR_REQ_ADDRESS_REMOVE, "daemon", OLD_PASSWORD, NULL, NULL, NULL),
		PWR_E_NOTFOUND);
}

static void test_user_address_refusals(void **state)
{
	struct fx *f = *state;
	char text[PWR_TEXT_MAX + 1], code[CODE_LEN + 1];
	union pwr_msg m = {0};

	/* wrong current password: refused, counted; the window then refuses the right one */
	for (int i = 0; i < 3; i++)
		assert_int_equal(address_op(f, PWR_REQ_ADDRESS_SET, "daemon", "not-it",
					 "d@example.org", NULL, NULL),
			PWR_E_PASSWORD);
	assert_true(logged(f, "event=address-set-requested", "user=daemon", "wrong-password"));
	assert_int_equal(address_op(f, PWR_REQ_ADDRESS_SET, "daemon", OLD_PASSWORD, "d@example.org",
				 NULL, NULL),
		PWR_E_LIMIT);
	/* an address another account has: set answers as for any, confirm refuses it in the
	 * generic words, the reason in the log (SPEC §11) */
	set_address(f, "games", "taken@example.org");
	assert_int_equal(address_op(f, PWR_REQ_ADDRESS_SET, "bin", OLD_PASSWORD,
				 "TAKEN@example.org", NULL, text),
		PWR_OK);
	assert_string_equal(text,
		"A confirmation code was sent to TAKEN@example.org. It expires in 10 minutes.");
	assert_int_equal(queued(f, NULL, code), 1);
	assert_int_equal(address_op(f, PWR_REQ_ADDRESS_CONFIRM, "bin", NULL, NULL, code, text),
		PWR_E_INVALID);
	assert_string_equal(text, "This address cannot be used for password reset.");
	assert_true(logged(f, "event=address-confirmed", "user=bin", "shared-address:games"));
	assert_int_equal(address_op(f, PWR_REQ_ADDRESS_SET, "bin", OLD_PASSWORD, "bin@localhost",
				 NULL, text),
		PWR_E_INVALID);
	assert_string_equal(text, "This address cannot be used for password reset.");
	assert_true(logged(f, "event=address-set-requested", "user=bin", "local-only-address"));
	assert_int_equal(address_op(f, PWR_REQ_ADDRESS_SET, "bin", OLD_PASSWORD,
				 "x@y.org\r\nBcc: e@z.org", NULL, NULL),
		PWR_E_INVALID);
	assert_int_equal(queued(f, NULL, NULL), 1); /* the taken address's code alone */
	/* switched off: the administrators' word */
	f->h.conf.user_addresses = false;
	assert_int_equal(address_op(f, PWR_REQ_ADDRESS_SET, "sys", OLD_PASSWORD, "s@example.org",
				 NULL, text),
		PWR_E_DISABLED);
	assert_string_equal(
		text, "Recovery addresses are set by your administrator. Ask the desk.");
	f->h.conf.user_addresses = true;
	/* an ordinary user cannot name another */
	f->p.uid = 1;
	snprintf(m.address.who.user, sizeof(m.address.who.user), "bin");
	snprintf(m.address.password, sizeof(m.address.password), OLD_PASSWORD);
	assert_int_equal(ask(f, PWR_REQ_ADDRESS_SET, &m), -EPERM);
	expect_error(f, PWR_E_PERM, "may not act for bin");
	assert_int_equal(m.address.password[0], '\0');
}

/* The id of the store's last write, read in a transaction of its own. */
static size_t last_write(struct fx *f)
{
	MDB_txn *txn;
	size_t id;

	assert_int_equal(store_begin(f->h.store, false, &txn), 0);
	id = mdb_txn_id(txn);
	store_abort(txn);
	return id;
}

/* The session hint (SPEC §11) is due for an account that nothing but its missing address keeps
 * from a reset, while users may register one; asking writes nothing. */
static void test_session_hint(void **state)
{
	struct fx *f = *state;
	union pwr_msg m;
	size_t before;

	set_address(f, "bin", "bin@example.org");
	before = last_write(f);
	address_show(f, "daemon", &m);
	assert_int_equal(m.address_ans.hint, 1);
	address_show(f, "bin", &m);
	assert_int_equal(m.address_ans.hint, 0);
	address_show(f, "nobody-here", &m);
	assert_int_equal(m.address_ans.hint, 0);
	f->h.conf.min_uid = 2; /* daemon (uid 1) becomes a system account */
	address_show(f, "daemon", &m);
	assert_int_equal(m.address_ans.hint, 0);
	f->h.conf.min_uid = 1;
	f->h.conf.user_addresses = false;
	address_show(f, "daemon", &m);
	assert_int_equal(m.address_ans.hint, 0);
	f->h.conf.user_addresses = true;
	f->h.conf.self_reset = false;
	address_show(f, "daemon", &m);
	assert_int_equal(m.address_ans.hint, 0);
	assert_int_equal(last_write(f), before);
}

/* ---- the front ---- */

/* ---- the account seam: one lookup a request ---- */

/* The account operations counted: each delegates to the local database's, except for "bin",
 * which the counting database says is a directory account (its entry's binding, its address)
 * and changes without a shadow file, as pwreset-directory would. */
static struct {
	int lookups, modifies;
} seam;

static bool is_dir(const struct account *a)
{
	return a->directory;
}

static int count_lookup(const struct account_db *db, const char *user, struct account *a)
{
	int r = account_local_ops.lookup(db, user, a);

	seam.lookups++;
	if (r == 0 && !strcmp(a->name, "bin")) {
		free(a->hash);
		free(a->binding);
		a->hash = NULL;
		a->local = false;
		a->directory = true;
		a->expire = -1;
		a->binding = strdup("dir:pwdChangedTime:20261204000000Z");
		a->dn = strdup("uid=bin,ou=people,dc=example,dc=org");
		a->address = strdup("bin@example.org");
	}
	return r;
}

static int count_set_password(const struct account_db *db, const struct account *a,
	struct new_password *np, account_guard_fn *guard, void *ctx, char *why)
{
	seam.modifies++;
	if (!is_dir(a))
		return account_local_ops.set_password(db, a, np, guard, ctx, why);
	np->refused = false;
	return guard(ctx, a->binding, NULL);
}

static int count_lock(const struct account_db *db, const struct account *a, account_guard_fn *guard,
	void *ctx, enum account_locked *locked, char *why)
{
	seam.modifies++;
	if (!is_dir(a))
		return account_local_ops.lock(db, a, guard, ctx, locked, why);
	*locked = ACCOUNT_LOCKED;
	return guard(ctx, a->binding, "dir:pwdChangedTime:20261204000001Z");
}

static const struct account_ops counting_ops = {
	.lookup = count_lookup,
	.set_password = count_set_password,
	.lock = count_lock,
	.sharers = NULL, /* set from the local ones in the test */
};

/* A request's lookups and changes, from zero. */
static void seam_zero(void)
{
	memset(&seam, 0, sizeof(seam));
}

/* The whole reset of user through the counting database: request, verify, set the password,
 * each one lookup; the password one change. Then an administrator's reset, mailed and printed:
 * one lookup and one lock each. */
static void one_lookup_each(struct fx *f, const char *user)
{
	char code[CODE_LEN + 1];
	union pwr_msg m;

	seam_zero();
	request_code(f, user, code);
	assert_int_equal(seam.lookups, 1);
	seam_zero();
	assert_int_equal(verify(f, user, code), PWR_OK);
	assert_int_equal(seam.lookups, 1);
	seam_zero();
	who(&m, user);
	snprintf(m.set_password.password, sizeof(m.set_password.password), NEW_PASSWORD);
	assert_int_equal(ask(f, PWR_REQ_SET_PASSWORD, &m), 0);
	assert_int_equal(answer(f, &m), PWR_ANS_SET_PASSWORD);
	assert_int_equal(m.set_password_ans.status, PWR_OK);
	assert_int_equal(seam.lookups, 1);
	assert_int_equal(seam.modifies, 1);

	for (uint32_t flags = 0; flags <= PWR_RESET_PRINT; flags += PWR_RESET_PRINT) {
		memset(&m, 0, sizeof(m));
		m.reset.flags = flags;
		snprintf(m.reset.users, sizeof(m.reset.users), "%s", user);
		seam_zero();
		assert_int_equal(ask(f, PWR_REQ_RESET, &m), 0);
		assert_int_equal(answer(f, &m), PWR_ITEM_RESET);
		assert_int_equal(m.reset_item.status, PWR_OK);
		assert_int_equal(m.reset_item.mailed, !flags);
		expect_done(f, 1);
		assert_int_equal(seam.lookups, 1);
		assert_int_equal(seam.modifies, 1);
	}
}

static void test_one_lookup_per_request(void **state)
{
	struct fx *f = *state;
	struct account_ops ops = counting_ops;

	ops.sharers = account_local_ops.sharers;
	f->h.accounts.ops = &ops;
	/* a directory is configured (eligibility asks); the counting operations never call it */
	f->h.accounts.dir = (struct dirlink *)&seam;
	set_address(f, "daemon", "daemon@example.org");
	one_lookup_each(f, "daemon"); /* local: its line in the shadow file */
	one_lookup_each(f, "bin"); /* the directory's */
	assert_true(logged(f, "event=password-changed", "user=bin", "source=directory"));
	assert_false(logged(f, "event=password-changed", "user=daemon", "source=directory"));
	f->h.accounts.ops = &account_local_ops;
	f->h.accounts.dir = NULL;
}

static void test_not_a_request_and_broken_config(void **state)
{
	struct fx *f = *state;
	union pwr_msg m = {0};

	assert_int_equal(ask(f, PWR_ANS_DONE, &m), -EPROTO);
	expect_error(f, PWR_E_PROTO, "is not a request");
	f->h.conf_ok = false;
	who(&m, "daemon");
	assert_int_equal(ask(f, PWR_REQ_OFFER, &m), -EINVAL);
	expect_error(f, PWR_E_CONFIG, "--check-config");
	f->h.conf_ok = true;
	assert_true(no_answer(f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_offer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_is_uniform, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadow_change_voids_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_only_for_own_account, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_admin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_email_set_show_unset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_address_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_email_import_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_print_tokens_revoke, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_mails_and_bad_ttl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_and_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_sets_and_confirms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_address_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_lookup_per_request, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_not_a_request_and_broken_config, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
