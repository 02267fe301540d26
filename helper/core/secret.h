/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Secrets the helper hands to its unprivileged programs (the SMTP password, the directory's
 * bind password): the first line of a file of root's that nobody else can read.
 */
#ifndef PWRESET_SECRET_H
#define PWRESET_SECRET_H

#include <stddef.h>

/* The first line of the file at path, at most max bytes, into a sodium_malloc'd *out (the
 * caller secret_free()s it). key names the setting in why. 0, or < 0 with why: the file
 * cannot be opened or read, is not a regular file of root's, can be read by others, or is
 * longer than max. */
int secret_file_read(
	const char *key, const char *path, size_t max, char **out, char *why, size_t whylen);

/* Wipe and free what secret_file_read gave (NULL: nothing). */
void secret_free(char *s);

#endif
