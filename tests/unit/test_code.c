/* SPDX-License-Identifier: BSD-3-Clause */
/* Codes: alphabet and normalisation, uniformity, and their life in a real store (issue,
 * verify, attempts, expiry, replacement, shadow fingerprint, revoke, purge); rate windows;
 * the mail queue's sealing; and that no code reaches the store's files in the clear. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "code.h"
#include "log.h"
#include "mailq.h"
#include "pending.h"
#include "rate.h"
#include "store.h"
#include "storefill.h"
#include "util.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/pwr-code-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct store *open_store(const char *sub)
{
	char path[128];
	struct store *s;
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	assert_int_equal(store_open(path, 0, store_fills, &s), 0);
	return s;
}

/* An address awaiting confirmation: its code is good for that account and that address only,
 * counts wrong tries, dies with its lifetime, is spent once used, and a newer one voids it. */
static void test_pending_address(void **state)
{
	struct store *s = open_store("pending");
	char a[CODE_LEN + 1], b[CODE_LEN + 1], addr[PWR_ADDR_MAX + 1];
	uint64_t now = 1800000000;
	MDB_txn *txn;
	(void)state;

	code_generate(a);
	code_generate(b);
	assert_int_equal(store_begin(s, true, &txn), 0);
	assert_int_equal(pending_confirm(s, txn, "alice", a, now, addr), -ENOENT);
	assert_int_equal(pending_issue(s, txn, "alice", "new@example.org", a, now, 600, 3), 0);
	assert_int_equal(pending_get(s, txn, "alice", now, addr), 0);
	assert_string_equal(addr, "new@example.org");
	/* bob's code is not alice's, nor alice's code bob's */
	assert_int_equal(pending_issue(s, txn, "bob", "new@example.org", b, now, 600, 3), 0);
	assert_int_equal(pending_confirm(s, txn, "alice", b, now, addr), -EACCES);
	assert_int_equal(pending_confirm(s, txn, "bob", a, now, addr), -EACCES);
	/* a second set voids the first code */
	assert_int_equal(pending_issue(s, txn, "alice", "other@example.org", b, now, 600, 3), 0);
	assert_int_equal(pending_confirm(s, txn, "alice", a, now, addr), -EACCES);
	/* two more wrong tries use alice's three attempts up: the right code no longer works */
	assert_int_equal(pending_confirm(s, txn, "alice", a, now, addr), -EACCES);
	assert_int_equal(pending_confirm(s, txn, "alice", a, now, addr), -EACCES);
	assert_int_equal(pending_confirm(s, txn, "alice", b, now, addr), -EACCES);
	assert_int_equal(pending_get(s, txn, "alice", now, addr), -ENOENT);
	/* bob's, right and alive, confirms once */
	assert_int_equal(pending_confirm(s, txn, "bob", b, now + 599, addr), 0);
	assert_string_equal(addr, "new@example.org");
	assert_int_equal(pending_confirm(s, txn, "bob", b, now + 599, addr), -ENOENT);
	/* expired */
	assert_int_equal(pending_issue(s, txn, "carol", "c@example.org", a, now, 600, 3), 0);
	assert_int_equal(pending_confirm(s, txn, "carol", a, now + 600, addr), -EACCES);
	/* purged a day after they died */
	assert_int_equal(pending_purge(s, txn, now + 600 + 86399, 86400), 0);
	assert_int_equal(pending_purge(s, txn, now + 600 + 86400, 86400), 2);
	assert_int_equal(store_commit(txn), 0);
	store_close(s);
}

static void test_normalize(void **state)
{
	char out[CODE_LEN + 1];
	(void)state;
	assert_int_equal(code_normalize("ABCDE-FGHJK", out), 0);
	assert_string_equal(out, "ABCDEFGHJK");
	assert_int_equal(code_normalize("  abcde fghjk ", out), 0);
	assert_string_equal(out, "ABCDEFGHJK");
	assert_int_equal(code_normalize("oOiIlL-1234", out), 0);
	assert_string_equal(out, "0011111234");
	assert_int_equal(code_normalize("a-b-c-d-e-f-g-h-j-k", out), 0);
	assert_string_equal(out, "ABCDEFGHJK");
	/* U is not in Crockford's alphabet; neither are punctuation and non-ASCII */
	assert_int_equal(code_normalize("ABCDE-FGHJU", out), -EINVAL);
	assert_int_equal(code_normalize("ABCDE-FGHJ!", out), -EINVAL);
	assert_int_equal(code_normalize("ABCDE-FGH\xc3\xa9", out), -EINVAL);
	/* wrong lengths */
	assert_int_equal(code_normalize("", out), -EINVAL);
	assert_int_equal(code_normalize("reset", out), -EINVAL);
	assert_int_equal(code_normalize("ABCDE-FGHJ", out), -EINVAL);
	assert_int_equal(code_normalize("ABCDE-FGHJKM", out), -EINVAL);
	assert_int_equal(code_normalize("\b\n\r\177INCORRECT", out), -EINVAL);
}

static void test_generate_and_format(void **state)
{
	char code[CODE_LEN + 1], shown[CODE_SHOWN_LEN + 1], back[CODE_LEN + 1];
	(void)state;
	for (int i = 0; i < 1000; i++) {
		code_generate(code);
		assert_int_equal(strlen(code), CODE_LEN);
		assert_int_equal(strspn(code, alphabet), CODE_LEN);
		code_format(code, shown);
		assert_int_equal(shown[5], '-');
		assert_int_equal(code_normalize(shown, back), 0);
		assert_string_equal(back, code);
	}
}

/* 100,000 codes: per position, the 32 symbols are uniform (chi-square, 31 degrees of freedom).
 * 80.0 is the 0.9999995 quantile: a correct generator fails it about once in two million runs
 * per position, a biased one (say a modulo of a byte) fails it every time. */
static void test_uniformity(void **state)
{
	static unsigned counts[CODE_LEN][32];
	unsigned total[32] = {0};
	const int n = 100000;
	const double expected = n / 32.0, limit = 80.0;
	char code[CODE_LEN + 1];
	(void)state;

	memset(counts, 0, sizeof(counts));
	for (int i = 0; i < n; i++) {
		code_generate(code);
		for (int p = 0; p < CODE_LEN; p++) {
			const char *at = strchr(alphabet, code[p]);
			assert_non_null(at);
			counts[p][at - alphabet]++;
			total[at - alphabet]++;
		}
	}
	for (int p = 0; p < CODE_LEN; p++) {
		double chi = 0;
		for (int s = 0; s < 32; s++)
			chi += (counts[p][s] - expected) * (counts[p][s] - expected) / expected;
		printf("# position %d: chi-square %.1f (limit %.1f)\n", p, chi, limit);
		assert_true(chi < limit);
	}
	double chi = 0, e10 = expected * CODE_LEN;
	for (int s = 0; s < 32; s++)
		chi += (total[s] - e10) * (total[s] - e10) / e10;
	printf("# all positions: chi-square %.1f (limit %.1f)\n", chi, limit);
	assert_true(chi < limit);
}

static void test_issue_verify_consume_rules(void **state)
{
	struct store *s = open_store("life");
	unsigned char fp[CODE_FP_BYTES], fp2[CODE_FP_BYTES];
	char code[CODE_LEN + 1], other[CODE_LEN + 1];
	struct code_rec rec;
	MDB_txn *txn;
	uint64_t now = 1000000;
	(void)state;

	code_fingerprint(s, "alice:$y$j9T$abc:19000:0:99999:7:::", fp);
	code_fingerprint(s, "alice:$y$j9T$def:19001:0:99999:7:::", fp2);
	assert_memory_not_equal(fp, fp2, sizeof(fp));
	code_generate(code);
	do
		code_generate(other);
	while (!strcmp(other, code));

	assert_int_equal(store_begin(s, true, &txn), 0);
	assert_int_equal(code_issue(s, txn, "alice", code, PWR_KIND_SELF, now, 600, 5, fp), 0);
	/* right code, right user, in time */
	assert_int_equal(code_verify(s, txn, "alice", code, now + 10, fp), 0);
	/* not consumed by verification */
	assert_int_equal(code_verify(s, txn, "alice", code, now + 20, fp), 0);
	/* another user's name with alice's code */
	assert_int_equal(code_verify(s, txn, "bob", code, now + 20, fp), -EACCES);
	/* the shadow entry changed since it was issued */
	assert_int_equal(code_verify(s, txn, "alice", code, now + 20, fp2), -EACCES);
	/* expired */
	assert_int_equal(code_verify(s, txn, "alice", code, now + 600, fp), -EACCES);
	assert_int_equal(code_get(s, txn, "alice", now + 600, &rec), -ENOENT);
	/* a new code replaces the old one */
	assert_int_equal(code_issue(s, txn, "alice", other, PWR_KIND_ADMIN, now, 600, 5, fp), 0);
	assert_int_equal(code_verify(s, txn, "alice", code, now + 1, fp), -EACCES);
	assert_int_equal(code_verify(s, txn, "alice", other, now + 1, fp), 0);
	assert_int_equal(code_get(s, txn, "alice", now + 1, &rec), 0);
	assert_int_equal(rec.kind, PWR_KIND_ADMIN);
	assert_int_equal(rec.failures, 1);
	/* revoked */
	assert_int_equal(code_revoke(s, txn, "alice"), 0);
	assert_int_equal(code_revoke(s, txn, "alice"), -ENOENT);
	assert_int_equal(code_verify(s, txn, "alice", other, now + 1, fp), -EACCES);
	assert_int_equal(store_commit(txn), 0);
	store_close(s);
}

static void test_attempts(void **state)
{
	struct store *s = open_store("attempts");
	unsigned char fp[CODE_FP_BYTES];
	char code[CODE_LEN + 1], wrong[CODE_LEN + 1];
	struct code_rec rec;
	MDB_txn *txn;
	(void)state;

	code_fingerprint(s, NULL, fp);
	code_generate(code);
	assert_int_equal(store_begin(s, true, &txn), 0);
	assert_int_equal(code_issue(s, txn, "carol", code, PWR_KIND_SELF, 100, 600, 5, fp), 0);
	for (int i = 0; i < 4; i++) {
		do
			code_generate(wrong);
		while (!strcmp(wrong, code));
		assert_int_equal(code_verify(s, txn, "carol", wrong, 101, fp), -EACCES);
	}
	/* four wrong: the right one still works */
	assert_int_equal(code_verify(s, txn, "carol", code, 101, fp), 0);
	assert_int_equal(code_verify(s, txn, "carol", wrong, 101, fp), -EACCES);
	/* five wrong: dead, even for the right code; more wrong tries change nothing */
	assert_int_equal(code_verify(s, txn, "carol", code, 101, fp), -EACCES);
	assert_int_equal(code_verify(s, txn, "carol", wrong, 101, fp), -EACCES);
	assert_int_equal(code_get(s, txn, "carol", 101, &rec), -ENOENT);
	assert_int_equal(rec.failures, 5);
	assert_int_equal(store_commit(txn), 0);
	store_close(s);
}

static void test_purge(void **state)
{
	struct store *s = open_store("purge");
	unsigned char fp[CODE_FP_BYTES] = {0};
	char code[CODE_LEN + 1];
	MDB_txn *txn;
	bool ok;
	(void)state;

	code_generate(code);
	assert_int_equal(store_begin(s, true, &txn), 0);
	assert_int_equal(code_issue(s, txn, "old", code, PWR_KIND_SELF, 100, 600, 5, fp), 0);
	assert_int_equal(code_issue(s, txn, "new", code, PWR_KIND_SELF, 5000, 600, 5, fp), 0);
	assert_int_equal(rate_take(s, txn, "u:old", 3, 3600, 100, &ok), 0);
	assert_int_equal(rate_take(s, txn, "u:new", 3, 3600, 5000, &ok), 0);
	assert_int_equal(code_purge(s, txn, 5000, 600), 1);
	assert_int_equal(rate_purge(s, txn, 5000, 3600), 1);
	assert_int_equal(code_revoke(s, txn, "old"), -ENOENT);
	assert_int_equal(code_revoke(s, txn, "new"), 0);
	assert_int_equal(store_commit(txn), 0);
	store_close(s);
}

static void test_rate_window(void **state)
{
	struct store *s = open_store("rate");
	MDB_txn *txn;
	bool ok;
	(void)state;

	assert_int_equal(store_begin(s, true, &txn), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rate_take(s, txn, "u:dave", 3, 3600, 1000 + (uint64_t)i, &ok), 0);
		assert_true(ok);
	}
	assert_int_equal(rate_take(s, txn, "u:dave", 3, 3600, 1010, &ok), 0);
	assert_false(ok);
	/* sliding: the first event leaves the window at 4600 */
	assert_int_equal(rate_take(s, txn, "u:dave", 3, 3600, 4599, &ok), 0);
	assert_false(ok);
	assert_int_equal(rate_take(s, txn, "u:dave", 3, 3600, 4600, &ok), 0);
	assert_true(ok);
	/* other buckets are separate; 0 is no limit */
	assert_int_equal(rate_take(s, txn, "u:erin", 3, 3600, 4600, &ok), 0);
	assert_true(ok);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(rate_take(s, txn, "h:mail", 0, 60, 4600, &ok), 0);
		assert_true(ok);
	}
	assert_int_equal(store_commit(txn), 0);
	/* held across a reopen of the store */
	store_close(s);
	s = open_store("rate");
	assert_int_equal(store_begin(s, true, &txn), 0);
	assert_int_equal(rate_take(s, txn, "u:dave", 3, 3600, 4600, &ok), 0);
	assert_false(ok);
	store_abort(txn);
	store_close(s);
}

static void test_mailq_and_no_plaintext(void **state)
{
	struct store *s = open_store("plain");
	unsigned char fp[CODE_FP_BYTES] = {0};
	char codes[20][CODE_LEN + 1], back[CODE_LEN + 1], path[128];
	struct mail_rec rec;
	MDB_txn *txn;
	uint64_t id, prev = 0;
	char *data;
	size_t len;
	int fd;
	(void)state;

	assert_int_equal(store_begin(s, true, &txn), 0);
	for (int i = 0; i < 20; i++) {
		char user[16];
		snprintf(user, sizeof(user), "user%d", i);
		code_generate(codes[i]);
		memset(&rec, 0, sizeof(rec));
		rec.kind = PWR_MAIL_CODE;
		snprintf(rec.user, sizeof(rec.user), "%s", user);
		snprintf(rec.to, sizeof(rec.to), "%s@example.org", user);
		assert_int_equal(
			code_issue(s, txn, user, codes[i], PWR_KIND_SELF, 1, 600, 5, fp), 0);
		assert_int_equal(mailq_push(s, txn, &rec, codes[i], &id), 0);
		assert_true(id > prev);
		prev = id;
	}
	assert_int_equal(store_commit(txn), 0);

	assert_int_equal(store_begin(s, false, &txn), 0);
	id = 0;
	for (int i = 0; i < 20; i++) {
		assert_int_equal(mailq_next(s, txn, id, &id, &rec), 0);
		assert_int_equal(rec.state, PWR_MAIL_QUEUED);
		assert_int_equal(mailq_unseal(s, &rec, back), 0);
		assert_string_equal(back, codes[i]);
		rec.sealed[3] ^= 1; /* tampered: refused */
		assert_int_equal(mailq_unseal(s, &rec, back), -EBADMSG);
	}
	assert_int_equal(mailq_next(s, txn, id, &id, &rec), -ENOENT);
	store_abort(txn);
	store_close(s);

	/* the files of the store hold none of the codes, in either form */
	snprintf(path, sizeof(path), "%s/plain/data.mdb", dir);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(util_read_all(fd, 64 << 20, &data, &len), 0);
	close(fd);
	for (int i = 0; i < 20; i++) {
		char shown[CODE_SHOWN_LEN + 1];
		code_format(codes[i], shown);
		assert_null(memmem(data, len, codes[i], CODE_LEN));
		assert_null(memmem(data, len, shown, CODE_SHOWN_LEN));
	}
	free(data);
}

/* Sent and failed mails go after a week; queued and deferred ones stay however old. */
static void test_mailq_purge(void **state)
{
	static const uint32_t states[] = {
		PWR_MAIL_QUEUED, PWR_MAIL_SENT, PWR_MAIL_DEFERRED, PWR_MAIL_FAILED};
	struct store *s = open_store("purge");
	struct mail_rec rec;
	MDB_txn *txn;
	uint64_t id, week = 7 * 86400, now = 100 * 86400;
	(void)state;

	assert_int_equal(store_begin(s, true, &txn), 0);
	for (int i = 0; i < 8; i++) {
		memset(&rec, 0, sizeof(rec));
		rec.kind = PWR_MAIL_CHANGED;
		rec.created = i < 4 ? now - week - 1 : now - week + 1; /* old, then young */
		snprintf(rec.user, sizeof(rec.user), "user%d", i);
		assert_int_equal(mailq_push(s, txn, &rec, NULL, &id), 0);
		rec.state = states[i % 4];
		assert_int_equal(mailq_put(s, txn, id, &rec), 0);
	}
	assert_int_equal(mailq_purge(s, txn, now, week), 2);
	assert_int_equal(mailq_purge(s, txn, now, week), 0);
	id = 0;
	for (int i = 0; i < 8; i++) {
		if (i == 1 || i == 3)
			continue; /* old and sent, old and failed: gone */
		assert_int_equal(mailq_next(s, txn, id, &id, &rec), 0);
		assert_int_equal(id, (uint64_t)i + 1);
	}
	assert_int_equal(mailq_next(s, txn, id, &id, &rec), -ENOENT);
	store_abort(txn);
	store_close(s);
}

/* A mail queued before the upgrade that gave records their language (version 2, without it)
 * is read, sent in the default language and purged like the others; one of an unknown
 * version or size is refused. */
static void test_mailq_version_2(void **state)
{
	struct store *s = open_store("v2");
	struct mail_rec rec, back;
	MDB_txn *txn;
	MDB_val k, v;
	uint64_t id = 7, now = 100 * 86400;
	(void)state;

	memset(&rec, 0, sizeof(rec));
	rec.version = 2;
	rec.kind = PWR_MAIL_CHANGED;
	rec.state = PWR_MAIL_SENT;
	rec.created = now - 30 * 86400;
	snprintf(rec.user, sizeof(rec.user), "old");
	snprintf(rec.lang, sizeof(rec.lang), "xx"); /* beyond a version 2 record: not read */
	assert_int_equal(store_begin(s, true, &txn), 0);
	k = (MDB_val){sizeof(id), &id};
	v = (MDB_val){offsetof(struct mail_rec, lang), &rec};
	assert_int_equal(mdb_put(txn, store_db(s, STORE_DB_MAILQ), &k, &v, 0), 0);
	assert_int_equal(mailq_get(s, txn, id, &back), 0);
	assert_string_equal(back.user, "old");
	assert_string_equal(back.lang, "");
	assert_int_equal(back.version, 3);
	/* a version 3 record of version 2's size, or version 2 of version 3's, is not one */
	rec.version = 3;
	assert_int_equal(mdb_put(txn, store_db(s, STORE_DB_MAILQ), &k, &v, 0), 0);
	assert_int_equal(mailq_get(s, txn, id, &back), -EBADMSG);
	rec.version = 2;
	v.mv_size = sizeof(rec);
	assert_int_equal(mdb_put(txn, store_db(s, STORE_DB_MAILQ), &k, &v, 0), 0);
	assert_int_equal(mailq_get(s, txn, id, &back), -EBADMSG);
	v.mv_size = offsetof(struct mail_rec, lang);
	assert_int_equal(mdb_put(txn, store_db(s, STORE_DB_MAILQ), &k, &v, 0), 0);
	assert_int_equal(mailq_purge(s, txn, now, 7 * 86400), 1); /* old and sent: gone */
	assert_int_equal(mailq_get(s, txn, id, &back), -ENOENT);
	store_abort(txn);
	store_close(s);
}

/* The courier looks only at queued and deferred mails; the index of them follows every state
 * change, and a store made before the index existed gets it when opened. */
static void test_mailq_due_index(void **state)
{
	static const uint32_t states[] = {
		PWR_MAIL_QUEUED, PWR_MAIL_SENT, PWR_MAIL_DEFERRED, PWR_MAIL_FAILED};
	struct store *s = open_store("due");
	struct mail_rec rec;
	MDB_txn *txn;
	uint64_t id;
	(void)state;

	assert_int_equal(store_begin(s, true, &txn), 0);
	for (int i = 0; i < 8; i++) {
		memset(&rec, 0, sizeof(rec));
		rec.kind = PWR_MAIL_CHANGED;
		assert_int_equal(mailq_push(s, txn, &rec, NULL, &id), 0);
		rec.state = states[i % 4];
		assert_int_equal(mailq_put(s, txn, id, &rec), 0);
	}
	/* due: 1 (queued), 3 (deferred), 5, 7; then 5 is sent, 2 is deferred again, 7 failed */
	rec.state = PWR_MAIL_SENT;
	assert_int_equal(mailq_put(s, txn, 5, &rec), 0);
	rec.state = PWR_MAIL_DEFERRED;
	assert_int_equal(mailq_put(s, txn, 2, &rec), 0);
	rec.state = PWR_MAIL_FAILED;
	assert_int_equal(mailq_put(s, txn, 7, &rec), 0);
	assert_int_equal(store_commit(txn), 0);
	for (int pass = 0; pass < 2; pass++) {
		static const uint64_t want[] = {1, 2, 3};
		assert_int_equal(store_begin(s, true, &txn), 0);
		id = 0;
		for (size_t i = 0; i < 3; i++) {
			assert_int_equal(mailq_next_due(s, txn, id, &id, &rec), 0);
			assert_int_equal(id, want[i]);
		}
		assert_int_equal(mailq_next_due(s, txn, id, &id, &rec), -ENOENT);
		if (pass == 1) {
			store_abort(txn);
			break;
		}
		/* as a store of an older version: no index; opening it again builds it */
		assert_int_equal(mdb_drop(txn, store_db(s, STORE_DB_MAILQ_DUE), 1), 0);
		assert_int_equal(store_commit(txn), 0);
		store_close(s);
		s = open_store("due");
	}
	store_close(s);
}

static void test_store_files(void **state)
{
	char path[128], key1[32], key2[32];
	struct stat st;
	struct store *s;
	int fd;
	(void)state;

	s = open_store("files");
	store_close(s);
	snprintf(path, sizeof(path), "%s/files", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/files/server.key", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, key1, 32), 32);
	close(fd);
	/* reopened: the same key */
	s = open_store("files");
	store_close(s);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, key2, 32), 32);
	close(fd);
	assert_memory_equal(key1, key2, 32);
	/* a key others can read is refused, not used */
	chmod(path, 0644);
	snprintf(path, sizeof(path), "%s/files", dir);
	assert_int_equal(store_open(path, 0, store_fills, &s), -EBADF);
	/* a too open state directory is closed again */
	chmod(path, 0755);
	snprintf(path, sizeof(path), "%s/files/server.key", dir);
	chmod(path, 0600);
	snprintf(path, sizeof(path), "%s/files", dir);
	assert_int_equal(store_open(path, 0, store_fills, &s), 0);
	store_close(s);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
}

/* A full map fails the write with -ENOSPC; what was committed before stays readable. */
/* Queue empty mails, each in a transaction of its own, until refused writes reach `refused`
 * (or `tries` transactions were made); the number of writes made, and in *last the last
 * result. */
static int push_until_full(struct store *s, int tries, int refused, int *last)
{
	int i, r = 0, n = 0;

	for (i = 0; i < tries && n < refused; i++) {
		struct mail_rec rec = {0};
		MDB_txn *txn;
		uint64_t id;
		if ((r = store_begin(s, true, &txn)) < 0)
			break;
		r = mailq_push(s, txn, &rec, NULL, &id);
		if (r == 0)
			r = store_commit(txn);
		else
			store_abort(txn);
		n += r == -ENOSPC;
	}
	*last = r;
	return i;
}

static void test_full_map(void **state)
{
	char path[128];
	struct store *s;
	MDB_txn *txn;
	int r = 0, i;
	(void)state;

	snprintf(path, sizeof(path), "%s/full", dir);
	assert_int_equal(store_open(path, 256 * 1024, store_fills, &s), 0);
	assert_int_equal(store_begin(s, true, &txn), 0);
	assert_int_equal(rate_take(s, txn, "u:first", 3, 3600, 1, &(bool){0}), 0);
	assert_int_equal(store_commit(txn), 0);
	i = push_until_full(s, 10000, 1, &r);
	assert_int_equal(r, -ENOSPC);
	assert_true(i > 10);
	assert_int_equal(store_begin(s, true, &txn), 0);
	bool ok = true;
	assert_int_equal(rate_take(s, txn, "u:first", 1, 3600, 2, &ok), 0);
	assert_false(ok);
	store_abort(txn);
	store_close(s);
}

/* A full store fails every write, and says so once a minute, not once a write. */
static void test_full_store_said_once(void **state)
{
	char path[128], logpath[160], line[512];
	struct store *s;
	int r, n, saved, fd, said = 0;
	FILE *f;
	(void)state;

	snprintf(path, sizeof(path), "%s/full-log", dir);
	snprintf(logpath, sizeof(logpath), "%s/stderr", dir);
	assert_int_equal(store_open(path, 256 * 1024, store_fills, &s), 0);
	log_init("test-code", 1);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	n = push_until_full(s, 20000, 500, &r);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	store_close(s);
	assert_int_equal(r, -ENOSPC);
	assert_true(n < 20000); /* 500 refused: the loop stopped there */
	assert_non_null(f = fopen(logpath, "r"));
	while (fgets(line, sizeof(line), f))
		said += strstr(line, "the store is full") != NULL;
	fclose(f);
	assert_int_equal(said, 1);
}

static volatile sig_atomic_t signalled;

static void on_usr1(int sig)
{
	(void)sig;
	signalled++;
}

/* A child of ours holds a write transaction for hold_ms; 0 once it does. */
static pid_t hold_write(struct store *s, int hold_ms)
{
	int p[2];
	char c;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		MDB_txn *txn;
		if (store_reopen(s) < 0 || store_begin(s, true, &txn) < 0)
			_exit(1);
		if (write(p[1], "h", 1) != 1)
			_exit(1);
		usleep((useconds_t)hold_ms * 1000);
		_exit(store_commit(txn) < 0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

/* Another process's write: ours waits for its turn with signals deliverable (a SIGTERM
 * reaches a waiting daemon), and gives up after its bound; a forked child has its own
 * environment (store_reopen). */
static void test_write_turn(void **state)
{
	struct store *s = open_store("turn");
	struct sigaction sa = {.sa_handler = on_usr1};
	struct timespec t0, t1;
	MDB_txn *txn;
	pid_t holder, poker;
	int status;
	long ms;
	(void)state;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	holder = hold_write(s, 600);
	poker = fork();
	if (poker == 0) {
		usleep(200 * 1000);
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_begin(s, true, &txn), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 300); /* it waited for the holder */
	assert_int_equal(signalled, 1); /* and the signal came while it waited */
	assert_int_equal(store_commit(txn), 0);
	waitpid(holder, &status, 0);
	assert_int_equal(status, 0);
	waitpid(poker, &status, 0);

	store_write_wait(s, 300);
	holder = hold_write(s, 1500);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_begin(s, true, &txn), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 250 && ms < 1200);
	waitpid(holder, &status, 0);
	assert_int_equal(status, 0);
	assert_int_equal(store_begin(s, true, &txn), 0); /* its turn, once the other is done */
	store_abort(txn);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_pending_address),
		cmocka_unit_test(test_generate_and_format),
		cmocka_unit_test(test_uniformity),
		cmocka_unit_test(test_issue_verify_consume_rules),
		cmocka_unit_test(test_attempts),
		cmocka_unit_test(test_purge),
		cmocka_unit_test(test_rate_window),
		cmocka_unit_test(test_mailq_and_no_plaintext),
		cmocka_unit_test(test_mailq_purge),
		cmocka_unit_test(test_mailq_version_2),
		cmocka_unit_test(test_mailq_due_index),
		cmocka_unit_test(test_store_files),
		cmocka_unit_test(test_write_turn),
		cmocka_unit_test(test_full_store_said_once), /* first to fill a store: it counts */
		cmocka_unit_test(test_full_map),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
