/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An LD_PRELOAD library that makes the passwd lookups by name case-insensitive, as sssd's
 * case_sensitive = false does: getpwnam and getpwnam_r find "Admin" as the account "admin"
 * (the entry they return carries its own pw_name). For the tests that the helper matches the
 * account's own name against its lists, never the name as typed. Never installed.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <pwd.h>
#include <stddef.h>
#include <string.h>

typedef int getpwnam_r_fn(const char *, struct passwd *, char *, size_t, struct passwd **);
typedef struct passwd *getpwnam_fn(const char *);

static void lower(const char *in, char *out, size_t cap)
{
	size_t i = 0;

	for (; in[i] && i + 1 < cap; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

int getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, struct passwd **res)
{
	static getpwnam_r_fn *real;
	char low[256];

	if (!real)
		real = (getpwnam_r_fn *)dlsym(RTLD_NEXT, "getpwnam_r");
	lower(name, low, sizeof(low));
	return real(low, pw, buf, len, res);
}

struct passwd *getpwnam(const char *name)
{
	static getpwnam_fn *real;
	char low[256];

	if (!real)
		real = (getpwnam_fn *)dlsym(RTLD_NEXT, "getpwnam");
	lower(name, low, sizeof(low));
	return real(low);
}
