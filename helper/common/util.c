/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

bool util_text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

void util_sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
}

int util_read_all(int fd, size_t max, char **data, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	int r = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t got;
		if (n == cap) {
			/* grown by hand, not realloc: what was read (a password file) is wiped */
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *nb = cap >= max + 1 ? NULL : malloc(ncap + 1);
			if (!nb) {
				r = cap >= max + 1 ? -EFBIG : -ENOMEM;
				break;
			}
			memcpy(nb, buf, n);
			util_free_wiped(buf, cap + 1);
			buf = nb;
			cap = ncap;
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = got < 0 ? -errno : 0;
			break;
		}
		n += (size_t)got;
	}
	if (r == 0 && n > max)
		r = -EFBIG;
	if (r < 0) {
		util_free_wiped(buf, cap + 1);
		return r;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

int util_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t r = write(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int util_copy(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	if (l >= n)
		return -ENAMETOOLONG;
	memcpy(dst, src, l + 1);
	return 0;
}

uint64_t util_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec;
}

uint64_t util_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int util_lower(char *dst, size_t n, const char *s)
{
	size_t l = strlen(s);

	if (l >= n)
		return -ENAMETOOLONG;
	for (size_t i = 0; i <= l; i++)
		dst[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	return 0;
}

/* The canonical name /etc/hosts gives short (the first name of the line that lists it), into
 * out when it is fully qualified. */
static void hosts_canonical(const char *short_name, char *out, size_t cap)
{
	FILE *f = fopen("/etc/hosts", "re");
	char line[1024];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *canon, *name;
		line[strcspn(line, "#\n")] = '\0';
		if (!strtok_r(line, " \t", &save) || !(canon = strtok_r(NULL, " \t", &save)))
			continue;
		for (name = canon; name; name = strtok_r(NULL, " \t", &save))
			if (!strcmp(name, short_name))
				break;
		if (name && strchr(canon, '.') && util_text_ok(canon)) {
			snprintf(out, cap, "%s", canon);
			break;
		}
	}
	fclose(f);
}

void util_host_fqdn(char *out, size_t cap)
{
	static char name[256];

	if (!*name) {
		if (gethostname(name, sizeof(name) - 1) < 0 || !*name || !util_text_ok(name))
			snprintf(name, sizeof(name), "localhost");
		if (!strchr(name, '.')) {
			char canon[256] = "";
			hosts_canonical(name, canon, sizeof(canon));
			if (*canon)
				snprintf(name, sizeof(name), "%s", canon);
		}
	}
	snprintf(out, cap, "%s", name);
}

void util_free_wiped(void *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	free(p);
}
