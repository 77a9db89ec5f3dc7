// SPDX-License-Identifier: GPL-2.0
/*
 * pcm_mask_entries() on arbitrary CPUID tables, as a VMM hands them to
 * KVM_SET_CPUID2: duplicate leaves, leaves past the maximum, sub-leaves
 * where none belong, features without their dependencies.
 *
 * Input (binary, little-endian): one mode byte, a baseline (struct
 * pcm_kvm_featureset), then entries of six u32 each: function, index, eax,
 * ebx, ecx, edx.  fuzz/mkseeds writes real tables in this form.
 */
#include "fuzz.h"
#include "mask_check.h"

/* KVM's own bound (KVM_MAX_CPUID_ENTRIES); more says nothing new. */
#define MAX_ENTRIES	256

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct kvm_cpuid_entry2 e[MAX_ENTRIES];
	const u8 *p = data;
	size_t left = size;
	struct pcm_fs baseline;
	unsigned int nent = 0;
	u8 mode;
	u32 v[6];

	fuzz_take(&p, &left, &mode, sizeof(mode));
	fuzz_take(&p, &left, &baseline, sizeof(baseline));
	while (left >= sizeof(v) && nent < MAX_ENTRIES) {
		fuzz_take(&p, &left, v, sizeof(v));
		memset(&e[nent], 0, sizeof(e[nent]));
		e[nent].function = v[0];
		e[nent].index = v[1];
		e[nent].eax = v[2];
		e[nent].ebx = v[3];
		e[nent].ecx = v[4];
		e[nent].edx = v[5];
		nent++;
	}
	mask_check(e, nent, mode % PCM_KVM_NR_MODES, &baseline);
	return 0;
}
