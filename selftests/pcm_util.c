// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "pcm_util.h"

static int pcm_dev_fd = -1;

int pcm_fd(void)
{
	if (pcm_dev_fd < 0) {
		pcm_dev_fd = open(PCM_KVM_DEVICE, O_RDWR | O_CLOEXEC);
		if (pcm_dev_fd < 0)
			return -errno;
	}
	return pcm_dev_fd;
}

bool pcm_loaded(void)
{
	return pcm_fd() >= 0;
}

ssize_t sysfs_read(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((size_t)total < size - 1) {
		n = read(fd, buf + total, size - 1 - total);
		if (n < 0) {
			err = -errno;
			close(fd);
			return err;
		}
		if (!n)
			break;
		total += n;
	}
	buf[total] = '\0';
	close(fd);
	return total;
}

int sysfs_write(const char *path, const void *data, size_t len)
{
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, data, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EMSGSIZE;	/* a short write: not all was taken */
	if (close(fd) && !err)
		err = -errno;
	return err;
}

int sysfs_write_str(const char *path, const char *s)
{
	return sysfs_write(path, s, strlen(s));
}

int sysfs_read_fs(const char *path, struct pcm_fs *fs)
{
	static char buf[PCM_FS_TEXT_MAX + 64];
	ssize_t n = sysfs_read(path, buf, sizeof(buf));
	const char *bad = NULL;
	size_t badlen = 0;
	int r;

	if (n < 0)
		return n;
	r = pcm_fs_parse(buf, n, fs, &bad, &badlen);
	if (r == -ENODATA) {
		pcm_fs_zero(fs);
		return 0;
	}
	if (r)
		fprintf(stderr, "# %s: cannot parse '%.*s'\n", path, (int)badlen, bad);
	return r;
}

int sysfs_read_mode(const char *path)
{
	char buf[128];
	ssize_t n = sysfs_read(path, buf, sizeof(buf));
	int mode;

	if (n < 0)
		return n;
	mode = pcm_mode_parse(buf, n);
	if (mode < 0)
		fprintf(stderr, "# %s: not a mode: '%s'\n", path, buf);
	return mode;
}

void vm_dir_path(char *buf, size_t size, pid_t pid, int fd, const char *file)
{
	snprintf(buf, size, "%s/%d-%d%s%s", PCM_SYSFS_VMS, (int)pid, fd,
		 file ? "/" : "", file ? file : "");
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

bool wait_path(const char *path, bool exists, int timeout_ms)
{
	long end = now_ms() + timeout_ms;

	for (;;) {
		if ((access(path, F_OK) == 0) == exists)
			return true;
		if (now_ms() > end)
			return false;
		usleep(10000);
	}
}

static bool name_has_prefix(const char *name, const char *prefix)
{
	return !strncmp(name, prefix, strlen(prefix));
}

int count_vm_dirs(pid_t pid)
{
	char prefix[32];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(prefix, sizeof(prefix), "%d-", (int)pid);
	dir = opendir(PCM_SYSFS_VMS);
	if (!dir)
		return -errno;
	while ((d = readdir(dir)))
		if (name_has_prefix(d->d_name, prefix))
			n++;
	closedir(dir);
	return n;
}

int wait_vm_dirs_gone(pid_t pid, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	int n;

	for (;;) {
		n = count_vm_dirs(pid);
		if (!n || now_ms() > end)
			return n;
		usleep(10000);
	}
}

bool find_renamed_vm_dir(pid_t pid, int fd, char *name, size_t size)
{
	char prefix[48];
	struct dirent *d;
	bool found = false;
	DIR *dir;

	snprintf(prefix, sizeof(prefix), "%d-%d-", (int)pid, fd);
	dir = opendir(PCM_SYSFS_VMS);
	if (!dir)
		return false;
	while ((d = readdir(dir))) {
		if (name_has_prefix(d->d_name, prefix) && d->d_name[strlen(prefix)]) {
			snprintf(name, size, "%s", d->d_name);
			found = true;
			break;
		}
	}
	closedir(dir);
	return found;
}

int pcm_set_vm_mode(int vm_fd, unsigned int mode)
{
	struct pcm_kvm_vm_mode m = { .size = sizeof(m), .vm_fd = vm_fd, .mode = mode };
	int fd = pcm_fd();

	if (fd < 0)
		return fd;
	return ioctl(fd, PCM_KVM_SET_VM_MODE, &m) ? -errno : 0;
}

int pcm_set_process(pid_t pid, unsigned int mode, const struct pcm_kvm_identity *expect)
{
	struct pcm_kvm_process a = { .size = sizeof(a), .pid = pid, .mode = mode };
	int fd = pcm_fd();

	if (fd < 0)
		return fd;
	if (expect) {
		a.flags = PCM_KVM_PROCESS_EXPECT;
		a.expect = *expect;
	}
	return ioctl(fd, PCM_KVM_SET_PROCESS, &a) ? -errno : 0;
}

int pcm_get_vm_mode(int vm_fd)
{
	struct pcm_kvm_vm_mode m = { .size = sizeof(m), .vm_fd = vm_fd, .mode = ~0u };
	int fd = pcm_fd();

	if (fd < 0)
		return fd;
	return ioctl(fd, PCM_KVM_GET_VM_MODE, &m) ? -errno : (int)m.mode;
}

int pcm_get_vm_features(int vm_fd, struct pcm_kvm_vm_features *f)
{
	int fd = pcm_fd();

	memset(f, 0, sizeof(*f));
	f->size = sizeof(*f);
	f->vm_fd = vm_fd;
	if (fd < 0)
		return fd;
	return ioctl(fd, PCM_KVM_GET_VM_FEATURES, f) ? -errno : 0;
}

int pcm_get_host_features(struct pcm_fs *fs)
{
	struct pcm_kvm_host_features h = { .size = sizeof(h) };
	int fd = pcm_fd();

	if (fd < 0)
		return fd;
	if (ioctl(fd, PCM_KVM_GET_HOST_FEATURES, &h))
		return -errno;
	*fs = h.features;
	return 0;
}

void fs_from_cpuid2(const struct kvm_cpuid2 *c, struct pcm_fs *fs)
{
	pcm_fs_from_entries(c->entries, c->nent, fs);
}

int feature_id(const char *name)
{
	int id = pcm_feature_lookup(name, strlen(name));

	if (id < 0) {
		fprintf(stderr, "# BUG in the test: no feature '%s'\n", name);
		abort();
	}
	return id;
}

bool fs_has(const struct pcm_fs *fs, const char *name)
{
	return pcm_fs_test(fs, feature_id(name));
}

void fs_dynamic(struct pcm_fs *fs)
{
	pcm_fs_zero(fs);
	pcm_fs_set(fs, feature_id("apic"));
	pcm_fs_set(fs, feature_id("osxsave"));
	pcm_fs_set(fs, feature_id("ospke"));
}

void fs_compare_mask(struct pcm_fs *fs)
{
	struct pcm_fs known, dyn;

	pcm_fs_known(&known);
	fs_dynamic(&dyn);
	pcm_fs_andnot(fs, &known, &dyn);
	/* CPUID only: the feature MSRs have tests of their own (msr.*). */
	pcm_fs_set_arch_cap(fs, 0);
}

void fs_expected(unsigned int mode, const struct pcm_fs *baseline,
		 const struct pcm_fs *requested, struct pcm_fs *exp)
{
	struct pcm_fs allow;

	if (mode == PCM_KVM_MODE_OFF) {
		*exp = *requested;
		return;
	}
	pcm_mode_allow(mode, baseline, &allow);
	pcm_fs_and(exp, requested, &allow);
	pcm_fs_close(exp);
}

int fs_diff(const char *what, const struct pcm_fs *got, const struct pcm_fs *exp,
	    const struct pcm_fs *mask)
{
	static char buf[PCM_FS_TEXT_MAX];
	struct pcm_fs extra, missing;
	int n;

	pcm_fs_andnot(&extra, got, exp);
	pcm_fs_and(&extra, &extra, mask);
	pcm_fs_andnot(&missing, exp, got);
	pcm_fs_and(&missing, &missing, mask);
	n = pcm_fs_count(&extra) + pcm_fs_count(&missing);
	if (!pcm_fs_empty(&extra)) {
		pcm_fs_format(&extra, buf, sizeof(buf));
		fprintf(stderr, "# %s: present but not expected: %s\n", what, buf);
	}
	if (!pcm_fs_empty(&missing)) {
		pcm_fs_format(&missing, buf, sizeof(buf));
		fprintf(stderr, "# %s: expected but absent: %s\n", what, buf);
	}
	return n;
}

unsigned int feature_requests(struct kvm_cpuid2 *c, struct guest_cpuid *req)
{
	unsigned int w, i, n = 0;

	/* leaf 0 first, then every feature word, then 0xD.0 */
	for (w = 0; w <= PCM_KVM_NR_WORDS_USED + 1; w++) {
		uint32_t leaf = 0, sub = 0;

		if (w > 0 && w <= PCM_KVM_NR_WORDS_USED) {
			if (!pcm_word_is_cpuid(w - 1))
				continue;
			leaf = pcm_words[w - 1].leaf;
			sub = pcm_words[w - 1].subleaf;
		} else if (w > PCM_KVM_NR_WORDS_USED) {
			leaf = 0xd;
		}

		if (!cpuid2_find(c, leaf, sub))
			continue;
		for (i = 0; i < n; i++)
			if (req[i].leaf == leaf && req[i].subleaf == sub)
				break;
		if (i < n || n == MB_MAX_ENTRIES)
			continue;
		memset(&req[n], 0, sizeof(req[n]));
		req[n].leaf = leaf;
		req[n].subleaf = sub;
		n++;
	}
	return n;
}

void fs_from_guest(const struct guest_cpuid *req, unsigned int n, struct pcm_fs *fs)
{
	unsigned int i;

	pcm_fs_zero(fs);
	for (i = 0; i < n; i++)
		pcm_fs_add_regs(fs, req[i].leaf, req[i].subleaf, req[i].regs);
}

const struct guest_cpuid *guest_result(const struct guest_cpuid *req, unsigned int n,
				       uint32_t leaf, uint32_t subleaf)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (req[i].leaf == leaf && req[i].subleaf == subleaf)
			return &req[i];
	return NULL;
}
