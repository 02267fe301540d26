/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The helper's unprivileged programs run each as a user of its own (pwreset-mailer as
 * mail_user, pwreset-directory as PWR_DIRECTORY_USER: the agent holds the directory's bind
 * password, and a process of the same uid could read it before the agent makes itself
 * non-dumpable): no supplementary groups, no way back to root (no_new_privs), killed when the
 * helper goes, an empty environment (spawn.h), and one socketpair end on fd 0.
 */
#ifndef PWRESET_UNPRIV_H
#define PWRESET_UNPRIV_H

#include <stddef.h>
#include <sys/types.h>

/* Who a program runs as: user is the name, role how the administrator knows it in a message
 * ("mail_user", "the directory agent's user"). */
struct unpriv_user {
	const char *name;
	const char *role;
};

/* The user's ids, neither of them root's: 0, or < 0 with why (what names the program). */
int unpriv_ids(const struct unpriv_user *u, const char *what, uid_t *uid, gid_t *gid, char *why,
	size_t whylen);

/* Start path as u on a fresh SOCK_SEQPACKET socketpair: our end in *fd, its pid in *pid. 0,
 * or < 0 with why (what names the program there). */
int unpriv_start(const struct unpriv_user *u, const char *path, const char *what, int *fd,
	pid_t *pid, char *why, size_t whylen);

#endif
