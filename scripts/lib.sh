# shellcheck shell=bash disable=SC2034
# Shared helpers for scripts/setup-deps and scripts/vng-run.  Source it, do
# not execute it.
#
# Kernel versions are resolved from the installed Debian headers packages
# (never from `uname -r`: the host's running kernel is unrelated): on the
# host for Debian 12's 6.12 and 6.1, in the Debian unstable root
# ($PCM_SID_ROOT) for unstable's kernel, whose compiler the host lacks.

# Where downloaded kernels and the virtme-ng venv live.  It must NOT be under
# /var/cache, /var/tmp, /var/log or /run: inside a virtme-ng guest those are
# fresh tmpfs mounts, and the guest needs to see the kernel modules there.
PCM_KVM_CACHE="${PCM_KVM_CACHE:-/opt/pcm_kvm-cache}"

# The kernel series we test against.
PCM_KVM_SERIES=(6.12 6.1 7.2)

# Debian unstable's current linux-image-amd64 is built with a gcc that Debian
# 12 does not have (gcc 16 for 7.2), so its headers and that compiler live in
# a Debian unstable root made by scripts/setup-deps (mmdebstrap), and
# scripts/build-module builds for it in a chroot there.  PCM_SID_SERIES is
# the series unstable ships; when unstable moves on, setup-deps says so.
PCM_SID_SERIES=7.2
PCM_SID_ROOT="$PCM_KVM_CACHE/sid-root"
PCM_SID_MIRROR="${PCM_SID_MIRROR:-http://deb.debian.org/debian}"

pcm_die() {
	echo "$(basename "$0"): $*" >&2
	exit 2
}

# pcm_series_root SERIES -> the root its headers and compiler live in
# (empty: this machine)
pcm_series_root() {
	if [ "$1" = "$PCM_SID_SERIES" ]; then echo "$PCM_SID_ROOT"; fi
}

# pcm_kdir_root KDIR -> the root a headers dir lives in (empty: this machine)
pcm_kdir_root() {
	case "$1" in
	"$PCM_SID_ROOT"/*) echo "$PCM_SID_ROOT" ;;
	esac
}

# pcm_headers_glob SERIES -> glob for the headers dirs of that series
pcm_headers_glob() {
	case "$1" in
	6.12) echo '/usr/src/linux-headers-6.12.*-amd64' ;;
	6.1) echo '/usr/src/linux-headers-6.1.0-*-amd64' ;;
	"$PCM_SID_SERIES") echo "$PCM_SID_ROOT/usr/src/linux-headers-$1.*-amd64" ;;
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
		best+="${d##*/linux-headers-}"$'\n'
	done
	best=$(printf '%s' "$best" | sort -V | tail -n1)
	[ -n "$best" ] || return 1
	echo "$best"
}

# pcm_kdir SERIES -> headers dir to build external modules against
pcm_kdir() {
	local kver
	kver=$(pcm_kver "$1") || return 1
	echo "$(pcm_series_root "$1")/usr/src/linux-headers-$kver"
}

# pcm_root_run ROOT [-u] [-o] [-e NAME=VALUE]... [-b HOSTDIR DIR]... -- CMD [ARGS...]
# Run CMD in a chroot of ROOT, in a mount namespace of its own: /proc, a
# fresh tmpfs /tmp and each HOSTDIR bound at DIR (DIR under /tmp, so the root
# itself is not touched).  The mounts vanish with CMD, even if it is killed:
# nothing stays mounted.  -u: as the caller's uid/gid, so what CMD writes in
# a bound HOSTDIR is the caller's, not root's.  -o: on a throwaway overlay
# of ROOT (in memory), so what CMD changes in the root vanishes with it.
# The environment is a clean one (PATH, HOME=/tmp, LC_ALL=C.UTF-8) plus the
# -e words.  Needs root (or sudo -n).
pcm_root_run() {
	local root=$1 user="" ov=0 sudo="" binds=() envs=()
	shift
	while [ $# -gt 0 ]; do
		case "$1" in
		-u) [ "$(id -u)" = 0 ] || user="$(id -u):$(id -g)"; shift ;;
		-o) ov=1; shift ;;
		-e) envs+=("$2"); shift 2 ;;
		-b) binds+=("$2" "$3"); shift 3 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	[ -x "$root/usr/bin/env" ] || { echo "pcm_root_run: no root at $root" >&2; return 2; }
	[ "$(id -u)" = 0 ] || sudo="sudo -n"
	# shellcheck disable=SC2016 # the script is for the inner bash
	$sudo unshare --mount --propagation private -- /bin/bash -c '
		set -e
		root=$1 user=$2 ov=$3 nb=$4
		shift 4
		if [ "$ov" = 1 ]; then
			# upper and work dirs in a tmpfs at the root'"'"'s /tmp (which the
			# overlay does not see: it reads the root'"'"'s own file system)
			mount -t tmpfs -o mode=0755 tmpfs "$root/tmp"
			mkdir "$root/tmp/upper" "$root/tmp/work" "$root/tmp/merged"
			mount -t overlay overlay -o "lowerdir=$root,upperdir=$root/tmp/upper,workdir=$root/tmp/work" "$root/tmp/merged"
			root=$root/tmp/merged
		fi
		mount -t proc proc "$root/proc"
		mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
		for ((i = 0; i < nb; i += 2)); do
			mkdir -p "$root$2"
			mount --bind "$1" "$root$2"
			shift 2
		done
		env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LC_ALL=C.UTF-8)
		ne=$1
		shift
		for ((i = 0; i < ne; i++)); do env+=("$1"); shift; done
		exec chroot ${user:+--userspec="$user"} "$root" /usr/bin/env -i "${env[@]}" "$@"
	' pcm_root_run "$root" "$user" "$ov" "${#binds[@]}" ${binds[@]+"${binds[@]}"} \
		"${#envs[@]}" ${envs[@]+"${envs[@]}"} "$@"
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

# What on a test kernel's console means the kernel, not the suite, failed:
# a panic, Oops, BUG, WARNING, a hung task, an RCU stall, a lockdep report,
# or any stack trace through pcm_kvm.
PCM_CONSOLE_REPORTS='Kernel panic|Oops|BUG:|WARNING:|kernel BUG|general protection|'
PCM_CONSOLE_REPORTS+='blocked for more than|detected stall|rcu: INFO|'
PCM_CONSOLE_REPORTS+='possible (circular|recursive) locking|inconsistent lock state|'
PCM_CONSOLE_REPORTS+='bad unlock balance|KASAN|UBSAN|Call Trace:|\[pcm_kvm\]'

# pcm_console_reports FILE: the lines of a saved console (scripts/vng-run
# --console) that report a kernel failure; nothing if there are none.
pcm_console_reports() {
	tr -d '\r' <"$1" 2>/dev/null | grep -aE "$PCM_CONSOLE_REPORTS" | head -n 40
}

# pcm_vms_left: after the VMMs exited, what is still in pcm_kvm's vms/ once
# the directories, which go asynchronously, had 30 s to go (names on one
# line; nothing when vms/ is empty).
pcm_vms_left() {
	local left i
	for ((i = 0; i < 300; i++)); do
		left=$(ls /sys/kernel/pcm_kvm/vms 2>/dev/null)
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	echo "${left//$'\n'/ }"
}

# The checkout (scripts/..), for files the helpers read.
PCM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# How scripts/check counts a stage's log (its header says the rules).
# pcm_skip_allowed STAGE LINE: scripts/expected-skips has a rule for it
pcm_skip_allowed() {
	local glob re
	# shellcheck disable=SC2254 # the stage field is a glob
	while read -r glob re; do
		case "$glob" in '' | '#'*) continue ;; esac
		case "$2" in *"# SKIP"*) ;; *) return 1 ;; esac
		case "$1" in $glob) [[ "$2" =~ $re ]] && return 0 ;; esac
	done <"$PCM_TOP/scripts/expected-skips"
	return 1
}

# pcm_failed_cases LOG: each "not ok" line of LOG with the "#" lines that
# follow it (at most 20 each, 80 in all): why a case failed, for an output
# that keeps nothing else (CI).
pcm_failed_cases() {
	awk '/^not ok/ { n = 20; print; next }
	     n > 0 && /^#/ { n--; print; next }
	     { n = 0 }' "$1" | head -n 80
}

# pcm_count STAGE LOG EXIT -> "passed failed skipped"; unexpected skips are
# listed in LOG.unexpected
pcm_count() {
	local stage=$1 log=$2 rc=$3 p=0 f=0 k=0 line a b c
	: >"$log.unexpected"
	if grep -qE '^(not )?ok( |$)' "$log"; then
		while IFS= read -r line; do
			case "$line" in
			"not ok"*) f=$((f + 1)) ;;
			*"# SKIP"* | *"# skip"*)
				if pcm_skip_allowed "$stage" "${line/\# skip/# SKIP}"; then
					k=$((k + 1))
				else
					f=$((f + 1))
					echo "$line" >>"$log.unexpected"
				fi
				;;
			*) p=$((p + 1)) ;;
			esac
		done < <(grep -E '^(not )?ok( |$)' "$log")
	else
		# "NAME: N passed, N failed[, N skipped]" (kunit); a skip here
		# has no name to allow, so it fails.
		while read -r a b c; do
			p=$((p + a)) f=$((f + b + c))
			[ "$c" = 0 ] || echo "$stage: $c skipped" >>"$log.unexpected"
		done < <(sed -n 's/^[A-Za-z0-9_ ().+-]*: \([0-9]\+\) passed, \([0-9]\+\) failed\(, \([0-9]\+\) skipped\)\?$/\1 \2 \4/p' "$log" |
			awk '{ print $1, $2, ($3 == "" ? 0 : $3) }')
		if [ "$p" = 0 ] && [ "$f" = 0 ]; then
			if [ "$rc" = 0 ]; then p=1; else f=1; fi
		fi
	fi
	[ "$rc" != 0 ] && [ "$f" = 0 ] && f=1	# the stage failed outside any counted case
	echo "$p $f $k"
}
