/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layout shared by the 16-bit guest (guest.S) and the host side (vm.c).
 *
 * The guest runs in real mode with every segment base 0, so a guest physical
 * address below 64 KiB is also the offset the code uses.
 *
 *   0x0000  IVT (256 x seg:off), written by the host
 *   0x1000  guest code (the blob between guest_code_start/guest_code_end)
 *   0x4000  mailbox (below), written by both
 *   0x8000  top of the stack
 */
#ifndef PCM_SELFTEST_GUEST_H
#define PCM_SELFTEST_GUEST_H

#define GUEST_MEM_SIZE		0x10000
#define GUEST_CODE_GPA		0x1000
#define GUEST_CODE_MAX		0x3000
#define GUEST_MBOX_GPA		0x4000
#define GUEST_STACK_TOP		0x8000

/* The guest reports with `outb %al, $GUEST_PORT`; AL is one of GUEST_DONE_*. */
#define GUEST_PORT		0x10
#define GUEST_DONE_CPUID	0x01
#define GUEST_DONE_XSETBV	0x02
#define GUEST_DONE_CPUID_LOOP	0x03
#define GUEST_DONE_RDMSR	0x04
#define GUEST_DONE_EXCEPTION	0xee

/* Mailbox offsets (from GUEST_MBOX_GPA) */
#define MB_VECTOR		0x00	/* u32: exception vector (stub number) */
#define MB_COUNT		0x04	/* u32: number of CPUID requests */
#define MB_XCR0_LO		0x08	/* u32: EDX:EAX for XSETBV */
#define MB_XCR0_HI		0x0c
#define MB_XGETBV_LO		0x10	/* u32: XGETBV(0) after a good XSETBV */
#define MB_XGETBV_HI		0x14
#define MB_LOOPS		0x18	/* u32: passes of the CPUID loop */
#define MB_MISMATCH		0x1c	/* u32: results that differed from the entries */
#define MB_MISMATCH_LEAF	0x20	/* u32: leaf of the first one */
#define MB_MISMATCH_SUB		0x24	/* u32: its subleaf */
#define MB_MSR_INDEX		0x28	/* u32: ECX for RDMSR */
#define MB_MSR_LO		0x2c	/* u32: EAX it returned */
#define MB_MSR_HI		0x30	/* u32: EDX */
#define MB_ENTRIES		0x40	/* struct guest_cpuid[MB_MAX_ENTRIES] */
#define MB_ENTRY_SIZE		24
#define MB_MAX_ENTRIES		64

/* Exception stubs: one per vector 0..31, GUEST_STUB_SIZE bytes apart. */
#define GUEST_NR_STUBS		32
#define GUEST_STUB_SIZE		8

#ifndef __ASSEMBLER__
#include <stdint.h>

struct guest_cpuid {
	uint32_t leaf, subleaf;		/* in */
	uint32_t regs[4];		/* out: EAX, EBX, ECX, EDX */
};

extern const unsigned char guest_code_start[], guest_code_end[];
extern const unsigned char guest_cpuid_entry[], guest_xsetbv_entry[];
extern const unsigned char guest_cpuid_loop_entry[], guest_rdmsr_entry[];
extern const unsigned char guest_exc_stubs[];
#endif

#endif /* PCM_SELFTEST_GUEST_H */
