/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PAM module's conversation, branch by branch, without root: libpam loads the built module
 * from a service file of our own (pam_start_confdir), and the module runs a stand-in helper on
 * a socketpair, as it runs the one-shot helper when no daemon answers. The stand-in is this
 * program again (--stand-in): it answers each request as a scenario file says and writes down
 * what it was asked. The test plays the person: it answers the prompts and keeps every text.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <security/pam_appl.h>

#include "protocol.h"
#include "wire.h"

static char self[PATH_MAX]; /* this program, for the stand-in */

/* ---- the stand-in helper ---- */

/* One answer, as a scenario line says ("offer enabled", "verify bad", "junk", …). */
static int stand_in_answer(const char *line)
{
	union pwr_msg a = {0};
	uint16_t op;

	if (!strcmp(line, "offer enabled") || !strcmp(line, "offer disabled") ||
		!strcmp(line, "offer unavailable")) {
		op = PWR_ANS_OFFER;
		a.offer.status = strstr(line, "unavailable") ? PWR_E_UNAVAILABLE : PWR_OK;
		a.offer.enabled = !strcmp(line, "offer enabled");
		a.offer.code_ttl = 900;
		snprintf(a.offer.help, sizeof(a.offer.help), "Call the desk at 555-0100.");
	} else if (!strcmp(line, "request ok")) {
		op = PWR_ANS_REQUEST;
		a.request.status = PWR_OK;
		a.request.code_ttl = 900;
	} else if (!strncmp(line, "verify ", 7)) {
		op = PWR_ANS_VERIFY;
		a.verify_ans.status = !strcmp(line + 7, "ok") ? PWR_OK : PWR_E_BADCODE;
	} else if (!strncmp(line, "set ", 4)) {
		op = PWR_ANS_SET_PASSWORD;
		a.set_password_ans.status = !strcmp(line + 4, "ok")        ? PWR_OK
					    : !strcmp(line + 4, "quality") ? PWR_E_QUALITY
									   : PWR_E_BADCODE;
		snprintf(a.set_password_ans.text, sizeof(a.set_password_ans.text),
			"it is based on a dictionary word");
	} else if (!strcmp(line, "address hint") || !strcmp(line, "address none")) {
		op = PWR_ANS_ADDRESS;
		a.address_ans.status = PWR_OK;
		a.address_ans.allowed = 1;
		a.address_ans.hint = !strcmp(line, "address hint");
	} else if (!strcmp(line, "junk")) {
		op = PWR_ANS_DONE; /* an answer, but not to this request */
	} else {
		return -1; /* "close": the helper goes away */
	}
	return wire_send(0, op, &a, 0);
}

/* Answer the requests on fd 0 in the scenario's order; note each one in the seen file. */
static int stand_in(const char *scenario, const char *seen_path)
{
	FILE *sc = fopen(scenario, "r"), *seen = fopen(seen_path, "a");
	char line[128];
	union pwr_msg m;
	uint16_t op;

	if (!sc || !seen)
		return 1;
	while (wire_recv(0, &op, &m) == 0) {
		fprintf(seen, "%s user=%s", wire_op_name(op), m.who.user);
		if (op == PWR_REQ_VERIFY)
			fprintf(seen, " code=%s", m.verify.code);
		if (op == PWR_REQ_SET_PASSWORD)
			fprintf(seen, " password=%s", m.set_password.password);
		if (op == PWR_REQ_ADDRESS_SHOW)
			fprintf(seen, " tty=%s", m.address.who.tty);
		fputc('\n', seen);
		fflush(seen);
		if (!fgets(line, sizeof(line), sc))
			return 0;
		line[strcspn(line, "\n")] = '\0';
		if (stand_in_answer(line) < 0)
			return 0;
	}
	return 0;
}

/* ---- the person ---- */

struct person {
	const char *const *answers; /* to the prompts, in order; NULL ends them */
	size_t next;
	char said[8192]; /* every prompt and text, one a line: "? prompt", "i text", "! error" */
};

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct person *p = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	size_t len;

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		int style = msg[i]->msg_style;
		char mark = style == PAM_TEXT_INFO ? 'i' : style == PAM_ERROR_MSG ? '!' : '?';

		len = strlen(p->said);
		snprintf(p->said + len, sizeof(p->said) - len, "%c %s\n", mark, msg[i]->msg);
		if (mark != '?')
			continue;
		if (!p->answers[p->next]) {
			free(r);
			return PAM_CONV_ERR; /* the person went away */
		}
		r[i].resp = strdup(p->answers[p->next++]);
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* ---- the fixture ---- */

struct fx {
	char dir[64];
	char path[4][128]; /* the stand-in's wrapper, its scenario, what it saw, the service */
	struct person person;
};

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char text[PATH_MAX + 512];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/pwr-module-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path[0], sizeof(f->path[0]), "%s/stand-in", f->dir);
	snprintf(f->path[1], sizeof(f->path[1]), "%s/scenario", f->dir);
	snprintf(f->path[2], sizeof(f->path[2]), "%s/seen", f->dir);
	snprintf(f->path[3], sizeof(f->path[3]), "%s/pwreset-unit", f->dir);
	/* the module runs it with an empty environment and no arguments */
	snprintf(text, sizeof(text), "#!/bin/sh\nexec '%s' --stand-in '%s' '%s'\n", self,
		f->path[1], f->path[2]);
	write_file(f->path[0], text, 0700);
	write_file(f->path[2], "", 0600);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A login of "daemon" through the module with options, the helper answering as scenario
 * says, the person answering the prompts: the result of pam_authenticate. */
static int login(
	struct fx *f, const char *options, const char *scenario, const char *const *answers)
{
	struct pam_conv c = {conv, &f->person};
	const char *module = getenv("PWR_PAM_MODULE");
	char service[PATH_MAX + 512];
	pam_handle_t *pamh = NULL;
	int r;

	assert_non_null(module);
	snprintf(service, sizeof(service), "auth required %s socket=%s/no-daemon helper=%s %s\n",
		module, f->dir, f->path[0], options);
	write_file(f->path[3], service, 0600);
	write_file(f->path[1], scenario, 0600);
	memset(&f->person, 0, sizeof(f->person));
	f->person.answers = answers;
	assert_int_equal(
		pam_start_confdir("pwreset-unit", "daemon", &c, f->dir, &pamh), PAM_SUCCESS);
	pam_set_item(pamh, PAM_RHOST, "192.0.2.7");
	r = pam_authenticate(pamh, 0);
	pam_end(pamh, r);
	/* every request was written down before it was answered, and the module waits for
	 * each answer: what the stand-in saw is complete */
	return r;
}

static void said(struct fx *f, const char *expected)
{
	if (strcmp(f->person.said, expected) != 0)
		fail_msg("the person saw:\n%s\nexpected:\n%s", f->person.said, expected);
}

/* What the stand-in was asked, one request a line. */
static void asked(struct fx *f, const char *expected)
{
	char buf[4096] = "";
	FILE *s = fopen(f->path[2], "r");
	size_t n;

	assert_non_null(s);
	n = fread(buf, 1, sizeof(buf) - 1, s);
	buf[n] = '\0';
	fclose(s);
	if (strcmp(buf, expected) != 0)
		fail_msg("the helper was asked:\n%s\nexpected:\n%s", buf, expected);
}

#define OFFER_PROMPT \
	"? Forgot your password? Enter a reset code, or type \"reset\" to have one e-mailed " \
	"(Enter to skip): \n"
#define SENT \
	"i If this account can be reset, a reset code has been sent to its recovery address. " \
	"It expires in 15 minutes.\n"
#define NEW "? New password: \n? Retype new password: \n"

/* ---- the branches ---- */

static void test_skip(void **state)
{
	struct fx *f = *state;

	assert_int_equal(
		login(f, "", "offer enabled\n", (const char *const[]){"", NULL}), PAM_AUTH_ERR);
	said(f, OFFER_PROMPT);
	asked(f, "offer user=daemon\n");
}

static void test_reset_then_log_in_again(void **state)
{
	struct fx *f = *state;
	const char *const answers[] = {
		"reset", "abcde-12345", "Tulip-Gravel-Orbit-93", "Tulip-Gravel-Orbit-93", NULL};

	assert_int_equal(login(f, "", "offer enabled\nrequest ok\nverify ok\nset ok\n", answers),
		PAM_AUTH_ERR);
	said(f, OFFER_PROMPT SENT "? Reset code: \n" NEW
				  "i Password changed.\ni Log in with your new password.\n");
	asked(f, "offer user=daemon\nrequest user=daemon\nverify user=daemon code=abcde-12345\n"
		 "set-password user=daemon password=Tulip-Gravel-Orbit-93\n");
}

static void test_code_at_first_prompt_and_login_after_reset(void **state)
{
	struct fx *f = *state;
	const char *const answers[] = {
		"ABCDE-12345", "Tulip-Gravel-Orbit-93", "Tulip-Gravel-Orbit-93", NULL};

	assert_int_equal(
		login(f, "login_after_reset", "offer enabled\nverify ok\nset ok\n", answers),
		PAM_SUCCESS);
	said(f, OFFER_PROMPT NEW "i Password changed.\n");
}

static void test_any_five_letters_ask_for_a_code(void **state)
{
	struct fx *f = *state;

	/* sshd sends junk of the typed length for an unknown user: the length decides */
	assert_int_equal(login(f, "", "offer enabled\nrequest ok\n",
				 (const char *const[]){"\x08\x0a\x0d\x7f\x01", "", NULL}),
		PAM_AUTH_ERR);
	said(f, OFFER_PROMPT SENT "? Reset code: \n");
	asked(f, "offer user=daemon\nrequest user=daemon\n");
}

static void test_wrong_code_then_tries_run_out(void **state)
{
	struct fx *f = *state;

	assert_int_equal(login(f, "tries=1", "offer enabled\nverify bad\n",
				 (const char *const[]){"AAAAA-AAAAA", NULL}),
		PAM_MAXTRIES);
	said(f, OFFER_PROMPT "! That code is not valid.\n");
}

static void test_mismatch_and_quality(void **state)
{
	struct fx *f = *state;
	const char *const answers[] = {"ABCDE-12345", "one-Password-1", "another-Password-2",
		"Gravel1", "Gravel1", "Tulip-Gravel-Orbit-93", "Tulip-Gravel-Orbit-93", NULL};

	assert_int_equal(login(f, "tries=3 login_after_reset",
				 "offer enabled\nverify ok\nset quality\nset ok\n", answers),
		PAM_SUCCESS);
	said(f, OFFER_PROMPT NEW "! Sorry, passwords do not match.\n" NEW
				 "! BAD PASSWORD: it is based on a dictionary word\n" NEW
				 "i Password changed.\n");
}

static void test_self_service_off(void **state)
{
	struct fx *f = *state;

	assert_int_equal(
		login(f, "", "offer disabled\n", (const char *const[]){"", NULL}), PAM_AUTH_ERR);
	said(f, "! Call the desk at 555-0100.\n"
		"? Enter the reset code from your administrator (Enter to skip): \n");
}

static void test_unavailable(void **state)
{
	struct fx *f = *state;

	assert_int_equal(
		login(f, "", "offer unavailable\n", (const char *const[]){NULL}), PAM_AUTH_ERR);
	said(f, "! Password reset is not available right now.\n");
}

static void test_helper_fails_us(void **state)
{
	struct fx *f = *state;
	const char *const answers[] = {"ABCDE-12345", NULL};

	/* an answer to another request, and a helper that leaves: never a success */
	assert_int_equal(
		login(f, "login_after_reset", "offer enabled\njunk\n", answers), PAM_AUTH_ERR);
	said(f, OFFER_PROMPT "! Password reset is not available right now.\n");
	assert_int_equal(login(f, "login_after_reset", "offer enabled\nverify ok\nclose\n",
				 (const char *const[]){"ABCDE-12345", "Tulip-Gravel-Orbit-93",
					 "Tulip-Gravel-Orbit-93", NULL}),
		PAM_AUTH_ERR);
	said(f, OFFER_PROMPT NEW "! Password reset is not available right now.\n");
}

static void test_no_helper(void **state)
{
	struct fx *f = *state;

	unlink(f->path[0]);
	assert_int_equal(login(f, "", "", (const char *const[]){NULL}), PAM_AUTH_ERR);
	said(f, "! Password reset is not available right now.\n");
}

static void test_person_goes_away(void **state)
{
	struct fx *f = *state;

	/* the conversation fails at the code prompt: nothing more is asked of the helper */
	assert_int_equal(
		login(f, "", "offer enabled\nrequest ok\n", (const char *const[]){"reset", NULL}),
		PAM_AUTH_ERR);
	asked(f, "offer user=daemon\nrequest user=daemon\n");
}

/* ---- the session hint ---- */

/* A daemon of our own on DIR/helper.sock that takes one connection and answers it as scenario
 * says: its pid. */
static pid_t daemon_start(struct fx *f, const char *scenario)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	pid_t pid;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/helper.sock", f->dir);
	write_file(f->path[1], scenario, 0600);
	assert_true(fd >= 0);
	unlink(sa.sun_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int c = accept(fd, NULL, NULL);
		_exit(c < 0 || dup2(c, 0) < 0 ? 1 : stand_in(f->path[1], f->path[2]));
	}
	close(fd);
	return pid;
}

/* A session of "daemon" on tty pts/4 through the module with options (the daemon, if any,
 * started beforehand): the result of pam_open_session, and how long it took in *ms. */
static int session(struct fx *f, const char *options, int flags, double *ms)
{
	struct pam_conv c = {conv, &f->person};
	const char *module = getenv("PWR_PAM_MODULE");
	char service[PATH_MAX + 512];
	pam_handle_t *pamh = NULL;
	struct timespec t0, t1;
	int r;

	assert_non_null(module);
	snprintf(service, sizeof(service),
		"session optional %s socket=%s/helper.sock helper=%s %s\n", module, f->dir,
		f->path[0], options);
	write_file(f->path[3], service, 0600);
	memset(&f->person, 0, sizeof(f->person));
	f->person.answers = (const char *const[]){NULL};
	assert_int_equal(
		pam_start_confdir("pwreset-unit", "daemon", &c, f->dir, &pamh), PAM_SUCCESS);
	pam_set_item(pamh, PAM_TTY, "pts/4");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = pam_open_session(pamh, flags);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pam_close_session(pamh, 0);
	pam_end(pamh, r);
	if (ms)
		*ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		      (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	return r;
}

static void daemon_end(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

#define HINT "i No recovery address is set for daemon. Run: pwreset-address set you@example.org\n"

static void test_hint_from_the_daemon(void **state)
{
	struct fx *f = *state;
	pid_t pid = daemon_start(f, "address hint\n");

	session(f, "", 0, NULL);
	daemon_end(pid);
	if (geteuid() == 0) {
		said(f, HINT);
		asked(f, "address-show user=daemon tty=pts/4\n");
	} else {
		/* only a daemon run by root is believed: ours is not */
		said(f, "");
	}
}

static void test_no_hint_when_not_due_or_silenced(void **state)
{
	struct fx *f = *state;
	pid_t pid = daemon_start(f, "address none\n");

	session(f, "", 0, NULL);
	daemon_end(pid);
	said(f, "");
	/* nohint and PAM_SILENT: the daemon is not even asked */
	write_file(f->path[2], "", 0600);
	pid = daemon_start(f, "address hint\n");
	session(f, "nohint", 0, NULL);
	session(f, "", PAM_SILENT, NULL);
	daemon_end(pid);
	said(f, "");
	asked(f, "");
	/* an answer that is not the one asked for, and a daemon that leaves: nothing said */
	pid = daemon_start(f, "junk\n");
	session(f, "", 0, NULL);
	daemon_end(pid);
	said(f, "");
	pid = daemon_start(f, "close\n");
	session(f, "", 0, NULL);
	daemon_end(pid);
	said(f, "");
}

static void test_no_daemon_costs_nothing(void **state)
{
	struct fx *f = *state;
	double ms;

	/* the one-shot helper is never run for a hint: the stand-in is there, and not asked */
	assert_int_equal(session(f, "", 0, &ms), PAM_SUCCESS);
	said(f, "");
	asked(f, "");
	assert_true(ms < 1000);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_skip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_then_log_in_again, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_code_at_first_prompt_and_login_after_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_any_five_letters_ask_for_a_code, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_wrong_code_then_tries_run_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mismatch_and_quality, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_service_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unavailable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_fails_us, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_helper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_person_goes_away, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hint_from_the_daemon, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_no_hint_when_not_due_or_silenced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_daemon_costs_nothing, setup, teardown),
	};

	if (argc == 4 && !strcmp(argv[1], "--stand-in"))
		return stand_in(argv[2], argv[3]);
	if (!realpath("/proc/self/exe", self))
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
