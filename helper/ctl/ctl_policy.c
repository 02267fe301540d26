/* SPDX-License-Identifier: BSD-3-Clause */
/* pwresetctl policy: the policy keys as the helper uses them, and one changed (issue 20). */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "util.h"

/* A comma list as a JSON array. */
static void jlist(const char *list)
{
	char copy[PWR_TEXT_MAX + 1], *save = NULL;
	bool first = true;

	snprintf(copy, sizeof(copy), "%s", list);
	putchar('[');
	for (char *one = strtok_r(copy, ",", &save); one; one = strtok_r(NULL, ",", &save)) {
		printf("%s", first ? "" : ",");
		first = false;
		ctl_jstr(one);
	}
	putchar(']');
}

static void policy_json(const struct pwr_policy_ans *a)
{
	bool f = true;

	putchar('{');
	ctl_jkey("self_reset", &f);
	fputs(a->self_reset ? "true" : "false", stdout);
	ctl_jkey("help_message", &f);
	ctl_jstr(a->help);
	ctl_jkey("user_addresses", &f);
	fputs(a->user_addresses ? "true" : "false", stdout);
	ctl_jkey("admin_group", &f);
	ctl_jstr(a->admin_group);
	ctl_jkey("exclude_users", &f);
	jlist(a->exclude_users);
	ctl_jkey("exclude_groups", &f);
	jlist(a->exclude_groups);
	ctl_jnum("min_uid", a->min_uid, &f);
	ctl_jkey("file", &f);
	ctl_jstr(a->file);
	ctl_jkey("problem", &f);
	ctl_jstr(a->problem[0] ? a->problem : NULL);
	puts("}");
}

/* The keys as the file writes them: "key = value". */
static void policy_text(const struct pwr_policy_ans *a)
{
	char buf[PWR_TEXT_MAX + 1];

	printf("self_reset = %s\n", a->self_reset ? "yes" : "no");
	printf("help_message = %s\n", ctl_safe(a->help, buf, sizeof(buf)));
	printf("user_addresses = %s\n", a->user_addresses ? "yes" : "no");
	printf("admin_group = %s\n", ctl_safe(a->admin_group, buf, sizeof(buf)));
	printf("exclude_users = %s\n", ctl_safe(a->exclude_users, buf, sizeof(buf)));
	printf("exclude_groups = %s\n", ctl_safe(a->exclude_groups, buf, sizeof(buf)));
	printf("min_uid = %u\n", a->min_uid);
	/* the file as it is now has errors: what is shown is what the helper still uses */
	if (a->problem[0])
		fprintf(stderr, _("%s: %s is not in use: %s\n"), ctl_prog, a->file,
			ctl_safe(a->problem, buf, sizeof(buf)));
}

int ctl_policy(struct opts *o, int argc, char **argv)
{
	union pwr_msg req = {0}, m;

	(void)argc;
	(void)argv;
	ctl_helper_send(PWR_REQ_POLICY_SHOW, &req);
	ctl_helper_expect(&m, PWR_ANS_POLICY, PWR_ANS_POLICY);
	if (o->json)
		policy_json(&m.policy_ans);
	else
		policy_text(&m.policy_ans);
	return EX_DONE;
}

int ctl_policy_set(struct opts *o, int argc, char **argv)
{
	union pwr_msg req = {0}, m;

	(void)argc;
	if (util_copy(req.policy.key, sizeof(req.policy.key), argv[0]) < 0)
		return ctl_usage_error(_("'%.*s...' is not a policy key"), 32, argv[0]);
	if (util_copy(req.policy.value, sizeof(req.policy.value), argv[1]) < 0)
		return ctl_usage_error(_("the value is longer than %d bytes"), PWR_TEXT_MAX);
	ctl_helper_send(PWR_REQ_POLICY_SET, &req);
	ctl_helper_expect(&m, PWR_ANS_POLICY, PWR_ANS_POLICY);
	if (o->json)
		policy_json(&m.policy_ans);
	return EX_DONE;
}
