// SPDX-License-Identifier: GPL-2.0
/*
 * Test only (scripts/test-coexist): another user of every function pcm_kvm
 * probes, registered as livepatch registers its patches: an ftrace_ops
 * with FTRACE_OPS_FL_IPMODIFY, of which ftrace allows one per function.
 * That it loads beside pcm_kvm, in either order, shows that pcm_kvm takes
 * no IPMODIFY slot, so a livepatch of these functions can be applied while
 * pcm_kvm is loaded.  Its callbacks change nothing; they count calls
 * (parameter "hits": one "function count" line each), so the test sees
 * that both it and pcm_kvm keep firing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

struct pcm_coexist_fn {
	const char *name;
	struct ftrace_ops ops;
	atomic_long_t hits;
	bool registered;
};

#define PCM_COEXIST_FN(n) { .name = n }
static struct pcm_coexist_fn pcm_coexist_fns[] = {
	PCM_COEXIST_FN("kvm_arch_init_vm"),
	PCM_COEXIST_FN("kvm_arch_destroy_vm"),
	PCM_COEXIST_FN("kvm_set_cpuid"),
	PCM_COEXIST_FN("kvm_arch_vcpu_ioctl_run"),
	PCM_COEXIST_FN("kvm_cpuid"),
};

static void notrace pcm_coexist_call(unsigned long ip, unsigned long parent_ip,
				     struct ftrace_ops *op,
				     struct ftrace_regs *fregs)
{
	atomic_long_inc(&container_of(op, struct pcm_coexist_fn, ops)->hits);
}

static int pcm_coexist_hits_get(char *buf, const struct kernel_param *kp)
{
	int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(pcm_coexist_fns); i++)
		n += sysfs_emit_at(buf, n, "%s %ld\n", pcm_coexist_fns[i].name,
				   atomic_long_read(&pcm_coexist_fns[i].hits));
	return n;
}

static const struct kernel_param_ops pcm_coexist_hits_ops = {
	.get = pcm_coexist_hits_get,
};

module_param_cb(hits, &pcm_coexist_hits_ops, NULL, 0444);
MODULE_PARM_DESC(hits, "calls seen, per function");

static void pcm_coexist_unregister(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(pcm_coexist_fns); i++) {
		struct pcm_coexist_fn *f = &pcm_coexist_fns[i];

		if (f->registered)
			unregister_ftrace_function(&f->ops);
		if (f->ops.func)
			ftrace_free_filter(&f->ops);
		f->registered = false;
	}
}

static int __init pcm_coexist_init(void)
{
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(pcm_coexist_fns); i++) {
		struct pcm_coexist_fn *f = &pcm_coexist_fns[i];

		f->ops.func = pcm_coexist_call;
		f->ops.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY;
		ret = ftrace_set_filter(&f->ops, (unsigned char *)f->name,
					strlen(f->name), 0);
		if (!ret)
			ret = register_ftrace_function(&f->ops);
		if (ret) {
			pr_err("cannot attach an IPMODIFY ftrace user to %s (%d)\n",
			       f->name, ret);
			pcm_coexist_unregister();
			return ret;
		}
		f->registered = true;
	}
	return 0;
}

static void __exit pcm_coexist_exit(void)
{
	pcm_coexist_unregister();
}

module_init(pcm_coexist_init);
module_exit(pcm_coexist_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("pcm_kvm test: an IPMODIFY ftrace user of the functions pcm_kvm probes");
