// SPDX-License-Identifier: GPL-2.0
/*
 * pcmctl - inspect and set pcm_kvm processor compatibility modes.
 *
 * Everything about features (names, QEMU aliases, CPUID locations, classes,
 * levels, dependencies, mode allow-lists) comes from the module's own model
 * (module/pcm_model.c and module/pcm_features.def), compiled in here, so the
 * tool and the kernel cannot disagree.
 *
 * Exit status: 0 success, 1 operational failure, 2 usage error.
 */
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
	"  host                    the host's features as pcm_kvm sees them",
	"                          (" PCM_KVM_DEVICE ")",
	"  vm [PID-FD]             a VM's mode and its requested, visible and hidden",
	"                          features (" PCM_KVM_SYSFS "/vms/PID-FD/);",
	"                          without PID-FD, list the VMs and their modes",
	"  set-mode PID-FD MODE    set the mode of VM PID-FD (the fd FD of process PID,",
	"                          as named in " PCM_KVM_SYSFS "/vms/); MODE is one of",
	"                          off, min, x86-64-v2, x86-64-v3, x86-64-v4, baseline.",
	"                          Needs root (pidfd_getfd); fails with EBUSY once a",
	"                          vCPU of the VM has run",
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
	"feature, device or sysfs error, refused ioctl), 2 usage error.",
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
	uint32_t last_leaf = 0, last_sub = ~0U;
	unsigned int w;

	for (w = 0; w < PCM_KVM_NR_WORDS_USED; w++) {
		uint32_t leaf = pcm_words[w].leaf, sub = pcm_words[w].subleaf;

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

static int cmd_host(int argc, char **argv)
{
	struct pcm_kvm_host_features hf;
	struct pcm_kvm_version ver;
	int fd;

	(void)argv;
	if (argc != 1)
		return usage_error("usage: pcmctl host");

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
	printf("module: %s\n", ver.module_version);
	printf("abi: %u (pcmctl: %u)\n", ver.abi_version,
	       (unsigned int)PCM_KVM_ABI_VERSION);
	printf("words: %u (pcmctl: %u)\n", ver.nwords,
	       (unsigned int)PCM_KVM_NR_WORDS_USED);
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
