/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Who may reset their own password (SPEC §5). The facts are gathered once; the verdict and its
 * reasons are a pure function of them, shared by the request path and `pwresetctl check`.
 */
#ifndef PWRESET_ELIGIBLE_H
#define PWRESET_ELIGIBLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "account.h"
#include "conf.h"
#include "protocol.h"
#include "store.h"

struct elig_facts {
	bool self_reset;
	bool exists;
	bool local_shadow;
	bool directory_on; /* a directory is configured (SPEC §12) */
	bool directory; /* kept in the directory */
	bool unreachable; /* not local, and the directory did not answer */
	bool system_account; /* uid < min_uid */
	bool excluded; /* exclude_users or exclude_groups */
	bool expired;
	bool has_address;
	bool local_only;
	int sharers; /* how many other accounts have the same address */
	uint32_t uid;
	char address[PWR_ADDR_MAX + 1];
	char shared_with[PWR_TEXT_MAX / 2];
};

/* Gather the facts for the looked-up account acct (its name: as NSS has it, or as asked when
 * there is no such account). 0 or < 0. */
int eligible_gather(const struct account_db *db, struct pwr_conf *c, struct store *s, MDB_txn *txn,
	const struct account *acct, uint64_t now, struct elig_facts *f);

/* The same in steps, so that the directory is asked before a store transaction begins (a
 * write transaction must not wait for it): what the account says (for a directory account,
 * its address), who else has that address in the directory, then what the store says (a local
 * account's address; the local accounts sharing an address). */
void eligible_account(const struct account_db *db, struct pwr_conf *c, const struct account *acct,
	uint64_t now, struct elig_facts *f);
/* Whether acct belongs to a group of groups (true when that cannot be told). */
typedef bool eligible_group_fn(
	void *ctx, const struct account *acct, const struct conf_list *groups);
/* ... asking NSS (account_in_groups). */
bool eligible_group_nss(void *ctx, const struct account *acct, const struct conf_list *groups);
/* eligible_account with the groups told by in_groups (census.c reads them once for every
 * account). */
void eligible_facts(struct pwr_conf *c, bool directory_on, const struct account *acct,
	eligible_group_fn *in_groups, void *ctx, uint64_t now, struct elig_facts *f);
int eligible_directory_sharers(
	const struct account_db *db, const struct account *acct, struct elig_facts *f);
int eligible_store(
	struct pwr_conf *c, struct store *s, MDB_txn *txn, const char *user, struct elig_facts *f);

/* Every failing reason, comma-separated, in check's words, into out; returns how many
 * (0: eligible). shared-address:USER[,USER…] comes last when present. */
int eligible_reasons(const struct elig_facts *f, char *out, size_t outlen);

/* Whether nothing but a missing address keeps the account from a reset of its own: the
 * session hint of SPEC §11 is for these accounts only. */
bool eligible_but_address(const struct elig_facts *f);

#endif
