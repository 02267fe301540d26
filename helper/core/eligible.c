/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "eligible.h"
#include "util.h"
#include "wire.h"

int eligible_directory_sharers(
	const struct account_db *db, const struct account *acct, struct elig_facts *f)
{
	int n;

	if (!f->directory || !f->has_address)
		return 0;
	n = db->ops->sharers(db, acct, f->shared_with, sizeof(f->shared_with));
	if (n < 0) {
		/* who else has it cannot be told: not eligible, as for a shared address */
		f->sharers = 1;
		util_copy(f->shared_with, sizeof(f->shared_with), "?");
		return 0;
	}
	f->sharers = n;
	return 0;
}

void eligible_account(const struct account_db *db, struct pwr_conf *c, const struct account *acct,
	uint64_t now, struct elig_facts *f)
{
	eligible_facts(c, db->dir != NULL, acct, eligible_group_nss, NULL, now, f);
}

bool eligible_group_nss(void *ctx, const struct account *acct, const struct conf_list *groups)
{
	(void)ctx;
	return account_in_groups(acct, groups);
}

void eligible_facts(struct pwr_conf *c, bool directory_on, const struct account *acct,
	eligible_group_fn *in_groups, void *ctx, uint64_t now, struct elig_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->self_reset = c->self_reset;
	f->directory_on = directory_on;
	f->exists = acct->exists;
	if (acct->exists) {
		f->uid = (uint32_t)acct->uid;
		f->local_shadow = acct->local;
		f->directory = acct->directory;
		f->unreachable = acct->unreachable;
		f->system_account = acct->uid < c->min_uid;
		f->excluded = conf_list_has(&c->exclude_users, acct->name) ||
			      (c->exclude_groups.n && in_groups(ctx, acct, &c->exclude_groups));
		f->expired = acct->expire >= 0 && (uint64_t)acct->expire * 86400 <= now;
	}
	if (acct->directory && acct->address) {
		util_copy(f->address, sizeof(f->address), acct->address);
		f->has_address = true;
		f->local_only = address_local_only(c, f->address);
	}
}

int eligible_store(
	struct pwr_conf *c, struct store *s, MDB_txn *txn, const char *user, struct elig_facts *f)
{
	char others[sizeof(f->shared_with)];
	size_t pos = strlen(f->shared_with);
	int r;

	if (!f->directory) {
		r = address_get(s, txn, user, f->address);
		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return r;
		f->has_address = true;
		f->local_only = address_local_only(c, f->address);
	} else if (!f->has_address) {
		return 0;
	}
	/* the local accounts registered with the same address share it too */
	r = address_sharers(s, txn, f->address, user, others, sizeof(others));
	if (r < 0)
		return r;
	if (r > 0)
		snprintf(f->shared_with + pos, sizeof(f->shared_with) - pos, "%s%s", pos ? "," : "",
			others);
	f->sharers += r;
	return 0;
}

int eligible_gather(const struct account_db *db, struct pwr_conf *c, struct store *s, MDB_txn *txn,
	const struct account *acct, uint64_t now, struct elig_facts *f)
{
	eligible_account(db, c, acct, now, f);
	eligible_directory_sharers(db, acct, f);
	return eligible_store(c, s, txn, acct->name, f);
}

static void add(char *out, size_t outlen, size_t *pos, int *n, enum pwr_reason r, const char *arg)
{
	int w = snprintf(out + *pos, outlen - *pos, "%s%s%s%s", *n ? "," : "", wire_reason(r),
		arg ? ":" : "", arg ? arg : "");
	(*n)++;
	if (w > 0)
		*pos += (size_t)w < outlen - *pos ? (size_t)w : outlen - *pos - 1;
}

int eligible_reasons(const struct elig_facts *f, char *out, size_t outlen)
{
	bool why[PWR_REASON_COUNT] = {
		[PWR_REASON_DISABLED] = !f->self_reset,
		[PWR_REASON_NO_ACCOUNT] = !f->exists,
		/* without an account, its own reasons are not guessed at */
		[PWR_REASON_NOT_LOCAL] = f->exists && !f->local_shadow && !f->directory_on,
		[PWR_REASON_NOT_IN_DIRECTORY] = f->exists && !f->local_shadow && f->directory_on &&
						!f->directory && !f->unreachable,
		[PWR_REASON_DIRECTORY_UNREACHABLE] =
			f->exists && !f->local_shadow && f->unreachable,
		[PWR_REASON_SYSTEM_ACCOUNT] = f->exists && f->system_account,
		[PWR_REASON_EXCLUDED] = f->exists && f->excluded,
		[PWR_REASON_EXPIRED] = f->exists && f->expired,
		/* what an unreachable directory holds is not guessed at */
		[PWR_REASON_NO_ADDRESS] = !f->has_address && !f->unreachable,
		[PWR_REASON_LOCAL_ONLY] = f->has_address && f->local_only,
		[PWR_REASON_SHARED_ADDRESS] = f->sharers > 0,
	};
	size_t pos = 0;
	int n = 0;

	out[0] = '\0';
	for (int r = 0; r < PWR_REASON_COUNT; r++)
		if (why[r])
			add(out, outlen, &pos, &n, (enum pwr_reason)r,
				r == PWR_REASON_SHARED_ADDRESS ? f->shared_with : NULL);
	return n;
}

bool eligible_but_address(const struct elig_facts *f)
{
	return f->self_reset && f->exists && f->local_shadow && !f->system_account &&
	       !f->excluded && !f->expired && !f->has_address;
}
