/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Encoding and decoding of the messages in protocol.h. Linked into the PAM module, the helper
 * and pwresetctl, so it uses libc only.
 *
 * Every function returns 0 or a negative errno value:
 *   -EPROTO    the bytes are not a well-formed message of a known op (wrong version, a length
 *              that disagrees with the packet, a string over its maximum or holding a NUL,
 *              trailing bytes, a short packet)
 *   -EMSGSIZE  the message would not fit PWR_MSG_MAX, or a packet arrived larger than that
 *   -ECONNRESET the peer closed the connection
 * Buffers that held a message are wiped before return: requests carry codes.
 */
#ifndef PWRESET_WIRE_H
#define PWRESET_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

union pwr_msg {
	struct pwr_who who;
	struct pwr_verify_req verify;
	struct pwr_set_password_req set_password;
	struct pwr_address_req address;
	struct pwr_address_ans address_ans;
	struct pwr_address_change_ans address_change;
	struct pwr_reset_req reset;
	struct pwr_set_password_ans set_password_ans;
	struct pwr_reset_item reset_item;
	struct pwr_user_req user;
	struct pwr_email_set_req email_set;
	struct pwr_import_req import;
	struct pwr_page_req page;
	struct pwr_error_ans error;
	struct pwr_offer_ans offer;
	struct pwr_request_ans request;
	struct pwr_verify_ans verify_ans;
	struct pwr_email_set_ans email_set_ans;
	struct pwr_email_show_ans email_show;
	struct pwr_done_ans done;
	struct pwr_reject_item reject;
	struct pwr_email_item email;
	struct pwr_check_item check;
	struct pwr_check_lines checks;
	struct pwr_token_item token;
	struct pwr_mail_item mail;
	struct pwr_status_ans status;
	struct pwr_policy_req policy;
	struct pwr_policy_ans policy_ans;
};

/* Name of an op for logs ("offer", "verify", …), or "unknown". */
const char *wire_op_name(uint16_t op);

/* The words for enum pwr_mail_kind and enum pwr_mail_state ("?" for another value). */
const char *wire_mail_kind(uint32_t kind);
const char *wire_mail_state(uint32_t state);

/* The word of a check's reason, enum pwr_reason. */
const char *wire_reason(enum pwr_reason r);

/* Whether op is a known message. */
int wire_op_known(uint16_t op);

/* Encode msg (the decoded struct of op) into buf of cap bytes; *len receives the packet size.
 * Strings are taken up to their NUL; one longer than the field's maximum is -EMSGSIZE. */
int wire_encode(uint16_t op, const void *msg, uint8_t *buf, size_t cap, size_t *len);

/* Decode one packet. *op receives its op, msg (zeroed first) its fields, NUL-terminated. */
int wire_decode(const uint8_t *buf, size_t len, uint16_t *op, union pwr_msg *msg);

/* Send one message. flags are passed to send(2) (MSG_NOSIGNAL is always added). */
int wire_send(int fd, uint16_t op, const void *msg, int flags);

/* Receive and decode one packet; retries on EINTR. */
int wire_recv(int fd, uint16_t *op, union pwr_msg *msg);

#endif
