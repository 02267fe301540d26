/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"

static void wait_for(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* In the child: set the fds, prepare, exec. Never returns. */
static void child(const struct spawn *s)
{
	char *const envp[] = {NULL};
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0 || dup2(s->fd0 >= 0 ? s->fd0 : null, 0) < 0 || dup2(null, 1) < 0 ||
		dup2(null, 2) < 0)
		_exit(127);
	close_range(3, ~0U, 0);
	if (s->prepare && s->prepare(s->ctx) < 0)
		_exit(126);
	execve(s->path, s->argv, envp);
	_exit(127);
}

pid_t spawn(const struct spawn *s)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid > 0) {
		if (s->detach)
			wait_for(pid); /* the intermediate, which leaves at once */
		return s->detach ? 0 : pid;
	}
	if (s->detach) {
		pid_t program = fork();
		if (program != 0)
			_exit(program < 0 ? 127 : 0);
	}
	child(s);
	return -1; /* not reached */
}

void spawn_quietly(char *const argv[])
{
	struct spawn s = {.path = argv[0], .argv = argv, .fd0 = -1};
	pid_t pid;

	if (access(argv[0], X_OK) < 0)
		return;
	if ((pid = spawn(&s)) > 0)
		wait_for(pid);
}
