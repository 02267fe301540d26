/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every account in one pass (`pwresetctl check` with no name, SPEC §8): the shadow file and the
 * passwd file are read once, the directory is listed once (one paged search), the groups of
 * exclude_groups are read once, and each account's facts come from those and from the store's
 * address index. Cost and memory grow with the number of accounts, not with its square, and
 * each account's item is sent as soon as it is known, so that no end holds the whole list.
 * MUST: each verdict is the one `check USER` gives (eligible.c decides both), except that an
 * account found only in the directory is taken as the directory describes it (its uid and
 * gidNumber), NSS not asked name by name; the store is read in short transactions, never one
 * held for the whole listing.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "account.h"
#include "answer.h"
#include "census.h"
#include "dirlink.h"
#include "eligible.h"
#include "log.h"
#include "mailaddr.h"
#include "shadowfile.h"
#include "util.h"

#define ACCOUNTS_PER_TXN 256

/* A sorted table of strings, each with a number (or an index) beside it. */
struct row {
	char *key;
	long val;
};

struct table {
	struct row *v;
	size_t n, cap;
};

static int table_add(struct table *t, const char *key, long val)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		struct row *v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	if (!(t->v[t->n].key = strdup(key)))
		return -ENOMEM;
	t->v[t->n++].val = val;
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->val > y->val) - (x->val < y->val);
}

static void table_sort(struct table *t)
{
	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), row_cmp);
}

/* The first row of key, or NULL. */
static const struct row *table_find(const struct table *t, const char *key)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(t->v[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n && !strcmp(t->v[lo].key, key) ? &t->v[lo] : NULL;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].key);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* One entry of the directory's listing. */
struct dir_entry {
	char *name, *address; /* address: "" when none or not usable */
	uint32_t uid, gid;
	uint32_t flags; /* DIR_F_*: disabled or expired (AD) */
};

struct census {
	struct helper *h;
	struct peer *p;
	uint64_t now;
	struct table shadow; /* name -> the day it expires (-1: never) */
	struct table passwd; /* the passwd file's names -> 0 */
	struct table excluded; /* exclude_groups: their members -> 0, their gids ("#GID") -> 0 */
	bool groups_unknown; /* a group of exclude_groups could not be read: all are excluded */
	bool protect; /* the peer is not root: accounts only root may act on are `protected` */
	struct table protected; /* admin_group, admin_protected_groups: as excluded */
	bool protected_unknown;
	bool dir_on;
	struct dir_entry *dir; /* the listing, in its order */
	size_t ndir, dircap;
	int dir_err;
	struct table dir_names; /* name -> index into dir */
	struct table dir_addrs; /* lower-case address -> index into dir */
	MDB_txn *txn;
	unsigned in_txn;
	uint32_t count;
	bool packed; /* the peer takes PWR_ITEM_CHECKS */
	size_t packlen;
	struct pwr_check_lines pack; /* the lines not sent yet */
};

static int read_shadow(struct census *cs, const char *path)
{
	FILE *f = fopen(path, "re");
	size_t cap = 0;
	char *line = NULL;
	ssize_t n;
	int r = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (r == 0 && (n = getline(&line, &cap, f)) > 0) {
		char *colon = memchr(line, ':', (size_t)n);
		if (!colon)
			continue;
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		*colon = '\0';
		r = table_add(&cs->shadow, line, 0);
		if (r == 0) {
			*colon = ':';
			cs->shadow.v[cs->shadow.n - 1].val = shadowfile_expire(line);
		}
	}
	if (r == 0 && ferror(f))
		r = -EIO;
	util_free_wiped(line, cap);
	fclose(f);
	table_sort(&cs->shadow);
	return r;
}

/* The members and gids of the groups of l, through NSS, once, into t; *unknown set when one
 * cannot be read (then every account is taken for a member: fail closed). */
static int read_groups(const struct conf_list *l, const char *what, struct table *t, bool *unknown)
{
	size_t cap = 16384;
	char *buf = malloc(cap), gid[16];
	int r = 0;

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < l->n; i++) {
		struct group gr, *res = NULL;
		int e;
		while ((e = getgrnam_r(l->items[i], &gr, buf, cap, &res)) == ERANGE &&
			cap < (1u << 26)) {
			char *more = realloc(buf, cap * 2);
			if (!more) {
				e = ENOMEM;
				break;
			}
			buf = more;
			cap *= 2;
		}
		if (e && e != ENOENT && e != ESRCH) {
			log_msg(LOG_WARNING,
				"check: cannot read group %s (%s): every account is "
				"taken for a member of %s",
				l->items[i], strerror(e), what);
			*unknown = true;
			continue;
		}
		if (!res)
			continue;
		snprintf(gid, sizeof(gid), "#%lu", (unsigned long)gr.gr_gid);
		r = table_add(t, gid, 0);
		for (char **m = gr.gr_mem; r == 0 && m && *m; m++)
			r = table_add(t, *m, 0);
	}
	free(buf);
	table_sort(t);
	return r;
}

/* The groups check needs, once: exclude_groups, and, for a peer that is not root, the groups
 * whose members only root may act on (admin_group, admin_protected_groups). */
static int read_all_groups(struct census *cs)
{
	struct pwr_conf *c = &cs->h->conf;
	char *one[] = {c->admin_group, NULL};
	struct conf_list admins = {one, c->admin_group[0] ? 1 : 0};
	int r = read_groups(
		&c->exclude_groups, "exclude_groups", &cs->excluded, &cs->groups_unknown);

	if (r < 0 || cs->p->uid == 0)
		return r;
	cs->protect = true;
	if ((r = read_groups(&admins, "admin_group", &cs->protected, &cs->protected_unknown)) < 0)
		return r;
	return read_groups(&c->admin_protected_groups, "admin_protected_groups", &cs->protected,
		&cs->protected_unknown);
}

static bool member(const struct table *t, bool unknown, const struct account *a)
{
	char gid[16];

	if (unknown)
		return true;
	snprintf(gid, sizeof(gid), "#%lu", (unsigned long)a->gid);
	return table_find(t, a->name) || table_find(t, gid);
}

static bool census_in_groups(void *ctx, const struct account *a, const struct conf_list *groups)
{
	struct census *cs = ctx;

	(void)groups;
	return member(&cs->excluded, cs->groups_unknown, a);
}

static void dir_one(void *ctx, const struct dirans *e)
{
	struct census *cs = ctx;
	struct dir_entry *d;
	char why[256];

	if (cs->dir_err)
		return;
	if (cs->ndir == cs->dircap) {
		size_t cap = cs->dircap ? 2 * cs->dircap : 1024;
		struct dir_entry *v = realloc(cs->dir, cap * sizeof(*v));
		if (!v) {
			cs->dir_err = -ENOMEM;
			return;
		}
		cs->dir = v;
		cs->dircap = cap;
	}
	d = &cs->dir[cs->ndir];
	*d = (struct dir_entry){.uid = e->uid, .gid = e->count, .flags = e->flags};
	/* as a lookup does (account_dir.c): an address that cannot be used is none */
	d->address = strdup(*e->address && mailaddr_validate(e->address, why, sizeof(why)) == 0
				    ? e->address
				    : "");
	d->name = strdup(e->user);
	if (!d->name || !d->address) {
		free(d->name);
		free(d->address);
		cs->dir_err = -ENOMEM;
		return;
	}
	cs->ndir++;
}

/* The directory's entries, once, and the two indexes over them. */
static int read_directory(struct census *cs, char *why, size_t whylen)
{
	struct dirreq q = {.op = DIR_LIST};
	const struct dirans *end = dirlink_call(cs->h->accounts.dir, &q, dir_one, cs);
	char low[PWR_ADDR_MAX + 1];
	int r = cs->dir_err;

	if (r == 0 && end->status != DIR_OK) {
		/* a limit or a refusal comes in the agent's words; no answer is said as such */
		snprintf(why, whylen, "%s%s",
			end->status == DIR_UNREACHABLE ? "the directory did not answer: " : "",
			end->text);
		log_msg(LOG_ERR, "directory: cannot list its accounts: %s", why);
		return -EHOSTUNREACH;
	}
	for (size_t i = 0; r == 0 && i < cs->ndir; i++) {
		r = table_add(&cs->dir_names, cs->dir[i].name, (long)i);
		if (r == 0 && *cs->dir[i].address &&
			util_lower(low, sizeof(low), cs->dir[i].address) == 0)
			r = table_add(&cs->dir_addrs, low, (long)i);
	}
	table_sort(&cs->dir_names);
	table_sort(&cs->dir_addrs);
	return r;
}

/* The directory's other entries with a's address, as DIR_COUNT would name them. */
static void dir_sharers(struct census *cs, const struct account *a, struct elig_facts *f)
{
	char low[PWR_ADDR_MAX + 1];
	const struct row *r;
	size_t pos = 0;

	if (util_lower(low, sizeof(low), a->address) < 0 || !(r = table_find(&cs->dir_addrs, low)))
		return;
	for (const struct row *end = cs->dir_addrs.v + cs->dir_addrs.n;
		r < end && !strcmp(r->key, low); r++) {
		const char *other = cs->dir[r->val].name;
		int w;
		if (!strcmp(other, a->name))
			continue;
		f->sharers++;
		w = snprintf(f->shared_with + pos, sizeof(f->shared_with) - pos, "%s%s",
			pos ? "," : "", other);
		if (w > 0 && (size_t)w < sizeof(f->shared_with) - pos)
			pos += (size_t)w;
	}
}

/* Whether a (not local: its name and uid set) is a directory account, as a lookup decides it:
 * exactly one entry with its name and its uid. */
static void dir_match(struct census *cs, struct account *a)
{
	const struct row *r = table_find(&cs->dir_names, a->name);
	const struct dir_entry *one = NULL;
	int n = 0;

	for (const struct row *end = cs->dir_names.v + cs->dir_names.n;
		r && r < end && !strcmp(r->key, a->name); r++)
		if (cs->dir[r->val].uid == (uint32_t)a->uid && n++ == 0)
			one = &cs->dir[r->val];
	if (n != 1)
		return;
	a->directory = true;
	a->address = *one->address ? one->address : NULL;
	if (one->flags)
		a->expire = ACCOUNT_EXPIRED_DAY;
}

static int pack_flush(struct census *cs)
{
	int r = cs->packlen ? answer_stream(cs->p, PWR_ITEM_CHECKS, &cs->pack) : 0;

	cs->packlen = 0;
	cs->pack.lines[0] = '\0';
	return r;
}

/* it as a line of the packet being filled (sent when the next does not fit), or, when its
 * name or reasons hold a TAB or LF, as an item of its own after the lines before it. */
static int pack_item(struct census *cs, const struct pwr_check_item *it)
{
	char line[PWR_USER_MAX + PWR_TEXT_MAX + 32], uid[16] = "-";
	int n, r;

	if (it->uid != UINT32_MAX)
		snprintf(uid, sizeof(uid), "%u", it->uid);
	n = snprintf(line, sizeof(line), "%s\t%s\t%u\t%s\n", it->user, uid, it->eligible ? 1u : 0u,
		it->reasons);
	if (strpbrk(it->user, "\t\n") || strpbrk(it->reasons, "\t\n") || n < 0 ||
		(size_t)n >= sizeof(line)) {
		if ((r = pack_flush(cs)) < 0)
			return r;
		return answer_stream(cs->p, PWR_ITEM_CHECK, it);
	}
	if (cs->packlen + (size_t)n > PWR_CHECKS_MAX && (r = pack_flush(cs)) < 0)
		return r;
	memcpy(cs->pack.lines + cs->packlen, line, (size_t)n + 1);
	cs->packlen += (size_t)n;
	return 0;
}

/* The item of one account, sent. */
static int emit(struct census *cs, struct account *a)
{
	struct helper *h = cs->h;
	struct pwr_check_item it = {0};
	struct elig_facts f;
	int r;

	if (cs->protect && a->exists && member(&cs->protected, cs->protected_unknown, a)) {
		/* as check USER says it to this peer (admin_protected) */
		util_copy(it.user, sizeof(it.user), a->name);
		it.uid = (uint32_t)a->uid;
		util_copy(it.reasons, sizeof(it.reasons), wire_reason(PWR_REASON_PROTECTED));
		cs->count++;
		return cs->packed ? pack_item(cs, &it) : answer_stream(cs->p, PWR_ITEM_CHECK, &it);
	}
	eligible_facts(&h->conf, cs->dir_on, a, census_in_groups, cs, cs->now, &f);
	if (f.directory && f.has_address)
		dir_sharers(cs, a, &f);
	if (cs->in_txn++ == ACCOUNTS_PER_TXN) {
		store_abort(cs->txn);
		cs->txn = NULL;
		cs->in_txn = 1;
	}
	if (!cs->txn && (r = store_begin(h->store, false, &cs->txn)) < 0)
		return r;
	if ((r = eligible_store(&h->conf, h->store, cs->txn, a->name, &f)) < 0)
		return r;
	util_copy(it.user, sizeof(it.user), a->name);
	it.uid = f.exists ? f.uid : UINT32_MAX;
	it.eligible = eligible_reasons(&f, it.reasons, sizeof(it.reasons)) == 0;
	cs->count++;
	return cs->packed ? pack_item(cs, &it) : answer_stream(cs->p, PWR_ITEM_CHECK, &it);
}

/* One line of the passwd file, split in place: its name, uid and gid; false for a line that
 * is no entry (blank, a comment, a number that is none), which fgetpwent skips too. Read by
 * hand: fgetpwent asks the kernel where it is in the file at every entry. */
static bool passwd_line(char *line, char **name, uid_t *uid, gid_t *gid)
{
	char *f[4] = {line}, *end;
	unsigned long n[2];

	line[strcspn(line, "\n")] = '\0';
	if (!*line || *line == '#')
		return false;
	for (int i = 1; i < 4; i++) {
		char *colon = strchr(f[i - 1], ':');
		if (!colon)
			return false;
		*colon = '\0';
		f[i] = colon + 1;
	}
	f[3][strcspn(f[3], ":")] = '\0';
	for (int i = 0; i < 2; i++) {
		errno = 0;
		n[i] = strtoul(f[2 + i], &end, 10);
		if (!*f[2 + i] || *end || errno || n[i] > UINT32_MAX)
			return false;
	}
	*name = f[0];
	*uid = (uid_t)n[0];
	*gid = (gid_t)n[1];
	return true;
}

/* The passwd file's accounts in its order, each once. */
static int each_passwd(struct census *cs)
{
	struct pwr_conf *c = &cs->h->conf;
	FILE *f = fopen(cs->h->accounts.passwd, "re");
	size_t cap = 0;
	char *line = NULL, *name;
	int r = 0;

	if (!f)
		return -errno;
	while (r == 0 && getline(&line, &cap, f) > 0) {
		struct account a = {.expire = -1};
		const struct row *sh;
		if (!passwd_line(line, &name, &a.uid, &a.gid))
			continue;
		if ((r = table_add(&cs->passwd, name, 0)) < 0 || a.uid < c->min_uid ||
			a.uid > c->max_uid)
			continue;
		/* what local_lookup takes for no account at all */
		a.exists = util_copy(a.name, sizeof(a.name), name) == 0 && *a.name != '+' &&
			   *a.name != '-' && util_text_ok(a.name) && !strchr(a.name, ':');
		if (a.exists && (sh = table_find(&cs->shadow, a.name))) {
			a.local = true;
			a.expire = sh->val;
		} else if (a.exists && cs->dir_on) {
			dir_match(cs, &a);
		}
		r = emit(cs, &a);
	}
	if (r == 0 && ferror(f))
		r = -EIO;
	free(line);
	fclose(f);
	table_sort(&cs->passwd);
	return r;
}

/* The directory's accounts the passwd file does not name, each name once. */
static int each_directory(struct census *cs)
{
	struct pwr_conf *c = &cs->h->conf;
	int r = 0;

	for (size_t i = 0; r == 0 && i < cs->dir_names.n; i++) {
		const struct dir_entry *d = &cs->dir[cs->dir_names.v[i].val];
		struct account a = {.expire = -1, .exists = true, .uid = d->uid, .gid = d->gid};
		if (i && !strcmp(cs->dir_names.v[i - 1].key, d->name))
			continue; /* the first entry of a name stands for it */
		if (!*d->name || d->uid < c->min_uid || d->uid > c->max_uid ||
			table_find(&cs->passwd, d->name) ||
			util_copy(a.name, sizeof(a.name), d->name) < 0)
			continue;
		dir_match(cs, &a);
		r = emit(cs, &a);
	}
	return r;
}

int census_run(
	struct helper *h, struct peer *p, bool packed, uint32_t *count, char *why, size_t whylen)
{
	struct census cs = {.h = h,
		.p = p,
		.now = util_now(),
		.dir_on = h->accounts.dir != NULL,
		.packed = packed};
	int r;

	*why = '\0';
	if ((r = read_shadow(&cs, h->accounts.shadow)) == 0 && (r = read_all_groups(&cs)) == 0 &&
		(!cs.dir_on || (r = read_directory(&cs, why, whylen)) == 0) &&
		(r = each_passwd(&cs)) == 0 && (!cs.dir_on || (r = each_directory(&cs)) == 0))
		r = pack_flush(&cs);
	store_abort(cs.txn);
	*count = cs.count;
	for (size_t i = 0; i < cs.ndir; i++) {
		free(cs.dir[i].name);
		free(cs.dir[i].address);
	}
	free(cs.dir);
	table_free(&cs.shadow);
	table_free(&cs.passwd);
	table_free(&cs.excluded);
	table_free(&cs.protected);
	table_free(&cs.dir_names);
	table_free(&cs.dir_addrs);
	if (r < 0 && !*why)
		snprintf(why, whylen, "%s", strerror(-r));
	return r;
}
