/* SPDX-License-Identifier: BSD-3-Clause */
/* The two shadow edits as shadow_edit_fn, for the tests and tools that rewrite a shadow file
 * with nothing else to check: field 2 and 3 set (ctx: a struct shadow_set), and the lock. */
#ifndef PWRESET_TEST_SHADOW_EDITS_H
#define PWRESET_TEST_SHADOW_EDITS_H

#include "shadowfile.h"

struct shadow_set {
	const char *hash;
	long lastchg;
};

static inline int shadow_edit_set(void *ctx, const char *old, char *out, size_t cap)
{
	const struct shadow_set *s = ctx;
	return shadowfile_set_password(old, s->hash, s->lastchg, out, cap);
}

static inline int shadow_edit_lock(void *ctx, const char *old, char *out, size_t cap)
{
	(void)ctx;
	return shadowfile_lock_password(old, out, cap);
}

#endif
