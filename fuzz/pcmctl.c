// SPDX-License-Identifier: GPL-2.0
/*
 * pcmctl's file inputs, through its own main(): profiles (baseline), raw
 * CPUID dumps (decode, host --from-cpuid, baseline), identities (check
 * --host), feature lists (parse, apply, --baseline) and the sysfs files of
 * a VM (vms, show, vm, identity, save-identity) in a fake PCMCTL_SYSFS
 * tree, so nothing touches the real system.
 *
 * Input: a command line, then up to six files separated by lines "%%":
 *
 *	baseline
 *	<profile a>
 *	%%
 *	<profile b>
 *
 * Commands: parse (file a split at NUL bytes into arguments), decode, host,
 * host-json, baseline, baseline-explain, baseline-json, check (a --host b
 * [--baseline c]), check-sysfs (a --host b, c as the sysfs baseline), apply
 * (a; b as the sysfs host_features; --force with a third file), sysfs
 * (the files mode, status,
 * requested, visible, hidden, identity of VM 1-1).
 *
 * Beyond sanitizer reports, every run must end in 0, 1 or 2 with a
 * "pcmctl: " message for a failure, and what it prints must be what the
 * command promises (lists that parse, JSON that is JSON with its "format").
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pcmctl.h"
#include "kv.h"

/* pcmctl's main(), built as pcmctl_main (fuzz/Makefile) */
int pcmctl_main(int argc, char **argv);

/* pcmctl's messages (pcmctl_err) go to a memfd the checks below read. */
static FILE *pcm_fuzz_stderr;

#define NR_FILES	6
#define SEP		"\n%%\n"

static char root[PATH_MAX];
static int out_fd, err_fd;

struct cap {
	char *p;
	size_t n;
};

static struct cap out, err;

static void fz_die(const char *what)
{
	fprintf(stderr, "pcmctl fuzz target: %s: %s\n", what, strerror(errno));
	abort();
}

static void fz_path(char *buf, const char *name)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", root, name) >= PATH_MAX)
		fz_die("path too long");
}

static void fz_mkdir(const char *name)
{
	char p[PATH_MAX];

	fz_path(p, name);
	if (mkdir(p, 0700))
		fz_die(p);
}

static void fz_write(const char *name, const char *data, size_t n)
{
	char p[PATH_MAX];
	int fd;

	fz_path(p, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		fz_die(p);
	while (n) {
		ssize_t w = write(fd, data, n);

		if (w < 0)
			fz_die(p);
		data += w;
		n -= w;
	}
	close(fd);
}

static void fz_unlink(const char *name)
{
	char p[PATH_MAX];

	fz_path(p, name);
	if (unlink(p) && errno != ENOENT)
		fz_die(p);
}

static const char *const in_files[NR_FILES] = {
	"in/a", "in/b", "in/c", "in/d", "in/e", "in/f"
};

static const char *const vm_names[NR_FILES] = {
	"sys/vms/1-1/mode", "sys/vms/1-1/status", "sys/vms/1-1/requested",
	"sys/vms/1-1/visible", "sys/vms/1-1/hidden", "sys/vms/1-1/identity",
};

static const char *const sys_files[] = { "sys/baseline", "sys/host_features" };

static void fz_cleanup(void)
{
	size_t i;

	if (!root[0])
		return;
	for (i = 0; i < NR_FILES; i++) {
		fz_unlink(in_files[i]);
		fz_unlink(vm_names[i]);
	}
	for (i = 0; i < FUZZ_ARRAY_SIZE(sys_files); i++)
		fz_unlink(sys_files[i]);
}

static void fz_remove_tree(void)
{
	static const char *const dirs[] = {
		"sys/vms/1-1", "sys/vms", "sys", "in", "",
	};
	char p[PATH_MAX];
	size_t i;

	fz_cleanup();
	for (i = 0; i < FUZZ_ARRAY_SIZE(dirs); i++) {
		fz_path(p, dirs[i]);
		rmdir(p);
	}
}

static int fz_memfd(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		fz_die("memfd_create");
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char sys[PATH_MAX];
	int fd;

	(void)argc;
	(void)argv;
	if (snprintf(root, sizeof(root), "%s/pcmctl-fuzz-XXXXXX",
		     tmp && *tmp ? tmp : "/dev/shm") >= (int)sizeof(root) ||
	    !mkdtemp(root))
		fz_die("mkdtemp");
	atexit(fz_remove_tree);
	fz_mkdir("in");
	fz_mkdir("sys");
	fz_mkdir("sys/vms");
	fz_mkdir("sys/vms/1-1");
	fz_path(sys, "sys");
	setenv("PCMCTL_SYSFS", sys, 1);

	/* stdout to a memfd once, stdin from nothing; stderr stays libFuzzer's. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
		fz_die("/dev/null");
	close(fd);
	out_fd = fz_memfd("pcmctl-stdout");
	if (dup2(out_fd, STDOUT_FILENO) < 0)
		fz_die("dup2");
	close(out_fd);
	out_fd = STDOUT_FILENO;
	err_fd = fz_memfd("pcmctl-stderr");
	pcm_fuzz_stderr = fdopen(err_fd, "w");
	if (!pcm_fuzz_stderr)
		fz_die("fdopen");
	pcmctl_err = pcm_fuzz_stderr;
	return 0;
}

static void fz_rewind(int fd)
{
	if (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET))
		fz_die("ftruncate");
}

static void fz_capture(int fd, struct cap *c)
{
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st))
		fz_die("fstat");
	free(c->p);
	c->p = malloc(st.st_size + 1);
	if (!c->p)
		fz_die("malloc");
	n = pread(fd, c->p, st.st_size, 0);
	if (n != st.st_size)
		fz_die("pread");
	c->p[n] = '\0';
	c->n = n;
}

/* The value of the first line starting with key, or NULL. */
static const char *fz_line(const struct cap *c, const char *key, size_t *len)
{
	size_t klen = strlen(key);
	const char *p = c->p;

	while (p && *p) {
		if (!strncmp(p, key, klen)) {
			*len = strcspn(p + klen, "\n");
			return p + klen;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

/* A printed feature list ("-" or empty for none) that must parse. */
static void fz_list(const char *v, size_t len, struct pcm_fs *fs)
{
	const char *bad = NULL;
	size_t badlen = 0;
	int ret;

	pcm_fs_zero(fs);
	if (len == 1 && *v == '-')
		return;
	ret = pcm_fs_parse(v, len, fs, &bad, &badlen);
	FUZZ_CHECK(!ret || (ret == -ENODATA), "printed list '%.*s' does not parse",
		   (int)len, v);
}

/* One JSON document of pcmctl's, nothing after it, with its format. */
static void fz_json(const struct cap *c)
{
	json_error_t e;
	json_t *doc = json_loadb(c->p, c->n, 0, &e);
	const char *fmt;

	FUZZ_CHECK(doc, "not JSON (%s):\n%s", e.text, c->p);
	fmt = json_string_value(json_object_get(doc, "format"));
	FUZZ_CHECK(fmt && !strncmp(fmt, "pcm_kvm.", 8) && strstr(fmt, "/1"),
		   "no \"format\": \"pcm_kvm.KIND/1\":\n%s", c->p);
	json_decref(doc);
}

/* A message line of pcmctl's own: "pcmctl: ", "pcmctl CMD: ", its usage. */
static bool fz_own_line(const char *p)
{
	if (!strncmp(p, "pcmctl: ", 8) || !strncmp(p, "usage: pcmctl ", 14) ||
	    !strncmp(p, "   or: pcmctl ", 14) || !strncmp(p, "Try 'pcmctl ", 12))
		return true;
	if (strncmp(p, "pcmctl ", 7))
		return false;
	p += 7;
	while (islower((unsigned char)*p) || *p == '-')
		p++;
	return !strncmp(p, ": ", 2);
}

static int fz_run(int argc, char **cargv)
{
	char *argv[2 + 64 + 1];	/* parse's, the longest */
	const char *p;
	int rc, i;

	/* GNU getopt permutes argv: a writable copy, as a real argv is */
	FUZZ_CHECK(argc < (int)FUZZ_ARRAY_SIZE(argv));
	for (i = 0; i <= argc; i++)
		argv[i] = cargv[i];

	fz_rewind(out_fd);
	fz_rewind(err_fd);
	rewind(pcm_fuzz_stderr);
	rc = pcmctl_main(argc, argv);
	fflush(stdout);
	fflush(pcm_fuzz_stderr);
	fz_capture(out_fd, &out);
	fz_capture(err_fd, &err);

	FUZZ_CHECK(rc >= 0 && rc <= EXIT_USAGE, "pcmctl %s: exit %d", argv[1], rc);
	/* Each message line is pcmctl's, and a failure says why. */
	for (p = err.p; *p; p = strchr(p, '\n') + 1) {
		FUZZ_CHECK(fz_own_line(p), "pcmctl %s: stray stderr line: %s", argv[1], p);
		FUZZ_CHECK(strchr(p, '\n'), "pcmctl %s: unterminated message", argv[1]);
	}
	if (rc == EXIT_USAGE)
		FUZZ_CHECK(strstr(err.p, "Try 'pcmctl "),
			   "pcmctl %s: usage error without help", argv[1]);
	if (rc == EXIT_OP && strcmp(argv[1], "check"))
		FUZZ_CHECK(err.n, "pcmctl %s: failed without a message", argv[1]);
	return rc;
}

struct input {
	const char *cmd;
	size_t cmd_len;
	const char *file[NR_FILES];
	size_t len[NR_FILES];
	unsigned int nr;
};

static void fz_split(const u8 *data, size_t size, struct input *in)
{
	const char *s = (const char *)data, *end = s + size, *nl, *sep;

	memset(in, 0, sizeof(*in));
	nl = memchr(s, '\n', size);
	in->cmd = s;
	in->cmd_len = nl ? (size_t)(nl - s) : size;
	if (!nl)
		return;
	s = nl + 1;
	while (in->nr < NR_FILES) {
		sep = memmem(s, end - s, SEP, strlen(SEP));
		in->file[in->nr] = s;
		in->len[in->nr++] = sep ? (size_t)(sep - s) : (size_t)(end - s);
		if (!sep)
			break;
		s = sep + strlen(SEP);
	}
}

static bool fz_is(const struct input *in, const char *cmd)
{
	return in->cmd_len == strlen(cmd) && !memcmp(in->cmd, cmd, in->cmd_len);
}

static char *fz_in(unsigned int i)
{
	static char paths[NR_FILES][PATH_MAX];

	fz_path(paths[i], in_files[i]);
	return paths[i];
}

static void fz_parse(const struct input *in)
{
	static char *argv[2 + 64 + 1];
	struct pcm_fs want, got;
	const char *s = in->file[0];
	char *copy, *joined;
	size_t n = in->len[0], i, len = 0;
	int argc = 2, ret;
	bool json = false, dashdash = false, other_opt = false;

	copy = malloc(n + 1);
	joined = malloc(n + 2);
	FUZZ_CHECK(copy && joined);
	memcpy(copy, s, n);
	copy[n] = '\0';
	argv[0] = "pcmctl";
	argv[1] = "parse";
	for (i = 0; i <= n && argc < 2 + 64; i += strlen(copy + i) + 1) {
		argv[argc++] = copy + i;
		/*
		 * As getopt_long: --json anywhere before the first "--" is
		 * pcmctl's flag, not a list word, and that "--" ends the
		 * options.  Any other option before it (-h, --he, -jh, ...)
		 * is getopt_long's to read: then only the exit status and
		 * the messages are checked.
		 */
		if (!dashdash && !strcmp(copy + i, "--json"))
			json = true;
		else if (!dashdash && !strcmp(copy + i, "--"))
			dashdash = true;
		else if (!dashdash && copy[i] == '-' && copy[i + 1])
			other_opt = true;
		else
			len += sprintf(joined + len, "%s ", copy + i);
	}
	argv[argc] = NULL;
	ret = fz_run(argc, argv);
	if (other_opt) {
		/* checked by fz_run() */
	} else if (!ret && json) {
		fz_json(&out);
	} else if (!ret) {
		FUZZ_CHECK(!pcm_fs_parse(joined, len, &want, NULL, NULL));
		n = strcspn(out.p, "\n");
		fz_list(out.p, n, &got);
		FUZZ_CHECK(pcm_fs_equal(&want, &got), "parse printed another set");
	}
	free(copy);
	free(joined);
}

/* check: one verdict line; exit 0 exactly when the move is allowed. */
static void fz_check_verdict(int rc)
{
	bool refused = !strncmp(out.p, "incompatible: ", 14);

	if (rc == EXIT_USAGE || err.n)
		return;
	FUZZ_CHECK(!strncmp(out.p, "identical\n", 10) || !strncmp(out.p, "compatible (", 12) ||
		   refused, "check printed: %s", out.p);
	FUZZ_CHECK(rc == (refused ? EXIT_OP : 0), "exit %d for %s", rc, out.p);
	FUZZ_CHECK(strchr(out.p, '\n') == out.p + out.n - 1, "not one line: %s", out.p);
}

static void fz_baseline(const struct input *in, bool explain, bool json)
{
	char *argv[4 + NR_FILES + 1];
	struct pcm_fs pool, hw, no;
	const char *v;
	size_t len;
	unsigned int i;
	int argc = 0, rc;

	argv[argc++] = "pcmctl";
	argv[argc++] = "baseline";
	if (explain)
		argv[argc++] = "--explain";
	if (json)
		argv[argc++] = "--json";
	for (i = 0; i < in->nr; i++)
		argv[argc++] = fz_in(i);
	argv[argc] = NULL;
	rc = fz_run(argc, argv);
	if (rc)
		return;
	if (json) {
		fz_json(&out);
		return;
	}
	v = fz_line(&out, "baseline: ", &len);
	FUZZ_CHECK(v, "no baseline line:\n%s", out.p);
	fz_list(v, len, &pool);
	/*
	 * The pool: HW and NO features only (the list apply installs), closed
	 * but for what KVM provides on any host (arch_capabilities, which its
	 * MSR's bits need).
	 */
	pcm_fs_of_class(&hw, PCM_CLASS_HW);
	pcm_fs_of_class(&no, PCM_CLASS_NO);
	pcm_fs_or(&hw, &hw, &no);
	FUZZ_CHECK(pcm_fs_subset(&pool, &hw), "pool '%.*s'", (int)len, v);
	pcm_fs_of_class(&no, PCM_CLASS_KVM);
	pcm_fs_or(&pool, &pool, &no);
	FUZZ_CHECK(fuzz_closed(&pool), "pool '%.*s' not closed", (int)len, v);
}

static void fz_sysfs(void)
{
	static char *const cmds[][4] = {
		{ "pcmctl", "vms", NULL },
		{ "pcmctl", "vms", "--json", NULL },
		{ "pcmctl", "show", "1-1", NULL },
		{ "pcmctl", "show", "1-1", "--json" },
		{ "pcmctl", "vm", NULL },
		{ "pcmctl", "vm", "1-1", NULL },
		{ "pcmctl", "identity", "1-1", NULL },
		{ "pcmctl", "save-identity", "1-1", NULL },
	};
	size_t i;
	int argc, rc;

	for (i = 0; i < FUZZ_ARRAY_SIZE(cmds); i++) {
		for (argc = 0; argc < 4 && cmds[i][argc]; argc++)
			;
		rc = fz_run(argc, (char **)cmds[i]);
		if (!rc && argc > 2 && !strcmp(cmds[i][argc - 1], "--json"))
			fz_json(&out);
	}
}

static void fz_apply(bool force)
{
	char *argv[] = { "pcmctl", "apply", fz_in(0), "--force", NULL };
	struct pcm_fs printed, written;
	char path[PATH_MAX];
	struct kv_text t;
	const char *v;
	size_t len;

	if (fz_run(force ? 4 : 3, argv))
		return;
	v = fz_line(&out, "baseline: ", &len);
	FUZZ_CHECK(v, "apply printed: %s", out.p);
	fz_list(v, len, &printed);
	fz_path(path, "sys/baseline");
	FUZZ_CHECK(!kv_slurp(path, "baseline", &t));
	FUZZ_CHECK(t.len && t.buf[t.len - 1] == '\n', "written baseline '%s'", t.buf);
	fz_list(t.buf, t.len - 1, &written);
	FUZZ_CHECK(pcm_fs_equal(&printed, &written), "apply printed another list than it wrote");
	kv_text_free(&t);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct input in;
	unsigned int i;
	int rc;

	fz_split(data, size, &in);
	fz_cleanup();
	if (fz_is(&in, "sysfs")) {
		for (i = 0; i < in.nr; i++)
			fz_write(vm_names[i], in.file[i], in.len[i]);
		fz_sysfs();
		return 0;
	}
	for (i = 0; i < in.nr; i++)
		fz_write(in_files[i], in.file[i], in.len[i]);

	if (fz_is(&in, "parse") && in.nr) {
		fz_parse(&in);
	} else if (fz_is(&in, "decode") && in.nr) {
		char *argv[] = { "pcmctl", "decode", "--from-cpuid", fz_in(0), NULL };
		const char *v;
		struct pcm_fs fs;
		size_t len;

		if (!fz_run(4, argv)) {
			v = fz_line(&out, "features: ", &len);
			FUZZ_CHECK(v);
			if (len != 6 || strncmp(v, "(none)", 6))
				fz_list(v, len, &fs);
		}
	} else if ((fz_is(&in, "host") || fz_is(&in, "host-json")) && in.nr) {
		char *argv[] = { "pcmctl", "host", "--from-cpuid", fz_in(0), "--json", NULL };
		bool json = in.cmd_len > 4;

		if (!fz_run(json ? 5 : 4, argv) && json)
			fz_json(&out);
	} else if (fz_is(&in, "baseline") && in.nr) {
		fz_baseline(&in, false, false);
	} else if (fz_is(&in, "baseline-explain") && in.nr) {
		fz_baseline(&in, true, false);
	} else if (fz_is(&in, "baseline-json") && in.nr) {
		fz_baseline(&in, true, true);
	} else if (fz_is(&in, "check") && in.nr >= 2) {
		static char arg[4096];
		char *argv[] = { "pcmctl", "check", fz_in(0), "--host", fz_in(1),
				 "--baseline", arg, NULL };

		/* A command-line argument holds no NUL. */
		snprintf(arg, sizeof(arg), "%.*s", (int)in.len[2], in.nr > 2 ? in.file[2] : "");
		rc = fz_run(in.nr > 2 ? 7 : 5, argv);
		fz_check_verdict(rc);
	} else if (fz_is(&in, "check-sysfs") && in.nr >= 2) {
		char *argv[] = { "pcmctl", "check", fz_in(0), "--host", fz_in(1), NULL };

		if (in.nr > 2)
			fz_write(sys_files[0], in.file[2], in.len[2]);
		rc = fz_run(5, argv);
		fz_check_verdict(rc);
	} else if (fz_is(&in, "apply") && in.nr) {
		fz_write(sys_files[0], "", 0);
		if (in.nr > 1)
			fz_write(sys_files[1], in.file[1], in.len[1]);
		fz_apply(in.nr > 2);
	}
	return 0;
}
