/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The languages the helper speaks in (SPEC §13): the host's, for every prompt of every account
 * alike (the key language, else the system's), named to the PAM module in its answers.
 */
#ifndef PWRESET_LANGUAGE_H
#define PWRESET_LANGUAGE_H

#include <stddef.h>

#include "conf.h"

/* The host's language: language, else LC_ALL, LC_MESSAGES or LANG of /etc/default/locale or
 * /etc/locale.conf; "" (English) when none is set. */
void language_host(const struct pwr_conf *c, char *out, size_t outlen);

#endif
