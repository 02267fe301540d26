/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reaching the helper, for the PAM module, pwresetctl and the tests: its socket if a daemon
 * answers there, else the helper run in one-shot mode over a socketpair on its fd 0.
 * libc only: the PAM module links this.
 */
#ifndef PWRESET_CLIENT_H
#define PWRESET_CLIENT_H

#include <sys/types.h>

struct pwr_client {
	int fd;
	pid_t pid; /* the one-shot helper, or 0 */
};

/* Connect to socket_path (NULL: skip), else run helper_path (NULL: do not). 0, or -ENOENT when
 * neither could be reached, or another negative errno. */
int client_open(struct pwr_client *c, const char *socket_path, const char *helper_path);

/* Close the connection and reap the one-shot helper, if any. */
void client_close(struct pwr_client *c);

#endif
