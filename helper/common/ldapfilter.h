/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shapes of SPEC §12's settings, shared by the configuration (which checks them) and
 * pwreset-directory (which uses them): LDAP URLs, attribute names, and the user filter with
 * the user name put in place of %u, escaped as RFC 4515 says. libc only.
 */
#ifndef PWRESET_LDAPFILTER_H
#define PWRESET_LDAPFILTER_H

#include <stdbool.h>
#include <stddef.h>

/* One ldap:// or ldaps:// URL of len bytes: HOST[:PORT] (an IPv6 host in brackets), and a
 * '/' at the end at most. */
bool ldapfilter_url_ok(const char *url, size_t len);

/* An attribute name: a letter, then letters, digits and '-', 64 at most. */
bool ldapfilter_attr_ok(const char *attr);

/* A filter in parentheses that balance, holding %u. */
bool ldapfilter_ok(const char *filter);

/* filter with every %u replaced by user, each '*', '(', ')', '\\' and NUL of user written as
 * \XX (RFC 4515), and by "*" when user is NULL (every entry); into out. The length, or
 * -ENAMETOOLONG when it does not fit in cap. */
long ldapfilter_for(const char *filter, const char *user, char *out, size_t cap);

#endif
