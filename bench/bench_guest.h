/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layout of the benchmark guest (bench_guest.S), which pcm_bench copies into
 * the memory of a VM made by selftests/vm.c.  It lives above that runner's
 * stack (GUEST_STACK_TOP, 0x8000) so the selftest guest's code, mailbox and
 * IVT are left as vm.c wrote them; real mode, every segment base 0.
 */
#ifndef PCM_BENCH_GUEST_H
#define PCM_BENCH_GUEST_H

#define BENCH_CODE_GPA		0x9000
#define BENCH_CODE_MAX		0x1000
#define BENCH_MBOX_GPA		0xa000

/* The guest reports with `outb %al, $BENCH_PORT`. */
#define BENCH_PORT		0x11
#define BENCH_DONE		0x42

/* Mailbox offsets (from BENCH_MBOX_GPA) */
#define BMB_COUNT		0x00	/* u32 in: number of CPUIDs (>= 1) */
#define BMB_LEAF		0x04	/* u32 in: EAX for CPUID */
#define BMB_SUBLEAF		0x08	/* u32 in: ECX for CPUID */
#define BMB_TSC0		0x10	/* u64 out: RDTSC before the first CPUID */
#define BMB_TSC1		0x18	/* u64 out: RDTSC after the last CPUID */
#define BMB_REGS		0x20	/* u32[4] out: EAX..EDX of the last CPUID */

#ifndef __ASSEMBLER__
extern const unsigned char bench_code_start[], bench_code_end[];
#endif

#endif /* PCM_BENCH_GUEST_H */
