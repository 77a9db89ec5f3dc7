#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/pcmctl/test-xcheck.sh - cross-check pcmctl's CPUID dump decoder
# against an independent one: `cpuid -f FILE` (Debian package cpuid).
#
# For every dump in the dump directory, every feature of the table is
# decoded twice: by `pcmctl decode --from-cpuid` (and `pcmctl host
# --from-cpuid`), and by cpuid, and the two must agree.
#
# cpuid prints flags by description ("AVX512F: AVX-512 foundation
# instructions = true"), not by bit position, and its section headers do not
# name register and sub-leaf consistently.  So the join of our table
# (`pcmctl features`: leaf, sub-leaf, register, bit) with cpuid's lines is
# found by asking cpuid itself: for each feature we feed it a copy of the
# dump with only that bit flipped, and the one "= true/false" line whose
# value flips is cpuid's decoding of that bit.  All copies go into one
# multi-CPU file ("CPU 0:" the dump as is, "CPU k:" feature k flipped), so
# cpuid runs once per dump.  No name is typed in by hand.  A decoder that
# reads the wrong register, sub-leaf or CPU shows up as a disagreement; a
# wrong location in the table shows up as a cpuid label that describes
# another feature (XCHECK_VERBOSE=1 prints the join, for review).
#
# A bit cpuid does not decode (no line flips, e.g. bits newer than the
# installed cpuid) is counted, not compared.  A feature whose leaf line is
# not in the dump at all must read as absent.
#
# Output is TAP; the last line is "xcheck: N passed, N failed, N skipped".
# Exit status: 0 when nothing failed, 1 otherwise.  Skips (does not fail)
# when cpuid or the dump directory is missing.
#
# Environment:
#   PCMCTL             the binary to test (default: tools/pcmctl/pcmctl,
#                      built first)
#   PCMCTL_CPUID_DIR   the dump directory (default: ../shared/cpuid)
#   CPUID              the cpuid program (default: cpuid in PATH)
#   XCHECK_VERBOSE     1: print the join (feature -> cpuid's line) per dump

set -uo pipefail

cpuid=${CPUID:-cpuid}
verbose=${XCHECK_VERBOSE:-0}

TAP_NAME=xcheck
# shellcheck source-path=SCRIPTDIR source=testlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"

if ! command -v "$cpuid" >/dev/null 2>&1; then
	skip "cross-check with cpuid -f" "'$cpuid' not installed (Debian package cpuid)"
	tap_finish
fi
if [ ! -d "$cpuid_dir" ]; then
	skip "cross-check with cpuid -f" "no dump directory $cpuid_dir"
	tap_finish
fi
shopt -s nullglob
dumps=("$cpuid_dir"/*.cpuid)
shopt -u nullglob
if [ "${#dumps[@]}" -eq 0 ]; then
	skip "cross-check with cpuid -f" "no *.cpuid file in $cpuid_dir"
	tap_finish
fi

# ---------------------------------------------------------------------------
# Known, explained exceptions: "COMMAND FEATURE" pairs where pcmctl on
# purpose does not report the raw bit.  Each needs a condition (checked in
# excused()) so it cannot hide a real decoding error elsewhere.
#
#   host syscall  host --from-cpuid counts syscall as present when the dump
#                 has lm but not syscall: Intel reports SYSCALL in
#                 0x80000001 EDX only to 64-bit code, so a dump taken by a
#                 32-bit program lacks it on a 64-bit CPU, and every 64-bit
#                 CPU has it in 64-bit mode.  `decode` reports the raw bit
#                 (and warns), so it has no exception.
#
# osxsave and ospke need none: they are the OS's CR4 state at dump time,
# but both tools read the same raw bit.

# excused CMD FEATURE: the disagreement is one of the exceptions above.
# Uses cpuid's view of the dump (the cv array).
excused() {
	case "$1 $2" in
	"host syscall")
		[ "${cv[lm]:-}" = true ] && [ "${cv[syscall]:-}" = false ]
		;;
	*)
		return 1
		;;
	esac
}

# ---------------------------------------------------------------------------
# The feature table: name, leaf, sub-leaf, register index, bit.

regidx() {	# EAX..EDX -> 0..3
	case $1 in
	EAX) echo 0 ;; EBX) echo 1 ;; ECX) echo 2 ;; EDX) echo 3 ;; *) echo -1 ;;
	esac
}

fname=() fleaf=() fsub=() freg=() fbit=()
declare -A never=()	# KVM never offers them: host --from-cpuid drops them
table=$("$PCMCTL" features 2>"$tmp/err")
rc=$?
bad=()
if [ "$rc" -eq 0 ]; then
	while read -r name _ loc regbit _ _ kvm _; do
		[ "$name" = NAME ] && continue
		[ "$kvm" = never ] && never[$name]=1
		# a feature MSR's bit ("MSR 0x10a[5]"): not in a CPUID dump
		[[ $loc = MSR && $name = arch_capabilities.* ]] && continue
		# LOCATION is "0xLEAF.SUB REG[BIT]" (sub-leaf in decimal)
		if [[ $loc =~ ^(0x[0-9a-f]+)\.([0-9]+)$ &&
			$regbit =~ ^(E[ABCD]X)\[([0-9]+)\]$ ]]; then
			fname+=("$name")
			fleaf+=($((${loc%.*})))
			fsub+=($((10#${loc#*.})))
			freg+=("$(regidx "${BASH_REMATCH[1]}")")
			fbit+=("${BASH_REMATCH[2]}")
		else
			bad+=("$name $loc $regbit")
		fi
	done <<<"$table"
fi
nfeat=${#fname[@]}
declare -A known=()
for f in "${fname[@]}"; do known[$f]=1; done
if [ "$rc" -ne 0 ]; then
	not_ok "pcmctl features runs" "exit status $rc" "$(<"$tmp/err")"
	tap_finish
elif [ "${#bad[@]}" -ne 0 ] || [ "$nfeat" -lt 100 ]; then
	not_ok "pcmctl features: every row has a CPUID location" \
		"rows parsed: $nfeat" "unparsed: ${bad[*]:-none}"
	tap_finish
else
	ok "pcmctl features: $nfeat features, each with a CPUID location"
fi

# ---------------------------------------------------------------------------
# Per dump

# The "features:" line of pcmctl's output, one name a line.
features_of() {
	sed -n 's/^features: //p' | tr ' ' '\n' | sed '/^-\?$/d'
}

# compare.awk: reads cpuid's output of the probe file.  CPU 0 is the dump
# as is; CPU k (k >= 1) is the dump with probe k's bit flipped.  A flag line
# is "LABEL = true|false" under a section header (3-space indent); its key
# is header, label and occurrence (cpuid prints some labels twice, e.g.
# AMD's copies of leaf 1 EDX in 0x80000001 EDX).  For each k prints
# "k COUNT VALUE0 KEY": the number of flag lines whose value differs from
# CPU 0, and for the first of them, its value in CPU 0.  A line that
# appears in only one of the two does not count as flipped.
cat >"$tmp/compare.awk" <<'EOF'
/^CPU [0-9]+:$/ { cpu = $2 + 0; hdr = ""; split("", seen); next }
/^   [^ ]/ { hdr = $0; sub(/^ +/, "", hdr); next }
/^    +[^ (].* = (true|false)$/ {
	line = $0
	val = line; sub(/.* = /, "", val)
	label = line; sub(/ += (true|false)$/, "", label); sub(/^ +/, "", label)
	k = hdr "|" label
	seen[k]++
	k = k "|" seen[k]
	if (cpu == 0) {
		base[k] = val
	} else if ((k in base) && base[k] != val) {
		cnt[cpu]++
		if (cnt[cpu] == 1) {
			first[cpu] = k
			v0[cpu] = base[k]
		} else if (base[k] != v0[cpu]) {
			mixed[cpu] = 1
		}
	}
	if (cpu > maxcpu)
		maxcpu = cpu
}
END {
	for (c = 1; c <= maxcpu; c++)
		printf "%d %d %s %s\n", c, cnt[c] + 0, \
		       (c in mixed) ? "mixed" : ((c in v0) ? v0[c] : "-"), \
		       (c in first) ? first[c] : "-"
}
EOF

total_agree=0

for dump in "${dumps[@]}"; do
	base=$(basename "$dump" .cpuid)

	# --- pcmctl's two views
	dec=$("$PCMCTL" decode --from-cpuid "$dump" 2>"$tmp/err")
	rc=$?
	if [ "$rc" -ne 0 ]; then
		not_ok "$base: pcmctl decode --from-cpuid" "exit status $rc" "$(<"$tmp/err")"
		continue
	fi
	hst=$("$PCMCTL" host --from-cpuid "$dump" 2>"$tmp/err")
	rc=$?
	if [ "$rc" -ne 0 ]; then
		not_ok "$base: pcmctl host --from-cpuid" "exit status $rc" "$(<"$tmp/err")"
		continue
	fi
	declare -A pd=() ph=() cv=()
	while read -r f; do pd[$f]=1; done < <(features_of <<<"$dec")
	while read -r f; do ph[$f]=1; done < <(features_of <<<"$hst")

	# --- the dump, for the probe file.  Line i of the CPU block is
	# lines[i]; at["LEAF SUB"] (decimal) is its index, regs in r0..r3.
	lines=() r0=() r1=() r2=() r3=()
	declare -A at=()
	re='^[[:space:]]*(0x[0-9a-fA-F]+)[[:space:]]+(0x[0-9a-fA-F]+):[[:space:]]+eax=(0x[0-9a-fA-F]+)[[:space:]]+ebx=(0x[0-9a-fA-F]+)[[:space:]]+ecx=(0x[0-9a-fA-F]+)[[:space:]]+edx=(0x[0-9a-fA-F]+)[[:space:]]*$'
	cpus=0
	while IFS= read -r l; do
		if [[ $l =~ ^[[:space:]]*CPU( [0-9]+)?:[[:space:]]*$ ]]; then
			# only the first CPU of a dump, as pcmctl reads it
			cpus=$((cpus + 1))
			[ "$cpus" -gt 1 ] && break
			continue
		fi
		[[ $l =~ $re ]] || continue
		i=${#lines[@]}
		lines+=("$l")
		at["$((BASH_REMATCH[1])) $((BASH_REMATCH[2]))"]=$i
		r0+=("${BASH_REMATCH[3]}") r1+=("${BASH_REMATCH[4]}")
		r2+=("${BASH_REMATCH[5]}") r3+=("${BASH_REMATCH[6]}")
	done <"$dump"

	# --- the probe file: CPU 0 the dump, then one flipped copy per
	# feature whose leaf line the dump has.
	probe=$tmp/probe
	{
		echo "CPU 0:"
		printf '%s\n' "${lines[@]}"
	} >"$probe"
	probe_of=()	# probe number -> feature index
	absent=()	# features whose leaf line is not in the dump
	k=0
	for ((j = 0; j < nfeat; j++)); do
		key="${fleaf[j]} ${fsub[j]}"
		if [ -z "${at[$key]+x}" ]; then
			absent+=("$j")
			continue
		fi
		i=${at[$key]}
		regs=("${r0[i]}" "${r1[i]}" "${r2[i]}" "${r3[i]}")
		printf -v 'regs[freg[j]]' '0x%08x' $((regs[freg[j]] ^ (1 << fbit[j])))
		k=$((k + 1))
		probe_of[k]=$j
		echo "CPU $k:"
		[ "$i" -gt 0 ] && printf '%s\n' "${lines[@]:0:i}"
		printf '   0x%08x 0x%02x: eax=%s ebx=%s ecx=%s edx=%s\n' \
			"${fleaf[j]}" "${fsub[j]}" "${regs[@]}"
		[ "$((i + 1))" -lt "${#lines[@]}" ] &&
			printf '%s\n' "${lines[@]:i+1}"
	done >>"$probe"

	if ! "$cpuid" -f "$probe" >"$tmp/cpuid.out" 2>"$tmp/err"; then
		not_ok "$base: cpuid -f reads the dump" "$(head -n5 "$tmp/err")"
		unset pd ph cv at
		continue
	fi
	awk -f "$tmp/compare.awk" "$tmp/cpuid.out" >"$tmp/flips"

	# --- compare
	agree=0 undecoded=() ambiguous=() diffs=()
	while read -r k cnt v0 key; do
		j=${probe_of[k]}
		f=${fname[j]}
		if [ "$cnt" -eq 0 ]; then
			undecoded+=("$f")
			continue
		fi
		if [ "$v0" = mixed ]; then
			ambiguous+=("$f")
			continue
		fi
		cv[$f]=$v0
		label=${key#*|}
		label=${label%|*}
		[ "$verbose" = 1 ] && note "$base: $f = $v0 <- cpuid '$label'"
	done <"$tmp/flips"
	for f in "${!cv[@]}"; do
		want=${cv[$f]} same=1
		got=false; [ -n "${pd[$f]:-}" ] && got=true
		if [ "$got" != "$want" ]; then
			diffs+=("decode: $f is $got, cpuid says $want")
			same=0
		fi
		got=false; [ -n "${ph[$f]:-}" ] && got=true
		[ -n "${never[$f]:-}" ] && want=false
		if [ "$got" != "$want" ]; then
			if excused host "$f"; then
				note "$base: host --from-cpuid: $f is $got, cpuid says $want (known exception)"
			else
				diffs+=("host --from-cpuid: $f is $got, cpuid says $want")
				same=0
			fi
		fi
		agree=$((agree + same))
	done
	# Without its leaf line in the dump, a feature cannot be present.
	for j in "${absent[@]}"; do
		f=${fname[j]}
		if [ -n "${pd[$f]:-}" ] || [ -n "${ph[$f]:-}" ]; then
			diffs+=("$f is present, but the dump has no leaf $(printf '0x%x.%d' "${fleaf[j]}" "${fsub[j]}")")
		fi
	done
	# Every name pcmctl reports must be a feature of the table.
	for f in "${!pd[@]}" "${!ph[@]}"; do
		[ -n "${known[$f]:-}" ] ||
			diffs+=("pcmctl reports '$f', not in the feature table")
	done

	if [ "${#diffs[@]}" -eq 0 ] && [ "$agree" -gt 0 ]; then
		total_agree=$((total_agree + agree))
		ok "$base: $agree bits agree (${#undecoded[@]} not decoded by cpuid, ${#absent[@]} in leaves the dump lacks)"
	else
		not_ok "$base: pcmctl and cpuid -f agree" "${diffs[@]:-no bit compared}"
	fi
	[ "${#ambiguous[@]}" -eq 0 ] ||
		note "$base: cpuid lines of mixed direction, not compared: ${ambiguous[*]}"
	[ "$verbose" = 1 ] && [ "${#undecoded[@]}" -ne 0 ] &&
		note "$base: not decoded by cpuid: ${undecoded[*]}"
	unset pd ph cv at
done

note "bits compared over all dumps: $total_agree"

tap_finish
