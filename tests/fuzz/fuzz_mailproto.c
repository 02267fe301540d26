/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: the helper–mailer codec, both directions (a job as the mailer reads it, an answer
 * as the helper reads it). What decodes must encode back to the very same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char buf[MAILJOB_PACKET_MAX];
	struct mailjob j;
	struct mailans a;
	long n;

	if (mailproto_job_decode(data, size, &j) == 0) {
		n = mailproto_job_encode(&j, buf, sizeof(buf));
		if (n < 0 || (size_t)n != size || memcmp(buf, data, size) != 0)
			abort();
	}
	if (mailproto_ans_decode(data, size, &a) == 0) {
		n = mailproto_ans_encode(&a, buf, sizeof(buf));
		if (n < 0 || (size_t)n != size || memcmp(buf, data, size) != 0)
			abort();
	}
	return 0;
}
