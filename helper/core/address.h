/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Recovery addresses: their records in the store (their syntax is mailaddr.c's). Addresses are compared
 * case-insensitively; an index keyed by the lower-case address finds the accounts that share one.
 */
#ifndef PWRESET_ADDRESS_H
#define PWRESET_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "protocol.h"
#include "store.h"

struct account;

/* One line of an import file, split in place: 0 with *user and *addr set ("user address",
 * blanks around them, a final CR dropped) or both NULL for a line to skip (blank, or its first
 * word starts with '#'); -EINVAL with why for anything else. The address is not validated. */
int address_import_line(char *line, const char **user, const char **addr, char *why, size_t whylen);

/* Whether only this host can receive mail at addr: its domain is in local_domains or is a bare
 * host name without a dot. */
bool address_local_only(struct pwr_conf *c, const char *addr);

/* A registered address, where it came from and when its owner proved it (SPEC §11). */
struct address_info {
	char addr[PWR_ADDR_MAX + 1];
	uint32_t source; /* enum pwr_address_source */
	uint64_t confirmed; /* Unix time the owner confirmed it with a code; 0: never */
};

/* The stored form of an address_info: the address, a NUL, the source (u32), the time it was
 * confirmed (u64); a record of the address alone (before SPEC §11) is an administrator's. */
#define ADDRESS_RECORD_MAX (PWR_ADDR_MAX + 1 + 4 + 8)
/* A stored record into a: 0, or -EBADMSG (empty or over-long address, a tail of the wrong
 * size, an unknown source). */
int address_record_decode(const void *data, size_t size, struct address_info *a);
/* a's stored form into buf: its length, or -ENAMETOOLONG (empty or over-long address, buf
 * too small). */
long address_record_encode(const struct address_info *a, void *buf, size_t cap);

int address_get(struct store *s, MDB_txn *txn, const char *user, char out[PWR_ADDR_MAX + 1]);
int address_get_info(struct store *s, MDB_txn *txn, const char *user, struct address_info *out);
/* Register addr for user as set by an administrator. */
int address_set(struct store *s, MDB_txn *txn, const char *user, const char *addr);
/* The same, saying where it came from and when it was confirmed. */
int address_set_info(struct store *s, MDB_txn *txn, const char *user, const struct address_info *a);
/* 0, or -ENOENT when none was registered. */
int address_unset(struct store *s, MDB_txn *txn, const char *user);

/* The other accounts registered with addr (case-insensitive), comma-separated in out; returns
 * how many (a list that does not fit ends in "…" but the count is exact), or < 0. */
int address_sharers(struct store *s, MDB_txn *txn, const char *addr, const char *user, char *out,
	size_t outlen);

/* Call fn for each registered user whose name sorts after `after` ("": from the first), with
 * its address, in name order, until fn returns non-zero (returned; 0 at the end, or the store's
 * error). */
typedef int address_each_fn(void *ctx, const char *user, const char *addr);
int address_each(struct store *s, MDB_txn *txn, const char *after, address_each_fn *fn, void *ctx);

/* a's recovery address into out: the directory's for a directory account, else the one
 * registered in the store. 0, -ENOENT when it has none, or < 0. */
int address_of(struct store *s, const struct account *a, char out[PWR_ADDR_MAX + 1]);

/* For store_open (storefill.h): the index of addresses (address -> accounts), built from the
 * records in a store that lacks it. */
int address_reindex(struct store *s, MDB_txn *txn);

/* How many users have an address registered, or < 0. */
long address_count(struct store *s, MDB_txn *txn);

#endif
