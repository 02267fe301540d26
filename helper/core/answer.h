/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The helper's answers to a peer (answer.c). Each returns what wire_send did: < 0 means the
 * answer could not be sent (logged), and the peer is to be dropped.
 */
#ifndef PWRESET_ANSWER_H
#define PWRESET_ANSWER_H

#include <stdbool.h>
#include <stdint.h>

#include "helper.h"

/* Send msg as answer op. */
int answer_send(struct peer *p, uint16_t op, const void *msg);
/* The same for one of a long run of answers (every account): a peer that reads slower than
 * they are made is waited for, up to ANSWER_STREAM_WAIT_MS for each, on either transport;
 * -ETIMEDOUT after that. */
#define ANSWER_STREAM_WAIT_MS 10000
int answer_stream(struct peer *p, uint16_t op, const void *msg);

/* PWR_ANS_ERROR with status and a text made from fmt. */
int answer_error(struct peer *p, uint32_t status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* PWR_ANS_DONE: the end of a command or of one page of a listing. */
int answer_done(struct peer *p, uint32_t status, uint32_t count, bool more, uint32_t next,
	const char *text);

#endif
