// SPDX-License-Identifier: GPL-2.0
/*
 * pcm_fault_test: runs only against the fault-injection build of pcm_kvm
 * (scripts/build-module --fault-inject, loaded with fault_destroy_panic=0);
 * scripts/test-harness boots it.  A VM that pcm_kvm could not register (here:
 * its preallocated VMs "used up", fault_register_fail=1) must not run: its
 * KVM_RUN fails with EPERM and dmesg says why.  The same steps with the
 * fault off run, so the refusal is the fault's doing.
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

TEST(unregistered_vm_does_not_run)
{
	struct kvm_cpuid2 *set;
	struct guest_view gv;
	struct vm vm = { .vm_fd = -1, .vcpu_fd = -1 };
	char want[64];
	int kmsg, kmsg2, r;

	ASSERT_TRUE(kvm_available()) TH_LOG("no /dev/kvm");
	ASSERT_EQ(0, access(FAULT_PARAM("fault_register_fail"), W_OK))
		TH_LOG("not the fault-injection build of pcm_kvm");
	ASSERT_EQ(0, sysfs_write_str(FAULT_PARAM("fault_destroy_panic"), "0"));
	set = supported(_metadata);

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

TEST_HARNESS_MAIN
