/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Whether a reset can complete on this host now (ready.c): its password dictionary is there.
 * Looked at again every few seconds; why not is logged once each time that changes, and kept
 * in h->unready for the administrator.
 */
#ifndef PWRESET_READY_H
#define PWRESET_READY_H

#include <stdbool.h>
#include <stddef.h>

#include "helper.h"

bool ready_check(struct helper *h);

/* ready_check(), and why not in why[] (len bytes). */
bool ready_why(struct helper *h, char *why, size_t len);

#endif
