/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ad.h"
#include "dirproto.h"

#define AD_CAPABILITY "1.2.840.113556.1.4.800" /* LDAP_CAP_ACTIVE_DIRECTORY_OID */
#define POLICY_HINTS "1.2.840.113556.1.4.2239" /* LDAP_SERVER_POLICY_HINTS_OID */
#define UAC_DISABLED 0x2u
#define FILETIME_UNIX 11644473600ull /* seconds from 1601 to 1970 */
#define NEVER 9223372036854775807ull /* accountExpires: never (as 0) */

int ad_detect(LDAP *ld, struct timeval *tv, int *rc)
{
	char *attrs[] = {"supportedCapabilities", NULL};
	LDAPMessage *res = NULL, *e;
	struct berval **v;
	int found = 0;

	*rc = ldap_search_ext_s(
		ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL, tv, 1, &res);
	if (*rc != LDAP_SUCCESS || !(e = ldap_first_entry(ld, res))) {
		ldap_msgfree(res);
		return *rc == LDAP_SUCCESS ? 0 : -1;
	}
	v = ldap_get_values_len(ld, e, "supportedCapabilities");
	for (size_t i = 0; v && v[i]; i++)
		if (v[i]->bv_len == strlen(AD_CAPABILITY) &&
			!memcmp(v[i]->bv_val, AD_CAPABILITY, v[i]->bv_len))
			found = 1;
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return found;
}

/* The next code point of the UTF-8 at *s (advanced), or -1 when it is not well-formed. */
static long next_code_point(const unsigned char **s)
{
	const unsigned char *p = *s;
	long c;
	int n;

	if (p[0] < 0x80) {
		*s = p + 1;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 1, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 2, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 3, c = p[0] & 0x07;
	else
		return -1;
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((n == 2 && c < 0x800) || (n == 3 && (c < 0x10000 || c > 0x10ffff)) ||
		(c >= 0xd800 && c <= 0xdfff))
		return -1;
	*s = p + n + 1;
	return c;
}

/* "pw" as UTF-16LE into out (room for 4 * (strlen(pw) + 2) bytes): its length, or -1. */
static long quoted_utf16(const char *pw, unsigned char *out)
{
	const unsigned char *s = (const unsigned char *)pw;
	long n = 0, c;

	out[n++] = '"', out[n++] = 0;
	while (*s) {
		if ((c = next_code_point(&s)) < 0)
			return -1;
		if (c >= 0x10000) {
			long hi = 0xd800 + ((c - 0x10000) >> 10),
			     lo = 0xdc00 + ((c - 0x10000) & 0x3ff);
			out[n++] = (unsigned char)(hi & 0xff), out[n++] = (unsigned char)(hi >> 8);
			c = lo;
		}
		out[n++] = (unsigned char)(c & 0xff), out[n++] = (unsigned char)(c >> 8);
	}
	out[n++] = '"', out[n++] = 0;
	return n;
}

int ad_set_password(LDAP *ld, const char *dn, const char *pw)
{
	size_t cap = 4 * (strlen(pw) + 2);
	unsigned char *utf16 = malloc(cap), hint[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	LDAPControl hints = {POLICY_HINTS, {sizeof(hint), (char *)hint}, 0};
	LDAPControl *ctrls[] = {&hints, NULL};
	struct berval value, *values[] = {&value, NULL};
	LDAPMod rep = {LDAP_MOD_REPLACE | LDAP_MOD_BVALUES, "unicodePwd", {.modv_bvals = values}};
	LDAPMod *mods[] = {&rep, NULL};
	long n;
	int rc;

	if (!utf16)
		return LDAP_NO_MEMORY;
	if ((n = quoted_utf16(pw, utf16)) < 0) {
		free(utf16);
		return LDAP_PARAM_ERROR;
	}
	value = (struct berval){(ber_len_t)n, (char *)utf16};
	rc = ldap_modify_ext_s(ld, dn, mods, ctrls, NULL);
	explicit_bzero(utf16, cap);
	free(utf16);
	return rc;
}

int ad_unlock(LDAP *ld, const char *dn, bool reset)
{
	char *zero[] = {"0", NULL}, *now[] = {"-1", NULL};
	LDAPMod lockout = {LDAP_MOD_REPLACE, "lockoutTime", {.modv_strvals = zero}};
	LDAPMod last = {LDAP_MOD_REPLACE, "pwdLastSet", {.modv_strvals = now}};
	LDAPMod *mods[] = {&lockout, reset ? &last : NULL, NULL};

	return ldap_modify_ext_s(ld, dn, mods, NULL, NULL);
}

const char *ad_refusal(const char *diagnostic)
{
	if (strcasestr(diagnostic, "too short"))
		return "too-short";
	if (strcasestr(diagnostic, "complexity"))
		return "not-complex";
	if (strcasestr(diagnostic, "history") || strcasestr(diagnostic, "already used"))
		return "in-history";
	return "policy";
}

/* The first value of attr of e as a number: 0 and *out, or -1. */
static int number(LDAP *ld, LDAPMessage *e, const char *attr, unsigned long long *out)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	char buf[24], *end;
	int r = -1;

	if (v && v[0] && v[0]->bv_len > 0 && v[0]->bv_len < sizeof(buf)) {
		memcpy(buf, v[0]->bv_val, v[0]->bv_len);
		buf[v[0]->bv_len] = '\0';
		errno = 0;
		*out = strtoull(buf, &end, 10);
		r = *end || errno || buf[0] == '-' ? -1 : 0;
	}
	ldap_value_free_len(v);
	return r;
}

uint32_t ad_flags(LDAP *ld, LDAPMessage *e)
{
	unsigned long long uac, expires;
	uint64_t now = ((uint64_t)time(NULL) + FILETIME_UNIX) * 10000000ull;
	uint32_t f = 0;

	if (number(ld, e, "userAccountControl", &uac) == 0 && (uac & UAC_DISABLED))
		f |= DIR_F_DISABLED;
	if (number(ld, e, "accountExpires", &expires) == 0 && expires != 0 && expires != NEVER &&
		expires < now)
		f |= DIR_F_EXPIRED;
	return f;
}
