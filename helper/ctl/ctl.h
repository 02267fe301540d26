/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What pwresetctl's commands share (ctl.c): messages, JSON, tables, and the
 * conversation with the helper. Each command is one function, cmd_*, in the file of its job:
 * ctl_reset.c (reset, tokens, revoke), ctl_email.c (addresses), ctl_report.c (check, queue,
 * status), ctl_policy.c (policy); pwresetctl.c reads the command line.
 */
#ifndef PWRESET_CTL_H
#define PWRESET_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "catalog.h"
#include "client.h"
#include "protocol.h"
#include "wire.h"

enum { EX_DONE = 0, EX_FAILED = 1, EX_USAGE = 2, EX_PERM = 3, EX_UNREACHABLE = 4 };

struct opts {
	const char *socket;
	const char *helper;
	bool json, json_seq, print, no_lock, dry_run, help;
	bool ttl_given;
	uint32_t ttl;
	const char *language; /* --language: an account's mail language (SPEC §13); NULL: none */
};

extern const char *ctl_prog; /* "pwresetctl" */
extern struct catalog ctl_words; /* the caller's language (ctl_language_init) */
extern char ctl_language[CATALOG_LANG_MAX + 1]; /* its name; "": English */
extern int ctl_ex_perm; /* the exit status of a refusal to the peer (EX_PERM) */
extern const char *ctl_cmd_name; /* for messages: "pwresetctl: reset: …" */
extern struct pwr_client ctl_conn;
extern struct opts *ctl_opts;

/* The commands: each returns the exit status. */
typedef int ctl_cmd_fn(struct opts *o, int argc, char **argv);
ctl_cmd_fn ctl_reset, ctl_tokens, ctl_revoke; /* ctl_reset.c */
ctl_cmd_fn ctl_email_set, ctl_email_language, ctl_email_unset, ctl_email_show, ctl_email_import,
	ctl_email_export;
/* One address of email export as JSON, after a comma when comma. */
void ctl_email_json(const struct pwr_email_item *e, bool comma);
ctl_cmd_fn ctl_check, ctl_queue, ctl_queue_flush, ctl_status; /* ctl_report.c */
ctl_cmd_fn ctl_overview; /* ctl_overview.c */
/* check as ctl_check, then, when more is given (and argc is 0: every account), the names
 * more->names gives once every account is listed, each listed one told to more->seen. */
struct check_more {
	void (*seen)(void *ctx, const char *user);
	char **(*names)(void *ctx, int *n);
	void *ctx;
};
int ctl_check_with(struct opts *o, int argc, char **argv, const struct check_more *more);
ctl_cmd_fn ctl_policy, ctl_policy_set; /* ctl_policy.c */

/* The caller's language (SPEC §13): setlocale(LC_ALL, ""), then the first language of
 * LANGUAGE that has a catalog (as gettext does, not in the C locale), else the locale's
 * LC_MESSAGES. English when the locale's characters are not UTF-8 (the catalogs are), or no
 * catalog is found. --json is the same in every language. */
void ctl_language_init(void);
/* A text (a printf format: used translated only with the English's conversions), and a text
 * for the number n, in the caller's language. */
#define _(s) catalog_format(&ctl_words, s)
#define _n(one, many, n) catalog_nformat(&ctl_words, one, many, n)

/* "label:" in the caller's language, padded to the 16th column of a terminal (a wide
 * character takes two), then the value as format (translated) gives it, and a newline. */
void ctl_field(const char *label, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* "pwresetctl: COMMAND: what" on stderr. */
void ctl_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, pointing at --help; returns EX_USAGE. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What a terminal may show of a value from the store or a mail server: no control bytes. */
const char *ctl_safe(const char *s, char *buf, size_t n);

/* JSON: a string value (escaped), and a key (with the comma before it unless *first). */
void ctl_jstr(const char *s);
void ctl_jkey(const char *key, bool *first);
/* "key": number, and `{"key": "value"` opening an object. */
void ctl_jnum(const char *key, uint64_t value, bool *first);
void ctl_jopen(const char *key, const char *value, bool *first);
/* Times: local time with the zone; JSON's ISO 8601 UTC; a ctl_span of seconds in words. */
const char *ctl_local_time(uint64_t t, char *buf, size_t n);
void ctl_jtime(uint64_t t);
const char *ctl_span(uint64_t seconds, char *buf, size_t n);

/* A table for people: rows added, then printed in aligned columns (and freed). */
#define TABLE_COLS 8
struct table {
	size_t ncols, nrows, cap;
	char **cells;
};
void ctl_table_row(struct table *t, const char *const *cols);
void ctl_table_discard(struct table *t);
void ctl_table_print_free(struct table *t);

/* A listing's state, for the item callbacks of ctl_list_all. */
struct listing {
	struct opts *o;
	struct table t;
	size_t n;
};

/* A command that lists every item of one kind: {"array":[…]} with --json, else a table of
 * ncols under head (empty_text when it has no row). */
struct listing_kind {
	const char *array;
	size_t ncols;
	const char *head[TABLE_COLS];
	uint16_t op, item_op;
	void (*item)(const union pwr_msg *m, void *listing);
	const char *empty_text;
};
int ctl_list_command(struct opts *o, const struct listing_kind *k);

/* The conversation with the helper. Each failure ends the program with its exit status
 * (ctl_die): JSON not yet written out is dropped, so a script never reads half a document. */
void ctl_die(int status);
void ctl_helper_open(void);
void ctl_helper_send(uint16_t op, const union pwr_msg *msg);
/* The next answer; an error answer ends the program with its exit status. */
uint16_t ctl_helper_recv(union pwr_msg *m);
/* The next answer, which must be want1 or want2. */
uint16_t ctl_helper_expect(union pwr_msg *m, uint16_t want1, uint16_t want2);

bool ctl_user_name_ok(const char *u);
/* A request about one user answered with PWR_ANS_DONE; with --json, {"user", key: true}. */
int ctl_user_request(struct opts *o, const char *user, uint16_t op, const char *key);
/* Every page of a listing: calls item() for each item message. */
void ctl_list_all(uint16_t op, uint16_t item_op, const char *user,
	void (*item)(const union pwr_msg *m, void *ctx), void *ctx);

#endif
