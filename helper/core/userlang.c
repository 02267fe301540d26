/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "userlang.h"

int userlang_get(struct store *s, MDB_txn *txn, const char *user, char out[CATALOG_LANG_MAX + 1])
{
	MDB_val k = {strlen(user), (void *)user}, v;
	int rc = mdb_get(txn, store_db(s, STORE_DB_LANG), &k, &v);

	*out = '\0';
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return store_err(rc, "language get");
	if (v.mv_size > 0 && v.mv_size <= CATALOG_LANG_MAX) {
		memcpy(out, v.mv_data, v.mv_size);
		out[v.mv_size] = '\0';
		if (!catalog_lang_ok(out))
			*out = '\0';
	}
	return 0;
}

int userlang_set(struct store *s, MDB_txn *txn, const char *user, const char *lang)
{
	MDB_val k = {strlen(user), (void *)user}, v = {strlen(lang), (void *)lang};
	int rc;

	if (!*lang || !strcmp(lang, "default")) {
		rc = mdb_del(txn, store_db(s, STORE_DB_LANG), &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : store_err(rc, "language unset");
	}
	if (!catalog_lang_ok(lang))
		return -EINVAL;
	return store_err(mdb_put(txn, store_db(s, STORE_DB_LANG), &k, &v, 0), "language set");
}
