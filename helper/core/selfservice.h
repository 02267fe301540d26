/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The self-service requests (selfservice.c, SPEC §4, §5): offer, request a code, verify it,
 * set the new password.
 */
#ifndef PWRESET_SELFSERVICE_H
#define PWRESET_SELFSERVICE_H

#include "handler.h"

handler_fn selfservice_offer, selfservice_request, selfservice_verify, selfservice_set_password;

#endif
