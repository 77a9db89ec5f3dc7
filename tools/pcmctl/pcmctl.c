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
#include <cpuid.h>
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
#include <sys/syscall.h>
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
};

static const char *const class_help[] = {
	[PCM_CLASS_HW] = "hardware feature: the mode decides",
	[PCM_CLASS_KVM] = "provided by KVM on any host",
	[PCM_CLASS_INFO] = "information about the host or the guest OS state",
	[PCM_CLASS_INV] = "inverted: presence means less; never hidden or refused",
	[PCM_CLASS_SCRUB] = "might need scrubbing: OR-ed across a pool",
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
	"  host [--identity]       the host's features as pcm_kvm sees them",
	"                          (" PCM_KVM_DEVICE "); --identity prints them as",
	"                          an identity text (mode off; vendor, max leaves,",
	"                          phys_bits from the CPUID instruction, xcr0 from",
	"                          XGETBV): the HOST_IDENTITY_FILE of check --host",
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
	"  parse LIST...           check a feature list (names or QEMU aliases, any",
	"                          case, separated by blanks or commas) and print the",
	"                          canonical names in table order",
	"  help, --help, -h        this text",
	"",
	"Environment:",
	"  PCMCTL_SYSFS            read VMs from this directory instead of",
	"                          " PCM_KVM_SYSFS " (for tests)",
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
		"baseline: the list in %s/baseline, plus the KVM, INFO, INV and SCRUB classes, dependency-closed\n",
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
	for (cls = PCM_CLASS_KVM; cls <= PCM_CLASS_SCRUB; cls++)
		md_class_row(cls);

	printf("\n"
	       "Every other hardware feature is hidden by the named modes; `pcmctl features` lists them all.\n"
	       "`off` leaves the CPUID the VMM sets unchanged. `baseline` allows the list in `%s/baseline`, plus the classes passed through above.\n"
	       "\n"
	       "Hidden by dependency closure (a feature the mode would allow, hidden because a feature it needs is hidden):\n"
	       "\n",
	       PCM_KVM_SYSFS);
	for (i = 0; i < ARRAY_SIZE(level_modes); i++)
		md_hidden(level_modes[i]);
	return 0;
}

static int cmd_modes(int argc, char **argv)
{
	if (argc == 1)
		return modes_plain();
	if (argc == 2 && !strcmp(argv[1], "--markdown"))
		return modes_markdown();
	return usage_error("usage: pcmctl modes [--markdown]");
}

/* pcmctl features */

static int cmd_features(int argc, char **argv)
{
	bool md = argc == 2 && !strcmp(argv[1], "--markdown");
	char loc[48], depbuf[256];
	unsigned int id;

	if (argc > 2 || (argc == 2 && !md))
		return usage_error("usage: pcmctl features [--markdown]");

	if (md)
		fprintf(stdout,
			"| Feature | QEMU alias | CPUID leaf.subleaf reg[bit] | Class | First level | Needs |\n"
			"|---|---|---|---|---|---|\n");
	else
		printf("%-20s %-26s %-20s %-5s %-9s %s\n", "NAME", "QEMU-ALIAS",
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
			printf("%-20s %-26s %-20s %-5s %-9s %s\n", f->name,
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

		if (leaf == last_leaf && sub == last_sub)
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

	if (argc != 3 || strcmp(argv[1], "--from-cpuid"))
		return usage_error("usage: pcmctl decode --from-cpuid FILE");
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

/* XCR0, as the host kernel set it up; 0 without XSAVE (CPUID.1:ECX.OSXSAVE). */
static unsigned long long host_xcr0(void)
{
	unsigned int a, b, c, d, lo, hi;

	if (__get_cpuid_max(0, NULL) < 1)
		return 0;
	__cpuid(1, a, b, c, d);
	if (!(c & (1U << 27)))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((unsigned long long)hi << 32) | lo;
}

/*
 * This host's identity: the features pcm_kvm gives (PCM_KVM_GET_HOST_FEATURES,
 * so host_withhold counts), vendor and numbers from the CPUID instruction,
 * XCR0 as the host kernel enabled it, narrowed to the components of those
 * features.  Mode off: a host shows everything it has.
 */
static void host_identity(const struct pcm_fs *features, struct pcm_kvm_identity *id)
{
	unsigned int a, b, c, d;

	memset(id, 0, sizeof(*id));
	id->features = *features;
	__cpuid(0, a, b, c, d);
	id->max_basic_leaf = a;
	memcpy(id->vendor, &b, 4);
	memcpy(id->vendor + 4, &d, 4);
	memcpy(id->vendor + 8, &c, 4);
	__cpuid(0x80000000, a, b, c, d);
	id->max_ext_leaf = a;
	if (a >= 0x80000008) {
		__cpuid(0x80000008, a, b, c, d);
		id->phys_bits = a & 0xff;
	}
	id->xcr0 = pcm_xcr0_visible(host_xcr0(), features);
}

static int cmd_host(int argc, char **argv)
{
	struct pcm_kvm_host_features hf;
	struct pcm_kvm_version ver;
	bool identity = argc == 2 && !strcmp(argv[1], "--identity");
	int fd;

	if (argc != 1 && !identity)
		return usage_error("usage: pcmctl host [--identity]");

	fd = open_dev(O_RDONLY);
	if (fd < 0)
		return EXIT_OP;

	memset(&ver, 0, sizeof(ver));
	ver.size = sizeof(ver);
	if (ioctl(fd, PCM_KVM_GET_VERSION, &ver)) {
		pr_err("PCM_KVM_GET_VERSION: %s", strerror(errno));
		close(fd);
		return EXIT_OP;
	}
	ver.module_version[sizeof(ver.module_version) - 1] = '\0';
	if (!identity) {
		printf("module: %s\n", ver.module_version);
		printf("abi: %u (pcmctl: %u)\n", ver.abi_version,
		       (unsigned int)PCM_KVM_ABI_VERSION);
		printf("words: %u (pcmctl: %u)\n", ver.nwords,
		       (unsigned int)PCM_KVM_NR_WORDS_USED);
	}
	if (ver.abi_version != PCM_KVM_ABI_VERSION) {
		pr_err("module ABI %u, pcmctl ABI %u: refusing to decode",
		       ver.abi_version, (unsigned int)PCM_KVM_ABI_VERSION);
		close(fd);
		return EXIT_OP;
	}

	memset(&hf, 0, sizeof(hf));
	hf.size = sizeof(hf);
	if (ioctl(fd, PCM_KVM_GET_HOST_FEATURES, &hf)) {
		pr_err("PCM_KVM_GET_HOST_FEATURES: %s", strerror(errno));
		close(fd);
		return EXIT_OP;
	}
	close(fd);
	if (identity) {
		static char text[PCM_IDENTITY_TEXT_MAX];
		struct pcm_kvm_identity id;

		host_identity(&hf.features, &id);
		pcm_identity_format(&id, text, sizeof(text));
		fputs(text, stdout);
		return 0;
	}
	print_fs("features", &hf.features);
	print_level(&hf.features);
	return 0;
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

	if (argc != 3)
		return usage_error("usage: pcmctl set-mode PID-FD MODE");
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

	if (argc < 2)
		return usage_error("usage: pcmctl parse LIST...");
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

		pcm_fs_format(&fs, text, sizeof(text));
		printf("%s\n", text);
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

	list[0] = '\0';
	for (i = 0; i < n && pos < sizeof(list); i++) {
		snprintf(key, sizeof(key), "%.*s", (int)lens[i], keys[i]);
		if (find_value(text, key, &len))
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
		pr_err("%s:%u: bad phys_bits (0 to 64): '%s'", name, line, e2);
	} else if (klen == 8 && !strncmp(ls, "features", 8)) {
		pr_err("%s:%u: no feature name in '%s'", name, line, e2);
	} else if (klen == lens[0] && !strncmp(ls, keys[0], klen)) {
		pr_err("%s:%u: unknown version (pcmctl reads version 1 of the identity text): '%s'",
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

static int check_verdict(unsigned int result, const struct pcm_kvm_identity *vm,
			 const struct pcm_kvm_identity *host,
			 const struct pcm_fs *missing, const struct pcm_fs *extra,
			 unsigned int limits)
{
	static char line[PCM_FS_TEXT_MAX + 256];

	pcm_check_format(result, vm, host, missing, extra, limits, line, sizeof(line));
	printf("%s\n", line);
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

	memset(&host, 0, sizeof(host));
	memcpy(host.vendor, c.host_vendor, sizeof(host.vendor) - 1);
	host.mode = vm->mode;
	host.phys_bits = c.host_phys_bits;
	host.max_basic_leaf = c.host_max_basic_leaf;
	host.max_ext_leaf = c.host_max_ext_leaf;
	host.xcr0 = c.host_xcr0;
	pcm_fs_andnot(&host.features, &vm->features, &c.missing);
	pcm_fs_or(&host.features, &host.features, &c.extra);
	return check_verdict(c.result, vm, &host, &c.missing, &c.extra, c.limits);
}

#define CHECK_USAGE "usage: pcmctl check FILE [--host HOST_IDENTITY_FILE [--baseline LIST]]"

static int cmd_check(int argc, char **argv)
{
	const char *file = NULL, *host = NULL, *baseline = NULL;
	struct pcm_kvm_identity vm;
	int i, ret;

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

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "modes", cmd_modes },
	{ "features", cmd_features },
	{ "decode", cmd_decode },
	{ "host", cmd_host },
	{ "vm", cmd_vm },
	{ "set-mode", cmd_set_mode },
	{ "parse", cmd_parse },
	{ "identity", cmd_identity },
	{ "save-identity", cmd_save_identity },
	{ "check", cmd_check },
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
