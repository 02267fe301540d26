/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration file (SPEC §9). conf_load() reports every error it finds, each as
 * "FILE:LINE: KEY: what is wrong", and a configuration that had any error must never be used:
 * the caller answers every request with PWR_E_CONFIG instead.
 */
#ifndef PWRESET_CONF_H
#define PWRESET_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duration.h"

enum conf_hash { CONF_HASH_AUTO, CONF_HASH_YESCRYPT, CONF_HASH_SHA512, CONF_HASH_BCRYPT };
enum conf_starttls { CONF_TLS_REQUIRED, CONF_TLS_OPPORTUNISTIC, CONF_TLS_OFF };
enum conf_dir_tls { CONF_DIR_TLS_REQUIRED, CONF_DIR_TLS_OFF };
/* SPEC §12.1: how the directory keeps passwords (dirlink.c names it to the agent) */
enum conf_dir_type { CONF_DIR_OPENLDAP, CONF_DIR_AD, CONF_DIR_AUTO };

struct conf_list {
	char **items; /* NULL-terminated */
	size_t n;
};

struct pwr_conf {
	bool self_reset;
	bool user_addresses; /* users may register their own recovery address (SPEC §11) */
	char *help_message;
	char *admin_group; /* "" for none */
	uint32_t min_uid;
	uint32_t max_uid; /* UID_MAX of login.defs (not a key): the end of check's listing */
	struct conf_list exclude_users;
	struct conf_list exclude_groups;
	/* groups that grant root: a member of admin_group who is not root cannot act on their
	 * members (SPEC §2) */
	struct conf_list admin_protected_groups;
	struct conf_list
		local_domains; /* empty until set, or conf_local_domains() fills defaults */
	bool local_domains_set;
	uint32_t code_ttl; /* seconds, as every duration here */
	uint32_t admin_code_ttl;
	uint32_t code_attempts;
	uint32_t user_requests_per_hour; /* 0: no limit, as for the two below */
	uint32_t rhost_requests_per_hour;
	uint32_t mails_per_minute;
	uint32_t min_length;
	enum conf_hash hash_method;
	bool notify_on_change;
	char *smtp_url;
	enum conf_starttls smtp_starttls;
	char *smtp_user;
	char *smtp_password_file;
	char *smtp_ca_file;
	uint32_t smtp_timeout;
	char *mail_from; /* "" until set: no-reply@<fqdn> */
	uint32_t mail_max_age;
	char *templates_dir;
	char *state_dir;
	char *socket;
	char *mail_user;
	/* accounts kept in a directory (SPEC §12); directory_url "" leaves it off */
	char *directory_url; /* ldap:// or ldaps:// URLs, comma-separated, tried in order */
	enum conf_dir_tls directory_starttls; /* for ldap:// URLs */
	enum conf_dir_type directory_type;
	char *directory_ca_file;
	char *directory_bind_dn;
	char *directory_password_file;
	char *directory_base;
	char *directory_user_filter; /* holds %u, replaced by the escaped user name; "": the
					directory type's (SPEC §12, §12.1) */
	char *directory_address_attribute;
	char *directory_language_attribute; /* SPEC §13: an account's mail language; "": none */
	uint32_t directory_timeout;
	/* languages (SPEC §13): "" is the system's (/etc/default/locale), and for mail language's */
	char *language; /* the prompts', the same for every account */
	char *mail_language; /* a mail's when its account has none */
};

/* Receives one error line (without newline). */
typedef void conf_report_fn(void *ctx, const char *line);

/* Fill c with the defaults; 0 or -ENOMEM. Free with conf_free(). */
int conf_init(struct pwr_conf *c);
void conf_free(struct pwr_conf *c);

/* Parse a configuration held in memory (name is used in error lines) over c's current values.
 * Returns the number of errors (0: c is good), or -ENOMEM. */
int conf_parse(struct pwr_conf *c, const char *name, const char *data, size_t len,
	conf_report_fn *report, void *ctx);

/* Read and parse the file at path; the file must be a regular file owned by root and not
 * writable by group or others (require_root_owner). Returns the number of errors, or -ENOMEM.
 * A missing or unreadable file is one error. */
int conf_load(struct pwr_conf *c, const char *path, bool require_root_owner, conf_report_fn *report,
	void *ctx);

/* local_domains as configured, or the defaults (localhost, localhost.localdomain, this host's
 * short name and FQDN), resolved once. */
const struct conf_list *conf_local_domains(struct pwr_conf *c);

/* Whether name is in list (exact match). */
bool conf_list_has(const struct conf_list *l, const char *name);

#endif
