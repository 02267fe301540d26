/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The administrators' requests (admin.c, SPEC §7): forced resets, pending codes, recovery
 * addresses, the eligibility check, the mail queue and the status.
 */
#ifndef PWRESET_ADMIN_H
#define PWRESET_ADMIN_H

#include "handler.h"

handler_fn admin_email_set, admin_email_unset, admin_email_show, admin_email_import,
	admin_email_export, admin_check, admin_tokens, admin_revoke, admin_reset, admin_queue,
	admin_queue_flush, admin_status;

#endif
