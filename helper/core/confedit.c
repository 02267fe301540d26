/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confedit.h"

const char *const confedit_policy_keys[] = {"self_reset", "help_message", "user_addresses",
	"admin_group", "exclude_users", "exclude_groups", "min_uid", NULL};

int confedit_is_policy_key(const char *key)
{
	for (size_t i = 0; confedit_policy_keys[i]; i++)
		if (!strcmp(key, confedit_policy_keys[i]))
			return 1;
	return 0;
}

/* Whether the line [p, end) sets key ("key = ..."), or, commented, shows it ("# key = ..."). */
static bool line_is(const char *p, const char *end, const char *key, bool commented)
{
	size_t klen = strlen(key);

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (commented) {
		if (p == end || *p != '#')
			return false;
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
	}
	if ((size_t)(end - p) < klen || memcmp(p, key, klen) != 0)
		return false;
	p += klen;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p < end && *p == '=';
}

static bool value_ok(const char *v)
{
	size_t n = strlen(v);

	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return n == 0 || (!isspace((unsigned char)v[0]) && !isspace((unsigned char)v[n - 1]));
}

int confedit_set(const char *text, size_t len, const char *key, const char *value, char **out,
	size_t *outlen)
{
	const char *set = NULL, *example = NULL, *set_end = NULL, *example_end = NULL;
	const char *at, *resume;
	char line[2048];
	size_t nl, pos;
	int n;

	if (!value_ok(value) || !*key)
		return -EINVAL;
	n = snprintf(line, sizeof(line), *value ? "%s = %s" : "%s =", key, value);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL;
	for (const char *p = text, *end; p < text + len; p = end + (end < text + len)) {
		end = memchr(p, '\n', (size_t)(text + len - p));
		if (!end)
			end = text + len;
		if (!set && line_is(p, end, key, false))
			set = p, set_end = end;
		else if (!example && line_is(p, end, key, true))
			example = p, example_end = end;
	}
	/* replace the line that sets it (its own end of line kept: "\r" stays), else go after
	 * the example, else at the end */
	if (set) {
		at = set;
		resume = set_end > set && set_end[-1] == '\r' ? set_end - 1 : set_end;
	} else {
		at = resume = example ? (example_end < text + len ? example_end + 1 : example_end)
				      : text + len;
	}
	nl = !set && at > text && at[-1] != '\n'; /* the file's last line had no newline */
	*outlen = len - (size_t)(resume - at) + (size_t)n + nl + (set ? 0 : 1);
	if (!(*out = malloc(*outlen + 1)))
		return -ENOMEM;
	pos = (size_t)(at - text);
	memcpy(*out, text, pos);
	if (nl)
		(*out)[pos++] = '\n';
	memcpy(*out + pos, line, (size_t)n);
	pos += (size_t)n;
	if (!set)
		(*out)[pos++] = '\n';
	memcpy(*out + pos, resume, (size_t)(text + len - resume));
	pos += (size_t)(text + len - resume);
	(*out)[pos] = '\0';
	*outlen = pos;
	return 0;
}
