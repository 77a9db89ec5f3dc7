// SPDX-License-Identifier: GPL-2.0
/*
 * pcmctl - inspect and set pcm_kvm processor compatibility modes.
 *
 * Everything about features (names, QEMU aliases, CPUID locations, classes,
 * levels, dependencies, mode allow-lists) comes from the module's own model
 * (module/pcm_model.c and module/pcm_features.def), compiled in here, so the
 * tool and the kernel cannot disagree.
 *
 * Exit status: 0 success, 1 operational failure (for check: also an
 * incompatible destination), 2 usage error.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "pcm_model.h"
#include "compiler.h"
#include "cpuid_dump.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open		434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd		438
#endif

#define EXIT_OP		1	/* operational failure */
#define EXIT_USAGE	2	/* usage error */

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* The sysfs files of a VM shown first, in this order; others follow. */
static const char *const vm_files[] = { "mode", "requested", "visible", "hidden" };

/* Dependencies, straight from the feature table. */
struct dep {
	unsigned short id;
	unsigned short need;
};

#define PCM_DEPENDS(a, b) { PCM_F_##a, PCM_F_##b },
static const struct dep deps[] = {
#include "pcm_features.def"
};

static const char *const class_names[] = {
	[PCM_CLASS_HW] = "HW",
	[PCM_CLASS_KVM] = "KVM",
	[PCM_CLASS_INFO] = "INFO",
	[PCM_CLASS_INV] = "INV",
	[PCM_CLASS_SCRUB] = "SCRUB",
	[PCM_CLASS_SPEC] = "SPEC",
	[PCM_CLASS_NO] = "NO",
};

static const char *const class_help[] = {
	[PCM_CLASS_HW] = "hardware feature: the mode decides",
	[PCM_CLASS_KVM] = "provided by KVM on any host",
	[PCM_CLASS_INFO] = "information about the host or the guest OS state",
	[PCM_CLASS_INV] = "inverted: presence means less; never hidden or refused",
	[PCM_CLASS_SCRUB] = "might need scrubbing: OR-ed across a pool",
	[PCM_CLASS_SPEC] = "speculation control or mitigation bit: never hidden, checked on moves",
	[PCM_CLASS_NO] = "not affected: checked on moves; `baseline` needs every host to have it",
};

static const char *const reg_names[] = { "EAX", "EBX", "ECX", "EDX" };

/* The named modes, in level order. */
static const unsigned int level_modes[] = {
	PCM_KVM_MODE_MIN, PCM_KVM_MODE_X86_64_V2,
	PCM_KVM_MODE_X86_64_V3, PCM_KVM_MODE_X86_64_V4,
};

static const char *prog = "pcmctl";

static void __printf(1, 2) pr_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The text of pcmctl --help, one line each. */
static const char *const usage_text[] = {
	"Usage: pcmctl COMMAND [ARGS]",
	"",
	"Inspect and set pcm_kvm processor compatibility modes.",
	"",
	"Commands:",
	"  modes [--markdown]      the allow-list of every mode, from the feature model",
	"                          (min, x86-64-v2, x86-64-v3, x86-64-v4; baseline is the",
	"                          list in " PCM_KVM_SYSFS "/baseline); --markdown prints",
	"                          the operator's table with the features hidden by",
	"                          dependency closure",
	"  features [--markdown]   the whole feature table: name, QEMU alias, CPUID",
	"                          location, class, first level, dependencies",
	"  decode --from-cpuid FILE",
	"                          decode a raw CPUID dump (`cpuid -1 -r` format; only",
	"                          the first CPU of a multi-CPU dump; - reads standard",
	"                          input): vendor, family/model/stepping, features,",
	"                          highest named level and what the next one lacks;",
	"                          warns on stderr of an incomplete or 32-bit dump",
	"  host [--json]           this host's profile: name (hostname), vendor,",
	"                          family/model/stepping and microcode (/proc/cpuinfo),",
	"                          kernel (uname -r), the features pcm_kvm gives a",
	"                          guest (" PCM_KVM_DEVICE ", after host_withhold),",
	"                          limits (max leaves, phys_bits, xcr0), withheld",
	"                          features (/sys/module/pcm_kvm/parameters/",
	"                          host_withhold).  The text printed is a PROFILE file",
	"                          for baseline; --json prints one JSON object",
	"  host --from-cpuid FILE [--json]",
	"                          the same from a raw CPUID dump, for hosts without",
	"                          pcm_kvm: name is the file name without .cpuid,",
	"                          kernel and microcode are \"-\", features are the",
	"                          CPU's.  A dump taken in 32-bit mode (lm without",
	"                          syscall) gets syscall, with a note on stderr",
	"  host --format nfd|traits [--output FILE] [--from-cpuid FILE]",
	"                          for cluster schedulers: a Kubernetes",
	"                          node-feature-discovery local feature file (labels",
	"                          pcm-kvm.feature.node.kubernetes.io/level=...,",
	"                          level.MODE=true",
	"                          for each level reached, tsc-khz, tsc-scaling,",
	"                          cpu-NAME=true) or an OpenStack Placement",
	"                          provider.yaml (traits CUSTOM_PCM_KVM_...);",
	"                          --output writes FILE atomically (NFD's features.d)",
	"  host --identity         this host as pcm_kvm gives it, as an identity text",
	"                          (mode off: features, the max leaves KVM offers,",
	"                          phys_bits, xcr0, a new vCPU's tsc_khz and",
	"                          tsc_scaling): the HOST_IDENTITY_FILE of",
	"                          check --host",
	"  baseline [--explain] [--json] PROFILE...",
	"                          the pool of the hosts whose profiles are given",
	"                          (- reads standard input; a raw CPUID dump file",
	"                          is read as host --from-cpuid reads it): refused",
	"                          (exit 1) if the vendors differ, naming the odd",
	"                          hosts out;",
	"                          else the intersection of the hosts' hardware (HW)",
	"                          features, each dependency-closed first; minimum",
	"                          of max leaves and phys_bits, AND of xcr0;",
	"                          \"scrub:\" the SCRUB features of any host (OR),",
	"                          \"inverted:\" the INV ones (OR), which every mode",
	"                          passes through; the level the pool reaches (and",
	"                          what the next lacks); per host the HW features it",
	"                          gives up (\"gives up HOST: ...\"); last the line",
	"                          \"baseline: NAMES\", the list to install with",
	"                          apply.  --explain adds \"held back: FEATURE by",
	"                          HOSTS\" for every feature some host has and the",
	"                          pool lacks, and \"retire HOST: gains NAMES (level",
	"                          L)\" for each host",
	"  baseline --current POOL_FILE [--add PROFILE]... [--remove HOST]...",
	"           [--vms VMS_JSON]... [--json] [--explain] [PROFILE...]",
	"                          join and leave: the pool of POOL_FILE (a",
	"                          baseline output) with hosts added (their",
	"                          profiles) and removed (by name; then the",
	"                          profiles of the hosts that stay must be given",
	"                          as PROFILE).  Prints the new pool as baseline",
	"                          does, then \"change: +HOST -HOST (level A ->",
	"                          B)\", \"gained:\" and \"lost:\" (what VMs started",
	"                          after the new baseline is applied get or lose).",
	"                          With --vms (the output of `pcmctl vms --json`",
	"                          on each host), every running VM is checked",
	"                          against every host of the new pool that has a",
	"                          profile here, as check --host does with the new",
	"                          baseline: \"blocked: FILE:VM (mode M) cannot move",
	"                          to HOST: incompatible: ...\" and \"vms: N",
	"                          checked, N moves refused\"; exit status 1 when",
	"                          a move is refused.  Running VMs keep what they",
	"                          booted with",
	"  apply FILE              install a pool: write the \"baseline:\" line of",
	"                          FILE (the output of baseline; without such a line",
	"                          FILE is a plain feature list) to",
	"                          " PCM_KVM_SYSFS "/baseline.  If this host lacks",
	"                          some of the features (host_features there), or",
	"                          the kernel refuses (EINVAL), fails with \"this host",
	"                          cannot join the pool: missing NAMES\"",
	"  vms [--json]            list the live VMs (" PCM_KVM_SYSFS "/vms/), one a",
	"                          line in aligned columns: VM (PID-FD), owning",
	"                          process (PID and its comm; \"-\" if gone), mode,",
	"                          number of visible and hidden features, status",
	"                          (\"-\" if none).  --json prints an array of",
	"                          objects, adding the visible and hidden names and",
	"                          the identity text",
	"  show PID-FD [--json]    one VM: process, mode, status, requested, visible",
	"                          and hidden features by name; --json one object",
	"  set PID-FD MODE         set the mode of VM PID-FD (also: set-mode)",
	"  vm [PID-FD]             a VM's mode and its requested, visible and hidden",
	"                          features (" PCM_KVM_SYSFS "/vms/PID-FD/);",
	"                          without PID-FD, list the VMs and their modes",
	"  set-mode PID-FD MODE    set the mode of VM PID-FD (the fd FD of process PID,",
	"                          as named in " PCM_KVM_SYSFS "/vms/); MODE is one of",
	"                          off, min, x86-64-v2, x86-64-v3, x86-64-v4, baseline.",
	"                          Needs root (pidfd_getfd); fails with EBUSY once a",
	"                          vCPU of the VM has run",
	"  identity PID-FD         the identity of VM PID-FD: what its guest sees, as",
	"                          text (" PCM_KVM_SYSFS "/vms/PID-FD/identity)",
	"  save-identity PID-FD    the same, checked to parse, for saving next to a",
	"                          saved VM state or copying to a migration's",
	"                          destination: pcmctl save-identity 1234-11 > FILE",
	"  check FILE              on a destination: may the VM whose identity is in",
	"                          FILE (- reads standard input) run on this host, in",
	"                          its mode (PCM_KVM_CHECK_IDENTITY)?  Prints one of",
	"                            identical",
	"                            compatible (this host has more: NAMES)",
	"                            incompatible: missing NAMES",
	"                            incompatible: vendor SRC on a DST host",
	"                          Exit status 0 for the first two, 1 otherwise",
	"  check FILE --host HOST_IDENTITY_FILE [--baseline LIST]",
	"                          the same offline, for planning: the destination is",
	"                          an identity file (`pcmctl host --identity` there;",
	"                          its mode line is ignored).  As the kernel does, its",
	"                          features are first narrowed by the VM's mode: host",
	"                          features AND the mode's allow-list (`pcmctl",
	"                          modes`).  For a VM in mode baseline, LIST is the",
	"                          destination's baseline (default: the baseline file",
	"                          in " PCM_KVM_SYSFS ")",
	"  run [--mode MODE] [--expect IDENTITY_FILE] [--] COMMAND [ARG...]",
	"                          exec COMMAND (a VMM) with its VMs, and those of the",
	"                          processes it starts, in MODE from birth (default:",
	"                          the identity's mode) and, with --expect, unable to",
	"                          run unless they give their guest all the identity",
	"                          lists: for a migration's destination or a restore.",
	"                          Refuses (exit 1, naming what is missing) where this",
	"                          host cannot give it.  Needs root",
	"  process PID MODE [--expect IDENTITY_FILE], process PID -",
	"                          the same for process PID, already running (a",
	"                          supervisor's watcher): its VMs, and those of the",
	"                          processes it starts, from now on; - forgets it",
	"  parse LIST...           check a feature list (names or QEMU aliases, any",
	"                          case, separated by blanks or commas) and print the",
	"                          canonical names in table order",
	"  help, --help, -h        this text",
	"",
	"Environment:",
	"  PCMCTL_SYSFS            read VMs, baseline and host_features from (and",
	"                          write the baseline to) this directory instead of",
	"                          " PCM_KVM_SYSFS " (for tests)",
	"",
	"Profile file (the text of pcmctl host; one \"key: value\" a line; blank",
	"lines and lines starting with # ignored, as are unknown keys):",
	"  pcm_kvm_profile: 1      format version",
	"  name: NAME              the host's name (default: the file name)",
	"  vendor: VENDOR          CPUID vendor string (required)",
	"  family: F, model: M, stepping: S, kernel: RELEASE, microcode: REV,",
	"  module: PCM_KVM_VERSION informational; \"-\" when unknown (a dump)",
	"  max_basic_leaf: N, max_ext_leaf: N, phys_bits: N, xcr0: N",
	"                          limits (decimal, or hex with 0x)",
	"  level: LEVEL            informational",
	"  features: NAMES         the host's features (required; \"-\": none)",
	"  withheld: NAMES         withheld by host_withhold (\"-\": none)",
	"  feature_msrs: known|unknown  whether features has the host's",
	"                          IA32_ARCH_CAPABILITIES bits (live: known; a",
	"                          dump or an older profile: unknown, and a pool",
	"                          with such a host shows none of them)",
	"",
	"Exit status: 0 success, 1 operational failure (bad input file, unknown",
	"feature, device or sysfs error, refused ioctl) or, for check, an",
	"incompatible destination, 2 usage error.  An identity file that does not",
	"parse is reported with its line and the offending token.",
};

static void usage(FILE *f)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(usage_text); i++)
		fprintf(f, "%s\n", usage_text[i]);
}

static int __printf(1, 2) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'pcmctl --help'.\n");
	return EXIT_USAGE;
}

/* Helpers over the model */

/* The first level of a feature: "-" for a class that passes through. */
static void json_str(const char *s);
static void json_fs(const struct pcm_fs *fs);
static int dump_profile_json(const char *path);

/* Remove every FLAG from argv; true if there was one. */
static bool take_flag(int *argc, char **argv, const char *flag)
{
	bool found = false;
	int i, j = 1;

	for (i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], flag))
			found = true;
		else
			argv[j++] = argv[i];
	}
	*argc = j;
	argv[j] = NULL;
	return found;
}

static const char *feature_level(unsigned int id)
{
	const struct pcm_feature *f = &pcm_features[id];

	if (f->cls != PCM_CLASS_HW)
		return "-";
	switch (f->level) {
	case PCM_LEVEL_MIN:
		return pcm_mode_name(PCM_KVM_MODE_MIN);
	case PCM_LEVEL_V2:
		return pcm_mode_name(PCM_KVM_MODE_X86_64_V2);
	case PCM_LEVEL_V3:
		return pcm_mode_name(PCM_KVM_MODE_X86_64_V3);
	case PCM_LEVEL_V4:
		return pcm_mode_name(PCM_KVM_MODE_X86_64_V4);
	default:
		return "none";
	}
}

/* The level a named mode stands for (PCM_LEVEL_NONE for off, baseline). */
static unsigned int mode_level(unsigned int mode)
{
	switch (mode) {
	case PCM_KVM_MODE_MIN:
		return PCM_LEVEL_MIN;
	case PCM_KVM_MODE_X86_64_V2:
		return PCM_LEVEL_V2;
	case PCM_KVM_MODE_X86_64_V3:
		return PCM_LEVEL_V3;
	case PCM_KVM_MODE_X86_64_V4:
		return PCM_LEVEL_V4;
	default:
		return PCM_LEVEL_NONE;
	}
}

static void format_location(unsigned int id, char *buf, size_t size)
{
	const struct pcm_feature *f = &pcm_features[id];
	const struct pcm_word_desc *w = &pcm_words[f->word];

	if (!pcm_word_is_cpuid(f->word)) {
		snprintf(buf, size, "MSR 0x%x[%u]", (unsigned int)w->msr,
			 (unsigned int)(w->shift + f->bit));
		return;
	}
	snprintf(buf, size, "0x%x.%u %s[%u]", (unsigned int)w->leaf,
		 (unsigned int)w->subleaf, reg_names[w->reg & 3],
		 (unsigned int)f->bit);
}

/* "a, b" of the features id needs; "-" if none.  quote adds backticks. */
static void format_deps(unsigned int id, bool quote, char *buf, size_t size)
{
	const char *q = quote ? "`" : "";
	size_t i, pos = 0;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(deps) && pos < size; i++) {
		if (deps[i].id != id)
			continue;
		pos += snprintf(buf + pos, size - pos, "%s%s%s%s",
				pos ? ", " : "", q,
				pcm_features[deps[i].need].name, q);
	}
	if (!pos)
		snprintf(buf, size, "-");
}

static void print_fs(const char *label, const struct pcm_fs *fs)
{
	static char text[PCM_FS_TEXT_MAX];

	pcm_fs_format(fs, text, sizeof(text));
	printf("%s: %s\n", label, *text ? text : "(none)");
}

/* A named mode's allow-list before dependency closure. */
static void mode_candidates(unsigned int mode, struct pcm_fs *fs)
{
	unsigned int id, level = mode_level(mode);

	pcm_fs_zero(fs);
	for (id = 0; id < PCM_NR_FEATURES; id++) {
		const struct pcm_feature *f = &pcm_features[id];

		if (f->cls != PCM_CLASS_HW ||
		    (f->level != PCM_LEVEL_NONE && f->level <= level))
			pcm_fs_set(fs, id);
	}
}

/*
 * The level line of a feature set, and what the next level lacks:
 * "level: x86-64-v2" then "missing for x86-64-v3: avx avx2 ...".
 */
static void print_level(const struct pcm_fs *fs)
{
	unsigned int level = pcm_fs_level(fs);
	struct pcm_fs need, hw;
	char label[64];

	printf("level: %s\n",
	       level == PCM_KVM_MODE_OFF ? "none" : pcm_mode_name(level));
	if (level >= PCM_KVM_MODE_X86_64_V4)
		return;
	pcm_fs_of_class(&hw, PCM_CLASS_HW);
	pcm_mode_allow(level + 1, NULL, &need);
	pcm_fs_and(&need, &need, &hw);
	pcm_fs_andnot(&need, &need, fs);
	snprintf(label, sizeof(label), "missing for %s",
		 pcm_mode_name(level + 1));
	print_fs(label, &need);
}

/* pcmctl modes */

static int modes_plain(void)
{
	struct pcm_fs allow;
	size_t i;

	printf("off: every feature the VMM sets (no masking)\n");
	for (i = 0; i < ARRAY_SIZE(level_modes); i++) {
		pcm_mode_allow(level_modes[i], NULL, &allow);
		print_fs(pcm_mode_name(level_modes[i]), &allow);
	}
	fprintf(stdout,
		"baseline: the list in %s/baseline, plus the KVM, INFO, INV, SCRUB and SPEC classes, dependency-closed (the list levels HW and NO)\n",
		PCM_KVM_SYSFS);
	return 0;
}

static void md_class_row(unsigned int cls)
{
	bool first = true;
	unsigned int id;
	size_t i;

	printf("| %s: %s:", class_names[cls], class_help[cls]);
	for (id = 0; id < PCM_NR_FEATURES; id++) {
		if (pcm_features[id].cls != cls)
			continue;
		printf("%s `%s`", first ? "" : ",", pcm_features[id].name);
		first = false;
	}
	printf(" | as the VMM sets them |");
	for (i = 0; i < ARRAY_SIZE(level_modes); i++)
		printf(" ✓ |");
	printf("\n");
}

static void md_hidden(unsigned int mode)
{
	struct pcm_fs cand, allow, hidden;
	char need[256];
	bool first = true;
	unsigned int id;
	size_t i;

	mode_candidates(mode, &cand);
	pcm_mode_allow(mode, NULL, &allow);
	pcm_fs_andnot(&hidden, &cand, &allow);

	printf("- %s:", pcm_mode_name(mode));
	for (id = 0; id < PCM_NR_FEATURES; id++) {
		size_t pos = 0;

		if (!pcm_fs_test(&hidden, id))
			continue;
		need[0] = '\0';
		for (i = 0; i < ARRAY_SIZE(deps) && pos < sizeof(need); i++) {
			if (deps[i].id != id || pcm_fs_test(&allow, deps[i].need))
				continue;
			pos += snprintf(need + pos, sizeof(need) - pos,
					"%s`%s`", pos ? ", " : "",
					pcm_features[deps[i].need].name);
		}
		printf("%s `%s` (needs %s)", first ? "" : ",",
		       pcm_features[id].name, need);
		first = false;
	}
	printf("%s\n", first ? " none" : "");
}

static int modes_markdown(void)
{
	struct pcm_fs allow[ARRAY_SIZE(level_modes)];
	unsigned int id, level, cls;
	char loc[48];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(level_modes); i++)
		pcm_mode_allow(level_modes[i], NULL, &allow[i]);

	printf("| Feature | CPUID leaf.subleaf reg[bit] |");
	for (i = 0; i < ARRAY_SIZE(level_modes); i++)
		printf(" %s |", pcm_mode_name(level_modes[i]));
	printf("\n|---|---|");
	for (i = 0; i < ARRAY_SIZE(level_modes); i++)
		printf(":-:|");
	printf("\n");

	/* Hardware features any named mode allows, grouped by first level. */
	for (level = PCM_LEVEL_MIN; level <= PCM_LEVEL_V4; level++) {
		for (id = 0; id < PCM_NR_FEATURES; id++) {
			const struct pcm_feature *f = &pcm_features[id];

			if (f->cls != PCM_CLASS_HW || f->level != level ||
			    !pcm_fs_test(&allow[ARRAY_SIZE(level_modes) - 1], id))
				continue;
			format_location(id, loc, sizeof(loc));
			printf("| `%s` | %s |", f->name, loc);
			for (i = 0; i < ARRAY_SIZE(level_modes); i++)
				printf(" %s |", pcm_fs_test(&allow[i], id) ? "✓" : "");
			printf("\n");
		}
	}

	fprintf(stdout,
		"| **Passed through by every mode** (unless dependency closure hides them, below) | | | | | |\n");
	for (cls = PCM_CLASS_KVM; cls < PCM_NR_CLASSES; cls++)
		md_class_row(cls);

	printf("\n"
	       "Every other hardware feature is hidden by the named modes; `pcmctl features` lists them all.\n"
	       "`off` leaves the CPUID the VMM sets unchanged. `baseline` allows the list in `%s/baseline`, plus the classes passed through above, NO only where the list has them.\n"
	       "\n"
	       "Hidden by dependency closure (a feature the mode would allow, hidden because a feature it needs is hidden):\n"
	       "\n",
	       PCM_KVM_SYSFS);
	for (i = 0; i < ARRAY_SIZE(level_modes); i++)
		md_hidden(level_modes[i]);
	return 0;
}

static int modes_json(void)
{
	struct pcm_fs allow;
	size_t i;

	printf("[{\"mode\": \"off\", \"allow\": null}");
	for (i = 0; i < ARRAY_SIZE(level_modes); i++) {
		pcm_mode_allow(level_modes[i], NULL, &allow);
		printf(", {\"mode\": \"%s\", \"allow\": ", pcm_mode_name(level_modes[i]));
		json_fs(&allow);
		putchar('}');
	}
	printf(", {\"mode\": \"baseline\", \"allow\": null}]\n");
	return 0;
}

static int cmd_modes(int argc, char **argv)
{
	bool json = take_flag(&argc, argv, "--json");

	if (json)
		return argc == 1 ? modes_json() :
		       usage_error("usage: pcmctl modes [--markdown | --json]");
	if (argc == 1)
		return modes_plain();
	if (argc == 2 && !strcmp(argv[1], "--markdown"))
		return modes_markdown();
	return usage_error("usage: pcmctl modes [--markdown | --json]");
}

/* pcmctl features */

static void features_json(void)
{
	unsigned int id;
	size_t d;

	putchar('[');
	for (id = 0; id < PCM_NR_FEATURES; id++) {
		const struct pcm_feature *f = &pcm_features[id];
		const struct pcm_word_desc *w = &pcm_words[f->word];
		const char *level = feature_level(id);
		bool first = true;

		printf("%s{\"name\": \"%s\", \"alias\": ", id ? ", " : "", f->name);
		if (f->alias)
			json_str(f->alias);
		else
			printf("null");
		if (pcm_word_is_cpuid(f->word))
			printf(", \"leaf\": %u, \"subleaf\": %u, \"register\": \"%s\", \"bit\": %u",
			       (unsigned int)w->leaf, (unsigned int)w->subleaf,
			       reg_names[w->reg], (unsigned int)f->bit);
		else
			printf(", \"msr\": %u, \"bit\": %u", (unsigned int)w->msr,
			       (unsigned int)(w->shift + f->bit));
		printf(", \"class\": \"%s\", \"level\": ", class_names[f->cls]);
		if (strcmp(level, "-") && strcmp(level, "none"))
			json_str(level);
		else
			printf("null");
		printf(", \"needs\": [");
		for (d = 0; d < ARRAY_SIZE(deps); d++) {
			if (deps[d].id != id)
				continue;
			printf("%s\"%s\"", first ? "" : ", ", pcm_features[deps[d].need].name);
			first = false;
		}
		printf("]}");
	}
	printf("]\n");
}

static int cmd_features(int argc, char **argv)
{
	bool json = take_flag(&argc, argv, "--json");
	bool md = argc == 2 && !strcmp(argv[1], "--markdown");
	char loc[48], depbuf[256];
	unsigned int id;

	if (argc > 2 || (argc == 2 && !md) || (json && md))
		return usage_error("usage: pcmctl features [--markdown | --json]");
	if (json) {
		features_json();
		return 0;
	}

	if (md)
		fprintf(stdout,
			"| Feature | QEMU alias | CPUID leaf.subleaf reg[bit] | Class | First level | Needs |\n"
			"|---|---|---|---|---|---|\n");
	else
		printf("%-39s %-26s %-20s %-5s %-9s %s\n", "NAME", "QEMU-ALIAS",
		       "LOCATION", "CLASS", "LEVEL", "NEEDS");

	for (id = 0; id < PCM_NR_FEATURES; id++) {
		const struct pcm_feature *f = &pcm_features[id];

		format_location(id, loc, sizeof(loc));
		format_deps(id, md, depbuf, sizeof(depbuf));
		if (md)
			printf("| `%s` | %s%s%s | %s | %s | %s | %s |\n", f->name,
			       f->alias ? "`" : "", f->alias ? f->alias : "-",
			       f->alias ? "`" : "", loc, class_names[f->cls],
			       feature_level(id), depbuf);
		else
			printf("%-39s %-26s %-20s %-5s %-9s %s\n", f->name,
			       f->alias ? f->alias : "-", loc,
			       class_names[f->cls], feature_level(id), depbuf);
	}
	if (md)
		printf("\n"
		       "First level: the first named mode that allows a hardware (HW) feature; none: only `off` and `baseline` show it; -: not a hardware feature, passed through by every mode. Needs: the features it is hidden with.\n");
	return 0;
}

/* pcmctl decode */

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

static int cmd_decode(int argc, char **argv)
{
	static const unsigned int vendor_order[] = { 1, 3, 2 };	/* EBX EDX ECX */
	static const unsigned int brand_order[] = { 0, 1, 2, 3 };
	const struct cpuid_leaf *l0, *l1;
	unsigned int fam, model, step, i;
	char vendor[13], brand[49];
	struct cpuid_dump d;
	struct pcm_fs fs;
	char msg[512];
	const char *path;
	FILE *f;
	size_t n;

	if (take_flag(&argc, argv, "--json")) {
		if (argc != 3 || strcmp(argv[1], "--from-cpuid"))
			return usage_error("usage: pcmctl decode --from-cpuid FILE [--json]");
		/* the machine-readable decode is the host profile of the dump */
		return dump_profile_json(argv[2]);
	}
	if (argc != 3 || strcmp(argv[1], "--from-cpuid"))
		return usage_error("usage: pcmctl decode --from-cpuid FILE [--json]");
	path = argv[2];

	f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		pr_err("%s: %s", path, strerror(errno));
		return EXIT_OP;
	}
	if (cpuid_dump_read(f, path, &d, msg, sizeof(msg))) {
		if (f != stdin)
			fclose(f);
		pr_err("%s", msg);
		return EXIT_OP;
	}
	if (f != stdin)
		fclose(f);

	l0 = cpuid_dump_find(&d, 0, 0);
	l1 = cpuid_dump_find(&d, 1, 0);
	if (!l0 || !l1) {
		pr_err("%s: no leaf 0x%08x: not a complete CPUID dump", path,
		       l0 ? 1 : 0);
		cpuid_dump_free(&d);
		return EXIT_OP;
	}

	regs_str(l0, vendor_order, ARRAY_SIZE(vendor_order), vendor);
	clean_str(vendor, 12);
	printf("file: %s\n", path);
	printf("vendor: %s\n", vendor);

	n = 0;
	for (i = 0; i < 3; i++) {
		const struct cpuid_leaf *b = cpuid_dump_find(&d, 0x80000002 + i, 0);

		if (!b)
			break;
		regs_str(b, brand_order, ARRAY_SIZE(brand_order), brand + n);
		n += 16;
	}
	if (n) {
		clean_str(brand, n);
		printf("brand: %s\n", brand);
	}

	fam = (l1->regs[0] >> 8) & 0xf;
	model = (l1->regs[0] >> 4) & 0xf;
	step = l1->regs[0] & 0xf;
	if (fam == 0x6 || fam == 0xf)
		model |= ((l1->regs[0] >> 16) & 0xf) << 4;
	if (fam == 0xf)
		fam += (l1->regs[0] >> 20) & 0xff;
	printf("signature: 0x%08x\n", (unsigned int)l1->regs[0]);
	printf("family: 0x%x (%u)\n", fam, fam);
	printf("model: 0x%x (%u)\n", model, model);
	printf("stepping: 0x%x (%u)\n", step, step);

	pcm_fs_zero(&fs);
	for (n = 0; n < d.n; n++)
		pcm_fs_add_regs(&fs, d.e[n].leaf, d.e[n].subleaf, d.e[n].regs);
	print_fs("features", &fs);
	print_level(&fs);

	check_missing_leaves(&d, path, &fs);
	/*
	 * Intel sets SYSCALL in 0x80000001 EDX only when CPUID runs in 64-bit
	 * mode; a dump taken by a 32-bit program lacks it on a 64-bit CPU.
	 */
	if (pcm_fs_test(&fs, PCM_F_LM) && !pcm_fs_test(&fs, PCM_F_SYSCALL))
		pr_err("warning: %s: lm without syscall: dump probably taken in 32-bit mode (Intel reports syscall only in 64-bit mode)",
		       path);

	cpuid_dump_free(&d);
	return 0;
}

/* pcmctl host */

static int open_dev(int flags)
{
	int fd = open(PCM_KVM_DEVICE, flags | O_CLOEXEC);

	if (fd < 0)
		pr_err("%s: %s%s", PCM_KVM_DEVICE, strerror(errno),
		       errno == ENOENT ? " (is the pcm_kvm module loaded?)" : "");
	return fd;
}

/* pcmctl vm, set-mode */

/* The sysfs directory; PCMCTL_SYSFS overrides it (for tests). */
static const char *sysfs_dir(void)
{
	const char *s = getenv("PCMCTL_SYSFS");

	return s && *s ? s : PCM_KVM_SYSFS;
}

/* "PID-FD" with PID > 0 and FD >= 0, decimal. */
static int parse_pid_fd(const char *s, int *pid, int *fd)
{
	unsigned long p, f;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	p = strtoul(s, &end, 10);
	if (errno || *end != '-' || !p || p > INT_MAX)
		return -1;
	s = end + 1;
	if (*s < '0' || *s > '9')
		return -1;
	f = strtoul(s, &end, 10);
	if (errno || *end || f > INT_MAX)
		return -1;
	*pid = (int)p;
	*fd = (int)f;
	return 0;
}

/*
 * Read a small sysfs file into buf, without the trailing newline.
 * Returns 0, or -errno.
 */
static int read_small(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	while (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return ret;
}

static void print_value(const char *key, const char *val)
{
	const char *p;

	printf("%s:", key);
	if (!*val) {
		printf(" (none)\n");
		return;
	}
	if (!strchr(val, '\n')) {
		printf(" %s\n", val);
		return;
	}
	printf("\n");
	for (p = val; *p; p++) {
		if (p == val || p[-1] == '\n')
			printf("    ");
		putchar(*p);
	}
	printf("\n");
}

static bool is_vm_file(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vm_files); i++)
		if (!strcmp(name, vm_files[i]))
			return true;
	return false;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int hidden_entry(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

static int vm_list(void)
{
	struct dirent **names;
	char dir[PATH_MAX], path[PATH_MAX + 256], mode[64];
	int n, i;

	if (snprintf(dir, sizeof(dir), "%s/vms", sysfs_dir()) >= (int)sizeof(dir)) {
		pr_err("PCMCTL_SYSFS: path too long");
		return EXIT_OP;
	}
	n = scandir(dir, &names, hidden_entry, name_cmp);
	if (n < 0) {
		pr_err("%s: %s%s", dir, strerror(errno),
		       errno == ENOENT ? " (is the pcm_kvm module loaded?)" : "");
		return EXIT_OP;
	}
	if (!n)
		printf("no VM\n");
	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s/mode", dir,
			     names[i]->d_name) >= (int)sizeof(path) ||
		    read_small(path, mode, sizeof(mode)))
			snprintf(mode, sizeof(mode), "?");
		printf("%s %s\n", names[i]->d_name, mode);
		free(names[i]);
	}
	free(names);
	return 0;
}

static int cmd_vm(int argc, char **argv)
{
	static char val[65536];
	struct dirent **names;
	char dir[PATH_MAX], path[PATH_MAX + 256];
	int pid, fd, n, i, shown = 0;
	size_t k;

	if (argc == 1)
		return vm_list();
	if (argc != 2)
		return usage_error("usage: pcmctl vm [PID-FD]");
	if (parse_pid_fd(argv[1], &pid, &fd))
		return usage_error("'%s' is not PID-FD (e.g. 1234-11, as in "
				   PCM_KVM_SYSFS "/vms/)", argv[1]);

	if (snprintf(dir, sizeof(dir), "%s/vms/%d-%d", sysfs_dir(), pid, fd) >=
	    (int)sizeof(dir)) {
		pr_err("PCMCTL_SYSFS: path too long");
		return EXIT_OP;
	}
	n = scandir(dir, &names, hidden_entry, name_cmp);
	if (n < 0) {
		pr_err("%s: %s%s", dir, strerror(errno),
		       errno == ENOENT ? " (no such VM; `pcmctl vm` lists them)" : "");
		return EXIT_OP;
	}

	printf("vm: %d-%d\n", pid, fd);
	for (k = 0; k < ARRAY_SIZE(vm_files); k++) {
		int ret;

		snprintf(path, sizeof(path), "%s/%s", dir, vm_files[k]);
		ret = read_small(path, val, sizeof(val));
		if (ret == -ENOENT)
			continue;
		if (ret) {
			pr_err("%s: %s", path, strerror(-ret));
			continue;
		}
		print_value(vm_files[k], val);
		shown++;
	}
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;

		if (!is_vm_file(name)) {
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			/* Write-only or directory entries are skipped. */
			if (!read_small(path, val, sizeof(val))) {
				print_value(name, val);
				shown++;
			}
		}
		free(names[i]);
	}
	free(names);
	if (!shown) {
		pr_err("%s: nothing readable", dir);
		return EXIT_OP;
	}
	return 0;
}

static void mode_list(char *buf, size_t size)
{
	size_t pos = 0;
	unsigned int m;

	buf[0] = '\0';
	for (m = 0; m < PCM_KVM_NR_MODES && pos < size; m++)
		pos += snprintf(buf + pos, size - pos, "%s%s", m ? ", " : "",
				pcm_mode_name(m));
}

static int cmd_set_mode(int argc, char **argv)
{
	struct pcm_kvm_vm_mode vm;
	int pid, fd, mode, dev, pidfd, vmfd, ret = EXIT_OP;
	char modes[128];

	bool json = take_flag(&argc, argv, "--json");

	if (argc != 3)
		return usage_error("usage: pcmctl %s [--json] PID-FD MODE", argv[0]);
	if (parse_pid_fd(argv[1], &pid, &fd))
		return usage_error("'%s' is not PID-FD (e.g. 1234-11, as in "
				   PCM_KVM_SYSFS "/vms/)", argv[1]);
	mode = pcm_mode_parse(argv[2], strlen(argv[2]));
	if (mode < 0) {
		mode_list(modes, sizeof(modes));
		return usage_error("unknown mode '%s' (modes: %s)", argv[2],
				   modes);
	}

	dev = open_dev(O_RDWR);
	if (dev < 0)
		return EXIT_OP;

	pidfd = syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pidfd < 0) {
		pr_err("pidfd_open(%d): %s", pid, strerror(errno));
		goto out_dev;
	}
	vmfd = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (vmfd < 0) {
		pr_err("pidfd_getfd(%d, %d): %s%s", pid, fd, strerror(errno),
		       errno == EPERM ? " (needs root, or ptrace access to the VMM)" :
		       errno == EBADF ? " (the process has no such fd)" : "");
		goto out_pidfd;
	}

	memset(&vm, 0, sizeof(vm));
	vm.size = sizeof(vm);
	vm.vm_fd = vmfd;
	vm.mode = (unsigned int)mode;
	if (ioctl(dev, PCM_KVM_SET_VM_MODE, &vm)) {
		pr_err("set-mode %d-%d %s: %s%s", pid, fd, pcm_mode_name(mode),
		       strerror(errno),
		       errno == EBUSY ? " (the VM has already run: its mode is frozen)" : "");
		goto out_vmfd;
	}
	if (json)
		printf("{\"vm\": \"%d-%d\", \"mode\": \"%s\"}\n", pid, fd,
		       pcm_mode_name(mode));
	else
		printf("%d-%d: mode %s\n", pid, fd, pcm_mode_name(mode));
	ret = 0;
out_vmfd:
	close(vmfd);
out_pidfd:
	close(pidfd);
out_dev:
	close(dev);
	return ret;
}

/* pcmctl parse */

/*
 * The features of fs that dependency closure removes (a mode built on fs,
 * such as a baseline, would hide them), with what they need, on stderr.
 */
static void note_unclosed(const struct pcm_fs *fs)
{
	struct pcm_fs closed, hidden;
	const char *fsep = " ";
	unsigned int id;
	size_t i;

	closed = *fs;
	pcm_fs_close(&closed);
	pcm_fs_andnot(&hidden, fs, &closed);
	if (pcm_fs_empty(&hidden))
		return;
	fprintf(stderr, "%s: note: as a mode's list, dependency closure would hide",
		prog);
	for (id = 0; id < PCM_NR_FEATURES; id++) {
		const char *sep = " (needs ";

		if (!pcm_fs_test(&hidden, id))
			continue;
		fprintf(stderr, "%s%s", fsep, pcm_features[id].name);
		fsep = ", ";
		for (i = 0; i < ARRAY_SIZE(deps); i++) {
			if (deps[i].id != id || pcm_fs_test(&closed, deps[i].need))
				continue;
			fprintf(stderr, "%s%s", sep, pcm_features[deps[i].need].name);
			sep = ", ";
		}
		fprintf(stderr, ")");
	}
	fprintf(stderr, "\n");
}

static int cmd_parse(int argc, char **argv)
{
	const char *bad = NULL;
	size_t len = 0, badlen = 0;
	struct pcm_fs fs;
	char *list, *p;
	int i, ret;

	bool json = take_flag(&argc, argv, "--json");

	if (argc < 2)
		return usage_error("usage: pcmctl parse [--json] LIST...");
	for (i = 1; i < argc; i++)
		len += strlen(argv[i]) + 1;
	list = malloc(len);
	if (!list) {
		pr_err("out of memory");
		return EXIT_OP;
	}
	p = list;
	for (i = 1; i < argc; i++) {
		size_t n = strlen(argv[i]);

		memcpy(p, argv[i], n);
		p += n;
		*p++ = ' ';
	}

	ret = pcm_fs_parse(list, len, &fs, &bad, &badlen);
	if (ret == -EINVAL) {
		pr_err("unknown feature '%.*s'%s", badlen > 64 ? 64 : (int)badlen,
		       bad, badlen > PCM_NAME_MAX ? " (name too long)" : "");
		ret = EXIT_OP;
	} else if (ret) {
		pr_err("no feature name in the list");
		ret = EXIT_OP;
	} else {
		static char text[PCM_FS_TEXT_MAX];

		if (json) {
			printf("{\"features\": ");
			json_fs(&fs);
			printf("}\n");
		} else {
			pcm_fs_format(&fs, text, sizeof(text));
			printf("%s\n", text);
		}
		note_unclosed(&fs);
	}
	free(list);
	return ret;
}

/* Identities: pcmctl identity, save-identity, check, host --identity */

/* An identity file is a few KiB; anything much larger is not one. */
#define TEXT_MAX	(1024 * 1024)

/*
 * Read a whole file ("-": standard input) into a NUL-terminated malloc'ed
 * buffer.  Returns 0, or -errno (-EFBIG: over TEXT_MAX).
 */
static int read_text(const char *path, char **out, size_t *outlen)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap), *nb;
	int fd, ret = 0;

	if (!buf)
		return -ENOMEM;
	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0) {
		ret = -errno;
		free(buf);
		return ret;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			if (cap > TEXT_MAX) {
				ret = -EFBIG;
				break;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (!n)
			break;
		len += n;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

/* s[0..n) printable: other bytes as \xNN, cut at 80 characters with "...". */
static const char *esc(const char *s, size_t n, char *out, size_t size)
{
	size_t i, pos = 0;

	for (i = 0; i < n && pos + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (pos >= 80) {
			pos += snprintf(out + pos, size - pos, "...");
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[pos++] = (char)c;
		else
			pos += snprintf(out + pos, size - pos, "\\x%02x", c);
	}
	out[pos] = '\0';
	return out;
}

/* The keys of the text form, in its order, from the formatter itself. */
#define ID_KEYS_MAX	16
static unsigned int id_keys(const char *keys[ID_KEYS_MAX], size_t lens[ID_KEYS_MAX])
{
	static char text[PCM_IDENTITY_TEXT_MAX];
	struct pcm_kvm_identity zero;
	unsigned int n = 0;
	const char *p;

	memset(&zero, 0, sizeof(zero));
	pcm_identity_format(&zero, text, sizeof(text));
	p = text;
	while (*p && n < ID_KEYS_MAX) {
		keys[n] = p;
		lens[n++] = strcspn(p, ":\n");
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	return n;
}

/* The line of text holding p: its start, its length without "\r\n", its number. */
static unsigned int line_of(const char *text, const char *p, const char **start,
			    size_t *len)
{
	const char *s = p, *e = p;
	unsigned int n = 1;
	const char *q;

	while (s > text && s[-1] != '\n')
		s--;
	while (*e && *e != '\n')
		e++;
	while (e > s && e[-1] == '\r')
		e--;
	for (q = text; q < s; q++)
		n += *q == '\n';
	*start = s;
	*len = e - s;
	return n;
}

/* The value of the line whose key is key, or NULL; *len its length. */
static const char *find_value(const char *text, const char *key, size_t *len)
{
	size_t klen = strlen(key);
	const char *p = text, *v;

	while (*p) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			v = p + klen + 1;
			*len = strcspn(v, "\n");
			return v;
		}
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	return NULL;
}

/* Our own reading of the words line, to say where it and the names differ. */
static void words_of(const char *v, size_t len, struct pcm_fs *fs)
{
	struct pcm_fs known;
	size_t i = 0;
	unsigned int w;

	pcm_fs_zero(fs);
	while (i < len) {
		size_t start;

		while (i < len && isblank((unsigned char)v[i]))
			i++;
		start = i;
		while (i < len && !isblank((unsigned char)v[i]))
			i++;
		for (w = 0; w < PCM_KVM_NR_WORDS_USED; w++) {
			size_t n = strlen(pcm_words[w].name);

			if (i - start > n + 1 && !strncmp(v + start, pcm_words[w].name, n) &&
			    v[start + n] == '=') {
				fs->words[w] = (u32)strtoul(v + start + n + 1, NULL,
								 v[start + n + 1] == '0' &&
								 (v[start + n + 2] | 0x20) == 'x' ?
								 16 : 10);
				break;
			}
		}
	}
	pcm_fs_known(&known);
	pcm_fs_and(fs, fs, &known);
}

static void report_mismatch(const char *name, const char *text)
{
	static char a[PCM_FS_TEXT_MAX], b[PCM_FS_TEXT_MAX];
	struct pcm_fs named, raw, only;
	const char *v, *ls;
	size_t len = 0, ll;
	unsigned int line = 0;

	pcm_fs_zero(&named);
	v = find_value(text, "features", &len);
	if (v) {
		line = line_of(text, v, &ls, &ll);
		/* known to parse: pcm_identity_parse accepted it */
		pcm_fs_parse(v, len, &named, NULL, NULL);
	}
	v = find_value(text, "words", &len);
	words_of(v ? v : "", v ? len : 0, &raw);
	pcm_fs_andnot(&only, &named, &raw);
	pcm_fs_format(&only, a, sizeof(a));
	pcm_fs_andnot(&only, &raw, &named);
	pcm_fs_format(&only, b, sizeof(b));
	pr_err("%s:%u: the features line disagrees with the raw words (named, not in words: %s; in words, not named: %s)",
	       name, line, *a ? a : "none", *b ? b : "none");
}

static void report_missing_keys(const char *name, const char *text)
{
	const char *keys[ID_KEYS_MAX];
	size_t lens[ID_KEYS_MAX], pos = 0, len;
	char list[256], key[32];
	unsigned int i, n = id_keys(keys, lens);
	const char *ver = find_value(text, "pcm_kvm_identity", &len);
	/* a key is missing: the version line, if any, parsed (1 or 2) */
	bool v1 = ver && strtoul(ver, NULL, 0) == 1;

	list[0] = '\0';
	for (i = 0; i < n && pos < sizeof(list); i++) {
		snprintf(key, sizeof(key), "%.*s", (int)lens[i], keys[i]);
		if (find_value(text, key, &len))
			continue;
		/* version 1 had no TSC */
		if (v1 && !strncmp(key, "tsc_", 4))
			continue;
		pos += snprintf(list + pos, sizeof(list) - pos, "%s%s", pos ? ", " : "", key);
	}
	if (strspn(text, " \t\r\n") == strlen(text))
		pr_err("%s: empty: not a pcm_kvm identity", name);
	else
		pr_err("%s: incomplete identity (a truncated copy?): no line for %s", name, list);
}

/* The -EINVAL message: the offending token, or the offending line. */
static void report_bad(const char *name, const char *text, const char *bad,
		       size_t badlen)
{
	const char *keys[ID_KEYS_MAX], *ls, *colon, *p;
	size_t lens[ID_KEYS_MAX], ll, klen;
	unsigned int i, n = id_keys(keys, lens), line;
	char e1[512], e2[512], modes[128];
	bool known = false;

	line = line_of(text, bad, &ls, &ll);
	colon = memchr(ls, ':', ll);
	klen = colon ? (size_t)(colon - ls) : 0;
	esc(ls, ll, e2, sizeof(e2));

	if (bad > ls || badlen < ll) {
		esc(bad, badlen, e1, sizeof(e1));
		if (klen == 8 && !strncmp(ls, "features", 8))
			pr_err("%s:%u: unknown feature '%s' (`pcmctl features` lists them)",
			       name, line, e1);
		else if (klen == 5 && !strncmp(ls, "words", 5))
			pr_err("%s:%u: bad raw word '%s' (WORD=0xHEX, WORD one of %s ... %s)",
			       name, line, e1, pcm_words[0].name,
			       pcm_words[PCM_KVM_NR_WORDS_USED - 1].name);
		else
			pr_err("%s:%u: bad '%s' in '%s'", name, line, e1, e2);
		return;
	}
	if (!colon) {
		pr_err("%s:%u: not a 'key: value' line: '%s'", name, line, e2);
		return;
	}
	for (i = 0; i < n; i++)
		known |= lens[i] == klen && !strncmp(keys[i], ls, klen);
	esc(ls, klen, e1, sizeof(e1));
	if (!known) {
		pr_err("%s:%u: unknown key '%s'", name, line, e1);
		return;
	}
	/* an earlier line with the same key */
	for (p = text; p < ls; p += strcspn(p, "\n") + 1) {
		if (!strncmp(p, ls, klen + 1)) {
			const char *s;
			size_t l;

			pr_err("%s:%u: '%s' repeats line %u", name, line, e1,
			       line_of(text, p, &s, &l));
			return;
		}
	}
	if (klen == 6 && !strncmp(ls, "vendor", 6)) {
		pr_err("%s:%u: bad vendor (at most 12 characters): '%s'", name, line, e2);
	} else if (klen == 4 && !strncmp(ls, "mode", 4)) {
		mode_list(modes, sizeof(modes));
		pr_err("%s:%u: bad mode (modes: %s): '%s'", name, line, modes, e2);
	} else if (klen == 9 && !strncmp(ls, "phys_bits", 9)) {
		pr_err("%s:%u: bad phys_bits (0 to %d): '%s'", name, line,
		       PCM_PHYS_BITS_MAX, e2);
	} else if (klen == 8 && !strncmp(ls, "features", 8)) {
		pr_err("%s:%u: no feature name in '%s'", name, line, e2);
	} else if (klen == lens[0] && !strncmp(ls, keys[0], klen)) {
		pr_err("%s:%u: unknown version (pcmctl reads versions 1 and 2 of the identity text): '%s'",
		       name, line, e2);
	} else {
		pr_err("%s:%u: bad number (decimal, or hex with 0x; at most 32 bits, xcr0 64): '%s'",
		       name, line, e2);
	}
}

/*
 * Read and parse an identity file; on error say what and where (the file,
 * its line, the offending token) and return EXIT_OP.  *text, if given, gets
 * the text (the caller frees it).
 */
static int load_identity(const char *path, const char *name,
			 struct pcm_kvm_identity *id, char **textp)
{
	const char *bad = NULL;
	size_t len, badlen = 0;
	char *text;
	int ret;

	ret = read_text(path, &text, &len);
	if (ret) {
		pr_err("%s: %s", name, ret == -EFBIG ? "too large for an identity" :
		       strerror(-ret));
		return EXIT_OP;
	}
	if (strlen(text) != len) {
		/* pcm_identity_parse() would refuse it too; say where */
		const char *ls;
		size_t ll;

		pr_err("%s:%u: NUL byte: not an identity text", name,
		       line_of(text, text + strlen(text), &ls, &ll));
		free(text);
		return EXIT_OP;
	}
	ret = pcm_identity_parse(text, len, id, &bad, &badlen);
	switch (ret) {
	case 0:
		break;
	case -EINVAL:
		report_bad(name, text, bad, badlen);
		break;
	case -ENODATA:
		report_missing_keys(name, text);
		break;
	case -EBADMSG:
		report_mismatch(name, text);
		break;
	default:
		pr_err("%s: %s", name, strerror(-ret));
		break;
	}
	if (ret || !textp)
		free(text);
	else
		*textp = text;
	return ret ? EXIT_OP : 0;
}

/* sysfs_dir()/vms/PID-FD/identity */
static int vm_identity_path(const char *arg, const char *cmd, char *path, size_t size)
{
	int pid, fd;

	if (parse_pid_fd(arg, &pid, &fd))
		return usage_error("'%s' is not PID-FD (e.g. 1234-11, as in "
				   PCM_KVM_SYSFS "/vms/); usage: pcmctl %s PID-FD",
				   arg, cmd);
	if (snprintf(path, size, "%s/vms/%d-%d/identity", sysfs_dir(), pid, fd) >=
	    (int)size) {
		pr_err("PCMCTL_SYSFS: path too long");
		return EXIT_OP;
	}
	return 0;
}

static void write_text(const char *text, size_t len)
{
	fwrite(text, 1, len, stdout);
	if (len && text[len - 1] != '\n')
		putchar('\n');
}

static int cmd_identity(int argc, char **argv)
{
	char path[PATH_MAX], *text;
	size_t len;
	int ret;

	if (argc != 2)
		return usage_error("usage: pcmctl identity PID-FD");
	ret = vm_identity_path(argv[1], "identity", path, sizeof(path));
	if (ret)
		return ret;
	ret = read_text(path, &text, &len);
	if (ret) {
		pr_err("%s: %s%s", path, strerror(-ret), ret != -ENOENT ? "" :
		       " (no such VM, or a pcm_kvm without identities; `pcmctl vm` lists the VMs)");
		return EXIT_OP;
	}
	write_text(text, len);
	free(text);
	return 0;
}

static int cmd_save_identity(int argc, char **argv)
{
	struct pcm_kvm_identity id;
	char path[PATH_MAX], *text;
	int ret;

	if (argc != 2)
		return usage_error("usage: pcmctl save-identity PID-FD > FILE");
	ret = vm_identity_path(argv[1], "save-identity", path, sizeof(path));
	if (ret)
		return ret;
	/* Nothing reaches stdout unless the text parses: no half-saved file. */
	ret = load_identity(path, path, &id, &text);
	if (ret)
		return ret;
	write_text(text, strlen(text));
	free(text);
	return 0;
}

/* The baseline of this host, for a VM in mode baseline. */
static int get_baseline(const char *arg, struct pcm_fs *baseline)
{
	static char list[PCM_FS_TEXT_MAX + 64];
	const char *bad = NULL, *src = arg;
	char path[PATH_MAX + 16];
	size_t badlen = 0;
	int ret;

	if (!arg) {
		snprintf(path, sizeof(path), "%s/baseline", sysfs_dir());
		ret = read_small(path, list, sizeof(list));
		if (ret) {
			pr_err("the VM is in mode baseline: give this host's baseline with --baseline LIST (%s: %s)",
			       path, strerror(-ret));
			return EXIT_OP;
		}
		src = list;
	}
	ret = pcm_fs_parse(src, strlen(src), baseline, &bad, &badlen);
	if (ret == -ENODATA) {
		pcm_fs_zero(baseline);		/* an empty baseline */
		return 0;
	}
	if (ret) {
		if (arg)
			return usage_error("--baseline: unknown feature '%.*s'",
					   badlen > 64 ? 64 : (int)badlen, bad);
		pr_err("%s: unknown feature '%.*s'", path, badlen > 64 ? 64 : (int)badlen, bad);
		return EXIT_OP;
	}
	return 0;
}

static bool check_json;	/* check --json */

static int check_verdict(unsigned int result, const struct pcm_kvm_identity *vm,
			 const struct pcm_kvm_identity *host,
			 const struct pcm_fs *missing, const struct pcm_fs *extra,
			 unsigned int limits)
{
	static const char *const results[] = {
		[PCM_KVM_CHECK_IDENTICAL] = "identical",
		[PCM_KVM_CHECK_COMPATIBLE] = "compatible",
		[PCM_KVM_CHECK_MISSING] = "incompatible",
		[PCM_KVM_CHECK_VENDOR] = "vendor",
	};
	static char line[PCM_FS_TEXT_MAX + 256];

	pcm_check_format(result, vm, host, missing, extra, limits, line, sizeof(line));
	if (check_json) {
		printf("{\"result\": \"%s\", \"verdict\": ", results[result]);
		json_str(line);
		printf(", \"missing\": ");
		json_fs(missing);
		printf(", \"extra\": ");
		json_fs(extra);
		printf(", \"limits_missing\": %u}\n", limits);
	} else {
		printf("%s\n", line);
	}
	return result <= PCM_KVM_CHECK_COMPATIBLE ? 0 : EXIT_OP;
}

/*
 * Offline: the host given as an identity file (`pcmctl host --identity` on
 * that host).  As the kernel does, the host's features are narrowed by the
 * VM's mode first: host features AND the mode's allow-list.
 */
static int check_offline(const struct pcm_kvm_identity *vm, const char *host_path,
			 const char *baseline_arg)
{
	struct pcm_kvm_identity host;
	struct pcm_fs baseline, allow, missing, extra;
	unsigned int result, limits;
	int ret;

	ret = load_identity(host_path, strcmp(host_path, "-") ? host_path : "<stdin>",
			    &host, NULL);
	if (ret)
		return ret;
	pcm_fs_zero(&baseline);
	if (vm->mode == PCM_KVM_MODE_BASELINE || baseline_arg) {
		ret = get_baseline(baseline_arg, &baseline);
		if (ret)
			return ret;
	}
	pcm_mode_allow(vm->mode, &baseline, &allow);
	pcm_fs_and(&host.features, &host.features, &allow);
	result = pcm_identity_check(vm, &host, &missing, &extra, &limits);
	return check_verdict(result, vm, &host, &missing, &extra, limits);
}

/*
 * This host as PCM_KVM_CHECK_IDENTITY described it: its numbers, and its
 * features (what the VM sees, less what is missing here, plus the extra).
 */
static void host_of_check(const struct pcm_kvm_check *c, struct pcm_kvm_identity *host)
{
	memset(host, 0, sizeof(*host));
	memcpy(host->vendor, c->host_vendor, sizeof(host->vendor) - 1);
	host->mode = c->id.mode;
	host->phys_bits = c->host_phys_bits;
	host->max_basic_leaf = c->host_max_basic_leaf;
	host->max_ext_leaf = c->host_max_ext_leaf;
	host->xcr0 = c->host_xcr0;
	host->tsc_khz = c->host_tsc_khz;
	host->flags = c->host_flags;
	pcm_fs_andnot(&host->features, &c->id.features, &c->missing);
	pcm_fs_or(&host->features, &host->features, &c->extra);
}

/*
 * Online: PCM_KVM_CHECK_IDENTITY answers for this host, with everything the
 * message needs: the features on each side, the limits and the host's
 * numbers.
 */
static int check_online(const struct pcm_kvm_identity *vm)
{
	struct pcm_kvm_identity host;
	struct pcm_kvm_check c;
	int fd;

	fd = open_dev(O_RDONLY);
	if (fd < 0)
		return EXIT_OP;
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.id = *vm;
	if (ioctl(fd, PCM_KVM_CHECK_IDENTITY, &c)) {
		pr_err("PCM_KVM_CHECK_IDENTITY: %s%s", strerror(errno),
		       errno == ENOTTY ? " (a pcm_kvm module without identity checks?)" : "");
		close(fd);
		return EXIT_OP;
	}
	close(fd);
	if (c.result > PCM_KVM_CHECK_VENDOR) {
		pr_err("PCM_KVM_CHECK_IDENTITY: unknown answer %u", c.result);
		return EXIT_OP;
	}

	host_of_check(&c, &host);
	return check_verdict(c.result, vm, &host, &c.missing, &c.extra, c.limits);
}

/*
 * The process_modes entry of pid (0: this process): mode (-1: the
 * identity's), and the identity in the file expect (NULL: none).  Says what
 * this host lacks before the kernel refuses.  0, or EXIT_OP after a message
 * prefixed cmd.
 */
static int set_process(pid_t pid, int mode, const char *expect, const char *cmd)
{
	static char line[PCM_FS_TEXT_MAX + 256];
	struct pcm_kvm_identity host;
	struct pcm_kvm_process a;
	struct pcm_kvm_check c;
	int dev;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.pid = pid;
	if (expect) {
		if (load_identity(expect, strcmp(expect, "-") ? expect : "<stdin>",
				  &a.expect, NULL))
			return EXIT_OP;
		a.flags = PCM_KVM_PROCESS_EXPECT;
		if (mode < 0)
			mode = (int)a.expect.mode;
	}
	a.mode = (unsigned int)mode;

	dev = open_dev(O_RDWR);
	if (dev < 0)
		return EXIT_OP;
	if (expect) {
		/* Say what this host lacks; dmesg would be the only place otherwise. */
		memset(&c, 0, sizeof(c));
		c.size = sizeof(c);
		c.id = a.expect;
		c.id.mode = a.mode;
		if (!ioctl(dev, PCM_KVM_CHECK_IDENTITY, &c) &&
		    c.result >= PCM_KVM_CHECK_MISSING && c.result <= PCM_KVM_CHECK_VENDOR) {
			host_of_check(&c, &host);
			pcm_check_format(c.result, &c.id, &host, &c.missing, &c.extra,
					 c.limits, line, sizeof(line));
			pr_err("%s: this host cannot give a VM in mode %s what %s expects: %s",
			       cmd, pcm_mode_name(mode), expect, line);
			close(dev);
			return EXIT_OP;
		}
	}
	if (ioctl(dev, PCM_KVM_SET_PROCESS, &a)) {
		pr_err("%s: PCM_KVM_SET_PROCESS (pid %d, mode %s%s%s): %s%s", cmd, (int)pid,
		       pcm_mode_name(mode), expect ? ", expect " : "", expect ? expect : "",
		       strerror(errno),
		       errno == ENOTTY ? " (a pcm_kvm module without SET_PROCESS?)" :
		       errno == ESRCH ? " (no such process)" :
		       errno == EINVAL ? " (dmesg says why)" : "");
		close(dev);
		return EXIT_OP;
	}
	close(dev);
	return 0;
}

#define PROCESS_USAGE "usage: pcmctl process PID MODE [--expect IDENTITY_FILE] | PID --expect IDENTITY_FILE | PID -"

/*
 * pcmctl process: another process's entry, for a supervisor that learns a
 * VMM's pid before the VMM creates its VM (the libvirt hook's watcher).
 */
static int cmd_process(int argc, char **argv)
{
	const char *expect = NULL, *mode_arg = NULL;
	unsigned long pid;
	char modes[128], *end, path[PATH_MAX], buf[64];
	int i, mode = -1, fd;
	ssize_t w;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("%s\n"
		       "Sets the process_modes entry of PID: the mode (default: the identity's)\n"
		       "and the identity expected of every VM it, or a process it starts,\n"
		       "creates from now on.  PID - forgets it.  Refuses (exit 1), naming\n"
		       "what is missing, where this host cannot give the identity.\n",
		       PROCESS_USAGE);
		return 0;
	}
	if (argc < 3)
		return usage_error(PROCESS_USAGE);
	errno = 0;
	pid = strtoul(argv[1], &end, 10);
	if (argv[1][0] < '1' || argv[1][0] > '9' || *end || errno || pid > INT_MAX)
		return usage_error("'%s' is not a pid; " PROCESS_USAGE, argv[1]);
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--expect")) {
			if (i + 1 == argc || expect)
				return usage_error("--expect needs one FILE; " PROCESS_USAGE);
			expect = argv[++i];
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1])
			return usage_error("unknown option '%s'; " PROCESS_USAGE, argv[i]);
		if (mode_arg)
			return usage_error("one MODE only; " PROCESS_USAGE);
		mode_arg = argv[i];
	}
	if (mode_arg && !strcmp(mode_arg, "-")) {
		if (expect)
			return usage_error("PID - takes no --expect; " PROCESS_USAGE);
		/* Forgetting needs no identity: the sysfs file says it. */
		snprintf(path, sizeof(path), "%s/process_modes", sysfs_dir());
		snprintf(buf, sizeof(buf), "%lu -\n", pid);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			pr_err("process: %s: %s", path, strerror(errno));
			return EXIT_OP;
		}
		w = write(fd, buf, strlen(buf));
		if (w < 0) {
			pr_err("process: %s '%lu -': %s%s", path, pid, strerror(errno),
			       errno == ENOENT ? " (no entry for it)" : "");
			close(fd);
			return EXIT_OP;
		}
		close(fd);
		return 0;
	}
	if (!mode_arg && !expect)
		return usage_error("MODE or --expect is needed; " PROCESS_USAGE);
	if (mode_arg) {
		mode = pcm_mode_parse(mode_arg, strlen(mode_arg));
		if (mode < 0) {
			mode_list(modes, sizeof(modes));
			return usage_error("unknown mode '%s' (modes: %s)", mode_arg, modes);
		}
	}
	return set_process((pid_t)pid, mode, expect, "process");
}

#define RUN_USAGE "usage: pcmctl run [--mode MODE] [--expect IDENTITY_FILE] [--] COMMAND [ARG...]"

/*
 * pcmctl run: the mode (and the identity expected, for a destination or a
 * restore) of every VM the command creates, set before it exists: this
 * process's process_modes entry, which exec keeps and the processes it
 * starts inherit.  So KVM_SET_CPUID2 is masked at once, with no race
 * against the VMM.
 */
static int cmd_run(int argc, char **argv)
{
	const char *mode_arg = NULL, *expect = NULL;
	char modes[128];
	int i, mode = -1;

	for (i = 1; i < argc; i++) {
		const char *v = NULL;

		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (argv[i][0] != '-')
			break;		/* the command */
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("%s\n"
			       "Runs COMMAND (a VMM) so that every VM it, or a process it starts,\n"
			       "creates is in MODE from birth (MODE defaults to the identity's), and,\n"
			       "with --expect, cannot run unless it gives its guest everything the\n"
			       "identity lists.  Refuses (exit 1) when this host cannot.\n",
			       RUN_USAGE);
			return 0;
		}
		if (!strcmp(argv[i], "--mode") || !strcmp(argv[i], "--expect")) {
			if (i + 1 == argc)
				return usage_error("%s needs a value; " RUN_USAGE, argv[i]);
			v = argv[i + 1];
		} else if (!strncmp(argv[i], "--mode=", 7) || !strncmp(argv[i], "--expect=", 9)) {
			v = strchr(argv[i], '=') + 1;
		} else {
			return usage_error("unknown option '%s'; " RUN_USAGE, argv[i]);
		}
		if (argv[i][2] == 'm') {
			if (mode_arg)
				return usage_error("--mode given twice; " RUN_USAGE);
			mode_arg = v;
		} else {
			if (expect)
				return usage_error("--expect given twice; " RUN_USAGE);
			expect = v;
		}
		if (v == argv[i + 1])
			i++;
	}
	if (i >= argc)
		return usage_error("no command to run; " RUN_USAGE);
	if (!mode_arg && !expect)
		return usage_error("--mode or --expect is needed; " RUN_USAGE);
	if (mode_arg) {
		mode = pcm_mode_parse(mode_arg, strlen(mode_arg));
		if (mode < 0) {
			mode_list(modes, sizeof(modes));
			return usage_error("unknown mode '%s' (modes: %s)", mode_arg, modes);
		}
	}

	if (set_process(0, mode, expect, "run"))
		return EXIT_OP;
	fflush(stdout);
	execvp(argv[i], argv + i);
	pr_err("run: %s: %s", argv[i], strerror(errno));
	return EXIT_OP;
}

#define CHECK_USAGE "usage: pcmctl check FILE [--host HOST_IDENTITY_FILE [--baseline LIST]]"

static int cmd_check(int argc, char **argv)
{
	const char *file = NULL, *host = NULL, *baseline = NULL;
	struct pcm_kvm_identity vm;
	int i, ret;

	check_json = take_flag(&argc, argv, "--json");
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--host") || !strcmp(argv[i], "--baseline")) {
			if (i + 1 == argc)
				return usage_error("%s needs an argument; " CHECK_USAGE, argv[i]);
			if (argv[i][2] == 'h')
				host = argv[++i];
			else
				baseline = argv[++i];
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1])
			return usage_error("unknown option '%s'; " CHECK_USAGE, argv[i]);
		if (file)
			return usage_error("one identity FILE only; " CHECK_USAGE);
		file = argv[i];
	}
	if (!file)
		return usage_error(CHECK_USAGE);
	if (host && !strcmp(file, "-") && !strcmp(host, "-"))
		return usage_error("FILE and --host cannot both be standard input");
	if (baseline && !host)
		return usage_error("%s",
				   "--baseline is for the offline check (--host): the kernel uses its own baseline");

	ret = load_identity(file, strcmp(file, "-") ? file : "<stdin>", &vm, NULL);
	if (ret)
		return ret;
	return host ? check_offline(&vm, host, baseline) : check_online(&vm);
}

/* Host profiles: pcmctl host, host --from-cpuid, baseline, apply */

#define PROFILE_VERSION		1U
#define PROFILE_STR		64

/* One host of a pool: the text form is documented in --help. */
struct profile {
	char name[PROFILE_STR];
	char vendor[PROFILE_STR];
	char family[PROFILE_STR];
	char model[PROFILE_STR];
	char stepping[PROFILE_STR];
	char kernel[PROFILE_STR];
	char microcode[PROFILE_STR];
	char module[PROFILE_STR];
	unsigned long long max_basic_leaf;
	unsigned long long max_ext_leaf;
	unsigned long long phys_bits;
	unsigned long long xcr0;
	struct pcm_fs features;
	struct pcm_fs withheld;
	/*
	 * Its feature MSRs were read (live, from /dev/kvm through the module);
	 * a CPUID dump, or a profile that predates them, has none to give.
	 */
	bool msrs_known;
	/* A pool file (the output of baseline) read as one pseudo-host. */
	bool is_pool;
	char *hosts;		/* its "hosts:" line, malloc'ed; NULL if none */
};

static void set_dash(char *s)
{
	s[0] = '-';
	s[1] = '\0';
}

static void profile_init(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	set_dash(p->name);
	set_dash(p->vendor);
	set_dash(p->family);
	set_dash(p->model);
	set_dash(p->stepping);
	set_dash(p->kernel);
	set_dash(p->microcode);
	set_dash(p->module);
}

/* Copy a one-line value: printable ASCII, "-" if empty. */
static void copy_value(char *dst, const char *src, size_t len)
{
	size_t i;

	while (len && isspace((unsigned char)*src)) {
		src++;
		len--;
	}
	while (len && isspace((unsigned char)src[len - 1]))
		len--;
	if (len > PROFILE_STR - 1)
		len = PROFILE_STR - 1;
	for (i = 0; i < len; i++)
		dst[i] = (src[i] > 0x20 && src[i] < 0x7f) ? src[i] : '_';
	dst[len] = '\0';
	if (!len)
		set_dash(dst);
}

static void fs_text(const struct pcm_fs *fs, char *buf, size_t size)
{
	pcm_fs_format(fs, buf, size);
	if (!*buf)
		snprintf(buf, size, "-");
}

static void profile_print(const struct profile *p)
{
	static char text[PCM_FS_TEXT_MAX];
	unsigned int level = pcm_fs_level(&p->features);

	printf("pcm_kvm_profile: %u\n", PROFILE_VERSION);
	printf("name: %s\n", p->name);
	printf("vendor: %s\n", p->vendor);
	printf("family: %s\nmodel: %s\nstepping: %s\n", p->family, p->model,
	       p->stepping);
	printf("kernel: %s\nmicrocode: %s\n", p->kernel, p->microcode);
	printf("module: %s\n", p->module);
	printf("max_basic_leaf: 0x%llx\n", p->max_basic_leaf);
	printf("max_ext_leaf: 0x%llx\n", p->max_ext_leaf);
	printf("phys_bits: %llu\n", p->phys_bits);
	printf("xcr0: 0x%llx\n", p->xcr0);
	printf("level: %s\n",
	       level == PCM_KVM_MODE_OFF ? "none" : pcm_mode_name(level));
	fs_text(&p->features, text, sizeof(text));
	printf("features: %s\n", text);
	fs_text(&p->withheld, text, sizeof(text));
	printf("withheld: %s\n", text);
	printf("feature_msrs: %s\n", p->msrs_known ? "known" : "unknown");
}

static void json_strn(const char *s, size_t len)
{
	putchar('"');
	for (; len && *s; s++, len--) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_str(const char *s)
{
	json_strn(s, strlen(s));
}

static void json_fs(const struct pcm_fs *fs)
{
	unsigned int id;
	bool first = true;

	putchar('[');
	for (id = 0; id < PCM_NR_FEATURES; id++) {
		if (!pcm_fs_test(fs, id))
			continue;
		printf("%s\"%s\"", first ? "" : ", ", pcm_features[id].name);
		first = false;
	}
	putchar(']');
}

/* ", "limits": {...}" */
static void json_limits(unsigned long long basic, unsigned long long ext,
			unsigned long long phys, unsigned long long xcr0)
{
	printf(", \"limits\": {\"max_basic_leaf\": %llu, \"max_ext_leaf\": %llu",
	       basic, ext);
	printf(", \"phys_bits\": %llu, \"xcr0\": %llu}", phys, xcr0);
}

static const char *level_text(const struct pcm_fs *fs)
{
	unsigned int level = pcm_fs_level(fs);

	return level == PCM_KVM_MODE_OFF ? "none" : pcm_mode_name(level);
}

static void profile_json(const struct profile *p)
{
	printf("{\"name\": ");
	json_str(p->name);
	printf(", \"vendor\": ");
	json_str(p->vendor);
	printf(", \"family\": ");
	json_str(p->family);
	printf(", \"model\": ");
	json_str(p->model);
	printf(", \"stepping\": ");
	json_str(p->stepping);
	printf(", \"kernel\": ");
	json_str(p->kernel);
	printf(", \"microcode\": ");
	json_str(p->microcode);
	printf(", \"module\": ");
	json_str(p->module);
	printf(", \"level\": \"%s\", \"features\": ", level_text(&p->features));
	json_fs(&p->features);
	json_limits(p->max_basic_leaf, p->max_ext_leaf, p->phys_bits, p->xcr0);
	printf(", \"withheld\": ");
	json_fs(&p->withheld);
	printf(", \"feature_msrs\": \"%s\"}\n", p->msrs_known ? "known" : "unknown");
}

/* Family, model, stepping of a leaf 1 EAX, as the kernel computes them. */
static void fms_of(u32 eax, unsigned int *fam, unsigned int *model,
		   unsigned int *step)
{
	*fam = (eax >> 8) & 0xf;
	*model = (eax >> 4) & 0xf;
	*step = eax & 0xf;
	if (*fam == 0x6 || *fam == 0xf)
		*model |= ((eax >> 16) & 0xf) << 4;
	if (*fam == 0xf)
		*fam += (eax >> 20) & 0xff;
}

/* A profile from a raw CPUID dump: what the CPU has, no kernel, no microcode. */
static int profile_from_dump(const char *path, struct profile *p)
{
	static const unsigned int vendor_order[] = { 1, 3, 2 };	/* EBX EDX ECX */
	const struct cpuid_leaf *l0, *l1, *e, *d0;
	unsigned int fam, model, step;
	const char *base;
	struct cpuid_dump d;
	char msg[512], vendor[13];
	size_t n;
	FILE *f;
	int ret;

	profile_init(p);
	f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		pr_err("%s: %s", path, strerror(errno));
		return EXIT_OP;
	}
	ret = cpuid_dump_read(f, path, &d, msg, sizeof(msg));
	if (f != stdin)
		fclose(f);
	if (ret) {
		pr_err("%s", msg);
		return EXIT_OP;
	}
	l0 = cpuid_dump_find(&d, 0, 0);
	l1 = cpuid_dump_find(&d, 1, 0);
	if (!l0 || !l1) {
		pr_err("%s: no leaf 0x%08x: not a complete CPUID dump", path,
		       l0 ? 1 : 0);
		cpuid_dump_free(&d);
		return EXIT_OP;
	}

	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 6 && !strcmp(base + n - 6, ".cpuid"))
		n -= 6;
	copy_value(p->name, strcmp(path, "-") ? base : "stdin",
		   strcmp(path, "-") ? n : 5);

	regs_str(l0, vendor_order, ARRAY_SIZE(vendor_order), vendor);
	clean_str(vendor, 12);
	copy_value(p->vendor, vendor, strlen(vendor));
	fms_of(l1->regs[0], &fam, &model, &step);
	snprintf(p->family, sizeof(p->family), "0x%x", fam);
	snprintf(p->model, sizeof(p->model), "0x%x", model);
	snprintf(p->stepping, sizeof(p->stepping), "0x%x", step);

	p->max_basic_leaf = l0->regs[0];
	e = cpuid_dump_find(&d, 0x80000000, 0);
	p->max_ext_leaf = e ? e->regs[0] : 0;
	e = cpuid_dump_find(&d, 0x80000008, 0);
	if (e && p->max_ext_leaf >= 0x80000008)
		p->phys_bits = e->regs[0] & 0xff;

	pcm_fs_zero(&p->features);
	for (n = 0; n < d.n; n++)
		pcm_fs_add_regs(&p->features, d.e[n].leaf, d.e[n].subleaf,
				d.e[n].regs);
	check_missing_leaves(&d, path, &p->features);
	/* Intel reports SYSCALL only to 64-bit code; every 64-bit CPU has it. */
	if (pcm_fs_test(&p->features, PCM_F_LM) &&
	    !pcm_fs_test(&p->features, PCM_F_SYSCALL)) {
		pcm_fs_set(&p->features, PCM_F_SYSCALL);
		pr_err("note: %s: lm without syscall (dump taken in 32-bit mode): syscall counted as present, as every 64-bit CPU has it in 64-bit mode",
		       path);
	}
	d0 = cpuid_dump_find(&d, 0xd, 0);
	if (d0 && p->max_basic_leaf >= 0xd)
		p->xcr0 = pcm_xcr0_visible(((unsigned long long)d0->regs[3] << 32) |
					   d0->regs[0], &p->features);
	cpuid_dump_free(&d);
	return 0;
}

/* The value of "key<TAB>: value" of the first processor in /proc/cpuinfo. */
static void cpuinfo_value(const char *text, const char *key, char *out)
{
	size_t klen = strlen(key);
	const char *p = text;

	set_dash(out);
	while (*p) {
		size_t len = strcspn(p, "\n");

		size_t sp = strspn(p + klen, " \t");

		/* "model" must not match "model name" */
		if (!strncmp(p, key, klen) && klen + sp < len && p[klen + sp] == ':') {
			const char *c = p + klen + sp;

			copy_value(out, c + 1, len - (c + 1 - p));
			return;
		}
		if (!len && p != text)
			return;		/* end of the first processor */
		p += len + (p[len] == '\n');
	}
}

/*
 * This host's identity as pcm_kvm gives it (GET_HOST_IDENTITY, mode off, so
 * host_withhold counts), ABI checked: the features, the leaves KVM offers,
 * XCR0 narrowed to those features and the TSC rate of a new vCPU.
 */
static int dev_host_identity(struct pcm_kvm_identity *id, struct pcm_kvm_version *ver)
{
	struct pcm_kvm_host_identity h;
	int fd;

	fd = open_dev(O_RDONLY);
	if (fd < 0)
		return EXIT_OP;
	memset(ver, 0, sizeof(*ver));
	ver->size = sizeof(*ver);
	if (ioctl(fd, PCM_KVM_GET_VERSION, ver)) {
		pr_err("PCM_KVM_GET_VERSION: %s", strerror(errno));
		close(fd);
		return EXIT_OP;
	}
	ver->module_version[sizeof(ver->module_version) - 1] = '\0';
	if (ver->abi_version != PCM_KVM_ABI_VERSION) {
		pr_err("module ABI %u, pcmctl ABI %u: refusing to decode",
		       ver->abi_version, (unsigned int)PCM_KVM_ABI_VERSION);
		close(fd);
		return EXIT_OP;
	}
	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	h.mode = PCM_KVM_MODE_OFF;
	if (ioctl(fd, PCM_KVM_GET_HOST_IDENTITY, &h)) {
		pr_err("PCM_KVM_GET_HOST_IDENTITY: %s", strerror(errno));
		close(fd);
		return EXIT_OP;
	}
	close(fd);
	h.id.vendor[sizeof(h.id.vendor) - 1] = '\0';
	*id = h.id;
	return 0;
}

#define HOST_WITHHOLD	"/sys/module/pcm_kvm/parameters/host_withhold"

/* This host's profile: pcm_kvm, /proc/cpuinfo, uname, host_withhold. */
static int profile_live(struct profile *p)
{
	static char list[PCM_FS_TEXT_MAX + 64];
	struct pcm_kvm_identity id;
	struct pcm_kvm_version ver;
	struct utsname uts;
	char host[256], *cpuinfo;
	size_t len;
	int ret;

	profile_init(p);
	ret = dev_host_identity(&id, &ver);
	if (ret)
		return ret;
	copy_value(p->module, ver.module_version, strlen(ver.module_version));
	p->features = id.features;
	copy_value(p->vendor, id.vendor, strnlen(id.vendor, sizeof(id.vendor)));
	p->max_basic_leaf = id.max_basic_leaf;
	p->max_ext_leaf = id.max_ext_leaf;
	p->phys_bits = id.phys_bits;
	p->xcr0 = id.xcr0;
	if (!gethostname(host, sizeof(host))) {
		host[sizeof(host) - 1] = '\0';
		copy_value(p->name, host, strlen(host));
	}
	if (!uname(&uts))
		copy_value(p->kernel, uts.release, strlen(uts.release));
	if (!read_text("/proc/cpuinfo", &cpuinfo, &len)) {
		cpuinfo_value(cpuinfo, "cpu family", p->family);
		cpuinfo_value(cpuinfo, "model", p->model);
		cpuinfo_value(cpuinfo, "stepping", p->stepping);
		cpuinfo_value(cpuinfo, "microcode", p->microcode);
		free(cpuinfo);
	}
	p->msrs_known = true;
	pcm_fs_zero(&p->withheld);
	if (!read_small(HOST_WITHHOLD, list, sizeof(list)) && *list &&
	    pcm_fs_parse(list, strlen(list), &p->withheld, NULL, NULL))
		pr_err("%s: cannot parse '%s'", HOST_WITHHOLD, list);
	return 0;
}

/* Parse a feature list value; "-" is the empty list. */
static int value_fs(const char *v, size_t len, struct pcm_fs *fs,
		    const char *name, unsigned int line)
{
	const char *bad = NULL;
	size_t badlen = 0;
	int ret;

	pcm_fs_zero(fs);
	while (len && isspace((unsigned char)*v)) {
		v++;
		len--;
	}
	if (!len || (len == 1 && *v == '-'))
		return 0;
	ret = pcm_fs_parse(v, len, fs, &bad, &badlen);
	if (ret == -ENODATA)
		return 0;
	if (ret) {
		pr_err("%s:%u: unknown feature '%.*s' (`pcmctl features` lists them)",
		       name, line, badlen > 64 ? 64 : (int)badlen, bad);
		return EXIT_OP;
	}
	return 0;
}

static int value_num(const char *v, size_t len, unsigned long long *out,
		     const char *name, unsigned int line)
{
	char buf[32], *end;
	int base;

	while (len && isspace((unsigned char)*v)) {
		v++;
		len--;
	}
	while (len && isspace((unsigned char)v[len - 1]))
		len--;
	/*
	 * Decimal, or hex with 0x, as --help says: strtoull(, 0) alone would
	 * take "-1", "+1" and octal "010", and a copy cut to the buffer would
	 * read "42junk..." as 4.
	 */
	if (len && len < sizeof(buf) && isdigit((unsigned char)*v)) {
		memcpy(buf, v, len);
		buf[len] = '\0';
		base = len > 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X') ? 16 : 10;
		errno = 0;
		*out = strtoull(buf, &end, base);
		if (!errno && !*end)
			return 0;
	}
	copy_value(buf, v, len < sizeof(buf) ? len : sizeof(buf) - 1);
	pr_err("%s:%u: bad number '%s%s' (decimal, or hex with 0x)", name, line, buf,
	       len >= sizeof(buf) ? "..." : "");
	return EXIT_OP;
}

static bool is_key(const char *s, size_t klen, const char *key)
{
	return klen == strlen(key) && !strncmp(s, key, klen);
}

/* Read a profile file (the text of `pcmctl host`). */
static int profile_load(const char *path, struct profile *p)
{
	const char *name = strcmp(path, "-") ? path : "<stdin>";
	bool have_vendor = false, have_features = false;
	struct pcm_fs extra;
	unsigned int line = 0;
	const char *s, *base;
	char *text;
	size_t len;
	int ret;

	profile_init(p);
	ret = read_text(path, &text, &len);
	if (ret) {
		pr_err("%s: %s", name, ret == -EFBIG ? "too large for a profile" :
		       strerror(-ret));
		return EXIT_OP;
	}
	/* A raw CPUID dump given as a profile: decode it as host --from-cpuid. */
	if (strcmp(path, "-") && strstr(text, " eax=0x") && !strstr(text, "vendor:")) {
		free(text);
		return profile_from_dump(path, p);
	}
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	copy_value(p->name, base, strlen(base));
	for (s = text; *s && !ret; ) {
		size_t ll = strcspn(s, "\n"), klen, vlen;
		const char *colon = memchr(s, ':', ll), *v;

		line++;
		klen = colon ? (size_t)(colon - s) : 0;
		v = colon ? colon + 1 : NULL;
		vlen = colon ? ll - klen - 1 : 0;
		if (!ll || *s == '#' || strspn(s, " \t\r") == ll) {
			/* blank or comment */
		} else if (!colon) {
			pr_err("%s:%u: not a 'key: value' line", name, line);
			ret = EXIT_OP;
		} else if (is_key(s, klen, "name")) {
			copy_value(p->name, v, vlen);
		} else if (is_key(s, klen, "vendor")) {
			copy_value(p->vendor, v, vlen);
			have_vendor = true;
		} else if (is_key(s, klen, "family")) {
			copy_value(p->family, v, vlen);
		} else if (is_key(s, klen, "model")) {
			copy_value(p->model, v, vlen);
		} else if (is_key(s, klen, "stepping")) {
			copy_value(p->stepping, v, vlen);
		} else if (is_key(s, klen, "kernel")) {
			copy_value(p->kernel, v, vlen);
		} else if (is_key(s, klen, "microcode")) {
			copy_value(p->microcode, v, vlen);
		} else if (is_key(s, klen, "module")) {
			copy_value(p->module, v, vlen);
		} else if (is_key(s, klen, "max_basic_leaf")) {
			ret = value_num(v, vlen, &p->max_basic_leaf, name, line);
		} else if (is_key(s, klen, "max_ext_leaf")) {
			ret = value_num(v, vlen, &p->max_ext_leaf, name, line);
		} else if (is_key(s, klen, "phys_bits")) {
			ret = value_num(v, vlen, &p->phys_bits, name, line);
		} else if (is_key(s, klen, "xcr0")) {
			ret = value_num(v, vlen, &p->xcr0, name, line);
		} else if (is_key(s, klen, "features")) {
			ret = value_fs(v, vlen, &p->features, name, line);
			have_features = true;
		} else if (is_key(s, klen, "withheld")) {
			ret = value_fs(v, vlen, &p->withheld, name, line);
		} else if (is_key(s, klen, "feature_msrs")) {
			/* a pool says "unknown (from CPUID dumps: ...)" */
			while (vlen && isspace((unsigned char)*v)) {
				v++;
				vlen--;
			}
			if (vlen >= 5 && !strncmp(v, "known", 5)) {
				p->msrs_known = true;
			} else if (vlen < 7 || strncmp(v, "unknown", 7)) {
				pr_err("%s:%u: feature_msrs is known or unknown", name, line);
				ret = EXIT_OP;
			}
		} else if (is_key(s, klen, "baseline") && !have_features) {
			/* a pool file: its set, with scrub and inverted below */
			ret = value_fs(v, vlen, &extra, name, line);
			pcm_fs_or(&p->features, &p->features, &extra);
			p->is_pool = true;
		} else if (is_key(s, klen, "scrub") || is_key(s, klen, "inverted")) {
			ret = value_fs(v, vlen, &extra, name, line);
			pcm_fs_or(&p->features, &p->features, &extra);
		} else if (is_key(s, klen, "hosts") && !p->hosts) {
			p->hosts = strndup(v, vlen);
		}
		/* other keys (pcm_kvm_profile, level, ...) are informational */
		s += ll + (s[ll] == '\n');
	}
	free(text);
	if (have_features && p->is_pool) {
		pr_err("%s: both features: and baseline: lines: a profile or a pool file?",
		       name);
		ret = EXIT_OP;
	}
	if (!ret && (!have_vendor || (!have_features && !p->is_pool))) {
		pr_err("%s: not a host profile (no %s line; `pcmctl host` prints one)",
		       name, have_vendor ? "features" : "vendor");
		ret = EXIT_OP;
	}
	if (ret) {
		free(p->hosts);
		p->hosts = NULL;
	}
	return ret;
}

static int dump_profile_json(const char *path)
{
	struct profile p;
	int ret = profile_from_dump(path, &p);

	if (!ret)
		profile_json(&p);
	return ret;
}

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

/*
 * The labels (NFD local feature file) or the Placement provider config
 * (traits) of a host: tsc_khz 0 when unknown (a CPUID dump).
 */
static void host_labels(FILE *f, enum host_format fmt, const struct profile *p,
			unsigned int tsc_khz, bool tsc_known, bool scaling)
{
	unsigned int level = pcm_fs_level(&p->features), m, id;

	if (fmt == HOST_NFD) {
		fprintf(f, "# pcm_kvm: what this host gives a VM (pcmctl host --format nfd)\n");
		fprintf(f, "%slevel=%s\n", NFD_NS,
			level == PCM_KVM_MODE_OFF ? "none" : pcm_mode_name(level));
		for (m = PCM_KVM_MODE_MIN; m <= level && m <= PCM_KVM_MODE_X86_64_V4; m++)
			fprintf(f, "%slevel.%s=true\n", NFD_NS, pcm_mode_name(m));
		fprintf(f, "%svendor=%s\n", NFD_NS, p->vendor);
		if (tsc_known) {
			fprintf(f, "%stsc-khz=%u\n", NFD_NS, tsc_khz);
			fprintf(f, "%stsc-scaling=%s\n", NFD_NS, scaling ? "true" : "false");
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
	if (tsc_known && scaling)
		trait(f, "", "tsc_scaling");
	for (id = 0; id < PCM_NR_FEATURES; id++)
		if (pcm_fs_test(&p->features, id))
			trait(f, "CPU_", pcm_features[id].name);
}

/* Write to path through a temporary file in its directory and rename(2). */
static int write_atomically(const char *path, enum host_format fmt, const struct profile *p,
			    unsigned int tsc_khz, bool tsc_known, bool scaling)
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
	host_labels(f, fmt, p, tsc_khz, tsc_known, scaling);
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

#define HOST_USAGE "usage: pcmctl host [--identity | --json | --format nfd|traits [--output FILE] | --from-cpuid FILE [--json | --format nfd|traits]]"

static int cmd_host(int argc, char **argv)
{
	const char *dump = NULL, *output = NULL;
	bool identity = false, json = false, scaling = false, tsc_known = false;
	enum host_format fmt = HOST_PROFILE;
	unsigned int tsc_khz = 0;
	struct profile p;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--identity")) {
			identity = true;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--format")) {
			if (i + 1 == argc)
				return usage_error("--format needs nfd or traits; " HOST_USAGE);
			i++;
			if (!strcmp(argv[i], "nfd"))
				fmt = HOST_NFD;
			else if (!strcmp(argv[i], "traits"))
				fmt = HOST_TRAITS;
			else
				return usage_error("unknown format '%s' (nfd, traits); " HOST_USAGE,
						   argv[i]);
		} else if (!strcmp(argv[i], "--output")) {
			if (i + 1 == argc)
				return usage_error("--output needs a FILE; " HOST_USAGE);
			output = argv[++i];
		} else if (!strcmp(argv[i], "--from-cpuid")) {
			if (i + 1 == argc)
				return usage_error("--from-cpuid needs a FILE; " HOST_USAGE);
			dump = argv[++i];
		} else {
			return usage_error("unknown argument '%s'; " HOST_USAGE, argv[i]);
		}
	}
	if (identity && (json || dump || fmt != HOST_PROFILE || output))
		return usage_error("--identity takes no other option; " HOST_USAGE);
	if (json && fmt != HOST_PROFILE)
		return usage_error("--json and --format exclude each other; " HOST_USAGE);
	if (output && fmt == HOST_PROFILE)
		return usage_error("--output goes with --format; " HOST_USAGE);

	if (identity) {
		static char text[PCM_IDENTITY_TEXT_MAX];
		struct pcm_kvm_identity id;
		struct pcm_kvm_version ver;

		ret = dev_host_identity(&id, &ver);
		if (ret)
			return ret;
		pcm_identity_format(&id, text, sizeof(text));
		fputs(text, stdout);
		return 0;
	}
	ret = dump ? profile_from_dump(dump, &p) : profile_live(&p);
	if (ret)
		return ret;
	if (fmt != HOST_PROFILE) {
		if (!dump) {
			struct pcm_kvm_identity id;
			struct pcm_kvm_version ver;

			ret = dev_host_identity(&id, &ver);
			if (ret)
				return ret;
			tsc_khz = id.tsc_khz;
			tsc_known = tsc_khz != 0;
			scaling = id.flags & PCM_KVM_ID_TSC_SCALING;
		}
		if (output)
			return write_atomically(output, fmt, &p, tsc_khz, tsc_known, scaling);
		host_labels(stdout, fmt, &p, tsc_khz, tsc_known, scaling);
		return 0;
	}
	if (json)
		profile_json(&p);
	else
		profile_print(&p);
	return 0;
}

/* pcmctl baseline */

struct pool {
	struct pcm_fs hw;	/* intersection of closed HW and NO features */
	bool msrs_known;	/* every host's feature MSRs are known */
	struct pcm_fs scrub;	/* OR of SCRUB */
	struct pcm_fs inv;	/* OR of INV */
	unsigned long long max_basic_leaf, max_ext_leaf, phys_bits, xcr0;
};

/*
 * What mode baseline levels of a host, after dependency closure: its HW
 * features and its not-affected bits (NO).
 */
static void host_hw(const struct profile *p, struct pcm_fs *hw)
{
	struct pcm_fs mask, no;

	*hw = p->features;
	pcm_fs_close(hw);
	pcm_fs_of_class(&mask, PCM_CLASS_HW);
	pcm_fs_of_class(&no, PCM_CLASS_NO);
	pcm_fs_or(&mask, &mask, &no);
	pcm_fs_and(hw, hw, &mask);
}

/* Merge the hosts, skipping index skip (-1: none). */
static void pool_compute(const struct profile *h, int n, int skip, struct pool *pl)
{
	struct pcm_fs hw, scrub, inv, t;
	bool first = true;
	int i;

	memset(pl, 0, sizeof(*pl));
	pl->msrs_known = true;
	pcm_fs_of_class(&scrub, PCM_CLASS_SCRUB);
	pcm_fs_of_class(&inv, PCM_CLASS_INV);
	for (i = 0; i < n; i++) {
		if (i == skip)
			continue;
		pl->msrs_known &= h[i].msrs_known;
		host_hw(&h[i], &hw);
		pcm_fs_and(&t, &h[i].features, &scrub);
		pcm_fs_or(&pl->scrub, &pl->scrub, &t);
		pcm_fs_and(&t, &h[i].features, &inv);
		pcm_fs_or(&pl->inv, &pl->inv, &t);
		if (first) {
			pl->hw = hw;
			pl->max_basic_leaf = h[i].max_basic_leaf;
			pl->max_ext_leaf = h[i].max_ext_leaf;
			pl->phys_bits = h[i].phys_bits;
			pl->xcr0 = h[i].xcr0;
			first = false;
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
 * Refuse a mixed-vendor pool, naming the hosts not of the main vendor: the
 * one most hosts have, the earliest on a tie.  A pool has one vendor or a
 * few, so tallying each distinct vendor once is linear in practice.
 */
static int pool_vendor(const struct profile *h, int n)
{
	int *first, *count, nv = 0, i, v, best = 0;

	first = calloc(n, sizeof(*first));
	count = calloc(n, sizeof(*count));
	if (!first || !count) {
		free(first);
		free(count);
		pr_err("out of memory");
		return EXIT_OP;
	}
	for (i = 0; i < n; i++) {
		for (v = 0; v < nv; v++)
			if (!strcmp(h[first[v]].vendor, h[i].vendor))
				break;
		if (v == nv)
			first[nv++] = i;
		count[v]++;
	}
	for (v = 1; v < nv; v++)
		if (count[v] > count[best])
			best = v;
	i = first[best];
	v = count[best];
	free(first);
	free(count);
	if (v == n)
		return 0;
	fprintf(stderr, "%s: vendor mismatch: a pool is of one vendor ", prog);
	fprintf(stderr, "(cross-vendor migration is refused, not masked); ");
	fprintf(stderr, "the pool is %s (%d of %d hosts), odd hosts out:",
		h[i].vendor, v, n);
	for (v = 0; v < n; v++)
		if (strcmp(h[v].vendor, h[i].vendor))
			fprintf(stderr, " %s (%s)", h[v].name, h[v].vendor);
	fprintf(stderr, "\n");
	return EXIT_OP;
}

/*
 * Linear in the hosts: each host's closed features are computed once, and
 * retiring host i gains exactly the features i alone lacks (the pool
 * without i is the pool plus those), so no pool is recomputed per host.
 */
static void explain(const struct profile *h, int n, const struct pool *pl, bool json)
{
	static char text[PCM_FS_TEXT_MAX];
	static int lackers[PCM_NR_FEATURES], lacker[PCM_NR_FEATURES];
	struct pcm_fs any, lost, *hw;
	unsigned int id;
	bool first = true;
	int i;

	hw = calloc(n, sizeof(*hw));
	if (!hw) {
		pr_err("out of memory");
		return;
	}
	pcm_fs_zero(&any);
	for (i = 0; i < n; i++) {
		host_hw(&h[i], &hw[i]);
		pcm_fs_or(&any, &any, &hw[i]);
	}
	pcm_fs_andnot(&lost, &any, &pl->hw);
	printf(json ? ", \"held_back\": {" : "");
	for (id = 0; id < PCM_NR_FEATURES; id++) {
		bool hfirst = true;

		lackers[id] = 0;
		if (!pcm_fs_test(&lost, id))
			continue;
		if (json)
			printf("%s\"%s\": [", first ? "" : ", ", pcm_features[id].name);
		else
			printf("held back: %s by", pcm_features[id].name);
		first = false;
		for (i = 0; i < n; i++) {
			if (pcm_fs_test(&hw[i], id))
				continue;
			lackers[id]++;
			lacker[id] = i;
			if (json) {
				printf("%s", hfirst ? "" : ", ");
				json_str(h[i].name);
			} else {
				printf(" %s", h[i].name);
			}
			hfirst = false;
		}
		printf(json ? "]" : "\n");
	}
	printf(json ? "}, \"retire_gains\": {" : "");
	for (i = 0; i < n && n > 1; i++) {
		struct pcm_fs gain, without;

		pcm_fs_zero(&gain);
		for (id = 0; id < PCM_NR_FEATURES; id++)
			if (lackers[id] == 1 && lacker[id] == i)
				pcm_fs_set(&gain, id);
		if (json) {
			printf("%s", i ? ", " : "");
			json_str(h[i].name);
			printf(": ");
			json_fs(&gain);
			continue;
		}
		pcm_fs_or(&without, &pl->hw, &gain);
		fs_text(&gain, text, sizeof(text));
		printf("retire %s: gains %s (level %s)\n", h[i].name, text,
		       level_text(&without));
	}
	printf(json ? "}" : "");
	free(hw);
}

/* Join and leave: the running VMs of `pcmctl vms --json` files */

struct vm_ref {
	char label[160];		/* FILE:ID */
	struct pcm_kvm_identity id;
};

struct vm_refs {
	struct vm_ref *v;
	size_t n, cap;
	const char *file;		/* being read */
};

/*
 * A small JSON reader, enough for `pcmctl vms --json` however it was
 * reformatted (jq, concatenation of hosts' arrays): every object with
 * string members "id" and "identity" is a VM.
 */
struct jp {
	const char *s, *end;
	const char *err;
};

#define JSON_DEPTH_MAX	32

static void jp_ws(struct jp *j)
{
	while (j->s < j->end && isspace((unsigned char)*j->s))
		j->s++;
}

static int jp_fail(struct jp *j, const char *why)
{
	if (!j->err)
		j->err = why;
	return -1;
}

/* A string; *out gets a malloc'ed unescaped copy if out is not NULL. */
static int jp_string(struct jp *j, char **out)
{
	size_t cap = 64, n = 0;
	char *buf = NULL, *nb;

	if (j->s >= j->end || *j->s != '"')
		return jp_fail(j, "expected a string");
	j->s++;
	if (out) {
		buf = malloc(cap);
		if (!buf)
			return jp_fail(j, "out of memory");
	}
	while (j->s < j->end && *j->s != '"') {
		char c = *j->s++;

		if ((unsigned char)c < 0x20)
			goto bad;
		if (c == '\\') {
			unsigned int u;

			if (j->s >= j->end)
				goto bad;
			c = *j->s++;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				break;
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				c = c == 'b' ? '\b' : c == 'f' ? '\f' : c == 'n' ? '\n' :
				    c == 'r' ? '\r' : '\t';
				break;
			case 'u':
				if (j->end - j->s < 4 || sscanf(j->s, "%4x", &u) != 1 ||
				    !isxdigit((unsigned char)j->s[3]))
					goto bad;
				j->s += 4;
				/* identities are ASCII; anything else is kept visible */
				c = (u >= 0x20 && u < 0x7f) || u == '\n' || u == '\t' ?
				    (char)u : '?';
				break;
			default:
				goto bad;
			}
		}
		if (!out)
			continue;
		if (n + 1 >= cap) {
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return jp_fail(j, "out of memory");
			}
			buf = nb;
		}
		buf[n++] = c;
	}
	if (j->s >= j->end)
		goto bad;
	j->s++;
	if (out) {
		buf[n] = '\0';
		*out = buf;
	}
	return 0;
bad:
	free(buf);
	return jp_fail(j, "bad string");
}

static int vm_refs_add(struct vm_refs *r, const char *id, const char *identity)
{
	const char *bad = NULL, *base;
	struct vm_ref *nv;
	size_t badlen = 0;
	int ret;

	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		nv = realloc(r->v, r->cap * sizeof(*nv));
		if (!nv) {
			pr_err("out of memory");
			return -1;
		}
		r->v = nv;
	}
	base = strrchr(r->file, '/');
	base = base ? base + 1 : r->file;
	snprintf(r->v[r->n].label, sizeof(r->v[r->n].label), "%s:%s", base, id);
	ret = pcm_identity_parse(identity, strlen(identity), &r->v[r->n].id, &bad,
				 &badlen);
	if (ret) {
		pr_err("%s: VM %s: its identity does not parse (%s%.*s)", r->file, id,
		       ret == -EINVAL ? "at " : strerror(-ret),
		       ret == -EINVAL ? (badlen > 40 ? 40 : (int)badlen) : 0,
		       bad ? bad : "");
		return -1;
	}
	r->n++;
	return 0;
}

static int jp_value(struct jp *j, int depth, struct vm_refs *r);

static int jp_object(struct jp *j, int depth, struct vm_refs *r)
{
	char *key, *id = NULL, *identity = NULL;
	int ret;

	j->s++;
	jp_ws(j);
	if (j->s < j->end && *j->s == '}') {
		j->s++;
		return 0;
	}
	for (;;) {
		jp_ws(j);
		if (jp_string(j, &key))
			break;
		jp_ws(j);
		if (j->s >= j->end || *j->s != ':') {
			free(key);
			jp_fail(j, "expected ':'");
			break;
		}
		j->s++;
		jp_ws(j);
		if ((!strcmp(key, "id") || !strcmp(key, "identity")) &&
		    j->s < j->end && *j->s == '"') {
			char **dst = key[2] ? &identity : &id;

			free(*dst);
			*dst = NULL;
			ret = jp_string(j, dst);
		} else {
			ret = jp_value(j, depth + 1, r);
		}
		free(key);
		if (ret)
			break;
		jp_ws(j);
		if (j->s < j->end && *j->s == ',') {
			j->s++;
			continue;
		}
		if (j->s < j->end && *j->s == '}') {
			j->s++;
			if (id && identity && vm_refs_add(r, id, identity))
				jp_fail(j, "bad VM");
			free(id);
			free(identity);
			return j->err ? -1 : 0;
		}
		jp_fail(j, "expected ',' or '}'");
		break;
	}
	free(id);
	free(identity);
	return -1;
}

static int jp_value(struct jp *j, int depth, struct vm_refs *r)
{
	static const char *const words[] = { "true", "false", "null" };
	size_t i;

	if (depth > JSON_DEPTH_MAX)
		return jp_fail(j, "nested too deeply");
	jp_ws(j);
	if (j->s >= j->end)
		return jp_fail(j, "unexpected end");
	if (*j->s == '{')
		return jp_object(j, depth, r);
	if (*j->s == '"')
		return jp_string(j, NULL);
	if (*j->s == '[') {
		j->s++;
		jp_ws(j);
		if (j->s < j->end && *j->s == ']') {
			j->s++;
			return 0;
		}
		for (;;) {
			if (jp_value(j, depth + 1, r))
				return -1;
			jp_ws(j);
			if (j->s < j->end && *j->s == ',') {
				j->s++;
				continue;
			}
			if (j->s < j->end && *j->s == ']') {
				j->s++;
				return 0;
			}
			return jp_fail(j, "expected ',' or ']'");
		}
	}
	for (i = 0; i < ARRAY_SIZE(words); i++) {
		size_t l = strlen(words[i]);

		if ((size_t)(j->end - j->s) >= l && !strncmp(j->s, words[i], l)) {
			j->s += l;
			return 0;
		}
	}
	if (*j->s == '-' || isdigit((unsigned char)*j->s)) {
		j->s++;
		while (j->s < j->end && (isdigit((unsigned char)*j->s) ||
					 strchr(".eE+-", *j->s)))
			j->s++;
		return 0;
	}
	return jp_fail(j, "unexpected character");
}

/* Read the VMs of a `pcmctl vms --json` file (one or more JSON values). */
static int vm_refs_load(const char *path, struct vm_refs *r)
{
	struct jp j;
	size_t len;
	char *text;
	int ret;

	ret = read_text(path, &text, &len);
	if (ret) {
		pr_err("%s: %s", path, strerror(-ret));
		return EXIT_OP;
	}
	r->file = path;
	j.s = text;
	j.end = text + len;
	j.err = NULL;
	ret = 0;
	for (jp_ws(&j); j.s < j.end && !ret; jp_ws(&j))
		ret = jp_value(&j, 0, r);
	if (ret && j.err && strcmp(j.err, "bad VM"))
		pr_err("%s: not the JSON of `pcmctl vms --json`: %s at byte %zu",
		       path, j.err, (size_t)(j.s - text));
	free(text);
	return ret ? EXIT_OP : 0;
}

/* Is name a word of the blank-separated list? */
static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (p && *p) {
		p += strspn(p, " \t");
		if (!strncmp(p, name, n) && (!p[n] || isspace((unsigned char)p[n])))
			return true;
		p += strcspn(p, " \t");
	}
	return false;
}

/* A host of the pool as a migration destination for a VM (as check --host). */
static void host_as_destination(const struct profile *h, const struct pcm_fs *baseline,
				unsigned int mode, struct pcm_kvm_identity *dst)
{
	struct pcm_fs allow;

	memset(dst, 0, sizeof(*dst));
	dst->mode = mode;
	snprintf(dst->vendor, sizeof(dst->vendor), "%s", h->vendor);
	dst->max_basic_leaf = h->max_basic_leaf;
	dst->max_ext_leaf = h->max_ext_leaf;
	dst->phys_bits = h->phys_bits;
	dst->xcr0 = h->xcr0;
	dst->features = h->features;
	pcm_fs_close(&dst->features);
	pcm_mode_allow(mode, baseline, &allow);
	pcm_fs_and(&dst->features, &dst->features, &allow);
}

/*
 * Which running VMs could no longer move to which hosts of the new pool.
 * A host that baseline mode VMs move to has the new baseline installed.
 */
static unsigned int vm_impact(const struct vm_refs *r, const struct profile *h,
			      int n, const struct pcm_fs *baseline, bool json)
{
	static char line[PCM_FS_TEXT_MAX + 256];
	struct pcm_kvm_identity dst;
	struct pcm_fs missing, extra;
	unsigned int limits, result, blocked = 0;
	size_t v;
	int i;

	for (v = 0; v < r->n; v++) {
		for (i = 0; i < n; i++) {
			if (h[i].is_pool)
				continue;	/* hosts that took these VMs already */
			host_as_destination(&h[i], baseline, r->v[v].id.mode, &dst);
			result = pcm_identity_check(&r->v[v].id, &dst, &missing,
						    &extra, &limits);
			if (result <= PCM_KVM_CHECK_COMPATIBLE)
				continue;
			pcm_check_format(result, &r->v[v].id, &dst, &missing, &extra,
					 limits, line, sizeof(line));
			if (json) {
				printf("%s{\"vm\": ", blocked ? ", " : "");
				json_str(r->v[v].label);
				printf(", \"mode\": \"%s\", \"host\": ",
				       pcm_mode_name(r->v[v].id.mode));
				json_str(h[i].name);
				printf(", \"missing\": ");
				json_fs(&missing);
				printf(", \"verdict\": ");
				json_str(line);
				putchar('}');
			} else {
				printf("blocked: %s (mode %s) cannot move to %s: %s\n",
				       r->v[v].label, pcm_mode_name(r->v[v].id.mode),
				       h[i].name, line);
			}
			blocked++;
		}
	}
	return blocked;
}

#define BASELINE_USAGE "usage: pcmctl baseline [--json] [--explain] PROFILE...\n" \
	"       pcmctl baseline --current POOL_FILE [--add PROFILE]... [--remove HOST]...\n" \
	"                       [--vms VMS_JSON]... [--json] [--explain] [PROFILE...]"

/* A host's name; for the pool file standing for hosts, theirs. */
static void host_names(const struct profile *h, bool first, bool json)
{
	const char *p = h->is_pool && h->hosts ? h->hosts : NULL;
	char name[PROFILE_STR];

	if (!p) {
		fputs(json ? (first ? "" : ", ") : " ", stdout);
		if (json)
			json_str(h->name);
		else
			printf("%s", h->name);
		return;
	}
	for (; *(p += strspn(p, " \t")); p += strcspn(p, " \t")) {
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(p, " \t"), p);
		fputs(json ? (first ? "" : ", ") : " ", stdout);
		first = false;
		if (json)
			json_str(name);
		else
			printf("%s", name);
	}
}

/* The pool's text or JSON body (without the closing brace of JSON). */
static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of the hosts whose feature MSRs are unknown, sorted. */
static void msrs_unknown_names(const struct profile *h, int n, bool json)
{
	const char **names = calloc(n ? n : 1, sizeof(*names));
	int i, k = 0;

	if (!names)
		return;
	for (i = 0; i < n; i++)
		if (!h[i].msrs_known)
			names[k++] = h[i].name;
	qsort(names, k, sizeof(*names), cmp_name);
	for (i = 0; i < k; i++) {
		if (json) {
			printf("%s", i ? ", " : "");
			json_str(names[i]);
		} else {
			printf(" %s", names[i]);
		}
	}
	free(names);
}

static void pool_print(const struct profile *h, int n, const struct pool *pl,
		       bool json, bool expl)
{
	static char text[PCM_FS_TEXT_MAX];
	int i;

	if (json) {
		printf("{\"hosts\": [");
		for (i = 0; i < n; i++)
			host_names(&h[i], i == 0, true);
		printf("], \"vendor\": ");
		json_str(h[0].vendor);
		printf(", \"level\": \"%s\", \"baseline\": ", level_text(&pl->hw));
		json_fs(&pl->hw);
		printf(", \"scrub\": ");
		json_fs(&pl->scrub);
		printf(", \"inverted\": ");
		json_fs(&pl->inv);
		json_limits(pl->max_basic_leaf, pl->max_ext_leaf, pl->phys_bits, pl->xcr0);
		printf(", \"feature_msrs\": \"%s\", \"feature_msrs_unknown\": [",
		       pl->msrs_known ? "known" : "unknown");
		msrs_unknown_names(h, n, true);
		printf("], \"gives_up\": {");
	} else {
		printf("hosts:");
		for (i = 0; i < n; i++)
			host_names(&h[i], i == 0, false);
		printf("\nvendor: %s\n", h[0].vendor);
		print_level(&pl->hw);
		printf("max_basic_leaf: 0x%llx\nmax_ext_leaf: 0x%llx\n",
		       pl->max_basic_leaf, pl->max_ext_leaf);
		printf("phys_bits: %llu\nxcr0: 0x%llx\n", pl->phys_bits, pl->xcr0);
		fs_text(&pl->scrub, text, sizeof(text));
		printf("scrub: %s\n", text);
		fs_text(&pl->inv, text, sizeof(text));
		printf("inverted: %s\n", text);
		/*
		 * A host whose feature MSRs are unknown has none to give: the
		 * pool then shows none of their not-affected bits.  Say why.
		 */
		printf("feature_msrs: %s", pl->msrs_known ? "known" : "unknown (not read on:");
		if (!pl->msrs_known)
			msrs_unknown_names(h, n, false);
		printf("%s\n", pl->msrs_known ? "" : "; from a CPUID dump or an older profile)");
	}
	for (i = 0; i < n; i++) {
		struct pcm_fs hw, lost;

		host_hw(&h[i], &hw);
		pcm_fs_andnot(&lost, &hw, &pl->hw);
		if (json) {
			printf("%s", i ? ", " : "");
			json_str(h[i].name);
			printf(": ");
			json_fs(&lost);
			continue;
		}
		fs_text(&lost, text, sizeof(text));
		printf("gives up %s: %s\n", h[i].name, text);
	}
	if (json)
		printf("}");
	if (expl)
		explain(h, n, pl, json);
	if (!json) {
		pcm_fs_format(&pl->hw, text, sizeof(text));
		printf("baseline: %s\n", text);
	}
}

struct baseline_args {
	bool json, expl;
	const char *current;
	const char **removed;
	int nremoved;
	const char **vms;
	int nvms;
	int nadded;
};

/*
 * The hosts of the new pool from --current: the profiles given (members
 * and added), minus the removed; the pool file itself stands for the
 * members without a profile, which is only possible when none leaves.
 */
static int pool_members(struct profile *h, int *n, struct profile *cur,
			const struct baseline_args *a)
{
	const char *hosts = cur->hosts ? cur->hosts : "";
	static char missing[4096];
	bool all_profiles = true;
	struct pool all;
	size_t ml = 0;
	int i, j, k = 0;
	const char *p;

	for (i = 0; i < a->nremoved; i++) {
		if (!in_list(hosts, a->removed[i])) {
			pr_err("--remove %s: not a host of %s (hosts:%s)", a->removed[i],
			       a->current, hosts);
			return EXIT_OP;
		}
	}
	for (i = 0; i < *n; i++) {
		if (i >= *n - a->nadded && in_list(hosts, h[i].name)) {
			pr_err("--add %s: already a host of %s", h[i].name, a->current);
			return EXIT_OP;
		}
	}
	/* The current hosts that stay and have no profile here. */
	missing[0] = '\0';
	for (p = hosts; *(p += strspn(p, " \t")); p += strcspn(p, " \t")) {
		size_t l = strcspn(p, " \t");
		char name[PROFILE_STR];
		bool have = false, gone = false;

		snprintf(name, sizeof(name), "%.*s", (int)l, p);
		for (i = 0; i < a->nremoved; i++)
			gone |= !strcmp(a->removed[i], name);
		for (i = 0; i < *n - a->nadded; i++)
			have |= !strcmp(h[i].name, name);
		all_profiles &= have;
		if (!have && !gone && ml + l + 2 < sizeof(missing))
			ml += snprintf(missing + ml, sizeof(missing) - ml, " %s", name);
	}
	if (ml && a->nremoved) {
		pr_err("removing a host needs the profiles of the hosts that stay; missing:%s",
		       missing);
		return EXIT_OP;
	}
	/* Profiles of every current host: do they still make the current pool? */
	if (all_profiles && *n > a->nadded) {
		struct pcm_fs cur_hw, mask;

		pool_compute(h, *n - a->nadded, -1, &all);
		cur_hw = cur->features;
		pcm_fs_of_class(&mask, PCM_CLASS_HW);
		pcm_fs_and(&cur_hw, &cur_hw, &mask);
		if (memcmp(&cur_hw, &all.hw, sizeof(cur_hw)))
			pr_err("note: the profiles given do not make the baseline of %s (a host changed since?): the new pool is computed from the profiles",
			       a->current);
	}
	/* Drop the removed, keep the order of the others. */
	for (i = 0; i < *n; i++) {
		bool gone = false;

		for (j = 0; j < a->nremoved; j++)
			gone |= !strcmp(a->removed[j], h[i].name);
		if (!gone)
			h[k++] = h[i];
	}
	*n = k;
	if (ml) {
		/* The pool file stands for the hosts without a profile. */
		memmove(h + 1, h, *n * sizeof(*h));
		h[0] = *cur;	/* hosts stays owned by cur */
		snprintf(h[0].name, sizeof(h[0].name), "current-pool");
		(*n)++;
	}
	if (!*n) {
		pr_err("no host left in the pool");
		return EXIT_OP;
	}
	return 0;
}

/* What the change does to the set new VMs get. */
static void pool_change(const struct profile *cur, const struct pool *pl,
			const struct baseline_args *a, char **argv_added, bool json)
{
	static char text[PCM_FS_TEXT_MAX];
	struct pcm_fs cur_hw, mask, gained, lost;
	int i;

	pcm_fs_of_class(&mask, PCM_CLASS_HW);
	pcm_fs_and(&cur_hw, &cur->features, &mask);
	pcm_fs_andnot(&gained, &pl->hw, &cur_hw);
	pcm_fs_andnot(&lost, &cur_hw, &pl->hw);
	if (json) {
		printf(", \"change\": {\"added\": [");
		for (i = 0; i < a->nadded; i++) {
			printf("%s", i ? ", " : "");
			json_str(argv_added[i]);
		}
		printf("], \"removed\": [");
		for (i = 0; i < a->nremoved; i++) {
			printf("%s", i ? ", " : "");
			json_str(a->removed[i]);
		}
		printf("], \"gained\": ");
		json_fs(&gained);
		printf(", \"lost\": ");
		json_fs(&lost);
		printf(", \"previous_level\": \"%s\"}", level_text(&cur_hw));
		return;
	}
	printf("change:");
	for (i = 0; i < a->nadded; i++)
		printf(" +%s", argv_added[i]);
	for (i = 0; i < a->nremoved; i++)
		printf(" -%s", a->removed[i]);
	printf(" (level %s -> %s)\n", level_text(&cur_hw), level_text(&pl->hw));
	fs_text(&gained, text, sizeof(text));
	printf("gained: %s\n", text);
	fs_text(&lost, text, sizeof(text));
	printf("lost: %s\n", text);
}

static int cmd_baseline(int argc, char **argv)
{
	struct baseline_args a = { 0 };
	struct profile *h, cur;
	struct vm_refs refs = { 0 };
	char **added_names = NULL;
	unsigned int blocked = 0;
	int i, n = 0, ret = 0;
	struct pool pl;
	int *is_added;

	profile_init(&cur);
	h = calloc(argc + 1, sizeof(*h));
	is_added = calloc(argc + 1, sizeof(*is_added));
	a.removed = calloc(argc, sizeof(*a.removed));
	a.vms = calloc(argc, sizeof(*a.vms));
	added_names = calloc(argc + 1, sizeof(*added_names));
	if (!h || !is_added || !a.removed || !a.vms || !added_names) {
		pr_err("out of memory");
		ret = EXIT_OP;
		goto out;
	}
	for (i = 1; i < argc && !ret; i++) {
		const char *opt = argv[i];
		bool takes = !strcmp(opt, "--current") || !strcmp(opt, "--add") ||
			     !strcmp(opt, "--remove") || !strcmp(opt, "--vms");

		if (takes && i + 1 == argc) {
			ret = usage_error("%s needs an argument\n" BASELINE_USAGE, opt);
		} else if (!strcmp(opt, "--json")) {
			a.json = true;
		} else if (!strcmp(opt, "--explain")) {
			a.expl = true;
		} else if (!strcmp(opt, "--current")) {
			if (a.current)
				ret = usage_error("--current given twice\n" BASELINE_USAGE);
			a.current = argv[++i];
		} else if (!strcmp(opt, "--remove")) {
			a.removed[a.nremoved++] = argv[++i];
		} else if (!strcmp(opt, "--vms")) {
			a.vms[a.nvms++] = argv[++i];
		} else if (!strcmp(opt, "--add")) {
			is_added[n] = 1;
			ret = profile_load(argv[++i], &h[n++]);
		} else if (opt[0] == '-' && opt[1]) {
			ret = usage_error("unknown option '%s'\n" BASELINE_USAGE, opt);
		} else {
			ret = profile_load(opt, &h[n++]);
		}
	}
	if (ret)
		goto out;
	for (i = 0; i < n; i++)
		a.nadded += is_added[i];
	if (!a.current && (a.nremoved || a.nvms || a.nadded)) {
		ret = usage_error("--add, --remove and --vms need --current POOL_FILE\n"
				  BASELINE_USAGE);
		goto out;
	}
	if (!a.current && !n) {
		ret = usage_error("no PROFILE\n" BASELINE_USAGE);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (h[i].is_pool) {
			pr_err("%s: a pool file, not a host profile (use it with --current)",
			       h[i].name);
			ret = EXIT_OP;
			goto out;
		}
	}
	if (a.current) {
		struct profile *sorted = calloc(n + 1, sizeof(*sorted));
		int k = 0;

		if (!sorted) {
			pr_err("out of memory");
			ret = EXIT_OP;
			goto out;
		}
		/* members first, then the added hosts, in command line order */
		for (i = 0; i < n; i++)
			if (!is_added[i])
				sorted[k++] = h[i];
		for (i = 0; i < n; i++)
			if (is_added[i])
				sorted[k++] = h[i];
		memcpy(h, sorted, n * sizeof(*h));
		free(sorted);
		/* names copied: pool_members() moves the profiles */
		for (i = 0; i < a.nadded; i++)
			added_names[i] = strdup(h[n - a.nadded + i].name);
		for (i = 0; i < a.nadded; i++)
			if (!added_names[i]) {
				pr_err("out of memory");
				ret = EXIT_OP;
				goto out;
			}
		ret = profile_load(a.current, &cur);
		if (!ret && !cur.is_pool) {
			pr_err("%s: not a pool file (no baseline: line; `pcmctl baseline` prints one)",
			       a.current);
			ret = EXIT_OP;
		}
		if (!ret && !a.nadded && !a.nremoved)
			ret = usage_error("--current without --add or --remove\n" BASELINE_USAGE);
		if (!ret)
			ret = pool_members(h, &n, &cur, &a);
		for (i = 0; i < a.nvms && !ret; i++)
			ret = vm_refs_load(a.vms[i], &refs);
		if (ret)
			goto out;
	}
	ret = pool_vendor(h, n);
	if (ret)
		goto out;
	pool_compute(h, n, -1, &pl);
	pool_print(h, n, &pl, a.json, a.expl);
	if (a.current) {
		pool_change(&cur, &pl, &a, added_names, a.json);
		if (a.json)
			printf(", \"vms_checked\": %zu, \"blocked\": [", refs.n);
		blocked = vm_impact(&refs, h, n, &pl.hw, a.json);
		if (a.json)
			printf("]");
		else if (a.nvms)
			printf("vms: %zu checked, %u move%s refused\n", refs.n, blocked,
			       blocked == 1 ? "" : "s");
	}
	if (a.json)
		printf("}\n");
	ret = blocked ? EXIT_OP : 0;
out:
	for (i = 0; h && i < argc + 1; i++)
		if (h[i].hosts != cur.hosts)
			free(h[i].hosts);
	free(cur.hosts);
	free(refs.v);
	for (i = 0; added_names && i < a.nadded; i++)
		free(added_names[i]);
	free(added_names);
	free(a.vms);
	free(a.removed);
	free(is_added);
	free(h);
	return ret;
}

/* pcmctl apply */

static int cmd_apply(int argc, char **argv)
{
	static char hostlist[PCM_FS_TEXT_MAX + 64], out[PCM_FS_TEXT_MAX + 2];
	const char *name, *list, *bad = NULL;
	struct pcm_fs want, host, missing;
	char path[PATH_MAX + 32], *text;
	size_t len, badlen = 0, ll;
	bool have_host;
	int ret, fd;

	bool json = take_flag(&argc, argv, "--json");

	if (argc != 2)
		return usage_error("usage: pcmctl apply [--json] FILE");
	name = strcmp(argv[1], "-") ? argv[1] : "<stdin>";
	ret = read_text(argv[1], &text, &len);
	if (ret) {
		pr_err("%s: %s", name, strerror(-ret));
		return EXIT_OP;
	}
	list = find_value(text, "baseline", &ll);
	if (!list) {
		list = text;
		ll = len;
	}
	ret = pcm_fs_parse(list, ll, &want, &bad, &badlen);
	if (ret) {
		if (ret == -ENODATA)
			pr_err("%s: no feature name", name);
		else
			pr_err("%s: unknown feature '%.*s'", name,
			       badlen > 64 ? 64 : (int)badlen, bad);
		free(text);
		return EXIT_OP;
	}
	free(text);

	/* Say which features this host lacks before the kernel refuses. */
	snprintf(path, sizeof(path), "%s/host_features", sysfs_dir());
	have_host = !read_small(path, hostlist, sizeof(hostlist)) &&
		    !pcm_fs_parse(hostlist, strlen(hostlist), &host, NULL, NULL);
	if (have_host) {
		pcm_fs_andnot(&missing, &want, &host);
		if (!pcm_fs_empty(&missing)) {
			pcm_fs_format(&missing, out, sizeof(out));
			pr_err("this host cannot join the pool: missing %s", out);
			return EXIT_OP;
		}
	}

	len = pcm_fs_format(&want, out, sizeof(out) - 1);
	out[len++] = '\n';
	snprintf(path, sizeof(path), "%s/baseline", sysfs_dir());
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		pr_err("%s: %s%s", path, strerror(errno),
		       errno == ENOENT ? " (is the pcm_kvm module loaded?)" : "");
		return EXIT_OP;
	}
	if (write(fd, out, len) != (ssize_t)len) {
		int err = errno;

		close(fd);
		if (err == EINVAL)
			pr_err("%s: refused (EINVAL): this host cannot join the pool%s",
			       path, have_host ? "" :
			       " (see the kernel log for the missing features)");
		else
			pr_err("%s: %s", path, strerror(err));
		return EXIT_OP;
	}
	if (close(fd)) {
		pr_err("%s: %s", path, strerror(errno));
		return EXIT_OP;
	}
	out[len - 1] = '\0';
	if (json) {
		printf("{\"baseline\": ");
		json_fs(&want);
		printf("}\n");
	} else {
		printf("baseline: %s\n", out);
	}
	return 0;
}

/* pcmctl vms, show, set */

/* What vms and show print of one VM (sysfs_dir()/vms/PID-FD/). */
struct vm_info {
	char id[64];
	int pid;
	char comm[64];		/* "" when the process is gone */
	char mode[64];
	char status[1024];	/* "" when there is no status file */
	char *requested;	/* NULL when absent */
	char *visible;
	char *hidden;
	char *identity;		/* NULL when absent */
};

/* Read sysfs file dir/name into a new buffer; NULL if absent/unreadable. */
static char *read_vm_file(const char *dir, const char *name)
{
	char path[PATH_MAX + 64];
	char *buf;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return NULL;
	buf = malloc(65536);
	if (!buf)
		return NULL;
	if (read_small(path, buf, 65536)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void vm_info_free(struct vm_info *vm)
{
	free(vm->requested);
	free(vm->visible);
	free(vm->hidden);
	free(vm->identity);
}

/* Fill vm from dir, the VM's sysfs directory.  Returns 0, or -errno. */
static int vm_info_read(struct vm_info *vm, const char *dir, int pid, int fd)
{
	char path[PATH_MAX + 64], *p;
	int ret;

	memset(vm, 0, sizeof(*vm));
	snprintf(vm->id, sizeof(vm->id), "%d-%d", pid, fd);
	vm->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_small(path, vm->comm, sizeof(vm->comm)))
		vm->comm[0] = '\0';
	snprintf(path, sizeof(path), "%s/mode", dir);
	ret = read_small(path, vm->mode, sizeof(vm->mode));
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/status", dir);
	if (read_small(path, vm->status, sizeof(vm->status)))
		vm->status[0] = '\0';
	for (p = vm->status; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	vm->requested = read_vm_file(dir, "requested");
	vm->visible = read_vm_file(dir, "visible");
	vm->hidden = read_vm_file(dir, "hidden");
	vm->identity = read_vm_file(dir, "identity");
	return 0;
}

/* The number of blank-separated words of s (0 for NULL). */
static unsigned int count_words(const char *s)
{
	unsigned int n = 0;

	while (s && *s) {
		s += strspn(s, " \t\n,");
		if (!*s)
			break;
		n++;
		s += strcspn(s, " \t\n,");
	}
	return n;
}

/* A JSON array of the blank-separated words of s. */
static void json_words(const char *s)
{
	bool first = true;

	putchar('[');
	while (s && *s) {
		size_t len;

		s += strspn(s, " \t\n,");
		len = strcspn(s, " \t\n,");
		if (!len)
			break;
		/* Feature names from the kernel, yet any byte must stay JSON. */
		printf("%s", first ? "" : ", ");
		json_strn(s, len);
		first = false;
		s += len;
	}
	putchar(']');
}

static int imax(int a, int b)
{
	return a > b ? a : b;
}

static void json_str_or_null(const char *s)
{
	if (s && *s)
		json_str(s);
	else
		printf("null");
}

/* One VM as a JSON object; full adds requested and the identity text. */
static void vm_json(const struct vm_info *vm, bool full)
{
	printf("{\"id\": ");
	json_str(vm->id);
	printf(", \"pid\": %d, \"comm\": ", vm->pid);
	json_str_or_null(vm->comm);
	printf(", \"mode\": ");
	json_str(vm->mode);
	printf(", \"status\": ");
	json_str_or_null(vm->status);
	printf(", \"visible_count\": %u, \"hidden_count\": %u",
	       count_words(vm->visible), count_words(vm->hidden));
	if (full) {
		printf(", \"requested\": ");
		if (vm->requested)
			json_words(vm->requested);
		else
			printf("null");
	}
	printf(", \"visible\": ");
	json_words(vm->visible);
	printf(", \"hidden\": ");
	json_words(vm->hidden);
	printf(", \"identity\": ");
	json_str_or_null(vm->identity);
	putchar('}');
}

#define VMS_USAGE "usage: pcmctl vms [--json]"

static int cmd_vms(int argc, char **argv)
{
	static const char *const head[] = {
		"VM", "PID", "COMM", "MODE", "VISIBLE", "HIDDEN", "STATUS"
	};
	struct dirent **names;
	struct vm_info *vms;
	char dir[PATH_MAX], vmdir[PATH_MAX + 256], cell[32];
	int w[6], n, i, nr = 0, pid, fd, ret = 0;
	bool json = false;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else
			return usage_error("unknown argument '%s'; " VMS_USAGE, argv[i]);
	}
	if (snprintf(dir, sizeof(dir), "%s/vms", sysfs_dir()) >= (int)sizeof(dir)) {
		pr_err("PCMCTL_SYSFS: path too long");
		return EXIT_OP;
	}
	n = scandir(dir, &names, hidden_entry, name_cmp);
	if (n < 0) {
		pr_err("%s: %s%s", dir, strerror(errno),
		       errno == ENOENT ? " (is the pcm_kvm module loaded?)" : "");
		return EXIT_OP;
	}
	vms = calloc(n ? n : 1, sizeof(*vms));
	if (!vms) {
		pr_err("out of memory");
		ret = EXIT_OP;
		goto out_names;
	}
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;

		/* Entries that are not PID-FD, or already gone, are skipped. */
		if (parse_pid_fd(name, &pid, &fd))
			continue;
		snprintf(vmdir, sizeof(vmdir), "%s/%s", dir, name);
		if (!vm_info_read(&vms[nr], vmdir, pid, fd))
			nr++;
	}

	if (json) {
		printf("[");
		for (i = 0; i < nr; i++) {
			printf("%s\n  ", i ? "," : "");
			vm_json(&vms[i], false);
		}
		printf("%s]\n", nr ? "\n" : "");
		goto out;
	}

	for (i = 0; i < 6; i++)
		w[i] = (int)strlen(head[i]);
	for (i = 0; i < nr; i++) {
		w[0] = imax(w[0], (int)strlen(vms[i].id));
		w[1] = imax(w[1], snprintf(cell, sizeof(cell), "%d", vms[i].pid));
		w[2] = imax(w[2], vms[i].comm[0] ? (int)strlen(vms[i].comm) : 1);
		w[3] = imax(w[3], (int)strlen(vms[i].mode));
	}
	printf("%-*s  %*s  %-*s  %-*s  %*s  %*s  %s\n", w[0], head[0], w[1],
	       head[1], w[2], head[2], w[3], head[3], w[4], head[4], w[5],
	       head[5], head[6]);
	for (i = 0; i < nr; i++)
		printf("%-*s  %*d  %-*s  %-*s  %*u  %*u  %s\n", w[0], vms[i].id,
		       w[1], vms[i].pid, w[2], vms[i].comm[0] ? vms[i].comm : "-",
		       w[3], vms[i].mode, w[4], count_words(vms[i].visible),
		       w[5], count_words(vms[i].hidden),
		       vms[i].status[0] ? vms[i].status : "-");
out:
	for (i = 0; i < nr; i++)
		vm_info_free(&vms[i]);
	free(vms);
out_names:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

#define SHOW_USAGE "usage: pcmctl show PID-FD [--json]"

static int cmd_show(int argc, char **argv)
{
	struct vm_info vm;
	char dir[PATH_MAX];
	const char *arg = NULL;
	bool json = false;
	int i, pid, fd, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
			continue;
		}
		if (argv[i][0] == '-' || arg)
			return usage_error("unexpected argument '%s'; " SHOW_USAGE, argv[i]);
		arg = argv[i];
	}
	if (!arg)
		return usage_error(SHOW_USAGE);
	if (parse_pid_fd(arg, &pid, &fd))
		return usage_error("'%s' is not PID-FD (e.g. 1234-11, as in "
				   PCM_KVM_SYSFS "/vms/)", arg);
	if (snprintf(dir, sizeof(dir), "%s/vms/%d-%d", sysfs_dir(), pid, fd) >=
	    (int)sizeof(dir)) {
		pr_err("PCMCTL_SYSFS: path too long");
		return EXIT_OP;
	}
	ret = vm_info_read(&vm, dir, pid, fd);
	if (ret) {
		pr_err("%s/mode: %s%s", dir, strerror(-ret),
		       ret == -ENOENT ? " (no such VM; `pcmctl vms` lists them)" : "");
		return EXIT_OP;
	}
	if (json) {
		vm_json(&vm, true);
		putchar('\n');
	} else {
		printf("vm: %s\n", vm.id);
		printf("process: %d %s\n", vm.pid, vm.comm[0] ? vm.comm : "-");
		printf("mode: %s\n", vm.mode);
		printf("status: %s\n", vm.status[0] ? vm.status : "-");
		if (vm.requested)
			print_value("requested", vm.requested);
		printf("visible (%u):", count_words(vm.visible));
		printf(" %s\n", vm.visible && *vm.visible ? vm.visible : "(none)");
		printf("hidden (%u):", count_words(vm.hidden));
		printf(" %s\n", vm.hidden && *vm.hidden ? vm.hidden : "(none)");
	}
	vm_info_free(&vm);
	return 0;
}

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "modes", cmd_modes },
	{ "features", cmd_features },
	{ "decode", cmd_decode },
	{ "host", cmd_host },
	{ "vms", cmd_vms },
	{ "show", cmd_show },
	{ "set", cmd_set_mode },
	{ "vm", cmd_vm },
	{ "set-mode", cmd_set_mode },
	{ "parse", cmd_parse },
	{ "identity", cmd_identity },
	{ "save-identity", cmd_save_identity },
	{ "check", cmd_check },
	{ "run", cmd_run },
	{ "process", cmd_process },
	{ "baseline", cmd_baseline },
	{ "apply", cmd_apply },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return usage_error("missing command");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return fflush(stdout) ? EXIT_OP : 0;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			int ret = commands[i].fn(argc - 1, argv + 1);

			if (fflush(stdout) && !ret) {
				pr_err("write error: %s", strerror(errno));
				ret = EXIT_OP;
			}
			return ret;
		}
	}
	return usage_error("unknown command '%s'", argv[1]);
}
