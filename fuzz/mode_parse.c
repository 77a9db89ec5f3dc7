// SPDX-License-Identifier: GPL-2.0
/*
 * Mode names and allow-lists: pcm_mode_parse() (sysfs vms/<vm>/mode, the
 * default_mode parameter, `pcmctl set`, the mode line of an identity),
 * pcm_mode_allow(), pcm_fs_close() and pcm_fs_level().
 *
 * Input: the mode text up to the first NUL; the bytes after it are a
 * baseline and a second feature set for the allow-list properties.
 */
#include "fuzz.h"

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/*
 * pcm_mode_parse() as pcm_model.h documents it, written independently: one
 * mode name, any case, '-' and '_' alike, trailing blanks or newlines
 * allowed, and at most PCM_NAME_MAX bytes in all.
 */
static int ref_mode_parse(const char *s, size_t len)
{
	unsigned int mode;
	size_t i, n;

	if (len > PCM_NAME_MAX)
		return -EINVAL;
	while (len && strchr(" \t\n", s[len - 1]))
		len--;
	for (mode = 0; mode < PCM_KVM_NR_MODES; mode++) {
		const char *name = pcm_mode_name(mode);

		n = strlen(name);
		if (n != len || !len)
			continue;
		for (i = 0; i < n; i++) {
			char a = lower(s[i]), b = name[i];

			if (a == '_')
				a = '-';
			if (b == '_')
				b = '-';
			if (a != b)
				break;
		}
		if (i == n)
			return mode;
	}
	return -EINVAL;
}

static void check_allow(unsigned int mode, const struct pcm_fs *base,
			const struct pcm_fs *more)
{
	struct pcm_fs allow, bigger, hw, nonhw, outside, wider;

	FUZZ_CHECK(pcm_mode_allow(mode, base, &allow) == 0);
	FUZZ_CHECK(fuzz_closed(&allow), "allow-list of %s not closed", pcm_mode_name(mode));
	if (mode == PCM_KVM_MODE_OFF) {
		FUZZ_CHECK(pcm_fs_all(&allow));
		return;
	}
	FUZZ_CHECK(!pcm_fs_all(&allow));
	/* A mode allows no bit outside the table: hardware it cannot name. */
	pcm_fs_known(&wider);
	FUZZ_CHECK(pcm_fs_subset(&allow, &wider));
	/* What baseline levels: HW features and not-affected bits (NO). */
	pcm_fs_of_class(&hw, PCM_CLASS_HW);
	pcm_fs_of_class(&outside, PCM_CLASS_NO);
	pcm_fs_or(&hw, &hw, &outside);
	pcm_fs_andnot(&nonhw, &wider, &hw);
	if (mode != PCM_KVM_MODE_BASELINE)
		return;
	/* Only the baseline's HW and NO features, besides the pass-through classes. */
	pcm_fs_or(&wider, base, &nonhw);
	pcm_fs_andnot(&outside, &allow, &wider);
	FUZZ_CHECK(pcm_fs_empty(&outside), "baseline allows features it does not list");
	/* A larger baseline never allows less. */
	pcm_fs_or(&wider, base, more);
	FUZZ_CHECK(pcm_mode_allow(mode, &wider, &bigger) == 0);
	FUZZ_CHECK(pcm_fs_subset(&allow, &bigger), "baseline allow-list not monotone");
	/* A closed baseline of HW and NO features comes back as it is. */
	pcm_fs_and(&wider, base, &hw);
	pcm_fs_or(&wider, &wider, &nonhw);
	pcm_fs_close(&wider);
	FUZZ_CHECK(pcm_fs_equal(&allow, &wider),
		   "baseline allow-list is not the closure of its HW and NO features");
}

/* pcm_fs_close(): a subset of its input, closed, and idempotent. */
static void check_close(const struct pcm_fs *fs)
{
	struct pcm_fs c = *fs, again;

	pcm_fs_close(&c);
	FUZZ_CHECK(pcm_fs_subset(&c, fs));
	again = c;
	pcm_fs_close(&again);
	FUZZ_CHECK(pcm_fs_equal(&again, &c));
}

/* pcm_fs_level(): the highest named level whose HW features fs all has. */
static void check_level(const struct pcm_fs *fs)
{
	unsigned int level = pcm_fs_level(fs), m;
	struct pcm_fs need, hw;

	FUZZ_CHECK(level == PCM_KVM_MODE_OFF ||
		   (level >= PCM_KVM_MODE_MIN && level <= PCM_KVM_MODE_X86_64_V4));
	pcm_fs_of_class(&hw, PCM_CLASS_HW);
	for (m = PCM_KVM_MODE_MIN; m <= PCM_KVM_MODE_X86_64_V4; m++) {
		pcm_mode_allow(m, NULL, &need);
		pcm_fs_and(&need, &need, &hw);
		/* OFF is 0 and the named levels follow it in order. */
		if (m <= level)
			FUZZ_CHECK(pcm_fs_subset(&need, fs), "level %u but lacks %s's",
				   level, pcm_mode_name(m));
		else if (m == level + 1)
			FUZZ_CHECK(!pcm_fs_subset(&need, fs), "level %u but has all of %s",
				   level, pcm_mode_name(m));
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	const char *s = (const char *)data;
	const u8 *nul = memchr(data, '\0', size);
	size_t len = nul ? (size_t)(nul - data) : size;
	const u8 *p = nul ? nul + 1 : data + size;
	size_t left = size - (p - data);
	struct pcm_fs base, more;
	unsigned int mode;
	int ret, ref;

	ret = pcm_mode_parse(s, len);
	ref = ref_mode_parse(s, len);
	FUZZ_CHECK(ret == ref, "'%.*s': pcm_mode_parse %d, documented rule %d",
		   (int)len, s, ret, ref);
	if (ret >= 0)
		FUZZ_CHECK(pcm_mode_parse(pcm_mode_name(ret),
					  strlen(pcm_mode_name(ret))) == ret);

	fuzz_take(&p, &left, &base, sizeof(base));
	fuzz_take(&p, &left, &more, sizeof(more));
	for (mode = 0; mode < PCM_KVM_NR_MODES; mode++)
		check_allow(mode, &base, &more);
	FUZZ_CHECK(pcm_mode_allow(PCM_KVM_NR_MODES + (ret & 0xff), &base, &more) == -EINVAL);
	FUZZ_CHECK(!strcmp(pcm_mode_name(PCM_KVM_NR_MODES + len), "?"));
	check_close(&base);
	check_level(&base);
	return 0;
}
