/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker: one connection of the daemon, served by a process of its own (SPEC §2, no one waits
 * behind anyone). The daemon forks it after accept(). It waits only for what its own requests
 * need: its directory calls, its turn at the shadow file's and the store's locks. It ends with
 * its conversation, and a worker that dies ends nothing else.
 * MUST: nothing of the daemon's is used across the fork but its memory. The store is opened
 * again (LMDB's handles are not to be used across fork), the mailer's socket, the listening
 * socket and the daemon's own fds are closed, and a directory agent is borrowed from the
 * daemon's pool for the conversation (or started by the worker when the pool has none).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "agentpool.h"
#include "courier.h"
#include "dirlink.h"
#include "fdpass.h"
#include "log.h"
#include "route.h"
#include "util.h"
#include "worker.h"

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1; /* the request in hand is finished, then the worker ends */
}

/* The daemon's signals are not the worker's: SIGTERM ends it after the request in hand, a
 * SIGHUP is the daemon's to act on, and the worker's own children (a directory agent) are
 * waited for by name. The daemon forked it with SIGTERM and SIGINT blocked: one that came
 * meanwhile is taken by this handler once they are unblocked. */
static void signals_own(void)
{
	struct sigaction sa = {.sa_handler = on_term};
	sigset_t term;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_UNBLOCK, &term, NULL);
}

/* Requests until the peer hangs up, is dropped, idles out, or SIGTERM comes. */
static void serve(struct helper *h, struct peer *p)
{
	struct pollfd pfd = {.fd = p->fd, .events = POLLIN};

	while (!stopping) {
		uint64_t now = util_now();
		uint64_t until = p->last_active + (p->heard ? PEER_IDLE_S : PEER_SILENT_S);
		int n;

		if (now >= until) {
			if (p->heard)
				log_msg(LOG_INFO, "uid %ld idle for %d s; closing its connection",
					(long)p->uid, PEER_IDLE_S);
			return;
		}
		n = poll(&pfd, 1, (int)(until - now) * 1000);
		if (n < 0 && errno != EINTR)
			return;
		if (n > 0 && (!(pfd.revents & POLLIN) || route_serve_one(h, p) < 0))
			return; /* hung up, or dropped */
	}
}

static int pool_sock = -1;
static uint32_t pool_generation;

static int agent_take(void *ctx, int *fd, pid_t *pid)
{
	(void)ctx;
	return agentpool_borrow(pool_sock, pool_generation, fd, pid);
}

static void agent_give(void *ctx, int fd, pid_t pid)
{
	struct agent_msg m = {'G', getpid(), pid, pool_generation};

	(void)ctx;
	agentpool_send(pool_sock, &m, fd); /* not taken: it exits once fd is closed */
	close(fd);
}

/* The daemon's state made the worker's own: its fds closed, no courier, the store opened
 * again, directory agents borrowed from the daemon's pool and given back. */
static void adopt(struct helper *h, const struct worker_env *env)
{
	static const struct dirlink_pool hooks = {agent_take, agent_give, NULL};

	signals_own();
	for (size_t i = 0; i < env->n; i++)
		if (env->theirs[i] >= 0)
			close(env->theirs[i]);
	pool_sock = env->pool_sock;
	pool_generation = env->generation;
	if (pool_sock >= 0)
		dirlink_pool(h->accounts.dir, &hooks);
	courier_forget(h->courier);
	h->courier = NULL; /* mail queued here is the daemon's to send: h->mail_kick tells it */
	if (h->store && store_reopen(h->store) < 0) {
		/* its requests are answered PWR_E_INTERNAL, as when the daemon has no store */
		log_msg(LOG_ERR, "a worker cannot open the store again; its peer is refused");
		store_close(h->store);
		h->store = NULL;
	}
}

static void finish(struct helper *h, struct peer *p) __attribute__((noreturn));
static void finish(struct helper *h, struct peer *p)
{
	serve(h, p);
	close(p->fd);
	explicit_bzero(p, sizeof(*p));
	dirlink_free(h->accounts.dir); /* the worker's own agent, if it started one */
	_exit(0);
}

void worker_run(struct helper *h, struct peer *p, const struct worker_env *env)
{
	adopt(h, env);
	finish(h, p);
}

/* The connection the daemon hands over on ctl, and who is on it: its fd, or -1 (the daemon
 * closed ctl, or SIGTERM came first). */
static int handed(int ctl, struct worker_handoff *ho)
{
	long got;
	int fd;

	do
		got = fdpass_recv(ctl, ho, sizeof(*ho), &fd, 0);
	while (got == -EINTR && !stopping);
	return got == (long)sizeof(*ho) ? fd : -1;
}

void worker_spare(struct helper *h, int ctl, const struct worker_env *env)
{
	struct worker_handoff ho;
	struct peer p;
	int fd;

	adopt(h, env);
	fd = handed(ctl, &ho);
	close(ctl);
	if (fd < 0 || stopping)
		_exit(0);
	/* what the daemon last knew of the dictionary: a look of its own would cost a load */
	h->ready = ho.ready;
	h->ready_at = ho.ready_at;
	util_copy(h->unready, sizeof(h->unready), ho.unready);
	p = (struct peer){.fd = fd,
		.uid = ho.uid,
		.gid = ho.gid,
		.pid = ho.pid,
		.send_flags = MSG_DONTWAIT,
		.last_active = util_now()};
	finish(h, &p);
}
