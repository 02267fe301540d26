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
#include "address.h"
#include "dirlink.h"
#include "log.h"
#include "util.h"

/* What the directory says of user (uid), into a. */
static void dir_fill(const struct account_db *db, const char *user, struct account *a)
{
	static struct dirans ans;
	struct dirreq q = {.op = DIR_LOOKUP, .user = user, .uid = (uint32_t)a->uid};
	char why[256];

	dirlink_call(db->dir, &q, &ans, NULL, NULL);
	switch (ans.status) {
	case DIR_OK:
		a->directory = true;
		a->dn = strdup(ans.dn);
		a->binding = malloc(strlen(ans.binding) + 5);
		if (a->binding)
			snprintf(a->binding, strlen(ans.binding) + 5, "dir:%s", ans.binding);
		if (*ans.address && address_validate(ans.address, why, sizeof(why)) < 0)
			log_msg(LOG_WARNING, "directory: the address of %s is not usable: %s", user,
				why);
		else if (*ans.address)
			a->address = strdup(ans.address);
		break;
	case DIR_SEVERAL:
		log_msg(LOG_WARNING,
			"directory: the filter finds several entries for %s with uid %lu; it is "
			"not treated as a directory account",
			user, (unsigned long)a->uid);
		break;
	case DIR_NOT_FOUND:
		break;
	default:
		a->unreachable = true;
		log_msg(LOG_WARNING, "directory: no answer about %s: %s", user, ans.text);
		break;
	}
	explicit_bzero(&ans, sizeof(ans));
}

static int dir_lookup(const struct account_db *db, const char *user, struct account *a)
{
	int r = account_local_ops.lookup(db, user, a);

	if (r < 0 || !a->exists || a->local || !db->dir)
		return r;
	dir_fill(db, user, a);
	if (a->directory && (!a->dn || !a->binding)) {
		account_clear(a);
		return -ENOMEM;
	}
	return 0;
}

/* Ask the directory to act on dn: its answer's status and count, or < 0 with why. */
static int dir_act(const struct account_db *db, uint32_t op, const char *dn, const char *pw,
	uint32_t *count, char *why, size_t whylen)
{
	static struct dirans ans;
	struct dirreq q = {.op = op, .dn = dn, .password = pw};
	int r;

	dirlink_call(db->dir, &q, &ans, NULL, NULL);
	if (count)
		*count = ans.count;
	if (ans.status == DIR_OK)
		r = 0;
	else if (ans.status == DIR_REFUSED)
		r = 1;
	else
		r = ans.status == DIR_UNREACHABLE ? -EHOSTUNREACH : -EIO;
	if (why && ans.status != DIR_OK)
		util_copy(why, whylen, ans.text);
	else if (r < 0)
		log_msg(LOG_ERR, "directory: %s", ans.text);
	explicit_bzero(&ans, sizeof(ans));
	return r;
}

/* The text of the last directory failure, for dir_strerror. */
static char last_failure[DIR_TEXT_MAX + 1];

static int dir_set_password(const struct account_db *db, const char *user,
	const struct new_password *np, account_guard_fn *guard, void *ctx)
{
	struct account a;
	int r;

	if ((r = dir_lookup(db, user, &a)) < 0)
		return r;
	if (a.local || !a.exists) {
		account_clear(&a);
		return account_local_ops.set_password(db, user, np, guard, ctx);
	}
	if (!a.directory) {
		r = a.unreachable ? -EHOSTUNREACH : -ENOENT;
		account_clear(&a);
		return r;
	}
	/* the directory has no lock we could hold: the code is checked against the entry as it
	 * is now, just before the change */
	if ((r = guard(ctx, a.binding, NULL)) == 0) {
		r = dir_act(db, DIR_PASSWD, a.dn, np->clear, NULL, last_failure,
			sizeof(last_failure));
		if (r == 1) {
			/* the server's words reach a login prompt: no control character may */
			util_copy(np->refusal, np->refusal_len, last_failure);
			util_sanitize(np->refusal);
		}
	}
	account_clear(&a);
	return r;
}

static int dir_lock(const struct account_db *db, const char *user, account_guard_fn *guard,
	void *ctx)
{
	struct account a, after;
	uint32_t how = 0;
	int r;

	if ((r = dir_lookup(db, user, &a)) < 0)
		return r;
	if (a.local || !a.exists || !a.directory) {
		r = a.unreachable ? -EHOSTUNREACH : 0;
		account_clear(&a);
		return r < 0 ? r : account_local_ops.lock(db, user, guard, ctx);
	}
	r = dir_act(db, DIR_LOCK, a.dn, NULL, &how, last_failure, sizeof(last_failure));
	if (r == 0 && (r = dir_lookup(db, user, &after)) == 0) {
		/* the code is bound to the entry as locked: the lock itself does not void it */
		r = after.directory ? guard(ctx, a.binding, after.binding) : -EHOSTUNREACH;
		account_clear(&after);
	}
	account_clear(&a);
	if (r < 0)
		return r;
	return how == DIR_LOCKED_RANDOM ? ACCOUNT_LOCKED_RANDOM : ACCOUNT_LOCKED;
}

/* ppolicy's lockout goes with a password changed through Password Modify, and an
 * administrator's reset must not undo its own lock: only local accounts have a tally to
 * clear. */
static int dir_clear_lockout(const struct account_db *db, const char *user)
{
	struct account a;
	int r = account_local_ops.lookup(db, user, &a);

	if (r == 0 && a.local)
		r = account_local_ops.clear_lockout(db, user);
	account_clear(&a);
	return r;
}

static const char *dir_strerror(int r)
{
	if (r == -EHOSTUNREACH || r == -EIO)
		return *last_failure ? last_failure : "the directory did not answer";
	return account_local_ops.strerror(r);
}

static void dir_flush(const struct account_db *db)
{
	account_local_ops.flush(db);
}

/* Where a listing is in the directory's entries: pos with this bit, and how many came
 * before (the passwd file's accounts come first, at their file offsets). */
#define POS_DIRECTORY 0x80000000u

struct names {
	char **v;
	size_t n, cap;
};

static int names_add(struct names *l, const char *name)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(name)))
		return -ENOMEM;
	l->n++;
	return 0;
}

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct listing {
	struct names local; /* the passwd file's names, sorted: already listed */
	struct names found; /* the directory's accounts to list, in its order */
	uid_t min_uid, max_uid;
	int err;
};

static void list_one(void *vctx, const struct dirans *e)
{
	struct listing *l = vctx;
	char *key = (char *)e->user;

	if (l->err || !*e->user || e->uid < l->min_uid || e->uid > l->max_uid ||
		bsearch(&key, l->local.v, l->local.n, sizeof(char *), by_name))
		return;
	l->err = names_add(&l->found, e->user);
}

/* The names of the passwd file, sorted. */
static int passwd_names(const char *path, struct names *out)
{
	FILE *f = fopen(path, "re");
	struct passwd *pw;
	int r = 0;

	if (!f)
		return -errno;
	while (r == 0 && (pw = fgetpwent(f)))
		r = names_add(out, pw->pw_name);
	fclose(f);
	if (r == 0)
		qsort(out->v, out->n, sizeof(char *), by_name);
	return r;
}

/* The passwd file's accounts, then the directory's (SPEC §12: the filter with %u as *, a paged
 * search) that the file does not hold; each page lists the directory again from its start. */
static int dir_each(const struct account_db *db, uint32_t *pos, uid_t min_uid, uid_t max_uid,
	unsigned max, account_each_fn *fn, void *ctx, bool *more)
{
	struct listing l = {.min_uid = min_uid, .max_uid = max_uid};
	static struct dirans end;
	struct dirreq q = {.op = DIR_LIST};
	uint32_t skip;
	int r = 0;

	if (!(*pos & POS_DIRECTORY)) {
		r = account_local_ops.each(db, pos, min_uid, max_uid, max, fn, ctx, more);
		if (r < 0 || *more)
			return r;
		*pos = POS_DIRECTORY; /* the file is done: the directory's next */
		*more = true;
		return 0;
	}
	skip = *pos & ~POS_DIRECTORY;
	*more = false;
	if ((r = passwd_names(db->passwd, &l.local)) == 0) {
		dirlink_call(db->dir, &q, &end, list_one, &l);
		r = l.err ? l.err : end.status == DIR_OK ? 0 : -EHOSTUNREACH;
		if (r == -EHOSTUNREACH) {
			log_msg(LOG_ERR, "directory: cannot list its accounts: %s", end.text);
			util_copy(last_failure, sizeof(last_failure), end.text);
		}
	}
	for (size_t i = skip; r == 0 && i < l.found.n; i++) {
		if (i - skip == max) {
			*more = true;
			break;
		}
		r = fn(ctx, l.found.v[i]);
		*pos = POS_DIRECTORY | (uint32_t)(i + 1);
	}
	names_free(&l.local);
	names_free(&l.found);
	return r;
}

static const struct account_ops dir_ops = {
	.lookup = dir_lookup,
	.set_password = dir_set_password,
	.lock = dir_lock,
	.clear_lockout = dir_clear_lockout,
	.flush = dir_flush,
	.each = dir_each,
	.strerror = dir_strerror,
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
