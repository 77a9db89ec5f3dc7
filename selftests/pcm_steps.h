/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test steps shared by pcm_kvm_test and pcm_migrate_test.  They take
 * _metadata so that ASSERT_* work inside them: include after
 * kselftest_harness.h.
 */
#ifndef PCM_STEPS_H
#define PCM_STEPS_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "pcm_util.h"
#include "vm.h"

struct guest_view {
	struct guest_cpuid req[MB_MAX_ENTRIES];
	unsigned int n;
	struct pcm_fs fs;
};

static inline void new_vm(struct __test_metadata *_metadata, struct vm *vm, bool vcpu)
{
	int r = vm_create(vm);

	ASSERT_EQ(0, r) TH_LOG("vm_create: %s", strerror(-r));
	if (vcpu) {
		r = vm_add_vcpu(vm);
		ASSERT_EQ(0, r) TH_LOG("vm_add_vcpu: %s", strerror(-r));
	}
}

static inline struct kvm_cpuid2 *supported(struct __test_metadata *_metadata)
{
	struct kvm_cpuid2 *c = kvm_supported_cpuid();

	ASSERT_NE(NULL, c);
	return c;
}

static inline void set_mode(struct __test_metadata *_metadata, int vm_fd, unsigned int mode)
{
	int r = pcm_set_vm_mode(vm_fd, mode);

	ASSERT_EQ(0, r) TH_LOG("PCM_KVM_SET_VM_MODE(%s): %s", pcm_mode_name(mode),
			       strerror(-r));
}

static inline void set_cpuid(struct __test_metadata *_metadata, struct vm *vm,
		      const struct kvm_cpuid2 *c)
{
	int r = vcpu_set_cpuid(vm, c);

	ASSERT_EQ(0, r) TH_LOG("KVM_SET_CPUID2: %s", strerror(-r));
}

static inline void run_guest_cpuid(struct __test_metadata *_metadata, struct vm *vm,
			    struct kvm_cpuid2 *table, struct guest_view *gv)
{
	int r;

	gv->n = feature_requests(table, gv->req);
	ASSERT_LT(0, gv->n);
	r = guest_cpuid(vm, gv->req, gv->n);
	ASSERT_EQ(0, r) TH_LOG("guest CPUID run: %s", strerror(-r));
	fs_from_guest(gv->req, gv->n, &gv->fs);
}

static inline uint32_t guest_reg(const struct guest_view *gv, uint32_t leaf,
			  uint32_t subleaf, int reg)
{
	const struct guest_cpuid *e = guest_result(gv->req, gv->n, leaf, subleaf);

	return e ? e->regs[reg] : 0;
}

static inline uint32_t table_reg(struct kvm_cpuid2 *c, uint32_t leaf, uint32_t subleaf, int reg)
{
	struct kvm_cpuid_entry2 *e = cpuid2_find(c, leaf, subleaf);

	if (!e)
		return 0;
	switch (reg) {
	case PCM_KVM_EAX: return e->eax;
	case PCM_KVM_EBX: return e->ebx;
	case PCM_KVM_ECX: return e->ecx;
	default: return e->edx;
	}
}

/* Module parameters and baseline a fixture changes, put back in teardown. */
struct saved_state {
	char default_mode[64];
	char baseline[PCM_FS_TEXT_MAX + 1];
	char withhold[PCM_FS_TEXT_MAX + 1];
	bool have_default_mode, have_baseline, have_withhold;
};

static inline void save_state(struct saved_state *s)
{
	s->have_default_mode = sysfs_read(PCM_PARAM_DEFAULT_MODE, s->default_mode,
					  sizeof(s->default_mode)) >= 0;
	s->have_baseline = sysfs_read(PCM_SYSFS_BASELINE, s->baseline,
				      sizeof(s->baseline)) >= 0;
	s->have_withhold = sysfs_read(PCM_PARAM_HOST_WITHHOLD, s->withhold,
				      sizeof(s->withhold)) >= 0;
}

static inline void restore_state(struct __test_metadata *_metadata, struct saved_state *s)
{
	char now[PCM_FS_TEXT_MAX + 1];

	/* "\n" (nothing withheld) is a valid write, unlike an empty baseline. */
	if (s->have_withhold &&
	    (sysfs_read(PCM_PARAM_HOST_WITHHOLD, now, sizeof(now)) < 0 ||
	     strcmp(now, s->withhold)))
		EXPECT_EQ(0, sysfs_write_str(PCM_PARAM_HOST_WITHHOLD,
					     s->withhold[0] ? s->withhold : "\n"));
	if (s->have_default_mode &&
	    (sysfs_read(PCM_PARAM_DEFAULT_MODE, now, sizeof(now)) < 0 ||
	     strcmp(now, s->default_mode)))
		EXPECT_EQ(0, sysfs_write_str(PCM_PARAM_DEFAULT_MODE, s->default_mode));
	if (s->have_baseline && s->baseline[0] && s->baseline[0] != '\n' &&
	    (sysfs_read(PCM_SYSFS_BASELINE, now, sizeof(now)) < 0 ||
	     strcmp(now, s->baseline)))
		EXPECT_EQ(0, sysfs_write_str(PCM_SYSFS_BASELINE, s->baseline));
}

/* The kernel log (/dev/kmsg), for what the module says when it refuses    */

/* Opened at the current end: only messages logged from now on are read. */
static inline int kmsg_open(struct __test_metadata *_metadata)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("/dev/kmsg: %s", strerror(errno));
	lseek(fd, 0, SEEK_END);
	return fd;
}

/* Is there a new record containing every non-NULL needle?  Consumes records. */
static inline bool kmsg_find(int fd, const char *a, const char *b, const char *c)
{
	char rec[8192];
	bool found = false;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (strstr(rec, a) && (!b || strstr(rec, b)) && (!c || strstr(rec, c))) {
			found = true;
			fprintf(stderr, "# dmesg: %s", strchr(rec, ';') ? strchr(rec, ';') + 1 : rec);
		}
	}
	return found;
}

#endif /* PCM_STEPS_H */
