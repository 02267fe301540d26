/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The syntax of mail addresses (mailaddr.c): what a person, a file, the directory or the
 * configuration gives as an address is checked here before it is stored, used or sent. Pure
 * functions: no store, no configuration.
 */
#ifndef PWRESET_MAILADDR_H
#define PWRESET_MAILADDR_H

#include <stddef.h>

#include "protocol.h"

/* 0 if addr is acceptable (at most PWR_ADDR_MAX bytes, no control or blank characters, exactly
 * one '@' with something before it and a domain after it); else -EINVAL and why in why[]. */
int mailaddr_validate(const char *addr, char *why, size_t whylen);

#define MAILADDR_NAME_MAX 255

/* mail_from ("address", or "Display Name <address>"; "" means no-reply@ this host's name) split
 * into the display name (ncap bytes, at least MAILADDR_NAME_MAX + 1; "" when there is none) and
 * the address (acap bytes, at least PWR_ADDR_MAX + 1), both checked: 0, or -EINVAL with why. */
int mailaddr_sender(const char *mail_from, char *name, size_t ncap, char *addr, size_t acap,
	char *why, size_t whylen);

/* addr as a user may see it when it is not theirs to know whole (SPEC §11): the first
 * character of the local part, "***", then '@' and the domain ("a***@example.org"); "***" for
 * something without an '@'. Into out (cap bytes, cut if need be). */
void mailaddr_mask(const char *addr, char *out, size_t cap);

#endif
