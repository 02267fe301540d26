/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdbool.h>
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

static bool bare_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
}

/* Append key=value. A value of plain printable words stands bare; any other is put in double
 * quotes, with blanks as they are and quotes, backslashes, control bytes and bytes outside
 * ASCII as \xHH, so one field can never pass for another or start a new line. */
static void put(char *buf, size_t cap, size_t *pos, const char *key, const char *val)
{
	const unsigned char *v = (const unsigned char *)val;
	bool quote = !*v;
	int n;

	for (const unsigned char *p = v; *p && !quote; p++)
		quote = !bare_ok(*p);
	if (*pos >= cap)
		return;
	n = snprintf(buf + *pos, cap - *pos, "%s%s=%s", *pos ? " " : "", key, quote ? "\"" : "");
	if (n < 0 || (size_t)n >= cap - *pos) {
		*pos = cap - 1;
		return;
	}
	*pos += (size_t)n;
	for (const unsigned char *p = v; *p && *pos + 6 < cap; p++) {
		if (bare_ok(*p) || (*p == '=' || *p == ' '))
			buf[(*pos)++] = (char)*p;
		else
			*pos += (size_t)snprintf(buf + *pos, cap - *pos, "\\x%02x", *p);
	}
	if (quote && *pos + 1 < cap)
		buf[(*pos)++] = '"';
	if (*pos >= cap)
		*pos = cap - 1;
	buf[*pos] = '\0';
}

void log_event(int prio, const struct log_event *e)
{
	char line[2048] = "", by[24];
	const char *const fields[][2] = {{"event", e->event}, {"user", e->user},
		{"rhost", e->rhost}, {"tty", e->tty}, {"by", e->by >= 0 ? by : NULL},
		{"result", e->result}, {"reason", e->reason}, {"detail", e->detail},
		{"source", e->source}};
	size_t pos = 0;

	snprintf(by, sizeof(by), "%ld", e->by);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i][1])
			put(line, sizeof(line), &pos, fields[i][0], fields[i][1]);
	emit(prio, line);
}

void log_refusal(int prio, long by, const char *reason, const char *detail)
{
	struct log_event e = {.event = "refused",
		.by = by,
		.result = "refused",
		.reason = reason,
		.detail = detail};

	log_event(prio, &e);
}
