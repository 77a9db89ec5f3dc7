/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pcm_kvm: processor compatibility mode for KVM - user-space ABI.
 *
 * Every structure starts with a __u32 size that the caller sets to
 * sizeof(struct); the module refuses any other value with EINVAL, and the
 * ioctl numbers encode the size too.  Feature sets cross this ABI as raw
 * CPUID register words (enum pcm_kvm_word below), so a tool can compare two sets
 * without a table of feature names.
 *
 * ABI 2 added the IA32_ARCH_CAPABILITIES words, widened the feature set to
 * 24 words and gave the identity the TSC: every structure that holds one
 * changed size, and so did its ioctl number.
 */
#ifndef _UAPI_LINUX_PCM_KVM_H
#define _UAPI_LINUX_PCM_KVM_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define PCM_KVM_ABI_VERSION	2
#define PCM_KVM_DEVICE		"/dev/pcm_kvm"
#define PCM_KVM_SYSFS		"/sys/kernel/pcm_kvm"

/* CPUID output registers, in the order the CPUID instruction names them. */
#define PCM_KVM_EAX	0
#define PCM_KVM_EBX	1
#define PCM_KVM_ECX	2
#define PCM_KVM_EDX	3

/*
 * The feature words.  Word N of a struct pcm_kvm_featureset holds one CPUID
 * output register, or one half of a feature MSR, as the guest (or host)
 * sees it, restricted to the bits pcm_kvm knows.  New words are only
 * appended.
 */
enum pcm_kvm_word {
	PCM_KVM_W_1_ECX,		/* leaf 0x00000001.0 ECX */
	PCM_KVM_W_1_EDX,		/* leaf 0x00000001.0 EDX */
	PCM_KVM_W_6_EAX,		/* leaf 0x00000006.0 EAX */
	PCM_KVM_W_7_0_EBX,		/* leaf 0x00000007.0 EBX */
	PCM_KVM_W_7_0_ECX,		/* leaf 0x00000007.0 ECX */
	PCM_KVM_W_7_0_EDX,		/* leaf 0x00000007.0 EDX */
	PCM_KVM_W_7_1_EAX,		/* leaf 0x00000007.1 EAX */
	PCM_KVM_W_7_1_EDX,		/* leaf 0x00000007.1 EDX */
	PCM_KVM_W_D_1_EAX,		/* leaf 0x0000000d.1 EAX */
	PCM_KVM_W_8000_0001_ECX,	/* leaf 0x80000001.0 ECX */
	PCM_KVM_W_8000_0001_EDX,	/* leaf 0x80000001.0 EDX */
	PCM_KVM_W_8000_0007_EDX,	/* leaf 0x80000007.0 EDX */
	PCM_KVM_W_8000_0008_EBX,	/* leaf 0x80000008.0 EBX */
	PCM_KVM_W_8000_0021_EAX,	/* leaf 0x80000021.0 EAX */
	PCM_KVM_W_7_2_EDX,		/* leaf 0x00000007.2 EDX */
	PCM_KVM_W_MSR_10A_LO,		/* MSR 0x10a (IA32_ARCH_CAPABILITIES) 31:0 */
	PCM_KVM_W_MSR_10A_HI,		/* MSR 0x10a 63:32 */
	PCM_KVM_NR_WORDS_USED
};

/* Fixed size on the ABI; words past PCM_KVM_NR_WORDS_USED are zero. */
#define PCM_KVM_NWORDS	24

struct pcm_kvm_featureset {
	__u32 words[PCM_KVM_NWORDS];
};

enum pcm_kvm_mode {
	PCM_KVM_MODE_OFF = 0,
	PCM_KVM_MODE_MIN,
	PCM_KVM_MODE_X86_64_V2,
	PCM_KVM_MODE_X86_64_V3,
	PCM_KVM_MODE_X86_64_V4,
	PCM_KVM_MODE_BASELINE,
	PCM_KVM_NR_MODES
};

struct pcm_kvm_version {
	__u32 size;
	__u32 abi_version;		/* out: PCM_KVM_ABI_VERSION */
	__u32 nwords;			/* out: PCM_KVM_NR_WORDS_USED */
	__u32 reserved;			/* out: 0 */
	char module_version[32];	/* out: NUL-terminated */
};

struct pcm_kvm_host_features {
	__u32 size;
	__u32 flags;			/* in: must be 0 */
	struct pcm_kvm_featureset features;	/* out */
};

/* A VM is named by a file descriptor of it (from KVM_CREATE_VM). */
struct pcm_kvm_vm_mode {
	__u32 size;
	__s32 vm_fd;			/* in */
	__u32 mode;			/* in (SET) or out (GET): enum pcm_kvm_mode */
	__u32 flags;			/* in: must be 0 */
};

struct pcm_kvm_vm_features {
	__u32 size;
	__s32 vm_fd;			/* in */
	__u32 mode;			/* out */
	__u32 flags;			/* in: must be 0; out: PCM_KVM_VM_* */
	struct pcm_kvm_featureset requested;	/* out: what the VMM set */
	struct pcm_kvm_featureset visible;	/* out: what the guest sees */
	struct pcm_kvm_featureset hidden;	/* out: requested, not visible */
};

/*
 * A VM's CPU identity: what its guest sees.  It travels with the VM (copied
 * from the source host, or saved beside a saved state) and is checked by the
 * destination.  Its text form is what vms/<pid>-<fd>/identity prints and
 * what vms/<pid>-<fd>/expect and `pcmctl check` accept.
 */
struct pcm_kvm_identity {
	__u32 mode;			/* enum pcm_kvm_mode */
	__u32 max_basic_leaf;		/* CPUID.0:EAX */
	__u32 max_ext_leaf;		/* CPUID.0x80000000:EAX */
	__u32 phys_bits;		/* CPUID.0x80000008:EAX[7:0]: 0-255 */
	__u64 xcr0;			/* CPUID.0xD.0 EDX:EAX */
	char vendor[16];		/* CPUID.0 EBX EDX ECX, NUL-terminated */
	struct pcm_kvm_featureset features;
	__u32 tsc_khz;			/* guest's TSC rate (host: a new vCPU's) */
	__u32 flags;			/* PCM_KVM_ID_* */
};

/* pcm_kvm_identity.flags */
#define PCM_KVM_ID_TSC_SCALING	_BITUL(0)	/* a host that scales a guest's TSC */
/* tsc_khz 0: unknown (an identity of version 1), never checked */

struct pcm_kvm_vm_identity {
	__u32 size;
	__s32 vm_fd;			/* in */
	__u32 flags;			/* in: must be 0 */
	__u32 reserved;
	struct pcm_kvm_identity id;	/* out */
};

/*
 * This host's identity as a destination of a VM in mode: what such a VM
 * could see here (host_withhold honoured), with the TSC rate KVM gives a
 * new vCPU.  `pcmctl host --identity` writes it for offline checks.
 */
struct pcm_kvm_host_identity {
	__u32 size;
	__u32 mode;			/* in: enum pcm_kvm_mode */
	__u32 flags;			/* in: must be 0 */
	__u32 reserved;			/* in: must be 0 */
	struct pcm_kvm_identity id;	/* out */
};

/*
 * A process's entry of process_modes: the mode, and optionally the
 * identity expected, of every VM it (or a process it starts) creates from
 * now on, as if set before KVM_SET_CPUID2.  Replaces the entry the process
 * had; it ends when the process does.  EINVAL, with dmesg naming what is
 * missing, when this host cannot give a VM in that mode the identity.
 * `pcmctl run` sets its own before it execs a VMM.
 */
struct pcm_kvm_process {
	__u32 size;
	__s32 pid;			/* in: a process id; 0: the caller */
	__u32 mode;			/* in: enum pcm_kvm_mode */
	__u32 flags;			/* in: PCM_KVM_PROCESS_* */
	struct pcm_kvm_identity expect;	/* in, with PCM_KVM_PROCESS_EXPECT */
};

#define PCM_KVM_PROCESS_EXPECT	_BITUL(0)	/* expect is set */

/* Answers of PCM_KVM_CHECK_IDENTITY, best first. */
enum pcm_kvm_check_result {
	PCM_KVM_CHECK_IDENTICAL = 0,	/* exactly that (maybe immune to more) */
	PCM_KVM_CHECK_COMPATIBLE,	/* it gives all of it, and more */
	PCM_KVM_CHECK_MISSING,		/* features or limits missing here */
	PCM_KVM_CHECK_VENDOR,		/* another CPU vendor */
};

/* Limits a destination lacks (pcm_kvm_check.limits) */
#define PCM_KVM_LIMIT_PHYS_BITS		_BITUL(0)	/* fewer physical address bits */
#define PCM_KVM_LIMIT_BASIC_LEAF	_BITUL(1)	/* a basic leaf in use is past the max */
#define PCM_KVM_LIMIT_EXT_LEAF		_BITUL(2)	/* the same for extended leaves */
#define PCM_KVM_LIMIT_XCR0		_BITUL(3)	/* an XSAVE component the VM uses */
#define PCM_KVM_LIMIT_TSC		_BITUL(4)	/* an invtsc guest's TSC rate */

struct pcm_kvm_check {
	__u32 size;
	__u32 flags;			/* in: must be 0 */
	struct pcm_kvm_identity id;	/* in: the VM's identity */
	__u32 result;			/* out: enum pcm_kvm_check_result */
	__u32 limits;			/* out: PCM_KVM_LIMIT_* */
	__u32 host_phys_bits;		/* out: this host's value */
	__u32 host_max_basic_leaf;	/* out */
	__u32 host_max_ext_leaf;	/* out */
	__u32 host_tsc_khz;		/* out: a new vCPU's TSC rate */
	__u64 host_xcr0;		/* out */
	struct pcm_kvm_featureset missing;	/* out: seen by the VM, absent here */
	struct pcm_kvm_featureset extra;	/* out: here, not seen by the VM */
	char host_vendor[16];		/* out */
	__u32 host_flags;		/* out: PCM_KVM_ID_* */
	__u32 reserved;			/* out: 0 */
};

struct pcm_kvm_vm_expect {
	__u32 size;
	__s32 vm_fd;			/* in */
	__u32 flags;			/* in: must be 0 */
	__u32 reserved;
	struct pcm_kvm_identity id;	/* in: the identity on the source */
};

/* pcm_kvm_vm_features.flags on return */
#define PCM_KVM_VM_CPUID_SET	_BITUL(0)	/* the VMM has set CPUID */
#define PCM_KVM_VM_RAN		_BITUL(1)	/* a vCPU ran: mode frozen */
#define PCM_KVM_VM_STORED_MASKED _BITUL(2)	/* KVM's stored CPUID is masked */
#define PCM_KVM_VM_EXPECT	_BITUL(3)	/* an expected identity is set */
#define PCM_KVM_VM_BLOCKED	_BITUL(4)	/* KVM_RUN refused: expectation unmet */

#define PCM_KVM_IOC_MAGIC	0xC7

#define PCM_KVM_GET_VERSION	_IOWR(PCM_KVM_IOC_MAGIC, 0x00, struct pcm_kvm_version)
#define PCM_KVM_GET_HOST_FEATURES _IOWR(PCM_KVM_IOC_MAGIC, 0x01, struct pcm_kvm_host_features)
#define PCM_KVM_SET_VM_MODE	_IOW(PCM_KVM_IOC_MAGIC, 0x02, struct pcm_kvm_vm_mode)
#define PCM_KVM_GET_VM_MODE	_IOWR(PCM_KVM_IOC_MAGIC, 0x03, struct pcm_kvm_vm_mode)
#define PCM_KVM_GET_VM_FEATURES	_IOWR(PCM_KVM_IOC_MAGIC, 0x04, struct pcm_kvm_vm_features)
#define PCM_KVM_GET_VM_IDENTITY	_IOWR(PCM_KVM_IOC_MAGIC, 0x05, struct pcm_kvm_vm_identity)
#define PCM_KVM_CHECK_IDENTITY	_IOWR(PCM_KVM_IOC_MAGIC, 0x06, struct pcm_kvm_check)
#define PCM_KVM_SET_VM_EXPECT	_IOW(PCM_KVM_IOC_MAGIC, 0x07, struct pcm_kvm_vm_expect)
#define PCM_KVM_GET_HOST_IDENTITY _IOWR(PCM_KVM_IOC_MAGIC, 0x08, struct pcm_kvm_host_identity)
#define PCM_KVM_SET_PROCESS	_IOW(PCM_KVM_IOC_MAGIC, 0x09, struct pcm_kvm_process)

#endif /* _UAPI_LINUX_PCM_KVM_H */
