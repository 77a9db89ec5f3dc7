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

#include <linux/hashtable.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
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
	struct pcm_fs offers, kvm_class;
	u32 max_basic, max_ext;

	pcm_kvmdev_offer(fs, &max_basic, &max_ext);
	/* the table pcmctl also drops from a CPUID dump's profile */
	pcm_fs_kvm_offers(&offers);
	pcm_fs_of_class(&kvm_class, PCM_CLASS_KVM);
	pcm_fs_or(fs, fs, &kvm_class);
	pcm_fs_and(fs, fs, &offers);
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
 * VMM creates its VM registers it here, or pcmctl run registers itself and
 * execs the VMM.  Entries hold a struct pid, so a recycled pid number never
 * matches.  Lookups at VM creation: RCU, no locks.
 *
 * The processes a registered process starts from then on inherit its entry,
 * as they inherit an affinity: QEMU's -daemonize forks twice before it
 * creates its VM, a shell or a jailer may sit between pcmctl run and the
 * VMM.  The sched_process_fork tracepoint runs in the parent before the
 * child can run, so no VM of a child escapes.  It may not sleep: inherited
 * entries ("kids") come from a preallocated pool, and a slot is reused only
 * after an RCU grace period.  An entry lives while its process or one that
 * inherited it does; dead ones are dropped on the next read or write.
 */
struct pcm_proc_expect {
	struct rcu_head rcu;
	struct pcm_kvm_identity id;
};

struct pcm_proc {
	struct list_head node;		/* pcm_proc_list, RCU */
	struct rcu_head rcu;
	refcount_t ref;			/* the list's, and one per kid */
	struct pid *pid;
	unsigned int mode;
	unsigned int kids;		/* under pcm_kid_lock */
	bool forgotten;			/* under pcm_kid_lock: takes no more kids */
	struct pcm_policy __rcu *policy;
	struct pcm_proc_expect __rcu *expect;	/* NULL: none */
};

struct pcm_proc_kid {
	struct hlist_node hnode;	/* pcm_kid_hash (RCU), or pcm_kid_free */
	struct rcu_head rcu;
	struct pid *pid;
	struct pcm_proc *root;		/* a reference */
};

#define PCM_PROC_KIDS	512

static LIST_HEAD(pcm_proc_list);
static DEFINE_MUTEX(pcm_proc_lock);	/* writers of pcm_proc_list */
static unsigned int pcm_proc_nr;	/* under pcm_proc_lock */

static struct pcm_proc_kid *pcm_kid_pool;	/* [PCM_PROC_KIDS] */
static HLIST_HEAD(pcm_kid_free);
static DEFINE_HASHTABLE(pcm_kid_hash, 7);
static DEFINE_RAW_SPINLOCK(pcm_kid_lock);	/* pcm_kid_hash, pcm_kid_free */
/* Entries and kids: while 0, a fork costs one read. */
static atomic_t pcm_proc_users = ATOMIC_INIT(0);
static struct tracepoint *pcm_fork_tp;

static void pcm_proc_free_rcu(struct rcu_head *head)
{
	struct pcm_proc *p = container_of(head, struct pcm_proc, rcu);

	put_pid(p->pid);
	pcm_policy_put(rcu_dereference_protected(p->policy, 1));
	kfree(rcu_dereference_protected(p->expect, 1));
	kfree(p);
}

/* Any context: the last reference frees p after a grace period. */
static void pcm_proc_put(struct pcm_proc *p)
{
	if (refcount_dec_and_test(&p->ref)) {
		atomic_dec(&pcm_proc_users);
		call_rcu(&p->rcu, pcm_proc_free_rcu);
	}
}

static void pcm_kid_free_rcu(struct rcu_head *head)
{
	struct pcm_proc_kid *k = container_of(head, struct pcm_proc_kid, rcu);
	unsigned long flags;

	put_pid(k->pid);
	pcm_proc_put(k->root);
	raw_spin_lock_irqsave(&pcm_kid_lock, flags);
	hlist_add_head(&k->hnode, &pcm_kid_free);
	raw_spin_unlock_irqrestore(&pcm_kid_lock, flags);
}

/* Caller holds pcm_kid_lock. */
static void pcm_kid_del(struct pcm_proc_kid *k)
{
	lockdep_assert_held(&pcm_kid_lock);
	hash_del_rcu(&k->hnode);
	k->root->kids--;
	atomic_dec(&pcm_proc_users);
	call_rcu(&k->rcu, pcm_kid_free_rcu);
}

static bool pcm_pid_alive(struct pid *pid)
{
	bool alive;

	rcu_read_lock();
	alive = pid_task(pid, PIDTYPE_TGID);
	rcu_read_unlock();
	return alive;
}

/* Drop the kids of p (all of them), or those that exited (p NULL). */
static void pcm_kids_drop(struct pcm_proc *p)
{
	struct pcm_proc_kid *k;
	struct hlist_node *tmp;
	unsigned long flags;
	int bkt;

	raw_spin_lock_irqsave(&pcm_kid_lock, flags);
	if (p)
		p->forgotten = true;
	hash_for_each_safe(pcm_kid_hash, bkt, tmp, k, hnode)
		if (p ? k->root == p : !pcm_pid_alive(k->pid))
			pcm_kid_del(k);
	raw_spin_unlock_irqrestore(&pcm_kid_lock, flags);
}

static void pcm_proc_del(struct pcm_proc *p)
{
	lockdep_assert_held(&pcm_proc_lock);
	pcm_kids_drop(p);
	list_del_rcu(&p->node);
	pcm_proc_nr--;
	pcm_proc_put(p);
}

/* Exited kids, then entries whose process exited and that no kid holds. */
static void pcm_proc_prune(void)
{
	struct pcm_proc *p, *tmp;

	lockdep_assert_held(&pcm_proc_lock);
	pcm_kids_drop(NULL);
	list_for_each_entry_safe(p, tmp, &pcm_proc_list, node)
		if (!pcm_pid_alive(p->pid) && refcount_read(&p->ref) == 1)
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

/* The entry of a process (its own, or the one it inherited); under RCU. */
static struct pcm_proc *pcm_proc_of_rcu(struct pid *tgid)
{
	struct pcm_proc_kid *k;
	struct pcm_proc *p;

	list_for_each_entry_rcu(p, &pcm_proc_list, node)
		if (p->pid == tgid)
			return p;
	hash_for_each_possible_rcu(pcm_kid_hash, k, hnode, (unsigned long)tgid)
		if (k->pid == tgid)
			return k->root;
	return NULL;
}

/* sched_process_fork: a new process inherits its parent's entry. */
static void pcm_proc_fork(void *data, struct task_struct *parent,
			  struct task_struct *child)
{
	struct pcm_proc_kid *k = NULL;
	struct pcm_proc *root;
	unsigned long flags;

	if (!atomic_read(&pcm_proc_users) || same_thread_group(parent, child))
		return;
	rcu_read_lock();
	root = pcm_proc_of_rcu(task_tgid(parent));
	if (!root || !refcount_inc_not_zero(&root->ref)) {
		rcu_read_unlock();
		return;
	}
	raw_spin_lock_irqsave(&pcm_kid_lock, flags);
	if (!root->forgotten && !hlist_empty(&pcm_kid_free)) {
		k = hlist_entry(pcm_kid_free.first, struct pcm_proc_kid, hnode);
		hlist_del(&k->hnode);
		k->pid = get_pid(task_tgid(child));
		k->root = root;
		root->kids++;
		atomic_inc(&pcm_proc_users);
		hash_add_rcu(pcm_kid_hash, &k->hnode, (unsigned long)k->pid);
	}
	raw_spin_unlock_irqrestore(&pcm_kid_lock, flags);
	if (!k) {
		if (!root->forgotten)
			pr_warn_ratelimited("process_modes: process %d, started by %d, inherits no mode: %d inherited entries in use\n",
					    task_tgid_nr(child), task_tgid_nr(parent),
					    PCM_PROC_KIDS);
		pcm_proc_put(root);
	}
	rcu_read_unlock();
}

static void pcm_find_fork_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_process_fork"))
		pcm_fork_tp = tp;
}

static int pcm_proc_init(void)
{
	int i, ret;

	pcm_kid_pool = kcalloc(PCM_PROC_KIDS, sizeof(*pcm_kid_pool), GFP_KERNEL);
	if (!pcm_kid_pool)
		return -ENOMEM;
	for (i = 0; i < PCM_PROC_KIDS; i++)
		hlist_add_head(&pcm_kid_pool[i].hnode, &pcm_kid_free);
	for_each_kernel_tracepoint(pcm_find_fork_tp, NULL);
	if (!pcm_fork_tp) {
		pr_err("no sched_process_fork tracepoint: processes could not inherit a mode\n");
		ret = -ENOENT;
		goto err;
	}
	ret = tracepoint_probe_register(pcm_fork_tp, pcm_proc_fork, NULL);
	if (ret) {
		pr_err("cannot attach to sched_process_fork: %d\n", ret);
		goto err;
	}
	return 0;
err:
	kfree(pcm_kid_pool);
	pcm_kid_pool = NULL;
	return ret;
}

/* After every VM is gone: no lookup can run any more. */
static void pcm_proc_exit(void)
{
	struct pcm_proc *p, *tmp;

	if (!pcm_kid_pool)
		return;		/* pcm_proc_init() failed */
	tracepoint_probe_unregister(pcm_fork_tp, pcm_proc_fork, NULL);
	tracepoint_synchronize_unregister();
	mutex_lock(&pcm_proc_lock);
	list_for_each_entry_safe(p, tmp, &pcm_proc_list, node)
		pcm_proc_del(p);
	mutex_unlock(&pcm_proc_lock);
	/* The kids' callbacks put them back in the pool, then it can go. */
	rcu_barrier();
	kfree(pcm_kid_pool);
	pcm_kid_pool = NULL;
}

struct pcm_policy *pcm_policy_for_new_vm(struct pcm_kvm_identity *expect, bool *has_expect)
{
	struct pcm_proc_expect *e = NULL;
	struct pcm_policy *pol = NULL;
	struct pcm_proc *p = NULL;

	rcu_read_lock();
	if (atomic_read(&pcm_proc_users))
		p = pcm_proc_of_rcu(task_tgid(current));
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
			refcount_set(&p->ref, 1);
			RCU_INIT_POINTER(p->policy, pol);
			RCU_INIT_POINTER(p->expect, e);
			pol = NULL;
			e = NULL;
			atomic_inc(&pcm_proc_users);
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
		out[n].kids = READ_ONCE(p->kids);
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
	if (ret)
		return ret;
	ret = pcm_proc_init();
	if (ret) {
		pcm_policy_put(rcu_dereference_protected(pcm_default_policy, 1));
		RCU_INIT_POINTER(pcm_default_policy, NULL);
		rcu_barrier();
	}
	return ret;
}

void pcm_policy_exit(void)
{
	pcm_proc_exit();
	pcm_policy_put(rcu_dereference_protected(pcm_default_policy, 1));
	RCU_INIT_POINTER(pcm_default_policy, NULL);
	/* kfree_rcu() and call_rcu() callbacks must not outlive the module. */
	rcu_barrier();
}
