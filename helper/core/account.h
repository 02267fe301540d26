/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The account database: everything the helper reads or changes about an account goes through
 * one of these operations, so that what keeps the accounts (the local shadow file, a directory)
 * is chosen in one place and no request handler knows it. A request looks its account up once
 * (account_lookup) and hands the looked-up account to every operation after that. Passwd
 * entries come from NSS; group membership (account_in_groups) is the same for every database.
 * Every operation returns 0 or a negative errno; a refusal by the database's own policy is
 * said in an out-parameter, never as a return value.
 */
#ifndef PWRESET_ACCOUNT_H
#define PWRESET_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "protocol.h"

/* What the database says of one account. */
#define ACCOUNT_EXPIRED_DAY 0L /* the first day of 1970: long past */

struct account {
	char name[PWR_USER_MAX + 1]; /* its own name (NSS's pw_name); as asked when none */
	bool exists; /* a passwd entry (NSS) */
	bool local; /* its password is kept in the shadow file, so it can be reset here */
	bool directory; /* not local, and kept in the directory (SPEC §12): reset there */
	bool unreachable; /* not local, and the directory did not answer: nobody can tell */
	uid_t uid;
	gid_t gid;
	long expire; /* days since the epoch; -1: never; ACCOUNT_EXPIRED_DAY: a directory's
			disabled or expired account (SPEC §12.1) */
	char *hash; /* malloc'd: the stored hash, any lock mark included; NULL when !local */
	char *binding; /* malloc'd: what a code is bound to (any change elsewhere voids the code);
			  NULL when neither local nor directory */
	char *dn; /* malloc'd: the directory entry; NULL unless directory */
	char *address; /* malloc'd: the directory's address attribute (its first value); NULL
			  when it has none, or the account is not a directory account */
	char language[PWR_LANG_MAX + 1]; /* the directory's language for its mail (SPEC §13);
					    "" when none, or not a directory account */
};

/* The text of a failed or refused operation, for the log, an administrator or (a refusal,
 * cleaned of control characters) the person at the prompt. */
#define ACCOUNT_WHY_MAX (PWR_TEXT_MAX + 1)

/* A new password for set_password: the hash for a database that stores hashes, the password
 * itself for one that hashes it (the directory). refused is set when the database's own policy
 * refuses it, with its words in why. */
struct new_password {
	const char *hash;
	const char *clear;
	bool refused;
	char why[ACCOUNT_WHY_MAX];
};

/* How lock locked the account */
enum account_locked { ACCOUNT_LOCKED, ACCOUNT_LOCKED_RANDOM };

/* Called while the entry is held, with what the code is bound to as it is and as it will be
 * after the change: 0 lets the change be written; < 0 leaves the entry as it was (returned). */
typedef int account_guard_fn(void *ctx, const char *before, const char *after);

struct account_db;

struct account_ops {
	/* Fill a for user: 0 (whether or not it exists), or < 0 when the database cannot be
	 * read. */
	int (*lookup)(const struct account_db *db, const char *user, struct account *a);
	/* Store the new password as a's (and the day of the change): 0 (np->refused when the
	 * database's own policy refused it), or < 0 with why (ACCOUNT_WHY_MAX bytes) set. */
	int (*set_password)(const struct account_db *db, const struct account *a,
		struct new_password *np, account_guard_fn *guard, void *ctx, char *why);
	/* Lock a's password so that it no longer logs in (a reset will replace it): 0 with how
	 * in *locked, or < 0 with why (ACCOUNT_WHY_MAX bytes) set. */
	int (*lock)(const struct account_db *db, const struct account *a, account_guard_fn *guard,
		void *ctx, enum account_locked *locked, char *why);
	/* How many other accounts the database says share a's address (a->address), their
	 * names comma-separated in out (outlen bytes); 0 for a database that keeps no addresses.
	 * < 0 when it cannot tell. */
	int (*sharers)(
		const struct account_db *db, const struct account *a, char *out, size_t outlen);
};

struct dirlink;

struct account_db {
	const struct account_ops *ops;
	const char *shadow; /* the shadow file */
	const char *passwd; /* the passwd file, for check of every account (census.c) */
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

/* The local operations, for the directory's database to use on local accounts. */
extern const struct account_ops account_local_ops;

static inline int account_lookup(const struct account_db *db, const char *user, struct account *a)
{
	return db->ops->lookup(db, user, a);
}

/* Wipe and free what lookup filled. */
void account_clear(struct account *a);

/* Clear the count of failed logins that locks a out (pam_faillock's tally): 0 when there was
 * none. Only a local account has one: ppolicy's lockout goes with a password changed through
 * Password Modify, and an administrator's reset must not undo its own lock. */
int account_clear_lockout(const struct account_db *db, const struct account *a);

/* Tell running caches (nscd, sssd) that passwords changed. Best effort. */
void account_flush(const struct account_db *db);

/* Whether a (its own name and primary group) belongs to any group named in groups; true when
 * that cannot be told (fail closed). */
bool account_in_groups(const struct account *a, const struct conf_list *groups);

/* Whether the process uid is a member of group (by its primary group or another), through
 * NSS; false when that cannot be told. */
bool account_uid_in_group(uid_t uid, const char *group);

/* Which directory answers and as whom, for `pwresetctl status`: into as (len bytes), its type
 * into type (PWR_DIR_TYPE_*; 0 when it did not answer); 0, or < 0 when it did not answer
 * (why in as). -ENOENT when db has no directory. */
int account_db_status(const struct account_db *db, char *as, size_t len, uint32_t *type);

#endif
