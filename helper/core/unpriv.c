/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "spawn.h"
#include "unpriv.h"

struct ids {
	uid_t uid;
	gid_t gid;
	pid_t parent;
};

/* In the child: the user's ids, no supplementary groups, no way back to root. */
static int become(void *ctx)
{
	const struct ids *id = ctx;

	signal(SIGPIPE, SIG_DFL);
	if (setgroups(0, NULL) < 0 || setresgid(id->gid, id->gid, id->gid) < 0 ||
		setresuid(id->uid, id->uid, id->uid) < 0 || setuid(0) == 0 || geteuid() == 0 ||
		getegid() == 0)
		return -1;
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	/* it ends with the helper (set after the uid change, which clears it; the helper may
	 * already be gone) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != id->parent)
		return -1;
	return 0;
}

int unpriv_ids(const struct unpriv_user *u, const char *what, uid_t *uid, gid_t *gid, char *why,
	size_t whylen)
{
	struct passwd pw, *pwr = NULL;
	char pbuf[4096];

	if (getpwnam_r(u->name, &pw, pbuf, sizeof(pbuf), &pwr) != 0 || !pwr) {
		snprintf(why, whylen, "%s %s does not exist: cannot start %s", u->role, u->name,
			what);
		return -ENOENT;
	}
	if (pw.pw_uid == 0 || pw.pw_gid == 0) {
		snprintf(why, whylen, "%s %s is root's uid or gid: refusing to start %s", u->role,
			u->name, what);
		return -EPERM;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

int unpriv_start(const struct unpriv_user *u, const char *path, const char *what, int *fd,
	pid_t *pid, char *why, size_t whylen)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char *const argv[] = {(char *)name, NULL};
	struct ids id = {.parent = getpid()};
	struct spawn sp = {path, argv, -1, false, become, &id};
	int sv[2];
	int r;

	if ((r = unpriv_ids(u, what, &id.uid, &id.gid, why, whylen)) < 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(why, whylen, "socketpair: %s", strerror(errno));
		return -errno;
	}
	sp.fd0 = sv[1];
	*pid = spawn(&sp);
	close(sv[1]);
	if (*pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror((int)-*pid));
		close(sv[0]);
		return -EAGAIN;
	}
	*fd = sv[0];
	return 0;
}
