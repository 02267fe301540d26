/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration file while the helper runs: read again when the daemon's watch sees it
 * change, on SIGHUP and when a request finds it changed, and the policy keys changed in it
 * (policy.c).
 */
#ifndef PWRESET_POLICY_H
#define PWRESET_POLICY_H

#include "handler.h"

/* Remember the file as it is now (after it was read at start). */
void policy_note_file(struct helper *h);

/* Read the file again: put in use when it has no error (0); else the configuration in use
 * stays, and the errors are logged and kept in h->conf_problem (< 0). */
int policy_reload(struct helper *h);

/* Read the file again when it changed since it was last read. */
void policy_check_file(struct helper *h);

/* The daemon's watch on the file's directory: a descriptor to poll for reading, or -1 (logged;
 * then a change is seen at the next request or on SIGHUP). */
int policy_watch_open(const struct helper *h);

/* The requests about the policy keys: show them, change one (root only). */
handler_fn policy_show, policy_set;

/* The watch is readable: take its events, and read the file again if it changed. */
void policy_watch_read(struct helper *h, int fd);

#endif
