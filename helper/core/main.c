/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pwreset-helper: modes, and the hygiene of a setuid program.
 * MUST, before anything else runs: argv is not read when argc is 0; fds 0-2 are valid and no
 * other inherited fd stays open (but the socket systemd hands over); the environment is rebuilt
 * from nothing; signal dispositions and mask are reset; core dumps are off and the process is
 * not dumpable; the limits that could end a write half-way are lifted, and for a caller that is
 * not root (or whom root runs it for: su's user, --for-uid) every other limit is set to known
 * values; unless under its own unit, the scheduling (policy, nice, I/O priority, CPU affinity)
 * and the OOM score are too, not its starter's; the working directory is /; the caller's
 * groups are dropped and every uid made 0, so the caller cannot signal or trace us. The
 * one-shot helper also leaves the caller's session, process group and terminal and ignores the
 * terminal's signals, so job control (^Z, ^C, ^\, SIGCONT) cannot stop it while it holds the
 * store or the shadow locks (both also hold every signal while they write), and at most
 * ONESHOT_PER_UID of them run at once for a caller that is not root, counted for the user root
 * runs it for when it says (--for-uid). A caller that is not root
 * may run the one-shot mode only, with the compiled-in configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>

#include "cgroup.h"
#include "config.h"
#include "courier.h"
#include "dirlink.h"
#include "helper.h"
#include "log.h"
#include "mailq.h"
#include "password.h"
#include "policy.h"
#include "ready.h"
#include "secret.h"
#include "server.h"
#include "storefill.h"
#include "util.h"

#define ONESHOT_PER_UID 4 /* live one-shot helpers of one caller that is not root */
#define ONESHOT_SLOTS_DIR "/run/pwreset/oneshot"

enum mode { MODE_ONESHOT, MODE_DAEMON, MODE_CHECK, MODE_HELP, MODE_VERSION };

struct args {
	enum mode mode;
	const char *config;
	char why[PWR_TEXT_MAX + 1];
	bool verbose;
	uint32_t idle_exit;
	bool for_uid_given; /* --for-uid: whom a privileged caller (su, sudo) runs it for */
	uid_t for_uid;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pwreset-helper [--for-uid UID]      one-shot mode, a socket on fd 0\n"
		"       pwreset-helper --daemon [--verbose] [--config FILE] [--idle-exit DURATION]\n"
		"       pwreset-helper --check-config [FILE]\n");
}

static int parse_args(int argc, char **argv, struct args *a)
{
	*a = (struct args){.mode = MODE_ONESHOT};
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (!strcmp(s, "--daemon"))
			a->mode = MODE_DAEMON;
		else if (!strcmp(s, "--verbose"))
			a->verbose = true;
		else if (!strcmp(s, "--config") && i + 1 < argc)
			a->config = argv[++i];
		else if (!strcmp(s, "--idle-exit") && i + 1 < argc) {
			uint64_t secs;
			if (duration_parse(argv[++i], &secs) < 0 || !secs || secs > 86400) {
				fprintf(stderr,
					"pwreset-helper: --idle-exit %s: a duration from 1s "
					"to 1d (90s, 10m, 1h)\n",
					argv[i]);
				return -EINVAL;
			}
			a->idle_exit = (uint32_t)secs;
		} else if (!strcmp(s, "--for-uid") && i + 1 < argc) {
			char *end;
			unsigned long n;
			errno = 0;
			n = strtoul(argv[++i], &end, 10);
			if (!*argv[i] || *end || errno || n >= UINT32_MAX) {
				fprintf(stderr, "pwreset-helper: --for-uid %s: not a uid\n",
					argv[i]);
				return -EINVAL;
			}
			a->for_uid = (uid_t)n;
			a->for_uid_given = true;
		} else if (!strcmp(s, "--check-config")) {
			a->mode = MODE_CHECK;
			if (i + 1 < argc && argv[i + 1][0] != '-')
				a->config = argv[++i];
		} else if (!strcmp(s, "--help") || !strcmp(s, "-h"))
			a->mode = MODE_HELP;
		else if (!strcmp(s, "--version"))
			a->mode = MODE_VERSION;
		else {
			fprintf(stderr, "pwreset-helper: unknown argument '%s'\n", s);
			return -EINVAL;
		}
	}
	return 0;
}

static int fds_sanitize(int keep_from_3)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open("/dev/null", O_RDWR | O_NOCTTY);
		if (n != fd)
			return -EBADF; /* /dev/null missing, or fd numbers not as expected: refuse */
	}
	if (close_range((unsigned)(3 + keep_from_3), ~0U, 0) < 0)
		return -errno;
	return 0;
}

/* The limits that could end us half-way through a write (RLIMIT_CPU, RLIMIT_RTTIME, a file cut
 * short by RLIMIT_FSIZE, memory) are lifted, or we refuse to run; no core dumps; 4096 fds.
 * For a caller that is not root (the setuid case) every other limit too is set to a known
 * value, as high as its hard limit allows (raising that needs CAP_SYS_RESOURCE, which a
 * container's root may lack), and nice or realtime priority cannot be raised; root's own
 * limits (a unit's Limit*=) stay. */
static int limits_sanitize(bool untrusted)
{
	static const int lift[] = {
		RLIMIT_CPU, RLIMIT_RTTIME, RLIMIT_FSIZE, RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK};
	struct rlimit rl;

	for (int res = 0; res < RLIM_NLIMITS; res++) {
		bool must = false;
		for (size_t i = 0; i < sizeof(lift) / sizeof(lift[0]); i++)
			must |= lift[i] == res;
		if (!must && !untrusted && res != RLIMIT_CORE && res != RLIMIT_NOFILE)
			continue;
		if (getrlimit(res, &rl) < 0)
			return -errno;
		if (res == RLIMIT_CORE || res == RLIMIT_NICE || res == RLIMIT_RTPRIO)
			rl.rlim_cur = rl.rlim_max = 0;
		else if (res == RLIMIT_NOFILE)
			rl.rlim_cur = rl.rlim_max = 4096;
		else
			rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
		if (setrlimit(res, &rl) == 0)
			continue;
		if (errno != EPERM || must || getrlimit(res, &rl) < 0)
			return -errno;
		rl.rlim_cur = rl.rlim_max; /* as far as we may */
		if (setrlimit(res, &rl) < 0)
			return -errno;
	}
	return 0;
}

/* Unless under its own unit (whose Nice=, CPUAffinity= or OOMScoreAdjust= stay, and whose
 * system call filter refuses these calls): the scheduling policy, nice, I/O priority, CPU
 * affinity and OOM score its starter chose are reset, whoever started it (a user, or root on a
 * user's behalf: su, sudo, polkit). Always: the working directory is /. */
static int scheduling_sanitize(bool untrusted)
{
	struct sched_param sp = {0};
	cpu_set_t all;
	int fd;

	if (!untrusted)
		return chdir("/") < 0 ? -errno : 0;
	CPU_ZERO(&all);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		CPU_SET(cpu, &all); /* the kernel keeps those the cgroup allows */
	if (sched_setscheduler(0, SCHED_OTHER, &sp) < 0 || setpriority(PRIO_PROCESS, 0, 0) < 0 ||
		sched_setaffinity(0, sizeof(all), &all) < 0)
		return -errno;
	/* best effort, normal priority: IOPRIO_CLASS_BE (2) << 13 | level 4 */
	if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (2 << 13) | 4) < 0)
		return -errno;
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return -e;
	}
	close(fd);
	return chdir("/") < 0 ? -errno : 0;
}

/* The one-shot helper leaves its caller's session: no terminal, no process group in which job
 * control could stop it. A process-group leader (a shell's foreground job) cannot call setsid:
 * it forks, and its child, which is no leader, carries on. */
static int session_leave(void)
{
	pid_t pid;

	if (setsid() >= 0)
		return 0;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	return setsid() < 0 ? -errno : 0;
}

/* At most ONESHOT_PER_UID one-shot helpers of a caller that is not root run at once: each holds
 * a lock on one of that uid's slot files while it runs (released by the kernel when it ends).
 * 0 with a slot held, -EAGAIN when every slot is taken, or another error. */
static int oneshot_slot_take(uid_t uid)
{
	char path[128];

	if (uid == 0)
		return 0; /* login and sshd: as many as there are logins */
	if ((mkdir("/run/pwreset", 0755) < 0 && errno != EEXIST) ||
		(mkdir(ONESHOT_SLOTS_DIR, 0700) < 0 && errno != EEXIST))
		return -errno;
	for (int i = 0; i < ONESHOT_PER_UID; i++) {
		int fd;
		snprintf(path, sizeof(path), ONESHOT_SLOTS_DIR "/%lu.%d", (unsigned long)uid, i);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0; /* kept open, and locked, until we exit */
		close(fd);
	}
	return -EAGAIN;
}

static void signals_sanitize(bool oneshot)
{
	static const int terminal[] = {SIGTSTP, SIGTTIN, SIGTTOU, SIGINT, SIGQUIT, SIGHUP};
	struct sigaction sa = {.sa_handler = SIG_DFL};
	sigset_t all;

	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* a terminal's signals are not for the one-shot helper, which has left the terminal */
	for (size_t i = 0; oneshot && i < sizeof(terminal) / sizeof(terminal[0]); i++)
		sigaction(terminal[i], &sa, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

static void report_stderr(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%s\n", line);
}

static void report_log(void *ctx, const char *line)
{
	(void)ctx;
	log_msg(LOG_ERR, "configuration: %s", line);
}

/* Rebuilt from nothing: only what systemd's socket hand-over needs survives. */
static void env_rebuild(bool listen_fds)
{
	char pid[32] = "", fds[16] = "";

	if (listen_fds) {
		snprintf(pid, sizeof(pid), "%s", getenv("LISTEN_PID") ? getenv("LISTEN_PID") : "");
		snprintf(fds, sizeof(fds), "%s", getenv("LISTEN_FDS"));
	}
	clearenv();
	setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
	if (listen_fds) {
		setenv("LISTEN_PID", pid, 1);
		setenv("LISTEN_FDS", fds, 1);
	}
}

/* Everything the process inherited from its caller made harmless, and root's credentials
 * alone: 0, or 1 (said on stderr and in the log) to exit with. */
static int process_sanitize(const struct args *a, uid_t caller, int listen_fds)
{
	int r;

	if ((r = fds_sanitize(listen_fds)) < 0 || (r = limits_sanitize(caller != 0)) < 0 ||
		(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 && (r = -errno) < 0)) {
		/* logged too: a caller's limit that cannot be lifted is a refusal like any other */
		log_init("pwreset-helper", 0);
		log_refusal(LOG_ERR, (long)caller, "unsafe-process", strerror(-r));
		fprintf(stderr,
			"pwreset-helper: cannot make the process safe to run (%s); refusing\n",
			strerror(-r));
		return 1;
	}
	signals_sanitize(a->mode == MODE_ONESHOT);
	umask(077);
	if (geteuid() != 0) {
		fprintf(stderr, "pwreset-helper: must run as root (installed setuid root)\n");
		return 1;
	}
	/* the caller's groups and uids are not ours to keep */
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
		fprintf(stderr, "pwreset-helper: cannot set credentials: %s\n", strerror(errno));
		return 1;
	}
	/* the modes that take locks: the one-shot helper, and the daemon unless its own unit
	 * started it (the unit set them, and its filter refuses these calls, also to the
	 * unit's ExecReload=, a --check-config, which takes no lock) */
	if ((r = scheduling_sanitize(
		     a->mode == MODE_ONESHOT || (a->mode == MODE_DAEMON && !listen_fds))) < 0 ||
		(a->mode == MODE_ONESHOT && (r = session_leave()) < 0)) {
		fprintf(stderr,
			"pwreset-helper: cannot leave the caller's scheduling or session: %s\n",
			strerror(-r));
		return 1;
	}
	env_rebuild(listen_fds);
	return 0;
}

/* The helper's state for serving: the account database, the store, the courier. */
static void helper_start(struct helper *h, uint32_t mode)
{
	struct dirlink *dir = NULL;
	int failed = 0;

	if (h->conf_ok && (dir = dirlink_new(&h->conf, &failed)) == NULL && failed) {
		log_msg(LOG_ERR, "out of memory for the directory: every request is refused");
		h->conf_ok = false;
	}
	account_db_directory(
		&h->accounts, PWR_SHADOW_PATH, PWR_PASSWD_PATH, PWR_FAILLOCK_CONF, dir);
	h->courier = courier_new();
	h->mode = mode;
	h->started = util_now();
}

static void helper_end(struct helper *h)
{
	courier_free(h->courier);
	dirlink_free(h->accounts.dir);
	store_close(h->store);
	conf_free(&h->conf);
	language_free(&h->words);
}

static int run_daemon(struct helper *h, const char *config, uint32_t idle_exit)
{
	int r;

	if (conf_load(&h->conf, config, true, report_stderr, NULL) != 0) {
		log_msg(LOG_ERR, "%s has errors; not starting", config);
		conf_free(&h->conf);
		return 1;
	}
	h->conf_ok = true;
	h->config_path = config;
	policy_note_file(h);
	if (store_open(h->conf.state_dir, 0, store_fills, &h->store) < 0) {
		log_msg(LOG_ERR, "cannot open the store in %s; not starting", h->conf.state_dir);
		conf_free(&h->conf);
		return 1;
	}
	ready_check(h); /* said at start, not only at the first request */
	helper_start(h, PWR_MODE_DAEMON);
	h->idle_exit = idle_exit;
	r = server_daemon(h) < 0;
	helper_end(h);
	return r;
}

/* One-shot: fd 0 must be the caller's end of a SOCK_SEQPACKET socketpair. */
static int run_oneshot(struct helper *h, const char *config, uid_t ruid, gid_t rgid, uid_t caller)
{
	char why[512];
	int type = 0, r;
	socklen_t tlen = sizeof(type);

	if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_SEQPACKET) {
		log_refusal(LOG_ERR, (long)caller, "fd0-not-a-socket", NULL);
		fprintf(stderr, "pwreset-helper: standard input is not a SOCK_SEQPACKET socket; "
				"this mode is for pam_pwreset and pwresetctl\n");
		conf_free(&h->conf);
		return 1;
	}
	/* before any lock of the store's or the shadow file's: out of every user's freezer */
	if ((r = cgroup_leave_users(why, sizeof(why))) < 0) {
		log_refusal(LOG_ERR, (long)caller, "freezable-cgroup", why);
		fprintf(stderr, "pwreset-helper: %s; refusing\n", why);
		conf_free(&h->conf);
		return 1;
	}
	if ((r = oneshot_slot_take(caller)) < 0) {
		/* the caller reads a closed connection: the module fails safe */
		log_refusal(LOG_WARNING, (long)caller,
			r == -EAGAIN ? "too-many-helpers" : "no-helper-slot", NULL);
		if (r != -EAGAIN)
			log_msg(LOG_ERR, "cannot use %s: %s", ONESHOT_SLOTS_DIR, strerror(-r));
		conf_free(&h->conf);
		return 1;
	}
	h->conf_ok = conf_load(&h->conf, config, true, report_log, NULL) == 0;
	h->config_path = config;
	if (h->conf_ok && store_open(h->conf.state_dir, 0, store_fills, &h->store) < 0)
		h->store = NULL;
	helper_start(h, PWR_MODE_ONESHOT);
	server_oneshot(h, 0, ruid, rgid);
	helper_end(h);
	return 0;
}

/* --check-config: the password files named can be read, are root's and nobody else's. How
 * many cannot, each said on stderr. */
static int check_secrets(const struct pwr_conf *c)
{
	const struct {
		const char *key, *path;
	} files[] = {{"smtp_password_file", c->smtp_password_file},
		{"directory_password_file", c->directory_password_file}};
	char why[512], *secret;
	int errors = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!*files[i].path)
			continue;
		if (secret_file_read(files[i].key, files[i].path, 1024, &secret, why, sizeof(why)) <
			0) {
			fprintf(stderr, "pwreset-helper: %s\n", why);
			errors++;
		} else {
			secret_free(secret);
		}
	}
	return errors;
}

/* With admin_group set, a group of admin_protected_groups that this host does not know
 * protects no one: said, as its name may be misspelt (a group NSS cannot read counts as one
 * whose members are protected, so it is not said). */
static void warn_protected_groups(const struct pwr_conf *c)
{
	const struct conf_list *l = &c->admin_protected_groups;

	if (!c->admin_group[0])
		return;
	for (size_t i = 0; i < l->n; i++) {
		char buf[16384];
		struct group gr, *res = NULL;
		int e = getgrnam_r(l->items[i], &gr, buf, sizeof(buf), &res);
		if (!res && (e == 0 || e == ENOENT || e == ESRCH))
			fprintf(stderr,
				"pwreset-helper: warning: admin_protected_groups: no group '%s' on "
				"this host\n",
				l->items[i]);
	}
}

int main(int argc, char **argv)
{
	uid_t ruid = getuid(), caller;
	gid_t rgid = getgid();
	struct helper h = {.mail_kick = -1};
	struct args a;
	int listen_fds = 0, errors;
	const char *config;
	char why[PWR_TEXT_MAX + 1];

	/* argc may be 0, and argv[1] then is the environment: read nothing */
	if (argc < 1 || !argv || !argv[0])
		argc = 1;
	if (parse_args(argc, argv, &a) < 0) {
		usage(stderr);
		return 2;
	}
	if (a.mode == MODE_HELP || a.mode == MODE_VERSION) {
		if (a.mode == MODE_HELP)
			usage(stdout);
		else
			printf("pwreset-helper %s\n", PWR_VERSION);
		return 0;
	}
	if (ruid != 0 && (a.mode != MODE_ONESHOT || a.config || a.verbose || a.idle_exit ||
				 a.for_uid_given)) {
		fprintf(stderr, "pwreset-helper: only root may use these options\n");
		return 2;
	}
	if (a.mode == MODE_DAEMON && getenv("LISTEN_FDS") && !strcmp(getenv("LISTEN_FDS"), "1"))
		listen_fds = 1;
	/* root running it for someone (su, sudo, polkit): that one's limits and slots */
	caller = ruid == 0 && a.for_uid_given ? a.for_uid : ruid;
	if (process_sanitize(&a, caller, listen_fds) != 0)
		return 1;
	config = a.config ? a.config : PWR_CONFIG_PATH;
	log_init("pwreset-helper", a.verbose);
	if (conf_init(&h.conf) < 0) {
		log_msg(LOG_ERR, "out of memory");
		return 1;
	}
	/* the password files are read into guarded memory, in every mode */
	if (sodium_init() < 0) {
		log_msg(LOG_ERR, "libsodium cannot be initialised");
		conf_free(&h.conf);
		return 1;
	}
	if (a.mode == MODE_CHECK) {
		errors = conf_load(&h.conf, config, true, report_stderr, NULL);
		if (errors == 0)
			errors += check_secrets(&h.conf);
		/* a directory without its agent: local accounts still reset, so only said */
		if (errors == 0 && *h.conf.directory_url &&
			dirlink_agent_ready(&h.conf, why, sizeof(why)) < 0)
			fprintf(stderr, "pwreset-helper: warning: %s\n", why);
		if (errors == 0)
			warn_protected_groups(&h.conf);
		conf_free(&h.conf);
		/* a good file on a host that cannot complete a reset is not a working setup */
		if (password_ready(why, sizeof(why)) < 0) {
			fprintf(stderr, "pwreset-helper: %s\n", why);
			errors++;
		}
		return errors == 0 ? 0 : 1;
	}
	if (a.mode == MODE_DAEMON)
		return run_daemon(&h, config, a.idle_exit);
	return run_oneshot(&h, config, ruid, rgid, caller);
}
