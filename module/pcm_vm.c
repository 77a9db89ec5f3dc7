// SPDX-License-Identifier: GPL-2.0
/*
 * The VMs pcm_kvm manages: the registry, each VM's state and its
 * transitions (mode, expect, the CPUID KVM holds, the verdict, the first
 * KVM_RUN) and its sysfs directory /sys/kernel/pcm_kvm/vms/<pid>-<fd>/
 * (whose files are in pcm_sysfs.c).  Probe handlers (pcm_hooks.c) call in
 * here; this file calls the policy, the exit-probe switch and the model.
 *
 * VMs are found from probe handlers (atomic context) through an RCU hash
 * keyed by the struct kvm address.  sysfs directories cannot be created
 * there.  The VMM's own thread names the VM (its fd) and adds its
 * directory as KVM_CREATE_VM returns to user space (task work), so it
 * exists when the VMM holds the fd; an ordered workqueue removes it.
 * Whichever runs second of the add and the removal sees the other's result
 * under pcm_sysfs_lock.
 *
 * Every registered VM holds a reference on this module, so the module
 * cannot be unloaded while it manages a VM (rmmod fails with EBUSY).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/kvm_host.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/task_work.h>
#include "pcm_kvm.h"

static DEFINE_HASHTABLE(pcm_vm_hash, 8);
static DEFINE_RAW_SPINLOCK(pcm_vm_hash_lock);	/* writers of pcm_vm_hash */
static atomic64_t pcm_vm_serial = ATOMIC64_INIT(0);

static DEFINE_MUTEX(pcm_sysfs_lock);		/* pcm_vm_list, names, in_sysfs */
static LIST_HEAD(pcm_vm_list);
static struct kobject *pcm_vms_kobj;
static struct workqueue_struct *pcm_wq;

static void pcm_vm_set_exit(struct pcm_vm *vm, bool needed,
			    const struct pcm_fs *allow);
static void pcm_vm_update_exit(struct pcm_vm *vm);
static void pcm_vm_update_verdict(struct pcm_vm *vm);
static void pcm_vm_log_blocked(struct pcm_vm *vm);

static void pcm_vm_pool_fill(struct work_struct *work);

static struct pcm_vm *to_vm(struct kobject *kobj)
{
	return container_of(kobj, struct pcm_vm, kobj);
}

static struct pcm_vm *pcm_vm_lookup(const struct kvm *kvm)
{
	unsigned long key = (unsigned long)kvm;
	struct pcm_vm *vm;

	hash_for_each_possible_rcu(pcm_vm_hash, vm, hnode, key)
		if (vm->key == key)
			return vm;
	return NULL;
}

static void pcm_vm_release(struct kobject *kobj)
{
	struct pcm_vm *vm = to_vm(kobj);

	pcm_policy_put(rcu_dereference_protected(vm->policy, 1));
	/* Probe handlers may still be reading it under RCU. */
	kfree_rcu(vm, rcu);
	module_put(THIS_MODULE);
}

/* Its default_groups, the per-VM files, come from pcm_vm_init(). */
static struct kobj_type pcm_vm_ktype = {
	.release = pcm_vm_release,
	.sysfs_ops = &kobj_sysfs_ops,
};

/* iterate_fd() callback: the VM's own file, as fd + 1. */
static int pcm_vm_match_fd(const void *p, struct file *file, unsigned int fd)
{
	const struct pcm_vm *vm = p;

	if (file->private_data != (void *)vm->key ||
	    strcmp(file_dentry(file)->d_name.name, "kvm-vm"))
		return 0;
	return fd + 1;
}

/*
 * Task work of the thread that created the VM, run as KVM_CREATE_VM
 * returns to user space: the VM's fd is installed by then (or the VM is
 * gone), so it names the VM and adds its directory.  It drops the
 * reference pcm_vm_created() took for it, which may be the VM's last (the
 * VM was destroyed meanwhile), after which the module could go:
 * pcm_vm_exit() waits for every task to leave this code.
 */
static void pcm_vm_add_twork(struct callback_head *head)
{
	struct pcm_vm *vm = container_of(head, struct pcm_vm, add_twork);
	int fd = iterate_fd(current->files, 0, pcm_vm_match_fd, vm) - 1;
	struct pcm_vm *old;
	char *name;
	int ret;

	pcm_vm_pool_fill(NULL);
	raw_spin_lock(&vm->lock);
	if (!vm->dead)
		vm->fd = fd;
	raw_spin_unlock(&vm->lock);

	mutex_lock(&pcm_sysfs_lock);
	/*
	 * Destroyed first: its removal has run (it takes this lock too).  No
	 * fd: KVM_CREATE_VM failed, or another thread closed it already.
	 */
	if (READ_ONCE(vm->dead) || vm->fd < 0)
		goto out;
	/*
	 * The fd number of a VM whose fd was closed can be reused while the
	 * VM lives on (vCPU fds hold it).  The name follows the fd: the older
	 * VM becomes <pid>-<fd>-<serial>.
	 */
	list_for_each_entry(old, &pcm_vm_list, node) {
		if (old->pid != vm->pid || old->fd != vm->fd || old->renamed)
			continue;
		name = kasprintf(GFP_KERNEL, "%d-%d-%llu", old->pid, old->fd,
				 old->serial);
		if (name && !kobject_rename(&old->kobj, name))
			old->renamed = true;
		kfree(name);
	}
	ret = kobject_add(&vm->kobj, pcm_vms_kobj, "%d-%d", vm->pid, vm->fd);
	if (ret) {
		pr_warn("vms/%d-%d: cannot create directory (%d)\n", vm->pid,
			vm->fd, ret);
	} else {
		vm->in_sysfs = true;
		list_add_tail(&vm->node, &pcm_vm_list);
		kobject_uevent(&vm->kobj, KOBJ_ADD);
	}
out:
	mutex_unlock(&pcm_sysfs_lock);
	kobject_put(&vm->kobj);
}

static void pcm_vm_del_work(struct work_struct *work)
{
	struct pcm_vm *vm = container_of(work, struct pcm_vm, del_work);

	mutex_lock(&pcm_sysfs_lock);
	if (vm->in_sysfs) {
		list_del(&vm->node);
		kobject_uevent(&vm->kobj, KOBJ_REMOVE);
		kobject_del(&vm->kobj);
		vm->in_sysfs = false;
	}
	mutex_unlock(&pcm_sysfs_lock);
	/* Runs on pcm_wq, which module exit drains, so module_put is safe. */
	kobject_put(&vm->kobj);
}

/*
 * VMs are registered from a probe handler, where nothing may sleep: their
 * objects come from a small preallocated pool that a work item refills.
 */
#define PCM_VM_POOL	16
static struct pcm_vm *pcm_vm_pool[PCM_VM_POOL];
static unsigned int pcm_vm_pool_n;		/* under pcm_vm_pool_lock */
static DEFINE_RAW_SPINLOCK(pcm_vm_pool_lock);

static void pcm_vm_pool_fill(struct work_struct *work)
{
	struct pcm_vm *vm;
	bool full;

	for (;;) {
		raw_spin_lock(&pcm_vm_pool_lock);
		full = pcm_vm_pool_n == PCM_VM_POOL;
		raw_spin_unlock(&pcm_vm_pool_lock);
		if (full)
			return;
		vm = kzalloc(sizeof(*vm), GFP_KERNEL);
		if (!vm)
			return;
		raw_spin_lock(&pcm_vm_pool_lock);
		if (pcm_vm_pool_n < PCM_VM_POOL) {
			pcm_vm_pool[pcm_vm_pool_n++] = vm;
			vm = NULL;
		}
		raw_spin_unlock(&pcm_vm_pool_lock);
		kfree(vm);
	}
}

static DECLARE_WORK(pcm_vm_pool_work, pcm_vm_pool_fill);

/* Give back an object pcm_vm_pool_take() returned, still unused. */
static void pcm_vm_pool_give(struct pcm_vm *vm)
{
	raw_spin_lock(&pcm_vm_pool_lock);
	if (pcm_vm_pool_n < PCM_VM_POOL) {
		memset(vm, 0, sizeof(*vm));
		pcm_vm_pool[pcm_vm_pool_n++] = vm;
		vm = NULL;
	}
	raw_spin_unlock(&pcm_vm_pool_lock);
	/* Refilled meanwhile; outside the raw lock, as PREEMPT_RT wants. */
	kfree(vm);
}

#ifdef PCM_FAULT_INJECT
/*
 * Test builds only (scripts/build-module --fault-inject): faults on demand,
 * so the test harness can show that a panic caused by pcm_kvm fails the run
 * instead of being retried as a frozen test kernel, and that a VM that
 * could not be registered does not run.
 */
static bool fault_destroy_panic = true;
module_param(fault_destroy_panic, bool, 0644);
MODULE_PARM_DESC(fault_destroy_panic, "test builds: panic when a VM is destroyed (default on)");
static bool fault_register_fail;
module_param(fault_register_fail, bool, 0644);
MODULE_PARM_DESC(fault_register_fail, "test builds: new VMs find the VM pool empty");
#endif

static struct pcm_vm *pcm_vm_pool_take(void)
{
	struct pcm_vm *vm = NULL;
	bool low;

#ifdef PCM_FAULT_INJECT
	if (READ_ONCE(fault_register_fail))
		return NULL;
#endif
	raw_spin_lock(&pcm_vm_pool_lock);
	if (pcm_vm_pool_n)
		vm = pcm_vm_pool[--pcm_vm_pool_n];
	low = pcm_vm_pool_n < PCM_VM_POOL / 2;
	raw_spin_unlock(&pcm_vm_pool_lock);
	/*
	 * The creating thread refills it as KVM_CREATE_VM returns
	 * (pcm_vm_add_twork()); a worker only when creations outrun that:
	 * waking one costs the creation as much as the rest of pcm_kvm's work.
	 */
	if (low)
		queue_work(pcm_wq, &pcm_vm_pool_work);
	return vm;
}

/*
 * VMs that should have been registered and could not be: their KVM_RUN is
 * refused.  Keyed like the registry; cleared when KVM destroys the VM or a
 * new VM is registered at the same address.
 */
#define PCM_VM_FAILED	64
static unsigned long pcm_vm_failed_keys[PCM_VM_FAILED];
static atomic_t pcm_vm_nr_failed = ATOMIC_INIT(0);
static DEFINE_RAW_SPINLOCK(pcm_vm_failed_lock);

/* Set (failed) or clear key's mark; false if the table is full. */
static bool pcm_vm_mark_failed(unsigned long key, bool failed)
{
	bool done = !failed;
	int i, free_slot = -1;

	raw_spin_lock(&pcm_vm_failed_lock);
	for (i = 0; i < PCM_VM_FAILED; i++) {
		if (pcm_vm_failed_keys[i] == key) {
			if (!failed) {
				pcm_vm_failed_keys[i] = 0;
				atomic_dec(&pcm_vm_nr_failed);
			}
			done = true;
			break;
		}
		if (!pcm_vm_failed_keys[i] && free_slot < 0)
			free_slot = i;
	}
	if (!done && free_slot >= 0) {
		pcm_vm_failed_keys[free_slot] = key;
		atomic_inc(&pcm_vm_nr_failed);
		done = true;
	}
	raw_spin_unlock(&pcm_vm_failed_lock);
	return done;
}

static bool pcm_vm_failed(const struct kvm *kvm)
{
	unsigned long key = (unsigned long)kvm;
	bool found = false;
	int i;

	if (!atomic_read(&pcm_vm_nr_failed))
		return false;
	raw_spin_lock(&pcm_vm_failed_lock);
	for (i = 0; i < PCM_VM_FAILED && !found; i++)
		found = pcm_vm_failed_keys[i] == key;
	raw_spin_unlock(&pcm_vm_failed_lock);
	return found;
}

static void pcm_vm_fail(struct kvm *kvm, const char *why)
{
	if (pcm_vm_mark_failed((unsigned long)kvm, true))
		pr_warn_ratelimited("a new VM of pid %d could not be registered (%s): its KVM_RUN will be refused\n",
				    task_tgid_nr(current), why);
	else
		pr_err_ratelimited("a new VM of pid %d could not be registered (%s), nor marked: it may run without its mode\n",
				   task_tgid_nr(current), why);
}

/* Unhash vm and let its sysfs directory go; caller holds pcm_vm_hash_lock. */
static void pcm_vm_kill(struct pcm_vm *vm)
{
	hash_del_rcu(&vm->hnode);
	raw_spin_lock(&vm->lock);
	WRITE_ONCE(vm->dead, true);
	pcm_vm_set_exit(vm, false, NULL);
	queue_work(pcm_wq, &vm->del_work);
	raw_spin_unlock(&vm->lock);
}

/*
 * Called on entry to kvm_arch_init_vm(), so that no VM escapes it: a VM
 * that cannot be registered is marked and will not run.
 */
void pcm_vm_created(struct kvm *kvm)
{
	struct pcm_policy *pol;
	struct pcm_vm *vm, *old;

	if (!try_module_get(THIS_MODULE)) {
		pcm_vm_fail(kvm, "pcm_kvm is being unloaded");
		return;
	}
	vm = pcm_vm_pool_take();
	if (!vm) {
		module_put(THIS_MODULE);
		pcm_vm_fail(kvm, "preallocated VMs used up");
		return;
	}
	kobject_init(&vm->kobj, &pcm_vm_ktype);
	INIT_WORK(&vm->del_work, pcm_vm_del_work);
	INIT_LIST_HEAD(&vm->node);
	raw_spin_lock_init(&vm->lock);
	seqcount_raw_spinlock_init(&vm->exit_seq, &vm->lock);
	vm->key = (unsigned long)kvm;
	vm->serial = atomic64_inc_return(&pcm_vm_serial);
	vm->pid = task_tgid_nr(current);
	vm->fd = -1;

	pol = pcm_policy_for_new_vm(&vm->expect, &vm->has_expect);
	if (!pol) {
		pcm_vm_pool_give(vm);
		module_put(THIS_MODULE);
		pcm_vm_fail(kvm, "no default policy");
		return;
	}
	RCU_INIT_POINTER(vm->policy, pol);
	/* Expected from birth (pcmctl run --expect): blocked until CPUID fits. */
	if (vm->has_expect) {
		raw_spin_lock(&vm->lock);
		pcm_vm_update_verdict(vm);
		raw_spin_unlock(&vm->lock);
	}
	/* The directory's reference, dropped by the task work. */
	kobject_get(&vm->kobj);
	init_task_work(&vm->add_twork, pcm_vm_add_twork);

	pcm_vm_mark_failed(vm->key, false);
	raw_spin_lock(&pcm_vm_hash_lock);
	/*
	 * A VM still registered at this address is gone (KVM could not have
	 * allocated this one there otherwise): its destroy was never seen
	 * (a failed kvm_arch_init_vm whose return went unprobed).  Its state
	 * must not be inherited.
	 */
	old = pcm_vm_lookup(kvm);
	if (old)
		pcm_vm_kill(old);
	hash_add_rcu(pcm_vm_hash, &vm->hnode, vm->key);
	raw_spin_unlock(&pcm_vm_hash_lock);
	/*
	 * Not the last reference if it fails: the VM's fd is not installed
	 * yet, so nothing else can end it before this returns.
	 */
	if (task_work_add(current, &vm->add_twork, TWA_RESUME)) {
		pr_warn_ratelimited("VM of pid %d: no sysfs directory (task exiting)\n",
				    vm->pid);
		kobject_put(&vm->kobj);
	}
}

void pcm_vm_init_failed(struct kvm *kvm)
{
	struct pcm_vm *vm;

	pcm_vm_mark_failed((unsigned long)kvm, false);
	raw_spin_lock(&pcm_vm_hash_lock);
	vm = pcm_vm_lookup(kvm);
	if (vm)
		pcm_vm_kill(vm);
	raw_spin_unlock(&pcm_vm_hash_lock);
}

void pcm_vm_destroyed(struct kvm *kvm)
{
#ifdef PCM_FAULT_INJECT
	if (READ_ONCE(fault_destroy_panic))
		panic("pcm_kvm: injected fault in the VM-destroy path");
#endif
	pcm_vm_init_failed(kvm);
}

/*
 * A VM named by one of its file descriptors.  Only files KVM_CREATE_VM made
 * ("kvm-vm" anon inodes) whose VM is registered qualify.
 */
struct pcm_vm *pcm_vm_get_by_file(struct file *file)
{
	struct pcm_vm *vm = NULL;

	if (strcmp(file_dentry(file)->d_name.name, "kvm-vm"))
		return NULL;
	rcu_read_lock();
	vm = pcm_vm_lookup(file->private_data);
	if (vm && !kobject_get_unless_zero(&vm->kobj))
		vm = NULL;
	rcu_read_unlock();
	return vm;
}

void pcm_vm_put(struct pcm_vm *vm)
{
	kobject_put(&vm->kobj);
}

/*
 * The features of a vCPU's entries without the bits KVM itself rewrites in
 * them at run time (kvm_update_cpuid_runtime(): APIC from the APIC base
 * MSR, OSXSAVE and OSPKE from CR4, MONITOR from MISC_ENABLE), which KVM
 * also ignores when it compares entries.
 */
static void pcm_fs_of_vcpu_entries(const struct kvm_cpuid_entry2 *e, int nent,
				   struct pcm_fs *fs)
{
	pcm_fs_from_entries(e, max(nent, 0), fs);
	pcm_fs_clear(fs, PCM_F_APIC);
	pcm_fs_clear(fs, PCM_F_OSXSAVE);
	pcm_fs_clear(fs, PCM_F_OSPKE);
	pcm_fs_clear(fs, PCM_F_MONITOR);
}

/*
 * The mask of one KVM_SET_CPUID2.  Before the VM has run: its mode's.  After
 * the run the mode is frozen, and
 * - a vCPU that holds entries is given them again (KVM accepts only
 *   identical entries from a vCPU that has run, e.g. QEMU plugging a parked
 *   vCPU back): no mask when it holds all the VMM asks for (stored
 *   unmasked), else the features it holds;
 * - a new vCPU (hot-plug) sees what the others see: the masks they were
 *   given, within the frozen mode (which the exit path applies to all).
 * Reading vcpu->arch is safe: the caller is that vCPU's ioctl, which holds
 * vcpu->mutex.  *held: the vCPU is given its own entries again.
 */
static void pcm_vm_cpuid_mask(struct pcm_vm *vm, struct kvm_vcpu *vcpu,
			      const struct kvm_cpuid_entry2 *e2, int nent,
			      struct pcm_fs *allow, bool *held)
{
	struct kvm_cpuid_entry2 *cur = vcpu->arch.cpuid_entries;
	int ncur = vcpu->arch.cpuid_nent;
	struct pcm_fs want;

	*held = false;
	*allow = rcu_dereference(vm->policy)->allow;
	if (!READ_ONCE(vm->ran))
		return;
	if (!cur || ncur <= 0) {
		/* A new vCPU sees what the others see: their masks and the mode. */
		raw_spin_lock(&vm->lock);
		if (vm->cpuid_set)
			pcm_fs_and(allow, allow, &vm->set_allow);
		raw_spin_unlock(&vm->lock);
		return;
	}
	*held = true;
	pcm_fs_of_vcpu_entries(cur, ncur, allow);
	pcm_fs_of_vcpu_entries(e2, nent, &want);
	if (pcm_fs_subset(&want, allow)) {
		memset(allow, 0xff, sizeof(*allow));
		return;
	}
	/* KVM rewrites these on both sides before it compares: keep them. */
	pcm_fs_set(allow, PCM_F_APIC);
	pcm_fs_set(allow, PCM_F_OSXSAVE);
	pcm_fs_set(allow, PCM_F_OSPKE);
	pcm_fs_set(allow, PCM_F_MONITOR);
}

bool pcm_vm_cpuid_stage(struct kvm_vcpu *vcpu, struct kvm_cpuid_entry2 *e2,
			int nent, struct pcm_cpuid_stage *st)
{
	struct pcm_vm *vm;
	bool held;

	if (nent < 0)
		return false;
	rcu_read_lock();
	vm = pcm_vm_lookup(vcpu->kvm);
	if (!vm) {
		rcu_read_unlock();
		return false;
	}
	st->serial = vm->serial;
	pcm_vm_cpuid_mask(vm, vcpu, e2, nent, &st->set_allow, &held);
	rcu_read_unlock();

	pcm_fs_from_entries(e2, nent, &st->requested);
	st->stored = st->requested;
	if (!pcm_fs_all(&st->set_allow))
		pcm_mask_entries_have(e2, nent, &st->set_allow, &st->requested,
				      &st->stored);
	pcm_identity_from_entries_have(e2, nent, &st->stored, &st->id);
	/* A vCPU given its own entries again adds no new mask. */
	if (held)
		pcm_fs_zero(&st->set_allow);
	return true;
}

void pcm_vm_cpuid_commit(struct kvm_vcpu *vcpu, const struct pcm_cpuid_stage *st)
{
	struct pcm_vm *vm;

	rcu_read_lock();
	vm = pcm_vm_lookup(vcpu->kvm);
	/* The vCPU's ioctl holds the VM: it is the one staged for. */
	if (vm && !WARN_ON_ONCE(vm->serial != st->serial)) {
		raw_spin_lock(&vm->lock);
		if (!vm->cpuid_set) {
			vm->id_base = st->id;
			vm->cpuid_set = true;
		} else {
			pcm_identity_widen(&vm->id_base, &st->id);
		}
		pcm_fs_or(&vm->requested, &vm->requested, &st->requested);
		pcm_fs_or(&vm->stored, &vm->stored, &st->stored);
		pcm_fs_or(&vm->set_allow, &vm->set_allow, &st->set_allow);
		vm->stored_masked = !pcm_fs_all(&vm->set_allow);
		pcm_vm_update_exit(vm);
		pcm_vm_update_verdict(vm);
		raw_spin_unlock(&vm->lock);
	}
	rcu_read_unlock();
}

/*
 * The first KVM_RUN of a vCPU (KVM keeps that per vCPU): its entries must
 * be ones pcm_kvm recorded.  A KVM_SET_CPUID2 the set_cpuid kretprobe
 * missed (no instance) left its entries unmasked and uncounted; the VM is
 * then blocked for good.  Caller: the vCPU's KVM_RUN, under vcpu->mutex.
 */
static void pcm_vm_check_vcpu(struct pcm_vm *vm, struct kvm_vcpu *vcpu)
{
	struct pcm_fs have;

	lockdep_assert_held(&vm->lock);
	pcm_fs_of_vcpu_entries(vcpu->arch.cpuid_entries, vcpu->arch.cpuid_nent,
			       &have);
	if (vm->lost || pcm_fs_subset(&have, &vm->stored))
		return;
	vm->lost = true;
	pcm_vm_update_verdict(vm);
}

/* IA32_ARCH_CAPABILITIES the VM's mode allows; caller in an RCU section. */
static u64 pcm_vm_arch_cap_allow(struct pcm_vm *vm)
{
	return pcm_fs_arch_cap(&rcu_dereference(vm->policy)->allow);
}

bool pcm_vm_msr_stage(struct kvm_vcpu *vcpu, u64 *data, u64 *requested)
{
	struct pcm_vm *vm;

	rcu_read_lock();
	vm = pcm_vm_lookup(vcpu->kvm);
	if (vm) {
		*requested = *data;
		*data &= pcm_vm_arch_cap_allow(vm);
	}
	rcu_read_unlock();
	return vm;
}

/*
 * The slot of vCPU id: an existing one, else (insert) a free one, else
 * msr_more; NULL if none and !insert.  Lockless readers (the run path)
 * only look; slots are taken, and written, under vm->lock.
 */
static struct pcm_vcpu_msr *pcm_vm_msr_slot(struct pcm_vm *vm, u32 id, bool insert)
{
	unsigned int i, k;
	u32 key;

	for (i = 0; i < PCM_VM_MSR_SLOTS; i++) {
		k = (id + i) % PCM_VM_MSR_SLOTS;
		key = READ_ONCE(vm->msr[k].id_plus1);
		if (key == id + 1)
			return &vm->msr[k];
		if (key)
			continue;
		if (!insert)
			return NULL;
		WRITE_ONCE(vm->msr[k].id_plus1, id + 1);
		return &vm->msr[k];
	}
	return insert ? &vm->msr_more : NULL;
}

/*
 * What the vCPU of slot m (pcm_vm_msr_slot(..., true)) now holds (tsc_khz
 * 0: unchanged); caller holds vm->lock.
 */
static void pcm_vm_msr_record(struct pcm_vm *vm, struct pcm_vcpu_msr *m,
			      u64 requested, u64 held, u32 tsc_khz)
{
	lockdep_assert_held(&vm->lock);
	if (m == &vm->msr_more) {
		requested |= m->requested;
		held |= m->held;
		if (m->tsc_khz)
			tsc_khz = m->tsc_khz;
	}
	if (!tsc_khz)
		tsc_khz = m->tsc_khz;
	if (m->requested == requested && m->held == held && m->tsc_khz == tsc_khz)
		return;
	WRITE_ONCE(m->requested, requested);
	WRITE_ONCE(m->held, held);
	WRITE_ONCE(m->tsc_khz, tsc_khz);
	pcm_vm_update_verdict(vm);
}

/* The OR over the VM's vCPUs; caller holds vm->lock. */
static void pcm_vm_msr_union(struct pcm_vm *vm, u64 *requested, u64 *held)
{
	unsigned int i;

	*requested = vm->msr_more.requested;
	*held = vm->msr_more.held;
	for (i = 0; i < PCM_VM_MSR_SLOTS; i++) {
		*requested |= vm->msr[i].requested;
		*held |= vm->msr[i].held;
	}
}

/*
 * The TSC rate the guest gets: its vCPUs' (a VMM gives them one rate; the
 * first vCPU's counts).  Without TSC scaling KVM cannot give another rate
 * than the host's own (above it, it only catches up at each entry), so
 * the guest gets the host's.  0: no vCPU yet.  Caller holds vm->lock.
 */
static u32 pcm_vm_tsc_khz(struct pcm_vm *vm)
{
	u32 khz = vm->msr_more.tsc_khz, host;
	unsigned int i;
	bool scaling;

	for (i = 0; i < PCM_VM_MSR_SLOTS && !khz; i++)
		khz = vm->msr[i].tsc_khz;
	pcm_kvmdev_tsc(&host, &scaling);
	if (khz && host && !scaling && !pcm_tsc_same(khz, host))
		khz = host;
	return khz;
}

void pcm_vm_msr_commit(struct kvm_vcpu *vcpu, u64 requested, u64 stored)
{
	struct pcm_vm *vm;

	rcu_read_lock();
	vm = pcm_vm_lookup(vcpu->kvm);
	if (vm) {
		raw_spin_lock(&vm->lock);
		pcm_vm_msr_record(vm, pcm_vm_msr_slot(vm, vcpu->vcpu_id, true),
				  requested, stored, 0);
		raw_spin_unlock(&vm->lock);
	}
	rcu_read_unlock();
}

/*
 * KVM's default, before the vendor's reset derives anything from it.  A
 * vCPU whose creation fails after this keeps its slot until a vCPU of the
 * same id replaces it.
 */
void pcm_vm_msr_reset(struct kvm_vcpu *vcpu)
{
	u64 v = vcpu->arch.arch_capabilities;
	struct pcm_vm *vm;

	rcu_read_lock();
	vm = pcm_vm_lookup(vcpu->kvm);
	if (vm) {
		raw_spin_lock(&vm->lock);
		vcpu->arch.arch_capabilities = v & pcm_vm_arch_cap_allow(vm);
		pcm_vm_msr_record(vm, pcm_vm_msr_slot(vm, vcpu->vcpu_id, true), v,
				  vcpu->arch.arch_capabilities, vcpu->arch.virtual_tsc_khz);
		raw_spin_unlock(&vm->lock);
	}
	rcu_read_unlock();
}

/*
 * Whatever set it (a write or default the other probes did not see, a
 * mode set since), the vCPU runs with its MSR within the mode: KVM_RUN
 * holds the vCPU's mutex, as KVM_SET_MSRS does.  KVM derived nothing from
 * the wider value that the narrower one makes unsafe: on Intel, FB_CLEAR_DIS
 * only stays off.
 */
static void pcm_vm_run_msrs(struct pcm_vm *vm, struct kvm_vcpu *vcpu)
{
	u64 v = READ_ONCE(vcpu->arch.arch_capabilities);
	u64 allowed = v & pcm_vm_arch_cap_allow(vm);
	u32 tsc = vcpu->arch.virtual_tsc_khz;
	struct pcm_vcpu_msr *m;

	if (allowed == v) {
		m = pcm_vm_msr_slot(vm, vcpu->vcpu_id, false);
		/* as recorded: every run but a vCPU's first */
		if (m && READ_ONCE(m->held) == v && READ_ONCE(m->tsc_khz) == tsc)
			return;
		/* a vCPU past the slots, already counted */
		if (!m && !(v & ~READ_ONCE(vm->msr_more.held)) &&
		    READ_ONCE(vm->msr_more.tsc_khz))
			return;
	} else {
		WRITE_ONCE(vcpu->arch.arch_capabilities, allowed);
	}
	raw_spin_lock(&vm->lock);
	m = pcm_vm_msr_slot(vm, vcpu->vcpu_id, true);
	/*
	 * What was asked for: v if this run narrowed it, else what the write
	 * or default that set v asked for (only the rate may be new).
	 */
	pcm_vm_msr_record(vm, m, allowed == v ? m->requested | v : v, allowed, tsc);
	raw_spin_unlock(&vm->lock);
}

bool pcm_vm_run_refused(struct kvm_vcpu *vcpu)
{
	bool first = READ_ONCE(vcpu->arch.last_vmentry_cpu) == -1;
	struct pcm_vm *vm;
	bool refuse = false;

	rcu_read_lock();
	vm = pcm_vm_lookup(vcpu->kvm);
	if (!vm && pcm_vm_failed(vcpu->kvm)) {
		rcu_read_unlock();
		pr_warn_ratelimited("KVM_RUN of pid %d refused: its VM could not be registered (dmesg above)\n",
				    task_tgid_nr(current));
		return true;
	}
	if (vm)
		pcm_vm_run_msrs(vm, vcpu);
	if (vm && (first || !READ_ONCE(vm->ran) || READ_ONCE(vm->blocked))) {
		raw_spin_lock(&vm->lock);
		if (first)
			pcm_vm_check_vcpu(vm, vcpu);
		refuse = vm->blocked;
		/* A refused VM has not run: its mode and expect stay open. */
		if (!refuse)
			vm->ran = true;
		raw_spin_unlock(&vm->lock);
		if (refuse)
			pcm_vm_log_blocked(vm);
	}
	rcu_read_unlock();
	return refuse;
}

int pcm_vm_set_mode(struct pcm_vm *vm, unsigned int mode)
{
	struct pcm_policy *pol, *old;
	struct pcm_fs withheld;
	int ret = 0;

	/* The VM keeps the host_withhold it was born with. */
	rcu_read_lock();
	withheld = rcu_dereference(vm->policy)->withheld;
	rcu_read_unlock();
	pol = pcm_policy_new(mode, &withheld);
	if (IS_ERR(pol))
		return PTR_ERR(pol);
	/*
	 * A mode set after KVM_SET_CPUID2 is applied on the CPUID exit path:
	 * arm that probe before the VM can run with the new mode.
	 */
	ret = pcm_exit_hook_get();
	if (ret) {
		pcm_policy_put(pol);
		return ret;
	}

	raw_spin_lock(&vm->lock);
	if (vm->dead) {
		ret = -ENODEV;
	} else if (vm->ran) {
		ret = -EBUSY;
	} else {
		old = rcu_replace_pointer(vm->policy, pol, lockdep_is_held(&vm->lock));
		pol = old;
		pcm_vm_update_exit(vm);
		pcm_vm_update_verdict(vm);
	}
	raw_spin_unlock(&vm->lock);
	pcm_exit_hook_put();
	pcm_policy_put(pol);
	if (ret == -EBUSY)
		pr_warn("VM %d-%d: mode %s refused: the VM has already run\n",
			vm->pid, vm->fd, pcm_mode_name(mode));
	return ret;
}

unsigned int pcm_vm_mode(struct pcm_vm *vm)
{
	unsigned int mode;

	rcu_read_lock();
	mode = rcu_dereference(vm->policy)->mode;
	rcu_read_unlock();
	return mode;
}

/*
 * Publish a VM's exit-path mask (allow NULL: keep the old one) and keep the
 * exit probe's count of VMs that need it; caller holds vm->lock.
 */
static void pcm_vm_set_exit(struct pcm_vm *vm, bool needed,
			    const struct pcm_fs *allow)
{
	if (needed && !vm->exit_needed)
		pcm_exit_hook_ref();
	else if (!needed && vm->exit_needed)
		pcm_exit_hook_put();
	write_seqcount_begin(&vm->exit_seq);
	vm->exit_needed = needed;
	if (allow)
		vm->exit_allow = *allow;
	write_seqcount_end(&vm->exit_seq);
}

/* Recompute exit_needed/exit_allow; caller holds vm->lock. */
static void pcm_vm_update_exit(struct pcm_vm *vm)
{
	struct pcm_policy *pol;
	struct pcm_fs eff;
	bool needed;

	lockdep_assert_held(&vm->lock);
	pol = rcu_dereference_protected(vm->policy, lockdep_is_held(&vm->lock));
	/*
	 * Nothing to do without stored entries (KVM answers zeros) or when
	 * every vCPU's are already masked at least as much.  Otherwise the
	 * exit path masks every vCPU of the VM: the narrower ones again, to
	 * no effect.
	 */
	needed = vm->cpuid_set && !pcm_fs_all(&pol->allow) &&
		 !pcm_fs_subset(&vm->set_allow, &pol->allow);
	eff = pol->allow;
	if (needed)
		pcm_mask_effective(&pol->allow, &vm->requested, &eff);
	pcm_vm_set_exit(vm, needed, &eff);
}

static bool pcm_vm_exit_mask(struct pcm_vm *vm, struct pcm_fs *allow)
{
	unsigned int seq;
	bool needed;

	do {
		seq = read_seqcount_begin(&vm->exit_seq);
		needed = vm->exit_needed;
		if (needed)
			*allow = vm->exit_allow;
	} while (read_seqcount_retry(&vm->exit_seq, seq));
	return needed;
}

bool pcm_vm_exit_begin(struct kvm_vcpu *vcpu, u32 *leaf, u32 subleaf)
{
	struct pcm_vm *vm;
	bool needed;

	/* The common case, a VM that needs nothing, costs one lookup. */
	rcu_read_lock();
	vm = pcm_vm_lookup(vcpu->kvm);
	needed = vm && READ_ONCE(vm->exit_needed);
	rcu_read_unlock();
	if (!needed)
		return false;
	/* KVM may answer from another leaf; this is the vCPU's own context. */
	*leaf = pcm_cpuid_answering_leaf(vcpu->arch.cpuid_entries,
					 max(vcpu->arch.cpuid_nent, 0),
					 *leaf, subleaf);
	return true;
}

void pcm_vm_exit_end(struct kvm_vcpu *vcpu, u32 leaf, u32 subleaf,
		     u32 *const regs[4])
{
	struct pcm_fs allow;
	struct pcm_vm *vm;
	bool needed;
	u32 out[4];
	int i;

	rcu_read_lock();
	vm = pcm_vm_lookup(vcpu->kvm);
	needed = vm && pcm_vm_exit_mask(vm, &allow);
	rcu_read_unlock();
	if (!needed)
		return;
	for (i = 0; i < 4; i++)
		out[i] = *regs[i];
	if (pcm_mask_regs(leaf, subleaf, out, &allow))
		for (i = 0; i < 4; i++)
			*regs[i] = out[i];
}

bool pcm_vm_exit_missed(struct kvm_vcpu *vcpu, u32 *absent)
{
	struct pcm_vm *vm;
	bool needed, first = false;

	rcu_read_lock();
	vm = pcm_vm_lookup(vcpu->kvm);
	needed = vm && READ_ONCE(vm->exit_needed);
	if (needed) {
		raw_spin_lock(&vm->lock);
		first = !vm->exit_missed;
		vm->exit_missed = true;
		pcm_vm_update_verdict(vm);
		raw_spin_unlock(&vm->lock);
	}
	if (first)
		pr_warn_ratelimited("VM %d-%d: a guest CPUID found the exit probe without a free instance: answered with zeros, KVM_RUN refused from now on\n",
				    vm->pid, vm->fd);
	rcu_read_unlock();
	/* Read like pcm_vm_exit_begin(): the vCPU's own thread, in KVM_RUN. */
	if (needed)
		*absent = pcm_cpuid_absent_leaf(vcpu->arch.cpuid_entries,
						max(vcpu->arch.cpuid_nent, 0));
	return needed;
}

/* What the widest vCPU's guest sees; caller holds vm->lock. */
static void pcm_vm_visible_locked(struct pcm_vm *vm, struct pcm_fs *visible)
{
	struct pcm_policy *pol = rcu_dereference_protected(vm->policy,
							   lockdep_is_held(&vm->lock));

	/* What KVM holds (each vCPU's closed, so is their union) ... */
	*visible = vm->stored;
	/* ... narrowed by the exit path: both closed, so is their meet. */
	if (vm->exit_needed)
		pcm_fs_and(visible, visible, &vm->exit_allow);
	u64 requested, held;

	/* A mode set since a write narrows the MSR by the next KVM_RUN. */
	pcm_vm_msr_union(vm, &requested, &held);
	pcm_fs_put_arch_cap(visible, held & pcm_fs_arch_cap(&pol->allow));
}

static void pcm_vm_identity_locked(struct pcm_vm *vm, struct pcm_kvm_identity *id)
{
	*id = vm->id_base;
	pcm_vm_visible_locked(vm, &id->features);
	id->tsc_khz = pcm_vm_tsc_khz(vm);
	id->xcr0 = pcm_xcr0_visible(id->xcr0, &id->features);
	id->mode = rcu_dereference_protected(vm->policy,
					     lockdep_is_held(&vm->lock))->mode;
}

void pcm_vm_identity(struct pcm_vm *vm, struct pcm_kvm_identity *id)
{
	raw_spin_lock(&vm->lock);
	pcm_vm_identity_locked(vm, id);
	raw_spin_unlock(&vm->lock);
}

/* Re-evaluate expect against what KVM holds; caller holds vm->lock. */
static void pcm_vm_update_verdict(struct pcm_vm *vm)
{
	struct pcm_kvm_identity cur;
	struct pcm_fs extra;

	lockdep_assert_held(&vm->lock);
	if (vm->lost || vm->exit_missed) {
		vm->blocked = true;
		return;
	}
	if (!vm->has_expect) {
		vm->blocked = false;
		return;
	}
	/* This VM, as its VMM configured it here, must give all it had. */
	pcm_vm_identity_locked(vm, &cur);
	vm->blocked_result = pcm_identity_check(&vm->expect, &cur,
						&vm->blocked_missing, &extra,
						&vm->blocked_limits);
	vm->blocked = vm->blocked_result >= PCM_KVM_CHECK_MISSING;
}

/* "blocked: missing ..." for status and dmesg; "" when not blocked. */
size_t pcm_vm_blocked_text(struct pcm_vm *vm, char *buf, size_t size)
{
	struct pcm_kvm_identity expect, cur;
	struct pcm_fs missing, extra;
	unsigned int result, limits;
	static const char prefix[] = "incompatible: ";
	size_t n;

	pcm_fs_zero(&extra);
	raw_spin_lock(&vm->lock);
	if (!vm->blocked) {
		raw_spin_unlock(&vm->lock);
		buf[0] = '\0';
		return 0;
	}
	if (vm->lost) {
		raw_spin_unlock(&vm->lock);
		return strscpy(buf, "blocked: a vCPU holds CPUID entries pcm_kvm never recorded",
			       size);
	}
	if (vm->exit_missed) {
		raw_spin_unlock(&vm->lock);
		return strscpy(buf, "blocked: a guest CPUID went past the exit probe",
			       size);
	}
	if (!vm->cpuid_set) {
		raw_spin_unlock(&vm->lock);
		return strscpy(buf, "blocked: the VMM has not set CPUID yet", size);
	}
	expect = vm->expect;
	pcm_vm_identity_locked(vm, &cur);
	result = vm->blocked_result;
	missing = vm->blocked_missing;
	limits = vm->blocked_limits;
	raw_spin_unlock(&vm->lock);

	n = strscpy(buf, "blocked: ", size);
	n += pcm_check_format(result, &expect, &cur, &missing, &extra, limits,
			      buf + n, size - n);
	/* "blocked: incompatible: missing x" reads better without the middle. */
	if (!strncmp(buf + 9, prefix, sizeof(prefix) - 1)) {
		memmove(buf + 9, buf + 9 + sizeof(prefix) - 1,
			n - 9 - (sizeof(prefix) - 1) + 1);
		n -= sizeof(prefix) - 1;
	}
	return n;
}

/* The KVM_RUN probe may not allocate: one buffer, refusals are rare. */
static char pcm_blocked_buf[PCM_IDENTITY_TEXT_MAX];
static DEFINE_RAW_SPINLOCK(pcm_blocked_buf_lock);

static void pcm_vm_log_blocked(struct pcm_vm *vm)
{
	raw_spin_lock(&pcm_blocked_buf_lock);
	pcm_vm_blocked_text(vm, pcm_blocked_buf, sizeof(pcm_blocked_buf));
	pr_warn_ratelimited("VM %d-%d: KVM_RUN refused, %s\n", vm->pid, vm->fd,
			    pcm_blocked_buf);
	raw_spin_unlock(&pcm_blocked_buf_lock);
}

bool pcm_vm_expect(struct pcm_vm *vm, struct pcm_kvm_identity *id)
{
	bool has;

	raw_spin_lock(&vm->lock);
	has = vm->has_expect;
	*id = vm->expect;
	raw_spin_unlock(&vm->lock);
	return has;
}

int pcm_vm_set_expect(struct pcm_vm *vm, const struct pcm_kvm_identity *id)
{
	struct pcm_fs withheld;
	unsigned int mode;
	char who[32];
	int ret;

	rcu_read_lock();
	mode = rcu_dereference(vm->policy)->mode;
	withheld = rcu_dereference(vm->policy)->withheld;
	rcu_read_unlock();
	snprintf(who, sizeof(who), "VM %d-%d", vm->pid, vm->fd);
	ret = pcm_expect_check(mode, &withheld, id, who);
	if (ret)
		return ret;

	raw_spin_lock(&vm->lock);
	if (vm->dead) {
		ret = -ENODEV;
	} else if (vm->ran) {
		ret = -EBUSY;
	} else {
		vm->expect = *id;
		vm->has_expect = true;
		pcm_vm_update_verdict(vm);
	}
	raw_spin_unlock(&vm->lock);
	if (ret == -EBUSY)
		pr_warn("VM %d-%d: expect refused: the VM has already run\n",
			vm->pid, vm->fd);
	return ret;
}

void pcm_vm_features(struct pcm_vm *vm, struct pcm_fs *requested,
		     struct pcm_fs *visible, struct pcm_fs *hidden, u32 *flags)
{
	u64 msr_requested, msr_held;

	raw_spin_lock(&vm->lock);
	*requested = vm->requested;
	pcm_vm_msr_union(vm, &msr_requested, &msr_held);
	pcm_fs_put_arch_cap(requested, msr_requested);
	pcm_vm_visible_locked(vm, visible);
	*flags = (vm->cpuid_set ? PCM_KVM_VM_CPUID_SET : 0) |
		 (vm->ran ? PCM_KVM_VM_RAN : 0) |
		 (vm->stored_masked ? PCM_KVM_VM_STORED_MASKED : 0) |
		 (vm->has_expect ? PCM_KVM_VM_EXPECT : 0) |
		 (vm->blocked ? PCM_KVM_VM_BLOCKED : 0);
	raw_spin_unlock(&vm->lock);
	pcm_fs_andnot(hidden, requested, visible);
}

int pcm_vm_init(struct kobject *parent, const struct attribute_group **groups)
{
	pcm_vm_ktype.default_groups = groups;
	pcm_wq = alloc_ordered_workqueue("pcm_kvm", 0);
	if (!pcm_wq)
		return -ENOMEM;
	pcm_vm_pool_fill(NULL);
	pcm_vms_kobj = kobject_create_and_add("vms", parent);
	if (!pcm_vms_kobj) {
		while (pcm_vm_pool_n)
			kfree(pcm_vm_pool[--pcm_vm_pool_n]);
		destroy_workqueue(pcm_wq);
		return -ENOMEM;
	}
	return 0;
}

void pcm_vm_exit(void)
{
	/* No hook runs any more and no VM holds the module: drain the work. */
	destroy_workqueue(pcm_wq);
	while (pcm_vm_pool_n)
		kfree(pcm_vm_pool[--pcm_vm_pool_n]);
	/* A thread may still be returning from pcm_vm_add_twork(). */
	synchronize_rcu_tasks();
	WARN_ON(!list_empty(&pcm_vm_list));
	kobject_put(pcm_vms_kobj);
	/* kfree_rcu() callbacks must not outlive the module's data. */
	rcu_barrier();
}
