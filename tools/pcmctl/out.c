// SPDX-License-Identifier: GPL-2.0
/*
 * The output layer: documents as jansson objects, printed as JSON or
 * through a text view of the same object.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcmctl.h"
#include "out.h"

void out_oom(void)
{
	pr_err("out of memory");
	exit(EXIT_OP);
}

json_t *out_check(json_t *v)
{
	if (!v)
		out_oom();
	return v;
}

const char *out_format(const char *kind, char *buf, size_t size)
{
	snprintf(buf, size, "pcm_kvm.%s/%u", kind, OUT_JSON_VERSION);
	return buf;
}

json_t *out_doc(const char *kind)
{
	json_t *doc = out_obj();
	char f[64];

	out_set_str(doc, "format", out_format(kind, f, sizeof(f)));
	return doc;
}

json_t *out_obj(void)
{
	return out_check(json_object());
}

json_t *out_arr(void)
{
	return out_check(json_array());
}

void out_set(json_t *obj, const char *key, json_t *v)
{
	if (json_object_set_new(obj, key, out_check(v)))
		out_oom();
}

/* The length of the valid UTF-8 sequence at s (n bytes left), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong, surrogate or beyond Unicode */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

json_t *out_strn(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0;
	char *buf;
	json_t *v;

	/* NUL ends it, as in C; bytes that are not UTF-8 become U+FFFD */
	n = strnlen(s, n);
	for (i = 0; i < n && u[i] < 0x80; i++)
		;
	if (i == n)	/* ASCII, as host and feature names are: as it is */
		return out_check(json_stringn_nocheck(s, n));
	i = 0;
	buf = malloc(3 * n + 1);
	if (!buf)
		out_oom();
	while (i < n) {
		size_t l = utf8_len(u + i, n - i);

		if (l) {
			memcpy(buf + o, s + i, l);
			o += l;
			i += l;
		} else {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	v = out_check(json_stringn(buf, o));
	free(buf);
	return v;
}

json_t *out_str(const char *s)
{
	return s ? out_strn(s, strlen(s)) : out_check(json_null());
}

void out_set_str(json_t *obj, const char *key, const char *s)
{
	out_set(obj, key, out_str(s));
}

void out_set_strn(json_t *obj, const char *key, const char *s, size_t n)
{
	out_set(obj, key, out_strn(s, n));
}

void out_set_int(json_t *obj, const char *key, unsigned long long v)
{
	out_set(obj, key, json_integer((json_int_t)v));
}

void out_set_bool(json_t *obj, const char *key, bool v)
{
	out_set(obj, key, json_boolean(v));
}

void out_append(json_t *arr, json_t *v)
{
	if (json_array_append_new(arr, out_check(v)))
		out_oom();
}

void out_append_str(json_t *arr, const char *s)
{
	out_append(arr, out_str(s));
}

json_t *out_fs(const struct pcm_fs *fs)
{
	/*
	 * One string per feature name, shared by every list (jansson counts
	 * references): a pool of 10,000 hosts lists names a million times.
	 */
	static json_t *names[PCM_NR_FEATURES], *list;
	json_t *a = out_arr();
	unsigned int id;

	/*
	 * Gathered in a list kept from call to call, then copied: the array
	 * grows once to its size, not once per doubling (4,500 lists of 80
	 * names in a pool of 10,000 hosts).
	 */
	if (!list)
		list = out_arr();
	for (id = 0; id < PCM_NR_FEATURES; id++) {
		if (!pcm_fs_test(fs, id))
			continue;
		if (!names[id])	/* ASCII: no UTF-8 check */
			names[id] = out_check(json_string_nocheck(pcm_features[id].name));
		if (json_array_append(list, names[id]))
			out_oom();
	}
	if (json_array_extend(a, list) || json_array_clear(list))
		out_oom();
	return a;
}

void out_set_fs(json_t *obj, const char *key, const struct pcm_fs *fs)
{
	out_set(obj, key, out_fs(fs));
}

const char *out_level_name(const struct pcm_fs *fs)
{
	unsigned int level = pcm_fs_level(fs);

	return level == PCM_KVM_MODE_OFF ? "none" : pcm_mode_name(level);
}

/*
 * jansson writes a document a token at a time: a pool of 10,000 hosts is
 * a million tokens, each gathered here rather than passed to stdio.
 */
struct out_buf {
	size_t len;
	char b[1 << 16];
};

static int out_flush(struct out_buf *o)
{
	size_t n = o->len;

	o->len = 0;
	return fwrite(o->b, 1, n, stdout) == n ? 0 : -1;
}

static int out_chunk(const char *buf, size_t size, void *data)
{
	struct out_buf *o = data;

	if (o->len + size > sizeof(o->b) && out_flush(o))
		return -1;
	if (size > sizeof(o->b))
		return fwrite(buf, 1, size, stdout) == size ? 0 : -1;
	memcpy(o->b + o->len, buf, size);
	o->len += size;
	return 0;
}

int out_print(json_t *doc, bool json, out_view_fn view)
{
	int ret = 0;

	if (json) {
		/* UTF-8 as is; members in the order they were set */
		static struct out_buf o;

		if (json_dump_callback(doc, out_chunk, &o, JSON_PRESERVE_ORDER) ||
		    out_chunk("\n", 1, &o) || out_flush(&o))
			ret = EXIT_OP;
	} else {
		view(doc);
	}
	json_decref(doc);
	if (fflush(stdout) || ferror(stdout)) {
		pr_err("write error: %s", strerror(errno));
		ret = EXIT_OP;
	}
	return ret;
}

/* Text views */

const json_t *tx_get(const json_t *obj, const char *key)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return v ? v : json_null();
}

const char *tx_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(tx_get(obj, key));

	return s ? s : "";
}

unsigned long long tx_int(const json_t *obj, const char *key)
{
	return (unsigned long long)json_integer_value(tx_get(obj, key));
}

bool tx_bool(const json_t *obj, const char *key)
{
	return json_is_true(tx_get(obj, key));
}

size_t tx_len(const json_t *obj, const char *key)
{
	return json_array_size(tx_get(obj, key));
}

void tx_words(const json_t *arr, const char *sep)
{
	const json_t *v;
	size_t i;

	json_array_foreach(arr, i, v) {
		if (json_is_string(v)) {
			fputs(sep, stdout);
			fputs(json_string_value(v), stdout);
		} else if (json_is_integer(v)) {
			printf("%s%lld", sep, (long long)json_integer_value(v));
		}
	}
}

static bool tx_empty(const json_t *v)
{
	return json_is_null(v) || (json_is_array(v) && !json_array_size(v)) ||
	       (json_is_string(v) && !*json_string_value(v));
}

void tx_line(const char *label, const json_t *v, const char *empty_text)
{
	if (*label)
		printf("%s:", label);
	if (tx_empty(v)) {
		printf("%s%s\n", *empty_text ? " " : "", empty_text);
		return;
	}
	if (json_is_array(v)) {
		tx_words(v, " ");
		putchar('\n');
	} else if (json_is_string(v)) {
		printf(" %s\n", json_string_value(v));
	} else if (json_is_integer(v)) {
		printf(" %lld\n", (long long)json_integer_value(v));
	} else if (json_is_boolean(v)) {
		printf(" %s\n", json_is_true(v) ? "yes" : "no");
	} else {
		putchar('\n');
	}
}

void tx_key(const json_t *obj, const char *key, const char *empty_text)
{
	tx_line(key, tx_get(obj, key), empty_text);
}

void tx_hex(const json_t *obj, const char *key)
{
	printf("%s: 0x%llx\n", key, tx_int(obj, key));
}
