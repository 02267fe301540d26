/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: SPEC §12's settings and the user filter with a user name put in. The input is a
 * filter, a NUL, and a user name. A user name can never change the filter's shape: whatever
 * it holds, a filter that passes the check still has balanced parentheses once the name is in,
 * and no '*' that the filter did not have. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldapfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[8192];
	char *s = malloc(size + 2);
	const char *filter, *user;
	long n;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = s[size + 1] = '\0';
	filter = s;
	user = s + strlen(s) + 1;
	(void)ldapfilter_url_ok(filter, strlen(filter));
	(void)ldapfilter_attr_ok(filter);
	if (ldapfilter_ok(filter) && (n = ldapfilter_for(filter, user, out, sizeof(out))) >= 0) {
		int depth = 0;

		if ((size_t)n != strlen(out) || count(out, '*') != count(filter, '*'))
			abort();
		for (const char *p = out; *p; p++) {
			depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
			if (depth < 0 || (depth == 0 && p[1]))
				abort();
		}
		if (depth != 0)
			abort();
	}
	free(s);
	return 0;
}
