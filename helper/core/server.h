/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PWRESET_SERVER_H
#define PWRESET_SERVER_H

#include <sys/types.h>

#include "helper.h"

/* Serve the one caller on fd (a SOCK_SEQPACKET socket) until it hangs up or idles out. */
int server_oneshot(struct helper *h, int fd, uid_t uid, gid_t gid);

/* Serve the socket systemd handed over (LISTEN_FDS), or the configured one, until SIGTERM. */
int server_daemon(struct helper *h);

#endif
