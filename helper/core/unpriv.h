/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The helper's unprivileged programs (pwreset-mailer, pwreset-directory) run as mail_user:
 * no supplementary groups, no way back to root (no_new_privs), killed when the helper goes,
 * an empty environment (spawn.h), and one socketpair end on fd 0.
 */
#ifndef PWRESET_UNPRIV_H
#define PWRESET_UNPRIV_H

#include <stddef.h>
#include <sys/types.h>

/* Start path as mail_user on a fresh SOCK_SEQPACKET socketpair: our end in *fd, its pid in
 * *pid. 0, or < 0 with why (what names the program there). */
int unpriv_start(const char *mail_user, const char *path, const char *what, int *fd, pid_t *pid,
	char *why, size_t whylen);

#endif
