/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Accounts kept in a directory (SPEC §12), behind the account seam: an account with a line in
 * the shadow file is local, and everything is done as account.c does it; any other account
 * NSS knows is asked of the directory (pwreset-directory, through dirlink.c), which holds it
 * when its filter finds exactly one entry with the account's uid. The directory hashes the
 * new password itself (Password Modify) and applies its own policy; a code is bound to what
 * changes with the entry's password.
 * MUST: an account the directory cannot be asked about is neither reset nor said to be
 * missing: it is unreachable.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "account.h"
#include "catalog.h"
#include "dirlink.h"
#include "log.h"
#include "mailaddr.h"
#include "util.h"

/* What the directory says of a (its name and uid), into a. */
static void dir_fill(const struct account_db *db, struct account *a)
{
	struct dirreq q = {.op = DIR_LOOKUP, .user = a->name, .uid = (uint32_t)a->uid};
	const struct dirans *ans = dirlink_call(db->dir, &q, NULL, NULL);
	char why[256];

	switch (ans->status) {
	case DIR_OK:
		a->directory = true;
		a->dn = strdup(ans->dn);
		a->binding = malloc(strlen(ans->binding) + 5);
		if (a->binding)
			snprintf(a->binding, strlen(ans->binding) + 5, "dir:%s", ans->binding);
		if (*ans->address && mailaddr_validate(ans->address, why, sizeof(why)) < 0)
			log_msg(LOG_WARNING, "directory: the address of %s is not usable: %s",
				a->name, why);
		else if (*ans->address)
			a->address = strdup(ans->address);
		if (ans->flags & (DIR_F_DISABLED | DIR_F_EXPIRED))
			a->expire = ACCOUNT_EXPIRED_DAY; /* eligibility says expired */
		if (catalog_lang_ok(ans->language))
			util_copy(a->language, sizeof(a->language), ans->language);
		else if (*ans->language)
			log_msg(LOG_WARNING, "directory: the language of %s is not usable: '%s'",
				a->name, ans->language);
		break;
	case DIR_SEVERAL:
		log_msg(LOG_WARNING,
			"directory: the filter finds several entries for %s with uid %lu; it is "
			"not treated as a directory account",
			a->name, (unsigned long)a->uid);
		break;
	case DIR_NOT_FOUND:
		break;
	default:
		a->unreachable = true;
		log_msg(LOG_WARNING, "directory: no answer about %s: %s", a->name, ans->text);
		break;
	}
}

static int dir_lookup(const struct account_db *db, const char *user, struct account *a)
{
	int r = account_local_ops.lookup(db, user, a);

	if (r < 0 || !a->exists || a->local || !db->dir)
		return r;
	dir_fill(db, a);
	if (a->directory && (!a->dn || !a->binding)) {
		account_clear(a);
		return -ENOMEM;
	}
	return 0;
}

/* Not local and not in the directory: what that means. */
static int dir_neither(const struct account *a, char *why)
{
	snprintf(why, ACCOUNT_WHY_MAX, "%s",
		a->unreachable ? "the directory did not answer"
			       : "neither local nor in the directory");
	return a->unreachable ? -EHOSTUNREACH : -ENOENT;
}

/* The directory's answer as a result: 0, -EPERM when it refused (its words in why), or
 * -EHOSTUNREACH / -EIO (logged, and why said). */
static int dir_result(const struct dirans *ans, char *why)
{
	if (ans->status == DIR_OK)
		return 0;
	snprintf(why, ACCOUNT_WHY_MAX, "%s", ans->text);
	if (ans->status == DIR_REFUSED)
		return -EPERM;
	log_msg(LOG_ERR, "directory: %s", ans->text);
	return ans->status == DIR_UNREACHABLE ? -EHOSTUNREACH : -EIO;
}

static int dir_set_password(const struct account_db *db, const struct account *a,
	struct new_password *np, account_guard_fn *guard, void *ctx, char *why)
{
	struct dirreq q = {.op = DIR_PASSWD, .dn = a->dn, .password = np->clear};
	int r;

	if (a->local)
		return account_local_ops.set_password(db, a, np, guard, ctx, why);
	np->refused = false;
	if (!a->directory)
		return dir_neither(a, why);
	/* the directory has no lock we could hold: the code is checked against the entry as it
	 * was looked up, just before the change */
	if ((r = guard(ctx, a->binding, NULL)) < 0)
		return r;
	r = dir_result(dirlink_call(db->dir, &q, NULL, NULL), np->why);
	if (r == -EPERM) {
		/* the server's words reach a login prompt: no control character may */
		util_sanitize(np->why);
		np->refused = true;
		return 0;
	}
	if (r < 0)
		snprintf(why, ACCOUNT_WHY_MAX, "%s", np->why);
	return r;
}

static int dir_lock(const struct account_db *db, const struct account *a, account_guard_fn *guard,
	void *ctx, enum account_locked *locked, char *why)
{
	struct dirreq q = {.op = DIR_LOCK, .dn = a->dn};
	const struct dirans *ans;
	char after[DIR_BINDING_MAX + 5];
	int r;

	if (a->local)
		return account_local_ops.lock(db, a, guard, ctx, locked, why);
	if (!a->directory)
		return dir_neither(a, why);
	ans = dirlink_call(db->dir, &q, NULL, NULL);
	if ((r = dir_result(ans, why)) < 0)
		return r;
	*locked = ans->count == DIR_LOCKED_RANDOM ? ACCOUNT_LOCKED_RANDOM : ACCOUNT_LOCKED;
	/* the code is bound to the entry as locked (the agent's answer): the lock itself does not
	 * void it */
	snprintf(after, sizeof(after), "dir:%s", ans->binding);
	return guard(ctx, a->binding, after);
}

static int dir_sharers(
	const struct account_db *db, const struct account *a, char *out, size_t outlen)
{
	struct dirreq q = {.op = DIR_COUNT, .value = a->address};
	const struct dirans *ans;
	char text[DIR_TEXT_MAX + 1];
	size_t pos = 0;
	int n = 0;

	if (outlen)
		*out = '\0';
	if (!a->directory || !a->address)
		return 0;
	ans = dirlink_call(db->dir, &q, NULL, NULL);
	if (ans->status != DIR_OK)
		return -EHOSTUNREACH;
	util_copy(text, sizeof(text), ans->text);
	for (char *save = NULL, *u = strtok_r(text, ",", &save); u;
		u = strtok_r(NULL, ",", &save)) {
		int w;
		if (!strcmp(u, a->name))
			continue;
		n++;
		w = snprintf(out + pos, outlen - pos, "%s%s", pos ? "," : "", u);
		if (w > 0 && (size_t)w < outlen - pos)
			pos += (size_t)w;
	}
	return n;
}

static const struct account_ops dir_ops = {
	.lookup = dir_lookup,
	.set_password = dir_set_password,
	.lock = dir_lock,
	.sharers = dir_sharers,
};

void account_db_directory(struct account_db *db, const char *shadow, const char *passwd,
	const char *faillock_conf, struct dirlink *dir)
{
	account_db_local(db, shadow, passwd, faillock_conf);
	if (dir) {
		db->ops = &dir_ops;
		db->dir = dir;
	}
}

int account_db_status(const struct account_db *db, char *as, size_t len, uint32_t *type)
{
	struct dirreq q = {.op = DIR_STATUS};
	const struct dirans *ans;

	*type = 0;
	if (!db->dir)
		return -ENOENT;
	ans = dirlink_call(db->dir, &q, NULL, NULL);
	snprintf(as, len, "%s", ans->text);
	if (ans->status != DIR_OK)
		return -EHOSTUNREACH;
	*type = ans->count == DIR_TYPE_AD ? PWR_DIR_TYPE_AD : PWR_DIR_TYPE_OPENLDAP;
	return 0;
}
