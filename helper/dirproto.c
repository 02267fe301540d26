/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "dirproto.h"
#include "packet.h"

long dirreq_encode(const struct dirreq *q, unsigned char *buf, size_t cap)
{
	struct pkt c = {.w = buf, .cap = cap};

	pkt_put_u32(&c, DIRPROTO_MAGIC);
	pkt_put_u32(&c, q->tag);
	pkt_put_u32(&c, q->op);
	pkt_put_u32(&c, q->starttls);
	pkt_put_u32(&c, q->timeout);
	pkt_put_u32(&c, q->uid);
	pkt_put_str(&c, q->urls, DIR_URLS_MAX);
	pkt_put_str(&c, q->ca_file, DIR_PATH_MAX);
	pkt_put_str(&c, q->bind_dn, DIR_DN_MAX);
	pkt_put_str(&c, q->password, DIR_PASSWORD_MAX);
	pkt_put_str(&c, q->base, DIR_DN_MAX);
	pkt_put_str(&c, q->filter, DIR_FILTER_MAX);
	pkt_put_str(&c, q->attr, DIR_ATTR_MAX);
	pkt_put_str(&c, q->user, DIR_USER_MAX);
	pkt_put_str(&c, q->dn, DIR_DN_MAX);
	pkt_put_str(&c, q->value, DIR_VALUE_MAX);
	return c.err ? c.err : (long)c.pos;
}

/* Whether the fields op needs are there and in range. */
static int needs_ok(const struct dirreq *q)
{
	switch (q->op) {
	case DIR_CONFIG:
		return *q->urls && q->starttls <= DIR_TLS_OFF && q->timeout >= 1 &&
		       q->timeout <= 600 && *q->base && strstr(q->filter, "%u") && *q->attr;
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

int dirreq_decode(const unsigned char *buf, size_t len, struct dirreq *q)
{
	struct pkt c = {.r = buf, .cap = len};

	memset(q, 0, sizeof(*q));
	if (pkt_get_u32(&c) != DIRPROTO_MAGIC)
		return -EBADMSG;
	q->tag = pkt_get_u32(&c);
	q->op = pkt_get_u32(&c);
	q->starttls = pkt_get_u32(&c);
	q->timeout = pkt_get_u32(&c);
	q->uid = pkt_get_u32(&c);
	q->urls = pkt_get_str(&c, DIR_URLS_MAX, NULL);
	q->ca_file = pkt_get_str(&c, DIR_PATH_MAX, NULL);
	q->bind_dn = pkt_get_str(&c, DIR_DN_MAX, NULL);
	q->password = pkt_get_str(&c, DIR_PASSWORD_MAX, NULL);
	q->base = pkt_get_str(&c, DIR_DN_MAX, NULL);
	q->filter = pkt_get_str(&c, DIR_FILTER_MAX, NULL);
	q->attr = pkt_get_str(&c, DIR_ATTR_MAX, NULL);
	q->user = pkt_get_str(&c, DIR_USER_MAX, NULL);
	q->dn = pkt_get_str(&c, DIR_DN_MAX, NULL);
	q->value = pkt_get_str(&c, DIR_VALUE_MAX, NULL);
	if (c.err || c.pos != len || !needs_ok(q)) {
		memset(q, 0, sizeof(*q));
		return -EBADMSG;
	}
	return 0;
}

long dirans_encode(const struct dirans *a, unsigned char *buf, size_t cap)
{
	struct pkt c = {.w = buf, .cap = cap};

	pkt_put_u32(&c, DIRPROTO_MAGIC);
	pkt_put_u32(&c, a->tag);
	pkt_put_u32(&c, a->status);
	pkt_put_u32(&c, a->more);
	pkt_put_u32(&c, a->uid);
	pkt_put_u32(&c, a->count);
	pkt_put_str(&c, a->dn, DIR_DN_MAX);
	pkt_put_str(&c, a->user, DIR_USER_MAX);
	pkt_put_str(&c, a->address, DIR_VALUE_MAX);
	pkt_put_str(&c, a->binding, DIR_BINDING_MAX);
	pkt_put_str(&c, a->text, DIR_TEXT_MAX);
	return c.err ? c.err : (long)c.pos;
}

/* A string field of the answer into its array (size max + 1). */
static void take(struct pkt *c, char *out, size_t max)
{
	size_t n = 0;
	const char *s = pkt_get_str(c, max, &n);

	if (s)
		memcpy(out, s, n + 1);
}

int dirans_decode(const unsigned char *buf, size_t len, struct dirans *a)
{
	struct pkt c = {.r = buf, .cap = len};

	memset(a, 0, sizeof(*a));
	if (pkt_get_u32(&c) != DIRPROTO_MAGIC)
		return -EBADMSG;
	a->tag = pkt_get_u32(&c);
	a->status = pkt_get_u32(&c);
	a->more = pkt_get_u32(&c);
	a->uid = pkt_get_u32(&c);
	a->count = pkt_get_u32(&c);
	take(&c, a->dn, DIR_DN_MAX);
	take(&c, a->user, DIR_USER_MAX);
	take(&c, a->address, DIR_VALUE_MAX);
	take(&c, a->binding, DIR_BINDING_MAX);
	take(&c, a->text, DIR_TEXT_MAX);
	if (c.err || c.pos != len || a->status > DIR_STATUS_LAST || a->more > 1) {
		memset(a, 0, sizeof(*a));
		return -EBADMSG;
	}
	return 0;
}
