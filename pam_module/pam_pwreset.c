/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pam_pwreset: after a failed password, offer a reset in the same conversation (SPEC §3).
 * The module only converses and forwards: every decision is the helper's, reached through its
 * socket or, when no daemon answers, by running the helper over a socketpair.
 * MUST: nothing but the helper's confirmation that a new password was written returns
 * PAM_SUCCESS (and only with login_after_reset); anything unexpected from the helper ends the
 * conversation with PAM_AUTH_ERR. What the person types and what the helper answers is wiped
 * on every path. The texts do not depend on whether the account exists or can be reset.
 * In the session stack it tells a user who has no recovery address how to register one
 * (SPEC §11): one read-only question to the daemon's socket, never the one-shot helper, and
 * nothing at all (no message, no error) when the daemon does not answer.
 * Its words are in the host's language (SPEC §13), which the helper names in its first answer
 * (the system's when the helper cannot be reached): looked up in the catalog by catalog.c,
 * never through the application's locale, which stays as sshd or login set it.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "catalog.h"
#include "client.h"
#include "config.h"
#include "prompts.h"
#include "protocol.h"
#include "wire.h"

#define TRIES_DEFAULT 3
#define TRIES_MAX 10
#define WRONG_CODE_DELAY_S 2
#define TIMEOUT_DEFAULT 60 /* the longest the helper may take to answer (shadow locks: 15 s) */
#define TIMEOUT_MAX 600

/* N_ and NP_ (catalog.h) mark texts for xgettext: the English is the catalog's key; tr() and
 * trn() translate. */

#define T_OFFER PROMPT_OFFER
#define T_SENT \
	NP_("If this account can be reset, a reset code has been sent to its recovery address. " \
	    "It expires in %u minute.", \
		"If this account can be reset, a reset code has been sent to its recovery " \
		"address. It expires in %u minutes.")
#define T_ADMIN_CODE PROMPT_ADMIN_CODE
#define T_CODE N_("Reset code: ")
#define T_WRONG N_("That code is not valid.")
#define T_NEW N_("New password: ")
#define T_RETYPE N_("Retype new password: ")
#define T_MISMATCH N_("Sorry, passwords do not match.")
#define T_CHANGED N_("Password changed.")
#define T_LOGIN N_("Log in with your new password.")
#define T_UNAVAILABLE N_("Password reset is not available right now.")
#define T_BUSY N_("The password file is busy. Please try again; your code is still valid.")
#define T_BAD_PASSWORD N_("BAD PASSWORD: %s")
#define T_TOO_LONG N_("BAD PASSWORD: The password is longer than %d characters")
#define T_HINT N_("No recovery address is set for %s. Run: pwreset-address set you@example.org")

/* The longest a session waits for the daemon's answer to the hint's question: it may have to
 * start (socket activation) but must not hold a login for long. */
#define HINT_TIMEOUT_S 2

/* sshd passes junk of the typed length instead of what an unknown user typed: the first
 * answer is judged by its length alone, for every user (an answer as long as this word asks
 * for a code to be mailed, whatever its letters). */
#define RESET_WORD "reset"

struct opts {
	const char *socket;
	const char *helper;
	unsigned tries;
	unsigned timeout; /* seconds the helper may take to answer */
	bool login_after_reset;
	bool nohint; /* no session hint */
	bool debug;
};

struct session {
	pam_handle_t *pamh;
	struct opts o;
	struct pwr_client c;
	struct pwr_who who;
	union pwr_msg m; /* requests and answers; wiped after each use */
	unsigned owed; /* answers still to come for codes already told "not valid" at their
			  deadline; read and dropped before the next answer */
	struct catalog words; /* the host's language; empty: English */
	bool words_read; /* looked for (once a conversation) */
};

/* A number option from 1 to max into *out; anything else is logged and leaves *out alone. */
static void opt_number(
	pam_handle_t *pamh, const char *opt, const char *value, long max, unsigned *out)
{
	char *end;
	long n = strtol(value, &end, 10);

	if (*end || end == value || n < 1 || n > max)
		pam_syslog(pamh, LOG_WARNING, "option %s: not 1 to %ld; using %u", opt, max, *out);
	else
		*out = (unsigned)n;
}

static void parse_opts(pam_handle_t *pamh, int argc, const char **argv, struct opts *o)
{
	o->socket = PWR_SOCKET_PATH;
	o->helper = PWR_HELPER_PATH;
	o->tries = TRIES_DEFAULT;
	o->timeout = TIMEOUT_DEFAULT;
	o->login_after_reset = false;
	o->nohint = false;
	o->debug = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strncmp(a, "socket=", 7)) {
			o->socket = a + 7;
		} else if (!strncmp(a, "helper=", 7)) {
			o->helper = a + 7;
		} else if (!strncmp(a, "tries=", 6)) {
			opt_number(pamh, a, a + 6, TRIES_MAX, &o->tries);
		} else if (!strncmp(a, "timeout=", 8)) {
			opt_number(pamh, a, a + 8, TIMEOUT_MAX, &o->timeout);
		} else if (!strcmp(a, "login_after_reset")) {
			o->login_after_reset = true;
		} else if (!strcmp(a, "nohint")) {
			o->nohint = true;
		} else if (!strcmp(a, "debug")) {
			o->debug = true;
		} else {
			pam_syslog(pamh, LOG_WARNING, "unknown option %s; ignored", a);
		}
	}
}

/* One prompt. 0 with a malloc'd *answer (the caller wipes and frees it), or < 0 when the
 * conversation failed (the application cannot show prompts, or the person went away). */
static int ask(struct session *s, int style, const char *prompt, char **answer)
{
	*answer = NULL;
	if (pam_prompt(s->pamh, style, answer, "%s", prompt) != PAM_SUCCESS || !*answer) {
		if (*answer) {
			explicit_bzero(*answer, strlen(*answer));
			free(*answer);
			*answer = NULL;
		}
		return -EIO;
	}
	return 0;
}

/* The words of the host's language for lang (the helper said it; NULL: the system's), looked
 * for once a conversation: the same catalog, read at the same point, for every account. */
static void words_for(struct session *s, const char *lang)
{
	char system[CATALOG_LANG_MAX + 1], why[512];
	int r;

	if (s->words_read)
		return;
	s->words_read = true;
	if (!lang) {
		catalog_system_lang(catalog_system_files, system, sizeof(system));
		lang = system;
	}
	r = catalog_open(&s->words, PWR_LOCALEDIR, lang, "pam_pwreset", why, sizeof(why));
	if (r < 0 && r != -ENOENT)
		pam_syslog(s->pamh, LOG_WARNING, "the words for %s are English: %s", lang,
			r == -EINVAL || r == -EIO ? why : strerror(-r));
}

/* msgid in the host's language (the English when the catalog has no sound translation) */
static const char *tr(const struct session *s, const char *msgid) __attribute__((format_arg(2)));
static const char *tr(const struct session *s, const char *msgid)
{
	return catalog_format(&s->words, msgid);
}

static const char *trn(const struct session *s, const char *one, const char *many, unsigned long n)
	__attribute__((format_arg(2)));
static const char *trn(const struct session *s, const char *one, const char *many, unsigned long n)
{
	return catalog_nformat(&s->words, one, many, n);
}

static void say(struct session *s, int style, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct session *s, int style, const char *fmt, ...)
{
	char text[2 * PWR_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pam_prompt(s->pamh, style, NULL, "%s", text);
}

static void forget(char **p)
{
	if (*p) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

/* Wipe the message buffer. Not inlined: gcc (12, with the sanitizers) takes &s->m for its
 * first member once a caller is inlined, and refuses the build over a size it misjudged. */
static __attribute__((noinline)) void msg_wipe(struct session *s)
{
	explicit_bzero(&s->m, sizeof(s->m));
}

/* Whether an answer can be read on fd before by (CLOCK_MONOTONIC). */
static bool answer_by(int fd, const struct timespec *by)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct timespec now;
	long ms;
	int r;

	do {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (by->tv_sec - now.tv_sec) * 1000 + (by->tv_nsec - now.tv_nsec) / 1000000;
		r = poll(&pfd, 1, ms > 0 ? (int)ms : 0);
	} while (r < 0 && errno == EINTR);
	return r > 0;
}

/* Send s->m as op and read the answer into s->m, its op into *aop: 0, or -errno when the
 * helper is gone or answered something that is not an answer (-EAGAIN: not in time). With
 * by, the answer must come before it, or -ETIME (it is owed, and dropped when it comes).
 * Answers owed from before are read and dropped first, within the same time. */
static int exchange(struct session *s, uint16_t op, uint16_t *aop, const struct timespec *by)
{
	int r = wire_send(s->c.fd, op, &s->m, 0);

	msg_wipe(s);
	*aop = 0;
	while (r == 0) {
		if (by && !answer_by(s->c.fd, by)) {
			s->owed++;
			return -ETIME;
		}
		r = wire_recv(s->c.fd, aop, &s->m);
		if (r < 0 || s->owed == 0)
			break;
		s->owed--;
		msg_wipe(s);
	}
	return r;
}

/* How the helper failed us, for unavailable(); kept apart from errno values and PAM codes. */
enum helper_failure {
	HELPER_ANSWERED, /* not a failure: it answered what was asked */
	HELPER_GONE, /* the conversation failed: its -errno with it */
	HELPER_ERROR, /* it answered PWR_ANS_ERROR: s->m.error says what */
	HELPER_UNREADY, /* it answered PWR_E_UNAVAILABLE: its own log says why */
	HELPER_NONSENSE, /* an answer to something else, or a status it may not give */
};

/* Send s->m as op; whether the helper answered want (*err: the errno when it is gone, -ETIME
 * when by, if given, passed first). */
static enum helper_failure ask_helper_by(
	struct session *s, uint16_t op, uint16_t want, const struct timespec *by, int *err)
{
	uint16_t aop;

	if ((*err = exchange(s, op, &aop, by)) < 0)
		return HELPER_GONE;
	if (aop == want)
		return HELPER_ANSWERED;
	return aop == PWR_ANS_ERROR ? HELPER_ERROR : HELPER_NONSENSE;
}

static enum helper_failure ask_helper(struct session *s, uint16_t op, uint16_t want, int *err)
{
	return ask_helper_by(s, op, want, NULL, err);
}

/* The helper failed us (f; err for HELPER_GONE): say so, log why, and end with PAM_AUTH_ERR. */
static int unavailable(struct session *s, const char *what, enum helper_failure f, int err)
{
	if (f == HELPER_UNREADY)
		pam_syslog(s->pamh, LOG_ERR,
			"%s: the helper cannot complete a reset on this host now; its log says why",
			what);
	else if (f == HELPER_GONE && err == -EAGAIN)
		pam_syslog(s->pamh, LOG_ERR, "%s: the helper did not answer within %u s", what,
			s->o.timeout);
	else if (f == HELPER_ERROR)
		pam_syslog(s->pamh, LOG_ERR, "%s: the helper answered error %u: %s", what,
			s->m.error.status, s->m.error.text);
	else
		pam_syslog(s->pamh, LOG_ERR, "%s: the helper %s", what,
			strerror(f == HELPER_GONE && err < 0 ? -err : EPROTO));
	words_for(s, NULL); /* unless the helper named the language already */
	say(s, PAM_ERROR_MSG, "%s", tr(s, T_UNAVAILABLE));
	return PAM_AUTH_ERR;
}

/* Sleep until t (CLOCK_MONOTONIC), if it is still ahead. */
static void sleep_until(const struct timespec *t)
{
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL) == EINTR)
		;
}

/* New password, retyped, until the helper writes one. */
static int choose_password(struct session *s)
{
	for (unsigned tries = 0; tries < s->o.tries; tries++) {
		char *pw = NULL, *again = NULL;
		enum helper_failure f;
		int err;

		if (ask(s, PAM_PROMPT_ECHO_OFF, tr(s, T_NEW), &pw) < 0)
			return PAM_AUTH_ERR;
		if (ask(s, PAM_PROMPT_ECHO_OFF, tr(s, T_RETYPE), &again) < 0) {
			forget(&pw);
			return PAM_AUTH_ERR;
		}
		if (strcmp(pw, again) != 0) {
			forget(&pw);
			forget(&again);
			say(s, PAM_ERROR_MSG, "%s", tr(s, T_MISMATCH));
			continue;
		}
		forget(&again);
		if (strlen(pw) > PWR_PASSWORD_MAX) {
			forget(&pw);
			say(s, PAM_ERROR_MSG, tr(s, T_TOO_LONG), PWR_PASSWORD_MAX);
			continue;
		}
		s->m.set_password.who = s->who;
		memcpy(s->m.set_password.password, pw, strlen(pw) + 1);
		forget(&pw);
		f = ask_helper(s, PWR_REQ_SET_PASSWORD, PWR_ANS_SET_PASSWORD, &err);
		if (f != HELPER_ANSWERED)
			return unavailable(s, "set-password", f, err);
		switch (s->m.set_password_ans.status) {
		case PWR_OK:
			msg_wipe(s);
			return PAM_SUCCESS;
		case PWR_E_QUALITY:
			say(s, PAM_ERROR_MSG, tr(s, T_BAD_PASSWORD), s->m.set_password_ans.text);
			continue;
		case PWR_E_UNAVAILABLE:
			return unavailable(s, "set-password", HELPER_UNREADY, 0);
		case PWR_E_BUSY:
			/* nothing was written and the code stands: the same password again */
			say(s, PAM_ERROR_MSG, "%s", tr(s, T_BUSY));
			continue;
		case PWR_E_BADCODE:
			/* replaced, revoked or expired meanwhile, or the entry changed */
			say(s, PAM_ERROR_MSG, "%s", tr(s, T_WRONG));
			return PAM_AUTH_ERR;
		default:
			return unavailable(s, "set-password", HELPER_NONSENSE, 0);
		}
	}
	return PAM_MAXTRIES;
}

/* Codes until one is valid; answer is what was typed at the first prompt (a code), or NULL
 * when the first thing to do is to prompt. */
static int take_codes(struct session *s, char *answer)
{
	struct timespec told;
	unsigned tries = 0;

	for (;;) {
		enum helper_failure f;
		int err;

		if (!answer && ask(s, PAM_PROMPT_ECHO_ON, tr(s, T_CODE), &answer) < 0)
			return PAM_AUTH_ERR;
		if (!*answer) {
			forget(&answer);
			return PAM_AUTH_ERR;
		}
		s->m.verify.who = s->who;
		snprintf(s->m.verify.code, sizeof(s->m.verify.code), "%s", answer);
		forget(&answer);
		/* a wrong code is told at a fixed time after it was sent, whatever the helper
		 * took: its work (which differs between accounts) cannot be timed. One that is
		 * not answered by then (a directory that hangs) is told the same, then. */
		clock_gettime(CLOCK_MONOTONIC, &told);
		told.tv_sec += WRONG_CODE_DELAY_S;
		f = ask_helper_by(s, PWR_REQ_VERIFY, PWR_ANS_VERIFY, &told, &err);
		if (f == HELPER_GONE && err == -ETIME) {
			pam_syslog(s->pamh, LOG_NOTICE,
				"the helper did not check a code within %d s; told it is not valid",
				WRONG_CODE_DELAY_S);
			s->m.verify_ans.status = PWR_E_BADCODE;
		} else if (f != HELPER_ANSWERED) {
			return unavailable(s, "verify", f, err);
		}
		switch (s->m.verify_ans.status) {
		case PWR_OK:
			if (s->o.debug)
				pam_syslog(s->pamh, LOG_DEBUG, "a valid code for %s", s->who.user);
			return choose_password(s);
		case PWR_E_BADCODE:
		case PWR_E_BADFORMAT:
			break;
		default:
			return unavailable(s, "verify", HELPER_NONSENSE, 0);
		}
		sleep_until(&told);
		say(s, PAM_ERROR_MSG, "%s", tr(s, T_WRONG));
		if (++tries >= s->o.tries)
			return PAM_MAXTRIES;
	}
}

/* The connection just opened: a helper that does not answer must not hold the login (a
 * receive timeout), and the daemon's socket must be served by root (SO_PEERCRED), or what it
 * answers is not believed. 0, or < 0. */
static int helper_ready(struct session *s, unsigned timeout)
{
	struct timeval tv = {(time_t)timeout, 0};

	if (setsockopt(s->c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
		setsockopt(s->c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	if (s->c.via_socket) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		if (getsockopt(s->c.fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
			return -errno;
		if (cred.uid != 0) {
			pam_syslog(s->pamh, LOG_ERR,
				"%s is served by uid %ld, not root: not the helper", s->o.socket,
				(long)cred.uid);
			return -EPERM;
		}
	}
	return 0;
}

static int converse(struct session *s)
{
	char *answer = NULL;
	size_t len;
	enum helper_failure f;
	int err;

	s->m.who = s->who;
	f = ask_helper(s, PWR_REQ_OFFER, PWR_ANS_OFFER, &err);
	/* a daemon that will not hold another connection closes it unanswered: the helper is
	 * run instead, as when no daemon answers at all */
	if (f == HELPER_GONE && client_fallback(&s->c, s->o.helper, err) == 0) {
		pam_syslog(s->pamh, LOG_NOTICE,
			"the helper's daemon closed the connection unanswered; running %s",
			s->o.helper);
		if ((err = helper_ready(s, s->o.timeout)) < 0)
			return unavailable(s, "offer", HELPER_GONE, err);
		s->m.who = s->who;
		f = ask_helper(s, PWR_REQ_OFFER, PWR_ANS_OFFER, &err);
	}
	if (f != HELPER_ANSWERED)
		return unavailable(s, "offer", f, err);
	words_for(s, s->m.offer.language);
	if (s->m.offer.status == PWR_E_UNAVAILABLE)
		return unavailable(s, "offer", HELPER_UNREADY, 0);
	if (s->m.offer.status != PWR_OK)
		return unavailable(s, "offer", HELPER_NONSENSE, 0);
	if (!s->m.offer.enabled) {
		/* self-service off: the administrators' word, then the same prompt for every
		 * account, for the code an administrator may have handed over */
		if (*s->m.offer.help)
			say(s, PAM_ERROR_MSG, "%s", s->m.offer.help);
		msg_wipe(s);
		if (ask(s, PAM_PROMPT_ECHO_ON, tr(s, T_ADMIN_CODE), &answer) < 0)
			return PAM_AUTH_ERR;
		if (!*answer) {
			forget(&answer);
			return PAM_AUTH_ERR;
		}
		return take_codes(s, answer);
	}
	if (ask(s, PAM_PROMPT_ECHO_ON, tr(s, T_OFFER), &answer) < 0) {
		static bool hinted;
		if (!hinted)
			pam_syslog(s->pamh, LOG_NOTICE,
				"the application cannot show the reset prompt; for sshd, enable "
				"KbdInteractiveAuthentication so that reset can be offered");
		hinted = true;
		return PAM_AUTH_ERR;
	}
	len = strlen(answer);
	if (len == 0) {
		forget(&answer);
		return PAM_AUTH_ERR;
	}
	if (len == strlen(RESET_WORD)) {
		forget(&answer);
		s->m.who = s->who;
		f = ask_helper(s, PWR_REQ_REQUEST, PWR_ANS_REQUEST, &err);
		if (f == HELPER_ANSWERED && s->m.request.status != PWR_OK)
			f = HELPER_NONSENSE;
		if (f != HELPER_ANSWERED)
			return unavailable(s, "request", f, err);
		say(s, PAM_TEXT_INFO, trn(s, T_SENT, (s->m.request.code_ttl + 59) / 60),
			(s->m.request.code_ttl + 59) / 60);
		msg_wipe(s);
	}
	return take_codes(s, answer);
}

/* A session for user, its options parsed and what PAM says of where the person is copied;
 * NULL when there is no memory. */
static struct session *session_new(
	pam_handle_t *pamh, int argc, const char **argv, const char *user)
{
	struct session *s = calloc(1, sizeof(*s));
	const void *item = NULL;

	if (!s)
		return NULL;
	s->pamh = pamh;
	s->c.fd = -1;
	parse_opts(pamh, argc, argv, &s->o);
	/* a name too long to be an account still gets the same conversation */
	snprintf(s->who.user, sizeof(s->who.user), "%s", user);
	if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS && item)
		snprintf(s->who.rhost, sizeof(s->who.rhost), "%s", (const char *)item);
	if (pam_get_item(pamh, PAM_TTY, &item) == PAM_SUCCESS && item)
		snprintf(s->who.tty, sizeof(s->who.tty), "%s", (const char *)item);
	if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS && item)
		snprintf(s->who.service, sizeof(s->who.service), "%s", (const char *)item);
	return s;
}

static void session_end(struct session *s)
{
	client_close(&s->c);
	catalog_close(&s->words);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct session *s;
	const char *user = NULL;
	int r;

	(void)flags;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user || !*user)
		return PAM_USER_UNKNOWN;
	if (!(s = session_new(pamh, argc, argv, user)))
		return PAM_BUF_ERR;
	if ((r = client_open(&s->c, s->o.socket, s->o.helper)) == 0)
		r = helper_ready(s, s->o.timeout);
	if (r == -EPERM && s->c.via_socket) {
		/* whatever serves the socket is not the helper: run the helper itself */
		pam_syslog(pamh, LOG_NOTICE, "running %s instead", s->o.helper);
		client_close(&s->c);
		if ((r = client_open(&s->c, NULL, s->o.helper)) == 0)
			r = helper_ready(s, s->o.timeout);
	}
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot reach the helper at %s or %s: %s", s->o.socket,
			s->o.helper, strerror(-r));
		words_for(s, NULL);
		say(s, PAM_ERROR_MSG, "%s", tr(s, T_UNAVAILABLE));
		r = PAM_AUTH_ERR;
	} else {
		r = converse(s);
		if (r == PAM_SUCCESS) {
			say(s, PAM_TEXT_INFO, "%s", tr(s, T_CHANGED));
			if (!s->o.login_after_reset) {
				say(s, PAM_TEXT_INFO, "%s", tr(s, T_LOGIN));
				r = PAM_AUTH_ERR;
			}
		}
	}
	session_end(s);
	/* fail safe: only the two outcomes above may leave as success */
	return r == PAM_SUCCESS || r == PAM_MAXTRIES ? r : PAM_AUTH_ERR;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

/* Ask the daemon whether the hint is due for s->who: 1 yes, 0 no, < 0 it could not be told
 * (logged unless the daemon is simply not there). The one-shot helper is never run for this:
 * a session must not wait for a program to start, nor write anything. */
static int hint_due(struct session *s)
{
	uint16_t aop;
	int r;

	if ((r = client_open(&s->c, s->o.socket, NULL)) < 0) {
		if (s->o.debug)
			pam_syslog(s->pamh, LOG_DEBUG, "no session hint: %s: %s", s->o.socket,
				strerror(-r));
		return r;
	}
	if ((r = helper_ready(s, HINT_TIMEOUT_S)) < 0)
		return r; /* not root's: helper_ready said so */
	s->m.address.who = s->who;
	if ((r = exchange(s, PWR_REQ_ADDRESS_SHOW, &aop, NULL)) < 0) {
		pam_syslog(s->pamh, LOG_WARNING, "no session hint: the helper %s",
			r == -EAGAIN ? "did not answer in time" : strerror(-r));
		msg_wipe(s);
		return -EPROTO;
	}
	if (aop == PWR_ANS_ERROR) {
		pam_syslog(s->pamh, LOG_WARNING,
			"no session hint: the helper answered error %u: %s", s->m.error.status,
			s->m.error.text);
		msg_wipe(s);
		return -EPROTO;
	}
	if (aop != PWR_ANS_ADDRESS || s->m.address_ans.status != PWR_OK) {
		pam_syslog(s->pamh, LOG_WARNING,
			"no session hint: the helper answered something unexpected");
		msg_wipe(s);
		return -EPROTO;
	}
	r = s->m.address_ans.hint != 0;
	words_for(s, s->m.address_ans.host_language);
	msg_wipe(s);
	return r;
}

/* SPEC §11: a user without a recovery address is told how to register one, once per login. */
PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct session *s;
	const void *user = NULL;
	int r;

	if (pam_get_item(pamh, PAM_USER, &user) != PAM_SUCCESS || !user || !*(const char *)user)
		return PAM_SUCCESS;
	if (!(s = session_new(pamh, argc, argv, user)))
		return PAM_SUCCESS;
	r = s->o.nohint || (flags & PAM_SILENT) ? 0 : hint_due(s);
	if (r == 1)
		say(s, PAM_TEXT_INFO, tr(s, T_HINT), s->who.user);
	session_end(s);
	/* a hint never decides a session, but a stack in which every module ignores it fails */
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
