/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Translations without the process's locale (SPEC §13): a gettext catalog (.mo) of one text
 * domain read into memory and looked up here. The PAM module runs inside sshd and login, whose
 * locale it must not change (no setlocale), and the host's language need not be a generated
 * locale; so neither the module nor the helper asks libc's gettext.
 * MUST: every offset and length of the file is checked once, when it is read, before any
 * lookup; a translated format string is used only when its conversions are those of the
 * English one (catalog_format); anything odd about the file means English, never a crash.
 */
#ifndef PWRESET_CATALOG_H
#define PWRESET_CATALOG_H

#include <stddef.h>
#include <stdint.h>

/* Marks for xgettext (po/): a text, and a text with its plural (two arguments) */
#ifndef N_
#define N_(s) s
#endif
#ifndef NP_
#define NP_(one, many) one, many
#endif

#define CATALOG_FILE_MAX (1u << 20) /* a catalog larger than this is not read */
#define CATALOG_LANG_MAX 63 /* "ja", "de_DE.UTF-8@euro" */
#define CATALOG_VARIANTS 4

struct catalog {
	char *data; /* the file; NULL: no catalog, every text is English */
	size_t size;
	uint32_t n; /* strings */
	uint32_t orig, trans; /* offsets of the two tables */
	int swapped; /* written on a host of the other byte order */
	char plural[128]; /* the header's Plural-Forms expression; "": English's (n != 1) */
	unsigned nplurals;
};

/* A language name that may be used in a path: letters, digits, '_', '-', '.', '@', at most
 * CATALOG_LANG_MAX, not "." or ".."; "" is no language. 1 yes, 0 no. */
int catalog_lang_ok(const char *lang);

/* The names to look for lang under, most particular first (de_DE.UTF-8@euro: de_DE@euro,
 * de_DE, de@euro, de), each once: how many (0 for C, POSIX, "" or a name catalog_lang_ok
 * refuses: English). */
int catalog_variants(const char *lang, char out[CATALOG_VARIANTS][CATALOG_LANG_MAX + 1]);

/* Read dir/LANG/LC_MESSAGES/domain.mo for lang or its more general forms (de_DE.UTF-8@euro:
 * de_DE@euro, de_DE, de@euro, de). 0 with c filled, -ENOENT when lang is C, POSIX, empty or has
 * no catalog (c is empty: English), < 0 when the file found is not a sound UTF-8 catalog (c
 * empty, why says what and where). */
int catalog_open(struct catalog *c, const char *dir, const char *lang, const char *domain,
	char *why, size_t whylen);

/* Read one catalog file: as catalog_open. */
int catalog_read(struct catalog *c, const char *path, char *why, size_t whylen);

/* The catalog in data, size bytes malloc'd with one more (set to NUL here); c owns data from
 * here on, whatever the outcome: as catalog_read, why without a path. */
int catalog_take(struct catalog *c, char *data, size_t size, char *why, size_t whylen);

/* The translation of msgid, or msgid. */
const char *catalog_get(const struct catalog *c, const char *msgid);

/* The form of msgid/plural for the number n, or msgid (n == 1) or plural. */
const char *catalog_nget(
	const struct catalog *c, const char *msgid, const char *plural, unsigned long n);

/* catalog_get / catalog_nget for a printf format: the translation only when it takes the same
 * conversions in the same order as the English (else a hostile or careless catalog could make
 * the program read arguments it was not given). */
const char *catalog_format(const struct catalog *c, const char *msgid)
	__attribute__((format_arg(2)));
const char *catalog_nformat(const struct catalog *c, const char *msgid, const char *plural,
	unsigned long n) __attribute__((format_arg(2)));

void catalog_close(struct catalog *c);

/* The system's language (SPEC §13): LC_ALL, else LC_MESSAGES, else LANG of the first of the
 * files (NULL-ended; /etc/default/locale, /etc/locale.conf) that names one, as shell
 * assignments, quoted or not, "export " or not. "" when none does or it is not a name
 * catalog_lang_ok takes. */
void catalog_system_lang(const char *const files[], char *out, size_t outlen);

/* Where the system names its language: /etc/default/locale, /etc/locale.conf (NULL-ended). */
extern const char *const catalog_system_files[];

#endif
