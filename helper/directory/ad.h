/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What Active Directory does otherwise (SPEC §12.1): the password is unicodePwd, written as the
 * UTF-16LE of the quoted password with the policy-hints control (not critical) over TLS; the
 * lockout is lockoutTime, must-change is pwdLastSet = 0; a disabled account is bit 0x2 of
 * userAccountControl, an expired one has accountExpires in the past; a code is bound to
 * pwdLastSet; names are sAMAccountName. The root DSE says whether a server is AD.
 */
#ifndef PWRESET_AD_H
#define PWRESET_AD_H

#include <ldap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether the server ld is bound to is Active Directory (its root DSE's supportedCapabilities
 * hold LDAP_CAP_ACTIVE_DIRECTORY_OID): 1, 0, or -1 with rc set when it could not be read. */
int ad_detect(LDAP *ld, struct timeval *tv, int *rc);

/* Replace dn's unicodePwd with pw (UTF-8; refused, LDAP_PARAM_ERROR, when it is not), the
 * policy-hints control sent, not critical. The LDAP result code. */
int ad_set_password(LDAP *ld, const char *dn, const char *pw);

/* lockoutTime 0 (unlocked); and after a reset (reset) pwdLastSet -1 (now: no change due at
 * logon). The LDAP result code. */
int ad_unlock(LDAP *ld, const char *dn, bool reset);

/* The reason of a refused new password, from the server's words (0000052D, ...): one of the
 * keys "too-short", "not-complex", "in-history", or "policy". */
const char *ad_refusal(const char *diagnostic);

/* DIR_F_* of the entry e: disabled (userAccountControl), expired (accountExpires). */
uint32_t ad_flags(LDAP *ld, LDAPMessage *e);

#endif
