/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static int log_stderr;

void log_init(const char *ident, int to_stderr)
{
	log_stderr = to_stderr;
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

static void emit(int prio, const char *line)
{
	syslog(prio, "%s", line);
	if (log_stderr)
		fprintf(stderr, "%s\n", line);
}

void log_msg(int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(prio, line);
}

/* Append key=value; bytes outside printable ASCII, blanks, quotes and backslashes as \xHH. */
static void put(char *buf, size_t cap, size_t *pos, const char *key, const char *val)
{
	int n;

	if (*pos >= cap)
		return;
	n = snprintf(buf + *pos, cap - *pos, "%s%s=", *pos ? " " : "", key);
	if (n < 0)
		return;
	*pos += (size_t)n;
	if (!*val && *pos + 2 < cap) {
		memcpy(buf + *pos, "\"\"", 3);
		*pos += 2;
	}
	for (const unsigned char *p = (const unsigned char *)val; *p && *pos + 5 < cap; p++) {
		if (*p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\' && *p != '=')
			buf[(*pos)++] = (char)*p;
		else
			*pos += (size_t)snprintf(buf + *pos, cap - *pos, "\\x%02x", *p);
	}
	if (*pos >= cap)
		*pos = cap - 1;
	buf[*pos] = '\0';
}

void log_event(int prio, const struct log_event *e)
{
	char line[2048] = "", by[24];
	size_t pos = 0;

	put(line, sizeof(line), &pos, "event", e->event);
	if (e->user)
		put(line, sizeof(line), &pos, "user", e->user);
	if (e->rhost)
		put(line, sizeof(line), &pos, "rhost", e->rhost);
	if (e->tty)
		put(line, sizeof(line), &pos, "tty", e->tty);
	if (e->by >= 0) {
		snprintf(by, sizeof(by), "%ld", e->by);
		put(line, sizeof(line), &pos, "by", by);
	}
	if (e->result)
		put(line, sizeof(line), &pos, "result", e->result);
	if (e->reason)
		put(line, sizeof(line), &pos, "reason", e->reason);
	emit(prio, line);
}
