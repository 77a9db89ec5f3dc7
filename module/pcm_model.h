/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcm_kvm feature model: plain C shared by the kernel module, the KUnit
 * suites, the selftests and pcmctl.  No kernel glue lives here: everything
 * is a pure function of the feature table (pcm_features.def) and its inputs.
 */
#ifndef PCM_MODEL_H
#define PCM_MODEL_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/kvm.h>
#else
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/kvm.h>
#include <linux/types.h>
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
#endif

/*
 * For the caches of pcm_model.c, which the kernel fills from any CPU: an
 * int state published with release, read with acquire.
 */
#ifdef __KERNEL__
#include <asm/barrier.h>
#include <linux/atomic.h>
static inline int pcm_load_acquire(const int *p)
{
	/* pairs with pcm_store_release() */
	return smp_load_acquire(p);
}

static inline void pcm_store_release(int *p, int v)
{
	/* pairs with pcm_load_acquire() */
	smp_store_release(p, v);
}

static inline int pcm_cmpxchg(int *p, int old, int new)
{
	return cmpxchg(p, old, new);
}
#else
static inline int pcm_load_acquire(const int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void pcm_store_release(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline int pcm_cmpxchg(int *p, int old, int new)
{
	__atomic_compare_exchange_n(p, &old, new, 0, __ATOMIC_ACQ_REL,
				    __ATOMIC_ACQUIRE);
	return old;
}
#endif

#include <linux/pcm_kvm.h>

enum pcm_feature_id {
#define PCM_FEATURE(id, ...) PCM_F_##id,
#include "pcm_features.def"
	PCM_NR_FEATURES
};

enum pcm_class {
	PCM_CLASS_HW,		/* hardware feature: modes decide */
	PCM_CLASS_KVM,		/* provided by KVM on any host */
	PCM_CLASS_INFO,		/* information: passed through */
	PCM_CLASS_INV,		/* inverted: passed through, never refused */
	PCM_CLASS_SCRUB,	/* might need scrubbing: OR-ed across a pool */
	PCM_CLASS_SPEC,		/* speculation control: passed through, checked */
	PCM_CLASS_NO,		/* not affected: as SPEC, but baseline levels it */
	PCM_NR_CLASSES
};

enum pcm_level {
	PCM_LEVEL_NONE,		/* only "off" and "baseline" */
	PCM_LEVEL_MIN,
	PCM_LEVEL_V2,
	PCM_LEVEL_V3,
	PCM_LEVEL_V4,
};

struct pcm_feature {
	const char *name;	/* as in /proc/cpuinfo */
	const char *alias;	/* QEMU's spelling, or NULL */
	u8 word;		/* enum pcm_kvm_word */
	u8 bit;
	u8 cls;			/* enum pcm_class */
	u8 level;		/* enum pcm_level */
};

struct pcm_word_desc {
	const char *name;
	u32 leaf;
	u32 subleaf;
	u8 reg;			/* PCM_KVM_EAX..PCM_KVM_EDX */
	u32 msr;		/* a feature MSR's word: its index; CPUID: 0 */
	u8 shift;		/* which 32 bits of the MSR */
};

/* A feature set; the ABI type, so the model and the ioctls share it. */
#define pcm_fs pcm_kvm_featureset

extern const struct pcm_feature pcm_features[PCM_NR_FEATURES];
extern const struct pcm_word_desc pcm_words[PCM_KVM_NR_WORDS_USED];

/* Is word w a CPUID register (else one half of a feature MSR)? */
static inline bool pcm_word_is_cpuid(unsigned int w)
{
	return !pcm_words[w].msr;
}

/* IA32_ARCH_CAPABILITIES in a feature set, and back. */
#define PCM_MSR_ARCH_CAPABILITIES	0x10a
static inline u64 pcm_fs_arch_cap(const struct pcm_fs *fs)
{
	return fs->words[PCM_KVM_W_MSR_10A_LO] |
	       (u64)fs->words[PCM_KVM_W_MSR_10A_HI] << 32;
}

static inline void pcm_fs_set_arch_cap(struct pcm_fs *fs, u64 v)
{
	fs->words[PCM_KVM_W_MSR_10A_LO] = (u32)v;
	fs->words[PCM_KVM_W_MSR_10A_HI] = (u32)(v >> 32);
}

/* Longest feature name or alias, and a bound for a formatted set. */
#define PCM_NAME_MAX		40
#define PCM_FS_TEXT_MAX		(PCM_NR_FEATURES * (PCM_NAME_MAX + 1) + 1)

static inline bool pcm_fs_test(const struct pcm_fs *fs, unsigned int id)
{
	const struct pcm_feature *f = &pcm_features[id];

	return fs->words[f->word] & (1U << f->bit);
}

static inline void pcm_fs_set(struct pcm_fs *fs, unsigned int id)
{
	fs->words[pcm_features[id].word] |= 1U << pcm_features[id].bit;
}

static inline void pcm_fs_clear(struct pcm_fs *fs, unsigned int id)
{
	fs->words[pcm_features[id].word] &= ~(1U << pcm_features[id].bit);
}

void pcm_fs_zero(struct pcm_fs *fs);
void pcm_fs_and(struct pcm_fs *dst, const struct pcm_fs *a, const struct pcm_fs *b);
void pcm_fs_or(struct pcm_fs *dst, const struct pcm_fs *a, const struct pcm_fs *b);
void pcm_fs_andnot(struct pcm_fs *dst, const struct pcm_fs *a, const struct pcm_fs *b);
bool pcm_fs_equal(const struct pcm_fs *a, const struct pcm_fs *b);
bool pcm_fs_empty(const struct pcm_fs *fs);
/* Every bit set: the allow-list of mode "off". */
bool pcm_fs_all(const struct pcm_fs *fs);
/* true if every feature of a is in b */
bool pcm_fs_subset(const struct pcm_fs *a, const struct pcm_fs *b);
unsigned int pcm_fs_count(const struct pcm_fs *fs);

/* Every bit of the table; or only those of one class. */
void pcm_fs_known(struct pcm_fs *fs);
/* Every feature KVM can offer a guest on some host (PCM_NOT_OFFERED out). */
void pcm_fs_kvm_offers(struct pcm_fs *fs);
void pcm_fs_of_class(struct pcm_fs *fs, enum pcm_class cls);
/* What a destination must give the guest: the HW, SPEC and NO classes. */
void pcm_fs_checked(struct pcm_fs *fs);

/* Clear every feature whose dependencies are not all in fs (fixed point). */
void pcm_fs_close(struct pcm_fs *fs);

/* Index of a feature by name or alias ('-' and '_' alike, any case), or -1. */
int pcm_feature_lookup(const char *s, size_t len);

/*
 * Parse names separated by spaces, tabs, newlines or commas.  On an unknown
 * or overlong name returns -EINVAL and points *bad and *badlen at it; an input
 * with no name at all returns -ENODATA.  fs is written only on success.
 */
int pcm_fs_parse(const char *s, size_t len, struct pcm_fs *fs,
		 const char **bad, size_t *badlen);

/*
 * Names of fs in table order separated by single spaces, NUL-terminated,
 * truncated to size.  Returns the length written, like scnprintf().
 */
size_t pcm_fs_format(const struct pcm_fs *fs, char *buf, size_t size);

/* Modes */
const char *pcm_mode_name(unsigned int mode);
/* Parse one mode name; trailing whitespace allowed.  -EINVAL otherwise. */
int pcm_mode_parse(const char *s, size_t len);

/*
 * The allow-list of a mode, dependency-closed.  For "off" every bit is
 * allowed (known or not).  baseline is used for PCM_KVM_MODE_BASELINE only;
 * NULL there means an empty baseline.
 */
int pcm_mode_allow(unsigned int mode, const struct pcm_fs *baseline,
		   struct pcm_fs *allow);

/* The named level (PCM_KVM_MODE_MIN..V4) a feature set reaches, or OFF. */
unsigned int pcm_fs_level(const struct pcm_fs *fs);

/* CPUID entries */

/* The table bits present in a list of CPUID entries. */
void pcm_fs_from_entries(const struct kvm_cpuid_entry2 *e, unsigned int nent,
			 struct pcm_fs *fs);

/* The same from one CPUID result (for decoding raw dumps leaf by leaf). */
void pcm_fs_add_regs(struct pcm_fs *fs, u32 leaf, u32 subleaf, const u32 regs[4]);

/*
 * Mask one CPUID result (leaf, subleaf -> regs[EAX..EDX]) by a closed
 * allow-list: feature words, XSAVE components, leaves owned by a hidden
 * feature.  Returns true if anything changed.  Safe in atomic context.
 */
bool pcm_mask_regs(u32 leaf, u32 subleaf, u32 regs[4], const struct pcm_fs *allow);

/*
 * The leaf whose entry KVM answers a guest's CPUID(leaf, subleaf) from,
 * given the vCPU's entries (arch/x86/kvm/cpuid.c, kvm_cpuid() and
 * get_out_of_range_cpuid_entry()): leaf itself when an entry matches or
 * nothing does; for a guest whose vendor is neither AMD nor Hygon, a leaf
 * above its class's maximum (basic, 0x4000xx00, 0x80000000, 0xc0000000) is
 * answered from the max basic leaf, with the guest's subleaf.  The exit
 * path masks that leaf, not the one the guest named.
 */
/*
 * A leaf none of the vCPU's entries has: KVM answers it with zeros when
 * asked exactly (kvm_cpuid(..., exact_only)).  Not a leaf of any CPU.
 */
u32 pcm_cpuid_absent_leaf(const struct kvm_cpuid_entry2 *e, unsigned int nent);

u32 pcm_cpuid_answering_leaf(const struct kvm_cpuid_entry2 *e, unsigned int nent,
			     u32 leaf, u32 subleaf);

/*
 * Mask a whole CPUID table in place as KVM_SET_CPUID2 would install it:
 * pcm_mask_regs() on every entry with the closure of (entries & allow),
 * then keep derived fields consistent (leaf 7 max subleaf, the XSAVE area
 * size in 0xD.0 ECX).  Deterministic: the same input gives the same output.
 * Returns true if anything changed.
 */
bool pcm_mask_entries(struct kvm_cpuid_entry2 *e, unsigned int nent,
		      const struct pcm_fs *allow);
/*
 * The allow-list masking applies to a table with features have: the closure
 * of have & allow, plus allow's bits outside the feature table.  The exit
 * path uses it too, so that both paths show the guest the same.
 */
void pcm_mask_effective(const struct pcm_fs *allow, const struct pcm_fs *have,
			struct pcm_fs *eff);
/*
 * The same, given have = pcm_fs_from_entries() of the table (KVM_SET_CPUID2
 * has it); seen, if not NULL, gets pcm_fs_from_entries() of the result.
 */
bool pcm_mask_entries_have(struct kvm_cpuid_entry2 *e, unsigned int nent,
			   const struct pcm_fs *allow, const struct pcm_fs *have,
			   struct pcm_fs *seen);

/*
 * Put a value of IA32_ARCH_CAPABILITIES into fs, which holds the CPUID
 * features of the same guest or host: the table's bits of it, or none when
 * that CPUID does not enumerate the MSR (the guest cannot read it).
 */
void pcm_fs_put_arch_cap(struct pcm_fs *fs, u64 v);

/* XCR0/XSS components allowed by an allow-list (bit i = component i). */
u64 pcm_xcomp_allowed(const struct pcm_fs *allow);

/* The XCR0 a guest seeing features can see: none at all without xsave. */
u64 pcm_xcr0_visible(u64 xcr0, const struct pcm_fs *features);

/* Identities (pcm_identity.c) */

/* What a guest sees, from the CPUID entries it sees. mode is left 0. */
void pcm_identity_from_entries(const struct kvm_cpuid_entry2 *e, unsigned int nent,
			       struct pcm_kvm_identity *id);
/* The same, given pcm_fs_from_entries() of the entries. */
void pcm_identity_from_entries_have(const struct kvm_cpuid_entry2 *e,
				    unsigned int nent, const struct pcm_fs *have,
				    struct pcm_kvm_identity *id);
/*
 * Widen dst by src, as a VM whose vCPUs have both: features and XCR0 OR-ed,
 * leaves and phys_bits the larger; the vendor is dst's unless dst has none.
 */
void pcm_identity_widen(struct pcm_kvm_identity *dst,
			const struct pcm_kvm_identity *src);

/*
 * May a VM with identity vm run on a host that can give host (its
 * features already narrowed by the VM's mode)?  Returns an enum
 * pcm_kvm_check_result; missing/extra get the hardware features seen by
 * only one side, *limits the PCM_KVM_LIMIT_* (uapi) the host lacks.
 */
unsigned int pcm_identity_check(const struct pcm_kvm_identity *vm,
				const struct pcm_kvm_identity *host,
				struct pcm_fs *missing, struct pcm_fs *extra,
				unsigned int *limits);

/* One line: "identical", "compatible (...)", "incompatible: ...". */
size_t pcm_check_format(unsigned int result, const struct pcm_kvm_identity *vm,
			const struct pcm_kvm_identity *host,
			const struct pcm_fs *missing, const struct pcm_fs *extra,
			unsigned int limits, char *buf, size_t size);

/*
 * Two TSC rates are the same within KVM's own tolerance (its
 * tsc_tolerance_ppm parameter, 250 by default), inside which KVM neither
 * scales nor catches up.
 */
#define PCM_TSC_TOLERANCE_PPM	250
bool pcm_tsc_same(u32 a, u32 b);

/* phys_bits is what the VMM put in 0x80000008 EAX[7:0], not checked further. */
#define PCM_PHYS_BITS_MAX	255

/* The text form: "key: value" lines, NUL-terminated, bounded by size. */
#define PCM_IDENTITY_TEXT_MAX	(PCM_FS_TEXT_MAX + 512)
size_t pcm_identity_format(const struct pcm_kvm_identity *id, char *buf, size_t size);

/*
 * Parse the text form.  -EINVAL: a bad line (*bad, *badlen point at it);
 * -ENODATA: a key is missing; -EBADMSG: the feature names disagree with the
 * raw words.  out is written only on success.
 */
int pcm_identity_parse(const char *s, size_t len, struct pcm_kvm_identity *out,
		       const char **bad, size_t *badlen);

#endif /* PCM_MODEL_H */
