/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: what a person or a file gives as an address or a header value: mailaddr_validate,
 * mail_from (message_from), and one line of an import file. An accepted address holds no
 * control byte or blank; a header value holds no CR or LF but in a fold (CRLF, blank). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "mailaddr.h"
#include "message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), why[256], header[1024], addr[PWR_ADDR_MAX + 1];
	const char *user, *a;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (mailaddr_validate(s, why, sizeof(why)) == 0)
		for (const char *p = s; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f)
				abort();
	if (message_from(s, header, sizeof(header), addr, sizeof(addr), why, sizeof(why)) == 0) {
		if (strpbrk(addr, "\r\n <>"))
			abort();
		/* a long display name may be folded: CRLF then a blank, nothing else */
		for (const char *p = header; *p; p++)
			if ((*p == '\r' && (p[1] != '\n' || (p[2] != ' ' && p[2] != '\t'))) ||
				(*p == '\n' && (p == header || p[-1] != '\r')))
				abort();
	}
	if (address_import_line(s, &user, &a, why, sizeof(why)) == 0 && user &&
		(!*user || !*a || strpbrk(user, " \t") || strpbrk(a, " \t")))
		abort();
	free(s);
	return 0;
}
