/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the helper and pwreset-mailer say to each other over their SOCK_SEQPACKET socketpair:
 * one job (the SMTP settings, the envelope and the finished message) in one packet, one answer
 * in one packet, tagged with the job's tag: the mailer may work on several jobs at once and
 * answers each when it is done. A packet is a u32 magic, u32 fields, then strings, each a u32 length, its
 * bytes and a NUL. Both ends check every length before reading it; the mailer trusts nothing in a
 * job it has not checked, the helper nothing in an answer.
 */
#ifndef PWRESET_MAILPROTO_H
#define PWRESET_MAILPROTO_H

#include <stddef.h>
#include <stdint.h>

#define MAILPROTO_MAGIC 0x50574d31u /* "PWM1" */
#define MAILJOB_URL_MAX 1024
#define MAILJOB_USER_MAX 256
#define MAILJOB_PASSWORD_MAX 1024
#define MAILJOB_PATH_MAX 4096
#define MAILJOB_ADDR_MAX 320
#define MAILJOB_DATA_MAX (64 * 1024)
#define MAILJOB_PACKET_MAX \
	(4 * 4 + MAILJOB_URL_MAX + MAILJOB_USER_MAX + MAILJOB_PASSWORD_MAX + MAILJOB_PATH_MAX + \
		2 * MAILJOB_ADDR_MAX + MAILJOB_DATA_MAX + 7 * 5)
#define MAILANS_REPLY_MAX 255
#define MAILANS_PACKET_MAX (4 * 4 + 5 + MAILANS_REPLY_MAX)

enum mailjob_tls { MAILJOB_TLS_REQUIRED = 0, MAILJOB_TLS_OPPORTUNISTIC = 1, MAILJOB_TLS_OFF = 2 };

/* The strings point into the packet (decode) or to the caller's memory (encode); each is
 * NUL-terminated and its length is checked against its maximum. */
struct mailjob {
	uint32_t tag; /* the helper's name for this job; its answer carries it back */
	uint32_t starttls; /* enum mailjob_tls */
	uint32_t timeout; /* seconds, 1..600 */
	const char *url, *user, *password, *ca_file, *from, *to;
	const char *data; /* the RFC 5322 message, CRLF line ends */
	size_t data_len;
};

enum mailans_outcome { MAIL_SENT_OK = 0, MAIL_TEMPFAIL = 1, MAIL_PERMFAIL = 2 };

struct mailans {
	uint32_t tag; /* the job's */
	uint32_t outcome; /* enum mailans_outcome */
	uint32_t smtp_code; /* the server's last reply code, 0 when there was none */
	char reply[MAILANS_REPLY_MAX + 1]; /* the server's last reply, or what went wrong */
};

/* Encode into buf (cap bytes): the packet's length, or -EMSGSIZE / -EINVAL (a field over its
 * maximum or holding a NUL). */
long mailproto_job_encode(const struct mailjob *j, unsigned char *buf, size_t cap);

/* Decode a packet of len bytes; the strings of *j point into buf. 0, or -EBADMSG for anything
 * malformed, truncated, over a maximum, with a NUL inside a string or bytes after the end. */
int mailproto_job_decode(const unsigned char *buf, size_t len, struct mailjob *j);

long mailproto_ans_encode(const struct mailans *a, unsigned char *buf, size_t cap);
int mailproto_ans_decode(const unsigned char *buf, size_t len, struct mailans *a);

#endif
