// SPDX-License-Identifier: GPL-2.0
/*
 * Feature lists: pcm_fs_parse(), pcm_fs_format(), pcm_feature_lookup().
 * They read /sys/kernel/pcm_kvm/baseline, the host_withhold parameter,
 * `pcmctl parse`, `pcmctl apply` and the lists of profiles and identities.
 *
 * The input is the list text itself; its first bytes also serve as a raw
 * feature set and a buffer size for the formatter.
 */
#include "fuzz.h"

/* The separators pcm_model.h documents for pcm_fs_parse(). */
static bool is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == ',';
}

/*
 * A truncated format must be a NUL-terminated prefix of the full text that
 * ends at a name boundary: a cut name would read back as another feature.
 */
static void check_truncated(const struct pcm_fs *fs, const char *full,
			    size_t full_len, size_t size)
{
	static char buf[PCM_FS_TEXT_MAX];
	size_t n;

	memset(buf, 'X', sizeof(buf));
	n = pcm_fs_format(fs, buf, size);
	if (!size) {
		FUZZ_CHECK(n == 0 && buf[0] == 'X', "wrote into a 0-byte buffer");
		return;
	}
	FUZZ_CHECK(n < size && buf[n] == '\0', "n %zu size %zu", n, size);
	FUZZ_CHECK(!memcmp(buf, full, n), "not a prefix of the full text");
	FUZZ_CHECK(!n || n == full_len || full[n] == ' ', "cut inside a name at %zu", n);
	FUZZ_CHECK(n + 1 == size || buf[n + 1] == 'X', "wrote past the NUL");
}

/* format() then parse() must give the set back, restricted to the table. */
static void check_round_trip(const struct pcm_fs *fs, size_t cut)
{
	static char text[PCM_FS_TEXT_MAX];
	struct pcm_fs known, want, back;
	const char *bad = NULL;
	size_t len, badlen = 0, words = 0, i;
	int ret;

	pcm_fs_known(&known);
	pcm_fs_and(&want, fs, &known);
	len = pcm_fs_format(fs, text, sizeof(text));
	FUZZ_CHECK(len == strlen(text));
	/* PCM_FS_TEXT_MAX is documented as enough for any set. */
	FUZZ_CHECK(len + 1 < sizeof(text), "full-size format truncated");
	for (i = 0; i < len; i++) {
		FUZZ_CHECK(text[i] != ',' && text[i] != '\t' && text[i] != '\n');
		words += text[i] == ' ';
	}
	FUZZ_CHECK(!len || words + 1 == pcm_fs_count(fs), "%zu names for %u features",
		   words + 1, pcm_fs_count(fs));

	ret = pcm_fs_parse(text, len, &back, &bad, &badlen);
	if (pcm_fs_empty(&want)) {
		FUZZ_CHECK(len == 0 && ret == -ENODATA, "ret %d len %zu", ret, len);
	} else {
		FUZZ_CHECK(ret == 0, "'%s' does not parse back (ret %d at '%.*s')",
			   text, ret, (int)badlen, bad ? bad : "");
		FUZZ_CHECK(pcm_fs_equal(&back, &want), "'%s' parses to another set", text);
	}
	check_truncated(fs, text, len, cut % (len + 2));
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	const char *s = (const char *)data, *bad = NULL;
	struct pcm_fs fs, raw, known, poison;
	size_t badlen = 0, i;
	const u8 *p = data;
	size_t left = size;
	u16 cut;
	int ret;

	memset(&poison, 0xa5, sizeof(poison));
	fs = poison;
	ret = pcm_fs_parse(s, size, &fs, &bad, &badlen);
	switch (ret) {
	case 0:
		pcm_fs_known(&known);
		FUZZ_CHECK(!pcm_fs_empty(&fs) && pcm_fs_subset(&fs, &known));
		break;
	case -EINVAL:
		/* *bad is one whole token of the input, and no feature name. */
		FUZZ_CHECK(bad >= s && badlen && badlen <= size - (size_t)(bad - s));
		FUZZ_CHECK(bad == s || is_sep(bad[-1]));
		FUZZ_CHECK(bad + badlen == s + size || is_sep(bad[badlen]));
		for (i = 0; i < badlen; i++)
			FUZZ_CHECK(!is_sep(bad[i]));
		FUZZ_CHECK(pcm_feature_lookup(bad, badlen) < 0);
		FUZZ_CHECK(pcm_fs_equal(&fs, &poison), "fs written on error");
		break;
	case -ENODATA:
		for (i = 0; i < size; i++)
			FUZZ_CHECK(is_sep(s[i]), "ENODATA but byte %zu is 0x%02x",
				   i, (unsigned char)s[i]);
		FUZZ_CHECK(pcm_fs_equal(&fs, &poison), "fs written on error");
		break;
	default:
		FUZZ_CHECK(0, "unexpected return %d", ret);
	}

	/* The same bytes as a raw set: every set formats and reads back. */
	fuzz_take(&p, &left, &cut, sizeof(cut));
	if (!ret)
		check_round_trip(&fs, cut);
	fuzz_take(&p, &left, &raw, sizeof(raw));
	check_round_trip(&raw, cut);
	return 0;
}
