/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pwreset-directory's connection: the URLs tried in turn, StartTLS and the bind, and the time
 * each request may spend: directory_timeout for each URL, all it does there counted.
 */
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ad.h"
#include "connect.h"

uint64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* The URL in hand gets the timeout from now, within the request's deadline. */
void url_start(struct dir *d)
{
	uint64_t end = mono_ms() + (uint64_t)d->timeout * 1000;

	d->until = end < d->deadline ? end : d->deadline;
}

/* What is left of the URL's time, for a call that takes a timeout; also set on the connection
 * for the calls that take none (bind, StartTLS, modify). At least 1 ms: libldap reads 0 as no
 * limit. */
struct timeval left(struct dir *d)
{
	uint64_t now = mono_ms(), ms = d->until > now + 1 ? d->until - now : 1;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

	if (d->ld) {
		ldap_set_option(d->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
		ldap_set_option(d->ld, LDAP_OPT_TIMEOUT, &tv);
	}
	return tv;
}

void disconnect(struct dir *d)
{
	if (d->ld)
		ldap_unbind_ext_s(d->ld, NULL, NULL);
	d->ld = NULL;
}

/* The server's words for rc on ld, or libldap's. */
const char *why_of(LDAP *ld, int rc, char *buf, size_t cap)
{
	char *diag = NULL;

	if (ld && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) == LDAP_OPT_SUCCESS &&
		diag && *diag)
		snprintf(buf, cap, "%s: %s", ldap_err2string(rc), diag);
	else
		snprintf(buf, cap, "%s", ldap_err2string(rc));
	ldap_memfree(diag);
	return buf;
}

/* Connect to url and bind: 0 with d->ld, or the LDAP error (why filled). */
static int connect_one(struct dir *d, const char *url, char *why, size_t whylen)
{
	struct timeval tv;
	struct berval cred = {strlen(d->password), d->password};
	int version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0, rc;
	LDAP *ld = NULL;

	url_start(d);
	if (mono_ms() >= d->until) {
		snprintf(why, whylen, "%s: not tried: the request's time was spent", url);
		return LDAP_TIMEOUT;
	}
	if ((rc = ldap_initialize(&ld, url)) != LDAP_SUCCESS) {
		snprintf(why, whylen, "%s: %s", url, ldap_err2string(rc));
		return rc;
	}
	tv = left(d);
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
	ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
	ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
	if (*d->ca_file)
		ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, d->ca_file);
	ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
	if (!strncmp(url, "ldap://", 7) && d->starttls == DIR_TLS_REQUIRED &&
		(rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS) {
		char buf[256];
		snprintf(why, whylen, "%s: StartTLS: %s", url, why_of(ld, rc, buf, sizeof(buf)));
		ldap_unbind_ext_s(ld, NULL, NULL);
		return rc;
	}
	rc = ldap_sasl_bind_s(ld, d->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	if (rc != LDAP_SUCCESS) {
		char buf[256];
		snprintf(why, whylen, "%s: bind as %s: %s", url, d->bind_dn,
			why_of(ld, rc, buf, sizeof(buf)));
		ldap_unbind_ext_s(ld, NULL, NULL);
		return rc;
	}
	/* auto: the first server that answers says which kind the directory is */
	if (d->type == DIR_TYPE_AUTO) {
		int is_ad;
		tv = left(d);
		if ((is_ad = ad_detect(ld, &tv, &rc)) < 0) {
			char buf[256];
			snprintf(why, whylen, "%s: reading the root DSE: %s", url,
				why_of(ld, rc, buf, sizeof(buf)));
			ldap_unbind_ext_s(ld, NULL, NULL);
			return rc;
		}
		d->ad = is_ad == 1;
	}
	d->ld = ld;
	return 0;
}

/* A bound connection: the one kept, else the first URL that answers. 0, or -1 (why: each
 * URL's failure). */
int connected(struct dir *d, char *why, size_t whylen)
{
	char *urls, *save = NULL, one[512];
	size_t pos = 0;

	if (d->ld)
		return 0;
	if (!(urls = strdup(d->urls))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	why[0] = '\0';
	for (char *u = strtok_r(urls, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
		int w;

		if (connect_one(d, u, one, sizeof(one)) == 0)
			break;
		w = snprintf(why + pos, whylen - pos, "%s%s", pos ? "; " : "", one);
		if (w > 0)
			pos += (size_t)w < whylen - pos ? (size_t)w : whylen - pos - 1;
	}
	free(urls);
	return d->ld ? 0 : -1;
}

unsigned url_count(const struct dir *d)
{
	unsigned n = 1;

	for (const char *p = d->urls; *p; p++)
		n += *p == ',';
	return n;
}
