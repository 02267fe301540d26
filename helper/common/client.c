/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MUST: the one-shot helper inherits nothing from the host program but its end of the
 * socketpair: an empty environment, fds 1 and 2 on /dev/null, every other fd closed. It is
 * started through a short-lived intermediate child that this file reaps at once (only that
 * pid, so the host program's own SIGCHLD handling is untouched): the helper may go on
 * delivering mail after the conversation, and nobody waits for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "spawn.h"

static int connect_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, fl;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* not blocking while connecting: a daemon that stopped taking connections fills its
	 * backlog, and a blocking connect would then wait for it for ever (-EAGAIN instead) */
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || (fl = fcntl(fd, F_GETFL)) < 0 ||
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* A privileged caller (login, sshd) runs the helper with real uid 0 as well. */
static int as_root(void *ctx)
{
	(void)ctx;
	return geteuid() == 0 && setuid(0) < 0 ? -1 : 0;
}

static int spawn_helper(const char *path)
{
	char uid[16], *argv[] = {(char *)path, NULL, NULL, NULL};
	struct spawn s = {.path = path, .argv = argv, .detach = true, .prepare = as_root};
	int sv[2];
	pid_t r;

	/* in a program setuid root for a user (su, sudo): the helper counts that user's helpers
	 * and keeps nothing of that user's scheduling */
	if (geteuid() == 0 && getuid() != 0) {
		snprintf(uid, sizeof(uid), "%lu", (unsigned long)getuid());
		argv[1] = "--for-uid";
		argv[2] = uid;
	}
	if (access(path, X_OK) < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	s.fd0 = sv[1];
	r = spawn(&s);
	close(sv[1]);
	if (r < 0) {
		close(sv[0]);
		return (int)r;
	}
	return sv[0];
}

int client_open(struct pwr_client *c, const char *socket_path, const char *helper_path)
{
	int fd = -ENOENT;

	c->fd = -1;
	c->via_socket = false;
	if (socket_path && *socket_path)
		fd = connect_socket(socket_path);
	c->via_socket = fd >= 0;
	if (fd < 0 && helper_path && *helper_path)
		fd = spawn_helper(helper_path);
	if (fd < 0)
		return fd;
	c->fd = fd;
	return 0;
}

int client_fallback(struct pwr_client *c, const char *helper_path, int err)
{
	if (!c->via_socket || (err != -ECONNRESET && err != -EPIPE) || !helper_path ||
		!*helper_path)
		return err;
	client_close(c);
	return client_open(c, NULL, helper_path);
}

void client_close(struct pwr_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
