/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The language an account's mail is written in (SPEC §13), as its user or an administrator
 * chose it: kept in the store by account name, apart from its address (a user may choose it
 * before registering one, and keeps it when the address changes). None: mail_language.
 */
#ifndef PWRESET_USERLANG_H
#define PWRESET_USERLANG_H

#include "catalog.h"
#include "store.h"

/* user's language into out ("" when none was chosen): 0, or < 0 (the store's error; a record
 * that is not a language name reads as none). */
int userlang_get(struct store *s, MDB_txn *txn, const char *user, char out[CATALOG_LANG_MAX + 1]);

/* Choose lang for user; "" (or "default") forgets the choice. 0, -EINVAL for a name that is not
 * a language (catalog_lang_ok), or the store's error. */
int userlang_set(struct store *s, MDB_txn *txn, const char *user, const char *lang);

#endif
