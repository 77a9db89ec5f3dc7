/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 16-bit real-mode guest code for pcm_kvm_test.  Copied by the host to
 * GUEST_CODE_GPA; the host points RIP at one of the entry points and writes
 * the IVT so vectors 0..31 land in guest_exc_stubs.  Every path ends with
 * `outb %al, $GUEST_PORT` (a KVM_EXIT_IO for the host), then HLT in a loop.
 */
#include "guest.h"

#define MB(off)	(GUEST_MBOX_GPA + (off))

	.section .rodata.pcm_guest, "a"
	.code16
	.balign 16
	.globl guest_code_start
guest_code_start:

/* Execute CPUID for each of the MB_COUNT (leaf, subleaf) requests. */
	.globl guest_cpuid_entry
guest_cpuid_entry:
	movw	$MB(MB_ENTRIES), %si
	movw	MB(MB_COUNT), %bp
1:	testw	%bp, %bp
	jz	2f
	movl	0(%si), %eax
	movl	4(%si), %ecx
	cpuid
	movl	%eax, 8(%si)
	movl	%ebx, 12(%si)
	movl	%ecx, 16(%si)
	movl	%edx, 20(%si)
	addw	$MB_ENTRY_SIZE, %si
	decw	%bp
	jmp	1b
2:	movb	$GUEST_DONE_CPUID, %al
	jmp	report

/*
 * MB_LOOPS passes over the MB_COUNT requests, comparing each result with the
 * one already in the entry: a guest's CPUID must not change while it runs.
 */
	.globl guest_cpuid_loop_entry
guest_cpuid_loop_entry:
	movl	$0, MB(MB_MISMATCH)
	movl	MB(MB_LOOPS), %edi
1:	testl	%edi, %edi
	jz	5f
	movw	$MB(MB_ENTRIES), %si
	movw	MB(MB_COUNT), %bp
2:	testw	%bp, %bp
	jz	4f
	movl	0(%si), %eax
	movl	4(%si), %ecx
	cpuid
	cmpl	%eax, 8(%si)
	jne	3f
	cmpl	%ebx, 12(%si)
	jne	3f
	cmpl	%ecx, 16(%si)
	jne	3f
	cmpl	%edx, 20(%si)
	je	6f
3:	cmpl	$0, MB(MB_MISMATCH)
	jne	7f
	movl	0(%si), %eax
	movl	%eax, MB(MB_MISMATCH_LEAF)
	movl	4(%si), %eax
	movl	%eax, MB(MB_MISMATCH_SUB)
7:	incl	MB(MB_MISMATCH)
6:	addw	$MB_ENTRY_SIZE, %si
	decw	%bp
	jmp	2b
4:	decl	%edi
	jmp	1b
5:	movb	$GUEST_DONE_CPUID_LOOP, %al
	jmp	report

/* XSETBV(XCR0 = MB_XCR0_HI:MB_XCR0_LO), then read it back with XGETBV. */
	.globl guest_xsetbv_entry
guest_xsetbv_entry:
	movl	MB(MB_XCR0_LO), %eax
	movl	MB(MB_XCR0_HI), %edx
	xorl	%ecx, %ecx
	xsetbv
	xorl	%ecx, %ecx
	xgetbv
	movl	%eax, MB(MB_XGETBV_LO)
	movl	%edx, MB(MB_XGETBV_HI)
	movb	$GUEST_DONE_XSETBV, %al
	jmp	report

/* RDMSR(MB_MSR_INDEX) into MB_MSR_HI:MB_MSR_LO. */
	.globl guest_rdmsr_entry
guest_rdmsr_entry:
	movl	MB(MB_MSR_INDEX), %ecx
	rdmsr
	movl	%eax, MB(MB_MSR_LO)
	movl	%edx, MB(MB_MSR_HI)
	movb	$GUEST_DONE_RDMSR, %al
	jmp	report

/* Vector N enters stub N, which pushes N. */
exc_common:
	popw	%ax
	movw	%ax, MB(MB_VECTOR)
	movb	$GUEST_DONE_EXCEPTION, %al
report:
	outb	%al, $GUEST_PORT
3:	hlt
	jmp	3b

	.balign GUEST_STUB_SIZE
	.globl guest_exc_stubs
guest_exc_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.balign GUEST_STUB_SIZE
	pushw	$\v
	jmp	exc_common
	.endr

	.globl guest_code_end
guest_code_end:
	.code64

	.section .note.GNU-stack, "", @progbits
