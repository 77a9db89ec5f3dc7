// SPDX-License-Identifier: GPL-2.0
/*
 * Per-process pending modes: /sys/kernel/pcm_kvm/process_modes.
 *
 * A mode is fully enforced (KVM's stored CPUID and what KVM derives from
 * it) only when it is known before the VMM's KVM_SET_CPUID2, and QEMU calls
 * that while it initialises.  A management layer that knows the VMM's pid
 * before the VMM creates its VM writes "PID MODE" here; VMs that process
 * creates start in MODE instead of default_mode.  (libvirt's start hook
 * runs before the fork: scripts/libvirt-hook-qemu registers QEMU's pid from
 * the pidfile QEMU's child writes between fork and exec.)
 *
 * Entries hold a struct pid, so a recycled pid number never matches; the
 * entries of exited processes are dropped on the next read or write.
 * Lookups at VM creation run in a kretprobe handler: RCU list, no locks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include "pcm_kvm.h"

#define PCM_PROC_MAX	64

struct pcm_proc {
	struct list_head node;		/* pcm_proc_list, RCU */
	struct rcu_head rcu;
	struct pid *pid;
	unsigned int mode;
	struct pcm_policy __rcu *policy;
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

struct pcm_policy *pcm_proc_policy(void)
{
	struct pid *me = task_tgid(current);
	struct pcm_policy *pol = NULL;
	struct pcm_proc *p;

	rcu_read_lock();
	list_for_each_entry_rcu(p, &pcm_proc_list, node) {
		if (p->pid != me)
			continue;
		pol = rcu_dereference(p->policy);
		if (!kref_get_unless_zero(&pol->ref))
			pol = NULL;
		break;
	}
	rcu_read_unlock();
	return pol;
}

void pcm_proc_policies_changed(void)
{
	struct pcm_policy *pol, *old;
	struct pcm_proc *p;

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

static ssize_t process_modes_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	struct pcm_proc *p;
	ssize_t n = 0;

	mutex_lock(&pcm_proc_lock);
	pcm_proc_prune();
	list_for_each_entry(p, &pcm_proc_list, node)
		n += sysfs_emit_at(buf, n, "%d %s\n", pid_vnr(p->pid),
				   pcm_mode_name(p->mode));
	mutex_unlock(&pcm_proc_lock);
	return n;
}

/* Split off the next blank-separated token of *s (len *len). */
static const char *pcm_next_token(const char **s, size_t *len, size_t *tlen)
{
	const char *t;

	while (*len && isspace(**s)) {
		(*s)++;
		(*len)--;
	}
	t = *s;
	while (*len && !isspace(**s)) {
		(*s)++;
		(*len)--;
	}
	*tlen = *s - t;
	return *tlen ? t : NULL;
}

static int pcm_proc_set(pid_t nr, struct pid *pid, int mode)
{
	struct pcm_policy *pol, *old;
	struct pcm_proc *p, *found = NULL;
	int ret = 0;

	if (mode < 0) {
		pol = NULL;
	} else {
		pol = pcm_policy_new(mode, NULL);
		if (IS_ERR(pol))
			return PTR_ERR(pol);
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
		WRITE_ONCE(found->mode, mode);
		pcm_policy_put(old);
		pol = NULL;
	} else if (pcm_proc_nr >= PCM_PROC_MAX) {
		ret = -ENOSPC;
	} else {
		p = kzalloc(sizeof(*p), GFP_KERNEL);
		if (!p) {
			ret = -ENOMEM;
		} else {
			p->pid = get_pid(pid);
			p->mode = mode;
			RCU_INIT_POINTER(p->policy, pol);
			pol = NULL;
			list_add_tail_rcu(&p->node, &pcm_proc_list);
			pcm_proc_nr++;
		}
	}
	mutex_unlock(&pcm_proc_lock);
	pcm_policy_put(pol);

	if (ret == -ENOENT)
		pr_warn("process_modes: no entry for process %d\n", nr);
	else if (ret == -ENOSPC)
		pr_warn("process_modes: table full (%d entries)\n", PCM_PROC_MAX);
	return ret;
}

static ssize_t process_modes_store(struct kobject *kobj,
				   struct kobj_attribute *attr,
				   const char *buf, size_t count)
{
	const char *s = buf, *tpid, *tmode, *extra;
	size_t len = count, lpid, lmode, lextra;
	char num[16];
	struct pid *pid;
	bool alive;
	pid_t nr;
	int mode, ret;

	tpid = pcm_next_token(&s, &len, &lpid);
	tmode = pcm_next_token(&s, &len, &lmode);
	extra = pcm_next_token(&s, &len, &lextra);
	if (!tpid || !tmode || extra) {
		pr_warn("process_modes: expected 'PID MODE' or 'PID -', got '%*pE'\n",
			(int)pcm_token_len(buf, count), buf);
		return -EINVAL;
	}
	if (lpid >= sizeof(num)) {
		pr_warn("process_modes: bad pid '%*pE'\n",
			(int)min_t(size_t, lpid, PCM_NAME_MAX), tpid);
		return -EINVAL;
	}
	memcpy(num, tpid, lpid);
	num[lpid] = '\0';
	if (kstrtoint(num, 10, &nr) || nr <= 0) {
		pr_warn("process_modes: bad pid '%*pE'\n", (int)lpid, tpid);
		return -EINVAL;
	}
	if (lmode == 1 && *tmode == '-') {
		mode = -1;
	} else {
		mode = pcm_mode_parse(tmode, lmode);
		if (mode < 0) {
			pr_warn("process_modes: unknown mode '%*pE'\n",
				(int)min_t(size_t, lmode, PCM_NAME_MAX), tmode);
			return -EINVAL;
		}
	}

	pid = find_get_pid(nr);
	rcu_read_lock();
	alive = pid && pid_task(pid, PIDTYPE_TGID);
	rcu_read_unlock();
	if (!alive && mode >= 0) {
		pr_warn("process_modes: no process %d\n", nr);
		put_pid(pid);
		return -ESRCH;
	}
	if (!pid) {
		pr_warn("process_modes: no entry for process %d\n", nr);
		return -ENOENT;
	}
	ret = pcm_proc_set(nr, pid, mode);
	put_pid(pid);
	return ret ? ret : count;
}

struct kobj_attribute pcm_process_modes_attr = __ATTR_RW_MODE(process_modes, 0644);

void pcm_proc_exit(void)
{
	struct pcm_proc *p, *tmp;

	mutex_lock(&pcm_proc_lock);
	list_for_each_entry_safe(p, tmp, &pcm_proc_list, node)
		pcm_proc_del(p);
	mutex_unlock(&pcm_proc_lock);
	/* The frees are call_rcu callbacks of this module's text. */
	rcu_barrier();
}
