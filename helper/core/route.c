/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The request table and its dispatch: for each request, who may ask it, what it needs and
 * whether it queues mail. Permissions:
 *   PERM_SELF   uid 0 for any user; any other uid for the account whose uid it is, only
 *   PERM_ADMIN  uid 0, or a member of admin_group
 * MUST: a request that is not permitted is refused, logged, and the peer dropped. Every refusal
 * and every change is logged; no code is ever logged or answered.
 */
#include <errno.h>
#include <pwd.h>
#include <sodium.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "account.h"
#include "admin.h"
#include "answer.h"
#include "audit.h"
#include "courier.h"
#include "log.h"
#include "policy.h"
#include "route.h"
#include "selfaddress.h"
#include "selfservice.h"
#include "util.h"
#include "wire.h"

enum perm { PERM_SELF, PERM_ADMIN };

/* What a request needs before its handler runs, and what follows it. */
enum {
	NEEDS_STORE = 1, /* answered PWR_E_INTERNAL when the store is not open */
	NEEDS_CODE = 2, /* this connection must have shown a valid code for the user */
	MAILS = 4, /* it may queue mail: the courier looks at the queue after the answer */
};

/* Where a self-service request says whom it is about. */
enum about { ABOUT_WHO, ABOUT_VERIFY, ABOUT_SET_PASSWORD, ABOUT_ADDRESS, ABOUT_NOBODY };

struct route {
	uint16_t op;
	enum perm perm;
	unsigned flags;
	enum about about;
	handler_fn *fn;
};

static const struct route routes[] = {
	{PWR_REQ_OFFER, PERM_SELF, 0, ABOUT_WHO, selfservice_offer},
	{PWR_REQ_REQUEST, PERM_SELF, NEEDS_STORE | MAILS, ABOUT_WHO, selfservice_request},
	{PWR_REQ_VERIFY, PERM_SELF, NEEDS_STORE, ABOUT_VERIFY, selfservice_verify},
	{PWR_REQ_SET_PASSWORD, PERM_SELF, NEEDS_STORE | NEEDS_CODE | MAILS, ABOUT_SET_PASSWORD,
		selfservice_set_password},
	{PWR_REQ_ADDRESS_SHOW, PERM_SELF, NEEDS_STORE, ABOUT_ADDRESS, selfaddress_show},
	{PWR_REQ_ADDRESS_SET, PERM_SELF, NEEDS_STORE | MAILS, ABOUT_ADDRESS, selfaddress_set},
	{PWR_REQ_ADDRESS_CONFIRM, PERM_SELF, NEEDS_STORE | MAILS, ABOUT_ADDRESS,
		selfaddress_confirm},
	{PWR_REQ_ADDRESS_REMOVE, PERM_SELF, NEEDS_STORE | MAILS, ABOUT_ADDRESS, selfaddress_remove},
	{PWR_REQ_ADDRESS_LANGUAGE, PERM_SELF, NEEDS_STORE, ABOUT_ADDRESS, selfaddress_language},
	{PWR_REQ_EMAIL_SET, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, admin_email_set},
	{PWR_REQ_EMAIL_UNSET, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, admin_email_unset},
	{PWR_REQ_EMAIL_SHOW, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, admin_email_show},
	{PWR_REQ_EMAIL_LANGUAGE, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, admin_email_language},
	{PWR_REQ_EMAIL_IMPORT, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, admin_email_import},
	{PWR_REQ_EMAIL_EXPORT, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, admin_email_export},
	{PWR_REQ_CHECK, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, admin_check},
	{PWR_REQ_TOKENS, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, admin_tokens},
	{PWR_REQ_REVOKE, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, admin_revoke},
	{PWR_REQ_RESET, PERM_ADMIN, NEEDS_STORE | MAILS, ABOUT_NOBODY, admin_reset},
	{PWR_REQ_QUEUE, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, admin_queue},
	{PWR_REQ_QUEUE_FLUSH, PERM_ADMIN, NEEDS_STORE | MAILS, ABOUT_NOBODY, admin_queue_flush},
	{PWR_REQ_STATUS, PERM_ADMIN, NEEDS_STORE, ABOUT_NOBODY, admin_status},
	{PWR_REQ_POLICY_SHOW, PERM_ADMIN, 0, ABOUT_NOBODY, policy_show},
	{PWR_REQ_POLICY_SET, PERM_ADMIN, 0, ABOUT_NOBODY, policy_set}, /* root: checked there */
};

/* A peer that is not root may act for its own account only. */
static bool peer_may_act_for(const struct peer *p, const char *user)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (p->uid == 0)
		return true;
	if (!*user || !util_text_ok(user))
		return false;
	return getpwnam_r(user, &pw, buf, sizeof(buf), &res) == 0 && res && res->pw_uid == p->uid;
}

static bool peer_is_admin(struct helper *h, const struct peer *p)
{
	return p->uid == 0 ||
	       (h->conf.admin_group[0] && account_uid_in_group(p->uid, h->conf.admin_group));
}

static struct pwr_who *about(enum about a, union pwr_msg *m)
{
	switch (a) {
	case ABOUT_VERIFY:
		return &m->verify.who;
	case ABOUT_SET_PASSWORD:
		return &m->set_password.who;
	case ABOUT_ADDRESS:
		return &m->address.who;
	case ABOUT_WHO:
		return &m->who;
	default:
		return NULL;
	}
}

/* A self-service request: what it says of where it comes from is cleaned, and the peer must
 * be root or the account's own uid. 0, or < 0 (refused, answered) to drop the peer. */
static int self_permitted(const struct route *rt, struct peer *p, union pwr_msg *m)
{
	struct pwr_who *who = about(rt->about, m);
	const char *event = wire_op_name(rt->op);

	/* what PAM says of the remote host and terminal ends up in logs and mails: no control
	 * character may come along (the user name is refused instead) */
	util_sanitize(who->rhost);
	util_sanitize(who->tty);
	util_sanitize(who->service);
	/* only root (login, sshd) is believed about the remote host; the log's by= says which
	 * uid asked, and its rate window is that uid's */
	if (p->uid != 0)
		who->rhost[0] = '\0';
	if (!peer_may_act_for(p, who->user)) {
		audit(LOG_WARNING, event, p, who->user, NULL, "refused", "not-permitted");
		answer_error(p, PWR_E_PERM, "uid %ld may not act for %s", (long)p->uid, who->user);
		sodium_memzero(m, sizeof(*m)); /* it may hold a password */
		return -EPERM;
	}
	if ((rt->flags & NEEDS_CODE) &&
		(!p->verified || strcmp(p->verified_user, who->user) != 0)) {
		char user[PWR_USER_MAX + 1];

		util_copy(user, sizeof(user), who->user);
		audit(LOG_WARNING, event, p, user, who, "refused", "no-valid-code");
		sodium_memzero(m, sizeof(*m)); /* it may hold a password */
		answer_error(
			p, PWR_E_PERM, "no valid code was shown for %s on this connection", user);
		return -EPERM;
	}
	return 0;
}

static const struct route *route_of(uint16_t op)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].op == op)
			return &routes[i];
	return NULL;
}

int route_dispatch(struct helper *h, struct peer *p, uint16_t op, union pwr_msg *m)
{
	const struct route *rt = route_of(op);
	int r;

	p->about_directory = false;
	/* the daemon answers by the configuration file as it is now (one-shot helpers read it
	 * when they start) */
	if (h->mode == PWR_MODE_DAEMON)
		policy_check_file(h);

	if (!rt) {
		audit(LOG_WARNING, "refused", p, NULL, NULL, "refused", "not-a-request");
		answer_error(p, PWR_E_PROTO, "%s is not a request", wire_op_name(op));
		return -EPROTO;
	}
	if (!h->conf_ok) {
		audit(LOG_ERR, wire_op_name(op), p, NULL, NULL, "refused", "broken-configuration");
		answer_error(p, PWR_E_CONFIG,
			"the helper's configuration is broken; pwreset-helper --check-config says why");
		return -EINVAL;
	}
	if (rt->perm == PERM_SELF && (r = self_permitted(rt, p, m)) < 0)
		return r;
	if (rt->perm == PERM_ADMIN && !peer_is_admin(h, p)) {
		audit(LOG_WARNING, wire_op_name(op), p, NULL, NULL, "refused", "not-admin");
		answer_error(
			p, PWR_E_PERM, "permission denied: root or a member of admin_group only");
		return -EPERM;
	}
	if ((rt->flags & NEEDS_STORE) && !h->store) {
		const struct pwr_who *who = about(rt->about, m);
		audit(LOG_ERR, wire_op_name(op), p, who ? who->user : NULL, NULL, "error",
			"no-store");
		return answer_error(p, PWR_E_INTERNAL, "the helper's store is not available");
	}
	r = rt->fn(h, p, m);
	/* a mail queued is tried at once, after the answer: by this process's courier, or by
	 * the daemon's, told through its pipe (a worker has no courier) */
	if ((rt->flags & MAILS) && h->courier)
		courier_wake(h->courier);
	else if ((rt->flags & MAILS) && h->mail_kick >= 0 && write(h->mail_kick, "m", 1) < 0 &&
		 errno != EAGAIN)
		log_msg(LOG_WARNING, "cannot tell the daemon of a mail queued: %s",
			strerror(errno));
	return r;
}

int route_serve_one(struct helper *h, struct peer *p)
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

void route_malformed(struct peer *p, int err)
{
	log_refusal(LOG_WARNING, (long)p->uid, "malformed", strerror(-err));
	answer_error(p, PWR_E_PROTO, "malformed request: %s", strerror(-err));
}
