/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading pcmctl's inputs: one reader for profiles, pools and identities.
 *
 * A file ("-": standard input) is read whole, or a fleet file of profiles
 * a piece at a time; a NUL byte refuses it and CRLF line ends become LF,
 * for every kind alike.  Its content says what
 * it is: a JSON document (its "format" names the kind), a raw CPUID dump,
 * or "key: value" lines.  Lines are checked against the kind's keys: an
 * unknown key, a repeated key or a line without a colon is refused with
 * the file, the line and the token.  The version line (pcm_kvm_profile:,
 * pcm_kvm_pool:) may be absent (files of older pcmctl: version 1); a
 * version this pcmctl does not know is refused.
 */
#ifndef PCMCTL_KV_H
#define PCMCTL_KV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "pcm_model.h"

struct kv_text {
	char *buf;		/* NUL-terminated, LF line ends */
	size_t len;
	const char *name;	/* for messages: the path, or "<stdin>" */
	unsigned int line0;	/* lines before buf in the file (a part of it) */
};

/*
 * Read path whole.  0, or EXIT_OP after a message naming it ("what" says
 * what the file should be, e.g. "profile").
 */
int kv_slurp(const char *path, const char *what, struct kv_text *t);
void kv_text_free(struct kv_text *t);

/*
 * The same a piece at a time, for a fleet file: 10,000 profiles in one
 * file are 9 MiB, whose pages, each first touched, would cost more than
 * reading them.  t holds what was read and not yet given up (t.line0: the
 * lines before it).
 */
/*
 * A regular file smaller than this is read in one read (a pool is 10,000
 * of them); a larger one, or one whose size says nothing, a piece of this
 * size at a time.
 */
#define KV_PIECE	(256U << 10)

struct kv_stream {
	struct kv_text t;
	const char *what;
	int fd;
	bool sized;		/* a regular file of size bytes */
	bool eof;
	size_t size, got, cap;	/* got: bytes read so far */
	size_t done;		/* t.buf[0..done): CRLF made LF */
};

/* Open path and read its first piece: 0, or EXIT_OP after a message. */
int kv_stream_open(const char *path, const char *what, struct kv_stream *s);
/* Give up the first used bytes of s->t, read the next piece (none at eof). */
int kv_stream_more(struct kv_stream *s, size_t used);
/* Read the rest. */
int kv_stream_all(struct kv_stream *s);
void kv_stream_close(struct kv_stream *s);
/* The lines (LFs) in b[0..n). */
unsigned int kv_lines_in(const char *b, size_t n);

enum kv_kind { KV_EMPTY, KV_JSON, KV_CPUID, KV_LINES };
enum kv_kind kv_sniff(const struct kv_text *t);

/* A "key: value" line; the value without the blanks around it. */
struct kv_line {
	const char *key, *val;
	size_t klen, vlen;
	unsigned int line;
};

struct kv {
	const struct kv_text *t;
	struct kv_line *l;	/* inl, or malloc'ed for a longer file */
	size_t n;
	size_t next;		/* where kv_find() looks first */
	unsigned int version;	/* of the version line, 1 if none */
	struct kv_line inl[32];	/* a profile's lines: no allocation (not movable) */
};

/*
 * A kind of key: value file.  keys: the keys it may have; a key ending in
 * '*' is a prefix ("gives up *").  version_key: its version line.
 */
struct kv_format {
	const char *what;		/* "profile", "pool" */
	const char *version_key;	/* "pcm_kvm_profile" */
	unsigned int max_version;
	const char *const *keys;	/* NULL-terminated */
};

/* Split t into lines of format f.  0, or EXIT_OP after a message. */
int kv_lines(const struct kv_text *t, const struct kv_format *f, struct kv *kv);
void kv_free(struct kv *kv);
/* The line of key (of a '*' key that repeats, one of them), or NULL. */
const struct kv_line *kv_find(struct kv *kv, const char *key);
bool kv_is(const struct kv_line *l, const char *key);

/* Values; each 0, or EXIT_OP after a message naming file:line. */
int kv_num(const struct kv *kv, const struct kv_line *l, unsigned long long *out);
int kv_fs(const struct kv *kv, const struct kv_line *l, struct pcm_fs *fs); /* "-": none */
/* l's value into dst[size]; EXIT_OP, naming it, when it does not fit */
int kv_str(const struct kv *kv, const struct kv_line *l, char *dst, size_t size);
/* A one-line value: printable ASCII, others as '_', "-" if empty. */
void kv_copy(char *dst, size_t size, const char *v, size_t len);

/*
 * A JSON document of kind (pcm_kvm.KIND/N with N known), or NULL after a
 * message naming the file and the line and column of a syntax error.
 * kinds: NULL-terminated; *which gets the index of the kind found.
 */
json_t *kv_json(const struct kv_text *t, const char *const *kinds, int *which);
/* The same check of a document already read: 0, or EXIT_OP after a message. */
int kv_json_kind(const struct kv_text *t, const json_t *doc, const char *const *kinds,
		 int *which);
/* Members of such a document; a wrong type is reported and returns EXIT_OP. */
int kv_json_str(const struct kv_text *t, const json_t *o, const char *key,
		char *dst, size_t size, bool required);
int kv_json_num(const struct kv_text *t, const json_t *o, const char *key,
		unsigned long long *out, bool required);
int kv_json_fs(const struct kv_text *t, const json_t *o, const char *key,
	       struct pcm_fs *fs, bool required);

/* s[0..n) printable: other bytes as \xNN, cut at 80 characters with "...". */
const char *kv_esc(const char *s, size_t n, char *out, size_t size);

#endif /* PCMCTL_KV_H */
