/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The two transports. Both read one message at a time and pass it to route_dispatch().
 * MUST: the daemon never blocks on one peer: it reads only peers that poll() says are ready,
 * sends without waiting (a peer that does not read its answers is dropped), limits how many
 * peers it holds and drops those idle too long. A peer's identity comes from the kernel
 * (SO_PEERCRED), never from what it says.
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
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "courier.h"
#include "helper.h"
#include "housekeeping.h"
#include "log.h"
#include "policy.h"
#include "route.h"
#include "server.h"
#include "util.h"

#define MAX_PEERS 256
#define ROOT_RESERVE 64 /* of MAX_PEERS, only for root's peers (login, sshd) */
#define PEERS_PER_UID 8 /* a peer that is not root (a lock screen) needs one or two */
#define IDLE_SECONDS (15 * 60) /* a person reads mail and types a code in between */
#define MAIL_AFTER_MS 150 /* one-shot: mail waits this long after an answer, for the next request */
#define SILENT_SECONDS 10 /* a peer that has asked nothing yet: its first request comes at once */
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

static int serve_one(struct helper *h, struct peer *p)
{
	union pwr_msg m;
	uint16_t op;
	int r = wire_recv(p->fd, &op, &m);

	if (r == -ECONNRESET)
		return r;
	if (r == -EAGAIN)
		return 0;
	if (r < 0) {
		route_malformed(p, r);
		return r;
	}
	p->last_active = util_now();
	p->heard = true;
	r = route_dispatch(h, p, op, &m);
	explicit_bzero(&m, sizeof(m));
	return r;
}

/* poll's timeout: until the courier has something to do, at most max_ms. */
static int wait_ms(struct helper *h, uint64_t now, int max_ms)
{
	int t = courier_timeout_ms(h->courier, now);
	return t >= 0 && t < max_ms ? t : max_ms;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

int server_oneshot(struct helper *h, int fd, uid_t uid, gid_t gid)
{
	struct peer p = {.fd = fd, .uid = uid, .gid = gid, .pid = getppid()};
	struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN}, {.fd = -1, .events = POLLIN}};
	uint64_t last = util_now(), answered = 0, deadline;

	/* the conversation; mail queued meanwhile goes out while the person reads and types, a
	 * moment after each answer: a request that follows at once is never kept waiting behind
	 * the courier (whose work differs between accounts) */
	for (;;) {
		uint64_t now = util_now(), ms = now_ms();
		bool hold = ms < answered + MAIL_AFTER_MS;
		int n, t = (int)(last + IDLE_SECONDS - now) * 1000;

		if (now >= last + IDLE_SECONDS) {
			log_msg(LOG_NOTICE, "one-shot: caller idle for %d s; closing",
				IDLE_SECONDS);
			break;
		}
		pfd[1].fd = hold ? -1 : courier_fd(h->courier);
		t = hold ? (int)(answered + MAIL_AFTER_MS - ms) : wait_ms(h, now, t);
		n = poll(pfd, 2, t);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && pfd[0].revents) {
			if (serve_one(h, &p) < 0)
				break;
			last = util_now();
			answered = now_ms();
			continue;
		}
		if (now_ms() >= answered + MAIL_AFTER_MS)
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
		listen(fd, 64) < 0) {
		int e = errno;
		log_msg(LOG_ERR, "cannot listen on %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

static void peer_drop(struct peer *peers, struct pollfd *pfds, size_t *n, size_t i)
{
	close(peers[i].fd);
	explicit_bzero(&peers[i], sizeof(peers[i]));
	peers[i] = peers[*n - 1];
	pfds[i + 1] = pfds[*n];
	(*n)--;
}

static void accept_peer(int lfd, struct peer *peers, struct pollfd *pfds, size_t *n)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_msg(LOG_WARNING, "cannot identify a peer: %s; dropping it", strerror(errno));
		close(fd);
		return;
	}
	/* closed unanswered: the module and pwresetctl then run the one-shot helper. One uid
	 * cannot take every place, nor the places kept for logins. */
	if (cred.uid != 0) {
		size_t mine = 0;
		for (size_t i = 0; i < *n; i++)
			mine += peers[i].uid == cred.uid;
		if (mine >= PEERS_PER_UID || *n >= MAX_PEERS - ROOT_RESERVE) {
			log_refusal(LOG_WARNING, (long)cred.uid,
				mine >= PEERS_PER_UID ? "too-many-connections" : "too-many-peers",
				NULL);
			close(fd);
			return;
		}
	}
	if (*n == MAX_PEERS) {
		log_refusal(LOG_WARNING, (long)cred.uid, "too-many-peers", NULL);
		close(fd);
		return;
	}
	peers[*n] = (struct peer){.fd = fd,
		.uid = cred.uid,
		.gid = cred.gid,
		.pid = cred.pid,
		.send_flags = MSG_DONTWAIT,
		.last_active = util_now()};
	pfds[*n + 1] = (struct pollfd){.fd = fd, .events = POLLIN};
	(*n)++;
}

/* How long the daemon may sleep: until the quiet period ends (then the courier's own timeouts
 * rule), or a peer that has asked nothing is due to be dropped; TICK_MS at most. */
static int next_tick(const struct helper *h, const struct peer *peers, size_t n,
	uint64_t last_activity, uint64_t now)
{
	int tick = TICK_MS;

	if (h->idle_exit && n == 0 && now < last_activity + h->idle_exit)
		tick = (int)(last_activity + h->idle_exit - now) * 1000;
	for (size_t i = 0; i < n; i++)
		if (!peers[i].heard && peers[i].last_active + SILENT_SECONDS + 1 > now &&
			(int)(peers[i].last_active + SILENT_SECONDS + 1 - now) * 1000 < tick)
			tick = (int)(peers[i].last_active + SILENT_SECONDS + 1 - now) * 1000;
	return tick;
}

/* The daemon's listening socket (systemd's, else its own) and its signals: the socket, or < 0. */
static int daemon_start(struct helper *h)
{
	struct sigaction sa = {.sa_handler = on_term};
	int lfd = listen_fds();
	bool activated = lfd >= 0;

	if (lfd == -ENOENT)
		lfd = listen_own(h->conf.socket);
	if (lfd < 0)
		return lfd;
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
	log_msg(LOG_INFO, "serving %s%s", h->conf.socket,
		activated ? " (the socket systemd handed over)" : "");
	return lfd;
}

int server_daemon(struct helper *h)
{
	static struct peer peers[MAX_PEERS];
	static struct pollfd pfds[MAX_PEERS + 3]; /* the socket, the peers, the mailer, the watch */
	size_t n = 0;
	uint64_t next_housekeeping = 0, last_activity = util_now();
	int lfd = daemon_start(h), wfd;

	if (lfd < 0)
		return lfd;
	pfds[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
	wfd = policy_watch_open(h);

	while (!stopping) {
		int cfd = courier_fd(h->courier), ready;
		uint64_t now = util_now();

		int tick = next_tick(h, peers, n, last_activity, now);

		pfds[n + 1] = (struct pollfd){.fd = cfd, .events = POLLIN};
		pfds[n + 2] = (struct pollfd){.fd = wfd, .events = POLLIN};
		ready = poll(pfds, n + 3, wait_ms(h, now, tick < TICK_MS ? tick : TICK_MS));
		now = util_now();
		if (ready > 0 && pfds[n + 2].revents) { /* the configuration's directory changed */
			policy_watch_read(h, wfd);
			ready--; /* not a caller's activity */
		}

		if (ready < 0 && errno != EINTR) {
			log_msg(LOG_ERR, "poll: %s", strerror(errno));
			break;
		}
		if (reload_requested) { /* SIGHUP: the configuration file again */
			reload_requested = 0;
			policy_reload(h);
		}
		for (size_t i = n; ready > 0 && i-- > 0;) {
			if (!pfds[i + 1].revents)
				continue;
			if (pfds[i + 1].revents & POLLIN) {
				if (serve_one(h, &peers[i]) < 0)
					peer_drop(peers, pfds, &n, i);
			} else {
				peer_drop(peers, pfds, &n, i); /* hung up or error */
			}
		}
		if (ready > 0)
			last_activity = now;
		if (ready > 0 && (pfds[0].revents & POLLIN))
			accept_peer(lfd, peers, pfds, &n);
		for (size_t i = n; i-- > 0;)
			if (peers[i].last_active +
					(peers[i].heard ? IDLE_SECONDS : SILENT_SECONDS) <
				now)
				peer_drop(peers, pfds, &n, i);
		if (now >= next_housekeeping) {
			housekeeping_run(h, now);
			next_housekeeping = now + TICK_MS / 1000;
		}
		courier_run(h, h->courier, util_now());
		if (h->idle_exit && n == 0 && courier_idle(h->courier) &&
			now >= last_activity + h->idle_exit &&
			poll(pfds, 1, 0) == 0) { /* a caller just arriving is served first */
			log_msg(LOG_INFO,
				"quiet for %u s and no mail waiting; exiting (the socket starts the "
				"helper again)",
				h->idle_exit);
			break;
		}
	}
	for (size_t i = n; i-- > 0;)
		peer_drop(peers, pfds, &n, i);
	close(lfd);
	if (wfd >= 0)
		close(wfd);
	log_msg(LOG_INFO, "stopped");
	return 0;
}
