/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The helper's state, and one connection to it, shared by both transports.
 */
#ifndef PWRESET_HELPER_H
#define PWRESET_HELPER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "account.h"
#include "conf.h"
#include "language.h"
#include "protocol.h"
#include "store.h"
#include "wire.h"

/* What identifies the configuration file as last read (policy.c). */
struct conf_sig {
	dev_t dev;
	ino_t ino;
	off_t size;
	time_t sec;
	long nsec;
	bool known;
};

struct helper {
	struct pwr_conf conf;
	bool conf_ok; /* false: every request is answered PWR_E_CONFIG */
	const char *config_path; /* the configuration file; NULL: none (tests) */
	struct conf_sig conf_sig; /* the file as last read */
	char conf_problem[PWR_TEXT_MAX / 2 + 1]; /* why the file as it is now is not in use */
	struct account_db accounts; /* where passwords are kept and reset */
	struct store *store; /* NULL: the store could not be opened; requests get PWR_E_INTERNAL */
	struct courier *courier; /* delivers the mail queue; NULL: none (tools, tests, workers) */
	int mail_kick; /* a worker: the daemon's pipe, told of each mail queued; else -1 */
	uint32_t mode; /* PWR_MODE_DAEMON or PWR_MODE_ONESHOT, for status */
	uint64_t started; /* Unix time the helper started */
	uint32_t idle_exit; /* daemon started by systemd: exit after this many quiet s (0: never) */
	/* whether a reset can complete (the password dictionary), as last looked at (ready.c) */
	uint64_t ready_at; /* when; 0: not yet */
	bool ready;
	char unready[PWR_TEXT_MAX + 1]; /* why not, for the administrator */
	struct words words; /* the host's language, for the texts sent to the prompt */
};

#define PEER_IDLE_S (15 * 60) /* a person reads mail and types a code in between */
#define PEER_SILENT_S 10 /* a peer that has asked nothing yet: its first request comes at once */

/* One connection: the daemon's accepted socket, or fd 0 in one-shot mode. */
struct peer {
	int fd;
	uid_t uid; /* from SO_PEERCRED, or the real uid of the one-shot helper's caller */
	gid_t gid;
	pid_t pid;
	int send_flags; /* MSG_DONTWAIT in the daemon: a peer that does not read is dropped */
	uint64_t last_active;
	bool heard; /* it has sent a request: until then it is dropped after a few seconds */
	bool verified; /* this connection has shown a valid code for verified_user */
	char verified_user[PWR_USER_MAX + 1];
	unsigned char verified_hash[32]; /* which code: a newer one for the user voids this */
	/* the request's account is kept in the directory (SPEC §12): its audit lines say
	 * source=directory; set by the handler that looked it up, cleared before each request */
	bool about_directory;
};

#endif
