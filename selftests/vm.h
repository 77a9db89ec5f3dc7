/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal, self-contained KVM runner for pcm_kvm_test: one VM, one memory
 * slot at GPA 0, one vCPU in 16-bit real mode running guest.S.
 * Functions return 0 or -errno and never exit; they print "# ..." diagnostics.
 */
#ifndef PCM_SELFTEST_VM_H
#define PCM_SELFTEST_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "guest.h"

struct vm {
	int vm_fd;
	int vcpu_fd;			/* -1 until vm_add_vcpu() */
	void *mem;			/* GUEST_MEM_SIZE bytes at GPA 0 */
	struct kvm_run *run;
	size_t run_size;
};

/* /dev/kvm, opened once per process (O_CLOEXEC); -errno if absent. */
int kvm_fd(void);
bool kvm_available(void);

/* KVM_GET_SUPPORTED_CPUID; malloc'ed, caller frees. NULL on error. */
struct kvm_cpuid2 *kvm_supported_cpuid(void);
struct kvm_cpuid2 *cpuid2_alloc(unsigned int nent);
struct kvm_cpuid2 *cpuid2_dup(const struct kvm_cpuid2 *c);
struct kvm_cpuid_entry2 *cpuid2_find(struct kvm_cpuid2 *c, uint32_t leaf,
				     uint32_t subleaf);

/* KVM_CREATE_VM and the memory slot with the guest code; no vCPU yet. */
int vm_create(struct vm *vm);
/* vCPU 0, its kvm_run mapping, and real-mode registers. */
int vm_add_vcpu(struct vm *vm);
/*
 * vCPU id instead.  For a second vCPU of one VM, copy the struct vm, set its
 * vcpu_fd to -1 and run to NULL, add the vCPU to the copy, and release the
 * copy with vm_close_vcpu() only.  vCPUs share the guest memory: run them
 * one at a time.
 */
int vm_add_vcpu_id(struct vm *vm, unsigned long id);
/* Close the VM fd only (a vCPU keeps the VM alive). */
void vm_close_vm_fd(struct vm *vm);
/* Close the vCPU and unmap its kvm_run. */
void vm_close_vcpu(struct vm *vm);
void vm_destroy(struct vm *vm);

int vcpu_set_cpuid(struct vm *vm, const struct kvm_cpuid2 *c);
/* KVM_GET_CPUID2; malloc'ed, caller frees.  NULL (errno set) on error. */
struct kvm_cpuid2 *vcpu_get_cpuid(struct vm *vm);
/* OR (set) and clear CR4 bits with KVM_GET/SET_SREGS. */
int vcpu_update_cr4(struct vm *vm, uint64_t set, uint64_t clear);

/*
 * KVM_SET_XCRS(XCR0): KVM checks the value against the XCR0 bits the vCPU's
 * CPUID allows, as it does for a guest XSETBV that exits to it.
 */
int vcpu_set_xcr0(struct vm *vm, uint64_t xcr0);

/*
 * Run the guest from entry until it reports on GUEST_PORT.  Returns the
 * GUEST_DONE_* code (>0), or -errno of KVM_RUN, or -EIO for any other exit.
 */
int vcpu_run_guest(struct vm *vm, const unsigned char *entry);

/* Let the guest execute CPUID for each req[i].leaf/subleaf (n <= MB_MAX_ENTRIES). */
int guest_cpuid(struct vm *vm, struct guest_cpuid *req, unsigned int n);
/*
 * Let the guest execute CPUID for each of ref[0..n) loops times, comparing
 * every result with ref[i].regs (from guest_cpuid()).  Returns 0 and sets
 * *mismatches (first one printed), or -errno as vcpu_run_guest().
 */
int guest_cpuid_loop(struct vm *vm, const struct guest_cpuid *ref, unsigned int n,
		     uint32_t loops, uint32_t *mismatches);
/*
 * Let the guest run XSETBV(0, xcr0).  Returns GUEST_DONE_XSETBV (then
 * *readback = XGETBV(0)) or GUEST_DONE_EXCEPTION (then *vector is set), or
 * -errno as vcpu_run_guest().
 */
int guest_xsetbv(struct vm *vm, uint64_t xcr0, uint64_t *readback, int *vector);
/*
 * Let the guest run RDMSR(index).  Returns GUEST_DONE_RDMSR (then *value is
 * set) or GUEST_DONE_EXCEPTION (then *vector is set), or -errno as
 * vcpu_run_guest().
 */
int guest_rdmsr(struct vm *vm, uint32_t index, uint64_t *value, int *vector);

/* One MSR of the vCPU (KVM_SET_MSRS/KVM_GET_MSRS): 0 or -errno. */
int vcpu_set_msr(struct vm *vm, uint32_t index, uint64_t value);
int vcpu_get_msr(struct vm *vm, uint32_t index, uint64_t *value);
/* KVM_CHECK_EXTENSION of /dev/kvm: its answer, or -errno. */
int kvm_check_extension(long cap);
/* A feature MSR as /dev/kvm offers it: 0 or -errno. */
int kvm_get_feature_msr(uint32_t index, uint64_t *value);

#endif /* PCM_SELFTEST_VM_H */
