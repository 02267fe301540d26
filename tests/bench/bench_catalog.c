/* SPDX-License-Identifier: BSD-3-Clause */
/* Benchmark: what the module's words cost a conversation (SPEC §13): the catalog of the host's
 * language looked for, read and checked, one text looked up, closed; for Japanese and German,
 * a language without a catalog (en_US.UTF-8: two files looked for) and C (none).
 *
 * Anchor: getpwnam of one account, as pam_unix and the helper do at every login, in the same
 * run. Medians of 21 rounds of 500.
 *
 *   bench-catalog PO_DIR     (the build's po/: LANG/LC_MESSAGES/pam_pwreset.mo) */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "catalog.h"

#define ROUNDS 21
#define CALLS 500

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median microseconds a call of lang's conversation ("" for the anchor). */
static double median(const char *dir, const char *lang)
{
	double round[ROUNDS];
	char why[256];

	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_us();
		for (int i = 0; i < CALLS; i++) {
			if (!*lang) {
				(void)getpwnam("root");
				continue;
			}
			struct catalog c;
			(void)catalog_open(&c, dir, lang, "pam_pwreset", why, sizeof(why));
			(void)catalog_get(&c, "Reset code: ");
			catalog_close(&c);
		}
		round[r] = (now_us() - t0) / CALLS;
	}
	qsort(round, ROUNDS, sizeof(round[0]), cmp);
	return round[ROUNDS / 2];
}

int main(int argc, char **argv)
{
	static const char *const langs[] = {"ja", "de_DE.UTF-8", "en_US.UTF-8", "C.UTF-8"};
	double anchor;

	if (argc != 2) {
		fprintf(stderr, "usage: bench-catalog PO_DIR\n");
		return 2;
	}
	anchor = median(argv[1], "");
	printf("| language | a conversation's catalog | getpwnam(\"root\") | ratio |\n"
	       "|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++) {
		double m = median(argv[1], langs[i]);
		printf("| %s | %.1f us | %.1f us | %.2f |\n", langs[i], m, anchor, m / anchor);
	}
	return 0;
}
