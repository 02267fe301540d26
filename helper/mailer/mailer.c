/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pwreset-mailer: the only program of pam_pwreset that speaks to the network. The helper
 * starts it as mail_user with an empty environment and one socketpair end on fd 0; it reads
 * jobs (SMTP settings, envelope, the finished message) one at a time, sends each with libcurl
 * and answers it, tagged, with the outcome and the server's last reply. It keeps its SMTP
 * connection open while jobs keep coming and exits when the helper closes the socket.
 * MUST: it never runs as root; it checks the envelope and every header line of the message
 * for CR, LF, NUL and other control bytes before libcurl sees them; with
 * smtp_starttls = required nothing goes out unless TLS is up with the peer and its name
 * verified.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "mailproto.h"

struct upload {
	const char *data;
	size_t len, pos;
};

/* What the server said last, and what we said last (to know whether a 5xx refused the
 * recipient or the message, or something else). */
struct talk {
	char last_in[MAILANS_REPLY_MAX + 1];
	char last_cmd[8];
	char err_in[MAILANS_REPLY_MAX + 1]; /* the last 4xx or 5xx reply */
	char err_cmd[8]; /* the command it answered */
};

static size_t read_cb(char *out, size_t size, size_t n, void *ctx)
{
	struct upload *u = ctx;
	size_t room = size * n, left = u->len - u->pos, k = left < room ? left : room;

	memcpy(out, u->data + u->pos, k);
	u->pos += k;
	return k;
}

/* Printable ASCII only, at most MAILANS_REPLY_MAX bytes, without the line end. */
static void keep_line(char *dst, const char *src, size_t len)
{
	size_t n = 0;

	while (len && (src[len - 1] == '\n' || src[len - 1] == '\r'))
		len--;
	for (size_t i = 0; i < len && n < MAILANS_REPLY_MAX; i++)
		dst[n++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[n] = '\0';
}

static int debug_cb(CURL *c, curl_infotype type, char *data, size_t len, void *ctx)
{
	struct talk *t = ctx;
	(void)c;

	if (type == CURLINFO_HEADER_IN) {
		keep_line(t->last_in, data, len);
		if (len > 0 && (data[0] == '4' || data[0] == '5')) {
			memcpy(t->err_in, t->last_in, sizeof(t->err_in));
			memcpy(t->err_cmd, t->last_cmd, sizeof(t->err_cmd));
		}
	} else if (type == CURLINFO_HEADER_OUT) {
		size_t k = 0;
		while (k < len && k < sizeof(t->last_cmd) - 1 && data[k] >= 'A' && data[k] <= 'Z')
			k++;
		memcpy(t->last_cmd, data, k);
		t->last_cmd[k] = '\0';
	}
	return 0;
}

/* An envelope address: printable ASCII without blanks or angle brackets, one '@' inside. */
static bool addr_ok(const char *a)
{
	const char *at = strchr(a, '@');

	if (!at || at == a || !at[1] || strchr(at + 1, '@'))
		return false;
	for (const char *p = a; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '<' || *p == '>')
			return false;
	return true;
}

/* The message: CRLF line ends only; a header block of printable ASCII lines (a folded line
 * starts with a blank) ended by an empty line; no control bytes but TAB anywhere; no line over
 * 998 bytes. NULL when it is fine, else what is wrong. */
static const char *message_problem(const char *d, size_t len)
{
	bool in_header = true, first = true;
	size_t pos = 0;

	while (pos < len) {
		const char *cr = memchr(d + pos, '\r', len - pos);
		size_t end;

		if (!cr)
			return "a last line without CRLF";
		end = (size_t)(cr - d);
		if (end + 1 >= len || d[end + 1] != '\n')
			return "a CR that does not end a line";
		if (end - pos > 998)
			return "a line over 998 bytes";
		for (size_t i = pos; i < end; i++) {
			unsigned char ch = (unsigned char)d[i];
			if (ch == '\n')
				return "a LF that does not follow a CR";
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return in_header ? "a control byte in a header"
						 : "a control byte in the body";
			if (in_header && ch >= 0x80)
				return "a byte outside ASCII in a header";
		}
		if (in_header) {
			if (end == pos)
				in_header = false;
			else if (d[pos] == ' ' || d[pos] == '\t') {
				if (first)
					return "a folded first header line";
			} else if (!memchr(d + pos, ':', end - pos))
				return "a header line without a colon";
			first = false;
		}
		pos = end + 2;
	}
	return in_header ? "no empty line after the headers" : NULL;
}

static void answer(uint32_t tag, uint32_t outcome, uint32_t code, const char *reply)
{
	unsigned char buf[MAILANS_PACKET_MAX];
	struct mailans a = {.tag = tag, .outcome = outcome, .smtp_code = code};
	long n;

	keep_line(a.reply, reply, strlen(reply));
	n = mailproto_ans_encode(&a, buf, sizeof(buf));
	if (n < 0 || send(0, buf, (size_t)n, MSG_NOSIGNAL) != n) {
		syslog(LOG_ERR, "cannot answer the helper: %s", strerror(errno));
		exit(1);
	}
}

/* The one SMTP session: its handle (and so its connection) lives as long as the mailer. */
struct session {
	CURL *curl;
	struct upload up;
	struct talk t;
	struct curl_slist *rcpt;
	char errbuf[CURL_ERROR_SIZE];
	char from[MAILJOB_ADDR_MAX + 3];
};

/* Check job j; NULL when it may go, else why it is refused. */
static const char *job_problem(const struct mailjob *j, char *text, size_t len)
{
	const char *why;

	if (!addr_ok(j->from) || !addr_ok(j->to))
		return "refused: an envelope address with a control byte or blank";
	if ((why = message_problem(j->data, j->data_len))) {
		snprintf(text, len, "refused: the message has %s", why);
		return text;
	}
	return NULL;
}

/* Set up the transfer of job j on s. */
static void prepare(struct session *s, const struct mailjob *j)
{
	static const long use_ssl[] = {CURLUSESSL_ALL, CURLUSESSL_TRY, CURLUSESSL_NONE};
	bool verify = j->starttls != MAILJOB_TLS_OPPORTUNISTIC;
	CURL *curl = s->curl;

	snprintf(s->from, sizeof(s->from), "<%s>", j->from);
	s->up = (struct upload){j->data, j->data_len, 0};
	memset(&s->t, 0, sizeof(s->t));
	s->errbuf[0] = '\0';
	/* a reset keeps the open connection, so a run of mails shares one SMTP session */
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, j->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_USE_SSL, use_ssl[j->starttls]);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
	if (*j->ca_file)
		curl_easy_setopt(curl, CURLOPT_CAINFO, j->ca_file);
	if (*j->user) {
		curl_easy_setopt(curl, CURLOPT_USERNAME, j->user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, j->password);
	}
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, s->from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, s->rcpt);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(curl, CURLOPT_READDATA, &s->up);
	curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->data_len);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)j->timeout);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)j->timeout);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &s->t);
}

/* The transfer is over: answer with its outcome. */
static void finish(struct session *s, uint32_t tag, CURLcode rc)
{
	long code = 0;

	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	/* the password must not outlive this job in libcurl's copy either */
	curl_easy_setopt(s->curl, CURLOPT_PASSWORD, "");
	if (code < 0 || code > 999)
		code = 0;
	if (rc == CURLE_OK) {
		answer(tag, MAIL_SENT_OK, (uint32_t)code, *s->t.last_in ? s->t.last_in : "sent");
	} else if (rc == CURLE_USE_SSL_FAILED) {
		answer(tag, MAIL_TEMPFAIL, (uint32_t)code,
			"the server does not offer STARTTLS and smtp_starttls = required: not sent");
	} else {
		/* a 5xx to the recipient or to the message is final; to anything else (AUTH, MAIL
		 * FROM, the greeting) it is the configuration or the server: try again later */
		const char *said = *s->t.err_in ? s->t.err_in : s->t.last_in;
		bool final = *s->t.err_in == '5' &&
			     (!strcmp(s->t.err_cmd, "RCPT") || !strcmp(s->t.err_cmd, "DATA"));
		char text[MAILANS_REPLY_MAX + CURL_ERROR_SIZE + 8];

		if (*s->t.err_in)
			code = strtol(s->t.err_in, NULL, 10);
		snprintf(text, sizeof(text), "%s%s%s", said, *said ? " / " : "",
			*s->errbuf ? s->errbuf : curl_easy_strerror(rc));
		answer(tag, final ? MAIL_PERMFAIL : MAIL_TEMPFAIL, (uint32_t)code, text);
	}
}

/* Send job j and answer it. */
static void send_job(struct session *s, const struct mailjob *j)
{
	char text[128];
	const char *why = job_problem(j, text, sizeof(text));

	if (why) {
		answer(j->tag, MAIL_PERMFAIL, 0, why);
		return;
	}
	if (!(s->rcpt = curl_slist_append(NULL, j->to))) {
		answer(j->tag, MAIL_TEMPFAIL, 0, "out of memory");
		return;
	}
	prepare(s, j);
	finish(s, j->tag, curl_easy_perform(s->curl));
	curl_slist_free_all(s->rcpt);
	s->rcpt = NULL;
}

int main(void)
{
	struct session s = {0};
	struct mailjob job;
	unsigned char *packet;
	int type = 0;
	socklen_t len = sizeof(type);

	/* it holds the SMTP password while it sends: not readable by another process of
	 * mail_user (ptrace, /proc), and no core */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	openlog("pwreset-mailer", LOG_PID, LOG_MAIL);
	if (getuid() == 0 || geteuid() == 0) {
		syslog(LOG_ERR, "refusing to run as root: the helper starts this as mail_user");
		fprintf(stderr, "pwreset-mailer: refusing to run as root\n");
		return 1;
	}
	if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET) {
		fprintf(stderr,
			"pwreset-mailer: fd 0 must be the helper's SOCK_SEQPACKET socket\n");
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || !(s.curl = curl_easy_init()) ||
		!(packet = malloc(MAILJOB_PACKET_MAX + 1))) {
		syslog(LOG_ERR, "cannot initialise libcurl");
		return 1;
	}
	/* one job at a time, until the helper closes the socket */
	for (;;) {
		ssize_t n = recv(0, packet, MAILJOB_PACKET_MAX + 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((size_t)n > MAILJOB_PACKET_MAX ||
			mailproto_job_decode(packet, (size_t)n, &job) < 0) {
			syslog(LOG_ERR, "malformed job of %zd bytes from the helper; exiting", n);
			answer(0, MAIL_TEMPFAIL, 0, "the mailer got a malformed job");
			break;
		}
		send_job(&s, &job);
		explicit_bzero(packet, (size_t)n);
	}
	explicit_bzero(packet, MAILJOB_PACKET_MAX + 1);
	free(packet);
	curl_easy_cleanup(s.curl);
	curl_global_cleanup();
	return 0;
}
