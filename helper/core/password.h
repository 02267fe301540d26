/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * New passwords: the quality check (libpwquality with the host's pwquality.conf, min_length,
 * not the current password) and the hash (libxcrypt). Passwords are passed in sodium_malloc'd
 * buffers owned by the caller; nothing here keeps a copy, and scratch memory is wiped.
 */
#ifndef PWRESET_PASSWORD_H
#define PWRESET_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "language.h"

#define PASSWORD_HASH_MAX 384 /* CRYPT_OUTPUT_SIZE */

/* 0 if the quality check can run: libpwquality's dictionary (cracklib's, or pwquality.conf's
 * dictpath) is there and loads, or dictcheck is off. Else < 0 and, in why, what is missing and
 * the package that provides it, for the administrator (never for the person). */
int password_ready(char *why, size_t whylen);

/* Whether pw may become user's password: 0 with *refused false, or *refused true and the
 * reason, for the person in w's language, in why; < 0 when that cannot be told (no memory, a
 * broken current hash). current is field 2 of the user's shadow line (a leading '!' lock is
 * looked through), or NULL. */
int password_check(const struct pwr_conf *c, const struct words *w, const char *user,
	const char *pw, const char *current, bool *refused, char *why, size_t whylen);

/* An Active Directory refusal of a new password, said by the agent as a key (too-short,
 * not-complex, in-history, policy, not-utf8: SPEC §12.1), in w's language into why; any other
 * text (OpenLDAP's ppolicy words) as it is. */
void password_directory_refusal(const struct words *w, const char *said, char *why, size_t len);

/* Hash pw with the configured method into out (PASSWORD_HASH_MAX bytes). 0, or < 0. */
int password_hash(const struct pwr_conf *c, const char *pw, char *out);

/* Whether pw is the password hash stands for: 0; -EACCES when not, or when hash is locked or
 * no hash at all (a locked account proves nothing with its old password); or another < 0. */
int password_verify(const char *pw, const char *hash);

#endif
