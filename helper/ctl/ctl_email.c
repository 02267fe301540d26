/* SPDX-License-Identifier: BSD-3-Clause */
/* pwresetctl: recovery addresses: set, remove, show, import, export. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "ctl.h"
#include "util.h"

#define IMPORT_FILE_MAX (64u * 1024 * 1024) /* bytes of an import file */

/* ---- addresses ---- */

int ctl_email_set(struct opts *o, int argc, char **argv)
{
	union pwr_msg req = {0}, m;
	bool f = true;

	(void)argc;
	if (!ctl_user_name_ok(argv[0]) ||
		util_copy(req.email_set.user, sizeof(req.email_set.user), argv[0]) < 0)
		return ctl_usage_error(_("'%s' is not a user name"), argv[0]);
	if (util_copy(req.email_set.addr, sizeof(req.email_set.addr), argv[1]) < 0)
		return ctl_usage_error(_("the address is longer than %d bytes"), PWR_ADDR_MAX);
	if (o->language &&
		(!*o->language || util_copy(req.email_set.language, sizeof(req.email_set.language),
					  o->language) < 0))
		return ctl_usage_error(_("--language %s: not a language name"), o->language);
	ctl_helper_send(PWR_REQ_EMAIL_SET, &req);
	ctl_helper_expect(&m, PWR_ANS_EMAIL_SET, PWR_ANS_EMAIL_SET);
	if (m.email_set_ans.status != PWR_OK) {
		ctl_errorf(_("the helper refused (status %u)"), m.email_set_ans.status);
		return EX_FAILED;
	}
	if (m.email_set_ans.warnings & PWR_WARN_SHARED)
		ctl_errorf(
			_("warning: %s is also the address of %s: none of them can reset until each "
			  "has an address of their own"),
			argv[1], m.email_set_ans.shared_with);
	if (m.email_set_ans.warnings & PWR_WARN_LOCAL)
		ctl_errorf(_("warning: %s can only be read on this host (local_domains): %s cannot "
			     "reset with it"),
			argv[1], argv[0]);
	if (o->json) {
		putchar('{');
		ctl_jkey("user", &f);
		ctl_jstr(argv[0]);
		ctl_jkey("address", &f);
		ctl_jstr(argv[1]);
		ctl_jkey("warnings", &f);
		putchar('[');
		if (m.email_set_ans.warnings & PWR_WARN_SHARED) {
			char w[PWR_TEXT_MAX + 32];
			snprintf(w, sizeof(w), "shared-address:%s", m.email_set_ans.shared_with);
			ctl_jstr(w);
		}
		if (m.email_set_ans.warnings & PWR_WARN_LOCAL)
			printf("%s\"local-only-address\"",
				m.email_set_ans.warnings & PWR_WARN_SHARED ? "," : "");
		puts("]}");
	}
	return EX_DONE;
}

int ctl_email_language(struct opts *o, int argc, char **argv)
{
	union pwr_msg req = {0}, m;

	(void)argc;
	if (!ctl_user_name_ok(argv[0]) ||
		util_copy(req.email_set.user, sizeof(req.email_set.user), argv[0]) < 0)
		return ctl_usage_error(_("'%s' is not a user name"), argv[0]);
	if (!*argv[1] ||
		util_copy(req.email_set.language, sizeof(req.email_set.language), argv[1]) < 0)
		return ctl_usage_error(_("'%s' is not a language name"), argv[1]);
	ctl_helper_send(PWR_REQ_EMAIL_LANGUAGE, &req);
	ctl_helper_expect(&m, PWR_ANS_DONE, PWR_ANS_DONE);
	if (o->json) {
		bool f;
		ctl_jopen("user", argv[0], &f);
		ctl_jkey("language", &f);
		if (!strcmp(argv[1], "default"))
			fputs("null", stdout);
		else
			ctl_jstr(argv[1]);
		puts("}");
	}
	return EX_DONE;
}

int ctl_email_unset(struct opts *o, int argc, char **argv)
{
	(void)argc;
	return ctl_user_request(o, argv[0], PWR_REQ_EMAIL_UNSET, "removed");
}

int ctl_email_show(struct opts *o, int argc, char **argv)
{
	union pwr_msg req = {0}, m;
	char buf[PWR_ADDR_MAX + 1];
	const char *source;

	(void)argc;
	if (!ctl_user_name_ok(argv[0]))
		return ctl_usage_error(_("'%s' is not a user name"), argv[0]);
	snprintf(req.user.user, sizeof(req.user.user), "%s", argv[0]);
	ctl_helper_send(PWR_REQ_EMAIL_SHOW, &req);
	ctl_helper_expect(&m, PWR_ANS_EMAIL_SHOW, PWR_ANS_EMAIL_SHOW);
	source = m.email_show.source == PWR_SOURCE_USER        ? "user"
		 : m.email_show.source == PWR_SOURCE_DIRECTORY ? "directory"
							       : "admin";
	if (o->json) {
		bool f;
		ctl_jopen("user", argv[0], &f);
		ctl_jkey("address", &f);
		ctl_jstr(m.email_show.addr);
		ctl_jkey("source", &f);
		ctl_jstr(source);
		ctl_jkey("confirmed", &f);
		ctl_jtime(m.email_show.confirmed); /* null: never confirmed by a code */
		ctl_jkey("language", &f); /* null: mail_language applies */
		if (*m.email_show.language)
			ctl_jstr(m.email_show.language);
		else
			fputs("null", stdout);
		puts("}");
	} else {
		/* the address alone on the first line (SPEC §8), then where it came from */
		char when[64];
		puts(ctl_safe(m.email_show.addr, buf, sizeof(buf)));
		printf(_("source: %s\nconfirmed: %s\n"), source,
			m.email_show.confirmed
				? ctl_local_time(m.email_show.confirmed, when, sizeof(when))
			: m.email_show.source == PWR_SOURCE_DIRECTORY
				? _("never (the directory's)")
				: _("never (set by an administrator)"));
		printf(_("language: %s\n"),
			*m.email_show.language ? ctl_safe(m.email_show.language, buf, sizeof(buf))
					       : _("default (mail_language)"));
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
			ctl_errorf(_("out of memory"));
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
		ctl_helper_send(PWR_REQ_EMAIL_IMPORT, &req);
		while (ctl_helper_expect(&m, PWR_ITEM_REJECT, PWR_ANS_DONE) == PWR_ITEM_REJECT)
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

int ctl_email_import(struct opts *o, int argc, char **argv)
{
	struct rejects rej = {0};
	uint32_t imported;
	char *data = NULL;
	size_t len = 0;
	int r;

	(void)argc;
	if ((r = read_file(argv[0], &data, &len)) < 0) {
		ctl_errorf(_("cannot read %s: %s"), argv[0], strerror(-r));
		return EX_FAILED;
	}
	imported = import_blocks(o, data, len, &rej);
	free(data);
	if (rej.n) /* qsort's array may not be NULL, even when empty */
		qsort(rej.items, rej.n, sizeof(*rej.items), cmp_reject);
	if (o->json) {
		bool f;
		ctl_jopen("file", argv[0], &f);
		ctl_jkey("dry_run", &f);
		fputs(o->dry_run ? "true" : "false", stdout);
		ctl_jnum("imported", imported, &f);
		ctl_jkey("rejected", &f);
		putchar('[');
		for (size_t i = 0; i < rej.n; i++) {
			bool g = true;
			printf("%s{", i ? "," : "");
			ctl_jnum("line", rej.items[i].line, &g);
			ctl_jkey("reason", &g);
			ctl_jstr(rej.items[i].reason);
			putchar('}');
		}
		puts("]}");
	} else {
		char buf[PWR_TEXT_MAX + 1];
		for (size_t i = 0; i < rej.n; i++)
			fprintf(stderr, "%s: %s:%u: %s\n", ctl_prog, argv[0], rej.items[i].line,
				ctl_safe(rej.items[i].reason, buf, sizeof(buf)));
		printf(o->dry_run ? _n("%u address would be imported",
					    "%u addresses would be imported", imported)
				  : _n("%u address imported", "%u addresses imported", imported),
			imported);
		printf(_n(", %zu line refused", ", %zu lines refused", rej.n), rej.n);
		puts(o->dry_run ? _(" (dry run: nothing was changed)") : "");
	}
	free(rej.items);
	return rej.n ? EX_FAILED : EX_DONE;
}

void ctl_email_json(const struct pwr_email_item *e, bool comma)
{
	bool f = true;

	printf("%s{", comma ? "," : "");
	ctl_jkey("user", &f);
	ctl_jstr(e->user);
	ctl_jkey("address", &f);
	ctl_jstr(e->addr);
	putchar('}');
}

static void export_item(const union pwr_msg *m, void *vctx)
{
	struct listing *l = vctx;
	char u[PWR_USER_MAX + 1], a[PWR_ADDR_MAX + 1];

	if (l->o->json) {
		ctl_email_json(&m->email, l->n != 0);
	} else {
		printf("%s %s\n", ctl_safe(m->email.user, u, sizeof(u)),
			ctl_safe(m->email.addr, a, sizeof(a)));
	}
	l->n++;
}

int ctl_email_export(struct opts *o, int argc, char **argv)
{
	struct listing l = {.o = o};

	(void)argc;
	(void)argv;
	if (o->json)
		fputs("{\"addresses\":[", stdout);
	ctl_list_all(PWR_REQ_EMAIL_EXPORT, PWR_ITEM_EMAIL, NULL, export_item, &l);
	if (o->json)
		puts("]}");
	return EX_DONE;
}
