/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "catalog.h"
#include "config.h"
#include "language.h"
#include "mailaddr.h"
#include "mailproto.h"
#include "message.h"
#include "util.h"

/* A growing buffer; the first failure sticks. Wiped when freed: it may hold a code. */
struct buf {
	char *p;
	size_t n, cap;
	int err;
};

static void put(struct buf *b, const char *s, size_t len)
{
	if (b->err)
		return;
	if (b->n + len + 1 > MAILJOB_DATA_MAX) {
		b->err = -EFBIG;
		return;
	}
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *p;
		while (cap < b->n + len + 1)
			cap *= 2;
		p = malloc(cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		if (b->p) {
			memcpy(p, b->p, b->n);
			util_free_wiped(b->p, b->cap);
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void buf_free(struct buf *b)
{
	util_free_wiped(b->p, b->cap);
	memset(b, 0, sizeof(*b));
}

const char *message_template_name(uint32_t kind)
{
	switch (kind) {
	case PWR_MAIL_CODE:
		return "code.txt";
	case PWR_MAIL_ADMIN:
		return "admin-reset.txt";
	case PWR_MAIL_CHANGED:
		return "changed.txt";
	case PWR_MAIL_ADDRESS_CONFIRM:
		return "address-confirm.txt";
	case PWR_MAIL_ADDRESS_REPLACED:
	case PWR_MAIL_ADDRESS_REMOVED:
		return "address-changed.txt";
	default:
		return NULL;
	}
}

/* {change}, in address-changed.txt: what happened to the old address, in the mail's words. */
static const char *change_word(const struct catalog *words, uint32_t kind)
{
	/* TRANSLATORS: {change} of the template address-changed.txt in your language: the
	 * recovery address "was removed" / "was replaced" (as the sentence there needs it) */
	return kind == PWR_MAIL_ADDRESS_REMOVED ? catalog_get(words, N_("removed"))
						: catalog_get(words, N_("replaced"));
}

static bool ascii_printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* RFC 2047 encoded words ("=?UTF-8?B?...?="), cut between UTF-8 characters, at most 75 bytes
 * each, joined by a fold. */
static void put_encoded(struct buf *b, const char *s, size_t len)
{
	char b64[80];
	size_t pos = 0;

	while (pos < len) {
		size_t k = len - pos < 39 ? len - pos : 39; /* 52 base64 bytes: a line within 78 */
		/* do not split a UTF-8 sequence: back up to a byte that starts a character */
		while (pos + k < len && k > 1 && ((unsigned char)s[pos + k] & 0xc0) == 0x80)
			k--;
		sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)s + pos, k,
			sodium_base64_VARIANT_ORIGINAL);
		if (pos)
			puts_(b, "\r\n ");
		puts_(b, "=?UTF-8?B?");
		puts_(b, b64);
		puts_(b, "?=");
		pos += k;
	}
}

int message_from(const char *mail_from, char *header, size_t hcap, char *addr, size_t acap,
	char *why, size_t whylen)
{
	char name[MAILADDR_NAME_MAX + 1], a[PWR_ADDR_MAX + 1];
	struct buf b = {0};
	int r;

	if ((r = mailaddr_sender(mail_from, name, sizeof(name), a, sizeof(a), why, whylen)) < 0)
		return r;
	if (*name && ascii_printable(name, strlen(name)) && !strpbrk(name, "\"\\")) {
		puts_(&b, "\"");
		puts_(&b, name);
		puts_(&b, "\" ");
	} else if (*name) {
		put_encoded(&b, name, strlen(name));
		puts_(&b, " ");
	}
	if (*name)
		puts_(&b, "<");
	puts_(&b, a);
	if (*name)
		puts_(&b, ">");
	r = b.err ? b.err : util_copy(header, hcap, b.p);
	if (r == 0)
		r = util_copy(addr, acap, a);
	if (r < 0)
		snprintf(why, whylen, "mail_from is too long");
	buf_free(&b);
	return r;
}

static void local_time(uint64_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M %Z", &tm))
		snprintf(out, cap, "%" PRIu64, t);
}

/* Expand the placeholders of text[0..len) into b; unknown {words} stay as they are. */
static void expand(struct buf *b, const char *text, size_t len, const char *const vars[][2])
{
	size_t i = 0;

	while (i < len) {
		const char *open = memchr(text + i, '{', len - i);
		bool done = false;

		if (!open) {
			put(b, text + i, len - i);
			return;
		}
		put(b, text + i, (size_t)(open - text) - i);
		i = (size_t)(open - text);
		for (size_t v = 0; vars[v][0]; v++) {
			size_t n = strlen(vars[v][0]);
			if (len - i >= n && !memcmp(text + i, vars[v][0], n)) {
				puts_(b, vars[v][1]);
				i += n;
				done = true;
				break;
			}
		}
		if (!done)
			put(b, text + i++, 1);
	}
}

/* Read the template at path: a regular file of root's that nobody else may write (of the
 * helper's user, which is root but in the unit tests). */
static int read_template_at(const char *path, char **text, size_t *len, char *why, size_t whylen)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		snprintf(why, whylen, "template %s: %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
		(st.st_mode & 022)) {
		close(fd);
		snprintf(why, whylen,
			"template %s: must be a regular file of root's that only root can write",
			path);
		return -EPERM;
	}
	r = util_read_all(fd, MESSAGE_TEMPLATE_MAX, text, len);
	close(fd);
	if (r < 0)
		snprintf(why, whylen, "template %s: %s", path,
			r == -EFBIG ? "larger than 16 KiB" : strerror(-r));
	return r;
}

/* The template name in lang (SPEC §13): dir/LANG/name for lang and its more general forms,
 * else dir/name; where it was found in *used (dir or dir/LANG, for messages). A template that
 * is there but unsound is an error, never passed over for another language's. */
static int read_template(const char *dir, const char *lang, const char *name, char **text,
	size_t *len, char *used, size_t usedlen, char *why, size_t whylen)
{
	char tries[CATALOG_VARIANTS][CATALOG_LANG_MAX + 1], path[4096];
	int n = catalog_variants(lang, tries), r;

	for (int i = 0; i <= n; i++) {
		if (i < n)
			snprintf(used, usedlen, "%s/%s", dir, tries[i]);
		else
			snprintf(used, usedlen, "%s", dir);
		snprintf(path, sizeof(path), "%s/%s", used, name);
		r = read_template_at(path, text, len, why, whylen);
		if (r != -ENOENT || i == n)
			return r;
	}
	return -ENOENT;
}

/* Where a template's complaints are said. */
struct tmpl {
	const char *dir, *name;
	char *why;
	size_t whylen;
};

typedef const char *const vars_t[][2];

/* The subject of a template ("Subject: ..." then an empty line), expanded, and where its body
 * starts. */
static int subject_of(const struct tmpl *t, const char *text, size_t tlen, vars_t vars,
	struct buf *subject, const char **body_start)
{
	const char *nl = memchr(text, '\n', tlen), *s = text + 8, *what;
	size_t slen;

	if (tlen < 8 || strncasecmp(text, "Subject:", 8) != 0 || !nl) {
		snprintf(t->why, t->whylen, "template %s/%s: the first line must be 'Subject: ...'",
			t->dir, t->name);
		return -EINVAL;
	}
	*body_start = nl + 1 + (nl[1] == '\r');
	if (**body_start != '\n') {
		snprintf(
			t->why, t->whylen, "template %s/%s: line 2 must be empty", t->dir, t->name);
		return -EINVAL;
	}
	(*body_start)++;
	slen = (size_t)(nl - s);
	while (slen && (*s == ' ' || *s == '\t'))
		s++, slen--;
	while (slen && (s[slen - 1] == '\r' || s[slen - 1] == ' ' || s[slen - 1] == '\t'))
		slen--;
	expand(subject, s, slen, vars);
	if (!subject->err && subject->n && util_text_ok(subject->p))
		return 0;
	what = subject->err  ? "is too long"
	       : !subject->n ? "is empty"
			     : "would hold a control character";
	snprintf(t->why, t->whylen, "template %s/%s: the subject %s", t->dir, t->name, what);
	return -EINVAL;
}

#define LINE_COLUMNS 78 /* RFC 5322's line, in columns: a wide character takes two */

/* The UTF-8 character at s (n bytes left): its length in *len, and its columns (2 for the
 * East Asian wide ones; a byte that starts no character counts as one). */
static unsigned char_columns(const unsigned char *s, size_t n, size_t *len)
{
	unsigned long cp;
	size_t k = s[0] < 0x80             ? 1
		   : (s[0] & 0xe0) == 0xc0 ? 2
		   : (s[0] & 0xf0) == 0xe0 ? 3
		   : (s[0] & 0xf8) == 0xf0 ? 4
					   : 1;

	*len = k <= n ? k : 1;
	if (*len == 1)
		return 1;
	cp = s[0] & (0x7f >> *len);
	for (size_t i = 1; i < *len; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
			       (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
			       (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
			       (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd)
		       ? 2
		       : 1;
}

/* One line of the body, folded within LINE_COLUMNS (SPEC §13): at its last blank that fits,
 * or, in a language written without blanks, between two characters (never inside one). */
static void put_folded(struct buf *b, const char *s, size_t len)
{
	do {
		size_t pos = 0, cols = 0, blank = 0, cut, n;
		while (pos < len) {
			unsigned w = char_columns((const unsigned char *)s + pos, len - pos, &n);
			if (cols + w > LINE_COLUMNS)
				break;
			if (s[pos] == ' ')
				blank = pos;
			cols += w;
			pos += n;
		}
		cut = pos < len && blank > 0 ? blank : pos;
		put(b, s, cut);
		puts_(b, "\r\n");
		cut += pos < len && blank > 0; /* the blank folded at goes */
		s += cut;
		len -= cut;
	} while (len > 0);
}

/* The body, expanded: every line end CRLF, no control byte but TAB, no line over 998
 * bytes. */
static int body_of(const struct tmpl *t, const char *start, size_t len, vars_t vars,
	struct buf *body, bool *eight_bit)
{
	struct buf m = {0};
	size_t line = 1;
	int r = 0;

	expand(&m, start, len, vars);
	for (const char *p = m.p; !m.err && p && p < m.p + m.n && !r; line++) {
		const char *e = memchr(p, '\n', (size_t)(m.p + m.n - p)), *bad = NULL;
		size_t l = e ? (size_t)(e - p) : (size_t)(m.p + m.n - p), next = e ? l + 1 : l;

		if (l && p[l - 1] == '\r')
			l--;
		if (l > 998)
			bad = "is over 998 bytes";
		for (size_t i = 0; i < l && !bad; i++) {
			unsigned char ch = (unsigned char)p[i];
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				bad = "holds a control character";
			*eight_bit |= ch >= 0x80;
		}
		if (bad) {
			snprintf(t->why, t->whylen, "template %s/%s: body line %zu %s", t->dir,
				t->name, line, bad);
			r = -EINVAL;
		}
		put_folded(body, p, l);
		p += next;
	}
	if (!r && (m.err || body->err)) {
		r = m.err ? m.err : body->err;
		snprintf(t->why, t->whylen, "%s",
			r == -EFBIG ? "the message is over 64 KiB" : strerror(-r));
	}
	buf_free(&m);
	return r;
}

/* s[0..len) in base64, 76 characters a line (RFC 2045). */
static void put_base64(struct buf *b, const char *s, size_t len)
{
	char line[80];

	for (size_t pos = 0; pos < len; pos += 57) {
		size_t k = len - pos < 57 ? len - pos : 57;
		sodium_bin2base64(line, sizeof(line), (const unsigned char *)s + pos, k,
			sodium_base64_VARIANT_ORIGINAL);
		puts_(b, line);
		puts_(b, "\r\n");
	}
}

/* The whole message: headers, an empty line, the body. */
static void assemble(struct buf *m, const char *from_hdr, const char *to, const struct buf *subject,
	const struct buf *body, const char *host, bool eight_bit)
{
	char date[64], id[40];
	unsigned char rnd[12];
	time_t now = time(NULL);
	struct tm tm;

	if (!localtime_r(&now, &tm) ||
		!strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm))
		snprintf(date, sizeof(date), "Thu, 01 Jan 1970 00:00:00 +0000");
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(id, sizeof(id), rnd, sizeof(rnd));

	puts_(m, "From: ");
	puts_(m, from_hdr);
	puts_(m, "\r\nTo: ");
	puts_(m, to);
	puts_(m, "\r\nSubject: ");
	if (ascii_printable(subject->p, subject->n) && subject->n <= 68)
		put(m, subject->p, subject->n);
	else
		put_encoded(m, subject->p, subject->n);
	puts_(m, "\r\nDate: ");
	puts_(m, date);
	puts_(m, "\r\nMessage-ID: <");
	puts_(m, id);
	puts_(m, "@");
	puts_(m, host);
	puts_(m, ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
		 "Content-Transfer-Encoding: ");
	/* UTF-8 beyond ASCII in base64, which every server takes (8bit needs 8BITMIME) */
	puts_(m, eight_bit ? "base64" : "7bit");
	puts_(m, "\r\nAuto-Submitted: auto-generated\r\n\r\n");
	if (eight_bit)
		put_base64(m, body->p ? body->p : "", body->n);
	else
		put(m, body->p ? body->p : "", body->n);
}

/* What the mail is about may be shown in it: no control character, and a good address. */
static int input_ok(const struct message_in *in, const char *rhost, char *why, size_t whylen)
{
	if (util_text_ok(in->user) && util_text_ok(rhost))
		return mailaddr_validate(in->to, why, whylen) < 0 ? -EINVAL : 0;
	snprintf(why, whylen, "a control character in the user name or remote host");
	return -EINVAL;
}

int message_build(const struct pwr_conf *c, const struct message_in *in, char **out, size_t *len,
	char *from, size_t fromcap, char *why, size_t whylen)
{
	char host[256], expires[64], when[64], from_hdr[768], *text = NULL, used[4096 - 64];
	char lang[CATALOG_LANG_MAX + 1], cwhy[256];
	struct tmpl t = {used, message_template_name(in->kind), why, whylen};
	struct buf subject = {0}, body = {0}, m = {0};
	struct catalog words;
	const char *rhost, *body_start;
	size_t tlen = 0;
	bool eight_bit = false;
	int r;

	*out = NULL;
	*len = 0;
	if (!t.name) {
		snprintf(why, whylen, "unknown mail kind %u", in->kind);
		return -EINVAL;
	}
	language_mail(c, in->lang, lang, sizeof(lang));
	(void)catalog_open(&words, PWR_LOCALEDIR, lang, "pam_pwreset", cwhy, sizeof(cwhy));
	/* TRANSLATORS: {rhost} of the mail templates when the request came from no network host */
	rhost = in->rhost && *in->rhost ? in->rhost : catalog_get(&words, N_("a local terminal"));
	const char *const vars[][2] = {{"{user}", in->user}, {"{host}", host},
		{"{code}", in->code ? in->code : ""}, {"{expires}", expires}, {"{rhost}", rhost},
		{"{time}", when}, {"{change}", change_word(&words, in->kind)}, {NULL, NULL}};
	if ((r = input_ok(in, rhost, why, whylen)) < 0 ||
		(r = message_from(c->mail_from, from_hdr, sizeof(from_hdr), from, fromcap, why,
			 whylen)) < 0 ||
		(r = read_template(c->templates_dir, lang, t.name, &text, &tlen, used, sizeof(used),
			 why, whylen)) < 0) {
		catalog_close(&words);
		return r;
	}
	util_host_fqdn(host, sizeof(host));
	local_time(in->expires, expires, sizeof(expires));
	local_time(in->created, when, sizeof(when));
	if ((r = subject_of(&t, text, tlen, vars, &subject, &body_start)) == 0 &&
		(r = body_of(&t, body_start, tlen - (size_t)(body_start - text), vars, &body,
			 &eight_bit)) == 0) {
		assemble(&m, from_hdr, in->to, &subject, &body, host, eight_bit);
		if ((r = m.err) < 0)
			snprintf(why, whylen, "%s",
				r == -EFBIG ? "the message is over 64 KiB" : strerror(-r));
	}
	if (r == 0) {
		*out = m.p;
		*len = m.n;
		m.p = NULL;
	}
	buf_free(&m);
	buf_free(&subject);
	buf_free(&body);
	util_free_wiped(text, tlen);
	catalog_close(&words);
	return r;
}
