/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Addresses that users set for themselves and have not confirmed yet (SPEC §11). One per
 * account: the address and a keyed hash of the code mailed to it, bound to the account and the
 * address, with the lifetime and the attempt limit of a reset code. A newer one voids the
 * older, and its code with it.
 */
#ifndef PWRESET_PENDING_H
#define PWRESET_PENDING_H

#include <stdint.h>

#include "protocol.h"
#include "store.h"

/* Keep addr as user's pending address, confirmed by code (CODE_LEN normalised symbols). */
int pending_issue(struct store *s, MDB_txn *txn, const char *user, const char *addr,
	const char *code, uint64_t now, uint32_t ttl, uint32_t max_failures);

/* The address user set and has not confirmed, while its code is alive: 0, or -ENOENT. */
int pending_get(
	struct store *s, MDB_txn *txn, const char *user, uint64_t now, char addr[PWR_ADDR_MAX + 1]);

/* Check code for user's pending address. 0: the code is right and alive; the address is in
 * addr and the pending record gone. -EACCES: wrong (one failure counted while the code is
 * alive), expired, or used up. -ENOENT: nothing is pending. */
int pending_confirm(struct store *s, MDB_txn *txn, const char *user, const char *code, uint64_t now,
	char addr[PWR_ADDR_MAX + 1]);

/* Remove user's pending address: 0, or -ENOENT. */
int pending_drop(struct store *s, MDB_txn *txn, const char *user);

/* Remove records dead for longer than grace seconds: how many, or < 0. */
int pending_purge(struct store *s, MDB_txn *txn, uint64_t now, uint64_t grace);

#endif
