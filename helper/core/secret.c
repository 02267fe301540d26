/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"
#include "util.h"

int secret_file_read(
	const char *key, const char *path, size_t max, char **out, char *why, size_t whylen)
{
	char *data = NULL;
	size_t len, total = 0;
	struct stat st;
	int fd, r;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		snprintf(why, whylen, "%s %s: %s", key, path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077)) {
		close(fd);
		snprintf(why, whylen,
			"%s %s must be a file of root's that only root can read (mode 0600 or 0400)",
			key, path);
		return -EPERM;
	}
	r = util_read_all(fd, max, &data, &total);
	close(fd);
	if (r < 0) {
		if (r == -EFBIG)
			snprintf(why, whylen, "%s %s: longer than %zu bytes", key, path, max);
		else
			snprintf(why, whylen, "%s %s: %s", key, path, strerror(-r));
		return r;
	}
	len = strcspn(data, "\r\n");
	*out = sodium_malloc(len + 1);
	if (*out) {
		memcpy(*out, data, len);
		(*out)[len] = '\0';
	}
	util_free_wiped(data, total);
	return *out ? 0 : -ENOMEM;
}

void secret_free(char *s)
{
	sodium_free(s); /* wipes it */
}
