/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "account.h"
#include "log.h"
#include "address.h"
#include "util.h"

#define IDX_KEY_MAX (PWR_ADDR_MAX + 1 + 64)

bool address_local_only(struct pwr_conf *c, const char *addr)
{
	const char *at = strrchr(addr, '@');
	const struct conf_list *l;

	if (!at || !at[1] || !strchr(at + 1, '.'))
		return true;
	l = conf_local_domains(c);
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->items[i], at + 1) == 0)
			return true;
	return false;
}

/* index key: lower-case address, NUL, user */
static int idx_key(char *buf, size_t cap, const char *addr, const char *user, MDB_val *k)
{
	size_t al = strlen(addr), ul = strlen(user);

	if (al + 1 + ul > cap || util_lower(buf, cap, addr) < 0)
		return -ENAMETOOLONG;
	memcpy(buf + al + 1, user, ul);
	k->mv_size = al + 1 + ul;
	k->mv_data = buf;
	return 0;
}

/* A record is the address; since SPEC §11, a NUL, the source (u32) and the time it was
 * confirmed (u64) follow it. A record without them was set by an administrator. */
#define TAIL_BYTES (1 + 4 + 8)

int address_record_decode(const void *data, size_t size, struct address_info *a)
{
	const char *p = data, *nul = memchr(p, 0, size);
	size_t len = nul ? (size_t)(nul - p) : size;

	memset(a, 0, sizeof(*a));
	if (len == 0 || len > PWR_ADDR_MAX || (nul && size != len + TAIL_BYTES))
		return -EBADMSG;
	memcpy(a->addr, p, len);
	if (nul) {
		memcpy(&a->source, p + len + 1, 4);
		memcpy(&a->confirmed, p + len + 5, 8);
		if (a->source != PWR_SOURCE_ADMIN && a->source != PWR_SOURCE_USER) {
			memset(a, 0, sizeof(*a));
			return -EBADMSG;
		}
	}
	return 0;
}

long address_record_encode(const struct address_info *a, void *buf, size_t cap)
{
	size_t len = strnlen(a->addr, sizeof(a->addr));
	char *p = buf;

	if (len == 0 || len > PWR_ADDR_MAX || cap < len + TAIL_BYTES)
		return -ENAMETOOLONG;
	memcpy(p, a->addr, len);
	p[len] = '\0';
	memcpy(p + len + 1, &a->source, 4);
	memcpy(p + len + 5, &a->confirmed, 8);
	return (long)(len + TAIL_BYTES);
}

int address_get_info(struct store *s, MDB_txn *txn, const char *user, struct address_info *out)
{
	MDB_val k = {strlen(user), (void *)user}, v;
	int rc = mdb_get(txn, store_db(s, STORE_DB_ADDR), &k, &v);

	if (rc)
		return store_err(rc, "address get");
	return address_record_decode(v.mv_data, v.mv_size, out);
}

int address_get(struct store *s, MDB_txn *txn, const char *user, char out[PWR_ADDR_MAX + 1])
{
	struct address_info a;
	int r = address_get_info(s, txn, user, &a);

	if (r == 0)
		memcpy(out, a.addr, sizeof(a.addr));
	return r;
}

int address_unset(struct store *s, MDB_txn *txn, const char *user)
{
	char old[PWR_ADDR_MAX + 1], buf[IDX_KEY_MAX + PWR_USER_MAX];
	MDB_val k = {strlen(user), (void *)user}, ik;
	int r = address_get(s, txn, user, old), rc;

	if (r < 0)
		return r;
	if (idx_key(buf, sizeof(buf), old, user, &ik) == 0) {
		rc = mdb_del(txn, store_db(s, STORE_DB_ADDR_IDX), &ik, NULL);
		if (rc && rc != MDB_NOTFOUND)
			return store_err(rc, "address index");
	}
	return store_err(mdb_del(txn, store_db(s, STORE_DB_ADDR), &k, NULL), "address unset");
}

int address_set(struct store *s, MDB_txn *txn, const char *user, const char *addr)
{
	struct address_info a = {.source = PWR_SOURCE_ADMIN};

	if (util_copy(a.addr, sizeof(a.addr), addr) < 0)
		return -ENAMETOOLONG;
	return address_set_info(s, txn, user, &a);
}

int address_set_info(struct store *s, MDB_txn *txn, const char *user, const struct address_info *a)
{
	char buf[IDX_KEY_MAX + PWR_USER_MAX], rec[ADDRESS_RECORD_MAX];
	long len = address_record_encode(a, rec, sizeof(rec));
	MDB_val k = {strlen(user), (void *)user}, v = {(size_t)len, rec}, ik, empty = {0, ""};
	int r, rc;

	if (len < 0)
		return (int)len;
	if ((r = address_unset(s, txn, user)) < 0 && r != -ENOENT)
		return r;
	if ((r = idx_key(buf, sizeof(buf), a->addr, user, &ik)) < 0)
		return r;
	if ((rc = mdb_put(txn, store_db(s, STORE_DB_ADDR), &k, &v, 0)) ||
		(rc = mdb_put(txn, store_db(s, STORE_DB_ADDR_IDX), &ik, &empty, 0)))
		return store_err(rc, "address set");
	return 0;
}

int address_sharers(
	struct store *s, MDB_txn *txn, const char *addr, const char *user, char *out, size_t outlen)
{
	char prefix[PWR_ADDR_MAX + 2];
	size_t plen = strlen(addr) + 1, pos = 0;
	MDB_cursor *c;
	MDB_val k, v;
	int rc, n = 0;

	out[0] = '\0';
	if (util_lower(prefix, sizeof(prefix), addr) < 0)
		return -ENAMETOOLONG;
	if ((rc = mdb_cursor_open(txn, store_db(s, STORE_DB_ADDR_IDX), &c)))
		return store_err(rc, "address sharers");
	k.mv_size = plen;
	k.mv_data = prefix;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		const char *other = (const char *)k.mv_data + plen;
		size_t olen = k.mv_size - plen;
		if (olen == strlen(user) && memcmp(other, user, olen) == 0)
			continue;
		n++;
		if (pos + olen + 5 < outlen) {
			if (pos)
				out[pos++] = ',';
			memcpy(out + pos, other, olen);
			pos += olen;
			out[pos] = '\0';
		} else if (pos + 4 < outlen && !strstr(out, "...")) {
			memcpy(out + pos, "...", 4);
			pos += 3;
		}
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return store_err(rc, "address sharers");
	return n;
}

int address_import_line(char *line, const char **user, const char **addr, char *why, size_t whylen)
{
	size_t len = strlen(line);
	char *tok = NULL, *u, *a;

	*user = *addr = NULL;
	if (len && line[len - 1] == '\r')
		line[len - 1] = '\0';
	u = strtok_r(line, " \t", &tok);
	if (!u || *u == '#')
		return 0;
	a = strtok_r(NULL, " \t", &tok);
	if (!a || strtok_r(NULL, " \t", &tok)) {
		snprintf(why, whylen, "expected 'user address'");
		return -EINVAL;
	}
	*user = u;
	*addr = a;
	return 0;
}

struct each_ctx {
	address_each_fn *fn;
	void *ctx;
};

static int each_one(void *vctx, const MDB_val *k, const MDB_val *v)
{
	struct each_ctx *e = vctx;
	char user[PWR_USER_MAX + 1];
	struct address_info a;

	if (k->mv_size > PWR_USER_MAX || address_record_decode(v->mv_data, v->mv_size, &a) < 0)
		return 0;
	memcpy(user, k->mv_data, k->mv_size);
	user[k->mv_size] = '\0';
	return e->fn(e->ctx, user, a.addr);
}

int address_each(struct store *s, MDB_txn *txn, const char *after, address_each_fn *fn, void *ctx)
{
	struct each_ctx e = {fn, ctx};

	return store_each(s, txn, STORE_DB_ADDR, after, strlen(after), each_one, &e);
}

struct reindex {
	struct store *s;
	MDB_txn *txn;
};

static int reindex_one(void *ctx, const MDB_val *k, const MDB_val *v)
{
	char buf[IDX_KEY_MAX + PWR_USER_MAX], user[PWR_USER_MAX + 1];
	struct reindex *x = ctx;
	struct address_info a;
	MDB_val ik, empty = {0, ""};
	int rc;

	if (k->mv_size > PWR_USER_MAX || address_record_decode(v->mv_data, v->mv_size, &a) < 0)
		return 0; /* as address_each: a record no request could make is not indexed */
	memcpy(user, k->mv_data, k->mv_size);
	user[k->mv_size] = '\0';
	if (idx_key(buf, sizeof(buf), a.addr, user, &ik) < 0)
		return 0;
	if ((rc = mdb_put(x->txn, store_db(x->s, STORE_DB_ADDR_IDX), &ik, &empty, 0)))
		return store_err(rc, "address index");
	return 0;
}

int address_reindex(struct store *s, MDB_txn *txn)
{
	struct reindex x = {s, txn};
	int r = store_each(s, txn, STORE_DB_ADDR, "", 0, reindex_one, &x);

	long n = r == 0 ? address_count(s, txn) : 0;

	/* a new store has neither the index nor an address: nothing was rebuilt */
	if (n > 0)
		log_msg(LOG_NOTICE, "store: the index of addresses was rebuilt (%ld addresses)", n);
	return r;
}

long address_count(struct store *s, MDB_txn *txn)
{
	return store_count(s, txn, STORE_DB_ADDR);
}

int address_of(struct store *s, const struct account *a, char out[PWR_ADDR_MAX + 1])
{
	MDB_txn *txn;
	int r;

	if (a->directory)
		return a->address && util_copy(out, PWR_ADDR_MAX + 1, a->address) >= 0 ? 0
										       : -ENOENT;
	if ((r = store_begin(s, false, &txn)) < 0)
		return r;
	r = address_get(s, txn, a->name, out);
	store_abort(txn);
	return r;
}
