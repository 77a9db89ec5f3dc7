// SPDX-License-Identifier: GPL-2.0
/*
 * Raw CPUID dumps (`cpuid -1 -r`): cpuid_dump_read() of pcmctl (decode
 * --from-cpuid, host --from-cpuid, baseline of dump files), then what the
 * model does with a real table: decoding it to features and an identity,
 * and masking it in every mode.
 *
 * The input is the dump text.
 */
#define _GNU_SOURCE
#include "fuzz.h"
#include "mask_check.h"
#include "cpuid_dump.h"

#define NAME	"fuzz.cpuid"

/* The reader's result printed back in its format must read the same. */
static void check_reprint(const struct cpuid_dump *d)
{
	struct cpuid_dump back;
	char err[512], *text = NULL;
	size_t len = 0, i;
	FILE *f;

	f = open_memstream(&text, &len);
	FUZZ_CHECK(f);
	fprintf(f, "CPU:\n");
	for (i = 0; i < d->n; i++)
		fprintf(f, "   0x%08x 0x%02x: eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n",
			d->e[i].leaf, d->e[i].subleaf, d->e[i].regs[0],
			d->e[i].regs[1], d->e[i].regs[2], d->e[i].regs[3]);
	FUZZ_CHECK(!fclose(f));
	f = fmemopen(text, len, "r");
	FUZZ_CHECK(f);
	FUZZ_CHECK(!cpuid_dump_read(f, NAME, &back, err, sizeof(err)),
		   "reprinted dump refused: %s", err);
	fclose(f);
	FUZZ_CHECK(back.n == d->n);
	for (i = 0; i < d->n; i++) {
		FUZZ_CHECK(back.e[i].leaf == d->e[i].leaf && back.e[i].subleaf == d->e[i].subleaf &&
			   !memcmp(back.e[i].regs, d->e[i].regs, sizeof(d->e[i].regs)),
			   "entry %zu differs", i);
		FUZZ_CHECK(back.e[i].line == i + 2);
	}
	cpuid_dump_free(&back);
	free(text);
}

/* The identity of a table: its text reads back as the same identity. */
static void check_identity(const struct kvm_cpuid_entry2 *e, unsigned int nent)
{
	static char text[PCM_IDENTITY_TEXT_MAX];
	struct pcm_kvm_identity id, back;
	const char *bad = NULL;
	size_t len, badlen = 0;
	int ret;

	pcm_identity_from_entries(e, nent, &id);
	len = pcm_identity_format(&id, text, sizeof(text));
	FUZZ_CHECK(len + 1 < sizeof(text));
	ret = pcm_identity_parse(text, len, &back, &bad, &badlen);
	/* phys_bits included: any 0x80000008 EAX[7:0] reads back. */
	FUZZ_CHECK(ret == 0, "identity of a table does not parse (%d at '%.*s'):\n%s",
		   ret, (int)badlen, bad ? bad : "", text);
	fuzz_identity_normalize(&id);
	FUZZ_CHECK(!memcmp(&id, &back, sizeof(id)), "identity differs after its text:\n%s",
		   text);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct kvm_cpuid_entry2 *e;
	struct pcm_fs fs, regs_fs;
	struct cpuid_dump d;
	char err[512];
	unsigned int mode;
	size_t i, j;
	FILE *f;
	int ret;

	/* fmemopen() refuses a 0-byte buffer on older C libraries. */
	f = size ? fmemopen((void *)data, size, "r") : fopen("/dev/null", "r");
	FUZZ_CHECK(f);
	err[0] = '\0';
	ret = cpuid_dump_read(f, NAME, &d, err, sizeof(err));
	fclose(f);
	if (ret) {
		FUZZ_CHECK(ret == -1 && !d.e && !d.n && !d.cap);
		FUZZ_CHECK(!strncmp(err, NAME ":", strlen(NAME) + 1), "error '%s'", err);
		FUZZ_CHECK(!strchr(err, '\n'), "error '%s' spans lines", err);
		return 0;
	}
	FUZZ_CHECK(d.n >= 1 && d.n <= d.cap);
	for (i = 0; i < d.n; i++) {
		FUZZ_CHECK(d.e[i].line >= 1 && (!i || d.e[i].line > d.e[i - 1].line));
		for (j = 0; j < i; j++)
			FUZZ_CHECK(d.e[i].leaf != d.e[j].leaf || d.e[i].subleaf != d.e[j].subleaf,
				   "leaf 0x%x.0x%x twice", d.e[i].leaf, d.e[i].subleaf);
		FUZZ_CHECK(cpuid_dump_find(&d, d.e[i].leaf, d.e[i].subleaf) == &d.e[i]);
	}
	check_reprint(&d);

	e = calloc(d.n, sizeof(*e));
	FUZZ_CHECK(e);
	pcm_fs_zero(&regs_fs);
	for (i = 0; i < d.n; i++) {
		e[i].function = d.e[i].leaf;
		e[i].index = d.e[i].subleaf;
		e[i].eax = d.e[i].regs[0];
		e[i].ebx = d.e[i].regs[1];
		e[i].ecx = d.e[i].regs[2];
		e[i].edx = d.e[i].regs[3];
		pcm_fs_add_regs(&regs_fs, d.e[i].leaf, d.e[i].subleaf, d.e[i].regs);
	}
	/* pcmctl decodes leaf by leaf, the kernel a whole table: they agree. */
	pcm_fs_from_entries(e, d.n, &fs);
	FUZZ_CHECK(pcm_fs_equal(&fs, &regs_fs));
	check_identity(e, d.n);
	/* A pool of this CPU alone for mode baseline. */
	for (mode = 0; mode < PCM_KVM_NR_MODES; mode++)
		mask_check(e, d.n, mode, &fs);
	free(e);
	cpuid_dump_free(&d);
	return 0;
}
