// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/pcm_kvm: the ioctl interface of uapi/linux/pcm_kvm.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include "pcm_kvm.h"

/*
 * Copy an argument in after checking its leading size field: the ioctl
 * number encodes the size too, but a caller built against another header
 * version gets a clear EINVAL rather than a silently short struct.
 */
static int pcm_copy_in(void *dst, const void __user *src, size_t size,
		       const char *what)
{
	u32 usize;

	if (get_user(usize, (const u32 __user *)src))
		return -EFAULT;
	if (usize != size) {
		pr_warn_ratelimited("%s: size %u, expected %zu\n", what, usize, size);
		return -EINVAL;
	}
	if (copy_from_user(dst, src, size))
		return -EFAULT;
	return 0;
}

static struct pcm_vm *pcm_vm_from_fd(int fd, const char *what, int *err)
{
	struct pcm_vm *vm;
	struct file *file;

	file = fget(fd);
	if (!file) {
		pr_warn_ratelimited("%s: bad file descriptor %d\n", what, fd);
		*err = -EBADF;
		return NULL;
	}
	vm = pcm_vm_get_by_file(file);
	fput(file);
	if (!vm) {
		pr_warn_ratelimited("%s: fd %d is not a VM managed by pcm_kvm\n",
				    what, fd);
		*err = -EINVAL;
	}
	return vm;
}

static long pcm_ioctl_version(void __user *argp)
{
	struct pcm_kvm_version v;
	int ret;

	ret = pcm_copy_in(&v, argp, sizeof(v), "GET_VERSION");
	if (ret)
		return ret;
	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	v.abi_version = PCM_KVM_ABI_VERSION;
	v.nwords = PCM_KVM_NR_WORDS_USED;
	strscpy(v.module_version, PCM_KVM_VERSION, sizeof(v.module_version));
	return copy_to_user(argp, &v, sizeof(v)) ? -EFAULT : 0;
}

static long pcm_ioctl_host(void __user *argp)
{
	struct pcm_kvm_host_features h;
	int ret;

	ret = pcm_copy_in(&h, argp, sizeof(h), "GET_HOST_FEATURES");
	if (ret)
		return ret;
	if (h.flags) {
		pr_warn_ratelimited("GET_HOST_FEATURES: unknown flags 0x%x\n", h.flags);
		return -EINVAL;
	}
	pcm_host_features(&h.features);
	return copy_to_user(argp, &h, sizeof(h)) ? -EFAULT : 0;
}

static long pcm_ioctl_vm_mode(void __user *argp, bool set)
{
	const char *what = set ? "SET_VM_MODE" : "GET_VM_MODE";
	struct pcm_kvm_vm_mode m;
	struct pcm_vm *vm;
	int ret;

	ret = pcm_copy_in(&m, argp, sizeof(m), what);
	if (ret)
		return ret;
	if (m.flags) {
		pr_warn_ratelimited("%s: unknown flags 0x%x\n", what, m.flags);
		return -EINVAL;
	}
	if (set && m.mode >= PCM_KVM_NR_MODES) {
		pr_warn_ratelimited("%s: unknown mode %u\n", what, m.mode);
		return -EINVAL;
	}
	vm = pcm_vm_from_fd(m.vm_fd, what, &ret);
	if (!vm)
		return ret;
	if (set) {
		ret = pcm_vm_set_mode(vm, m.mode);
	} else {
		m.mode = pcm_vm_mode(vm);
		ret = copy_to_user(argp, &m, sizeof(m)) ? -EFAULT : 0;
	}
	pcm_vm_put(vm);
	return ret;
}

static long pcm_ioctl_vm_features(void __user *argp)
{
	struct pcm_kvm_vm_features f;
	struct pcm_vm *vm;
	u32 flags;
	int ret;

	ret = pcm_copy_in(&f, argp, sizeof(f), "GET_VM_FEATURES");
	if (ret)
		return ret;
	if (f.flags) {
		pr_warn_ratelimited("GET_VM_FEATURES: unknown flags 0x%x\n", f.flags);
		return -EINVAL;
	}
	vm = pcm_vm_from_fd(f.vm_fd, "GET_VM_FEATURES", &ret);
	if (!vm)
		return ret;
	f.mode = pcm_vm_mode(vm);
	pcm_vm_features(vm, &f.requested, &f.visible, &f.hidden, &flags);
	f.flags = flags;
	pcm_vm_put(vm);
	return copy_to_user(argp, &f, sizeof(f)) ? -EFAULT : 0;
}

static long pcm_ioctl_vm_identity(void __user *argp)
{
	struct pcm_kvm_vm_identity a;
	struct pcm_vm *vm;
	int ret;

	ret = pcm_copy_in(&a, argp, sizeof(a), "GET_VM_IDENTITY");
	if (ret)
		return ret;
	if (a.flags || a.reserved) {
		pr_warn_ratelimited("GET_VM_IDENTITY: unknown flags 0x%x\n", a.flags);
		return -EINVAL;
	}
	vm = pcm_vm_from_fd(a.vm_fd, "GET_VM_IDENTITY", &ret);
	if (!vm)
		return ret;
	pcm_vm_identity(vm, &a.id);
	pcm_vm_put(vm);
	return copy_to_user(argp, &a, sizeof(a)) ? -EFAULT : 0;
}

static long pcm_ioctl_check(void __user *argp)
{
	struct pcm_kvm_identity host;
	struct pcm_kvm_check c;
	int ret;

	ret = pcm_copy_in(&c, argp, sizeof(c), "CHECK_IDENTITY");
	if (ret)
		return ret;
	if (c.flags) {
		pr_warn_ratelimited("CHECK_IDENTITY: unknown flags 0x%x\n", c.flags);
		return -EINVAL;
	}
	if (c.id.mode >= PCM_KVM_NR_MODES) {
		pr_warn_ratelimited("CHECK_IDENTITY: unknown mode %u\n", c.id.mode);
		return -EINVAL;
	}
	if (c.id.flags & ~PCM_KVM_ID_TSC_SCALING) {
		pr_warn_ratelimited("CHECK_IDENTITY: unknown identity flags 0x%x\n", c.id.flags);
		return -EINVAL;
	}
	/* This host as a destination of a VM in that mode. */
	ret = pcm_host_identity(c.id.mode, NULL, &host);
	if (ret)
		return ret;
	c.result = pcm_identity_check(&c.id, &host, &c.missing, &c.extra, &c.limits);
	c.host_xcr0 = host.xcr0;
	c.host_tsc_khz = host.tsc_khz;
	c.host_flags = host.flags;
	c.reserved = 0;
	c.host_phys_bits = host.phys_bits;
	c.host_max_basic_leaf = host.max_basic_leaf;
	c.host_max_ext_leaf = host.max_ext_leaf;
	memcpy(c.host_vendor, host.vendor, sizeof(c.host_vendor));
	return copy_to_user(argp, &c, sizeof(c)) ? -EFAULT : 0;
}

static long pcm_ioctl_host_identity(void __user *argp)
{
	struct pcm_kvm_host_identity h;
	int ret;

	ret = pcm_copy_in(&h, argp, sizeof(h), "GET_HOST_IDENTITY");
	if (ret)
		return ret;
	if (h.flags || h.reserved) {
		pr_warn_ratelimited("GET_HOST_IDENTITY: unknown flags 0x%x\n", h.flags);
		return -EINVAL;
	}
	if (h.mode >= PCM_KVM_NR_MODES) {
		pr_warn_ratelimited("GET_HOST_IDENTITY: unknown mode %u\n", h.mode);
		return -EINVAL;
	}
	ret = pcm_host_identity(h.mode, NULL, &h.id);
	if (ret)
		return ret;
	return copy_to_user(argp, &h, sizeof(h)) ? -EFAULT : 0;
}

/* An identity as a VMM or pcmctl hands it in: known features, sane fields. */
static bool pcm_identity_wellformed(const struct pcm_kvm_identity *id)
{
	struct pcm_fs known;

	pcm_fs_known(&known);
	return id->mode < PCM_KVM_NR_MODES && pcm_fs_subset(&id->features, &known) &&
	       id->phys_bits <= PCM_PHYS_BITS_MAX && !id->vendor[sizeof(id->vendor) - 1] &&
	       !(id->flags & ~PCM_KVM_ID_TSC_SCALING);
}

static long pcm_ioctl_process(void __user *argp)
{
	struct pcm_kvm_process a;
	struct pid *pid;
	bool alive;
	int ret;

	ret = pcm_copy_in(&a, argp, sizeof(a), "SET_PROCESS");
	if (ret)
		return ret;
	if (a.flags & ~PCM_KVM_PROCESS_EXPECT) {
		pr_warn_ratelimited("SET_PROCESS: unknown flags 0x%x\n", a.flags);
		return -EINVAL;
	}
	if (a.mode >= PCM_KVM_NR_MODES) {
		pr_warn_ratelimited("SET_PROCESS: unknown mode %u\n", a.mode);
		return -EINVAL;
	}
	if ((a.flags & PCM_KVM_PROCESS_EXPECT) && !pcm_identity_wellformed(&a.expect)) {
		pr_warn_ratelimited("SET_PROCESS: malformed identity\n");
		return -EINVAL;
	}
	if (a.pid < 0) {
		pr_warn_ratelimited("SET_PROCESS: bad pid %d\n", a.pid);
		return -EINVAL;
	}
	pid = a.pid ? find_get_pid(a.pid) : get_pid(task_tgid(current));
	rcu_read_lock();
	alive = pid && pid_task(pid, PIDTYPE_TGID);
	rcu_read_unlock();
	if (!alive) {
		pr_warn_ratelimited("SET_PROCESS: no process %d\n", a.pid);
		put_pid(pid);
		return -ESRCH;
	}
	ret = pcm_policy_set_process(pid, a.mode,
				     a.flags & PCM_KVM_PROCESS_EXPECT ? &a.expect : NULL);
	put_pid(pid);
	if (ret == -ENOSPC)
		pr_warn_ratelimited("SET_PROCESS: table full (%d entries)\n",
				    PCM_POLICY_PROC_MAX);
	return ret;
}

static long pcm_ioctl_vm_expect(void __user *argp)
{
	struct pcm_kvm_vm_expect a;
	struct pcm_vm *vm;
	int ret;

	ret = pcm_copy_in(&a, argp, sizeof(a), "SET_VM_EXPECT");
	if (ret)
		return ret;
	if (a.flags || a.reserved) {
		pr_warn_ratelimited("SET_VM_EXPECT: unknown flags 0x%x\n", a.flags);
		return -EINVAL;
	}
	if (!pcm_identity_wellformed(&a.id)) {
		pr_warn_ratelimited("SET_VM_EXPECT: malformed identity\n");
		return -EINVAL;
	}
	vm = pcm_vm_from_fd(a.vm_fd, "SET_VM_EXPECT", &ret);
	if (!vm)
		return ret;
	ret = pcm_vm_set_expect(vm, &a.id);
	pcm_vm_put(vm);
	return ret;
}

static long pcm_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	/*
	 * The device is root's (0600), but an fd can be passed on: the calls
	 * that change a VM need the capability of whoever makes them.
	 */
	if ((cmd == PCM_KVM_SET_VM_MODE || cmd == PCM_KVM_SET_VM_EXPECT ||
	     cmd == PCM_KVM_SET_PROCESS) && !capable(CAP_SYS_ADMIN))
		return -EPERM;

	switch (cmd) {
	case PCM_KVM_GET_VERSION:
		return pcm_ioctl_version(argp);
	case PCM_KVM_GET_HOST_FEATURES:
		return pcm_ioctl_host(argp);
	case PCM_KVM_SET_VM_MODE:
		return pcm_ioctl_vm_mode(argp, true);
	case PCM_KVM_GET_VM_MODE:
		return pcm_ioctl_vm_mode(argp, false);
	case PCM_KVM_GET_VM_FEATURES:
		return pcm_ioctl_vm_features(argp);
	case PCM_KVM_GET_VM_IDENTITY:
		return pcm_ioctl_vm_identity(argp);
	case PCM_KVM_CHECK_IDENTITY:
		return pcm_ioctl_check(argp);
	case PCM_KVM_SET_VM_EXPECT:
		return pcm_ioctl_vm_expect(argp);
	case PCM_KVM_GET_HOST_IDENTITY:
		return pcm_ioctl_host_identity(argp);
	case PCM_KVM_SET_PROCESS:
		return pcm_ioctl_process(argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations pcm_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = pcm_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice pcm_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "pcm_kvm",
	.fops = &pcm_dev_fops,
	.mode = 0600,
};

int pcm_dev_init(void)
{
	return misc_register(&pcm_miscdev);
}

void pcm_dev_exit(void)
{
	misc_deregister(&pcm_miscdev);
}
