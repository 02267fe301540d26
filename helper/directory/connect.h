/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PWRESET_DIRECTORY_CONNECT_H
#define PWRESET_DIRECTORY_CONNECT_H

#include <ldap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "dirproto.h"

/* What DIR_CONFIG said, kept for the program's life. */
struct dir {
	LDAP *ld; /* bound, or NULL */
	char *urls, *ca_file, *bind_dn, *password, *base, *filter, *attr;
	char *lang_attr; /* "": none (SPEC §13) */
	uint32_t starttls, timeout;
	uint32_t type; /* enum dir_type, as configured */
	bool ad; /* the server is Active Directory (SPEC §12.1): configured, or its root DSE
		    said so (auto) */
	bool configured;
	bool may_retry; /* this request may be tried again on a new connection */
	bool retry; /* ... and must be: the kept connection was found gone */
	uint64_t deadline; /* CLOCK_MONOTONIC ms: the request's end, the timeout for each URL */
	uint64_t until; /* ... and the end of the URL in hand's time, at most the deadline */
	struct dirans ans; /* the answer being made: one request is served at a time */
};

/* CLOCK_MONOTONIC in ms. */
uint64_t mono_ms(void);
/* The URL in hand gets the timeout from now, within the request's deadline. */
void url_start(struct dir *d);
/* What is left of the URL's time (see connect.c). */
struct timeval left(struct dir *d);
/* How many URLs directory_url names. */
unsigned url_count(const struct dir *d);
void disconnect(struct dir *d);
/* The server's words for rc on ld, or libldap's. */
const char *why_of(LDAP *ld, int rc, char *buf, size_t cap);
/* A bound connection: the one kept, else the first URL that answers. 0, or -1 (why: each
 * URL's failure). */
int connected(struct dir *d, char *why, size_t whylen);

#endif
