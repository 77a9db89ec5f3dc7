// SPDX-License-Identifier: GPL-2.0
/*
 * pcmctl - inspect and set pcm_kvm processor compatibility modes.
 *
 * The command table: each command's synopsis, help text and options live
 * here, in one place, so pcmctl --help, pcmctl CMD --help and the option
 * parsing cannot drift apart.
 *
 * Exit status: 0 success, 1 operational failure (for check: also an
 * incompatible destination), 2 usage error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pcmctl.h"
#include "pcm_model.h"
#include "out.h"

const char *prog = "pcmctl";
FILE *pcmctl_err;

/*
 * A message is one line, whatever a file or an argument quoted in it
 * holds: control characters are written as \xNN.
 */
static void msg_line(const char *fmt, va_list ap)
{
	char *s = NULL;
	const char *p;

	if (vasprintf(&s, fmt, ap) < 0) {
		fputs("(out of memory for a message)\n", pcmctl_err);
		return;
	}
	for (p = s; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			fprintf(pcmctl_err, "\\x%02x", (unsigned char)*p);
		else
			fputc(*p, pcmctl_err);
	}
	fputc('\n', pcmctl_err);
	free(s);
}

void pr_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(pcmctl_err, "%s: ", prog);
	va_start(ap, fmt);
	msg_line(fmt, ap);
	va_end(ap);
}

static void cmd_print_usage(const struct pcmctl_cmd *c, FILE *f);

int cmd_usage(const struct pcmctl_cmd *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(pcmctl_err, "%s %s: ", prog, c->name);
	va_start(ap, fmt);
	msg_line(fmt, ap);
	va_end(ap);
	cmd_print_usage(c, pcmctl_err);
	fprintf(pcmctl_err, "Try '%s %s --help'.\n", prog, c->name);
	return EXIT_USAGE;
}

static void cmd_print_usage(const struct pcmctl_cmd *c, FILE *f)
{
	const char *p = c->usage;
	bool first = true;

	/* one "usage: pcmctl LINE" per line of c->usage; a blank starts a continuation */
	while (*p) {
		size_t n = strcspn(p, "\n");

		if (*p == ' ')
			fprintf(f, "             %.*s\n", (int)n, p);
		else
			fprintf(f, "%s pcmctl %.*s\n", first ? "usage:" : "   or:", (int)n, p);
		first = false;
		p += n + (p[n] == '\n');
	}
}

static int cmd_help(const struct pcmctl_cmd *c)
{
	cmd_print_usage(c, stdout);
	printf("\n%s\n", c->summary);
	if (c->help && *c->help)
		printf("\n%s", c->help);
	return 0;
}

static const struct option help_only[] = {
	{ NULL, 0, NULL, 0 }
};

int cmd_getopt(const struct pcmctl_cmd *c, int argc, char **argv, int *ret)
{
	static struct option opts[32];
	static const struct pcmctl_cmd *built;
	static char shortopts[64];
	int opt;

	if (built != c) {
		const struct option *o;
		size_t n = 0;

		/* c's options and --help; "+": stop at the first operand */
		for (o = c->opts ? c->opts : help_only; o->name && n < ARRAY_SIZE(opts) - 2; o++)
			opts[n++] = *o;
		opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
		opts[n] = (struct option){ NULL, 0, NULL, 0 };
		snprintf(shortopts, sizeof(shortopts), "%s:h%s",
			 c->stop_at_operand ? "+" : "", c->shortopts ? c->shortopts : "");
		built = c;
		optind = 0;	/* GNU getopt: a full reinitialisation */
	}
	opterr = 0;
	opt = getopt_long(argc, argv, shortopts, opts, NULL);
	if (opt == 'h' || opt == '?' || opt == ':' || opt == -1)
		built = NULL;	/* the next command (a test harness) starts anew */
	switch (opt) {
	case 'h':
		cmd_help(c);
		*ret = EXIT_HELP;
		return OPT_STOP;
	case '?':
		if (optopt && optopt < 256)
			*ret = cmd_usage(c, "unknown option '-%c'", optopt);
		else
			*ret = cmd_usage(c, "unknown option '%s'", argv[optind - 1]);
		return OPT_STOP;
	case ':':
		*ret = cmd_usage(c, "%s needs a value", argv[optind - 1]);
		return OPT_STOP;
	case -1:
		return -1;
	default:
		return opt;
	}
}

int cmd_operands(const struct pcmctl_cmd *c, int argc, char **argv, int min, int max)
{
	int n = argc - optind;

	if (n < min)
		return cmd_usage(c, "%s", n ? "too few arguments" : "missing argument");
	if (max >= 0 && n > max)
		return cmd_usage(c, "unexpected argument '%s'", argv[optind + max]);
	return 0;
}

int cmd_mode(const struct pcmctl_cmd *c, const char *s)
{
	char modes[128];
	size_t pos = 0;
	unsigned int m;
	int mode = pcm_mode_parse(s, strlen(s));

	if (mode >= 0)
		return mode;
	for (m = 0; m < PCM_KVM_NR_MODES && pos < sizeof(modes); m++)
		pos += snprintf(modes + pos, sizeof(modes) - pos, "%s%s", m ? ", " : "",
				pcm_mode_name(m));
	cmd_usage(c, "unknown mode '%s' (modes: %s)", s, modes);
	return -1;
}

#define JSON_OPT	{ "json", no_argument, NULL, 'j' }
#define END_OPT		{ NULL, 0, NULL, 0 }

static const struct option o_json[] = { JSON_OPT, END_OPT };
static const struct option o_table[] = {
	JSON_OPT, { "markdown", no_argument, NULL, 'm' }, END_OPT
};

static const struct option o_decode[] = {
	JSON_OPT, { "from-cpuid", required_argument, NULL, 'c' }, END_OPT
};

static const struct option o_host[] = {
	JSON_OPT,
	{ "identity", no_argument, NULL, 'i' },
	{ "format", required_argument, NULL, 'f' },
	{ "output", required_argument, NULL, 'o' },
	{ "from-cpuid", required_argument, NULL, 'c' },
	END_OPT
};

static const struct option o_vms[] = {
	JSON_OPT, { "pid", required_argument, NULL, 'p' }, END_OPT
};

static const struct option o_check[] = {
	JSON_OPT,
	{ "host", required_argument, NULL, 'H' },
	{ "baseline", required_argument, NULL, 'b' },
	END_OPT
};

static const struct option o_run[] = {
	{ "mode", required_argument, NULL, 'm' },
	{ "expect", required_argument, NULL, 'e' },
	END_OPT
};

static const struct option o_baseline[] = {
	JSON_OPT,
	{ "explain", no_argument, NULL, 'x' },
	{ "force", no_argument, NULL, 'F' },
	{ "current", required_argument, NULL, 'C' },
	{ "add", required_argument, NULL, 'a' },
	{ "remove", required_argument, NULL, 'r' },
	{ "vms", required_argument, NULL, 'v' },
	END_OPT
};

static const struct option o_apply[] = {
	JSON_OPT, { "force", no_argument, NULL, 'F' }, END_OPT
};

#define IDENTITY_KEYS \
	"An identity (pcmctl identity) is the text of " PCM_KVM_SYSFS "/vms/PID-FD/identity:\n" \
	"its mode, vendor, features, raw feature words, max leaves, phys_bits, xcr0\n" \
	"and TSC.  CRLF line ends are accepted.\n"

#define SET_HELP \
	"MODE is one of off, min, x86-64-v2, x86-64-v3, x86-64-v4, baseline.\n" \
	"Needs root (pidfd_getfd).  Fails with EBUSY once a vCPU of the VM has run.\n"

static const struct pcmctl_cmd commands[] = {
	{
		.name = "modes", .fn = cmd_modes, .opts = o_table,
		.usage = "modes [--markdown | --json]",
		.summary = "The allow-list of every mode, from the feature model.",
		.help = "min, x86-64-v2, x86-64-v3 and x86-64-v4, each dependency-closed;\n"
			"baseline is the list in " PCM_KVM_SYSFS "/baseline.  --markdown prints\n"
			"the operator's table, with the features hidden by dependency closure.\n",
	},
	{
		.name = "features", .fn = cmd_features, .opts = o_table,
		.usage = "features [--markdown | --json]",
		.summary = "The whole feature table.",
		.help = "Name (as in /proc/cpuinfo), QEMU alias, CPUID location or MSR bit,\n"
			"class, first level, whether KVM offers it to a guest at all, and\n"
			"dependencies of every feature pcm_kvm knows.\n",
	},
	{
		.name = "parse", .fn = cmd_parse, .opts = o_json,
		.usage = "parse [--json] LIST...",
		.summary = "Check a feature list and print the canonical names in table order.",
		.help = "LIST: names or QEMU aliases, any case, separated by blanks or commas.\n"
			"A note on stderr names what dependency closure would hide.\n",
	},
	{
		.name = "decode", .fn = cmd_decode, .opts = o_decode,
		.usage = "decode [--json] [--from-cpuid] FILE",
		.summary = "Decode a raw CPUID dump (`cpuid -1 -r`; - reads standard input).",
		.help = "Vendor, brand, signature, family/model/stepping, the CPU's features, the\n"
			"highest named level and what the next one lacks.  Only the first CPU of a\n"
			"multi-CPU dump is read.  Warns of an incomplete or 32-bit dump.\n",
	},
	{
		.name = "host", .fn = cmd_host, .opts = o_host,
		.usage = "host [--json]\n"
			 "host --from-cpuid FILE [--json | --format nfd|traits]\n"
			 "host --format nfd|traits [--output FILE]\n"
			 "host --identity",
		.summary = "This host's profile: what pcm_kvm gives a guest here.",
		.help = "The profile (the text is a PROFILE file for baseline): name (hostname),\n"
			"vendor, family/model/stepping and microcode (/proc/cpuinfo), kernel,\n"
			"module version, limits (max leaves, phys_bits, xcr0), the features\n"
			"pcm_kvm gives a guest (" PCM_KVM_DEVICE ", after host_withhold) and\n"
			"the withheld ones.\n"
			"\n"
			"--from-cpuid FILE  the same from a raw CPUID dump, for a host without\n"
			"                   pcm_kvm: name is the file name without .cpuid, kernel\n"
			"                   and microcode \"-\".  Only the features KVM can offer a\n"
			"                   guest are kept; a note on stderr names the others.\n"
			"--format nfd       a Kubernetes node-feature-discovery local feature\n"
			"                   file: labels under pcm-kvm.feature.node.kubernetes.io/\n"
			"--format traits    an OpenStack Placement provider.yaml\n"
			"                   (CUSTOM_PCM_KVM_... traits)\n"
			"--output FILE      write FILE atomically (NFD's features.d)\n"
			"--identity         this host as an identity text, as pcm_kvm gives it\n"
			"                   (mode off): the HOST_IDENTITY_FILE of check --host\n",
	},
	{
		.name = "vms", .fn = cmd_vms, .opts = o_vms,
		.usage = "vms [--json] [--pid PID]",
		.summary = "List the live VMs (" PCM_KVM_SYSFS "/vms/).",
		.help = "One a line: VM (PID-FD), owning process (pid and comm; \"-\" if gone),\n"
			"mode, number of visible and hidden features, status.  --pid lists only\n"
			"the VMs of process PID (exit 1 when it has none).\n",
	},
	{
		.name = "show", .fn = cmd_show, .opts = o_json,
		.usage = "show [--json] PID-FD",
		.summary = "One VM: process, mode, status, requested, visible and hidden features.",
	},
	{
		.name = "set", .fn = cmd_set_mode, .opts = o_json,
		.usage = "set [--json] PID-FD MODE",
		.summary = "Set the mode of VM PID-FD (also: set-mode).",
		.help = SET_HELP,
	},
	{
		.name = "set-mode", .fn = cmd_set_mode, .opts = o_json,
		.usage = "set-mode [--json] PID-FD MODE",
		.summary = "Set the mode of VM PID-FD (the fd FD of process PID).",
		.help = SET_HELP,
	},
	{
		.name = "vm", .fn = cmd_vm,
		.usage = "vm [PID-FD]",
		.summary = "A VM's sysfs files; without PID-FD, the VMs and their modes.",
	},
	{
		.name = "identity", .fn = cmd_identity,
		.usage = "identity PID-FD",
		.summary = "The identity of VM PID-FD: what its guest sees, as text.",
		.help = IDENTITY_KEYS,
	},
	{
		.name = "save-identity", .fn = cmd_save_identity,
		.usage = "save-identity PID-FD > FILE",
		.summary = "The identity of VM PID-FD, checked to parse, for a saved state.",
		.help = "Nothing reaches standard output unless the text parses: no half-saved\n"
			"file.\n",
	},
	{
		.name = "check", .fn = cmd_check, .opts = o_check,
		.usage = "check [--json] FILE\n"
			 "check [--json] FILE --host HOST_IDENTITY_FILE [--baseline LIST|POOL_FILE]",
		.summary = "May the VM whose identity is in FILE run on this host, in its mode?",
		.help = "FILE: an identity (- reads standard input).  Prints one of\n"
			"  identical\n"
			"  compatible (this host has more: NAMES)\n"
			"  incompatible: missing NAMES\n"
			"  incompatible: vendor SRC on a DST host\n"
			"Exit status 0 for the first two, 1 otherwise.\n"
			"\n"
			"--host FILE  offline, for planning: the destination is an identity file\n"
			"             (`pcmctl host --identity` there).  As the kernel does, its\n"
			"             features are first narrowed by the VM's mode.\n"
			"--baseline   for a VM in mode baseline: the destination's baseline, a\n"
			"             feature list or a pool file (the output of baseline);\n"
			"             default: " PCM_KVM_SYSFS "/baseline\n",
	},
	{
		.name = "expect", .fn = cmd_expect,
		.usage = "expect PID-FD IDENTITY_FILE",
		.summary = "Let VM PID-FD run only if it gives its guest what the identity lists.",
		.help = "For a VM already created (its VMM not started under pcmctl run): a\n"
			"migration's destination or a restore.  Refuses (exit 1, naming what is\n"
			"missing) where this host cannot give it, in the VM's mode; else writes\n"
			"the identity to " PCM_KVM_SYSFS "/vms/PID-FD/expect, and the kernel\n"
			"refuses KVM_RUN (the VM's status says blocked) unless the VM's CPUID\n"
			"gives all of it.\n",
	},
	{
		.name = "run", .fn = cmd_run, .opts = o_run, .stop_at_operand = true,
		.usage = "run [--mode MODE] [--expect IDENTITY_FILE] [--] COMMAND [ARG...]",
		.summary = "Exec COMMAND (a VMM) with its VMs in MODE from birth.",
		.help = "Every VM COMMAND, or a process it starts, creates is in MODE from birth\n"
			"(default: the identity's mode) and, with --expect, cannot run unless it\n"
			"gives its guest everything the identity lists: for a migration's\n"
			"destination or a restore.  Refuses (exit 1, naming what is missing) where\n"
			"this host cannot give it.  Needs root.\n",
	},
	{
		.name = "process", .fn = cmd_process, .opts = o_run,
		.usage = "process PID MODE [--expect IDENTITY_FILE]\n"
			 "process PID --expect IDENTITY_FILE\n"
			 "process PID -",
		.summary = "Set the process_modes entry of a running process PID.",
		.help = "The mode (default: the identity's) and the identity expected of every\n"
			"VM PID, or a process it starts, creates from now on.  PID - forgets it.\n"
			"Refuses (exit 1), naming what is missing, where this host cannot give\n"
			"the identity.\n",
	},
	{
		.name = "baseline", .fn = cmd_baseline, .opts = o_baseline,
		.usage = "baseline [--json] [--explain] [--force] PROFILE...\n"
			 "baseline --current POOL_FILE [--add PROFILE]... [--remove HOST]...\n"
			 "    [--vms VMS_JSON]... [--json] [--explain] [--force] [PROFILE...]",
		.summary = "The pool of the hosts whose profiles are given.",
		.help = "PROFILE: the output of `pcmctl host` (text or --json; several in a row\n"
			"in one file, as a fleet's are collected) or a raw CPUID dump (read as\n"
			"host --from-cpuid reads it); - reads standard input.  Refused\n"
			"(exit 1) if the vendors differ (naming the odd hosts out), if a host is\n"
			"given twice, or if a host is below min (a truncated dump?) unless --force.\n"
			"Else: the intersection of the hosts' hardware features, each\n"
			"dependency-closed first; the minimum of max leaves and phys_bits, AND of\n"
			"xcr0; scrub: the SCRUB features of any host, inverted: the INV ones; the\n"
			"level the pool reaches and what the next one lacks; per host what it\n"
			"gives up; last \"baseline: NAMES\", the list apply installs.\n"
			"\n"
			"--explain  \"held back: FEATURE by HOSTS\" and \"retire HOST: gains ...\"\n"
			"--current POOL_FILE  join and leave: the pool of POOL_FILE (text or JSON)\n"
			"           with hosts added (--add PROFILE) and removed (--remove HOST;\n"
			"           then the profiles of the hosts that stay are needed).  Prints\n"
			"           the new pool, then the change: \"change:\", \"gained:\", \"lost:\".\n"
			"--vms VMS_JSON  (`pcmctl vms --json` of each host) check every running VM\n"
			"           against every host of the new pool: \"blocked: ...\"; exit 1\n"
			"           when a move is refused.\n"
			"More than 32 hosts are summarised in the text (hosts: N (FIRST ... LAST));\n"
			"--json lists them all.\n",
	},
	{
		.name = "apply", .fn = cmd_apply, .opts = o_apply,
		.usage = "apply [--json] [--force] FILE",
		.summary = "Install a pool: write its baseline to " PCM_KVM_SYSFS "/baseline.",
		.help = "FILE: the output of baseline (text or JSON), or a plain feature list.\n"
			"A list below min is refused unless --force.  If this host lacks some of\n"
			"the features, or the kernel refuses, fails with \"this host cannot join\n"
			"the pool: missing NAMES\".\n",
	},
	{
		.name = "diff", .fn = cmd_diff, .opts = o_json,
		.usage = "diff [--json] A B",
		.summary = "What differs between two hosts: features, limits, microcode, kernel.",
		.help = "A and B: profiles (text or JSON), raw CPUID dumps, identities, or - for\n"
			"standard input; the word \"host\" is this host, live.  Names the features\n"
			"only one side has, the limits, TSC, microcode, kernel and module that\n"
			"differ.  Exit status 0 when nothing that a guest sees differs, 1 when\n"
			"something does (as diff(1)).\n",
	},
};

static void print_help(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: pcmctl COMMAND [ARGS]\n"
		"       pcmctl COMMAND --help\n"
		"       pcmctl --version\n"
		"\n"
		"Inspect and set pcm_kvm processor compatibility modes.\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n"
		"--json prints one JSON document with \"format\": \"pcm_kvm.KIND/1\" (pcmctl(8)\n"
		"lists the keys of each kind).\n"
		"\n"
		"Environment:\n"
		"  PCMCTL_SYSFS  read VMs, baseline and host_features from (and write the\n"
		"                baseline to) this directory instead of " PCM_KVM_SYSFS "\n"
		"\n"
		"Exit status: 0 success, 1 operational failure (bad input file, unknown\n"
		"feature, device or sysfs error, refused ioctl; for check an incompatible\n"
		"destination), 2 usage error.\n");
}

static int version(void)
{
	printf("pcmctl %s (pcm_kvm ABI %u; formats: profile %u, pool %u, identity 1-2, JSON %u)\n",
	       PCMCTL_VERSION, (unsigned int)PCM_KVM_ABI_VERSION, OUT_TEXT_VERSION,
	       OUT_TEXT_VERSION, OUT_JSON_VERSION);
	return 0;
}

static const struct pcmctl_cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct pcmctl_cmd *c;
	int ret;

	if (!pcmctl_err)
		pcmctl_err = stderr;
	if (argc < 2) {
		fprintf(pcmctl_err, "%s: missing command\nTry 'pcmctl --help'.\n", prog);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_help(stdout);
		return fflush(stdout) ? EXIT_OP : 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return version() || fflush(stdout) ? EXIT_OP : 0;
	if (!strcmp(argv[1], "help")) {
		if (argc == 2) {
			print_help(stdout);
			return fflush(stdout) ? EXIT_OP : 0;
		}
		c = find_cmd(argv[2]);
		if (!c) {
			fprintf(pcmctl_err, "%s: unknown command '%s'\nTry 'pcmctl --help'.\n",
				prog, argv[2]);
			return EXIT_USAGE;
		}
		return cmd_help(c) || fflush(stdout) ? EXIT_OP : 0;
	}
	c = find_cmd(argv[1]);
	if (!c) {
		fprintf(pcmctl_err, "%s: unknown command '%s'\nTry 'pcmctl --help'.\n", prog,
			argv[1]);
		return EXIT_USAGE;
	}
	ret = c->fn(c, argc - 1, argv + 1);
	if (ret == EXIT_HELP)
		ret = 0;
	if (fflush(stdout) && !ret) {
		pr_err("write error: %s", strerror(errno));
		ret = EXIT_OP;
	}
	return ret;
}
