/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A gettext catalog read and looked up by hand (catalog.h). The .mo format: a header of 32-bit
 * words (magic, revision, count, offset of the originals' table, offset of the translations'
 * table, hash table size and offset), then each table holds (length, offset) pairs of strings
 * that end with a NUL; the originals are sorted (msgfmt sorts them), so a lookup is a binary
 * search. The translation of "" is the header, whose Content-Type and Plural-Forms are read.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"

#define MO_MAGIC 0x950412deu
#define MO_MAGIC_SWAPPED 0xde120495u
#define PLURAL_DEPTH 24 /* nesting of a Plural-Forms expression */
#define NPLURALS_MAX 6

static uint32_t word(const struct catalog *c, size_t off)
{
	uint32_t w;

	memcpy(&w, c->data + off, 4);
	return c->swapped ? __builtin_bswap32(w) : w;
}

/* String i of the table at tab: its bytes, its length in *len (without the NUL). */
static const char *string_at(const struct catalog *c, uint32_t tab, uint32_t i, size_t *len)
{
	*len = word(c, (size_t)tab + (size_t)i * 8);
	return c->data + word(c, (size_t)tab + (size_t)i * 8 + 4);
}

/* Every (length, offset) of the table at tab inside the file, each string NUL-ended there. */
static int table_ok(const struct catalog *c, uint32_t tab)
{
	if (tab % 4 || tab > c->size || (c->size - tab) / 8 < c->n)
		return 0;
	for (uint32_t i = 0; i < c->n; i++) {
		size_t len = word(c, (size_t)tab + (size_t)i * 8);
		size_t off = word(c, (size_t)tab + (size_t)i * 8 + 4);
		if (off >= c->size || len >= c->size - off || c->data[off + len] != '\0')
			return 0;
	}
	return 1;
}

/* ---- Plural-Forms: a C expression in n (gettext's grammar), evaluated as it is parsed ---- */

struct expr {
	const char *p;
	unsigned long n;
	int depth;
	int bad;
};

static unsigned long cond(struct expr *e);

static void skip_space(struct expr *e)
{
	while (*e->p == ' ' || *e->p == '\t' || *e->p == '\n')
		e->p++;
}

/* Whether the next token is tok (then it is taken). */
static int take(struct expr *e, const char *tok)
{
	size_t len = strlen(tok);

	skip_space(e);
	if (strncmp(e->p, tok, len) != 0)
		return 0;
	/* "<" is not the start of "<=", "!" not of "!=", "=" never stands alone */
	if (len == 1 && strchr("<>!", *tok) && e->p[1] == '=')
		return 0;
	e->p += len;
	return 1;
}

static unsigned long primary(struct expr *e)
{
	unsigned long v = 0;

	skip_space(e);
	if (++e->depth > PLURAL_DEPTH) {
		e->bad = 1;
		return 0;
	}
	if (take(e, "!")) {
		v = !primary(e);
	} else if (take(e, "(")) {
		v = cond(e);
		if (!take(e, ")"))
			e->bad = 1;
	} else if (*e->p == 'n') {
		e->p++;
		v = e->n;
	} else if (isdigit((unsigned char)*e->p)) {
		while (isdigit((unsigned char)*e->p) && v < 1000000000ul)
			v = v * 10 + (unsigned long)(*e->p++ - '0');
		if (isdigit((unsigned char)*e->p))
			e->bad = 1;
	} else {
		e->bad = 1;
	}
	e->depth--;
	return v;
}

static unsigned long mul(struct expr *e)
{
	unsigned long v = primary(e);

	while (!e->bad) {
		if (take(e, "*")) {
			v *= primary(e);
		} else if (take(e, "/") || take(e, "%")) {
			char op = e->p[-1];
			unsigned long r = primary(e);
			if (r == 0) {
				e->bad = 1;
				return 0;
			}
			v = op == '/' ? v / r : v % r;
		} else {
			break;
		}
	}
	return v;
}

static unsigned long add(struct expr *e)
{
	unsigned long v = mul(e);

	while (!e->bad) {
		if (take(e, "+"))
			v += mul(e);
		else if (take(e, "-"))
			v -= mul(e);
		else
			break;
	}
	return v;
}

static unsigned long rel(struct expr *e)
{
	unsigned long v = add(e);

	while (!e->bad) {
		if (take(e, "<="))
			v = v <= add(e);
		else if (take(e, ">="))
			v = v >= add(e);
		else if (take(e, "<"))
			v = v < add(e);
		else if (take(e, ">"))
			v = v > add(e);
		else
			break;
	}
	return v;
}

static unsigned long equality(struct expr *e)
{
	unsigned long v = rel(e);

	while (!e->bad) {
		if (take(e, "=="))
			v = v == rel(e);
		else if (take(e, "!="))
			v = v != rel(e);
		else
			break;
	}
	return v;
}

/* && and || evaluate both sides: the expression has no side effects, and parsing needs it */
static unsigned long and_(struct expr *e)
{
	unsigned long v = equality(e);

	while (!e->bad && take(e, "&&")) {
		unsigned long r = equality(e);
		v = v && r;
	}
	return v;
}

static unsigned long or_(struct expr *e)
{
	unsigned long v = and_(e);

	while (!e->bad && take(e, "||")) {
		unsigned long r = and_(e);
		v = v || r;
	}
	return v;
}

static unsigned long cond(struct expr *e)
{
	unsigned long v = or_(e), a, b;

	if (e->bad || !take(e, "?"))
		return v;
	if (++e->depth > PLURAL_DEPTH) {
		e->bad = 1;
		return 0;
	}
	a = cond(e);
	if (!take(e, ":"))
		e->bad = 1;
	b = cond(e);
	e->depth--;
	return v ? a : b;
}

/* The form for n: expr evaluated, or -1 when it is not a sound expression. */
static long plural_eval(const char *expr, unsigned long n)
{
	struct expr e = {expr, n, 0, 0};
	unsigned long v = cond(&e);

	skip_space(&e);
	if (e.bad || *e.p)
		return -1;
	return v > 1000 ? 1000 : (long)v;
}

/* ---- the header ---- */

/* The value of field (e.g. "Plural-Forms:") in the header, up to its newline, in out. */
static int header_field(const char *header, const char *field, char *out, size_t outlen)
{
	const char *p = header, *end;

	while (p && *p) {
		if (strncasecmp(p, field, strlen(field)) == 0) {
			p += strlen(field);
			while (*p == ' ')
				p++;
			end = strchr(p, '\n');
			if (!end)
				end = p + strlen(p);
			if ((size_t)(end - p) >= outlen)
				return -1;
			memcpy(out, p, (size_t)(end - p));
			out[end - p] = '\0';
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

/* Content-Type says UTF-8; Plural-Forms, if there, is "nplurals=N; plural=EXPR;" with a sound
 * EXPR that gives a form below N for every n tried. 0, or -1 with why. */
static int read_header(struct catalog *c, const char *header, char *why, size_t whylen)
{
	char value[256], *charset, *np, *pl, *semi;

	if (header_field(header, "Content-Type:", value, sizeof(value)) < 0 ||
		!(charset = strstr(value, "charset=")) ||
		strncasecmp(charset + 8, "UTF-8", 5) != 0) {
		snprintf(why, whylen, "its charset is not UTF-8");
		return -1;
	}
	c->nplurals = 2;
	if (header_field(header, "Plural-Forms:", value, sizeof(value)) < 0)
		return 0; /* English's rule */
	/* "plural=" is not found inside "nplurals=" (an 's' comes before its '=') */
	if (!(np = strstr(value, "nplurals=")) || !(pl = strstr(value, "plural="))) {
		snprintf(why, whylen, "its Plural-Forms is not \"nplurals=N; plural=EXPR;\"");
		return -1;
	}
	c->nplurals = (unsigned)strtoul(np + 9, NULL, 10);
	if (c->nplurals < 1 || c->nplurals > NPLURALS_MAX) {
		snprintf(why, whylen, "its Plural-Forms' nplurals is not 1 to %d", NPLURALS_MAX);
		return -1;
	}
	snprintf(c->plural, sizeof(c->plural), "%s", pl + 7);
	if ((semi = strchr(c->plural, ';')))
		*semi = '\0';
	/* the languages' rules look at n % 10 and n % 100: n up to 199 tries every case (a form
	 * out of range for a larger n is still caught at each lookup); 1000 cost 0.1 ms a login */
	for (unsigned long n = 0; n < 200; n++) {
		long form = plural_eval(c->plural, n);
		if (form < 0 || (unsigned long)form >= c->nplurals) {
			snprintf(why, whylen,
				"its Plural-Forms expression \"%.60s\" gives %s for n = %lu",
				c->plural, form < 0 ? "nothing" : "a form it does not have", n);
			return -1;
		}
	}
	return 0;
}

/* ---- reading ---- */

int catalog_lang_ok(const char *lang)
{
	size_t len = strlen(lang);

	if (len == 0 || len > CATALOG_LANG_MAX || !strcmp(lang, ".") || !strcmp(lang, ".."))
		return 0;
	return strspn(lang, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.@") ==
	       len;
}

static void fail(struct catalog *c)
{
	free(c->data);
	memset(c, 0, sizeof(*c));
}

int catalog_take(struct catalog *c, char *data, size_t size, char *why, size_t whylen)
{
	size_t hlen;
	const char *problem = NULL;

	memset(c, 0, sizeof(*c));
	c->data = data;
	c->size = size;
	if (!data)
		return -ENOMEM;
	data[size] = '\0';
	if (size < 28 || size > CATALOG_FILE_MAX) {
		problem = "not a catalog (28 bytes to 1 MiB)";
		goto bad;
	}
	c->swapped = word(c, 0) == MO_MAGIC_SWAPPED;
	if (word(c, 0) != MO_MAGIC || (word(c, 4) >> 16) != 0) {
		problem = "not a gettext catalog of revision 0";
		goto bad;
	}
	c->n = word(c, 8);
	c->orig = word(c, 12);
	c->trans = word(c, 16);
	if (!table_ok(c, c->orig) || !table_ok(c, c->trans)) {
		problem = "a string table reaches outside the file";
		goto bad;
	}
	for (uint32_t i = 1; i < c->n; i++) {
		size_t a, b;
		if (strcmp(string_at(c, c->orig, i - 1, &a), string_at(c, c->orig, i, &b)) >= 0) {
			problem = "its messages are not sorted";
			goto bad;
		}
	}
	if (c->n == 0 || *string_at(c, c->orig, 0, &hlen) != '\0') {
		problem = "it has no header";
		goto bad;
	}
	if (read_header(c, string_at(c, c->trans, 0, &hlen), why, whylen) == 0)
		return 0;
	fail(c);
	return -EINVAL;
bad:
	snprintf(why, whylen, "%s", problem);
	fail(c);
	return -EINVAL;
}

int catalog_read(struct catalog *c, const char *path, char *why, size_t whylen)
{
	struct stat st;
	size_t got = 0;
	char *data, what[256];
	int fd, r;

	memset(c, 0, sizeof(*c));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)CATALOG_FILE_MAX) {
		close(fd);
		snprintf(why, whylen, "%s: not a catalog (a regular file of 28 bytes to 1 MiB)",
			path);
		return -EINVAL;
	}
	data = malloc((size_t)st.st_size + 1);
	while (data && got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n <= 0 && !(n < 0 && errno == EINTR))
			break;
		got += n > 0 ? (size_t)n : 0;
	}
	close(fd);
	if (!data || got != (size_t)st.st_size) {
		free(data);
		snprintf(why, whylen, "%s: cannot be read", path);
		return -EIO;
	}
	if ((r = catalog_take(c, data, got, what, sizeof(what))) < 0)
		snprintf(why, whylen, "%s: %s", path, what);
	return r;
}

int catalog_variants(const char *lang, char out[CATALOG_VARIANTS][CATALOG_LANG_MAX + 1])
{
	char base[CATALOG_LANG_MAX + 1],
		mod[CATALOG_LANG_MAX + 1] = "", tries[CATALOG_VARIANTS][2 * CATALOG_LANG_MAX + 2];
	size_t ll;
	int n = 0;

	if (!catalog_lang_ok(lang) || !strcmp(lang, "C") || !strcmp(lang, "POSIX") ||
		!strncmp(lang, "C.", 2))
		return 0;
	snprintf(base, sizeof(base), "%s", lang);
	if (strchr(base, '@')) {
		snprintf(mod, sizeof(mod), "%s", strchr(base, '@'));
		*strchr(base, '@') = '\0';
	}
	if (strchr(base, '.'))
		*strchr(base, '.') = '\0';
	ll = strcspn(base, "_");
	snprintf(tries[0], sizeof(tries[0]), "%s%s", base, mod);
	snprintf(tries[1], sizeof(tries[1]), "%s", base);
	snprintf(tries[2], sizeof(tries[2]), "%.*s%s", (int)ll, base, mod);
	snprintf(tries[3], sizeof(tries[3]), "%.*s", (int)ll, base);
	for (int i = 0; i < CATALOG_VARIANTS; i++) {
		bool seen = !tries[i][0] || strlen(tries[i]) > CATALOG_LANG_MAX;
		for (int k = 0; k < n && !seen; k++)
			seen = !strcmp(out[k], tries[i]);
		if (!seen)
			memcpy(out[n++], tries[i], strlen(tries[i]) + 1);
	}
	return n;
}

int catalog_open(struct catalog *c, const char *dir, const char *lang, const char *domain,
	char *why, size_t whylen)
{
	char tries[CATALOG_VARIANTS][CATALOG_LANG_MAX + 1], path[4096];
	int n = catalog_variants(lang, tries), r = -ENOENT;

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < n && r == -ENOENT; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s/LC_MESSAGES/%s.mo", dir, tries[i],
			    domain) >= sizeof(path))
			return -ENAMETOOLONG;
		r = catalog_read(c, path, why, whylen);
	}
	return r;
}

/* ---- lookups ---- */

/* The index of msgid among the originals, or -1. */
static long find(const struct catalog *c, const char *msgid)
{
	uint32_t lo = 0, hi = c->data ? c->n : 0;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		size_t len;
		int cmp = strcmp(msgid, string_at(c, c->orig, mid, &len));
		if (cmp == 0)
			return mid;
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

const char *catalog_get(const struct catalog *c, const char *msgid)
{
	long i = *msgid ? find(c, msgid) : -1;
	size_t len;
	const char *t;

	if (i < 0)
		return msgid;
	t = string_at(c, c->trans, (uint32_t)i, &len);
	return len ? t : msgid; /* an empty translation is an untranslated one */
}

const char *catalog_nget(
	const struct catalog *c, const char *msgid, const char *plural, unsigned long n)
{
	long i = find(c, msgid), form;
	const char *t, *end;
	size_t len;

	if (i < 0 || (form = c->plural[0] ? plural_eval(c->plural, n) : n != 1) < 0)
		return n == 1 ? msgid : plural;
	/* the forms one after another, each NUL-ended, within the string's length */
	t = string_at(c, c->trans, (uint32_t)i, &len);
	end = t + len;
	for (long k = 0; k < form && t < end; k++)
		t += strlen(t) + 1;
	if (t >= end || !*t)
		return n == 1 ? msgid : plural;
	return t;
}

/* The next conversion of a printf format after *p ("%%" skipped): its letter, with what sits
 * between '%' and it (flags, width, precision, length) in spec; 0 at the end. */
static char next_conversion(const char **p, char *spec, size_t speclen)
{
	const char *s = *p;

	while ((s = strchr(s, '%'))) {
		size_t k = strspn(s + 1, "#0- +'0123456789.*hlLqjzt");
		if (s[1 + k] == '%' && k == 0) {
			s += 2;
			continue;
		}
		if (!s[1 + k] || k >= speclen)
			return '?';
		memcpy(spec, s + 1, k);
		spec[k] = '\0';
		*p = s + 2 + k;
		return s[1 + k];
	}
	return 0;
}

/* Whether t takes the conversions of msgid, with the same flags, in the same order (so no
 * positional "%1$s": its '$' is taken for a conversion that msgid does not have). */
static int same_conversions(const char *msgid, const char *t)
{
	char a[16], b[16];
	const char *p = msgid, *q = t;

	for (;;) {
		char x = next_conversion(&p, a, sizeof(a)), y = next_conversion(&q, b, sizeof(b));
		if (x != y || x == '?')
			return 0;
		if (x == 0)
			return 1;
		if (strcmp(a, b) != 0)
			return 0;
	}
}

const char *catalog_format(const struct catalog *c, const char *msgid)
{
	const char *t = catalog_get(c, msgid);

	return t == msgid || same_conversions(msgid, t) ? t : msgid;
}

const char *catalog_nformat(
	const struct catalog *c, const char *msgid, const char *plural, unsigned long n)
{
	const char *t = catalog_nget(c, msgid, plural, n);
	const char *english = n == 1 ? msgid : plural;

	if (t == msgid || t == plural || same_conversions(english, t))
		return t;
	return english;
}

void catalog_close(struct catalog *c)
{
	fail(c);
}

/* The value of key in one file of assignments, in out ("" when it is not there). */
static void assignment(FILE *f, const char *key, char *out, size_t outlen)
{
	char line[256];
	size_t klen = strlen(key);

	*out = '\0';
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t"), *end;
		if (!strncmp(p, "export ", 7))
			p += 7 + strspn(p + 7, " \t");
		if (strncmp(p, key, klen) != 0 || p[klen] != '=')
			continue;
		p += klen + 1;
		p[strcspn(p, "\r\n")] = '\0';
		if ((*p == '"' || *p == '\'') && (end = strrchr(p + 1, *p)) && end[1] == '\0') {
			*end = '\0';
			p++;
		}
		snprintf(out, outlen, "%s", p);
	}
}

const char *const catalog_system_files[] = {"/etc/default/locale", "/etc/locale.conf", NULL};

void catalog_system_lang(const char *const files[], char *out, size_t outlen)
{
	static const char *const keys[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
	char value[CATALOG_LANG_MAX + 2];

	*out = '\0';
	for (int i = 0; files[i]; i++) {
		FILE *f = fopen(files[i], "re");
		if (!f)
			continue;
		for (int k = 0; k < 3; k++) {
			assignment(f, keys[k], value, sizeof(value));
			if (*value)
				break;
		}
		fclose(f);
		if (*value) {
			if (catalog_lang_ok(value))
				snprintf(out, outlen, "%s", value);
			return;
		}
	}
}
