/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The administrators' requests (admin.c, SPEC §7): forced resets, pending codes, recovery
 * addresses, the eligibility check, the mail queue and the status.
 */
#ifndef PWRESET_ADMIN_H
#define PWRESET_ADMIN_H

#include <stdbool.h>

#include "handler.h"

struct account;

handler_fn admin_email_set, admin_email_language, admin_email_unset, admin_email_show,
	admin_email_import, admin_email_export, admin_check, admin_tokens, admin_revoke,
	admin_reset, admin_queue, admin_queue_flush, admin_status;

/* Whether p, not root, may not act on acct (the looked-up account) because it is a member of
 * admin_group or of a group of admin_protected_groups: check then says `protected` and no
 * more of it. */
bool admin_protected(struct helper *h, const struct peer *p, const struct account *acct);

#endif
