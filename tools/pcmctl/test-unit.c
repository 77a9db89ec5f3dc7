// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of pcmctl's pure layers: the pool and check logic (pool.c),
 * the reader of text inputs (kv.c) and host profiles (profile.c), built
 * in memory; no kernel module, no pcmctl binary.
 *
 * TAP on stdout: "ok N - ..." or "not ok N - ..." with "#" diagnostics,
 * then "1..N" and "unit: N passed, N failed, N skipped".  Exit 1 on any
 * failure.  pcmctl's messages (pcmctl_err) go to a temporary file, so
 * that a refused input is checked for its message too.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pcmctl.h"
#include "kv.h"
#include "out.h"
#include "pool.h"
#include "profile.h"

/* What main.c gives the layers. */
const char *prog = "pcmctl";
FILE *pcmctl_err;

void pr_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(pcmctl_err, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(pcmctl_err, fmt, ap);
	va_end(ap);
	fputc('\n', pcmctl_err);
}

/* The command line layer: the commands are linked, never run here. */
int cmd_usage(const struct pcmctl_cmd *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(pcmctl_err, "%s %s: ", prog, c->name);
	va_start(ap, fmt);
	vfprintf(pcmctl_err, fmt, ap);
	va_end(ap);
	fputc('\n', pcmctl_err);
	return EXIT_USAGE;
}

int cmd_getopt(const struct pcmctl_cmd *c, int argc, char **argv, int *ret)
{
	*ret = cmd_usage(c, "not in the unit tests (%d arguments, %s)", argc,
			 argc ? argv[0] : "none");
	return OPT_STOP;
}

int cmd_operands(const struct pcmctl_cmd *c, int argc, char **argv, int min, int max)
{
	return argc < min || (max >= 0 && argc > max) ?
	       cmd_usage(c, "operands (%s)", argc ? argv[0] : "none") : 0;
}

int cmd_mode(const struct pcmctl_cmd *c, const char *s)
{
	int mode = pcm_mode_parse(s, strlen(s));

	if (mode < 0)
		cmd_usage(c, "unknown mode '%s'", s);
	return mode;
}

/* TAP */

static unsigned int t_num, t_pass, t_fail, t_skip;

static void __printf(1, 2) diag(const char *fmt, ...)
{
	char buf[8192];
	const char *p = buf;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	while (*p) {
		size_t n = strcspn(p, "\n");

		printf("#   %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static bool __printf(2, 3) ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	t_num++;
	if (cond)
		t_pass++;
	else
		t_fail++;
	printf("%s %u - ", cond ? "ok" : "not ok", t_num);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return cond;
}

static void skip(const char *desc, const char *why)
{
	t_num++;
	t_skip++;
	printf("ok %u - %s # SKIP %s\n", t_num, desc, why);
}

static void __printf(1, 2) __pcmctl_attr(noreturn) bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(1);
}

/* pcmctl's messages */

static void err_reset(void)
{
	fflush(pcmctl_err);
	if (ftruncate(fileno(pcmctl_err), 0))
		bail("cannot truncate the message file");
	rewind(pcmctl_err);
}

/* What pr_err() wrote since err_reset(). */
static const char *err_text(void)
{
	static char buf[16384];
	size_t n;

	fflush(pcmctl_err);
	rewind(pcmctl_err);
	n = fread(buf, 1, sizeof(buf) - 1, pcmctl_err);
	buf[n] = '\0';
	fseek(pcmctl_err, 0, SEEK_END);
	return buf;
}

/* An input refused: ret is EXIT_OP and the message has want. */
static bool refused(int ret, const char *want, const char *desc)
{
	const char *e = err_text();
	bool good = ret == EXIT_OP && strstr(e, want);

	if (!ok(good, "%s", desc))
		diag("returned %d, want %d with a message with '%s'; the messages:\n%s",
		     ret, EXIT_OP, want, e);
	err_reset();
	return good;
}

/* An input accepted: ret is 0. */
static bool accepted(int ret, const char *desc)
{
	bool good = !ret;

	if (!ok(good, "%s", desc))
		diag("returned %d, want 0; the messages:\n%s", ret, err_text());
	err_reset();
	return good;
}

/* Feature sets */

static struct pcm_fs fs_of(const char *names)
{
	const char *bad = NULL;
	struct pcm_fs fs;
	size_t badlen = 0;

	pcm_fs_zero(&fs);
	if (names[strspn(names, " ")] && pcm_fs_parse(names, strlen(names), &fs, &bad, &badlen))
		bail("unknown feature '%.*s' in the test", (int)badlen, bad);
	return fs;
}

static struct pcm_fs fs_hwno(void)
{
	struct pcm_fs hw, no;

	pcm_fs_of_class(&hw, PCM_CLASS_HW);
	pcm_fs_of_class(&no, PCM_CLASS_NO);
	pcm_fs_or(&hw, &hw, &no);
	return hw;
}

/* got == want, else the difference as a diagnostic. */
static bool __printf(3, 4) fs_same(const struct pcm_fs *got, const struct pcm_fs *want,
				   const char *fmt, ...)
{
	static char extra[PCM_FS_TEXT_MAX], lacks[PCM_FS_TEXT_MAX];
	struct pcm_fs d;
	char desc[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	if (ok(pcm_fs_equal(got, want), "%s", desc))
		return true;
	pcm_fs_andnot(&d, got, want);
	pcm_fs_format(&d, extra, sizeof(extra));
	pcm_fs_andnot(&d, want, got);
	pcm_fs_format(&d, lacks, sizeof(lacks));
	diag("extra: %s\nlacking: %s", extra, lacks);
	return false;
}

static bool has(const struct pcm_fs *fs, const char *name)
{
	int id = pcm_feature_lookup(name, strlen(name));

	if (id < 0)
		bail("unknown feature '%s' in the test", name);
	return pcm_fs_test(fs, id);
}

/* Profiles */

static void host(struct profile *p, const char *name, const char *vendor,
		 const char *features)
{
	profile_init(p);
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->vendor, sizeof(p->vendor), "%s", vendor);
	p->features = fs_of(features);
	p->max_basic_leaf = 0xd;
	p->max_ext_leaf = 0x80000008;
	p->phys_bits = 46;
	p->xcr0 = 0x7;
	p->msrs_known = true;
}

/* The first field in which a and b differ, or NULL (path aside). */
static const char *profile_diff(const struct profile *a, const struct profile *b)
{
	static const struct {
		const char *name;
		size_t off;
	} str[] = {
		{ "name", offsetof(struct profile, name) },
		{ "vendor", offsetof(struct profile, vendor) },
		{ "family", offsetof(struct profile, family) },
		{ "model", offsetof(struct profile, model) },
		{ "stepping", offsetof(struct profile, stepping) },
		{ "kernel", offsetof(struct profile, kernel) },
		{ "microcode", offsetof(struct profile, microcode) },
		{ "module", offsetof(struct profile, module) },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(str); i++)
		if (strcmp((const char *)a + str[i].off, (const char *)b + str[i].off))
			return str[i].name;
	if (a->max_basic_leaf != b->max_basic_leaf || a->max_ext_leaf != b->max_ext_leaf ||
	    a->phys_bits != b->phys_bits || a->xcr0 != b->xcr0)
		return "limits";
	if (a->tsc_khz != b->tsc_khz || a->tsc_scaling != b->tsc_scaling)
		return "tsc";
	if (!pcm_fs_equal(&a->features, &b->features))
		return "features";
	if (!pcm_fs_equal(&a->withheld, &b->withheld))
		return "withheld";
	if (a->msrs_known != b->msrs_known || a->from_dump != b->from_dump ||
	    a->is_pool != b->is_pool)
		return "flags";
	if (a->nhosts != b->nhosts || a->hosts_total != b->hosts_total ||
	    a->hosts_named != b->hosts_named)
		return "hosts";
	for (i = 0; i < a->nhosts; i++)
		if (strcmp(a->hosts[i], b->hosts[i]))
			return "host names";
	return NULL;
}

/* Texts and files */

static struct kv_text text(const char *name, const char *s, size_t len)
{
	struct kv_text t = { .buf = malloc(len + 1), .len = len, .name = name };

	if (!t.buf)
		bail("out of memory");
	memcpy(t.buf, s, len);
	t.buf[len] = '\0';
	return t;
}

static struct kv_text str_text(const char *name, const char *s)
{
	return text(name, s, strlen(s));
}

static char tmpdir[64];
static char made[16][128];
static unsigned int nmade;

static const char *write_file(const char *name, const char *data, size_t len)
{
	FILE *f;
	char *path;

	if (nmade == ARRAY_SIZE(made))
		bail("too many test files");
	path = made[nmade++];
	snprintf(path, sizeof(made[0]), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		bail("cannot write %s", path);
	return path;
}

static void remove_files(void)
{
	while (nmade)
		unlink(made[--nmade]);
	rmdir(tmpdir);
}

/* pool.c */

static void test_pool_compute(void)
{
	struct pcm_fs hw[3], want, hwno = fs_hwno();
	struct profile h[3];
	struct pool pl;

	/* aes needs sse2, which b lacks; apic, x2apic: KVM; md_clear: SCRUB */
	host(&h[0], "a", "GenuineIntel",
	     "fpu fxsr sse sse2 aes x2apic apic md_clear fdp_excptn_only mcdt_no");
	host(&h[1], "b", "GenuineIntel", "fpu fxsr sse aes apic verw_clear zero_fcs_fds mcdt_no");
	host(&h[2], "c", "GenuineIntel", "fpu fxsr sse sse2 pni aes mcdt_no md_clear");
	h[0].max_basic_leaf = 0x16;
	h[1].max_basic_leaf = 0xd;
	h[2].max_basic_leaf = 0x1f;
	h[0].max_ext_leaf = 0x80000021;
	h[1].max_ext_leaf = 0x80000028;
	h[2].max_ext_leaf = 0x80000008;
	h[0].phys_bits = 46;
	h[1].phys_bits = 52;
	h[2].phys_bits = 48;
	h[0].xcr0 = 0x2e7;
	h[1].xcr0 = 0x207;
	h[2].xcr0 = 0x0ff;
	h[1].msrs_known = false;
	pool_compute(h, 3, &pl, hw);

	want = fs_of("fpu fxsr sse mcdt_no");
	fs_same(&pl.hw, &want, "pool_compute: hw is the intersection of closed HW and NO features");
	want = fs_of("fpu fxsr sse sse2 aes mcdt_no");
	fs_same(&hw[0], &want, "pool_compute: hw[0] is host 0's closed HW and NO features");
	want = fs_of("fpu fxsr sse mcdt_no");
	fs_same(&hw[1], &want, "pool_compute: hw[1] drops aes, whose sse2 host 1 lacks");
	want = fs_of("md_clear verw_clear");
	fs_same(&pl.scrub, &want, "pool_compute: scrub is the OR of SCRUB features");
	want = fs_of("fdp_excptn_only zero_fcs_fds");
	fs_same(&pl.inv, &want, "pool_compute: inv is the OR of INV features");
	ok(pl.max_basic_leaf == 0xd, "pool_compute: max_basic_leaf is the minimum (0x%llx)",
	   pl.max_basic_leaf);
	ok(pl.max_ext_leaf == 0x80000008, "pool_compute: max_ext_leaf is the minimum (0x%llx)",
	   pl.max_ext_leaf);
	ok(pl.phys_bits == 46, "pool_compute: phys_bits is the minimum (%llu)", pl.phys_bits);
	ok(pl.xcr0 == 0x7, "pool_compute: xcr0 is the AND (0x%llx)", pl.xcr0);
	ok(!pl.msrs_known, "pool_compute: msrs_known false when one host's MSRs are unknown");
	h[1].msrs_known = true;
	pool_compute(h, 3, &pl, NULL);
	ok(pl.msrs_known, "pool_compute: msrs_known when every host's are known");

	/* one host: itself, closed (sse2 and aes need sse, which it lacks) */
	host(&h[0], "solo", "AuthenticAMD", "fpu fxsr sse2 aes pni md_clear apic mcdt_no");
	h[0].msrs_known = false;
	pool_compute(h, 1, &pl, hw);
	want = fs_of("fpu fxsr mcdt_no");
	fs_same(&pl.hw, &want, "pool_compute n=1: the host's closed HW and NO features");
	fs_same(&hw[0], &pl.hw, "pool_compute n=1: hw[0] is the pool");
	want = h[0].features;
	pcm_fs_close(&want);
	pcm_fs_and(&want, &want, &hwno);
	fs_same(&pl.hw, &want, "pool_compute n=1: pcm_fs_close() of the host, HW and NO");
	ok(pl.max_basic_leaf == h[0].max_basic_leaf && pl.max_ext_leaf == h[0].max_ext_leaf &&
	   pl.phys_bits == h[0].phys_bits && pl.xcr0 == h[0].xcr0 && !pl.msrs_known,
	   "pool_compute n=1: the host's limits and msrs_known");
}

static void vendors(struct profile *h, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		profile_init(&h[i]);
		snprintf(h[i].vendor, sizeof(h[i].vendor), "%s", v[i]);
	}
}

static void test_pool_main_vendor(void)
{
	static const char *const maj[] = { "AuthenticAMD", "GenuineIntel", "GenuineIntel" };
	static const char *const tie[] = { "GenuineIntel", "AuthenticAMD", "AuthenticAMD",
					   "GenuineIntel" };
	static const char *const one[] = { "HygonGenuine", "HygonGenuine" };
	struct profile h[24];
	size_t i, c, m;

	vendors(h, maj, ARRAY_SIZE(maj));
	m = pool_main_vendor(h, ARRAY_SIZE(maj), &c);
	ok(m == 1 && c == 2, "pool_main_vendor: the majority vendor's first host (%zu, %zu)", m, c);
	vendors(h, tie, ARRAY_SIZE(tie));
	m = pool_main_vendor(h, ARRAY_SIZE(tie), &c);
	ok(m == 0 && c == 2, "pool_main_vendor: the earliest on a tie (%zu, %zu)", m, c);
	vendors(h, tie + 1, 3);
	m = pool_main_vendor(h, 3, &c);
	ok(m == 0 && c == 2, "pool_main_vendor: AMD AMD Intel: host 0, 2 of 3 (%zu, %zu)", m, c);
	vendors(h, one, ARRAY_SIZE(one));
	m = pool_main_vendor(h, ARRAY_SIZE(one), &c);
	ok(m == 0 && c == 2, "pool_main_vendor: one vendor: all hosts (%zu, %zu)", m, c);
	m = pool_main_vendor(h, 0, &c);
	ok(m == 0 && c == 0, "pool_main_vendor: no host: count 0 (%zu, %zu)", m, c);

	/* ten vendors, the third the majority */
	for (i = 0; i < 10; i++) {
		profile_init(&h[i]);
		snprintf(h[i].vendor, sizeof(h[i].vendor), "Vendor%zu", i);
	}
	for (i = 10; i < 14; i++)
		h[i] = h[2];
	m = pool_main_vendor(h, 14, &c);
	ok(m == 2 && c == 5,
	   "pool_main_vendor: 10 vendors, the majority among the first 8 (%zu, %zu)", m, c);
	/* ... and the tenth the majority */
	for (i = 10; i < 24; i++)
		h[i] = h[9];
	m = pool_main_vendor(h, 24, &c);
	if (!ok(m == 9 && c == 15,
		"pool_main_vendor: 10 vendors, the majority is the tenth (%zu, %zu)", m, c))
		diag("want host 9 (Vendor9, 15 of 24 hosts): the vendor most hosts have");
}

static void names(struct profile *h, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		profile_init(&h[i]);
		snprintf(h[i].name, sizeof(h[i].name), "%s", v[i]);
	}
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_pool_duplicate(void)
{
	static const char *const differ[] = { "a", "b", "c", "ab", "ba" };
	static const char *const pair[] = { "n1", "n2", "n3", "n2", "n4" };
	static const char *const two[] = { "zeta", "alpha", "zeta", "alpha" };
	static const char *const three[] = { "x", "a", "b", "c", "d", "x", "e", "f", "g", "x" };
	const size_t big = 10000;
	struct profile h[10], *many;
	size_t a = 99, b = 99, i;
	double best = 1e9;
	int round;
	bool dup;

	names(h, differ, ARRAY_SIZE(differ));
	ok(!pool_duplicate(h, ARRAY_SIZE(differ), &a, &b), "pool_duplicate: none when all differ");
	ok(!pool_duplicate(h, 1, &a, &b) && !pool_duplicate(h, 0, &a, &b),
	   "pool_duplicate: none in 0 or 1 host");
	names(h, pair, ARRAY_SIZE(pair));
	dup = pool_duplicate(h, ARRAY_SIZE(pair), &a, &b);
	ok(dup && a == 1 && b == 3, "pool_duplicate: the pair, a < b (%d, %zu, %zu)", dup, a, b);
	names(h, two, ARRAY_SIZE(two));
	dup = pool_duplicate(h, ARRAY_SIZE(two), &a, &b);
	if (!ok(dup && a == 0 && b == 2,
		"pool_duplicate: two pairs: the lowest indexes (%d, %zu, %zu)", dup, a, b))
		diag("zeta alpha zeta alpha: want 0 and 2, the first host given twice");
	names(h, three, ARRAY_SIZE(three));
	dup = pool_duplicate(h, ARRAY_SIZE(three), &a, &b);
	if (!ok(dup && a == 0 && b == 5,
		"pool_duplicate: a name three times: the first two (%d, %zu, %zu)", dup, a, b))
		diag("x at 0, 5 and 9: want 0 and 5");

	many = calloc(big, sizeof(*many));
	if (!many)
		bail("out of memory");
	for (i = 0; i < big; i++) {
		profile_init(&many[i]);
		/* a common prefix: a quadratic search would compare long */
		snprintf(many[i].name, sizeof(many[i].name), "rack-17-row-4-host-%05zu",
			 (i * 7919) % big);
	}
	for (round = 0; round < 3; round++) {
		double t = seconds();

		dup = pool_duplicate(many, big, &a, &b);
		t = seconds() - t;
		if (t < best)
			best = t;
	}
	ok(!dup, "pool_duplicate: 10,000 distinct names: none");
	/* under valgrind or a sanitizer, time says nothing */
	if (getenv("PCMCTL_UNIT_NO_TIMING"))
		skip("pool_duplicate: 10,000 names fast", "PCMCTL_UNIT_NO_TIMING set");
	else if (!ok(best < 0.05, "pool_duplicate: 10,000 names in %.4f s (< 0.05 s)", best))
		diag("a quadratic search takes about 0.1 s and more");
	snprintf(many[9999].name, sizeof(many[9999].name), "%s", many[4000].name);
	dup = pool_duplicate(many, big, &a, &b);
	ok(dup && a == 4000 && b == 9999, "pool_duplicate: 10,000 names, one pair (%d, %zu, %zu)",
	   dup, a, b);
	free(many);
}

static void test_pool_explain_small(void)
{
	struct pcm_fs hw[3], gain, want;
	struct pool_explain ex;
	struct profile h[3];
	struct pool pl;
	int sse2 = pcm_feature_lookup("sse2", 4), pni = pcm_feature_lookup("pni", 3);

	host(&h[0], "a", "GenuineIntel", "fpu fxsr sse sse2");
	host(&h[1], "b", "GenuineIntel", "fpu fxsr sse");
	host(&h[2], "c", "GenuineIntel", "fpu fxsr sse sse2 pni apic");
	pool_compute(h, 3, &pl, hw);
	pool_explain(hw, 3, &pl, &ex);
	want = fs_of("sse2 pni");
	fs_same(&ex.held_back, &want, "pool_explain: held_back = union minus pool (apic: KVM)");
	ok(ex.lackers[sse2] == 1 && ex.lacker[sse2] == 1,
	   "pool_explain: sse2 lacked by host 1 alone (%u, %zu)", ex.lackers[sse2],
	   ex.lacker[sse2]);
	ok(ex.lackers[pni] == 2, "pool_explain: pni lacked by 2 hosts (%u)", ex.lackers[pni]);
	pool_retire_gain(&ex, 1, &gain);
	want = fs_of("sse2");
	fs_same(&gain, &want, "pool_retire_gain: retiring host 1 gains sse2");
	pool_retire_gain(&ex, 0, &gain);
	want = fs_of("");
	fs_same(&gain, &want, "pool_retire_gain: retiring host 0 gains nothing");
	pool_retire_gain(&ex, 2, &gain);
	fs_same(&gain, &want, "pool_retire_gain: retiring host 2 gains nothing");
}

static unsigned long long rng = 0x2545f4914f6cdd1dULL;

/* xorshift64*: the same pools on every libc */
static unsigned long long rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static void test_pool_explain_random(void)
{
	enum { ROUNDS = 300, MAXN = 12 };
	struct profile h[MAXN], rest[MAXN - 1];
	struct pcm_fs hw[MAXN], want, any, gain, common, hwno = fs_hwno();
	unsigned int bad_compute = 0, bad_held = 0, bad_lackers = 0, bad_gain = 0;
	unsigned int bad_limits = 0, gains = 0, retires = 0, first_bad = ~0U;
	struct pool_explain ex;
	struct pool pl, pl2;
	unsigned int r, id;
	size_t i, j, k;

	for (r = 0; r < ROUNDS; r++) {
		size_t n = 2 + rnd() % (MAXN - 1);

		pcm_fs_zero(&common);
		for (id = 0; id < PCM_NR_FEATURES; id++)
			if (rnd() % 4)
				pcm_fs_set(&common, id);
		for (i = 0; i < n; i++) {
			profile_init(&h[i]);
			snprintf(h[i].name, sizeof(h[i].name), "r%u-h%zu", r, i);
			h[i].features = common;
			for (id = 0; id < PCM_NR_FEATURES; id++) {
				if (!(rnd() % 12))
					pcm_fs_clear(&h[i].features, id);
				else if (!(rnd() % 40))
					pcm_fs_set(&h[i].features, id);
			}
			h[i].max_basic_leaf = 0xd + rnd() % 0x14;
			h[i].max_ext_leaf = 0x80000008 + rnd() % 0x20;
			h[i].phys_bits = 36 + rnd() % 17;
			h[i].xcr0 = rnd() & 0x2ff;
			h[i].msrs_known = rnd() % 8;
		}
		pool_compute(h, n, &pl, hw);
		pool_explain(hw, n, &pl, &ex);

		/* pool_compute: the AND of each host's closure */
		pcm_fs_known(&want);
		pcm_fs_zero(&any);
		for (i = 0; i < n; i++) {
			struct pcm_fs c = h[i].features;

			pcm_fs_close(&c);
			pcm_fs_and(&c, &c, &hwno);
			if (!pcm_fs_equal(&c, &hw[i]))
				bad_compute++;
			pcm_fs_and(&want, &want, &c);
			pcm_fs_or(&any, &any, &c);
		}
		if (!pcm_fs_equal(&want, &pl.hw))
			bad_compute++;
		{
			unsigned long long mb = ~0ULL, me = ~0ULL, pb = ~0ULL, x = ~0ULL;
			bool known = true;

			for (i = 0; i < n; i++) {
				mb = h[i].max_basic_leaf < mb ? h[i].max_basic_leaf : mb;
				me = h[i].max_ext_leaf < me ? h[i].max_ext_leaf : me;
				pb = h[i].phys_bits < pb ? h[i].phys_bits : pb;
				x &= h[i].xcr0;
				known = known && h[i].msrs_known;
			}
			if (mb != pl.max_basic_leaf || me != pl.max_ext_leaf ||
			    pb != pl.phys_bits || x != pl.xcr0 || known != pl.msrs_known)
				bad_limits++;
		}

		/* held back: what some host has, the pool lacks */
		pcm_fs_andnot(&want, &any, &pl.hw);
		if (!pcm_fs_equal(&want, &ex.held_back))
			bad_held++;
		for (id = 0; id < PCM_NR_FEATURES; id++) {
			unsigned int lackers = 0;

			if (!pcm_fs_test(&ex.held_back, id))
				continue;
			for (i = 0; i < n; i++)
				lackers += !pcm_fs_test(&hw[i], id);
			if (lackers != ex.lackers[id])
				bad_lackers++;
		}

		/* retiring host i: pool_compute() without it */
		for (i = 0; i < n; i++) {
			for (j = k = 0; j < n; j++)
				if (j != i)
					rest[k++] = h[j];
			pool_compute(rest, k, &pl2, NULL);
			pcm_fs_andnot(&want, &pl2.hw, &pl.hw);
			pool_retire_gain(&ex, i, &gain);
			retires++;
			gains += !pcm_fs_empty(&gain);
			if (!pcm_fs_equal(&want, &gain)) {
				bad_gain++;
				if (first_bad == ~0U)
					first_bad = r;
			}
		}
	}
	ok(!bad_compute,
	   "pool_compute: %u random pools: hw is the AND of the hosts' closures (%u bad)",
	   ROUNDS, bad_compute);
	ok(!bad_limits, "pool_compute: %u random pools: limits and msrs_known (%u bad)",
	   ROUNDS, bad_limits);
	ok(!bad_held, "pool_explain: %u random pools: held_back = union minus pool (%u bad)",
	   ROUNDS, bad_held);
	ok(!bad_lackers, "pool_explain: %u random pools: lackers counted (%u bad)",
	   ROUNDS, bad_lackers);
	if (!ok(!bad_gain,
		"pool_retire_gain: %u retirements = pool_compute() without the host (%u bad)",
		retires, bad_gain))
		diag("first in round %u", first_bad);
	/* the comparison means something only if some retirements gain */
	ok(gains > retires / 10 && gains < retires,
	   "pool_retire_gain: random pools: %u of %u retirements gain features", gains, retires);
}

/* avx2 without avx and xsave: closed away */
#define DST_FEATURES	"fpu fxsr sse sse2 pni ssse3 sse4_1 sse4_2 popcnt cx16 lahf_lm " \
			"aes pclmulqdq apic x2apic md_clear mcdt_no avx2"

static void test_pool_destination(void)
{
	struct pcm_fs allow, want, base;
	struct pcm_kvm_identity dst, id;
	struct profile h;

	host(&h, "dst", "GenuineIntel-and-more", DST_FEATURES);
	h.max_basic_leaf = 0x1b;
	h.max_ext_leaf = 0x80000008;
	h.phys_bits = 39;
	h.xcr0 = 0x7;
	pool_destination(&h, NULL, PCM_KVM_MODE_MIN, &dst);
	ok(dst.mode == PCM_KVM_MODE_MIN && dst.max_basic_leaf == 0x1b &&
	   dst.max_ext_leaf == 0x80000008 && dst.phys_bits == 39 && dst.xcr0 == 0x7,
	   "pool_destination: the mode and the host's limits");
	ok(!strcmp(dst.vendor, "GenuineIntel-an"), "pool_destination: the vendor, cut to 15 (%s)",
	   dst.vendor);
	want = h.features;
	pcm_fs_close(&want);
	pcm_mode_allow(PCM_KVM_MODE_MIN, NULL, &allow);
	pcm_fs_and(&want, &want, &allow);
	fs_same(&dst.features, &want,
		"pool_destination min: closed features & pcm_mode_allow(min)");
	ok(has(&dst.features, "sse2") && !has(&dst.features, "sse4_2") &&
	   !has(&dst.features, "aes") && has(&dst.features, "x2apic") &&
	   has(&dst.features, "md_clear") && has(&dst.features, "mcdt_no") &&
	   !has(&dst.features, "avx2"),
	   "pool_destination min: sse2, x2apic, md_clear, mcdt_no; not sse4_2, aes, avx2");
	pool_destination(&h, NULL, PCM_KVM_MODE_X86_64_V2, &dst);
	ok(has(&dst.features, "sse4_2") && has(&dst.features, "popcnt") &&
	   !has(&dst.features, "aes"),
	   "pool_destination x86-64-v2: sse4_2, popcnt; not aes");
	pool_destination(&h, NULL, PCM_KVM_MODE_OFF, &dst);
	want = h.features;
	pcm_fs_close(&want);
	fs_same(&dst.features, &want, "pool_destination off: the host's closed features");
	ok(!has(&dst.features, "avx2"),
	   "pool_destination off: avx2 without avx/xsave is closed away");

	base = fs_of("fpu fxsr sse sse2 pni aes");
	pool_destination(&h, &base, PCM_KVM_MODE_BASELINE, &dst);
	ok(has(&dst.features, "aes") && has(&dst.features, "pni") && !has(&dst.features, "ssse3") &&
	   !has(&dst.features, "mcdt_no") && has(&dst.features, "md_clear") &&
	   has(&dst.features, "x2apic"),
	   "pool_destination baseline: the baseline's HW and NO features, other classes");
	base = fs_of("fpu fxsr sse sse2 mcdt_no");
	pool_destination(&h, &base, PCM_KVM_MODE_BASELINE, &dst);
	ok(has(&dst.features, "mcdt_no") && !has(&dst.features, "pni"),
	   "pool_destination baseline: mcdt_no (NO) when the baseline has it");
	pool_destination(&h, NULL, PCM_KVM_MODE_BASELINE, &dst);
	ok(!has(&dst.features, "fpu") && !has(&dst.features, "mcdt_no") &&
	   has(&dst.features, "x2apic"),
	   "pool_destination baseline, none given: no HW or NO feature");

	memset(&id, 0, sizeof(id));
	id.features = fs_of("fpu fxsr sse sse2 pni ssse3 sse4_1 sse4_2 popcnt aes x2apic");
	check_narrow(&id, PCM_KVM_MODE_X86_64_V2, NULL);
	want = fs_of("fpu fxsr sse sse2 pni ssse3 sse4_1 sse4_2 popcnt x2apic");
	fs_same(&id.features, &want, "check_narrow x86-64-v2: aes narrowed away");
	id.features = fs_of("fpu fxsr sse sse2 aes");
	check_narrow(&id, PCM_KVM_MODE_OFF, NULL);
	want = fs_of("fpu fxsr sse sse2 aes");
	fs_same(&id.features, &want, "check_narrow off: nothing narrowed");
}

/* kv.c */

static void test_kv_slurp(void)
{
	static const char crlf[] = "name: a\r\nvendor: b\r\nodd: x\ry\r\n";
	static const char nul[] = "name: a\nvendor: b\nfeatures: fpu\0 sse\n";
	struct kv_text t;
	const char *path;
	int ret;

	path = write_file("crlf.profile", crlf, sizeof(crlf) - 1);
	ret = kv_slurp(path, "profile", &t);
	if (accepted(ret, "kv_slurp: a file with CRLF")) {
		ok(!strcmp(t.buf, "name: a\nvendor: b\nodd: x\ry\n") && t.len == strlen(t.buf),
		   "kv_slurp: CRLF becomes LF, a lone CR stays");
		ok(!strcmp(t.name, path), "kv_slurp: the text is named by its path");
		kv_text_free(&t);
	}
	path = write_file("nul.profile", nul, sizeof(nul) - 1);
	ret = kv_slurp(path, "profile", &t);
	refused(ret, "nul.profile:3: NUL byte: not a profile",
		"kv_slurp: a NUL byte, its line named");
	ok(!t.buf, "kv_slurp: nothing kept of a refused file");
	path = write_file("lf.profile", "a\nb\n", 4);
	ret = kv_slurp(path, "profile", &t);
	if (accepted(ret, "kv_slurp: a file without CR")) {
		ok(t.len == 4 && !strcmp(t.buf, "a\nb\n"), "kv_slurp: LF kept as it is");
		kv_text_free(&t);
	}
	ret = kv_slurp("/nonexistent/x.profile", "profile", &t);
	refused(ret, "/nonexistent/x.profile: No such file", "kv_slurp: a missing file, named");
}

/*
 * A file larger than a piece: its first read ends KV_PIECE - 1 bytes in.
 * Lines of 63 'x' and a LF up to that end, then at_end[0..tail) from its
 * last byte.  Its path; *len: its size.
 */
static const char *big_file(const char *name, const char *at_end, size_t tail, size_t *len)
{
	size_t n = KV_PIECE - 1, i;
	char *b = malloc(n + tail);
	const char *path;

	if (!b)
		abort();
	for (i = 0; i < n; i++)
		b[i] = (i % 64 == 63) ? '\n' : 'x';
	memcpy(b + n - 1, at_end, tail);
	*len = n - 1 + tail;
	path = write_file(name, b, *len);
	free(b);
	return path;
}

static void test_kv_pieces(void)
{
	static const char crlf2[] = "\r\nname: a\r\n", cr[] = "\rname: a\n";
	static const char nul2[] = "\nnext\nfeatures: fpu\0 sse\n", last[] = "\nlast\n";
	size_t len, lines = (KV_PIECE - 2) / 64;
	struct kv_stream st;
	struct kv_text t;
	const char *path;
	char msg[128];
	int ret;

	/* the CR of a CRLF the last byte of the first read, its LF the next */
	path = big_file("big-crlf", crlf2, sizeof(crlf2) - 1, &len);
	ret = kv_slurp(path, "profile", &t);
	if (accepted(ret, "kv_slurp: a CRLF across two reads")) {
		ok(t.len == len - 2 && t.len == strlen(t.buf) && !strchr(t.buf, '\r') &&
		   !strcmp(t.buf + t.len - 9, "\nname: a\n"),
		   "kv_slurp: ... becomes LF, as within one read");
		kv_text_free(&t);
	}
	path = big_file("big-cr", cr, sizeof(cr) - 1, &len);
	ret = kv_slurp(path, "profile", &t);
	if (accepted(ret, "kv_slurp: a lone CR at the end of a read")) {
		ok(t.len == len && !strcmp(t.buf + t.len - 9, "\rname: a\n"),
		   "kv_slurp: ... stays");
		kv_text_free(&t);
	}
	path = big_file("big-nul", nul2, sizeof(nul2) - 1, &len);
	ret = kv_slurp(path, "profile", &t);
	snprintf(msg, sizeof(msg), "big-nul:%zu: NUL byte: not a profile", lines + 3);
	refused(ret, msg, "kv_slurp: a NUL in the second read, its line in the file named");

	/* what the reader gives up is counted in line0, and not kept */
	path = big_file("big-lines", last, sizeof(last) - 1, &len);
	ret = kv_stream_open(path, "profile", &st);
	if (accepted(ret, "kv_stream_open: a file larger than a piece")) {
		ok(!st.eof && st.t.len == KV_PIECE - 1, "kv_stream_open: the first piece only");
		ret = kv_stream_more(&st, 64 * 3);
		ok(!ret && st.eof && st.t.line0 == 3 && st.t.len == len - 64 * 3 &&
		   !strcmp(st.t.buf + st.t.len - 6, "\nlast\n"),
		   "kv_stream_more: three lines given up, the rest read");
		kv_stream_close(&st);
	}
}

static void test_kv_sniff(void)
{
	static const struct {
		const char *s;
		enum kv_kind kind;
	} tests[] = {
		{ "{\"format\": \"pcm_kvm.profile/1\"}", KV_JSON },
		{ "\n  \t[1, 2]", KV_JSON },
		{ "CPU:\n   0x00000000 0x00: eax=0x0000000b ebx=0x756e6547\n", KV_CPUID },
		{ "CPU 0:\n", KV_CPUID },
		{ "   0x00000000 0x00: eax=0x0000000b ebx=0x756e6547\n", KV_CPUID },
		{ "   0x00000000 0x00: eax=0x0000000b\n", KV_LINES },
		{ "# a dump\n\nCPU:\n", KV_CPUID },
		{ "name: a\nvendor: b\n", KV_LINES },
		{ "CPUs: 4\n", KV_LINES },
		{ "", KV_EMPTY },
		{ "\n \t", KV_EMPTY },
	};
	static const char *const kind[] = { "empty", "JSON", "CPUID", "lines" };
	char e[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		struct kv_text t = str_text("sniff", tests[i].s);
		enum kv_kind k = kv_sniff(&t);

		ok(k == tests[i].kind, "kv_sniff: '%s' is %s (%s)",
		   kv_esc(tests[i].s, strlen(tests[i].s), e, 40), kind[tests[i].kind], kind[k]);
		kv_text_free(&t);
	}
}

static const char *const t_keys[] = { "ver", "name", "vendor", "missing for *", NULL };
static const struct kv_format t_format = {
	.what = "profile", .version_key = "ver", .max_version = 2, .keys = t_keys,
};

static const struct kv_format t_format1 = {
	.what = "pool", .version_key = "ver", .max_version = 1, .keys = t_keys,
};

/* kv_lines of s in format f; t gets the text, to be freed. */
static int lines(const char *s, const struct kv_format *f, struct kv *kv, struct kv_text *t)
{
	*t = str_text("t.txt", s);
	return kv_lines(t, f, kv);
}

static void test_kv_lines(void)
{
	const struct kv_line *l;
	struct kv_text t;
	char big[4096];
	size_t pos = 0, i;
	struct kv kv;
	int ret;

	ret = lines("name:  a b\t\nvendor: v\n# note: x\n\n\t\n"
		    "missing for m1: f\nmissing for m2: g\nmissing for m1: h\n",
		    &t_format, &kv, &t);
	if (accepted(ret, "kv_lines: keys, a comment, blank lines, '*' keys repeated")) {
		l = kv_find(&kv, "name");
		ok(kv.n == 5 && kv.version == 1,
		   "kv_lines: 5 lines, no version line: version 1 (%zu, %u)", kv.n, kv.version);
		ok(l && l->vlen == 3 && !strncmp(l->val, "a b", 3) && l->line == 1,
		   "kv_lines: the value without the blanks around it");
		l = kv_find(&kv, "vendor");
		ok(l && l->line == 2 && kv_is(l, "vendor") && !kv_is(l, "vendo"),
		   "kv_find, kv_is: vendor on line 2");
		ok(kv.l[4].line == 8 && kv_is(&kv.l[4], "missing for m1"),
		   "kv_lines: lines counted through comments and blanks");
		kv_free(&kv);
	}
	kv_text_free(&t);

	ret = lines("name: a\ncolor: red\n", &t_format, &kv, &t);
	refused(ret, "t.txt:2: unknown key 'color' in a profile", "kv_lines: an unknown key");
	kv_text_free(&t);
	ret = lines("nam: a\n", &t_format, &kv, &t);
	refused(ret, "t.txt:1: unknown key 'nam'", "kv_lines: a key's prefix is unknown");
	kv_text_free(&t);
	ret = lines("names: a\n", &t_format, &kv, &t);
	refused(ret, "t.txt:1: unknown key 'names'", "kv_lines: a key and more is unknown");
	kv_text_free(&t);
	ret = lines("name: a\nvendor: b\n\nname: c\n", &t_format, &kv, &t);
	refused(ret, "t.txt:4: 'name' repeats line 1", "kv_lines: a repeated key names both lines");
	kv_text_free(&t);
	ret = lines("name: a\nnot a line\n", &t_format, &kv, &t);
	refused(ret, "t.txt:2: not a 'key: value' line: 'not a line'",
		"kv_lines: a line without a colon");
	kv_text_free(&t);

	ret = lines("ver: 2\nname: a\n", &t_format, &kv, &t);
	if (accepted(ret, "kv_lines: a known version (2 of 1-2)")) {
		ok(kv.version == 2, "kv_lines: version 2 (%u)", kv.version);
		kv_free(&kv);
	}
	kv_text_free(&t);
	ret = lines("name: a\nver: 3\n", &t_format, &kv, &t);
	refused(ret,
		"t.txt:2: unknown version 3 of the profile text (pcmctl reads versions 1 to 2)",
		"kv_lines: an unknown version, refused with what is read");
	kv_text_free(&t);
	ret = lines("ver: 0\n", &t_format, &kv, &t);
	refused(ret, "unknown version 0", "kv_lines: version 0 is unknown");
	kv_text_free(&t);
	ret = lines("ver: 2\n", &t_format1, &kv, &t);
	refused(ret, "t.txt:1: unknown version 2 of the pool text (pcmctl reads version 1)",
		"kv_lines: an unknown version of a one-version format");
	kv_text_free(&t);
	ret = lines("ver: one\n", &t_format, &kv, &t);
	refused(ret, "t.txt:1: bad number 'one' for ver", "kv_lines: a version that is no number");
	kv_text_free(&t);

	/* more lines than kv.inl holds */
	for (i = 0; i < 40; i++)
		pos += snprintf(big + pos, sizeof(big) - pos, "missing for k%zu: v%zu\n", i, i);
	snprintf(big + pos, sizeof(big) - pos, "name: last\n");
	ret = lines(big, &t_format, &kv, &t);
	if (accepted(ret, "kv_lines: 41 lines")) {
		l = kv_find(&kv, "name");
		ok(kv.n == 41 && l && l->line == 41 && kv_is(&kv.l[39], "missing for k39"),
		   "kv_lines: 41 lines kept in order (%zu)", kv.n);
		kv_free(&kv);
	}
	kv_text_free(&t);
	snprintf(big + pos, sizeof(big) - pos, "name: last\nname: again\n");
	ret = lines(big, &t_format, &kv, &t);
	refused(ret, "t.txt:42: 'name' repeats line 41", "kv_lines: a repeated key after 40 lines");
	kv_text_free(&t);
}

static int num(const char *v, unsigned long long *out)
{
	static struct kv_text t = { .name = "n.profile" };
	struct kv kv = { .t = &t };
	struct kv_line l = { .key = "xcr0", .klen = 4, .val = v, .vlen = strlen(v), .line = 7 };

	return kv_num(&kv, &l, out);
}

static void test_kv_num(void)
{
	static const struct {
		const char *s;
		unsigned long long v;
	} good[] = {
		{ "0", 0 }, { "42", 42 }, { "0x2A", 42 }, { "0X2a", 42 }, { "010", 10 },
		{ "18446744073709551615", ~0ULL }, { "0xffffffffffffffff", ~0ULL },
	};
	static const char *const bad[] = {
		"-1", "+1", "010x", "42junk", "18446744073709551616", "0x10000000000000000",
		"", "0x", "0x-1", "1 2", "x10", "1e3",
	};
	unsigned long long v;
	char e[64], desc[64];
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		v = 12345;
		ret = num(good[i].s, &v);
		ok(!ret && v == good[i].v, "kv_num: '%s' is %llu (%d, %llu)", good[i].s, good[i].v,
		   ret, v);
		err_reset();
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ret = num(bad[i], &v);
		snprintf(e, sizeof(e), "n.profile:7: bad number '%s' for xcr0", bad[i]);
		snprintf(desc, sizeof(desc), "kv_num: '%s' refused, named", bad[i]);
		refused(ret, e, desc);
	}
}

static int feats(const char *v, struct pcm_fs *fs)
{
	static struct kv_text t = { .name = "f.profile" };
	struct kv kv = { .t = &t };
	struct kv_line l = { .key = "features", .klen = 8, .val = v, .vlen = strlen(v), .line = 3 };

	return kv_fs(&kv, &l, fs);
}

static void test_kv_fs(void)
{
	struct pcm_fs fs, want;

	fs = fs_of("fpu");
	if (accepted(feats("-", &fs), "kv_fs: '-'"))
		ok(pcm_fs_empty(&fs), "kv_fs: '-' is empty");
	fs = fs_of("fpu");
	if (accepted(feats("", &fs), "kv_fs: ''"))
		ok(pcm_fs_empty(&fs), "kv_fs: '' is empty");
	if (accepted(feats("sse2 fpu,md-clear", &fs), "kv_fs: names, commas, an alias")) {
		want = fs_of("fpu sse2 md_clear");
		fs_same(&fs, &want, "kv_fs: the features named");
	}
	refused(feats("fpu bogus sse", &fs), "f.profile:3: unknown feature 'bogus' in features",
		"kv_fs: an unknown name, named");
	refused(feats("- fpu", &fs), "unknown feature '-'", "kv_fs: '-' among names");
}

static void test_kv_copy(void)
{
	char d[8];

	kv_copy(d, sizeof(d), "  ab c\t", 7);
	ok(!strcmp(d, "ab_c"), "kv_copy: trimmed, a blank inside as '_' (%s)", d);
	kv_copy(d, sizeof(d), "", 0);
	ok(!strcmp(d, "-"), "kv_copy: empty as '-' (%s)", d);
	kv_copy(d, sizeof(d), "abcdefghij", 10);
	ok(!strcmp(d, "abcdefg"), "kv_copy: cut to the size (%s)", d);
	kv_copy(d, sizeof(d), "a\xc3\xa9z", 4);
	ok(!strcmp(d, "a__z"), "kv_copy: non-ASCII as '_' (%s)", d);
}

static json_t *json_of(const char *s, const char *const *kinds, int *which)
{
	struct kv_text t = str_text("d.json", s);
	json_t *doc = kv_json(&t, kinds, which);

	kv_text_free(&t);
	return doc;
}

static void json_refused(const char *s, const char *const *kinds, const char *want,
			 const char *unwanted, const char *desc)
{
	int which = -1;
	json_t *doc = json_of(s, kinds, &which);
	const char *e = err_text();
	bool good = !doc && strstr(e, want) && (!unwanted || !strstr(e, unwanted));

	if (!ok(good, "%s", desc))
		diag("want NULL and a message with '%s'%s%s; the messages:\n%s", want,
		     unwanted ? ", without " : "", unwanted ? unwanted : "", e);
	json_decref(doc);
	err_reset();
}

static void test_kv_json(void)
{
	static const char *const profile[] = { "profile", NULL };
	static const char *const both[] = { "profile", "pool", NULL };
	static const char *const pool[] = { "pool", NULL };
	unsigned long long v;
	struct kv_text t;
	json_t *doc;
	int which = -1;

	doc = json_of("{\"format\": \"pcm_kvm.profile/1\"}", profile, &which);
	ok(doc && which == 0, "kv_json: pcm_kvm.profile/1 as a profile");
	json_decref(doc);
	doc = json_of("{\"format\": \"pcm_kvm.pool/1\", \"x\": 1}", both, &which);
	ok(doc && which == 1, "kv_json: pcm_kvm.pool/1 as the second kind (%d)", which);
	json_decref(doc);
	err_reset();

	json_refused("{\"format\": \"pcm_kvm.vms/1\"}", profile,
		     "d.json: \"format\": \"pcm_kvm.vms/1\", expected pcm_kvm.profile/1",
		     NULL, "kv_json: a wrong kind");
	json_refused("{\"format\": \"pcm_kvm.profile/2\"}", profile,
		     "d.json: \"format\": \"pcm_kvm.profile/2\": a version this pcmctl does not read (it reads pcm_kvm.profile/1)",
		     NULL, "kv_json: an unknown version");
	json_refused("{\"format\": \"pcm_kvm.pool/2\"}", both,
		     "a version this pcmctl does not read (it reads pcm_kvm.profile/1, pcm_kvm.pool/1)",
		     NULL, "kv_json: an unknown version of the last kind of two");
	json_refused("{\"format\": \"pcm_kvm.profile/2\"}", both,
		     "a version this pcmctl does not read", "expected",
		     "kv_json: an unknown version of the first kind of two");
	json_refused("{\"format\": \"pcm_kvm.p/1\"}", pool,
		     "\"format\": \"pcm_kvm.p/1\", expected pcm_kvm.pool/1", "a version",
		     "kv_json: a kind that is a prefix of the kind read is a wrong kind");
	json_refused("{\"name\": \"a\"}", profile,
		     "d.json: a JSON document without \"format\": not pcmctl's (expected pcm_kvm.profile/1)",
		     NULL, "kv_json: no format");
	json_refused("[1]", profile, "without \"format\"", NULL, "kv_json: not an object");
	json_refused("{\"format\": \"pcm_kvm.profile/1\",\n \"a\": }", profile,
		     "d.json:2:", NULL, "kv_json: a syntax error, its line named");
	json_refused("{\"format\": \"pcm_kvm.profile/1\", \"a\": 1, \"a\": 2}", profile,
		     "not JSON", NULL, "kv_json: a duplicate member");

	t = str_text("n.json", "");
	doc = json_pack("{s:n, s:I, s:i, s:f, s:s}", "null", "big", (json_int_t)1 << 40,
			"neg", -1, "real", 1.5, "str", "5");
	if (!doc)
		bail("json_pack");
	v = 7;
	accepted(kv_json_num(&t, doc, "null", &v, false), "kv_json_num: null, not required");
	ok(v == 7, "kv_json_num: null leaves the value (%llu)", v);
	refused(kv_json_num(&t, doc, "null", &v, true), "n.json: \"null\" is not a number >= 0",
		"kv_json_num: null, required");
	accepted(kv_json_num(&t, doc, "none", &v, false), "kv_json_num: absent, not required");
	refused(kv_json_num(&t, doc, "none", &v, true), "n.json: no \"none\" member",
		"kv_json_num: absent, required");
	if (accepted(kv_json_num(&t, doc, "big", &v, true), "kv_json_num: 2^40"))
		ok(v == 1ULL << 40, "kv_json_num: 2^40 read (%llu)", v);
	refused(kv_json_num(&t, doc, "neg", &v, false), "\"neg\" is not a number >= 0",
		"kv_json_num: -1 refused");
	refused(kv_json_num(&t, doc, "real", &v, false), "\"real\" is not a number >= 0",
		"kv_json_num: 1.5 refused");
	refused(kv_json_num(&t, doc, "str", &v, false), "\"str\" is not a number >= 0",
		"kv_json_num: \"5\" refused");
	json_decref(doc);
	kv_text_free(&t);
}

/* profile.c */

#define PROFILE_FEATURES	"fpu fxsr sse sse2 pni ssse3 sse4_1 sse4_2 popcnt cx16 " \
				"lahf_lm aes md_clear arch_capabilities.rsba"

static const char profile_text[] =
	"pcm_kvm_profile: 1\n"
	"name: node-a\n"
	"vendor: GenuineIntel\n"
	"family: 0x6\n"
	"model: 0x55\n"
	"stepping: 0x4\n"
	"kernel: 6.1.0-13-amd64\n"
	"microcode: 0x2007006\n"
	"module: 0.9.1\n"
	"max_basic_leaf: 0x16\n"
	"max_ext_leaf: 0x80000008\n"
	"phys_bits: 46\n"
	"xcr0: 0x2e7\n"
	"tsc_khz: 2100000\n"
	"tsc_scaling: yes\n"
	"level: x86-64-v2\n"
	"missing for x86-64-v3: avx2\n"
	"features: " PROFILE_FEATURES "\n"
	"withheld: aes\n"
	"feature_msrs: known\n";

static const char pool_text[] =
	"pcm_kvm_pool: 1\n"
	"hosts: h1 h2\n"
	"vendor: AuthenticAMD\n"
	"level: min\n"
	"missing for x86-64-v2: popcnt\n"
	"max_basic_leaf: 0xd\n"
	"max_ext_leaf: 0x80000021\n"
	"phys_bits: 48\n"
	"xcr0: 0x7\n"
	"scrub: md_clear\n"
	"inverted: fdp_excptn_only\n"
	"feature_msrs: unknown (not read on: h1)\n"
	"gives up h1: -\n"
	"gives up h2: sse4_2\n"
	"baseline: fpu fxsr sse sse2\n";

/* gulftown.cpuid of /work/shared/cpuid: `cpuid -1 -r` */
static const char dump_head[] =
	"CPU:\n"
	"   0x00000000 0x00: eax=0x0000000b ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69\n"
	"   0x00000001 0x00: eax=0x000206c2 ebx=0x00200800 ecx=0x029ae3bf edx=0xbfebfbff\n"
	"   0x00000002 0x00: eax=0x55035a01 ebx=0x00f0b2ff ecx=0x00000000 edx=0x00ca0000\n"
	"   0x00000003 0x00: eax=0x00000000 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n"
	"   0x00000004 0x00: eax=0x3c004121 ebx=0x01c0003f ecx=0x0000003f edx=0x00000000\n"
	"   0x00000005 0x00: eax=0x00000040 ebx=0x00000040 ecx=0x00000003 edx=0x00001120\n"
	"   0x00000006 0x00: eax=0x00000005 ebx=0x00000002 ecx=0x00000001 edx=0x00000000\n"
	"   0x00000007 0x00: eax=0x00000000 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n"
	"   0x00000008 0x00: eax=0x00000000 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n"
	"   0x00000009 0x00: eax=0x00000000 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n"
	"   0x0000000a 0x00: eax=0x07300403 ebx=0x00000004 ecx=0x00000000 edx=0x00000603\n"
	"   0x0000000b 0x00: eax=0x00000001 ebx=0x00000002 ecx=0x00000100 edx=0x00000000\n";

static const char dump_ext0[] =
	"   0x80000000 0x00: eax=0x80000008 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n";

static const char dump_ext0_cut[] =
	"   0x80000000 0x00: eax=0x80000001 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n";

static const char dump_ext1[] =
	"   0x80000001 0x00: eax=0x00000000 ebx=0x00000000 ecx=0x00000001 edx=0x2c100000\n";

static const char dump_tail[] =
	"   0x80000002 0x00: eax=0x65746e49 ebx=0x2952286c ecx=0x726f4320 edx=0x4d542865\n"
	"   0x80000003 0x00: eax=0x37692029 ebx=0x55504320 ecx=0x20202020 edx=0x58202020\n"
	"   0x80000004 0x00: eax=0x30393920 ebx=0x20402020 ecx=0x37342e33 edx=0x007a4847\n"
	"   0x80000005 0x00: eax=0x00000000 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n"
	"   0x80000006 0x00: eax=0x00000000 ebx=0x00000000 ecx=0x01006040 edx=0x00000000\n"
	"   0x80000007 0x00: eax=0x00000000 ebx=0x00000000 ecx=0x00000000 edx=0x00000100\n"
	"   0x80000008 0x00: eax=0x00003024 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n";

static const char nonsense_ext[] =
	"max_ext_leaf 0x80000001: no long-mode leaves up to 0x80000008 (a truncated dump?)";

static int parse(const char *name, const char *s, unsigned int allowed, struct profile *p)
{
	struct kv_text t = str_text(name, s);
	int ret = profile_parse(&t, name, allowed, p);

	kv_text_free(&t);
	return ret;
}

static void test_profile_text_json(void)
{
	struct profile p, q, r;
	const char *path, *d;
	struct pcm_fs want;
	char *js;
	json_t *doc;
	int ret;

	ret = parse("node-a.profile", profile_text, PROFILE_HOST, &p);
	if (!accepted(ret, "profile_parse: a profile text"))
		return;
	want = fs_of(PROFILE_FEATURES);
	ok(!strcmp(p.name, "node-a") && !strcmp(p.vendor, "GenuineIntel") &&
	   !strcmp(p.family, "0x6") && !strcmp(p.model, "0x55") && !strcmp(p.stepping, "0x4") &&
	   !strcmp(p.kernel, "6.1.0-13-amd64") && !strcmp(p.microcode, "0x2007006") &&
	   !strcmp(p.module, "0.9.1"), "profile_parse: the text's strings");
	ok(p.max_basic_leaf == 0x16 && p.max_ext_leaf == 0x80000008 && p.phys_bits == 46 &&
	   p.xcr0 == 0x2e7 && p.tsc_khz == 2100000 && p.tsc_scaling == 1,
	   "profile_parse: the text's limits and TSC");
	fs_same(&p.features, &want, "profile_parse: the text's features");
	want = fs_of("aes");
	fs_same(&p.withheld, &want, "profile_parse: the text's withheld");
	ok(p.msrs_known && !p.from_dump && !p.is_pool && !p.nhosts,
	   "profile_parse: msrs known, a host, not a dump");

	doc = profile_doc(&p);
	js = json_dumps(doc, 0);
	json_decref(doc);
	if (!js)
		bail("json_dumps");
	ok(!strncmp(js, "{\"format\": \"pcm_kvm.profile/1\"", 30),
	   "profile_doc: \"format\": \"pcm_kvm.profile/1\" first");
	ret = parse("node-a.json", js, PROFILE_HOST, &q);
	if (accepted(ret, "profile_parse: the profile's JSON")) {
		d = profile_diff(&p, &q);
		if (!ok(!d, "profile_parse: text and JSON give the same profile"))
			diag("they differ in %s", d);
	}
	/* unknown TSC: null in JSON, '-' in the text */
	p.tsc_khz = 0;
	p.tsc_scaling = -1;
	p.msrs_known = false;
	doc = profile_doc(&p);
	free(js);
	js = json_dumps(doc, 0);
	json_decref(doc);
	if (!js)
		bail("json_dumps");
	ret = parse("node-a.json", js, PROFILE_HOST, &q);
	if (accepted(ret, "profile_parse: JSON with tsc_khz and tsc_scaling null")) {
		d = profile_diff(&p, &q);
		if (!ok(!d, "profile_parse: unknown TSC and MSRs read back"))
			diag("they differ in %s", d);
	}
	free(js);

	/* from a file: the name from the path when the text has none */
	d = strstr(profile_text, "vendor:");
	path = write_file("host7.profile", d, strlen(d));
	ret = profile_read(path, PROFILE_HOST, &r);
	if (accepted(ret, "profile_read: a profile file without a name line"))
		ok(!strcmp(r.name, "host7.profile") && !strcmp(r.vendor, "GenuineIntel") &&
		   r.path == path, "profile_read: named after its file (%s)", r.name);
	ret = profile_read(path, PROFILE_POOL, &r);
	refused(ret, "a host profile, not a pool file", "profile_read: a profile as a pool");

	ret = parse("x.profile", "vendor: v\nname: x\n", PROFILE_HOST, &r);
	refused(ret, "x.profile: not a host profile (no features line",
		"profile_parse: no features line");
	ret = parse("x.profile", "vendor: v\nfeatures: fpu\ntsc_scaling: maybe\n",
		    PROFILE_HOST, &r);
	refused(ret, "x.profile:3: tsc_scaling is yes, no or -",
		"profile_parse: a bad tsc_scaling");
	ret = parse("x.profile", "vendor: v\nfeatures: fpu\nfeature_msrs: perhaps\n",
		    PROFILE_HOST, &r);
	refused(ret, "x.profile:3: feature_msrs is known or unknown",
		"profile_parse: a bad feature_msrs");
	ret = parse("x.profile", "pcm_kvm_profile: 2\nvendor: v\nfeatures: fpu\n",
		    PROFILE_HOST, &r);
	refused(ret, "x.profile:1: unknown version 2 of the profile text",
		"profile_parse: profile version 2");
	ret = parse("x.profile", "vendor: v\nfeatures: fpu\n", PROFILE_HOST, &r);
	if (accepted(ret, "profile_parse: an old profile: no version line, vendor and features"))
		ok(!strcmp(r.name, "x.profile") && !strcmp(r.family, "-") && r.tsc_scaling == -1 &&
		   !r.msrs_known, "profile_parse: what the text lacks is unknown");
	ret = parse("x.json",
		    "{\"format\": \"pcm_kvm.profile/1\", \"vendor\": \"v\", \"features\": []}",
		    PROFILE_HOST, &r);
	refused(ret, "x.json: no \"limits\" object", "profile_parse: JSON without limits");
	ret = parse("x.profile", "", PROFILE_HOST, &r);
	refused(ret, "x.profile: empty: not a host profile", "profile_parse: an empty file");
}

static void test_profile_pool(void)
{
	static const char summary[] =
		"pcm_kvm_pool: 1\nhosts: 12 (h01 ... h12)\nvendor: AuthenticAMD\nbaseline: fpu\n";
	struct pcm_fs want;
	struct profile p;
	int ret;

	ret = parse("p.pool", pool_text, PROFILE_POOL, &p);
	if (accepted(ret, "profile_parse: a pool text")) {
		want = fs_of("fpu fxsr sse sse2 md_clear fdp_excptn_only");
		fs_same(&p.features, &want, "profile_parse: a pool's baseline, scrub and inverted");
		ok(p.is_pool && !strcmp(p.vendor, "AuthenticAMD") && p.max_basic_leaf == 0xd &&
		   p.max_ext_leaf == 0x80000021 && p.phys_bits == 48 && p.xcr0 == 0x7 &&
		   !p.msrs_known, "profile_parse: a pool's vendor, limits, msrs unknown");
		ok(p.nhosts == 2 && p.hosts_total == 2 && p.hosts_named &&
		   !strcmp(p.hosts[0], "h1") && !strcmp(p.hosts[1], "h2"),
		   "profile_parse: a pool's hosts");
		profile_free(&p);
	}
	ret = parse("p.pool", summary, PROFILE_POOL, &p);
	if (accepted(ret, "profile_parse: a pool text with a host summary")) {
		ok(p.nhosts == 2 && p.hosts_total == 12 && !p.hosts_named &&
		   !strcmp(p.hosts[0], "h01") && !strcmp(p.hosts[1], "h12"),
		   "profile_parse: 12 hosts, the first and the last named");
		profile_free(&p);
	}
	ret = parse("p.pool", pool_text, PROFILE_HOST, &p);
	refused(ret, "p.pool: a pool file, not a host profile (use it with --current)",
		"profile_parse: a pool as a host");
	ret = parse("p.pool", "pcm_kvm_pool: 1\nvendor: v\nbaseline: fpu\nname: x\n",
		    PROFILE_POOL, &p);
	refused(ret, "p.pool:4: unknown key 'name' in a pool",
		"profile_parse: a profile's key in a pool");
	ret = parse("p.pool", "pcm_kvm_pool: 1\nvendor: v\nhosts: a\n", PROFILE_POOL, &p);
	refused(ret, "p.pool: not a pool file (no baseline line",
		"profile_parse: a pool without baseline");
}

static void test_profile_dump(void)
{
	char buf[4096], why[256];
	struct profile p;
	const char *r;
	int ret;

	snprintf(buf, sizeof(buf), "%s%s%s%s", dump_head, dump_ext0, dump_ext1, dump_tail);
	ret = parse("/some/dir/gulftown.cpuid", buf, PROFILE_HOST, &p);
	if (accepted(ret, "profile_parse: a CPUID dump given inline")) {
		ok(p.from_dump && !p.msrs_known && !strcmp(p.name, "gulftown") &&
		   !strcmp(p.vendor, "GenuineIntel") && !strcmp(p.family, "0x6") &&
		   !strcmp(p.model, "0x2c") && !strcmp(p.stepping, "0x2"),
		   "profile_parse: the dump's name, vendor, family, model, stepping");
		ok(p.max_basic_leaf == 0xb && p.max_ext_leaf == 0x80000008 && p.phys_bits == 36 &&
		   !p.xcr0, "profile_parse: the dump's limits (phys_bits %llu)", p.phys_bits);
		ok(pcm_fs_level(&p.features) == PCM_KVM_MODE_X86_64_V2,
		   "profile_parse: the dump is x86-64-v2 (%s)",
		   pcm_mode_name(pcm_fs_level(&p.features)));
		ok(has(&p.features, "sse4_2") && has(&p.features, "aes") &&
		   has(&p.features, "syscall") && !has(&p.features, "acpi") &&
		   !has(&p.features, "avx"),
		   "profile_parse: the dump's features: syscall added, acpi dropped, no avx");
		ok(!profile_nonsense(&p, why, sizeof(why)),
		   "profile_nonsense: a whole dump is sense");
	}
	err_reset();
	ret = parse("g.cpuid", buf, PROFILE_DUMP, &p);
	accepted(ret, "profile_parse: a dump where only a dump will do");
	ret = parse("g.cpuid", buf, PROFILE_POOL, &p);
	refused(ret, "g.cpuid: a CPUID dump, not a pool file", "profile_parse: a dump as a pool");
	ret = parse("g.profile", profile_text, PROFILE_DUMP, &p);
	refused(ret, "g.profile: not a raw CPUID dump",
		"profile_parse: a profile where a dump must be");
	ret = parse("g.cpuid", "CPU:\n", PROFILE_DUMP, &p);
	refused(ret, "g.cpuid: no CPUID register line", "profile_parse: a dump without leaves");
	/* leaf 1 alone: the line after the header */
	ret = parse("g.cpuid", strstr(dump_head, "   0x00000001"), PROFILE_DUMP, &p);
	refused(ret, "g.cpuid: no leaf 0x00000000: not a complete CPUID dump",
		"profile_parse: a dump without leaf 0");

	/* cut after the basic leaves: below min, no long-mode leaves */
	ret = parse("cut.cpuid", dump_head, PROFILE_HOST, &p);
	if (accepted(ret, "profile_parse: a dump cut after leaf 0xb")) {
		r = profile_nonsense(&p, why, sizeof(why));
		if (!ok(r && strstr(r, "below min, lacks ") && strstr(r, "lm") &&
			strstr(r, "and the long-mode leaves (a truncated dump?)"),
			"profile_nonsense: a cut dump is below min, without long-mode leaves"))
			diag("%s", r ? r : "(NULL)");
	}
	/* cut after 0x80000001: min, but no 0x80000008 */
	snprintf(buf, sizeof(buf), "%s%s%s", dump_head, dump_ext0_cut, dump_ext1);
	ret = parse("cut.cpuid", buf, PROFILE_HOST, &p);
	if (accepted(ret, "profile_parse: a dump cut after 0x80000001")) {
		r = profile_nonsense(&p, why, sizeof(why));
		if (!ok(r && !strcmp(r, nonsense_ext), "profile_nonsense: no leaf 0x80000008"))
			diag("%s", r ? r : "(NULL)");
	}
	snprintf(buf, sizeof(buf), "%s%s%s%s", dump_head, dump_ext0, dump_ext1, dump_tail);
	ret = parse("g.cpuid", buf, PROFILE_HOST, &p);
	if (accepted(ret, "profile_parse: the whole dump again")) {
		p.phys_bits = 0;
		r = profile_nonsense(&p, why, sizeof(why));
		ok(r && !strcmp(r, "phys_bits 0"), "profile_nonsense: phys_bits 0 (%s)",
		   r ? r : "NULL");
	}
	err_reset();
}

int main(void)
{
	pcmctl_err = tmpfile();
	if (!pcmctl_err)
		bail("no temporary file for the messages");
	snprintf(tmpdir, sizeof(tmpdir), "%s/pcmctl-unit.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir))
		bail("no temporary directory");

	test_pool_compute();
	test_pool_main_vendor();
	test_pool_duplicate();
	test_pool_explain_small();
	test_pool_explain_random();
	test_pool_destination();
	test_kv_slurp();
	test_kv_pieces();
	test_kv_sniff();
	test_kv_lines();
	test_kv_num();
	test_kv_fs();
	test_kv_copy();
	test_kv_json();
	test_profile_text_json();
	test_profile_pool();
	test_profile_dump();

	remove_files();
	printf("1..%u\n", t_num);
	printf("unit: %u passed, %u failed, %u skipped\n", t_pass, t_fail, t_skip);
	return t_fail ? 1 : 0;
}
