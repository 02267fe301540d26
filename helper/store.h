/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The helper's persistent state: an LMDB environment and the server key in state_dir.
 * Named databases: "addr" (user -> address), "addr_idx" (lower-case address NUL user -> ""),
 * "code" (user -> struct code_rec), "rate" (bucket -> window), "mailq" (id -> struct mail_rec),
 * "mailq_due" (the ids of the mails still to deliver -> ""), "meta" (small counters). Commits are durable (no MDB_NOSYNC); a full map fails the
 * transaction with a log line, never silently.
 */
#ifndef PWRESET_STORE_H
#define PWRESET_STORE_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_KEY_BYTES 32
#define STORE_MAP_SIZE (64u * 1024 * 1024)

enum store_subkey { STORE_SUBKEY_CODE = 1, STORE_SUBKEY_SHADOW = 2, STORE_SUBKEY_MAIL = 3 };

struct store {
	MDB_env *env;
	MDB_dbi addr, addr_idx, code, rate, mailq, mailq_due, meta;
	unsigned char *key; /* sodium_malloc'd, read-only when not in use; freed by store_close */
};

/* Open (creating if needed) the store in dir, mode 0700, with a map of map_size bytes (0: the
 * default). Creates the server key on first use. *out is freed with store_close(). */
int store_open(const char *dir, size_t map_size, struct store **out);
void store_close(struct store *s);

int store_begin(struct store *s, bool write, MDB_txn **txn);
/* Commit; on failure the transaction is gone and the failure logged. */
int store_commit(MDB_txn *txn);
void store_abort(MDB_txn *txn);

/* Derive a 32-byte subkey of the server key into out (the caller wipes it). */
void store_subkey(struct store *s, enum store_subkey id, unsigned char out[32]);

/* Map an LMDB error to a negative errno, logging what it means. */
int store_err(int mdb_rc, const char *what);

/* Bytes of the map in use (for status and tests). */
size_t store_used(struct store *s);

#endif
