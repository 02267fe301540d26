/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the helper does between requests (housekeeping.c): the directory agent's idle time, and
 * the purge of expired records from the store.
 */
#ifndef PWRESET_HOUSEKEEPING_H
#define PWRESET_HOUSEKEEPING_H

#include <stdint.h>

#include "helper.h"

/* Let the directory agent go when it has been idle, and purge expired records when the last
 * purge (by any helper: its time is kept in the store) is older than a few minutes. */
void housekeeping_run(struct helper *h, uint64_t now);

#endif
