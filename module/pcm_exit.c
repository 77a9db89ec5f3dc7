// SPDX-License-Identifier: GPL-2.0
/*
 * The switch of the kvm_cpuid return probe (pcm_hooks.c), which masks the
 * guest's CPUID when KVM's stored entries are wider than the VM's mode, and
 * of the kprobe that catches its misses.  They are armed only while some VM
 * needs them, so that every other CPUID exit runs unprobed.
 *
 * users counts the VMs whose exits need masking plus callers of
 * pcm_exit_hook_get() in flight.  Arming happens synchronously in get(),
 * before such a VM can run; disarming is lazy, from a work item.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include "pcm_kvm.h"

static struct kretprobe *pcm_exit_probe;
static struct kprobe *pcm_exit_check;	/* its miss check */
static atomic_t pcm_exit_users = ATOMIC_INIT(0);
static DEFINE_MUTEX(pcm_exit_arm_lock);
static bool pcm_exit_armed;		/* under pcm_exit_arm_lock */

/*
 * The miss check is armed only while the return probe is: alone it would
 * take every call for a miss.
 */
static int pcm_exit_arm(void)
{
	int ret = enable_kretprobe(pcm_exit_probe);

	if (ret)
		return ret;
	ret = enable_kprobe(pcm_exit_check);
	if (ret)
		disable_kretprobe(pcm_exit_probe);
	return ret;
}

static int pcm_exit_disarm(void)
{
	int ret = disable_kprobe(pcm_exit_check);

	if (ret)
		return ret;
	ret = disable_kretprobe(pcm_exit_probe);
	if (ret)
		enable_kprobe(pcm_exit_check);
	return ret;
}

static int pcm_exit_arm_sync(void)
{
	bool want;
	int ret = 0;

	mutex_lock(&pcm_exit_arm_lock);
	want = atomic_read(&pcm_exit_users) > 0;
	if (!pcm_exit_probe) {
		/* Only before the hooks exist or after they are gone. */
		ret = want ? -ENODEV : 0;
	} else if (want != pcm_exit_armed) {
		ret = want ? pcm_exit_arm() : pcm_exit_disarm();
		if (!ret)
			pcm_exit_armed = want;
		else
			pr_warn("cannot %s the %s probe (%d)\n",
				want ? "arm" : "disarm",
				pcm_exit_probe->kp.symbol_name, ret);
	}
	mutex_unlock(&pcm_exit_arm_lock);
	return ret;
}

static void pcm_exit_arm_work_fn(struct work_struct *work)
{
	pcm_exit_arm_sync();
}

static DECLARE_WORK(pcm_exit_arm_work, pcm_exit_arm_work_fn);

int pcm_exit_hook_get(void)
{
	int ret;

	atomic_inc(&pcm_exit_users);
	ret = pcm_exit_arm_sync();
	if (ret)
		pcm_exit_hook_put();
	return ret;
}

void pcm_exit_hook_ref(void)
{
	/* Only ever after a get() armed the probe; the work is a safety net. */
	if (atomic_inc_return(&pcm_exit_users) == 1)
		schedule_work(&pcm_exit_arm_work);
}

void pcm_exit_hook_put(void)
{
	if (atomic_dec_and_test(&pcm_exit_users))
		schedule_work(&pcm_exit_arm_work);
}

void pcm_exit_switch_init(struct kretprobe *rp, struct kprobe *check)
{
	mutex_lock(&pcm_exit_arm_lock);
	pcm_exit_probe = rp;
	pcm_exit_check = check;
	pcm_exit_armed = !kprobe_disabled(&rp->kp);
	mutex_unlock(&pcm_exit_arm_lock);
	/* A VM may have needed it before the probe existed. */
	pcm_exit_arm_sync();
}

void pcm_exit_switch_exit(void)
{
	/* No VM is left (each holds the module), so nothing requeues it. */
	cancel_work_sync(&pcm_exit_arm_work);
	mutex_lock(&pcm_exit_arm_lock);
	pcm_exit_probe = NULL;
	mutex_unlock(&pcm_exit_arm_lock);
}
