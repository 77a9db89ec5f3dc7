/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcm_kvm kernel glue, in layers (pcm_main.c lists them): policy, VM
 * state, exit-probe switch, hooks, interfaces.  The feature logic itself
 * lives in the model (pcm_model.h).
 */
#ifndef PCM_KVM_INTERNAL_H
#define PCM_KVM_INTERNAL_H

#include <linux/kobject.h>
#include <linux/kref.h>
#include <linux/rcupdate.h>
#include <linux/seqlock.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/list.h>
#include "pcm_model.h"

#define PCM_KVM_VERSION "0.1.0"

struct kvm;
struct kvm_vcpu;
struct kprobe;
struct kretprobe;
struct pid;

/* Immutable once published; replaced as a whole under RCU. */
struct pcm_policy {
	struct kref ref;
	struct rcu_head rcu;
	unsigned int mode;
	struct pcm_fs allow;		/* mode's allow-list minus withheld */
	struct pcm_fs withheld;		/* host_withhold when the VM was born */
};

/* A vCPU's IA32_ARCH_CAPABILITIES, requested and held, and its TSC rate. */
struct pcm_vcpu_msr {
	u32 id_plus1;			/* vcpu_id + 1; 0: a free slot */
	u32 tsc_khz;			/* its TSC rate, as last seen */
	u64 requested;
	u64 held;
};

#define PCM_VM_MSR_SLOTS	64

struct pcm_vm {
	struct kobject kobj;
	struct hlist_node hnode;	/* pcm_vm_hash, RCU */
	struct rcu_head rcu;
	struct list_head node;		/* pcm_vm_list, under pcm_sysfs_lock */
	struct callback_head add_twork;	/* names it, adds the directory */
	struct work_struct del_work;
	unsigned long key;		/* the struct kvm address; never dereferenced */
	u64 serial;
	pid_t pid;
	int fd;				/* -1 until KVM_CREATE_VM returned */
	bool in_sysfs;			/* under pcm_sysfs_lock */
	bool renamed;			/* lost <pid>-<fd> to a newer VM */

	struct pcm_policy __rcu *policy;
	/* Serializes mode changes against the first KVM_RUN and KVM_SET_CPUID2. */
	raw_spinlock_t lock;
	bool dead;
	bool ran;
	bool lost;			/* a vCPU holds entries never recorded */
	bool exit_missed;		/* a CPUID went past the exit probe */
	/*
	 * What KVM holds, over every vCPU: each KVM_SET_CPUID2 that KVM
	 * accepted widens these, so they describe the widest vCPU whatever
	 * the order of vCPUs and mode writes (never narrowed: a vCPU that
	 * re-sets less before the first run leaves its old bits counted).
	 */
	bool cpuid_set;
	bool stored_masked;		/* !pcm_fs_all(&set_allow) */
	struct pcm_fs set_allow;	/* OR of the masks applied; all: one unmasked */
	struct pcm_fs requested;	/* OR of what the VMM gave */
	struct pcm_fs stored;		/* OR of what KVM stored (the masked result) */

	/*
	 * What the CPUID exit path applies, derived from the above whenever
	 * they change (under lock); read locklessly by the exit probe.
	 */
	seqcount_raw_spinlock_t exit_seq;
	bool exit_needed;
	struct pcm_fs exit_allow;

	/*
	 * IA32_ARCH_CAPABILITIES, which KVM keeps per vCPU: each vCPU's
	 * value as the VMM or KVM's default asked for it and as KVM holds
	 * it (narrowed), by vCPU id.  A VM's value is the OR over its vCPUs.
	 * vCPUs beyond the slots are OR-ed into msr_more, never narrowed.
	 */
	struct pcm_vcpu_msr msr[PCM_VM_MSR_SLOTS];
	struct pcm_vcpu_msr msr_more;

	/* Migration/restore: the identity the VM had on its source. */
	struct pcm_kvm_identity id_base;	/* widest of KVM's entries; features unused */
	bool has_expect;
	bool blocked;				/* KVM_RUN refused */
	struct pcm_kvm_identity expect;
	struct pcm_fs blocked_missing;
	unsigned int blocked_limits;
	unsigned int blocked_result;
};

/*
 * One KVM_SET_CPUID2, staged while KVM checks it: the entries are masked
 * in place on entry to kvm_set_cpuid(), and this is committed to the VM
 * only if KVM returns 0.  Lives in the kretprobe instance (preallocated).
 */
struct pcm_cpuid_stage {
	struct pcm_fs requested;	/* what the VMM gave */
	struct pcm_fs stored;		/* what KVM is asked to store */
	struct pcm_fs set_allow;	/* the mask applied; all: none */
	struct pcm_kvm_identity id;	/* of the stored entries */
	u64 serial;			/* the VM staged for */
};

/* Length of a rejected token worth quoting in dmesg: no trailing newline. */
static inline size_t pcm_token_len(const char *s, size_t len)
{
	while (len && (s[len - 1] == '\n' || s[len - 1] == ' '))
		len--;
	return min_t(size_t, len, PCM_NAME_MAX);
}

/* pcm_kvmdev.c: KVM's own uAPI, from the process loading the module */
int pcm_kvmdev_init(void);
void pcm_kvmdev_exit(void);
/*
 * KVM_GET_SUPPORTED_CPUID and the feature MSRs as a feature set, and the
 * maximum leaves, read at load
 */
void pcm_kvmdev_offer(struct pcm_fs *fs, u32 *max_basic, u32 *max_ext);
/*
 * The TSC rate KVM gives a new vCPU (seen on the proof VM at load, set by
 * pcm_hooks.c) and whether it can scale a guest's TSC (KVM_CAP_TSC_CONTROL)
 */
void pcm_kvmdev_tsc(u32 *khz, bool *scaling);
void pcm_kvmdev_set_tsc_khz(u32 khz);
/*
 * A throwaway VM of the loading process that walks the paths pcm_kvm hooks
 * (its guest executes CPUID, then HLT); each call returns the ioctl's result.
 */
struct pcm_kvmdev_vm {
	struct file *vm;
	struct file *vcpu;
	unsigned long scratch;		/* in the loader's address space */
};

enum pcm_kvmdev_call {
	PCM_CALL_SET_CPUID,		/* KVM_SET_CPUID (v1), leaf 0 */
	PCM_CALL_SET_CPUID2,		/* KVM_SET_CPUID2, leaf 0 */
	PCM_CALL_SET_MSRS,		/* KVM_SET_MSRS, IA32_ARCH_CAPABILITIES = 0 */
	PCM_CALL_RUN,			/* KVM_RUN */
};

int pcm_kvmdev_vm_create(struct pcm_kvmdev_vm *t);	/* KVM_CREATE_VM */
long pcm_kvmdev_vm_call(struct pcm_kvmdev_vm *t, enum pcm_kvmdev_call call);
void pcm_kvmdev_vm_destroy(struct pcm_kvmdev_vm *t);

/* pcm_policy.c: host features, the operator's inputs, policies */
int pcm_policy_init(void);
void pcm_policy_exit(void);
/* What this host's KVM offers, minus host_withhold. */
void pcm_host_features(struct pcm_fs *fs);
/* This host as a destination for a VM in mode (features narrowed by it). */
int pcm_host_identity(unsigned int mode, const struct pcm_fs *withheld,
		      struct pcm_kvm_identity *id);
/*
 * The allow-list of a mode on this host; -EINVAL for an unset baseline.
 * withheld NULL: this host's current host_withhold.
 */
struct pcm_policy *pcm_policy_new(unsigned int mode, const struct pcm_fs *withheld);
void pcm_policy_put(struct pcm_policy *pol);
/*
 * The policy of a VM the current process creates (atomic context): the
 * process_modes entry's of the process (its own, or inherited from the
 * process that started it), else default_mode's; with a reference, or NULL.  The entry's expected
 * identity, if it has one, in *expect.
 */
struct pcm_policy *pcm_policy_for_new_vm(struct pcm_kvm_identity *expect, bool *has_expect);
/*
 * May this host give a VM in mode (withheld taken out) all of id?  0, or
 * -EINVAL with a dmesg line, prefixed who, naming what is missing.
 */
int pcm_expect_check(unsigned int mode, const struct pcm_fs *withheld,
		     const struct pcm_kvm_identity *id, const char *who);
unsigned int pcm_default_mode(void);
int pcm_policy_set_default_mode(unsigned int mode);
/* false: never set */
bool pcm_policy_baseline(struct pcm_fs *fs);
/* -EINVAL with *missing: what this host cannot provide */
int pcm_policy_set_baseline(const struct pcm_fs *want, struct pcm_fs *missing);
void pcm_policy_withhold(struct pcm_fs *fs);
int pcm_policy_set_withhold(const struct pcm_fs *want);

#define PCM_POLICY_PROC_MAX	64
struct pcm_policy_proc {
	pid_t pid;			/* in the caller's pid namespace */
	unsigned int mode;
	bool expect;			/* with an expected identity */
	unsigned int kids;		/* processes it started that inherit it */
};

/*
 * Set pid's entry (replacing mode and expectation), expect NULL for none;
 * mode -1 forgets it: -ENOENT if none; -ENOSPC when full; -EINVAL when
 * this host cannot give expect.
 */
int pcm_policy_set_process(struct pid *pid, int mode,
			   const struct pcm_kvm_identity *expect);
/* Fills out[PCM_POLICY_PROC_MAX]; returns the number of entries. */
int pcm_policy_processes(struct pcm_policy_proc *out);

/* pcm_exit.c: the switch of the CPUID exit probe */
void pcm_exit_switch_init(struct kretprobe *rp, struct kprobe *check);
void pcm_exit_switch_exit(void);
/*
 * The CPUID exit probe is armed only while some VM needs exit masking.
 * get: process context, arms it before returning (0 or -errno);
 * ref: count one more user that a get already armed for (any context);
 * put: any context; disarming is deferred to a work item.
 */
int pcm_exit_hook_get(void);
void pcm_exit_hook_ref(void);
void pcm_exit_hook_put(void);

/* pcm_vm.c: the registry and each VM's state */
int pcm_vm_init(struct kobject *parent, const struct attribute_group **groups);
void pcm_vm_exit(void);
struct pcm_vm *pcm_vm_get_by_file(struct file *file);	/* takes a ref */
void pcm_vm_put(struct pcm_vm *vm);
void pcm_vm_created(struct kvm *kvm);			/* atomic context */
void pcm_vm_init_failed(struct kvm *kvm);		/* atomic context */
void pcm_vm_destroyed(struct kvm *kvm);			/* atomic context */
/*
 * KVM_SET_CPUID2 of vcpu (atomic context): stage masks e2 in place and
 * returns false when the VM is not managed; commit records the staged
 * result once KVM accepted it.
 */
bool pcm_vm_cpuid_stage(struct kvm_vcpu *vcpu, struct kvm_cpuid_entry2 *e2,
			int nent, struct pcm_cpuid_stage *st);
void pcm_vm_cpuid_commit(struct kvm_vcpu *vcpu, const struct pcm_cpuid_stage *st);
/*
 * IA32_ARCH_CAPABILITIES of vcpu (atomic context).  stage: a VMM's write
 * of *data, narrowed in place to the VM's mode; false when the VM is not
 * managed.  commit: KVM accepted it.  reset: KVM's default at vCPU
 * creation, narrowed before KVM derives anything from it.
 */
bool pcm_vm_msr_stage(struct kvm_vcpu *vcpu, u64 *data, u64 *requested);
void pcm_vm_msr_commit(struct kvm_vcpu *vcpu, u64 requested, u64 stored);
void pcm_vm_msr_reset(struct kvm_vcpu *vcpu);
/*
 * KVM_RUN of vcpu (atomic context): true if it must be refused.  Narrows
 * the vCPU's feature MSRs to the mode first, whatever set them.
 */
bool pcm_vm_run_refused(struct kvm_vcpu *vcpu);
/*
 * The guest's CPUID on vcpu (atomic context).  begin: false when the VM
 * needs no exit masking, else *leaf becomes the leaf KVM answers from;
 * end: masks KVM's answer in regs.
 */
bool pcm_vm_exit_begin(struct kvm_vcpu *vcpu, u32 *leaf, u32 subleaf);
void pcm_vm_exit_end(struct kvm_vcpu *vcpu, u32 leaf, u32 subleaf,
		     u32 *const regs[4]);
/*
 * A CPUID of vcpu the exit probe missed (atomic context): true if its VM
 * needed it, which is then blocked; KVM is to answer *absent, a leaf the
 * vCPU does not have, exactly (zeros).
 */
bool pcm_vm_exit_missed(struct kvm_vcpu *vcpu, u32 *absent);
int pcm_vm_set_mode(struct pcm_vm *vm, unsigned int mode);
unsigned int pcm_vm_mode(struct pcm_vm *vm);
void pcm_vm_features(struct pcm_vm *vm, struct pcm_fs *requested,
		     struct pcm_fs *visible, struct pcm_fs *hidden, u32 *flags);
void pcm_vm_identity(struct pcm_vm *vm, struct pcm_kvm_identity *id);
/* false: no expected identity */
bool pcm_vm_expect(struct pcm_vm *vm, struct pcm_kvm_identity *id);
int pcm_vm_set_expect(struct pcm_vm *vm, const struct pcm_kvm_identity *id);
/* "blocked: ..." without a newline, or "" (0) when the VM may run. */
size_t pcm_vm_blocked_text(struct pcm_vm *vm, char *buf, size_t size);

/* pcm_hooks.c */
int pcm_hooks_init(void);
void pcm_hooks_exit(void);
extern struct kobj_attribute pcm_probes_attr;

/* pcm_sysfs.c */
int pcm_sysfs_init(struct kobject *parent);
void pcm_sysfs_exit(struct kobject *parent);
extern const struct attribute_group *pcm_vm_groups[];

/* pcm_dev.c */
int pcm_dev_init(void);
void pcm_dev_exit(void);

#endif /* PCM_KVM_INTERNAL_H */
