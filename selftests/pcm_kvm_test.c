// SPDX-License-Identifier: GPL-2.0
/*
 * pcm_kvm_test - kselftests for pcm_kvm (processor compatibility mode).
 *
 * Runs as root inside a kernel with /dev/kvm (see run-in-guest.sh).  The
 * kvm_runner tests need only KVM and prove the VM plumbing (they run in mode
 * off, so they also pass with the module loaded); every other test needs
 * pcm_kvm loaded and is skipped without it.
 *
 * Expected guest views come from the feature model (module/pcm_model.c):
 * visible = closure(requested & allow(mode)), compared on every table bit
 * except the few that KVM rewrites at run time (see fs_dynamic()).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pcm_util.h"
#include "vm.h"
#include "pcm_steps.h"

/* Every test gets a timeout sized for nested TCG (pcm_util.h), not 30 s. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT PCM_TEST_TIMEOUT

#define X86_CR4_OSXSAVE		(1ULL << 18)
#define XFEATURE_MASK_FP	(1ULL << 0)
#define XFEATURE_MASK_SSE	(1ULL << 1)
#define XFEATURE_MASK_YMM	(1ULL << 2)
#define GP_VECTOR		13
#define UD_VECTOR		6

#define REQUIRE_KVM() do {						\
	if (!kvm_available())						\
		SKIP(return, "no usable /dev/kvm");			\
} while (0)

#define REQUIRE_PCM() do {						\
	REQUIRE_KVM();							\
	if (!pcm_loaded())						\
		SKIP(return, "pcm_kvm not loaded (no " PCM_KVM_DEVICE ")"); \
} while (0)

/* ---------------------------------------------------------------------- */
/* Shared steps (they take _metadata so that ASSERT_* work inside them)    */

static void mode_of(struct __test_metadata *_metadata, int vm_fd, const char *dir,
		    unsigned int expect)
{
	char path[256];

	EXPECT_EQ((int)expect, pcm_get_vm_mode(vm_fd))
		TH_LOG("PCM_KVM_GET_VM_MODE: expected %s", pcm_mode_name(expect));
	snprintf(path, sizeof(path), "%s/mode", dir);
	EXPECT_EQ((int)expect, sysfs_read_mode(path))
		TH_LOG("%s: expected %s", path, pcm_mode_name(expect));
}

static void wait_vm_dir(struct __test_metadata *_metadata, int vm_fd, char *dir,
			size_t size)
{
	vm_dir_path(dir, size, getpid(), vm_fd, NULL);
	ASSERT_TRUE(wait_path(dir, true, PCM_VMDIR_TIMEOUT_MS))
		TH_LOG("%s did not appear within %d ms", dir, PCM_VMDIR_TIMEOUT_MS);
}

/* The x86-64-v2 features the host has, plus xsave (the XSETBV baseline). */
static void v2_plus_xsave(struct __test_metadata *_metadata, struct pcm_fs *bl)
{
	struct pcm_fs host, hw;

	ASSERT_EQ(0, sysfs_read_fs(PCM_SYSFS_HOST_FEATURES, &host));
	pcm_mode_allow(PCM_KVM_MODE_X86_64_V2, NULL, bl);
	pcm_fs_of_class(&hw, PCM_CLASS_HW);
	pcm_fs_and(bl, bl, &hw);
	pcm_fs_and(bl, bl, &host);
	pcm_fs_set(bl, PCM_F_XSAVE);
}

static void write_baseline(struct __test_metadata *_metadata, const struct pcm_fs *bl)
{
	static char buf[PCM_FS_TEXT_MAX + 1];
	size_t n = pcm_fs_format(bl, buf, sizeof(buf) - 1);
	int r;

	buf[n++] = '\n';
	buf[n] = '\0';
	r = sysfs_write(PCM_SYSFS_BASELINE, buf, n);
	ASSERT_EQ(0, r) TH_LOG("writing baseline '%s': %s", buf, strerror(-r));
}

/*
 * Mode baseline needs /sys/kernel/pcm_kvm/baseline to have been written
 * (it reads as an empty line until then): setting it fails with EINVAL.
 */
static bool baseline_is_set(void)
{
	struct pcm_fs bl;

	return !sysfs_read_fs(PCM_SYSFS_BASELINE, &bl) && !pcm_fs_empty(&bl);
}

static int mode_expect_errno(unsigned int mode)
{
	return mode == PCM_KVM_MODE_BASELINE && !baseline_is_set() ? -EINVAL : 0;
}

/* Global state a test may change: saved in setup, restored in teardown. */
/*
 * Does the guest's XSETBV exit to KVM on this machine?  Under QEMU TCG
 * (nested SVM, QEMU 7.2) it does not: QEMU checks XSETBV against its own
 * CPU model and never hands the intercept to KVM, so KVM (and pcm_kvm)
 * cannot refuse an XCR0 bit there.  Probe: in mode off, a CPUID table
 * whose 0xD.0 EAX lacks AVX state, and XSETBV(XCR0 = x87|SSE|AVX).
 * Returns 1 (#GP: KVM checked it), 0 (it succeeded) or -errno.
 */
static int xsetbv_exits_to_kvm(void)
{
	static int cached = -EAGAIN;
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 *c;
	uint64_t xcr0 = 0;
	struct vm vm;
	int r, vec;

	if (cached != -EAGAIN)
		return cached;
	c = kvm_supported_cpuid();
	if (!c)
		return -EIO;
	e = cpuid2_find(c, 0xd, 0);
	if (!e || !(e->eax & XFEATURE_MASK_YMM)) {
		free(c);
		return -ENODEV;
	}
	e->eax &= ~XFEATURE_MASK_YMM;
	e = cpuid2_find(c, 1, 0);
	if (e)
		e->ecx &= ~((1U << 28) | (1U << 12) | (1U << 29));	/* avx fma f16c */
	r = vm_create(&vm);
	if (!r)
		r = vm_add_vcpu(&vm);
	if (!r && pcm_loaded())
		r = pcm_set_vm_mode(vm.vm_fd, PCM_KVM_MODE_OFF);
	if (!r)
		r = vcpu_set_cpuid(&vm, c);
	if (!r)
		r = vcpu_update_cr4(&vm, X86_CR4_OSXSAVE, 0);
	if (!r) {
		r = guest_xsetbv(&vm, 0x7, &xcr0, &vec);
		if (r == GUEST_DONE_EXCEPTION && vec == GP_VECTOR)
			r = 1;
		else if (r == GUEST_DONE_XSETBV)
			r = 0;
		else
			r = -EIO;
	}
	vm_destroy(&vm);
	free(c);
	cached = r;
	return r;
}

static const char xsetbv_not_seen_by_kvm[] =
	"XSETBV does not exit to KVM on this machine (QEMU TCG nested SVM "
	"checks it against its own CPU): KVM cannot refuse XCR0 bits here";

/*
 * The guest's XGETBV after a good XSETBV.  Only meaningful where XSETBV
 * exits to KVM: elsewhere KVM does not know the new XCR0 and restores its
 * own copy at the next VM entry (after any interrupt), so the value read
 * back depends on timing.
 */
static void check_readback(struct __test_metadata *_metadata, uint64_t want,
			   uint64_t got)
{
	if (xsetbv_exits_to_kvm() > 0)
		EXPECT_EQ(want, got) TH_LOG("XGETBV after XSETBV(0x%llx)",
					    (unsigned long long)want);
}

/* ---------------------------------------------------------------------- */
/* kvm_runner: the VM plumbing, in mode off; no module needed              */

FIXTURE(kvm_runner) {
	struct vm vm;
	struct kvm_cpuid2 *set;
};

FIXTURE_SETUP(kvm_runner)
{
	self->vm.vm_fd = -1;
	self->vm.vcpu_fd = -1;
	REQUIRE_KVM();
	self->set = supported(_metadata);
	new_vm(_metadata, &self->vm, true);
	if (pcm_loaded())
		set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_OFF);
	set_cpuid(_metadata, &self->vm, self->set);
}

FIXTURE_TEARDOWN(kvm_runner)
{
	vm_destroy(&self->vm);
	free(self->set);
}

/* In mode off the guest sees exactly the feature words that were set. */
TEST_F(kvm_runner, cpuid_exact)
{
	struct pcm_fs dyn, req, mask;
	struct guest_view gv;
	unsigned int i, w;

	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
	fs_dynamic(&dyn);
	for (w = 0; w < PCM_KVM_NR_WORDS_USED; w++) {
		const struct pcm_word_desc *d = &pcm_words[w];
		uint32_t want = table_reg(self->set, d->leaf, d->subleaf, d->reg);
		uint32_t got = guest_reg(&gv, d->leaf, d->subleaf, d->reg);

		if (!pcm_word_is_cpuid(w) || !cpuid2_find(self->set, d->leaf, d->subleaf))
			continue;
		EXPECT_EQ(want & ~dyn.words[w], got & ~dyn.words[w])
			TH_LOG("word %s: set 0x%08x, guest saw 0x%08x", d->name, want, got);
	}
	/* The vendor string too (leaf 0 comes first): CPUID really ran. */
	ASSERT_EQ(0, gv.req[0].leaf);
	for (i = PCM_KVM_EBX; i <= PCM_KVM_EDX; i++)
		EXPECT_EQ(table_reg(self->set, 0, 0, i), gv.req[0].regs[i]);
	fs_from_cpuid2(self->set, &req);
	fs_compare_mask(&mask);
	EXPECT_EQ(0, fs_diff("guest (mode off)", &gv.fs, &req, &mask));
}

/* KVM_GET_CPUID2 returns what was set (apart from KVM's run-time bits). */
TEST_F(kvm_runner, get_cpuid_exact)
{
	struct kvm_cpuid2 *got = vcpu_get_cpuid(&self->vm);
	struct pcm_fs a, b, mask;

	ASSERT_NE(NULL, got);
	EXPECT_EQ(self->set->nent, got->nent);
	fs_from_cpuid2(self->set, &a);
	fs_from_cpuid2(got, &b);
	fs_compare_mask(&mask);
	EXPECT_EQ(0, fs_diff("KVM_GET_CPUID2 (mode off)", &b, &a, &mask));
	free(got);
}

/* The exception path: #UD without CR4.OSXSAVE, #GP for a bad XCR0. */
TEST_F(kvm_runner, xsetbv_exceptions)
{
	uint64_t xcr0 = 0;
	int vec, r;

	if (!(table_reg(self->set, 1, 0, PCM_KVM_ECX) & (1U << 26)))
		SKIP(return, "KVM does not offer xsave");

	r = guest_xsetbv(&self->vm, XFEATURE_MASK_FP | XFEATURE_MASK_SSE, &xcr0, &vec);
	ASSERT_EQ(GUEST_DONE_EXCEPTION, r);
	EXPECT_EQ(UD_VECTOR, vec);

	ASSERT_EQ(0, vcpu_update_cr4(&self->vm, X86_CR4_OSXSAVE, 0));
	/* x87 (bit 0) must always be set */
	r = guest_xsetbv(&self->vm, XFEATURE_MASK_SSE, &xcr0, &vec);
	ASSERT_EQ(GUEST_DONE_EXCEPTION, r);
	EXPECT_EQ(GP_VECTOR, vec);

	r = guest_xsetbv(&self->vm, XFEATURE_MASK_FP | XFEATURE_MASK_SSE, &xcr0, &vec);
	ASSERT_EQ(GUEST_DONE_XSETBV, r) TH_LOG("vector %d", vec);
	check_readback(_metadata, XFEATURE_MASK_FP | XFEATURE_MASK_SSE, xcr0);

	if (!(table_reg(self->set, 0xd, 0, PCM_KVM_EAX) & XFEATURE_MASK_YMM))
		SKIP(return, "KVM does not offer AVX state");
	r = guest_xsetbv(&self->vm, 0x7, &xcr0, &vec);
	ASSERT_EQ(GUEST_DONE_XSETBV, r) TH_LOG("vector %d", vec);
	check_readback(_metadata, 0x7, xcr0);
}

/* KVM_SET_XCRS checks XCR0 against the CPUID table, like an XSETBV exit. */
TEST_F(kvm_runner, set_xcrs)
{
	int r;

	if (!(table_reg(self->set, 0xd, 0, PCM_KVM_EAX) & XFEATURE_MASK_YMM))
		SKIP(return, "KVM does not offer AVX state");
	EXPECT_EQ(-EINVAL, vcpu_set_xcr0(&self->vm, XFEATURE_MASK_SSE));
	r = vcpu_set_xcr0(&self->vm, 0x7);
	EXPECT_EQ(0, r) TH_LOG("KVM_SET_XCRS(0x7): %s", strerror(-r));
	r = vcpu_set_xcr0(&self->vm, 0x3);
	EXPECT_EQ(0, r) TH_LOG("KVM_SET_XCRS(0x3): %s", strerror(-r));
}

/* Tells whether the XSETBV tests below can see KVM's XCR0 check at all. */
TEST_F(kvm_runner, xsetbv_exits_to_kvm)
{
	int r = xsetbv_exits_to_kvm();

	if (r == -ENODEV)
		SKIP(return, "KVM does not offer AVX state");
	ASSERT_LE(0, r) TH_LOG("probe failed: %s", strerror(-r));
	if (!r)
		SKIP(return, "%s", xsetbv_not_seen_by_kvm);
}

/* After KVM_RUN, KVM accepts the very same CPUID again and nothing else. */
TEST_F(kvm_runner, set_cpuid_after_run)
{
	struct kvm_cpuid2 *changed;
	struct guest_view gv;
	struct kvm_cpuid_entry2 *e;

	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
	EXPECT_EQ(0, vcpu_set_cpuid(&self->vm, self->set));

	changed = cpuid2_dup(self->set);
	ASSERT_NE(NULL, changed);
	e = cpuid2_find(changed, 1, 0);
	ASSERT_NE(NULL, e);
	e->ecx ^= 1U << 0;	/* pni */
	EXPECT_EQ(-EINVAL, vcpu_set_cpuid(&self->vm, changed));
	free(changed);
}

/* ---------------------------------------------------------------------- */
/* The /dev/pcm_kvm ioctls                                                 */

FIXTURE(ioctl) {
	struct vm vm;
	int pcm;
	char dir[256];
};

FIXTURE_SETUP(ioctl)
{
	self->vm.vm_fd = -1;
	self->vm.vcpu_fd = -1;
	REQUIRE_PCM();
	self->pcm = pcm_fd();
	new_vm(_metadata, &self->vm, true);
	/* A mode other than the usual default, so "unchanged" means something. */
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_X86_64_V3);
	wait_vm_dir(_metadata, self->vm.vm_fd, self->dir, sizeof(self->dir));
}

FIXTURE_TEARDOWN(ioctl)
{
	vm_destroy(&self->vm);
}

TEST_F(ioctl, version)
{
	struct pcm_kvm_version v;

	memset(&v, 0xa5, sizeof(v));
	v.size = sizeof(v);
	ASSERT_EQ(0, ioctl(self->pcm, PCM_KVM_GET_VERSION, &v));
	EXPECT_EQ(sizeof(v), v.size);
	EXPECT_EQ(PCM_KVM_ABI_VERSION, v.abi_version);
	EXPECT_EQ(PCM_KVM_NR_WORDS_USED, v.nwords);
	EXPECT_EQ(0, v.reserved);
	EXPECT_NE(NULL, memchr(v.module_version, '\0', sizeof(v.module_version)));
	EXPECT_NE('\0', v.module_version[0]);
	TH_LOG("module version '%.32s'", v.module_version);
}

TEST_F(ioctl, host_features)
{
	struct pcm_kvm_host_features h;
	struct pcm_fs sys, known;
	unsigned int w;

	memset(&h, 0xa5, sizeof(h));
	h.size = sizeof(h);
	h.flags = 0;
	ASSERT_EQ(0, ioctl(self->pcm, PCM_KVM_GET_HOST_FEATURES, &h));
	for (w = PCM_KVM_NR_WORDS_USED; w < PCM_KVM_NWORDS; w++)
		EXPECT_EQ(0, h.features.words[w]) TH_LOG("word %u", w);
	pcm_fs_known(&known);
	ASSERT_EQ(0, sysfs_read_fs(PCM_SYSFS_HOST_FEATURES, &sys));
	EXPECT_EQ(0, fs_diff("GET_HOST_FEATURES vs sysfs host_features",
			     &h.features, &sys, &known));
	EXPECT_TRUE(fs_has(&h.features, "fpu"));
}

/* Every struct: size != sizeof -> EINVAL, and SET changes nothing. */
TEST_F(ioctl, bad_size)
{
	static const int deltas[] = { -1, 1, -4, 4 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(deltas) + 1; i++) {
		union {
			struct pcm_kvm_version v;
			struct pcm_kvm_host_features h;
			struct pcm_kvm_vm_mode m;
			struct pcm_kvm_vm_features f;
		} u;
		int d = i < 4 ? deltas[i] : 0;
		bool zero = i == 4;

#define BAD_SIZE(cmd, field, type) do {					\
		memset(&u, 0, sizeof(u));				\
		u.field.size = zero ? 0 : sizeof(type) + d;		\
		errno = 0;						\
		EXPECT_EQ(-1, ioctl(self->pcm, cmd, &u.field))		\
			TH_LOG(#cmd " size %u accepted", u.field.size);	\
		EXPECT_EQ(EINVAL, errno) TH_LOG(#cmd " size %u: %s",	\
						u.field.size, strerror(errno)); \
	} while (0)

		BAD_SIZE(PCM_KVM_GET_VERSION, v, struct pcm_kvm_version);
		BAD_SIZE(PCM_KVM_GET_HOST_FEATURES, h, struct pcm_kvm_host_features);
		memset(&u, 0, sizeof(u));
		u.m.vm_fd = self->vm.vm_fd;
		u.m.mode = PCM_KVM_MODE_X86_64_V2;
		u.m.size = zero ? 0 : sizeof(u.m) + d;
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->pcm, PCM_KVM_SET_VM_MODE, &u.m));
		EXPECT_EQ(EINVAL, errno);
		memset(&u, 0, sizeof(u));
		u.m.vm_fd = self->vm.vm_fd;
		u.m.size = zero ? 0 : sizeof(u.m) + d;
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->pcm, PCM_KVM_GET_VM_MODE, &u.m));
		EXPECT_EQ(EINVAL, errno);
		memset(&u, 0, sizeof(u));
		u.f.vm_fd = self->vm.vm_fd;
		u.f.size = zero ? 0 : sizeof(u.f) + d;
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->pcm, PCM_KVM_GET_VM_FEATURES, &u.f));
		EXPECT_EQ(EINVAL, errno);
#undef BAD_SIZE
	}
	mode_of(_metadata, self->vm.vm_fd, self->dir, PCM_KVM_MODE_X86_64_V3);
}

/* flags != 0 -> EINVAL, and SET changes nothing. */
TEST_F(ioctl, bad_flags)
{
	static const uint32_t flags[] = { 1, 2, 0x80000000u, ~0u };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		struct pcm_kvm_host_features h = { .size = sizeof(h), .flags = flags[i] };
		struct pcm_kvm_vm_mode m = { .size = sizeof(m), .vm_fd = self->vm.vm_fd,
					     .mode = PCM_KVM_MODE_X86_64_V2,
					     .flags = flags[i] };
		struct pcm_kvm_vm_features f = { .size = sizeof(f),
						 .vm_fd = self->vm.vm_fd,
						 .flags = flags[i] };

		errno = 0;
		EXPECT_EQ(-1, ioctl(self->pcm, PCM_KVM_GET_HOST_FEATURES, &h));
		EXPECT_EQ(EINVAL, errno) TH_LOG("GET_HOST_FEATURES flags 0x%x", flags[i]);
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->pcm, PCM_KVM_SET_VM_MODE, &m));
		EXPECT_EQ(EINVAL, errno) TH_LOG("SET_VM_MODE flags 0x%x", flags[i]);
		m.mode = 0;
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->pcm, PCM_KVM_GET_VM_MODE, &m));
		EXPECT_EQ(EINVAL, errno) TH_LOG("GET_VM_MODE flags 0x%x", flags[i]);
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->pcm, PCM_KVM_GET_VM_FEATURES, &f));
		EXPECT_EQ(EINVAL, errno) TH_LOG("GET_VM_FEATURES flags 0x%x", flags[i]);
	}
	mode_of(_metadata, self->vm.vm_fd, self->dir, PCM_KVM_MODE_X86_64_V3);
}

/* vm_fd that is no fd: EBADF; an fd that is not a KVM VM: EINVAL. */
TEST_F(ioctl, bad_vm_fd)
{
	int closed, devnull, pipefd[2], i;
	struct {
		int fd;
		int err;
		const char *what;
	} cases[8];
	int n = 0;

	devnull = open("/dev/null", O_RDONLY);
	ASSERT_LE(0, devnull);
	ASSERT_EQ(0, pipe(pipefd));
	/* Last, so that no later open() takes its number. */
	closed = open("/dev/null", O_RDONLY);
	ASSERT_LE(0, closed);
	close(closed);

	cases[n++] = (typeof(cases[0])){ -1, EBADF, "-1" };
	cases[n++] = (typeof(cases[0])){ closed, EBADF, "a closed fd" };
	cases[n++] = (typeof(cases[0])){ 1 << 20, EBADF, "fd 1<<20" };
	cases[n++] = (typeof(cases[0])){ devnull, EINVAL, "/dev/null" };
	cases[n++] = (typeof(cases[0])){ pipefd[0], EINVAL, "a pipe" };
	cases[n++] = (typeof(cases[0])){ kvm_fd(), EINVAL, "/dev/kvm" };
	cases[n++] = (typeof(cases[0])){ self->vm.vcpu_fd, EINVAL, "a vCPU fd" };
	cases[n++] = (typeof(cases[0])){ self->pcm, EINVAL, "/dev/pcm_kvm" };

	for (i = 0; i < n; i++) {
		struct pcm_kvm_vm_features f;
		int r;

		r = pcm_set_vm_mode(cases[i].fd, PCM_KVM_MODE_X86_64_V2);
		EXPECT_EQ(-cases[i].err, r)
			TH_LOG("SET_VM_MODE on %s: %s", cases[i].what, strerror(-r));
		r = pcm_get_vm_mode(cases[i].fd);
		EXPECT_EQ(-cases[i].err, r)
			TH_LOG("GET_VM_MODE on %s: %d", cases[i].what, r);
		r = pcm_get_vm_features(cases[i].fd, &f);
		EXPECT_EQ(-cases[i].err, r)
			TH_LOG("GET_VM_FEATURES on %s: %s", cases[i].what, strerror(-r));
	}
	close(devnull);
	close(pipefd[0]);
	close(pipefd[1]);
	mode_of(_metadata, self->vm.vm_fd, self->dir, PCM_KVM_MODE_X86_64_V3);
}

TEST_F(ioctl, bad_mode)
{
	static const uint32_t modes[] = { PCM_KVM_NR_MODES, PCM_KVM_NR_MODES + 1,
					  0x80000000u, ~0u };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		EXPECT_EQ(-EINVAL, pcm_set_vm_mode(self->vm.vm_fd, modes[i]))
			TH_LOG("mode %u", modes[i]);
	mode_of(_metadata, self->vm.vm_fd, self->dir, PCM_KVM_MODE_X86_64_V3);
}

TEST_F(ioctl, set_get_mode)
{
	unsigned int mode, now = PCM_KVM_MODE_X86_64_V3;
	int r;

	for (mode = 0; mode < PCM_KVM_NR_MODES; mode++) {
		r = pcm_set_vm_mode(self->vm.vm_fd, mode);
		EXPECT_EQ(mode_expect_errno(mode), r)
			TH_LOG("SET_VM_MODE(%s): %s", pcm_mode_name(mode), strerror(-r));
		if (!r)
			now = mode;
		mode_of(_metadata, self->vm.vm_fd, self->dir, now);
	}
}

TEST_F(ioctl, unknown_cmd)
{
	char buf[256] = { 0 };

	*(uint32_t *)buf = 16;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->pcm, _IOWR(PCM_KVM_IOC_MAGIC, 0x7f, char[16]), buf));
	EXPECT_TRUE(errno == ENOTTY || errno == EINVAL) TH_LOG("errno %d", errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->pcm, _IO('k', 1), 0));
	EXPECT_TRUE(errno == ENOTTY || errno == EINVAL) TH_LOG("errno %d", errno);
	mode_of(_metadata, self->vm.vm_fd, self->dir, PCM_KVM_MODE_X86_64_V3);
}

/* ---------------------------------------------------------------------- */
/* Global sysfs files                                                      */

TEST(sysfs_modes)
{
	char buf[256];

	REQUIRE_PCM();
	ASSERT_LT(0, sysfs_read(PCM_SYSFS_MODES, buf, sizeof(buf)));
	EXPECT_STREQ("off min x86-64-v2 x86-64-v3 x86-64-v4 baseline\n", buf);
	/* read-only */
	EXPECT_NE(0, sysfs_write_str(PCM_SYSFS_MODES, "off\n"));
}

/* One line of names, in table order, each known. */
TEST(sysfs_host_features)
{
	static char buf[PCM_FS_TEXT_MAX + 64], again[PCM_FS_TEXT_MAX + 64];
	struct pcm_fs fs, hw;
	ssize_t n;

	REQUIRE_PCM();
	n = sysfs_read(PCM_SYSFS_HOST_FEATURES, buf, sizeof(buf));
	ASSERT_LT(0, n);
	EXPECT_EQ('\n', buf[n - 1]);
	EXPECT_EQ(NULL, memchr(buf, '\n', n - 1)) TH_LOG("more than one line");
	ASSERT_EQ(0, pcm_fs_parse(buf, n, &fs, NULL, NULL));
	pcm_fs_format(&fs, again, sizeof(again));
	buf[n - 1] = '\0';
	EXPECT_STREQ(again, buf) TH_LOG("not in table order / not single-spaced");
	pcm_fs_of_class(&hw, PCM_CLASS_HW);
	pcm_fs_and(&hw, &hw, &fs);
	EXPECT_FALSE(pcm_fs_empty(&hw));
	EXPECT_NE(0, sysfs_write_str(PCM_SYSFS_HOST_FEATURES, "fpu\n"));
}

/* host_features never claims a feature KVM_GET_SUPPORTED_CPUID lacks. */
TEST(host_features_within_kvm)
{
	struct kvm_cpuid2 *sup;
	struct pcm_fs host, kvm, checked, extra, none;
	uint64_t arch_cap = 0;

	REQUIRE_PCM();
	sup = supported(_metadata);
	fs_from_cpuid2(sup, &kvm);
	free(sup);
	/* and KVM_GET_MSRS of /dev/kvm for the feature MSRs */
	ASSERT_EQ(0, kvm_get_feature_msr(PCM_MSR_ARCH_CAPABILITIES, &arch_cap));
	pcm_fs_put_arch_cap(&kvm, arch_cap);
	ASSERT_EQ(0, sysfs_read_fs(PCM_SYSFS_HOST_FEATURES, &host));
	pcm_fs_checked(&checked);
	pcm_fs_and(&host, &host, &checked);
	pcm_fs_andnot(&extra, &host, &kvm);
	pcm_fs_zero(&none);
	EXPECT_EQ(0, fs_diff("host_features beyond what /dev/kvm offers", &extra, &none,
			     &checked));
}

/* default_mode: bad writes fail and change nothing; good ones read back. */
FIXTURE(default_mode) {
	struct saved_state saved;
	struct vm vm;
};

FIXTURE_SETUP(default_mode)
{
	self->vm.vm_fd = -1;
	self->vm.vcpu_fd = -1;
	REQUIRE_PCM();
	save_state(&self->saved);
	ASSERT_TRUE(self->saved.have_default_mode);
}

FIXTURE_TEARDOWN(default_mode)
{
	vm_destroy(&self->vm);
	restore_state(_metadata, &self->saved);
}

TEST_F(default_mode, read_write)
{
	unsigned int mode;
	int r, now;
	char buf[64];

	for (mode = 0; mode < PCM_KVM_NR_MODES; mode++) {
		now = sysfs_read_mode(PCM_PARAM_DEFAULT_MODE);
		snprintf(buf, sizeof(buf), "%s\n", pcm_mode_name(mode));
		r = sysfs_write_str(PCM_PARAM_DEFAULT_MODE, buf);
		EXPECT_EQ(mode_expect_errno(mode), r)
			TH_LOG("default_mode <- %s: %s", pcm_mode_name(mode), strerror(-r));
		EXPECT_EQ(r ? now : (int)mode, sysfs_read_mode(PCM_PARAM_DEFAULT_MODE));
	}
}

TEST_F(default_mode, bad_writes)
{
	static char junk[256], longstr[5000];
	static const char *const bad[] = {
		"x86-64-v5\n", "offf", "of", "v2", "x86-64-v2 x86-64-v3", "\n", " ",
		"baseline\nmin",
	};
	unsigned int i;
	int r;

	ASSERT_EQ(0, sysfs_write_str(PCM_PARAM_DEFAULT_MODE, "x86-64-v3"));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		r = sysfs_write_str(PCM_PARAM_DEFAULT_MODE, bad[i]);
		EXPECT_NE(0, r) TH_LOG("default_mode accepted '%s'", bad[i]);
		EXPECT_EQ(PCM_KVM_MODE_X86_64_V3, sysfs_read_mode(PCM_PARAM_DEFAULT_MODE));
	}
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = i;
	EXPECT_NE(0, sysfs_write(PCM_PARAM_DEFAULT_MODE, junk, sizeof(junk)));
	EXPECT_EQ(PCM_KVM_MODE_X86_64_V3, sysfs_read_mode(PCM_PARAM_DEFAULT_MODE));
	memset(longstr, 'x', sizeof(longstr));
	EXPECT_NE(0, sysfs_write(PCM_PARAM_DEFAULT_MODE, longstr, sizeof(longstr)));
	EXPECT_EQ(PCM_KVM_MODE_X86_64_V3, sysfs_read_mode(PCM_PARAM_DEFAULT_MODE));
	/*
	 * sysfs hands a store only the first PAGE_SIZE bytes of a longer
	 * write; a valid name there must not make the overlong write count.
	 */
	memset(longstr, ' ', sizeof(longstr));
	memcpy(longstr, "min", 3);
	EXPECT_NE(0, sysfs_write(PCM_PARAM_DEFAULT_MODE, longstr, sizeof(longstr)));
	EXPECT_EQ(PCM_KVM_MODE_X86_64_V3, sysfs_read_mode(PCM_PARAM_DEFAULT_MODE))
		TH_LOG("a 5000-byte write 'min   ...' changed default_mode");
}

/* VMs created after a default_mode write start in that mode; older ones keep theirs. */
TEST_F(default_mode, applies_to_new_vms)
{
	struct vm old;
	char dir[256], odir[256];
	int r;

	ASSERT_EQ(0, sysfs_write_str(PCM_PARAM_DEFAULT_MODE, "off\n"));
	new_vm(_metadata, &old, false);
	ASSERT_EQ(0, sysfs_write_str(PCM_PARAM_DEFAULT_MODE, "x86-64-v2\n"));
	new_vm(_metadata, &self->vm, false);
	wait_vm_dir(_metadata, old.vm_fd, odir, sizeof(odir));
	wait_vm_dir(_metadata, self->vm.vm_fd, dir, sizeof(dir));
	r = pcm_get_vm_mode(old.vm_fd);
	vm_destroy(&old);
	EXPECT_EQ(PCM_KVM_MODE_OFF, r);
	mode_of(_metadata, self->vm.vm_fd, dir, PCM_KVM_MODE_X86_64_V2);
}

/* baseline: read/write, and bad writes change nothing. */
FIXTURE(baseline) {
	struct saved_state saved;
	struct pcm_fs host;
};

FIXTURE_SETUP(baseline)
{
	REQUIRE_PCM();
	save_state(&self->saved);
	ASSERT_TRUE(self->saved.have_baseline);
	ASSERT_EQ(0, sysfs_read_fs(PCM_SYSFS_HOST_FEATURES, &self->host));
}

FIXTURE_TEARDOWN(baseline)
{
	restore_state(_metadata, &self->saved);
}

TEST_F(baseline, read_write)
{
	static char buf[PCM_FS_TEXT_MAX + 1], want[PCM_FS_TEXT_MAX + 1];
	struct pcm_fs bl, got, known;

	v2_plus_xsave(_metadata, &bl);
	pcm_fs_and(&bl, &bl, &self->host);	/* the host may lack xsave */
	write_baseline(_metadata, &bl);
	ASSERT_LT(0, sysfs_read(PCM_SYSFS_BASELINE, buf, sizeof(buf)));
	pcm_fs_format(&bl, want, sizeof(want) - 1);
	strcat(want, "\n");
	EXPECT_STREQ(want, buf);

	/* Any order, commas and aliases are fine; it reads back in table order. */
	if (fs_has(&self->host, "sse2") && fs_has(&self->host, "pni") &&
	    fs_has(&self->host, "fpu")) {
		ASSERT_EQ(0, sysfs_write_str(PCM_SYSFS_BASELINE, "sse3 sse2 fpu\n"));
		ASSERT_EQ(0, sysfs_read_fs(PCM_SYSFS_BASELINE, &got));
		pcm_fs_zero(&bl);
		pcm_fs_set(&bl, feature_id("fpu"));
		pcm_fs_set(&bl, feature_id("sse2"));
		pcm_fs_set(&bl, feature_id("pni"));
		pcm_fs_known(&known);
		EXPECT_EQ(0, fs_diff("baseline read back", &got, &bl, &known));
	}
}

TEST_F(baseline, bad_writes)
{
	static char junk[256], longstr[5000], before[PCM_FS_TEXT_MAX + 1],
		after[PCM_FS_TEXT_MAX + 1], unhosted[64];
	static const char *const bad[] = {
		"fpu notafeature\n", "notafeature", "fpu,,sse2 x86-64-v2", "sse4.3",
		"fpu\001", "xsave avx avx2 avx512f avx512_bogus\n",
	};
	struct pcm_fs bl, hw, missing;
	unsigned int i, id;
	int r;

	/* A known, non-empty starting point. */
	v2_plus_xsave(_metadata, &bl);
	pcm_fs_and(&bl, &bl, &self->host);
	write_baseline(_metadata, &bl);
	ASSERT_LT(0, sysfs_read(PCM_SYSFS_BASELINE, before, sizeof(before)));

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		r = sysfs_write_str(PCM_SYSFS_BASELINE, bad[i]);
		EXPECT_EQ(-EINVAL, r) TH_LOG("baseline '%s': %s", bad[i], strerror(-r));
		ASSERT_LT(0, sysfs_read(PCM_SYSFS_BASELINE, after, sizeof(after)));
		EXPECT_STREQ(before, after);
	}
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = i;
	EXPECT_NE(0, sysfs_write(PCM_SYSFS_BASELINE, junk, sizeof(junk)));
	ASSERT_LT(0, sysfs_read(PCM_SYSFS_BASELINE, after, sizeof(after)));
	EXPECT_STREQ(before, after);
	memset(longstr, 'x', sizeof(longstr));
	EXPECT_NE(0, sysfs_write(PCM_SYSFS_BASELINE, longstr, sizeof(longstr)));
	ASSERT_LT(0, sysfs_read(PCM_SYSFS_BASELINE, after, sizeof(after)));
	EXPECT_STREQ(before, after);
	/*
	 * sysfs hands a store only the first PAGE_SIZE bytes of a longer
	 * write: a list cut there must not be taken as the whole list.
	 */
	for (i = 0; i < sizeof(longstr); i++)
		longstr[i] = "fpu "[i % 4];
	EXPECT_NE(0, sysfs_write(PCM_SYSFS_BASELINE, longstr, sizeof(longstr)));
	ASSERT_LT(0, sysfs_read(PCM_SYSFS_BASELINE, after, sizeof(after)));
	EXPECT_STREQ(before, after) TH_LOG("a 5000-byte write 'fpu fpu ...' was taken");
	/* Start again from the known baseline whatever happened. */
	write_baseline(_metadata, &bl);
	ASSERT_LT(0, sysfs_read(PCM_SYSFS_BASELINE, before, sizeof(before)));

	/* A hardware feature the host cannot provide. */
	pcm_fs_of_class(&hw, PCM_CLASS_HW);
	pcm_fs_andnot(&missing, &hw, &self->host);
	for (id = 0; id < PCM_NR_FEATURES; id++)
		if (pcm_fs_test(&missing, id))
			break;
	if (id == PCM_NR_FEATURES)
		SKIP(return, "the host has every hardware feature of the table");
	snprintf(unhosted, sizeof(unhosted), "fpu %s\n", pcm_features[id].name);
	r = sysfs_write_str(PCM_SYSFS_BASELINE, unhosted);
	EXPECT_EQ(-EINVAL, r) TH_LOG("baseline '%s' (host lacks it): %s", unhosted,
				     strerror(-r));
	ASSERT_LT(0, sysfs_read(PCM_SYSFS_BASELINE, after, sizeof(after)));
	EXPECT_STREQ(before, after);
}

/* ---------------------------------------------------------------------- */
/* vms/<pid>-<fd>/                                                         */

FIXTURE(vmdir) {
	struct vm vm;
	char dir[256];
};

FIXTURE_SETUP(vmdir)
{
	self->vm.vm_fd = -1;
	self->vm.vcpu_fd = -1;
	REQUIRE_PCM();
}

FIXTURE_TEARDOWN(vmdir)
{
	vm_destroy(&self->vm);
}

TEST_F(vmdir, appears_and_goes)
{
	static const char *const files[] = { "mode", "visible", "hidden", "requested" };
	char path[300], buf[PCM_FS_TEXT_MAX];
	unsigned int i;

	new_vm(_metadata, &self->vm, false);
	wait_vm_dir(_metadata, self->vm.vm_fd, self->dir, sizeof(self->dir));
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", self->dir, files[i]);
		EXPECT_LE(0, sysfs_read(path, buf, sizeof(buf))) TH_LOG("%s", path);
	}
	for (i = 1; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", self->dir, files[i]);
		EXPECT_NE(0, sysfs_write_str(path, "fpu\n")) TH_LOG("%s writable", path);
	}
	vm_destroy(&self->vm);
	EXPECT_TRUE(wait_path(self->dir, false, PCM_VMDIR_TIMEOUT_MS))
		TH_LOG("%s still there after the VM was destroyed", self->dir);
}

/*
 * No waiting: the creating thread makes the directory on its way back from
 * KVM_CREATE_VM, so a VMM can write the mode as soon as it has the fd.
 */
TEST_F(vmdir, there_when_create_returns)
{
	int kvm = kvm_fd(), i;

	ASSERT_LE(0, kvm);
	for (i = 0; i < 20; i++) {
		self->vm.vm_fd = ioctl(kvm, KVM_CREATE_VM, 0);
		ASSERT_LE(0, self->vm.vm_fd) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));
		vm_dir_path(self->dir, sizeof(self->dir), getpid(), self->vm.vm_fd, NULL);
		EXPECT_EQ(0, access(self->dir, F_OK))
			TH_LOG("%s missing as KVM_CREATE_VM returned", self->dir);
		close(self->vm.vm_fd);
		self->vm.vm_fd = -1;
	}
}

TEST_F(vmdir, mode_write)
{
	char path[300], buf[64];
	unsigned int mode;

	new_vm(_metadata, &self->vm, true);
	wait_vm_dir(_metadata, self->vm.vm_fd, self->dir, sizeof(self->dir));
	snprintf(path, sizeof(path), "%s/mode", self->dir);
	for (mode = 0; mode < PCM_KVM_NR_MODES; mode++) {
		unsigned int now = pcm_get_vm_mode(self->vm.vm_fd);
		int err = mode_expect_errno(mode), r;

		/* as `echo NAME > mode` does */
		snprintf(buf, sizeof(buf), "%s\n", pcm_mode_name(mode));
		r = sysfs_write_str(path, buf);
		EXPECT_EQ(err, r) TH_LOG("mode <- %s: %s", pcm_mode_name(mode), strerror(-r));
		mode_of(_metadata, self->vm.vm_fd, self->dir, err ? now : mode);
		/* and without the newline */
		EXPECT_EQ(err, sysfs_write_str(path, pcm_mode_name(mode)));
		mode_of(_metadata, self->vm.vm_fd, self->dir, err ? now : mode);
	}
}

TEST_F(vmdir, mode_bad_writes)
{
	static char junk[256], longstr[5000];
	static const char *const bad[] = {
		"x86-64-v5\n", "offf", "\n", "", " ", "x86-64-v2 off", "x86_64_v2x",
		"min\nmin\n",
	};
	char path[300];
	unsigned int i;
	int r;

	new_vm(_metadata, &self->vm, true);
	wait_vm_dir(_metadata, self->vm.vm_fd, self->dir, sizeof(self->dir));
	snprintf(path, sizeof(path), "%s/mode", self->dir);
	ASSERT_EQ(0, sysfs_write_str(path, "x86-64-v3\n"));

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (!bad[i][0])
			continue;	/* write(2) of 0 bytes never reaches sysfs */
		r = sysfs_write_str(path, bad[i]);
		EXPECT_NE(0, r) TH_LOG("mode accepted '%s'", bad[i]);
		mode_of(_metadata, self->vm.vm_fd, self->dir, PCM_KVM_MODE_X86_64_V3);
	}
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = i;
	EXPECT_NE(0, sysfs_write(path, junk, sizeof(junk)));
	mode_of(_metadata, self->vm.vm_fd, self->dir, PCM_KVM_MODE_X86_64_V3);
	memset(longstr, 'x', sizeof(longstr));
	EXPECT_NE(0, sysfs_write(path, longstr, sizeof(longstr)));
	mode_of(_metadata, self->vm.vm_fd, self->dir, PCM_KVM_MODE_X86_64_V3);
	/*
	 * sysfs hands a store only the first PAGE_SIZE bytes of a longer
	 * write; a valid name there must not make the overlong write count.
	 */
	memset(longstr, ' ', sizeof(longstr));
	memcpy(longstr, "min", 3);
	EXPECT_NE(0, sysfs_write(path, longstr, sizeof(longstr)));
	EXPECT_EQ(PCM_KVM_MODE_X86_64_V3, pcm_get_vm_mode(self->vm.vm_fd))
		TH_LOG("a 5000-byte write 'min   ...' changed the mode");
}

/*
 * The fd number of a VM whose fd was closed (a vCPU keeps it alive) is
 * reused by the next VM: the new one gets <pid>-<fd>, the old one is
 * renamed <pid>-<fd>-<serial>; both live until their VM ends.
 */
TEST_F(vmdir, fd_reuse_renames_old)
{
	char odir[256], renamed[128], path[400];
	struct vm old;
	int old_fd, r;
	pid_t pid = getpid();

	new_vm(_metadata, &old, true);
	old_fd = old.vm_fd;
	set_mode(_metadata, old_fd, PCM_KVM_MODE_X86_64_V3);
	wait_vm_dir(_metadata, old_fd, odir, sizeof(odir));
	vm_close_vm_fd(&old);

	new_vm(_metadata, &self->vm, false);
	if (self->vm.vm_fd != old_fd) {
		vm_destroy(&old);
		SKIP(return, "fd %d was not reused (got %d)", old_fd, self->vm.vm_fd);
	}
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_X86_64_V2);

	/* Poll: both creation and rename happen from a workqueue. */
	snprintf(path, sizeof(path), "%s/mode", odir);
	for (r = 0; r < PCM_VMDIR_TIMEOUT_MS / 10; r++) {
		if (find_renamed_vm_dir(pid, old_fd, renamed, sizeof(renamed)) &&
		    sysfs_read_mode(path) == PCM_KVM_MODE_X86_64_V2)
			break;
		usleep(10000);
	}
	EXPECT_TRUE(find_renamed_vm_dir(pid, old_fd, renamed, sizeof(renamed)))
		TH_LOG("no %d-%d-<serial> for the older VM", pid, old_fd);
	mode_of(_metadata, self->vm.vm_fd, odir, PCM_KVM_MODE_X86_64_V2);
	snprintf(path, sizeof(path), "%s/%s/mode", PCM_SYSFS_VMS, renamed);
	EXPECT_EQ(PCM_KVM_MODE_X86_64_V3, sysfs_read_mode(path)) TH_LOG("%s", path);

	/* The old VM ends: only its renamed directory goes. */
	vm_destroy(&old);
	snprintf(path, sizeof(path), "%s/%s", PCM_SYSFS_VMS, renamed);
	EXPECT_TRUE(wait_path(path, false, PCM_VMDIR_TIMEOUT_MS)) TH_LOG("%s stays", path);
	EXPECT_TRUE(wait_path(odir, true, 0));
	mode_of(_metadata, self->vm.vm_fd, odir, PCM_KVM_MODE_X86_64_V2);

	vm_destroy(&self->vm);
	EXPECT_TRUE(wait_path(odir, false, PCM_VMDIR_TIMEOUT_MS)) TH_LOG("%s stays", odir);
}

/* 100 VMs at once: each gets its directory, and all go when closed. */
TEST_F_TIMEOUT(vmdir, hundred_vms, PCM_TEST_TIMEOUT_LONG)
{
	enum { NR = 100 };
	int fds[NR], i, n;
	char dir[256];

	for (i = 0; i < NR; i++) {
		fds[i] = ioctl(kvm_fd(), KVM_CREATE_VM, 0);
		ASSERT_LE(0, fds[i]) TH_LOG("KVM_CREATE_VM #%d: %s", i, strerror(errno));
	}
	for (i = 0; i < NR; i++) {
		vm_dir_path(dir, sizeof(dir), getpid(), fds[i], NULL);
		EXPECT_TRUE(wait_path(dir, true, PCM_VMDIR_TIMEOUT_MS)) TH_LOG("%s", dir);
	}
	EXPECT_EQ(NR, count_vm_dirs(getpid()));
	for (i = 0; i < NR; i++)
		close(fds[i]);
	n = wait_vm_dirs_gone(getpid(), PCM_VMDIR_TIMEOUT_MS);
	EXPECT_EQ(0, n) TH_LOG("%d directories left %d ms after closing", n,
			       PCM_VMDIR_TIMEOUT_MS);
}

/* 100 create/close cycles on the same fd number, as fast as possible. */
TEST_F_TIMEOUT(vmdir, churn, PCM_TEST_TIMEOUT_LONG)
{
	int i, fd, n;

	for (i = 0; i < 100; i++) {
		fd = ioctl(kvm_fd(), KVM_CREATE_VM, 0);
		ASSERT_LE(0, fd) TH_LOG("KVM_CREATE_VM #%d: %s", i, strerror(errno));
		if (i % 3 == 0)
			pcm_set_vm_mode(fd, PCM_KVM_MODE_MIN);
		close(fd);
	}
	n = wait_vm_dirs_gone(getpid(), PCM_VMDIR_TIMEOUT_MS);
	EXPECT_EQ(0, n) TH_LOG("%d directories left %d ms after closing", n,
			       PCM_VMDIR_TIMEOUT_MS);
}

/* ---------------------------------------------------------------------- */
/* Enforcement: what the guest sees in each mode, set at each point        */

enum when {
	BEFORE_SET_CPUID,	/* PCM_KVM_SET_VM_MODE right after KVM_CREATE_VM */
	AFTER_SET_CPUID,	/* after KVM_SET_CPUID2, before the first KVM_RUN */
	BY_DEFAULT_MODE,	/* default_mode written before KVM_CREATE_VM */
};

FIXTURE(enforce) {
	struct saved_state saved;
	struct vm vm;
	struct kvm_cpuid2 *set;
	struct pcm_fs requested, baseline, expected;
	char dir[256];
};

FIXTURE_VARIANT(enforce) {
	unsigned int mode;
	enum when when;
	/*
	 * The VMM's table is not dependency-closed: xsave is cleared but avx
	 * and the rest are left.  Modes other than off must hide everything
	 * that needs xsave however the mode was set; off shows it as set.
	 */
	bool unclosed;
};

#define ENFORCE_VARIANT(name, m, w) \
	FIXTURE_VARIANT_ADD(enforce, name) { .mode = m, .when = w }
#define UNCLOSED_VARIANT(name, m, w) \
	FIXTURE_VARIANT_ADD(enforce, name) { .mode = m, .when = w, .unclosed = true }

ENFORCE_VARIANT(off_before, PCM_KVM_MODE_OFF, BEFORE_SET_CPUID);
ENFORCE_VARIANT(min_before, PCM_KVM_MODE_MIN, BEFORE_SET_CPUID);
ENFORCE_VARIANT(v2_before, PCM_KVM_MODE_X86_64_V2, BEFORE_SET_CPUID);
ENFORCE_VARIANT(v3_before, PCM_KVM_MODE_X86_64_V3, BEFORE_SET_CPUID);
ENFORCE_VARIANT(v4_before, PCM_KVM_MODE_X86_64_V4, BEFORE_SET_CPUID);
ENFORCE_VARIANT(baseline_before, PCM_KVM_MODE_BASELINE, BEFORE_SET_CPUID);
ENFORCE_VARIANT(off_after, PCM_KVM_MODE_OFF, AFTER_SET_CPUID);
ENFORCE_VARIANT(min_after, PCM_KVM_MODE_MIN, AFTER_SET_CPUID);
ENFORCE_VARIANT(v2_after, PCM_KVM_MODE_X86_64_V2, AFTER_SET_CPUID);
ENFORCE_VARIANT(v3_after, PCM_KVM_MODE_X86_64_V3, AFTER_SET_CPUID);
ENFORCE_VARIANT(v4_after, PCM_KVM_MODE_X86_64_V4, AFTER_SET_CPUID);
ENFORCE_VARIANT(baseline_after, PCM_KVM_MODE_BASELINE, AFTER_SET_CPUID);
ENFORCE_VARIANT(off_default, PCM_KVM_MODE_OFF, BY_DEFAULT_MODE);
ENFORCE_VARIANT(min_default, PCM_KVM_MODE_MIN, BY_DEFAULT_MODE);
ENFORCE_VARIANT(v2_default, PCM_KVM_MODE_X86_64_V2, BY_DEFAULT_MODE);
ENFORCE_VARIANT(v3_default, PCM_KVM_MODE_X86_64_V3, BY_DEFAULT_MODE);
ENFORCE_VARIANT(v4_default, PCM_KVM_MODE_X86_64_V4, BY_DEFAULT_MODE);
ENFORCE_VARIANT(baseline_default, PCM_KVM_MODE_BASELINE, BY_DEFAULT_MODE);
UNCLOSED_VARIANT(off_unclosed_before, PCM_KVM_MODE_OFF, BEFORE_SET_CPUID);
UNCLOSED_VARIANT(v3_unclosed_before, PCM_KVM_MODE_X86_64_V3, BEFORE_SET_CPUID);
UNCLOSED_VARIANT(v3_unclosed_after, PCM_KVM_MODE_X86_64_V3, AFTER_SET_CPUID);
UNCLOSED_VARIANT(v3_unclosed_default, PCM_KVM_MODE_X86_64_V3, BY_DEFAULT_MODE);

FIXTURE_SETUP(enforce)
{
	self->vm.vm_fd = -1;
	self->vm.vcpu_fd = -1;
	REQUIRE_PCM();
	save_state(&self->saved);
	self->set = supported(_metadata);
	if (variant->unclosed) {
		struct kvm_cpuid_entry2 *e = cpuid2_find(self->set, 1, 0);

		ASSERT_NE(NULL, e);
		if (!(e->ecx & (1U << 28)))
			SKIP(return, "KVM does not offer avx");
		e->ecx &= ~(1U << 26);	/* xsave */
	}
	fs_from_cpuid2(self->set, &self->requested);
}

FIXTURE_TEARDOWN(enforce)
{
	vm_destroy(&self->vm);
	free(self->set);
	restore_state(_metadata, &self->saved);
}

/*
 * A VM with one vCPU and CPUID set, whose mode comes as `when` says:
 * default_mode written around KVM_CREATE_VM (then put back to
 * saved_default), or set before KVM_SET_CPUID2.  For AFTER_SET_CPUID the
 * caller does what it needs, then mode_vm_after().
 */
static void mode_vm_create(struct __test_metadata *_metadata, struct vm *vm,
			   unsigned int mode, enum when when, const char *saved_default,
			   const struct kvm_cpuid2 *set)
{
	char buf[64];

	if (when == BY_DEFAULT_MODE) {
		snprintf(buf, sizeof(buf), "%s\n", pcm_mode_name(mode));
		ASSERT_EQ(0, sysfs_write_str(PCM_PARAM_DEFAULT_MODE, buf));
	}
	new_vm(_metadata, vm, true);
	if (when == BY_DEFAULT_MODE)
		ASSERT_EQ(0, sysfs_write_str(PCM_PARAM_DEFAULT_MODE, saved_default));
	if (when == BEFORE_SET_CPUID)
		set_mode(_metadata, vm->vm_fd, mode);
	set_cpuid(_metadata, vm, set);
}

static void mode_vm_after(struct __test_metadata *_metadata, struct vm *vm,
			  unsigned int mode, enum when when)
{
	if (when == AFTER_SET_CPUID)
		set_mode(_metadata, vm->vm_fd, mode);
}

/* Global writes happen here, in the test body, so that teardown restores them. */
static void enforce_prepare(struct __test_metadata *_metadata,
			    FIXTURE_DATA(enforce) *self,
			    const FIXTURE_VARIANT(enforce) *variant)
{
	pcm_fs_zero(&self->baseline);
	if (variant->mode == PCM_KVM_MODE_BASELINE) {
		v2_plus_xsave(_metadata, &self->baseline);
		write_baseline(_metadata, &self->baseline);
		ASSERT_EQ(0, sysfs_read_fs(PCM_SYSFS_BASELINE, &self->baseline));
	}
	mode_vm_create(_metadata, &self->vm, variant->mode, variant->when,
		       self->saved.default_mode, self->set);
	mode_vm_after(_metadata, &self->vm, variant->mode, variant->when);
	fs_expected(variant->mode, &self->baseline, &self->requested, &self->expected);
	wait_vm_dir(_metadata, self->vm.vm_fd, self->dir, sizeof(self->dir));
	mode_of(_metadata, self->vm.vm_fd, self->dir, variant->mode);
}

#define BIT_1_ECX(b)	(guest_reg(&gv, 1, 0, PCM_KVM_ECX) & (1U << (b)))
#define BIT_7_EBX(b)	(guest_reg(&gv, 7, 0, PCM_KVM_EBX) & (1U << (b)))

/* Model-independent facts about x86-64-v2 and min, from raw CPUID bits. */
static void check_level_facts(struct __test_metadata *_metadata,
			      const FIXTURE_VARIANT(enforce) *variant,
			      struct kvm_cpuid2 *set, const struct guest_view *gv_in)
{
	const struct guest_view gv = *gv_in;
	uint32_t host1c = table_reg(set, 1, 0, PCM_KVM_ECX);

	if (variant->mode != PCM_KVM_MODE_X86_64_V2 && variant->mode != PCM_KVM_MODE_MIN)
		return;
	EXPECT_FALSE(BIT_1_ECX(28)) TH_LOG("avx visible");
	EXPECT_FALSE(BIT_1_ECX(26)) TH_LOG("xsave visible");
	EXPECT_FALSE(BIT_1_ECX(12)) TH_LOG("fma visible");
	EXPECT_FALSE(BIT_1_ECX(29)) TH_LOG("f16c visible");
	EXPECT_FALSE(BIT_1_ECX(22)) TH_LOG("movbe visible");
	EXPECT_FALSE(BIT_7_EBX(5)) TH_LOG("avx2 visible");
	EXPECT_FALSE(BIT_7_EBX(3)) TH_LOG("bmi1 visible");
	EXPECT_FALSE(BIT_7_EBX(8)) TH_LOG("bmi2 visible");
	EXPECT_FALSE(guest_reg(&gv, 0xd, 0, PCM_KVM_EAX) & XFEATURE_MASK_YMM)
		TH_LOG("0xD.0 EAX offers AVX state");
	if (variant->mode == PCM_KVM_MODE_X86_64_V2) {
		if (host1c & (1U << 20))
			EXPECT_TRUE(BIT_1_ECX(20)) TH_LOG("sse4_2 hidden in x86-64-v2");
		if (host1c & (1U << 23))
			EXPECT_TRUE(BIT_1_ECX(23)) TH_LOG("popcnt hidden in x86-64-v2");
	} else {
		EXPECT_FALSE(BIT_1_ECX(20)) TH_LOG("sse4_2 visible in min");
		EXPECT_FALSE(BIT_1_ECX(23)) TH_LOG("popcnt visible in min");
		EXPECT_FALSE(BIT_1_ECX(9)) TH_LOG("ssse3 visible in min");
	}
	/* Always: the basics of every 64-bit CPU stay. */
	EXPECT_TRUE(guest_reg(&gv, 1, 0, PCM_KVM_EDX) & (1U << 26)) TH_LOG("sse2 hidden");
}

/* The guest's CPUID shows closure(requested & allow). */
TEST_F(enforce, guest_cpuid)
{
	struct pcm_fs mask;
	struct guest_view gv;

	enforce_prepare(_metadata, self, variant);
	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
	fs_compare_mask(&mask);
	EXPECT_EQ(0, fs_diff("guest CPUID", &gv.fs, &self->expected, &mask));
	check_level_facts(_metadata, variant, self->set, &gv);
	if (!pcm_fs_test(&self->expected, PCM_F_AVX))
		EXPECT_FALSE(guest_reg(&gv, 0xd, 0, PCM_KVM_EAX) & XFEATURE_MASK_YMM)
			TH_LOG("avx hidden, but 0xD.0 EAX = 0x%x",
			       guest_reg(&gv, 0xd, 0, PCM_KVM_EAX));
	if (variant->mode == PCM_KVM_MODE_OFF) {
		unsigned int w;
		struct pcm_fs dyn;

		fs_dynamic(&dyn);
		for (w = 0; w < PCM_KVM_NR_WORDS_USED; w++) {
			const struct pcm_word_desc *d = &pcm_words[w];
			uint32_t want = table_reg(self->set, d->leaf, d->subleaf, d->reg);

			if (!pcm_word_is_cpuid(w) ||
			    !cpuid2_find(self->set, d->leaf, d->subleaf))
				continue;
			EXPECT_EQ(want & ~dyn.words[w],
				  guest_reg(&gv, d->leaf, d->subleaf, d->reg) & ~dyn.words[w])
				TH_LOG("mode off changed word %s", d->name);
		}
	}
}

/* KVM_SET_CPUID2 again after KVM_RUN with the very same entries succeeds. */
TEST_F(enforce, set_cpuid_again_after_run)
{
	struct guest_view gv, again;
	struct pcm_fs mask;
	int r;

	enforce_prepare(_metadata, self, variant);
	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
	r = vcpu_set_cpuid(&self->vm, self->set);
	EXPECT_EQ(0, r) TH_LOG("KVM_SET_CPUID2 with the same entries after KVM_RUN: %s",
			       strerror(-r));
	/* and the guest still sees the same */
	run_guest_cpuid(_metadata, &self->vm, self->set, &again);
	fs_compare_mask(&mask);
	EXPECT_EQ(0, fs_diff("guest CPUID after the second KVM_SET_CPUID2",
			     &again.fs, &self->expected, &mask));
}

/* KVM_GET_CPUID2: masked when the mode came first; the flag says which. */
TEST_F(enforce, stored_cpuid)
{
	struct pcm_kvm_vm_features f;
	struct kvm_cpuid2 *got;
	struct pcm_fs stored, mask;
	bool hides;

	enforce_prepare(_metadata, self, variant);
	got = vcpu_get_cpuid(&self->vm);
	ASSERT_NE(NULL, got);
	fs_from_cpuid2(got, &stored);
	fs_compare_mask(&mask);
	hides = !pcm_fs_equal(&self->expected, &self->requested);
	ASSERT_EQ(0, pcm_get_vm_features(self->vm.vm_fd, &f));

	if (variant->when != AFTER_SET_CPUID) {
		EXPECT_EQ(0, fs_diff("KVM_GET_CPUID2", &stored, &self->expected, &mask));
		if (!pcm_fs_test(&self->expected, PCM_F_AVX))
			EXPECT_FALSE(table_reg(got, 0xd, 0, PCM_KVM_EAX) & XFEATURE_MASK_YMM);
		if (hides)
			EXPECT_TRUE(f.flags & PCM_KVM_VM_STORED_MASKED)
				TH_LOG("flags 0x%x", f.flags);
	} else if (f.flags & PCM_KVM_VM_STORED_MASKED) {
		EXPECT_EQ(0, fs_diff("KVM_GET_CPUID2 (flag STORED_MASKED)", &stored,
				     &self->expected, &mask));
	} else if (hides) {
		EXPECT_EQ(0, fs_diff("KVM_GET_CPUID2 (no flag STORED_MASKED)", &stored,
				     &self->requested, &mask));
	}
	free(got);
}

/* sysfs requested/visible/hidden and PCM_KVM_GET_VM_FEATURES agree with the model. */
TEST_F(enforce, reported_features)
{
	struct pcm_fs req, vis, hid, exp_hidden, known, mask;
	struct pcm_kvm_vm_features f;
	struct guest_view gv;
	char path[300];

	enforce_prepare(_metadata, self, variant);
	pcm_fs_known(&known);
	pcm_fs_set_arch_cap(&known, 0);		/* the MSR: msr.identity */
	fs_compare_mask(&mask);
	pcm_fs_andnot(&exp_hidden, &self->requested, &self->expected);

	snprintf(path, sizeof(path), "%s/requested", self->dir);
	ASSERT_EQ(0, sysfs_read_fs(path, &req));
	snprintf(path, sizeof(path), "%s/visible", self->dir);
	ASSERT_EQ(0, sysfs_read_fs(path, &vis));
	snprintf(path, sizeof(path), "%s/hidden", self->dir);
	ASSERT_EQ(0, sysfs_read_fs(path, &hid));
	EXPECT_EQ(0, fs_diff("sysfs requested", &req, &self->requested, &known));
	EXPECT_EQ(0, fs_diff("sysfs visible", &vis, &self->expected, &mask));
	EXPECT_EQ(0, fs_diff("sysfs hidden", &hid, &exp_hidden, &mask));

	ASSERT_EQ(0, pcm_get_vm_features(self->vm.vm_fd, &f));
	EXPECT_EQ(variant->mode, f.mode);
	EXPECT_TRUE(f.flags & PCM_KVM_VM_CPUID_SET) TH_LOG("flags 0x%x", f.flags);
	EXPECT_FALSE(f.flags & PCM_KVM_VM_RAN) TH_LOG("flags 0x%x", f.flags);
	EXPECT_EQ(0, fs_diff("GET_VM_FEATURES requested", &f.requested, &req, &known));
	EXPECT_EQ(0, fs_diff("GET_VM_FEATURES visible", &f.visible, &vis, &known));
	EXPECT_EQ(0, fs_diff("GET_VM_FEATURES hidden", &f.hidden, &hid, &known));

	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
	ASSERT_EQ(0, pcm_get_vm_features(self->vm.vm_fd, &f));
	EXPECT_TRUE(f.flags & PCM_KVM_VM_RAN) TH_LOG("flags 0x%x after KVM_RUN", f.flags);
	EXPECT_EQ(0, fs_diff("GET_VM_FEATURES visible after run vs guest",
			     &f.visible, &gv.fs, &mask));
}

/* ---------------------------------------------------------------------- */
/* KVM_SET_CPUID (v1) is masked like KVM_SET_CPUID2                        */

/* The supported table as KVM_SET_CPUID takes it: subleaf 0 of each leaf. */
static int vcpu_set_cpuid_v1(struct vm *vm, const struct kvm_cpuid2 *c)
{
	struct kvm_cpuid *v1;
	unsigned int i, n = 0;
	int r;

	v1 = calloc(1, sizeof(*v1) + c->nent * sizeof(v1->entries[0]));
	if (!v1)
		return -ENOMEM;
	for (i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->index)
			continue;
		v1->entries[n].function = e->function;
		v1->entries[n].eax = e->eax;
		v1->entries[n].ebx = e->ebx;
		v1->entries[n].ecx = e->ecx;
		v1->entries[n].edx = e->edx;
		n++;
	}
	v1->nent = n;
	r = ioctl(vm->vcpu_fd, KVM_SET_CPUID, v1) ? -errno : 0;
	free(v1);
	return r;
}

FIXTURE(cpuid_v1) {
	struct saved_state saved;
	struct vm vm;
	struct kvm_cpuid2 *set;
};

FIXTURE_VARIANT(cpuid_v1) {
	unsigned int mode;
};

FIXTURE_VARIANT_ADD(cpuid_v1, off) { .mode = PCM_KVM_MODE_OFF };
FIXTURE_VARIANT_ADD(cpuid_v1, x86_64_v2) { .mode = PCM_KVM_MODE_X86_64_V2 };

FIXTURE_SETUP(cpuid_v1)
{
	self->vm.vm_fd = -1;
	self->vm.vcpu_fd = -1;
	REQUIRE_PCM();
	save_state(&self->saved);
	self->set = supported(_metadata);
}

FIXTURE_TEARDOWN(cpuid_v1)
{
	vm_destroy(&self->vm);
	free(self->set);
	restore_state(_metadata, &self->saved);
}

/*
 * Both ioctls reach kvm_set_cpuid(), which the module proves at load; the
 * guest and KVM_GET_CPUID2 show it.  Mode off is the control: the host's
 * avx, fma, movbe, avx2, bmi1 and bmi2 reach the guest through v1.
 */
TEST_F(cpuid_v1, masked_like_v2)
{
	static const struct { uint32_t leaf; int reg, bit; const char *name; } hw[] = {
		{ 1, PCM_KVM_ECX, 28, "avx" }, { 1, PCM_KVM_ECX, 12, "fma" },
		{ 1, PCM_KVM_ECX, 22, "movbe" }, { 1, PCM_KVM_ECX, 26, "xsave" },
		{ 7, PCM_KVM_EBX, 5, "avx2" }, { 7, PCM_KVM_EBX, 3, "bmi1" },
		{ 7, PCM_KVM_EBX, 8, "bmi2" },
	};
	bool off = variant->mode == PCM_KVM_MODE_OFF;
	struct kvm_cpuid2 *got;
	struct guest_view gv;
	unsigned int i;
	int r;

	new_vm(_metadata, &self->vm, true);
	set_mode(_metadata, self->vm.vm_fd, variant->mode);
	r = vcpu_set_cpuid_v1(&self->vm, self->set);
	ASSERT_EQ(0, r) TH_LOG("KVM_SET_CPUID: %s", strerror(-r));
	got = vcpu_get_cpuid(&self->vm);
	ASSERT_NE(NULL, got);
	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
	for (i = 0; i < ARRAY_SIZE(hw); i++) {
		uint32_t bit = 1U << hw[i].bit;

		if (!(table_reg(self->set, hw[i].leaf, 0, hw[i].reg) & bit))
			continue;
		EXPECT_EQ(off, !!(guest_reg(&gv, hw[i].leaf, 0, hw[i].reg) & bit))
			TH_LOG("%s: guest %s", pcm_mode_name(variant->mode), hw[i].name);
		EXPECT_EQ(off, !!(table_reg(got, hw[i].leaf, 0, hw[i].reg) & bit))
			TH_LOG("%s: KVM_GET_CPUID2 %s", pcm_mode_name(variant->mode),
			       hw[i].name);
	}
	/* The basics stay in every mode. */
	EXPECT_TRUE(guest_reg(&gv, 1, 0, PCM_KVM_EDX) & (1U << 26)) TH_LOG("sse2 hidden");
	free(got);
}

/* ---------------------------------------------------------------------- */
/* msr: IA32_ARCH_CAPABILITIES as the guest reads it (RDMSR), per mode     */

#define AC_IBRS_ALL	(1ULL << 1)	/* enhanced IBRS: KVM offers it only with the hardware */
#define AC_RSBA		(1ULL << 2)	/* asks the guest for more mitigation */
#define AC_MDS_NO	(1ULL << 5)
#define AC_RESERVED	(1ULL << 63)	/* no meaning: KVM stores it all the same */

FIXTURE(msr) {
	struct saved_state saved;
	struct vm vm;
	struct kvm_cpuid2 *set;
	uint64_t offer;		/* KVM_GET_MSRS of /dev/kvm */
	uint64_t wide;		/* what the VMM writes: more than KVM offers */
	struct pcm_fs baseline;
	char dir[256];
};

FIXTURE_VARIANT(msr) {
	unsigned int mode;
	enum when when;
	bool written;		/* the VMM writes the MSR; else KVM's default stays */
	bool pool_msr;		/* baseline: the pool has this host's MSR bits */
	bool tsc_set;		/* and sets the vCPU's TSC rate after creation */
};

#define MSR_VARIANT(name, m, w, wr) \
	FIXTURE_VARIANT_ADD(msr, name) { .mode = m, .when = w, .written = wr }

MSR_VARIANT(off_written, PCM_KVM_MODE_OFF, BEFORE_SET_CPUID, true);
MSR_VARIANT(off_default, PCM_KVM_MODE_OFF, BEFORE_SET_CPUID, false);
MSR_VARIANT(min_written, PCM_KVM_MODE_MIN, BEFORE_SET_CPUID, true);
MSR_VARIANT(v2_written, PCM_KVM_MODE_X86_64_V2, BEFORE_SET_CPUID, true);
MSR_VARIANT(v2_default, PCM_KVM_MODE_X86_64_V2, BY_DEFAULT_MODE, false);
MSR_VARIANT(v2_written_after, PCM_KVM_MODE_X86_64_V2, AFTER_SET_CPUID, true);
MSR_VARIANT(v2_written_by_default, PCM_KVM_MODE_X86_64_V2, BY_DEFAULT_MODE, true);
MSR_VARIANT(v4_written, PCM_KVM_MODE_X86_64_V4, BEFORE_SET_CPUID, true);
MSR_VARIANT(baseline_written, PCM_KVM_MODE_BASELINE, BEFORE_SET_CPUID, true);
/* KVM_SET_TSC_KHZ after the write: the first KVM_RUN sees a new rate. */
FIXTURE_VARIANT_ADD(msr, v2_written_tsc_set) {
	.mode = PCM_KVM_MODE_X86_64_V2, .when = BEFORE_SET_CPUID, .written = true,
	.tsc_set = true };
FIXTURE_VARIANT_ADD(msr, baseline_pool_msr) {
	.mode = PCM_KVM_MODE_BASELINE, .when = BEFORE_SET_CPUID, .written = true,
	.pool_msr = true };

FIXTURE_SETUP(msr)
{
	int r;

	self->vm.vm_fd = -1;
	self->vm.vcpu_fd = -1;
	REQUIRE_PCM();
	save_state(&self->saved);
	self->set = supported(_metadata);
	if (!(table_reg(self->set, 7, 0, PCM_KVM_EDX) & (1U << 29)))
		SKIP(return, "KVM does not enumerate IA32_ARCH_CAPABILITIES");
	r = kvm_get_feature_msr(PCM_MSR_ARCH_CAPABILITIES, &self->offer);
	ASSERT_EQ(0, r) TH_LOG("KVM_GET_MSRS(0x10a) of /dev/kvm: %s", strerror(-r));
	/* A bit KVM does not offer, one that asks for more, a reserved one. */
	self->wide = self->offer | AC_RSBA | AC_RESERVED;
	if (!(self->offer & AC_IBRS_ALL))
		self->wide |= AC_IBRS_ALL;
}

FIXTURE_TEARDOWN(msr)
{
	vm_destroy(&self->vm);
	free(self->set);
	restore_state(_metadata, &self->saved);
}

static uint64_t ac_of_class(enum pcm_class cls)
{
	struct pcm_fs fs;

	pcm_fs_of_class(&fs, cls);
	return pcm_fs_arch_cap(&fs);
}

static uint64_t ac_known(void)
{
	struct pcm_fs fs;

	pcm_fs_known(&fs);
	return pcm_fs_arch_cap(&fs);
}

/*
 * What the guest must read: mode off leaves the VMM's value (or KVM's
 * default) alone; every other mode keeps only the bits this host's KVM
 * offers and those that ask for more mitigation, which it never takes
 * away, and of these only what the mode allows (baseline: the NO bits
 * of its list).
 */
static uint64_t msr_expected(FIXTURE_DATA(msr) *self, const FIXTURE_VARIANT(msr) *variant)
{
	uint64_t v = variant->written ? self->wide : self->offer;
	struct pcm_fs allow;

	if (variant->mode == PCM_KVM_MODE_OFF)
		return v;
	pcm_mode_allow(variant->mode, &self->baseline, &allow);
	return v & pcm_fs_arch_cap(&allow) & (self->offer | ac_of_class(PCM_CLASS_SCRUB));
}

static void msr_prepare(struct __test_metadata *_metadata, FIXTURE_DATA(msr) *self,
			const FIXTURE_VARIANT(msr) *variant)
{
	struct pcm_fs host;
	int r;

	pcm_fs_zero(&self->baseline);
	if (variant->mode == PCM_KVM_MODE_BASELINE) {
		v2_plus_xsave(_metadata, &self->baseline);
		if (variant->pool_msr) {
			ASSERT_EQ(0, sysfs_read_fs(PCM_SYSFS_HOST_FEATURES, &host));
			pcm_fs_set(&self->baseline, PCM_F_ARCH_CAPABILITIES);
			pcm_fs_set_arch_cap(&self->baseline, pcm_fs_arch_cap(&host));
		}
		write_baseline(_metadata, &self->baseline);
		ASSERT_EQ(0, sysfs_read_fs(PCM_SYSFS_BASELINE, &self->baseline));
	}
	mode_vm_create(_metadata, &self->vm, variant->mode, variant->when,
		       self->saved.default_mode, self->set);
	if (variant->written) {
		r = vcpu_set_msr(&self->vm, PCM_MSR_ARCH_CAPABILITIES, self->wide);
		ASSERT_EQ(0, r) TH_LOG("KVM_SET_MSRS(0x10a = 0x%llx): %s",
				       (unsigned long long)self->wide, strerror(-r));
	}
	if (variant->tsc_set) {
		/* above the host's: KVM takes it with or without scaling */
		r = ioctl(self->vm.vcpu_fd, KVM_GET_TSC_KHZ);
		ASSERT_LT(0, r);
		ASSERT_EQ(0, ioctl(self->vm.vcpu_fd, KVM_SET_TSC_KHZ, r / 10 * 11))
			TH_LOG("KVM_SET_TSC_KHZ: %s", strerror(errno));
	}
	mode_vm_after(_metadata, &self->vm, variant->mode, variant->when);
	wait_vm_dir(_metadata, self->vm.vm_fd, self->dir, sizeof(self->dir));
}

static uint64_t msr_guest_read(struct __test_metadata *_metadata, struct vm *vm)
{
	uint64_t v = 0;
	int r, vec;

	r = guest_rdmsr(vm, PCM_MSR_ARCH_CAPABILITIES, &v, &vec);
	EXPECT_EQ(GUEST_DONE_RDMSR, r) TH_LOG("guest RDMSR(0x10a): %d (vector %d)", r, vec);
	return v;
}

/* The guest reads its mode's value; KVM_GET_MSRS then says the same. */
TEST_F(msr, guest_reads)
{
	uint64_t want, got, stored = 0;
	int r;

	msr_prepare(_metadata, self, variant);
	want = msr_expected(self, variant);
	got = msr_guest_read(_metadata, &self->vm);
	EXPECT_EQ(want, got) TH_LOG("%s: guest read 0x%llx, want 0x%llx (VMM %s 0x%llx, KVM offers 0x%llx)",
				    pcm_mode_name(variant->mode), (unsigned long long)got,
				    (unsigned long long)want,
				    variant->written ? "wrote" : "left the default",
				    (unsigned long long)(variant->written ? self->wide : self->offer),
				    (unsigned long long)self->offer);
	r = vcpu_get_msr(&self->vm, PCM_MSR_ARCH_CAPABILITIES, &stored);
	EXPECT_EQ(0, r);
	EXPECT_EQ(got, stored) TH_LOG("KVM_GET_MSRS after the run");
	/* and again: the value holds */
	EXPECT_EQ(got, msr_guest_read(_metadata, &self->vm));
}

/* Identity and features name the MSR's bits; hidden ones show as hidden. */
TEST_F(msr, identity)
{
	uint64_t want, asked = (variant->written ? self->wide : self->offer) & ac_known();
	struct pcm_kvm_vm_identity id = { .size = sizeof(id) };
	struct pcm_kvm_vm_features f;
	char path[320], text[PCM_IDENTITY_TEXT_MAX];
	struct pcm_kvm_identity parsed;
	const char *bad;
	size_t badlen;
	ssize_t n;

	msr_prepare(_metadata, self, variant);
	want = msr_expected(self, variant) & ac_known();
	msr_guest_read(_metadata, &self->vm);
	id.vm_fd = self->vm.vm_fd;
	ASSERT_EQ(0, ioctl(pcm_fd(), PCM_KVM_GET_VM_IDENTITY, &id)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(want, pcm_fs_arch_cap(&id.id.features));
	ASSERT_EQ(0, pcm_get_vm_features(self->vm.vm_fd, &f));
	EXPECT_EQ(want, pcm_fs_arch_cap(&f.visible));
	EXPECT_EQ(asked, pcm_fs_arch_cap(&f.requested));
	EXPECT_EQ(asked & ~want, pcm_fs_arch_cap(&f.hidden));
	/* The text form says the same, by name. */
	snprintf(path, sizeof(path), "%s/identity", self->dir);
	n = sysfs_read(path, text, sizeof(text));
	ASSERT_LT(0, n);
	ASSERT_EQ(0, pcm_identity_parse(text, n, &parsed, &bad, &badlen)) TH_LOG("%s", text);
	EXPECT_EQ(want, pcm_fs_arch_cap(&parsed.features));
	if (want & AC_MDS_NO)
		EXPECT_NE(NULL, strstr(text, " arch_capabilities.mds_no")) TH_LOG("%s", text);
	if (variant->written && variant->mode != PCM_KVM_MODE_OFF && !(self->offer & AC_IBRS_ALL))
		EXPECT_EQ(NULL, strstr(text, "arch_capabilities.ibrs_all")) TH_LOG("%s", text);
}

FIXTURE(msr_cases) {
	struct saved_state saved;
	struct vm vm;
	struct kvm_cpuid2 *set;
	uint64_t offer;
};

FIXTURE_SETUP(msr_cases)
{
	self->vm.vm_fd = -1;
	self->vm.vcpu_fd = -1;
	REQUIRE_PCM();
	save_state(&self->saved);
	self->set = supported(_metadata);
	ASSERT_EQ(0, kvm_get_feature_msr(PCM_MSR_ARCH_CAPABILITIES, &self->offer));
}

FIXTURE_TEARDOWN(msr_cases)
{
	vm_destroy(&self->vm);
	free(self->set);
	restore_state(_metadata, &self->saved);
}

/* A guest whose CPUID does not enumerate the MSR cannot read it (#GP). */
TEST_F(msr_cases, no_cpuid_bit)
{
	struct pcm_kvm_vm_identity id = { .size = sizeof(id) };
	struct kvm_cpuid_entry2 *e = cpuid2_find(self->set, 7, 0);
	uint64_t v;
	int r, vec;

	ASSERT_NE(NULL, e);
	e->edx &= ~(1U << 29);
	new_vm(_metadata, &self->vm, true);
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_X86_64_V2);
	set_cpuid(_metadata, &self->vm, self->set);
	r = guest_rdmsr(&self->vm, PCM_MSR_ARCH_CAPABILITIES, &v, &vec);
	EXPECT_EQ(GUEST_DONE_EXCEPTION, r);
	EXPECT_EQ(GP_VECTOR, vec);
	id.vm_fd = self->vm.vm_fd;
	ASSERT_EQ(0, ioctl(pcm_fd(), PCM_KVM_GET_VM_IDENTITY, &id));
	EXPECT_EQ(0, pcm_fs_arch_cap(&id.id.features));
}

/*
 * host_withhold plays a host that is affected: KVM's default and the VMM's
 * write both lose the bit, in mode off too, and host_features says so.
 */
TEST_F(msr_cases, withheld)
{
	struct pcm_fs host;
	int r;

	if (!(self->offer & AC_MDS_NO))
		SKIP(return, "KVM does not offer mds_no here");
	ASSERT_EQ(0, sysfs_write_str(PCM_PARAM_HOST_WITHHOLD, "arch_capabilities.mds_no\n"));
	ASSERT_EQ(0, sysfs_read_fs(PCM_SYSFS_HOST_FEATURES, &host));
	EXPECT_FALSE(pcm_fs_test(&host, PCM_F_AC_MDS_NO));
	new_vm(_metadata, &self->vm, true);
	set_cpuid(_metadata, &self->vm, self->set);
	EXPECT_EQ(self->offer & ~AC_MDS_NO, msr_guest_read(_metadata, &self->vm))
		TH_LOG("KVM's default");
	vm_destroy(&self->vm);
	new_vm(_metadata, &self->vm, true);
	set_cpuid(_metadata, &self->vm, self->set);
	r = vcpu_set_msr(&self->vm, PCM_MSR_ARCH_CAPABILITIES, self->offer);
	ASSERT_EQ(0, r);
	EXPECT_EQ(self->offer & ~AC_MDS_NO, msr_guest_read(_metadata, &self->vm))
		TH_LOG("the VMM's write");
}

/* ---------------------------------------------------------------------- */
/* After a vCPU ran, the mode is frozen                                    */

FIXTURE(frozen) {
	struct vm vm;
	struct kvm_cpuid2 *set;
	char dir[256];
};

FIXTURE_SETUP(frozen)
{
	self->vm.vm_fd = -1;
	self->vm.vcpu_fd = -1;
	REQUIRE_PCM();
	self->set = supported(_metadata);
	new_vm(_metadata, &self->vm, true);
	wait_vm_dir(_metadata, self->vm.vm_fd, self->dir, sizeof(self->dir));
}

FIXTURE_TEARDOWN(frozen)
{
	vm_destroy(&self->vm);
	free(self->set);
}

TEST_F(frozen, mode_busy_after_run)
{
	struct guest_view gv;
	char path[300];
	unsigned int mode;
	int r;

	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_X86_64_V3);
	set_cpuid(_metadata, &self->vm, self->set);
	/* Not run yet: changes are fine. */
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_X86_64_V2);
	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);

	snprintf(path, sizeof(path), "%s/mode", self->dir);
	for (mode = 0; mode < PCM_KVM_NR_MODES; mode++) {
		/* An unset baseline may be refused (EINVAL) before the freeze is. */
		int other = mode_expect_errno(mode) ?: -EBUSY;

		if (mode == PCM_KVM_MODE_X86_64_V2)
			continue;
		r = pcm_set_vm_mode(self->vm.vm_fd, mode);
		EXPECT_TRUE(r == -EBUSY || r == other)
			TH_LOG("SET_VM_MODE(%s) after run: %s", pcm_mode_name(mode),
			       strerror(-r));
		r = sysfs_write_str(path, pcm_mode_name(mode));
		EXPECT_TRUE(r == -EBUSY || r == other)
			TH_LOG("mode <- %s after run: %s", pcm_mode_name(mode), strerror(-r));
		mode_of(_metadata, self->vm.vm_fd, self->dir, PCM_KVM_MODE_X86_64_V2);
	}
	/* Still masked as before. */
	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
	EXPECT_FALSE(guest_reg(&gv, 1, 0, PCM_KVM_ECX) & (1U << 28)) TH_LOG("avx visible");
}

/* A vCPU that ran without KVM_SET_CPUID2 also freezes the mode. */
TEST_F(frozen, mode_busy_after_run_without_cpuid)
{
	int r, vec;

	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_MIN);
	r = guest_xsetbv(&self->vm, 0x3, NULL, &vec);	/* #UD: any exit will do */
	ASSERT_LT(0, r);
	r = pcm_set_vm_mode(self->vm.vm_fd, PCM_KVM_MODE_OFF);
	EXPECT_EQ(-EBUSY, r) TH_LOG("%s", strerror(-r));
	mode_of(_metadata, self->vm.vm_fd, self->dir, PCM_KVM_MODE_MIN);
}

/*
 * vCPU hotplug as QEMU does it: a vCPU added after the VM ran gets the same
 * entries with KVM_SET_CPUID2 and sees the same masked CPUID.
 */
static void hotplug(struct __test_metadata *_metadata, FIXTURE_DATA(frozen) *self,
		    bool mode_first)
{
	struct pcm_fs requested, expected, mask, stored;
	struct guest_view gv0, gv1;
	struct kvm_cpuid2 *got;
	struct vm cpu1;
	int r;

	if (mode_first)
		set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_X86_64_V2);
	set_cpuid(_metadata, &self->vm, self->set);
	if (!mode_first)
		set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_X86_64_V2);
	fs_from_cpuid2(self->set, &requested);
	fs_expected(PCM_KVM_MODE_X86_64_V2, NULL, &requested, &expected);
	fs_compare_mask(&mask);
	run_guest_cpuid(_metadata, &self->vm, self->set, &gv0);
	EXPECT_EQ(0, fs_diff("vCPU 0", &gv0.fs, &expected, &mask));

	cpu1 = self->vm;
	cpu1.vcpu_fd = -1;
	cpu1.run = NULL;
	r = vm_add_vcpu_id(&cpu1, 1);
	ASSERT_EQ(0, r) TH_LOG("second vCPU: %s", strerror(-r));
	r = vcpu_set_cpuid(&cpu1, self->set);
	EXPECT_EQ(0, r) TH_LOG("KVM_SET_CPUID2 on the hotplugged vCPU: %s", strerror(-r));
	if (!r) {
		if (mode_first) {
			got = vcpu_get_cpuid(&cpu1);
			EXPECT_NE(NULL, got);
			if (got) {
				fs_from_cpuid2(got, &stored);
				EXPECT_EQ(0, fs_diff("KVM_GET_CPUID2 of vCPU 1", &stored,
						     &expected, &mask));
				free(got);
			}
		}
		run_guest_cpuid(_metadata, &cpu1, self->set, &gv1);
		EXPECT_EQ(0, fs_diff("vCPU 1", &gv1.fs, &expected, &mask));
		/* And vCPU 0 may re-set its entries too. */
		EXPECT_EQ(0, vcpu_set_cpuid(&self->vm, self->set));
	}
	vm_close_vcpu(&cpu1);
	EXPECT_EQ(-EBUSY, pcm_set_vm_mode(self->vm.vm_fd, PCM_KVM_MODE_OFF));
	mode_of(_metadata, self->vm.vm_fd, self->dir, PCM_KVM_MODE_X86_64_V2);
}

TEST_F(frozen, hotplug_mode_before_cpuid)
{
	hotplug(_metadata, self, true);
}

TEST_F(frozen, hotplug_mode_after_cpuid)
{
	hotplug(_metadata, self, false);
}

/* ---------------------------------------------------------------------- */
/* Per vCPU: KVM keeps CPUID per vCPU; pcm_kvm masks every one and reports  */
/* the widest, whatever the order of KVM_SET_CPUID2 calls and mode writes.  */

FIXTURE(pervcpu) {
	struct vm vm;		/* vCPU 0 */
	struct vm cpu1;		/* vCPU 1 of the same VM */
	struct kvm_cpuid2 *set;
	struct pcm_fs requested, v2, mask;
	char dir[256];
};

FIXTURE_SETUP(pervcpu)
{
	int r;

	self->vm.vm_fd = -1;
	self->vm.vcpu_fd = -1;
	self->cpu1.vcpu_fd = -1;
	self->cpu1.run = NULL;
	REQUIRE_PCM();
	self->set = supported(_metadata);
	fs_from_cpuid2(self->set, &self->requested);
	fs_expected(PCM_KVM_MODE_X86_64_V2, NULL, &self->requested, &self->v2);
	fs_compare_mask(&self->mask);
	new_vm(_metadata, &self->vm, true);
	self->cpu1 = self->vm;
	self->cpu1.vcpu_fd = -1;
	self->cpu1.run = NULL;
	r = vm_add_vcpu_id(&self->cpu1, 1);
	ASSERT_EQ(0, r) TH_LOG("second vCPU: %s", strerror(-r));
	wait_vm_dir(_metadata, self->vm.vm_fd, self->dir, sizeof(self->dir));
}

FIXTURE_TEARDOWN(pervcpu)
{
	if (self->cpu1.vcpu_fd >= 0)
		vm_close_vcpu(&self->cpu1);
	vm_destroy(&self->vm);
	free(self->set);
}

static void vm_fs(struct __test_metadata *_metadata, const char *dir,
		  const char *file, struct pcm_fs *fs)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	ASSERT_EQ(0, sysfs_read_fs(path, fs)) TH_LOG("%s", path);
}

/*
 * vCPU 0 sets CPUID, then the mode is written, then vCPU 1 sets CPUID (what
 * a multi-vCPU QEMU does when the mode is written after the first vCPU's
 * `requested` appears): vCPU 0's guest must not see more than the mode.
 */
TEST_F(pervcpu, mode_between_set_cpuid)
{
	struct guest_view gv;
	struct pcm_fs vis;

	if (pcm_fs_equal(&self->requested, &self->v2))
		SKIP(return, "KVM offers nothing that x86-64-v2 hides");
	set_cpuid(_metadata, &self->vm, self->set);
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_X86_64_V2);
	set_cpuid(_metadata, &self->cpu1, self->set);
	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
	EXPECT_EQ(0, fs_diff("vCPU 0 (CPUID set before the mode)", &gv.fs, &self->v2,
			     &self->mask));
	run_guest_cpuid(_metadata, &self->cpu1, self->set, &gv);
	EXPECT_EQ(0, fs_diff("vCPU 1 (CPUID set after the mode)", &gv.fs, &self->v2,
			     &self->mask));
	vm_fs(_metadata, self->dir, "visible", &vis);
	EXPECT_EQ(0, fs_diff("visible", &vis, &self->v2, &self->mask));
}

/*
 * The other order: vCPU 0 masked by the mode, the mode set back to off,
 * vCPU 1 unmasked.  Each guest sees what its vCPU holds; visible and the
 * identity describe the widest (vCPU 1), so that no destination is
 * accepted that could not give vCPU 1 what it sees.
 */
TEST_F(pervcpu, mode_between_set_cpuid_reverse)
{
	struct guest_view gv;
	struct pcm_fs vis;

	if (pcm_fs_equal(&self->requested, &self->v2))
		SKIP(return, "KVM offers nothing that x86-64-v2 hides");
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_X86_64_V2);
	set_cpuid(_metadata, &self->vm, self->set);
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_OFF);
	set_cpuid(_metadata, &self->cpu1, self->set);
	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
	EXPECT_EQ(0, fs_diff("vCPU 0 (CPUID set in x86-64-v2)", &gv.fs, &self->v2,
			     &self->mask));
	run_guest_cpuid(_metadata, &self->cpu1, self->set, &gv);
	EXPECT_EQ(0, fs_diff("vCPU 1 (CPUID set in off)", &gv.fs, &self->requested,
			     &self->mask));
	vm_fs(_metadata, self->dir, "visible", &vis);
	EXPECT_EQ(0, fs_diff("visible (the widest vCPU)", &vis, &self->requested,
			     &self->mask));
}

/*
 * A vCPU that sets CPUID only after the VM ran (hot-plug) sees what vCPU 0
 * sees, not more: here vCPU 0 was masked in x86-64-v2 and the mode then
 * went back to off before the run.
 */
TEST_F(pervcpu, late_vcpu_sees_what_the_first_sees)
{
	struct guest_view gv;
	struct pcm_fs vis;

	if (pcm_fs_equal(&self->requested, &self->v2))
		SKIP(return, "KVM offers nothing that x86-64-v2 hides");
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_X86_64_V2);
	set_cpuid(_metadata, &self->vm, self->set);
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_OFF);
	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
	EXPECT_EQ(0, fs_diff("vCPU 0", &gv.fs, &self->v2, &self->mask));
	set_cpuid(_metadata, &self->cpu1, self->set);
	run_guest_cpuid(_metadata, &self->cpu1, self->set, &gv);
	EXPECT_EQ(0, fs_diff("vCPU 1 (CPUID set after the run)", &gv.fs, &self->v2,
			     &self->mask));
	vm_fs(_metadata, self->dir, "visible", &vis);
	EXPECT_EQ(0, fs_diff("visible", &vis, &self->v2, &self->mask));
}

/* requested is the widest vCPU's, not the last one's. */
TEST_F(pervcpu, requested_is_widest)
{
	struct kvm_cpuid2 *narrow = cpuid2_dup(self->set);
	struct kvm_cpuid_entry2 *e;
	struct pcm_fs req, vis;

	ASSERT_NE(NULL, narrow);
	e = cpuid2_find(narrow, 1, 0);
	ASSERT_NE(NULL, e);
	if (!(e->ecx & (1U << 20))) {
		free(narrow);
		SKIP(return, "KVM does not offer sse4_2");
	}
	e->ecx &= ~(1U << 20);
	set_cpuid(_metadata, &self->vm, self->set);
	set_cpuid(_metadata, &self->cpu1, narrow);
	free(narrow);
	vm_fs(_metadata, self->dir, "requested", &req);
	vm_fs(_metadata, self->dir, "visible", &vis);
	EXPECT_TRUE(fs_has(&req, "sse4_2")) TH_LOG("requested lost vCPU 0's sse4_2");
	EXPECT_TRUE(fs_has(&vis, "sse4_2")) TH_LOG("visible lost vCPU 0's sse4_2");
}

/*
 * After KVM_RUN, a KVM_SET_CPUID2 that KVM rejects (entries not identical)
 * changes nothing: with expect set to the VM's own identity, the running
 * guest is not blocked by a call that changed nothing in KVM.
 */
TEST_F(pervcpu, rejected_set_cpuid_changes_nothing)
{
	struct kvm_cpuid2 *less = cpuid2_dup(self->set);
	struct kvm_cpuid_entry2 *e;
	struct guest_view gv;
	char path[300], id[4096], before[4096], status[256];
	struct pcm_fs req;
	ssize_t n;
	int r;

	ASSERT_NE(NULL, less);
	e = cpuid2_find(less, 1, 0);
	ASSERT_NE(NULL, e);
	if (!(e->ecx & (1U << 20))) {
		free(less);
		SKIP(return, "KVM does not offer sse4_2");
	}
	e->ecx &= ~(1U << 20);
	set_cpuid(_metadata, &self->vm, self->set);
	snprintf(path, sizeof(path), "%s/identity", self->dir);
	n = sysfs_read(path, id, sizeof(id));
	ASSERT_LT(0, n);
	snprintf(path, sizeof(path), "%s/expect", self->dir);
	ASSERT_EQ(0, sysfs_write_str(path, id)) TH_LOG("expect <- own identity");
	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);

	r = vcpu_set_cpuid(&self->vm, less);
	free(less);
	EXPECT_NE(0, r) TH_LOG("KVM accepted different entries after KVM_RUN");
	snprintf(path, sizeof(path), "%s/status", self->dir);
	ASSERT_LT(0, sysfs_read(path, status, sizeof(status)));
	EXPECT_STREQ("ok\n", status);
	vm_fs(_metadata, self->dir, "requested", &req);
	EXPECT_TRUE(fs_has(&req, "sse4_2")) TH_LOG("the rejected call changed requested");
	snprintf(path, sizeof(path), "%s/identity", self->dir);
	ASSERT_LT(0, sysfs_read(path, before, sizeof(before)));
	EXPECT_STREQ(id, before);
	/* The guest runs on. */
	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
}

/*
 * A GenuineIntel guest's CPUID of a leaf above the max basic leaf is
 * answered by KVM from the max basic leaf (with the guest's sub-leaf).  With
 * the mode set after KVM_SET_CPUID2 (the exit path masks), CPUID(0xe, n)
 * must come out exactly as masked as CPUID(0xd, n): without xsave in
 * x86-64-v2, no XCR0 component or XSAVE variant shows.
 */
TEST_F(pervcpu, out_of_range_leaf_masked)
{
	struct kvm_cpuid2 *c = cpuid2_dup(self->set);
	struct guest_cpuid req[4] = {
		{ 0xd, 0 }, { 0xd, 1 }, { 0xe, 0 }, { 0xe, 1 },
	};
	struct kvm_cpuid_entry2 *e0, *d0;
	unsigned int i, j, r;

	ASSERT_NE(NULL, c);
	e0 = cpuid2_find(c, 0, 0);
	d0 = cpuid2_find(c, 0xd, 0);
	ASSERT_NE(NULL, e0);
	if (!d0 || !(d0->eax & XFEATURE_MASK_SSE)) {
		free(c);
		SKIP(return, "KVM offers no XSAVE leaf");
	}
	/* GenuineIntel, max basic leaf 0xd: drop the basic leaves above it. */
	e0->eax = 0xd;
	e0->ebx = 0x756e6547;
	e0->edx = 0x49656e69;
	e0->ecx = 0x6c65746e;
	for (i = j = 0; i < c->nent; i++)
		if (c->entries[i].function <= 0xd || c->entries[i].function >= 0x40000000)
			c->entries[j++] = c->entries[i];
	c->nent = j;
	set_cpuid(_metadata, &self->vm, c);
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_X86_64_V2);
	free(c);

	r = guest_cpuid(&self->vm, req, ARRAY_SIZE(req));
	ASSERT_EQ(0, r) TH_LOG("guest CPUID run: %s", strerror(-r));
	for (i = 0; i < 2; i++)
		for (j = 0; j < 4; j++) {
			EXPECT_EQ(0, req[i].regs[j])
				TH_LOG("CPUID(0xd,%u) reg %u = 0x%x in x86-64-v2", i, j,
				       req[i].regs[j]);
			EXPECT_EQ(req[i].regs[j], req[i + 2].regs[j])
				TH_LOG("CPUID(0xe,%u) reg %u = 0x%x, answered from 0xd (0x%x)",
				       i, j, req[i + 2].regs[j], req[i].regs[j]);
		}
}

/* ---------------------------------------------------------------------- */
/* XSETBV: a hidden state component cannot be enabled                      */

FIXTURE(xsetbv) {
	struct saved_state saved;
	struct vm vm;
	struct kvm_cpuid2 *set;
	struct pcm_fs host;
};

FIXTURE_SETUP(xsetbv)
{
	self->vm.vm_fd = -1;
	self->vm.vcpu_fd = -1;
	REQUIRE_PCM();
	save_state(&self->saved);
	self->set = supported(_metadata);
	ASSERT_EQ(0, sysfs_read_fs(PCM_SYSFS_HOST_FEATURES, &self->host));
	if (!fs_has(&self->host, "xsave") || !fs_has(&self->host, "avx") ||
	    !(table_reg(self->set, 1, 0, PCM_KVM_ECX) & (1U << 28)) ||
	    !(table_reg(self->set, 0xd, 0, PCM_KVM_EAX) & XFEATURE_MASK_YMM))
		SKIP(return, "the host (or KVM) lacks xsave/avx");
}

FIXTURE_TEARDOWN(xsetbv)
{
	vm_destroy(&self->vm);
	free(self->set);
	restore_state(_metadata, &self->saved);
}

/* baseline = x86-64-v2 + xsave, no avx: XCR0=0x7 -> #GP, XCR0=0x3 works. */
TEST_F(xsetbv, baseline_without_avx)
{
	struct pcm_fs bl;
	struct guest_view gv;
	uint64_t xcr0 = 0;
	int r, vec;

	v2_plus_xsave(_metadata, &bl);
	write_baseline(_metadata, &bl);
	new_vm(_metadata, &self->vm, true);
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_BASELINE);
	set_cpuid(_metadata, &self->vm, self->set);
	r = vcpu_update_cr4(&self->vm, X86_CR4_OSXSAVE, 0);
	ASSERT_EQ(0, r) TH_LOG("CR4.OSXSAVE refused with xsave kept: %s", strerror(-r));

	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
	EXPECT_TRUE(guest_reg(&gv, 1, 0, PCM_KVM_ECX) & (1U << 26)) TH_LOG("xsave hidden");
	EXPECT_FALSE(guest_reg(&gv, 1, 0, PCM_KVM_ECX) & (1U << 28)) TH_LOG("avx visible");
	EXPECT_FALSE(guest_reg(&gv, 0xd, 0, PCM_KVM_EAX) & XFEATURE_MASK_YMM)
		TH_LOG("0xD.0 EAX = 0x%x", guest_reg(&gv, 0xd, 0, PCM_KVM_EAX));

	r = guest_xsetbv(&self->vm, 0x3, &xcr0, &vec);
	EXPECT_EQ(GUEST_DONE_XSETBV, r) TH_LOG("XSETBV(0x3): vector %d", vec);
	check_readback(_metadata, 0x3, xcr0);

	if (xsetbv_exits_to_kvm() <= 0) {
		if (_metadata->exit_code == KSFT_PASS)
			SKIP(return, "%s; XCR0=0x3 and CPUID checked",
			     xsetbv_not_seen_by_kvm);
		return;
	}
	r = guest_xsetbv(&self->vm, 0x7, &xcr0, &vec);
	EXPECT_EQ(GUEST_DONE_EXCEPTION, r) TH_LOG("XSETBV(0x7) succeeded, XCR0 now 0x%llx",
						  (unsigned long long)xcr0);
	EXPECT_EQ(GP_VECTOR, vec);
}

/*
 * The same policy through KVM_SET_XCRS, which reaches KVM's XCR0 check on
 * every machine (an XSETBV under QEMU TCG does not).
 */
TEST_F(xsetbv, baseline_without_avx_set_xcrs)
{
	struct pcm_fs bl;
	int r;

	v2_plus_xsave(_metadata, &bl);
	write_baseline(_metadata, &bl);
	new_vm(_metadata, &self->vm, true);
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_BASELINE);
	set_cpuid(_metadata, &self->vm, self->set);
	r = vcpu_set_xcr0(&self->vm, 0x7);
	EXPECT_EQ(-EINVAL, r) TH_LOG("KVM_SET_XCRS(0x7) with avx hidden: %s", strerror(-r));
	r = vcpu_set_xcr0(&self->vm, 0x3);
	EXPECT_EQ(0, r) TH_LOG("KVM_SET_XCRS(0x3): %s", strerror(-r));
}

/* The same guest in x86-64-v3 may enable AVX state (the positive control). */
TEST_F(xsetbv, v3_allows_avx)
{
	uint64_t xcr0 = 0;
	int r, vec;

	new_vm(_metadata, &self->vm, true);
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_X86_64_V3);
	set_cpuid(_metadata, &self->vm, self->set);
	ASSERT_EQ(0, vcpu_update_cr4(&self->vm, X86_CR4_OSXSAVE, 0));
	r = guest_xsetbv(&self->vm, 0x7, &xcr0, &vec);
	EXPECT_EQ(GUEST_DONE_XSETBV, r) TH_LOG("vector %d", vec);
	check_readback(_metadata, 0x7, xcr0);
	EXPECT_EQ(0, vcpu_set_xcr0(&self->vm, 0x7));
}

/* Without xsave (x86-64-v2) KVM refuses CR4.OSXSAVE and XSETBV is #UD. */
TEST_F(xsetbv, v2_has_no_xsave)
{
	int r, vec;

	new_vm(_metadata, &self->vm, true);
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_X86_64_V2);
	set_cpuid(_metadata, &self->vm, self->set);
	r = vcpu_update_cr4(&self->vm, X86_CR4_OSXSAVE, 0);
	EXPECT_EQ(-EINVAL, r) TH_LOG("KVM_SET_SREGS with CR4.OSXSAVE: %s", strerror(-r));
	r = guest_xsetbv(&self->vm, 0x3, NULL, &vec);
	EXPECT_EQ(GUEST_DONE_EXCEPTION, r);
	EXPECT_EQ(UD_VECTOR, vec);
}

/* ---------------------------------------------------------------------- */
/* process_modes: a mode pending for a process, for management layers      */

#define PCM_SYSFS_PROBES	PCM_KVM_SYSFS "/probes"

/* Is "PID MODE" a line of process_modes (mode NULL: any mode)? */
/*
 * pid's line says mode (NULL: any), whatever the processes that inherited
 * it: an exited child is counted until it is reaped.
 */
static bool proc_listed(pid_t pid, const char *mode)
{
	char buf[8192], want[96], *line;
	size_t n;

	if (sysfs_read(PCM_SYSFS_PROCESS_MODES, buf, sizeof(buf)) < 0)
		return false;
	n = snprintf(want, sizeof(want), "%d %s", (int)pid, mode ? mode : "");
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, want, n))
			continue;
		if (!mode || !line[n] || !strncmp(line + n, " inherited=", 11))
			return true;
	}
	return false;
}

static int proc_set(pid_t pid, const char *mode)
{
	char buf[96];

	snprintf(buf, sizeof(buf), "%d %s\n", (int)pid, mode);
	return sysfs_write_str(PCM_SYSFS_PROCESS_MODES, buf);
}

/* A child that waits until its pipe closes; returns its pid. */
static pid_t waiting_child(struct __test_metadata *_metadata, int *release)
{
	int p[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(p[1]);
		_exit(read(p[0], &c, 1) < 0);
	}
	close(p[0]);
	*release = p[1];
	return pid;
}

FIXTURE(process_modes) {
	struct saved_state saved;
	struct vm vm;
	struct kvm_cpuid2 *set;
};

FIXTURE_SETUP(process_modes)
{
	self->vm.vm_fd = -1;
	self->vm.vcpu_fd = -1;
	REQUIRE_PCM();
	save_state(&self->saved);
	ASSERT_EQ(0, sysfs_write_str(PCM_PARAM_DEFAULT_MODE, "off\n"));
	self->set = supported(_metadata);
}

FIXTURE_TEARDOWN(process_modes)
{
	vm_destroy(&self->vm);
	proc_set(getpid(), "-");
	free(self->set);
	restore_state(_metadata, &self->saved);
}

/* The pending mode is the VM's from birth: KVM's stored CPUID is masked. */
TEST_F(process_modes, applies_to_own_vms)
{
	struct kvm_cpuid2 *got;
	struct guest_view gv;
	char dir[256];
	struct vm later;

	if (!(table_reg(self->set, 1, 0, PCM_KVM_ECX) & (1U << 20)))
		SKIP(return, "host lacks sse4_2, which mode min hides");
	ASSERT_EQ(0, proc_set(getpid(), "min"));
	EXPECT_TRUE(proc_listed(getpid(), "min"));
	new_vm(_metadata, &self->vm, true);
	wait_vm_dir(_metadata, self->vm.vm_fd, dir, sizeof(dir));
	mode_of(_metadata, self->vm.vm_fd, dir, PCM_KVM_MODE_MIN);
	set_cpuid(_metadata, &self->vm, self->set);
	got = vcpu_get_cpuid(&self->vm);
	ASSERT_NE(NULL, got);
	EXPECT_FALSE(table_reg(got, 1, 0, PCM_KVM_ECX) & (1U << 20))
		TH_LOG("KVM_GET_CPUID2 still has sse4_2: stored entries not masked");
	free(got);
	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
	EXPECT_FALSE(guest_reg(&gv, 1, 0, PCM_KVM_ECX) & (1U << 20))
		TH_LOG("the guest sees sse4_2 in mode min");

	/* Forgotten: the next VM gets default_mode again. */
	ASSERT_EQ(0, proc_set(getpid(), "-"));
	EXPECT_FALSE(proc_listed(getpid(), NULL));
	new_vm(_metadata, &later, false);
	EXPECT_EQ(PCM_KVM_MODE_OFF, pcm_get_vm_mode(later.vm_fd));
	vm_destroy(&later);
}

/* Only the named process's VMs; the entry survives its VMs. */
TEST_F(process_modes, other_processes_unaffected)
{
	int release, status, p[2];
	pid_t child;

	child = waiting_child(_metadata, &release);
	ASSERT_EQ(0, proc_set(child, "x86-64-v3"));
	new_vm(_metadata, &self->vm, false);
	EXPECT_EQ(PCM_KVM_MODE_OFF, pcm_get_vm_mode(self->vm.vm_fd));
	close(release);
	ASSERT_EQ(child, waitpid(child, &status, 0));

	/* A child registered by its parent, creating two VMs in turn. */
	ASSERT_EQ(0, pipe(p));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		struct vm a, b;
		char c;
		int ok;

		close(p[1]);
		if (read(p[0], &c, 1) != 1 || vm_create(&a))
			_exit(2);
		ok = pcm_get_vm_mode(a.vm_fd) == PCM_KVM_MODE_X86_64_V3;
		vm_destroy(&a);
		if (vm_create(&b))
			_exit(2);
		ok &= pcm_get_vm_mode(b.vm_fd) == PCM_KVM_MODE_X86_64_V3;
		vm_destroy(&b);
		_exit(ok ? 0 : 1);
	}
	close(p[0]);
	ASSERT_EQ(0, proc_set(child, "x86-64-v3"));
	ASSERT_EQ(1, write(p[1], "g", 1));
	close(p[1]);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the child's VMs did not start in x86-64-v3 (status %#x)", status);
	/* Exited: the entry is gone, and a recycled pid could not match it. */
	EXPECT_FALSE(proc_listed(child, NULL));
}

TEST_F(process_modes, replace_and_list)
{
	int release, status;
	pid_t child;

	child = waiting_child(_metadata, &release);
	ASSERT_EQ(0, proc_set(getpid(), "x86-64-v2"));
	ASSERT_EQ(0, proc_set(child, "min"));
	ASSERT_EQ(0, proc_set(getpid(), "x86-64-v3"));
	EXPECT_TRUE(proc_listed(getpid(), "x86-64-v3"));
	EXPECT_FALSE(proc_listed(getpid(), "x86-64-v2"));
	EXPECT_TRUE(proc_listed(child, "min"));
	close(release);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_FALSE(proc_listed(child, NULL));
	EXPECT_TRUE(proc_listed(getpid(), "x86-64-v3"));
}

TEST_F(process_modes, bad_writes)
{
	static const struct { const char *text; int err; const char *token; } bad[] = {
		{ "abc min\n", -EINVAL, "bad pid 'abc'" },
		{ "0 min\n", -EINVAL, "bad pid '0'" },
		{ "-5 min\n", -EINVAL, "bad pid '-5'" },
		{ "99999999999 min\n", -EINVAL, "bad pid '99999999999'" },
		{ "00000000000000001 min\n", -EINVAL, "bad pid '00000000000000001'" },
		{ "2147483647 min\n", -ESRCH, "no process 2147483647" },
		{ "2147483647 -\n", -ENOENT, "no entry for process 2147483647" },
		{ "\n", -EINVAL, "expected 'PID MODE'" },
	};
	char text[96], buf[8192], before[8192];
	unsigned int i;
	int kmsg, r;

	ASSERT_EQ(0, proc_set(getpid(), "x86-64-v2"));
	ASSERT_LE(0, sysfs_read(PCM_SYSFS_PROCESS_MODES, before, sizeof(before)));
	kmsg = kmsg_open(_metadata);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		r = sysfs_write_str(PCM_SYSFS_PROCESS_MODES, bad[i].text);
		EXPECT_EQ(bad[i].err, r) TH_LOG("'%s': %s", bad[i].text, strerror(-r));
		EXPECT_TRUE(kmsg_find(kmsg, "process_modes: ", bad[i].token, NULL))
			TH_LOG("dmesg does not say \"%s\"", bad[i].token);
	}
	snprintf(text, sizeof(text), "%d x86-64-v9\n", (int)getpid());
	EXPECT_EQ(-EINVAL, sysfs_write_str(PCM_SYSFS_PROCESS_MODES, text));
	EXPECT_TRUE(kmsg_find(kmsg, "unknown mode 'x86-64-v9'", NULL, NULL));
	snprintf(text, sizeof(text), "%d\n", (int)getpid());
	EXPECT_EQ(-EINVAL, sysfs_write_str(PCM_SYSFS_PROCESS_MODES, text));
	snprintf(text, sizeof(text), "%d min extra\n", (int)getpid());
	EXPECT_EQ(-EINVAL, sysfs_write_str(PCM_SYSFS_PROCESS_MODES, text));
	close(kmsg);
	ASSERT_LE(0, sysfs_read(PCM_SYSFS_PROCESS_MODES, buf, sizeof(buf)));
	EXPECT_STREQ(before, buf);
	ASSERT_EQ(0, proc_set(getpid(), "-"));
	EXPECT_EQ(-ENOENT, proc_set(getpid(), "-"));
}

static int exit_probe_armed(unsigned long *nmissed);
static bool exit_probe_settles(int want);

/* A VM made by a process in a fresh child (pid 0) or grandchild (1): its mode. */
static int mode_in_descendant(int depth)
{
	pid_t child = fork();
	int status, mode;
	struct vm v;

	if (child < 0)
		return -1;
	if (!child) {
		if (depth)
			_exit(mode_in_descendant(depth - 1) + 1);
		if (vm_create(&v))
			_exit(255);
		mode = pcm_get_vm_mode(v.vm_fd);
		vm_destroy(&v);
		_exit(mode < 0 ? 254 : mode + 1);
	}
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) - 1;
}

/*
 * As QEMU's -daemonize: a child forks a grandchild and exits; the
 * grandchild, reparented, makes a VM.  Its mode (through a pipe), or -1.
 */
static int mode_in_daemon(void)
{
	int p[2], status, mode = -1;
	pid_t child;

	if (pipe(p))
		return -1;
	child = fork();
	if (child < 0)
		return -1;
	if (!child) {
		pid_t me = getpid(), gc = fork();
		struct vm v;
		int i, m = -1;

		if (gc)
			_exit(gc < 0);
		/* Wait to be an orphan, so that no ancestry links us. */
		for (i = 0; i < 500 && getppid() == me; i++)
			usleep(10000);
		if (getppid() != me && !vm_create(&v)) {
			m = pcm_get_vm_mode(v.vm_fd);
			vm_destroy(&v);
		}
		_exit(write(p[1], &m, sizeof(m)) != sizeof(m));
	}
	close(p[1]);
	if (waitpid(child, &status, 0) != child || read(p[0], &mode, sizeof(mode)) != sizeof(mode))
		mode = -1;
	close(p[0]);
	return mode;
}

/*
 * SET_PROCESS (pcmctl run): the caller's own entry, in process_modes,
 * applied from birth (KVM's stored CPUID masked at KVM_SET_CPUID2, the
 * exit probe not armed), and inherited by the processes it starts.
 */
TEST_F(process_modes, ioctl_self_and_descendants)
{
	struct pcm_kvm_vm_features f;
	unsigned long missed;
	struct guest_view gv;
	char dir[256];

	if (!(table_reg(self->set, 1, 0, PCM_KVM_ECX) & (1U << 20)))
		SKIP(return, "host lacks sse4_2, which mode min hides");
	ASSERT_EQ(0, pcm_set_process(0, PCM_KVM_MODE_MIN, NULL));
	EXPECT_TRUE(proc_listed(getpid(), "min"));
	new_vm(_metadata, &self->vm, true);
	wait_vm_dir(_metadata, self->vm.vm_fd, dir, sizeof(dir));
	mode_of(_metadata, self->vm.vm_fd, dir, PCM_KVM_MODE_MIN);
	set_cpuid(_metadata, &self->vm, self->set);
	ASSERT_EQ(0, pcm_get_vm_features(self->vm.vm_fd, &f));
	EXPECT_TRUE(f.flags & PCM_KVM_VM_STORED_MASKED) TH_LOG("flags 0x%x", f.flags);
	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
	EXPECT_FALSE(guest_reg(&gv, 1, 0, PCM_KVM_ECX) & (1U << 20))
		TH_LOG("the guest sees sse4_2 in mode min");
	EXPECT_TRUE(exit_probe_settles(0)) TH_LOG("the exit probe is armed");

	EXPECT_EQ(PCM_KVM_MODE_MIN, mode_in_descendant(0)) TH_LOG("a child's VM");
	EXPECT_EQ(PCM_KVM_MODE_MIN, mode_in_descendant(1)) TH_LOG("a grandchild's VM");
	EXPECT_EQ(PCM_KVM_MODE_MIN, mode_in_daemon()) TH_LOG("an orphaned grandchild's VM");
	/* Replaced, not added: one line for this process. */
	ASSERT_EQ(0, pcm_set_process(getpid(), PCM_KVM_MODE_X86_64_V2, NULL));
	EXPECT_TRUE(proc_listed(getpid(), "x86-64-v2"));
	EXPECT_FALSE(proc_listed(getpid(), "min"));
	EXPECT_EQ(PCM_KVM_MODE_X86_64_V2, mode_in_descendant(0));
	ASSERT_EQ(0, proc_set(getpid(), "-"));
	EXPECT_EQ(PCM_KVM_MODE_OFF, mode_in_descendant(0)) TH_LOG("forgotten, yet inherited");
	exit_probe_armed(&missed);
	EXPECT_EQ(0, missed);
}

/*
 * A child started while the entry exists is counted in its line, not
 * listed itself; forgetting the entry forgets what the child inherited,
 * though the child lives on.
 */
TEST_F(process_modes, inherited_listed_and_forgotten)
{
	int go[2], status;
	pid_t child;
	char c;

	ASSERT_EQ(0, pcm_set_process(0, PCM_KVM_MODE_X86_64_V2, NULL));
	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		struct vm v;
		int m;

		close(go[1]);
		if (read(go[0], &c, 1) != 1 || vm_create(&v))
			_exit(255);
		m = pcm_get_vm_mode(v.vm_fd);
		vm_destroy(&v);
		_exit(m < 0 ? 254 : m);
	}
	close(go[0]);
	EXPECT_TRUE(proc_listed(getpid(), "x86-64-v2 inherited=1"));
	EXPECT_FALSE(proc_listed(child, NULL)) TH_LOG("the child has a line of its own");
	ASSERT_EQ(0, proc_set(getpid(), "-"));
	EXPECT_FALSE(proc_listed(getpid(), NULL));
	ASSERT_EQ(1, write(go[1], "g", 1));
	close(go[1]);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(PCM_KVM_MODE_OFF, WEXITSTATUS(status))
		TH_LOG("the child's VM is in mode %d after the entry was forgotten",
		       WEXITSTATUS(status));
	/* An exited child is no longer counted. */
	ASSERT_EQ(0, pcm_set_process(0, PCM_KVM_MODE_X86_64_V2, NULL));
	EXPECT_EQ(PCM_KVM_MODE_X86_64_V2, mode_in_descendant(0));
	EXPECT_TRUE(proc_listed(getpid(), "x86-64-v2"));
}

/* SET_PROCESS: bad size, flags, mode, pid or identity -> an errno, no change. */
TEST_F(process_modes, ioctl_bad_args)
{
	static const int deltas[] = { -1, 1, -8, 8, 0 };
	struct pcm_kvm_identity id;
	struct pcm_kvm_process a;
	struct pcm_fs known;
	char before[8192], buf[8192];
	unsigned int i;
	int kmsg;

	ASSERT_EQ(0, proc_set(getpid(), "x86-64-v2"));
	ASSERT_LE(0, sysfs_read(PCM_SYSFS_PROCESS_MODES, before, sizeof(before)));
	kmsg = kmsg_open(_metadata);
	for (i = 0; i < ARRAY_SIZE(deltas); i++) {
		memset(&a, 0, sizeof(a));
		a.size = deltas[i] ? sizeof(a) + deltas[i] : 0;
		a.mode = PCM_KVM_MODE_MIN;
		errno = 0;
		EXPECT_EQ(-1, ioctl(pcm_fd(), PCM_KVM_SET_PROCESS, &a))
			TH_LOG("size %u accepted", a.size);
		EXPECT_EQ(EINVAL, errno);
	}
#define BAD_PROCESS(field, value, err, token) do {				\
		memset(&a, 0, sizeof(a));					\
		a.size = sizeof(a);						\
		a.mode = PCM_KVM_MODE_MIN;					\
		a.field = value;						\
		errno = 0;							\
		EXPECT_EQ(-1, ioctl(pcm_fd(), PCM_KVM_SET_PROCESS, &a))		\
			TH_LOG(#field " %ld accepted", (long)(value));		\
		EXPECT_EQ(err, errno) TH_LOG(#field " %ld: %s", (long)(value),	\
					     strerror(errno));			\
		EXPECT_TRUE(kmsg_find(kmsg, "SET_PROCESS: ", token, NULL))	\
			TH_LOG("dmesg does not say \"%s\"", token);		\
	} while (0)
	BAD_PROCESS(flags, 2, EINVAL, "unknown flags 0x2");
	BAD_PROCESS(flags, 0x80000000u, EINVAL, "unknown flags 0x80000000");
	BAD_PROCESS(mode, PCM_KVM_NR_MODES, EINVAL, "unknown mode");
	BAD_PROCESS(mode, ~0u, EINVAL, "unknown mode 4294967295");
	BAD_PROCESS(pid, -1, EINVAL, "bad pid -1");
	BAD_PROCESS(pid, 2147483647, ESRCH, "no process 2147483647");
#undef BAD_PROCESS
	/* A malformed expected identity: a feature bit no table names, a vendor without NUL. */
	memset(&id, 0, sizeof(id));
	id.mode = PCM_KVM_MODE_MIN;
	pcm_fs_known(&known);
	for (i = 0; i < PCM_KVM_NWORDS * 32 && pcm_fs_empty(&id.features); i++)
		if (!(known.words[i / 32] & (1U << (i % 32))))
			id.features.words[i / 32] = 1U << (i % 32);
	ASSERT_FALSE(pcm_fs_empty(&id.features)) TH_LOG("every bit is named");
	EXPECT_EQ(-EINVAL, pcm_set_process(0, PCM_KVM_MODE_MIN, &id));
	memset(&id, 0, sizeof(id));
	memset(id.vendor, 'A', sizeof(id.vendor));
	EXPECT_EQ(-EINVAL, pcm_set_process(0, PCM_KVM_MODE_MIN, &id));
	EXPECT_TRUE(kmsg_find(kmsg, "SET_PROCESS: ", "malformed identity", NULL));
	close(kmsg);
	ASSERT_LE(0, sysfs_read(PCM_SYSFS_PROCESS_MODES, buf, sizeof(buf)));
	EXPECT_STREQ(before, buf);
}

/* A full table refuses more, and says so. */
TEST_F_TIMEOUT(process_modes, table_full, PCM_TEST_TIMEOUT_LONG)
{
	pid_t kids[65];
	int release[65], status, i, r = 0, n = 0;

	for (i = 0; i < 65; i++) {
		kids[i] = waiting_child(_metadata, &release[i]);
		n++;
		r = proc_set(kids[i], "min");
		if (r)
			break;
	}
	EXPECT_EQ(-ENOSPC, r) TH_LOG("entry %d: %s", n, strerror(-r));
	EXPECT_EQ(65, n);
	/* Later children hold copies of earlier pipes: kill, not close. */
	for (i = 0; i < n; i++) {
		kill(kids[i], SIGKILL);
		close(release[i]);
		waitpid(kids[i], &status, 0);
	}
	/* Exited processes free their slots. */
	EXPECT_EQ(0, proc_set(getpid(), "min"));
}

/* ---------------------------------------------------------------------- */
/* The CPUID exit probe is armed only while a VM needs exit masking          */

/* "armed=N" of the kvm_cpuid line, -1 if absent; nmissed summed over all. */
static int exit_probe_armed(unsigned long *nmissed)
{
	char buf[4096], *line;
	unsigned long m;
	int armed = -1, a;

	*nmissed = 0;
	if (sysfs_read(PCM_SYSFS_PROBES, buf, sizeof(buf)) < 0)
		return -1;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *p = strstr(line, "nmissed="), *q = strstr(line, "armed=");

		if (!p || !q || sscanf(p, "nmissed=%lu", &m) != 1 ||
		    sscanf(q, "armed=%d", &a) != 1)
			return -1;
		*nmissed += m;
		if (!strncmp(line, "kvm_cpuid ", 10))
			armed = a;
	}
	return armed;
}

/* Disarming is lazy (a work item): poll. */
static bool exit_probe_settles(int want)
{
	unsigned long missed;
	int i;

	for (i = 0; i < PCM_VMDIR_TIMEOUT_MS / 10; i++) {
		if (exit_probe_armed(&missed) == want)
			return true;
		usleep(10000);
	}
	return false;
}

TEST(probes_file)
{
	static const char *const syms[] = {
		"kvm_arch_init_vm", "kvm_arch_destroy_vm", "kvm_set_cpuid",
		"kvm_arch_vcpu_ioctl_run", "kvm_cpuid",
	};
	char buf[4096], want[64];
	unsigned long missed;
	unsigned int i;

	REQUIRE_PCM();
	ASSERT_LE(0, sysfs_read(PCM_SYSFS_PROBES, buf, sizeof(buf)));
	for (i = 0; i < ARRAY_SIZE(syms); i++) {
		snprintf(want, sizeof(want), "%s kind=", syms[i]);
		EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("no %s line in:\n%s", syms[i], buf);
	}
	EXPECT_TRUE(exit_probe_settles(0));
	exit_probe_armed(&missed);
	EXPECT_EQ(0, missed);
}

FIXTURE(exit_probe) {
	struct saved_state saved;
	struct vm vm;
	struct kvm_cpuid2 *set;
};

FIXTURE_SETUP(exit_probe)
{
	self->vm.vm_fd = -1;
	self->vm.vcpu_fd = -1;
	REQUIRE_PCM();
	save_state(&self->saved);
	ASSERT_EQ(0, sysfs_write_str(PCM_PARAM_DEFAULT_MODE, "off\n"));
	self->set = supported(_metadata);
	ASSERT_TRUE(exit_probe_settles(0)) TH_LOG("armed with no VM");
}

FIXTURE_TEARDOWN(exit_probe)
{
	vm_destroy(&self->vm);
	free(self->set);
	restore_state(_metadata, &self->saved);
}

/* Modes set before KVM_SET_CPUID2 (and mode off) leave the exit path alone. */
TEST_F(exit_probe, not_armed_for_masked_or_off)
{
	struct guest_view gv;
	unsigned long missed;
	struct vm off;

	new_vm(_metadata, &off, true);
	set_cpuid(_metadata, &off, self->set);
	run_guest_cpuid(_metadata, &off, self->set, &gv);
	new_vm(_metadata, &self->vm, true);
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_X86_64_V2);
	set_cpuid(_metadata, &self->vm, self->set);
	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
	EXPECT_FALSE(guest_reg(&gv, 1, 0, PCM_KVM_ECX) & (1U << 28)) TH_LOG("avx visible");
	/* Armed only transiently by the mode write; never left armed. */
	EXPECT_TRUE(exit_probe_settles(0));
	vm_destroy(&off);
	EXPECT_EQ(0, exit_probe_armed(&missed));
	EXPECT_EQ(0, missed);
}

/* A mode set after KVM_SET_CPUID2 arms it before the write returns. */
TEST_F(exit_probe, armed_while_late_mode_vm_lives)
{
	struct guest_view gv;
	unsigned long missed;

	if (!(table_reg(self->set, 1, 0, PCM_KVM_ECX) & (1U << 20)))
		SKIP(return, "host lacks sse4_2, which mode min hides");
	new_vm(_metadata, &self->vm, true);
	set_cpuid(_metadata, &self->vm, self->set);
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_MIN);
	EXPECT_EQ(1, exit_probe_armed(&missed));
	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
	EXPECT_FALSE(guest_reg(&gv, 1, 0, PCM_KVM_ECX) & (1U << 20))
		TH_LOG("the guest sees sse4_2 in mode min set after KVM_SET_CPUID2");
	/* Back to off before the run would disarm; after the run it is frozen. */
	vm_destroy(&self->vm);
	EXPECT_TRUE(exit_probe_settles(0)) TH_LOG("still armed after the VM ended");
	exit_probe_armed(&missed);
	EXPECT_EQ(0, missed);
}

TEST_F(exit_probe, disarmed_when_late_mode_reverts)
{
	struct kvm_cpuid2 *got;
	unsigned long missed;

	new_vm(_metadata, &self->vm, true);
	set_cpuid(_metadata, &self->vm, self->set);
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_X86_64_V2);
	EXPECT_EQ(1, exit_probe_armed(&missed));
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_OFF);
	EXPECT_TRUE(exit_probe_settles(0));
	/*
	 * A new KVM_SET_CPUID2 after a late mode masks the stored entries.
	 * What the vCPU held before still counts (pcm_kvm records the widest
	 * of every accepted set, never less), so the probe stays armed for
	 * this VM until it ends.
	 */
	set_mode(_metadata, self->vm.vm_fd, PCM_KVM_MODE_X86_64_V2);
	EXPECT_EQ(1, exit_probe_armed(&missed));
	set_cpuid(_metadata, &self->vm, self->set);
	got = vcpu_get_cpuid(&self->vm);
	ASSERT_NE(NULL, got);
	if (table_reg(self->set, 1, 0, PCM_KVM_ECX) & (1U << 28))
		EXPECT_FALSE(table_reg(got, 1, 0, PCM_KVM_ECX) & (1U << 28))
			TH_LOG("stored entries keep avx after a KVM_SET_CPUID2 in x86-64-v2");
	free(got);
	EXPECT_EQ(1, exit_probe_armed(&missed));
	vm_destroy(&self->vm);
	EXPECT_TRUE(exit_probe_settles(0));
}

TEST_HARNESS_MAIN
