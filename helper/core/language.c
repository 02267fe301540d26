/* SPDX-License-Identifier: BSD-3-Clause */
#include "catalog.h"
#include "language.h"
#include "util.h"

static const char *const locale_files[] = {"/etc/default/locale", "/etc/locale.conf", NULL};

void language_host(const struct pwr_conf *c, char *out, size_t outlen)
{
	if (*c->language)
		util_copy(out, outlen, c->language);
	else
		catalog_system_lang(locale_files, out, outlen); /* read each time: it may change */
}
