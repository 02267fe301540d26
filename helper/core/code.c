/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MUST: codes come from libsodium's generator without modulo bias (5 random bits a symbol); no
 * code is stored, logged or compared except as its keyed hash, compared in constant time; a
 * wrong try is counted in the same write transaction that read the record, so concurrent
 * conversations cannot spend more tries than the limit allows.
 */
#include <errno.h>
#include <stddef.h>
#include <sodium.h>
#include <string.h>

#include "code.h"
#include "protocol.h"

#define CODE_REC_VERSION 1

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void code_generate(char out[CODE_LEN + 1])
{
	unsigned char rnd[CODE_LEN];

	/* 32 symbols: the low 5 bits of a uniform byte are uniform (256 is a multiple of 32),
	 * and one call to the generator is one system call, not one a symbol */
	_Static_assert(sizeof(alphabet) - 1 == 32, "the alphabet has 32 symbols");
	randombytes_buf(rnd, sizeof(rnd));
	for (int i = 0; i < CODE_LEN; i++)
		out[i] = alphabet[rnd[i] & 31];
	out[CODE_LEN] = '\0';
	sodium_memzero(rnd, sizeof(rnd));
}

void code_format(const char *code, char out[CODE_SHOWN_LEN + 1])
{
	memcpy(out, code, 5);
	out[5] = '-';
	memcpy(out + 6, code + 5, 5);
	out[CODE_SHOWN_LEN] = '\0';
}

int code_normalize(const char *in, char out[CODE_LEN + 1])
{
	size_t n = 0;

	for (; *in; in++) {
		char c = *in;
		if (c == ' ' || c == '-' || c == '\t')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c == 'O')
			c = '0';
		else if (c == 'I' || c == 'L')
			c = '1';
		if (!memchr(alphabet, c, sizeof(alphabet) - 1) || n == CODE_LEN) {
			sodium_memzero(out, CODE_LEN + 1);
			return -EINVAL;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	if (n != CODE_LEN) {
		sodium_memzero(out, CODE_LEN + 1);
		return -EINVAL;
	}
	return 0;
}

static void code_hash(
	struct store *s, const char *user, const char *code, unsigned char out[CODE_HASH_BYTES])
{
	unsigned char key[32];
	crypto_generichash_state st;

	store_subkey(s, STORE_SUBKEY_CODE, key);
	crypto_generichash_init(&st, key, sizeof(key), CODE_HASH_BYTES);
	/* the user name is part of the hash: a code is good for its own account only */
	crypto_generichash_update(&st, (const unsigned char *)user, strlen(user) + 1);
	crypto_generichash_update(&st, (const unsigned char *)code, CODE_LEN);
	crypto_generichash_final(&st, out, CODE_HASH_BYTES);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(&st, sizeof(st));
}

void code_fingerprint(struct store *s, const char *shadow_line, unsigned char out[CODE_FP_BYTES])
{
	unsigned char key[32];

	if (!shadow_line) {
		memset(out, 0, CODE_FP_BYTES);
		return;
	}
	store_subkey(s, STORE_SUBKEY_SHADOW, key);
	crypto_generichash(out, CODE_FP_BYTES, (const unsigned char *)shadow_line,
		strlen(shadow_line), key, sizeof(key));
	sodium_memzero(key, sizeof(key));
}

bool code_alive(const struct code_rec *rec, uint64_t now)
{
	return now < rec->expires && rec->failures < rec->max_failures;
}

/* A record of another layout or version is not a code we issued: -ENOENT. */
static int rec_read(const MDB_val *v, struct code_rec *rec)
{
	if (v->mv_size != sizeof(*rec))
		return -ENOENT;
	memcpy(rec, v->mv_data, sizeof(*rec));
	if (rec->version != CODE_REC_VERSION) {
		sodium_memzero(rec, sizeof(*rec));
		return -ENOENT;
	}
	return 0;
}

static int rec_get(struct store *s, MDB_txn *txn, const char *user, struct code_rec *rec)
{
	MDB_val k = {strlen(user), (void *)user}, v;
	int rc = mdb_get(txn, store_db(s, STORE_DB_CODE), &k, &v);

	if (rc)
		return store_err(rc, "code get");
	return rec_read(&v, rec);
}

static int rec_put(struct store *s, MDB_txn *txn, const char *user, const struct code_rec *rec)
{
	MDB_val k = {strlen(user), (void *)user}, v = {sizeof(*rec), (void *)rec};
	return store_err(mdb_put(txn, store_db(s, STORE_DB_CODE), &k, &v, 0), "code put");
}

int code_issue(struct store *s, MDB_txn *txn, const char *user, const char *code, uint32_t kind,
	uint64_t now, uint32_t ttl, uint32_t max_failures, const unsigned char *fp)
{
	struct code_rec rec = {
		.version = CODE_REC_VERSION,
		.kind = kind,
		.issued = now,
		.expires = now + ttl,
		.max_failures = max_failures,
	};
	int r;

	code_hash(s, user, code, rec.hash);
	memcpy(rec.shadow_fp, fp, CODE_FP_BYTES);
	r = rec_put(s, txn, user, &rec);
	sodium_memzero(&rec, sizeof(rec));
	return r;
}

int code_get(struct store *s, MDB_txn *txn, const char *user, uint64_t now, struct code_rec *rec)
{
	int r = rec_get(s, txn, user, rec);

	if (r == 0 && !code_alive(rec, now))
		r = -ENOENT;
	return r;
}

int code_verify(struct store *s, MDB_txn *txn, const char *user, const char *code, uint64_t now,
	const unsigned char *fp)
{
	struct code_rec rec;
	unsigned char h[CODE_HASH_BYTES];
	int r = rec_get(s, txn, user, &rec);
	bool match;

	if (r == -ENOENT)
		return -EACCES;
	if (r < 0)
		return r;
	code_hash(s, user, code, h);
	match = sodium_memcmp(h, rec.hash, sizeof(h)) == 0;
	sodium_memzero(h, sizeof(h));
	if (match && code_alive(&rec, now) &&
		(!fp || sodium_memcmp(fp, rec.shadow_fp, CODE_FP_BYTES) == 0))
		r = 0;
	else if (match)
		r = -EACCES; /* the right code, but dead: not a guess, nothing to count */
	else if (!code_alive(&rec, now))
		r = -EACCES; /* a guess at a dead code changes nothing: no write, no commit to wait for */
	else {
		if (rec.failures < UINT32_MAX)
			rec.failures++;
		r = rec_put(s, txn, user, &rec);
		if (r == 0)
			r = -EACCES;
	}
	sodium_memzero(&rec, sizeof(rec));
	return r;
}

int code_revoke(struct store *s, MDB_txn *txn, const char *user)
{
	return store_del(s, txn, STORE_DB_CODE, user);
}

/* Dead since it expired, or not one of ours (the hashes are not read). */
static uint64_t dead_since(const MDB_val *v)
{
	return store_expiry(
		v, sizeof(struct code_rec), CODE_REC_VERSION, offsetof(struct code_rec, expires));
}

int code_purge(struct store *s, MDB_txn *txn, uint64_t now, uint64_t grace)
{
	return store_purge(s, txn, STORE_DB_CODE, dead_since, now, grace);
}

struct each_ctx {
	code_each_fn *fn;
	void *ctx;
	uint64_t now;
};

static int each_one(void *vctx, const MDB_val *k, const MDB_val *v)
{
	struct each_ctx *e = vctx;
	char user[PWR_USER_MAX + 1];
	struct code_rec rec;
	int r = 0;

	if (k->mv_size > PWR_USER_MAX || rec_read(v, &rec) < 0)
		return 0;
	memcpy(user, k->mv_data, k->mv_size);
	user[k->mv_size] = '\0';
	if (code_alive(&rec, e->now))
		r = e->fn(e->ctx, user, &rec);
	sodium_memzero(&rec, sizeof(rec));
	return r;
}

int code_each(
	struct store *s, MDB_txn *txn, const char *after, uint64_t now, code_each_fn *fn, void *ctx)
{
	struct each_ctx e = {fn, ctx, now};

	return store_each(s, txn, STORE_DB_CODE, after, strlen(after), each_one, &e);
}

char *code_new(void)
{
	char *code = sodium_malloc(CODE_LEN + 1);

	if (code)
		sodium_memzero(code, CODE_LEN + 1);
	return code;
}

void code_free(char *code)
{
	sodium_free(code); /* sodium_free wipes it first */
}
