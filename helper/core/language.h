/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The languages the helper speaks in (SPEC §13): the host's, for every prompt of every account
 * alike (the key language, else the system's), named to the PAM module in its answers, and
 * the words of the texts the helper itself sends to the prompt (why a new password is refused).
 */
#ifndef PWRESET_LANGUAGE_H
#define PWRESET_LANGUAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "catalog.h"
#include "conf.h"

/* The catalogs of one language: ours, and cracklib's for its dictionary verdicts (which it
 * gives in English to a program in the C locale, as the helper is). */
struct words {
	char lang[CATALOG_LANG_MAX + 1];
	bool read;
	struct catalog ours;
	struct catalog cracklib;
};

/* The host's language: language, else LC_ALL, LC_MESSAGES or LANG of /etc/default/locale or
 * /etc/locale.conf; "" (English) when none is set. */
void language_host(const struct pwr_conf *c, char *out, size_t outlen);

/* The language of a mail to an account whose own is own ("" or NULL: none): own, else
 * mail_language, else the host's. */
void language_mail(const struct pwr_conf *c, const char *own, char *out, size_t outlen);

/* w holding the catalogs of the host's language, read again when it changed; w. A catalog that
 * cannot be read is logged, and its texts are English. */
const struct words *language_words(const struct pwr_conf *c, struct words *w);

void language_free(struct words *w);

#endif
