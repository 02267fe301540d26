/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "mailproto.h"

struct cur {
	unsigned char *w; /* encoding */
	const unsigned char *r; /* decoding */
	size_t pos, cap;
	int err;
};

static void put_u32(struct cur *c, uint32_t v)
{
	if (c->err || c->cap - c->pos < 4) {
		c->err = -EMSGSIZE;
		return;
	}
	for (int i = 0; i < 4; i++)
		c->w[c->pos++] = (unsigned char)(v >> (8 * i));
}

static void put_bytes(struct cur *c, const char *s, size_t len, size_t max)
{
	if (!s || len > max || memchr(s, '\0', len)) {
		c->err = -EINVAL;
		return;
	}
	put_u32(c, (uint32_t)len);
	if (c->err || c->cap - c->pos < len + 1) {
		c->err = -EMSGSIZE;
		return;
	}
	memcpy(c->w + c->pos, s, len);
	c->pos += len;
	c->w[c->pos++] = '\0';
}

static void put_str(struct cur *c, const char *s, size_t max)
{
	put_bytes(c, s, s ? strlen(s) : 0, max);
}

static uint32_t get_u32(struct cur *c)
{
	uint32_t v = 0;

	if (c->err || c->cap - c->pos < 4) {
		c->err = -EBADMSG;
		return 0;
	}
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)c->r[c->pos++] << (8 * i);
	return v;
}

/* A string of at most max bytes, NUL-terminated in the packet, none inside. */
static const char *get_str(struct cur *c, size_t max, size_t *len_out)
{
	uint32_t len = get_u32(c);
	const char *s;

	if (c->err || len > max || c->cap - c->pos < (size_t)len + 1) {
		c->err = -EBADMSG;
		return NULL;
	}
	s = (const char *)c->r + c->pos;
	if (s[len] != '\0' || memchr(s, '\0', len)) {
		c->err = -EBADMSG;
		return NULL;
	}
	c->pos += (size_t)len + 1;
	if (len_out)
		*len_out = len;
	return s;
}

long mailjob_encode(const struct mailjob *j, unsigned char *buf, size_t cap)
{
	struct cur c = {.w = buf, .cap = cap};

	put_u32(&c, MAILPROTO_MAGIC);
	put_u32(&c, j->tag);
	put_u32(&c, j->starttls);
	put_u32(&c, j->timeout);
	put_str(&c, j->url, MAILJOB_URL_MAX);
	put_str(&c, j->user, MAILJOB_USER_MAX);
	put_str(&c, j->password, MAILJOB_PASSWORD_MAX);
	put_str(&c, j->ca_file, MAILJOB_PATH_MAX);
	put_str(&c, j->from, MAILJOB_ADDR_MAX);
	put_str(&c, j->to, MAILJOB_ADDR_MAX);
	put_bytes(&c, j->data, j->data_len, MAILJOB_DATA_MAX);
	return c.err ? c.err : (long)c.pos;
}

int mailjob_decode(const unsigned char *buf, size_t len, struct mailjob *j)
{
	struct cur c = {.r = buf, .cap = len};

	memset(j, 0, sizeof(*j));
	if (get_u32(&c) != MAILPROTO_MAGIC)
		return -EBADMSG;
	j->tag = get_u32(&c);
	j->starttls = get_u32(&c);
	j->timeout = get_u32(&c);
	j->url = get_str(&c, MAILJOB_URL_MAX, NULL);
	j->user = get_str(&c, MAILJOB_USER_MAX, NULL);
	j->password = get_str(&c, MAILJOB_PASSWORD_MAX, NULL);
	j->ca_file = get_str(&c, MAILJOB_PATH_MAX, NULL);
	j->from = get_str(&c, MAILJOB_ADDR_MAX, NULL);
	j->to = get_str(&c, MAILJOB_ADDR_MAX, NULL);
	j->data = get_str(&c, MAILJOB_DATA_MAX, &j->data_len);
	if (c.err || c.pos != len || j->starttls > MAILJOB_TLS_OFF || j->timeout < 1 ||
		j->timeout > 600) {
		memset(j, 0, sizeof(*j));
		return -EBADMSG;
	}
	return 0;
}

long mailans_encode(const struct mailans *a, unsigned char *buf, size_t cap)
{
	struct cur c = {.w = buf, .cap = cap};

	put_u32(&c, MAILPROTO_MAGIC);
	put_u32(&c, a->tag);
	put_u32(&c, a->outcome);
	put_u32(&c, a->smtp_code);
	put_str(&c, a->reply, MAILANS_REPLY_MAX);
	return c.err ? c.err : (long)c.pos;
}

int mailans_decode(const unsigned char *buf, size_t len, struct mailans *a)
{
	struct cur c = {.r = buf, .cap = len};
	const char *reply;
	size_t n = 0;

	memset(a, 0, sizeof(*a));
	if (get_u32(&c) != MAILPROTO_MAGIC)
		return -EBADMSG;
	a->tag = get_u32(&c);
	a->outcome = get_u32(&c);
	a->smtp_code = get_u32(&c);
	reply = get_str(&c, MAILANS_REPLY_MAX, &n);
	if (c.err || c.pos != len || a->outcome > MAIL_PERMFAIL || a->smtp_code > 999) {
		memset(a, 0, sizeof(*a));
		return -EBADMSG;
	}
	memcpy(a->reply, reply, n + 1);
	return 0;
}
