/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The helper's side of pwreset-directory (SPEC §12): the program started as its own user when
 * a request first needs the directory, told the configuration and the bind password, then asked
 * one request at a time, and closed after a while without requests. The root helper only
 * encodes requests and decodes answers (dirproto.h): it parses no LDAP.
 * MUST: a program that does not answer within the bound of its own timeouts is killed and the
 * request counts as the directory not answering; nothing it says is believed unchecked.
 */
#ifndef PWRESET_DIRLINK_H
#define PWRESET_DIRLINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "dirproto.h"

struct dirlink;

/* A link for conf's directory, or NULL when conf has none (directory_url empty) or memory ran
 * out (then the directory counts as not answering: *failed is set). conf must outlive it. */
struct dirlink *dirlink_new(const struct pwr_conf *conf, int *failed);
void dirlink_free(struct dirlink *l);

/* Called for each entry of a listing. */
typedef void dirlink_each_fn(void *ctx, const struct dirans *entry);

/* Ask q (its tag is set here). A listing (DIR_LIST) calls each for every entry. Always an
 * answer, the link's own (valid until its next call; a constant one when l is NULL): when
 * the program cannot be started, does not answer in time or answers nonsense, its status is
 * DIR_UNREACHABLE and its text says why (and the program is stopped). */
const struct dirans *dirlink_call(
	struct dirlink *l, struct dirreq *q, dirlink_each_fn *each, void *ctx);

/* Whether the program can run: installed (it comes in a package of its own, SPEC §12), its
 * user there and not mail_user's uid. 0, or < 0 with what to do for the administrator in why. */
int dirlink_agent_ready(const struct pwr_conf *conf, char *why, size_t whylen);

/* Stop the program when it has had nothing to do for a while (the daemon's housekeeping). */
void dirlink_tick(struct dirlink *l, uint64_t now);

/* Where a worker borrows a running program, configured and perhaps bound, and gives it back:
 * take fills *fd and *pid and returns 0, or returns < 0 (the link starts its own); give is
 * handed the program when the link is done with it (dirlink_free), instead of stopping it. */
struct dirlink_pool {
	int (*take)(void *ctx, int *fd, pid_t *pid);
	void (*give)(void *ctx, int fd, pid_t pid);
	void *ctx;
};
void dirlink_pool(struct dirlink *l, const struct dirlink_pool *pool);

/* Start a program for l's configuration and configure it, for a pool: 0 with its socket in
 * *fd and its pid in *pid (the caller's to keep and to reap), or < 0 with why. */
int dirlink_spawn(struct dirlink *l, int *fd, pid_t *pid, char *why, size_t whylen);

#endif
