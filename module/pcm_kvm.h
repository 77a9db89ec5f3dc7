/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcm_kvm kernel glue: the VM registry, hooks, sysfs and /dev/pcm_kvm.
 * The feature logic itself lives in pcm_model.c.
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

/* Immutable once published; replaced as a whole under RCU. */
struct pcm_policy {
	struct kref ref;
	struct rcu_head rcu;
	unsigned int mode;
	struct pcm_fs allow;		/* mode's allow-list minus withheld */
	struct pcm_fs withheld;		/* host_withhold when the VM was born */
};

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

/* pcm_vm.c */
int pcm_vm_init(struct kobject *parent);
void pcm_vm_exit(void);
struct pcm_vm *pcm_vm_lookup(const struct kvm *kvm);	/* under RCU */
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
/* KVM_RUN of vcpu (atomic context): true if it must be refused. */
bool pcm_vm_run_refused(struct kvm_vcpu *vcpu);
int pcm_vm_set_mode(struct pcm_vm *vm, unsigned int mode);
unsigned int pcm_vm_mode(struct pcm_vm *vm);
/* The exit-path mask of a VM; false when KVM's stored entries suffice. */
bool pcm_vm_exit_mask(struct pcm_vm *vm, struct pcm_fs *allow);
void pcm_vm_features(struct pcm_vm *vm, struct pcm_fs *requested,
		     struct pcm_fs *visible, struct pcm_fs *hidden, u32 *flags);
unsigned int pcm_vm_count(void);
void pcm_vm_identity(struct pcm_vm *vm, struct pcm_kvm_identity *id);
int pcm_vm_set_expect(struct pcm_vm *vm, const struct pcm_kvm_identity *id);

/* pcm_main.c */
extern struct kobject *pcm_kobj;
unsigned int pcm_default_mode(void);
void pcm_host_features(struct pcm_fs *fs);
/* The allow-list of a mode on this host; -EINVAL for an unset baseline. */
/* withheld NULL: this host's current host_withhold. */
struct pcm_policy *pcm_policy_new(unsigned int mode, const struct pcm_fs *withheld);
/* This host as a destination for a VM in mode (features narrowed by it). */
int pcm_host_identity(unsigned int mode, const struct pcm_fs *withheld,
		      struct pcm_kvm_identity *id);
void pcm_policy_put(struct pcm_policy *pol);
/* default_mode or the baseline changed: rebuild the policy of new VMs. */
int pcm_vm_default_changed(void);

/* pcm_hooks.c */
int pcm_hooks_init(void);
void pcm_hooks_exit(void);
/*
 * The CPUID exit probe is armed only while some VM needs exit masking.
 * get: process context, arms it before returning (0 or -errno);
 * ref: count one more user that a get already armed for (any context);
 * put: any context; disarming is deferred to a work item.
 */
int pcm_exit_hook_get(void);
void pcm_exit_hook_ref(void);
void pcm_exit_hook_put(void);
extern struct kobj_attribute pcm_probes_attr;

/* pcm_proc.c */
/* The policy pending for the current process, with a reference, or NULL. */
struct pcm_policy *pcm_proc_policy(void);			/* atomic context */
/* The baseline or host_withhold changed: rebuild the pending policies. */
void pcm_proc_policies_changed(void);
void pcm_proc_exit(void);
extern struct kobj_attribute pcm_process_modes_attr;

/* pcm_dev.c */
int pcm_dev_init(void);
void pcm_dev_exit(void);

#endif /* PCM_KVM_INTERNAL_H */
