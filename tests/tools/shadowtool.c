/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The helper's shadow writer alone, for tests and the benchmark: no store, no config.
 *
 *   shadowtool set PATH USER HASH LASTCHG   field 2 := HASH, field 3 := LASTCHG
 *   shadowtool lock PATH USER               '!' in front of field 2
 *
 * Exit 0 when the file was rewritten, 1 with the reason on stderr when not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shadow_edits.h"

int main(int argc, char **argv)
{
	int r;

	if (argc == 6 && !strcmp(argv[1], "set")) {
		struct shadow_set c = {argv[4], strtol(argv[5], NULL, 10)};
		r = shadowfile_update(argv[2], argv[3], shadow_edit_set, &c);
	} else if (argc == 4 && !strcmp(argv[1], "lock")) {
		r = shadowfile_update(argv[2], argv[3], shadow_edit_lock, NULL);
	} else {
		fprintf(stderr, "usage: shadowtool set PATH USER HASH LASTCHG | lock PATH USER\n");
		return 2;
	}
	if (r < 0) {
		fprintf(stderr, "shadowtool: %s: %s\n", argv[2], strerror(-r));
		return 1;
	}
	return 0;
}
