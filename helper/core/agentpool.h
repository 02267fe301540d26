/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's idle directory agents (pwreset-directory), configured and usually bound, lent
 * to one worker at a time, so that a conversation about a directory account does not start
 * a program and make a TLS handshake of its own (agentpool.c). The workers give their agent
 * back when their conversation ends.
 */
#ifndef PWRESET_AGENTPOOL_H
#define PWRESET_AGENTPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AGENT_POOL 4

/* What a worker and the daemon say about agents. On the pool's socket: 'T' (a worker wants
 * one; attached, one end of a socketpair of its own, where the answer comes: 'Y' with the
 * agent's fd, or 'N'), or 'G' (a worker gives its agent back, the agent's fd attached). */
struct agent_msg {
	char op;
	pid_t worker;
	pid_t agent;
	uint32_t generation; /* of the configuration the agent was given */
};

struct agentpool {
	int fd[AGENT_POOL];
	pid_t pid[AGENT_POOL];
	uint64_t since[AGENT_POOL];
	size_t n;
	pid_t born[AGENT_POOL * 4]; /* the daemon's own agents alive, idle or lent: it reaps them */
	size_t nborn;
	uint32_t generation; /* goes up with each change of the configuration */
	int back[2]; /* [0]: the daemon reads; [1]: the workers write (inherited) */
};

/* The pool's socket: 0, or -errno. */
int agentpool_open(struct agentpool *a);
void agentpool_close(struct agentpool *a);

/* The configuration changed: the agents go, and those given back later are not kept. */
void agentpool_flush(struct agentpool *a);

/* Agents idle for a minute go (their directory connection with them). */
void agentpool_tick(struct agentpool *a, uint64_t now);

/* Serve what the workers said on the pool's socket. When one asked and none was idle, one is
 * started with spawn (it is told 'N' first, and starts its own: the next one borrows). Only
 * agents the daemon started are kept: a worker's own ends with it. */
void agentpool_read(
	struct agentpool *a, uint64_t now, int (*spawn)(void *ctx, int *fd, pid_t *pid), void *ctx);

/* Reap the daemon's agents that ended. */
void agentpool_reap(struct agentpool *a);

/* A worker's side: an agent of the pool on sock (0 with *fd and *pid), or < 0 when it has none
 * for this configuration's generation or does not answer in time. */
int agentpool_borrow(int sock, uint32_t generation, int *fd, pid_t *pid);

/* A worker's side: send m (with fd when >= 0) on the pool's socket: 0, or -errno. */
int agentpool_send(int sock, const struct agent_msg *m, int fd);

/* Receive one message, and the fd it carries (or -1): its length, or < 0. */
long agentpool_recv(int sock, struct agent_msg *m, int *fd);

#endif
