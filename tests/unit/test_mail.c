/* SPDX-License-Identifier: BSD-3-Clause */
/* Mail: the helper-mailer codec (every field at its maximum, every truncation, a NUL inside,
 * bytes after the end) and the message builder (headers, encodings, CRLF, and every way a
 * header could be injected: user, remote host, address, mail_from and the template). */
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
#include <sodium.h>

#include "conf.h"
#include "mailproto.h"
#include "message.h"

static char dir[64];
static struct pwr_conf conf;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/pwr-mail-XXXXXX");
	if (!mkdtemp(dir) || sodium_init() < 0 || conf_init(&conf) < 0)
		return -1;
	free(conf.templates_dir);
	conf.templates_dir = strdup(dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	conf_free(&conf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void put_template(const char *name, const char *text, mode_t mode)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
}

/* ---- the codec ---- */

static char *filled(size_t n, char ch)
{
	char *s = malloc(n + 1);
	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

static void test_job_round_trip(void **state)
{
	unsigned char *buf = malloc(MAILJOB_PACKET_MAX);
	char *url = filled(MAILJOB_URL_MAX, 'u'), *pw = filled(MAILJOB_PASSWORD_MAX, 'p');
	char *data = filled(MAILJOB_DATA_MAX, 'd');
	struct mailjob j = {77, MAILJOB_TLS_OPPORTUNISTIC, 600, url, "", pw, "/ca", "a@b", "c@d",
		data, MAILJOB_DATA_MAX};
	struct mailjob back;
	long n;
	(void)state;

	n = mailproto_job_encode(&j, buf, MAILJOB_PACKET_MAX);
	assert_true(n > 0 && n <= MAILJOB_PACKET_MAX);
	assert_int_equal(mailproto_job_decode(buf, (size_t)n, &back), 0);
	assert_string_equal(back.url, url);
	assert_string_equal(back.user, "");
	assert_string_equal(back.password, pw);
	assert_string_equal(back.to, "c@d");
	assert_int_equal(back.data_len, MAILJOB_DATA_MAX);
	assert_int_equal(back.timeout, 600);
	assert_int_equal(back.tag, 77);
	/* every truncation and one byte more are refused */
	for (long k = 0; k < n; k += (k < 5000 ? 1 : 997))
		assert_int_equal(mailproto_job_decode(buf, (size_t)k, &back), -EBADMSG);
	buf[n] = 0;
	assert_int_equal(mailproto_job_decode(buf, (size_t)n + 1, &back), -EBADMSG);
	/* one byte over a maximum cannot be encoded */
	url[MAILJOB_URL_MAX - 1] = '\0';
	j.url = url;
	j.data_len = MAILJOB_DATA_MAX + 1;
	assert_int_equal(mailproto_job_encode(&j, buf, MAILJOB_PACKET_MAX), -EINVAL);
	/* a NUL inside a string is refused both ways */
	j.data_len = 10;
	data[3] = '\0';
	assert_int_equal(mailproto_job_encode(&j, buf, MAILJOB_PACKET_MAX), -EINVAL);
	data[3] = 'd';
	n = mailproto_job_encode(&j, buf, MAILJOB_PACKET_MAX);
	assert_true(n > 0);
	buf[n - 5] = '\0'; /* inside the data */
	assert_int_equal(mailproto_job_decode(buf, (size_t)n, &back), -EBADMSG);
	/* a timeout or TLS mode out of range */
	j.timeout = 0;
	n = mailproto_job_encode(&j, buf, MAILJOB_PACKET_MAX);
	assert_int_equal(mailproto_job_decode(buf, (size_t)n, &back), -EBADMSG);
	j.timeout = 5;
	j.starttls = 3;
	n = mailproto_job_encode(&j, buf, MAILJOB_PACKET_MAX);
	assert_int_equal(mailproto_job_decode(buf, (size_t)n, &back), -EBADMSG);
	free(buf);
	free(url);
	free(pw);
	free(data);
}

static void test_answer_round_trip(void **state)
{
	unsigned char buf[MAILANS_PACKET_MAX + 8];
	struct mailans a = {9, MAIL_PERMFAIL, 550, ""}, back;
	long n;
	(void)state;

	memset(a.reply, 'r', MAILANS_REPLY_MAX);
	n = mailproto_ans_encode(&a, buf, sizeof(buf));
	assert_int_equal(n, MAILANS_PACKET_MAX);
	assert_int_equal(mailproto_ans_decode(buf, (size_t)n, &back), 0);
	assert_int_equal(back.smtp_code, 550);
	assert_int_equal(back.tag, 9);
	assert_string_equal(back.reply, a.reply);
	for (long k = 0; k < n; k++)
		assert_int_equal(mailproto_ans_decode(buf, (size_t)k, &back), -EBADMSG);
	a.outcome = 7;
	n = mailproto_ans_encode(&a, buf, sizeof(buf));
	assert_int_equal(mailproto_ans_decode(buf, (size_t)n, &back), -EBADMSG);
}

/* ---- the message ---- */

static const char *header(const char *msg, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);
	for (const char *p = msg; p && *p && strncmp(p, "\r\n", 2); p = strstr(p, "\r\n") + 2) {
		if (!strncmp(p, name, n) && p[n] == ':') {
			const char *e = strstr(p, "\r\n");
			/* unfold */
			while (e && (e[2] == ' ' || e[2] == '\t'))
				e = strstr(e + 2, "\r\n");
			snprintf(out, cap, "%.*s", (int)(e - p - n - 2), p + n + 2);
			return out;
		}
	}
	return NULL;
}

static int build(struct message_in *in, char **msg, char *why)
{
	char from[400];
	size_t len;
	int r = message_build(&conf, in, msg, &len, from, sizeof(from), why, 512);
	if (r == 0)
		assert_int_equal(strlen(*msg), len);
	return r;
}

static void test_code_mail(void **state)
{
	struct message_in in = {PWR_MAIL_CODE, "alice", "alice@example.org", "192.0.2.7",
		"ABCDE-12345", 1795000000, 1795000900};
	char *msg, why[512], h[1024], from[400], fromaddr[400];
	(void)state;

	put_template("code.txt",
		"Subject: Code for {user} on {host}\n\nHi {user}, from {rhost}:\n  {code}\n"
		"until {expires}. {unknown} {user\n",
		0644);
	assert_int_equal(build(&in, &msg, why), 0);
	assert_non_null(header(msg, "From", h, sizeof(h)));
	assert_non_null(strstr(h, "no-reply@"));
	assert_string_equal(header(msg, "To", h, sizeof(h)), "alice@example.org");
	assert_non_null(header(msg, "Subject", h, sizeof(h)));
	assert_int_equal(strncmp(h, "Code for alice on ", 18), 0);
	assert_non_null(header(msg, "Date", h, sizeof(h)));
	assert_non_null(header(msg, "Message-ID", h, sizeof(h)));
	assert_true(h[0] == '<' && strchr(h, '@') && h[strlen(h) - 1] == '>');
	assert_string_equal(header(msg, "MIME-Version", h, sizeof(h)), "1.0");
	assert_string_equal(header(msg, "Content-Type", h, sizeof(h)), "text/plain; charset=UTF-8");
	assert_string_equal(header(msg, "Content-Transfer-Encoding", h, sizeof(h)), "7bit");
	assert_string_equal(header(msg, "Auto-Submitted", h, sizeof(h)), "auto-generated");
	assert_non_null(
		strstr(msg, "\r\n\r\nHi alice, from 192.0.2.7:\r\n  ABCDE-12345\r\nuntil "));
	assert_non_null(strstr(msg, "{unknown} {user\r\n"));
	/* every LF is part of a CRLF */
	for (const char *p = msg; (p = strchr(p, '\n')); p++)
		assert_int_equal(p[-1], '\r');
	free(msg);
	/* no remote host: said in words */
	in.rhost = "";
	assert_int_equal(build(&in, &msg, why), 0);
	assert_non_null(strstr(msg, "from a local terminal:"));
	free(msg);
	/* mail_from forms */
	assert_int_equal(message_from("Password reset <pw@example.org>", h, sizeof(h), fromaddr,
				 sizeof(fromaddr), why, sizeof(why)),
		0);
	assert_string_equal(h, "\"Password reset\" <pw@example.org>");
	assert_string_equal(fromaddr, "pw@example.org");
	assert_int_equal(message_from("Jörg <pw@example.org>", h, sizeof(h), fromaddr,
				 sizeof(fromaddr), why, sizeof(why)),
		0);
	assert_string_equal(h, "=?UTF-8?B?SsO2cmc=?= <pw@example.org>");
	assert_int_equal(
		message_from("pw@example.org", h, sizeof(h), from, sizeof(from), why, sizeof(why)),
		0);
	assert_string_equal(h, "pw@example.org");
	static const char *bad_from[] = {"x <pw@example.org", "x <pw@example.org> y",
		"pw@example.org\r\nBcc: e@x.org", "a\tb <pw@example.org>", "<pw@exa mple.org>",
		"x\r\nBcc: e@x.org <pw@example.org>", "nobody"};
	for (size_t i = 0; i < sizeof(bad_from) / sizeof(bad_from[0]); i++)
		assert_int_equal(message_from(bad_from[i], h, sizeof(h), from, sizeof(from), why,
					 sizeof(why)),
			-EINVAL);
}

static void test_encodings(void **state)
{
	struct message_in in = {PWR_MAIL_CHANGED, "bob", "bob@example.org", "", NULL, 1, 2};
	char *msg, why[512], h[1024];
	(void)state;

	put_template("changed.txt",
		"Subject: Le mot de passe de {user} a été changé — une très longue ligne d'objet "
		"qui dépasse soixante-dix-huit caractères\r\n\r\nBonjour {user}, c'est réglé. "
		"{code}.\r\n",
		0644);
	assert_int_equal(build(&in, &msg, why), 0);
	assert_non_null(header(msg, "Subject", h, sizeof(h)));
	assert_int_equal(strncmp(h, "=?UTF-8?B?", 10), 0);
	/* every encoded word at most 75 bytes, every header line within 78 */
	for (const char *p = msg; strncmp(p, "\r\n", 2); p = strstr(p, "\r\n") + 2)
		assert_true(strstr(p, "\r\n") - p <= 78);
	/* decoding the words gives the subject back */
	{
		char text[512] = "", *w = h, dec[256];
		size_t n;
		while ((w = strstr(w, "=?UTF-8?B?"))) {
			char *e = strstr(w + 10, "?=");
			assert_int_equal(sodium_base642bin((unsigned char *)dec, sizeof(dec),
						 w + 10, (size_t)(e - w - 10), NULL, &n, NULL,
						 sodium_base64_VARIANT_ORIGINAL),
				0);
			dec[n] = '\0';
			strcat(text, dec);
			w = e + 2;
		}
		assert_string_equal(text, "Le mot de passe de bob a été changé — une très longue "
					  "ligne d'objet qui dépasse soixante-dix-huit caractères");
	}
	/* a body beyond ASCII in base64, which every server takes (SPEC §13): lines of at most
	 * 76, which decode to the UTF-8 text */
	assert_string_equal(header(msg, "Content-Transfer-Encoding", h, sizeof(h)), "base64");
	{
		char b64[512] = "", dec[512];
		const char *p = strstr(msg, "\r\n\r\n") + 4;
		size_t n;
		for (const char *e; *p; p = e + 2) {
			e = strstr(p, "\r\n");
			assert_non_null(e);
			assert_true(e - p <= 76);
			strncat(b64, p, (size_t)(e - p));
		}
		assert_int_equal(
			sodium_base642bin((unsigned char *)dec, sizeof(dec), b64, strlen(b64), NULL,
				&n, NULL, sodium_base64_VARIANT_ORIGINAL),
			0);
		dec[n] = '\0';
		assert_string_equal(dec, "Bonjour bob, c'est réglé. .\r\n");
	}
	free(msg);
}

/* Columns of UTF-8 text: the wide characters of this test (U+3000 and above) take two. */
static size_t columns(const char *s, size_t len)
{
	size_t cols = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c & 0xc0) == 0x80)
			continue;
		cols += c >= 0xe3 ? 2 : 1;
	}
	return cols;
}

/* SPEC §13: a body line longer than RFC 5322's 78, once its placeholders are in, is folded:
 * at a blank where it has them, else between two characters of a language written without
 * them, never inside a UTF-8 character; nothing is lost. */
static void test_long_lines_folded(void **state)
{
	struct message_in in = {
		PWR_MAIL_CODE, "alice", "alice@example.org", "192.0.2.7", "ABCDE-12345", 1, 2};
	const char *ja =
		"このアカウントのパスワードのリセットが要求されました。ご本人による要求の場合は"
		"次のコードを入力してください。";
	char *msg = NULL, why[512], t[2048], b64[8192] = "", dec[8192], again[4096] = "";
	size_t n;
	(void)state;

	snprintf(t, sizeof(t),
		"Subject: s\n\nsomeone asked to reset the password of the account \"{user}\" on "
		"a-very-long-host-name-of-the-fleet.example.org (from {rhost})\n%s{code}\n",
		ja);
	put_template("code.txt", t, 0644);
	assert_int_equal(build(&in, &msg, why), 0);
	const char *p = strstr(msg, "\r\n\r\n") + 4;
	for (const char *e; *p; p = e + 2) {
		e = strstr(p, "\r\n");
		strncat(b64, p, (size_t)(e - p));
	}
	assert_int_equal(sodium_base642bin((unsigned char *)dec, sizeof(dec), b64, strlen(b64),
				 NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL),
		0);
	dec[n] = '\0';
	for (const char *q = dec, *e; *q; q = e + 2) {
		e = strstr(q, "\r\n");
		assert_non_null(e);
		assert_true(columns(q, (size_t)(e - q)) <= 78);
		assert_true(e == q || (((unsigned char)e[-1] & 0xc0) != 0xc0)); /* a whole char */
	}
	/* joined again (a blank where one was folded at): the text as it was expanded */
	for (const char *q = dec, *e; *q; q = e + 2) {
		e = strstr(q, "\r\n");
		strncat(again, q, (size_t)(e - q));
		if (e[2] && !strncmp(q, "someone", 7))
			strcat(again, " ");
	}
	snprintf(t, sizeof(t),
		"someone asked to reset the password of the account \"alice\" on "
		"a-very-long-host-name-of-the-fleet.example.org (from 192.0.2.7)%sABCDE-12345",
		ja);
	assert_string_equal(again, t);
	free(msg);
}

static void test_injection_refused(void **state)
{
	struct message_in in = {
		PWR_MAIL_CODE, "alice", "alice@example.org", "", "ABCDE-12345", 1, 2};
	char *msg = NULL, why[512];
	(void)state;

	put_template("code.txt", "Subject: {user} from {rhost}\n\n{code}\n", 0644);
	in.user = "alice\r\nBcc: evil@example.net";
	assert_int_equal(build(&in, &msg, why), -EINVAL);
	in.user = "alice";
	in.rhost = "host\nBcc: evil@example.net";
	assert_int_equal(build(&in, &msg, why), -EINVAL);
	in.rhost = "";
	static const char *bad_to[] = {"alice@example.org\r\nBcc: evil@example.net",
		"alice@example.org\n",
		"alice@exa\x01"
		"mple.org",
		"alice@example.org, evil@example.net", "<alice@example.org>"};
	for (size_t i = 0; i < sizeof(bad_to) / sizeof(bad_to[0]); i++) {
		in.to = bad_to[i];
		assert_int_equal(build(&in, &msg, why), -EINVAL);
	}
	in.to = "alice@example.org";
	assert_null(msg);

	/* broken templates: each refused, with the file named */
	static const char *bad_templates[] = {
		"Subject: x\x1b[2J\n\nbody\n", /* control byte in the subject */
		"Subject: x\rBcc: evil@example.net\n\nbody\n", /* CR in the subject */
		"Subject: x\nBcc: evil@example.net\n\nbody\n", /* a second header line */
		"Subjekt: x\n\nbody\n", /* no subject */
		"Subject:\n\nbody\n", /* empty subject */
		"Subject: x\n\nbody\rwith a CR\n", /* bare CR in the body */
		"Subject: x\n\nbody\x07"
		"bell\n", /* control byte in the body */
		"Subject: x", /* no line end at all */
	};
	for (size_t i = 0; i < sizeof(bad_templates) / sizeof(bad_templates[0]); i++) {
		put_template("code.txt", bad_templates[i], 0644);
		assert_int_equal(build(&in, &msg, why), -EINVAL);
		assert_non_null(strstr(why, "code.txt"));
	}
	/* a line over 998 bytes */
	{
		char *t = malloc(2100);
		snprintf(t, 2100, "Subject: x\n\n%0999d\n", 0);
		put_template("code.txt", t, 0644);
		assert_int_equal(build(&in, &msg, why), -EINVAL);
		assert_non_null(strstr(why, "body line 1 is over 998 bytes"));
		free(t);
	}
	/* a template others may write, or none at all */
	put_template("code.txt", "Subject: x\n\nbody\n", 0666);
	assert_int_equal(build(&in, &msg, why), -EPERM);
	assert_non_null(strstr(why, "only root can write"));
	put_template("code.txt", "Subject: x\n\nbody\n", 0644);
	assert_int_equal(build(&in, &msg, why), 0);
	free(msg);
	in.kind = PWR_MAIL_ADMIN;
	assert_int_equal(build(&in, &msg, why), -ENOENT);
	assert_non_null(strstr(why, "admin-reset.txt: No such file or directory"));
}

/* A shipped template, as installed, into the test's templates directory. */
static void put_shipped(const char *name)
{
	char path[512], text[MESSAGE_TEMPLATE_MAX];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/conf/mail/%s", PWR_SOURCE_ROOT, name);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	put_template(name, text, 0644);
}

/* SPEC §11: the confirmation code goes to the new address; the old one is told that it was
 * replaced or removed, from the shipped templates. */
static void test_address_mails(void **state)
{
	struct message_in in = {PWR_MAIL_ADDRESS_CONFIRM, "alice", "new@example.org", "192.0.2.7",
		"ABCDE-12345", 1795000000, 1795000900};
	char *msg, why[512], h[1024];
	(void)state;

	put_shipped("address-confirm.txt");
	put_shipped("address-changed.txt");
	assert_int_equal(build(&in, &msg, why), 0);
	assert_string_equal(header(msg, "To", h, sizeof(h)), "new@example.org");
	assert_non_null(strstr(msg, "pwreset-address confirm ABCDE-12345"));
	assert_non_null(strstr(msg, "\"alice\""));
	free(msg);

	in.kind = PWR_MAIL_ADDRESS_REPLACED;
	in.to = "old@example.org";
	in.code = NULL;
	assert_int_equal(build(&in, &msg, why), 0);
	assert_non_null(header(msg, "Subject", h, sizeof(h)));
	assert_non_null(strstr(h, "was replaced"));
	assert_non_null(strstr(msg, "192.0.2.7"));
	assert_null(strstr(msg, "ABCDE"));
	free(msg);

	in.kind = PWR_MAIL_ADDRESS_REMOVED;
	assert_int_equal(build(&in, &msg, why), 0);
	assert_non_null(header(msg, "Subject", h, sizeof(h)));
	assert_non_null(strstr(h, "was removed"));
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job_round_trip),
		cmocka_unit_test(test_answer_round_trip),
		cmocka_unit_test(test_code_mail),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_address_mails),
		cmocka_unit_test(test_injection_refused),
		cmocka_unit_test(test_long_lines_folded),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
