/* SPDX-License-Identifier: BSD-3-Clause */
/* pwresetctl: forced resets (with the hand-over sheet) and pending codes. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_QRENCODE
#include <qrencode.h>
#endif

#include "catalog.h"
#include "config.h"
#include "ctl.h"
#include "prompts.h"
#include "util.h"

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

/* How the sheet quotes a prompt, enough to know it by: up to its first sentence's end and
 * " ..." when more follows ("Forgot your password? ..."), else without its "(Enter to skip): "
 * ("Enter the reset code from your administrator"); in any language. */
static void prompt_quote(const char *prompt, char *out, size_t outlen)
{
	static const char *const ends[] = {"? ", ". ", "\u3002", "\uff1f"}; /* 。？ */
	const char *cut = NULL;
	size_t len;

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		const char *e = strstr(prompt, ends[i]);
		if (e && (!cut || e < cut))
			cut = e + (strlen(ends[i]) == 2 ? 1 : strlen(ends[i]));
	}
	len = strlen(prompt);
	while (len && (prompt[len - 1] == ' ' || prompt[len - 1] == ':'))
		len--;
	if (cut && (size_t)(cut - prompt) < len) {
		snprintf(out, outlen, "%.*s ...", (int)(cut - prompt), prompt);
		return;
	}
	/* the last parenthesis, ASCII or full width, and the blank before it */
	for (size_t i = len; i-- > 0;) {
		if (prompt[i] == '(' || !strncmp(prompt + i, "\uff08", 3)) {
			len = i;
			break;
		}
	}
	while (len && prompt[len - 1] == ' ')
		len--;
	snprintf(out, outlen, "%.*s", (int)len, prompt);
}

/* The hand-over sheet's words (SPEC §13): in --language, else the account's (its mail's, as
 * the helper said); the prompt it names quoted in the host's language, as the person will
 * read it there. The same steps on a terminal and on paper. */
struct sheet {
	struct catalog words, shown;
	char host[256];
	char prompt[PWR_TEXT_MAX + 1];
	const struct pwr_reset_item *it;
};

#define SHEET_STEPS 4

static void sheet_open(struct sheet *s, const struct pwr_reset_item *it)
{
	char why[256];

	memset(s, 0, sizeof(*s));
	s->it = it;
	snprintf(s->host, sizeof(s->host), "this host");
	gethostname(s->host, sizeof(s->host) - 1);
	(void)catalog_open(&s->words, PWR_LOCALEDIR,
		ctl_opts && ctl_opts->language ? ctl_opts->language : it->language, "pam_pwreset",
		why, sizeof(why));
	(void)catalog_open(
		&s->shown, PWR_LOCALEDIR, it->host_language, "pam_pwreset", why, sizeof(why));
	/* the prompt the person will see (SPEC §3): with self-service off, the one for an
	 * administrator's code, not the offer */
	prompt_quote(catalog_get(&s->shown, it->self_reset ? PROMPT_OFFER : PROMPT_ADMIN_CODE),
		s->prompt, sizeof(s->prompt));
}

static void sheet_close(struct sheet *s)
{
	catalog_close(&s->words);
	catalog_close(&s->shown);
}

/* Step i (0 .. SHEET_STEPS - 1) at the login prompt, into out. */
static void sheet_step(char *out, size_t n, const struct sheet *s, int i)
{
	const struct catalog *c = &s->words;

	if (i == 0)
		snprintf(out, n,
			s->it->locked
				? catalog_format(c, N_("Log in as %s and type any password "
						       "(the old one is locked)."))
				: catalog_format(c, N_("Log in as %s and type any password.")),
			s->it->user);
	else if (i == 1)
		snprintf(
			out, n, catalog_format(c, N_("At \"%s\" type the code above.")), s->prompt);
	else
		snprintf(out, n, "%s",
			i == 2 ? catalog_get(c, N_("Choose a new password and type it twice."))
			       : catalog_get(c, N_("Log in with the new password.")));
}

/* The sheet for a terminal, into f. */
static void sheet_words(FILE *f, const struct pwr_reset_item *it)
{
	struct sheet s;
	char when[64];

	sheet_open(&s, it);
	fputs("==== ", f);
	fprintf(f, catalog_format(&s.words, N_("Password reset: hand this to %s")), it->user);
	fputs(" ====\n", f);
	fprintf(f,
		catalog_format(&s.words, N_("user:     %s\nhost:     %s\ncode:     %s\n"
					    "expires:  %s\n")),
		it->user, s.host, it->code, ctl_local_time(it->expires, when, sizeof(when)));
	fputc('\n', f);
	fprintf(f, catalog_format(&s.words, N_("At the login prompt of %s (ssh or console):")),
		s.host);
	fputc('\n', f);
	for (int i = 0; i < SHEET_STEPS; i++) {
		char step[PWR_TEXT_MAX * 2];
		sheet_step(step, sizeof(step), &s, i);
		fprintf(f, "  %d. %s\n", i + 1, step);
	}
	fputs(catalog_get(&s.words, N_("The code works once, until it expires.")), f);
	fputc('\n', f);
	sheet_close(&s);
}

static void handover_sheet(const struct pwr_reset_item *it)
{
	sheet_words(stdout, it);
	if (isatty(STDOUT_FILENO))
		draw_qr(it->code);
	putchar('\n');
}

/* The code as a QR code in an SVG document (dark modules on white, a quiet zone of 4), for
 * a page to print; malloc'd, or NULL (no libqrencode, or no memory). */
static char *qr_svg(const char *code)
{
#ifdef HAVE_QRENCODE
	QRcode *q = QRcode_encodeString(code, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	char *svg = NULL;
	size_t len = 0;
	FILE *f;

	if (!q)
		return NULL;
	if ((f = open_memstream(&svg, &len))) {
		int w = q->width, all = w + 8;
		fprintf(f,
			"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
			"shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
			"fill=\"#fff\"/><path fill=\"#000\" d=\"",
			all, all, all, all);
		for (int y = 0; y < w; y++)
			for (int x = 0; x < w; x++)
				if (q->data[y * w + x] & 1)
					fprintf(f, "M%d %dh1v1h-1z", x + 4, y + 4);
		fputs("\"/></svg>", f);
		if (fclose(f) != 0) {
			free(svg);
			svg = NULL;
		}
	}
	QRcode_free(q);
	return svg;
#else
	(void)code;
	return NULL;
#endif
}

/* Who issues the sheet: the name of the login the kernel keeps for this process (the
 * administrator behind sudo or Cockpit's superuser), else of the uid it runs as. */
static const char *issuer(char *out, size_t n)
{
	unsigned long uid = (unsigned long)getuid();
	struct passwd *pw;
	FILE *f = fopen("/proc/self/loginuid", "re");

	if (f) {
		unsigned long login;
		if (fscanf(f, "%lu", &login) == 1 && login != 4294967295ul)
			uid = login;
		fclose(f);
	}
	if ((pw = getpwuid((uid_t)uid)))
		snprintf(out, n, "%s", pw->pw_name);
	else
		snprintf(out, n, "uid %lu", uid);
	return out;
}

static void jfact(const struct catalog *c, const char *label, const char *value, bool *first)
{
	bool f = true;

	if (!*first)
		putchar(',');
	*first = false;
	putchar('{');
	ctl_jkey("label", &f);
	ctl_jstr(catalog_get(c, label));
	ctl_jkey("value", &f);
	ctl_jstr(value);
	putchar('}');
}

/* "paper": the sheet's words for a page to lay out on paper (SPEC §13), in the sheet's
 * language: a title, the code, facts (account, host, until when, issued by whom and when),
 * the steps, and how to keep it. */
static void paper_json(const struct pwr_reset_item *it, bool *f)
{
	struct sheet s;
	char when[64], now[64], who[256], text[PWR_TEXT_MAX * 2];
	bool g = true, h = true;

	sheet_open(&s, it);
	ctl_jkey("paper", f);
	putchar('{');
	ctl_jkey("language", &g);
	ctl_jstr(s.words.data ? (ctl_opts && ctl_opts->language ? ctl_opts->language : it->language)
			      : "en");
	ctl_jkey("title", &g);
	snprintf(text, sizeof(text), catalog_format(&s.words, N_("Password reset for %s")),
		it->user);
	ctl_jstr(text);
	ctl_jkey("code_label", &g);
	ctl_jstr(catalog_get(&s.words, N_("Reset code")));
	ctl_jkey("code", &g);
	ctl_jstr(it->code);
	ctl_jkey("facts", &g);
	putchar('[');
	jfact(&s.words, N_("Account"), it->user, &h);
	jfact(&s.words, N_("Host"), s.host, &h);
	jfact(&s.words, N_("Valid until"), ctl_local_time(it->expires, when, sizeof(when)), &h);
	jfact(&s.words, N_("Issued by"), issuer(who, sizeof(who)), &h);
	jfact(&s.words, N_("Issued on"), ctl_local_time((uint64_t)time(NULL), now, sizeof(now)),
		&h);
	putchar(']');
	ctl_jkey("intro", &g);
	snprintf(text, sizeof(text),
		catalog_format(&s.words, N_("At the login prompt of %s (ssh or console):")),
		s.host);
	ctl_jstr(text);
	ctl_jkey("steps", &g);
	putchar('[');
	for (int i = 0; i < SHEET_STEPS; i++) {
		sheet_step(text, sizeof(text), &s, i);
		if (i)
			putchar(',');
		ctl_jstr(text);
	}
	putchar(']');
	ctl_jkey("once", &g);
	ctl_jstr(catalog_get(&s.words, N_("The code works once, until it expires.")));
	ctl_jkey("private", &g);
	ctl_jstr(catalog_get(&s.words, N_("Keep this sheet private; destroy it once used.")));
	putchar('}');
	sheet_close(&s);
}

/* "sheet", "paper" and "qr_svg" of a handed-over code, for --json. */
static void sheet_json(const struct pwr_reset_item *it, bool *f)
{
	char *words = NULL, *svg = it->code[0] ? qr_svg(it->code) : NULL;
	size_t len = 0;
	FILE *m = it->code[0] ? open_memstream(&words, &len) : NULL;

	if (m) {
		sheet_words(m, it);
		if (fclose(m) != 0) {
			free(words);
			words = NULL;
		}
	}
	ctl_jkey("sheet", f);
	ctl_jstr(words);
	if (it->code[0])
		paper_json(it, f);
	ctl_jkey("qr_svg", f);
	ctl_jstr(svg);
	free(words);
	free(svg);
}

static void reset_result(struct opts *o, const struct pwr_reset_item *it, bool *first)
{
	char when[64];

	if (o->json) {
		bool f = true;
		printf("%s{", *first ? "" : ",");
		*first = false;
		ctl_jkey("user", &f);
		ctl_jstr(it->user);
		ctl_jkey("ok", &f);
		fputs(it->status == PWR_OK ? "true" : "false", stdout);
		if (it->status == PWR_OK) {
			ctl_jkey("locked", &f);
			fputs(it->locked ? "true" : "false", stdout);
			ctl_jkey(
				"random_password", &f); /* a directory without ppolicy (SPEC §12) */
			fputs(it->locked == PWR_LOCKED_RANDOM ? "true" : "false", stdout);
			ctl_jkey("mailed", &f);
			fputs(it->mailed ? "true" : "false", stdout);
			ctl_jkey("code", &f);
			ctl_jstr(it->code[0] ? it->code : NULL);
			ctl_jkey("expires", &f);
			ctl_jtime(it->expires);
			sheet_json(it, &f);
		} else {
			ctl_jkey("error", &f);
			ctl_jstr(it->text);
		}
		putchar('}');
		return;
	}
	if (it->status != PWR_OK) {
		char buf[PWR_TEXT_MAX + 1];
		ctl_errorf("%s: %s", it->user, ctl_safe(it->text, buf, sizeof(buf)));
		return;
	}
	if (it->code[0]) {
		handover_sheet(it);
		return;
	}
	printf(_("%s: %s; a code was queued for mail to the recovery address, valid until %s "
		 "(delivery: %s queue)\n"),
		it->user,
		it->locked == PWR_LOCKED_RANDOM
			? _("password replaced by a random one (the directory offers no lock)")
		: it->locked ? _("password locked")
			     : _("password unchanged"),
		ctl_local_time(it->expires, when, sizeof(when)), ctl_prog);
}

int ctl_reset(struct opts *o, int argc, char **argv)
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
			if (!ctl_user_name_ok(argv[i])) {
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
		ctl_helper_send(PWR_REQ_RESET, &req);
		for (;;) {
			uint16_t op = ctl_helper_expect(&m, PWR_ITEM_RESET, PWR_ANS_DONE);
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

/* ---- codes ---- */

static void token_item(const union pwr_msg *m, void *vctx)
{
	struct listing *l = vctx;
	const struct pwr_token_item *t = &m->token;
	const char *kind = t->kind == PWR_KIND_ADMIN ? "admin" : "self";

	if (l->o->json) {
		bool f = true;
		printf("%s{", l->n ? "," : "");
		ctl_jkey("user", &f);
		ctl_jstr(t->user);
		ctl_jkey("kind", &f);
		ctl_jstr(kind);
		ctl_jkey("issued", &f);
		ctl_jtime(t->issued);
		ctl_jkey("expires", &f);
		ctl_jtime(t->expires);
		ctl_jnum("failures", t->failures, &f);
		ctl_jkey("tries_left", &f);
		printf("%u}", t->tries_left);
	} else {
		char issued[64], expires[64], left[16];
		snprintf(left, sizeof(left), "%u", t->tries_left);
		ctl_table_row(
			&l->t, (const char *const[]){t->user, kind,
				       ctl_local_time(t->issued, issued, sizeof(issued)),
				       ctl_local_time(t->expires, expires, sizeof(expires)), left});
	}
	l->n++;
}

int ctl_tokens(struct opts *o, int argc, char **argv)
{
	static const struct listing_kind k = {"tokens", 5,
		{"USER", "KIND", "ISSUED", "EXPIRES", "TRIES LEFT"}, PWR_REQ_TOKENS, PWR_ITEM_TOKEN,
		token_item, N_("No pending codes.")};

	(void)argc;
	(void)argv;
	return ctl_list_command(o, &k);
}

int ctl_revoke(struct opts *o, int argc, char **argv)
{
	(void)argc;
	return ctl_user_request(o, argv[0], PWR_REQ_REVOKE, "revoked");
}
