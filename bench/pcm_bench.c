// SPDX-License-Identifier: GPL-2.0
/*
 * pcm_bench: one round of the pcm_kvm overhead benchmark (scripts/bench runs
 * it once per configuration and round, loading and unloading pcm_kvm in
 * between).  A round:
 *
 *   1. creates -v VMs one after the other, each timed from KVM_CREATE_VM to
 *      the end of KVM_SET_CPUID2 (memory slot, vCPU and its registers
 *      included: what a VMM does before it can run a guest), with the CPUID
 *      the host supports (KVM_GET_SUPPORTED_CPUID, as `-cpu host`): with
 *      CLOCK_MONOTONIC, the latency the VMM sees, and with
 *      CLOCK_THREAD_CPUTIME_ID, the work done in its thread, which blocking
 *      waits inside KVM_CREATE_VM (RCU, a timer tick away) do not blur;
 *   2. with -m MODE, writes MODE to the last VM's
 *      /sys/kernel/pcm_kvm/vms/<pid>-<fd>/mode: a mode set after
 *      KVM_SET_CPUID2, which only the exit-path hook can enforce;
 *   3. waits 0.1 s for the work VM creation queued, runs -w CPUIDs to warm
 *      up (page faults, first-KVM_RUN work), then -r slices of -n CPUIDs of
 *      leaf -l, each timed inside the guest with RDTSC.  Other activity only
 *      ever adds time to a slice, so the fastest slice is the round's best
 *      estimate of the exit's cost; the median of the slices is printed too;
 *   4. then -r slices of -e KVM_RUN round trips: the guest, parked on HLT,
 *      exits to this process (KVM_EXIT_HLT) at once, so each KVM_RUN is an
 *      entry and an exit, the path of every exit a VMM handles (I/O, MMIO),
 *      timed with CLOCK_MONOTONIC, fastest slice.
 *
 * It prints one line of key=value pairs, for scripts/bench:
 *
 *   create_us=MEDIAN create_min=MIN create_max=MAX cpu_us=MEDIAN
 *   vm_us=MEDIAN vcpu_us=MEDIAN set_cpuid_us=MEDIAN cycles=MIN_SLICE
 *   cycles_med=MEDIAN_SLICE ns=MIN_SLICE ns_med=MEDIAN_SLICE
 *   run_ns=MIN_SLICE run_ns_med=MEDIAN_SLICE mode=MODE
 *   exit_hook=ARMED regs=EAX,EBX,ECX,EDX
 *
 * create_* are the latency over the round's VMs; cpu_us is their median
 * CPU time, and vm_us, vcpu_us and set_cpuid_us that of each phase (VM with
 * its memory slot, vCPU, KVM_SET_CPUID2; -V prints every VM's on stderr).
 * The median, not the fastest VM: under TCG a thread's CPU time over a few
 * tens of us is now and then far too low (8 us for a KVM_SET_CPUID2 that
 * otherwise always takes 47).  cycles (TSC ticks) and ns are per CPUID.
 * mode is what the VM's sysfs mode file says just before it runs ("-" when
 * pcm_kvm is not loaded); exit_hook is the kvm_cpuid probe's "armed=" in
 * /sys/kernel/pcm_kvm/probes after the last slice (0 or 1; "-" when pcm_kvm
 * is not loaded, "?" if it has no such file); regs is the last CPUID's
 * result, so the caller can check that masking happened where it should.
 * Exit status 0, 1 on error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vm.h"
#include "bench_guest.h"

#define SYSFS_VMS	"/sys/kernel/pcm_kvm/vms"
#define SYSFS_PROBES	"/sys/kernel/pcm_kvm/probes"
#define MAX_VMS		64
#define MAX_SLICES	64

static unsigned long opt_n = 4000, opt_slices = 5, opt_warm = 1000, opt_vms = 16;
static unsigned long opt_exits = 1000;
static unsigned long opt_leaf = 1, opt_subleaf;
static const char *opt_mode;
static bool opt_verbose;

static double clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* Time this thread ran, in the kernel too: blocking waits do not count. */
static double cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned long n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void *bmb(struct vm *vm, unsigned int off)
{
	return (char *)vm->mem + BENCH_MBOX_GPA + off;
}

/*
 * pcm_kvm names the VM's directory from a workqueue, a moment after
 * KVM_CREATE_VM returns: wait for it.  Returns false if pcm_kvm is not
 * loaded or the directory never shows up.
 */
static bool vm_sysfs_path(struct vm *vm, const char *file, char *path, size_t size)
{
	struct stat st;
	int i;

	if (stat(SYSFS_VMS, &st))
		return false;
	snprintf(path, size, SYSFS_VMS "/%d-%d/%s", (int)getpid(), vm->vm_fd, file);
	for (i = 0; i < 5000; i++) {
		if (!access(path, F_OK))
			return true;
		usleep(1000);
	}
	fprintf(stderr, "pcm_bench: %s did not appear\n", path);
	return false;
}

static int set_mode(struct vm *vm, const char *mode)
{
	char path[128];
	int fd, ret = 0;

	if (!vm_sysfs_path(vm, "mode", path, sizeof(path)))
		return -ENOENT;
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, mode, strlen(mode)) != (ssize_t)strlen(mode))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	if (ret)
		fprintf(stderr, "pcm_bench: writing %s to %s: %s\n", mode, path,
			strerror(-ret));
	return ret;
}

static void get_mode(struct vm *vm, char *mode, size_t size)
{
	char path[128];
	FILE *f;

	snprintf(mode, size, "-");
	if (!vm_sysfs_path(vm, "mode", path, sizeof(path)))
		return;
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(mode, size, f))
		mode[strcspn(mode, "\n")] = 0;
	fclose(f);
}

/* "armed=" of the kvm_cpuid probe, or "-" / "?" (see the top). */
static const char *exit_hook(void)
{
	static char line[256];
	const char *armed = "?";
	struct stat st;
	FILE *f;

	if (stat(SYSFS_VMS, &st))
		return "-";
	f = fopen(SYSFS_PROBES, "r");
	if (!f)
		return "?";
	while (fgets(line, sizeof(line), f)) {
		char *a = strstr(line, " armed=");

		if (!strncmp(line, "kvm_cpuid ", 10) && a) {
			armed = a + 7;
			line[strcspn(line, "\n")] = 0;
			break;
		}
	}
	fclose(f);
	return armed;
}

/*
 * KVM_CREATE_VM .. KVM_SET_CPUID2, as a VMM does it; the CPU time of each
 * phase (VM with its memory slot, vCPU, KVM_SET_CPUID2) in us goes to
 * phase[].
 */
static int create_vm(struct vm *vm, const struct kvm_cpuid2 *cpuid, double *phase)
{
	size_t len = (uintptr_t)bench_code_end - (uintptr_t)bench_code_start;
	double t0 = cpu_ns(), t1, t2;
	int ret;

	ret = vm_create(vm);
	if (ret)
		return ret;
	/* Part of every VMM's setup too: loading the guest's code. */
	memcpy((char *)vm->mem + BENCH_CODE_GPA, bench_code_start, len);
	t1 = cpu_ns();
	ret = vm_add_vcpu(vm);
	t2 = cpu_ns();
	if (!ret)
		ret = vcpu_set_cpuid(vm, cpuid);
	if (ret)
		fprintf(stderr, "pcm_bench: creating a VM: %s\n", strerror(-ret));
	phase[0] = (t1 - t0) / 1e3;
	phase[1] = (t2 - t1) / 1e3;
	phase[2] = (cpu_ns() - t2) / 1e3;
	return ret;
}

/* Run count CPUIDs in the guest; the TSC delta is left in the mailbox. */
static int run_cpuids(struct vm *vm, unsigned long count)
{
	struct kvm_regs regs = { 0 };
	struct kvm_run *run = vm->run;

	*(uint32_t *)bmb(vm, BMB_COUNT) = count;
	*(uint32_t *)bmb(vm, BMB_LEAF) = opt_leaf;
	*(uint32_t *)bmb(vm, BMB_SUBLEAF) = opt_subleaf;
	regs.rip = BENCH_CODE_GPA;
	regs.rsp = GUEST_STACK_TOP;
	regs.rflags = 0x2;
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) ||
	    ioctl(vm->vcpu_fd, KVM_RUN, 0)) {
		fprintf(stderr, "pcm_bench: KVM_SET_REGS/KVM_RUN: %s\n", strerror(errno));
		return -errno;
	}
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != BENCH_PORT ||
	    *((uint8_t *)run + run->io.data_offset) != BENCH_DONE) {
		fprintf(stderr, "pcm_bench: unexpected exit %u (port 0x%x)\n",
			run->exit_reason,
			run->exit_reason == KVM_EXIT_IO ? run->io.port : 0);
		return -EIO;
	}
	return 0;
}

/* count KVM_RUNs of a guest parked on HLT: each returns KVM_EXIT_HLT. */
static int run_exits(struct vm *vm, unsigned long count)
{
	unsigned long i;

	for (i = 0; i < count; i++) {
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0)) {
			fprintf(stderr, "pcm_bench: KVM_RUN: %s\n", strerror(errno));
			return -errno;
		}
		if (vm->run->exit_reason != KVM_EXIT_HLT) {
			fprintf(stderr, "pcm_bench: unexpected exit %u, not HLT\n",
				vm->run->exit_reason);
			return -EIO;
		}
	}
	return 0;
}

static const char usage_text[] =
	"usage: pcm_bench [-n CPUIDS] [-e RUNS] [-r SLICES] [-w WARMUP] [-v VMS]\n"
	"                 [-l LEAF] [-s SUBLEAF] [-m MODE] [-V]\n";

static void usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

static unsigned long num_arg(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	static struct vm vms[MAX_VMS];
	double create[MAX_VMS], cpu[MAX_VMS], cycles[MAX_SLICES], ns[MAX_SLICES];
	double run_ns[MAX_SLICES], run_med;
	double t0, t1, c0, cyc_med, ns_med, create_med, phase[3][MAX_VMS], ph[3];
	struct kvm_cpuid2 *cpuid;
	struct vm *vm;
	char mode[32];
	uint32_t *r;
	unsigned long k, i;
	int c;

	while ((c = getopt(argc, argv, "n:e:r:w:v:l:s:m:V")) != -1) {
		switch (c) {
		case 'n':
			opt_n = num_arg(optarg);
			break;
		case 'e':
			opt_exits = num_arg(optarg);
			break;
		case 'r':
			opt_slices = num_arg(optarg);
			break;
		case 'w':
			opt_warm = num_arg(optarg);
			break;
		case 'v':
			opt_vms = num_arg(optarg);
			break;
		case 'l':
			opt_leaf = num_arg(optarg);
			break;
		case 's':
			opt_subleaf = num_arg(optarg);
			break;
		case 'm':
			opt_mode = optarg;
			break;
		case 'V':
			opt_verbose = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !opt_n || !opt_warm || opt_n > UINT32_MAX || !opt_exits ||
	    !opt_vms || opt_vms > MAX_VMS || !opt_slices || opt_slices > MAX_SLICES)
		usage();
	if (!kvm_available()) {
		fprintf(stderr, "pcm_bench: no usable /dev/kvm\n");
		return 1;
	}
	cpuid = kvm_supported_cpuid();
	if (!cpuid)
		return 1;

	for (k = 0; k < opt_vms; k++) {
		t0 = now_ns();
		c0 = cpu_ns();
		if (create_vm(&vms[k], cpuid, ph))
			return 1;
		cpu[k] = (cpu_ns() - c0) / 1e3;
		t1 = now_ns();
		create[k] = (t1 - t0) / 1e3;
		for (i = 0; i < 3; i++)
			phase[i][k] = ph[i];
		if (opt_verbose)
			fprintf(stderr,
				"pcm_bench: VM %lu: %.1f us, CPU %.1f us (VM %.1f, vCPU %.1f, SET_CPUID2 %.1f)\n",
				k, create[k], cpu[k], ph[0], ph[1], ph[2]);
	}
	/*
	 * The CPUID loop runs in the last VM.  The others stay until the end:
	 * tearing them down now would leave deferred work (RCU callbacks,
	 * workqueues) running during the slices.  Idle VMs cost nothing.
	 */
	vm = &vms[opt_vms - 1];
	if (opt_mode && set_mode(vm, opt_mode))
		return 1;
	get_mode(vm, mode, sizeof(mode));
	/* Let the work VM creation queued (sysfs directories) finish first. */
	usleep(100000);

	if (run_cpuids(vm, opt_warm))
		return 1;
	for (k = 0; k < opt_slices; k++) {
		t0 = now_ns();
		if (run_cpuids(vm, opt_n))
			return 1;
		t1 = now_ns();
		cycles[k] = (double)(*(uint64_t *)bmb(vm, BMB_TSC1) -
				     *(uint64_t *)bmb(vm, BMB_TSC0)) / opt_n;
		ns[k] = (t1 - t0) / opt_n;
	}
	r = bmb(vm, BMB_REGS);
	/* The guest is parked on HLT now (after its OUT): warm up, then time. */
	if (run_exits(vm, opt_exits / 10 + 1))
		return 1;
	for (k = 0; k < opt_slices; k++) {
		t0 = now_ns();
		if (run_exits(vm, opt_exits))
			return 1;
		run_ns[k] = (now_ns() - t0) / opt_exits;
	}

	/* median() sorts: [0] is the minimum afterwards. */
	cyc_med = median(cycles, opt_slices);
	ns_med = median(ns, opt_slices);
	run_med = median(run_ns, opt_slices);
	create_med = median(create, opt_vms);
	printf("create_us=%.1f create_min=%.1f create_max=%.1f ",
	       create_med, create[0], create[opt_vms - 1]);
	printf("cpu_us=%.1f vm_us=%.1f vcpu_us=%.1f set_cpuid_us=%.1f ",
	       median(cpu, opt_vms), median(phase[0], opt_vms),
	       median(phase[1], opt_vms), median(phase[2], opt_vms));
	printf("cycles=%.1f cycles_med=%.1f ns=%.1f ns_med=%.1f ",
	       cycles[0], cyc_med, ns[0], ns_med);
	printf("run_ns=%.1f run_ns_med=%.1f ", run_ns[0], run_med);
	printf("mode=%s exit_hook=%s regs=%08x,%08x,%08x,%08x\n",
	       mode, exit_hook(), r[0], r[1], r[2], r[3]);
	for (k = 0; k < opt_vms; k++)
		vm_destroy(&vms[k]);
	free(cpuid);
	return 0;
}
