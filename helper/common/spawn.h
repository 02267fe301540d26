/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Starting another program: the one-shot helper (from the module and pwresetctl), the mailer
 * and the cache flushers (from the helper). MUST: the program inherits nothing but what is
 * named here: an empty environment, fd 0 as given, fds 1 and 2 on /dev/null, every other fd
 * closed.
 */
#ifndef PWRESET_SPAWN_H
#define PWRESET_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

struct spawn {
	const char *path;
	char *const *argv;
	int fd0; /* becomes the program's fd 0; -1: /dev/null */
	/* started through a short-lived intermediate child that is reaped at once (only that
	 * pid, so the caller's own SIGCHLD handling is untouched): nobody waits for the program */
	bool detach;
	/* in the child, fds set, just before exec (dropping privileges): < 0 ends it, status 126 */
	int (*prepare)(void *ctx);
	void *ctx;
};

/* Start s->path. Its pid (0 when detached), or -errno. */
pid_t spawn(const struct spawn *s);

/* Run argv[0] with nothing in and wait for it; its output goes nowhere. Nothing happens when
 * it cannot be run. */
void spawn_quietly(char *const argv[]);

#endif
