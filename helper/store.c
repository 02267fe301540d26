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
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "mailq.h"
#include "store.h"
#include "util.h"

#define KEY_FILE "server.key"
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

int store_open(const char *dir, size_t map_size, struct store **out)
{
	struct store *s;
	MDB_txn *txn = NULL;
	int rc, r, dead = 0;

	if (sodium_init() < 0)
		return -EIO;
	if ((r = state_dir_prepare(dir)) < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->key = sodium_malloc(STORE_KEY_BYTES);
	if (!s->key) {
		free(s);
		return -ENOMEM;
	}
	if ((r = key_load(dir, s->key)) < 0)
		goto fail;
	sodium_mprotect_noaccess(s->key);

	if ((rc = mdb_env_create(&s->env)) || (rc = mdb_env_set_maxdbs(s->env, 8)) ||
		(rc = mdb_env_set_mapsize(s->env, map_size ? map_size : STORE_MAP_SIZE)) ||
		(rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600))) {
		r = store_err(rc, "open");
		goto fail;
	}
	/* readers left by helpers that died would pin old pages for ever */
	mdb_reader_check(s->env, &dead);
	if (dead)
		log_msg(LOG_NOTICE, "store: cleared %d stale reader slot(s)", dead);

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) ||
		(rc = mdb_dbi_open(txn, "addr", MDB_CREATE, &s->addr)) ||
		(rc = mdb_dbi_open(txn, "addr_idx", MDB_CREATE, &s->addr_idx)) ||
		(rc = mdb_dbi_open(txn, "code", MDB_CREATE, &s->code)) ||
		(rc = mdb_dbi_open(txn, "rate", MDB_CREATE, &s->rate)) ||
		(rc = mdb_dbi_open(txn, "mailq", MDB_CREATE | MDB_INTEGERKEY, &s->mailq)) ||
		(rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta))) {
		mdb_txn_abort(txn);
		r = store_err(rc, "open databases");
		goto fail;
	}
	/* the index of mails to deliver: built once from the queue in a store that predates it */
	rc = mdb_dbi_open(txn, "mailq_due", MDB_INTEGERKEY, &s->mailq_due);
	if (rc == MDB_NOTFOUND &&
		!(rc = mdb_dbi_open(
			  txn, "mailq_due", MDB_CREATE | MDB_INTEGERKEY, &s->mailq_due)) &&
		(r = mailq_reindex(s, txn)) < 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if (rc) {
		mdb_txn_abort(txn);
		r = store_err(rc, "open databases");
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn))) {
		r = store_err(rc, "open databases");
		goto fail;
	}
	*out = s;
	return 0;
fail:
	store_close(s);
	return r;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->env)
		mdb_env_close(s->env);
	sodium_free(s->key);
	free(s);
}

/* The write transaction open in this process (LMDB allows one), during which every signal
 * waits, so that nothing but SIGKILL stops or ends us while others wait on the store's lock. */
static MDB_txn *writing;
static sigset_t writing_mask;

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
		sigprocmask(SIG_SETMASK, &writing_mask, NULL);
	}
}

int store_begin(struct store *s, bool write, MDB_txn **txn)
{
	int rc;

	if (write)
		signals_hold();
	rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, txn);
	if (write && rc == 0)
		writing = *txn;
	else if (write)
		sigprocmask(SIG_SETMASK, &writing_mask, NULL);
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

size_t store_used(struct store *s)
{
	MDB_envinfo info;
	MDB_stat st;

	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &st);
	return (info.me_last_pgno + 1) * (size_t)st.ms_psize;
}
