// SPDX-License-Identifier: GPL-2.0
/*
 * Pool and check logic.  Linear in the hosts: each host's closed features
 * are computed once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcmctl.h"
#include "pool.h"

void pool_host_hw(const struct profile *p, struct pcm_fs *hw)
{
	struct pcm_fs mask, no;

	*hw = p->features;
	pcm_fs_close(hw);
	pcm_fs_of_class(&mask, PCM_CLASS_HW);
	pcm_fs_of_class(&no, PCM_CLASS_NO);
	pcm_fs_or(&mask, &mask, &no);
	pcm_fs_and(hw, hw, &mask);
}

void pool_compute(const struct profile *h, size_t n, struct pool *pl, struct pcm_fs *hwv)
{
	struct pcm_fs hw, scrub, inv, t;
	size_t i;

	memset(pl, 0, sizeof(*pl));
	pl->msrs_known = true;
	pcm_fs_of_class(&scrub, PCM_CLASS_SCRUB);
	pcm_fs_of_class(&inv, PCM_CLASS_INV);
	for (i = 0; i < n; i++) {
		pl->msrs_known &= h[i].msrs_known;
		pool_host_hw(&h[i], &hw);
		if (hwv)
			hwv[i] = hw;
		pcm_fs_and(&t, &h[i].features, &scrub);
		pcm_fs_or(&pl->scrub, &pl->scrub, &t);
		pcm_fs_and(&t, &h[i].features, &inv);
		pcm_fs_or(&pl->inv, &pl->inv, &t);
		if (!i) {
			pl->hw = hw;
			pl->max_basic_leaf = h[i].max_basic_leaf;
			pl->max_ext_leaf = h[i].max_ext_leaf;
			pl->phys_bits = h[i].phys_bits;
			pl->xcr0 = h[i].xcr0;
			continue;
		}
		pcm_fs_and(&pl->hw, &pl->hw, &hw);
		if (h[i].max_basic_leaf < pl->max_basic_leaf)
			pl->max_basic_leaf = h[i].max_basic_leaf;
		if (h[i].max_ext_leaf < pl->max_ext_leaf)
			pl->max_ext_leaf = h[i].max_ext_leaf;
		if (h[i].phys_bits < pl->phys_bits)
			pl->phys_bits = h[i].phys_bits;
		pl->xcr0 &= h[i].xcr0;
	}
	/* an intersection of closed sets is closed: no pcm_fs_close() */
}

/*
 * A pool has one vendor or a few: tallying each distinct one is linear in
 * practice.  The tallies follow the first few inline, then the heap.
 */
size_t pool_main_vendor(const struct profile *h, size_t n, size_t *count)
{
	size_t inl_first[8], inl_cnt[8], *first = inl_first, *cnt = inl_cnt;
	size_t cap = ARRAY_SIZE(inl_first), nv = 0, i, v, best = 0, ret;

	for (i = 0; i < n; i++) {
		for (v = 0; v < nv; v++)
			if (!strcmp(h[first[v]].vendor, h[i].vendor))
				break;
		if (v == nv && nv == cap) {
			size_t *nf = malloc(2 * cap * sizeof(*nf));
			size_t *nc = malloc(2 * cap * sizeof(*nc));

			if (!nf || !nc) {
				pr_err("out of memory");
				exit(EXIT_OP);
			}
			memcpy(nf, first, nv * sizeof(*nf));
			memcpy(nc, cnt, nv * sizeof(*nc));
			if (first != inl_first) {
				free(first);
				free(cnt);
			}
			first = nf;
			cnt = nc;
			cap *= 2;
		}
		if (v == nv) {
			first[nv] = i;
			cnt[nv++] = 0;
		}
		cnt[v]++;
	}
	for (v = 1; v < nv; v++)
		if (cnt[v] > cnt[best])
			best = v;
	*count = nv ? cnt[best] : 0;
	ret = nv ? first[best] : 0;
	if (first != inl_first) {
		free(first);
		free(cnt);
	}
	return ret;
}

static u32 name_hash(const char *s)
{
	u32 h = 2166136261U;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619U;
	return h;
}

bool pool_duplicate(const struct profile *h, size_t n, size_t *a, size_t *b)
{
	size_t slots = 2, i, k, *slot;

	while (slots < 2 * n)
		slots *= 2;
	slot = calloc(slots, sizeof(*slot));	/* host index + 1; 0: empty */
	if (!slot) {
		/* quadratic, but right */
		for (*b = 1; *b < n; (*b)++)
			for (*a = 0; *a < *b; (*a)++)
				if (!strcmp(h[*a].name, h[*b].name))
					return true;
		return false;
	}
	/* the host given twice first: the pair whose second comes earliest */
	for (i = 0; i < n; i++) {
		for (k = name_hash(h[i].name) & (slots - 1);
		     slot[k] && strcmp(h[slot[k] - 1].name, h[i].name);
		     k = (k + 1) & (slots - 1))
			;
		if (slot[k]) {
			*a = slot[k] - 1;
			*b = i;
			free(slot);
			return true;
		}
		slot[k] = i + 1;
	}
	free(slot);
	return false;
}

void pool_explain(const struct pcm_fs *hw, size_t n, const struct pool *pl,
		  struct pool_explain *ex)
{
	struct pcm_fs any;
	unsigned int id;
	size_t i;

	memset(ex, 0, sizeof(*ex));
	pcm_fs_zero(&any);
	for (i = 0; i < n; i++)
		pcm_fs_or(&any, &any, &hw[i]);
	pcm_fs_andnot(&ex->held_back, &any, &pl->hw);
	for (i = 0; i < n; i++) {
		for (id = 0; id < PCM_NR_FEATURES; id++) {
			if (!pcm_fs_test(&ex->held_back, id) || pcm_fs_test(&hw[i], id))
				continue;
			ex->lackers[id]++;
			ex->lacker[id] = i;
		}
	}
}

void pool_retire_gain(const struct pool_explain *ex, size_t i, struct pcm_fs *gain)
{
	unsigned int id;

	pcm_fs_zero(gain);
	for (id = 0; id < PCM_NR_FEATURES; id++)
		if (ex->lackers[id] == 1 && ex->lacker[id] == i)
			pcm_fs_set(gain, id);
}

void check_narrow(struct pcm_kvm_identity *host, unsigned int mode,
		  const struct pcm_fs *baseline)
{
	struct pcm_fs allow;

	pcm_mode_allow(mode, baseline, &allow);
	pcm_fs_and(&host->features, &host->features, &allow);
}

void pool_destination(const struct profile *h, const struct pcm_fs *baseline,
		      unsigned int mode, struct pcm_kvm_identity *dst)
{
	memset(dst, 0, sizeof(*dst));
	dst->mode = mode;
	snprintf(dst->vendor, sizeof(dst->vendor), "%.*s", (int)sizeof(dst->vendor) - 1, h->vendor);
	dst->max_basic_leaf = h->max_basic_leaf;
	dst->max_ext_leaf = h->max_ext_leaf;
	dst->phys_bits = h->phys_bits;
	dst->xcr0 = h->xcr0;
	dst->features = h->features;
	pcm_fs_close(&dst->features);
	check_narrow(dst, mode, baseline);
}
