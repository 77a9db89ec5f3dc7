// SPDX-License-Identifier: GPL-2.0
/*
 * Decoding a raw CPUID dump: vendor, brand, signature, features, limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcmctl.h"
#include "cpuid_dump.h"
#include "dump.h"

/* The bytes of nregs registers of e, in the order given, little-endian. */
static void regs_str(const struct cpuid_leaf *e, const unsigned int *order,
		     unsigned int nregs, char *out)
{
	unsigned int i, b;

	for (i = 0; i < nregs; i++)
		for (b = 0; b < 4; b++)
			out[i * 4 + b] = (char)(e->regs[order[i]] >> (8 * b));
}

/* Printable, trimmed copy of a CPUID string. */
static void clean_str(char *s, size_t len)
{
	size_t i, start = 0, end;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			s[i] = s[i] ? '?' : ' ';
	end = len;
	while (end > 0 && s[end - 1] == ' ')
		end--;
	while (start < end && s[start] == ' ')
		start++;
	memmove(s, s + start, end - start);
	s[end - start] = '\0';
}

/*
 * Warn about feature words whose leaf the dump should hold (within the
 * maximum basic or extended leaf, the leaf 7 sub-leaf count, leaf 0xD
 * sub-leaf 1 when xsave is set) but does not: their features read as absent.
 */
static void check_missing_leaves(const struct cpuid_dump *d, const char *path,
				 const struct pcm_fs *fs)
{
	const struct cpuid_leaf *l0 = cpuid_dump_find(d, 0, 0);
	const struct cpuid_leaf *e0 = cpuid_dump_find(d, 0x80000000, 0);
	const struct cpuid_leaf *l7 = cpuid_dump_find(d, 7, 0);
	u32 last_leaf = 0, last_sub = ~0U;
	unsigned int w;

	for (w = 0; w < PCM_KVM_NR_WORDS_USED; w++) {
		u32 leaf = pcm_words[w].leaf, sub = pcm_words[w].subleaf;

		if (!pcm_word_is_cpuid(w) || (leaf == last_leaf && sub == last_sub))
			continue;
		last_leaf = leaf;
		last_sub = sub;
		if (leaf < 0x80000000 ? leaf > l0->regs[0] :
		    !e0 || leaf > e0->regs[0])
			continue;
		if (leaf == 7 && sub && (!l7 || sub > l7->regs[0]))
			continue;
		if (leaf == 0xd && sub == 1 && !pcm_fs_test(fs, PCM_F_XSAVE))
			continue;
		if (!cpuid_dump_find(d, leaf, sub))
			pr_err("warning: %s: no leaf 0x%08x sub-leaf 0x%02x although the maximum leaf includes it: its features read as absent (incomplete dump)",
			       path, (unsigned int)leaf, (unsigned int)sub);
	}
}

int dump_decode(const struct kv_text *t, struct dump_cpu *c)
{
	static const unsigned int vendor_order[] = { 1, 3, 2 };	/* EBX EDX ECX */
	static const unsigned int brand_order[] = { 0, 1, 2, 3 };
	const struct cpuid_leaf *l0, *l1, *e, *d0;
	struct cpuid_dump d;
	char msg[512];
	static const char nothing[] = "\n";
	size_t n, i;
	FILE *f;
	int ret;

	memset(c, 0, sizeof(*c));
	/* fmemopen() of 0 bytes fails: an empty dump reads as an empty line */
	f = t->len ? fmemopen(t->buf, t->len, "r") : fmemopen((void *)nothing, 1, "r");
	if (!f) {
		pr_err("%s: out of memory", t->name);
		return EXIT_OP;
	}
	ret = cpuid_dump_read(f, t->name, &d, msg, sizeof(msg));
	fclose(f);
	if (ret) {
		pr_err("%s", msg);
		return EXIT_OP;
	}
	l0 = cpuid_dump_find(&d, 0, 0);
	l1 = cpuid_dump_find(&d, 1, 0);
	if (!l0 || !l1) {
		pr_err("%s: no leaf 0x%08x: not a complete CPUID dump", t->name,
		       l0 ? 1 : 0);
		cpuid_dump_free(&d);
		return EXIT_OP;
	}

	regs_str(l0, vendor_order, ARRAY_SIZE(vendor_order), c->vendor);
	clean_str(c->vendor, 12);
	n = 0;
	for (i = 0; i < 3; i++) {
		const struct cpuid_leaf *b = cpuid_dump_find(&d, 0x80000002 + i, 0);

		if (!b)
			break;
		regs_str(b, brand_order, ARRAY_SIZE(brand_order), c->brand + n);
		n += 16;
	}
	clean_str(c->brand, n);

	c->signature = l1->regs[0];
	c->family = (c->signature >> 8) & 0xf;
	c->model = (c->signature >> 4) & 0xf;
	c->stepping = c->signature & 0xf;
	if (c->family == 0x6 || c->family == 0xf)
		c->model |= ((c->signature >> 16) & 0xf) << 4;
	if (c->family == 0xf)
		c->family += (c->signature >> 20) & 0xff;

	c->max_basic_leaf = l0->regs[0];
	e = cpuid_dump_find(&d, 0x80000000, 0);
	c->max_ext_leaf = e && e->regs[0] >= 0x80000000 ? e->regs[0] : 0;
	e = cpuid_dump_find(&d, 0x80000008, 0);
	if (e && c->max_ext_leaf >= 0x80000008)
		c->phys_bits = e->regs[0] & 0xff;

	pcm_fs_zero(&c->features);
	for (n = 0; n < d.n; n++)
		pcm_fs_add_regs(&c->features, d.e[n].leaf, d.e[n].subleaf, d.e[n].regs);
	check_missing_leaves(&d, t->name, &c->features);
	d0 = cpuid_dump_find(&d, 0xd, 0);
	if (d0 && c->max_basic_leaf >= 0xd)
		c->xcr0 = ((unsigned long long)d0->regs[3] << 32) | d0->regs[0];
	/*
	 * Intel sets SYSCALL in 0x80000001 EDX only when CPUID runs in 64-bit
	 * mode; a dump taken by a 32-bit program lacks it on a 64-bit CPU.
	 */
	c->no_syscall = pcm_fs_test(&c->features, PCM_F_LM) &&
			!pcm_fs_test(&c->features, PCM_F_SYSCALL);
	cpuid_dump_free(&d);
	return 0;
}
