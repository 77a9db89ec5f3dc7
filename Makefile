# SPDX-License-Identifier: GPL-2.0
#
# pcm_kvm: processor compatibility mode for KVM.
#
#   make [KDIR=/usr/src/linux-headers-<ver>]   build pcm_kvm.ko here
#   make modules-all      build module/build-<ver>/pcm_kvm.ko for every test kernel
#   make install          install into /lib/modules/<ver>/updates, run depmod
#   make check            every test (installs what it needs)
#   make demo             the main job, shown in a test kernel
#   make lint             checkpatch, sparse, W=1 on 6.1 and 6.12, cppcheck
ifneq ($(KERNELRELEASE),)
include $(src)/Kbuild
else

KDIR ?= /lib/modules/$(shell uname -r)/build
PWD := $(CURDIR)

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

check:
	scripts/check

demo:
	scripts/demo

lint:
	scripts/lint

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	rm -rf module/build-*
	$(MAKE) -C tools/pcmctl clean 2>/dev/null || true
	$(MAKE) -C selftests clean 2>/dev/null || true

.PHONY: all module modules-all install pcmctl check demo lint clean
endif
