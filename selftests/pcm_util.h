/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for pcm_kvm_test: sysfs files, the /dev/pcm_kvm ioctls, and the
 * feature model (module/pcm_model.c) applied to CPUID tables and guest dumps.
 * Functions return 0/values or -errno and never exit.
 */
#ifndef PCM_SELFTEST_UTIL_H
#define PCM_SELFTEST_UTIL_H

#include <stdbool.h>
#include <sys/types.h>

#include "pcm_model.h"
#include "vm.h"

#define PCM_SYSFS_HOST_FEATURES	PCM_KVM_SYSFS "/host_features"
#define PCM_SYSFS_MODES		PCM_KVM_SYSFS "/modes"
#define PCM_SYSFS_PROCESS_MODES	PCM_KVM_SYSFS "/process_modes"
#define PCM_SYSFS_BASELINE	PCM_KVM_SYSFS "/baseline"
#define PCM_SYSFS_VMS		PCM_KVM_SYSFS "/vms"
#define PCM_PARAM_DEFAULT_MODE	"/sys/module/pcm_kvm/parameters/default_mode"
#define PCM_PARAM_HOST_WITHHOLD	"/sys/module/pcm_kvm/parameters/host_withhold"

/*
 * Sized for nested TCG: the tests run in a test kernel under QEMU TCG and
 * create KVM guests there, on a machine that may be busy with other boots,
 * where a step that takes a millisecond on hardware can take seconds.
 *
 * PCM_VMDIR_TIMEOUT_MS: how long to wait for asynchronous work (vms/
 * directories appearing, going, being renamed; the exit probe disarming).
 * Every such wait polls and returns as soon as the work is done.
 *
 * PCM_TEST_TIMEOUT: the kselftest harness's per-test timeout (its own
 * default is 30 s); the test programs make it TEST_TIMEOUT_DEFAULT.
 * PCM_TEST_TIMEOUT_LONG: tests that create a hundred VMs or processes.
 */
#define PCM_VMDIR_TIMEOUT_MS	30000
#define PCM_TEST_TIMEOUT	300
#define PCM_TEST_TIMEOUT_LONG	900

/* /dev/pcm_kvm opened once per process; -errno if the module is not loaded. */
int pcm_fd(void);
bool pcm_loaded(void);

/* Read a whole sysfs file (NUL-terminated); returns its length or -errno. */
ssize_t sysfs_read(const char *path, char *buf, size_t size);
/* One write(2) of len bytes; 0 when all were accepted, else -errno. */
int sysfs_write(const char *path, const void *data, size_t len);
int sysfs_write_str(const char *path, const char *s);
/* A file holding a feature list (empty allowed); -errno or -EINVAL on junk. */
int sysfs_read_fs(const char *path, struct pcm_fs *fs);
/* A file holding one mode name: the mode number or -errno. */
int sysfs_read_mode(const char *path);

/* PCM_KVM_SYSFS/vms/<pid>-<fd>[/file] */
void vm_dir_path(char *buf, size_t size, pid_t pid, int fd, const char *file);
/* Poll (every 10 ms) until path exists (or not); true if it did in time. */
bool wait_path(const char *path, bool exists, int timeout_ms);
/* Number of entries of PCM_SYSFS_VMS whose name starts with "<pid>-". */
int count_vm_dirs(pid_t pid);
/* Poll (every 10 ms) until count_vm_dirs(pid) is 0; returns the last count. */
int wait_vm_dirs_gone(pid_t pid, int timeout_ms);
/* Find a vms/ entry "<pid>-<fd>-<something>"; true if found (name copied). */
bool find_renamed_vm_dir(pid_t pid, int fd, char *name, size_t size);

/* ioctls: 0 or -errno */
int pcm_set_vm_mode(int vm_fd, unsigned int mode);
/* PCM_KVM_SET_PROCESS: pid 0 is the caller; expect NULL for none. */
int pcm_set_process(pid_t pid, unsigned int mode, const struct pcm_kvm_identity *expect);
int pcm_get_vm_mode(int vm_fd);		/* mode or -errno */
int pcm_get_vm_features(int vm_fd, struct pcm_kvm_vm_features *f);
int pcm_get_host_features(struct pcm_fs *fs);

/* Model helpers */
void fs_from_cpuid2(const struct kvm_cpuid2 *c, struct pcm_fs *fs);
/*
 * Bits KVM itself rewrites at run time (APIC from the APIC base MSR, OSXSAVE
 * from CR4, OSPKE from CR4): compared nowhere a guest or KVM_GET_CPUID2 view
 * is involved.
 */
void fs_dynamic(struct pcm_fs *fs);
/* pcm_fs_known() minus fs_dynamic(). */
void fs_compare_mask(struct pcm_fs *fs);
/* closure(requested & allow(mode)), or requested itself for mode off. */
void fs_expected(unsigned int mode, const struct pcm_fs *baseline,
		 const struct pcm_fs *requested, struct pcm_fs *exp);
/*
 * Print "# what: unexpected ... / missing ..." for the bits of mask where
 * got and exp differ; returns the number of differing bits.
 */
int fs_diff(const char *what, const struct pcm_fs *got, const struct pcm_fs *exp,
	    const struct pcm_fs *mask);
bool fs_has(const struct pcm_fs *fs, const char *name);
int feature_id(const char *name);

/*
 * Leaf 0, then the (leaf, subleaf) of every feature word, then 0xD.0, those that exist in
 * table c; returns how many were written to req (<= MB_MAX_ENTRIES).
 */
unsigned int feature_requests(struct kvm_cpuid2 *c, struct guest_cpuid *req);
void fs_from_guest(const struct guest_cpuid *req, unsigned int n, struct pcm_fs *fs);
const struct guest_cpuid *guest_result(const struct guest_cpuid *req, unsigned int n,
				       uint32_t leaf, uint32_t subleaf);

#endif /* PCM_SELFTEST_UTIL_H */
