/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one-shot helper out of reach of a user's freezer (SPEC §2). systemd hands each user their
 * own cgroups (user@UID.service, Delegate=yes): a process there can be moved by that user into
 * a cgroup of theirs and frozen, signal blocking or not, and a helper frozen while it holds the
 * store's or the shadow file's lock would hold every other reset with it. So before it takes
 * either, a one-shot helper that finds itself in a cgroup a user controls moves itself into
 * root's own, CGROUP_OWN, at the top of the hierarchy: a user can neither freeze that one nor
 * move a process out of it (that takes the root cgroup's cgroup.procs).
 * MUST: where the helper cannot leave such a cgroup it refuses to work, and says why.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup.h"

#define CGROUP2_MAGIC 0x63677270
#define CGROUP_OWN "pwreset-oneshot"

/* Where cgroup v2 is mounted ("" when it is not), or v1's freezer. */
static const char *mount_of(bool v2)
{
	static const char *const v2_at[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
	struct statfs fs;

	if (!v2)
		return access("/sys/fs/cgroup/freezer/cgroup.procs", F_OK) == 0
			       ? "/sys/fs/cgroup/freezer"
			       : "";
	for (size_t i = 0; i < sizeof(v2_at) / sizeof(v2_at[0]); i++)
		if (statfs(v2_at[i], &fs) == 0 && fs.f_type == CGROUP2_MAGIC)
			return v2_at[i];
	return "";
}

/* This process's cgroup in the v2 hierarchy (v2) or v1's freezer into out: 0, or -ENOENT. */
static int own_path(bool v2, char *out, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (r < 0 && fgets(line, sizeof(line), f)) {
		char *ctl = strchr(line, ':'), *path = ctl ? strchr(ctl + 1, ':') : NULL;

		if (!path)
			continue;
		*ctl = '\0';
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		if ((v2 && !strcmp(line, "0") && !strcmp(ctl + 1, "")) ||
			(!v2 && !strcmp(ctl + 1, "freezer")))
			r = snprintf(out, len, "%s", path) < (int)len ? 0 : -ENAMETOOLONG;
	}
	fclose(f);
	return r;
}

/* Whether a user who is not root may write path (its owner, or its mode). */
static bool users_may_write(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && (st.st_uid != 0 || (st.st_mode & 022));
}

/* Whether a user controls the cgroup at dir (its folder, its processes or its freezer) or one
 * above it, up to the mount point mnt (root's, always). */
static bool users_control(const char *mnt, char *dir)
{
	static const char *const files[] = {
		"", "/cgroup.procs", "/cgroup.freeze", "/freezer.state", "/cgroup.subtree_control"};
	size_t top = strlen(mnt);
	char path[4200];

	while (strlen(dir) > top) {
		char *slash;

		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s%s", dir, files[i]);
			if (users_may_write(path))
				return true;
		}
		slash = strrchr(dir, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	return false;
}

/* Move this process into root's own cgroup under mnt: 0, or -errno. */
static int move_out(const char *mnt)
{
	char dir[256], procs[300];
	struct stat st;
	int fd, r = 0;

	snprintf(dir, sizeof(dir), "%s/%s", mnt, CGROUP_OWN);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* made by root, as it must stay: anything else there is not a safe place */
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) ||
		users_may_write(procs))
		return -EPERM;
	fd = open(procs, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (write(fd, "0", 1) != 1) /* "0": the writer itself */
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* One hierarchy: 0 when no user controls this process's cgroup there (any more), or -errno. */
static int leave(bool v2, char *why, size_t len)
{
	const char *mnt = mount_of(v2), *what = v2 ? "cgroup" : "freezer cgroup";
	char own[4096], dir[4200];
	int r;

	if (!*mnt || own_path(v2, own, sizeof(own)) < 0)
		return 0; /* not mounted, or not in it: nobody's freezer reaches us there */
	snprintf(dir, sizeof(dir), "%s%s", mnt, strcmp(own, "/") ? own : "");
	if (!users_control(mnt, dir))
		return 0;
	if ((r = move_out(mnt)) < 0) {
		snprintf(why, len,
			"this process is in the %s %s, which a user who is not root controls, and "
			"cannot move to %s/%s: %s",
			what, own, mnt, CGROUP_OWN, strerror(-r));
		return r;
	}
	snprintf(dir, sizeof(dir), "%s/%s", mnt, CGROUP_OWN);
	if (own_path(v2, own, sizeof(own)) < 0 || strcmp(own, "/" CGROUP_OWN) != 0 ||
		users_control(mnt, dir)) {
		snprintf(why, len, "this process is still in the user's %s %s after the move", what,
			own);
		return -EPERM;
	}
	return 0;
}

int cgroup_leave_users(char *why, size_t len)
{
	int r = leave(true, why, len);

	return r < 0 ? r : leave(false, why, len);
}
