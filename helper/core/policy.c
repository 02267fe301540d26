/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy keys, shown and changed (issue 20: `pwresetctl policy`, the administrators'
 * page), and a daemon that takes a changed configuration file into account without a restart:
 * when its directory's watch (inotify) sees a file written or renamed there, on SIGHUP, and
 * whenever a request finds the file changed.
 * MUST: only root changes the policy; a change is written only when the whole new file passes
 * the checks of --check-config, through a new file renamed over the old one (owner and mode
 * kept), so a broken file never replaces a good one; a file that has errors is never put in
 * use: the configuration in use stays, and the log says why.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "account.h"
#include "answer.h"
#include "audit.h"
#include "confedit.h"
#include "dirlink.h"
#include "log.h"
#include "policy.h"
#include "util.h"

#define FILE_MAX (64 * 1024)

/* What identifies the file's content as last read: a change of any of these is a new file. */
static void signature(const struct stat *st, struct conf_sig *sig)
{
	*sig = (struct conf_sig){
		st->st_dev, st->st_ino, st->st_size, st->st_mtim.tv_sec, st->st_mtim.tv_nsec, true};
}

static bool same(const struct conf_sig *a, const struct conf_sig *b)
{
	return a->known && b->known && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->sec == b->sec && a->nsec == b->nsec;
}

void policy_note_file(struct helper *h)
{
	struct stat st;

	if (h->config_path && stat(h->config_path, &st) == 0)
		signature(&st, &h->conf_sig);
}

struct collect {
	char *out;
	size_t cap, pos;
};

/* Each error line of a configuration: logged, and kept for the answer. */
static void collect(void *ctx, const char *line)
{
	struct collect *c = ctx;
	int w;

	log_msg(LOG_ERR, "configuration: %s", line);
	if (!c->out || c->pos + 1 >= c->cap)
		return;
	w = snprintf(c->out + c->pos, c->cap - c->pos, "%s%s", c->pos ? "\n" : "", line);
	if (w > 0)
		c->pos += (size_t)w < c->cap - c->pos ? (size_t)w : c->cap - c->pos - 1;
}

/* Put c in use in place of h->conf, with what hangs on it: the directory and the accounts. */
static void put_in_use(struct helper *h, struct pwr_conf *c)
{
	struct dirlink *dir;
	int failed = 0;

	if (strcmp(c->state_dir, h->conf.state_dir) || strcmp(c->socket, h->conf.socket))
		log_msg(LOG_NOTICE,
			"state_dir and socket take effect when the helper starts again");
	dirlink_free(h->accounts.dir);
	conf_free(&h->conf);
	h->conf = *c;
	dir = dirlink_new(&h->conf, &failed);
	account_db_directory(&h->accounts, h->accounts.shadow, h->accounts.passwd,
		h->accounts.faillock_conf, dir);
	if (failed) {
		log_msg(LOG_ERR, "out of memory for the directory: every request is refused");
		h->conf_ok = false;
	}
}

int policy_reload(struct helper *h)
{
	struct collect col = {h->conf_problem, sizeof(h->conf_problem), 0};
	struct pwr_conf c;
	int r;

	if (!h->config_path)
		return 0;
	policy_note_file(h);
	h->conf_problem[0] = '\0';
	if (conf_init(&c) < 0)
		return -ENOMEM;
	r = conf_load(&c, h->config_path, true, collect, &col);
	if (r != 0) {
		conf_free(&c);
		log_msg(LOG_ERR, "%s has errors; the configuration in use stays", h->config_path);
		return r < 0 ? r : -EINVAL;
	}
	put_in_use(h, &c);
	log_msg(LOG_NOTICE, "%s read again", h->config_path);
	return 0;
}

int policy_watch_open(const struct helper *h)
{
	const char *slash = h->config_path ? strrchr(h->config_path, '/') : NULL;
	char dir[4096] = ".";
	int fd;

	if (!h->config_path)
		return -1;
	if (slash) {
		size_t len = slash == h->config_path ? 1 : (size_t)(slash - h->config_path);
		if (len >= sizeof(dir))
			return -1;
		memcpy(dir, h->config_path, len);
		dir[len] = '\0';
	}
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd >= 0 &&
		inotify_add_watch(fd, dir,
			IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB) < 0) {
		int e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	if (fd < 0)
		log_msg(LOG_NOTICE,
			"cannot watch %s (%s): a change of %s is seen at the next request or on SIGHUP",
			dir, strerror(errno), h->config_path);
	return fd;
}

void policy_watch_read(struct helper *h, int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(fd, buf, sizeof(buf)) > 0)
		; /* which file it was does not matter: the file's own signature decides */
	policy_check_file(h);
}

void policy_check_file(struct helper *h)
{
	struct stat st;
	struct conf_sig now;

	if (!h->config_path || stat(h->config_path, &st) < 0)
		return;
	signature(&st, &now);
	if (!same(&now, &h->conf_sig))
		policy_reload(h);
}

int policy_show(struct helper *h, struct peer *p, union pwr_msg *m)
{
	struct pwr_policy_ans a = {.status = PWR_OK,
		.self_reset = h->conf.self_reset,
		.user_addresses = h->conf.user_addresses,
		.min_uid = h->conf.min_uid};
	const struct conf_list *lists[] = {&h->conf.exclude_users, &h->conf.exclude_groups};
	char *outs[] = {a.exclude_users, a.exclude_groups};

	(void)m;
	snprintf(a.help, sizeof(a.help), "%s", h->conf.help_message);
	snprintf(a.admin_group, sizeof(a.admin_group), "%s", h->conf.admin_group);
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0, pos = 0; i < lists[l]->n; i++) {
			int w = snprintf(outs[l] + pos, sizeof(a.exclude_users) - pos, "%s%s",
				i ? "," : "", lists[l]->items[i]);
			if (w > 0)
				pos += (size_t)w < sizeof(a.exclude_users) - pos
					       ? (size_t)w
					       : sizeof(a.exclude_users) - pos - 1;
		}
	snprintf(a.file, sizeof(a.file), "%.*s", (int)sizeof(a.file) - 1,
		h->config_path ? h->config_path : "");
	snprintf(a.problem, sizeof(a.problem), "%.*s", (int)sizeof(a.problem) - 1, h->conf_problem);
	audit(LOG_INFO, "policy", p, NULL, NULL, "ok", NULL);
	return answer_send(p, PWR_ANS_POLICY, &a);
}

/* The file as it is: its bytes (malloc'd) and what the new one must keep. 0, or < 0. */
static int read_file(const char *path, char **data, size_t *len, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY), r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -EINVAL;
	}
	r = util_read_all(fd, FILE_MAX, data, len);
	close(fd);
	return r;
}

/* Replace path with data: a new file beside it (the old one's owner and mode), synced, then
 * renamed over it. 0, or < 0 with the file as it was. */
static int replace_file(const char *path, const char *data, size_t len, const struct stat *st)
{
	char tmp[4096], dir[4096], *slash;
	int fd, dfd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.pwreset-XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return -errno;
	if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0)
		r = -errno;
	if (r == 0)
		r = util_write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	/* the rename made durable */
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if ((dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int policy_set(struct helper *h, struct peer *p, union pwr_msg *m)
{
	const char *key = m->policy.key, *value = m->policy.value, *path = h->config_path;
	char errors[PWR_TEXT_MAX + 1] = "", *data = NULL, *edited = NULL;
	struct collect col = {errors, sizeof(errors), 0};
	size_t len = 0, elen = 0;
	struct pwr_conf c;
	struct stat st;
	int r;

	if (p->uid != 0) {
		audit(LOG_WARNING, "policy-set", p, NULL, NULL, "refused", "not-root");
		return answer_error(p, PWR_E_PERM, "only root changes the policy");
	}
	if (!confedit_is_policy_key(key)) {
		audit(LOG_NOTICE, "policy-set", p, NULL, NULL, "refused", "not-a-policy-key");
		return answer_error(p, PWR_E_INVALID, "%s is not a policy key", key);
	}
	if ((r = read_file(path, &data, &len, &st)) < 0 ||
		(r = confedit_set(data, len, key, value, &edited, &elen)) < 0) {
		util_free_wiped(data, len);
		audit(LOG_NOTICE, "policy-set", p, NULL, NULL, "refused", key);
		return answer_error(p, r == -EINVAL ? PWR_E_INVALID : PWR_E_INTERNAL, "%s: %s",
			path,
			r == -EINVAL ? "a value with a control character, or a blank at an end"
				     : strerror(-r));
	}
	util_free_wiped(data, len);
	/* the whole new file, as --check-config would read it */
	if ((r = conf_init(&c)) == 0)
		r = conf_parse(&c, path, edited, elen, collect, &col);
	conf_free(&c);
	if (r == 0)
		r = replace_file(path, edited, elen, &st);
	util_free_wiped(edited, elen);
	if (r != 0) {
		audit(LOG_NOTICE, "policy-set", p, NULL, NULL, r > 0 ? "refused" : "error", key);
		return answer_error(p, r > 0 ? PWR_E_INVALID : PWR_E_INTERNAL, "%s",
			r > 0 ? errors : strerror(-r));
	}
	audit(LOG_NOTICE, "policy-set", p, NULL, NULL, "ok", key);
	policy_reload(h);
	return policy_show(h, p, m);
}
