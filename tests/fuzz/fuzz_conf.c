/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: pwreset.conf. Any bytes: either a configuration or errors, never a crash, a leak
 * or a read past the input; a good one must be good again when parsed twice. */
#include <stdint.h>
#include <stdlib.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pwr_conf c;
	int errors;

	if (conf_init(&c) < 0)
		return 0;
	errors = conf_parse(&c, "fuzz.conf", (const char *)data, size, quiet, NULL);
	conf_free(&c);
	if (errors == 0) {
		if (conf_init(&c) < 0)
			return 0;
		if (conf_parse(&c, "fuzz.conf", (const char *)data, size, quiet, NULL) != 0)
			abort();
		conf_free(&c);
	}
	return 0;
}
