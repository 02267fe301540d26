/* SPDX-License-Identifier: BSD-3-Clause */
#include <syslog.h>

#include "log.h"
#include "password.h"
#include "ready.h"
#include "util.h"

#define READY_EVERY 2u /* seconds between two looks at the password dictionary */

bool ready_check(struct helper *h)
{
	uint64_t now = util_now();
	bool was = h->ready_at ? h->ready : true;

	if (h->ready_at && now >= h->ready_at && now < h->ready_at + READY_EVERY)
		return h->ready;
	h->ready = password_ready(h->unready, sizeof(h->unready)) == 0;
	h->ready_at = now;
	if (!h->ready && was)
		log_msg(LOG_ERR, "password reset is refused until this is fixed: %s", h->unready);
	else if (h->ready && !was)
		log_msg(LOG_NOTICE, "the password dictionary is back: password reset works again");
	return h->ready;
}

bool ready_why(struct helper *h, char *why, size_t len)
{
	if (ready_check(h))
		return true;
	util_copy(why, len, h->unready);
	return false;
}
