// SPDX-License-Identifier: GPL-2.0
/*
 * seedgen: turn real CPUID dumps into seed inputs of the binary and
 * identity targets (run by fuzz/mkseeds; not a fuzz target).
 *
 *   seedgen identity MODE DUMP          identity text of DUMP, masked by MODE
 *   seedgen entries MODE DUMP           a mask_entries input
 *   seedgen check MODE VM HOST1 HOST2   an identity_check input
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcm_model.h"
#include "cpuid_dump.h"

#define USAGE \
	"usage: seedgen identity MODE DUMP | entries MODE DUMP | check MODE VM HOST1 HOST2"

static void die(const char *msg, const char *arg)
{
	fprintf(stderr, "seedgen: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	exit(2);
}

static int mode_of(const char *s)
{
	int mode = pcm_mode_parse(s, strlen(s));

	if (mode < 0)
		die("unknown mode", s);
	return mode;
}

/* The table of a dump as KVM_SET_CPUID2 gets it; *n entries. */
static struct kvm_cpuid_entry2 *load(const char *path, unsigned int *n)
{
	struct kvm_cpuid_entry2 *e;
	struct cpuid_dump d;
	char err[512];
	size_t i;
	FILE *f = fopen(path, "r");

	if (!f)
		die("cannot open", path);
	if (cpuid_dump_read(f, path, &d, err, sizeof(err)))
		die(err, NULL);
	fclose(f);
	e = calloc(d.n, sizeof(*e));
	if (!e)
		die("out of memory", NULL);
	for (i = 0; i < d.n; i++) {
		e[i].function = d.e[i].leaf;
		e[i].index = d.e[i].subleaf;
		e[i].eax = d.e[i].regs[0];
		e[i].ebx = d.e[i].regs[1];
		e[i].ecx = d.e[i].regs[2];
		e[i].edx = d.e[i].regs[3];
	}
	*n = d.n;
	cpuid_dump_free(&d);
	return e;
}

/* The identity a VM in mode sees on the host of the dump. */
static void identity(const char *mode, const char *path, struct pcm_kvm_identity *id)
{
	struct kvm_cpuid_entry2 *e;
	struct pcm_fs allow, own;
	unsigned int n;
	int m = mode_of(mode);

	e = load(path, &n);
	pcm_fs_from_entries(e, n, &own);
	pcm_mode_allow(m, &own, &allow);
	pcm_mask_entries(e, n, &allow);
	pcm_identity_from_entries(e, n, id);
	id->mode = m;
	free(e);
}

static void put(const void *p, size_t n)
{
	if (fwrite(p, 1, n, stdout) != n)
		die("write error", NULL);
}

int main(int argc, char **argv)
{
	static char text[PCM_IDENTITY_TEXT_MAX];
	struct pcm_kvm_identity id[3];
	struct kvm_cpuid_entry2 *e;
	struct pcm_fs own;
	unsigned int n, i;
	u8 mode;
	u32 v[6];

	if (argc == 4 && !strcmp(argv[1], "identity")) {
		identity(argv[2], argv[3], &id[0]);
		pcm_identity_format(&id[0], text, sizeof(text));
		put(text, strlen(text));
	} else if (argc == 4 && !strcmp(argv[1], "entries")) {
		mode = mode_of(argv[2]);
		e = load(argv[3], &n);
		pcm_fs_from_entries(e, n, &own);
		put(&mode, 1);
		put(&own, sizeof(own));
		for (i = 0; i < n; i++) {
			v[0] = e[i].function;
			v[1] = e[i].index;
			v[2] = e[i].eax;
			v[3] = e[i].ebx;
			v[4] = e[i].ecx;
			v[5] = e[i].edx;
			put(v, sizeof(v));
		}
		free(e);
	} else if (argc == 6 && !strcmp(argv[1], "check")) {
		for (i = 0; i < 3; i++)
			identity(i ? "off" : argv[2], argv[3 + i], &id[i]);
		put(id, sizeof(id));
	} else {
		die(USAGE, NULL);
	}
	return fflush(stdout) ? 1 : 0;
}
