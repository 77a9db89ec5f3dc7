// SPDX-License-Identifier: GPL-2.0
/*
 * The policy layer: what this host's KVM offers (host_features), the
 * operator's inputs (baseline, host_withhold, default_mode, process_modes)
 * and the policy objects built from them, which VMs hold.
 *
 * Policies are immutable once built and are handed out by reference.  The
 * policies that new VMs take (the default one and one per pending process)
 * are prebuilt here, because VMs are registered from a probe handler that
 * cannot allocate, and rebuilt, under pcm_policy_lock, whenever an input
 * changes.  Nothing here knows about VMs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <asm/processor.h>
#include <asm/cpufeature.h>
#include <asm/fpu/xcr.h>
#include "pcm_kvm.h"

/*
 * Held by each writer of an input of the policies from its update until the
 * policies built from it are published, so that two writers cannot publish
 * a policy built from the other's older inputs.  Taken before the locks of
 * the inputs, which readers take alone.
 */
static DEFINE_MUTEX(pcm_policy_lock);

static DEFINE_MUTEX(pcm_baseline_lock);
static struct pcm_fs pcm_baseline;		/* under pcm_baseline_lock */
static bool pcm_baseline_set;

/* host_withhold: features this host pretends not to have. */
static DEFINE_MUTEX(pcm_withhold_lock);
static struct pcm_fs pcm_withhold;		/* under pcm_withhold_lock */

static unsigned int pcm_default_mode_val = PCM_KVM_MODE_OFF;

/* The policy new VMs start with; replaced when its inputs change. */
static struct pcm_policy __rcu *pcm_default_policy;
static DEFINE_RAW_SPINLOCK(pcm_default_policy_lock);

unsigned int pcm_default_mode(void)
{
	return READ_ONCE(pcm_default_mode_val);
}

/*
 * What KVM can give, before host_withhold: KVM_GET_SUPPORTED_CPUID
 * (pcm_kvmdev.c) and what KVM provides on any host.
 */
static void pcm_host_features_raw(struct pcm_fs *fs)
{
	struct pcm_fs known, kvm_class;
	u32 max_basic, max_ext;

	pcm_kvmdev_offer(fs, &max_basic, &max_ext);
	pcm_fs_known(&known);
	pcm_fs_of_class(&kvm_class, PCM_CLASS_KVM);
	pcm_fs_or(fs, fs, &kvm_class);
	pcm_fs_and(fs, fs, &known);
	pcm_fs_close(fs);
}

void pcm_host_features(struct pcm_fs *fs)
{
	pcm_host_features_raw(fs);
	mutex_lock(&pcm_withhold_lock);
	pcm_fs_andnot(fs, fs, &pcm_withhold);
	mutex_unlock(&pcm_withhold_lock);
	pcm_fs_close(fs);
}

int pcm_host_identity(unsigned int mode, const struct pcm_fs *withheld,
		      struct pcm_kvm_identity *id)
{
	struct pcm_policy *pol;
	struct pcm_fs offer;
	bool scaling;
	u64 xcr0 = 0;

	pol = pcm_policy_new(mode, withheld);
	if (IS_ERR(pol))
		return PTR_ERR(pol);
	memset(id, 0, sizeof(*id));
	id->mode = mode;
	/* The policy already takes out the withheld features it was given. */
	pcm_host_features_raw(&id->features);
	pcm_fs_and(&id->features, &id->features, &pol->allow);
	pcm_fs_close(&id->features);
	memcpy(id->vendor, boot_cpu_data.x86_vendor_id,
	       min(sizeof(id->vendor) - 1, sizeof(boot_cpu_data.x86_vendor_id)));
	/* The highest leaves KVM_GET_SUPPORTED_CPUID reports. */
	pcm_kvmdev_offer(&offer, &id->max_basic_leaf, &id->max_ext_leaf);
	id->phys_bits = boot_cpu_data.x86_phys_bits;
	pcm_kvmdev_tsc(&id->tsc_khz, &scaling);
	if (scaling)
		id->flags |= PCM_KVM_ID_TSC_SCALING;
	if (boot_cpu_has(X86_FEATURE_OSXSAVE))
		xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	id->xcr0 = pcm_xcr0_visible(xcr0, &id->features);
	pcm_policy_put(pol);
	return 0;
}

int pcm_expect_check(unsigned int mode, const struct pcm_fs *withheld,
		     const struct pcm_kvm_identity *id, const char *who)
{
	struct pcm_kvm_identity host;
	unsigned int result, limits;
	struct pcm_fs missing, extra;
	char *msg;
	int ret;

	ret = pcm_host_identity(mode, withheld, &host);
	if (ret)
		return ret;
	result = pcm_identity_check(id, &host, &missing, &extra, &limits);
	if (result < PCM_KVM_CHECK_MISSING)
		return 0;
	msg = kmalloc(PCM_IDENTITY_TEXT_MAX, GFP_KERNEL);
	if (msg)
		pcm_check_format(result, id, &host, &missing, &extra, limits,
				 msg, PCM_IDENTITY_TEXT_MAX);
	pr_warn("%s: expected identity refused in mode %s: %s\n", who,
		pcm_mode_name(mode), msg ? msg : "");
	kfree(msg);
	return -EINVAL;
}

/*
 * KVM stores any IA32_ARCH_CAPABILITIES a VMM writes, bits it does not
 * offer and reserved bits included; a mode keeps the MSR within what this
 * host's KVM offers.  Bits that ask the guest for more mitigation (SCRUB,
 * INV) are never taken away.
 */
static void pcm_policy_msr_offer(struct pcm_fs *allow)
{
	struct pcm_fs offer, keep;

	pcm_host_features_raw(&offer);
	pcm_fs_of_class(&keep, PCM_CLASS_SCRUB);
	pcm_fs_or(&offer, &offer, &keep);
	pcm_fs_of_class(&keep, PCM_CLASS_INV);
	pcm_fs_or(&offer, &offer, &keep);
	pcm_fs_set_arch_cap(allow, pcm_fs_arch_cap(allow) & pcm_fs_arch_cap(&offer));
}

struct pcm_policy *pcm_policy_new(unsigned int mode, const struct pcm_fs *withheld)
{
	struct pcm_policy *pol;
	struct pcm_fs base;
	bool have_base;

	mutex_lock(&pcm_baseline_lock);
	base = pcm_baseline;
	have_base = pcm_baseline_set;
	mutex_unlock(&pcm_baseline_lock);

	if (mode == PCM_KVM_MODE_BASELINE && !have_base) {
		pr_warn("mode baseline: /sys/kernel/pcm_kvm/baseline is not set\n");
		return ERR_PTR(-EINVAL);
	}
	pol = kzalloc(sizeof(*pol), GFP_KERNEL);
	if (!pol)
		return ERR_PTR(-ENOMEM);
	kref_init(&pol->ref);
	pol->mode = mode;
	if (pcm_mode_allow(mode, &base, &pol->allow)) {
		kfree(pol);
		return ERR_PTR(-EINVAL);
	}
	if (withheld) {
		pol->withheld = *withheld;
	} else {
		mutex_lock(&pcm_withhold_lock);
		pol->withheld = pcm_withhold;
		mutex_unlock(&pcm_withhold_lock);
	}
	if (mode != PCM_KVM_MODE_OFF)
		pcm_policy_msr_offer(&pol->allow);
	/* Withheld features are hidden even in mode off. */
	if (!pcm_fs_empty(&pol->withheld)) {
		pcm_fs_andnot(&pol->allow, &pol->allow, &pol->withheld);
		pcm_fs_close(&pol->allow);
	}
	return pol;
}

static void pcm_policy_release(struct kref *ref)
{
	struct pcm_policy *pol = container_of(ref, struct pcm_policy, ref);

	kfree_rcu(pol, rcu);
}

void pcm_policy_put(struct pcm_policy *pol)
{
	if (pol)
		kref_put(&pol->ref, pcm_policy_release);
}

/* A reference on *slot's policy, or NULL; caller in an RCU section. */
static struct pcm_policy *pcm_policy_get_rcu(struct pcm_policy __rcu **slot)
{
	struct pcm_policy *pol = rcu_dereference(*slot);

	if (pol && !kref_get_unless_zero(&pol->ref))
		pol = NULL;
	return pol;
}

/* Build and publish the default policy; caller holds pcm_policy_lock. */
static int pcm_policy_default_rebuild(void)
{
	struct pcm_policy *pol, *old;

	lockdep_assert_held(&pcm_policy_lock);
	pol = pcm_policy_new(pcm_default_mode(), NULL);
	if (IS_ERR(pol))
		return PTR_ERR(pol);
	raw_spin_lock(&pcm_default_policy_lock);
	old = rcu_replace_pointer(pcm_default_policy, pol,
				  lockdep_is_held(&pcm_default_policy_lock));
	raw_spin_unlock(&pcm_default_policy_lock);
	pcm_policy_put(old);
	return 0;
}

/*
 * Per-process pending modes (process_modes).  A mode is fully enforced only
 * when it is known before the VMM's KVM_SET_CPUID2, which QEMU calls while
 * it initialises: a management layer that knows the VMM's pid before the
 * VMM creates its VM registers it here.  Entries hold a struct pid, so a
 * recycled pid number never matches; those of exited processes are dropped
 * on the next read or write.  Lookups at VM creation: RCU list, no locks.
 */
struct pcm_proc_expect {
	struct rcu_head rcu;
	struct pcm_kvm_identity id;
};

struct pcm_proc {
	struct list_head node;		/* pcm_proc_list, RCU */
	struct rcu_head rcu;
	struct pid *pid;
	unsigned int mode;
	struct pcm_policy __rcu *policy;
	struct pcm_proc_expect __rcu *expect;	/* NULL: none */
};

static LIST_HEAD(pcm_proc_list);
static DEFINE_MUTEX(pcm_proc_lock);	/* writers of pcm_proc_list */
static unsigned int pcm_proc_nr;	/* under pcm_proc_lock */

static void pcm_proc_free_rcu(struct rcu_head *head)
{
	struct pcm_proc *p = container_of(head, struct pcm_proc, rcu);

	put_pid(p->pid);
	kfree(p);
}

static void pcm_proc_del(struct pcm_proc *p)
{
	lockdep_assert_held(&pcm_proc_lock);
	list_del_rcu(&p->node);
	pcm_proc_nr--;
	pcm_policy_put(rcu_dereference_protected(p->policy, 1));
	kfree_rcu(rcu_dereference_protected(p->expect, 1), rcu);
	call_rcu(&p->rcu, pcm_proc_free_rcu);
}

static bool pcm_proc_alive(struct pcm_proc *p)
{
	bool alive;

	rcu_read_lock();
	alive = pid_task(p->pid, PIDTYPE_TGID);
	rcu_read_unlock();
	return alive;
}

static void pcm_proc_prune(void)
{
	struct pcm_proc *p, *tmp;

	lockdep_assert_held(&pcm_proc_lock);
	list_for_each_entry_safe(p, tmp, &pcm_proc_list, node)
		if (!pcm_proc_alive(p))
			pcm_proc_del(p);
}

/* Rebuild the pending processes' policies; caller holds pcm_policy_lock. */
static void pcm_proc_rebuild(void)
{
	struct pcm_policy *pol, *old;
	struct pcm_proc *p;

	lockdep_assert_held(&pcm_policy_lock);
	mutex_lock(&pcm_proc_lock);
	list_for_each_entry(p, &pcm_proc_list, node) {
		pol = pcm_policy_new(p->mode, NULL);
		if (IS_ERR(pol))
			continue;	/* keeps the policy it had */
		old = rcu_replace_pointer(p->policy, pol,
					  lockdep_is_held(&pcm_proc_lock));
		pcm_policy_put(old);
	}
	mutex_unlock(&pcm_proc_lock);
}

/* The entry of tgid, if it has one; under rcu_read_lock(). */
static struct pcm_proc *pcm_proc_find_rcu(struct pid *tgid)
{
	struct pcm_proc *p;

	list_for_each_entry_rcu(p, &pcm_proc_list, node)
		if (p->pid == tgid)
			return p;
	return NULL;
}

/*
 * The entry of the current process or of its nearest ancestor: a mode is
 * inherited, as an affinity or a NUMA policy is, by what a registered
 * process starts (a jailer's VMM, a wrapper's child).  Processes reparented
 * after their parent exits inherit nothing.  The walk stops at the idle
 * task, whose parent is itself.
 */
static struct pcm_proc *pcm_proc_of_current_rcu(void)
{
	struct task_struct *t = current, *parent;
	struct pcm_proc *p;

	if (list_empty(&pcm_proc_list))
		return NULL;
	for (;;) {
		p = pcm_proc_find_rcu(task_tgid(t));
		if (p)
			return p;
		parent = rcu_dereference(t->real_parent);
		if (!parent || parent == t || !parent->pid)
			return NULL;
		t = parent;
	}
}

struct pcm_policy *pcm_policy_for_new_vm(struct pcm_kvm_identity *expect, bool *has_expect)
{
	struct pcm_proc_expect *e = NULL;
	struct pcm_policy *pol = NULL;
	struct pcm_proc *p;

	rcu_read_lock();
	p = pcm_proc_of_current_rcu();
	/* A mode pending for this process beats the default. */
	if (p) {
		pol = pcm_policy_get_rcu(&p->policy);
		e = rcu_dereference(p->expect);
	}
	*has_expect = pol && e;
	if (*has_expect)
		*expect = e->id;
	if (!pol)
		pol = pcm_policy_get_rcu(&pcm_default_policy);
	rcu_read_unlock();
	return pol;
}

int pcm_policy_set_process(struct pid *pid, int mode,
			   const struct pcm_kvm_identity *expect)
{
	struct pcm_proc_expect *e = NULL, *old_e;
	struct pcm_policy *pol, *old;
	struct pcm_proc *p, *found = NULL;
	int ret = 0;

	if (expect && mode >= 0) {
		e = kmalloc(sizeof(*e), GFP_KERNEL);
		if (!e)
			return -ENOMEM;
		e->id = *expect;
	}
	mutex_lock(&pcm_policy_lock);
	if (mode < 0) {
		pol = NULL;
	} else {
		pol = pcm_policy_new(mode, NULL);
		if (IS_ERR(pol)) {
			mutex_unlock(&pcm_policy_lock);
			kfree(e);
			return PTR_ERR(pol);
		}
		/* This host, as it is now, must give a VM the expected identity. */
		if (e) {
			ret = pcm_expect_check(mode, &pol->withheld, &e->id, "process_modes");
			if (ret) {
				mutex_unlock(&pcm_policy_lock);
				pcm_policy_put(pol);
				kfree(e);
				return ret;
			}
		}
	}
	mutex_lock(&pcm_proc_lock);
	pcm_proc_prune();
	list_for_each_entry(p, &pcm_proc_list, node)
		if (p->pid == pid)
			found = p;
	if (!pol) {
		if (found)
			pcm_proc_del(found);
		else
			ret = -ENOENT;
	} else if (found) {
		/* A reader sees the old or the new pair, both consistent. */
		old = rcu_replace_pointer(found->policy, pol,
					  lockdep_is_held(&pcm_proc_lock));
		old_e = rcu_replace_pointer(found->expect, e,
					    lockdep_is_held(&pcm_proc_lock));
		WRITE_ONCE(found->mode, mode);
		pcm_policy_put(old);
		kfree_rcu(old_e, rcu);
		pol = NULL;
		e = NULL;
	} else if (pcm_proc_nr >= PCM_POLICY_PROC_MAX) {
		ret = -ENOSPC;
	} else {
		p = kzalloc(sizeof(*p), GFP_KERNEL);
		if (!p) {
			ret = -ENOMEM;
		} else {
			p->pid = get_pid(pid);
			p->mode = mode;
			RCU_INIT_POINTER(p->policy, pol);
			RCU_INIT_POINTER(p->expect, e);
			pol = NULL;
			e = NULL;
			list_add_tail_rcu(&p->node, &pcm_proc_list);
			pcm_proc_nr++;
		}
	}
	mutex_unlock(&pcm_proc_lock);
	mutex_unlock(&pcm_policy_lock);
	pcm_policy_put(pol);
	kfree(e);
	return ret;
}

int pcm_policy_processes(struct pcm_policy_proc *out)
{
	struct pcm_proc *p;
	int n = 0;

	mutex_lock(&pcm_proc_lock);
	pcm_proc_prune();
	list_for_each_entry(p, &pcm_proc_list, node) {
		if (n == PCM_POLICY_PROC_MAX)
			break;
		out[n].pid = pid_vnr(p->pid);
		out[n].mode = p->mode;
		out[n].expect = !!rcu_access_pointer(p->expect);
		n++;
	}
	mutex_unlock(&pcm_proc_lock);
	return n;
}

bool pcm_policy_baseline(struct pcm_fs *fs)
{
	bool set;

	mutex_lock(&pcm_baseline_lock);
	*fs = pcm_baseline;
	set = pcm_baseline_set;
	mutex_unlock(&pcm_baseline_lock);
	return set;
}

int pcm_policy_set_baseline(const struct pcm_fs *want, struct pcm_fs *missing)
{
	struct pcm_fs host;

	mutex_lock(&pcm_policy_lock);
	pcm_host_features(&host);
	pcm_fs_andnot(missing, want, &host);
	if (!pcm_fs_empty(missing)) {
		mutex_unlock(&pcm_policy_lock);
		return -EINVAL;
	}
	mutex_lock(&pcm_baseline_lock);
	pcm_baseline = *want;
	pcm_baseline_set = true;
	mutex_unlock(&pcm_baseline_lock);
	/* VMs already in baseline keep the list they were given. */
	if (pcm_default_mode() == PCM_KVM_MODE_BASELINE)
		pcm_policy_default_rebuild();
	pcm_proc_rebuild();
	mutex_unlock(&pcm_policy_lock);
	return 0;
}

void pcm_policy_withhold(struct pcm_fs *fs)
{
	mutex_lock(&pcm_withhold_lock);
	*fs = pcm_withhold;
	mutex_unlock(&pcm_withhold_lock);
}

int pcm_policy_set_withhold(const struct pcm_fs *want)
{
	int ret;

	mutex_lock(&pcm_policy_lock);
	mutex_lock(&pcm_withhold_lock);
	pcm_withhold = *want;
	mutex_unlock(&pcm_withhold_lock);
	/* New VMs start withholding them; running VMs keep what they had. */
	pcm_proc_rebuild();
	ret = pcm_policy_default_rebuild();
	mutex_unlock(&pcm_policy_lock);
	return ret;
}

int pcm_policy_set_default_mode(unsigned int mode)
{
	unsigned int old;
	int ret;

	mutex_lock(&pcm_policy_lock);
	old = pcm_default_mode();
	WRITE_ONCE(pcm_default_mode_val, mode);
	ret = pcm_policy_default_rebuild();
	if (ret)
		WRITE_ONCE(pcm_default_mode_val, old);
	mutex_unlock(&pcm_policy_lock);
	return ret;
}

int pcm_policy_init(void)
{
	int ret;

	mutex_lock(&pcm_policy_lock);
	ret = pcm_policy_default_rebuild();
	mutex_unlock(&pcm_policy_lock);
	return ret;
}

void pcm_policy_exit(void)
{
	struct pcm_proc *p, *tmp;

	mutex_lock(&pcm_proc_lock);
	list_for_each_entry_safe(p, tmp, &pcm_proc_list, node)
		pcm_proc_del(p);
	mutex_unlock(&pcm_proc_lock);
	pcm_policy_put(rcu_dereference_protected(pcm_default_policy, 1));
	RCU_INIT_POINTER(pcm_default_policy, NULL);
	/* kfree_rcu() and call_rcu() callbacks must not outlive the module. */
	rcu_barrier();
}
