// SPDX-License-Identifier: GPL-2.0
/*
 * pcmctl modes, features, parse: views of the feature model alone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcmctl.h"
#include "out.h"
#include "pcm_model.h"

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
	[PCM_CLASS_SPEC] = "SPEC",
	[PCM_CLASS_NO] = "NO",
};

static const char *const class_help[] = {
	[PCM_CLASS_HW] = "hardware feature: the mode decides",
	[PCM_CLASS_KVM] = "provided by KVM on any host",
	[PCM_CLASS_INFO] = "information about the host or the guest OS state",
	[PCM_CLASS_INV] = "inverted: presence means less; never hidden or refused",
	[PCM_CLASS_SCRUB] = "might need scrubbing: OR-ed across a pool",
	[PCM_CLASS_SPEC] = "speculation control or mitigation bit: never hidden, checked on moves",
	[PCM_CLASS_NO] = "not affected: checked on moves; `baseline` needs every host to have it",
};

static const char *const reg_names[] = { "EAX", "EBX", "ECX", "EDX" };

/* The named modes, in level order. */
static const unsigned int level_modes[] = {
	PCM_KVM_MODE_MIN, PCM_KVM_MODE_X86_64_V2,
	PCM_KVM_MODE_X86_64_V3, PCM_KVM_MODE_X86_64_V4,
};

/* The first level of a feature: NULL for a class that passes through. */
static const char *feature_level(unsigned int id)
{
	const struct pcm_feature *f = &pcm_features[id];

	if (f->cls != PCM_CLASS_HW)
		return NULL;
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

	if (!pcm_word_is_cpuid(f->word)) {
		snprintf(buf, size, "MSR 0x%x[%u]", (unsigned int)w->msr,
			 (unsigned int)(w->shift + f->bit));
		return;
	}
	snprintf(buf, size, "0x%x.%u %s[%u]", (unsigned int)w->leaf,
		 (unsigned int)w->subleaf, reg_names[w->reg & 3],
		 (unsigned int)f->bit);
}

/* The features id needs that are not in have (NULL: all of them). */
static json_t *needs_of(unsigned int id, const struct pcm_fs *have)
{
	json_t *a = out_arr();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(deps); i++)
		if (deps[i].id == id && (!have || !pcm_fs_test(have, deps[i].need)))
			out_append_str(a, pcm_features[deps[i].need].name);
	return a;
}

/* pcmctl modes */

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

static const char off_text[] = "every feature the VMM sets (no masking)";
/* what a baseline allows besides the list, after its name */
static const char baseline_classes[] =
	"plus the KVM, INFO, INV, SCRUB, SPEC classes, dependency-closed (HW and NO as listed)";

static json_t *modes_doc(void)
{
	json_t *doc = out_doc("modes"), *modes = out_arr(), *m;
	struct pcm_fs allow;
	char text[256];
	size_t i;

	m = out_obj();
	out_set_str(m, "mode", "off");
	out_set(m, "allow", json_null());
	out_set_str(m, "description", off_text);
	out_append(modes, m);
	for (i = 0; i < ARRAY_SIZE(level_modes); i++) {
		m = out_obj();
		pcm_mode_allow(level_modes[i], NULL, &allow);
		out_set_str(m, "mode", pcm_mode_name(level_modes[i]));
		out_set_fs(m, "allow", &allow);
		out_append(modes, m);
	}
	m = out_obj();
	out_set_str(m, "mode", "baseline");
	out_set(m, "allow", json_null());
	snprintf(text, sizeof(text), "the list in %s/baseline, %s", PCM_KVM_SYSFS,
		 baseline_classes);
	out_set_str(m, "description", text);
	out_append(modes, m);
	out_set(doc, "modes", modes);
	return doc;
}

static void modes_view(const json_t *doc)
{
	const json_t *m;
	size_t i;

	json_array_foreach(tx_get(doc, "modes"), i, m) {
		if (json_is_array(tx_get(m, "allow")))
			tx_line(tx_str(m, "mode"), tx_get(m, "allow"), "(none)");
		else
			printf("%s: %s\n", tx_str(m, "mode"), tx_str(m, "description"));
	}
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
	bool first = true;
	unsigned int id;

	mode_candidates(mode, &cand);
	pcm_mode_allow(mode, NULL, &allow);
	pcm_fs_andnot(&hidden, &cand, &allow);

	printf("- %s:", pcm_mode_name(mode));
	for (id = 0; id < PCM_NR_FEATURES; id++) {
		json_t *need;
		const json_t *n;
		size_t i;

		if (!pcm_fs_test(&hidden, id))
			continue;
		need = needs_of(id, &allow);
		printf("%s `%s` (needs", first ? "" : ",", pcm_features[id].name);
		json_array_foreach(need, i, n)
			printf("%s`%s`", i ? ", " : " ", json_string_value(n));
		printf(")");
		json_decref(need);
		first = false;
	}
	printf("%s\n", first ? " none" : "");
}

/* The README's mode table: documentation, generated, not a data format. */
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

	printf("| **Passed through by every mode** %s | | | | | |\n",
	       "(unless dependency closure hides them, below)");
	for (cls = PCM_CLASS_KVM; cls < PCM_NR_CLASSES; cls++)
		md_class_row(cls);

	printf("\n"
	       "Every other hardware feature is hidden by the named modes; `pcmctl features` lists them all.\n"
	       "`off` leaves the CPUID the VMM sets unchanged. `baseline` allows the list in `%s/baseline`, plus the classes passed through above, NO only where the list has them.\n"
	       "\n"
	       "Hidden by dependency closure (a feature the mode would allow, hidden because a feature it needs is hidden):\n"
	       "\n",
	       PCM_KVM_SYSFS);
	for (i = 0; i < ARRAY_SIZE(level_modes); i++)
		md_hidden(level_modes[i]);
	return 0;
}

static int table_opts(const struct pcmctl_cmd *c, int argc, char **argv, bool *json,
		      bool *md)
{
	int opt, ret = 0;

	while ((opt = cmd_getopt(c, argc, argv, &ret)) != -1) {
		if (opt == OPT_STOP)
			return ret;
		if (opt == 'j')
			*json = true;
		else
			*md = true;
	}
	if (*json && *md)
		return cmd_usage(c, "--markdown and --json exclude each other");
	return cmd_operands(c, argc, argv, 0, 0);
}

int cmd_modes(const struct pcmctl_cmd *c, int argc, char **argv)
{
	bool json = false, md = false;
	int ret = table_opts(c, argc, argv, &json, &md);

	if (ret)
		return ret;
	if (md)
		return modes_markdown();
	return out_print(modes_doc(), json, modes_view);
}

/* pcmctl features */

static json_t *features_doc(void)
{
	json_t *doc = out_doc("features"), *all = out_arr();
	struct pcm_fs offers;
	unsigned int id;

	pcm_fs_kvm_offers(&offers);

	for (id = 0; id < PCM_NR_FEATURES; id++) {
		const struct pcm_feature *f = &pcm_features[id];
		const struct pcm_word_desc *w = &pcm_words[f->word];
		json_t *o = out_obj();
		char loc[48];

		out_set_str(o, "name", f->name);
		out_set_str(o, "alias", f->alias);
		format_location(id, loc, sizeof(loc));
		out_set_str(o, "location", loc);
		if (pcm_word_is_cpuid(f->word)) {
			out_set_int(o, "leaf", w->leaf);
			out_set_int(o, "subleaf", w->subleaf);
			out_set_str(o, "register", reg_names[w->reg & 3]);
			out_set_int(o, "bit", f->bit);
		} else {
			out_set_int(o, "msr", w->msr);
			out_set_int(o, "bit", w->shift + f->bit);
		}
		out_set_str(o, "class", class_names[f->cls]);
		out_set_str(o, "level", feature_level(id));
		out_set_bool(o, "kvm_offers", pcm_fs_test(&offers, id));
		out_set(o, "needs", needs_of(id, NULL));
		out_append(all, o);
	}
	out_set(doc, "features", all);
	return doc;
}

static void needs_text(const json_t *o, bool quote, char *buf, size_t size)
{
	const char *q = quote ? "`" : "";
	const json_t *n;
	size_t i, pos = 0;

	snprintf(buf, size, "-");
	json_array_foreach(tx_get(o, "needs"), i, n)
		if (pos < size)
			pos += snprintf(buf + pos, size - pos, "%s%s%s%s", i ? ", " : "",
					q, json_string_value(n), q);
}

static const char *level_text(const json_t *o)
{
	return json_is_null(tx_get(o, "level")) ? "-" : tx_str(o, "level");
}

static void features_view(const json_t *doc)
{
	const json_t *o;
	char needs[256];
	size_t i;

	printf("%-39s %-26s %-20s %-5s %-9s %-5s %s\n", "NAME", "QEMU-ALIAS",
	       "LOCATION", "CLASS", "LEVEL", "KVM", "NEEDS");
	json_array_foreach(tx_get(doc, "features"), i, o) {
		needs_text(o, false, needs, sizeof(needs));
		printf("%-39s %-26s %-20s %-5s %-9s %-5s %s\n", tx_str(o, "name"),
		       *tx_str(o, "alias") ? tx_str(o, "alias") : "-", tx_str(o, "location"),
		       tx_str(o, "class"), level_text(o),
		       tx_bool(o, "kvm_offers") ? "yes" : "never", needs);
	}
}

static void features_markdown(const json_t *doc)
{
	const json_t *o;
	char needs[256];
	size_t i;

	printf("| Feature | QEMU alias | CPUID leaf.subleaf reg[bit] | Class | First level |%s\n",
	       " KVM | Needs |\n|---|---|---|---|---|---|---|");
	json_array_foreach(tx_get(doc, "features"), i, o) {
		const char *alias = tx_str(o, "alias");

		needs_text(o, true, needs, sizeof(needs));
		printf("| `%s` | %s%s%s | %s | %s | %s | %s | %s |\n", tx_str(o, "name"),
		       *alias ? "`" : "", *alias ? alias : "-", *alias ? "`" : "",
		       tx_str(o, "location"), tx_str(o, "class"), level_text(o),
		       tx_bool(o, "kvm_offers") ? "yes" : "never", needs);
	}
	printf("\n"
	       "First level: the first named mode that allows a hardware (HW) feature; none: only `off` and `baseline` show it; -: not a hardware feature, passed through by every mode. KVM: never if no KVM offers it to a guest (a host's features never have it; a profile made from a CPUID dump drops it). Needs: the features it is hidden with.\n");
}

int cmd_features(const struct pcmctl_cmd *c, int argc, char **argv)
{
	bool json = false, md = false;
	int ret = table_opts(c, argc, argv, &json, &md);

	if (ret)
		return ret;
	return out_print(features_doc(), json, md ? features_markdown : features_view);
}

/* pcmctl parse */

static void parse_view(const json_t *doc)
{
	const json_t *v;
	size_t i;

	json_array_foreach(tx_get(doc, "features"), i, v)
		printf("%s%s", i ? " " : "", json_string_value(v));
	putchar('\n');
}

/*
 * The features of fs that dependency closure removes (a mode built on fs,
 * such as a baseline, would hide them), with what they need.
 */
static json_t *unclosed(const struct pcm_fs *fs)
{
	struct pcm_fs closed, hidden;
	json_t *o = out_obj();
	unsigned int id;

	closed = *fs;
	pcm_fs_close(&closed);
	pcm_fs_andnot(&hidden, fs, &closed);
	for (id = 0; id < PCM_NR_FEATURES; id++)
		if (pcm_fs_test(&hidden, id))
			out_set(o, pcm_features[id].name, needs_of(id, &closed));
	return o;
}

int cmd_parse(const struct pcmctl_cmd *c, int argc, char **argv)
{
	const char *bad = NULL;
	size_t len = 0, badlen = 0;
	bool json = false;
	struct pcm_fs fs;
	int i, opt, ret = 0;
	char *list, *p;
	json_t *doc, *hidden;

	while ((opt = cmd_getopt(c, argc, argv, &ret)) != -1) {
		if (opt == OPT_STOP)
			return ret;
		json = true;
	}
	ret = cmd_operands(c, argc, argv, 1, -1);
	if (ret)
		return ret;
	for (i = optind; i < argc; i++)
		len += strlen(argv[i]) + 1;
	list = malloc(len);
	if (!list) {
		pr_err("out of memory");
		return EXIT_OP;
	}
	p = list;
	for (i = optind; i < argc; i++) {
		size_t n = strlen(argv[i]);

		memcpy(p, argv[i], n);
		p += n;
		*p++ = ' ';
	}
	ret = pcm_fs_parse(list, len, &fs, &bad, &badlen);
	if (ret == -EINVAL) {
		pr_err("unknown feature '%.*s'%s", badlen > 64 ? 64 : (int)badlen,
		       bad, badlen > PCM_NAME_MAX ? " (name too long)" : "");
		free(list);
		return EXIT_OP;
	}
	free(list);
	if (ret) {
		pr_err("no feature name in the list");
		return EXIT_OP;
	}
	doc = out_doc("parse");
	out_set_fs(doc, "features", &fs);
	hidden = unclosed(&fs);
	if (json_object_size(hidden)) {
		const char *name, *fsep = " ";
		json_t *need;

		fprintf(pcmctl_err, "%s: note: as a mode's list, dependency closure would hide",
			prog);
		json_object_foreach(hidden, name, need) {
			const json_t *n;
			size_t k;

			fprintf(pcmctl_err, "%s%s", fsep, name);
			json_array_foreach(need, k, n)
				fprintf(pcmctl_err, "%s%s", k ? ", " : " (needs ",
					json_string_value(n));
			fprintf(pcmctl_err, ")");
			fsep = ", ";
		}
		fprintf(pcmctl_err, "\n");
	}
	out_set(doc, "hidden_by_closure", hidden);
	return out_print(doc, json, parse_view);
}
