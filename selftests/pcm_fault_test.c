// SPDX-License-Identifier: GPL-2.0
/*
 * pcm_fault_test: runs only against the fault-injection build of pcm_kvm
 * (scripts/build-module --fault-inject, loaded with fault_destroy_panic=0);
 * scripts/test-harness boots it.  A VM that pcm_kvm could not register (here:
 * its preallocated VMs "used up", fault_register_fail=1) must not run: its
 * KVM_RUN fails with EPERM and dmesg says why.  A guest CPUID that the
 * kvm_cpuid return probe misses (fault_exit_miss=1) must not show the guest
 * more than its mode, and blocks the VM.  The same steps with the fault off
 * run, so each refusal is the fault's doing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pcm_util.h"
#include "vm.h"
#include "pcm_steps.h"

#define FAULT_PARAM(name) "/sys/module/pcm_kvm/parameters/" name

/* The fault-injection build, its panic off; KVM's supported CPUID. */
static struct kvm_cpuid2 *fault_setup(struct __test_metadata *_metadata,
				      const char *param)
{
	ASSERT_TRUE(kvm_available()) TH_LOG("no /dev/kvm");
	ASSERT_EQ(0, access(param, W_OK))
		TH_LOG("not the fault-injection build of pcm_kvm");
	ASSERT_EQ(0, sysfs_write_str(FAULT_PARAM("fault_destroy_panic"), "0"));
	return supported(_metadata);
}

TEST(unregistered_vm_does_not_run)
{
	struct kvm_cpuid2 *set;
	struct guest_view gv;
	struct vm vm = { .vm_fd = -1, .vcpu_fd = -1 };
	char want[64];
	int kmsg, kmsg2, r;

	set = fault_setup(_metadata, FAULT_PARAM("fault_register_fail"));

	/* Two readers from here: each search consumes what it reads. */
	kmsg = kmsg_open(_metadata);
	kmsg2 = kmsg_open(_metadata);
	ASSERT_EQ(0, sysfs_write_str(FAULT_PARAM("fault_register_fail"), "1"));
	new_vm(_metadata, &vm, true);
	ASSERT_EQ(0, sysfs_write_str(FAULT_PARAM("fault_register_fail"), "0"));
	EXPECT_EQ(0, count_vm_dirs(getpid())) TH_LOG("the VM got a directory");
	set_cpuid(_metadata, &vm, set);
	gv.n = feature_requests(set, gv.req);
	r = guest_cpuid(&vm, gv.req, gv.n);
	EXPECT_EQ(-EPERM, r) TH_LOG("KVM_RUN of an unregistered VM: %s",
				    r ? strerror(-r) : "it ran");
	EXPECT_TRUE(kmsg_find(kmsg, "could not be registered", "preallocated VMs used up",
			      NULL));
	snprintf(want, sizeof(want), "KVM_RUN of pid %d refused", getpid());
	EXPECT_TRUE(kmsg_find(kmsg2, want, NULL, NULL));
	vm_destroy(&vm);

	/* The fault off: the same VM is registered and runs. */
	new_vm(_metadata, &vm, true);
	EXPECT_EQ(1, count_vm_dirs(getpid()));
	set_cpuid(_metadata, &vm, set);
	run_guest_cpuid(_metadata, &vm, set, &gv);
	vm_destroy(&vm);
	close(kmsg);
	close(kmsg2);
	free(set);
}

/* A VM whose mode came after KVM_SET_CPUID2: only the exit path masks it. */
static void new_late_vm(struct __test_metadata *_metadata, struct vm *vm,
			struct kvm_cpuid2 *set)
{
	new_vm(_metadata, vm, true);
	set_cpuid(_metadata, vm, set);
	set_mode(_metadata, vm->vm_fd, PCM_KVM_MODE_X86_64_V2);
}

TEST(exit_probe_miss_blocks_vm)
{
	struct vm vm = { .vm_fd = -1, .vcpu_fd = -1 };
	struct guest_cpuid req[MB_MAX_ENTRIES];
	struct pcm_fs requested, expected, mask;
	struct guest_view gv;
	struct kvm_cpuid2 *set;
	char path[256], status[512];
	unsigned int n, i, nonzero = 0;
	int kmsg, r;

	set = fault_setup(_metadata, FAULT_PARAM("fault_exit_miss"));
	kmsg = kmsg_open(_metadata);

	new_late_vm(_metadata, &vm, set);
	n = feature_requests(set, req);
	ASSERT_LT(0, n);
	ASSERT_EQ(0, sysfs_write_str(FAULT_PARAM("fault_exit_miss"), "1"));
	r = guest_cpuid(&vm, req, n);
	ASSERT_EQ(0, sysfs_write_str(FAULT_PARAM("fault_exit_miss"), "0"));
	/* The run was allowed; every CPUID in it went past the return probe. */
	ASSERT_EQ(0, r) TH_LOG("guest CPUID run: %s", strerror(-r));
	for (i = 0; i < n; i++)
		nonzero += !!(req[i].regs[0] | req[i].regs[1] | req[i].regs[2] |
			      req[i].regs[3]);
	EXPECT_EQ(0, nonzero) TH_LOG("%u missed CPUIDs answered with KVM's values", nonzero);
	vm_dir_path(path, sizeof(path), getpid(), vm.vm_fd, "status");
	ASSERT_LT(0, sysfs_read(path, status, sizeof(status)));
	EXPECT_NE(NULL, strstr(status, "went past the exit probe")) TH_LOG("status: %s", status);
	EXPECT_TRUE(kmsg_find(kmsg, "without a free instance", "KVM_RUN refused", NULL));
	r = guest_cpuid(&vm, req, n);
	EXPECT_EQ(-EPERM, r) TH_LOG("KVM_RUN after a missed CPUID: %s",
				    r ? strerror(-r) : "it ran");
	vm_destroy(&vm);

	/* The fault off: the same VM runs, masked by the exit path. */
	new_late_vm(_metadata, &vm, set);
	fs_from_cpuid2(set, &requested);
	fs_expected(PCM_KVM_MODE_X86_64_V2, NULL, &requested, &expected);
	fs_compare_mask(&mask);
	run_guest_cpuid(_metadata, &vm, set, &gv);
	EXPECT_EQ(0, fs_diff("guest in x86-64-v2", &gv.fs, &expected, &mask));
	EXPECT_NE(0, gv.req[0].regs[0]) TH_LOG("CPUID 0 answered zeros without a miss");
	vm_destroy(&vm);
	close(kmsg);
	free(set);
}

TEST_HARNESS_MAIN
