/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reader for raw CPUID dumps in the format `cpuid -1 -r` prints:
 *
 *	CPU:
 *	   0x00000007 0x00: eax=0x00000000 ebx=0x... ecx=0x... edx=0x...
 *
 * A dump of several CPUs ("CPU 0:", "CPU 1:", ...) is read up to the second
 * header: only the first logical CPU counts.
 */
#ifndef PCMCTL_CPUID_DUMP_H
#define PCMCTL_CPUID_DUMP_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

struct cpuid_leaf {
	__u32 leaf;
	__u32 subleaf;
	__u32 regs[4];	/* EAX, EBX, ECX, EDX */
	unsigned int line;	/* 1-based line in the file */
};

struct cpuid_dump {
	struct cpuid_leaf *e;
	size_t n;
	size_t cap;
};

/*
 * Read a dump from f.  On failure returns -1 and writes a message naming
 * the file (name) and the line to err; d is then empty.
 */
int cpuid_dump_read(FILE *f, const char *name, struct cpuid_dump *d,
		    char *err, size_t errlen);

/* The entry of (leaf, subleaf), or NULL. */
const struct cpuid_leaf *cpuid_dump_find(const struct cpuid_dump *d,
					 __u32 leaf, __u32 subleaf);

void cpuid_dump_free(struct cpuid_dump *d);

#endif /* PCMCTL_CPUID_DUMP_H */
