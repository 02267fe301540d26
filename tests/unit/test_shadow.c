/* SPDX-License-Identifier: BSD-3-Clause */
/* The shadow writer on a fixture file: only the target line changes, byte for byte; owner,
 * mode and the backup; hostile names and values refused with the file untouched; the lock of
 * shadow-utils honoured and a stale one recovered; the field edits. (Whole-system runs, with
 * lckpwdf, pam_unix, faults and kills, are in the integration suite.) */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "shadow_edits.h"
#include "util.h"

static char dir[64], path[128], backup[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/pwr-shadow-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/shadow", dir);
	snprintf(backup, sizeof(backup), "%s/shadow-", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static char *slurp(const char *p, size_t *len)
{
	int fd = open(p, O_RDONLY);
	char *data = NULL;
	assert_true(fd >= 0);
	assert_int_equal(util_read_all(fd, 64 << 20, &data, len), 0);
	close(fd);
	return data;
}

static void put(const char *p, const char *data, size_t len, mode_t mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(util_write_all(fd, data, len), 0);
	fchmod(fd, mode);
	close(fd);
}

/* 1,000 lines: users, NIS compat lines, lines that look like junk, and no final newline. */
static char *fixture(size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	char *f = malloc(cap);
	for (int i = 0; i < 1000; i++) {
		int w;
		switch (i % 10) {
		case 3:
			w = snprintf(f + n, cap - n, "+nisuser%d::::::::\n", i);
			break;
		case 5:
			w = snprintf(f + n, cap - n, "-@netgroup%d\n", i);
			break;
		case 7:
			w = snprintf(
				f + n, cap - n, "  # not a comment in shadow(5) %d ::: \t\n", i);
			break;
		case 8:
			w = snprintf(f + n, cap - n, "user%dx\n", i); /* no colon at all */
			break;
		default:
			w = snprintf(f + n, cap - n,
				"user%d:$y$j9T$salt%d$hash%d:19%03d:0:99999:7:::\n", i, i, i, i);
		}
		n += (size_t)w;
	}
	n--; /* no newline after the last line */
	f[n] = '\0';
	*len = n;
	return f;
}

static int refuse_edit(void *ctx, const char *old, char *out, size_t cap)
{
	(void)ctx;
	(void)old;
	(void)out;
	(void)cap;
	return -EACCES;
}

static int inject_edit(void *ctx, const char *old, char *out, size_t cap)
{
	(void)old;
	snprintf(out, cap, "%s", (const char *)ctx);
	return 0;
}

static void test_only_the_target_changes(void **state)
{
	size_t len, after_len, back_len;
	char *before = fixture(&len), *after, *back;
	struct shadow_set c = {"$y$j9T$NEW$newhash", 20000};
	struct stat st;
	(void)state;

	put(path, before, len, 0640);
	assert_int_equal(shadowfile_update(path, "user500", shadow_edit_set, &c), 0);
	after = slurp(path, &after_len);
	/* the same bytes before and after the target line */
	const char *old_line = strstr(before, "user500:");
	const char *new_line = strstr(after, "user500:");
	size_t prefix = (size_t)(old_line - before);
	assert_int_equal((size_t)(new_line - after), prefix);
	assert_memory_equal(before, after, prefix);
	assert_memory_equal(new_line, "user500:$y$j9T$NEW$newhash:20000:0:99999:7:::\n", 45);
	const char *old_rest = strchr(old_line, '\n'), *new_rest = strchr(new_line, '\n');
	assert_int_equal(len - (size_t)(old_rest - before), after_len - (size_t)(new_rest - after));
	assert_memory_equal(old_rest, new_rest, len - (size_t)(old_rest - before));
	assert_int_not_equal(after[after_len - 1], '\n'); /* still no final newline */
	/* owner and mode kept; the old content kept as shadow- */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, geteuid());
	back = slurp(backup, &back_len);
	assert_int_equal(back_len, len);
	assert_memory_equal(back, before, len);
	/* nothing else left in the directory */
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 2", dir);
	assert_int_equal(system(cmd), 0);
	free(before);
	free(after);
	free(back);
}

static void test_last_line_and_lock(void **state)
{
	size_t len, after_len;
	char *before = fixture(&len), *after;
	(void)state;

	put(path, before, len, 0600);
	/* the last line has no newline: it still has none after its edit */
	assert_int_equal(shadowfile_update(path, "user999", shadow_edit_lock, NULL), 0);
	after = slurp(path, &after_len);
	assert_int_equal(after_len, len + 1);
	assert_non_null(strstr(after, "user999:!$y$j9T$salt999$hash999:19999:0:99999:7:::"));
	assert_int_not_equal(after[after_len - 1], '\n');
	free(after);
	/* locking twice does not stack '!' */
	assert_int_equal(shadowfile_update(path, "user999", shadow_edit_lock, NULL), 0);
	after = slurp(path, &after_len);
	assert_int_equal(after_len, len + 1);
	free(after);
	free(before);
}

static void test_refusals_leave_the_file(void **state)
{
	static const char *bad_names[] = {
		"", "+nisuser3", "-@netgroup5", "us:er", "us\ner", "us\ter", "u\x7f"};
	static const char *bad_hashes[] = {"a:b", "a\nb", "a\rb", "\x1b[2J"};
	size_t len, after_len;
	char *before = fixture(&len), *after;
	(void)state;

	put(path, before, len, 0640);
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		struct shadow_set c = {"$y$ok", 1};
		assert_int_equal(
			shadowfile_update(path, bad_names[i], shadow_edit_set, &c), -EINVAL);
	}
	for (size_t i = 0; i < sizeof(bad_hashes) / sizeof(bad_hashes[0]); i++) {
		struct shadow_set c = {bad_hashes[i], 1};
		assert_int_equal(shadowfile_update(path, "user1", shadow_edit_set, &c), -EINVAL);
	}
	/* every control byte and ':' anywhere in a name or a value (NUL cannot reach here: the
	 * wire refuses a string with a NUL inside) */
	for (int b = 1; b < 0x80; b++) {
		char name[16], hash[16];
		struct shadow_set c = {hash, 1};

		if (b >= 0x20 && b != 0x7f && b != ':')
			continue;
		snprintf(name, sizeof(name), "us%cer1", b);
		snprintf(hash, sizeof(hash), "$y$%cx", b);
		assert_int_equal(shadowfile_update(path, name, shadow_edit_lock, NULL), -EINVAL);
		assert_int_equal(shadowfile_update(path, "user1", shadow_edit_set, &c), -EINVAL);
		snprintf(name, sizeof(name), "user1%c", b); /* a prefix of a real entry, too */
		assert_int_equal(shadowfile_update(path, name, shadow_edit_lock, NULL), -EINVAL);
	}
	assert_false(shadowfile_name_ok("+"));
	assert_false(shadowfile_name_ok("-user1"));
	assert_true(shadowfile_name_ok("user1-x+y"));
	/* an edit that would add a line, or rename the entry, is refused */
	assert_int_equal(shadowfile_update(path, "user1", inject_edit,
				 "user1:x:1:0:99999:7:::\nevil::0:::::"),
		-EINVAL);
	assert_int_equal(
		shadowfile_update(path, "user1", inject_edit, "root::1:0:99999:7:::"), -EINVAL);
	/* no such user; an edit that says no */
	assert_int_equal(shadowfile_update(path, "nosuchuser", shadow_edit_lock, NULL), -ENOENT);
	assert_int_equal(shadowfile_update(path, "user1", refuse_edit, NULL), -EACCES);
	/* "user1" must not match "user10", nor "user1x" */
	assert_int_equal(shadowfile_update(path, "user98", shadow_edit_lock, NULL), -ENOENT);
	after = slurp(path, &after_len);
	assert_int_equal(after_len, len);
	assert_memory_equal(after, before, len);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | grep -c pwreset) -eq 0", dir);
	assert_int_equal(system(cmd), 0);
	free(after);
	free(before);
}

static void test_lock_of_shadow_utils(void **state)
{
	char lock[160], pid[32];
	(void)state;

	put(path, "a:x:1::::::\n", 12, 0600);
	snprintf(lock, sizeof(lock), "%s.lock", path);
	/* held by a live process (us): refused after waiting */
	snprintf(pid, sizeof(pid), "%ld", (long)getppid());
	put(lock, pid, strlen(pid), 0600);
	assert_int_equal(shadowfile_update(path, "a", shadow_edit_lock, NULL), -EBUSY);
	/* held by a process that is gone: stale, taken over */
	put(lock, "2147483646", 10, 0600);
	assert_int_equal(shadowfile_update(path, "a", shadow_edit_lock, NULL), 0);
	assert_int_equal(access(lock, F_OK), -1);
}

static void test_leftovers_swept(void **state)
{
	/* what a killed writer leaves behind: its temporary file, a restore file, the pid file of
	 * its lock (holding its pid) */
	static const char *stale[][2] = {{"shadow.pwreset.a1B2c3", "x"},
		{"shadow.pwreset.restore", "x"}, {"shadow.pwreset-lock.2147483646", "2147483646"},
		{"shadow.pwreset-lock.2147483644", ""}}; /* killed before it wrote its pid */
	/* names that are not of the pattern, and pattern names that are not provably ours */
	static const char *kept[][2] = {{"shadow.pwreset.toolongname", "x"}, {"shadow.lockx", "x"},
		{"other.pwreset.abcdef", "x"}, {"shadow.pwreset.ab-d.f", "x"},
		{"shadow.pwreset-lock.2147483645", "somebody's file"}};
	const size_t nstale = sizeof(stale) / sizeof(stale[0]),
		     nkept = sizeof(kept) / sizeof(kept[0]);
	char p[192], q[192], pid[32];
	(void)state;

	put(path, "a:x:1::::::\n", 12, 0600);
	for (size_t i = 0; i < nstale; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, stale[i][0]);
		put(p, stale[i][1], strlen(stale[i][1]), 0600);
	}
	for (size_t i = 0; i < nkept; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, kept[i][0]);
		put(p, kept[i][1], strlen(kept[i][1]), 0600);
	}
	/* a symlink and a file with a second link, both with a name of the pattern */
	snprintf(p, sizeof(p), "%s/shadow.pwreset.SyMlnk", dir);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	snprintf(p, sizeof(p), "%s/shadow.pwreset.Linked", dir);
	put(p, "x", 1, 0600);
	snprintf(q, sizeof(q), "%s/elsewhere", dir);
	assert_int_equal(link(p, q), 0);
	/* the pid file of a locker that is alive (our parent) stays */
	snprintf(pid, sizeof(pid), "%ld", (long)getppid());
	snprintf(p, sizeof(p), "%s/shadow.pwreset-lock.%s", dir, pid);
	put(p, pid, strlen(pid), 0600);

	assert_int_equal(shadowfile_update(path, "a", shadow_edit_lock, NULL), 0);
	for (size_t i = 0; i < nstale; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, stale[i][0]);
		assert_int_equal(access(p, F_OK), -1);
	}
	for (size_t i = 0; i < nkept; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, kept[i][0]);
		assert_int_equal(access(p, F_OK), 0);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/shadow.pwreset.SyMlnk", dir);
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/shadow.pwreset.Linked", dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(unlink(q), 0);
	snprintf(p, sizeof(p), "%s/shadow.pwreset-lock.%s", dir, pid);
	assert_int_equal(access(p, F_OK), 0);
	unlink(p);
}

/* The file's extended attributes (its SELinux label, its ACLs) stay with it. */
static void test_xattrs_kept(void **state)
{
	char value[64] = "";
	(void)state;

	put(path, "a:x:1::::::\n", 12, 0600);
	if (setxattr(path, "user.pwreset-test", "label-1", 7, 0) < 0 ||
		setxattr(path, "trusted.pwreset-test", "label-2", 7, 0) < 0) {
		skip(); /* a file system without them: nothing to keep */
	}
	assert_int_equal(shadowfile_update(path, "a", shadow_edit_lock, NULL), 0);
	assert_int_equal(getxattr(path, "user.pwreset-test", value, sizeof(value)), 7);
	assert_memory_equal(value, "label-1", 7);
	assert_int_equal(getxattr(path, "trusted.pwreset-test", value, sizeof(value)), 7);
	assert_memory_equal(value, "label-2", 7);
}

static void test_edits(void **state)
{
	char out[SHADOW_LINE_MAX], f2[256];
	(void)state;

	assert_int_equal(shadowfile_set_password("bob:!$6$old:17000:0:99999:7:::", "$y$new", 20100,
				 out, sizeof(out)),
		0);
	assert_string_equal(out, "bob:$y$new:20100:0:99999:7:::");
	assert_int_equal(
		shadowfile_set_password("bob:*:17000", "$y$new", 20100, out, sizeof(out)), 0);
	assert_string_equal(out, "bob:$y$new:20100");
	assert_int_equal(shadowfile_set_password("bob", "$y$new", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(shadowfile_lock_password("bob::17000:::::", out, sizeof(out)), 0);
	assert_string_equal(out, "bob:!:17000:::::");
	assert_int_equal(shadowfile_field("bob:!$6$h:1:::::", 1, f2, sizeof(f2)), 0);
	assert_string_equal(f2, "!$6$h");
	assert_true(shadowfile_name_ok("alice"));
	assert_false(shadowfile_name_ok("+alice"));
	assert_false(shadowfile_value_ok("a:b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_only_the_target_changes),
		cmocka_unit_test(test_last_line_and_lock),
		cmocka_unit_test(test_refusals_leave_the_file),
		cmocka_unit_test(test_lock_of_shadow_utils),
		cmocka_unit_test(test_leftovers_swept),
		cmocka_unit_test(test_xattrs_kept),
		cmocka_unit_test(test_edits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
