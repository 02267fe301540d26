/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MUST: an agent is lent to one worker at a time (it is taken out of the pool when lent); one
 * configured before the configuration changed is never lent again; the daemon waits on an
 * agent only to start one for the pool (its configuration's answer), after it has answered
 * the worker that asked, and otherwise only passes fds around.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentpool.h"
#include "fdpass.h"

#define AGENT_IDLE_S 60
#define BORROW_WAIT_MS 500 /* the daemon answers at once, unless it is busy forking */

int agentpool_open(struct agentpool *a)
{
	memset(a, 0, sizeof(*a));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, a->back) < 0) {
		a->back[0] = a->back[1] = -1;
		return -errno;
	}
	return 0;
}

/* Close agent i (it exits when its socket closes). */
static void drop(struct agentpool *a, size_t i)
{
	close(a->fd[i]);
	a->n--;
	a->fd[i] = a->fd[a->n];
	a->pid[i] = a->pid[a->n];
	a->since[i] = a->since[a->n];
}

void agentpool_flush(struct agentpool *a)
{
	while (a->n > 0)
		drop(a, a->n - 1);
	a->generation++;
}

void agentpool_close(struct agentpool *a)
{
	agentpool_flush(a);
	for (int i = 0; i < 2; i++)
		if (a->back[i] >= 0)
			close(a->back[i]);
	a->back[0] = a->back[1] = -1;
	/* with every socket of theirs closed (the workers have ended), they exit */
	for (int i = 0; i < 200 && a->nborn > 0; i++) {
		agentpool_reap(a);
		if (a->nborn > 0)
			usleep(10 * 1000);
	}
	for (size_t i = 0; i < a->nborn; i++) {
		kill(a->born[i], SIGKILL);
		waitpid(a->born[i], NULL, 0);
	}
	a->nborn = 0;
}

void agentpool_tick(struct agentpool *a, uint64_t now)
{
	for (size_t i = a->n; i-- > 0;)
		if (now >= a->since[i] + AGENT_IDLE_S)
			drop(a, i);
}

int agentpool_send(int sock, const struct agent_msg *m, int fd)
{
	return fdpass_send(sock, m, sizeof(*m), fd);
}

long agentpool_recv(int sock, struct agent_msg *m, int *fd)
{
	return fdpass_recv(sock, m, sizeof(*m), fd, MSG_DONTWAIT);
}

/* Whether pid is one of the daemon's own agents. */
static bool born_here(const struct agentpool *a, pid_t pid)
{
	for (size_t i = 0; i < a->nborn; i++)
		if (a->born[i] == pid)
			return true;
	return false;
}

void agentpool_reap(struct agentpool *a)
{
	for (size_t i = a->nborn; i-- > 0;)
		if (waitpid(a->born[i], NULL, WNOHANG) != 0)
			a->born[i] = a->born[--a->nborn];
}

/* One more idle agent, started now (a worker asked and found none). */
static void grow(
	struct agentpool *a, uint64_t now, int (*spawn)(void *ctx, int *fd, pid_t *pid), void *ctx)
{
	int fd;
	pid_t pid;

	if (!spawn || a->n >= AGENT_POOL || a->nborn >= sizeof(a->born) / sizeof(a->born[0]) ||
		spawn(ctx, &fd, &pid) < 0)
		return;
	a->born[a->nborn++] = pid;
	a->fd[a->n] = fd;
	a->pid[a->n] = pid;
	a->since[a->n++] = now;
}

void agentpool_read(
	struct agentpool *a, uint64_t now, int (*spawn)(void *ctx, int *fd, pid_t *pid), void *ctx)
{
	bool wanted = false;
	struct agent_msg m;
	int fd;

	for (int i = 0; i < 64 && agentpool_recv(a->back[0], &m, &fd) == (long)sizeof(m); i++) {
		if (m.op == 'G' && fd >= 0 && m.generation == a->generation && a->n < AGENT_POOL &&
			born_here(a, m.agent)) {
			a->fd[a->n] = fd;
			a->pid[a->n] = m.agent;
			a->since[a->n++] = now;
		} else if (m.op == 'T' && fd >= 0) {
			struct agent_msg r = {.op = 'N', .generation = a->generation};

			if (a->n > 0 && m.generation == a->generation) {
				r = (struct agent_msg){
					'Y', m.worker, a->pid[a->n - 1], a->generation};
				if (agentpool_send(fd, &r, a->fd[a->n - 1]) == 0)
					drop(a, a->n - 1); /* lent: the worker has it now */
			} else {
				agentpool_send(fd, &r, -1);
				wanted = m.generation == a->generation;
			}
			close(fd);
		} else if (fd >= 0) {
			close(fd); /* an agent not to keep: it exits once its socket is closed */
		}
	}
	if (wanted) /* after the answers: the one who asked does not wait for this */
		grow(a, now, spawn, ctx);
}

int agentpool_borrow(int sock, uint32_t generation, int *fd, pid_t *pid)
{
	struct agent_msg m = {'T', getpid(), 0, generation}, r;
	struct pollfd pfd = {.events = POLLIN};
	int sv[2], got;

	*fd = -1;
	if (sock < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -ENOENT;
	got = agentpool_send(sock, &m, sv[1]);
	close(sv[1]);
	pfd.fd = sv[0];
	if (got == 0 && poll(&pfd, 1, BORROW_WAIT_MS) == 1 &&
		agentpool_recv(sv[0], &r, fd) == (long)sizeof(r) && r.op == 'Y' && *fd >= 0) {
		*pid = r.agent;
		close(sv[0]);
		return 0;
	}
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	close(sv[0]);
	return -ENOENT;
}
