// SPDX-License-Identifier: GPL-2.0
/*
 * pcmctl host, decode: one host, live or from a raw CPUID dump.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcmctl.h"
#include "dump.h"
#include "kernel.h"
#include "kv.h"
#include "out.h"
#include "profile.h"

/* pcmctl decode */

static void decode_view(const json_t *doc)
{
	tx_key(doc, "file", "-");
	tx_key(doc, "vendor", "-");
	if (*tx_str(doc, "brand"))
		tx_key(doc, "brand", "");
	printf("signature: 0x%08llx\n", tx_int(doc, "signature"));
	printf("family: 0x%llx (%llu)\n", tx_int(doc, "family"), tx_int(doc, "family"));
	printf("model: 0x%llx (%llu)\n", tx_int(doc, "model"), tx_int(doc, "model"));
	printf("stepping: 0x%llx (%llu)\n", tx_int(doc, "stepping"), tx_int(doc, "stepping"));
	limits_view(tx_get(doc, "limits"));
	tx_key(doc, "features", "(none)");
	level_view(doc, "(none)");
}

int cmd_decode(const struct pcmctl_cmd *c, int argc, char **argv)
{
	const char *path = NULL;
	struct dump_cpu cpu;
	struct kv_text t;
	bool json = false;
	int opt, ret = 0;
	json_t *doc;

	while ((opt = cmd_getopt(c, argc, argv, &ret)) != -1) {
		if (opt == OPT_STOP)
			return ret;
		if (opt == 'j')
			json = true;
		else if (!path)
			path = optarg;
		else
			return cmd_usage(c, "one FILE only");
	}
	ret = cmd_operands(c, argc, argv, path ? 0 : 1, path ? 0 : 1);
	if (ret)
		return ret;
	if (!path)
		path = argv[optind];
	ret = kv_slurp(path, "CPUID dump", &t);
	if (ret)
		return ret;
	if (kv_sniff(&t) == KV_JSON || kv_sniff(&t) == KV_LINES) {
		pr_err("%s: not a raw CPUID dump (`cpuid -1 -r` prints one)", t.name);
		kv_text_free(&t);
		return EXIT_OP;
	}
	ret = dump_decode(&t, &cpu);
	if (ret) {
		kv_text_free(&t);
		return ret;
	}
	if (cpu.no_syscall)
		pr_err("warning: %s: lm without syscall: dump probably taken in 32-bit mode (Intel reports syscall only in 64-bit mode)",
		       t.name);
	doc = out_doc("decode");
	out_set_str(doc, "file", path);
	out_set_str(doc, "vendor", cpu.vendor);
	out_set_str(doc, "brand", cpu.brand);
	out_set_int(doc, "signature", cpu.signature);
	out_set_int(doc, "family", cpu.family);
	out_set_int(doc, "model", cpu.model);
	out_set_int(doc, "stepping", cpu.stepping);
	out_set(doc, "limits", limits_obj(cpu.max_basic_leaf, cpu.max_ext_leaf,
					  cpu.phys_bits, cpu.xcr0));
	out_set_fs(doc, "features", &cpu.features);
	out_set_str(doc, "level", out_level_name(&cpu.features));
	out_set(doc, "next_level", next_level_obj(&cpu.features));
	kv_text_free(&t);
	return out_print(doc, json, decode_view);
}

/* pcmctl host */

/*
 * For cluster schedulers: the host's features as node labels or traits.
 * KubeVirt matches labels by equality, so every level the host reaches is
 * a label of its own; NFD accepts sub-namespaces of
 * feature.node.kubernetes.io without configuration.
 */
#define NFD_NS		"pcm-kvm.feature.node.kubernetes.io/"
#define TRAIT_PREFIX	"CUSTOM_PCM_KVM_"

enum host_format { HOST_PROFILE, HOST_NFD, HOST_TRAITS };

/* One trait name: upper case, anything else than A-Z 0-9 as '_'. */
static void trait(FILE *f, const char *kind, const char *name)
{
	const char *c;

	fprintf(f, "        - %s%s", TRAIT_PREFIX, kind);
	for (c = name; *c; c++)
		fputc(isalnum((unsigned char)*c) ? toupper((unsigned char)*c) : '_', f);
	fputc('\n', f);
}

/* The labels (NFD local feature file) or the Placement provider config. */
static void host_labels(FILE *f, enum host_format fmt, const struct profile *p)
{
	unsigned int level = pcm_fs_level(&p->features), m, id;
	bool tsc_known = p->tsc_khz != 0;

	if (fmt == HOST_NFD) {
		fprintf(f, "# pcm_kvm: what this host gives a VM (pcmctl host --format nfd)\n");
		fprintf(f, "%slevel=%s\n", NFD_NS, out_level_name(&p->features));
		for (m = PCM_KVM_MODE_MIN; m <= level && m <= PCM_KVM_MODE_X86_64_V4; m++)
			fprintf(f, "%slevel.%s=true\n", NFD_NS, pcm_mode_name(m));
		fprintf(f, "%svendor=%s\n", NFD_NS, p->vendor);
		if (tsc_known) {
			fprintf(f, "%stsc-khz=%llu\n", NFD_NS, p->tsc_khz);
			fprintf(f, "%stsc-scaling=%s\n", NFD_NS,
				p->tsc_scaling > 0 ? "true" : "false");
		}
		for (id = 0; id < PCM_NR_FEATURES; id++)
			if (pcm_fs_test(&p->features, id))
				fprintf(f, "%scpu-%s=true\n", NFD_NS, pcm_features[id].name);
		return;
	}
	fprintf(f, "# pcm_kvm: what this host gives a VM (pcmctl host --format traits)\n");
	fprintf(f, "meta:\n  schema_version: '1.0'\nproviders:\n");
	fprintf(f, "  - identification:\n      uuid: '$COMPUTE_NODE'\n");
	fprintf(f, "    traits:\n      additional:\n");
	for (m = PCM_KVM_MODE_MIN; m <= level && m <= PCM_KVM_MODE_X86_64_V4; m++)
		trait(f, "LEVEL_", pcm_mode_name(m));
	if (tsc_known && p->tsc_scaling > 0)
		trait(f, "", "tsc_scaling");
	for (id = 0; id < PCM_NR_FEATURES; id++)
		if (pcm_fs_test(&p->features, id))
			trait(f, "CPU_", pcm_features[id].name);
}

/* Write to path through a temporary file in its directory and rename(2). */
static int write_atomically(const char *path, enum host_format fmt, const struct profile *p)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		pr_err("%s: path too long", path);
		return EXIT_OP;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		pr_err("%s: %s", tmp, strerror(errno));
		return EXIT_OP;
	}
	f = fdopen(fd, "w");
	if (!f) {
		pr_err("%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return EXIT_OP;
	}
	host_labels(f, fmt, p);
	/* Readers (NFD) see the old file or the whole new one. */
	if (fflush(f) || fchmod(fd, 0644) || fsync(fd) || fclose(f)) {
		pr_err("%s: %s", tmp, strerror(errno));
		unlink(tmp);
		return EXIT_OP;
	}
	if (rename(tmp, path)) {
		pr_err("%s: %s", path, strerror(errno));
		unlink(tmp);
		return EXIT_OP;
	}
	return 0;
}

int cmd_host(const struct pcmctl_cmd *c, int argc, char **argv)
{
	const char *dump = NULL, *output = NULL;
	bool identity = false, json = false;
	enum host_format fmt = HOST_PROFILE;
	struct profile p;
	int opt, ret = 0;

	while ((opt = cmd_getopt(c, argc, argv, &ret)) != -1) {
		switch (opt) {
		case OPT_STOP:
			return ret;
		case 'i':
			identity = true;
			break;
		case 'j':
			json = true;
			break;
		case 'f':
			if (!strcmp(optarg, "nfd"))
				fmt = HOST_NFD;
			else if (!strcmp(optarg, "traits"))
				fmt = HOST_TRAITS;
			else
				return cmd_usage(c, "unknown format '%s' (nfd, traits)", optarg);
			break;
		case 'o':
			output = optarg;
			break;
		case 'c':
			dump = optarg;
			break;
		}
	}
	ret = cmd_operands(c, argc, argv, 0, 0);
	if (ret)
		return ret;
	if (identity && (json || dump || fmt != HOST_PROFILE || output))
		return cmd_usage(c, "--identity takes no other option");
	if (json && fmt != HOST_PROFILE)
		return cmd_usage(c, "--json and --format exclude each other");
	if (output && fmt == HOST_PROFILE)
		return cmd_usage(c, "--output goes with --format");

	if (identity) {
		static char text[PCM_IDENTITY_TEXT_MAX];
		struct pcm_kvm_identity id;
		struct pcm_kvm_version ver;

		ret = kern_host_identity(&id, &ver);
		if (ret)
			return ret;
		pcm_identity_format(&id, text, sizeof(text));
		fputs(text, stdout);
		return 0;
	}
	ret = dump ? profile_read(dump, PROFILE_DUMP, &p) : profile_live(&p);
	if (ret)
		return ret;
	if (fmt != HOST_PROFILE) {
		if (output)
			return write_atomically(output, fmt, &p);
		host_labels(stdout, fmt, &p);
		return 0;
	}
	return out_print(profile_doc(&p), json, profile_view);
}
