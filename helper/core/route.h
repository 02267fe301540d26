/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The request table and its dispatch (route.c), the one entry both transports use.
 */
#ifndef PWRESET_ROUTE_H
#define PWRESET_ROUTE_H

#include <stdint.h>

#include "helper.h"

/* Handle one decoded request from p; answers are sent on p->fd. Returns 0 to keep serving the
 * peer, < 0 to drop it (malformed, unpermitted, or the answer could not be sent). */
int route_dispatch(struct helper *h, struct peer *p, uint16_t op, union pwr_msg *m);

/* Read one message from p (a peer poll() said is ready) and dispatch it: 0 to keep serving the
 * peer (nothing there yet included), < 0 to drop it. */
int route_serve_one(struct helper *h, struct peer *p);

/* Answer a request that could not be decoded, then the caller drops the peer. */
void route_malformed(struct peer *p, int err);

#endif
