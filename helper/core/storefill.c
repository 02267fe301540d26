/* SPDX-License-Identifier: BSD-3-Clause */
#include "address.h"
#include "mailq.h"
#include "storefill.h"

const struct store_fill store_fills[] = {
	{STORE_DB_ADDR_IDX, address_reindex},
	{STORE_DB_MAILQ_DUE, mailq_reindex},
	{0, NULL},
};
