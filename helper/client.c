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
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"

static int connect_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int spawn_helper(const char *path)
{
	int sv[2], status;
	pid_t child;

	if (access(path, X_OK) < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	child = fork();
	if (child < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	if (child == 0) {
		char *const argv[] = {(char *)path, NULL};
		char *const envp[] = {NULL};
		int null;
		pid_t helper = fork();

		if (helper != 0)
			_exit(helper < 0 ? 127 : 0); /* the intermediate: its job is done */
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || dup2(sv[1], 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		close_range(3, ~0U, 0);
		/* a privileged caller (login, sshd) runs the helper with real uid 0 as well */
		if (geteuid() == 0 && setuid(0) < 0)
			_exit(127);
		execve(path, argv, envp);
		_exit(127);
	}
	close(sv[1]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
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
