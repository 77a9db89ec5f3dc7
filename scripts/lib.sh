# shellcheck shell=bash disable=SC2034
# Shared helpers for scripts/setup-deps and scripts/vng-run.  Source it, do
# not execute it.
#
# Kernel versions are resolved from the installed Debian headers packages
# (never from `uname -r`: the host's running kernel is unrelated).

# Where downloaded kernels and the virtme-ng venv live.  It must NOT be under
# /var/cache, /var/tmp, /var/log or /run: inside a virtme-ng guest those are
# fresh tmpfs mounts, and the guest needs to see the kernel modules there.
PCM_KVM_CACHE="${PCM_KVM_CACHE:-/opt/pcm_kvm-cache}"

# The kernel series we test against.
PCM_KVM_SERIES=(6.12 6.1)

pcm_die() {
	echo "$(basename "$0"): $*" >&2
	exit 2
}

# pcm_headers_glob SERIES -> glob for the headers dirs of that series
pcm_headers_glob() {
	case "$1" in
	6.12) echo '/usr/src/linux-headers-6.12.*-amd64' ;;
	6.1) echo '/usr/src/linux-headers-6.1.0-*-amd64' ;;
	*) return 1 ;;
	esac
}

# pcm_kver SERIES -> full kernel release string (e.g. 6.12.117+deb12-amd64),
# the newest one whose headers are installed.  Empty + status 1 if none.
pcm_kver() {
	local glob d best=""
	glob=$(pcm_headers_glob "$1") || return 1
	for d in $glob; do
		[ -f "$d/Makefile" ] || continue
		best+="${d#/usr/src/linux-headers-}"$'\n'
	done
	best=$(printf '%s' "$best" | sort -V | tail -n1)
	[ -n "$best" ] || return 1
	echo "$best"
}

# pcm_kdir SERIES -> headers dir to build external modules against
pcm_kdir() {
	local kver
	kver=$(pcm_kver "$1") || return 1
	echo "/usr/src/linux-headers-$kver"
}

# pcm_kroot KVER -> dpkg -x root of the kernel image in the cache
pcm_kroot() {
	echo "$PCM_KVM_CACHE/kernels/$1"
}

# pcm_vmlinuz KVER -> path of the cached kernel image
pcm_vmlinuz() {
	echo "$PCM_KVM_CACHE/kernels/$1/boot/vmlinuz-$1"
}

PCM_VENV="$PCM_KVM_CACHE/venv"
PCM_VNG="$PCM_VENV/bin/vng"
# virtme-ng version installed into the venv (works with Debian's python3.11).
PCM_VNG_VERSION="1.42"
