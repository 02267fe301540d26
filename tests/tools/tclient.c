/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small client for the integration tests: reads one request a line from stdin, sends it over
 * one connection (the socket, or the one-shot helper) and prints each answer as one line of
 * key=value fields. Lines: offer USER [RHOST] | request USER [RHOST] | verify USER CODE [RHOST]
 * | email-set USER ADDR | email-unset USER | email-show USER | email-import FILE [dry]
 * | email-export | check [USER] | tokens | revoke USER | queue | queue-flush [USER]
 * | raw HEX (sent as it is).
 * Exit status: 0, or 3 when the helper closed the connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "client.h"
#include "wire.h"

static int fd;

static void print_answer(uint16_t op, const union pwr_msg *m)
{
	switch (op) {
	case PWR_ANS_ERROR:
		printf("error status=%u text=%s\n", m->error.status, m->error.text);
		break;
	case PWR_ANS_OFFER:
		printf("offer status=%u enabled=%u ttl=%u help=%s\n", m->offer.status,
			m->offer.enabled, m->offer.code_ttl, m->offer.help);
		break;
	case PWR_ANS_REQUEST:
		printf("request status=%u ttl=%u\n", m->request.status, m->request.code_ttl);
		break;
	case PWR_ANS_VERIFY:
		printf("verify status=%u\n", m->verify_ans.status);
		break;
	case PWR_ANS_SET_PASSWORD:
		printf("set-password status=%u text=%s\n", m->set_password_ans.status,
			m->set_password_ans.text);
		break;
	case PWR_ITEM_RESET:
		printf("reset user=%s status=%u locked=%u mailed=%u ttl=%lld code=%s text=%s\n",
			m->reset_item.user, m->reset_item.status, m->reset_item.locked,
			m->reset_item.mailed,
			m->reset_item.expires ? (long long)(m->reset_item.expires - time(NULL)) : 0,
			m->reset_item.code, m->reset_item.text);
		break;
	case PWR_ANS_EMAIL_SET:
		printf("email-set status=%u warnings=%u shared=%s\n", m->email_set_ans.status,
			m->email_set_ans.warnings, m->email_set_ans.shared_with);
		break;
	case PWR_ANS_EMAIL_SHOW:
		printf("email-show status=%u addr=%s\n", m->email_show.status, m->email_show.addr);
		break;
	case PWR_ANS_DONE:
		printf("done status=%u count=%u more=%u next=%u text=%s\n", m->done.status,
			m->done.count, m->done.more, m->done.next, m->done.text);
		break;
	case PWR_ITEM_REJECT:
		printf("reject line=%u reason=%s\n", m->reject.line, m->reject.reason);
		break;
	case PWR_ITEM_EMAIL:
		printf("email user=%s addr=%s\n", m->email.user, m->email.addr);
		break;
	case PWR_ITEM_CHECK:
		printf("check user=%s uid=%u eligible=%u reasons=%s\n", m->check.user, m->check.uid,
			m->check.eligible, m->check.reasons);
		break;
	case PWR_ITEM_TOKEN:
		printf("token user=%s kind=%u failures=%u tries_left=%u ttl=%lld\n", m->token.user,
			m->token.kind, m->token.failures, m->token.tries_left,
			(long long)(m->token.expires - m->token.issued));
		break;
	case PWR_ITEM_MAIL:
		printf("mail id=%llu user=%s to=%s kind=%u state=%u attempts=%u due_in=%lld reply=%s\n",
			(unsigned long long)m->mail.id, m->mail.user, m->mail.to, m->mail.kind,
			m->mail.state, m->mail.attempts,
			(long long)m->mail.next_try - (long long)time(NULL), m->mail.reply);
		break;
	default:
		printf("unexpected op=%u\n", op);
	}
	fflush(stdout);
}

/* Read answers until one that ends the exchange. 0, or -1 when the connection is gone. */
static int read_answers(void)
{
	for (;;) {
		union pwr_msg m;
		uint16_t op;
		int r = wire_recv(fd, &op, &m);
		if (r < 0) {
			printf("closed %s\n", strerror(-r));
			fflush(stdout);
			return -1;
		}
		print_answer(op, &m);
		if (op != PWR_ITEM_REJECT && op != PWR_ITEM_EMAIL && op != PWR_ITEM_CHECK &&
			op != PWR_ITEM_TOKEN && op != PWR_ITEM_RESET && op != PWR_ITEM_MAIL)
			return 0;
	}
}

static int send_raw(const char *hex)
{
	unsigned char buf[8192];
	size_t n = 0;

	for (; hex[0] && hex[1] && n < sizeof(buf); hex += 2) {
		unsigned v;
		if (sscanf(hex, "%2x", &v) != 1)
			return -EINVAL;
		buf[n++] = (unsigned char)v;
	}
	return send(fd, buf, n, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static int run(char *line)
{
	char *argv[1024] = {0};
	int argc = 0, r;
	union pwr_msg m;

	for (char *tok = strtok(line, " \t\n"); tok; tok = strtok(NULL, " \t\n")) {
		if (argc == 1024) {
			fprintf(stderr, "tclient: more than 1024 words on a line\n");
			return -E2BIG;
		}
		argv[argc++] = tok;
	}
	if (argc == 0)
		return 0;
	memset(&m, 0, sizeof(m));
#define A(i) (argc > (i) ? argv[i] : "")
	if (!strcmp(argv[0], "offer") || !strcmp(argv[0], "request")) {
		snprintf(m.who.user, sizeof(m.who.user), "%s", A(1));
		snprintf(m.who.rhost, sizeof(m.who.rhost), "%s", A(2));
		snprintf(m.who.tty, sizeof(m.who.tty), "pts/9");
		snprintf(m.who.service, sizeof(m.who.service), "tclient");
		r = wire_send(fd, argv[0][0] == 'o' ? PWR_REQ_OFFER : PWR_REQ_REQUEST, &m, 0);
	} else if (!strcmp(argv[0], "verify")) {
		snprintf(m.verify.who.user, sizeof(m.verify.who.user), "%s", A(1));
		snprintf(m.verify.code, sizeof(m.verify.code), "%s", A(2));
		snprintf(m.verify.who.rhost, sizeof(m.verify.who.rhost), "%s", A(3));
		r = wire_send(fd, PWR_REQ_VERIFY, &m, 0);
	} else if (!strcmp(argv[0], "setpw")) {
		/* setpw USER PASSWORD|- [RHOST]: "-" is the empty password */
		snprintf(m.set_password.who.user, sizeof(m.set_password.who.user), "%s", A(1));
		snprintf(m.set_password.password, sizeof(m.set_password.password), "%s",
			strcmp(A(2), "-") ? A(2) : "");
		snprintf(m.set_password.who.rhost, sizeof(m.set_password.who.rhost), "%s", A(3));
		snprintf(m.set_password.who.tty, sizeof(m.set_password.who.tty), "pts/9");
		r = wire_send(fd, PWR_REQ_SET_PASSWORD, &m, 0);
	} else if (!strcmp(argv[0], "reset")) {
		/* reset FLAGS TTL USER...: FLAGS a comma list of print, nolock, or "-" */
		m.reset.flags = (strstr(A(1), "print") ? PWR_RESET_PRINT : 0) |
				(strstr(A(1), "nolock") ? PWR_RESET_NO_LOCK : 0);
		m.reset.ttl = (uint32_t)strtoul(A(2), NULL, 10);
		for (int i = 3; i < argc; i++) {
			strncat(m.reset.users, argv[i], PWR_IMPORT_MAX - strlen(m.reset.users) - 1);
			strncat(m.reset.users, "\n", PWR_IMPORT_MAX - strlen(m.reset.users));
		}
		r = wire_send(fd, PWR_REQ_RESET, &m, 0);
	} else if (!strcmp(argv[0], "email-set")) {
		snprintf(m.email_set.user, sizeof(m.email_set.user), "%s", A(1));
		snprintf(m.email_set.addr, sizeof(m.email_set.addr), "%s", A(2));
		r = wire_send(fd, PWR_REQ_EMAIL_SET, &m, 0);
	} else if (!strcmp(argv[0], "email-unset") || !strcmp(argv[0], "email-show") ||
		   !strcmp(argv[0], "revoke")) {
		snprintf(m.user.user, sizeof(m.user.user), "%s", A(1));
		r = wire_send(fd,
			argv[0][0] == 'r'   ? PWR_REQ_REVOKE
			: argv[0][6] == 'u' ? PWR_REQ_EMAIL_UNSET
					    : PWR_REQ_EMAIL_SHOW,
			&m, 0);
	} else if (!strcmp(argv[0], "email-import")) {
		FILE *f = fopen(A(1), "r");
		size_t n = f ? fread(m.import.text, 1, PWR_IMPORT_MAX, f) : 0;
		if (f)
			fclose(f);
		m.import.text[n] = '\0';
		m.import.first_line = 1;
		m.import.dry_run = !strcmp(A(2), "dry");
		r = wire_send(fd, PWR_REQ_EMAIL_IMPORT, &m, 0);
	} else if (!strcmp(argv[0], "queue-flush")) {
		snprintf(m.user.user, sizeof(m.user.user), "%s", A(1));
		r = wire_send(fd, PWR_REQ_QUEUE_FLUSH, &m, 0);
	} else if (!strcmp(argv[0], "email-export") || !strcmp(argv[0], "tokens") ||
		   !strcmp(argv[0], "check") || !strcmp(argv[0], "queue")) {
		/* every page, as pwresetctl will */
		uint16_t op = argv[0][0] == 'e'   ? PWR_REQ_EMAIL_EXPORT
			      : argv[0][0] == 't' ? PWR_REQ_TOKENS
			      : argv[0][0] == 'q' ? PWR_REQ_QUEUE
						  : PWR_REQ_CHECK;
		snprintf(m.page.user, sizeof(m.page.user), "%s", A(1));
		for (;;) {
			char last[PWR_USER_MAX + 1] = "";
			union pwr_msg a;
			uint16_t aop;
			if ((r = wire_send(fd, op, &m, 0)) < 0)
				break;
			do {
				if ((r = wire_recv(fd, &aop, &a)) < 0) {
					printf("closed %s\n", strerror(-r));
					return -1;
				}
				print_answer(aop, &a);
				if (aop == PWR_ITEM_EMAIL)
					snprintf(last, sizeof(last), "%s", a.email.user);
				if (aop == PWR_ITEM_TOKEN)
					snprintf(last, sizeof(last), "%s", a.token.user);
			} while (aop != PWR_ANS_DONE && aop != PWR_ANS_ERROR);
			if (aop != PWR_ANS_DONE || !a.done.more)
				return 0;
			m.page.start = a.done.next;
			snprintf(m.page.user, sizeof(m.page.user), "%s", last);
		}
		return r;
	} else if (!strcmp(argv[0], "raw")) {
		r = send_raw(A(1));
	} else {
		fprintf(stderr, "tclient: unknown command %s\n", argv[0]);
		return 0;
	}
	if (r < 0) {
		printf("send-failed %s\n", strerror(-r));
		fflush(stdout);
		return -1;
	}
	return read_answers();
}

/* The helper finishes the work that follows an answer (a code queued after the uniform answer)
 * before it reads the next request: once it has seen our end close and closed its own, the
 * store is as it left it, and the test that reads the store next reads that (30 s at most). */
static void drain(void)
{
	struct timeval tv = {30, 0};
	char b[64];

	shutdown(fd, SHUT_WR);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (recv(fd, b, sizeof(b), 0) > 0)
		;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *helper = NULL;
	struct pwr_client c;
	char line[8192];
	int r;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--socket"))
			sock = argv[i + 1];
		else if (!strcmp(argv[i], "--helper"))
			helper = argv[i + 1];
	}
	if ((r = client_open(&c, sock, helper)) < 0) {
		fprintf(stderr, "tclient: cannot reach the helper: %s\n", strerror(-r));
		return 4;
	}
	fd = c.fd;
	while (fgets(line, sizeof(line), stdin))
		if (run(line) < 0) {
			client_close(&c);
			return 3;
		}
	drain();
	client_close(&c);
	return 0;
}
