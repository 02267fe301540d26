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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "duration.h"
#include "util.h"

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
#define OPT_JSON_SEQ 4u /* --json-seq */
#define OPT_LANGUAGE 8u /* --language LANG */

/* ---- the command line ---- */

static const struct command commands[] = {
	{"reset", 1, -1, OPT_RESET | OPT_LANGUAGE, ctl_reset,
		"reset [--print] [--no-lock] [--ttl DURATION] [--language LANG] USER...",
		N_("Force a reset: lock the password (unless --no-lock), clear the faillock tally and mail\n"
		   "a code with the administrator's template; with --print, or for a user without an\n"
		   "address, print a hand-over sheet with the code instead, in the account's language\n"
		   "or LANG. --ttl sets the code's lifetime (90s, 30m, 72h, 7d; default\n"
		   "admin_code_ttl).")},
	{"email set", 2, 2, OPT_LANGUAGE, ctl_email_set, "email set [--language LANG] USER ADDRESS",
		N_("Register USER's recovery address. Warns when the address is shared with another\n"
		   "user or can only be read on this host. --language: as email language.")},
	{"email language", 2, 2, 0, ctl_email_language, "email language USER LANG|default",
		N_("Write USER's mail in LANG (ja, de, de_DE.UTF-8, ...); default: in mail_language.")},
	{"email unset", 1, 1, 0, ctl_email_unset, "email unset USER",
		N_("Remove USER's recovery address.")},
	{"email show", 1, 1, 0, ctl_email_show, "email show USER",
		N_("Print USER's recovery address alone on a line.")},
	{"email import", 1, 1, OPT_DRY_RUN, ctl_email_import, "email import [--dry-run] FILE",
		N_("Register the addresses of FILE (- for standard input): lines \"user address\"; blank\n"
		   "lines and lines starting with # are skipped. Each refused line is reported with its\n"
		   "number and why; the others are imported (with --dry-run, only checked).")},
	{"email export", 0, 0, 0, ctl_email_export, "email export",
		N_("Print every registered address as \"user address\" lines, the format of import.")},
	{"check", 0, -1, OPT_JSON_SEQ, ctl_check, "check [--json-seq] [USER...]",
		N_("Whether each user can reset, and every reason why not; without USER, every local\n"
		   "account with uid >= min_uid. Exit status 0 when all are eligible, 1 otherwise.\n"
		   "--json-seq: each user as a JSON text of its own (RFC 7464: RS, the text, LF) as it\n"
		   "comes, then the summary, so that a script need not hold them all.")},
	{"tokens", 0, 0, 0, ctl_tokens, "tokens",
		N_("The pending codes: user, kind (self/admin), issued, expires, tries left.")},
	{"revoke", 1, 1, 0, ctl_revoke, "revoke USER", N_("Void USER's pending code.")},
	{"queue flush", 0, 1, 0, ctl_queue_flush, "queue flush [USER]",
		N_("Make every mail waiting for a retry (of USER) due now.")},
	{"queue", 0, 0, 0, ctl_queue, "queue",
		N_("The mail queue: each mail's state, tries, next try and the server's last answer.")},
	{"status", 0, 0, 0, ctl_status, "status", N_("The helper's version, policy and counts.")},
	{"policy set", 2, 2, 0, ctl_policy_set, "policy set KEY VALUE",
		N_("Change one policy key in the configuration file (root only), every other line kept;\n"
		   "refused, the file unchanged, when the new file would not pass --check-config. The\n"
		   "daemon uses it at once.")},
	{"overview", 0, 0, 0, ctl_overview, "overview",
		N_("Everything at once, as one JSON document (with or without --json): each key holds\n"
		   "what --json prints for status, policy, email export (addresses), tokens, check and\n"
		   "queue; check lists every account, then each account with an address that the\n"
		   "listing did not hold. For the web console's page: one run a refresh.")},
	{"policy", 0, 0, 0, ctl_policy, "policy",
		N_("The policy keys as the helper uses them: self_reset, help_message, user_addresses,\n"
		   "admin_group, exclude_users, exclude_groups, min_uid.")},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *f, const struct command *only)
{
	if (only) {
		fprintf(f, _("Usage: %s [--json] [--socket PATH] [--helper PATH] %s\n\n%s\n"),
			ctl_prog, only->usage, catalog_get(&ctl_words, only->help));
		return;
	}
	fprintf(f,
		_("Usage: %s [--json] [--socket PATH] [--helper PATH] COMMAND [ARGS]\n\n"
		  "Administer self-service password reset (pam_pwreset).\n\nCommands:\n"),
		ctl_prog);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f,
		_("\nOptions:\n"
		  "  --json         output for scripts\n"
		  "  --socket PATH  the helper's socket (default %s)\n"
		  "  --helper PATH  the helper to run when no daemon answers (default %s)\n"
		  "  --help         this text; COMMAND --help: that command's\n"
		  "  --version      the version\n\n"
		  "Exit status: 0 done, 1 failed, 2 usage, 3 not permitted, 4 helper not reachable.\n"
		  "See pwresetctl(8).\n"),
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

struct cmdline {
	struct opts o;
	unsigned given; /* OPT_* seen */
	bool version;
	int npos;
	char **pos; /* room for every argument: the positional ones are gathered */
};

/* The options, wherever they stand: -1, or the exit status of a usage error. */
static int parse_options(int argc, char **argv, struct cmdline *c)
{
	struct opts *o = &c->o;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if (!strcmp(a, "--")) {
			while (++i < argc)
				c->pos[c->npos++] = argv[i];
			break;
		}
		if (a[0] != '-' || !strcmp(a, "-")) {
			c->pos[c->npos++] = argv[i];
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "--json-seq")) {
			o->json = o->json_seq = true;
			c->given |= OPT_JSON_SEQ;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			o->help = true;
		} else if (!strcmp(a, "--version")) {
			c->version = true;
		} else if (!strcmp(a, "--print")) {
			o->print = true;
			c->given |= OPT_RESET;
		} else if (!strcmp(a, "--no-lock")) {
			o->no_lock = true;
			c->given |= OPT_RESET;
		} else if (!strcmp(a, "--dry-run")) {
			o->dry_run = true;
			c->given |= OPT_DRY_RUN;
		} else if (!strncmp(a, "--socket", 8) && (!a[8] || a[8] == '=')) {
			if (!(v = option_value(argc, argv, &i, "--socket")))
				return ctl_usage_error(_("--socket needs a PATH"));
			o->socket = v;
		} else if (!strncmp(a, "--helper", 8) && (!a[8] || a[8] == '=')) {
			if (!(v = option_value(argc, argv, &i, "--helper")))
				return ctl_usage_error(_("--helper needs a PATH"));
			o->helper = v;
		} else if (!strncmp(a, "--language", 10) && (!a[10] || a[10] == '=')) {
			if (!(v = option_value(argc, argv, &i, "--language")))
				return ctl_usage_error(_("--language needs a LANG"));
			o->language = v;
			c->given |= OPT_LANGUAGE;
		} else if (!strncmp(a, "--ttl", 5) && (!a[5] || a[5] == '=')) {
			uint64_t secs;
			if (!(v = option_value(argc, argv, &i, "--ttl")))
				return ctl_usage_error(_("--ttl needs a DURATION"));
			if (duration_parse(v, &secs) < 0 || secs == 0 || secs > UINT32_MAX)
				return ctl_usage_error(
					_("--ttl %s: not a duration (90s, 30m, 72h, 7d)"), v);
			o->ttl = (uint32_t)secs;
			o->ttl_given = true;
			c->given |= OPT_RESET;
		} else {
			return ctl_usage_error(_("unknown option %s"), a);
		}
	}
	return -1;
}

static int run(int argc, char **argv, char **pos)
{
	struct cmdline c = {
		.o = {.socket = PWR_SOCKET_PATH, .helper = PWR_HELPER_PATH}, .pos = pos};
	const struct command *cmd;
	int used = 0, rc;

	ctl_language_init();
	tzset();
	if ((rc = parse_options(argc, argv, &c)) >= 0)
		return rc;
	if (c.version) {
		printf("pwresetctl %s\n", PWR_VERSION);
		return EX_DONE;
	}
	if (c.npos == 0) {
		print_usage(c.o.help ? stdout : stderr, NULL);
		return c.o.help ? EX_DONE : EX_USAGE;
	}
	cmd = find_command(c.npos, pos, &used);
	if (!cmd) {
		if (!strcmp(pos[0], "email"))
			return ctl_usage_error(
				_("email needs set, language, unset, show, import or export"));
		return ctl_usage_error(_("unknown command '%s'"), pos[0]);
	}
	ctl_cmd_name = cmd->name;
	if (c.o.help) {
		print_usage(stdout, cmd);
		return EX_DONE;
	}
	if (c.given & ~cmd->options)
		return ctl_usage_error(_("%s does not apply here"),
			c.given & ~cmd->options & OPT_RESET      ? "--print, --no-lock or --ttl"
			: c.given & ~cmd->options & OPT_DRY_RUN  ? "--dry-run"
			: c.given & ~cmd->options & OPT_LANGUAGE ? "--language"
								 : "--json-seq");
	c.npos -= used;
	if (c.npos < cmd->min_args || (cmd->max_args >= 0 && c.npos > cmd->max_args))
		return ctl_usage_error(_("usage: %s"), cmd->usage);
	ctl_opts = &c.o;
	rc = cmd->fn(&c.o, c.npos, pos + used);
	client_close(&ctl_conn);
	if (fflush(stdout) != 0) {
		ctl_errorf(_("cannot write the output: %s"), strerror(errno));
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
