/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 16-bit real-mode benchmark guest: BMB_COUNT CPUIDs of one leaf between two
 * RDTSCs.  Every CPUID exits to KVM (kvm_emulate_cpuid -> kvm_cpuid), which
 * is where pcm_kvm's exit-path hook sits, so the cycles per CPUID include
 * whatever the hook costs.  The loop reloads EAX/ECX from memory because
 * CPUID clobbers them; EDI counts since CPUID leaves it alone;
 * ESI/EBP keep EAX/EDX of the last CPUID across the final RDTSC.
 */
#include "bench_guest.h"

#define MB(off)	(BENCH_MBOX_GPA + (off))

	.section .rodata.pcm_bench, "a"
	.code16
	.balign 16
	.globl bench_code_start
bench_code_start:
	movl	MB(BMB_COUNT), %edi
	/* Serialize: nothing before the first RDTSC may drift past it. */
	xorl	%eax, %eax
	cpuid
	rdtsc
	movl	%eax, MB(BMB_TSC0)
	movl	%edx, MB(BMB_TSC0 + 4)
1:	movl	MB(BMB_LEAF), %eax
	movl	MB(BMB_SUBLEAF), %ecx
	cpuid
	decl	%edi
	jnz	1b
	/* CPUID serializes, so the last one has retired before this RDTSC. */
	movl	%eax, %esi
	movl	%edx, %ebp
	rdtsc
	movl	%eax, MB(BMB_TSC1)
	movl	%edx, MB(BMB_TSC1 + 4)
	movl	%esi, MB(BMB_REGS)
	movl	%ebx, MB(BMB_REGS + 4)
	movl	%ecx, MB(BMB_REGS + 8)
	movl	%ebp, MB(BMB_REGS + 12)
	movb	$BENCH_DONE, %al
	outb	%al, $BENCH_PORT
2:	hlt
	jmp	2b
	.globl bench_code_end
bench_code_end:
	.code64

	.section .note.GNU-stack, "", @progbits
