/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "packet.h"

void packet_put_u32(struct pkt *c, uint32_t v)
{
	if (c->err || c->cap - c->pos < 4) {
		c->err = -EMSGSIZE;
		return;
	}
	for (int i = 0; i < 4; i++)
		c->w[c->pos++] = (unsigned char)(v >> (8 * i));
}

void packet_put_bytes(struct pkt *c, const char *s, size_t len, size_t max)
{
	if (c->err)
		return; /* the first error stays */
	if (!s || len > max || memchr(s, '\0', len)) {
		c->err = -EINVAL;
		return;
	}
	packet_put_u32(c, (uint32_t)len);
	if (c->err || c->cap - c->pos < len + 1) {
		c->err = -EMSGSIZE;
		return;
	}
	memcpy(c->w + c->pos, s, len);
	c->pos += len;
	c->w[c->pos++] = '\0';
}

void packet_put_str(struct pkt *c, const char *s, size_t max)
{
	packet_put_bytes(c, s ? s : "", s ? strlen(s) : 0, max);
}

uint32_t packet_get_u32(struct pkt *c)
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

const char *packet_get_str(struct pkt *c, size_t max, size_t *len_out)
{
	uint32_t len = packet_get_u32(c);
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
