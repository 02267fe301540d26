/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The request handlers: their signature and the reason words they share. Self-service handlers
 * live in selfservice.c, users' own addresses in selfaddress.c, administrative ones in admin.c,
 * the policy's in policy.c; route.c's table says who may call each.
 */
#ifndef PWRESET_HANDLER_H
#define PWRESET_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "helper.h"

typedef int handler_fn(struct helper *h, struct peer *p, union pwr_msg *m);

/* self-service (selfservice.c) */
handler_fn selfservice_offer, selfservice_request, selfservice_verify, selfservice_set_password;
/* recovery addresses users register (selfaddress.c) */
handler_fn selfaddress_show, selfaddress_set, selfaddress_confirm, selfaddress_remove;
/* administration (admin.c) */
handler_fn admin_email_set, admin_email_unset, admin_email_show, admin_email_import, admin_email_export, admin_check,
	admin_tokens, admin_revoke, admin_reset, admin_queue, admin_queue_flush, admin_status;
/* the policy keys (policy.c) */
handler_fn policy_show, policy_set;

/* The reason words of refusals that more than one handler gives. */
#define REASON_UNREADY "no-password-dictionary"
#define REASON_ROOT_ONLY "root-only-account"

#endif
