/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rewriting one line of a shadow file, the way shadow-utils does and a little safer. Knows
 * nothing of codes or passwords: a caller's edit function turns the old line into the new one
 * while both locks are held.
 */
#ifndef PWRESET_SHADOW_H
#define PWRESET_SHADOW_H

#include <stdbool.h>
#include <stddef.h>

#define SHADOW_LINE_MAX 4096

/* Turn old (the user's line, without newline) into new (cap bytes, without newline).
 * 0, or < 0 to leave the file as it is (that value is returned by shadowfile_update). */
typedef int shadow_edit_fn(void *ctx, const char *old, char *new_line, size_t cap);

/* Under lckpwdf() (for the system file) and PATH.lock (shadow-utils' lock): copy PATH to a
 * new file beside it (same owner and mode), every line byte for byte but the first line of
 * user, which edit rewrites; sync it; keep the old file as PATH-; rename the new one over
 * PATH; sync the directory. 0, or: -ENOENT no line for user, -EINVAL a name or new line that
 * could corrupt the file, -EBUSY a lock not obtained in time, another -errno of the step that
 * failed. On any failure PATH is as it was and no temporary file remains. */
int shadowfile_update(const char *path, const char *user, shadow_edit_fn *edit, void *ctx);

/* What a failure of shadowfile_update means, for the log and for an administrator. */
const char *shadowfile_strerror(int r);

/* Whether name may stand in field 1: not empty, no ':' or control bytes, no leading + or -. */
bool shadowfile_name_ok(const char *name);

/* Whether value may stand in a field: no ':' or control bytes. */
bool shadowfile_value_ok(const char *value);

/* Edits: field 2 := hash and field 3 := lastchg (days since the epoch). */
int shadowfile_set_password(const char *old, const char *hash, long lastchg, char *out, size_t cap);

/* Edit: '!' put in front of field 2, unless it starts with '!' already; field 3 untouched. */
int shadowfile_lock_password(const char *old, char *out, size_t cap);

/* Field n (0-based: 1 is the hash, with any '!' lock) of line copied into out: 0, or -EINVAL
 * when there is no such field or it does not fit. */
int shadowfile_field(const char *line, int n, char *out, size_t cap);

/* Field 8 of line, the day the account expires (days since the epoch); -1: never. */
long shadowfile_expire(const char *line);

#endif
