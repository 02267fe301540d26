/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Durations as the configuration file and pwresetctl write them: a number of seconds, or a
 * number with s, m, h or d. libc only (pwresetctl links it without the helper's core).
 */
#ifndef PWRESET_DURATION_H
#define PWRESET_DURATION_H

#include <stdint.h>

/* Parse a duration ("90", "90s", "10m", "72h", "7d") into seconds; 0 or -EINVAL/-ERANGE. */
int duration_parse(const char *s, uint64_t *out);

#endif
