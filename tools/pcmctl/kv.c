// SPDX-License-Identifier: GPL-2.0
/*
 * The one reader of pcmctl's text inputs (see kv.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcmctl.h"
#include "kv.h"
#include "out.h"

/* The largest input: a pool of 10,000 hosts in JSON is a few MiB. */
#define KV_TEXT_MAX	(64U << 20)

const char *kv_esc(const char *s, size_t n, char *out, size_t size)
{
	size_t i, pos = 0;

	for (i = 0; i < n && pos + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (pos >= 80) {
			pos += snprintf(out + pos, size - pos, "...");
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[pos++] = (char)c;
		else
			pos += snprintf(out + pos, size - pos, "\\x%02x", c);
	}
	out[pos] = '\0';
	return out;
}

int kv_stream_open(const char *path, const char *what, struct kv_stream *s)
{
	bool in = !strcmp(path, "-");
	struct stat st;

	memset(s, 0, sizeof(*s));
	s->what = what;
	s->t.name = in ? "<stdin>" : path;
	s->fd = in ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		pr_err("%s: %s", s->t.name, strerror(errno));
		return EXIT_OP;
	}
	s->sized = !fstat(s->fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0;
	s->size = s->sized ? (size_t)st.st_size : 0;
	s->cap = s->sized && s->size < KV_PIECE ? s->size + 1 : s->sized ? KV_PIECE : 8192;
	s->t.buf = malloc(s->cap);
	if (!s->t.buf) {
		pr_err("out of memory");
		kv_stream_close(s);
		return EXIT_OP;
	}
	s->t.buf[0] = '\0';
	return kv_stream_more(s, 0);
}

unsigned int kv_lines_in(const char *b, size_t n)
{
	const char *end = b + n;
	unsigned int lines = 0;

	while ((b = memchr(b, '\n', end - b))) {
		lines++;
		b++;
	}
	return lines;
}

/*
 * CRLF -> LF in what was read since the last call, the same for every kind
 * of file.  A CR at the end of the text waits for the next read (its LF may
 * come with it) unless the file has ended.
 */
static void kv_crlf(struct kv_stream *s)
{
	char *b = s->t.buf;
	size_t i = s->done, o = s->done, end = s->t.len;

	if (!memchr(b + i, '\r', end - i)) {
		s->done = end;
		return;
	}
	for (; i < end; i++) {
		if (b[i] == '\r' && i + 1 == end && !s->eof)
			break;
		if (b[i] != '\r' || b[i + 1] != '\n')
			b[o++] = b[i];
	}
	s->done = o;
	if (i < end)
		b[o++] = '\r';
	s->t.len = o;
	b[o] = '\0';
}

int kv_stream_more(struct kv_stream *s, size_t used)
{
	char *b = s->t.buf, *nb, *nul;
	size_t want;
	ssize_t n;

	if (used) {
		s->t.line0 += kv_lines_in(b, used);
		s->t.len -= used;
		s->done = s->done > used ? s->done - used : 0;
		memmove(b, b + used, s->t.len + 1);
	}
	if (s->eof)
		return 0;
	if (s->t.len + 1 >= s->cap) {
		if (s->cap > KV_TEXT_MAX) {
			pr_err("%s: too large", s->t.name);
			return EXIT_OP;
		}
		nb = realloc(b, 2 * s->cap);
		if (!nb) {
			pr_err("out of memory");
			return EXIT_OP;
		}
		b = nb;
		s->t.buf = nb;
		s->cap *= 2;
	}
	want = s->cap - 1 - s->t.len;
	do
		n = read(s->fd, b + s->t.len, want);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		pr_err("%s: %s", s->t.name, strerror(errno));
		return EXIT_OP;
	}
	s->got += n;
	/* a regular file is at its end when its size is read: no read of 0 */
	s->eof = !n || (s->sized && s->got == s->size);
	/* a NUL is no text */
	nul = memchr(b + s->t.len, '\0', n);
	if (nul) {
		pr_err("%s:%u: NUL byte: not a %s", s->t.name,
		       s->t.line0 + kv_lines_in(b, nul - b) + 1, s->what);
		return EXIT_OP;
	}
	s->t.len += n;
	b[s->t.len] = '\0';
	kv_crlf(s);
	return 0;
}

int kv_stream_all(struct kv_stream *s)
{
	int ret = 0;

	while (!ret && !s->eof)
		ret = kv_stream_more(s, 0);
	return ret;
}

void kv_stream_close(struct kv_stream *s)
{
	if (s->fd > STDIN_FILENO)
		close(s->fd);
	s->fd = -1;
	kv_text_free(&s->t);
}

int kv_slurp(const char *path, const char *what, struct kv_text *t)
{
	struct kv_stream s;
	int ret;

	ret = kv_stream_open(path, what, &s);
	if (!ret)
		ret = kv_stream_all(&s);
	if (ret) {
		kv_stream_close(&s);
		memset(t, 0, sizeof(*t));
		t->name = s.t.name;
		return ret;
	}
	if (s.fd > STDIN_FILENO)
		close(s.fd);
	*t = s.t;
	return 0;
}

void kv_text_free(struct kv_text *t)
{
	free(t->buf);
	t->buf = NULL;
}

/* A line of `cpuid -r`: "   0x00000000 0x00: eax=0x..." */
static bool cpuid_line(const char *p)
{
	unsigned int leaf, sub;
	char c;

	/* no sscanf for a line that cannot be one: it is called per profile */
	p += strspn(p, " \t");
	if (p[0] != '0' || p[1] != 'x')
		return false;
	return sscanf(p, "0x%8x 0x%2x: eax=0x%*x eb%c", &leaf, &sub, &c) == 3 && c == 'x';
}

enum kv_kind kv_sniff(const struct kv_text *t)
{
	const char *p = t->buf + strspn(t->buf, " \t\n");

	if (!*p)
		return KV_EMPTY;
	if (*p == '{' || *p == '[')
		return KV_JSON;
	/* a dump: a CPU header or a leaf line in its first lines */
	for (int i = 0; i < 4 && *p; i++) {
		if (cpuid_line(p) || !strncmp(p, "CPU:", 4) ||
		    (!strncmp(p, "CPU ", 4) && isdigit((unsigned char)p[4])))
			return KV_CPUID;
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
	return KV_LINES;
}

bool kv_is(const struct kv_line *l, const char *key)
{
	return l->klen == strlen(key) && !memcmp(l->key, key, l->klen);
}

/* Does key k[0..klen) match the key pattern p ('*': any rest)? */
static bool key_match(const char *p, const char *k, size_t klen, bool *repeatable)
{
	size_t i = 0;

	/* no strlen: 10,000 profiles are 200,000 lines */
	while (i < klen && p[i] == k[i] && p[i] != '*')
		i++;
	*repeatable = p[i] == '*';
	return *repeatable || (i == klen && !p[i]);
}

/*
 * The index of k[0..klen) in f's keys, or -1.  Repeatable: a '*' key, which
 * may repeat.  hint: the index after the previous line's, where a file
 * pcmctl wrote has its next key; no line matches two keys of a table, so
 * where the search starts does not change what it finds.
 */
static int key_index(const struct kv_format *f, const char *k, size_t klen, int hint,
		     bool *repeatable)
{
	int i;

	/* from the hint to the end, then from the start */
	for (i = hint; i >= 0 && f->keys[i]; i++)
		if (key_match(f->keys[i], k, klen, repeatable))
			return i;
	for (i = 0; i < hint && f->keys[i]; i++)
		if (key_match(f->keys[i], k, klen, repeatable))
			return i;
	return -1;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *len)
{
	while (*len && blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && blank((*s)[*len - 1]))
		(*len)--;
}

int kv_lines(const struct kv_text *t, const struct kv_format *f, struct kv *kv)
{
	char e1[128], e2[256];
	unsigned int line = t->line0;
	bool repeatable, seen_before;
	unsigned long long seen = 0;
	size_t cap, i;
	const char *s, *next;
	int k = -1;

	kv->t = t;
	kv->n = 0;
	kv->next = 0;
	kv->version = 1;
	kv->l = kv->inl;
	cap = ARRAY_SIZE(kv->inl);
	for (s = t->buf; *s; s = next) {
		size_t ll = strchrnul(s, '\n') - s;
		const char *colon = memchr(s, ':', ll);
		struct kv_line l;

		next = s + ll + (s[ll] == '\n');
		line++;
		if (!ll || *s == '#' || (blank(*s) && strspn(s, " \t") == ll))
			continue;
		if (!colon) {
			pr_err("%s:%u: not a 'key: value' line: '%s'", t->name, line,
			       kv_esc(s, ll, e2, sizeof(e2)));
			goto bad;
		}
		l.key = s;
		l.klen = colon - s;
		l.val = colon + 1;
		l.vlen = ll - l.klen - 1;
		l.line = line;
		trim(&l.val, &l.vlen);
		k = key_index(f, l.key, l.klen, k + 1, &repeatable);
		if (k < 0) {
			pr_err("%s:%u: unknown key '%s' in a %s", t->name, line,
			       kv_esc(l.key, l.klen, e1, sizeof(e1)), f->what);
			goto bad;
		}
		/* the earlier line only when the key was seen: not once per line */
		seen_before = !repeatable && k < 64 && (seen >> k) & 1;
		if (!repeatable && k < 64)
			seen |= 1ULL << k;
		for (i = 0; i < kv->n && (seen_before || (!repeatable && k >= 64)); i++) {
			if (kv->l[i].klen == l.klen && !memcmp(kv->l[i].key, l.key, l.klen)) {
				pr_err("%s:%u: '%s' repeats line %u", t->name, line,
				       kv_esc(l.key, l.klen, e1, sizeof(e1)), kv->l[i].line);
				goto bad;
			}
		}
		if (kv->n == cap) {
			struct kv_line *nl = malloc(2 * cap * sizeof(*nl));

			if (!nl) {
				pr_err("out of memory");
				goto bad;
			}
			memcpy(nl, kv->l, kv->n * sizeof(*nl));
			if (kv->l != kv->inl)
				free(kv->l);
			kv->l = nl;
			cap *= 2;
		}
		kv->l[kv->n++] = l;
	}
	if (f->version_key) {
		const struct kv_line *v = kv_find(kv, f->version_key);
		unsigned long long ver;

		if (v) {
			if (kv_num(kv, v, &ver))
				goto bad;
			if (!ver || ver > f->max_version) {
				char known[32];

				if (f->max_version > 1)
					snprintf(known, sizeof(known), "versions 1 to %u",
						 f->max_version);
				else
					snprintf(known, sizeof(known), "version 1");
				pr_err("%s:%u: unknown version %llu of the %s text (pcmctl reads %s)",
				       t->name, v->line, ver, f->what, known);
				goto bad;
			}
			kv->version = (unsigned int)ver;
		}
	}
	return 0;
bad:
	kv_free(kv);
	return EXIT_OP;
}

void kv_free(struct kv *kv)
{
	if (kv->l != kv->inl)
		free(kv->l);
	kv->l = kv->inl;
	kv->n = 0;
}

const struct kv_line *kv_find(struct kv *kv, const char *key)
{
	size_t i, j, klen = strlen(key);

	/* from the line after the last one found: keys are asked for in file order */
	for (j = 0, i = kv->next; j < kv->n; j++, i++) {
		if (i >= kv->n)
			i = 0;
		if (kv->l[i].klen == klen && !memcmp(kv->l[i].key, key, klen)) {
			kv->next = i + 1;
			return &kv->l[i];
		}
	}
	return NULL;
}

/* The characters of a number in a text file, zeros in front included. */
#define KV_NUM_CHARS	31

/* s[0..n) as decimal, or hex after 0x, all of it; no strtoull: a copy per number */
static bool parse_ull(const char *s, size_t n, unsigned long long *out)
{
	unsigned long long v = 0;
	unsigned int base = 10, d;
	size_t i = 0;

	if (n > 2 && s[0] == '0' && (s[1] | 0x20) == 'x') {
		base = 16;
		i = 2;
	}
	for (; i < n; i++) {
		char c = s[i], lc = c | 0x20;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && lc >= 'a' && lc <= 'f')
			d = lc - 'a' + 10;
		else
			return false;
		if (v > (ULLONG_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

int kv_num(const struct kv *kv, const struct kv_line *l, unsigned long long *out)
{
	char e[128];

	/*
	 * Decimal, or hex with 0x, and nothing else: no "-1", "+1" or octal "010".
	 * parse_ull() refuses what overflows; the bound refuses a screenful of
	 * zeros in front (2^64 - 1 is 20 digits, or 0x and 16).
	 */
	if (l->vlen && l->vlen <= KV_NUM_CHARS && isdigit((unsigned char)*l->val) &&
	    parse_ull(l->val, l->vlen, out))
		return 0;
	pr_err("%s:%u: bad number '%s' for %.*s (decimal, or hex with 0x)", kv->t->name,
	       l->line, kv_esc(l->val, l->vlen, e, sizeof(e)), (int)l->klen, l->key);
	return EXIT_OP;
}

int kv_fs(const struct kv *kv, const struct kv_line *l, struct pcm_fs *fs)
{
	const char *bad = NULL;
	size_t badlen = 0;
	int ret;

	pcm_fs_zero(fs);
	if (!l->vlen || (l->vlen == 1 && *l->val == '-'))
		return 0;
	ret = pcm_fs_parse(l->val, l->vlen, fs, &bad, &badlen);
	if (ret == -ENODATA)
		return 0;
	if (ret) {
		char e[128];

		pr_err("%s:%u: unknown feature '%s' in %.*s (`pcmctl features` lists them)",
		       kv->t->name, l->line, kv_esc(bad, badlen, e, sizeof(e)),
		       (int)l->klen, l->key);
		return EXIT_OP;
	}
	return 0;
}

int kv_str(const struct kv *kv, const struct kv_line *l, char *dst, size_t size)
{
	if (l->vlen >= size) {
		char e1[64], e2[128];

		pr_err("%s:%u: %s '%s' is too long (%zu bytes; at most %zu)", kv->t->name, l->line,
		       kv_esc(l->key, l->klen, e1, sizeof(e1)),
		       kv_esc(l->val, l->vlen, e2, sizeof(e2)), l->vlen, size - 1);
		return EXIT_OP;
	}
	kv_copy(dst, size, l->val, l->vlen);
	return 0;
}

void kv_copy(char *dst, size_t size, const char *v, size_t len)
{
	size_t i;

	trim(&v, &len);
	if (len > size - 1)
		len = size - 1;
	for (i = 0; i < len; i++)
		dst[i] = (v[i] > 0x20 && v[i] < 0x7f) ? v[i] : '_';
	dst[len] = '\0';
	if (!len && size > 1) {
		dst[0] = '-';
		dst[1] = '\0';
	}
}

/* Is fmt "pcm_kvm.KIND/..." of one of kinds, whatever its version? */
static bool known_kind(const char *fmt, const char *const *kinds)
{
	if (strncmp(fmt, "pcm_kvm.", 8))
		return false;
	fmt += 8;
	for (; *kinds; kinds++) {
		size_t n = strlen(*kinds);

		if (!strncmp(fmt, *kinds, n) && fmt[n] == '/')
			return true;
	}
	return false;
}

json_t *kv_json(const struct kv_text *t, const char *const *kinds, int *which)
{
	json_error_t err;
	json_t *doc;

	doc = json_loadb(t->buf, t->len, JSON_REJECT_DUPLICATES, &err);
	if (!doc) {
		pr_err("%s:%d:%d: not JSON: %s", t->name, err.line, err.column, err.text);
		return NULL;
	}
	if (kv_json_kind(t, doc, kinds, which)) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

int kv_json_kind(const struct kv_text *t, const json_t *doc, const char *const *kinds,
		 int *which)
{
	char want[64], list[256];
	const char *fmt;
	size_t pos = 0;
	int i;

	fmt = json_string_value(json_object_get(doc, "format"));
	for (i = 0; kinds[i]; i++) {
		pos += snprintf(list + pos, pos < sizeof(list) ? sizeof(list) - pos : 0,
				"%s%s", i ? ", " : "", out_format(kinds[i], want, sizeof(want)));
		if (fmt && !strcmp(fmt, want)) {
			*which = i;
			return 0;
		}
	}
	if (!json_is_object(doc) || !fmt)
		pr_err("%s: a JSON document without \"format\": not pcmctl's (expected %s)",
		       t->name, list);
	else if (known_kind(fmt, kinds))
		pr_err("%s: \"format\": \"%s\": a version this pcmctl does not read (it reads %s)",
		       t->name, fmt, list);
	else
		pr_err("%s: \"format\": \"%s\", expected %s", t->name, fmt, list);
	return EXIT_OP;
}

static const json_t *kv_member(const struct kv_text *t, const json_t *o, const char *key,
			       bool required, int *ret)
{
	const json_t *v = json_object_get(o, key);

	*ret = 0;
	if (!v && required) {
		pr_err("%s: no \"%s\" member", t->name, key);
		*ret = EXIT_OP;
	}
	return v;
}

int kv_json_str(const struct kv_text *t, const json_t *o, const char *key,
		char *dst, size_t size, bool required)
{
	int ret;
	const json_t *v = kv_member(t, o, key, required, &ret);
	const char *s;

	if (!v)
		return ret;
	if (json_is_null(v)) {
		kv_copy(dst, size, "", 0);
		return 0;
	}
	s = json_string_value(v);
	if (!s) {
		pr_err("%s: \"%s\" is not a string", t->name, key);
		return EXIT_OP;
	}
	if (json_string_length(v) >= size) {
		char e[128];

		pr_err("%s: \"%s\" '%s' is too long (%zu bytes; at most %zu)", t->name, key,
		       kv_esc(s, json_string_length(v), e, sizeof(e)), json_string_length(v),
		       size - 1);
		return EXIT_OP;
	}
	kv_copy(dst, size, s, strlen(s));
	return 0;
}

int kv_json_num(const struct kv_text *t, const json_t *o, const char *key,
		unsigned long long *out, bool required)
{
	int ret;
	const json_t *v = kv_member(t, o, key, required, &ret);

	/* null: unknown, as pcmctl writes an unknown tsc_khz */
	if (!v || (json_is_null(v) && !required))
		return ret;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		pr_err("%s: \"%s\" is not a number >= 0", t->name, key);
		return EXIT_OP;
	}
	*out = (unsigned long long)json_integer_value(v);
	return 0;
}

int kv_json_fs(const struct kv_text *t, const json_t *o, const char *key,
	       struct pcm_fs *fs, bool required)
{
	const json_t *v, *item;
	size_t i;
	int ret;

	pcm_fs_zero(fs);
	v = kv_member(t, o, key, required, &ret);
	if (!v)
		return ret;
	if (!json_is_array(v)) {
		pr_err("%s: \"%s\" is not an array of feature names", t->name, key);
		return EXIT_OP;
	}
	json_array_foreach(v, i, item) {
		const char *s = json_string_value(item);
		int id = s ? pcm_feature_lookup(s, strlen(s)) : -1;

		if (id < 0) {
			char e[128];

			pr_err("%s: \"%s\"[%zu]: unknown feature '%s' (`pcmctl features` lists them)",
			       t->name, key, i,
			       s ? kv_esc(s, strlen(s), e, sizeof(e)) : "(not a string)");
			return EXIT_OP;
		}
		pcm_fs_set(fs, id);
	}
	return 0;
}
