/* SPDX-License-Identifier: BSD-3-Clause */
/* Configuration: every key accepted, every error reported with its file and line. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "confedit.h"

struct errs {
	int n;
	char lines[16][1024];
};

static void collect(void *ctx, const char *line)
{
	struct errs *e = ctx;
	if (e->n < 16)
		snprintf(e->lines[e->n], sizeof(e->lines[0]), "%s", line);
	e->n++;
}

static int parse(struct pwr_conf *c, const char *text, struct errs *e)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(conf_init(c), 0);
	return conf_parse(c, "t.conf", text, strlen(text), collect, e);
}

static void test_defaults(void **state)
{
	struct pwr_conf c;
	(void)state;
	assert_int_equal(conf_init(&c), 0);
	assert_true(c.self_reset);
	assert_true(c.user_addresses);
	assert_int_equal(c.code_ttl, 600);
	assert_int_equal(c.admin_code_ttl, 72 * 3600);
	assert_int_equal(c.code_attempts, 5);
	assert_int_equal(c.user_requests_per_hour, 3);
	assert_int_equal(c.rhost_requests_per_hour, 10);
	assert_int_equal(c.mails_per_minute, 30);
	assert_int_equal(c.min_length, 8);
	assert_int_equal(c.hash_method, CONF_HASH_AUTO);
	assert_true(conf_list_has(&c.exclude_users, "root"));
	assert_int_equal(c.exclude_users.n, 1);
	assert_string_equal(c.state_dir, "/var/lib/pwreset");
	assert_string_equal(c.socket, "/run/pwreset/helper.sock");
	assert_string_equal(c.templates_dir, "/etc/pwreset/mail");
	assert_string_equal(c.mail_user, "pwreset");
	assert_true(c.min_uid > 0);
	const struct conf_list *ld = conf_local_domains(&c);
	assert_true(conf_list_has(ld, "localhost"));
	assert_true(conf_list_has(ld, "localhost.localdomain"));
	assert_true(ld->n >= 3);
	conf_free(&c);
}

/* Group names as a directory's NSS gives them: spaces, a domain's backslash, an '@'. */
static void test_directory_group_names(void **state)
{
	struct pwr_conf c;
	struct errs e;

	(void)state;
	assert_int_equal(parse(&c,
				 "admin_protected_groups = Domain Admins, EXAMPLE\\domain admins, "
				 "admins@example.test\nexclude_groups = linux users\n",
				 &e),
		0);
	assert_int_equal(c.admin_protected_groups.n, 3);
	assert_string_equal(c.admin_protected_groups.items[0], "Domain Admins");
	assert_string_equal(c.admin_protected_groups.items[1], "EXAMPLE\\domain admins");
	assert_string_equal(c.admin_protected_groups.items[2], "admins@example.test");
	assert_string_equal(c.exclude_groups.items[0], "linux users");
	conf_free(&c);
}

static void test_every_key(void **state)
{
	static const char text[] = "# a comment\n"
				   "   # an indented comment\n"
				   "\n"
				   "self_reset = no\n"
				   "user_addresses = no\n"
				   "help_message = Call #4242 (the help desk) = fast\n"
				   "admin_group = pwadmin\n"
				   "min_uid = 2000\n"
				   "exclude_users = root, backup ,  svc\n"
				   "exclude_groups = wheel,nologin\n"
				   "local_domains = example.internal, corp.local\n"
				   "code_ttl = 15m\n"
				   "admin_code_ttl = 2d\n"
				   "code_attempts = 7\n"
				   "user_requests_per_hour = 0\n"
				   "rhost_requests_per_hour = 20\n"
				   "mails_per_minute = 60\n"
				   "min_length = 12\n"
				   "hash_method = sha512\n"
				   "notify_on_change = false\n"
				   "smtp_url = smtps://mail.example.org:465\n"
				   "smtp_starttls = opportunistic\n"
				   "smtp_user = relay\n"
				   "smtp_password_file = /etc/pwreset/smtp.pass\n"
				   "smtp_ca_file = /etc/ssl/certs/ca.pem\n"
				   "smtp_timeout = 45\n"
				   "mail_from = Password Reset <reset@example.org>\n"
				   "mail_max_age = 3h\n"
				   "templates_dir = /srv/pwreset/mail\n"
				   "state_dir = /srv/pwreset/state\n"
				   "socket = /run/pw/h.sock\n"
				   "mail_user = pwmail\r\n";
	struct pwr_conf c;
	struct errs e;

	(void)state;
	assert_int_equal(parse(&c, text, &e), 0);
	assert_false(c.self_reset);
	assert_false(c.user_addresses);
	assert_string_equal(c.help_message, "Call #4242 (the help desk) = fast");
	assert_string_equal(c.admin_group, "pwadmin");
	assert_int_equal(c.min_uid, 2000);
	assert_int_equal(c.exclude_users.n, 3);
	assert_string_equal(c.exclude_users.items[1], "backup");
	assert_string_equal(c.exclude_users.items[2], "svc");
	assert_int_equal(c.exclude_groups.n, 2);
	assert_true(conf_list_has(conf_local_domains(&c), "corp.local"));
	assert_int_equal(conf_local_domains(&c)->n, 2);
	assert_int_equal(c.code_ttl, 900);
	assert_int_equal(c.admin_code_ttl, 2 * 86400);
	assert_int_equal(c.code_attempts, 7);
	assert_int_equal(c.user_requests_per_hour, 0);
	assert_int_equal(c.rhost_requests_per_hour, 20);
	assert_int_equal(c.mails_per_minute, 60);
	assert_int_equal(c.min_length, 12);
	assert_int_equal(c.hash_method, CONF_HASH_SHA512);
	assert_false(c.notify_on_change);
	assert_string_equal(c.smtp_url, "smtps://mail.example.org:465");
	assert_int_equal(c.smtp_starttls, CONF_TLS_OPPORTUNISTIC);
	assert_string_equal(c.smtp_user, "relay");
	assert_string_equal(c.smtp_password_file, "/etc/pwreset/smtp.pass");
	assert_string_equal(c.smtp_ca_file, "/etc/ssl/certs/ca.pem");
	assert_int_equal(c.smtp_timeout, 45);
	assert_string_equal(c.mail_from, "Password Reset <reset@example.org>");
	assert_int_equal(c.mail_max_age, 3 * 3600);
	assert_string_equal(c.templates_dir, "/srv/pwreset/mail");
	assert_string_equal(c.state_dir, "/srv/pwreset/state");
	assert_string_equal(c.socket, "/run/pw/h.sock");
	assert_string_equal(c.mail_user, "pwmail");
	conf_free(&c);
}

static void test_empty_list_and_enums(void **state)
{
	struct pwr_conf c;
	struct errs e;
	(void)state;
	assert_int_equal(parse(&c,
				 "exclude_users =\nhash_method = yescrypt\nsmtp_starttls = off\n"
				 "self_reset = on\n",
				 &e),
		0);
	assert_int_equal(c.exclude_users.n, 0);
	assert_int_equal(c.hash_method, CONF_HASH_YESCRYPT);
	assert_int_equal(c.smtp_starttls, CONF_TLS_OFF);
	conf_free(&c);
	assert_int_equal(parse(&c, "hash_method = bcrypt\nsmtp_starttls = required\n", &e), 0);
	assert_int_equal(c.hash_method, CONF_HASH_BCRYPT);
	assert_int_equal(c.smtp_starttls, CONF_TLS_REQUIRED);
	conf_free(&c);
}

/* each bad line, and the exact error it must produce */
static const struct {
	const char *line;
	const char *error;
} bad[] = {
	{"colour = blue", "t.conf:2: colour: unknown key"},
	{"self_reset = maybe", "t.conf:2: self_reset: 'maybe' is not yes or no"},
	{"self_reset", "t.conf:2: syntax: expected 'key = value'"},
	{"= yes", "t.conf:2: syntax: missing key before '='"},
	{"help_message =", "t.conf:2: help_message: a value is required"},
	{"admin_group = -bad", "t.conf:2: admin_group: '-bad' is not a valid user or group name"},
	{"min_uid = -1", "t.conf:2: min_uid: '-1' is not a whole number"},
	{"min_uid = 3000000000", "t.conf:2: min_uid: 3000000000 is out of range (0 to 2147483647)"},
	{"exclude_users = root,,x", "t.conf:2: exclude_users: empty item in list"},
	{"exclude_groups = a:b", "t.conf:2: exclude_groups: 'a:b' is not a valid name"},
	{"admin_protected_groups = root, -x",
		"t.conf:2: admin_protected_groups: '-x' is not a valid name"},
	{"admin_protected_groups = \\admins", "t.conf:2: admin_protected_groups: '\\admins' "
					      "is not a valid name"},
	{"code_ttl = 10x",
		"t.conf:2: code_ttl: '10x' is not a duration (a number with s, m, h or d)"},
	{"code_ttl = 2d", "t.conf:2: code_ttl: 2d is out of range (60s to 86400s)"},
	{"code_ttl = 5", "t.conf:2: code_ttl: 5 is out of range (60s to 86400s)"},
	{"code_ttl = m", "t.conf:2: code_ttl: 'm' is not a duration (a number with s, m, h or d)"},
	{"code_ttl = 99999999999999999999999m",
		"t.conf:2: code_ttl: 99999999999999999999999m is out of range (60s to 86400s)"},
	{"admin_code_ttl = 31d", "t.conf:2: admin_code_ttl: 31d is out of range (60s to 2592000s)"},
	{"code_attempts = 0", "t.conf:2: code_attempts: 0 is out of range (1 to 100)"},
	{"user_requests_per_hour = 1001",
		"t.conf:2: user_requests_per_hour: 1001 is out of range (0 to 1000)"},
	{"rhost_requests_per_hour = ten",
		"t.conf:2: rhost_requests_per_hour: 'ten' is not a whole number"},
	{"mails_per_minute = 1.5", "t.conf:2: mails_per_minute: '1.5' is not a whole number"},
	{"min_length = 0", "t.conf:2: min_length: 0 is out of range (1 to 256)"},
	{"hash_method = md5",
		"t.conf:2: hash_method: 'md5' is not auto, yescrypt, sha512 or bcrypt"},
	{"notify_on_change = 2", "t.conf:2: notify_on_change: '2' is not yes or no"},
	{"smtp_url = http://x", "t.conf:2: smtp_url: 'http://x' is not smtp://HOST[:PORT] or "
				"smtps://HOST[:PORT]"},
	{"smtp_url = smtp://", "t.conf:2: smtp_url: 'smtp://' is not smtp://HOST[:PORT] or "
			       "smtps://HOST[:PORT]"},
	{"smtp_starttls = maybe",
		"t.conf:2: smtp_starttls: 'maybe' is not required, opportunistic or off"},
	{"smtp_password_file = relative/path",
		"t.conf:2: smtp_password_file: 'relative/path' is not an absolute path"},
	{"smtp_ca_file = ca.pem", "t.conf:2: smtp_ca_file: 'ca.pem' is not an absolute path"},
	{"smtp_timeout = 0", "t.conf:2: smtp_timeout: 0 is out of range (1s to 600s)"},
	{"mail_from =", "t.conf:2: mail_from: a value is required"},
	{"mail_from = Reset <reset@example.org", "t.conf:2: mail_from: 'Reset <reset@example.org' "
						 "is not an address or Display Name <address>"},
	{"mail_from = reset", "t.conf:2: mail_from: the address must hold exactly one '@'"},
	{"mail_max_age = 10s", "t.conf:2: mail_max_age: 10s is out of range (60s to 2592000s)"},
	{"templates_dir = mail", "t.conf:2: templates_dir: 'mail' is not an absolute path"},
	{"state_dir =", "t.conf:2: state_dir: a value is required"},
	{"socket = run/h.sock", "t.conf:2: socket: 'run/h.sock' is not an absolute path"},
	{"mail_user = a:b", "t.conf:2: mail_user: 'a:b' is not a valid user or group name"},
	{"help_message = tab\there", "t.conf:2: help_message: control characters are not allowed"},
	{"smtp_user = x\x1b[2J", "t.conf:2: smtp_user: control characters are not allowed"},
	{"directory_url = http://ldap.example.org",
		"t.conf:2: directory_url: "
		"'http://ldap.example.org' is not ldap://HOST[:PORT] or ldaps://HOST[:PORT]"},
	{"directory_url = ldaps://a.example.org,ldap://",
		"t.conf:2: directory_url: 'ldap://' is "
		"not ldap://HOST[:PORT] or ldaps://HOST[:PORT]"},
	{"directory_url = ldap://a b", "t.conf:2: directory_url: 'ldap://a b' is not "
				       "ldap://HOST[:PORT] or ldaps://HOST[:PORT]"},
	{"directory_starttls = opportunistic",
		"t.conf:2: directory_starttls: 'opportunistic' is not required or off"},
	{"directory_password_file = secret", "t.conf:2: directory_password_file: 'secret' is not "
					     "an absolute path"},
	{"directory_user_filter = uid=%u", "t.conf:2: directory_user_filter: 'uid=%u' is not an "
					   "LDAP filter in parentheses holding %u"},
	{"directory_user_filter = (uid=lena)", "t.conf:2: directory_user_filter: '(uid=lena)' is "
					       "not an LDAP filter in parentheses holding %u"},
	{"directory_user_filter = (uid=%u))(", "t.conf:2: directory_user_filter: '(uid=%u))(' is "
					       "not an LDAP filter in parentheses holding %u"},
	{"directory_address_attribute = mail;x", "t.conf:2: directory_address_attribute: "
						 "'mail;x' is not an attribute name"},
	{"directory_timeout = 0", "t.conf:2: directory_timeout: 0 is out of range (1s to 600s)"},
};

static void test_every_error_with_its_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];
		struct pwr_conf c;
		struct errs e;
		snprintf(text, sizeof(text), "# line 1\n%s\n# line 3\n", bad[i].line);
		int n = parse(&c, text, &e);
		if (n != 1 || strcmp(e.lines[0], bad[i].error) != 0)
			fail_msg("line '%s': %d error(s), first '%s', expected '%s'", bad[i].line,
				n, e.lines[0], bad[i].error);
		conf_free(&c);
	}
}

static void test_all_errors_reported(void **state)
{
	struct pwr_conf c;
	struct errs e;
	(void)state;
	int n = parse(&c,
		"code_ttl = 10m\nbogus = 1\ncode_ttl = 20m\n\nmin_length = x\n# ok\nself_reset = ja\n",
		&e);
	assert_int_equal(n, 4);
	assert_string_equal(e.lines[0], "t.conf:2: bogus: unknown key");
	assert_string_equal(e.lines[1], "t.conf:3: code_ttl: set more than once");
	assert_string_equal(e.lines[2], "t.conf:5: min_length: 'x' is not a whole number");
	assert_string_equal(e.lines[3], "t.conf:7: self_reset: 'ja' is not yes or no");
	conf_free(&c);
}

/* SPEC §12: the directory keys, their defaults, and what they need of each other. */
static void test_directory_keys(void **state)
{
	struct pwr_conf c;
	struct errs e;

	(void)state;
	assert_int_equal(parse(&c, "", &e), 0);
	assert_string_equal(c.directory_url, "");
	assert_int_equal(c.directory_starttls, CONF_DIR_TLS_REQUIRED);
	assert_int_equal(c.directory_type, CONF_DIR_OPENLDAP);
	assert_string_equal(c.directory_user_filter, ""); /* the type's own (SPEC §12.1) */
	assert_string_equal(c.directory_address_attribute, "mail");
	assert_int_equal(c.directory_timeout, 5);
	conf_free(&c);
	assert_int_equal(
		parse(&c,
			"directory_url = ldaps://a.example.org:636/,ldap://[::1]:389\n"
			"directory_starttls = off\ndirectory_ca_file = /etc/ssl/ca.pem\n"
			"directory_bind_dn = cn=pwreset,ou=services,dc=example,dc=org\n"
			"directory_password_file = /etc/pwreset/directory.secret\n"
			"directory_base = ou=people,dc=example,dc=org\n"
			"directory_user_filter = (&(objectClass=inetOrgPerson)(uid=%u))\n"
			"directory_address_attribute = otherMailbox\ndirectory_timeout = 2s\n"
			"directory_type = auto\n",
			&e),
		0);
	assert_int_equal(c.directory_starttls, CONF_DIR_TLS_OFF);
	assert_int_equal(c.directory_type, CONF_DIR_AUTO);
	assert_string_equal(c.directory_address_attribute, "otherMailbox");
	assert_int_equal(c.directory_timeout, 2);
	conf_free(&c);
	assert_int_equal(parse(&c, "directory_type = samba\n", &e), 1);
	assert_string_equal(
		e.lines[0], "t.conf:1: directory_type: 'samba' is not openldap, ad or auto");
	conf_free(&c);
	/* a directory needs whom to bind as, the password and where to search: each missing one
	 * is named at directory_url's line */
	assert_int_equal(parse(&c, "# x\ndirectory_url = ldap://127.0.0.1:3389\n", &e), 3);
	assert_string_equal(e.lines[0], "t.conf:2: directory_url: needs directory_bind_dn as well");
	assert_string_equal(
		e.lines[1], "t.conf:2: directory_url: needs directory_password_file as well");
	assert_string_equal(e.lines[2], "t.conf:2: directory_url: needs directory_base as well");
	conf_free(&c);
	/* AD refuses a password, and the bind, in the clear: said before a reset fails on it */
	assert_int_equal(
		parse(&c,
			"directory_type = ad\ndirectory_url = ldaps://dc1,ldap://dc2\n"
			"directory_starttls = off\ndirectory_bind_dn = svc@example.test\n"
			"directory_password_file = /etc/pwreset/d\ndirectory_base = dc=x\n",
			&e),
		1);
	assert_string_equal(e.lines[0],
		"t.conf:2: directory_url: Active Directory (directory_type = ad) sets passwords only "
		"over TLS: use ldaps:// or directory_starttls = required");
	conf_free(&c);
	assert_int_equal(
		parse(&c,
			"directory_type = ad\ndirectory_url = ldaps://dc1\n"
			"directory_starttls = off\ndirectory_bind_dn = svc@example.test\n"
			"directory_password_file = /etc/pwreset/d\ndirectory_base = dc=x\n",
			&e),
		0);
	conf_free(&c);
}

/* Issue 20's policy edits: one key changed, every other byte of the file kept. */
static void edited(const char *text, const char *key, const char *value, const char *want)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(confedit_set(text, strlen(text), key, value, &out, &len), 0);
	assert_int_equal(len, strlen(out));
	if (strcmp(out, want) != 0)
		fail_msg(
			"set %s = %s in:\n%s\ngave:\n%s\nwanted:\n%s", key, value, text, out, want);
	free(out);
}

static void test_policy_edit(void **state)
{
	static const char file[] = "# pwreset.conf\n\n# self_reset = yes\n"
				   "  help_message = Call 4242.   # not a comment\n"
				   "# min_uid = 1000\nsmtp_url = smtp://x\n";
	char *out = NULL;
	size_t len;

	(void)state;
	/* the line that sets it, replaced where it is */
	edited(file, "help_message", "Call the desk: 4242, or #ops on chat.",
		"# pwreset.conf\n\n# self_reset = yes\n"
		"help_message = Call the desk: 4242, or #ops on chat.\n"
		"# min_uid = 1000\nsmtp_url = smtp://x\n");
	/* a key not set yet: right after its commented example */
	edited(file, "self_reset", "no",
		"# pwreset.conf\n\n# self_reset = yes\nself_reset = no\n"
		"  help_message = Call 4242.   # not a comment\n"
		"# min_uid = 1000\nsmtp_url = smtp://x\n");
	/* no example: at the end, even of a file whose last line has no newline */
	edited("smtp_url = smtp://x", "admin_group", "helpdesk",
		"smtp_url = smtp://x\nadmin_group = helpdesk\n");
	edited("", "min_uid", "2000", "min_uid = 2000\n");
	/* a CRLF file keeps its line ends; an empty value is written without a blank */
	edited("a = 1\r\nexclude_users = root\r\nb = 2\r\n", "exclude_users", "",
		"a = 1\r\nexclude_users =\r\nb = 2\r\n");
	/* a key that only begins like another is not it */
	edited("self_reset_extra = 1\n", "self_reset", "yes",
		"self_reset_extra = 1\nself_reset = yes\n");
	/* what the file could not keep */
	assert_int_equal(confedit_set(file, strlen(file), "help_message", "two\nlines", &out, &len),
		-EINVAL);
	assert_int_equal(
		confedit_set(file, strlen(file), "help_message", " padded", &out, &len), -EINVAL);
	assert_int_equal(confedit_set(file, strlen(file), "help_message", "esc\x1b[2J", &out, &len),
		-EINVAL);
	assert_true(confedit_is_policy_key("exclude_groups"));
	assert_false(confedit_is_policy_key("smtp_url"));
}

static void test_hostile_bytes(void **state)
{
	struct pwr_conf c;
	struct errs e;
	char text[6000];
	(void)state;

	/* NUL in a line */
	memset(&e, 0, sizeof(e));
	assert_int_equal(conf_init(&c), 0);
	static const char nul[] = "a = b\nself_reset = y\0es\n";
	assert_int_equal(conf_parse(&c, "t.conf", nul, sizeof(nul) - 1, collect, &e), 2);
	assert_string_equal(e.lines[1], "t.conf:2: syntax: NUL byte in line");
	conf_free(&c);

	/* an over-long line */
	memset(text, 'x', sizeof(text));
	memcpy(text, "help_message = ", 15);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(parse(&c, text, &e), 1);
	assert_string_equal(e.lines[0], "t.conf:1: syntax: line longer than 4096 bytes");
	conf_free(&c);

	/* a long value within a line */
	memset(text, 'x', 2000);
	memcpy(text, "help_message = ", 15);
	text[2000] = '\0';
	assert_int_equal(parse(&c, text, &e), 1);
	assert_string_equal(e.lines[0], "t.conf:1: help_message: value longer than 1024 bytes");
	conf_free(&c);

	/* the last line without a newline still counts */
	assert_int_equal(parse(&c, "self_reset = no", &e), 0);
	assert_false(c.self_reset);
	conf_free(&c);
}

static void test_durations(void **state)
{
	uint64_t v;
	(void)state;
	assert_int_equal(duration_parse("90", &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(duration_parse("90s", &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(duration_parse("10m", &v), 0);
	assert_int_equal(v, 600);
	assert_int_equal(duration_parse("72h", &v), 0);
	assert_int_equal(v, 72 * 3600);
	assert_int_equal(duration_parse("7d", &v), 0);
	assert_int_equal(v, 7 * 86400);
	assert_int_equal(duration_parse("", &v), -EINVAL);
	assert_int_equal(duration_parse("h", &v), -EINVAL);
	assert_int_equal(duration_parse("10 m", &v), -EINVAL);
	assert_int_equal(duration_parse("10mm", &v), -EINVAL);
	assert_int_equal(duration_parse("-5", &v), -EINVAL);
	assert_int_equal(duration_parse("99999999999999999999", &v), -ERANGE);
}

static void test_file_checks(void **state)
{
	char dir[] = "/tmp/pwr-conf-XXXXXX", path[256];
	struct pwr_conf c;
	struct errs e;
	int fd;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pwreset.conf", dir);

	memset(&e, 0, sizeof(e));
	assert_int_equal(conf_init(&c), 0);
	assert_int_equal(conf_load(&c, path, false, collect, &e), 1);
	assert_non_null(strstr(e.lines[0], "file: cannot open"));
	conf_free(&c);

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "code_ttl = 5m\n", 14), 14);
	close(fd);
	memset(&e, 0, sizeof(e));
	assert_int_equal(conf_init(&c), 0);
	assert_int_equal(conf_load(&c, path, geteuid() == 0, collect, &e), 0);
	assert_int_equal(c.code_ttl, 300);
	conf_free(&c);

	/* writable by others: refused whole */
	chmod(path, 0666);
	memset(&e, 0, sizeof(e));
	assert_int_equal(conf_init(&c), 0);
	assert_int_equal(conf_load(&c, path, true, collect, &e), 1);
	assert_non_null(strstr(
		e.lines[0], "file: must be owned by root and not writable by group or others"));
	conf_free(&c);

	/* a directory is not a configuration */
	memset(&e, 0, sizeof(e));
	assert_int_equal(conf_init(&c), 0);
	assert_int_equal(conf_load(&c, dir, false, collect, &e), 1);
	assert_non_null(strstr(e.lines[0], "not a regular file"));
	conf_free(&c);

	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_directory_group_names),
		cmocka_unit_test(test_empty_list_and_enums),
		cmocka_unit_test(test_every_error_with_its_line),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_directory_keys),
		cmocka_unit_test(test_policy_edit),
		cmocka_unit_test(test_hostile_bytes),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_file_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
