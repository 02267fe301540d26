/* SPDX-License-Identifier: BSD-3-Clause */
/* Eligibility: every reason in check's words and order; address validation, host-only
 * addresses, and addresses shared between accounts (case-insensitively); the index of
 * addresses always agrees with the records, and is rebuilt when a store lacks it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "address.h"
#include "eligible.h"
#include "mailaddr.h"
#include "storefill.h"

static const struct elig_facts good = {
	.self_reset = true,
	.exists = true,
	.local_shadow = true,
	.has_address = true,
	.uid = 2001,
	.address = "alice@example.org",
};

static void expect(const struct elig_facts *f, int n, const char *reasons)
{
	char out[PWR_TEXT_MAX + 1];
	int got = eligible_reasons(f, out, sizeof(out));
	if (got != n || strcmp(out, reasons) != 0)
		fail_msg("got %d '%s', expected %d '%s'", got, out, n, reasons);
}

static void test_reasons(void **state)
{
	struct elig_facts f;
	(void)state;

	expect(&good, 0, "");

	f = good;
	f.self_reset = false;
	expect(&f, 1, "disabled");

	f = good;
	f.exists = false;
	f.has_address = false;
	expect(&f, 2, "no-account,no-address");

	f = good;
	f.local_shadow = false;
	expect(&f, 1, "not-local-shadow");

	/* SPEC §12: with a directory, an account that is not local is the directory's, is not
	 * in it, or cannot be told (then its address is not guessed at either) */
	f = good;
	f.local_shadow = false;
	f.directory_on = true;
	f.directory = true;
	expect(&f, 0, "");
	f.directory = false;
	expect(&f, 1, "not-in-directory");
	f.unreachable = true;
	f.has_address = false;
	expect(&f, 1, "directory-unreachable");

	f = good;
	f.system_account = true;
	expect(&f, 1, "system-account");

	f = good;
	f.excluded = true;
	expect(&f, 1, "excluded");

	f = good;
	f.expired = true;
	expect(&f, 1, "expired");

	f = good;
	f.has_address = false;
	expect(&f, 1, "no-address");

	f = good;
	f.sharers = 2;
	strcpy(f.shared_with, "erin,frank");
	expect(&f, 1, "shared-address:erin,frank");

	f = good;
	f.local_only = true;
	expect(&f, 1, "local-only-address");

	/* every reason at once, in the order check prints them */
	f = good;
	f.self_reset = false;
	f.local_shadow = false;
	f.system_account = true;
	f.excluded = true;
	f.expired = true;
	f.sharers = 1;
	f.local_only = true;
	strcpy(f.shared_with, "erin");
	expect(&f, 7,
		"disabled,not-local-shadow,system-account,excluded,expired,local-only-address,"
		"shared-address:erin");

	/* without an account, its own reasons are not guessed at */
	f.exists = false;
	expect(&f, 4, "disabled,no-account,local-only-address,shared-address:erin");
}

static void test_address_validate(void **state)
{
	static const char *ok[] = {"alice@example.org", "a.b+tag@sub.example.co.uk", "x@y",
		"ALICE@EXAMPLE.ORG", "o'brien@example.ie"};
	static const char *bad[] = {"", "alice", "@example.org", "alice@", "a@b@c",
		"alice @example.org", "alice@exa mple.org", "alice@example.org\r\nBcc: x@y",
		"alice@example.org\n", "al\x01ice@example.org", "<alice@example.org>",
		"alice@.example.org", "alice@example.org.", "alice@example..org",
		"a,b@example.org"};
	char why[256], longaddr[300];
	(void)state;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (mailaddr_validate(ok[i], why, sizeof(why)) != 0)
			fail_msg("'%s' refused: %s", ok[i], why);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (mailaddr_validate(bad[i], why, sizeof(why)) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(strlen(why) > 0);
	}
	memset(longaddr, 'a', sizeof(longaddr));
	memcpy(longaddr + 240, "@example.org", 13); /* 252 bytes: fine */
	assert_int_equal(mailaddr_validate(longaddr, why, sizeof(why)), 0);
	memcpy(longaddr + 243, "@example.org", 13); /* 255 bytes: too long */
	assert_int_equal(mailaddr_validate(longaddr, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "the address is longer than 254 bytes");
}

static void test_mask(void **state)
{
	char out[PWR_ADDR_MAX + 1], small[8];
	(void)state;

	mailaddr_mask("alice@example.org", out, sizeof(out));
	assert_string_equal(out, "a***@example.org");
	mailaddr_mask("b@x.org", out, sizeof(out));
	assert_string_equal(out, "b***@x.org");
	mailaddr_mask("no-at-sign", out, sizeof(out));
	assert_string_equal(out, "***");
	mailaddr_mask("@example.org", out, sizeof(out));
	assert_string_equal(out, "***");
	mailaddr_mask("carol@example.org", small, sizeof(small));
	assert_string_equal(small, "c***@ex"); /* cut, never overrun */
}

static void test_local_only(void **state)
{
	struct pwr_conf c;
	char host[256] = "", addr[300];
	(void)state;

	assert_int_equal(conf_init(&c), 0);
	assert_true(address_local_only(&c, "root@localhost"));
	assert_true(address_local_only(&c, "root@LOCALHOST.localdomain"));
	assert_true(address_local_only(&c, "alice@intranet")); /* no dot: not reachable elsewhere */
	assert_false(address_local_only(&c, "alice@example.org"));
	gethostname(host, sizeof(host) - 1);
	snprintf(addr, sizeof(addr), "alice@%s", host);
	assert_true(address_local_only(&c, addr));
	conf_free(&c);

	assert_int_equal(conf_init(&c), 0);
	assert_int_equal(conf_parse(&c, "t", "local_domains = corp.example\n", 28, NULL, NULL), 0);
	assert_true(address_local_only(&c, "alice@Corp.Example"));
	assert_false(address_local_only(&c, "alice@example.org"));
	conf_free(&c);
}

static void test_sharers(void **state)
{
	char dir[] = "/tmp/pwr-elig-XXXXXX", cmd[128], list[PWR_TEXT_MAX], addr[PWR_ADDR_MAX + 1];
	struct store *s;
	MDB_txn *txn;
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, 0, store_fills, &s), 0);
	assert_int_equal(store_begin(s, true, &txn), 0);
	assert_int_equal(address_set(s, txn, "carol", "Team@Example.org"), 0);
	assert_int_equal(address_set(s, txn, "erin", "team@example.ORG"), 0);
	assert_int_equal(address_set(s, txn, "frank", "team@example.org"), 0);
	assert_int_equal(address_set(s, txn, "gina", "gina@example.org"), 0);
	assert_int_equal(
		address_sharers(s, txn, "TEAM@example.org", "carol", list, sizeof(list)), 2);
	assert_string_equal(list, "erin,frank");
	assert_int_equal(
		address_sharers(s, txn, "gina@example.org", "gina", list, sizeof(list)), 0);
	assert_string_equal(list, "");
	/* moving frank away leaves carol and erin */
	assert_int_equal(address_set(s, txn, "frank", "frank@example.org"), 0);
	assert_int_equal(
		address_sharers(s, txn, "team@example.org", "carol", list, sizeof(list)), 1);
	assert_string_equal(list, "erin");
	assert_int_equal(address_unset(s, txn, "erin"), 0);
	assert_int_equal(address_unset(s, txn, "erin"), -ENOENT);
	assert_int_equal(
		address_sharers(s, txn, "team@example.org", "carol", list, sizeof(list)), 0);
	assert_int_equal(address_get(s, txn, "carol", addr), 0);
	assert_string_equal(addr, "Team@Example.org"); /* kept as registered */
	assert_int_equal(address_get(s, txn, "erin", addr), -ENOENT);
	assert_int_equal(store_commit(txn), 0);
	store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- the index of addresses ---- */

#define NUSERS 40
#define NADDRS 12

struct pairs {
	char v[NUSERS * 2][PWR_ADDR_MAX + PWR_USER_MAX + 2]; /* "address user", address lower */
	size_t n;
};

static int pair_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int record_pair(void *ctx, const char *user, const char *addr)
{
	struct pairs *p = ctx;
	size_t i;

	assert_true(p->n < NUSERS * 2);
	snprintf(p->v[p->n], sizeof(p->v[0]), "%s %s", addr, user);
	for (i = 0; p->v[p->n][i] != ' '; i++)
		p->v[p->n][i] =
			(char)(p->v[p->n][i] >= 'A' && p->v[p->n][i] <= 'Z' ? p->v[p->n][i] + 32
									    : p->v[p->n][i]);
	p->n++;
	return 0;
}

static int index_pair(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct pairs *p = ctx;
	const char *key = k->mv_data, *nul = memchr(key, 0, k->mv_size);

	(void)v;
	assert_non_null(nul);
	assert_true(p->n < NUSERS * 2);
	snprintf(p->v[p->n++], sizeof(p->v[0]), "%s %.*s", key,
		(int)(k->mv_size - (size_t)(nul - key) - 1), nul + 1);
	return 0;
}

/* The index holds exactly one key for each record: its address in lower case, and its user. */
static void assert_index_agrees(struct store *s)
{
	static struct pairs recs, idx;
	MDB_txn *txn;

	recs.n = idx.n = 0;
	assert_int_equal(store_begin(s, false, &txn), 0);
	assert_int_equal(address_each(s, txn, "", record_pair, &recs), 0);
	assert_int_equal(store_each(s, txn, STORE_DB_ADDR_IDX, "", 0, index_pair, &idx), 0);
	store_abort(txn);
	qsort(recs.v, recs.n, sizeof(recs.v[0]), pair_cmp);
	qsort(idx.v, idx.n, sizeof(idx.v[0]), pair_cmp);
	assert_int_equal(idx.n, recs.n);
	for (size_t i = 0; i < recs.n; i++)
		assert_string_equal(idx.v[i], recs.v[i]);
}

/* Random sets (an administrator's), unsets, imports (many in one transaction, some failing
 * as a whole) and confirms (a user's, with the time), each a commit of its own; after each,
 * the index agrees with the records and the sharers it names are the records' own. Then the
 * index is dropped, as in a store from before it, and store_open builds it again. */
static void test_address_index(void **state)
{
	char dir[] = "/tmp/pwr-idx-XXXXXX", cmd[128], user[16], addr[64], list[PWR_TEXT_MAX];
	struct store *s;
	MDB_txn *txn;
	MDB_dbi dbi;
	unsigned seed = 20261204;
	(void)state;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, 0, store_fills, &s), 0);
	for (int step = 0; step < 600; step++) {
		int op = rand_r(&seed) % 4, n = op == 2 ? 1 + rand_r(&seed) % 8 : 1;
		assert_int_equal(store_begin(s, true, &txn), 0);
		for (int i = 0; i < n; i++) {
			int a = rand_r(&seed) % NADDRS;
			struct address_info info = {
				.source = PWR_SOURCE_USER, .confirmed = 1 + step};
			snprintf(user, sizeof(user), "u%02d", rand_r(&seed) % NUSERS);
			/* the same address in several cases */
			snprintf(addr, sizeof(addr), "%s%d@Example.org",
				rand_r(&seed) % 2 ? "Team" : "team", a);
			if (op == 1) {
				int r = address_unset(s, txn, user);
				assert_true(r == 0 || r == -ENOENT);
			} else if (op == 3) {
				snprintf(info.addr, sizeof(info.addr), "%s", addr);
				assert_int_equal(address_set_info(s, txn, user, &info), 0);
			} else {
				assert_int_equal(address_set(s, txn, user, addr), 0);
			}
		}
		/* an import that fails part way is not committed at all */
		if (op == 2 && rand_r(&seed) % 4 == 0)
			store_abort(txn);
		else
			assert_int_equal(store_commit(txn), 0);
		assert_index_agrees(s);
	}
	/* the sharers of each address, from the index, are the users the records give it */
	assert_int_equal(store_begin(s, false, &txn), 0);
	for (int u = 0; u < NUSERS; u++) {
		char mine[PWR_ADDR_MAX + 1], theirs[PWR_ADDR_MAX + 1];
		int want = 0;
		snprintf(user, sizeof(user), "u%02d", u);
		if (address_get(s, txn, user, mine) < 0)
			continue;
		for (int o = 0; o < NUSERS; o++) {
			char other[16];
			snprintf(other, sizeof(other), "u%02d", o);
			want += o != u && address_get(s, txn, other, theirs) == 0 &&
				!strcasecmp(mine, theirs);
		}
		assert_int_equal(address_sharers(s, txn, mine, user, list, sizeof(list)), want);
	}
	store_abort(txn);
	/* a store without the index (from before it): opened, it has it again, whole */
	assert_int_equal(store_begin(s, true, &txn), 0);
	dbi = store_db(s, STORE_DB_ADDR_IDX);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(store_commit(txn), 0);
	store_close(s);
	assert_int_equal(store_open(dir, 0, store_fills, &s), 0);
	assert_index_agrees(s);
	store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_address_validate),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_local_only),
		cmocka_unit_test(test_sharers),
		cmocka_unit_test(test_address_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
