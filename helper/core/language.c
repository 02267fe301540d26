/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>
#include <syslog.h>

#include "config.h"
#include "language.h"
#include "log.h"
#include "util.h"

void language_host(const struct pwr_conf *c, char *out, size_t outlen)
{
	if (*c->language)
		util_copy(out, outlen, c->language);
	else
		catalog_system_lang(
			catalog_system_files, out, outlen); /* read each time: it may change */
}

void language_mail(const struct pwr_conf *c, const char *own, char *out, size_t outlen)
{
	if (own && *own)
		util_copy(out, outlen, own);
	else if (*c->mail_language)
		util_copy(out, outlen, c->mail_language);
	else
		language_host(c, out, outlen);
}

static void open_domain(struct catalog *cat, const char *lang, const char *domain)
{
	char why[512];
	int r = catalog_open(cat, PWR_LOCALEDIR, lang, domain, why, sizeof(why));

	if (r < 0 && r != -ENOENT)
		log_msg(LOG_WARNING, "the %s words for %s are English: %s", domain, lang,
			r == -EINVAL || r == -EIO ? why : strerror(-r));
}

const struct words *language_words(const struct pwr_conf *c, struct words *w)
{
	char lang[CATALOG_LANG_MAX + 1];

	language_host(c, lang, sizeof(lang));
	if (w->read && !strcmp(lang, w->lang))
		return w;
	language_free(w);
	util_copy(w->lang, sizeof(w->lang), lang);
	w->read = true;
	open_domain(&w->ours, lang, "pam_pwreset");
	open_domain(&w->cracklib, lang, "cracklib");
	return w;
}

void language_free(struct words *w)
{
	catalog_close(&w->ours);
	catalog_close(&w->cracklib);
	memset(w, 0, sizeof(*w));
}
