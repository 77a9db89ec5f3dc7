/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A raw CPUID dump (`cpuid -1 -r`), decoded once for decode and for the
 * profiles made from dumps.
 */
#ifndef PCMCTL_DUMP_H
#define PCMCTL_DUMP_H

#include <stdbool.h>

#include "kv.h"
#include "pcm_model.h"

struct dump_cpu {
	char vendor[13];
	char brand[49];		/* "" without leaves 0x80000002-4 */
	u32 signature;		/* leaf 1 EAX */
	unsigned int family, model, stepping;
	struct pcm_fs features;	/* every bit the CPU reports */
	unsigned long long max_basic_leaf, max_ext_leaf, phys_bits, xcr0;
	/* lm without syscall: taken in 32-bit mode (Intel) */
	bool no_syscall;
};

/*
 * Decode t.  Warns on stderr of leaves the dump should have and lacks.
 * 0, or EXIT_OP after a message.
 */
int dump_decode(const struct kv_text *t, struct dump_cpu *c);

#endif /* PCMCTL_DUMP_H */
