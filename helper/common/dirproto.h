/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the helper and pwreset-directory say to each other over their SOCK_SEQPACKET socketpair
 * (SPEC §12): one request in one packet, one answer in one packet tagged with the request's
 * tag (a listing answers with several, the last one with more = 0). The first request after
 * the start is DIR_CONFIG: where the directory is, as whom to bind (the password handed over
 * here, never in a file the program reads), where to search. Every packet carries every field
 * (empty when the op does not use it), in the packet cursor's encoding (packet.h). Both ends
 * check every length before reading it; pwreset-directory trusts nothing in a request it has
 * not checked, the helper nothing in an answer: the root helper parses no LDAP.
 */
#ifndef PWRESET_DIRPROTO_H
#define PWRESET_DIRPROTO_H

#include <stddef.h>
#include <stdint.h>

#define DIRPROTO_MAGIC 0x50574432u /* "PWD2": the language (SPEC §13) came with 2 */
#define DIR_URLS_MAX 1024
#define DIR_PATH_MAX 4096
#define DIR_DN_MAX 1024
#define DIR_PASSWORD_MAX 1024 /* the bind password, or a new password (at most 512 reach here) */
#define DIR_FILTER_MAX 1024
#define DIR_ATTR_MAX 64
#define DIR_USER_MAX 256
#define DIR_VALUE_MAX 1024 /* an address (a new password goes in password) */
#define DIR_BINDING_MAX 256
#define DIR_TEXT_MAX 1024
#define DIR_LANG_MAX 63 /* CATALOG_LANG_MAX */
#define DIRREQ_PACKET_MAX \
	(7 * 4 + DIR_URLS_MAX + DIR_PATH_MAX + 3 * DIR_DN_MAX + DIR_PASSWORD_MAX + \
		DIR_FILTER_MAX + 2 * DIR_ATTR_MAX + DIR_USER_MAX + DIR_VALUE_MAX + 11 * 5)
#define DIRANS_PACKET_MAX \
	(7 * 4 + DIR_DN_MAX + DIR_USER_MAX + DIR_VALUE_MAX + DIR_LANG_MAX + DIR_BINDING_MAX + \
		DIR_TEXT_MAX + 6 * 5)

enum dir_op {
	DIR_CONFIG = 1, /* starttls, timeout, type, urls, ca_file, bind_dn, password (the
			   bind's), base, filter ("": the type's own), attr, lang_attr */
	DIR_LOOKUP = 2, /* user, uid: the one entry of the filter for user whose uidNumber is uid */
	DIR_COUNT = 3, /* value: the entries whose attr holds it (case-insensitive) */
	DIR_PASSWD = 4, /* dn, password: RFC 3062 Password Modify, then the lockout cleared */
	DIR_LOCK = 5, /* dn: ppolicy's administrative lock, else a random password; its binding */
	DIR_UNLOCK = 6, /* dn: the ppolicy lockout attributes removed where present */
	DIR_LIST = 7, /* every entry of the filter with %u as *, paged: one answer each */
	DIR_STATUS = 8, /* whether the directory answers, and as whom we are bound */
};
#define DIR_OP_LAST DIR_STATUS

enum dir_tls { DIR_TLS_REQUIRED = 0, DIR_TLS_OFF = 1 };

/* DIR_CONFIG's type (SPEC §12.1): how the directory keeps passwords; AUTO: AD when its root
 * DSE says it is one (LDAP_CAP_ACTIVE_DIRECTORY_OID), else OpenLDAP */
enum dir_type { DIR_TYPE_OPENLDAP = 0, DIR_TYPE_AD = 1, DIR_TYPE_AUTO = 2 };
#define DIR_TYPE_LAST DIR_TYPE_AUTO

/* The filter of an account when directory_user_filter is empty, by type */
#define DIR_OPENLDAP_USER_FILTER "(&(objectClass=posixAccount)(uid=%u))"
#define DIR_AD_USER_FILTER "(&(objectClass=user)(sAMAccountName=%u))"

/* LOOKUP, LIST: what the entry says of the account (AD's userAccountControl, accountExpires) */
#define DIR_F_DISABLED 1u
#define DIR_F_EXPIRED 2u

/* The strings point into the packet (decode) or to the caller's memory (encode); each is
 * NUL-terminated and its length is checked against its maximum. */
struct dirreq {
	uint32_t tag; /* the helper's name for this request; its answers carry it back */
	uint32_t op; /* enum dir_op */
	uint32_t starttls; /* DIR_CONFIG: enum dir_tls */
	uint32_t timeout; /* DIR_CONFIG: seconds for one request, 1..600 */
	uint32_t uid; /* DIR_LOOKUP */
	uint32_t type; /* DIR_CONFIG: enum dir_type */
	const char *urls, *ca_file, *bind_dn, *password, *base, *filter, *attr; /* DIR_CONFIG */
	const char *lang_attr; /* DIR_CONFIG: the language's attribute; "": none */
	const char *user; /* DIR_LOOKUP */
	const char *dn; /* DIR_PASSWD, DIR_LOCK, DIR_UNLOCK */
	const char *value; /* DIR_COUNT */
};

enum dir_status {
	DIR_OK = 0,
	DIR_NOT_FOUND = 1, /* no entry (LOOKUP), or none with that uidNumber */
	DIR_SEVERAL = 2, /* LOOKUP: more than one entry matched */
	DIR_UNREACHABLE = 3, /* no server answered in time, or the bind failed */
	DIR_REFUSED = 4, /* PASSWD: the directory's policy refused the password (text says why) */
	DIR_FAILED = 5, /* anything else; text says what */
};
#define DIR_STATUS_LAST DIR_FAILED

/* DIR_LOCK's outcome, in count */
enum dir_lock { DIR_LOCKED_PPOLICY = 1, DIR_LOCKED_RANDOM = 2 };

struct dirans {
	uint32_t tag; /* the request's */
	uint32_t status; /* enum dir_status */
	uint32_t more; /* DIR_LIST: 1 while more answers follow this one */
	uint32_t uid; /* LOOKUP, LIST: uidNumber */
	uint32_t count; /* COUNT: entries holding the value; LOCK: enum dir_lock; LIST: the
			  entry's gidNumber (UINT32_MAX: none); STATUS: the type that answered
			  (DIR_TYPE_OPENLDAP or DIR_TYPE_AD) */
	uint32_t flags; /* LOOKUP, LIST: DIR_F_* */
	char dn[DIR_DN_MAX + 1]; /* LOOKUP, LIST */
	char user[DIR_USER_MAX + 1]; /* LIST: the entry's uid */
	char address[DIR_VALUE_MAX + 1]; /* LOOKUP, LIST: attr's first value, "" when none */
	char language[DIR_LANG_MAX + 1]; /* LOOKUP: lang_attr's first language, as a catalog
					    names it (en-US: en_US), "" when none */
	char binding[DIR_BINDING_MAX + 1]; /* LOOKUP, LOCK (as locked): changes with the password */
	char text[DIR_TEXT_MAX + 1]; /* COUNT: the entries' uids, comma-separated; STATUS: the
					bound identity; REFUSED, FAILED, UNREACHABLE: why */
};

/* Encode into buf (cap bytes): the packet's length, or -EMSGSIZE / -EINVAL (a field over its
 * maximum or holding a NUL). */
long dirproto_req_encode(const struct dirreq *q, unsigned char *buf, size_t cap);

/* Decode a packet of len bytes; the strings of *q point into buf. 0, or -EBADMSG for anything
 * malformed, truncated, over a maximum, with a NUL inside a string, bytes after the end, an
 * unknown op, or a field the op needs missing or out of range. */
int dirproto_req_decode(const unsigned char *buf, size_t len, struct dirreq *q);

long dirproto_ans_encode(const struct dirans *a, unsigned char *buf, size_t cap);
int dirproto_ans_decode(const unsigned char *buf, size_t len, struct dirans *a);

#endif
