/* SPDX-License-Identifier: BSD-3-Clause */
/* pwresetctl: forced resets (with the hand-over sheet) and pending codes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The hand-over sheet's words, the same on a terminal and in JSON, into f: in --language, else
 * the account's (its mail's, as the helper said), and the prompt it names quoted in the
 * host's language, as the person will read it there (SPEC §13). */
static void sheet_words(FILE *f, const struct pwr_reset_item *it)
{
	char host[256] = "this host", when[64], prompt[PWR_TEXT_MAX + 1], why[256];
	struct catalog sheet, shown;

	gethostname(host, sizeof(host) - 1);
	(void)catalog_open(&sheet, PWR_LOCALEDIR,
		ctl_opts && ctl_opts->language ? ctl_opts->language : it->language, "pam_pwreset",
		why, sizeof(why));
	(void)catalog_open(
		&shown, PWR_LOCALEDIR, it->host_language, "pam_pwreset", why, sizeof(why));
	/* the prompt the person will see (SPEC §3): with self-service off, the one for an
	 * administrator's code, not the offer */
	prompt_quote(catalog_get(&shown, it->self_reset ? PROMPT_OFFER : PROMPT_ADMIN_CODE), prompt,
		sizeof(prompt));
	fprintf(f, catalog_format(&sheet, N_("==== Password reset: hand this to %s ====\n")),
		it->user);
	fprintf(f,
		catalog_format(&sheet, N_("user:     %s\nhost:     %s\ncode:     %s\n"
					  "expires:  %s\n")),
		it->user, host, it->code, ctl_local_time(it->expires, when, sizeof(when)));
	fprintf(f, catalog_format(&sheet, N_("\nAt the login prompt of %s (ssh or console):\n")),
		host);
	fprintf(f,
		it->locked
			? catalog_format(&sheet, N_("  1. Log in as %s and type any password (the "
						    "old one is locked).\n"))
			: catalog_format(&sheet, N_("  1. Log in as %s and type any password.\n")),
		it->user);
	fprintf(f, catalog_format(&sheet, N_("  2. At \"%s\" type the code above.\n")), prompt);
	fputs(catalog_get(&sheet, N_("  3. Choose a new password and type it twice.\n"
				     "  4. Log in with the new password.\n"
				     "The code works once, until it expires.\n")),
		f);
	catalog_close(&sheet);
	catalog_close(&shown);
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

/* "sheet" and "qr_svg" of a handed-over code, for --json. */
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
	printf("%s: %s; a code was queued for mail to the recovery address, valid until %s "
	       "(delivery: %s queue)\n",
		it->user,
		it->locked == PWR_LOCKED_RANDOM
			? "password replaced by a random one (the directory has no ppolicy)"
		: it->locked ? "password locked"
			     : "password unchanged",
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
		token_item, "No pending codes."};

	(void)argc;
	(void)argv;
	return ctl_list_command(o, &k);
}

int ctl_revoke(struct opts *o, int argc, char **argv)
{
	(void)argc;
	return ctl_user_request(o, argv[0], PWR_REQ_REVOKE, "revoked");
}
