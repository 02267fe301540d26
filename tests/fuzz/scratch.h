/* SPDX-License-Identifier: BSD-3-Clause */
/* A fuzz target's scratch folder in /dev/shm: PREFIX-PID, made on first use. A run that is
 * killed (a crash, a timeout, a signal) cannot remove its own, so each new run first removes
 * the folders of runs whose process is gone, with the files they held. */
#ifndef PWR_FUZZ_SCRATCH_H
#define PWR_FUZZ_SCRATCH_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void scratch_sweep(const char *prefix)
{
	size_t plen = strlen(prefix);
	DIR *shm = opendir("/dev/shm");
	struct dirent *e;

	if (!shm)
		return;
	while ((e = readdir(shm))) {
		char *end, path[300];
		long pid;
		DIR *d;
		struct dirent *f;

		if (strncmp(e->d_name, prefix, plen) || e->d_name[plen] != '-')
			continue;
		errno = 0;
		pid = strtol(e->d_name + plen + 1, &end, 10);
		if (errno || *end || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* not ours, or its run is still going */
		snprintf(path, sizeof(path), "/dev/shm/%s", e->d_name);
		if ((d = opendir(path))) {
			while ((f = readdir(d))) {
				char file[600];
				if (f->d_name[0] == '.')
					continue;
				snprintf(file, sizeof(file), "%s/%s", path, f->d_name);
				unlink(file);
			}
			closedir(d);
		}
		rmdir(path);
	}
	closedir(shm);
}

/* Make /dev/shm/PREFIX-PID (mode) into dir; abort() when it cannot be made. */
static void scratch_make(const char *prefix, mode_t mode, char *dir, size_t cap)
{
	scratch_sweep(prefix);
	snprintf(dir, cap, "/dev/shm/%s-%d", prefix, (int)getpid());
	if (mkdir(dir, mode) < 0)
		abort();
}

#endif
