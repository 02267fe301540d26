/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "dirlink.h"
#include "log.h"
#include "secret.h"
#include "unpriv.h"
#include "util.h"

#define DIRLINK_IDLE 60 /* s without a request: then the program and its connection go */
#define ANSWER_GRACE_MS 2000 /* beyond the program's own timeouts */

struct dirlink {
	const struct pwr_conf *conf;
	int fd; /* our end of the program's socketpair; -1: not running */
	pid_t pid;
	uint32_t tag;
	uint64_t used; /* when it last had a request */
	unsigned char *out, *in; /* DIRREQ_PACKET_MAX and DIRANS_PACKET_MAX bytes */
	struct dirans ans; /* the last answer, until the next call */
	struct dirlink_pool pool; /* take NULL: none */
	bool borrowed; /* the program is another's child: closed, never signalled, when stopped */
};

/* pwreset-directory's own user, never mail_user's uid (unpriv.h) */
static const struct unpriv_user agent_user = {PWR_DIRECTORY_USER, "the directory agent's user"};

int dirlink_agent_ready(const struct pwr_conf *conf, char *why, size_t whylen)
{
	const struct unpriv_user mailer = {conf->mail_user, "mail_user"};
	uid_t uid, mail_uid;
	gid_t gid, mail_gid;
	int r;

	if (access(PWR_DIRECTORY_PATH, X_OK) < 0) {
		snprintf(why, whylen,
			"directory_url is set, but pwreset-directory is not installed (%s: %s): "
			"directory accounts cannot be reset until the package pwreset-directory is "
			"installed, or directory_url is emptied",
			PWR_DIRECTORY_PATH, strerror(errno));
		return -ENOENT;
	}
	if ((r = unpriv_ids(&agent_user, "pwreset-directory", &uid, &gid, why, whylen)) < 0) {
		if (r == -ENOENT)
			snprintf(why + strlen(why), whylen - strlen(why),
				" (its package makes it: systemd-sysusers pwreset-directory.conf)");
		return r;
	}
	/* the mailer meets hostile servers: it must not be able to read the bind password */
	if (unpriv_ids(&mailer, "the mailer", &mail_uid, &mail_gid, why, whylen) == 0 &&
		mail_uid == uid) {
		snprintf(why, whylen,
			"mail_user %s has the uid of the directory agent's user %s (%u): the mailer "
			"could read the directory's bind password; refusing to start "
			"pwreset-directory until mail_user is another user",
			conf->mail_user, PWR_DIRECTORY_USER, (unsigned)uid);
		return -EPERM;
	}
	return 0;
}

struct dirlink *dirlink_new(const struct pwr_conf *conf, int *failed)
{
	char why[DIR_TEXT_MAX + 1];
	struct dirlink *l;

	*failed = 0;
	if (!*conf->directory_url)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (l) {
		l->out = malloc(DIRREQ_PACKET_MAX);
		l->in = malloc(DIRANS_PACKET_MAX);
	}
	if (!l || !l->out || !l->in) {
		dirlink_free(l);
		*failed = 1;
		return NULL;
	}
	l->conf = conf;
	l->fd = -1;
	if (dirlink_agent_ready(conf, why, sizeof(why)) < 0)
		log_msg(LOG_WARNING, "%s",
			why); /* and again with each directory account's request */
	return l;
}

static void stop(struct dirlink *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	if (l->pid > 0 && !l->borrowed) {
		kill(l->pid, SIGKILL); /* it holds nothing that needs saying goodbye */
		while (waitpid(l->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	l->pid = 0;
	l->borrowed = false;
}

void dirlink_pool(struct dirlink *l, const struct dirlink_pool *pool)
{
	if (l)
		l->pool = *pool;
}

void dirlink_free(struct dirlink *l)
{
	if (!l)
		return;
	if (l->fd >= 0 && l->pool.give) {
		/* between requests, answered in full: another conversation may go on with it */
		l->pool.give(l->pool.ctx, l->fd, l->pid);
		l->fd = -1;
		l->pid = 0;
		l->borrowed = false;
	}
	stop(l);
	if (l->out)
		util_free_wiped(l->out, DIRREQ_PACKET_MAX); /* it held a password */
	free(l->in);
	free(l);
}

/* How long the program may take to answer one request: directory_timeout for each URL, all
 * it does there counted (pwreset-directory keeps to it), and a grace. */
static int answer_bound_ms(const struct dirlink *l)
{
	int urls = 1;

	for (const char *p = l->conf->directory_url; *p; p++)
		urls += *p == ',';
	return (int)l->conf->directory_timeout * 1000 * urls + ANSWER_GRACE_MS;
}

/* Send q: 0, or < 0 with why. */
static int send_request(struct dirlink *l, const struct dirreq *q, char *why, size_t whylen)
{
	long n = dirproto_req_encode(q, l->out, DIRREQ_PACKET_MAX);
	ssize_t sent;

	if (n < 0) {
		snprintf(why, whylen, "the request cannot be encoded (a field too long)");
		return -EINVAL;
	}
	sent = send(l->fd, l->out, (size_t)n, MSG_NOSIGNAL);
	explicit_bzero(l->out, (size_t)n); /* it may hold a password */
	if (sent != n) {
		snprintf(why, whylen, "pwreset-directory is gone: %s", strerror(errno));
		return -EPIPE;
	}
	return 0;
}

/* Read the next answer to the request tagged tag into a, waiting at most wait_ms: 0, or < 0
 * with why. */
static int read_answer(
	struct dirlink *l, uint32_t tag, struct dirans *a, int wait_ms, char *why, size_t whylen)
{
	struct pollfd pfd = {l->fd, POLLIN, 0};
	ssize_t got;
	int r;

	while ((r = poll(&pfd, 1, wait_ms)) < 0 && errno == EINTR)
		;
	if (r == 0) {
		snprintf(why, whylen, "pwreset-directory did not answer within %d s; stopped it",
			wait_ms / 1000);
		return -ETIMEDOUT;
	}
	got = recv(l->fd, l->in, DIRANS_PACKET_MAX, MSG_DONTWAIT);
	if (got <= 0 || dirproto_ans_decode(l->in, (size_t)got, a) < 0 || a->tag != tag) {
		snprintf(why, whylen, "pwreset-directory %s",
			got <= 0 ? "exited (see its log)" : "answered nonsense");
		return -EPROTO;
	}
	return 0;
}

static int exchange(struct dirlink *l, const struct dirreq *q, struct dirans *a, int wait_ms,
	char *why, size_t whylen)
{
	int r = send_request(l, q, why, whylen);

	return r < 0 ? r : read_answer(l, q->tag, a, wait_ms, why, whylen);
}

/* The program running and configured: 0, or < 0 with why. */
static int ensure_started(struct dirlink *l, struct dirans *a, char *why, size_t whylen)
{
	const struct pwr_conf *c = l->conf;
	char *password = NULL;
	struct dirreq q;
	int r;

	if (l->fd >= 0)
		return 0;
	/* one another conversation started and configured: no start, no TLS handshake */
	if (l->pool.take && l->pool.take(l->pool.ctx, &l->fd, &l->pid) == 0) {
		l->borrowed = true;
		return 0;
	}
	if ((r = dirlink_agent_ready(c, why, whylen)) < 0)
		return r;
	if ((r = secret_file_read("directory_password_file", c->directory_password_file,
		     DIR_PASSWORD_MAX, &password, why, whylen)) < 0)
		return r;
	if ((r = unpriv_start(&agent_user, PWR_DIRECTORY_PATH, "pwreset-directory", &l->fd, &l->pid,
		     why, whylen)) < 0) {
		secret_free(password);
		return r;
	}
	q = (struct dirreq){.tag = ++l->tag,
		.op = DIR_CONFIG,
		.starttls =
			c->directory_starttls == CONF_DIR_TLS_OFF ? DIR_TLS_OFF : DIR_TLS_REQUIRED,
		.timeout = c->directory_timeout,
		.type = c->directory_type == CONF_DIR_AD     ? DIR_TYPE_AD
			: c->directory_type == CONF_DIR_AUTO ? DIR_TYPE_AUTO
							     : DIR_TYPE_OPENLDAP,
		.urls = c->directory_url,
		.ca_file = c->directory_ca_file,
		.bind_dn = c->directory_bind_dn,
		.password = password,
		.base = c->directory_base,
		.filter = c->directory_user_filter,
		.attr = c->directory_address_attribute,
		.lang_attr = c->directory_language_attribute};
	r = exchange(l, &q, a, ANSWER_GRACE_MS, why, whylen);
	secret_free(password);
	if (r == 0 && a->status != DIR_OK) {
		snprintf(why, whylen, "pwreset-directory refused its configuration: %.900s",
			a->text);
		r = -EINVAL;
	}
	if (r < 0)
		stop(l);
	return r;
}

int dirlink_spawn(struct dirlink *l, int *fd, pid_t *pid, char *why, size_t whylen)
{
	int r;

	if (!l)
		return -ENOENT;
	stop(l);
	if ((r = ensure_started(l, &l->ans, why, whylen)) < 0)
		return r;
	*fd = l->fd; /* the caller's now */
	*pid = l->pid;
	l->fd = -1;
	l->pid = 0;
	return 0;
}

const struct dirans *dirlink_call(
	struct dirlink *l, struct dirreq *q, dirlink_each_fn *each, void *ctx)
{
	static const struct dirans none = {
		.status = DIR_UNREACHABLE, .text = "no directory is configured"};
	struct dirans *a;
	char why[DIR_TEXT_MAX + 1];
	int r;

	if (!l)
		return &none;
	a = &l->ans;
	explicit_bzero(a, sizeof(*a));
	l->used = util_now();
	if ((r = ensure_started(l, a, why, sizeof(why))) == 0) {
		q->tag = ++l->tag;
		r = exchange(l, q, a, answer_bound_ms(l), why, sizeof(why));
		/* a listing: its entries, then the answer that ends it */
		while (r == 0 && q->op == DIR_LIST && a->more) {
			if (each)
				each(ctx, a);
			r = read_answer(l, q->tag, a, answer_bound_ms(l), why, sizeof(why));
		}
	}
	if (r < 0) {
		stop(l);
		memset(a, 0, sizeof(*a));
		a->status = DIR_UNREACHABLE;
		util_copy(a->text, sizeof(a->text), why);
	}
	return a;
}

void dirlink_tick(struct dirlink *l, uint64_t now)
{
	if (l && l->fd >= 0 && now >= l->used + DIRLINK_IDLE)
		stop(l);
}
