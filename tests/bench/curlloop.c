/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The anchor of the mail benchmark: a bare libcurl loop sending N copies of one message to
 * URL over one reused handle, as fast as it can. Prints the seconds it took.
 *   curlloop URL N MESSAGE_FILE
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct upload {
	const char *data;
	size_t len, pos;
};

static size_t read_cb(char *out, size_t size, size_t n, void *ctx)
{
	struct upload *u = ctx;
	size_t room = size * n, left = u->len - u->pos, k = left < room ? left : room;

	memcpy(out, u->data + u->pos, k);
	u->pos += k;
	return k;
}

int main(int argc, char **argv)
{
	static char msg[65536];
	struct timespec t0, t1;
	size_t len;
	long n;
	FILE *f;
	CURL *curl;

	if (argc != 4 || (n = strtol(argv[2], NULL, 10)) <= 0 || !(f = fopen(argv[3], "rb"))) {
		fprintf(stderr, "usage: curlloop URL N MESSAGE_FILE\n");
		return 2;
	}
	len = fread(msg, 1, sizeof(msg), f);
	fclose(f);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	curl = curl_easy_init();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		char to[64];
		struct upload up = {msg, len, 0};
		struct curl_slist *rcpt;

		snprintf(to, sizeof(to), "anchor%ld@example.org", i);
		rcpt = curl_slist_append(NULL, to);
		curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
		curl_easy_setopt(curl, CURLOPT_MAIL_FROM, "<no-reply@example.org>");
		curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
		curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(curl, CURLOPT_READDATA, &up);
		curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
		if (curl_easy_perform(curl) != CURLE_OK) {
			fprintf(stderr, "curlloop: mail %ld failed\n", i);
			return 1;
		}
		curl_slist_free_all(rcpt);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.6f\n", (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	return 0;
}
