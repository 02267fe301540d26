/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The account database: everything the helper reads or changes about an account goes through
 * one of these operations, so that what keeps the accounts (the local shadow file today) is
 * chosen in one place and no request handler knows it. Passwd entries come from NSS; group
 * membership (account_in_groups) is the same for every database.
 */
#ifndef PWRESET_ACCOUNT_H
#define PWRESET_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"

/* What the database says of one account. */
struct account {
	bool exists; /* a passwd entry (NSS) */
	bool local; /* its password is kept in the shadow file, so it can be reset here */
	bool directory; /* not local, and kept in the directory (SPEC §12): reset there */
	bool unreachable; /* not local, and the directory did not answer: nobody can tell */
	uid_t uid;
	gid_t gid;
	long expire; /* days since the epoch; -1: never */
	char *hash; /* malloc'd: the stored hash, any lock mark included; NULL when !local */
	char *binding; /* malloc'd: what a code is bound to (any change elsewhere voids the code);
			  NULL when neither local nor directory */
	char *dn; /* malloc'd: the directory entry; NULL unless directory */
	char *address; /* malloc'd: the directory's address attribute (its first value); NULL
			  when it has none, or the account is not a directory account */
};

/* A new password for set_password: the hash for a database that stores hashes, the password
 * itself for one that hashes it (the directory); refusal receives the words of a database
 * whose own policy refuses it. */
struct new_password {
	const char *hash;
	const char *clear;
	char *refusal;
	size_t refusal_len;
};

/* How lock locked the account */
enum account_locked { ACCOUNT_LOCKED = 0, ACCOUNT_LOCKED_RANDOM = 1 };

/* Called while the entry is held, with what the code is bound to as it is and as it will be
 * after the change: 0 lets the change be written; < 0 leaves the entry as it was (returned). */
typedef int account_guard_fn(void *ctx, const char *before, const char *after);

typedef int account_each_fn(void *ctx, const char *name);

struct account_db;

struct account_ops {
	/* Fill a for user: 0 (whether or not it exists), or < 0 when the database cannot be
	 * read. */
	int (*lookup)(const struct account_db *db, const char *user, struct account *a);
	/* Store the new password as user's (and the day of the change): 0, 1 when the
	 * database's own policy refuses it (np->refusal says why), or < 0. */
	int (*set_password)(const struct account_db *db, const char *user,
		const struct new_password *np, account_guard_fn *guard, void *ctx);
	/* Lock user's password so that it no longer logs in (a reset will replace it): how
	 * (enum account_locked), or < 0. */
	int (*lock)(const struct account_db *db, const char *user, account_guard_fn *guard,
		void *ctx);
	/* Clear the count of failed logins that locks an account out: 0 when there was none. */
	int (*clear_lockout)(const struct account_db *db, const char *user);
	/* Tell running caches that passwords changed. Best effort. */
	void (*flush)(const struct account_db *db);
	/* Call fn for the accounts with min_uid <= uid <= max_uid, from position *pos on, at most
	 * max of them; *pos is left where the next call starts, *more says whether any remain. */
	int (*each)(const struct account_db *db, uint32_t *pos, uid_t min_uid, uid_t max_uid,
		unsigned max, account_each_fn *fn, void *ctx, bool *more);
	/* What a failure of set_password or lock means, for the log and an administrator. */
	const char *(*strerror)(int r);
};

struct dirlink;

struct account_db {
	const struct account_ops *ops;
	const char *shadow; /* the shadow file */
	const char *passwd; /* the passwd file, for `each` */
	const char *faillock_conf; /* where pam_faillock's tally directory is said */
	struct dirlink *dir; /* the directory (SPEC §12); NULL: none */
};

/* The local database: NSS for passwd entries, the shadow file itself (an account known only
 * to LDAP or SSSD has no line there, so it is not local), pam_faillock's tallies, nscd and
 * sssd told of changes. */
void account_db_local(
	struct account_db *db, const char *shadow, const char *passwd, const char *faillock_conf);

/* The local database, and the directory (SPEC §12) for the accounts NSS knows that have no
 * line in the shadow file: an account is a directory account when the directory's filter
 * finds exactly one entry for it, with its uid. dir NULL: the local database alone. */
void account_db_directory(struct account_db *db, const char *shadow, const char *passwd,
	const char *faillock_conf, struct dirlink *dir);

/* The local operations, for the directory's database to fall back on. */
extern const struct account_ops account_local_ops;

static inline int account_lookup(const struct account_db *db, const char *user, struct account *a)
{
	return db->ops->lookup(db, user, a);
}

/* Wipe and free what lookup filled. */
void account_clear(struct account *a);

/* Whether user (primary group gid) belongs to any group named in groups; true when that
 * cannot be told (fail closed). */
bool account_in_groups(const char *user, gid_t gid, const struct conf_list *groups);

/* Whether the process uid is a member of group (by its primary group or another), through
 * NSS; false when that cannot be told. */
bool account_uid_in_group(uid_t uid, const char *group);

#endif
