// SPDX-License-Identifier: GPL-2.0
/*
 * pcmctl vms, show, vm, set, identity, save-identity: the live VMs.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pcmctl.h"
#include "identity.h"
#include "kernel.h"
#include "out.h"

static int vm_id_arg(const struct pcmctl_cmd *c, const char *arg, int *pid, int *fd)
{
	if (kern_parse_vm_id(arg, pid, fd))
		return cmd_usage(c, "'%s' is not PID-FD (e.g. 1234-11, as in "
				 PCM_KVM_SYSFS "/vms/)", arg);
	return 0;
}

/* Only --json, then exactly n operands. */
static int json_opts(const struct pcmctl_cmd *c, int argc, char **argv, int n, bool *json)
{
	int opt, ret = 0;

	while ((opt = cmd_getopt(c, argc, argv, &ret)) != -1) {
		if (opt == OPT_STOP)
			return ret;
		*json = true;
	}
	return cmd_operands(c, argc, argv, n, n);
}

/* The number of blank-separated words of s (0 for NULL). */
static unsigned int count_words(const char *s)
{
	unsigned int n = 0;

	while (s && *s) {
		s += strspn(s, " \t\n,");
		if (!*s)
			break;
		n++;
		s += strcspn(s, " \t\n,");
	}
	return n;
}

/* A JSON array of the blank-separated words of s; null for NULL. */
static json_t *words_arr(const char *s)
{
	json_t *a;

	if (!s)
		return json_null();
	a = out_arr();
	while (*s) {
		size_t len;

		s += strspn(s, " \t\n,");
		len = strcspn(s, " \t\n,");
		if (!len)
			break;
		out_append(a, out_strn(s, len));
		s += len;
	}
	return a;
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? out_str(s) : json_null();
}

/* One VM; full adds requested. */
static json_t *vm_obj(const struct vm_info *vm, bool full)
{
	json_t *o = out_obj();

	out_set_str(o, "id", vm->id);
	out_set_int(o, "pid", vm->pid);
	out_set(o, "comm", str_or_null(vm->comm));
	out_set_str(o, "mode", vm->mode);
	out_set(o, "status", str_or_null(vm->status));
	out_set_int(o, "visible_count", count_words(vm->visible));
	out_set_int(o, "hidden_count", count_words(vm->hidden));
	if (full) {
		out_set(o, "requested", words_arr(vm->requested));
		out_set(o, "expect", str_or_null(vm->expect));
	}
	out_set(o, "visible", words_arr(vm->visible ? vm->visible : ""));
	out_set(o, "hidden", words_arr(vm->hidden ? vm->hidden : ""));
	out_set(o, "identity", str_or_null(vm->identity));
	return o;
}

static int imax(int a, int b)
{
	return a > b ? a : b;
}

static const char *dash(const char *s)
{
	return *s ? s : "-";
}

static void vms_view(const json_t *doc)
{
	static const char *const head[] = {
		"VM", "PID", "COMM", "MODE", "VISIBLE", "HIDDEN", "STATUS"
	};
	const json_t *vms = tx_get(doc, "vms"), *v;
	char cell[32];
	int w[6];
	size_t i;

	for (i = 0; i < 6; i++)
		w[i] = (int)strlen(head[i]);
	json_array_foreach(vms, i, v) {
		w[0] = imax(w[0], (int)strlen(tx_str(v, "id")));
		w[1] = imax(w[1], snprintf(cell, sizeof(cell), "%llu", tx_int(v, "pid")));
		w[2] = imax(w[2], (int)strlen(dash(tx_str(v, "comm"))));
		w[3] = imax(w[3], (int)strlen(tx_str(v, "mode")));
	}
	printf("%-*s  %*s  %-*s  %-*s  %*s  %*s  %s\n", w[0], head[0], w[1],
	       head[1], w[2], head[2], w[3], head[3], w[4], head[4], w[5],
	       head[5], head[6]);
	json_array_foreach(vms, i, v)
		printf("%-*s  %*llu  %-*s  %-*s  %*llu  %*llu  %s\n", w[0], tx_str(v, "id"),
		       w[1], tx_int(v, "pid"), w[2], dash(tx_str(v, "comm")),
		       w[3], tx_str(v, "mode"), w[4], tx_int(v, "visible_count"),
		       w[5], tx_int(v, "hidden_count"), dash(tx_str(v, "status")));
}

int cmd_vms(const struct pcmctl_cmd *c, int argc, char **argv)
{
	struct vm_info *vms = NULL;
	unsigned long pid = 0;
	bool json = false;
	int opt, ret = 0, n, i;
	char *end;
	json_t *doc, *arr;

	while ((opt = cmd_getopt(c, argc, argv, &ret)) != -1) {
		if (opt == OPT_STOP)
			return ret;
		if (opt == 'j') {
			json = true;
			continue;
		}
		errno = 0;
		pid = strtoul(optarg, &end, 10);
		if (*optarg < '1' || *optarg > '9' || *end || errno || pid > INT_MAX)
			return cmd_usage(c, "--pid '%s': not a pid", optarg);
	}
	ret = cmd_operands(c, argc, argv, 0, 0);
	if (ret)
		return ret;
	ret = kern_vms(&vms, &n, (int)pid);
	if (ret)
		return ret;
	doc = out_doc("vms");
	arr = out_arr();
	for (i = 0; i < n; i++) {
		out_append(arr, vm_obj(&vms[i], false));
		kern_vm_free(&vms[i]);
	}
	free(vms);
	out_set(doc, "vms", arr);
	ret = out_print(doc, json, vms_view);
	if (!ret && pid && !n) {
		pr_err("no VM of process %lu in %s/vms", pid, kern_sysfs());
		ret = EXIT_OP;
	}
	return ret;
}

static void show_view(const json_t *doc)
{
	printf("vm: %s\n", tx_str(doc, "id"));
	printf("process: %llu %s\n", tx_int(doc, "pid"), dash(tx_str(doc, "comm")));
	tx_key(doc, "mode", "-");
	tx_key(doc, "status", "-");
	if (json_is_array(tx_get(doc, "requested")))
		tx_key(doc, "requested", "(none)");
	printf("visible (%llu):", tx_int(doc, "visible_count"));
	tx_line("", tx_get(doc, "visible"), "(none)");
	printf("hidden (%llu):", tx_int(doc, "hidden_count"));
	tx_line("", tx_get(doc, "hidden"), "(none)");
	/* the expected identity's mode and features: what the VM must give */
	if (json_is_string(tx_get(doc, "expect")))
		printf("expect: yes (%s)\n",
		       "it runs only if it gives its guest what the identity lists");
}

int cmd_show(const struct pcmctl_cmd *c, int argc, char **argv)
{
	struct vm_info vm;
	bool json = false;
	int pid, fd, ret;
	json_t *doc, *o;
	const char *key;
	json_t *v;

	ret = json_opts(c, argc, argv, 1, &json);
	if (!ret)
		ret = vm_id_arg(c, argv[optind], &pid, &fd);
	if (ret)
		return ret;
	ret = kern_vm(&vm, pid, fd);
	if (ret) {
		pr_err("%s/vms/%d-%d/mode: %s%s", kern_sysfs(), pid, fd, strerror(-ret),
		       ret == -ENOENT ? " (no such VM; `pcmctl vms` lists them)" : "");
		return EXIT_OP;
	}
	o = vm_obj(&vm, true);
	kern_vm_free(&vm);
	doc = out_doc("vm");
	json_object_foreach(o, key, v)
		out_set(doc, key, json_incref(v));
	json_decref(o);
	return out_print(doc, json, show_view);
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

/* pcmctl vm: the raw sysfs files, for debugging; text only. */
int cmd_vm(const struct pcmctl_cmd *c, int argc, char **argv)
{
	struct vm_file *files = NULL;
	struct vm_info *vms;
	int pid, fd, n, i, opt, ret = 0;

	while ((opt = cmd_getopt(c, argc, argv, &ret)) != -1)
		if (opt == OPT_STOP)
			return ret;
	ret = cmd_operands(c, argc, argv, 0, 1);
	if (ret)
		return ret;
	if (optind == argc) {
		ret = kern_vms(&vms, &n, 0);
		if (ret)
			return ret;
		if (!n)
			printf("no VM\n");
		for (i = 0; i < n; i++) {
			printf("%s %s\n", vms[i].id, vms[i].mode);
			kern_vm_free(&vms[i]);
		}
		free(vms);
		return 0;
	}
	ret = vm_id_arg(c, argv[optind], &pid, &fd);
	if (ret)
		return ret;
	ret = kern_vm_files(pid, fd, &files, &n);
	if (!ret)
		printf("vm: %d-%d\n", pid, fd);
	for (i = 0; i < n; i++) {
		if (!ret)
			print_value(files[i].name, files[i].value);
		free(files[i].value);
	}
	free(files);
	return ret;
}

static void set_view(const json_t *doc)
{
	printf("%s: mode %s\n", tx_str(doc, "vm"), tx_str(doc, "mode"));
}

int cmd_set_mode(const struct pcmctl_cmd *c, int argc, char **argv)
{
	bool json = false;
	int pid, fd, mode, ret;
	char id[64];
	json_t *doc;

	ret = json_opts(c, argc, argv, 2, &json);
	if (!ret)
		ret = vm_id_arg(c, argv[optind], &pid, &fd);
	if (ret)
		return ret;
	mode = cmd_mode(c, argv[optind + 1]);
	if (mode < 0)
		return EXIT_USAGE;
	ret = kern_set_vm_mode(pid, fd, (unsigned int)mode, c->name);
	if (ret)
		return ret;
	doc = out_doc("set");
	snprintf(id, sizeof(id), "%d-%d", pid, fd);
	out_set_str(doc, "vm", id);
	out_set_str(doc, "mode", pcm_mode_name(mode));
	return out_print(doc, json, set_view);
}

static void write_text(const char *text, size_t len)
{
	fwrite(text, 1, len, stdout);
	if (len && text[len - 1] != '\n')
		putchar('\n');
}

/* No option, one PID-FD: the path of its identity file. */
static int identity_path_arg(const struct pcmctl_cmd *c, int argc, char **argv, char *path,
			     size_t size)
{
	int pid, fd, opt, ret = 0;

	while ((opt = cmd_getopt(c, argc, argv, &ret)) != -1)
		if (opt == OPT_STOP)
			return ret;
	ret = cmd_operands(c, argc, argv, 1, 1);
	if (!ret)
		ret = vm_id_arg(c, argv[optind], &pid, &fd);
	if (!ret)
		ret = kern_vm_identity_path(pid, fd, path, size);
	return ret;
}

/* pcmctl identity: the sysfs text as it is. */
int cmd_identity(const struct pcmctl_cmd *c, int argc, char **argv)
{
	char path[PATH_MAX];
	struct kv_text t;
	int ret = identity_path_arg(c, argc, argv, path, sizeof(path));

	if (ret)
		return ret;
	if (kv_slurp(path, "identity", &t)) {
		if (errno == ENOENT)
			pr_err("no such VM, or a pcm_kvm without identities; `pcmctl vms` lists the VMs");
		return EXIT_OP;
	}
	write_text(t.buf, t.len);
	kv_text_free(&t);
	return 0;
}

int cmd_save_identity(const struct pcmctl_cmd *c, int argc, char **argv)
{
	struct pcm_kvm_identity id;
	char path[PATH_MAX], *text;
	int ret = identity_path_arg(c, argc, argv, path, sizeof(path));

	if (ret)
		return ret;
	/* Nothing reaches stdout unless the text parses: no half-saved file. */
	ret = identity_load(path, &id, &text);
	if (ret)
		return ret;
	write_text(text, strlen(text));
	free(text);
	return 0;
}
