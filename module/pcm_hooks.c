// SPDX-License-Identifier: GPL-2.0
/*
 * The probes that put pcm_kvm inside KVM:
 *
 *   kvm_arch_init_vm           a VM is born: register it with default_mode
 *                              (its thread names it as KVM_CREATE_VM
 *                              returns); (ret) unregister it if init failed
 *   kvm_arch_destroy_vm        a VM ends
 *   kvm_set_cpuid (ret)        KVM_SET_CPUID2: mask the entries KVM installs,
 *                              record them if KVM accepts them
 *   kvm_arch_vcpu_ioctl_run    first KVM_RUN: freeze the mode; refuse it
 *                              when the VM's expected identity is unmet or
 *                              a vCPU holds CPUID pcm_kvm never recorded
 *   kvm_cpuid (ret)            the guest's CPUID, masked when the stored
 *                              entries are not (mode set after SET_CPUID2);
 *                              armed only while such a VM exists, so that
 *                              every other CPUID exit runs unprobed
 *   kvm_cpuid                  a call the return probe missed: zeros, and
 *                              the VM is blocked (armed with the above)
 *
 * Handlers only turn registers into calls on the VM state (pcm_vm.c).
 * They run with preemption disabled: RCU lookups, raw spinlocks and
 * preallocated memory only.  No resolved kernel function is ever called.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/kvm_host.h>
#include <linux/module.h>
#include <linux/sysfs.h>
#include "pcm_kvm.h"

/* Enough for every CPU plus tasks preempted inside a probed function. */
static int pcm_maxactive(void)
{
	return max_t(int, 64, 8 * num_possible_cpus());
}

/*
 * A VM is registered on entry to kvm_arch_init_vm(), from a plain kprobe
 * that cannot miss; the return probe only undoes that when the init failed
 * (KVM then frees the VM without kvm_arch_destroy_vm()).  Should that return
 * go unprobed, the next VM at the same address replaces the stale entry.
 */
static int init_vm_pre(struct kprobe *p, struct pt_regs *regs)
{
	pcm_vm_created((struct kvm *)regs->di);
	return 0;
}

static struct kprobe pcm_init_vm_probe = {
	.symbol_name = "kvm_arch_init_vm",
	.pre_handler = init_vm_pre,
};

static int init_vm_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	*(struct kvm **)ri->data = (struct kvm *)regs->di;
	return 0;
}

static int init_vm_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	if (regs_return_value(regs) != 0)
		pcm_vm_init_failed(*(struct kvm **)ri->data);
	return 0;
}

static struct kretprobe pcm_init_vm_ret_probe = {
	.kp.symbol_name = "kvm_arch_init_vm",
	.entry_handler = init_vm_entry,
	.handler = init_vm_ret,
	.data_size = sizeof(struct kvm *),
};

static int destroy_vm_pre(struct kprobe *p, struct pt_regs *regs)
{
	pcm_vm_destroyed((struct kvm *)regs->di);
	return 0;
}

static struct kprobe pcm_destroy_vm_probe = {
	.symbol_name = "kvm_arch_destroy_vm",
	.pre_handler = destroy_vm_pre,
};

/*
 * KVM_SET_CPUID2: the entry handler masks the entries and stages the result
 * in the kretprobe instance; the return handler commits it only when KVM
 * accepted the entries.  Without an instance neither runs: the first
 * KVM_RUN of that vCPU finds entries pcm_kvm never recorded and is refused.
 */
struct pcm_set_cpuid_call {
	struct kvm_vcpu *vcpu;
	struct pcm_cpuid_stage st;
};

static int set_cpuid_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct pcm_set_cpuid_call *c = (struct pcm_set_cpuid_call *)ri->data;

	c->vcpu = (struct kvm_vcpu *)regs->di;
	/* Not a managed VM: no return handler. */
	return pcm_vm_cpuid_stage(c->vcpu, (struct kvm_cpuid_entry2 *)regs->si,
				  (int)regs->dx, &c->st) ? 0 : 1;
}

static int set_cpuid_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct pcm_set_cpuid_call *c = (struct pcm_set_cpuid_call *)ri->data;

	/* A rejected call changes nothing an operator or the guest sees. */
	if (regs_return_value(regs) == 0)
		pcm_vm_cpuid_commit(c->vcpu, &c->st);
	return 0;
}

static struct kretprobe pcm_set_cpuid_probe = {
	.kp.symbol_name = "kvm_set_cpuid",
	.entry_handler = set_cpuid_entry,
	.handler = set_cpuid_ret,
	.data_size = sizeof(struct pcm_set_cpuid_call),
};

/*
 * KVM_RUN of a VM whose expected identity is not met ends here instead of
 * in kvm_arch_vcpu_ioctl_run(): same signature, so the caller sees a plain
 * error return.  EPERM is the documented answer (README).
 */
static int pcm_run_refused(struct kvm_vcpu *vcpu)
{
	return -EPERM;
}

/*
 * The post handler of a kprobe that redirects its function: present so the
 * probe is installed with FTRACE_OPS_FL_IPMODIFY.
 */
static void pcm_ipmodify_post(struct kprobe *p, struct pt_regs *regs,
			      unsigned long flags)
{
}

static int vcpu_run_pre(struct kprobe *p, struct pt_regs *regs)
{
	if (!pcm_vm_run_refused((struct kvm_vcpu *)regs->di))
		return 0;
	/* Resume in pcm_run_refused(); the post handler makes this legal. */
	instruction_pointer_set(regs, (unsigned long)pcm_run_refused);
	return 1;
}

static struct kprobe pcm_vcpu_run_probe = {
	.symbol_name = "kvm_arch_vcpu_ioctl_run",
	.pre_handler = vcpu_run_pre,
	.post_handler = pcm_ipmodify_post,
};

/*
 * The guest's CPUID: KVM answers into its caller's four registers, which the
 * return handler masks.  The entry handler keeps the call only for a VM
 * whose exits need masking, and notes the leaf KVM will answer from.
 */
struct pcm_cpuid_call {
	struct kvm_vcpu *vcpu;
	u32 *regs[4];
	u32 leaf;
	u32 subleaf;
};

#ifdef PCM_FAULT_INJECT
/* Test builds: the return probe behaves as if it had no free instance. */
static bool fault_exit_miss;
module_param(fault_exit_miss, bool, 0644);
MODULE_PARM_DESC(fault_exit_miss, "test builds: the kvm_cpuid return probe misses every call");
#endif

/*
 * The call this CPU's return probe took, by its first argument (the
 * caller's EAX slot): the miss check below runs next, in the same probe hit.
 */
static DEFINE_PER_CPU(unsigned long, pcm_cpuid_taken);

static int cpuid_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct pcm_cpuid_call *c = (struct pcm_cpuid_call *)ri->data;

#ifdef PCM_FAULT_INJECT
	if (READ_ONCE(fault_exit_miss))
		return 1;	/* unmasked, as a missed call would be */
#endif
	__this_cpu_write(pcm_cpuid_taken, regs->si);
	c->vcpu = (struct kvm_vcpu *)regs->di;
	c->regs[0] = (u32 *)regs->si;
	c->regs[1] = (u32 *)regs->dx;
	c->regs[2] = (u32 *)regs->cx;
	c->regs[3] = (u32 *)regs->r8;
	c->leaf = *c->regs[0];
	c->subleaf = *c->regs[2];
	return pcm_vm_exit_begin(c->vcpu, &c->leaf, c->subleaf) ? 0 : 1;
}

static int cpuid_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct pcm_cpuid_call *c = (struct pcm_cpuid_call *)ri->data;

	pcm_vm_exit_end(c->vcpu, c->leaf, c->subleaf, c->regs);
	return 0;
}

static struct kretprobe pcm_cpuid_probe = {
	.kp.symbol_name = "kvm_cpuid",
	.entry_handler = cpuid_entry,
	.handler = cpuid_ret,
	.data_size = sizeof(struct pcm_cpuid_call),
};

/*
 * A call the return probe could not take (all its instances in use) would
 * hand the guest KVM's unmasked answer.  This plain kprobe on the same
 * function cannot miss, and runs right after the return probe's entry:
 * kprobes at one address run newest first, and it is registered first
 * (checked at load, pcm_cpuid_check_order()).  On a miss that matters, KVM's
 * kvm_cpuid() is replaced by pcm_cpuid_missed(), same signature: the guest
 * gets zeros, never more than its mode, and the VM is blocked.
 */
static bool pcm_cpuid_missed(struct kvm_vcpu *vcpu, u32 *eax, u32 *ebx,
			     u32 *ecx, u32 *edx, bool exact_only)
{
	*eax = 0;
	*ebx = 0;
	*ecx = 0;
	*edx = 0;
	return false;
}

static int cpuid_check_pre(struct kprobe *p, struct pt_regs *regs)
{
	if (__this_cpu_read(pcm_cpuid_taken) == regs->si) {
		__this_cpu_write(pcm_cpuid_taken, 0);
		return 0;
	}
	if (!pcm_vm_exit_missed((struct kvm_vcpu *)regs->di))
		return 0;
	instruction_pointer_set(regs, (unsigned long)pcm_cpuid_missed);
	return 1;
}

static struct kprobe pcm_cpuid_check_probe = {
	.symbol_name = "kvm_cpuid",
	.pre_handler = cpuid_check_pre,
	.post_handler = pcm_ipmodify_post,
};

/* Newest first: the return probe's entry must come right before the check. */
static int pcm_cpuid_check_order(void)
{
	if (READ_ONCE(pcm_cpuid_probe.kp.list.next) == &pcm_cpuid_check_probe.list)
		return 0;
	pr_err("cannot order the kvm_cpuid probes (another probe came between them); not loading\n");
	return -EBUSY;
}

/*
 * Registration order: kretprobes first, then the kprobes with the
 * kvm_arch_init_vm one last, so that no VM is registered before every hook
 * that follows it is in place (a VM it registers may arm the kvm_cpuid
 * probe); kvm_arch_destroy_vm first, so every registered VM is seen to end.
 */
static struct kretprobe *pcm_kretprobes[] = {
	&pcm_cpuid_probe,
	&pcm_set_cpuid_probe,
	&pcm_init_vm_ret_probe,
};

static struct kprobe *pcm_kprobes[] = {
	&pcm_destroy_vm_probe,
	&pcm_vcpu_run_probe,
	&pcm_init_vm_probe,
};

int pcm_hooks_init(void)
{
	int i, ret;

	/*
	 * Registered disarmed (pcm_exit_hook_get() arms them when needed), the
	 * miss check first so that it runs after the return probe's entry.
	 */
	pcm_cpuid_check_probe.flags |= KPROBE_FLAG_DISABLED;
	pcm_cpuid_probe.kp.flags |= KPROBE_FLAG_DISABLED;
	ret = register_kprobe(&pcm_cpuid_check_probe);
	if (ret) {
		pr_err("cannot hook %s (%d): this kernel's KVM lacks it; not loading\n",
		       pcm_cpuid_check_probe.symbol_name, ret);
		return ret;
	}
	for (i = 0; i < ARRAY_SIZE(pcm_kretprobes); i++) {
		pcm_kretprobes[i]->maxactive = pcm_maxactive();
		ret = register_kretprobe(pcm_kretprobes[i]);
		if (ret) {
			pr_err("cannot hook %s (%d): this kernel's KVM lacks it; not loading\n",
			       pcm_kretprobes[i]->kp.symbol_name, ret);
			goto err_kretprobes;
		}
	}
	ret = pcm_cpuid_check_order();
	if (ret)
		goto err_kretprobes;
	pcm_exit_switch_init(&pcm_cpuid_probe, &pcm_cpuid_check_probe);
	for (i = 0; i < ARRAY_SIZE(pcm_kprobes); i++) {
		ret = register_kprobe(pcm_kprobes[i]);
		if (ret) {
			pr_err("cannot hook %s (%d): this kernel's KVM lacks it; not loading\n",
			       pcm_kprobes[i]->symbol_name, ret);
			goto err_kprobes;
		}
	}
	return 0;

err_kprobes:
	unregister_kprobes(pcm_kprobes, i);
	pcm_exit_switch_exit();
	i = ARRAY_SIZE(pcm_kretprobes);
err_kretprobes:
	unregister_kretprobes(pcm_kretprobes, i);
	unregister_kprobe(&pcm_cpuid_check_probe);
	return ret;
}

void pcm_hooks_exit(void)
{
	pcm_exit_switch_exit();
	unregister_kretprobes(pcm_kretprobes, ARRAY_SIZE(pcm_kretprobes));
	unregister_kprobes(pcm_kprobes, ARRAY_SIZE(pcm_kprobes));
	unregister_kprobe(&pcm_cpuid_check_probe);
}

static ssize_t pcm_kprobe_line(char *buf, ssize_t n, struct kprobe *kp)
{
	return sysfs_emit_at(buf, n, "%s kind=kprobe nmissed=%lu armed=%d\n",
			     kp->symbol_name, READ_ONCE(kp->nmissed),
			     !kprobe_disabled(kp));
}

/* /sys/kernel/pcm_kvm/probes: one line per probe, for tests and operators. */
static ssize_t probes_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	ssize_t n = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(pcm_kprobes); i++)
		n += pcm_kprobe_line(buf, n, pcm_kprobes[i]);
	/* Before the kvm_cpuid return probe: readers take the last such line. */
	n += pcm_kprobe_line(buf, n, &pcm_cpuid_check_probe);
	for (i = 0; i < ARRAY_SIZE(pcm_kretprobes); i++) {
		struct kretprobe *rp = pcm_kretprobes[i];

		/* rp->nmissed: returns missed for want of an instance */
		n += sysfs_emit_at(buf, n, "%s kind=kretprobe nmissed=%lu armed=%d\n",
				   rp->kp.symbol_name,
				   READ_ONCE(rp->kp.nmissed) + READ_ONCE(rp->nmissed),
				   !kprobe_disabled(&rp->kp));
	}
	return n;
}

struct kobj_attribute pcm_probes_attr = __ATTR_RO(probes);
