/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MUST: /etc/shadow is never written in place. The new content goes to a file made with
 * mkostemp beside it, written with write(2) and every result checked, fsync'ed, then renamed
 * over the old one, and the directory fsync'ed; both the lckpwdf() lock and shadow-utils'
 * shadow.lock are held throughout, so passwd, chpasswd, usermod, vipw and pam_unix stay out.
 * Every line but the target's is copied byte for byte; memory does not grow with the file.
 * Any failure leaves the file as it was and removes the temporary file.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <shadow.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "shadowfile.h"
#include "util.h"

#define LOCK_TRIES 150 /* 100 ms apart: 15 s, as lckpwdf() waits */

bool shadowfile_value_ok(const char *v)
{
	return util_text_ok(v) && !strchr(v, ':');
}

bool shadowfile_name_ok(const char *name)
{
	return *name && *name != '+' && *name != '-' && shadowfile_value_ok(name);
}

const char *shadowfile_strerror(int r)
{
	switch (r) {
	case -EBUSY:
		return "the shadow file is locked by another program (passwd, vipw, usermod...)";
	case -ENOENT:
		return "the user has no line in the shadow file";
	case -EINVAL:
		return "refused: the name or the new entry could corrupt the shadow file";
	case -ENOSPC:
		return "no space left on the device of the shadow file; nothing was changed";
	default:
		return strerror(-r);
	}
}

/* Offsets of field n (0-based) of line: its start and length. */
static int field(const char *line, int n, size_t *start, size_t *len)
{
	const char *p = line;

	for (int i = 0; i < n; i++) {
		p = strchr(p, ':');
		if (!p)
			return -EINVAL;
		p++;
	}
	*start = (size_t)(p - line);
	*len = strcspn(p, ":");
	return 0;
}

int shadowfile_field(const char *line, int n, char *out, size_t cap)
{
	size_t s, l;

	if (field(line, n, &s, &l) < 0 || l >= cap)
		return -EINVAL;
	memcpy(out, line + s, l);
	out[l] = '\0';
	return 0;
}

long shadowfile_expire(const char *line)
{
	size_t s, l;
	char *end;
	long v;

	if (field(line, 7, &s, &l) < 0 || l == 0)
		return -1;
	v = strtol(line + s, &end, 10);
	return end != line + s && (*end == ':' || !*end) ? v : -1;
}

int shadowfile_set_password(const char *old, const char *hash, long lastchg, char *out, size_t cap)
{
	size_t s1, l1, s2, l2;
	int n;

	if (!shadowfile_value_ok(hash) || field(old, 1, &s1, &l1) < 0 ||
		field(old, 2, &s2, &l2) < 0)
		return -EINVAL;
	/* name:HASH:LASTCHG:rest, the rest exactly as it was */
	n = snprintf(out, cap, "%.*s%s:%ld%s", (int)s1, old, hash, lastchg, old + s2 + l2);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int shadowfile_lock_password(const char *old, char *out, size_t cap)
{
	size_t s1, l1;
	int n;

	if (field(old, 1, &s1, &l1) < 0)
		return -EINVAL;
	if (old[s1] == '!')
		n = snprintf(out, cap, "%s", old);
	else
		n = snprintf(out, cap, "%.*s!%s", (int)s1, old, old + s1);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* shadow-utils' lock: a file holding our pid, link()ed to PATH.lock; a lock whose pid is gone
 * is stale and removed. */
static int lock_file(const char *path, char *lockpath, size_t cap)
{
	char tmp[PATH_MAX], pid[32];
	int fd, r = -EBUSY;

	if (snprintf(lockpath, cap, "%s.lock", path) >= (int)cap ||
		snprintf(tmp, sizeof(tmp), "%s.pwreset-lock.%ld", path, (long)getpid()) >=
			(int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	if (util_write_all(fd, pid, strlen(pid)) < 0 || close(fd) < 0) {
		unlink(tmp);
		return -EIO;
	}
	for (int i = 0; i < LOCK_TRIES; i++) {
		char held[32] = "";
		ssize_t n;

		if (link(tmp, lockpath) == 0) {
			r = 0;
			break;
		}
		if (errno != EEXIST) {
			r = -errno;
			break;
		}
		fd = open(lockpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			n = read(fd, held, sizeof(held) - 1);
			close(fd);
			if (n > 0) {
				long other = strtol(held, NULL, 10);
				if (other > 0 && kill((pid_t)other, 0) < 0 && errno == ESRCH) {
					unlink(lockpath); /* its owner died */
					continue;
				}
			}
		}
		nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
	}
	unlink(tmp);
	return r;
}

/* Whether name, in directory d, is a file this writer leaves behind when it is killed: a
 * regular file of root's, with one link, its name exactly of our pattern (a mkstemp suffix of
 * six letters and digits, or "restore"; a lock's pid file holding just that pid, or nothing
 * yet). Anything
 * else is not ours to remove, whatever its name. */
static bool ours(int dfd, const char *name, const char *rest)
{
	struct stat st;

	/* made by this process's user: root, but for the unit tests */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		st.st_uid != geteuid() || st.st_nlink != 1)
		return false;
	if (!strncmp(rest, ".pwreset.", 9)) {
		const char *x = rest + 9;
		if (!strcmp(x, "restore"))
			return true;
		if (strlen(x) != 6)
			return false;
		for (; *x; x++)
			if (!isalnum((unsigned char)*x))
				return false;
		return true;
	}
	if (!strncmp(rest, ".pwreset-lock.", 14)) {
		char held[32] = "";
		int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
		ssize_t n = fd >= 0 ? read(fd, held, sizeof(held) - 1) : -1;
		if (fd >= 0)
			close(fd);
		/* empty when its writer was killed before it wrote its pid */
		return n >= 0 && st.st_size == n && (n == 0 || !strcmp(held, rest + 14));
	}
	return false;
}

/* With both locks held, remove what a writer killed half-way left in dir: its new files
 * (BASE.pwreset.XXXXXX, BASE.pwreset.restore), which only a lock holder makes, and the pid
 * files of lockers that are gone (BASE.pwreset-lock.PID). */
static void sweep_leftovers(const char *dir, const char *base)
{
	size_t blen = strlen(base);
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		const char *rest = e->d_name + blen;
		char *end;
		long pid;

		if (strncmp(e->d_name, base, blen) != 0 || !ours(dirfd(d), e->d_name, rest))
			continue;
		if (!strncmp(rest, ".pwreset.", 9)) {
			unlinkat(dirfd(d), e->d_name, 0);
		} else {
			errno = 0;
			pid = strtol(rest + 14, &end, 10);
			if (!errno && *end == '\0' && pid > 0 && pid != (long)getpid() &&
				kill((pid_t)pid, 0) < 0 && errno == ESRCH)
				unlinkat(dirfd(d), e->d_name, 0);
		}
	}
	closedir(d);
}

/* The old file's extended attributes onto the new one, as shadow-utils keeps them: its
 * SELinux label (security.selinux), its ACLs (system.posix_acl_*) and any other. A file system
 * without them is fine; any other failure leaves the file as it was. */
static int copy_xattrs(int from, int to)
{
	char names[4096], value[4096];
	ssize_t len = flistxattr(from, names, sizeof(names));

	if (len < 0)
		return errno == ENOTSUP ? 0 : -errno;
	for (char *n = names; n < names + len; n += strlen(n) + 1) {
		ssize_t v = fgetxattr(from, n, value, sizeof(value));
		if (v < 0 && errno == ENODATA)
			continue; /* removed meanwhile */
		if (v < 0)
			return -errno;
		if (fsetxattr(to, n, value, (size_t)v, 0) < 0)
			return -errno;
	}
	return 0;
}

/* A write buffer over write(2), so every failure is seen where it happens. */
struct out {
	int fd;
	int err;
	size_t n;
	char buf[64 * 1024];
};

static void out_flush(struct out *o)
{
	if (!o->err && o->n)
		o->err = util_write_all(o->fd, o->buf, o->n);
	o->n = 0;
}

static void out_put(struct out *o, const char *p, size_t len)
{
	while (len && !o->err) {
		size_t room = sizeof(o->buf) - o->n, k = len < room ? len : room;
		memcpy(o->buf + o->n, p, k);
		o->n += k;
		p += k;
		len -= k;
		if (o->n == sizeof(o->buf))
			out_flush(o);
	}
}

/* Copy src to o, editing user's first line. 0, -ENOENT, or an error. */
static int copy_edited(FILE *src, struct out *o, const char *user, shadow_edit_fn *edit, void *ctx)
{
	size_t ulen = strlen(user), cap = 0;
	char *line = NULL, *new_line = NULL;
	bool done = false;
	ssize_t n;
	int r = 0;

	while (!o->err && (n = getline(&line, &cap, src)) > 0) {
		bool nl = line[n - 1] == '\n';
		size_t len = (size_t)n - (nl ? 1 : 0);

		if (!done && len > ulen && !memcmp(line, user, ulen) && line[ulen] == ':') {
			if (len >= SHADOW_LINE_MAX) {
				r = -EINVAL;
				break;
			}
			line[len] = '\0';
			new_line = calloc(1, SHADOW_LINE_MAX);
			if (!new_line) {
				r = -ENOMEM;
				break;
			}
			r = edit(ctx, line, new_line, SHADOW_LINE_MAX);
			/* the edit may only change fields of this user, never add a line */
			if (r == 0 && (strncmp(new_line, user, ulen) != 0 ||
					      new_line[ulen] != ':' || !util_text_ok(new_line)))
				r = -EINVAL;
			if (r < 0)
				break;
			out_put(o, new_line, strlen(new_line));
			if (nl)
				out_put(o, "\n", 1);
			done = true;
			continue;
		}
		out_put(o, line, (size_t)n);
	}
	if (!r && ferror(src))
		r = -EIO;
	if (!r && !done)
		r = -ENOENT;
	util_free_wiped(line, cap);
	util_free_wiped(new_line, SHADOW_LINE_MAX);
	return r;
}

/* Put the old file (kept as backup) back at path, by a rename of a second link to it. */
static void restore(const char *path, const char *backup, char *tmp, size_t cap)
{
	snprintf(tmp, cap, "%s.pwreset.restore", path);
	unlink(tmp);
	if (link(backup, tmp) == 0 && rename(tmp, path) < 0)
		unlink(tmp);
}

static int update_held(const char *path, const char *user, shadow_edit_fn *edit, void *ctx);

/* Every signal waits while the locks are held and the file rewritten (lckpwdf unblocks the
 * SIGALRM it times out with by itself): nothing stops or ends us half-way but SIGKILL. */
int shadowfile_update(const char *path, const char *user, shadow_edit_fn *edit, void *ctx)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	r = update_held(path, user, edit, ctx);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* Write the edited copy of path into the new file tmp (made from its template) with path's
 * owner, mode and extended attributes, and sync it. On failure tmp may remain: the caller
 * removes it when *made. */
static int write_copy(
	const char *path, char *tmp, bool *made, const char *user, shadow_edit_fn *edit, void *ctx)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY), r;
	struct out *o = NULL;
	FILE *src = NULL;
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (!(src = fdopen(fd, "re"))) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!(o = malloc(sizeof(*o)))) {
		r = -ENOMEM;
		goto out;
	}
	*o = (struct out){.fd = mkostemp(tmp, O_CLOEXEC)};
	if (o->fd < 0) {
		r = -errno;
		goto out;
	}
	*made = true;
	if (fchown(o->fd, st.st_uid, st.st_gid) < 0 || fchmod(o->fd, st.st_mode & 07777) < 0)
		r = -errno;
	else if ((r = copy_xattrs(fileno(src), o->fd)) == 0 &&
		 (r = copy_edited(src, o, user, edit, ctx)) == 0) {
		out_flush(o);
		if ((r = o->err) == 0 && fsync(o->fd) < 0)
			r = -errno;
	}
	if (close(o->fd) < 0 && r == 0)
		r = -errno;
out:
	util_free_wiped(o, sizeof(*o));
	fclose(src);
	return r;
}

/* Put tmp in place of path, the old file kept as backup (the same inode, so nothing is
 * copied), and sync the directory; if that sync fails the old file is put back. */
static int swap_in(
	const char *path, const char *tmp, const char *backup, const char *dir, bool *made)
{
	char spare[PATH_MAX];
	int dfd, r = 0;

	if ((unlink(backup) < 0 && errno != ENOENT) || link(path, backup) < 0)
		return -errno;
	if (rename(tmp, path) < 0)
		return -errno;
	*made = false;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		/* the rename may not survive a crash: put the old file back, report the failure */
		r = -errno;
		restore(path, backup, spare, sizeof(spare));
	}
	if (dfd >= 0)
		close(dfd);
	return r;
}

static int update_held(const char *path, const char *user, shadow_edit_fn *edit, void *ctx)
{
	char lockpath[PATH_MAX], tmp[PATH_MAX], backup[PATH_MAX], dir[PATH_MAX];
	bool system_file = strcmp(path, PWR_SHADOW_PATH) == 0, made = false;
	char *slash;
	int r;

	if (!shadowfile_name_ok(user))
		return -EINVAL;
	if (snprintf(tmp, sizeof(tmp), "%s.pwreset.XXXXXX", path) >= (int)sizeof(tmp) ||
		snprintf(backup, sizeof(backup), "%s-", path) >= (int)sizeof(backup) ||
		util_copy(dir, sizeof(dir), path) < 0)
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash)
		return -EINVAL;
	slash[slash == dir ? 1 : 0] = '\0';

	if (system_file && lckpwdf() < 0)
		return -EBUSY;
	if ((r = lock_file(path, lockpath, sizeof(lockpath))) == 0) {
		sweep_leftovers(dir, strrchr(path, '/') + 1);
		if ((r = write_copy(path, tmp, &made, user, edit, ctx)) == 0)
			r = swap_in(path, tmp, backup, dir, &made);
		if (made)
			unlink(tmp);
		unlink(lockpath);
	}
	if (system_file)
		ulckpwdf();
	return r;
}
