// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for pcm_kvm's feature model: module/pcm_model.c and the
 * feature table module/pcm_features.def.
 *
 * Expectations are written out from the Intel SDM vol. 2A (CPUID), the AMD
 * APM vol. 3 (CPUID), the x86-64 psABI micro-architecture levels and the
 * project's compat-semantics reference notes, not derived from the code under
 * test: CPUID bit positions, XSAVE component numbers, sizes and offsets are
 * hard-coded below.
 */
#include <kunit/test.h>
#include <linux/bits.h>
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <linux/pcm_kvm.h>
#include "pcm_model.h"

/*
 * The table's dependency, XSAVE component and leaf owner lists, read from
 * the .def file itself (pcm_model.c keeps its copies static).
 */
struct t_dep {
	u16 id;
	u16 need;
};

#define PCM_DEPENDS(a, b) { PCM_F_##a, PCM_F_##b },
static const struct t_dep t_deps[] = {
#include "pcm_features.def"
};

struct t_owner {
	u32 key;
	u16 id;
};

#define PCM_XCOMP(bit, f) { bit, PCM_F_##f },
static const struct t_owner t_xcomps[] = {
#include "pcm_features.def"
};

#define PCM_LEAF_OWNER(leaf, f) { leaf, PCM_F_##f },
static const struct t_owner t_leaf_owners[] = {
#include "pcm_features.def"
};

#define T_NAMED_MODES { PCM_KVM_MODE_MIN, PCM_KVM_MODE_X86_64_V2, \
			PCM_KVM_MODE_X86_64_V3, PCM_KVM_MODE_X86_64_V4 }

/* ------------------------------------------------------------------------ */
/* CPUID bits, from the Intel SDM vol. 2A and the AMD APM vol. 3 */

/* CPUID.1:ECX */
#define C1_PNI		BIT(0)
#define C1_PCLMULQDQ	BIT(1)
#define C1_VMX		BIT(5)
#define C1_SSSE3	BIT(9)
#define C1_FMA		BIT(12)
#define C1_CX16		BIT(13)
#define C1_PDCM		BIT(15)
#define C1_PCID		BIT(17)
#define C1_SSE4_1	BIT(19)
#define C1_SSE4_2	BIT(20)
#define C1_X2APIC	BIT(21)
#define C1_MOVBE	BIT(22)
#define C1_POPCNT	BIT(23)
#define C1_TSC_DEADLINE	BIT(24)
#define C1_AES		BIT(25)
#define C1_XSAVE	BIT(26)
#define C1_OSXSAVE	BIT(27)
#define C1_AVX		BIT(28)
#define C1_F16C		BIT(29)
#define C1_RDRAND	BIT(30)
#define C1_HYPERVISOR	BIT(31)

/* CPUID.1:EDX: fpu..apic (0-9), sep..pse36 (11-17), clflush, mmx..sse2 */
#define D1_BASE		0x078bfbffU
#define D1_PSE36	BIT(17)
#define D1_SS		BIT(27)
#define D1_HT		BIT(28)

/* CPUID.6:EAX */
#define A6_ARAT		BIT(2)

/* CPUID.(7,0):EBX */
#define B7_FSGSBASE	BIT(0)
#define B7_TSC_ADJUST	BIT(1)
#define B7_BMI1		BIT(3)
#define B7_HLE		BIT(4)
#define B7_AVX2		BIT(5)
#define B7_FDP_EXCPTN	BIT(6)
#define B7_SMEP		BIT(7)
#define B7_BMI2		BIT(8)
#define B7_ERMS		BIT(9)
#define B7_INVPCID	BIT(10)
#define B7_RTM		BIT(11)
#define B7_ZERO_FCS_FDS	BIT(13)
#define B7_AVX512F	BIT(16)
#define B7_AVX512DQ	BIT(17)
#define B7_RDSEED	BIT(18)
#define B7_ADX		BIT(19)
#define B7_SMAP		BIT(20)
#define B7_AVX512IFMA	BIT(21)
#define B7_CLFLUSHOPT	BIT(23)
#define B7_CLWB		BIT(24)
#define B7_AVX512CD	BIT(28)
#define B7_SHA_NI	BIT(29)
#define B7_AVX512BW	BIT(30)
#define B7_AVX512VL	BIT(31)

/* Skylake-SP / Cascade Lake / Cooper Lake host value of CPUID.(7,0):EBX */
#define B7_SKX		0xd39ffffbU

/* CPUID.(7,0):ECX */
#define C7_AVX512VBMI	BIT(1)
#define C7_UMIP		BIT(2)
#define C7_PKU		BIT(3)
#define C7_WAITPKG	BIT(5)
#define C7_AVX512_VBMI2	BIT(6)
#define C7_GFNI		BIT(8)
#define C7_VAES		BIT(9)
#define C7_VPCLMULQDQ	BIT(10)
#define C7_AVX512_VNNI	BIT(11)
#define C7_AVX512_BITALG BIT(12)
#define C7_AVX512_VPOPCNTDQ BIT(14)
#define C7_LA57		BIT(16)
#define C7_RDPID	BIT(22)
#define C7_CLDEMOTE	BIT(25)
#define C7_MOVDIRI	BIT(27)
#define C7_MOVDIR64B	BIT(28)

/* CPUID.(7,0):EDX */
#define D7_FSRM		BIT(4)
#define D7_MD_CLEAR	BIT(10)
#define D7_SERIALIZE	BIT(14)
#define D7_TSXLDTRK	BIT(16)
#define D7_AMX_BF16	BIT(22)
#define D7_AVX512_FP16	BIT(23)
#define D7_AMX_TILE	BIT(24)
#define D7_AMX_INT8	BIT(25)
#define D7_SPEC_CTRL	BIT(26)
#define D7_STIBP	BIT(27)
#define D7_FLUSH_L1D	BIT(28)
#define D7_ARCH_CAP	BIT(29)
#define D7_SSBD		BIT(31)

/* CPUID.(7,1):EAX */
#define A71_AVX_VNNI	BIT(4)
#define A71_AVX512_BF16	BIT(5)
#define A71_FZRM	BIT(10)
#define A71_FSRS	BIT(11)
#define A71_FSRC	BIT(12)

/* CPUID.(7,2):EDX: PSFD, IPRED_CTRL, RRSBA_CTRL, BHI_CTRL (KVM 6.12 passes them) */
#define D72_SPR		(BIT(0) | BIT(1) | BIT(2) | BIT(4))

/* CPUID.(0xD,1):EAX */
#define A_D1_XSAVEOPT	BIT(0)
#define A_D1_XSAVEC	BIT(1)
#define A_D1_XGETBV1	BIT(2)
#define A_D1_XSAVES	BIT(3)
#define A_D1_XFD	BIT(4)

/* XSAVE state components (SDM vol. 1, 13.1) */
#define XC_X87		BIT(0)
#define XC_SSE		BIT(1)
#define XC_AVX		BIT(2)
#define XC_BNDREGS	BIT(3)
#define XC_BNDCSR	BIT(4)
#define XC_OPMASK	BIT(5)
#define XC_ZMM_HI256	BIT(6)
#define XC_HI16_ZMM	BIT(7)
#define XC_PT		BIT(8)
#define XC_PKRU		BIT(9)
#define XC_XTILECFG	BIT(17)
#define XC_XTILEDATA	BIT(18)
#define XC_APX		BIT(19)

/* CPUID.0x80000001:ECX */
#define C81_LAHF_LM	BIT(0)
#define C81_CMP_LEGACY	BIT(1)
#define C81_SVM		BIT(2)
#define C81_CR8_LEGACY	BIT(4)
#define C81_ABM		BIT(5)
#define C81_SSE4A	BIT(6)
#define C81_MISALIGNSSE	BIT(7)
#define C81_3DNOWPREF	BIT(8)
#define C81_OSVW	BIT(9)
#define C81_TOPOEXT	BIT(22)
#define C81_PERFCTR_CORE BIT(23)

/* CPUID.0x80000001:EDX */
#define D81_SYSCALL	BIT(11)
#define D81_NX		BIT(20)
#define D81_MMXEXT	BIT(22)
#define D81_FXSR_OPT	BIT(25)
#define D81_PDPE1GB	BIT(26)
#define D81_RDTSCP	BIT(27)
#define D81_LM		BIT(29)
/* AMD repeats CPUID.1:EDX bits 0-9, 12-17, 23 and 24 here (APM vol. 3) */
#define D81_AMD_MIRROR	0x0183f3ffU

/* CPUID.0x80000008:EBX */
#define B88_AMD_IBPB	BIT(12)
#define B88_AMD_IBRS	BIT(14)
#define B88_AMD_STIBP	BIT(15)
#define B88_AMD_SSBD	BIT(24)

/* CPUID.0x80000021:EAX */
#define A821_LFENCE_RDTSC BIT(2)
#define A821_NULL_SEL_CLR BIT(6)
#define A821_NO_SMM_CTL	BIT(9)

/* ------------------------------------------------------------------------ */
/* Helpers */

static int t_id(struct kunit *test, const char *name)
{
	int id = pcm_feature_lookup(name, strlen(name));

	KUNIT_ASSERT_GE_MSG(test, id, 0, "feature \"%s\" not in the table", name);
	return id;
}

static bool t_has(struct kunit *test, const struct pcm_fs *fs, const char *name)
{
	return pcm_fs_test(fs, t_id(test, name));
}

static void t_expect_all(struct kunit *test, const struct pcm_fs *fs,
			 const char *const *names, size_t n, const char *what)
{
	size_t i;

	for (i = 0; i < n; i++)
		KUNIT_EXPECT_TRUE_MSG(test, t_has(test, fs, names[i]),
				      "%s lacks %s", what, names[i]);
}

static void t_expect_none(struct kunit *test, const struct pcm_fs *fs,
			  const char *const *names, size_t n, const char *what)
{
	size_t i;

	for (i = 0; i < n; i++)
		KUNIT_EXPECT_FALSE_MSG(test, t_has(test, fs, names[i]),
				       "%s has %s", what, names[i]);
}

static void t_allow(struct kunit *test, unsigned int mode, struct pcm_fs *allow)
{
	KUNIT_ASSERT_EQ(test, pcm_mode_allow(mode, NULL, allow), 0);
}

/* The HW-class part of a mode's allow-list. */
static void t_allow_hw(struct kunit *test, unsigned int mode, struct pcm_fs *hw)
{
	struct pcm_fs all_hw;

	t_allow(test, mode, hw);
	pcm_fs_of_class(&all_hw, PCM_CLASS_HW);
	pcm_fs_and(hw, hw, &all_hw);
}

static void t_fs_from_names(struct kunit *test, const char *const *names, size_t n,
			    struct pcm_fs *fs)
{
	size_t i;

	pcm_fs_zero(fs);
	for (i = 0; i < n; i++)
		pcm_fs_set(fs, t_id(test, names[i]));
}

/* Our own normalisation, independent of the model's: any case, '-' == '_'. */
static char t_norm(char c)
{
	c = tolower(c);
	return c == '-' ? '_' : c;
}

static bool t_name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (t_norm(*a) != t_norm(*b))
			return false;
	return *a == *b;
}

static bool t_name_chars_ok(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!(islower(*s) || isdigit(*s) || *s == '_' || strchr(extra, *s)))
			return false;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Suite pcm_model_table: invariants of pcm_features.def */

static void t_table_names_valid(struct kunit *test)
{
	unsigned int id;

	for (id = 0; id < PCM_NR_FEATURES; id++) {
		const struct pcm_feature *f = &pcm_features[id];

		KUNIT_ASSERT_NOT_NULL_MSG(test, f->name, "feature %u has no name", id);
		KUNIT_EXPECT_GE_MSG(test, strlen(f->name), 1, "feature %u", id);
		KUNIT_EXPECT_LE_MSG(test, strlen(f->name), PCM_NAME_MAX, "%s", f->name);
		/* /proc/cpuinfo spelling: lower case, digits, '_' */
		if (pcm_word_is_cpuid(f->word))
			KUNIT_EXPECT_TRUE_MSG(test, t_name_chars_ok(f->name, ""),
					      "bad character in name \"%s\"", f->name);
		/* An MSR's bits: "<msr>.<bit>", as msr-index.h spells them. */
		else if (pcm_words[f->word].msr == PCM_MSR_ARCH_CAPABILITIES)
			KUNIT_EXPECT_TRUE_MSG(test,
					      !strncmp(f->name, "arch_capabilities.", 18) &&
					      t_name_chars_ok(f->name + 18, ""),
					      "bad MSR bit name \"%s\"", f->name);
		else
			KUNIT_FAIL(test, "%s: a word of an unknown MSR", f->name);
		if (!f->alias)
			continue;
		KUNIT_EXPECT_GE_MSG(test, strlen(f->alias), 1, "alias of %s", f->name);
		KUNIT_EXPECT_LE_MSG(test, strlen(f->alias), PCM_NAME_MAX, "%s", f->alias);
		/* QEMU spelling may add '-' and '.', never a separator */
		KUNIT_EXPECT_TRUE_MSG(test, t_name_chars_ok(f->alias, "-."),
				      "bad character in alias \"%s\"", f->alias);
	}
}

static void t_expect_no_clash(struct kunit *test, unsigned int a, unsigned int b)
{
	const char *na[2] = { pcm_features[a].name, pcm_features[a].alias };
	const char *nb[2] = { pcm_features[b].name, pcm_features[b].alias };
	unsigned int i, j;

	for (i = 0; i < 2; i++) {
		for (j = 0; j < 2; j++) {
			if (!na[i] || !nb[j])
				continue;
			KUNIT_EXPECT_FALSE_MSG(test, t_name_eq(na[i], nb[j]),
					       "%s (of %s) and %s (of %s) clash", na[i],
					       pcm_features[a].name, nb[j], pcm_features[b].name);
		}
	}
}

static void t_table_names_unique(struct kunit *test)
{
	unsigned int a, b;

	for (a = 0; a < PCM_NR_FEATURES; a++)
		for (b = a + 1; b < PCM_NR_FEATURES; b++)
			t_expect_no_clash(test, a, b);
}

/* Every name and alias finds its own feature, in any case, '-' for '_'. */
static void t_table_lookup_self(struct kunit *test)
{
	char buf[PCM_NAME_MAX + 1];
	unsigned int id, i;

	for (id = 0; id < PCM_NR_FEATURES; id++) {
		const struct pcm_feature *f = &pcm_features[id];
		const char *n[2] = { f->name, f->alias };

		for (i = 0; i < 2; i++) {
			size_t len, k;

			if (!n[i])
				continue;
			len = strlen(n[i]);
			KUNIT_EXPECT_EQ_MSG(test, pcm_feature_lookup(n[i], len), (int)id,
					    "%s", n[i]);
			if (len > PCM_NAME_MAX)
				continue;
			for (k = 0; k < len; k++)
				buf[k] = n[i][k] == '_' ? '-' : toupper(n[i][k]);
			buf[len] = '\0';
			KUNIT_EXPECT_EQ_MSG(test, pcm_feature_lookup(buf, len), (int)id,
					    "%s", buf);
		}
	}
}

static void t_table_bits_unique(struct kunit *test)
{
	u16 owner[PCM_KVM_NWORDS][32];
	unsigned int id;

	memset(owner, 0xff, sizeof(owner));
	for (id = 0; id < PCM_NR_FEATURES; id++) {
		const struct pcm_feature *f = &pcm_features[id];

		KUNIT_EXPECT_LT_MSG(test, f->word, PCM_KVM_NR_WORDS_USED, "%s", f->name);
		KUNIT_EXPECT_LT_MSG(test, f->bit, 32, "%s", f->name);
		if (f->word >= PCM_KVM_NR_WORDS_USED || f->bit >= 32)
			continue;
		KUNIT_EXPECT_EQ_MSG(test, owner[f->word][f->bit], 0xffff,
				    "%s shares word %s bit %u with %s", f->name,
				    pcm_words[f->word].name, f->bit,
				    owner[f->word][f->bit] < PCM_NR_FEATURES ?
				    pcm_features[owner[f->word][f->bit]].name : "-");
		owner[f->word][f->bit] = id;
	}
}

/* pcm_words[] describes the uapi's words with the SDM's leaves and registers. */
static void t_table_words(struct kunit *test)
{
	static const struct {
		unsigned int w;
		u32 leaf, subleaf;
		u8 reg;
	} want[] = {
		{ PCM_KVM_W_1_ECX, 0x1, 0, PCM_KVM_ECX },
		{ PCM_KVM_W_1_EDX, 0x1, 0, PCM_KVM_EDX },
		{ PCM_KVM_W_6_EAX, 0x6, 0, PCM_KVM_EAX },
		{ PCM_KVM_W_7_0_EBX, 0x7, 0, PCM_KVM_EBX },
		{ PCM_KVM_W_7_0_ECX, 0x7, 0, PCM_KVM_ECX },
		{ PCM_KVM_W_7_0_EDX, 0x7, 0, PCM_KVM_EDX },
		{ PCM_KVM_W_7_1_EAX, 0x7, 1, PCM_KVM_EAX },
		{ PCM_KVM_W_7_1_EDX, 0x7, 1, PCM_KVM_EDX },
		{ PCM_KVM_W_D_1_EAX, 0xd, 1, PCM_KVM_EAX },
		{ PCM_KVM_W_8000_0001_ECX, 0x80000001, 0, PCM_KVM_ECX },
		{ PCM_KVM_W_8000_0001_EDX, 0x80000001, 0, PCM_KVM_EDX },
		{ PCM_KVM_W_8000_0007_EDX, 0x80000007, 0, PCM_KVM_EDX },
		{ PCM_KVM_W_8000_0008_EBX, 0x80000008, 0, PCM_KVM_EBX },
		{ PCM_KVM_W_8000_0021_EAX, 0x80000021, 0, PCM_KVM_EAX },
		{ PCM_KVM_W_7_2_EDX, 0x7, 2, PCM_KVM_EDX },
	};
	unsigned int i;

	KUNIT_EXPECT_EQ(test, PCM_KVM_NR_WORDS_USED, ARRAY_SIZE(want) + 2);
	KUNIT_EXPECT_LE(test, PCM_KVM_NR_WORDS_USED, PCM_KVM_NWORDS);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		const struct pcm_word_desc *d = &pcm_words[want[i].w];

		KUNIT_EXPECT_TRUE_MSG(test, pcm_word_is_cpuid(want[i].w), "word %u", want[i].w);
		KUNIT_EXPECT_EQ_MSG(test, d->leaf, want[i].leaf, "word %u", want[i].w);
		KUNIT_EXPECT_EQ_MSG(test, d->subleaf, want[i].subleaf, "word %u", want[i].w);
		KUNIT_EXPECT_EQ_MSG(test, d->reg, want[i].reg, "word %u", want[i].w);
	}
	/* IA32_ARCH_CAPABILITIES, low half then high half */
	KUNIT_EXPECT_EQ(test, pcm_words[PCM_KVM_W_MSR_10A_LO].msr, 0x10a);
	KUNIT_EXPECT_EQ(test, pcm_words[PCM_KVM_W_MSR_10A_LO].shift, 0);
	KUNIT_EXPECT_EQ(test, pcm_words[PCM_KVM_W_MSR_10A_HI].msr, 0x10a);
	KUNIT_EXPECT_EQ(test, pcm_words[PCM_KVM_W_MSR_10A_HI].shift, 32);
}

/*
 * IA32_ARCH_CAPABILITIES bits as Linux's msr-index.h numbers them; each
 * needs the CPUID bit that enumerates the MSR, and none is hardware a named
 * level could hide (classes SPEC, NO and SCRUB).
 */
static void t_table_arch_cap_bits(struct kunit *test)
{
	static const struct {
		const char *name;
		unsigned int bit;
		u8 cls;
	} want[] = {
		{ "rdcl_no", 0, PCM_CLASS_NO },	{ "ibrs_all", 1, PCM_CLASS_SPEC },
		{ "rsba", 2, PCM_CLASS_SCRUB },
		{ "skip_vmentry_l1dflush", 3, PCM_CLASS_NO },
		{ "ssb_no", 4, PCM_CLASS_NO },	{ "mds_no", 5, PCM_CLASS_NO },
		{ "pschange_mc_no", 6, PCM_CLASS_NO }, { "tsx_ctrl_msr", 7, PCM_CLASS_SPEC },
		{ "taa_no", 8, PCM_CLASS_NO },	{ "sbdr_ssdp_no", 13, PCM_CLASS_NO },
		{ "fbsdp_no", 14, PCM_CLASS_NO },	{ "psdp_no", 15, PCM_CLASS_NO },
		{ "fb_clear", 17, PCM_CLASS_SPEC },	{ "rrsba", 19, PCM_CLASS_SCRUB },
		{ "bhi_no", 20, PCM_CLASS_NO },	{ "pbrsb_no", 24, PCM_CLASS_NO },
		{ "gds_no", 26, PCM_CLASS_NO },	{ "rfds_no", 27, PCM_CLASS_NO },
		{ "rfds_clear", 28, PCM_CLASS_SPEC },	{ "its_no", 62, PCM_CLASS_NO },
	};
	struct pcm_fs fs, known;
	char name[PCM_NAME_MAX + 1];
	unsigned int i, n = 0, id;

	for (i = 0; i < ARRAY_SIZE(want); i++) {
		snprintf(name, sizeof(name), "arch_capabilities.%s", want[i].name);
		id = t_id(test, name);
		pcm_fs_zero(&fs);
		pcm_fs_set(&fs, id);
		KUNIT_EXPECT_EQ_MSG(test, pcm_fs_arch_cap(&fs), 1ULL << want[i].bit, "%s", name);
		KUNIT_EXPECT_EQ_MSG(test, pcm_features[id].cls, want[i].cls, "%s", name);
		/* hidden with the CPUID bit */
		pcm_fs_close(&fs);
		KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_empty(&fs), "%s without its CPUID bit", name);
	}
	pcm_fs_known(&known);
	for (id = 0; id < PCM_NR_FEATURES; id++)
		n += !pcm_word_is_cpuid(pcm_features[id].word);
	KUNIT_EXPECT_EQ(test, n, ARRAY_SIZE(want));

	/* pcm_fs_put_arch_cap(): the table's bits, and none without CPUID */
	pcm_fs_zero(&fs);
	pcm_fs_put_arch_cap(&fs, ~0ULL);
	KUNIT_EXPECT_EQ(test, pcm_fs_arch_cap(&fs), 0);
	pcm_fs_set(&fs, PCM_F_ARCH_CAPABILITIES);
	pcm_fs_put_arch_cap(&fs, ~0ULL);
	KUNIT_EXPECT_EQ(test, pcm_fs_arch_cap(&fs), pcm_fs_arch_cap(&known));
	KUNIT_EXPECT_FALSE(test, pcm_fs_arch_cap(&fs) & (1ULL << 63));
	pcm_fs_put_arch_cap(&fs, 1ULL << 5);
	KUNIT_EXPECT_TRUE(test, t_has(test, &fs, "arch_capabilities.mds_no"));
	KUNIT_EXPECT_TRUE(test, t_has(test, &fs, "mds-no"));
}

/* Bit positions of well-known features, from the SDM and the APM. */
static void t_table_sdm_bits(struct kunit *test)
{
	static const struct {
		const char *name;
		u32 leaf, subleaf;
		u8 reg, bit;
	} want[] = {
		{ "fpu", 1, 0, PCM_KVM_EDX, 0 },	{ "cx8", 1, 0, PCM_KVM_EDX, 8 },
		{ "apic", 1, 0, PCM_KVM_EDX, 9 },	{ "cmov", 1, 0, PCM_KVM_EDX, 15 },
		{ "clflush", 1, 0, PCM_KVM_EDX, 19 },	{ "mmx", 1, 0, PCM_KVM_EDX, 23 },
		{ "fxsr", 1, 0, PCM_KVM_EDX, 24 },	{ "sse", 1, 0, PCM_KVM_EDX, 25 },
		{ "sse2", 1, 0, PCM_KVM_EDX, 26 },	{ "ht", 1, 0, PCM_KVM_EDX, 28 },
		{ "pni", 1, 0, PCM_KVM_ECX, 0 },	{ "pclmulqdq", 1, 0, PCM_KVM_ECX, 1 },
		{ "vmx", 1, 0, PCM_KVM_ECX, 5 },	{ "ssse3", 1, 0, PCM_KVM_ECX, 9 },
		{ "fma", 1, 0, PCM_KVM_ECX, 12 },	{ "cx16", 1, 0, PCM_KVM_ECX, 13 },
		{ "pcid", 1, 0, PCM_KVM_ECX, 17 },	{ "sse4_1", 1, 0, PCM_KVM_ECX, 19 },
		{ "sse4_2", 1, 0, PCM_KVM_ECX, 20 },	{ "x2apic", 1, 0, PCM_KVM_ECX, 21 },
		{ "movbe", 1, 0, PCM_KVM_ECX, 22 },	{ "popcnt", 1, 0, PCM_KVM_ECX, 23 },
		{ "tsc_deadline_timer", 1, 0, PCM_KVM_ECX, 24 },
		{ "aes", 1, 0, PCM_KVM_ECX, 25 },	{ "xsave", 1, 0, PCM_KVM_ECX, 26 },
		{ "osxsave", 1, 0, PCM_KVM_ECX, 27 },	{ "avx", 1, 0, PCM_KVM_ECX, 28 },
		{ "f16c", 1, 0, PCM_KVM_ECX, 29 },	{ "rdrand", 1, 0, PCM_KVM_ECX, 30 },
		{ "hypervisor", 1, 0, PCM_KVM_ECX, 31 },
		{ "arat", 6, 0, PCM_KVM_EAX, 2 },
		{ "fsgsbase", 7, 0, PCM_KVM_EBX, 0 },	{ "bmi1", 7, 0, PCM_KVM_EBX, 3 },
		{ "avx2", 7, 0, PCM_KVM_EBX, 5 },
		{ "fdp_excptn_only", 7, 0, PCM_KVM_EBX, 6 },
		{ "smep", 7, 0, PCM_KVM_EBX, 7 },	{ "bmi2", 7, 0, PCM_KVM_EBX, 8 },
		{ "erms", 7, 0, PCM_KVM_EBX, 9 },	{ "invpcid", 7, 0, PCM_KVM_EBX, 10 },
		{ "zero_fcs_fds", 7, 0, PCM_KVM_EBX, 13 },
		{ "mpx", 7, 0, PCM_KVM_EBX, 14 },	{ "avx512f", 7, 0, PCM_KVM_EBX, 16 },
		{ "avx512dq", 7, 0, PCM_KVM_EBX, 17 },	{ "adx", 7, 0, PCM_KVM_EBX, 19 },
		{ "smap", 7, 0, PCM_KVM_EBX, 20 },	{ "avx512cd", 7, 0, PCM_KVM_EBX, 28 },
		{ "sha_ni", 7, 0, PCM_KVM_EBX, 29 },	{ "avx512bw", 7, 0, PCM_KVM_EBX, 30 },
		{ "avx512vl", 7, 0, PCM_KVM_EBX, 31 },
		{ "pku", 7, 0, PCM_KVM_ECX, 3 },	{ "ospke", 7, 0, PCM_KVM_ECX, 4 },
		{ "gfni", 7, 0, PCM_KVM_ECX, 8 },	{ "vaes", 7, 0, PCM_KVM_ECX, 9 },
		{ "la57", 7, 0, PCM_KVM_ECX, 16 },	{ "rdpid", 7, 0, PCM_KVM_ECX, 22 },
		{ "md_clear", 7, 0, PCM_KVM_EDX, 10 },	{ "serialize", 7, 0, PCM_KVM_EDX, 14 },
		{ "amx_bf16", 7, 0, PCM_KVM_EDX, 22 },	{ "avx512_fp16", 7, 0, PCM_KVM_EDX, 23 },
		{ "amx_tile", 7, 0, PCM_KVM_EDX, 24 },	{ "amx_int8", 7, 0, PCM_KVM_EDX, 25 },
		{ "spec_ctrl", 7, 0, PCM_KVM_EDX, 26 },
		{ "arch_capabilities", 7, 0, PCM_KVM_EDX, 29 },
		{ "spec_ctrl_ssbd", 7, 0, PCM_KVM_EDX, 31 },
		{ "avx_vnni", 7, 1, PCM_KVM_EAX, 4 },	{ "avx512_bf16", 7, 1, PCM_KVM_EAX, 5 },
		{ "fred", 7, 1, PCM_KVM_EAX, 17 },	{ "lam", 7, 1, PCM_KVM_EAX, 26 },
		{ "avx10", 7, 1, PCM_KVM_EDX, 19 },
		{ "xsaveopt", 0xd, 1, PCM_KVM_EAX, 0 },	{ "xsavec", 0xd, 1, PCM_KVM_EAX, 1 },
		{ "xgetbv1", 0xd, 1, PCM_KVM_EAX, 2 },	{ "xsaves", 0xd, 1, PCM_KVM_EAX, 3 },
		{ "xfd", 0xd, 1, PCM_KVM_EAX, 4 },
		{ "lahf_lm", 0x80000001, 0, PCM_KVM_ECX, 0 },
		{ "abm", 0x80000001, 0, PCM_KVM_ECX, 5 },
		{ "sse4a", 0x80000001, 0, PCM_KVM_ECX, 6 },
		{ "misalignsse", 0x80000001, 0, PCM_KVM_ECX, 7 },
		{ "3dnowprefetch", 0x80000001, 0, PCM_KVM_ECX, 8 },
		{ "xop", 0x80000001, 0, PCM_KVM_ECX, 11 },
		{ "fma4", 0x80000001, 0, PCM_KVM_ECX, 16 },
		{ "topoext", 0x80000001, 0, PCM_KVM_ECX, 22 },
		{ "syscall", 0x80000001, 0, PCM_KVM_EDX, 11 },
		{ "nx", 0x80000001, 0, PCM_KVM_EDX, 20 },
		{ "mmxext", 0x80000001, 0, PCM_KVM_EDX, 22 },
		{ "pdpe1gb", 0x80000001, 0, PCM_KVM_EDX, 26 },
		{ "rdtscp", 0x80000001, 0, PCM_KVM_EDX, 27 },
		{ "lm", 0x80000001, 0, PCM_KVM_EDX, 29 },
		{ "3dnowext", 0x80000001, 0, PCM_KVM_EDX, 30 },
		{ "3dnow", 0x80000001, 0, PCM_KVM_EDX, 31 },
		{ "invtsc", 0x80000007, 0, PCM_KVM_EDX, 8 },
		{ "clzero", 0x80000008, 0, PCM_KVM_EBX, 0 },
		{ "wbnoinvd", 0x80000008, 0, PCM_KVM_EBX, 9 },
		{ "amd_ibpb", 0x80000008, 0, PCM_KVM_EBX, 12 },
		{ "amd_ssbd", 0x80000008, 0, PCM_KVM_EBX, 24 },
		{ "virt_ssbd", 0x80000008, 0, PCM_KVM_EBX, 25 },
		{ "lfence_rdtsc", 0x80000021, 0, PCM_KVM_EAX, 2 },
		{ "null_sel_clr_base", 0x80000021, 0, PCM_KVM_EAX, 6 },
		{ "autoibrs", 0x80000021, 0, PCM_KVM_EAX, 8 },
		{ "srso_no", 0x80000021, 0, PCM_KVM_EAX, 29 },
		{ "sbpb", 0x80000021, 0, PCM_KVM_EAX, 27 },
		{ "ibpb_brtype", 0x80000021, 0, PCM_KVM_EAX, 28 },
		{ "amd_ibrs", 0x80000008, 0, PCM_KVM_EBX, 14 },
		{ "amd_stibp", 0x80000008, 0, PCM_KVM_EBX, 15 },
		{ "btc_no", 0x80000008, 0, PCM_KVM_EBX, 29 },
		{ "intel_stibp", 7, 0, PCM_KVM_EDX, 27 },
		{ "flush_l1d", 7, 0, PCM_KVM_EDX, 28 },
		{ "psfd", 7, 2, PCM_KVM_EDX, 0 },	{ "ipred_ctrl", 7, 2, PCM_KVM_EDX, 1 },
		{ "rrsba_ctrl", 7, 2, PCM_KVM_EDX, 2 },	{ "ddpd_u", 7, 2, PCM_KVM_EDX, 3 },
		{ "bhi_ctrl", 7, 2, PCM_KVM_EDX, 4 },	{ "mcdt_no", 7, 2, PCM_KVM_EDX, 5 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(want); i++) {
		const struct pcm_feature *f = &pcm_features[t_id(test, want[i].name)];
		const struct pcm_word_desc *d = &pcm_words[f->word];

		KUNIT_EXPECT_STREQ(test, f->name, want[i].name);
		KUNIT_EXPECT_EQ_MSG(test, d->leaf, want[i].leaf, "%s", want[i].name);
		KUNIT_EXPECT_EQ_MSG(test, d->subleaf, want[i].subleaf, "%s", want[i].name);
		KUNIT_EXPECT_EQ_MSG(test, d->reg, want[i].reg, "%s", want[i].name);
		KUNIT_EXPECT_EQ_MSG(test, f->bit, want[i].bit, "%s", want[i].name);
	}
}

static void t_table_classes(struct kunit *test)
{
	static const char *const kvm[] = {
		"x2apic", "tsc_deadline_timer", "hypervisor", "arat",
	};
	unsigned int id;

	for (id = 0; id < PCM_NR_FEATURES; id++) {
		const struct pcm_feature *f = &pcm_features[id];

		KUNIT_EXPECT_LT_MSG(test, f->cls, PCM_NR_CLASSES, "%s", f->name);
		KUNIT_EXPECT_LE_MSG(test, f->level, PCM_LEVEL_V4, "%s", f->name);
		if (f->cls != PCM_CLASS_HW)
			KUNIT_EXPECT_EQ_MSG(test, f->level, PCM_LEVEL_NONE,
					    "%s (class %u) carries a level", f->name, f->cls);
	}
	/* compat-semantics: KVM provides these on any host */
	for (id = 0; id < ARRAY_SIZE(kvm); id++)
		KUNIT_EXPECT_EQ_MSG(test, pcm_features[t_id(test, kvm[id])].cls,
				    PCM_CLASS_KVM, "%s", kvm[id]);
	/* 7.0 EBX bits 6 and 13 cannot be hidden by software */
	KUNIT_EXPECT_EQ(test, pcm_features[t_id(test, "fdp_excptn_only")].cls, PCM_CLASS_INV);
	KUNIT_EXPECT_EQ(test, pcm_features[t_id(test, "zero_fcs_fds")].cls, PCM_CLASS_INV);
	/* "might need scrubbing" */
	KUNIT_EXPECT_EQ(test, pcm_features[t_id(test, "md_clear")].cls, PCM_CLASS_SCRUB);
}

static void t_table_deps_acyclic(struct kunit *test)
{
	bool done[PCM_NR_FEATURES] = { };
	bool progress = true;
	unsigned int i, id;

	for (i = 0; i < ARRAY_SIZE(t_deps); i++) {
		KUNIT_ASSERT_LT(test, t_deps[i].id, PCM_NR_FEATURES);
		KUNIT_ASSERT_LT(test, t_deps[i].need, PCM_NR_FEATURES);
		KUNIT_EXPECT_NE_MSG(test, t_deps[i].id, t_deps[i].need, "%s needs itself",
				    pcm_features[t_deps[i].id].name);
	}
	/* Topological order: a feature is done once all it needs are done. */
	while (progress) {
		progress = false;
		for (id = 0; id < PCM_NR_FEATURES; id++) {
			bool ready = true;

			if (done[id])
				continue;
			for (i = 0; i < ARRAY_SIZE(t_deps); i++)
				if (t_deps[i].id == id && !done[t_deps[i].need])
					ready = false;
			if (ready) {
				done[id] = true;
				progress = true;
			}
		}
	}
	for (id = 0; id < PCM_NR_FEATURES; id++)
		KUNIT_EXPECT_TRUE_MSG(test, done[id], "%s is on a dependency cycle",
				      pcm_features[id].name);
}

/*
 * pcm_fs_close() makes one pass over the dependencies in table order: what
 * a feature needs must have its own dependencies listed before.
 */
static void t_table_deps_order(struct kunit *test)
{
	unsigned int i, k;

	for (i = 0; i < ARRAY_SIZE(t_deps); i++)
		for (k = i + 1; k < ARRAY_SIZE(t_deps); k++)
			KUNIT_EXPECT_NE_MSG(test, t_deps[k].id, t_deps[i].need,
					    "PCM_DEPENDS(%s, %s) must come before PCM_DEPENDS(%s, %s)",
					    pcm_features[t_deps[k].id].name,
					    pcm_features[t_deps[k].need].name,
					    pcm_features[t_deps[i].id].name,
					    pcm_features[t_deps[i].need].name);
}

/*
 * A feature's dependencies are allowed at a level <= its own, so a named
 * mode never needs its closure to drop one of its own level's features.
 */
static void t_table_deps_levels(struct kunit *test)
{
	static const unsigned int modes[] = T_NAMED_MODES;
	static const u8 levels[] = {
		PCM_LEVEL_MIN, PCM_LEVEL_V2, PCM_LEVEL_V3, PCM_LEVEL_V4,
	};
	struct pcm_fs allow;
	unsigned int i, id;

	for (i = 0; i < ARRAY_SIZE(t_deps); i++) {
		const struct pcm_feature *f = &pcm_features[t_deps[i].id];
		const struct pcm_feature *n = &pcm_features[t_deps[i].need];

		if (f->cls != PCM_CLASS_HW || f->level == PCM_LEVEL_NONE)
			continue;
		if (n->cls != PCM_CLASS_HW)
			continue;
		KUNIT_EXPECT_NE_MSG(test, n->level, PCM_LEVEL_NONE,
				    "%s (level %u) needs %s, which no level has",
				    f->name, f->level, n->name);
		KUNIT_EXPECT_LE_MSG(test, n->level, f->level,
				    "%s (level %u) needs %s (level %u)",
				    f->name, f->level, n->name, n->level);
	}
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		t_allow(test, modes[i], &allow);
		for (id = 0; id < PCM_NR_FEATURES; id++) {
			const struct pcm_feature *f = &pcm_features[id];

			if (f->cls != PCM_CLASS_HW || f->level == PCM_LEVEL_NONE ||
			    f->level > levels[i])
				continue;
			KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_test(&allow, id),
					      "mode %s dropped its own %s",
					      pcm_mode_name(modes[i]), f->name);
		}
	}
}

/* XSAVE component numbers (SDM vol. 1, 13.1) and leaf owners (SDM vol. 2A). */
static void t_table_xcomp_and_leaves(struct kunit *test)
{
	static const struct {
		u32 key;
		const char *name;
	} xc[] = {
		{ 2, "avx" }, { 3, "mpx" }, { 4, "mpx" }, { 5, "avx512f" },
		{ 6, "avx512f" }, { 7, "avx512f" }, { 9, "pku" },
		{ 17, "amx_tile" }, { 18, "amx_tile" },
	}, lo[] = {
		{ 0xd, "xsave" }, { 0x12, "sgx" }, { 0x14, "intel_pt" },
		{ 0x1d, "amx_tile" }, { 0x1e, "amx_tile" },
	};
	unsigned int i, j;
	u64 seen = 0;

	for (i = 0; i < ARRAY_SIZE(t_xcomps); i++) {
		KUNIT_ASSERT_LT(test, t_xcomps[i].key, 64);
		KUNIT_EXPECT_FALSE_MSG(test, seen & BIT_ULL(t_xcomps[i].key),
				       "component %u listed twice", t_xcomps[i].key);
		seen |= BIT_ULL(t_xcomps[i].key);
	}
	for (i = 0; i < ARRAY_SIZE(xc); i++) {
		bool found = false;

		for (j = 0; j < ARRAY_SIZE(t_xcomps); j++)
			if (t_xcomps[j].key == xc[i].key)
				found = t_xcomps[j].id == t_id(test, xc[i].name);
		KUNIT_EXPECT_TRUE_MSG(test, found, "component %u should belong to %s",
				      xc[i].key, xc[i].name);
	}
	for (i = 0; i < ARRAY_SIZE(lo); i++) {
		bool found = false;

		for (j = 0; j < ARRAY_SIZE(t_leaf_owners); j++)
			if (t_leaf_owners[j].key == lo[i].key)
				found = t_leaf_owners[j].id == t_id(test, lo[i].name);
		KUNIT_EXPECT_TRUE_MSG(test, found, "leaf %#x should belong to %s",
				      lo[i].key, lo[i].name);
	}
}

static struct kunit_case pcm_model_table_cases[] = {
	KUNIT_CASE(t_table_names_valid),
	KUNIT_CASE(t_table_names_unique),
	KUNIT_CASE(t_table_lookup_self),
	KUNIT_CASE(t_table_bits_unique),
	KUNIT_CASE(t_table_words),
	KUNIT_CASE(t_table_arch_cap_bits),
	KUNIT_CASE(t_table_sdm_bits),
	KUNIT_CASE(t_table_classes),
	KUNIT_CASE(t_table_deps_acyclic),
	KUNIT_CASE(t_table_deps_order),
	KUNIT_CASE(t_table_deps_levels),
	KUNIT_CASE(t_table_xcomp_and_leaves),
	{}
};

static struct kunit_suite pcm_model_table_suite = {
	.name = "pcm_model_table",
	.test_cases = pcm_model_table_cases,
};

kunit_test_suite(pcm_model_table_suite);

/* ------------------------------------------------------------------------ */
/* Suite pcm_model_modes: the allow-list of each mode (x86-64 psABI levels) */

static const char *const t_psabi_v1[] = {
	"cmov", "cx8", "fpu", "fxsr", "mmx", "syscall", "sse", "sse2", "lm", "nx",
};

static const char *const t_psabi_v2[] = {
	"cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3",
};

static const char *const t_psabi_v3[] = {
	"avx", "xsave", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe",
};

static const char *const t_psabi_v4[] = {
	"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl",
};

/* What Hyper-V's processor compatibility mode hides (Intel and AMD lists). */
static const char *const t_hyperv_hidden[] = {
	"ssse3", "sse4_1", "sse4_2", "popcnt", "misalignsse", "xsave", "avx",
	"sse4a", "xop", "abm", "3dnow", "3dnowext",
};

/*
 * System features (not psABI instructions) a level may add.  The .def decides
 * these; listing them here makes any other addition to a level fail.
 */
static const char *const t_sys_min[] = {
	"vme", "de", "pse", "tsc", "msr", "pae", "mce", "sep", "mtrr", "pge", "mca",
	"pat", "pse36", "clflush",
};

static const char *const t_sys_v2[] = { "rdtscp" };
static const char *const t_sys_v3[] = { "fsgsbase", "smep", "pdpe1gb", "xsaveopt" };
static const char *const t_sys_v4[] = {
	"pcid", "invpcid", "smap", "pku", "xsavec", "xgetbv1", "xsaves",
};

static bool t_in_list(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return true;
	return false;
}

/* HW features in mode hi but not in mode lo are exactly the two lists. */
static void t_expect_level_adds(struct kunit *test, unsigned int lo, unsigned int hi,
				const char *const *isa, size_t nisa,
				const char *const *sys, size_t nsys)
{
	struct pcm_fs a, b, added, want;
	unsigned int id;

	if (lo == PCM_KVM_MODE_OFF)
		pcm_fs_zero(&a);
	else
		t_allow_hw(test, lo, &a);
	t_allow_hw(test, hi, &b);
	pcm_fs_andnot(&added, &b, &a);
	for (id = 0; id < PCM_NR_FEATURES; id++) {
		const char *n = pcm_features[id].name;

		if (pcm_fs_test(&added, id))
			KUNIT_EXPECT_TRUE_MSG(test, t_in_list(n, isa, nisa) ||
					      t_in_list(n, sys, nsys),
					      "%s adds unexpected %s", pcm_mode_name(hi), n);
	}
	t_fs_from_names(test, isa, nisa, &want);
	KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_subset(&want, &added),
			      "%s does not add all of its psABI level", pcm_mode_name(hi));
	t_fs_from_names(test, sys, nsys, &want);
	KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_subset(&want, &added),
			      "%s does not add its system features", pcm_mode_name(hi));
}

static void t_mode_names(struct kunit *test)
{
	KUNIT_EXPECT_STREQ(test, pcm_mode_name(PCM_KVM_MODE_OFF), "off");
	KUNIT_EXPECT_STREQ(test, pcm_mode_name(PCM_KVM_MODE_MIN), "min");
	KUNIT_EXPECT_STREQ(test, pcm_mode_name(PCM_KVM_MODE_X86_64_V2), "x86-64-v2");
	KUNIT_EXPECT_STREQ(test, pcm_mode_name(PCM_KVM_MODE_X86_64_V3), "x86-64-v3");
	KUNIT_EXPECT_STREQ(test, pcm_mode_name(PCM_KVM_MODE_X86_64_V4), "x86-64-v4");
	KUNIT_EXPECT_STREQ(test, pcm_mode_name(PCM_KVM_MODE_BASELINE), "baseline");
	KUNIT_EXPECT_NOT_NULL(test, pcm_mode_name(PCM_KVM_NR_MODES));
	KUNIT_EXPECT_NOT_NULL(test, pcm_mode_name(~0U));
}

static void t_mode_v2(struct kunit *test)
{
	struct pcm_fs a;

	t_allow(test, PCM_KVM_MODE_X86_64_V2, &a);
	t_expect_all(test, &a, t_psabi_v1, ARRAY_SIZE(t_psabi_v1), "x86-64-v2");
	t_expect_all(test, &a, t_psabi_v2, ARRAY_SIZE(t_psabi_v2), "x86-64-v2");
	t_expect_none(test, &a, t_psabi_v3, ARRAY_SIZE(t_psabi_v3), "x86-64-v2");
	t_expect_none(test, &a, t_psabi_v4, ARRAY_SIZE(t_psabi_v4), "x86-64-v2");
	t_expect_level_adds(test, PCM_KVM_MODE_MIN, PCM_KVM_MODE_X86_64_V2,
			    t_psabi_v2, ARRAY_SIZE(t_psabi_v2),
			    t_sys_v2, ARRAY_SIZE(t_sys_v2));
}

static void t_mode_v3(struct kunit *test)
{
	struct pcm_fs a;
	unsigned int id;

	t_allow(test, PCM_KVM_MODE_X86_64_V3, &a);
	t_expect_all(test, &a, t_psabi_v1, ARRAY_SIZE(t_psabi_v1), "x86-64-v3");
	t_expect_all(test, &a, t_psabi_v2, ARRAY_SIZE(t_psabi_v2), "x86-64-v3");
	t_expect_all(test, &a, t_psabi_v3, ARRAY_SIZE(t_psabi_v3), "x86-64-v3");
	t_expect_none(test, &a, t_psabi_v4, ARRAY_SIZE(t_psabi_v4), "x86-64-v3");
	for (id = 0; id < PCM_NR_FEATURES; id++)
		if (!strncmp(pcm_features[id].name, "avx512", 6))
			KUNIT_EXPECT_FALSE_MSG(test, pcm_fs_test(&a, id), "x86-64-v3 has %s",
					       pcm_features[id].name);
	t_expect_level_adds(test, PCM_KVM_MODE_X86_64_V2, PCM_KVM_MODE_X86_64_V3,
			    t_psabi_v3, ARRAY_SIZE(t_psabi_v3),
			    t_sys_v3, ARRAY_SIZE(t_sys_v3));
}

static void t_mode_v4(struct kunit *test)
{
	static const char *const not_v4[] = {
		"avx512ifma", "avx512vbmi", "avx512_vbmi2", "avx512_vnni",
		"avx512_bitalg", "avx512_vpopcntdq", "avx512_fp16", "avx512_bf16",
		"avx512pf", "avx512er", "amx_tile", "mpx", "sha_ni", "adx",
	};
	struct pcm_fs a;

	t_allow(test, PCM_KVM_MODE_X86_64_V4, &a);
	t_expect_all(test, &a, t_psabi_v1, ARRAY_SIZE(t_psabi_v1), "x86-64-v4");
	t_expect_all(test, &a, t_psabi_v2, ARRAY_SIZE(t_psabi_v2), "x86-64-v4");
	t_expect_all(test, &a, t_psabi_v3, ARRAY_SIZE(t_psabi_v3), "x86-64-v4");
	t_expect_all(test, &a, t_psabi_v4, ARRAY_SIZE(t_psabi_v4), "x86-64-v4");
	t_expect_none(test, &a, not_v4, ARRAY_SIZE(not_v4), "x86-64-v4");
	t_expect_level_adds(test, PCM_KVM_MODE_X86_64_V3, PCM_KVM_MODE_X86_64_V4,
			    t_psabi_v4, ARRAY_SIZE(t_psabi_v4),
			    t_sys_v4, ARRAY_SIZE(t_sys_v4));
}

static void t_mode_min(struct kunit *test)
{
	static const char *const not_min[] = { "pni", "cx16", "lahf_lm", "rdtscp" };
	struct pcm_fs a;

	t_allow(test, PCM_KVM_MODE_MIN, &a);
	t_expect_none(test, &a, t_hyperv_hidden, ARRAY_SIZE(t_hyperv_hidden), "min");
	t_expect_none(test, &a, not_min, ARRAY_SIZE(not_min), "min");
	t_expect_all(test, &a, t_psabi_v1, ARRAY_SIZE(t_psabi_v1), "min");
	KUNIT_EXPECT_TRUE(test, t_has(test, &a, "sse2"));
	/* INFO passes through unless a dependency is hidden */
	KUNIT_EXPECT_FALSE(test, t_has(test, &a, "osxsave"));
	KUNIT_EXPECT_TRUE(test, t_has(test, &a, "ht"));
	t_expect_level_adds(test, PCM_KVM_MODE_OFF, PCM_KVM_MODE_MIN,
			    t_psabi_v1, ARRAY_SIZE(t_psabi_v1),
			    t_sys_min, ARRAY_SIZE(t_sys_min));
}

static void t_mode_nested(struct kunit *test)
{
	static const unsigned int modes[] = T_NAMED_MODES;
	struct pcm_fs lo, hi, off;
	unsigned int i;

	t_allow(test, PCM_KVM_MODE_OFF, &off);
	for (i = 0; i + 1 < ARRAY_SIZE(modes); i++) {
		t_allow_hw(test, modes[i], &lo);
		t_allow_hw(test, modes[i + 1], &hi);
		KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_subset(&lo, &hi), "%s not within %s",
				      pcm_mode_name(modes[i]), pcm_mode_name(modes[i + 1]));
		KUNIT_EXPECT_FALSE_MSG(test, pcm_fs_equal(&lo, &hi), "%s == %s",
				       pcm_mode_name(modes[i]), pcm_mode_name(modes[i + 1]));
	}
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		t_allow(test, modes[i], &lo);
		KUNIT_EXPECT_TRUE(test, pcm_fs_subset(&lo, &off));
	}
}

/*
 * KVM, INV, SCRUB and SPEC features are shown by every mode, even an empty
 * baseline; NO features by every mode but baseline.
 */
static void t_mode_non_hw_always(struct kunit *test)
{
	static const unsigned int modes[] = {
		PCM_KVM_MODE_OFF, PCM_KVM_MODE_MIN, PCM_KVM_MODE_X86_64_V2,
		PCM_KVM_MODE_X86_64_V3, PCM_KVM_MODE_X86_64_V4, PCM_KVM_MODE_BASELINE,
	};
	struct pcm_fs a;
	unsigned int i, id;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		t_allow(test, modes[i], &a);
		for (id = 0; id < PCM_NR_FEATURES; id++) {
			u8 cls = pcm_features[id].cls;

			if (cls != PCM_CLASS_KVM && cls != PCM_CLASS_INV &&
			    cls != PCM_CLASS_SCRUB && cls != PCM_CLASS_SPEC &&
			    (cls != PCM_CLASS_NO || modes[i] == PCM_KVM_MODE_BASELINE))
				continue;
			KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_test(&a, id), "%s hides %s",
					      pcm_mode_name(modes[i]), pcm_features[id].name);
		}
	}
}

static void t_mode_baseline(struct kunit *test)
{
	struct pcm_fs a, hw, empty, base, v3;

	pcm_fs_of_class(&hw, PCM_CLASS_HW);
	pcm_fs_zero(&empty);

	KUNIT_ASSERT_EQ(test, pcm_mode_allow(PCM_KVM_MODE_BASELINE, NULL, &a), 0);
	pcm_fs_and(&a, &a, &hw);
	KUNIT_EXPECT_TRUE(test, pcm_fs_empty(&a));

	KUNIT_ASSERT_EQ(test, pcm_mode_allow(PCM_KVM_MODE_BASELINE, &empty, &a), 0);
	pcm_fs_and(&a, &a, &hw);
	KUNIT_EXPECT_TRUE(test, pcm_fs_empty(&a));

	/* A closed baseline equal to x86-64-v3 gives x86-64-v3. */
	t_allow(test, PCM_KVM_MODE_X86_64_V3, &v3);
	KUNIT_ASSERT_EQ(test, pcm_mode_allow(PCM_KVM_MODE_BASELINE, &v3, &a), 0);
	KUNIT_EXPECT_TRUE(test, pcm_fs_equal(&a, &v3));

	/* A baseline with avx but not xsave ends without avx */
	pcm_fs_zero(&base);
	pcm_fs_set(&base, t_id(test, "avx"));
	pcm_fs_set(&base, t_id(test, "sse2"));
	KUNIT_ASSERT_EQ(test, pcm_mode_allow(PCM_KVM_MODE_BASELINE, &base, &a), 0);
	KUNIT_EXPECT_FALSE(test, t_has(test, &a, "avx"));
	/* sse2 needs sse, fxsr, fpu: all absent from the baseline */
	KUNIT_EXPECT_FALSE(test, t_has(test, &a, "sse2"));
	KUNIT_EXPECT_TRUE(test, t_has(test, &a, "x2apic"));
}

static void t_mode_off(struct kunit *test)
{
	struct pcm_fs a, b;
	unsigned int w;

	t_allow(test, PCM_KVM_MODE_OFF, &a);
	for (w = 0; w < PCM_KVM_NWORDS; w++)
		KUNIT_EXPECT_EQ_MSG(test, a.words[w], 0xffffffffU, "word %u", w);
	/* the baseline argument does not matter */
	pcm_fs_zero(&b);
	KUNIT_ASSERT_EQ(test, pcm_mode_allow(PCM_KVM_MODE_OFF, &b, &b), 0);
	KUNIT_EXPECT_TRUE(test, pcm_fs_equal(&a, &b));
}

static void t_mode_invalid(struct kunit *test)
{
	struct pcm_fs a;

	KUNIT_EXPECT_EQ(test, pcm_mode_allow(PCM_KVM_NR_MODES, NULL, &a), -EINVAL);
	KUNIT_EXPECT_EQ(test, pcm_mode_allow(~0U, NULL, &a), -EINVAL);
}

/* Every allow-list is already closed; closing it again changes nothing. */
static void t_mode_allow_closed(struct kunit *test)
{
	unsigned int mode;
	struct pcm_fs a, b;

	for (mode = PCM_KVM_MODE_MIN; mode < PCM_KVM_NR_MODES; mode++) {
		t_allow(test, mode, &a);
		b = a;
		pcm_fs_close(&b);
		KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_equal(&a, &b), "%s", pcm_mode_name(mode));
	}
}

static void t_mode_xcomp_allowed(struct kunit *test)
{
	struct pcm_fs a;

	t_allow(test, PCM_KVM_MODE_X86_64_V3, &a);
	KUNIT_EXPECT_EQ(test, pcm_xcomp_allowed(&a), (u64)(XC_X87 | XC_SSE | XC_AVX));
	t_allow(test, PCM_KVM_MODE_X86_64_V4, &a);
	KUNIT_EXPECT_EQ(test, pcm_xcomp_allowed(&a),
			(u64)(XC_X87 | XC_SSE | XC_AVX | XC_OPMASK | XC_ZMM_HI256 |
			      XC_HI16_ZMM | XC_PKRU));
	t_allow(test, PCM_KVM_MODE_X86_64_V2, &a);
	KUNIT_EXPECT_EQ(test, pcm_xcomp_allowed(&a) & ~(u64)(XC_X87 | XC_SSE), 0);
	pcm_fs_known(&a);
	KUNIT_EXPECT_EQ(test, pcm_xcomp_allowed(&a) &
			(u64)(XC_PKRU | XC_XTILECFG | XC_XTILEDATA | XC_BNDREGS | XC_PT),
			(u64)(XC_PKRU | XC_XTILECFG | XC_XTILEDATA | XC_BNDREGS | XC_PT));
}

static struct kunit_case pcm_model_modes_cases[] = {
	KUNIT_CASE(t_mode_names),
	KUNIT_CASE(t_mode_v2),
	KUNIT_CASE(t_mode_v3),
	KUNIT_CASE(t_mode_v4),
	KUNIT_CASE(t_mode_min),
	KUNIT_CASE(t_mode_nested),
	KUNIT_CASE(t_mode_non_hw_always),
	KUNIT_CASE(t_mode_baseline),
	KUNIT_CASE(t_mode_off),
	KUNIT_CASE(t_mode_invalid),
	KUNIT_CASE(t_mode_allow_closed),
	KUNIT_CASE(t_mode_xcomp_allowed),
	{}
};

static struct kunit_suite pcm_model_modes_suite = {
	.name = "pcm_model_modes",
	.test_cases = pcm_model_modes_cases,
};

kunit_test_suite(pcm_model_modes_suite);

/* ------------------------------------------------------------------------ */
/* Suite pcm_model_closure: hiding a feature hides all that need it */

/* Every known feature but one, closed. */
static void t_close_without(struct kunit *test, const char *name, struct pcm_fs *fs)
{
	pcm_fs_known(fs);
	pcm_fs_clear(fs, t_id(test, name));
	pcm_fs_close(fs);
}

static void t_expect_prefix_gone(struct kunit *test, const struct pcm_fs *fs,
				 const char *prefix, const char *what)
{
	size_t n = strlen(prefix);
	unsigned int id, seen = 0;

	for (id = 0; id < PCM_NR_FEATURES; id++) {
		if (strncmp(pcm_features[id].name, prefix, n))
			continue;
		seen++;
		KUNIT_EXPECT_FALSE_MSG(test, pcm_fs_test(fs, id), "%s kept %s", what,
				       pcm_features[id].name);
	}
	KUNIT_EXPECT_GT_MSG(test, seen, 0, "no feature named %s*", prefix);
}

static void t_close_xsave(struct kunit *test)
{
	static const char *const gone[] = {
		"avx", "avx2", "fma", "f16c", "avx512f", "avx512vl", "avx512bw",
		"xsaveopt", "xsavec", "xsaves", "xgetbv1", "pku", "ospke", "osxsave",
		"mpx", "xop", "fma4", "vaes", "vpclmulqdq", "avx_vnni", "xfd",
		"amx_tile", "amx_bf16", "amx_int8", "shstk", "ibt", "avx10",
	};
	static const char *const kept[] = {
		"sse4_2", "popcnt", "bmi1", "bmi2", "movbe", "abm", "aes", "pclmulqdq",
		"sha_ni", "gfni", "fxsr", "sse2",
	};
	struct pcm_fs fs;

	t_close_without(test, "xsave", &fs);
	t_expect_none(test, &fs, gone, ARRAY_SIZE(gone), "-xsave");
	t_expect_prefix_gone(test, &fs, "avx", "-xsave");
	t_expect_prefix_gone(test, &fs, "amx_", "-xsave");
	t_expect_all(test, &fs, kept, ARRAY_SIZE(kept), "-xsave");
}

static void t_close_avx(struct kunit *test)
{
	static const char *const gone[] = {
		"avx2", "fma", "f16c", "xop", "vaes", "vpclmulqdq", "avx_vnni",
		"avx512f",
	};
	static const char *const kept[] = { "xsave", "xsaveopt", "pku", "aes" };
	struct pcm_fs fs;

	t_close_without(test, "avx", &fs);
	t_expect_none(test, &fs, gone, ARRAY_SIZE(gone), "-avx");
	t_expect_prefix_gone(test, &fs, "avx", "-avx");
	t_expect_all(test, &fs, kept, ARRAY_SIZE(kept), "-avx");
}

static void t_close_avx2(struct kunit *test)
{
	static const char *const kept[] = { "avx", "fma", "f16c", "xsave", "bmi2" };
	struct pcm_fs fs;

	t_close_without(test, "avx2", &fs);
	KUNIT_EXPECT_FALSE(test, t_has(test, &fs, "avx512f"));
	t_expect_prefix_gone(test, &fs, "avx512", "-avx2");
	t_expect_all(test, &fs, kept, ARRAY_SIZE(kept), "-avx2");
}

static void t_close_avx512f(struct kunit *test)
{
	static const char *const kept[] = {
		"avx2", "avx", "avx_vnni", "fma", "xsave", "pku", "amx_tile",
	};
	struct pcm_fs fs;

	t_close_without(test, "avx512f", &fs);
	KUNIT_EXPECT_FALSE(test, t_has(test, &fs, "avx512vl"));
	KUNIT_EXPECT_FALSE(test, t_has(test, &fs, "avx512_fp16"));
	t_expect_prefix_gone(test, &fs, "avx512", "-avx512f");
	t_expect_all(test, &fs, kept, ARRAY_SIZE(kept), "-avx512f");
}

static void t_close_amx_tile(struct kunit *test)
{
	static const char *const kept[] = { "xfd", "xsaves", "avx512f", "avx512_fp16" };
	struct pcm_fs fs;

	t_close_without(test, "amx_tile", &fs);
	t_expect_prefix_gone(test, &fs, "amx_", "-amx_tile");
	KUNIT_EXPECT_FALSE(test, t_has(test, &fs, "amx_bf16"));
	KUNIT_EXPECT_FALSE(test, t_has(test, &fs, "amx_int8"));
	t_expect_all(test, &fs, kept, ARRAY_SIZE(kept), "-amx_tile");
}

static void t_close_sse4_2(struct kunit *test)
{
	struct pcm_fs fs;

	t_close_without(test, "sse4_2", &fs);
	/* POPCNT is not tied to SSE4.2 */
	KUNIT_EXPECT_TRUE(test, t_has(test, &fs, "popcnt"));
	KUNIT_EXPECT_TRUE(test, t_has(test, &fs, "sse4_1"));
	KUNIT_EXPECT_TRUE(test, t_has(test, &fs, "avx"));
	KUNIT_EXPECT_EQ(test, pcm_fs_count(&fs), PCM_NR_FEATURES - 1);
}

static void t_close_sse2(struct kunit *test)
{
	static const char *const gone[] = {
		"pni", "ssse3", "sse4_1", "sse4_2", "aes", "pclmulqdq", "sha_ni",
		"misalignsse", "sse4a",
	};
	static const char *const kept[] = { "sse", "fxsr", "popcnt", "mmx" };
	struct pcm_fs fs;

	t_close_without(test, "sse2", &fs);
	t_expect_none(test, &fs, gone, ARRAY_SIZE(gone), "-sse2");
	t_expect_all(test, &fs, kept, ARRAY_SIZE(kept), "-sse2");
}

/* Closing clears only; a closed set is a fixed point; the empty set stays empty. */
static void t_close_basic(struct kunit *test)
{
	struct pcm_fs fs, known;

	pcm_fs_known(&known);
	fs = known;
	pcm_fs_close(&fs);
	KUNIT_EXPECT_TRUE(test, pcm_fs_equal(&fs, &known));
	pcm_fs_zero(&fs);
	pcm_fs_close(&fs);
	KUNIT_EXPECT_TRUE(test, pcm_fs_empty(&fs));
	/* bits outside the table are left alone */
	pcm_fs_zero(&fs);
	fs.words[PCM_KVM_W_1_ECX] = BIT(16);
	fs.words[PCM_KVM_NWORDS - 1] = 0x12345678;
	pcm_fs_close(&fs);
	KUNIT_EXPECT_EQ(test, fs.words[PCM_KVM_W_1_ECX], (u32)BIT(16));
	KUNIT_EXPECT_EQ(test, fs.words[PCM_KVM_NWORDS - 1], 0x12345678U);
}

/* Each feature alone survives closure iff it needs nothing. */
static void t_close_singletons(struct kunit *test)
{
	unsigned int id, i;

	for (id = 0; id < PCM_NR_FEATURES; id++) {
		struct pcm_fs fs;
		bool needs = false;

		for (i = 0; i < ARRAY_SIZE(t_deps); i++)
			needs |= t_deps[i].id == id;
		pcm_fs_zero(&fs);
		pcm_fs_set(&fs, id);
		pcm_fs_close(&fs);
		KUNIT_EXPECT_EQ_MSG(test, pcm_fs_test(&fs, id), !needs, "%s",
				    pcm_features[id].name);
	}
}

static struct kunit_case pcm_model_closure_cases[] = {
	KUNIT_CASE(t_close_xsave),
	KUNIT_CASE(t_close_avx),
	KUNIT_CASE(t_close_avx2),
	KUNIT_CASE(t_close_avx512f),
	KUNIT_CASE(t_close_amx_tile),
	KUNIT_CASE(t_close_sse4_2),
	KUNIT_CASE(t_close_sse2),
	KUNIT_CASE(t_close_basic),
	KUNIT_CASE(t_close_singletons),
	{}
};

static struct kunit_suite pcm_model_closure_suite = {
	.name = "pcm_model_closure",
	.test_cases = pcm_model_closure_cases,
};

kunit_test_suite(pcm_model_closure_suite);

/* ------------------------------------------------------------------------ */
/* Suite pcm_model_parse: pcm_fs_parse, pcm_fs_format, pcm_mode_parse */

static int t_parse(const char *s, size_t len, struct pcm_fs *fs,
		   const char **bad, size_t *badlen)
{
	*bad = NULL;
	*badlen = 0;
	return pcm_fs_parse(s, len, fs, bad, badlen);
}

static void t_parse_separators(struct kunit *test)
{
	static const char s[] = " fpu,sse2\tavx\nxsave,,  \t\n popcnt\n";
	static const char *const want[] = { "fpu", "sse2", "avx", "xsave", "popcnt" };
	const char *bad;
	size_t badlen;
	struct pcm_fs fs, exp;

	KUNIT_ASSERT_EQ(test, t_parse(s, strlen(s), &fs, &bad, &badlen), 0);
	t_fs_from_names(test, want, ARRAY_SIZE(want), &exp);
	KUNIT_EXPECT_TRUE(test, pcm_fs_equal(&fs, &exp));
	KUNIT_EXPECT_EQ(test, pcm_fs_count(&fs), ARRAY_SIZE(want));
	/* bit positions, not just membership */
	KUNIT_EXPECT_EQ(test, fs.words[PCM_KVM_W_1_ECX], (u32)(C1_AVX | C1_XSAVE | C1_POPCNT));
	KUNIT_EXPECT_EQ(test, fs.words[PCM_KVM_W_1_EDX], (u32)(BIT(0) | BIT(26)));
}

static void t_parse_aliases_case(struct kunit *test)
{
	static const char s[] = "SSE4.1 sse4.2 Sse3 LAHF-LM tsc-deadline Lzcnt Avx512VL AVX2";
	const char *bad;
	size_t badlen;
	struct pcm_fs fs;

	KUNIT_ASSERT_EQ(test, t_parse(s, strlen(s), &fs, &bad, &badlen), 0);
	KUNIT_EXPECT_EQ(test, fs.words[PCM_KVM_W_1_ECX],
			(u32)(C1_SSE4_1 | C1_SSE4_2 | C1_PNI | C1_TSC_DEADLINE));
	KUNIT_EXPECT_EQ(test, fs.words[PCM_KVM_W_8000_0001_ECX], (u32)(C81_LAHF_LM | C81_ABM));
	KUNIT_EXPECT_EQ(test, fs.words[PCM_KVM_W_7_0_EBX], (u32)(B7_AVX512VL | B7_AVX2));
	KUNIT_EXPECT_EQ(test, pcm_fs_count(&fs), 8);
	/* '-' and '_' alike, both ways; duplicates are harmless */
	KUNIT_ASSERT_EQ(test, t_parse("lahf_lm tsc_deadline_timer TSC-DEADLINE-TIMER", 45,
				      &fs, &bad, &badlen), 0);
	KUNIT_EXPECT_EQ(test, pcm_fs_count(&fs), 2);
}

static void t_parse_unknown_middle(struct kunit *test)
{
	static const char s[] = "fpu,sse2  no_such_feature\tavx bogus2";
	static const char s2[] = "avx avx3";
	const char *bad;
	size_t badlen;
	struct pcm_fs fs;

	memset(&fs, 0xa5, sizeof(fs));
	KUNIT_EXPECT_EQ(test, t_parse(s, strlen(s), &fs, &bad, &badlen), -EINVAL);
	KUNIT_EXPECT_PTR_EQ(test, bad, strstr(s, "no_such_feature"));
	KUNIT_EXPECT_EQ(test, badlen, strlen("no_such_feature"));
	/* fs is written only on success */
	KUNIT_EXPECT_EQ(test, fs.words[0], 0xa5a5a5a5U);
	KUNIT_EXPECT_EQ(test, fs.words[PCM_KVM_NWORDS - 1], 0xa5a5a5a5U);

	/* a near miss as the last token */
	KUNIT_EXPECT_EQ(test, t_parse(s2, strlen(s2), &fs, &bad, &badlen), -EINVAL);
	KUNIT_EXPECT_PTR_EQ(test, bad, s2 + 4);
	KUNIT_EXPECT_EQ(test, badlen, 4);
	/* bad and badlen are optional */
	KUNIT_EXPECT_EQ(test, pcm_fs_parse("x", 1, &fs, NULL, NULL), -EINVAL);
}

static void t_parse_nodata(struct kunit *test)
{
	static const char *const empty[] = { "", " ", ",", "\t\n , ,\n", "\n\n\n" };
	const char *bad;
	size_t badlen;
	struct pcm_fs fs;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(empty); i++) {
		memset(&fs, 0x5a, sizeof(fs));
		KUNIT_EXPECT_EQ_MSG(test, t_parse(empty[i], strlen(empty[i]), &fs, &bad,
						  &badlen), -ENODATA, "input %u", i);
		KUNIT_EXPECT_EQ_MSG(test, fs.words[0], 0x5a5a5a5aU, "input %u", i);
		KUNIT_EXPECT_EQ_MSG(test, fs.words[PCM_KVM_W_1_ECX], 0x5a5a5a5aU, "input %u", i);
	}
	/* len is honoured: nothing past it is read */
	memset(&fs, 0x5a, sizeof(fs));
	KUNIT_EXPECT_EQ(test, t_parse("avx", 0, &fs, &bad, &badlen), -ENODATA);
	KUNIT_EXPECT_EQ(test, fs.words[PCM_KVM_W_1_ECX], 0x5a5a5a5aU);
	KUNIT_ASSERT_EQ(test, t_parse("avx2", 3, &fs, &bad, &badlen), 0);
	KUNIT_EXPECT_EQ(test, fs.words[PCM_KVM_W_1_ECX], (u32)C1_AVX);
	KUNIT_EXPECT_EQ(test, fs.words[PCM_KVM_W_7_0_EBX], 0U);
}

static void t_parse_long_token(struct kunit *test)
{
	const size_t len = 5000;
	char *s = kunit_kmalloc(test, len, GFP_KERNEL);
	const char *bad;
	size_t badlen, i;
	struct pcm_fs fs;

	KUNIT_ASSERT_NOT_NULL(test, s);
	memset(s, 'x', len);
	KUNIT_EXPECT_EQ(test, t_parse(s, len, &fs, &bad, &badlen), -EINVAL);
	KUNIT_EXPECT_PTR_EQ(test, bad, (const char *)s);
	KUNIT_EXPECT_EQ(test, badlen, len);

	/* a valid name followed by junk, then after a valid token */
	memcpy(s, "avx sse2", 8);
	KUNIT_EXPECT_EQ(test, t_parse(s, len, &fs, &bad, &badlen), -EINVAL);
	KUNIT_EXPECT_PTR_EQ(test, bad, (const char *)s + 4);
	KUNIT_EXPECT_EQ(test, badlen, len - 4);

	/* one past PCM_NAME_MAX */
	memset(s, 'a', PCM_NAME_MAX + 1);
	KUNIT_EXPECT_EQ(test, t_parse(s, PCM_NAME_MAX + 1, &fs, &bad, &badlen), -EINVAL);
	KUNIT_EXPECT_EQ(test, badlen, PCM_NAME_MAX + 1);

	/* 5000 bytes of valid input */
	for (i = 0; i + 4 <= len; i += 4)
		memcpy(s + i, "avx ", 4);
	KUNIT_ASSERT_EQ(test, t_parse(s, len, &fs, &bad, &badlen), 0);
	KUNIT_EXPECT_EQ(test, pcm_fs_count(&fs), 1);
	KUNIT_EXPECT_EQ(test, fs.words[PCM_KVM_W_1_ECX], (u32)C1_AVX);
}

static void t_parse_binary(struct kunit *test)
{
	static const char junk[] = { 0x00, 0x01, 0x7f, (char)0x80, (char)0xff, 'a', 'v', 'x' };
	static const char nul_tail[] = { 'a', 'v', 'x', 0x00 };
	static const char nul_mid[] = { 's', 's', 'e', '2', 0x00, 'a', 'v', 'x' };
	static const char high[] = { 'a', 'v', 'x', (char)0xc3, (char)0xa9 };
	static const char nul_only[] = { 0x00 };
	static const struct {
		const char *s;
		size_t len;
	} in[] = {
		{ junk, sizeof(junk) }, { nul_tail, sizeof(nul_tail) },
		{ nul_mid, sizeof(nul_mid) }, { high, sizeof(high) },
		{ nul_only, sizeof(nul_only) }, { "sse2\r\n", 6 },
	};
	const char *bad;
	size_t badlen;
	struct pcm_fs fs;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(in); i++) {
		memset(&fs, 0x3c, sizeof(fs));
		KUNIT_EXPECT_EQ_MSG(test, t_parse(in[i].s, in[i].len, &fs, &bad, &badlen),
				    -EINVAL, "input %u", i);
		KUNIT_EXPECT_PTR_EQ_MSG(test, bad, in[i].s, "input %u", i);
		KUNIT_EXPECT_EQ_MSG(test, fs.words[0], 0x3c3c3c3cU, "input %u", i);
	}
	/* only the offending token is reported: "sse2\r" of "sse2\r\n" */
	t_parse("sse2\r\n", 6, &fs, &bad, &badlen);
	KUNIT_EXPECT_EQ(test, badlen, 5);
}

static void t_format_basic(struct kunit *test)
{
	char buf[64];
	struct pcm_fs fs;

	pcm_fs_zero(&fs);
	memset(buf, 'Z', sizeof(buf));
	KUNIT_EXPECT_EQ(test, pcm_fs_format(&fs, buf, sizeof(buf)), 0);
	KUNIT_EXPECT_STREQ(test, buf, "");

	/* table order, single spaces, /proc/cpuinfo names (not aliases) */
	pcm_fs_set(&fs, t_id(test, "sse3"));
	pcm_fs_set(&fs, t_id(test, "avx"));
	pcm_fs_set(&fs, t_id(test, "fpu"));
	pcm_fs_set(&fs, t_id(test, "sse2"));
	pcm_fs_set(&fs, t_id(test, "lahf-lm"));
	KUNIT_EXPECT_EQ(test, pcm_fs_format(&fs, buf, sizeof(buf)), 24);
	KUNIT_EXPECT_STREQ(test, buf, "fpu sse2 pni avx lahf_lm");

	/* bits outside the table are not printed */
	pcm_fs_zero(&fs);
	fs.words[PCM_KVM_W_1_ECX] = BIT(16);
	fs.words[PCM_KVM_NWORDS - 1] = ~0U;
	KUNIT_EXPECT_EQ(test, pcm_fs_format(&fs, buf, sizeof(buf)), 0);
	KUNIT_EXPECT_STREQ(test, buf, "");
}

static void t_format_truncation(struct kunit *test)
{
	const size_t guard = 16;
	char *full = kunit_kzalloc(test, PCM_FS_TEXT_MAX, GFP_KERNEL);
	char *buf = kunit_kmalloc(test, PCM_FS_TEXT_MAX + guard, GFP_KERNEL);
	size_t full_len, size, ret, i;
	struct pcm_fs fs;

	KUNIT_ASSERT_NOT_NULL(test, full);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	t_allow(test, PCM_KVM_MODE_X86_64_V4, &fs);
	full_len = pcm_fs_format(&fs, full, PCM_FS_TEXT_MAX);
	KUNIT_ASSERT_EQ(test, full_len, strlen(full));
	KUNIT_ASSERT_GT(test, full_len, 100);

	for (size = 0; size <= full_len + 2; size++) {
		memset(buf, 0x7e, size + guard);
		ret = pcm_fs_format(&fs, buf, size);
		for (i = size; i < size + guard; i++)
			KUNIT_ASSERT_EQ_MSG(test, buf[i], 0x7e, "size %zu wrote byte %zu",
					    size, i);
		if (!size) {
			KUNIT_EXPECT_EQ(test, ret, 0);
			continue;
		}
		KUNIT_ASSERT_LT_MSG(test, ret, size, "size %zu", size);
		KUNIT_ASSERT_EQ_MSG(test, buf[ret], '\0', "size %zu", size);
		KUNIT_EXPECT_EQ_MSG(test, strlen(buf), ret, "size %zu", size);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(buf, full, ret), 0, "size %zu", size);
		/* cut at a name boundary, and the next name did not fit */
		KUNIT_EXPECT_TRUE_MSG(test, !ret || full[ret] == ' ' || full[ret] == '\0',
				      "size %zu cut a name", size);
		if (full[ret] == ' ')
			KUNIT_EXPECT_GE_MSG(test, ret + 1 + strcspn(full + ret + 1, " "), size,
					    "size %zu: a name was left out", size);
		if (!ret)
			KUNIT_EXPECT_GE_MSG(test, strcspn(full, " "), size, "size %zu", size);
		if (size > full_len)
			KUNIT_EXPECT_EQ(test, ret, full_len);
	}
	/* size 1: just the NUL */
	memset(buf, 0x7e, 2);
	KUNIT_EXPECT_EQ(test, pcm_fs_format(&fs, buf, 1), 0);
	KUNIT_EXPECT_EQ(test, buf[0], '\0');
	KUNIT_EXPECT_EQ(test, buf[1], 0x7e);
}

/* Every mode's allow-list survives format then parse. */
static void t_format_parse_round_trip(struct kunit *test)
{
	char *buf = kunit_kzalloc(test, PCM_FS_TEXT_MAX, GFP_KERNEL);
	struct pcm_fs allow, back, known, base;
	const char *bad;
	size_t badlen, len;
	unsigned int mode;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	pcm_fs_known(&known);
	t_allow(test, PCM_KVM_MODE_X86_64_V3, &base);
	pcm_fs_clear(&base, t_id(test, "bmi2"));
	pcm_fs_set(&base, t_id(test, "aes"));

	for (mode = 0; mode < PCM_KVM_NR_MODES; mode++) {
		KUNIT_ASSERT_EQ(test, pcm_mode_allow(mode, &base, &allow), 0);
		pcm_fs_and(&allow, &allow, &known);
		len = pcm_fs_format(&allow, buf, PCM_FS_TEXT_MAX);
		KUNIT_ASSERT_LT(test, len, PCM_FS_TEXT_MAX);
		KUNIT_ASSERT_EQ_MSG(test, t_parse(buf, len, &back, &bad, &badlen), 0,
				    "%s: \"%.*s\" rejected", pcm_mode_name(mode),
				    (int)badlen, bad ? bad : "");
		KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_equal(&back, &allow), "%s",
				      pcm_mode_name(mode));
	}
	/* off prints every feature of the table */
	KUNIT_ASSERT_EQ(test, pcm_mode_allow(PCM_KVM_MODE_OFF, NULL, &allow), 0);
	len = pcm_fs_format(&allow, buf, PCM_FS_TEXT_MAX);
	KUNIT_ASSERT_EQ(test, t_parse(buf, len, &back, &bad, &badlen), 0);
	KUNIT_EXPECT_TRUE(test, pcm_fs_equal(&back, &known));
	KUNIT_EXPECT_EQ(test, pcm_fs_count(&back), PCM_NR_FEATURES);
}

static void t_mode_parse_good(struct kunit *test)
{
	static const char off_sp_nl[] = { 'o', 'f', 'f', ' ', ' ', '\n' };
	static const struct {
		const char *s;
		int mode;
	} in[] = {
		{ "off", PCM_KVM_MODE_OFF },
		{ "min", PCM_KVM_MODE_MIN },
		{ "x86-64-v2", PCM_KVM_MODE_X86_64_V2 },
		{ "x86-64-v3", PCM_KVM_MODE_X86_64_V3 },
		{ "x86-64-v4", PCM_KVM_MODE_X86_64_V4 },
		{ "baseline", PCM_KVM_MODE_BASELINE },
		{ "off\n", PCM_KVM_MODE_OFF },
		{ "x86-64-v3\n", PCM_KVM_MODE_X86_64_V3 },
		{ "min  ", PCM_KVM_MODE_MIN },
		{ "baseline\t\n", PCM_KVM_MODE_BASELINE },
		{ "x86-64-v4\t\n", PCM_KVM_MODE_X86_64_V4 },
		{ "x86-64-v2\n\n", PCM_KVM_MODE_X86_64_V2 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(in); i++)
		KUNIT_EXPECT_EQ_MSG(test, pcm_mode_parse(in[i].s, strlen(in[i].s)), in[i].mode,
				    "\"%s\"", in[i].s);
	/* spaces, then a newline */
	KUNIT_EXPECT_EQ(test, pcm_mode_parse(off_sp_nl, sizeof(off_sp_nl)), PCM_KVM_MODE_OFF);
	/* len is honoured */
	KUNIT_EXPECT_EQ(test, pcm_mode_parse("offx", 3), PCM_KVM_MODE_OFF);
	KUNIT_EXPECT_EQ(test, pcm_mode_parse("x86-64-v3x", 9), PCM_KVM_MODE_X86_64_V3);
}

static void t_mode_parse_bad(struct kunit *test)
{
	static const struct {
		const char *s;
		size_t len;
	} in[] = {
		{ "x86-64-v9", 9 }, { "", 0 }, { "\n", 1 }, { "offx", 4 }, { " off", 4 },
		{ "x86-64-v", 8 }, { "x86-64-v22", 10 }, { "baselin", 7 },
		{ "baselinex", 9 }, { "\noff", 4 }, { "o ff", 4 }, { "min\nx", 5 },
		{ "x86-64", 6 }, { "v3", 2 }, { "   ", 3 }, { "off,", 4 },
		/* embedded NUL */
		{ "off\0", 4 }, { "of\0f", 4 }, { "\0off", 4 }, { "min\0\0", 5 },
		{ "x86-64-v2\0\n", 11 }, { "\0", 1 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(in); i++)
		KUNIT_EXPECT_EQ_MSG(test, pcm_mode_parse(in[i].s, in[i].len), -EINVAL,
				    "input %u (\"%.*s\")", i, (int)in[i].len, in[i].s);
}

static struct kunit_case pcm_model_parse_cases[] = {
	KUNIT_CASE(t_parse_separators),
	KUNIT_CASE(t_parse_aliases_case),
	KUNIT_CASE(t_parse_unknown_middle),
	KUNIT_CASE(t_parse_nodata),
	KUNIT_CASE(t_parse_long_token),
	KUNIT_CASE(t_parse_binary),
	KUNIT_CASE(t_format_basic),
	KUNIT_CASE(t_format_truncation),
	KUNIT_CASE(t_format_parse_round_trip),
	KUNIT_CASE(t_mode_parse_good),
	KUNIT_CASE(t_mode_parse_bad),
	{}
};

static struct kunit_suite pcm_model_parse_suite = {
	.name = "pcm_model_parse",
	.test_cases = pcm_model_parse_cases,
};

kunit_test_suite(pcm_model_parse_suite);

/* ------------------------------------------------------------------------ */
/* Suite pcm_model_mask: CPUID tables as KVM_SET_CPUID2 would install them */

#define T_IDX	KVM_CPUID_FLAG_SIGNIFCANT_INDEX
#define T_ENT(fn, idx, fl, a, b, c, d)					\
	{ .function = (fn), .index = (idx), .flags = (fl),		\
	  .eax = (a), .ebx = (b), .ecx = (c), .edx = (d) }

#define C1_CLX	(C1_PNI | C1_PCLMULQDQ | C1_VMX | C1_SSSE3 | C1_FMA | C1_CX16 |	\
		 C1_PDCM | C1_PCID | C1_SSE4_1 | C1_SSE4_2 | C1_X2APIC |	\
		 C1_MOVBE | C1_POPCNT | C1_TSC_DEADLINE | C1_AES | C1_XSAVE |	\
		 C1_AVX | C1_F16C | C1_RDRAND | C1_HYPERVISOR)
#define D1_HOST	(D1_BASE | D1_SS | D1_HT)
#define C7_CLX	(C7_PKU | C7_AVX512_VNNI)
#define D7_CLX	(D7_MD_CLEAR | D7_SPEC_CTRL | D7_STIBP | D7_FLUSH_L1D |	\
		 D7_ARCH_CAP | D7_SSBD)
/* x87, SSE, AVX, MPX (2), AVX-512 (3), PKRU: 0x2ff */
#define XCR0_SKX (XC_X87 | XC_SSE | XC_AVX | XC_BNDREGS | XC_BNDCSR |	\
		  XC_OPMASK | XC_ZMM_HI256 | XC_HI16_ZMM | XC_PKRU)
#define A_D1_ALL (A_D1_XSAVEOPT | A_D1_XSAVEC | A_D1_XGETBV1 | A_D1_XSAVES)

/*
 * A Cooper Lake host (Skylake-SP family: AVX-512 F/CD/DQ/BW/VL, VNNI, BF16;
 * Xeon Platinum 8380H) as QEMU -cpu host passes it to KVM_SET_CPUID2.
 * Leaf 0xD: standard-format sizes and offsets of the SDM (vol. 1, 13.4).
 */
static const struct kvm_cpuid_entry2 t_clx[] = {
	T_ENT(0x0, 0, 0, 0x16, 0x756e6547, 0x6c65746e, 0x49656e69),
	T_ENT(0x1, 0, 0, 0x0005065b, 0x00200800, C1_CLX, D1_HOST),
	T_ENT(0x6, 0, 0, A6_ARAT, 0, 0, 0),
	T_ENT(0x7, 0, T_IDX, 1, B7_SKX, C7_CLX, D7_CLX),
	T_ENT(0x7, 1, T_IDX, A71_AVX512_BF16, 0, 0, 0),
	T_ENT(0xb, 0, T_IDX, 1, 2, 0x100, 3),
	T_ENT(0xb, 1, T_IDX, 6, 56, 0x201, 3),
	T_ENT(0xd, 0, T_IDX, XCR0_SKX, 2696, 2696, 0),
	T_ENT(0xd, 1, T_IDX, A_D1_ALL, 2696, XC_PT, 0),
	T_ENT(0xd, 2, T_IDX, 256, 576, 0, 0),		/* YMM_Hi128 */
	T_ENT(0xd, 3, T_IDX, 64, 960, 0, 0),		/* BNDREGS */
	T_ENT(0xd, 4, T_IDX, 64, 1024, 0, 0),		/* BNDCSR */
	T_ENT(0xd, 5, T_IDX, 64, 1088, 0, 0),		/* opmask */
	T_ENT(0xd, 6, T_IDX, 512, 1152, 0, 0),		/* ZMM_Hi256 */
	T_ENT(0xd, 7, T_IDX, 1024, 1664, 0, 0),		/* Hi16_ZMM */
	T_ENT(0xd, 8, T_IDX, 128, 0, 1, 0),		/* PT (supervisor) */
	T_ENT(0xd, 9, T_IDX, 8, 2688, 0, 0),		/* PKRU */
	T_ENT(0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d),
	T_ENT(0x40000001, 0, 0, 0x01007afb, 0, 0, 0),
	T_ENT(0x80000000, 0, 0, 0x80000021, 0, 0, 0),
	T_ENT(0x80000001, 0, 0, 0, 0, C81_LAHF_LM | C81_ABM | C81_3DNOWPREF,
	      D81_SYSCALL | D81_NX | D81_PDPE1GB | D81_RDTSCP | D81_LM),
	/* "Intel(R) Xeon(R)" */
	T_ENT(0x80000002, 0, 0, 0x65746e49, 0x2952286c, 0x6f655820, 0x2952286e),
	T_ENT(0x80000008, 0, 0, 0x0000302e,
	      B88_AMD_IBPB | B88_AMD_IBRS | B88_AMD_STIBP | B88_AMD_SSBD, 0, 0),
	T_ENT(0x80000021, 0, 0, A821_LFENCE_RDTSC | A821_NULL_SEL_CLR | A821_NO_SMM_CTL,
	      0, 0, 0),
};

/* Leaves no mode may change: vendor, topology, brand string, KVM's own leaves. */
static const u32 t_clx_untouched[][2] = {
	{ 0x0, 0 }, { 0x6, 0 }, { 0xb, 0 }, { 0xb, 1 }, { 0x40000000, 0 },
	{ 0x40000001, 0 }, { 0x80000000, 0 }, { 0x80000002, 0 },
};

#define C7_SPR	(C7_AVX512VBMI | C7_UMIP | C7_PKU | C7_WAITPKG | C7_AVX512_VBMI2 |	\
		 C7_GFNI | C7_VAES | C7_VPCLMULQDQ | C7_AVX512_VNNI |		\
		 C7_AVX512_BITALG | C7_AVX512_VPOPCNTDQ | C7_LA57 | C7_RDPID |	\
		 C7_CLDEMOTE | C7_MOVDIRI | C7_MOVDIR64B)
#define D7_SPR	(D7_FSRM | D7_MD_CLEAR | D7_SERIALIZE | D7_TSXLDTRK | D7_AMX_BF16 |	\
		 D7_AVX512_FP16 | D7_AMX_TILE | D7_AMX_INT8 | D7_SPEC_CTRL |	\
		 D7_STIBP | D7_FLUSH_L1D | D7_ARCH_CAP | D7_SSBD)
#define B7_SPR	(B7_FSGSBASE | B7_TSC_ADJUST | B7_BMI1 | B7_HLE | B7_AVX2 |	\
		 B7_FDP_EXCPTN | B7_SMEP | B7_BMI2 | B7_ERMS | B7_INVPCID |	\
		 B7_RTM | B7_ZERO_FCS_FDS | B7_AVX512F | B7_AVX512DQ |		\
		 B7_RDSEED | B7_ADX | B7_SMAP | B7_AVX512IFMA | B7_CLFLUSHOPT |	\
		 B7_CLWB | B7_AVX512CD | B7_SHA_NI | B7_AVX512BW | B7_AVX512VL)
#define XCR0_SPR (XC_X87 | XC_SSE | XC_AVX | XC_OPMASK | XC_ZMM_HI256 |	\
		  XC_HI16_ZMM | XC_PKRU | XC_XTILECFG | XC_XTILEDATA)

/*
 * A Sapphire Rapids host as KVM 6.12 reports it: max leaf 7 sub-leaf 2
 * (7.2 EDX: PSFD, IPRED_CTRL, RRSBA_CTRL, BHI_CTRL), AMX leaves 0x1d/0x1e.
 */
static const struct kvm_cpuid_entry2 t_spr[] = {
	T_ENT(0x0, 0, 0, 0x20, 0x756e6547, 0x6c65746e, 0x49656e69),
	T_ENT(0x1, 0, 0, 0x000806f8, 0x00800800, C1_CLX, D1_HOST),
	T_ENT(0x7, 0, T_IDX, 2, B7_SPR, C7_SPR, D7_SPR),
	T_ENT(0x7, 1, T_IDX, A71_AVX_VNNI | A71_AVX512_BF16 | A71_FZRM | A71_FSRS |
	      A71_FSRC, 0, 0, 0),
	T_ENT(0x7, 2, T_IDX, 0, 0, 0, D72_SPR),
	T_ENT(0xd, 0, T_IDX, XCR0_SPR, 11008, 11008, 0),
	T_ENT(0xd, 1, T_IDX, A_D1_ALL | A_D1_XFD, 11008, 0, 0),
	T_ENT(0xd, 2, T_IDX, 256, 576, 0, 0),
	T_ENT(0xd, 5, T_IDX, 64, 1088, 0, 0),
	T_ENT(0xd, 6, T_IDX, 512, 1152, 0, 0),
	T_ENT(0xd, 7, T_IDX, 1024, 1664, 0, 0),
	T_ENT(0xd, 9, T_IDX, 8, 2688, 0, 0),
	T_ENT(0xd, 17, T_IDX, 64, 2752, 2, 0),		/* XTILECFG */
	T_ENT(0xd, 18, T_IDX, 8192, 2816, 6, 0),	/* XTILEDATA */
	T_ENT(0x1d, 0, T_IDX, 1, 0, 0, 0),
	T_ENT(0x1d, 1, T_IDX, 0x04002000, 0x00080040, 0x10, 0),
	T_ENT(0x1e, 0, T_IDX, 0, 0x00004010, 0, 0),
	T_ENT(0x80000000, 0, 0, 0x80000021, 0, 0, 0),
	T_ENT(0x80000001, 0, 0, 0, 0, C81_LAHF_LM | C81_ABM | C81_3DNOWPREF,
	      D81_SYSCALL | D81_NX | D81_PDPE1GB | D81_RDTSCP | D81_LM),
	T_ENT(0x80000008, 0, 0, 0x0000302e,
	      B88_AMD_IBPB | B88_AMD_IBRS | B88_AMD_STIBP | B88_AMD_SSBD, 0, 0),
};

#define C1_ROME	(C1_PNI | C1_PCLMULQDQ | C1_SSSE3 | C1_FMA | C1_CX16 | C1_SSE4_1 |	\
		 C1_SSE4_2 | C1_X2APIC | C1_MOVBE | C1_POPCNT | C1_TSC_DEADLINE |	\
		 C1_AES | C1_XSAVE | C1_AVX | C1_F16C | C1_RDRAND | C1_HYPERVISOR)
#define C81_ROME (C81_LAHF_LM | C81_CMP_LEGACY | C81_SVM | C81_CR8_LEGACY | C81_ABM |	\
		  C81_SSE4A | C81_MISALIGNSSE | C81_3DNOWPREF | C81_OSVW |	\
		  C81_TOPOEXT | C81_PERFCTR_CORE)
/* an AMD host's 0x80000001 EDX: leaf 1 mirrors, syscall, nx, mmxext, ... */
#define D81_ROME 0x2fd3fbffU

/* The feature leaves of an AMD EPYC 7742 (Zen 2, Rome) host. */
static const struct kvm_cpuid_entry2 t_rome[] = {
	T_ENT(0x0, 0, 0, 0x10, 0x68747541, 0x444d4163, 0x69746e65),
	T_ENT(0x1, 0, 0, 0x00830f10, 0x00800800, C1_ROME, D1_BASE | D1_HT),
	T_ENT(0x80000001, 0, 0, 0x00830f10, 0, C81_ROME, D81_ROME),
	T_ENT(0x80000008, 0, 0, 0x00003030, B88_AMD_IBPB | B88_AMD_SSBD, 0, 0),
};

static const char *const t_reg_name[4] = { "EAX", "EBX", "ECX", "EDX" };

static struct kvm_cpuid_entry2 *t_dup(struct kunit *test, const struct kvm_cpuid_entry2 *e,
				      unsigned int n)
{
	struct kvm_cpuid_entry2 *c = kunit_kmalloc_array(test, n, sizeof(*c), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, c);
	memcpy(c, e, n * sizeof(*c));
	return c;
}

static struct kvm_cpuid_entry2 *t_find(struct kunit *test, struct kvm_cpuid_entry2 *e,
				       unsigned int n, u32 fn, u32 idx)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (e[i].function == fn && e[i].index == idx)
			return &e[i];
	KUNIT_FAIL_AND_ABORT(test, "no entry %#x.%u", fn, idx);
	return NULL;
}

static void t_get(const struct kvm_cpuid_entry2 *e, u32 regs[4])
{
	regs[0] = e->eax;
	regs[1] = e->ebx;
	regs[2] = e->ecx;
	regs[3] = e->edx;
}

static void t_put(struct kvm_cpuid_entry2 *e, const u32 regs[4])
{
	e->eax = regs[0];
	e->ebx = regs[1];
	e->ecx = regs[2];
	e->edx = regs[3];
}

/* One register of one entry. */
static void t_expect_reg(struct kunit *test, const char *what, struct kvm_cpuid_entry2 *e,
			 unsigned int n, u32 fn, u32 idx, unsigned int reg, u32 want)
{
	u32 regs[4];

	t_get(t_find(test, e, n, fn, idx), regs);
	KUNIT_EXPECT_EQ_MSG(test, regs[reg], want, "%s: %#x.%u %s = %#x, want %#x", what,
			    fn, idx, t_reg_name[reg], regs[reg], want);
}

static void t_expect_regs(struct kunit *test, const char *what, struct kvm_cpuid_entry2 *e,
			  unsigned int n, u32 fn, u32 idx, u32 a, u32 b, u32 c, u32 d)
{
	t_expect_reg(test, what, e, n, fn, idx, PCM_KVM_EAX, a);
	t_expect_reg(test, what, e, n, fn, idx, PCM_KVM_EBX, b);
	t_expect_reg(test, what, e, n, fn, idx, PCM_KVM_ECX, c);
	t_expect_reg(test, what, e, n, fn, idx, PCM_KVM_EDX, d);
}

static void t_expect_zero(struct kunit *test, const char *what, struct kvm_cpuid_entry2 *e,
			  unsigned int n, u32 fn, u32 idx)
{
	t_expect_regs(test, what, e, n, fn, idx, 0, 0, 0, 0);
}

static void t_expect_entry_same(struct kunit *test, const char *what,
				struct kvm_cpuid_entry2 *e, const struct kvm_cpuid_entry2 *orig,
				unsigned int n, u32 fn, u32 idx)
{
	const struct kvm_cpuid_entry2 *o = t_find(test, (struct kvm_cpuid_entry2 *)orig, n,
						  fn, idx);

	KUNIT_EXPECT_MEMEQ_MSG(test, t_find(test, e, n, fn, idx), o, sizeof(*o),
			       "%s: %#x.%u changed", what, fn, idx);
}

/* Mask a copy of the Cooper Lake table with a named mode and check every field. */
static void t_mask_clx(struct kunit *test, unsigned int mode)
{
	const unsigned int n = ARRAY_SIZE(t_clx);
	const char *what = pcm_mode_name(mode);
	struct kvm_cpuid_entry2 *e = t_dup(test, t_clx, n);
	u32 c1 = C1_X2APIC | C1_TSC_DEADLINE | C1_HYPERVISOR;
	u32 b7 = B7_TSC_ADJUST | B7_FDP_EXCPTN | B7_ZERO_FCS_FDS;
	u32 c7 = 0, c81 = 0, d81 = D81_SYSCALL | D81_NX | D81_LM;
	struct pcm_fs allow, got;
	unsigned int i;

	if (mode >= PCM_KVM_MODE_X86_64_V2) {
		c1 |= C1_PNI | C1_SSSE3 | C1_CX16 | C1_SSE4_1 | C1_SSE4_2 | C1_POPCNT;
		c81 |= C81_LAHF_LM;
		d81 |= D81_RDTSCP;
	}
	if (mode >= PCM_KVM_MODE_X86_64_V3) {
		c1 |= C1_FMA | C1_MOVBE | C1_XSAVE | C1_AVX | C1_F16C;
		b7 |= B7_FSGSBASE | B7_BMI1 | B7_AVX2 | B7_SMEP | B7_BMI2;
		c81 |= C81_ABM;
		d81 |= D81_PDPE1GB;
	}
	if (mode >= PCM_KVM_MODE_X86_64_V4) {
		c1 |= C1_PCID;
		b7 |= B7_INVPCID | B7_AVX512F | B7_AVX512DQ | B7_SMAP | B7_AVX512CD |
		      B7_AVX512BW | B7_AVX512VL;
		c7 |= C7_PKU;
	}

	t_allow(test, mode, &allow);
	KUNIT_EXPECT_TRUE(test, pcm_mask_entries(e, n, &allow));

	t_expect_regs(test, what, e, n, 0x1, 0, 0x0005065b, 0x00200800, c1, D1_BASE | D1_HT);
	/* 7.1 held only avx512_bf16, which no level has: max sub-leaf drops to 0 */
	/* speculation controls stay in every mode (class SPEC) */
	t_expect_regs(test, what, e, n, 0x7, 0, 0, b7, c7, D7_CLX);
	t_expect_zero(test, what, e, n, 0x7, 1);
	t_expect_regs(test, what, e, n, 0x80000001, 0, 0, 0, c81, d81);
	t_expect_regs(test, what, e, n, 0x80000008, 0, 0x302e,
		      B88_AMD_IBPB | B88_AMD_IBRS | B88_AMD_STIBP | B88_AMD_SSBD, 0, 0);
	t_expect_regs(test, what, e, n, 0x80000021, 0, A821_NO_SMM_CTL, 0, 0, 0);
	for (i = 0; i < ARRAY_SIZE(t_clx_untouched); i++)
		t_expect_entry_same(test, what, e, t_clx, n, t_clx_untouched[i][0],
				    t_clx_untouched[i][1]);

	switch (mode) {
	case PCM_KVM_MODE_MIN:
	case PCM_KVM_MODE_X86_64_V2:
		for (i = 0; i <= 9; i++)
			t_expect_zero(test, what, e, n, 0xd, i);
		break;
	case PCM_KVM_MODE_X86_64_V3:
		/* x87|SSE|AVX; area ends with AVX: 576 + 256 */
		t_expect_reg(test, what, e, n, 0xd, 0, PCM_KVM_EAX, 0x7);
		t_expect_reg(test, what, e, n, 0xd, 0, PCM_KVM_ECX, 832);
		t_expect_reg(test, what, e, n, 0xd, 0, PCM_KVM_EDX, 0);
		t_expect_reg(test, what, e, n, 0xd, 1, PCM_KVM_EAX, A_D1_XSAVEOPT);
		t_expect_reg(test, what, e, n, 0xd, 1, PCM_KVM_ECX, 0);
		t_expect_reg(test, what, e, n, 0xd, 1, PCM_KVM_EDX, 0);
		t_expect_regs(test, what, e, n, 0xd, 2, 256, 576, 0, 0);
		for (i = 3; i <= 9; i++)
			t_expect_zero(test, what, e, n, 0xd, i);
		break;
	case PCM_KVM_MODE_X86_64_V4:
		/* no MPX, no PT: the area still ends with PKRU at 2688 + 8 */
		t_expect_reg(test, what, e, n, 0xd, 0, PCM_KVM_EAX, 0x2e7);
		t_expect_reg(test, what, e, n, 0xd, 0, PCM_KVM_ECX, 2696);
		t_expect_reg(test, what, e, n, 0xd, 0, PCM_KVM_EDX, 0);
		t_expect_reg(test, what, e, n, 0xd, 1, PCM_KVM_EAX, A_D1_ALL);
		t_expect_reg(test, what, e, n, 0xd, 1, PCM_KVM_ECX, 0);
		t_expect_regs(test, what, e, n, 0xd, 2, 256, 576, 0, 0);
		t_expect_zero(test, what, e, n, 0xd, 3);
		t_expect_zero(test, what, e, n, 0xd, 4);
		t_expect_regs(test, what, e, n, 0xd, 5, 64, 1088, 0, 0);
		t_expect_regs(test, what, e, n, 0xd, 6, 512, 1152, 0, 0);
		t_expect_regs(test, what, e, n, 0xd, 7, 1024, 1664, 0, 0);
		t_expect_zero(test, what, e, n, 0xd, 8);
		t_expect_regs(test, what, e, n, 0xd, 9, 8, 2688, 0, 0);
		break;
	}

	/* what the guest sees is within the mode, closed, and reaches that level */
	pcm_fs_from_entries(e, n, &got);
	KUNIT_EXPECT_TRUE(test, pcm_fs_subset(&got, &allow));
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&got), mode);
	allow = got;
	pcm_fs_close(&got);
	KUNIT_EXPECT_TRUE(test, pcm_fs_equal(&got, &allow));
}

static void t_mask_clx_min(struct kunit *test)
{
	t_mask_clx(test, PCM_KVM_MODE_MIN);
}

static void t_mask_clx_v2(struct kunit *test)
{
	t_mask_clx(test, PCM_KVM_MODE_X86_64_V2);
}

static void t_mask_clx_v3(struct kunit *test)
{
	t_mask_clx(test, PCM_KVM_MODE_X86_64_V3);
}

static void t_mask_clx_v4(struct kunit *test)
{
	t_mask_clx(test, PCM_KVM_MODE_X86_64_V4);
}

/* Same input, same output; masking a masked table changes nothing. */
static void t_mask_deterministic(struct kunit *test)
{
	static const unsigned int modes[] = T_NAMED_MODES;
	const unsigned int n = ARRAY_SIZE(t_clx);
	struct kvm_cpuid_entry2 *a, *b;
	struct pcm_fs allow;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		t_allow(test, modes[i], &allow);
		a = t_dup(test, t_clx, n);
		b = t_dup(test, t_clx, n);
		KUNIT_EXPECT_TRUE(test, pcm_mask_entries(a, n, &allow));
		KUNIT_EXPECT_TRUE(test, pcm_mask_entries(b, n, &allow));
		KUNIT_EXPECT_MEMEQ_MSG(test, a, b, n * sizeof(*a), "%s",
				       pcm_mode_name(modes[i]));
		KUNIT_EXPECT_FALSE_MSG(test, pcm_mask_entries(a, n, &allow), "%s: not idempotent",
				       pcm_mode_name(modes[i]));
		KUNIT_EXPECT_MEMEQ_MSG(test, a, b, n * sizeof(*a), "%s",
				       pcm_mode_name(modes[i]));
	}
}

/*
 * For a closed table, pcm_mask_regs() entry by entry agrees with
 * pcm_mask_entries() except in the two derived fields (leaf 7 max sub-leaf,
 * 0xD.0 ECX), which only get smaller; and pcm_mask_regs() on the masked
 * table (the kvm_cpuid() exit path) changes nothing.
 */
static void t_mask_regs_vs_entries(struct kunit *test)
{
	static const unsigned int modes[] = T_NAMED_MODES;
	const unsigned int n = ARRAY_SIZE(t_clx);
	struct kvm_cpuid_entry2 *a, *b;
	struct pcm_fs allow, have;
	unsigned int i, k, r;
	u32 ra[4], rb[4];

	pcm_fs_from_entries(t_clx, n, &have);
	allow = have;
	pcm_fs_close(&allow);
	KUNIT_ASSERT_TRUE_MSG(test, pcm_fs_equal(&allow, &have), "test table not closed");

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		const char *what = pcm_mode_name(modes[i]);

		t_allow(test, modes[i], &allow);
		a = t_dup(test, t_clx, n);
		b = t_dup(test, t_clx, n);
		pcm_mask_entries(a, n, &allow);
		for (k = 0; k < n; k++) {
			t_get(&b[k], rb);
			pcm_mask_regs(b[k].function, b[k].index, rb, &allow);
			t_put(&b[k], rb);
		}
		for (k = 0; k < n; k++) {
			t_get(&a[k], ra);
			t_get(&b[k], rb);
			for (r = 0; r < 4; r++) {
				bool derived = (a[k].function == 0x7 && a[k].index == 0 &&
						r == PCM_KVM_EAX) ||
					       (a[k].function == 0xd && a[k].index == 0 &&
						r == PCM_KVM_ECX);

				if (derived)
					KUNIT_EXPECT_LE_MSG(test, ra[r], rb[r], "%s: %#x.%u %s",
							    what, a[k].function, a[k].index,
							    t_reg_name[r]);
				else
					KUNIT_EXPECT_EQ_MSG(test, ra[r], rb[r], "%s: %#x.%u %s",
							    what, a[k].function, a[k].index,
							    t_reg_name[r]);
			}
			/* the exit path over a masked table is a no-op */
			KUNIT_EXPECT_FALSE_MSG(test, pcm_mask_regs(a[k].function, a[k].index,
								   ra, &allow),
					       "%s: %#x.%u masked twice", what, a[k].function,
					       a[k].index);
		}
	}
}

/* A VMM asking for avx without xsave (or avx512f without avx2) gets neither. */
static void t_mask_vmm_inconsistent(struct kunit *test)
{
	static const struct kvm_cpuid_entry2 tab[] = {
		T_ENT(0x1, 0, 0, 0x000306c3, 0, C1_PNI | C1_SSSE3 | C1_SSE4_1 | C1_SSE4_2 |
		      C1_POPCNT | C1_CX16 | C1_AVX | C1_FMA | C1_F16C, D1_BASE),
		T_ENT(0x7, 0, T_IDX, 0, B7_BMI1 | B7_BMI2 | B7_AVX512F | B7_AVX512VL, 0, 0),
		T_ENT(0x80000001, 0, 0, 0, 0, C81_LAHF_LM | C81_ABM, D81_SYSCALL | D81_NX | D81_LM),
	};
	const unsigned int n = ARRAY_SIZE(tab);
	struct kvm_cpuid_entry2 *e = t_dup(test, tab, n);
	struct pcm_fs allow;

	t_allow(test, PCM_KVM_MODE_X86_64_V4, &allow);
	KUNIT_EXPECT_TRUE(test, pcm_mask_entries(e, n, &allow));
	t_expect_reg(test, "v4", e, n, 0x1, 0, PCM_KVM_ECX,
		     C1_PNI | C1_SSSE3 | C1_SSE4_1 | C1_SSE4_2 | C1_POPCNT | C1_CX16);
	t_expect_reg(test, "v4", e, n, 0x7, 0, PCM_KVM_EBX, B7_BMI1 | B7_BMI2);
	t_expect_regs(test, "v4", e, n, 0x80000001, 0, 0, 0, C81_LAHF_LM | C81_ABM,
		      D81_SYSCALL | D81_NX | D81_LM);
	/* and it stays that way */
	KUNIT_EXPECT_FALSE(test, pcm_mask_entries(e, n, &allow));
}

/* "off" leaves a consistent table byte for byte as it was. */
static void t_mask_off_clx(struct kunit *test)
{
	const unsigned int n = ARRAY_SIZE(t_clx);
	struct kvm_cpuid_entry2 *e = t_dup(test, t_clx, n);
	struct pcm_fs allow;

	t_allow(test, PCM_KVM_MODE_OFF, &allow);
	KUNIT_EXPECT_FALSE(test, pcm_mask_entries(e, n, &allow));
	KUNIT_EXPECT_MEMEQ(test, e, t_clx, n * sizeof(*e));
}

/*
 * regression test for mode off: "off" allows every bit, so a consistent table must come
 * back byte for byte.  pcm_mask_entries() masks with eff = closure(entries &
 * allow) | unknown bits, which is not all-ones, so pcm_mask_regs()'s "off"
 * shortcut (pcm_fs_all()) does not apply: CPUID.(7,2) EDX (PSFD, IPRED_CTRL,
 * RRSBA_CTRL, BHI_CTRL, which KVM 6.12 reports) is zeroed and 7.0 EAX drops
 * from 2 to 1.
 */
static void t_mask_off_spr(struct kunit *test)
{
	const unsigned int n = ARRAY_SIZE(t_spr);
	struct kvm_cpuid_entry2 *e = t_dup(test, t_spr, n);
	struct pcm_fs allow;

	t_allow(test, PCM_KVM_MODE_OFF, &allow);
	KUNIT_EXPECT_FALSE(test, pcm_mask_entries(e, n, &allow));
	KUNIT_EXPECT_MEMEQ(test, e, t_spr, n * sizeof(*e));
	t_expect_reg(test, "off", e, n, 0x7, 0, PCM_KVM_EAX, 2);
	t_expect_reg(test, "off", e, n, 0x7, 2, PCM_KVM_EDX, D72_SPR);
}

/* Mode baseline with the features of base, less one (-1: none). */
static void t_allow_but(struct kunit *test, const struct pcm_fs *base, int drop,
			struct pcm_fs *allow)
{
	struct pcm_fs b = *base;

	if (drop >= 0)
		pcm_fs_clear(&b, drop);
	KUNIT_ASSERT_EQ(test, pcm_mode_allow(PCM_KVM_MODE_BASELINE, &b, allow), 0);
}

/*
 * KVM_SET_CPUID2 masks with pcm_mask_entries_have(), which also returns the
 * features of the result, so the identity needs no second scan: the table
 * must be pcm_mask_entries()'s, the features pcm_fs_from_entries()'s.  The
 * last table has a 7.1 beyond the VMM's own leaf-7 maximum, whose EAX
 * pcm_fix_leaf7_max() clears after the masking pass.
 */
static void t_mask_have_seen(struct kunit *test)
{
	static const unsigned int modes[] = T_NAMED_MODES;
	static const struct kvm_cpuid_entry2 t_7_1_beyond[] = {
		T_ENT(0x1, 0, 0, 0x000806f8, 0x00800800, C1_CLX, D1_BASE),
		T_ENT(0x7, 0, T_IDX, 0, B7_AVX2, 0, 0),
		T_ENT(0x7, 1, T_IDX, A71_AVX_VNNI, 0, 0, 0),
	};
	static const struct {
		const struct kvm_cpuid_entry2 *e;
		unsigned int n;
	} tables[] = {
		{ t_clx, ARRAY_SIZE(t_clx) },
		{ t_spr, ARRAY_SIZE(t_spr) },
		{ t_rome, ARRAY_SIZE(t_rome) },
		{ t_7_1_beyond, ARRAY_SIZE(t_7_1_beyond) },
	};
	struct pcm_fs allow, have, seen, want;
	struct kvm_cpuid_entry2 *a, *b;
	unsigned int t, i, n;
	bool changed;
	u32 ra[4];

	for (t = 0; t < ARRAY_SIZE(tables); t++) {
		n = tables[t].n;
		pcm_fs_from_entries(tables[t].e, n, &have);
		for (i = 0; i < ARRAY_SIZE(modes) + 2; i++) {
			/* the named modes; all the table has; all but pclmulqdq */
			if (i < ARRAY_SIZE(modes))
				t_allow(test, modes[i], &allow);
			else
				t_allow_but(test, &have, i > ARRAY_SIZE(modes) ?
					    PCM_F_PCLMULQDQ : -1, &allow);
			a = t_dup(test, tables[t].e, n);
			b = t_dup(test, tables[t].e, n);
			changed = pcm_mask_entries(a, n, &allow);
			KUNIT_EXPECT_EQ_MSG(test, pcm_mask_entries_have(b, n, &allow, &have,
									&seen),
					    changed, "table %u mode %u", t, i);
			KUNIT_EXPECT_MEMEQ_MSG(test, b, a, n * sizeof(*a),
					       "table %u mode %u", t, i);
			pcm_fs_from_entries(a, n, &want);
			KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_equal(&seen, &want),
					      "table %u mode %u: features", t, i);
		}
	}
	/* The case the last table is for: masking keeps 7.1, the fix clears it. */
	n = ARRAY_SIZE(t_7_1_beyond);
	a = t_dup(test, t_7_1_beyond, n);
	t_get(t_find(test, a, n, 0x7, 1), ra);
	KUNIT_EXPECT_FALSE(test, pcm_mask_regs(0x7, 1, ra, &allow));
	KUNIT_EXPECT_TRUE(test, pcm_mask_entries(a, n, &allow));
	t_expect_reg(test, "all but pclmulqdq", a, n, 0x7, 1, PCM_KVM_EAX, 0);
}

/*
 * With the "off" allow-list (every bit set) pcm_mask_regs() changes nothing,
 * not even sub-leaves the table has no word for or XSAVE components it has
 * no owner for.
 */
static void t_mask_regs_off_noop(struct kunit *test)
{
	static const struct {
		u32 leaf, subleaf;
		u32 regs[4];
	} in[] = {
		{ 0x1, 0, { 0x000806f8, 0x00800800, ~0U, ~0U } },
		{ 0x7, 0, { 2, ~0U, ~0U, ~0U } },
		{ 0x7, 1, { ~0U, 0, 0, ~0U } },
		{ 0x7, 2, { 0, 0, 0, D72_SPR } },
		{ 0xd, 0, { XCR0_SPR, 11008, 11008, 0 } },
		{ 0xd, 1, { A_D1_ALL | A_D1_XFD, 11008, XC_PT, 0 } },
		{ 0xd, 17, { 64, 2752, 2, 0 } },
		{ 0x80000001, 0, { 0, 0, ~0U, ~0U } },
		/* XSAVE component 19 (APX), which the table does not know yet */
		{ 0xd, 0, { XCR0_SPR | XC_APX, 11008, 11008, 0 } },
	};
	struct pcm_fs allow;
	unsigned int i, r;
	u32 regs[4];

	t_allow(test, PCM_KVM_MODE_OFF, &allow);
	for (i = 0; i < ARRAY_SIZE(in); i++) {
		memcpy(regs, in[i].regs, sizeof(regs));
		KUNIT_EXPECT_FALSE_MSG(test, pcm_mask_regs(in[i].leaf, in[i].subleaf, regs, &allow),
				       "off changed %#x.%u", in[i].leaf, in[i].subleaf);
		for (r = 0; r < 4; r++)
			KUNIT_EXPECT_EQ_MSG(test, regs[r], in[i].regs[r], "off: %#x.%u %s",
					    in[i].leaf, in[i].subleaf, t_reg_name[r]);
	}
}

/* x86-64-v4 on Sapphire Rapids: AMX (no level) goes, with its XSAVE state and leaves. */
static void t_mask_v4_spr(struct kunit *test)
{
	const unsigned int n = ARRAY_SIZE(t_spr);
	struct kvm_cpuid_entry2 *e = t_dup(test, t_spr, n);
	struct pcm_fs allow;

	t_allow(test, PCM_KVM_MODE_X86_64_V4, &allow);
	KUNIT_EXPECT_TRUE(test, pcm_mask_entries(e, n, &allow));
	/* 7.2 EDX (speculation controls) stays: the max sub-leaf too */
	t_expect_reg(test, "v4", e, n, 0x7, 0, PCM_KVM_EAX, 2);
	t_expect_reg(test, "v4", e, n, 0x7, 0, PCM_KVM_EBX,
		     B7_FSGSBASE | B7_TSC_ADJUST | B7_BMI1 | B7_AVX2 | B7_FDP_EXCPTN |
		     B7_SMEP | B7_BMI2 | B7_INVPCID | B7_ZERO_FCS_FDS | B7_AVX512F |
		     B7_AVX512DQ | B7_SMAP | B7_AVX512CD | B7_AVX512BW | B7_AVX512VL);
	t_expect_reg(test, "v4", e, n, 0x7, 0, PCM_KVM_ECX, C7_PKU);
	t_expect_reg(test, "v4", e, n, 0x7, 0, PCM_KVM_EDX,
		     D7_MD_CLEAR | D7_SPEC_CTRL | D7_STIBP | D7_FLUSH_L1D | D7_ARCH_CAP |
		     D7_SSBD);
	t_expect_zero(test, "v4", e, n, 0x7, 1);
	t_expect_regs(test, "v4", e, n, 0x7, 2, 0, 0, 0, D72_SPR);
	t_expect_reg(test, "v4", e, n, 0xd, 0, PCM_KVM_EAX, 0x2e7);
	t_expect_reg(test, "v4", e, n, 0xd, 0, PCM_KVM_ECX, 2696);
	t_expect_reg(test, "v4", e, n, 0xd, 1, PCM_KVM_EAX, A_D1_ALL);
	t_expect_zero(test, "v4", e, n, 0xd, 17);
	t_expect_zero(test, "v4", e, n, 0xd, 18);
	t_expect_zero(test, "v4", e, n, 0x1d, 0);
	t_expect_zero(test, "v4", e, n, 0x1d, 1);
	t_expect_zero(test, "v4", e, n, 0x1e, 0);
	t_expect_regs(test, "v4", e, n, 0xd, 9, 8, 2688, 0, 0);
	KUNIT_EXPECT_FALSE(test, pcm_mask_entries(e, n, &allow));
}

/* The leaf KVM answers from, as arch/x86/kvm/cpuid.c picks it. */
static void t_answering_leaf(struct kunit *test)
{
	static const struct {
		u32 leaf, subleaf, want;
	} intel[] = {
		{ 0x7, 0, 0x7 },		/* an entry */
		{ 0xd, 1, 0xd },
		{ 0xd, 10, 0xd },		/* in range, no such sub-leaf: zeros */
		{ 0x8, 0, 0x8 },		/* in range, no entry: zeros */
		{ 0x17, 0, 0x16 },		/* above the max basic leaf 0x16 */
		{ 0xe000, 3, 0x16 },
		{ 0x40000001, 0, 0x40000001 },
		{ 0x40000002, 0, 0x16 },	/* above 0x40000000's EAX */
		{ 0x40000100, 0, 0x16 },	/* a class without an entry */
		{ 0x80000021, 0, 0x80000021 },
		{ 0x80000022, 0, 0x16 },
		{ 0xc0000001, 0, 0x16 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(intel); i++)
		KUNIT_EXPECT_EQ_MSG(test, pcm_cpuid_answering_leaf(t_clx, ARRAY_SIZE(t_clx),
								   intel[i].leaf,
								   intel[i].subleaf),
				    intel[i].want, "GenuineIntel %#x.%u", intel[i].leaf,
				    intel[i].subleaf);
	/* AuthenticAMD: KVM answers zeros out of range, from no other leaf. */
	KUNIT_EXPECT_EQ(test, pcm_cpuid_answering_leaf(t_rome, ARRAY_SIZE(t_rome), 0x11, 0),
			0x11);
	KUNIT_EXPECT_EQ(test, pcm_cpuid_answering_leaf(t_rome, ARRAY_SIZE(t_rome),
						       0x80000022, 0), 0x80000022);
	/* No entries at all: nothing to redirect to. */
	KUNIT_EXPECT_EQ(test, pcm_cpuid_answering_leaf(t_clx, 0, 0x17, 0), 0x17);
}

/* AMD: min hides Hyper-V's AMD list; 0x80000001 EDX mirrors follow leaf 1. */
static void t_mask_amd(struct kunit *test)
{
	const unsigned int n = ARRAY_SIZE(t_rome);
	struct kvm_cpuid_entry2 *e = t_dup(test, t_rome, n);
	struct pcm_fs allow, base;

	t_allow(test, PCM_KVM_MODE_MIN, &allow);
	KUNIT_EXPECT_TRUE(test, pcm_mask_entries(e, n, &allow));
	t_expect_regs(test, "min", e, n, 0x1, 0, 0x00830f10, 0x00800800,
		      C1_X2APIC | C1_TSC_DEADLINE | C1_HYPERVISOR, D1_BASE | D1_HT);
	t_expect_regs(test, "min", e, n, 0x80000001, 0, 0x00830f10, 0,
		      C81_CMP_LEGACY | C81_TOPOEXT,
		      D81_AMD_MIRROR | D81_SYSCALL | D81_NX | D81_LM);
	t_expect_entry_same(test, "min", e, t_rome, n, 0x0, 0);

	e = t_dup(test, t_rome, n);
	t_allow(test, PCM_KVM_MODE_X86_64_V3, &allow);
	pcm_mask_entries(e, n, &allow);
	t_expect_regs(test, "v3", e, n, 0x80000001, 0, 0x00830f10, 0,
		      C81_LAHF_LM | C81_CMP_LEGACY | C81_ABM | C81_TOPOEXT,
		      D81_AMD_MIRROR | D81_SYSCALL | D81_NX | D81_PDPE1GB | D81_RDTSCP | D81_LM);
	t_expect_reg(test, "v3", e, n, 0x1, 0, PCM_KVM_ECX, C1_ROME & ~(C1_PCLMULQDQ |
		     C1_AES | C1_RDRAND));

	/* a baseline without pse36 and mmx hides their 0x80000001 twins too */
	e = t_dup(test, t_rome, n);
	t_allow(test, PCM_KVM_MODE_MIN, &base);
	pcm_fs_clear(&base, t_id(test, "pse36"));
	pcm_fs_clear(&base, t_id(test, "mmx"));
	KUNIT_ASSERT_EQ(test, pcm_mode_allow(PCM_KVM_MODE_BASELINE, &base, &allow), 0);
	pcm_mask_entries(e, n, &allow);
	t_expect_reg(test, "baseline", e, n, 0x1, 0, PCM_KVM_EDX,
		     (D1_BASE | D1_HT) & ~(D1_PSE36 | BIT(23)));
	t_expect_reg(test, "baseline", e, n, 0x80000001, 0, PCM_KVM_EDX,
		     (D81_AMD_MIRROR & ~(D1_PSE36 | BIT(23))) | D81_SYSCALL | D81_NX | D81_LM);
}

/* Leaves owned by a hidden feature are emptied; with the feature, left alone. */
static void t_mask_leaf_owners(struct kunit *test)
{
	static const struct {
		u32 leaf, subleaf;
		u32 regs[4];
	} in[] = {
		{ 0x12, 0, { 0x3, 0, 0, 0x381f } },		/* SGX */
		{ 0x14, 0, { 0x1, 0xf, 0x7, 0 } },		/* PT */
		{ 0x1d, 1, { 0x04002000, 0x00080040, 0x10, 0 } },	/* AMX palette */
		{ 0x1e, 0, { 0, 0x00004010, 0, 0 } },		/* TMUL */
		{ 0xd, 17, { 64, 2752, 2, 0 } },		/* XTILECFG */
	};
	struct pcm_fs v4, known, full;
	unsigned int i, r;
	u32 regs[4];

	t_allow(test, PCM_KVM_MODE_X86_64_V4, &v4);
	/* a baseline of every known feature: nothing hidden */
	pcm_fs_known(&known);
	KUNIT_ASSERT_EQ(test, pcm_mode_allow(PCM_KVM_MODE_BASELINE, &known, &full), 0);
	KUNIT_ASSERT_TRUE(test, pcm_fs_equal(&full, &known));
	for (i = 0; i < ARRAY_SIZE(in); i++) {
		memcpy(regs, in[i].regs, sizeof(regs));
		KUNIT_EXPECT_TRUE_MSG(test, pcm_mask_regs(in[i].leaf, in[i].subleaf, regs, &v4),
				      "%#x", in[i].leaf);
		for (r = 0; r < 4; r++)
			KUNIT_EXPECT_EQ_MSG(test, regs[r], 0, "%#x %s", in[i].leaf, t_reg_name[r]);
		memcpy(regs, in[i].regs, sizeof(regs));
		KUNIT_EXPECT_FALSE_MSG(test, pcm_mask_regs(in[i].leaf, in[i].subleaf, regs,
							   &full), "%#x", in[i].leaf);
		KUNIT_EXPECT_MEMEQ(test, regs, in[i].regs, sizeof(regs));
	}
	/* leaves nobody owns are never touched, whatever the mode */
	t_allow(test, PCM_KVM_MODE_MIN, &v4);
	regs[0] = 0x7;
	regs[1] = 0x3;
	regs[2] = 0x0;
	regs[3] = 0x0;
	KUNIT_EXPECT_FALSE(test, pcm_mask_regs(0x1f, 0, regs, &v4));
	KUNIT_EXPECT_FALSE(test, pcm_mask_regs(0x4, 0, regs, &v4));
	KUNIT_EXPECT_FALSE(test, pcm_mask_regs(0x80000005, 0, regs, &v4));
}

/* Decoding CPUID entries into a feature set. */
static void t_from_entries(struct kunit *test)
{
	static const char *const has[] = {
		"avx512f", "avx512vl", "pku", "xsaves", "xsaveopt", "lahf_lm", "abm",
		"amd_ibpb", "arat", "tsc_deadline_timer", "mpx", "intel_pt", "avx512_bf16",
		"lfence_rdtsc", "md_clear", "ht", "ss",
	};
	static const char *const lacks[] = { "osxsave", "sgx", "ospke", "svm", "sse4a" };
	struct kvm_cpuid_entry2 *e = t_dup(test, t_rome, ARRAY_SIZE(t_rome));
	struct pcm_fs fs, acc;
	u32 regs[4];

	pcm_fs_from_entries(t_clx, ARRAY_SIZE(t_clx), &fs);
	t_expect_all(test, &fs, has, ARRAY_SIZE(has), "Cooper Lake");
	t_expect_none(test, &fs, lacks, ARRAY_SIZE(lacks), "Cooper Lake");
	KUNIT_EXPECT_EQ(test, fs.words[PCM_KVM_W_7_0_EBX], B7_SKX);
	KUNIT_EXPECT_EQ(test, fs.words[PCM_KVM_W_1_ECX], C1_CLX);

	/* brand string, topology and KVM leaves carry no feature */
	pcm_fs_from_entries(&t_clx[ARRAY_SIZE(t_clx) - 3], 1, &fs);
	KUNIT_EXPECT_TRUE(test, pcm_fs_empty(&fs));
	pcm_fs_from_entries(&t_clx[5], 2, &fs);
	KUNIT_EXPECT_TRUE(test, pcm_fs_empty(&fs));

	/* the AMD 0x80000001 EDX mirrors say nothing about leaf 1 */
	pcm_fs_from_entries(t_find(test, e, ARRAY_SIZE(t_rome), 0x80000001, 0), 1, &fs);
	KUNIT_EXPECT_EQ(test, fs.words[PCM_KVM_W_1_EDX], 0);
	KUNIT_EXPECT_FALSE(test, t_has(test, &fs, "fpu"));
	KUNIT_EXPECT_TRUE(test, t_has(test, &fs, "mmxext"));
	KUNIT_EXPECT_TRUE(test, t_has(test, &fs, "sse4a"));

	/* pcm_fs_add_regs accumulates, and keeps only bits of the table */
	pcm_fs_zero(&acc);
	regs[0] = 0;
	regs[1] = 0;
	regs[2] = C1_AVX | BIT(16);
	regs[3] = 0;
	pcm_fs_add_regs(&acc, 0x1, 0, regs);
	regs[1] = B7_AVX2;
	regs[2] = 0;
	pcm_fs_add_regs(&acc, 0x7, 0, regs);
	pcm_fs_add_regs(&acc, 0x7, 3, regs);
	KUNIT_EXPECT_EQ(test, acc.words[PCM_KVM_W_1_ECX], C1_AVX);
	KUNIT_EXPECT_EQ(test, acc.words[PCM_KVM_W_7_0_EBX], B7_AVX2);
	KUNIT_EXPECT_EQ(test, pcm_fs_count(&acc), 2);
}

static struct kunit_case pcm_model_mask_cases[] = {
	KUNIT_CASE(t_mask_clx_min),
	KUNIT_CASE(t_mask_clx_v2),
	KUNIT_CASE(t_mask_clx_v3),
	KUNIT_CASE(t_mask_clx_v4),
	KUNIT_CASE(t_mask_deterministic),
	KUNIT_CASE(t_mask_regs_vs_entries),
	KUNIT_CASE(t_mask_have_seen),
	KUNIT_CASE(t_mask_vmm_inconsistent),
	KUNIT_CASE(t_mask_off_clx),
	KUNIT_CASE(t_mask_off_spr),
	KUNIT_CASE(t_mask_regs_off_noop),
	KUNIT_CASE(t_mask_v4_spr),
	KUNIT_CASE(t_answering_leaf),
	KUNIT_CASE(t_mask_amd),
	KUNIT_CASE(t_mask_leaf_owners),
	KUNIT_CASE(t_from_entries),
	{}
};

static struct kunit_suite pcm_model_mask_suite = {
	.name = "pcm_model_mask",
	.test_cases = pcm_model_mask_cases,
};

kunit_test_suite(pcm_model_mask_suite);

/* ------------------------------------------------------------------------ */
/* Suite pcm_model_level: pcm_fs_level */

/* /proc/cpuinfo flags of real hosts, restricted to names the table knows. */
static const char *const t_k8[] = {	/* Athlon 64, no SSE3 */
	"fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "sep",
	"mtrr", "pge", "mca", "cmov", "pat", "pse36", "clflush", "mmx", "fxsr", "sse",
	"sse2", "syscall", "nx", "mmxext", "fxsr_opt", "lm", "3dnowext", "3dnow",
};

static const char *const t_nehalem[] = {	/* Core i7-920 */
	"fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "sep",
	"mtrr", "pge", "mca", "cmov", "pat", "pse36", "clflush", "dts", "acpi", "mmx",
	"fxsr", "sse", "sse2", "ss", "ht", "tm", "pbe", "syscall", "nx", "rdtscp", "lm",
	"pni", "dtes64", "monitor", "ds_cpl", "vmx", "est", "tm2", "ssse3", "cx16",
	"xtpr", "pdcm", "sse4_1", "sse4_2", "popcnt", "lahf_lm",
};

static const char *const t_haswell[] = {	/* Core i7-4770 */
	"fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "sep",
	"mtrr", "pge", "mca", "cmov", "pat", "pse36", "clflush", "dts", "acpi", "mmx",
	"fxsr", "sse", "sse2", "ss", "ht", "tm", "pbe", "syscall", "nx", "pdpe1gb",
	"rdtscp", "lm", "pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx",
	"est", "tm2", "ssse3", "sdbg", "fma", "cx16", "xtpr", "pdcm", "pcid", "sse4_1",
	"sse4_2", "x2apic", "movbe", "popcnt", "tsc_deadline_timer", "aes", "xsave",
	"avx", "f16c", "rdrand", "lahf_lm", "abm", "fsgsbase", "tsc_adjust", "bmi1",
	"avx2", "smep", "bmi2", "erms", "invpcid", "xsaveopt", "arat", "md_clear",
	"flush_l1d",
};

static const char *const t_zen2[] = {	/* EPYC 7742 */
	"fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "sep",
	"mtrr", "pge", "mca", "cmov", "pat", "pse36", "clflush", "mmx", "fxsr", "sse",
	"sse2", "ht", "syscall", "nx", "mmxext", "fxsr_opt", "pdpe1gb", "rdtscp", "lm",
	"pni", "pclmulqdq", "monitor", "ssse3", "fma", "cx16", "sse4_1", "sse4_2",
	"x2apic", "movbe", "popcnt", "aes", "xsave", "avx", "f16c", "rdrand", "lahf_lm",
	"cmp_legacy", "svm", "extapic", "cr8_legacy", "abm", "sse4a", "misalignsse",
	"3dnowprefetch", "osvw", "ibs", "skinit", "wdt", "tce", "topoext", "perfctr_core",
	"perfctr_nb", "bpext", "perfctr_llc", "mwaitx", "fsgsbase", "bmi1", "avx2",
	"smep", "bmi2", "cqm", "rdt_a", "rdseed", "adx", "smap", "clflushopt", "clwb",
	"sha_ni", "xsaveopt", "xsavec", "xgetbv1", "xsaves", "clzero", "irperf",
	"xsaveerptr", "rdpru", "wbnoinvd", "arat", "umip", "rdpid",
};

static const char *const t_zen4_extra[] = {	/* EPYC 9654 = Zen 2 + these */
	"pcid", "invpcid", "erms", "pku", "ospke", "avx512f", "avx512dq", "avx512ifma",
	"avx512cd", "avx512bw", "avx512vl", "avx512vbmi", "avx512_vbmi2", "gfni", "vaes",
	"vpclmulqdq", "avx512_vnni", "avx512_bitalg", "avx512_vpopcntdq", "avx512_bf16",
	"la57", "fsrm",
};

static void t_level_hosts(struct kunit *test)
{
	struct pcm_fs fs, extra;

	t_fs_from_names(test, t_k8, ARRAY_SIZE(t_k8), &fs);
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_MIN);
	t_fs_from_names(test, t_nehalem, ARRAY_SIZE(t_nehalem), &fs);
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_X86_64_V2);
	t_fs_from_names(test, t_haswell, ARRAY_SIZE(t_haswell), &fs);
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_X86_64_V3);
	t_fs_from_names(test, t_zen2, ARRAY_SIZE(t_zen2), &fs);
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_X86_64_V3);
	t_fs_from_names(test, t_zen4_extra, ARRAY_SIZE(t_zen4_extra), &extra);
	pcm_fs_or(&fs, &fs, &extra);
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_X86_64_V4);
	pcm_fs_from_entries(t_clx, ARRAY_SIZE(t_clx), &fs);
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_X86_64_V4);
	pcm_fs_from_entries(t_spr, ARRAY_SIZE(t_spr), &fs);
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_X86_64_V4);
}

static void t_level_modes(struct kunit *test)
{
	static const unsigned int modes[] = T_NAMED_MODES;
	struct pcm_fs fs;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		t_allow(test, modes[i], &fs);
		KUNIT_EXPECT_EQ_MSG(test, pcm_fs_level(&fs), modes[i], "%s",
				    pcm_mode_name(modes[i]));
		/* the HW part alone reaches it too */
		t_allow_hw(test, modes[i], &fs);
		KUNIT_EXPECT_EQ_MSG(test, pcm_fs_level(&fs), modes[i], "%s",
				    pcm_mode_name(modes[i]));
	}
	t_allow(test, PCM_KVM_MODE_OFF, &fs);
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_X86_64_V4);
	pcm_fs_known(&fs);
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_X86_64_V4);
	pcm_fs_zero(&fs);
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_OFF);
	KUNIT_ASSERT_EQ(test, pcm_mode_allow(PCM_KVM_MODE_BASELINE, NULL, &fs), 0);
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_OFF);
}

/* The psABI v3 list alone is not a v3 host: the level also needs its system features. */
static void t_level_psabi_lists(struct kunit *test)
{
	struct pcm_fs fs, more;

	t_fs_from_names(test, t_psabi_v1, ARRAY_SIZE(t_psabi_v1), &fs);
	t_fs_from_names(test, t_sys_min, ARRAY_SIZE(t_sys_min), &more);
	pcm_fs_or(&fs, &fs, &more);
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_MIN);
	t_fs_from_names(test, t_psabi_v2, ARRAY_SIZE(t_psabi_v2), &more);
	pcm_fs_or(&fs, &fs, &more);
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_MIN);
	t_fs_from_names(test, t_sys_v2, ARRAY_SIZE(t_sys_v2), &more);
	pcm_fs_or(&fs, &fs, &more);
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_X86_64_V2);
	t_fs_from_names(test, t_psabi_v3, ARRAY_SIZE(t_psabi_v3), &more);
	pcm_fs_or(&fs, &fs, &more);
	t_fs_from_names(test, t_sys_v3, ARRAY_SIZE(t_sys_v3), &more);
	pcm_fs_or(&fs, &fs, &more);
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_X86_64_V3);
	t_fs_from_names(test, t_psabi_v4, ARRAY_SIZE(t_psabi_v4), &more);
	pcm_fs_or(&fs, &fs, &more);
	t_fs_from_names(test, t_sys_v4, ARRAY_SIZE(t_sys_v4), &more);
	pcm_fs_or(&fs, &fs, &more);
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_X86_64_V4);
}

/* Removing one feature of a level drops the set below that level. */
static void t_level_drop(struct kunit *test)
{
	static const struct {
		unsigned int mode;
		const char *drop;
		unsigned int want;
	} in[] = {
		{ PCM_KVM_MODE_X86_64_V3, "popcnt", PCM_KVM_MODE_MIN },
		{ PCM_KVM_MODE_X86_64_V3, "sse4_2", PCM_KVM_MODE_MIN },
		{ PCM_KVM_MODE_X86_64_V3, "lahf_lm", PCM_KVM_MODE_MIN },
		{ PCM_KVM_MODE_X86_64_V4, "cx16", PCM_KVM_MODE_MIN },
		{ PCM_KVM_MODE_X86_64_V2, "pni", PCM_KVM_MODE_MIN },
		{ PCM_KVM_MODE_X86_64_V3, "avx", PCM_KVM_MODE_X86_64_V2 },
		{ PCM_KVM_MODE_X86_64_V3, "movbe", PCM_KVM_MODE_X86_64_V2 },
		{ PCM_KVM_MODE_X86_64_V4, "abm", PCM_KVM_MODE_X86_64_V2 },
		{ PCM_KVM_MODE_X86_64_V4, "avx512vl", PCM_KVM_MODE_X86_64_V3 },
		{ PCM_KVM_MODE_X86_64_V4, "avx512dq", PCM_KVM_MODE_X86_64_V3 },
		{ PCM_KVM_MODE_MIN, "sse2", PCM_KVM_MODE_OFF },
		{ PCM_KVM_MODE_X86_64_V4, "lm", PCM_KVM_MODE_OFF },
	};
	struct pcm_fs fs;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(in); i++) {
		t_allow(test, in[i].mode, &fs);
		pcm_fs_clear(&fs, t_id(test, in[i].drop));
		KUNIT_EXPECT_EQ_MSG(test, pcm_fs_level(&fs), in[i].want, "%s without %s",
				    pcm_mode_name(in[i].mode), in[i].drop);
	}
	/* non-HW features never matter */
	t_allow_hw(test, PCM_KVM_MODE_X86_64_V3, &fs);
	pcm_fs_clear(&fs, t_id(test, "x2apic"));
	pcm_fs_clear(&fs, t_id(test, "osxsave"));
	KUNIT_EXPECT_EQ(test, pcm_fs_level(&fs), PCM_KVM_MODE_X86_64_V3);
}

static struct kunit_case pcm_model_level_cases[] = {
	KUNIT_CASE(t_level_hosts),
	KUNIT_CASE(t_level_modes),
	KUNIT_CASE(t_level_psabi_lists),
	KUNIT_CASE(t_level_drop),
	{}
};

static struct kunit_suite pcm_model_level_suite = {
	.name = "pcm_model_level",
	.test_cases = pcm_model_level_cases,
};

kunit_test_suite(pcm_model_level_suite);

MODULE_DESCRIPTION("KUnit tests for the pcm_kvm feature model");
MODULE_LICENSE("GPL");
