// SPDX-License-Identifier: GPL-2.0
/*
 * pcmctl check, run, process: may a VM run here, and VMs born in a mode.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcmctl.h"
#include "identity.h"
#include "kernel.h"
#include "out.h"
#include "pool.h"
#include "profile.h"

static const char *const results[] = {
	[PCM_KVM_CHECK_IDENTICAL] = "identical",
	[PCM_KVM_CHECK_COMPATIBLE] = "compatible",
	[PCM_KVM_CHECK_MISSING] = "incompatible",
	[PCM_KVM_CHECK_VENDOR] = "incompatible",
};

/* The limits a destination lacks, by name (PCM_KVM_LIMIT_* order). */
static json_t *limits_named(unsigned int limits, const struct pcm_kvm_identity *vm,
			    const struct pcm_kvm_identity *host)
{
	const struct {
		unsigned int bit;
		const char *name;
		unsigned long long vm, host;
	} lim[] = {
		{ PCM_KVM_LIMIT_PHYS_BITS, "phys_bits", vm->phys_bits, host->phys_bits },
		{ PCM_KVM_LIMIT_BASIC_LEAF, "max_basic_leaf", vm->max_basic_leaf,
		  host->max_basic_leaf },
		{ PCM_KVM_LIMIT_EXT_LEAF, "max_ext_leaf", vm->max_ext_leaf, host->max_ext_leaf },
		{ PCM_KVM_LIMIT_XCR0, "xcr0", vm->xcr0, host->xcr0 },
		{ PCM_KVM_LIMIT_TSC, "tsc_khz", vm->tsc_khz, host->tsc_khz },
	};
	json_t *o = out_obj(), *l;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lim); i++) {
		if (!(limits & lim[i].bit))
			continue;
		l = out_obj();
		out_set_int(l, "vm", lim[i].vm);
		out_set_int(l, "host", lim[i].host);
		/* a TSC rate is no limit where the host scales a guest's TSC */
		if (lim[i].bit == PCM_KVM_LIMIT_TSC)
			out_set_bool(l, "host_scaling", host->flags & PCM_KVM_ID_TSC_SCALING);
		out_set(o, lim[i].name, l);
	}
	return o;
}

/* The "check" document: the same verdict line as the text, and its parts. */
static json_t *check_doc(unsigned int result, const struct pcm_kvm_identity *vm,
			 const struct pcm_kvm_identity *host, const struct pcm_fs *missing,
			 const struct pcm_fs *extra, unsigned int limits)
{
	static char line[PCM_FS_TEXT_MAX + 256];
	json_t *doc = out_doc("check"), *v;

	pcm_check_format(result, vm, host, missing, extra, limits, line, sizeof(line));
	out_set_str(doc, "result", results[result]);
	out_set_str(doc, "verdict", line);
	out_set_str(doc, "mode", pcm_mode_name(vm->mode));
	v = out_obj();
	out_set_strn(v, "vm", vm->vendor, strnlen(vm->vendor, sizeof(vm->vendor)));
	out_set_strn(v, "host", host->vendor, strnlen(host->vendor, sizeof(host->vendor)));
	out_set_bool(v, "same", result != PCM_KVM_CHECK_VENDOR);
	out_set(doc, "vendor", v);
	out_set_fs(doc, "missing", missing);
	out_set(doc, "limits_missing", limits_named(limits, vm, host));
	out_set_fs(doc, "extra", extra);
	return doc;
}

static void check_view(const json_t *doc)
{
	printf("%s\n", tx_str(doc, "verdict"));
}

static int check_print(unsigned int result, const struct pcm_kvm_identity *vm,
		       const struct pcm_kvm_identity *host, const struct pcm_fs *missing,
		       const struct pcm_fs *extra, unsigned int limits, bool json)
{
	int ret = out_print(check_doc(result, vm, host, missing, extra, limits), json,
			    check_view);

	return ret ? ret : result <= PCM_KVM_CHECK_COMPATIBLE ? 0 : EXIT_OP;
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

int cmd_check(const struct pcmctl_cmd *c, int argc, char **argv)
{
	const char *host_path = NULL, *baseline_arg = NULL, *file;
	struct pcm_kvm_identity vm, host;
	struct pcm_fs baseline, missing, extra;
	unsigned int result, limits;
	struct pcm_kvm_check k;
	bool json = false, is_pool;
	int opt, ret = 0;
	char path[PATH_MAX + 16];

	while ((opt = cmd_getopt(c, argc, argv, &ret)) != -1) {
		switch (opt) {
		case OPT_STOP:
			return ret;
		case 'j':
			json = true;
			break;
		case 'H':
			host_path = optarg;
			break;
		case 'b':
			baseline_arg = optarg;
			break;
		}
	}
	ret = cmd_operands(c, argc, argv, 1, 1);
	if (ret)
		return ret;
	file = argv[optind];
	if (host_path && !strcmp(file, "-") && !strcmp(host_path, "-"))
		return cmd_usage(c, "FILE and --host cannot both be standard input");
	if (baseline_arg && !host_path)
		return cmd_usage(c, "--baseline is for the offline check (--host): %s",
				 "the kernel uses its own baseline");
	if (baseline_arg && !strcmp(baseline_arg, "-") &&
	    (!strcmp(file, "-") || !strcmp(host_path, "-")))
		return cmd_usage(c, "only one of FILE, --host and --baseline %s",
				 "can be standard input");

	ret = identity_load(file, &vm, NULL);
	if (ret)
		return ret;
	if (!host_path) {
		memset(&k, 0, sizeof(k));
		k.id = vm;
		ret = kern_check_identity(&k);
		if (ret)
			return ret;
		host_of_check(&k, &host);
		return check_print(k.result, &vm, &host, &k.missing, &k.extra, k.limits, json);
	}

	/*
	 * Offline: the host given as an identity file (`pcmctl host
	 * --identity` on that host).  As the kernel does, the host's features
	 * are narrowed by the VM's mode first.
	 */
	ret = identity_load(host_path, &host, NULL);
	if (ret)
		return ret;
	pcm_fs_zero(&baseline);
	if (baseline_arg) {
		ret = profile_baseline(baseline_arg, true, &baseline, &is_pool);
		if (ret == EXIT_USAGE)
			return cmd_usage(c, "--baseline '%s': neither a file nor a feature list",
					 baseline_arg);
		if (ret)
			return ret;
	} else if (vm.mode == PCM_KVM_MODE_BASELINE) {
		if (kern_baseline(&baseline, path, sizeof(path))) {
			pr_err("the VM is in mode baseline: give the destination's baseline with --baseline POOL_FILE|LIST");
			return EXIT_OP;
		}
	}
	if (vm.mode == PCM_KVM_MODE_BASELINE && pcm_fs_empty(&baseline))
		pr_err("note: the baseline is empty (no pool installed there?): a VM in mode baseline sees only the classes every mode passes through");
	check_narrow(&host, vm.mode, &baseline);
	result = pcm_identity_check(&vm, &host, &missing, &extra, &limits);
	return check_print(result, &vm, &host, &missing, &extra, limits, json);
}

/*
 * Can this host give a VM in mode what id lists?  0, or EXIT_OP after
 * "CMD: this host cannot give WHO (mode M) what NAME expects: VERDICT".
 */
static int host_gives(const struct pcm_kvm_identity *id, unsigned int mode, const char *cmd,
		      const char *who, const char *name)
{
	static char line[PCM_FS_TEXT_MAX + 256];
	struct pcm_kvm_identity host;
	struct pcm_kvm_check k;

	memset(&k, 0, sizeof(k));
	k.id = *id;
	k.id.mode = mode;
	if (kern_check_identity(&k))
		return EXIT_OP;
	if (k.result < PCM_KVM_CHECK_MISSING)
		return 0;
	host_of_check(&k, &host);
	pcm_check_format(k.result, &k.id, &host, &k.missing, &k.extra, k.limits, line,
			 sizeof(line));
	pr_err("%s: this host cannot give %s in mode %s what %s expects: %s", cmd, who,
	       pcm_mode_name(mode), name, line);
	return EXIT_OP;
}

/*
 * The process_modes entry of pid (0: this process): mode (-1: the
 * identity's), and the identity in the file expect (NULL: none).  Says what
 * this host lacks before the kernel refuses.
 */
static int set_process(pid_t pid, int mode, const char *expect, const char *cmd)
{
	struct pcm_kvm_process a;
	const char *name = expect && !strcmp(expect, "-") ? "<stdin>" : expect;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.pid = pid;
	if (expect) {
		if (identity_load(expect, &a.expect, NULL))
			return EXIT_OP;
		a.flags = PCM_KVM_PROCESS_EXPECT;
		if (mode < 0)
			mode = (int)a.expect.mode;
	}
	a.mode = (unsigned int)mode;
	/* Say what this host lacks; dmesg would be the only place otherwise. */
	if (expect && host_gives(&a.expect, a.mode, cmd, "a VM", name))
		return EXIT_OP;
	return kern_set_process(&a, name, cmd);
}

/*
 * pcmctl expect: a VM that already exists (its VMM started without pcmctl
 * run) may not run unless it gives its guest what the identity lists.
 * Says what this host lacks before the kernel refuses; the kernel has the
 * last word (it also checks the VM's own CPUID).
 */
int cmd_expect(const struct pcmctl_cmd *c, int argc, char **argv)
{
	struct pcm_kvm_identity id;
	struct vm_info vm;
	int opt, ret = 0, pid, fd, mode;
	char *text, who[64];

	while ((opt = cmd_getopt(c, argc, argv, &ret)) != -1)
		if (opt == OPT_STOP)
			return ret;
	ret = cmd_operands(c, argc, argv, 2, 2);
	if (ret)
		return ret;
	if (kern_parse_vm_id(argv[optind], &pid, &fd))
		return cmd_usage(c, "'%s' is not PID-FD (e.g. 1234-11, as in "
				 PCM_KVM_SYSFS "/vms/)", argv[optind]);
	ret = kern_vm(&vm, pid, fd);
	if (ret) {
		pr_err("expect: no VM %d-%d in %s/vms (%s)", pid, fd, kern_sysfs(),
		       strerror(-ret));
		return EXIT_OP;
	}
	mode = pcm_mode_parse(vm.mode, strlen(vm.mode));
	kern_vm_free(&vm);
	ret = identity_load(argv[optind + 1], &id, &text);
	if (ret)
		return ret;
	/* in the VM's mode, not the one the file names */
	snprintf(who, sizeof(who), "VM %d-%d", pid, fd);
	ret = host_gives(&id, mode >= 0 ? (unsigned int)mode : id.mode, "expect", who,
			 argv[optind + 1]);
	if (!ret) {
		ret = kern_vm_write(pid, fd, "expect", text, strlen(text));
		if (ret)
			pr_err("expect: %s/vms/%d-%d/expect: %s%s", kern_sysfs(), pid, fd,
			       strerror(-ret), ret == -EINVAL ? " (dmesg says why)" : "");
		ret = ret ? EXIT_OP : 0;
	}
	free(text);
	return ret;
}

/* --mode and --expect of run and process */
static int mode_opts(const struct pcmctl_cmd *c, int argc, char **argv, int *mode,
		     const char **expect)
{
	int opt, ret = 0;

	*mode = -1;
	*expect = NULL;
	while ((opt = cmd_getopt(c, argc, argv, &ret)) != -1) {
		switch (opt) {
		case OPT_STOP:
			return ret;
		case 'm':
			if (*mode >= 0)
				return cmd_usage(c, "--mode given twice");
			*mode = cmd_mode(c, optarg);
			if (*mode < 0)
				return EXIT_USAGE;
			break;
		case 'e':
			if (*expect)
				return cmd_usage(c, "--expect given twice");
			*expect = optarg;
			break;
		}
	}
	return 0;
}

/*
 * pcmctl run: the mode (and the identity expected, for a destination or a
 * restore) of every VM the command creates, set before it exists: this
 * process's process_modes entry, which exec keeps and the processes it
 * starts inherit.  So KVM_SET_CPUID2 is masked at once, with no race
 * against the VMM.
 */
int cmd_run(const struct pcmctl_cmd *c, int argc, char **argv)
{
	const char *expect;
	int mode, ret;

	ret = mode_opts(c, argc, argv, &mode, &expect);
	if (ret)
		return ret;
	if (optind >= argc)
		return cmd_usage(c, "no command to run");
	if (mode < 0 && !expect)
		return cmd_usage(c, "--mode or --expect is needed");
	if (set_process(0, mode, expect, "run"))
		return EXIT_OP;
	fflush(stdout);
	execvp(argv[optind], argv + optind);
	pr_err("run: %s: %s", argv[optind], strerror(errno));
	return EXIT_OP;
}

/*
 * pcmctl process: another process's entry, for a supervisor that learns a
 * VMM's pid before the VMM creates its VM (the libvirt hook's watcher).
 */
int cmd_process(const struct pcmctl_cmd *c, int argc, char **argv)
{
	const char *expect, *pid_arg;
	unsigned long pid;
	int mode, ret;
	char *end;

	ret = mode_opts(c, argc, argv, &mode, &expect);
	if (ret)
		return ret;
	ret = cmd_operands(c, argc, argv, 1, 2);
	if (ret)
		return ret;
	pid_arg = argv[optind];
	errno = 0;
	pid = strtoul(pid_arg, &end, 10);
	if (*pid_arg < '1' || *pid_arg > '9' || *end || errno || pid > INT_MAX)
		return cmd_usage(c, "'%s' is not a pid", pid_arg);
	if (optind + 1 < argc) {
		const char *m = argv[optind + 1];

		if (!strcmp(m, "-")) {
			if (expect || mode >= 0)
				return cmd_usage(c, "PID - takes no --expect or --mode");
			/* Forgetting needs no identity: the sysfs file says it. */
			return kern_forget_process(pid, "process");
		}
		if (mode >= 0)
			return cmd_usage(c, "MODE given twice (operand and --mode)");
		mode = cmd_mode(c, m);
		if (mode < 0)
			return EXIT_USAGE;
	}
	if (mode < 0 && !expect)
		return cmd_usage(c, "MODE or --expect is needed");
	return set_process((pid_t)pid, mode, expect, "process");
}
