/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reset codes (SPEC §4): 10 Crockford base32 symbols, shown XXXXX-XXXXX. The store holds only
 * a keyed BLAKE2b hash of user and code; one code per user; a code dies when it expires, when
 * its wrong tries reach its limit, when it is used, revoked or replaced, and when the user's
 * shadow entry no longer matches the fingerprint taken when it was issued.
 */
#ifndef PWRESET_CODE_H
#define PWRESET_CODE_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define CODE_LEN 10
#define CODE_SHOWN_LEN 11 /* XXXXX-XXXXX */
#define CODE_HASH_BYTES 32
#define CODE_FP_BYTES 32

struct code_rec {
	uint32_t version;
	uint32_t kind; /* PWR_KIND_SELF or PWR_KIND_ADMIN */
	uint64_t issued;
	uint64_t expires;
	uint32_t failures; /* wrong tries so far, across every conversation */
	uint32_t max_failures; /* code_attempts when it was issued */
	unsigned char hash[CODE_HASH_BYTES];
	unsigned char shadow_fp[CODE_FP_BYTES];
};

/* A fresh code of CODE_LEN symbols, NUL-terminated, in out (the caller wipes it). */
void code_generate(char out[CODE_LEN + 1]);

/* A buffer for one code (CODE_LEN + 1 bytes, zeroed) in guarded memory that is never swapped
 * (sodium_malloc), or NULL when none can be had. MUST: every code the helper holds lives in
 * one, and code_free (which wipes it; NULL is fine) ends it on every path. */
char *code_new(void);
void code_free(char *code);

/* XXXXX-XXXXX form of a CODE_LEN-symbol code. */
void code_format(const char *code, char out[CODE_SHOWN_LEN + 1]);

/* Normalise what a person typed: case, blanks and hyphens ignored, O -> 0, I and L -> 1.
 * 0, or -EINVAL when the rest is not exactly CODE_LEN symbols of the alphabet. */
int code_normalize(const char *in, char out[CODE_LEN + 1]);

/* Keyed fingerprint of a shadow line (NULL: the account has none). */
void code_fingerprint(struct store *s, const char *shadow_line, unsigned char out[CODE_FP_BYTES]);

/* Store a new code for user, replacing any earlier one. */
int code_issue(struct store *s, MDB_txn *txn, const char *user, const char *code, uint32_t kind,
	uint64_t now, uint32_t ttl, uint32_t max_failures, const unsigned char *fp);

/* The pending record of user: 0, or -ENOENT. Dead records (expired, used up) are -ENOENT. */
int code_get(struct store *s, MDB_txn *txn, const char *user, uint64_t now, struct code_rec *rec);

/* Check a normalised code for user. 0: valid (not consumed); -EACCES: wrong, expired, used up,
 * revoked, or the shadow entry changed (its fingerprint is not fp; NULL: not compared, the
 * caller compares it later); a wrong code counts one failure in txn while the code is alive
 * (once dead, guesses write nothing). */
int code_verify(struct store *s, MDB_txn *txn, const char *user, const char *code, uint64_t now,
	const unsigned char *fp);

/* Remove user's code: 0, or -ENOENT when there was none. */
int code_revoke(struct store *s, MDB_txn *txn, const char *user);

/* Remove records dead for longer than grace seconds; the number removed, or < 0. */
int code_purge(struct store *s, MDB_txn *txn, uint64_t now, uint64_t grace);

/* Call fn for each live code of a user whose name sorts after `after` ("": from the first), in
 * name order, until fn returns non-zero (returned; 0 at the end, or the store's error). rec is
 * wiped after fn returns. */
typedef int code_each_fn(void *ctx, const char *user, const struct code_rec *rec);
int code_each(struct store *s, MDB_txn *txn, const char *after, uint64_t now, code_each_fn *fn,
	void *ctx);

/* Whether rec can still be used at now. */
bool code_alive(const struct code_rec *rec, uint64_t now);

#endif
