/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packets the helper exchanges with its unprivileged programs (pwreset-mailer,
 * pwreset-directory): u32 values (little-endian) and strings, each a u32 length, its bytes and
 * a NUL. A cursor writes into or reads from one buffer; the first error sticks, so a codec
 * puts or gets every field and looks at err once. Every length is checked before it is used.
 */
#ifndef PWRESET_PACKET_H
#define PWRESET_PACKET_H

#include <stddef.h>
#include <stdint.h>

struct pkt {
	unsigned char *w; /* encoding */
	const unsigned char *r; /* decoding */
	size_t pos, cap;
	int err; /* 0, or the first error: -EMSGSIZE, -EINVAL (encoding), -EBADMSG (decoding) */
};

void packet_put_u32(struct pkt *c, uint32_t v);
/* len bytes of s, at most max and without a NUL (else -EINVAL) */
void packet_put_bytes(struct pkt *c, const char *s, size_t len, size_t max);
/* s (NULL: the empty string), at most max bytes */
void packet_put_str(struct pkt *c, const char *s, size_t max);

uint32_t packet_get_u32(struct pkt *c);
/* A string of at most max bytes, NUL-terminated in the packet, none inside: it points into the
 * packet; its length in *len when len is not NULL. NULL (and err set) otherwise. */
const char *packet_get_str(struct pkt *c, size_t max, size_t *len);

#endif
