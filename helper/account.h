/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the system says of an account: its passwd entry (through NSS) and its line in the local
 * shadow file (read from the file itself: an account known only to LDAP or SSSD has none).
 */
#ifndef PWRESET_ACCOUNT_H
#define PWRESET_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"

struct account {
	bool exists;
	uid_t uid;
	gid_t gid;
	char *shadow_line; /* malloc'd, wiped by account_clear; NULL: no local shadow line */
	long expire; /* shadow field 8, days since the epoch; -1: never */
};

/* Fill a for user. 0 (whether or not it exists), or < 0 when the files cannot be read. */
int account_lookup(const char *user, struct account *a);
void account_clear(struct account *a);

/* Whether user (primary group gid) belongs to any group named in groups. */
bool account_in_groups(const char *user, gid_t gid, const struct conf_list *groups);

/* Clear user's pam_faillock tally as `faillock --reset` does (the file emptied), in the
 * directory faillock.conf names. 0 when there was none. */
int account_reset_tally(const char *user);

/* Tell running name-service caches (nscd, sssd) that passwords changed. Best effort. */
void account_flush_caches(void);

typedef int account_each_fn(void *ctx, const char *name);

/* Call fn for each entry of the local passwd file with min_uid <= uid <= max_uid, from byte
 * offset *pos on, at most max of them; *pos is left where the next call starts, *more says
 * whether any remain. 0, or the first error (from the file or from fn). */
int account_local_each(uint32_t *pos, uid_t min_uid, uid_t max_uid, unsigned max,
	account_each_fn *fn, void *ctx, bool *more);

#endif
