/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LMDB environment and server key. MUST: the state directory is root's and closed to others;
 * the key file is created whole or not at all (written to a temporary file, synced, then
 * link()ed into place, so two helpers starting at once agree on one key); commits are synced.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "util.h"

#define KEY_FILE "server.key"
#define WRITE_LOCK_FILE "write.lock" /* flock'd around each write transaction */
#define WRITE_WAIT_S 10 /* the longest a write waits for its turn */
#define WRITE_WAIT_AGAIN_MS 200 /* the wait's alarm again, should one arrive before the flock */

struct store {
	MDB_env *env;
	MDB_dbi db[STORE_DB_COUNT];
	unsigned char *key; /* sodium_malloc'd, read-only when not in use; freed by store_close */
	char *dir; /* for store_reopen */
	size_t map_size;
	int lock_fd; /* WRITE_LOCK_FILE, opened by this process (flock is per open file) */
	unsigned write_wait_ms; /* the longest a write waits for its turn */
};

static const struct {
	const char *name;
	unsigned flags;
} dbs[STORE_DB_COUNT] = {
	[STORE_DB_ADDR] = {"addr", 0},
	[STORE_DB_ADDR_IDX] = {"addr_idx", 0},
	[STORE_DB_CODE] = {"code", 0},
	[STORE_DB_RATE] = {"rate", 0},
	[STORE_DB_MAILQ] = {"mailq", MDB_INTEGERKEY},
	[STORE_DB_MAILQ_DUE] = {"mailq_due", MDB_INTEGERKEY},
	[STORE_DB_META] = {"meta", 0},
	[STORE_DB_PENDING] = {"pending", 0},
	[STORE_DB_LANG] = {"lang", 0},
};
#define STORE_FULL_LOG_EVERY 60 /* seconds */

/* A full store fails every write until records expire: said once a minute, with how many
 * writes failed meanwhile, not once a request (a flood would flood the log too). */
static void store_full_report(const char *what)
{
	static uint64_t last;
	static unsigned long quiet;
	uint64_t now = util_now();

	if (last && now < last + STORE_FULL_LOG_EVERY) {
		quiet++;
		return;
	}
	log_msg(LOG_ERR,
		"store: %s: the store is full (map size reached); refusing to write until expired "
		"records are purged (%lu more writes refused since the last report)",
		what, quiet);
	last = now;
	quiet = 0;
}

int store_err(int rc, const char *what)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_MAP_FULL:
		store_full_report(what);
		return -ENOSPC;
	default:
		log_msg(LOG_ERR, "store: %s: %s", what, mdb_strerror(rc));
		return rc > 0 ? -rc : -EIO;
	}
}

static int state_dir_prepare(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		log_msg(LOG_ERR, "store: cannot create %s: %s", dir, strerror(e));
		return -e;
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_msg(LOG_ERR, "store: %s is not a directory", dir);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid()) {
		log_msg(LOG_ERR, "store: %s is owned by uid %u, not by the helper; refusing it",
			dir, (unsigned)st.st_uid);
		return -EPERM;
	}
	if ((st.st_mode & 0777) != 0700 && chmod(dir, 0700) < 0) {
		int e = errno;
		log_msg(LOG_ERR, "store: cannot make %s mode 0700: %s", dir, strerror(e));
		return -e;
	}
	return 0;
}

static int key_read(int dfd, unsigned char *key)
{
	struct stat st;
	ssize_t n;
	int fd = openat(dfd, KEY_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != STORE_KEY_BYTES ||
		st.st_uid != geteuid() || (st.st_mode & 077)) {
		close(fd);
		log_msg(LOG_ERR,
			"store: %s is not a %d-byte file of the helper's, mode 0600; "
			"refusing it",
			KEY_FILE, STORE_KEY_BYTES);
		return -EBADF;
	}
	do
		n = read(fd, key, STORE_KEY_BYTES);
	while (n < 0 && errno == EINTR);
	close(fd);
	return n == STORE_KEY_BYTES ? 0 : -EIO;
}

static int key_create(int dfd, unsigned char *key)
{
	char tmp[64];
	int fd, r = 0;

	randombytes_buf(key, STORE_KEY_BYTES);
	snprintf(tmp, sizeof(tmp), ".%s.%08x", KEY_FILE, randombytes_random());
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (util_write_all(fd, key, STORE_KEY_BYTES) < 0 || fsync(fd) < 0)
		r = -EIO;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && linkat(dfd, tmp, dfd, KEY_FILE, 0) < 0)
		r = -errno;
	unlinkat(dfd, tmp, 0);
	if (!r)
		r = fsync(dfd) < 0 ? -errno : 0;
	sodium_memzero(key, STORE_KEY_BYTES);
	return r == -EEXIST ? 0 : r; /* a concurrent helper won: read its key */
}

static int key_load(const char *dir, unsigned char *key)
{
	int r, dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return -errno;
	r = key_read(dfd, key);
	if (r == -ENOENT) {
		r = key_create(dfd, key);
		if (r == 0)
			r = key_read(dfd, key);
	}
	close(dfd);
	if (r < 0)
		log_msg(LOG_ERR, "store: cannot load the server key in %s: %s", dir, strerror(-r));
	return r;
}

/* Open every database as it is, in a read-only transaction: 0, or -ENOENT when one is missing
 * (the first start, or an older store: store_open() then creates it). */
static int dbs_find(struct store *s)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);

	for (int i = 0; rc == 0 && i < STORE_DB_COUNT; i++)
		rc = mdb_dbi_open(txn, dbs[i].name, dbs[i].flags, &s->db[i]);
	if (rc) {
		if (txn)
			mdb_txn_abort(txn);
		return rc == MDB_NOTFOUND ? -ENOENT : store_err(rc, "open databases");
	}
	/* committed, not aborted: the handles opened in it stay valid */
	return store_err(mdb_txn_commit(txn), "open databases");
}

/* Open every database, creating what is missing; one that fill names is filled as it is
 * created. */
static int dbs_open(struct store *s, MDB_txn *txn, const struct store_fill *fill)
{
	for (int i = 0; i < STORE_DB_COUNT; i++) {
		const struct store_fill *f = fill;
		int rc;

		while (f && f->fn && f->db != (enum store_db)i)
			f++;
		if (f && !f->fn)
			f = NULL;
		rc = mdb_dbi_open(txn, dbs[i].name, dbs[i].flags | (f ? 0 : MDB_CREATE), &s->db[i]);
		if (rc == MDB_NOTFOUND && f) {
			int r;
			rc = mdb_dbi_open(txn, dbs[i].name, dbs[i].flags | MDB_CREATE, &s->db[i]);
			if (rc == 0 && (r = f->fn(s, txn)) < 0)
				return r;
		}
		if (rc)
			return store_err(rc, "open databases");
	}
	return 0;
}

/* The environment and the write lock file of s->dir, opened by this process. */
static int env_open(struct store *s)
{
	char path[4096];
	int rc, dead = 0;

	if ((rc = mdb_env_create(&s->env)) || (rc = mdb_env_set_maxdbs(s->env, STORE_DB_COUNT)) ||
		(rc = mdb_env_set_mapsize(s->env, s->map_size)) ||
		(rc = mdb_env_open(s->env, s->dir, MDB_NOTLS, 0600)))
		return store_err(rc, "open");
	/* readers left by helpers that died would pin old pages for ever */
	mdb_reader_check(s->env, &dead);
	if (dead)
		log_msg(LOG_NOTICE, "store: cleared %d stale reader slot(s)", dead);
	if (snprintf(path, sizeof(path), "%s/%s", s->dir, WRITE_LOCK_FILE) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (s->lock_fd < 0) {
		int e = errno;
		log_msg(LOG_ERR, "store: cannot open %s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

int store_open(const char *dir, size_t map_size, const struct store_fill *fill, struct store **out)
{
	struct store *s;
	MDB_txn *txn = NULL;
	int r;

	if (sodium_init() < 0)
		return -EIO;
	if ((r = state_dir_prepare(dir)) < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->lock_fd = -1;
	s->map_size = map_size ? map_size : STORE_MAP_SIZE;
	s->write_wait_ms = WRITE_WAIT_S * 1000;
	s->key = sodium_malloc(STORE_KEY_BYTES);
	s->dir = strdup(dir);
	if (!s->key || !s->dir) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = key_load(dir, s->key)) < 0)
		goto fail;
	sodium_mprotect_noaccess(s->key);
	if ((r = env_open(s)) < 0)
		goto fail;
	/* as a rule every database is there, and nothing needs writing: a helper that starts
	 * takes no turn at the write lock */
	if ((r = dbs_find(s)) != -ENOENT) {
		if (r < 0)
			goto fail;
		*out = s;
		return 0;
	}
	if ((r = store_begin(s, true, &txn)) < 0)
		goto fail;
	if ((r = dbs_open(s, txn, fill)) < 0) {
		store_abort(txn);
		goto fail;
	}
	if ((r = store_commit(txn)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	store_close(s);
	return r;
}

static void env_close(struct store *s)
{
	if (s->env)
		mdb_env_close(s->env);
	s->env = NULL;
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->lock_fd = -1;
}

int store_reopen(struct store *s)
{
	int r;

	env_close(s);
	if ((r = env_open(s)) < 0 || (r = dbs_find(s)) < 0) {
		env_close(s);
		return r;
	}
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	env_close(s);
	sodium_free(s->key);
	free(s->dir);
	free(s);
}

/* The write transaction open in this process (LMDB allows one), during which every signal
 * waits, so that nothing but SIGKILL stops or ends us while others wait on the store's lock. */
static MDB_txn *writing;
static struct store *writing_store;
static sigset_t writing_mask;

static void on_alarm(int sig)
{
	(void)sig; /* only to end the flock() below with EINTR */
}

void store_write_wait(struct store *s, unsigned ms)
{
	s->write_wait_ms = ms;
}

/* This process's turn to write: the write lock file flock'd, waited for with every signal
 * deliverable (a SIGTERM reaches a waiting daemon) and for s->write_wait_ms at most. 0, or
 * -ETIMEDOUT. LMDB's own writer lock, taken after it, is then never waited for long. */
static int write_turn(struct store *s)
{
	struct sigaction sa = {.sa_handler = on_alarm}, old_sa;
	struct itimerval t = {{0, WRITE_WAIT_AGAIN_MS * 1000},
				 {s->write_wait_ms / 1000, (s->write_wait_ms % 1000) * 1000}},
			 old_t;
	uint64_t until = util_mono_ms() + s->write_wait_ms;
	int r;

	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return -errno;
	sigemptyset(&sa.sa_mask); /* no SA_RESTART: the alarm ends the wait */
	sigaction(SIGALRM, &sa, &old_sa);
	setitimer(ITIMER_REAL, &t, &old_t);
	while ((r = flock(s->lock_fd, LOCK_EX)) < 0 && errno == EINTR && util_mono_ms() < until)
		;
	r = r < 0 ? -errno : 0;
	setitimer(ITIMER_REAL, &old_t, NULL);
	sigaction(SIGALRM, &old_sa, NULL);
	if (r < 0) {
		log_msg(LOG_ERR,
			"store: another helper held the store's write lock for %u ms; this request "
			"gives up (%s)",
			s->write_wait_ms, strerror(-r));
		return r == -EINTR ? -ETIMEDOUT : r;
	}
	return 0;
}

static void signals_hold(void)
{
	sigset_t all;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &writing_mask);
}

static void signals_release(MDB_txn *txn)
{
	if (txn && txn == writing) {
		writing = NULL;
		flock(writing_store->lock_fd, LOCK_UN);
		writing_store = NULL;
		sigprocmask(SIG_SETMASK, &writing_mask, NULL);
	}
}

int store_begin(struct store *s, bool write, MDB_txn **txn)
{
	int rc, r;

	if (write && (r = write_turn(s)) < 0)
		return r;
	if (write)
		signals_hold();
	rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, txn);
	if (write && rc == 0) {
		writing = *txn;
		writing_store = s;
	} else if (write) {
		flock(s->lock_fd, LOCK_UN);
		sigprocmask(SIG_SETMASK, &writing_mask, NULL);
	}
	return store_err(rc, "begin");
}

int store_commit(MDB_txn *txn)
{
	int r = store_err(mdb_txn_commit(txn), "commit");

	signals_release(txn);
	return r;
}

void store_abort(MDB_txn *txn)
{
	if (txn)
		mdb_txn_abort(txn);
	signals_release(txn);
}

void store_subkey(struct store *s, enum store_subkey id, unsigned char out[32])
{
	sodium_mprotect_readonly(s->key);
	crypto_kdf_derive_from_key(out, 32, (uint64_t)id, "pwreset_", s->key);
	sodium_mprotect_noaccess(s->key);
}

MDB_dbi store_db(const struct store *s, enum store_db db)
{
	return s->db[db];
}

int store_each(struct store *s, MDB_txn *txn, enum store_db db, const void *after, size_t after_len,
	store_each_fn *fn, void *ctx)
{
	MDB_val k = {after_len, (void *)after}, v;
	MDB_cursor *c;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(txn, s->db[db], &c)))
		return store_err(rc, "reading the store");
	rc = mdb_cursor_get(c, &k, &v, after_len ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0) {
		bool skip =
			after_len && k.mv_size == after_len && !memcmp(k.mv_data, after, after_len);
		if (!skip && (r = fn(ctx, &k, &v)) != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (r == 0 && rc != MDB_NOTFOUND)
		r = store_err(rc, "reading the store");
	return r;
}

int store_purge(struct store *s, MDB_txn *txn, enum store_db db, store_dead_since_fn *dead_since,
	uint64_t now, uint64_t grace)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc, n = 0;

	if ((rc = mdb_cursor_open(txn, s->db[db], &c)))
		return store_err(rc, "purge");
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint64_t since = dead_since(&v);
		if (since == UINT64_MAX || since > now || now - since < grace)
			continue;
		if ((rc = mdb_cursor_del(c, 0)))
			break;
		n++;
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return store_err(rc, "purge");
	return n;
}

uint64_t store_expiry(const MDB_val *v, size_t size, uint32_t version, size_t off)
{
	uint32_t ver;
	uint64_t when;

	if (v->mv_size != size || off + sizeof(when) > size)
		return 0;
	memcpy(&ver, v->mv_data, sizeof(ver));
	memcpy(&when, (const char *)v->mv_data + off, sizeof(when));
	return ver == version ? when : 0;
}

int store_del(struct store *s, MDB_txn *txn, enum store_db db, const char *key)
{
	MDB_val k = {strlen(key), (void *)key};

	return store_err(mdb_del(txn, s->db[db], &k, NULL), "delete");
}

long store_count(struct store *s, MDB_txn *txn, enum store_db db)
{
	MDB_stat st;
	int rc = mdb_stat(txn, s->db[db], &st);

	return rc ? store_err(rc, "counting records") : (long)st.ms_entries;
}

int store_meta_get(struct store *s, MDB_txn *txn, const char *name, void *out, size_t len)
{
	MDB_val k = {strlen(name), (void *)name}, v;
	int rc = mdb_get(txn, s->db[STORE_DB_META], &k, &v);

	if (rc)
		return store_err(rc, "meta get");
	if (v.mv_size != len)
		return -ENOENT;
	memcpy(out, v.mv_data, len);
	return 0;
}

int store_meta_put(struct store *s, MDB_txn *txn, const char *name, const void *in, size_t len)
{
	MDB_val k = {strlen(name), (void *)name}, v = {len, (void *)in};

	return store_err(mdb_put(txn, s->db[STORE_DB_META], &k, &v, 0), "meta put");
}

size_t store_used(struct store *s)
{
	MDB_envinfo info;
	MDB_stat st;

	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &st);
	return (info.me_last_pgno + 1) * (size_t)st.ms_psize;
}
