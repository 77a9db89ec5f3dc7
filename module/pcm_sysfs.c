// SPDX-License-Identifier: GPL-2.0
/*
 * The sysfs interface, /sys/kernel/pcm_kvm/, and the module parameters:
 * parsing, the dmesg line that names a bad token, and the text of every
 * file.  What the files show and change lives in the policy (pcm_policy.c)
 * and the VM state (pcm_vm.c).
 *
 * process_modes: a mode is fully enforced (KVM's stored CPUID and what KVM
 * derives from it) only when it is known before the VMM's KVM_SET_CPUID2,
 * and QEMU calls that while it initialises.  A management layer that knows
 * the VMM's pid before the VMM creates its VM writes "PID MODE"; VMs that
 * process creates start in MODE instead of default_mode.  (libvirt's start
 * hook runs before the fork: scripts/libvirt-hook-qemu registers QEMU's pid
 * from the pidfile QEMU's child writes between fork and exec.)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include "pcm_kvm.h"

static ssize_t pcm_show_fs(const struct pcm_fs *fs, char *buf)
{
	size_t n = pcm_fs_format(fs, buf, PAGE_SIZE - 1);

	buf[n++] = '\n';
	return n;
}

/*
 * A feature list written to file what: 0, -ENODATA for an empty one (the
 * caller decides), else -EINVAL with the bad token in dmesg.
 */
static int pcm_parse_fs(const char *what, const char *buf, size_t len,
			struct pcm_fs *fs)
{
	const char *bad = NULL;
	size_t badlen = 0;
	int ret;

	/* sysfs hands a store only the first page of a longer write. */
	if (len >= PAGE_SIZE - 1) {
		pr_warn("%s: input of %zu bytes or more is too long\n", what, len);
		return -EINVAL;
	}
	ret = pcm_fs_parse(buf, len, fs, &bad, &badlen);
	if (ret && ret != -ENODATA) {
		pr_warn("%s: unknown feature '%*pE'\n", what,
			(int)min_t(size_t, badlen, PCM_NAME_MAX), bad);
		return -EINVAL;
	}
	return ret;
}

/* Per VM: /sys/kernel/pcm_kvm/vms/<pid>-<fd>/ */

static struct pcm_vm *to_vm(struct kobject *kobj)
{
	return container_of(kobj, struct pcm_vm, kobj);
}

static ssize_t mode_show(struct kobject *kobj, struct kobj_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", pcm_mode_name(pcm_vm_mode(to_vm(kobj))));
}

static ssize_t mode_store(struct kobject *kobj, struct kobj_attribute *attr,
			  const char *buf, size_t count)
{
	struct pcm_vm *vm = to_vm(kobj);
	int mode, ret;

	mode = pcm_mode_parse(buf, count);
	if (mode < 0) {
		pr_warn("vms/%s/mode: unknown mode '%*pE'\n", kobject_name(kobj),
			(int)pcm_token_len(buf, count), buf);
		return -EINVAL;
	}
	ret = pcm_vm_set_mode(vm, mode);
	return ret ? ret : count;
}

enum pcm_vm_view { PCM_VIEW_REQUESTED, PCM_VIEW_VISIBLE, PCM_VIEW_HIDDEN };

static ssize_t pcm_vm_show_view(struct kobject *kobj, char *buf,
				enum pcm_vm_view view)
{
	struct pcm_fs fs[3];
	u32 flags;

	pcm_vm_features(to_vm(kobj), &fs[PCM_VIEW_REQUESTED],
			&fs[PCM_VIEW_VISIBLE], &fs[PCM_VIEW_HIDDEN], &flags);
	return pcm_show_fs(&fs[view], buf);
}

static ssize_t requested_show(struct kobject *kobj, struct kobj_attribute *attr,
			      char *buf)
{
	return pcm_vm_show_view(kobj, buf, PCM_VIEW_REQUESTED);
}

static ssize_t visible_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return pcm_vm_show_view(kobj, buf, PCM_VIEW_VISIBLE);
}

static ssize_t hidden_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	return pcm_vm_show_view(kobj, buf, PCM_VIEW_HIDDEN);
}

static ssize_t identity_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	struct pcm_kvm_identity id;

	pcm_vm_identity(to_vm(kobj), &id);
	return pcm_identity_format(&id, buf, PAGE_SIZE);
}

static ssize_t expect_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	struct pcm_kvm_identity id;

	if (!pcm_vm_expect(to_vm(kobj), &id))
		return sysfs_emit(buf, "\n");
	return pcm_identity_format(&id, buf, PAGE_SIZE);
}

static ssize_t expect_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	struct pcm_kvm_identity id;
	const char *bad = buf;
	size_t badlen = 0;
	int ret;

	if (count >= PAGE_SIZE - 1) {
		pr_warn("vms/%s/expect: input of %zu bytes or more is too long\n",
			kobject_name(kobj), count);
		return -EINVAL;
	}
	ret = pcm_identity_parse(buf, count, &id, &bad, &badlen);
	if (ret == -ENODATA) {
		pr_warn("vms/%s/expect: incomplete identity (a key is missing)\n",
			kobject_name(kobj));
		return -EINVAL;
	}
	if (ret == -EBADMSG) {
		pr_warn("vms/%s/expect: feature names disagree with the words\n",
			kobject_name(kobj));
		return -EINVAL;
	}
	if (ret) {
		pr_warn("vms/%s/expect: bad line '%*pE'\n", kobject_name(kobj),
			(int)min_t(size_t, badlen, 64), bad);
		return -EINVAL;
	}
	ret = pcm_vm_set_expect(to_vm(kobj), &id);
	return ret ? ret : count;
}

static ssize_t status_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	size_t n = pcm_vm_blocked_text(to_vm(kobj), buf, PAGE_SIZE - 1);

	if (!n)
		return sysfs_emit(buf, "ok\n");
	buf[n++] = '\n';
	return n;
}

static struct kobj_attribute pcm_vm_mode_attr = __ATTR_RW(mode);
static struct kobj_attribute pcm_vm_identity_attr = __ATTR_RO(identity);
static struct kobj_attribute pcm_vm_expect_attr = __ATTR_RW(expect);
static struct kobj_attribute pcm_vm_status_attr = __ATTR_RO(status);
static struct kobj_attribute pcm_vm_requested_attr = __ATTR_RO(requested);
static struct kobj_attribute pcm_vm_visible_attr = __ATTR_RO(visible);
static struct kobj_attribute pcm_vm_hidden_attr = __ATTR_RO(hidden);

static struct attribute *pcm_vm_attrs[] = {
	&pcm_vm_mode_attr.attr,
	&pcm_vm_requested_attr.attr,
	&pcm_vm_visible_attr.attr,
	&pcm_vm_hidden_attr.attr,
	&pcm_vm_identity_attr.attr,
	&pcm_vm_expect_attr.attr,
	&pcm_vm_status_attr.attr,
	NULL,
};

static const struct attribute_group pcm_vm_group = {
	.attrs = pcm_vm_attrs,
};

/* The default_groups of every VM's directory (pcm_vm_init()). */
const struct attribute_group *pcm_vm_groups[] = {
	&pcm_vm_group,
	NULL,
};

/* Global files */

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

	pcm_policy_baseline(&base);
	return pcm_show_fs(&base, buf);
}

static ssize_t baseline_store(struct kobject *kobj, struct kobj_attribute *attr,
			      const char *buf, size_t count)
{
	struct pcm_fs want, missing;
	char *names;
	int ret;

	ret = pcm_parse_fs("baseline", buf, count, &want);
	if (ret == -ENODATA) {
		pr_warn("baseline: empty feature list\n");
		return -EINVAL;
	}
	if (ret)
		return ret;

	if (pcm_policy_set_baseline(&want, &missing)) {
		names = kmalloc(PCM_FS_TEXT_MAX, GFP_KERNEL);
		if (names)
			pcm_fs_format(&missing, names, PCM_FS_TEXT_MAX);
		pr_warn("baseline: this host cannot provide: %s\n",
			names ? names : "(out of memory)");
		kfree(names);
		return -EINVAL;
	}
	return count;
}

static struct kobj_attribute host_features_attr = __ATTR_RO(host_features);
static struct kobj_attribute modes_attr = __ATTR_RO(modes);
static struct kobj_attribute baseline_attr = __ATTR_RW(baseline);

static int default_mode_set(const char *val, const struct kernel_param *kp)
{
	int mode = pcm_mode_parse(val, strlen(val));

	if (mode < 0) {
		pr_warn("default_mode: unknown mode '%*pE'\n",
			(int)pcm_token_len(val, strlen(val)), val);
		return -EINVAL;
	}
	return pcm_policy_set_default_mode(mode);
}

static int default_mode_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", pcm_mode_name(pcm_default_mode()));
}

static int host_withhold_set(const char *val, const struct kernel_param *kp)
{
	struct pcm_fs want;
	int ret;

	ret = pcm_parse_fs("host_withhold", val, strlen(val), &want);
	if (ret == -ENODATA)
		pcm_fs_zero(&want);	/* "" or "\n" withholds nothing */
	else if (ret)
		return ret;
	return pcm_policy_set_withhold(&want);
}

static int host_withhold_get(char *buf, const struct kernel_param *kp)
{
	struct pcm_fs fs;

	pcm_policy_withhold(&fs);
	return pcm_show_fs(&fs, buf);
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

static ssize_t process_modes_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	struct pcm_policy_proc *p;
	ssize_t n = 0;
	int i, nr;

	p = kmalloc_array(PCM_POLICY_PROC_MAX, sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	nr = pcm_policy_processes(p);
	for (i = 0; i < nr; i++) {
		n += sysfs_emit_at(buf, n, "%d %s%s", p[i].pid,
				   pcm_mode_name(p[i].mode),
				   p[i].expect ? " expect" : "");
		if (p[i].kids)
			n += sysfs_emit_at(buf, n, " inherited=%u", p[i].kids);
		n += sysfs_emit_at(buf, n, "\n");
	}
	kfree(p);
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
	int ret = pcm_policy_set_process(pid, mode, NULL);

	if (ret == -ENOENT)
		pr_warn("process_modes: no entry for process %d\n", nr);
	else if (ret == -ENOSPC)
		pr_warn("process_modes: table full (%d entries)\n",
			PCM_POLICY_PROC_MAX);
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

static struct kobj_attribute process_modes_attr = __ATTR_RW_MODE(process_modes, 0644);

static struct attribute *pcm_attrs[] = {
	&host_features_attr.attr,
	&modes_attr.attr,
	&baseline_attr.attr,
	&process_modes_attr.attr,
	&pcm_probes_attr.attr,
	NULL,
};

static const struct attribute_group pcm_attr_group = {
	.attrs = pcm_attrs,
};

int pcm_sysfs_init(struct kobject *parent)
{
	return sysfs_create_group(parent, &pcm_attr_group);
}

void pcm_sysfs_exit(struct kobject *parent)
{
	sysfs_remove_group(parent, &pcm_attr_group);
}
