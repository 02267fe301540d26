/* SPDX-License-Identifier: BSD-3-Clause */
/* Small helpers shared by the helper's files. 0 or a negative errno, as everywhere. */
#ifndef PWRESET_UTIL_H
#define PWRESET_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s holds no control character (bytes below 0x20, and 0x7f). */
bool util_text_ok(const char *s);

/* Replace every control character of s with '?', in place. */
void util_sanitize(char *s);

/* Read all of fd, at most max bytes (more is -EFBIG), into a malloc'd, NUL-terminated buffer;
 * what was read is wiped before any memory of it is given back. */
int util_read_all(int fd, size_t max, char **data, size_t *len);

/* Write all of buf, looping on short writes and EINTR. */
int util_write_all(int fd, const void *buf, size_t len);

/* Copy src into dst of size n; -ENAMETOOLONG (dst untouched) if it does not fit. */
int util_copy(char *dst, size_t n, const char *src);

/* Seconds since the epoch. */
uint64_t util_now(void);
/* Milliseconds of CLOCK_MONOTONIC: for deadlines and waits, which the wall clock would move. */
uint64_t util_mono_ms(void);

/* This host's name, fully qualified when gethostname() or /etc/hosts says so (the line that
 * names the host: its first name), else the short name; "localhost" when there is none. Never
 * asks a resolver: the root helper makes no network query. Looked up once per process. */
void util_host_fqdn(char *out, size_t cap);

/* Lower-case ASCII copy of s into dst of size n; -ENAMETOOLONG if it does not fit. */
int util_lower(char *dst, size_t n, const char *s);

/* Wipe len bytes at p, then free it (NULL: nothing). */
void util_free_wiped(void *p, size_t len);

#endif
