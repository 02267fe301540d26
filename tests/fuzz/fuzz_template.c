/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: building a mail from a template and the values put in it. The input is the
 * template, then NUL, the user name, NUL, the remote host. A message that is built must be
 * CRLF throughout, with exactly one Subject, To and From header and no other header than
 * those message.c writes: nothing can be injected. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "message.h"
#include "scratch.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static struct pwr_conf conf;

static const char *const headers[] = {"From:", "To:", "Subject:", "Date:", "Message-ID:",
	"MIME-Version:", "Content-Type:", "Content-Transfer-Encoding:", "Auto-Submitted:"};

static void cleanup(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/code.txt", dir);
	unlink(path);
	rmdir(dir);
}

static void check_message(const char *m, size_t len)
{
	const char *end = memmem(m, len, "\r\n\r\n", 4), *p = m;
	int seen[sizeof(headers) / sizeof(headers[0])] = {0};

	for (size_t i = 0; i < len; i++)
		if ((m[i] == '\n' && (i == 0 || m[i - 1] != '\r')) ||
			(m[i] == '\r' && (i + 1 == len || m[i + 1] != '\n')))
			abort(); /* a bare CR or LF */
	if (!end)
		abort();
	while (p < end) {
		const char *eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
		size_t i;
		if (*p != ' ' && *p != '\t') {
			for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
				if (!strncmp(p, headers[i], strlen(headers[i])))
					break;
			if (i == sizeof(headers) / sizeof(headers[0]))
				abort(); /* a header message.c does not write */
			seen[i]++;
		}
		p = eol + 2;
	}
	for (size_t i = 0; i < 3; i++)
		if (seen[i] != 1)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data, *user = "alice", *rhost = "192.0.2.1";
	const char *z1 = memchr(data, '\0', size), *z2 = NULL;
	struct message_in in = {.kind = 1,
		.to = "alice@example.org",
		.code = "ABCDE-FGHJK",
		.created = 1790000000,
		.expires = 1790000600};
	char path[128], from[512], why[256], *out = NULL;
	size_t tlen = z1 ? (size_t)(z1 - t) : size, len;
	FILE *f;

	if (!dir[0]) {
		scratch_make("pwr-fuzz-tmpl", 0755, dir, sizeof(dir));
		if (conf_init(&conf) < 0)
			abort();
		free(conf.templates_dir);
		conf.templates_dir = strdup(dir);
		free(conf.mail_from);
		conf.mail_from = strdup("Password reset <no-reply@example.org>");
		atexit(cleanup);
	}
	if (z1) {
		user = z1 + 1;
		z2 = memchr(user, '\0', size - tlen - 1);
		if (z2)
			rhost = z2 + 1;
		if (!z2 || memchr(rhost, '\0', size - (size_t)(rhost - t)) == NULL)
			return 0; /* the values must end in NUL too */
	}
	in.user = user;
	in.rhost = rhost;
	snprintf(path, sizeof(path), "%s/code.txt", dir);
	f = fopen(path, "w");
	if (!f || fwrite(t, 1, tlen, f) != tlen || fclose(f) != 0)
		abort();
	chmod(path, 0644);
	if (message_build(&conf, &in, &out, &len, from, sizeof(from), why, sizeof(why)) == 0) {
		check_message(out, len);
		free(out);
	}
	return 0;
}
