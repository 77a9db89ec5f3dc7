// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: a mode never makes a guest less safe.  On every real CPU of
 * ../shared/cpuid (scripts/kunit-run turns the dumps into pcm_dumps_gen.h),
 * every named mode and baseline keep every speculation control and
 * mitigation-enumeration bit (class SPEC) the VMM gave, and a destination
 * without one of them is refused.  TCG's KVM offers almost none of these
 * bits, so the guest tests cannot show this on real CPUs; these can.
 */
#include <kunit/test.h>
#include <linux/bitops.h>
#include "pcm_model.h"

struct pcm_dump_entry {
	u32 leaf, subleaf, eax, ebx, ecx, edx;
};

struct pcm_dump {
	const char *name;
	const struct pcm_dump_entry *e;
	unsigned int n;
};

#include "pcm_dumps_gen.h"

#define T_MAX_ENT 256

static const unsigned int t_masking_modes[] = {
	PCM_KVM_MODE_MIN, PCM_KVM_MODE_X86_64_V2, PCM_KVM_MODE_X86_64_V3,
	PCM_KVM_MODE_X86_64_V4, PCM_KVM_MODE_BASELINE,
};

/* The dump as the VMM's KVM_SET_CPUID2 entries. */
static unsigned int t_entries(struct kunit *test, const struct pcm_dump *d,
			      struct kvm_cpuid_entry2 *e)
{
	unsigned int i;

	KUNIT_ASSERT_LE_MSG(test, d->n, T_MAX_ENT, "%s", d->name);
	memset(e, 0, sizeof(*e) * d->n);
	for (i = 0; i < d->n; i++) {
		e[i].function = d->e[i].leaf;
		e[i].index = d->e[i].subleaf;
		e[i].eax = d->e[i].eax;
		e[i].ebx = d->e[i].ebx;
		e[i].ecx = d->e[i].ecx;
		e[i].edx = d->e[i].edx;
	}
	return d->n;
}

static void t_spec_fs(struct pcm_fs *spec)
{
	pcm_fs_of_class(spec, PCM_CLASS_SPEC);
}

static void t_no_fs(struct pcm_fs *no)
{
	pcm_fs_of_class(no, PCM_CLASS_NO);
}

static void t_expect_class(struct kunit *test, const char *const *names, size_t n,
			   unsigned int cls)
{
	unsigned int i;
	int id;

	for (i = 0; i < n; i++) {
		id = pcm_feature_lookup(names[i], strlen(names[i]));
		KUNIT_ASSERT_GE_MSG(test, id, 0, "%s is not in the table", names[i]);
		KUNIT_EXPECT_EQ_MSG(test, pcm_features[id].cls, cls, "%s", names[i]);
	}
}

/*
 * The list: each of these is a speculation control or enumerates
 * one (SPEC), or says the CPU is not affected by a bug (NO).
 */
static void t_spec_class(struct kunit *test)
{
	static const char *const spec[] = {
		"spec_ctrl", "intel_stibp", "flush_l1d", "spec_ctrl_ssbd",
		"amd_ibpb", "amd_ibrs", "amd_stibp", "amd_ssbd", "virt_ssbd",
		"autoibrs", "ibpb_brtype", "sbpb", "bhi_ctrl", "rrsba_ctrl", "psfd",
		"ipred_ctrl", "ddpd_u", "amd_psfd", "arch_capabilities.ibrs_all",
		"arch_capabilities.fb_clear", "arch_capabilities.tsx_ctrl_msr",
	};
	static const char *const no[] = {
		"amd_ssb_no", "btc_no", "srso_no", "srso_user_kernel_no", "mcdt_no",
		"arch_capabilities.rdcl_no", "arch_capabilities.mds_no",
		"arch_capabilities.gds_no", "arch_capabilities.its_no",
	};

	t_expect_class(test, spec, ARRAY_SIZE(spec), PCM_CLASS_SPEC);
	t_expect_class(test, no, ARRAY_SIZE(no), PCM_CLASS_NO);
}

/*
 * Every mode allows every SPEC feature, whatever the baseline holds; the
 * named levels allow every NO bit, baseline those its list has.
 */
static void t_spec_allowed(struct kunit *test)
{
	struct pcm_fs allow, spec, no, empty, t;
	unsigned int i, mode;

	t_spec_fs(&spec);
	t_no_fs(&no);
	pcm_fs_zero(&empty);
	for (i = 0; i < ARRAY_SIZE(t_masking_modes); i++) {
		mode = t_masking_modes[i];
		KUNIT_ASSERT_EQ(test, pcm_mode_allow(mode, &empty, &allow), 0);
		KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_subset(&spec, &allow), "mode %s",
				      pcm_mode_name(mode));
		pcm_fs_and(&t, &no, &allow);
		if (mode == PCM_KVM_MODE_BASELINE)
			KUNIT_EXPECT_TRUE(test, pcm_fs_empty(&t));
		else
			KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_equal(&t, &no), "mode %s",
					      pcm_mode_name(mode));
	}
	/* a pool whose hosts all have mds_no and btc_no */
	pcm_fs_zero(&t);
	pcm_fs_set(&t, PCM_F_ARCH_CAPABILITIES);
	pcm_fs_set(&t, PCM_F_AC_MDS_NO);
	pcm_fs_set(&t, PCM_F_BTC_NO);
	KUNIT_ASSERT_EQ(test, pcm_mode_allow(PCM_KVM_MODE_BASELINE, &t, &allow), 0);
	pcm_fs_and(&allow, &allow, &no);
	pcm_fs_andnot(&t, &t, &allow);
	KUNIT_EXPECT_TRUE(test, pcm_fs_test(&allow, PCM_F_AC_MDS_NO));
	KUNIT_EXPECT_TRUE(test, pcm_fs_test(&allow, PCM_F_BTC_NO));
	KUNIT_EXPECT_EQ(test, pcm_fs_count(&allow), 2);
}

static void t_expect_7_2(struct kunit *test, const struct pcm_dump *d,
			 unsigned int mode, u32 got, u32 want)
{
	KUNIT_EXPECT_EQ_MSG(test, got, want, "%s 7.2 EDX in %s", d->name,
			    pcm_mode_name(mode));
}

/*
 * Masking each real CPU's table keeps its SPEC bits and its 7.2 EDX, and
 * the SPEC bits are not a reason for any level: a CPU without them still
 * qualifies for what its other features give.
 */
static void t_spec_dumps_masked(struct kunit *test)
{
	struct kvm_cpuid_entry2 *e, *orig;
	struct pcm_fs allow, before, before_no, after, spec, no, empty, t;
	unsigned int d, m, i, n, seen = 0, with_7_2 = 0;

	e = kunit_kcalloc(test, T_MAX_ENT, sizeof(*e), GFP_KERNEL);
	orig = kunit_kcalloc(test, T_MAX_ENT, sizeof(*orig), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_ASSERT_NOT_NULL(test, orig);
	KUNIT_ASSERT_GE(test, ARRAY_SIZE(pcm_dumps), 10);
	t_spec_fs(&spec);
	t_no_fs(&no);
	pcm_fs_zero(&empty);
	for (d = 0; d < ARRAY_SIZE(pcm_dumps); d++) {
		n = t_entries(test, &pcm_dumps[d], orig);
		pcm_fs_from_entries(orig, n, &before);
		pcm_fs_and(&before_no, &before, &no);
		pcm_fs_and(&before, &before, &spec);
		for (i = 0; i < PCM_KVM_NR_WORDS_USED; i++)
			seen += hweight32(before_no.words[i]);
		for (i = 0; i < PCM_KVM_NR_WORDS_USED; i++)
			seen += hweight32(before.words[i]);
		with_7_2 += before.words[PCM_KVM_W_7_2_EDX] != 0;
		for (m = 0; m < ARRAY_SIZE(t_masking_modes); m++) {
			memcpy(e, orig, sizeof(*e) * n);
			pcm_mode_allow(t_masking_modes[m], &empty, &allow);
			pcm_mask_entries(e, n, &allow);
			pcm_fs_from_entries(e, n, &after);
			KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_subset(&before, &after),
					      "%s in %s loses a speculation control",
					      pcm_dumps[d].name,
					      pcm_mode_name(t_masking_modes[m]));
			/* an empty pool has no not-affected bit; a level keeps them */
			pcm_fs_and(&after, &after, &no);
			if (t_masking_modes[m] == PCM_KVM_MODE_BASELINE)
				pcm_fs_zero(&t);
			else
				t = before_no;
			KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_equal(&after, &t),
					      "%s in %s: not-affected bits",
					      pcm_dumps[d].name,
					      pcm_mode_name(t_masking_modes[m]));
			for (i = 0; i < n; i++) {
				u32 want = orig[i].edx & allow.words[PCM_KVM_W_7_2_EDX];

				if (e[i].function == 7 && e[i].index == 2)
					t_expect_7_2(test, &pcm_dumps[d], t_masking_modes[m],
						     e[i].edx, want);
			}
		}
	}
	/* Not vacuous: the dumps hold many such bits, 7.2 EDX included. */
	KUNIT_EXPECT_GE(test, seen, 50);
	KUNIT_EXPECT_GE(test, with_7_2, 1);
}

/* SPEC and NO bits are part of the identity: a destination without one refuses. */
static void t_spec_identity(struct kunit *test)
{
	struct kvm_cpuid_entry2 *e;
	struct pcm_kvm_identity vm, host;
	struct pcm_fs allow, spec, no, missing, extra, empty;
	unsigned int d, n, id, limits, result, checked = 0;

	e = kunit_kcalloc(test, T_MAX_ENT, sizeof(*e), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	t_spec_fs(&spec);
	t_no_fs(&no);
	pcm_fs_or(&spec, &spec, &no);
	pcm_fs_zero(&empty);
	pcm_mode_allow(PCM_KVM_MODE_X86_64_V2, &empty, &allow);
	for (d = 0; d < ARRAY_SIZE(pcm_dumps); d++) {
		n = t_entries(test, &pcm_dumps[d], e);
		pcm_mask_entries(e, n, &allow);
		pcm_identity_from_entries(e, n, &vm);
		for (id = 0; id < PCM_NR_FEATURES; id++) {
			if (!pcm_fs_test(&spec, id) || !pcm_fs_test(&vm.features, id))
				continue;
			host = vm;
			pcm_fs_clear(&host.features, id);
			result = pcm_identity_check(&vm, &host, &missing, &extra, &limits);
			KUNIT_EXPECT_GE_MSG(test, result, PCM_KVM_CHECK_MISSING,
					    "%s: a host without %s accepted", pcm_dumps[d].name,
					    pcm_features[id].name);
			KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_test(&missing, id),
					      "%s: %s not named missing", pcm_dumps[d].name,
					      pcm_features[id].name);
			/* The other way round: a host with more is fine. */
			result = pcm_identity_check(&host, &vm, &missing, &extra, &limits);
			KUNIT_EXPECT_LT_MSG(test, result, PCM_KVM_CHECK_MISSING,
					    "%s: a host with %s refused", pcm_dumps[d].name,
					    pcm_features[id].name);
			checked++;
		}
	}
	KUNIT_EXPECT_GE(test, checked, 50);
}

/* A level never needs a SPEC or NO bit: TCG and old CPUs still reach theirs. */
static void t_spec_not_in_levels(struct kunit *test)
{
	struct kvm_cpuid_entry2 *e;
	struct pcm_fs have, spec, no, without;
	unsigned int d, n;

	e = kunit_kcalloc(test, T_MAX_ENT, sizeof(*e), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	t_spec_fs(&spec);
	t_no_fs(&no);
	pcm_fs_or(&spec, &spec, &no);
	for (d = 0; d < ARRAY_SIZE(pcm_dumps); d++) {
		n = t_entries(test, &pcm_dumps[d], e);
		pcm_fs_from_entries(e, n, &have);
		pcm_fs_andnot(&without, &have, &spec);
		KUNIT_EXPECT_EQ_MSG(test, pcm_fs_level(&without), pcm_fs_level(&have),
				    "%s", pcm_dumps[d].name);
	}
}

static struct kunit_case pcm_spec_cases[] = {
	KUNIT_CASE(t_spec_class),
	KUNIT_CASE(t_spec_allowed),
	KUNIT_CASE(t_spec_dumps_masked),
	KUNIT_CASE(t_spec_identity),
	KUNIT_CASE(t_spec_not_in_levels),
	{}
};

static struct kunit_suite pcm_spec_suite = {
	.name = "pcm_spec",
	.test_cases = pcm_spec_cases,
};

kunit_test_suite(pcm_spec_suite);
