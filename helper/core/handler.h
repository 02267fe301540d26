/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The request handlers: their signature and the reason words they share. Each file of handlers
 * declares its own in its header (selfservice.h, selfaddress.h, admin.h, policy.h); route.c's
 * table says who may call each.
 */
#ifndef PWRESET_HANDLER_H
#define PWRESET_HANDLER_H

#include "helper.h"

typedef int handler_fn(struct helper *h, struct peer *p, union pwr_msg *m);

/* The reason words of refusals that more than one handler gives. */
#define REASON_UNREADY "no-password-dictionary"
#define REASON_ROOT_ONLY "root-only-account"

#endif
