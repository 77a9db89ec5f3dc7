/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host: sysfs (PCM_KVM_SYSFS, or $PCMCTL_SYSFS for tests), the device
 * PCM_KVM_DEVICE, /proc and uname.  The only file of pcmctl that touches
 * them.  Functions returning int give 0, or EXIT_OP after a message that
 * names the file or the ioctl, unless they say -errno.
 */
#ifndef PCMCTL_KERNEL_H
#define PCMCTL_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pcm_model.h"

const char *kern_sysfs(void);
/* A small file into buf without its trailing newlines; 0 or -errno. */
int kern_read_small(const char *path, char *buf, size_t size);
/* "PID-FD" with PID > 0 and FD >= 0, decimal: 0, or -1. */
int kern_parse_vm_id(const char *s, int *pid, int *fd);

/* The module's version, ABI-checked, and this host's identity in mode off. */
int kern_host_identity(struct pcm_kvm_identity *id, struct pcm_kvm_version *ver);
/* PCM_KVM_CHECK_IDENTITY of c->id on this host. */
int kern_check_identity(struct pcm_kvm_check *c);
/* PCM_KVM_SET_VM_MODE of the VM fd FD of process PID (pidfd_getfd). */
int kern_set_vm_mode(int pid, int fd, unsigned int mode, const char *cmd);
/* PCM_KVM_SET_PROCESS; messages prefixed cmd. */
int kern_set_process(const struct pcm_kvm_process *a, const char *expect_name,
		     const char *cmd);
/* Forget process pid's process_modes entry. */
int kern_forget_process(unsigned long pid, const char *cmd);

/* The installed baseline (empty is valid), and host_features. */
int kern_baseline(struct pcm_fs *fs, char *path, size_t size);
int kern_host_features(struct pcm_fs *fs);	/* -errno */
/* Write the baseline: 0 or -errno (-EINVAL: the kernel refused it). */
int kern_write_baseline(const struct pcm_fs *fs, char *path, size_t size);
/* host_withhold (module parameter); empty if unreadable */
void kern_host_withhold(struct pcm_fs *fs);

/* What vms and show print of one VM (sysfs/vms/PID-FD/). */
struct vm_info {
	char id[64];
	int pid;
	char comm[64];		/* "" when the process is gone */
	char mode[64];
	char status[1024];	/* "" when there is no status file */
	char *requested;	/* NULL when absent */
	char *visible;
	char *hidden;
	char *identity;		/* NULL when absent */
	char *expect;		/* the identity expected; NULL when none */
};

/* The VMs of sysfs/vms/ (pid 0: all; else only process pid's), sorted. */
int kern_vms(struct vm_info **vms, int *n, int pid);
/* One VM; 0, or -errno (-ENOENT: no such VM) with no message. */
int kern_vm(struct vm_info *vm, int pid, int fd);
void kern_vm_free(struct vm_info *vm);
/* Every readable file of sysfs/vms/PID-FD/, the known ones first. */
struct vm_file {
	char name[256];
	char *value;
};

int kern_vm_files(int pid, int fd, struct vm_file **files, int *n);
/* Write text to sysfs/vms/PID-FD/NAME: 0 or -errno. */
int kern_vm_write(int pid, int fd, const char *name, const char *text, size_t len);
/* The text of sysfs/vms/PID-FD/identity. */
int kern_vm_identity_path(int pid, int fd, char *path, size_t size);

/* This host's name, kernel release, and /proc/cpuinfo values. */
struct host_os {
	char hostname[256];
	char release[256];
	char family[64], model[64], stepping[64], microcode[64];
};

void kern_host_os(struct host_os *os);

#endif /* PCMCTL_KERNEL_H */
