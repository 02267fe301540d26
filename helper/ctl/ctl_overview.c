/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pwresetctl overview: everything the administrators' page shows, in one run and one JSON
 * document, each key holding what `pwresetctl --json COMMAND` prints: status, policy,
 * addresses (email export), tokens, check (every account, then each account with an address
 * that the listing did not hold: a system account, an excluded one below min_uid, one gone)
 * and queue. The page reads it once a refresh instead of running six commands, and never
 * lists the accounts twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* The names with an address, in the order export gives them (the store's: sorted bytewise),
 * and which of them the listing of every account held. */
struct registered {
	char **names;
	bool *seen;
	size_t n, cap;
	char **unseen;
};

static void keep(const union pwr_msg *m, void *vctx)
{
	struct registered *r = vctx;

	ctl_email_json(&m->email, r->n != 0);
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 256;
		char **v = realloc(r->names, cap * sizeof(*v));
		if (!v) {
			ctl_errorf(_("out of memory"));
			ctl_die(EX_FAILED);
		}
		r->names = v;
		r->cap = cap;
	}
	if (!(r->names[r->n++] = strdup(m->email.user))) {
		ctl_errorf(_("out of memory"));
		ctl_die(EX_FAILED);
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void seen(void *vctx, const char *user)
{
	struct registered *r = vctx;
	const char *key = user;
	char **hit = bsearch(&key, r->names, r->n, sizeof(char *), by_name);

	if (hit)
		r->seen[hit - r->names] = true;
}

static char **unseen(void *vctx, int *n)
{
	struct registered *r = vctx;

	*n = 0;
	for (size_t i = 0; i < r->n; i++)
		if (!r->seen[i])
			r->unseen[(*n)++] = r->names[i];
	return r->unseen;
}

int ctl_overview(struct opts *o, int argc, char **argv)
{
	struct registered r = {0};
	struct check_more more = {seen, unseen, &r};

	(void)argc;
	(void)argv;
	o->json = true;
	fputs("{\"status\":", stdout);
	ctl_status(o, 0, NULL);
	fputs(",\"policy\":", stdout);
	ctl_policy(o, 0, NULL);
	fputs(",\"addresses\":{\"addresses\":[", stdout);
	ctl_list_all(PWR_REQ_EMAIL_EXPORT, PWR_ITEM_EMAIL, NULL, keep, &r);
	fputs("]},\"tokens\":", stdout);
	ctl_tokens(o, 0, NULL);
	/* export's order is the store's; sorted again, so that nothing rests on it */
	qsort(r.names, r.n, sizeof(char *), by_name);
	r.seen = calloc(r.n + 1, sizeof(bool));
	r.unseen = calloc(r.n + 1, sizeof(char *));
	if (!r.seen || !r.unseen) {
		ctl_errorf(_("out of memory"));
		ctl_die(EX_FAILED);
	}
	fputs(",\"check\":", stdout);
	ctl_check_with(o, 0, NULL, &more);
	fputs(",\"queue\":", stdout);
	ctl_queue(o, 0, NULL);
	puts("}");
	for (size_t i = 0; i < r.n; i++)
		free(r.names[i]);
	free(r.names);
	free(r.seen);
	free(r.unseen);
	return EX_DONE;
}
