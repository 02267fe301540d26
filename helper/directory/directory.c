/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pwreset-directory: the only program of pam_pwreset that links libldap (SPEC §12). The helper
 * starts it as a user of its own (never mail_user's uid) with an empty environment and one socketpair end on fd 0, and hands
 * it, in the first request, where the directory is and the bind password. It answers each
 * request in turn (dirproto.h) and keeps its bound connection while requests keep coming; it
 * exits when the helper closes the socket.
 * MUST: it never runs as root; it reads no ldap.conf or ldaprc (LDAPNOINIT): only what the
 * helper said counts; with directory_starttls = required nothing is sent on an ldap:// URL
 * before StartTLS succeeded, and the server's certificate is always verified; a user name
 * reaches a filter only escaped (ldapfilter_for); a server that does not answer within the
 * timeout fails that request only, and a request spends at most the timeout on each URL, all
 * it does there counted (connect, StartTLS, bind, the operation), with no second try after a
 * timeout; the bind password and new passwords are wiped after use.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ldap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ad.h"
#include "connect.h"
#include "dirproto.h"
#include "ldapfilter.h"

#define LOCKED_FOR_GOOD "000001010000Z" /* ppolicy's administrative lock */
#define RANDOM_PASSWORD_LEN 40
#define PAGE_SIZE 200

static unsigned char *packet; /* DIRANS_PACKET_MAX bytes */

static void send_answer(const struct dirans *a)
{
	long n = dirproto_ans_encode(a, packet, DIRANS_PACKET_MAX);

	if (n < 0 || send(0, packet, (size_t)n, MSG_NOSIGNAL) != n) {
		syslog(LOG_ERR, "cannot answer the helper: %s",
			n < 0 ? "encoding" : strerror(errno));
		exit(1);
	}
}

/* An answer that says only how it went, and why. */
static void answer_status(struct dir *d, uint32_t tag, uint32_t status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void answer_status(struct dir *d, uint32_t tag, uint32_t status, const char *fmt, ...)
{
	struct dirans *a = &d->ans;
	va_list ap;

	memset(a, 0, sizeof(*a));
	a->tag = tag;
	a->status = status;
	va_start(ap, fmt);
	vsnprintf(a->text, sizeof(a->text), fmt, ap);
	va_end(ap);
	send_answer(a);
}

static void forget(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

/* Whether rc means the connection is gone (the next request connects again). Only a kept
 * connection found closed (LDAP_SERVER_DOWN) is worth a second try in the same request: one
 * that timed out has had its time. */
static bool lost(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR ||
	       rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY;
}

/* The answer for an LDAP error rc of an operation (what says which). */
static void answer_ldap_error(struct dir *d, uint32_t tag, const char *what, int rc)
{
	char buf[512];

	why_of(d->ld, rc, buf, sizeof(buf));
	if (lost(rc)) {
		disconnect(d);
		if (d->may_retry && rc == LDAP_SERVER_DOWN && mono_ms() < d->deadline) {
			d->retry = true; /* the kept connection had gone: once more, on a new one */
			return;
		}
		answer_status(d, tag, DIR_UNREACHABLE, "%s: %s", what, buf);
	} else {
		answer_status(d, tag, DIR_FAILED, "%s: %s", what, buf);
	}
}

/* The first value of attr in entry e into out ("" when none). */
static void first_value(LDAP *ld, LDAPMessage *e, const char *attr, char *out, size_t cap)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);

	out[0] = '\0';
	if (v && v[0] && v[0]->bv_len < cap && !memchr(v[0]->bv_val, 0, v[0]->bv_len)) {
		memcpy(out, v[0]->bv_val, v[0]->bv_len);
		out[v[0]->bv_len] = '\0';
	}
	ldap_value_free_len(v);
}

/* A number attribute of e (uidNumber, gidNumber): 0 and *out, or -1 when it has none. */
static int number_of(LDAP *ld, LDAPMessage *e, const char *attr, uint32_t *out)
{
	char buf[16], *end;
	unsigned long n;

	first_value(ld, e, attr, buf, sizeof(buf));
	errno = 0;
	n = strtoul(buf, &end, 10);
	if (!*buf || *end || errno || n > UINT32_MAX)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

/* The attribute that names an account: AD's sAMAccountName, else uid. */
static char *name_attr(const struct dir *d)
{
	return d->ad ? "sAMAccountName" : "uid";
}

/* The filter of an account: the configured one, else the directory type's. */
static const char *user_filter(const struct dir *d)
{
	return *d->filter ? d->filter : d->ad ? DIR_AD_USER_FILTER : DIR_OPENLDAP_USER_FILTER;
}

/* What a code issued for the entry e is bound to, into a->binding: what changes with its
 * password, AD's pwdLastSet, ppolicy's pwdChangedTime, else any change at all (entryCSN). */
static void entry_binding(struct dir *d, LDAPMessage *e, struct dirans *a)
{
	char stamp[DIR_BINDING_MAX - 32];

	if (d->ad) {
		first_value(d->ld, e, "pwdLastSet", stamp, sizeof(stamp));
		snprintf(a->binding, sizeof(a->binding), "pwdLastSet:%s", stamp);
		return;
	}
	first_value(d->ld, e, "pwdChangedTime", stamp, sizeof(stamp));
	if (*stamp) {
		snprintf(a->binding, sizeof(a->binding), "pwdChangedTime:%s", stamp);
	} else {
		first_value(d->ld, e, "entryCSN", stamp, sizeof(stamp));
		snprintf(a->binding, sizeof(a->binding), "entryCSN:%s", stamp);
	}
}

/* The first language of a preferredLanguage value (RFC 2798: as HTTP's Accept-Language,
 * "da, en-gb;q=0.8") as a catalog names it ("en_GB"), into out; "" when it is not one. */
static void language_of(const char *value, char *out, size_t cap)
{
	size_t n = strcspn(value + strspn(value, " "), ",;"), i;
	const char *v = value + strspn(value, " ");

	while (n && v[n - 1] == ' ')
		n--;
	out[0] = '\0';
	if (n == 0 || n >= cap || n > 35)
		return;
	for (i = 0; i < n; i++) {
		char ch = v[i];
		bool region = memchr(v, '-', i) || memchr(v, '_', i);
		if (ch == '-' || ch == '_')
			out[i] = '_';
		else if (isalpha((unsigned char)ch))
			out[i] = region ? (char)toupper((unsigned char)ch)
					: (char)tolower((unsigned char)ch);
		else if (isdigit((unsigned char)ch))
			out[i] = ch;
		else {
			out[0] = '\0';
			return;
		}
	}
	out[n] = '\0';
	if (out[0] == '_' || out[n - 1] == '_' || !strcmp(out, "*"))
		out[0] = '\0';
}

/* The entry's dn, address, language, uid and binding into a. */
static void describe(struct dir *d, LDAPMessage *e, struct dirans *a)
{
	char *dn = ldap_get_dn(d->ld, e);
	char value[DIR_VALUE_MAX + 1];

	snprintf(a->dn, sizeof(a->dn), "%s", dn ? dn : "");
	ldap_memfree(dn);
	first_value(d->ld, e, d->attr, a->address, sizeof(a->address));
	if (*d->lang_attr) {
		first_value(d->ld, e, d->lang_attr, value, sizeof(value));
		language_of(value, a->language, sizeof(a->language));
	}
	first_value(d->ld, e, name_attr(d), a->user, sizeof(a->user));
	if (d->ad)
		a->flags = ad_flags(d->ld, e);
	number_of(d->ld, e, "uidNumber", &a->uid);
	entry_binding(d, e, a);
}

/* The entries of filter under the base (at most sizelimit, 0: the server's limit) into *res:
 * 0, or -1 when the search failed and the failure was answered to the request tagged tag. */
static int search(struct dir *d, uint32_t tag, const char *filter, int sizelimit, LDAPMessage **res)
{
	char *attrs[] = {name_attr(d), "uidNumber", d->attr, "pwdChangedTime", "entryCSN",
		"pwdLastSet", "userAccountControl", "accountExpires",
		*d->lang_attr ? d->lang_attr : NULL, NULL};
	struct timeval tv = left(d);
	int rc;

	*res = NULL;
	rc = ldap_search_ext_s(d->ld, d->base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL,
		&tv, sizelimit, res);
	if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED)
		return 0;
	ldap_msgfree(*res);
	*res = NULL;
	answer_ldap_error(d, tag, "search", rc);
	return -1;
}

/* DIR_LOOKUP: the one entry of the filter for user whose uidNumber is uid. */
static void do_lookup(struct dir *d, const struct dirreq *q)
{
	struct dirans *a = &d->ans;
	char filter[DIR_FILTER_MAX + 3 * DIR_USER_MAX + 1];
	LDAPMessage *res = NULL, *found = NULL;
	int n = 0;

	if (ldapfilter_for(user_filter(d), q->user, filter, sizeof(filter)) < 0) {
		answer_status(d, q->tag, DIR_FAILED, "the filter for this name is too long");
		return;
	}
	if (search(d, q->tag, filter, 8, &res) < 0)
		return;
	for (LDAPMessage *e = ldap_first_entry(d->ld, res); e; e = ldap_next_entry(d->ld, e)) {
		uint32_t uid;
		if (number_of(d->ld, e, "uidNumber", &uid) == 0 && uid == q->uid) {
			found = e;
			n++;
		}
	}
	memset(a, 0, sizeof(*a));
	a->tag = q->tag;
	a->status = n == 0 ? DIR_NOT_FOUND : n > 1 ? DIR_SEVERAL : DIR_OK;
	if (n == 1)
		describe(d, found, a);
	ldap_msgfree(res);
	send_answer(a);
}

/* DIR_COUNT: the entries of the filter (any user) whose attr holds value. */
static void do_count(struct dir *d, const struct dirreq *q)
{
	struct dirans *a = &d->ans;
	char any[DIR_FILTER_MAX + 2], value[3 * DIR_VALUE_MAX + 1];
	char filter[sizeof(any) + sizeof(value) + DIR_ATTR_MAX + 8];
	LDAPMessage *res = NULL;
	size_t pos = 0;

	/* the address is escaped like a user name: the same rules (RFC 4515) */
	ldapfilter_for(user_filter(d), NULL, any, sizeof(any));
	if (ldapfilter_for("%u", q->value, value, sizeof(value)) < 0 ||
		snprintf(filter, sizeof(filter), "(&%s(%s=%s))", any, d->attr, value) >=
			(int)sizeof(filter)) {
		answer_status(d, q->tag, DIR_FAILED, "the filter for this address is too long");
		return;
	}
	if (search(d, q->tag, filter, 0, &res) < 0)
		return;
	memset(a, 0, sizeof(*a));
	a->tag = q->tag;
	for (LDAPMessage *e = ldap_first_entry(d->ld, res); e; e = ldap_next_entry(d->ld, e)) {
		char uid[DIR_USER_MAX + 1];
		int w;

		first_value(d->ld, e, name_attr(d), uid, sizeof(uid));
		a->count++;
		w = snprintf(a->text + pos, sizeof(a->text) - pos, "%s%s", pos ? "," : "", uid);
		if (w > 0 && (size_t)w < sizeof(a->text) - pos)
			pos += (size_t)w;
	}
	ldap_msgfree(res);
	send_answer(a);
}

/* RFC 3062 Password Modify of dn to pw, as the bind DN: the directory hashes it. */
static int password_modify(struct dir *d, const char *dn, char *pw)
{
	struct berval id = {strlen(dn), (char *)dn}, np = {strlen(pw), pw}, gen = {0, NULL};
	int rc;

	left(d);
	rc = ldap_passwd_s(d->ld, &id, NULL, &np, &gen, NULL, NULL);

	ber_memfree(gen.bv_val);
	return rc;
}

/* Remove the ppolicy lockout where it is (ppolicy clears it on a change of its own). */
static int unlock(struct dir *d, const char *dn)
{
	char *none[] = {NULL};
	LDAPMod del = {LDAP_MOD_DELETE, "pwdAccountLockedTime", {.modv_strvals = none}};
	LDAPMod *mods[] = {&del, NULL};
	int rc;

	left(d);
	rc = ldap_modify_ext_s(d->ld, dn, mods, NULL, NULL);

	/* not there, or a directory without ppolicy: nothing to remove */
	return rc == LDAP_NO_SUCH_ATTRIBUTE || rc == LDAP_UNDEFINED_TYPE ? LDAP_SUCCESS : rc;
}

static void do_passwd(struct dir *d, const struct dirreq *q)
{
	char *pw = strdup(q->password);
	int rc;

	if (!pw) {
		answer_status(d, q->tag, DIR_FAILED, "out of memory");
		return;
	}
	left(d);
	rc = d->ad ? ad_set_password(d->ld, q->dn, pw) : password_modify(d, q->dn, pw);
	forget(&pw);
	if (rc == LDAP_CONSTRAINT_VIOLATION || rc == LDAP_UNWILLING_TO_PERFORM) {
		char *diag = NULL;
		ldap_get_option(d->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
		/* AD's words are 0000052D and an English sentence: the helper says the reason in
		 * the person's words from a key */
		answer_status(d, q->tag, DIR_REFUSED, "%s",
			d->ad           ? ad_refusal(diag ? diag : "")
			: diag && *diag ? diag
					: ldap_err2string(rc));
		ldap_memfree(diag);
		return;
	}
	if (rc == LDAP_PARAM_ERROR && d->ad) {
		answer_status(d, q->tag, DIR_REFUSED, "%s", "not-utf8");
		return;
	}
	if (rc != LDAP_SUCCESS) {
		answer_ldap_error(d, q->tag, "password modify", rc);
		return;
	}
	left(d);
	if ((rc = d->ad ? ad_unlock(d->ld, q->dn, true) : unlock(d, q->dn)) != LDAP_SUCCESS) {
		answer_ldap_error(d, q->tag, "the password was set, but removing the lockout", rc);
		return;
	}
	answer_status(d, q->tag, DIR_OK, "%s", "");
}

/* A password nobody knows: RANDOM_PASSWORD_LEN symbols of four kinds. */
static int random_password(char *out, size_t cap)
{
	static const char set[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.+";
	unsigned char r[RANDOM_PASSWORD_LEN];

	if (cap < RANDOM_PASSWORD_LEN + 5 || getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	for (size_t i = 0; i < sizeof(r); i++)
		out[i] = set[r[i] % (sizeof(set) - 1)];
	memcpy(out + RANDOM_PASSWORD_LEN, "Aa3-", 5); /* every class, whatever was drawn */
	explicit_bzero(r, sizeof(r));
	return 0;
}

/* The binding of the entry at dn as it is now into a: what a code issued after a lock is
 * bound to. */
static int read_binding(struct dir *d, const char *dn, struct dirans *a)
{
	char *attrs[] = {"pwdChangedTime", "entryCSN", "pwdLastSet", NULL};
	struct timeval tv = left(d);
	LDAPMessage *res = NULL, *e;
	int rc = ldap_search_ext_s(
		d->ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL, &tv, 1, &res);

	if (rc == LDAP_SUCCESS && !(e = ldap_first_entry(d->ld, res)))
		rc = LDAP_NO_SUCH_OBJECT;
	if (rc == LDAP_SUCCESS)
		entry_binding(d, e, a);
	ldap_msgfree(res);
	return rc;
}

/* DIR_LOCK: ppolicy's administrative lock; where the directory has no ppolicy, a random
 * password that nobody keeps. The answer carries the entry's binding as locked. */
static void do_lock(struct dir *d, const struct dirreq *q)
{
	char *val[] = {LOCKED_FOR_GOOD, NULL}, pw[RANDOM_PASSWORD_LEN + 8];
	LDAPMod rep = {LDAP_MOD_REPLACE, "pwdAccountLockedTime", {.modv_strvals = val}};
	LDAPMod *mods[] = {&rep, NULL};
	struct dirans *a = &d->ans;
	int rc;

	/* AD has no administrative lock like ppolicy's: the random password, unlocked */
	left(d);
	rc = d->ad ? LDAP_UNDEFINED_TYPE : ldap_modify_ext_s(d->ld, q->dn, mods, NULL, NULL);

	memset(a, 0, sizeof(*a));
	a->tag = q->tag;
	a->count = DIR_LOCKED_PPOLICY;
	if (rc == LDAP_UNDEFINED_TYPE || rc == LDAP_OBJECT_CLASS_VIOLATION) {
		if (random_password(pw, sizeof(pw)) < 0) {
			answer_status(d, q->tag, DIR_FAILED, "no random bytes for a password");
			return;
		}
		left(d);
		rc = d->ad ? ad_set_password(d->ld, q->dn, pw) : password_modify(d, q->dn, pw);
		explicit_bzero(pw, sizeof(pw));
		if (rc == LDAP_SUCCESS && d->ad)
			rc = ad_unlock(d->ld, q->dn, true);
		if (rc != LDAP_SUCCESS) {
			answer_ldap_error(d, q->tag, "lock with a random password", rc);
			return;
		}
		a->count = DIR_LOCKED_RANDOM;
	} else if (rc != LDAP_SUCCESS) {
		answer_ldap_error(d, q->tag, "lock", rc);
		return;
	}
	if ((rc = read_binding(d, q->dn, a)) != LDAP_SUCCESS) {
		answer_ldap_error(d, q->tag, "read the entry after its lock", rc);
		return;
	}
	send_answer(a);
}

static void do_unlock(struct dir *d, const struct dirreq *q)
{
	int rc;

	left(d);
	rc = d->ad ? ad_unlock(d->ld, q->dn, false) : unlock(d, q->dn);

	if (rc != LDAP_SUCCESS)
		answer_ldap_error(d, q->tag, "unlock", rc);
	else
		answer_status(d, q->tag, DIR_OK, "%s", "");
}

/* One page of DIR_LIST; *cookie is where the next one starts (bv_val NULL: the end). The
 * entries of a page the server cut short are counted in *listed, not sent. */
static int list_page(struct dir *d, const struct dirreq *q, const char *filter,
	struct berval *cookie, uint32_t *listed)
{
	char *attrs[] = {name_attr(d), "uidNumber", "gidNumber", d->attr, "userAccountControl",
		"accountExpires", NULL};
	struct timeval tv;
	LDAPControl *page = NULL, *ctrls[2] = {NULL, NULL}, **back = NULL;
	LDAPMessage *res = NULL;
	struct berval next = {0, NULL};
	struct dirans *a = &d->ans;
	int rc, err = 0;
	ber_int_t count = 0;

	/* each page has the timeout: a listing of a large directory takes many */
	d->until = d->deadline = mono_ms() + (uint64_t)d->timeout * 1000;
	tv = left(d);
	if ((rc = ldap_create_page_control(d->ld, PAGE_SIZE, cookie, 0, &page)) != LDAP_SUCCESS)
		return rc;
	ctrls[0] = page;
	rc = ldap_search_ext_s(
		d->ld, d->base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, ctrls, NULL, &tv, 0, &res);
	ldap_control_free(page);
	if (rc == LDAP_SUCCESS)
		rc = ldap_parse_result(d->ld, res, &err, NULL, NULL, NULL, &back, 0);
	if (rc == LDAP_SUCCESS)
		rc = err;
	for (LDAPMessage *e = res ? ldap_first_entry(d->ld, res) : NULL; e;
		e = ldap_next_entry(d->ld, e)) {
		(*listed)++;
		if (rc != LDAP_SUCCESS)
			continue;
		memset(a, 0, sizeof(*a));
		a->tag = q->tag;
		a->more = 1;
		describe(d, e, a);
		a->binding[0] = '\0';
		if (number_of(d->ld, e, "gidNumber", &a->count) < 0)
			a->count = UINT32_MAX;
		send_answer(a);
	}
	ber_memfree(cookie->bv_val);
	*cookie = (struct berval){0, NULL};
	if (rc == LDAP_SUCCESS && back) {
		LDAPControl *c = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, back, NULL);
		if (c && ldap_parse_pageresponse_control(d->ld, c, &count, &next) == LDAP_SUCCESS &&
			next.bv_len)
			*cookie = next;
		else
			ber_memfree(next.bv_val);
	}
	ldap_controls_free(back);
	ldap_msgfree(res);
	return rc;
}

/* Why a listing stopped, in words an administrator can act on (the service account's limits
 * are slapd's olcLimits; conf/directory/ ships the line). */
static void answer_list_error(struct dir *d, uint32_t tag, int rc, uint32_t listed)
{
	char buf[512];
	const char *limit = rc == LDAP_SIZELIMIT_EXCEEDED    ? "size limit"
			    : rc == LDAP_TIMELIMIT_EXCEEDED  ? "time limit"
			    : rc == LDAP_ADMINLIMIT_EXCEEDED ? "administrative limit"
							     : NULL;

	if (limit) {
		answer_status(d, tag, DIR_FAILED,
			"the directory stopped the listing at %u entries (%s): allow the service "
			"account %s (olcLimits; see conf/directory/)",
			listed, limit,
			rc == LDAP_SIZELIMIT_EXCEEDED   ? "size.prtotal=unlimited"
			: rc == LDAP_TIMELIMIT_EXCEEDED ? "time=unlimited"
							: "size=unlimited time=unlimited");
	} else if (rc == LDAP_INSUFFICIENT_ACCESS || rc == LDAP_UNWILLING_TO_PERFORM ||
		   rc == LDAP_STRONG_AUTH_REQUIRED || rc == LDAP_INAPPROPRIATE_AUTH) {
		answer_status(d, tag, DIR_FAILED, "the directory refused the listing: %s",
			why_of(d->ld, rc, buf, sizeof(buf)));
	} else {
		answer_ldap_error(d, tag, "list", rc);
	}
}

/* DIR_LIST: every entry of the filter with %u as *, a page at a time. */
static void do_list(struct dir *d, const struct dirreq *q)
{
	char filter[DIR_FILTER_MAX + 2];
	struct berval cookie = {0, NULL};
	uint32_t listed = 0;
	int rc;

	ldapfilter_for(user_filter(d), NULL, filter, sizeof(filter));
	do {
		rc = list_page(d, q, filter, &cookie, &listed);
	} while (rc == LDAP_SUCCESS && cookie.bv_val);
	ber_memfree(cookie.bv_val);
	if (rc != LDAP_SUCCESS)
		answer_list_error(d, q->tag, rc, listed);
	else
		answer_status(d, q->tag, DIR_OK, "%s", "");
}

static void do_status(struct dir *d, const struct dirreq *q)
{
	struct dirans *a = &d->ans;
	struct berval *who = NULL;
	int rc;

	/* as whom, and the directory's type (configured, or as auto found it). AD has no WhoAmI
	 * operation (Samba's answers protocolError): the bind that succeeded says who */
	left(d);
	if (!d->ad && (rc = ldap_whoami_s(d->ld, &who, NULL, NULL)) != LDAP_SUCCESS) {
		ber_bvfree(who);
		answer_ldap_error(d, q->tag, "whoami", rc);
		return;
	}
	const char *as = d->ad ? d->bind_dn : who && who->bv_val ? who->bv_val : "";
	memset(a, 0, sizeof(*a));
	a->tag = q->tag;
	a->status = DIR_OK;
	a->count = d->ad ? DIR_TYPE_AD : DIR_TYPE_OPENLDAP;
	snprintf(a->text, sizeof(a->text), "%.*s",
		d->ad || !who ? (int)strlen(as) : (int)who->bv_len, as);
	ber_bvfree(who);
	send_answer(a);
}

/* DIR_CONFIG: kept (once); nothing is connected until a request needs it. */
static int configure(struct dir *d, const struct dirreq *q)
{
	if (d->configured) {
		answer_status(d, q->tag, DIR_FAILED, "already configured");
		return -1;
	}
	d->urls = strdup(q->urls);
	d->ca_file = strdup(q->ca_file);
	d->bind_dn = strdup(q->bind_dn);
	d->password = strdup(q->password);
	d->base = strdup(q->base);
	d->filter = strdup(q->filter);
	d->attr = strdup(q->attr);
	d->lang_attr = strdup(q->lang_attr);
	d->starttls = q->starttls;
	d->type = q->type;
	d->ad = q->type == DIR_TYPE_AD;
	d->timeout = q->timeout;
	if (!d->urls || !d->ca_file || !d->bind_dn || !d->password || !d->base || !d->filter ||
		!d->attr || !d->lang_attr) {
		answer_status(d, q->tag, DIR_FAILED, "out of memory");
		return -1;
	}
	d->configured = true;
	answer_status(d, q->tag, DIR_OK, "%s", "");
	return 0;
}

/* What each request does once connected (the decoder lets no other op through; DIR_CONFIG is
 * served before). */
typedef void op_fn(struct dir *d, const struct dirreq *q);
static op_fn *const ops[DIR_OP_LAST + 1] = {
	[DIR_LOOKUP] = do_lookup,
	[DIR_COUNT] = do_count,
	[DIR_PASSWD] = do_passwd,
	[DIR_LOCK] = do_lock,
	[DIR_UNLOCK] = do_unlock,
	[DIR_LIST] = do_list,
	[DIR_STATUS] = do_status,
};

static void run_op(struct dir *d, const struct dirreq *q)
{
	op_fn *fn = q->op <= DIR_OP_LAST ? ops[q->op] : NULL;

	(fn ? fn : do_status)(d, q);
}

/* One request: connect if need be, then the op. When a kept connection turns out to be gone
 * (the server closed it while we idled), the op is tried once more on a new one; not a
 * listing, which may have sent part of its answers already. */
static void serve(struct dir *d, const struct dirreq *q)
{
	char why[DIR_TEXT_MAX];

	if (q->op == DIR_CONFIG) {
		configure(d, q);
		return;
	}
	if (!d->configured) {
		answer_status(d, q->tag, DIR_FAILED, "not configured");
		return;
	}
	d->may_retry = d->ld != NULL && q->op != DIR_LIST;
	d->retry = false;
	d->deadline = mono_ms() + (uint64_t)d->timeout * 1000 * url_count(d);
	url_start(d); /* the kept connection's time, if there is one */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (connected(d, why, sizeof(why)) < 0) {
			answer_status(d, q->tag, DIR_UNREACHABLE, "%s", why);
			return;
		}
		run_op(d, q);
		if (!d->retry)
			return;
		d->may_retry = d->retry = false;
	}
}

int main(void)
{
	struct dir d = {0};
	struct dirreq q;
	unsigned char *in;
	int type = 0;
	socklen_t len = sizeof(type);

	/* it holds the bind password: its /proc files root's from here on, no core */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	openlog("pwreset-directory", LOG_PID, LOG_AUTHPRIV);
	if (getuid() == 0 || geteuid() == 0) {
		syslog(LOG_ERR, "refusing to run as root: the helper starts this as its own user");
		fprintf(stderr, "pwreset-directory: refusing to run as root\n");
		return 1;
	}
	if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET) {
		fprintf(stderr, "pwreset-directory: fd 0 must be the helper's SOCK_SEQPACKET "
				"socket\n");
		return 2;
	}
	/* only what the helper says: no ldap.conf, no ldaprc, no LDAP* variables */
	setenv("LDAPNOINIT", "1", 1);
	packet = malloc(DIRANS_PACKET_MAX);
	in = malloc(DIRREQ_PACKET_MAX + 1);
	if (!packet || !in)
		return 1;
	for (;;) {
		ssize_t n = recv(0, in, DIRREQ_PACKET_MAX + 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((size_t)n > DIRREQ_PACKET_MAX || dirproto_req_decode(in, (size_t)n, &q) < 0) {
			syslog(LOG_ERR, "malformed request of %zd bytes from the helper; exiting",
				n);
			answer_status(
				&d, 0, DIR_FAILED, "pwreset-directory got a malformed request");
			break;
		}
		serve(&d, &q);
		explicit_bzero(in, (size_t)n);
	}
	disconnect(&d);
	forget(&d.password);
	free(d.urls);
	free(d.ca_file);
	free(d.bind_dn);
	free(d.base);
	free(d.filter);
	free(d.attr);
	free(d.lang_attr);
	free(in);
	free(packet);
	return 0;
}
