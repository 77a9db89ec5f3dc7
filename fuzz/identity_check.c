// SPDX-License-Identifier: GPL-2.0
/*
 * The destination check of a migration or a restore: pcm_identity_check()
 * (PCM_KVM_CHECK_IDENTITY, SET_VM_EXPECT, `pcmctl check`) and its message,
 * pcm_check_format().
 *
 * Input: three struct pcm_kvm_identity (a VM and two hosts), then a buffer
 * size for the message.  The rules are those of compat-semantics.md
 * section 3, as pcm_identity.c's header sums them up.
 */
#include "fuzz.h"

/* The message buffer of `pcmctl check` (check_verdict()). */
#define MSG_MAX		(PCM_FS_TEXT_MAX + 256)

struct verdict {
	unsigned int result;
	unsigned int limits;
	struct pcm_fs missing;
	struct pcm_fs extra;
};

static bool accepted(const struct verdict *v)
{
	return v->result <= PCM_KVM_CHECK_COMPATIBLE;
}

static void check_message(const struct pcm_kvm_identity *vm,
			  const struct pcm_kvm_identity *host,
			  const struct verdict *v, size_t cut)
{
	static char full[MSG_MAX], buf[MSG_MAX];
	size_t len, n, i;

	len = pcm_check_format(v->result, vm, host, &v->missing, &v->extra,
			       v->limits, full, sizeof(full));
	FUZZ_CHECK(len == strlen(full) && len + 1 < sizeof(full),
		   "pcmctl's message buffer too small: %zu", len);
	if (v->result == PCM_KVM_CHECK_IDENTICAL)
		FUZZ_CHECK(!strcmp(full, "identical"));
	else if (v->result == PCM_KVM_CHECK_COMPATIBLE)
		FUZZ_CHECK(!strncmp(full, "compatible (", 12));
	else
		FUZZ_CHECK(!strncmp(full, "incompatible: ", 14));
	/*
	 * Vendors are raw CPUID bytes a VMM chose, yet the message goes to the
	 * kernel log and a one-line status file: printable ASCII only.
	 */
	for (i = 0; i < len; i++)
		FUZZ_CHECK(full[i] >= 0x20 && full[i] <= 0x7e, "byte 0x%02x at %zu of '%s'",
			   (unsigned char)full[i], i, full);

	cut %= len + 2;
	memset(buf, 'X', sizeof(buf));
	n = pcm_check_format(v->result, vm, host, &v->missing, &v->extra,
			     v->limits, buf, cut);
	if (!cut) {
		FUZZ_CHECK(n == 0 && buf[0] == 'X');
		return;
	}
	/* Bounded and NUL-terminated; a cut names list need not be a prefix. */
	FUZZ_CHECK(n < cut && buf[n] == '\0' && n == strlen(buf) && n <= len);
	FUZZ_CHECK(n + 1 == cut || buf[n + 1] == 'X', "wrote past the NUL");
}

static void check_pair(const struct pcm_kvm_identity *vm,
		       const struct pcm_kvm_identity *host, struct verdict *v,
		       size_t cut)
{
	struct pcm_fs hw, no, t;

	v->result = pcm_identity_check(vm, host, &v->missing, &v->extra, &v->limits);
	FUZZ_CHECK(v->result <= PCM_KVM_CHECK_VENDOR, "result %u", v->result);
	FUZZ_CHECK(!(v->limits & ~(PCM_KVM_LIMIT_PHYS_BITS | PCM_KVM_LIMIT_BASIC_LEAF |
				   PCM_KVM_LIMIT_EXT_LEAF | PCM_KVM_LIMIT_XCR0 |
				   PCM_KVM_LIMIT_TSC)));

	/*
	 * missing: the HW, SPEC and NO features only the VM has; extra: the
	 * HW and SPEC features only the host has (immune to more is not more).
	 */
	pcm_fs_checked(&hw);
	pcm_fs_andnot(&t, &vm->features, &host->features);
	pcm_fs_and(&t, &t, &hw);
	FUZZ_CHECK(pcm_fs_equal(&t, &v->missing));
	pcm_fs_of_class(&no, PCM_CLASS_NO);
	pcm_fs_andnot(&hw, &hw, &no);
	pcm_fs_andnot(&t, &host->features, &vm->features);
	pcm_fs_and(&t, &t, &hw);
	FUZZ_CHECK(pcm_fs_equal(&t, &v->extra));
	/* the TSC: only an invtsc guest, only a known rate, never with scaling */
	if (v->limits & PCM_KVM_LIMIT_TSC)
		FUZZ_CHECK(pcm_fs_test(&vm->features, PCM_F_INVTSC) && vm->tsc_khz &&
			   host->tsc_khz && !(host->flags & PCM_KVM_ID_TSC_SCALING) &&
			   !pcm_tsc_same(vm->tsc_khz, host->tsc_khz));

	FUZZ_CHECK(((v->limits & PCM_KVM_LIMIT_PHYS_BITS) != 0) ==
		   (host->phys_bits < vm->phys_bits));
	FUZZ_CHECK(((v->limits & PCM_KVM_LIMIT_XCR0) != 0) ==
		   ((vm->xcr0 & ~host->xcr0) != 0));

	/* The vendor decides first, then anything missing, then sameness. */
	if (strncmp(vm->vendor, host->vendor, sizeof(vm->vendor)))
		FUZZ_CHECK(v->result == PCM_KVM_CHECK_VENDOR);
	else if (v->limits || !pcm_fs_empty(&v->missing))
		FUZZ_CHECK(v->result == PCM_KVM_CHECK_MISSING);
	else if (pcm_fs_empty(&v->extra) && vm->phys_bits == host->phys_bits)
		FUZZ_CHECK(v->result == PCM_KVM_CHECK_IDENTICAL);
	else
		FUZZ_CHECK(v->result == PCM_KVM_CHECK_COMPATIBLE);

	check_message(vm, host, v, cut);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct pcm_kvm_identity a, b, c, more;
	struct verdict ab, bc, ac, aa, am;
	const u8 *p = data;
	size_t left = size;
	u16 cut;

	fuzz_take(&p, &left, &a, sizeof(a));
	fuzz_take(&p, &left, &b, sizeof(b));
	fuzz_take(&p, &left, &c, sizeof(c));
	fuzz_take(&p, &left, &cut, sizeof(cut));

	check_pair(&a, &b, &ab, cut);
	check_pair(&b, &c, &bc, cut);
	check_pair(&a, &c, &ac, cut);

	/* Against itself: nothing missing or extra; only its own leaf limits. */
	check_pair(&a, &a, &aa, cut);
	FUZZ_CHECK(pcm_fs_empty(&aa.missing) && pcm_fs_empty(&aa.extra));
	FUZZ_CHECK(!(aa.limits & (PCM_KVM_LIMIT_PHYS_BITS | PCM_KVM_LIMIT_XCR0)));
	FUZZ_CHECK(aa.result == (aa.limits ? PCM_KVM_CHECK_MISSING : PCM_KVM_CHECK_IDENTICAL));

	/* A host with more features or bigger limits accepts what it did. */
	more = b;
	pcm_fs_or(&more.features, &more.features, &c.features);
	more.xcr0 |= c.xcr0;
	if (c.phys_bits > more.phys_bits)
		more.phys_bits = c.phys_bits;
	if (c.max_basic_leaf > more.max_basic_leaf)
		more.max_basic_leaf = c.max_basic_leaf;
	if (c.max_ext_leaf > more.max_ext_leaf)
		more.max_ext_leaf = c.max_ext_leaf;
	check_pair(&a, &more, &am, cut);
	FUZZ_CHECK(!accepted(&ab) || accepted(&am), "a bigger host refuses");

	/* a -> b and b -> c allowed: a -> c must be too. */
	if (accepted(&ab) && accepted(&bc))
		FUZZ_CHECK(accepted(&ac), "acceptance not transitive");
	return 0;
}
