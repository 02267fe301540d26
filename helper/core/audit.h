/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The audit line of a request (audit.c): one line a refusal, a change or an error, through
 * log_event. MUST: no code and no password is ever an argument here.
 */
#ifndef PWRESET_AUDIT_H
#define PWRESET_AUDIT_H

#include "helper.h"

/* The line about user (NULL: about no account) of a request from p: event, its result and
 * reason (NULL: none); who is what PAM said of where it came from (NULL: nothing). It says
 * source=directory when p->about_directory (the account was found in the directory). */
void audit(int prio, const char *event, const struct peer *p, const char *user,
	const struct pwr_who *who, const char *result, const char *reason);

#endif
