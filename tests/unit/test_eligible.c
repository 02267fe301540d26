/* SPDX-License-Identifier: BSD-3-Clause */
/* Eligibility: every reason in check's words and order; address validation, host-only
 * addresses, and addresses shared between accounts (case-insensitively). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "address.h"
#include "eligible.h"
#include "mailaddr.h"
#include "mailq.h"

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
	assert_int_equal(store_open(dir, 0, mailq_store_fill, &s), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_address_validate),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_local_only),
		cmocka_unit_test(test_sharers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
