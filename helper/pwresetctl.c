/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pwresetctl: the administrators' command line (SPEC §8). Each command is one conversation
 * with the helper, over its socket or, when no daemon answers, with the one-shot helper. This
 * program decides nothing: the helper checks who asks, validates, acts and logs. Here are
 * only the arguments, the paging and the output: tables for people (times in local time with
 * the zone), JSON for scripts (--json).
 *
 * Exit status: 0 done, 1 failed, 2 usage, 3 not permitted, 4 helper not reachable.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_QRENCODE
#include <qrencode.h>
#endif

#include "client.h"
#include "config.h"
#include "duration.h"
#include "util.h"
#include "wire.h"

enum { EX_DONE = 0, EX_FAILED = 1, EX_USAGE = 2, EX_PERM = 3, EX_UNREACHABLE = 4 };

#define IMPORT_FILE_MAX (64u * 1024 * 1024) /* bytes of an import file */

struct opts {
	const char *socket;
	const char *helper;
	bool json, print, no_lock, dry_run, help;
	bool ttl_given;
	uint32_t ttl;
};

struct command {
	const char *name; /* "email set": the words that name it */
	int min_args, max_args; /* after the name; -1: any number */
	unsigned options; /* OPT_* it accepts besides --json, --socket, --helper */
	int (*fn)(struct opts *o, int argc, char **argv);
	const char *usage;
	const char *help;
};

#define OPT_RESET 1u /* --print, --no-lock, --ttl */
#define OPT_DRY_RUN 2u

static const char *prog = "pwresetctl";
static const char *cmd_name = NULL; /* for messages: "pwresetctl: reset: …" */
static struct pwr_client conn = {.fd = -1};
static struct opts *opts_for_conn;

/* ---- messages ---- */

static void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void errorf(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	if (cmd_name)
		fprintf(stderr, "%s: ", cmd_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errorf("%s (see %s%s%s --help)", msg, prog, cmd_name ? " " : "", cmd_name ? cmd_name : "");
	return EX_USAGE;
}

/* What a terminal may show of a value from the store or a mail server: no control bytes. */
static const char *safe(const char *s, char *buf, size_t n)
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
static void jstr(const char *s)
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

static void jkey(const char *key, bool *first)
{
	if (!*first)
		putchar(',');
	*first = false;
	jstr(key);
	putchar(':');
}

/* ---- times ---- */

static const char *local_time(uint64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !localtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M %Z", &tm))
		snprintf(buf, n, "-");
	return buf;
}

static void jtime(uint64_t t)
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

static const char *span(uint64_t seconds, char *buf, size_t n)
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

#define TABLE_COLS 8
struct table {
	size_t ncols, nrows, cap;
	char **cells;
};

static void table_row(struct table *t, const char *const *cols)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));
		if (!c) {
			errorf("out of memory");
			exit(EX_FAILED);
		}
		t->cells = c;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		char buf[PWR_TEXT_MAX + 1];
		char *s = strdup(safe(cols[i] ? cols[i] : "", buf, sizeof(buf)));
		if (!s) {
			errorf("out of memory");
			exit(EX_FAILED);
		}
		t->cells[t->nrows * t->ncols + i] = s;
	}
	t->nrows++;
}

static void table_discard(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

static void table_print_free(struct table *t)
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
	table_discard(t);
}

/* ---- talking to the helper ---- */

/* End the program on a failure of the conversation: JSON not yet written out is dropped, so
 * a script never reads half a document (the exit status and stderr say what happened). */
static void die(int status)
{
	if (opts_for_conn && opts_for_conn->json)
		__fpurge(stdout);
	exit(status);
}

static void helper_open(void)
{
	struct opts *o = opts_for_conn;
	int r;

	if (conn.fd >= 0)
		return;
	r = client_open(&conn, o->socket, o->helper);
	if (r < 0) {
		errorf("cannot reach the helper: nothing answers at %s, and %s cannot be run "
		       "(%s)",
			o->socket, o->helper, strerror(-r));
		die(EX_UNREACHABLE);
	}
}

/* The first request on the connection, until its first answer: sent again to the one-shot
 * helper when the daemon closes the connection unanswered (it holds too many). */
static struct {
	bool pending;
	uint16_t op;
	union pwr_msg msg;
} first;

static void helper_send(uint16_t op, const union pwr_msg *msg)
{
	static bool sent;
	int r;

	helper_open();
	if (!sent) {
		first.pending = true;
		first.op = op;
		memcpy(&first.msg, msg, sizeof(first.msg));
	}
	sent = true;
	r = wire_send(conn.fd, op, msg, 0);
	if (r < 0 && first.pending && client_fallback(&conn, opts_for_conn->helper, r) == 0)
		r = wire_send(conn.fd, op, msg, 0);
	if (r < 0) {
		errorf("cannot send the request to the helper: %s", strerror(-r));
		die(r == -EPIPE || r == -ECONNRESET ? EX_UNREACHABLE : EX_FAILED);
	}
}

/* The next answer; an error answer ends the program with its exit status. */
static uint16_t helper_recv(union pwr_msg *m)
{
	uint16_t op;
	int r = wire_recv(conn.fd, &op, m);

	if (r < 0 && first.pending && client_fallback(&conn, opts_for_conn->helper, r) == 0 &&
		(r = wire_send(conn.fd, first.op, &first.msg, 0)) == 0)
		r = wire_recv(conn.fd, &op, m);
	if (first.pending) {
		first.pending = false;
		explicit_bzero(&first.msg, sizeof(first.msg));
	}
	if (r == -ECONNRESET) {
		errorf("the helper closed the connection without answering (its log says why)");
		die(EX_UNREACHABLE);
	}
	if (r < 0) {
		errorf("unreadable answer from the helper: %s", strerror(-r));
		die(EX_FAILED);
	}
	if (op == PWR_ANS_ERROR) {
		char buf[PWR_TEXT_MAX + 1];
		errorf("%s", safe(m->error.text, buf, sizeof(buf)));
		die(m->error.status == PWR_E_PERM ? EX_PERM : EX_FAILED);
	}
	return op;
}

static uint16_t helper_expect(union pwr_msg *m, uint16_t want1, uint16_t want2)
{
	uint16_t op = helper_recv(m);

	if (op != want1 && op != want2) {
		errorf("unexpected answer from the helper (%s)", wire_op_name(op));
		die(EX_FAILED);
	}
	return op;
}

static bool user_name_ok(const char *u)
{
	return *u && strlen(u) <= PWR_USER_MAX && util_text_ok(u);
}

/* ---- reset ---- */

static void draw_qr(const char *code)
{
#ifdef HAVE_QRENCODE
	QRcode *q = QRcode_encodeString(code, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	int w;

	if (!q)
		return;
	w = q->width;
	/* two rows of modules per line; light modules (and the quiet zone) drawn, for terminals
	 * with a dark background */
	for (int y = -2; y < w + 2; y += 2) {
		fputs("    ", stdout);
		for (int x = -2; x < w + 2; x++) {
			bool top = x >= 0 && x < w && y >= 0 && y < w && (q->data[y * w + x] & 1);
			bool bot = x >= 0 && x < w && y + 1 >= 0 && y + 1 < w &&
				   (q->data[(y + 1) * w + x] & 1);
			fputs(!top && !bot ? "\u2588"
				: !top     ? "\u2580"
				: !bot     ? "\u2584"
					   : " ",
				stdout);
		}
		putchar('\n');
	}
	QRcode_free(q);
#else
	(void)code;
#endif
}

static void handover_sheet(const struct pwr_reset_item *it)
{
	char host[256] = "this host", when[64];

	gethostname(host, sizeof(host) - 1);
	printf("==== Password reset: hand this to %s ====\n", it->user);
	printf("user:     %s\nhost:     %s\ncode:     %s\nexpires:  %s\n", it->user, host, it->code,
		local_time(it->expires, when, sizeof(when)));
	printf("\nAt the login prompt of %s (ssh or console):\n"
	       "  1. Log in as %s and type any password%s.\n"
	       "  2. At \"Forgot your password? Enter a reset code ...\" type the code above.\n"
	       "  3. Choose a new password and type it twice.\n"
	       "  4. Log in with the new password.\n"
	       "The code works once, until it expires.\n",
		host, it->user, it->locked ? " (the old one is locked)" : "");
	if (isatty(STDOUT_FILENO))
		draw_qr(it->code);
	putchar('\n');
}

static void reset_result(struct opts *o, const struct pwr_reset_item *it, bool *first)
{
	char when[64];

	if (o->json) {
		bool f = true;
		printf("%s{", *first ? "" : ",");
		*first = false;
		jkey("user", &f);
		jstr(it->user);
		jkey("ok", &f);
		fputs(it->status == PWR_OK ? "true" : "false", stdout);
		if (it->status == PWR_OK) {
			jkey("locked", &f);
			fputs(it->locked ? "true" : "false", stdout);
			jkey("mailed", &f);
			fputs(it->mailed ? "true" : "false", stdout);
			jkey("code", &f);
			jstr(it->code[0] ? it->code : NULL);
			jkey("expires", &f);
			jtime(it->expires);
		} else {
			jkey("error", &f);
			jstr(it->text);
		}
		putchar('}');
		return;
	}
	if (it->status != PWR_OK) {
		char buf[PWR_TEXT_MAX + 1];
		errorf("%s: %s", it->user, safe(it->text, buf, sizeof(buf)));
		return;
	}
	if (it->code[0]) {
		handover_sheet(it);
		return;
	}
	printf("%s: %s; a code was queued for mail to the recovery address, valid until %s "
	       "(delivery: %s queue)\n",
		it->user, it->locked ? "password locked" : "password unchanged",
		local_time(it->expires, when, sizeof(when)), prog);
}

static int cmd_reset(struct opts *o, int argc, char **argv)
{
	union pwr_msg req, m;
	int failed = 0, refused = 0, i = 0;
	bool first = true;

	if (o->json)
		fputs("{\"results\":[", stdout);
	while (i < argc) {
		size_t used = 0;
		int sent = 0;

		memset(&req, 0, sizeof(req));
		req.reset.flags =
			(o->print ? PWR_RESET_PRINT : 0) | (o->no_lock ? PWR_RESET_NO_LOCK : 0);
		req.reset.ttl = o->ttl;
		for (; i < argc; i++) {
			size_t l = strlen(argv[i]);
			if (!user_name_ok(argv[i])) {
				struct pwr_reset_item bad = {.status = PWR_E_INVALID};
				snprintf(bad.user, sizeof(bad.user), "%.*s", PWR_USER_MAX, argv[i]);
				snprintf(bad.text, sizeof(bad.text), "not a user name");
				reset_result(o, &bad, &first);
				failed++;
				continue;
			}
			if (used + l + 1 > PWR_IMPORT_MAX)
				break;
			memcpy(req.reset.users + used, argv[i], l);
			req.reset.users[used + l] = '\n';
			used += l + 1;
			sent++;
		}
		if (!sent)
			continue;
		helper_send(PWR_REQ_RESET, &req);
		for (;;) {
			uint16_t op = helper_expect(&m, PWR_ITEM_RESET, PWR_ANS_DONE);
			if (op == PWR_ANS_DONE)
				break;
			failed += m.reset_item.status != PWR_OK;
			refused += m.reset_item.status == PWR_E_PERM;
			reset_result(o, &m.reset_item, &first);
			explicit_bzero(&m, sizeof(m));
		}
	}
	if (o->json)
		fputs("]}\n", stdout);
	/* not permitted for every user that failed: say so as a refused command would */
	return refused && refused == failed ? EX_PERM : failed ? EX_FAILED : EX_DONE;
}

/* ---- addresses ---- */

static int cmd_email_set(struct opts *o, int argc, char **argv)
{
	union pwr_msg req = {0}, m;
	bool f = true;

	(void)argc;
	if (!user_name_ok(argv[0]))
		return usage_error("'%s' is not a user name", argv[0]);
	if (strlen(argv[1]) > PWR_ADDR_MAX)
		return usage_error("the address is longer than %d bytes", PWR_ADDR_MAX);
	snprintf(req.email_set.user, sizeof(req.email_set.user), "%s", argv[0]);
	snprintf(req.email_set.addr, sizeof(req.email_set.addr), "%s", argv[1]);
	helper_send(PWR_REQ_EMAIL_SET, &req);
	helper_expect(&m, PWR_ANS_EMAIL_SET, PWR_ANS_EMAIL_SET);
	if (m.email_set_ans.status != PWR_OK) {
		errorf("the helper refused (status %u)", m.email_set_ans.status);
		return EX_FAILED;
	}
	if (m.email_set_ans.warnings & PWR_WARN_SHARED)
		errorf("warning: %s is also the address of %s: none of them can reset until each "
		       "has an address of their own",
			argv[1], m.email_set_ans.shared_with);
	if (m.email_set_ans.warnings & PWR_WARN_LOCAL)
		errorf("warning: %s can only be read on this host (local_domains): %s cannot "
		       "reset with it",
			argv[1], argv[0]);
	if (o->json) {
		putchar('{');
		jkey("user", &f);
		jstr(argv[0]);
		jkey("address", &f);
		jstr(argv[1]);
		jkey("warnings", &f);
		putchar('[');
		if (m.email_set_ans.warnings & PWR_WARN_SHARED) {
			char w[PWR_TEXT_MAX + 32];
			snprintf(w, sizeof(w), "shared-address:%s", m.email_set_ans.shared_with);
			jstr(w);
		}
		if (m.email_set_ans.warnings & PWR_WARN_LOCAL)
			printf("%s\"local-only-address\"",
				m.email_set_ans.warnings & PWR_WARN_SHARED ? "," : "");
		puts("]}");
	}
	return EX_DONE;
}

/* A request about one user answered with PWR_ANS_DONE; with --json, {"user", key: true}. */
static int user_request(struct opts *o, const char *user, uint16_t op, const char *key)
{
	union pwr_msg req = {0}, m;

	if (!user_name_ok(user))
		return usage_error("'%s' is not a user name", user);
	snprintf(req.user.user, sizeof(req.user.user), "%s", user);
	helper_send(op, &req);
	helper_expect(&m, PWR_ANS_DONE, PWR_ANS_DONE);
	if (o->json) {
		bool f = true;
		putchar('{');
		jkey("user", &f);
		jstr(user);
		jkey(key, &f);
		puts("true}");
	}
	return EX_DONE;
}

static int cmd_email_unset(struct opts *o, int argc, char **argv)
{
	(void)argc;
	return user_request(o, argv[0], PWR_REQ_EMAIL_UNSET, "removed");
}

static int cmd_email_show(struct opts *o, int argc, char **argv)
{
	union pwr_msg req = {0}, m;
	char buf[PWR_ADDR_MAX + 1];

	(void)argc;
	if (!user_name_ok(argv[0]))
		return usage_error("'%s' is not a user name", argv[0]);
	snprintf(req.user.user, sizeof(req.user.user), "%s", argv[0]);
	helper_send(PWR_REQ_EMAIL_SHOW, &req);
	helper_expect(&m, PWR_ANS_EMAIL_SHOW, PWR_ANS_EMAIL_SHOW);
	if (o->json) {
		bool f = true;
		putchar('{');
		jkey("user", &f);
		jstr(argv[0]);
		jkey("address", &f);
		jstr(m.email_show.addr);
		puts("}");
	} else {
		puts(safe(m.email_show.addr, buf, sizeof(buf)));
	}
	return EX_DONE;
}

static int read_file(const char *path, char **data, size_t *len)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(STDIN_FILENO), r;
	struct stat st;

	if (fd < 0)
		return -errno;
	r = fstat(fd, &st) < 0    ? -errno
	    : S_ISDIR(st.st_mode) ? -EISDIR
				  : util_read_all(fd, IMPORT_FILE_MAX, data, len);
	close(fd);
	return r;
}

struct rejects {
	size_t n, cap;
	struct pwr_reject_item *items;
};

static void reject_add(struct rejects *r, uint32_t line, const char *reason)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct pwr_reject_item *it = realloc(r->items, cap * sizeof(*it));
		if (!it) {
			errorf("out of memory");
			exit(EX_FAILED);
		}
		r->items = it;
		r->cap = cap;
	}
	r->items[r->n].line = line;
	snprintf(r->items[r->n].reason, sizeof(r->items[r->n].reason), "%s", reason);
	r->n++;
}

/* Send data as blocks of whole lines, each at most PWR_IMPORT_MAX bytes. A line that cannot
 * go (too long, a NUL inside) is refused here with its number. */
static uint32_t import_blocks(struct opts *o, const char *data, size_t len, struct rejects *rej)
{
	union pwr_msg req, m;
	uint32_t line = 1, imported = 0;
	size_t pos = 0;

	while (pos < len) {
		size_t used = 0;
		uint32_t first = line;

		memset(&req, 0, sizeof(req));
		while (pos < len) {
			const char *nl = memchr(data + pos, '\n', len - pos);
			size_t l = (nl ? (size_t)(nl - (data + pos)) : len - pos) + 1;
			if (memchr(data + pos, '\0', l - 1)) {
				if (used)
					break; /* send what is gathered; this line starts a block */
				reject_add(rej, line, "a NUL byte in the line");
			} else if (l > PWR_IMPORT_MAX) {
				if (used)
					break;
				reject_add(rej, line, "line longer than 3799 bytes");
			} else if (used + l > PWR_IMPORT_MAX) {
				break;
			} else {
				memcpy(req.import.text + used, data + pos, l - 1);
				req.import.text[used + l - 1] = '\n';
				used += l;
			}
			pos += l;
			line++;
			if (!used)
				first = line;
		}
		if (!used)
			continue;
		req.import.first_line = first;
		req.import.dry_run = o->dry_run;
		helper_send(PWR_REQ_EMAIL_IMPORT, &req);
		while (helper_expect(&m, PWR_ITEM_REJECT, PWR_ANS_DONE) == PWR_ITEM_REJECT)
			reject_add(rej, m.reject.line, m.reject.reason);
		imported += m.done.count;
	}
	return imported;
}

static int cmp_reject(const void *a, const void *b)
{
	const struct pwr_reject_item *x = a, *y = b;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int cmd_email_import(struct opts *o, int argc, char **argv)
{
	struct rejects rej = {0};
	uint32_t imported;
	char *data = NULL;
	size_t len = 0;
	int r;

	(void)argc;
	if ((r = read_file(argv[0], &data, &len)) < 0) {
		errorf("cannot read %s: %s", argv[0], strerror(-r));
		return EX_FAILED;
	}
	imported = import_blocks(o, data, len, &rej);
	free(data);
	if (rej.n) /* qsort's array may not be NULL, even when empty */
		qsort(rej.items, rej.n, sizeof(*rej.items), cmp_reject);
	if (o->json) {
		bool f = true;
		putchar('{');
		jkey("file", &f);
		jstr(argv[0]);
		jkey("dry_run", &f);
		fputs(o->dry_run ? "true" : "false", stdout);
		jkey("imported", &f);
		printf("%u", imported);
		jkey("rejected", &f);
		putchar('[');
		for (size_t i = 0; i < rej.n; i++) {
			bool g = true;
			printf("%s{", i ? "," : "");
			jkey("line", &g);
			printf("%u", rej.items[i].line);
			jkey("reason", &g);
			jstr(rej.items[i].reason);
			putchar('}');
		}
		puts("]}");
	} else {
		char buf[PWR_TEXT_MAX + 1];
		for (size_t i = 0; i < rej.n; i++)
			fprintf(stderr, "%s: %s:%u: %s\n", prog, argv[0], rej.items[i].line,
				safe(rej.items[i].reason, buf, sizeof(buf)));
		printf("%u address%s %s, %zu line%s refused%s\n", imported,
			imported == 1 ? "" : "es", o->dry_run ? "would be imported" : "imported",
			rej.n, rej.n == 1 ? "" : "s",
			o->dry_run ? " (dry run: nothing was changed)" : "");
	}
	free(rej.items);
	return rej.n ? EX_FAILED : EX_DONE;
}

/* Every page of a listing: calls item() for each item message. */
static void list_all(uint16_t op, uint16_t item_op, const char *user,
	void (*item)(const union pwr_msg *m, void *ctx), void *ctx)
{
	union pwr_msg req, m;

	memset(&req, 0, sizeof(req));
	snprintf(req.page.user, sizeof(req.page.user), "%s", user ? user : "");
	for (;;) {
		char last[PWR_USER_MAX + 1] = "";
		helper_send(op, &req);
		while (helper_expect(&m, item_op, PWR_ANS_DONE) == item_op) {
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

struct listing {
	struct opts *o;
	struct table t;
	size_t n;
};

static void export_item(const union pwr_msg *m, void *vctx)
{
	struct listing *l = vctx;
	char u[PWR_USER_MAX + 1], a[PWR_ADDR_MAX + 1];

	if (l->o->json) {
		bool f = true;
		printf("%s{", l->n ? "," : "");
		jkey("user", &f);
		jstr(m->email.user);
		jkey("address", &f);
		jstr(m->email.addr);
		putchar('}');
	} else {
		printf("%s %s\n", safe(m->email.user, u, sizeof(u)),
			safe(m->email.addr, a, sizeof(a)));
	}
	l->n++;
}

static int cmd_email_export(struct opts *o, int argc, char **argv)
{
	struct listing l = {.o = o};

	(void)argc;
	(void)argv;
	if (o->json)
		fputs("{\"addresses\":[", stdout);
	list_all(PWR_REQ_EMAIL_EXPORT, PWR_ITEM_EMAIL, NULL, export_item, &l);
	if (o->json)
		puts("]}");
	return EX_DONE;
}

/* ---- check ---- */

#define NREASONS PWR_REASON_COUNT

struct check_ctx {
	struct opts *o;
	size_t users, eligible;
	size_t per_reason[NREASONS];
};

/* Calls fn for each reason of a check item's list: shared-address:… is last and takes all
 * that follows, commas included. */
static void each_reason(const char *list, void (*fn)(const char *r, size_t n, void *ctx), void *ctx)
{
	const char *p = list;

	while (*p) {
		size_t n = strncmp(p, "shared-address:", 15) == 0 ? strlen(p) : strcspn(p, ",");
		fn(p, n, ctx);
		p += n;
		if (*p == ',')
			p++;
	}
}

static void count_reason(const char *r, size_t n, void *vctx)
{
	struct check_ctx *c = vctx;

	for (size_t i = 0; i < NREASONS; i++) {
		const char *word = wire_reason((enum pwr_reason)i);
		size_t l = strlen(word);
		if (n >= l && !strncmp(r, word, l) && (n == l || r[l] == ':'))
			c->per_reason[i]++;
	}
}

static void json_reason(const char *r, size_t n, void *vctx)
{
	bool *first = vctx;
	char buf[PWR_TEXT_MAX + 1];

	snprintf(buf, sizeof(buf), "%.*s", (int)n, r);
	if (!*first)
		putchar(',');
	*first = false;
	jstr(buf);
}

static void check_item(const union pwr_msg *m, void *vctx)
{
	struct check_ctx *c = vctx;
	const struct pwr_check_item *it = &m->check;

	if (c->o->json) {
		bool f = true, g = true;
		printf("%s{", c->users ? "," : "");
		jkey("user", &f);
		jstr(it->user);
		jkey("uid", &f);
		if (it->uid == UINT32_MAX)
			fputs("null", stdout);
		else
			printf("%u", it->uid);
		jkey("eligible", &f);
		fputs(it->eligible ? "true" : "false", stdout);
		jkey("reasons", &f);
		putchar('[');
		each_reason(it->reasons, json_reason, &g);
		fputs("]}", stdout);
	} else {
		char u[PWR_USER_MAX + 1], r[PWR_TEXT_MAX + 1];
		printf("%s\t%s\n", safe(it->user, u, sizeof(u)),
			it->eligible ? "eligible" : safe(it->reasons, r, sizeof(r)));
	}
	c->users++;
	c->eligible += it->eligible != 0;
	each_reason(it->reasons, count_reason, c);
}

static int cmd_check(struct opts *o, int argc, char **argv)
{
	struct check_ctx c = {.o = o};
	bool f = true;

	if (o->json)
		fputs("{\"users\":[", stdout);
	if (argc == 0)
		list_all(PWR_REQ_CHECK, PWR_ITEM_CHECK, NULL, check_item, &c);
	for (int i = 0; i < argc; i++) {
		if (!user_name_ok(argv[i])) {
			union pwr_msg fake = {0};
			snprintf(fake.check.user, sizeof(fake.check.user), "%.*s", PWR_USER_MAX,
				argv[i]);
			fake.check.uid = UINT32_MAX;
			snprintf(fake.check.reasons, sizeof(fake.check.reasons), "no-account");
			check_item(&fake, &c);
			continue;
		}
		list_all(PWR_REQ_CHECK, PWR_ITEM_CHECK, argv[i], check_item, &c);
	}
	if (o->json) {
		fputs("],\"summary\":{", stdout);
		jkey("users", &f);
		printf("%zu", c.users);
		jkey("eligible", &f);
		printf("%zu", c.eligible);
		jkey("reasons", &f);
		putchar('{');
		for (size_t i = 0, k = 0; i < NREASONS; i++)
			if (c.per_reason[i])
				printf("%s\"%s\":%zu", k++ ? "," : "", wire_reason((enum pwr_reason)i),
					c.per_reason[i]);
		puts("}}}");
	} else {
		printf("%zu user%s: %zu eligible, %zu cannot reset", c.users,
			c.users == 1 ? "" : "s", c.eligible, c.users - c.eligible);
		for (size_t i = 0, k = 0; i < NREASONS; i++)
			if (c.per_reason[i])
				printf("%s%s %zu", k++ ? ", " : " (", wire_reason((enum pwr_reason)i),
					c.per_reason[i]);
		puts(c.eligible == c.users ? "" : ")");
	}
	return c.eligible == c.users ? EX_DONE : EX_FAILED;
}

/* ---- codes ---- */

static void token_item(const union pwr_msg *m, void *vctx)
{
	struct listing *l = vctx;
	const struct pwr_token_item *t = &m->token;
	const char *kind = t->kind == PWR_KIND_ADMIN ? "admin" : "self";

	if (l->o->json) {
		bool f = true;
		printf("%s{", l->n ? "," : "");
		jkey("user", &f);
		jstr(t->user);
		jkey("kind", &f);
		jstr(kind);
		jkey("issued", &f);
		jtime(t->issued);
		jkey("expires", &f);
		jtime(t->expires);
		jkey("failures", &f);
		printf("%u", t->failures);
		jkey("tries_left", &f);
		printf("%u}", t->tries_left);
	} else {
		char issued[64], expires[64], left[16];
		snprintf(left, sizeof(left), "%u", t->tries_left);
		table_row(&l->t, (const char *const[]){t->user, kind,
					 local_time(t->issued, issued, sizeof(issued)),
					 local_time(t->expires, expires, sizeof(expires)), left});
	}
	l->n++;
}

static int cmd_tokens(struct opts *o, int argc, char **argv)
{
	struct listing l = {.o = o, .t = {.ncols = 5}};

	(void)argc;
	(void)argv;
	if (o->json)
		fputs("{\"tokens\":[", stdout);
	else
		table_row(&l.t,
			(const char *const[]){"USER", "KIND", "ISSUED", "EXPIRES", "TRIES LEFT"});
	list_all(PWR_REQ_TOKENS, PWR_ITEM_TOKEN, NULL, token_item, &l);
	if (o->json) {
		puts("]}");
	} else if (l.n == 0) {
		table_discard(&l.t);
		puts("No pending codes.");
	} else {
		table_print_free(&l.t);
	}
	return EX_DONE;
}

static int cmd_revoke(struct opts *o, int argc, char **argv)
{
	(void)argc;
	return user_request(o, argv[0], PWR_REQ_REVOKE, "revoked");
}

/* ---- the mail queue ---- */

static void mail_item(const union pwr_msg *m, void *vctx)
{
	struct listing *l = vctx;
	const struct pwr_mail_item *it = &m->mail;

	if (l->o->json) {
		bool f = true;
		printf("%s{", l->n ? "," : "");
		jkey("id", &f);
		printf("%llu", (unsigned long long)it->id);
		jkey("user", &f);
		jstr(it->user);
		jkey("to", &f);
		jstr(it->to);
		jkey("kind", &f);
		jstr(wire_mail_kind(it->kind));
		jkey("state", &f);
		jstr(wire_mail_state(it->state));
		jkey("attempts", &f);
		printf("%u", it->attempts);
		jkey("created", &f);
		jtime(it->created);
		jkey(it->state == 2 ? "sent" : "next_try", &f);
		if (it->state == 4)
			fputs("null", stdout);
		else
			jtime(it->next_try);
		jkey("reply", &f);
		jstr(it->reply);
		putchar('}');
	} else {
		char id[24], tries[16], when[64];
		snprintf(id, sizeof(id), "%llu", (unsigned long long)it->id);
		snprintf(tries, sizeof(tries), "%u", it->attempts);
		if (it->state == 4)
			snprintf(when, sizeof(when), "-");
		else
			local_time(it->next_try, when, sizeof(when));
		table_row(&l->t, (const char *const[]){id, it->user, it->to, wire_mail_kind(it->kind),
					 wire_mail_state(it->state), tries, when,
					 it->reply[0] ? it->reply : "-"});
	}
	l->n++;
}

static int cmd_queue(struct opts *o, int argc, char **argv)
{
	struct listing l = {.o = o, .t = {.ncols = 8}};

	(void)argc;
	(void)argv;
	if (o->json)
		fputs("{\"mails\":[", stdout);
	else
		table_row(&l.t, (const char *const[]){"ID", "USER", "TO", "KIND", "STATE", "TRIES",
					"SENT / NEXT TRY", "LAST REPLY"});
	list_all(PWR_REQ_QUEUE, PWR_ITEM_MAIL, NULL, mail_item, &l);
	if (o->json) {
		puts("]}");
	} else if (l.n == 0) {
		table_discard(&l.t);
		puts("The mail queue is empty.");
	} else {
		table_print_free(&l.t);
	}
	return EX_DONE;
}

static int cmd_queue_flush(struct opts *o, int argc, char **argv)
{
	union pwr_msg req = {0}, m;

	if (argc && !user_name_ok(argv[0]))
		return usage_error("'%s' is not a user name", argv[0]);
	snprintf(req.user.user, sizeof(req.user.user), "%s", argc ? argv[0] : "");
	helper_send(PWR_REQ_QUEUE_FLUSH, &req);
	helper_expect(&m, PWR_ANS_DONE, PWR_ANS_DONE);
	if (o->json)
		printf("{\"flushed\":%u}\n", m.done.count);
	else
		printf("%u mail%s waiting for a retry %s due now; see %s queue\n", m.done.count,
			m.done.count == 1 ? "" : "s", m.done.count == 1 ? "is" : "are", prog);
	return EX_DONE;
}

/* ---- status ---- */

static int cmd_status(struct opts *o, int argc, char **argv)
{
	union pwr_msg req = {0}, m;
	const struct pwr_status_ans *s = &m.status;
	char a[64], b[64], buf[PWR_TEXT_MAX + 1];

	(void)argc;
	(void)argv;
	helper_send(PWR_REQ_STATUS, &req);
	helper_expect(&m, PWR_ANS_STATUS, PWR_ANS_STATUS);
	if (o->json) {
		bool f = true, g = true;
		putchar('{');
		jkey("version", &f);
		jstr(s->version);
		jkey("mode", &f);
		jstr(s->mode == PWR_MODE_DAEMON ? "daemon" : "one-shot");
		jkey("started", &f);
		jtime(s->started);
		jkey("self_reset", &f);
		fputs(s->self_reset ? "true" : "false", stdout);
		jkey("help_message", &f);
		jstr(s->help);
		jkey("admin_group", &f);
		jstr(s->admin_group);
		jkey("code_ttl", &f);
		printf("%u", s->code_ttl);
		jkey("admin_code_ttl", &f);
		printf("%u", s->admin_code_ttl);
		jkey("smtp_url", &f);
		jstr(s->smtp_url);
		jkey("addresses", &f);
		printf("%u", s->addresses);
		jkey("codes", &f);
		putchar('{');
		jkey("self", &g);
		printf("%u", s->codes_self);
		jkey("admin", &g);
		printf("%u}", s->codes_admin);
		g = true;
		jkey("mail", &f);
		putchar('{');
		jkey("queued", &g);
		printf("%u", s->mail_queued);
		jkey("deferred", &g);
		printf("%u", s->mail_deferred);
		jkey("failed", &g);
		printf("%u", s->mail_failed);
		jkey("sent", &g);
		printf("%u}", s->mail_sent);
		jkey("store_bytes", &f);
		printf("%llu", (unsigned long long)s->store_bytes);
		jkey("problems", &f);
		putchar('[');
		g = true;
		for (char *save = NULL, *one = strtok_r(m.status.problems, "\n", &save); one;
			one = strtok_r(NULL, "\n", &save)) {
			if (!g)
				putchar(',');
			g = false;
			jstr(one);
		}
		puts("]}");
		return EX_DONE;
	}
	if (s->mode == PWR_MODE_DAEMON)
		printf("helper:         pwreset-helper %s, daemon running since %s\n", s->version,
			local_time(s->started, a, sizeof(a)));
	else
		printf("helper:         pwreset-helper %s, one-shot (no daemon answers at %s)\n",
			s->version, o->socket);
	printf("self-service:   %s\n", s->self_reset ? "on" : "off");
	printf("help message:   %s\n", s->help[0] ? safe(s->help, buf, sizeof(buf)) : "(none)");
	printf("admin group:    %s\n",
		s->admin_group[0] ? safe(s->admin_group, buf, sizeof(buf)) : "(none: root only)");
	printf("code lifetime:  %s self-service, %s administrator's\n",
		span(s->code_ttl, a, sizeof(a)), span(s->admin_code_ttl, b, sizeof(b)));
	printf("mail server:    %s\n", safe(s->smtp_url, buf, sizeof(buf)));
	printf("addresses:      %u registered\n", s->addresses);
	printf("pending codes:  %u self-service, %u administrator's\n", s->codes_self,
		s->codes_admin);
	printf("mail queue:     %u queued, %u deferred, %u failed, %u sent\n", s->mail_queued,
		s->mail_deferred, s->mail_failed, s->mail_sent);
	printf("store:          %.1f MiB used\n", (double)s->store_bytes / (1024.0 * 1024.0));
	/* what keeps resets from working, last: where an administrator's eye ends */
	for (char *save = NULL, *one = strtok_r(m.status.problems, "\n", &save); one;
		one = strtok_r(NULL, "\n", &save))
		printf("PROBLEM:        %s\n", safe(one, buf, sizeof(buf)));
	return EX_DONE;
}

/* ---- the command line ---- */

static const struct command commands[] = {
	{"reset", 1, -1, OPT_RESET, cmd_reset,
		"reset [--print] [--no-lock] [--ttl DURATION] USER...",
		"Force a reset: lock the password (unless --no-lock), clear the faillock tally and mail\n"
		"a code with the administrator's template; with --print, or for a user without an\n"
		"address, print a hand-over sheet with the code instead. --ttl sets the code's\n"
		"lifetime (90s, 30m, 72h, 7d; default admin_code_ttl)."},
	{"email set", 2, 2, 0, cmd_email_set, "email set USER ADDRESS",
		"Register USER's recovery address. Warns when the address is shared with another\n"
		"user or can only be read on this host."},
	{"email unset", 1, 1, 0, cmd_email_unset, "email unset USER",
		"Remove USER's recovery address."},
	{"email show", 1, 1, 0, cmd_email_show, "email show USER",
		"Print USER's recovery address alone on a line."},
	{"email import", 1, 1, OPT_DRY_RUN, cmd_email_import, "email import [--dry-run] FILE",
		"Register the addresses of FILE (- for standard input): lines \"user address\"; blank\n"
		"lines and lines starting with # are skipped. Each refused line is reported with its\n"
		"number and why; the others are imported (with --dry-run, only checked)."},
	{"email export", 0, 0, 0, cmd_email_export, "email export",
		"Print every registered address as \"user address\" lines, the format of import."},
	{"check", 0, -1, 0, cmd_check, "check [USER...]",
		"Whether each user can reset, and every reason why not; without USER, every local\n"
		"account with uid >= min_uid. Exit status 0 when all are eligible, 1 otherwise."},
	{"tokens", 0, 0, 0, cmd_tokens, "tokens",
		"The pending codes: user, kind (self/admin), issued, expires, tries left."},
	{"revoke", 1, 1, 0, cmd_revoke, "revoke USER", "Void USER's pending code."},
	{"queue flush", 0, 1, 0, cmd_queue_flush, "queue flush [USER]",
		"Make every mail waiting for a retry (of USER) due now."},
	{"queue", 0, 0, 0, cmd_queue, "queue",
		"The mail queue: each mail's state, tries, next try and the server's last answer."},
	{"status", 0, 0, 0, cmd_status, "status", "The helper's version, policy and counts."},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *f, const struct command *only)
{
	if (only) {
		fprintf(f, "Usage: %s [--json] [--socket PATH] [--helper PATH] %s\n\n%s\n", prog,
			only->usage, only->help);
		return;
	}
	fprintf(f,
		"Usage: %s [--json] [--socket PATH] [--helper PATH] COMMAND [ARGS]\n\n"
		"Administer self-service password reset (pam_pwreset).\n\nCommands:\n",
		prog);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f,
		"\nOptions:\n"
		"  --json         output for scripts\n"
		"  --socket PATH  the helper's socket (default %s)\n"
		"  --helper PATH  the helper to run when no daemon answers (default %s)\n"
		"  --help         this text; COMMAND --help: that command's\n"
		"  --version      the version\n\n"
		"Exit status: 0 done, 1 failed, 2 usage, 3 not permitted, 4 helper not reachable.\n"
		"See pwresetctl(8).\n",
		PWR_SOCKET_PATH, PWR_HELPER_PATH);
}

/* The command named by the first words of words[]; *used receives how many. */
static const struct command *find_command(int n, char **words, int *used)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const char *name = commands[i].name, *sp = strchr(name, ' ');
		if (!sp && n >= 1 && !strcmp(words[0], name)) {
			*used = 1;
			return &commands[i];
		}
		if (sp && n >= 2 && !strncmp(words[0], name, (size_t)(sp - name)) &&
			strlen(words[0]) == (size_t)(sp - name) && !strcmp(words[1], sp + 1)) {
			*used = 2;
			return &commands[i];
		}
	}
	return NULL;
}

static const char *option_value(int argc, char **argv, int *i, const char *name)
{
	size_t l = strlen(name);

	if (!strncmp(argv[*i], name, l) && argv[*i][l] == '=')
		return argv[*i] + l + 1;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

/* The command line, with pos room for every argument (the positional ones are gathered). */
static int run(int argc, char **argv, char **pos)
{
	struct opts o = {.socket = PWR_SOCKET_PATH, .helper = PWR_HELPER_PATH};
	const struct command *cmd;
	unsigned given = 0;
	bool version = false;
	int npos = 0, used = 0, rc;

	tzset();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if (!strcmp(a, "--")) {
			while (++i < argc)
				pos[npos++] = argv[i];
			break;
		}
		if (a[0] != '-' || !strcmp(a, "-")) {
			pos[npos++] = argv[i];
		} else if (!strcmp(a, "--json")) {
			o.json = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			o.help = true;
		} else if (!strcmp(a, "--version")) {
			version = true;
		} else if (!strcmp(a, "--print")) {
			o.print = true;
			given |= OPT_RESET;
		} else if (!strcmp(a, "--no-lock")) {
			o.no_lock = true;
			given |= OPT_RESET;
		} else if (!strcmp(a, "--dry-run")) {
			o.dry_run = true;
			given |= OPT_DRY_RUN;
		} else if (!strncmp(a, "--socket", 8) && (!a[8] || a[8] == '=')) {
			if (!(v = option_value(argc, argv, &i, "--socket")))
				return usage_error("--socket needs a PATH");
			o.socket = v;
		} else if (!strncmp(a, "--helper", 8) && (!a[8] || a[8] == '=')) {
			if (!(v = option_value(argc, argv, &i, "--helper")))
				return usage_error("--helper needs a PATH");
			o.helper = v;
		} else if (!strncmp(a, "--ttl", 5) && (!a[5] || a[5] == '=')) {
			uint64_t secs;
			if (!(v = option_value(argc, argv, &i, "--ttl")))
				return usage_error("--ttl needs a DURATION");
			if (conf_parse_duration(v, &secs) < 0 || secs == 0 || secs > UINT32_MAX)
				return usage_error(
					"--ttl %s: not a duration (90s, 30m, 72h, 7d)", v);
			o.ttl = (uint32_t)secs;
			o.ttl_given = true;
			given |= OPT_RESET;
		} else {
			return usage_error("unknown option %s", a);
		}
	}
	if (version) {
		printf("pwresetctl %s\n", PWR_VERSION);
		return EX_DONE;
	}
	if (npos == 0) {
		if (o.help) {
			print_usage(stdout, NULL);
			return EX_DONE;
		}
		print_usage(stderr, NULL);
		return EX_USAGE;
	}
	cmd = find_command(npos, pos, &used);
	if (!cmd) {
		if (npos >= 1 && (!strcmp(pos[0], "email")))
			return usage_error("email needs set, unset, show, import or export");
		return usage_error("unknown command '%s'", pos[0]);
	}
	cmd_name = cmd->name;
	if (o.help) {
		print_usage(stdout, cmd);
		return EX_DONE;
	}
	if (given & ~cmd->options)
		return usage_error("%s does not apply here",
			given & OPT_RESET ? "--print, --no-lock or --ttl" : "--dry-run");
	npos -= used;
	if (npos < cmd->min_args || (cmd->max_args >= 0 && npos > cmd->max_args))
		return usage_error("usage: %s", cmd->usage);
	opts_for_conn = &o;
	rc = cmd->fn(&o, npos, pos + used);
	client_close(&conn);
	if (fflush(stdout) != 0) {
		errorf("cannot write the output: %s", strerror(errno));
		return EX_FAILED;
	}
	return rc;
}

int main(int argc, char **argv)
{
	char **pos = calloc((size_t)argc + 1, sizeof(char *));
	int rc;

	if (!pos)
		return EX_FAILED;
	rc = run(argc, argv, pos);
	free(pos);
	return rc;
}
