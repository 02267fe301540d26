/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Delivering the mail queue through pwreset-mailer, one mail at a time. The courier claims the
 * first mail that is due (a lease in the store, so two helpers never send the same mail at
 * once), builds the message, hands it to the mailer and records the outcome: sent, deferred with the server's reply and a
 * later try, or failed (a 5xx to the recipient or the message, or too old to be of use).
 * It never blocks the caller on SMTP: the daemon and the one-shot helper poll courier_fd()
 * beside their peers and call courier_run() when it is ready or courier_timeout_ms() passes.
 * MUST: the mailer runs as mail_user with an empty environment and no fd but its socket; the
 * SMTP password is read from its root-only file for each job and wiped after.
 */
#ifndef PWRESET_DELIVER_H
#define PWRESET_DELIVER_H

#include <stdbool.h>
#include <stdint.h>

struct helper;
struct courier;

struct courier *courier_new(void);
/* Stop the mailer (closing its socket; it exits) and free. Mails in flight stay claimed until
 * their lease ends, then another helper retries them. */
void courier_free(struct courier *c);

/* In a process forked from the courier's: free this copy, leaving the mailer to the courier's
 * own process (neither stopped nor waited for). */
void courier_forget(struct courier *c);

/* Something was queued: look at the queue at the next courier_run. */
void courier_wake(struct courier *c);

/* The fd to poll for POLLIN (the mailer's answer), or -1. */
int courier_fd(const struct courier *c);

/* Milliseconds until courier_run has something to do (a mail due, a mailer to time out or to
 * close), or -1 when nothing is pending. */
int courier_timeout_ms(const struct courier *c, uint64_t now);

/* Do what is due: take the mailer's answer if there is one, record outcomes, start the next
 * mail. Never waits on the network. */
void courier_run(struct helper *h, struct courier *c, uint64_t now);

/* Whether the courier has nothing left to do: no mail with the mailer, and the last look at
 * the queue (after the last courier_wake) found no mail queued or deferred. An idle mailer
 * may still be running; courier_free() ends it. */
bool courier_idle(const struct courier *c);

/* Whether mail is in flight or due now (the one-shot helper drains before it exits); false
 * when nothing can be sent (no store, a broken configuration). */
bool courier_busy(const struct helper *h, const struct courier *c, uint64_t now);

#endif
