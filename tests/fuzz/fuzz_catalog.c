/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: a gettext catalog (SPEC §13) as the PAM module reads it. Whatever the bytes, it is
 * refused whole or read; every lookup then stays inside it and answers a NUL-ended text, and a
 * format lookup answers the English or a text with the English's conversions. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const ids[] = {"", "a", "Reset code: ", "%s has %u", "%u one", "zzz"};
static const char format[] = "%s has %u";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), why[512];
	struct catalog c;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (catalog_take(&c, copy, size, why, sizeof(why)) < 0) {
		if (c.data)
			abort(); /* refused, and nothing kept */
		return 0;
	}
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		(void)strlen(catalog_get(&c, ids[i]));
		for (unsigned long n = 0; n < 4; n++)
			(void)strlen(catalog_nget(&c, ids[i], "many", n));
		const char *f = catalog_format(&c, format);
		if (f != format && strcmp(f, format) != 0) {
			const char *s = strchr(f, '%');
			if (!s || s[1] != 's' || !(s = strchr(s + 2, '%')) || s[1] != 'u')
				abort(); /* a translation whose conversions are not the English's */
		}
	}
	catalog_close(&c);
	return 0;
}
