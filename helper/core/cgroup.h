/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PWRESET_CGROUP_H
#define PWRESET_CGROUP_H

#include <stddef.h>

/* Make sure no user who is not root can freeze this process: when its cgroup (v2, or v1's
 * freezer), or one above it, is theirs, move into root's own. 0, or < 0 with why (the process
 * must then not take the store's or the shadow file's locks). */
int cgroup_leave_users(char *why, size_t len);

#endif
