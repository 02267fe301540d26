/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mailaddr.h"
#include "util.h"

int mailaddr_validate(const char *addr, char *why, size_t whylen)
{
	const char *at = strchr(addr, '@');
	size_t len = strlen(addr);

	if (len == 0)
		snprintf(why, whylen, "the address is empty");
	else if (len > PWR_ADDR_MAX)
		snprintf(why, whylen, "the address is longer than %d bytes", PWR_ADDR_MAX);
	else if (!util_text_ok(addr))
		snprintf(why, whylen, "the address holds a control character");
	else if (strpbrk(addr, " \t<>()[],;:\\\""))
		snprintf(why, whylen, "the address holds a blank or one of <>()[],;:\\\"");
	else if (!at || strchr(at + 1, '@'))
		snprintf(why, whylen, "the address must hold exactly one '@'");
	else if (at == addr)
		snprintf(why, whylen, "nothing before the '@'");
	else if (!at[1])
		snprintf(why, whylen, "no domain after the '@'");
	else if (at[1] == '.' || addr[len - 1] == '.' || strstr(at, ".."))
		snprintf(why, whylen, "the domain is not well formed");
	else
		return 0;
	return -EINVAL;
}

int mailaddr_sender(const char *mail_from, char *name, size_t ncap, char *addr, size_t acap,
	char *why, size_t whylen)
{
	const char *lt = strchr(mail_from, '<');
	char host[256];

	*name = '\0';
	if (!*mail_from) {
		util_host_fqdn(host, sizeof(host));
		if ((size_t)snprintf(addr, acap, "no-reply@%s", host) >= acap) {
			snprintf(why, whylen, "the host name is too long for an address");
			return -EINVAL;
		}
	} else if (lt) {
		const char *gt = strchr(lt, '>');
		size_t nlen = (size_t)(lt - mail_from), alen;
		if (!gt || gt[1] != '\0' || (alen = (size_t)(gt - lt - 1)) > PWR_ADDR_MAX ||
			alen >= acap) {
			snprintf(why, whylen, "'%s' is not an address or Display Name <address>",
				mail_from);
			return -EINVAL;
		}
		while (nlen && (mail_from[nlen - 1] == ' ' || mail_from[nlen - 1] == '\t'))
			nlen--;
		if (nlen >= ncap) {
			snprintf(
				why, whylen, "the display name is longer than %zu bytes", ncap - 1);
			return -EINVAL;
		}
		memcpy(name, mail_from, nlen);
		name[nlen] = '\0';
		memcpy(addr, lt + 1, alen);
		addr[alen] = '\0';
	} else if (util_copy(addr, acap, mail_from) < 0) {
		snprintf(why, whylen, "the address is longer than %d bytes", PWR_ADDR_MAX);
		return -EINVAL;
	}
	if (mailaddr_validate(addr, why, whylen) < 0)
		return -EINVAL;
	if (!util_text_ok(name)) {
		snprintf(why, whylen, "the display name holds a control character");
		return -EINVAL;
	}
	return 0;
}

void mailaddr_mask(const char *addr, char *out, size_t cap)
{
	const char *at = strrchr(addr, '@');

	if (!at || at == addr)
		snprintf(out, cap, "***");
	else
		snprintf(out, cap, "%c***%s", addr[0], at);
}
