/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The two transports. The one-shot helper serves its one caller itself; the daemon accepts
 * each connection and forks a worker that serves it (worker.c), so that no conversation waits
 * for another's directory call, lock or commit (SPEC §2). The daemon keeps the listening
 * socket, the limits on how many workers live and whose, the courier and the configuration
 * watch.
 * MUST: the daemon itself never blocks on a peer: it reads nothing from them. A peer's
 * identity comes from the kernel (SO_PEERCRED), never from what it says.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "answer.h"
#include "courier.h"
#include "dirlink.h"
#include "helper.h"
#include "housekeeping.h"
#include "log.h"
#include "policy.h"
#include "ready.h"
#include "route.h"
#include "server.h"
#include "util.h"
#include "workers.h"

#define ACCEPT_BURST 32 /* connections taken at one wake-up, before the rest of the loop */
#define MAIL_AFTER_MS 150 /* one-shot: mail waits this long after an answer, for the next request */
#define TICK_MS 30000

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static volatile sig_atomic_t reload_requested;

static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

/* The write end of the daemon's pipe: a worker says "mail queued", SIGCHLD "a worker ended". */
static int kick_fd = -1;

static void on_chld(int sig)
{
	int e = errno;
	ssize_t n = write(kick_fd, "c", 1); /* full: the daemon is woken already */

	(void)sig;
	(void)n;
	errno = e;
}

/* poll's timeout: until the courier has something to do, at most max_ms. */
static int wait_ms(struct helper *h, uint64_t now, int max_ms)
{
	int t = courier_timeout_ms(h->courier, now);
	return t >= 0 && t < max_ms ? t : max_ms;
}

int server_oneshot(struct helper *h, int fd, uid_t uid, gid_t gid)
{
	struct peer p = {.fd = fd, .uid = uid, .gid = gid, .pid = getppid()};
	struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN}, {.fd = -1, .events = POLLIN}};
	uint64_t last = util_now(), answered = 0, deadline;
	struct timeval send_by = {.tv_sec = ANSWER_STREAM_WAIT_MS / 1000};

	/* an answer the caller does not read is given up after the same bound as the daemon's
	 * long answers: a caller that stops reading holds this process, nothing else */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_by, sizeof(send_by)) < 0)
		log_msg(LOG_WARNING, "one-shot: cannot bound sends: %s", strerror(errno));

	/* the conversation; mail queued meanwhile goes out while the person reads and types, a
	 * moment after each answer: a request that follows at once is never kept waiting behind
	 * the courier (whose work differs between accounts) */
	for (;;) {
		uint64_t now = util_now(), ms = util_mono_ms();
		bool hold = ms < answered + MAIL_AFTER_MS;
		int n, t = (int)(last + PEER_IDLE_S - now) * 1000;

		if (now >= last + PEER_IDLE_S) {
			log_msg(LOG_NOTICE, "one-shot: caller idle for %d s; closing", PEER_IDLE_S);
			break;
		}
		pfd[1].fd = hold ? -1 : courier_fd(h->courier);
		t = hold ? (int)(answered + MAIL_AFTER_MS - ms) : wait_ms(h, now, t);
		n = poll(pfd, 2, t);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && pfd[0].revents) {
			if (route_serve_one(h, &p) < 0)
				break;
			last = util_now();
			answered = util_mono_ms();
			continue;
		}
		if (util_mono_ms() >= answered + MAIL_AFTER_MS)
			courier_run(h, h->courier, util_now());
	}
	explicit_bzero(&p, sizeof(p));
	housekeeping_run(h, util_now());

	/* then what is due, within a bound: the caller does not wait for this process */
	deadline = util_now() + 2 * (uint64_t)h->conf.smtp_timeout + 30;
	for (uint64_t now = util_now(); courier_busy(h, h->courier, now) && now < deadline;
		now = util_now()) {
		courier_run(h, h->courier, now);
		if (!courier_busy(h, h->courier, now))
			break;
		pfd[1].fd = courier_fd(h->courier);
		if (poll(&pfd[1], 1, wait_ms(h, now, (int)(deadline - now) * 1000)) < 0 &&
			errno != EINTR)
			break;
	}
	return 0;
}

/* The socket systemd handed over: exactly one, ours, a listening SOCK_SEQPACKET. */
static int listen_fds(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int type = 0, acc = 0;
	socklen_t len = sizeof(type);

	if (!pid || !fds)
		return -ENOENT;
	if (strtol(pid, NULL, 10) != getpid() || strcmp(fds, "1") != 0) {
		log_msg(LOG_ERR, "LISTEN_FDS=%s for pid %s: expected one socket for this process",
			fds, pid);
		return -EINVAL;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET ||
		getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 || !acc) {
		log_msg(LOG_ERR, "the socket handed over is not a listening SOCK_SEQPACKET socket");
		return -EINVAL;
	}
	fcntl(3, F_SETFD, FD_CLOEXEC);
	return 3;
}

static int listen_own(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(sa.sun_path)];
	struct stat st;
	char *slash;
	int fd;

	if (util_copy(sa.sun_path, sizeof(sa.sun_path), path) < 0) {
		log_msg(LOG_ERR, "socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	util_copy(dir, sizeof(dir), path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			log_msg(LOG_ERR, "cannot create %s: %s", dir, strerror(errno));
			return -errno;
		}
		/* our umask is 077; peers of every uid must reach the socket */
		if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
			(st.st_mode & 022) || chmod(dir, 0755) < 0) {
			log_msg(LOG_ERR,
				"%s must be a directory of root's that only root can write", dir);
			return -EPERM;
		}
	}
	/* a socket left by a helper that died; anything else there is not ours to remove */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_msg(LOG_ERR, "%s exists and is not a socket", path);
			return -EEXIST;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0 ||
		listen(fd, SOMAXCONN) < 0) { /* as systemd's socket unit: a burst is queued */
		int e = errno;
		log_msg(LOG_ERR, "cannot listen on %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

/* The daemon's listening socket (systemd's, else its own), its pipe (kick[0] read; kick[1]
 * written by workers and at SIGCHLD) and its signals: the socket, or < 0. */
static int daemon_start(struct helper *h, int kick[2])
{
	struct sigaction sa = {.sa_handler = on_term};
	int lfd = listen_fds();
	bool activated = lfd >= 0;

	if (lfd == -ENOENT)
		lfd = listen_own(h->conf.socket);
	if (lfd < 0)
		return lfd;
	/* accept_one() takes connections until there are none left */
	if (fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK) < 0 ||
		pipe2(kick, O_CLOEXEC | O_NONBLOCK) < 0) {
		int e = errno;
		log_msg(LOG_ERR, "cannot prepare the socket and the workers' pipe: %s",
			strerror(e));
		close(lfd);
		return -e;
	}
	kick_fd = kick[1];
	h->mail_kick = kick[1]; /* what the workers inherit */
	if (h->idle_exit && !activated) {
		/* nothing would start it again: its own socket would be left to nobody */
		log_msg(LOG_NOTICE, "--idle-exit applies only to a socket handed over by systemd; "
				    "serving until stopped");
		h->idle_exit = 0;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	log_msg(LOG_INFO, "serving %s%s", h->conf.socket,
		activated ? " (the socket systemd handed over)" : "");
	return lfd;
}

/* A directory agent for the pool, started and configured by the daemon, so that it outlives
 * the workers that borrow it. */
static int agent_spawn(void *ctx, int *fd, pid_t *pid)
{
	struct helper *h = ctx;
	char why[DIR_TEXT_MAX + 1];
	int r = dirlink_spawn(h->accounts.dir, fd, pid, why, sizeof(why));

	if (r < 0)
		log_msg(LOG_WARNING, "no directory agent for the pool: %s", why);
	return r;
}

/* How long the daemon may sleep: until the quiet period ends (then the courier's own timeouts
 * rule), TICK_MS at most. */
static int next_tick(const struct helper *h, size_t workers, uint64_t last_activity, uint64_t now)
{
	if (h->idle_exit && workers == 0 && now < last_activity + h->idle_exit &&
		(last_activity + h->idle_exit - now) * 1000 < TICK_MS)
		return (int)(last_activity + h->idle_exit - now) * 1000;
	return TICK_MS;
}

int server_daemon(struct helper *h)
{
	static struct workers ws;
	struct pollfd pfds[5]; /* the socket, the pipe, the mailer, the watch, the agent pool */
	uint64_t next_housekeeping = 0, last_activity = util_now();
	int kick[2], lfd = daemon_start(h, kick), wfd;
	char buf[256];

	if (lfd < 0)
		return lfd;
	wfd = policy_watch_open(h);
	if (workers_init(&ws, lfd, kick[0], wfd) < 0)
		log_msg(LOG_WARNING, "no pool of directory agents: each worker starts its own");

	while (!stopping) {
		uint64_t now = util_now();
		int ready, tick;

		pfds[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
		pfds[1] = (struct pollfd){.fd = kick[0], .events = POLLIN};
		pfds[2] = (struct pollfd){.fd = courier_fd(h->courier), .events = POLLIN};
		pfds[3] = (struct pollfd){.fd = wfd, .events = POLLIN};
		pfds[4] = (struct pollfd){.fd = ws.pool.back[0], .events = POLLIN};
		tick = wait_ms(h, now, next_tick(h, ws.n, last_activity, now));
		workers_spare_due(&ws, &tick);
		ready = poll(pfds, 5, tick);
		if (ready < 0 && errno != EINTR) {
			log_msg(LOG_ERR, "poll: %s", strerror(errno));
			break;
		}
		now = util_now();
		if (ready > 0 && pfds[3].revents) { /* the configuration's directory changed */
			policy_watch_read(h, wfd);
			/* the next spare, and the next agents, with the file as it is now */
			workers_spare_retire(&ws);
			agentpool_flush(&ws.pool);
		}
		if (reload_requested) { /* SIGHUP: the configuration file again */
			reload_requested = 0;
			policy_reload(h);
			workers_spare_retire(&ws);
			agentpool_flush(&ws.pool);
		}
		if (ready > 0 && pfds[4].revents) /* an agent asked for, or given back */
			agentpool_read(&ws.pool, now, agent_spawn, h);
		if (ready > 0 && pfds[1].revents) { /* mail queued, or a worker ended */
			while (read(kick[0], buf, sizeof(buf)) > 0)
				;
			courier_wake(h->courier);
			if (workers_reap(&ws) > 0) /* drained first: no end goes unseen */
				last_activity = now;
			agentpool_reap(&ws.pool);
		}
		if (ready > 0 && (pfds[0].revents & POLLIN)) {
			last_activity = now;
			/* the dictionary looked at here, every few seconds at most, and not by
			 * each worker: its look loads the dictionary (milliseconds) */
			ready_check(h);
			for (int i = 0; i < ACCEPT_BURST; i++)
				if (workers_accept(h, lfd, &ws) == -EAGAIN)
					break;
		}
		if (now >= next_housekeeping) {
			housekeeping_run(h, now);
			agentpool_tick(&ws.pool, now);
			next_housekeeping = now + TICK_MS / 1000;
		}
		courier_run(h, h->courier, util_now());
		if (!stopping && workers_spare_due(&ws, &tick))
			workers_spare_start(h, &ws);
		if (h->idle_exit && ws.n == 0 && courier_idle(h->courier) &&
			now >= last_activity + h->idle_exit &&
			poll(pfds, 1, 0) == 0) { /* a caller just arriving is served first */
			log_msg(LOG_INFO,
				"quiet for %u s and no mail waiting; exiting (the socket starts the "
				"helper again)",
				h->idle_exit);
			break;
		}
	}
	close(lfd);
	workers_stop(&ws, kick[0]);
	agentpool_close(&ws.pool);
	close(kick[0]);
	close(kick[1]);
	kick_fd = h->mail_kick = -1;
	if (wfd >= 0)
		close(wfd);
	log_msg(LOG_INFO, "stopped");
	return 0;
}
