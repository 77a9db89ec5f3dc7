// SPDX-License-Identifier: GPL-2.0
/*
 * pcmctl diff: what differs between two hosts (profiles, dumps,
 * identities, this host live), as Firecracker's `fingerprint compare`
 * gives its users: a BIOS or microcode update that changed a host shows
 * before it breaks a pool.
 */
#include <stdlib.h>
#include <string.h>

#include "pcmctl.h"
#include "identity.h"
#include "kv.h"
#include "out.h"
#include "profile.h"

struct side {
	struct profile p;
	const char *kind;	/* "profile", "pool", "identity", "live host" */
	const char *mode;	/* an identity's mode, else NULL */
};

static int side_read(const char *arg, struct side *s)
{
	struct pcm_kvm_identity id;
	struct kv_text t;
	int ret;

	memset(s, 0, sizeof(*s));
	if (!strcmp(arg, "host")) {
		s->kind = "live host";
		return profile_live(&s->p);
	}
	ret = kv_slurp(arg, "profile, identity or CPUID dump", &t);
	if (ret)
		return ret;
	if (kv_sniff(&t) == KV_LINES && (strstr(t.buf, "\npcm_kvm_identity:") ||
					 !strncmp(t.buf, "pcm_kvm_identity:", 17))) {
		s->kind = "identity";
		ret = identity_parse(&t, &id);
		if (!ret) {
			profile_init(&s->p);
			kv_copy(s->p.name, sizeof(s->p.name), t.name, strlen(t.name));
			kv_copy(s->p.vendor, sizeof(s->p.vendor), id.vendor,
				strnlen(id.vendor, sizeof(id.vendor)));
			s->p.features = id.features;
			s->p.max_basic_leaf = id.max_basic_leaf;
			s->p.max_ext_leaf = id.max_ext_leaf;
			s->p.phys_bits = id.phys_bits;
			s->p.xcr0 = id.xcr0;
			s->p.tsc_khz = id.tsc_khz;
			s->p.tsc_scaling = !!(id.flags & PCM_KVM_ID_TSC_SCALING);
			s->mode = pcm_mode_name(id.mode);
		}
	} else {
		ret = profile_parse(&t, arg, PROFILE_HOST | PROFILE_POOL, &s->p);
		s->kind = s->p.is_pool ? "pool" : s->p.from_dump ? "CPUID dump" : "profile";
	}
	kv_text_free(&t);
	return ret;
}

static json_t *side_obj(const struct side *s, const char *arg)
{
	json_t *o = out_obj();

	out_set_str(o, "file", arg);
	out_set_str(o, "name", s->p.name);
	out_set_str(o, "kind", s->kind);
	out_set_str(o, "mode", s->mode);
	return o;
}

/* A difference of two strings; "-" (unknown) on either side is none. */
static void diff_str(json_t *arr, const char *key, const char *a, const char *b)
{
	json_t *d;

	if (!strcmp(a, b) || !strcmp(a, "-") || !strcmp(b, "-"))
		return;
	d = out_obj();
	out_set_str(d, "key", key);
	out_set_str(d, "a", a);
	out_set_str(d, "b", b);
	out_append(arr, d);
}

static void diff_num(json_t *arr, const char *key, unsigned long long a,
		     unsigned long long b, bool hex)
{
	char x[32], y[32];

	snprintf(x, sizeof(x), hex ? "0x%llx" : "%llu", a);
	snprintf(y, sizeof(y), hex ? "0x%llx" : "%llu", b);
	diff_str(arr, key, x, y);
}

static void diff_view(const json_t *doc)
{
	const json_t *a = tx_get(doc, "a"), *b = tx_get(doc, "b"), *d;
	size_t i;

	printf("a: %s (%s %s)\n", tx_str(a, "name"), tx_str(a, "kind"), tx_str(a, "file"));
	printf("b: %s (%s %s)\n", tx_str(b, "name"), tx_str(b, "kind"), tx_str(b, "file"));
	if (tx_len(doc, "only_a"))
		tx_key(doc, "only_a", "-");
	if (tx_len(doc, "only_b"))
		tx_key(doc, "only_b", "-");
	json_array_foreach(tx_get(doc, "differences"), i, d)
		printf("%s: %s -> %s\n", tx_str(d, "key"), tx_str(d, "a"), tx_str(d, "b"));
	printf("%s\n", tx_bool(doc, "same") ? "same" : "different");
}

int cmd_diff(const struct pcmctl_cmd *c, int argc, char **argv)
{
	struct pcm_fs only;
	struct side a, b;
	bool json = false;
	int opt, ret = 0;
	json_t *doc, *arr;

	while ((opt = cmd_getopt(c, argc, argv, &ret)) != -1) {
		if (opt == OPT_STOP)
			return ret;
		json = true;
	}
	ret = cmd_operands(c, argc, argv, 2, 2);
	if (ret)
		return ret;
	if (!strcmp(argv[optind], "-") && !strcmp(argv[optind + 1], "-"))
		return cmd_usage(c, "A and B cannot both be standard input");
	ret = side_read(argv[optind], &a);
	if (ret)
		return ret;
	ret = side_read(argv[optind + 1], &b);
	if (ret) {
		profile_free(&a.p);
		return ret;
	}
	doc = out_doc("diff");
	out_set(doc, "a", side_obj(&a, argv[optind]));
	out_set(doc, "b", side_obj(&b, argv[optind + 1]));
	pcm_fs_andnot(&only, &a.p.features, &b.p.features);
	out_set_fs(doc, "only_a", &only);
	pcm_fs_andnot(&only, &b.p.features, &a.p.features);
	out_set_fs(doc, "only_b", &only);
	arr = out_arr();
	diff_str(arr, "vendor", a.p.vendor, b.p.vendor);
	if (a.mode && b.mode)
		diff_str(arr, "mode", a.mode, b.mode);
	diff_num(arr, "max_basic_leaf", a.p.max_basic_leaf, b.p.max_basic_leaf, true);
	diff_num(arr, "max_ext_leaf", a.p.max_ext_leaf, b.p.max_ext_leaf, true);
	diff_num(arr, "phys_bits", a.p.phys_bits, b.p.phys_bits, false);
	diff_num(arr, "xcr0", a.p.xcr0, b.p.xcr0, true);
	if (a.p.tsc_khz && b.p.tsc_khz)
		diff_num(arr, "tsc_khz", a.p.tsc_khz, b.p.tsc_khz, false);
	if (a.p.tsc_scaling >= 0 && b.p.tsc_scaling >= 0)
		diff_str(arr, "tsc_scaling", a.p.tsc_scaling ? "yes" : "no",
			 b.p.tsc_scaling ? "yes" : "no");
	pcm_fs_andnot(&only, &a.p.withheld, &b.p.withheld);
	if (!pcm_fs_equal(&a.p.withheld, &b.p.withheld)) {
		static char x[PCM_FS_TEXT_MAX], y[PCM_FS_TEXT_MAX];

		pcm_fs_format(&a.p.withheld, x, sizeof(x));
		pcm_fs_format(&b.p.withheld, y, sizeof(y));
		diff_str(arr, "withheld", *x ? x : "none", *y ? y : "none");
	}
	diff_str(arr, "family", a.p.family, b.p.family);
	diff_str(arr, "model", a.p.model, b.p.model);
	diff_str(arr, "stepping", a.p.stepping, b.p.stepping);
	diff_str(arr, "microcode", a.p.microcode, b.p.microcode);
	diff_str(arr, "kernel", a.p.kernel, b.p.kernel);
	diff_str(arr, "module", a.p.module, b.p.module);
	out_set_bool(doc, "same", !json_array_size(arr) &&
		     pcm_fs_equal(&a.p.features, &b.p.features));
	out_set(doc, "differences", arr);
	ret = tx_bool(doc, "same") ? 0 : EXIT_OP;
	profile_free(&a.p);
	profile_free(&b.p);
	opt = out_print(doc, json, diff_view);
	return opt ? opt : ret;
}
