// SPDX-License-Identifier: GPL-2.0
/*
 * Identity text: pcm_identity_parse() (sysfs vms/<vm>/expect, `pcmctl
 * check`, `pcmctl save-identity`) and pcm_identity_format() (sysfs
 * vms/<vm>/identity, `pcmctl host --identity`).
 *
 * The input is the text; its bytes also serve as a raw struct
 * pcm_kvm_identity for the format -> parse direction.
 */
#include "fuzz.h"

static const size_t text_max = PCM_IDENTITY_TEXT_MAX;

/*
 * A format into a short buffer stays inside it and is NUL-terminated.  (Not
 * a prefix of the full text: a features list that does not fit is cut at a
 * name, and the lines after it still follow.)
 */
static void check_truncated(const struct pcm_kvm_identity *id, size_t full_len,
			    size_t size)
{
	static char buf[PCM_IDENTITY_TEXT_MAX];
	size_t n;

	memset(buf, 'X', sizeof(buf));
	n = pcm_identity_format(id, buf, size);
	if (!size) {
		FUZZ_CHECK(n == 0 && buf[0] == 'X');
		return;
	}
	FUZZ_CHECK(n < size && buf[n] == '\0' && n == strlen(buf) && n <= full_len,
		   "n %zu size %zu", n, size);
	FUZZ_CHECK(n + 1 == size || buf[n + 1] == 'X', "wrote past the NUL");
}

/* format -> parse -> format: same struct, same text. */
static void check_round_trip(const struct pcm_kvm_identity *id, size_t cut)
{
	static char text[PCM_IDENTITY_TEXT_MAX], again[PCM_IDENTITY_TEXT_MAX];
	struct pcm_kvm_identity back;
	const char *bad = NULL;
	size_t len, badlen = 0;
	int ret;

	len = pcm_identity_format(id, text, text_max);
	FUZZ_CHECK(len == strlen(text) && len + 1 < text_max,
		   "PCM_IDENTITY_TEXT_MAX too small: %zu", len);
	ret = pcm_identity_parse(text, len, &back, &bad, &badlen);
	FUZZ_CHECK(ret == 0, "formatted identity does not parse (%d at '%.*s'):\n%s",
		   ret, (int)badlen, bad ? bad : "", text);
	FUZZ_CHECK(!memcmp(&back, id, sizeof(back)), "parse(format(id)) != id:\n%s", text);
	FUZZ_CHECK(pcm_identity_format(&back, again, text_max) == len &&
		   !memcmp(again, text, len + 1), "text differs after a round trip");
	check_truncated(id, len, cut % (len + 2));
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	const char *s = (const char *)data, *bad = NULL;
	struct pcm_kvm_identity id, poison;
	const u8 *p = data;
	size_t badlen = 0, left = size;
	struct pcm_fs known;
	u16 cut;
	int ret;

	memset(&poison, 0xa5, sizeof(poison));
	id = poison;
	ret = pcm_identity_parse(s, size, &id, &bad, &badlen);
	/* *bad always points into the input (at its end at the latest). */
	FUZZ_CHECK(bad >= s && bad <= s + size && badlen <= size - (size_t)(bad - s));
	fuzz_take(&p, &left, &cut, sizeof(cut));
	switch (ret) {
	case 0:
		pcm_fs_known(&known);
		FUZZ_CHECK(id.mode < PCM_KVM_NR_MODES && id.phys_bits <= PCM_PHYS_BITS_MAX);
		FUZZ_CHECK(!id.vendor[12] && !id.vendor[13] && !id.vendor[14] &&
			   !id.vendor[15]);
		FUZZ_CHECK(pcm_fs_subset(&id.features, &known));
		check_round_trip(&id, cut);
		break;
	case -EINVAL:
		/* The complaint is about one line (or a token of it). */
		FUZZ_CHECK(badlen && !memchr(bad, '\n', badlen));
		fallthrough;
	case -ENODATA:
	case -EBADMSG:
		FUZZ_CHECK(!memcmp(&id, &poison, sizeof(id)), "out written on error %d", ret);
		break;
	default:
		FUZZ_CHECK(0, "unexpected return %d", ret);
	}

	/* The same bytes as a struct, made valid the way the kernel checks one. */
	fuzz_take(&p, &left, &id, sizeof(id));
	id.mode %= PCM_KVM_NR_MODES;
	id.phys_bits %= PCM_PHYS_BITS_MAX + 1;
	memset(id.vendor + 12, 0, sizeof(id.vendor) - 12);
	fuzz_identity_normalize(&id);
	check_round_trip(&id, cut);
	return 0;
}
