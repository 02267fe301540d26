/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: one shadow line and the whole rewrite of a shadow file. The input is a user name,
 * a newline, then the file. The line edits must keep the other fields; shadowfile_update (on a
 * file in a private tmpfs-backed folder, PATH.lock only: not the system file) must either
 * change exactly the user's first line or leave every byte as it was, and leave nothing
 * behind but the file and its backup. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scratch.h"
#include "shadow_edits.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[96];

static void cleanup(void)
{
	rmdir(dir); /* each run removes its files; only the folder is left at the end */
}

static size_t count_lines(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += s[i] == '\n';
	return c;
}

static void check_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && strcmp(e->d_name, "shadow") != 0 &&
			strcmp(e->d_name, "shadow-") != 0)
			abort(); /* a temporary file or lock left behind */
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	char user[256], out[SHADOW_LINE_MAX], field[SHADOW_LINE_MAX], *after = NULL;
	struct shadow_set set = {.hash = "$y$j9T$fuzzfuzzfuzz$abcdefgh", .lastchg = 20000};
	size_t ulen, flen, alen = 0;
	int fd, r;

	if (!dir[0]) {
		scratch_make("pwr-fuzz", 0700, dir, sizeof(dir));
		snprintf(path, sizeof(path), "%s/shadow", dir);
		atexit(cleanup);
	}
	if (!nl || (ulen = (size_t)(nl - (const char *)data)) >= sizeof(user))
		return 0;
	memcpy(user, data, ulen);
	user[ulen] = '\0';
	flen = size - ulen - 1;

	/* the line edits, on the file's first line */
	{
		const char *body = nl + 1;
		const char *end = memchr(body, '\n', flen);
		size_t l = end ? (size_t)(end - body) : flen;
		char line[SHADOW_LINE_MAX];
		if (l < sizeof(line) && !memchr(body, '\0', l)) {
			memcpy(line, body, l);
			line[l] = '\0';
			if (shadowfile_set_password(
				    line, set.hash, set.lastchg, out, sizeof(out)) == 0 &&
				(shadowfile_field(out, 1, field, sizeof(field)) != 0 ||
					strcmp(field, set.hash) != 0))
				abort();
			if (shadowfile_lock_password(line, out, sizeof(out)) == 0 &&
				(shadowfile_field(out, 1, field, sizeof(field)) != 0 ||
					field[0] != '!'))
				abort();
		}
	}

	/* the rewrite */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || util_write_all(fd, nl + 1, flen) < 0 || close(fd) < 0)
		abort();
	r = shadowfile_update(path, user, shadow_edit_set, &set);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || util_read_all(fd, 1 << 24, &after, &alen) < 0)
		abort();
	close(fd);
	if (r != 0) {
		if (alen != flen || memcmp(after, nl + 1, flen) != 0)
			abort(); /* a refused or failed rewrite changed the file */
	} else {
		if (count_lines(after, alen) != count_lines(nl + 1, flen))
			abort();
		if (!memmem(after, alen, set.hash, strlen(set.hash)))
			abort();
	}
	free(after);
	unlink(path);
	{
		char backup[128];
		snprintf(backup, sizeof(backup), "%s-", path);
		unlink(backup);
	}
	check_dir();
	return 0;
}
