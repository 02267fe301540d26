/* SPDX-License-Identifier: BSD-3-Clause */
#include <crypt.h>
#include <errno.h>
#include <pwquality.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "password.h"

/* Whether pw hashes to current (lock stripped): the new password may not be the old one. */
static int same_as_current(const char *pw, const char *current)
{
	struct crypt_data *cd;
	const char *h;
	int same;

	if (!current)
		return 0;
	while (*current == '!')
		current++;
	if (!*current || *current == '*')
		return 0;
	cd = sodium_malloc(sizeof(*cd));
	if (!cd)
		return -ENOMEM;
	memset(cd, 0, sizeof(*cd));
	h = crypt_r(pw, current, cd);
	same = h && h[0] != '*' && strlen(h) == strlen(current) &&
	       sodium_memcmp(h, current, strlen(h)) == 0;
	sodium_free(cd);
	return same;
}

int password_check(const struct pwr_conf *c, const char *user, const char *pw, const char *current,
	char *why, size_t whylen)
{
	pwquality_settings_t *pwq;
	void *aux = NULL;
	char buf[PWQ_MAX_ERROR_MESSAGE_LEN];
	int r, same;

	if (!*pw) {
		snprintf(why, whylen, "The password is empty");
		return -EINVAL;
	}
	if (strlen(pw) < c->min_length) {
		snprintf(why, whylen, "The password is shorter than %u characters", c->min_length);
		return -EINVAL;
	}
	pwq = pwquality_default_settings();
	if (!pwq)
		return -ENOMEM;
	/* the host's /etc/security/pwquality.conf; a missing file means the library defaults */
	pwquality_read_config(pwq, NULL, NULL);
	r = pwquality_check(pwq, pw, NULL, user, &aux);
	if (r < 0) {
		snprintf(why, whylen, "%s", pwquality_strerror(buf, sizeof(buf), r, aux));
		pwquality_free_settings(pwq);
		return -EINVAL;
	}
	pwquality_free_settings(pwq);
	same = same_as_current(pw, current);
	if (same < 0)
		return same;
	if (same) {
		snprintf(why, whylen, "The password is the same as the current one");
		return -EINVAL;
	}
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
