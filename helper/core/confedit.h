/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Changing one key of pwreset.conf the way an administrator would with an editor: the line
 * that sets it is replaced where it is, every other line and comment stays byte for byte;
 * a key not set yet goes right after its commented example ("# key = ..."), or at the end.
 * libc only: the caller checks the result with conf_parse before it replaces the file.
 */
#ifndef PWRESET_CONFEDIT_H
#define PWRESET_CONFEDIT_H

#include <stddef.h>

/* The policy keys (issue 20: the administrators' page and `pwresetctl policy`), NULL-ended. */
extern const char *const confedit_policy_keys[];

/* Whether key is one of them. */
int confedit_is_policy_key(const char *key);

/* text (len bytes) with key set to value, in a malloc'd *out of *outlen bytes. 0, -EINVAL
 * (value holds a control character or starts or ends with a blank, which the file could not
 * keep), or -ENOMEM. */
int confedit_set(const char *text, size_t len, const char *key, const char *value, char **out,
	size_t *outlen);

#endif
