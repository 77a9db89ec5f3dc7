// SPDX-License-Identifier: GPL-2.0
/*
 * A VM's CPU identity (struct pcm_kvm_identity): building it from CPUID
 * entries, its text form, and the destination check of a migration or a
 * restore.  Plain C shared by the module, KUnit and pcmctl, so the kernel's
 * refusal and `pcmctl check` can never disagree.
 *
 * Rules (../shared/reference/compat-semantics.md, section 3): vendor must
 * match; ordinary feature bits and speculation controls (HW, SPEC), in
 * CPUID or in IA32_ARCH_CAPABILITIES, must be a subset; numbers must not
 * be smaller; inverted, scrub, information and KVM-provided bits never
 * refuse.
 */
#include "pcm_model.h"

/*
 * 2 added the feature MSR words.  A version 1 text, which has none, is
 * still read: its VM is taken to rely on no feature MSR bit.
 */
#define PCM_IDENTITY_VERSION	2

void pcm_identity_from_entries(const struct kvm_cpuid_entry2 *e, unsigned int nent,
			       struct pcm_kvm_identity *id)
{
	struct pcm_fs have;

	pcm_fs_from_entries(e, nent, &have);
	pcm_identity_from_entries_have(e, nent, &have, id);
}

void pcm_identity_from_entries_have(const struct kvm_cpuid_entry2 *e,
				    unsigned int nent, const struct pcm_fs *have,
				    struct pcm_kvm_identity *id)
{
	unsigned int i;

	memset(id, 0, sizeof(*id));
	id->features = *have;
	for (i = 0; i < nent; i++) {
		if (e[i].function == 0) {
			id->max_basic_leaf = e[i].eax;
			memcpy(id->vendor, &e[i].ebx, 4);
			memcpy(id->vendor + 4, &e[i].edx, 4);
			memcpy(id->vendor + 8, &e[i].ecx, 4);
		} else if (e[i].function == 0x80000000) {
			id->max_ext_leaf = e[i].eax;
		} else if (e[i].function == 0x80000008) {
			id->phys_bits = e[i].eax & 0xff;
		} else if (e[i].function == 0xd && e[i].index == 0) {
			id->xcr0 = e[i].eax | ((u64)e[i].edx << 32);
		}
	}
}

void pcm_identity_widen(struct pcm_kvm_identity *dst,
			const struct pcm_kvm_identity *src)
{
	if (!dst->vendor[0])
		memcpy(dst->vendor, src->vendor, sizeof(dst->vendor));
	if (src->max_basic_leaf > dst->max_basic_leaf)
		dst->max_basic_leaf = src->max_basic_leaf;
	if (src->max_ext_leaf > dst->max_ext_leaf)
		dst->max_ext_leaf = src->max_ext_leaf;
	if (src->phys_bits > dst->phys_bits)
		dst->phys_bits = src->phys_bits;
	if (!dst->tsc_khz)
		dst->tsc_khz = src->tsc_khz;
	dst->xcr0 |= src->xcr0;
	pcm_fs_or(&dst->features, &dst->features, &src->features);
}

/* The highest basic and extended leaf the identity's features live in. */
static void pcm_identity_leaves_used(const struct pcm_kvm_identity *id,
				     u32 *basic, u32 *ext)
{
	struct pcm_fs hw;
	unsigned int w;

	/* Bits that never refuse a move do not make their leaf needed. */
	pcm_fs_checked(&hw);
	*basic = id->xcr0 ? 0xd : 1;
	*ext = 0;
	for (w = 0; w < PCM_KVM_NR_WORDS_USED; w++) {
		u32 leaf = pcm_words[w].leaf;

		if (!pcm_word_is_cpuid(w) || !(id->features.words[w] & hw.words[w]))
			continue;
		if (leaf & 0x80000000) {
			if (leaf > *ext)
				*ext = leaf;
		} else if (leaf > *basic) {
			*basic = leaf;
		}
	}
}

bool pcm_tsc_same(u32 a, u32 b)
{
	u64 d = a > b ? a - b : b - a;

	return d * 1000000 <= (u64)a * PCM_TSC_TOLERANCE_PPM;
}

/*
 * A guest that sees invtsc relies on its TSC rate: a host gives it if its
 * own rate is that, or if it scales a guest's TSC.  An unknown rate on
 * either side (0, a version 1 identity) is not checked.
 */
static bool pcm_tsc_lacking(const struct pcm_kvm_identity *vm,
			    const struct pcm_kvm_identity *host)
{
	return pcm_fs_test(&vm->features, PCM_F_INVTSC) && vm->tsc_khz &&
	       host->tsc_khz && !(host->flags & PCM_KVM_ID_TSC_SCALING) &&
	       !pcm_tsc_same(vm->tsc_khz, host->tsc_khz);
}

unsigned int pcm_identity_check(const struct pcm_kvm_identity *vm,
				const struct pcm_kvm_identity *host,
				struct pcm_fs *missing, struct pcm_fs *extra,
				unsigned int *limits)
{
	struct pcm_fs hw, no;
	u32 basic, ext;

	pcm_fs_checked(&hw);
	pcm_fs_andnot(missing, &vm->features, &host->features);
	pcm_fs_and(missing, missing, &hw);
	/*
	 * More is what a guest could use here.  Being immune to more bugs
	 * is not (VMMs that predate a not-affected bit never show it).
	 */
	pcm_fs_of_class(&no, PCM_CLASS_NO);
	pcm_fs_andnot(&hw, &hw, &no);
	pcm_fs_andnot(extra, &host->features, &vm->features);
	pcm_fs_and(extra, extra, &hw);

	*limits = 0;
	pcm_identity_leaves_used(vm, &basic, &ext);
	if (host->phys_bits < vm->phys_bits)
		*limits |= PCM_KVM_LIMIT_PHYS_BITS;
	if (host->max_basic_leaf < basic)
		*limits |= PCM_KVM_LIMIT_BASIC_LEAF;
	if (ext && host->max_ext_leaf < ext)
		*limits |= PCM_KVM_LIMIT_EXT_LEAF;
	if (vm->xcr0 & ~host->xcr0)
		*limits |= PCM_KVM_LIMIT_XCR0;
	if (pcm_tsc_lacking(vm, host))
		*limits |= PCM_KVM_LIMIT_TSC;

	if (strncmp(vm->vendor, host->vendor, sizeof(vm->vendor)))
		return PCM_KVM_CHECK_VENDOR;
	if (*limits || !pcm_fs_empty(missing))
		return PCM_KVM_CHECK_MISSING;
	if (pcm_fs_empty(extra) && host->phys_bits == vm->phys_bits)
		return PCM_KVM_CHECK_IDENTICAL;
	return PCM_KVM_CHECK_COMPATIBLE;
}

/* A bounded appender: output is always NUL-terminated and never overflows. */
struct pcm_buf {
	char *p;
	size_t size;
	size_t len;
};

static void pcm_put(struct pcm_buf *b, const char *s, size_t n)
{
	if (!b->size)
		return;
	if (n > b->size - 1 - b->len)
		n = b->size - 1 - b->len;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void pcm_puts(struct pcm_buf *b, const char *s)
{
	pcm_put(b, s, strlen(s));
}

static void pcm_put_hex(struct pcm_buf *b, u64 v, unsigned int min_digits)
{
	char tmp[2 + 16];
	unsigned int n = 0, i;

	do {
		tmp[n++] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v || n < min_digits);
	pcm_puts(b, "0x");
	for (i = 0; i < n; i++)
		pcm_put(b, &tmp[n - 1 - i], 1);
}

static void pcm_put_dec(struct pcm_buf *b, u64 v)
{
	char tmp[20];
	unsigned int n = 0, i;

	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		pcm_put(b, &tmp[n - 1 - i], 1);
}

static void pcm_put_fs(struct pcm_buf *b, const struct pcm_fs *fs)
{
	if (b->size > b->len + 1)
		b->len += pcm_fs_format(fs, b->p + b->len, b->size - b->len);
}

/*
 * A VMM may put anything in leaf 0, yet the vendor ends up in the identity
 * text (one line per key) and in the kernel log: printable ASCII only.
 * out holds size + 1 bytes.
 */
static void pcm_vendor_text(char *out, const char *vendor, size_t size)
{
	size_t i;

	memcpy(out, vendor, size);
	out[size] = '\0';
	for (i = 0; out[i]; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			out[i] = '?';
}

size_t pcm_identity_format(const struct pcm_kvm_identity *id, char *buf, size_t size)
{
	struct pcm_buf b = { buf, size, 0 };
	char vendor[sizeof(id->vendor) + 1];
	unsigned int w;

	if (size)
		buf[0] = '\0';
	pcm_vendor_text(vendor, id->vendor, sizeof(id->vendor));

	pcm_puts(&b, "pcm_kvm_identity: ");
	pcm_put_dec(&b, PCM_IDENTITY_VERSION);
	pcm_puts(&b, "\nvendor: ");
	pcm_puts(&b, vendor[0] ? vendor : "-");
	pcm_puts(&b, "\nmode: ");
	pcm_puts(&b, pcm_mode_name(id->mode));
	pcm_puts(&b, "\nmax_basic_leaf: ");
	pcm_put_hex(&b, id->max_basic_leaf, 1);
	pcm_puts(&b, "\nmax_ext_leaf: ");
	pcm_put_hex(&b, id->max_ext_leaf, 8);
	pcm_puts(&b, "\nphys_bits: ");
	pcm_put_dec(&b, id->phys_bits);
	pcm_puts(&b, "\nxcr0: ");
	pcm_put_hex(&b, id->xcr0, 1);
	pcm_puts(&b, "\ntsc_khz: ");
	pcm_put_dec(&b, id->tsc_khz);
	pcm_puts(&b, "\ntsc_scaling: ");
	pcm_puts(&b, id->flags & PCM_KVM_ID_TSC_SCALING ? "yes" : "no");
	pcm_puts(&b, "\nfeatures: ");
	pcm_put_fs(&b, &id->features);
	pcm_puts(&b, "\nwords:");
	for (w = 0; w < PCM_KVM_NR_WORDS_USED; w++) {
		pcm_puts(&b, " ");
		pcm_puts(&b, pcm_words[w].name);
		pcm_puts(&b, "=");
		pcm_put_hex(&b, id->features.words[w], 8);
	}
	pcm_puts(&b, "\n");
	return b.len;
}

static bool pcm_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Parse a whole token as an unsigned number: 0x-prefixed hex or decimal. */
static bool pcm_parse_u64(const char *s, size_t len, u64 *out)
{
	unsigned int base = 10, d;
	u64 v = 0;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len || len - i > (base == 16 ? 16 : 19))
		return false;
	for (; i < len; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

static bool pcm_parse_u32(const char *s, size_t len, u32 *out)
{
	u64 v;

	if (!pcm_parse_u64(s, len, &v) || v > 0xffffffffULL)
		return false;
	*out = (u32)v;
	return true;
}

static bool pcm_has_ctrl(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return true;
	return false;
}

static int pcm_word_lookup(const char *s, size_t len)
{
	unsigned int w;

	for (w = 0; w < PCM_KVM_NR_WORDS_USED; w++)
		if (strlen(pcm_words[w].name) == len && !memcmp(pcm_words[w].name, s, len))
			return w;
	return -1;
}

static int pcm_parse_words(const char *s, size_t len, struct pcm_fs *fs,
			   const char **bad, size_t *badlen)
{
	size_t i = 0, start, eq;
	u32 seen = 0;
	int w;

	while (i < len) {
		while (i < len && pcm_is_space(s[i]))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && !pcm_is_space(s[i]))
			i++;
		for (eq = start; eq < i && s[eq] != '='; eq++)
			;
		w = eq < i ? pcm_word_lookup(s + start, eq - start) : -1;
		if (w < 0 || (seen & (1U << w)) ||
		    !pcm_parse_u32(s + eq + 1, i - eq - 1, &fs->words[w])) {
			*bad = s + start;
			*badlen = i - start;
			return -EINVAL;
		}
		seen |= 1U << w;
	}
	return 0;
}

enum {
	PCM_KEY_VERSION, PCM_KEY_VENDOR, PCM_KEY_MODE, PCM_KEY_BASIC,
	PCM_KEY_EXT, PCM_KEY_PHYS, PCM_KEY_XCR0, PCM_KEY_FEATURES,
	PCM_KEY_WORDS, PCM_KEY_TSC, PCM_KEY_TSC_SCALING, PCM_NR_KEYS
};

static const char *const pcm_keys[PCM_NR_KEYS] = {
	"pcm_kvm_identity", "vendor", "mode", "max_basic_leaf",
	"max_ext_leaf", "phys_bits", "xcr0", "features", "words",
	"tsc_khz", "tsc_scaling",
};

/* The keys of version 1, which had no TSC. */
#define PCM_KEYS_V1	((1U << PCM_KEY_TSC) - 1)

int pcm_identity_parse(const char *s, size_t len, struct pcm_kvm_identity *out,
		       const char **bad, size_t *badlen)
{
	struct pcm_kvm_identity id;
	struct pcm_fs named, known;
	unsigned int seen = 0, key;
	size_t pos = 0, end, colon, v, vend;
	const char *ver_line = s;
	size_t ver_len = 0;
	u32 version = 0;
	u64 num;
	int ret;

	memset(&id, 0, sizeof(id));
	pcm_fs_zero(&named);
	while (pos < len) {
		for (end = pos; end < len && s[end] != '\n'; end++)
			;
		for (colon = pos; colon < end && s[colon] != ':'; colon++)
			;
		*bad = s + pos;
		*badlen = end - pos;
		if (pos == end) {			/* empty line */
			pos = end + 1;
			continue;
		}
		if (colon == end)
			return -EINVAL;
		for (key = 0; key < PCM_NR_KEYS; key++)
			if (strlen(pcm_keys[key]) == colon - pos &&
			    !memcmp(pcm_keys[key], s + pos, colon - pos))
				break;
		if (key == PCM_NR_KEYS || (seen & (1U << key)))
			return -EINVAL;
		seen |= 1U << key;
		for (v = colon + 1; v < end && pcm_is_space(s[v]); v++)
			;
		for (vend = end; vend > v && pcm_is_space(s[vend - 1]); vend--)
			;

		switch (key) {
		case PCM_KEY_VERSION:
			if (!pcm_parse_u32(s + v, vend - v, &version) ||
			    version < 1 || version > PCM_IDENTITY_VERSION)
				return -EINVAL;
			ver_line = s + pos;
			ver_len = end - pos;
			break;
		case PCM_KEY_VENDOR:
			/*
			 * Blanks belong to some vendors ("  Shanghai  "): take
			 * the value raw after "vendor: ", up to 12 characters.
			 */
			v = colon + 1;
			if (v < end && pcm_is_space(s[v]))
				v++;
			vend = end;
			if (vend > v && s[vend - 1] == '\r')
				vend--;
			while (vend - v > 12 && pcm_is_space(s[vend - 1]))
				vend--;
			while (vend - v > 12 && pcm_is_space(s[v]))
				v++;
			if (vend - v > 12 || pcm_has_ctrl(s + v, vend - v))
				return -EINVAL;
			if (!(vend - v == 1 && s[v] == '-'))
				memcpy(id.vendor, s + v, vend - v);
			break;
		case PCM_KEY_MODE:
			ret = pcm_mode_parse(s + v, vend - v);
			if (ret < 0)
				return -EINVAL;
			id.mode = ret;
			break;
		case PCM_KEY_BASIC:
			if (!pcm_parse_u32(s + v, vend - v, &id.max_basic_leaf))
				return -EINVAL;
			break;
		case PCM_KEY_EXT:
			if (!pcm_parse_u32(s + v, vend - v, &id.max_ext_leaf))
				return -EINVAL;
			break;
		case PCM_KEY_PHYS:
			if (!pcm_parse_u32(s + v, vend - v, &id.phys_bits) ||
			    id.phys_bits > PCM_PHYS_BITS_MAX)
				return -EINVAL;
			break;
		case PCM_KEY_XCR0:
			if (!pcm_parse_u64(s + v, vend - v, &num))
				return -EINVAL;
			id.xcr0 = num;
			break;
		case PCM_KEY_FEATURES:
			/* An empty list is a valid (if odd) identity. */
			if (v < vend) {
				ret = pcm_fs_parse(s + v, vend - v, &named, bad, badlen);
				if (ret)
					return -EINVAL;
			}
			break;
		case PCM_KEY_WORDS:
			ret = pcm_parse_words(s + v, vend - v, &id.features, bad, badlen);
			if (ret)
				return ret;
			break;
		case PCM_KEY_TSC:
			if (!pcm_parse_u32(s + v, vend - v, &id.tsc_khz))
				return -EINVAL;
			break;
		case PCM_KEY_TSC_SCALING:
			if (vend - v == 3 && !memcmp(s + v, "yes", 3))
				id.flags |= PCM_KVM_ID_TSC_SCALING;
			else if (vend - v != 2 || memcmp(s + v, "no", 2))
				return -EINVAL;
			break;
		}
		pos = end + 1;
	}

	*bad = s;
	*badlen = 0;
	/* Version 1 knew no TSC. */
	if (version == 1 && (seen & ~PCM_KEYS_V1)) {
		*bad = ver_line;
		*badlen = ver_len;
		return -EINVAL;
	}
	/* Every key is required: a truncated copy must not pass as valid. */
	if (seen != (version == 1 ? PCM_KEYS_V1 : (1U << PCM_NR_KEYS) - 1))
		return -ENODATA;
	/* Names are for people, words for tools: they must agree. */
	pcm_fs_known(&known);
	pcm_fs_and(&id.features, &id.features, &known);
	if (!pcm_fs_equal(&named, &id.features))
		return -EBADMSG;
	*out = id;
	return 0;
}

size_t pcm_check_format(unsigned int result, const struct pcm_kvm_identity *vm,
			const struct pcm_kvm_identity *host,
			const struct pcm_fs *missing, const struct pcm_fs *extra,
			unsigned int limits, char *buf, size_t size)
{
	struct pcm_buf b = { buf, size, 0 };
	char v1[sizeof(vm->vendor) + 1], v2[sizeof(host->vendor) + 1];
	const char *sep = "";

	if (size)
		buf[0] = '\0';
	pcm_vendor_text(v1, vm->vendor, sizeof(vm->vendor));
	pcm_vendor_text(v2, host->vendor, sizeof(host->vendor));

	switch (result) {
	case PCM_KVM_CHECK_IDENTICAL:
		pcm_puts(&b, "identical");
		break;
	case PCM_KVM_CHECK_COMPATIBLE:
		pcm_puts(&b, "compatible (this host has more: ");
		pcm_put_fs(&b, extra);
		if (host->phys_bits > vm->phys_bits) {
			pcm_puts(&b, pcm_fs_empty(extra) ? "phys_bits " : " phys_bits ");
			pcm_put_dec(&b, host->phys_bits);
		}
		pcm_puts(&b, ")");
		break;
	case PCM_KVM_CHECK_VENDOR:
		pcm_puts(&b, "incompatible: vendor ");
		pcm_puts(&b, v1[0] ? v1 : "-");
		pcm_puts(&b, " on a ");
		pcm_puts(&b, v2[0] ? v2 : "-");
		pcm_puts(&b, " host");
		break;
	default:
		pcm_puts(&b, "incompatible: missing ");
		if (!pcm_fs_empty(missing)) {
			pcm_put_fs(&b, missing);
			sep = " ";
		}
		if (limits & PCM_KVM_LIMIT_PHYS_BITS) {
			pcm_puts(&b, sep);
			pcm_puts(&b, "phys_bits>=");
			pcm_put_dec(&b, vm->phys_bits);
			sep = " ";
		}
		if (limits & PCM_KVM_LIMIT_BASIC_LEAF) {
			pcm_puts(&b, sep);
			pcm_puts(&b, "max_basic_leaf");
			sep = " ";
		}
		if (limits & PCM_KVM_LIMIT_EXT_LEAF) {
			pcm_puts(&b, sep);
			pcm_puts(&b, "max_ext_leaf");
			sep = " ";
		}
		if (limits & PCM_KVM_LIMIT_XCR0) {
			pcm_puts(&b, sep);
			pcm_puts(&b, "xcr0=");
			pcm_put_hex(&b, vm->xcr0 & ~host->xcr0, 1);
			sep = " ";
		}
		if (limits & PCM_KVM_LIMIT_TSC) {
			pcm_puts(&b, sep);
			pcm_puts(&b, "tsc_khz=");
			pcm_put_dec(&b, vm->tsc_khz);
			pcm_puts(&b, " (this host: ");
			pcm_put_dec(&b, host->tsc_khz);
			pcm_puts(&b, ", no TSC scaling)");
		}
		break;
	}
	return b.len;
}
