/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PWRESET_WORKER_H
#define PWRESET_WORKER_H

#include <stddef.h>

#include "helper.h"

/* In the child the daemon just forked for peer p: close the daemon's fds named in theirs (n of
 * them; -1 is skipped), make the rest of the daemon's state the worker's own, serve p until
 * its conversation ends, and exit. */
void worker_run(struct helper *h, struct peer *p, const int *theirs, size_t n)
	__attribute__((noreturn));

#endif
