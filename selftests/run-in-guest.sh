#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the pcm_kvm selftests INSIDE the booted test kernel, as root, from the
# checkout directory, e.g. from the host:
#
#   scripts/vng-run --kernel 6.12 -- selftests/run-in-guest.sh
#   scripts/vng-run --kernel 6.1  -- selftests/run-in-guest.sh module/build-X/pcm_kvm.ko
#
# Usage: selftests/run-in-guest.sh [MODULE.ko | --no-module] [-- TEST-ARGS...]
#   MODULE.ko     default module/build-$(uname -r)/pcm_kvm.ko
#   --no-module   do not load pcm_kvm: only the KVM plumbing tests run
#                 (kvm_runner.*), the others report SKIP
#   TEST-ARGS     passed to each test program (e.g. -f enforce, -t guest_cpuid,
#                 -l); a filter that matches nothing in one program runs
#                 nothing there
#   PCM_SELFTESTS="pcm_kvm_test pcm_migrate_test"  (environment) the programs
#                 to run, in order; default both
#
# Steps: modprobe kvm_amd (kvm_intel as a fallback); insmod the module (unless
# already loaded, then that one is used and left loaded); run
# selftests/pcm_kvm_test, then selftests/pcm_migrate_test (made first if out
# of date; each prints its own "# Totals:" line, callers sum them); rmmod the
# module it loaded; then fail if the kernel log (dmesg) has any BUG/WARNING/
# Oops/KASAN/UBSAN line.  Exit status: 0 if every program passed, else the
# first failing program's status, or 1 for a module load/unload failure or a
# kernel splat.
set -u

cd "$(dirname "$0")/.." || exit 1

KO=module/build-$(uname -r)/pcm_kvm.ko
LOAD=1
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
	if [ "$1" = "--no-module" ]; then
		LOAD=0
	else
		KO=$1
	fi
	shift
fi
[ "${1:-}" = "--" ] && shift

log() { echo "# run-in-guest: $*"; }
SPLAT='BUG|WARNING|Oops|KASAN|UBSAN'

if [ "$(id -u)" != 0 ]; then
	log "must run as root"
	exit 1
fi

echo "pcm_kvm selftests: start" >/dev/kmsg 2>/dev/null

if [ ! -e /dev/kvm ]; then
	modprobe kvm_amd 2>/dev/null || modprobe kvm_intel 2>/dev/null
fi
if [ ! -e /dev/kvm ]; then
	log "no /dev/kvm (modprobe kvm_amd/kvm_intel failed)"
	exit 1
fi

LOADED_HERE=0
if [ "$LOAD" = 1 ]; then
	if [ -d /sys/module/pcm_kvm ]; then
		log "pcm_kvm already loaded; testing that one"
	elif [ ! -f "$KO" ]; then
		log "module $KO not found (build it, or pass its path, or --no-module)"
		exit 1
	else
		# what the kernel logs from here on, not the last lines of the log
		klines=$(dmesg | wc -l)
		if ! insmod "$KO"; then
			log "insmod $KO failed; the kernel said:"
			dmesg | tail -n "+$((klines + 1))" | sed 's/^/# /'
			exit 1
		fi
		LOADED_HERE=1
		log "loaded $KO"
	fi
fi

TESTS=${PCM_SELFTESTS:-pcm_kvm_test pcm_migrate_test}
# A no-op when the host built them already (make check does).  The harness
# headers are left out of that check: under virtme-ng /var/cache, where the
# Makefile may keep them, is an empty tmpfs, and fetching them again from
# the source tarball would rebuild every test under TCG for nothing.
if command -v make >/dev/null && ! make -s -q -C selftests HARNESS= 2>/dev/null; then
	make -s -C selftests || { log "building the selftests failed"; exit 1; }
fi
for t in $TESTS; do
	[ -x "selftests/$t" ] || { log "no selftests/$t (run make -C selftests)"; exit 1; }
done

rc=0
for t in $TESTS; do
	log "running selftests/$t"
	start=$SECONDS
	"selftests/$t" "$@"
	r=$?
	log "selftests/$t: exit status $r after $((SECONDS - start)) s"
	[ "$rc" = 0 ] && rc=$r
done

if [ "$LOADED_HERE" = 1 ]; then
	# VM directories go away asynchronously; rmmod must cope with that.
	if ! rmmod pcm_kvm; then
		log "rmmod pcm_kvm failed"
		[ "$rc" = 0 ] && rc=1
	fi
fi

echo "pcm_kvm selftests: end" >/dev/kmsg 2>/dev/null
splat=$(dmesg | grep -E "$SPLAT")
if [ -n "$splat" ]; then
	log "dmesg has $(echo "$splat" | wc -l) BUG/WARNING/Oops/KASAN/UBSAN line(s):"
	dmesg | grep -E -A25 "$SPLAT" | head -n 150 | sed 's/^/# /'
	[ "$rc" = 0 ] && rc=1
fi
exit "$rc"
