/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The promises of pcm_mask_entries(), which every KVM_SET_CPUID2 of a
 * managed VM goes through (README "Modes"), checked on any CPUID table:
 *
 * - the guest sees a table feature only if the mode allows it and the VMM
 *   set it, and never one whose dependency it does not see;
 * - XCR0 components only of allowed features;
 * - masking only clears bits (two derived numbers may only shrink);
 * - masking twice changes nothing; mode off changes nothing;
 * - pcm_mask_entries_have() (KVM_SET_CPUID2's) masks the same and returns
 *   the features of the result;
 * - a VM so masked passes the destination check on its own host.
 *
 * Shared by the cpuid_dump (tables from text) and mask_entries (binary
 * tables) targets.
 */
#ifndef PCM_FUZZ_MASK_CHECK_H
#define PCM_FUZZ_MASK_CHECK_H

#include "fuzz.h"

/* Fields pcm_fix_leaf7_max() and pcm_fix_xsave_size() lower as numbers. */
static bool mask_is_number(const struct kvm_cpuid_entry2 *e, unsigned int reg)
{
	return (e->function == 7 && e->index == 0 && reg == 0) ||
	       (e->function == 0xd && e->index == 0 && reg == 2);
}

static void mask_check_regs(const struct kvm_cpuid_entry2 *before,
			    const struct kvm_cpuid_entry2 *after)
{
	const u32 b[4] = { before->eax, before->ebx, before->ecx, before->edx };
	const u32 a[4] = { after->eax, after->ebx, after->ecx, after->edx };
	unsigned int reg;

	FUZZ_CHECK(after->function == before->function && after->index == before->index &&
		   after->flags == before->flags, "leaf 0x%x.%u: key changed",
		   before->function, before->index);
	for (reg = 0; reg < 4; reg++) {
		if (mask_is_number(before, reg))
			FUZZ_CHECK(a[reg] <= b[reg], "leaf 0x%x.%u reg %u grew 0x%x -> 0x%x",
				   before->function, before->index, reg, b[reg], a[reg]);
		else
			FUZZ_CHECK(!(a[reg] & ~b[reg]), "leaf 0x%x.%u reg %u set bits 0x%x -> 0x%x",
				   before->function, before->index, reg, b[reg], a[reg]);
	}
}

static void mask_check_identity(const struct kvm_cpuid_entry2 *orig,
				const struct kvm_cpuid_entry2 *masked,
				unsigned int nent, const struct pcm_fs *allow)
{
	struct pcm_kvm_identity vm, host;
	struct pcm_fs missing, extra;
	unsigned int limits, self_limits, result;

	pcm_identity_from_entries(orig, nent, &host);
	pcm_identity_check(&host, &host, &missing, &extra, &self_limits);
	/* As the kernel checks: the host's features narrowed by the mode. */
	pcm_fs_and(&host.features, &host.features, allow);
	pcm_identity_from_entries(masked, nent, &vm);
	result = pcm_identity_check(&vm, &host, &missing, &extra, &limits);
	FUZZ_CHECK(pcm_fs_empty(&missing), "a masked VM misses features of its own host");
	FUZZ_CHECK(result != PCM_KVM_CHECK_VENDOR);
	FUZZ_CHECK(!(limits & (PCM_KVM_LIMIT_PHYS_BITS | PCM_KVM_LIMIT_XCR0)),
		   "limits 0x%x", limits);
	/* Leaf limits only where the table contradicts itself already. */
	FUZZ_CHECK(!limits || self_limits, "limits 0x%x on its own host", limits);
}

/* Check pcm_mask_entries() on e[0..nent) in mode with baseline. */
static void mask_check(const struct kvm_cpuid_entry2 *e, unsigned int nent,
		       unsigned int mode, const struct pcm_fs *baseline)
{
	size_t bytes = (size_t)nent * sizeof(*e);
	struct kvm_cpuid_entry2 *m = malloc(bytes ? bytes : 1);
	struct kvm_cpuid_entry2 *again = malloc(bytes ? bytes : 1);
	struct pcm_fs allow, seen, have, seen_have;
	unsigned int i;
	bool changed;
	u64 xcr0;

	FUZZ_CHECK(m && again);
	FUZZ_CHECK(pcm_mode_allow(mode, baseline, &allow) == 0);
	memcpy(m, e, bytes);
	changed = pcm_mask_entries(m, nent, &allow);
	FUZZ_CHECK(changed == (memcmp(m, e, bytes) != 0), "return value %d is wrong", changed);
	if (mode == PCM_KVM_MODE_OFF)
		FUZZ_CHECK(!changed, "mode off changed the table");
	for (i = 0; i < nent; i++)
		mask_check_regs(&e[i], &m[i]);

	pcm_fs_from_entries(e, nent, &have);
	pcm_fs_from_entries(m, nent, &seen);
	FUZZ_CHECK(pcm_fs_subset(&seen, &have));

	/* KVM_SET_CPUID2's way: the same table, its features in one pass. */
	memcpy(again, e, bytes);
	FUZZ_CHECK(pcm_mask_entries_have(again, nent, &allow, &have, &seen_have) == changed &&
		   !memcmp(again, m, bytes), "%s: pcm_mask_entries_have() differs",
		   pcm_mode_name(mode));
	FUZZ_CHECK(pcm_fs_equal(&seen_have, &seen), "%s: the features it returns are wrong",
		   pcm_mode_name(mode));
	if (mode != PCM_KVM_MODE_OFF) {
		FUZZ_CHECK(pcm_fs_subset(&seen, &allow), "%s: a hidden feature is visible",
			   pcm_mode_name(mode));
		FUZZ_CHECK(fuzz_closed(&seen), "%s: a feature is visible without its dependency",
			   pcm_mode_name(mode));
		for (i = 0; i < nent; i++) {
			if (m[i].function != 0xd || m[i].index != 0)
				continue;
			xcr0 = m[i].eax | (u64)m[i].edx << 32;
			FUZZ_CHECK(!(xcr0 & ~pcm_xcomp_allowed(&allow)),
				   "%s: XCR0 0x%llx has components of hidden features",
				   pcm_mode_name(mode), (unsigned long long)xcr0);
		}
	}

	memcpy(again, m, bytes);
	FUZZ_CHECK(!pcm_mask_entries(again, nent, &allow) && !memcmp(again, m, bytes),
		   "%s: masking twice changes the table", pcm_mode_name(mode));

	mask_check_identity(e, m, nent, &allow);
	free(again);
	free(m);
}

#endif /* PCM_FUZZ_MASK_CHECK_H */
