/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The benchmarks' load generator and anchors (tests/bench/bench_load.py drives it). Each mode
 * prints one line of key=value figures; latencies are in microseconds.
 *
 *   echo N                      anchor: N round trips of an offer-sized packet over a
 *                               SOCK_SEQPACKET socketpair to a child process that echoes it
 *   offer SOCKET USER N         N offers over one connection to the daemon
 *   lmdb DIR N                  anchor: N durable LMDB commits of one small record each
 *   request SOCKET USER N       N requests for USER over one connection
 *   spawn N                     anchor: N fork + exec /bin/true + waitpid
 *   oneshot HELPER USER N       N one-shot sessions: the helper started as the module starts
 *                               it, one offer, then until the helper has closed its end
 *   flood SOCKET SECONDS USER.. wrong codes for the USERs, round robin, as fast as answered
 *   legit SOCKET USER SECONDS   offer, request, (the code read from stdin), verify, in a loop
 *   random SOCKET N SEED        N requests for random user names from random addresses
 *   connect SOCKET USER N MS    N connections MS milliseconds apart, each with one offer:
 *                               what a conversation costs before its first answer
 *   hold SOCKET N               N connections, each with one offer answered, held open until
 *                               stdin ends (prints "held" once they all are)
 */
#include <errno.h>
#include <lmdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "wire.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(err));
	exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Latency samples in ns. */
struct samples {
	uint64_t *v;
	size_t n, cap;
};

static void add(struct samples *s, uint64_t ns)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4096;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			die("memory", ENOMEM);
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ns;
}

static void report(const char *mode, struct samples *s, const char *extra)
{
	if (s->n == 0) {
		printf("mode=%s count=0 %s\n", mode, extra);
		return;
	}
	qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
	printf("mode=%s count=%zu p50_us=%.1f p99_us=%.1f max_us=%.1f %s\n", mode, s->n,
		s->v[s->n / 2] / 1e3, s->v[s->n * 99 / 100] / 1e3, s->v[s->n - 1] / 1e3, extra);
	free(s->v);
}

static void fill_who(struct pwr_who *w, const char *user, const char *rhost)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->user, sizeof(w->user), "%s", user);
	snprintf(w->rhost, sizeof(w->rhost), "%s", rhost);
	snprintf(w->tty, sizeof(w->tty), "ssh");
	snprintf(w->service, sizeof(w->service), "sshd");
}

/* Send one message and read its answer; the answer's op, or exit on a broken connection. */
static uint16_t call(int fd, uint16_t op, const void *msg, union pwr_msg *ans)
{
	uint16_t aop;
	int r;

	if ((r = wire_send(fd, op, msg, 0)) < 0)
		die("send", -r);
	if ((r = wire_recv(fd, &aop, ans)) < 0)
		die("receive", -r);
	return aop;
}

static int connect_daemon(const char *path)
{
	struct pwr_client c;
	int r = client_open(&c, path, NULL);

	if (r < 0)
		die(path, -r);
	return c.fd;
}

static void mode_echo(long n)
{
	uint8_t buf[PWR_MSG_MAX];
	struct pwr_who w;
	struct samples s = {0};
	size_t len;
	int sv[2], r;
	pid_t pid;

	fill_who(&w, "alice", "192.0.2.1");
	if ((r = wire_encode(PWR_REQ_OFFER, &w, buf, sizeof(buf), &len)) < 0)
		die("encode", -r);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair", errno);
	if ((pid = fork()) < 0)
		die("fork", errno);
	if (pid == 0) {
		ssize_t got;
		close(sv[0]);
		while ((got = recv(sv[1], buf, sizeof(buf), 0)) > 0)
			if (send(sv[1], buf, (size_t)got, MSG_NOSIGNAL) != got)
				break;
		_exit(0);
	}
	close(sv[1]);
	for (long i = 0; i < n; i++) {
		uint64_t t = now_ns();
		if (send(sv[0], buf, len, MSG_NOSIGNAL) != (ssize_t)len ||
			recv(sv[0], buf, sizeof(buf), 0) != (ssize_t)len)
			die("echo", errno ? errno : EPROTO);
		add(&s, now_ns() - t);
	}
	close(sv[0]);
	waitpid(pid, NULL, 0);
	report("echo", &s, "");
}

static void mode_offer(const char *path, const char *user, long n)
{
	int fd = connect_daemon(path);
	struct samples s = {0};
	union pwr_msg ans;
	struct pwr_who w;

	fill_who(&w, user, "192.0.2.1");
	for (long i = 0; i < n; i++) {
		uint64_t t = now_ns();
		if (call(fd, PWR_REQ_OFFER, &w, &ans) != PWR_ANS_OFFER)
			die("offer", EPROTO);
		add(&s, now_ns() - t);
	}
	close(fd);
	report("offer", &s, "");
}

static void mode_lmdb(const char *dir, long n)
{
	struct samples s = {0};
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 4)) ||
		(rc = mdb_env_set_mapsize(env, 64u << 20)) ||
		(rc = mdb_env_open(env, dir, MDB_NOTLS, 0600)) ||
		(rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
		(rc = mdb_dbi_open(txn, "bench", MDB_CREATE, &dbi)) || (rc = mdb_txn_commit(txn)))
		die(mdb_strerror(rc), EIO);
	for (long i = 0; i < n; i++) {
		char key[32], val[96];
		MDB_val k = {0, key}, v = {sizeof(val), val};
		uint64_t t = now_ns();

		k.mv_size = (size_t)snprintf(key, sizeof(key), "u:user%ld", i % 64);
		memset(val, (int)i, sizeof(val));
		if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
			(rc = mdb_put(txn, dbi, &k, &v, 0)) || (rc = mdb_txn_commit(txn)))
			die(mdb_strerror(rc), EIO);
		add(&s, now_ns() - t);
	}
	mdb_env_close(env);
	report("lmdb", &s, "");
}

static void mode_request(const char *path, const char *user, long n)
{
	int fd = connect_daemon(path);
	struct samples s = {0};
	union pwr_msg ans;
	struct pwr_who w;
	long queued = 0;

	fill_who(&w, user, "192.0.2.1");
	for (long i = 0; i < n; i++) {
		uint64_t t = now_ns();
		if (call(fd, PWR_REQ_REQUEST, &w, &ans) != PWR_ANS_REQUEST)
			die("request", EPROTO);
		add(&s, now_ns() - t);
		queued += ans.request.status == PWR_OK;
	}
	close(fd);
	char extra[64];
	snprintf(extra, sizeof(extra), "answered_ok=%ld", queued);
	report("request", &s, extra);
}

static void mode_spawn(long n)
{
	struct samples s = {0};

	for (long i = 0; i < n; i++) {
		uint64_t t = now_ns();
		pid_t pid = fork();
		int status;
		if (pid < 0)
			die("fork", errno);
		if (pid == 0) {
			char *const argv[] = {"/bin/true", NULL}, *const envp[] = {NULL};
			execve(argv[0], argv, envp);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			die("/bin/true", ECHILD);
		add(&s, now_ns() - t);
	}
	report("spawn", &s, "");
}

static void mode_oneshot(const char *helper, const char *user, long n)
{
	struct samples s = {0};
	union pwr_msg ans;
	struct pwr_who w;

	fill_who(&w, user, "192.0.2.1");
	for (long i = 0; i < n; i++) {
		struct pwr_client c;
		char byte;
		uint64_t t = now_ns();
		int r = client_open(&c, NULL, helper);

		if (r < 0)
			die(helper, -r);
		if (call(c.fd, PWR_REQ_OFFER, &w, &ans) != PWR_ANS_OFFER)
			die("offer", EPROTO);
		/* the session is over when the helper has closed its end (it exits) */
		shutdown(c.fd, SHUT_WR);
		while (recv(c.fd, &byte, 1, 0) > 0)
			;
		add(&s, now_ns() - t);
		client_close(&c);
	}
	report("oneshot", &s, "");
}

static volatile sig_atomic_t stop;

static void on_alarm(int sig)
{
	(void)sig;
	stop = 1;
}

static void run_for(long seconds)
{
	struct sigaction sa = {.sa_handler = on_alarm};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned)seconds);
}

static void mode_flood(const char *path, long seconds, char **users, int nusers)
{
	int fd = connect_daemon(path);
	struct pwr_verify_req v;
	union pwr_msg ans;
	long sent = 0, accepted = 0;
	uint64_t t0 = now_ns();

	run_for(seconds);
	for (unsigned i = 0; !stop; i++) {
		fill_who(&v.who, users[i % (unsigned)nusers], "198.51.100.66");
		/* a well-formed code that is never the right one: the flood guesses */
		snprintf(v.code, sizeof(v.code), "%05u-%05u", (i * 7919u) % 100000u, i % 100000u);
		if (call(fd, PWR_REQ_VERIFY, &v, &ans) != PWR_ANS_VERIFY)
			die("verify", EPROTO);
		sent++;
		accepted += ans.verify_ans.status == PWR_OK;
	}
	close(fd);
	printf("mode=flood count=%ld per_s=%.0f accepted=%ld\n", sent,
		sent / ((now_ns() - t0) / 1e9), accepted);
}

static void mode_legit(const char *path, const char *user, long seconds)
{
	struct samples so = {0}, sr = {0}, sv = {0};
	struct pwr_verify_req v;
	struct pwr_who w;
	union pwr_msg ans;
	char line[64], extra[96];
	long rounds = 0, failed = 0;
	int fd = connect_daemon(path);

	fill_who(&w, user, "192.0.2.7");
	run_for(seconds);
	while (!stop) {
		uint64_t t = now_ns();
		if (call(fd, PWR_REQ_OFFER, &w, &ans) != PWR_ANS_OFFER)
			die("offer", EPROTO);
		add(&so, now_ns() - t);
		t = now_ns();
		if (call(fd, PWR_REQ_REQUEST, &w, &ans) != PWR_ANS_REQUEST)
			die("request", EPROTO);
		add(&sr, now_ns() - t);
		/* the code, as the person reads it from the mail (outside the timing) */
		printf("want-code\n");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			break; /* also when the time ran out while waiting for the mail */
		line[strcspn(line, "\n")] = '\0';
		v.who = w;
		snprintf(v.code, sizeof(v.code), "%s", line);
		t = now_ns();
		if (call(fd, PWR_REQ_VERIFY, &v, &ans) != PWR_ANS_VERIFY)
			die("verify", EPROTO);
		add(&sv, now_ns() - t);
		failed += ans.verify_ans.status != PWR_OK;
		rounds++;
	}
	close(fd);
	report("legit-offer", &so, "");
	report("legit-request", &sr, "");
	snprintf(extra, sizeof(extra), "rounds=%ld refused=%ld", rounds, failed);
	report("legit-verify", &sv, extra);
}

static void mode_random(const char *path, long n, unsigned seed)
{
	int fd = connect_daemon(path);
	struct samples s = {0};
	union pwr_msg ans;
	struct pwr_who w;

	srandom(seed);
	for (long i = 0; i < n; i++) {
		char user[32], rhost[32];
		snprintf(user, sizeof(user), "u%08lx", random());
		snprintf(rhost, sizeof(rhost), "10.%ld.%ld.%ld", random() % 256, random() % 256,
			random() % 256);
		fill_who(&w, user, rhost);
		uint64_t t = now_ns();
		if (call(fd, PWR_REQ_REQUEST, &w, &ans) != PWR_ANS_REQUEST)
			die("request", EPROTO);
		add(&s, now_ns() - t);
	}
	close(fd);
	report("random", &s, "");
}

static void mode_connect(const char *path, const char *user, long n, long pause_ms)
{
	struct timespec pause = {pause_ms / 1000, (pause_ms % 1000) * 1000000};
	struct samples s = {0};
	union pwr_msg ans;
	struct pwr_who w;

	fill_who(&w, user, "192.0.2.1");
	for (long i = 0; i < n; i++) {
		uint64_t t;

		nanosleep(&pause, NULL);
		t = now_ns();
		int fd = connect_daemon(path);
		if (call(fd, PWR_REQ_OFFER, &w, &ans) != PWR_ANS_OFFER)
			die("offer", EPROTO);
		add(&s, now_ns() - t);
		close(fd);
	}
	report("connect", &s, "");
}

static void mode_hold(const char *path, long n)
{
	int *fds = calloc((size_t)n, sizeof(*fds));
	union pwr_msg ans;
	struct pwr_who w;
	char buf[64];

	if (!fds)
		die("memory", ENOMEM);
	fill_who(&w, "alice", "192.0.2.1");
	for (long i = 0; i < n; i++) {
		fds[i] = connect_daemon(path);
		if (call(fds[i], PWR_REQ_OFFER, &w, &ans) != PWR_ANS_OFFER)
			die("offer", EPROTO);
	}
	printf("held count=%ld\n", n);
	while (fgets(buf, sizeof(buf), stdin))
		;
	for (long i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "echo") && argc == 3)
		mode_echo(atol(argv[2]));
	else if (!strcmp(mode, "offer") && argc == 5)
		mode_offer(argv[2], argv[3], atol(argv[4]));
	else if (!strcmp(mode, "lmdb") && argc == 4)
		mode_lmdb(argv[2], atol(argv[3]));
	else if (!strcmp(mode, "request") && argc == 5)
		mode_request(argv[2], argv[3], atol(argv[4]));
	else if (!strcmp(mode, "spawn") && argc == 3)
		mode_spawn(atol(argv[2]));
	else if (!strcmp(mode, "oneshot") && argc == 5)
		mode_oneshot(argv[2], argv[3], atol(argv[4]));
	else if (!strcmp(mode, "flood") && argc >= 5)
		mode_flood(argv[2], atol(argv[3]), argv + 4, argc - 4);
	else if (!strcmp(mode, "legit") && argc == 5)
		mode_legit(argv[2], argv[3], atol(argv[4]));
	else if (!strcmp(mode, "connect") && argc == 6)
		mode_connect(argv[2], argv[3], atol(argv[4]), atol(argv[5]));
	else if (!strcmp(mode, "hold") && argc == 4)
		mode_hold(argv[2], atol(argv[3]));
	else if (!strcmp(mode, "random") && argc == 5)
		mode_random(argv[2], atol(argv[3]), (unsigned)atol(argv[4]));
	else {
		fprintf(stderr, "usage: see the comment at the top of tests/bench/loadgen.c\n");
		return 2;
	}
	return 0;
}
