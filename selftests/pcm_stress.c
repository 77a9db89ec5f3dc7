// SPDX-License-Identifier: GPL-2.0
/*
 * pcm_stress - concurrency and lifetime stress test of pcm_kvm.
 *
 * Runs as root in a kernel with /dev/kvm, for a bounded time (--seconds) and
 * number of VMs (--max-vms).  Threads:
 *
 *   creator   create VMs (with or without the module), set their CPUID, run
 *             a vCPU that executes CPUID in a loop, sometimes add a second
 *             vCPU after the run, destroy them in varying order (VM fd
 *             first: the VM lives on without fd, its name is reused)
 *   writer    write VM modes through sysfs and the ioctl, valid and not
 *   ioctl     every /dev/pcm_kvm ioctl with valid and invalid arguments
 *   reader    read every file under /sys/kernel/pcm_kvm and the parameters
 *   killer    start a VMM process (this program, --child-vm) and SIGKILL it
 *             before or while its guest runs
 *   unloader  rmmod (refused while a VM holds the module), insmod with
 *             another default_mode, default_mode writes; now and then it
 *             parks the threads that hold the module so that it must unload
 *   churner   during those unloads and the reload after them, create and
 *             close bare VMs, so that KVM_CREATE_VM races both
 *   kmsg      watch the kernel log for BUG/WARNING/Oops/... lines
 *
 * Every result is checked against what the README promises, so the test
 * fails on a wrong answer, not only on a crash:
 *
 * - The unloader holds mod_lock for writing around each (un)load and
 *   default_mode change; most creators hold it for reading around
 *   KVM_CREATE_VM, so they know whether their VM is managed and its mode.
 *   The others ("wild") race with the (un)load and learn the answer from
 *   PCM_KVM_GET_VM_MODE: a managed VM pins the module, so the answer stays.
 * - A VM's slot lock orders mode writes against the creator's first
 *   KVM_RUN: before the run a write must succeed, after it the write must
 *   fail with EBUSY, during it either (never success after EBUSY).  The mode the VM
 *   ends up with is then known exactly, and so is what its guest sees:
 *   closure(requested & allow(M)) & closure(requested & allow(S)), with S
 *   the mode at KVM_SET_CPUID2 and M the mode at the first KVM_RUN.
 * - A VM created without the module sees KVM's table unchanged.
 * - After the drained unload, no VM and no open /dev/pcm_kvm exist: rmmod
 *   must then succeed (a module reference leak fails it).
 * - At the end: no vms/ entry, the probes' nmissed 0 (also before each
 *   unload), and no kernel complaint in /dev/kmsg since the start.
 *
 * Output is TAP with a kselftest "# Totals:" line.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "pcm_util.h"
#include "vm.h"

#define NR_NAMED_MODES		(PCM_KVM_MODE_X86_64_V4 + 1)	/* off..v4 */
#define MAX_THREADS		16
#define MAX_PRINTED_FAILS	40
#define VMDIR_TIMEOUT_MS	10000
#define UNLOAD_TIMEOUT_MS	10000
#define PARK_TIMEOUT_MS		120000
#define PCM_SYSFS_PROBES	PCM_KVM_SYSFS "/probes"
#define PCM_MODULE_SYSFS	"/sys/module/pcm_kvm"

/* Options */
static int opt_seconds = 60;
static int opt_max_vms = 100000;
static int opt_creators = 3;
static int opt_readers = 2;
static int opt_writers = 1;
static int opt_ioctlers = 1;
static int opt_killers = 1;
static bool opt_churn = true;
static int opt_loops = 50;
static int opt_drain_every = 8;
static unsigned long opt_seed;
static const char *opt_module;

static atomic_int stop;
static long t_start, t_end;
static atomic_int nfail;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread char thread_name[24] = "main";
static __thread uint64_t rng;

/* What every VM is given and what the model makes of it. */
static struct kvm_cpuid2 *table;
static struct pcm_fs table_fs, cmp_mask, host_fs;
static struct guest_cpuid table_req[MB_MAX_ENTRIES];
static unsigned int table_nreq;

static struct {
	atomic_ulong vms, vms_managed, vms_unmanaged, vms_wild, vms_ran,
		     vms_ran_managed, vms_ran_unmanaged, vms_norun, hotplug, second_vcpus,
		     cpuid, guest_runs, fd_first, zombie_runs, churned, kills,
		     kills_running, kills_checked, churn_checked,
		     mode_ok, mode_busy, mode_inval, mode_unmanaged,
		     default_writes, ioctl_ok, ioctl_err,
		     reads, read_gone, reads_vm,
		     unload_try, unload_refused, unload_racing_ok,
		     unload_drained_ok, unload_churn_ok, reloads, kmsg_lines, kmsg_lost;
} st;

#define INC(x) atomic_fetch_add(&st.x, 1)
#define ADD(x, n) atomic_fetch_add(&st.x, (n))
#define GET(x) atomic_load(&st.x)

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static bool stopping(void)
{
	return atomic_load(&stop) || now_ms() >= t_end;
}

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng >> 32;
}

/* Each thread its own sequence, derived from --seed. */
static void seed_thread(unsigned int idx)
{
	rng = (opt_seed + 1) * 0x9e3779b97f4a7c15ull + idx * 0xbf58476d1ce4e5b9ull;
	if (!rng)
		rng = 1;
}

static uint32_t rnd_below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void note(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	printf("# [%s] ", thread_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	pthread_mutex_unlock(&out_lock);
}

#define FAIL(fmt, ...) fail_at(__LINE__, fmt, ##__VA_ARGS__)

static void __printf(2, 3) fail_at(int line, const char *fmt, ...)
{
	int n = atomic_fetch_add(&nfail, 1);
	va_list ap;

	if (n >= MAX_PRINTED_FAILS)
		return;
	pthread_mutex_lock(&out_lock);
	printf("# FAIL [%s] line %d, %.1f s: ", thread_name, line,
	       (now_ms() - t_start) / 1000.0);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (n == MAX_PRINTED_FAILS - 1)
		printf("# (further failures are counted, not printed)\n");
	pthread_mutex_unlock(&out_lock);
}

/* errno values that mean "the module is not there (any more)". */
static bool gone_errno(int e)
{
	return e == ENOENT || e == ENODEV || e == ENXIO;
}

static const char *mode_name(int mode)
{
	return mode >= 0 && mode < PCM_KVM_NR_MODES ? pcm_mode_name(mode) : "?";
}

/* Thread-safe fs_diff(): the number of bits of mask where got != exp. */
static int fs_report(const char *what, const struct pcm_fs *got,
		     const struct pcm_fs *exp)
{
	char buf[PCM_FS_TEXT_MAX];
	struct pcm_fs extra, missing;
	int n;

	pcm_fs_andnot(&extra, got, exp);
	pcm_fs_and(&extra, &extra, &cmp_mask);
	pcm_fs_andnot(&missing, exp, got);
	pcm_fs_and(&missing, &missing, &cmp_mask);
	n = pcm_fs_count(&extra) + pcm_fs_count(&missing);
	if (!pcm_fs_empty(&extra)) {
		pcm_fs_format(&extra, buf, sizeof(buf));
		FAIL("%s: present but not expected: %s", what, buf);
	}
	if (!pcm_fs_empty(&missing)) {
		pcm_fs_format(&missing, buf, sizeof(buf));
		FAIL("%s: expected but absent: %s", what, buf);
	}
	return n;
}

/* closure(table & allow(mode)), the model's guest view for that mode. */
static void expected_view(unsigned int mode, struct pcm_fs *exp)
{
	fs_expected(mode, NULL, &table_fs, exp);
}

/* ---------------------------------------------------------------------- */
/* Module state, /dev/pcm_kvm                                              */

static pthread_rwlock_t mod_lock;
static struct {
	bool loaded;
	unsigned int default_mode;
	bool baseline_unset;
} mod;			/* written under mod_lock held for writing */

/* Fresh /dev/pcm_kvm fd (it pins the module), or -errno. */
static int pcm_open(void)
{
	int fd = open(PCM_KVM_DEVICE, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	if (ioctl(fd, cmd, arg)) {
		INC(ioctl_err);
		return -errno;
	}
	INC(ioctl_ok);
	return 0;
}

static int ioc_set_mode(int pfd, int vm_fd, unsigned int mode)
{
	struct pcm_kvm_vm_mode m = { .size = sizeof(m), .vm_fd = vm_fd, .mode = mode };

	return xioctl(pfd, PCM_KVM_SET_VM_MODE, &m);
}

static int ioc_get_mode(int pfd, int vm_fd)
{
	struct pcm_kvm_vm_mode m = { .size = sizeof(m), .vm_fd = vm_fd, .mode = ~0u };
	int r = xioctl(pfd, PCM_KVM_GET_VM_MODE, &m);

	return r ? r : (int)m.mode;
}

static int ioc_features(int pfd, int vm_fd, struct pcm_kvm_vm_features *f)
{
	memset(f, 0, sizeof(*f));
	f->size = sizeof(*f);
	f->vm_fd = vm_fd;
	return xioctl(pfd, PCM_KVM_GET_VM_FEATURES, f);
}

static int ioc_identity(int pfd, int vm_fd, struct pcm_kvm_vm_identity *a)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->vm_fd = vm_fd;
	return xioctl(pfd, PCM_KVM_GET_VM_IDENTITY, a);
}

static int delete_module(void)
{
	return syscall(SYS_delete_module, "pcm_kvm", O_NONBLOCK) ? -errno : 0;
}

static int load_module(unsigned int mode)
{
	char params[64] = "";
	int fd, r;

	if (mode != PCM_KVM_MODE_OFF)
		snprintf(params, sizeof(params), "default_mode=%s", pcm_mode_name(mode));
	fd = open(opt_module, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return r;
}

static bool module_loaded(void)
{
	return access(PCM_MODULE_SYSFS "/initstate", F_OK) == 0;
}

/*
 * Check /sys/kernel/pcm_kvm/probes: every line "SYMBOL kind=K nmissed=N
 * armed=A" with N == 0.  Returns the number of lines, 0 if the file does
 * not exist (older module), -1 after reporting a failure.
 */
static int check_probes(const char *when)
{
	char buf[4096], sym[64], kind[16];
	unsigned long missed;
	int armed, lines = 0, bad = 0;
	char *line, *save;
	ssize_t n;

	n = sysfs_read(PCM_SYSFS_PROBES, buf, sizeof(buf));
	if (n == -ENOENT)
		return 0;
	if (n < 0) {
		FAIL("%s: read %s: %s", when, PCM_SYSFS_PROBES, strerror(-n));
		return -1;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lines++;
		if (sscanf(line, "%63s kind=%15s nmissed=%lu armed=%d", sym, kind,
			   &missed, &armed) != 4 ||
		    (strcmp(kind, "kprobe") && strcmp(kind, "kretprobe")) ||
		    (armed != 0 && armed != 1)) {
			FAIL("%s: %s: malformed line '%s'", when, PCM_SYSFS_PROBES, line);
			bad++;
		} else if (missed) {
			FAIL("%s: probe %s (%s) missed %lu hits", when, sym, kind, missed);
			bad++;
		}
	}
	if (!lines) {
		FAIL("%s: %s is empty", when, PCM_SYSFS_PROBES);
		return -1;
	}
	return bad ? -1 : lines;
}

/* ---------------------------------------------------------------------- */
/* Drain: park the threads that hold module references                     */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool requested;
	int parked, exited, participants;
} drain = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void park_if_draining(void)
{
	pthread_mutex_lock(&drain.lock);
	if (drain.requested) {
		drain.parked++;
		pthread_cond_broadcast(&drain.cond);
		while (drain.requested && !atomic_load(&stop))
			pthread_cond_wait(&drain.cond, &drain.lock);
		drain.parked--;
	}
	pthread_mutex_unlock(&drain.lock);
}

static void participant_exit(void)
{
	pthread_mutex_lock(&drain.lock);
	drain.exited++;
	pthread_cond_broadcast(&drain.cond);
	pthread_mutex_unlock(&drain.lock);
}

/* Ask every participant to park; true once they all have (or exited). */
static bool drain_begin(void)
{
	long end = now_ms() + PARK_TIMEOUT_MS;
	struct timespec ts;
	bool ok;

	pthread_mutex_lock(&drain.lock);
	drain.requested = true;
	while (drain.parked + drain.exited < drain.participants && now_ms() < end) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&drain.cond, &drain.lock, &ts);
	}
	ok = drain.parked + drain.exited >= drain.participants;
	pthread_mutex_unlock(&drain.lock);
	return ok;
}

static void drain_end(void)
{
	pthread_mutex_lock(&drain.lock);
	drain.requested = false;
	pthread_cond_broadcast(&drain.cond);
	pthread_mutex_unlock(&drain.lock);
}

static bool draining(void)
{
	bool r;

	pthread_mutex_lock(&drain.lock);
	r = drain.requested;
	pthread_mutex_unlock(&drain.lock);
	return r;
}

/* ---------------------------------------------------------------------- */
/* Slots: the VMs of the creators, shared with the writers and ioctlers    */

enum slot_state { SLOT_FREE, SLOT_READY, SLOT_RUNNING, SLOT_RAN };

struct slot {
	pthread_mutex_t lock;
	enum slot_state state;
	bool managed;
	bool norun;		/* the creator never runs this VM */
	int vm_fd, vcpu_fd;
	char name[32];		/* <pid>-<fd> under vms/, managed VMs only */
	unsigned int set_mode;	/* the mode at KVM_SET_CPUID2 */
	int set_mode1;		/* the mode at vCPU 1's, or -1: one vCPU */
	int last_ok;		/* mode of the last accepted write, or -1 */
	bool busy_seen;		/* a write was refused with EBUSY */
};

static struct slot slots[MAX_THREADS];

static unsigned int slot_mode(const struct slot *sl)
{
	return sl->last_ok >= 0 ? (unsigned int)sl->last_ok : sl->set_mode;
}

static void expected_view(unsigned int mode, struct pcm_fs *exp);

/*
 * What the VM reports (visible): its widest vCPU, each vCPU seeing what it
 * was given at KVM_SET_CPUID2 within the VM's current mode.
 */
static void slot_view(const struct slot *sl, struct pcm_fs *exp)
{
	struct pcm_fs set;

	expected_view(slot_mode(sl), exp);
	expected_view(sl->set_mode, &set);
	if (sl->set_mode1 >= 0) {
		struct pcm_fs set1;

		expected_view(sl->set_mode1, &set1);
		pcm_fs_or(&set, &set, &set1);
	}
	pcm_fs_and(exp, exp, &set);
}

/*
 * The answer r to a valid mode write must match the slot's state (see the
 * top comment); caller holds sl->lock and the VM is managed.
 */
static void mode_write_result(struct slot *sl, unsigned int mode, int r, const char *how)
{
	switch (sl->state) {
	case SLOT_READY:
		if (r)
			FAIL("%s %s on VM %s before it ran: %s (must succeed)", how,
			     pcm_mode_name(mode), sl->name, strerror(-r));
		break;
	case SLOT_RUNNING:
		if (r && r != -EBUSY)
			FAIL("%s %s on VM %s while it starts: %s (0 or EBUSY)", how,
			     pcm_mode_name(mode), sl->name, strerror(-r));
		else if (!r && sl->busy_seen)
			FAIL("%s %s on VM %s accepted after an EBUSY", how,
			     pcm_mode_name(mode), sl->name);
		break;
	case SLOT_RAN:
		if (r != -EBUSY)
			FAIL("%s %s on VM %s after it ran: %s (must be EBUSY)", how,
			     pcm_mode_name(mode), sl->name, r ? strerror(-r) : "accepted");
		break;
	default:
		break;
	}
	if (!r) {
		sl->last_ok = mode;
		INC(mode_ok);
	} else if (r == -EBUSY) {
		sl->busy_seen = true;
		INC(mode_busy);
	}
}

/* One mode write on a published slot, valid or not, checked; under sl->lock. */
static void slot_mode_write(struct slot *sl, int pfd)
{
	bool sysfs = sl->managed && rnd_below(2);
	bool own_fd = pfd < 0;
	char path[128];
	unsigned int mode;
	int kind = rnd_below(10), r;

	if (own_fd) {
		pfd = pcm_open();
		if (pfd < 0) {
			/* Only a VM created without the module lets it go. */
			if (sl->managed || !gone_errno(-pfd))
				FAIL("open %s with VM %s alive: %s", PCM_KVM_DEVICE,
				     sl->name, strerror(-pfd));
			return;
		}
	}
	snprintf(path, sizeof(path), "%s/%s/mode", PCM_SYSFS_VMS, sl->name);
	if (!sl->managed) {
		mode = rnd_below(NR_NAMED_MODES);
		r = ioc_set_mode(pfd, sl->vm_fd, mode);
		if (r != -EINVAL)
			FAIL("SET_VM_MODE on a VM pcm_kvm does not manage: %s (must be EINVAL)",
			     r ? strerror(-r) : "accepted");
		INC(mode_unmanaged);
	} else if (kind == 0) {
		/* Invalid: unknown name or number; nothing may change. */
		r = sysfs ? sysfs_write_str(path, "x86-64-v9\n")
			  : ioc_set_mode(pfd, sl->vm_fd, PCM_KVM_NR_MODES + rnd_below(100));
		if (r != -EINVAL)
			FAIL("%s an unknown mode on VM %s: %s (must be EINVAL)",
			     sysfs ? "write" : "SET_VM_MODE", sl->name,
			     r ? strerror(-r) : "accepted");
		INC(mode_inval);
	} else if (kind == 1 && mod.baseline_unset) {
		/* baseline without a baseline: refused whatever the state. */
		r = sysfs ? sysfs_write_str(path, "baseline\n")
			  : ioc_set_mode(pfd, sl->vm_fd, PCM_KVM_MODE_BASELINE);
		if (r != -EINVAL)
			FAIL("mode baseline (none written) on VM %s: %s (must be EINVAL)",
			     sl->name, r ? strerror(-r) : "accepted");
		INC(mode_inval);
	} else {
		mode = rnd_below(NR_NAMED_MODES);
		if (sysfs) {
			char text[32];

			snprintf(text, sizeof(text), "%s\n", pcm_mode_name(mode));
			r = sysfs_write_str(path, text);
		} else {
			r = ioc_set_mode(pfd, sl->vm_fd, mode);
		}
		mode_write_result(sl, mode, r, sysfs ? "sysfs write" : "SET_VM_MODE");
	}
	if (own_fd && pfd >= 0)
		close(pfd);
}

/* ---------------------------------------------------------------------- */
/* Creators                                                                */

struct guest_view {
	struct guest_cpuid req[MB_MAX_ENTRIES];
	struct pcm_fs fs;
};

static int run_view(struct vm *vm, struct guest_view *gv)
{
	int r;

	memcpy(gv->req, table_req, sizeof(gv->req));
	r = guest_cpuid(vm, gv->req, table_nreq);
	INC(guest_runs);
	if (!r) {
		ADD(cpuid, table_nreq);
		fs_from_guest(gv->req, table_nreq, &gv->fs);
	}
	return r;
}

/*
 * A VM whose fd was closed first lives on through its vCPU; a creator keeps
 * one such VM until after its next KVM_CREATE_VM, which usually gets the same
 * fd number: the older directory is then renamed <pid>-<fd>-<serial>.
 */
struct zombie {
	struct vm vm;
	bool live;
	bool ran;
	struct guest_cpuid ref[MB_MAX_ENTRIES];
};

static void zombie_end(struct zombie *z)
{
	uint32_t mism;
	int r;

	if (!z->live)
		return;
	/* Its guest still runs, and still sees what it saw. */
	if (z->ran && rnd_below(2)) {
		r = guest_cpuid_loop(&z->vm, z->ref, table_nreq, opt_loops, &mism);
		INC(zombie_runs);
		if (r)
			FAIL("guest CPUID loop of a VM without fd: %s", strerror(-r));
		else if (mism)
			FAIL("guest of a VM without fd: %u CPUID results changed", mism);
		else
			ADD(cpuid, (unsigned long)opt_loops * table_nreq);
	}
	vm_destroy(&z->vm);
	z->live = false;
}

/* gv: what its guest saw, if it ran. */
static void destroy(struct vm *vm, struct zombie *z, const struct guest_view *gv)
{
	if (rnd_below(3) == 0) {
		INC(fd_first);
		vm_close_vm_fd(vm);
		if (!z->live && vm->vcpu_fd >= 0) {
			z->vm = *vm;
			z->live = true;
			z->ran = gv;
			if (gv)
				memcpy(z->ref, gv->req, sizeof(z->ref));
			return;
		}
		if (rnd_below(2))
			sleep_ms(rnd_below(5));
	}
	vm_destroy(vm);
}

/*
 * Wait for vms/<name> to be this VM's directory: an older VM's directory of
 * the same name may linger a moment (it is removed from a workqueue), so
 * change the mode twice and watch sysfs follow.
 */
static bool identify_dir(struct slot *sl, int pfd)
{
	static const unsigned int probe_modes[2] = {
		PCM_KVM_MODE_MIN, PCM_KVM_MODE_X86_64_V4
	};
	long end = now_ms() + VMDIR_TIMEOUT_MS;
	char path[128];
	int i, r;

	snprintf(path, sizeof(path), "%s/%s/mode", PCM_SYSFS_VMS, sl->name);
	if (!wait_path(path, true, VMDIR_TIMEOUT_MS)) {
		FAIL("vms/%s did not appear within %d ms", sl->name, VMDIR_TIMEOUT_MS);
		return false;
	}
	do {
		for (i = 0; i < 2; i++) {
			r = ioc_set_mode(pfd, sl->vm_fd, probe_modes[i]);
			if (r) {
				FAIL("SET_VM_MODE %s on a new VM: %s",
				     pcm_mode_name(probe_modes[i]), strerror(-r));
				return false;
			}
			r = sysfs_read_mode(path);
			if (r != (int)probe_modes[i])
				break;
		}
		if (i == 2)
			return true;
		sleep_ms(5);
	} while (now_ms() < end);
	FAIL("vms/%s did not show the VM within %d ms (%s)", sl->name,
	     VMDIR_TIMEOUT_MS, r < 0 ? strerror(-r) : "another VM's mode");
	return false;
}

/* GET_VM_FEATURES agrees with the model (exp) and the slot's state. */
static void check_features(struct slot *sl, int pfd, const struct pcm_fs *exp,
			   enum slot_state phase, const char *when)
{
	bool masked = sl->set_mode != PCM_KVM_MODE_OFF && sl->set_mode1 != PCM_KVM_MODE_OFF;
	struct pcm_kvm_vm_features f;
	struct pcm_fs hidden, cpuid_req;
	char what[96];
	int r;

	r = ioc_features(pfd, sl->vm_fd, &f);
	if (r) {
		FAIL("GET_VM_FEATURES of VM %s %s: %s", sl->name, when, strerror(-r));
		return;
	}
	if (!(f.flags & PCM_KVM_VM_CPUID_SET) ||
	    !!(f.flags & PCM_KVM_VM_STORED_MASKED) != masked ||
	    (phase == SLOT_RAN && !(f.flags & PCM_KVM_VM_RAN)) ||
	    (phase == SLOT_READY && (f.flags & PCM_KVM_VM_RAN)))
		FAIL("VM %s %s: flags 0x%x (set in %s, %s)", sl->name, when, f.flags,
		     pcm_mode_name(sl->set_mode),
		     phase == SLOT_RAN ? "ran" : phase == SLOT_READY ? "not run" : "starting");
	if (f.mode != slot_mode(sl))
		FAIL("GET_VM_FEATURES of VM %s %s: mode %s, expected %s", sl->name,
		     when, mode_name(f.mode), pcm_mode_name(slot_mode(sl)));
	/* The CPUID words; its MSR is KVM's default, which msr.* cover. */
	cpuid_req = f.requested;
	pcm_fs_set_arch_cap(&cpuid_req, 0);
	if (!pcm_fs_equal(&cpuid_req, &table_fs))
		FAIL("VM %s %s: requested is not the VMM's table", sl->name, when);
	snprintf(what, sizeof(what), "VM %s %s: GET_VM_FEATURES visible (%s, set in %s)",
		 sl->name, when, mode_name(f.mode), pcm_mode_name(sl->set_mode));
	fs_report(what, &f.visible, exp);
	pcm_fs_andnot(&hidden, &f.requested, &f.visible);
	if (!pcm_fs_equal(&hidden, &f.hidden))
		FAIL("VM %s %s: hidden is not requested minus visible", sl->name, when);
}

struct birth {
	bool locked;		/* created under mod_lock: state below is exact */
	bool loaded;
	unsigned int default_mode;
};

/* One VM, from KVM_CREATE_VM to close. */
static void creator_one(struct slot *sl, struct zombie *z)
{
	struct guest_view gv, gv2;
	struct pcm_fs exp, exp_set, exp_vm;
	struct birth b = { .locked = rnd_below(4) != 0 };
	struct vm vm, vm1, cpu1 = { .vcpu_fd = -1 };
	bool ran_ok = false;
	uint32_t mism;
	int pfd = -1, r, i, runs, m;
	char what[128];

	if (b.locked) {
		pthread_rwlock_rdlock(&mod_lock);
		b.loaded = mod.loaded;
		b.default_mode = mod.default_mode;
		r = vm_create(&vm);
		pthread_rwlock_unlock(&mod_lock);
	} else {
		r = vm_create(&vm);
		INC(vms_wild);
	}
	if (r) {
		FAIL("vm_create: %s", strerror(-r));
		sleep_ms(100);
		return;
	}
	INC(vms);
	if (rnd_below(2))
		zombie_end(z);

	/* Managed or not, and in which mode (the slot is not published yet). */
	sl->last_ok = -1;
	sl->busy_seen = false;
	sl->vm_fd = vm.vm_fd;
	sl->vcpu_fd = -1;
	sl->managed = false;
	sl->set_mode = PCM_KVM_MODE_OFF;
	sl->set_mode1 = -1;
	snprintf(sl->name, sizeof(sl->name), "%d-%d", (int)getpid(), vm.vm_fd);
	pfd = pcm_open();
	if (pfd >= 0) {
		m = ioc_get_mode(pfd, vm.vm_fd);
		if (m >= 0) {
			sl->managed = true;
			sl->set_mode = m;
		} else if (m != -EINVAL) {
			FAIL("GET_VM_MODE of a new VM: %s", strerror(-m));
		}
	} else if (!gone_errno(-pfd)) {
		FAIL("open %s: %s", PCM_KVM_DEVICE, strerror(-pfd));
	}
	if (b.locked && b.loaded) {
		if (!sl->managed)
			FAIL("VM %s created with the module loaded is not managed (%s)",
			     sl->name, pfd < 0 ? strerror(-pfd) : "GET_VM_MODE EINVAL");
		else if (sl->set_mode != b.default_mode)
			FAIL("VM %s created with default_mode %s has mode %s", sl->name,
			     pcm_mode_name(b.default_mode), mode_name(sl->set_mode));
	} else if (b.locked && sl->managed) {
		FAIL("VM %s created without the module is managed (mode %s)",
		     sl->name, mode_name(sl->set_mode));
	}
	if (sl->managed)
		INC(vms_managed);
	else
		INC(vms_unmanaged);

	if (sl->managed) {
		if (!identify_dir(sl, pfd))
			goto out;
		/* The mode at KVM_SET_CPUID2: its birth mode or another. */
		if (rnd_below(2))
			sl->set_mode = rnd_below(NR_NAMED_MODES);
		r = ioc_set_mode(pfd, vm.vm_fd, sl->set_mode);
		if (r) {
			FAIL("SET_VM_MODE %s on new VM %s: %s",
			     pcm_mode_name(sl->set_mode), sl->name, strerror(-r));
			goto out;
		}
	}
	if (pfd >= 0) {
		/* A managed VM pins the module from here on; do not. */
		close(pfd);
		pfd = -1;
	}

	r = vm_add_vcpu(&vm);
	if (r) {
		FAIL("vm_add_vcpu: %s", strerror(-r));
		goto out;
	}
	sl->vcpu_fd = vm.vcpu_fd;
	r = vcpu_set_cpuid(&vm, table);
	if (r) {
		FAIL("KVM_SET_CPUID2 on VM %s (mode %s): %s", sl->name,
		     sl->managed ? pcm_mode_name(sl->set_mode) : "unmanaged", strerror(-r));
		goto out;
	}
	expected_view(sl->set_mode, &exp_set);
	if (sl->managed) {
		pfd = pcm_open();
		if (pfd < 0) {
			FAIL("open %s with a managed VM: %s", PCM_KVM_DEVICE, strerror(-pfd));
			goto out;
		}
		check_features(sl, pfd, &exp_set, SLOT_READY, "after KVM_SET_CPUID2");
		/*
		 * As libvirt does: the mode comes after KVM_SET_CPUID2, so the
		 * CPUID exit path has to apply it.
		 */
		if (rnd_below(2)) {
			m = rnd_below(NR_NAMED_MODES);
			if (rnd_below(2)) {
				snprintf(what, sizeof(what), "%s/%s/mode", PCM_SYSFS_VMS,
					 sl->name);
				r = sysfs_write_str(what, pcm_mode_name(m));
			} else {
				r = ioc_set_mode(pfd, vm.vm_fd, m);
			}
			if (r)
				FAIL("mode %s on VM %s after KVM_SET_CPUID2: %s",
				     pcm_mode_name(m), sl->name, strerror(-r));
			else
				sl->last_ok = m;
		}
		close(pfd);
		pfd = -1;
	}

	/*
	 * A second vCPU, set in the VM's mode of now: the same mode as vCPU 0,
	 * or the one written after vCPU 0's KVM_SET_CPUID2, wider or narrower.
	 */
	if (rnd_below(3) == 0) {
		cpu1 = vm;
		cpu1.vcpu_fd = -1;
		cpu1.run = NULL;
		r = vm_add_vcpu_id(&cpu1, 1);
		if (!r)
			r = vcpu_set_cpuid(&cpu1, table);
		if (r) {
			FAIL("vCPU 1 of VM %s before the run: %s", sl->name, strerror(-r));
			goto out;
		}
		INC(second_vcpus);
		sl->set_mode1 = sl->managed ? (int)slot_mode(sl) : PCM_KVM_MODE_OFF;
		if (sl->managed) {
			pfd = pcm_open();
			if (pfd < 0) {
				FAIL("open %s with a managed VM: %s", PCM_KVM_DEVICE,
				     strerror(-pfd));
				goto out;
			}
			slot_view(sl, &exp_vm);
			check_features(sl, pfd, &exp_vm, SLOT_READY, "after vCPU 1's KVM_SET_CPUID2");
			close(pfd);
			pfd = -1;
		}
	}

	/* Publish it to the writers and ioctlers */
	pthread_mutex_lock(&sl->lock);
	sl->norun = rnd_below(5) == 0;
	sl->state = SLOT_READY;
	pthread_mutex_unlock(&sl->lock);
	sleep_ms(rnd_below(sl->norun ? 40 : 20));

	if (sl->norun) {
		INC(vms_norun);
		pthread_mutex_lock(&sl->lock);
		if (sl->managed) {
			pfd = pcm_open();
			m = pfd < 0 ? pfd : ioc_get_mode(pfd, vm.vm_fd);
			if (m != (int)slot_mode(sl))
				FAIL("VM %s (never run): mode %s, expected %s", sl->name,
				     m < 0 ? strerror(-m) : mode_name(m),
				     pcm_mode_name(slot_mode(sl)));
			if (pfd >= 0)
				close(pfd);
			pfd = -1;
		}
		sl->state = SLOT_FREE;
		pthread_mutex_unlock(&sl->lock);
		goto out;
	}

	pthread_mutex_lock(&sl->lock);
	sl->state = SLOT_RUNNING;
	pthread_mutex_unlock(&sl->lock);
	r = run_view(&vm, &gv);

	pthread_mutex_lock(&sl->lock);
	sl->state = SLOT_RAN;
	m = PCM_KVM_MODE_OFF;
	if (!r && sl->managed) {
		/* After KVM_RUN the mode is frozen: it is the last accepted one. */
		pfd = pcm_open();
		m = pfd < 0 ? pfd : ioc_get_mode(pfd, vm.vm_fd);
		if (m != (int)slot_mode(sl))
			FAIL("VM %s after its first run: mode %s, expected %s", sl->name,
			     m < 0 ? strerror(-m) : mode_name(m), pcm_mode_name(slot_mode(sl)));
		m = slot_mode(sl);
	}
	pthread_mutex_unlock(&sl->lock);
	if (r) {
		FAIL("guest CPUID run of VM %s: %s", sl->name, strerror(-r));
		goto unpublish;
	}
	INC(vms_ran);
	ran_ok = true;
	if (sl->managed) {
		INC(vms_ran_managed);
		expected_view(m, &exp);
		pcm_fs_and(&exp, &exp, &exp_set);
		snprintf(what, sizeof(what), "guest of VM %s (mode %s, set in %s)",
			 sl->name, pcm_mode_name(m), pcm_mode_name(sl->set_mode));
	} else {
		INC(vms_ran_unmanaged);
		exp = table_fs;
		snprintf(what, sizeof(what), "guest of unmanaged VM %s", sl->name);
	}
	fs_report(what, &gv.fs, &exp);
	exp_vm = exp;
	if (sl->managed)
		slot_view(sl, &exp_vm);
	if (cpu1.vcpu_fd >= 0) {
		/* vCPU 1 sees what it was given, within the mode. */
		r = run_view(&cpu1, &gv2);
		if (r) {
			FAIL("guest CPUID run of VM %s's vCPU 1: %s", sl->name, strerror(-r));
		} else {
			struct pcm_fs exp1 = table_fs;

			if (sl->managed) {
				expected_view(m, &exp1);
				expected_view(sl->set_mode1, &exp_set);
				pcm_fs_and(&exp1, &exp1, &exp_set);
			}
			snprintf(what, sizeof(what), "vCPU 1 of VM %s (mode %s, set in %s)",
				 sl->name, pcm_mode_name(m),
				 pcm_mode_name(sl->set_mode1));
			fs_report(what, &gv2.fs, &exp1);
		}
	}
	if (pfd >= 0) {
		pthread_mutex_lock(&sl->lock);
		check_features(sl, pfd, &exp_vm, SLOT_RAN, "after its run");
		pthread_mutex_unlock(&sl->lock);
		close(pfd);
		pfd = -1;
	}

	/* CPUID in a loop: what the guest sees never changes while it runs. */
	runs = 1 + rnd_below(3);
	for (i = 0; i < runs && !stopping(); i++) {
		r = guest_cpuid_loop(&vm, gv.req, table_nreq, opt_loops, &mism);
		INC(guest_runs);
		if (r) {
			FAIL("guest CPUID loop of VM %s: %s", sl->name, strerror(-r));
			break;
		}
		ADD(cpuid, (unsigned long)opt_loops * table_nreq);
		if (mism)
			FAIL("guest of VM %s: %u CPUID results changed during the loop",
			     sl->name, mism);
		if (rnd_below(2))
			sleep_ms(rnd_below(5));
	}

	/* A vCPU added after the run sees what the first one saw. */
	if (rnd_below(4) == 0) {
		vm1 = vm;
		vm1.vcpu_fd = -1;
		vm1.run = NULL;
		r = vm_add_vcpu_id(&vm1, 2);
		if (!r)
			r = vcpu_set_cpuid(&vm1, table);
		if (!r)
			r = run_view(&vm1, &gv2);
		if (r) {
			FAIL("second vCPU of VM %s: %s", sl->name, strerror(-r));
		} else {
			INC(hotplug);
			/* What the others see: the widest vCPU within the mode. */
			snprintf(what, sizeof(what), "vCPU added after the run of VM %s",
				 sl->name);
			fs_report(what, &gv2.fs, &exp_vm);
		}
		vm_close_vcpu(&vm1);
	}

unpublish:
	pthread_mutex_lock(&sl->lock);
	sl->state = SLOT_FREE;
	pthread_mutex_unlock(&sl->lock);
out:
	if (pfd >= 0)
		close(pfd);
	if (cpu1.vcpu_fd >= 0)
		vm_close_vcpu(&cpu1);
	destroy(&vm, z, ran_ok ? &gv : NULL);
}

static void *creator(void *arg)
{
	struct slot *sl = arg;
	struct zombie *z = calloc(1, sizeof(*z));

	snprintf(thread_name, sizeof(thread_name), "creator%d", (int)(sl - slots));
	seed_thread(1 + (sl - slots));
	while (!stopping() && GET(vms) < (unsigned long)opt_max_vms) {
		/* It holds the module: gone before parking. */
		if (draining())
			zombie_end(z);
		park_if_draining();
		if (stopping())
			break;
		creator_one(sl, z);
	}
	zombie_end(z);
	free(z);
	participant_exit();
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Writers: VM modes, valid and invalid                                    */

static struct slot *lock_busy_slot(void)
{
	struct slot *sl = &slots[rnd_below(opt_creators)];

	pthread_mutex_lock(&sl->lock);
	if (sl->state != SLOT_FREE)
		return sl;
	pthread_mutex_unlock(&sl->lock);
	return NULL;
}

static void *writer(void *arg)
{
	struct slot *sl;

	snprintf(thread_name, sizeof(thread_name), "writer%d", (int)(long)arg);
	seed_thread(100 + (long)arg);
	while (!stopping()) {
		park_if_draining();
		sl = lock_busy_slot();
		if (sl) {
			slot_mode_write(sl, -1);
			pthread_mutex_unlock(&sl->lock);
		}
		sleep_ms(1 + rnd_below(4));
	}
	participant_exit();
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* ioctlers: every ioctl, valid and invalid arguments                      */

static void expect_err(int r, int err, const char *what)
{
	if (r != -err)
		FAIL("%s: %s, expected %s", what, r ? strerror(-r) : "success",
		     strerror(err));
}

static void ioctl_invalid(int pfd)
{
	union {
		struct pcm_kvm_version v;
		struct pcm_kvm_host_features h;
		struct pcm_kvm_vm_mode m;
		struct pcm_kvm_vm_features f;
		struct pcm_kvm_vm_identity i;
		struct pcm_kvm_check c;
		struct pcm_kvm_vm_expect e;
	} u;

	memset(&u, 0, sizeof(u));
	switch (rnd_below(16)) {
	case 0:
		u.v.size = rnd_below(2) ? 0 : sizeof(u.v) + 4 + rnd_below(64);
		expect_err(xioctl(pfd, PCM_KVM_GET_VERSION, &u.v), EINVAL,
			   "GET_VERSION with a wrong size");
		break;
	case 1:
		u.v.size = ~0u;
		expect_err(xioctl(pfd, PCM_KVM_GET_VERSION, &u.v), EINVAL,
			   "GET_VERSION with size ~0");
		break;
	case 2:
		expect_err(xioctl(pfd, PCM_KVM_GET_VM_FEATURES, NULL), EFAULT,
			   "GET_VM_FEATURES with a NULL argument");
		break;
	case 3:
		expect_err(xioctl(pfd, PCM_KVM_CHECK_IDENTITY, (void *)8), EFAULT,
			   "CHECK_IDENTITY with a bad pointer");
		break;
	case 4:
		u.h.size = sizeof(u.h);
		u.h.flags = 1u << rnd_below(32);
		expect_err(xioctl(pfd, PCM_KVM_GET_HOST_FEATURES, &u.h), EINVAL,
			   "GET_HOST_FEATURES with flags");
		break;
	case 5:
		u.m.size = sizeof(u.m);
		u.m.vm_fd = -1;
		expect_err(xioctl(pfd, PCM_KVM_SET_VM_MODE, &u.m), EBADF,
			   "SET_VM_MODE of fd -1");
		break;
	case 6:
		u.m.size = sizeof(u.m);
		u.m.vm_fd = rnd_below(2) ? pfd : kvm_fd();
		expect_err(xioctl(pfd, PCM_KVM_GET_VM_MODE, &u.m), EINVAL,
			   "GET_VM_MODE of an fd that is no VM");
		break;
	case 7:
		u.m.size = sizeof(u.m);
		u.m.vm_fd = -1;
		u.m.mode = PCM_KVM_NR_MODES + rnd_below(1000);
		expect_err(xioctl(pfd, PCM_KVM_SET_VM_MODE, &u.m), EINVAL,
			   "SET_VM_MODE with an unknown mode");
		break;
	case 8:
		u.m.size = sizeof(u.m);
		u.m.vm_fd = 1 << 28;
		expect_err(xioctl(pfd, PCM_KVM_GET_VM_MODE, &u.m), EBADF,
			   "GET_VM_MODE of fd 1<<28");
		break;
	case 9:
		u.f.size = sizeof(u.f);
		u.f.vm_fd = -1;
		u.f.flags = 0x80;
		expect_err(xioctl(pfd, PCM_KVM_GET_VM_FEATURES, &u.f), EINVAL,
			   "GET_VM_FEATURES with flags");
		break;
	case 10:
		u.i.size = sizeof(u.i);
		u.i.vm_fd = -1;
		u.i.reserved = 1;
		expect_err(xioctl(pfd, PCM_KVM_GET_VM_IDENTITY, &u.i), EINVAL,
			   "GET_VM_IDENTITY with reserved set");
		break;
	case 11:
		u.c.size = sizeof(u.c);
		if (rnd_below(2))
			u.c.flags = 1;
		else
			u.c.id.mode = PCM_KVM_NR_MODES + rnd_below(1000);
		expect_err(xioctl(pfd, PCM_KVM_CHECK_IDENTITY, &u.c), EINVAL,
			   "CHECK_IDENTITY with flags or an unknown mode");
		break;
	case 12:
		u.e.size = sizeof(u.e);
		u.e.vm_fd = -1;
		if (rnd_below(2))
			memset(u.e.id.vendor, 'A', sizeof(u.e.id.vendor));
		else
			u.e.flags = 2;
		expect_err(xioctl(pfd, PCM_KVM_SET_VM_EXPECT, &u.e), EINVAL,
			   "SET_VM_EXPECT with an unterminated vendor or flags");
		break;
	case 13:
		expect_err(xioctl(pfd, _IO(PCM_KVM_IOC_MAGIC, 0x3f), &u), ENOTTY,
			   "an unknown ioctl");
		break;
	case 14:
		/* The right number with another size is another command. */
		u.v.size = sizeof(u.v);
		expect_err(xioctl(pfd, _IOWR(PCM_KVM_IOC_MAGIC, 0x00, __u64), &u), ENOTTY,
			   "GET_VERSION encoded with another size");
		break;
	default:
		u.m.size = sizeof(u.m) - 1 - rnd_below(sizeof(u.m) - 1);
		expect_err(xioctl(pfd, PCM_KVM_GET_VM_MODE, &u.m), EINVAL,
			   "GET_VM_MODE with a short size");
		break;
	}
}

static void ioctl_valid_global(int pfd)
{
	struct pcm_kvm_version v = { .size = sizeof(v) };
	struct pcm_kvm_host_features h = { .size = sizeof(h) };
	int r;

	if (rnd_below(2)) {
		r = xioctl(pfd, PCM_KVM_GET_VERSION, &v);
		if (r)
			FAIL("GET_VERSION: %s", strerror(-r));
		else if (v.abi_version != PCM_KVM_ABI_VERSION ||
			 v.nwords != PCM_KVM_NR_WORDS_USED || v.reserved ||
			 !v.module_version[0] ||
			 !memchr(v.module_version, 0, sizeof(v.module_version)))
			FAIL("GET_VERSION: abi %u nwords %u reserved %u", v.abi_version,
			     v.nwords, v.reserved);
	} else {
		r = xioctl(pfd, PCM_KVM_GET_HOST_FEATURES, &h);
		if (r)
			FAIL("GET_HOST_FEATURES: %s", strerror(-r));
		else if (!pcm_fs_equal(&h.features, &host_fs))
			fs_report("GET_HOST_FEATURES", &h.features, &host_fs);
	}
}

/* ioctls on a published VM; under sl->lock. */
static void ioctl_on_slot(struct slot *sl, int pfd)
{
	struct pcm_kvm_vm_features f;
	struct pcm_kvm_vm_identity a;
	struct pcm_kvm_vm_expect e;
	struct pcm_kvm_check c;
	struct pcm_fs exp;
	int r;

	if (!sl->managed) {
		r = rnd_below(2) ? ioc_get_mode(pfd, sl->vm_fd) : ioc_features(pfd, sl->vm_fd, &f);
		if (r != -EINVAL)
			FAIL("ioctl on a VM pcm_kvm does not manage: %s (must be EINVAL)",
			     r < 0 ? strerror(-r) : "success");
		return;
	}
	switch (rnd_below(6)) {
	case 0:
		r = ioc_get_mode(pfd, sl->vm_fd);
		if (r != (int)slot_mode(sl))
			FAIL("GET_VM_MODE of VM %s: %s, expected %s", sl->name,
			     r < 0 ? strerror(-r) : mode_name(r), pcm_mode_name(slot_mode(sl)));
		break;
	case 1:
		slot_view(sl, &exp);
		check_features(sl, pfd, &exp, sl->state, "(ioctl thread)");
		break;
	case 2:
		r = ioc_identity(pfd, sl->vm_fd, &a);
		if (r) {
			FAIL("GET_VM_IDENTITY of VM %s: %s", sl->name, strerror(-r));
			break;
		}
		if (a.id.mode != slot_mode(sl) || !a.id.vendor[0] ||
		    a.id.vendor[sizeof(a.id.vendor) - 1])
			FAIL("GET_VM_IDENTITY of VM %s: mode %s (expected %s), vendor '%.16s'",
			     sl->name, mode_name(a.id.mode), pcm_mode_name(slot_mode(sl)),
			     a.id.vendor);
		/* This host can take its own VM. */
		memset(&c, 0, sizeof(c));
		c.size = sizeof(c);
		c.id = a.id;
		r = xioctl(pfd, PCM_KVM_CHECK_IDENTITY, &c);
		if (r || c.result > PCM_KVM_CHECK_COMPATIBLE)
			FAIL("CHECK_IDENTITY of VM %s's own identity: %s, result %u", sl->name,
			     r ? strerror(-r) : "ok", c.result);
		/*
		 * Its own identity as expected identity: accepted before the
		 * VM runs (only VMs that never run, as a later mode change
		 * could block them), EBUSY after.
		 */
		if (r || !((sl->norun && sl->state == SLOT_READY) || sl->state == SLOT_RAN))
			break;
		memset(&e, 0, sizeof(e));
		e.size = sizeof(e);
		e.vm_fd = sl->vm_fd;
		e.id = a.id;
		r = xioctl(pfd, PCM_KVM_SET_VM_EXPECT, &e);
		if (sl->state == SLOT_RAN)
			expect_err(r, EBUSY, "SET_VM_EXPECT after the VM ran");
		else if (r)
			FAIL("SET_VM_EXPECT of VM %s's own identity: %s", sl->name,
			     strerror(-r));
		break;
	case 3:
		/* A vCPU fd is no VM fd. */
		r = ioc_get_mode(pfd, sl->vcpu_fd);
		if (r != -EINVAL)
			FAIL("GET_VM_MODE of a vCPU fd: %s (must be EINVAL)",
			     r < 0 ? strerror(-r) : "success");
		break;
	default:
		slot_mode_write(sl, pfd);
		break;
	}
}

static void *ioctler(void *arg)
{
	struct slot *sl;
	bool loaded;
	int pfd, i, n;

	snprintf(thread_name, sizeof(thread_name), "ioctl%d", (int)(long)arg);
	seed_thread(200 + (long)arg);
	while (!stopping()) {
		park_if_draining();
		pthread_rwlock_rdlock(&mod_lock);
		loaded = mod.loaded;
		pfd = pcm_open();
		pthread_rwlock_unlock(&mod_lock);
		if (pfd < 0) {
			if (loaded || !gone_errno(-pfd))
				FAIL("open %s (module %s): %s", PCM_KVM_DEVICE,
				     loaded ? "loaded" : "not loaded", strerror(-pfd));
			sleep_ms(5);
			continue;
		}
		if (!loaded)
			FAIL("%s opened while the module is not loaded", PCM_KVM_DEVICE);
		n = 10 + rnd_below(40);
		for (i = 0; i < n && !stopping(); i++) {
			switch (rnd_below(3)) {
			case 0:
				ioctl_invalid(pfd);
				break;
			case 1:
				ioctl_valid_global(pfd);
				break;
			default:
				sl = lock_busy_slot();
				if (sl) {
					ioctl_on_slot(sl, pfd);
					pthread_mutex_unlock(&sl->lock);
				}
				break;
			}
		}
		close(pfd);
		sleep_ms(rnd_below(10));
	}
	participant_exit();
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Readers: every sysfs file, while VMs come and go and the module too     */

static void read_checked(const char *path, const char *file)
{
	char buf[PCM_IDENTITY_TEXT_MAX + 64];
	struct pcm_kvm_identity id;
	const char *bad;
	size_t badlen;
	struct pcm_fs fs;
	ssize_t n;
	int r = 0;

	n = sysfs_read(path, buf, sizeof(buf));
	INC(reads);
	if (n < 0) {
		if (!gone_errno(-n))
			FAIL("read %s: %s", path, strerror(-n));
		INC(read_gone);
		return;
	}
	if (!strcmp(file, "modes")) {
		if (strcmp(buf, "off min x86-64-v2 x86-64-v3 x86-64-v4 baseline\n"))
			FAIL("%s: '%s'", path, buf);
	} else if (!strcmp(file, "mode") || !strcmp(file, "default_mode")) {
		if (pcm_mode_parse(buf, n) < 0)
			FAIL("%s: not a mode: '%s'", path, buf);
	} else if (!strcmp(file, "host_features")) {
		r = pcm_fs_parse(buf, n, &fs, &bad, &badlen);
		if (r || !pcm_fs_equal(&fs, &host_fs))
			FAIL("%s: '%.200s' is not the host's set", path, buf);
	} else if (!strcmp(file, "requested") || !strcmp(file, "visible") ||
		   !strcmp(file, "hidden") || !strcmp(file, "baseline") ||
		   !strcmp(file, "host_withhold")) {
		r = pcm_fs_parse(buf, n, &fs, &bad, &badlen);
		if (r && r != -ENODATA)
			FAIL("%s: cannot parse '%.*s'", path, (int)badlen, bad);
	} else if (!strcmp(file, "identity") || !strcmp(file, "expect")) {
		if (strcmp(file, "expect") || strcmp(buf, "\n")) {
			r = pcm_identity_parse(buf, n, &id, &bad, &badlen);
			if (r)
				FAIL("%s: cannot parse (%d) at '%.*s'", path, r,
				     (int)badlen, bad);
		}
	} else if (!strcmp(file, "status")) {
		if (strcmp(buf, "ok\n") && strncmp(buf, "blocked: ", 9))
			FAIL("%s: '%s'", path, buf);
	} else if (!strcmp(file, "probes")) {
		/* nmissed itself is checked before each unload and at the end. */
		if (!strchr(buf, '\n') || !strstr(buf, "kind="))
			FAIL("%s: '%.200s'", path, buf);
	}
}

/* Every readable regular file of dir (not recursing). */
static void read_dir(const char *dir)
{
	char path[512];
	struct dirent *d;
	struct stat s;
	DIR *dh;

	dh = opendir(dir);
	if (!dh) {
		if (!gone_errno(errno))
			FAIL("opendir %s: %s", dir, strerror(errno));
		return;
	}
	while ((d = readdir(dh))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (stat(path, &s))
			continue;	/* gone meanwhile */
		if (S_ISREG(s.st_mode) && (s.st_mode & 0444))
			read_checked(path, d->d_name);
	}
	closedir(dh);
}

static void *reader(void *arg)
{
	char path[512];
	struct dirent *d;
	char buf[256];
	int keep = -1;
	ssize_t n;
	DIR *dh;

	snprintf(thread_name, sizeof(thread_name), "reader%d", (int)(long)arg);
	seed_thread(300 + (long)arg);
	while (!stopping()) {
		read_dir(PCM_KVM_SYSFS);
		read_dir(PCM_MODULE_SYSFS "/parameters");
		read_dir(PCM_MODULE_SYSFS);
		dh = opendir(PCM_SYSFS_VMS);
		if (dh) {
			while ((d = readdir(dh)) && !stopping()) {
				if (d->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s/%s", PCM_SYSFS_VMS, d->d_name);
				read_dir(path);
				INC(reads_vm);
			}
			closedir(dh);
		} else if (!gone_errno(errno)) {
			FAIL("opendir %s: %s", PCM_SYSFS_VMS, strerror(errno));
		}
		/* A file kept open across the unload reads ENODEV, never stale data. */
		if (keep < 0)
			keep = open(PCM_KVM_SYSFS "/modes", O_RDONLY | O_CLOEXEC);
		if (keep >= 0) {
			n = pread(keep, buf, sizeof(buf) - 1, 0);
			INC(reads);
			if (n < 0) {
				if (errno != ENODEV)
					FAIL("pread of an open modes file: %s", strerror(errno));
				INC(read_gone);
				close(keep);
				keep = -1;
			} else {
				buf[n] = '\0';
				if (strcmp(buf, "off min x86-64-v2 x86-64-v3 x86-64-v4 baseline\n"))
					FAIL("pread of an open modes file: '%s'", buf);
			}
		}
		sleep_ms(rnd_below(3));
	}
	if (keep >= 0)
		close(keep);
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Churner: bare VMs created and closed while the module goes and comes    */

static atomic_int churn_on, churn_busy, churn_check;

/*
 * While the module loads, a bare VM is either not managed or fully managed:
 * its mode can be set and its vms/ directory appears.
 */
static void churn_check_vm(int fd)
{
	struct slot tmp = { .vm_fd = fd };
	int pfd = pcm_open(), m;

	if (pfd < 0) {
		if (!gone_errno(-pfd))
			FAIL("open %s: %s", PCM_KVM_DEVICE, strerror(-pfd));
		return;
	}
	m = ioc_get_mode(pfd, fd);
	if (m >= 0) {
		snprintf(tmp.name, sizeof(tmp.name), "%d-%d", (int)getpid(), fd);
		identify_dir(&tmp, pfd);
		INC(churn_checked);
	} else if (m != -EINVAL) {
		FAIL("GET_VM_MODE of a bare VM: %s", strerror(-m));
	}
	close(pfd);
}

static void *churner(void *arg)
{
	int fd;

	snprintf(thread_name, sizeof(thread_name), "churner");
	seed_thread(500);
	while (!stopping()) {
		if (!atomic_load(&churn_on)) {
			sleep_ms(2);
			continue;
		}
		/* Announce first, then look: churn_stop() sees one or the other. */
		atomic_store(&churn_busy, 1);
		if (atomic_load(&churn_on)) {
			fd = ioctl(kvm_fd(), KVM_CREATE_VM, 0);
			if (fd < 0) {
				FAIL("KVM_CREATE_VM: %s", strerror(errno));
				sleep_ms(10);
			} else {
				INC(churned);
				if (atomic_load(&churn_check))
					churn_check_vm(fd);
				else if (rnd_below(2))
					usleep(rnd_below(2000));
				close(fd);
			}
		}
		atomic_store(&churn_busy, 0);
	}
	return NULL;
}

static void churn_start(void)
{
	if (opt_churn)
		atomic_store(&churn_on, 1);
}

/* Returns with no churned VM open. */
static void churn_stop(void)
{
	atomic_store(&churn_on, 0);
	while (atomic_load(&churn_busy))
		sleep_ms(1);
}

/* ---------------------------------------------------------------------- */
/* Killer: a VMM process killed with SIGKILL, in KVM_RUN or before         */


/*
 * The child (pcm_stress --child-vm MODE|-): one VM running CPUID until
 * killed.  Its parent answers on fd 4 whether it wrote "PID MODE" to
 * process_modes (and pins the module); then the VM must be born in MODE
 * and its guest see that mode.  'f': the same, but the VM is made by a
 * process the child forks, which inherits the entry.  Fd 3 tells the parent
 * the guest has run.
 */
static int child_vm(const char *mode_arg)
{
	struct guest_cpuid req[MB_MAX_ENTRIES];
	long end = now_ms() + 600 * 1000L;
	struct pcm_fs exp, got, mask;
	int mode = -1, pfd, m;
	struct kvm_cpuid2 *c;
	struct vm vm;
	uint32_t mism;
	unsigned int n;
	char go;

	if (read(4, &go, 1) != 1)
		return 9;
	if (go == 'c' || go == 'f')
		mode = pcm_mode_parse(mode_arg, strlen(mode_arg));
	if (go == 'f') {
		pid_t me = getpid(), gc = fork();
		int status;

		if (gc < 0)
			return 21;
		if (gc) {
			/* Killed, the child takes its grandchild along (PDEATHSIG). */
			if (waitpid(gc, &status, 0) != gc || !WIFEXITED(status))
				return 22;
			return WEXITSTATUS(status);
		}
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != me)
			return 23;
	}
	if (!kvm_available())
		return 10;
	c = kvm_supported_cpuid();
	if (!c)
		return 11;
	n = feature_requests(c, req);
	if (vm_create(&vm))
		return 12;
	if (mode >= 0) {
		pfd = pcm_open();
		m = pfd < 0 ? pfd : ioc_get_mode(pfd, vm.vm_fd);
		if (m != mode) {
			fprintf(stderr, "# child %d: VM mode %s, process_modes said %s\n",
				(int)getpid(), m < 0 ? strerror(-m) : mode_name(m),
				mode_name(mode));
			return 19;
		}
		close(pfd);
	}
	if (vm_add_vcpu(&vm))
		return 13;
	if (vcpu_set_cpuid(&vm, c))
		return 14;
	if (guest_cpuid(&vm, req, n))
		return 15;
	if (mode >= 0) {
		fs_from_cpuid2(c, &got);
		fs_expected(mode, NULL, &got, &exp);
		fs_from_guest(req, n, &got);
		fs_compare_mask(&mask);
		if (fs_diff("child's guest", &got, &exp, &mask))
			return 20;
	}
	if (write(3, "r", 1) != 1)
		return 16;
	while (now_ms() < end) {
		if (guest_cpuid_loop(&vm, req, n, 1000, &mism) || mism)
			return 17;
	}
	return 18;
}

/*
 * process_modes for the child pid: 'c' if its VM must be born in mode,
 * 'f' if the VM of a process it forks must, 'x' if none is set.
 */
static char child_process_mode(pid_t pid, int pfd, unsigned int mode)
{
	char line[64];
	int r;

	if (pfd < 0)
		return 'x';
	switch (rnd_below(8)) {
	case 0:
		snprintf(line, sizeof(line), "%d x86-64-v9\n", (int)pid);
		expect_err(sysfs_write_str(PCM_SYSFS_PROCESS_MODES, line), EINVAL,
			   "process_modes with an unknown mode");
		return 'x';
	case 1:
		expect_err(sysfs_write_str(PCM_SYSFS_PROCESS_MODES, "0 off\n"), EINVAL,
			   "process_modes for pid 0");
		return 'x';
	case 2:
		/* Set, then taken back: the default applies. */
		snprintf(line, sizeof(line), "%d %s\n", (int)pid, pcm_mode_name(mode));
		r = sysfs_write_str(PCM_SYSFS_PROCESS_MODES, line);
		if (r)
			FAIL("process_modes '%d %s': %s", (int)pid, pcm_mode_name(mode),
			     strerror(-r));
		snprintf(line, sizeof(line), "%d -\n", (int)pid);
		r = sysfs_write_str(PCM_SYSFS_PROCESS_MODES, line);
		if (r)
			FAIL("process_modes '%d -': %s", (int)pid, strerror(-r));
		return 'x';
	default:
		snprintf(line, sizeof(line), "%d %s\n", (int)pid, pcm_mode_name(mode));
		r = sysfs_write_str(PCM_SYSFS_PROCESS_MODES, line);
		if (r)
			FAIL("process_modes '%d %s': %s", (int)pid, pcm_mode_name(mode),
			     strerror(-r));
		return r ? 'x' : rnd_below(2) ? 'c' : 'f';
	}
}

/*
 * This program's own file, opened at the start: a rebuild of the binary
 * (the checkout is shared with the host) does not change what runs.
 */
static int self_fd = -1;

static void *killer(void *arg)
{
	struct pollfd p = { .events = POLLIN };
	int ready[2], go[2], status, pfd;
	unsigned int mode;
	char *child_argv[4] = { "pcm_stress", "--child-vm", NULL, NULL };
	char c;
	bool loaded, have_pm, mode_checked;
	pid_t pid;

	snprintf(thread_name, sizeof(thread_name), "killer%d", (int)(long)arg);
	seed_thread(600 + (long)arg);
	while (!stopping()) {
		park_if_draining();
		if (stopping())
			break;
		/* An open /dev/pcm_kvm keeps the module (and the child's entry). */
		pthread_rwlock_rdlock(&mod_lock);
		loaded = mod.loaded;
		pfd = loaded ? pcm_open() : -1;
		pthread_rwlock_unlock(&mod_lock);
		if (loaded && pfd < 0)
			FAIL("open %s: %s", PCM_KVM_DEVICE, strerror(-pfd));
		have_pm = pfd >= 0 && access(PCM_SYSFS_PROCESS_MODES, F_OK) == 0;
		mode = rnd_below(NR_NAMED_MODES);
		child_argv[2] = (char *)pcm_mode_name(mode);
		if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) {
			FAIL("pipe2: %s", strerror(errno));
			break;
		}
		pid = fork();
		if (!pid) {
			/*
			 * Only async-signal-safe calls between fork and exec.
			 * Move both ends out of the way first: dup2() onto
			 * itself would keep O_CLOEXEC.
			 */
			ready[1] = fcntl(ready[1], F_DUPFD_CLOEXEC, 10);
			go[0] = fcntl(go[0], F_DUPFD_CLOEXEC, 10);
			if (ready[1] >= 0 && go[0] >= 0 && dup2(ready[1], 3) == 3 &&
			    dup2(go[0], 4) == 4)
				fexecve(self_fd, child_argv, environ);
			_exit(100 + (errno & 0x1f));
		}
		close(ready[1]);
		close(go[0]);
		if (pid < 0) {
			FAIL("fork: %s", strerror(errno));
			close(ready[0]);
			close(go[1]);
			if (pfd >= 0)
				close(pfd);
			break;
		}
		c = have_pm ? child_process_mode(pid, pfd, mode) : 'x';
		mode_checked = c != 'x';
		if (write(go[1], &c, 1) != 1)
			FAIL("write to the child: %s", strerror(errno));
		/* Kill it anywhere from exec to well into its guest's run. */
		p.fd = ready[0];
		if (poll(&p, 1, rnd_below(2) ? 5000 : rnd_below(800)) == 1 &&
		    read(ready[0], &c, 1) == 1) {
			INC(kills_running);
			if (mode_checked)
				INC(kills_checked);
			sleep_ms(rnd_below(50));
		}
		kill(pid, SIGKILL);
		if (waitpid(pid, &status, 0) != pid)
			FAIL("waitpid: %s", strerror(errno));
		else if (WIFEXITED(status) && WEXITSTATUS(status) >= 100)
			FAIL("VMM child %d: exec: errno %d", (int)pid,
			     WEXITSTATUS(status) - 100);
		else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			FAIL("VMM child %d ended by itself (status 0x%x)", (int)pid, status);
		else
			INC(kills);
		close(ready[0]);
		close(go[1]);
		if (pfd >= 0)
			close(pfd);
		sleep_ms(rnd_below(100));
	}
	participant_exit();
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Unloader                                                                */

static bool vms_dir_empty(int timeout_ms, char *left, size_t size)
{
	long end = now_ms() + timeout_ms;
	struct dirent *d;
	bool empty;
	DIR *dh;

	for (;;) {
		empty = true;
		left[0] = '\0';
		dh = opendir(PCM_SYSFS_VMS);
		if (!dh)
			return gone_errno(errno);
		while ((d = readdir(dh))) {
			if (d->d_name[0] == '.')
				continue;
			empty = false;
			if (strlen(left) + strlen(d->d_name) + 2 < size) {
				strcat(left, " ");
				strcat(left, d->d_name);
			}
		}
		closedir(dh);
		if (empty || now_ms() >= end)
			return empty;
		sleep_ms(20);
	}
}

/* Under mod_lock (write): one rmmod; true if the module went. */
static bool try_unload(bool drained)
{
	int r;

	check_probes("before rmmod");
	r = delete_module();
	INC(unload_try);
	if (!r) {
		note("rmmod pcm_kvm (%s)", drained ? "drained" : "racing");
		mod.loaded = false;
		if (module_loaded())
			FAIL("rmmod succeeded but %s is still there", PCM_MODULE_SYSFS);
		return true;
	}
	/* In use (a VM or an open /dev/pcm_kvm): EWOULDBLOCK from the syscall. */
	if (r != -EWOULDBLOCK)
		FAIL("rmmod pcm_kvm (%s): %s, expected %s", drained ? "drained" : "racing",
		     strerror(-r), strerror(EWOULDBLOCK));
	INC(unload_refused);
	return false;
}

static void reload(void)
{
	static const unsigned int modes[] = {
		PCM_KVM_MODE_OFF, PCM_KVM_MODE_X86_64_V2, PCM_KVM_MODE_OFF,
		PCM_KVM_MODE_X86_64_V2, PCM_KVM_MODE_MIN, PCM_KVM_MODE_X86_64_V3,
	};
	unsigned int mode = modes[rnd_below(ARRAY_SIZE(modes))];
	int r;

	pthread_rwlock_wrlock(&mod_lock);
	r = load_module(mode);
	if (r) {
		FAIL("insmod %s default_mode=%s: %s", opt_module, pcm_mode_name(mode),
		     strerror(-r));
	} else {
		note("insmod pcm_kvm default_mode=%s", pcm_mode_name(mode));
		INC(reloads);
		mod.loaded = true;
		mod.default_mode = mode;
		mod.baseline_unset = true;
		r = sysfs_read_mode(PCM_PARAM_DEFAULT_MODE);
		if (r != (int)mode)
			FAIL("after insmod default_mode=%s, default_mode reads %s",
			     pcm_mode_name(mode), r < 0 ? strerror(-r) : mode_name(r));
	}
	pthread_rwlock_unlock(&mod_lock);
}

/*
 * Let the creators make VMs without the module for a while, then reload
 * while bare VMs are created and checked.
 */
static void unloaded_window(void)
{
	unsigned long before = GET(vms_unmanaged);
	long end = now_ms() + 3000;

	churn_start();
	atomic_store(&churn_check, 1);
	while (GET(vms_unmanaged) == before && now_ms() < end && !atomic_load(&stop))
		sleep_ms(10);
	sleep_ms(rnd_below(200));
	reload();
	sleep_ms(rnd_below(100));
	churn_stop();
	atomic_store(&churn_check, 0);
}

/* Under mod_lock (write) with the module loaded. */
static void default_mode_write(void)
{
	unsigned int mode = rnd_below(NR_NAMED_MODES);
	char text[32];
	int r;

	INC(default_writes);
	switch (rnd_below(4)) {
	case 0:
		r = sysfs_write_str(PCM_PARAM_DEFAULT_MODE, "x86-64-v9\n");
		expect_err(r, EINVAL, "default_mode x86-64-v9");
		break;
	case 1:
		if (mod.baseline_unset) {
			r = sysfs_write_str(PCM_PARAM_DEFAULT_MODE, "baseline\n");
			expect_err(r, EINVAL, "default_mode baseline with no baseline");
		}
		break;
	default:
		snprintf(text, sizeof(text), "%s\n", pcm_mode_name(mode));
		r = sysfs_write_str(PCM_PARAM_DEFAULT_MODE, text);
		if (r)
			FAIL("default_mode %s: %s", pcm_mode_name(mode), strerror(-r));
		else
			mod.default_mode = mode;
		break;
	}
	r = sysfs_read_mode(PCM_PARAM_DEFAULT_MODE);
	if (r != (int)mod.default_mode)
		FAIL("default_mode reads %s, expected %s", r < 0 ? strerror(-r) : mode_name(r),
		     pcm_mode_name(mod.default_mode));
}

static void drained_unload(void)
{
	long end;
	char left[256];
	bool gone = false, was_loaded;

	if (!drain_begin()) {
		FAIL("threads holding the module did not park within %d s",
		     PARK_TIMEOUT_MS / 1000);
		drain_end();
		return;
	}
	/* No VM of ours exists now: their directories go (asynchronously). */
	if (!vms_dir_empty(VMDIR_TIMEOUT_MS, left, sizeof(left)))
		FAIL("vms/ still lists%s %d ms after every VM was closed", left,
		     VMDIR_TIMEOUT_MS);
	/* First while bare VMs come and go: KVM_CREATE_VM races the unload. */
	churn_start();
	end = now_ms() + 3000;
	while (opt_churn && !gone && now_ms() < end) {
		pthread_rwlock_wrlock(&mod_lock);
		gone = mod.loaded && try_unload(true);
		pthread_rwlock_unlock(&mod_lock);
		if (gone)
			INC(unload_churn_ok);
		else
			usleep(rnd_below(3000));
	}
	if (!gone)
		churn_stop();
	/* The last module reference of a VM is dropped from a workqueue. */
	end = now_ms() + UNLOAD_TIMEOUT_MS;
	while (!gone) {
		pthread_rwlock_wrlock(&mod_lock);
		was_loaded = mod.loaded;
		gone = !was_loaded || try_unload(true);
		pthread_rwlock_unlock(&mod_lock);
		if (gone && was_loaded)
			INC(unload_drained_ok);
		if (gone || now_ms() >= end)
			break;
		sleep_ms(20);
	}
	if (!gone) {
		char refcnt[32] = "?";

		sysfs_read(PCM_MODULE_SYSFS "/refcnt", refcnt, sizeof(refcnt));
		FAIL("rmmod refused for %d s with no VM and no open %s (refcnt %s)",
		     UNLOAD_TIMEOUT_MS / 1000, PCM_KVM_DEVICE, strtok(refcnt, "\n"));
	}
	drain_end();
	/* The churn, if on, goes on through the reload: KVM_CREATE_VM races it. */
	if (gone)
		unloaded_window();
	churn_stop();
}

static void *unloader(void *arg)
{
	long next_drain = now_ms() + opt_drain_every * 1000L / 2;
	bool gone;

	snprintf(thread_name, sizeof(thread_name), "unloader");
	seed_thread(400);
	while (!stopping()) {
		sleep_ms(20 + rnd_below(150));
		if (stopping())
			break;
		if (now_ms() >= next_drain) {
			drained_unload();
			next_drain = now_ms() + opt_drain_every * 1000L;
			continue;
		}
		pthread_rwlock_wrlock(&mod_lock);
		gone = false;
		if (mod.loaded) {
			if (rnd_below(5) == 0)
				default_mode_write();
			gone = try_unload(false);
			if (gone)
				INC(unload_racing_ok);
		}
		pthread_rwlock_unlock(&mod_lock);
		if (gone)
			unloaded_window();
	}
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Kernel log                                                              */

static const char *const splats[] = {
	"BUG:", "WARNING:", "Oops", "general protection", "KASAN", "UBSAN",
	"possible recursive locking", "possible circular locking",
	"inconsistent lock state", "kmemleak", "refcount_t:", "list_add corruption",
	"list_del corruption", "Unable to handle", "kernel BUG", "stack-protector",
	"double fault", "scheduling while atomic", "bad unlock balance",
	/*
	 * A stall or a hung task is a failure even under nested TCG: a
	 * deadlock in pcm_kvm looks exactly like this.
	 */
	"detected stall", "rcu: INFO:", "blocked for more than",
};

/* What our own valid and invalid requests make pcm_kvm say; the rest is shown. */
static const char *const expected_lines[] = {
	"already run", "unknown mode", ": size ", "unknown flags", "bad file descriptor",
	"not a VM managed by pcm_kvm", "malformed identity", "pcm_kvm: loaded",
	"pcm_kvm: unloaded", "baseline is not set", "process_modes: bad pid",
	"callbacks suppressed", "out-of-tree module", "module verification failed",
};

static int kmsg_fd = -1;
static int kmsg_shown;
static char kmsg_bad[8][256];
static int kmsg_nbad;

static void kmsg_drain(void)
{
	char rec[8192];
	unsigned int i;
	ssize_t n;
	char *msg;

	for (;;) {
		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0) {
			if (errno == EPIPE) {
				INC(kmsg_lost);	/* overwritten before we read it */
				continue;
			}
			return;		/* EAGAIN: nothing more */
		}
		rec[n] = '\0';
		INC(kmsg_lines);
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		for (i = 0; i < ARRAY_SIZE(splats); i++) {
			if (!strstr(msg, splats[i]))
				continue;
			if (kmsg_nbad < (int)ARRAY_SIZE(kmsg_bad))
				snprintf(kmsg_bad[kmsg_nbad], sizeof(kmsg_bad[0]), "%.200s", msg);
			kmsg_nbad++;
			note("kernel: %s", msg);
			break;
		}
		for (i = 0; i < ARRAY_SIZE(expected_lines); i++)
			if (strstr(msg, expected_lines[i]))
				break;
		if (i == ARRAY_SIZE(expected_lines) && strstr(msg, "pcm_kvm") &&
		    kmsg_shown++ < 50)
			note("kernel: %s", msg);
	}
}

static atomic_int kmsg_stop;

static void *kmsg_watch(void *arg)
{
	struct pollfd p = { .fd = kmsg_fd, .events = POLLIN };

	snprintf(thread_name, sizeof(thread_name), "kmsg");
	while (!atomic_load(&kmsg_stop)) {
		poll(&p, 1, 100);
		kmsg_drain();
	}
	kmsg_drain();
	return NULL;
}

/* ---------------------------------------------------------------------- */

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--module PCM_KVM.KO] [--seconds N] [--max-vms N] [--creators N]\n"
		"          [--readers N] [--writers N] [--ioctlers N] [--killers N]\n"
		"          [--loops N] [--drain-every SECONDS] [--no-churn] [--seed N]\n"
		"Without --module the module is never unloaded (it must be loaded).\n",
		prog);
	exit(KSFT_FAIL);
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "module", required_argument, NULL, 'm' },
		{ "seconds", required_argument, NULL, 's' },
		{ "max-vms", required_argument, NULL, 'n' },
		{ "creators", required_argument, NULL, 'c' },
		{ "readers", required_argument, NULL, 'r' },
		{ "writers", required_argument, NULL, 'w' },
		{ "ioctlers", required_argument, NULL, 'i' },
		{ "killers", required_argument, NULL, 'k' },
		{ "no-churn", no_argument, NULL, 'C' },
		{ "loops", required_argument, NULL, 'l' },
		{ "drain-every", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int c;

	while ((c = getopt_long(argc, argv, "m:s:n:c:r:w:i:k:Cl:d:S:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			opt_module = optarg;
			break;
		case 's':
			opt_seconds = atoi(optarg);
			break;
		case 'n':
			opt_max_vms = atoi(optarg);
			break;
		case 'c':
			opt_creators = atoi(optarg);
			break;
		case 'r':
			opt_readers = atoi(optarg);
			break;
		case 'w':
			opt_writers = atoi(optarg);
			break;
		case 'i':
			opt_ioctlers = atoi(optarg);
			break;
		case 'k':
			opt_killers = atoi(optarg);
			break;
		case 'C':
			opt_churn = false;
			break;
		case 'l':
			opt_loops = atoi(optarg);
			break;
		case 'd':
			opt_drain_every = atoi(optarg);
			break;
		case 'S':
			opt_seed = strtoul(optarg, NULL, 0);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc || opt_seconds < 1 || opt_max_vms < 1 || opt_creators < 1 ||
	    opt_creators > MAX_THREADS || opt_readers < 0 || opt_readers > MAX_THREADS ||
	    opt_writers < 0 || opt_writers > MAX_THREADS || opt_ioctlers < 0 ||
	    opt_ioctlers > MAX_THREADS || opt_killers < 0 || opt_killers > MAX_THREADS ||
	    opt_loops < 1 || opt_drain_every < 1)
		usage(argv[0]);
}

/* The module's state at the start; loads it if needed and possible. */
static void setup_module(void)
{
	char buf[PCM_FS_TEXT_MAX + 1], left[256];
	pthread_rwlockattr_t ra;
	int pfd, r;

	pthread_rwlockattr_init(&ra);
	/* The unloader must get its turn between the creators. */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&mod_lock, &ra);

	if (!module_loaded()) {
		if (!opt_module)
			ksft_exit_skip("pcm_kvm is not loaded and no --module given\n");
		r = load_module(PCM_KVM_MODE_OFF);
		if (r)
			ksft_exit_fail_msg("insmod %s: %s\n", opt_module, strerror(-r));
		ksft_print_msg("loaded %s\n", opt_module);
	}
	mod.loaded = true;
	r = sysfs_read_mode(PCM_PARAM_DEFAULT_MODE);
	if (r < 0)
		ksft_exit_fail_msg("cannot read default_mode: %s\n", strerror(-r));
	mod.default_mode = r;
	if (mod.default_mode == PCM_KVM_MODE_BASELINE) {
		/* A baseline's view is not modelled here; start from off. */
		if (sysfs_write_str(PCM_PARAM_DEFAULT_MODE, "off\n"))
			ksft_exit_fail_msg("cannot reset default_mode\n");
		mod.default_mode = PCM_KVM_MODE_OFF;
	}
	r = sysfs_read(PCM_SYSFS_BASELINE, buf, sizeof(buf));
	mod.baseline_unset = r >= 0 && !strcmp(buf, "\n");
	r = sysfs_read(PCM_PARAM_HOST_WITHHOLD, buf, sizeof(buf));
	if (r > 0 && strcmp(buf, "\n")) {
		/* The model below assumes the host's full set. */
		ksft_print_msg("host_withhold was '%s', cleared\n", strtok(buf, "\n"));
		if (sysfs_write_str(PCM_PARAM_HOST_WITHHOLD, "\n"))
			ksft_exit_fail_msg("cannot clear host_withhold\n");
	}
	if (!vms_dir_empty(VMDIR_TIMEOUT_MS, left, sizeof(left))) {
		ksft_print_msg("vms/ lists%s: other VMs hold the module, no unloading\n",
			       left);
		opt_module = NULL;
	}
	pfd = pcm_open();
	if (pfd < 0)
		ksft_exit_fail_msg("open %s: %s\n", PCM_KVM_DEVICE, strerror(-pfd));
	{
		struct pcm_kvm_host_features h = { .size = sizeof(h) };

		if (ioctl(pfd, PCM_KVM_GET_HOST_FEATURES, &h))
			ksft_exit_fail_msg("GET_HOST_FEATURES: %s\n", strerror(errno));
		host_fs = h.features;
	}
	close(pfd);
}

int main(int argc, char **argv)
{
	pthread_t th[5 * MAX_THREADS + 2], kmsg_th;
	int nth = 0, i, r, probes;
	char left[512];
	bool loaded;
	long wall;

	if (argc == 3 && !strcmp(argv[1], "--child-vm"))
		return child_vm(argv[2]);
	parse_args(argc, argv);
	if (!opt_seed)
		opt_seed = (unsigned long)time(NULL) ^ getpid();
	seed_thread(0);
	ksft_print_header();
	if (geteuid())
		ksft_exit_skip("must run as root\n");
	if (!kvm_available())
		ksft_exit_skip("no usable /dev/kvm\n");
	setup_module();
	ksft_set_plan(6);

	table = kvm_supported_cpuid();
	if (!table)
		ksft_exit_fail_msg("KVM_GET_SUPPORTED_CPUID failed\n");
	fs_from_cpuid2(table, &table_fs);
	table_nreq = feature_requests(table, table_req);
	fs_compare_mask(&cmp_mask);

	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
	else
		ksft_print_msg("cannot read /dev/kmsg: %s\n", strerror(errno));

	ksft_print_msg("seed %lu, %d s, at most %d VMs, %s\n", opt_seed, opt_seconds,
		       opt_max_vms, opt_module ? "unloading the module" : "module stays loaded");
	ksft_print_msg("threads: %d creators, %d readers, %d writers, %d ioctlers, %d killers\n",
		       opt_creators, opt_readers, opt_writers, opt_ioctlers, opt_killers);
	ksft_print_msg("guest: %d CPUID passes over %u leaves per loop run\n", opt_loops,
		       table_nreq);

	t_start = now_ms();
	t_end = t_start + opt_seconds * 1000L;
	if (kmsg_fd >= 0)
		pthread_create(&kmsg_th, NULL, kmsg_watch, NULL);
	drain.participants = opt_creators + opt_writers + opt_ioctlers + opt_killers;
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&drain.cond, &ca);
	}
	for (i = 0; i < opt_creators; i++) {
		pthread_mutex_init(&slots[i].lock, NULL);
		slots[i].state = SLOT_FREE;
	}
	/* Per-thread RNG seeds derive from the main one. */
	for (i = 0; i < opt_creators; i++)
		pthread_create(&th[nth++], NULL, creator, &slots[i]);
	for (i = 0; i < opt_writers; i++)
		pthread_create(&th[nth++], NULL, writer, (void *)(long)i);
	for (i = 0; i < opt_ioctlers; i++)
		pthread_create(&th[nth++], NULL, ioctler, (void *)(long)i);
	for (i = 0; i < opt_readers; i++)
		pthread_create(&th[nth++], NULL, reader, (void *)(long)i);
	self_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self_fd < 0) {
		ksft_print_msg("cannot open /proc/self/exe (%s): no killer threads\n",
			       strerror(errno));
		drain.participants -= opt_killers;
		opt_killers = 0;
	}
	for (i = 0; i < opt_killers; i++)
		pthread_create(&th[nth++], NULL, killer, (void *)(long)i);
	if (opt_module) {
		pthread_create(&th[nth++], NULL, unloader, NULL);
		pthread_create(&th[nth++], NULL, churner, NULL);
	}

	while (!stopping())
		sleep_ms(100);
	atomic_store(&stop, 1);
	drain_end();
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	wall = now_ms() - t_start;

	/* End state: module loaded (as it was), then the checks. */
	loaded = module_loaded();
	if (!loaded && opt_module) {
		r = load_module(PCM_KVM_MODE_OFF);
		if (r)
			FAIL("final insmod: %s", strerror(-r));
		loaded = !r;
	}

	ksft_print_msg("%.1f s of stress\n", wall / 1000.0);
	ksft_print_msg("VMs: %lu (%lu managed, %lu not; %lu created racing the (un)load)\n",
		       GET(vms), GET(vms_managed), GET(vms_unmanaged), GET(vms_wild));
	ksft_print_msg("VMs: %lu ran (%lu managed, %lu not), %lu never ran\n",
		       GET(vms_ran), GET(vms_ran_managed), GET(vms_ran_unmanaged),
		       GET(vms_norun));
	ksft_print_msg("VMs: %lu with a second vCPU before the run, %lu vCPUs added after it\n",
		       GET(second_vcpus), GET(hotplug));
	ksft_print_msg("VMs: %lu VM fds closed first (%lu ran on after)\n",
		       GET(fd_first), GET(zombie_runs));
	ksft_print_msg("bare VMs churned around (un)loads: %lu (%lu managed ones checked)\n",
		       GET(churned), GET(churn_checked));
	ksft_print_msg("VMM processes killed: %lu (%lu after their guest ran, %lu of them moded)\n",
		       GET(kills), GET(kills_running), GET(kills_checked));
	ksft_print_msg("guest: %lu CPUID executions in %lu runs\n", GET(cpuid),
		       GET(guest_runs));
	ksft_print_msg("mode writes: %lu accepted, %lu EBUSY, %lu EINVAL, %lu on unmanaged VMs\n",
		       GET(mode_ok), GET(mode_busy), GET(mode_inval), GET(mode_unmanaged));
	ksft_print_msg("default_mode writes: %lu\n", GET(default_writes));
	ksft_print_msg("ioctls: %lu succeeded, %lu failed (as expected unless FAIL above)\n",
		       GET(ioctl_ok), GET(ioctl_err));
	ksft_print_msg("sysfs: %lu reads (%lu found the file gone), %lu VM directory scans\n",
		       GET(reads), GET(read_gone), GET(reads_vm));
	ksft_print_msg("rmmod: %lu attempts, %lu refused (in use)\n", GET(unload_try),
		       GET(unload_refused));
	ksft_print_msg("rmmod: %lu racing, %lu among churned VMs, %lu drained; %lu reloads\n",
		       GET(unload_racing_ok), GET(unload_churn_ok), GET(unload_drained_ok),
		       GET(reloads));

	ksft_test_result(atomic_load(&nfail) == 0,
			 "stress: every answer as documented (%d wrong)\n", atomic_load(&nfail));
	if (opt_module)
		ksft_test_result(GET(unload_drained_ok) + GET(unload_racing_ok) +
				 GET(unload_churn_ok) > 0 &&
				 GET(reloads) > 0,
				 "module unloaded and reloaded under load\n");
	else
		ksft_test_result_skip("module unloaded and reloaded under load (no --module)\n");
	if (opt_module)
		ksft_test_result(GET(vms_ran_managed) > 0 && GET(vms_ran_unmanaged) > 0,
				 "guests ran with and without the module\n");
	else
		ksft_test_result(GET(vms_ran_managed) > 0, "guests ran with the module\n");
	ksft_test_result(loaded && vms_dir_empty(VMDIR_TIMEOUT_MS, left, sizeof(left)),
			 "no vms/ entry left%s\n", left);
	probes = loaded ? check_probes("at the end") : -1;
	if (probes == 0)
		ksft_test_result_skip("probes: no %s in this module\n", PCM_SYSFS_PROBES);
	else
		ksft_test_result(probes > 0, "probes: nmissed 0 before rmmod and at the end\n");

	if (kmsg_fd >= 0) {
		sleep_ms(200);
		atomic_store(&kmsg_stop, 1);
		pthread_join(kmsg_th, NULL);
		ksft_print_msg("kernel log: %lu records read, %lu lost\n",
			       GET(kmsg_lines), GET(kmsg_lost));
		for (i = 0; i < kmsg_nbad && i < (int)ARRAY_SIZE(kmsg_bad); i++)
			ksft_print_msg("kernel: %s\n", kmsg_bad[i]);
		ksft_test_result(!kmsg_nbad && !GET(kmsg_lost),
				 "kernel log: no BUG/WARNING/Oops/lockdep/stall/hung-task line since the start\n");
	} else {
		ksft_test_result_skip("kernel log: /dev/kmsg not readable\n");
	}
	ksft_finished();
}
