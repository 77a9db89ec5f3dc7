# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# What pcmctl's test scripts share: source it after setting TAP_NAME.
#   here, top      tools/pcmctl and the checkout root
#   cpuid_dir      the real dumps ($PCMCTL_CPUID_DIR, default ../shared/cpuid)
#   PCMCTL         the binary under test (default: tools/pcmctl/pcmctl, built)
#   tmp            a directory removed at exit
#   run ARGS...    run pcmctl: $out, $err, $rc (run_in FILE ARGS...: FILE on
#                  standard input)
#   expect DESC RC [STDOUT-ERE [STDERR-ERE]], expect_out DESC RC TEXT,
#   check DESC CMD..., field KEY, has_word LIST WORD, mkid (an identity text
#                  whose raw words are computed here; MKID_VERSION 1 or 2)
# and tap.sh's ok, not_ok, skip, note, tap_finish.

here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd -P)
top=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null) ||
	top=$(cd "$here/../.." && pwd -P)
cpuid_dir=${PCMCTL_CPUID_DIR:-$top/../shared/cpuid}

# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$here/tap.sh"

if [ -z "${PCMCTL:-}" ]; then
	if ! make -C "$here" -s pcmctl >&2; then
		not_ok "pcmctl builds"
		tap_finish
	fi
	PCMCTL=$here/pcmctl
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() {
	out=$("$PCMCTL" "$@" 2>"$tmp/stderr")
	rc=$?
	err=$(<"$tmp/stderr")
}

run_in() {
	local f=$1

	shift
	out=$("$PCMCTL" "$@" <"$f" 2>"$tmp/stderr")
	rc=$?
	err=$(<"$tmp/stderr")
}

# expect DESC RC [STDOUT-REGEX [STDERR-REGEX]] after run: the exit status,
# and stdout / stderr match the extended regexes (empty: any).
expect() {
	local d=$1 want=$2 ore=${3:-} ere=${4:-}

	if [ "$rc" != "$want" ]; then
		not_ok "$d" "exit status $rc, expected $want" "stdout: ${out:0:4000}" "stderr: $err"
	elif [ -n "$ore" ] && ! grep -Eq -- "$ore" <<<"$out"; then
		not_ok "$d" "stdout does not match /$ore/:" "${out:0:4000}"
	elif [ -n "$ere" ] && ! grep -Eq -- "$ere" <<<"$err"; then
		not_ok "$d" "stderr does not match /$ere/:" "$err"
	else
		ok "$d"
	fi
}

# expect_out DESC RC TEXT after run: the exit status, and stdout is TEXT.
expect_out() {
	if [ "$rc" != "$2" ]; then
		not_ok "$1" "exit status $rc, expected $2" "stdout: $out" "stderr: $err"
	elif [ "$out" != "$3" ]; then
		not_ok "$1" "stdout:" "$out" "expected:" "$3"
	else
		ok "$1"
	fi
}

# check DESC COMMAND...: pass when the command succeeds.  It runs in a
# subshell, so an "eval" command may "exit 1".
check() {
	local d=$1

	shift
	if ("$@"); then
		ok "$d"
	else
		not_ok "$d" "failed: $*" "stdout: ${out:0:2000}" "stderr: ${err:-}"
	fi
}

# field KEY [TEXT]: the value of "KEY: value" in TEXT (default $out).
field() {
	sed -n "s/^$1: //p" <<<"${2-$out}" | head -n1
}

# has_word LIST WORD: WORD is one of the blank-separated LIST.
has_word() {
	[[ " $1 " == *" $2 "* ]]
}

# mkid VENDOR MODE PHYS_BITS FEATURE...: an identity text, its raw words
# computed here from the CPUID bit positions (Intel SDM vol. 2A, AMD APM
# vol. 3), not by pcmctl; max leaves 0xd and 0x80000008, xcr0 x87|SSE.
mkid() {
	local vendor=$1 mode=$2 phys=$3 f w b
	shift 3
	local -A words=()
	local -A loc=(
		[fpu]=1_EDX:0 [cx8]=1_EDX:8 [cmov]=1_EDX:15 [mmx]=1_EDX:23
		[pae]=1_EDX:6 [fxsr]=1_EDX:24 [sse]=1_EDX:25 [sse2]=1_EDX:26
		[pni]=1_ECX:0 [ssse3]=1_ECX:9 [cx16]=1_ECX:13 [sse4_1]=1_ECX:19
		[sse4_2]=1_ECX:20 [x2apic]=1_ECX:21 [popcnt]=1_ECX:23 [aes]=1_ECX:25
		[avx2]=7_0_EBX:5 [bmi2]=7_0_EBX:8 [md_clear]=7_0_EDX:10
		[lahf_lm]=8000_0001_ECX:0 [syscall]=8000_0001_EDX:11
		[nx]=8000_0001_EDX:20 [lm]=8000_0001_EDX:29 [invtsc]=8000_0007_EDX:8
	)
	for f in "$@"; do
		w=${loc[$f]%:*} b=${loc[$f]#*:}
		words[$w]=$(( ${words[$w]:-0} | (1 << b) ))
	done
	printf 'pcm_kvm_identity: %s\nvendor: %s\nmode: %s\n' "${MKID_VERSION:-1}" "$vendor" "$mode"
	printf 'max_basic_leaf: 0xd\nmax_ext_leaf: 0x80000008\nphys_bits: %s\nxcr0: 0x3\n' "$phys"
	# version 2 has the TSC
	[ "${MKID_VERSION:-1}" = 1 ] ||
		printf 'tsc_khz: %s\ntsc_scaling: %s\n' "${TSC_KHZ:-2400000}" "${TSC_SCALING:-no}"
	printf 'features: %s\nwords:' "$*"
	for w in 1_ECX 1_EDX 6_EAX 7_0_EBX 7_0_ECX 7_0_EDX 7_1_EAX 7_1_EDX D_1_EAX \
		 8000_0001_ECX 8000_0001_EDX 8000_0007_EDX 8000_0008_EBX 8000_0021_EAX; do
		printf ' %s=0x%08x' "$w" "${words[$w]:-0}"
	done
	printf '\n'
}
