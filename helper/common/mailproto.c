/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "mailproto.h"
#include "packet.h"

long mailproto_job_encode(const struct mailjob *j, unsigned char *buf, size_t cap)
{
	struct pkt c = {.w = buf, .cap = cap};

	packet_put_u32(&c, MAILPROTO_MAGIC);
	packet_put_u32(&c, j->tag);
	packet_put_u32(&c, j->starttls);
	packet_put_u32(&c, j->timeout);
	packet_put_str(&c, j->url, MAILJOB_URL_MAX);
	packet_put_str(&c, j->user, MAILJOB_USER_MAX);
	packet_put_str(&c, j->password, MAILJOB_PASSWORD_MAX);
	packet_put_str(&c, j->ca_file, MAILJOB_PATH_MAX);
	packet_put_str(&c, j->from, MAILJOB_ADDR_MAX);
	packet_put_str(&c, j->to, MAILJOB_ADDR_MAX);
	packet_put_bytes(&c, j->data, j->data_len, MAILJOB_DATA_MAX);
	return c.err ? c.err : (long)c.pos;
}

int mailproto_job_decode(const unsigned char *buf, size_t len, struct mailjob *j)
{
	struct pkt c = {.r = buf, .cap = len};

	memset(j, 0, sizeof(*j));
	if (packet_get_u32(&c) != MAILPROTO_MAGIC)
		return -EBADMSG;
	j->tag = packet_get_u32(&c);
	j->starttls = packet_get_u32(&c);
	j->timeout = packet_get_u32(&c);
	j->url = packet_get_str(&c, MAILJOB_URL_MAX, NULL);
	j->user = packet_get_str(&c, MAILJOB_USER_MAX, NULL);
	j->password = packet_get_str(&c, MAILJOB_PASSWORD_MAX, NULL);
	j->ca_file = packet_get_str(&c, MAILJOB_PATH_MAX, NULL);
	j->from = packet_get_str(&c, MAILJOB_ADDR_MAX, NULL);
	j->to = packet_get_str(&c, MAILJOB_ADDR_MAX, NULL);
	j->data = packet_get_str(&c, MAILJOB_DATA_MAX, &j->data_len);
	if (c.err || c.pos != len || j->starttls > MAILJOB_TLS_OFF || j->timeout < 1 ||
		j->timeout > 600) {
		memset(j, 0, sizeof(*j));
		return -EBADMSG;
	}
	return 0;
}

long mailproto_ans_encode(const struct mailans *a, unsigned char *buf, size_t cap)
{
	struct pkt c = {.w = buf, .cap = cap};

	packet_put_u32(&c, MAILPROTO_MAGIC);
	packet_put_u32(&c, a->tag);
	packet_put_u32(&c, a->outcome);
	packet_put_u32(&c, a->smtp_code);
	packet_put_str(&c, a->reply, MAILANS_REPLY_MAX);
	return c.err ? c.err : (long)c.pos;
}

int mailproto_ans_decode(const unsigned char *buf, size_t len, struct mailans *a)
{
	struct pkt c = {.r = buf, .cap = len};
	const char *reply;
	size_t n = 0;

	memset(a, 0, sizeof(*a));
	if (packet_get_u32(&c) != MAILPROTO_MAGIC)
		return -EBADMSG;
	a->tag = packet_get_u32(&c);
	a->outcome = packet_get_u32(&c);
	a->smtp_code = packet_get_u32(&c);
	reply = packet_get_str(&c, MAILANS_REPLY_MAX, &n);
	if (c.err || c.pos != len || a->outcome > MAIL_PERMFAIL || a->smtp_code > 999) {
		memset(a, 0, sizeof(*a));
		return -EBADMSG;
	}
	memcpy(a->reply, reply, n + 1);
	return 0;
}
