/* SPDX-License-Identifier: BSD-3-Clause */
/* pwresetctl policy: the policy keys as the helper uses them, and one changed (issue 20). */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

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
		jstr(one);
	}
	putchar(']');
}

static void policy_json(const struct pwr_policy_ans *a)
{
	bool f = true;

	putchar('{');
	jkey("self_reset", &f);
	fputs(a->self_reset ? "true" : "false", stdout);
	jkey("help_message", &f);
	jstr(a->help);
	jkey("user_addresses", &f);
	fputs(a->user_addresses ? "true" : "false", stdout);
	jkey("admin_group", &f);
	jstr(a->admin_group);
	jkey("exclude_users", &f);
	jlist(a->exclude_users);
	jkey("exclude_groups", &f);
	jlist(a->exclude_groups);
	jnum("min_uid", a->min_uid, &f);
	jkey("file", &f);
	jstr(a->file);
	jkey("problem", &f);
	jstr(a->problem[0] ? a->problem : NULL);
	puts("}");
}

/* The keys as the file writes them: "key = value". */
static void policy_text(const struct pwr_policy_ans *a)
{
	char buf[PWR_TEXT_MAX + 1];

	printf("self_reset = %s\n", a->self_reset ? "yes" : "no");
	printf("help_message = %s\n", safe(a->help, buf, sizeof(buf)));
	printf("user_addresses = %s\n", a->user_addresses ? "yes" : "no");
	printf("admin_group = %s\n", safe(a->admin_group, buf, sizeof(buf)));
	printf("exclude_users = %s\n", safe(a->exclude_users, buf, sizeof(buf)));
	printf("exclude_groups = %s\n", safe(a->exclude_groups, buf, sizeof(buf)));
	printf("min_uid = %u\n", a->min_uid);
	/* the file as it is now has errors: what is shown is what the helper still uses */
	if (a->problem[0])
		fprintf(stderr, "%s: %s is not in use: %s\n", prog, a->file,
			safe(a->problem, buf, sizeof(buf)));
}

int cmd_policy(struct opts *o, int argc, char **argv)
{
	union pwr_msg req = {0}, m;

	(void)argc;
	(void)argv;
	helper_send(PWR_REQ_POLICY_SHOW, &req);
	helper_expect(&m, PWR_ANS_POLICY, PWR_ANS_POLICY);
	if (o->json)
		policy_json(&m.policy_ans);
	else
		policy_text(&m.policy_ans);
	return EX_DONE;
}

int cmd_policy_set(struct opts *o, int argc, char **argv)
{
	union pwr_msg req = {0}, m;

	(void)argc;
	if (strlen(argv[0]) > PWR_KEY_MAX)
		return usage_error("'%.*s...' is not a policy key", 32, argv[0]);
	if (strlen(argv[1]) > PWR_TEXT_MAX)
		return usage_error("the value is longer than %d bytes", PWR_TEXT_MAX);
	snprintf(req.policy.key, sizeof(req.policy.key), "%s", argv[0]);
	snprintf(req.policy.value, sizeof(req.policy.value), "%s", argv[1]);
	helper_send(PWR_REQ_POLICY_SET, &req);
	helper_expect(&m, PWR_ANS_POLICY, PWR_ANS_POLICY);
	if (o->json)
		policy_json(&m.policy_ans);
	return EX_DONE;
}
