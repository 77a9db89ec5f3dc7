// SPDX-License-Identifier: GPL-2.0
/*
 * pcmctl baseline, apply: pools of hosts.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pcmctl.h"
#include "kernel.h"
#include "kv.h"
#include "out.h"
#include "pool.h"
#include "profile.h"

/* Longer host lists are summarised in the text: N (FIRST ... LAST). */
#define TEXT_HOSTS_MAX	32
/* and at most this many groups of hosts that give up the same */
#define TEXT_GROUPS_MAX	16

/* The running VMs of `pcmctl vms --json` files */

struct vm_ref {
	char label[160];		/* FILE:ID */
	struct pcm_kvm_identity id;
};

struct vm_refs {
	struct vm_ref *v;
	size_t n, cap;
};

static int vm_refs_add(struct vm_refs *r, const char *file, const char *id,
		       const char *identity)
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
			return EXIT_OP;
		}
		r->v = nv;
	}
	base = strrchr(file, '/');
	base = base ? base + 1 : file;
	snprintf(r->v[r->n].label, sizeof(r->v[r->n].label), "%s:%s", base, id);
	ret = pcm_identity_parse(identity, strlen(identity), &r->v[r->n].id, &bad,
				 &badlen);
	if (ret) {
		pr_err("%s: VM %s: its identity does not parse (%s%.*s)", file, id,
		       ret == -EINVAL ? "at " : strerror(-ret),
		       ret == -EINVAL ? (badlen > 40 ? 40 : (int)badlen) : 0,
		       bad ? bad : "");
		return EXIT_OP;
	}
	r->n++;
	return 0;
}

/* Every object with string members "id" and "identity" is a VM. */
static int vm_refs_walk(struct vm_refs *r, const char *file, const json_t *v, int depth)
{
	const json_t *m;
	size_t i;

	if (depth > 32)
		return 0;
	if (json_is_object(v)) {
		const char *id = json_string_value(json_object_get(v, "id"));
		const char *identity = json_string_value(json_object_get(v, "identity"));

		const char *key;

		if (id && identity)
			return vm_refs_add(r, file, id, identity);
		json_object_foreach((json_t *)v, key, m)
			if (vm_refs_walk(r, file, m, depth + 1))
				return EXIT_OP;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m)
			if (vm_refs_walk(r, file, m, depth + 1))
				return EXIT_OP;
	}
	return 0;
}

/* The VMs of a `pcmctl vms --json` file: one JSON value or several. */
static int vm_refs_load(const char *path, struct vm_refs *r)
{
	struct kv_text t;
	json_error_t err;
	size_t pos = 0;
	int ret = 0;

	if (kv_slurp(path, "`pcmctl vms --json` output", &t))
		return EXIT_OP;
	while (!ret && pos + strspn(t.buf + pos, " \t\n") < t.len) {
		json_t *v = json_loadb(t.buf + pos, t.len - pos, JSON_DISABLE_EOF_CHECK, &err);

		if (!v) {
			pr_err("%s: not the JSON of `pcmctl vms --json`: %s at byte %zu",
			       t.name, err.text, pos + err.position);
			ret = EXIT_OP;
			break;
		}
		pos += err.position;
		ret = vm_refs_walk(r, path, v, 0);
		json_decref(v);
	}
	kv_text_free(&t);
	return ret;
}

/* pcmctl baseline */

struct baseline_args {
	bool json, expl, force;
	const char *current;
	const char **removed;
	int nremoved;
	const char **vms;
	int nvms;
	const char **added;		/* the files of --add */
	const char **added_names;	/* the hosts they hold */
	int nadded;			/* files, then hosts */
	const char **profiles;
	int nprofiles;
};

static bool in_hosts(const struct profile *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nhosts; i++)
		if (!strcmp(p->hosts[i], name))
			return true;
	return false;
}

/*
 * The hosts of the new pool from --current: the profiles given (members,
 * then added), minus the removed; the pool file stands for the members
 * without a profile, which is only possible when none leaves.
 */
static int pool_members(struct profile *h, size_t *n, struct profile *cur,
			const struct baseline_args *a)
{
	size_t members = *n - a->nadded, i, j, k = 0, nmissing = 0;
	char missing[512] = "";
	size_t ml = 0;
	struct pcm_fs mask, cur_hw;
	struct pool all;
	int r;

	if (!cur->hosts_named) {
		pr_err("%s: its %zu hosts are summarised in the text: give the pool's JSON (baseline --json) to --current",
		       a->current, cur->hosts_total);
		return EXIT_OP;
	}
	for (r = 0; r < a->nremoved; r++) {
		if (!in_hosts(cur, a->removed[r])) {
			pr_err("--remove %s: not a host of %s", a->removed[r], a->current);
			return EXIT_OP;
		}
	}
	for (i = 0; i < *n; i++) {
		if (i >= members && in_hosts(cur, h[i].name)) {
			pr_err("--add %s: already a host of %s", h[i].name, a->current);
			return EXIT_OP;
		}
		/* a profile of a new host without --add would join unannounced */
		if (i < members && !in_hosts(cur, h[i].name)) {
			pr_err("%s: not a host of %s (a new host needs --add)", h[i].name,
			       a->current);
			return EXIT_OP;
		}
	}
	/*
	 * The current hosts that stay and have no profile here; cur->hosts
	 * keeps only them, as the pool file stands for them alone.
	 */
	for (j = 0; j < cur->nhosts; j++) {
		bool have = false, gone = false;

		for (r = 0; r < a->nremoved; r++)
			gone |= !strcmp(a->removed[r], cur->hosts[j]);
		for (i = 0; i < members; i++)
			have |= !strcmp(h[i].name, cur->hosts[j]);
		if (have || gone) {
			free(cur->hosts[j]);
			continue;
		}
		if (ml + strlen(cur->hosts[j]) + 8 < sizeof(missing))
			ml += snprintf(missing + ml, sizeof(missing) - ml, " %s", cur->hosts[j]);
		else if (ml + 5 < sizeof(missing) && !strstr(missing, " ..."))
			ml += snprintf(missing + ml, sizeof(missing) - ml, " ...");
		cur->hosts[nmissing++] = cur->hosts[j];
	}
	cur->nhosts = nmissing;
	cur->hosts_total = nmissing;
	if (nmissing && a->nremoved) {
		pr_err("removing a host needs the profiles of the hosts that stay (%zu); missing:%s",
		       nmissing, missing);
		return EXIT_OP;
	}
	/* Profiles of every current host: do they still make the current pool? */
	if (!nmissing && members) {
		pool_compute(h, members, &all, NULL);
		pcm_fs_of_class(&mask, PCM_CLASS_HW);
		pcm_fs_and(&cur_hw, &cur->features, &mask);
		pcm_fs_and(&all.hw, &all.hw, &mask);
		if (!pcm_fs_equal(&cur_hw, &all.hw))
			pr_err("note: the profiles given do not make the baseline of %s (a host changed since?): the new pool is computed from the profiles",
			       a->current);
	}
	/* Drop the removed, keep the order of the others. */
	for (i = 0; i < *n; i++) {
		bool gone = false;

		for (r = 0; r < a->nremoved; r++)
			gone |= !strcmp(a->removed[r], h[i].name);
		if (gone)
			profile_free(&h[i]);
		else
			h[k++] = h[i];
	}
	*n = k;
	if (nmissing) {
		/* The pool file stands for the hosts without a profile. */
		memmove(h + 1, h, *n * sizeof(*h));
		h[0] = *cur;
		snprintf(h[0].name, sizeof(h[0].name), "%s", cur->hosts[0]);
		(*n)++;
	}
	if (!*n) {
		pr_err("no host left in the pool");
		return EXIT_OP;
	}
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

/* jansson has no sort: rebuild the array from its sorted items. */
static void json_array_sort_strings(json_t *arr)
{
	size_t i, n = json_array_size(arr);
	json_t **v;

	/* a fleet's hosts are often named in order already */
	for (i = 1; i < n; i++)
		if (strcmp(json_string_value(json_array_get(arr, i - 1)),
			   json_string_value(json_array_get(arr, i))) > 0)
			break;
	if (i >= n)
		return;
	v = calloc(n, sizeof(*v));
	if (!v)
		out_oom();
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), str_cmp);
	json_array_clear(arr);
	for (i = 0; i < n; i++)
		out_append(arr, v[i]);
	free(v);
}

/*
 * The names of the hosts, each one JSON string that every list of the
 * pool shares (jansson counts references): host i is names[first[i]]
 * up to names[first[i + 1]], several for the pool file standing for its
 * hosts.
 */
struct host_names {
	json_t *names;
	size_t *first;
};

static void host_names_init(struct host_names *hn, const struct profile *h, size_t n)
{
	size_t i, j;

	hn->names = out_arr();
	hn->first = calloc(n + 1, sizeof(*hn->first));
	if (!hn->first)
		out_oom();
	for (i = 0; i < n; i++) {
		hn->first[i] = json_array_size(hn->names);
		if (!h[i].is_pool)
			out_append_str(hn->names, h[i].name);
		for (j = 0; h[i].is_pool && j < h[i].nhosts; j++)
			out_append_str(hn->names, h[i].hosts[j]);
	}
	hn->first[n] = json_array_size(hn->names);
}

/* Append the names of host i to arr. */
static void add_names(json_t *arr, const struct host_names *hn, size_t i)
{
	size_t j;

	for (j = hn->first[i]; j < hn->first[i + 1]; j++)
		if (json_array_append(arr, json_array_get(hn->names, j)))
			out_oom();
}

static int refuse_hosts(const struct profile *h, size_t n, bool force)
{
	size_t i, a, b, main, count;
	char why[PCM_FS_TEXT_MAX + 128];
	int ret = 0;

	main = pool_main_vendor(h, n, &count);
	if (count != n) {
		fprintf(pcmctl_err, "%s: vendor mismatch: a pool is of one vendor ", prog);
		fprintf(pcmctl_err, "(cross-vendor migration is refused, not masked); ");
		fprintf(pcmctl_err, "the pool is %s (%zu of %zu hosts), odd hosts out:",
			h[main].vendor, count, n);
		for (i = 0; i < n; i++)
			if (strcmp(h[i].vendor, h[main].vendor))
				fprintf(pcmctl_err, " %s (%s)", h[i].name, h[i].vendor);
		fprintf(pcmctl_err, "\n");
		return EXIT_OP;
	}
	if (pool_duplicate(h, n, &a, &b)) {
		pr_err("host %s given twice (%s and %s): a pool lists each host once",
		       h[a].name, h[a].path, h[b].path);
		return EXIT_OP;
	}
	for (i = 0; i < n; i++) {
		if (!profile_nonsense(&h[i], why, sizeof(why)))
			continue;
		if (force) {
			pr_err("warning: %s (%s): %s; kept (--force)", h[i].name, h[i].path, why);
			continue;
		}
		pr_err("%s (%s): %s: not a host a pool is made of (--force to keep it)",
		       h[i].name, h[i].path, why);
		ret = EXIT_OP;
	}
	return ret;
}

static u32 fs_hash(const struct pcm_fs *fs)
{
	u32 h = 2166136261U;	/* FNV-1a over the words */
	size_t w;

	for (w = 0; w < ARRAY_SIZE(fs->words); w++)
		h = (h ^ fs->words[w]) * 16777619U;
	return h;
}

/*
 * What each host gives up, in groups of hosts that give up the same, in
 * the order of their first host: a fleet is a few CPU models, so a few
 * groups.  Linear: a hash table of the sets (twice the hosts, a power of
 * two) finds a host's group.
 */
static json_t *gives_up(const struct host_names *hn, size_t n, const struct pool *pl,
			const struct pcm_fs *hw)
{
	size_t i, k, slots = 2, *slot, ng = 0;
	json_t *groups = out_arr(), *g;
	struct pcm_fs *lost, l;

	while (slots < 2 * n)
		slots *= 2;
	/* what each group gives up: a few groups, not one a host */
	lost = calloc(n ? n : 1, sizeof(*lost));
	slot = calloc(slots, sizeof(*slot));	/* group index + 1; 0: empty */
	if (!lost || !slot)
		out_oom();
	for (i = 0; i < n; i++) {
		pcm_fs_andnot(&l, &hw[i], &pl->hw);
		for (k = fs_hash(&l) & (slots - 1);
		     slot[k] && !pcm_fs_equal(&lost[slot[k] - 1], &l);
		     k = (k + 1) & (slots - 1))
			;
		if (!slot[k]) {
			lost[ng] = l;
			slot[k] = ++ng;
			g = out_obj();
			out_set_fs(g, "features", &l);
			out_set(g, "hosts", out_arr());
			out_append(groups, g);
		}
		add_names(json_object_get(json_array_get(groups, slot[k] - 1), "hosts"), hn, i);
	}
	free(lost);
	free(slot);
	return groups;
}

static json_t *pool_doc(const struct profile *h, size_t n, const struct pool *pl,
			const struct pcm_fs *hw, bool expl)
{
	json_t *doc = out_doc("pool"), *unknown = out_arr();
	struct host_names hn;
	size_t i;

	host_names_init(&hn, h, n);
	out_set(doc, "hosts", hn.names);
	out_set_int(doc, "host_count", json_array_size(hn.names));
	out_set_str(doc, "vendor", h[0].vendor);
	out_set_str(doc, "level", out_level_name(&pl->hw));
	out_set(doc, "next_level", next_level_obj(&pl->hw));
	out_set(doc, "limits", limits_obj(pl->max_basic_leaf, pl->max_ext_leaf,
					  pl->phys_bits, pl->xcr0));
	out_set_fs(doc, "scrub", &pl->scrub);
	out_set_fs(doc, "inverted", &pl->inv);
	out_set_str(doc, "feature_msrs", pl->msrs_known ? "known" : "unknown");
	for (i = 0; i < n; i++)
		if (!h[i].msrs_known)
			add_names(unknown, &hn, i);
	/* sorted: the pool is the same whatever the order of its hosts */
	json_array_sort_strings(unknown);
	out_set(doc, "feature_msrs_unknown", unknown);

	out_set(doc, "gives_up", gives_up(&hn, n, pl, hw));
	if (expl) {
		struct pool_explain *ex = calloc(1, sizeof(*ex));
		unsigned int id;
		json_t *o;

		if (!ex) {
			pr_err("out of memory");
			exit(EXIT_OP);
		}
		pool_explain(hw, n, pl, ex);
		o = out_obj();
		for (id = 0; id < PCM_NR_FEATURES; id++) {
			json_t *by;

			if (!pcm_fs_test(&ex->held_back, id))
				continue;
			by = out_arr();
			for (i = 0; i < n; i++)
				if (!pcm_fs_test(&hw[i], id))
					add_names(by, &hn, i);
			out_set(o, pcm_features[id].name, by);
		}
		out_set(doc, "held_back", o);
		o = out_obj();
		for (i = 0; i < n && n > 1; i++) {
			struct pcm_fs gain, without;
			json_t *r;

			/* retiring several hosts known only together is no one host's retire */
			if (h[i].is_pool && h[i].nhosts != 1)
				continue;
			r = out_obj();
			pool_retire_gain(ex, i, &gain);
			pcm_fs_or(&without, &pl->hw, &gain);
			out_set_fs(r, "gains", &gain);
			out_set_str(r, "level", out_level_name(&without));
			out_set(o, h[i].name, r);
		}
		out_set(doc, "retire", o);
		free(ex);
	}
	out_set_fs(doc, "baseline", &pl->hw);
	free(hn.first);
	return doc;
}

/* What the change does to the set new VMs get. */
static void change_doc(json_t *doc, const struct profile *cur, const struct pool *pl,
		       const struct baseline_args *a)
{
	struct pcm_fs cur_hw, mask, gained, lost;
	json_t *c = out_obj(), *arr;
	int i;

	pcm_fs_of_class(&mask, PCM_CLASS_HW);
	pcm_fs_and(&cur_hw, &cur->features, &mask);
	pcm_fs_andnot(&gained, &pl->hw, &cur_hw);
	pcm_fs_andnot(&lost, &cur_hw, &pl->hw);
	arr = out_arr();
	for (i = 0; i < a->nadded; i++)
		out_append_str(arr, a->added_names[i]);
	out_set(c, "added", arr);
	arr = out_arr();
	for (i = 0; i < a->nremoved; i++)
		out_append_str(arr, a->removed[i]);
	out_set(c, "removed", arr);
	out_set_str(c, "previous_level", out_level_name(&cur_hw));
	out_set_str(c, "level", out_level_name(&pl->hw));
	out_set_fs(c, "gained", &gained);
	out_set_fs(c, "lost", &lost);
	out_set(doc, "change", c);
}

/*
 * Which running VMs could no longer move to which hosts of the new pool.
 * A host that baseline mode VMs move to has the new baseline installed.
 */
static unsigned int vms_doc(json_t *doc, const struct vm_refs *r, const struct profile *h,
			    size_t n, const struct pcm_fs *baseline)
{
	static char line[PCM_FS_TEXT_MAX + 256];
	struct pcm_kvm_identity dst;
	struct pcm_fs missing, extra;
	unsigned int limits, result, blocked = 0;
	json_t *arr = out_arr(), *b;
	size_t v, i;

	for (v = 0; v < r->n; v++) {
		for (i = 0; i < n; i++) {
			if (h[i].is_pool)
				continue;	/* hosts that took these VMs already */
			pool_destination(&h[i], baseline, r->v[v].id.mode, &dst);
			result = pcm_identity_check(&r->v[v].id, &dst, &missing, &extra, &limits);
			if (result <= PCM_KVM_CHECK_COMPATIBLE)
				continue;
			pcm_check_format(result, &r->v[v].id, &dst, &missing, &extra,
					 limits, line, sizeof(line));
			b = out_obj();
			out_set_str(b, "vm", r->v[v].label);
			out_set_str(b, "mode", pcm_mode_name(r->v[v].id.mode));
			out_set_str(b, "host", h[i].name);
			out_set_fs(b, "missing", &missing);
			out_set_str(b, "verdict", line);
			out_append(arr, b);
			blocked++;
		}
	}
	out_set_int(doc, "vms_checked", r->n);
	out_set(doc, "blocked", arr);
	return blocked;
}

/* "a b c", or "N (FIRST ... LAST)" for a long list */
static void names_view(const json_t *arr)
{
	size_t n = json_array_size(arr);

	if (n <= TEXT_HOSTS_MAX) {
		tx_words(arr, " ");
		return;
	}
	printf(" %zu (%s ... %s)", n, json_string_value(json_array_get(arr, 0)),
	       json_string_value(json_array_get(arr, n - 1)));
}

static int size_desc(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * For a long pool, one line for each group of hosts that give up the same,
 * "gives up N hosts (FIRST ... LAST): NAMES", for the TEXT_GROUPS_MAX
 * largest groups (the first of equal ones), in the order of their first
 * host, then one line for the others: hosts that each withhold something
 * else make a group each.
 */
static void gives_up_groups_view(const json_t *groups)
{
	size_t k, ng = json_array_size(groups), cut = 0, ties = 0, shown = 0, rest = 0;
	size_t *size = calloc(ng ? ng : 1, sizeof(*size));
	const json_t *g;

	if (!size)
		out_oom();
	json_array_foreach(groups, k, g)
		size[k] = tx_len(g, "hosts");
	if (ng > TEXT_GROUPS_MAX) {
		qsort(size, ng, sizeof(*size), size_desc);
		cut = size[TEXT_GROUPS_MAX - 1];
		for (k = 0; k < TEXT_GROUPS_MAX; k++)
			ties += size[k] == cut;
	}
	json_array_foreach(groups, k, g) {
		const json_t *gh = tx_get(g, "hosts");
		size_t nh = json_array_size(gh);

		if (nh < cut || (nh == cut && !ties)) {
			rest += nh;
			continue;
		}
		ties -= nh == cut;
		shown++;
		if (nh == 1)
			printf("gives up %s:", json_string_value(json_array_get(gh, 0)));
		else
			printf("gives up %zu hosts (%s ... %s):", nh,
			       json_string_value(json_array_get(gh, 0)),
			       json_string_value(json_array_get(gh, nh - 1)));
		tx_line("", tx_get(g, "features"), "-");
	}
	if (shown < ng)
		printf("gives up %zu more hosts (%zu groups): --json lists them\n",
		       rest, ng - shown);
	free(size);
}

/* "gives up HOST: NAMES" for each host, or the groups of a long pool */
static void gives_up_view(const json_t *hosts, const json_t *groups, bool long_pool)
{
	const json_t *g, *h;
	size_t i, k, j;

	if (long_pool) {
		gives_up_groups_view(groups);
		return;
	}
	/* few hosts: a line each, in the order of the hosts */
	json_array_foreach(hosts, i, h) {
		json_array_foreach(groups, k, g) {
			const json_t *gh;

			json_array_foreach(tx_get(g, "hosts"), j, gh) {
				if (json_equal(h, gh)) {
					printf("gives up %s:", json_string_value(h));
					tx_line("", tx_get(g, "features"), "-");
				}
			}
		}
	}
}

static void pool_view(const json_t *doc)
{
	const json_t *c = tx_get(doc, "change"), *v, *b;
	bool long_pool = tx_len(doc, "hosts") > TEXT_HOSTS_MAX;
	const char *key;
	size_t i;

	printf("pcm_kvm_pool: %u\n", OUT_TEXT_VERSION);
	printf("hosts:");
	names_view(tx_get(doc, "hosts"));
	printf("\n");
	tx_key(doc, "vendor", "-");
	level_view(doc, "(none)");
	limits_view(tx_get(doc, "limits"));
	tx_key(doc, "scrub", "-");
	tx_key(doc, "inverted", "-");
	/*
	 * A host whose feature MSRs are unknown has none to give: the pool
	 * then shows none of their not-affected bits.  Say why.
	 */
	if (!strcmp(tx_str(doc, "feature_msrs"), "known")) {
		printf("feature_msrs: known\n");
	} else {
		printf("feature_msrs: unknown (not read on");
		if (tx_len(doc, "feature_msrs_unknown") > TEXT_HOSTS_MAX)
			printf(" %zu hosts:", tx_len(doc, "feature_msrs_unknown"));
		else
			printf(":");
		names_view(tx_get(doc, "feature_msrs_unknown"));
		printf("; from a CPUID dump or an older profile)\n");
	}
	gives_up_view(tx_get(doc, "hosts"), tx_get(doc, "gives_up"), long_pool);
	json_object_foreach((json_t *)tx_get(doc, "held_back"), key, v) {
		printf("held back: %s by", key);
		names_view(v);
		printf("\n");
	}
	json_object_foreach((json_t *)tx_get(doc, "retire"), key, v) {
		printf("retire %s: gains", key);
		if (tx_len(v, "gains"))
			tx_words(tx_get(v, "gains"), " ");
		else
			printf(" -");
		printf(" (level %s)\n", tx_str(v, "level"));
	}
	tx_key(doc, "baseline", "");
	if (json_is_object(c)) {
		printf("change:");
		json_array_foreach(tx_get(c, "added"), i, v)
			printf(" +%s", json_string_value(v));
		json_array_foreach(tx_get(c, "removed"), i, v)
			printf(" -%s", json_string_value(v));
		printf(" (level %s -> %s)\n", tx_str(c, "previous_level"), tx_str(c, "level"));
		tx_key(c, "gained", "-");
		tx_key(c, "lost", "-");
	}
	json_array_foreach(tx_get(doc, "blocked"), i, b)
		printf("blocked: %s (mode %s) cannot move to %s: %s\n", tx_str(b, "vm"),
		       tx_str(b, "mode"), tx_str(b, "host"), tx_str(b, "verdict"));
	if (json_is_integer(tx_get(doc, "vms_checked")) && tx_bool(doc, "vms_listed"))
		printf("vms: %llu checked, %zu move%s refused\n", tx_int(doc, "vms_checked"),
		       tx_len(doc, "blocked"), tx_len(doc, "blocked") == 1 ? "" : "s");
}

/* Room for one more profile after the n of h. */
static bool next_slot(struct profile **h, size_t n, size_t *cap)
{
	struct profile *nh;

	if (n < *cap)
		return true;
	nh = realloc(*h, (n + 1) * sizeof(*nh));
	if (!nh) {
		pr_err("out of memory");
		return false;
	}
	*h = nh;
	*cap = n + 1;
	return true;
}

static int baseline_args(const struct pcmctl_cmd *c, int argc, char **argv,
			 struct baseline_args *a)
{
	int opt, ret = 0, i;

	a->removed = calloc(argc, sizeof(*a->removed));
	a->vms = calloc(argc, sizeof(*a->vms));
	a->added = calloc(argc, sizeof(*a->added));
	if (!a->removed || !a->vms || !a->added) {
		pr_err("out of memory");
		return EXIT_OP;
	}
	while ((opt = cmd_getopt(c, argc, argv, &ret)) != -1) {
		switch (opt) {
		case OPT_STOP:
			return ret;
		case 'j':
			a->json = true;
			break;
		case 'x':
			a->expl = true;
			break;
		case 'F':
			a->force = true;
			break;
		case 'C':
			if (a->current)
				return cmd_usage(c, "--current given twice");
			a->current = optarg;
			break;
		case 'a':
			a->added[a->nadded++] = optarg;
			break;
		case 'r':
			a->removed[a->nremoved++] = optarg;
			break;
		case 'v':
			a->vms[a->nvms++] = optarg;
			break;
		}
	}
	a->profiles = (const char **)argv + optind;
	a->nprofiles = argc - optind;
	if (!a->current && (a->nremoved || a->nvms || a->nadded))
		return cmd_usage(c, "--add, --remove and --vms need --current POOL_FILE");
	if (!a->current && !a->nprofiles)
		return cmd_usage(c, "no PROFILE");
	if (a->current && !a->nadded && !a->nremoved)
		return cmd_usage(c, "--current without --add or --remove");
	for (i = 0; i < a->nprofiles; i++)
		if (!strcmp(a->profiles[i], "-") && a->current && !strcmp(a->current, "-"))
			return cmd_usage(c, "PROFILE and --current cannot both be standard input");
	return 0;
}

int cmd_baseline(const struct pcmctl_cmd *c, int argc, char **argv)
{
	struct baseline_args a = { 0 };
	struct vm_refs refs = { 0 };
	struct profile *h = NULL, cur;
	struct pcm_fs *hw = NULL;
	char **names = NULL;
	unsigned int blocked = 0;
	size_t n = 0, i, cap = 0, members, nnames = 0;
	struct pool pl;
	json_t *doc;
	int ret;

	profile_init(&cur);
	ret = baseline_args(c, argc, argv, &a);
	if (ret)
		goto out;
	/* members first, then the added hosts, in command line order */
	for (i = 0; i < (size_t)a.nprofiles && !ret; i++)
		ret = profile_read_hosts(a.profiles[i], &h, &n, &cap);
	members = n;
	for (i = 0; i < (size_t)a.nadded && !ret; i++)
		ret = profile_read_hosts(a.added[i], &h, &n, &cap);
	/* the change names the hosts added; pool_members() moves the profiles */
	names = calloc(n - members + 1, sizeof(*names));
	if (!ret && !names) {
		pr_err("out of memory");
		ret = EXIT_OP;
	}
	for (i = members; i < n && !ret; i++) {
		names[nnames] = strdup(h[i].name);
		if (!names[nnames++]) {
			pr_err("out of memory");
			ret = EXIT_OP;
		}
	}
	a.added_names = (const char **)names;
	a.nadded = (int)nnames;
	/* one more slot: pool_members() may put the pool file in front */
	if (!ret && !next_slot(&h, n, &cap))
		ret = EXIT_OP;
	if (!ret && a.current) {
		ret = profile_read(a.current, PROFILE_POOL, &cur);
		if (!ret)
			ret = pool_members(h, &n, &cur, &a);
		for (i = 0; i < (size_t)a.nvms && !ret; i++)
			ret = vm_refs_load(a.vms[i], &refs);
	}
	if (!ret)
		ret = refuse_hosts(h, n, a.force);
	if (ret)
		goto out;
	hw = calloc(n, sizeof(*hw));
	if (!hw) {
		pr_err("out of memory");
		ret = EXIT_OP;
		goto out;
	}
	pool_compute(h, n, &pl, hw);
	doc = pool_doc(h, n, &pl, hw, a.expl);
	if (a.current) {
		change_doc(doc, &cur, &pl, &a);
		blocked = vms_doc(doc, &refs, h, n, &pl.hw);
		out_set_bool(doc, "vms_listed", a.nvms > 0);
	}
	ret = out_print(doc, a.json, pool_view);
	if (!ret && blocked)
		ret = EXIT_OP;
out:
	for (i = 0; h && i < n; i++)
		if (!h[i].is_pool)
			profile_free(&h[i]);
	profile_free(&cur);
	free(refs.v);
	free(hw);
	free(h);
	for (i = 0; names && i < nnames; i++)
		free(names[i]);
	free(names);
	free(a.vms);
	free(a.removed);
	free(a.added);
	return ret;
}

/* pcmctl apply */

static void apply_view(const json_t *doc)
{
	tx_key(doc, "baseline", "");
}

int cmd_apply(const struct pcmctl_cmd *c, int argc, char **argv)
{
	struct pcm_fs want, host, missing;
	char path[PATH_MAX + 32], why[PCM_FS_TEXT_MAX + 128];
	bool json = false, force = false, is_pool, have_host;
	struct profile as_host;
	int opt, ret = 0;
	json_t *doc;

	while ((opt = cmd_getopt(c, argc, argv, &ret)) != -1) {
		if (opt == OPT_STOP)
			return ret;
		if (opt == 'j')
			json = true;
		else
			force = true;
	}
	ret = cmd_operands(c, argc, argv, 1, 1);
	if (ret)
		return ret;
	ret = profile_baseline(argv[optind], false, &want, &is_pool);
	if (ret)
		return ret;
	/* a list below min is no pool anyone meant */
	profile_init(&as_host);
	as_host.features = want;
	as_host.max_ext_leaf = 0x80000008;
	as_host.phys_bits = 1;
	if (profile_nonsense(&as_host, why, sizeof(why))) {
		if (!force) {
			pr_err("%s: %s: not a pool's baseline (--force to install it)",
			       strcmp(argv[optind], "-") ? argv[optind] : "<stdin>", why);
			return EXIT_OP;
		}
		pr_err("warning: %s; installed (--force)", why);
	}

	/* Say which features this host lacks before the kernel refuses. */
	have_host = !kern_host_features(&host);
	if (have_host) {
		pcm_fs_andnot(&missing, &want, &host);
		if (!pcm_fs_empty(&missing)) {
			static char text[PCM_FS_TEXT_MAX];

			pcm_fs_format(&missing, text, sizeof(text));
			pr_err("this host cannot join the pool: missing %s", text);
			return EXIT_OP;
		}
	}
	ret = kern_write_baseline(&want, path, sizeof(path));
	if (ret == -EINVAL) {
		pr_err("%s: refused (EINVAL): this host cannot join the pool%s", path,
		       have_host ? "" : " (see the kernel log for the missing features)");
		return EXIT_OP;
	}
	if (ret) {
		pr_err("%s: %s%s", path, strerror(-ret),
		       ret == -ENOENT ? " (is the pcm_kvm module loaded?)" : "");
		return EXIT_OP;
	}
	doc = out_doc("apply");
	out_set_fs(doc, "baseline", &want);
	return out_print(doc, json, apply_view);
}
