/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration parser. MUST: every line is checked and every error reported, each with its
 * file and line; a value is never truncated or guessed; a file that is not root's, or that
 * others can write, is refused (it decides who may reset whose password).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "config.h"
#include "mailaddr.h"
#include "conf.h"
#include "ldapfilter.h"
#include "util.h"

#define CONF_FILE_MAX (64 * 1024)
#define CONF_LINE_MAX 4096
#define CONF_VALUE_MAX 1024

/* K_LDAP_URLS: ldap:// or ldaps:// URLs, comma-separated; K_FILTER: an LDAP filter holding %u;
 * K_CHOICE: one of the key's names, an enum's values in order */
enum key_type {
	K_BOOL,
	K_TEXT,
	K_PATH,
	K_NAME,
	K_LIST,
	K_UINT,
	K_DURATION,
	K_CHOICE,
	K_URL,
	K_LDAP_URLS,
	K_FILTER,
	K_ATTR,
	K_LANG
};

struct key {
	const char *name;
	enum key_type type;
	size_t off;
	uint64_t min, max; /* K_UINT, K_DURATION (seconds) */
	bool empty_ok; /* K_TEXT, K_PATH, K_NAME: may be empty */
	const char *const *names; /* K_CHOICE, NULL-ended */
};

static const char *const hash_names[] = {"auto", "yescrypt", "sha512", "bcrypt", NULL};
static const char *const tls_names[] = {"required", "opportunistic", "off", NULL};
static const char *const dir_tls_names[] = {"required", "off", NULL};
static const char *const dir_type_names[] = {"openldap", "ad", "auto", NULL};

#define O(m) offsetof(struct pwr_conf, m)
#define DAY (24u * 3600u)
static const struct key keys[] = {
	{"self_reset", K_BOOL, O(self_reset), 0, 0, false},
	{"user_addresses", K_BOOL, O(user_addresses), 0, 0, false},
	{"help_message", K_TEXT, O(help_message), 0, 0, false},
	{"admin_group", K_NAME, O(admin_group), 0, 0, true},
	{"min_uid", K_UINT, O(min_uid), 0, INT32_MAX, false},
	{"exclude_users", K_LIST, O(exclude_users), 0, 0, false},
	{"exclude_groups", K_LIST, O(exclude_groups), 0, 0, false},
	{"admin_protected_groups", K_LIST, O(admin_protected_groups), 0, 0, false},
	{"local_domains", K_LIST, O(local_domains), 0, 0, false},
	{"code_ttl", K_DURATION, O(code_ttl), 60, DAY, false},
	{"admin_code_ttl", K_DURATION, O(admin_code_ttl), 60, 30 * DAY, false},
	{"code_attempts", K_UINT, O(code_attempts), 1, 100, false},
	{"user_requests_per_hour", K_UINT, O(user_requests_per_hour), 0, 1000, false},
	{"rhost_requests_per_hour", K_UINT, O(rhost_requests_per_hour), 0, 1000, false},
	{"mails_per_minute", K_UINT, O(mails_per_minute), 0, 1000, false},
	{"min_length", K_UINT, O(min_length), 1, 256, false},
	{"hash_method", K_CHOICE, O(hash_method), 0, 0, false, hash_names},
	{"notify_on_change", K_BOOL, O(notify_on_change), 0, 0, false},
	{"smtp_url", K_URL, O(smtp_url), 0, 0, false},
	{"smtp_starttls", K_CHOICE, O(smtp_starttls), 0, 0, false, tls_names},
	{"smtp_user", K_TEXT, O(smtp_user), 0, 0, true},
	{"smtp_password_file", K_PATH, O(smtp_password_file), 0, 0, true},
	{"smtp_ca_file", K_PATH, O(smtp_ca_file), 0, 0, true},
	{"smtp_timeout", K_DURATION, O(smtp_timeout), 1, 600, false},
	{"mail_from", K_TEXT, O(mail_from), 0, 0, false},
	{"mail_max_age", K_DURATION, O(mail_max_age), 60, 30 * DAY, false},
	{"templates_dir", K_PATH, O(templates_dir), 0, 0, false},
	{"state_dir", K_PATH, O(state_dir), 0, 0, false},
	{"socket", K_PATH, O(socket), 0, 0, false},
	{"mail_user", K_NAME, O(mail_user), 0, 0, false},
	{"directory_url", K_LDAP_URLS, O(directory_url), 0, 0, true},
	{"directory_starttls", K_CHOICE, O(directory_starttls), 0, 0, false, dir_tls_names},
	{"directory_type", K_CHOICE, O(directory_type), 0, 0, false, dir_type_names},
	{"directory_ca_file", K_PATH, O(directory_ca_file), 0, 0, true},
	{"directory_bind_dn", K_TEXT, O(directory_bind_dn), 0, 0, true},
	{"directory_password_file", K_PATH, O(directory_password_file), 0, 0, true},
	{"directory_base", K_TEXT, O(directory_base), 0, 0, true},
	{"directory_user_filter", K_FILTER, O(directory_user_filter), 0, 0, true},
	{"directory_address_attribute", K_ATTR, O(directory_address_attribute), 0, 0, false},
	{"directory_language_attribute", K_ATTR, O(directory_language_attribute), 0, 0, true},
	{"directory_timeout", K_DURATION, O(directory_timeout), 1, 600, false},
	{"language", K_LANG, O(language), 0, 0, true},
	{"mail_language", K_LANG, O(mail_language), 0, 0, true},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static void list_free(struct conf_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static int list_add(struct conf_list *l, const char *s, size_t len)
{
	char **items = realloc(l->items, (l->n + 2) * sizeof(*items));
	if (!items)
		return -ENOMEM;
	l->items = items;
	items[l->n] = strndup(s, len);
	if (!items[l->n])
		return -ENOMEM;
	items[++l->n] = NULL;
	return 0;
}

bool conf_list_has(const struct conf_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i], name) == 0)
			return true;
	return false;
}

static int set_str(char **dst, const char *s)
{
	char *d = strdup(s);
	if (!d)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

/* A number from login.defs (UID_MIN, UID_MAX), or what shadow-utils assumes when it is
 * absent. */
static uint32_t login_defs_uid(const char *key, uint32_t dflt)
{
	FILE *f = fopen(PWR_LOGIN_DEFS, "re");
	size_t klen = strlen(key);
	char line[256];
	unsigned long v = dflt;

	if (!f)
		return dflt;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;
		while (isspace((unsigned char)*p))
			p++;
		if (strncmp(p, key, klen) != 0 || !isspace((unsigned char)p[klen]))
			continue;
		errno = 0;
		unsigned long n = strtoul(p + klen, &end, 10);
		if (!errno && end != p + klen && n <= INT32_MAX)
			v = n;
	}
	fclose(f);
	return (uint32_t)v;
}

/* Keys whose value is a string of the configuration's own. */
static bool string_key(enum key_type t)
{
	return t != K_BOOL && t != K_LIST && t != K_UINT && t != K_DURATION && t != K_CHOICE;
}

int conf_init(struct pwr_conf *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NKEYS; i++) /* every string empty, then the defaults */
		if (string_key(keys[i].type) && set_str((char **)((char *)c + keys[i].off), "") < 0)
			goto nomem;
	c->self_reset = true;
	c->user_addresses = true;
	c->min_uid = login_defs_uid("UID_MIN", 1000);
	c->max_uid = login_defs_uid("UID_MAX", 60000);
	c->code_ttl = 10 * 60;
	c->admin_code_ttl = 72 * 3600;
	c->code_attempts = 5;
	c->user_requests_per_hour = 3;
	c->rhost_requests_per_hour = 10;
	c->mails_per_minute = 30;
	c->min_length = 8;
	c->hash_method = CONF_HASH_AUTO;
	c->notify_on_change = true;
	c->smtp_starttls = CONF_TLS_REQUIRED;
	c->smtp_timeout = 30;
	c->mail_max_age = DAY;
	c->directory_starttls = CONF_DIR_TLS_REQUIRED;
	c->directory_timeout = 5;
	if (set_str(&c->help_message, "Self-service password reset is not available. "
				      "Please contact your system administrator.") < 0 ||
		set_str(&c->smtp_url, "smtp://localhost:25") < 0 ||
		set_str(&c->templates_dir, PWR_TEMPLATES_DIR) < 0 ||
		set_str(&c->state_dir, PWR_STATE_DIR) < 0 ||
		set_str(&c->socket, PWR_SOCKET_PATH) < 0 ||
		set_str(&c->mail_user, PWR_MAIL_USER) < 0 ||
		set_str(&c->directory_address_attribute, "mail") < 0 ||
		set_str(&c->directory_language_attribute, "preferredLanguage") < 0 ||
		list_add(&c->exclude_users, "root", 4) < 0)
		goto nomem;
	for (const char *const *g = (const char *const[]){"root", "sudo", "wheel", "admin", NULL};
		*g; g++)
		if (list_add(&c->admin_protected_groups, *g, strlen(*g)) < 0)
			goto nomem;
	c->exclude_groups.items = calloc(1, sizeof(char *));
	c->local_domains.items = calloc(1, sizeof(char *));
	if (!c->exclude_groups.items || !c->local_domains.items)
		goto nomem;
	return 0;
nomem:
	conf_free(c);
	return -ENOMEM;
}

void conf_free(struct pwr_conf *c)
{
	for (size_t i = 0; i < NKEYS; i++) {
		void *p = (char *)c + keys[i].off;
		if (string_key(keys[i].type))
			free(*(char **)p);
		else if (keys[i].type == K_LIST)
			list_free(p);
	}
	memset(c, 0, sizeof(*c));
}

struct parser {
	struct pwr_conf *c;
	const char *name;
	unsigned line;
	int errors;
	conf_report_fn *report;
	void *ctx;
	bool seen[NKEYS];
	unsigned directory_line; /* where directory_url was set */
};

static void perr(struct parser *ps, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void perr(struct parser *ps, const char *key, const char *fmt, ...)
{
	char what[512], line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s:%u: %s: %s", ps->name, ps->line, key, what);
	ps->errors++;
	if (ps->report)
		ps->report(ps->ctx, line);
}

static bool valid_name(const char *s)
{
	/* A user or group name as NSS may give it: POSIX portable names, a Samba machine
	 * account's '$', and a directory's ("domain admins", "EXAMPLE\\domain admins",
	 * "admins@example.test"), as nslcd's default validnames has them. Never ':' or ',' (the
	 * group file's and these lists' separators), control characters, or a leading '-'. */
	size_t n = strnlen(s, 257);

	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._@$()", s[i]) &&
			(!i || !strchr(" \\~-", s[i])))
			return false;
	return n && n <= 256 && s[n - 1] != ' ';
}

/* A comma-separated list: each item trimmed, none empty, names checked (but in
 * local_domains). */
static int parse_list(struct parser *ps, const struct key *k, const char *v, void *dst)
{
	struct conf_list l = {0};
	const char *p = v;
	int r;

	if (!(l.items = calloc(1, sizeof(char *))))
		return -ENOMEM;
	while (*p) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		const char *b = p, *e = end;
		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if (b == e) {
			perr(ps, k->name, "empty item in list");
			list_free(&l);
			return 0;
		}
		if ((r = list_add(&l, b, (size_t)(e - b))) < 0) {
			list_free(&l);
			return r;
		}
		if (k->off != O(local_domains) && !valid_name(l.items[l.n - 1])) {
			perr(ps, k->name, "'%s' is not a valid name", l.items[l.n - 1]);
			list_free(&l);
			return 0;
		}
		p = comma ? comma + 1 : end;
	}
	list_free(dst);
	*(struct conf_list *)dst = l;
	if (k->off == O(local_domains))
		ps->c->local_domains_set = true;
	return 0;
}

/* A whole number, or a duration (in seconds), within the key's range. */
static void parse_number(struct parser *ps, const struct key *k, const char *v, uint32_t *dst)
{
	uint64_t n;
	int r;

	if (k->type == K_UINT) {
		if (!isdigit((unsigned char)*v) || strspn(v, "0123456789") != strlen(v)) {
			perr(ps, k->name, "'%s' is not a whole number", v);
			return;
		}
		errno = 0;
		n = strtoull(v, NULL, 10);
		if (errno || n < k->min || n > k->max) {
			perr(ps, k->name, "%s is out of range (%llu to %llu)", v,
				(unsigned long long)k->min, (unsigned long long)k->max);
			return;
		}
	} else {
		r = duration_parse(v, &n);
		if (r == -EINVAL) {
			perr(ps, k->name, "'%s' is not a duration (a number with s, m, h or d)", v);
			return;
		}
		if (r < 0 || n < k->min || n > k->max) {
			perr(ps, k->name, "%s is out of range (%llus to %llus)", v,
				(unsigned long long)k->min, (unsigned long long)k->max);
			return;
		}
	}
	*dst = (uint32_t)n;
}

/* One of the key's names into the enum at dst; else each name is said ("a, b or c"). */
static void parse_choice(struct parser *ps, const struct key *k, const char *v, void *dst)
{
	char said[128] = "";
	size_t pos = 0;

	for (int i = 0; k->names[i]; i++) {
		if (!strcmp(v, k->names[i])) {
			*(int *)dst = i;
			return;
		}
		if (pos < sizeof(said))
			pos += (size_t)snprintf(said + pos, sizeof(said) - pos, "%s%s",
				!i                ? ""
				: k->names[i + 1] ? ", "
						  : " or ",
				k->names[i]);
	}
	perr(ps, k->name, "'%s' is not %s", v, said);
}

/* The keys of SPEC §12 that have a shape of their own. */
static int parse_directory_value(struct parser *ps, const struct key *k, const char *v, void *dst)
{
	if (k->type == K_LDAP_URLS) {
		for (const char *p = v; *p;) {
			size_t n = strcspn(p, ",");
			if (!ldapfilter_url_ok(p, n)) {
				perr(ps, k->name,
					"'%.*s' is not ldap://HOST[:PORT] or "
					"ldaps://HOST[:PORT]",
					(int)n, p);
				return 0;
			}
			p += n + (p[n] == ',');
		}
		ps->directory_line = ps->line;
	} else if (k->type == K_FILTER && *v && !ldapfilter_ok(v)) {
		perr(ps, k->name, "'%s' is not an LDAP filter in parentheses holding %%u", v);
		return 0;
	} else if (k->type == K_ATTR && !(k->empty_ok && !*v) && !ldapfilter_attr_ok(v)) {
		perr(ps, k->name, "'%s' is not an attribute name", v);
		return 0;
	}
	return set_str(dst, v);
}

/* What the directory keys need of each other, once the whole file is read. */
static void check_directory(struct parser *ps)
{
	static const struct {
		const char *key;
		size_t off;
	} needed[] = {{"directory_bind_dn", O(directory_bind_dn)},
		{"directory_password_file", O(directory_password_file)},
		{"directory_base", O(directory_base)}};

	if (!*ps->c->directory_url)
		return;
	ps->line = ps->directory_line;
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!**(char **)((char *)ps->c + needed[i].off))
			perr(ps, "directory_url", "needs %s as well", needed[i].key);
	/* AD takes a simple bind and a new unicodePwd only over an encrypted connection */
	if (ps->c->directory_type == CONF_DIR_AD && ps->c->directory_starttls == CONF_DIR_TLS_OFF &&
		strstr(ps->c->directory_url, "ldap://"))
		perr(ps, "directory_url",
			"Active Directory (directory_type = ad) sets passwords only over TLS: use "
			"ldaps:// or directory_starttls = required");
}

static int parse_value(struct parser *ps, const struct key *k, const char *v)
{
	void *dst = (char *)ps->c + k->off;

	if (!*v && !k->empty_ok && k->type != K_LIST) {
		perr(ps, k->name, "a value is required");
		return 0;
	}
	if (strlen(v) > CONF_VALUE_MAX) {
		perr(ps, k->name, "value longer than %d bytes", CONF_VALUE_MAX);
		return 0;
	}
	if (!util_text_ok(v)) {
		perr(ps, k->name, "control characters are not allowed");
		return 0;
	}
	switch (k->type) {
	case K_BOOL:
		if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on"))
			*(bool *)dst = true;
		else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off"))
			*(bool *)dst = false;
		else
			perr(ps, k->name, "'%s' is not yes or no", v);
		return 0;
	case K_TEXT:
		if (!strcmp(k->name, "mail_from") && *v) {
			char name[MAILADDR_NAME_MAX + 1], addr[PWR_ADDR_MAX + 1], why[256];
			if (mailaddr_sender(v, name, sizeof(name), addr, sizeof(addr), why,
				    sizeof(why)) < 0) {
				perr(ps, k->name, "%s", why);
				return 0;
			}
		}
		return set_str(dst, v);
	case K_PATH:
		if (*v && v[0] != '/') {
			perr(ps, k->name, "'%s' is not an absolute path", v);
			return 0;
		}
		return set_str(dst, v);
	case K_NAME:
		if (*v && !valid_name(v)) {
			perr(ps, k->name, "'%s' is not a valid user or group name", v);
			return 0;
		}
		return set_str(dst, v);
	case K_URL: {
		const char *host = NULL;
		if (!strncmp(v, "smtp://", 7))
			host = v + 7;
		else if (!strncmp(v, "smtps://", 8))
			host = v + 8;
		if (!host || !*host || *host == ':' || *host == '/' || strchr(v, ' ')) {
			perr(ps, k->name, "'%s' is not smtp://HOST[:PORT] or smtps://HOST[:PORT]",
				v);
			return 0;
		}
		return set_str(dst, v);
	}
	case K_LDAP_URLS:
	case K_FILTER:
	case K_ATTR:
		return parse_directory_value(ps, k, v, dst);
	case K_LANG:
		if (*v && !catalog_lang_ok(v)) {
			perr(ps, k->name,
				"'%s' is not a language name (ja, de, de_DE, de_DE.UTF-8; empty: "
				"the system's)",
				v);
			return 0;
		}
		return set_str(dst, v);
	case K_CHOICE:
		parse_choice(ps, k, v, dst);
		return 0;
	case K_LIST:
		return parse_list(ps, k, v, dst);
	case K_UINT:
	case K_DURATION:
		parse_number(ps, k, v, dst);
		return 0;
	}
	return 0;
}

static int parse_line(struct parser *ps, char *s)
{
	char *eq, *key, *val, *end;

	while (isspace((unsigned char)*s))
		s++;
	if (!*s || *s == '#')
		return 0;
	eq = strchr(s, '=');
	if (!eq) {
		perr(ps, "syntax", "expected 'key = value'");
		return 0;
	}
	key = s;
	end = eq;
	while (end > key && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	val = eq + 1;
	while (isspace((unsigned char)*val))
		val++;
	end = val + strlen(val);
	while (end > val && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	if (!*key) {
		perr(ps, "syntax", "missing key before '='");
		return 0;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].name, key) != 0)
			continue;
		if (ps->seen[i]) {
			perr(ps, key, "set more than once");
			return 0;
		}
		ps->seen[i] = true;
		return parse_value(ps, &keys[i], val);
	}
	if (util_text_ok(key) && strlen(key) <= 64)
		perr(ps, key, "unknown key");
	else
		perr(ps, "syntax", "unknown key");
	return 0;
}

int conf_parse(struct pwr_conf *c, const char *name, const char *data, size_t len,
	conf_report_fn *report, void *ctx)
{
	struct parser ps = {.c = c, .name = name, .report = report, .ctx = ctx};
	char line[CONF_LINE_MAX + 1];
	size_t pos = 0;
	int r = 0;

	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;

		ps.line++;
		if (n > CONF_LINE_MAX)
			perr(&ps, "syntax", "line longer than %d bytes", CONF_LINE_MAX);
		else if (memchr(data + pos, '\0', n))
			perr(&ps, "syntax", "NUL byte in line");
		else {
			memcpy(line, data + pos, n);
			line[n] = '\0';
			if (n && line[n - 1] == '\r')
				line[n - 1] = '\0';
			if ((r = parse_line(&ps, line)) < 0)
				break;
		}
		pos += n + (nl ? 1 : 0);
	}
	explicit_bzero(line, sizeof(line));
	if (r >= 0)
		check_directory(&ps);
	return r < 0 ? r : ps.errors;
}

int conf_load(struct pwr_conf *c, const char *path, bool require_root_owner, conf_report_fn *report,
	void *ctx)
{
	struct parser ps = {.c = c, .name = path, .report = report, .ctx = ctx};
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		perr(&ps, "file", "cannot open: %s", strerror(errno));
		return ps.errors;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		perr(&ps, "file", "not a regular file");
		goto out;
	}
	if (require_root_owner && (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
		perr(&ps, "file", "must be owned by root and not writable by group or others");
		goto out;
	}
	if (st.st_size > CONF_FILE_MAX) {
		perr(&ps, "file", "larger than %d bytes", CONF_FILE_MAX);
		goto out;
	}
	r = util_read_all(fd, CONF_FILE_MAX, &data, &len);
	if (r < 0) {
		perr(&ps, "file", "cannot read: %s", strerror(-r));
		goto out;
	}
	close(fd);
	fd = -1;
	r = conf_parse(c, path, data, len, report, ctx);
	free(data);
	return r;
out:
	if (fd >= 0)
		close(fd);
	return ps.errors;
}

const struct conf_list *conf_local_domains(struct pwr_conf *c)
{
	char host[256];
	char *dot;

	if (c->local_domains_set)
		return &c->local_domains;
	c->local_domains_set = true;
	list_add(&c->local_domains, "localhost", 9);
	list_add(&c->local_domains, "localhost.localdomain", 21);
	util_host_fqdn(host, sizeof(host)); /* no resolver query: see util.h */
	dot = strchr(host, '.');
	if (strcmp(host, "localhost") != 0)
		list_add(&c->local_domains, host, dot ? (size_t)(dot - host) : strlen(host));
	if (dot && !conf_list_has(&c->local_domains, host))
		list_add(&c->local_domains, host, strlen(host));
	return &c->local_domains;
}
