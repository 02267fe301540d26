/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The databases a store written by an older helper may lack, each with how store_open fills it
 * from the others: the index of mails to deliver (mailq.c) and the index of addresses
 * (address.c).
 */
#ifndef PWRESET_STOREFILL_H
#define PWRESET_STOREFILL_H

#include "store.h"

extern const struct store_fill store_fills[];

#endif
