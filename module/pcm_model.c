// SPDX-License-Identifier: GPL-2.0
/*
 * pcm_kvm feature model, generated from pcm_features.def.
 *
 * Plain C on purpose: the same file is compiled into the module, the KUnit
 * suite (UML), the selftests and pcmctl, so every consumer agrees on names,
 * masks and dependency closure.
 */
#include "pcm_model.h"

#define PCM_FEATURE(id, n, a, w, b, c, l)				\
	[PCM_F_##id] = { .name = n, .alias = a, .word = PCM_KVM_W_##w,	\
			 .bit = b, .cls = PCM_CLASS_##c, .level = PCM_LEVEL_##l },
const struct pcm_feature pcm_features[PCM_NR_FEATURES] = {
#include "pcm_features.def"
};

#define PCM_WORD(n, l, s, r) \
	[PCM_KVM_W_##n] = { .name = #n, .leaf = l, .subleaf = s, .reg = PCM_KVM_##r },
#define PCM_MSR_WORD(n, m, sh) \
	[PCM_KVM_W_##n] = { .name = #n, .msr = m, .shift = sh },
const struct pcm_word_desc pcm_words[PCM_KVM_NR_WORDS_USED] = {
#include "pcm_features.def"
};

/*
 * A set of CPUID leaves: one bit per basic leaf 0-63 and per extended leaf
 * 0x80000000-0x8000003f.  A leaf elsewhere sets other, which makes the set
 * answer yes for every leaf: callers use it as a filter, then look closer.
 * KVM_SET_CPUID2 looks at every entry of a VMM's table several times, and
 * most entries (caches, topology, XSAVE components, brand) hold no feature
 * word; the filter keeps those loops short.
 */
struct pcm_leafmap {
	u64 basic;
	u64 ext;
	bool other;
	u32 max_subleaf;	/* highest sub-leaf added (feature words) */
};

static u64 pcm_basic_bit(u32 leaf)
{
	return leaf < 64 ? 1ULL << leaf : 0;
}

static u64 pcm_ext_bit(u32 leaf)
{
	return leaf >= 0x80000000U && leaf < 0x80000040U ? 1ULL << (leaf & 63) : 0;
}

static void pcm_leafmap_add(struct pcm_leafmap *m, u32 leaf, u32 subleaf)
{
	m->basic |= pcm_basic_bit(leaf);
	m->ext |= pcm_ext_bit(leaf);
	m->other |= !pcm_basic_bit(leaf) && !pcm_ext_bit(leaf);
	if (subleaf > m->max_subleaf)
		m->max_subleaf = subleaf;
}

static bool pcm_leafmap_has(const struct pcm_leafmap *m, u32 leaf)
{
	if (m->other)
		return true;
	if (leaf < 64)
		return m->basic >> leaf & 1;
	if (leaf - 0x80000000U < 64)
		return m->ext >> (leaf - 0x80000000U) & 1;
	return false;
}

/* The leaves (and sub-leaves) that hold a feature word. */
static void pcm_leafmap_words(struct pcm_leafmap *m)
{
	unsigned int w;

	memset(m, 0, sizeof(*m));
	for (w = 0; w < PCM_KVM_NR_WORDS_USED; w++)
		if (pcm_word_is_cpuid(w))
			pcm_leafmap_add(m, pcm_words[w].leaf, pcm_words[w].subleaf);
}

static bool pcm_leaf_has_words(const struct pcm_leafmap *m, u32 leaf, u32 subleaf)
{
	return subleaf <= m->max_subleaf && pcm_leafmap_has(m, leaf);
}

struct pcm_dep {
	u16 id;
	u16 need;
};

#define PCM_DEPENDS(a, b) { PCM_F_##a, PCM_F_##b },
static const struct pcm_dep pcm_deps[] = {
#include "pcm_features.def"
};

struct pcm_owner {
	u32 key;	/* XSAVE component bit, or CPUID leaf */
	u16 id;
};

#define PCM_XCOMP(bit, f) { bit, PCM_F_##f },
static const struct pcm_owner pcm_xcomps[] = {
#include "pcm_features.def"
};

#define PCM_LEAF_OWNER(leaf, f) { leaf, PCM_F_##f },
static const struct pcm_owner pcm_leaf_owners[] = {
#include "pcm_features.def"
};

#define PCM_NOT_OFFERED(f) PCM_F_##f,
static const u16 pcm_not_offered[] = {
#include "pcm_features.def"
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * On AMD, CPUID 0x80000001 EDX repeats leaf 1 EDX bits 0-9, 12-17, 23, 24.
 * They carry no meaning of their own, so they follow their leaf 1 twins.
 */
#define PCM_AMD_MIRROR_8000_0001_EDX	0x0183f3ffU

static const char *const pcm_mode_names[PCM_KVM_NR_MODES] = {
	[PCM_KVM_MODE_OFF] = "off",
	[PCM_KVM_MODE_MIN] = "min",
	[PCM_KVM_MODE_X86_64_V2] = "x86-64-v2",
	[PCM_KVM_MODE_X86_64_V3] = "x86-64-v3",
	[PCM_KVM_MODE_X86_64_V4] = "x86-64-v4",
	[PCM_KVM_MODE_BASELINE] = "baseline",
};

static const u8 pcm_mode_level[PCM_KVM_NR_MODES] = {
	[PCM_KVM_MODE_MIN] = PCM_LEVEL_MIN,
	[PCM_KVM_MODE_X86_64_V2] = PCM_LEVEL_V2,
	[PCM_KVM_MODE_X86_64_V3] = PCM_LEVEL_V3,
	[PCM_KVM_MODE_X86_64_V4] = PCM_LEVEL_V4,
};

void pcm_fs_zero(struct pcm_fs *fs)
{
	memset(fs, 0, sizeof(*fs));
}

void pcm_fs_and(struct pcm_fs *dst, const struct pcm_fs *a, const struct pcm_fs *b)
{
	unsigned int i;

	for (i = 0; i < PCM_KVM_NWORDS; i++)
		dst->words[i] = a->words[i] & b->words[i];
}

void pcm_fs_or(struct pcm_fs *dst, const struct pcm_fs *a, const struct pcm_fs *b)
{
	unsigned int i;

	for (i = 0; i < PCM_KVM_NWORDS; i++)
		dst->words[i] = a->words[i] | b->words[i];
}

void pcm_fs_andnot(struct pcm_fs *dst, const struct pcm_fs *a, const struct pcm_fs *b)
{
	unsigned int i;

	for (i = 0; i < PCM_KVM_NWORDS; i++)
		dst->words[i] = a->words[i] & ~b->words[i];
}

bool pcm_fs_equal(const struct pcm_fs *a, const struct pcm_fs *b)
{
	return !memcmp(a, b, sizeof(*a));
}

bool pcm_fs_empty(const struct pcm_fs *fs)
{
	unsigned int i;

	for (i = 0; i < PCM_KVM_NWORDS; i++)
		if (fs->words[i])
			return false;
	return true;
}

bool pcm_fs_all(const struct pcm_fs *fs)
{
	unsigned int i;

	for (i = 0; i < PCM_KVM_NWORDS; i++)
		if (fs->words[i] != 0xffffffffU)
			return false;
	return true;
}

bool pcm_fs_subset(const struct pcm_fs *a, const struct pcm_fs *b)
{
	unsigned int i;

	for (i = 0; i < PCM_KVM_NWORDS; i++)
		if (a->words[i] & ~b->words[i])
			return false;
	return true;
}

unsigned int pcm_fs_count(const struct pcm_fs *fs)
{
	unsigned int id, n = 0;

	for (id = 0; id < PCM_NR_FEATURES; id++)
		n += pcm_fs_test(fs, id);
	return n;
}

/*
 * Computed once: KVM_SET_CPUID2 needs it several times.  The first caller
 * to claim the cache fills it; concurrent first callers compute their own.
 */
void pcm_fs_known(struct pcm_fs *fs)
{
	static struct pcm_fs cache;
	static int state;		/* 0 empty, 1 being filled, 2 filled */
	unsigned int id;

	/* Acquire: pairs with the release below, cache is complete. */
	if (pcm_load_acquire(&state) == 2) {
		*fs = cache;
		return;
	}
	pcm_fs_zero(fs);
	for (id = 0; id < PCM_NR_FEATURES; id++)
		pcm_fs_set(fs, id);
	if (pcm_cmpxchg(&state, 0, 1) == 0) {
		cache = *fs;
		/* Release: the cache is written before it is announced. */
		pcm_store_release(&state, 2);
	}
}

void pcm_fs_kvm_offers(struct pcm_fs *fs)
{
	unsigned int i;

	pcm_fs_known(fs);
	for (i = 0; i < ARRAY_LEN(pcm_not_offered); i++)
		pcm_fs_clear(fs, pcm_not_offered[i]);
}

static void pcm_fs_of_class_slow(struct pcm_fs *fs, enum pcm_class cls)
{
	unsigned int id;

	pcm_fs_zero(fs);
	for (id = 0; id < PCM_NR_FEATURES; id++)
		if (pcm_features[id].cls == cls)
			pcm_fs_set(fs, id);
}

/* Computed once, as pcm_fs_known(): pools ask for them per host. */
void pcm_fs_of_class(struct pcm_fs *fs, enum pcm_class cls)
{
	static struct pcm_fs cache[PCM_NR_CLASSES];
	static int state;		/* 0 empty, 1 being filled, 2 filled */
	unsigned int c;

	if (pcm_load_acquire(&state) == 2 && cls < PCM_NR_CLASSES) {
		*fs = cache[cls];
		return;
	}
	pcm_fs_of_class_slow(fs, cls);
	if (pcm_cmpxchg(&state, 0, 1) == 0) {
		for (c = 0; c < PCM_NR_CLASSES; c++)
			pcm_fs_of_class_slow(&cache[c], c);
		pcm_store_release(&state, 2);
	}
}

void pcm_fs_checked(struct pcm_fs *fs)
{
	struct pcm_fs spec;

	pcm_fs_of_class(fs, PCM_CLASS_HW);
	pcm_fs_of_class(&spec, PCM_CLASS_SPEC);
	pcm_fs_or(fs, fs, &spec);
	pcm_fs_of_class(&spec, PCM_CLASS_NO);
	pcm_fs_or(fs, fs, &spec);
}

/*
 * One pass: pcm_features.def lists what a feature needs before the feature
 * needs it (KUnit's t_table_deps_order), so whether a needed feature stays
 * is settled by the time a dependency on it is looked at.
 */
void pcm_fs_close(struct pcm_fs *fs)
{
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(pcm_deps); i++)
		if (pcm_fs_test(fs, pcm_deps[i].id) &&
		    !pcm_fs_test(fs, pcm_deps[i].need))
			pcm_fs_clear(fs, pcm_deps[i].id);
}

static char pcm_norm(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 'a';
	if (c == '-')
		return '_';
	return c;
}

static bool pcm_name_eq(const char *name, const char *s, size_t len)
{
	size_t i;

	if (!name)
		return false;
	for (i = 0; i < len; i++)
		if (!name[i] || pcm_norm(name[i]) != pcm_norm(s[i]))
			return false;
	return !name[len];
}

/*
 * Every name and alias in an open-addressing hash table of the normalised
 * spelling: pcmctl reads 10,000 profiles of a hundred names each.  One
 * slot per distinct spelling, the lowest id's, as the table search finds.
 */
#define PCM_NAME_SLOTS	1024U	/* a power of two, over twice the names */
static_assert(2 * PCM_NR_FEATURES < PCM_NAME_SLOTS, "the name table would fill up");

struct pcm_name_slot {
	const char *name;	/* NULL: empty */
	u16 id;
};

static struct pcm_name_slot pcm_name_slots[PCM_NAME_SLOTS];
/*
 * The first byte of the id's name, 0 unless its own name finds the id (no
 * earlier alias spells it), and its length: one load each per candidate.
 */
static char pcm_name_first[PCM_NR_FEATURES];
static u8 pcm_name_len[PCM_NR_FEATURES];
static int pcm_names_state;		/* 0 empty, 1 being built, 2 built */

static u32 pcm_name_hash(const char *s, size_t len)
{
	u32 h = 2166136261U;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)pcm_norm(s[i])) * 16777619U;
	return h;
}

/* The slot of s, or the empty slot where it would go. */
static struct pcm_name_slot *pcm_name_find(const char *s, size_t len)
{
	u32 i = pcm_name_hash(s, len);
	struct pcm_name_slot *slot;

	for (;; i++) {
		slot = &pcm_name_slots[i & (PCM_NAME_SLOTS - 1)];
		if (!slot->name || pcm_name_eq(slot->name, s, len))
			return slot;
	}
}

static void pcm_names_build(void)
{
	struct pcm_name_slot *slot;
	const char *name;
	unsigned int id;

	for (id = 0; id < PCM_NR_FEATURES; id++) {
		for (name = pcm_features[id].name; name;
		     name = name == pcm_features[id].name ? pcm_features[id].alias : NULL) {
			slot = pcm_name_find(name, strlen(name));
			if (!slot->name) {
				slot->name = name;
				slot->id = id;
			}
		}
	}
	for (id = 0; id < PCM_NR_FEATURES; id++) {
		name = pcm_features[id].name;
		pcm_name_len[id] = strlen(name);
		if (pcm_name_find(name, pcm_name_len[id])->id == id)
			pcm_name_first[id] = name[0];
	}
}

/* The name table, built by the first caller; false while another builds it. */
static bool pcm_names_ready(void)
{
	/* Acquire: pairs with the release below, the table is complete. */
	if (pcm_load_acquire(&pcm_names_state) != 2 &&
	    pcm_cmpxchg(&pcm_names_state, 0, 1) == 0) {
		pcm_names_build();
		pcm_store_release(&pcm_names_state, 2);
	}
	return pcm_load_acquire(&pcm_names_state) == 2;
}

/*
 * The first feature (in table order) whose name or alias is s.  ready: the
 * name table is built.
 */
static int pcm_feature_find(const char *s, size_t len, bool ready)
{
	const struct pcm_name_slot *slot;
	unsigned int id;

	if (!len || len > PCM_NAME_MAX)
		return -1;
	if (ready) {
		slot = pcm_name_find(s, len);
		return slot->name ? slot->id : -1;
	}
	/* another caller is building the table */
	for (id = 0; id < PCM_NR_FEATURES; id++)
		if (pcm_name_eq(pcm_features[id].name, s, len) ||
		    pcm_name_eq(pcm_features[id].alias, s, len))
			return id;
	return -1;
}

int pcm_feature_lookup(const char *s, size_t len)
{
	return pcm_feature_find(s, len, pcm_names_ready());
}

static bool pcm_is_sep(char c)
{
	/* every separator is at most ',': one test for the letters of a name */
	return (unsigned char)c <= ',' &&
	       (c == ' ' || c == '\t' || c == '\n' || c == ',');
}

/* memcmp(a, b, n) == 0 for the few bytes of a name, without a call */
static bool pcm_same(const char *a, const char *b, size_t n)
{
	while (n && *a == *b) {
		a++;
		b++;
		n--;
	}
	return !n;
}

/*
 * How far past the previous name a list's next name is looked for in table
 * order: a host has about one feature in three.
 */
#define PCM_HINT_SPAN	32U

/*
 * A list pcmctl or the module wrote names features in table order, as
 * their own names: the name at p[0..end) of a feature from hint on (where
 * the previous one was found), matched in place without cutting the word
 * out first.  Its length, 0 if none (pcm_feature_find() then decides).
 */
static size_t pcm_match_in_order(const char *p, const char *end, unsigned int hint,
				 int *idp)
{
	size_t room = end - p, len;
	unsigned int id;

	for (id = hint; id < hint + PCM_HINT_SPAN && id < PCM_NR_FEATURES; id++) {
		if (pcm_name_first[id] != *p)
			continue;
		len = pcm_name_len[id];
		if (len > room || !pcm_same(pcm_features[id].name + 1, p + 1, len - 1) ||
		    (len < room && !pcm_is_sep(p[len])))
			continue;
		*idp = id;
		return len;
	}
	return 0;
}

int pcm_fs_parse(const char *s, size_t len, struct pcm_fs *fs,
		 const char **bad, size_t *badlen)
{
	const char *p = s, *end = s + len, *word;
	bool ready = pcm_names_ready();
	struct pcm_fs out;
	bool any = false;
	int id = -1;
	size_t n;

	pcm_fs_zero(&out);
	for (;;) {
		while (p < end && pcm_is_sep(*p))
			p++;
		if (p == end)
			break;
		n = ready ? pcm_match_in_order(p, end, id + 1, &id) : 0;
		if (n) {
			p += n;
		} else {
			word = p;
			while (p < end && !pcm_is_sep(*p))
				p++;
			id = pcm_feature_find(word, p - word, ready);
			if (id < 0) {
				if (bad)
					*bad = word;
				if (badlen)
					*badlen = p - word;
				return -EINVAL;
			}
		}
		pcm_fs_set(&out, id);
		any = true;
	}
	if (!any)
		return -ENODATA;
	*fs = out;
	return 0;
}

size_t pcm_fs_format(const struct pcm_fs *fs, char *buf, size_t size)
{
	size_t pos = 0, n;
	unsigned int id;

	if (!size)
		return 0;
	for (id = 0; id < PCM_NR_FEATURES; id++) {
		if (!pcm_fs_test(fs, id))
			continue;
		n = strlen(pcm_features[id].name);
		if (pos + !!pos + n >= size)
			break;
		if (pos)
			buf[pos++] = ' ';
		memcpy(buf + pos, pcm_features[id].name, n);
		pos += n;
	}
	buf[pos] = '\0';
	return pos;
}

const char *pcm_mode_name(unsigned int mode)
{
	return mode < PCM_KVM_NR_MODES ? pcm_mode_names[mode] : "?";
}

int pcm_mode_parse(const char *s, size_t len)
{
	unsigned int mode;

	/* Padding is no mode name either: refuse what cannot be one. */
	if (len > PCM_NAME_MAX)
		return -EINVAL;
	while (len && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	for (mode = 0; mode < PCM_KVM_NR_MODES; mode++)
		if (len && pcm_name_eq(pcm_mode_names[mode], s, len))
			return mode;
	return -EINVAL;
}

int pcm_mode_allow(unsigned int mode, const struct pcm_fs *baseline,
		   struct pcm_fs *allow)
{
	unsigned int id;

	if (mode >= PCM_KVM_NR_MODES)
		return -EINVAL;
	if (mode == PCM_KVM_MODE_OFF) {
		memset(allow, 0xff, sizeof(*allow));
		return 0;
	}

	pcm_fs_zero(allow);
	for (id = 0; id < PCM_NR_FEATURES; id++) {
		const struct pcm_feature *f = &pcm_features[id];
		bool ok;

		/*
		 * A pool shows a not-affected bit only if every host has it:
		 * hiding one only makes the guest apply a mitigation.
		 */
		if (f->cls == PCM_CLASS_NO && mode == PCM_KVM_MODE_BASELINE)
			ok = baseline && pcm_fs_test(baseline, id);
		else if (f->cls != PCM_CLASS_HW)
			ok = true;
		else if (mode == PCM_KVM_MODE_BASELINE)
			ok = baseline && pcm_fs_test(baseline, id);
		else
			ok = f->level != PCM_LEVEL_NONE &&
			     f->level <= pcm_mode_level[mode];
		if (ok)
			pcm_fs_set(allow, id);
	}
	pcm_fs_close(allow);
	return 0;
}

/* The HW features named level mode needs. */
static void pcm_level_need(unsigned int mode, struct pcm_fs *need)
{
	struct pcm_fs hw;

	pcm_fs_of_class(&hw, PCM_CLASS_HW);
	pcm_mode_allow(mode, NULL, need);
	pcm_fs_and(need, need, &hw);
}

unsigned int pcm_fs_level(const struct pcm_fs *fs)
{
	static struct pcm_fs cache[PCM_KVM_MODE_X86_64_V4 + 1];
	static int state;		/* 0 empty, 1 being filled, 2 filled */
	unsigned int mode, best = PCM_KVM_MODE_OFF;
	struct pcm_fs need;
	bool cached;

	/* computed once, as pcm_fs_known(): pcmctl asks per host */
	if (pcm_load_acquire(&state) != 2 && pcm_cmpxchg(&state, 0, 1) == 0) {
		for (mode = PCM_KVM_MODE_MIN; mode <= PCM_KVM_MODE_X86_64_V4; mode++)
			pcm_level_need(mode, &cache[mode]);
		pcm_store_release(&state, 2);
	}
	cached = pcm_load_acquire(&state) == 2;
	for (mode = PCM_KVM_MODE_MIN; mode <= PCM_KVM_MODE_X86_64_V4; mode++) {
		if (cached)
			need = cache[mode];
		else
			pcm_level_need(mode, &need);
		if (!pcm_fs_subset(&need, fs))
			break;
		best = mode;
	}
	return best;
}

/* OR one CPUID result into fs, every bit of its words, known or not. */
static void pcm_fs_add_raw(struct pcm_fs *fs, u32 leaf, u32 subleaf,
			   const u32 regs[4])
{
	unsigned int w;

	for (w = 0; w < PCM_KVM_NR_WORDS_USED; w++)
		if (pcm_word_is_cpuid(w) && pcm_words[w].leaf == leaf &&
		    pcm_words[w].subleaf == subleaf)
			fs->words[w] |= regs[pcm_words[w].reg];
}

void pcm_fs_add_regs(struct pcm_fs *fs, u32 leaf, u32 subleaf, const u32 regs[4])
{
	struct pcm_fs one, known;

	pcm_fs_zero(&one);
	pcm_fs_add_raw(&one, leaf, subleaf, regs);
	pcm_fs_known(&known);
	pcm_fs_and(&one, &one, &known);
	pcm_fs_or(fs, fs, &one);
}

void pcm_fs_from_entries(const struct kvm_cpuid_entry2 *e, unsigned int nent,
			 struct pcm_fs *fs)
{
	struct pcm_leafmap m;
	struct pcm_fs known;
	unsigned int i;

	pcm_leafmap_words(&m);
	pcm_fs_zero(fs);
	for (i = 0; i < nent; i++) {
		u32 regs[4] = { e[i].eax, e[i].ebx, e[i].ecx, e[i].edx };

		if (pcm_leaf_has_words(&m, e[i].function, e[i].index))
			pcm_fs_add_raw(fs, e[i].function, e[i].index, regs);
	}
	/* The table's bits only; computed once, not per entry. */
	pcm_fs_known(&known);
	pcm_fs_and(fs, fs, &known);
}

void pcm_fs_put_arch_cap(struct pcm_fs *fs, u64 v)
{
	struct pcm_fs known;

	pcm_fs_known(&known);
	if (!pcm_fs_test(fs, PCM_F_ARCH_CAPABILITIES))
		v = 0;
	pcm_fs_set_arch_cap(fs, v & pcm_fs_arch_cap(&known));
}

u64 pcm_xcomp_allowed(const struct pcm_fs *allow)
{
	u64 comps = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(pcm_xcomps); i++)
		if (pcm_fs_test(allow, pcm_xcomps[i].id))
			comps |= 1ULL << pcm_xcomps[i].key;
	return comps;
}

u64 pcm_xcr0_visible(u64 xcr0, const struct pcm_fs *features)
{
	/* Leaf 0xD is emptied with xsave (PCM_LEAF_OWNER), SSE bit included. */
	if (!pcm_fs_test(features, PCM_F_XSAVE))
		return 0;
	return xcr0 & pcm_xcomp_allowed(features);
}

static bool pcm_leaf_hidden(u32 leaf, const struct pcm_fs *allow)
{
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(pcm_leaf_owners); i++)
		if (pcm_leaf_owners[i].key == leaf &&
		    !pcm_fs_test(allow, pcm_leaf_owners[i].id))
			return true;
	return false;
}

/* The leaves an allow-list empties: their owner is not allowed. */
static void pcm_leafmap_hidden(struct pcm_leafmap *m, const struct pcm_fs *allow)
{
	unsigned int i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < ARRAY_LEN(pcm_leaf_owners); i++)
		if (!pcm_fs_test(allow, pcm_leaf_owners[i].id))
			pcm_leafmap_add(m, pcm_leaf_owners[i].key, 0);
}

/*
 * pcm_mask_regs() for a table: allow is not all, comps its components,
 * hidden whether the leaf's owner is hidden, m the leaves with words (NULL:
 * look at every word).  The words of the result are OR-ed into seen, if not
 * NULL.
 */
static bool pcm_mask_one(u32 leaf, u32 subleaf, u32 regs[4],
			 const struct pcm_fs *allow, u64 comps, bool hidden,
			 const struct pcm_leafmap *m, struct pcm_fs *seen)
{
	u32 old[4] = { regs[0], regs[1], regs[2], regs[3] };
	unsigned int w;

	if (hidden) {
		memset(regs, 0, 4 * sizeof(u32));
		goto out;
	}

	switch (leaf) {
	case 0x7:
		/*
		 * Sub-leaf 1 EBX/ECX, 2 EAX..ECX and sub-leaves 3+ hold no
		 * allowed bit; 2 EDX is a word (speculation controls).
		 */
		if (subleaf == 1) {
			regs[PCM_KVM_EBX] = 0;
			regs[PCM_KVM_ECX] = 0;
		} else if (subleaf == 2) {
			regs[PCM_KVM_EAX] = 0;
			regs[PCM_KVM_EBX] = 0;
			regs[PCM_KVM_ECX] = 0;
		} else if (subleaf >= 3) {
			memset(regs, 0, 4 * sizeof(u32));
		}
		break;
	case 0xd:
		if (subleaf == 0) {
			regs[PCM_KVM_EAX] &= (u32)comps;
			regs[PCM_KVM_EDX] &= (u32)(comps >> 32);
		} else if (subleaf == 1) {
			regs[PCM_KVM_ECX] &= (u32)comps;
			regs[PCM_KVM_EDX] &= (u32)(comps >> 32);
		} else if (subleaf < 64 && !(comps & (1ULL << subleaf))) {
			memset(regs, 0, 4 * sizeof(u32));
		}
		break;
	}

	/* Last, so that the words are final when seen takes them. */
	if (m && !pcm_leaf_has_words(m, leaf, subleaf))
		goto out;
	for (w = 0; w < PCM_KVM_NR_WORDS_USED; w++) {
		u32 keep = allow->words[w];

		if (!pcm_word_is_cpuid(w) || pcm_words[w].leaf != leaf ||
		    pcm_words[w].subleaf != subleaf)
			continue;
		if (w == PCM_KVM_W_8000_0001_EDX)
			keep |= allow->words[PCM_KVM_W_1_EDX] &
				PCM_AMD_MIRROR_8000_0001_EDX;
		regs[pcm_words[w].reg] &= keep;
		if (seen)
			seen->words[w] |= regs[pcm_words[w].reg];
	}
out:
	return memcmp(old, regs, sizeof(old)) != 0;
}

/* KVM's kvm_find_cpuid_entry_index(); any = an entry of leaf, index aside. */
static const struct kvm_cpuid_entry2 *
pcm_cpuid_entry(const struct kvm_cpuid_entry2 *e, unsigned int nent, u32 leaf,
		u32 subleaf, bool any)
{
	unsigned int i;

	for (i = 0; i < nent; i++)
		if (e[i].function == leaf &&
		    (any || !(e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     e[i].index == subleaf))
			return &e[i];
	return NULL;
}

u32 pcm_cpuid_answering_leaf(const struct kvm_cpuid_entry2 *e, unsigned int nent,
			     u32 leaf, u32 subleaf)
{
	const struct kvm_cpuid_entry2 *basic, *class;

	if (pcm_cpuid_entry(e, nent, leaf, subleaf, false))
		return leaf;
	basic = pcm_cpuid_entry(e, nent, 0, 0, true);
	if (!basic)
		return leaf;
	/* "AuthenticAMD", "HygonGenuine": out of range reads as zeros. */
	if ((basic->ebx == 0x68747541 && basic->ecx == 0x444d4163 &&
	     basic->edx == 0x69746e65) ||
	    (basic->ebx == 0x6f677948 && basic->ecx == 0x656e6975 &&
	     basic->edx == 0x6e65476e))
		return leaf;
	if (leaf >= 0x40000000 && leaf <= 0x4fffffff)
		class = pcm_cpuid_entry(e, nent, leaf & 0xffffff00, 0, true);
	else if (leaf >= 0xc0000000)
		class = pcm_cpuid_entry(e, nent, 0xc0000000, 0, true);
	else
		class = pcm_cpuid_entry(e, nent, leaf & 0x80000000, 0, true);
	if (class && leaf <= class->eax)
		return leaf;
	return basic->eax;
}

u32 pcm_cpuid_absent_leaf(const struct kvm_cpuid_entry2 *e, unsigned int nent)
{
	u32 leaf = 0x8fffffff;

	/* nent entries cannot hold nent + 1 leaves: this ends by then. */
	while (pcm_cpuid_entry(e, nent, leaf, 0, true))
		leaf--;
	return leaf;
}

bool pcm_mask_regs(u32 leaf, u32 subleaf, u32 regs[4], const struct pcm_fs *allow)
{
	/* Mode "off": nothing to hide, not even bits outside the table. */
	if (pcm_fs_all(allow))
		return false;
	/* The guest's CPUID exit when masked late: only leaf 0xD uses comps. */
	return pcm_mask_one(leaf, subleaf, regs, allow,
			    leaf == 0xd ? pcm_xcomp_allowed(allow) : 0,
			    pcm_leaf_hidden(leaf, allow), NULL, NULL);
}

static struct kvm_cpuid_entry2 *pcm_find(struct kvm_cpuid_entry2 *e,
					 unsigned int nent, u32 leaf, u32 subleaf)
{
	unsigned int i;

	for (i = 0; i < nent; i++)
		if (e[i].function == leaf && e[i].index == subleaf)
			return &e[i];
	return NULL;
}

/* Returns true if it changed a feature word (7.1 EAX). */
static bool pcm_fix_leaf7_max(struct kvm_cpuid_entry2 *e, unsigned int nent)
{
	struct kvm_cpuid_entry2 *l7 = pcm_find(e, nent, 7, 0), *s;
	bool word_changed = false;
	u32 max = 0, i;

	if (!l7)
		return false;
	/*
	 * The highest sub-leaf up to the VMM's maximum that still holds a
	 * bit.  Walk the entries, not the numbers up to that maximum: it is
	 * the VMM's EAX, up to 0xffffffff, and this runs in atomic context.
	 */
	for (i = 0; i < nent; i++) {
		s = &e[i];
		if (s->function == 7 && s->index > max && s->index <= l7->eax &&
		    (s->eax | s->ebx | s->ecx | s->edx) &&
		    pcm_find(e, nent, 7, s->index) == s)
			max = s->index;
	}
	l7->eax = max;
	for (i = max + 1; i <= 2; i++) {
		s = pcm_find(e, nent, 7, i);
		if (!s)
			continue;
		word_changed |= i == 1 && s->eax;
		s->eax = 0;
	}
	return word_changed;
}

/* 0xD.0 ECX: the XSAVE area size for every component the guest may enable. */
static void pcm_fix_xsave_size(struct kvm_cpuid_entry2 *e, unsigned int nent)
{
	struct kvm_cpuid_entry2 *d0 = pcm_find(e, nent, 0xd, 0), *c;
	u64 xcr0;
	u32 size = 512 + 64, end;
	unsigned int i;

	if (!d0 || !d0->ecx)
		return;
	xcr0 = d0->eax | ((u64)d0->edx << 32);
	for (i = 2; i < 64; i++) {
		if (!(xcr0 & (1ULL << i)))
			continue;
		c = pcm_find(e, nent, 0xd, i);
		if (!c)
			continue;
		end = c->eax + c->ebx;
		if (end > size)
			size = end;
	}
	if (size < d0->ecx)
		d0->ecx = size;
}

bool pcm_mask_entries(struct kvm_cpuid_entry2 *e, unsigned int nent,
		      const struct pcm_fs *allow)
{
	struct pcm_fs have;

	if (pcm_fs_all(allow))
		return false;
	pcm_fs_from_entries(e, nent, &have);
	return pcm_mask_entries_have(e, nent, allow, &have, NULL);
}

void pcm_mask_effective(const struct pcm_fs *allow, const struct pcm_fs *have,
			struct pcm_fs *eff)
{
	struct pcm_fs known;
	unsigned int i;

	/*
	 * Close what the VMM asked for, not just the allow-list: a VMM that
	 * sets avx without xsave must not leave avx visible.
	 */
	pcm_fs_and(eff, have, allow);
	pcm_fs_close(eff);
	/* Bits outside the table stay as the allow-list says. */
	pcm_fs_known(&known);
	for (i = 0; i < PCM_KVM_NWORDS; i++)
		eff->words[i] |= allow->words[i] & ~known.words[i];
}

bool pcm_mask_entries_have(struct kvm_cpuid_entry2 *e, unsigned int nent,
			   const struct pcm_fs *allow, const struct pcm_fs *have,
			   struct pcm_fs *seen)
{
	struct pcm_leafmap words, hidden, visit;
	struct pcm_fs eff, known;
	bool changed = false;
	unsigned int i;
	u64 comps;

	if (pcm_fs_all(allow)) {
		/* Nothing changes: the result's features are the table's. */
		if (seen)
			*seen = *have;
		return false;
	}
	pcm_mask_effective(allow, have, &eff);

	/* allow is not all, so neither is eff: pcm_mask_one() needs no check. */
	comps = pcm_xcomp_allowed(&eff);
	pcm_leafmap_words(&words);
	pcm_leafmap_hidden(&hidden, &eff);
	/* Leaves with no word, no hidden owner and no derived field stay. */
	visit = words;
	pcm_leafmap_add(&visit, 0x7, 0);
	pcm_leafmap_add(&visit, 0xd, 0);
	visit.basic |= hidden.basic;
	visit.ext |= hidden.ext;
	visit.other |= hidden.other;
	if (seen)
		pcm_fs_zero(seen);
	for (i = 0; i < nent; i++) {
		u32 leaf = e[i].function, regs[4];
		bool hide;

		if (!pcm_leafmap_has(&visit, leaf))
			continue;
		/* The map may only say "maybe" (other): then ask the table. */
		hide = pcm_leafmap_has(&hidden, leaf) &&
		       (!hidden.other || pcm_leaf_hidden(leaf, &eff));
		regs[0] = e[i].eax;
		regs[1] = e[i].ebx;
		regs[2] = e[i].ecx;
		regs[3] = e[i].edx;
		/* seen: pcm_fs_from_entries() of the result, in the same pass */
		if (!pcm_mask_one(leaf, e[i].index, regs, &eff, comps, hide,
				  &words, seen))
			continue;
		e[i].eax = regs[0];
		e[i].ebx = regs[1];
		e[i].ecx = regs[2];
		e[i].edx = regs[3];
		changed = true;
	}
	if (seen) {
		pcm_fs_known(&known);
		pcm_fs_and(seen, seen, &known);
	}
	if (changed) {
		if (pcm_fix_leaf7_max(e, nent) && seen)
			pcm_fs_from_entries(e, nent, seen);
		pcm_fix_xsave_size(e, nent);
	}
	return changed;
}
