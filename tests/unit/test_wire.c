/* SPDX-License-Identifier: BSD-3-Clause */
/* Protocol decoding: every message round-trips, and every truncation, oversize field, stray
 * byte, NUL, bad header and oversize packet of every message is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

/* the codec itself, so that its table of fields can be walked here */
#include "wire.c"

static const struct field *wire_fields(uint16_t op, unsigned *n)
{
	const struct message *m = message_find(op);

	*n = m ? m->nfields : 0;
	return m ? m->fields : NULL;
}

static const uint16_t ops[] = {
	PWR_REQ_OFFER,
	PWR_REQ_REQUEST,
	PWR_REQ_VERIFY,
	PWR_REQ_EMAIL_SET,
	PWR_REQ_EMAIL_UNSET,
	PWR_REQ_EMAIL_SHOW,
	PWR_REQ_EMAIL_IMPORT,
	PWR_REQ_EMAIL_EXPORT,
	PWR_REQ_CHECK,
	PWR_REQ_TOKENS,
	PWR_REQ_REVOKE,
	PWR_ANS_ERROR,
	PWR_ANS_OFFER,
	PWR_ANS_REQUEST,
	PWR_ANS_VERIFY,
	PWR_ANS_EMAIL_SET,
	PWR_ANS_EMAIL_SHOW,
	PWR_ANS_STATUS,
	PWR_ANS_DONE,
	PWR_ITEM_REJECT,
	PWR_ITEM_EMAIL,
	PWR_ITEM_CHECK,
	PWR_ITEM_TOKEN,
	PWR_REQ_SET_PASSWORD,
	PWR_REQ_RESET,
	PWR_ANS_SET_PASSWORD,
	PWR_ITEM_RESET,
	PWR_REQ_QUEUE,
	PWR_REQ_QUEUE_FLUSH,
	PWR_REQ_STATUS,
	PWR_ITEM_MAIL,
	PWR_ITEM_CHECKS,
	PWR_REQ_ADDRESS_SHOW,
	PWR_REQ_ADDRESS_SET,
	PWR_REQ_ADDRESS_CONFIRM,
	PWR_REQ_ADDRESS_REMOVE,
	PWR_ANS_ADDRESS,
	PWR_ANS_ADDRESS_CHANGE,
	PWR_REQ_POLICY_SHOW,
	PWR_REQ_POLICY_SET,
	PWR_ANS_POLICY,
	PWR_REQ_EMAIL_LANGUAGE,
	PWR_REQ_ADDRESS_LANGUAGE,
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))

/* A message of op with every string filled to `fill` of its maximum (1: full) */
static void sample(uint16_t op, union pwr_msg *m, int full)
{
	unsigned n;
	const struct field *f = wire_fields(op, &n);

	memset(m, 0, sizeof(*m));
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = (uint8_t *)m + f[i].off;
		if (f[i].type == F_U32) {
			uint32_t v = 0xA0B0C0D0u + i;
			memcpy(p, &v, 4);
		} else if (f[i].type == F_U64) {
			uint64_t v = 0x0102030405060708ull + i;
			memcpy(p, &v, 8);
		} else {
			size_t len = full ? f[i].max : (i % 3 == 0 ? 0 : 5);
			memset(p, 'a' + (int)(i % 26), len);
			p[len] = '\0';
		}
	}
}

static void test_every_op_known(void **state)
{
	(void)state;
	for (size_t i = 0; i < NOPS; i++) {
		unsigned n;
		assert_true(wire_op_known(ops[i]));
		assert_non_null(wire_fields(ops[i], &n));
		assert_true(n > 0);
		assert_string_not_equal(wire_op_name(ops[i]), "unknown");
	}
	assert_false(wire_op_known(0));
	assert_false(wire_op_known(0x7fff));
	/* the list above is every message there is, so the loops below miss none */
	size_t known = 0;
	for (unsigned op = 0; op <= 0xffff; op++)
		known += wire_op_known((uint16_t)op) ? 1 : 0;
	assert_int_equal(known, NOPS);
}

static void test_roundtrip(void **state)
{
	(void)state;
	for (size_t i = 0; i < NOPS; i++)
		for (int full = 0; full < 2; full++) {
			union pwr_msg in, out;
			uint8_t buf[PWR_MSG_MAX];
			size_t len;
			uint16_t op = 0;
			sample(ops[i], &in, full);
			assert_int_equal(wire_encode(ops[i], &in, buf, sizeof(buf), &len), 0);
			assert_true(len <= PWR_MSG_MAX);
			assert_int_equal(wire_decode(buf, len, &op, &out), 0);
			assert_int_equal(op, ops[i]);
			assert_memory_equal(&in, &out, sizeof(in));
		}
}

/* Where an older peer's packet of op may end: before each later field (later fields come
 * last). For cut, 1 when it is such an end, with in's fields from there on emptied in *want. */
static int older_end(uint16_t op, const union pwr_msg *in, size_t cut, union pwr_msg *want)
{
	unsigned n;
	const struct field *f = wire_fields(op, &n);
	size_t len = sizeof(struct pwr_hdr);
	bool later = false;

	for (unsigned i = 0; i < n; i++) {
		assert_true(!later || f[i].later); /* later fields come last */
		later = f[i].later;
		if (later && len == cut) {
			*want = *in;
			for (unsigned k = i; k < n; k++)
				memset((uint8_t *)want + f[k].off, 0,
					f[k].type == F_STR ? 1u + f[k].max : 8u);
			return 1;
		}
		len += f[i].type == F_U32   ? 4
		       : f[i].type == F_U64 ? 8
					    : 2 + strlen((const char *)in + f[i].off);
	}
	return 0;
}

static void test_every_truncation(void **state)
{
	(void)state;
	for (size_t i = 0; i < NOPS; i++)
		for (int full = 0; full < 2; full++) {
			union pwr_msg in, out;
			uint8_t buf[PWR_MSG_MAX];
			size_t len;
			uint16_t op;
			sample(ops[i], &in, full);
			assert_int_equal(wire_encode(ops[i], &in, buf, sizeof(buf), &len), 0);
			for (size_t cut = 0; cut < len; cut++) {
				/* shortened packet, header left claiming the full length */
				assert_int_equal(wire_decode(buf, cut, &op, &out), -EPROTO);
				/* shortened packet whose header agrees with it */
				if (cut >= sizeof(struct pwr_hdr)) {
					uint8_t t[PWR_MSG_MAX];
					struct pwr_hdr h;
					memcpy(t, buf, cut);
					memcpy(&h, t, sizeof(h));
					h.len = (uint32_t)(cut - sizeof(h));
					memcpy(t, &h, sizeof(h));
					union pwr_msg want;
					if (!older_end(ops[i], &in, cut, &want)) {
						assert_int_equal(
							wire_decode(t, cut, &op, &out), -EPROTO);
						continue;
					}
					/* an older peer's: the fields it knew, the later ones
					 * empty */
					assert_int_equal(wire_decode(t, cut, &op, &out), 0);
					assert_memory_equal(&want, &out, sizeof(want));
				}
			}
		}
}

static void test_trailing_byte(void **state)
{
	(void)state;
	for (size_t i = 0; i < NOPS; i++) {
		union pwr_msg in, out;
		uint8_t buf[PWR_MSG_MAX + 1];
		size_t len;
		uint16_t op;
		struct pwr_hdr h;
		sample(ops[i], &in, 0);
		assert_int_equal(wire_encode(ops[i], &in, buf, sizeof(buf), &len), 0);
		buf[len] = 0x41;
		memcpy(&h, buf, sizeof(h));
		h.len++;
		memcpy(buf, &h, sizeof(h));
		assert_int_equal(wire_decode(buf, len + 1, &op, &out), -EPROTO);
	}
}

/* For every string field of every message: one byte over its maximum, and a NUL inside. */
static void test_oversize_and_nul_fields(void **state)
{
	(void)state;
	for (size_t i = 0; i < NOPS; i++) {
		unsigned n;
		const struct field *f = wire_fields(ops[i], &n);
		for (unsigned target = 0; target < n; target++) {
			uint8_t buf[2 * PWR_MSG_MAX];
			size_t pos = sizeof(struct pwr_hdr);
			union pwr_msg out;
			uint16_t op;
			if (f[target].type != F_STR)
				continue;
			for (int mode = 0; mode < 2; mode++) {
				pos = sizeof(struct pwr_hdr);
				for (unsigned k = 0; k < n; k++) {
					if (f[k].type == F_U32) {
						memset(buf + pos, 1, 4);
						pos += 4;
					} else if (f[k].type == F_U64) {
						memset(buf + pos, 1, 8);
						pos += 8;
					} else {
						uint16_t l = k == target && mode == 0
								     ? (uint16_t)(f[k].max + 1)
								     : 3;
						memcpy(buf + pos, &l, 2);
						memset(buf + pos + 2, 'x', l);
						if (k == target && mode == 1)
							buf[pos + 3] = '\0';
						pos += 2 + l;
					}
				}
				struct pwr_hdr h = {
					PWR_PROTO_VERSION, ops[i], (uint32_t)(pos - sizeof(h))};
				memcpy(buf, &h, sizeof(h));
				int r = wire_decode(buf, pos, &op, &out);
				assert_true(r == -EPROTO || (r == -EMSGSIZE && pos > PWR_MSG_MAX));
			}
		}
	}
}

static void test_bad_headers(void **state)
{
	union pwr_msg in, out;
	uint8_t buf[PWR_MSG_MAX];
	size_t len;
	uint16_t op;
	struct pwr_hdr h;

	(void)state;
	sample(PWR_REQ_OFFER, &in, 0);
	assert_int_equal(wire_encode(PWR_REQ_OFFER, &in, buf, sizeof(buf), &len), 0);
	memcpy(&h, buf, sizeof(h));

	h.version = PWR_PROTO_VERSION + 1;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(wire_decode(buf, len, &op, &out), -EPROTO);
	h.version = PWR_PROTO_VERSION;

	h.op = 0x4242;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(wire_decode(buf, len, &op, &out), -EPROTO);
	h.op = PWR_REQ_OFFER;

	h.len = 0xffffffffu;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(wire_decode(buf, len, &op, &out), -EPROTO);

	/* a packet larger than any message */
	assert_int_equal(wire_decode(buf, PWR_MSG_MAX + 1, &op, &out), -EMSGSIZE);
	assert_int_equal(wire_decode(buf, 0, &op, &out), -EPROTO);
}

static void test_encode_refuses_overlong(void **state)
{
	union pwr_msg m;
	uint8_t buf[PWR_MSG_MAX];
	size_t len;

	(void)state;
	memset(&m, 0, sizeof(m));
	memset(m.who.user, 'u', PWR_USER_MAX + 1); /* no NUL within the field */
	m.who.rhost[0] = 'x';
	assert_int_equal(wire_encode(PWR_REQ_OFFER, &m, buf, sizeof(buf), &len), -EMSGSIZE);
	memset(&m, 0, sizeof(m));
	assert_int_equal(wire_encode(PWR_REQ_OFFER, &m, buf, 10, &len), -EMSGSIZE);
	assert_int_equal(wire_encode(0x4242, &m, buf, sizeof(buf), &len), -EPROTO);
}

/* Over a real SOCK_SEQPACKET pair: a packet over PWR_MSG_MAX is refused, not truncated. */
static void test_socket_oversize(void **state)
{
	int sv[2];
	uint8_t big[PWR_MSG_MAX + 100];
	union pwr_msg m, in;
	uint16_t op;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	memset(big, 0, sizeof(big));
	assert_int_equal(send(sv[0], big, sizeof(big), 0), (ssize_t)sizeof(big));
	assert_int_equal(wire_recv(sv[1], &op, &m), -EMSGSIZE);
	sample(PWR_REQ_VERIFY, &in, 1);
	assert_int_equal(wire_send(sv[0], PWR_REQ_VERIFY, &in, 0), 0);
	assert_int_equal(wire_recv(sv[1], &op, &m), 0);
	assert_int_equal(op, PWR_REQ_VERIFY);
	assert_memory_equal(&in, &m, sizeof(m));
	close(sv[0]);
	assert_int_equal(wire_recv(sv[1], &op, &m), -ECONNRESET);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_op_known),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_trailing_byte),
		cmocka_unit_test(test_oversize_and_nul_fields),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_encode_refuses_overlong),
		cmocka_unit_test(test_socket_oversize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
