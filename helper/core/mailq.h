/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The persistent mail queue in the store. Every mail is recorded here before anything tries
 * to send it. A code travels sealed (XChaCha20-Poly1305 under a subkey of the server key), so
 * the store's files never hold a code in the clear; only the delivery step opens it.
 */
#ifndef PWRESET_MAILQ_H
#define PWRESET_MAILQ_H

#include <stdint.h>

#include "code.h"
#include "protocol.h"
#include "store.h"

/* kinds and states: enum pwr_mail_kind and enum pwr_mail_state (protocol.h) */

#define MAIL_REPLY_MAX 255
#define MAIL_SEAL_NONCE 24
#define MAIL_SEAL_MAC 16

struct mail_rec {
	uint32_t version;
	uint32_t kind;
	uint32_t state;
	uint32_t attempts;
	uint64_t created;
	uint64_t next_try;
	uint64_t give_up; /* after this it is failed, not retried */
	uint64_t code_expires;
	uint64_t lease_until; /* a helper is sending it until then; nobody else may */
	char user[PWR_USER_MAX + 1];
	char to[PWR_ADDR_MAX + 1];
	char rhost[PWR_RHOST_MAX + 1];
	char tty[PWR_TTY_MAX + 1];
	char reply[MAIL_REPLY_MAX + 1]; /* the server's last answer */
	uint32_t sealed_len; /* 0: no code in this mail */
	unsigned char nonce[MAIL_SEAL_NONCE];
	unsigned char sealed[CODE_LEN + MAIL_SEAL_MAC];
	/* since version 3; a record of version 2 reads as "" */
	char lang[PWR_LANG_MAX + 1]; /* the directory's language for the account (SPEC §13) */
};

/* What an operation asks to be mailed. */
struct mail_draft {
	uint32_t kind;
	const char *user, *to;
	const char *rhost, *tty; /* where the request came from (NULL: not said) */
	uint64_t give_up; /* after this it is failed, not retried */
	uint64_t code_expires; /* 0: no code in this mail */
	const char *lang; /* the directory's language for the account (NULL: none) */
};

/* Queue the mail d describes (with code sealed into it; NULL: none) in txn, due now. The
 * courier takes it once txn is committed and the courier woken (route_dispatch() does both for the
 * operations its table marks as mailing). */
int mailq_enqueue(
	struct store *s, MDB_txn *txn, const struct mail_draft *d, const char *code, uint64_t now);

/* Append rec (state queued) with code sealed into it (code NULL: none); *id receives its id. */
int mailq_push(struct store *s, MDB_txn *txn, struct mail_rec *rec, const char *code, uint64_t *id);

/* The record with id: 0 or -ENOENT. */
int mailq_get(struct store *s, MDB_txn *txn, uint64_t id, struct mail_rec *rec);

/* Replace the record with id (state changes). */
int mailq_put(struct store *s, MDB_txn *txn, uint64_t id, const struct mail_rec *rec);

/* Remove sent and failed mails created more than keep seconds before now: how many, or < 0. */
int mailq_purge(struct store *s, MDB_txn *txn, uint64_t now, uint64_t keep);

/* The first record with an id greater than after: 0, or -ENOENT at the end. */
int mailq_next(struct store *s, MDB_txn *txn, uint64_t after, uint64_t *id, struct mail_rec *rec);

/* The same among the mails still to deliver (queued or deferred) only: what the courier looks
 * at, however many sent and failed mails the queue keeps. */
int mailq_next_due(
	struct store *s, MDB_txn *txn, uint64_t after, uint64_t *id, struct mail_rec *rec);

/* For store_open (storefill.h): the index of mails to deliver, built from the whole queue in a
 * store that predates it. */
int mailq_reindex(struct store *s, MDB_txn *txn);

/* Open the code sealed in rec into code (CODE_LEN + 1 bytes; the caller wipes it). */
int mailq_unseal(struct store *s, const struct mail_rec *rec, char *code);

#endif
