/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pool and check logic: pure functions of profiles and identities, no
 * I/O, no output; what the commands print is built from their results.
 */
#ifndef PCMCTL_POOL_H
#define PCMCTL_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "pcm_model.h"
#include "profile.h"

struct pool {
	struct pcm_fs hw;	/* intersection of closed HW and NO features */
	bool msrs_known;	/* every host's feature MSRs are known */
	struct pcm_fs scrub;	/* OR of SCRUB */
	struct pcm_fs inv;	/* OR of INV */
	unsigned long long max_basic_leaf, max_ext_leaf, phys_bits, xcr0;
};

/* What mode baseline levels of a host: closed HW and NO features. */
void pool_host_hw(const struct profile *p, struct pcm_fs *hw);
/* Merge n hosts (n > 0); hw[i], if not NULL, gets pool_host_hw(h[i]). */
void pool_compute(const struct profile *h, size_t n, struct pool *pl, struct pcm_fs *hw);
/* The vendor most hosts have (the earliest on a tie): its first host. */
size_t pool_main_vendor(const struct profile *h, size_t n, size_t *count);
/* Two hosts with the same name: true, *a < *b their indexes. */
bool pool_duplicate(const struct profile *h, size_t n, size_t *a, size_t *b);

/*
 * --explain: for each feature some host has and the pool lacks, the hosts
 * that lack it; retiring host i gains exactly the features i alone lacks.
 * Linear in the hosts.  lackers[id]: how many; lacker[id]: the last one.
 */
struct pool_explain {
	struct pcm_fs held_back;
	unsigned int lackers[PCM_NR_FEATURES];
	size_t lacker[PCM_NR_FEATURES];
};

void pool_explain(const struct pcm_fs *hw, size_t n, const struct pool *pl,
		  struct pool_explain *ex);
void pool_retire_gain(const struct pool_explain *ex, size_t i, struct pcm_fs *gain);

/*
 * A host of the pool as a destination of a VM in mode (as check --host):
 * the host's closed features narrowed by the mode's allow-list.
 */
void pool_destination(const struct profile *h, const struct pcm_fs *baseline,
		      unsigned int mode, struct pcm_kvm_identity *dst);

/* Narrow a destination identity by the VM's mode, as the kernel does. */
void check_narrow(struct pcm_kvm_identity *host, unsigned int mode,
		  const struct pcm_fs *baseline);

#endif /* PCMCTL_POOL_H */
