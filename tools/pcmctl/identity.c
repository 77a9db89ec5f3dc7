// SPDX-License-Identifier: GPL-2.0
/*
 * Identity files: read through kv_slurp() (CRLF, NUL and size handled as
 * for every input), parsed by the module's parser; its refusals explained.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcmctl.h"
#include "identity.h"
#include "kv.h"

/* The keys of the text form, in its order, from the formatter itself. */
#define ID_KEYS_MAX	16
static unsigned int id_keys(const char *keys[ID_KEYS_MAX], size_t lens[ID_KEYS_MAX])
{
	static char text[PCM_IDENTITY_TEXT_MAX];
	struct pcm_kvm_identity zero;
	unsigned int n = 0;
	const char *p;

	memset(&zero, 0, sizeof(zero));
	pcm_identity_format(&zero, text, sizeof(text));
	p = text;
	while (*p && n < ID_KEYS_MAX) {
		keys[n] = p;
		lens[n++] = strcspn(p, ":\n");
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	return n;
}

/* The line of text holding p: its start, its length, its number. */
static unsigned int line_of(const char *text, const char *p, const char **start,
			    size_t *len)
{
	const char *s = p, *e = p;

	while (s > text && s[-1] != '\n')
		s--;
	while (*e && *e != '\n')
		e++;
	*start = s;
	*len = e - s;
	return 1 + kv_lines_in(text, s - text);
}

/* The value of the line whose key is key, or NULL; *len its length. */
static const char *find_value(const char *text, const char *key, size_t *len)
{
	size_t klen = strlen(key);
	const char *p = text, *v;

	while (*p) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			v = p + klen + 1;
			*len = strcspn(v, "\n");
			return v;
		}
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	return NULL;
}

/* Our own reading of the words line, to say where it and the names differ. */
static void words_of(const char *v, size_t len, struct pcm_fs *fs)
{
	struct pcm_fs known;
	size_t i = 0;
	unsigned int w;

	pcm_fs_zero(fs);
	while (i < len) {
		size_t start;

		while (i < len && isblank((unsigned char)v[i]))
			i++;
		start = i;
		while (i < len && !isblank((unsigned char)v[i]))
			i++;
		for (w = 0; w < PCM_KVM_NR_WORDS_USED; w++) {
			size_t n = strlen(pcm_words[w].name);

			if (i - start > n + 1 && !strncmp(v + start, pcm_words[w].name, n) &&
			    v[start + n] == '=') {
				fs->words[w] = (u32)strtoul(v + start + n + 1, NULL,
							    v[start + n + 1] == '0' &&
							    (v[start + n + 2] | 0x20) == 'x' ?
							    16 : 10);
				break;
			}
		}
	}
	pcm_fs_known(&known);
	pcm_fs_and(fs, fs, &known);
}

static void report_mismatch(const char *name, const char *text)
{
	static char a[PCM_FS_TEXT_MAX], b[PCM_FS_TEXT_MAX];
	struct pcm_fs named, raw, only;
	const char *v, *ls;
	size_t len = 0, ll;
	unsigned int line = 0;

	pcm_fs_zero(&named);
	v = find_value(text, "features", &len);
	if (v) {
		line = line_of(text, v, &ls, &ll);
		/* known to parse: pcm_identity_parse accepted it */
		pcm_fs_parse(v, len, &named, NULL, NULL);
	}
	v = find_value(text, "words", &len);
	words_of(v ? v : "", v ? len : 0, &raw);
	pcm_fs_andnot(&only, &named, &raw);
	pcm_fs_format(&only, a, sizeof(a));
	pcm_fs_andnot(&only, &raw, &named);
	pcm_fs_format(&only, b, sizeof(b));
	pr_err("%s:%u: the features line disagrees with the raw words (named, not in words: %s; in words, not named: %s)",
	       name, line, *a ? a : "none", *b ? b : "none");
}

static void report_missing_keys(const char *name, const char *text)
{
	const char *keys[ID_KEYS_MAX];
	size_t lens[ID_KEYS_MAX], pos = 0, len;
	char list[256], key[32];
	unsigned int i, n = id_keys(keys, lens);
	const char *ver = find_value(text, "pcm_kvm_identity", &len);
	/* a key is missing: the version line, if any, parsed (1 or 2) */
	bool v1 = ver && strtoul(ver, NULL, 0) == 1;

	list[0] = '\0';
	for (i = 0; i < n && pos < sizeof(list); i++) {
		snprintf(key, sizeof(key), "%.*s", (int)lens[i], keys[i]);
		if (find_value(text, key, &len))
			continue;
		/* version 1 had no TSC */
		if (v1 && !strncmp(key, "tsc_", 4))
			continue;
		pos += snprintf(list + pos, sizeof(list) - pos, "%s%s", pos ? ", " : "", key);
	}
	if (strspn(text, " \t\n") == strlen(text))
		pr_err("%s: empty: not a pcm_kvm identity", name);
	else
		pr_err("%s: incomplete identity (a truncated copy?): no line for %s", name, list);
}

/* The -EINVAL message: the offending token, or the offending line. */
static void report_bad(const char *name, const char *text, const char *bad,
		       size_t badlen)
{
	const char *keys[ID_KEYS_MAX], *ls, *colon, *p;
	size_t lens[ID_KEYS_MAX], ll, klen;
	unsigned int i, n = id_keys(keys, lens), line;
	char e1[512], e2[512];
	bool known = false;

	line = line_of(text, bad, &ls, &ll);
	colon = memchr(ls, ':', ll);
	klen = colon ? (size_t)(colon - ls) : 0;
	kv_esc(ls, ll, e2, sizeof(e2));

	if (bad > ls || badlen < ll) {
		kv_esc(bad, badlen, e1, sizeof(e1));
		if (klen == 8 && !strncmp(ls, "features", 8))
			pr_err("%s:%u: unknown feature '%s' (`pcmctl features` lists them)",
			       name, line, e1);
		else if (klen == 5 && !strncmp(ls, "words", 5))
			pr_err("%s:%u: bad raw word '%s' (WORD=0xHEX, WORD one of %s ... %s)",
			       name, line, e1, pcm_words[0].name,
			       pcm_words[PCM_KVM_NR_WORDS_USED - 1].name);
		else
			pr_err("%s:%u: bad '%s' in '%s'", name, line, e1, e2);
		return;
	}
	if (!colon) {
		pr_err("%s:%u: not a 'key: value' line: '%s'", name, line, e2);
		return;
	}
	for (i = 0; i < n; i++)
		known |= lens[i] == klen && !strncmp(keys[i], ls, klen);
	kv_esc(ls, klen, e1, sizeof(e1));
	if (!known) {
		pr_err("%s:%u: unknown key '%s' in an identity", name, line, e1);
		return;
	}
	/* an earlier line with the same key */
	for (p = text; p < ls; p += strcspn(p, "\n") + 1) {
		if (!strncmp(p, ls, klen + 1)) {
			const char *s;
			size_t l;

			pr_err("%s:%u: '%s' repeats line %u", name, line, e1,
			       line_of(text, p, &s, &l));
			return;
		}
	}
	if (klen == 6 && !strncmp(ls, "vendor", 6)) {
		pr_err("%s:%u: bad vendor (at most 12 characters): '%s'", name, line, e2);
	} else if (klen == 4 && !strncmp(ls, "mode", 4)) {
		pr_err("%s:%u: bad mode (modes: off, min, x86-64-v2, x86-64-v3, x86-64-v4, baseline): '%s'",
		       name, line, e2);
	} else if (klen == 9 && !strncmp(ls, "phys_bits", 9)) {
		pr_err("%s:%u: bad phys_bits (0 to %d): '%s'", name, line,
		       PCM_PHYS_BITS_MAX, e2);
	} else if (klen == 8 && !strncmp(ls, "features", 8)) {
		pr_err("%s:%u: no feature name in '%s'", name, line, e2);
	} else if (klen == lens[0] && !strncmp(ls, keys[0], klen)) {
		pr_err("%s:%u: unknown version of the identity text (pcmctl reads versions 1 to 2): '%s'",
		       name, line, e2);
	} else {
		pr_err("%s:%u: bad number (decimal, or hex with 0x; at most 32 bits, xcr0 64): '%s'",
		       name, line, e2);
	}
}

/*
 * The identity's lines through the reader every input shares (unknown or
 * repeated keys, lines without a colon, the version), then its values
 * through the module's own parser, which the kernel's expect file uses.
 */
int identity_parse(const struct kv_text *t, struct pcm_kvm_identity *id)
{
	static char keybuf[ID_KEYS_MAX][32];
	static const char *keys[ID_KEYS_MAX + 1];
	static const struct kv_format format = {
		.what = "identity", .version_key = "pcm_kvm_identity",
		.max_version = 2, .keys = keys,
	};
	const char *bad = NULL;
	size_t badlen = 0;
	struct kv kv;
	int ret;

	if (!keys[0]) {
		const char *k[ID_KEYS_MAX];
		size_t lens[ID_KEYS_MAX];
		unsigned int i, n = id_keys(k, lens);

		for (i = 0; i < n; i++) {
			snprintf(keybuf[i], sizeof(keybuf[i]), "%.*s", (int)lens[i], k[i]);
			keys[i] = keybuf[i];
		}
	}
	ret = kv_lines(t, &format, &kv);
	if (ret)
		return ret;
	kv_free(&kv);
	ret = pcm_identity_parse(t->buf, t->len, id, &bad, &badlen);
	switch (ret) {
	case 0:
		break;
	case -EINVAL:
		report_bad(t->name, t->buf, bad, badlen);
		break;
	case -ENODATA:
		report_missing_keys(t->name, t->buf);
		break;
	case -EBADMSG:
		report_mismatch(t->name, t->buf);
		break;
	default:
		pr_err("%s: %s", t->name, strerror(-ret));
		break;
	}
	return ret ? EXIT_OP : 0;
}

int identity_load(const char *path, struct pcm_kvm_identity *id, char **textp)
{
	struct kv_text t;
	int ret;

	ret = kv_slurp(path, "pcm_kvm identity", &t);
	if (ret)
		return ret;
	ret = identity_parse(&t, id);
	if (ret || !textp)
		kv_text_free(&t);
	else
		*textp = t.buf;
	return ret;
}
