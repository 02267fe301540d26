/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pwreset-address: a user's own recovery address (SPEC §11). Shows it, sets a new one (with
 * the current password; the helper mails a code to it), confirms it with that code, removes
 * it (with the current password). Not setuid: it reaches the helper like pwresetctl, which
 * acts only for the caller's own account (the kernel tells it who calls); root may name a user
 * with --user. The current password is read with echo off from the terminal, or a line from
 * standard input when that is not a terminal, and wiped after use.
 *
 * Exit status: 0 done, 1 refused or failed, 2 usage, 4 helper not reachable.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "util.h"

/* the request, in a whole message: ctl_helper_send keeps a copy of the first one it sends */
static union pwr_msg msg;
static struct pwr_address_req *const req = &msg.address;

/* The current password, into req->password: from the terminal with echo off, else one line of
 * standard input. 0, or the exit status of a failure. */
static int read_password(void)
{
	struct termios old, quiet;
	bool tty = isatty(0) && tcgetattr(0, &old) == 0;
	char *nl;

	/* no stdio buffer of standard input: the password lands in req->password alone, which
	 * is wiped */
	setvbuf(stdin, NULL, _IONBF, 0);
	if (tty) {
		fputs(_("Current password: "), stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	if (!fgets(req->password, sizeof(req->password), stdin))
		req->password[0] = '\0';
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	nl = strchr(req->password, '\n');
	if (!nl && strlen(req->password) == sizeof(req->password) - 1) {
		explicit_bzero(req->password, sizeof(req->password));
		ctl_errorf(_("the password is longer than %d bytes"), PWR_PASSWORD_MAX);
		return EX_FAILED;
	}
	if (nl)
		*nl = '\0';
	return 0;
}

/* A change (set, confirm, remove): its answer said, and its status as the exit status. */
static int change(struct opts *o, uint16_t op)
{
	union pwr_msg m;
	char text[PWR_TEXT_MAX + 1];

	ctl_helper_send(op, &msg);
	explicit_bzero(req->password, sizeof(req->password));
	ctl_helper_expect(&m, PWR_ANS_ADDRESS_CHANGE, PWR_ANS_ADDRESS_CHANGE);
	ctl_safe(m.address_change.text, text, sizeof(text));
	if (o->json) {
		bool f;
		ctl_jopen("user", req->who.user, &f);
		ctl_jkey("ok", &f);
		fputs(m.address_change.status == PWR_OK ? "true" : "false", stdout);
		ctl_jkey("message", &f);
		ctl_jstr(m.address_change.text);
		puts("}");
	} else if (m.address_change.status == PWR_OK) {
		puts(text);
	} else {
		ctl_errorf("%s", text);
	}
	return m.address_change.status == PWR_OK ? EX_DONE : EX_FAILED;
}

static int show(struct opts *o)
{
	union pwr_msg m;
	const struct pwr_address_ans *a = &m.address_ans;
	char addr[PWR_ADDR_MAX + 1], when[64];

	ctl_helper_send(PWR_REQ_ADDRESS_SHOW, &msg);
	ctl_helper_expect(&m, PWR_ANS_ADDRESS, PWR_ANS_ADDRESS);
	if (o->json) {
		bool f;
		ctl_jopen("user", req->who.user, &f);
		ctl_jkey("address", &f);
		if (*a->addr)
			ctl_jstr(a->addr);
		else
			fputs("null", stdout);
		ctl_jkey("source", &f);
		ctl_jstr(!*a->addr                           ? ""
			 : a->source == PWR_SOURCE_USER      ? "user"
			 : a->source == PWR_SOURCE_DIRECTORY ? "directory"
							     : "admin");
		ctl_jkey("confirmed", &f);
		ctl_jtime(a->confirmed);
		ctl_jkey("pending", &f);
		if (*a->pending)
			ctl_jstr(a->pending);
		else
			fputs("null", stdout);
		ctl_jkey("language", &f); /* null: the host's mail_language */
		if (*a->language)
			ctl_jstr(a->language);
		else
			fputs("null", stdout);
		puts("}");
		return EX_DONE;
	}
	if (!*a->addr) {
		puts(_("none"));
	} else {
		printf("%s\n", ctl_safe(a->addr, addr, sizeof(addr)));
		if (a->source == PWR_SOURCE_USER)
			printf(_("set by:    you (confirmed %s)\n"),
				ctl_local_time(a->confirmed, when, sizeof(when)));
		else
			fputs(a->source == PWR_SOURCE_DIRECTORY
					? _("set by:    the directory\n")
					: _("set by:    your administrator\n"),
				stdout);
	}
	if (*a->pending)
		printf(_("awaiting confirmation: %s (see the code mailed there)\n"),
			ctl_safe(a->pending, addr, sizeof(addr)));
	if (*a->language)
		printf(_("language:  %s\n"), ctl_safe(a->language, addr, sizeof(addr)));
	return EX_DONE;
}

static void usage(FILE *f)
{
	fprintf(f,
		_("Usage: %s [--json] [--user USER] [COMMAND]\n\n"
		  "Your recovery address, where password reset codes are sent.\n\n"
		  "  (none)           show it\n"
		  "  set ADDRESS      asks your current password; mails a code to ADDRESS\n"
		  "  confirm CODE     registers the address the code was mailed to\n"
		  "  remove           asks your current password; removes it\n"
		  "  language LANG    writes your mail in LANG (ja, de, ...; default: the host's)\n\n"
		  "  --language LANG  with set: the language, at once\n"
		  "  --user USER      (root) act for USER\n"
		  "  --json           output for scripts\n"
		  "  --socket PATH    the helper's socket (default %s)\n"
		  "  --helper PATH    the helper to run when no daemon answers (default %s)\n\n"
		  "Exit status: 0 done, 1 refused or failed, 2 usage, 4 helper not reachable.\n"
		  "See pwreset-address(1).\n"),
		ctl_prog, PWR_SOCKET_PATH, PWR_HELPER_PATH);
}

/* The caller's own account name (root: --user's). 0, or an exit status. */
static int whoami(const char *user)
{
	struct passwd *pw;

	if (user) {
		if (getuid() != 0)
			return ctl_usage_error(_("only root may name a user (--user)"));
		if (!ctl_user_name_ok(user))
			return ctl_usage_error(_("'%s' is not a user name"), user);
		snprintf(req->who.user, sizeof(req->who.user), "%s", user);
		return 0;
	}
	if (!(pw = getpwuid(getuid()))) {
		ctl_errorf(_("your uid %lu has no name"), (unsigned long)getuid());
		return EX_FAILED;
	}
	snprintf(req->who.user, sizeof(req->who.user), "%s", pw->pw_name);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.socket = PWR_SOCKET_PATH, .helper = PWR_HELPER_PATH};
	const char *user = NULL, *language = NULL, *pos[3] = {0};
	int npos = 0, r;

	ctl_prog = "pwreset-address";
	ctl_ex_perm = EX_FAILED;
	ctl_language_init();
	tzset();
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			o.json = true;
		else if (!strcmp(argv[i], "--user") && i + 1 < argc)
			user = argv[++i];
		else if (!strcmp(argv[i], "--language") && i + 1 < argc)
			language = argv[++i];
		else if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			o.socket = argv[++i];
		else if (!strcmp(argv[i], "--helper") && i + 1 < argc)
			o.helper = argv[++i];
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EX_DONE;
		} else if (!strcmp(argv[i], "--version")) {
			printf("pwreset-address %s\n", PWR_VERSION);
			return EX_DONE;
		} else if (argv[i][0] == '-' || npos == 3)
			return ctl_usage_error(_("unexpected '%s'"), argv[i]);
		else
			pos[npos++] = argv[i];
	}
	if ((r = whoami(user)) != 0)
		return r;
	ctl_opts = &o;
	util_copy(req->caller_language, sizeof(req->caller_language), ctl_language);
	if (language && (npos != 2 || strcmp(pos[0], "set")))
		return ctl_usage_error(_("--language goes with set"));
	if (language &&
		(!*language || util_copy(req->language, sizeof(req->language), language) < 0))
		return ctl_usage_error(_("'%s' is not a language name"), language);
	if (npos == 0)
		r = show(&o);
	else if (!strcmp(pos[0], "language") && npos == 2) {
		if (!*pos[1] || util_copy(req->language, sizeof(req->language), pos[1]) < 0)
			return ctl_usage_error(_("'%s' is not a language name"), pos[1]);
		r = change(&o, PWR_REQ_ADDRESS_LANGUAGE);
	} else if (!strcmp(pos[0], "set") && npos == 2) {
		if (strlen(pos[1]) > PWR_ADDR_MAX || !util_text_ok(pos[1]))
			return ctl_usage_error(_("'%s' cannot be an address"), pos[1]);
		snprintf(req->addr, sizeof(req->addr), "%s", pos[1]);
		r = read_password();
		if (r == 0)
			r = change(&o, PWR_REQ_ADDRESS_SET);
	} else if (!strcmp(pos[0], "confirm") && npos == 2) {
		snprintf(req->code, sizeof(req->code), "%.*s", PWR_CODE_MAX, pos[1]);
		r = change(&o, PWR_REQ_ADDRESS_CONFIRM);
	} else if (!strcmp(pos[0], "remove") && npos == 1) {
		r = read_password();
		if (r == 0)
			r = change(&o, PWR_REQ_ADDRESS_REMOVE);
	} else {
		return ctl_usage_error(
			_("usage: %s [set ADDRESS | confirm CODE | remove | language LANG]"),
			ctl_prog);
	}
	explicit_bzero(&msg, sizeof(msg));
	client_close(&ctl_conn);
	if (fflush(stdout) != 0)
		return EX_FAILED;
	return r;
}
