// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for pcm_kvm's VM identity model: module/pcm_identity.c (the
 * identity a VM's guest sees, its text form, and the destination check of a
 * live migration or a restore).
 *
 * Expectations are written out from issue 3 (the product brief's four-row
 * table, the exact check messages) and the compat-semantics reference notes,
 * section 3 (vendor must match; ordinary bits: subset; numbers: not smaller,
 * a max leaf only if the VM uses a leaf above it; inverted, scrub, KVM and
 * information bits never refuse), not derived from the code under test.
 * The expected text form is written out by hand from the CPUID bit positions
 * of the Intel SDM vol. 2A.
 */
#include <kunit/test.h>
#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <linux/pcm_kvm.h>
#include "pcm_model.h"

/* ------------------------------------------------------------------------ */
/* Helpers */

/* A feature set from a blank-separated list ("" is the empty set). */
static void ti_fs(struct kunit *test, const char *list, struct pcm_fs *fs)
{
	const char *bad = NULL;
	size_t badlen = 0;
	int ret;

	pcm_fs_zero(fs);
	if (!*list)
		return;
	ret = pcm_fs_parse(list, strlen(list), fs, &bad, &badlen);
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "bad feature \"%.*s\" in \"%s\"",
			    (int)badlen, bad ? bad : "", list);
}

static void ti_ident(struct kunit *test, struct pcm_kvm_identity *id,
		     const char *vendor, unsigned int mode, const char *features)
{
	memset(id, 0, sizeof(*id));
	strscpy(id->vendor, vendor, sizeof(id->vendor));
	id->mode = mode;
	id->max_basic_leaf = 0x1f;
	id->max_ext_leaf = 0x80000021;
	id->phys_bits = 46;
	ti_fs(test, features, &id->features);
}

static int ti_parse(const char *s, size_t len, struct pcm_kvm_identity *out,
		    const char **bad, size_t *badlen)
{
	*bad = NULL;
	*badlen = 0;
	return pcm_identity_parse(s, len, out, bad, badlen);
}

/* Run the check of vm on host, format its line into buf; the result. */
static unsigned int ti_check(const struct pcm_kvm_identity *vm,
			     const struct pcm_kvm_identity *host,
			     unsigned int *limits, char *buf, size_t size)
{
	struct pcm_fs missing, extra;
	unsigned int result, lim;

	result = pcm_identity_check(vm, host, &missing, &extra, &lim);
	pcm_check_format(result, vm, host, &missing, &extra, lim, buf, size);
	if (limits)
		*limits = lim;
	return result;
}

/* The check of vm on host gives result and exactly the line msg. */
static void ti_expect_check(struct kunit *test, const char *what,
			    const struct pcm_kvm_identity *vm,
			    const struct pcm_kvm_identity *host,
			    unsigned int result, const char *msg)
{
	char buf[256];

	KUNIT_EXPECT_EQ_MSG(test, ti_check(vm, host, NULL, buf, sizeof(buf)), result,
			    "%s: \"%s\"", what, buf);
	KUNIT_EXPECT_STREQ_MSG(test, buf, msg, "%s", what);
}

/* ------------------------------------------------------------------------ */
/* Suite pcm_identity_text: the text form */

/*
 * GenuineIntel, x86-64-v2, fpu sse sse2 (1:EDX bits 0, 25, 26), pni sse4_2
 * x2apic (1:ECX bits 0, 20, 21), lm (0x80000001:EDX bit 29).
 */
#define TI_W_MID	" 6_EAX=0x00000000 7_0_EBX=0x00000000 7_0_ECX=0x00000000" \
			" 7_0_EDX=0x00000000 7_1_EAX=0x00000000 7_1_EDX=0x00000000" \
			" D_1_EAX=0x00000000 8000_0001_ECX=0x00000000"
#define TI_W_END	" 8000_0007_EDX=0x00000000 8000_0008_EBX=0x00000000" \
			" 8000_0021_EAX=0x00000000 7_2_EDX=0x00000000" \
			" MSR_10A_LO=0x00000000 MSR_10A_HI=0x00000000"

enum {
	L_VERSION, L_VENDOR, L_MODE, L_BASIC, L_EXT, L_PHYS, L_XCR0,
	L_TSC, L_TSC_SCALING, L_FEATURES, L_WORDS, L_NR, L_APPEND = L_NR
};

static const char *const ti_lines[L_NR] = {
	[L_VERSION] = "pcm_kvm_identity: 2",
	[L_VENDOR] = "vendor: GenuineIntel",
	[L_MODE] = "mode: x86-64-v2",
	[L_BASIC] = "max_basic_leaf: 0xd",
	[L_EXT] = "max_ext_leaf: 0x80000008",
	[L_PHYS] = "phys_bits: 46",
	[L_XCR0] = "xcr0: 0x3",
	[L_TSC] = "tsc_khz: 2100000",
	[L_TSC_SCALING] = "tsc_scaling: no",
	[L_FEATURES] = "features: fpu sse sse2 pni sse4_2 x2apic lm",
	[L_WORDS] = "words: 1_ECX=0x00300001 1_EDX=0x06000001" TI_W_MID
		    " 8000_0001_EDX=0x20000000" TI_W_END,
};

static void ti_sample(struct kunit *test, struct pcm_kvm_identity *id)
{
	ti_ident(test, id, "GenuineIntel", PCM_KVM_MODE_X86_64_V2,
		 "fpu sse sse2 pni sse4_2 x2apic lm");
	id->max_basic_leaf = 0xd;
	id->max_ext_leaf = 0x80000008;
	id->phys_bits = 46;
	id->xcr0 = 0x3;
	id->tsc_khz = 2100000;
}

/*
 * The sample text with line `line` replaced by `text` ("" deletes it;
 * L_APPEND adds text as a last line).  kunit-allocated, NUL-terminated.
 */
static char *ti_text(struct kunit *test, unsigned int line, const char *text)
{
	size_t size = PCM_IDENTITY_TEXT_MAX + 256, len = 0;
	char *buf = kunit_kzalloc(test, size, GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i <= L_NR; i++) {
		const char *s = i == line ? text : i < L_NR ? ti_lines[i] : "";

		if (*s)
			len += scnprintf(buf + len, size - len, "%s\n", s);
	}
	return buf;
}

static void ti_format_exact(struct kunit *test)
{
	char *want = ti_text(test, L_NR + 1, "");
	char *buf = kunit_kzalloc(test, PCM_IDENTITY_TEXT_MAX, GFP_KERNEL);
	struct pcm_kvm_identity id;
	size_t len;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	ti_sample(test, &id);
	len = pcm_identity_format(&id, buf, PCM_IDENTITY_TEXT_MAX);
	KUNIT_EXPECT_STREQ(test, buf, want);
	KUNIT_EXPECT_EQ(test, len, strlen(want));
}

/* format then parse gives the same identity and the same text again. */
static void ti_expect_round_trip(struct kunit *test, const struct pcm_kvm_identity *id,
				 const char *what)
{
	char *buf = kunit_kzalloc(test, PCM_IDENTITY_TEXT_MAX, GFP_KERNEL);
	char *again = kunit_kzalloc(test, PCM_IDENTITY_TEXT_MAX, GFP_KERNEL);
	struct pcm_kvm_identity back;
	const char *bad;
	size_t len, badlen;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, again);
	len = pcm_identity_format(id, buf, PCM_IDENTITY_TEXT_MAX);
	KUNIT_ASSERT_EQ_MSG(test, len, strlen(buf), "%s", what);
	/* Not truncated: the bound holds with room to spare. */
	KUNIT_ASSERT_LT_MSG(test, len, PCM_IDENTITY_TEXT_MAX - 1, "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, buf[len - 1], '\n', "%s", what);

	memset(&back, 0xa5, sizeof(back));
	ret = ti_parse(buf, len, &back, &bad, &badlen);
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "%s: \"%.*s\" refused in:\n%s", what,
			    (int)badlen, bad ? bad : "", buf);
	KUNIT_EXPECT_EQ_MSG(test, back.mode, id->mode, "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, back.max_basic_leaf, id->max_basic_leaf, "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, back.max_ext_leaf, id->max_ext_leaf, "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, back.phys_bits, id->phys_bits, "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, back.xcr0, id->xcr0, "%s", what);
	KUNIT_EXPECT_MEMEQ_MSG(test, back.vendor, id->vendor, sizeof(id->vendor),
			       "%s: vendor \"%.16s\" came back as \"%.16s\"", what,
			       id->vendor, back.vendor);
	KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_equal(&back.features, &id->features), "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, memcmp(&back, id, sizeof(back)), 0, "%s", what);

	KUNIT_EXPECT_EQ_MSG(test, pcm_identity_format(&back, again, PCM_IDENTITY_TEXT_MAX),
			    len, "%s", what);
	KUNIT_EXPECT_STREQ_MSG(test, again, buf, "%s", what);
}

static void ti_round_trip(struct kunit *test)
{
	static const char *const vendors[] = { "GenuineIntel", "AuthenticAMD", "HygonGenuine" };
	struct pcm_fs known, base, allow;
	struct pcm_kvm_identity id;
	char *buf = kunit_kzalloc(test, PCM_IDENTITY_TEXT_MAX, GFP_KERNEL);
	unsigned int mode;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	pcm_fs_known(&known);
	ti_fs(test, "fpu cx8 cmov mmx fxsr sse sse2 pni ssse3 aes", &base);

	/* every mode, with the features that mode shows */
	for (mode = 0; mode < PCM_KVM_NR_MODES; mode++) {
		ti_ident(test, &id, vendors[mode % ARRAY_SIZE(vendors)], mode, "");
		KUNIT_ASSERT_EQ(test, pcm_mode_allow(mode, &base, &allow), 0);
		pcm_fs_and(&id.features, &allow, &known);
		id.xcr0 = mode == PCM_KVM_MODE_OFF ? 0x2ff : pcm_xcomp_allowed(&allow);
		id.phys_bits = 39 + mode;
		ti_expect_round_trip(test, &id, pcm_mode_name(mode));
	}

	/* the empty feature set, no vendor ("-"), every number 0 */
	memset(&id, 0, sizeof(id));
	ti_expect_round_trip(test, &id, "empty");
	pcm_identity_format(&id, buf, PCM_IDENTITY_TEXT_MAX);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(buf, "\nvendor: -\n"), "%s", buf);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(buf, "\nmode: off\n"), "%s", buf);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(buf, "\nfeatures:"), "%s", buf);

	/* the empty feature set with a vendor and a mode */
	ti_ident(test, &id, "AuthenticAMD", PCM_KVM_MODE_MIN, "");
	ti_expect_round_trip(test, &id, "empty, AMD");

	/* every feature and the largest numbers */
	memset(&id, 0, sizeof(id));
	strscpy(id.vendor, "CentaurHauls", sizeof(id.vendor));
	id.mode = PCM_KVM_MODE_X86_64_V4;
	id.max_basic_leaf = 0xffffffff;
	id.max_ext_leaf = 0xffffffff;
	id.phys_bits = PCM_PHYS_BITS_MAX;	/* a VMM may put 0xff there */
	id.xcr0 = ~0ULL;
	pcm_fs_known(&id.features);
	ti_expect_round_trip(test, &id, "everything");

	/* a vendor of one character that is not "-" */
	ti_ident(test, &id, "x", PCM_KVM_MODE_BASELINE, "fpu");
	ti_expect_round_trip(test, &id, "vendor x");
}

/*
 * Zhaoxin's CPUID vendor string is "  Shanghai  ", with two leading and two
 * trailing blanks; a VM on such a host must survive the text form too, or
 * every Zhaoxin-to-Zhaoxin move fails on the vendor check.
 */
static void ti_round_trip_vendor_blanks(struct kunit *test)
{
	struct pcm_kvm_identity vm, host;
	char *buf = kunit_kzalloc(test, PCM_IDENTITY_TEXT_MAX, GFP_KERNEL);
	char line[256];
	const char *bad;
	size_t badlen, len;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	ti_ident(test, &vm, "  Shanghai  ", PCM_KVM_MODE_X86_64_V2, "fpu sse sse2 pni");
	ti_expect_round_trip(test, &vm, "vendor \"  Shanghai  \"");

	host = vm;
	len = pcm_identity_format(&vm, buf, PCM_IDENTITY_TEXT_MAX);
	KUNIT_ASSERT_EQ(test, ti_parse(buf, len, &vm, &bad, &badlen), 0);
	ti_check(&vm, &host, NULL, line, sizeof(line));
	KUNIT_EXPECT_STREQ(test, line, "identical");
}

/* Unknown bits of a word are dropped, not refused (the table decides). */
static void ti_parse_unknown_bits(struct kunit *test)
{
	struct pcm_kvm_identity id, want;
	char *text;
	const char *bad;
	size_t badlen;

	/* 1:ECX bit 16 is reserved */
	text = ti_text(test, L_WORDS, "words: 1_ECX=0x00310001 1_EDX=0x06000001" TI_W_MID
		       " 8000_0001_EDX=0x20000000" TI_W_END);
	KUNIT_ASSERT_EQ(test, ti_parse(text, strlen(text), &id, &bad, &badlen), 0);
	ti_sample(test, &want);
	KUNIT_EXPECT_EQ(test, memcmp(&id, &want, sizeof(id)), 0);
}

/* What the text form tolerates: order, blanks, CRLF, aliases, decimal. */
static void ti_parse_tolerant(struct kunit *test)
{
	static const char *const texts[] = {
		/* keys in another order, blank lines, no final newline */
		"words: 1_ECX=0x00300001 1_EDX=0x06000001 8000_0001_EDX=0x20000000\n"
		"\n"
		"features: fpu sse sse2 pni sse4_2 x2apic lm\n"
		"xcr0: 0x3\nphys_bits: 46\nmax_ext_leaf: 0x80000008\n"
		"max_basic_leaf: 0xd\nmode: x86-64-v2\nvendor: GenuineIntel\n"
		"\n"
		"pcm_kvm_identity: 1",
		/* CRLF, blanks around values, aliases, decimal and upper-case hex */
		"pcm_kvm_identity:1\r\n"
		"vendor:\tGenuineIntel \r\n"
		"mode:   x86-64-v2\r\n"
		"max_basic_leaf: 13\r\n"
		"max_ext_leaf: 0X80000008\r\n"
		"phys_bits: 0x2e\r\n"
		"xcr0: 3\r\n"
		"features: lm,x2apic sse4.2  sse3 SSE2 sse fpu\r\n"
		"words:  1_ECX=0x00300001\t1_EDX=0X06000001 8000_0001_EDX=0x20000000 \r\n",
	};
	struct pcm_kvm_identity id, want;
	const char *bad;
	size_t badlen;
	unsigned int i;

	ti_sample(test, &want);
	want.tsc_khz = 0;	/* version 1: no TSC */
	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		KUNIT_EXPECT_EQ_MSG(test, ti_parse(texts[i], strlen(texts[i]), &id, &bad, &badlen),
				    0, "text %u: \"%.*s\"", i, (int)badlen, bad ? bad : "");
		KUNIT_EXPECT_EQ_MSG(test, memcmp(&id, &want, sizeof(id)), 0, "text %u", i);
	}
}

struct ti_bad_case {
	unsigned int line;	/* L_*: the sample line replaced, or L_APPEND */
	const char *text;	/* its replacement */
	int ret;
	const char *bad;	/* *bad, *badlen point at this; NULL: the line */
};

static const struct ti_bad_case ti_bad_cases[] = {
	/* unknown and duplicate keys, a line without a key */
	{ L_APPEND, "flavour: vanilla", -EINVAL },
	{ L_APPEND, "mode: off", -EINVAL },
	{ L_APPEND, "vendor: GenuineIntel", -EINVAL },
	{ L_APPEND, "words: 1_ECX=0x00300001", -EINVAL },
	{ L_APPEND, "no colon on this line", -EINVAL },
	{ L_APPEND, ": 1", -EINVAL },
	{ L_MODE, "mode : x86-64-v2", -EINVAL },
	{ L_MODE, " mode: x86-64-v2", -EINVAL },
	/* version */
	{ L_VERSION, "pcm_kvm_identity: 3", -EINVAL },
	{ L_VERSION, "pcm_kvm_identity: 0", -EINVAL },
	{ L_VERSION, "pcm_kvm_identity: one", -EINVAL },
	{ L_VERSION, "pcm_kvm_identity:", -EINVAL },
	/* vendor: at most 12 characters */
	{ L_VENDOR, "vendor: GenuineIntelX", -EINVAL },
	{ L_VENDOR, "vendor: AuthenticAMD and more", -EINVAL },
	/* mode */
	{ L_MODE, "mode: x86-64-v5", -EINVAL },
	{ L_MODE, "mode:", -EINVAL },
	{ L_MODE, "mode: 2", -EINVAL },
	/* numbers */
	{ L_BASIC, "max_basic_leaf: 0xd0g", -EINVAL },
	{ L_BASIC, "max_basic_leaf: -1", -EINVAL },
	{ L_BASIC, "max_basic_leaf: ", -EINVAL },
	{ L_BASIC, "max_basic_leaf: 0x", -EINVAL },
	{ L_BASIC, "max_basic_leaf: 0xd 0xe", -EINVAL },
	{ L_BASIC, "max_basic_leaf: +13", -EINVAL },
	{ L_EXT, "max_ext_leaf: 0x100000000", -EINVAL },
	{ L_EXT, "max_ext_leaf: 4294967296", -EINVAL },
	{ L_PHYS, "phys_bits: 256", -EINVAL },
	{ L_PHYS, "phys_bits: 4six", -EINVAL },
	{ L_XCR0, "xcr0: 0x10000000000000000", -EINVAL },
	{ L_XCR0, "xcr0: 0xzz", -EINVAL },
	{ L_XCR0, "xcr0: 99999999999999999999", -EINVAL },
	/* feature names: the bad token */
	{ L_FEATURES, "features: fpu sse sse2 pni sse4_2 frobnicate x2apic lm", -EINVAL,
	  "frobnicate" },
	{ L_FEATURES, "features: fpu sse sse2 pni sse4_2 x2apic lm 0x1", -EINVAL, "0x1" },
	{ L_FEATURES, "features: ,", -EINVAL },
	/* raw words: the bad token */
	{ L_WORDS, "words: 1_ECX=0x00300001 9_EAX=0x00000000 1_EDX=0x06000001", -EINVAL,
	  "9_EAX=0x00000000" },
	{ L_WORDS, "words: 1_ECX 1_EDX=0x06000001 8000_0001_EDX=0x20000000", -EINVAL,
	  "1_ECX" },
	{ L_WORDS, "words: 1_ECX=0x00300001 1_EDX=0x0600000g 8000_0001_EDX=0x20000000",
	  -EINVAL, "1_EDX=0x0600000g" },
	{ L_WORDS, "words: 1_ECX=0x100300001 1_EDX=0x06000001 8000_0001_EDX=0x20000000",
	  -EINVAL, "1_ECX=0x100300001" },
	{ L_WORDS, "words: 1_ECX= 1_EDX=0x06000001 8000_0001_EDX=0x20000000", -EINVAL,
	  "1_ECX=" },
	{ L_WORDS, "words: 1_ecx=0x00300001 1_EDX=0x06000001 8000_0001_EDX=0x20000000",
	  -EINVAL, "1_ecx=0x00300001" },
	{ L_WORDS, "words: =0x1 1_EDX=0x06000001", -EINVAL, "=0x1" },
	/* names and words disagree */
	{ L_FEATURES, "features: fpu sse sse2 pni x2apic lm", -EBADMSG, "" },
	{ L_FEATURES, "features: fpu sse sse2 pni sse4_2 x2apic lm avx", -EBADMSG, "" },
	{ L_FEATURES, "features:", -EBADMSG, "" },
	{ L_WORDS, "words: 1_ECX=0x00200001 1_EDX=0x06000001" TI_W_MID
	  " 8000_0001_EDX=0x20000000" TI_W_END, -EBADMSG, "" },
	{ L_WORDS, "words: 1_ECX=0x00300001 1_EDX=0x06000001", -EBADMSG, "" },
	{ L_WORDS, "words:", -EBADMSG, "" },
	/* a missing key */
	{ L_VERSION, "", -ENODATA, "" },
	{ L_VENDOR, "", -ENODATA, "" },
	{ L_MODE, "", -ENODATA, "" },
	{ L_BASIC, "", -ENODATA, "" },
	{ L_EXT, "", -ENODATA, "" },
	{ L_PHYS, "", -ENODATA, "" },
	{ L_XCR0, "", -ENODATA, "" },
	{ L_TSC, "", -ENODATA, "" },
	{ L_TSC_SCALING, "", -ENODATA, "" },
	{ L_TSC, "tsc_khz: 0x100000000", -EINVAL },
	{ L_TSC_SCALING, "tsc_scaling: maybe", -EINVAL },
	{ L_VERSION, "pcm_kvm_identity: 1", -EINVAL },	/* version 1 had no TSC */
	{ L_FEATURES, "", -ENODATA, "" },
	{ L_WORDS, "", -ENODATA, "" },
};

static void ti_parse_errors(struct kunit *test)
{
	struct pcm_kvm_identity out, untouched;
	const char *bad, *want;
	size_t badlen, len;
	unsigned int i;
	char *text;
	int ret;

	memset(&untouched, 0x5a, sizeof(untouched));
	for (i = 0; i < ARRAY_SIZE(ti_bad_cases); i++) {
		const struct ti_bad_case *c = &ti_bad_cases[i];

		text = ti_text(test, c->line, c->text);
		len = strlen(text);
		out = untouched;
		ret = ti_parse(text, len, &out, &bad, &badlen);
		KUNIT_EXPECT_EQ_MSG(test, ret, c->ret, "case %u: \"%s\"", i, c->text);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(&out, &untouched, sizeof(out)), 0,
				    "case %u: out written on failure", i);
		if (ret != c->ret)
			continue;
		/* *bad always points into the input */
		KUNIT_ASSERT_NOT_NULL_MSG(test, bad, "case %u", i);
		KUNIT_EXPECT_TRUE_MSG(test, bad >= text && bad + badlen <= text + len,
				      "case %u: *bad outside the input", i);
		if (c->ret != -EINVAL)
			continue;
		/* -EINVAL: the offending token, else the offending line */
		want = c->bad ? c->bad : c->text;
		KUNIT_EXPECT_EQ_MSG(test, badlen, strlen(want), "case %u: \"%.*s\"", i,
				    (int)badlen, bad);
		KUNIT_EXPECT_TRUE_MSG(test, badlen == strlen(want) && !memcmp(bad, want, badlen),
				      "case %u: *bad is \"%.*s\", expected \"%s\"", i,
				      (int)badlen, bad, want);
	}
}

/* Every key missing at once, and nothing at all. */
static void ti_parse_empty(struct kunit *test)
{
	static const char *const texts[] = { "", "\n", "\n\n\n" };
	struct pcm_kvm_identity out;
	const char *bad;
	size_t badlen;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(texts); i++)
		KUNIT_EXPECT_EQ_MSG(test, ti_parse(texts[i], strlen(texts[i]), &out, &bad,
						   &badlen), -ENODATA, "text %u", i);
}

/* Binary junk is refused, and *bad stays inside the input. */
static void ti_parse_binary(struct kunit *test)
{
	const size_t n = 512;
	char *junk = kunit_kmalloc(test, n, GFP_KERNEL);
	char *text = ti_text(test, L_NR + 1, "");
	struct pcm_kvm_identity out;
	const char *bad;
	size_t badlen, len, i;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, junk);
	for (i = 0; i < n; i++)
		junk[i] = (char)(i * 37 + 11 + (i >> 3));
	ret = ti_parse(junk, n, &out, &bad, &badlen);
	KUNIT_EXPECT_LT(test, ret, 0);
	KUNIT_EXPECT_TRUE(test, bad >= junk && bad + badlen <= junk + n);

	/* all NUL bytes */
	memset(junk, 0, n);
	KUNIT_EXPECT_EQ(test, ti_parse(junk, n, &out, &bad, &badlen), -EINVAL);
	KUNIT_EXPECT_TRUE(test, bad == junk && badlen == n);

	/* a NUL or a control byte in a number refuses that line */
	len = strlen(text);
	text[strstr(text, "phys_bits: 46") - text + 12] = '\0';
	KUNIT_EXPECT_EQ(test, ti_parse(text, len, &out, &bad, &badlen), -EINVAL);
	KUNIT_EXPECT_TRUE(test, badlen == 13 && !memcmp(bad, "phys_bits: 4", 12));
	text = ti_text(test, L_XCR0, "xcr0: 0x\x01");
	KUNIT_EXPECT_EQ(test, ti_parse(text, strlen(text), &out, &bad, &badlen), -EINVAL);
	KUNIT_EXPECT_TRUE(test, badlen == 9 && !memcmp(bad, "xcr0: 0x\x01", 9));
	/* a high byte in a key */
	text = ti_text(test, L_APPEND, "\xff\xfe: 1");
	KUNIT_EXPECT_EQ(test, ti_parse(text, strlen(text), &out, &bad, &badlen), -EINVAL);
	KUNIT_EXPECT_TRUE(test, badlen == 5 && !memcmp(bad, "\xff\xfe: 1", 5));
}

/* len is honoured: what follows the text in memory is not read. */
static void ti_parse_len(struct kunit *test)
{
	char *text = ti_text(test, L_APPEND, "flavour: vanilla");
	struct pcm_kvm_identity out, want;
	const char *bad;
	size_t badlen;

	ti_sample(test, &want);
	KUNIT_EXPECT_EQ(test, ti_parse(text, strstr(text, "flavour") - text, &out, &bad,
				       &badlen), 0);
	KUNIT_EXPECT_EQ(test, memcmp(&out, &want, sizeof(out)), 0);
}

/*
 * A truncated copy never passes as another identity: every prefix either
 * is refused or parses to the very same identity (a cut inside the last
 * raw word can only keep its value if that value is zero); every prefix
 * that ends before the words line is refused.
 */
static void ti_parse_truncated(struct kunit *test)
{
	char *text = kunit_kzalloc(test, PCM_IDENTITY_TEXT_MAX, GFP_KERNEL);
	struct pcm_kvm_identity id, out;
	size_t len, cut, words, badlen;
	unsigned int accepted = 0;
	const char *bad;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, text);
	ti_sample(test, &id);
	/* non-zero words at both ends of the line */
	pcm_fs_set(&id.features, PCM_F_SRSO_NO);
	len = pcm_identity_format(&id, text, PCM_IDENTITY_TEXT_MAX);
	words = strstr(text, "\nwords:") - text + 1;
	for (cut = 0; cut < len; cut++) {
		ret = ti_parse(text, cut, &out, &bad, &badlen);
		if (cut <= words)
			KUNIT_EXPECT_NE_MSG(test, ret, 0, "cut at %zu accepted", cut);
		if (ret)
			continue;
		accepted++;
		KUNIT_EXPECT_EQ_MSG(test, memcmp(&out, &id, sizeof(out)), 0,
				    "cut at %zu gave another identity", cut);
	}
	/* without its final newline the text is complete */
	KUNIT_EXPECT_GE(test, accepted, 1);
	KUNIT_EXPECT_EQ(test, ti_parse(text, len - 1, &out, &bad, &badlen), 0);
}

/* The buffer bound: never a byte past size, always NUL-terminated. */
static void ti_expect_bounded(struct kunit *test, const char *what,
			      size_t (*fmt)(const void *arg, char *buf, size_t size),
			      const void *arg)
{
	const size_t guard = 16;
	char *full = kunit_kzalloc(test, PCM_IDENTITY_TEXT_MAX, GFP_KERNEL);
	char *buf = kunit_kmalloc(test, PCM_IDENTITY_TEXT_MAX + guard, GFP_KERNEL);
	size_t full_len, size, ret, i;

	KUNIT_ASSERT_NOT_NULL(test, full);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	full_len = fmt(arg, full, PCM_IDENTITY_TEXT_MAX);
	KUNIT_ASSERT_EQ_MSG(test, full_len, strlen(full), "%s", what);
	KUNIT_ASSERT_LT_MSG(test, full_len + 2, PCM_IDENTITY_TEXT_MAX, "%s", what);

	for (size = 0; size <= full_len + 2; size++) {
		memset(buf, 0x7e, size + guard);
		ret = fmt(arg, buf, size);
		for (i = size; i < size + guard; i++)
			KUNIT_ASSERT_EQ_MSG(test, buf[i], 0x7e, "%s: size %zu wrote byte %zu",
					    what, size, i);
		if (!size) {
			KUNIT_EXPECT_EQ_MSG(test, ret, 0, "%s: size 0", what);
			continue;
		}
		KUNIT_ASSERT_LT_MSG(test, ret, size, "%s: size %zu", what, size);
		KUNIT_ASSERT_EQ_MSG(test, buf[ret], '\0', "%s: size %zu", what, size);
		KUNIT_EXPECT_EQ_MSG(test, strlen(buf), ret, "%s: size %zu", what, size);
		if (size > full_len) {
			KUNIT_EXPECT_EQ_MSG(test, ret, full_len, "%s: size %zu", what, size);
			KUNIT_EXPECT_STREQ_MSG(test, buf, full, "%s: size %zu", what, size);
		}
	}
}

static size_t ti_fmt_identity(const void *arg, char *buf, size_t size)
{
	return pcm_identity_format(arg, buf, size);
}

struct ti_pair {
	struct pcm_kvm_identity vm, host;
};

static size_t ti_fmt_check(const void *arg, char *buf, size_t size)
{
	const struct ti_pair *p = arg;
	struct pcm_fs missing, extra;
	unsigned int result, limits;

	result = pcm_identity_check(&p->vm, &p->host, &missing, &extra, &limits);
	return pcm_check_format(result, &p->vm, &p->host, &missing, &extra, limits,
				buf, size);
}

static void ti_format_bounded(struct kunit *test)
{
	struct ti_pair *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	struct pcm_kvm_identity id;
	struct pcm_fs allow;
	char line[512];

	KUNIT_ASSERT_NOT_NULL(test, p);
	ti_sample(test, &id);
	ti_expect_bounded(test, "identity", ti_fmt_identity, &id);
	memset(&id, 0, sizeof(id));
	ti_expect_bounded(test, "empty identity", ti_fmt_identity, &id);
	pcm_fs_known(&id.features);
	strscpy(id.vendor, "AuthenticAMD", sizeof(id.vendor));
	ti_expect_bounded(test, "every feature", ti_fmt_identity, &id);

	/* incompatible: many missing names and every limit */
	ti_ident(test, &p->vm, "GenuineIntel", PCM_KVM_MODE_X86_64_V4, "");
	pcm_mode_allow(PCM_KVM_MODE_X86_64_V4, NULL, &allow);
	pcm_fs_known(&p->vm.features);
	pcm_fs_and(&p->vm.features, &p->vm.features, &allow);
	p->vm.xcr0 = 0xe7;
	ti_ident(test, &p->host, "GenuineIntel", PCM_KVM_MODE_OFF, "fpu");
	p->host.max_basic_leaf = 1;
	p->host.max_ext_leaf = 0x80000001;
	p->host.phys_bits = 36;
	p->host.xcr0 = 0x3;
	KUNIT_EXPECT_EQ(test, ti_check(&p->vm, &p->host, NULL, line, sizeof(line)),
			PCM_KVM_CHECK_MISSING);
	ti_expect_bounded(test, "check: missing", ti_fmt_check, p);

	/* compatible: many extra names and phys_bits */
	swap(p->vm, p->host);
	p->vm.phys_bits = 36;
	p->vm.xcr0 = 0x3;
	p->vm.max_basic_leaf = 0x1f;
	p->vm.max_ext_leaf = 0x80000021;
	p->host.phys_bits = 52;
	p->host.xcr0 = 0xe7;
	p->host.max_basic_leaf = 0x1f;
	p->host.max_ext_leaf = 0x80000021;
	KUNIT_EXPECT_EQ(test, ti_check(&p->vm, &p->host, NULL, line, sizeof(line)),
			PCM_KVM_CHECK_COMPATIBLE);
	ti_expect_bounded(test, "check: compatible", ti_fmt_check, p);

	/* vendor, identical */
	strscpy(p->host.vendor, "AuthenticAMD", sizeof(p->host.vendor));
	ti_expect_bounded(test, "check: vendor", ti_fmt_check, p);
	p->host = p->vm;
	ti_expect_bounded(test, "check: identical", ti_fmt_check, p);
}

/* The identity of a VM from the CPUID entries its guest sees. */
static void ti_from_entries(struct kunit *test)
{
	static const struct kvm_cpuid_entry2 e[] = {
		/* max leaf 0xd, "GenuineIntel" in EBX, EDX, ECX */
		{ .function = 0, .eax = 0xd, .ebx = 0x756e6547, .ecx = 0x6c65746e,
		  .edx = 0x49656e69 },
		/* pni sse4_2 x2apic; fpu sse sse2 */
		{ .function = 1, .eax = 0x000906ea, .ecx = 0x00300001, .edx = 0x06000001 },
		/* avx2 bmi2 */
		{ .function = 7, .index = 0, .ebx = BIT(5) | BIT(8) },
		/* XCR0: x87 SSE AVX */
		{ .function = 0xd, .index = 0, .eax = 0x7, .ecx = 0x340, .edx = 0 },
		{ .function = 0xd, .index = 1, .eax = BIT(0) },
		{ .function = 0x80000000, .eax = 0x80000008 },
		/* lm */
		{ .function = 0x80000001, .edx = BIT(29) },
		/* 39 physical, 48 linear address bits */
		{ .function = 0x80000008, .eax = 0x3027 },
	};
	static const struct kvm_cpuid_entry2 d = { .function = 0xd, .eax = 0x3, .edx = 0x1 };
	struct pcm_kvm_identity id;
	struct pcm_fs want;

	memset(&id, 0xa5, sizeof(id));
	pcm_identity_from_entries(e, ARRAY_SIZE(e), &id);
	KUNIT_EXPECT_EQ(test, id.mode, PCM_KVM_MODE_OFF);
	KUNIT_EXPECT_STREQ(test, id.vendor, "GenuineIntel");
	KUNIT_EXPECT_EQ(test, id.vendor[12], 0);
	KUNIT_EXPECT_EQ(test, id.vendor[15], 0);
	KUNIT_EXPECT_EQ(test, id.max_basic_leaf, 0xd);
	KUNIT_EXPECT_EQ(test, id.max_ext_leaf, 0x80000008);
	KUNIT_EXPECT_EQ(test, id.phys_bits, 39);
	KUNIT_EXPECT_EQ(test, id.xcr0, 0x7);
	ti_fs(test, "fpu sse sse2 pni sse4_2 x2apic avx2 bmi2 xsaveopt lm", &want);
	KUNIT_EXPECT_TRUE(test, pcm_fs_equal(&id.features, &want));

	/* XCR0 bits 32-63 come from EDX; no leaf 0, no vendor */
	pcm_identity_from_entries(&d, 1, &id);
	KUNIT_EXPECT_EQ(test, id.xcr0, 0x100000003ULL);
	KUNIT_EXPECT_STREQ(test, id.vendor, "");
	KUNIT_EXPECT_EQ(test, id.max_basic_leaf, 0);
}

static struct kunit_case pcm_identity_text_cases[] = {
	KUNIT_CASE(ti_format_exact),
	KUNIT_CASE(ti_round_trip),
	KUNIT_CASE(ti_round_trip_vendor_blanks),
	KUNIT_CASE(ti_parse_unknown_bits),
	KUNIT_CASE(ti_parse_tolerant),
	KUNIT_CASE(ti_parse_errors),
	KUNIT_CASE(ti_parse_empty),
	KUNIT_CASE(ti_parse_binary),
	KUNIT_CASE(ti_parse_len),
	KUNIT_CASE(ti_parse_truncated),
	KUNIT_CASE(ti_format_bounded),
	KUNIT_CASE(ti_from_entries),
	{}
};

static struct kunit_suite pcm_identity_text_suite = {
	.name = "pcm_identity_text",
	.test_cases = pcm_identity_text_cases,
};

kunit_test_suite(pcm_identity_text_suite);

/* ------------------------------------------------------------------------ */
/* Suite pcm_identity_check: the destination check */

#define TI_BASE		"fpu cx8 cmov mmx fxsr sse sse2 syscall nx lm "

/*
 * The brief's table.  X, Y, Z = sse4_2, popcnt, aes; a VM on a host sees all
 * of that host's features (mode off), so A -> B checks A's set on B.  Rows
 * 1-4 as in compat-semantics.md; rows 5-6 the same cases with A = {X, Y, Z}
 * fixed (W = avx2).
 */
static void ti_check_table(struct kunit *test)
{
	static const struct {
		const char *a, *b;
		unsigned int a_to_b, b_to_a;
		const char *msg_a_to_b, *msg_b_to_a;
	} rows[] = {
		{ "sse4_2 popcnt aes", "sse4_2 popcnt aes",
		  PCM_KVM_CHECK_IDENTICAL, PCM_KVM_CHECK_IDENTICAL,
		  "identical", "identical" },
		{ "sse4_2 popcnt aes", "sse4_2 popcnt",
		  PCM_KVM_CHECK_MISSING, PCM_KVM_CHECK_COMPATIBLE,
		  "incompatible: missing aes", "compatible (this host has more: aes)" },
		{ "sse4_2 popcnt", "sse4_2 popcnt aes",
		  PCM_KVM_CHECK_COMPATIBLE, PCM_KVM_CHECK_MISSING,
		  "compatible (this host has more: aes)", "incompatible: missing aes" },
		{ "sse4_2 popcnt", "popcnt aes",
		  PCM_KVM_CHECK_MISSING, PCM_KVM_CHECK_MISSING,
		  "incompatible: missing sse4_2", "incompatible: missing aes" },
		{ "sse4_2 popcnt aes", "sse4_2 popcnt aes avx2",
		  PCM_KVM_CHECK_COMPATIBLE, PCM_KVM_CHECK_MISSING,
		  "compatible (this host has more: avx2)", "incompatible: missing avx2" },
		{ "sse4_2 popcnt aes", "popcnt aes avx2",
		  PCM_KVM_CHECK_MISSING, PCM_KVM_CHECK_MISSING,
		  "incompatible: missing sse4_2", "incompatible: missing avx2" },
	};
	/* the table's "succeeds" columns: A -> B, B -> A */
	static const bool ok[][2] = {
		{ true, true }, { false, true }, { true, false }, { false, false },
		{ true, false }, { false, false },
	};
	struct pcm_kvm_identity a, b;
	char list[128];
	unsigned int i;

	BUILD_BUG_ON(ARRAY_SIZE(ok) != ARRAY_SIZE(rows));
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		snprintf(list, sizeof(list), TI_BASE "%s", rows[i].a);
		ti_ident(test, &a, "GenuineIntel", PCM_KVM_MODE_OFF, list);
		snprintf(list, sizeof(list), TI_BASE "%s", rows[i].b);
		ti_ident(test, &b, "GenuineIntel", PCM_KVM_MODE_OFF, list);
		ti_expect_check(test, rows[i].msg_a_to_b, &a, &b, rows[i].a_to_b,
				rows[i].msg_a_to_b);
		ti_expect_check(test, rows[i].msg_b_to_a, &b, &a, rows[i].b_to_a,
				rows[i].msg_b_to_a);
		/* a move succeeds exactly when the check says identical or compatible */
		KUNIT_EXPECT_EQ_MSG(test, ti_check(&a, &b, NULL, NULL, 0) <=
				    PCM_KVM_CHECK_COMPATIBLE, ok[i][0], "row %u: A -> B", i + 1);
		KUNIT_EXPECT_EQ_MSG(test, ti_check(&b, &a, NULL, NULL, 0) <=
				    PCM_KVM_CHECK_COMPATIBLE, ok[i][1], "row %u: B -> A", i + 1);
	}
}

/* The exact lines of issue 3. */
static void ti_check_messages(struct kunit *test)
{
	struct pcm_kvm_identity vm, host;
	struct pcm_fs missing, extra;
	unsigned int limits;

	ti_ident(test, &vm, "GenuineIntel", PCM_KVM_MODE_X86_64_V3,
		 TI_BASE "sse4_2 popcnt avx xsave");
	host = vm;
	ti_expect_check(test, "same", &vm, &host, PCM_KVM_CHECK_IDENTICAL, "identical");
	KUNIT_EXPECT_EQ(test, pcm_identity_check(&vm, &host, &missing, &extra, &limits),
			PCM_KVM_CHECK_IDENTICAL);
	KUNIT_EXPECT_TRUE(test, pcm_fs_empty(&missing));
	KUNIT_EXPECT_TRUE(test, pcm_fs_empty(&extra));
	KUNIT_EXPECT_EQ(test, limits, 0);

	ti_fs(test, TI_BASE "sse4_2 popcnt avx xsave avx2", &host.features);
	ti_expect_check(test, "host has avx2", &vm, &host, PCM_KVM_CHECK_COMPATIBLE,
			"compatible (this host has more: avx2)");
	ti_fs(test, TI_BASE "sse4_2 popcnt avx xsave avx2 bmi2 movbe", &host.features);
	ti_expect_check(test, "host has three more", &vm, &host, PCM_KVM_CHECK_COMPATIBLE,
			"compatible (this host has more: movbe avx2 bmi2)");
	KUNIT_EXPECT_EQ(test, pcm_identity_check(&vm, &host, &missing, &extra, &limits),
			PCM_KVM_CHECK_COMPATIBLE);
	ti_fs(test, "movbe avx2 bmi2", &vm.features);
	KUNIT_EXPECT_TRUE(test, pcm_fs_equal(&extra, &vm.features));
	KUNIT_EXPECT_TRUE(test, pcm_fs_empty(&missing));

	ti_fs(test, TI_BASE "sse4_2 popcnt avx xsave", &vm.features);
	ti_fs(test, TI_BASE "popcnt avx xsave", &host.features);
	ti_expect_check(test, "host lacks sse4_2", &vm, &host, PCM_KVM_CHECK_MISSING,
			"incompatible: missing sse4_2");
	ti_fs(test, TI_BASE "popcnt", &host.features);
	ti_expect_check(test, "host lacks three", &vm, &host, PCM_KVM_CHECK_MISSING,
			"incompatible: missing sse4_2 xsave avx");
	KUNIT_EXPECT_EQ(test, pcm_identity_check(&vm, &host, &missing, &extra, &limits),
			PCM_KVM_CHECK_MISSING);
	ti_fs(test, "sse4_2 xsave avx", &vm.features);
	KUNIT_EXPECT_TRUE(test, pcm_fs_equal(&missing, &vm.features));
	KUNIT_EXPECT_TRUE(test, pcm_fs_empty(&extra));
	KUNIT_EXPECT_EQ(test, limits, 0);

	/* missing on one side, more on the other: still incompatible */
	ti_fs(test, TI_BASE "sse4_2", &vm.features);
	ti_fs(test, TI_BASE "aes", &host.features);
	ti_expect_check(test, "both", &vm, &host, PCM_KVM_CHECK_MISSING,
			"incompatible: missing sse4_2");
}

/* IA32_ARCH_CAPABILITIES bits refuse by name, as CPUID features do. */
static void ti_check_msr(struct kunit *test)
{
	struct pcm_kvm_identity vm, host;

	ti_ident(test, &vm, "GenuineIntel", PCM_KVM_MODE_X86_64_V2,
		 TI_BASE "arch_capabilities arch_capabilities.mds_no arch_capabilities.rsba");
	ti_ident(test, &host, "GenuineIntel", PCM_KVM_MODE_X86_64_V2,
		 TI_BASE "arch_capabilities");
	ti_expect_check(test, "an affected host", &vm, &host, PCM_KVM_CHECK_MISSING,
			"incompatible: missing arch_capabilities.mds_no");
	/* rsba asks for more mitigation: a host without it never refuses */
#define TI_AC_MDS_GDS "arch_capabilities arch_capabilities.mds_no arch_capabilities.gds_no"
	ti_fs(test, TI_BASE TI_AC_MDS_GDS, &host.features);
	/* immune to more: nothing the guest could use, so identical */
	ti_expect_check(test, "a host immune to more", &vm, &host, PCM_KVM_CHECK_IDENTICAL,
			"identical");
	ti_fs(test, TI_BASE TI_AC_MDS_GDS " arch_capabilities.ibrs_all", &host.features);
	ti_expect_check(test, "a host with a control more", &vm, &host, PCM_KVM_CHECK_COMPATIBLE,
			"compatible (this host has more: arch_capabilities.ibrs_all)");
	/* a guest that cannot read the MSR relies on none of it */
	ti_fs(test, TI_BASE, &vm.features);
	ti_fs(test, TI_BASE, &host.features);
	ti_expect_check(test, "neither enumerates it", &vm, &host, PCM_KVM_CHECK_IDENTICAL,
			"identical");
}

/* An invtsc guest keeps its TSC rate, unless the host scales. */
static void ti_check_tsc(struct kunit *test)
{
	struct pcm_kvm_identity vm, host;

	ti_ident(test, &vm, "GenuineIntel", PCM_KVM_MODE_OFF, TI_BASE "invtsc");
	host = vm;
	vm.tsc_khz = 2100000;
	host.tsc_khz = 2100000;
	ti_expect_check(test, "same rate", &vm, &host, PCM_KVM_CHECK_IDENTICAL, "identical");
	host.tsc_khz = 2100500;		/* within KVM's 250 ppm */
	ti_expect_check(test, "same within 250 ppm", &vm, &host, PCM_KVM_CHECK_IDENTICAL,
			"identical");
	host.tsc_khz = 2400000;
	ti_expect_check(test, "another rate", &vm, &host, PCM_KVM_CHECK_MISSING,
			"incompatible: missing tsc_khz=2100000 (this host: 2400000, no TSC scaling)");
	host.flags = PCM_KVM_ID_TSC_SCALING;
	ti_expect_check(test, "another rate, scaled", &vm, &host, PCM_KVM_CHECK_IDENTICAL,
			"identical");
	/* a guest without invtsc, or an unknown rate, is not checked */
	host.flags = 0;
	ti_fs(test, TI_BASE, &vm.features);
	ti_fs(test, TI_BASE, &host.features);
	ti_expect_check(test, "no invtsc", &vm, &host, PCM_KVM_CHECK_IDENTICAL, "identical");
	ti_fs(test, TI_BASE "invtsc", &vm.features);
	ti_fs(test, TI_BASE "invtsc", &host.features);
	vm.tsc_khz = 0;
	ti_expect_check(test, "unknown rate", &vm, &host, PCM_KVM_CHECK_IDENTICAL, "identical");
}

static void ti_check_vendor(struct kunit *test)
{
	struct pcm_kvm_identity vm, host;

	ti_ident(test, &vm, "AuthenticAMD", PCM_KVM_MODE_X86_64_V2, TI_BASE "sse4_2");
	ti_ident(test, &host, "GenuineIntel", PCM_KVM_MODE_X86_64_V2, TI_BASE "sse4_2");
	ti_expect_check(test, "AMD on Intel", &vm, &host, PCM_KVM_CHECK_VENDOR,
			"incompatible: vendor AuthenticAMD on a GenuineIntel host");
	/* the vendor wins over missing features and limits */
	ti_fs(test, TI_BASE, &host.features);
	host.phys_bits = 36;
	ti_expect_check(test, "AMD on a smaller Intel", &vm, &host, PCM_KVM_CHECK_VENDOR,
			"incompatible: vendor AuthenticAMD on a GenuineIntel host");
	/* and over a host that has more */
	ti_fs(test, TI_BASE "sse4_2 avx2", &host.features);
	host.phys_bits = 52;
	ti_expect_check(test, "AMD on a bigger Intel", &vm, &host, PCM_KVM_CHECK_VENDOR,
			"incompatible: vendor AuthenticAMD on a GenuineIntel host");
	/* no vendor is a vendor too */
	vm = host;
	memset(vm.vendor, 0, sizeof(vm.vendor));
	ti_expect_check(test, "none on Intel", &vm, &host, PCM_KVM_CHECK_VENDOR,
			"incompatible: vendor - on a GenuineIntel host");
	/* Hygon is not AMD */
	ti_ident(test, &vm, "HygonGenuine", PCM_KVM_MODE_OFF, TI_BASE);
	ti_ident(test, &host, "AuthenticAMD", PCM_KVM_MODE_OFF, TI_BASE);
	ti_expect_check(test, "Hygon on AMD", &vm, &host, PCM_KVM_CHECK_VENDOR,
			"incompatible: vendor HygonGenuine on a AuthenticAMD host");
}

/* Inverted, scrub, KVM and information bits never refuse, nor count as more. */
static void ti_check_non_hw(struct kunit *test)
{
	static const unsigned int classes[] = {
		PCM_CLASS_KVM, PCM_CLASS_INFO, PCM_CLASS_INV, PCM_CLASS_SCRUB,
	};
	struct pcm_kvm_identity vm, host;
	struct pcm_fs missing, extra, cls;
	unsigned int i, id, limits, result, n = 0;

	for (i = 0; i < ARRAY_SIZE(classes); i++) {
		pcm_fs_of_class(&cls, classes[i]);
		for (id = 0; id < PCM_NR_FEATURES; id++) {
			if (!pcm_fs_test(&cls, id))
				continue;
			n++;
			ti_ident(test, &vm, "GenuineIntel", PCM_KVM_MODE_X86_64_V2,
				 TI_BASE "sse4_2");
			host = vm;
			/* the VM sees it, this host does not have it */
			pcm_fs_set(&vm.features, id);
			result = pcm_identity_check(&vm, &host, &missing, &extra, &limits);
			KUNIT_EXPECT_EQ_MSG(test, result, PCM_KVM_CHECK_IDENTICAL,
					    "%s on a host without", pcm_features[id].name);
			KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_empty(&missing), "%s",
					      pcm_features[id].name);
			/* this host has it, the VM does not see it */
			result = pcm_identity_check(&host, &vm, &missing, &extra, &limits);
			KUNIT_EXPECT_EQ_MSG(test, result, PCM_KVM_CHECK_IDENTICAL,
					    "%s on a host with", pcm_features[id].name);
			KUNIT_EXPECT_TRUE_MSG(test, pcm_fs_empty(&extra), "%s",
					      pcm_features[id].name);
		}
	}
	/* the table has features of every one of these classes */
	KUNIT_EXPECT_GE(test, n, 4);

	/* all of them at once, next to a real missing feature */
	ti_ident(test, &vm, "AuthenticAMD", PCM_KVM_MODE_OFF, TI_BASE "sse4_2");
	host = vm;
	for (i = 0; i < ARRAY_SIZE(classes); i++) {
		pcm_fs_of_class(&cls, classes[i]);
		pcm_fs_or(&vm.features, &vm.features, &cls);
	}
	pcm_fs_clear(&host.features, PCM_F_SSE4_2);
	ti_expect_check(test, "every non-HW bit", &vm, &host, PCM_KVM_CHECK_MISSING,
			"incompatible: missing sse4_2");
}

static void ti_check_phys_bits(struct kunit *test)
{
	struct pcm_kvm_identity vm, host;
	unsigned int limits;
	char line[128];

	ti_ident(test, &vm, "GenuineIntel", PCM_KVM_MODE_X86_64_V2, TI_BASE "sse4_2");
	host = vm;
	vm.phys_bits = 46;
	host.phys_bits = 39;
	KUNIT_EXPECT_EQ(test, ti_check(&vm, &host, &limits, line, sizeof(line)),
			PCM_KVM_CHECK_MISSING);
	KUNIT_EXPECT_EQ(test, limits, PCM_KVM_LIMIT_PHYS_BITS);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(line, "phys_bits"), "%s", line);
	KUNIT_EXPECT_STREQ(test, line, "incompatible: missing phys_bits>=46");

	/* with a missing feature too */
	pcm_fs_clear(&host.features, PCM_F_SSE4_2);
	ti_expect_check(test, "sse4_2 and phys_bits", &vm, &host, PCM_KVM_CHECK_MISSING,
			"incompatible: missing sse4_2 phys_bits>=46");

	/* more is compatible, and says so */
	host = vm;
	host.phys_bits = 52;
	ti_expect_check(test, "more phys_bits", &vm, &host, PCM_KVM_CHECK_COMPATIBLE,
			"compatible (this host has more: phys_bits 52)");
	ti_fs(test, TI_BASE "sse4_2 aes", &host.features);
	ti_expect_check(test, "aes and phys_bits", &vm, &host, PCM_KVM_CHECK_COMPATIBLE,
			"compatible (this host has more: aes phys_bits 52)");
	/* one less is already too few */
	host = vm;
	host.phys_bits = 45;
	ti_expect_check(test, "one bit less", &vm, &host, PCM_KVM_CHECK_MISSING,
			"incompatible: missing phys_bits>=46");
}

/* A smaller max leaf refuses only a VM that uses a leaf above it. */
static void ti_check_leaves(struct kunit *test)
{
	struct pcm_kvm_identity vm, host;
	unsigned int limits;
	char line[128];

	/* avx_vnni is 7.1 EAX: leaf 7 is used */
	ti_ident(test, &vm, "GenuineIntel", PCM_KVM_MODE_OFF, TI_BASE "pni avx_vnni");
	vm.max_basic_leaf = 0x1f;
	host = vm;
	host.max_basic_leaf = 6;
	KUNIT_EXPECT_EQ(test, ti_check(&vm, &host, &limits, line, sizeof(line)),
			PCM_KVM_CHECK_MISSING);
	KUNIT_EXPECT_EQ(test, limits, PCM_KVM_LIMIT_BASIC_LEAF);
	KUNIT_EXPECT_STREQ(test, line, "incompatible: missing max_basic_leaf");
	host.max_basic_leaf = 7;
	ti_expect_check(test, "7.1 on max 7", &vm, &host, PCM_KVM_CHECK_IDENTICAL, "identical");

	/* only leaf 1 features: max 6 is enough, and so is max 1 */
	ti_fs(test, TI_BASE "pni sse4_2", &vm.features);
	host = vm;
	host.max_basic_leaf = 6;
	ti_expect_check(test, "leaf 1 on max 6", &vm, &host, PCM_KVM_CHECK_IDENTICAL,
			"identical");
	host.max_basic_leaf = 1;
	ti_expect_check(test, "leaf 1 on max 1", &vm, &host, PCM_KVM_CHECK_IDENTICAL,
			"identical");

	/* XSAVE state components live in leaf 0xd */
	ti_fs(test, TI_BASE "pni xsave avx", &vm.features);
	vm.xcr0 = 0x7;
	host = vm;
	host.max_basic_leaf = 0xc;
	KUNIT_EXPECT_EQ(test, ti_check(&vm, &host, &limits, line, sizeof(line)),
			PCM_KVM_CHECK_MISSING);
	KUNIT_EXPECT_TRUE(test, limits & PCM_KVM_LIMIT_BASIC_LEAF);
	host.max_basic_leaf = 0xd;
	ti_expect_check(test, "xsave on max 0xd", &vm, &host, PCM_KVM_CHECK_IDENTICAL,
			"identical");

	/* extended leaves: 0x80000021 is used, 0x80000008 is not enough */
	ti_ident(test, &vm, "AuthenticAMD", PCM_KVM_MODE_OFF, TI_BASE "lfence_rdtsc");
	host = vm;
	host.max_ext_leaf = 0x80000008;
	KUNIT_EXPECT_EQ(test, ti_check(&vm, &host, &limits, line, sizeof(line)),
			PCM_KVM_CHECK_MISSING);
	KUNIT_EXPECT_EQ(test, limits, PCM_KVM_LIMIT_EXT_LEAF);
	KUNIT_EXPECT_STREQ(test, line, "incompatible: missing max_ext_leaf");
	/* only 0x80000001 features: 0x80000008 is enough */
	ti_fs(test, TI_BASE, &vm.features);
	host.features = vm.features;
	ti_expect_check(test, "0x80000001 on max 0x80000008", &vm, &host,
			PCM_KVM_CHECK_IDENTICAL, "identical");

	/* a larger max leaf on either side changes nothing */
	host = vm;
	vm.max_basic_leaf = 0x24;
	vm.max_ext_leaf = 0x80000026;
	ti_expect_check(test, "VM max leaves above the host's", &vm, &host,
			PCM_KVM_CHECK_IDENTICAL, "identical");
	swap(vm, host);
	ti_expect_check(test, "host max leaves above the VM's", &vm, &host,
			PCM_KVM_CHECK_IDENTICAL, "identical");
}

static void ti_check_xcr0(struct kunit *test)
{
	struct pcm_kvm_identity vm, host;
	unsigned int limits;
	char line[128];

	ti_ident(test, &vm, "GenuineIntel", PCM_KVM_MODE_X86_64_V4,
		 TI_BASE "xsave avx avx2 avx512f");
	vm.xcr0 = 0xe7;		/* x87 SSE AVX opmask ZMM_Hi256 Hi16_ZMM */
	host = vm;
	host.xcr0 = 0x7;
	KUNIT_EXPECT_EQ(test, ti_check(&vm, &host, &limits, line, sizeof(line)),
			PCM_KVM_CHECK_MISSING);
	KUNIT_EXPECT_EQ(test, limits, PCM_KVM_LIMIT_XCR0);
	KUNIT_EXPECT_STREQ(test, line, "incompatible: missing xcr0=0xe0");

	/* with the feature missing too */
	pcm_fs_clear(&host.features, PCM_F_AVX512F);
	ti_expect_check(test, "avx512f and its components", &vm, &host, PCM_KVM_CHECK_MISSING,
			"incompatible: missing avx512f xcr0=0xe0");

	/* a component above bit 31 (XCR0 EDX) */
	host = vm;
	vm.xcr0 |= BIT_ULL(40);
	ti_expect_check(test, "bit 40", &vm, &host, PCM_KVM_CHECK_MISSING,
			"incompatible: missing xcr0=0x10000000000");

	/* more components on this host: no more features, so identical */
	swap(vm, host);
	ti_expect_check(test, "host has more components", &vm, &host,
			PCM_KVM_CHECK_IDENTICAL, "identical");
}

/*
 * The point of a mode: the destination's features are narrowed by the VM's
 * mode (host features AND the mode's allow-list) before the check, as the
 * kernel does, so a mode the destination supports always moves.
 */
static void ti_check_mode_narrowing(struct kunit *test)
{
	struct pcm_kvm_identity a, b, vm, host;
	struct pcm_fs known, allow;

	pcm_fs_known(&known);
	/* host A: an x86-64-v4 machine; host B: x86-64-v2 only */
	ti_ident(test, &a, "GenuineIntel", PCM_KVM_MODE_OFF, "");
	pcm_mode_allow(PCM_KVM_MODE_X86_64_V4, NULL, &a.features);
	pcm_fs_and(&a.features, &a.features, &known);
	ti_ident(test, &b, "GenuineIntel", PCM_KVM_MODE_OFF, "");
	pcm_mode_allow(PCM_KVM_MODE_X86_64_V2, NULL, &b.features);
	pcm_fs_and(&b.features, &b.features, &known);

	/* a VM in x86-64-v2 on A moves to B: identical */
	pcm_mode_allow(PCM_KVM_MODE_X86_64_V2, NULL, &allow);
	vm = a;
	vm.mode = PCM_KVM_MODE_X86_64_V2;
	pcm_fs_and(&vm.features, &a.features, &allow);
	host = b;
	pcm_fs_and(&host.features, &b.features, &allow);
	ti_expect_check(test, "v2 VM from A to B", &vm, &host, PCM_KVM_CHECK_IDENTICAL,
			"identical");
	/* and back to A: A gives more, but not to this mode */
	host = a;
	pcm_fs_and(&host.features, &a.features, &allow);
	ti_expect_check(test, "v2 VM from B to A", &vm, &host, PCM_KVM_CHECK_IDENTICAL,
			"identical");
	/* without narrowing, A would have more */
	KUNIT_EXPECT_EQ(test, ti_check(&vm, &a, NULL, NULL, 0), PCM_KVM_CHECK_COMPATIBLE);

	/* a VM in mode off on A does not fit on B */
	KUNIT_EXPECT_EQ(test, ti_check(&a, &b, NULL, NULL, 0), PCM_KVM_CHECK_MISSING);

	/* B withholding sse4_2 (host_withhold=sse4_2): the v2 VM cannot go */
	host = b;
	pcm_fs_clear(&host.features, PCM_F_SSE4_2);
	pcm_fs_and(&host.features, &host.features, &allow);
	ti_expect_check(test, "v2 VM to B without sse4_2", &vm, &host, PCM_KVM_CHECK_MISSING,
			"incompatible: missing sse4_2");
}

static struct kunit_case pcm_identity_check_cases[] = {
	KUNIT_CASE(ti_check_table),
	KUNIT_CASE(ti_check_messages),
	KUNIT_CASE(ti_check_msr),
	KUNIT_CASE(ti_check_tsc),
	KUNIT_CASE(ti_check_vendor),
	KUNIT_CASE(ti_check_non_hw),
	KUNIT_CASE(ti_check_phys_bits),
	KUNIT_CASE(ti_check_leaves),
	KUNIT_CASE(ti_check_xcr0),
	KUNIT_CASE(ti_check_mode_narrowing),
	{}
};

static struct kunit_suite pcm_identity_check_suite = {
	.name = "pcm_identity_check",
	.test_cases = pcm_identity_check_cases,
};

kunit_test_suite(pcm_identity_check_suite);
