/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's side of its workers (worker.c is theirs): how many live and whose, the spare
 * forked ahead of need and handed each connection, the directory agents they borrow, and
 * their ends.
 * MUST: a connection's peer is known by the kernel (SO_PEERCRED) before any worker is given
 * it; one uid that is not root cannot take every place, nor the places kept for logins.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "fdpass.h"
#include "log.h"
#include "util.h"
#include "worker.h"
#include "workers.h"

#define WORKERS_PER_UID 8 /* a peer that is not root (a lock screen) needs one or two */
#define ROOT_RESERVE 128 /* of MAX_WORKERS, only for root's peers (login, sshd) */
#define STOP_WAIT_S 20 /* at SIGTERM: how long workers may take to finish their request */
/* the next spare is forked this long after the last was handed a connection, not while it
 * answers it (a small machine has 2 CPUs) */
#define SPARE_AFTER_MS 5
#define WORKER_FDS (5 + AGENT_POOL)

int workers_init(struct workers *ws, int lfd, int kick_r, int wfd)
{
	memset(ws, 0, sizeof(*ws));
	ws->spare_ctl = -1;
	ws->daemon_fd[0] = lfd;
	ws->daemon_fd[1] = kick_r;
	ws->daemon_fd[2] = wfd;
	return agentpool_open(&ws->pool);
}

bool workers_spare_due(const struct workers *ws, int *ms)
{
	uint64_t now = util_mono_ms();

	if (ws->spare)
		return false;
	if (now >= ws->spare_due)
		return true;
	if (ws->spare_due - now < (uint64_t)*ms)
		*ms = (int)(ws->spare_due - now);
	return false;
}

/* What a new worker closes and where it borrows agents: the daemon's own fds, the spare's
 * ctl, the pool's reading end and its agents. */
static struct worker_env env_of(const struct workers *ws, int *buf, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < 3 && n < cap; i++)
		buf[n++] = ws->daemon_fd[i];
	if (n < cap)
		buf[n++] = ws->spare_ctl;
	if (n < cap)
		buf[n++] = ws->pool.back[0];
	for (size_t i = 0; i < ws->pool.n && n < cap; i++)
		buf[n++] = ws->pool.fd[i];
	return (struct worker_env){buf, n, ws->pool.back[1], ws->pool.generation};
}

/* Whether a peer of uid may have one more worker: one uid cannot take every place, nor the
 * places kept for logins. NULL, or the refusal's name. */
static const char *worker_refusal(const struct workers *ws, uid_t uid)
{
	size_t mine = 0;

	if (ws->n >= MAX_WORKERS)
		return "too-many-peers";
	if (uid == 0)
		return NULL;
	for (size_t i = 0; i < ws->n; i++)
		mine += ws->w[i].uid == uid;
	if (mine >= WORKERS_PER_UID)
		return "too-many-connections";
	return ws->n >= MAX_WORKERS - ROOT_RESERVE ? "too-many-peers" : NULL;
}

/* fork() with SIGTERM and SIGINT blocked until the child has its own handlers (worker.c):
 * one that comes meanwhile waits for them. */
static pid_t fork_worker(void)
{
	sigset_t term, was;
	pid_t pid;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_BLOCK, &term, &was);
	pid = fork();
	if (pid != 0)
		sigprocmask(SIG_SETMASK, &was, NULL);
	return pid;
}

void workers_spare_start(struct helper *h, struct workers *ws)
{
	int sv[2], buf[WORKER_FDS];
	struct worker_env env;
	pid_t pid;

	if (ws->spare || ws->n >= MAX_WORKERS ||
		socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	env = env_of(ws, buf, WORKER_FDS);
	pid = fork_worker();
	if (pid == 0) {
		close(sv[0]);
		worker_spare(h, sv[1], &env);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return;
	}
	ws->spare = pid;
	ws->spare_ctl = sv[0];
}

void workers_spare_retire(struct workers *ws)
{
	if (!ws->spare)
		return;
	close(ws->spare_ctl);
	ws->w[ws->n++] = (struct worker){ws->spare, (uid_t)-1};
	ws->spare = 0;
	ws->spare_ctl = -1;
}

/* Hand fd, a connection of cred's, to the spare: 0, or -1 (the spare is gone: retired). */
static int spare_take(struct helper *h, struct workers *ws, int fd, const struct ucred *cred)
{
	struct worker_handoff ho = {cred->uid, cred->gid, cred->pid, h->ready, h->ready_at, ""};

	if (!ws->spare)
		return -1;
	util_copy(ho.unready, sizeof(ho.unready), h->unready);
	if (fdpass_send(ws->spare_ctl, &ho, sizeof(ho), fd) < 0) {
		workers_spare_retire(ws);
		return -1;
	}
	close(ws->spare_ctl);
	ws->w[ws->n++] = (struct worker){ws->spare, cred->uid};
	ws->spare = 0;
	ws->spare_ctl = -1;
	ws->spare_due = util_mono_ms() + SPARE_AFTER_MS;
	return 0;
}

int workers_accept(struct helper *h, int lfd, struct workers *ws)
{
	int buf[WORKER_FDS];
	struct worker_env env;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	const char *refusal;
	pid_t pid;

	if (fd < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_msg(LOG_WARNING, "cannot identify a peer: %s; dropping it", strerror(errno));
		close(fd);
		return 0;
	}
	/* closed unanswered: the module and pwresetctl then run the one-shot helper */
	if ((refusal = worker_refusal(ws, cred.uid))) {
		log_refusal(LOG_WARNING, (long)cred.uid, refusal, NULL);
		close(fd);
		return 0;
	}
	if (spare_take(h, ws, fd, &cred) == 0) {
		close(fd);
		return 0;
	}
	env = env_of(ws, buf, WORKER_FDS);
	pid = fork_worker();
	if (pid == 0) {
		struct peer p = {.fd = fd,
			.uid = cred.uid,
			.gid = cred.gid,
			.pid = cred.pid,
			.send_flags = MSG_DONTWAIT,
			.last_active = util_now()};
		worker_run(h, &p, &env);
	}
	if (pid < 0)
		log_msg(LOG_ERR, "cannot start a worker for uid %ld: %s; its peer is dropped",
			(long)cred.uid, strerror(errno));
	else
		ws->w[ws->n++] = (struct worker){pid, cred.uid};
	close(fd);
	return 0;
}

size_t workers_reap(struct workers *ws)
{
	size_t ended = 0;

	if (ws->spare && waitpid(ws->spare, NULL, WNOHANG) > 0) {
		log_msg(LOG_WARNING, "the spare worker (pid %ld) ended before it had a connection",
			(long)ws->spare);
		close(ws->spare_ctl);
		ws->spare = 0;
		ws->spare_ctl = -1;
	}
	for (size_t i = ws->n; i-- > 0;) {
		int status;
		pid_t r = waitpid(ws->w[i].pid, &status, WNOHANG);

		if (r == 0 || (r < 0 && errno == EINTR))
			continue;
		if (r > 0 && WIFSIGNALED(status))
			log_msg(LOG_WARNING,
				"the worker serving uid %ld (pid %ld) was ended by signal %d: its "
				"conversation is lost; serving on",
				(long)ws->w[i].uid, (long)ws->w[i].pid, WTERMSIG(status));
		else if (r > 0 && WEXITSTATUS(status) != 0)
			log_msg(LOG_WARNING, "the worker serving uid %ld (pid %ld) exited with %d",
				(long)ws->w[i].uid, (long)ws->w[i].pid, WEXITSTATUS(status));
		ws->w[i] = ws->w[--ws->n];
		ended++;
	}
	return ended;
}

void workers_stop(struct workers *ws, int kick_r)
{
	uint64_t until = util_now() + STOP_WAIT_S;
	char buf[64];

	workers_spare_retire(ws);
	for (size_t i = 0; i < ws->n; i++)
		kill(ws->w[i].pid, SIGTERM);
	while (ws->n > 0 && util_now() < until) {
		struct pollfd pfd = {.fd = kick_r, .events = POLLIN};
		if (poll(&pfd, 1, 100) > 0)
			while (read(kick_r, buf, sizeof(buf)) > 0)
				;
		workers_reap(ws);
	}
	if (ws->n > 0)
		log_msg(LOG_WARNING, "%zu worker(s) still busy after %d s; killing them", ws->n,
			STOP_WAIT_S);
	for (size_t i = 0; i < ws->n; i++)
		kill(ws->w[i].pid, SIGKILL);
	while (ws->n > 0)
		if (workers_reap(ws) == 0)
			usleep(10 * 1000);
}