/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The helper's persistent state: an LMDB environment and the server key in state_dir.
 * Named databases: "addr" (user -> address), "addr_idx" (lower-case address NUL user -> ""),
 * "code" (user -> struct code_rec), "rate" (bucket -> window), "mailq" (id -> struct mail_rec),
 * "mailq_due" (the ids of the mails still to deliver -> ""), "meta" (small counters),
 * "pending" (user -> an address it set, awaiting its confirmation code). Commits are durable
 * (no MDB_NOSYNC); a full map fails the transaction with a log line, never silently.
 */
#ifndef PWRESET_STORE_H
#define PWRESET_STORE_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_KEY_BYTES 32
#define STORE_MAP_SIZE (64u * 1024 * 1024)

enum store_subkey {
	STORE_SUBKEY_CODE = 1,
	STORE_SUBKEY_SHADOW = 2,
	STORE_SUBKEY_MAIL = 3,
	STORE_SUBKEY_PENDING = 4,
};

/* Opaque outside store.c: the records are reached through the functions of the file that owns
 * each database (address.c, code.c, rate.c, mailq.c), and small named values through
 * store_meta_get/put. */
struct store;

enum store_db {
	STORE_DB_ADDR, /* address.c */
	STORE_DB_ADDR_IDX, /* address.c */
	STORE_DB_CODE, /* code.c */
	STORE_DB_RATE, /* rate.c */
	STORE_DB_MAILQ, /* mailq.c */
	STORE_DB_MAILQ_DUE, /* mailq.c */
	STORE_DB_META, /* store_meta_get/put */
	STORE_DB_PENDING, /* pending.c */
	STORE_DB_LANG, /* userlang.c */
	STORE_DB_COUNT
};

/* A database added after stores were first written: when store_open finds it missing, it
 * creates it and calls fn to fill it from the others, in the same transaction (so that no
 * store is ever left with the database but not its content). */
struct store_fill {
	enum store_db db;
	int (*fn)(struct store *s, MDB_txn *txn);
};

/* Open (creating if needed) the store in dir, mode 0700, with a map of map_size bytes (0: the
 * default). Creates the server key on first use; fill (NULL: none) says how to fill a database
 * an older store lacks. *out is freed with store_close(). */
int store_open(const char *dir, size_t map_size, const struct store_fill *fill, struct store **out);
void store_close(struct store *s);
/* In a child forked from the process that opened s: its own environment and write lock file,
 * the parent's left alone (LMDB's handles are not to be used across fork). 0, or < 0 (s can
 * then only be closed). */
int store_reopen(struct store *s);

/* A transaction; a write waits its turn (another process's write) for 10 s at most, with
 * signals deliverable, then fails with -ETIMEDOUT; while it is open every signal waits. */
void store_write_wait(struct store *s, unsigned ms); /* another bound than 10 s (tests) */
int store_begin(struct store *s, bool write, MDB_txn **txn);
/* Commit; on failure the transaction is gone and the failure logged. */
int store_commit(MDB_txn *txn);
void store_abort(MDB_txn *txn);

/* Derive a 32-byte subkey of the server key into out (the caller wipes it). */
void store_subkey(struct store *s, enum store_subkey id, unsigned char out[32]);

/* Map an LMDB error to a negative errno, logging what it means. */
int store_err(int mdb_rc, const char *what);

/* The handle of one database, for the file that owns it. */
MDB_dbi store_db(const struct store *s, enum store_db db);

/* Call fn for each record of db whose key sorts after `after` (after_len bytes; 0: from the
 * first), in key order, until fn returns non-zero: that value is returned (0 at the end, or
 * the store's error). For the owners' *_each functions. */
typedef int store_each_fn(void *ctx, const MDB_val *k, const MDB_val *v);
int store_each(struct store *s, MDB_txn *txn, enum store_db db, const void *after, size_t after_len,
	store_each_fn *fn, void *ctx);

/* Remove every record of db dead for grace seconds or more at now: dead_since(v) says since
 * when a record is dead (0: not one of ours, so dead; UINT64_MAX: alive). How many, or < 0. */
typedef uint64_t store_dead_since_fn(const MDB_val *v);
int store_purge(struct store *s, MDB_txn *txn, enum store_db db, store_dead_since_fn *dead_since,
	uint64_t now, uint64_t grace);

/* For store_purge, of records that start with a u32 version: since when a record of size
 * bytes and that version is dead (the u64 at offset off: its expiry); 0 for any other record
 * (not one of ours). Only those bytes are read. */
uint64_t store_expiry(const MDB_val *v, size_t size, uint32_t version, size_t off);

/* Remove the record of db whose key is the string key: 0, or -ENOENT when there was none. */
int store_del(struct store *s, MDB_txn *txn, enum store_db db, const char *key);

/* How many records db holds, or < 0. */
long store_count(struct store *s, MDB_txn *txn, enum store_db db);

/* A small named value (the time of the last purge, say): exactly len bytes into out, 0; or
 * -ENOENT (absent, or of another length). */
int store_meta_get(struct store *s, MDB_txn *txn, const char *name, void *out, size_t len);
int store_meta_put(struct store *s, MDB_txn *txn, const char *name, const void *in, size_t len);

/* Bytes of the map in use (for status and tests). */
size_t store_used(struct store *s);

#endif
