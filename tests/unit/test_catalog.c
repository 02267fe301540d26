/* SPDX-License-Identifier: BSD-3-Clause */
/* Catalogs read by hand (catalog.h): the built ja and de catalogs answer, a language name finds
 * its catalog or none, a translated format with other conversions is not used, and every kind
 * of broken file is refused whole; the system's language from its files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "catalog.h"

#define OFFER_ONE \
	"If this account can be reset, a reset code has been sent to its recovery address. It " \
	"expires in %u minute."
#define OFFER_MANY \
	"If this account can be reset, a reset code has been sent to its recovery address. It " \
	"expires in %u minutes."

static char dir[] = "/tmp/test-catalog-XXXXXX";
static char why[512];

static const char *po_dir(void)
{
	const char *d = getenv("PWR_PO_DIR");

	assert_non_null(d);
	return d;
}

static void test_built_catalogs(void **state)
{
	struct catalog c;
	const char *ja;

	(void)state;
	assert_int_equal(catalog_open(&c, po_dir(), "ja", "pam_pwreset", why, sizeof(why)), 0);
	assert_string_equal(catalog_get(&c, "Reset code: "), "リセットコード: ");
	ja = catalog_nformat(&c, OFFER_ONE, OFFER_MANY, 10);
	assert_non_null(strstr(ja, "%u 分"));
	assert_ptr_equal(catalog_nformat(&c, OFFER_ONE, OFFER_MANY, 1), ja); /* one form */
	/* not in the catalog: the English, the very pointer */
	const char *unknown = "No such text";
	assert_ptr_equal(catalog_get(&c, unknown), unknown);
	assert_ptr_equal(catalog_get(&c, ""), (const char *)"");
	catalog_close(&c);
	assert_null(c.data);

	assert_int_equal(
		catalog_open(&c, po_dir(), "de_DE.UTF-8@euro", "pam_pwreset", why, sizeof(why)), 0);
	assert_non_null(strstr(catalog_nformat(&c, OFFER_ONE, OFFER_MANY, 1), "%u Minute gült"));
	assert_non_null(strstr(catalog_nformat(&c, OFFER_ONE, OFFER_MANY, 10), "%u Minuten"));
	assert_non_null(strstr(catalog_nformat(&c, OFFER_ONE, OFFER_MANY, 0), "%u Minuten"));
	catalog_close(&c);
}

static void test_languages(void **state)
{
	static const char *const english[] = {"", "C", "POSIX", "C.UTF-8", "en", "en_US.UTF-8",
		"../../../etc", "ja/../ja", "ja ", "..", ".", NULL};
	struct catalog c;

	(void)state;
	assert_int_equal(catalog_open(&c, po_dir(), "ja_JP.UTF-8", "pam_pwreset", why, 512), 0);
	catalog_close(&c);
	assert_int_equal(catalog_open(&c, po_dir(), "de_AT", "pam_pwreset", why, 512), 0);
	catalog_close(&c);
	for (int i = 0; english[i]; i++) {
		assert_int_equal(
			catalog_open(&c, po_dir(), english[i], "pam_pwreset", why, 512), -ENOENT);
		assert_null(c.data);
		assert_ptr_equal(catalog_get(&c, "Reset code: "), (const char *)"Reset code: ");
		assert_string_equal(catalog_nget(&c, "a %u", "b %u", 1), "a %u");
		assert_string_equal(catalog_nget(&c, "a %u", "b %u", 2), "b %u");
	}
	assert_false(catalog_lang_ok("ja_JP.UTF-8/x"));
	assert_true(catalog_lang_ok("sr_RS@latin"));
}

/* ---- catalogs written here, sound and broken ---- */

struct entry {
	const char *id; /* "" first: the header */
	size_t idlen; /* 0: strlen (a plural's id holds a NUL) */
	const char *str;
	size_t strlen;
};

static size_t len_of(const char *s, size_t n)
{
	return n ? n : strlen(s);
}

/* The .mo of e[0..n) at path, as msgfmt lays it out; its size. */
static size_t write_mo(const char *path, const struct entry *e, uint32_t n)
{
	unsigned char buf[8192] = {0};
	uint32_t head[7] = {0x950412de, 0, n, 28, 28 + 8 * n, 0, 28 + 16 * n};
	size_t pos = 28 + 16 * (size_t)n;
	FILE *f;

	memcpy(buf, head, sizeof(head));
	for (int table = 0; table < 2; table++)
		for (uint32_t i = 0; i < n; i++) {
			const char *s = table ? e[i].str : e[i].id;
			uint32_t pair[2] = {(uint32_t)len_of(s, table ? e[i].strlen : e[i].idlen),
				(uint32_t)pos};
			memcpy(buf + 28 + 8 * (table * n + i), pair, 8);
			memcpy(buf + pos, s, pair[0] + 1);
			pos += pair[0] + 1;
			assert_true(pos < sizeof(buf));
		}
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, pos, f), pos);
	fclose(f);
	return pos;
}

#define HEADER(plural) \
	"Content-Type: text/plain; charset=UTF-8\n" \
	"Plural-Forms: " plural "\n"

static char *path_of(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void test_formats(void **state)
{
	const struct entry e[] = {
		{"", 0, HEADER("nplurals=2; plural=n != 1;"), 0},
		{"%s has %u", 0, "%s hat %u", 0},
		{"%u left", 0, "%s übrig", 0}, /* another type: the program would read a pointer */
		{"%u min", 0, "%1$u Min", 0}, /* positional */
		{"%u one\0%u many", 14, "%u eins\0%u viele %n", 19}, /* a %n in one form */
		{"100%% of %s", 0, "%s zu 100%%", 0},
		{"plain", 0, "schlicht 50%", 0}, /* a lone % at the end */
		{"width %5u", 0, "Breite %u", 0},
	};
	struct catalog c;

	(void)state;
	write_mo(path_of("formats.mo"), e, sizeof(e) / sizeof(e[0]));
	assert_int_equal(catalog_read(&c, path_of("formats.mo"), why, sizeof(why)), 0);
	assert_string_equal(catalog_format(&c, "%s has %u"), "%s hat %u");
	assert_string_equal(catalog_format(&c, "%u left"), "%u left");
	assert_string_equal(catalog_get(&c, "%u left"), "%s übrig"); /* not a format: as it is */
	assert_string_equal(catalog_format(&c, "%u min"), "%u min");
	assert_string_equal(catalog_nformat(&c, "%u one", "%u many", 1), "%u eins");
	assert_string_equal(catalog_nformat(&c, "%u one", "%u many", 5), "%u many");
	assert_string_equal(catalog_format(&c, "100%% of %s"), "%s zu 100%%");
	assert_string_equal(catalog_format(&c, "plain"), "plain");
	assert_string_equal(catalog_format(&c, "width %5u"), "width %5u");
	catalog_close(&c);
}

static void test_plural_rules(void **state)
{
	const struct entry e[] = {
		{"", 0,
			HEADER("nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && "
			       "n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"),
			0},
		{"%u file\0%u files", 16, "%u A\0%u B\0%u C", 14},
	};
	const unsigned long n[] = {1, 2, 5, 11, 21, 22, 25, 111, 112};
	const char *form[] = {
		"%u A", "%u B", "%u C", "%u C", "%u A", "%u B", "%u C", "%u C", "%u C"};
	struct catalog c;

	(void)state;
	write_mo(path_of("plural.mo"), e, 2);
	assert_int_equal(catalog_read(&c, path_of("plural.mo"), why, sizeof(why)), 0);
	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++)
		assert_string_equal(catalog_nformat(&c, "%u file", "%u files", n[i]), form[i]);
	catalog_close(&c);
}

static void test_broken_files(void **state)
{
	static const char *const headers[] = {
		"Content-Type: text/plain; charset=ISO-8859-1\n",
		"Plural-Forms: nplurals=2; plural=n != 1;\n", /* no charset */
		HEADER("nplurals=2; plural=n %;"),
		HEADER("nplurals=2; plural=n;"), /* n = 5 has no form */
		HEADER("nplurals=0; plural=0;"),
		HEADER("nplurals=9; plural=0;"),
		HEADER("nplurals=2; plural=n/0;"),
		HEADER("nplurals=2; plural=n != 1 junk;"),
		HEADER("nplurals=2;"),
		HEADER("nplurals=2; plural=(((((((((((((((((((((((((((((n)))))))))))))))))))))))))));"),
		HEADER("nplurals=2; plural=!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!n;"),
		HEADER("nplurals=2; plural=99999999999999999999;"),
		NULL,
	};
	const struct entry sound[] = {{"", 0, HEADER("nplurals=2; plural=n != 1;"), 0},
		{"a", 0, "A", 0}, {"b", 0, "B", 0}};
	const struct entry unsorted[] = {{"", 0, HEADER("nplurals=2; plural=n != 1;"), 0},
		{"b", 0, "B", 0}, {"a", 0, "A", 0}};
	const struct entry headless[] = {{"a", 0, "A", 0}, {"b", 0, "B", 0}};
	unsigned char file[8192];
	struct catalog c;
	size_t size;
	FILE *f;

	(void)state;
	for (int i = 0; headers[i]; i++) {
		struct entry e[] = {{"", 0, headers[i], 0}, {"a", 0, "A", 0}};
		write_mo(path_of("header.mo"), e, 2);
		assert_int_equal(catalog_read(&c, path_of("header.mo"), why, sizeof(why)), -EINVAL);
		assert_null(c.data);
	}
	write_mo(path_of("unsorted.mo"), unsorted, 3);
	assert_int_equal(catalog_read(&c, path_of("unsorted.mo"), why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not sorted"));
	write_mo(path_of("headless.mo"), headless, 2);
	assert_int_equal(catalog_read(&c, path_of("headless.mo"), why, sizeof(why)), -EINVAL);

	/* every prefix of a sound file, and every byte of its tables made large, is refused or
	 * read whole; never a read outside the file (ASan) */
	size = write_mo(path_of("sound.mo"), sound, 3);
	f = fopen(path_of("sound.mo"), "r");
	assert_int_equal(fread(file, 1, size, f), size);
	fclose(f);
	for (size_t cut = 0; cut < size; cut++) {
		f = fopen(path_of("cut.mo"), "w");
		fwrite(file, 1, cut, f);
		fclose(f);
		int r = catalog_read(&c, path_of("cut.mo"), why, sizeof(why));
		assert_true(r == -EINVAL);
		assert_null(c.data);
	}
	for (size_t at = 8; at < 28 + 16 * 3; at++) {
		unsigned char bad[8192];
		memcpy(bad, file, size);
		bad[at] ^= 0x80;
		f = fopen(path_of("bad.mo"), "w");
		fwrite(bad, 1, size, f);
		fclose(f);
		if (catalog_read(&c, path_of("bad.mo"), why, sizeof(why)) == 0) {
			(void)catalog_get(&c, "a");
			(void)catalog_nget(&c, "b", "bs", 3);
			catalog_close(&c);
		}
		assert_null(c.data);
	}
	/* the other byte order */
	for (size_t w = 0; w < 28 + 16 * 3; w += 4) {
		unsigned char t = file[w];
		file[w] = file[w + 3];
		file[w + 3] = t;
		t = file[w + 1];
		file[w + 1] = file[w + 2];
		file[w + 2] = t;
	}
	f = fopen(path_of("swapped.mo"), "w");
	fwrite(file, 1, size, f);
	fclose(f);
	assert_int_equal(catalog_read(&c, path_of("swapped.mo"), why, sizeof(why)), 0);
	assert_string_equal(catalog_get(&c, "b"), "B");
	catalog_close(&c);
	assert_int_equal(catalog_read(&c, dir, why, sizeof(why)), -EINVAL); /* a directory */
	assert_int_equal(catalog_read(&c, path_of("none.mo"), why, sizeof(why)), -ENOENT);
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_system_language(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"LANG=de_DE.UTF-8\n", "de_DE.UTF-8"},
		{"# comment\nexport LANG=\"ja_JP.UTF-8\"\n", "ja_JP.UTF-8"},
		{"LANG='de_AT'\nLC_MESSAGES=ja_JP.UTF-8\n", "ja_JP.UTF-8"},
		{"LANG=de_DE\nLC_MESSAGES=de_DE\nLC_ALL=ja\n", "ja"},
		{"LANG=de_DE\nLANG=ja_JP\n", "ja_JP"}, /* the last one, as a shell reads it */
		{"LANG=../../etc/x\n", ""}, {"LANG=C.UTF-8\n", "C.UTF-8"},
		{"LANGUAGE=de\n", "-"}, /* not a key read here: the next file */
	};
	char out[CATALOG_LANG_MAX + 1];

	(void)state;
	write_file("second", "LANG=de_CH.UTF-8\n");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char first[256], second[256];
		snprintf(first, sizeof(first), "%s", path_of("first"));
		snprintf(second, sizeof(second), "%s", path_of("second"));
		const char *const files[] = {first, second, NULL};
		write_file("first", cases[i].text);
		catalog_system_lang(files, out, sizeof(out));
		assert_string_equal(
			out, strcmp(cases[i].want, "-") ? cases[i].want : "de_CH.UTF-8");
	}
	const char *const none[] = {path_of("missing"), NULL};
	catalog_system_lang(none, out, sizeof(out));
	assert_string_equal(out, "");
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_built_catalogs),
		cmocka_unit_test(test_languages),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_plural_rules),
		cmocka_unit_test(test_broken_files),
		cmocka_unit_test(test_system_language),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
