/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sliding-window rate limits kept in the store, so they hold across helper restarts and
 * across both transports. A bucket remembers the times of the events it allowed within the
 * window; an event is allowed while fewer than `limit` of them are younger than the window.
 */
#ifndef PWRESET_RATE_H
#define PWRESET_RATE_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define RATE_LIMIT_MAX 1000
#define RATE_BUCKET_MAX 300

/* Count an event in bucket if allowed; *allowed says whether it was. limit 0: no limit, and
 * nothing is stored. */
int rate_take(struct store *s, MDB_txn *txn, const char *bucket, uint32_t limit, uint32_t window,
	uint64_t now, bool *allowed);

/* Whether bucket is in the store: 1, 0, or < 0. */
int rate_exists(struct store *s, MDB_txn *txn, const char *bucket);
/* How many buckets the store holds, or < 0. */
long rate_count(struct store *s, MDB_txn *txn);

/* Remove buckets whose every event is older than max_window; the number removed, or < 0. */
int rate_purge(struct store *s, MDB_txn *txn, uint64_t now, uint32_t max_window);

#endif
