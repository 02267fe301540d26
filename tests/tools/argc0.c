/* SPDX-License-Identifier: BSD-3-Clause */
/* Test tool: execute PROG with argc == 0 (an empty argv), keeping the environment and fds, as
 * an attacker can. Never installed. */
#include <stdio.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	char *empty[] = {NULL};

	if (argc != 2) {
		fprintf(stderr, "usage: argc0 PROG\n");
		return 2;
	}
	execve(argv[1], empty, environ);
	perror("execve");
	return 127;
}
