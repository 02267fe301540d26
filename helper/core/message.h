/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building a mail from its template: the RFC 5322 message the mailer sends as it is.
 * A template is a text file: "Subject: ..." on its first line, an empty line, the body.
 * Placeholders {user} {host} {code} {expires} {rhost} {time} expand in both parts, and
 * {change} ("replaced" or "removed") in address-changed.txt.
 * MUST: no header can be injected. The subject is refused when a value would put a control
 * character in it; To and From are checked addresses; the body's line ends become CRLF and
 * any other control byte but TAB refuses the template.
 */
#ifndef PWRESET_MESSAGE_H
#define PWRESET_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "mailq.h"

#define MESSAGE_TEMPLATE_MAX (16 * 1024)

struct message_in {
	uint32_t kind; /* enum mail_kind: which template */
	const char *user, *to, *rhost;
	const char *code; /* XXXXX-XXXXX, or NULL for a mail without one */
	uint64_t created, expires;
	const char *lang; /* the account's language; NULL or "": mail_language's (SPEC §13) */
};

/* Parse mail_from ("address" or "Display Name <address>"; "" means no-reply@<fqdn>) into the
 * header value (name encoded when not plain ASCII) and the envelope address. 0, or -EINVAL
 * with why. */
int message_from(const char *mail_from, char *header, size_t hcap, char *addr, size_t acap,
	char *why, size_t whylen);

/* Build the message for in, with the template from c->templates_dir, into a malloc'd *out of
 * *len bytes (the caller wipes and frees it: it may hold a code); the envelope sender goes to
 * from. 0, or < 0 with why (template missing or broken, a value that cannot go in a header). */
int message_build(const struct pwr_conf *c, const struct message_in *in, char **out, size_t *len,
	char *from, size_t fromcap, char *why, size_t whylen);

/* The name of the template file for a kind ("code.txt", ...), or NULL. */
const char *message_template_name(uint32_t kind);

#endif
