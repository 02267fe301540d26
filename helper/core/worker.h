/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PWRESET_WORKER_H
#define PWRESET_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "helper.h"

/* The daemon's fds a worker closes (-1 is skipped), and where it borrows and gives back
 * directory agents (agentpool.h). */
struct worker_env {
	const int *theirs;
	size_t n;
	int pool_sock; /* -1: no pool */
	uint32_t generation;
};

/* In the child the daemon just forked for peer p: close the daemon's fds, make the rest of the
 * daemon's state the worker's own, serve p until its conversation ends, and exit. */
void worker_run(struct helper *h, struct peer *p, const struct worker_env *env)
	__attribute__((noreturn));

/* What the daemon hands a spare worker with a connection's fd (SCM_RIGHTS): who is on it, and
 * the password dictionary as the daemon last looked at it. */
struct worker_handoff {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool ready;
	uint64_t ready_at;
	char unready[PWR_TEXT_MAX + 1];
};

/* A spare, in the child the daemon just forked ahead of need: like worker_run(), but it waits
 * on ctl for its connection first; exits when ctl closes without one. */
void worker_spare(struct helper *h, int ctl, const struct worker_env *env)
	__attribute__((noreturn));

#endif
