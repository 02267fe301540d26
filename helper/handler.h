/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the request handlers share (route.c): their signature, the answers, the audit line,
 * and the checks. Self-service handlers live in selfservice.c, administrative ones in
 * admin.c; route.c's table says who may call each.
 */
#ifndef PWRESET_HANDLER_H
#define PWRESET_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "helper.h"

typedef int handler_fn(struct helper *h, struct peer *p, union pwr_msg *m);

/* self-service (selfservice.c) */
handler_fn h_offer, h_request, h_verify, h_set_password;
/* recovery addresses users register (selfaddress.c) */
handler_fn h_address_show, h_address_set, h_address_confirm, h_address_remove;
/* administration (admin.c) */
handler_fn h_email_set, h_email_unset, h_email_show, h_email_import, h_email_export, h_check,
	h_tokens, h_revoke, h_reset, h_queue, h_queue_flush, h_status;
/* the policy keys (policy.c) */
handler_fn h_policy_show, h_policy_set;

/* The reason words of refusals that more than one handler gives. */
#define REASON_UNREADY "no-password-dictionary"
#define REASON_ROOT_ONLY "root-only-account"

/* Answers. Each returns what wire_send did (< 0: the peer is to be dropped). */
int ans_send(struct peer *p, uint16_t op, const void *msg);
int ans_error(struct peer *p, uint32_t status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ans_done(
	struct peer *p, uint32_t status, uint32_t count, bool more, uint32_t next, const char *text);

/* The audit line of a request from p (who: what PAM said, or NULL). */
void audit(int prio, const char *event, const struct peer *p, const char *user,
	const struct pwr_who *who, const char *result, const char *reason);

/* Say whether user is a directory account (SPEC §12): audit lines about user then carry
 * source=directory, until another account is named here. */
void audit_source(const char *user, bool directory);

/* The account's recovery address: the directory's for a directory account, else the one
 * registered in the store. 0, -ENOENT when it has none, or < 0. */
int account_address(struct helper *h, const char *user, char addr[PWR_ADDR_MAX + 1]);

/* dispatch_ready(), and why not in why[]. */
bool reset_ready(struct helper *h, char *why, size_t len);

#endif
