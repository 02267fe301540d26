/* SPDX-License-Identifier: BSD-3-Clause */
#include "audit.h"
#include "log.h"

void audit(int prio, const char *event, const struct peer *p, const char *user,
	const struct pwr_who *who, const char *result, const char *reason)
{
	struct log_event e = {
		.event = event,
		.user = user,
		.rhost = who ? who->rhost : NULL,
		.tty = who ? who->tty : NULL,
		.by = (long)p->uid,
		.result = result,
		.reason = reason,
		.source = user && p->about_directory ? "directory" : NULL,
	};
	log_event(prio, &e);
}
