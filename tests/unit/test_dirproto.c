/* SPDX-License-Identifier: BSD-3-Clause */
/* The helper–pwreset-directory codec (SPEC §12): round trips, and what each end refuses; the
 * user filter with a name put in. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dirproto.h"
#include "ldapfilter.h"

static unsigned char buf[DIRREQ_PACKET_MAX];

static struct dirreq config(void)
{
	return (struct dirreq){.tag = 9,
		.op = DIR_CONFIG,
		.starttls = DIR_TLS_REQUIRED,
		.timeout = 5,
		.urls = "ldap://127.0.0.1:3389",
		.ca_file = "/ca.pem",
		.bind_dn = "cn=pwreset,dc=example,dc=org",
		.password = "bind-secret",
		.base = "ou=people,dc=example,dc=org",
		.filter = "(&(objectClass=posixAccount)(uid=%u))",
		.attr = "mail",
		.lang_attr = "preferredLanguage"};
}

static void test_request_round_trip(void **state)
{
	struct dirreq q = config(), back;
	long n = dirproto_req_encode(&q, buf, sizeof(buf));

	(void)state;
	assert_true(n > 0);
	assert_int_equal(dirproto_req_decode(buf, (size_t)n, &back), 0);
	assert_int_equal(back.tag, 9);
	assert_string_equal(back.password, "bind-secret");
	assert_string_equal(back.filter, q.filter);
	assert_string_equal(back.lang_attr, "preferredLanguage");
	assert_string_equal(back.user, "");
	/* every shorter packet is refused, and one byte more too */
	for (long k = 0; k < n; k++)
		assert_int_equal(dirproto_req_decode(buf, (size_t)k, &back), -EBADMSG);
	buf[n] = 0;
	assert_int_equal(dirproto_req_decode(buf, (size_t)n + 1, &back), -EBADMSG);
}

static void test_request_needs(void **state)
{
	struct dirreq q = config(), back;
	long n;

	(void)state;
	q.filter = "(uid=lena)"; /* no %u: it would find the same entry for everyone */
	n = dirproto_req_encode(&q, buf, sizeof(buf));
	assert_int_equal(dirproto_req_decode(buf, (size_t)n, &back), -EBADMSG);
	q = config();
	q.timeout = 0;
	n = dirproto_req_encode(&q, buf, sizeof(buf));
	assert_int_equal(dirproto_req_decode(buf, (size_t)n, &back), -EBADMSG);
	q = (struct dirreq){.op = DIR_PASSWD, .dn = "uid=lena,dc=example,dc=org"};
	n = dirproto_req_encode(&q, buf, sizeof(buf));
	assert_int_equal(dirproto_req_decode(buf, (size_t)n, &back), -EBADMSG); /* no password */
	q = (struct dirreq){.op = 99};
	n = dirproto_req_encode(&q, buf, sizeof(buf));
	assert_int_equal(dirproto_req_decode(buf, (size_t)n, &back), -EBADMSG);
	q = (struct dirreq){.op = DIR_LOOKUP, .user = "lena", .uid = 10001};
	n = dirproto_req_encode(&q, buf, sizeof(buf));
	assert_int_equal(dirproto_req_decode(buf, (size_t)n, &back), 0);
	assert_int_equal(back.uid, 10001);
}

static void test_encode_refuses(void **state)
{
	char big[DIR_DN_MAX + 2];
	struct dirreq q = {.op = DIR_LOCK, .dn = big};

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(dirproto_req_encode(&q, buf, sizeof(buf)), -EINVAL);
	q.dn = "uid=lena";
	assert_int_equal(dirproto_req_encode(&q, buf, 16), -EMSGSIZE);
}

static void test_answer(void **state)
{
	static struct dirans a, back;
	long n;

	(void)state;
	a = (struct dirans){.tag = 4, .status = DIR_REFUSED, .more = 0};
	strcpy(a.text, "Password fails quality checking policy");
	strcpy(a.language, "ja_JP");
	n = dirproto_ans_encode(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(dirproto_ans_decode(buf, (size_t)n, &back), 0);
	assert_string_equal(back.text, a.text);
	assert_string_equal(back.language, "ja_JP");
	a.status = DIR_STATUS_LAST + 1;
	n = dirproto_ans_encode(&a, buf, sizeof(buf));
	assert_int_equal(dirproto_ans_decode(buf, (size_t)n, &back), -EBADMSG);
	a.status = DIR_OK;
	a.more = 2;
	n = dirproto_ans_encode(&a, buf, sizeof(buf));
	assert_int_equal(dirproto_ans_decode(buf, (size_t)n, &back), -EBADMSG);
	assert_string_equal(back.text, ""); /* nothing half-decoded is left */
}

static void test_filter_for(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(
		ldapfilter_for("(&(objectClass=posixAccount)(uid=%u))", "lena", out, sizeof(out)),
		strlen("(&(objectClass=posixAccount)(uid=lena))"));
	assert_string_equal(out, "(&(objectClass=posixAccount)(uid=lena))");
	/* what would widen the search is escaped (RFC 4515) */
	ldapfilter_for("(uid=%u)", "*)(uid=*", out, sizeof(out));
	assert_string_equal(out, "(uid=\\2a\\29\\28uid=\\2a)");
	ldapfilter_for("(|(uid=%u)(cn=%u))", "a\\b", out, sizeof(out));
	assert_string_equal(out, "(|(uid=a\\5cb)(cn=a\\5cb))");
	/* no user: every entry of the filter */
	ldapfilter_for("(uid=%u)", NULL, out, sizeof(out));
	assert_string_equal(out, "(uid=*)");
	assert_int_equal(ldapfilter_for("(uid=%u)", "lena", out, 10), -ENAMETOOLONG);
	assert_true(ldapfilter_ok("(uid=%u)"));
	assert_false(ldapfilter_ok("(uid=%u))("));
	assert_true(ldapfilter_url_ok("ldap://[::1]:389/", 17));
	assert_false(ldapfilter_url_ok("ldap:///", 8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_request_needs),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_filter_for),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
