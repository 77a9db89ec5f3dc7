// SPDX-License-Identifier: GPL-2.0
/*
 * Host profiles and pool files: reading every form pcmctl writes (text and
 * JSON), raw CPUID dumps, the live host; the "profile" document.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcmctl.h"
#include "dump.h"
#include "kernel.h"
#include "out.h"
#include "profile.h"

#define PROFILE_VERSION		1U
#define POOL_VERSION		1U

static const char *const profile_keys[] = {
	"pcm_kvm_profile", "name", "vendor", "family", "model", "stepping", "kernel",
	"microcode", "module", "max_basic_leaf", "max_ext_leaf", "phys_bits", "xcr0",
	"tsc_khz", "tsc_scaling", "level", "missing for *", "features", "withheld",
	"feature_msrs", NULL
};

static const struct kv_format profile_format = {
	.what = "profile", .version_key = "pcm_kvm_profile",
	.max_version = PROFILE_VERSION, .keys = profile_keys,
};

/* What baseline prints; '*': a prefix, the line may repeat. */
static const char *const pool_keys[] = {
	"pcm_kvm_pool", "hosts", "vendor", "level", "missing for *", "max_basic_leaf",
	"max_ext_leaf", "phys_bits", "xcr0", "scrub", "inverted", "feature_msrs",
	"gives up *", "held back*", "retire *", "baseline", "change", "gained", "lost",
	"blocked*", "vms", NULL
};

static const struct kv_format pool_format = {
	.what = "pool", .version_key = "pcm_kvm_pool",
	.max_version = POOL_VERSION, .keys = pool_keys,
};

void profile_init(struct profile *p)
{
	/* "-": unknown, in the text as in a profile made from a dump */
	static const struct profile blank = {
		.name = "-", .vendor = "-", .family = "-", .model = "-", .stepping = "-",
		.kernel = "-", .microcode = "-", .module = "-", .tsc_scaling = -1,
	};

	*p = blank;
}

void profile_free(struct profile *p)
{
	size_t i;

	for (i = 0; i < p->nhosts; i++)
		free(p->hosts[i]);
	free(p->hosts);
	p->hosts = NULL;
	p->nhosts = 0;
}

/* A pool's host; where: the file (and line) it is named in, for a message */
static int add_host(struct profile *p, const char *name, size_t len, const char *where)
{
	char **nh, e[128];

	if (len >= PROFILE_STR) {
		pr_err("%s: host name '%s' is too long (%zu bytes; at most %d)", where,
		       kv_esc(name, len, e, sizeof(e)), len, PROFILE_STR - 1);
		return EXIT_OP;
	}

	if (!(p->nhosts & (p->nhosts - 1)) || !p->nhosts) {
		nh = realloc(p->hosts, (p->nhosts ? 2 * p->nhosts : 1) * sizeof(*nh));
		if (!nh)
			goto oom;
		p->hosts = nh;
	}
	p->hosts[p->nhosts] = malloc(PROFILE_STR);
	if (!p->hosts[p->nhosts])
		goto oom;
	kv_copy(p->hosts[p->nhosts++], PROFILE_STR, name, len);
	return 0;
oom:
	pr_err("out of memory");
	return EXIT_OP;
}

/* The profile's name from its file: the base name, without .cpuid. */
static void name_of_path(struct profile *p, const char *path, bool dump)
{
	const char *base;
	size_t n;

	if (!strcmp(path, "-")) {
		snprintf(p->name, sizeof(p->name), "stdin");
		return;
	}
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	n = strlen(base);
	if (dump && n > 6 && !strcmp(base + n - 6, ".cpuid"))
		n -= 6;
	kv_copy(p->name, sizeof(p->name), base, n);
}

/* Features the profile of a dump drops: those KVM never offers a guest. */
static void drop_not_offered(struct profile *p, const char *name)
{
	static char text[PCM_FS_TEXT_MAX];
	struct pcm_fs offers, dropped;

	pcm_fs_kvm_offers(&offers);
	pcm_fs_andnot(&dropped, &p->features, &offers);
	if (pcm_fs_empty(&dropped))
		return;
	pcm_fs_and(&p->features, &p->features, &offers);
	pcm_fs_format(&dropped, text, sizeof(text));
	pr_err("note: %s: not kept, as KVM never offers them to a guest: %s", name, text);
}

int profile_from_dump(const struct kv_text *t, struct profile *p)
{
	struct dump_cpu c;

	profile_init(p);
	if (dump_decode(t, &c))
		return EXIT_OP;
	p->from_dump = true;
	kv_copy(p->vendor, sizeof(p->vendor), c.vendor, strlen(c.vendor));
	snprintf(p->family, sizeof(p->family), "0x%x", c.family);
	snprintf(p->model, sizeof(p->model), "0x%x", c.model);
	snprintf(p->stepping, sizeof(p->stepping), "0x%x", c.stepping);
	p->max_basic_leaf = c.max_basic_leaf;
	p->max_ext_leaf = c.max_ext_leaf;
	p->phys_bits = c.phys_bits;
	p->features = c.features;
	/* Intel reports SYSCALL only to 64-bit code; every 64-bit CPU has it. */
	if (c.no_syscall) {
		pcm_fs_set(&p->features, PCM_F_SYSCALL);
		pr_err("note: %s: lm without syscall (dump taken in 32-bit mode): syscall counted as present, as every 64-bit CPU has it in 64-bit mode",
		       t->name);
	}
	drop_not_offered(p, t->name);
	p->xcr0 = pcm_xcr0_visible(c.xcr0, &p->features);
	return 0;
}

/* /proc/cpuinfo's decimal "6" as "0x6"; anything else as it is */
static void hex_of_decimal(char *dst, size_t size, const char *dec)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(dec, &end, 10);
	if (isdigit((unsigned char)*dec) && !*end && !errno)
		snprintf(dst, size, "0x%lx", v);
	else
		kv_copy(dst, size, dec, strlen(dec));
}

int profile_live(struct profile *p)
{
	struct pcm_kvm_identity id;
	struct pcm_kvm_version ver;
	struct host_os os;
	int ret;

	profile_init(p);
	ret = kern_host_identity(&id, &ver);
	if (ret)
		return ret;
	kv_copy(p->module, sizeof(p->module), ver.module_version, strlen(ver.module_version));
	p->features = id.features;
	kv_copy(p->vendor, sizeof(p->vendor), id.vendor, strnlen(id.vendor, sizeof(id.vendor)));
	p->max_basic_leaf = id.max_basic_leaf;
	p->max_ext_leaf = id.max_ext_leaf;
	p->phys_bits = id.phys_bits;
	p->xcr0 = id.xcr0;
	p->tsc_khz = id.tsc_khz;
	p->tsc_scaling = !!(id.flags & PCM_KVM_ID_TSC_SCALING);
	kern_host_os(&os);
	if (*os.hostname)
		kv_copy(p->name, sizeof(p->name), os.hostname, strlen(os.hostname));
	kv_copy(p->kernel, sizeof(p->kernel), os.release, strlen(os.release));
	/* hex, as a profile made from a dump has them, so that diff compares */
	hex_of_decimal(p->family, sizeof(p->family), os.family);
	hex_of_decimal(p->model, sizeof(p->model), os.model);
	hex_of_decimal(p->stepping, sizeof(p->stepping), os.stepping);
	kv_copy(p->microcode, sizeof(p->microcode), os.microcode, strlen(os.microcode));
	p->msrs_known = true;
	kern_host_withhold(&p->withheld);
	return 0;
}

/* Text */

static int line_str(struct kv *kv, const char *key, char *dst, size_t size)
{
	const struct kv_line *l = kv_find(kv, key);

	return l ? kv_str(kv, l, dst, size) : 0;
}

static int line_num(struct kv *kv, const char *key, unsigned long long *out)
{
	const struct kv_line *l = kv_find(kv, key);

	return l ? kv_num(kv, l, out) : 0;
}

static int line_fs(struct kv *kv, const char *key, struct pcm_fs *fs)
{
	const struct kv_line *l = kv_find(kv, key);

	if (!l) {
		pcm_fs_zero(fs);
		return 0;
	}
	return kv_fs(kv, l, fs);
}

static int read_limits(struct kv *kv, struct profile *p)
{
	return line_num(kv, "max_basic_leaf", &p->max_basic_leaf) ||
	       line_num(kv, "max_ext_leaf", &p->max_ext_leaf) ||
	       line_num(kv, "phys_bits", &p->phys_bits) ||
	       line_num(kv, "xcr0", &p->xcr0) ? EXIT_OP : 0;
}

/* "known", or "unknown" followed by anything (a pool says why). */
static int read_msrs(struct kv *kv, struct profile *p)
{
	const struct kv_line *l = kv_find(kv, "feature_msrs");

	if (!l)
		return 0;
	if (l->vlen == 5 && !strncmp(l->val, "known", 5)) {
		p->msrs_known = true;
		return 0;
	}
	if (l->vlen >= 7 && !strncmp(l->val, "unknown", 7) &&
	    (l->vlen == 7 || l->val[7] == ' '))
		return 0;
	pr_err("%s:%u: feature_msrs is known or unknown", kv->t->name, l->line);
	return EXIT_OP;
}

static int profile_lines(const struct kv_text *t, struct profile *p)
{
	const struct kv_line *l;
	struct kv kv;
	int ret;

	ret = kv_lines(t, &profile_format, &kv);
	if (ret)
		return ret;
	if (!kv_find(&kv, "vendor") || !kv_find(&kv, "features")) {
		pr_err("%s: not a host profile (no %s line; `pcmctl host` prints one)",
		       t->name, kv_find(&kv, "vendor") ? "features" : "vendor");
		kv_free(&kv);
		return EXIT_OP;
	}
	ret = line_str(&kv, "name", p->name, sizeof(p->name)) ||
	      line_str(&kv, "vendor", p->vendor, sizeof(p->vendor)) ||
	      line_str(&kv, "family", p->family, sizeof(p->family)) ||
	      line_str(&kv, "model", p->model, sizeof(p->model)) ||
	      line_str(&kv, "stepping", p->stepping, sizeof(p->stepping)) ||
	      line_str(&kv, "kernel", p->kernel, sizeof(p->kernel)) ||
	      line_str(&kv, "microcode", p->microcode, sizeof(p->microcode)) ||
	      line_str(&kv, "module", p->module, sizeof(p->module)) ||
	      read_limits(&kv, p) || line_fs(&kv, "features", &p->features) ||
	      line_fs(&kv, "withheld", &p->withheld) || read_msrs(&kv, p);
	l = kv_find(&kv, "tsc_khz");
	if (!ret && l && !(l->vlen == 1 && *l->val == '-'))
		ret = kv_num(&kv, l, &p->tsc_khz);
	l = kv_find(&kv, "tsc_scaling");
	if (!ret && l && !(l->vlen == 1 && *l->val == '-')) {
		if (l->vlen == 3 && !strncmp(l->val, "yes", 3))
			p->tsc_scaling = 1;
		else if (l->vlen == 2 && !strncmp(l->val, "no", 2))
			p->tsc_scaling = 0;
		else
			ret = (pr_err("%s:%u: tsc_scaling is yes, no or -", t->name, l->line),
			       EXIT_OP);
	}
	kv_free(&kv);
	return ret ? EXIT_OP : 0;
}

/* "h1 h2 h3", or "N (FIRST ... LAST)" for a long list */
static int read_hosts(const struct kv *kv, const struct kv_line *l, struct profile *p)
{
	const char *s = l->val, *end = l->val + l->vlen;
	char where[PATH_MAX + 16];
	const char *e;

	snprintf(where, sizeof(where), "%s:%u", kv->t->name, l->line);

	e = isdigit((unsigned char)*s) ? memchr(s, ' ', l->vlen) : NULL;
	if (e && e + 2 < end && e[1] == '(' && end[-1] == ')' &&
	    memmem(s, l->vlen, " ... ", 5)) {
		p->hosts_named = false;
		p->hosts_total = strtoull(s, NULL, 10);
		/* the count stands for them; keep the two names given */
		s = e + 2;
		if (add_host(p, s, strcspn(s, " "), where))
			return EXIT_OP;
		s = memmem(s, end - s, " ... ", 5) + 5;
		if (add_host(p, s, end - 1 - s, where))
			return EXIT_OP;
		return 0;
	}
	p->hosts_named = true;
	while (s < end) {
		size_t len;

		s += strspn(s, " \t");
		len = strcspn(s, " \t");
		if (s + len > end)
			len = end - s;
		if (len && add_host(p, s, len, where))
			return EXIT_OP;
		s += len;
	}
	p->hosts_total = p->nhosts;
	return 0;
}

static int pool_lines(const struct kv_text *t, struct profile *p)
{
	const struct kv_line *l;
	struct pcm_fs extra;
	struct kv kv;
	int ret;

	ret = kv_lines(t, &pool_format, &kv);
	if (ret)
		return ret;
	if (!kv_find(&kv, "baseline") || !kv_find(&kv, "vendor")) {
		pr_err("%s: not a pool file (no %s line; `pcmctl baseline` prints one)",
		       t->name, kv_find(&kv, "vendor") ? "baseline" : "vendor");
		kv_free(&kv);
		return EXIT_OP;
	}
	p->is_pool = true;
	ret = line_str(&kv, "vendor", p->vendor, sizeof(p->vendor)) ||
	      read_limits(&kv, p) || line_fs(&kv, "baseline", &p->features) ||
	      read_msrs(&kv, p);
	/* a pool's hosts give what its baseline, scrub and inverted list */
	if (!ret && !line_fs(&kv, "scrub", &extra))
		pcm_fs_or(&p->features, &p->features, &extra);
	else
		ret = EXIT_OP;
	if (!ret && !line_fs(&kv, "inverted", &extra))
		pcm_fs_or(&p->features, &p->features, &extra);
	else
		ret = EXIT_OP;
	l = kv_find(&kv, "hosts");
	if (!ret && l)
		ret = read_hosts(&kv, l, p);
	kv_free(&kv);
	return ret ? EXIT_OP : 0;
}

/* JSON */

static int json_profile(const struct kv_text *t, const json_t *doc, struct profile *p)
{
	const json_t *lim = json_object_get(doc, "limits");
	const char *msrs = json_string_value(json_object_get(doc, "feature_msrs"));
	const json_t *scaling = json_object_get(doc, "tsc_scaling");

	if (kv_json_str(t, doc, "name", p->name, sizeof(p->name), false) ||
	    kv_json_str(t, doc, "vendor", p->vendor, sizeof(p->vendor), true) ||
	    kv_json_str(t, doc, "family", p->family, sizeof(p->family), false) ||
	    kv_json_str(t, doc, "model", p->model, sizeof(p->model), false) ||
	    kv_json_str(t, doc, "stepping", p->stepping, sizeof(p->stepping), false) ||
	    kv_json_str(t, doc, "kernel", p->kernel, sizeof(p->kernel), false) ||
	    kv_json_str(t, doc, "microcode", p->microcode, sizeof(p->microcode), false) ||
	    kv_json_str(t, doc, "module", p->module, sizeof(p->module), false) ||
	    kv_json_fs(t, doc, "features", &p->features, true) ||
	    kv_json_fs(t, doc, "withheld", &p->withheld, false) ||
	    kv_json_num(t, doc, "tsc_khz", &p->tsc_khz, false))
		return EXIT_OP;
	if (!json_is_object(lim)) {
		pr_err("%s: no \"limits\" object", t->name);
		return EXIT_OP;
	}
	if (kv_json_num(t, lim, "max_basic_leaf", &p->max_basic_leaf, true) ||
	    kv_json_num(t, lim, "max_ext_leaf", &p->max_ext_leaf, true) ||
	    kv_json_num(t, lim, "phys_bits", &p->phys_bits, true) ||
	    kv_json_num(t, lim, "xcr0", &p->xcr0, true))
		return EXIT_OP;
	if (json_is_boolean(scaling))
		p->tsc_scaling = json_is_true(scaling);
	p->msrs_known = msrs && !strcmp(msrs, "known");
	return 0;
}

static int json_pool(const struct kv_text *t, const json_t *doc, struct profile *p)
{
	const json_t *lim = json_object_get(doc, "limits"), *hosts, *h;
	const char *msrs = json_string_value(json_object_get(doc, "feature_msrs"));
	struct pcm_fs extra;
	size_t i;

	p->is_pool = true;
	p->hosts_named = true;
	if (kv_json_str(t, doc, "vendor", p->vendor, sizeof(p->vendor), true) ||
	    kv_json_fs(t, doc, "baseline", &p->features, true))
		return EXIT_OP;
	if (kv_json_fs(t, doc, "scrub", &extra, false))
		return EXIT_OP;
	pcm_fs_or(&p->features, &p->features, &extra);
	if (kv_json_fs(t, doc, "inverted", &extra, false))
		return EXIT_OP;
	pcm_fs_or(&p->features, &p->features, &extra);
	if (!json_is_object(lim) ||
	    kv_json_num(t, lim, "max_basic_leaf", &p->max_basic_leaf, true) ||
	    kv_json_num(t, lim, "max_ext_leaf", &p->max_ext_leaf, true) ||
	    kv_json_num(t, lim, "phys_bits", &p->phys_bits, true) ||
	    kv_json_num(t, lim, "xcr0", &p->xcr0, true)) {
		if (!json_is_object(lim))
			pr_err("%s: no \"limits\" object", t->name);
		return EXIT_OP;
	}
	p->msrs_known = msrs && !strcmp(msrs, "known");
	hosts = json_object_get(doc, "hosts");
	json_array_foreach(hosts, i, h) {
		const char *s = json_string_value(h);

		if (!s) {
			pr_err("%s: \"hosts\"[%zu] is not a string", t->name, i);
			return EXIT_OP;
		}
		if (add_host(p, s, strlen(s), t->name))
			return EXIT_OP;
	}
	p->hosts_total = p->nhosts;
	return 0;
}

static const char *what_of(unsigned int allowed)
{
	return allowed == PROFILE_POOL ? "pool file" :
	       allowed == PROFILE_HOST ? "host profile" :
	       allowed == PROFILE_DUMP ? "raw CPUID dump" : "profile or pool file";
}

int profile_parse(const struct kv_text *tp, const char *path, unsigned int allowed,
		  struct profile *p)
{
	static const char *const kinds[] = { "profile", "pool", NULL };
	const char *what = what_of(allowed);
	const struct kv_text t = *tp;
	enum kv_kind kind;
	json_t *doc;
	int ret = 0, which = -1;

	profile_init(p);
	kind = kv_sniff(&t);
	if (kind == KV_EMPTY && allowed != PROFILE_DUMP) {
		pr_err("%s: empty: not a %s", t.name, what);
		ret = EXIT_OP;
	} else if (kind == KV_CPUID || kind == KV_EMPTY) {
		if (allowed & (PROFILE_HOST | PROFILE_DUMP)) {
			ret = profile_from_dump(&t, p);
			name_of_path(p, path, true);
		} else {
			pr_err("%s: a CPUID dump, not a %s", t.name, what);
			ret = EXIT_OP;
		}
	} else if (allowed == PROFILE_DUMP) {
		pr_err("%s: not a raw CPUID dump (`cpuid -1 -r` prints one)", t.name);
		ret = EXIT_OP;
	} else if (kind == KV_JSON) {
		doc = kv_json(&t, kinds, &which);
		if (doc) {
			name_of_path(p, path, false);
			ret = which ? json_pool(&t, doc, p) : json_profile(&t, doc, p);
			json_decref(doc);
		} else {
			ret = EXIT_OP;
		}
	} else {
		name_of_path(p, path, false);
		/*
		 * The version line says which; an older file without one: a
		 * pool has a baseline: line, a profile a features: line.
		 */
		if (!strncmp(t.buf, "pcm_kvm_profile:", 16))
			which = 0;
		else if (!strncmp(t.buf, "pcm_kvm_pool:", 13))
			which = 1;
		else
			which = strstr(t.buf, "\nbaseline:") || !strncmp(t.buf, "baseline:", 9) ||
				strstr(t.buf, "pcm_kvm_pool:");
		ret = which ? pool_lines(&t, p) : profile_lines(&t, p);
	}
	if (!ret && which >= 0 && !(allowed & (which ? PROFILE_POOL : PROFILE_HOST))) {
		pr_err("%s: a %s, not a %s%s", t.name, which ? "pool file" : "host profile", what,
		       which ? " (use it with --current)" : "");
		ret = EXIT_OP;
	}
	p->path = path;
	if (ret)
		profile_free(p);
	return ret;
}

int profile_read(const char *path, unsigned int allowed, struct profile *p)
{
	struct kv_text t;
	int ret;

	profile_init(p);
	ret = kv_slurp(path, what_of(allowed), &t);
	if (ret)
		return ret;
	ret = profile_parse(&t, path, allowed, p);
	kv_text_free(&t);
	return ret;
}

static struct profile *next_host(struct profile **h, const size_t *n, size_t *cap)
{
	struct profile *nh;

	if (*n == *cap) {
		nh = realloc(*h, (*cap ? 2 * *cap : 16) * sizeof(**h));
		if (!nh) {
			pr_err("out of memory");
			return NULL;
		}
		*h = nh;
		*cap = *cap ? 2 * *cap : 16;
	}
	return &(*h)[*n];
}

/* Each JSON profile document of t, one after the other. */
static int json_hosts(const struct kv_text *t, const char *path, struct profile **h,
		      size_t *n, size_t *cap)
{
	static const char *const kinds[] = { "profile", "pool", NULL };
	size_t pos = strspn(t->buf, " \t\n");
	json_error_t err;
	int which, ret = 0;

	while (!ret && pos < t->len) {
		json_t *doc = json_loadb(t->buf + pos, t->len - pos, JSON_DISABLE_EOF_CHECK |
					 JSON_REJECT_DUPLICATES, &err);
		struct profile *p;

		if (!doc) {
			pr_err("%s: byte %zu: not JSON: %s", t->name, pos + err.position, err.text);
			return EXIT_OP;
		}
		p = next_host(h, n, cap);
		if (!p) {
			json_decref(doc);
			return EXIT_OP;
		}
		profile_init(p);
		p->path = path;
		name_of_path(p, path, false);
		ret = kv_json_kind(t, doc, kinds, &which);
		if (!ret && which) {
			pr_err("%s: a pool file, not a host profile (use it with --current)",
			       t->name);
			ret = EXIT_OP;
		}
		if (!ret)
			ret = json_profile(t, doc, p);
		json_decref(doc);
		if (!ret)
			(*n)++;
		pos += err.position;
		pos += strspn(t->buf + pos, " \t\n");
	}
	return ret;
}

int profile_read_hosts(const char *path, struct profile **h, size_t *n, size_t *cap)
{
	static const char vline[] = "\npcm_kvm_profile:";
	unsigned int lines = 0;	/* in st.t.buf[0..pos) */
	struct kv_stream st;
	enum kv_kind kind;
	size_t pos = 0;		/* where the next profile starts */
	int ret;

	ret = kv_stream_open(path, "host profile", &st);
	if (ret)
		goto out;
	/*
	 * Text profiles, each from its version line (a fleet file), are read a
	 * piece at a time; anything else whole.
	 */
	kind = kv_sniff(&st.t);
	if (kind != KV_LINES ||
	    strncmp(st.t.buf + strspn(st.t.buf, " \t\n"), vline + 1, sizeof(vline) - 2)) {
		ret = kv_stream_all(&st);
		if (ret)
			goto out;
		kind = kv_sniff(&st.t);
		if (kind == KV_JSON) {
			ret = json_hosts(&st.t, path, h, n, cap);
			goto out;
		}
	}
	/* text: each profile from its version line; a dump or a single profile as it is */
	for (;;) {
		char *s = st.t.buf + pos, *next = NULL;
		struct kv_text one = st.t;
		struct profile *p;
		size_t len;

		if (kind == KV_LINES && *s)
			next = strstr(s + 1, vline);
		if (!next && !st.eof) {
			/* this profile may go on in the next piece */
			ret = kv_stream_more(&st, pos);
			if (ret)
				break;
			pos = 0;
			lines = 0;
			continue;
		}
		len = next ? (size_t)(next - s) : st.t.len - pos;
		if (next)
			*next = '\0';
		one.buf = s;
		one.len = len;
		one.line0 = st.t.line0 + lines;
		p = next_host(h, n, cap);
		ret = p ? profile_parse(&one, path, PROFILE_HOST, p) : EXIT_OP;
		if (ret)
			break;
		(*n)++;
		if (!next)
			break;
		*next = '\n';	/* the text as read, for the lines given up */
		lines += kv_lines_in(s, len + 1);
		pos += len + 1;
	}
out:
	kv_stream_close(&st);
	return ret;
}

/* A plain feature list: names, blanks, commas, lines. */
static int list_fs(const char *name, const char *s, size_t len, struct pcm_fs *fs)
{
	const char *bad = NULL;
	size_t badlen = 0;
	char e[128];
	int ret;

	ret = pcm_fs_parse(s, len, fs, &bad, &badlen);
	if (ret == -ENODATA)
		pr_err("%s: no feature name", name);
	else if (ret)
		pr_err("%s: unknown feature '%s' (`pcmctl features` lists them)", name,
		       kv_esc(bad, badlen, e, sizeof(e)));
	return ret ? EXIT_OP : 0;
}

int profile_baseline(const char *arg, bool arg_list, struct pcm_fs *fs, bool *is_pool)
{
	struct pcm_fs hwno, no;
	struct profile p;
	struct kv_text t;
	int ret;

	*is_pool = false;
	if (arg_list && strcmp(arg, "-") && access(arg, F_OK)) {
		/* not a file: the list itself; an empty one is an empty baseline */
		if (!arg[strspn(arg, " \t,")]) {
			pcm_fs_zero(fs);
			return 0;
		}
		return list_fs("--baseline", arg, strlen(arg), fs) ? EXIT_USAGE : 0;
	}
	ret = kv_slurp(arg, "pool file or feature list", &t);
	if (ret)
		return ret;
	*is_pool = kv_sniff(&t) == KV_JSON || strstr(t.buf, "baseline:");
	if (!*is_pool) {
		ret = list_fs(t.name, t.buf, t.len, fs);
		kv_text_free(&t);
		return ret;
	}
	ret = profile_parse(&t, arg, PROFILE_POOL, &p);
	kv_text_free(&t);
	if (ret)
		return ret;
	/* the pool's baseline: its HW and NO features */
	pcm_fs_of_class(&hwno, PCM_CLASS_HW);
	pcm_fs_of_class(&no, PCM_CLASS_NO);
	pcm_fs_or(&hwno, &hwno, &no);
	pcm_fs_and(fs, &p.features, &hwno);
	profile_free(&p);
	return 0;
}

const char *profile_nonsense(const struct profile *p, char *buf, size_t size)
{
	if (pcm_fs_level(&p->features) < PCM_KVM_MODE_MIN) {
		static char text[PCM_FS_TEXT_MAX];
		struct pcm_fs need, hw;

		pcm_fs_of_class(&hw, PCM_CLASS_HW);
		pcm_mode_allow(PCM_KVM_MODE_MIN, NULL, &need);
		pcm_fs_and(&need, &need, &hw);
		pcm_fs_andnot(&need, &need, &p->features);
		pcm_fs_format(&need, text, sizeof(text));
		snprintf(buf, size, "below min, lacks %s%s", text,
			 p->max_ext_leaf < 0x80000001 ?
			 " and the long-mode leaves (a truncated dump?)" : "");
		return buf;
	}
	if (p->max_ext_leaf < 0x80000008) {
		snprintf(buf, size, "max_ext_leaf 0x%llx: %s", p->max_ext_leaf,
			 "no long-mode leaves up to 0x80000008 (a truncated dump?)");
		return buf;
	}
	if (!p->phys_bits) {
		snprintf(buf, size, "phys_bits 0");
		return buf;
	}
	return NULL;
}

/* The document */

json_t *limits_obj(unsigned long long basic, unsigned long long ext,
		   unsigned long long phys, unsigned long long xcr0)
{
	json_t *o = out_obj();

	out_set_int(o, "max_basic_leaf", basic);
	out_set_int(o, "max_ext_leaf", ext);
	out_set_int(o, "phys_bits", phys);
	out_set_int(o, "xcr0", xcr0);
	return o;
}

void limits_view(const json_t *limits)
{
	tx_hex(limits, "max_basic_leaf");
	tx_hex(limits, "max_ext_leaf");
	tx_key(limits, "phys_bits", "0");
	tx_hex(limits, "xcr0");
}

json_t *next_level_obj(const struct pcm_fs *fs)
{
	unsigned int level = pcm_fs_level(fs);
	struct pcm_fs need, hw;
	json_t *o;

	if (level >= PCM_KVM_MODE_X86_64_V4)
		return json_null();
	pcm_fs_of_class(&hw, PCM_CLASS_HW);
	pcm_mode_allow(level + 1, NULL, &need);
	pcm_fs_and(&need, &need, &hw);
	pcm_fs_andnot(&need, &need, fs);
	o = out_obj();
	out_set_str(o, "level", pcm_mode_name(level + 1));
	out_set_fs(o, "missing", &need);
	return o;
}

/* "level: L" and "missing for NEXT: NAMES" of a document */
void level_view(const json_t *doc, const char *empty_text)
{
	const json_t *next = tx_get(doc, "next_level");

	tx_key(doc, "level", "none");
	if (json_is_object(next)) {
		char label[64];

		snprintf(label, sizeof(label), "missing for %s", tx_str(next, "level"));
		tx_line(label, tx_get(next, "missing"), empty_text);
	}
}

json_t *profile_doc(const struct profile *p)
{
	json_t *doc = out_doc("profile");

	out_set_str(doc, "name", p->name);
	out_set_str(doc, "vendor", p->vendor);
	out_set_str(doc, "family", p->family);
	out_set_str(doc, "model", p->model);
	out_set_str(doc, "stepping", p->stepping);
	out_set_str(doc, "kernel", p->kernel);
	out_set_str(doc, "microcode", p->microcode);
	out_set_str(doc, "module", p->module);
	out_set(doc, "limits", limits_obj(p->max_basic_leaf, p->max_ext_leaf,
					  p->phys_bits, p->xcr0));
	out_set(doc, "tsc_khz", p->tsc_khz ? json_integer((json_int_t)p->tsc_khz) : json_null());
	out_set(doc, "tsc_scaling",
		p->tsc_scaling < 0 ? json_null() : json_boolean(p->tsc_scaling));
	out_set_str(doc, "level", out_level_name(&p->features));
	out_set(doc, "next_level", next_level_obj(&p->features));
	out_set_fs(doc, "features", &p->features);
	out_set_fs(doc, "withheld", &p->withheld);
	out_set_str(doc, "feature_msrs", p->msrs_known ? "known" : "unknown");
	return doc;
}

void profile_view(const json_t *doc)
{
	const json_t *scaling = tx_get(doc, "tsc_scaling");

	printf("pcm_kvm_profile: %u\n", PROFILE_VERSION);
	tx_key(doc, "name", "-");
	tx_key(doc, "vendor", "-");
	tx_key(doc, "family", "-");
	tx_key(doc, "model", "-");
	tx_key(doc, "stepping", "-");
	tx_key(doc, "kernel", "-");
	tx_key(doc, "microcode", "-");
	tx_key(doc, "module", "-");
	limits_view(tx_get(doc, "limits"));
	tx_key(doc, "tsc_khz", "-");
	printf("tsc_scaling: %s\n", json_is_null(scaling) ? "-" :
	       json_is_true(scaling) ? "yes" : "no");
	level_view(doc, "-");
	tx_key(doc, "features", "-");
	tx_key(doc, "withheld", "-");
	tx_key(doc, "feature_msrs", "-");
}
