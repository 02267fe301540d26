/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ldapfilter.h"

bool ldapfilter_url_ok(const char *url, size_t len)
{
	size_t scheme = !strncmp(url, "ldap://", 7) ? 7 : !strncmp(url, "ldaps://", 8) ? 8 : 0;
	const char *host = url + scheme, *end = url + len;

	if (!scheme || len <= scheme || *host == ':' || *host == '/')
		return false;
	if (end[-1] == '/')
		end--;
	for (const char *p = host; p < end; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-:[]", *p))
			return false;
	return end > host;
}

bool ldapfilter_attr_ok(const char *attr)
{
	size_t n = strlen(attr);

	if (!isalpha((unsigned char)*attr) || n > 64)
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)attr[i]) && attr[i] != '-')
			return false;
	return true;
}

bool ldapfilter_ok(const char *filter)
{
	int depth = 0;

	if (filter[0] != '(' || !strstr(filter, "%u"))
		return false;
	for (const char *p = filter; *p; p++) {
		depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
		if (depth < 0 || (depth == 0 && p[1]))
			return false;
	}
	return depth == 0;
}

long ldapfilter_for(const char *filter, const char *user, char *out, size_t cap)
{
	size_t pos = 0;

#define PUT(c) \
	do { \
		if (pos + 1 >= cap) \
			return -ENAMETOOLONG; \
		out[pos++] = (c); \
	} while (0)
	for (const char *p = filter; *p; p++) {
		if (p[0] != '%' || p[1] != 'u') {
			PUT(*p);
			continue;
		}
		p++;
		if (!user) {
			PUT('*');
			continue;
		}
		for (const unsigned char *u = (const unsigned char *)user; *u; u++) {
			if (*u == '*' || *u == '(' || *u == ')' || *u == '\\') {
				PUT('\\');
				PUT("0123456789abcdef"[*u >> 4]);
				PUT("0123456789abcdef"[*u & 15]);
			} else {
				PUT((char)*u);
			}
		}
	}
#undef PUT
	if (cap == 0)
		return -ENAMETOOLONG;
	out[pos] = '\0';
	return (long)pos;
}
