/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: the helper–pwreset-directory codec, both directions (a request as
 * pwreset-directory reads it, an answer as the helper reads it). What decodes must encode back
 * to the very same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dirproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char
		buf[DIRREQ_PACKET_MAX > DIRANS_PACKET_MAX ? DIRREQ_PACKET_MAX : DIRANS_PACKET_MAX];
	static struct dirans a;
	struct dirreq q;
	long n;

	if (dirproto_req_decode(data, size, &q) == 0) {
		if (q.op < DIR_CONFIG || q.op > DIR_OP_LAST)
			abort();
		n = dirproto_req_encode(&q, buf, sizeof(buf));
		if (n < 0 || (size_t)n != size || memcmp(buf, data, size) != 0)
			abort();
	}
	if (dirproto_ans_decode(data, size, &a) == 0) {
		n = dirproto_ans_encode(&a, buf, sizeof(buf));
		if (n < 0 || (size_t)n != size || memcmp(buf, data, size) != 0)
			abort();
	}
	return 0;
}
