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
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "config.h"
#include "util.h"

#define GROUPS_MAX 4096

static int shadow_find(const char *user, struct account *a)
{
	FILE *f = fopen(PWR_SHADOW_PATH, "re");
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
			a->shadow_line = strdup(line);
			if (!a->shadow_line)
				r = -ENOMEM;
			break;
		}
	}
	if (ferror(f))
		r = -EIO;
	if (line) {
		explicit_bzero(line, cap);
		free(line);
	}
	fclose(f);
	if (r == 0 && a->shadow_line) {
		/* field 8: account expiry in days; empty means never */
		const char *p = a->shadow_line;
		for (int i = 0; i < 7 && p; i++) {
			p = strchr(p, ':');
			if (p)
				p++;
		}
		if (p && *p && *p != ':') {
			char *end;
			long v = strtol(p, &end, 10);
			if (end != p && (*end == ':' || !*end))
				a->expire = v;
		}
	}
	return r;
}

int account_lookup(const char *user, struct account *a)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int r;

	memset(a, 0, sizeof(*a));
	a->expire = -1;
	/* no account can have such a name ('+' and '-' lines are NIS compat entries); do not
	 * even ask NSS */
	if (!*user || *user == '+' || *user == '-' || !util_text_ok(user) || strchr(user, ':'))
		return 0;
	r = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (r && r != ENOENT && r != ESRCH)
		return -r;
	if (!res)
		return 0;
	a->exists = true;
	a->uid = pw.pw_uid;
	a->gid = pw.pw_gid;
	explicit_bzero(buf, sizeof(buf));
	return shadow_find(user, a);
}

void account_clear(struct account *a)
{
	if (a->shadow_line) {
		explicit_bzero(a->shadow_line, strlen(a->shadow_line));
		free(a->shadow_line);
	}
	memset(a, 0, sizeof(*a));
}

bool account_in_groups(const char *user, gid_t gid, const struct conf_list *groups)
{
	gid_t *list;
	int n = GROUPS_MAX;
	bool found = false;

	if (groups->n == 0)
		return false;
	list = calloc(GROUPS_MAX, sizeof(gid_t));
	if (!list)
		return true; /* fail closed: an excluded account must not slip through */
	if (getgrouplist(user, gid, list, &n) < 0)
		n = GROUPS_MAX;
	for (int i = 0; i < n && !found; i++) {
		struct group gr, *res = NULL;
		char buf[8192];
		if (getgrgid_r(list[i], &gr, buf, sizeof(buf), &res) == 0 && res &&
			conf_list_has(groups, res->gr_name))
			found = true;
	}
	free(list);
	return found;
}

int account_local_each(uint32_t *pos, uid_t min_uid, uid_t max_uid, unsigned max,
	account_each_fn *fn, void *ctx, bool *more)
{
	FILE *f = fopen(PWR_PASSWD_PATH, "re");
	struct passwd *pw;
	unsigned done = 0;
	int r = 0;

	*more = false;
	if (!f)
		return -errno;
	if (fseek(f, (long)*pos, SEEK_SET) < 0) {
		fclose(f);
		return -EINVAL;
	}
	while ((pw = fgetpwent(f))) {
		if (pw->pw_uid < min_uid || pw->pw_uid > max_uid)
			goto next;
		if (done == max) {
			*more = true;
			break;
		}
		if ((r = fn(ctx, pw->pw_name)) < 0)
			break;
		done++;
	next:;
		long at = ftell(f);
		if (at < 0 || at > UINT32_MAX) {
			r = -EFBIG;
			break;
		}
		*pos = (uint32_t)at;
	}
	fclose(f);
	return r;
}

/* The tally directory: "dir = ..." in faillock.conf, else pam_faillock's default. */
static void faillock_dir(char *out, size_t n)
{
	FILE *f = fopen(PWR_FAILLOCK_CONF, "re");
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

int account_reset_tally(const char *user)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int fd, r = 0;

	if (!*user || strchr(user, '/') || !strcmp(user, ".") || !strcmp(user, ".."))
		return -EINVAL;
	faillock_dir(dir, sizeof(dir));
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

/* Run argv with an empty environment and wait for it; its output goes nowhere. */
static void run_quietly(char *const argv[])
{
	char *const envp[] = {NULL};
	pid_t pid;

	if (access(argv[0], X_OK) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		close_range(3, ~0U, 0);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

void account_flush_caches(void)
{
	struct stat st;

	if (stat("/var/run/nscd/socket", &st) == 0)
		run_quietly((char *const[]){"/usr/sbin/nscd", "-i", "passwd", NULL});
	if (stat("/var/lib/sss/mc/passwd", &st) == 0)
		run_quietly((char *const[]){"/usr/sbin/sss_cache", "-E", NULL});
}
