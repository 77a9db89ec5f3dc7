// SPDX-License-Identifier: GPL-2.0
/*
 * pcm_migrate_test - kselftests for pcm_kvm's migration and restore checks
 * (issue 3): a VM's identity (vms/<pid>-<fd>/identity, GET_VM_IDENTITY),
 * the destination pre-check (CHECK_IDENTITY), host_withhold, and the
 * expected identity of a destination VM (vms/<pid>-<fd>/expect and status,
 * SET_VM_EXPECT, KVM_RUN refused with EPERM).
 *
 * One test kernel plays both hosts: host_withhold makes it an older host.
 * Guests are real (vm.c, guest.S) wherever the guest's view matters.
 * Every test restores host_withhold, default_mode and baseline in its
 * fixture teardown.
 *
 * The identity text is parsed and formatted with the module's own code
 * (module/pcm_identity.c, linked in), so the test and the module agree on
 * the format by construction; what is checked is the content.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pcm_util.h"
#include "vm.h"
#include "pcm_steps.h"

/* Every test gets a timeout sized for nested TCG (pcm_util.h), not 30 s. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT PCM_TEST_TIMEOUT


#define CPUID_1_ECX_SSE4_2	(1U << 20)

#define REQUIRE_KVM() do {						\
	if (!kvm_available())						\
		SKIP(return, "no usable /dev/kvm");			\
} while (0)

#define REQUIRE_PCM() do {						\
	REQUIRE_KVM();							\
	if (!pcm_loaded())						\
		SKIP(return, "pcm_kvm not loaded (no " PCM_KVM_DEVICE ")"); \
	if (access(PCM_PARAM_HOST_WITHHOLD, F_OK))			\
		SKIP(return, "this pcm_kvm has no host_withhold parameter"); \
} while (0)

/* The identity text is at most this long (module: PCM_IDENTITY_TEXT_MAX). */
#define ID_TEXT_MAX		(PCM_IDENTITY_TEXT_MAX + 64)

/* ---------------------------------------------------------------------- */
/* Steps (they take _metadata so that ASSERT_* work inside them)           */

/* Global state a test may change: saved in setup, restored in teardown. */
static void vm_init(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = -1;
	vm->vcpu_fd = -1;
}

static void wait_vm_dir(struct __test_metadata *_metadata, int vm_fd, char *dir,
			size_t size)
{
	vm_dir_path(dir, size, getpid(), vm_fd, NULL);
	ASSERT_TRUE(wait_path(dir, true, PCM_VMDIR_TIMEOUT_MS))
		TH_LOG("%s did not appear within %d ms", dir, PCM_VMDIR_TIMEOUT_MS);
}

/* The supported table without sse4_2 (leaf 1 ECX bit 20): a VMM that drops it. */
static struct kvm_cpuid2 *without_sse4_2(struct __test_metadata *_metadata,
					 const struct kvm_cpuid2 *full)
{
	struct kvm_cpuid2 *c = cpuid2_dup(full);
	struct kvm_cpuid_entry2 *e;

	ASSERT_NE(NULL, c);
	e = cpuid2_find(c, 1, 0);
	ASSERT_NE(NULL, e);
	e->ecx &= ~CPUID_1_ECX_SSE4_2;
	return c;
}

/* "<dir>/<file>" */
static const char *vm_file(const char *dir, const char *file)
{
	static char path[4][320];
	static unsigned int next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", dir, file);
	return p;
}

/* ---------------------------------------------------------------------- */
/* Identities                                                              */

static int get_identity(int vm_fd, struct pcm_kvm_identity *id)
{
	struct pcm_kvm_vm_identity a = { .size = sizeof(a), .vm_fd = vm_fd };

	if (ioctl(pcm_fd(), PCM_KVM_GET_VM_IDENTITY, &a))
		return -errno;
	*id = a.id;
	return 0;
}

static int check_identity(const struct pcm_kvm_identity *id, struct pcm_kvm_check *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->id = *id;
	return ioctl(pcm_fd(), PCM_KVM_CHECK_IDENTITY, c) ? -errno : 0;
}

static int host_identity(unsigned int mode, struct pcm_kvm_host_identity *h)
{
	memset(h, 0, sizeof(*h));
	h->size = sizeof(*h);
	h->mode = mode;
	return ioctl(pcm_fd(), PCM_KVM_GET_HOST_IDENTITY, h) ? -errno : 0;
}

static int set_expect_ioctl(int vm_fd, const struct pcm_kvm_identity *id)
{
	struct pcm_kvm_vm_expect a = { .size = sizeof(a), .vm_fd = vm_fd, .id = *id };

	return ioctl(pcm_fd(), PCM_KVM_SET_VM_EXPECT, &a) ? -errno : 0;
}

static const char *result_name(unsigned int r)
{
	switch (r) {
	case PCM_KVM_CHECK_IDENTICAL: return "IDENTICAL";
	case PCM_KVM_CHECK_COMPATIBLE: return "COMPATIBLE";
	case PCM_KVM_CHECK_MISSING: return "MISSING";
	case PCM_KVM_CHECK_VENDOR: return "VENDOR";
	default: return "?";
	}
}

static bool result_ok(unsigned int r)
{
	return r == PCM_KVM_CHECK_IDENTICAL || r == PCM_KVM_CHECK_COMPATIBLE;
}

static const char *fs_text(const struct pcm_fs *fs)
{
	static char buf[2][PCM_FS_TEXT_MAX];
	static unsigned int next;
	char *p = buf[next++ % 2];

	pcm_fs_format(fs, p, sizeof(buf[0]));
	return p;
}

/* Read and parse vms/<...>/identity; text gets the raw file. */
static void read_identity(struct __test_metadata *_metadata, const char *dir,
			  char *text, size_t size, struct pcm_kvm_identity *id)
{
	const char *bad = NULL;
	size_t badlen = 0;
	ssize_t n;
	int r;

	n = sysfs_read(vm_file(dir, "identity"), text, size);
	ASSERT_LT(0, n) TH_LOG("%s/identity: %s", dir, strerror(-n));
	r = pcm_identity_parse(text, n, id, &bad, &badlen);
	ASSERT_EQ(0, r) TH_LOG("%s/identity does not parse (%d) at '%.*s':\n%s", dir, r,
			       (int)badlen, bad, text);
}

static void expect_status(struct __test_metadata *_metadata, const char *dir,
			  const char *want)
{
	char buf[PCM_FS_TEXT_MAX + 64];

	ASSERT_LT(0, sysfs_read(vm_file(dir, "status"), buf, sizeof(buf)));
	EXPECT_STREQ(want, buf) TH_LOG("%s/status", dir);
}

/* vms/<...>/expect reads as one empty line: no expected identity. */
static void expect_unset(struct __test_metadata *_metadata, int vm_fd, const char *dir)
{
	struct pcm_kvm_vm_features f;
	char buf[ID_TEXT_MAX];

	ASSERT_LE(0, sysfs_read(vm_file(dir, "expect"), buf, sizeof(buf)));
	EXPECT_STREQ("\n", buf) TH_LOG("%s/expect", dir);
	ASSERT_EQ(0, pcm_get_vm_features(vm_fd, &f));
	EXPECT_FALSE(f.flags & PCM_KVM_VM_EXPECT) TH_LOG("flags 0x%x", f.flags);
	EXPECT_FALSE(f.flags & PCM_KVM_VM_BLOCKED) TH_LOG("flags 0x%x", f.flags);
}

static void write_withhold(struct __test_metadata *_metadata, const char *names)
{
	char buf[PCM_FS_TEXT_MAX + 2];
	int r;

	snprintf(buf, sizeof(buf), "%s\n", names);
	r = sysfs_write_str(PCM_PARAM_HOST_WITHHOLD, buf);
	ASSERT_EQ(0, r) TH_LOG("host_withhold <- '%s': %s", names, strerror(-r));
}

static void host_features(struct __test_metadata *_metadata, struct pcm_fs *fs)
{
	struct pcm_fs ioc, known;

	ASSERT_EQ(0, sysfs_read_fs(PCM_SYSFS_HOST_FEATURES, fs));
	ASSERT_EQ(0, pcm_get_host_features(&ioc));
	pcm_fs_known(&known);
	EXPECT_EQ(0, fs_diff("GET_HOST_FEATURES vs sysfs host_features", &ioc, fs, &known));
}

static void fs_of_names(struct __test_metadata *_metadata, const char *names,
			struct pcm_fs *fs)
{
	ASSERT_EQ(0, pcm_fs_parse(names, strlen(names), fs, NULL, NULL)) TH_LOG("%s", names);
}

/* ---------------------------------------------------------------------- */
/* identity: what a VM's guest sees, as text and as a struct               */

FIXTURE(identity) {
	struct vm vm;
	struct kvm_cpuid2 *set;
	char dir[256];
};

FIXTURE_VARIANT(identity) {
	unsigned int mode;
	bool mode_after_cpuid;	/* mode set after KVM_SET_CPUID2 (exit-path masking) */
};

FIXTURE_VARIANT_ADD(identity, off) { .mode = PCM_KVM_MODE_OFF };
FIXTURE_VARIANT_ADD(identity, min) { .mode = PCM_KVM_MODE_MIN };
FIXTURE_VARIANT_ADD(identity, v2) { .mode = PCM_KVM_MODE_X86_64_V2 };
FIXTURE_VARIANT_ADD(identity, v3) { .mode = PCM_KVM_MODE_X86_64_V3 };
FIXTURE_VARIANT_ADD(identity, v2_after_cpuid) {
	.mode = PCM_KVM_MODE_X86_64_V2, .mode_after_cpuid = true,
};

FIXTURE_SETUP(identity)
{
	vm_init(&self->vm);
	REQUIRE_PCM();
	self->set = supported(_metadata);
}

FIXTURE_TEARDOWN(identity)
{
	vm_destroy(&self->vm);
	free(self->set);
}

/*
 * The sysfs text parses and is exactly the module's format of what it
 * parses to; mode, features (= visible), vendor and numbers are the VM's;
 * GET_VM_IDENTITY returns the same struct; the guest sees the same.
 */
TEST_F(identity, text_struct_and_guest)
{
	static char text[ID_TEXT_MAX], again[ID_TEXT_MAX], after[ID_TEXT_MAX];
	struct pcm_kvm_identity id, ioc, id_after;
	struct pcm_fs visible, known, mask;
	struct guest_view gv;
	char vendor[16] = { 0 };
	uint64_t xcr0;
	size_t n;

	new_vm(_metadata, &self->vm, true);
	if (!variant->mode_after_cpuid)
		set_mode(_metadata, self->vm.vm_fd, variant->mode);
	set_cpuid(_metadata, &self->vm, self->set);
	if (variant->mode_after_cpuid)
		set_mode(_metadata, self->vm.vm_fd, variant->mode);
	wait_vm_dir(_metadata, self->vm.vm_fd, self->dir, sizeof(self->dir));

	read_identity(_metadata, self->dir, text, sizeof(text), &id);
	n = pcm_identity_format(&id, again, sizeof(again));
	EXPECT_EQ(strlen(text), n);
	EXPECT_STREQ(text, again) TH_LOG("the text is not the canonical format");

	EXPECT_EQ(variant->mode, id.mode) TH_LOG("identity mode %s", pcm_mode_name(id.mode));
	ASSERT_EQ(0, sysfs_read_fs(vm_file(self->dir, "visible"), &visible));
	pcm_fs_known(&known);
	EXPECT_EQ(0, fs_diff("identity features vs visible", &id.features, &visible, &known));

	memcpy(vendor, &cpuid2_find(self->set, 0, 0)->ebx, 4);
	memcpy(vendor + 4, &cpuid2_find(self->set, 0, 0)->edx, 4);
	memcpy(vendor + 8, &cpuid2_find(self->set, 0, 0)->ecx, 4);
	EXPECT_EQ(0, memcmp(vendor, id.vendor, sizeof(vendor)))
		TH_LOG("vendor '%.16s', leaf 0 says '%s'", id.vendor, vendor);
	EXPECT_EQ(table_reg(self->set, 0, 0, PCM_KVM_EAX), id.max_basic_leaf);
	EXPECT_EQ(table_reg(self->set, 0x80000000, 0, PCM_KVM_EAX), id.max_ext_leaf);
	EXPECT_EQ(table_reg(self->set, 0x80000008, 0, PCM_KVM_EAX) & 0xff, id.phys_bits);

	ASSERT_EQ(0, get_identity(self->vm.vm_fd, &ioc));
	EXPECT_EQ(0, memcmp(&id, &ioc, sizeof(id)))
		TH_LOG("GET_VM_IDENTITY differs from the sysfs text");

	/* What the guest executing CPUID sees is that identity. */
	run_guest_cpuid(_metadata, &self->vm, self->set, &gv);
	ASSERT_EQ(0, gv.req[0].leaf);
	EXPECT_EQ(id.max_basic_leaf, gv.req[0].regs[PCM_KVM_EAX]);
	EXPECT_EQ(0, memcmp(&gv.req[0].regs[PCM_KVM_EBX], id.vendor, 4));
	EXPECT_EQ(0, memcmp(&gv.req[0].regs[PCM_KVM_EDX], id.vendor + 4, 4));
	EXPECT_EQ(0, memcmp(&gv.req[0].regs[PCM_KVM_ECX], id.vendor + 8, 4));
	fs_compare_mask(&mask);
	EXPECT_EQ(0, fs_diff("guest CPUID vs identity features", &gv.fs, &id.features, &mask));
	xcr0 = guest_reg(&gv, 0xd, 0, PCM_KVM_EAX) |
	       (uint64_t)guest_reg(&gv, 0xd, 0, PCM_KVM_EDX) << 32;
	EXPECT_EQ(xcr0 & pcm_xcomp_allowed(&id.features), id.xcr0)
		TH_LOG("guest 0xD.0 offers 0x%llx", (unsigned long long)xcr0);

	/* Running changes nothing. */
	read_identity(_metadata, self->dir, after, sizeof(after), &id_after);
	EXPECT_STREQ(text, after);
	/* The identity is read-only. */
	EXPECT_NE(0, sysfs_write_str(vm_file(self->dir, "identity"), text));
}

/* ---------------------------------------------------------------------- */
/* check: PCM_KVM_CHECK_IDENTITY, this host as a destination               */

FIXTURE(check) {
	struct saved_state saved;
	struct vm vm;
	struct kvm_cpuid2 *set;
	struct pcm_kvm_identity id;	/* the VM's, from GET_VM_IDENTITY */
	struct pcm_fs host;
	char dir[256];
};

FIXTURE_VARIANT(check) {
	unsigned int mode;
};

FIXTURE_VARIANT_ADD(check, off) { .mode = PCM_KVM_MODE_OFF };
FIXTURE_VARIANT_ADD(check, min) { .mode = PCM_KVM_MODE_MIN };
FIXTURE_VARIANT_ADD(check, v2) { .mode = PCM_KVM_MODE_X86_64_V2 };
FIXTURE_VARIANT_ADD(check, v3) { .mode = PCM_KVM_MODE_X86_64_V3 };
FIXTURE_VARIANT_ADD(check, v4) { .mode = PCM_KVM_MODE_X86_64_V4 };

FIXTURE_SETUP(check)
{
	vm_init(&self->vm);
	REQUIRE_PCM();
	save_state(&self->saved);
	self->set = supported(_metadata);
}

FIXTURE_TEARDOWN(check)
{
	vm_destroy(&self->vm);
	free(self->set);
	restore_state(_metadata, &self->saved);
}

/* Global writes are done by the test body, so that the teardown undoes them. */
static void check_prepare(struct __test_metadata *_metadata, FIXTURE_DATA(check) *self,
			  const FIXTURE_VARIANT(check) *variant)
{
	host_features(_metadata, &self->host);
	new_vm(_metadata, &self->vm, true);
	set_mode(_metadata, self->vm.vm_fd, variant->mode);
	set_cpuid(_metadata, &self->vm, self->set);
	wait_vm_dir(_metadata, self->vm.vm_fd, self->dir, sizeof(self->dir));
	ASSERT_EQ(0, get_identity(self->vm.vm_fd, &self->id));
}

/* want: an enum pcm_kvm_check_result, or CHECK_OK for IDENTICAL or COMPATIBLE */
#define CHECK_OK	100

static void check_is(struct __test_metadata *_metadata, const char *what,
		     const struct pcm_kvm_identity *id, unsigned int want,
		     const struct pcm_fs *want_missing, struct pcm_kvm_check *out)
{
	struct pcm_kvm_check c;
	struct pcm_fs known;
	int r;

	r = check_identity(id, &c);
	ASSERT_EQ(0, r) TH_LOG("%s: CHECK_IDENTITY: %s", what, strerror(-r));
	if (want == CHECK_OK) {
		EXPECT_TRUE(result_ok(c.result))
			TH_LOG("%s: %s, expected IDENTICAL or COMPATIBLE; missing '%s'",
			       what, result_name(c.result), fs_text(&c.missing));
	} else {
		EXPECT_EQ(want, c.result)
			TH_LOG("%s: %s, expected %s; missing '%s', extra '%s'", what,
			       result_name(c.result), result_name(want),
			       fs_text(&c.missing), fs_text(&c.extra));
	}
	if (want_missing) {
		pcm_fs_known(&known);
		EXPECT_EQ(0, fs_diff(what, &c.missing, want_missing, &known));
	}
	if (out)
		*out = c;
}

/* A VM's own identity on the host it runs on: IDENTICAL or COMPATIBLE. */
TEST_F(check, own_identity)
{
	struct pcm_kvm_check c;
	struct pcm_fs none, hw, overlap;
	char host_vendor[17] = { 0 };

	check_prepare(_metadata, self, variant);
	pcm_fs_zero(&none);
	check_is(_metadata, "own identity", &self->id, CHECK_OK, NULL, &c);
	EXPECT_TRUE(pcm_fs_empty(&c.missing)) TH_LOG("missing '%s'", fs_text(&c.missing));
	EXPECT_EQ(0, c.limits) TH_LOG("limits 0x%x", c.limits);
	EXPECT_EQ(0, c.reserved);
	EXPECT_EQ(0, self->id.xcr0 & ~c.host_xcr0)
		TH_LOG("VM xcr0 0x%llx, host 0x%llx", (unsigned long long)self->id.xcr0,
		       (unsigned long long)c.host_xcr0);
	EXPECT_EQ(0, memcmp(self->id.vendor, c.host_vendor, sizeof(c.host_vendor)))
		TH_LOG("host vendor '%.16s', VM '%.16s'", c.host_vendor, self->id.vendor);
	memcpy(host_vendor, c.host_vendor, 16);
	EXPECT_LE(self->id.phys_bits, c.host_phys_bits);
	EXPECT_NE(0, c.host_max_basic_leaf);
	EXPECT_LE(0x80000000u, c.host_max_ext_leaf);
	/* extra: hardware features of this host the VM does not see. */
	pcm_fs_of_class(&hw, PCM_CLASS_HW);
	EXPECT_TRUE(pcm_fs_subset(&c.extra, &hw)) TH_LOG("extra '%s'", fs_text(&c.extra));
	EXPECT_TRUE(pcm_fs_subset(&c.extra, &self->host))
		TH_LOG("extra '%s' not in host_features", fs_text(&c.extra));
	pcm_fs_and(&overlap, &c.extra, &self->id.features);
	EXPECT_TRUE(pcm_fs_empty(&overlap)) TH_LOG("extra and seen: '%s'", fs_text(&overlap));
	if (c.result == PCM_KVM_CHECK_IDENTICAL) {
		EXPECT_TRUE(pcm_fs_empty(&c.extra));
		EXPECT_EQ(self->id.phys_bits, c.host_phys_bits);
	} else if (c.result == PCM_KVM_CHECK_COMPATIBLE) {
		EXPECT_TRUE(!pcm_fs_empty(&c.extra) || c.host_phys_bits > self->id.phys_bits);
	}
	TH_LOG("%s on a %s host: %s (extra '%s')", pcm_mode_name(variant->mode),
	       host_vendor, result_name(c.result), fs_text(&c.extra));

	/* A larger max leaf than the host's refuses nothing by itself. */
	self->id.max_basic_leaf = c.host_max_basic_leaf + 0x10;
	self->id.max_ext_leaf = c.host_max_ext_leaf + 0x10;
	check_is(_metadata, "max leaves above the host's, features within", &self->id,
		 c.result, &none, &c);
	EXPECT_EQ(0, c.limits) TH_LOG("limits 0x%x", c.limits);
}

/* A hardware feature this host lacks -> MISSING naming exactly it. */
TEST_F(check, feature_host_lacks)
{
	static const char *const prefer[] = { "avx512f", "amx_tile", "avx512_fp16" };
	struct pcm_kvm_check c;
	struct pcm_fs hw, absent, want;
	unsigned int i;
	int id = -1;

	check_prepare(_metadata, self, variant);
	pcm_fs_of_class(&hw, PCM_CLASS_HW);
	pcm_fs_andnot(&absent, &hw, &self->host);
	for (i = 0; i < ARRAY_SIZE(prefer) && id < 0; i++) {
		int f = pcm_feature_lookup(prefer[i], strlen(prefer[i]));

		if (f >= 0 && pcm_fs_test(&absent, f))
			id = f;
	}
	for (i = 0; i < PCM_NR_FEATURES && id < 0; i++)
		if (pcm_fs_test(&absent, i))
			id = i;
	if (id < 0)
		SKIP(return, "the host has every hardware feature of the table");
	pcm_fs_zero(&want);
	pcm_fs_set(&want, id);
	pcm_fs_set(&self->id.features, id);
	TH_LOG("the host lacks %s", pcm_features[id].name);
	check_is(_metadata, pcm_features[id].name, &self->id, PCM_KVM_CHECK_MISSING, &want,
		 &c);
	EXPECT_EQ(0, c.limits) TH_LOG("limits 0x%x", c.limits);
}

/* host_withhold makes this host lack a feature the VM sees. */
TEST_F(check, feature_withheld)
{
	struct pcm_fs want;

	check_prepare(_metadata, self, variant);
	if (!pcm_fs_test(&self->id.features, PCM_F_SSE4_2))
		SKIP(return, "the VM does not see sse4_2 in mode %s", pcm_mode_name(variant->mode));
	check_is(_metadata, "before host_withhold", &self->id, CHECK_OK, NULL, NULL);
	write_withhold(_metadata, "sse4_2");
	pcm_fs_zero(&want);
	pcm_fs_set(&want, PCM_F_SSE4_2);
	check_is(_metadata, "host_withhold=sse4_2", &self->id, PCM_KVM_CHECK_MISSING, &want,
		 NULL);
	write_withhold(_metadata, "");
	check_is(_metadata, "host_withhold reset", &self->id, CHECK_OK, NULL, NULL);
}

/* Another vendor -> VENDOR, whatever the features. */
TEST_F(check, vendor)
{
	struct pcm_kvm_check c;

	check_prepare(_metadata, self, variant);
	ASSERT_EQ(0, check_identity(&self->id, &c));
	memset(self->id.vendor, 0, sizeof(self->id.vendor));
	strcpy(self->id.vendor, strncmp(c.host_vendor, "GenuineIntel", 12) ?
	       "GenuineIntel" : "AuthenticAMD");
	check_is(_metadata, self->id.vendor, &self->id, PCM_KVM_CHECK_VENDOR, NULL, &c);
	EXPECT_NE(0, memcmp(self->id.vendor, c.host_vendor, sizeof(c.host_vendor)));
	/* Vendor wins over missing features. */
	self->id.phys_bits = c.host_phys_bits + 1;
	check_is(_metadata, "vendor and phys_bits", &self->id, PCM_KVM_CHECK_VENDOR, NULL,
		 NULL);
}

/* More physical address bits than the host -> MISSING, no feature named. */
TEST_F(check, phys_bits)
{
	unsigned int host_bits;
	struct pcm_kvm_check c;
	struct pcm_fs none;

	check_prepare(_metadata, self, variant);
	pcm_fs_zero(&none);
	ASSERT_EQ(0, check_identity(&self->id, &c));
	ASSERT_TRUE(result_ok(c.result));
	host_bits = c.host_phys_bits;
	self->id.phys_bits = host_bits + 1;
	check_is(_metadata, "phys_bits host+1", &self->id, PCM_KVM_CHECK_MISSING, &none, &c);
	EXPECT_EQ(PCM_KVM_LIMIT_PHYS_BITS, c.limits) TH_LOG("limits 0x%x", c.limits);
	EXPECT_EQ(host_bits, c.host_phys_bits);
	self->id.phys_bits = 52;
	if (host_bits < 52) {
		check_is(_metadata, "phys_bits 52", &self->id, PCM_KVM_CHECK_MISSING, &none, &c);
		EXPECT_EQ(PCM_KVM_LIMIT_PHYS_BITS, c.limits) TH_LOG("limits 0x%x", c.limits);
	}
	/* Fewer than the host: fine, and the host has more. */
	self->id.phys_bits = host_bits - 1;
	check_is(_metadata, "phys_bits host-1", &self->id, PCM_KVM_CHECK_COMPATIBLE, &none,
		 &c);
	EXPECT_EQ(0, c.limits) TH_LOG("limits 0x%x", c.limits);
}

/* An XCR0 component the host (in that mode) does not offer -> MISSING. */
TEST_F(check, xcr0)
{
	struct pcm_kvm_check c;
	struct pcm_fs none;

	check_prepare(_metadata, self, variant);
	pcm_fs_zero(&none);
	self->id.xcr0 |= 1ULL << 62;	/* no such component anywhere */
	check_is(_metadata, "xcr0 bit 62", &self->id, PCM_KVM_CHECK_MISSING, &none, &c);
	EXPECT_EQ(PCM_KVM_LIMIT_XCR0, c.limits) TH_LOG("limits 0x%x", c.limits);
	EXPECT_FALSE(c.host_xcr0 & (1ULL << 62));
}

/* Bad size, flags or mode -> EINVAL; a mode that does not exist is refused. */
TEST_F(check, bad_args)
{
	static const int deltas[] = { -1, 1, -8, 8 };
	static const uint32_t flags[] = { 1, 2, 0x80000000u, ~0u };
	static const uint32_t modes[] = { PCM_KVM_NR_MODES, PCM_KVM_NR_MODES + 1,
					  0x80000000u, ~0u };
	struct pcm_kvm_check c;
	unsigned int i;

	check_prepare(_metadata, self, variant);
	for (i = 0; i <= ARRAY_SIZE(deltas); i++) {
		memset(&c, 0, sizeof(c));
		c.id = self->id;
		c.size = i < ARRAY_SIZE(deltas) ? sizeof(c) + deltas[i] : 0;
		errno = 0;
		EXPECT_EQ(-1, ioctl(pcm_fd(), PCM_KVM_CHECK_IDENTITY, &c))
			TH_LOG("size %u accepted", c.size);
		EXPECT_EQ(EINVAL, errno) TH_LOG("size %u: %s", c.size, strerror(errno));
	}
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		memset(&c, 0, sizeof(c));
		c.size = sizeof(c);
		c.flags = flags[i];
		c.id = self->id;
		errno = 0;
		EXPECT_EQ(-1, ioctl(pcm_fd(), PCM_KVM_CHECK_IDENTITY, &c));
		EXPECT_EQ(EINVAL, errno) TH_LOG("flags 0x%x: %s", flags[i], strerror(errno));
	}
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		memset(&c, 0, sizeof(c));
		c.size = sizeof(c);
		c.id = self->id;
		c.id.mode = modes[i];
		errno = 0;
		EXPECT_EQ(-1, ioctl(pcm_fd(), PCM_KVM_CHECK_IDENTITY, &c));
		EXPECT_EQ(EINVAL, errno) TH_LOG("mode %u: %s", modes[i], strerror(errno));
	}
	/* and a good one still works */
	EXPECT_EQ(0, check_identity(&self->id, &c));
}

/* GET_VM_IDENTITY: bad size, flags, reserved -> EINVAL; no VM -> EBADF/EINVAL. */
TEST_F(check, identity_bad_args)
{
	static const int deltas[] = { -1, 1, -8, 8 };
	struct pcm_kvm_vm_identity a;
	unsigned int i;

	check_prepare(_metadata, self, variant);
	for (i = 0; i <= ARRAY_SIZE(deltas); i++) {
		memset(&a, 0, sizeof(a));
		a.vm_fd = self->vm.vm_fd;
		a.size = i < ARRAY_SIZE(deltas) ? sizeof(a) + deltas[i] : 0;
		errno = 0;
		EXPECT_EQ(-1, ioctl(pcm_fd(), PCM_KVM_GET_VM_IDENTITY, &a));
		EXPECT_EQ(EINVAL, errno) TH_LOG("size %u: %s", a.size, strerror(errno));
	}
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.vm_fd = self->vm.vm_fd;
	a.flags = 1;
	errno = 0;
	EXPECT_EQ(-1, ioctl(pcm_fd(), PCM_KVM_GET_VM_IDENTITY, &a));
	EXPECT_EQ(EINVAL, errno);
	a.flags = 0;
	a.reserved = 1;
	errno = 0;
	EXPECT_EQ(-1, ioctl(pcm_fd(), PCM_KVM_GET_VM_IDENTITY, &a));
	EXPECT_EQ(EINVAL, errno);
	a.reserved = 0;
	a.vm_fd = -1;
	errno = 0;
	EXPECT_EQ(-1, ioctl(pcm_fd(), PCM_KVM_GET_VM_IDENTITY, &a));
	EXPECT_EQ(EBADF, errno);
	a.vm_fd = self->vm.vcpu_fd;
	errno = 0;
	EXPECT_EQ(-1, ioctl(pcm_fd(), PCM_KVM_GET_VM_IDENTITY, &a));
	EXPECT_EQ(EINVAL, errno) TH_LOG("a vCPU fd: %s", strerror(errno));
}

/*
 * GET_HOST_IDENTITY is this host as CHECK_IDENTITY sees it, so an offline
 * check against it (`pcmctl host --identity`, then `pcmctl check --host`)
 * answers as the online one does.
 */
TEST_F(check, host_identity)
{
	struct pcm_fs missing, extra, known;
	struct pcm_kvm_host_identity h, off;
	struct pcm_kvm_check c;
	unsigned int limits, result;
	int khz, r;

	check_prepare(_metadata, self, variant);
	r = host_identity(variant->mode, &h);
	ASSERT_EQ(0, r) TH_LOG("GET_HOST_IDENTITY: %s", strerror(-r));
	ASSERT_EQ(0, check_identity(&self->id, &c));
	EXPECT_EQ(variant->mode, h.id.mode);
	EXPECT_EQ(0, memcmp(h.id.vendor, c.host_vendor, sizeof(c.host_vendor)));
	EXPECT_EQ(c.host_phys_bits, h.id.phys_bits);
	EXPECT_EQ(c.host_max_basic_leaf, h.id.max_basic_leaf);
	EXPECT_EQ(c.host_max_ext_leaf, h.id.max_ext_leaf);
	EXPECT_EQ(c.host_xcr0, h.id.xcr0);
	EXPECT_EQ(c.host_tsc_khz, h.id.tsc_khz);
	EXPECT_EQ(c.host_flags, h.id.flags);
	EXPECT_EQ(kvm_check_extension(KVM_CAP_TSC_CONTROL) > 0,
		  !!(h.id.flags & PCM_KVM_ID_TSC_SCALING));
	/* A new vCPU's rate (this VM's vCPU has not been given another). */
	khz = ioctl(self->vm.vcpu_fd, KVM_GET_TSC_KHZ);
	ASSERT_LT(0, khz) TH_LOG("KVM_GET_TSC_KHZ: %s", strerror(errno));
	EXPECT_EQ((uint32_t)khz, h.id.tsc_khz);
	pcm_fs_known(&known);
	EXPECT_TRUE(pcm_fs_subset(&h.id.features, &self->host))
		TH_LOG("beyond host_features: '%s'", fs_text(&h.id.features));
	EXPECT_TRUE(pcm_fs_subset(&self->id.features, &h.id.features))
		TH_LOG("the VM sees more than this host in its mode");

	result = pcm_identity_check(&self->id, &h.id, &missing, &extra, &limits);
	EXPECT_EQ(c.result, result) TH_LOG("offline %s, online %s", result_name(result),
					   result_name(c.result));
	EXPECT_EQ(c.limits, limits);
	EXPECT_EQ(0, fs_diff("missing offline vs online", &missing, &c.missing, &known));
	EXPECT_EQ(0, fs_diff("extra offline vs online", &extra, &c.extra, &known));

	/* Mode off: everything this host gives, as host_features says. */
	ASSERT_EQ(0, host_identity(PCM_KVM_MODE_OFF, &off));
	EXPECT_EQ(0, fs_diff("host identity (off) vs host_features", &off.id.features,
			     &self->host, &known));
}

/* GET_HOST_IDENTITY: bad size, flags, reserved or mode -> EINVAL. */
TEST_F(check, host_identity_bad_args)
{
	static const int deltas[] = { -1, 1, -8, 8 };
	static const uint32_t bad[] = { 1, 2, 0x80000000u, ~0u };
	static const uint32_t modes[] = { PCM_KVM_NR_MODES, PCM_KVM_NR_MODES + 1,
					  0x80000000u, ~0u };
	struct pcm_kvm_host_identity h;
	unsigned int i, j;

	for (i = 0; i <= ARRAY_SIZE(deltas); i++) {
		memset(&h, 0, sizeof(h));
		h.size = i < ARRAY_SIZE(deltas) ? sizeof(h) + deltas[i] : 0;
		errno = 0;
		EXPECT_EQ(-1, ioctl(pcm_fd(), PCM_KVM_GET_HOST_IDENTITY, &h))
			TH_LOG("size %u accepted", h.size);
		EXPECT_EQ(EINVAL, errno) TH_LOG("size %u: %s", h.size, strerror(errno));
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		for (j = 0; j < 3; j++) {
			memset(&h, 0, sizeof(h));
			h.size = sizeof(h);
			h.mode = variant->mode;
			if (j == 0)
				h.flags = bad[i];
			else if (j == 1)
				h.reserved = bad[i];
			else
				h.mode = modes[i];
			errno = 0;
			EXPECT_EQ(-1, ioctl(pcm_fd(), PCM_KVM_GET_HOST_IDENTITY, &h))
				TH_LOG("%s 0x%x accepted",
				       j == 0 ? "flags" : j == 1 ? "reserved" : "mode",
				       j == 2 ? h.mode : bad[i]);
			EXPECT_EQ(EINVAL, errno);
		}
	}
	EXPECT_EQ(0, host_identity(variant->mode, &h));
}

/* An identity with flags pcm_kvm does not know is refused, by check and expect. */
TEST_F(check, identity_unknown_flags)
{
	struct pcm_kvm_identity id;
	struct pcm_kvm_check c;

	check_prepare(_metadata, self, variant);
	ASSERT_EQ(0, get_identity(self->vm.vm_fd, &id));
	ASSERT_EQ(0, check_identity(&id, &c));
	id.flags = 1U << 7;
	EXPECT_EQ(-EINVAL, check_identity(&id, &c));
	EXPECT_EQ(-EINVAL, set_expect_ioctl(self->vm.vm_fd, &id));
	id.flags = PCM_KVM_ID_TSC_SCALING;
	EXPECT_EQ(0, check_identity(&id, &c));
}

/* ---------------------------------------------------------------------- */
/* withhold: the host_withhold module parameter                            */

FIXTURE(withhold) {
	struct saved_state saved;
	struct vm before, after, later;
	struct kvm_cpuid2 *set;
	struct pcm_fs host;		/* host_features as found */
};

FIXTURE_SETUP(withhold)
{
	vm_init(&self->before);
	vm_init(&self->after);
	vm_init(&self->later);
	REQUIRE_PCM();
	save_state(&self->saved);
	self->set = supported(_metadata);
}

FIXTURE_TEARDOWN(withhold)
{
	vm_destroy(&self->before);
	vm_destroy(&self->after);
	vm_destroy(&self->later);
	free(self->set);
	restore_state(_metadata, &self->saved);
}

static void withhold_start(struct __test_metadata *_metadata,
			   FIXTURE_DATA(withhold) *self)
{
	write_withhold(_metadata, "");
	host_features(_metadata, &self->host);
}

/* The model's answer: host_features without the withheld, dependency-closed. */
static void host_without(const struct pcm_fs *host, const struct pcm_fs *withheld,
			 struct pcm_fs *out)
{
	pcm_fs_andnot(out, host, withheld);
	pcm_fs_close(out);
}

/* A guest in mode off with the VMM's full table. */
static void off_guest(struct __test_metadata *_metadata, struct vm *vm,
		      struct kvm_cpuid2 *set, struct guest_view *gv, bool create)
{
	if (create) {
		new_vm(_metadata, vm, true);
		set_mode(_metadata, vm->vm_fd, PCM_KVM_MODE_OFF);
		set_cpuid(_metadata, vm, set);
	}
	run_guest_cpuid(_metadata, vm, set, gv);
}

/*
 * host_withhold=sse4_2: host_features loses it (nothing depends on it);
 * a VM created afterwards does not see it even in mode off with the full
 * table; a VM created before does; "" restores everything.
 */
TEST_F(withhold, sse4_2)
{
	struct pcm_fs withheld, want, now, known, mask, vis, req, hid;
	struct guest_view gv;
	char buf[PCM_FS_TEXT_MAX], dir[256];

	withhold_start(_metadata, self);
	if (!fs_has(&self->host, "sse4_2") ||
	    !(table_reg(self->set, 1, 0, PCM_KVM_ECX) & CPUID_1_ECX_SSE4_2))
		SKIP(return, "the host (or KVM) lacks sse4_2");
	pcm_fs_known(&known);
	fs_compare_mask(&mask);

	new_vm(_metadata, &self->before, true);
	set_mode(_metadata, self->before.vm_fd, PCM_KVM_MODE_OFF);

	write_withhold(_metadata, "sse4_2");
	ASSERT_LT(0, sysfs_read(PCM_PARAM_HOST_WITHHOLD, buf, sizeof(buf)));
	EXPECT_STREQ("sse4_2\n", buf);
	fs_of_names(_metadata, "sse4_2", &withheld);
	host_without(&self->host, &withheld, &want);
	host_features(_metadata, &now);
	EXPECT_EQ(0, fs_diff("host_features with sse4_2 withheld", &now, &want, &known));
	EXPECT_FALSE(fs_has(&now, "sse4_2"));
	/* sse4_2 has no dependents: only it goes. */
	pcm_fs_andnot(&want, &self->host, &withheld);
	EXPECT_EQ(0, fs_diff("host_features minus just sse4_2", &now, &want, &known));

	/* Created afterwards, mode off, the full table: no sse4_2 for the guest. */
	off_guest(_metadata, &self->after, self->set, &gv, true);
	EXPECT_FALSE(guest_reg(&gv, 1, 0, PCM_KVM_ECX) & CPUID_1_ECX_SSE4_2)
		TH_LOG("a VM created after host_withhold=sse4_2 sees sse4_2");
	fs_from_cpuid2(self->set, &req);
	host_without(&req, &withheld, &want);
	EXPECT_EQ(0, fs_diff("guest of a VM created after the write", &gv.fs, &want, &mask));
	wait_vm_dir(_metadata, self->after.vm_fd, dir, sizeof(dir));
	ASSERT_EQ(0, sysfs_read_fs(vm_file(dir, "visible"), &vis));
	ASSERT_EQ(0, sysfs_read_fs(vm_file(dir, "hidden"), &hid));
	EXPECT_FALSE(fs_has(&vis, "sse4_2"));
	EXPECT_TRUE(fs_has(&hid, "sse4_2")) TH_LOG("hidden: '%s'", fs_text(&hid));
	EXPECT_EQ(PCM_KVM_MODE_OFF, pcm_get_vm_mode(self->after.vm_fd));

	/* Created before the write: unchanged, even with its table set now. */
	set_cpuid(_metadata, &self->before, self->set);
	off_guest(_metadata, &self->before, self->set, &gv, false);
	EXPECT_TRUE(guest_reg(&gv, 1, 0, PCM_KVM_ECX) & CPUID_1_ECX_SSE4_2)
		TH_LOG("a VM created before host_withhold=sse4_2 lost sse4_2");

	/* Reset: host_features is back, new VMs see it again, old ones keep theirs. */
	write_withhold(_metadata, "");
	ASSERT_LT(0, sysfs_read(PCM_PARAM_HOST_WITHHOLD, buf, sizeof(buf)));
	EXPECT_STREQ("\n", buf);
	host_features(_metadata, &now);
	EXPECT_EQ(0, fs_diff("host_features after the reset", &now, &self->host, &known));
	off_guest(_metadata, &self->later, self->set, &gv, true);
	EXPECT_TRUE(guest_reg(&gv, 1, 0, PCM_KVM_ECX) & CPUID_1_ECX_SSE4_2)
		TH_LOG("a VM created after the reset does not see sse4_2");
	off_guest(_metadata, &self->after, self->set, &gv, false);
	EXPECT_FALSE(guest_reg(&gv, 1, 0, PCM_KVM_ECX) & CPUID_1_ECX_SSE4_2)
		TH_LOG("the reset gave sse4_2 to a VM born without it");
}

/* Withholding ssse3 withholds what depends on it (sse4_1, sse4_2) too. */
TEST_F(withhold, dependents)
{
	struct pcm_fs withheld, want, now, known, mask, req;
	struct guest_view gv;

	withhold_start(_metadata, self);
	if (!fs_has(&self->host, "ssse3"))
		SKIP(return, "the host lacks ssse3");
	pcm_fs_known(&known);
	fs_compare_mask(&mask);
	write_withhold(_metadata, "ssse3");
	fs_of_names(_metadata, "ssse3", &withheld);
	host_without(&self->host, &withheld, &want);
	host_features(_metadata, &now);
	EXPECT_EQ(0, fs_diff("host_features with ssse3 withheld", &now, &want, &known));
	EXPECT_FALSE(fs_has(&now, "sse4_1"));
	EXPECT_FALSE(fs_has(&now, "sse4_2"));
	if (fs_has(&self->host, "popcnt"))
		EXPECT_TRUE(fs_has(&now, "popcnt"));

	new_vm(_metadata, &self->after, true);
	set_mode(_metadata, self->after.vm_fd, PCM_KVM_MODE_X86_64_V2);
	set_cpuid(_metadata, &self->after, self->set);
	run_guest_cpuid(_metadata, &self->after, self->set, &gv);
	fs_from_cpuid2(self->set, &req);
	fs_expected(PCM_KVM_MODE_X86_64_V2, NULL, &req, &want);
	pcm_fs_andnot(&want, &want, &withheld);
	pcm_fs_close(&want);
	EXPECT_EQ(0, fs_diff("x86-64-v2 guest with ssse3 withheld", &gv.fs, &want, &mask));
	EXPECT_FALSE(guest_reg(&gv, 1, 0, PCM_KVM_ECX) & (1U << 9)) TH_LOG("ssse3");
	EXPECT_FALSE(guest_reg(&gv, 1, 0, PCM_KVM_ECX) & (1U << 19)) TH_LOG("sse4_1");
	EXPECT_FALSE(guest_reg(&gv, 1, 0, PCM_KVM_ECX) & (1U << 20)) TH_LOG("sse4_2");
}

/* Lists: commas, aliases, any order; read back in table order. */
TEST_F(withhold, list)
{
	struct pcm_fs want, now, known;
	char buf[PCM_FS_TEXT_MAX];

	withhold_start(_metadata, self);
	pcm_fs_known(&known);
	write_withhold(_metadata, "popcnt,sse4.2");
	ASSERT_LT(0, sysfs_read(PCM_PARAM_HOST_WITHHOLD, buf, sizeof(buf)));
	EXPECT_STREQ("sse4_2 popcnt\n", buf);
	fs_of_names(_metadata, "sse4_2 popcnt", &want);
	host_without(&self->host, &want, &want);
	host_features(_metadata, &now);
	EXPECT_EQ(0, fs_diff("host_features with sse4_2 popcnt withheld", &now, &want, &known));
	/* The issue's own example */
	write_withhold(_metadata, "avx2,bmi2");
	ASSERT_LT(0, sysfs_read(PCM_PARAM_HOST_WITHHOLD, buf, sizeof(buf)));
	EXPECT_STREQ("avx2 bmi2\n", buf);
}

/* Unknown names and junk: EINVAL, and nothing changes. */
TEST_F(withhold, bad_writes)
{
	static const char *const bad[] = {
		"notafeature\n", "sse4_2 notafeature", "sse4_2,,bogus", "sse4.3",
		"x86-64-v2", "sse4_2\001",
	};
	static char junk[256], longstr[5000];
	char before[PCM_FS_TEXT_MAX], after[PCM_FS_TEXT_MAX];
	struct pcm_fs known, hf, now;
	unsigned int i;
	int r;

	withhold_start(_metadata, self);
	pcm_fs_known(&known);
	write_withhold(_metadata, "sse4_2");
	ASSERT_LT(0, sysfs_read(PCM_PARAM_HOST_WITHHOLD, before, sizeof(before)));
	host_features(_metadata, &hf);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		r = sysfs_write_str(PCM_PARAM_HOST_WITHHOLD, bad[i]);
		EXPECT_EQ(-EINVAL, r) TH_LOG("host_withhold '%s': %s", bad[i], strerror(-r));
		ASSERT_LT(0, sysfs_read(PCM_PARAM_HOST_WITHHOLD, after, sizeof(after)));
		EXPECT_STREQ(before, after) TH_LOG("after '%s'", bad[i]);
		host_features(_metadata, &now);
		EXPECT_EQ(0, fs_diff("host_features after a bad write", &now, &hf, &known));
	}
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = i ? i : 'x';
	EXPECT_NE(0, sysfs_write(PCM_PARAM_HOST_WITHHOLD, junk, sizeof(junk)));
	ASSERT_LT(0, sysfs_read(PCM_PARAM_HOST_WITHHOLD, after, sizeof(after)));
	EXPECT_STREQ(before, after);
	/* sysfs hands the parameter only its first page: that must not count. */
	for (i = 0; i < sizeof(longstr); i++)
		longstr[i] = "popcnt "[i % 7];
	EXPECT_NE(0, sysfs_write(PCM_PARAM_HOST_WITHHOLD, longstr, sizeof(longstr)));
	ASSERT_LT(0, sysfs_read(PCM_PARAM_HOST_WITHHOLD, after, sizeof(after)));
	EXPECT_STREQ(before, after) TH_LOG("a 5000-byte 'popcnt popcnt ...' was taken");
}

/* ---------------------------------------------------------------------- */
/* expect: the destination VM's expected identity, status, KVM_RUN         */

FIXTURE(expect) {
	struct saved_state saved;
	struct vm src, dst;
	struct kvm_cpuid2 *set, *nosse42;
	struct pcm_kvm_identity src_id;
	char src_text[ID_TEXT_MAX];
	char src_dir[256], dst_dir[256];
	int kmsg;
};

FIXTURE_SETUP(expect)
{
	vm_init(&self->src);
	vm_init(&self->dst);
	self->kmsg = -1;
	REQUIRE_PCM();
	save_state(&self->saved);
	self->set = supported(_metadata);
	self->nosse42 = without_sse4_2(_metadata, self->set);
}

FIXTURE_TEARDOWN(expect)
{
	vm_destroy(&self->src);
	vm_destroy(&self->dst);
	free(self->set);
	free(self->nosse42);
	if (self->kmsg >= 0)
		close(self->kmsg);
	restore_state(_metadata, &self->saved);
}

/*
 * The source: a VM in x86-64-v2 with the full supported table, created
 * with nothing withheld; its identity text is what a tool would copy.
 * Returns false when the test is skipped (SKIP only leaves this helper).
 */
#define EXPECT_SOURCE() do {						\
	if (!expect_source(_metadata, self))				\
		return;							\
} while (0)

static bool expect_source(struct __test_metadata *_metadata, FIXTURE_DATA(expect) *self)
{
	struct pcm_kvm_identity ioc;
	struct guest_view gv;

	write_withhold(_metadata, "");
	new_vm(_metadata, &self->src, true);
	set_mode(_metadata, self->src.vm_fd, PCM_KVM_MODE_X86_64_V2);
	set_cpuid(_metadata, &self->src, self->set);
	wait_vm_dir(_metadata, self->src.vm_fd, self->src_dir, sizeof(self->src_dir));
	run_guest_cpuid(_metadata, &self->src, self->set, &gv);
	read_identity(_metadata, self->src_dir, self->src_text, sizeof(self->src_text),
		      &self->src_id);
	ASSERT_EQ(0, get_identity(self->src.vm_fd, &ioc));
	ASSERT_EQ(0, memcmp(&ioc, &self->src_id, sizeof(ioc)));
	if (!pcm_fs_test(&self->src_id.features, PCM_F_SSE4_2))
		SKIP(return false, "the source VM does not see sse4_2 (host or KVM lacks it)");
	self->kmsg = kmsg_open(_metadata);
	return true;
}

/* The destination: a new VM in x86-64-v2, no KVM_SET_CPUID2 yet. */
static void expect_dest(struct __test_metadata *_metadata, FIXTURE_DATA(expect) *self)
{
	new_vm(_metadata, &self->dst, true);
	set_mode(_metadata, self->dst.vm_fd, PCM_KVM_MODE_X86_64_V2);
	wait_vm_dir(_metadata, self->dst.vm_fd, self->dst_dir, sizeof(self->dst_dir));
	expect_unset(_metadata, self->dst.vm_fd, self->dst_dir);
}

static int write_expect(const char *dir, const char *text)
{
	return sysfs_write_str(vm_file(dir, "expect"), text);
}

static void expect_reads(struct __test_metadata *_metadata, const char *dir,
			 const char *want)
{
	static char buf[ID_TEXT_MAX];

	ASSERT_LE(0, sysfs_read(vm_file(dir, "expect"), buf, sizeof(buf)));
	EXPECT_STREQ(want, buf) TH_LOG("%s/expect", dir);
}

/* KVM_RUN refused: EPERM, and the guest did not execute one instruction. */
static void run_refused(struct __test_metadata *_metadata, struct vm *vm)
{
	struct guest_cpuid *mb = (void *)((char *)vm->mem + GUEST_MBOX_GPA + MB_ENTRIES);
	struct guest_cpuid req[2] = { { .leaf = 0 }, { .leaf = 1 } };
	struct pcm_kvm_vm_features f;
	struct kvm_regs regs;
	unsigned int i, j;
	int r;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 4; j++)
			req[i].regs[j] = 0xa5a5a5a5;
	r = guest_cpuid(vm, req, 2);
	EXPECT_EQ(-EPERM, r) TH_LOG("KVM_RUN of a blocked VM: %s", strerror(-r));
	for (i = 0; i < 2; i++)
		for (j = 0; j < 4; j++)
			EXPECT_EQ(0xa5a5a5a5, mb[i].regs[j])
				TH_LOG("the guest ran CPUID(%u) although KVM_RUN failed", i);
	ASSERT_EQ(0, ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs));
	EXPECT_EQ(GUEST_CODE_GPA + (guest_cpuid_entry - guest_code_start), regs.rip)
		TH_LOG("RIP moved: the guest ran");
	ASSERT_EQ(0, pcm_get_vm_features(vm->vm_fd, &f));
	EXPECT_FALSE(f.flags & PCM_KVM_VM_RAN) TH_LOG("flags 0x%x", f.flags);
	EXPECT_TRUE(f.flags & PCM_KVM_VM_BLOCKED) TH_LOG("flags 0x%x", f.flags);
}

/* A destination VM that ran normally, seeing what the source saw (or more). */
static void runs_with_source_features(struct __test_metadata *_metadata,
				      FIXTURE_DATA(expect) *self, struct vm *vm,
				      struct kvm_cpuid2 *table)
{
	struct pcm_kvm_vm_features f;
	struct pcm_fs mask, seen, lost;
	struct guest_view gv;

	run_guest_cpuid(_metadata, vm, table, &gv);
	fs_compare_mask(&mask);
	pcm_fs_and(&seen, &self->src_id.features, &mask);
	pcm_fs_andnot(&lost, &seen, &gv.fs);
	EXPECT_TRUE(pcm_fs_empty(&lost)) TH_LOG("the destination guest lacks '%s'",
						fs_text(&lost));
	EXPECT_TRUE(guest_reg(&gv, 1, 0, PCM_KVM_ECX) & CPUID_1_ECX_SSE4_2);
	ASSERT_EQ(0, pcm_get_vm_features(vm->vm_fd, &f));
	EXPECT_TRUE(f.flags & PCM_KVM_VM_RAN) TH_LOG("flags 0x%x", f.flags);
	EXPECT_FALSE(f.flags & PCM_KVM_VM_BLOCKED) TH_LOG("flags 0x%x", f.flags);
}

/* After the first run: expect is frozen (EBUSY) through sysfs and the ioctl. */
static void expect_frozen(struct __test_metadata *_metadata, FIXTURE_DATA(expect) *self)
{
	static char before[ID_TEXT_MAX];
	char name[64];
	int r;

	ASSERT_LE(0, sysfs_read(vm_file(self->dst_dir, "expect"), before, sizeof(before)));
	r = write_expect(self->dst_dir, self->src_text);
	EXPECT_EQ(-EBUSY, r) TH_LOG("expect after the VM ran: %s", strerror(-r));
	r = set_expect_ioctl(self->dst.vm_fd, &self->src_id);
	EXPECT_EQ(-EBUSY, r) TH_LOG("SET_VM_EXPECT after the VM ran: %s", strerror(-r));
	expect_reads(_metadata, self->dst_dir, before);
	snprintf(name, sizeof(name), "VM %d-%d: expect refused", getpid(), self->dst.vm_fd);
	EXPECT_TRUE(kmsg_find(self->kmsg, name, "already run", NULL))
		TH_LOG("no '%s ... already run' in dmesg", name);
}

/* The expectation is met: the destination runs as any VM does. */
TEST_F(expect, met_runs_normally)
{
	struct pcm_kvm_vm_features f;
	struct pcm_kvm_identity dst_id;
	struct pcm_kvm_check c;
	int r;

	EXPECT_SOURCE();
	/* The pre-check on this destination host agrees. */
	ASSERT_EQ(0, check_identity(&self->src_id, &c));
	EXPECT_TRUE(result_ok(c.result)) TH_LOG("%s", result_name(c.result));

	expect_dest(_metadata, self);
	r = write_expect(self->dst_dir, self->src_text);
	ASSERT_EQ(0, r) TH_LOG("writing the source identity to expect: %s", strerror(-r));
	expect_reads(_metadata, self->dst_dir, self->src_text);
	ASSERT_EQ(0, pcm_get_vm_features(self->dst.vm_fd, &f));
	EXPECT_TRUE(f.flags & PCM_KVM_VM_EXPECT) TH_LOG("flags 0x%x", f.flags);
	{
		/* Not specified: what status says before the VMM set any CPUID. */
		char st[PCM_FS_TEXT_MAX + 64];

		if (sysfs_read(vm_file(self->dst_dir, "status"), st, sizeof(st)) > 0)
			TH_LOG("status before KVM_SET_CPUID2: %s", st);
	}

	set_cpuid(_metadata, &self->dst, self->set);
	expect_status(_metadata, self->dst_dir, "ok\n");
	ASSERT_EQ(0, get_identity(self->dst.vm_fd, &dst_id));
	EXPECT_EQ(0, memcmp(&dst_id, &self->src_id, sizeof(dst_id)))
		TH_LOG("same host, same table, same mode: a different identity");
	runs_with_source_features(_metadata, self, &self->dst, self->set);
	expect_status(_metadata, self->dst_dir, "ok\n");
	expect_frozen(_metadata, self);
	/* The mode is frozen as usual. */
	EXPECT_EQ(-EBUSY, pcm_set_vm_mode(self->dst.vm_fd, PCM_KVM_MODE_X86_64_V3));
}

/*
 * The brief's core: expect accepted, then the VMM's own KVM_SET_CPUID2
 * lacks sse4_2 -> status names it, KVM_RUN fails with EPERM before the
 * guest runs, and the VM stays open (mode, expect, CPUID) until it runs.
 */
TEST_F(expect, cpuid_lacks_expected_feature)
{
	struct pcm_kvm_vm_features f;
	char name[64];
	int r;

	EXPECT_SOURCE();
	expect_dest(_metadata, self);
	r = write_expect(self->dst_dir, self->src_text);
	ASSERT_EQ(0, r) TH_LOG("writing the source identity to expect: %s", strerror(-r));

	set_cpuid(_metadata, &self->dst, self->nosse42);
	expect_status(_metadata, self->dst_dir, "blocked: missing sse4_2\n");
	ASSERT_EQ(0, pcm_get_vm_features(self->dst.vm_fd, &f));
	EXPECT_EQ(PCM_KVM_VM_EXPECT | PCM_KVM_VM_BLOCKED,
		  f.flags & (PCM_KVM_VM_EXPECT | PCM_KVM_VM_BLOCKED | PCM_KVM_VM_RAN))
		TH_LOG("flags 0x%x", f.flags);

	run_refused(_metadata, &self->dst);
	snprintf(name, sizeof(name), "VM %d-%d: KVM_RUN refused", getpid(), self->dst.vm_fd);
	EXPECT_TRUE(kmsg_find(self->kmsg, name, "missing sse4_2", NULL))
		TH_LOG("no '%s, blocked: missing sse4_2' in dmesg", name);
	/* Twice: still refused, still not run. */
	run_refused(_metadata, &self->dst);
	expect_status(_metadata, self->dst_dir, "blocked: missing sse4_2\n");

	/* Not run: the mode and expect are still writable (no EBUSY). */
	r = pcm_set_vm_mode(self->dst.vm_fd, PCM_KVM_MODE_X86_64_V2);
	EXPECT_EQ(0, r) TH_LOG("SET_VM_MODE of a refused VM: %s", strerror(-r));
	r = sysfs_write_str(vm_file(self->dst_dir, "mode"), "x86-64-v2\n");
	EXPECT_EQ(0, r) TH_LOG("vms/.../mode of a refused VM: %s", strerror(-r));
	r = write_expect(self->dst_dir, self->src_text);
	EXPECT_EQ(0, r) TH_LOG("expect of a refused VM: %s", strerror(-r));
	r = set_expect_ioctl(self->dst.vm_fd, &self->src_id);
	EXPECT_EQ(0, r) TH_LOG("SET_VM_EXPECT of a refused VM: %s", strerror(-r));
	expect_status(_metadata, self->dst_dir, "blocked: missing sse4_2\n");

	/* The VMM fixes its table: the VM runs, nothing was lost. */
	set_cpuid(_metadata, &self->dst, self->set);
	expect_status(_metadata, self->dst_dir, "ok\n");
	runs_with_source_features(_metadata, self, &self->dst, self->set);
	expect_frozen(_metadata, self);
}

/*
 * How the source's VMM ordered its calls is not part of the identity: a
 * source whose mode was set after KVM_SET_CPUID2 (masked on the CPUID exit
 * path) and a destination whose mode came first (masked entries) give the
 * same guest view, so the move must work.
 */
TEST_F(expect, source_mode_after_cpuid)
{
	static char text[ID_TEXT_MAX];
	struct pcm_kvm_identity id, dst_id;
	struct guest_view sgv, dgv;
	struct pcm_fs mask;
	char dir[256], status[PCM_FS_TEXT_MAX + 64];
	struct vm late;
	int r;

	EXPECT_SOURCE();
	vm_init(&late);
	new_vm(_metadata, &late, true);
	set_cpuid(_metadata, &late, self->set);
	set_mode(_metadata, late.vm_fd, PCM_KVM_MODE_X86_64_V2);
	wait_vm_dir(_metadata, late.vm_fd, dir, sizeof(dir));
	run_guest_cpuid(_metadata, &late, self->set, &sgv);
	read_identity(_metadata, dir, text, sizeof(text), &id);

	expect_dest(_metadata, self);
	r = write_expect(self->dst_dir, text);
	ASSERT_EQ(0, r) TH_LOG("expect: %s", strerror(-r));
	set_cpuid(_metadata, &self->dst, self->set);
	ASSERT_EQ(0, get_identity(self->dst.vm_fd, &dst_id));
	ASSERT_LT(0, sysfs_read(vm_file(self->dst_dir, "status"), status, sizeof(status)));
	EXPECT_STREQ("ok\n", status)
		TH_LOG("source xcr0 0x%llx (mode set after KVM_SET_CPUID2), destination "
		       "xcr0 0x%llx (mode set before)", (unsigned long long)id.xcr0,
		       (unsigned long long)dst_id.xcr0);
	if (strcmp(status, "ok\n")) {
		run_refused(_metadata, &self->dst);
	} else {
		run_guest_cpuid(_metadata, &self->dst, self->set, &dgv);
		fs_compare_mask(&mask);
		EXPECT_EQ(0, fs_diff("destination vs source guest", &dgv.fs, &sgv.fs, &mask));
	}
	vm_destroy(&late);
}

/* expect written after KVM_SET_CPUID2 lacking sse4_2: blocked at once. */
TEST_F(expect, set_after_cpuid)
{
	int r;

	EXPECT_SOURCE();
	expect_dest(_metadata, self);
	set_cpuid(_metadata, &self->dst, self->nosse42);
	expect_status(_metadata, self->dst_dir, "ok\n");
	r = set_expect_ioctl(self->dst.vm_fd, &self->src_id);
	ASSERT_EQ(0, r) TH_LOG("SET_VM_EXPECT: %s", strerror(-r));
	expect_reads(_metadata, self->dst_dir, self->src_text);
	expect_status(_metadata, self->dst_dir, "blocked: missing sse4_2\n");
	run_refused(_metadata, &self->dst);
}

/* Changing the mode of a waiting destination re-evaluates it. */
TEST_F(expect, mode_change_reevaluates)
{
	char status[PCM_FS_TEXT_MAX + 64];

	EXPECT_SOURCE();
	expect_dest(_metadata, self);
	ASSERT_EQ(0, write_expect(self->dst_dir, self->src_text));
	set_cpuid(_metadata, &self->dst, self->set);
	expect_status(_metadata, self->dst_dir, "ok\n");
	/* min hides sse4_2, popcnt, ssse3 ... that the source saw. */
	set_mode(_metadata, self->dst.vm_fd, PCM_KVM_MODE_MIN);
	ASSERT_LT(0, sysfs_read(vm_file(self->dst_dir, "status"), status, sizeof(status)));
	EXPECT_EQ(0, strncmp(status, "blocked: missing ", 17)) TH_LOG("status '%s'", status);
	EXPECT_NE(NULL, strstr(status, "sse4_2")) TH_LOG("status '%s'", status);
	run_refused(_metadata, &self->dst);
	set_mode(_metadata, self->dst.vm_fd, PCM_KVM_MODE_X86_64_V2);
	expect_status(_metadata, self->dst_dir, "ok\n");
	runs_with_source_features(_metadata, self, &self->dst, self->set);
}

/*
 * A destination host withholding sse4_2 cannot give the source's identity:
 * expect is refused with EINVAL and dmesg names sse4_2; the same through
 * SET_VM_EXPECT; the pre-check says MISSING sse4_2.
 */
TEST_F(expect, refused_on_withholding_host)
{
	struct pcm_kvm_check c;
	struct pcm_fs want, known;
	char name[64];
	int r;

	EXPECT_SOURCE();
	write_withhold(_metadata, "sse4_2");
	ASSERT_EQ(0, check_identity(&self->src_id, &c));
	EXPECT_EQ(PCM_KVM_CHECK_MISSING, c.result) TH_LOG("%s", result_name(c.result));
	fs_of_names(_metadata, "sse4_2", &want);
	pcm_fs_known(&known);
	EXPECT_EQ(0, fs_diff("CHECK_IDENTITY missing", &c.missing, &want, &known));

	expect_dest(_metadata, self);
	snprintf(name, sizeof(name), "VM %d-%d: expected identity refused", getpid(),
		 self->dst.vm_fd);
	r = write_expect(self->dst_dir, self->src_text);
	EXPECT_EQ(-EINVAL, r) TH_LOG("expect on a host withholding sse4_2: %s", strerror(-r));
	EXPECT_TRUE(kmsg_find(self->kmsg, name, "missing sse4_2", NULL))
		TH_LOG("no '%s ... missing sse4_2' in dmesg", name);
	expect_unset(_metadata, self->dst.vm_fd, self->dst_dir);

	r = set_expect_ioctl(self->dst.vm_fd, &self->src_id);
	EXPECT_EQ(-EINVAL, r) TH_LOG("SET_VM_EXPECT on a host withholding sse4_2: %s",
				     strerror(-r));
	EXPECT_TRUE(kmsg_find(self->kmsg, name, "missing sse4_2", NULL))
		TH_LOG("no '%s ... missing sse4_2' in dmesg after SET_VM_EXPECT", name);
	expect_unset(_metadata, self->dst.vm_fd, self->dst_dir);
	expect_status(_metadata, self->dst_dir, "ok\n");

	/* Without an expectation the VM runs as it is (without sse4_2). */
	set_cpuid(_metadata, &self->dst, self->set);
	expect_status(_metadata, self->dst_dir, "ok\n");
}

/*
 * host_withhold applies to VMs created afterwards: a destination VM
 * created before it still gets sse4_2, so the source's identity is one it
 * can give.
 */
TEST_F(expect, withhold_after_dest_created)
{
	int r;

	EXPECT_SOURCE();
	expect_dest(_metadata, self);
	write_withhold(_metadata, "sse4_2");
	r = write_expect(self->dst_dir, self->src_text);
	EXPECT_EQ(0, r) TH_LOG("expect of a VM created before host_withhold=sse4_2: %s",
			       strerror(-r));
	if (r)
		kmsg_find(self->kmsg, "expected identity refused", NULL, NULL);
	set_cpuid(_metadata, &self->dst, self->set);
	if (!r)
		expect_status(_metadata, self->dst_dir, "ok\n");
	/* It does see sse4_2, so it can give what the source had. */
	runs_with_source_features(_metadata, self, &self->dst, self->set);
}

/*
 * pcmctl run --expect: the expectation is the process's (SET_PROCESS), so
 * its VM is born with it and with the mode, before any KVM_SET_CPUID2:
 * blocked until its CPUID gives what the source had, masked at
 * KVM_SET_CPUID2, then running normally.
 */
TEST_F(expect, process_expect_at_birth)
{
	struct pcm_kvm_vm_features f;
	char status[PCM_FS_TEXT_MAX + 64];
	int r;

	EXPECT_SOURCE();
	r = pcm_set_process(0, PCM_KVM_MODE_X86_64_V2, &self->src_id);
	ASSERT_EQ(0, r) TH_LOG("SET_PROCESS with the source identity: %s", strerror(-r));
	new_vm(_metadata, &self->dst, true);
	wait_vm_dir(_metadata, self->dst.vm_fd, self->dst_dir, sizeof(self->dst_dir));
	EXPECT_EQ(PCM_KVM_MODE_X86_64_V2, pcm_get_vm_mode(self->dst.vm_fd));
	expect_reads(_metadata, self->dst_dir, self->src_text);
	ASSERT_EQ(0, pcm_get_vm_features(self->dst.vm_fd, &f));
	EXPECT_TRUE(f.flags & PCM_KVM_VM_EXPECT) TH_LOG("flags 0x%x", f.flags);
	expect_status(_metadata, self->dst_dir, "blocked: the VMM has not set CPUID yet\n");

	/* A VMM whose CPUID lacks what the source had cannot run. */
	set_cpuid(_metadata, &self->dst, self->nosse42);
	ASSERT_LT(0, sysfs_read(vm_file(self->dst_dir, "status"), status, sizeof(status)));
	EXPECT_EQ(0, strncmp(status, "blocked: missing ", 17)) TH_LOG("status '%s'", status);
	EXPECT_NE(NULL, strstr(status, "sse4_2")) TH_LOG("status '%s'", status);
	run_refused(_metadata, &self->dst);

	set_cpuid(_metadata, &self->dst, self->set);
	expect_status(_metadata, self->dst_dir, "ok\n");
	ASSERT_EQ(0, pcm_get_vm_features(self->dst.vm_fd, &f));
	EXPECT_TRUE(f.flags & PCM_KVM_VM_STORED_MASKED) TH_LOG("flags 0x%x", f.flags);
	runs_with_source_features(_metadata, self, &self->dst, self->set);
	expect_frozen(_metadata, self);
}

/* SET_PROCESS with an identity this host cannot give: EINVAL, named, no entry. */
TEST_F(expect, process_expect_refused)
{
	char buf[4096], me[32];
	int r;

	EXPECT_SOURCE();
	write_withhold(_metadata, "sse4_2");
	r = pcm_set_process(0, PCM_KVM_MODE_X86_64_V2, &self->src_id);
	EXPECT_EQ(-EINVAL, r) TH_LOG("SET_PROCESS on a host withholding sse4_2: %s",
				     strerror(-r));
	EXPECT_TRUE(kmsg_find(self->kmsg, "process_modes: expected identity refused",
			      "missing sse4_2", NULL))
		TH_LOG("no 'process_modes: expected identity refused ... missing sse4_2'");
	ASSERT_LE(0, sysfs_read(PCM_SYSFS_PROCESS_MODES, buf, sizeof(buf)));
	snprintf(me, sizeof(me), "%d ", (int)getpid());
	EXPECT_TRUE(strncmp(buf, me, strlen(me)) && !strstr(buf, me))
		TH_LOG("process_modes lists this process: '%s'", buf);
	/* In mode min it would not see sse4_2 anyway: the same refusal. */
	EXPECT_EQ(-EINVAL, pcm_set_process(0, PCM_KVM_MODE_MIN, &self->src_id));
	write_withhold(_metadata, "");
	EXPECT_EQ(0, pcm_set_process(0, PCM_KVM_MODE_X86_64_V2, &self->src_id));
	snprintf(me, sizeof(me), "%d x86-64-v2 expect\n", (int)getpid());
	ASSERT_LE(0, sysfs_read(PCM_SYSFS_PROCESS_MODES, buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, me)) TH_LOG("process_modes: '%s'", buf);
}

/* Another vendor's identity is refused too. */
TEST_F(expect, refused_vendor)
{
	struct pcm_kvm_identity id;
	char name[64];

	EXPECT_SOURCE();
	expect_dest(_metadata, self);
	id = self->src_id;
	memset(id.vendor, 0, sizeof(id.vendor));
	strcpy(id.vendor, strncmp(self->src_id.vendor, "GenuineIntel", 12) ?
	       "GenuineIntel" : "AuthenticAMD");
	EXPECT_EQ(-EINVAL, set_expect_ioctl(self->dst.vm_fd, &id));
	snprintf(name, sizeof(name), "VM %d-%d: expected identity refused", getpid(),
		 self->dst.vm_fd);
	EXPECT_TRUE(kmsg_find(self->kmsg, name, "vendor", id.vendor))
		TH_LOG("no '%s ... vendor %s' in dmesg", name, id.vendor);
	expect_unset(_metadata, self->dst.vm_fd, self->dst_dir);
}

/* Replace the first occurrence of old in s (in place); false if absent. */
static bool replace(char *s, size_t size, const char *old, const char *new)
{
	char *p = strstr(s, old);
	size_t ol = strlen(old), nl = strlen(new), rest;

	if (!p || strlen(s) - ol + nl >= size)
		return false;
	rest = strlen(p + ol) + 1;
	memmove(p + nl, p + ol, rest);
	memcpy(p, new, nl);
	return true;
}

/* Replace the whole line "key: ..." of s by line (without its newline). */
static bool replace_line(char *s, size_t size, const char *key, const char *line)
{
	char old[ID_TEXT_MAX], *p, *e;

	p = strstr(s, key);
	if (!p || (p != s && p[-1] != '\n'))
		return false;
	e = strchr(p, '\n');
	if (!e)
		return false;
	snprintf(old, sizeof(old), "%.*s", (int)(e + 1 - p), p);
	return replace(s, size, old, line);
}

/* Malformed writes: EINVAL, and expect stays as it was. */
TEST_F(expect, malformed)
{
	static char t[ID_TEXT_MAX + 64], longstr[5000], junk[256];
	char vendor13[32], version3[32];
	const struct {
		const char *what, *key, *line;	/* the line of key becomes line */
	} edits[] = {
		{ "no words line", "words:", "" },
		{ "no vendor line", "vendor:", "" },
		{ "no pcm_kvm_identity line", "pcm_kvm_identity:", "" },
		{ "no mode line", "mode:", "" },
		{ "no phys_bits line", "phys_bits:", "" },
		{ "version 3", "pcm_kvm_identity:", version3 },
		{ "unknown mode", "mode:", "mode: x86-64-v9\n" },
		{ "phys_bits 256", "phys_bits:", "phys_bits: 256\n" },
		{ "phys_bits not a number", "phys_bits:", "phys_bits: forty\n" },
		{ "vendor of 13 characters", "vendor:", vendor13 },
		{ "vendor with a control character", "vendor:", "vendor: Authentic\001AMD\n" },
		{ "xcr0 not a number", "xcr0:", "xcr0: 0xzz\n" },
		{ "max_basic_leaf too large", "max_basic_leaf:", "max_basic_leaf: 0x100000000\n" },
		{ "duplicate key", "mode:", "mode: x86-64-v2\nmode: x86-64-v2\n" },
		{ "unknown key", "mode:", "colour: blue\nmode: x86-64-v2\n" },
		{ "a line without a colon", "mode:", "garbage\nmode: x86-64-v2\n" },
	};
	static const struct {
		const char *what, *old, *new;	/* replace old with new in the text */
	} subs[] = {
		{ "features without sse4_2, words with it", " sse4_2", "" },
		{ "features with avx512f, words without", "\nwords:", " avx512f\nwords:" },
		{ "an unknown feature name", "\nwords:", " notafeature\nwords:" },
		{ "an unknown word", "\nwords:", "\nwords: 99_EAX=0x1" },
		{ "a word value too large", "\nwords:", "\nwords: 1_ECX=0x100000000" },
		{ "a word without a value", "\nwords:", "\nwords: 1_ECX" },
		{ "a word given twice", "\nwords:", "\nwords: 1_ECX=0x0" },
	};
	static const char *const whole[] = {
		"\n", "hello\n", "pcm_kvm_identity: 1\n", "identical\n",
	};
	unsigned int i;
	int r;

	EXPECT_SOURCE();
	expect_dest(_metadata, self);
	snprintf(vendor13, sizeof(vendor13), "vendor: X%.12s\n", self->src_id.vendor);
	snprintf(version3, sizeof(version3), "pcm_kvm_identity: 3\n");

	for (i = 0; i < ARRAY_SIZE(edits); i++) {
		snprintf(t, sizeof(t), "%s", self->src_text);
		ASSERT_TRUE(replace_line(t, sizeof(t), edits[i].key, edits[i].line))
			TH_LOG("%s: no '%s' line in the text", edits[i].what, edits[i].key);
		r = write_expect(self->dst_dir, t);
		EXPECT_EQ(-EINVAL, r) TH_LOG("%s: %s", edits[i].what, strerror(-r));
		expect_unset(_metadata, self->dst.vm_fd, self->dst_dir);
	}
	for (i = 0; i < ARRAY_SIZE(subs); i++) {
		snprintf(t, sizeof(t), "%s", self->src_text);
		ASSERT_TRUE(replace(t, sizeof(t), subs[i].old, subs[i].new))
			TH_LOG("%s: no '%s' in the text", subs[i].what, subs[i].old);
		r = write_expect(self->dst_dir, t);
		EXPECT_EQ(-EINVAL, r) TH_LOG("%s: %s", subs[i].what, strerror(-r));
		expect_unset(_metadata, self->dst.vm_fd, self->dst_dir);
	}
	for (i = 0; i < ARRAY_SIZE(whole); i++) {
		r = write_expect(self->dst_dir, whole[i]);
		EXPECT_EQ(-EINVAL, r) TH_LOG("'%s': %s", whole[i], strerror(-r));
		expect_unset(_metadata, self->dst.vm_fd, self->dst_dir);
	}
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = i ? i : 'x';
	EXPECT_EQ(-EINVAL, sysfs_write(vm_file(self->dst_dir, "expect"), junk, sizeof(junk)));
	expect_unset(_metadata, self->dst.vm_fd, self->dst_dir);
	/* Truncated copies: before the words line, and in the middle of it. */
	snprintf(t, sizeof(t), "%s", self->src_text);
	t[strstr(t, "\nwords:") - t + 1] = '\0';
	EXPECT_EQ(-EINVAL, write_expect(self->dst_dir, t)) TH_LOG("cut before words:");
	expect_unset(_metadata, self->dst.vm_fd, self->dst_dir);
	snprintf(t, sizeof(t), "%s", self->src_text);
	t[strstr(t, "\nwords:") - t + 12] = '\0';
	EXPECT_EQ(-EINVAL, write_expect(self->dst_dir, t)) TH_LOG("cut: '%s'", t);
	expect_unset(_metadata, self->dst.vm_fd, self->dst_dir);
	/* Overlong: a valid identity padded with newlines past a page. */
	memset(longstr, '\n', sizeof(longstr));
	memcpy(longstr, self->src_text, strlen(self->src_text));
	EXPECT_EQ(-EINVAL, sysfs_write(vm_file(self->dst_dir, "expect"), longstr,
				       sizeof(longstr)));
	expect_unset(_metadata, self->dst.vm_fd, self->dst_dir);

	/* Blank lines and a missing last newline are fine. */
	snprintf(t, sizeof(t), "\n%s", self->src_text);
	t[strlen(t) - 1] = '\0';
	r = write_expect(self->dst_dir, t);
	EXPECT_EQ(0, r) TH_LOG("a valid identity with a leading blank line: %s", strerror(-r));
	expect_reads(_metadata, self->dst_dir, self->src_text);

	/* A bad write after a good one keeps the good one. */
	EXPECT_EQ(-EINVAL, write_expect(self->dst_dir, "hello\n"));
	expect_reads(_metadata, self->dst_dir, self->src_text);
}

/* SET_VM_EXPECT: bad size, flags, reserved, or a malformed identity -> EINVAL. */
TEST_F(expect, ioctl_bad_args)
{
	static const int deltas[] = { -1, 1, -8, 8 };
	struct pcm_kvm_vm_expect a;
	unsigned int i;

	EXPECT_SOURCE();
	expect_dest(_metadata, self);
#define BAD_EXPECT(what, err, stmt) do {					\
		memset(&a, 0, sizeof(a));				\
		a.size = sizeof(a);					\
		a.vm_fd = self->dst.vm_fd;				\
		a.id = self->src_id;					\
		stmt;							\
		errno = 0;						\
		EXPECT_EQ(-1, ioctl(pcm_fd(), PCM_KVM_SET_VM_EXPECT, &a))	\
			TH_LOG("%s accepted", what);			\
		EXPECT_EQ(err, errno) TH_LOG("%s: %s", what, strerror(errno)); \
		expect_unset(_metadata, self->dst.vm_fd, self->dst_dir);	\
	} while (0)

	for (i = 0; i < ARRAY_SIZE(deltas); i++)
		BAD_EXPECT("size", EINVAL, a.size = sizeof(a) + deltas[i]);
	BAD_EXPECT("size 0", EINVAL, a.size = 0);
	BAD_EXPECT("flags 1", EINVAL, a.flags = 1);
	BAD_EXPECT("flags 1<<31", EINVAL, a.flags = 0x80000000u);
	BAD_EXPECT("reserved", EINVAL, a.reserved = 1);
	BAD_EXPECT("mode NR_MODES", EINVAL, a.id.mode = PCM_KVM_NR_MODES);
	BAD_EXPECT("mode ~0", EINVAL, a.id.mode = ~0u);
	BAD_EXPECT("phys_bits 256", EINVAL, a.id.phys_bits = 256);
	BAD_EXPECT("an unknown feature bit", EINVAL,
		   a.id.features.words[PCM_KVM_NWORDS - 1] = 1);
	BAD_EXPECT("vendor without NUL", EINVAL, memset(a.id.vendor, 'A', sizeof(a.id.vendor)));
	BAD_EXPECT("vm_fd -1", EBADF, a.vm_fd = -1);
	BAD_EXPECT("a vCPU fd", EINVAL, a.vm_fd = self->dst.vcpu_fd);
	BAD_EXPECT("/dev/pcm_kvm", EINVAL, a.vm_fd = pcm_fd());
#undef BAD_EXPECT
	/* and the good one is taken */
	EXPECT_EQ(0, set_expect_ioctl(self->dst.vm_fd, &self->src_id));
	expect_reads(_metadata, self->dst_dir, self->src_text);
}

/*
 * The point of a mode: a VM in x86-64-v2 moves to a host that lacks a
 * feature of the source host it does not see (avx2); the same VM in mode
 * off, which sees avx2, cannot.
 */
TEST_F(expect, mode_makes_move_possible)
{
	static char text[ID_TEXT_MAX];
	struct pcm_fs host_b, miss, known;
	struct pcm_kvm_identity v2_id, off_id;
	struct pcm_kvm_check c;
	struct vm v2, off, d;
	char dir[256];
	int r;

	vm_init(&v2);
	vm_init(&off);
	vm_init(&d);
	write_withhold(_metadata, "");
	host_features(_metadata, &host_b);
	if (!fs_has(&host_b, "avx2") || !(table_reg(self->set, 7, 0, PCM_KVM_EBX) & (1U << 5)))
		SKIP(return, "the host (or KVM) lacks avx2");
	pcm_fs_known(&known);

	new_vm(_metadata, &v2, true);
	set_mode(_metadata, v2.vm_fd, PCM_KVM_MODE_X86_64_V2);
	set_cpuid(_metadata, &v2, self->set);
	wait_vm_dir(_metadata, v2.vm_fd, dir, sizeof(dir));
	read_identity(_metadata, dir, text, sizeof(text), &v2_id);
	new_vm(_metadata, &off, true);
	set_mode(_metadata, off.vm_fd, PCM_KVM_MODE_OFF);
	set_cpuid(_metadata, &off, self->set);
	ASSERT_EQ(0, get_identity(off.vm_fd, &off_id));
	ASSERT_TRUE(pcm_fs_test(&off_id.features, PCM_F_AVX2));

	/* Host B: no avx2 (nor what needs it). */
	write_withhold(_metadata, "avx2");
	host_features(_metadata, &host_b);
	ASSERT_EQ(0, check_identity(&v2_id, &c));
	EXPECT_TRUE(result_ok(c.result)) TH_LOG("x86-64-v2 VM: %s, missing '%s'",
						result_name(c.result), fs_text(&c.missing));
	ASSERT_EQ(0, check_identity(&off_id, &c));
	EXPECT_EQ(PCM_KVM_CHECK_MISSING, c.result) TH_LOG("mode-off VM: %s",
							   result_name(c.result));
	pcm_fs_andnot(&miss, &off_id.features, &host_b);
	pcm_fs_of_class(&known, PCM_CLASS_HW);
	pcm_fs_and(&miss, &miss, &known);
	pcm_fs_known(&known);
	EXPECT_EQ(0, fs_diff("mode-off VM missing", &c.missing, &miss, &known));
	EXPECT_TRUE(pcm_fs_test(&c.missing, PCM_F_AVX2));

	/* and the x86-64-v2 destination on B takes it and runs */
	new_vm(_metadata, &d, true);
	set_mode(_metadata, d.vm_fd, PCM_KVM_MODE_X86_64_V2);
	wait_vm_dir(_metadata, d.vm_fd, dir, sizeof(dir));
	r = write_expect(dir, text);
	EXPECT_EQ(0, r) TH_LOG("expect of the x86-64-v2 identity on B: %s", strerror(-r));
	set_cpuid(_metadata, &d, self->set);
	expect_status(_metadata, dir, "ok\n");
	{
		struct guest_view gv;

		run_guest_cpuid(_metadata, &d, self->set, &gv);
		EXPECT_FALSE(guest_reg(&gv, 7, 0, PCM_KVM_EBX) & (1U << 5));
	}
	r = set_expect_ioctl(d.vm_fd, &v2_id);
	EXPECT_EQ(-EBUSY, r) TH_LOG("SET_VM_EXPECT after the VM ran: %s", strerror(-r));
	vm_destroy(&v2);
	vm_destroy(&off);
	vm_destroy(&d);
}

/* ---------------------------------------------------------------------- */
/* tsc: an invtsc guest keeps its TSC rate, unless the destination scales  */

#define CPUID_8000_0007_EDX_INVTSC	(1U << 8)

FIXTURE(tsc) {
	struct saved_state saved;
	struct kvm_cpuid2 *set;
	struct vm vm, d;
	struct pcm_kvm_check host;	/* CHECK_IDENTITY's view of this host */
	bool scaling;
};

FIXTURE_SETUP(tsc)
{
	struct pcm_kvm_identity id;
	struct kvm_cpuid_entry2 *e;

	vm_init(&self->vm);
	vm_init(&self->d);
	REQUIRE_PCM();
	save_state(&self->saved);
	self->set = supported(_metadata);
	/* invtsc whether or not KVM offers it: KVM takes any CPUID bit */
	e = cpuid2_find(self->set, 0x80000007, 0);
	ASSERT_NE(NULL, e) TH_LOG("no leaf 0x80000007 in KVM_GET_SUPPORTED_CPUID");
	e->edx |= CPUID_8000_0007_EDX_INVTSC;
	memset(&id, 0, sizeof(id));
	ASSERT_EQ(0, check_identity(&id, &self->host));
	self->scaling = self->host.host_flags & PCM_KVM_ID_TSC_SCALING;
	EXPECT_EQ(kvm_check_extension(KVM_CAP_TSC_CONTROL) > 0, self->scaling);
	ASSERT_NE(0, self->host.host_tsc_khz) TH_LOG("CHECK_IDENTITY gives no host TSC rate");
}

FIXTURE_TEARDOWN(tsc)
{
	vm_destroy(&self->vm);
	vm_destroy(&self->d);
	free(self->set);
	restore_state(_metadata, &self->saved);
}

/* A VM in mode off with invtsc that ran once; its identity. */
static void tsc_vm(struct __test_metadata *_metadata, FIXTURE_DATA(tsc) *self,
		   struct vm *vm, uint32_t khz, struct pcm_kvm_identity *id)
{
	struct guest_view gv;
	int r;

	new_vm(_metadata, vm, true);
	set_mode(_metadata, vm->vm_fd, PCM_KVM_MODE_OFF);
	set_cpuid(_metadata, vm, self->set);
	if (khz) {
		r = ioctl(vm->vcpu_fd, KVM_SET_TSC_KHZ, khz);
		ASSERT_EQ(0, r) TH_LOG("KVM_SET_TSC_KHZ(%u): %s", khz, strerror(errno));
	}
	run_guest_cpuid(_metadata, vm, self->set, &gv);
	EXPECT_TRUE(guest_reg(&gv, 0x80000007, 0, PCM_KVM_EDX) & CPUID_8000_0007_EDX_INVTSC);
	ASSERT_EQ(0, get_identity(vm->vm_fd, id));
	EXPECT_TRUE(pcm_fs_test(&id->features, PCM_F_INVTSC));
}

/* At KVM's default rate: the identity has it; this host gives it. */
TEST_F(tsc, default_rate)
{
	struct pcm_kvm_identity id;
	struct pcm_kvm_check c;
	int khz;

	tsc_vm(_metadata, self, &self->vm, 0, &id);
	khz = ioctl(self->vm.vcpu_fd, KVM_GET_TSC_KHZ);
	ASSERT_LT(0, khz);
	EXPECT_EQ((uint32_t)khz, id.tsc_khz);
	EXPECT_EQ(self->host.host_tsc_khz, id.tsc_khz);
	/* (under TCG the host lacks invtsc itself: only the rate is looked at) */
	ASSERT_EQ(0, check_identity(&id, &c));
	EXPECT_FALSE(c.limits & PCM_KVM_LIMIT_TSC) TH_LOG("%s", result_name(c.result));
}

/*
 * A guest that ran at 10% above this host's rate (as on a faster source):
 * a host without TSC scaling refuses it, pre-check and expect alike, with
 * the rate named; one with scaling takes it.  Without invtsc, no check.
 */
TEST_F(tsc, other_rate)
{
	uint32_t other = self->host.host_tsc_khz / 10 * 11;
	struct pcm_kvm_identity id, plain, host_id;
	struct pcm_kvm_check c;
	char want[128], dir[256], text[ID_TEXT_MAX];
	int r, kmsg;

	tsc_vm(_metadata, self, &self->vm, 0, &id);
	id.tsc_khz = other;
	ASSERT_EQ(0, check_identity(&id, &c));
	if (self->scaling) {
		EXPECT_FALSE(c.limits & PCM_KVM_LIMIT_TSC);
		return;
	}
	EXPECT_EQ(PCM_KVM_CHECK_MISSING, c.result);
	EXPECT_EQ(PCM_KVM_LIMIT_TSC, c.limits);
	/* the destination's expect, as the text an operator copies */
	new_vm(_metadata, &self->d, true);
	set_mode(_metadata, self->d.vm_fd, PCM_KVM_MODE_OFF);
	set_cpuid(_metadata, &self->d, self->set);
	wait_vm_dir(_metadata, self->d.vm_fd, dir, sizeof(dir));
	pcm_identity_format(&id, text, sizeof(text));
	kmsg = kmsg_open(_metadata);
	r = write_expect(dir, text);
	EXPECT_EQ(-EINVAL, r) TH_LOG("expect with tsc_khz %u on a %u kHz host: %s", other,
				     self->host.host_tsc_khz, strerror(-r));
	snprintf(want, sizeof(want), "tsc_khz=%u (this host: %u", other, self->host.host_tsc_khz);
	EXPECT_TRUE(kmsg_find(kmsg, "expected identity refused", want, NULL));
	EXPECT_EQ(-EINVAL, set_expect_ioctl(self->d.vm_fd, &id));
	EXPECT_TRUE(kmsg_find(kmsg, "expected identity refused", want, NULL));
	/*
	 * The control: at this host's rate, the rate is met (under nested TCG
	 * the host lacks invtsc itself, which still refuses, but not the rate).
	 */
	plain = id;
	plain.tsc_khz = self->host.host_tsc_khz;
	r = set_expect_ioctl(self->d.vm_fd, &plain);
	EXPECT_EQ(c.missing.words[PCM_KVM_W_8000_0007_EDX] & CPUID_8000_0007_EDX_INVTSC ?
		  -EINVAL : 0, r);
	EXPECT_FALSE(kmsg_find(kmsg, "expected identity refused", "tsc_khz", NULL));
	close(kmsg);
	/* ... and the check says why, as pcmctl prints it */
	host_id = id;
	host_id.tsc_khz = c.host_tsc_khz;
	host_id.flags = c.host_flags;
	pcm_check_format(c.result, &id, &host_id, &c.missing, &c.extra, c.limits,
			 text, sizeof(text));
	snprintf(want, sizeof(want), " tsc_khz=%u (this host: %u, no TSC scaling)",
		 other, self->host.host_tsc_khz);
	EXPECT_NE(NULL, strstr(text, want)) TH_LOG("'%s' lacks '%s'", text, want);
	/* a guest without invtsc does not rely on its rate */
	plain = id;
	pcm_fs_clear(&plain.features, PCM_F_INVTSC);
	ASSERT_EQ(0, check_identity(&plain, &c));
	EXPECT_FALSE(c.limits & PCM_KVM_LIMIT_TSC);
}

/*
 * A VMM that asks for a rate above the host's without TSC scaling: KVM
 * accepts it but only catches up at each entry; the identity says what
 * the guest gets, the host's rate.
 */
TEST_F(tsc, catch_up_is_not_a_rate)
{
	uint32_t other = self->host.host_tsc_khz / 10 * 11;
	struct pcm_kvm_identity id;

	if (self->scaling)
		SKIP(return, "this host scales the TSC: it gives any rate");
	tsc_vm(_metadata, self, &self->vm, other, &id);
	EXPECT_EQ(self->host.host_tsc_khz, id.tsc_khz);
}

/* ---------------------------------------------------------------------- */
/* table: the brief's four rows, hosts A and B played with host_withhold   */

/*
 * X, Y, Z: x86-64-v2 features this host and KVM have, with nothing depending
 * on them here (so withholding one withholds only it).  Host A has the
 * features of mask a (bit i = the i-th of X, Y, Z), host B those of mask b.
 */
FIXTURE(table) {
	struct saved_state saved;
	struct kvm_cpuid2 *set;
	int xyz[3];
	char names[3][PCM_NAME_MAX + 1];
	int kmsg;
};

FIXTURE_VARIANT(table) {
	unsigned int a, b;
	bool a_to_b, b_to_a;	/* the brief's table, not derived here */
	bool msr_z;		/* Z is a not-affected bit of IA32_ARCH_CAPABILITIES */
};

/* Same features: both ways work. */
FIXTURE_VARIANT_ADD(table, same) { .a = 07, .b = 07, .a_to_b = true, .b_to_a = true };
/* A is a superset of B: A->B fails, B->A works. */
FIXTURE_VARIANT_ADD(table, a_superset) { .a = 07, .b = 03, .a_to_b = false, .b_to_a = true };
/* A is a subset of B: A->B works, B->A fails. */
FIXTURE_VARIANT_ADD(table, a_subset) { .a = 03, .b = 07, .a_to_b = true, .b_to_a = false };
/* Different combinations: both fail. */
FIXTURE_VARIANT_ADD(table, different) { .a = 03, .b = 06, .a_to_b = false, .b_to_a = false };
/* The same four rows with Z an MSR bit: a host without it is affected. */
FIXTURE_VARIANT_ADD(table, msr_same) {
	.a = 07, .b = 07, .a_to_b = true, .b_to_a = true, .msr_z = true };
FIXTURE_VARIANT_ADD(table, msr_a_superset) {
	.a = 07, .b = 03, .a_to_b = false, .b_to_a = true, .msr_z = true };
FIXTURE_VARIANT_ADD(table, msr_a_subset) {
	.a = 03, .b = 07, .a_to_b = true, .b_to_a = false, .msr_z = true };
FIXTURE_VARIANT_ADD(table, msr_different) {
	.a = 03, .b = 06, .a_to_b = false, .b_to_a = false, .msr_z = true };

FIXTURE_SETUP(table)
{
	static const char *const candidates[] = {
		"sse4_2", "popcnt", "cx16", "lahf_lm", "sse4_1", "ssse3",
	};
	static const char *const msr_candidates[] = {
		"arch_capabilities.mds_no", "arch_capabilities.rdcl_no",
		"arch_capabilities.gds_no", "arch_capabilities.its_no",
		"arch_capabilities.ssb_no",
	};
	struct pcm_fs host, req, allow, one, closed;
	unsigned int i, n = 0, want = variant->msr_z ? 2 : 3;

	self->kmsg = -1;
	REQUIRE_PCM();
	save_state(&self->saved);
	self->set = supported(_metadata);
	ASSERT_EQ(0, sysfs_read_fs(PCM_SYSFS_HOST_FEATURES, &host));
	fs_from_cpuid2(self->set, &req);
	pcm_mode_allow(PCM_KVM_MODE_X86_64_V2, NULL, &allow);
	for (i = 0; i < ARRAY_SIZE(candidates) && n < want; i++) {
		int id = feature_id(candidates[i]);

		if (!pcm_fs_test(&host, id) || !pcm_fs_test(&req, id) ||
		    !pcm_fs_test(&allow, id) || pcm_features[id].cls != PCM_CLASS_HW)
			continue;
		/* Nothing this host has depends on it. */
		pcm_fs_zero(&one);
		pcm_fs_set(&one, id);
		pcm_fs_andnot(&closed, &host, &one);
		pcm_fs_close(&closed);
		pcm_fs_or(&closed, &closed, &one);
		if (!pcm_fs_equal(&closed, &host))
			continue;
		self->xyz[n] = id;
		snprintf(self->names[n], sizeof(self->names[n]), "%s", candidates[i]);
		n++;
	}
	if (n < want)
		SKIP(return, "fewer than %u independent x86-64-v2 features on this host", want);
	/* An MSR bit: what the host's KVM offers a guest (it lacks no CPUID bit). */
	for (i = 0; i < ARRAY_SIZE(msr_candidates) && n < 3; i++) {
		int id = feature_id(msr_candidates[i]);

		if (!pcm_fs_test(&host, id))
			continue;
		self->xyz[n] = id;
		snprintf(self->names[n], sizeof(self->names[n]), "%s", msr_candidates[i]);
		n++;
	}
	ASSERT_EQ(3, n) TH_LOG("this host's KVM offers none of the not-affected bits tried");
}

/*
 * The guest's CPUID, and its IA32_ARCH_CAPABILITIES read with RDMSR: what
 * the guest sees of X, Y, Z.
 */
static void guest_sees(struct __test_metadata *_metadata, struct vm *vm,
		       struct kvm_cpuid2 *set, struct guest_view *gv)
{
	uint64_t v = 0;
	int r, vec;

	run_guest_cpuid(_metadata, vm, set, gv);
	r = guest_rdmsr(vm, PCM_MSR_ARCH_CAPABILITIES, &v, &vec);
	EXPECT_EQ(GUEST_DONE_RDMSR, r) TH_LOG("guest RDMSR(0x10a): %d (vector %d)", r, vec);
	pcm_fs_put_arch_cap(&gv->fs, v);
}

FIXTURE_TEARDOWN(table)
{
	free(self->set);
	if (self->kmsg >= 0)
		close(self->kmsg);
	restore_state(_metadata, &self->saved);
}

static void mask_fs(FIXTURE_DATA(table) *self, unsigned int mask, struct pcm_fs *fs)
{
	unsigned int i;

	pcm_fs_zero(fs);
	for (i = 0; i < 3; i++)
		if (mask & (1U << i))
			pcm_fs_set(fs, self->xyz[i]);
}

/* Become a host with the features of mask (of X, Y, Z). */
static void become_host(struct __test_metadata *_metadata, FIXTURE_DATA(table) *self,
			unsigned int mask)
{
	char names[3 * (PCM_NAME_MAX + 2)] = "";
	unsigned int i;

	for (i = 0; i < 3; i++) {
		if (mask & (1U << i))
			continue;
		strcat(names, names[0] ? " " : "");
		strcat(names, self->names[i]);
	}
	write_withhold(_metadata, names);
}

/*
 * One move: a VM in x86-64-v2 created on the source host (its guest sees
 * exactly the source's X, Y, Z), its identity text copied; on the
 * destination host the pre-check, then a destination VM with that
 * expectation, which runs if the move is allowed.
 */
static void table_move(struct __test_metadata *_metadata, FIXTURE_DATA(table) *self,
		       const char *dir_name, unsigned int src, unsigned int dst, bool ok)
{
	static char text[ID_TEXT_MAX];
	struct pcm_fs want_missing, extra_xyz, known, got_xyz, all_xyz, no;
	struct pcm_kvm_identity id;
	struct pcm_kvm_check c;
	struct guest_view gv;
	struct vm s, d;
	char sdir[256], ddir[256];
	unsigned int i;
	int r;

	vm_init(&s);
	vm_init(&d);
	pcm_fs_known(&known);
	mask_fs(self, 07, &all_xyz);

	/* On the source host */
	become_host(_metadata, self, src);
	new_vm(_metadata, &s, true);
	set_mode(_metadata, s.vm_fd, PCM_KVM_MODE_X86_64_V2);
	set_cpuid(_metadata, &s, self->set);
	wait_vm_dir(_metadata, s.vm_fd, sdir, sizeof(sdir));
	guest_sees(_metadata, &s, self->set, &gv);
	pcm_fs_and(&got_xyz, &gv.fs, &all_xyz);
	mask_fs(self, src, &want_missing);
	EXPECT_EQ(0, fs_diff(dir_name, &got_xyz, &want_missing, &known))
		TH_LOG("%s: the source guest does not see its host's X, Y, Z", dir_name);
	read_identity(_metadata, sdir, text, sizeof(text), &id);

	/* On the destination host */
	become_host(_metadata, self, dst);
	r = check_identity(&id, &c);
	ASSERT_EQ(0, r) TH_LOG("CHECK_IDENTITY: %s", strerror(-r));
	mask_fs(self, src & ~dst, &want_missing);
	mask_fs(self, dst & ~src, &extra_xyz);
	/* Immune to more is not more (CHECK_IDENTICAL). */
	pcm_fs_of_class(&no, PCM_CLASS_NO);
	pcm_fs_andnot(&extra_xyz, &extra_xyz, &no);
	TH_LOG("%s: %s, missing '%s', extra '%s'", dir_name, result_name(c.result),
	       fs_text(&c.missing), fs_text(&c.extra));
	if (ok) {
		EXPECT_TRUE(result_ok(c.result))
			TH_LOG("%s should work: %s, missing '%s'", dir_name,
			       result_name(c.result), fs_text(&c.missing));
		if (!pcm_fs_empty(&extra_xyz)) {
			EXPECT_EQ(PCM_KVM_CHECK_COMPATIBLE, c.result);
			EXPECT_TRUE(pcm_fs_subset(&extra_xyz, &c.extra))
				TH_LOG("extra '%s' lacks '%s'", fs_text(&c.extra),
				       fs_text(&extra_xyz));
		}
	} else {
		EXPECT_EQ(PCM_KVM_CHECK_MISSING, c.result)
			TH_LOG("%s should fail: %s", dir_name, result_name(c.result));
	}
	EXPECT_EQ(0, fs_diff(dir_name, &c.missing, &want_missing, &known));

	/* A destination VM with the source's identity as its expectation */
	new_vm(_metadata, &d, true);
	set_mode(_metadata, d.vm_fd, PCM_KVM_MODE_X86_64_V2);
	wait_vm_dir(_metadata, d.vm_fd, ddir, sizeof(ddir));
	r = write_expect(ddir, text);
	if (ok) {
		EXPECT_EQ(0, r) TH_LOG("%s: expect refused: %s", dir_name, strerror(-r));
		set_cpuid(_metadata, &d, self->set);
		expect_status(_metadata, ddir, "ok\n");
		guest_sees(_metadata, &d, self->set, &gv);
		pcm_fs_and(&got_xyz, &gv.fs, &all_xyz);
		mask_fs(self, dst, &want_missing);
		EXPECT_EQ(0, fs_diff(dir_name, &got_xyz, &want_missing, &known))
			TH_LOG("%s: the destination guest does not see its host's X, Y, Z",
			       dir_name);
	} else {
		char name[64];

		EXPECT_EQ(-EINVAL, r) TH_LOG("%s: expect accepted: %s", dir_name, strerror(-r));
		snprintf(name, sizeof(name), "VM %d-%d: expected identity refused",
			 getpid(), d.vm_fd);
		for (i = 0; i < 3; i++) {
			if (!((src & ~dst) & (1U << i)))
				continue;
			EXPECT_TRUE(kmsg_find(self->kmsg, name, self->names[i], NULL))
				TH_LOG("%s: dmesg does not name %s", dir_name, self->names[i]);
			break;	/* kmsg_find consumed the record */
		}
		EXPECT_EQ(-EINVAL, set_expect_ioctl(d.vm_fd, &id));
		expect_unset(_metadata, d.vm_fd, ddir);
	}
	vm_destroy(&s);
	vm_destroy(&d);
}

TEST_F(table, move_both_ways)
{
	TH_LOG("X Y Z = %s %s %s; A has %s%s%s, B has %s%s%s", self->names[0],
	       self->names[1], self->names[2],
	       variant->a & 1 ? "X" : "", variant->a & 2 ? "Y" : "", variant->a & 4 ? "Z" : "",
	       variant->b & 1 ? "X" : "", variant->b & 2 ? "Y" : "", variant->b & 4 ? "Z" : "");
	self->kmsg = kmsg_open(_metadata);
	table_move(_metadata, self, "A->B", variant->a, variant->b, variant->a_to_b);
	table_move(_metadata, self, "B->A", variant->b, variant->a, variant->b_to_a);
}

TEST_HARNESS_MAIN
