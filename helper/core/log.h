/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logging to syslog (LOG_AUTHPRIV), and to stderr as well when asked (--verbose, tests).
 * Audit events (SPEC §10) are one line of key=value fields. MUST: no code, password or hash is
 * ever passed here; values from peers are escaped so a log line cannot be forged.
 */
#ifndef PWRESET_LOG_H
#define PWRESET_LOG_H

#include <sys/types.h>

void log_init(const char *ident, int to_stderr);

void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct log_event {
	const char *event; /* request, verify, email-set, refused, … */
	const char *user; /* NULL: not logged */
	const char *rhost;
	const char *tty;
	long by; /* peer uid; -1: not logged */
	const char *result; /* ok, fail, refused, error */
	const char *reason; /* NULL: not logged */
	const char *detail; /* NULL: not logged */
	const char *source; /* "directory" for a directory account (SPEC §12); NULL: not logged */
};

void log_event(int prio, const struct log_event *e);

/* event=refused by=BY result=refused reason=REASON [detail=DETAIL]: a caller turned away before
 * any request of its was read. */
void log_refusal(int prio, long by, const char *reason, const char *detail);

#endif
