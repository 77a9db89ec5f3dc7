// SPDX-License-Identifier: GPL-2.0
/*
 * The host as pcmctl sees it: pcm_kvm's sysfs files and device, /proc.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "pcmctl.h"
#include "kernel.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open		434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd		438
#endif

#define HOST_WITHHOLD	"/sys/module/pcm_kvm/parameters/host_withhold"
#define VM_FILE_MAX	65536

const char *kern_sysfs(void)
{
	const char *s = getenv("PCMCTL_SYSFS");

	return s && *s ? s : PCM_KVM_SYSFS;
}

int kern_read_small(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	while (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return ret;
}

int kern_parse_vm_id(const char *s, int *pid, int *fd)
{
	unsigned long p, f;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	p = strtoul(s, &end, 10);
	if (errno || *end != '-' || !p || p > INT_MAX)
		return -1;
	s = end + 1;
	if (*s < '0' || *s > '9')
		return -1;
	f = strtoul(s, &end, 10);
	if (errno || *end || f > INT_MAX)
		return -1;
	*pid = (int)p;
	*fd = (int)f;
	return 0;
}

static int open_dev(int flags)
{
	int fd = open(PCM_KVM_DEVICE, flags | O_CLOEXEC);

	if (fd < 0)
		pr_err("%s: %s%s", PCM_KVM_DEVICE, strerror(errno),
		       errno == ENOENT ? " (is the pcm_kvm module loaded?)" : "");
	return fd;
}

int kern_host_identity(struct pcm_kvm_identity *id, struct pcm_kvm_version *ver)
{
	struct pcm_kvm_host_identity h;
	int fd;

	fd = open_dev(O_RDONLY);
	if (fd < 0)
		return EXIT_OP;
	memset(ver, 0, sizeof(*ver));
	ver->size = sizeof(*ver);
	if (ioctl(fd, PCM_KVM_GET_VERSION, ver)) {
		pr_err("PCM_KVM_GET_VERSION: %s", strerror(errno));
		close(fd);
		return EXIT_OP;
	}
	ver->module_version[sizeof(ver->module_version) - 1] = '\0';
	if (ver->abi_version != PCM_KVM_ABI_VERSION) {
		pr_err("module ABI %u, pcmctl ABI %u: refusing to decode",
		       ver->abi_version, (unsigned int)PCM_KVM_ABI_VERSION);
		close(fd);
		return EXIT_OP;
	}
	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	h.mode = PCM_KVM_MODE_OFF;
	if (ioctl(fd, PCM_KVM_GET_HOST_IDENTITY, &h)) {
		pr_err("PCM_KVM_GET_HOST_IDENTITY: %s", strerror(errno));
		close(fd);
		return EXIT_OP;
	}
	close(fd);
	h.id.vendor[sizeof(h.id.vendor) - 1] = '\0';
	*id = h.id;
	return 0;
}

int kern_check_identity(struct pcm_kvm_check *c)
{
	int fd = open_dev(O_RDONLY);

	if (fd < 0)
		return EXIT_OP;
	c->size = sizeof(*c);
	if (ioctl(fd, PCM_KVM_CHECK_IDENTITY, c)) {
		pr_err("PCM_KVM_CHECK_IDENTITY: %s%s", strerror(errno),
		       errno == ENOTTY ? " (a pcm_kvm module without identity checks?)" : "");
		close(fd);
		return EXIT_OP;
	}
	close(fd);
	if (c->result > PCM_KVM_CHECK_VENDOR) {
		pr_err("PCM_KVM_CHECK_IDENTITY: unknown answer %u", c->result);
		return EXIT_OP;
	}
	return 0;
}

int kern_set_vm_mode(int pid, int fd, unsigned int mode, const char *cmd)
{
	struct pcm_kvm_vm_mode vm;
	int dev, pidfd, vmfd, ret = EXIT_OP;

	dev = open_dev(O_RDWR);
	if (dev < 0)
		return EXIT_OP;
	pidfd = syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pidfd < 0) {
		pr_err("pidfd_open(%d): %s", pid, strerror(errno));
		goto out_dev;
	}
	vmfd = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (vmfd < 0) {
		pr_err("pidfd_getfd(%d, %d): %s%s", pid, fd, strerror(errno),
		       errno == EPERM ? " (needs root, or ptrace access to the VMM)" :
		       errno == EBADF ? " (the process has no such fd)" : "");
		goto out_pidfd;
	}
	memset(&vm, 0, sizeof(vm));
	vm.size = sizeof(vm);
	vm.vm_fd = vmfd;
	vm.mode = mode;
	if (ioctl(dev, PCM_KVM_SET_VM_MODE, &vm))
		pr_err("%s %d-%d %s: %s%s", cmd, pid, fd, pcm_mode_name(mode),
		       strerror(errno),
		       errno == EBUSY ? " (the VM has already run: its mode is frozen)" : "");
	else
		ret = 0;
	close(vmfd);
out_pidfd:
	close(pidfd);
out_dev:
	close(dev);
	return ret;
}

int kern_set_process(const struct pcm_kvm_process *a, const char *expect_name,
		     const char *cmd)
{
	int dev = open_dev(O_RDWR);

	if (dev < 0)
		return EXIT_OP;
	if (ioctl(dev, PCM_KVM_SET_PROCESS, a)) {
		pr_err("%s: PCM_KVM_SET_PROCESS (pid %d, mode %s%s%s): %s%s", cmd, (int)a->pid,
		       pcm_mode_name(a->mode), expect_name ? ", expect " : "",
		       expect_name ? expect_name : "", strerror(errno),
		       errno == ENOTTY ? " (a pcm_kvm module without SET_PROCESS?)" :
		       errno == ESRCH ? " (no such process)" :
		       errno == EINVAL ? " (dmesg says why)" : "");
		close(dev);
		return EXIT_OP;
	}
	close(dev);
	return 0;
}

int kern_forget_process(unsigned long pid, const char *cmd)
{
	char path[PATH_MAX], buf[64];
	ssize_t w;
	int fd;

	snprintf(path, sizeof(path), "%s/process_modes", kern_sysfs());
	snprintf(buf, sizeof(buf), "%lu -\n", pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_err("%s: %s: %s", cmd, path, strerror(errno));
		return EXIT_OP;
	}
	w = write(fd, buf, strlen(buf));
	if (w < 0) {
		pr_err("%s: %s '%lu -': %s%s", cmd, path, pid, strerror(errno),
		       errno == ENOENT ? " (no entry for it)" : "");
		close(fd);
		return EXIT_OP;
	}
	close(fd);
	return 0;
}

int kern_baseline(struct pcm_fs *fs, char *path, size_t size)
{
	static char list[PCM_FS_TEXT_MAX + 64];
	const char *bad = NULL;
	size_t badlen = 0;
	int ret;

	snprintf(path, size, "%s/baseline", kern_sysfs());
	ret = kern_read_small(path, list, sizeof(list));
	if (ret) {
		pr_err("%s: %s", path, strerror(-ret));
		return EXIT_OP;
	}
	ret = pcm_fs_parse(list, strlen(list), fs, &bad, &badlen);
	if (ret == -ENODATA) {
		pcm_fs_zero(fs);
		return 0;
	}
	if (ret) {
		pr_err("%s: unknown feature '%.*s'", path, badlen > 64 ? 64 : (int)badlen, bad);
		return EXIT_OP;
	}
	return 0;
}

int kern_host_features(struct pcm_fs *fs)
{
	static char list[PCM_FS_TEXT_MAX + 64];
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "%s/host_features", kern_sysfs());
	ret = kern_read_small(path, list, sizeof(list));
	if (ret)
		return ret;
	return pcm_fs_parse(list, strlen(list), fs, NULL, NULL);
}

int kern_write_baseline(const struct pcm_fs *fs, char *path, size_t size)
{
	static char out[PCM_FS_TEXT_MAX + 2];
	size_t len;
	int fd;

	len = pcm_fs_format(fs, out, sizeof(out) - 1);
	out[len++] = '\n';
	snprintf(path, size, "%s/baseline", kern_sysfs());
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, out, len) != (ssize_t)len) {
		int err = errno ? errno : EIO;

		close(fd);
		return -err;
	}
	return close(fd) ? -errno : 0;
}

void kern_host_withhold(struct pcm_fs *fs)
{
	static char list[PCM_FS_TEXT_MAX + 64];

	pcm_fs_zero(fs);
	if (!kern_read_small(HOST_WITHHOLD, list, sizeof(list)) && *list &&
	    pcm_fs_parse(list, strlen(list), fs, NULL, NULL))
		pr_err("%s: cannot parse '%s'", HOST_WITHHOLD, list);
}

/* VMs */

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_hidden(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* Read dir/name into a new buffer; NULL if absent or unreadable. */
static char *read_vm_file(const char *dir, const char *name)
{
	char path[PATH_MAX + 256];
	char *buf;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return NULL;
	buf = malloc(VM_FILE_MAX);
	if (!buf)
		return NULL;
	if (kern_read_small(path, buf, VM_FILE_MAX)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int vm_dir(char *dir, size_t size, int pid, int fd)
{
	if (snprintf(dir, size, "%s/vms/%d-%d", kern_sysfs(), pid, fd) >= (int)size) {
		pr_err("PCMCTL_SYSFS: path too long");
		return EXIT_OP;
	}
	return 0;
}

void kern_vm_free(struct vm_info *vm)
{
	free(vm->requested);
	free(vm->visible);
	free(vm->hidden);
	free(vm->identity);
	free(vm->expect);
}

int kern_vm(struct vm_info *vm, int pid, int fd)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], *p;
	int ret;

	memset(vm, 0, sizeof(*vm));
	if (vm_dir(dir, sizeof(dir), pid, fd))
		return -ENAMETOOLONG;
	snprintf(vm->id, sizeof(vm->id), "%d-%d", pid, fd);
	vm->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (kern_read_small(path, vm->comm, sizeof(vm->comm)))
		vm->comm[0] = '\0';
	snprintf(path, sizeof(path), "%s/mode", dir);
	ret = kern_read_small(path, vm->mode, sizeof(vm->mode));
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/status", dir);
	if (kern_read_small(path, vm->status, sizeof(vm->status)))
		vm->status[0] = '\0';
	for (p = vm->status; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	vm->requested = read_vm_file(dir, "requested");
	vm->visible = read_vm_file(dir, "visible");
	vm->hidden = read_vm_file(dir, "hidden");
	vm->identity = read_vm_file(dir, "identity");
	/* an empty line when nothing is expected */
	vm->expect = read_vm_file(dir, "expect");
	if (vm->expect && !*vm->expect) {
		free(vm->expect);
		vm->expect = NULL;
	}
	return 0;
}

static int scan_vms(struct dirent ***names)
{
	char dir[PATH_MAX];
	int n;

	if (snprintf(dir, sizeof(dir), "%s/vms", kern_sysfs()) >= (int)sizeof(dir)) {
		pr_err("PCMCTL_SYSFS: path too long");
		return -1;
	}
	n = scandir(dir, names, not_hidden, name_cmp);
	if (n < 0)
		pr_err("%s: %s%s", dir, strerror(errno),
		       errno == ENOENT ? " (is the pcm_kvm module loaded?)" : "");
	return n;
}

int kern_vms(struct vm_info **vms, int *nr, int only_pid)
{
	struct dirent **names;
	int n, i, pid, fd;

	*nr = 0;
	n = scan_vms(&names);
	if (n < 0)
		return EXIT_OP;
	*vms = calloc(n ? n : 1, sizeof(**vms));
	for (i = 0; i < n; i++) {
		/* Entries that are not PID-FD, or already gone, are skipped. */
		if (*vms && !kern_parse_vm_id(names[i]->d_name, &pid, &fd) &&
		    (!only_pid || pid == only_pid) && !kern_vm(&(*vms)[*nr], pid, fd))
			(*nr)++;
		free(names[i]);
	}
	free(names);
	if (!*vms) {
		pr_err("out of memory");
		return EXIT_OP;
	}
	return 0;
}

/* The sysfs files of a VM shown first, in this order; others follow. */
static const char *const vm_files[] = { "mode", "requested", "visible", "hidden" };

int kern_vm_files(int pid, int fd, struct vm_file **files, int *nr)
{
	struct dirent **names;
	char dir[PATH_MAX];
	struct vm_file *f;
	size_t k;
	int n, i;

	*nr = 0;
	if (vm_dir(dir, sizeof(dir), pid, fd))
		return EXIT_OP;
	n = scandir(dir, &names, not_hidden, name_cmp);
	if (n < 0) {
		pr_err("%s: %s%s", dir, strerror(errno),
		       errno == ENOENT ? " (no such VM; `pcmctl vm` lists them)" : "");
		return EXIT_OP;
	}
	f = calloc(n + ARRAY_SIZE(vm_files) + 1, sizeof(*f));
	for (k = 0; f && k < ARRAY_SIZE(vm_files); k++) {
		f[*nr].value = read_vm_file(dir, vm_files[k]);
		if (f[*nr].value)
			snprintf(f[(*nr)++].name, sizeof(f->name), "%s", vm_files[k]);
	}
	for (i = 0; i < n; i++) {
		bool known = false;

		for (k = 0; k < ARRAY_SIZE(vm_files); k++)
			known |= !strcmp(names[i]->d_name, vm_files[k]);
		/* Write-only or directory entries are skipped. */
		if (f && !known) {
			f[*nr].value = read_vm_file(dir, names[i]->d_name);
			if (f[*nr].value)
				snprintf(f[(*nr)++].name, sizeof(f->name), "%s", names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	*files = f;
	if (!f) {
		pr_err("out of memory");
		return EXIT_OP;
	}
	if (!*nr) {
		pr_err("%s: nothing readable", dir);
		return EXIT_OP;
	}
	return 0;
}

int kern_vm_write(int pid, int fd, const char *name, const char *text, size_t len)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	int f;

	if (vm_dir(dir, sizeof(dir), pid, fd))
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = open(path, O_WRONLY | O_CLOEXEC);
	if (f < 0)
		return -errno;
	/* sysfs takes one write: the whole text */
	if (write(f, text, len) != (ssize_t)len) {
		int err = errno ? errno : EIO;

		close(f);
		return -err;
	}
	return close(f) ? -errno : 0;
}

int kern_vm_identity_path(int pid, int fd, char *path, size_t size)
{
	if (snprintf(path, size, "%s/vms/%d-%d/identity", kern_sysfs(), pid, fd) >=
	    (int)size) {
		pr_err("PCMCTL_SYSFS: path too long");
		return EXIT_OP;
	}
	return 0;
}

/* The value of "key<TAB>: value" of the first processor in /proc/cpuinfo. */
static void cpuinfo_value(const char *text, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	const char *p = text;

	snprintf(out, size, "-");
	while (*p) {
		size_t len = strcspn(p, "\n");
		size_t sp = strspn(p + klen, " \t");

		/* "model" must not match "model name" */
		if (!strncmp(p, key, klen) && klen + sp < len && p[klen + sp] == ':') {
			const char *c = p + klen + sp + 1;
			size_t n = len - (c - p);

			while (n && (*c == ' ' || *c == '\t')) {
				c++;
				n--;
			}
			snprintf(out, size, "%.*s", (int)n, c);
			return;
		}
		if (!len && p != text)
			return;		/* end of the first processor */
		p += len + (p[len] == '\n');
	}
}

void kern_host_os(struct host_os *os)
{
	static char cpuinfo[1 << 16];
	struct utsname uts;

	memset(os, 0, sizeof(*os));
	if (gethostname(os->hostname, sizeof(os->hostname)))
		os->hostname[0] = '\0';
	os->hostname[sizeof(os->hostname) - 1] = '\0';
	if (!uname(&uts))
		snprintf(os->release, sizeof(os->release), "%s", uts.release);
	if (kern_read_small("/proc/cpuinfo", cpuinfo, sizeof(cpuinfo)))
		cpuinfo[0] = '\0';
	cpuinfo_value(cpuinfo, "cpu family", os->family, sizeof(os->family));
	cpuinfo_value(cpuinfo, "model", os->model, sizeof(os->model));
	cpuinfo_value(cpuinfo, "stepping", os->stepping, sizeof(os->stepping));
	cpuinfo_value(cpuinfo, "microcode", os->microcode, sizeof(os->microcode));
}
