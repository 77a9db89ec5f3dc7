/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host profiles and pool files: what one host (or a pool standing for its
 * hosts) gives a guest.  Read from the text or the JSON pcmctl writes, or
 * from a raw CPUID dump; written as the "profile" document.
 */
#ifndef PCMCTL_PROFILE_H
#define PCMCTL_PROFILE_H

#include <jansson.h>
#include <stdbool.h>

#include "kv.h"
#include "pcm_model.h"

#define PROFILE_STR	65	/* a host name: HOST_NAME_MAX + 1 */

/*
 * The strings are as long as what they hold can be (a longer value in a
 * file is refused): a pool keeps 10,000 of these, and each page of them
 * costs a fault.
 */
struct profile {
	char name[PROFILE_STR];
	char vendor[16];		/* CPUID's 12 bytes */
	char family[16];		/* "0x6" */
	char model[16];
	char stepping[16];
	char kernel[72];		/* uname -r: 64 at most */
	char microcode[24];		/* "0x2007006" */
	char module[32];		/* pcm_kvm's version */
	unsigned long long max_basic_leaf;
	unsigned long long max_ext_leaf;
	unsigned long long phys_bits;
	unsigned long long xcr0;
	unsigned long long tsc_khz;	/* 0: unknown */
	int tsc_scaling;		/* -1: unknown */
	struct pcm_fs features;
	struct pcm_fs withheld;
	/*
	 * Its feature MSRs were read (live, from /dev/kvm through the module);
	 * a CPUID dump, or a profile that predates them, has none to give.
	 */
	bool msrs_known;
	/* from a raw CPUID dump: the features KVM never offers were dropped */
	bool from_dump;
	/* A pool file (the output of baseline) read as one pseudo-host. */
	bool is_pool;
	char **hosts;			/* a pool's hosts, malloc'ed */
	size_t nhosts;
	size_t hosts_total;		/* nhosts, or the count a summary gave */
	bool hosts_named;		/* false: hosts has the first and the last */
	const char *path;		/* the file it was read from */
};

void profile_init(struct profile *p);
void profile_free(struct profile *p);

/* What a profile may be read from. */
#define PROFILE_HOST	1U	/* a host profile, or a CPUID dump */
#define PROFILE_POOL	2U	/* a pool (baseline's output) */
#define PROFILE_DUMP	4U	/* a raw CPUID dump only */

/*
 * Read path ("-": standard input) as one of the kinds allowed; the content
 * says which it is.  0, or EXIT_OP after a message.
 */
int profile_read(const char *path, unsigned int allowed, struct profile *p);
/*
 * Every host profile of path: one, or several in a row (the JSON documents
 * or the texts, each from its version line, of `pcmctl host` run on each
 * host of a fleet, concatenated).  Appended to *h (*n of *cap, grown).
 */
int profile_read_hosts(const char *path, struct profile **h, size_t *n, size_t *cap);
/* The same from the text of path, already read. */
int profile_parse(const struct kv_text *t, const char *path, unsigned int allowed,
		  struct profile *p);
/* A host from a dump already read. */
int profile_from_dump(const struct kv_text *t, struct profile *p);
/*
 * A baseline as check --baseline and apply take it: the baseline of a pool
 * file (text or JSON), a file with a feature list, or (arg_list) the
 * list itself.  *is_pool says which.
 */
int profile_baseline(const char *arg, bool arg_list, struct pcm_fs *fs, bool *is_pool);
/* This host, live (pcm_kvm, /proc/cpuinfo, uname, host_withhold). */
int profile_live(struct profile *p);

/*
 * Nonsense a pool must not be built from: below min, no long-mode leaves,
 * no phys_bits.  Returns the reason (static), or NULL.
 */
const char *profile_nonsense(const struct profile *p, char *buf, size_t size);

/* The "profile" document, and its text view (a profile file). */
json_t *profile_doc(const struct profile *p);
void profile_view(const json_t *doc);

/* "limits": {max_basic_leaf, max_ext_leaf, phys_bits, xcr0} */
json_t *limits_obj(unsigned long long basic, unsigned long long ext,
		   unsigned long long phys, unsigned long long xcr0);
void limits_view(const json_t *limits);
/* "next_level": {"level": L, "missing": [...]}, null at the top level */
json_t *next_level_obj(const struct pcm_fs *fs);
void level_view(const json_t *doc, const char *empty_text);

#endif /* PCMCTL_PROFILE_H */
