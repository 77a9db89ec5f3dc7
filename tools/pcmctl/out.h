/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The output layer.  A command builds its document once, as a JSON object
 * (jansson) whose first member is "format": "pcm_kvm.KIND/1".  --json
 * prints that object; the text is rendered from the same object by the
 * command's text view, so text and JSON cannot say different things.
 */
#ifndef PCMCTL_OUT_H
#define PCMCTL_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "compiler.h"
#include "pcm_model.h"

#define OUT_JSON_VERSION	1U	/* the /1 of "pcm_kvm.KIND/1" */
#define OUT_TEXT_VERSION	1U	/* pcm_kvm_profile: 1, pcm_kvm_pool: 1 */

/* A new document {"format": "pcm_kvm.KIND/1"}. */
json_t *out_doc(const char *kind);
/* "pcm_kvm.KIND/1" */
const char *out_format(const char *kind, char *buf, size_t size);

/* Members and values; an allocation failure ends pcmctl (exit 1). */
__pcmctl_attr(noreturn) void out_oom(void);
json_t *out_check(json_t *v);
void out_set(json_t *obj, const char *key, json_t *v);
void out_set_str(json_t *obj, const char *key, const char *s);	/* NULL: null */
void out_set_strn(json_t *obj, const char *key, const char *s, size_t n);
void out_set_int(json_t *obj, const char *key, unsigned long long v);
void out_set_bool(json_t *obj, const char *key, bool v);
void out_set_fs(json_t *obj, const char *key, const struct pcm_fs *fs);
void out_append(json_t *arr, json_t *v);
void out_append_str(json_t *arr, const char *s);
json_t *out_str(const char *s);		/* any bytes: invalid UTF-8 as U+FFFD */
json_t *out_strn(const char *s, size_t n);
json_t *out_fs(const struct pcm_fs *fs);	/* ["fpu", "vme", ...] */
json_t *out_obj(void);
json_t *out_arr(void);
/* "x86-64-v2", or "none" below min */
const char *out_level_name(const struct pcm_fs *fs);

/*
 * Print doc as JSON (one line) or through view, then free it.  0, or
 * EXIT_OP on a write error.
 */
typedef void (*out_view_fn)(const json_t *doc);
int out_print(json_t *doc, bool json, out_view_fn view);

/*
 * Text views read the document with these: a missing member reads as
 * null.  The text of a value: a string as is, a number in decimal, an
 * array as its items joined by blanks, null and [] as empty.
 */
const json_t *tx_get(const json_t *obj, const char *key);
const char *tx_str(const json_t *obj, const char *key);	/* "" for null */
unsigned long long tx_int(const json_t *obj, const char *key);
bool tx_bool(const json_t *obj, const char *key);
size_t tx_len(const json_t *obj, const char *key);		/* array size */
/* "LABEL: value" with empty as empty_text ("-", "(none)", ...) */
void tx_line(const char *label, const json_t *v, const char *empty_text);
/* "KEY: value" of obj's member KEY */
void tx_key(const json_t *obj, const char *key, const char *empty_text);
void tx_hex(const json_t *obj, const char *key);		/* "KEY: 0x%llx" */
/* the words of an array, each after sep */
void tx_words(const json_t *arr, const char *sep);

#endif /* PCMCTL_OUT_H */
