/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: every message of the wire protocol, both directions. A packet that decodes must
 * encode back to the same bytes and decode to the same fields; an older peer's packet, which
 * ends before the fields added later, encodes to the same bytes followed by those fields,
 * empty (all zero bytes). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static union pwr_msg m, again;
	static uint8_t buf[PWR_MSG_MAX];
	uint16_t op, op2;
	size_t len;

	if (wire_decode(data, size, &op, &m) != 0)
		return 0;
	if (!wire_op_known(op) || wire_encode(op, &m, buf, sizeof(buf), &len) != 0)
		abort(); /* decoded, so it must encode */
	if (len < size ||
		memcmp(buf + sizeof(struct pwr_hdr), data + sizeof(struct pwr_hdr),
			size - sizeof(struct pwr_hdr)) != 0 ||
		memcmp(buf, data, offsetof(struct pwr_hdr, len)) != 0)
		abort(); /* and to the very same bytes */
	for (size_t i = size; i < len; i++)
		if (buf[i] != 0)
			abort(); /* then the later fields, empty */
	if (wire_decode(buf, len, &op2, &again) != 0 || op2 != op ||
		memcmp(&m, &again, sizeof(m)) != 0)
		abort();
	return 0;
}
