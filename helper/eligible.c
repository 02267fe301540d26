/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "eligible.h"

int eligible_gather(const struct account_db *db, struct pwr_conf *c, struct store *s, MDB_txn *txn, const char *user,
	uint64_t now, struct elig_facts *f, struct account *acct)
{
	int r;

	memset(f, 0, sizeof(*f));
	f->self_reset = c->self_reset;
	if ((r = account_lookup(db, user, acct)) < 0)
		return r;
	f->exists = acct->exists;
	if (acct->exists) {
		f->uid = (uint32_t)acct->uid;
		f->local_shadow = acct->local;
		f->system_account = acct->uid < c->min_uid;
		f->excluded = conf_list_has(&c->exclude_users, user) ||
			      account_in_groups(user, acct->gid, &c->exclude_groups);
		f->expired = acct->expire >= 0 && (uint64_t)acct->expire * 86400 <= now;
	}
	r = address_get(s, txn, user, f->address);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	f->has_address = true;
	f->local_only = address_local_only(c, f->address);
	r = address_sharers(s, txn, f->address, user, f->shared_with, sizeof(f->shared_with));
	if (r < 0)
		return r;
	f->sharers = r;
	return 0;
}

static void add(char *out, size_t outlen, size_t *pos, int *n, const char *reason, const char *arg)
{
	int w = snprintf(out + *pos, outlen - *pos, "%s%s%s%s", *n ? "," : "", reason,
		arg ? ":" : "", arg ? arg : "");
	(*n)++;
	if (w > 0)
		*pos += (size_t)w < outlen - *pos ? (size_t)w : outlen - *pos - 1;
}

int eligible_reasons(const struct elig_facts *f, char *out, size_t outlen)
{
	size_t pos = 0;
	int n = 0;

	out[0] = '\0';
	if (!f->self_reset)
		add(out, outlen, &pos, &n, "disabled", NULL);
	if (!f->exists) {
		add(out, outlen, &pos, &n, "no-account", NULL);
	} else {
		if (!f->local_shadow)
			add(out, outlen, &pos, &n, "not-local-shadow", NULL);
		if (f->system_account)
			add(out, outlen, &pos, &n, "system-account", NULL);
		if (f->excluded)
			add(out, outlen, &pos, &n, "excluded", NULL);
		if (f->expired)
			add(out, outlen, &pos, &n, "expired", NULL);
	}
	if (!f->has_address)
		add(out, outlen, &pos, &n, "no-address", NULL);
	if (f->has_address && f->local_only)
		add(out, outlen, &pos, &n, "local-only-address", NULL);
	/* last: its list of users has commas of its own, so a reader takes all that follows */
	if (f->sharers > 0)
		add(out, outlen, &pos, &n, "shared-address", f->shared_with);
	return n;
}
