/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "config.h"
#include "ctl.h"
#include "util.h"

const char *ctl_prog = "pwresetctl";
struct catalog ctl_words;
char ctl_language[CATALOG_LANG_MAX + 1];
int ctl_ex_perm = EX_PERM;
const char *ctl_cmd_name = NULL;
struct pwr_client ctl_conn = {.fd = -1};
struct opts *ctl_opts;

/* ---- messages ---- */

static bool try_language(const char *lang)
{
	char why[256];

	if (catalog_open(&ctl_words, PWR_LOCALEDIR, lang, "pam_pwreset", why, sizeof(why)) < 0)
		return false;
	util_copy(ctl_language, sizeof(ctl_language), lang);
	return true;
}

void ctl_language_init(void)
{
	const char *messages, *list = getenv("LANGUAGE");
	char one[CATALOG_LANG_MAX + 1];

	setlocale(LC_ALL, "");
	messages = setlocale(LC_MESSAGES, NULL);
	if (!messages || !strcmp(messages, "C") || !strncmp(messages, "C.", 2) ||
		!strcmp(messages, "POSIX") || strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		return;
	while (list && *list) {
		size_t len = strcspn(list, ":");
		if (len < sizeof(one)) {
			memcpy(one, list, len);
			one[len] = '\0';
			if (try_language(one))
				return;
		}
		list += len + (list[len] == ':');
	}
	(void)try_language(messages);
}

void ctl_errorf(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", ctl_prog);
	if (ctl_cmd_name)
		fprintf(stderr, "%s: ", ctl_cmd_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int ctl_usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctl_errorf(_("%s (see %s%s%s --help)"), msg, ctl_prog, ctl_cmd_name ? " " : "",
		ctl_cmd_name ? ctl_cmd_name : "");
	return EX_USAGE;
}

/* How many columns a terminal gives s: wide characters (Japanese) two, in the caller's
 * locale; its bytes when it is not text of that locale. */
static size_t columns(const char *s)
{
	wchar_t w[128];
	size_t n = mbstowcs(w, s, sizeof(w) / sizeof(w[0]));
	int width = n == (size_t)-1 || n == sizeof(w) / sizeof(w[0]) ? -1 : wcswidth(w, n);

	return width < 0 ? strlen(s) : (size_t)width;
}

void ctl_field(const char *label, const char *format, ...)
{
	const char *l = catalog_get(&ctl_words, label);
	size_t used = columns(l) + 1;
	va_list ap;

	printf("%s:", l);
	do
		putchar(' ');
	while (++used < 16);
	va_start(ap, format);
	vprintf(catalog_format(&ctl_words, format), ap);
	va_end(ap);
	putchar('\n');
}

/* What a terminal may show of a value from the store or a mail server: no control bytes. */
const char *ctl_safe(const char *s, char *buf, size_t n)
{
	size_t i = 0;

	for (; *s && i + 1 < n; s++)
		buf[i++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	buf[i] = '\0';
	return buf;
}

/* ---- JSON ---- */

static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;

	if (s[0] >= 0xf8)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* A JSON string; bytes that are not UTF-8 become U+FFFD. */
void ctl_jstr(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	while (*p) {
		if (*p == '"' || *p == '\\') {
			printf("\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			printf("\\u%04x", *p++);
		} else if (*p < 0x80) {
			putchar(*p++);
		} else {
			size_t n = utf8_len(p);
			if (n == 0) {
				fputs("\\ufffd", stdout);
				p++;
			} else {
				fwrite(p, 1, n, stdout);
				p += n;
			}
		}
	}
	putchar('"');
}

void ctl_jkey(const char *key, bool *first)
{
	if (!*first)
		putchar(',');
	*first = false;
	ctl_jstr(key);
	putchar(':');
}

void ctl_jnum(const char *key, uint64_t value, bool *first)
{
	ctl_jkey(key, first);
	printf("%llu", (unsigned long long)value);
}

void ctl_jopen(const char *key, const char *value, bool *first)
{
	*first = true;
	putchar('{');
	ctl_jkey(key, first);
	ctl_jstr(value);
}

/* ---- times ---- */

const char *ctl_local_time(uint64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !localtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M %Z", &tm))
		snprintf(buf, n, "-");
	return buf;
}

void ctl_jtime(uint64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[64];
	long off;

	if (!t || !localtime_r(&tt, &tm)) {
		fputs("null", stdout);
		return;
	}
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	off = tm.tm_gmtoff / 60;
	printf("\"%s%c%02ld:%02ld\"", buf, off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

const char *ctl_span(uint64_t seconds, char *buf, size_t n)
{
	if (seconds % 86400 == 0 && seconds >= 86400)
		snprintf(buf, n, "%llu d", (unsigned long long)(seconds / 86400));
	else if (seconds % 3600 == 0 && seconds >= 3600)
		snprintf(buf, n, "%llu h", (unsigned long long)(seconds / 3600));
	else if (seconds % 60 == 0 && seconds >= 60)
		snprintf(buf, n, "%llu min", (unsigned long long)(seconds / 60));
	else
		snprintf(buf, n, "%llu s", (unsigned long long)seconds);
	return buf;
}

/* ---- tables for people ---- */

void ctl_table_row(struct table *t, const char *const *cols)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));
		if (!c) {
			ctl_errorf(_("out of memory"));
			exit(EX_FAILED);
		}
		t->cells = c;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		char buf[PWR_TEXT_MAX + 1];
		char *s = strdup(ctl_safe(cols[i] ? cols[i] : "", buf, sizeof(buf)));
		if (!s) {
			ctl_errorf(_("out of memory"));
			exit(EX_FAILED);
		}
		t->cells[t->nrows * t->ncols + i] = s;
	}
	t->nrows++;
}

void ctl_table_discard(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

void ctl_table_print_free(struct table *t)
{
	size_t width[TABLE_COLS] = {0};

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t l = strlen(t->cells[r * t->ncols + c]);
			width[c] = l > width[c] ? l : width[c];
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			if (c + 1 == t->ncols)
				printf("%s\n", s);
			else
				printf("%-*s  ", (int)width[c], s);
		}
	}
	ctl_table_discard(t);
}

/* ---- talking to the helper ---- */

/* End the program on a failure of the conversation: JSON not yet written out is dropped, so
 * a script never reads half a document (the exit status and stderr say what happened). */
void ctl_die(int status)
{
	if (ctl_opts && ctl_opts->json)
		__fpurge(stdout);
	exit(status);
}

void ctl_helper_open(void)
{
	struct opts *o = ctl_opts;
	int r;

	if (ctl_conn.fd >= 0)
		return;
	r = client_open(&ctl_conn, o->socket, o->helper);
	if (r < 0) {
		ctl_errorf(_("cannot reach the helper: nothing answers at %s, and %s cannot be run "
			     "(%s)"),
			o->socket, o->helper, strerror(-r));
		ctl_die(EX_UNREACHABLE);
	}
}

/* The first request on the connection, until its first answer: sent again to the one-shot
 * helper when the daemon closes the connection unanswered (it holds too many). */
static struct {
	bool pending;
	uint16_t op;
	union pwr_msg msg;
} first;

void ctl_helper_send(uint16_t op, const union pwr_msg *msg)
{
	static bool sent;
	int r;

	ctl_helper_open();
	if (!sent) {
		first.pending = true;
		first.op = op;
		memcpy(&first.msg, msg, sizeof(first.msg));
	}
	sent = true;
	r = wire_send(ctl_conn.fd, op, msg, 0);
	if (r < 0 && first.pending && client_fallback(&ctl_conn, ctl_opts->helper, r) == 0)
		r = wire_send(ctl_conn.fd, op, msg, 0);
	if (r < 0) {
		ctl_errorf(_("cannot send the request to the helper: %s"), strerror(-r));
		ctl_die(r == -EPIPE || r == -ECONNRESET ? EX_UNREACHABLE : EX_FAILED);
	}
}

/* The next answer; an error answer ends the program with its exit status. */
uint16_t ctl_helper_recv(union pwr_msg *m)
{
	uint16_t op;
	int r = wire_recv(ctl_conn.fd, &op, m);

	if (r < 0 && first.pending && client_fallback(&ctl_conn, ctl_opts->helper, r) == 0 &&
		(r = wire_send(ctl_conn.fd, first.op, &first.msg, 0)) == 0)
		r = wire_recv(ctl_conn.fd, &op, m);
	if (first.pending) {
		first.pending = false;
		explicit_bzero(&first.msg, sizeof(first.msg));
	}
	if (r == -ECONNRESET) {
		ctl_errorf(
			_("the helper closed the connection without answering (its log says why)"));
		ctl_die(EX_UNREACHABLE);
	}
	if (r < 0) {
		ctl_errorf(_("unreadable answer from the helper: %s"), strerror(-r));
		ctl_die(EX_FAILED);
	}
	if (op == PWR_ANS_ERROR) {
		char buf[PWR_TEXT_MAX + 1];
		ctl_errorf("%s", ctl_safe(m->error.text, buf, sizeof(buf)));
		ctl_die(m->error.status == PWR_E_PERM ? ctl_ex_perm : EX_FAILED);
	}
	return op;
}

uint16_t ctl_helper_expect(union pwr_msg *m, uint16_t want1, uint16_t want2)
{
	uint16_t op = ctl_helper_recv(m);

	if (op != want1 && op != want2) {
		ctl_errorf(_("unexpected answer from the helper (%s)"), wire_op_name(op));
		ctl_die(EX_FAILED);
	}
	return op;
}

bool ctl_user_name_ok(const char *u)
{
	return *u && strlen(u) <= PWR_USER_MAX && util_text_ok(u);
}

int ctl_list_command(struct opts *o, const struct listing_kind *k)
{
	struct listing l = {.o = o, .t = {.ncols = k->ncols}};

	if (o->json)
		printf("{\"%s\":[", k->array);
	else
		ctl_table_row(&l.t, k->head);
	ctl_list_all(k->op, k->item_op, NULL, k->item, &l);
	if (o->json) {
		puts("]}");
	} else if (l.n == 0) {
		ctl_table_discard(&l.t);
		puts(catalog_get(&ctl_words, k->empty_text));
	} else {
		ctl_table_print_free(&l.t);
	}
	return EX_DONE;
}

/* ---- requests ---- */

int ctl_user_request(struct opts *o, const char *user, uint16_t op, const char *key)
{
	union pwr_msg req = {0}, m;

	if (!ctl_user_name_ok(user))
		return ctl_usage_error(_("'%s' is not a user name"), user);
	snprintf(req.user.user, sizeof(req.user.user), "%s", user);
	ctl_helper_send(op, &req);
	ctl_helper_expect(&m, PWR_ANS_DONE, PWR_ANS_DONE);
	if (o->json) {
		bool f;
		ctl_jopen("user", user, &f);
		ctl_jkey(key, &f);
		puts("true}");
	}
	return EX_DONE;
}

void ctl_list_all(uint16_t op, uint16_t item_op, const char *user,
	void (*item)(const union pwr_msg *m, void *ctx), void *ctx)
{
	union pwr_msg req, m;

	memset(&req, 0, sizeof(req));
	snprintf(req.page.user, sizeof(req.page.user), "%s", user ? user : "");
	for (;;) {
		char last[PWR_USER_MAX + 1] = "";
		ctl_helper_send(op, &req);
		while (ctl_helper_expect(&m, item_op, PWR_ANS_DONE) == item_op) {
			if (item_op == PWR_ITEM_EMAIL)
				snprintf(last, sizeof(last), "%s", m.email.user);
			else if (item_op == PWR_ITEM_TOKEN)
				snprintf(last, sizeof(last), "%s", m.token.user);
			item(&m, ctx);
			explicit_bzero(&m, sizeof(m));
		}
		if (!m.done.more || user)
			return;
		req.page.start = m.done.next;
		snprintf(req.page.user, sizeof(req.page.user), "%s", last);
	}
}
