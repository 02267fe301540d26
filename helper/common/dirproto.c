/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "dirproto.h"
#include "packet.h"

long dirproto_req_encode(const struct dirreq *q, unsigned char *buf, size_t cap)
{
	struct pkt c = {.w = buf, .cap = cap};

	packet_put_u32(&c, DIRPROTO_MAGIC);
	packet_put_u32(&c, q->tag);
	packet_put_u32(&c, q->op);
	packet_put_u32(&c, q->starttls);
	packet_put_u32(&c, q->timeout);
	packet_put_u32(&c, q->uid);
	packet_put_u32(&c, q->type);
	packet_put_str(&c, q->urls, DIR_URLS_MAX);
	packet_put_str(&c, q->ca_file, DIR_PATH_MAX);
	packet_put_str(&c, q->bind_dn, DIR_DN_MAX);
	packet_put_str(&c, q->password, DIR_PASSWORD_MAX);
	packet_put_str(&c, q->base, DIR_DN_MAX);
	packet_put_str(&c, q->filter, DIR_FILTER_MAX);
	packet_put_str(&c, q->attr, DIR_ATTR_MAX);
	packet_put_str(&c, q->lang_attr, DIR_ATTR_MAX);
	packet_put_str(&c, q->user, DIR_USER_MAX);
	packet_put_str(&c, q->dn, DIR_DN_MAX);
	packet_put_str(&c, q->value, DIR_VALUE_MAX);
	return c.err ? c.err : (long)c.pos;
}

/* Whether the fields op needs are there and in range. */
static int needs_ok(const struct dirreq *q)
{
	switch (q->op) {
	case DIR_CONFIG:
		return *q->urls && q->starttls <= DIR_TLS_OFF && q->timeout >= 1 &&
		       q->timeout <= 600 && *q->base && q->type <= DIR_TYPE_LAST &&
		       (!*q->filter || strstr(q->filter, "%u")) && *q->attr;
	case DIR_LOOKUP:
		return *q->user != '\0';
	case DIR_COUNT:
		return *q->value != '\0';
	case DIR_PASSWD:
		return *q->dn && *q->password;
	case DIR_LOCK:
	case DIR_UNLOCK:
		return *q->dn != '\0';
	case DIR_LIST:
	case DIR_STATUS:
		return 1;
	default:
		return 0;
	}
}

int dirproto_req_decode(const unsigned char *buf, size_t len, struct dirreq *q)
{
	struct pkt c = {.r = buf, .cap = len};

	memset(q, 0, sizeof(*q));
	if (packet_get_u32(&c) != DIRPROTO_MAGIC)
		return -EBADMSG;
	q->tag = packet_get_u32(&c);
	q->op = packet_get_u32(&c);
	q->starttls = packet_get_u32(&c);
	q->timeout = packet_get_u32(&c);
	q->uid = packet_get_u32(&c);
	q->type = packet_get_u32(&c);
	q->urls = packet_get_str(&c, DIR_URLS_MAX, NULL);
	q->ca_file = packet_get_str(&c, DIR_PATH_MAX, NULL);
	q->bind_dn = packet_get_str(&c, DIR_DN_MAX, NULL);
	q->password = packet_get_str(&c, DIR_PASSWORD_MAX, NULL);
	q->base = packet_get_str(&c, DIR_DN_MAX, NULL);
	q->filter = packet_get_str(&c, DIR_FILTER_MAX, NULL);
	q->attr = packet_get_str(&c, DIR_ATTR_MAX, NULL);
	q->lang_attr = packet_get_str(&c, DIR_ATTR_MAX, NULL);
	q->user = packet_get_str(&c, DIR_USER_MAX, NULL);
	q->dn = packet_get_str(&c, DIR_DN_MAX, NULL);
	q->value = packet_get_str(&c, DIR_VALUE_MAX, NULL);
	if (c.err || c.pos != len || !needs_ok(q)) {
		memset(q, 0, sizeof(*q));
		return -EBADMSG;
	}
	return 0;
}

long dirproto_ans_encode(const struct dirans *a, unsigned char *buf, size_t cap)
{
	struct pkt c = {.w = buf, .cap = cap};

	packet_put_u32(&c, DIRPROTO_MAGIC);
	packet_put_u32(&c, a->tag);
	packet_put_u32(&c, a->status);
	packet_put_u32(&c, a->more);
	packet_put_u32(&c, a->uid);
	packet_put_u32(&c, a->count);
	packet_put_u32(&c, a->flags);
	packet_put_str(&c, a->dn, DIR_DN_MAX);
	packet_put_str(&c, a->user, DIR_USER_MAX);
	packet_put_str(&c, a->address, DIR_VALUE_MAX);
	packet_put_str(&c, a->language, DIR_LANG_MAX);
	packet_put_str(&c, a->binding, DIR_BINDING_MAX);
	packet_put_str(&c, a->text, DIR_TEXT_MAX);
	return c.err ? c.err : (long)c.pos;
}

/* A string field of the answer into its array (size max + 1). */
static void take(struct pkt *c, char *out, size_t max)
{
	size_t n = 0;
	const char *s = packet_get_str(c, max, &n);

	if (s)
		memcpy(out, s, n + 1);
}

int dirproto_ans_decode(const unsigned char *buf, size_t len, struct dirans *a)
{
	struct pkt c = {.r = buf, .cap = len};

	memset(a, 0, sizeof(*a));
	if (packet_get_u32(&c) != DIRPROTO_MAGIC)
		return -EBADMSG;
	a->tag = packet_get_u32(&c);
	a->status = packet_get_u32(&c);
	a->more = packet_get_u32(&c);
	a->uid = packet_get_u32(&c);
	a->count = packet_get_u32(&c);
	a->flags = packet_get_u32(&c);
	take(&c, a->dn, DIR_DN_MAX);
	take(&c, a->user, DIR_USER_MAX);
	take(&c, a->address, DIR_VALUE_MAX);
	take(&c, a->language, DIR_LANG_MAX);
	take(&c, a->binding, DIR_BINDING_MAX);
	take(&c, a->text, DIR_TEXT_MAX);
	if (c.err || c.pos != len || a->status > DIR_STATUS_LAST || a->more > 1 ||
		a->flags > (DIR_F_DISABLED | DIR_F_EXPIRED)) {
		memset(a, 0, sizeof(*a));
		return -EBADMSG;
	}
	return 0;
}
