/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every account at once, for `pwresetctl check` with no name: one pass over the passwd and
 * shadow files, one listing of the directory (see census.c).
 */
#ifndef PWRESET_CENSUS_H
#define PWRESET_CENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "helper.h"

/* Send p a PWR_ITEM_CHECK for every account with min_uid <= uid <= max_uid (packed: lines of
 * PWR_ITEM_CHECKS instead, wherever they can say it): the passwd file's in its order, then the
 * directory's that it does not name. 0 with *count accounts sent, or < 0 with why (whylen
 * bytes) saying what failed: the directory's own words when it stopped the listing. */
int census_run(
	struct helper *h, struct peer *p, bool packed, uint32_t *count, char *why, size_t whylen);

#endif
