// SPDX-License-Identifier: GPL-2.0
/*
 * pcm_kvm: processor compatibility mode for KVM.
 *
 * Module entry, the global sysfs files under /sys/kernel/pcm_kvm/, the
 * default_mode parameter and the host feature set.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <asm/processor.h>
#include <asm/cpufeature.h>
#include <asm/fpu/xcr.h>
#include "pcm_kvm.h"

/* kvm.ko exports it for the vendor modules; indexed by enum cpuid_leafs. */
extern u32 kvm_cpu_caps[];

struct kobject *pcm_kobj;

static DEFINE_MUTEX(pcm_baseline_lock);
static struct pcm_fs pcm_baseline;		/* under pcm_baseline_lock */
static bool pcm_baseline_set;

static unsigned int pcm_default_mode_val = PCM_KVM_MODE_OFF;

/*
 * Held by each writer of an input of the policies (baseline, host_withhold,
 * default_mode) from its update until the policies built from it are
 * published, so that two writers cannot publish a policy built from the
 * other's older inputs.  Taken before the locks of the inputs.
 */
static DEFINE_MUTEX(pcm_policy_lock);

/* host_withhold: features this host pretends not to have. */
static DEFINE_MUTEX(pcm_withhold_lock);
static struct pcm_fs pcm_withhold;		/* under pcm_withhold_lock */

unsigned int pcm_default_mode(void)
{
	return READ_ONCE(pcm_default_mode_val);
}

/*
 * KVM keeps some words at private indices past NCAPINTS
 * (arch/x86/kvm/reverse_cpuid.h, enum kvm_only_cpuid_leafs), which differ
 * per build.  Known builds (Debian's):
 *   6.1.150+  CPUID_12_EAX, CPUID_7_2_EDX, ...; no 7.1 EDX (KVM offers
 *             none of it), 0x80000007 EDX passed from the host CPUID
 *   6.12      CPUID_12_EAX, CPUID_7_1_EDX, CPUID_8000_0007_EDX,
 *             CPUID_8000_0022_EAX, CPUID_7_2_EDX, ...
 * Other builds read the host's own CPUID (which may claim more than KVM
 * gives; the KVM_RUN check still catches that).  An index is also checked
 * at load: a word KVM offers is within the host's CPUID, else it is not
 * trusted (pcm_check_cap_index()).
 */
#define PCM_CAP_HOST	-1	/* the host's CPUID */
#define PCM_CAP_NONE	-2	/* KVM offers none of the word */
#if defined(PCM_KVM_CAPS_6_12)		/* from Kbuild */
#define PCM_CAP_7_1_EDX		(NCAPINTS + 1)
#define PCM_CAP_8000_0007_EDX	(NCAPINTS + 2)
#define PCM_CAP_7_2_EDX		(NCAPINTS + 4)
#elif defined(PCM_KVM_CAPS_6_1)
#define PCM_CAP_7_1_EDX		PCM_CAP_NONE
#define PCM_CAP_8000_0007_EDX	PCM_CAP_HOST
#define PCM_CAP_7_2_EDX		(NCAPINTS + 1)
#else
#define PCM_CAP_7_1_EDX		PCM_CAP_HOST
#define PCM_CAP_8000_0007_EDX	PCM_CAP_HOST
#define PCM_CAP_7_2_EDX		PCM_CAP_HOST
#endif

/* Where KVM keeps its capability word for each of our words. */
static int pcm_kvm_cap_index[PCM_KVM_NR_WORDS_USED] = {
	[PCM_KVM_W_1_ECX] = CPUID_1_ECX,
	[PCM_KVM_W_1_EDX] = CPUID_1_EDX,
	[PCM_KVM_W_6_EAX] = CPUID_6_EAX,
	[PCM_KVM_W_7_0_EBX] = CPUID_7_0_EBX,
	[PCM_KVM_W_7_0_ECX] = CPUID_7_ECX,
	[PCM_KVM_W_7_0_EDX] = CPUID_7_EDX,
	[PCM_KVM_W_7_1_EAX] = CPUID_7_1_EAX,
	[PCM_KVM_W_7_1_EDX] = PCM_CAP_7_1_EDX,
	[PCM_KVM_W_D_1_EAX] = CPUID_D_1_EAX,
	[PCM_KVM_W_8000_0001_ECX] = CPUID_8000_0001_ECX,
	[PCM_KVM_W_8000_0001_EDX] = CPUID_8000_0001_EDX,
	[PCM_KVM_W_8000_0007_EDX] = PCM_CAP_8000_0007_EDX,
	[PCM_KVM_W_8000_0008_EBX] = CPUID_8000_0008_EBX,
	[PCM_KVM_W_8000_0021_EAX] = CPUID_8000_0021_EAX,
	[PCM_KVM_W_7_2_EDX] = PCM_CAP_7_2_EDX,
};

static u32 pcm_host_cpuid(u32 leaf, u32 subleaf, unsigned int reg)
{
	u32 regs[4];
	u32 max = cpuid_eax(leaf & 0x80000000);

	if (leaf > max)
		return 0;
	cpuid_count(leaf, subleaf, &regs[0], &regs[1], &regs[2], &regs[3]);
	return regs[reg];
}

/*
 * A private index that reads bits the host's CPUID lacks is not that word
 * (KVM masks each with the host's): use the host's CPUID for it, and say so.
 */
static void pcm_check_cap_index(void)
{
	unsigned int w;
	u32 host, kvm;

	for (w = 0; w < PCM_KVM_NR_WORDS_USED; w++) {
		const struct pcm_word_desc *d = &pcm_words[w];

		if (pcm_kvm_cap_index[w] < NCAPINTS)
			continue;
		host = pcm_host_cpuid(d->leaf, d->subleaf, d->reg);
		kvm = READ_ONCE(kvm_cpu_caps[pcm_kvm_cap_index[w]]);
		if (kvm & ~host) {
			pr_warn("KVM's capability word %d is not %s (0x%08x, host 0x%08x): using the host's CPUID\n",
				pcm_kvm_cap_index[w], d->name, kvm, host);
			pcm_kvm_cap_index[w] = PCM_CAP_HOST;
		}
	}
}

/*
 * Does KVM_GET_SUPPORTED_CPUID report leaf at all?  Not beyond the host's
 * maximum of its class, except 0x80000021, which KVM synthesizes on hosts
 * whose maximum reaches 0x8000001d (__do_cpuid_func(), 0x80000000).  Its
 * capability words can hold bits of a leaf it never reports.
 */
static bool pcm_kvm_reports_leaf(u32 leaf)
{
	u32 max = cpuid_eax(leaf & 0x80000000);

	if (leaf == 0x80000021)
		return max >= 0x8000001d;
	return leaf <= max;
}

/* What KVM can give, before host_withhold. */
static void pcm_host_features_raw(struct pcm_fs *fs)
{
	struct pcm_fs known, kvm_class;
	unsigned int w;

	pcm_fs_zero(fs);
	for (w = 0; w < PCM_KVM_NR_WORDS_USED; w++) {
		const struct pcm_word_desc *d = &pcm_words[w];

		if (!pcm_kvm_reports_leaf(d->leaf))
			continue;
		if (pcm_kvm_cap_index[w] >= 0)
			fs->words[w] = READ_ONCE(kvm_cpu_caps[pcm_kvm_cap_index[w]]);
		else if (pcm_kvm_cap_index[w] == PCM_CAP_NONE)
			fs->words[w] = 0;
		else
			fs->words[w] = pcm_host_cpuid(d->leaf, d->subleaf, d->reg);
	}
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
	id->max_basic_leaf = cpuid_eax(0);
	id->max_ext_leaf = cpuid_eax(0x80000000);
	id->phys_bits = boot_cpu_data.x86_phys_bits;
	if (boot_cpu_has(X86_FEATURE_OSXSAVE))
		xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	id->xcr0 = pcm_xcr0_visible(xcr0, &id->features);
	pcm_policy_put(pol);
	return 0;
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
	/* Withheld features are hidden even in mode off. */
	if (!pcm_fs_empty(&pol->withheld)) {
		pcm_fs_andnot(&pol->allow, &pol->allow, &pol->withheld);
		pcm_fs_close(&pol->allow);
	}
	return pol;
}

static ssize_t pcm_show_fs(const struct pcm_fs *fs, char *buf)
{
	size_t n = pcm_fs_format(fs, buf, PAGE_SIZE - 1);

	buf[n++] = '\n';
	return n;
}

static ssize_t host_features_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	struct pcm_fs host;

	pcm_host_features(&host);
	return pcm_show_fs(&host, buf);
}

static ssize_t modes_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	unsigned int mode;
	ssize_t n = 0;

	for (mode = 0; mode < PCM_KVM_NR_MODES; mode++)
		n += sysfs_emit_at(buf, n, "%s%s", mode ? " " : "",
				   pcm_mode_name(mode));
	n += sysfs_emit_at(buf, n, "\n");
	return n;
}

static ssize_t baseline_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	struct pcm_fs base;

	mutex_lock(&pcm_baseline_lock);
	base = pcm_baseline;
	mutex_unlock(&pcm_baseline_lock);
	return pcm_show_fs(&base, buf);
}

static ssize_t baseline_store(struct kobject *kobj, struct kobj_attribute *attr,
			      const char *buf, size_t count)
{
	struct pcm_fs want, host, missing;
	const char *bad = NULL;
	size_t badlen = 0;
	char *names;
	int ret;

	/* sysfs hands a store only the first page of a longer write. */
	if (count >= PAGE_SIZE - 1) {
		pr_warn("baseline: input of %zu bytes or more is too long\n", count);
		return -EINVAL;
	}
	ret = pcm_fs_parse(buf, count, &want, &bad, &badlen);
	if (ret == -ENODATA) {
		pr_warn("baseline: empty feature list\n");
		return -EINVAL;
	}
	if (ret) {
		pr_warn("baseline: unknown feature '%*pE'\n",
			(int)min_t(size_t, badlen, PCM_NAME_MAX), bad);
		return -EINVAL;
	}

	mutex_lock(&pcm_policy_lock);
	pcm_host_features(&host);
	pcm_fs_andnot(&missing, &want, &host);
	if (!pcm_fs_empty(&missing)) {
		mutex_unlock(&pcm_policy_lock);
		names = kmalloc(PCM_FS_TEXT_MAX, GFP_KERNEL);
		if (names)
			pcm_fs_format(&missing, names, PCM_FS_TEXT_MAX);
		pr_warn("baseline: this host cannot provide: %s\n",
			names ? names : "(out of memory)");
		kfree(names);
		return -EINVAL;
	}

	mutex_lock(&pcm_baseline_lock);
	pcm_baseline = want;
	pcm_baseline_set = true;
	mutex_unlock(&pcm_baseline_lock);
	if (pcm_default_mode() == PCM_KVM_MODE_BASELINE)
		pcm_vm_default_changed();
	pcm_proc_policies_changed();
	mutex_unlock(&pcm_policy_lock);
	return count;
}

static struct kobj_attribute host_features_attr = __ATTR_RO(host_features);
static struct kobj_attribute modes_attr = __ATTR_RO(modes);
static struct kobj_attribute baseline_attr = __ATTR_RW(baseline);

static struct attribute *pcm_attrs[] = {
	&host_features_attr.attr,
	&modes_attr.attr,
	&baseline_attr.attr,
	&pcm_process_modes_attr.attr,
	&pcm_probes_attr.attr,
	NULL,
};

static const struct attribute_group pcm_attr_group = {
	.attrs = pcm_attrs,
};

static int default_mode_set(const char *val, const struct kernel_param *kp)
{
	int mode = pcm_mode_parse(val, strlen(val));
	unsigned int old;
	int ret;

	if (mode < 0) {
		pr_warn("default_mode: unknown mode '%*pE'\n",
			(int)pcm_token_len(val, strlen(val)), val);
		return -EINVAL;
	}
	mutex_lock(&pcm_policy_lock);
	old = pcm_default_mode();
	WRITE_ONCE(pcm_default_mode_val, mode);
	ret = pcm_vm_default_changed();
	if (ret)
		WRITE_ONCE(pcm_default_mode_val, old);
	mutex_unlock(&pcm_policy_lock);
	return ret;
}

static int default_mode_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", pcm_mode_name(pcm_default_mode()));
}

static int host_withhold_set(const char *val, const struct kernel_param *kp)
{
	size_t len = strlen(val);
	struct pcm_fs want;
	const char *bad = NULL;
	size_t badlen = 0;
	int ret;

	if (len >= PAGE_SIZE - 1) {
		pr_warn("host_withhold: input of %zu bytes or more is too long\n", len);
		return -EINVAL;
	}
	ret = pcm_fs_parse(val, len, &want, &bad, &badlen);
	if (ret == -ENODATA) {
		pcm_fs_zero(&want);	/* "" or "\n" withholds nothing */
	} else if (ret) {
		pr_warn("host_withhold: unknown feature '%*pE'\n",
			(int)min_t(size_t, badlen, PCM_NAME_MAX), bad);
		return -EINVAL;
	}
	mutex_lock(&pcm_policy_lock);
	mutex_lock(&pcm_withhold_lock);
	pcm_withhold = want;
	mutex_unlock(&pcm_withhold_lock);
	/* New VMs start withholding them; running VMs keep what they had. */
	pcm_proc_policies_changed();
	ret = pcm_vm_default_changed();
	mutex_unlock(&pcm_policy_lock);
	return ret;
}

static int host_withhold_get(char *buf, const struct kernel_param *kp)
{
	struct pcm_fs fs;
	size_t n;

	mutex_lock(&pcm_withhold_lock);
	fs = pcm_withhold;
	mutex_unlock(&pcm_withhold_lock);
	n = pcm_fs_format(&fs, buf, PAGE_SIZE - 1);
	buf[n++] = '\n';
	return n;
}

static const struct kernel_param_ops host_withhold_ops = {
	.set = host_withhold_set,
	.get = host_withhold_get,
};

module_param_cb(host_withhold, &host_withhold_ops, NULL, 0644);
MODULE_PARM_DESC(host_withhold,
		 "Features this host withholds from host_features and from VMs created from now on");

static const struct kernel_param_ops default_mode_ops = {
	.set = default_mode_set,
	.get = default_mode_get,
};

module_param_cb(default_mode, &default_mode_ops, NULL, 0644);
MODULE_PARM_DESC(default_mode,
		 "Mode of VMs created from now on: off, min, x86-64-v2, x86-64-v3, x86-64-v4, baseline");

static int __init pcm_init(void)
{
	int ret;

	pcm_check_cap_index();
	pcm_kobj = kobject_create_and_add("pcm_kvm", kernel_kobj);
	if (!pcm_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(pcm_kobj, &pcm_attr_group);
	if (ret)
		goto err_kobj;
	ret = pcm_vm_init(pcm_kobj);
	if (ret)
		goto err_kobj;
	ret = pcm_dev_init();
	if (ret)
		goto err_vm;
	/* Hooks last: once they fire, everything they use must exist. */
	ret = pcm_hooks_init();
	if (ret)
		goto err_dev;
	pr_info("loaded (version %s, default_mode %s)\n", PCM_KVM_VERSION,
		pcm_mode_name(pcm_default_mode()));
	return 0;

err_dev:
	pcm_dev_exit();
err_vm:
	pcm_vm_exit();
	pcm_proc_exit();
err_kobj:
	kobject_put(pcm_kobj);
	pcm_kobj = NULL;
	return ret;
}

static void __exit pcm_exit(void)
{
	pcm_hooks_exit();
	pcm_dev_exit();
	pcm_vm_exit();
	pcm_proc_exit();
	kobject_put(pcm_kobj);
	pr_info("unloaded\n");
}

module_init(pcm_init);
module_exit(pcm_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Processor compatibility mode for KVM");
MODULE_VERSION(PCM_KVM_VERSION);
