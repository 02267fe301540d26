/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dirclient PROGRAM CONFIG REQUEST...: talk to pwreset-directory as the helper does. PROGRAM is
 * run on a socketpair (as the caller: run this as an unprivileged user); CONFIG is a file of
 * "key value" lines (urls, ca_file, bind_dn, password, base, filter, attr, lang_attr,
 * starttls 0|1, timeout, type 0|1|2: openldap, ad, auto) sent as DIR_CONFIG; then each REQUEST, one argument each:
 *   lookup:USER:UID  count:VALUE  passwd:DN:PASSWORD  lock:DN  unlock:DN  list  status
 *   config (the configuration again)  junk (a packet that is not a request)
 * Every answer is printed on one line: status=… and its fields. Exit 0, or 1 when the program
 * went away.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dirproto.h"

static const char *const status_word[] = {
	"ok", "not-found", "several", "unreachable", "refused", "failed"};

static char conf[8][DIR_PATH_MAX + 1];
static const char *const conf_keys[] = {
	"urls", "ca_file", "bind_dn", "password", "base", "filter", "attr", "lang_attr", NULL};
static uint32_t starttls, timeout_s = 5, type;

static void read_config(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[DIR_PATH_MAX + 64];

	if (!f) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');
		line[strcspn(line, "\n")] = '\0';
		if (!sp)
			continue;
		*sp++ = '\0';
		for (int i = 0; conf_keys[i]; i++)
			if (!strcmp(line, conf_keys[i]))
				snprintf(conf[i], sizeof(conf[i]), "%s", sp);
		if (!strcmp(line, "starttls"))
			starttls = (uint32_t)atoi(sp);
		if (!strcmp(line, "timeout"))
			timeout_s = (uint32_t)atoi(sp);
		if (!strcmp(line, "type"))
			type = (uint32_t)atoi(sp);
	}
	fclose(f);
}

/* The request an argument names, in q (its strings point into arg, split in place). */
static int parse_request(char *arg, struct dirreq *q, uint32_t tag)
{
	char *a = strtok(arg, ":"), *b = strtok(NULL, ":"), *c = strtok(NULL, "");

	memset(q, 0, sizeof(*q));
	q->tag = tag;
	if (!strcmp(a, "config")) {
		*q = (struct dirreq){.tag = tag,
			.op = DIR_CONFIG,
			.starttls = starttls,
			.timeout = timeout_s,
			.type = type,
			.urls = conf[0],
			.ca_file = conf[1],
			.bind_dn = conf[2],
			.password = conf[3],
			.base = conf[4],
			.filter = conf[5],
			.attr = conf[6],
			.lang_attr = conf[7]};
	} else if (!strcmp(a, "lookup") && b && c) {
		q->op = DIR_LOOKUP;
		q->user = b;
		q->uid = (uint32_t)strtoul(c, NULL, 10);
	} else if (!strcmp(a, "count") && b) {
		q->op = DIR_COUNT;
		q->value = b;
	} else if (!strcmp(a, "passwd") && b && c) {
		q->op = DIR_PASSWD;
		q->dn = b;
		q->password = c;
	} else if ((!strcmp(a, "lock") || !strcmp(a, "unlock")) && b) {
		q->op = !strcmp(a, "lock") ? DIR_LOCK : DIR_UNLOCK;
		q->dn = b;
	} else if (!strcmp(a, "list")) {
		q->op = DIR_LIST;
	} else if (!strcmp(a, "status")) {
		q->op = DIR_STATUS;
	} else {
		return -1;
	}
	return 0;
}

/* Answers to one request, printed, until the last one. 0, or -1 when the program left. */
static int read_answers(int fd)
{
	static unsigned char buf[DIRANS_PACKET_MAX];
	static struct dirans a;

	do {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0 || dirproto_ans_decode(buf, (size_t)n, &a) < 0) {
			printf("gone\n");
			return -1;
		}
		printf("status=%s tag=%u more=%u uid=%u count=%u flags=%u dn=%s user=%s address=%s "
		       "language=%s binding=%s text=%s\n",
			status_word[a.status], a.tag, a.more, a.uid, a.count, a.flags, a.dn, a.user,
			a.address, a.language, a.binding, a.text);
	} while (a.more);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static unsigned char buf[DIRREQ_PACKET_MAX];
	int sv[2];
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: dirclient PROGRAM CONFIG REQUEST...\n");
		return 2;
	}
	read_config(argv[2]);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return 1;
	if ((pid = fork()) == 0) {
		char *const env[] = {NULL};
		dup2(sv[1], 0);
		execle(argv[1], argv[1], (char *)NULL, env);
		_exit(127);
	}
	close(sv[1]);
	char cfg[] = "config";
	struct dirreq q;
	long n;
	parse_request(cfg, &q, 0);
	n = dirproto_req_encode(&q, buf, sizeof(buf));
	if (n < 0 || send(sv[0], buf, (size_t)n, 0) != n || read_answers(sv[0]) < 0)
		return 1;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "junk")) {
			n = send(sv[0], "junk", 4, 0);
		} else {
			if (parse_request(argv[i], &q, (uint32_t)(i - 2)) < 0) {
				fprintf(stderr, "dirclient: '%s' is not a request\n", argv[i]);
				return 2;
			}
			n = dirproto_req_encode(&q, buf, sizeof(buf));
			if (n < 0 || send(sv[0], buf, (size_t)n, 0) != n)
				return 1;
		}
		if (read_answers(sv[0]) < 0)
			return 1;
	}
	close(sv[0]);
	waitpid(pid, NULL, 0);
	return 0;
}
