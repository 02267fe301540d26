/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pwreset-helper: modes, and the hygiene of a setuid program.
 * MUST, before anything else runs: argv is not read when argc is 0; fds 0-2 are valid and no
 * other inherited fd stays open (but the socket systemd hands over); the environment is rebuilt
 * from nothing; signal dispositions and mask are reset; core dumps are off and the process is
 * not dumpable; the limits that could make a write fail half-way are raised; the caller's
 * groups are dropped and every uid made 0, so the caller cannot signal or trace us. A caller
 * that is not root may run the one-shot mode only, with the compiled-in configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "deliver.h"
#include "helper.h"
#include "log.h"
#include "password.h"
#include "server.h"
#include "util.h"

enum mode { MODE_ONESHOT, MODE_DAEMON, MODE_CHECK, MODE_HELP, MODE_VERSION };

struct args {
	enum mode mode;
	const char *config;
	char why[PWR_TEXT_MAX + 1];
	bool verbose;
	uint32_t idle_exit;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pwreset-helper                      one-shot mode, a socket on fd 0\n"
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
			if (conf_parse_duration(argv[++i], &secs) < 0 || !secs || secs > 86400) {
				fprintf(stderr,
					"pwreset-helper: --idle-exit %s: a duration from 1s "
					"to 1d (90s, 10m, 1h)\n",
					argv[i]);
				return -EINVAL;
			}
			a->idle_exit = (uint32_t)secs;
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

static int limits_sanitize(void)
{
	static const int raise_to_max[] = {RLIMIT_FSIZE, RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK};
	struct rlimit rl = {0, 0};

	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(raise_to_max) / sizeof(raise_to_max[0]); i++) {
		rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
		if (setrlimit(raise_to_max[i], &rl) < 0)
			return -errno;
	}
	rl.rlim_cur = rl.rlim_max = 4096;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	return 0;
}

static void signals_sanitize(void)
{
	struct sigaction sa = {.sa_handler = SIG_DFL};
	sigset_t all;

	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
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

int main(int argc, char **argv)
{
	uid_t ruid = getuid();
	gid_t rgid = getgid();
	struct helper h = {0};
	struct args a;
	int listen_fds = 0, errors, type = 0;
	socklen_t tlen = sizeof(type);
	const char *config;
	char why[PWR_TEXT_MAX + 1];

	/* argc may be 0, and argv[1] then is the environment: read nothing */
	if (argc < 1 || !argv || !argv[0])
		argc = 1;
	if (parse_args(argc, argv, &a) < 0) {
		usage(stderr);
		return 2;
	}
	if (a.mode == MODE_HELP) {
		usage(stdout);
		return 0;
	}
	if (a.mode == MODE_VERSION) {
		printf("pwreset-helper %s\n", PWR_VERSION);
		return 0;
	}
	if (ruid != 0 && (a.mode != MODE_ONESHOT || a.config || a.verbose || a.idle_exit)) {
		fprintf(stderr, "pwreset-helper: only root may use these options\n");
		return 2;
	}
	if (a.mode == MODE_DAEMON && getenv("LISTEN_FDS") && !strcmp(getenv("LISTEN_FDS"), "1"))
		listen_fds = 1;
	if (fds_sanitize(listen_fds) < 0 || limits_sanitize() < 0 ||
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		fprintf(stderr, "pwreset-helper: cannot make the process safe to run; refusing\n");
		return 1;
	}
	signals_sanitize();
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
	{
		/* rebuilt from nothing: only what systemd's socket hand-over needs survives */
		char pid[32] = "", fds[16] = "";
		if (listen_fds) {
			snprintf(pid, sizeof(pid), "%s",
				getenv("LISTEN_PID") ? getenv("LISTEN_PID") : "");
			snprintf(fds, sizeof(fds), "%s", getenv("LISTEN_FDS"));
		}
		clearenv();
		setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
		if (listen_fds) {
			setenv("LISTEN_PID", pid, 1);
			setenv("LISTEN_FDS", fds, 1);
		}
	}

	config = a.config ? a.config : PWR_CONFIG_PATH;
	log_init("pwreset-helper", a.verbose);
	if (conf_init(&h.conf) < 0) {
		log_msg(LOG_ERR, "out of memory");
		return 1;
	}

	if (a.mode == MODE_CHECK) {
		errors = conf_load(&h.conf, config, true, report_stderr, NULL);
		conf_free(&h.conf);
		/* a good file on a host that cannot complete a reset is not a working setup */
		if (password_ready(why, sizeof(why)) < 0) {
			fprintf(stderr, "pwreset-helper: %s\n", why);
			errors++;
		}
		return errors == 0 ? 0 : 1;
	}

	if (a.mode == MODE_DAEMON) {
		errors = conf_load(&h.conf, config, true, report_stderr, NULL);
		if (errors != 0) {
			log_msg(LOG_ERR, "%s has errors; not starting", config);
			conf_free(&h.conf);
			return 1;
		}
		h.conf_ok = true;
		if (store_open(h.conf.state_dir, 0, &h.store) < 0) {
			log_msg(LOG_ERR, "cannot open the store in %s; not starting",
				h.conf.state_dir);
			conf_free(&h.conf);
			return 1;
		}
		if (password_ready(why, sizeof(why)) < 0) {
			log_msg(LOG_ERR, "password reset is refused until this is fixed: %s", why);
			h.unready_logged = true;
		}
		h.courier = courier_new();
		h.mode = PWR_MODE_DAEMON;
		h.started = util_now();
		h.idle_exit = a.idle_exit;
		errors = server_daemon(&h) < 0;
		courier_free(h.courier);
		store_close(h.store);
		conf_free(&h.conf);
		return errors;
	}

	/* one-shot: fd 0 must be the caller's end of a SOCK_SEQPACKET socketpair */
	if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_SEQPACKET) {
		log_msg(LOG_ERR, "event=refused by=%ld result=refused reason=fd0-not-a-socket",
			(long)ruid);
		fprintf(stderr, "pwreset-helper: standard input is not a SOCK_SEQPACKET socket; "
				"this mode is for pam_pwreset and pwresetctl\n");
		conf_free(&h.conf);
		return 1;
	}
	errors = conf_load(&h.conf, config, true, report_log, NULL);
	h.conf_ok = errors == 0;
	if (h.conf_ok && store_open(h.conf.state_dir, 0, &h.store) < 0)
		h.store = NULL;
	h.courier = courier_new();
	h.mode = PWR_MODE_ONESHOT;
	h.started = util_now();
	server_oneshot(&h, 0, ruid, rgid);
	courier_free(h.courier);
	store_close(h.store);
	conf_free(&h.conf);
	return 0;
}
