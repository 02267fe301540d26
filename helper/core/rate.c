/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rate.h"

/* A bucket's value is an array of uint64_t event times, oldest first. */

int rate_take(struct store *s, MDB_txn *txn, const char *bucket, uint32_t limit, uint32_t window,
	uint64_t now, bool *allowed)
{
	uint64_t times[RATE_LIMIT_MAX + 1];
	size_t n = 0, keep = 0;
	MDB_val k = {strlen(bucket), (void *)bucket}, v;
	int rc;

	*allowed = true;
	if (limit == 0)
		return 0;
	if (limit > RATE_LIMIT_MAX || k.mv_size > RATE_BUCKET_MAX)
		return -EINVAL;
	rc = mdb_get(txn, store_db(s, STORE_DB_RATE), &k, &v);
	if (rc && rc != MDB_NOTFOUND)
		return store_err(rc, "rate get");
	if (rc == 0 && v.mv_size % sizeof(uint64_t) == 0 &&
		v.mv_size / sizeof(uint64_t) <= RATE_LIMIT_MAX) {
		n = v.mv_size / sizeof(uint64_t);
		memcpy(times, v.mv_data, v.mv_size);
	}
	/* keep what is still inside the window, and no more than the limit */
	for (size_t i = 0; i < n; i++)
		if (times[i] + window > now && times[i] <= now)
			times[keep++] = times[i];
	if (keep > limit) {
		memmove(times, times + (keep - limit), limit * sizeof(uint64_t));
		keep = limit;
	}
	if (keep >= limit)
		*allowed = false;
	else
		times[keep++] = now;
	v.mv_size = keep * sizeof(uint64_t);
	v.mv_data = times;
	if (keep == 0)
		rc = mdb_del(txn, store_db(s, STORE_DB_RATE), &k, NULL);
	else
		rc = mdb_put(txn, store_db(s, STORE_DB_RATE), &k, &v, 0);
	if (rc && rc != MDB_NOTFOUND)
		return store_err(rc, "rate put");
	return 0;
}

int rate_exists(struct store *s, MDB_txn *txn, const char *bucket)
{
	MDB_val k = {strlen(bucket), (void *)bucket}, v;
	int rc = mdb_get(txn, store_db(s, STORE_DB_RATE), &k, &v);

	return rc == 0 ? 1 : rc == MDB_NOTFOUND ? 0 : store_err(rc, "rate get");
}

long rate_count(struct store *s, MDB_txn *txn)
{
	return store_count(s, txn, STORE_DB_RATE);
}

/* A bucket is done with when its last event leaves the longest window. */
static uint64_t dead_since(const MDB_val *v)
{
	uint64_t last = 0;

	if (v->mv_size >= sizeof(last) && v->mv_size % sizeof(last) == 0)
		memcpy(&last, (const char *)v->mv_data + v->mv_size - sizeof(last), sizeof(last));
	return last;
}

int rate_purge(struct store *s, MDB_txn *txn, uint64_t now, uint32_t max_window)
{
	return store_purge(s, txn, STORE_DB_RATE, dead_since, now, max_window);
}
