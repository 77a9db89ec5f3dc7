// SPDX-License-Identifier: GPL-2.0
/*
 * KVM through its own uAPI, from the process that loads the module (the
 * module's init runs in modprobe's context: its files and its memory).
 *
 *   - What KVM offers a guest: KVM_GET_SUPPORTED_CPUID and, for
 *     IA32_ARCH_CAPABILITIES, KVM_GET_MSRS of /dev/kvm: exactly what a VMM
 *     reads, on every kernel.  KVM's internal capability words are not
 *     exported to other modules on current kernels, and their layout
 *     differs per build.
 *   - A throwaway VM that walks each path pcm_kvm hooks (KVM_CREATE_VM,
 *     KVM_CREATE_VCPU, KVM_SET_CPUID, KVM_SET_CPUID2, KVM_SET_MSRS, a
 *     guest CPUID, KVM_RUN), for
 *     pcm_hooks.c to prove its probes live before the module loads.
 *
 * /dev/kvm stays open for the module's life: KVM sets the file's owner to
 * the vendor module (kvm_intel or kvm_amd), so neither it nor kvm.ko, in
 * which every probe sits and whose offer is cached here, can go away
 * under pcm_kvm.
 *
 * Ioctl arguments live in a few pages mapped into the loader's address
 * space for the duration of the call, as a VMM's would.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "pcm_kvm.h"

static struct file *pcm_kvm_file;
static struct pcm_fs pcm_kvm_offer;
static u64 pcm_kvm_arch_cap;		/* MSR 0x10a as KVM offers it, raw */
static bool pcm_kvm_tsc_scaling;	/* KVM_CAP_TSC_CONTROL */
static u32 pcm_kvm_tsc_khz;		/* a new vCPU's TSC rate (the proof VM's) */
static u32 pcm_kvm_max_leaf[2];		/* CPUID.0 EAX, CPUID.80000000 EAX */

/* The loader's scratch pages: [0, 3) arguments, page 4 guest memory. */
#define PCM_SCRATCH_PAGES	5
#define PCM_GUEST_PAGE		4

static unsigned long pcm_scratch_map(void)
{
	unsigned long addr;

	addr = vm_mmap(NULL, 0, PCM_SCRATCH_PAGES * PAGE_SIZE,
		       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(addr))
		return 0;
	return addr;
}

static void pcm_scratch_unmap(unsigned long addr)
{
	vm_munmap(addr, PCM_SCRATCH_PAGES * PAGE_SIZE);
}

/*
 * What the ioctl system call does once it has the file: vfs_ioctl() is not
 * exported on every kernel, and KVM's files have no other way in.
 */
static long pcm_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	if (!f->f_op->unlocked_ioctl)
		return -ENOTTY;
	return f->f_op->unlocked_ioctl(f, cmd, arg);
}

static int pcm_kvmdev_read_supported(unsigned long uaddr)
{
	struct kvm_cpuid2 __user *uc = (struct kvm_cpuid2 __user *)uaddr;
	struct kvm_cpuid2 hdr = { .nent = KVM_MAX_CPUID_ENTRIES };
	struct kvm_cpuid_entry2 *e;
	long ret;
	u32 i;

	BUILD_BUG_ON(struct_size(uc, entries, KVM_MAX_CPUID_ENTRIES) >
		     PCM_GUEST_PAGE * PAGE_SIZE);
	if (copy_to_user(uc, &hdr, sizeof(hdr)))
		return -EFAULT;
	ret = pcm_ioctl(pcm_kvm_file, KVM_GET_SUPPORTED_CPUID, uaddr);
	if (ret < 0) {
		pr_err("KVM_GET_SUPPORTED_CPUID failed (%ld); not loading\n", ret);
		return ret;
	}
	if (copy_from_user(&hdr, uc, sizeof(hdr)))
		return -EFAULT;
	if (!hdr.nent || hdr.nent > KVM_MAX_CPUID_ENTRIES)
		return -EIO;
	e = kvcalloc(hdr.nent, sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	if (copy_from_user(e, uc->entries, hdr.nent * sizeof(*e))) {
		kvfree(e);
		return -EFAULT;
	}
	pcm_fs_from_entries(e, hdr.nent, &pcm_kvm_offer);
	for (i = 0; i < hdr.nent; i++) {
		if (e[i].function == 0)
			pcm_kvm_max_leaf[0] = e[i].eax;
		else if (e[i].function == 0x80000000)
			pcm_kvm_max_leaf[1] = e[i].eax;
	}
	kvfree(e);
	return 0;
}

/*
 * IA32_ARCH_CAPABILITIES as KVM_GET_MSRS of /dev/kvm reports it: the value
 * a new vCPU starts with and a VMM copies.  A KVM whose feature MSR list
 * lacks it offers none.
 */
static int pcm_kvmdev_read_arch_cap(unsigned long uaddr)
{
	struct kvm_msr_list __user *ul = (struct kvm_msr_list __user *)uaddr;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = PCM_MSR_ARCH_CAPABILITIES };
	u32 n = (PCM_GUEST_PAGE * PAGE_SIZE - sizeof(*ul)) / sizeof(u32);
	u32 i, index;
	long ret;

	if (put_user(n, &ul->nmsrs))
		return -EFAULT;
	ret = pcm_ioctl(pcm_kvm_file, KVM_GET_MSR_FEATURE_INDEX_LIST, uaddr);
	if (ret < 0) {
		pr_err("KVM_GET_MSR_FEATURE_INDEX_LIST failed (%ld); not loading\n", ret);
		return ret;
	}
	if (get_user(n, &ul->nmsrs))
		return -EFAULT;
	for (i = 0; i < n; i++) {
		if (get_user(index, &ul->indices[i]))
			return -EFAULT;
		if (index == PCM_MSR_ARCH_CAPABILITIES)
			break;
	}
	if (i == n)
		return 0;
	if (copy_to_user((void __user *)uaddr, &m, sizeof(m)))
		return -EFAULT;
	ret = pcm_ioctl(pcm_kvm_file, KVM_GET_MSRS, uaddr);
	if (ret != 1) {
		pr_err("KVM_GET_MSRS of IA32_ARCH_CAPABILITIES failed (%ld); not loading\n", ret);
		return ret < 0 ? ret : -EIO;
	}
	if (copy_from_user(&m, (void __user *)uaddr, sizeof(m)))
		return -EFAULT;
	pcm_kvm_arch_cap = m.e.data;
	return 0;
}

int pcm_kvmdev_init(void)
{
	unsigned long scratch;
	int ret;

	/* modprobe, insmod, systemd-modules-load: always a user process. */
	if (!current->mm) {
		pr_err("loaded without a user process; not loading\n");
		return -EINVAL;
	}
	pcm_kvm_file = filp_open("/dev/kvm", O_RDWR, 0);
	if (IS_ERR(pcm_kvm_file)) {
		ret = PTR_ERR(pcm_kvm_file);
		pcm_kvm_file = NULL;
		pr_err("cannot open /dev/kvm (%d): load kvm_intel or kvm_amd first; not loading\n",
		       ret);
		/* insmod reads ENOENT as "Unknown symbol in module" */
		return ret == -ENOENT ? -ENODEV : ret;
	}
	scratch = pcm_scratch_map();
	if (!scratch) {
		ret = -ENOMEM;
		goto err;
	}
	ret = pcm_kvmdev_read_supported(scratch) ?:
	      pcm_kvmdev_read_arch_cap(scratch);
	pcm_kvm_tsc_scaling = pcm_ioctl(pcm_kvm_file, KVM_CHECK_EXTENSION,
					KVM_CAP_TSC_CONTROL) > 0;
	pcm_scratch_unmap(scratch);
	if (ret)
		goto err;
	pcm_fs_put_arch_cap(&pcm_kvm_offer, pcm_kvm_arch_cap);
	return 0;
err:
	fput(pcm_kvm_file);
	pcm_kvm_file = NULL;
	return ret;
}

void pcm_kvmdev_exit(void)
{
	if (pcm_kvm_file)
		fput(pcm_kvm_file);
	pcm_kvm_file = NULL;
}

void pcm_kvmdev_offer(struct pcm_fs *fs, u32 *max_basic, u32 *max_ext)
{
	*fs = pcm_kvm_offer;
	*max_basic = pcm_kvm_max_leaf[0];
	*max_ext = pcm_kvm_max_leaf[1];
}

void pcm_kvmdev_set_tsc_khz(u32 khz)
{
	WRITE_ONCE(pcm_kvm_tsc_khz, khz);
}

void pcm_kvmdev_tsc(u32 *khz, bool *scaling)
{
	*khz = READ_ONCE(pcm_kvm_tsc_khz);
	*scaling = pcm_kvm_tsc_scaling;
}

/* An fd KVM installed in the loader's table, as a file of our own. */
static struct file *pcm_take_fd(long fd)
{
	struct file *f;

	if (fd < 0)
		return ERR_PTR(fd);
	f = fget(fd);
	close_fd(fd);
	return f ?: ERR_PTR(-EBADF);
}

/* Real mode at reset starts at 0xfffffff0: the last page of 4 GiB. */
#define PCM_GUEST_GPA		0xfffff000ULL
#define PCM_GUEST_ENTRY		0xff0

static int pcm_exercise_setup(struct file *vm, unsigned long scratch)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0,
		.guest_phys_addr = PCM_GUEST_GPA,
		.memory_size = PAGE_SIZE,
		.userspace_addr = scratch + PCM_GUEST_PAGE * PAGE_SIZE,
	};
	/* cpuid (leaf 0); hlt */
	static const u8 code[] = { 0x0f, 0xa2, 0xf4 };
	u8 *buf;
	long ret;

	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	/* hlt everywhere else: a guest that went on past its hlt halts again */
	memset(buf, 0xf4, PAGE_SIZE);
	memcpy(buf + PCM_GUEST_ENTRY, code, sizeof(code));
	ret = copy_to_user((void __user *)r.userspace_addr, buf, PAGE_SIZE);
	kfree(buf);
	if (ret)
		return -EFAULT;
	if (copy_to_user((void __user *)scratch, &r, sizeof(r)))
		return -EFAULT;
	ret = pcm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, scratch);
	return ret < 0 ? ret : 0;
}

/* IA32_ARCH_CAPABILITIES = 0, which KVM accepts with or without CPUID. */
static long pcm_exercise_set_msrs(struct file *vcpu, unsigned long scratch)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = PCM_MSR_ARCH_CAPABILITIES };

	if (copy_to_user((void __user *)scratch, &m, sizeof(m)))
		return -EFAULT;
	return pcm_ioctl(vcpu, KVM_SET_MSRS, scratch);
}

static long pcm_exercise_set_cpuid(struct file *vcpu, unsigned long scratch,
				   bool v2)
{
	/* Leaf 0 only: max basic leaf 0, so the guest's CPUID(0) is exact. */
	struct {
		struct kvm_cpuid hdr;
		struct kvm_cpuid_entry e;
	} c1 = { .hdr.nent = 1 };
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e;
	} c2 = { .hdr.nent = 1 };
	long ret;

	if (v2)
		ret = copy_to_user((void __user *)scratch, &c2, sizeof(c2));
	else
		ret = copy_to_user((void __user *)scratch, &c1, sizeof(c1));
	if (ret)
		return -EFAULT;
	return pcm_ioctl(vcpu, v2 ? KVM_SET_CPUID2 : KVM_SET_CPUID, scratch);
}

/*
 * A VM with one vCPU whose guest executes CPUID, then HLT.  Its memory and
 * the ioctl arguments live in the loader's scratch pages; the files are
 * ours, their fds closed at once, so the loader never sees them.
 */
int pcm_kvmdev_vm_create(struct pcm_kvmdev_vm *t)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->scratch = pcm_scratch_map();
	if (!t->scratch)
		return -ENOMEM;
	t->vm = pcm_take_fd(pcm_ioctl(pcm_kvm_file, KVM_CREATE_VM, 0));
	if (IS_ERR(t->vm)) {
		ret = PTR_ERR(t->vm);
		t->vm = NULL;
		goto err;
	}
	ret = pcm_exercise_setup(t->vm, t->scratch);
	if (ret)
		goto err;
	t->vcpu = pcm_take_fd(pcm_ioctl(t->vm, KVM_CREATE_VCPU, 0));
	if (IS_ERR(t->vcpu)) {
		ret = PTR_ERR(t->vcpu);
		t->vcpu = NULL;
		goto err;
	}
	return 0;
err:
	pcm_kvmdev_vm_destroy(t);
	return ret;
}

long pcm_kvmdev_vm_call(struct pcm_kvmdev_vm *t, enum pcm_kvmdev_call call)
{
	switch (call) {
	case PCM_CALL_SET_CPUID:
		return pcm_exercise_set_cpuid(t->vcpu, t->scratch, false);
	case PCM_CALL_SET_CPUID2:
		return pcm_exercise_set_cpuid(t->vcpu, t->scratch, true);
	case PCM_CALL_SET_MSRS:
		return pcm_exercise_set_msrs(t->vcpu, t->scratch);
	case PCM_CALL_RUN:
		return pcm_ioctl(t->vcpu, KVM_RUN, 0);
	}
	return -EINVAL;
}

/*
 * KVM frees the VM when the last reference to its files goes: here, or as
 * the loader returns to user space (fput() of a user task is deferred).
 */
void pcm_kvmdev_vm_destroy(struct pcm_kvmdev_vm *t)
{
	if (t->vcpu)
		fput(t->vcpu);
	if (t->vm)
		fput(t->vm);
	if (t->scratch)
		pcm_scratch_unmap(t->scratch);
	memset(t, 0, sizeof(*t));
}
