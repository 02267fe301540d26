/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reaching the helper, for the PAM module, pwresetctl and the tests: its socket if a daemon
 * answers there, else the helper run in one-shot mode over a socketpair on its fd 0.
 * libc only: the PAM module links this.
 */
#ifndef PWRESET_CLIENT_H
#define PWRESET_CLIENT_H

#include <stdbool.h>

struct pwr_client {
	int fd; /* the helper's socket, or our end of the one-shot helper's socketpair */
	bool via_socket; /* fd is a connection to the daemon's socket */
};

/* Connect to socket_path (NULL: skip), else run helper_path (NULL: do not). 0, or -ENOENT when
 * neither could be reached, or another negative errno. The connect never waits: a daemon whose
 * backlog is full counts as not answering (-EAGAIN). */
int client_open(struct pwr_client *c, const char *socket_path, const char *helper_path);

/* The daemon closes a connection it will not hold (too many of them) before answering it: when
 * err, what the first request on c failed with, says so (-ECONNRESET, -EPIPE) and c is the
 * daemon's, c is reopened on the one-shot helper at helper_path and 0 returned, so that the
 * caller sends that request again. Otherwise err. */
int client_fallback(struct pwr_client *c, const char *helper_path, int err);

/* Close the connection (a one-shot helper finishes on its own). */
void client_close(struct pwr_client *c);

#endif
