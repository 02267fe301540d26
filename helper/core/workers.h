/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PWRESET_WORKERS_H
#define PWRESET_WORKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agentpool.h"
#include "helper.h"

#define MAX_WORKERS 512

/* A live worker: whose conversation it serves. */
struct worker {
	pid_t pid;
	uid_t uid;
};

struct workers {
	struct worker w[MAX_WORKERS]; /* those serving a conversation, and spares retired */
	size_t n;
	pid_t spare; /* a worker forked ahead of need, waiting for its connection; 0: none */
	int spare_ctl; /* where it is handed over (SCM_RIGHTS); -1: none */
	uint64_t spare_due; /* CLOCK_MONOTONIC ms: when the next spare is forked */
	struct agentpool pool; /* directory agents, lent to workers */
	int daemon_fd[3]; /* the daemon's own fds, closed in each worker */
};

/* Empty; lfd, kick_r and wfd are the daemon's own fds, closed in every worker. 0, or -errno
 * (no agent pool: the workers start their own agents). */
int workers_init(struct workers *ws, int lfd, int kick_r, int wfd);

/* Accept one connection and hand it to the spare, or fork its worker: 0 when there was one
 * (served or refused), -EAGAIN when there was none. */
int workers_accept(struct helper *h, int lfd, struct workers *ws);

/* Whether a spare is due now; else *ms is lowered to when it is (if sooner). */
bool workers_spare_due(const struct workers *ws, int *ms);
/* Fork the spare. */
void workers_spare_start(struct helper *h, struct workers *ws);
/* The spare goes (its ctl closed, it exits), reaped as a worker: the configuration changed,
 * or the daemon stops. */
void workers_spare_retire(struct workers *ws);

/* Reap the workers that ended; one that died is said in the log (only its own conversation
 * ended). How many ended. */
size_t workers_reap(struct workers *ws);

/* At SIGTERM: each worker finishes its request in hand and ends; those still alive after
 * 20 s are killed. */
void workers_stop(struct workers *ws, int kick_r);

#endif
