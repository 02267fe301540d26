/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include "answer.h"
#include "log.h"
#include "util.h"
#include "wire.h"

int answer_send(struct peer *p, uint16_t op, const void *msg)
{
	int r = wire_send(p->fd, op, msg, p->send_flags);
	if (r < 0)
		log_msg(LOG_WARNING, "peer pid %ld uid %ld: cannot send %s: %s; dropping it",
			(long)p->pid, (long)p->uid, wire_op_name(op), strerror(-r));
	return r;
}

int answer_stream(struct peer *p, uint16_t op, const void *msg)
{
	int r;

	/* never blocked for good, on either transport (the one-shot helper's sends block) */
	while ((r = wire_send(p->fd, op, msg, p->send_flags | MSG_DONTWAIT)) == -EAGAIN) {
		struct pollfd pfd = {.fd = p->fd, .events = POLLOUT};
		int n = poll(&pfd, 1, ANSWER_STREAM_WAIT_MS);
		if (n == 0 || (n < 0 && errno != EINTR)) {
			r = n == 0 ? -ETIMEDOUT : -errno;
			break;
		}
	}
	if (r < 0)
		log_msg(LOG_WARNING, "peer pid %ld uid %ld: cannot send %s: %s; dropping it",
			(long)p->pid, (long)p->uid, wire_op_name(op), strerror(-r));
	return r;
}

int answer_error(struct peer *p, uint32_t status, const char *fmt, ...)
{
	struct pwr_error_ans a = {.status = status};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a.text, sizeof(a.text), fmt, ap);
	va_end(ap);
	return answer_send(p, PWR_ANS_ERROR, &a);
}

int answer_done(
	struct peer *p, uint32_t status, uint32_t count, bool more, uint32_t next, const char *text)
{
	struct pwr_done_ans d = {.status = status, .count = count, .more = more, .next = next};
	util_copy(d.text, sizeof(d.text), text ? text : "");
	return answer_send(p, PWR_ANS_DONE, &d);
}
