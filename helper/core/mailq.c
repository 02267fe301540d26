/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stddef.h>
#include <sodium.h>
#include <string.h>

#include "mailq.h"
#include "util.h"

#define MAIL_REC_VERSION 3
#define MAIL_REC_V2_SIZE offsetof(struct mail_rec, lang) /* version 2 ended before lang */

/* A record as this version reads it; one of version 2 (queued before an upgrade) without its
 * language. */
static int rec_read(const MDB_val *v, struct mail_rec *rec)
{
	uint32_t version;

	if (v->mv_size != sizeof(*rec) && v->mv_size != MAIL_REC_V2_SIZE)
		return -EBADMSG;
	memcpy(&version, v->mv_data, sizeof(version));
	if (v->mv_size != (version == 2                         ? MAIL_REC_V2_SIZE
				  : version == MAIL_REC_VERSION ? sizeof(*rec)
								: 0))
		return -EBADMSG;
	memset(rec, 0, sizeof(*rec));
	memcpy(rec, v->mv_data, v->mv_size);
	rec->version = MAIL_REC_VERSION;
	rec->lang[sizeof(rec->lang) - 1] = '\0';
	if (rec->sealed_len > sizeof(rec->sealed))
		return -EBADMSG;
	return 0;
}

/* Keep id in the index of mails to deliver exactly while its state says so. */
static int due_index(struct store *s, MDB_txn *txn, uint64_t id, uint32_t state)
{
	MDB_val k = {sizeof(id), &id}, v = {0, ""};
	int rc;

	if (state == PWR_MAIL_QUEUED || state == PWR_MAIL_DEFERRED)
		rc = mdb_put(txn, store_db(s, STORE_DB_MAILQ_DUE), &k, &v, 0);
	else if ((rc = mdb_del(txn, store_db(s, STORE_DB_MAILQ_DUE), &k, NULL)) == MDB_NOTFOUND)
		rc = 0;
	return store_err(rc, "mailq index");
}

int mailq_push(struct store *s, MDB_txn *txn, struct mail_rec *rec, const char *code, uint64_t *id)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t next = 1;
	int rc;

	rec->version = MAIL_REC_VERSION;
	rec->state = PWR_MAIL_QUEUED;
	rec->sealed_len = 0;
	if (code) {
		unsigned char key[32];
		randombytes_buf(rec->nonce, sizeof(rec->nonce));
		store_subkey(s, STORE_SUBKEY_MAIL, key);
		crypto_aead_xchacha20poly1305_ietf_encrypt(rec->sealed, NULL,
			(const unsigned char *)code, CODE_LEN, NULL, 0, NULL, rec->nonce, key);
		sodium_memzero(key, sizeof(key));
		rec->sealed_len = CODE_LEN + MAIL_SEAL_MAC;
	}
	if ((rc = mdb_cursor_open(txn, store_db(s, STORE_DB_MAILQ), &c)))
		return store_err(rc, "mailq push");
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == sizeof(next)) {
		memcpy(&next, k.mv_data, sizeof(next));
		next++;
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return store_err(rc, "mailq push");
	k.mv_size = sizeof(next);
	k.mv_data = &next;
	v.mv_size = sizeof(*rec);
	v.mv_data = rec;
	if ((rc = mdb_put(txn, store_db(s, STORE_DB_MAILQ), &k, &v, MDB_NOOVERWRITE)))
		return store_err(rc, "mailq push");
	*id = next;
	return due_index(s, txn, next, rec->state);
}

int mailq_enqueue(
	struct store *s, MDB_txn *txn, const struct mail_draft *d, const char *code, uint64_t now)
{
	struct mail_rec rec = {
		.kind = d->kind,
		.created = now,
		.next_try = now,
		.give_up = d->give_up,
		.code_expires = d->code_expires,
	};
	uint64_t id;
	int r;

	util_copy(rec.user, sizeof(rec.user), d->user);
	util_copy(rec.to, sizeof(rec.to), d->to);
	util_copy(rec.rhost, sizeof(rec.rhost), d->rhost ? d->rhost : "");
	util_copy(rec.tty, sizeof(rec.tty), d->tty ? d->tty : "");
	util_copy(rec.lang, sizeof(rec.lang), d->lang ? d->lang : "");
	r = mailq_push(s, txn, &rec, code, &id);
	sodium_memzero(&rec, sizeof(rec));
	return r;
}

int mailq_get(struct store *s, MDB_txn *txn, uint64_t id, struct mail_rec *rec)
{
	MDB_val k = {sizeof(id), &id}, v;
	int rc = mdb_get(txn, store_db(s, STORE_DB_MAILQ), &k, &v);

	if (rc)
		return store_err(rc, "mailq get");
	return rec_read(&v, rec);
}

int mailq_put(struct store *s, MDB_txn *txn, uint64_t id, const struct mail_rec *rec)
{
	MDB_val k = {sizeof(id), &id}, v = {sizeof(*rec), (void *)rec};
	int r = store_err(mdb_put(txn, store_db(s, STORE_DB_MAILQ), &k, &v, 0), "mailq put");

	return r < 0 ? r : due_index(s, txn, id, rec->state);
}

/* A mail is done with once sent or failed, from when it was queued (only its header is
 * read); one of another layout is kept. */
static uint64_t dead_since(const MDB_val *v)
{
	struct mail_rec head;

	if (v->mv_size != sizeof(head) && v->mv_size != MAIL_REC_V2_SIZE)
		return UINT64_MAX;
	memcpy(&head, v->mv_data, offsetof(struct mail_rec, user));
	if (head.version != (v->mv_size == sizeof(head) ? MAIL_REC_VERSION : 2) ||
		(head.state != PWR_MAIL_SENT && head.state != PWR_MAIL_FAILED))
		return UINT64_MAX;
	return head.created;
}

int mailq_purge(struct store *s, MDB_txn *txn, uint64_t now, uint64_t keep)
{
	/* neither state is in the index of mails to deliver: only the queue changes */
	return store_purge(s, txn, STORE_DB_MAILQ, dead_since, now, keep);
}

struct next_ctx {
	struct store *s;
	MDB_txn *txn;
	bool by_index; /* db is the index: the record is looked up in the queue */
	uint64_t *id;
	struct mail_rec *rec;
};

/* The first id whose record is well-formed stops the walk (1); others are passed over. */
static int next_one(void *vctx, const MDB_val *k, const MDB_val *v)
{
	struct next_ctx *n = vctx;
	int r;

	if (k->mv_size != sizeof(*n->id))
		return 0;
	memcpy(n->id, k->mv_data, sizeof(*n->id));
	r = n->by_index ? mailq_get(n->s, n->txn, *n->id, n->rec) : rec_read(v, n->rec);
	return r == 0 ? 1 : r == -ENOENT || r == -EBADMSG ? 0 : r;
}

static int next_in(struct store *s, MDB_txn *txn, enum store_db db, uint64_t after, uint64_t *id,
	struct mail_rec *rec)
{
	struct next_ctx n = {s, txn, db == STORE_DB_MAILQ_DUE, id, rec};
	int r = store_each(s, txn, db, &after, sizeof(after), next_one, &n);

	return r == 1 ? 0 : r < 0 ? r : -ENOENT;
}

int mailq_next(struct store *s, MDB_txn *txn, uint64_t after, uint64_t *id, struct mail_rec *rec)
{
	return next_in(s, txn, STORE_DB_MAILQ, after, id, rec);
}

int mailq_next_due(
	struct store *s, MDB_txn *txn, uint64_t after, uint64_t *id, struct mail_rec *rec)
{
	return next_in(s, txn, STORE_DB_MAILQ_DUE, after, id, rec);
}

int mailq_reindex(struct store *s, MDB_txn *txn)
{
	struct mail_rec rec;
	uint64_t id = 0;
	int r;

	while ((r = mailq_next(s, txn, id, &id, &rec)) == 0)
		if ((r = due_index(s, txn, id, rec.state)) < 0)
			break;
	sodium_memzero(&rec, sizeof(rec));
	return r == -ENOENT ? 0 : r;
}

int mailq_unseal(struct store *s, const struct mail_rec *rec, char *code)
{
	unsigned char key[32];
	int r;

	if (rec->sealed_len != CODE_LEN + MAIL_SEAL_MAC)
		return -ENOENT;
	store_subkey(s, STORE_SUBKEY_MAIL, key);
	r = crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)code, NULL, NULL,
		rec->sealed, rec->sealed_len, NULL, 0, rec->nonce, key);
	sodium_memzero(key, sizeof(key));
	if (r != 0) {
		sodium_memzero(code, CODE_LEN);
		return -EBADMSG;
	}
	code[CODE_LEN] = '\0';
	return 0;
}
