/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "log.h"
#include "shadowfile.h"
#include "spawn.h"
#include "util.h"

#define GROUPS_MAX 4096

/* The account's line in the shadow file (without its newline) into a->binding, its hash into
 * a->hash; none when it has no line. */
static int shadow_find(const char *path, const char *user, struct account *a)
{
	FILE *f = fopen(path, "re");
	size_t ulen = strlen(user), cap = 0;
	char *line = NULL;
	ssize_t n;
	int r = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while ((n = getline(&line, &cap, f)) > 0) {
		if ((size_t)n > ulen && strncmp(line, user, ulen) == 0 && line[ulen] == ':') {
			if (line[n - 1] == '\n')
				line[n - 1] = '\0';
			a->binding = strdup(line);
			if (!a->binding)
				r = -ENOMEM;
			break;
		}
	}
	if (ferror(f))
		r = -EIO;
	util_free_wiped(line, cap);
	fclose(f);
	if (r == 0 && a->binding) {
		size_t len = strlen(a->binding);
		a->local = true;
		a->expire = shadowfile_expire(a->binding);
		if (!(a->hash = malloc(len + 1)) ||
			shadowfile_field(a->binding, 1, a->hash, len + 1) < 0)
			r = a->hash ? -EINVAL : -ENOMEM;
	}
	return r;
}

static int local_lookup(const struct account_db *db, const char *user, struct account *a)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int r;

	memset(a, 0, sizeof(*a));
	a->expire = -1;
	util_copy(a->name, sizeof(a->name), user); /* as asked, until NSS says otherwise */
	/* no account can have such a name ('+' and '-' lines are NIS compat entries); do not
	 * even ask NSS */
	if (!*user || *user == '+' || *user == '-' || !util_text_ok(user) || strchr(user, ':'))
		return 0;
	r = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (r && r != ENOENT && r != ESRCH)
		return -r;
	if (!res)
		return 0;
	if (util_copy(a->name, sizeof(a->name), pw.pw_name) < 0) {
		explicit_bzero(buf, sizeof(buf));
		return 0; /* a name no request can carry is no account of ours */
	}
	a->exists = true;
	a->uid = pw.pw_uid;
	a->gid = pw.pw_gid;
	explicit_bzero(buf, sizeof(buf));
	return shadow_find(db->shadow, a->name, a);
}

void account_clear(struct account *a)
{
	util_free_wiped(a->hash, a->hash ? strlen(a->hash) : 0);
	util_free_wiped(a->binding, a->binding ? strlen(a->binding) : 0);
	free(a->dn);
	free(a->address);
	memset(a, 0, sizeof(*a));
}

/* 1 when user (primary group gid) is in a group named in groups, 0 when not, -1 when that
 * cannot be told. */
static int groups_match(const char *user, gid_t gid, const struct conf_list *groups)
{
	gid_t *list;
	int n = GROUPS_MAX, found = 0;

	if (groups->n == 0)
		return 0;
	list = calloc(GROUPS_MAX, sizeof(gid_t));
	if (!list)
		return -1;
	if (getgrouplist(user, gid, list, &n) < 0)
		n = GROUPS_MAX;
	for (int i = 0; i < n && !found; i++) {
		struct group gr, *res = NULL;
		char buf[8192];
		if (getgrgid_r(list[i], &gr, buf, sizeof(buf), &res) == 0 && res &&
			conf_list_has(groups, res->gr_name))
			found = 1;
	}
	free(list);
	return found;
}

bool account_in_groups(const struct account *a, const struct conf_list *groups)
{
	/* an excluded account must not slip through */
	return groups_match(a->name, a->gid, groups) != 0;
}

bool account_uid_in_group(uid_t uid, const char *group)
{
	char *one[] = {(char *)group, NULL}, pbuf[4096], gbuf[8192];
	struct conf_list l = {one, 1};
	struct passwd pw, *pwr = NULL;
	struct group gr, *grr = NULL;

	if (getgrnam_r(group, &gr, gbuf, sizeof(gbuf), &grr) || !grr) {
		log_msg(LOG_WARNING, "group '%s' does not exist", group);
		return false;
	}
	if (getpwuid_r(uid, &pw, pbuf, sizeof(pbuf), &pwr) || !pwr)
		return false;
	return groups_match(pw.pw_name, pw.pw_gid, &l) == 1;
}

/* The tally directory: "dir = ..." in faillock.conf, else pam_faillock's default. */
static void faillock_dir(const char *conf, char *out, size_t n)
{
	FILE *f = fopen(conf, "re");
	char line[512];

	snprintf(out, n, "%s", "/var/run/faillock");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *v;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "dir", 3) != 0)
			continue;
		v = p + 3;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != '=')
			continue;
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		v[strcspn(v, " \t\r\n")] = '\0';
		if (*v == '/')
			snprintf(out, n, "%s", v);
	}
	fclose(f);
}

int account_clear_lockout(const struct account_db *db, const struct account *a)
{
	const char *user = a->name;
	char dir[PATH_MAX], path[PATH_MAX];
	int fd, r = 0;

	if (!a->local)
		return 0;
	if (!*user || strchr(user, '/') || !strcmp(user, ".") || !strcmp(user, ".."))
		return -EINVAL;
	faillock_dir(db->faillock_conf, dir, sizeof(dir));
	if (snprintf(path, sizeof(path), "%s/%s", dir, user) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* pam_faillock and faillock(8) hold a write lock on the tally while they use it. The file
	 * may belong to the user (pam_faillock chowns it for screen lockers), so the wait is
	 * bounded: two seconds, then the reset reports EAGAIN instead of stalling the helper. */
	for (int i = 0;; i++) {
		if (fcntl(fd, F_SETLK, &(struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET}) ==
			0)
			break;
		if ((errno != EAGAIN && errno != EACCES) || i == 40) {
			r = errno == EACCES ? -EAGAIN : -errno;
			break;
		}
		nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
	}
	if (r == 0 && ftruncate(fd, 0) < 0)
		r = -errno;
	close(fd);
	return r;
}

void account_flush(const struct account_db *db)
{
	struct stat st;

	(void)db;
	if (stat("/var/run/nscd/socket", &st) == 0)
		spawn_quietly((char *const[]){"/usr/sbin/nscd", "-i", "passwd", NULL});
	if (stat("/var/lib/sss/mc/passwd", &st) == 0)
		spawn_quietly((char *const[]){"/usr/sbin/sss_cache", "-E", NULL});
}

/* The edit of shadowfile_update: the new line made by the change, then the guard asked. */
struct edit {
	const char *hash; /* NULL: lock */
	account_guard_fn *guard;
	void *ctx;
};

static int edit_line(void *vctx, const char *old, char *new_line, size_t cap)
{
	struct edit *e = vctx;
	int r = e->hash ? shadowfile_set_password(
				  old, e->hash, (long)(util_now() / 86400), new_line, cap)
			: shadowfile_lock_password(old, new_line, cap);

	return r < 0 ? r : e->guard(e->ctx, old, new_line);
}

/* r, with what it means for the log and an administrator in why. */
static int local_failed(int r, char *why)
{
	if (r < 0)
		snprintf(why, ACCOUNT_WHY_MAX, "%s", shadowfile_strerror(r));
	return r;
}

static int local_set_password(const struct account_db *db, const struct account *a,
	struct new_password *np, account_guard_fn *guard, void *ctx, char *why)
{
	struct edit e = {np->hash, guard, ctx};

	np->refused = false;
	return local_failed(shadowfile_update(db->shadow, a->name, edit_line, &e), why);
}

static int local_lock(const struct account_db *db, const struct account *a, account_guard_fn *guard,
	void *ctx, enum account_locked *locked, char *why)
{
	struct edit e = {NULL, guard, ctx};

	*locked = ACCOUNT_LOCKED;
	return local_failed(shadowfile_update(db->shadow, a->name, edit_line, &e), why);
}

/* Local accounts' addresses are the store's: the handlers count those. */
static int local_sharers(
	const struct account_db *db, const struct account *a, char *out, size_t outlen)
{
	(void)db;
	(void)a;
	if (outlen)
		*out = '\0';
	return 0;
}

const struct account_ops account_local_ops = {
	.lookup = local_lookup,
	.set_password = local_set_password,
	.lock = local_lock,
	.sharers = local_sharers,
};

void account_db_local(
	struct account_db *db, const char *shadow, const char *passwd, const char *faillock_conf)
{
	*db = (struct account_db){&account_local_ops, shadow, passwd, faillock_conf, NULL};
}
