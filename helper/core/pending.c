/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <sodium.h>
#include <stddef.h>
#include <string.h>

#include "code.h"
#include "pending.h"
#include "util.h"

#define PENDING_REC_VERSION 1

struct pending_rec {
	uint32_t version;
	uint32_t failures;
	uint32_t max_failures;
	uint32_t pad;
	uint64_t issued;
	uint64_t expires;
	unsigned char hash[CODE_HASH_BYTES];
	char addr[PWR_ADDR_MAX + 1];
};

/* The code's hash, keyed, over the account, the address and the code: a code is good for that
 * account and that address only. */
static void pending_hash(struct store *s, const char *user, const char *addr, const char *code,
	unsigned char out[CODE_HASH_BYTES])
{
	unsigned char key[32];
	crypto_generichash_state st;

	store_subkey(s, STORE_SUBKEY_PENDING, key);
	crypto_generichash_init(&st, key, sizeof(key), CODE_HASH_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)user, strlen(user) + 1);
	crypto_generichash_update(&st, (const unsigned char *)addr, strlen(addr) + 1);
	crypto_generichash_update(&st, (const unsigned char *)code, CODE_LEN);
	crypto_generichash_final(&st, out, CODE_HASH_BYTES);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(&st, sizeof(st));
}

static bool alive(const struct pending_rec *r, uint64_t now)
{
	return now < r->expires && r->failures < r->max_failures;
}

static int rec_get(struct store *s, MDB_txn *txn, const char *user, struct pending_rec *r)
{
	MDB_val k = {strlen(user), (void *)user}, v;
	int rc = mdb_get(txn, store_db(s, STORE_DB_PENDING), &k, &v);

	if (rc)
		return store_err(rc, "pending get");
	if (v.mv_size != sizeof(*r))
		return -ENOENT;
	memcpy(r, v.mv_data, sizeof(*r));
	if (r->version != PENDING_REC_VERSION || memchr(r->addr, 0, sizeof(r->addr)) == NULL) {
		sodium_memzero(r, sizeof(*r));
		return -ENOENT;
	}
	return 0;
}

static int rec_put(struct store *s, MDB_txn *txn, const char *user, const struct pending_rec *r)
{
	MDB_val k = {strlen(user), (void *)user}, v = {sizeof(*r), (void *)r};

	return store_err(mdb_put(txn, store_db(s, STORE_DB_PENDING), &k, &v, 0), "pending put");
}

int pending_drop(struct store *s, MDB_txn *txn, const char *user)
{
	return store_del(s, txn, STORE_DB_PENDING, user);
}

int pending_issue(struct store *s, MDB_txn *txn, const char *user, const char *addr,
	const char *code, uint64_t now, uint32_t ttl, uint32_t max_failures)
{
	struct pending_rec r = {
		.version = PENDING_REC_VERSION,
		.max_failures = max_failures,
		.issued = now,
		.expires = now + ttl,
	};
	int ret;

	if (util_copy(r.addr, sizeof(r.addr), addr) < 0)
		return -ENAMETOOLONG;
	pending_hash(s, user, addr, code, r.hash);
	ret = rec_put(s, txn, user, &r);
	sodium_memzero(&r, sizeof(r));
	return ret;
}

int pending_get(
	struct store *s, MDB_txn *txn, const char *user, uint64_t now, char addr[PWR_ADDR_MAX + 1])
{
	struct pending_rec r;
	int ret = rec_get(s, txn, user, &r);

	if (ret == 0 && !alive(&r, now))
		ret = -ENOENT;
	if (ret == 0)
		memcpy(addr, r.addr, sizeof(r.addr));
	sodium_memzero(&r, sizeof(r));
	return ret;
}

int pending_confirm(struct store *s, MDB_txn *txn, const char *user, const char *code, uint64_t now,
	char addr[PWR_ADDR_MAX + 1])
{
	unsigned char h[CODE_HASH_BYTES];
	struct pending_rec r;
	int ret = rec_get(s, txn, user, &r);
	bool match;

	if (ret < 0)
		return ret;
	pending_hash(s, user, r.addr, code, h);
	match = sodium_memcmp(h, r.hash, sizeof(h)) == 0;
	sodium_memzero(h, sizeof(h));
	if (match && alive(&r, now)) {
		memcpy(addr, r.addr, sizeof(r.addr));
		ret = pending_drop(s, txn, user);
	} else if (!match && alive(&r, now)) {
		r.failures++;
		ret = rec_put(s, txn, user, &r);
		ret = ret < 0 ? ret : -EACCES;
	} else {
		ret = -EACCES; /* dead: a guess changes nothing */
	}
	sodium_memzero(&r, sizeof(r));
	return ret;
}

static uint64_t dead_since(const MDB_val *v)
{
	return store_expiry(v, sizeof(struct pending_rec), PENDING_REC_VERSION,
		offsetof(struct pending_rec, expires));
}

int pending_purge(struct store *s, MDB_txn *txn, uint64_t now, uint64_t grace)
{
	/* dead since its code expired (a record used up dies with its lifetime too) */
	return store_purge(s, txn, STORE_DB_PENDING, dead_since, now, grace);
}
