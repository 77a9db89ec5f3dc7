/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the libFuzzer targets of fuzz/.  Each target is one .c file
 * built with clang -fsanitize=fuzzer,address,undefined against the same
 * model sources as the module and pcmctl (module/pcm_model.c,
 * pcm_identity.c, tools/pcmctl/cpuid_dump.c).
 *
 * Besides memory and UB errors, the targets check properties the parsers
 * promise (round trips, error pointers inside the input, closed allow-lists).
 * A broken property is reported by fuzz_fail(), which aborts: libFuzzer
 * then saves the input as a crash like any sanitizer report.
 */
#ifndef PCM_FUZZ_H
#define PCM_FUZZ_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcm_model.h"
#include "compiler.h"

#ifndef fallthrough
#define fallthrough	__pcmctl_attr(__fallthrough__)
#endif

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

#define FUZZ_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static inline __pcmctl_attr(noreturn) __printf(4, 5)
void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\n==fuzz== property violated at %s:%d: %s%s", file,
		line, cond, *fmt ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/*
 * Abort with the condition's text when it does not hold; an optional
 * printf-style note follows: FUZZ_CHECK(a == b, "a %d", a).
 */
#define FUZZ_CHECK(cond, ...)						\
	do {								\
		if (!(cond))						\
			fuzz_fail(__FILE__, __LINE__, #cond, "" __VA_ARGS__); \
	} while (0)

/* True if the set is closed under the table's dependencies. */
static inline bool fuzz_closed(const struct pcm_fs *fs)
{
	struct pcm_fs c = *fs;

	pcm_fs_close(&c);
	return pcm_fs_equal(&c, fs);
}

/* Take n bytes off the front of the input, zero-padded past its end. */
static inline void fuzz_take(const u8 **data, size_t *size, void *out, size_t n)
{
	size_t k = *size < n ? *size : n;

	memset(out, 0, n);
	memcpy(out, *data, k);
	*data += k;
	*size -= k;
}

/*
 * What a parsed identity keeps of a struct: the vendor up to its first NUL,
 * unprintable bytes as '?', "-" meaning none; only the table's features.
 */
static inline void fuzz_identity_normalize(struct pcm_kvm_identity *id)
{
	struct pcm_fs known;
	char v[sizeof(id->vendor)];
	size_t i;

	memset(v, 0, sizeof(v));
	for (i = 0; i < sizeof(v) && id->vendor[i]; i++)
		v[i] = id->vendor[i] < 0x20 || id->vendor[i] > 0x7e ? '?' : id->vendor[i];
	if (v[0] == '-' && !v[1])
		v[0] = '\0';
	memcpy(id->vendor, v, sizeof(v));
	pcm_fs_known(&known);
	pcm_fs_and(&id->features, &id->features, &known);
	id->flags &= PCM_KVM_ID_TSC_SCALING;	/* the kernel refuses the rest */
}

#endif /* PCM_FUZZ_H */
