/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcmctl: the command line layer shared by every command.
 *
 * Layers (one direction only):
 *   main.c          the command table, getopt_long, --help, --version
 *   cmd_*.c         one command each: options, then the layers below
 *   out.c           every document is built once, as a JSON object with
 *                   "format": "pcm_kvm.KIND/1", then printed as JSON or as
 *                   text rendered from that same object
 *   kv.c            reads every text input: files, stdin, CRLF, key: value
 *                   lines, format versions, JSON documents
 *   profile.c       host profiles and pool files: read, check, build
 *   identity.c      identity files: read, and say what is wrong
 *   pool.c          pool and check logic: no I/O at all
 *   kernel.c        sysfs and /dev/pcm_kvm: the only file that touches them
 *   ../../module/   the feature model, shared with the kernel module
 */
#ifndef PCMCTL_H
#define PCMCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "compiler.h"

#define EXIT_OP		1	/* operational failure */
#define EXIT_USAGE	2	/* usage error */

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#ifndef PCMCTL_VERSION
#define PCMCTL_VERSION	"unknown"
#endif

struct pcmctl_cmd {
	const char *name;
	const char *usage;	/* "baseline [--json] PROFILE...": lines */
	const char *summary;	/* one line for pcmctl --help */
	const char *help;	/* the text of pcmctl NAME --help */
	const char *shortopts;	/* getopt_long's, after "+" or nothing */
	const struct option *opts;	/* NULL: only --help */
	bool stop_at_operand;	/* options end at the first operand (run) */
	int (*fn)(const struct pcmctl_cmd *c, int argc, char **argv);
};

/* The option value cmd_getopt() returns when the command must return. */
#define OPT_STOP	(-2)
/* The status of a command that printed its --help: exit 0, do nothing. */
#define EXIT_HELP	(-1)

/*
 * getopt_long over c's options, plus -h/--help.  Returns the option, -1
 * at the end (operands from optind), or OPT_STOP with *ret set: EXIT_HELP
 * after printing the help, EXIT_USAGE after a usage error.  Commands
 * return *ret as it is; main() makes EXIT_HELP 0.
 */
int cmd_getopt(const struct pcmctl_cmd *c, int argc, char **argv, int *ret);

void __printf(1, 2) pr_err(const char *fmt, ...);
/* A usage error of c: the message, the pointer to --help; EXIT_USAGE. */
int __printf(2, 3) cmd_usage(const struct pcmctl_cmd *c, const char *fmt, ...);
/* 0, or EXIT_USAGE unless argc - optind operands are between min and max (-1: any). */
int cmd_operands(const struct pcmctl_cmd *c, int argc, char **argv, int min, int max);
/* The mode named s (a usage error names the modes); -1 after the error. */
int cmd_mode(const struct pcmctl_cmd *c, const char *s);

extern const char *prog;
/* Where messages go: stderr, or what a test harness (the fuzzer) sets. */
extern FILE *pcmctl_err;

/* The commands, one file each or a few. */
int cmd_modes(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_features(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_parse(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_decode(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_host(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_vms(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_show(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_vm(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_set_mode(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_identity(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_save_identity(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_check(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_expect(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_run(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_process(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_baseline(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_apply(const struct pcmctl_cmd *c, int argc, char **argv);
int cmd_diff(const struct pcmctl_cmd *c, int argc, char **argv);

#endif /* PCMCTL_H */
