/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One message and at most one file descriptor over a Unix socket (SCM_RIGHTS): how the daemon
 * hands a connection to its spare worker, and a directory agent to and from a worker.
 */
#ifndef PWRESET_FDPASS_H
#define PWRESET_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

/* Send len bytes of buf, with fd when fd >= 0, never waiting: 0, or -errno. */
int fdpass_send(int sock, const void *buf, size_t len, int fd);

/* Receive a message into buf (flags: MSG_DONTWAIT or 0) and the fd it carries, or -1 in *fd
 * (close-on-exec): the message's length, or -errno. */
long fdpass_recv(int sock, void *buf, size_t len, int *fd, int flags);

#endif
