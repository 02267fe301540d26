/* SPDX-License-Identifier: BSD-3-Clause */
/* pwresetctl: what the helper knows: the eligibility check, the mail queue, the status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "util.h"

/* ---- check ---- */

#define NREASONS PWR_REASON_COUNT

struct check_ctx {
	struct opts *o;
	const struct check_more *more;
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
	ctl_jstr(buf);
}

static void check_item(const union pwr_msg *m, void *vctx)
{
	struct check_ctx *c = vctx;
	const struct pwr_check_item *it = &m->check;

	if (c->o->json) {
		bool f = true, g = true;
		/* --json-seq: RFC 7464's record separator starts each text, a newline ends it */
		printf("%s{", c->o->json_seq ? "\x1e" : c->users ? "," : "");
		ctl_jkey("user", &f);
		ctl_jstr(it->user);
		ctl_jkey("uid", &f);
		if (it->uid == UINT32_MAX)
			fputs("null", stdout);
		else
			printf("%u", it->uid);
		ctl_jkey("eligible", &f);
		fputs(it->eligible ? "true" : "false", stdout);
		ctl_jkey("reasons", &f);
		putchar('[');
		each_reason(it->reasons, json_reason, &g);
		fputs(c->o->json_seq ? "]}\n" : "]}", stdout);
	} else {
		char u[PWR_USER_MAX + 1], r[PWR_TEXT_MAX + 1];
		printf("%s\t%s\n", ctl_safe(it->user, u, sizeof(u)),
			it->eligible ? "eligible" : ctl_safe(it->reasons, r, sizeof(r)));
	}
	if (c->more)
		c->more->seen(c->more->ctx, it->user);
	c->users++;
	c->eligible += it->eligible != 0;
	each_reason(it->reasons, count_reason, c);
}

/* The lines of a PWR_ITEM_CHECKS (protocol.h), each as the item it stands for. */
static void check_lines(char *lines, struct check_ctx *c)
{
	union pwr_msg m;
	char *save = NULL, *end;

	for (char *line = strtok_r(lines, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = {line};
		unsigned long uid = UINT32_MAX;
		for (int i = 1; i < 4 && f[i - 1]; i++)
			if ((f[i] = strchr(f[i - 1], '\t')))
				*f[i]++ = '\0';
		errno = 0;
		if (f[3] && strcmp(f[1], "-") != 0)
			uid = strtoul(f[1], &end, 10);
		if (!f[3] || (strcmp(f[1], "-") && (*end || errno || uid >= UINT32_MAX)) ||
			(strcmp(f[2], "0") && strcmp(f[2], "1")) ||
			util_copy(m.check.user, sizeof(m.check.user), f[0]) < 0 ||
			util_copy(m.check.reasons, sizeof(m.check.reasons), f[3]) < 0) {
			ctl_errorf(_(
				"unreadable answer from the helper: a malformed line of accounts"));
			ctl_die(EX_FAILED);
		}
		m.check.uid = (uint32_t)uid;
		m.check.eligible = f[2][0] == '1';
		check_item(&m, c);
	}
}

/* Every account, in one answer: many a packet where the helper can (PWR_CHECK_PACKED). */
static void check_every(struct check_ctx *c)
{
	union pwr_msg req = {.page = {.start = PWR_CHECK_PACKED}}, m;
	uint16_t op;

	ctl_helper_send(PWR_REQ_CHECK, &req);
	while ((op = ctl_helper_recv(&m)) != PWR_ANS_DONE) {
		if (op == PWR_ITEM_CHECKS)
			check_lines(m.checks.lines, c);
		else if (op == PWR_ITEM_CHECK)
			check_item(&m, c);
		else {
			ctl_errorf(_("unexpected answer from the helper (%s)"), wire_op_name(op));
			ctl_die(EX_FAILED);
		}
	}
}

int ctl_check(struct opts *o, int argc, char **argv)
{
	return ctl_check_with(o, argc, argv, NULL);
}

int ctl_check_with(struct opts *o, int argc, char **argv, const struct check_more *more)
{
	struct check_ctx c = {.o = o, .more = more};
	bool f = true;

	if (o->json)
		fputs(o->json_seq ? "" : "{\"users\":[", stdout);
	if (argc == 0)
		check_every(&c);
	if (more) {
		argv = more->names(more->ctx, &argc);
		c.more = NULL;
	}
	for (int i = 0; i < argc; i++) {
		if (!ctl_user_name_ok(argv[i])) {
			union pwr_msg fake = {0};
			snprintf(fake.check.user, sizeof(fake.check.user), "%.*s", PWR_USER_MAX,
				argv[i]);
			fake.check.uid = UINT32_MAX;
			snprintf(fake.check.reasons, sizeof(fake.check.reasons), "no-account");
			check_item(&fake, &c);
			continue;
		}
		ctl_list_all(PWR_REQ_CHECK, PWR_ITEM_CHECK, argv[i], check_item, &c);
	}
	if (o->json) {
		fputs(o->json_seq ? "\x1e{\"summary\":{" : "],\"summary\":{", stdout);
		ctl_jkey("users", &f);
		printf("%zu", c.users);
		ctl_jkey("eligible", &f);
		printf("%zu", c.eligible);
		ctl_jkey("reasons", &f);
		putchar('{');
		for (size_t i = 0, k = 0; i < NREASONS; i++)
			if (c.per_reason[i])
				printf("%s\"%s\":%zu", k++ ? "," : "",
					wire_reason((enum pwr_reason)i), c.per_reason[i]);
		puts("}}}");
	} else {
		printf(_n("%zu user: %zu eligible, %zu cannot reset",
			       "%zu users: %zu eligible, %zu cannot reset", c.users),
			c.users, c.eligible, c.users - c.eligible);
		for (size_t i = 0, k = 0; i < NREASONS; i++)
			if (c.per_reason[i])
				printf("%s%s %zu", k++ ? ", " : " (",
					wire_reason((enum pwr_reason)i), c.per_reason[i]);
		puts(c.eligible == c.users ? "" : ")");
	}
	return c.eligible == c.users ? EX_DONE : EX_FAILED;
}

/* ---- the mail queue ---- */

static void mail_item(const union pwr_msg *m, void *vctx)
{
	struct listing *l = vctx;
	const struct pwr_mail_item *it = &m->mail;

	if (l->o->json) {
		bool f = true;
		printf("%s{", l->n ? "," : "");
		ctl_jkey("id", &f);
		printf("%llu", (unsigned long long)it->id);
		ctl_jkey("user", &f);
		ctl_jstr(it->user);
		ctl_jkey("to", &f);
		ctl_jstr(it->to);
		ctl_jkey("kind", &f);
		ctl_jstr(wire_mail_kind(it->kind));
		ctl_jkey("state", &f);
		ctl_jstr(wire_mail_state(it->state));
		ctl_jnum("attempts", it->attempts, &f);
		ctl_jkey("created", &f);
		ctl_jtime(it->created);
		ctl_jkey(it->state == 2 ? "sent" : "next_try", &f);
		if (it->state == 4)
			fputs("null", stdout);
		else
			ctl_jtime(it->next_try);
		ctl_jkey("reply", &f);
		ctl_jstr(it->reply);
		putchar('}');
	} else {
		char id[24], tries[16], when[64];
		snprintf(id, sizeof(id), "%llu", (unsigned long long)it->id);
		snprintf(tries, sizeof(tries), "%u", it->attempts);
		if (it->state == 4)
			snprintf(when, sizeof(when), "-");
		else
			ctl_local_time(it->next_try, when, sizeof(when));
		ctl_table_row(&l->t, (const char *const[]){id, it->user, it->to,
					     wire_mail_kind(it->kind), wire_mail_state(it->state),
					     tries, when, it->reply[0] ? it->reply : "-"});
	}
	l->n++;
}

int ctl_queue(struct opts *o, int argc, char **argv)
{
	static const struct listing_kind k = {"mails", 8,
		{"ID", "USER", "TO", "KIND", "STATE", "TRIES", "SENT / NEXT TRY", "LAST REPLY"},
		PWR_REQ_QUEUE, PWR_ITEM_MAIL, mail_item, N_("The mail queue is empty.")};

	(void)argc;
	(void)argv;
	return ctl_list_command(o, &k);
}

int ctl_queue_flush(struct opts *o, int argc, char **argv)
{
	union pwr_msg req = {0}, m;

	if (argc && !ctl_user_name_ok(argv[0]))
		return ctl_usage_error(_("'%s' is not a user name"), argv[0]);
	snprintf(req.user.user, sizeof(req.user.user), "%s", argc ? argv[0] : "");
	ctl_helper_send(PWR_REQ_QUEUE_FLUSH, &req);
	ctl_helper_expect(&m, PWR_ANS_DONE, PWR_ANS_DONE);
	if (o->json)
		printf("{\"flushed\":%u}\n", m.done.count);
	else
		printf(_n("%u mail waiting for a retry is due now; see %s queue\n",
			       "%u mails waiting for a retry are due now; see %s queue\n",
			       m.done.count),
			m.done.count, ctl_prog);
	return EX_DONE;
}

/* ---- status ---- */

/* status --json (the problems list is taken apart in place). */
static void status_json(struct pwr_status_ans *s)
{
	bool f = true, g = true;
	putchar('{');
	ctl_jkey("version", &f);
	ctl_jstr(s->version);
	ctl_jkey("mode", &f);
	ctl_jstr(s->mode == PWR_MODE_DAEMON ? "daemon" : "one-shot");
	ctl_jkey("started", &f);
	ctl_jtime(s->started);
	ctl_jkey("self_reset", &f);
	fputs(s->self_reset ? "true" : "false", stdout);
	ctl_jkey("help_message", &f);
	ctl_jstr(s->help);
	ctl_jkey("admin_group", &f);
	ctl_jstr(s->admin_group);
	ctl_jnum("code_ttl", s->code_ttl, &f);
	ctl_jnum("admin_code_ttl", s->admin_code_ttl, &f);
	ctl_jkey("smtp_url", &f);
	ctl_jstr(s->smtp_url);
	ctl_jnum("addresses", s->addresses, &f);
	ctl_jkey("codes", &f);
	putchar('{');
	ctl_jnum("self", s->codes_self, &g);
	ctl_jkey("admin", &g);
	printf("%u}", s->codes_admin);
	g = true;
	ctl_jkey("mail", &f);
	putchar('{');
	ctl_jnum("queued", s->mail_queued, &g);
	ctl_jnum("deferred", s->mail_deferred, &g);
	ctl_jnum("failed", s->mail_failed, &g);
	ctl_jkey("sent", &g);
	printf("%u}", s->mail_sent);
	ctl_jkey("store_bytes", &f);
	printf("%llu", (unsigned long long)s->store_bytes);
	ctl_jkey("directory", &f);
	if (s->directory[0]) {
		g = true;
		putchar('{');
		ctl_jkey("url", &g);
		ctl_jstr(s->directory);
		ctl_jkey("answers", &g);
		fputs(s->directory_ok ? "true" : "false", stdout);
		ctl_jkey(s->directory_ok ? "bound_as" : "error", &g);
		ctl_jstr(s->directory_as);
		if (s->directory_ok) {
			ctl_jkey("type", &g);
			ctl_jstr(s->directory_type == PWR_DIR_TYPE_AD ? "ad" : "openldap");
		}
		putchar('}');
	} else {
		fputs("null", stdout);
	}
	ctl_jkey("problems", &f);
	putchar('[');
	g = true;
	for (char *save = NULL, *one = strtok_r(s->problems, "\n", &save); one;
		one = strtok_r(NULL, "\n", &save)) {
		if (!g)
			putchar(',');
		g = false;
		ctl_jstr(one);
	}
	puts("]}");
}

int ctl_status(struct opts *o, int argc, char **argv)
{
	union pwr_msg req = {0}, m;
	const struct pwr_status_ans *s = &m.status;
	char a[64], b[64], buf[PWR_TEXT_MAX + 1];

	(void)argc;
	(void)argv;
	ctl_helper_send(PWR_REQ_STATUS, &req);
	ctl_helper_expect(&m, PWR_ANS_STATUS, PWR_ANS_STATUS);
	if (o->json) {
		status_json(&m.status);
		return EX_DONE;
	}
	if (s->mode == PWR_MODE_DAEMON)
		ctl_field(N_("helper"), N_("pwreset-helper %s, daemon running since %s"),
			s->version, ctl_local_time(s->started, a, sizeof(a)));
	else
		ctl_field(N_("helper"), N_("pwreset-helper %s, one-shot (no daemon answers at %s)"),
			s->version, o->socket);
	ctl_field(N_("self-service"), "%s", s->self_reset ? _("on") : _("off"));
	ctl_field(N_("help message"), "%s",
		s->help[0] ? ctl_safe(s->help, buf, sizeof(buf)) : _("(none)"));
	ctl_field(N_("admin group"), "%s",
		s->admin_group[0] ? ctl_safe(s->admin_group, buf, sizeof(buf))
				  : _("(none: root only)"));
	ctl_field(N_("code lifetime"), N_("%s self-service, %s administrator's"),
		ctl_span(s->code_ttl, a, sizeof(a)), ctl_span(s->admin_code_ttl, b, sizeof(b)));
	ctl_field(N_("mail server"), "%s", ctl_safe(s->smtp_url, buf, sizeof(buf)));
	ctl_field(N_("addresses"), N_("%u registered"), s->addresses);
	ctl_field(N_("pending codes"), N_("%u self-service, %u administrator's"), s->codes_self,
		s->codes_admin);
	ctl_field(N_("mail queue"), N_("%u queued, %u deferred, %u failed, %u sent"),
		s->mail_queued, s->mail_deferred, s->mail_failed, s->mail_sent);
	ctl_field(N_("store"), N_("%.1f MiB used"), (double)s->store_bytes / (1024.0 * 1024.0));
	if (s->directory[0]) {
		char url[PWR_URL_MAX + 1];
		if (s->directory_ok)
			ctl_field(N_("directory"), N_("%s, bound as %s (%s)"),
				ctl_safe(s->directory, url, sizeof(url)),
				ctl_safe(s->directory_as, buf, sizeof(buf)),
				s->directory_type == PWR_DIR_TYPE_AD ? "Active Directory"
								     : "OpenLDAP");
		else
			ctl_field(N_("directory"), N_("%s, NOT ANSWERING: %s"),
				ctl_safe(s->directory, url, sizeof(url)),
				ctl_safe(s->directory_as, buf, sizeof(buf)));
	}
	/* what keeps resets from working, last: where an administrator's eye ends */
	for (char *save = NULL, *one = strtok_r(m.status.problems, "\n", &save); one;
		one = strtok_r(NULL, "\n", &save))
		ctl_field(N_("PROBLEM"), "%s", ctl_safe(one, buf, sizeof(buf)));
	return EX_DONE;
}
