# SPDX-License-Identifier: GPL-2.0
#
# pcm_kvm: processor compatibility mode for KVM.
#
#   make [KDIR=/usr/src/linux-headers-<ver>]   build pcm_kvm.ko here
#   make modules-all      build module/build-<ver>/pcm_kvm.ko for every test kernel
#                         (6.12, 6.1; 7.2 in the Debian unstable root)
#   make install          install into /lib/modules/<ver>/updates, run depmod
#   make install-tools    pcmctl, its man page, the examples
#                         (PREFIX=/usr/local, DESTDIR for packaging)
#   make install-libvirt-hook   the libvirt hook, /etc/libvirt/hooks/qemu.d/pcm_kvm,
#                         and the QEMU wrapper, $(PREFIX)/libexec/pcm_kvm/qemu-system-x86_64
#   make check            every test (installs what it needs)
#   make demo             the main job, shown in a test kernel
#   make lint             checkpatch, sparse, W=1 on 6.1, 6.12 and 7.2, cppcheck
#   make fuzz             libFuzzer + ASan/UBSan on every parser (a few minutes)
#   make bench            CPUID-exit and VM-creation overhead, pool computation
#   make check-debug      the kernel tests on a KASAN/lockdep/kmemleak kernel
#   make check-fresh      setup-deps and check in a clean Debian 12 root
ifneq ($(KERNELRELEASE),)
include $(src)/Kbuild
else

KDIR ?= /lib/modules/$(shell uname -r)/build
PWD := $(CURDIR)
PREFIX ?= /usr/local
DESTDIR ?=

all: module

module:
	$(MAKE) -C $(KDIR) M=$(PWD) W=1 modules

modules-all:
	scripts/build-module --all

install: module
	$(MAKE) -C $(KDIR) M=$(PWD) INSTALL_MOD_DIR=updates modules_install
	depmod -a $(shell $(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null)

pcmctl:
	$(MAKE) -C tools/pcmctl

install-tools: pcmctl
	install -D -m 0755 tools/pcmctl/pcmctl $(DESTDIR)$(PREFIX)/sbin/pcmctl
	install -D -m 0644 tools/pcmctl/pcmctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/pcmctl.8
	install -d $(DESTDIR)$(PREFIX)/share/doc/pcm_kvm/examples
	cp -R examples/. $(DESTDIR)$(PREFIX)/share/doc/pcm_kvm/examples/

check:
	scripts/check

demo:
	scripts/demo

install-libvirt-hook:
	install -D -m 0755 scripts/libvirt-hook-qemu $(DESTDIR)/etc/libvirt/hooks/qemu.d/pcm_kvm
	install -D -m 0755 scripts/pcm-qemu-wrapper $(DESTDIR)$(PREFIX)/libexec/pcm_kvm/qemu-system-x86_64

lint:
	scripts/lint

fuzz:
	scripts/fuzz

bench:
	scripts/bench

check-debug:
	scripts/check-debug

check-fresh:
	scripts/check-fresh

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	rm -rf module/build-*
	$(MAKE) -C tools/pcmctl clean 2>/dev/null || true
	$(MAKE) -C selftests clean 2>/dev/null || true
	rm -rf build/fuzz
	$(MAKE) -C bench clean 2>/dev/null || true

.PHONY: all module modules-all install install-tools install-libvirt-hook pcmctl check demo lint fuzz \
	bench check-debug check-fresh clean
endif
