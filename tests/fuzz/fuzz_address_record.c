/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: a registered address as the store keeps it (SPEC §11: the address, then where it
 * came from and when it was confirmed; or the address alone, as kept before). A record that
 * decodes holds a known source and an address that is not empty and fits; encoded again it
 * decodes to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct address_info a, again;
	static uint8_t buf[ADDRESS_RECORD_MAX];
	long len;

	if (address_record_decode(data, size, &a) != 0)
		return 0;
	if (!a.addr[0] || memchr(a.addr, 0, sizeof(a.addr)) == NULL ||
		(a.source != PWR_SOURCE_ADMIN && a.source != PWR_SOURCE_USER))
		abort();
	if ((len = address_record_encode(&a, buf, sizeof(buf))) < 0)
		abort(); /* decoded, so it must encode */
	if (address_record_decode(buf, (size_t)len, &again) != 0 || memcmp(&a, &again, sizeof(a)))
		abort();
	/* a record with its tail is read back as the very same bytes */
	if (memchr(data, 0, size) && ((size_t)len != size || memcmp(buf, data, size)))
		abort();
	return 0;
}
