#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/pcmctl/test-pool.sh - pool baselines (`pcmctl baseline`, --explain,
# --json, `pcmctl host --from-cpuid`) on the real CPUID dumps.
#
# Expected values come from two places, never from pcmctl's own output:
#  - facts about the CPUs (Nehalem has no AVX and no AES-NI, Haswell no
#    AVX-512, Skylake-SP has it; K10 has no SSSE3, Zen 1-3 no AVX-512, Zen 1-2
#    no PCID, Zen 4-5 have AVX-512 and PKU; ...);
#  - this script's own computation from the raw dumps: its own bit reader
#    (locations, classes, levels and dependencies from `pcmctl features`,
#    which test-xcheck.sh checks against cpuid), dependency closure, AND of
#    the hosts' features, minimum of the limits, OR of the scrub and
#    inverted bits, the level a set reaches, and who holds back what.
# Properties checked on top: a pool of one is the host itself, adding a host
# never grows the pool, the order of the hosts does not matter, "retire X"
# agrees with recomputing the pool without X, the JSON says what the text
# says.
#
# Output is TAP; the last line is "pool: N passed, N failed, N skipped".
# Exit status: 0 when nothing failed, 1 otherwise.  Skips (does not fail)
# when the dump directory, or a dump a test needs, is missing.
#
# Environment:
#   PCMCTL             the binary to test (default: tools/pcmctl/pcmctl,
#                      built first)
#   PCMCTL_CPUID_DIR   the dump directory (default: ../shared/cpuid)

set -uo pipefail

TAP_NAME=pool
# shellcheck source-path=SCRIPTDIR source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"

# result DESC PROBLEM...: pass when no PROBLEM is given (all empty).
result() {
	local d=$1 p probs=()
	shift
	for p in "$@"; do
		[ -n "$p" ] && probs+=("$p")
	done
	if [ "${#probs[@]}" -eq 0 ]; then
		ok "$d"
	else
		not_ok "$d" "${probs[@]}"
	fi
}

if [ ! -d "$cpuid_dir" ]; then
	skip "pool tests on real dumps" "no dump directory $cpuid_dir"
	tap_finish
fi


# ---------------------------------------------------------------------------
# Sets are blank-separated name lists; "-" and "" are the empty set.

words() {	# words LIST: one name a line, without "-"
	tr ' ' '\n' <<<"$1" | sed '/^-\?$/d'
}

set_norm() {	# the set, sorted, one line
	words "$1" | sort -u | tr '\n' ' ' | sed 's/ $//'
}

set_eq() {	# set_eq A B
	[ "$(set_norm "$1")" = "$(set_norm "$2")" ]
}

set_and() {	# set_and A B: the names of A (in A's order) that are in B
	local -A in=()
	local w r=()
	for w in $2; do in[$w]=1; done
	for w in $1; do [ -n "${in[$w]:-}" ] && r+=("$w"); done
	echo "${r[*]:-}"
}

set_minus() {	# set_minus A B: the names of A not in B
	local -A in=()
	local w r=()
	for w in $2; do in[$w]=1; done
	for w in $1; do [ "$w" != - ] && [ -z "${in[$w]:-}" ] && r+=("$w"); done
	echo "${r[*]:-}"
}

set_or() {	# set_or A B
	set_norm "$1 $2"
}

has() {		# has LIST NAME
	[[ " $1 " == *" $2 "* ]]
}

# ---------------------------------------------------------------------------
# The feature table, from `pcmctl features`.

regidx() {
	case $1 in
	EAX) echo 0 ;; EBX) echo 1 ;; ECX) echo 2 ;; EDX) echo 3 ;; *) echo -1 ;;
	esac
}

fname=() fleaf=() fsub=() freg=() fbit=() fclass=() flevel=() fneeds=() fkvm=()
declare -A fidx=()
run features
if [ "$rc" -ne 0 ]; then
	not_ok "pcmctl features runs" "exit status $rc" "$err"
	tap_finish
fi
bad=()
while read -r name _ loc regbit class level kvm needs; do
	[ "$name" = NAME ] && continue
	# a feature MSR's bit ("MSR 0x10a[5]"): not in a CPUID dump
	[[ $loc = MSR && $name = arch_capabilities.* ]] && continue
	if [[ $loc =~ ^(0x[0-9a-f]+)\.([0-9]+)$ &&
		$regbit =~ ^(E[ABCD]X)\[([0-9]+)\]$ ]]; then
		fidx[$name]=${#fname[@]}
		fname+=("$name")
		fleaf+=($((${loc%.*})))
		fsub+=($((10#${loc#*.})))
		freg+=("$(regidx "${BASH_REMATCH[1]}")")
		fbit+=("${BASH_REMATCH[2]}")
		fclass+=("$class")
		flevel+=("$level")
		fkvm+=("$kvm")
		fneeds+=("${needs//,/}")	# "avx, aes" -> "avx aes"; "-": none
	else
		bad+=("$name $loc $regbit")
	fi
done <<<"$out"
nfeat=${#fname[@]}
if [ "${#bad[@]}" -ne 0 ] || [ "$nfeat" -lt 100 ]; then
	not_ok "pcmctl features: the table parses" "rows: $nfeat" "bad: ${bad[*]:-}"
	tap_finish
fi

of_class() {	# of_class CLASS...: the names of those classes, table order
	local j c r=()
	for ((j = 0; j < nfeat; j++)); do
		for c in "$@"; do
			[ "${fclass[j]}" = "$c" ] && r+=("${fname[j]}")
		done
	done
	echo "${r[*]:-}"
}
# what a pool levels: HW features and the not-affected bits (NO)
hw_all=$(of_class HW NO)
scrub_all=$(of_class SCRUB)
inv_all=$(of_class INV)

levels=(min x86-64-v2 x86-64-v3 x86-64-v4)

level_rank() {	# none 0, min 1, ..., x86-64-v4 4
	local i
	for i in "${!levels[@]}"; do
		[ "${levels[i]}" = "$1" ] && echo $((i + 1)) && return
	done
	echo 0
}

# need_for LEVEL: the HW features a set must have to reach LEVEL: those
# whose first level (LEVEL column) is LEVEL or lower.
need_for() {
	local j r=() want
	want=$(level_rank "$1")
	for ((j = 0; j < nfeat; j++)); do
		[ "${fclass[j]}" = HW ] || continue
		case ${flevel[j]} in none | -) continue ;; esac
		[ "$(level_rank "${flevel[j]}")" -le "$want" ] && r+=("${fname[j]}")
	done
	echo "${r[*]:-}"
}
declare -A need=()
for l in "${levels[@]}"; do need[$l]=$(need_for "$l"); done

# level_of SET: the highest level whose features SET all has, or none.
level_of() {
	local l best=none
	for l in "${levels[@]}"; do
		[ -z "$(set_minus "${need[$l]}" "$1")" ] || break
		best=$l
	done
	echo "$best"
}

# ---------------------------------------------------------------------------
# Our own reading of the dumps: per host (file name without .cpuid), every
# table feature whose bit is set (ALL), the HW ones after dependency closure
# (HW), vendor, and the limits from leaves 0, 0x80000000, 0x80000008, 0xD.

declare -A ALL=() HW=() VENDOR=() MB=() ME=() PB=() XCR0=()
hosts=()

read_dump() {	# read_dump BASE FILE
	local b=$1 file=$2 l j v changed nd w cpus=0
	local -A regs=()
	local re='^[[:space:]]*(0x[0-9a-fA-F]+)[[:space:]]+(0x[0-9a-fA-F]+):[[:space:]]+eax=(0x[0-9a-fA-F]+)[[:space:]]+ebx=(0x[0-9a-fA-F]+)[[:space:]]+ecx=(0x[0-9a-fA-F]+)[[:space:]]+edx=(0x[0-9a-fA-F]+)[[:space:]]*$'

	while IFS= read -r l; do
		if [[ $l =~ ^[[:space:]]*CPU( [0-9]+)?:[[:space:]]*$ ]]; then
			cpus=$((cpus + 1))
			[ "$cpus" -gt 1 ] && break	# the first CPU only
			continue
		fi
		[[ $l =~ $re ]] || continue
		regs["$((BASH_REMATCH[1])) $((BASH_REMATCH[2]))"]="$((BASH_REMATCH[3])) $((BASH_REMATCH[4])) $((BASH_REMATCH[5])) $((BASH_REMATCH[6]))"
	done <"$file"
	[ -n "${regs[0 0]:-}" ] || return 1

	local have=()
	for ((j = 0; j < nfeat; j++)); do
		have[j]=0
		v=${regs["${fleaf[j]} ${fsub[j]}"]:-}
		[ -n "$v" ] || continue
		read -r -a v <<<"$v"
		(((v[freg[j]] >> fbit[j]) & 1)) && have[j]=1
	done
	# Intel reports SYSCALL only to 64-bit code; the dumps of a 32-bit
	# program lack it, yet every 64-bit CPU has it (README, pcmctl(8)).
	[ "${have[fidx[lm]]}" = 1 ] && have[fidx[syscall]]=1
	# A host profile never has what KVM never offers a guest (KVM column).
	for ((j = 0; j < nfeat; j++)); do
		[ "${fkvm[j]}" = never ] && have[j]=0
	done

	local all=()
	for ((j = 0; j < nfeat; j++)); do
		[ "${have[j]}" = 1 ] && all+=("${fname[j]}")
	done
	ALL[$b]="${all[*]:-}"

	# Closure: a feature goes when one it needs is missing, until stable.
	changed=1
	while [ "$changed" = 1 ]; do
		changed=0
		for ((j = 0; j < nfeat; j++)); do
			[ "${have[j]}" = 1 ] || continue
			for w in ${fneeds[j]}; do
				[ "$w" = - ] && continue
				nd=${fidx[$w]}
				if [ "${have[nd]}" != 1 ]; then
					have[j]=0
					changed=1
					break
				fi
			done
		done
	done
	local hw=()
	for ((j = 0; j < nfeat; j++)); do
		case ${fclass[j]} in HW | NO) [ "${have[j]}" = 1 ] && hw+=("${fname[j]}") ;; esac
	done
	HW[$b]="${hw[*]:-}"

	read -r -a v <<<"${regs[0 0]}"
	MB[$b]=${v[0]}
	local s="" r k
	for r in 1 3 2; do	# EBX EDX ECX
		for k in 0 8 16 24; do
			printf -v s '%s\\x%02x' "$s" $(((v[r] >> k) & 0xff))
		done
	done
	printf -v "VENDOR[$b]" '%b' "$s"
	ME[$b]=0
	if [ -n "${regs[2147483648 0]:-}" ]; then
		read -r -a v <<<"${regs[2147483648 0]}"
		ME[$b]=${v[0]}
	fi
	PB[$b]=0
	if [ "${ME[$b]}" -ge $((0x80000008)) ] && [ -n "${regs[2147483656 0]:-}" ]; then
		read -r -a v <<<"${regs[2147483656 0]}"
		PB[$b]=$((v[0] & 0xff))
	fi
	XCR0[$b]=0
	if [ "${MB[$b]}" -ge 13 ] && [ -n "${regs[13 0]:-}" ]; then
		read -r -a v <<<"${regs[13 0]}"
		XCR0[$b]=$(((v[3] << 32) | v[0]))
	fi
}

shopt -s nullglob
for f in "$cpuid_dir"/*.cpuid; do
	b=$(basename "$f" .cpuid)
	if read_dump "$b" "$f"; then
		hosts+=("$b")
	else
		not_ok "$b: the dump has leaf 0"
	fi
done
shopt -u nullglob
if [ "${#hosts[@]}" -eq 0 ]; then
	skip "pool tests on real dumps" "no readable *.cpuid in $cpuid_dir"
	tap_finish
fi

dump() { echo "$cpuid_dir/$1.cpuid"; }

have_dumps() {	# have_dumps BASE...: all exist
	local b
	for b in "$@"; do [ -n "${HW[$b]+x}" ] || return 1; done
}

missing_dumps() {
	local b r=()
	for b in "$@"; do [ -n "${HW[$b]+x}" ] || r+=("$b"); done
	echo "${r[*]}"
}

# my_pool BASE...: the AND of the hosts' closed HW features, table order.
my_pool() {
	local b p=$hw_all
	for b in "$@"; do p=$(set_and "$p" "${HW[$b]}"); done
	echo "$p"
}

files() {	# files BASE...: their dump paths (a path with / is kept)
	local b
	for b in "$@"; do
		case $b in */*) echo "$b" ;; *) dump "$b" ;; esac
	done
}

# pool NAME BASE...: run `pcmctl baseline --explain` on the hosts and check
# everything this script can compute on its own.  Leaves $out (the text)
# for further, pool-specific checks.  A BASE may be a path (a modified dump);
# its host name is then the file name without .cpuid.
pool() {
	local name=$1 b h f hosts_in=() probs
	shift
	for b in "$@"; do hosts_in+=("$(basename "$b" .cpuid)"); done
	mapfile -t fl < <(files "$@")
	run baseline --explain "${fl[@]}"
	if [ "$rc" -ne 0 ]; then
		not_ok "$name: pcmctl baseline exits 0" "exit status $rc" "$err"
		return 1
	fi
	local got want level
	got=$(field baseline)
	want=$(my_pool "${hosts_in[@]}")
	probs=""
	set_eq "$got" "$want" ||
		probs="pcmctl: $got"$'\n'"AND:    $want"$'\n'"pcmctl only: $(set_minus "$got" "$want")"$'\n'"AND only: $(set_minus "$want" "$got")"
	result "$name: baseline is the AND of the hosts' closed features (${#hosts_in[@]} hosts, $(words "$want" | wc -l) features)" "$probs"

	# closed: every feature a baseline feature needs is in it (or not HW)
	probs=""
	for f in $got; do
		for h in ${fneeds[fidx[$f]]:-}; do
			[ "$h" = - ] && continue
			[ "${fclass[fidx[$h]]}" = HW ] || continue
			has "$got" "$h" || probs+="$f without $h; "
		done
	done
	result "$name: baseline is dependency-closed" "$probs"

	level=$(level_of "$got")
	probs=""
	[ "$(field level)" = "$level" ] ||
		probs="level: $(field level), expected $level"
	if [ "$level" != x86-64-v4 ]; then
		local next=${levels[$(level_rank "$level")]}
		local miss
		miss=$(set_minus "${need[$next]}" "$got")
		set_eq "$(field "missing for $next")" "$miss" ||
			probs+=" missing for $next: '$(field "missing for $next")', expected '$miss'"
	fi
	result "$name: level $level, and what the next level lacks" "$probs"

	# limits: minimum of the numbers, AND of xcr0
	local mb=-1 me=-1 pb=-1 xc=-1 raw=-1 x
	for b in "${hosts_in[@]}"; do
		raw=$((raw & XCR0[$b]))
		{ [ "$mb" -lt 0 ] || [ "${MB[$b]}" -lt "$mb" ]; } && mb=${MB[$b]}
		{ [ "$me" -lt 0 ] || [ "${ME[$b]}" -lt "$me" ]; } && me=${ME[$b]}
		{ [ "$pb" -lt 0 ] || [ "${PB[$b]}" -lt "$pb" ]; } && pb=${PB[$b]}
		x=$(host_xcr0 "$b")
		if [ "$xc" -lt 0 ]; then xc=$x; else xc=$((xc & x)); fi
	done
	probs=""
	[ "$(($(field max_basic_leaf)))" = "$mb" ] || probs+="max_basic_leaf $(field max_basic_leaf), expected $(printf 0x%x "$mb"); "
	[ "$(($(field max_ext_leaf)))" = "$me" ] || probs+="max_ext_leaf $(field max_ext_leaf), expected $(printf 0x%x "$me"); "
	[ "$(field phys_bits)" = "$pb" ] || probs+="phys_bits $(field phys_bits), expected $pb; "
	[ "$(($(field xcr0)))" = "$xc" ] || probs+="xcr0 $(field xcr0), expected the AND of the hosts' $(printf 0x%x "$xc"); "
	# narrowing a host's xcr0 to its features never adds a component
	[ $(($(field xcr0) & ~raw)) = 0 ] || probs+="xcr0 $(field xcr0) has bits outside the dumps' leaf 0xD.0 AND $(printf 0x%x "$raw"); "
	result "$name: limits are the minimum, xcr0 the AND (max_basic_leaf $(printf 0x%x "$mb"), phys_bits $pb, xcr0 $(printf 0x%x "$xc"))" "$probs"

	# scrub and inverted: OR over the hosts, reported, not in the baseline
	local sc="" iv=""
	for b in "${hosts_in[@]}"; do
		sc=$(set_or "$sc" "$(set_and "${ALL[$b]}" "$scrub_all")")
		iv=$(set_or "$iv" "$(set_and "${ALL[$b]}" "$inv_all")")
	done
	probs=""
	set_eq "$(field scrub)" "$sc" || probs+="scrub: '$(field scrub)', expected '$sc'; "
	set_eq "$(field inverted)" "$iv" || probs+="inverted: '$(field inverted)', expected '$iv'; "
	[ -z "$(set_and "$got" "$scrub_all $inv_all")" ] ||
		probs+="baseline holds $(set_and "$got" "$scrub_all $inv_all"); "
	result "$name: scrub ($(set_norm "$sc")) and inverted ($(set_norm "$iv")) are OR-ed, not in the baseline" "$probs"

	# gives up: each host's features minus the pool
	probs=""
	for b in "${hosts_in[@]}"; do
		x=$(field "gives up $b")
		set_eq "$x" "$(set_minus "${HW[$b]}" "$want")" ||
			probs+="gives up $b: '$x', expected '$(set_minus "${HW[$b]}" "$want")'; "
	done
	result "$name: each host gives up its features outside the pool" "$probs"

	# held back: each feature some host has and the pool lacks, by the
	# hosts that lack it (in pool order)
	local any="" by
	for b in "${hosts_in[@]}"; do any=$(set_or "$any" "${HW[$b]}"); done
	probs=""
	local heldf
	heldf=$(sed -n 's/^held back: \([^ ]*\) by .*/\1/p' <<<"$out" | tr '\n' ' ')
	set_eq "$heldf" "$(set_minus "$any" "$want")" ||
		probs+="held back features: '$heldf', expected '$(set_minus "$any" "$want")'; "
	for f in $(set_minus "$any" "$want"); do
		by=()
		for b in "${hosts_in[@]}"; do has "${HW[$b]}" "$f" || by+=("$b"); done
		x=$(sed -n "s/^held back: $f by //p" <<<"$out")
		[ "$x" = "${by[*]}" ] || probs+="held back $f by '$x', expected '${by[*]}'; "
	done
	result "$name: --explain names the hosts that hold back each feature" "$probs"

	# retire X: gains what the pool without X has more, at that pool's
	# level; checked against our AND and against pcmctl run without X
	local saved=$out saved_err=$err rest gains lvl without
	probs=""
	if [ "$#" -gt 1 ]; then
		for ((i = 0; i < $#; i++)); do
			rest=()
			for ((k = 0; k < $#; k++)); do
				[ "$k" -ne "$i" ] && rest+=("${fl[k]}")
			done
			h=${hosts_in[i]}
			x=$(sed -n "s/^retire $h: gains \(.*\) (level \([^)]*\))$/\1|\2/p" <<<"$saved")
			gains=${x%|*} lvl=${x##*|}
			mapfile -t rh < <(for f in "${rest[@]}"; do basename "$f" .cpuid; done)
			without=$(my_pool "${rh[@]}")
			want=$(set_minus "$without" "$got")
			set_eq "$gains" "$want" ||
				probs+="retire $h gains '$gains', expected '$want'; "
			[ "$lvl" = "$(level_of "$without")" ] ||
				probs+="retire $h: level '$lvl', expected $(level_of "$without"); "
			run baseline "${rest[@]}"
			if [ "$rc" -ne 0 ]; then
				probs+="baseline without $h: exit $rc; "
			else
				set_eq "$gains" "$(set_minus "$(field baseline)" "$got")" ||
					probs+="retire $h gains '$gains', but the pool without it adds '$(set_minus "$(field baseline)" "$got")'; "
				[ "$lvl" = "$(field level)" ] ||
					probs+="retire $h: level '$lvl', pool without it: $(field level); "
			fi
		done
	fi
	out=$saved err=$saved_err
	result "$name: 'retire X gains' agrees with the pool recomputed without X" "$probs"
	return 0
}

# host_xcr0 BASE: the xcr0 of the host's profile (host --from-cpuid).
host_xcr0() {
	local o
	o=$("$PCMCTL" host --from-cpuid "$(files "$1")" 2>/dev/null)
	echo $(($(field xcr0 "$o")))
}

# expect_has NAME LIST WORD...: every WORD is in LIST.
expect_has() {
	local d=$1 l=$2 w miss=()
	shift 2
	for w in "$@"; do has "$l" "$w" || miss+=("$w"); done
	result "$d" "${miss[*]:+missing: ${miss[*]}}"
}

# expect_lacks NAME LIST WORD...: no WORD is in LIST.
expect_lacks() {
	local d=$1 l=$2 w extra=()
	shift 2
	for w in "$@"; do has "$l" "$w" && extra+=("$w"); done
	result "$d" "${extra[*]:+present: ${extra[*]}}"
}

# expect_field NAME KEY VALUE: "KEY: VALUE" in $out.
expect_field() {
	result "$1" "$([ "$(field "$2")" = "$3" ] || echo "$2: '$(field "$2")', expected '$3'")"
}

# expect_held NAME FEATURE HOST...: --explain says FEATURE is held back by
# exactly these hosts.
expect_held() {
	local d=$1 f=$2 x
	shift 2
	x=$(sed -n "s/^held back: $f by //p" <<<"$out")
	result "$d" "$([ "$(set_norm "$x")" = "$(set_norm "$*")" ] || echo "held back: $f by '$x', expected '$*'")"
}

# ---------------------------------------------------------------------------
# A pool of one host is that host: its own closed HW features, its level,
# nothing given up.

for b in "${hosts[@]}"; do
	run baseline "$(dump "$b")"
	probs="" lvl="?"
	if [ "$rc" -ne 0 ]; then
		probs="exit status $rc: $err"
	else
		got=$(field baseline)
		set_eq "$got" "${HW[$b]}" ||
			probs+="baseline only: '$(set_minus "$got" "${HW[$b]}")', host only: '$(set_minus "${HW[$b]}" "$got")'; "
		[ "$(field "gives up $b")" = - ] || probs+="gives up '$(field "gives up $b")'; "
		lvl=$(field level)
		run host --from-cpuid "$(dump "$b")"
		[ "$lvl" = "$(field level)" ] ||
			probs+="level $lvl, host --from-cpuid says $(field level); "
		[ "$lvl" = "$(level_of "${HW[$b]}")" ] ||
			probs+="level $lvl, expected $(level_of "${HW[$b]}"); "
	fi
	result "pool of one: $b is its own closed features ($(words "${HW[$b]}" | wc -l), level $lvl)" "$probs"
done

# ---------------------------------------------------------------------------
# Intel servers, Nehalem-EP to Granite Rapids.  Nehalem has SSE4.2 and
# POPCNT but neither AVX nor AES-NI/PCLMULQDQ (Westmere added those, Sandy
# Bridge AVX), and no XSAVE; Nehalem-EP has 40 physical address bits.
# AVX-512 starts with Skylake-SP.

intel_srv=(nehalem-ep sandybridgeep haswellep_00 skylakexeon cascadelakesp
	icx_04 sapphirerapids_05 graniterapids_03)
if have_dumps "${intel_srv[@]}"; then
	if pool "Intel servers" "${intel_srv[@]}"; then
		expect_field "Intel servers: level x86-64-v2 (Nehalem: no AVX)" level x86-64-v2
		expect_has "Intel servers: have the v2 instructions" "$(field baseline)" \
			sse4_2 popcnt ssse3 cx16 lahf_lm rdtscp
		expect_lacks "Intel servers: no avx, aes, pclmulqdq, avx512f" "$(field baseline)" \
			avx aes pclmulqdq avx512f
		expect_held "Intel servers: avx held back by nehalem-ep alone" avx nehalem-ep
		expect_held "Intel servers: aes held back by nehalem-ep alone" aes nehalem-ep
		expect_held "Intel servers: avx512f held back by the three pre-Skylake hosts" \
			avx512f nehalem-ep sandybridgeep haswellep_00
		expect_field "Intel servers: phys_bits 40 (Nehalem-EP)" phys_bits 40
		expect_field "Intel servers: xcr0 0x0 (Nehalem: no XSAVE)" xcr0 0x0
		x=$(sed -n 's/^retire nehalem-ep: gains \(.*\) (level .*/\1/p' <<<"$out")
		expect_has "Intel servers: retiring nehalem-ep gains avx, aes, pclmulqdq, xsave" \
			"$x" avx aes pclmulqdq xsave
	fi
else
	skip "Intel server pool" "missing dumps: $(missing_dumps "${intel_srv[@]}")"
fi

# ---------------------------------------------------------------------------
# AMD servers, Istanbul (K10) to Turin.  K10 has SSE4a, LZCNT (abm), POPCNT
# and CMPXCHG16B but no SSSE3/SSE4.1/SSE4.2, so the pool stays below v2.
# AVX-512 starts with Zen 4 (Genoa, Bergamo); PCID/INVPCID with Zen 3.

amd_srv=(istanbul zen rome milan_02 genoa_01 bergamo_04 turin_01)
if have_dumps "${amd_srv[@]}"; then
	if pool "AMD servers" "${amd_srv[@]}"; then
		expect_field "AMD servers: level min (K10: no SSSE3)" level min
		expect_has "AMD servers: missing for x86-64-v2 names ssse3 sse4_1 sse4_2" \
			"$(field "missing for x86-64-v2")" ssse3 sse4_1 sse4_2
		expect_has "AMD servers: have sse4a abm popcnt cx16 lahf_lm" "$(field baseline)" \
			sse4a abm popcnt cx16 lahf_lm
		expect_held "AMD servers: ssse3 held back by istanbul alone" ssse3 istanbul
		expect_held "AMD servers: avx512f held back by Istanbul and Zen 1-3" \
			avx512f istanbul zen rome milan_02
	fi
else
	skip "AMD server pool" "missing dumps: $(missing_dumps "${amd_srv[@]}")"
fi

epyc=(zen rome milan_02 genoa_01 bergamo_04 turin_01)
if have_dumps "${epyc[@]}"; then
	if pool "EPYC" "${epyc[@]}"; then
		expect_field "EPYC: level x86-64-v3 (Zen 1: AVX2, no AVX-512)" level x86-64-v3
		expect_has "EPYC: missing for x86-64-v4 names avx512f pcid invpcid" \
			"$(field "missing for x86-64-v4")" avx512f pcid invpcid
		expect_held "EPYC: avx512f held back by Zen 1-3" avx512f zen rome milan_02
		expect_held "EPYC: pcid held back by Zen 1-2" pcid zen rome
	fi
else
	skip "EPYC pool" "missing dumps: $(missing_dumps "${epyc[@]}")"
fi

zen45=(genoa_01 bergamo_04 turin_01)
if have_dumps "${zen45[@]}"; then
	if pool "Zen 4/5" "${zen45[@]}"; then
		expect_field "Zen 4/5: level x86-64-v4" level x86-64-v4
		# x87 SSE AVX opmask ZMM_Hi256 Hi16_ZMM PKRU; no MPX, no AMX
		expect_field "Zen 4/5: xcr0 0x2e7 (AVX-512 and PKRU state)" xcr0 0x2e7
	fi
else
	skip "Zen 4/5 pool" "missing dumps: $(missing_dumps "${zen45[@]}")"
fi

# ---------------------------------------------------------------------------
# Haswell-EP + Skylake-SP + a later Xeon reaches x86-64-v3, not v4: Haswell
# has AVX2 but not AVX-512, and it is the only one holding AVX-512 back.

# v3_not_v4 NAME BASE...: the checks of such a pool, haswellep_00 first.
v3_not_v4() {
	local name=$1
	shift
	pool "$name" "$@" || return
	expect_field "$name: level x86-64-v3" level x86-64-v3
	expect_has "$name: missing for x86-64-v4 names the AVX-512 foundation" \
		"$(field "missing for x86-64-v4")" avx512f avx512dq avx512cd avx512bw avx512vl
	expect_held "$name: avx512f held back by haswellep_00 alone" avx512f haswellep_00
	local x
	x=$(sed -n 's/^retire haswellep_00: gains \(.*\)$/\1/p' <<<"$out")
	expect_has "$name: retiring haswellep_00 gains AVX-512" "$x" \
		avx512f avx512dq avx512cd avx512bw avx512vl
	result "$name: retiring haswellep_00 reaches x86-64-v4" \
		"$([[ $x == *"(level x86-64-v4)" ]] || echo "retire haswellep_00: gains $x")"
	# Haswell: x87, SSE, AVX state only
	expect_field "$name: xcr0 0x7" xcr0 0x7
}

if have_dumps haswellep_00 skylakexeon cascadelakesp; then
	v3_not_v4 "HSW+SKX+CLX" haswellep_00 skylakexeon cascadelakesp
	# SKX's dump (old microcode) lacks md_clear, CLX has it: an AND would
	# drop it.  SKX has fdp_excptn_only, Haswell not.
	expect_has "HSW+SKX+CLX: scrub md_clear although skylakexeon lacks it" \
		"$(field scrub)" md_clear
	expect_has "HSW+SKX+CLX: inverted fdp_excptn_only although haswellep_00 lacks it" \
		"$(field inverted)" fdp_excptn_only zero_fcs_fds
else
	skip "HSW+SKX+CLX pool" "missing dumps: $(missing_dumps haswellep_00 skylakexeon cascadelakesp)"
fi

# Ice Lake-SP: the dump icx_04 has no leaf 0xD sub-leaf 1 (XSAVEOPT, XSAVEC,
# XGETBV1, XSAVES), which pcmctl must read as absent, with a warning; the
# pool then loses xsaveopt, held back by icx_04 alone.  Every Intel CPU
# since Skylake has all four (0xD.1 EAX = 0xf), so with that line added the
# pool is HSW+SKX+ICX as the CPUs are: v3, not v4.
if have_dumps haswellep_00 skylakexeon icx_04; then
	if ! grep -Eq '^[[:space:]]*0x0000000d 0x01:' "$(dump icx_04)"; then
		if pool "HSW+SKX+ICX (icx_04 as dumped)" haswellep_00 skylakexeon icx_04; then
			result "HSW+SKX+ICX (as dumped): a warning names icx_04's missing leaf 0xD.1" \
				"$(grep -q 'icx_04.cpuid: no leaf 0x0000000d sub-leaf 0x01' <<<"$err" || echo "stderr: $err")"
			expect_held "HSW+SKX+ICX (as dumped): xsaveopt held back by icx_04 alone" \
				xsaveopt icx_04
		fi
		awk '{ print } /^[[:space:]]*0x0000000d 0x00:/ {
			print "   0x0000000d 0x01: eax=0x0000000f ebx=0x00000000 ecx=0x00000000 edx=0x00000000" }' \
			"$(dump icx_04)" >"$tmp/icx_04.cpuid"
		read_dump icx_04 "$tmp/icx_04.cpuid"
		v3_not_v4 "HSW+SKX+ICX" haswellep_00 skylakexeon "$tmp/icx_04.cpuid"
		read_dump icx_04 "$(dump icx_04)"
	else
		v3_not_v4 "HSW+SKX+ICX" haswellep_00 skylakexeon icx_04
	fi
else
	skip "HSW+SKX+ICX pool" "missing dumps: $(missing_dumps haswellep_00 skylakexeon icx_04)"
fi

# ---------------------------------------------------------------------------
# Mixed vendors: refused (exit 1), naming the hosts not of the majority's
# vendor, and nothing on stdout.

intel=() amd=()
for b in "${hosts[@]}"; do
	case ${VENDOR[$b]} in
	GenuineIntel) intel+=("$b") ;;
	AuthenticAMD) amd+=("$b") ;;
	*) note "$b: vendor '${VENDOR[$b]}'" ;;
	esac
done

# mixed NAME ODD-HOSTS -- BASE...: refused, naming exactly ODD-HOSTS.
mixed() {
	local name=$1 odd=() b probs="" json msg
	shift
	while [ "$1" != -- ]; do odd+=("$1"); shift; done
	shift
	mapfile -t fl < <(files "$@")
	for json in "" --json; do
		run baseline $json "${fl[@]}"
		[ "$rc" = 1 ] || probs+="baseline ${json:-(text)}: exit status $rc, expected 1; "
		[ -z "$out" ] || probs+="baseline ${json:-(text)}: stdout not empty: ${out:0:80}; "
		# the refusal, not the per-dump notes (which name every file)
		msg=$(grep -v '^pcmctl: \(note\|warning\):' <<<"$err")
		grep -qi vendor <<<"$msg" || probs+="stderr does not say vendor: $msg; "
		for b in "$@"; do
			if has "${odd[*]}" "$b"; then
				grep -qw -- "$b" <<<"$msg" || probs+="$json: stderr does not name $b; "
			else
				grep -qw -- "$b" <<<"$msg" && probs+="$json: stderr names $b, of the majority vendor; "
			fi
		done
	done
	result "$name: refused (exit 1), names ${odd[*]}" "$probs" "$([ -z "$probs" ] || echo "stderr: $err")"
}

srv=()
for b in "${intel_srv[@]}" "${amd_srv[@]}"; do
	[ -n "${HW[$b]+x}" ] && srv+=("$b")
done
srv_amd=$(set_and "${srv[*]}" "${amd[*]}")
srv_intel=$(set_and "${srv[*]}" "${intel[*]}")
if [ -n "$srv_amd" ] && [ -n "$srv_intel" ] &&
	[ "$(words "$srv_intel" | wc -l)" -gt "$(words "$srv_amd" | wc -l)" ]; then
	# shellcheck disable=SC2086
	mixed "all servers (Intel majority)" $srv_amd -- "${srv[@]}"
else
	skip "mixed-vendor server pool" "needs more Intel than AMD server dumps"
fi
if have_dumps haswellep_00 skylakexeon zen rome milan_02; then
	mixed "HSW+SKX+Zen (AMD alone)" zen -- haswellep_00 zen skylakexeon
	mixed "Zen+Rome+Milan+HSW (Intel alone)" haswellep_00 -- zen rome milan_02 haswellep_00
else
	skip "small mixed-vendor pools" "missing dumps: $(missing_dumps haswellep_00 skylakexeon zen rome milan_02)"
fi
# The vendor of each dump, as we read it, agrees with what we know of them.
probs=""
for b in "${intel_srv[@]}" gulftown broadwelle_01 alderlake_02; do
	[ -n "${HW[$b]+x}" ] && [ "${VENDOR[$b]}" != GenuineIntel ] && probs+="$b: ${VENDOR[$b]}; "
done
for b in "${amd_srv[@]}" piledriver; do
	[ -n "${HW[$b]+x}" ] && [ "${VENDOR[$b]}" != AuthenticAMD ] && probs+="$b: ${VENDOR[$b]}; "
done
result "dump vendors: ${#intel[@]} Intel, ${#amd[@]} AMD, as their names say" "$probs"

# ---------------------------------------------------------------------------
# Adding a host never grows the pool (nor raises its level): each vendor's
# dumps added one by one.

for v in intel amd; do
	declare -n list=$v
	if [ "${#list[@]}" -lt 2 ]; then
		skip "$v: adding hosts never grows the pool" "fewer than 2 dumps"
		continue
	fi
	probs="" prev="" prevl=5 grown=0
	for ((i = 1; i <= ${#list[@]}; i++)); do
		mapfile -t fl < <(files "${list[@]:0:i}")
		run baseline "${fl[@]}"
		if [ "$rc" -ne 0 ]; then
			probs+="${i} hosts: exit $rc; "
			break
		fi
		cur=$(field baseline)
		l=$(level_rank "$(field level)")
		if [ "$i" -gt 1 ]; then
			x=$(set_minus "$cur" "$prev")
			[ -z "$x" ] || probs+="adding ${list[i - 1]} adds $x; "
			[ "$l" -le "$prevl" ] || probs+="adding ${list[i - 1]} raises the level to $(field level); "
			[ "$(words "$cur" | wc -l)" -lt "$(words "$prev" | wc -l)" ] && grown=$((grown + 1))
		fi
		prev=$cur prevl=$l
	done
	result "$v: adding hosts one by one never grows the pool (${#list[@]} hosts, $grown steps shrink it)" "$probs"
	unset -n list
done

# ---------------------------------------------------------------------------
# The order of the hosts does not matter: same output but for the order of
# host names (hosts line, per-host lines, the hosts of "held back").

normalize() {	# the text of baseline --explain, host order dropped
	grep -v '^hosts:' | while IFS= read -r l; do
		case $l in
		"held back: "*)
			echo "${l%% by *} by $(set_norm "${l#* by }")" ;;
		*) echo "$l" ;;
		esac
	done | sort
}

if have_dumps "${intel_srv[@]}"; then
	mapfile -t fl < <(files "${intel_srv[@]}")
	run baseline --explain "${fl[@]}"
	a=$(normalize <<<"$out")
	probs=""
	rev=()
	for ((i = ${#fl[@]} - 1; i >= 0; i--)); do rev+=("${fl[i]}"); done
	# shellcheck disable=SC2034 # used through the nameref ord
	rot=("${fl[@]:3}" "${fl[@]:0:3}")
	for o in rev rot; do
		declare -n ord=$o
		run baseline --explain "${ord[@]}"
		b=$(normalize <<<"$out")
		[ "$a" = "$b" ] || probs+="$o: $(diff <(echo "$a") <(echo "$b") | head -n 6 | tr '\n' ' '); "
		unset -n ord
	done
	result "Intel servers: the same pool in three host orders" "$probs"
else
	skip "host order" "missing dumps: $(missing_dumps "${intel_srv[@]}")"
fi

# ---------------------------------------------------------------------------
# JSON: parses (python3 -m json.tool) and says what the text says.

if ! command -v python3 >/dev/null 2>&1; then
	skip "JSON output" "python3 not installed"
	tap_finish
fi

# The JSON of baseline --explain --json, as the text's lines (held back and
# gives up as sorted sets, hosts dropped), for normalize to compare.
cat >"$tmp/json2text.py" <<'EOF'
import json, sys
d = json.load(sys.stdin)
j = lambda l: " ".join(l) if l else "-"
assert d["format"] == "pcm_kvm.pool/1", d["format"]
print("pcm_kvm_pool: 1")
print("vendor: " + d["vendor"])
print("level: " + d["level"])
if d["next_level"]:
    print("missing for %s: %s" % (d["next_level"]["level"],
                                  " ".join(d["next_level"]["missing"]) or "(none)"))
print("baseline: " + j(d["baseline"]))
print("scrub: " + j(d["scrub"]))
print("inverted: " + j(d["inverted"]))
lim = d["limits"]
print("max_basic_leaf: 0x%x" % lim["max_basic_leaf"])
print("max_ext_leaf: 0x%x" % lim["max_ext_leaf"])
print("phys_bits: %d" % lim["phys_bits"])
print("xcr0: 0x%x" % lim["xcr0"])
if d["feature_msrs"] == "known":
    print("feature_msrs: known")
else:
    print("feature_msrs: unknown (not read on: %s; from a CPUID dump or an older profile)"
          % " ".join(d["feature_msrs_unknown"]))
lost = {h: g["features"] for g in d["gives_up"] for h in g["hosts"]}
assert sorted(lost) == sorted(d["hosts"]), "gives_up groups are not the hosts"
for h in d["hosts"]:
    print("gives up %s: %s" % (h, j(lost[h])))
for f, hs in d.get("held_back", {}).items():
    print("held back: %s by %s" % (f, " ".join(sorted(hs))))
for h, r in d.get("retire", {}).items():
    print("retire %s: gains %s (level %s)" % (h, j(r["gains"]), r["level"]))
EOF

# json_pool NAME BASE...
json_pool() {
	local name=$1 a b probs=""
	shift
	mapfile -t fl < <(files "$@")
	run baseline --explain --json "${fl[@]}"
	if [ "$rc" -ne 0 ] || ! python3 -m json.tool <<<"$out" >/dev/null 2>"$tmp/jerr"; then
		not_ok "$name: baseline --explain --json parses" "exit $rc" "$(<"$tmp/jerr")" "${out:0:200}"
		return
	fi
	ok "$name: baseline --explain --json parses"
	b=$(python3 "$tmp/json2text.py" <<<"$out" 2>&1 | normalize)
	run baseline --explain "${fl[@]}"
	a=$(normalize <<<"$out")
	[ "$a" = "$b" ] || probs=$(diff <(echo "$a") <(echo "$b") | head -n 20)
	result "$name: the JSON says what the text says" "$probs"
	run baseline --json "${fl[@]}"
	if [ "$rc" -eq 0 ] && python3 -m json.tool <<<"$out" >/dev/null 2>&1; then
		ok "$name: baseline --json parses"
	else
		not_ok "$name: baseline --json parses" "exit $rc" "${out:0:200}"
	fi
}

# json_if NAME BASE...: json_pool, or a skip when a dump is missing.
json_if() {
	local name=$1
	shift
	if have_dumps "$@"; then
		json_pool "$name" "$@"
	else
		skip "$name: JSON" "missing dumps: $(missing_dumps "$@")"
	fi
}
json_if "Intel servers" "${intel_srv[@]}"
json_if "AMD servers" "${amd_srv[@]}"
json_if "haswellep_00 alone" haswellep_00

# host --from-cpuid --json of every dump: parses, same features and limits
# as the text profile.
cat >"$tmp/host2text.py" <<'EOF'
import json, sys
d = json.load(sys.stdin)
print("name: " + d["name"])
print("vendor: " + d["vendor"])
print("level: " + d["level"])
print("features: " + (" ".join(d["features"]) or "-"))
lim = d["limits"]
print("max_basic_leaf: 0x%x" % lim["max_basic_leaf"])
print("max_ext_leaf: 0x%x" % lim["max_ext_leaf"])
print("phys_bits: %d" % lim["phys_bits"])
print("xcr0: 0x%x" % lim["xcr0"])
EOF
probs=""
for b in "${hosts[@]}"; do
	run host --from-cpuid "$(dump "$b")" --json
	if [ "$rc" -ne 0 ] || ! python3 -m json.tool <<<"$out" >/dev/null 2>&1; then
		probs+="$b: exit $rc, or does not parse; "
		continue
	fi
	j=$(python3 "$tmp/host2text.py" <<<"$out" 2>&1 | sort)
	run host --from-cpuid "$(dump "$b")"
	t=$(grep -E '^(name|vendor|level|features|max_basic_leaf|max_ext_leaf|phys_bits|xcr0):' <<<"$out" | sort)
	[ "$j" = "$t" ] || probs+="$b: $(diff <(echo "$t") <(echo "$j") | head -n 4 | tr '\n' ' '); "
done
result "host --from-cpuid --json: parses and matches the text, ${#hosts[@]} dumps" "$probs"

tap_finish
