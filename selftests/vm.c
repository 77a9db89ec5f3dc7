// SPDX-License-Identifier: GPL-2.0
/*
 * Minimal KVM runner for pcm_kvm_test (see vm.h).  Deliberately does not use
 * tools/testing/selftests/kvm/lib: the guest is a few real-mode instructions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm.h"

#define X86_CR4_OSXSAVE		(1ULL << 18)

static int kvm_dev_fd = -1;

int kvm_fd(void)
{
	if (kvm_dev_fd < 0) {
		kvm_dev_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		if (kvm_dev_fd < 0)
			return -errno;
	}
	return kvm_dev_fd;
}

bool kvm_available(void)
{
	int fd = kvm_fd();

	return fd >= 0 && ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION;
}

struct kvm_cpuid2 *cpuid2_alloc(unsigned int nent)
{
	struct kvm_cpuid2 *c;

	c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
	if (c)
		c->nent = nent;
	return c;
}

struct kvm_cpuid2 *cpuid2_dup(const struct kvm_cpuid2 *c)
{
	struct kvm_cpuid2 *d = cpuid2_alloc(c->nent);

	if (d)
		memcpy(d->entries, c->entries, c->nent * sizeof(c->entries[0]));
	return d;
}

struct kvm_cpuid_entry2 *cpuid2_find(struct kvm_cpuid2 *c, uint32_t leaf,
				     uint32_t subleaf)
{
	unsigned int i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == leaf &&
		    (c->entries[i].index == subleaf ||
		     !(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX)))
			return &c->entries[i];
	return NULL;
}

struct kvm_cpuid2 *kvm_supported_cpuid(void)
{
	unsigned int nent = 64;
	struct kvm_cpuid2 *c;
	int fd = kvm_fd();

	if (fd < 0)
		return NULL;
	for (;;) {
		c = cpuid2_alloc(nent);
		if (!c)
			return NULL;
		if (!ioctl(fd, KVM_GET_SUPPORTED_CPUID, c))
			return c;
		free(c);
		if (errno != E2BIG || nent >= 4096) {
			fprintf(stderr, "# KVM_GET_SUPPORTED_CPUID: %s\n", strerror(errno));
			return NULL;
		}
		nent *= 2;
	}
}

int vm_create(struct vm *vm)
{
	struct kvm_userspace_memory_region region = { 0 };
	size_t code_len = guest_code_end - guest_code_start;
	int fd = kvm_fd(), err;

	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = -1;
	vm->vcpu_fd = -1;
	vm->mem = MAP_FAILED;
	if (fd < 0)
		return fd;
	if (code_len > GUEST_CODE_MAX)
		return -E2BIG;

	vm->vm_fd = ioctl(fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		err = -errno;
		fprintf(stderr, "# KVM_CREATE_VM: %s\n", strerror(errno));
		return err;
	}
	vm->mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	memcpy((char *)vm->mem + GUEST_CODE_GPA, guest_code_start, code_len);

	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = GUEST_MEM_SIZE;
	region.userspace_addr = (uintptr_t)vm->mem;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region)) {
		err = -errno;
		fprintf(stderr, "# KVM_SET_USER_MEMORY_REGION: %s\n", strerror(errno));
		goto fail;
	}
	/* Needed on Intel only; harmless elsewhere. */
	ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	return 0;
fail:
	vm_destroy(vm);
	return err;
}

static int vcpu_reset_regs(struct vm *vm, const unsigned char *entry)
{
	struct kvm_regs regs = { 0 };

	regs.rip = GUEST_CODE_GPA + (entry - guest_code_start);
	regs.rsp = GUEST_STACK_TOP;
	regs.rflags = 0x2;
	return ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) ? -errno : 0;
}

int vm_add_vcpu(struct vm *vm)
{
	return vm_add_vcpu_id(vm, 0);
}

int vm_add_vcpu_id(struct vm *vm, unsigned long id)
{
	struct kvm_sregs sregs;
	uint16_t *ivt = vm->mem;
	unsigned int v;
	int mmap_size, err;

	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (vm->vcpu_fd < 0) {
		err = -errno;
		fprintf(stderr, "# KVM_CREATE_VCPU: %s\n", strerror(errno));
		return err;
	}
	mmap_size = ioctl(kvm_fd(), KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run))
		return -EIO;
	vm->run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED) {
		vm->run = NULL;
		return -errno;
	}
	vm->run_size = mmap_size;

	/* Real mode, flat: every segment base 0, CS:IP = 0:entry. */
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs))
		return -errno;
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	sregs.ds.selector = 0;
	sregs.ds.base = 0;
	sregs.es = sregs.ds;
	sregs.ss = sregs.ds;
	sregs.fs = sregs.ds;
	sregs.gs = sregs.ds;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs))
		return -errno;

	/* IVT: vectors 0..31 -> exception stubs */
	for (v = 0; v < GUEST_NR_STUBS; v++) {
		ivt[2 * v] = GUEST_CODE_GPA + (guest_exc_stubs - guest_code_start) +
			     v * GUEST_STUB_SIZE;
		ivt[2 * v + 1] = 0;
	}
	return vcpu_reset_regs(vm, guest_cpuid_entry);
}

void vm_close_vm_fd(struct vm *vm)
{
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	vm->vm_fd = -1;
}

void vm_close_vcpu(struct vm *vm)
{
	if (vm->run)
		munmap(vm->run, vm->run_size);
	vm->run = NULL;
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	vm->vcpu_fd = -1;
}

void vm_destroy(struct vm *vm)
{
	vm_close_vcpu(vm);
	vm_close_vm_fd(vm);
	if (vm->mem && vm->mem != MAP_FAILED)
		munmap(vm->mem, GUEST_MEM_SIZE);
	vm->mem = MAP_FAILED;
}

int vcpu_set_cpuid(struct vm *vm, const struct kvm_cpuid2 *c)
{
	return ioctl(vm->vcpu_fd, KVM_SET_CPUID2, c) ? -errno : 0;
}

struct kvm_cpuid2 *vcpu_get_cpuid(struct vm *vm)
{
	enum { MAX = 256 };
	struct kvm_cpuid2 *c = cpuid2_alloc(MAX);
	unsigned int i;

	if (!c)
		return NULL;
	/*
	 * Linux 6.1 does not copy the new nent back to user space: mark every
	 * slot so that the entries KVM wrote can be counted.
	 */
	for (i = 0; i < MAX; i++) {
		c->entries[i].function = 0xdeadbeef;
		c->entries[i].eax = 0xdeadbeef;
	}
	if (ioctl(vm->vcpu_fd, KVM_GET_CPUID2, c)) {
		int e = errno;

		free(c);
		errno = e;
		return NULL;
	}
	if (c->nent == MAX)
		for (i = 0; i < MAX; i++)
			if (c->entries[i].function == 0xdeadbeef &&
			    c->entries[i].eax == 0xdeadbeef) {
				c->nent = i;
				break;
			}
	return c;
}

int vcpu_update_cr4(struct vm *vm, uint64_t set, uint64_t clear)
{
	struct kvm_sregs sregs;

	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs))
		return -errno;
	sregs.cr4 = (sregs.cr4 | set) & ~clear;
	return ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) ? -errno : 0;
}

int vcpu_set_xcr0(struct vm *vm, uint64_t xcr0)
{
	struct kvm_xcrs xcrs = { .nr_xcrs = 1 };

	xcrs.xcrs[0].xcr = 0;
	xcrs.xcrs[0].value = xcr0;
	return ioctl(vm->vcpu_fd, KVM_SET_XCRS, &xcrs) ? -errno : 0;
}

static const char *exit_name(unsigned int reason)
{
	switch (reason) {
	case KVM_EXIT_IO: return "IO";
	case KVM_EXIT_HLT: return "HLT";
	case KVM_EXIT_MMIO: return "MMIO";
	case KVM_EXIT_SHUTDOWN: return "SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
	case KVM_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
	default: return "?";
	}
}

int vcpu_run_guest(struct vm *vm, const unsigned char *entry)
{
	struct kvm_run *run = vm->run;
	int err;

	err = vcpu_reset_regs(vm, entry);
	if (err)
		return err;
	if (ioctl(vm->vcpu_fd, KVM_RUN, 0)) {
		err = -errno;
		fprintf(stderr, "# KVM_RUN: %s\n", strerror(errno));
		return err;
	}
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != GUEST_PORT ||
	    run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 1) {
		struct kvm_regs regs;

		ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs);
		fprintf(stderr, "# unexpected exit %u (%s), rip 0x%llx, port 0x%x\n",
			run->exit_reason, exit_name(run->exit_reason),
			(unsigned long long)regs.rip,
			run->exit_reason == KVM_EXIT_IO ? run->io.port : 0);
		return -EIO;
	}
	return *((uint8_t *)run + run->io.data_offset);
}

static void *mbox(struct vm *vm, unsigned int off)
{
	return (char *)vm->mem + GUEST_MBOX_GPA + off;
}

int guest_cpuid(struct vm *vm, struct guest_cpuid *req, unsigned int n)
{
	struct guest_cpuid *e = mbox(vm, MB_ENTRIES);
	int r;

	if (n > MB_MAX_ENTRIES)
		return -E2BIG;
	memcpy(e, req, n * sizeof(*req));
	*(uint32_t *)mbox(vm, MB_COUNT) = n;
	*(uint32_t *)mbox(vm, MB_VECTOR) = ~0u;
	r = vcpu_run_guest(vm, guest_cpuid_entry);
	if (r == GUEST_DONE_EXCEPTION)
		fprintf(stderr, "# guest CPUID loop took vector %u\n",
			*(uint32_t *)mbox(vm, MB_VECTOR));
	if (r != GUEST_DONE_CPUID)
		return r < 0 ? r : -EIO;
	memcpy(req, e, n * sizeof(*req));
	return 0;
}

int guest_cpuid_loop(struct vm *vm, const struct guest_cpuid *ref, unsigned int n,
		     uint32_t loops, uint32_t *mismatches)
{
	int r;

	if (n > MB_MAX_ENTRIES)
		return -E2BIG;
	memcpy(mbox(vm, MB_ENTRIES), ref, n * sizeof(*ref));
	*(uint32_t *)mbox(vm, MB_COUNT) = n;
	*(uint32_t *)mbox(vm, MB_LOOPS) = loops;
	*(uint32_t *)mbox(vm, MB_MISMATCH) = ~0u;
	*(uint32_t *)mbox(vm, MB_VECTOR) = ~0u;
	r = vcpu_run_guest(vm, guest_cpuid_loop_entry);
	if (r == GUEST_DONE_EXCEPTION)
		fprintf(stderr, "# guest CPUID loop took vector %u\n",
			*(uint32_t *)mbox(vm, MB_VECTOR));
	if (r != GUEST_DONE_CPUID_LOOP)
		return r < 0 ? r : -EIO;
	*mismatches = *(uint32_t *)mbox(vm, MB_MISMATCH);
	if (*mismatches)
		fprintf(stderr, "# guest CPUID loop: %u results changed, first 0x%x.%u\n",
			*mismatches, *(uint32_t *)mbox(vm, MB_MISMATCH_LEAF),
			*(uint32_t *)mbox(vm, MB_MISMATCH_SUB));
	return 0;
}

int guest_rdmsr(struct vm *vm, uint32_t index, uint64_t *value, int *vector)
{
	int r;

	*(uint32_t *)mbox(vm, MB_MSR_INDEX) = index;
	*(uint32_t *)mbox(vm, MB_VECTOR) = ~0u;
	r = vcpu_run_guest(vm, guest_rdmsr_entry);
	*vector = -1;
	if (r == GUEST_DONE_EXCEPTION)
		*vector = *(uint16_t *)mbox(vm, MB_VECTOR);
	if (r == GUEST_DONE_RDMSR)
		*value = *(uint32_t *)mbox(vm, MB_MSR_LO) |
			 (uint64_t)*(uint32_t *)mbox(vm, MB_MSR_HI) << 32;
	return r;
}

struct one_msr {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e;
};

/* KVM_{GET,SET}_MSRS return how many MSRs they did. */
static int msr_ioctl(int fd, unsigned long req, struct one_msr *m)
{
	int r = ioctl(fd, req, m);

	if (r < 0)
		return -errno;
	return r == 1 ? 0 : -EINVAL;
}

int vcpu_set_msr(struct vm *vm, uint32_t index, uint64_t value)
{
	struct one_msr m = { .hdr.nmsrs = 1, .e.index = index, .e.data = value };

	return msr_ioctl(vm->vcpu_fd, KVM_SET_MSRS, &m);
}

int vcpu_get_msr(struct vm *vm, uint32_t index, uint64_t *value)
{
	struct one_msr m = { .hdr.nmsrs = 1, .e.index = index };
	int r = msr_ioctl(vm->vcpu_fd, KVM_GET_MSRS, &m);

	if (!r)
		*value = m.e.data;
	return r;
}

int kvm_check_extension(long cap)
{
	int r = ioctl(kvm_fd(), KVM_CHECK_EXTENSION, cap);

	return r < 0 ? -errno : r;
}

int kvm_get_feature_msr(uint32_t index, uint64_t *value)
{
	struct one_msr m = { .hdr.nmsrs = 1, .e.index = index };
	int r = msr_ioctl(kvm_fd(), KVM_GET_MSRS, &m);

	if (!r)
		*value = m.e.data;
	return r;
}

int guest_xsetbv(struct vm *vm, uint64_t xcr0, uint64_t *readback, int *vector)
{
	int r;

	*(uint32_t *)mbox(vm, MB_XCR0_LO) = (uint32_t)xcr0;
	*(uint32_t *)mbox(vm, MB_XCR0_HI) = (uint32_t)(xcr0 >> 32);
	*(uint32_t *)mbox(vm, MB_VECTOR) = ~0u;
	*(uint32_t *)mbox(vm, MB_XGETBV_LO) = 0;
	*(uint32_t *)mbox(vm, MB_XGETBV_HI) = 0;
	r = vcpu_run_guest(vm, guest_xsetbv_entry);
	*vector = -1;
	if (r == GUEST_DONE_EXCEPTION)
		*vector = *(uint16_t *)mbox(vm, MB_VECTOR);
	if (r == GUEST_DONE_XSETBV && readback)
		*readback = *(uint32_t *)mbox(vm, MB_XGETBV_LO) |
			    (uint64_t)*(uint32_t *)mbox(vm, MB_XGETBV_HI) << 32;
	return r;
}
