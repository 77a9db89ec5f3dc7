// SPDX-License-Identifier: GPL-2.0
/*
 * pcm_kvm: processor compatibility mode for KVM.
 *
 * Module entry: the order in which the layers come up and go down.
 *   model     pcm_model.c, pcm_identity.c (plain C, also user space)
 *   KVM uAPI  pcm_kvmdev.c      /dev/kvm from the loading process
 *   policy    pcm_policy.c      host features, operator inputs, policies
 *   VM state  pcm_vm.c          the registry and each VM's transitions
 *   switch    pcm_exit.c        arming of the CPUID exit probe
 *   hooks     pcm_hooks.c       probe registers -> calls on the VM state
 *   interface pcm_sysfs.c, pcm_dev.c
 * Each calls only the layers above it in this list.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kobject.h>
#include "pcm_kvm.h"

static struct kobject *pcm_kobj;

static int __init pcm_init(void)
{
	int ret;

	ret = pcm_kvmdev_init();
	if (ret)
		return ret;
	ret = pcm_policy_init();
	if (ret)
		goto err_kvmdev;
	pcm_kobj = kobject_create_and_add("pcm_kvm", kernel_kobj);
	if (!pcm_kobj) {
		ret = -ENOMEM;
		goto err_policy;
	}
	ret = pcm_sysfs_init(pcm_kobj);
	if (ret)
		goto err_kobj;
	ret = pcm_vm_init(pcm_kobj, pcm_vm_groups);
	if (ret)
		goto err_sysfs;
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
err_sysfs:
	pcm_sysfs_exit(pcm_kobj);
err_kobj:
	kobject_put(pcm_kobj);
err_policy:
	pcm_policy_exit();
err_kvmdev:
	pcm_kvmdev_exit();
	return ret;
}

static void __exit pcm_exit(void)
{
	pcm_hooks_exit();
	pcm_dev_exit();
	pcm_vm_exit();
	pcm_sysfs_exit(pcm_kobj);
	kobject_put(pcm_kobj);
	pcm_policy_exit();
	pcm_kvmdev_exit();
	pr_info("unloaded\n");
}

module_init(pcm_init);
module_exit(pcm_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Processor compatibility mode for KVM");
MODULE_VERSION(PCM_KVM_VERSION);
