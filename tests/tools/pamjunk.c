/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A PAM application that converses the way sshd does for an account it does not know: with
 * --junk, every answer is replaced by junk of the same length (sshd's fake_password(), which
 * begins "\b\n\r\177INCORRECT"). Without it, the answers are passed on as they are.
 *   pamjunk SERVICE USER [--junk] < answers
 * Each prompt takes the next line of stdin (none left: the conversation fails). Prints the
 * transcript, a line per message ("prompt: ", "error: ", "info: " and the text), then
 * "result: " and pam_authenticate's result. Exit status 0.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

static bool junk;

static char *answer_line(void)
{
	static const char pattern[] = "\b\n\r\177INCORRECT";
	char line[1024];
	size_t n;

	if (!fgets(line, sizeof(line), stdin))
		return NULL;
	n = strcspn(line, "\n");
	line[n] = '\0';
	if (junk)
		for (size_t i = 0; i < n; i++)
			line[i] = pattern[i % (sizeof(pattern) - 1)];
	return strdup(line);
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	(void)data;
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_ON:
		case PAM_PROMPT_ECHO_OFF:
			printf("prompt: %s\n", msg[i]->msg);
			if (!(r[i].resp = answer_line())) {
				for (int j = 0; j < i; j++)
					free(r[j].resp);
				free(r);
				return PAM_CONV_ERR;
			}
			break;
		case PAM_ERROR_MSG:
			printf("error: %s\n", msg[i]->msg);
			break;
		default:
			printf("info: %s\n", msg[i]->msg);
		}
	}
	fflush(stdout);
	*resp = r;
	return PAM_SUCCESS;
}

int main(int argc, char **argv)
{
	struct pam_conv c = {conv, NULL};
	pam_handle_t *pamh = NULL;
	int r;

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "--junk") != 0)) {
		fprintf(stderr, "usage: pamjunk SERVICE USER [--junk] < answers\n");
		return 2;
	}
	junk = argc == 4;
	if ((r = pam_start(argv[1], argv[2], &c, &pamh)) != PAM_SUCCESS) {
		fprintf(stderr, "pamjunk: pam_start: %s\n", pam_strerror(NULL, r));
		return 1;
	}
	r = pam_authenticate(pamh, 0);
	printf("result: %s\n", pam_strerror(pamh, r));
	pam_end(pamh, r);
	return 0;
}
