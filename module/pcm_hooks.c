// SPDX-License-Identifier: GPL-2.0
/*
 * The probes that put pcm_kvm inside KVM:
 *
 *   kvm_arch_init_vm           a VM is born: register it with default_mode
 *                              (its thread names it as KVM_CREATE_VM
 *                              returns); (ret) unregister it if init failed
 *   kvm_arch_destroy_vm        a VM ends
 *   kvm_set_cpuid (ret)        KVM_SET_CPUID and KVM_SET_CPUID2: mask the
 *                              entries KVM installs, record them if KVM
 *                              accepts them
 *   kvm_vcpu_reset             a vCPU is created: narrow KVM's default
 *                              IA32_ARCH_CAPABILITIES before KVM derives
 *                              anything from it
 *   kvm_set_msr_common (ret)   KVM_SET_MSRS of IA32_ARCH_CAPABILITIES:
 *                              narrow the value KVM is to store, record it
 *                              if KVM accepts it
 *   kvm_arch_vcpu_ioctl_run    every KVM_RUN: narrow and record the vCPU's
 *                              IA32_ARCH_CAPABILITIES (a backstop for the
 *                              two above and for a mode set late);
 *                              first KVM_RUN: freeze the mode; refuse it
 *                              when the VM's expected identity is unmet or
 *                              a vCPU holds CPUID pcm_kvm never recorded;
 *                              (ret) a refused call returns EPERM
 *   kvm_cpuid (ret)            the guest's CPUID, masked when the stored
 *                              entries are not (mode set after SET_CPUID2);
 *                              armed only while such a VM exists, so that
 *                              every other CPUID exit runs unprobed
 *   kvm_cpuid                  a call the return probe missed: zeros, and
 *                              the VM is blocked (armed with the above)
 *
 * No probe changes the instruction pointer (no FTRACE_OPS_FL_IPMODIFY), so
 * livepatch and every other ftrace or kprobe user of these functions keep
 * working beside pcm_kvm.  Handlers change only what KVM's own uAPI could:
 * the entries being installed, a feature MSR's value, a vCPU's
 * wants_to_run (KVM_RUN's immediate_exit), the result of a call, the leaf a
 * CPUID asks for.
 *
 * Before the module loads, pcm_hooks_prove() walks every hooked path with
 * a throwaway VM and checks that each probe fired: a function the compiler
 * inlined into one caller, or that this kernel's KVM no longer calls on
 * that path, makes the load fail with its name.
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
 * Load-time proof (pcm_hooks_prove()): while it runs, every handler that
 * sees the loading task counts the hit instead of handling the call, and
 * no other VM is registered until it passed.
 */
enum pcm_hit {
	PCM_HIT_INIT_VM,
	PCM_HIT_INIT_VM_RET,
	PCM_HIT_VCPU_RESET,
	PCM_HIT_SET_CPUID,
	PCM_HIT_SET_CPUID_RET,
	PCM_HIT_SET_MSR,
	PCM_HIT_SET_MSR_RET,
	PCM_HIT_RUN,
	PCM_HIT_RUN_RET,
	PCM_HIT_CPUID,
	PCM_HIT_CPUID_RET,
	PCM_NR_HITS
};

static struct task_struct *pcm_prover;
static atomic_t pcm_hits[PCM_NR_HITS];
static bool pcm_hooks_live;

static bool pcm_proving(enum pcm_hit hit)
{
	if (likely(READ_ONCE(pcm_prover) != current))
		return false;
	atomic_inc(&pcm_hits[hit]);
	return true;
}

/*
 * A VM is registered on entry to kvm_arch_init_vm(), from a plain kprobe
 * that cannot miss; the return probe only undoes that when the init failed
 * (KVM then frees the VM without kvm_arch_destroy_vm()).  Should that return
 * go unprobed, the next VM at the same address replaces the stale entry.
 */
static int init_vm_pre(struct kprobe *p, struct pt_regs *regs)
{
	if (pcm_proving(PCM_HIT_INIT_VM))
		return 0;
	/* Like a VM that existed before the load: pcm_kvm is not loaded yet. */
	if (unlikely(!smp_load_acquire(&pcm_hooks_live))) {
		pr_warn_ratelimited("a VM of pid %d was created while pcm_kvm was loading: not managed\n",
				    task_tgid_nr(current));
		return 0;
	}
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
	if (pcm_proving(PCM_HIT_INIT_VM_RET))
		return 0;
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
 * KVM_SET_CPUID and KVM_SET_CPUID2: the entry handler masks the entries
 * and stages the result in the kretprobe instance; the return handler
 * commits it only when KVM accepted the entries.  Without an instance neither runs: the first
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
	if (pcm_proving(PCM_HIT_SET_CPUID)) {
		c->vcpu = NULL;
		return 0;
	}
	/* Not a managed VM: no return handler. */
	return pcm_vm_cpuid_stage(c->vcpu, (struct kvm_cpuid_entry2 *)regs->si,
				  (int)regs->dx, &c->st) ? 0 : 1;
}

static int set_cpuid_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct pcm_set_cpuid_call *c = (struct pcm_set_cpuid_call *)ri->data;

	if (!c->vcpu) {
		pcm_proving(PCM_HIT_SET_CPUID_RET);
		return 0;
	}
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

/* kvm_vcpu_reset(vcpu, init_event): creation, not an INIT signal */
static int vcpu_reset_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct kvm_vcpu *vcpu = (struct kvm_vcpu *)regs->di;

	/* The proof VM's vCPU has the rate KVM gives every new one. */
	if (pcm_proving(PCM_HIT_VCPU_RESET)) {
		pcm_kvmdev_set_tsc_khz(vcpu->arch.virtual_tsc_khz);
		return 0;
	}
	if (!regs->si)
		pcm_vm_msr_reset(vcpu);
	return 0;
}

static struct kprobe pcm_vcpu_reset_probe = {
	.symbol_name = "kvm_vcpu_reset",
	.pre_handler = vcpu_reset_pre,
};

/*
 * kvm_set_msr_common(vcpu, struct msr_data *): every MSR write KVM's
 * vendor code does not handle itself, the guest's included.  Only a VMM's
 * IA32_ARCH_CAPABILITIES gets a return instance; the value is narrowed in
 * the caller's struct, which KVM stores only if it accepts it (KVM checks
 * none of its bits).  Without an instance the wider value is stored, and
 * the next KVM_RUN narrows it.
 */
struct pcm_set_msr_call {
	struct kvm_vcpu *vcpu;
	u64 requested;
	u64 stored;
};

static int set_msr_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct pcm_set_msr_call *c = (struct pcm_set_msr_call *)ri->data;
	struct msr_data *msr = (struct msr_data *)regs->si;

	if (msr->index != PCM_MSR_ARCH_CAPABILITIES || !msr->host_initiated)
		return 1;
	c->vcpu = (struct kvm_vcpu *)regs->di;
	if (pcm_proving(PCM_HIT_SET_MSR)) {
		c->vcpu = NULL;
		return 0;
	}
	if (!pcm_vm_msr_stage(c->vcpu, &msr->data, &c->requested))
		return 1;
	c->stored = msr->data;
	return 0;
}

static int set_msr_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct pcm_set_msr_call *c = (struct pcm_set_msr_call *)ri->data;

	if (!c->vcpu) {
		pcm_proving(PCM_HIT_SET_MSR_RET);
		return 0;
	}
	if (regs_return_value(regs) == 0)
		pcm_vm_msr_commit(c->vcpu, c->requested, c->stored);
	return 0;
}

static struct kretprobe pcm_set_msr_probe = {
	.kp.symbol_name = "kvm_set_msr_common",
	.entry_handler = set_msr_entry,
	.handler = set_msr_ret,
	.data_size = sizeof(struct pcm_set_msr_call),
};

/*
 * KVM_RUN of a refused vCPU (expected identity unmet, CPUID never
 * recorded, VM blocked): the plain probe, which cannot miss, clears the
 * vCPU's wants_to_run as KVM_RUN with immediate_exit set would, so KVM
 * returns before it enters the guest; the return probe turns that result
 * into EPERM, the documented answer (README).  Should the return probe miss
 * for want of an instance, the VMM sees EINTR and calls again: the guest
 * does not run either way.  The plain probe is registered after the
 * return probe, so it runs first (checked at load, pcm_probe_order()),
 * and hands its verdict over in pcm_run_refusing (the vCPU, or 0).
 */
static DEFINE_PER_CPU(unsigned long, pcm_run_refusing);

static int vcpu_run_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct kvm_vcpu *vcpu = (struct kvm_vcpu *)regs->di;
	bool refuse;

	/* The proof's VM runs once, then is refused. */
	if (pcm_proving(PCM_HIT_RUN))
		refuse = atomic_read(&pcm_hits[PCM_HIT_RUN]) > 1;
	else
		refuse = pcm_vm_run_refused(vcpu);
	if (refuse)
		WRITE_ONCE(vcpu->wants_to_run, false);
	__this_cpu_write(pcm_run_refusing, refuse ? regs->di : 0);
	return 0;
}

static struct kprobe pcm_vcpu_run_probe = {
	.symbol_name = "kvm_arch_vcpu_ioctl_run",
	.pre_handler = vcpu_run_pre,
};

static int vcpu_run_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	unsigned long refused = __this_cpu_read(pcm_run_refusing);

	__this_cpu_write(pcm_run_refusing, 0);
	/* Only refused calls need their result changed. */
	return refused == regs->di ? 0 : 1;
}

static int vcpu_run_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	pcm_proving(PCM_HIT_RUN_RET);
	regs_set_return_value(regs, -EPERM);
	return 0;
}

static struct kretprobe pcm_vcpu_run_ret_probe = {
	.kp.symbol_name = "kvm_arch_vcpu_ioctl_run",
	.entry_handler = vcpu_run_entry,
	.handler = vcpu_run_ret,
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
	if (pcm_proving(PCM_HIT_CPUID)) {
		c->vcpu = NULL;
		return 0;
	}
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

	if (!c->vcpu) {
		pcm_proving(PCM_HIT_CPUID_RET);
		return 0;
	}
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
 * hand the guest KVM's unmasked answer.  This plain probe on the same
 * function cannot miss, and runs right after the return probe's entry:
 * probes at one address run newest first, and it is registered first
 * (checked at load, pcm_probe_order()).  On a miss that matters, KVM is
 * asked, exactly, for a leaf the vCPU does not have, which it answers with
 * zeros: the guest never sees more than its mode, and the VM is blocked.
 */
static int cpuid_check_pre(struct kprobe *p, struct pt_regs *regs)
{
	u32 leaf;

	if (__this_cpu_read(pcm_cpuid_taken) == regs->si) {
		__this_cpu_write(pcm_cpuid_taken, 0);
		return 0;
	}
	if (!pcm_vm_exit_missed((struct kvm_vcpu *)regs->di, &leaf))
		return 0;
	/* kvm_cpuid(vcpu, eax, ebx, ecx, edx, exact_only) */
	*(u32 *)regs->si = leaf;
	regs->r9 = true;
	return 0;
}

static struct kprobe pcm_cpuid_check_probe = {
	.symbol_name = "kvm_cpuid",
	.pre_handler = cpuid_check_pre,
};

/*
 * Two pairs of probes at one address rely on their order: probes without
 * a post handler run newest first, so the one registered later runs right
 * before the other, unless another probe came between them.
 */
static int pcm_probe_order(struct kprobe *first, struct kprobe *then)
{
	if (READ_ONCE(first->list.next) == &then->list)
		return 0;
	pr_err("cannot order the %s probes (another probe came between them); not loading\n",
	       first->symbol_name);
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
	&pcm_set_msr_probe,
	&pcm_vcpu_run_ret_probe,
	&pcm_init_vm_ret_probe,
};

static struct kprobe *pcm_kprobes[] = {
	&pcm_destroy_vm_probe,
	&pcm_vcpu_reset_probe,
	&pcm_vcpu_run_probe,
	&pcm_init_vm_probe,
};

#ifdef PCM_FAULT_INJECT
/* Test builds: the load-time proof finds this function unreached. */
static char *fault_unreached;
module_param(fault_unreached, charp, 0444);
MODULE_PARM_DESC(fault_unreached, "test builds: the load-time proof treats this function as never reached");
#endif

static int pcm_prove_hits(const char *call, enum pcm_hit hit, const char *fn)
{
	bool reached = atomic_read(&pcm_hits[hit]);

#ifdef PCM_FAULT_INJECT
	if (fault_unreached && !strcmp(fault_unreached, fn))
		reached = false;
#endif
	if (reached)
		return 0;
	pr_err("%s does not reach %s: inlined or no longer on that path in this kernel's KVM; not loading\n",
	       call, fn);
	return -EOPNOTSUPP;
}

static int pcm_prove_result(const char *call, long got, long want)
{
	if (got == want)
		return 0;
	pr_err("proof VM: %s returned %ld, not %ld; not loading\n", call, got, want);
	return -EIO;
}

/*
 * Prove, with a throwaway VM of the loading process, that every hooked
 * path reaches its probe: KVM_CREATE_VM, KVM_CREATE_VCPU, KVM_SET_MSRS,
 * KVM_SET_CPUID, KVM_SET_CPUID2, a guest CPUID and KVM_RUN, and that a
 * refused KVM_RUN returns EPERM.
 * kvm_arch_destroy_vm is called from kvm_main.c, another file than its
 * definition, and cannot be inlined; the proof VM is freed too late to see.
 */
static int pcm_hooks_prove(void)
{
	struct pcm_kvmdev_vm t;
	long r;
	int i, ret;

	for (i = 0; i < PCM_NR_HITS; i++)
		atomic_set(&pcm_hits[i], 0);
	ret = pcm_exit_hook_get();
	if (ret)
		return ret;
	WRITE_ONCE(pcm_prover, current);
	ret = pcm_kvmdev_vm_create(&t);
	if (ret) {
		pr_err("cannot create the proof VM (%d); not loading\n", ret);
		goto out;
	}
	ret = pcm_prove_hits("KVM_CREATE_VM", PCM_HIT_INIT_VM, "kvm_arch_init_vm") ?:
	      pcm_prove_hits("KVM_CREATE_VM", PCM_HIT_INIT_VM_RET, "kvm_arch_init_vm's return") ?:
	      pcm_prove_hits("KVM_CREATE_VCPU", PCM_HIT_VCPU_RESET, "kvm_vcpu_reset");
	if (ret)
		goto out_vm;

	/* KVM_SET_MSRS returns the number of MSRs it set. */
	r = pcm_kvmdev_vm_call(&t, PCM_CALL_SET_MSRS);
	ret = pcm_prove_result("KVM_SET_MSRS", r, 1) ?:
	      pcm_prove_hits("KVM_SET_MSRS", PCM_HIT_SET_MSR, "kvm_set_msr_common") ?:
	      pcm_prove_hits("KVM_SET_MSRS", PCM_HIT_SET_MSR_RET, "kvm_set_msr_common's return");
	if (ret)
		goto out_vm;

	r = pcm_kvmdev_vm_call(&t, PCM_CALL_SET_CPUID);
	ret = pcm_prove_result("KVM_SET_CPUID", r, 0) ?:
	      pcm_prove_hits("KVM_SET_CPUID", PCM_HIT_SET_CPUID_RET, "kvm_set_cpuid");
	if (ret)
		goto out_vm;
	atomic_set(&pcm_hits[PCM_HIT_SET_CPUID_RET], 0);
	r = pcm_kvmdev_vm_call(&t, PCM_CALL_SET_CPUID2);
	ret = pcm_prove_result("KVM_SET_CPUID2", r, 0) ?:
	      pcm_prove_hits("KVM_SET_CPUID2", PCM_HIT_SET_CPUID_RET, "kvm_set_cpuid");
	if (ret)
		goto out_vm;

	/* The guest executes CPUID, then HLT: back with KVM_EXIT_HLT. */
	r = pcm_kvmdev_vm_call(&t, PCM_CALL_RUN);
	ret = pcm_prove_result("KVM_RUN", r, 0) ?:
	      pcm_prove_hits("KVM_RUN", PCM_HIT_RUN, "kvm_arch_vcpu_ioctl_run") ?:
	      pcm_prove_hits("a guest CPUID", PCM_HIT_CPUID, "kvm_cpuid") ?:
	      pcm_prove_hits("a guest CPUID", PCM_HIT_CPUID_RET, "kvm_cpuid's return");
	if (ret)
		goto out_vm;
	r = pcm_kvmdev_vm_call(&t, PCM_CALL_RUN);
	ret = pcm_prove_result("a refused KVM_RUN", r, -EPERM) ?:
	      pcm_prove_hits("a refused KVM_RUN", PCM_HIT_RUN_RET,
			     "kvm_arch_vcpu_ioctl_run's return");
out_vm:
	pcm_kvmdev_vm_destroy(&t);
out:
	WRITE_ONCE(pcm_prover, NULL);
	pcm_exit_hook_put();
	return ret;
}

static int pcm_register(void)
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
	ret = pcm_probe_order(&pcm_cpuid_probe.kp, &pcm_cpuid_check_probe);
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
	ret = pcm_probe_order(&pcm_vcpu_run_probe, &pcm_vcpu_run_ret_probe.kp);
	if (ret)
		goto err_kprobes;
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

int pcm_hooks_init(void)
{
	int ret;

	ret = pcm_register();
	if (ret)
		return ret;
	ret = pcm_hooks_prove();
	if (ret) {
		pcm_hooks_exit();
		return ret;
	}
	/* From now on VMs are managed. */
	smp_store_release(&pcm_hooks_live, true);
	return 0;
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
