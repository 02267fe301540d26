/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The wire protocol between pam_pwreset.so, pwresetctl and pwreset-helper.
 *
 * Transport: one SOCK_SEQPACKET connection, either the daemon's socket or a socketpair on the
 * one-shot helper's fd 0. Each packet is one message: a struct pwr_hdr followed by `len` bytes
 * of payload. The payload is the message's fields in the order given below, each encoded as
 *   u32  4 bytes, host byte order (both ends are on the same host)
 *   u64  8 bytes, host byte order
 *   str  u16 length (host byte order), then that many bytes; no NUL inside, no terminator,
 *        never longer than the field's maximum
 * Nothing may follow the last field.
 *
 * MUST: every size is checked before a byte is read (wire.c), and no message exceeds
 * PWR_MSG_MAX. A message that fails to decode, or a request the peer may not make, ends that
 * peer's connection (after an error answer where one can be given), never the daemon.
 *
 * Conversation: the client sends one request; the helper answers with the request's answer
 * message, or with PWR_ANS_ERROR. Listing requests (PWR_REQ_EMAIL_EXPORT, PWR_REQ_CHECK,
 * PWR_REQ_TOKENS, PWR_REQ_EMAIL_IMPORT) are answered with zero or more item messages and then
 * one PWR_ANS_DONE; they are paged (at most PWR_PAGE_MAX items) and the client asks again from
 * `next` while PWR_ANS_DONE says `more`.
 */
#ifndef PWRESET_PROTOCOL_H
#define PWRESET_PROTOCOL_H

#include <stdint.h>

#define PWR_PROTO_VERSION 1
#define PWR_MSG_MAX 4096
#define PWR_PAGE_MAX 64

/* Field maxima in bytes, excluding the terminating NUL the decoded struct adds. */
#define PWR_USER_MAX 256 /* anything longer cannot be an account; sshd may send it anyway */
#define PWR_RHOST_MAX 255
#define PWR_TTY_MAX 64
#define PWR_SERVICE_MAX 64
#define PWR_CODE_MAX 64 /* raw input; a code is 10 symbols after normalisation */
#define PWR_ADDR_MAX 254 /* RFC 5321 path limit */
#define PWR_TEXT_MAX 1024 /* help message, reasons, error texts */
#define PWR_IMPORT_MAX 3800 /* one block of whole lines of an import file */
#define PWR_PASSWORD_MAX 512
#define PWR_SHOWN_CODE_MAX 16
#define PWR_KEY_MAX 64 /* a configuration key's name */
#define PWR_VERSION_MAX 32
#define PWR_URL_MAX 255
#define PWR_LANG_MAX 63 /* a language name: "ja", "de_DE.UTF-8" (catalog.h) */

struct pwr_hdr {
	uint16_t version;
	uint16_t op;
	uint32_t len; /* payload bytes after this header */
};

enum pwr_op {
	/* requests */
	PWR_REQ_OFFER = 1, /* self-service: may a reset be offered to this user? */
	PWR_REQ_REQUEST = 2, /* self-service: send a code if the user can reset */
	PWR_REQ_VERIFY = 3, /* self-service: check a code */
	PWR_REQ_SET_PASSWORD = 4, /* self-service, after a valid code on this connection */
	PWR_REQ_ADDRESS_SHOW = 5, /* self-service: the account's recovery address (SPEC §11) */
	PWR_REQ_ADDRESS_SET = 6, /* self-service, with the current password: mail a code */
	PWR_REQ_ADDRESS_CONFIRM = 7, /* self-service: the code registers the pending address */
	PWR_REQ_ADDRESS_REMOVE = 8, /* self-service, with the current password */
	PWR_REQ_ADDRESS_LANGUAGE = 9, /* self-service: the language of one's mail (SPEC §13) */
	PWR_REQ_EMAIL_SET = 16,
	PWR_REQ_EMAIL_UNSET = 17,
	PWR_REQ_EMAIL_SHOW = 18,
	PWR_REQ_EMAIL_IMPORT = 19,
	PWR_REQ_EMAIL_EXPORT = 20,
	PWR_REQ_CHECK = 21,
	PWR_REQ_TOKENS = 22,
	PWR_REQ_REVOKE = 23,
	PWR_REQ_RESET = 24,
	PWR_REQ_QUEUE = 25,
	PWR_REQ_QUEUE_FLUSH = 26,
	PWR_REQ_STATUS = 27,
	PWR_REQ_POLICY_SHOW = 28, /* the policy keys, as in use (issue 20) */
	PWR_REQ_POLICY_SET = 29, /* root only: one policy key changed in the file, then used */
	PWR_REQ_EMAIL_LANGUAGE = 30, /* the language of an account's mail (SPEC §13) */

	/* answers */
	PWR_ANS_ERROR = 0x8000,
	PWR_ANS_OFFER = 0x8001,
	PWR_ANS_REQUEST = 0x8002,
	PWR_ANS_VERIFY = 0x8003,
	PWR_ANS_SET_PASSWORD = 0x8004,
	PWR_ANS_ADDRESS = 0x8005,
	PWR_ANS_ADDRESS_CHANGE = 0x8006,
	PWR_ANS_EMAIL_SET = 0x8010,
	PWR_ANS_EMAIL_SHOW = 0x8012,
	PWR_ANS_STATUS = 0x8013,
	PWR_ANS_POLICY = 0x8014,
	PWR_ANS_DONE = 0x8100,
	PWR_ITEM_REJECT = 0x8101,
	PWR_ITEM_EMAIL = 0x8102,
	PWR_ITEM_CHECK = 0x8103,
	PWR_ITEM_TOKEN = 0x8104,
	PWR_ITEM_RESET = 0x8105,
	PWR_ITEM_MAIL = 0x8106,
	PWR_ITEM_CHECKS = 0x8107,
};

/* Status carried by every answer. 0 is success. */
enum pwr_status {
	PWR_OK = 0,
	PWR_E_PROTO = 1, /* malformed or unexpected message; the connection is closed */
	PWR_E_PERM = 2, /* this peer may not ask this; the connection is closed */
	PWR_E_CONFIG = 3, /* the helper's configuration is broken; it answers nothing else */
	PWR_E_INTERNAL = 4, /* store or system failure; see the helper's log */
	PWR_E_NOTFOUND = 5, /* no such account, or nothing registered */
	PWR_E_INVALID = 6, /* a value was refused; the text says why */
	PWR_E_BADCODE = 7, /* wrong, expired, used-up or revoked code: all read the same */
	PWR_E_BADFORMAT = 8, /* input that cannot be a code (no attempt of the code counted) */
	PWR_E_DISABLED = 9, /* self-service reset is switched off */
	PWR_E_QUALITY = 10, /* the new password was refused; the text says why, for the person */
	PWR_E_UNAVAILABLE = 11, /* this host cannot complete a reset now (the helper's log and
				   status say why); the same for every user */
	PWR_E_PASSWORD = 12, /* the current password is not right (counted in the window) */
	PWR_E_LIMIT = 13, /* too many requests for this account or host: try again later */
	PWR_E_BUSY = 14, /* another program held the password file's lock too long: nothing was
			    written, the code stays valid; try again */
};

/* Layouts. Each struct is the decoded form; the wire form is its fields in order. */

/* PWR_REQ_OFFER, PWR_REQ_REQUEST: str user, str rhost, str tty, str service */
struct pwr_who {
	char user[PWR_USER_MAX + 1];
	char rhost[PWR_RHOST_MAX + 1];
	char tty[PWR_TTY_MAX + 1];
	char service[PWR_SERVICE_MAX + 1];
};

/* PWR_REQ_VERIFY: str user, str rhost, str tty, str service, str code */
struct pwr_verify_req {
	struct pwr_who who;
	char code[PWR_CODE_MAX + 1];
};

/* PWR_REQ_SET_PASSWORD: str user, str rhost, str tty, str service, str password.
 * Accepted only on a connection whose last PWR_REQ_VERIFY for this user succeeded, while that
 * code is still the user's and alive; a written password consumes the code. */
struct pwr_set_password_req {
	struct pwr_who who;
	char password[PWR_PASSWORD_MAX + 1];
};

/* PWR_REQ_RESET: u32 flags (PWR_RESET_*), u32 ttl (seconds; 0: admin_code_ttl),
 * str users (names separated by '\n'). Answered with one PWR_ITEM_RESET per user, each
 * independent of the others, then PWR_ANS_DONE whose count is the users reset. */
#define PWR_RESET_NO_LOCK 1u
#define PWR_RESET_PRINT 2u
struct pwr_reset_req {
	uint32_t flags;
	uint32_t ttl;
	char users[PWR_IMPORT_MAX + 1];
};

/* PWR_REQ_EMAIL_UNSET, _SHOW, PWR_REQ_REVOKE: str user */
struct pwr_user_req {
	char user[PWR_USER_MAX + 1];
};

/* PWR_REQ_EMAIL_SET: str user, str addr */
struct pwr_email_set_req {
	char user[PWR_USER_MAX + 1];
	char addr[PWR_ADDR_MAX + 1];
	char language[PWR_LANG_MAX + 1]; /* "": as it was; "default": none of its own */
};

/* PWR_REQ_EMAIL_LANGUAGE: str user, str language (a name, or "default": mail_language's).
 * Answered PWR_ANS_DONE. */

/* PWR_REQ_EMAIL_IMPORT: u32 first_line, u32 dry_run, str text (whole lines, each ending in
 * '\n', the first of them line number first_line of the file). Answered with one
 * PWR_ITEM_REJECT per refused line, then PWR_ANS_DONE whose count is the lines imported (or,
 * with dry_run, that would be). */
struct pwr_import_req {
	uint32_t first_line;
	uint32_t dry_run;
	char text[PWR_IMPORT_MAX + 1];
};

/* PWR_REQ_EMAIL_EXPORT, PWR_REQ_CHECK, PWR_REQ_TOKENS: u32 start, str user
 * CHECK: user names one account; empty: every account, in one answer (PWR_ANS_DONE's `more`
 *   is 0), with PWR_ITEM_CHECK items, or, when `start` is PWR_CHECK_PACKED, with
 *   PWR_ITEM_CHECKS (many accounts a packet) wherever an item can be written that way.
 * EMAIL_EXPORT, TOKENS: the page starts after `user` (empty at first, then the last user of
 *   the previous page); `start` is 0. */
struct pwr_page_req {
	uint32_t start;
	char user[PWR_USER_MAX + 1];
};

/* PWR_REQ_QUEUE takes a pwr_page_req too: `start` is the id after which the page starts (0 at
 * first, then PWR_ANS_DONE's `next`); `user` empty. Answered with PWR_ITEM_MAIL items.
 * PWR_REQ_QUEUE_FLUSH takes a pwr_user_req: every queued or deferred mail (of that user, when
 * one is named) is due now and tried at once; PWR_ANS_DONE's `count` says how many. */

/* PWR_REQ_STATUS takes a pwr_user_req with the user empty; answered with PWR_ANS_STATUS. */

/* PWR_ANS_STATUS: u32 status, str version, u32 mode (PWR_MODE_*), u64 started (Unix time),
 * u32 self_reset, u32 code_ttl, u32 admin_code_ttl (seconds), str admin_group, str smtp_url,
 * str help, u32 addresses (registered), u32 codes_self, u32 codes_admin (pending),
 * u32 mail_queued, u32 mail_deferred, u32 mail_failed, u32 mail_sent, u64 store_bytes,
 * str problems (what keeps resets from working on this host, for the administrator; empty:
 * nothing), str directory (directory_url, "" when none), u32 directory_ok (it answered),
 * str directory_as (whom the helper is bound as, or why the directory did not answer),
 * later u32 directory_type (PWR_DIR_TYPE_* of the one that answered; 0: none answered) */
/* PWR_REQ_POLICY_SHOW: str key, str value, both empty; PWR_REQ_POLICY_SET: the key and its
 * new value (answered PWR_ANS_POLICY with the policy then in use, or an error whose text is
 * the file's errors, "FILE:LINE: KEY: what", a line each) */
struct pwr_policy_req {
	char key[PWR_KEY_MAX + 1];
	char value[PWR_TEXT_MAX + 1];
};

/* PWR_ANS_POLICY: u32 status, u32 self_reset, u32 user_addresses, u32 min_uid, str help,
 * str admin_group, str exclude_users, str exclude_groups (comma lists), str file (the
 * configuration file), str problem (why the file as it is now is not in use; "" when it is) */
struct pwr_policy_ans {
	uint32_t status;
	uint32_t self_reset;
	uint32_t user_addresses;
	uint32_t min_uid;
	char help[PWR_TEXT_MAX + 1];
	char admin_group[PWR_USER_MAX + 1];
	char exclude_users[PWR_TEXT_MAX / 2 + 1];
	char exclude_groups[PWR_TEXT_MAX / 2 + 1];
	char file[PWR_URL_MAX + 1];
	char problem[PWR_TEXT_MAX / 2 + 1];
};

#define PWR_MODE_DAEMON 1u
#define PWR_MODE_ONESHOT 2u
#define PWR_DIR_TYPE_OPENLDAP 1u
#define PWR_DIR_TYPE_AD 2u
struct pwr_status_ans {
	uint32_t status;
	char version[PWR_VERSION_MAX + 1];
	uint32_t mode;
	uint64_t started;
	uint32_t self_reset;
	uint32_t code_ttl;
	uint32_t admin_code_ttl;
	char admin_group[PWR_USER_MAX + 1];
	char smtp_url[PWR_URL_MAX + 1];
	char help[PWR_TEXT_MAX + 1];
	uint32_t addresses;
	uint32_t codes_self;
	uint32_t codes_admin;
	uint32_t mail_queued;
	uint32_t mail_deferred;
	uint32_t mail_failed;
	uint32_t mail_sent;
	uint64_t store_bytes;
	char problems[PWR_TEXT_MAX + 1];
	char directory[PWR_URL_MAX + 1];
	uint32_t directory_ok;
	char directory_as[PWR_TEXT_MAX / 2 + 1];
	uint32_t directory_type;
};

/* PWR_ANS_ERROR: u32 status, str text */
struct pwr_error_ans {
	uint32_t status;
	char text[PWR_TEXT_MAX + 1];
};

/* PWR_ANS_OFFER: u32 status, u32 enabled, u32 code_ttl (seconds), str help, str language
 * (the host's, for the prompts: SPEC §13; "" English) */
struct pwr_offer_ans {
	uint32_t status;
	uint32_t enabled;
	uint32_t code_ttl;
	char help[PWR_TEXT_MAX + 1];
	char language[PWR_LANG_MAX + 1];
};

/* PWR_ANS_REQUEST: u32 status, u32 code_ttl. The same for every user, always. */
struct pwr_request_ans {
	uint32_t status;
	uint32_t code_ttl;
};

/* PWR_ANS_VERIFY: u32 status */
struct pwr_verify_ans {
	uint32_t status;
};

/* PWR_ANS_SET_PASSWORD: u32 status, str text (PWR_E_QUALITY: the reason) */
struct pwr_set_password_ans {
	uint32_t status;
	char text[PWR_TEXT_MAX + 1];
};

/* PWR_ITEM_RESET: str user, u32 status, u32 locked (PWR_LOCKED_*), u32 mailed, u64 expires
 * (Unix time), str code (XXXXX-XXXXX when it is handed over, else empty), str text (why it
 * failed), u32 self_reset (the prompt the person will see: the offer, or with self-service off
 * the prompt for an administrator's code; SPEC §3), str language (the account's mail's: the
 * sheet's), str host_language (the prompts': SPEC §13) */
#define PWR_LOCKED 1u /* the password is locked */
#define PWR_LOCKED_RANDOM 2u /* a directory without ppolicy: replaced by a random one */
struct pwr_reset_item {
	char user[PWR_USER_MAX + 1];
	uint32_t status;
	uint32_t locked;
	uint32_t mailed;
	uint64_t expires;
	char code[PWR_SHOWN_CODE_MAX + 1];
	char text[PWR_TEXT_MAX + 1];
	uint32_t self_reset;
	char language[PWR_LANG_MAX + 1]; /* its mail's (the account's, or mail_language's) */
	char host_language[PWR_LANG_MAX + 1]; /* the prompts' */
};

/* PWR_ANS_EMAIL_SET: u32 status, u32 warnings (PWR_WARN_*), str shared_with (comma list) */
#define PWR_WARN_SHARED 1u
#define PWR_WARN_LOCAL 2u
struct pwr_email_set_ans {
	uint32_t status;
	uint32_t warnings;
	char shared_with[PWR_TEXT_MAX + 1];
};

/* PWR_REQ_ADDRESS_*: who; SET also str password, str addr, str language ("": as it was);
 * CONFIRM also str code; REMOVE also str password; LANGUAGE also str language (a name, or
 * "default"); each but SHOW then str caller_language, the language the caller reads, for the
 * answer's text ("": English; SPEC §13) (the fields a request does not carry stay empty) */
struct pwr_address_req {
	struct pwr_who who;
	char password[PWR_PASSWORD_MAX + 1];
	char addr[PWR_ADDR_MAX + 1];
	char code[PWR_CODE_MAX + 1];
	char language[PWR_LANG_MAX + 1];
	char caller_language[PWR_LANG_MAX + 1];
};

/* PWR_ANS_ADDRESS: u32 status, str addr ("" when none), u32 source, u64 confirmed, str
 * pending (an address set and awaiting its code, ""), u32 allowed (user_addresses), u32 hint
 * (the session hint of SPEC §11 is due: users may register an address, and nothing but the
 * missing address keeps this account from a reset), str host_language (the host's, for the
 * hint: SPEC §13), str language (the account's mail's, "" when mail_language applies) */
struct pwr_address_ans {
	uint32_t status;
	char addr[PWR_ADDR_MAX + 1];
	uint32_t source;
	uint64_t confirmed;
	char pending[PWR_ADDR_MAX + 1];
	uint32_t allowed;
	uint32_t hint;
	char host_language[PWR_LANG_MAX + 1];
	char language[PWR_LANG_MAX + 1]; /* the account's mail's; "": mail_language */
};

/* PWR_ANS_ADDRESS_CHANGE: u32 status, str text (for the person: what was done, or why not) */
struct pwr_address_change_ans {
	uint32_t status;
	char text[PWR_TEXT_MAX + 1];
};

/* Who registered an address: an administrator (pwresetctl), or the user (pwreset-address);
 * a directory account's is the directory's (SPEC §12). */
enum pwr_address_source { PWR_SOURCE_ADMIN = 0, PWR_SOURCE_USER = 1, PWR_SOURCE_DIRECTORY = 2 };

/* PWR_ANS_EMAIL_SHOW: u32 status, str addr, u32 source (enum pwr_address_source),
 * u64 confirmed (Unix time the user confirmed it with a code; 0: never) */
struct pwr_email_show_ans {
	uint32_t status;
	char addr[PWR_ADDR_MAX + 1];
	uint32_t source;
	uint64_t confirmed;
	char language[PWR_LANG_MAX + 1]; /* its mail's, "" when mail_language applies */
};

/* PWR_ANS_DONE: u32 status, u32 count (items in this page, or lines imported),
 * u32 more, u32 next (the `start` of the next page), str text */
struct pwr_done_ans {
	uint32_t status;
	uint32_t count;
	uint32_t more;
	uint32_t next;
	char text[PWR_TEXT_MAX + 1];
};

/* PWR_ITEM_REJECT: u32 line, str reason */
struct pwr_reject_item {
	uint32_t line;
	char reason[PWR_TEXT_MAX + 1];
};

/* PWR_ITEM_EMAIL: str user, str addr */
struct pwr_email_item {
	char user[PWR_USER_MAX + 1];
	char addr[PWR_ADDR_MAX + 1];
};

/* Why an account cannot reset its own password (SPEC §5), in the order a check lists them:
 * wire_reason() gives each one's word. PWR_REASON_SHARED_ADDRESS is followed by ':' and the
 * other accounts, comma-separated, and so comes last. */
enum pwr_reason {
	PWR_REASON_DISABLED,
	PWR_REASON_NO_ACCOUNT,
	PWR_REASON_NOT_LOCAL,
	PWR_REASON_NOT_IN_DIRECTORY, /* SPEC §12: neither local nor in the directory */
	PWR_REASON_DIRECTORY_UNREACHABLE, /* SPEC §12: not local, and the directory did not say */
	PWR_REASON_SYSTEM_ACCOUNT,
	PWR_REASON_EXCLUDED,
	PWR_REASON_EXPIRED,
	PWR_REASON_NO_ADDRESS,
	PWR_REASON_LOCAL_ONLY,
	PWR_REASON_SHARED_ADDRESS,
	/* shown alone, to a member of admin_group who is not root, for an account only root may
	 * act on as a member of admin_group or of admin_protected_groups (SPEC §2); its other
	 * reasons are not told */
	PWR_REASON_PROTECTED,
	PWR_REASON_COUNT
};

/* PWR_ITEM_CHECK: str user, u32 uid, u32 eligible, str reasons (comma list of wire_reason()
 * words) */
struct pwr_check_item {
	char user[PWR_USER_MAX + 1];
	uint32_t uid;
	uint32_t eligible;
	char reasons[PWR_TEXT_MAX + 1];
};

/* PWR_ITEM_CHECKS: str lines, each "USER<TAB>UID<TAB>ELIGIBLE<TAB>REASONS<LF>": a
 * PWR_ITEM_CHECK's fields in text (UID "-" for none, ELIGIBLE 0 or 1), for an account whose
 * name and reasons hold no TAB or LF (any other is sent as a PWR_ITEM_CHECK, in its place in
 * the order). A listing of every account sends 50 to 100 of them a packet instead of one. */
#define PWR_CHECK_PACKED 1
#define PWR_CHECKS_MAX (PWR_MSG_MAX - 8 - 2)
struct pwr_check_lines {
	char lines[PWR_CHECKS_MAX + 1];
};

/* The kinds of mail, and the states of a mail in the queue (wire_mail_kind() and
 * wire_mail_state() name them, as `pwresetctl queue` and the audit lines do). */
enum pwr_mail_kind {
	PWR_MAIL_CODE = 1, /* a reset code the user asked for */
	PWR_MAIL_ADMIN = 2, /* a reset code an administrator issued */
	PWR_MAIL_CHANGED = 3, /* the password was changed */
	PWR_MAIL_ADDRESS_CONFIRM = 4, /* the code that confirms a new recovery address */
	PWR_MAIL_ADDRESS_REPLACED = 5, /* to the old address: it was replaced */
	PWR_MAIL_ADDRESS_REMOVED = 6, /* to the old address: it was removed */
};
enum pwr_mail_state {
	PWR_MAIL_QUEUED = 1,
	PWR_MAIL_SENT = 2,
	PWR_MAIL_DEFERRED = 3,
	PWR_MAIL_FAILED = 4
};

/* PWR_ITEM_MAIL: u64 id, str user, str to, u32 kind (enum pwr_mail_kind), u32 state (enum
 * pwr_mail_state), u32 attempts, u64 created, u64 next_try (Unix time; for a sent mail, when
 * it went), str reply (the server's last answer) */
#define PWR_MAIL_REPLY_MAX 255
struct pwr_mail_item {
	uint64_t id;
	char user[PWR_USER_MAX + 1];
	char to[PWR_ADDR_MAX + 1];
	uint32_t kind;
	uint32_t state;
	uint32_t attempts;
	uint64_t created;
	uint64_t next_try;
	char reply[PWR_MAIL_REPLY_MAX + 1];
};

/* PWR_ITEM_TOKEN: str user, u32 kind (PWR_KIND_*), u64 issued, u64 expires (Unix time),
 * u32 failures (wrong tries so far), u32 tries_left */
#define PWR_KIND_SELF 1u
#define PWR_KIND_ADMIN 2u
struct pwr_token_item {
	char user[PWR_USER_MAX + 1];
	uint32_t kind;
	uint64_t issued;
	uint64_t expires;
	uint32_t failures;
	uint32_t tries_left;
};

#endif
