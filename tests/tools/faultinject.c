/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An LD_PRELOAD library that makes one system call on the shadow files fail, for the fault
 * tests of the shadow writer. Only calls that touch /etc/shadow, a file beside it whose name
 * starts with "shadow" (the lock, the new file, the backup), or the /etc directory itself
 * count; every other call of the process passes through untouched.
 *
 *   PWRFAULT_OP     open | mkostemp | write | fsync | fchown | fchmod | rename | link
 *   PWRFAULT_NTH    which counted call of that kind fails (1 = the first)
 *   PWRFAULT_ERRNO  the errno it fails with (a number; EIO when unset)
 *   PWRFAULT_REPORT a file to which "OP NTH" is appended when the fault fires
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int counted;

static bool is_shadow_path(const char *p)
{
	return p && (!strcmp(p, "/etc") || !strcmp(p, "/etc/") || !strncmp(p, "/etc/shadow", 11));
}

static bool is_shadow_fd(int fd)
{
	char link[64], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	return is_shadow_path(target);
}

static char want[32], report[PATH_MAX];
static int nth, err = EIO;

/* Read the settings before main runs: the helper empties its environment early. */
__attribute__((constructor)) static void settings(void)
{
	const char *v;

	if ((v = getenv("PWRFAULT_OP")))
		snprintf(want, sizeof(want), "%s", v);
	if ((v = getenv("PWRFAULT_NTH")))
		nth = atoi(v);
	if ((v = getenv("PWRFAULT_ERRNO")))
		err = atoi(v);
	if ((v = getenv("PWRFAULT_REPORT")))
		snprintf(report, sizeof(report), "%s", v);
}

/* Whether this counted call of kind op is the one to fail; errno set when it is. */
static bool fire(const char *op)
{
	if (strcmp(want, op) != 0 || ++counted != nth)
		return false;
	if (*report) {
		int fd = open(report, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dprintf(fd, "%s %d\n", op, counted);
			close(fd);
		}
	}
	errno = err;
	return true;
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

typedef int open_fn(const char *, int, ...);
typedef int openat_fn(int, const char *, int, ...);
typedef int mkostemp_fn(char *, int);

/* The optional mode argument of open and openat. */
#define MODE_ARG(flags, last) \
	mode_t mode = 0; \
	if ((flags) & (O_CREAT | __O_TMPFILE)) { \
		va_list ap; \
		va_start(ap, last); \
		mode = va_arg(ap, mode_t); \
		va_end(ap); \
	}

int open(const char *path, int flags, ...)
{
	MODE_ARG(flags, flags)
	if (is_shadow_path(path) && fire("open"))
		return -1;
	return ((open_fn *)dlsym(RTLD_NEXT, "open"))(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	MODE_ARG(flags, flags)
	if (is_shadow_path(path) && fire("open"))
		return -1;
	return ((open_fn *)dlsym(RTLD_NEXT, "open64"))(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	MODE_ARG(flags, flags)
	if (is_shadow_path(path) && fire("open"))
		return -1;
	return ((openat_fn *)dlsym(RTLD_NEXT, "openat"))(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	MODE_ARG(flags, flags)
	if (is_shadow_path(path) && fire("open"))
		return -1;
	return ((openat_fn *)dlsym(RTLD_NEXT, "openat64"))(dirfd, path, flags, mode);
}

int mkostemp(char *template, int flags)
{
	if (is_shadow_path(template) && fire("mkostemp"))
		return -1;
	return ((mkostemp_fn *)dlsym(RTLD_NEXT, "mkostemp"))(template, flags);
}

int mkostemp64(char *template, int flags)
{
	if (is_shadow_path(template) && fire("mkostemp"))
		return -1;
	return ((mkostemp_fn *)dlsym(RTLD_NEXT, "mkostemp64"))(template, flags);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	if (is_shadow_fd(fd) && fire("write"))
		return -1;
	return REAL(write)(fd, buf, n);
}

int fsync(int fd)
{
	if (is_shadow_fd(fd) && fire("fsync"))
		return -1;
	return REAL(fsync)(fd);
}

int fchown(int fd, uid_t uid, gid_t gid)
{
	if (is_shadow_fd(fd) && fire("fchown"))
		return -1;
	return REAL(fchown)(fd, uid, gid);
}

int fchmod(int fd, mode_t mode)
{
	if (is_shadow_fd(fd) && fire("fchmod"))
		return -1;
	return REAL(fchmod)(fd, mode);
}

int rename(const char *from, const char *to)
{
	if ((is_shadow_path(from) || is_shadow_path(to)) && fire("rename"))
		return -1;
	return REAL(rename)(from, to);
}

int link(const char *from, const char *to)
{
	if ((is_shadow_path(from) || is_shadow_path(to)) && fire("link"))
		return -1;
	return REAL(link)(from, to);
}
