/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Table-driven codec for protocol.h: each op names its fields once, and one encoder and one
 * decoder walk that list. MUST: the decoder checks that every field fits in what remains of
 * the packet before reading it, and that nothing remains after the last one.
 * Fields added to a message after a release are marked later and come last: a packet from an
 * older peer may end where they begin, and they read as zero and "" (a new PAM module talks to
 * a daemon started before the package was upgraded).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "wire.h"

/* How an op's payload is laid out: its fields in wire order. */
enum field_type { F_U32, F_U64, F_STR };
struct field {
	unsigned char type;
	unsigned char later; /* may be missing at the end of an older peer's packet */
	unsigned short max; /* F_STR: longest string; the struct holds max + 1 bytes */
	unsigned short off; /* offset in the decoded struct */
};

struct message {
	uint16_t op;
	const char *name;
	const struct field *fields;
	unsigned nfields;
};

/* clang-format off */
#define U32(s, m) {F_U32, 0, 0, offsetof(s, m)}
#define U64(s, m) {F_U64, 0, 0, offsetof(s, m)}
#define STR(s, m, n) {F_STR, 0, n, offsetof(s, m)}
#define STR_LATER(s, m, n) {F_STR, 1, n, offsetof(s, m)}
#define U32_LATER(s, m) {F_U32, 1, 0, offsetof(s, m)}
#define WHO(s, p)                                                                                  \
	STR(s, p user, PWR_USER_MAX), STR(s, p rhost, PWR_RHOST_MAX), STR(s, p tty, PWR_TTY_MAX),  \
		STR(s, p service, PWR_SERVICE_MAX)
/* clang-format on */

static const struct field f_who[] = {WHO(struct pwr_who, )};
static const struct field f_verify[] = {
	WHO(struct pwr_verify_req, who.), STR(struct pwr_verify_req, code, PWR_CODE_MAX)};
static const struct field f_set_password[] = {WHO(struct pwr_set_password_req, who.),
	STR(struct pwr_set_password_req, password, PWR_PASSWORD_MAX)};
static const struct field f_reset[] = {U32(struct pwr_reset_req, flags),
	U32(struct pwr_reset_req, ttl), STR(struct pwr_reset_req, users, PWR_IMPORT_MAX)};
static const struct field f_set_password_ans[] = {U32(struct pwr_set_password_ans, status),
	STR(struct pwr_set_password_ans, text, PWR_TEXT_MAX)};
static const struct field f_reset_item[] = {STR(struct pwr_reset_item, user, PWR_USER_MAX),
	U32(struct pwr_reset_item, status), U32(struct pwr_reset_item, locked),
	U32(struct pwr_reset_item, mailed), U64(struct pwr_reset_item, expires),
	STR(struct pwr_reset_item, code, PWR_SHOWN_CODE_MAX),
	STR(struct pwr_reset_item, text, PWR_TEXT_MAX),
	U32_LATER(struct pwr_reset_item, self_reset),
	STR_LATER(struct pwr_reset_item, language, PWR_LANG_MAX),
	STR_LATER(struct pwr_reset_item, host_language, PWR_LANG_MAX)};
static const struct field f_user[] = {STR(struct pwr_user_req, user, PWR_USER_MAX)};
static const struct field f_address_show[] = {WHO(struct pwr_address_req, who.)};
#define CALLER_LANGUAGE STR_LATER(struct pwr_address_req, caller_language, PWR_LANG_MAX)
static const struct field f_address_set[] = {WHO(struct pwr_address_req, who.),
	STR(struct pwr_address_req, password, PWR_PASSWORD_MAX),
	STR(struct pwr_address_req, addr, PWR_ADDR_MAX),
	STR_LATER(struct pwr_address_req, language, PWR_LANG_MAX), CALLER_LANGUAGE};
static const struct field f_address_language[] = {WHO(struct pwr_address_req, who.),
	STR(struct pwr_address_req, language, PWR_LANG_MAX), CALLER_LANGUAGE};
static const struct field f_address_confirm[] = {WHO(struct pwr_address_req, who.),
	STR(struct pwr_address_req, code, PWR_CODE_MAX), CALLER_LANGUAGE};
static const struct field f_address_remove[] = {WHO(struct pwr_address_req, who.),
	STR(struct pwr_address_req, password, PWR_PASSWORD_MAX), CALLER_LANGUAGE};
static const struct field f_address_ans[] = {U32(struct pwr_address_ans, status),
	STR(struct pwr_address_ans, addr, PWR_ADDR_MAX), U32(struct pwr_address_ans, source),
	U64(struct pwr_address_ans, confirmed), STR(struct pwr_address_ans, pending, PWR_ADDR_MAX),
	U32(struct pwr_address_ans, allowed), U32(struct pwr_address_ans, hint),
	STR_LATER(struct pwr_address_ans, host_language, PWR_LANG_MAX),
	STR_LATER(struct pwr_address_ans, language, PWR_LANG_MAX)};
static const struct field f_address_change[] = {U32(struct pwr_address_change_ans, status),
	STR(struct pwr_address_change_ans, text, PWR_TEXT_MAX)};
static const struct field f_email_set[] = {STR(struct pwr_email_set_req, user, PWR_USER_MAX),
	STR(struct pwr_email_set_req, addr, PWR_ADDR_MAX),
	STR_LATER(struct pwr_email_set_req, language, PWR_LANG_MAX)};
static const struct field f_email_language[] = {STR(struct pwr_email_set_req, user, PWR_USER_MAX),
	STR(struct pwr_email_set_req, language, PWR_LANG_MAX)};
static const struct field f_import[] = {U32(struct pwr_import_req, first_line),
	U32(struct pwr_import_req, dry_run), STR(struct pwr_import_req, text, PWR_IMPORT_MAX)};
static const struct field f_page[] = {
	U32(struct pwr_page_req, start), STR(struct pwr_page_req, user, PWR_USER_MAX)};
static const struct field f_error[] = {
	U32(struct pwr_error_ans, status), STR(struct pwr_error_ans, text, PWR_TEXT_MAX)};
static const struct field f_offer[] = {U32(struct pwr_offer_ans, status),
	U32(struct pwr_offer_ans, enabled), U32(struct pwr_offer_ans, code_ttl),
	STR(struct pwr_offer_ans, help, PWR_TEXT_MAX),
	STR_LATER(struct pwr_offer_ans, language, PWR_LANG_MAX)};
static const struct field f_request[] = {
	U32(struct pwr_request_ans, status), U32(struct pwr_request_ans, code_ttl)};
static const struct field f_verify_ans[] = {U32(struct pwr_verify_ans, status)};
static const struct field f_email_set_ans[] = {U32(struct pwr_email_set_ans, status),
	U32(struct pwr_email_set_ans, warnings),
	STR(struct pwr_email_set_ans, shared_with, PWR_TEXT_MAX)};
static const struct field f_email_show[] = {U32(struct pwr_email_show_ans, status),
	STR(struct pwr_email_show_ans, addr, PWR_ADDR_MAX), U32(struct pwr_email_show_ans, source),
	U64(struct pwr_email_show_ans, confirmed),
	STR_LATER(struct pwr_email_show_ans, language, PWR_LANG_MAX)};
static const struct field f_done[] = {U32(struct pwr_done_ans, status),
	U32(struct pwr_done_ans, count), U32(struct pwr_done_ans, more),
	U32(struct pwr_done_ans, next), STR(struct pwr_done_ans, text, PWR_TEXT_MAX)};
static const struct field f_reject[] = {
	U32(struct pwr_reject_item, line), STR(struct pwr_reject_item, reason, PWR_TEXT_MAX)};
static const struct field f_email[] = {STR(struct pwr_email_item, user, PWR_USER_MAX),
	STR(struct pwr_email_item, addr, PWR_ADDR_MAX)};
static const struct field f_check[] = {STR(struct pwr_check_item, user, PWR_USER_MAX),
	U32(struct pwr_check_item, uid), U32(struct pwr_check_item, eligible),
	STR(struct pwr_check_item, reasons, PWR_TEXT_MAX)};
static const struct field f_checks[] = {STR(struct pwr_check_lines, lines, PWR_CHECKS_MAX)};
static const struct field f_token[] = {STR(struct pwr_token_item, user, PWR_USER_MAX),
	U32(struct pwr_token_item, kind), U64(struct pwr_token_item, issued),
	U64(struct pwr_token_item, expires), U32(struct pwr_token_item, failures),
	U32(struct pwr_token_item, tries_left)};
static const struct field f_mail[] = {U64(struct pwr_mail_item, id),
	STR(struct pwr_mail_item, user, PWR_USER_MAX), STR(struct pwr_mail_item, to, PWR_ADDR_MAX),
	U32(struct pwr_mail_item, kind), U32(struct pwr_mail_item, state),
	U32(struct pwr_mail_item, attempts), U64(struct pwr_mail_item, created),
	U64(struct pwr_mail_item, next_try), STR(struct pwr_mail_item, reply, PWR_MAIL_REPLY_MAX)};

static const struct field f_policy[] = {STR(struct pwr_policy_req, key, PWR_KEY_MAX),
	STR(struct pwr_policy_req, value, PWR_TEXT_MAX)};
#define P_ struct pwr_policy_ans
static const struct field f_policy_ans[] = {U32(P_, status), U32(P_, self_reset),
	U32(P_, user_addresses), U32(P_, min_uid), STR(P_, help, PWR_TEXT_MAX),
	STR(P_, admin_group, PWR_USER_MAX), STR(P_, exclude_users, PWR_TEXT_MAX / 2),
	STR(P_, exclude_groups, PWR_TEXT_MAX / 2), STR(P_, file, PWR_URL_MAX),
	STR(P_, problem, PWR_TEXT_MAX / 2)};
#undef P_

#define S_ struct pwr_status_ans
static const struct field f_status[] = {U32(S_, status), STR(S_, version, PWR_VERSION_MAX),
	U32(S_, mode), U64(S_, started), U32(S_, self_reset), U32(S_, code_ttl),
	U32(S_, admin_code_ttl), STR(S_, admin_group, PWR_USER_MAX), STR(S_, smtp_url, PWR_URL_MAX),
	STR(S_, help, PWR_TEXT_MAX), U32(S_, addresses), U32(S_, codes_self), U32(S_, codes_admin),
	U32(S_, mail_queued), U32(S_, mail_deferred), U32(S_, mail_failed), U32(S_, mail_sent),
	U64(S_, store_bytes), STR(S_, problems, PWR_TEXT_MAX), STR(S_, directory, PWR_URL_MAX),
	U32(S_, directory_ok), STR(S_, directory_as, PWR_TEXT_MAX / 2),
	U32_LATER(S_, directory_type)};
#undef S_

/* clang-format off */
#define MSG(o, n, f) {o, n, f, sizeof(f) / sizeof((f)[0])}
/* clang-format on */
static const struct message messages[] = {
	MSG(PWR_REQ_OFFER, "offer", f_who),
	MSG(PWR_REQ_REQUEST, "request", f_who),
	MSG(PWR_REQ_VERIFY, "verify", f_verify),
	MSG(PWR_REQ_SET_PASSWORD, "set-password", f_set_password),
	MSG(PWR_REQ_ADDRESS_SHOW, "address-show", f_address_show),
	MSG(PWR_REQ_ADDRESS_SET, "address-set", f_address_set),
	MSG(PWR_REQ_ADDRESS_CONFIRM, "address-confirm", f_address_confirm),
	MSG(PWR_REQ_ADDRESS_REMOVE, "address-remove", f_address_remove),
	MSG(PWR_REQ_ADDRESS_LANGUAGE, "address-language", f_address_language),
	MSG(PWR_REQ_EMAIL_SET, "email-set", f_email_set),
	MSG(PWR_REQ_EMAIL_UNSET, "email-unset", f_user),
	MSG(PWR_REQ_EMAIL_SHOW, "email-show", f_user),
	MSG(PWR_REQ_EMAIL_IMPORT, "email-import", f_import),
	MSG(PWR_REQ_EMAIL_EXPORT, "email-export", f_page),
	MSG(PWR_REQ_CHECK, "check", f_page),
	MSG(PWR_REQ_TOKENS, "tokens", f_page),
	MSG(PWR_REQ_REVOKE, "revoke", f_user),
	MSG(PWR_REQ_RESET, "reset", f_reset),
	MSG(PWR_REQ_QUEUE, "queue", f_page),
	MSG(PWR_REQ_QUEUE_FLUSH, "queue-flush", f_user),
	MSG(PWR_REQ_STATUS, "status", f_user),
	MSG(PWR_REQ_POLICY_SHOW, "policy", f_policy),
	MSG(PWR_REQ_POLICY_SET, "policy-set", f_policy),
	MSG(PWR_REQ_EMAIL_LANGUAGE, "email-language", f_email_language),
	MSG(PWR_ANS_ERROR, "error", f_error),
	MSG(PWR_ANS_OFFER, "offer-answer", f_offer),
	MSG(PWR_ANS_REQUEST, "request-answer", f_request),
	MSG(PWR_ANS_VERIFY, "verify-answer", f_verify_ans),
	MSG(PWR_ANS_SET_PASSWORD, "set-password-answer", f_set_password_ans),
	MSG(PWR_ANS_ADDRESS, "address-answer", f_address_ans),
	MSG(PWR_ANS_ADDRESS_CHANGE, "address-change-answer", f_address_change),
	MSG(PWR_ANS_EMAIL_SET, "email-set-answer", f_email_set_ans),
	MSG(PWR_ANS_EMAIL_SHOW, "email-show-answer", f_email_show),
	MSG(PWR_ANS_STATUS, "status-answer", f_status),
	MSG(PWR_ANS_POLICY, "policy-answer", f_policy_ans),
	MSG(PWR_ANS_DONE, "done", f_done),
	MSG(PWR_ITEM_REJECT, "reject-item", f_reject),
	MSG(PWR_ITEM_EMAIL, "email-item", f_email),
	MSG(PWR_ITEM_CHECK, "check-item", f_check),
	MSG(PWR_ITEM_CHECKS, "check-items", f_checks),
	MSG(PWR_ITEM_TOKEN, "token-item", f_token),
	MSG(PWR_ITEM_RESET, "reset-item", f_reset_item),
	MSG(PWR_ITEM_MAIL, "mail-item", f_mail),
};

static const struct message *message_find(uint16_t op)
{
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
		if (messages[i].op == op)
			return &messages[i];
	return NULL;
}

const char *wire_op_name(uint16_t op)
{
	const struct message *m = message_find(op);
	return m ? m->name : "unknown";
}

int wire_op_known(uint16_t op)
{
	return message_find(op) != NULL;
}

/* Field f of the struct at src, encoded at out (room bytes): how many bytes, or -1. */
static long put_field(const struct field *f, const uint8_t *src, uint8_t *out, size_t room)
{
	size_t n = f->type == F_U32 ? 4 : f->type == F_U64 ? 8 : 0;
	uint16_t slen;

	if (f->type != F_STR) {
		if (room < n)
			return -1;
		memcpy(out, src + f->off, n);
		return (long)n;
	}
	n = strnlen((const char *)src + f->off, (size_t)f->max + 1);
	if (n > f->max || room < 2 + n)
		return -1;
	slen = (uint16_t)n;
	memcpy(out, &slen, 2);
	memcpy(out + 2, src + f->off, n);
	return (long)(2 + n);
}

/* Field f decoded from in (left bytes) into the struct at dst: how many bytes it took, or -1
 * when it does not fit in what is left (or a string holds a NUL or is too long). */
static long get_field(const struct field *f, const uint8_t *in, size_t left, uint8_t *dst)
{
	size_t n = f->type == F_U32 ? 4 : f->type == F_U64 ? 8 : 2;
	uint16_t slen;

	if (left < n)
		return -1;
	if (f->type != F_STR) {
		memcpy(dst + f->off, in, n);
		return (long)n;
	}
	memcpy(&slen, in, 2);
	if (slen > f->max || left - 2 < slen || memchr(in + 2, 0, slen))
		return -1;
	memcpy(dst + f->off, in + 2, slen);
	dst[f->off + slen] = '\0';
	return 2 + (long)slen;
}

int wire_encode(uint16_t op, const void *msg, uint8_t *buf, size_t cap, size_t *len)
{
	const struct message *m = message_find(op);
	size_t pos = sizeof(struct pwr_hdr);
	struct pwr_hdr h = {PWR_PROTO_VERSION, op, 0};

	if (!m)
		return -EPROTO;
	if (cap < pos)
		return -EMSGSIZE;
	for (unsigned i = 0; i < m->nfields; i++) {
		long n = put_field(&m->fields[i], msg, buf + pos, cap - pos);
		if (n < 0)
			return -EMSGSIZE;
		pos += (size_t)n;
	}
	if (pos > PWR_MSG_MAX)
		return -EMSGSIZE;
	h.len = (uint32_t)(pos - sizeof(h));
	memcpy(buf, &h, sizeof(h));
	*len = pos;
	return 0;
}

int wire_decode(const uint8_t *buf, size_t len, uint16_t *op, union pwr_msg *msg)
{
	const struct message *m;
	struct pwr_hdr h;
	size_t pos = sizeof(h);

	memset(msg, 0, sizeof(*msg));
	if (len > PWR_MSG_MAX)
		return -EMSGSIZE;
	if (len < sizeof(h))
		return -EPROTO;
	memcpy(&h, buf, sizeof(h));
	if (h.version != PWR_PROTO_VERSION || h.len != len - sizeof(h))
		return -EPROTO;
	m = message_find(h.op);
	if (!m)
		return -EPROTO;
	for (unsigned i = 0; i < m->nfields && pos <= len; i++) {
		long n;
		if (pos == len && m->fields[i].later)
			break; /* an older peer's packet */
		n = get_field(&m->fields[i], buf + pos, len - pos, (uint8_t *)msg);
		pos = n < 0 ? len + 1 : pos + (size_t)n;
	}
	if (pos != len) {
		explicit_bzero(msg, sizeof(*msg));
		return -EPROTO;
	}
	*op = h.op;
	return 0;
}

int wire_send(int fd, uint16_t op, const void *msg, int flags)
{
	uint8_t buf[PWR_MSG_MAX];
	size_t len;
	ssize_t n;
	int r = wire_encode(op, msg, buf, sizeof(buf), &len);

	if (r < 0)
		goto out;
	do
		n = send(fd, buf, len, flags | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != len)
		r = -EPROTO;
out:
	explicit_bzero(buf, sizeof(buf));
	return r;
}

int wire_recv(int fd, uint16_t *op, union pwr_msg *msg)
{
	uint8_t buf[PWR_MSG_MAX];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;
	int r;

	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		r = -EMSGSIZE;
	else
		r = wire_decode(buf, (size_t)n, op, msg);
	explicit_bzero(buf, sizeof(buf));
	return r;
}

const char *wire_mail_kind(uint32_t kind)
{
	static const char *const words[] = {[PWR_MAIL_CODE] = "code",
		[PWR_MAIL_ADMIN] = "admin-reset",
		[PWR_MAIL_CHANGED] = "changed",
		[PWR_MAIL_ADDRESS_CONFIRM] = "address-confirm",
		[PWR_MAIL_ADDRESS_REPLACED] = "address-replaced",
		[PWR_MAIL_ADDRESS_REMOVED] = "address-removed"};

	return kind < sizeof(words) / sizeof(words[0]) && words[kind] ? words[kind] : "?";
}

const char *wire_mail_state(uint32_t state)
{
	static const char *const words[] = {[PWR_MAIL_QUEUED] = "queued",
		[PWR_MAIL_SENT] = "sent",
		[PWR_MAIL_DEFERRED] = "deferred",
		[PWR_MAIL_FAILED] = "failed"};

	return state < sizeof(words) / sizeof(words[0]) && words[state] ? words[state] : "?";
}

const char *wire_reason(enum pwr_reason r)
{
	static const char *const words[PWR_REASON_COUNT] = {
		[PWR_REASON_DISABLED] = "disabled",
		[PWR_REASON_NO_ACCOUNT] = "no-account",
		[PWR_REASON_NOT_LOCAL] = "not-local-shadow",
		[PWR_REASON_NOT_IN_DIRECTORY] = "not-in-directory",
		[PWR_REASON_DIRECTORY_UNREACHABLE] = "directory-unreachable",
		[PWR_REASON_SYSTEM_ACCOUNT] = "system-account",
		[PWR_REASON_EXCLUDED] = "excluded",
		[PWR_REASON_EXPIRED] = "expired",
		[PWR_REASON_NO_ADDRESS] = "no-address",
		[PWR_REASON_LOCAL_ONLY] = "local-only-address",
		[PWR_REASON_SHARED_ADDRESS] = "shared-address",
		[PWR_REASON_PROTECTED] = "protected",
	};

	return (unsigned)r < PWR_REASON_COUNT ? words[r] : "?";
}
