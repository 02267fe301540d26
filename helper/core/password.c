/* SPDX-License-Identifier: BSD-3-Clause */
#include <stddef.h> /* before crack.h, which uses size_t */
#include <crack.h>
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <packer.h>
#include <pwquality.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "password.h"
#include "util.h"

/* libpwquality's verdicts in the helper's words (its own are English here, in the C locale):
 * with the number it reports where it has one (0: none) */
static const struct verdict {
	int code;
	const char *one, *many; /* many NULL: no number */
} verdicts[] = {
	{PWQ_ERROR_MIN_LENGTH, NP_("The password is shorter than %ld character",
				       "The password is shorter than %ld characters")},
	{PWQ_ERROR_MIN_DIGITS, NP_("The password has fewer than %ld digit",
				       "The password has fewer than %ld digits")},
	{PWQ_ERROR_MIN_UPPERS, NP_("The password has fewer than %ld uppercase letter",
				       "The password has fewer than %ld uppercase letters")},
	{PWQ_ERROR_MIN_LOWERS, NP_("The password has fewer than %ld lowercase letter",
				       "The password has fewer than %ld lowercase letters")},
	{PWQ_ERROR_MIN_OTHERS, NP_("The password has fewer than %ld character that is not a letter "
				   "or a digit",
				       "The password has fewer than %ld characters that are not "
				       "letters or digits")},
	{PWQ_ERROR_MIN_CLASSES, NP_("The password has fewer than %ld kind of character (digits, "
				    "uppercase, lowercase, others)",
					"The password has fewer than %ld kinds of characters "
					"(digits, uppercase, lowercase, others)")},
	{PWQ_ERROR_MAX_CONSECUTIVE, NP_("The password has more than %ld same character in a row",
					    "The password has more than %ld same characters in a "
					    "row")},
	{PWQ_ERROR_MAX_CLASS_REPEAT, NP_("The password has more than %ld character of one kind in "
					 "a row",
					     "The password has more than %ld characters of one "
					     "kind in a row")},
	{PWQ_ERROR_MAX_SEQUENCE, NP_("The password has a sequence (such as 1234 or abcd) longer "
				     "than %ld character",
					 "The password has a sequence (such as 1234 or abcd) "
					 "longer than %ld characters")},
	{PWQ_ERROR_TOO_SIMILAR, N_("The password is too much like the current one"), NULL},
	{PWQ_ERROR_PALINDROME, N_("The password reads the same backwards"), NULL},
	{PWQ_ERROR_CASE_CHANGES_ONLY,
		N_("The password differs from the current one only in upper and lower case"), NULL},
	{PWQ_ERROR_ROTATED, N_("The password is the current one rotated"), NULL},
	{PWQ_ERROR_SAME_PASSWORD, N_("The password is the same as the current one"), NULL},
	{PWQ_ERROR_USER_CHECK, N_("The password holds the account's name in some form"), NULL},
	{PWQ_ERROR_GECOS_CHECK, N_("The password holds words of the account's full name"), NULL},
	{PWQ_ERROR_BAD_WORDS, N_("The password holds a word that is not allowed"), NULL},
};

/* text with its one %ld (catalog_nformat keeps the English's conversions) replaced by n, and
 * %% by %, into out: no format string that is not a literal reaches printf. */
static void put_number(const char *text, long n, char *out, size_t outlen)
{
	size_t k = 0;

	for (const char *p = text; *p && k + 1 < outlen; p++) {
		if (p[0] == '%' && p[1] == '%') {
			out[k++] = '%';
			p++;
		} else if (!strncmp(p, "%ld", 3)) {
			int m = snprintf(out + k, outlen - k, "%ld", n);
			k += m > 0 && (size_t)m < outlen - k ? (size_t)m : 0;
			p += 2;
		} else {
			out[k++] = *p;
		}
	}
	out[k] = '\0';
}

/* Why libpwquality refused (r, aux), in w's words. */
static void verdict_text(const struct words *w, int r, void *aux, char *why, size_t whylen)
{
	char buf[PWQ_MAX_ERROR_MESSAGE_LEN];

	if (r == PWQ_ERROR_CRACKLIB_CHECK) {
		/* cracklib's own reason (English here), in its catalog's words */
		snprintf(why, whylen,
			catalog_format(&w->ours, N_("The password fails the dictionary "
						    "check: %s")),
			aux ? catalog_get(&w->cracklib, (const char *)aux) : "");
		return;
	}
	for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
		const struct verdict *v = &verdicts[i];
		long n = (long)(intptr_t)aux;
		if (v->code != r || (v->many && n <= 0))
			continue;
		if (v->many)
			put_number(catalog_nformat(&w->ours, v->one, v->many, (unsigned long)n), n,
				why, whylen);
		else
			snprintf(why, whylen, "%s", catalog_get(&w->ours, v->one));
		return;
	}
	/* anything else: libpwquality's English */
	snprintf(why, whylen, "%s", pwquality_strerror(buf, sizeof(buf), r, aux));
}

/* 0 if prefix+ext opens for reading; else -errno, and what failed in why. */
static int dict_file(const char *prefix, const char *ext, char *why, size_t whylen)
{
	char path[4096];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s%s", prefix, ext) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int r = -errno;
		snprintf(why, whylen,
			"the password dictionary %s cannot be read (%s); install the package %s",
			path, strerror(-r), PWR_DICT_PACKAGE);
		return r;
	}
	close(fd);
	return 0;
}

/* cracklib's own loader, which also checks the header; it reports on stderr, which is the
 * caller's in one-shot mode: silenced here (the helper is single-threaded). */
static bool dict_loads(const char *prefix)
{
	PWDICT *d;
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (saved >= 0 && null >= 0)
		dup2(null, STDERR_FILENO);
	d = PWOpen(prefix, "r");
	if (saved >= 0 && null >= 0)
		dup2(saved, STDERR_FILENO);
	if (saved >= 0)
		close(saved);
	if (null >= 0)
		close(null);
	if (d)
		PWClose(d);
	return d != NULL;
}

int password_ready(char *why, size_t whylen)
{
	pwquality_settings_t *pwq;
	const char *set = NULL;
	char prefix[4096];
	int check = 1, r;

	pwq = pwquality_default_settings();
	if (!pwq) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	pwquality_read_config(pwq, NULL, NULL);
	if (pwquality_get_int_value(pwq, PWQ_SETTING_DICT_CHECK, &check) < 0)
		check = 1;
	pwquality_get_str_value(pwq, PWQ_SETTING_DICT_PATH, &set);
	snprintf(prefix, sizeof(prefix), "%s", set && *set ? set : GetDefaultCracklibDict());
	pwquality_free_settings(pwq);
	if (!check)
		return 0; /* dictcheck = 0 in pwquality.conf: the host wants no dictionary */

	/* what cracklib opens: the index, and the words plain or compressed */
	if ((r = dict_file(prefix, ".pwi", why, whylen)) < 0)
		return r;
	if ((r = dict_file(prefix, ".pwd", why, whylen)) < 0 &&
		dict_file(prefix, ".pwd.gz", why, 0) < 0)
		return r;
	if (!dict_loads(prefix)) {
		snprintf(why, whylen,
			"the password dictionary %s is damaged; reinstall the package %s or run "
			"update-cracklib",
			prefix, PWR_DICT_PACKAGE);
		return -EBADMSG;
	}
	return 0;
}

/* 1 when pw hashes to hash, 0 when not (or hash is no hash: empty, '*', locked), < 0. */
static int hash_matches(const char *pw, const char *hash)
{
	struct crypt_data *cd;
	const char *h;
	int same;

	if (!hash || !*hash || *hash == '*' || *hash == '!')
		return 0;
	cd = sodium_malloc(sizeof(*cd));
	if (!cd)
		return -ENOMEM;
	memset(cd, 0, sizeof(*cd));
	h = crypt_r(pw, hash, cd);
	same = h && h[0] != '*' && strlen(h) == strlen(hash) &&
	       sodium_memcmp(h, hash, strlen(h)) == 0;
	sodium_free(cd);
	return same;
}

/* Whether pw hashes to current (lock stripped): the new password may not be the old one. */
static int same_as_current(const char *pw, const char *current)
{
	if (!current)
		return 0;
	while (*current == '!')
		current++;
	return hash_matches(pw, current);
}

int password_verify(const char *pw, const char *hash)
{
	int r = hash_matches(pw, hash);

	return r < 0 ? r : r ? 0 : -EACCES;
}

int password_check(const struct pwr_conf *c, const struct words *w, const char *user,
	const char *pw, const char *current, bool *refused, char *why, size_t whylen)
{
	pwquality_settings_t *pwq;
	void *aux = NULL;
	int r, same;

	*refused = true;
	if (!*pw) {
		snprintf(why, whylen, "%s", catalog_get(&w->ours, N_("The password is empty")));
		return 0;
	}
	if (strlen(pw) < c->min_length) {
		verdict_text(w, PWQ_ERROR_MIN_LENGTH, (void *)(intptr_t)c->min_length, why, whylen);
		return 0;
	}
	pwq = pwquality_default_settings();
	if (!pwq)
		return -ENOMEM;
	/* the host's /etc/security/pwquality.conf; a missing file means the library defaults */
	pwquality_read_config(pwq, NULL, NULL);
	r = pwquality_check(pwq, pw, NULL, user, &aux);
	pwquality_free_settings(pwq);
	if (r == PWQ_ERROR_MEM_ALLOC)
		return -ENOMEM;
	if (r < 0) {
		verdict_text(w, r, aux, why, whylen);
		return 0;
	}
	same = same_as_current(pw, current);
	if (same < 0)
		return same;
	if (same) {
		verdict_text(w, PWQ_ERROR_SAME_PASSWORD, NULL, why, whylen);
		return 0;
	}
	*refused = false;
	return 0;
}

int password_hash(const struct pwr_conf *c, const char *pw, char *out)
{
	static const char *const prefix[] = {NULL, "$y$", "$6$", "$2b$"};
	struct crypt_data *cd;
	char *salt;
	const char *h;
	int r = 0;

	salt = crypt_gensalt_ra(prefix[c->hash_method], 0, NULL, 0);
	if (!salt)
		return errno ? -errno : -EINVAL;
	cd = sodium_malloc(sizeof(*cd));
	if (!cd) {
		free(salt);
		return -ENOMEM;
	}
	memset(cd, 0, sizeof(*cd));
	h = crypt_r(pw, salt, cd);
	if (!h || h[0] == '*' || strlen(h) >= PASSWORD_HASH_MAX)
		r = -EINVAL;
	else
		memcpy(out, h, strlen(h) + 1);
	sodium_free(cd);
	free(salt);
	return r;
}

void password_directory_refusal(const struct words *w, const char *said, char *why, size_t len)
{
	static const char *const keys[][2] = {
		{"too-short", N_("The directory refused it: the password is too short.")},
		{"not-complex", N_("The directory refused it: the password is not complex enough "
				   "(mix upper and lower case letters, digits and symbols).")},
		{"in-history", N_("The directory refused it: the password was used before.")},
		{"policy", N_("The directory's password policy refused it.")},
		{"not-utf8", N_("The password is not valid UTF-8 text.")},
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(said, keys[i][0])) {
			util_copy(why, len, catalog_get(&w->ours, keys[i][1]));
			return;
		}
	util_copy(why, len, said);
}
